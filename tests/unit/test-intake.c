/*
 * test-intake.c - storing documents (spool file, then rows), deleting them, startup recovery,
 * and crash safety: a child process is killed at every fault point in turn and a "restarted"
 * server must find every row pointing at a complete file and no file without a row. Runs on
 * SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "core/core.h"
#include "core/intake.h"
#include "core/job.h"
#include "lib/fault.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_MAX_BYTES (1024 * 1024)

/* A "server": database handle, spool and core, as a process would open them at start. */
typedef struct {
	pp_db_t *db;
	pp_spool_t *spool;
	pp_core_t core;
	int64_t now;
	char spool_dir[4096];
} server_t;

static const uint8_t test_spool_key[SPOOL_KEY_BYTES] = {7, 7, 7, 7, 1, 2, 3, 4};

/* Opens a server on t's database (a new handle) and t's spool. Returns 0 or -1 (no asserts:
 * the fault-injection child uses it too). */
static int server_open(test_db_t *t, server_t *s, char *error, size_t error_size)
{
	memset(s, 0, sizeof(*s));
	if (!crypto_init() || !str_format(s->spool_dir, sizeof(s->spool_dir), "%s/spool", t->dir))
		return -1;
	if (db_open(t->url, &s->db, error, error_size) != DB_OK)
		return -1;
	if (spool_open(s->spool_dir, test_spool_key, true, TEST_MAX_BYTES, &s->spool, error,
	               error_size) < 0)
		return -1;
	/* The shared core fixture on this server's own handle and spool. */
	if (test_core_init(&s->core, &s->now, s->db, s->spool, TEST_CORE_KEY_BYTE) < 0)
		return -1;
	return 0;
}

static void server_close(server_t *s)
{
	core_deinit(&s->core);
	spool_close(&s->spool);
	db_close(&s->db);
}

/* A document in memory, handed out in chunks. */
typedef struct {
	const char *data;
	size_t len;
	size_t pos;
	size_t chunk;
	bool is_failing; /* the read fails half-way */
} memdoc_t;

static ssize_t memdoc_read(void *ctx, void *buf, size_t size, char *error, size_t error_size)
{
	memdoc_t *m = ctx;
	if (m->is_failing && m->pos >= m->len / 2) {
		(void)str_format(error, error_size, "client went away");
		return -1;
	}
	size_t n = m->len - m->pos;
	if (n > size)
		n = size;
	if (m->chunk > 0 && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int64_t test_user(pp_core_t *core)
{
	return test_db_add_user(core->db, "ann@example.com");
}

/* Opens the case's server (failing the test if it cannot) with one user; returns its id. */
static int64_t server_open_with_user(void **state, server_t *s)
{
	char error[512];
	if (server_open(TEST_DB(state), s, error, sizeof(error)) < 0)
		fail_msg("open: %s", error);
	return test_user(&s->core);
}

static int store(server_t *s, int64_t user, const char *text, pp_intake_result_t *r, char *error,
                 size_t error_size)
{
	memdoc_t m = {.data = text, .len = strlen(text), .chunk = 7};
	pp_intake_t doc = {.user_id = user,
	                   .source = "portal",
	                   .name = "letter.txt",
	                   .content_type = "text/plain"};
	return intake_store_document(&s->core, &doc, memdoc_read, &m, r, error, error_size);
}

/* Reads a whole spool file into buf. Returns its length or -1. */
static ssize_t read_file(server_t *s, const char *file_id, char *buf, size_t size)
{
	char error[256];
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(s->spool, file_id, &reader, error, sizeof(error)) < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		ssize_t n =
		    spool_reader_read(reader, buf + len, size - 1 - len, error, sizeof(error));
		if (n < 0) {
			spool_reader_close(&reader);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			spool_reader_close(&reader);
			return -1;
		}
	}
	buf[len] = '\0';
	spool_reader_close(&reader);
	return (ssize_t)len;
}

/* Every regular file below the spool directory (temp files included). */
typedef struct {
	char names[64][256];
	char paths[64][4096];
	size_t count;
} file_list_t;

static file_list_t *walk_list; /* nftw has no context argument; tests are single-threaded */

static int walk_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_F && walk_list->count < 64) {
		(void)str_copy(walk_list->names[walk_list->count], 256, path + ftw->base);
		(void)str_copy(walk_list->paths[walk_list->count], 4096, path);
		walk_list->count++;
	}
	return 0;
}

static void list_files(const char *dir, file_list_t *list)
{
	list->count = 0;
	walk_list = list;
	assert_int_equal(nftw(dir, walk_entry, 16, FTW_PHYS), 0);
	walk_list = NULL;
}

