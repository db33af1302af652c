/*
 * deliver-lpd.c - LPD (RFC 1179): "receive a printer job" on a queue, then the control file
 * (who, what, how many copies) and the data file, each announced with its length and each
 * acknowledged by the server with a zero byte.
 *
 * A non-zero acknowledgement means the server will not take the job now: most servers send
 * it for a disabled queue, a full spool or an unknown queue alike, so it is reported as RETRY
 * with the step and code (an unknown queue then ends, after the caller's retries, as a held
 * job whose reason names the queue). LPD needs the data's length up front: data of unknown
 * size is first counted into an unlinked private temp file.
 */
#include "output/deliver-private.h"

#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define LPD_HOST_MAX 32  /* RFC 1179: host names in file names and H lines, 31 octets */
#define LPD_USER_MAX 32  /* P line: 31 octets */
#define LPD_JOB_MAX 100  /* J line: 99 octets */
#define LPD_LINE_MAX 256

/* The data to send: the caller's reader (size known) or a spooled temp file. */
typedef struct {
	int spool_fd; /* -1: read through the request */
	int64_t size;
} lpd_data_t;

/*
 * Copies the whole job into an unlinked temp file (0600, in $TMPDIR or /tmp) to learn its
 * length. Returns 0 with data filled, or -1 with the outcome set.
 */
static int lpd_spool(deliver_ctx_t *ctx, lpd_data_t *data)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	if (dir == NULL || dir[0] != '/' ||
	    !str_format(path, sizeof(path), "%s/pp-lpd-XXXXXX", dir))
		str_copy(path, sizeof(path), "/tmp/pp-lpd-XXXXXX");
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		deliver_set(ctx, DELIVER_RETRY, "cannot make a temp file to measure the job for "
			    "LPD (%s): free space in TMPDIR", strerror(errno));
		return -1;
	}
	/* Unlinked at once: nothing is left behind by a crash, and nobody else can open it. */
	if (unlink(path) != 0) {
		deliver_set(ctx, DELIVER_RETRY, "unlink(%s) failed: %s", path, strerror(errno));
		deliver_net_close(fd);
		return -1;
	}
	char *buf = malloc(DELIVER_CHUNK_BYTES);
	if (buf == NULL) {
		deliver_set(ctx, DELIVER_RETRY, "out of memory while measuring the job");
		deliver_net_close(fd);
		return -1;
	}
	int64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = deliver_read_data(ctx, buf, DELIVER_CHUNK_BYTES);
		if (n < 0) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (fs_write_full(fd, buf, (size_t)n) != 0) {
			deliver_set(ctx, DELIVER_RETRY, "writing the temp copy of the job failed: %s "
				    "(free space in TMPDIR)", strerror(errno));
			rc = -1;
			break;
		}
		total += n;
	}
	free(buf);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0) {
		deliver_set(ctx, DELIVER_RETRY, "lseek on the temp copy failed: %s", strerror(errno));
		rc = -1;
	}
	if (rc != 0) {
		deliver_net_close(fd);
		return -1;
	}
	data->spool_fd = fd;
	data->size = total;
	return 0;
}

/* Reads the next piece of the data, from the temp copy or the caller. -1: outcome set. */
static ssize_t lpd_read(deliver_ctx_t *ctx, const lpd_data_t *data, char *buf, size_t size)
{
	if (data->spool_fd < 0)
		return deliver_read_data(ctx, buf, size);
	for (;;) {
		ssize_t n = read(data->spool_fd, buf, size);
		if (n >= 0)
			return n;
		if (errno != EINTR) {
			deliver_set(ctx, DELIVER_RETRY, "reading the temp copy of the job failed: %s",
				    strerror(errno));
			return -1;
		}
	}
}

