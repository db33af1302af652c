/* test-convert-queue.c - conversion claims and outcomes, on SQLite and PostgreSQL. */
#include "test-db-support.h"

#include "core/convert-queue.h"
#include "core/job-state.h"
#include "core/job.h"
#include "lib/crypto.h"
#include "lib/str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 TEST_CORE_T0

static void test_sql(pp_core_t *core, const char *sql, const pp_db_value_t *params, size_t n)
{
	char error[DB_ERROR_MAX];
	if (db_exec(core->db, sql, params, n, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
}

/* The first column of the first row as an integer; -1 for no row or NULL. */
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

/* The first column of the first row as text into buf ("" for no row). */
static const char *test_text(pp_core_t *core, const char *sql, int64_t param, char *buf,
                             size_t size)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	pp_db_value_t p[] = {DB_INT(param)};
	if (db_query(core->db, sql, p, 1, &res, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
	(void)str_copy(buf, size, db_result_rows(res) > 0 ? db_result_text(res, 0, 0) : "");
	db_result_free(&res);
	return buf;
}

static int64_t test_printer(pp_core_t *core)
{
	test_sql(core,
	         "INSERT INTO printers (name, alias, device_uri, created_at, updated_at)"
	         " VALUES ('hall', 'hall', 'ipp://p.example.com/ipp/print', 1, 1)",
	         NULL, 0);
	return test_int(core, "SELECT id FROM printers WHERE name = 'hall' AND $1 = $1", 0);
}

/* A received job with an original document (file id into file_id_r when not NULL). */
static int64_t test_job(pp_core_t *core, int64_t user_id, int64_t printer_id, char *file_id_r)
{
	pp_job_t job;
	char error[512];
	pp_job_new_t new_job = {
	    .user_id = user_id,
	    .source = "portal",
	    .title = "Minutes",
	    .printer_id = printer_id,
	    .size_bytes = 4321,
	};
	/* One transaction, as intake does: a received job always has its document. */
	if (db_tx_begin(core->db, error, sizeof(error)) != DB_OK)
		fail_msg("db_tx_begin: %s", error);
	if (job_create(core, &new_job, &job, error, sizeof(error)) != 0)
		fail_msg("job_create: %s", error);
	char file_id[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(file_id);
	if (job_document_add(
	        core, job.id, "original", file_id, "minutes.docx",
	        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 4321,
	        NULL, error, sizeof(error)) != 0)
		fail_msg("job_document_add: %s", error);
	if (db_tx_commit(core->db, error, sizeof(error)) != DB_OK)
		fail_msg("db_tx_commit: %s", error);
	if (file_id_r != NULL)
		memcpy(file_id_r, file_id, sizeof(file_id));
	return job.id;
}

static pp_job_state_t test_state(pp_core_t *core, int64_t job_id)
{
	pp_job_t job;
	char error[512];
	if (job_get(core, job_id, &job, error, sizeof(error)) != JOB_OK)
		fail_msg("job_get %lld: %s", (long long)job_id, error);
	return job.state;
}

static int64_t test_documents(pp_core_t *core, int64_t job_id)
{
	return test_int(core, "SELECT COUNT(*) FROM documents WHERE job_id = $1", job_id);
}

static void test_claim_order(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	char file1[CRYPTO_ID_HEX_LEN + 1];
	int64_t job1 = test_job(core, user, 0, file1);
	int64_t job2 = test_job(core, user, 0, NULL);
	int64_t job3 = test_job(core, user, 0, NULL);

	/* The oldest first, with its original document as the worker needs it. */
	pp_convert_task_t task;
	assert_int_equal(convert_queue_claim_next(core, "hostA:100", &task, error, sizeof(error)),
	                 1);
	assert_int_equal(task.job_id, job1);
	assert_int_equal(task.attempts, 1);
	assert_string_equal(task.file_id, file1);
	assert_string_equal(task.name, "minutes.docx");
	assert_true(str_has_prefix(task.content_type, "application/vnd.openxmlformats"));
	assert_int_equal(task.size_bytes, 4321);
	assert_int_equal(strlen(task.uuid), CRYPTO_ID_HEX_LEN);
	assert_int_equal(test_state(core, job1), PP_JOB_CONVERTING);
	char buf[256];
	assert_string_equal(test_text(core, "SELECT convert_worker FROM jobs WHERE id = $1", job1,
	                              buf, sizeof(buf)),
	                    "hostA:100");
	assert_int_equal(test_int(core, "SELECT convert_claimed_at FROM jobs WHERE id = $1", job1),
	                 T0);

	/* A named job is claimed directly; the queue then gives the one left. */
	assert_int_equal(convert_queue_claim(core, job3, "hostB:7", &task, error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(task.job_id, job3);
	assert_int_equal(convert_queue_claim_next(core, "hostA:100", &task, error, sizeof(error)),
	                 1);
	assert_int_equal(task.job_id, job2);
	assert_int_equal(convert_queue_claim_next(core, "hostA:100", &task, error, sizeof(error)),
	                 0);

	/* A job claimed already, or none at all. */
	assert_int_equal(convert_queue_claim(core, job1, "hostB:7", &task, error, sizeof(error)),
	                 JOB_STATE_LOST);
	assert_int_equal(convert_queue_claim(core, 999999, "hostB:7", &task, error, sizeof(error)),
	                 JOB_NOT_FOUND);

	/* A received job without its document cannot be converted: failed, and skipped. */
	int64_t broken = test_job(core, user, 0, NULL);
	pp_db_value_t p[] = {DB_INT(broken)};
	test_sql(core, "DELETE FROM documents WHERE job_id = $1", p, 1);
	int64_t job5 = test_job(core, user, 0, NULL);
	assert_int_equal(convert_queue_claim_next(core, "hostA:100", &task, error, sizeof(error)),
	                 1);
	assert_int_equal(task.job_id, job5);
	assert_int_equal(test_state(core, broken), PP_JOB_FAILED);
}

/* One claimer with its own connection: claims until the queue is empty. */
typedef struct {
	const char *url;
	const char *name;
	int64_t claimed[64];
	size_t n_claimed;
	char error[512];
	int rc;
} test_claimer_t;

static void *test_claimer_main(void *arg)
{
	test_claimer_t *c = arg;
	pp_db_t *db = NULL;
	pp_core_t core;
	int64_t now;
	c->rc = -1;
	if (db_open(c->url, &db, c->error, sizeof(c->error)) != DB_OK)
		return NULL;
	if (test_core_init(&core, &now, db, NULL, TEST_CORE_KEY_BYTE) != 0) {
		db_close(&db);
		return NULL;
	}
	for (;;) {
		pp_convert_task_t task;
		int rc =
		    convert_queue_claim_next(&core, c->name, &task, c->error, sizeof(c->error));
		if (rc < 0)
			goto out;
		if (rc == 0)
			break;
		if (c->n_claimed == sizeof(c->claimed) / sizeof(c->claimed[0]))
			goto out;
		c->claimed[c->n_claimed++] = task.job_id;
	}
	c->rc = 0;
out:
	core_deinit(&core);
	db_close(&db);
	return NULL;
}

static void test_claim_exclusive(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	enum { JOBS = 40 };
	int64_t ids[JOBS];
	for (size_t i = 0; i < JOBS; i++)
		ids[i] = test_job(core, user, 0, NULL);

	/* Two workers, two connections, racing for the same queue. */
	test_claimer_t claimers[2] = {{.url = tc->tdb->url, .name = "a:1"},
	                              {.url = tc->tdb->url, .name = "b:2"}};
	pthread_t threads[2];
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, test_claimer_main, &claimers[i]),
		                 0);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	for (size_t i = 0; i < 2; i++) {
		if (claimers[i].rc != 0)
			fail_msg("claimer %zu: %s", i, claimers[i].error);
	}

	/* Every job claimed exactly once, each by the worker the row names. */
	assert_int_equal(claimers[0].n_claimed + claimers[1].n_claimed, JOBS);
	for (size_t j = 0; j < JOBS; j++) {
		size_t seen = 0;
		for (size_t i = 0; i < 2; i++) {
			for (size_t k = 0; k < claimers[i].n_claimed; k++) {
				if (claimers[i].claimed[k] != ids[j])
					continue;
				seen++;
				char buf[64];
				assert_string_equal(
				    test_text(core, "SELECT convert_worker FROM jobs WHERE id = $1",
				              ids[j], buf, sizeof(buf)),
				    claimers[i].name);
			}
		}
		if (seen != 1)
			fail_msg("job %lld claimed %zu times", (long long)ids[j], seen);
		assert_int_equal(
		    test_int(core, "SELECT convert_attempts FROM jobs WHERE id = $1", ids[j]), 1);
	}
}

static void test_claim(pp_core_t *core, int64_t job_id)
{
	pp_convert_task_t task;
	char error[512];
	if (convert_queue_claim(core, job_id, "host:1", &task, error, sizeof(error)) != JOB_OK)
		fail_msg("claim %lld: %s", (long long)job_id, error);
}

static void test_complete_holds(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	int64_t job_id = test_job(core, user, 0, NULL);
	test_claim(core, job_id);

	/* An earlier attempt died after recording a PDF: complete replaces it. */
	char stale[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(stale);
	assert_int_equal(job_document_add(core, job_id, "pdf", stale, NULL, "application/pdf", 10,
	                                  NULL, error, sizeof(error)),
	                 0);

	char pdf[CRYPTO_ID_HEX_LEN + 1], thumb[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(pdf);
	crypto_random_id(thumb);
	pp_convert_output_t outputs[] = {
	    {.role = "pdf", .file_id = pdf, .content_type = "application/pdf", .size_bytes = 9000},
	    {.role = "thumb:1", .file_id = thumb, .content_type = "image/jpeg", .size_bytes = 800},
	};
	const char *info = "[{\"w\":595,\"h\":842,\"color\":false},{\"w\":595,\"h\":842,"
	                   "\"color\":true},{\"w\":842,\"h\":595,\"color\":false}]";
	assert_int_equal(
	    convert_queue_complete(core, job_id, outputs, 2, 3, 1, info, error, sizeof(error)),
	    JOB_OK);

	/* What the owner sees: held, three pages (one in colour), a PDF and a thumbnail. */
	pp_job_t job;
	assert_int_equal(job_get(core, job_id, &job, error, sizeof(error)), JOB_OK);
	assert_int_equal(job.state, PP_JOB_HELD);
	assert_int_equal(job.pages, 3);
	assert_int_equal(job.color_pages, 1);
	char buf[512];
	assert_string_equal(
	    test_text(core, "SELECT page_info FROM jobs WHERE id = $1", job_id, buf, sizeof(buf)),
	    info);
	pp_document_t *docs = NULL;
	size_t n = 0;
	assert_int_equal(job_documents(core, job_id, &docs, &n, error, sizeof(error)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(docs[0].role, "original");
	assert_string_equal(docs[1].role, "pdf");
	assert_string_equal(docs[1].file_id, pdf);
	assert_string_equal(docs[1].content_type, "application/pdf");
	assert_int_equal(docs[1].size_bytes, 9000);
	assert_string_equal(docs[2].role, "thumb:1");
	assert_string_equal(docs[2].file_id, thumb);
	job_documents_free(&docs);
}

static void test_complete_combined_releases(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	int64_t printer = test_printer(core);
	int64_t job_id = test_job(core, user, printer, NULL);
	test_claim(core, job_id);
	assert_int_equal(
	    convert_queue_complete(core, job_id, NULL, 0, 1, 0, NULL, error, sizeof(error)),
	    JOB_OK);
	assert_int_equal(test_state(core, job_id), PP_JOB_RELEASING);

	/* The printer was disabled meanwhile: the conversion still counts, the job waits held. */
	int64_t job2 = test_job(core, user, printer, NULL);
	test_claim(core, job2);
	pp_db_value_t p[] = {DB_INT(printer)};
	test_sql(core, "UPDATE printers SET is_enabled = 0 WHERE id = $1", p, 1);
	char pdf[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(pdf);
	pp_convert_output_t out = {.role = "pdf", .file_id = pdf, .size_bytes = 5};
	assert_int_equal(
	    convert_queue_complete(core, job2, &out, 1, 1, 0, NULL, error, sizeof(error)), JOB_OK);
	assert_int_equal(test_state(core, job2), PP_JOB_HELD);
	assert_int_equal(test_documents(core, job2), 2);
}

static void test_complete_not_converting(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	char pdf[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(pdf);
	pp_convert_output_t out = {.role = "pdf", .file_id = pdf, .size_bytes = 5};

	/* Never claimed, canceled while converting, or gone: nothing is written. */
	int64_t received = test_job(core, user, 0, NULL);
	int64_t canceled = test_job(core, user, 0, NULL);
	test_claim(core, canceled);
	assert_int_equal(job_transition(core, canceled, PP_JOB_CONVERTING, PP_JOB_CANCELED, NULL,
	                                error, sizeof(error)),
	                 JOB_OK);
	const struct {
		int64_t job_id;
		int rc;
	} rows[] = {
	    {received, JOB_STATE_LOST}, {canceled, JOB_STATE_LOST}, {999999, JOB_NOT_FOUND}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = convert_queue_complete(core, rows[i].job_id, &out, 1, 2, 0, "[{}]", error,
		                                sizeof(error));
		if (rc != rows[i].rc)
			fail_msg("row %zu: got %d, want %d (%s)", i, rc, rows[i].rc, error);
	}
	assert_int_equal(test_documents(core, received), 1);
	assert_int_equal(test_documents(core, canceled), 1);
	char buf[64];
	assert_string_equal(
	    test_text(core, "SELECT page_info FROM jobs WHERE id = $1", received, buf, sizeof(buf)),
	    "[]");
	assert_int_equal(test_state(core, received), PP_JOB_RECEIVED);
	assert_int_equal(test_state(core, canceled), PP_JOB_CANCELED);

	/* A bad analysis is refused before anything is written. */
	int64_t job = test_job(core, user, 0, NULL);
	test_claim(core, job);
	assert_int_equal(
	    convert_queue_complete(core, job, &out, 1, 2, 0, "{not json", error, sizeof(error)),
	    JOB_ERROR);
	assert_int_equal(
	    convert_queue_complete(core, job, &out, 1, 2, 3, "[]", error, sizeof(error)),
	    JOB_ERROR);
	assert_int_equal(test_documents(core, job), 1);
	assert_int_equal(test_state(core, job), PP_JOB_CONVERTING);
}

static void test_fail_is_final(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	int64_t job_id = test_job(core, user, 0, NULL);
	test_claim(core, job_id);
	assert_int_equal(convert_queue_fail(core, job_id,
	                                    "The document is protected by a password.", error,
	                                    sizeof(error)),
	                 JOB_OK);
	pp_job_t job;
	assert_int_equal(job_get(core, job_id, &job, error, sizeof(error)), JOB_OK);
	assert_int_equal(job.state, PP_JOB_FAILED);
	assert_string_equal(job.state_reason, "The document is protected by a password.");
	assert_int_equal(job.finished_at, T0);
	/* Final: it cannot be held again. */
	assert_int_equal(job_hold(core, job_id, PP_JOB_FAILED, NULL, error, sizeof(error)),
	                 JOB_STATE_FORBIDDEN);
	/* Failing a job that is not converting changes nothing. */
	assert_int_equal(convert_queue_fail(core, job_id, "again", error, sizeof(error)),
	                 JOB_STATE_LOST);
}

static void test_abandon_then_fail(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	int64_t job_id = test_job(core, user, 0, NULL);
	const char *reason = "The converter stopped while converting this document.";

	/* Attempt 1 of 2: back to the queue. */
	test_claim(core, job_id);
	bool requeued = false;
	assert_int_equal(
	    convert_queue_abandon(core, job_id, 2, reason, &requeued, error, sizeof(error)),
	    JOB_OK);
	assert_true(requeued);
	assert_int_equal(test_state(core, job_id), PP_JOB_RECEIVED);

	/* Attempt 2 of 2: failed for good, with the reason. */
	pp_convert_task_t task;
	assert_int_equal(convert_queue_claim_next(core, "host:2", &task, error, sizeof(error)), 1);
	assert_int_equal(task.attempts, 2);
	assert_int_equal(
	    convert_queue_abandon(core, job_id, 2, reason, &requeued, error, sizeof(error)),
	    JOB_OK);
	assert_false(requeued);
	pp_job_t job;
	assert_int_equal(job_get(core, job_id, &job, error, sizeof(error)), JOB_OK);
	assert_int_equal(job.state, PP_JOB_FAILED);
	assert_string_equal(job.state_reason, reason);

	/* Abandoning a job that is not converting, or none. */
	assert_int_equal(convert_queue_abandon(core, job_id, 2, reason, NULL, error, sizeof(error)),
	                 JOB_STATE_LOST);
	assert_int_equal(convert_queue_abandon(core, 999999, 2, reason, NULL, error, sizeof(error)),
	                 JOB_NOT_FOUND);
}

static void test_requeue_stale(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	int64_t job_id = test_job(core, user, 0, NULL);
	int64_t fresh = test_job(core, user, 0, NULL);
	test_claim(core, job_id);

	/* Within its lease: left alone. */
	size_t requeued = 9, failed = 9;
	test_core_advance(tc, 100);
	test_claim(core, fresh);
	assert_int_equal(
	    convert_queue_requeue_stale(core, 300, 2, &requeued, &failed, error, sizeof(error)), 0);
	assert_int_equal(requeued, 0);
	assert_int_equal(failed, 0);
	assert_int_equal(test_state(core, job_id), PP_JOB_CONVERTING);

	/* Past it: back to received; the younger claim stays. */
	test_core_advance(tc, 250);
	assert_int_equal(
	    convert_queue_requeue_stale(core, 300, 2, &requeued, &failed, error, sizeof(error)), 0);
	assert_int_equal(requeued, 1);
	assert_int_equal(failed, 0);
	assert_int_equal(test_state(core, job_id), PP_JOB_RECEIVED);
	assert_int_equal(test_state(core, fresh), PP_JOB_CONVERTING);

	/* Claimed again and stale again: its attempts are used up. */
	test_claim(core, job_id);
	test_core_advance(tc, 1000);
	assert_int_equal(
	    convert_queue_requeue_stale(core, 300, 2, &requeued, &failed, error, sizeof(error)), 0);
	assert_int_equal(requeued, 1); /* fresh, on its first attempt */
	assert_int_equal(failed, 1);
	assert_int_equal(test_state(core, job_id), PP_JOB_FAILED);
	assert_int_equal(test_state(core, fresh), PP_JOB_RECEIVED);
}

static void test_add_outputs(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	int64_t job_id = test_job(core, user, 0, NULL);
	test_claim(core, job_id);
	assert_int_equal(
	    convert_queue_complete(core, job_id, NULL, 0, 5, 0, "[]", error, sizeof(error)),
	    JOB_OK);

	/* Previews of pages 4 and 5, rendered on demand while the job is held. */
	char ids[2][CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(ids[0]);
	crypto_random_id(ids[1]);
	pp_convert_output_t outputs[] = {
	    {.role = "preview:4", .file_id = ids[0], .content_type = "image/jpeg", .size_bytes = 1},
	    {.role = "preview:5", .file_id = ids[1], .content_type = "image/jpeg", .size_bytes = 2},
	};
	assert_int_equal(convert_queue_add_outputs(core, job_id, outputs, 2, error, sizeof(error)),
	                 0);
	assert_int_equal(test_documents(core, job_id), 3);
	assert_int_equal(test_int(core,
	                          "SELECT COUNT(*) FROM documents WHERE job_id = $1"
	                          " AND role = 'preview:5' AND content_type = 'image/jpeg'",
	                          job_id),
	                 1);
	assert_int_equal(test_state(core, job_id), PP_JOB_HELD);

	/* One bad row (a file id used twice) adds nothing; an unknown job is refused. */
	char other[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(other);
	pp_convert_output_t dup[] = {
	    {.role = "preview:6", .file_id = other, .size_bytes = 1},
	    {.role = "preview:7", .file_id = ids[0], .size_bytes = 1},
	};
	assert_int_equal(convert_queue_add_outputs(core, job_id, dup, 2, error, sizeof(error)), -1);
	assert_int_equal(test_documents(core, job_id), 3);
	assert_int_equal(convert_queue_add_outputs(core, 999999, outputs, 1, error, sizeof(error)),
	                 -1);
	pp_convert_output_t original = {.role = "original", .file_id = other, .size_bytes = 1};
	assert_int_equal(
	    convert_queue_add_outputs(core, job_id, &original, 1, error, sizeof(error)), -1);
}

static void test_counts(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t waiting = -1, converting = -1;
	assert_int_equal(convert_queue_counts(core, &waiting, &converting, error, sizeof(error)),
	                 0);
	assert_int_equal(waiting, 0);
	assert_int_equal(converting, 0);
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	for (int i = 0; i < 3; i++)
		(void)test_job(core, user, 0, NULL);
	pp_convert_task_t task;
	assert_int_equal(convert_queue_claim_next(core, "h:1", &task, error, sizeof(error)), 1);
	assert_int_equal(convert_queue_counts(core, &waiting, &converting, error, sizeof(error)),
	                 0);
	assert_int_equal(waiting, 2);
	assert_int_equal(converting, 1);
}

/* The page analysis as the portal shows it: "[]" before conversion, then what was stored. */
static void test_page_info(void **state)
{
	pp_core_t *core = &TEST_CORE(state)->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	int64_t job_id = test_job(core, user, 0, NULL);
	char *info = NULL;
	assert_int_equal(convert_queue_page_info(core, job_id, &info, error, sizeof(error)),
	                 JOB_OK);
	assert_string_equal(info, "[]");
	free(info);

	test_claim(core, job_id);
	const char *analysis = "[{\"w\":612,\"h\":792,\"color\":true}]";
	assert_int_equal(
	    convert_queue_complete(core, job_id, NULL, 0, 1, 1, analysis, error, sizeof(error)),
	    JOB_OK);
	assert_int_equal(convert_queue_page_info(core, job_id, &info, error, sizeof(error)),
	                 JOB_OK);
	assert_string_equal(info, analysis);
	free(info);

	info = (char *)"untouched";
	assert_int_equal(convert_queue_page_info(core, job_id + 1000, &info, error, sizeof(error)),
	                 JOB_NOT_FOUND);
	assert_null(info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_claim_order),
	    TEST_CORE_CASE(test_claim_exclusive),
	    TEST_CORE_CASE(test_complete_holds),
	    TEST_CORE_CASE(test_complete_combined_releases),
	    TEST_CORE_CASE(test_complete_not_converting),
	    TEST_CORE_CASE(test_fail_is_final),
	    TEST_CORE_CASE(test_abandon_then_fail),
	    TEST_CORE_CASE(test_requeue_stale),
	    TEST_CORE_CASE(test_add_outputs),
	    TEST_CORE_CASE(test_counts),
	    TEST_CORE_CASE(test_page_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
