/*
 * test-convert-worker.c - the conversion worker on real jobs: a job stored by intake is
 * claimed, converted in the sandbox and recorded as held with its PDF, analysis and page
 * images (encrypted, decrypting to JPEG); documents that cannot be converted fail with a
 * reason the user reads; the --fd protocol loop, driven through a socketpair as
 * pullprintd drives it; and the split between the worker (the broker, holding the spool key
 * and the database) and its converter process, which starts every sandboxed child: the
 * converter holds no key, no descriptor but its socket, no environment of the broker's; a
 * converter killed mid-job fails that job as a crash and the next job converts; a converter
 * that answers nonsense is replaced without harm; job directories outside tmp_base are
 * refused; print data at release is rendered on the paper delivery also chooses (the job's,
 * or A4 <-> Letter by the paper loaded now, else by the capabilities). The converter is the
 * built pullprint-convert (beside this test in the build tree). Runs on SQLite and
 * PostgreSQL.
 */
#include "test-db-support.h"

#include "convert/worker-protocol.h"
#include "convert/worker/worker.h"
#include "core/convert-queue.h"
#include "core/intake.h"
#include "core/job.h"
#include "core/options.h"
#include "core/printers.h"
#include "db/db.h"
#include "lib/config.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_MAX_BYTES (16 * 1024 * 1024)

static const uint8_t test_spool_key[SPOOL_KEY_BYTES] = {9, 9, 9, 9, 1, 2, 3, 4};

/*
 * The built pullprint-convert: <build>/src/cmd/pullprint-convert, this binary being
 * <build>/tests/unit/test-convert-worker. (The worker's default, /proc/self/exe, is this test
 * binary here.)
 */
static void converter_program(char *path, size_t size)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(len > 0);
	self[len] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(self, '/');
		assert_non_null(slash);
		*slash = '\0';
	}
	assert_true(str_format(path, size, "%s/src/cmd/pullprint-convert", self));
	if (access(path, X_OK) != 0)
		fail_msg("%s is missing: build it first (ninja -C <build>)", path);
}

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
	/* The sandboxed children are the converter's: a separate program, never run under
	 * valgrind, so the limits stay as an installation has them. */
	converter_program(f->worker.converter.program, sizeof(f->worker.converter.program));
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

/* ---- the broker / converter split --------------------------------------------------- */

/* Reads /proc/<pid>/<name> into buf (size > 1); returns the length. */
static size_t read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	assert_true(str_format(path, sizeof(path), "/proc/%ld/%s", (long)pid, name));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open(%s): %s", path, strerror(errno));
	size_t len = 0;
	for (;;) {
		assert_true(len < size - 1);
		ssize_t n = read(fd, buf + len, size - 1 - len);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	assert_int_equal(close(fd), 0);
	buf[len] = '\0';
	return len;
}

/* True when the readable memory of process pid holds needle[len] (read through /proc). */
static bool memory_holds(pid_t pid, const uint8_t *needle, size_t len)
{
	char path[64];
	assert_true(str_format(path, sizeof(path), "/proc/%ld/maps", (long)pid));
	FILE *maps = fopen(path, "re");
	assert_non_null(maps);
	assert_true(str_format(path, sizeof(path), "/proc/%ld/mem", (long)pid));
	int mem = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(mem >= 0);
	enum { CHUNK = 1 << 20 };
	uint8_t *buf = malloc(CHUNK + len);
	assert_non_null(buf);
	bool found = false;
	char line[512];
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		unsigned long start = 0, end = 0;
		char perms[8] = "";
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[0] != 'r' ||
		    strstr(line, "[vvar]") != NULL || strstr(line, "[vsyscall]") != NULL)
			continue;
		/* Mappings past 1 GiB are reservations such as AddressSanitizer's shadow (terabytes
		 * of untouched zero pages); a key copied by the program sits in its heap, stack or
		 * data, all far smaller. */
		if (end - start > (1UL << 30))
			continue;
		size_t carried = 0; /* bytes kept from the previous chunk, for a match across */
		for (unsigned long at = start; !found && at < end;) {
			size_t want = end - at < CHUNK ? (size_t)(end - at) : CHUNK;
			ssize_t n = pread(mem, buf + carried, want, (off_t)at);
			if (n <= 0)
				break; /* an unreadable mapping: nothing of ours is there */
			size_t have = carried + (size_t)n;
			for (size_t i = 0; i + len <= have && !found; i++)
				found = buf[i] == needle[0] && memcmp(buf + i, needle, len) == 0;
			carried = have >= len - 1 ? len - 1 : have;
			memmove(buf, buf + have - carried, carried);
			at += (unsigned long)n;
		}
	}
	free(buf);
	assert_int_equal(close(mem), 0);
	assert_int_equal(fclose(maps), 0);
	return found;
}

