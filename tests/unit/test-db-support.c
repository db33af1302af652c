/* test-db-support.c - fresh, migrated databases for the unit tests; see test-db-support.h. */
#include "test-db-support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "lib/str.h"

char *test_db_pg_url(const char *dbname)
{
	const char *base = getenv("PP_TEST_PG_URL");
	if (base == NULL || base[0] == '\0')
		fail_msg(
		    "PP_TEST_PG_URL is not set: run the unit tests under scripts/with-postgres");
	const char *authority = strstr(base, "://");
	if (authority == NULL)
		fail_msg("PP_TEST_PG_URL is not a postgresql:// URL");
	authority += 3;
	/* postgresql://user@host:port[/db][?query]: keep everything but the db name. */
	size_t head_len = (size_t)(authority - base) + strcspn(authority, "/?");
	const char *query = strchr(authority, '?');
	size_t size = strlen(base) + strlen(dbname) + 2;
	char *url = malloc(size);
	assert_non_null(url);
	int n = snprintf(url, size, "%.*s/%s%s", (int)head_len, base, dbname,
	                 query != NULL ? query : "");
	assert_true(n > 0 && (size_t)n < size);
	return url;
}

/* Frees t and everything it holds; drops its PostgreSQL database. */
static void test_db_free(test_db_t *t)
{
	if (t == NULL)
		return;
	db_close(&t->db);
	if (t->admin != NULL && t->pg_name[0] != '\0') {
		char sql[128];
		char error[DB_ERROR_MAX];
		/* FORCE: a handle a failed test left open must not keep the database alive. */
		if (str_format(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		               t->pg_name) &&
		    db_exec(t->admin, sql, NULL, 0, NULL, error, sizeof(error)) != DB_OK)
			print_error("test-db: cannot drop %s: %s\n", t->pg_name, error);
	}
	db_close(&t->admin);
	if (t->dir != NULL) {
		test_rmtree(t->dir);
		free(t->dir);
	}
	free(t->url);
	free(t);
}

/* Opens t->url and migrates it. Returns 0, or -1 after printing why. */
static int test_db_open_migrated(test_db_t *t)
{
	char error[DB_ERROR_MAX];
	if (db_open(t->url, &t->db, error, sizeof(error)) != DB_OK) {
		print_error("test-db: cannot open the test database: %s\n", error);
		return -1;
	}
	if (db_migrate(t->db, error, sizeof(error)) != DB_OK) {
		print_error("test-db: cannot migrate the test database: %s\n", error);
		return -1;
	}
	return 0;
}

int test_db_setup_sqlite(void **state)
{
	test_db_t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->backend = PP_DB_SQLITE;
	t->dir = test_tmpdir();
	size_t size = strlen(t->dir) + 32;
	t->url = malloc(size);
	assert_non_null(t->url);
	assert_true(str_format(t->url, size, "sqlite:%s/pullprint.db", t->dir));
	if (test_db_open_migrated(t) != 0) {
		test_db_free(t);
		return -1;
	}
	*state = t;
	return 0;
}

int test_db_setup_postgres(void **state)
{
	const char *base = getenv("PP_TEST_PG_URL");
	if (base == NULL || base[0] == '\0') {
		print_error(
		    "test-db: PP_TEST_PG_URL is not set: run the unit tests under "
		    "scripts/with-postgres (e.g. scripts/with-postgres meson test -C build)\n");
		return -1;
	}
	assert_true(crypto_init());
	test_db_t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->backend = PP_DB_POSTGRES;
	t->dir = test_tmpdir();

	char error[DB_ERROR_MAX];
	if (db_open(base, &t->admin, error, sizeof(error)) != DB_OK) {
		print_error("test-db: cannot connect to PP_TEST_PG_URL: %s\n", error);
		test_db_free(t);
		return -1;
	}
	/* A database of its own per case: parallel tests never see each other's rows. */
	char id[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(id);
	assert_true(str_format(t->pg_name, sizeof(t->pg_name), "pp_test_%s", id));
	char sql[128];
	assert_true(str_format(sql, sizeof(sql), "CREATE DATABASE %s", t->pg_name));
	if (db_exec(t->admin, sql, NULL, 0, NULL, error, sizeof(error)) != DB_OK) {
		print_error("test-db: cannot create %s: %s\n", t->pg_name, error);
		t->pg_name[0] = '\0';
		test_db_free(t);
		return -1;
	}
	t->url = test_db_pg_url(t->pg_name);
	if (test_db_open_migrated(t) != 0) {
		test_db_free(t);
		return -1;
	}
	*state = t;
	return 0;
}

int test_db_teardown(void **state)
{
	test_db_free(*state);
	*state = NULL;
	return 0;
}
