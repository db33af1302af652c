/*
 * sandbox-exec.c - running a helper program (Ghostscript) from inside an EXEC sandbox.
 *
 * No shell: fork and execve with the caller's argv and an explicit environment. The program
 * inherits the sandbox (rlimits, user, filter, process group). Its stderr comes back on a
 * pipe, of which only the last line is kept, bounded, to say why it failed.
 */
#include "sandbox-private.h"

#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The longest stderr line kept for the error message. */
#define SANDBOX_STDERR_LINE_MAX 200
/* Exit code of the forked child when execve fails (as a shell would say). */
#define SANDBOX_EXEC_FAILED 127

typedef struct {
	char current[SANDBOX_STDERR_LINE_MAX + 1];
	size_t current_len;
	char last[SANDBOX_STDERR_LINE_MAX + 1];
} exec_lines_t;

/* Feeds stderr bytes in; keeps the last non-empty line (cut at the bound). */
static void exec_lines_add(exec_lines_t *lines, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\n') {
			if (lines->current_len > 0) {
				memcpy(lines->last, lines->current, lines->current_len);
				lines->last[lines->current_len] = '\0';
			}
			lines->current_len = 0;
			continue;
		}
		if (lines->current_len < SANDBOX_STDERR_LINE_MAX)
			lines->current[lines->current_len++] =
			    (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
}

/* The forked side: stderr to the pipe, then execve. Never returns. */
static void exec_child(const char *const argv[], const char *const envp[], int err_fd)
    __attribute__((noreturn));
static void exec_child(const char *const argv[], const char *const envp[], int err_fd)
{
	static const char *const empty_env[] = {NULL};
	if (dup2(err_fd, STDERR_FILENO) < 0)
		_exit(SANDBOX_EXEC_FAILED);
	/* Dies with the sandboxed child that runs it (which dies with the worker). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(SANDBOX_EXEC_FAILED);
	/* execve's prototype is not const-correct; it does not modify either array. */
	(void)execve(argv[0], (char *const *)argv,
	             (char *const *)(envp != NULL ? envp : empty_env));
	char line[256];
	int n = snprintf(line, sizeof(line), "cannot run %s: %s\n", argv[0], strerror(errno));
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
		             (size_t)n < sizeof(line) ? (size_t)n : sizeof(line));
	_exit(SANDBOX_EXEC_FAILED);
}

/* Waits for pid, retrying EINTR. Returns 0 with *status_r, or -1. */
static int exec_reap(pid_t pid, int *status_r)
{
	for (;;) {
		if (waitpid(pid, status_r, 0) == pid)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int sandbox_exec_wait(const char *const argv[], const char *const envp[], char *error,
                      size_t error_size)
{
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
		(void)str_format(error, error_size,
		                 "sandbox_exec_wait needs an absolute program path");
		return -1;
	}
	const char *name = strrchr(argv[0], '/') + 1;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		(void)str_format(error, error_size, "pipe2 failed: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		(void)str_format(error, error_size, "cannot start %s: fork failed: %s", name,
		                 strerror(errno));
		(void)close(fds[0]);
		(void)close(fds[1]);
		return -1;
	}
	if (pid == 0)
		exec_child(argv, envp, fds[1]);

	(void)close(fds[1]);
	exec_lines_t lines;
	memset(&lines, 0, sizeof(lines));
	for (;;) {
		char buf[1024];
		ssize_t n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		exec_lines_add(&lines, buf, (size_t)n);
	}
	(void)close(fds[0]);
	exec_lines_add(&lines, "\n", 1); /* a last line without a newline counts too */

	int status = 0;
	if (exec_reap(pid, &status) < 0) {
		(void)str_format(error, error_size, "waiting for %s failed: %s", name,
		                 strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	const char *said = lines.last;
	if (WIFEXITED(status)) {
		if (said[0] != '\0')
			(void)str_format(error, error_size, "%s exited with status %d: %s", name,
			                 WEXITSTATUS(status), said);
		else
			(void)str_format(error, error_size, "%s exited with status %d", name,
			                 WEXITSTATUS(status));
		return -1;
	}
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	const char *sig_name = sigabbrev_np(sig);
	(void)str_format(error, error_size, "%s was killed by signal SIG%s%s%s", name,
	                 sig_name != NULL ? sig_name : "?", said[0] != '\0' ? ": " : "", said);
	if (sig == SIGXCPU || sig == SIGXFSZ)
		return SANDBOX_FN_LIMIT;
	if (sig == SIGSYS)
		return SANDBOX_FN_VIOLATION;
	return -1;
}