/* The converter is a fresh program that holds nothing of the worker's: not the spool key
 * (which the worker holds), no descriptor but stdin/stdout/stderr and its socket, and an
 * environment of HOME, LANG and PATH only — before and after it converted a document. */
static void test_converter_holds_no_secret(void **state)
{
	fixture_t f;
	fixture_open(state, &f, 1);
	/* The scan works: the worker (this process) holds the key. */
	assert_true(memory_holds(getpid(), test_spool_key, sizeof(test_spool_key)));
	assert_true(setenv("PP_TEST_SECRET", "postgresql://u:secret@db/x", 1) == 0);
	char error[1024];
	if (worker_converter_start(&f.worker, error, sizeof(error)) < 0)
		fail_msg("worker_converter_start: %s", error);
	assert_int_equal(unsetenv("PP_TEST_SECRET"), 0);

	for (int round = 0; round < 2; round++) {
		pid_t pid = f.worker.converter.pid;
		assert_true(pid > 0);
		char buf[8192];
		/* The command line: the internal mode, on fd 3. */
		size_t len = read_proc(pid, "cmdline", buf, sizeof(buf));
		size_t prog_len = strlen(buf);
		assert_true(prog_len < len);
		assert_memory_equal(buf + prog_len + 1, "--converter\0--fd\0" "3\0",
				    len - prog_len - 1);
		/* The environment: exactly HOME (the office profile), LANG and PATH. */
		len = read_proc(pid, "environ", buf, sizeof(buf));
		char expected[PATH_MAX + 64];
		int n = snprintf(expected, sizeof(expected), "HOME=%s%cLANG=C.UTF-8%cPATH=/usr/bin:/bin%c",
				 f.worker.office_profile_dir, 0, 0, 0);
		assert_true(n > 0 && (size_t)n < sizeof(expected));
		assert_int_equal(len, (size_t)n);
		assert_memory_equal(buf, expected, len);
		/* The descriptors: 0, 1, 2 and the socket as 3, nothing else. */
		char dir_path[64];
		assert_true(str_format(dir_path, sizeof(dir_path), "/proc/%ld/fd", (long)pid));
		DIR *d = opendir(dir_path);
		assert_non_null(d);
		int fds = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			uint64_t fd = 0;
			assert_true(parse_uint64_full(e->d_name, 1000000, &fd));
			if (fd > 3)
				fail_msg("the converter holds descriptor %s", e->d_name);
			fds++;
		}
		closedir(d);
		assert_int_equal(fds, 4);
		char link[64], target[256];
		assert_true(str_format(link, sizeof(link), "/proc/%ld/fd/3", (long)pid));
		ssize_t tlen = readlink(link, target, sizeof(target) - 1);
		assert_true(tlen > 0);
		target[tlen] = '\0';
		assert_true(str_has_prefix(target, "socket:"));
		/* The memory: no spool key anywhere. */
		assert_false(memory_holds(pid, test_spool_key, sizeof(test_spool_key)));

		if (round == 0) {
			pp_convert_task_t task;
			(void)claimed_pdf_job(&f, &task);
			pp_worker_outcome_t outcome;
			if (worker_job_run(&f.worker, &task, &outcome, error, sizeof(error)) < 0 ||
			    !outcome.is_ok)
				fail_msg("the job did not convert: %s %s", error, outcome.reason);
			assert_int_equal(f.worker.converter.pid, pid); /* the same converter */
		}
	}
	fixture_close(&f);
}

/* Waits until the converter has a child (a sandboxed conversion), then kills that child's
 * process group and the converter, as a crash would. Runs in a forked helper, which ends by
 * SIGKILL when it did so (no exit handlers, no valgrind report for this copy of the test),
 * else exits 1. */
