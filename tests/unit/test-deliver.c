/*
 * test-deliver.c - delivery to real receivers on 127.0.0.1: ippeveprinter instances (one
 * that takes PDF, one raster-only) on a private D-Bus, a RAW listener that captures bytes,
 * one that stops reading, and an LPD receiver speaking the server side of RFC 1179. Every
 * peer listens on an ephemeral port and is stopped by its PID or joined. No timings are
 * asserted: only what the printer received and the outcome a user would see.
 */
#include "test-support.h"

#include "lib/str.h"
#include "output/deliver.h"
#include "output/tls-peer.h"
#include "output/pjl.h"

#include <cups/cups.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char test_pdf[] = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n"
			       "trailer<</Root 1 0 R>>\n%%EOF\n";

/* ---- the data side: a reader over memory or a generated pattern ------------------------- */

typedef struct {
	const uint8_t *data;
	size_t len;
	size_t pos;
	size_t chunk;          /* at most this much per call; 0: as much as asked */
	int64_t generate;      /* > 0: produce this many pattern bytes instead of data */
	volatile int *cancel;  /* non-NULL: set to 1 after the first piece */
} reader_t;

static ssize_t reader_read(void *ctx, void *buf, size_t size)
{
	reader_t *r = ctx;
	size_t total = r->generate > 0 ? (size_t)r->generate : r->len;
	size_t n = total - r->pos;
	if (n > size)
		n = size;
	if (r->chunk > 0 && n > r->chunk)
		n = r->chunk;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = r->generate > 0 ? (uint8_t)((r->pos + i) % 251) : r->data[r->pos + i];
	r->pos += n;
	if (r->cancel != NULL && n > 0)
		*r->cancel = 1;
	return (ssize_t)n;
}

static ssize_t reader_fail(void *ctx, void *buf, size_t size)
{
	(void)ctx;
	(void)buf;
	(void)size;
	return -1;
}

/* A request with the defaults every test starts from. */
static void request_init(pp_deliver_request_t *req, pp_print_options_t *opts, reader_t *reader,
			 const char *uri)
{
	options_default(opts);
	memset(req, 0, sizeof(*req));
	req->device_uri = uri;
	req->content_type = "application/pdf";
	req->read = reader_read;
	req->read_ctx = reader;
	req->size_bytes = reader->generate > 0 ? reader->generate : (int64_t)reader->len;
	req->job_name = "Quarterly report";
	req->user_name = "alice";
	req->job_uuid = "urn:uuid:00000000-0000-4000-8000-000000000001";
	req->options = opts;
	req->connect_timeout_s = 5;
	req->io_timeout_s = 2;
	req->follow_timeout_s = 60;
}

/* ---- sockets ------------------------------------------------------------------------------ */

/* A listening socket on 127.0.0.1 with an ephemeral port (or bound only: nothing listens). */
static int listen_any(int *port_r, bool do_listen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 8), 0);
	socklen_t len = sizeof(sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port_r = ntohs(sin.sin_port);
	return fd;
}

