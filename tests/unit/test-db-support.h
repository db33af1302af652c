/*
 * test-db-support.h - database fixtures for the unit tests: a fresh, migrated database per
 * test case on each backend, so every storage test runs on SQLite and on PostgreSQL; and on
 * top of it a pp_core_t with fixed keys and a movable clock (test_core_t), for the domain tests.
 *
 * Linked (by tests/unit/meson.build) only into the tests that depend on pp_db_dep or
 * pp_core_dep. PostgreSQL cases need PP_TEST_PG_URL, which scripts/with-postgres and
 * scripts/run-tests export; without it they fail rather than skip, so a missing backend is
 * never mistaken for a passing one.
 */
#ifndef PP_TEST_DB_SUPPORT_H
#define PP_TEST_DB_SUPPORT_H

#include "test-support.h"

#include "core/core.h"
#include "db/db.h"

#include <stdlib.h>
#include <string.h>

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

/*
 * A core over the case's database: the fixture of every domain test (users, codes, jobs, ...):
 * a pp_core_t with fixed keys and a clock the test moves by hand.
 *
 * Header-only (static inline) on purpose: test-db-support.c is also linked into test-db, which
 * links no pp_core, so a core_init() call in that file would not link there. Functions that
 * are inline and unused are never emitted, so test-db pays nothing for them.
 */

/* Where every fixture clock starts (2023-11-14, UTC), and the byte the master key repeats. */
#define TEST_CORE_T0 1700000000
#define TEST_CORE_KEY_BYTE 0x42

typedef struct {
	test_db_t *tdb;  /* the case's database; owned, torn down with the core */
	pp_core_t core;  /* over tdb->db, no spool, master key TEST_CORE_KEY_BYTE repeated */
	int64_t now;     /* what core's clock reads: set it, or move it with test_core_advance() */
} test_core_t;

/* The clock of every fixture core: reads the int64_t that clock_ctx points at. */
static inline int64_t test_core_clock(void *clock_ctx)
{
	return *(const int64_t *)clock_ctx;
}

/*
 * Fills core over db and spool (both borrowed; spool may be NULL) with a master key of
 * key_byte repeated, and gives it a clock that reads *now, which starts at TEST_CORE_T0.
 * For a second core in one case (another handle, another key) or a fixture that brings its
 * own spool. No cmocka asserts, so a forked child may call it too. Returns 0, or -1 when
 * libsodium cannot start or a sub-key cannot be derived. Release with core_deinit().
 */
static inline int test_core_init(pp_core_t *core, int64_t *now, pp_db_t *db,
                                 pp_spool_t *spool, uint8_t key_byte)
{
	uint8_t master[CRYPTO_KEY_BYTES];
	memset(master, key_byte, sizeof(master));
	if (!crypto_init() || core_init(core, db, spool, master) != 0)
		return -1;
	*now = TEST_CORE_T0;
	core->now = test_core_clock;
	core->clock_ctx = now;
	return 0;
}

/* Wraps the database fixture that db_setup made (or failed to make) into a test_core_t. */
static inline int test_core_setup(void **state, int (*db_setup)(void **state))
{
	void *db_state = NULL;
	if (db_setup(&db_state) != 0)
		return -1;
	test_core_t *tc = calloc(1, sizeof(*tc));
	assert_non_null(tc);
	tc->tdb = db_state;
	if (test_core_init(&tc->core, &tc->now, tc->tdb->db, NULL, TEST_CORE_KEY_BYTE) != 0) {
		print_error("test-core: cannot start a core on the test database\n");
		(void)test_db_teardown(&db_state);
		free(tc);
		return -1;
	}
	*state = tc;
	return 0;
}

/* cmocka setups: *state becomes a new test_core_t over a fresh, migrated database. */
static inline int test_core_setup_sqlite(void **state)
{
	return test_core_setup(state, test_db_setup_sqlite);
}

static inline int test_core_setup_postgres(void **state)
{
	return test_core_setup(state, test_db_setup_postgres);
}

/* cmocka teardown for both: wipes the core's keys, then drops the database. */
static inline int test_core_teardown(void **state)
{
	test_core_t *tc = *state;
	if (tc != NULL) {
		core_deinit(&tc->core);
		void *db_state = tc->tdb;
		(void)test_db_teardown(&db_state);
		free(tc);
	}
	*state = NULL;
	return 0;
}

/* Moves tc's clock by seconds (negative: back). */
static inline void test_core_advance(test_core_t *tc, int64_t seconds)
{
	tc->now += seconds;
}

/* Adds an enabled user with this address straight into db; returns its id (fails the test). */
static inline int64_t test_db_add_user(pp_db_t *db, const char *email)
{
	char error[DB_ERROR_MAX];
	const pp_db_value_t p[] = {DB_TEXT(email)};
	pp_db_result_t *res = NULL;
	if (db_query(db,
	             "INSERT INTO users (email, state, created_at, updated_at)"
	             " VALUES ($1, 'enabled', 1, 1) RETURNING id",
	             p, 1, &res, error, sizeof(error)) != DB_OK ||
	    db_result_rows(res) != 1)
		fail_msg("adding user %s: %s", email, error);
	int64_t id = db_result_int(res, 0, 0);
	db_result_free(&res);
	return id;
}

/* One line per test function: runs fn as "fn/sqlite" and "fn/postgres" on a test_core_t. */
#define TEST_CORE_CASE(fn)                                                                         \
	{.name = #fn "/sqlite",                                                                    \
	 .test_func = fn,                                                                          \
	 .setup_func = test_core_setup_sqlite,                                                     \
	 .teardown_func = test_core_teardown,                                                      \
	 .initial_state = NULL},                                                                   \
	{                                                                                          \
		.name = #fn "/postgres", .test_func = fn, .setup_func = test_core_setup_postgres,  \
		.teardown_func = test_core_teardown, .initial_state = NULL                         \
	}

/* The test_core_t of a case, from cmocka's state. */
#define TEST_CORE(state) ((test_core_t *)*(state))

#endif
