/*
 * http.h - the HTTP(S) listener every network face of Pullprint sits on: IPP (POST
 * application/ipp), the REST API, server-sent event streams and the static web apps.
 *
 * One pp_http_server_t owns up to two libmicrohttpd daemons (HTTPS and, optionally, plain
 * HTTP) sharing one route table. Routes are registered before http_server_start(); a request
 * is matched on its normalised path (exact, or prefix with HTTP_ROUTE_PREFIX), then on its
 * method. Unknown path: 404 JSON; known path, other method: 405 JSON with Allow.
 *
 * Handlers run on the connection's own listener thread (one thread per connection, at most
 * max_connections) and must answer before they return (one http_respond_* call); a handler
 * that returns without answering gets 500. A handler may wait for a short shared step (the
 * group commit of a spool file and its row) without holding up other connections; long
 * blocking work (mail, delivery, conversion) is handed to other threads, never done here.
 *
 * Memory: each request has an arena. Everything the accessors return and everything
 * http_request_alloc() hands out is borrowed and freed in one go when the request completes;
 * never store it in a longer-lived object.
 *
 * Every response, errors included, carries the security headers (nosniff, frame DENY,
 * no-referrer, CSP, Permissions-Policy, Cache-Control: no-store unless the handler set its
 * own, HSTS on TLS) and a Server header without a version.
 */
#ifndef PP_HTTP_H
#define PP_HTTP_H

#include "http/metrics.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct pp_http_server pp_http_server_t;
typedef struct pp_http_request pp_http_request_t;
typedef struct pp_http_stream pp_http_stream_t;

/* Listener settings; a plain struct the caller fills from pp_config_t. */
typedef struct pp_http_config {
	char listen_address[256]; /* "" = every address (IPv6 dual-stack when available) */
	unsigned https_port; /* 0 = no HTTPS listener (unless https_any_port) */
	unsigned http_port; /* 0 = no plain HTTP listener (unless http_any_port) */
	bool https_any_port; /* tests: HTTPS on a free port, read http_server_https_port() */
	bool http_any_port; /* tests: plain HTTP on a free port, read http_server_http_port() */
	char cert_file[PATH_MAX]; /* PEM certificate chain (leaf first); needed for HTTPS */
	char key_file[PATH_MAX]; /* PEM private key */
	unsigned threads; /* ignored: each connection has its own thread (kept for http.threads) */
	unsigned max_connections; /* per daemon, and so threads; 0 = 256 */
	unsigned max_connections_per_ip; /* 0 = no per-address limit */
	uint64_t max_request_bytes; /* buffered bodies; larger -> 413; 0 = 1 MiB */
	unsigned request_timeout_s; /* idle connection timeout; 0 = 60 */
	char server_name[64]; /* Server header value, "" = "Pullprint"; never a version */
	pp_metrics_t *metrics; /* borrowed, may be NULL; the listener registers its series */
} pp_http_config_t;

/* Route flags. */
#define HTTP_ROUTE_PREFIX 0x1u /* path "/api/" matches "/api/" and everything below it */
#define HTTP_ROUTE_STREAM_BODY 0x2u /* body goes to a body callback chunk by chunk */

/*
 * Answers a request. Called once per request on a listener thread after the whole body
 * arrived (buffered routes) or after the last body chunk (stream routes). Must call exactly
 * one http_respond_* function before returning.
 */
typedef void (*pp_http_handler_fn)(pp_http_request_t *req, void *ctx);

/*
 * Receives a streamed body (HTTP_ROUTE_STREAM_BODY). Called first with data == NULL, len == 0
 * once headers are in (check authentication, Content-Type, open the spool file; keep state
 * with http_request_set_data), then once per chunk of at most the connection buffer size,
 * in order. Returns 0 to go on, -1 to stop: the callback should have answered with an
 * http_respond_* call (else 500); the rest of the body is discarded and the connection
 * closed. The handler is then not called.
 */
typedef int (*pp_http_body_fn)(pp_http_request_t *req, const uint8_t *data, size_t len,
			       void *ctx);

/*
 * Produces a streamed response body (downloads, SSE). Copies at most max bytes into buf for
 * position pos. Returns the count (> 0), HTTP_STREAM_WAIT (nothing now: the connection's
 * thread sleeps until http_stream_wake() or the server's quiesce), HTTP_STREAM_END (done) or
 * HTTP_STREAM_ERROR (abort the connection). Runs on a listener thread; must not block. A
 * sleeping connection neither times out nor notices a client that left: an SSE producer wakes
 * its streams now and then (a ": keep-alive" comment every ~15 s) so dead clients are found
 * and freed.
 */
typedef ssize_t (*pp_http_read_fn)(void *ctx, uint64_t pos, char *buf, size_t max);
#define HTTP_STREAM_WAIT ((ssize_t)0)
#define HTTP_STREAM_END ((ssize_t)-1)
#define HTTP_STREAM_ERROR ((ssize_t)-2)

/*
 * Makes a server from cfg (copied) and reads the certificate and key when https_port is set
 * (or https_any_port). Nothing listens yet. Returns 0 and *server_r (new; free with
 * http_server_free()), or -1 with error naming the file or setting.
 */
int http_server_new(const pp_http_config_t *cfg, pp_http_server_t **server_r, char *error,
		    size_t error_size);

/*
 * Registers a route. method: "GET", "POST", … or NULL for any method. path: absolute,
 * normalised ("/ipp/print", "/api/"). flags: HTTP_ROUTE_*. body_fn: needed with
 * HTTP_ROUTE_STREAM_BODY, NULL otherwise. ctx is passed to both callbacks (borrowed; must
 * outlive the server). Before http_server_start() only. Returns 0 or -1 (bad arguments,
 * duplicate method+path, out of memory) with error.
 */