static int read_exact(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one line up to '\n' (not kept). Returns its length, -1 at the end or on error. */
static ssize_t read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	for (;;) {
		char c;
		if (read_exact(fd, &c, 1) != 0)
			return -1;
		if (c == '\n')
			break;
		if (len + 1 >= size)
			return -1;
		buf[len++] = c;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

static void append(uint8_t **buf, size_t *len, const void *data, size_t n)
{
	uint8_t *grown = realloc(*buf, *len + n + 1);
	assert_non_null(grown);
	memcpy(grown + *len, data, n);
	*len += n;
	grown[*len] = '\0';
	*buf = grown;
}

/* ---- receivers: RAW capture, RAW stall, LPD ----------------------------------------------- */

typedef enum { RECV_RAW, RECV_STALL, RECV_LPD } recv_mode_t;

typedef struct {
	recv_mode_t mode;
	uint8_t lpd_answer; /* LPD: the byte answered to the queue command */
	int listen_fd;
	int port;
	int stop[2];        /* STALL: the thread holds the connection until this is written */
	pthread_t thread;
	uint8_t *raw;       /* RAW: every byte received */
	size_t raw_len;
	char queue[128];
	char control_name[128];
	uint8_t *control;
	size_t control_len;
	char data_name[128];
	uint8_t *data;
	size_t data_len;
	int subcommands;
	bool is_joined;
} receiver_t;

static void lpd_ack(int fd, uint8_t code)
{
	if (write(fd, &code, 1) != 1)
		return;
}

/* The receiving side of RFC 1179: one job, control and data files, each acknowledged. */
static void lpd_serve(receiver_t *r, int fd)
{
	char line[512];
	if (read_line(fd, line, sizeof(line)) < 1 || line[0] != '\002')
		return;
	str_copy(r->queue, sizeof(r->queue), line + 1);
	lpd_ack(fd, r->lpd_answer);
	if (r->lpd_answer != 0)
		return;
	while (read_line(fd, line, sizeof(line)) > 0) {
		const char *p = line + 1;
		uint64_t len = 0;
		if ((line[0] != '\002' && line[0] != '\003') || !parse_uint64(&p, 1u << 30, &len) ||
		    *p != ' ')
			return;
		r->subcommands++;
		lpd_ack(fd, 0);
		uint8_t *body = malloc(len + 1);
		uint8_t end = 1;
		if (body == NULL || read_exact(fd, body, len) != 0 || read_exact(fd, &end, 1) != 0 ||
		    end != 0) {
			free(body);
			return;
		}
		body[len] = '\0';
		if (line[0] == '\002') {
			str_copy(r->control_name, sizeof(r->control_name), p + 1);
			free(r->control);
			r->control = body;
			r->control_len = len;
		} else {
			str_copy(r->data_name, sizeof(r->data_name), p + 1);
			free(r->data);
			r->data = body;
			r->data_len = len;
		}
		lpd_ack(fd, 0);
	}
}

static void *receiver_main(void *arg)
{
	receiver_t *r = arg;
	struct pollfd pfd = {.fd = r->listen_fd, .events = POLLIN};
	if (poll(&pfd, 1, 30000) != 1)
		return NULL;
	int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (r->mode == RECV_RAW) {
		uint8_t buf[4096];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			append(&r->raw, &r->raw_len, buf, (size_t)n);
	} else if (r->mode == RECV_STALL) {
		char c;
		if (read(r->stop[0], &c, 1) < 0)
			perror("stall: read");
	} else {
		lpd_serve(r, fd);
	}
	close(fd);
	return NULL;
}

static void receiver_start(receiver_t *r, recv_mode_t mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->listen_fd = listen_any(&r->port, true);
	assert_int_equal(pipe2(r->stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&r->thread, NULL, receiver_main, r), 0);
}

/* Waits for the receiver to finish its one connection (what it got is then stable). */
static void receiver_join(receiver_t *r)
{
	if (!r->is_joined)
		assert_int_equal(pthread_join(r->thread, NULL), 0);
	r->is_joined = true;
}

/* Releases a stalled connection, joins the thread, frees what it captured. */
static void receiver_stop(receiver_t *r)
{
	assert_int_equal(write(r->stop[1], "x", 1), 1);
	receiver_join(r);
	close(r->stop[0]);
	close(r->stop[1]);
	close(r->listen_fd);
	free(r->raw);
	free(r->control);
	free(r->data);
}

/* ---- URI, names and refused requests -------------------------------------------------------- */

static void test_deliver_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(deliver_outcome_name(DELIVER_DONE), "done");
	assert_string_equal(deliver_outcome_name(DELIVER_RETRY), "retry");
	assert_string_equal(deliver_outcome_name(DELIVER_PERMANENT), "permanent");
	assert_string_equal(deliver_outcome_name(DELIVER_CANCELED), "canceled");
}

/* URIs an admin might type; the bad ones end as a permanent outcome naming the fix. */
static void test_deliver_bad_uris(void **state)
{
	(void)state;
	static const char *const uris[] = {
	    "",
	    "http://127.0.0.1/printer",
	    "ipp://user:secret@127.0.0.1/ipp/print",
	    "socket://127.0.0.1:9100/some/path",
	    "lpd://127.0.0.1/",
	    "lpd://127.0.0.1/queue with space",
	    "ipp://127.0.0.1/ipp/print\nX",
	    "ipp:///ipp/print",
	    "not a uri",
	};
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
		pp_deliver_request_t req;
		pp_print_options_t opts;
		request_init(&req, &opts, &reader, uris[i]);
		pp_deliver_result_t result;
		char error[256] = "";
		assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
		if (result.outcome != DELIVER_PERMANENT || result.message[0] == '\0')
			fail_msg("uri '%s': outcome %s '%s'", uris[i],
				 deliver_outcome_name(result.outcome), result.message);
		assert_int_equal(result.bytes_sent, 0);
		assert_int_equal(reader.pos, 0);
		/* The password never reaches the message. */
		assert_null(strstr(result.message, "secret"));
	}
}

