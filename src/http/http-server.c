/*
 * http-server.c - the listener's life cycle and the request path through libmicrohttpd:
 * daemons (HTTPS, plain HTTP) with their limits, route lookup, the access handler that
 * buffers or streams bodies and calls handlers, and request accounting in the metrics.
 *
 * libmicrohttpd calls the access handler several times per request: once when the headers
 * are in (we parse the target and pick the route, and may answer at once: 400, 404, 405,
 * 413), once per body chunk, and once with no data at the end (the handler runs). A response
 * made mid-body cannot be queued until the end, so the rest of the body is read and dropped.
 *
 * Threads: one per connection (MHD_USE_THREAD_PER_CONNECTION), bounded by max_connections
 * (and max_connections_per_ip). A handler that waits (an IPP Print-Job for the group commit
 * of its spool file and row, an upload writing to disk) holds up only its own connection, so
 * concurrent waits overlap and batch. With a thread pool MHD's threads race for accept() and
 * one of them takes a burst of keep-alive connections, whose handlers then run one by one.
 * Each thread gets a small stack (HTTP_THREAD_STACK_BYTES): handlers keep big buffers on the
 * heap.
 */
#include "http/http-private.h"

#include "http/http-path.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_PEM_MAX (1024u * 1024u)
#define HTTP_CONNECTION_MEMORY (64u * 1024u) /* per connection: headers and read buffer */
#define HTTP_THREAD_STACK_BYTES (512u * 1024u) /* per connection thread (glibc's default: 8 MiB) */
#define HTTP_TLS_PRIORITIES "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static const char *const http_method_names[HTTP_METHOD_CLASSES] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
};
static const char *const http_status_names[HTTP_STATUS_CLASSES] = { "2xx", "3xx", "4xx", "5xx" };

/* ---- set-up ---- */

/* Registers the listener's own series in cfg->metrics (if any). */
static int http_server_register_metrics(pp_http_server_t *server, char *error,
					size_t error_size)
{
	pp_metrics_t *m = server->cfg.metrics;
	if (m == NULL)
		return 0;
	for (size_t i = 0; i < HTTP_METHOD_CLASSES; i++) {
		for (size_t j = 0; j < HTTP_STATUS_CLASSES; j++) {
			const char *labels[] = { "method", http_method_names[i], "code",
						 http_status_names[j], NULL };
			server->requests[i][j] = metrics_register(
				m, METRIC_COUNTER, "pullprint_http_requests_total",
				"HTTP requests answered, by method and status class.", labels, 1);
			if (server->requests[i][j] == NULL)
				goto fail;
		}
	}
	server->duration =
		metrics_register(m, METRIC_SUMMARY, "pullprint_http_request_duration_seconds",
				 "Time from request headers to the end of the response.", NULL,
				 1000000u);
	server->in_flight =
		metrics_register(m, METRIC_GAUGE, "pullprint_http_requests_in_flight",
				 "HTTP requests being handled now.", NULL, 1);
	if (server->duration == NULL || server->in_flight == NULL)
		goto fail;
	return 0;
fail:
	(void)str_format(error, error_size, "http: cannot register metrics (out of memory?)");
	return -1;
}

int http_server_new(const pp_http_config_t *cfg, pp_http_server_t **server_r, char *error,
		    size_t error_size)
{
	*server_r = NULL;
	if (cfg->https_port > 65535 || cfg->http_port > 65535) {
		(void)str_format(error, error_size,
				 "http: port out of range (1-65535) — fix https_port/http_port");
		return -1;
	}
	pp_http_server_t *server = calloc(1, sizeof(*server));
	if (server == NULL) {
		(void)str_format(error, error_size, "http: out of memory");
		return -1;
	}
	server->cfg = *cfg;
	server->https_quiesced_fd = -1;
	server->http_quiesced_fd = -1;
	if (server->cfg.max_connections == 0)
		server->cfg.max_connections = 256;
	if (server->cfg.max_request_bytes == 0)
		server->cfg.max_request_bytes = 1024u * 1024u;
	if (server->cfg.request_timeout_s == 0)
		server->cfg.request_timeout_s = 60;
	if (pthread_mutex_init(&server->lock, NULL) != 0) {
		free(server);
		(void)str_format(error, error_size, "http: pthread_mutex_init failed");
		return -1;
	}
	atomic_init(&server->active_requests, 0);

	/* Read the certificate and key now, so a bad path fails before anything listens. */
	if (cfg->https_port != 0 || cfg->https_any_port) {
		size_t len = 0;
		char sub[512];
		if (fs_read_file(cfg->cert_file, HTTP_PEM_MAX, &server->cert_pem, &len, sub,
				 sizeof(sub)) != 0 ||
		    fs_read_file(cfg->key_file, HTTP_PEM_MAX, &server->key_pem, &len, sub,
				 sizeof(sub)) != 0) {
			(void)str_format(error, error_size,
					 "http: cannot read TLS certificate or key: %s — check "
					 "tls_certificate and tls_key",
					 sub);
			http_server_free(&server);
			return -1;
		}
	}
	if (http_server_register_metrics(server, error, error_size) != 0) {
		http_server_free(&server);
		return -1;
	}
	*server_r = server;
	return 0;
}

