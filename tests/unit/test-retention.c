/*
 * test-retention.c - the retention sweeper with the clock moved: unprinted jobs expire,
 * printed jobs lose their files per policy, old rows and records go; files really leave the
 * spool directory. On SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "core/accounting.h"
#include "core/core.h"
#include "core/intake.h"
#include "core/job-state.h"
#include "core/job.h"
#include "core/retention.h"
#include "core/settings.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 TEST_CORE_T0 /* where the fixture clock starts */
#define HOUR 3600

typedef struct {
	pp_spool_t *spool;
	pp_core_t core;
	int64_t now;
	int64_t user;
	char spool_dir[4096];
} fixture_t;

static void fixture_open(test_db_t *t, fixture_t *f)
{
	static const uint8_t key[SPOOL_KEY_BYTES] = {1, 2, 3};
	char error[512];
	memset(f, 0, sizeof(*f));
	assert_true(crypto_init());
	assert_true(str_format(f->spool_dir, sizeof(f->spool_dir), "%s/spool", t->dir));
	if (spool_open(f->spool_dir, key, true, 1 << 20, &f->spool, error, sizeof(error)) < 0)
		fail_msg("spool: %s", error);
	/* The shared core fixture, with this fixture's spool (test_core_t has none). */
	assert_int_equal(test_core_init(&f->core, &f->now, t->db, f->spool, TEST_CORE_KEY_BYTE), 0);
	assert_int_equal(db_exec(t->db,
	                         "INSERT INTO users (email, state, created_at, updated_at)"
	                         " VALUES ('ann@example.com', 'enabled', 1, 1)",
	                         NULL, 0, NULL, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(
	    db_exec(t->db,
	            "INSERT INTO printers (name, alias, device_uri, created_at, updated_at)"
	            " VALUES ('lab', 'lab', 'ipp://lab/ipp/print', 1, 1)",
	            NULL, 0, NULL, error, sizeof(error)),
	    DB_OK);
	pp_db_result_t *res = NULL;
	assert_int_equal(
	    db_query(t->db, "SELECT id FROM users", NULL, 0, &res, error, sizeof(error)), DB_OK);
	f->user = db_result_int(res, 0, 0);
	db_result_free(&res);
}

static void fixture_close(fixture_t *f)
{
	core_deinit(&f->core);
	spool_close(&f->spool);
}

typedef struct {
	const char *text;
	size_t pos;
} memdoc_t;

static ssize_t memdoc_read(void *ctx, void *buf, size_t size, char *error, size_t error_size)
{
	(void)error;
	(void)error_size;
	memdoc_t *m = ctx;
	size_t n = strlen(m->text + m->pos);
	if (n > size)
		n = size;
	memcpy(buf, m->text + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/* A stored job (state received at the current time). */
static pp_intake_result_t submit(fixture_t *f)
{
	char error[512];
	memdoc_t m = {.text = "%PDF-1.7 pretend"};
	pp_intake_t doc = {.user_id = f->user, .source = "mail", .name = "doc.pdf"};
	pp_intake_result_t r;
	if (intake_store_document(&f->core, &doc, memdoc_read, &m, &r, error, sizeof(error)) < 0)
		fail_msg("intake: %s", error);
	return r;
}

static void move(fixture_t *f, int64_t job_id, pp_job_state_t from, pp_job_state_t to)
{
	char error[512];
	pp_job_transition_t how = {.printer_id = 0, .has_pages = true, .pages = 2};
	int rc = to == PP_JOB_RELEASING
	             ? job_release(&f->core, job_id, 1, NULL, NULL, error, sizeof(error))
	             : job_transition(&f->core, job_id, from, to, &how, error, sizeof(error));
	if (rc != JOB_OK)
		fail_msg("%s -> %s: %s", job_state_name(from), job_state_name(to), error);
}

/* A job taken all the way to completed at the current time. */
static pp_intake_result_t submit_printed(fixture_t *f)
{
	pp_intake_result_t r = submit(f);
	move(f, r.job_id, PP_JOB_RECEIVED, PP_JOB_CONVERTING);
	move(f, r.job_id, PP_JOB_CONVERTING, PP_JOB_HELD);
	move(f, r.job_id, PP_JOB_HELD, PP_JOB_RELEASING);
	move(f, r.job_id, PP_JOB_RELEASING, PP_JOB_PRINTING);
	move(f, r.job_id, PP_JOB_PRINTING, PP_JOB_COMPLETED);
	return r;
}

static size_t walk_count;

static int walk_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)st;
	(void)ftw;
	if (flag == FTW_F)
		walk_count++;
	return 0;
}

/*
 * Stored documents, as an administrator would count them: regular files in the spool
 * directory, and the small documents kept in the database.
 */
static size_t spool_files(fixture_t *f)
{
	walk_count = 0;
	assert_int_equal(nftw(f->spool_dir, walk_entry, 16, FTW_PHYS), 0);
	char error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(f->core.db, "SELECT COUNT(*) FROM documents WHERE sealed IS NOT NULL", NULL, 0, &res,
	                          error, sizeof(error)),
	                 DB_OK);
	size_t kept_inline = (size_t)db_result_int(res, 0, 0);
	db_result_free(&res);
	return walk_count + kept_inline;
}

static bool file_exists(fixture_t *f, const char *file_id)
{
	char error[256];
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(f->spool, file_id, &reader, error, sizeof(error)) < 0)
		return false;
	spool_reader_close(&reader);
	return true;
}

