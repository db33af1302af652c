/*
 * test-db-support.h - database fixtures for the unit tests: a fresh, migrated database per
 * test case on each backend, so every storage test runs on SQLite and on PostgreSQL.
 *
 * Linked (by tests/unit/meson.build) only into the tests that depend on pp_db_dep or
 * pp_core_dep. PostgreSQL cases need PP_TEST_PG_URL, which scripts/with-postgres and
 * scripts/run-tests export; without it they fail rather than skip, so a missing backend is
 * never mistaken for a passing one.
 */
#ifndef PP_TEST_DB_SUPPORT_H
#define PP_TEST_DB_SUPPORT_H

#include "test-support.h"

#include "db/db.h"

typedef struct {
	pp_db_t *db; /* the fresh, migrated database */
	pp_db_backend_t backend;
	char *dir;  /* a private temporary directory (both backends); removed at teardown */
	char *url;  /* URL of the database, to open a second handle on it */
	void *user; /* free for the test's own use; not freed by teardown */
	/* PostgreSQL only: a connection to the server's maintenance database, and the name of
	   the database made for this case (dropped at teardown). */
	pp_db_t *admin;
	char pg_name[64];
} test_db_t;

/* cmocka setups: *state becomes a new test_db_t with a fresh, migrated database. */
int test_db_setup_sqlite(void **state);
int test_db_setup_postgres(void **state);
/* cmocka teardown for both: closes and deletes the database and the directory. */
int test_db_teardown(void **state);

/* One line per test function: runs fn as "fn/sqlite" and "fn/postgres". */
#define TEST_DB_CASE(fn)                                                                           \
	{.name = #fn "/sqlite",                                                                    \
	 .test_func = fn,                                                                          \
	 .setup_func = test_db_setup_sqlite,                                                       \
	 .teardown_func = test_db_teardown,                                                        \
	 .initial_state = NULL},                                                                   \
	{                                                                                          \
		.name = #fn "/postgres", .test_func = fn, .setup_func = test_db_setup_postgres,    \
		.teardown_func = test_db_teardown, .initial_state = NULL                           \
	}

/* The test_db_t of a case, from cmocka's state. */
#define TEST_DB(state) ((test_db_t *)*(state))

/*
 * The URL PP_TEST_PG_URL with its database name replaced by dbname. New; free() it. Fails
 * the test when the variable is unset or not a postgresql:// URL.
 */
char *test_db_pg_url(const char *dbname);

#endif
