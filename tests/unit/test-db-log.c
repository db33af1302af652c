/*
 * test-db-log.c - the SQLite log file made ready at its working size (db_prepare_log(),
 * db-sqlite-log.c): commits then stop growing the file, the file is kept across a close, and
 * nothing committed is lost, by a close, a crash, or a writer busy while the zeros go in.
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
#include <sys/wait.h>
#include <unistd.h>

#define TEST_ROW_BYTES 3000 /* about one log page per commit */
/* Twice the checkpointer's threshold of 4 KiB frames: what db_prepare_log() makes. */
#define TEST_WORKING_BYTES ((off_t)2 * DB_SQLITE_CKPT_FRAMES * (4096 + 24))

typedef test_sqlite_file_t fixture_t;

static int setup(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	test_sqlite_file_make(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *fx = *state;
	test_sqlite_file_remove(fx);
	free(fx);
	return 0;
}

static pp_db_t *open_db(const fixture_t *fx)
{
	pp_db_t *db = NULL;
	char error[DB_ERROR_MAX] = "";
	if (db_open(fx->url, &db, error, sizeof(error)) != DB_OK)
		fail_msg("db_open: %s", error);
	if (db_exec(db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)", NULL,
	            0, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("create: %s", error);
	return db;
}

/* Inserts count rows, one commit each; false on a failure (usable in a child or thread). */
static bool insert_rows(pp_db_t *db, int count)
{
	static const uint8_t body[TEST_ROW_BYTES] = {1};
	char error[DB_ERROR_MAX];
	for (int i = 0; i < count; i++) {
		const pp_db_value_t p[] = {DB_BLOB(body, sizeof(body))};
		if (db_exec(db, "INSERT INTO t (body) VALUES ($1)", p, 1, NULL, error,
		            sizeof(error)) != DB_OK)
			return false;
	}
	return true;
}

static void assert_intact(pp_db_t *db)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX] = "";
	if (db_query(db, "PRAGMA integrity_check", NULL, 0, &res, error, sizeof(error)) != DB_OK)
		fail_msg("integrity_check: %s", error);
	assert_string_equal(db_result_text(res, 0, 0), "ok");
	db_result_free(&res);
}

/* Made once at its working size; commits fill it without growing it; kept over a close. */
static void test_log_ready_and_kept(void **state)
{
	fixture_t *fx = *state;
	char error[DB_ERROR_MAX] = "";
	pp_db_t *db = open_db(fx);
	assert_true(insert_rows(db, 100));
	uint64_t grown = 0;
	if (db_prepare_log(db, &grown, error, sizeof(error)) != DB_OK)
		fail_msg("db_prepare_log: %s", error);
	off_t ready = test_sqlite_wal_bytes(fx);
	assert_true(ready >= TEST_WORKING_BYTES);
	assert_true(grown > 0);

	/* About 4,000 log frames: well inside the file made ready. */
	assert_true(insert_rows(db, 4000));
	assert_int_equal(test_sqlite_wal_bytes(fx), ready);
	assert_int_equal(test_sqlite_count_rows(db), 4100);
	db_close(&db);

	assert_int_equal(test_sqlite_wal_bytes(fx), ready);
	db = open_db(fx);
	assert_int_equal(test_sqlite_count_rows(db), 4100);
	assert_intact(db);
	assert_int_equal(db_prepare_log(db, &grown, error, sizeof(error)), DB_OK);
	assert_int_equal(grown, 0);
	assert_true(insert_rows(db, 10));
	assert_int_equal(test_sqlite_count_rows(db), 4110);
	db_close(&db);
}

/* A process killed after the zeros went in loses none of its commits, before or after. */
static void test_crash_after_ready_loses_nothing(void **state)
{
	fixture_t *fx = *state;
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pp_db_t *db = NULL;
		char error[DB_ERROR_MAX];
		if (db_open(fx->url, &db, error, sizeof(error)) != DB_OK ||
		    db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)", NULL, 0, NULL,
		            error, sizeof(error)) != DB_OK ||
		    !insert_rows(db, 50) || db_prepare_log(db, NULL, error, sizeof(error)) != DB_OK ||
		    !insert_rows(db, 50))
			_exit(2);
		_exit(0); /* no close: the log is left as a crash leaves it */
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(test_sqlite_wal_bytes(fx) >= TEST_WORKING_BYTES);
	pp_db_t *db = open_db(fx);
	assert_int_equal(test_sqlite_count_rows(db), 100);
	assert_intact(db);
	db_close(&db);
}

typedef struct {
	pp_db_t *db;
	int rows;
	bool is_ok;
} writer_t;

static void *writer_main(void *arg)
{
	writer_t *w = arg;
	w->is_ok = insert_rows(w->db, w->rows);
	return NULL;
}

/* Another connection committing while the log is made ready: every row is there after. */
static void test_writer_during_ready(void **state)
{
	fixture_t *fx = *state;
	char error[DB_ERROR_MAX] = "";
	pp_db_t *db = open_db(fx);
	writer_t w = {.db = open_db(fx), .rows = 2000};
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, writer_main, &w), 0);
	if (db_prepare_log(db, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("db_prepare_log: %s", error);
	assert_true(insert_rows(db, 500));
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_true(w.is_ok);
	db_close(&w.db);
	db_close(&db);
	db = open_db(fx);
	assert_int_equal(test_sqlite_count_rows(db), 2500);
	assert_intact(db);
	db_close(&db);
}

/* Inside a transaction the log is not touched: an error says so, the transaction goes on. */
static void test_refused_inside_transaction(void **state)
{
	fixture_t *fx = *state;
	char error[DB_ERROR_MAX] = "";
	pp_db_t *db = open_db(fx);
	assert_int_equal(db_tx_begin(db, error, sizeof(error)), DB_OK);
	assert_int_equal(db_prepare_log(db, NULL, error, sizeof(error)), DB_ERROR);
	assert_non_null(strstr(error, "transaction"));
	assert_true(insert_rows(db, 1));
	assert_int_equal(db_tx_commit(db, error, sizeof(error)), DB_OK);
	assert_int_equal(test_sqlite_count_rows(db), 1);
	db_close(&db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_log_ready_and_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_after_ready_loses_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_during_ready, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_inside_transaction, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
