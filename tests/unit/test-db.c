/*
 * test-db.c - the storage layer, every case on SQLite and on PostgreSQL: migrations, values
 * of every type in and out, bound (never interpolated) parameters, duplicates, transactions
 * and their lock, RETURNING, cascades, and error messages that help without leaking.
 */
#include "test-db-support.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db/db-private.h"

/* Runs sql (which must succeed) with params. */
#define EXEC_OK(db, sql, ...)                                                                      \
	do {                                                                                       \
		const pp_db_value_t exec_params_[] = {__VA_ARGS__};                                \
		char exec_error_[DB_ERROR_MAX] = "";                                               \
		int exec_rc_ = db_exec((db), (sql), exec_params_,                                  \
		                       sizeof(exec_params_) / sizeof(exec_params_[0]), NULL,       \
		                       exec_error_, sizeof(exec_error_));                          \
		if (exec_rc_ != DB_OK)                                                             \
			fail_msg("%s: %s", (sql), exec_error_);                                    \
	} while (0)

/* The single integer that sql (no parameters) answers. */
static int64_t query_int(pp_db_t *db, const char *sql)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX] = "";
	if (db_query(db, sql, NULL, 0, &res, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
	assert_int_equal(db_result_rows(res), 1);
	int64_t v = db_result_int(res, 0, 0);
	db_result_free(&res);
	return v;
}

/* Inserts a user with email and returns its id (RETURNING on both backends). */
static int64_t insert_user(pp_db_t *db, const char *email)
{
	const pp_db_value_t params[] = {DB_TEXT(email), DB_INT(1000)};
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX] = "";
	int rc = db_query(db,
	                  "INSERT INTO users (email, state, created_at, updated_at) "
	                  "VALUES ($1, 'enabled', $2, $2) RETURNING id",
	                  params, 2, &res, error, sizeof(error));
	if (rc != DB_OK)
		fail_msg("insert user %s: %s", email, error);
	assert_int_equal(db_result_rows(res), 1);
	int64_t id = db_result_int(res, 0, 0);
	db_result_free(&res);
	return id;
}

static int64_t insert_job(pp_db_t *db, int64_t user_id, const char *uuid)
{
	const pp_db_value_t params[] = {DB_TEXT(uuid), DB_INT(user_id), DB_INT(2000)};
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX] = "";
	if (db_query(db,
	             "INSERT INTO jobs (uuid, user_id, state, source, created_at, updated_at) "
	             "VALUES ($1, $2, 'held', 'portal', $3, $3) RETURNING id",
	             params, 3, &res, error, sizeof(error)) != DB_OK)
		fail_msg("insert job %s: %s", uuid, error);
	int64_t id = db_result_int(res, 0, 0);
	db_result_free(&res);
	return id;
}

/* Migrating twice changes nothing and reports the latest version. */
static void test_migrate_idempotent(void **state)
{
	test_db_t *t = TEST_DB(state);
	size_t count;
	const db_migration_t *migrations = db_migrations_list(&count);
	int latest = migrations[count - 1].version;
	char error[DB_ERROR_MAX] = "";

	int version = -1;
	assert_int_equal(db_schema_version(t->db, &version, error, sizeof(error)), DB_OK);
	assert_int_equal(version, latest);
	assert_int_equal(db_migrate(t->db, error, sizeof(error)), DB_OK);
	assert_int_equal(db_migrate(t->db, error, sizeof(error)), DB_OK);
	assert_int_equal(db_schema_version(t->db, &version, error, sizeof(error)), DB_OK);
	assert_int_equal(version, latest);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM schema_version"), (int64_t)count);

	/* A second handle (another server start) finds nothing to do either. */
	pp_db_t *other = NULL;
	assert_int_equal(db_open(t->url, &other, error, sizeof(error)), DB_OK);
	assert_int_equal(db_migrate(other, error, sizeof(error)), DB_OK);
	assert_int_equal(query_int(other, "SELECT count(*) FROM schema_version"), (int64_t)count);
	db_close(&other);
	assert_null(other);
	db_close(&other); /* NULL is a no-op */
}

