/*
 * test-convert-pool.c - the server's conversion pool: starting workers, handing out jobs,
 * and what happens when a worker dies, talks nonsense or hangs at stop. On SQLite and
 * PostgreSQL.
 *
 * The worker here is a stand-in, not pullprint-convert: the pool starts this very test
 * program (with the argv a real worker gets), which sees PP_TEST_FAKE_WORKER in its
 * environment and plays a worker speaking the protocol (convert/worker-protocol.h), in the
 * way the variable says. Recording outcomes, it uses the real convert-queue functions on
 * the test's database (PP_TEST_FAKE_DB). The real worker is tested end to end elsewhere.
 */
#include "test-db-support.h"

#include "convert/worker-protocol.h"
#include "core/convert-queue.h"
#include "core/job-state.h"
#include "core/job.h"
#include "lib/crypto.h"
#include "lib/str.h"
#include "server/convert-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAKE_MODE_ENV "PP_TEST_FAKE_WORKER"
#define FAKE_DB_ENV "PP_TEST_FAKE_DB"
#define WAIT_STEP_MS 10
#define WAIT_MAX_MS 60000 /* a bound for liveness, not a speed expectation */

/* ---- the stand-in worker (runs in the spawned child) ---- */

typedef struct {
	const char *mode;
	const char *state_dir;
	int fd;
	pp_db_t *db;
	pp_core_t core;
	int64_t now;
} fake_t;

static void fake_send(fake_t *fake, const char *message)
{
	if (send(fake->fd, message, strlen(message), MSG_NOSIGNAL) < 0)
		_exit(4);
}

/* Appends a line to <state_dir>/<name>: how the test sees what workers did. */
static void fake_note(fake_t *fake, const char *name)
{
	char path[PATH_MAX];
	if (!str_format(path, sizeof(path), "%s/%s", fake->state_dir, name))
		_exit(5);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x\n", 2) != 2 || close(fd) < 0)
		_exit(5);
}

static bool fake_has_note(fake_t *fake, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	return str_format(path, sizeof(path), "%s/%s", fake->state_dir, name) &&
	       stat(path, &st) == 0;
}

static void fake_open_db(fake_t *fake)
{
	char error[DB_ERROR_MAX];
	const char *url = getenv(FAKE_DB_ENV);
	if (fake->db != NULL)
		return;
	if (url == NULL || db_open(url, &fake->db, error, sizeof(error)) != DB_OK ||
	    test_core_init(&fake->core, &fake->now, fake->db, NULL, TEST_CORE_KEY_BYTE) != 0) {
		fprintf(stderr, "fake worker: cannot open the database: %s\n", error);
		_exit(6);
	}
}

/* "convert N": the worker's job, recorded as a real worker would. */
static void fake_convert(fake_t *fake, int64_t job_id)
{
	char message[WORKER_MESSAGE_MAX];
	if (strcmp(fake->mode, "die") == 0)
		_exit(3);
	if (strcmp(fake->mode, "die-once") == 0 && !fake_has_note(fake, "died")) {
		fake_note(fake, "died");
		_exit(3);
	}
	if (strcmp(fake->mode, "hang") == 0) {
		fake_note(fake, "hanging");
		for (;;)
			pause();
	}
	fake_open_db(fake);
	(void)str_format(message, sizeof(message), "progress %lld 50", (long long)job_id);
	fake_send(fake, message);
	char error[DB_ERROR_MAX];
	int rc = convert_queue_complete(&fake->core, job_id, NULL, 0, 2, 1,
	                                "[{\"w\":595,\"h\":842,\"color\":true},"
	                                "{\"w\":595,\"h\":842,\"color\":false}]",
	                                error, sizeof(error));
	if (rc == JOB_OK)
		(void)str_format(message, sizeof(message), "done %lld ok", (long long)job_id);
	else
		(void)str_format(message, sizeof(message), "done %lld failed %.900s",
		                 (long long)job_id, error);
	fake_send(fake, message);
}

/* "pages N first last": previews recorded, then done. */
static void fake_pages(fake_t *fake, int64_t job_id, unsigned first, unsigned last)
{
	char error[DB_ERROR_MAX];
	char message[WORKER_MESSAGE_MAX];
	fake_open_db(fake);
	for (unsigned page = first; page <= last; page++) {
		char role[32], file_id[CRYPTO_ID_HEX_LEN + 1];
		(void)str_format(role, sizeof(role), "preview:%u", page);
		crypto_random_id(file_id);
		pp_convert_output_t out = {.role = role,
		                           .file_id = file_id,
		                           .content_type = "image/jpeg",
		                           .size_bytes = 1};
		if (convert_queue_add_outputs(&fake->core, job_id, &out, 1, error, sizeof(error)) <
		    0)
			_exit(7);
	}
	(void)str_format(message, sizeof(message), "done %lld ok", (long long)job_id);
	fake_send(fake, message);
}