static void test_deliver_bad_requests(void **state)
{
	(void)state;
	reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	pp_deliver_result_t result;
	char error[256];
	request_init(&req, &opts, &reader, "socket://127.0.0.1:9");
	req.read = NULL;
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), -1);
	request_init(&req, &opts, &reader, "socket://127.0.0.1:9");
	opts.copies = 0;
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "copies"));
	request_init(&req, &opts, &reader, "socket://127.0.0.1:9");
	req.content_type = "application/pdf\r\nX-Evil: 1";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), -1);
	request_init(&req, &opts, &reader, "socket://127.0.0.1:9");
	req.use_pjl = true;
	req.pjl_language = "PDF\n@PJL";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), -1);
	assert_int_equal(reader.pos, 0);
}

/* ---- RAW ------------------------------------------------------------------------------------ */

static void test_socket_pjl_envelope(void **state)
{
	(void)state;
	receiver_t r;
	receiver_start(&r, RECV_RAW);
	char uri[64];
	str_format(uri, sizeof(uri), "socket://127.0.0.1:%d", r.port);
	reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1,
			   .chunk = 7};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	opts.copies = 2;
	opts.sides = PP_SIDES_TWO_SIDED_LONG_EDGE;
	opts.color_mode = PP_COLOR_MONOCHROME;
	opts.staple = PP_STAPLE_TOP_LEFT;
	req.use_pjl = true;
	req.pjl_language = "PDF";
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	receiver_join(&r);
	assert_int_equal(result.outcome, DELIVER_DONE);
	assert_int_equal(result.bytes_sent, sizeof(test_pdf) - 1);
	const char *expected =
	    "\033%-12345X@PJL JOB NAME=\"Quarterly report\"\r\n"
	    "@PJL SET USERNAME=\"alice\"\r\n"
	    "@PJL SET QTY=2\r\n"
	    "@PJL SET DUPLEX=ON\r\n"
	    "@PJL SET BINDING=LONGEDGE\r\n"
	    "@PJL SET RENDERMODE=GRAYSCALE\r\n"
	    "@PJL SET PAPER=A4\r\n"
	    "@PJL SET STAPLE=TOPLEFT\r\n"
	    "@PJL ENTER LANGUAGE=PDF\r\n";
	const char *trailer = "\033%-12345X@PJL EOJ NAME=\"Quarterly report\"\r\n\033%-12345X";
	size_t head = strlen(expected), body = sizeof(test_pdf) - 1, tail = strlen(trailer);
	assert_int_equal(r.raw_len, head + body + tail);
	assert_memory_equal(r.raw, expected, head);
	assert_memory_equal(r.raw + head, test_pdf, body);
	assert_memory_equal(r.raw + head + body, trailer, tail);
	receiver_stop(&r);
}

static void test_socket_plain_unknown_size(void **state)
{
	(void)state;
	receiver_t r;
	receiver_start(&r, RECV_RAW);
	char uri[64];
	str_format(uri, sizeof(uri), "socket://127.0.0.1:%d/", r.port);
	reader_t reader = {.generate = 3 * 65536 + 17};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	req.size_bytes = -1;
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, DELIVER_DONE);
	receiver_join(&r);
	assert_int_equal(r.raw_len, (size_t)reader.generate);
	for (size_t i = 0; i < r.raw_len; i++) {
		if (r.raw[i] != (uint8_t)(i % 251))
			fail_msg("byte %zu differs", i);
	}
	receiver_stop(&r);
}

/* A printer that stops reading: the delivery gives up after the I/O timeout, to retry. */
static void test_socket_stalled_printer(void **state)
{
	(void)state;
	receiver_t r;
	receiver_start(&r, RECV_STALL);
	char uri[64];
	str_format(uri, sizeof(uri), "socket://127.0.0.1:%d", r.port);
	reader_t reader = {.generate = (int64_t)256 << 20};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	req.io_timeout_s = 1;
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, DELIVER_RETRY);
	assert_true(result.bytes_sent < reader.generate);
	receiver_stop(&r);
}