static void kill_converter_mid_job(pid_t converter)
{
	char path[96], buf[256];
	(void)snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)converter,
		       (long)converter);
	for (int tries = 0; tries < 60000; tries++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			(void)close(fd);
		if (n > 0) {
			buf[n] = '\0';
			long child = strtol(buf, NULL, 10);
			if (child > 0) {
				(void)kill(-(pid_t)child, SIGKILL); /* the sandbox's own group */
				(void)kill(converter, SIGKILL);
				(void)kill(getpid(), SIGKILL);
			}
		}
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000000L};
		(void)nanosleep(&ts, NULL);
	}
	_exit(1);
}

/* A converter that dies in the middle of a job fails that job as a crash (the reason a
 * crashed sandbox child gives), and the next job converts with a new converter. */
static void test_converter_killed_mid_job(void **state)
{
	fixture_t f;
	fixture_open(state, &f, 1);
	char error[1024];
	if (worker_converter_start(&f.worker, error, sizeof(error)) < 0)
		fail_msg("worker_converter_start: %s", error);
	/* PostScript that never ends: Ghostscript runs until someone stops it. */
	static const char endless[] = "%!PS-Adobe-3.0\n{ } loop\n";
	int64_t job_id = store_job(&f, endless, strlen(endless), "application/postscript");
	pp_convert_task_t task;
	claim(&f, job_id, &task);

	pid_t helper = fork();
	assert_true(helper >= 0);
	if (helper == 0)
		kill_converter_mid_job(f.worker.converter.pid);
	pp_worker_outcome_t outcome;
	if (worker_job_run(&f.worker, &task, &outcome, error, sizeof(error)) < 0)
		fail_msg("worker_job_run: %s", error);
	int status = 0;
	assert_int_equal(waitpid(helper, &status, 0), helper);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL); /* it found the child */
	assert_false(outcome.is_ok);
	pp_job_t job = get_job(&f, job_id);
	assert_int_equal(job.state, PP_JOB_FAILED);
	if (strstr(job.state_reason, "The converter crashed while reading the document") == NULL)
		fail_msg("reason: %s", job.state_reason);
	assert_false(f.worker.converter.is_running);
	assert_int_equal(tmp_entries(&f), 0);

	pp_convert_task_t next;
	int64_t next_id = claimed_pdf_job(&f, &next);
	if (worker_job_run(&f.worker, &next, &outcome, error, sizeof(error)) < 0 ||
	    !outcome.is_ok)
		fail_msg("the next job did not convert: %s %s", error, outcome.reason);
	assert_int_equal(get_job(&f, next_id).state, PP_JOB_HELD);
	assert_int_equal(f.worker.converter.starts, 2);
	fixture_close(&f);
}

/* Replies a fake converter sends: each is refused, the fake is dropped, and the request ends
 * as a crash for the user, never as a crash of the worker. */