static pp_retention_stats_t sweep(fixture_t *f, size_t batch)
{
	pp_retention_stats_t st;
	char error[512];
	if (retention_sweep(&f->core, batch, &st, error, sizeof(error)) < 0)
		fail_msg("sweep: %s", error);
	return st;
}

static pp_job_state_t state_of(fixture_t *f, int64_t job_id)
{
	pp_job_t job;
	char error[512];
	assert_int_equal(job_get(&f->core, job_id, &job, error, sizeof(error)), 0);
	return job.state;
}

static void set(fixture_t *f, const char *name, const char *value)
{
	char error[512];
	if (settings_set(&f->core, "admin:root", name, value, error, sizeof(error)) < 0)
		fail_msg("%s: %s", name, error);
}

static void test_retention_expires_unprinted(void **state)
{
	fixture_t f;
	fixture_open(TEST_DB(state), &f);
	pp_intake_result_t received = submit(&f);
	pp_intake_result_t held = submit(&f);
	move(&f, held.job_id, PP_JOB_RECEIVED, PP_JOB_CONVERTING);
	f.now = T0 + HOUR;
	move(&f, held.job_id, PP_JOB_CONVERTING, PP_JOB_HELD); /* expires at T0 + 25 h */
	assert_int_equal(spool_files(&f), 2);

	/* One second early: nothing happens. */
	f.now = T0 + 24 * HOUR - 1;
	pp_retention_stats_t st = sweep(&f, 0);
	assert_int_equal(st.jobs_expired, 0);
	assert_int_equal(st.files_deleted, 0);
	assert_int_equal(spool_files(&f), 2);

	f.now = T0 + 24 * HOUR;
	st = sweep(&f, 0);
	assert_int_equal(st.jobs_expired, 1);
	assert_int_equal(st.files_deleted, 1);
	assert_int_equal(state_of(&f, received.job_id), PP_JOB_EXPIRED);
	assert_false(file_exists(&f, received.file_id));
	assert_int_equal(state_of(&f, held.job_id), PP_JOB_HELD);
	assert_true(file_exists(&f, held.file_id));
	assert_int_equal(spool_files(&f), 1);

	f.now = T0 + 25 * HOUR;
	st = sweep(&f, 0);
	assert_int_equal(st.jobs_expired, 1);
	assert_int_equal(state_of(&f, held.job_id), PP_JOB_EXPIRED);
	assert_int_equal(spool_files(&f), 0);

	/* The rows stay as history; a second sweep finds nothing to do. */
	pp_job_t job;
	char error[512];
	assert_int_equal(job_get(&f.core, held.job_id, &job, error, sizeof(error)), 0);
	assert_int_equal(job.finished_at, T0 + 25 * HOUR);
	st = sweep(&f, 0);
	pp_retention_stats_t zero = {0};
	assert_memory_equal(&st, &zero, sizeof(st));
	fixture_close(&f);
}

static void test_retention_retryable_failure_expires(void **state)
{
	fixture_t f;
	fixture_open(TEST_DB(state), &f);
	set(&f, "jobs.retention_hours", "1");
	pp_intake_result_t r = submit(&f);
	move(&f, r.job_id, PP_JOB_RECEIVED, PP_JOB_CONVERTING);
	move(&f, r.job_id, PP_JOB_CONVERTING, PP_JOB_HELD);
	move(&f, r.job_id, PP_JOB_HELD, PP_JOB_RELEASING);
	char error[512];
	pp_job_transition_t how = {.is_retryable = true, .reason = "printer offline"};
	f.now = T0 + 100;
	assert_int_equal(job_transition(&f.core, r.job_id, PP_JOB_RELEASING, PP_JOB_FAILED, &how,
	                                error, sizeof(error)),
	                 JOB_OK);
	f.now = T0 + 100 + HOUR - 1;
	(void)sweep(&f, 0);
	assert_int_equal(state_of(&f, r.job_id), PP_JOB_FAILED);
	assert_true(file_exists(&f, r.file_id));
	f.now = T0 + 100 + HOUR;
	pp_retention_stats_t st = sweep(&f, 0);
	assert_int_equal(st.jobs_expired, 1);
	assert_int_equal(state_of(&f, r.job_id), PP_JOB_EXPIRED);
	assert_false(file_exists(&f, r.file_id));
	fixture_close(&f);
}