int http_route(pp_http_server_t *server, const char *method, const char *path, unsigned flags,
	       pp_http_handler_fn handler, pp_http_body_fn body_fn, void *ctx, char *error,
	       size_t error_size);

/* Opens the listeners and starts their threads. Returns 0 or -1 with error (port in use…). */
int http_server_start(pp_http_server_t *server, char *error, size_t error_size);

/* The bound HTTPS / HTTP port after start (useful with *_any_port), 0 when not listening. */
unsigned http_server_https_port(const pp_http_server_t *server);
unsigned http_server_http_port(const pp_http_server_t *server);

/*
 * Stops accepting connections (closes the listening sockets) while requests in flight and
 * open streams go on; the start of a graceful SIGTERM. Waiting streams are ended. Safe to
 * call twice or before start.
 */
void http_server_quiesce(pp_http_server_t *server);

/* Number of requests being handled now (for a shutdown wait loop). Thread-safe. */
unsigned http_server_active_requests(pp_http_server_t *server);

/* Stops the daemons (in-flight connections are closed) and frees. NULL-safe; sets NULL. */
void http_server_free(pp_http_server_t **server);

/* ---- request accessors: all borrowed, valid until the request completes ---- */

/* Method as sent ("GET", "POST", …). */
const char *http_request_method(const pp_http_request_t *req);

/* Percent-decoded, normalised path ("/api/jobs/12"); never holds "..", "//" or NUL. */
const char *http_request_path(const pp_http_request_t *req);

/* The part of the path below a prefix route ("/api/" + "jobs/12" -> "jobs/12"), "" if none. */
const char *http_request_subpath(const pp_http_request_t *req);

/* Percent-decoded value of query parameter name (first one), "" for "?name", NULL if absent. */
const char *http_request_query(pp_http_request_t *req, const char *name);

/* Value of request header name (case-insensitive), NULL if absent. */
const char *http_request_header(pp_http_request_t *req, const char *name);

/* Value of cookie name from the Cookie header (libmicrohttpd parses it), NULL if absent. */
const char *http_request_cookie(pp_http_request_t *req, const char *name);

/* Client address as text ("192.0.2.7", "2001:db8::1"), "" if unknown. */
const char *http_request_remote_addr(const pp_http_request_t *req);

/* True when the request came over TLS. */
bool http_request_is_tls(const pp_http_request_t *req);

/*
 * Buffered body (not for stream routes): bytes and length, NUL-terminated for convenience
 * (the NUL is not counted). Empty body: "" and 0.
 */
const uint8_t *http_request_body(const pp_http_request_t *req, size_t *len_r);

/* Arena memory freed when the request completes. Aborts on out of memory like the MHD pool. */
void *http_request_alloc(pp_http_request_t *req, size_t size);
char *http_request_strdup(pp_http_request_t *req, const char *s);

/*
 * Attaches per-request state (a stream route's spool writer…). free_fn(data) runs when the
 * request completes, whether or not the handler ran. Replaces (and frees) earlier data.
 */
void http_request_set_data(pp_http_request_t *req, void *data, void (*free_fn)(void *));
void *http_request_data(const pp_http_request_t *req);

/* ---- responses: exactly one per request ---- */

/*
 * Adds a header to the coming response (WWW-Authenticate, Location, Cache-Control…). A
 * handler's Cache-Control replaces the default no-store. Name and value are copied; values
 * with CR or LF are refused. Returns 0 or -1.
 */
int http_response_header(pp_http_request_t *req, const char *name, const char *value);

/* Sends body (stolen, freed here even on failure) as application/json. Returns 0 or -1. */
int http_respond_json(pp_http_request_t *req, unsigned status, json_t *body);

/*
 * Sends {"error":{"status":N,"code":"...","message":"..."}}. code is a stable machine word
 * ("not_found"), message a sentence for people. Returns 0 or -1.
 */
int http_respond_error(pp_http_request_t *req, unsigned status, const char *code,
		       const char *message);

/* Sends len bytes of data (copied) with content_type. Returns 0 or -1. */
int http_respond_bytes(pp_http_request_t *req, unsigned status, const char *content_type,
		       const void *data, size_t len);

/*
 * Sends a body produced by read_fn(ctx, …) with chunked encoding. free_fn(ctx) runs once when
 * the response is done or the connection drops (also when this call fails). With stream_r,
 * *stream_r is a new reference the producer uses with http_stream_wake() and releases with
 * http_stream_unref(). Returns 0 or -1.
 */
int http_respond_stream(pp_http_request_t *req, unsigned status, const char *content_type,
			pp_http_read_fn read_fn, void *ctx, void (*free_fn)(void *),
			pp_http_stream_t **stream_r);

/*
 * Wakes a stream whose read_fn returned HTTP_STREAM_WAIT, so read_fn is called again.
 * Thread-safe; a no-op on a finished stream.
 */
void http_stream_wake(pp_http_stream_t *stream);

/* Releases a reference from http_respond_stream(). NULL-safe; sets NULL. */
void http_stream_unref(pp_http_stream_t **stream);

/*
 * Sends the regular file at path (opened read-only, O_NOFOLLOW) with content_type, or 404
 * JSON when it is missing. The caller has checked that path is inside its web root.
 * Returns 0 or -1.
 */
int http_respond_file(pp_http_request_t *req, unsigned status, const char *content_type,
		      const char *path);

#endif