static void test_converter_malformed_replies(void **state)
{
	static const char huge_prefix[] = "{\"type\":\"error\",\"id\":1,\"error\":\"";
	static const struct {
		const char *label;
		const char *reply; /* %llu: the request's id; NULL: a packet over the limit */
	} cases[] = {
	    {"an empty packet", ""},
	    {"not JSON", "hello"},
	    {"a JSON array", "[1,2]"},
	    {"the wrong type", "{\"type\":\"ready\",\"pid\":1}"},
	    {"no id", "{\"type\":\"result\",\"outcome\":\"ok\",\"signal\":0,\"elapsed_s\":0,"
		      "\"message\":\"\",\"ms\":0}"},
	    {"another request's id", "{\"type\":\"result\",\"id\":999999,\"outcome\":\"ok\","
				     "\"signal\":0,\"elapsed_s\":0,\"message\":\"\",\"ms\":0}"},
	    {"an unknown outcome", "{\"type\":\"result\",\"id\":%llu,\"outcome\":\"great\","
				   "\"signal\":0,\"elapsed_s\":0,\"message\":\"\",\"ms\":0}"},
	    {"a negative time", "{\"type\":\"result\",\"id\":%llu,\"outcome\":\"ok\","
				"\"signal\":0,\"elapsed_s\":-1,\"message\":\"\",\"ms\":0}"},
	    {"a message with a newline", "{\"type\":\"result\",\"id\":%llu,\"outcome\":\"failed\","
					 "\"signal\":0,\"elapsed_s\":0,\"message\":\"a\\nb\",\"ms\":0}"},
	    {"a NUL in the message", "{\"type\":\"result\",\"id\":%llu,\"outcome\":\"failed\","
				     "\"signal\":0,\"elapsed_s\":0,\"message\":\"a\\u0000b\",\"ms\":0}"},
	    {"an extra key", "{\"type\":\"result\",\"id\":%llu,\"outcome\":\"ok\",\"signal\":0,"
			     "\"elapsed_s\":0,\"message\":\"\",\"ms\":0,\"path\":\"/etc\"}"},
	    {"a duplicate key", "{\"type\":\"result\",\"id\":%llu,\"id\":%llu,\"outcome\":\"ok\","
				"\"signal\":0,\"elapsed_s\":0,\"message\":\"\",\"ms\":0}"},
	    {"a packet over the limit", NULL},
	};
	fixture_t f;
	fixture_open(state, &f, 1);
	char dir[PATH_MAX];
	char error[1024];
	if (worker_tmpdir_open(&f.worker, dir, sizeof(dir), error, sizeof(error)) < 0)
		fail_msg("worker_tmpdir_open: %s", error);
	size_t huge_len = CONVERTER_MESSAGE_MAX + 100;
	char *huge = malloc(huge_len + 1);
	assert_non_null(huge);
	memset(huge, 'x', huge_len);
	memcpy(huge, huge_prefix, strlen(huge_prefix));
	memcpy(huge + huge_len - 2, "\"}", 2);
	huge[huge_len] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fds[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
		converter_client_attach(&f.worker.converter, fds[0], 0);
		unsigned long long id = (unsigned long long)f.worker.converter.next_id;
		char reply[1024];
		const char *packet = huge;
		if (cases[i].reply != NULL) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			int n = snprintf(reply, sizeof(reply), cases[i].reply, id, id);
#pragma GCC diagnostic pop
			assert_true(n >= 0 && (size_t)n < sizeof(reply));
			packet = reply;
		}
		assert_int_equal(send(fds[1], packet, strlen(packet), MSG_NOSIGNAL),
				 (ssize_t)strlen(packet));
		char reason[CONVERT_ERROR_MAX];
		int rc = worker_render_pages(&f.worker, dir, 1, 1, reason, sizeof(reason), error,
					     sizeof(error));
		if (rc != 0 || strstr(reason, "The converter crashed") == NULL)
			fail_msg("%s: rc %d, reason \"%s\"", cases[i].label, rc, reason);
		if (f.worker.converter.is_running)
			fail_msg("%s: the fake converter was kept", cases[i].label);
		assert_int_equal(close(fds[1]), 0);
	}
	free(huge);

	/* A well-formed "cannot work" answer is the worker's failure, not the document's. */
	int fds[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
	converter_client_attach(&f.worker.converter, fds[0], 0);
	char reply[256];
	assert_true(str_format(reply, sizeof(reply),
			       "{\"type\":\"error\",\"id\":%llu,\"error\":\"no sandbox\"}",
			       (unsigned long long)f.worker.converter.next_id));
	assert_int_equal(send(fds[1], reply, strlen(reply), MSG_NOSIGNAL), (ssize_t)strlen(reply));
	char reason[CONVERT_ERROR_MAX];
	assert_int_equal(worker_render_pages(&f.worker, dir, 1, 1, reason, sizeof(reason), error,
					     sizeof(error)),
			 -1);
	assert_non_null(strstr(error, "no sandbox"));
	converter_client_stop(&f.worker.converter);
	assert_int_equal(close(fds[1]), 0);
	assert_int_equal(sandbox_tmpdir_wipe(dir, error, sizeof(error)), 0);
	fixture_close(&f);
}

/* Job directories: only direct children of tmp_base pass, in the validator and in the real
 * converter, which ends rather than touch anything else. */