static int fake_worker_main(int argc, char **argv, const char *mode)
{
	fake_t fake = {.mode = mode, .fd = -1};
	uint64_t fd = 0;
	/* Exactly the options the pool documents: [--config P] --state-dir D --fd N. */
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--config") == 0)
			continue;
		if (strcmp(argv[i], "--state-dir") == 0)
			fake.state_dir = argv[i + 1];
		else if (strcmp(argv[i], "--fd") == 0 && parse_uint64_full(argv[i + 1], 1000, &fd))
			fake.fd = (int)fd;
		else
			return 2;
	}
	if (fake.state_dir == NULL || fake.fd < 0 || argc % 2 == 0)
		return 2;
	/* The server's own descriptors must not leak in: only 0-2 and the socket. */
	for (int other = fake.fd + 1; other < 64; other++) {
		if (fcntl(other, F_GETFD) >= 0)
			return 8;
	}
	(void)fcntl(fake.fd, F_SETFD, FD_CLOEXEC);
	fake_note(&fake, "starts");
	if (strcmp(mode, "garbage") == 0) {
		fake_send(&fake, "hello there");
	} else {
		char ready[64];
		(void)str_format(ready, sizeof(ready), "ready %ld", (long)getpid());
		fake_send(&fake, ready);
	}
	for (;;) {
		char message[WORKER_MESSAGE_MAX + 1];
		ssize_t n = recv(fake.fd, message, WORKER_MESSAGE_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the server closed: stop */
		message[n] = '\0';
		long long job_id = 0;
		unsigned first = 0, last = 0;
		if (sscanf(message, "convert %lld", &job_id) == 1)
			fake_convert(&fake, job_id);
		else if (sscanf(message, "pages %lld %u %u", &job_id, &first, &last) == 3)
			fake_pages(&fake, job_id, first, last);
		else
			return 9;
	}
	if (fake.db != NULL) {
		core_deinit(&fake.core);
		db_close(&fake.db);
	}
	return 0;
}

/* ---- the tests ---- */

static void test_pause_ms(long ms)
{
	struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&pause, &pause) < 0 && errno == EINTR) {
	}
}

/* Starts a pool of n stand-in workers playing mode. */
static pp_convert_pool_t *test_pool(test_core_t *tc, const char *mode, unsigned n,
                                    unsigned max_attempts)
{
	static char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(len > 0);
	self[len] = '\0';
	assert_int_equal(setenv(FAKE_MODE_ENV, mode, 1), 0);
	assert_int_equal(setenv(FAKE_DB_ENV, tc->tdb->url, 1), 0);
	pp_convert_pool_config_t cfg = {
	    .program = self,
	    .state_dir = tc->tdb->dir,
	    .workers = n,
	    .max_attempts = max_attempts,
	};
	pp_convert_pool_t *pool = NULL;
	char error[512];
	if (convert_pool_start(&tc->core, &cfg, &pool, error, sizeof(error)) < 0)
		fail_msg("convert_pool_start: %s", error);
	assert_non_null(pool);
	return pool;
}

static void test_pool_stop(pp_convert_pool_t **pool)
{
	convert_pool_stop(pool);
	assert_null(*pool);
	assert_int_equal(unsetenv(FAKE_MODE_ENV), 0);
	assert_int_equal(unsetenv(FAKE_DB_ENV), 0);
}

