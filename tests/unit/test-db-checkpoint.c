/*
 * test-db-checkpoint.c - the SQLite log stays bounded under a stream of commits because a
 * background checkpoint copies it into the database file (db-sqlite-checkpoint.c), nothing
 * committed is lost across a close and reopen, and concurrent writers and readers see every
 * row.
 */
#include "test-sqlite-file.h"

#include "db/db-sqlite-checkpoint.h"
#include "db/db.h"
#include "lib/str.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TEST_COMMITS 3000
#define TEST_ROW_BYTES 3000  /* about one log page per commit */
#define TEST_WRITERS 4
#define TEST_BIG_ROWS 10
#define TEST_BIG_BYTES (40 * 1024) /* about eleven log pages per update */
#define TEST_LOG_FRAME_BYTES (4096 + 24)

typedef struct {
	test_sqlite_file_t file;
	pp_db_t *db;
} fixture_t;

static int setup(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_sqlite_file_make(&fx->file);
	char error[DB_ERROR_MAX] = "";
	if (db_open(fx->file.url, &fx->db, error, sizeof(error)) != DB_OK)
		fail_msg("db_open: %s", error);
	if (db_exec(fx->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, who INTEGER, body BLOB)",
		    NULL, 0, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("create: %s", error);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *fx = *state;
	db_close(&fx->db);
	test_sqlite_file_remove(&fx->file);
	free(fx);
	return 0;
}

typedef struct {
	pp_db_t *db;
	int who;
	int commits;
	int failures;
} writer_t;

static void *writer_run(void *arg)
{
	writer_t *w = arg;
	uint8_t body[TEST_ROW_BYTES];
	memset(body, 'a' + w->who, sizeof(body));
	for (int i = 0; i < w->commits; i++) {
		char error[DB_ERROR_MAX];
		pp_db_value_t params[] = {DB_INT(w->who), DB_BLOB(body, sizeof(body))};
		if (db_exec(w->db, "INSERT INTO t (who, body) VALUES ($1, $2)", params, 2, NULL,
			    error, sizeof(error)) != DB_OK)
			w->failures++;
	}
	return NULL;
}

/*
 * Thousands of updates of the same few rows: without checkpoints the log would hold every
 * page written (three times the threshold); with them it starts again from the beginning
 * and stays near the threshold, while the database file keeps its few rows.
 */
static void test_log_stays_bounded(void **state)
{
	fixture_t *fx = *state;
	static uint8_t body[TEST_BIG_BYTES];
	char error[DB_ERROR_MAX] = "";
	for (int i = 0; i < TEST_BIG_ROWS; i++) {
		pp_db_value_t params[] = {DB_INT(i), DB_BLOB(body, sizeof(body))};
		assert_int_equal(db_exec(fx->db, "INSERT INTO t (who, body) VALUES ($1, $2)", params,
					 2, NULL, error, sizeof(error)),
				 DB_OK);
	}
	int commits = 3 * DB_SQLITE_CKPT_FRAMES / 11;
	for (int i = 0; i < commits; i++) {
		memset(body, 'a' + i % 26, sizeof(body));
		pp_db_value_t params[] = {DB_INT(i % TEST_BIG_ROWS), DB_BLOB(body, sizeof(body))};
		if (db_exec(fx->db, "UPDATE t SET body = $2 WHERE who = $1", params, 2, NULL, error,
			    sizeof(error)) != DB_OK)
			fail_msg("update %d: %s", i, error);
	}
	/* The writer goes on while the thread copies, so the log may pass the threshold by up
	 * to as much again before it starts over; without checkpoints it would hold all 3x. */
	off_t most = (off_t)5 * DB_SQLITE_CKPT_FRAMES / 2 * TEST_LOG_FRAME_BYTES;
	if (test_sqlite_wal_bytes(&fx->file) > most)
		fail_msg("the log is %lld bytes after %d updates: not checkpointed",
			 (long long)test_sqlite_wal_bytes(&fx->file), commits);

	/* Everything is there after a close (which joins the thread) and a reopen. */
	db_close(&fx->db);
	assert_int_equal(db_open(fx->file.url, &fx->db, error, sizeof(error)), DB_OK);
	assert_int_equal(test_sqlite_count_rows(fx->db), TEST_BIG_ROWS);
	pp_db_result_t *res = NULL;
	pp_db_value_t last[] = {DB_INT((commits - 1) % TEST_BIG_ROWS)};
	assert_int_equal(db_query(fx->db, "SELECT body FROM t WHERE who = $1", last, 1, &res, error,
				  sizeof(error)),
			 DB_OK);
	size_t len = 0;
	const uint8_t *got = db_result_blob(res, 0, 0, &len);
	assert_int_equal(len, TEST_BIG_BYTES);
	assert_int_equal(got[0], 'a' + (commits - 1) % 26);
	db_result_free(&res);
}

/* Writers on threads share the handle while checkpoints run: every row arrives. */
static void test_concurrent_writers(void **state)
{
	fixture_t *fx = *state;
	pthread_t threads[TEST_WRITERS];
	writer_t writers[TEST_WRITERS];
	for (int i = 0; i < TEST_WRITERS; i++) {
		writers[i] = (writer_t){.db = fx->db, .who = i, .commits = TEST_COMMITS / 4};
		assert_int_equal(pthread_create(&threads[i], NULL, writer_run, &writers[i]), 0);
	}
	for (int i = 0; i < TEST_WRITERS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(writers[i].failures, 0);
	}
	assert_int_equal(test_sqlite_count_rows(fx->db), TEST_WRITERS * (TEST_COMMITS / 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_log_stays_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
