/*
 * test-convert-worker.c - the conversion worker on real jobs: a job stored by intake is
 * claimed, converted in the sandbox and recorded as held with its PDF, analysis and page
 * images (encrypted, decrypting to JPEG); documents that cannot be converted fail with a
 * reason the user reads; and the --fd protocol loop, driven through a socketpair as
 * pullprintd drives it. Runs on SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "convert/worker-protocol.h"
#include "convert/worker/worker.h"
#include "core/convert-queue.h"
#include "core/intake.h"
#include "core/job.h"
#include "lib/config.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define TEST_MAX_BYTES (16 * 1024 * 1024)

static const uint8_t test_spool_key[SPOOL_KEY_BYTES] = {9, 9, 9, 9, 1, 2, 3, 4};

/* A worker over the case's database with its own spool, as pullprint-convert opens it. */
typedef struct {
	pp_spool_t *spool;
	pp_core_t core;
	int64_t now;
	pp_config_t config;
	pp_worker_t worker;
	int64_t user_id;
	char tmp_base[4096];
} fixture_t;

static void fixture_open(void **state, fixture_t *f, unsigned thumbnails)
{
	test_db_t *t = TEST_DB(state);
	char error[1024];
	char spool_dir[4096];
	memset(f, 0, sizeof(*f));
	assert_true(str_format(spool_dir, sizeof(spool_dir), "%s/spool", t->dir));
	assert_true(str_format(f->tmp_base, sizeof(f->tmp_base), "%s/convert", t->dir));
	if (spool_open(spool_dir, test_spool_key, true, TEST_MAX_BYTES, &f->spool, error,
	               sizeof(error)) < 0)
		fail_msg("spool_open: %s", error);
	assert_int_equal(test_core_init(&f->core, &f->now, t->db, f->spool, TEST_CORE_KEY_BYTE),
	                 0);
	/* The defaults an installation has, with this case's private directories. */
	config_init(&f->config);
	assert_true(str_copy(f->config.convert_tmp_dir, sizeof(f->config.convert_tmp_dir),
	                     f->tmp_base));
	f->config.convert_thumbnails = thumbnails;
	if (worker_open(&f->worker, &f->config, &f->core, NULL, error, sizeof(error)) < 0)
		fail_msg("worker_open: %s", error);
	/* Valgrind reserves far more address space than it uses and keeps descriptors of its
	 * own above the limit: only these two limits are lifted under it. */
	if (RUNNING_ON_VALGRIND) {
		f->worker.render_limits.address_space_bytes = 0;
		f->worker.render_limits.open_files = 0;
		f->worker.exec_limits.address_space_bytes = 0;
		f->worker.exec_limits.open_files = 0;
	}
	f->user_id = test_db_add_user(t->db, "ann@example.com");
}

static void fixture_close(fixture_t *f)
{
	worker_close(&f->worker);
	core_deinit(&f->core);
	spool_close(&f->spool);
}

/* A document in memory for intake. */
typedef struct {
	const char *data;
	size_t len;
	size_t pos;
} memdoc_t;