int http_route(pp_http_server_t *server, const char *method, const char *path, unsigned flags,
	       pp_http_handler_fn handler, pp_http_body_fn body_fn, void *ctx, char *error,
	       size_t error_size)
{
	bool is_stream = (flags & HTTP_ROUTE_STREAM_BODY) != 0;
	if (server->is_started || path == NULL || path[0] != '/' || handler == NULL ||
	    is_stream != (body_fn != NULL) ||
	    (flags & ~(HTTP_ROUTE_PREFIX | HTTP_ROUTE_STREAM_BODY)) != 0) {
		(void)str_format(error, error_size,
				 "http: bad route %s %s (after start, or bad path/flags/callbacks)",
				 method != NULL ? method : "*", path != NULL ? path : "(null)");
		return -1;
	}
	for (const http_route_t *r = server->routes; r != NULL; r = r->next) {
		bool same_method = (r->method == NULL && method == NULL) ||
				   (r->method != NULL && method != NULL &&
				    strcmp(r->method, method) == 0);
		if (same_method && strcmp(r->path, path) == 0 &&
		    (r->flags & HTTP_ROUTE_PREFIX) == (flags & HTTP_ROUTE_PREFIX)) {
			(void)str_format(error, error_size, "http: route %s %s registered twice",
					 method != NULL ? method : "*", path);
			return -1;
		}
	}
	http_route_t *r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto oom;
	r->path = strdup(path);
	r->method = method != NULL ? strdup(method) : NULL;
	if (r->path == NULL || (method != NULL && r->method == NULL)) {
		free(r->path);
		free(r->method);
		free(r);
		goto oom;
	}
	r->path_len = strlen(path);
	r->flags = flags;
	r->handler = handler;
	r->body_fn = body_fn;
	r->ctx = ctx;
	if (server->routes_tail != NULL)
		server->routes_tail->next = r;
	else
		server->routes = r;
	server->routes_tail = r;
	return 0;
oom:
	(void)str_format(error, error_size, "http: out of memory");
	return -1;
}

/* ---- routing ---- */

/* True when route r covers path: exact, or as a prefix route. */
static bool http_route_covers(const http_route_t *r, const char *path)
{
	if ((r->flags & HTTP_ROUTE_PREFIX) != 0)
		return strncmp(path, r->path, r->path_len) == 0;
	return strcmp(path, r->path) == 0;
}

/* True when r answers method; HEAD is answered by GET routes. */
static bool http_route_takes(const http_route_t *r, const char *method)
{
	if (r->method == NULL || strcmp(r->method, method) == 0)
		return true;
	return strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
}

/*
 * Finds the best path match (exact beats prefix, longer prefix beats shorter), then the
 * route for method among those with that path. *best_r (NULL: 404) tells 404 from 405.
 */
static const http_route_t *http_route_find(const pp_http_server_t *server, const char *path,
					   const char *method, const http_route_t **best_r)
{
	const http_route_t *best = NULL;
	for (const http_route_t *r = server->routes; r != NULL; r = r->next) {
		if (!http_route_covers(r, path))
			continue;
		bool is_exact = (r->flags & HTTP_ROUTE_PREFIX) == 0;
		bool best_exact = best != NULL && (best->flags & HTTP_ROUTE_PREFIX) == 0;
		if (best == NULL || (is_exact && !best_exact) ||
		    (is_exact == best_exact && r->path_len > best->path_len))
			best = r;
	}
	*best_r = best;
	if (best == NULL)
		return NULL;
	for (const http_route_t *r = server->routes; r != NULL; r = r->next) {
		if (r->flags == best->flags && strcmp(r->path, best->path) == 0 &&
		    http_route_takes(r, method))
			return r;
	}
	return NULL;
}

