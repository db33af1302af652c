/* test-config.c - the INI start-up configuration: defaults, values, and errors an admin reads. */
#include "test-support.h"

#include "lib/config.h"
#include "lib/str.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *conf_dir;

static int setup(void **state)
{
	(void)state;
	conf_dir = test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_rmtree(conf_dir);
	free(conf_dir);
	return 0;
}

/* Writes text to a new file in the test's temp dir; returns the file's path (new; free()). */
static char *write_conf(const char *text)
{
	static unsigned serial;
	char path[4096];
	assert_true(str_format(path, sizeof(path), "%s/pullprint-%u.conf", conf_dir, serial++));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return strdup(path);
}

static void test_defaults_start_a_server(void **state)
{
	(void)state;
	pp_config_t cfg;
	config_init(&cfg);
	assert_string_equal(cfg.state_dir, "/var/lib/pullprint");
	assert_int_equal(cfg.https_port, 8631);
	assert_int_equal(cfg.http_port, 0);
	assert_true(cfg.spool_encrypt);
	assert_int_equal(cfg.max_document_bytes, 1024ULL * 1024 * 1024);
	assert_true(cfg.sqlite_preallocate_log);
	char error[512];
	assert_int_equal(config_finalize(&cfg, error, sizeof(error)), 0);
	assert_string_equal(cfg.database, "sqlite:/var/lib/pullprint/pullprint.db");
	assert_string_equal(cfg.key_file, "/var/lib/pullprint/keys/master.key");
	assert_string_equal(cfg.spool_dir, "/var/lib/pullprint/spool");
}

static void test_values_are_read(void **state)
{
	(void)state;
	char *path = write_conf("; comment\n"
				"[server]\n"
				"state_dir = /srv/pp/\n"
				"database = postgresql://pp@db.example/pp\n"
				"log_level = debug\n"
				"[http]\n"
				"https_port = 9443\n"
				"http_port = 8080\n"
				"[spool]\n"
				"encrypt = no\n"
				"max_document_bytes = 200M\n");
	pp_config_t cfg;
	config_init(&cfg);
	char error[512] = "";
	assert_int_equal(config_load(&cfg, path, false, error, sizeof(error)), 0);
	assert_int_equal(config_finalize(&cfg, error, sizeof(error)), 0);
	assert_string_equal(cfg.state_dir, "/srv/pp");
	assert_string_equal(cfg.database, "postgresql://pp@db.example/pp");
	assert_int_equal(cfg.log_level, PP_LOG_DEBUG);
	assert_int_equal(cfg.https_port, 9443);
	assert_int_equal(cfg.http_port, 8080);
	assert_false(cfg.spool_encrypt);
	assert_int_equal(cfg.max_document_bytes, 200ULL * 1024 * 1024);
	assert_string_equal(cfg.path, path);
	free(path);
}

typedef struct {
	const char *text;
	const char *expected_error; /* substring after "FILE:" */
} bad_case_t;

static const bad_case_t bad_cases[] = {
	{"[server]\nstate_dir = /x\nlog_level = loud\n", ":3: [server] log_level: not one of"},
	{"[http]\nhttps_port = 70000\n", ":2: [http] https_port: not a whole number"},
	{"[http]\nhttps_port = -1\n", ":2: [http] https_port: not a whole number"},
	{"[http]\nhttp_port = 12abc\n", ":2: [http] http_port: not a whole number"},
	{"[http]\nthreads = 0\n", ":2: [http] threads: not a whole number in the allowed range"},
	{"[spool]\nencrypt = maybe\n", ":2: [spool] encrypt: not yes or no"},
	{"[spool]\nmax_document_bytes = 10T\n", ":2: [spool] max_document_bytes: not a size"},
	{"[spool]\n\nmax_document_bytes = 1\n", ":3: [spool] max_document_bytes: not a size"},
	{"[server]\nstate_dri = /x\n", ":2: [server] state_dri: unknown setting"},
	{"[srever]\nstate_dir = /x\n", ":2: [srever] state_dir: unknown setting"},
	{"[server]\nthis line has no equals sign\n", ":2: syntax error"},
};