static void test_retention_printed_delete(void **state)
{
	fixture_t f;
	fixture_open(TEST_DB(state), &f);
	pp_intake_result_t r = submit_printed(&f);
	pp_intake_result_t waiting = submit(&f);
	assert_int_equal(spool_files(&f), 2);
	pp_retention_stats_t st = sweep(&f, 0);
	assert_int_equal(st.jobs_emptied, 1);
	assert_int_equal(st.files_deleted, 1);
	assert_false(file_exists(&f, r.file_id));
	assert_true(file_exists(&f, waiting.file_id));
	assert_int_equal(spool_files(&f), 1);
	/* The job row stays (history), without documents; the accounting record too. */
	assert_int_equal(state_of(&f, r.job_id), PP_JOB_COMPLETED);
	pp_document_t *docs = NULL;
	size_t n = 99;
	char error[512];
	assert_int_equal(job_documents(&f.core, r.job_id, &docs, &n, error, sizeof(error)), 0);
	assert_int_equal(n, 0);
	job_documents_free(&docs);
	pp_accounting_record_t rec;
	assert_int_equal(accounting_get(&f.core, r.uuid, &rec, error, sizeof(error)), 0);
	fixture_close(&f);
}

static void test_retention_printed_keep(void **state)
{
	fixture_t f;
	fixture_open(TEST_DB(state), &f);
	set(&f, "jobs.printed_policy", "keep");
	set(&f, "jobs.printed_keep_hours", "2");
	pp_intake_result_t r = submit_printed(&f);

	f.now = T0 + 2 * HOUR - 1;
	pp_retention_stats_t st = sweep(&f, 0);
	assert_int_equal(st.files_deleted, 0);
	assert_true(file_exists(&f, r.file_id));

	f.now = T0 + 2 * HOUR;
	st = sweep(&f, 0);
	assert_int_equal(st.files_deleted, 1);
	assert_false(file_exists(&f, r.file_id));
	assert_int_equal(spool_files(&f), 0);
	fixture_close(&f);
}

/* Rows of old finished jobs and old accounting records go after accounting.retention_days. */
static void test_retention_purge(void **state)
{
	fixture_t f;
	char error[512];
	fixture_open(TEST_DB(state), &f);
	set(&f, "accounting.retention_days", "1");
	set(&f, "jobs.retention_hours", "8760");
	pp_intake_result_t printed = submit_printed(&f);
	pp_intake_result_t waiting = submit(&f);
	f.now = T0 + 12 * HOUR;
	pp_intake_result_t later = submit_printed(&f);

	f.now = T0 + 24 * HOUR;
	pp_retention_stats_t st = sweep(&f, 0);
	assert_int_equal(st.jobs_purged, 1);
	assert_int_equal(st.accounting_purged, 1);
	pp_job_t job;
	assert_int_equal(job_get(&f.core, printed.job_id, &job, error, sizeof(error)),
	                 JOB_NOT_FOUND);
	pp_accounting_record_t rec;
	assert_int_equal(accounting_get(&f.core, printed.uuid, &rec, error, sizeof(error)),
	                 JOB_NOT_FOUND);
	assert_int_equal(accounting_get(&f.core, later.uuid, &rec, error, sizeof(error)), 0);
	assert_int_equal(job_get(&f.core, later.job_id, &job, error, sizeof(error)), 0);
	/* A waiting job is not history: it stays, with its file. */
	assert_int_equal(state_of(&f, waiting.job_id), PP_JOB_RECEIVED);
	assert_true(file_exists(&f, waiting.file_id));
	assert_int_equal(spool_files(&f), 1);
	fixture_close(&f);
}

/*
 * Create-Job jobs whose document did not arrive (or was never closed) within the operation
 * time-out expire; a document that did arrive goes with them, like any expired job's.
 */