/* A received job with an original document. */
static int64_t test_job(pp_core_t *core, int64_t user_id)
{
	pp_job_t job;
	char error[512];
	pp_job_new_t new_job = {.user_id = user_id, .source = "portal", .title = "Minutes"};
	/* One transaction, as intake does: a received job always has its document. */
	if (db_tx_begin(core->db, error, sizeof(error)) != DB_OK)
		fail_msg("db_tx_begin: %s", error);
	if (job_create(core, &new_job, &job, error, sizeof(error)) != 0)
		fail_msg("job_create: %s", error);
	char file_id[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(file_id);
	if (job_document_add(core, job.id, "original", file_id, "minutes.pdf", "application/pdf",
	                     100, NULL, error, sizeof(error)) != 0)
		fail_msg("job_document_add: %s", error);
	if (db_tx_commit(core->db, error, sizeof(error)) != DB_OK)
		fail_msg("db_tx_commit: %s", error);
	return job.id;
}

static pp_job_t test_get(pp_core_t *core, int64_t job_id)
{
	pp_job_t job;
	char error[512];
	if (job_get(core, job_id, &job, error, sizeof(error)) != JOB_OK)
		fail_msg("job_get: %s", error);
	return job;
}

/* Waits until job_id is in state (fails the test after WAIT_MAX_MS). */
static pp_job_t test_wait_state(pp_core_t *core, int64_t job_id, pp_job_state_t state)
{
	for (long waited = 0; waited < WAIT_MAX_MS; waited += WAIT_STEP_MS) {
		pp_job_t job = test_get(core, job_id);
		if (job.state == state)
			return job;
		test_pause_ms(WAIT_STEP_MS);
	}
	fail_msg("job %lld never became %s (it is %s)", (long long)job_id, job_state_name(state),
	         job_state_name(test_get(core, job_id).state));
	return test_get(core, job_id);
}

/* Waits until the pool has ready idle workers and busy ones as given. */
static void test_wait_status(pp_convert_pool_t *pool, unsigned ready, unsigned busy)
{
	pp_convert_pool_status_t status;
	for (long waited = 0; waited < WAIT_MAX_MS; waited += WAIT_STEP_MS) {
		convert_pool_status(pool, &status);
		if (status.ready == ready && status.busy == busy)
			return;
		test_pause_ms(WAIT_STEP_MS);
	}
	fail_msg("pool never had %u ready and %u busy (it has %u alive, %u ready, %u busy)", ready,
	         busy, status.alive, status.ready, status.busy);
}

/* How many lines the stand-ins wrote to <state_dir>/<name>. */
static size_t test_notes(test_core_t *tc, const char *name)
{
	char path[PATH_MAX];
	assert_true(str_format(path, sizeof(path), "%s/%s", tc->tdb->dir, name));
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	size_t lines = 0;
	int c;
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	(void)fclose(f);
	return lines;
}

static int64_t test_int(pp_core_t *core, const char *sql, int64_t param)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	pp_db_value_t p[] = {DB_INT(param)};
	if (db_query(core->db, sql, p, 1, &res, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
	int64_t n = db_result_rows(res) > 0 ? db_result_int(res, 0, 0) : -1;
	db_result_free(&res);
	return n;
}

static void test_pool_converts(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	pp_convert_pool_t *pool = test_pool(tc, "ok", 2, 3);
	test_wait_status(pool, 2, 0);
	pp_convert_pool_status_t status;
	convert_pool_status(pool, &status);
	assert_int_equal(status.workers, 2);
	assert_int_equal(status.alive, 2);

	/* Jobs arrive; intake's hook wakes the pool; each ends held with its page counts. */
	int64_t jobs[4];
	for (size_t i = 0; i < 4; i++)
		jobs[i] = test_job(core, user);
	convert_pool_on_job_received(pool);
	for (size_t i = 0; i < 4; i++) {
		pp_job_t job = test_wait_state(core, jobs[i], PP_JOB_HELD);
		assert_int_equal(job.pages, 2);
		assert_int_equal(job.color_pages, 1);
		assert_int_equal(
		    test_int(core, "SELECT convert_attempts FROM jobs WHERE id = $1", jobs[i]), 1);
	}
	test_wait_status(pool, 2, 0);

	/* A job that arrives without a wake-up is found by the pool's own poll. */
	int64_t late = test_job(core, user);
	(void)test_wait_state(core, late, PP_JOB_HELD);
	assert_int_equal(test_notes(tc, "starts"), 2); /* no worker was restarted */
	test_pool_stop(&pool);
	convert_pool_status(NULL, &status);
	assert_int_equal(status.workers, 0);
	convert_pool_wake(NULL);
}

static void test_pool_worker_dies(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	pp_convert_pool_t *pool = test_pool(tc, "die", 1, 2);
	int64_t job_id = test_job(core, user);
	convert_pool_wake(pool);

	/* Each worker dies on the document: it is retried once, then failed with a reason. */
	pp_job_t job = test_wait_state(core, job_id, PP_JOB_FAILED);
	assert_string_equal(job.state_reason,
	                    "The converter stopped while converting this document.");
	assert_int_equal(test_int(core, "SELECT convert_attempts FROM jobs WHERE id = $1", job_id),
	                 2);
	/* And the pool carries on with a fresh worker. */
	test_wait_status(pool, 1, 0);
	assert_true(test_notes(tc, "starts") >= 3);
	test_pool_stop(&pool);
}

static void test_pool_worker_dies_once(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	pp_convert_pool_t *pool = test_pool(tc, "die-once", 1, 3);
	int64_t job_id = test_job(core, user);
	convert_pool_wake(pool);
	(void)test_wait_state(core, job_id, PP_JOB_HELD);
	assert_int_equal(test_int(core, "SELECT convert_attempts FROM jobs WHERE id = $1", job_id),
	                 2);
	test_pool_stop(&pool);
}

static void test_pool_bad_message(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_convert_pool_t *pool = test_pool(tc, "garbage", 1, 3);
	/* A worker that breaks the protocol is replaced (and never gets work). */
	for (long waited = 0; test_notes(tc, "starts") < 2 && waited < WAIT_MAX_MS;
	     waited += WAIT_STEP_MS)
		test_pause_ms(WAIT_STEP_MS);
	assert_true(test_notes(tc, "starts") >= 2);
	pp_convert_pool_status_t status;
	convert_pool_status(pool, &status);
	assert_int_equal(status.ready, 0);
	assert_int_equal(status.busy, 0);
	test_pool_stop(&pool);
}

static void test_pool_pages(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	pp_convert_pool_t *pool = test_pool(tc, "ok", 1, 3);
	int64_t job_id = test_job(core, user);
	convert_pool_wake(pool);
	(void)test_wait_state(core, job_id, PP_JOB_HELD);
	test_wait_status(pool, 1, 0);

	/* The portal asks for pages 2 and 3 of the held job. */
	assert_int_equal(convert_pool_request_pages(pool, job_id, 2, 3, error, sizeof(error)), 0);
	for (long waited = 0; waited < WAIT_MAX_MS; waited += WAIT_STEP_MS) {
		if (test_int(core,
		             "SELECT COUNT(*) FROM documents WHERE job_id = $1"
		             " AND role IN ('preview:2', 'preview:3')",
		             job_id) == 2)
			break;
		test_pause_ms(WAIT_STEP_MS);
	}
	assert_int_equal(test_int(core,
	                          "SELECT COUNT(*) FROM documents WHERE job_id = $1"
	                          " AND role LIKE 'preview:%'",
	                          job_id),
	                 2);
	test_wait_status(pool, 1, 0);

	/* Bad ranges, and no pool at all. */
	assert_int_equal(convert_pool_request_pages(pool, job_id, 0, 3, error, sizeof(error)), -1);
	assert_int_equal(convert_pool_request_pages(pool, job_id, 4, 3, error, sizeof(error)), -1);
	assert_int_equal(convert_pool_request_pages(NULL, job_id, 1, 1, error, sizeof(error)), -1);
	test_pool_stop(&pool);
}

static void test_pool_stop_requeues(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	int64_t user = test_db_add_user(core->db, "ann@example.com");
	pp_convert_pool_t *pool = test_pool(tc, "hang", 1, 3);
	int64_t job_id = test_job(core, user);
	convert_pool_wake(pool);
	(void)test_wait_state(core, job_id, PP_JOB_CONVERTING);
	for (long waited = 0; test_notes(tc, "hanging") < 1 && waited < WAIT_MAX_MS;
	     waited += WAIT_STEP_MS)
		test_pause_ms(WAIT_STEP_MS);

	/* The server stops mid-conversion: the worker is stopped, the job waits for the next
	 * start instead of staying "converting". */
	test_pool_stop(&pool);
	pp_job_t job = test_get(core, job_id);
	assert_int_equal(job.state, PP_JOB_RECEIVED);
}

static void test_pool_missing_program(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	pp_convert_pool_config_t cfg = {
	    .program = "/nonexistent/pullprint-convert",
	    .state_dir = tc->tdb->dir,
	    .workers = 1,
	    .max_attempts = 3,
	};
	pp_convert_pool_t *pool = (pp_convert_pool_t *)&cfg; /* must be replaced */
	/* Logged, and the server carries on without a pool. */
	assert_int_equal(convert_pool_start(&tc->core, &cfg, &pool, error, sizeof(error)), 0);
	assert_null(pool);
	convert_pool_stop(&pool);
}

int main(int argc, char **argv)
{
	const char *mode = getenv(FAKE_MODE_ENV);
	if (mode != NULL)
		return fake_worker_main(argc, argv, mode);
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_pool_converts),
	    TEST_CORE_CASE(test_pool_worker_dies),
	    TEST_CORE_CASE(test_pool_worker_dies_once),
	    TEST_CORE_CASE(test_pool_bad_message),
	    TEST_CORE_CASE(test_pool_pages),
	    TEST_CORE_CASE(test_pool_stop_requeues),
	    TEST_CORE_CASE(test_pool_missing_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