static void test_socket_cancel(void **state)
{
	(void)state;
	receiver_t r;
	receiver_start(&r, RECV_RAW);
	char uri[64];
	str_format(uri, sizeof(uri), "socket://127.0.0.1:%d", r.port);
	volatile int cancel = 0;
	reader_t reader = {.generate = 1 << 20, .cancel = &cancel};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	req.cancel = &cancel;
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, DELIVER_CANCELED);
	assert_true(reader.pos < (size_t)reader.generate);
	receiver_stop(&r);
}

static void test_socket_nothing_listening(void **state)
{
	(void)state;
	int port = 0;
	int fd = listen_any(&port, false);
	char uri[64];
	str_format(uri, sizeof(uri), "socket://127.0.0.1:%d", port);
	reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, DELIVER_RETRY);
	assert_non_null(strstr(result.message, "connect"));
	close(fd);
}

/* ---- LPD ------------------------------------------------------------------------------------ */

/* Splits the control file into lines; returns the count. */
static size_t control_lines(const receiver_t *r, char lines[][160], size_t max)
{
	size_t count = 0;
	const char *p = (const char *)r->control;
	while (p != NULL && *p != '\0' && count < max) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		size_t n = (size_t)(nl - p);
		assert_true(n < 160);
		memcpy(lines[count], p, n);
		lines[count][n] = '\0';
		count++;
		p = nl + 1;
	}
	return count;
}

typedef struct {
	const char *row;
	const char *content_type;
	int64_t size; /* -1: unknown, spooled first */
	const char *user;
	char format;
} lpd_case_t;

static void test_lpd_jobs(void **state)
{
	(void)state;
	static const lpd_case_t cases[] = {
	    {"PDF, size known", "application/pdf", 0, "alice", 'l'},
	    {"size unknown", "application/pdf", -1, "alice", 'l'},
	    {"PostScript", "application/postscript", 0, "alice", 'o'},
	    {"a user name that tries to add a line", "application/pdf", 0, "eve\nPmallory", 'l'},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const lpd_case_t *c = &cases[i];
		receiver_t r;
		receiver_start(&r, RECV_LPD);
		char uri[64];
		str_format(uri, sizeof(uri), "lpd://127.0.0.1:%d/office-3", r.port);
		reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
		pp_deliver_request_t req;
		pp_print_options_t opts;
		request_init(&req, &opts, &reader, uri);
		req.content_type = c->content_type;
		req.user_name = c->user;
		if (c->size < 0)
			req.size_bytes = -1;
		opts.copies = 2;
		pp_deliver_result_t result;
		char error[256] = "";
		assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
		if (result.outcome != DELIVER_DONE)
			fail_msg("row '%s': %s", c->row, result.message);
		receiver_join(&r);
		assert_string_equal(r.queue, "office-3");
		assert_int_equal(r.subcommands, 2);
		assert_int_equal(r.data_len, sizeof(test_pdf) - 1);
		assert_memory_equal(r.data, test_pdf, r.data_len);
		assert_true(str_has_prefix(r.control_name, "cfA"));
		assert_true(str_has_prefix(r.data_name, "dfA"));
		assert_string_equal(r.control_name + 3, r.data_name + 3);

		char lines[16][160];
		size_t n = control_lines(&r, lines, 16);
		assert_int_equal(n, 7);
		assert_int_equal(lines[0][0], 'H');
		char expect[200];
		str_format(expect, sizeof(expect), "P%s",
			   strchr(c->user, '\n') != NULL ? "eve_Pmallory" : c->user);
		assert_string_equal(lines[1], expect);
		assert_string_equal(lines[2], "JQuarterly report");
		assert_string_equal(lines[3], "NQuarterly report");
		/* Two copies: the print line twice, then the unlink line. */
		for (size_t k = 4; k <= 5; k++) {
			assert_int_equal(lines[k][0], c->format);
			assert_string_equal(lines[k] + 1, r.data_name);
		}
		assert_int_equal(lines[6][0], 'U');
		assert_string_equal(lines[6] + 1, r.data_name);
		receiver_stop(&r);
	}
}