/* Waits for the server's acknowledgement of step; 0 when it is the zero byte. */
static int lpd_ack(deliver_ctx_t *ctx, int fd, const char *step)
{
	uint8_t code = 0;
	int n = deliver_net_read_byte(ctx, fd, &code);
	if (n < 0)
		return -1;
	if (n == 0) {
		deliver_set(ctx, DELIVER_RETRY, "the LPD server closed the connection after %s",
			    step);
		return -1;
	}
	if (code != 0) {
		deliver_set(ctx, DELIVER_RETRY, "the LPD server refused %s (code %u): check that "
			    "queue '%s' exists and accepts jobs", step, code, ctx->uri.resource);
		return -1;
	}
	return 0;
}

/* This host's name as LPD wants it in file names and the H line: [A-Za-z0-9.-], 31 max. */
static void lpd_host_name(char *dst, size_t size)
{
	char raw[256];
	if (gethostname(raw, sizeof(raw)) != 0)
		raw[0] = '\0';
	raw[sizeof(raw) - 1] = '\0';
	size_t out = 0;
	for (const char *p = raw; *p != '\0' && out + 1 < size; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-')
			dst[out++] = c;
	}
	dst[out] = '\0';
	if (out == 0)
		str_copy(dst, size, "pullprint");
}

/* Appends one control file line; false when the control file buffer is full. */
static bool lpd_line(char *buf, size_t size, size_t *len, char cmd, const char *value)
{
	int n = snprintf(buf + *len, size - *len, "%c%s\n", cmd, value);
	if (n < 0 || (size_t)n >= size - *len)
		return false;
	*len += (size_t)n;
	return true;
}

/*
 * Builds the control file: H host, P user, J job name, N source name, one print line per
 * copy ('o' PostScript, 'l' anything else: printed as is), U to unlink the data file.
 * New; free with free(). NULL when out of memory.
 */
static char *lpd_control_file(deliver_ctx_t *ctx, const char *host, const char *data_name,
			      size_t *len_r)
{
	const pp_deliver_request_t *req = ctx->req;
	char user[LPD_USER_MAX], job[LPD_JOB_MAX];
	deliver_ascii_line(req->user_name != NULL && req->user_name[0] != '\0' ? req->user_name
										 : "pullprint",
			   NULL, user, sizeof(user));
	deliver_ascii_line(req->job_name != NULL && req->job_name[0] != '\0' ? req->job_name
									       : "job",
			   NULL, job, sizeof(job));
	int copies = req->options->copies < 1 ? 1 : req->options->copies;
	char format = strcmp(req->content_type, "application/postscript") == 0 ? 'o' : 'l';
	size_t size = 4 * LPD_LINE_MAX + (size_t)copies * (strlen(data_name) + 3);
	char *buf = malloc(size);
	if (buf == NULL)
		return NULL;
	size_t len = 0;
	char format_cmd[2] = {format, '\0'};
	bool is_ok = lpd_line(buf, size, &len, 'H', host) && lpd_line(buf, size, &len, 'P', user) &&
		     lpd_line(buf, size, &len, 'J', job) && lpd_line(buf, size, &len, 'N', job);
	/* Copies are print lines repeated: the one way RFC 1179 has to ask for them. */
	for (int i = 0; is_ok && i < copies; i++)
		is_ok = lpd_line(buf, size, &len, format_cmd[0], data_name);
	is_ok = is_ok && lpd_line(buf, size, &len, 'U', data_name);
	if (!is_ok) {
		free(buf);
		return NULL;
	}
	*len_r = len;
	return buf;
}

/* Sends one subcommand ("\2len name\n" or "\3len name\n"), waits for its acknowledgement. */
static int lpd_announce(deliver_ctx_t *ctx, int fd, char code, int64_t len, const char *name,
			const char *step)
{
	char line[LPD_LINE_MAX];
	if (!str_format(line, sizeof(line), "%c%lld %s\n", code, (long long)len, name)) {
		deliver_set(ctx, DELIVER_PERMANENT, "LPD subcommand too long");
		return -1;
	}
	if (deliver_net_write(ctx, fd, line, strlen(line)) != 0)
		return -1;
	return lpd_ack(ctx, fd, step);
}