static void test_converter_paths(void **state)
{
	static const struct {
		const char *dir; /* %s: tmp_base */
		bool is_valid;
	} cases[] = {
	    {"%s/convert-abc123", true},
	    {"%s/x", true},
	    {"%s/...", true},
	    {"../x", false},
	    {"x", false},
	    {"/etc", false},
	    {"/", false},
	    {"%s", false},
	    {"%s/", false},
	    {"%s/.", false},
	    {"%s/..", false},
	    {"%s/../x", false},
	    {"%s/a/b", false},
	    {"%s/a/", false},
	    {"%s/a/../b", false},
	    {"%sx/y", false},
	    {"%s//a", false},
	    {"%s/a\nb", false},
	};
	fixture_t f;
	fixture_open(state, &f, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char dir[PATH_MAX];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		int n = snprintf(dir, sizeof(dir), cases[i].dir, f.tmp_base);
#pragma GCC diagnostic pop
		assert_true(n > 0 && (size_t)n < sizeof(dir));
		if (converter_dir_is_valid(f.tmp_base, dir) != cases[i].is_valid)
			fail_msg("\"%s\" %s", dir, cases[i].is_valid ? "refused" : "accepted");
		/* The converter's decoder says the same about a request naming it. */
		pp_converter_request_t req, decoded;
		converter_request_init(&req, CONVERTER_REQ_PAGES, dir);
		req.first = req.last = 1;
		char error[256];
		char *text = converter_request_encode(&req, error, sizeof(error));
		assert_non_null(text);
		int rc = converter_request_decode(text, strlen(text), f.tmp_base, &decoded, error,
						  sizeof(error));
		free(text);
		if ((rc == 0) != cases[i].is_valid)
			fail_msg("request for \"%s\" %s", dir, rc == 0 ? "accepted" : "refused");
	}

	/* The real converter, asked about /etc: it ends without touching it; the worker sees a
	 * converter that stopped and goes on with a new one. */
	char error[1024];
	char reason[CONVERT_ERROR_MAX];
	int rc = worker_render_pages(&f.worker, "/etc", 1, 1, reason, sizeof(reason), error,
				     sizeof(error));
	if (rc != 0 || strstr(reason, "exit status 1") == NULL)
		fail_msg("rc %d, reason \"%s\", error \"%s\"", rc, reason, error);
	assert_false(f.worker.converter.is_running);
	pp_convert_task_t task;
	(void)claimed_pdf_job(&f, &task);
	pp_worker_outcome_t outcome;
	if (worker_job_run(&f.worker, &task, &outcome, error, sizeof(error)) < 0 || !outcome.is_ok)
		fail_msg("the next job did not convert: %s %s", error, outcome.reason);
	fixture_close(&f);
}

/* What the worker sends as limits arrives unchanged. */
static void test_converter_limits_round_trip(void **state)
{
	fixture_t f;
	fixture_open(state, &f, 1);
	pp_converter_limits_t limits, decoded;
	char error[1024];
	if (worker_converter_limits(&f.worker, &limits, error, sizeof(error)) < 0)
		fail_msg("worker_converter_limits: %s", error);
	limits.exec.uid = 4242;
	limits.max_image_pixels = 123456789;
	char *text = converter_limits_encode(&limits, error, sizeof(error));
	assert_non_null(text);
	if (converter_limits_decode(text, strlen(text), &decoded, error, sizeof(error)) < 0)
		fail_msg("converter_limits_decode: %s", error);
	free(text);
	assert_memory_equal(&decoded.render, &limits.render, sizeof(limits.render));
	assert_memory_equal(&decoded.exec, &limits.exec, sizeof(limits.exec));
	assert_memory_equal(&decoded.office, &limits.office, sizeof(limits.office));
	assert_string_equal(decoded.tmp_base, limits.tmp_base);
	assert_string_equal(decoded.office_profile_dir, limits.office_profile_dir);
	assert_int_equal(decoded.max_pages, limits.max_pages);
	assert_int_equal(decoded.max_image_pixels, 123456789);
	assert_int_equal(decoded.office_timeout_s, limits.office_timeout_s);
	assert_int_equal(decoded.log_level, limits.log_level);
	fixture_close(&f);
}


/* ---- print data at release: the paper ---- */