/* A server that answers the queue command with a non-zero byte: documented as RETRY. */
static void test_lpd_refused(void **state)
{
	(void)state;
	receiver_t r;
	receiver_start(&r, RECV_LPD);
	r.lpd_answer = 1;
	char uri[64];
	str_format(uri, sizeof(uri), "lpd://127.0.0.1:%d/nosuchqueue", r.port);
	reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, DELIVER_RETRY);
	assert_non_null(strstr(result.message, "nosuchqueue"));
	assert_int_equal(result.bytes_sent, 0);
	receiver_stop(&r);
}

/* Data that cannot be read is not the printer's fault: permanent, nothing half-printed. */
static void test_lpd_unreadable_data(void **state)
{
	(void)state;
	int port = 0;
	int fd = listen_any(&port, true);
	char uri[64];
	str_format(uri, sizeof(uri), "lpd://127.0.0.1:%d/q", port);
	reader_t reader = {0};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	req.read = reader_fail;
	req.size_bytes = -1;
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, DELIVER_PERMANENT);
	close(fd);
}

/* ---- IPP: ippeveprinter on a private D-Bus ---------------------------------------------------- */

#define EVE_PATH "/usr/sbin/ippeveprinter"
#define DBUS_PATH "/usr/bin/dbus-daemon"

typedef struct {
	char *dir;
	char bus_env[600];
	pid_t bus_pid;
	pid_t pdf_pid;
	int pdf_port;
	pid_t raster_pid;
	int raster_port;
	bool is_ready;
} ipp_fixture_t;

/* Starts argv[0] with envp, output into log_path. Returns the PID or -1. */
static pid_t spawn(char *const argv[], char *const envp[], const char *log_path)
{
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	pid_t pid = -1;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

/* Stops one process we started: TERM, then KILL if it lingers; always reaped. */
static void stop_pid(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = -1;
			return;
		}
		poll(NULL, 0, 50);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}

/* Waits (bounded, not asserted) until something accepts on port, or pid has exited. */
static bool wait_port(int port, pid_t pid)
{
	for (int i = 0; i < 600; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bool is_up = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
		if (fd >= 0)
			close(fd);
		if (is_up)
			return true;
		poll(NULL, 0, 50);
	}
	return false;
}

static int free_port(void)
{
	int port = 0;
	int fd = listen_any(&port, false);
	close(fd);
	return port;
}

/* One ippeveprinter taking formats, spooling (and keeping) jobs in dir/name. */
static pid_t start_printer(ipp_fixture_t *f, const char *name, const char *formats, int *port_r)
{
	char spool[512], log[512], keys[512], port[16];
	str_format(spool, sizeof(spool), "%s/%s", f->dir, name);
	str_format(keys, sizeof(keys), "%s/%s-keys", f->dir, name);
	str_format(log, sizeof(log), "%s/%s.log", f->dir, name);
	if (mkdir(spool, 0700) != 0 || mkdir(keys, 0700) != 0)
		return -1;
	*port_r = free_port();
	str_format(port, sizeof(port), "%d", *port_r);
	char *argv[] = {EVE_PATH, "-p", port, "-r", "off", "-2", "-k", "-f", (char *)formats,
			"-c", "/bin/true", "-d", spool, "-K", keys, (char *)name, NULL};
	/* The environment plus the private system bus (Debian's build needs one for DNS-SD). */
	char *envp[256];
	size_t n = 0;
	for (char **e = environ; *e != NULL && n < 254; e++) {
		if (!str_has_prefix(*e, "DBUS_SYSTEM_BUS_ADDRESS="))
			envp[n++] = *e;
	}
	envp[n++] = f->bus_env;
	envp[n] = NULL;
	pid_t pid = spawn(argv, envp, log);
	if (pid > 0 && !wait_port(*port_r, pid)) {
		fprintf(stderr, "ippeveprinter %s did not start; see %s\n", name, log);
		stop_pid(&pid);
	}
	return pid;
}