/* Answers 405 with Allow listing the methods of the routes sharing best's path. */
static void http_respond_405(pp_http_request_t *req, const http_route_t *best)
{
	char allow[256] = "";
	size_t len = 0;
	for (const http_route_t *r = req->server->routes; r != NULL; r = r->next) {
		if (r->flags != best->flags || strcmp(r->path, best->path) != 0 || r->method == NULL)
			continue;
		const char *m = r->method;
		for (int pass = 0; pass < 2; pass++) {
			size_t mlen = strlen(m);
			if (len + mlen + 3 < sizeof(allow)) {
				if (len > 0) {
					memcpy(allow + len, ", ", 2);
					len += 2;
				}
				memcpy(allow + len, m, mlen);
				len += mlen;
				allow[len] = '\0';
			}
			if (strcmp(r->method, "GET") != 0)
				break;
			m = "HEAD";
		}
	}
	(void)http_response_header(req, "Allow", allow);
	(void)http_respond_error(req, 405, "method_not_allowed",
				 "This method is not allowed here; see the Allow header.");
}

/* ---- the request life cycle ---- */

/* Fills req->remote_addr; an IPv4-mapped IPv6 address is shown as IPv4. */
static void http_request_fill_remote(pp_http_request_t *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	req->remote_addr[0] = '\0';
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)sa;
		if (inet_ntop(AF_INET, &in4->sin_addr, req->remote_addr,
			      sizeof(req->remote_addr)) == NULL)
			req->remote_addr[0] = '\0';
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			if (inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], req->remote_addr,
				      sizeof(req->remote_addr)) == NULL)
				req->remote_addr[0] = '\0';
		} else if (inet_ntop(AF_INET6, &in6->sin6_addr, req->remote_addr,
				     sizeof(req->remote_addr)) == NULL) {
			req->remote_addr[0] = '\0';
		}
	}
}

typedef struct http_query_walk {
	pp_http_request_t *req;
	http_query_param_t **tail;
	bool is_bad;
} http_query_walk_t;

/* MHD_get_connection_values iterator: decodes one raw query parameter into the arena. */
static enum MHD_Result http_query_collect(void *cls, enum MHD_ValueKind kind, const char *key,
					  const char *value)
{
	http_query_walk_t *walk = cls;
	(void)kind;
	const char *raw_value = value != NULL ? value : "";
	size_t klen = strlen(key);
	size_t vlen = strlen(raw_value);
	char *name = http_request_alloc(walk->req, klen + 1);
	char *decoded = http_request_alloc(walk->req, vlen + 1);
	size_t out_len = 0;
	if (http_percent_decode(key, klen, true, name, klen + 1, &out_len) != 0 ||
	    http_percent_decode(raw_value, vlen, true, decoded, vlen + 1, &out_len) != 0) {
		walk->is_bad = true;
		return MHD_NO;
	}
	http_query_param_t *q = http_request_alloc(walk->req, sizeof(*q));
	q->name = name;
	q->value = decoded;
	q->next = NULL;
	*walk->tail = q;
	walk->tail = &q->next;
	return MHD_YES;
}

/*
 * First call for a request: parse the target, pick the route, check the declared size.
 * Answers at once (req->response set) on a bad target, 404, 405 or 413.
 */
static void http_request_begin(pp_http_request_t *req, const char *url)
{
	char path[HTTP_PATH_MAX + 1];
	if (http_path_normalise(url, strlen(url), path, sizeof(path)) != 0) {
		req->path = http_request_strdup(req, "(bad)");
		(void)http_respond_error(req, 400, "bad_path",
					 "The request path is malformed or leaves the site.");
		return;
	}
	req->path = http_request_strdup(req, path);

	http_query_walk_t walk = { .req = req, .tail = &req->query, .is_bad = false };
	(void)MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, http_query_collect,
					&walk);
	if (walk.is_bad) {
		(void)http_respond_error(req, 400, "bad_query", "The query string is malformed.");
		return;
	}

	const http_route_t *best = NULL;
	req->route = http_route_find(req->server, req->path, req->method, &best);
	if (best == NULL) {
		(void)http_respond_error(req, 404, "not_found", "Nothing is here.");
		return;
	}
	if (req->route == NULL) {
		http_respond_405(req, best);
		return;
	}
	req->subpath = (req->route->flags & HTTP_ROUTE_PREFIX) != 0
			       ? req->path + req->route->path_len
			       : "";

	if ((req->route->flags & HTTP_ROUTE_STREAM_BODY) != 0) {
		/* Let the body callback look at the headers before any body arrives. */
		if (req->route->body_fn(req, NULL, 0, req->route->ctx) != 0 &&
		    req->response == NULL)
			(void)http_respond_error(req, 500, "internal", "The upload was refused.");
		return;
	}
	const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t declared = 0;
	if (cl != NULL && parse_uint64_full(cl, UINT64_MAX, &declared) &&
	    declared > req->server->cfg.max_request_bytes)
		(void)http_respond_error(req, 413, "too_large", "The request body is too large.");
}

