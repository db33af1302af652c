/*
 * deliver-private.h - what the transports (IPP, socket, LPD) share inside src/output: the
 * parsed device URI, one delivery's context with its timeouts already defaulted, the table
 * of transports, and the socket helpers (connect with a timeout, write with a per-write
 * timeout) that the socket and LPD transports use. No other folder includes this header.
 */
#ifndef PP_DELIVER_PRIVATE_H
#define PP_DELIVER_PRIVATE_H

#include "output/deliver.h"

#include <cups/http.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DELIVER_HOST_MAX 256
#define DELIVER_RESOURCE_MAX 1024
#define DELIVER_QUEUE_MAX 128 /* LPD queue names */
#define DELIVER_CHUNK_BYTES 65536 /* data is read and written in pieces of this size */

typedef enum {
	DELIVER_SCHEME_IPP = 0,
	DELIVER_SCHEME_IPPS,
	DELIVER_SCHEME_SOCKET,
	DELIVER_SCHEME_LPD,
} deliver_scheme_t;

/* A device URI taken apart. resource is the IPP path ("/ipp/print") or the LPD queue name. */
typedef struct {
	deliver_scheme_t scheme;
	char host[DELIVER_HOST_MAX];
	int port;
	char resource[DELIVER_RESOURCE_MAX];
} deliver_uri_t;

/* One delivery in progress: borrowed request, the caller's result, effective timeouts. */
typedef struct {
	const pp_deliver_request_t *req;
	pp_deliver_result_t *result;
	deliver_uri_t uri;
	unsigned connect_timeout_s;
	unsigned io_timeout_s;
	unsigned follow_timeout_s;
	struct timespec started; /* CLOCK_MONOTONIC */
} deliver_ctx_t;

/* A transport: fills ctx->result (outcome, message, counters); never fails otherwise. */
typedef struct {
	const char *scheme;
	int default_port;
	void (*send)(deliver_ctx_t *ctx);
} deliver_transport_t;

void deliver_ipp_send(deliver_ctx_t *ctx);
void deliver_socket_send(deliver_ctx_t *ctx);
void deliver_lpd_send(deliver_ctx_t *ctx);

/*
 * Parses uri into *uri_r: ipp://host[:port]/path, ipps://…, socket://host[:port],
 * lpd://host[:port]/queue. Refuses user info, control characters, an empty host or queue,
 * a path on socket://. Returns 0 or -1 with error saying what is wrong.
 */
int deliver_uri_parse(const char *uri, deliver_uri_t *uri_r, char *error, size_t error_size);

/* Sets the outcome and the message (printf-like; a long message is cut, never an error). */
void deliver_set(deliver_ctx_t *ctx, pp_deliver_outcome_t outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when the caller's cancel flag is set. */
bool deliver_is_canceled(const deliver_ctx_t *ctx);

/* Milliseconds since the delivery started (monotonic). */
int64_t deliver_elapsed_ms(const deliver_ctx_t *ctx);

/*
 * Reads the next piece of the job data into buf[size] through the request's reader.
 * Returns the count, 0 at the end, or -1 with the outcome set (PERMANENT: the data cannot be
 * read, so no printer will get it either).
 */
ssize_t deliver_read_data(deliver_ctx_t *ctx, void *buf, size_t size);

/*
 * Copies src into dst[size] as one line of printable ASCII: other bytes (each UTF-8
 * sequence counted once) become '_', and so do the characters in also_replace. The result is
 * cut at size - 1 bytes. NULL src gives "".
 */
void deliver_ascii_line(const char *src, const char *also_replace, char *dst, size_t size);

/*
 * Connects a TCP socket to ctx->uri host and port within connect_timeout_s, trying each
 * address. With reserved_port (LPD as root), binds a source port in 721..731 first when one
 * is free. Returns the socket (blocking mode off), or -1 with the outcome set (RETRY).
 */
int deliver_net_connect(deliver_ctx_t *ctx, bool reserved_port);

/*
 * Writes all len bytes to fd, waiting at most io_timeout_s for the printer to take each
 * piece and checking the cancel flag while waiting. Returns 0, or -1 with the outcome set
 * (RETRY on timeout or a closed connection, CANCELED).
 */
int deliver_net_write(deliver_ctx_t *ctx, int fd, const void *buf, size_t len);

/*
 * Reads one byte from fd, waiting at most io_timeout_s. Returns 1, 0 at the end of the
 * connection, or -1 with the outcome set (RETRY on timeout or error, CANCELED).
 */
int deliver_net_read_byte(deliver_ctx_t *ctx, int fd, uint8_t *byte_r);

/*
 * IPPS: checks the certificate the printer presented on http: exactly req->tls_pin when set,
 * else its chain against req->ca_file (or the system trust store) and the host name (a single
 * self-signed certificate passes with req->accept_self_signed). Returns 0, or -1 with the
 * outcome set (PERMANENT) and the reason the admin reads (tls-peer.h).
 */
int deliver_tls_check(deliver_ctx_t *ctx, http_t *http);

/* Closes fd (a close error is logged: the outcome is decided already). */
void deliver_net_close(int fd);

#endif
