/*
 * test-job-pin.c - job passwords (IPP job-password): stored only as a keyed hash bound to the
 * job, checked in constant time, never written to the log; and migration 2, which adds the
 * column to a database an older release made. On SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "core/core.h"
#include "core/job.h"
#include "db/db-private.h"
#include "lib/str.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_sql(pp_db_t *db, const char *sql)
{
	char error[DB_ERROR_MAX];
	if (db_exec(db, sql, NULL, 0, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
}

static int64_t test_user(pp_core_t *core, const char *email)
{
	return test_db_add_user(core->db, email);
}

/* A job of user with pin (NULL: none). */
static pp_job_t test_job(pp_core_t *core, int64_t user, const char *pin)
{
	pp_job_t job;
	char error[512];
	pp_job_new_t new_job = {.user_id = user, .source = "ipp", .title = "Payslips", .pin = pin};
	if (job_create(core, &new_job, &job, error, sizeof(error)) != 0)
		fail_msg("job_create: %s", error);
	return job;
}

/* What job_pin_verify() says of pin for job_id. */
static bool pin_matches(pp_core_t *core, int64_t job_id, const char *pin)
{
	char error[512];
	bool match = true;
	if (job_pin_verify(core, job_id, pin, &match, error, sizeof(error)) != JOB_OK)
		fail_msg("job_pin_verify: %s", error);
	return match;
}

/* The stored pin_hash of job_id ("" for NULL), into out[size]. */
static void stored_hash(pp_core_t *core, int64_t job_id, char *out, size_t size)
{
	char error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	pp_db_value_t p[] = {DB_INT(job_id)};
	assert_int_equal(db_query(core->db, "SELECT pin_hash FROM jobs WHERE id = $1", p, 1, &res,
	                          error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), 1);
	assert_true(str_copy(out, size, db_result_text(res, 0, 0)));
	db_result_free(&res);
}

/* The pin the user chose opens the job; nothing else does. */
static void test_job_pin_verify(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	int64_t ann = test_user(core, "ann@example.com");
	pp_job_t with_pin = test_job(core, ann, "4711");
	pp_job_t other = test_job(core, ann, "9009");
	pp_job_t without = test_job(core, ann, NULL);

	static const struct {
		const char *label;
		int which; /* 0 with_pin, 1 other, 2 without */
		const char *pin;
		bool want;
	} rows[] = {
	    {"right pin", 0, "4711", true},
	    {"wrong pin", 0, "4712", false},
	    {"prefix of the pin", 0, "471", false},
	    {"pin with more digits", 0, "47110", false},
	    {"empty pin", 0, "", false},
	    {"no pin given", 0, NULL, false},
	    {"other job's pin", 0, "9009", false},
	    {"other job, its own pin", 1, "9009", true},
	    {"other job, this job's pin", 1, "4711", false},
	    {"job without pin, any pin", 2, "4711", false},
	    {"job without pin, empty pin", 2, "", false},
	    {"job without pin, no pin", 2, NULL, false},
	};
	const pp_job_t *jobs[] = {&with_pin, &other, &without};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (pin_matches(core, jobs[rows[i].which]->id, rows[i].pin) != rows[i].want)
			fail_msg("%s: expected %s", rows[i].label,
			         rows[i].want ? "match" : "no match");
	}

	char error[512];
	bool match = true;
	assert_int_equal(job_pin_verify(core, 999999, "4711", &match, error, sizeof(error)),
	                 JOB_NOT_FOUND);
	assert_false(match);

	/* A pin of 255 bytes is the longest accepted; one more is refused. */
	char longest[JOB_PIN_MAX + 1];
	memset(longest, '7', JOB_PIN_MAX - 1);
	longest[JOB_PIN_MAX - 1] = '\0';
	pp_job_t long_pin = test_job(core, ann, longest);
	assert_true(pin_matches(core, long_pin.id, longest));
	longest[JOB_PIN_MAX - 1] = '7';
	longest[JOB_PIN_MAX] = '\0';
	assert_false(pin_matches(core, long_pin.id, longest));
	pp_job_new_t too_long = {.user_id = ann, .source = "ipp", .pin = longest};
	pp_job_t job;
	assert_int_equal(job_create(core, &too_long, &job, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "password"));
	pp_job_new_t empty = {.user_id = ann, .source = "ipp", .pin = ""};
	assert_int_equal(job_create(core, &empty, &job, error, sizeof(error)), -1);
}

