/*
 * test-delivery.c - the server's delivery manager (server/delivery.h) against RAW receivers
 * on 127.0.0.1: a released job comes out of the right printer in a PJL envelope and leaves an
 * accounting row naming the printer's MAC address and this server; a printer that refuses is
 * retried, then its group's next printer takes the job; when every printer refuses, or one
 * cannot print the job at all, the job is held again with a reason its owner can read; a job
 * canceled while waiting is never sent. On SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "core/accounting.h"
#include "core/job-state.h"
#include "core/job.h"
#include "core/printers.h"
#include "lib/str.h"
#include "server/delivery.h"
#include "spool/spool.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MAX_MS 60000 /* a bound for liveness, not a speed expectation */

static const char test_pdf[] = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n";

/* ---- a RAW (port 9100) receiver: accepts connections one after another, keeps the bytes ---- */

typedef struct {
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	char data[65536]; /* every connection's bytes, one after the other */
	size_t len;
	unsigned connections;
	volatile int stop;
} raw_t;

static void *raw_main(void *arg)
{
	raw_t *raw = arg;
	while (!raw->stop) {
		struct pollfd p = {.fd = raw->fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int conn = accept(raw->fd, NULL, NULL);
		if (conn < 0)
			continue;
		char buf[4096];
		for (ssize_t n; (n = read(conn, buf, sizeof(buf))) > 0;) {
			pthread_mutex_lock(&raw->lock);
			size_t room = sizeof(raw->data) - 1 - raw->len;
			size_t take = (size_t)n < room ? (size_t)n : room;
			memcpy(raw->data + raw->len, buf, take);
			raw->len += take;
			raw->data[raw->len] = '\0';
			pthread_mutex_unlock(&raw->lock);
		}
		close(conn);
		pthread_mutex_lock(&raw->lock);
		raw->connections++;
		pthread_mutex_unlock(&raw->lock);
	}
	return NULL;
}

/* A listening socket on 127.0.0.1 and a free port; with is_closed, the port refuses. */
static int listen_local(int *port_r, bool is_closed)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t len = sizeof(sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port_r = ntohs(sin.sin_port);
	if (is_closed) {
		close(fd);
		return -1;
	}
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static raw_t *raw_start(void)
{
	raw_t *raw = calloc(1, sizeof(*raw));
	assert_non_null(raw);
	raw->fd = listen_local(&raw->port, false);
	pthread_mutex_init(&raw->lock, NULL);
	assert_int_equal(pthread_create(&raw->thread, NULL, raw_main, raw), 0);
	return raw;
}

static void raw_stop(raw_t **raw_p)
{
	raw_t *raw = *raw_p;
	raw->stop = 1;
	pthread_join(raw->thread, NULL);
	close(raw->fd);
	pthread_mutex_destroy(&raw->lock);
	free(raw);
	*raw_p = NULL;
}

/* ---- the fixture: a core with a spool, a user, and the manager ---- */

typedef struct {
	test_core_t *tc;
	pp_spool_t *spool;
	int64_t user_id;
	pp_delivery_t *delivery;
} fixture_t;

static void fixture_open(void **state, fixture_t *f, unsigned retry_ms)
{
	f->tc = TEST_CORE(state);
	uint8_t key[SPOOL_KEY_BYTES];
	memset(key, 7, sizeof(key));
	char dir[1024], error[256];
	str_format(dir, sizeof(dir), "%s/spool", f->tc->tdb->dir);
	if (spool_open(dir, key, true, 1 << 20, &f->spool, error, sizeof(error)) < 0)
		fail_msg("spool_open: %s", error);
	f->tc->core.spool = f->spool;
	f->user_id = test_db_add_user(f->tc->core.db, "ann@example.com");
	pp_delivery_config_t cfg = {
	    .threads = 4,
	    .retry_delays_ms = {retry_ms, retry_ms},
	    .n_retry_delays = 2,
	    .poll_ms = 50,
	    .connect_timeout_s = 5,
	    .io_timeout_s = 10,
	};
	if (delivery_start(&f->tc->core, &cfg, &f->delivery, error, sizeof(error)) < 0)
		fail_msg("delivery_start: %s", error);
	f->tc->core.on_job_released = delivery_on_job_released;
	f->tc->core.on_job_released_ctx = f->delivery;
}

static void fixture_close(fixture_t *f)
{
	f->tc->core.on_job_released = NULL;
	f->tc->core.on_job_released_ctx = NULL;
	delivery_stop(&f->delivery, 1000);
	assert_null(f->delivery);
	f->tc->core.spool = NULL;
	spool_close(&f->spool);
}

/* Registers a printer; caps is its capabilities JSON. Returns its id. */
static int64_t add_printer(fixture_t *f, const char *name, int port, const char *group,
                           const char *caps)
{
	pp_printer_t *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	printers_init(p);
	char error[256];
	str_copy(p->name, sizeof(p->name), name);
	str_format(p->device_uri, sizeof(p->device_uri), "socket://127.0.0.1:%d", port);
	str_copy(p->group_name, sizeof(p->group_name), group);
	if (printer_caps_from_json(caps, &p->caps, error, sizeof(error)) < 0)
		fail_msg("caps: %s", error);
	int64_t id = 0;
	if (printers_add(&f->tc->core, "admin:test", p, &id, error, sizeof(error)) != 0)
		fail_msg("printers_add %s: %s", name, error);
	free(p);
	return id;
}

/* A held job of 2 pages (1 in colour) whose kept PDF is test_pdf. Returns its id. */
static int64_t add_held_job(fixture_t *f, const char *title, const char *options_json)
{
	pp_core_t *core = &f->tc->core;
	char error[256], file_id[SPOOL_ID_LEN + 1];
	pp_spool_writer_t *w = NULL;
	uint64_t size = 0;
	assert_int_equal(spool_writer_open(f->spool, &w, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(w, test_pdf, sizeof(test_pdf) - 1, error, sizeof(error)),
	                 0);
	assert_int_equal(spool_writer_finish(&w, file_id, &size, error, sizeof(error)), 0);
	pp_print_options_t opts;
	assert_int_equal(options_from_json(options_json, &opts, error, sizeof(error)), 0);
	pp_job_new_t new_job = {.user_id = f->user_id,
	                        .source = "portal",
	                        .title = title,
	                        .options = &opts,
	                        .size_bytes = (int64_t)size};
	pp_job_t job;
	if (job_create(core, &new_job, &job, error, sizeof(error)) != 0)
		fail_msg("job_create: %s", error);
	assert_int_equal(job_document_add(core, job.id, "pdf", file_id, "doc.pdf", "application/pdf",
	                                  (int64_t)size, NULL, error, sizeof(error)),
	                 0);
	assert_int_equal(job_transition(core, job.id, PP_JOB_RECEIVED, PP_JOB_CONVERTING, NULL,
	                                error, sizeof(error)),
	                 JOB_OK);
	pp_job_transition_t how = {.has_pages = true, .pages = 2, .color_pages = 1};
	assert_int_equal(
	    job_transition(core, job.id, PP_JOB_CONVERTING, PP_JOB_HELD, &how, error, sizeof(error)),
	    JOB_OK);
	return job.id;
}

static void sleep_ms(int ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

/* Waits until job_id is in state; fails the test with its last state after WAIT_MAX_MS. */
static void wait_state(fixture_t *f, int64_t job_id, pp_job_state_t state, pp_job_t *job_r)
{
	char error[256];
	for (int waited = 0; waited < WAIT_MAX_MS; waited += 10) {
		assert_int_equal(job_get(&f->tc->core, job_id, job_r, error, sizeof(error)), JOB_OK);
		if (job_r->state == state)
			return;
		sleep_ms(10);
	}
	fail_msg("job %lld is %s (%s), expected %s", (long long)job_id,
	         job_state_name(job_r->state), job_r->state_reason, job_state_name(state));
}

static void release(fixture_t *f, int64_t job_id, int64_t printer_id)
{
	char error[256];
	if (job_release(&f->tc->core, job_id, printer_id, NULL, "admin:test", error,
	                sizeof(error)) != JOB_OK)
		fail_msg("job_release: %s", error);
}

/* ---- cases ---- */

static void test_delivery_raw_pjl_and_accounting(void **state)
{
	fixture_t f = {0};
	fixture_open(state, &f, 10);
	raw_t *raw = raw_start();
	int64_t printer = add_printer(
	    &f, "hall-raw", raw->port, "",
	    "{\"formats\":[\"application/pdf\"],\"speaks_pjl\":true,"
	    "\"mac_address\":\"00:11:22:33:44:55\"}");
	int64_t job_id =
	    add_held_job(&f, "Budget", "{\"copies\":2,\"sides\":\"two-sided-long-edge\"}");
	release(&f, job_id, printer);
	pp_job_t job;
	wait_state(&f, job_id, PP_JOB_COMPLETED, &job);
	assert_int_equal(job.printer_id, printer);
	assert_int_equal(job.pages, 2);

	/* The printer got the PDF as it is, in a PJL envelope carrying the options. */
	pthread_mutex_lock(&raw->lock);
	assert_non_null(strstr(raw->data, "@PJL"));
	assert_non_null(strstr(raw->data, "ENTER LANGUAGE=PDF"));
	assert_non_null(strstr(raw->data, "QTY=2"));
	assert_non_null(strstr(raw->data, "DUPLEX=ON"));
	assert_non_null(strstr(raw->data, "ann@example.com"));
	assert_non_null(strstr(raw->data, "Budget"));
	assert_non_null(strstr(raw->data, test_pdf));
	pthread_mutex_unlock(&raw->lock);

	/* The accounting row: pages times copies, the printer's MAC, this server. */
	pp_accounting_record_t rec;
	char error[256], host[256];
	assert_int_equal(accounting_get(&f.tc->core, job.uuid, &rec, error, sizeof(error)), JOB_OK);
	assert_string_equal(rec.printer_name, "hall-raw");
	assert_string_equal(rec.printer_mac, "00:11:22:33:44:55");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(rec.server_name, host);
	assert_string_equal(rec.final_state, "completed");
	assert_int_equal(rec.pages_mono, 2);
	assert_int_equal(rec.pages_color, 2);
	assert_int_equal(rec.copies, 2);
	assert_int_equal(rec.sheets, 2); /* 2 pages duplex = 1 sheet, times 2 copies */
	assert_string_equal(rec.sides, "two-sided-long-edge");

	/* The counter follows the job's state: the worker counts after it wrote the state. */
	pp_delivery_status_t st;
	for (int i = 0; i < 500; i++) {
		delivery_status(f.delivery, &st);
		if (st.completed == 1)
			break;
		usleep(10000);
	}
	assert_int_equal(st.completed, 1);
	fixture_close(&f);
	raw_stop(&raw);
}

static void test_delivery_retry_then_failover(void **state)
{
	fixture_t f = {0};
	fixture_open(state, &f, 10);
	int dead_port;
	(void)listen_local(&dead_port, true);
	raw_t *raw = raw_start();
	const char *caps = "{\"formats\":[\"application/pdf\"]}";
	int64_t dead = add_printer(&f, "a-dead", dead_port, "Floor1", caps);
	int64_t live = add_printer(&f, "b-live", raw->port, "floor1", caps);
	int64_t job_id = add_held_job(&f, "Minutes", "{}");
	release(&f, job_id, dead);
	pp_job_t job;
	wait_state(&f, job_id, PP_JOB_COMPLETED, &job);
	assert_int_equal(job.printer_id, live);
	pthread_mutex_lock(&raw->lock);
	assert_non_null(strstr(raw->data, test_pdf));
	assert_null(strstr(raw->data, "@PJL")); /* this one does not speak PJL */
	pthread_mutex_unlock(&raw->lock);

	pp_accounting_record_t rec;
	char error[256];
	assert_int_equal(accounting_get(&f.tc->core, job.uuid, &rec, error, sizeof(error)), JOB_OK);
	assert_string_equal(rec.printer_name, "b-live");
	pp_delivery_status_t st;
	delivery_status(f.delivery, &st);
	assert_int_equal(st.retries, 2); /* both pauses on a-dead */
	assert_int_equal(st.failovers, 1);
	fixture_close(&f);
	raw_stop(&raw);
}

/* A name of len characters: "p" then letters. */
static void long_name(char *buf, size_t len, char letter)
{
	buf[0] = 'p';
	for (size_t i = 1; i < len; i++)
		buf[i] = letter;
	buf[len] = '\0';
}

/*
 * A job that cannot print goes back to held with one whole sentence its owner reads: which
 * printer, what happened, what to do; never cut (whatever the names' length), never the
 * libcups or errno text (that is the log's).
 */
static void test_delivery_back_to_held_reasons(void **state)
{
	enum { DEAD, RASTER };
	static const struct {
		const char *what;
		int kind;
		size_t name_len;   /* 0: "attic<row>-<k>" */
		size_t n_group;    /* > 1: that many dead printers in group "floor<row>" */
		const char *reason; /* "%s" is the (first) printer's name; NULL: see prefix */
		const char *prefix;
	} rows[] = {
	    {"offline", DEAD, 0, 1,
	     "The printer %s did not answer (offline?); your job is held again: release it to "
	     "another printer or try later.", NULL},
	    {"offline, longest name", DEAD, PRINTERS_NAME_MAX - 1, 1,
	     "The printer %s did not answer (offline?); your job is held again: release it to "
	     "another printer or try later.", NULL},
	    {"a group, names too long to list", DEAD, 100, 3,
	     "The 3 printers of group floor2 did not answer (offline?); your job is held again: "
	     "release it to another printer or try later.", NULL},
	    {"a group, names listed", DEAD, 0, 2, NULL, "The printers %s, "},
	    {"needs a converter", RASTER, 0, 1,
	     "The printer %s needs a converter that this server does not run; your job is held "
	     "again: release it to another printer and tell the administrator.", NULL},
	};
	fixture_t f = {0};
	fixture_open(state, &f, 10);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int dead_port;
		(void)listen_local(&dead_port, true);
		char name[PRINTERS_NAME_MAX], first[PRINTERS_NAME_MAX] = "", group[16];
		(void)str_format(group, sizeof(group), "floor%zu", i);
		int64_t printer = 0;
		for (size_t k = 0; k < rows[i].n_group; k++) {
			if (rows[i].name_len > 0)
				long_name(name, rows[i].name_len, (char)('a' + i * 4 + k));
			else
				(void)str_format(name, sizeof(name), "attic%zu-%zu", i, k);
			const char *caps = rows[i].kind == RASTER
			                       ? "{\"formats\":[\"image/pwg-raster\"]}"
			                       : "{\"formats\":[\"application/pdf\"]}";
			int64_t id = add_printer(&f, name, dead_port,
			                         rows[i].n_group > 1 ? group : "", caps);
			if (k == 0) {
				printer = id;
				(void)str_copy(first, sizeof(first), name);
			}
		}
		int64_t job_id = add_held_job(&f, "Plan", "{}");
		release(&f, job_id, printer);
		pp_job_t job;
		wait_state(&f, job_id, PP_JOB_HELD, &job);
		size_t len = strlen(job.state_reason);
		if (len == 0 || len >= JOB_REASON_MAX - 1 || job.state_reason[len - 1] != '.')
			fail_msg("row %zu (%s): not one whole sentence: \"%s\"", i, rows[i].what,
			         job.state_reason);
		char prefix[64] = "";
		if (rows[i].prefix != NULL) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			int n = snprintf(prefix, sizeof(prefix), rows[i].prefix, first);
#pragma GCC diagnostic pop
			assert_true(n > 0 && (size_t)n < sizeof(prefix));
		}
		if (rows[i].reason != NULL) {
			char want[JOB_REASON_MAX];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			int n = snprintf(want, sizeof(want), rows[i].reason, first);
#pragma GCC diagnostic pop
			assert_true(n > 0 && (size_t)n < sizeof(want));
			if (strcmp(job.state_reason, want) != 0)
				fail_msg("row %zu (%s): reason \"%s\", expected \"%s\"", i,
				         rows[i].what, job.state_reason, want);
		} else if (!str_has_prefix(job.state_reason, prefix) ||
		           strstr(job.state_reason, "held again") == NULL) {
			fail_msg("row %zu (%s): reason \"%s\"", i, rows[i].what, job.state_reason);
		}
		/* Held again means releasable again: not finished, no accounting row. */
		assert_int_equal(job.finished_at, 0);
		pp_accounting_record_t rec;
		char error[256];
		assert_int_equal(accounting_get(&f.tc->core, job.uuid, &rec, error, sizeof(error)),
		                 JOB_NOT_FOUND);
	}
	fixture_close(&f);
}

static void test_delivery_canceled_while_waiting(void **state)
{
	fixture_t f = {0};
	fixture_open(state, &f, 60000); /* a long pause after the first refusal */
	int dead_port;
	(void)listen_local(&dead_port, true);
	int64_t dead = add_printer(&f, "cellar", dead_port, "", "{\"formats\":[\"application/pdf\"]}");
	int64_t job_id = add_held_job(&f, "Memo", "{}");
	release(&f, job_id, dead);
	pp_delivery_status_t st = {0};
	for (int waited = 0; waited < WAIT_MAX_MS && st.retries == 0; waited += 10) {
		sleep_ms(10);
		delivery_status(f.delivery, &st);
	}
	assert_int_equal(st.retries, 1);
	char error[256];
	assert_int_equal(job_transition(&f.tc->core, job_id, PP_JOB_RELEASING, PP_JOB_CANCELED,
	                                NULL, error, sizeof(error)),
	                 JOB_OK);
	/* The manager's next poll forgets the task; the job stays canceled. */
	for (int waited = 0; waited < WAIT_MAX_MS && st.waiting > 0; waited += 10) {
		sleep_ms(10);
		delivery_status(f.delivery, &st);
	}
	assert_int_equal(st.waiting, 0);
	pp_job_t job;
	assert_int_equal(job_get(&f.tc->core, job_id, &job, error, sizeof(error)), JOB_OK);
	assert_int_equal(job.state, PP_JOB_CANCELED);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_delivery_raw_pjl_and_accounting),
	    TEST_CORE_CASE(test_delivery_retry_then_failover),
	    TEST_CORE_CASE(test_delivery_back_to_held_reasons),
	    TEST_CORE_CASE(test_delivery_canceled_while_waiting),
	};
	return cmocka_run_group_tests_name("delivery", tests, NULL, NULL);
}