/* Appends a chunk to the buffered body; answers 413 past max_request_bytes. */
static void http_request_buffer(pp_http_request_t *req, const char *data, size_t len)
{
	uint64_t max = req->server->cfg.max_request_bytes;
	if (len > max || req->body_len > max - len) {
		(void)http_respond_error(req, 413, "too_large", "The request body is too large.");
		return;
	}
	if (req->body_cap - req->body_len <= len) {
		size_t cap = req->body_cap == 0 ? 16384 : req->body_cap;
		while (cap - req->body_len <= len)
			cap *= 2;
		if (cap > max + 1)
			cap = (size_t)max + 1;
		uint8_t *body = realloc(req->body, cap);
		if (body == NULL) {
			(void)http_respond_error(req, 503, "busy", "Out of memory; try again.");
			return;
		}
		req->body = body;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
	req->body[req->body_len] = '\0';
}

/* Queues the request's response if there is one and MHD takes it now. */
static enum MHD_Result http_request_try_queue(pp_http_request_t *req, bool is_final)
{
	if (req->response == NULL || req->is_queued)
		return MHD_YES;
	if (MHD_queue_response(req->conn, req->status, req->response) == MHD_YES) {
		MHD_destroy_response(req->response);
		req->response = NULL;
		req->is_queued = true;
		return MHD_YES;
	}
	/* Mid-body MHD refuses; at the end a refusal means the connection is lost. */
	return is_final ? MHD_NO : MHD_YES;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	pp_http_server_t *server = cls;
	pp_http_request_t *req = *con_cls;
	(void)version;

	if (req == NULL) {
		req = calloc(1, sizeof(*req));
		if (req == NULL)
			return MHD_NO;
		req->server = server;
		req->conn = conn;
		req->method = method;
		req->start_us = http_now_us();
		const union MHD_ConnectionInfo *tls =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_PROTOCOL);
		req->is_tls = tls != NULL;
		http_request_fill_remote(req);
		*con_cls = req;
		atomic_fetch_add(&server->active_requests, 1);
		metric_add(server->in_flight, 1);
		http_request_begin(req, url);
		if (req->response != NULL)
			req->is_body_refused = true;
		return http_request_try_queue(req, false);
	}

	if (*upload_data_size > 0) {
		size_t len = *upload_data_size;
		*upload_data_size = 0;
		if (req->is_body_refused)
			return MHD_YES;
		if ((req->route->flags & HTTP_ROUTE_STREAM_BODY) != 0) {
			if (req->route->body_fn(req, (const uint8_t *)upload_data, len,
						req->route->ctx) != 0 &&
			    req->response == NULL)
				(void)http_respond_error(req, 500, "internal",
							 "The upload failed.");
		} else {
			http_request_buffer(req, upload_data, len);
		}
		if (req->response != NULL)
			req->is_body_refused = true;
		return MHD_YES;
	}

	/* The whole body is in: run the handler unless the request was answered already. */
	if (req->response == NULL && !req->is_queued) {
		req->route->handler(req, req->route->ctx);
		if (req->response == NULL) {
			char log_path[HTTP_LOG_PATH_MAX];
			http_path_for_log(req->path, log_path, sizeof(log_path));
			log_error("http.no_response path=%s method=%s", log_path, req->method);
			(void)http_respond_error(req, 500, "internal",
						 "The server could not answer this request.");
		}
	}
	return http_request_try_queue(req, true);
}

/* Index of method in http_method_names, the last ("other") when not listed. */
static size_t http_method_class(const char *method)
{
	for (size_t i = 0; i + 1 < HTTP_METHOD_CLASSES; i++) {
		if (method != NULL && strcmp(method, http_method_names[i]) == 0)
			return i;
	}
	return HTTP_METHOD_CLASSES - 1;
}