/* has_pin reads back through every way a job is read; equal pins are stored differently. */
static void test_job_pin_stored(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t ann = test_user(core, "ann@example.com");
	pp_job_t a = test_job(core, ann, "123456");
	pp_job_t b = test_job(core, ann, "123456");
	pp_job_t none = test_job(core, ann, NULL);
	assert_true(a.has_pin);
	assert_true(b.has_pin);
	assert_false(none.has_pin);

	pp_job_t got;
	assert_int_equal(job_get(core, a.id, &got, error, sizeof(error)), 0);
	assert_true(got.has_pin);
	assert_int_equal(job_get_by_uuid(core, none.uuid, &got, error, sizeof(error)), 0);
	assert_false(got.has_pin);
	pp_job_t *jobs = NULL;
	size_t count = 0;
	int64_t cursor = 0;
	assert_int_equal(
	    job_list_for_user(core, ann, 0, 10, 0, &jobs, &count, &cursor, error, sizeof(error)),
	    0);
	assert_int_equal(count, 3);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(jobs[i].has_pin, jobs[i].id != none.id);
	job_list_free(&jobs);
	assert_int_equal(job_list(core, 0, 10, 0, &jobs, &count, &cursor, error, sizeof(error)), 0);
	assert_int_equal(count, 3);
	assert_true(jobs[2].has_pin); /* newest first: a is last */
	job_list_free(&jobs);

	/* What an administrator sees in the database: hashes, different for equal pins. */
	char hash_a[128], hash_b[128], hash_none[128];
	stored_hash(core, a.id, hash_a, sizeof(hash_a));
	stored_hash(core, b.id, hash_b, sizeof(hash_b));
	stored_hash(core, none.id, hash_none, sizeof(hash_none));
	assert_int_equal(strlen(hash_a), CRYPTO_HASH_HEX_LEN);
	assert_null(strstr(hash_a, "123456"));
	assert_string_not_equal(hash_a, hash_b);
	assert_string_equal(hash_none, "");

	/* Another server key (another installation, a lost key file): the pin opens nothing. */
	pp_core_t other;
	int64_t other_now;
	assert_int_equal(test_core_init(&other, &other_now, core->db, NULL, 0x17), 0);
	assert_false(pin_matches(&other, a.id, "123456"));
	core_deinit(&other);
	assert_true(pin_matches(core, a.id, "123456"));
}

/* Runs fn(core) with stderr (the log) going to a file; returns the log text (new; free()). */
static char *capture_log(test_core_t *tc, void (*fn)(pp_core_t *core))
{
	char path[4096];
	assert_true(str_format(path, sizeof(path), "%s/log.txt", tc->tdb->dir));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	fn(&tc->core);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	assert_int_equal(close(saved), 0);
	off_t size = lseek(fd, 0, SEEK_END);
	assert_true(size >= 0 && lseek(fd, 0, SEEK_SET) == 0);
	char *text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(read(fd, text, (size_t)size), size);
	assert_int_equal(close(fd), 0);
	return text;
}

#define LOG_PIN "80386486"

static void pin_work(pp_core_t *core)
{
	int64_t ann = test_user(core, "ann@example.com");
	pp_job_t job = test_job(core, ann, LOG_PIN);
	char error[512];
	bool match = false;
	assert_int_equal(job_pin_verify(core, job.id, LOG_PIN, &match, error, sizeof(error)),
	                 JOB_OK);
	assert_true(match);
	assert_int_equal(job_pin_verify(core, job.id, "11" LOG_PIN, &match, error, sizeof(error)),
	                 JOB_OK);
	/* Refused pins are not echoed in errors either. */
	pp_job_new_t bad = {.user_id = ann, .source = "ipp", .pin = ""};
	assert_int_equal(job_create(core, &bad, &job, error, sizeof(error)), -1);
	pp_job_transition_t how = {.actor = "admin:root"};
	assert_int_equal(job_transition(core, job.id, PP_JOB_RECEIVED, PP_JOB_CANCELED, &how, error,
	                                sizeof(error)),
	                 JOB_OK);
	assert_int_equal(job_delete(core, job.id, error, sizeof(error)), JOB_OK);
}

/* The log of a job's life with a pin never shows the pin. */
static void test_job_pin_not_logged(void **state)
{
	char *log = capture_log(TEST_CORE(state), pin_work);
	assert_non_null(strstr(log, "job.state")); /* the capture worked */
	if (strstr(log, LOG_PIN) != NULL)
		fail_msg("the pin appears in the log:\n%s", log);
	free(log);
}

/*
 * Migration 2 on a database an older release made (migration 1 only, with data): the columns
 * appear with their defaults and the old rows read as before.
 */