/* Streams exactly data->size bytes, then the terminating zero byte, then the ack. */
static int lpd_send_data(deliver_ctx_t *ctx, int fd, const lpd_data_t *data)
{
	char *buf = malloc(DELIVER_CHUNK_BYTES);
	if (buf == NULL) {
		deliver_set(ctx, DELIVER_RETRY, "out of memory while sending");
		return -1;
	}
	int64_t left = data->size;
	int rc = 0;
	while (rc == 0) {
		ssize_t n = lpd_read(ctx, data, buf, DELIVER_CHUNK_BYTES);
		if (n < 0) {
			rc = -1;
		} else if (n == 0) {
			break;
		} else if (n > left) {
			deliver_set(ctx, DELIVER_PERMANENT, "the job's data is longer than its "
				    "recorded size of %lld bytes", (long long)data->size);
			rc = -1;
		} else if (deliver_net_write(ctx, fd, buf, (size_t)n) != 0) {
			rc = -1;
		} else {
			left -= n;
			ctx->result->bytes_sent += n;
		}
	}
	free(buf);
	if (rc == 0 && left != 0) {
		deliver_set(ctx, DELIVER_PERMANENT, "the job's data ended %lld bytes before its "
			    "recorded size", (long long)left);
		rc = -1;
	}
	if (rc == 0)
		rc = deliver_net_write(ctx, fd, "", 1);
	if (rc == 0)
		rc = lpd_ack(ctx, fd, "the data file");
	return rc;
}

void deliver_lpd_send(deliver_ctx_t *ctx)
{
	lpd_data_t data = {.spool_fd = -1, .size = ctx->req->size_bytes};
	if (data.size < 0 && lpd_spool(ctx, &data) != 0)
		return;

	char host[LPD_HOST_MAX];
	lpd_host_name(host, sizeof(host));
	uint16_t random = 0;
	if (getrandom(&random, sizeof(random), 0) != (ssize_t)sizeof(random))
		random = (uint16_t)getpid();
	char control_name[LPD_LINE_MAX], data_name[LPD_LINE_MAX];
	unsigned number = random % 1000u;
	str_format(control_name, sizeof(control_name), "cfA%03u%s", number, host);
	str_format(data_name, sizeof(data_name), "dfA%03u%s", number, host);
	size_t control_len = 0;
	char *control = lpd_control_file(ctx, host, data_name, &control_len);
	if (control == NULL) {
		deliver_set(ctx, DELIVER_RETRY, "out of memory building the LPD control file");
		deliver_net_close(data.spool_fd);
		return;
	}

	int fd = deliver_net_connect(ctx, true);
	int rc = fd >= 0 ? 0 : -1;
	/* 1. "Receive a printer job" on the queue. */
	char line[LPD_LINE_MAX];
	if (rc == 0 && !str_format(line, sizeof(line), "\002%s\n", ctx->uri.resource)) {
		deliver_set(ctx, DELIVER_PERMANENT, "LPD queue name too long");
		rc = -1;
	}
	if (rc == 0)
		rc = deliver_net_write(ctx, fd, line, strlen(line));
	if (rc == 0)
		rc = lpd_ack(ctx, fd, "the job for the queue");
	/* 2. The control file, ended by a zero byte. */
	if (rc == 0)
		rc = lpd_announce(ctx, fd, '\002', (int64_t)control_len, control_name,
				  "the control file announcement");
	if (rc == 0)
		rc = deliver_net_write(ctx, fd, control, control_len);
	if (rc == 0)
		rc = deliver_net_write(ctx, fd, "", 1);
	if (rc == 0)
		rc = lpd_ack(ctx, fd, "the control file");
	/* 3. The data file. */
	if (rc == 0)
		rc = lpd_announce(ctx, fd, '\003', data.size, data_name,
				  "the data file announcement");
	if (rc == 0)
		rc = lpd_send_data(ctx, fd, &data);
	if (rc == 0)
		deliver_set(ctx, DELIVER_DONE, "the LPD server took the job on queue '%s' (%lld "
			    "bytes)", ctx->uri.resource, (long long)ctx->result->bytes_sent);
	free(control);
	deliver_net_close(fd);
	deliver_net_close(data.spool_fd);
}
