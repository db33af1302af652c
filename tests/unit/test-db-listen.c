/*
 * test-db-listen.c - waking other hosts with PostgreSQL LISTEN/NOTIFY. The PostgreSQL cases
 * need a server (scripts/with-postgres); on SQLite there is nobody to wake, which is checked
 * too.
 */
#include "test-db-support.h"

#include "core/convert-queue.h"
#include "db/db-listen.h"

#include <stdio.h>
#include <string.h>

#define WAIT_MS 10000 /* generous: a notification normally arrives in milliseconds */
#define RETRIES 30

/* Waits until a notification comes (or the retries run out). */
static bool test_wait_notified(pp_db_listener_t *listener)
{
	char error[DB_ERROR_MAX];
	for (int i = 0; i < RETRIES; i++) {
		bool notified = false;
		if (db_listener_wait(listener, WAIT_MS, &notified, error, sizeof(error)) == 0 &&
		    notified)
			return true;
	}
	return false;
}

/* Takes notifications until the channel stays quiet for a moment. */
static void test_drain(pp_db_listener_t *listener)
{
	char error[DB_ERROR_MAX];
	for (int i = 0; i < 100; i++) {
		bool notified = false;
		if (db_listener_wait(listener, 200, &notified, error, sizeof(error)) == 0 &&
		    !notified)
			return;
	}
	fail_msg("notifications keep coming");
}

static pp_db_listener_t *test_open(test_db_t *tdb)
{
	pp_db_listener_t *listener = NULL;
	char error[DB_ERROR_MAX];
	if (db_listener_open(tdb->url, CONVERT_QUEUE_CHANNEL, &listener, error, sizeof(error)) < 0)
		fail_msg("db_listener_open: %s", error);
	return listener;
}

static void test_sqlite_has_nobody_to_wake(test_db_t *tdb)
{
	char error[DB_ERROR_MAX];
	print_message("SQLite: no LISTEN/NOTIFY; checking that notify is a no-op and listen "
	              "refuses\n");
	assert_int_equal(db_notify(tdb->db, CONVERT_QUEUE_CHANNEL, error, sizeof(error)), 0);
	pp_db_listener_t *listener = NULL;
	assert_int_equal(
	    db_listener_open(tdb->url, CONVERT_QUEUE_CHANNEL, &listener, error, sizeof(error)), -1);
	assert_null(listener);
	assert_non_null(strstr(error, "needs PostgreSQL"));
}

static void test_notify_wakes(void **state)
{
	test_db_t *tdb = TEST_DB(state);
	if (tdb->backend != PP_DB_POSTGRES) {
		test_sqlite_has_nobody_to_wake(tdb);
		return;
	}
	char error[DB_ERROR_MAX];
	pp_db_listener_t *listener = test_open(tdb);
	bool notified = true;
	assert_int_equal(db_listener_wait(listener, 0, &notified, error, sizeof(error)), 0);
	assert_false(notified);

	/* One notification wakes the waiter. */
	assert_int_equal(db_notify(tdb->db, CONVERT_QUEUE_CHANNEL, error, sizeof(error)), 0);
	assert_true(test_wait_notified(listener));

	/* Inside a transaction they wait for the commit, and several come as one. */
	assert_int_equal(db_tx_begin(tdb->db, error, sizeof(error)), DB_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(db_notify(tdb->db, CONVERT_QUEUE_CHANNEL, error, sizeof(error)),
		                 0);
	assert_int_equal(db_listener_wait(listener, 200, &notified, error, sizeof(error)), 0);
	assert_false(notified);
	assert_int_equal(db_tx_commit(tdb->db, error, sizeof(error)), DB_OK);
	assert_true(test_wait_notified(listener));

	/* Another channel does not wake it. */
	assert_int_equal(db_notify(tdb->db, "pullprint_other", error, sizeof(error)), 0);
	assert_int_equal(db_listener_wait(listener, 200, &notified, error, sizeof(error)), 0);
	assert_false(notified);
	db_listener_close(&listener);
	assert_null(listener);
	db_listener_close(&listener); /* NULL is a no-op */
}

static void test_bad_channels(void **state)
{
	test_db_t *tdb = TEST_DB(state);
	char error[DB_ERROR_MAX];
	static const char *const bad[] = {"", "with space", "quote\"d", "semi;colon", "9lives",
	                                  /* 64 characters: one past PostgreSQL's limit */
	                                  "a234567890123456789012345678901234567890123456789012345"
	                                  "678901234"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pp_db_listener_t *listener = NULL;
		if (db_listener_open(tdb->url, bad[i], &listener, error, sizeof(error)) != -1)
			fail_msg("channel \"%s\" was accepted by listen", bad[i]);
		if (tdb->backend == PP_DB_POSTGRES &&
		    db_notify(tdb->db, bad[i], error, sizeof(error)) != -1)
			fail_msg("channel \"%s\" was accepted by notify", bad[i]);
	}
	if (tdb->backend == PP_DB_POSTGRES) {
		/* Nobody listens there: opening fails with a message, not a crash. */
		pp_db_listener_t *listener = NULL;
		assert_int_equal(db_listener_open("postgresql://postgres@127.0.0.1:1/none",
		                                  CONVERT_QUEUE_CHANNEL, &listener, error,
		                                  sizeof(error)),
		                 -1);
		assert_null(listener);
		assert_non_null(strstr(error, "cannot connect"));
	}
}

/* The listener's own backend, found by what it runs. */
static int64_t test_listener_pid(test_db_t *tdb)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(tdb->db,
	             "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
	             " AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'",
	             NULL, 0, &res, error, sizeof(error)) != DB_OK)
		fail_msg("pg_stat_activity: %s", error);
	int64_t pid = db_result_rows(res) == 1 ? db_result_int(res, 0, 0) : 0;
	db_result_free(&res);
	return pid;
}

static void test_reconnects(void **state)
{
	test_db_t *tdb = TEST_DB(state);
	if (tdb->backend != PP_DB_POSTGRES) {
		print_message("skipped on SQLite: LISTEN/NOTIFY is PostgreSQL's\n");
		return;
	}
	char error[DB_ERROR_MAX];
	pp_db_listener_t *listener = test_open(tdb);
	int64_t pid = test_listener_pid(tdb);
	assert_true(pid > 0);

	/* The server drops the listener's connection (a restart, an admin, a network cut). */
	pp_db_value_t p[] = {DB_INT(pid)};
	assert_int_equal(db_exec(tdb->db, "SELECT pg_terminate_backend($1::integer)", p, 1, NULL,
	                         error, sizeof(error)),
	                 DB_OK);

	/* One wait reports the loss, a later one re-opens and says "look for work". */
	bool is_lost = false, is_back = false;
	for (int i = 0; i < RETRIES && !is_back; i++) {
		bool notified = false;
		int rc = db_listener_wait(listener, 1000, &notified, error, sizeof(error));
		if (rc < 0) {
			is_lost = true;
			assert_non_null(strstr(error, "connection lost"));
		} else if (is_lost && notified) {
			is_back = true;
		}
	}
	assert_true(is_lost);
	assert_true(is_back);
	int64_t new_pid = test_listener_pid(tdb);
	assert_true(new_pid > 0);
	assert_true(new_pid != pid);

	/* And it LISTENs again. */
	test_drain(listener);
	assert_int_equal(db_notify(tdb->db, CONVERT_QUEUE_CHANNEL, error, sizeof(error)), 0);
	assert_true(test_wait_notified(listener));
	db_listener_close(&listener);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_notify_wakes),
	    TEST_DB_CASE(test_bad_channels),
	    TEST_DB_CASE(test_reconnects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