/* A database migrated by a newer program is refused, not used. */
static void test_migrate_refuses_newer_schema(void **state)
{
	test_db_t *t = TEST_DB(state);
	EXEC_OK(t->db, "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
	        DB_INT(99999), DB_TEXT("from the future"), DB_INT(1));
	char error[DB_ERROR_MAX] = "";
	assert_int_equal(db_migrate(t->db, error, sizeof(error)), DB_ERROR);
	assert_non_null(strstr(error, "newer"));
	assert_non_null(strstr(error, "upgrade"));
}

/* Every type goes in through a parameter and comes out unchanged. */
static void test_round_trip_types(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[DB_ERROR_MAX] = "";
	const char *create = t->backend == PP_DB_SQLITE
	                         ? "CREATE TABLE vals (k INTEGER, i BIGINT, s TEXT, b BLOB)"
	                         : "CREATE TABLE vals (k INTEGER, i BIGINT, s TEXT, b BYTEA)";
	assert_int_equal(db_exec(t->db, create, NULL, 0, NULL, error, sizeof(error)), DB_OK);

	static const unsigned char nul_bytes[] = {0x00, 0x01, 0x00, 0xff, 0x7f, 0x00, '\\', 'x'};
	static const unsigned char one_nul[] = {0x00};
	const struct {
		const char *name;
		pp_db_value_t i, s, b;
	} rows[] = {
	    {"nulls", DB_NULL, DB_TEXT(NULL), DB_NULL},
	    {"int64 min", DB_INT(INT64_MIN), DB_TEXT("a"), DB_BLOB(one_nul, 1)},
	    {"int64 max", DB_INT(INT64_MAX), DB_TEXT(""), DB_BLOB("", 0)},
	    {"zero and minus one", DB_INT(0), DB_TEXT("-1"), DB_BLOB(nul_bytes, 1)},
	    {"utf-8", DB_INT(-1), DB_TEXT("Grüße, 日本語, emoji 🖨, quote ' and \" and \\"),
	     DB_BLOB(nul_bytes, sizeof(nul_bytes))},
	};
	size_t n_rows = sizeof(rows) / sizeof(rows[0]);
	for (size_t k = 0; k < n_rows; k++) {
		const pp_db_value_t params[] = {DB_INT(k), rows[k].i, rows[k].s, rows[k].b};
		if (db_exec(t->db, "INSERT INTO vals (k, i, s, b) VALUES ($1, $2, $3, $4)", params,
		            4, NULL, error, sizeof(error)) != DB_OK)
			fail_msg("row %s: %s", rows[k].name, error);
	}

	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(t->db, "SELECT k, i, s, b FROM vals ORDER BY k", NULL, 0, &res,
	                          error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), n_rows);
	assert_int_equal(db_result_cols(res), 4);
	for (size_t k = 0; k < n_rows; k++) {
		/* Integers. */
		if (rows[k].i.type == PP_DB_NULL) {
			assert_true(db_result_is_null(res, k, 1));
			assert_int_equal(db_result_int(res, k, 1), 0);
		} else {
			assert_false(db_result_is_null(res, k, 1));
			if (db_result_int(res, k, 1) != rows[k].i.i)
				fail_msg("row %s: int %s", rows[k].name, db_result_text(res, k, 1));
		}
		/* Text. */
		if (rows[k].s.type == PP_DB_NULL) {
			assert_true(db_result_is_null(res, k, 2));
			assert_string_equal(db_result_text(res, k, 2), "");
		} else {
			assert_false(db_result_is_null(res, k, 2));
			assert_string_equal(db_result_text(res, k, 2), rows[k].s.s);
		}
		/* Bytes, NULs included; an empty blob is not NULL. */
		size_t len = 99;
		const void *blob = db_result_blob(res, k, 3, &len);
		if (rows[k].b.type == PP_DB_NULL) {
			assert_true(db_result_is_null(res, k, 3));
			assert_null(blob);
			assert_int_equal(len, 0);
		} else {
			assert_false(db_result_is_null(res, k, 3));
			assert_non_null(blob);
			if (len != rows[k].b.len || memcmp(blob, rows[k].b.blob, len) != 0)
				fail_msg("row %s: blob of %zu bytes differs", rows[k].name, len);
		}
	}
	/* Out of range reads are NULL, not a crash. */
	assert_true(db_result_is_null(res, n_rows, 0));
	assert_true(db_result_is_null(res, 0, 4));
	/* Taking a cell hands over its bytes (NUL-terminated) once; the cell is NULL after. */
	for (size_t k = 0; k < n_rows; k++) {
		size_t len = 99;
		char *taken = db_result_take(res, k, 3, &len);
		if (rows[k].b.type == PP_DB_NULL) {
			assert_null(taken);
			assert_int_equal(len, 0);
			continue;
		}
		assert_non_null(taken);
		assert_int_equal(len, rows[k].b.len);
		assert_memory_equal(taken, rows[k].b.blob, len);
		assert_int_equal(taken[len], '\0');
		free(taken);
		assert_true(db_result_is_null(res, k, 3));
		assert_null(db_result_take(res, k, 3, &len));
		assert_int_equal(len, 0);
	}
	size_t len = 99;
	assert_null(db_result_take(res, n_rows, 0, &len));
	assert_int_equal(len, 0);
	assert_null(db_result_take(res, 0, 4, &len));
	db_result_free(&res);
	assert_null(res);
	db_result_free(&res);
}