/* MHD's completion notice: account the request, then free everything it held. */
static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	pp_http_server_t *server = cls;
	pp_http_request_t *req = *con_cls;
	(void)conn;
	(void)toe;
	if (req == NULL)
		return;
	*con_cls = NULL;
	if (req->is_queued && req->status >= 200 && req->status < 600) {
		metric_inc(server->requests[http_method_class(req->method)][req->status / 100 - 2]);
		metric_observe(server->duration, http_now_us() - req->start_us);
	}
	if (req->data != NULL && req->data_free != NULL)
		req->data_free(req->data);
	if (req->response != NULL)
		MHD_destroy_response(req->response);
	free(req->body);
	http_arena_block_t *b = req->arena;
	while (b != NULL) {
		http_arena_block_t *next = b->next;
		free(b);
		b = next;
	}
	free(req);
	metric_sub(server->in_flight, 1);
	atomic_fetch_sub(&server->active_requests, 1);
}

/* Tells MHD not to decode the target: http-path.c decodes, and sees %00 and %2e%2e. */
static size_t http_unescape_none(void *cls, struct MHD_Connection *conn, char *uri)
{
	(void)cls;
	(void)conn;
	return strlen(uri);
}

/* MHD's own error messages go to our log. */
__attribute__((format(printf, 2, 0))) static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	size_t len = strlen(line);
	while (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	log_warn("http.mhd message=\"%s\"", line);
}

/* Starts one daemon on port (0 = any free port, when allowed). */
static int http_daemon_start(pp_http_server_t *server, bool is_tls, unsigned port,
			     struct MHD_Daemon **daemon_r, unsigned *port_r, char *error,
			     size_t error_size)
{
	const pp_http_config_t *cfg = &server->cfg;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	bool has_addr = cfg->listen_address[0] != '\0';
	/* ITC: MHD_quiesce_daemon() needs it to wake the listening thread. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (has_addr) {
		struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)&ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
		if (inet_pton(AF_INET, cfg->listen_address, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)port);
		} else if (inet_pton(AF_INET6, cfg->listen_address, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			flags |= MHD_USE_IPv6;
		} else {
			(void)str_format(error, error_size,
					 "http: listen_address '%s' is not an IPv4 or IPv6 address",
					 cfg->listen_address);
			return -1;
		}
	}
	if (is_tls)
		flags |= MHD_USE_TLS;

	/* Two tries when listening everywhere: dual-stack, then IPv4 only. */
	for (int attempt = 0; attempt < 2; attempt++) {
		unsigned f = flags;
		if (!has_addr && attempt == 0)
			f |= MHD_USE_DUAL_STACK;
		struct MHD_OptionItem opts[16];
		size_t n = 0;
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
						     (intptr_t)http_mhd_log, NULL };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
						     (intptr_t)http_completed, server };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_UNESCAPE_CALLBACK,
						     (intptr_t)http_unescape_none, NULL };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
						     (intptr_t)cfg->request_timeout_s, NULL };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
						     (intptr_t)cfg->max_connections, NULL };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
						     (intptr_t)HTTP_CONNECTION_MEMORY, NULL };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_STACK_SIZE,
						     (intptr_t)HTTP_THREAD_STACK_BYTES, NULL };
		if (cfg->max_connections_per_ip != 0)
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
							     (intptr_t)cfg->max_connections_per_ip,
							     NULL };
		if (has_addr)
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
		if (is_tls) {
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
							     server->cert_pem };
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
							     server->key_pem };
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
							     (void *)HTTP_TLS_PRIORITIES };
		}
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

		struct MHD_Daemon *d =
			MHD_start_daemon(f, (uint16_t)port, NULL, NULL, http_access, server,
					 MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
		if (d != NULL) {
			const union MHD_DaemonInfo *di =
				MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
			*port_r = di != NULL ? di->port : port;
			*daemon_r = d;
			return 0;
		}
		if (has_addr)
			break;
	}
	(void)str_format(error, error_size,
			 "http: cannot listen on %s port %u (%s) — is the port in use or the "
			 "address not on this host? See the http.mhd log lines",
			 has_addr ? cfg->listen_address : "every address", port,
			 is_tls ? "HTTPS" : "HTTP");
	return -1;
}