static ssize_t memdoc_read(void *ctx, void *buf, size_t size, char *error, size_t error_size)
{
	(void)error;
	(void)error_size;
	memdoc_t *m = ctx;
	size_t n = m->len - m->pos;
	if (n > size)
		n = size;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/*
 * Writes a PDF of A4 pages into buf[size]: page i is a filled square in colour rgb[i]
 * ("0 0 0" black, "1 0 0" red). Returns its length.
 */
static size_t make_pdf(char *buf, size_t size, const char *const *rgb, int pages)
{
	size_t offsets[64];
	size_t len = 0;
	int obj = 0;
#define EMIT(...)                                                                              \
	do {                                                                                   \
		int n_ = snprintf(buf + len, size - len, __VA_ARGS__);                         \
		assert_true(n_ > 0 && (size_t)n_ < size - len);                                \
		len += (size_t)n_;                                                             \
	} while (0)
	EMIT("%%PDF-1.4\n");
	offsets[++obj] = len;
	EMIT("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
	offsets[++obj] = len;
	EMIT("2 0 obj << /Type /Pages /Count %d /Kids [", pages);
	for (int i = 0; i < pages; i++)
		EMIT(" %d 0 R", 3 + 2 * i);
	EMIT(" ] >> endobj\n");
	for (int i = 0; i < pages; i++) {
		char content[128];
		int clen = snprintf(content, sizeof(content), "%s rg 100 300 300 300 re f\n",
		                    rgb[i]);
		assert_true(clen > 0 && (size_t)clen < sizeof(content));
		offsets[++obj] = len;
		EMIT("%d 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
		     "/Contents %d 0 R >> endobj\n",
		     obj, obj + 1);
		offsets[++obj] = len;
		EMIT("%d 0 obj << /Length %d >> stream\n%sendstream endobj\n", obj, clen, content);
	}
	size_t xref = len;
	EMIT("xref\n0 %d\n0000000000 65535 f \n", obj + 1);
	for (int i = 1; i <= obj; i++)
		EMIT("%010zu 00000 n \n", offsets[i]);
	EMIT("trailer << /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", obj + 1, xref);
#undef EMIT
	return len;
}

/* Stores data as a job of the fixture's user (state received). Returns its id. */
static int64_t store_job(fixture_t *f, const char *data, size_t len, const char *content_type)
{
	memdoc_t m = {.data = data, .len = len};
	pp_intake_t doc = {.user_id = f->user_id,
	                   .source = "portal",
	                   .name = "doc",
	                   .content_type = content_type};
	pp_intake_result_t result;
	char error[1024];
	if (intake_store_document(&f->core, &doc, memdoc_read, &m, &result, error,
	                          sizeof(error)) < 0)
		fail_msg("intake_store_document: %s", error);
	return result.job_id;
}

/* Claims job_id for the test worker (the server's part). */
static void claim(fixture_t *f, int64_t job_id, pp_convert_task_t *task_r)
{
	char error[1024];
	if (convert_queue_claim(&f->core, job_id, f->worker.name, task_r, error, sizeof(error)) !=
	    JOB_OK)
		fail_msg("convert_queue_claim: %s", error);
}

/* A stored two-page PDF (page 1 black, page 2 red), claimed. */
static int64_t claimed_pdf_job(fixture_t *f, pp_convert_task_t *task_r)
{
	static const char *const colours[] = {"0 0 0", "1 0 0"};
	char pdf[4096];
	size_t len = make_pdf(pdf, sizeof(pdf), colours, 2);
	int64_t job_id = store_job(f, pdf, len, "application/pdf");
	claim(f, job_id, task_r);
	return job_id;
}

/* Decrypts the job document with role into buf; returns its length (fails the test). */
static size_t read_role(fixture_t *f, int64_t job_id, const char *role, uint8_t *buf,
                        size_t size)
{
	char error[1024];
	pp_document_t *docs = NULL;
	size_t n = 0;
	if (job_documents(&f->core, job_id, &docs, &n, error, sizeof(error)) < 0)
		fail_msg("job_documents: %s", error);
	const pp_document_t *doc = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(docs[i].role, role) == 0)
			doc = &docs[i];
	}
	if (doc == NULL)
		fail_msg("job %lld has no %s document", (long long)job_id, role);
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(f->spool, doc->file_id, &reader, error, sizeof(error)) < 0)
		fail_msg("spool_reader_open(%s): %s", role, error);
	size_t len = 0;
	for (;;) {
		assert_true(len < size);
		ssize_t got = spool_reader_read(reader, buf + len, size - len, error, sizeof(error));
		if (got < 0)
			fail_msg("reading %s: %s", role, error);
		if (got == 0)
			break;
		len += (size_t)got;
	}
	spool_reader_close(&reader);
	job_documents_free(&docs);
	return len;
}

/* Whether job_id has a document with role. */
static bool has_role(fixture_t *f, int64_t job_id, const char *role)
{
	char error[1024];
	pp_document_t *docs = NULL;
	size_t n = 0;
	if (job_documents(&f->core, job_id, &docs, &n, error, sizeof(error)) < 0)
		fail_msg("job_documents: %s", error);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found = found || strcmp(docs[i].role, role) == 0;
	job_documents_free(&docs);
	return found;
}

