/*
 * sandbox-run.c - one piece of untrusted work in a child process, and what became of it.
 *
 * The child starts a session of its own, keeps only stdin (now /dev/null), stdout, stderr and
 * the report pipe, enters the sandbox, runs fn and writes one report line. The parent waits
 * for the child's exit and the report with a deadline, kills the whole process group on
 * timeout (and afterwards, so no grandchild outlives the run), and turns how the child ended
 * into an outcome and a sentence for the user. The report is untrusted: bounded, checked, and
 * believed only when it agrees with the exit status.
 */
#include "sandbox-private.h"

#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef PP_HAVE_PIDFD_OPEN
#include <sys/pidfd.h>
#endif

/* Without a pidfd, the parent looks for the child's exit this often. */
#define SANDBOX_POLL_FALLBACK_MS 20
/* The most the parent reads from the report pipe in all: a grandchild that keeps writing
 * cannot keep it busy. */
#define SANDBOX_REPORT_READ_CAP (64 * 1024)
/* Highest descriptor closed one by one when close_range() is missing. */
#define SANDBOX_CLOSE_FALLBACK_MAX 65536

typedef struct {
	char data[SANDBOX_REPORT_MAX + 1];
	size_t len;
	size_t total;
	bool overflow;
	bool eof;
} run_report_t;

typedef struct {
	int status;
	bool timed_out;
	struct rusage usage;
	run_report_t report;
} run_end_t;

/* ---- the child ------------------------------------------------------------------------ */

/* Closes every descriptor in [low, high]. */
static void run_close_range(unsigned low, unsigned high)
{
	if (low > high)
		return;
#ifdef PP_HAVE_CLOSE_RANGE
	if (close_range(low, high, 0) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	unsigned last = (max < 0 || max > SANDBOX_CLOSE_FALLBACK_MAX) ? SANDBOX_CLOSE_FALLBACK_MAX
	                                                              : (unsigned)max;
	if (high < last)
		last = high;
	for (unsigned fd = low; fd <= last; fd++)
		(void)close((int)fd); /* EBADF for the many that are not open */
}

/* Leaves stdin (/dev/null), stdout, stderr and the report pipe, which is moved above 2 first
 * so that replacing stdin cannot hit it. Fills *report_fd_r. */
static int run_child_fds(int report_fd, int *report_fd_r, char *error, size_t error_size)
{
	int low_slot = -1;
	if (report_fd <= STDERR_FILENO) {
		int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
		if (moved < 0) {
			(void)str_format(error, error_size, "fcntl(F_DUPFD) failed: %s",
			                 strerror(errno));
			return -1;
		}
		low_slot = report_fd;
		report_fd = moved;
	}
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		(void)str_format(error, error_size, "open(/dev/null) failed: %s", strerror(errno));
		return -1;
	}
	/* The worker ran with stdout or stderr closed and the pipe took its number: writes to
	 * that stream must not land in the report. */
	if (low_slot > STDIN_FILENO && dup2(null_fd, low_slot) < 0) {
		(void)str_format(error, error_size, "dup2(/dev/null, %d) failed: %s", low_slot,
		                 strerror(errno));
		return -1;
	}
	if (null_fd == STDIN_FILENO) {
		/* stdin was closed: the new descriptor is already 0, make it survive execve. */
		if (fcntl(null_fd, F_SETFD, 0) < 0) {
			(void)str_format(error, error_size, "fcntl(F_SETFD) failed: %s",
			                 strerror(errno));
			return -1;
		}
	} else if (dup2(null_fd, STDIN_FILENO) < 0) {
		(void)str_format(error, error_size, "dup2(/dev/null, 0) failed: %s",
		                 strerror(errno));
		return -1;
	}
	/* Everything else the worker had open (database, spool, other children's pipes) goes. */
	run_close_range(STDERR_FILENO + 1, (unsigned)report_fd - 1);
	run_close_range((unsigned)report_fd + 1, ~0U);
	*report_fd_r = report_fd;
	return 0;
}