static void test_bad_files_name_line_and_setting(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char *path = write_conf(bad_cases[i].text);
		pp_config_t cfg;
		config_init(&cfg);
		char error[512] = "";
		int rc = config_load(&cfg, path, false, error, sizeof(error));
		if (rc == 0 || strstr(error, path) != error ||
		    strstr(error, bad_cases[i].expected_error) == NULL)
			fail_msg("row %zu: rc=%d error=\"%s\"", i, rc, error);
		free(path);
	}
}

static void test_missing_file(void **state)
{
	(void)state;
	pp_config_t cfg;
	config_init(&cfg);
	char error[512] = "";
	assert_int_equal(config_load(&cfg, "/nonexistent/pp.conf", true, error, sizeof(error)), 0);
	assert_int_equal(config_load(&cfg, "/nonexistent/pp.conf", false, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "/nonexistent/pp.conf: cannot open"));
}

static void test_finalize_checks_combinations(void **state)
{
	(void)state;
	char error[512];
	pp_config_t cfg;

	config_init(&cfg);
	assert_true(str_copy(cfg.tls_certificate, sizeof(cfg.tls_certificate), "/etc/c.pem"));
	assert_int_equal(config_finalize(&cfg, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "tls_certificate and tls_key"));

	config_init(&cfg);
	cfg.http_port = cfg.https_port;
	assert_int_equal(config_finalize(&cfg, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "must differ"));

	config_init(&cfg);
	assert_true(str_copy(cfg.database, sizeof(cfg.database), "mysql://x"));
	assert_int_equal(config_finalize(&cfg, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "[server] database"));

	config_init(&cfg);
	assert_true(str_copy(cfg.state_dir, sizeof(cfg.state_dir), "relative/dir"));
	assert_int_equal(config_finalize(&cfg, error, sizeof(error)), 0);
	assert_true(cfg.state_dir[0] == '/');
	assert_non_null(strstr(cfg.state_dir, "/relative/dir"));
}

static void test_dump_hides_database_password(void **state)
{
	(void)state;
	pp_config_t cfg;
	config_init(&cfg);
	assert_true(str_copy(cfg.database, sizeof(cfg.database),
			     "postgresql://pp:s3cretPW@db/pp"));
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	config_dump(&cfg, out);
	assert_int_equal(fclose(out), 0);
	assert_null(strstr(buf, "s3cretPW"));
	assert_non_null(strstr(buf, "[spool]\n"));
	assert_non_null(strstr(buf, "https_port = 8631\n"));
	free(buf);
}

/* [delivery] retry_delays: what an admin may write, and what the server then waits. */
typedef struct {
	const char *value;
	size_t count; /* SIZE_MAX: refused */
	unsigned ms[4];
} delays_case_t;

static const delays_case_t delays_cases[] = {
	{"5s,15s,45s", 3, {5000, 15000, 45000}},
	{"200ms, 200ms", 2, {200, 200}},
	{"1m", 1, {60000}},
	{"none", 0, {0}},
	{"60m", 1, {3600000}},
	{"1s,1s,1s,1s,1s,1s,1s,1s", 8, {1000, 1000, 1000, 1000}},
	{"1s,1s,1s,1s,1s,1s,1s,1s,1s", SIZE_MAX, {0}}, /* more than 8 */
	{"5", SIZE_MAX, {0}},                        /* no unit */
	{"5h", SIZE_MAX, {0}},
	{"0s", SIZE_MAX, {0}},
	{"61m", SIZE_MAX, {0}},
	{"5s,,15s", SIZE_MAX, {0}},
	{"5s,", SIZE_MAX, {0}},
	{"-5s", SIZE_MAX, {0}},
	{"", SIZE_MAX, {0}},
};

