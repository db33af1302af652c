/*
 * test-http.c - the HTTP(S) listener as a client sees it: a real server on 127.0.0.1 with a
 * fresh self-signed certificate, spoken to over TLS (a GnuTLS client that checks the
 * certificate for "localhost") and over plain TCP. Also the path normaliser, the metrics
 * text and the certificate files an admin finds on disk.
 */
#include "test-support.h"

#include "http/http-path.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/tls-cert.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BODY (64u * 1024u)
#define UPLOAD_BYTES (20u * 1024u * 1024u)
#define RESPONSE_MAX (64u * 1024u * 1024u)

typedef struct fixture {
	char *dir;
	pp_tls_cert_info_t cert;
	pp_metrics_t *metrics;
	pp_http_server_t *server;
	unsigned https_port;
	unsigned http_port;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* /upload */
	uint64_t upload_bytes;
	size_t upload_max_chunk;
	unsigned upload_chunks;
	bool upload_started;
	/* /slow */
	bool slow_entered;
	bool slow_release;
	/* /events */
	pp_http_stream_t *stream;
	bool stream_waiting;
	bool stream_has_data;
	bool stream_sent;
} fixture_t;

/* ---- a small HTTP client over TLS or TCP ---- */

typedef struct client {
	int fd;
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	bool is_tls;
} client_t;

typedef struct response {
	char *raw; /* whole answer */
	size_t raw_len;
	unsigned status;
	char *headers; /* points into raw: the header block, NUL-terminated */
	char *body; /* decoded body, NUL-terminated */
	size_t body_len;
} response_t;

/* Connects to 127.0.0.1:port. Returns the socket or -1 with errno. */
static int tcp_connect(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct timeval tv = { .tv_sec = 60 };
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Opens a connection; over TLS it verifies the certificate against ca_file for localhost. */
static void client_open(client_t *c, const fixture_t *f, bool is_tls)
{
	memset(c, 0, sizeof(*c));
	c->is_tls = is_tls;
	c->fd = tcp_connect(is_tls ? f->https_port : f->http_port);
	assert_true(c->fd >= 0);
	if (!is_tls)
		return;
	assert_int_equal(gnutls_certificate_allocate_credentials(&c->cred), 0);
	assert_true(gnutls_certificate_set_x509_trust_file(c->cred, f->cert.cert_file,
							   GNUTLS_X509_FMT_PEM) == 1);
	assert_int_equal(gnutls_init(&c->session, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_set_default_priority(c->session), 0);
	assert_int_equal(gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred), 0);
	assert_int_equal(gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, "localhost", 9), 0);
	gnutls_session_set_verify_cert(c->session, "localhost", 0);
	gnutls_transport_set_int(c->session, c->fd);
	int rc;
	do {
		rc = gnutls_handshake(c->session);
	} while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
	if (rc < 0)
		fail_msg("TLS handshake failed: %s", gnutls_strerror(rc));
}

static void client_write(client_t *c, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n;
		if (c->is_tls) {
			n = gnutls_record_send(c->session, p, len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0)
			fail_msg("send failed: %zd", n);
		p += n;
		len -= (size_t)n;
	}
}