/* Writes "<tag> <message>\n" in one write() (control characters become spaces). */
static void run_child_report(int fd, const char *tag, const char *message)
{
	char line[SANDBOX_REPORT_MAX];
	size_t len = 0;
	size_t tag_len = strlen(tag);
	memcpy(line, tag, tag_len);
	len = tag_len;
	line[len++] = ' ';
	for (const char *p = message; *p != '\0' && len < sizeof(line) - 1; p++) {
		unsigned char c = (unsigned char)*p;
		line[len++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	line[len++] = '\n';
	/* Nothing to do on failure: the parent then sees an exit without a report. */
	(void)!write(fd, line, len);
}

/* The child's whole life: confine, run fn, report, exit. Never returns. */
static void run_child(int report_fd, const pp_sandbox_limits_t *limits, const char *work_dir,
                      pp_sandbox_fn fn, void *ctx) __attribute__((noreturn));
static void run_child(int report_fd, const pp_sandbox_limits_t *limits, const char *work_dir,
                      pp_sandbox_fn fn, void *ctx)
{
	char message[SANDBOX_MESSAGE_MAX] = "";
	/* The session first, so that a timeout's kill(-pid) reaches everything after it. */
	if (setsid() < 0) {
		(void)str_format(message, sizeof(message), "setsid failed: %s", strerror(errno));
		run_child_report(report_fd, SANDBOX_TAG_SETUP, message);
		_exit(SANDBOX_EXIT_SETUP);
	}
	if (run_child_fds(report_fd, &report_fd, message, sizeof(message)) < 0 ||
	    sandbox_enter(limits, work_dir, message, sizeof(message)) < 0) {
		run_child_report(report_fd, SANDBOX_TAG_SETUP, message);
		_exit(SANDBOX_EXIT_SETUP);
	}
	message[0] = '\0';
	int rc = fn(ctx, message, sizeof(message));
	const char *tag = SANDBOX_TAG_FAILED;
	if (rc == 0)
		tag = SANDBOX_TAG_OK;
	else if (rc == SANDBOX_FN_LIMIT)
		tag = SANDBOX_TAG_LIMIT;
	else if (rc == SANDBOX_FN_VIOLATION)
		tag = SANDBOX_TAG_VIOLATION;
	run_child_report(report_fd, tag, rc == 0 ? "" : message);
	_exit(rc == 0 ? SANDBOX_EXIT_OK : SANDBOX_EXIT_FN_ERROR);
}

/* ---- the parent ----------------------------------------------------------------------- */

static double run_now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads what the report pipe holds now (non-blocking), keeping at most SANDBOX_REPORT_MAX. */
static void run_read_report(int fd, run_report_t *report)
{
	while (!report->eof) {
		char buf[512];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			report->eof = true;
			return;
		}
		size_t got = (size_t)n;
		report->total += got;
		size_t room = SANDBOX_REPORT_MAX - report->len;
		if (got > room) {
			report->overflow = true;
			got = room;
		}
		memcpy(report->data + report->len, buf, got);
		report->len += got;
		report->data[report->len] = '\0';
		if (report->total > SANDBOX_REPORT_READ_CAP) {
			report->overflow = true;
			report->eof = true;
		}
	}
}

/* Kills the child's process group, or the child alone before it made one. */
static void run_kill_group(pid_t pid)
{
	if (kill(-pid, SIGKILL) < 0 && errno == ESRCH)
		(void)kill(pid, SIGKILL);
}

/* True once the child has exited; it stays a zombie (WNOWAIT), so its pid, which is also
 * its process group's id, cannot be reused before run_wait() kills the group. */
static bool run_child_exited(pid_t pid, bool block)
{
	for (;;) {
		siginfo_t info;
		memset(&info, 0, sizeof(info));
		int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
		if (waitid(P_PID, (id_t)pid, &info, flags) < 0) {
			if (errno == EINTR)
				continue;
			return true; /* ECHILD: nothing left to wait for */
		}
		return info.si_pid == pid;
	}
}

/* Waits for the child with a deadline of wall_seconds (0: none), reading its report on the
 * way, then kills what is left of its group and reaps it. */
static int run_wait(pid_t pid, int report_fd, unsigned wall_seconds, double start, run_end_t *end,
                    char *error, size_t error_size)
{
	int pidfd = -1;
	bool failed = false;
#ifdef PP_HAVE_PIDFD_OPEN
	pidfd = pidfd_open(pid, 0); /* -1 on old kernels: then poll with a short timeout */
#endif
	double deadline = start + (double)wall_seconds;
	while (!run_child_exited(pid, false)) {
		int timeout_ms = -1;
		if (wall_seconds > 0) {
			double left = deadline - run_now();
			if (left <= 0) {
				run_kill_group(pid);
				end->timed_out = true;
				break;
			}
			timeout_ms = left * 1000.0 > INT_MAX ? INT_MAX : (int)(left * 1000.0) + 1;
		}
		if (pidfd < 0 && (timeout_ms < 0 || timeout_ms > SANDBOX_POLL_FALLBACK_MS))
			timeout_ms = SANDBOX_POLL_FALLBACK_MS;
		struct pollfd fds[2];
		nfds_t count = 0;
		if (!end->report.eof)
			fds[count++] = (struct pollfd){.fd = report_fd, .events = POLLIN};
		if (pidfd >= 0)
			fds[count++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		if (poll(fds, count, timeout_ms) < 0 && errno != EINTR) {
			(void)str_format(error, error_size, "poll failed: %s", strerror(errno));
			run_kill_group(pid);
			failed = true;
			break;
		}
		run_read_report(report_fd, &end->report);
	}
	if (pidfd >= 0)
		(void)close(pidfd);
	(void)run_child_exited(pid, true);
	/* Whatever the child left running in its group ends with it. */
	run_kill_group(pid);
	run_read_report(report_fd, &end->report);
	for (;;) {
		if (wait4(pid, &end->status, 0, &end->usage) == pid)
			return failed ? -1 : 0;
		if (errno != EINTR) {
			(void)str_format(error, error_size,
			                 "wait4 failed: %s (is SIGCHLD ignored in the worker?)",
			                 strerror(errno));
			return -1;
		}
	}
}

/* "512 MiB" or "1000 bytes". */
static void run_format_bytes(char *dst, size_t size, uint64_t bytes)
{
	const uint64_t mib = UINT64_C(1024) * 1024;
	if (bytes >= mib && bytes % mib == 0)
		(void)str_format(dst, size, "%llu MiB", (unsigned long long)(bytes / mib));
	else
		(void)str_format(dst, size, "%llu bytes", (unsigned long long)bytes);
}

/* Splits a well-formed report "<tag> <message>\n" in place. False when malformed. */
static bool run_parse_report(run_report_t *report, const char **tag_r, const char **message_r)
{
	if (report->overflow || report->len == 0 || report->data[report->len - 1] != '\n')
		return false;
	report->data[report->len - 1] = '\0';
	char *space = strchr(report->data, ' ');
	if (space == NULL || strchr(space + 1, '\n') != NULL)
		return false;
	*space = '\0';
	*tag_r = report->data;
	*message_r = space + 1;
	return true;
}

/* result->message = fn's message when it is a readable line, else fallback. */
static void run_fn_message(pp_sandbox_result_t *result, const char *message, const char *fallback)
{
	if (message[0] == '\0' || !str_is_printable_utf8(message) ||
	    !str_copy(result->message, sizeof(result->message), message))
		(void)str_copy(result->message, sizeof(result->message), fallback);
}

/* A child killed by a signal. */
static void run_classify_signal(const pp_sandbox_limits_t *limits, const run_end_t *end,
                                pp_sandbox_result_t *result)
{
	int sig = WTERMSIG(end->status);
	result->signal = sig;
	double cpu_s = (double)end->usage.ru_utime.tv_sec + (double)end->usage.ru_stime.tv_sec +
	               (double)(end->usage.ru_utime.tv_usec + end->usage.ru_stime.tv_usec) / 1e6;
	bool cpu_spent = limits->cpu_seconds > 0 && cpu_s >= (double)limits->cpu_seconds;
	char size[64];
	if (end->timed_out && sig == SIGKILL) {
		result->outcome = SANDBOX_TIMEOUT;
		(void)str_format(result->message, sizeof(result->message),
		                 "The document took longer than %u s to convert and was stopped.",
		                 limits->wall_seconds);
	} else if (sig == SIGSYS) {
		result->outcome = SANDBOX_VIOLATION;
		(void)str_copy(result->message, sizeof(result->message),
		               "The converter was stopped because the document made it attempt a "
		               "forbidden operation; the document may be malicious.");
	} else if (sig == SIGXCPU || (sig == SIGKILL && cpu_spent)) {
		/* SIGKILL with the CPU time spent: the hard limit, the child ignored SIGXCPU. */
		result->outcome = SANDBOX_LIMIT;
		(void)str_format(result->message, sizeof(result->message),
		                 "The document needed more than %llu s of processor time to "
		                 "convert and was stopped.",
		                 (unsigned long long)limits->cpu_seconds);
	} else if (sig == SIGXFSZ) {
		result->outcome = SANDBOX_LIMIT;
		run_format_bytes(size, sizeof(size), limits->file_size_bytes);
		(void)str_format(result->message, sizeof(result->message),
		                 "Converting the document produced a file larger than %s, the "
		                 "limit, and was stopped.",
		                 size);
	} else {
		result->outcome = SANDBOX_CRASHED;
		const char *name = sigabbrev_np(sig);
		(void)str_format(result->message, sizeof(result->message),
		                 "The converter crashed while reading the document (signal SIG%s); "
		                 "the document may be damaged.",
		                 name != NULL ? name : "?");
	}
}

/* A child that exited: believe its report only when it matches the exit status. Returns -1
 * with error when the sandbox could not be entered. */
static int run_classify_exit(run_end_t *end, pp_sandbox_result_t *result, char *error,
                             size_t error_size)
{
	int code = WEXITSTATUS(end->status);
	const char *tag = "";
	const char *message = "";
	bool parsed = run_parse_report(&end->report, &tag, &message);
	if (parsed && code == SANDBOX_EXIT_OK && strcmp(tag, SANDBOX_TAG_OK) == 0) {
		result->outcome = SANDBOX_OK;
		(void)str_copy(result->message, sizeof(result->message),
		               "The document was converted.");
		return 0;
	}
	if (parsed && code == SANDBOX_EXIT_FN_ERROR) {
		if (strcmp(tag, SANDBOX_TAG_FAILED) == 0) {
			result->outcome = SANDBOX_FAILED;
			run_fn_message(result, message, "The document could not be converted.");
			return 0;
		}
		if (strcmp(tag, SANDBOX_TAG_LIMIT) == 0) {
			result->outcome = SANDBOX_LIMIT;
			run_fn_message(result, message,
			               "The document needs more memory or time than the converter "
			               "may use and was stopped.");
			return 0;
		}
		if (strcmp(tag, SANDBOX_TAG_VIOLATION) == 0) {
			result->outcome = SANDBOX_VIOLATION;
			run_fn_message(result, message,
			               "The converter was stopped because the document made it "
			               "attempt a forbidden operation; the document may be "
			               "malicious.");
			return 0;
		}
	}
	result->outcome = SANDBOX_CRASHED;
	if (parsed && code == SANDBOX_EXIT_SETUP && strcmp(tag, SANDBOX_TAG_SETUP) == 0) {
		(void)str_copy(result->message, sizeof(result->message),
		               "The document could not be converted because the converter is not "
		               "set up correctly; please tell the administrator.");
		(void)str_format(error, error_size, "sandbox: cannot confine the converter: %s",
		                 str_is_printable_utf8(message) ? message : "(unreadable)");
		return -1;
	}
	(void)str_format(result->message, sizeof(result->message),
	                 "The converter stopped without reporting a result (exit status %d); "
	                 "the document may be damaged.",
	                 code);
	return 0;
}

int sandbox_run(const pp_sandbox_limits_t *limits, const char *work_dir, pp_sandbox_fn fn,
                void *ctx, pp_sandbox_result_t *result_r, char *error, size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	result_r->outcome = SANDBOX_CRASHED;
	(void)str_copy(result_r->message, sizeof(result_r->message),
	               "The converter could not be started; please try again later.");
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		(void)str_format(error, error_size, "pipe2 failed: %s", strerror(errno));
		return -1;
	}
	/* Only the parent's end is non-blocking: the child's single write must not fail. */
	int fl = fcntl(fds[0], F_GETFL);
	if (fl < 0 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) < 0) {
		(void)str_format(error, error_size, "fcntl(O_NONBLOCK) failed: %s",
		                 strerror(errno));
		(void)close(fds[0]);
		(void)close(fds[1]);
		return -1;
	}
	double start = run_now();
	pid_t pid = fork();
	if (pid < 0) {
		(void)str_format(error, error_size, "fork failed: %s", strerror(errno));
		(void)close(fds[0]);
		(void)close(fds[1]);
		return -1;
	}
	if (pid == 0)
		run_child(fds[1], limits, work_dir, fn, ctx);

	(void)close(fds[1]); /* so that the pipe reads end-of-file when the child is gone */
	run_end_t end;
	memset(&end, 0, sizeof(end));
	int rc = run_wait(pid, fds[0], limits->wall_seconds, start, &end, error, error_size);
	(void)close(fds[0]);
	result_r->elapsed_s = run_now() - start;
	if (rc < 0)
		return -1;
	if (WIFSIGNALED(end.status)) {
		run_classify_signal(limits, &end, result_r);
		return 0;
	}
	return run_classify_exit(&end, result_r, error, error_size);
}
