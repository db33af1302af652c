/*
 * test-job-reprint.c - printing a finished job again (job-reprint.h): a new job of the same
 * user with copies of the kept documents (same bytes, new spool files), released to the
 * printer named, the old job untouched; refused when the documents are gone (retention under
 * jobs.printed_policy), when the job has not finished, or when the printer cannot take it.
 * Runs on SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "core/audit.h"
#include "core/job-reprint.h"
#include "core/job.h"
#include "core/printers.h"
#include "core/retention.h"
#include "core/settings.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_MAX_BYTES (1024 * 1024)

static const uint8_t test_spool_key[SPOOL_KEY_BYTES] = {9, 8, 7, 6, 5, 4, 3, 2};

/* The fixture: the case's database with a spool, one user and one enabled printer. */
typedef struct {
	test_core_t *tc;
	pp_spool_t *spool;
	pp_core_t *core;
	int64_t user_id;
	int64_t printer_id;
} fixture_t;

static void fixture_open(void **state, fixture_t *f)
{
	memset(f, 0, sizeof(*f));
	f->tc = TEST_CORE(state);
	char dir[4096], error[512];
	assert_true(str_format(dir, sizeof(dir), "%s/spool", f->tc->tdb->dir));
	if (spool_open(dir, test_spool_key, true, TEST_MAX_BYTES, &f->spool, error,
		       sizeof(error)) < 0)
		fail_msg("spool: %s", error);
	f->core = &f->tc->core;
	f->core->spool = f->spool;
	f->user_id = test_db_add_user(f->core->db, "ann@example.com");
	pp_printer_t *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	printers_init(p);
	assert_true(str_copy(p->name, sizeof(p->name), "floor2"));
	assert_true(str_copy(p->device_uri, sizeof(p->device_uri), "ipp://127.0.0.1:8631/ipp/print"));
	if (printers_add(f->core, "cli", p, &f->printer_id, error, sizeof(error)) != 0)
		fail_msg("printer: %s", error);
	free(p);
}

static void fixture_close(fixture_t *f)
{
	f->core->spool = NULL;
	spool_close(&f->spool);
}

/* Writes text as a new spool file; its id into file_id[SPOOL_ID_LEN + 1]. */
static void spool_put(fixture_t *f, const char *text, char file_id[SPOOL_ID_LEN + 1])
{
	char error[512];
	pp_spool_writer_t *w = NULL;
	uint64_t size = 0;
	if (spool_writer_open(f->spool, &w, error, sizeof(error)) < 0 ||
	    spool_writer_write(w, text, strlen(text), error, sizeof(error)) != 0 ||
	    spool_writer_finish(&w, file_id, &size, error, sizeof(error)) < 0)
		fail_msg("spool write: %s", error);
}

/* Reads file_id whole into out[size] (NUL-terminated). */
static void spool_get(fixture_t *f, const char *file_id, char *out, size_t size)
{
	char error[512];
	pp_spool_reader_t *r = NULL;
	if (spool_reader_open(f->spool, file_id, &r, error, sizeof(error)) < 0)
		fail_msg("spool open %s: %s", file_id, error);
	size_t len = 0;
	for (;;) {
		ssize_t n = spool_reader_read(r, out + len, size - 1 - len, error, sizeof(error));
		if (n < 0)
			fail_msg("spool read: %s", error);
		if (n == 0 || len + (size_t)n >= size - 1) {
			len += n > 0 ? (size_t)n : 0;
			break;
		}
		len += (size_t)n;
	}
	out[len] = '\0';
	spool_reader_close(&r);
}

/* The documents a printed job keeps: role and content. */
static const struct {
	const char *role;
	const char *content_type;
	const char *text;
} kept_docs[] = {
    {"original", "text/plain", "Quarterly figures\n"},
    {"pdf", "application/pdf", "%PDF-1.7 quarterly figures"},
    {"thumb:1", "image/jpeg", "thumbnail bytes"},
};
#define KEPT_DOCS (sizeof(kept_docs) / sizeof(kept_docs[0]))

