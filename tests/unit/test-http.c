/*
 * test-http.c - the HTTP(S) listener as a client sees it: a real server on 127.0.0.1 with a
 * fresh self-signed certificate, spoken to over TLS (a GnuTLS client that checks the
 * certificate for "localhost") and over plain TCP: routes, errors, security headers, body
 * limits, streamed uploads and event streams, handlers that wait side by side, quiesce. Also
 * the path normaliser. The metrics are in test-metrics.c, the certificate files in
 * test-tls-cert.c; the client is in test-http-support.c.
 */
#include "test-http-support.h"

#include "http/http-path.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/tls-cert.h"
#include "lib/str.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_BODY (64u * 1024u)
#define UPLOAD_BYTES (20u * 1024u * 1024u)
#define GATE_CLIENTS 8u /* clients whose handlers must all be waiting at once */
#define GATE_GUARD_S 30 /* only against a hang: a listener that serialises answers "alone" */

typedef struct fixture {
	char *dir;
	pp_tls_cert_info_t cert;
	pp_metrics_t *metrics;
	pp_http_server_t *server;
	test_http_peer_t peer; /* where the server listens */

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
	/* /gate */
	unsigned gate_inside;
	/* /events */
	pp_http_stream_t *stream;
	bool stream_waiting;
	bool stream_has_data;
	bool stream_sent;
} fixture_t;

/* Parses r's body as JSON. New; json_decref(). */
static json_t *response_json(const test_http_response_t *r)
{
	json_error_t jerr;
	json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);
	if (j == NULL)
		fail_msg("not JSON: %s (%s)", r->body, jerr.text);
	char ct[128];
	assert_true(test_http_response_header(r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "application/json");
	return j;
}

/* Checks r is {"error":{"status":status,"code":code,...}}. */
static void assert_error_body(const test_http_response_t *r, unsigned status, const char *code)
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
static void assert_security_headers(const test_http_response_t *r, bool is_tls)
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
		if (!test_http_response_header(r, expected[i][0], value, sizeof(value)))
			fail_msg("status %u: header %s missing", r->status, expected[i][0]);
		assert_string_equal(value, expected[i][1]);
	}
	assert_true(test_http_response_header(r, "Content-Security-Policy", value, sizeof(value)));
	assert_non_null(strstr(value, "default-src 'self'"));
	assert_non_null(strstr(value, "frame-ancestors 'none'"));
	assert_true(test_http_response_header(r, "Permissions-Policy", value, sizeof(value)));
	assert_int_equal(test_http_response_header(r, "Strict-Transport-Security", value,
						   sizeof(value)),
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

/*
 * Waits, as an IPP Print-Job waits for its group commit, until GATE_CLIENTS handlers are
 * inside at once; answers "together", or "alone" if that never happens.
 */
static void handle_gate(pp_http_request_t *req, void *ctx)
{
	fixture_t *f = ctx;
	struct timespec until;
	assert_int_equal(clock_gettime(CLOCK_REALTIME, &until), 0);
	until.tv_sec += GATE_GUARD_S;
	pthread_mutex_lock(&f->lock);
	f->gate_inside++;
	pthread_cond_broadcast(&f->cond);
	int rc = 0;
	while (f->gate_inside < GATE_CLIENTS && rc == 0)
		rc = pthread_cond_timedwait(&f->cond, &f->lock, &until);
	bool is_together = f->gate_inside >= GATE_CLIENTS;
	pthread_mutex_unlock(&f->lock);
	if (is_together)
		(void)http_respond_bytes(req, 200, "text/plain", "together\n", 9);
	else
		(void)http_respond_bytes(req, 503, "text/plain", "alone\n", 6);
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
	test_http_cert_make(f->dir, &f->cert);

	/* Metrics attached as the daemons attach them, so every case runs the counting too. */
	f->metrics = metrics_new();
	assert_non_null(f->metrics);
	pp_http_config_t cfg;
	test_http_config_loopback(&cfg, &f->cert);
	cfg.max_request_bytes = MAX_BODY;
	cfg.metrics = f->metrics;
	char error[1024];
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
		{ "GET", "/gate", 0, handle_gate, NULL },
		{ "GET", "/events", 0, handle_events, NULL },
		{ "GET", "/static/", HTTP_ROUTE_PREFIX, handle_static, NULL },
		{ NULL, "/silent", 0, handle_silent, NULL },
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (http_route(f->server, routes[i].method, routes[i].path, routes[i].flags,
			       routes[i].handler, routes[i].body_fn, f, error, sizeof(error)) != 0)
			fail_msg("%s", error);
	}
	test_http_start(f->server, &f->cert, &f->peer);
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
		test_http_response_t r;
		test_http_exchange(&f->peer, tls, "GET /hello?name=Ann%20Lee&x=1 HTTP/1.1", NULL, 0,
				   &r);
		assert_int_equal(r.status, 200);
		assert_security_headers(&r, tls);
		json_t *j = response_json(&r);
		assert_string_equal(json_string_value(json_object_get(j, "hello")), "world");
		assert_int_equal(json_boolean_value(json_object_get(j, "tls")), tls);
		assert_string_equal(json_string_value(json_object_get(j, "name")), "Ann Lee");
		assert_string_equal(json_string_value(json_object_get(j, "remote")), "127.0.0.1");
		json_decref(j);
		char server[64];
		assert_true(test_http_response_header(&r, "Server", server, sizeof(server)));
		assert_null(strchr(server, '/')); /* no version */
		test_http_response_free(&r);
	}
}