/* Hostile values are stored verbatim: parameters are bound, never pasted into SQL. */
static void test_parameters_are_bound(void **state)
{
	test_db_t *t = TEST_DB(state);
	static const char *const hostile[] = {
	    "'); DROP TABLE users;--", "x' OR '1'='1", "$1", "?; DELETE FROM users", "%s%n\\",
	};
	for (size_t k = 0; k < sizeof(hostile) / sizeof(hostile[0]); k++) {
		char email[64];
		assert_true(snprintf(email, sizeof(email), "u%zu@example.org", k) > 0);
		const pp_db_value_t params[] = {DB_TEXT(email), DB_TEXT(hostile[k])};
		char error[DB_ERROR_MAX] = "";
		if (db_exec(
		        t->db,
		        "INSERT INTO users (email, display_name, state, created_at, updated_at) "
		        "VALUES ($1, $2, 'enabled', 0, 0)",
		        params, 2, NULL, error, sizeof(error)) != DB_OK)
			fail_msg("value %s: %s", hostile[k], error);

		pp_db_result_t *res = NULL;
		const pp_db_value_t key[] = {DB_TEXT(hostile[k])};
		assert_int_equal(db_query(t->db, "SELECT email FROM users WHERE display_name = $1",
		                          key, 1, &res, error, sizeof(error)),
		                 DB_OK);
		assert_int_equal(db_result_rows(res), 1);
		assert_string_equal(db_result_text(res, 0, 0), email);
		db_result_free(&res);
	}
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM users"), 5);
}