static void test_delivery_retry_delays(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(delays_cases) / sizeof(delays_cases[0]); i++) {
		const delays_case_t *c = &delays_cases[i];
		char text[256];
		assert_true(str_format(text, sizeof(text), "[delivery]\nretry_delays = %s\n",
				       c->value));
		char *path = write_conf(text);
		pp_config_t cfg;
		config_init(&cfg);
		char error[512] = "";
		int rc = config_load(&cfg, path, false, error, sizeof(error));
		free(path);
		if (c->count == SIZE_MAX) {
			if (rc == 0 || strstr(error, ":2: [delivery] retry_delays: not a list of "
						     "pauses") == NULL)
				fail_msg("row %zu \"%s\": rc=%d error=\"%s\"", i, c->value, rc,
					 error);
			continue;
		}
		if (rc != 0 || cfg.delivery_retry_delays.count != c->count)
			fail_msg("row %zu \"%s\": rc=%d count=%zu error=\"%s\"", i, c->value, rc,
				 cfg.delivery_retry_delays.count, error);
		for (size_t d = 0; d < c->count && d < 4; d++)
			assert_int_equal(cfg.delivery_retry_delays.ms[d], c->ms[d]);
	}
}

static void test_delivery_defaults_and_limits(void **state)
{
	(void)state;
	pp_config_t cfg;
	config_init(&cfg);
	assert_int_equal(cfg.delivery_retry_delays.count, 3);
	assert_int_equal(cfg.delivery_retry_delays.ms[0], 5000);
	assert_int_equal(cfg.delivery_retry_delays.ms[2], 45000);
	assert_int_equal(cfg.delivery_connect_timeout_s, 10);
	assert_int_equal(cfg.delivery_write_timeout_s, 60);
	assert_int_equal(cfg.delivery_follow_timeout_s, 600);
	assert_int_equal(cfg.delivery_threads, 32);

	char *path = write_conf("[delivery]\nconnect_timeout_s = 3\nwrite_timeout_s = 5\n"
				"follow_timeout_s = 30\nthreads = 4\nretry_delays = none\n");
	char error[512] = "";
	assert_int_equal(config_load(&cfg, path, false, error, sizeof(error)), 0);
	free(path);
	assert_int_equal(cfg.delivery_connect_timeout_s, 3);
	assert_int_equal(cfg.delivery_write_timeout_s, 5);
	assert_int_equal(cfg.delivery_follow_timeout_s, 30);
	assert_int_equal(cfg.delivery_threads, 4);
	assert_int_equal(cfg.delivery_retry_delays.count, 0);

	static const char *const bad[] = {
		"[delivery]\nconnect_timeout_s = 0\n", "[delivery]\nwrite_timeout_s = 3601\n",
		"[delivery]\nthreads = 257\n", "[delivery]\nfollow_timeout_s = 1m\n",
		"[delivery]\nretries = 3\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = write_conf(bad[i]);
		config_init(&cfg);
		int rc = config_load(&cfg, path, false, error, sizeof(error));
		free(path);
		if (rc == 0 || strstr(error, ":2: [delivery] ") == NULL)
			fail_msg("bad row %zu: rc=%d error=\"%s\"", i, rc, error);
	}
}

static void test_delivery_dump_reads_back(void **state)
{
	(void)state;
	pp_config_t cfg;
	config_init(&cfg);
	cfg.delivery_retry_delays = (pp_config_delays_t){.ms = {200, 2000, 120000}, .count = 3};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	config_dump(&cfg, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(buf, "[delivery]\nretry_delays = 200ms,2s,120s\n"));
	/* The dump is a valid file giving the same values. */
	char *path = write_conf(buf);
	free(buf);
	pp_config_t again;
	config_init(&again);
	char error[512] = "";
	assert_int_equal(config_load(&again, path, false, error, sizeof(error)), 0);
	free(path);
	assert_int_equal(again.delivery_retry_delays.count, 3);
	assert_int_equal(again.delivery_retry_delays.ms[2], 120000);

	cfg.delivery_retry_delays.count = 0;
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	config_dump(&cfg, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(buf, "retry_delays = none\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_start_a_server),
		cmocka_unit_test(test_values_are_read),
		cmocka_unit_test(test_bad_files_name_line_and_setting),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_finalize_checks_combinations),
		cmocka_unit_test(test_dump_hides_database_password),
		cmocka_unit_test(test_delivery_retry_delays),
		cmocka_unit_test(test_delivery_defaults_and_limits),
		cmocka_unit_test(test_delivery_dump_reads_back),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