static size_t count_documents(fixture_t *f, int64_t job_id)
{
	char error[1024];
	pp_document_t *docs = NULL;
	size_t n = 0;
	if (job_documents(&f->core, job_id, &docs, &n, error, sizeof(error)) < 0)
		fail_msg("job_documents: %s", error);
	job_documents_free(&docs);
	return n;
}

static pp_job_t get_job(fixture_t *f, int64_t job_id)
{
	char error[1024];
	pp_job_t job;
	if (job_get(&f->core, job_id, &job, error, sizeof(error)) != JOB_OK)
		fail_msg("job_get: %s", error);
	return job;
}

/* Entries left in the worker's temporary base, other than an office profile. */
static int tmp_entries(const fixture_t *f)
{
	DIR *d = opendir(f->tmp_base);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    !str_has_prefix(e->d_name, "office-"))
			n++;
	}
	closedir(d);
	return n;
}

static bool is_jpeg(const uint8_t *buf, size_t len)
{
	return len > 4 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff &&
	       buf[len - 2] == 0xff && buf[len - 1] == 0xd9;
}

/* A PDF converts: held, pages and colour pages counted, images in both sizes for the first
 * [convert] thumbnails pages, everything encrypted in the spool, the temp dir wiped. */
static void test_job_held(void **state)
{
	fixture_t f;
	fixture_open(state, &f, 4);
	pp_convert_task_t task;
	int64_t job_id = claimed_pdf_job(&f, &task);
	assert_int_equal(get_job(&f, job_id).state, PP_JOB_CONVERTING);

	pp_worker_outcome_t outcome;
	char error[1024];
	if (worker_job_run(&f.worker, &task, &outcome, error, sizeof(error)) < 0)
		fail_msg("worker_job_run: %s", error);
	if (!outcome.is_ok)
		fail_msg("conversion failed: %s", outcome.reason);

	pp_job_t job = get_job(&f, job_id);
	assert_int_equal(job.state, PP_JOB_HELD);
	assert_int_equal(job.pages, 2);
	assert_int_equal(job.color_pages, 1);

	static uint8_t buf[4 * 1024 * 1024];
	size_t len = read_role(&f, job_id, "pdf", buf, sizeof(buf));
	assert_true(len > 5 && memcmp(buf, "%PDF-", 5) == 0);
	static const char *const roles[] = {"thumb:1", "preview:1", "thumb:2", "preview:2"};
	size_t thumb_len = 0;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		len = read_role(&f, job_id, roles[i], buf, sizeof(buf));
		if (!is_jpeg(buf, len))
			fail_msg("%s does not decrypt to a JPEG (%zu bytes)", roles[i], len);
		if (i == 0)
			thumb_len = len;
		if (i == 1)
			assert_true(len > thumb_len); /* the preview is the larger image */
	}
	assert_false(has_role(&f, job_id, "thumb:3")); /* the document has two pages */
	assert_int_equal(count_documents(&f, job_id), 6); /* original, pdf, 4 images */
	assert_int_equal(tmp_entries(&f), 0);
	fixture_close(&f);
}

/* Documents that cannot be converted fail their job with a reason, and nothing derived is
 * kept. */
static void test_job_failed(void **state)
{
	static const struct {
		const char *label;
		const char *data;
		const char *content_type;
	} cases[] = {
	    {"not a PDF although it says so", "this is plain text, not a PDF at all\n",
	     "application/pdf"},
	    {"a type nobody converts", "\x7f" "ELF binary", "application/x-executable"},
	    {"a truncated PDF", "%PDF-1.4\n1 0 obj << /Type /Catalog /Pa", "application/pdf"},
	};
	fixture_t f;
	fixture_open(state, &f, 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t job_id = store_job(&f, cases[i].data, strlen(cases[i].data),
		                           cases[i].content_type);
		pp_convert_task_t task;
		claim(&f, job_id, &task);
		pp_worker_outcome_t outcome;
		char error[1024];
		if (worker_job_run(&f.worker, &task, &outcome, error, sizeof(error)) < 0)
			fail_msg("%s: worker_job_run: %s", cases[i].label, error);
		if (outcome.is_ok)
			fail_msg("%s: converted", cases[i].label);
		pp_job_t job = get_job(&f, job_id);
		if (job.state != PP_JOB_FAILED || job.state_reason[0] == '\0' ||
		    outcome.reason[0] == '\0')
			fail_msg("%s: state %d, reason \"%s\"", cases[i].label, (int)job.state,
			         job.state_reason);
		assert_int_equal(count_documents(&f, job_id), 1); /* only the original */
		assert_int_equal(tmp_entries(&f), 0);
	}
	fixture_close(&f);
}