/* A unique or primary key violation is DB_DUPLICATE; other violations are plain errors. */
static void test_duplicate(void **state)
{
	test_db_t *t = TEST_DB(state);
	int64_t id = insert_user(t->db, "ann@example.org");
	char error[DB_ERROR_MAX] = "";

	const pp_db_value_t same_email[] = {DB_TEXT("ann@example.org")};
	assert_int_equal(db_exec(t->db,
	                         "INSERT INTO users (email, state, created_at, updated_at) "
	                         "VALUES ($1, 'enabled', 0, 0)",
	                         same_email, 1, NULL, error, sizeof(error)),
	                 DB_DUPLICATE);
	assert_true(error[0] != '\0');

	EXEC_OK(t->db, "INSERT INTO settings (name, value, updated_at) VALUES ($1, 'a', 0)",
	        DB_TEXT("retention"));
	const pp_db_value_t same_key[] = {DB_TEXT("retention")};
	assert_int_equal(
	    db_exec(t->db, "INSERT INTO settings (name, value, updated_at) VALUES ($1, 'b', 0)",
	            same_key, 1, NULL, error, sizeof(error)),
	    DB_DUPLICATE);

	/* CHECK and FOREIGN KEY violations are not duplicates. */
	assert_int_equal(db_exec(t->db,
	                         "INSERT INTO users (email, state, created_at, updated_at) "
	                         "VALUES ('bob@example.org', 'bogus', 0, 0)",
	                         NULL, 0, NULL, error, sizeof(error)),
	                 DB_ERROR);
	const pp_db_value_t no_user[] = {DB_INT(id + 1000)};
	assert_int_equal(db_exec(t->db,
	                         "INSERT INTO jobs (uuid, user_id, state, source, created_at, "
	                         "updated_at) VALUES ('j1', $1, 'held', 'mail', 0, 0)",
	                         no_user, 1, NULL, error, sizeof(error)),
	                 DB_ERROR);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM users"), 1);
}

/* Commit keeps, rollback undoes; a failed statement dooms its transaction on both backends. */
static void test_transactions(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[DB_ERROR_MAX] = "";

	assert_int_equal(db_tx_begin(t->db, error, sizeof(error)), DB_OK);
	insert_user(t->db, "rolled@example.org");
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM users"), 1);
	db_tx_rollback(t->db);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM users"), 0);

	assert_int_equal(db_tx_begin(t->db, error, sizeof(error)), DB_OK);
	insert_user(t->db, "kept@example.org");
	assert_int_equal(db_tx_commit(t->db, error, sizeof(error)), DB_OK);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM users"), 1);

	/* Nesting and a stray commit are refused, and leave no lock behind. */
	assert_int_equal(db_tx_begin(t->db, error, sizeof(error)), DB_OK);
	assert_int_equal(db_tx_begin(t->db, error, sizeof(error)), DB_ERROR);
	assert_non_null(strstr(error, "already open"));
	db_tx_rollback(t->db);
	assert_int_equal(db_tx_commit(t->db, error, sizeof(error)), DB_ERROR);

	/* A duplicate inside a transaction: later statements refused, commit undoes all. */
	assert_int_equal(db_tx_begin(t->db, error, sizeof(error)), DB_OK);
	insert_user(t->db, "first@example.org");
	const pp_db_value_t dup[] = {DB_TEXT("kept@example.org")};
	assert_int_equal(db_exec(t->db,
	                         "INSERT INTO users (email, state, created_at, updated_at) "
	                         "VALUES ($1, 'enabled', 0, 0)",
	                         dup, 1, NULL, error, sizeof(error)),
	                 DB_DUPLICATE);
	assert_int_equal(db_exec(t->db, "DELETE FROM users", NULL, 0, NULL, error, sizeof(error)),
	                 DB_ERROR);
	assert_non_null(strstr(error, "roll it back"));
	assert_int_equal(db_tx_commit(t->db, error, sizeof(error)), DB_ERROR);
	assert_non_null(strstr(error, "rolled back"));
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM users"), 1);

	/* The number of changed rows. */
	int64_t changes = -1;
	assert_int_equal(db_exec(t->db, "UPDATE users SET department = 'ops'", NULL, 0, &changes,
	                         error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(changes, 1);
}

typedef struct {
	pp_db_t *db;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool started;
	atomic_bool done;
	int rc;
	int64_t count;
} other_thread_t;

static void *other_thread_main(void *arg)
{
	other_thread_t *o = arg;
	assert_int_equal(pthread_mutex_lock(&o->mutex), 0);
	o->started = true;
	assert_int_equal(pthread_cond_signal(&o->cond), 0);
	assert_int_equal(pthread_mutex_unlock(&o->mutex), 0);

	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX] = "";
	o->rc = db_query(o->db, "SELECT count(*) FROM users", NULL, 0, &res, error, sizeof(error));
	o->count = db_result_int(res, 0, 0);
	db_result_free(&res);
	atomic_store(&o->done, true);
	return NULL;
}

/*
 * A transaction is one thread's: another thread's statement on the same handle waits until
 * it ends, so it never sees (or joins) the uncommitted work.
 */
static void test_transaction_blocks_other_thread(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[DB_ERROR_MAX] = "";
	other_thread_t o = {.db = t->db};
	assert_int_equal(pthread_mutex_init(&o.mutex, NULL), 0);
	assert_int_equal(pthread_cond_init(&o.cond, NULL), 0);
	atomic_init(&o.done, false);

	assert_int_equal(db_tx_begin(t->db, error, sizeof(error)), DB_OK);
	insert_user(t->db, "uncommitted@example.org");

	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, other_thread_main, &o), 0);
	assert_int_equal(pthread_mutex_lock(&o.mutex), 0);
	while (!o.started)
		assert_int_equal(pthread_cond_wait(&o.cond, &o.mutex), 0);
	assert_int_equal(pthread_mutex_unlock(&o.mutex), 0);

	/* Give the other thread time to reach the handle; it must still be waiting. */
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 200 * 1000 * 1000};
	(void)nanosleep(&pause, NULL);
	assert_false(atomic_load(&o.done));
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM users"), 1);
	db_tx_rollback(t->db);

	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(o.rc, DB_OK);
	assert_int_equal(o.count, 0); /* it ran after the rollback */
	assert_int_equal(pthread_cond_destroy(&o.cond), 0);
	assert_int_equal(pthread_mutex_destroy(&o.mutex), 0);
}

