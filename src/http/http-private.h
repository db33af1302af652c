/*
 * http-private.h - the listener's insides shared by http-server.c (daemons, routing, the
 * request life cycle) and http-request.c (accessors, responses, streams). No other folder
 * includes it.
 */
#ifndef PP_HTTP_PRIVATE_H
#define PP_HTTP_PRIVATE_H

#include "http/http.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#define HTTP_METHOD_CLASSES 8 /* GET HEAD POST PUT DELETE PATCH OPTIONS other */
#define HTTP_STATUS_CLASSES 4 /* 2xx 3xx 4xx 5xx (1xx is never a final answer here) */

typedef struct http_route {
	struct http_route *next;
	char *method; /* NULL = any */
	char *path;
	size_t path_len;
	unsigned flags;
	pp_http_handler_fn handler;
	pp_http_body_fn body_fn;
	void *ctx;
} http_route_t;

struct pp_http_server {
	pp_http_config_t cfg;
	char *cert_pem; /* NUL-terminated PEM text read at http_server_new() */
	char *key_pem;
	http_route_t *routes;
	http_route_t *routes_tail;
	struct MHD_Daemon *https_daemon;
	struct MHD_Daemon *http_daemon;
	/* Listening sockets handed back by a quiesce: shut down at once, closed after the
	 * daemon stopped (MHD's listening thread may still poll them a moment). -1 = none. */
	int https_quiesced_fd;
	int http_quiesced_fd;
	unsigned https_port;
	unsigned http_port;
	bool is_started;

	pthread_mutex_t lock; /* guards streams and is_quiescing */
	pp_http_stream_t *streams; /* responses produced by a read_fn, live */
	bool is_quiescing;
	atomic_uint active_requests;

	pp_metric_t *requests[HTTP_METHOD_CLASSES][HTTP_STATUS_CLASSES];
	pp_metric_t *duration;
	pp_metric_t *in_flight;
};

/* One block of request arena memory. */
typedef struct http_arena_block {
	struct http_arena_block *next;
	max_align_t data[]; /* aligned for anything */
} http_arena_block_t;

typedef struct http_query_param {
	struct http_query_param *next;
	const char *name;
	const char *value;
} http_query_param_t;

typedef struct http_header {
	struct http_header *next;
	const char *name;
	const char *value;
} http_header_t;

struct pp_http_request {
	pp_http_server_t *server;
	struct MHD_Connection *conn;
	const http_route_t *route;
	const char *method; /* MHD's copy, valid for the request */
	char *path; /* arena */
	const char *subpath; /* points into path */
	http_query_param_t *query;
	char remote_addr[INET6_ADDRSTRLEN];
	bool is_tls;
	uint64_t start_us;

	/* Buffered body (arena for the struct, malloc for the bytes: it grows). */
	uint8_t *body;
	size_t body_len;
	size_t body_cap;

	http_arena_block_t *arena;
	http_header_t *headers; /* extra response headers, in order added */
	void *data;
	void (*data_free)(void *);

	struct MHD_Response *response; /* made, not yet queued */
	unsigned status; /* of the response made; 0 = none yet */
	bool is_queued;
	bool is_body_refused; /* answered early: the rest of the body is dropped */
};

struct pp_http_stream {
	pp_http_stream_t *prev;
	pp_http_stream_t *next;
	pp_http_server_t *server;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled on wake and close; the reader sleeps on it */
	unsigned refs; /* the response's and the producer's */
	bool is_wake_pending;
	bool is_done; /* the response was freed: wake does nothing */
	bool is_closing; /* server stopping: end the body */
	pp_http_read_fn read_fn;
	void *ctx;
	void (*free_fn)(void *);
};

/* Monotonic clock in microseconds. */
uint64_t http_now_us(void);

/* Ends every live stream (server quiescing or stopping): wakes the sleeping ones. */
void http_streams_close_all(pp_http_server_t *server);

#endif