int http_server_start(pp_http_server_t *server, char *error, size_t error_size)
{
	if (server->is_started) {
		(void)str_format(error, error_size, "http: server already started");
		return -1;
	}
	const pp_http_config_t *cfg = &server->cfg;
	if (cfg->https_port == 0 && !cfg->https_any_port && cfg->http_port == 0 &&
	    !cfg->http_any_port) {
		(void)str_format(error, error_size,
				 "http: no listener configured — set https_port or http_port");
		return -1;
	}
	if ((cfg->https_port != 0 || cfg->https_any_port) &&
	    http_daemon_start(server, true, cfg->https_port, &server->https_daemon,
			      &server->https_port, error, error_size) != 0)
		return -1;
	if ((cfg->http_port != 0 || cfg->http_any_port) &&
	    http_daemon_start(server, false, cfg->http_port, &server->http_daemon,
			      &server->http_port, error, error_size) != 0) {
		MHD_stop_daemon(server->https_daemon);
		server->https_daemon = NULL;
		server->https_port = 0;
		return -1;
	}
	server->is_started = true;
	return 0;
}

unsigned http_server_https_port(const pp_http_server_t *server)
{
	return server->https_port;
}

unsigned http_server_http_port(const pp_http_server_t *server)
{
	return server->http_port;
}

/*
 * Stops a daemon accepting: MHD hands back its listening socket, and shutdown() takes it out
 * of the LISTEN state at once, so a new connect is refused now, not when MHD's listening
 * thread next wakes. The fd itself is closed after MHD_stop_daemon() (*fd_r), since that
 * thread may still poll it for a moment. Connections in flight go on.
 */
static void http_daemon_quiesce(struct MHD_Daemon *daemon, int *fd_r)
{
	if (daemon == NULL)
		return;
	MHD_socket fd = MHD_quiesce_daemon(daemon);
	if (fd == MHD_INVALID_SOCKET) {
		log_warn("http.quiesce failed — new connections are still accepted until stop");
		return;
	}
	if (shutdown(fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
		log_warn("http.quiesce shutdown_failed error=\"%s\"", strerror(errno));
	*fd_r = fd;
}

/* Closes a listening socket kept by http_daemon_quiesce() (its daemon has stopped). */
static void http_quiesced_fd_close(int *fd)
{
	if (*fd < 0)
		return;
	if (close(*fd) != 0)
		log_warn("http.quiesce close_failed error=\"%s\"", strerror(errno));
	*fd = -1;
}

void http_server_quiesce(pp_http_server_t *server)
{
	if (server == NULL)
		return;
	if (pthread_mutex_lock(&server->lock) != 0)
		abort();
	bool was = server->is_quiescing;
	server->is_quiescing = true;
	(void)pthread_mutex_unlock(&server->lock);
	if (was)
		return;
	http_daemon_quiesce(server->https_daemon, &server->https_quiesced_fd);
	http_daemon_quiesce(server->http_daemon, &server->http_quiesced_fd);
	http_streams_close_all(server);
}

unsigned http_server_active_requests(pp_http_server_t *server)
{
	return atomic_load(&server->active_requests);
}

void http_server_free(pp_http_server_t **server_p)
{
	if (server_p == NULL || *server_p == NULL)
		return;
	pp_http_server_t *server = *server_p;
	/* MHD joins each connection thread: wake the streams sleeping in their reader first,
	 * and end new ones at once. */
	if (pthread_mutex_lock(&server->lock) != 0)
		abort();
	server->is_quiescing = true;
	(void)pthread_mutex_unlock(&server->lock);
	http_streams_close_all(server);
	if (server->https_daemon != NULL)
		MHD_stop_daemon(server->https_daemon);
	if (server->http_daemon != NULL)
		MHD_stop_daemon(server->http_daemon);
	http_quiesced_fd_close(&server->https_quiesced_fd);
	http_quiesced_fd_close(&server->http_quiesced_fd);
	http_route_t *r = server->routes;
	while (r != NULL) {
		http_route_t *next = r->next;
		free(r->method);
		free(r->path);
		free(r);
		r = next;
	}
	if (server->key_pem != NULL) {
		/* The key is a secret: wipe it before release. */
		explicit_bzero(server->key_pem, strlen(server->key_pem));
		free(server->key_pem);
	}
	free(server->cert_pem);
	(void)pthread_mutex_destroy(&server->lock);
	free(server);
	*server_p = NULL;
}