/* INSERT … RETURNING id gives increasing ids. */
static void test_returning_id(void **state)
{
	test_db_t *t = TEST_DB(state);
	int64_t a = insert_user(t->db, "a@example.org");
	int64_t b = insert_user(t->db, "b@example.org");
	assert_true(a > 0);
	assert_true(b > a);
	int64_t j = insert_job(t->db, a, "uuid-1");
	assert_true(j > 0);
}

/* Deleting a user deletes its jobs, their documents, its code and its tokens. */
static void test_cascade_delete(void **state)
{
	test_db_t *t = TEST_DB(state);
	int64_t gone = insert_user(t->db, "gone@example.org");
	int64_t stays = insert_user(t->db, "stays@example.org");
	int64_t jobs[3] = {insert_job(t->db, gone, "g1"), insert_job(t->db, gone, "g2"),
	                   insert_job(t->db, stays, "s1")};
	for (size_t k = 0; k < 3; k++) {
		char file_id[32];
		assert_true(snprintf(file_id, sizeof(file_id), "file%zu", k) > 0);
		EXEC_OK(t->db,
		        "INSERT INTO documents (job_id, role, file_id, size_bytes, created_at) "
		        "VALUES ($1, 'original', $2, 10, 0)",
		        DB_INT(jobs[k]), DB_TEXT(file_id));
	}
	EXEC_OK(t->db, "INSERT INTO user_codes (user_id, code_hash, issued_at) VALUES ($1, 'h', 0)",
	        DB_INT(gone));
	EXEC_OK(
	    t->db,
	    "INSERT INTO tokens (token_hash, kind, user_id, created_at, expires_at, last_used_at)"
	    " VALUES ('t', 'app', $1, 0, 0, 0)",
	    DB_INT(gone));

	int64_t changes = 0;
	char error[DB_ERROR_MAX] = "";
	const pp_db_value_t id[] = {DB_INT(gone)};
	assert_int_equal(db_exec(t->db, "DELETE FROM users WHERE id = $1", id, 1, &changes, error,
	                         sizeof(error)),
	                 DB_OK);
	assert_int_equal(changes, 1);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM jobs"), 1);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM documents"), 1);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM user_codes"), 0);
	assert_int_equal(query_int(t->db, "SELECT count(*) FROM tokens"), 0);
}

