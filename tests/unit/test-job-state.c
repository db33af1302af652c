/* test-job-state.c - the job state machine, on SQLite and PostgreSQL. */
#include "test-db-support.h"

#include "core/accounting.h"
#include "core/core.h"
#include "core/job-state.h"
#include "core/job.h"
#include "core/settings.h"
#include "lib/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 TEST_CORE_T0 /* where the fixture clock starts */

static void test_sql(pp_core_t *core, const char *sql, const pp_db_value_t *params, size_t n)
{
	char error[DB_ERROR_MAX];
	if (db_exec(core->db, sql, params, n, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
}

static int64_t test_int(pp_core_t *core, const char *sql, int64_t param)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	pp_db_value_t p[] = {DB_INT(param)};
	if (db_query(core->db, sql, p, 1, &res, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
	int64_t n = db_result_rows(res) > 0 && !db_result_is_null(res, 0, 0)
	                ? db_result_int(res, 0, 0)
	                : -1;
	db_result_free(&res);
	return n;
}

static int64_t test_user(pp_core_t *core, const char *email)
{
	pp_db_value_t p[] = {DB_TEXT(email)};
	test_sql(core,
	         "INSERT INTO users (email, department, state, created_at, updated_at)"
	         " VALUES ($1, 'Finance', 'enabled', 1, 1)",
	         p, 1);
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	assert_int_equal(db_query(core->db, "SELECT id FROM users WHERE email = $1", p, 1, &res,
	                          error, sizeof(error)),
	                 DB_OK);
	int64_t id = db_result_int(res, 0, 0);
	db_result_free(&res);
	return id;
}

static int64_t test_printer(pp_core_t *core, const char *name, bool is_enabled)
{
	pp_db_value_t p[] = {DB_TEXT(name), DB_INT(is_enabled ? 1 : 0)};
	test_sql(
	    core,
	    "INSERT INTO printers (name, alias, device_uri, is_enabled, created_at, updated_at)"
	    " VALUES ($1, $1, 'ipp://p.example.com/ipp/print', $2, 1, 1)",
	    p, 2);
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	assert_int_equal(db_query(core->db, "SELECT id FROM printers WHERE name = $1", p, 1, &res,
	                          error, sizeof(error)),
	                 DB_OK);
	int64_t id = db_result_int(res, 0, 0);
	db_result_free(&res);
	return id;
}

static pp_job_t test_job(pp_core_t *core, int64_t user_id, int64_t printer_id)
{
	pp_job_t job;
	char error[512];
	pp_job_new_t new_job = {
	    .user_id = user_id,
	    .source = "portal",
	    .title = "Quarterly report.pdf",
	    .printer_id = printer_id,
	    .size_bytes = 1234,
	};
	if (job_create(core, &new_job, &job, error, sizeof(error)) != 0)
		fail_msg("job_create: %s", error);
	return job;
}

/* Puts a job straight into a state (finished_at set for a final failure). */
static void test_force_state(pp_core_t *core, int64_t job_id, pp_job_state_t state,
                             bool is_final_failure)
{
	pp_db_value_t p[] = {DB_TEXT(job_state_name(state)), DB_INT(job_id),
	                     is_final_failure ? DB_INT(T0) : DB_NULL};
	test_sql(core, "UPDATE jobs SET state = $1, finished_at = $3 WHERE id = $2", p, 3);
}

/* The allowed moves, written out independently of the table in job-state.c. */
static const char *const allowed[] = {
    "received>converting", "received>rejected", "received>canceled",  "received>expired",
    "converting>received", "converting>held",   "converting>failed",  "converting>canceled",
    "converting>expired",  "held>releasing",    "held>canceled",      "held>expired",
    "releasing>printing",  "releasing>failed",  "releasing>canceled", "printing>completed",
    "printing>failed",     "printing>canceled", "failed>held",        "failed>canceled",
    "failed>expired",      "incoming>received", "incoming>canceled",  "incoming>expired",
};

static bool test_is_allowed(pp_job_state_t from, pp_job_state_t to)
{
	char pair[64];
	assert_true(
	    str_format(pair, sizeof(pair), "%s>%s", job_state_name(from), job_state_name(to)));
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strcmp(allowed[i], pair) == 0)
			return true;
	}
	return false;
}

static void test_job_state_table(void **state)
{
	(void)state;
	size_t n_allowed = 0;
	for (int from = 0; from < PP_JOB_STATE_COUNT; from++) {
		for (int to = 0; to < PP_JOB_STATE_COUNT; to++) {
			bool want = test_is_allowed((pp_job_state_t)from, (pp_job_state_t)to);
			if (job_state_can((pp_job_state_t)from, (pp_job_state_t)to) != want)
				fail_msg("%s -> %s should be %s",
				         job_state_name((pp_job_state_t)from),
				         job_state_name((pp_job_state_t)to),
				         want ? "allowed" : "forbidden");
			n_allowed += want;
		}
	}
	assert_int_equal(n_allowed, sizeof(allowed) / sizeof(allowed[0]));
	assert_false(job_state_can((pp_job_state_t)99, PP_JOB_HELD));
	assert_false(job_state_can(PP_JOB_HELD, (pp_job_state_t)-1));

	/* Names round-trip. */
	for (int s = 0; s < PP_JOB_STATE_COUNT; s++) {
		pp_job_state_t back;
		assert_true(job_state_parse(job_state_name((pp_job_state_t)s), &back));
		assert_int_equal(back, s);
	}
	pp_job_state_t x;
	assert_false(job_state_parse("paused", &x));
	assert_string_equal(job_state_name((pp_job_state_t)42), "unknown");
}

/* Every pair on a real row: allowed moves change the row, forbidden ones leave it. */
static void test_job_state_every_pair(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_user(core, "ann@example.com");
	int64_t printer = test_printer(core, "lab", true);

	for (int from = 0; from < PP_JOB_STATE_COUNT; from++) {
		for (int to = 0; to < PP_JOB_STATE_COUNT; to++) {
			pp_job_t job = test_job(core, user, 0);
			/* A failed job here is a retryable one (finished_at NULL). */
			test_force_state(core, job.id, (pp_job_state_t)from, false);
			pp_job_transition_t how = {.printer_id = printer, .reason = "test"};
			int rc = job_transition(core, job.id, (pp_job_state_t)from,
			                        (pp_job_state_t)to, &how, error, sizeof(error));
			bool want = test_is_allowed((pp_job_state_t)from, (pp_job_state_t)to);
			pp_job_t after;
			assert_int_equal(job_get(core, job.id, &after, error, sizeof(error)), 0);
			if (want && (rc != JOB_OK || after.state != (pp_job_state_t)to))
				fail_msg("%s -> %s refused: %d %s",
				         job_state_name((pp_job_state_t)from),
				         job_state_name((pp_job_state_t)to), rc, error);
			if (!want &&
			    (rc != JOB_STATE_FORBIDDEN || after.state != (pp_job_state_t)from))
				fail_msg("%s -> %s allowed: %d",
				         job_state_name((pp_job_state_t)from),
				         job_state_name((pp_job_state_t)to), rc);
		}
	}
}

/* A final failure is final; a retryable one goes back to held with its reason. */
static void test_job_state_failed_kinds(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_user(core, "ann@example.com");

	pp_job_t job = test_job(core, user, 0);
	test_force_state(core, job.id, PP_JOB_CONVERTING, false);
	pp_job_transition_t fail_final = {.reason = "document is damaged"};
	assert_int_equal(job_transition(core, job.id, PP_JOB_CONVERTING, PP_JOB_FAILED,
	                                &fail_final, error, sizeof(error)),
	                 JOB_OK);
	pp_job_t got;
	assert_int_equal(job_get(core, job.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.finished_at, T0);
	assert_int_equal(got.expires_at, 0);
	assert_int_equal(
	    job_transition(core, job.id, PP_JOB_FAILED, PP_JOB_HELD, NULL, error, sizeof(error)),
	    JOB_STATE_FORBIDDEN);
	assert_int_equal(job_transition(core, job.id, PP_JOB_FAILED, PP_JOB_CANCELED, NULL, error,
	                                sizeof(error)),
	                 JOB_STATE_FORBIDDEN);

	pp_job_t retry = test_job(core, user, 0);
	test_force_state(core, retry.id, PP_JOB_RELEASING, false);
	tc->now = T0 + 60;
	pp_job_transition_t fail_retry = {.reason = "printer offline", .is_retryable = true};
	assert_int_equal(job_transition(core, retry.id, PP_JOB_RELEASING, PP_JOB_FAILED,
	                                &fail_retry, error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(job_get(core, retry.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.finished_at, 0);
	assert_int_equal(got.expires_at, T0 + 60 + 24 * 3600);
	tc->now = T0 + 120;
	assert_int_equal(
	    job_transition(core, retry.id, PP_JOB_FAILED, PP_JOB_HELD, NULL, error, sizeof(error)),
	    JOB_OK);
	assert_int_equal(job_get(core, retry.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_JOB_HELD);
	assert_string_equal(got.state_reason, "printer offline");
	assert_int_equal(got.expires_at, T0 + 120 + 24 * 3600);
	/* No accounting: nothing ended after printing. */
	assert_int_equal(test_int(core, "SELECT COUNT(*) FROM accounting WHERE 0 = $1", 0), 0);
}

/* Timestamps, the retention setting, accounting on completion, audit for admins. */
static void test_job_state_timestamps(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_user(core, "ann@example.com");
	int64_t printer = test_printer(core, "lab", true);

	pp_job_t job = test_job(core, user, 0);
	assert_int_equal(job.state, PP_JOB_RECEIVED);
	assert_int_equal(strlen(job.uuid), CRYPTO_ID_HEX_LEN);
	assert_int_equal(job.created_at, T0);
	assert_int_equal(job.expires_at, T0 + 24 * 3600);
	assert_false(job.is_combined);

	assert_int_equal(
	    settings_set(core, "admin:root", "jobs.retention_hours", "2", error, sizeof(error)),
	    0);
	tc->now = T0 + 10;
	assert_int_equal(job_transition(core, job.id, PP_JOB_RECEIVED, PP_JOB_CONVERTING, NULL,
	                                error, sizeof(error)),
	                 JOB_OK);
	tc->now = T0 + 20;
	pp_job_transition_t counted = {.has_pages = true, .pages = 4, .color_pages = 1};
	assert_int_equal(job_transition(core, job.id, PP_JOB_CONVERTING, PP_JOB_HELD, &counted,
	                                error, sizeof(error)),
	                 JOB_OK);
	pp_job_t got;
	assert_int_equal(job_get(core, job.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.expires_at, T0 + 20 + 2 * 3600);
	assert_int_equal(got.pages, 4);
	assert_int_equal(got.color_pages, 1);
	assert_int_equal(got.updated_at, T0 + 20);
	assert_int_equal(got.released_at, 0);

	tc->now = T0 + 30;
	assert_int_equal(
	    job_release(core, job.id, printer, NULL, "user:ann", error, sizeof(error)), JOB_OK);
	assert_int_equal(job_get(core, job.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_JOB_RELEASING);
	assert_int_equal(got.released_at, T0 + 30);
	assert_int_equal(got.printer_id, printer);

	tc->now = T0 + 40;
	assert_int_equal(job_transition(core, job.id, PP_JOB_RELEASING, PP_JOB_PRINTING, NULL,
	                                error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(test_int(core, "SELECT COUNT(*) FROM accounting WHERE 0 = $1", 0), 0);
	tc->now = T0 + 50;
	pp_job_transition_t done = {.actor = "admin:root", .reason = "printed"};
	assert_int_equal(job_transition(core, job.id, PP_JOB_PRINTING, PP_JOB_COMPLETED, &done,
	                                error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(job_get(core, job.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.finished_at, T0 + 50);
	assert_int_equal(got.expires_at, 0);
	assert_string_equal(got.state_reason, "printed");

	pp_accounting_record_t rec;
	assert_int_equal(accounting_get(core, job.uuid, &rec, error, sizeof(error)), 0);
	assert_string_equal(rec.user_email, "ann@example.com");
	assert_string_equal(rec.department, "Finance");
	assert_string_equal(rec.printer_name, "lab");
	assert_string_equal(rec.final_state, "completed");
	assert_int_equal(rec.pages_mono, 3);
	assert_int_equal(rec.pages_color, 1);
	assert_int_equal(rec.sheets, 4);
	assert_int_equal(rec.submitted_at, T0);
	assert_int_equal(rec.finished_at, T0 + 50);

	/* Audit rows for the admin's move only (plus the setting change). */
	assert_int_equal(
	    test_int(core, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'job.%' AND 0 = $1",
	             0),
	    1);
	assert_int_equal(test_int(core,
	                          "SELECT COUNT(*) FROM audit_log WHERE action = 'job.completed'"
	                          " AND actor = 'admin:root' AND at = $1",
	                          T0 + 50),
	                 1);
}

/* Release checks the printer and may replace the options; the combined flow skips the wait. */
static void test_job_state_release(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_user(core, "ann@example.com");
	int64_t off = test_printer(core, "off", false);
	int64_t on = test_printer(core, "on", true);

	pp_job_t job = test_job(core, user, 0);
	test_force_state(core, job.id, PP_JOB_HELD, false);
	assert_int_equal(job_release(core, job.id, off, NULL, NULL, error, sizeof(error)),
	                 JOB_ERROR);
	assert_non_null(strstr(error, "disabled"));
	assert_int_equal(job_release(core, job.id, 9999, NULL, NULL, error, sizeof(error)),
	                 JOB_ERROR);
	assert_int_equal(job_release(core, job.id, 0, NULL, NULL, error, sizeof(error)),
	                 JOB_ERROR);
	pp_job_t got;
	assert_int_equal(job_get(core, job.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_JOB_HELD);

	pp_print_options_t opts;
	options_default(&opts);
	opts.copies = 0;
	assert_int_equal(job_release(core, job.id, on, &opts, NULL, error, sizeof(error)),
	                 JOB_ERROR);
	assert_true(str_has_prefix(error, "copies"));
	opts.copies = 3;
	opts.color_mode = PP_COLOR_MONOCHROME;
	assert_int_equal(job_release(core, job.id, on, &opts, NULL, error, sizeof(error)), JOB_OK);
	assert_int_equal(job_get(core, job.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_JOB_RELEASING);
	assert_int_equal(got.options.copies, 3);
	assert_int_equal(got.options.color_mode, PP_COLOR_MONOCHROME);
	/* A second release of the same job loses. */
	assert_int_equal(job_release(core, job.id, on, NULL, NULL, error, sizeof(error)),
	                 JOB_STATE_LOST);
	assert_int_equal(job_release(core, 123456, on, NULL, NULL, error, sizeof(error)),
	                 JOB_NOT_FOUND);

	/* Combined flow: the printer named at submission; held -> releasing at once. */
	pp_job_t combined = test_job(core, user, on);
	assert_true(combined.is_combined);
	assert_int_equal(combined.printer_id, on);
	test_force_state(core, combined.id, PP_JOB_CONVERTING, false);
	assert_int_equal(
	    job_hold(core, combined.id, PP_JOB_CONVERTING, NULL, error, sizeof(error)), JOB_OK);
	assert_int_equal(job_get(core, combined.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_JOB_RELEASING);
	assert_int_equal(got.released_at, T0);

	/* A plain job stays held. */
	pp_job_t plain = test_job(core, user, 0);
	test_force_state(core, plain.id, PP_JOB_CONVERTING, false);
	assert_int_equal(job_hold(core, plain.id, PP_JOB_CONVERTING, NULL, error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(job_get(core, plain.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_JOB_HELD);
}

/* Two handles, one move each from the same state: exactly one wins. */
typedef struct {
	pp_core_t *core;
	int64_t job_id;
	pp_job_state_t to;
	pthread_barrier_t *barrier;
	int rc;
} race_arg_t;

static void *race_thread(void *p)
{
	race_arg_t *a = p;
	char error[512];
	pthread_barrier_wait(a->barrier);
	a->rc = job_transition(a->core, a->job_id, PP_JOB_HELD, a->to, NULL, error, sizeof(error));
	return NULL;
}

static void test_job_state_race(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core_a = &tc->core;
	pp_core_t core_b;
	int64_t now_b;
	char error[512];
	/* The second mover holds a handle of its own, as a second server process would. */
	pp_db_t *db_b = NULL;
	assert_int_equal(db_open(tc->tdb->url, &db_b, error, sizeof(error)), DB_OK);
	assert_int_equal(test_core_init(&core_b, &now_b, db_b, NULL, TEST_CORE_KEY_BYTE), 0);
	int64_t user = test_user(core_a, "ann@example.com");

	for (int round = 0; round < 10; round++) {
		pp_job_t job = test_job(core_a, user, 0);
		test_force_state(core_a, job.id, PP_JOB_HELD, false);
		pthread_barrier_t barrier;
		assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
		race_arg_t a = {core_a, job.id, PP_JOB_CANCELED, &barrier, 99};
		race_arg_t b = {&core_b, job.id, PP_JOB_EXPIRED, &barrier, 99};
		pthread_t ta, tb;
		assert_int_equal(pthread_create(&ta, NULL, race_thread, &a), 0);
		assert_int_equal(pthread_create(&tb, NULL, race_thread, &b), 0);
		assert_int_equal(pthread_join(ta, NULL), 0);
		assert_int_equal(pthread_join(tb, NULL), 0);
		pthread_barrier_destroy(&barrier);
		int wins = (a.rc == JOB_OK) + (b.rc == JOB_OK);
		int losses = (a.rc == JOB_STATE_LOST) + (b.rc == JOB_STATE_LOST);
		if (wins != 1 || losses != 1)
			fail_msg("round %d: results %d and %d", round, a.rc, b.rc);
		pp_job_t got;
		assert_int_equal(job_get(core_a, job.id, &got, error, sizeof(error)), 0);
		assert_int_equal(got.state, a.rc == JOB_OK ? PP_JOB_CANCELED : PP_JOB_EXPIRED);
	}
	core_deinit(&core_b);
	db_close(&db_b);
}

/* The listing the portal shows: per user, newest first, by state, in pages. */
static void test_job_state_list(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t ann = test_user(core, "ann@example.com");
	int64_t bob = test_user(core, "bob@example.com");
	int64_t ids[7];
	for (int i = 0; i < 7; i++) {
		pp_job_t job = test_job(core, ann, 0);
		ids[i] = job.id;
		if (i % 2 == 1)
			test_force_state(core, job.id, PP_JOB_HELD, false);
	}
	(void)test_job(core, bob, 0);

	pp_job_t *jobs = NULL;
	size_t count = 0;
	int64_t cursor = 0;
	assert_int_equal(
	    job_list_for_user(core, ann, 0, 3, 0, &jobs, &count, &cursor, error, sizeof(error)),
	    0);
	assert_int_equal(count, 3);
	assert_int_equal(jobs[0].id, ids[6]);
	assert_int_equal(jobs[2].id, ids[4]);
	assert_int_equal(cursor, ids[4]);
	job_list_free(&jobs);
	assert_int_equal(job_list_for_user(core, ann, 0, 3, cursor, &jobs, &count, &cursor, error,
	                                   sizeof(error)),
	                 0);
	assert_int_equal(count, 3);
	assert_int_equal(jobs[0].id, ids[3]);
	job_list_free(&jobs);
	assert_int_equal(job_list_for_user(core, ann, 0, 3, cursor, &jobs, &count, &cursor, error,
	                                   sizeof(error)),
	                 0);
	assert_int_equal(count, 1);
	assert_int_equal(jobs[0].id, ids[0]);
	assert_int_equal(cursor, 0);
	job_list_free(&jobs);

	assert_int_equal(job_list_for_user(core, ann, JOB_STATE_BIT(PP_JOB_HELD), 100, 0, &jobs,
	                                   &count, &cursor, error, sizeof(error)),
	                 0);
	assert_int_equal(count, 3);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(jobs[i].state, PP_JOB_HELD);
	assert_string_equal(jobs[0].title, "Quarterly report.pdf");
	job_list_free(&jobs);
	assert_int_equal(
	    job_list_for_user(core, ann,
	                      JOB_STATE_BIT(PP_JOB_HELD) | JOB_STATE_BIT(PP_JOB_RECEIVED), 100, 0,
	                      &jobs, &count, &cursor, error, sizeof(error)),
	    0);
	assert_int_equal(count, 7);
	job_list_free(&jobs);
	assert_int_equal(job_list(core, 0, 100, 0, &jobs, &count, &cursor, error, sizeof(error)),
	                 0);
	assert_int_equal(count, 8);
	job_list_free(&jobs);
	assert_int_equal(
	    job_list_for_user(core, ann, 0, 0, 0, &jobs, &count, &cursor, error, sizeof(error)),
	    -1);
}

/*
 * Create-Job: the job waits in incoming for the operation time-out; once its document is in
 * it waits like any received job, for the retention time. Not finished meanwhile.
 */
static void test_job_state_incoming(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_user(core, "ann@example.com");
	assert_false(job_state_is_final(PP_JOB_INCOMING));
	assert_string_equal(job_state_name(PP_JOB_INCOMING), "incoming");

	pp_job_new_t new_job = {.user_id = user,
	                        .source = "ipp",
	                        .title = "Boarding pass",
	                        .is_incoming = true,
	                        .incoming_timeout_s = 300};
	pp_job_t job;
	assert_int_equal(job_create(core, &new_job, &job, error, sizeof(error)), 0);
	assert_int_equal(job.state, PP_JOB_INCOMING);
	assert_int_equal(job.expires_at, T0 + 300);
	assert_int_equal(job.finished_at, 0);
	assert_false(job.has_pin);

	/* Listed with the waiting jobs, and by its own state. */
	pp_job_t *jobs = NULL;
	size_t count = 0;
	int64_t cursor = 0;
	assert_int_equal(job_list_for_user(core, user, JOB_STATE_BIT(PP_JOB_INCOMING), 10, 0,
	                                   &jobs, &count, &cursor, error, sizeof(error)),
	                 0);
	assert_int_equal(count, 1);
	assert_int_equal(jobs[0].state, PP_JOB_INCOMING);
	job_list_free(&jobs);

	tc->now = T0 + 100;
	assert_int_equal(job_transition(core, job.id, PP_JOB_INCOMING, PP_JOB_RECEIVED, NULL,
	                                error, sizeof(error)),
	                 JOB_OK);
	pp_job_t got;
	assert_int_equal(job_get(core, job.id, &got, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_JOB_RECEIVED);
	assert_int_equal(got.expires_at, T0 + 100 + 24 * 3600);
	/* And there is no way back. */
	assert_int_equal(job_transition(core, job.id, PP_JOB_RECEIVED, PP_JOB_INCOMING, NULL,
	                                error, sizeof(error)),
	                 JOB_STATE_FORBIDDEN);

	/* An incoming job needs a time-out. */
	new_job.incoming_timeout_s = 0;
	assert_int_equal(job_create(core, &new_job, &job, error, sizeof(error)), -1);
}

/* Long titles are cut at a character boundary, not refused. */
static void test_job_state_title_cut(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	char title[600];
	int64_t user = test_user(core, "ann@example.com");
	/* "é" is two bytes: 300 of them make 600 bytes; the cut lands on a boundary. */
	size_t pos = 0;
	for (int i = 0; i < 299; i++) {
		title[pos++] = (char)0xC3;
		title[pos++] = (char)0xA9;
	}
	title[pos] = '\0';
	pp_job_new_t new_job = {.user_id = user, .source = "mail", .title = title};
	pp_job_t job;
	assert_int_equal(job_create(core, &new_job, &job, error, sizeof(error)), 0);
	assert_int_equal(strlen(job.title), 254);
	new_job.source = "";
	assert_int_equal(job_create(core, &new_job, &job, error, sizeof(error)), -1);
}

/* What job_create() hands back is what job_get() reads afterwards, field by field. */
static void assert_same_job(const pp_job_t *made, const pp_job_t *got)
{
	assert_int_equal(made->id, got->id);
	assert_string_equal(made->uuid, got->uuid);
	assert_int_equal(made->user_id, got->user_id);
	assert_int_equal(made->state, got->state);
	assert_string_equal(made->state_reason, got->state_reason);
	assert_string_equal(made->title, got->title);
	assert_string_equal(made->source, got->source);
	char *made_options = options_to_json(&made->options);
	char *got_options = options_to_json(&got->options);
	assert_non_null(made_options);
	assert_non_null(got_options);
	assert_string_equal(made_options, got_options);
	free(made_options);
	free(got_options);
	assert_int_equal(made->printer_id, got->printer_id);
	assert_int_equal(made->is_combined, got->is_combined);
	assert_int_equal(made->pages, got->pages);
	assert_int_equal(made->color_pages, got->color_pages);
	assert_int_equal(made->size_bytes, got->size_bytes);
	assert_int_equal(made->created_at, got->created_at);
	assert_int_equal(made->updated_at, got->updated_at);
	assert_int_equal(made->released_at, got->released_at);
	assert_int_equal(made->finished_at, got->finished_at);
	assert_int_equal(made->expires_at, got->expires_at);
	assert_int_equal(made->has_pin, got->has_pin);
}

/* A new job as job_create() returns it equals the stored row, for every kind of new job. */
static void test_job_state_created_as_stored(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_user(core, "ann@example.com");
	int64_t printer = test_printer(core, "lab", true);
	pp_print_options_t options;
	options_default(&options);
	options.copies = 3;
	options.sides = PP_SIDES_TWO_SIDED_LONG_EDGE;
	options.number_up = 2;
	options.n_page_ranges = 1;
	options.page_ranges[0] = (pp_page_range_t){.first = 2, .last = 5};
	const pp_job_new_t rows[] = {
	    {.user_id = user, .source = "ipp", .title = "Report", .size_bytes = 1234},
	    {.user_id = user, .source = "mail", .options = &options, .size_bytes = 1},
	    {.user_id = user, .source = "portal", .title = "to the lab", .printer_id = printer},
	    {.user_id = user, .source = "ipp", .title = "secret", .pin = "4711"},
	    {.user_id = user, .source = "ipp", .is_incoming = true, .incoming_timeout_s = 300},
	    {.user_id = user, .source = "cli", .title = "tab\there \xc3\xa9"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_job_t made, got;
		if (job_create(core, &rows[i], &made, error, sizeof(error)) != 0)
			fail_msg("row %zu: %s", i, error);
		assert_int_equal(job_get(core, made.id, &got, error, sizeof(error)), 0);
		assert_same_job(&made, &got);
	}
}

/* Whether a job's options may still change, by state: only until it is released. */
static const struct {
	pp_job_state_t state;
	int want;
} set_options_rows[] = {
    {PP_JOB_INCOMING, JOB_OK},
    {PP_JOB_RECEIVED, JOB_OK},
    {PP_JOB_CONVERTING, JOB_OK},
    {PP_JOB_HELD, JOB_OK},
    {PP_JOB_RELEASING, JOB_STATE_FORBIDDEN},
    {PP_JOB_PRINTING, JOB_STATE_FORBIDDEN},
    {PP_JOB_COMPLETED, JOB_STATE_FORBIDDEN},
    {PP_JOB_FAILED, JOB_STATE_FORBIDDEN},
    {PP_JOB_REJECTED, JOB_STATE_FORBIDDEN},
    {PP_JOB_CANCELED, JOB_STATE_FORBIDDEN},
    {PP_JOB_EXPIRED, JOB_STATE_FORBIDDEN},
};

/* Changing a waiting job's options (the portal's edit): stored, or refused with a reason. */
static void test_job_state_set_options(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	pp_print_options_t two;
	options_default(&two);
	two.copies = 2;
	two.color_mode = PP_COLOR_MONOCHROME;
	char error[512];
	int64_t ann = test_user(core, "ann@example.com");
	int64_t bob = test_user(core, "bob@example.com");

	for (size_t i = 0; i < sizeof(set_options_rows) / sizeof(set_options_rows[0]); i++) {
		pp_job_t job = test_job(core, ann, 0);
		test_force_state(core, job.id, set_options_rows[i].state, false);
		tc->now = T0 + 60 + (int64_t)i;
		int rc = job_set_options(core, job.id, ann, &two, error, sizeof(error));
		pp_job_t after;
		assert_int_equal(job_get(core, job.id, &after, error, sizeof(error)), JOB_OK);
		bool is_changed = after.options.copies == 2 &&
		                  after.options.color_mode == PP_COLOR_MONOCHROME &&
		                  after.updated_at == tc->now;
		if (rc != set_options_rows[i].want || is_changed != (rc == JOB_OK))
			fail_msg("row %zu (%s): rc %d, changed %d", i,
			         job_state_name(set_options_rows[i].state), rc, is_changed);
	}

	/* Another user's job is not found; administration (user 0) may change any. */
	pp_job_t job = test_job(core, ann, 0);
	assert_int_equal(job_set_options(core, job.id, bob, &two, error, sizeof(error)),
	                 JOB_NOT_FOUND);
	assert_int_equal(job_set_options(core, job.id + 1000, ann, &two, error, sizeof(error)),
	                 JOB_NOT_FOUND);
	assert_int_equal(job_set_options(core, job.id, 0, &two, error, sizeof(error)), JOB_OK);

	/* Invalid options change nothing. */
	pp_print_options_t bad = two;
	bad.copies = 0;
	assert_int_equal(job_set_options(core, job.id, ann, &bad, error, sizeof(error)),
	                 JOB_ERROR);
	pp_job_t after;
	assert_int_equal(job_get(core, job.id, &after, error, sizeof(error)), JOB_OK);
	assert_int_equal(after.options.copies, 2);
}

/* What an event stream polls: a user's jobs changed since a time, oldest change first. */
static void test_job_state_changes_since(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	pp_job_change_t changes[4];
	size_t count = 99;
	char error[512];
	int64_t ann = test_user(core, "ann@example.com");
	int64_t bob = test_user(core, "bob@example.com");
	pp_job_t first = test_job(core, ann, 0);
	tc->now = T0 + 10;
	pp_job_t second = test_job(core, ann, 0);
	(void)test_job(core, bob, 0);
	tc->now = T0 + 20;
	pp_print_options_t opts;
	options_default(&opts);
	assert_int_equal(job_set_options(core, first.id, ann, &opts, error, sizeof(error)),
	                 JOB_OK);

	assert_int_equal(
	    job_changes_since(core, ann, T0 + 5, changes, 4, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_int_equal(changes[0].id, second.id);
	assert_int_equal(changes[0].updated_at, T0 + 10);
	assert_int_equal(changes[0].state, PP_JOB_RECEIVED);
	assert_int_equal(changes[0].pages, -1);
	assert_int_equal(changes[1].id, first.id);
	assert_int_equal(changes[1].updated_at, T0 + 20);

	/* At most max rows; nothing newer than the last change. */
	assert_int_equal(job_changes_since(core, ann, 0, changes, 1, &count, error, sizeof(error)),
	                 0);
	assert_int_equal(count, 1);
	assert_int_equal(changes[0].id, second.id);
	assert_int_equal(
	    job_changes_since(core, ann, T0 + 21, changes, 4, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 0);
	assert_int_equal(job_changes_since(core, ann, 0, changes, 0, &count, error, sizeof(error)),
	                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_job_state_table),
	    TEST_CORE_CASE(test_job_state_every_pair),
	    TEST_CORE_CASE(test_job_state_failed_kinds),
	    TEST_CORE_CASE(test_job_state_timestamps),
	    TEST_CORE_CASE(test_job_state_release),
	    TEST_CORE_CASE(test_job_state_race),
	    TEST_CORE_CASE(test_job_state_list),
	    TEST_CORE_CASE(test_job_state_title_cut),
	    TEST_CORE_CASE(test_job_state_created_as_stored),
	    TEST_CORE_CASE(test_job_state_incoming),
	    TEST_CORE_CASE(test_job_state_set_options),
	    TEST_CORE_CASE(test_job_state_changes_since),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