/* Makes a job of the fixture's user in state, with the kept documents when with_docs. */
static int64_t job_make(fixture_t *f, const char *state, bool with_docs)
{
	char error[512];
	pp_print_options_t options;
	options_default(&options);
	options.copies = 2;
	pp_job_new_t spec = {.user_id = f->user_id, .source = "portal", .title = "figures.txt",
			     .options = &options, .size_bytes = 18};
	pp_job_t job;
	if (job_create(f->core, &spec, &job, error, sizeof(error)) < 0)
		fail_msg("job: %s", error);
	for (size_t i = 0; with_docs && i < KEPT_DOCS; i++) {
		char file_id[SPOOL_ID_LEN + 1];
		spool_put(f, kept_docs[i].text, file_id);
		if (job_document_add(f->core, job.id, kept_docs[i].role, file_id, "figures.txt",
				     kept_docs[i].content_type, (int64_t)strlen(kept_docs[i].text),
				     NULL, error, sizeof(error)) < 0)
			fail_msg("document: %s", error);
	}
	const pp_db_value_t p[] = {DB_TEXT(state), DB_INT(f->tc->now), DB_INT(job.id),
				   DB_INT(f->printer_id)};
	if (db_exec(f->core->db,
		    "UPDATE jobs SET state = $1, pages = 3, color_pages = 1, printer_id = $4,"
		    " finished_at = CASE WHEN $1 = 'completed' THEN $2 ELSE NULL END,"
		    " page_info = '[{\"colour\":true}]' WHERE id = $3",
		    p, 4, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("state: %s", error);
	return job.id;
}

/* The document of job_id with role into *doc_r; fails the test when there is none. */
static void doc_of(fixture_t *f, int64_t job_id, const char *role, pp_document_t *doc_r)
{
	char error[512];
	pp_document_t *docs = NULL;
	size_t count = 0;
	assert_int_equal(job_documents(f->core, job_id, &docs, &count, error, sizeof(error)), 0);
	for (size_t i = 0; i < count; i++) {
		if (strcmp(docs[i].role, role) == 0) {
			*doc_r = docs[i];
			job_documents_free(&docs);
			return;
		}
	}
	job_documents_free(&docs);
	fail_msg("job %lld has no %s document", (long long)job_id, role);
}

static void test_reprint_kept_documents(void **state)
{
	fixture_t f;
	fixture_open(state, &f);
	char error[512];
	int64_t old_id = job_make(&f, "completed", true);
	pp_job_t created;
	assert_int_equal(job_reprint(f.core, old_id, f.printer_id, "admin:root", &created, error,
				     sizeof(error)),
			 JOB_OK);

	/* A new job of the same user, on its way to the printer named. */
	assert_true(created.id != old_id);
	assert_int_equal(created.user_id, f.user_id);
	assert_string_equal(created.source, JOB_REPRINT_SOURCE);
	assert_string_equal(created.title, "figures.txt");
	assert_int_equal(created.options.copies, 2);
	assert_int_equal(created.state, PP_JOB_RELEASING);
	assert_int_equal(created.printer_id, f.printer_id);
	assert_int_equal(created.pages, 3);
	assert_int_equal(created.color_pages, 1);

	/* Every kept document copied: same bytes, another spool file. */
	for (size_t i = 0; i < KEPT_DOCS; i++) {
		pp_document_t old_doc, new_doc;
		doc_of(&f, old_id, kept_docs[i].role, &old_doc);
		doc_of(&f, created.id, kept_docs[i].role, &new_doc);
		if (strcmp(old_doc.file_id, new_doc.file_id) == 0)
			fail_msg("row %zu: the copy shares the spool file", i);
		char text[256];
		spool_get(&f, new_doc.file_id, text, sizeof(text));
		if (strcmp(text, kept_docs[i].text) != 0)
			fail_msg("row %zu: copy reads \"%s\"", i, text);
		assert_string_equal(new_doc.content_type, kept_docs[i].content_type);
		assert_int_equal(new_doc.size_bytes, (int64_t)strlen(kept_docs[i].text));
	}

	/* The old job stays completed, with its documents. */
	pp_job_t old;
	assert_int_equal(job_get(f.core, old_id, &old, error, sizeof(error)), JOB_OK);
	assert_int_equal(old.state, PP_JOB_COMPLETED);
	pp_document_t still;
	doc_of(&f, old_id, "original", &still);

	/* Audited with the admin as actor, naming both jobs. */
	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(audit_list(f.core, 0, 1000, &entries, &count, error, sizeof(error)), 0);
	char object[32], detail[64];
	(void)str_format(object, sizeof(object), "job:%lld", (long long)old_id);
	(void)str_format(detail, sizeof(detail), "new job %lld to printer floor2",
			 (long long)created.id);
	size_t found = 0;
	for (size_t i = 0; i < count; i++)
		if (strcmp(entries[i].action, "job.reprint") == 0 &&
		    strcmp(entries[i].actor, "admin:root") == 0 &&
		    strcmp(entries[i].object, object) == 0 && strcmp(entries[i].detail, detail) == 0)
			found++;
	audit_list_free(&entries);
	assert_int_equal(found, 1);
	fixture_close(&f);
}

/* What retention leaves under each policy, and what reprint then says. */
static void test_reprint_follows_retention(void **state)
{
	fixture_t f;
	fixture_open(state, &f);
	char error[512];
	static const struct {
		const char *policy;
		int64_t hours_after; /* when the sweep runs, after the job finished */
		int expected;
	} cases[] = {
	    {"keep", 1, JOB_OK},              /* within jobs.printed_keep_hours (24) */
	    {"keep", 25, JOB_REPRINT_GONE},   /* past it */
	    {"delete", 0, JOB_REPRINT_GONE},  /* deleted at the first sweep */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(settings_set(f.core, "cli", "jobs.printed_policy", cases[i].policy,
					      error, sizeof(error)),
				 0);
		int64_t old_id = job_make(&f, "completed", true);
		test_core_advance(f.tc, cases[i].hours_after * 3600);
		pp_retention_stats_t stats;
		assert_int_equal(retention_sweep(f.core, 0, &stats, error, sizeof(error)), 0);
		int rc = job_reprint(f.core, old_id, f.printer_id, "cli", NULL, error,
				     sizeof(error));
		if (rc != cases[i].expected)
			fail_msg("row %zu (%s): got %d: %s", i, cases[i].policy, rc, error);
		if (rc == JOB_REPRINT_GONE && strstr(error, "jobs.printed_policy = keep") == NULL)
			fail_msg("row %zu: the message does not name the setting: %s", i, error);
	}
	fixture_close(&f);
}

static void test_reprint_refusals(void **state)
{
	fixture_t f;
	fixture_open(state, &f);
	char error[512];
	pp_printer_t *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	printers_init(p);
	assert_true(str_copy(p->name, sizeof(p->name), "basement"));
	assert_true(str_copy(p->device_uri, sizeof(p->device_uri), "ipp://127.0.0.1:8632/ipp/print"));
	int64_t disabled_id = 0;
	assert_int_equal(printers_add(f.core, "cli", p, &disabled_id, error, sizeof(error)), 0);
	free(p);
	assert_int_equal(printers_set_enabled(f.core, "cli", disabled_id, false, error,
					      sizeof(error)),
			 0);
	int64_t completed = job_make(&f, "completed", true);
	int64_t held = job_make(&f, "held", true);
	int64_t gone = job_make(&f, "completed", false);
	const struct {
		int64_t job_id;
		int64_t printer_id;
		int expected;
	} cases[] = {
	    {held, f.printer_id, JOB_STATE_FORBIDDEN},        /* released, not reprinted */
	    {completed + 1000, f.printer_id, JOB_NOT_FOUND},
	    {completed, disabled_id, JOB_REPRINT_NO_PRINTER},
	    {completed, 9999, JOB_REPRINT_NO_PRINTER},
	    {gone, f.printer_id, JOB_REPRINT_GONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = job_reprint(f.core, cases[i].job_id, cases[i].printer_id, "cli", NULL,
				     error, sizeof(error));
		if (rc != cases[i].expected)
			fail_msg("row %zu: got %d, expected %d: %s", i, rc, cases[i].expected,
				 error);
	}
	/* None of them made a job. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(f.core->db, "SELECT COUNT(*) FROM jobs", NULL, 0, &res, error,
				  sizeof(error)),
			 DB_OK);
	assert_int_equal(db_result_int(res, 0, 0), 3);
	db_result_free(&res);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_reprint_kept_documents),
	    TEST_CORE_CASE(test_reprint_follows_retention),
	    TEST_CORE_CASE(test_reprint_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
