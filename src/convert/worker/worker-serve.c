/*
 * worker-serve.c - serving the server's local pool (pullprint-convert --fd N): the messages
 * of worker-protocol.h over one SOCK_SEQPACKET socket. The server claims a job and sends its
 * id; the worker converts it, records the outcome itself and answers "done", so the server
 * only learns that the worker is free. When the server closes the socket the worker ends.
 */
#include "convert/worker/worker.h"

#include "convert/worker-protocol.h"
#include "core/job.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A message from the server. */
typedef enum {
	WORKER_MSG_CONVERT,
	WORKER_MSG_PAGES,
} worker_msg_kind_t;

typedef struct {
	worker_msg_kind_t kind;
	int64_t job_id;
	int first, last; /* pages */
} worker_msg_t;

/* Sends one packet formatted from fmt. Returns 0, or -1 (the server is gone). */
__attribute__((format(printf, 2, 3))) static int worker_send(int fd, const char *fmt, ...)
{
	char msg[WORKER_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		log_error("convert: a message to the server does not fit in %d bytes",
			  WORKER_MESSAGE_MAX);
		return -1;
	}
	for (;;) {
		/* MSG_NOSIGNAL: a server that went away is an error here, not SIGPIPE. */
		ssize_t n = send(fd, msg, (size_t)len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != len) {
			log_error("convert: cannot send to the server: %s",
				  n < 0 ? strerror(errno) : "short send");
			return -1;
		}
		return 0;
	}
}

/* Reads the rest of a field as a number in 1..max, followed by a space or the end. */
static bool worker_parse_field(const char **p, uint64_t max, uint64_t *value_r)
{
	if (**p != ' ')
		return false;
	(*p)++;
	if (!parse_uint64(p, max, value_r) || *value_r == 0)
		return false;
	return **p == ' ' || **p == '\0';
}

/* Parses one packet (NUL-terminated). Returns true for a well-formed message. */
static bool worker_parse(const char *text, worker_msg_t *msg_r)
{
	memset(msg_r, 0, sizeof(*msg_r));
	const char *p = text;
	uint64_t id = 0, first = 0, last = 0;
	if (str_has_prefix(p, "convert")) {
		p += strlen("convert");
		if (!worker_parse_field(&p, INT64_MAX, &id) || *p != '\0')
			return false;
		msg_r->kind = WORKER_MSG_CONVERT;
	} else if (str_has_prefix(p, "pages")) {
		p += strlen("pages");
		if (!worker_parse_field(&p, INT64_MAX, &id) ||
		    !worker_parse_field(&p, INT32_MAX, &first) ||
		    !worker_parse_field(&p, INT32_MAX, &last) || *p != '\0' || first > last)
			return false;
		msg_r->kind = WORKER_MSG_PAGES;
		msg_r->first = (int)first;
		msg_r->last = (int)last;
	} else {
		return false;
	}
	msg_r->job_id = (int64_t)id;
	return true;
}

/* Answers "done <id> ok" or "done <id> failed <reason>" (reason on one line, cut to fit). */
static int worker_reply(int fd, int64_t job_id, const pp_worker_outcome_t *outcome)
{
	if (outcome->is_ok)
		return worker_send(fd, "done %lld ok", (long long)job_id);
	char reason[CONVERT_ERROR_MAX];
	job_text_copy(reason, sizeof(reason),
		      outcome->reason[0] != '\0' ? outcome->reason : "unknown");
	for (char *c = reason; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	}
	return worker_send(fd, "done %lld failed %s", (long long)job_id, reason);
}

/*
 * Converts job_id, which the server claimed for this worker. Returns 0 after replying, or -1
 * when the worker must end (the server then abandons the job and starts a new worker).
 */
static int worker_serve_convert(pp_worker_t *w, int fd, int64_t job_id)
{
	char error[1024];
	pp_worker_outcome_t outcome;
	memset(&outcome, 0, sizeof(outcome));
	pp_convert_task_t task;
	int rc = worker_job_task(w, job_id, &task, error, sizeof(error));
	if (rc == JOB_STATE_LOST || rc == JOB_NOT_FOUND) {
		(void)str_copy(outcome.reason, sizeof(outcome.reason),
			       "The job is not waiting for conversion any more.");
		return worker_reply(fd, job_id, &outcome);
	}
	if (rc != JOB_OK) {
		log_error("convert: job=%lld: cannot read the job: %s", (long long)job_id, error);
		return -1;
	}
	if (worker_job_run(w, &task, &outcome, error, sizeof(error)) == 0)
		return worker_reply(fd, job_id, &outcome);

	/* The worker failed, not the document: give the job back for another attempt. */
	log_error("convert: job=%lld: %s", (long long)job_id, error);
	bool is_requeued = false;
	if (convert_queue_abandon(w->core, job_id, w->config->convert_max_attempts,
				  "The converter failed several times: send the document again.",
				  &is_requeued, error, sizeof(error)) != JOB_OK) {
		log_error("convert: job=%lld: cannot give the job back: %s", (long long)job_id,
			  error);
		return -1;
	}
	(void)str_copy(outcome.reason, sizeof(outcome.reason),
		       is_requeued ? "The converter failed; the job waits for another attempt."
				   : "The converter failed; the job has no attempts left.");
	return worker_reply(fd, job_id, &outcome);
}

/* Renders pages of a held job. Returns 0 after replying, -1 when the server is gone. */
static int worker_serve_pages(pp_worker_t *w, int fd, const worker_msg_t *msg)
{
	char error[1024];
	pp_worker_outcome_t outcome;
	if (worker_pages_run(w, msg->job_id, msg->first, msg->last, &outcome, error,
			     sizeof(error)) < 0) {
		log_error("convert: job=%lld: page images %d-%d: %s", (long long)msg->job_id,
			  msg->first, msg->last, error);
		outcome.is_ok = false;
		(void)str_copy(outcome.reason, sizeof(outcome.reason),
			       "The page images could not be made.");
	}
	return worker_reply(fd, msg->job_id, &outcome);
}

int worker_serve(pp_worker_t *w, int fd)
{
	/* The converter first: "ready" promises a worker that can convert. */
	char error[1024];
	if (worker_converter_start(w, error, sizeof(error)) < 0) {
		log_error("convert: %s", error);
		return 1;
	}
	if (worker_send(fd, "ready %ld", (long)getpid()) < 0)
		return 1;
	for (;;) {
		char buf[WORKER_MESSAGE_MAX + 1];
		struct iovec iov = {.iov_base = buf, .iov_len = WORKER_MESSAGE_MAX};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("convert: cannot read from the server: %s", strerror(errno));
			return 1;
		}
		if (n == 0)
			return 0; /* the server closed the socket: it wants us gone */
		buf[n] = '\0';
		if (str_has_prefix(buf, "print ") && memchr(buf, '\0', (size_t)n) == NULL &&
		    (mh.msg_flags & MSG_TRUNC) == 0) {
			if (worker_print_serve(w, fd, buf) < 0) /* worker-print.c */
				return 1;
			continue;
		}
		worker_msg_t msg;
		if ((mh.msg_flags & MSG_TRUNC) != 0 || memchr(buf, '\0', (size_t)n) != NULL ||
		    !worker_parse(buf, &msg)) {
			log_error("convert: malformed message from the server (%zd bytes): ending",
				  n);
			return 1;
		}
		int rc = msg.kind == WORKER_MSG_CONVERT ? worker_serve_convert(w, fd, msg.job_id)
							: worker_serve_pages(w, fd, &msg);
		if (rc < 0)
			return 1;
	}
}
