/*
 * test-http-support.h - what the HTTP-side unit tests share: a small HTTP/1.1 client over
 * TLS (a GnuTLS client that checks the certificate for "localhost") or plain TCP, a fresh
 * self-signed certificate in a test directory, and a loopback listener configuration.
 *
 * Linked (by tests/unit/meson.build) only into test-http, test-metrics and test-tls-cert.
 * Every helper fails the running cmocka test on a broken answer rather than returning it.
 */
#ifndef PP_TEST_HTTP_SUPPORT_H
#define PP_TEST_HTTP_SUPPORT_H

#include "test-support.h"

#include "http/http.h"
#include "http/tls-cert.h"

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

/* Where a started test server listens; ca_file is the certificate a TLS client trusts. */
typedef struct test_http_peer {
	unsigned https_port; /* 0 = no HTTPS listener */
	unsigned http_port;  /* 0 = no plain HTTP listener */
	const char *ca_file; /* borrowed; needed only for TLS */
} test_http_peer_t;

/* One client connection, over TLS or plain TCP. */
typedef struct test_http_client {
	int fd;
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	bool is_tls;
} test_http_client_t;

/* One parsed answer. */
typedef struct test_http_response {
	char *raw; /* whole answer */
	size_t raw_len;
	unsigned status;
	char *headers; /* points into raw: the header block, NUL-terminated */
	char *body;    /* decoded body, NUL-terminated */
	size_t body_len;
} test_http_response_t;

/* Connects to 127.0.0.1:port (60 s socket timeouts). Returns the socket or -1 with errno. */
int test_http_tcp_connect(unsigned port);

/*
 * Opens a connection to peer; over TLS it verifies the certificate against peer->ca_file for
 * "localhost" and fails the test when the handshake fails. Close with test_http_client_close().
 */
void test_http_client_open(test_http_client_t *c, const test_http_peer_t *peer, bool is_tls);

/* Sends all len bytes of data; fails the test on a send error. */
void test_http_client_write(test_http_client_t *c, const void *data, size_t len);

/*
 * Reads the whole answer (the request asked for Connection: close; at most 64 MiB) and parses
 * it into *r, decoding a chunked body. *r is new; free with test_http_response_free().
 */
void test_http_client_read_response(test_http_client_t *c, test_http_response_t *r);

/* Ends the TLS session (if any) and closes the socket. */
void test_http_client_close(test_http_client_t *c);

/*
 * Copies the value of header name (case-insensitive) of r into out (size bytes; a longer
 * value fails the test). Returns false when r has no such header.
 */
bool test_http_response_header(const test_http_response_t *r, const char *name, char *out,
			       size_t size);

/* Frees what *r holds and zeroes it. */
void test_http_response_free(test_http_response_t *r);

/*
 * One request on a new connection: head is the request line plus any headers, without the
 * final CRLF (Host and Connection: close are added), then body_len bytes of body. *r is new;
 * free with test_http_response_free().
 */
void test_http_exchange(const test_http_peer_t *peer, bool is_tls, const char *head,
			const void *body, size_t body_len, test_http_response_t *r);

/* Makes a new self-signed pair for "printhost.example" in dir/tls; fills *cert_r. */
void test_http_cert_make(const char *dir, pp_tls_cert_info_t *cert_r);

/*
 * Fills *cfg_r for a test listener: 127.0.0.1, HTTPS and plain HTTP each on a free port,
 * cert's pair (borrowed: copied), two threads. The caller sets limits and metrics.
 */
void test_http_config_loopback(pp_http_config_t *cfg_r, const pp_tls_cert_info_t *cert);

/*
 * Starts server (routes already added) and fills peer_r with its bound ports and cert as the
 * CA the client trusts (borrowed: cert must outlive peer_r). Fails the test on any error.
 */
void test_http_start(pp_http_server_t *server, const pp_tls_cert_info_t *cert,
		     test_http_peer_t *peer_r);

#endif