#define A4 "iso_a4_210x297mm"
#define LETTER "na_letter_8.5x11in"
#define A3 "iso_a3_297x420mm"

/* A raster printer with caps_media (JSON list) and, when trays_json, a cached status. */
static int64_t add_raster_printer(fixture_t *f, const char *name, const char *caps_media,
				  const char *trays_json, const char *status_error)
{
	pp_printer_t *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	printers_init(p);
	char error[1024], caps[512];
	assert_true(str_copy(p->name, sizeof(p->name), name));
	assert_true(str_copy(p->device_uri, sizeof(p->device_uri), "socket://127.0.0.1:9"));
	assert_true(str_format(caps, sizeof(caps),
			       "{\"formats\":[\"image/pwg-raster\"],\"media\":%s,"
			       "\"resolution_dpi\":72}",
			       caps_media));
	if (printer_caps_from_json(caps, &p->caps, error, sizeof(error)) < 0)
		fail_msg("caps %s: %s", caps, error);
	int64_t id = 0;
	if (printers_add(&f->core, "admin:test", p, &id, error, sizeof(error)) != 0)
		fail_msg("printers_add %s: %s", name, error);
	free(p);
	if (trays_json != NULL) {
		const pp_db_value_t params[] = {DB_INT(id), DB_TEXT(trays_json),
						DB_TEXT(status_error)};
		if (db_exec(f->core.db,
			    "INSERT INTO printer_status (printer_id, state, trays, checked_at, error)"
			    " VALUES ($1, 'idle', $2, 1, $3)",
			    params, 3, NULL, error, sizeof(error)) != DB_OK)
			fail_msg("printer_status: %s", error);
	}
	return id;
}

/* A held one-page A4 PDF job released to printer_id asking for media. Returns its id. */
static int64_t released_job(fixture_t *f, int64_t printer_id, const char *media)
{
	static const char *const colours[] = {"0 0 0"};
	char pdf[4096], error[1024], file_id[SPOOL_ID_LEN + 1];
	size_t len = make_pdf(pdf, sizeof(pdf), colours, 1);
	pp_spool_writer_t *w = NULL;
	uint64_t size = 0;
	if (spool_writer_open(f->spool, &w, error, sizeof(error)) < 0 ||
	    spool_writer_write(w, pdf, len, error, sizeof(error)) < 0 ||
	    spool_writer_finish(&w, file_id, &size, error, sizeof(error)) < 0)
		fail_msg("spool: %s", error);
	pp_print_options_t opts;
	assert_int_equal(options_from_json("{}", &opts, error, sizeof(error)), 0);
	assert_true(str_copy(opts.media, sizeof(opts.media), media));
	pp_job_new_t new_job = {.user_id = f->user_id,
				.source = "portal",
				.title = "Ticket",
				.options = &opts,
				.size_bytes = (int64_t)size};
	pp_job_t job;
	if (job_create(&f->core, &new_job, &job, error, sizeof(error)) != 0)
		fail_msg("job_create: %s", error);
	assert_int_equal(job_document_add(&f->core, job.id, "pdf", file_id, "doc.pdf",
					  "application/pdf", (int64_t)size, NULL, error,
					  sizeof(error)),
			 0);
	assert_int_equal(job_transition(&f->core, job.id, PP_JOB_RECEIVED, PP_JOB_CONVERTING,
					NULL, error, sizeof(error)),
			 JOB_OK);
	pp_job_transition_t how = {.has_pages = true, .pages = 1};
	assert_int_equal(job_transition(&f->core, job.id, PP_JOB_CONVERTING, PP_JOB_HELD, &how,
					error, sizeof(error)),
			 JOB_OK);
	if (job_release(&f->core, job.id, printer_id, NULL, "admin:test", error,
			sizeof(error)) != JOB_OK)
		fail_msg("job_release: %s", error);
	return job.id;
}

/* Big-endian 32-bit word at buf[at]. */
static uint32_t be32(const uint8_t *buf, size_t at)
{
	return (uint32_t)buf[at] << 24 | (uint32_t)buf[at + 1] << 16 | (uint32_t)buf[at + 2] << 8 |
	       (uint32_t)buf[at + 3];
}