static int64_t count_rows(pp_core_t *core, const char *sql)
{
	char error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	if (db_query(core->db, sql, NULL, 0, &res, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

/*
 * The crash-safety invariant: every document row names a complete, readable file; every
 * unfinished job has its original (but an incoming one, still waiting for it); every file in
 * the spool (temp files included) is named by a row.
 */
static void assert_consistent(server_t *s, const char *label)
{
	char error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	assert_int_equal(
	    db_query(s->db, "SELECT file_id FROM documents", NULL, 0, &res, error, sizeof(error)),
	    DB_OK);
	size_t rows = db_result_rows(res);
	for (size_t i = 0; i < rows; i++) {
		char buf[4096];
		if (read_file(s, db_result_text(res, i, 0), buf, sizeof(buf)) < 0)
			fail_msg("%s: row names file %s, which is missing or unreadable", label,
			         db_result_text(res, i, 0));
	}
	if (count_rows(&s->core, "SELECT COUNT(*) FROM jobs j WHERE j.finished_at IS NULL"
	                         " AND j.state <> 'incoming' AND NOT EXISTS"
	                         " (SELECT 1 FROM documents d WHERE d.job_id = j.id)") != 0)
		fail_msg("%s: an unfinished job has no document", label);

	file_list_t *files = calloc(1, sizeof(*files));
	assert_non_null(files);
	list_files(s->spool_dir, files);
	for (size_t f = 0; f < files->count; f++) {
		bool is_named = false;
		for (size_t i = 0; i < rows; i++) {
			if (strcmp(files->names[f], db_result_text(res, i, 0)) == 0)
				is_named = true;
		}
		if (!is_named)
			fail_msg("%s: spool file %s is named by no row", label, files->paths[f]);
	}
	/* Small documents are kept in the database (documents.sealed), not as files. */
	size_t kept_inline = (size_t)count_rows(
	    &s->core, "SELECT COUNT(*) FROM documents WHERE sealed IS NOT NULL");
	if (files->count + kept_inline != rows)
		fail_msg("%s: %zu files and %zu kept in the database for %zu rows", label,
		         files->count, kept_inline, rows);
	free(files);
	db_result_free(&res);
}

static void test_intake_store_and_delete(void **state)
{
	server_t s;
	char error[512];
	int64_t user = server_open_with_user(state, &s);
	assert_true(user > 0);

	pp_intake_result_t r;
	const char *text = "Dear Ann,\nplease print this letter.\n";
	assert_int_equal(store(&s, user, text, &r, error, sizeof(error)), 0);
	assert_true(r.job_id > 0);
	assert_int_equal(strlen(r.uuid), 32);
	assert_int_equal(r.size_bytes, (int64_t)strlen(text));

	pp_job_t job;
	assert_int_equal(job_get(&s.core, r.job_id, &job, error, sizeof(error)), 0);
	assert_int_equal(job.state, PP_JOB_RECEIVED);
	assert_string_equal(job.uuid, r.uuid);
	assert_string_equal(job.title, "letter.txt"); /* no title: the name */
	assert_string_equal(job.source, "portal");
	assert_int_equal(job.size_bytes, (int64_t)strlen(text));
	assert_int_equal(job.user_id, user);

	pp_document_t *docs = NULL;
	size_t n_docs = 0;
	assert_int_equal(job_documents(&s.core, r.job_id, &docs, &n_docs, error, sizeof(error)), 0);
	assert_int_equal(n_docs, 1);
	assert_string_equal(docs[0].role, "original");
	assert_string_equal(docs[0].file_id, r.file_id);
	assert_string_equal(docs[0].name, "letter.txt");
	assert_string_equal(docs[0].content_type, "text/plain");
	job_documents_free(&docs);
	assert_null(docs);

	char buf[256];
	assert_int_equal(read_file(&s, r.file_id, buf, sizeof(buf)), (ssize_t)strlen(text));
	assert_string_equal(buf, text);
	assert_consistent(&s, "after store");

	/* Delete: rows and file gone. */
	assert_int_equal(job_delete(&s.core, r.job_id, error, sizeof(error)), 0);
	assert_int_equal(job_get(&s.core, r.job_id, &job, error, sizeof(error)), JOB_NOT_FOUND);
	assert_int_equal(read_file(&s, r.file_id, buf, sizeof(buf)), -1);
	assert_int_equal(job_delete(&s.core, r.job_id, error, sizeof(error)), JOB_NOT_FOUND);
	assert_consistent(&s, "after delete");

	/* A job being printed is not deleted under the delivery's feet. */
	assert_int_equal(store(&s, user, "x", &r, error, sizeof(error)), 0);
	pp_db_value_t p[] = {DB_INT(r.job_id)};
	assert_int_equal(db_exec(s.db, "UPDATE jobs SET state = 'printing' WHERE id = $1", p, 1,
	                         NULL, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(job_delete(&s.core, r.job_id, error, sizeof(error)), JOB_STATE_FORBIDDEN);
	assert_int_equal(read_file(&s, r.file_id, buf, sizeof(buf)), 1);
	server_close(&s);
}

/* Refused documents leave neither a file nor a row. */
static void test_intake_refusals(void **state)
{
	server_t s;
	char error[512];
	int64_t user = server_open_with_user(state, &s);
	pp_intake_result_t r;

	assert_int_equal(store(&s, user, "", &r, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "empty"));

	char *big = malloc(TEST_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, 'a', TEST_MAX_BYTES + 1);
	big[TEST_MAX_BYTES + 1] = '\0';
	memdoc_t m = {.data = big, .len = TEST_MAX_BYTES + 1};
	pp_intake_t doc = {.user_id = user, .source = "mail", .name = "big.pdf"};
	assert_int_equal(
	    intake_store_document(&s.core, &doc, memdoc_read, &m, &r, error, sizeof(error)), -1);
	free(big);

	memdoc_t broken = {.data = "0123456789", .len = 10, .chunk = 2, .is_failing = true};
	assert_int_equal(
	    intake_store_document(&s.core, &doc, memdoc_read, &broken, &r, error, sizeof(error)),
	    -1);
	assert_non_null(strstr(error, "went away"));

	/* The database refuses (no such user): the published file is removed again. */
	assert_int_equal(store(&s, user + 1000, "orphan?", &r, error, sizeof(error)), -1);

	pp_print_options_t bad;
	options_default(&bad);
	bad.number_up = 3;
	doc.options = &bad;
	memdoc_t small = {.data = "abc", .len = 3};
	assert_int_equal(
	    intake_store_document(&s.core, &doc, memdoc_read, &small, &r, error, sizeof(error)),
	    -1);
	assert_true(str_has_prefix(error, "number_up"));

	assert_int_equal(count_rows(&s.core, "SELECT COUNT(*) FROM jobs"), 0);
	assert_consistent(&s, "after refusals");
	server_close(&s);
}

/* A caller that spooled the file itself; recovery removes files no row names. */
static void test_intake_spooled_and_recover(void **state)
{
	server_t s;
	char error[512];
	int64_t user = server_open_with_user(state, &s);

	pp_spool_writer_t *w = NULL;
	char file_id[SPOOL_ID_LEN + 1];
	uint64_t size = 0;
	assert_int_equal(spool_writer_open(s.spool, &w, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(w, "%PDF-1.7", 8, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_finish(&w, file_id, &size, error, sizeof(error)), 0);
	pp_intake_t doc = {
	    .user_id = user, .source = "ipp", .title = "Report", .content_type = "application/pdf"};
	pp_intake_result_t r;
	pp_spool_doc_t stored = {.size = size};
	memcpy(stored.file_id, file_id, sizeof(file_id));
	assert_int_equal(intake_store_spooled(&s.core, &doc, &stored, &r, error, sizeof(error)), 0);
	assert_string_equal(r.file_id, file_id);

	/* An orphan (published, never committed) and an abandoned temp file. */
	char orphan[SPOOL_ID_LEN + 1];
	assert_int_equal(spool_writer_open(s.spool, &w, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(w, "lost", 4, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_finish(&w, orphan, &size, error, sizeof(error)), 0);
	pp_spool_writer_t *abandoned = NULL;
	assert_int_equal(spool_writer_open(s.spool, &abandoned, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(abandoned, "half", 4, error, sizeof(error)), 0);

	pp_intake_recovery_t rec;
	assert_int_equal(intake_recover(&s.core, 0, &rec, error, sizeof(error)), 0);
	assert_true(rec.files_removed >= 1);
	spool_writer_abort(&abandoned);
	char buf[64];
	assert_int_equal(read_file(&s, orphan, buf, sizeof(buf)), -1);
	assert_int_equal(read_file(&s, file_id, buf, sizeof(buf)), 8);
	assert_consistent(&s, "after recover");

	/* A spooled file whose rows cannot be written is deleted by intake. */
	assert_int_equal(spool_writer_open(s.spool, &w, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(w, "zz", 2, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_finish(&w, orphan, &size, error, sizeof(error)), 0);
	doc.user_id = user + 1000;
	pp_spool_doc_t refused = {.size = 2};
	memcpy(refused.file_id, orphan, sizeof(orphan));
	assert_int_equal(intake_store_spooled(&s.core, &doc, &refused, &r, error, sizeof(error)),
	                 -1);
	assert_int_equal(read_file(&s, orphan, buf, sizeof(buf)), -1);
	assert_consistent(&s, "after failed rows");
	server_close(&s);
}

/* Seals text as Send-Document's caller does: small, so its bytes are for the database. */
static int spool_text(server_t *s, const char *text, pp_spool_doc_t *doc_r, char *error,
                      size_t error_size)
{
	pp_spool_writer_t *w = NULL;
	if (spool_writer_open(s->spool, &w, error, error_size) < 0)
		return -1;
	if (spool_writer_write(w, text, strlen(text), error, error_size) < 0) {
		spool_writer_abort(&w);
		return -1;
	}
	return spool_writer_finish_small(&w, doc_r, error, error_size);
}

/* Create-Job with a pin, as the IPP service calls it. */
static int create_incoming(server_t *s, int64_t user, const char *pin, pp_intake_result_t *r,
                           char *error, size_t error_size)
{
	pp_intake_t doc = {.user_id = user, .source = "ipp", .title = "Tickets", .pin = pin};
	return intake_create_incoming(&s->core, &doc, 300, r, error, error_size);
}

static pp_job_t get_job(server_t *s, int64_t job_id)
{
	pp_job_t job;
	char error[512];
	if (job_get(&s->core, job_id, &job, error, sizeof(error)) != JOB_OK)
		fail_msg("job_get %lld: %s", (long long)job_id, error);
	return job;
}

static size_t document_count(server_t *s, int64_t job_id)
{
	pp_document_t *docs = NULL;
	size_t n = 0;
	char error[512];
	assert_int_equal(job_documents(&s->core, job_id, &docs, &n, error, sizeof(error)), 0);
	job_documents_free(&docs);
	return n;
}

/* Create-Job, then Send-Document with last-document: the job is received with its document. */
static void test_intake_incoming_attach_last(void **state)
{
	server_t s;
	char error[512];
	int64_t user = server_open_with_user(state, &s);

	pp_intake_result_t r;
	assert_int_equal(create_incoming(&s, user, "2580", &r, error, sizeof(error)), 0);
	assert_true(r.job_id > 0);
	assert_int_equal(strlen(r.uuid), 32);
	assert_string_equal(r.file_id, "");
	assert_int_equal(r.size_bytes, 0);
	pp_job_t job = get_job(&s, r.job_id);
	assert_int_equal(job.state, PP_JOB_INCOMING);
	assert_string_equal(job.title, "Tickets");
	assert_string_equal(job.source, "ipp");
	assert_true(job.has_pin);
	assert_int_equal(job.expires_at, TEST_CORE_T0 + 300);
	assert_int_equal(document_count(&s, r.job_id), 0);
	assert_consistent(&s, "incoming");

	s.now = TEST_CORE_T0 + 20;
	pp_spool_doc_t sealed;
	const char *text = "%PDF-1.7 tickets";
	assert_int_equal(spool_text(&s, text, &sealed, error, sizeof(error)), 0);
	const char *file_id = sealed.file_id;
	assert_int_equal(intake_attach_spooled(&s.core, r.job_id, user, &sealed, "tickets.pdf",
	                                       "application/pdf", true, NULL, error, sizeof(error)),
	                 JOB_OK);
	job = get_job(&s, r.job_id);
	assert_int_equal(job.state, PP_JOB_RECEIVED);
	assert_int_equal(job.size_bytes, (int64_t)strlen(text));
	assert_int_equal(job.expires_at, TEST_CORE_T0 + 20 + 24 * 3600); /* retention from now */
	assert_true(job.has_pin);
	pp_document_t *docs = NULL;
	size_t n = 0;
	assert_int_equal(job_documents(&s.core, r.job_id, &docs, &n, error, sizeof(error)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(docs[0].role, "original");
	assert_string_equal(docs[0].file_id, file_id);
	assert_string_equal(docs[0].name, "tickets.pdf");
	assert_string_equal(docs[0].content_type, "application/pdf");
	job_documents_free(&docs);
	char buf[64];
	assert_int_equal(read_file(&s, file_id, buf, sizeof(buf)), (ssize_t)strlen(text));
	assert_consistent(&s, "after attach");

	/* Close-Job after the last document: the job is no longer incoming. */
	pp_job_state_t after = PP_JOB_INCOMING;
	assert_int_equal(
	    intake_close_incoming(&s.core, r.job_id, user, &after, error, sizeof(error)),
	    JOB_STATE_LOST);
	assert_int_equal(after, PP_JOB_RECEIVED);

	/* The pin went through Print-Job's path too. */
	memdoc_t m = {.data = "x", .len = 1};
	pp_intake_t doc = {.user_id = user, .source = "ipp", .name = "a.txt", .pin = "1357"};
	assert_int_equal(
	    intake_store_document(&s.core, &doc, memdoc_read, &m, &r, error, sizeof(error)), 0);
	bool match = false;
	assert_int_equal(job_pin_verify(&s.core, r.job_id, "1357", &match, error, sizeof(error)),
	                 JOB_OK);
	assert_true(match);
	/* A pin the job could not store is refused before anything is spooled. */
	doc.pin = "";
	m.pos = 0;
	assert_int_equal(
	    intake_store_document(&s.core, &doc, memdoc_read, &m, &r, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "password"));
	assert_int_equal(create_incoming(&s, user, "", &r, error, sizeof(error)), -1);
	assert_consistent(&s, "after refused pins");
	server_close(&s);
}

/*
 * A long Send-Document keeps its incoming job alive: the expiry moves on (never back), and
 * a job no longer incoming, or another user's, is not touched.
 */
static void test_intake_keep_incoming(void **state)
{
	server_t s;
	char error[512];
	int64_t user = server_open_with_user(state, &s);
	pp_intake_result_t r;
	assert_int_equal(create_incoming(&s, user, NULL, &r, error, sizeof(error)), 0);

	s.now = TEST_CORE_T0 + 250;
	assert_int_equal(intake_keep_incoming(&s.core, r.job_id, user, 300, error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(get_job(&s, r.job_id).expires_at, TEST_CORE_T0 + 550);
	/* A shorter time-out never pulls the expiry back. */
	assert_int_equal(intake_keep_incoming(&s.core, r.job_id, user, 10, error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(get_job(&s, r.job_id).expires_at, TEST_CORE_T0 + 550);
	assert_int_equal(
	    intake_keep_incoming(&s.core, r.job_id, user + 1000, 300, error, sizeof(error)),
	    JOB_STATE_LOST);

	pp_job_state_t after = PP_JOB_INCOMING;
	assert_int_equal(
	    intake_close_incoming(&s.core, r.job_id, user, &after, error, sizeof(error)), JOB_OK);
	assert_int_equal(after, PP_JOB_CANCELED);
	int64_t expires = get_job(&s, r.job_id).expires_at;
	assert_int_equal(intake_keep_incoming(&s.core, r.job_id, user, 300, error, sizeof(error)),
	                 JOB_STATE_LOST);
	assert_int_equal(get_job(&s, r.job_id).expires_at, expires);
	server_close(&s);
}

/*
 * Send-Document without last-document, then Close-Job: received. Close-Job without any
 * document: canceled, saying why. The time-out restarts at the Send-Document.
 */
static void test_intake_incoming_close(void **state)
{
	server_t s;
	char error[512];
	int64_t user = server_open_with_user(state, &s);

	pp_intake_result_t r;
	assert_int_equal(create_incoming(&s, user, NULL, &r, error, sizeof(error)), 0);
	assert_false(get_job(&s, r.job_id).has_pin);
	s.now = TEST_CORE_T0 + 100;
	pp_spool_doc_t sealed;
	assert_int_equal(spool_text(&s, "page one", &sealed, error, sizeof(error)), 0);
	const char *file_id = sealed.file_id;
	assert_int_equal(intake_attach_spooled(&s.core, r.job_id, user, &sealed, NULL, NULL,
	                                       false, NULL, error, sizeof(error)),
	                 JOB_OK);
	pp_job_t job = get_job(&s, r.job_id);
	assert_int_equal(job.state, PP_JOB_INCOMING);
	assert_int_equal(job.expires_at, TEST_CORE_T0 + 100 + 300);
	assert_int_equal(document_count(&s, r.job_id), 1);
	assert_consistent(&s, "attached, not closed");

	s.now = TEST_CORE_T0 + 200;
	pp_job_state_t after = PP_JOB_FAILED;
	assert_int_equal(
	    intake_close_incoming(&s.core, r.job_id, user, &after, error, sizeof(error)), JOB_OK);
	assert_int_equal(after, PP_JOB_RECEIVED);
	job = get_job(&s, r.job_id);
	assert_int_equal(job.state, PP_JOB_RECEIVED);
	assert_int_equal(job.expires_at, TEST_CORE_T0 + 200 + 24 * 3600);
	assert_int_equal(job.finished_at, 0);
	char buf[64];
	assert_int_equal(read_file(&s, file_id, buf, sizeof(buf)), 8);

	/* Nothing was ever sent. */
	pp_intake_result_t empty;
	assert_int_equal(create_incoming(&s, user, "1111", &empty, error, sizeof(error)), 0);
	assert_int_equal(
	    intake_close_incoming(&s.core, empty.job_id, user, &after, error, sizeof(error)),
	    JOB_OK);
	assert_int_equal(after, PP_JOB_CANCELED);
	job = get_job(&s, empty.job_id);
	assert_int_equal(job.state, PP_JOB_CANCELED);
	assert_string_equal(job.state_reason, "no document was sent");
	assert_int_equal(job.finished_at, TEST_CORE_T0 + 200);
	assert_int_equal(job.expires_at, 0);
	assert_int_equal(
	    intake_close_incoming(&s.core, empty.job_id, user, &after, error, sizeof(error)),
	    JOB_STATE_LOST);
	assert_int_equal(after, PP_JOB_CANCELED);
	assert_int_equal(intake_close_incoming(&s.core, 999999, user, &after, error, sizeof(error)),
	                 JOB_NOT_FOUND);
	assert_consistent(&s, "after close");
	server_close(&s);
}

/* Every refused Send-Document leaves its spool file removed and the job as it was. */
static void test_intake_incoming_refused(void **state)
{
	server_t s;
	char error[512];
	int64_t user = server_open_with_user(state, &s);
	assert_int_equal(db_exec(s.db,
	                         "INSERT INTO users (email, state, created_at, updated_at)"
	                         " VALUES ('bob@example.com', 'enabled', 1, 1)",
	                         NULL, 0, NULL, error, sizeof(error)),
	                 DB_OK);
	int64_t bob = user + 1;
	assert_int_equal(count_rows(&s.core, "SELECT COUNT(*) FROM users"), 2);
	assert_int_equal(count_rows(&s.core, "SELECT MAX(id) - MIN(id) FROM users"), 1);

	pp_intake_result_t canceled, attached, anns;
	assert_int_equal(create_incoming(&s, user, NULL, &canceled, error, sizeof(error)), 0);
	assert_int_equal(create_incoming(&s, user, NULL, &attached, error, sizeof(error)), 0);
	assert_int_equal(create_incoming(&s, user, NULL, &anns, error, sizeof(error)), 0);
	/* The user cancels while the document is on its way. */
	pp_job_transition_t how = {.actor = "ipp", .reason = "canceled by its owner"};
	assert_int_equal(job_transition(&s.core, canceled.job_id, PP_JOB_INCOMING, PP_JOB_CANCELED,
	                                &how, error, sizeof(error)),
	                 JOB_OK);
	pp_spool_doc_t sealed;
	assert_int_equal(spool_text(&s, "first", &sealed, error, sizeof(error)), 0);
	const char *first = sealed.file_id;
	assert_int_equal(intake_attach_spooled(&s.core, attached.job_id, user, &sealed, NULL, NULL,
	                                       false, NULL, error, sizeof(error)),
	                 JOB_OK);

	static const struct {
		const char *label;
		int which; /* 0 canceled, 1 attached, 2 anns (attached by bob), 3 no such job */
		bool is_bob;
		bool is_last;
		int want;
		const char *error_has;
	} rows[] = {
	    {"canceled job", 0, false, true, JOB_STATE_LOST, "canceled"},
	    {"second document", 1, false, false, JOB_STATE_FORBIDDEN, "one document"},
	    {"second, last document", 1, false, true, JOB_STATE_FORBIDDEN, "one document"},
	    {"another user's job", 2, true, true, JOB_NOT_FOUND, "does not exist"},
	    {"no such job", 3, false, true, JOB_NOT_FOUND, "does not exist"},
	};
	int64_t ids[] = {canceled.job_id, attached.job_id, anns.job_id, 999999};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_spool_doc_t refused;
		assert_int_equal(spool_text(&s, "refused", &refused, error, sizeof(error)), 0);
		const char *file_id = refused.file_id;
		int rc = intake_attach_spooled(&s.core, ids[rows[i].which],
		                               rows[i].is_bob ? bob : user, &refused, NULL, NULL,
		                               rows[i].is_last, NULL, error, sizeof(error));
		if (rc != rows[i].want)
			fail_msg("%s: got %d (%s), want %d", rows[i].label, rc, error,
			         rows[i].want);
		if (strstr(error, rows[i].error_has) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", rows[i].label, error,
			         rows[i].error_has);
		char buf[64];
		if (read_file(&s, file_id, buf, sizeof(buf)) != -1)
			fail_msg("%s: the refused spool file is still there", rows[i].label);
	}
	/* The jobs are as they were. */
	assert_int_equal(get_job(&s, canceled.job_id).state, PP_JOB_CANCELED);
	assert_int_equal(document_count(&s, canceled.job_id), 0);
	assert_int_equal(get_job(&s, attached.job_id).state, PP_JOB_INCOMING);
	assert_int_equal(document_count(&s, attached.job_id), 1);
	assert_int_equal(get_job(&s, anns.job_id).state, PP_JOB_INCOMING);
	assert_int_equal(document_count(&s, anns.job_id), 0);
	char buf[64];
	assert_int_equal(read_file(&s, first, buf, sizeof(buf)), 5);
	/* Bob cannot close Ann's job either. */
	pp_job_state_t after = PP_JOB_FAILED;
	assert_int_equal(
	    intake_close_incoming(&s.core, anns.job_id, bob, &after, error, sizeof(error)),
	    JOB_NOT_FOUND);
	assert_int_equal(after, PP_JOB_FAILED);
	assert_consistent(&s, "after refusals");
	server_close(&s);
}

/* One racer: a Send-Document (with its own spooled file) or a cancel, on its own server. */
typedef struct {
	server_t *s;
	int64_t job_id;
	int64_t user;
	bool is_cancel;
	bool is_last;
	pp_spool_doc_t doc;
	pthread_barrier_t *barrier;
	int rc;
} racer_t;

static void *racer_run(void *p)
{
	racer_t *r = p;
	char error[512];
	pthread_barrier_wait(r->barrier);
	if (r->is_cancel) {
		pp_job_transition_t how = {.reason = "canceled by its owner"};
		r->rc = job_transition(&r->s->core, r->job_id, PP_JOB_INCOMING, PP_JOB_CANCELED,
		                       &how, error, sizeof(error));
	} else {
		r->rc = intake_attach_spooled(&r->s->core, r->job_id, r->user, &r->doc, NULL, NULL,
		                              r->is_last, NULL, error, sizeof(error));
	}
	return NULL;
}

/*
 * Two servers race on one incoming job: Send-Document against a cancel, and two
 * Send-Documents (not last, so only the document check can tell them apart). Exactly one
 * wins; the loser's file is gone; the job has at most one document.
 */
static void test_intake_incoming_race(void **state)
{
	server_t a, b;
	char error[512];
	if (server_open(TEST_DB(state), &a, error, sizeof(error)) < 0 ||
	    server_open(TEST_DB(state), &b, error, sizeof(error)) < 0)
		fail_msg("open: %s", error);
	int64_t user = test_user(&a.core);
	for (int round = 0; round < 20; round++) {
		bool is_cancel_round = round % 2 == 0;
		pp_intake_result_t r;
		assert_int_equal(create_incoming(&a, user, NULL, &r, error, sizeof(error)), 0);
		pthread_barrier_t barrier;
		assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
		racer_t x = {.s = &a,
		             .job_id = r.job_id,
		             .user = user,
		             .is_last = true,
		             .barrier = &barrier,
		             .rc = 99};
		racer_t y = {.s = &b,
		             .job_id = r.job_id,
		             .user = user,
		             .is_cancel = is_cancel_round,
		             .barrier = &barrier,
		             .rc = 99};
		assert_int_equal(spool_text(&a, "doc1", &x.doc, error, sizeof(error)), 0);
		if (!is_cancel_round)
			assert_int_equal(spool_text(&b, "doc2", &y.doc, error, sizeof(error)),
			                 0);
		x.is_last = is_cancel_round; /* two attaches: neither is last */
		pthread_t tx, ty;
		assert_int_equal(pthread_create(&tx, NULL, racer_run, &x), 0);
		assert_int_equal(pthread_create(&ty, NULL, racer_run, &y), 0);
		assert_int_equal(pthread_join(tx, NULL), 0);
		assert_int_equal(pthread_join(ty, NULL), 0);
		pthread_barrier_destroy(&barrier);

		int loser_rc = x.rc == JOB_OK ? y.rc : x.rc;
		int want_loss = is_cancel_round ? JOB_STATE_LOST : JOB_STATE_FORBIDDEN;
		if ((x.rc == JOB_OK) + (y.rc == JOB_OK) != 1 || loser_rc != want_loss)
			fail_msg("round %d: results %d and %d", round, x.rc, y.rc);
		pp_job_t job = get_job(&a, r.job_id);
		size_t docs = document_count(&a, r.job_id);
		char buf[64];
		if (is_cancel_round) {
			bool attach_won = x.rc == JOB_OK;
			assert_int_equal(job.state, attach_won ? PP_JOB_RECEIVED : PP_JOB_CANCELED);
			assert_int_equal(docs, attach_won ? 1 : 0);
			assert_int_equal(read_file(&a, x.doc.file_id, buf, sizeof(buf)),
			                 attach_won ? 4 : -1);
		} else {
			assert_int_equal(job.state, PP_JOB_INCOMING);
			assert_int_equal(docs, 1);
			const char *kept = x.rc == JOB_OK ? x.doc.file_id : y.doc.file_id;
			const char *gone = x.rc == JOB_OK ? y.doc.file_id : x.doc.file_id;
			assert_int_equal(read_file(&a, kept, buf, sizeof(buf)), 4);
			assert_int_equal(read_file(&a, gone, buf, sizeof(buf)), -1);
		}
	}
	assert_consistent(&a, "after races");
	server_close(&b);
	server_close(&a);
}

/*
 * Every crash point the submission and deletion paths pass: ours, and the spool's (from
 * src/spool/ sources; a name missing here is caught by the test below, which requires each child to
 * die at its point). job_drop is retention's way of removing a finished job's files.
 */
static const char *const fault_points[] = {
    "spool.after_create",        "spool.after_first_chunk",     "spool.before_fsync",
    "spool.after_fsync",         "spool.after_rename",          "spool.after_dir_fsync",
    "intake.after_spool_finish", "intake.before_commit",        "intake.after_commit",
    "job_delete.before_commit",  "job_delete.after_commit",     "spool.delete.before_unlink",
    "spool.delete.after_unlink", "intake.attach_before_commit", "intake.attach_after_commit",
};

/* The test binary's path, to start the fault child as a fresh program. */
static const char *test_argv0;

/*
 * The child (this program run with --fault-child URL DIR, PP_FAULT_POINT in its
 * environment): store two small documents, delete the first; then as files: store a third,
 * cancel it and drop its files as retention does; then Create-Job and Send-Document. Never
 * returns.
 */
static void fault_child(test_db_t *t)
{
	server_t s;
	char error[512];
	if (server_open(t, &s, error, sizeof(error)) < 0)
		_exit(2);
	pp_db_result_t *res = NULL;
	if (db_query(s.db, "SELECT id FROM users", NULL, 0, &res, error, sizeof(error)) != DB_OK)
		_exit(3);
	int64_t user = db_result_int(res, 0, 0);
	db_result_free(&res);
	pp_intake_result_t a, b, c;
	if (store(&s, user, "first document", &a, error, sizeof(error)) < 0 ||
	    store(&s, user, "second document", &b, error, sizeof(error)) < 0 ||
	    job_delete(&s.core, a.job_id, error, sizeof(error)) != 0)
		_exit(4);
	/* The first two are small, kept in the database; from here on every document is a
	 * file, so the spool's own crash points are passed too. */
	spool_set_inline_max(s.spool, 0);
	if (store(&s, user, "third document", &c, error, sizeof(error)) < 0 ||
	    job_transition(&s.core, c.job_id, PP_JOB_RECEIVED, PP_JOB_CANCELED, NULL, error,
	                   sizeof(error)) != JOB_OK ||
	    job_drop_documents(&s.core, c.job_id, NULL, error, sizeof(error)) < 0)
		_exit(4);
	pp_intake_result_t d;
	pp_spool_doc_t fourth;
	if (create_incoming(&s, user, "1234", &d, error, sizeof(error)) < 0 ||
	    spool_text(&s, "fourth document", &fourth, error, sizeof(error)) < 0 ||
	    intake_attach_spooled(&s.core, d.job_id, user, &fourth, NULL, NULL, true, NULL, error,
	                          sizeof(error)) != JOB_OK)
		_exit(6);
	_exit(0); /* the point was never reached */
}

static void test_intake_fault_injection(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[512];
	for (size_t i = 0; i < sizeof(fault_points) / sizeof(fault_points[0]); i++) {
		const char *point = fault_points[i];
		/* A fresh history per point: no jobs, no files. */
		server_t s;
		if (server_open(t, &s, error, sizeof(error)) < 0)
			fail_msg("%s: open: %s", point, error);
		assert_int_equal(
		    db_exec(s.db, "DELETE FROM jobs", NULL, 0, NULL, error, sizeof(error)), DB_OK);
		assert_int_equal(
		    db_exec(s.db, "DELETE FROM users", NULL, 0, NULL, error, sizeof(error)), DB_OK);
		assert_true(test_user(&s.core) > 0);
		pp_intake_recovery_t rec;
		assert_int_equal(intake_recover(&s.core, 0, &rec, error, sizeof(error)), 0);
		server_close(&s);

		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* exec, not just fork: a new process, as after a restart, and one that
			 * valgrind does not follow (it dies on purpose, leaking by design). */
			char *argv[] = {(char *)test_argv0, (char *)"--fault-child", t->url, t->dir,
			                NULL};
			if (setenv("PP_FAULT_POINT", point, 1) == 0)
				execv(test_argv0, argv);
			_exit(5);
		}
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != FAULT_EXIT_CODE)
			fail_msg("%s: the child did not die at the point (status %d)", point,
			         WIFEXITED(status) ? WEXITSTATUS(status) : -1);

		/* Restart: a new process opens the database and the spool and recovers. */
		if (server_open(t, &s, error, sizeof(error)) < 0)
			fail_msg("%s: reopen: %s", point, error);
		if (intake_recover(&s.core, 0, &rec, error, sizeof(error)) < 0)
			fail_msg("%s: recover: %s", point, error);
		assert_consistent(&s, point);

		/* And the server works on. */
		pp_intake_result_t r;
		pp_db_result_t *res = NULL;
		assert_int_equal(
		    db_query(s.db, "SELECT id FROM users", NULL, 0, &res, error, sizeof(error)),
		    DB_OK);
		int64_t user = db_result_int(res, 0, 0);
		db_result_free(&res);
		if (store(&s, user, "after the crash", &r, error, sizeof(error)) < 0)
			fail_msg("%s: store after restart: %s", point, error);
		assert_consistent(&s, point);
		server_close(&s);
	}
}

int main(int argc, char **argv)
{
	test_argv0 = argv[0];
	if (argc == 4 && strcmp(argv[1], "--fault-child") == 0) {
		test_db_t child = {.url = argv[2], .dir = argv[3]};
		fault_child(&child);
	}
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_intake_store_and_delete),
	    TEST_DB_CASE(test_intake_refusals),
	    TEST_DB_CASE(test_intake_spooled_and_recover),
	    TEST_DB_CASE(test_intake_incoming_attach_last),
	    TEST_DB_CASE(test_intake_incoming_close),
	    TEST_DB_CASE(test_intake_keep_incoming),
	    TEST_DB_CASE(test_intake_incoming_refused),
	    TEST_DB_CASE(test_intake_incoming_race),
	    TEST_DB_CASE(test_intake_fault_injection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