/* Mistakes come back as DB_ERROR with a message that names the problem. */
static void test_error_messages(void **state)
{
	test_db_t *t = TEST_DB(state);
	const pp_db_value_t one[] = {DB_INT(1)};
	const pp_db_value_t two[] = {DB_INT(1), DB_INT(2)};
	const struct {
		const char *sql;
		const pp_db_value_t *params;
		size_t n_params;
		const char *expect; /* substring of the message, or NULL for any */
	} cases[] = {
	    {"SELECT * FROM no_such_table", NULL, 0, "no_such_table"},
	    {"SELEC 1", NULL, 0, "syntax"},
	    {"SELECT id FROM users WHERE id = $1", NULL, 0, NULL},
	    {"SELECT no_such_column FROM users", one, 0, "no_such_column"},
	    /* SQLite only (see below): */
	    {"SELECT id FROM users WHERE id = $1", two, 2, "$2"},
	};
	size_t n_cases = sizeof(cases) / sizeof(cases[0]);
	/* SQLite also refuses a parameter the SQL does not use (PostgreSQL accepts a typed one). */
	if (t->backend != PP_DB_SQLITE)
		n_cases--;
	for (size_t k = 0; k < n_cases; k++) {
		char error[DB_ERROR_MAX] = "";
		pp_db_result_t *res = NULL;
		int rc = db_query(t->db, cases[k].sql, cases[k].params, cases[k].n_params, &res,
		                  error, sizeof(error));
		if (rc != DB_ERROR)
			fail_msg("case %zu (%s): rc %d", k, cases[k].sql, rc);
		assert_null(res);
		if (error[0] == '\0')
			fail_msg("case %zu (%s): no message", k, cases[k].sql);
		if (cases[k].expect != NULL && strstr(error, cases[k].expect) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", k, error,
			         cases[k].expect);
		/* One line: the message goes into a log line as it is. */
		assert_null(strchr(error, '\n'));
	}
}

/* The SQLite file is private, in WAL mode, with durable commits and foreign keys. */
static void test_sqlite_settings(void **state)
{
	test_db_t *t = TEST_DB(state);
	char path[4096];
	assert_true(snprintf(path, sizeof(path), "%s/pullprint.db", t->dir) > 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char wal[4200];
	assert_true(snprintf(wal, sizeof(wal), "%s-wal", path) > 0);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX] = "";
	assert_int_equal(
	    db_query(t->db, "PRAGMA journal_mode", NULL, 0, &res, error, sizeof(error)), DB_OK);
	assert_string_equal(db_result_text(res, 0, 0), "wal");
	db_result_free(&res);
	/* NORMAL: the backend flushes the WAL itself after each commit (db-sqlite.c). */
	assert_int_equal(query_int(t->db, "PRAGMA synchronous"), 1);
	assert_int_equal(query_int(t->db, "PRAGMA foreign_keys"), 1);
}

/* Opening fails with a message that says what to do. */
/* Checks the handle's commit and flush counts against what was expected (and by how much). */
static void expect_flushes(pp_db_t *db, uint64_t commits, uint64_t flushes, const char *after)
{
	uint64_t got_commits = 0, got_flushes = 0;
	db_flush_stats(db, &got_commits, &got_flushes);
	if (got_commits != commits || got_flushes != flushes)
		fail_msg("after %s: %llu commits and %llu flushes, expected %llu and %llu", after,
		         (unsigned long long)got_commits, (unsigned long long)got_flushes,
		         (unsigned long long)commits, (unsigned long long)flushes);
}

/*
 * SQLite: a write waits for the disk only when it changed something. A DELETE or UPDATE
 * that matched no row (every signed-in request resets its account's failures so), or a
 * transaction that changed nothing, needs no flush; every real change still gets one.
 */