static int ipp_setup(void **state)
{
	ipp_fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->bus_pid = f->pdf_pid = f->raster_pid = -1;
	*state = f;
	if (access(EVE_PATH, X_OK) != 0 || access(DBUS_PATH, X_OK) != 0) {
		fprintf(stderr, "ippeveprinter or dbus-daemon missing: IPP tests skipped "
				"(apt-get install cups-ipp-utils dbus)\n");
		return 0;
	}
	f->dir = test_tmpdir();
	char conf[512], sock[512], log[512];
	str_format(conf, sizeof(conf), "%s/bus.conf", f->dir);
	str_format(sock, sizeof(sock), "%s/bus", f->dir);
	str_format(log, sizeof(log), "%s/bus.log", f->dir);
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp,
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig><type>session</type><listen>unix:path=%s</listen>"
		"<auth>EXTERNAL</auth><policy context=\"default\">"
		"<allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/>"
		"<allow own=\"*\"/></policy></busconfig>\n",
		sock);
	assert_int_equal(fclose(fp), 0);
	char conf_arg[600];
	str_format(conf_arg, sizeof(conf_arg), "--config-file=%s", conf);
	char *bus_argv[] = {DBUS_PATH, "--nofork", conf_arg, NULL};
	f->bus_pid = spawn(bus_argv, environ, log);
	struct stat st;
	for (int i = 0; i < 300 && f->bus_pid > 0 && stat(sock, &st) != 0; i++)
		poll(NULL, 0, 50);
	if (f->bus_pid <= 0 || stat(sock, &st) != 0) {
		fprintf(stderr, "dbus-daemon did not start; see %s\n", log);
		return 0;
	}
	str_format(f->bus_env, sizeof(f->bus_env), "DBUS_SYSTEM_BUS_ADDRESS=unix:path=%s", sock);
	f->pdf_pid = start_printer(f, "pdf", "application/pdf,image/pwg-raster", &f->pdf_port);
	f->raster_pid = start_printer(f, "raster", "image/pwg-raster", &f->raster_port);
	f->is_ready = f->pdf_pid > 0 && f->raster_pid > 0;
	return 0;
}

static int ipp_teardown(void **state)
{
	ipp_fixture_t *f = *state;
	stop_pid(&f->pdf_pid);
	stop_pid(&f->raster_pid);
	stop_pid(&f->bus_pid);
	if (f->dir != NULL) {
		test_rmtree(f->dir);
		free(f->dir);
	}
	free(f);
	return 0;
}

/* What the printer recorded for job_id (Get-Job-Attributes, all). New; ippDelete(). */
static ipp_t *printer_job(int port, int job_id)
{
	http_t *http = httpConnect2("127.0.0.1", port, NULL, AF_INET, HTTP_ENCRYPTION_IF_REQUESTED,
				    1, 5000, NULL);
	assert_non_null(http);
	char uri[128];
	str_format(uri, sizeof(uri), "ipp://127.0.0.1:%d/ipp/print", port);
	ipp_t *request = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	ippAddInteger(request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", NULL,
		     "all");
	ipp_t *response = cupsDoRequest(http, request, "/ipp/print");
	httpClose(http);
	assert_non_null(response);
	assert_true(ippGetStatusCode(response) < IPP_STATUS_ERROR_BAD_REQUEST);
	return response;
}

static const char *job_string(ipp_t *job, const char *name)
{
	ipp_attribute_t *attr = ippFindAttribute(job, name, IPP_TAG_ZERO);
	const char *value = attr != NULL ? ippGetString(attr, 0, NULL) : NULL;
	return value != NULL ? value : "(missing)";
}

static int job_integer(ipp_t *job, const char *name)
{
	ipp_attribute_t *attr = ippFindAttribute(job, name, IPP_TAG_ZERO);
	return attr != NULL ? ippGetInteger(attr, 0) : -1;
}