/* Reads up to max bytes; 0 at the end of the answer (or the connection). */
static size_t client_read(client_t *c, char *buf, size_t max)
{
	for (;;) {
		ssize_t n;
		if (c->is_tls) {
			n = gnutls_record_recv(c->session, buf, max);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			/* A close without close_notify ends the answer too. */
			if (n < 0)
				return 0;
		} else {
			n = recv(c->fd, buf, max, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return 0;
		}
		return (size_t)n;
	}
}

static void client_close(client_t *c)
{
	if (c->is_tls) {
		(void)gnutls_bye(c->session, GNUTLS_SHUT_WR);
		gnutls_deinit(c->session);
		gnutls_certificate_free_credentials(c->cred);
	}
	close(c->fd);
}

/* Decodes a chunked body in place; returns its length. */
static size_t dechunk(char *body, size_t len)
{
	size_t in = 0;
	size_t out = 0;
	while (in < len) {
		char *end = NULL;
		unsigned long size = strtoul(body + in, &end, 16);
		char *crlf = strstr(body + in, "\r\n");
		assert_non_null(crlf);
		(void)end;
		in = (size_t)(crlf - body) + 2;
		if (size == 0)
			break;
		assert_true(in + size <= len);
		memmove(body + out, body + in, size);
		out += size;
		in += size + 2;
	}
	body[out] = '\0';
	return out;
}

/* Reads the whole answer (the request asked for Connection: close) and parses it. */
static void client_read_response(client_t *c, response_t *r)
{
	memset(r, 0, sizeof(*r));
	size_t cap = 65536;
	r->raw = malloc(cap + 1);
	assert_non_null(r->raw);
	for (;;) {
		if (cap - r->raw_len < 16384) {
			assert_true(cap < RESPONSE_MAX);
			cap *= 2;
			r->raw = realloc(r->raw, cap + 1);
			assert_non_null(r->raw);
		}
		size_t n = client_read(c, r->raw + r->raw_len, cap - r->raw_len);
		if (n == 0)
			break;
		r->raw_len += n;
	}
	r->raw[r->raw_len] = '\0';
	assert_true(r->raw_len > 12);
	assert_true(strncmp(r->raw, "HTTP/1.1 ", 9) == 0);
	r->status = (unsigned)strtoul(r->raw + 9, NULL, 10);
	char *sep = strstr(r->raw, "\r\n\r\n");
	assert_non_null(sep);
	*sep = '\0';
	r->headers = r->raw;
	r->body = sep + 4;
	r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	const char *te = strcasestr(r->headers, "\r\nTransfer-Encoding: chunked");
	if (te != NULL)
		r->body_len = dechunk(r->body, r->body_len);
}

/* Value of header name in r (case-insensitive name), copied into out; false if absent. */
static bool response_header(const response_t *r, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	for (const char *line = strstr(r->headers, "\r\n"); line != NULL;
	     line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
			const char *v = h + nlen + 1;
			while (*v == ' ')
				v++;
			const char *end = strstr(v, "\r\n");
			size_t vlen = end != NULL ? (size_t)(end - v) : strlen(v);
			assert_true(vlen < size);
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
	}
	return false;
}

static void response_free(response_t *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* One request on a new connection: head (without the final CRLF) plus an optional body. */
static void exchange(const fixture_t *f, bool is_tls, const char *head, const void *body,
		     size_t body_len, response_t *r)
{
	client_t c;
	client_open(&c, f, is_tls);
	char req[4096];
	assert_true(str_format(req, sizeof(req), "%s\r\nHost: localhost\r\nConnection: close\r\n\r\n",
			       head));
	client_write(&c, req, strlen(req));
	if (body_len > 0)
		client_write(&c, body, body_len);
	client_read_response(&c, r);
	client_close(&c);
}

/* Parses r's body as JSON. New; json_decref(). */
static json_t *response_json(const response_t *r)
{
	json_error_t jerr;
	json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);
	if (j == NULL)
		fail_msg("not JSON: %s (%s)", r->body, jerr.text);
	char ct[128];
	assert_true(response_header(r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "application/json");
	return j;
}

/* Checks r is {"error":{"status":status,"code":code,...}}. */
static void assert_error_body(const response_t *r, unsigned status, const char *code)
{
	assert_int_equal(r->status, status);
	json_t *j = response_json(r);
	json_t *e = json_object_get(j, "error");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
	assert_string_equal(json_string_value(json_object_get(e, "code")), code);
	assert_non_null(json_string_value(json_object_get(e, "message")));
	json_decref(j);
}

/* The headers every answer carries; HSTS only over TLS. */
static void assert_security_headers(const response_t *r, bool is_tls)
{
	static const char *const expected[][2] = {
		{ "X-Content-Type-Options", "nosniff" },
		{ "X-Frame-Options", "DENY" },
		{ "Referrer-Policy", "no-referrer" },
		{ "Cache-Control", "no-store" },
		{ "Server", "Pullprint" },
	};
	char value[512];
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		if (!response_header(r, expected[i][0], value, sizeof(value)))
			fail_msg("status %u: header %s missing", r->status, expected[i][0]);
		assert_string_equal(value, expected[i][1]);
	}
	assert_true(response_header(r, "Content-Security-Policy", value, sizeof(value)));
	assert_non_null(strstr(value, "default-src 'self'"));
	assert_non_null(strstr(value, "frame-ancestors 'none'"));
	assert_true(response_header(r, "Permissions-Policy", value, sizeof(value)));
	assert_int_equal(response_header(r, "Strict-Transport-Security", value, sizeof(value)),
			 is_tls);
}

/* ---- routes of the test server ---- */

static void handle_hello(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	const char *name = http_request_query(req, "name");
	json_t *body = json_pack("{s:s,s:b,s:s?,s:s,s:s}", "hello", "world", "tls",
				 http_request_is_tls(req), "name", name, "remote",
				 http_request_remote_addr(req), "path", http_request_path(req));
	(void)http_respond_json(req, 200, body);
}

static void handle_echo(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	size_t len = 0;
	const uint8_t *body = http_request_body(req, &len);
	(void)http_respond_bytes(req, 200, "application/octet-stream", body, len);
}

static void handle_static(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	(void)http_response_header(req, "Cache-Control", "public, max-age=60");
	(void)http_respond_json(req, 200, json_pack("{s:s}", "sub", http_request_subpath(req)));
}

static int upload_body(pp_http_request_t *req, const uint8_t *data, size_t len, void *ctx)
{
	fixture_t *f = ctx;
	if (data == NULL) {
		/* Headers only: refuse before any body when the client asks for it. */
		if (http_request_header(req, "X-Test-Refuse") != NULL) {
			(void)http_respond_error(req, 403, "forbidden", "Refused by the test.");
			return -1;
		}
		pthread_mutex_lock(&f->lock);
		f->upload_started = true;
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	pthread_mutex_lock(&f->lock);
	f->upload_bytes += len;
	f->upload_chunks++;
	if (len > f->upload_max_chunk)
		f->upload_max_chunk = len;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static void handle_upload(pp_http_request_t *req, void *ctx)
{
	fixture_t *f = ctx;
	pthread_mutex_lock(&f->lock);
	json_t *body = json_pack("{s:I,s:I,s:I}", "bytes", (json_int_t)f->upload_bytes, "chunks",
				 (json_int_t)f->upload_chunks, "max_chunk",
				 (json_int_t)f->upload_max_chunk);
	pthread_mutex_unlock(&f->lock);
	(void)http_respond_json(req, 201, body);
}

static void handle_slow(pp_http_request_t *req, void *ctx)
{
	fixture_t *f = ctx;
	pthread_mutex_lock(&f->lock);
	f->slow_entered = true;
	pthread_cond_broadcast(&f->cond);
	while (!f->slow_release)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	(void)http_respond_bytes(req, 200, "text/plain", "finished\n", 9);
}

static ssize_t events_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	fixture_t *f = ctx;
	(void)pos;
	static const char event[] = "data: job 7 held\n\n";
	ssize_t n = HTTP_STREAM_WAIT;
	pthread_mutex_lock(&f->lock);
	if (f->stream_sent) {
		n = HTTP_STREAM_END;
	} else if (f->stream_has_data) {
		assert_true(max >= sizeof(event) - 1);
		memcpy(buf, event, sizeof(event) - 1);
		f->stream_sent = true;
		n = (ssize_t)(sizeof(event) - 1);
	} else {
		f->stream_waiting = true;
		pthread_cond_broadcast(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

static void handle_events(pp_http_request_t *req, void *ctx)
{
	fixture_t *f = ctx;
	pp_http_stream_t *stream = NULL;
	assert_int_equal(http_respond_stream(req, 200, "text/event-stream", events_read, f, NULL,
					     &stream),
			 0);
	pthread_mutex_lock(&f->lock);
	f->stream = stream;
	pthread_mutex_unlock(&f->lock);
}

static void handle_metrics(pp_http_request_t *req, void *ctx)
{
	fixture_t *f = ctx;
	char *text = NULL;
	size_t len = 0;
	char error[256];
	if (metrics_render(f->metrics, &text, &len, error, sizeof(error)) != 0) {
		(void)http_respond_error(req, 500, "internal", error);
		return;
	}
	(void)http_respond_bytes(req, 200, METRICS_CONTENT_TYPE, text, len);
	free(text);
}

static void handle_silent(pp_http_request_t *req, void *ctx)
{
	(void)req;
	(void)ctx;
}

/* ---- fixture ---- */

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = test_tmpdir();
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	char tls_dir[4096];
	char error[1024];
	assert_true(str_format(tls_dir, sizeof(tls_dir), "%s/tls", f->dir));
	assert_int_equal(tls_cert_ensure_self_signed(tls_dir, "printhost.example", &f->cert,
						     error, sizeof(error)),
			 0);

	f->metrics = metrics_new();
	assert_non_null(f->metrics);
	pp_http_config_t cfg = { 0 };
	assert_true(str_copy(cfg.listen_address, sizeof(cfg.listen_address), "127.0.0.1"));
	cfg.https_any_port = true;
	cfg.http_any_port = true;
	assert_true(str_copy(cfg.cert_file, sizeof(cfg.cert_file), f->cert.cert_file));
	assert_true(str_copy(cfg.key_file, sizeof(cfg.key_file), f->cert.key_file));
	cfg.threads = 2;
	cfg.max_request_bytes = MAX_BODY;
	cfg.metrics = f->metrics;
	if (http_server_new(&cfg, &f->server, error, sizeof(error)) != 0)
		fail_msg("%s", error);

	static const struct {
		const char *method;
		const char *path;
		unsigned flags;
		pp_http_handler_fn handler;
		pp_http_body_fn body_fn;
	} routes[] = {
		{ "GET", "/hello", 0, handle_hello, NULL },
		{ "POST", "/echo", 0, handle_echo, NULL },
		{ "PUT", "/echo", 0, handle_echo, NULL },
		{ "POST", "/upload", HTTP_ROUTE_STREAM_BODY, handle_upload, upload_body },
		{ "GET", "/slow", 0, handle_slow, NULL },
		{ "GET", "/events", 0, handle_events, NULL },
		{ "GET", "/static/", HTTP_ROUTE_PREFIX, handle_static, NULL },
		{ "GET", "/metrics", 0, handle_metrics, NULL },
		{ NULL, "/silent", 0, handle_silent, NULL },
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (http_route(f->server, routes[i].method, routes[i].path, routes[i].flags,
			       routes[i].handler, routes[i].body_fn, f, error, sizeof(error)) != 0)
			fail_msg("%s", error);
	}
	if (http_server_start(f->server, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	f->https_port = http_server_https_port(f->server);
	f->http_port = http_server_http_port(f->server);
	assert_true(f->https_port > 0 && f->http_port > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	http_stream_unref(&f->stream);
	http_server_free(&f->server);
	assert_null(f->server);
	metrics_free(&f->metrics);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void test_route_answers_over_tls_and_plain(void **state)
{
	fixture_t *f = *state;
	for (int tls = 0; tls < 2; tls++) {
		response_t r;
		exchange(f, tls, "GET /hello?name=Ann%20Lee&x=1 HTTP/1.1", NULL, 0, &r);
		assert_int_equal(r.status, 200);
		assert_security_headers(&r, tls);
		json_t *j = response_json(&r);
		assert_string_equal(json_string_value(json_object_get(j, "hello")), "world");
		assert_int_equal(json_boolean_value(json_object_get(j, "tls")), tls);
		assert_string_equal(json_string_value(json_object_get(j, "name")), "Ann Lee");
		assert_string_equal(json_string_value(json_object_get(j, "remote")), "127.0.0.1");
		json_decref(j);
		char server[64];
		assert_true(response_header(&r, "Server", server, sizeof(server)));
		assert_null(strchr(server, '/')); /* no version */
		response_free(&r);
	}
}

static void test_unknown_path_and_wrong_method(void **state)
{
	fixture_t *f = *state;
	response_t r;
	exchange(f, true, "GET /nothing/here HTTP/1.1", NULL, 0, &r);
	assert_error_body(&r, 404, "not_found");
	assert_security_headers(&r, true);
	response_free(&r);

	exchange(f, true, "DELETE /echo HTTP/1.1", NULL, 0, &r);
	assert_error_body(&r, 405, "method_not_allowed");
	assert_security_headers(&r, true);
	char allow[128];
	assert_true(response_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "POST, PUT");
	response_free(&r);

	exchange(f, false, "POST /hello HTTP/1.1\r\nContent-Length: 0", NULL, 0, &r);
	assert_error_body(&r, 405, "method_not_allowed");
	assert_true(response_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "GET, HEAD");
	response_free(&r);
}

static void test_bad_paths_get_400(void **state)
{
	fixture_t *f = *state;
	static const char *const targets[] = {
		"/static/../hello", "/static/%2e%2e/hello", "/static/%2E%2e", "/a%00b",
		"/static/x%zz",	    "/static/%0d%0aX: y",
	};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		char head[256];
		assert_true(str_format(head, sizeof(head), "GET %s HTTP/1.1", targets[i]));
		response_t r;
		exchange(f, false, head, NULL, 0, &r);
		if (r.status != 400)
			fail_msg("row %zu (%s): status %u", i, targets[i], r.status);
		assert_error_body(&r, 400, "bad_path");
		assert_security_headers(&r, false);
		response_free(&r);
	}
	response_t r;
	exchange(f, false, "GET /hello?name=%00 HTTP/1.1", NULL, 0, &r);
	assert_error_body(&r, 400, "bad_query");
	response_free(&r);
}

static void test_prefix_route_and_header_override(void **state)
{
	fixture_t *f = *state;
	response_t r;
	exchange(f, true, "GET /static//css/./app.css HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	json_t *j = response_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "sub")), "css/app.css");
	json_decref(j);
	char cc[128];
	assert_true(response_header(&r, "Cache-Control", cc, sizeof(cc)));
	assert_string_equal(cc, "public, max-age=60");
	response_free(&r);
}

static void test_body_limits(void **state)
{
	fixture_t *f = *state;
	/* Under the limit: echoed whole. */
	size_t ok_len = MAX_BODY;
	char *body = malloc(MAX_BODY * 2);
	assert_non_null(body);
	for (size_t i = 0; i < MAX_BODY * 2; i++)
		body[i] = (char)('a' + i % 26);
	char head[256];
	assert_true(str_format(head, sizeof(head), "POST /echo HTTP/1.1\r\nContent-Length: %zu",
			       ok_len));
	response_t r;
	exchange(f, true, head, body, ok_len, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, ok_len);
	assert_memory_equal(r.body, body, ok_len);
	response_free(&r);

	/* Declared over the limit: 413 before the body is sent. */
	assert_true(str_format(head, sizeof(head), "POST /echo HTTP/1.1\r\nContent-Length: %u",
			       MAX_BODY + 1));
	exchange(f, true, head, NULL, 0, &r);
	assert_error_body(&r, 413, "too_large");
	assert_security_headers(&r, true);
	response_free(&r);

	/* Chunked, over the limit: 413 once the body passes it. */
	client_t c;
	client_open(&c, f, false);
	const char *h = "POST /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
			"Transfer-Encoding: chunked\r\n\r\n";
	client_write(&c, h, strlen(h));
	for (int i = 0; i < 4; i++) {
		char size_line[32];
		assert_true(str_format(size_line, sizeof(size_line), "%x\r\n", MAX_BODY / 2));
		client_write(&c, size_line, strlen(size_line));
		client_write(&c, body, MAX_BODY / 2);
		client_write(&c, "\r\n", 2);
	}
	client_write(&c, "0\r\n\r\n", 5);
	client_read_response(&c, &r);
	client_close(&c);
	assert_error_body(&r, 413, "too_large");
	assert_security_headers(&r, false);
	response_free(&r);
	free(body);
}

static void test_streamed_upload_is_chunked_and_bounded(void **state)
{
	fixture_t *f = *state;
	client_t c;
	client_open(&c, f, true);
	char head[256];
	assert_true(str_format(head, sizeof(head),
			       "POST /upload HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
			       "Content-Length: %u\r\n\r\n",
			       UPLOAD_BYTES));
	client_write(&c, head, strlen(head));
	char *block = calloc(1, 65536);
	assert_non_null(block);
	for (size_t sent = 0; sent < UPLOAD_BYTES; sent += 65536)
		client_write(&c, block, 65536);
	free(block);
	response_t r;
	client_read_response(&c, &r);
	client_close(&c);
	assert_int_equal(r.status, 201);
	json_t *j = response_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes")), UPLOAD_BYTES);
	/* Many chunks, each at most the connection buffer: memory stays bounded. */
	assert_true(json_integer_value(json_object_get(j, "chunks")) > 100);
	assert_true(json_integer_value(json_object_get(j, "max_chunk")) <= 64 * 1024);
	json_decref(j);
	response_free(&r);

	/* The body callback may refuse on the headers alone. */
	exchange(f, false, "POST /upload HTTP/1.1\r\nX-Test-Refuse: 1\r\nContent-Length: 5000000",
		 NULL, 0, &r);
	assert_error_body(&r, 403, "forbidden");
	response_free(&r);
}

static void test_handler_without_answer_gets_500(void **state)
{
	fixture_t *f = *state;
	response_t r;
	exchange(f, false, "PATCH /silent HTTP/1.1\r\nContent-Length: 0", NULL, 0, &r);
	assert_error_body(&r, 500, "internal");
	assert_security_headers(&r, false);
	response_free(&r);
}

/* Renders the metrics until needle shows up (completion is counted just after the answer). */
static void wait_for_metric(fixture_t *f, const char *needle)
{
	for (int i = 0; i < 2000; i++) {
		char *text = NULL;
		size_t len = 0;
		char error[256];
		assert_int_equal(metrics_render(f->metrics, &text, &len, error, sizeof(error)), 0);
		bool found = strstr(text, needle) != NULL;
		free(text);
		if (found)
			return;
		usleep(5000);
	}
	fail_msg("metric line never appeared: %s", needle);
}

static void test_metrics_count_requests(void **state)
{
	fixture_t *f = *state;
	response_t r;
	for (int i = 0; i < 3; i++) {
		exchange(f, false, "GET /hello HTTP/1.1", NULL, 0, &r);
		response_free(&r);
	}
	exchange(f, false, "GET /missing HTTP/1.1", NULL, 0, &r);
	response_free(&r);
	wait_for_metric(f, "pullprint_http_requests_total{method=\"GET\",code=\"2xx\"} 3\n");
	wait_for_metric(f, "pullprint_http_requests_total{method=\"GET\",code=\"4xx\"} 1\n");
	wait_for_metric(f, "pullprint_http_request_duration_seconds_count 4\n");

	exchange(f, true, "GET /metrics HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "# TYPE pullprint_http_requests_total counter\n"));
	assert_non_null(strstr(r.body, "# HELP pullprint_http_requests_total "));
	assert_non_null(strstr(r.body, "# TYPE pullprint_http_request_duration_seconds summary\n"));
	char ct[128];
	assert_true(response_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, METRICS_CONTENT_TYPE);
	response_free(&r);
}

static void *slow_client(void *arg)
{
	fixture_t *f = arg;
	response_t *r = calloc(1, sizeof(*r));
	exchange(f, false, "GET /slow HTTP/1.1", NULL, 0, r);
	return r;
}

static void test_quiesce_finishes_in_flight_and_refuses_new(void **state)
{
	fixture_t *f = *state;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_client, f), 0);
	pthread_mutex_lock(&f->lock);
	while (!f->slow_entered)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(http_server_active_requests(f->server), 1);

	http_server_quiesce(f->server);
	assert_int_equal(tcp_connect(f->http_port), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(tcp_connect(f->https_port), -1);
	assert_int_equal(errno, ECONNREFUSED);

	pthread_mutex_lock(&f->lock);
	f->slow_release = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	response_t *r = NULL;
	assert_int_equal(pthread_join(t, (void **)&r), 0);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "finished\n");
	response_free(r);
	free(r);
}

static void test_event_stream_sleeps_until_woken(void **state)
{
	fixture_t *f = *state;
	client_t c;
	client_open(&c, f, true);
	const char *h = "GET /events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	client_write(&c, h, strlen(h));
	/* The producer has nothing yet: the connection sleeps. */
	pthread_mutex_lock(&f->lock);
	while (!f->stream_waiting)
		pthread_cond_wait(&f->cond, &f->lock);
	f->stream_has_data = true;
	pp_http_stream_t *stream = f->stream;
	pthread_mutex_unlock(&f->lock);
	assert_non_null(stream);
	http_stream_wake(stream);

	response_t r;
	client_read_response(&c, &r);
	client_close(&c);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r, true);
	assert_string_equal(r.body, "data: job 7 held\n\n");
	response_free(&r);
	/* Waking a finished stream is harmless. */
	http_stream_wake(stream);
}

static void test_quiesce_ends_waiting_streams(void **state)
{
	fixture_t *f = *state;
	client_t c;
	client_open(&c, f, false);
	const char *h = "GET /events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	client_write(&c, h, strlen(h));
	pthread_mutex_lock(&f->lock);
	while (!f->stream_waiting)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	/* A graceful stop must not wait forever on an idle event stream: it is ended. */
	http_server_quiesce(f->server);
	response_t r;
	client_read_response(&c, &r);
	client_close(&c);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	response_free(&r);
}

static void test_every_address_listener_and_head(void **state)
{
	(void)state;
	char error[512];
	pp_http_config_t cfg = { 0 };
	cfg.http_any_port = true;
	pp_http_server_t *server = NULL;
	assert_int_equal(http_server_new(&cfg, &server, error, sizeof(error)), 0);
	assert_int_equal(http_route(server, "GET", "/hello", 0, handle_hello, NULL, NULL, error,
				    sizeof(error)),
			 0);
	if (http_server_start(server, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	assert_int_equal(http_server_https_port(server), 0);
	fixture_t f = { .http_port = http_server_http_port(server) };
	response_t r;
	exchange(&f, false, "GET /hello HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	json_t *j = response_json(&r);
	/* Over a dual-stack socket an IPv4 client still reads as IPv4. */
	assert_string_equal(json_string_value(json_object_get(j, "remote")), "127.0.0.1");
	json_decref(j);
	response_free(&r);
	/* HEAD is answered by the GET route, without a body. */
	exchange(&f, false, "HEAD /hello HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	assert_security_headers(&r, false);
	response_free(&r);
	http_server_free(&server);
	assert_null(server);
	http_server_free(&server);
}

static void test_certificate_reused_and_private(void **state)
{
	fixture_t *f = *state;
	assert_true(f->cert.is_new);
	assert_true(f->cert.is_self_signed_ours);
	assert_int_equal(strlen(f->cert.fingerprint_sha256), TLS_CERT_FINGERPRINT_LEN);

	char tls_dir[4096];
	char error[1024];
	assert_true(str_format(tls_dir, sizeof(tls_dir), "%s/tls", f->dir));
	pp_tls_cert_info_t again;
	assert_int_equal(tls_cert_ensure_self_signed(tls_dir, "printhost.example", &again, error,
						     sizeof(error)),
			 0);
	assert_false(again.is_new);
	assert_string_equal(again.fingerprint_sha256, f->cert.fingerprint_sha256);
	/* About two years of validity. */
	time_t now = time(NULL);
	assert_true(again.not_after > now + 700L * 24 * 3600);
	assert_true(again.not_after < now + 740L * 24 * 3600);

	struct stat st;
	assert_int_equal(stat(again.key_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tls_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* The admin check accepts the pair as it is. */
	pp_tls_cert_info_t checked;
	assert_int_equal(tls_cert_check_pair(again.cert_file, again.key_file, &checked, error,
					     sizeof(error)),
			 0);
	assert_string_equal(checked.fingerprint_sha256, again.fingerprint_sha256);
	assert_false(checked.is_expired);
}

static void test_broken_certificates_are_named(void **state)
{
	fixture_t *f = *state;
	char error[1024];
	char other_dir[4096];
	assert_true(str_format(other_dir, sizeof(other_dir), "%s/other", f->dir));
	pp_tls_cert_info_t other;
	assert_int_equal(tls_cert_ensure_self_signed(other_dir, NULL, &other, error,
						     sizeof(error)),
			 0);
	assert_string_not_equal(other.fingerprint_sha256, f->cert.fingerprint_sha256);

	/* An admin pair whose certificate and key do not belong together. */
	pp_tls_cert_info_t info;
	assert_int_equal(tls_cert_check_pair(f->cert.cert_file, other.key_file, &info, error,
					     sizeof(error)),
			 -1);
	assert_non_null(strstr(error, f->cert.cert_file));
	assert_non_null(strstr(error, "does not belong"));

	/* Something that is not ours in the self-signed place: refused, named, untouched. */
	char cert_path[4096];
	assert_true(str_format(cert_path, sizeof(cert_path), "%s/cert.pem", other_dir));
	FILE *fp = fopen(cert_path, "w");
	assert_non_null(fp);
	assert_true(fputs("not a certificate\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(tls_cert_ensure_self_signed(other_dir, NULL, &info, error,
						     sizeof(error)),
			 -1);
	assert_non_null(strstr(error, cert_path));

	/* Our own certificate with a lost key is simply made again. */
	char key_path[4096];
	assert_true(str_format(key_path, sizeof(key_path), "%s/tls/key.pem", f->dir));
	assert_int_equal(unlink(key_path), 0);
	char tls_dir[4096];
	assert_true(str_format(tls_dir, sizeof(tls_dir), "%s/tls", f->dir));
	assert_int_equal(tls_cert_ensure_self_signed(tls_dir, NULL, &info, error, sizeof(error)),
			 0);
	assert_true(info.is_new);
	assert_string_not_equal(info.fingerprint_sha256, f->cert.fingerprint_sha256);
}

/* ---- parsers (no server) ---- */

static void test_path_normaliser_table(void **state)
{
	(void)state;
	static const struct {
		const char *raw;
		const char *want; /* NULL = rejected */
	} rows[] = {
		{ "/", "/" },
		{ "/a/b", "/a/b" },
		{ "/a/b/", "/a/b/" },
		{ "//a///b", "/a/b" },
		{ "/a/./b/.", "/a/b/" },
		{ "/.", "/" },
		{ "/a%20b", "/a b" },
		{ "/a%2Fb", "/a/b" },
		{ "/%7euser", "/~user" },
		{ "/a/..", NULL },
		{ "/../etc/passwd", NULL },
		{ "/a/%2e%2e/b", NULL },
		{ "/a/.%2E", NULL },
		{ "/a%00", NULL },
		{ "/a%0a", NULL },
		{ "/a%", NULL },
		{ "/a%4", NULL },
		{ "/a%g0", NULL },
		{ "a/b", NULL },
		{ "", NULL },
		{ "/a/...", "/a/..." },
		{ "/a/..b", "/a/..b" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64];
		int rc = http_path_normalise(rows[i].raw, strlen(rows[i].raw), out, sizeof(out));
		if (rows[i].want == NULL) {
			if (rc != -1)
				fail_msg("row %zu (%s): accepted as %s", i, rows[i].raw, out);
		} else {
			if (rc != 0)
				fail_msg("row %zu (%s): rejected", i, rows[i].raw);
			if (strcmp(out, rows[i].want) != 0)
				fail_msg("row %zu (%s): got %s, want %s", i, rows[i].raw, out,
					 rows[i].want);
		}
	}
	/* Too long for the output: refused, never cut. */
	char small[4];
	assert_int_equal(http_path_normalise("/abcd", 5, small, sizeof(small)), -1);
	size_t len = 0;
	char q[16];
	assert_int_equal(http_percent_decode("a+b%21", 6, true, q, sizeof(q), &len), 0);
	assert_string_equal(q, "a b!");
	assert_int_equal(len, 4);
}

static int collect_jobs(pp_metrics_writer_t *w, void *ctx)
{
	(void)ctx;
	const char *held[] = { "state", "held", NULL };
	if (metrics_write_family(w, "pullprint_jobs", "Jobs by state.", METRIC_GAUGE) != 0)
		return -1;
	return metrics_write_sample(w, "pullprint_jobs", held, 5);
}

static void test_metrics_text_format(void **state)
{
	(void)state;
	pp_metrics_t *m = metrics_new();
	assert_non_null(m);
	const char *labels[] = { "printer", "a\"b\\c\nd", NULL };
	pp_metric_t *c = metrics_register(m, METRIC_COUNTER, "pp_pages_total",
					  "Pages printed.\nAll of them.", labels, 1);
	assert_non_null(c);
	metric_add(c, 41);
	metric_inc(c);
	pp_metric_t *g = metrics_register(m, METRIC_GAUGE, "pp_queue", "Queued.", NULL, 1);
	metric_set(g, 9);
	metric_sub(g, 2);
	pp_metric_t *s = metrics_register(m, METRIC_SUMMARY, "pp_wait_seconds", "Wait.", NULL,
					  1000000);
	metric_observe(s, 1500000);
	metric_observe(s, 500000);
	/* A name clash of another type and a bad name are refused. */
	assert_null(metrics_register(m, METRIC_GAUGE, "pp_pages_total", "x", NULL, 1));
	assert_null(metrics_register(m, METRIC_GAUGE, "9bad", "x", NULL, 1));
	const char *bad_label[] = { "bad-name", "v", NULL };
	assert_null(metrics_register(m, METRIC_GAUGE, "pp_ok", "x", bad_label, 1));
	assert_int_equal(metrics_add_collector(m, collect_jobs, NULL), 0);

	char *text = NULL;
	size_t len = 0;
	char error[256];
	assert_int_equal(metrics_render(m, &text, &len, error, sizeof(error)), 0);
	assert_int_equal(strlen(text), len);
	static const char *const expected =
		"# HELP pp_pages_total Pages printed.\\nAll of them.\n"
		"# TYPE pp_pages_total counter\n"
		"pp_pages_total{printer=\"a\\\"b\\\\c\\nd\"} 42\n"
		"# HELP pp_queue Queued.\n"
		"# TYPE pp_queue gauge\n"
		"pp_queue 7\n"
		"# HELP pp_wait_seconds Wait.\n"
		"# TYPE pp_wait_seconds summary\n"
		"pp_wait_seconds_sum 2\n"
		"pp_wait_seconds_count 2\n"
		"# HELP pullprint_jobs Jobs by state.\n"
		"# TYPE pullprint_jobs gauge\n"
		"pullprint_jobs{state=\"held\"} 5\n";
	assert_string_equal(text, expected);
	free(text);
	metrics_free(&m);
	assert_null(m);
	metrics_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_normaliser_table),
		cmocka_unit_test(test_metrics_text_format),
		cmocka_unit_test_setup_teardown(test_route_answers_over_tls_and_plain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_path_and_wrong_method, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths_get_400, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_route_and_header_override, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_body_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streamed_upload_is_chunked_and_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handler_without_answer_gets_500, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_metrics_count_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiesce_finishes_in_flight_and_refuses_new,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_stream_sleeps_until_woken, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quiesce_ends_waiting_streams, setup, teardown),
		cmocka_unit_test(test_every_address_listener_and_head),
		cmocka_unit_test_setup_teardown(test_certificate_reused_and_private, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_broken_certificates_are_named, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