/*
 * "print" at release renders on the paper the printer has: the job's size when it is
 * there, A4 <-> Letter by what is loaded now (the cached status's trays) when that is
 * known, else by the capabilities; the same decision as IPP delivery's media option.
 */
static void test_print_media_at_release(void **state)
{
	static const struct {
		const char *what;
		const char *caps;   /* capabilities' media, JSON */
		const char *trays;  /* cached status trays, JSON; NULL = no status */
		const char *status_error; /* the last check failed */
		const char *want;
		unsigned width_pt, height_pt; /* page size of the print data */
	} rows[] = {
	    {"A4 asked, only Letter loaded", "[\"" A4 "\",\"" LETTER "\"]",
	     "[{\"name\":\"Tray 1\",\"media\":\"" LETTER "\",\"level\":-2}]", "", A4, 612,
	     792},
	    {"A4 asked and loaded", "[\"" A4 "\",\"" LETTER "\"]",
	     "[{\"media\":\"\",\"width_mm\":210,\"height_mm\":297,\"level\":-2},"
	     "{\"media\":\"Letter\",\"level\":-2}]",
	     "", A4, 595, 842},
	    {"Letter asked, no status, caps only A4", "[\"" A4 "\"]", NULL, "", LETTER, 595, 842},
	    {"A4 asked, loaded A4 beats caps of Letter", "[\"" LETTER "\"]",
	     "[{\"media\":\"A4\",\"level\":50}]", "", A4, 595, 842},
	    {"the A4 tray is empty: Letter", "[\"" A4 "\",\"" LETTER "\"]",
	     "[{\"media\":\"A4\",\"level\":0},{\"media\":\"Letter\",\"level\":-2}]", "",
	     A4, 612, 792},
	    {"a failed check says nothing: caps", "[\"" A4 "\"]",
	     "[{\"media\":\"Letter\",\"level\":-2}]", "no answer", A4, 595, 842},
	    {"A3 asked, Letter loaded: as asked", "[\"" A4 "\",\"" LETTER "\"]",
	     "[{\"media\":\"Letter\",\"level\":-2}]", "", A3, 842, 1191},
	};
	fixture_t f;
	fixture_open(state, &f, 1);
	static uint8_t buf[4 * 1024 * 1024];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char name[32], text[128];
		assert_true(str_format(name, sizeof(name), "lab-%zu", i));
		int64_t printer = add_raster_printer(&f, name, rows[i].caps, rows[i].trays,
						     rows[i].status_error);
		int64_t job_id = released_job(&f, printer, rows[i].want);
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
		assert_true(str_format(text, sizeof(text), "print %lld %lld pwg", (long long)job_id,
				       (long long)printer));
		assert_int_equal(worker_print_serve(&f.worker, sv[0], text), 0);
		char answer[1024];
		ssize_t n = recv(sv[1], answer, sizeof(answer) - 1, 0);
		assert_true(n > 0);
		answer[n] = '\0';
		close(sv[0]);
		close(sv[1]);
		char ok[64];
		assert_true(str_format(ok, sizeof(ok), "done %lld ok", (long long)job_id));
		if (strcmp(answer, ok) != 0)
			fail_msg("row %zu (%s): %s", i, rows[i].what, answer);
		/* PWG raster: "RaS2", then the page header; PageSize (points) at 352. */
		size_t len = read_role(&f, job_id, "print", buf, sizeof(buf));
		assert_true(len > 4 + 1796 && memcmp(buf, "RaS2", 4) == 0);
		unsigned width = be32(buf, 4 + 352), height = be32(buf, 4 + 356);
		if (width != rows[i].width_pt || height != rows[i].height_pt)
			fail_msg("row %zu (%s): printed on %ux%u pt, expected %ux%u", i,
				 rows[i].what, width, height, rows[i].width_pt,
				 rows[i].height_pt);
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
	    TEST_DB_CASE(test_converter_holds_no_secret),
	    TEST_DB_CASE(test_converter_killed_mid_job),
	    TEST_DB_CASE(test_converter_malformed_replies),
	    TEST_DB_CASE(test_converter_paths),
	    TEST_DB_CASE(test_converter_limits_round_trip),
	    TEST_DB_CASE(test_print_media_at_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