static void test_unknown_path_and_wrong_method(void **state)
{
	fixture_t *f = *state;
	test_http_response_t r;
	test_http_exchange(&f->peer, true, "GET /nothing/here HTTP/1.1", NULL, 0, &r);
	assert_error_body(&r, 404, "not_found");
	assert_security_headers(&r, true);
	test_http_response_free(&r);

	test_http_exchange(&f->peer, true, "DELETE /echo HTTP/1.1", NULL, 0, &r);
	assert_error_body(&r, 405, "method_not_allowed");
	assert_security_headers(&r, true);
	char allow[128];
	assert_true(test_http_response_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "POST, PUT");
	test_http_response_free(&r);

	test_http_exchange(&f->peer, false, "POST /hello HTTP/1.1\r\nContent-Length: 0", NULL, 0,
			   &r);
	assert_error_body(&r, 405, "method_not_allowed");
	assert_true(test_http_response_header(&r, "Allow", allow, sizeof(allow)));
	assert_string_equal(allow, "GET, HEAD");
	test_http_response_free(&r);
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
		test_http_response_t r;
		test_http_exchange(&f->peer, false, head, NULL, 0, &r);
		if (r.status != 400)
			fail_msg("row %zu (%s): status %u", i, targets[i], r.status);
		assert_error_body(&r, 400, "bad_path");
		assert_security_headers(&r, false);
		test_http_response_free(&r);
	}
	test_http_response_t r;
	test_http_exchange(&f->peer, false, "GET /hello?name=%00 HTTP/1.1", NULL, 0, &r);
	assert_error_body(&r, 400, "bad_query");
	test_http_response_free(&r);
}

static void test_prefix_route_and_header_override(void **state)
{
	fixture_t *f = *state;
	test_http_response_t r;
	test_http_exchange(&f->peer, true, "GET /static//css/./app.css HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	json_t *j = response_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "sub")), "css/app.css");
	json_decref(j);
	char cc[128];
	assert_true(test_http_response_header(&r, "Cache-Control", cc, sizeof(cc)));
	assert_string_equal(cc, "public, max-age=60");
	test_http_response_free(&r);
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
	test_http_response_t r;
	test_http_exchange(&f->peer, true, head, body, ok_len, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, ok_len);
	assert_memory_equal(r.body, body, ok_len);
	test_http_response_free(&r);

	/* Declared over the limit: 413 before the body is sent. */
	assert_true(str_format(head, sizeof(head), "POST /echo HTTP/1.1\r\nContent-Length: %u",
			       MAX_BODY + 1));
	test_http_exchange(&f->peer, true, head, NULL, 0, &r);
	assert_error_body(&r, 413, "too_large");
	assert_security_headers(&r, true);
	test_http_response_free(&r);

	/* Chunked, over the limit: 413 once the body passes it. */
	test_http_client_t c;
	test_http_client_open(&c, &f->peer, false);
	const char *h = "POST /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
			"Transfer-Encoding: chunked\r\n\r\n";
	test_http_client_write(&c, h, strlen(h));
	for (int i = 0; i < 4; i++) {
		char size_line[32];
		assert_true(str_format(size_line, sizeof(size_line), "%x\r\n", MAX_BODY / 2));
		test_http_client_write(&c, size_line, strlen(size_line));
		test_http_client_write(&c, body, MAX_BODY / 2);
		test_http_client_write(&c, "\r\n", 2);
	}
	test_http_client_write(&c, "0\r\n\r\n", 5);
	test_http_client_read_response(&c, &r);
	test_http_client_close(&c);
	assert_error_body(&r, 413, "too_large");
	assert_security_headers(&r, false);
	test_http_response_free(&r);
	free(body);
}

static void test_streamed_upload_is_chunked_and_bounded(void **state)
{
	fixture_t *f = *state;
	test_http_client_t c;
	test_http_client_open(&c, &f->peer, true);
	char head[256];
	assert_true(str_format(head, sizeof(head),
			       "POST /upload HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
			       "Content-Length: %u\r\n\r\n",
			       UPLOAD_BYTES));
	test_http_client_write(&c, head, strlen(head));
	char *block = calloc(1, 65536);
	assert_non_null(block);
	for (size_t sent = 0; sent < UPLOAD_BYTES; sent += 65536)
		test_http_client_write(&c, block, 65536);
	free(block);
	test_http_response_t r;
	test_http_client_read_response(&c, &r);
	test_http_client_close(&c);
	assert_int_equal(r.status, 201);
	json_t *j = response_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "bytes")), UPLOAD_BYTES);
	/* Many chunks, each at most the connection buffer: memory stays bounded. */
	assert_true(json_integer_value(json_object_get(j, "chunks")) > 100);
	assert_true(json_integer_value(json_object_get(j, "max_chunk")) <= 64 * 1024);
	json_decref(j);
	test_http_response_free(&r);

	/* The body callback may refuse on the headers alone. */
	test_http_exchange(&f->peer, false,
			   "POST /upload HTTP/1.1\r\nX-Test-Refuse: 1\r\nContent-Length: 5000000",
			   NULL, 0, &r);
	assert_error_body(&r, 403, "forbidden");
	test_http_response_free(&r);
}