static void test_retention_expires_incoming(void **state)
{
	fixture_t f;
	char error[512];
	fixture_open(TEST_DB(state), &f);
	pp_intake_t doc = {.user_id = f.user, .source = "ipp", .title = "Scan", .pin = "8642"};
	pp_intake_result_t empty, half;
	assert_int_equal(intake_create_incoming(&f.core, &doc, 300, &empty, error, sizeof(error)),
	                 0);
	assert_int_equal(intake_create_incoming(&f.core, &doc, 300, &half, error, sizeof(error)),
	                 0);
	/* half got its document (not the last one), then the client went away. */
	pp_spool_writer_t *w = NULL;
	char file_id[SPOOL_ID_LEN + 1];
	uint64_t size = 0;
	assert_int_equal(spool_writer_open(f.spool, &w, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(w, "%PDF", 4, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_finish(&w, file_id, &size, error, sizeof(error)), 0);
	f.now = T0 + 60;
	pp_spool_doc_t half_doc = {.size = size};
	memcpy(half_doc.file_id, file_id, sizeof(file_id));
	assert_int_equal(intake_attach_spooled(&f.core, half.job_id, f.user, &half_doc, NULL, NULL,
	                                       false, NULL, error, sizeof(error)),
	                 JOB_OK);
	pp_intake_result_t waiting = submit(&f); /* a received job: the retention time applies */
	assert_int_equal(spool_files(&f), 2);

	f.now = T0 + 299;
	pp_retention_stats_t st = sweep(&f, 0);
	assert_int_equal(st.jobs_expired, 0);
	assert_int_equal(state_of(&f, empty.job_id), PP_JOB_INCOMING);

	f.now = T0 + 300;
	st = sweep(&f, 0);
	assert_int_equal(st.jobs_expired, 1);
	assert_int_equal(st.files_deleted, 0);
	pp_job_t job;
	assert_int_equal(job_get(&f.core, empty.job_id, &job, error, sizeof(error)), 0);
	assert_int_equal(job.state, PP_JOB_EXPIRED);
	assert_string_equal(job.state_reason, "its document did not arrive in time");
	assert_int_equal(job.finished_at, T0 + 300);
	/* The attach restarted half's time-out: it has until T0 + 60 + 300. */
	assert_int_equal(state_of(&f, half.job_id), PP_JOB_INCOMING);
	assert_true(file_exists(&f, file_id));

	f.now = T0 + 360;
	st = sweep(&f, 0);
	assert_int_equal(st.jobs_expired, 1);
	assert_int_equal(st.files_deleted, 1);
	assert_int_equal(state_of(&f, half.job_id), PP_JOB_EXPIRED);
	assert_false(file_exists(&f, file_id));
	assert_int_equal(state_of(&f, waiting.job_id), PP_JOB_RECEIVED);
	assert_int_equal(spool_files(&f), 1);
	/* Send-Document after the expiry loses, and its file goes too. */
	assert_int_equal(spool_writer_open(f.spool, &w, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(w, "late", 4, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_finish(&w, file_id, &size, error, sizeof(error)), 0);
	pp_spool_doc_t late_doc = {.size = size};
	memcpy(late_doc.file_id, file_id, sizeof(file_id));
	assert_int_equal(intake_attach_spooled(&f.core, empty.job_id, f.user, &late_doc, NULL,
	                                       NULL, true, NULL, error, sizeof(error)),
	                 JOB_STATE_LOST);
	assert_false(file_exists(&f, file_id));
	assert_int_equal(spool_files(&f), 1);
	fixture_close(&f);
}

/* A bounded batch per call; repeated calls finish the work. */
static void test_retention_batches(void **state)
{
	fixture_t f;
	fixture_open(TEST_DB(state), &f);
	for (int i = 0; i < 5; i++)
		(void)submit(&f);
	f.now = T0 + 48 * HOUR;
	pp_retention_stats_t st = sweep(&f, 2);
	assert_int_equal(st.jobs_expired, 2);
	assert_true(st.is_more);
	size_t expired = 2, calls = 1;
	while (st.is_more) {
		st = sweep(&f, 2);
		expired += st.jobs_expired;
		assert_true(++calls < 10);
	}
	assert_int_equal(expired, 5);
	assert_int_equal(spool_files(&f), 0);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_retention_expires_unprinted),
	    TEST_DB_CASE(test_retention_retryable_failure_expires),
	    TEST_DB_CASE(test_retention_printed_delete),
	    TEST_DB_CASE(test_retention_printed_keep),
	    TEST_DB_CASE(test_retention_purge),
	    TEST_DB_CASE(test_retention_batches),
	    TEST_DB_CASE(test_retention_expires_incoming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
