/* test-config.c - the INI start-up configuration: defaults, values, and errors an admin reads. */
#include "test-support.h"

#include "lib/config.h"
#include "lib/str.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_start_a_server),
		cmocka_unit_test(test_values_are_read),
		cmocka_unit_test(test_bad_files_name_line_and_setting),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_finalize_checks_combinations),
		cmocka_unit_test(test_dump_hides_database_password),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