static void test_handler_without_answer_gets_500(void **state)
{
	fixture_t *f = *state;
	test_http_response_t r;
	test_http_exchange(&f->peer, false, "PATCH /silent HTTP/1.1\r\nContent-Length: 0", NULL, 0,
			   &r);
	assert_error_body(&r, 500, "internal");
	assert_security_headers(&r, false);
	test_http_response_free(&r);
}

static void test_waiting_handlers_do_not_hold_up_other_connections(void **state)
{
	fixture_t *f = *state;
	/* A burst of connections, as a print load generator opens them, half TLS. */
	test_http_client_t c[GATE_CLIENTS];
	for (size_t i = 0; i < GATE_CLIENTS; i++)
		test_http_client_open(&c[i], &f->peer, i % 2 == 0);
	const char *h = "GET /gate HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	for (size_t i = 0; i < GATE_CLIENTS; i++)
		test_http_client_write(&c[i], h, strlen(h));
	/* Every handler waits for all the others: each answers only if all run at once. */
	for (size_t i = 0; i < GATE_CLIENTS; i++) {
		test_http_response_t r;
		test_http_client_read_response(&c[i], &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "together\n");
		test_http_response_free(&r);
	}
	for (size_t i = 0; i < GATE_CLIENTS; i++)
		test_http_client_close(&c[i]);
}

static void *slow_client(void *arg)
{
	fixture_t *f = arg;
	test_http_response_t *r = calloc(1, sizeof(*r));
	test_http_exchange(&f->peer, false, "GET /slow HTTP/1.1", NULL, 0, r);
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
	assert_int_equal(test_http_tcp_connect(f->peer.http_port), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(test_http_tcp_connect(f->peer.https_port), -1);
	assert_int_equal(errno, ECONNREFUSED);

	pthread_mutex_lock(&f->lock);
	f->slow_release = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	test_http_response_t *r = NULL;
	assert_int_equal(pthread_join(t, (void **)&r), 0);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "finished\n");
	test_http_response_free(r);
	free(r);
}

static void test_event_stream_sleeps_until_woken(void **state)
{
	fixture_t *f = *state;
	test_http_client_t c;
	test_http_client_open(&c, &f->peer, true);
	const char *h = "GET /events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	test_http_client_write(&c, h, strlen(h));
	/* The producer has nothing yet: the connection sleeps. */
	pthread_mutex_lock(&f->lock);
	while (!f->stream_waiting)
		pthread_cond_wait(&f->cond, &f->lock);
	f->stream_has_data = true;
	pp_http_stream_t *stream = f->stream;
	pthread_mutex_unlock(&f->lock);
	assert_non_null(stream);
	http_stream_wake(stream);

	test_http_response_t r;
	test_http_client_read_response(&c, &r);
	test_http_client_close(&c);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r, true);
	assert_string_equal(r.body, "data: job 7 held\n\n");
	test_http_response_free(&r);
	/* Waking a finished stream is harmless. */
	http_stream_wake(stream);
}