static void test_sqlite_flushes_only_changes(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[DB_ERROR_MAX];
	pp_db_t *db = t->db;
	assert_int_equal(db_exec(db, "CREATE TABLE probe (k INTEGER PRIMARY KEY)", NULL, 0, NULL,
	                         error, sizeof(error)),
	                 DB_OK);
	uint64_t commits = 0, flushes = 0;
	db_flush_stats(db, &commits, &flushes);
	assert_true(commits > 0 && flushes > 0); /* the migrations and the table */

	const pp_db_value_t one[] = {DB_INT(1)};
	int64_t changes = -1;
	assert_int_equal(db_exec(db, "DELETE FROM probe WHERE k = $1", one, 1, &changes, error,
	                         sizeof(error)),
	                 DB_OK);
	assert_int_equal(changes, 0);
	assert_int_equal(db_exec(db, "UPDATE probe SET k = k + 1 WHERE k = $1", one, 1, NULL,
	                         error, sizeof(error)),
	                 DB_OK);
	expect_flushes(db, commits, flushes, "writes that matched no row");

	assert_int_equal(db_exec(db, "INSERT INTO probe (k) VALUES ($1)", one, 1, NULL, error,
	                         sizeof(error)),
	                 DB_OK);
	expect_flushes(db, ++commits, ++flushes, "an insert");

	/* A transaction that changed nothing commits nothing to flush. */
	const pp_db_value_t nine[] = {DB_INT(9)};
	assert_int_equal(db_tx_begin(db, error, sizeof(error)), DB_OK);
	assert_int_equal(db_exec(db, "DELETE FROM probe WHERE k = $1", nine, 1, NULL, error,
	                         sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_tx_commit(db, error, sizeof(error)), DB_OK);
	expect_flushes(db, commits, flushes, "an empty transaction");

	assert_int_equal(db_tx_begin(db, error, sizeof(error)), DB_OK);
	assert_int_equal(db_exec(db, "INSERT INTO probe (k) VALUES ($1)", nine, 1, NULL, error,
	                         sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_tx_commit(db, error, sizeof(error)), DB_OK);
	expect_flushes(db, ++commits, ++flushes, "a transaction that inserted");

	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(db, "INSERT INTO probe (k) VALUES (5) RETURNING k", NULL, 0, &res,
	                          error, sizeof(error)),
	                 DB_OK);
	db_result_free(&res);
	expect_flushes(db, ++commits, ++flushes, "an insert returning");
	assert_int_equal(db_exec(db, "DELETE FROM probe WHERE k = $1", one, 1, &changes, error,
	                         sizeof(error)),
	                 DB_OK);
	assert_int_equal(changes, 1);
	expect_flushes(db, ++commits, ++flushes, "a delete of a row");

	/* What was committed is there for another connection. */
	pp_db_t *other = NULL;
	assert_int_equal(db_open(t->url, &other, error, sizeof(error)), DB_OK);
	assert_int_equal(db_query(other, "SELECT group_concat(k) FROM (SELECT k FROM probe "
	                                 "ORDER BY k)",
	                          NULL, 0, &res, error, sizeof(error)),
	                 DB_OK);
	assert_string_equal(db_result_text(res, 0, 0), "5,9");
	db_result_free(&res);
	db_close(&other);
}

static void test_open_errors(void **state)
{
	(void)state;
	const struct {
		const char *url;
		const char *expect;
	} cases[] = {
	    {"mysql://x", "unknown URL scheme"},
	    {"sqlite:", "names no file"},
	    {"sqlite:/nonexistent-dir-pp/x.db", "/nonexistent-dir-pp/x.db"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		pp_db_t *db = (pp_db_t *)&cases; /* must be reset to NULL */
		char error[DB_ERROR_MAX] = "";
		assert_int_equal(db_open(cases[k].url, &db, error, sizeof(error)), DB_ERROR);
		assert_null(db);
		if (strstr(error, cases[k].expect) == NULL)
			fail_msg("%s: message \"%s\" lacks \"%s\"", cases[k].url, error,
			         cases[k].expect);
	}
}

/* A wrong password (or an unreachable server) fails without the password in the message. */
static void test_pg_password_not_in_errors(void **state)
{
	test_db_t *t = TEST_DB(state);
	(void)t;
	const char *base = getenv("PP_TEST_PG_URL");
	const char *host = strchr(base, '@');
	assert_non_null(host);
	host++;
	size_t host_len = strcspn(host, "/?");
	static const char secret[] = "Sup3r-S3cret-pw";
	char urls[3][512];
	assert_true(snprintf(urls[0], sizeof(urls[0]),
	                     "postgresql://pp_test_password:%s@%.*s/postgres", secret,
	                     (int)host_len, host) > 0);
	/* Port 1 on loopback: nothing listens there. */
	assert_true(snprintf(urls[1], sizeof(urls[1]),
	                     "postgresql://postgres:%s@127.0.0.1:1/postgres?connect_timeout=5",
	                     secret) > 0);
	assert_true(snprintf(urls[2], sizeof(urls[2]),
	                     "postgresql://pp_test_password@%.*s/postgres?password=%s",
	                     (int)host_len, host, secret) > 0);
	for (size_t k = 0; k < 3; k++) {
		pp_db_t *db = NULL;
		char error[DB_ERROR_MAX] = "";
		assert_int_equal(db_open(urls[k], &db, error, sizeof(error)), DB_ERROR);
		assert_null(db);
		assert_true(strlen(error) > 20);
		if (strstr(error, secret) != NULL || strstr(error, "S3cret") != NULL)
			fail_msg("url %zu: password in \"%s\"", k, error);
	}
}

/* A dropped connection is re-established once, outside a transaction. */
static void test_pg_reconnect(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[DB_ERROR_MAX] = "";
	int64_t pid = query_int(t->db, "SELECT pg_backend_pid()");
	const pp_db_value_t kill[] = {DB_INT(pid)};
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(t->admin,
	                          "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 10000)", kill,
	                          1, &res, error, sizeof(error)),
	                 DB_OK);
	assert_string_equal(db_result_text(res, 0, 0), "t");
	db_result_free(&res);

	int64_t new_pid = query_int(t->db, "SELECT pg_backend_pid()");
	assert_true(new_pid != pid);

	/* Inside a transaction the error is returned: the transaction's work is gone. */
	assert_int_equal(db_tx_begin(t->db, error, sizeof(error)), DB_OK);
	const pp_db_value_t kill2[] = {DB_INT(new_pid)};
	assert_int_equal(db_query(t->admin,
	                          "SELECT pg_terminate_backend(CAST($1 AS INTEGER), 10000)", kill2,
	                          1, &res, error, sizeof(error)),
	                 DB_OK);
	db_result_free(&res);
	assert_int_equal(db_query(t->db, "SELECT 1", NULL, 0, &res, error, sizeof(error)),
	                 DB_ERROR);
	db_tx_rollback(t->db);
	assert_int_equal(query_int(t->db, "SELECT 41 + 1"), 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_migrate_idempotent),
	    TEST_DB_CASE(test_migrate_refuses_newer_schema),
	    TEST_DB_CASE(test_round_trip_types),
	    TEST_DB_CASE(test_parameters_are_bound),
	    TEST_DB_CASE(test_duplicate),
	    TEST_DB_CASE(test_transactions),
	    TEST_DB_CASE(test_transaction_blocks_other_thread),
	    TEST_DB_CASE(test_returning_id),
	    TEST_DB_CASE(test_cascade_delete),
	    TEST_DB_CASE(test_error_messages),
	    cmocka_unit_test_setup_teardown(test_sqlite_settings, test_db_setup_sqlite,
	                                    test_db_teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_flushes_only_changes, test_db_setup_sqlite,
	                                    test_db_teardown),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test_setup_teardown(test_pg_password_not_in_errors, test_db_setup_postgres,
	                                    test_db_teardown),
	    cmocka_unit_test_setup_teardown(test_pg_reconnect, test_db_setup_postgres,
	                                    test_db_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