/* The bytes ippeveprinter kept for job_id ("<id>-<name>.pdf" in its spool). */
static void assert_spooled(const ipp_fixture_t *f, int job_id, const void *data, size_t len)
{
	char dir[512], prefix[32], path[1024];
	str_format(dir, sizeof(dir), "%s/pdf", f->dir);
	str_format(prefix, sizeof(prefix), "%d-", job_id);
	DIR *d = opendir(dir);
	assert_non_null(d);
	path[0] = '\0';
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		size_t n = strlen(e->d_name);
		if (str_has_prefix(e->d_name, prefix) && n > 4 && strcmp(e->d_name + n - 4, ".pdf") == 0)
			str_format(path, sizeof(path), "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (path[0] == '\0')
		fail_msg("job %d: no file in %s", job_id, dir);
	uint8_t got[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = read(fd, got, sizeof(got));
	close(fd);
	assert_int_equal(n, (ssize_t)len);
	assert_memory_equal(got, data, len);
}

static void test_ipp_pdf_with_options(void **state)
{
	ipp_fixture_t *f = *state;
	if (!f->is_ready)
		skip();
	/* Known size (Content-Length) and unknown size (chunked) take the same path. */
	for (int unknown = 0; unknown <= 1; unknown++) {
		char uri[128];
		str_format(uri, sizeof(uri), "ipp://127.0.0.1:%d/ipp/print", f->pdf_port);
		reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
		pp_deliver_request_t req;
		pp_print_options_t opts;
		request_init(&req, &opts, &reader, uri);
		if (unknown)
			req.size_bytes = -1;
		opts.copies = 2;
		opts.sides = PP_SIDES_TWO_SIDED_LONG_EDGE;
		opts.color_mode = PP_COLOR_MONOCHROME;
		opts.staple = PP_STAPLE_TOP_LEFT;
		pp_deliver_result_t result;
		char error[256] = "";
		assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
		if (result.outcome != DELIVER_DONE)
			fail_msg("outcome %s: %s", deliver_outcome_name(result.outcome), result.message);
		assert_true(result.printer_job_id > 0);
		assert_int_equal(result.bytes_sent, sizeof(test_pdf) - 1);

		ipp_t *job = printer_job(f->pdf_port, result.printer_job_id);
		assert_int_equal(job_integer(job, "job-state"), IPP_JSTATE_COMPLETED);
		assert_int_equal(job_integer(job, "copies"), 2);
		assert_string_equal(job_string(job, "sides"), "two-sided-long-edge");
		assert_string_equal(job_string(job, "print-color-mode"), "monochrome");
		assert_int_equal(job_integer(job, "finishings"), IPP_FINISHINGS_STAPLE_TOP_LEFT);
		assert_string_equal(job_string(job, "media"), "iso_a4_210x297mm");
		assert_string_equal(job_string(job, "job-name"), "Quarterly report");
		assert_string_equal(job_string(job, "job-originating-user-name"), "alice");
		/* number-up is a layout option: not sent unless the printer does the layout. */
		assert_null(ippFindAttribute(job, "number-up", IPP_TAG_ZERO));
		ippDelete(job);
		assert_spooled(f, result.printer_job_id, test_pdf, sizeof(test_pdf) - 1);
	}
}

static void test_ipp_raster_only_refuses_pdf(void **state)
{
	ipp_fixture_t *f = *state;
	if (!f->is_ready)
		skip();
	char uri[128];
	str_format(uri, sizeof(uri), "ipp://127.0.0.1:%d/ipp/print", f->raster_port);
	reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	if (result.outcome != DELIVER_PERMANENT)
		fail_msg("outcome %s: %s", deliver_outcome_name(result.outcome), result.message);
	assert_non_null(strstr(result.message, "format"));
	assert_int_equal(result.printer_job_id, 0);
}

/* IPPS to ippeveprinter's self-signed certificate: trusted only when the admin says so. */
static void test_ipps_self_signed(void **state)
{
	ipp_fixture_t *f = *state;
	if (!f->is_ready)
		skip();
	char uri[128];
	str_format(uri, sizeof(uri), "ipps://127.0.0.1:%d/ipp/print", f->pdf_port);
	for (int accept = 0; accept <= 1; accept++) {
		reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
		pp_deliver_request_t req;
		pp_print_options_t opts;
		request_init(&req, &opts, &reader, uri);
		req.accept_self_signed = accept;
		pp_deliver_result_t result;
		char error[256] = "";
		assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
		pp_deliver_outcome_t want = accept ? DELIVER_DONE : DELIVER_PERMANENT;
		if (result.outcome != want)
			fail_msg("accept=%d: outcome %s: %s", accept,
				 deliver_outcome_name(result.outcome), result.message);
		if (!accept) {
			assert_int_equal(reader.pos, 0);
			assert_non_null(strstr(result.message, "certificate"));
		} else {
			assert_spooled(f, result.printer_job_id, test_pdf, sizeof(test_pdf) - 1);
		}
	}
}

/* IPPS with a pinned certificate: exactly that one passes; another is "certificate changed". */
static void test_ipps_pinned(void **state)
{
	ipp_fixture_t *f = *state;
	if (!f->is_ready)
		skip();
	char uri[128];
	str_format(uri, sizeof(uri), "ipps://127.0.0.1:%d/ipp/print", f->pdf_port);
	pp_tls_peer_t peer;
	char error[256] = "";
	if (tls_peer_fetch(uri, 0, &peer, error, sizeof(error)) != 0)
		fail_msg("fetch: %s", error);
	assert_int_equal(strlen(peer.fingerprint), 64);
	assert_true(peer.is_self_signed);
	assert_true(peer.subject[0] != '\0');
	static const char wrong[] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	const struct {
		const char *pin;
		pp_deliver_outcome_t want;
		const char *message;
	} rows[] = {
		{peer.fingerprint, DELIVER_DONE, NULL},
		{wrong, DELIVER_PERMANENT, "certificate changed: expected 000000"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
		pp_deliver_request_t req;
		pp_print_options_t opts;
		request_init(&req, &opts, &reader, uri);
		req.tls_pin = rows[i].pin;
		pp_deliver_result_t result;
		assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
		if (result.outcome != rows[i].want)
			fail_msg("row %zu: outcome %s: %s", i, deliver_outcome_name(result.outcome),
				 result.message);
		if (rows[i].message != NULL) {
			assert_int_equal(reader.pos, 0);
			assert_non_null(strstr(result.message, rows[i].message));
			assert_non_null(strstr(result.message, peer.fingerprint));
		}
	}
}

static void test_ipp_nothing_listening(void **state)
{
	(void)state;
	int port = 0;
	int fd = listen_any(&port, false);
	char uri[128];
	str_format(uri, sizeof(uri), "ipp://127.0.0.1:%d/ipp/print", port);
	reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, DELIVER_RETRY);
	assert_int_equal(reader.pos, 0);
	close(fd);
}

/* A listener that accepts the connection (the kernel does) and never answers. */
static void test_ipp_silent_listener(void **state)
{
	(void)state;
	int port = 0;
	int fd = listen_any(&port, true);
	char uri[128];
	str_format(uri, sizeof(uri), "ipp://127.0.0.1:%d/ipp/print", port);
	reader_t reader = {.data = (const uint8_t *)test_pdf, .len = sizeof(test_pdf) - 1};
	pp_deliver_request_t req;
	pp_print_options_t opts;
	request_init(&req, &opts, &reader, uri);
	req.io_timeout_s = 1;
	pp_deliver_result_t result;
	char error[256] = "";
	assert_int_equal(deliver_send(&req, &result, error, sizeof(error)), 0);
	if (result.outcome != DELIVER_RETRY)
		fail_msg("outcome %s: %s", deliver_outcome_name(result.outcome), result.message);
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest local[] = {
	    cmocka_unit_test(test_deliver_outcome_names),
	    cmocka_unit_test(test_deliver_bad_uris),
	    cmocka_unit_test(test_deliver_bad_requests),
	    cmocka_unit_test(test_socket_pjl_envelope),
	    cmocka_unit_test(test_socket_plain_unknown_size),
	    cmocka_unit_test(test_socket_stalled_printer),
	    cmocka_unit_test(test_socket_cancel),
	    cmocka_unit_test(test_socket_nothing_listening),
	    cmocka_unit_test(test_lpd_jobs),
	    cmocka_unit_test(test_lpd_refused),
	    cmocka_unit_test(test_lpd_unreadable_data),
	    cmocka_unit_test(test_ipp_nothing_listening),
	    cmocka_unit_test(test_ipp_silent_listener),
	};
	const struct CMUnitTest printers[] = {
	    cmocka_unit_test(test_ipp_pdf_with_options),
	    cmocka_unit_test(test_ipp_raster_only_refuses_pdf),
	    cmocka_unit_test(test_ipps_self_signed),
	    cmocka_unit_test(test_ipps_pinned),
	};
	int failed = cmocka_run_group_tests_name("deliver", local, NULL, NULL);
	failed += cmocka_run_group_tests_name("deliver-ippeveprinter", printers, ipp_setup,
					      ipp_teardown);
	return failed;
}