static void test_quiesce_ends_waiting_streams(void **state)
{
	fixture_t *f = *state;
	test_http_client_t c;
	test_http_client_open(&c, &f->peer, false);
	const char *h = "GET /events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	test_http_client_write(&c, h, strlen(h));
	pthread_mutex_lock(&f->lock);
	while (!f->stream_waiting)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	/* A graceful stop must not wait forever on an idle event stream: it is ended. */
	http_server_quiesce(f->server);
	test_http_response_t r;
	test_http_client_read_response(&c, &r);
	test_http_client_close(&c);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	test_http_response_free(&r);
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
	test_http_peer_t peer = { .http_port = http_server_http_port(server) };
	test_http_response_t r;
	test_http_exchange(&peer, false, "GET /hello HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	json_t *j = response_json(&r);
	/* Over a dual-stack socket an IPv4 client still reads as IPv4. */
	assert_string_equal(json_string_value(json_object_get(j, "remote")), "127.0.0.1");
	json_decref(j);
	test_http_response_free(&r);
	/* HEAD is answered by the GET route, without a body. */
	test_http_exchange(&peer, false, "HEAD /hello HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	assert_security_headers(&r, false);
	test_http_response_free(&r);
	http_server_free(&server);
	assert_null(server);
	http_server_free(&server);
}

/* A client past max_connections_per_ip is cut off; each held connection has its own thread. */
static void test_per_address_limit(void **state)
{
	(void)state;
	char error[512];
	pp_http_config_t cfg = { 0 };
	cfg.http_any_port = true;
	cfg.max_connections_per_ip = 2;
	pp_http_server_t *server = NULL;
	assert_int_equal(http_server_new(&cfg, &server, error, sizeof(error)), 0);
	assert_int_equal(http_route(server, "GET", "/hello", 0, handle_hello, NULL, NULL, error,
				    sizeof(error)),
			 0);
	if (http_server_start(server, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	test_http_peer_t peer = { .http_port = http_server_http_port(server) };
	/* Two idle connections from 127.0.0.1 use up its share. */
	test_http_client_t held[2];
	for (size_t i = 0; i < 2; i++)
		test_http_client_open(&held[i], &peer, false);
	/* The third is accepted by the kernel, then closed by the listener unanswered. */
	test_http_response_t r;
	test_http_client_t extra;
	test_http_client_open(&extra, &peer, false);
	const char *h = "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	(void)send(extra.fd, h, strlen(h), MSG_NOSIGNAL); /* may fail: already closed */
	size_t got = 0;
	char buf[256];
	ssize_t n;
	while ((n = recv(extra.fd, buf, sizeof(buf), 0)) > 0)
		got += (size_t)n;
	assert_int_equal(got, 0);
	test_http_client_close(&extra);
	/* The held connections are served. */
	for (size_t i = 0; i < 2; i++) {
		test_http_client_write(&held[i], h, strlen(h));
		test_http_client_read_response(&held[i], &r);
		assert_int_equal(r.status, 200);
		test_http_response_free(&r);
		test_http_client_close(&held[i]);
	}
	http_server_free(&server);
}

/* ---- parsers (no server) ---- */

/* Paths as logged: a token segment (a personal printer address) never reaches the log. */
static void test_path_for_log(void **state)
{
	(void)state;
	static const struct {
		const char *path, *logged;
	} rows[] = {
		{"/ipp/print", "/ipp/print"},
		{"/ipp/print/u/ppp_0123456789abcdef", "/ipp/print/u/<token>"},
		{"/api/tokens/ppa_x/renew", "/api/tokens/<token>/renew"},
		{"/ppp_", "/ppp_"}, /* a bare prefix is no token */
		{"/", "/"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[HTTP_LOG_PATH_MAX];
		http_path_for_log(rows[i].path, out, sizeof(out));
		assert_string_equal(out, rows[i].logged);
	}
	char small[8];
	http_path_for_log("/ipp/print/u/ppp_abc", small, sizeof(small));
	assert_string_equal(small, "/ipp/pr");
}

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


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_normaliser_table),
		cmocka_unit_test(test_path_for_log),
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
		cmocka_unit_test_setup_teardown(
			test_waiting_handlers_do_not_hold_up_other_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiesce_finishes_in_flight_and_refuses_new,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_stream_sleeps_until_woken, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_quiesce_ends_waiting_streams, setup, teardown),
		cmocka_unit_test(test_every_address_listener_and_head),
		cmocka_unit_test(test_per_address_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