/* Reads one packet from the test's end of the socket into buf. */
static void recv_packet(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);
	if (n <= 0)
		fail_msg("expected a message from the worker");
	buf[n] = '\0';
}

static void send_packet(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* The --fd loop as pullprintd drives it: ready, convert a claimed job, render further pages
 * on demand, and end when the server closes its end. */
static void test_serve_protocol(void **state)
{
	fixture_t f;
	fixture_open(state, &f, 1); /* intake renders page 1 only */
	pp_convert_task_t task;
	int64_t job_id = claimed_pdf_job(&f, &task);
	static const char *const colours[] = {"0 0 0"};
	char pdf[4096];
	size_t len = make_pdf(pdf, sizeof(pdf), colours, 1);
	int64_t canceled_id = store_job(&f, pdf, len, "application/pdf"); /* never claimed */

	int fds[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
	char msg[WORKER_MESSAGE_MAX + 1];
	assert_true(str_format(msg, sizeof(msg), "convert %lld", (long long)job_id));
	send_packet(fds[0], msg);
	assert_true(str_format(msg, sizeof(msg), "pages %lld 1 5", (long long)job_id));
	send_packet(fds[0], msg);
	assert_true(str_format(msg, sizeof(msg), "convert %lld", (long long)canceled_id));
	send_packet(fds[0], msg);
	/* The server closes its end: the worker finishes what it was sent, then ends. */
	assert_int_equal(shutdown(fds[0], SHUT_WR), 0);
	assert_int_equal(worker_serve(&f.worker, fds[1]), 0);

	char expected[WORKER_MESSAGE_MAX];
	recv_packet(fds[0], msg, sizeof(msg));
	assert_true(str_format(expected, sizeof(expected), "ready %ld", (long)getpid()));
	assert_string_equal(msg, expected);
	recv_packet(fds[0], msg, sizeof(msg));
	assert_true(str_format(expected, sizeof(expected), "done %lld ok", (long long)job_id));
	assert_string_equal(msg, expected);
	recv_packet(fds[0], msg, sizeof(msg));
	assert_string_equal(msg, expected); /* the pages */
	recv_packet(fds[0], msg, sizeof(msg));
	assert_true(str_format(expected, sizeof(expected), "done %lld failed ",
	                       (long long)canceled_id));
	assert_true(str_has_prefix(msg, expected));

	assert_int_equal(get_job(&f, job_id).state, PP_JOB_HELD);
	assert_true(has_role(&f, job_id, "thumb:2"));
	assert_true(has_role(&f, job_id, "preview:2"));
	assert_int_equal(count_documents(&f, job_id), 6); /* nothing twice, nothing past 2 */
	assert_int_equal(get_job(&f, canceled_id).state, PP_JOB_RECEIVED); /* not ours */
	assert_int_equal(close(fds[0]), 0);
	assert_int_equal(close(fds[1]), 0);
	fixture_close(&f);
}

/* A malformed message ends the worker (the server restarts it). */
static void test_serve_malformed(void **state)
{
	static const char *const messages[] = {
	    "hello", "convert", "convert 0", "convert 12x", "convert  5", "pages 5 3 1",
	    "pages 5 1", "convert 5 extra",
	};
	fixture_t f;
	fixture_open(state, &f, 1);
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		int fds[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
		send_packet(fds[0], messages[i]);
		if (worker_serve(&f.worker, fds[1]) != 1)
			fail_msg("\"%s\" was accepted", messages[i]);
		char msg[WORKER_MESSAGE_MAX + 1];
		recv_packet(fds[0], msg, sizeof(msg));
		assert_true(str_has_prefix(msg, "ready "));
		assert_int_equal(close(fds[0]), 0);
		assert_int_equal(close(fds[1]), 0);
	}
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_job_held),
	    TEST_DB_CASE(test_job_failed),
	    TEST_DB_CASE(test_serve_protocol),
	    TEST_DB_CASE(test_serve_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