static void test_job_pin_migration_from_1(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_db_t *db = tc->core.db;
	char error[DB_ERROR_MAX];

	/* Empty the database, then build what release 1 left: migration 1 and its version. */
	if (tc->tdb->backend == PP_DB_POSTGRES) {
		test_sql(db, "DROP SCHEMA public CASCADE");
		test_sql(db, "CREATE SCHEMA public");
	} else {
		/* Every table later migrations made too, so none survives into release 1. */
		pp_db_result_t *tables = NULL;
		assert_int_equal(db_query(db,
					  "SELECT name FROM sqlite_master WHERE type = 'table'"
					  " AND name NOT LIKE 'sqlite_%'",
					  NULL, 0, &tables, error, sizeof(error)),
				 DB_OK);
		test_sql(db, "PRAGMA foreign_keys = OFF");
		for (size_t i = 0; i < db_result_rows(tables); i++) {
			char sql[256];
			assert_true(str_format(sql, sizeof(sql), "DROP TABLE \"%s\"",
					       db_result_text(tables, i, 0)));
			test_sql(db, sql);
		}
		test_sql(db, "PRAGMA foreign_keys = ON");
		db_result_free(&tables);
	}
	size_t count = 0;
	const db_migration_t *migrations = db_migrations_list(&count);
	assert_true(count >= 2);
	assert_int_equal(migrations[0].version, 1);
	assert_int_equal(migrations[1].version, 2);
	/* Migration 1's text with its placeholders spelled for this backend (as db_migrate). */
	const char *m1 = migrations[0].sql;
	size_t cap = strlen(m1) * 4 + 1;
	char *sql = malloc(cap);
	assert_non_null(sql);
	size_t o = 0;
	for (const char *p = m1; *p != '\0';) {
		const char *word = NULL;
		size_t skip = 0;
		if (strncmp(p, "@ID@", 4) == 0) {
			word = db->v->id_type;
			skip = 4;
		} else if (strncmp(p, "@BLOB@", 6) == 0) {
			word = db->v->blob_type;
			skip = 6;
		}
		if (word != NULL) {
			assert_true(cap - o > strlen(word));
			memcpy(sql + o, word, strlen(word));
			o += strlen(word);
			p += skip;
		} else {
			assert_true(cap - o > 1);
			sql[o++] = *p++;
		}
	}
	sql[o] = '\0';
	assert_int_equal(db_exec_script(db, sql, error, sizeof(error)), DB_OK);
	free(sql);
	test_sql(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
	             " name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
	test_sql(db, "INSERT INTO schema_version VALUES (1, 'initial schema', 1)");
	/* Release 1's data: a user with a job and an app token. */
	test_sql(db, "INSERT INTO users (email, state, created_at, updated_at)"
	             " VALUES ('old@example.com', 'enabled', 1, 1)");
	test_sql(db, "INSERT INTO jobs (uuid, user_id, state, source, created_at, updated_at)"
	             " SELECT '0123456789abcdef0123456789abcdef', id, 'held', 'mail', 1, 1"
	             " FROM users");
	test_sql(db, "INSERT INTO tokens (token_hash, kind, user_id, created_at, expires_at,"
	             " last_used_at) SELECT 'h', 'app', id, 1, 2, 1 FROM users");
	int version = 0;
	assert_int_equal(db_schema_version(db, &version, error, sizeof(error)), DB_OK);
	assert_int_equal(version, 1);

	if (db_migrate(db, error, sizeof(error)) != DB_OK)
		fail_msg("migrate from 1: %s", error);
	assert_int_equal(db_schema_version(db, &version, error, sizeof(error)), DB_OK);
	assert_int_equal(version, migrations[count - 1].version);

	/* The old job reads as before, without a pin; the old token has an empty label. */
	pp_job_t job;
	char err[512];
	assert_int_equal(
	    job_get_by_uuid(&tc->core, "0123456789abcdef0123456789abcdef", &job, err, sizeof(err)),
	    0);
	assert_int_equal(job.state, PP_JOB_HELD);
	assert_false(job.has_pin);
	bool match = true;
	assert_int_equal(job_pin_verify(&tc->core, job.id, "1234", &match, err, sizeof(err)),
	                 JOB_OK);
	assert_false(match);
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(db, "SELECT label FROM tokens WHERE token_hash = 'h'", NULL, 0,
	                          &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), 1);
	assert_false(db_result_is_null(res, 0, 0));
	assert_string_equal(db_result_text(res, 0, 0), "");
	db_result_free(&res);
	/* New rows use the columns. */
	pp_job_t with_pin = test_job(&tc->core, job.user_id, "2468");
	assert_true(with_pin.has_pin);
	assert_true(pin_matches(&tc->core, with_pin.id, "2468"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_job_pin_verify),
	    TEST_CORE_CASE(test_job_pin_stored),
	    TEST_CORE_CASE(test_job_pin_not_logged),
	    TEST_CORE_CASE(test_job_pin_migration_from_1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
