/*
 * test-metrics.c - the metrics registry and its Prometheus text: names, help and label
 * escaping, counters, gauges, summaries and collectors as a scraper reads them, and the
 * request counts a running listener (127.0.0.1, a fresh self-signed certificate) adds to
 * them and serves on /metrics. The HTTP client is in test-http-support.c.
 */
#include "test-http-support.h"

#include "http/http.h"
#include "http/metrics.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
	char *dir;
	pp_tls_cert_info_t cert;
	pp_metrics_t *metrics;
	pp_http_server_t *server;
	test_http_peer_t peer; /* where the server listens */
} fixture_t;

/* ---- routes of the test server ---- */

static void handle_hello(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	(void)http_respond_json(req, 200, json_pack("{s:s}", "hello", "world"));
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

/* ---- fixture: a listener that counts into f->metrics and serves them ---- */

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = test_tmpdir();
	test_http_cert_make(f->dir, &f->cert);
	f->metrics = metrics_new();
	assert_non_null(f->metrics);
	pp_http_config_t cfg;
	test_http_config_loopback(&cfg, &f->cert);
	cfg.metrics = f->metrics;
	char error[1024];
	if (http_server_new(&cfg, &f->server, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	if (http_route(f->server, "GET", "/hello", 0, handle_hello, NULL, f, error,
		       sizeof(error)) != 0 ||
	    http_route(f->server, "GET", "/metrics", 0, handle_metrics, NULL, f, error,
		       sizeof(error)) != 0)
		fail_msg("%s", error);
	test_http_start(f->server, &f->cert, &f->peer);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	http_server_free(&f->server);
	assert_null(f->server);
	metrics_free(&f->metrics);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- tests ---- */

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

/* Renders the metrics until needle shows up (completion is counted just after the answer). */
static void wait_for_metric(const fixture_t *f, const char *needle)
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
	test_http_response_t r;
	for (int i = 0; i < 3; i++) {
		test_http_exchange(&f->peer, false, "GET /hello HTTP/1.1", NULL, 0, &r);
		test_http_response_free(&r);
	}
	test_http_exchange(&f->peer, false, "GET /missing HTTP/1.1", NULL, 0, &r);
	test_http_response_free(&r);
	wait_for_metric(f, "pullprint_http_requests_total{method=\"GET\",code=\"2xx\"} 3\n");
	wait_for_metric(f, "pullprint_http_requests_total{method=\"GET\",code=\"4xx\"} 1\n");
	wait_for_metric(f, "pullprint_http_request_duration_seconds_count 4\n");

	test_http_exchange(&f->peer, true, "GET /metrics HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "# TYPE pullprint_http_requests_total counter\n"));
	assert_non_null(strstr(r.body, "# HELP pullprint_http_requests_total "));
	assert_non_null(strstr(r.body, "# TYPE pullprint_http_request_duration_seconds summary\n"));
	char ct[128];
	assert_true(test_http_response_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, METRICS_CONTENT_TYPE);
	test_http_response_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_text_format),
		cmocka_unit_test_setup_teardown(test_metrics_count_requests, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
