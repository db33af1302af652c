/* convert-pool-process.c - the pool's worker processes; see convert-pool-private.h. */
#include "server/convert-pool-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void convert_pool_close(int *fd)
{
	if (*fd >= 0 && close(*fd) < 0)
		log_warn("convert.close_failed fd=%d error=\"%s\"", *fd, strerror(errno));
	*fd = -1;
}

const char *convert_pool_describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		(void)str_format(buf, size, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		(void)str_format(buf, size, "signal %d", WTERMSIG(status));
	else
		(void)str_copy(buf, size, "unknown");
	return buf;
}

int convert_pool_find_program(const char *configured, char *path, size_t size, char *error,
                              size_t error_size)
{
	if (configured != NULL && configured[0] != '\0') {
		if (!str_copy(path, size, configured)) {
			(void)str_format(error, error_size, "the program path is too long");
			return -1;
		}
	} else {
		char self[PATH_MAX];
		ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (len < 0) {
			(void)str_format(error, error_size, "readlink(/proc/self/exe) failed: %s",
			                 strerror(errno));
			return -1;
		}
		self[len] = '\0';
		char *slash = strrchr(self, '/');
		if (slash == NULL) {
			(void)str_format(error, error_size, "/proc/self/exe is not a path");
			return -1;
		}
		*slash = '\0';
		if (!str_format(path, size, "%s/%s", self, CONVERT_POOL_PROGRAM_NAME)) {
			(void)str_format(error, error_size, "the program path is too long");
			return -1;
		}
	}
	if (access(path, X_OK) < 0) {
		(void)str_format(error, error_size, "%s", strerror(errno));
		return 1;
	}
	return 0;
}

/* Fills the spawn attributes: own process group, empty mask, default signal actions. */
static int convert_pool_spawn_attr(posix_spawnattr_t *attr)
{
	sigset_t none, defaults;
	if (sigemptyset(&none) < 0 || sigemptyset(&defaults) < 0 ||
	    sigaddset(&defaults, SIGTERM) < 0 || sigaddset(&defaults, SIGINT) < 0 ||
	    sigaddset(&defaults, SIGHUP) < 0 || sigaddset(&defaults, SIGPIPE) < 0 ||
	    sigaddset(&defaults, SIGCHLD) < 0)
		return EINVAL;
	/* The server blocks SIGTERM/SIGINT/SIGHUP in every thread and ignores SIGPIPE; both
	 * would be inherited across exec. Its own group keeps a terminal's ^C off the workers:
	 * the server stops them. */
	int rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                            POSIX_SPAWN_SETPGROUP);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(attr, &defaults);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(attr, 0);
	return rc;
}

/* posix_spawn of program with argv, child_fd becoming CONVERT_POOL_CHILD_FD. 0 or an errno. */
static int convert_pool_run(const char *program, char *const argv[], int child_fd, pid_t *pid_r)
{
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	int rc = posix_spawn_file_actions_init(&actions);
	if (rc != 0)
		return rc;
	rc = posix_spawnattr_init(&attr);
	if (rc == 0) {
		rc = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY,
		                                      0);
		if (rc == 0)
			rc = posix_spawn_file_actions_adddup2(&actions, child_fd,
			                                      CONVERT_POOL_CHILD_FD);
		/* Whatever the server's libraries left open without close-on-exec stays here. */
		if (rc == 0)
			rc = posix_spawn_file_actions_addclosefrom_np(&actions,
			                                              CONVERT_POOL_CHILD_FD + 1);
		if (rc == 0)
			rc = convert_pool_spawn_attr(&attr);
		if (rc == 0)
			rc = posix_spawn(pid_r, program, &actions, &attr, argv, environ);
		(void)posix_spawnattr_destroy(&attr);
	}
	(void)posix_spawn_file_actions_destroy(&actions);
	return rc;
}

int convert_pool_spawn(const char *program, const char *config_path, const char *state_dir,
                       pid_t *pid_r, int *fd_r)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("convert.spawn_failed call=socketpair error=\"%s\"", strerror(errno));
		return -1;
	}
	/* dup2 onto the same number would keep FD_CLOEXEC: move the child's end off 3. */
	if (sv[1] == CONVERT_POOL_CHILD_FD) {
		int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, CONVERT_POOL_CHILD_FD + 1);
		if (moved < 0) {
			log_error("convert.spawn_failed call=fcntl error=\"%s\"", strerror(errno));
			convert_pool_close(&sv[0]);
			convert_pool_close(&sv[1]);
			return -1;
		}
		convert_pool_close(&sv[1]);
		sv[1] = moved;
	}

	char fd_text[16];
	(void)str_format(fd_text, sizeof(fd_text), "%d", CONVERT_POOL_CHILD_FD);
	const char *argv[9];
	size_t argc = 0;
	argv[argc++] = program;
	if (config_path[0] != '\0') {
		argv[argc++] = "--config";
		argv[argc++] = config_path;
	}
	argv[argc++] = "--state-dir";
	argv[argc++] = state_dir;
	argv[argc++] = "--fd";
	argv[argc++] = fd_text;
	argv[argc] = NULL;

	/* posix_spawn takes char *const[] for historical reasons; it does not write to them. */
	int rc = convert_pool_run(program, (char *const *)(uintptr_t)argv, sv[1], pid_r);
	convert_pool_close(&sv[1]);
	if (rc != 0) {
		log_error("convert.spawn_failed program=%s error=\"%s\" action=\"check [convert] "
		          "program\"",
		          program, strerror(rc));
		convert_pool_close(&sv[0]);
		return -1;
	}
	*fd_r = sv[0];
	return 0;
}

int convert_pool_kill(pid_t pid)
{
	int status = 0;
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		log_warn("convert.kill_failed pid=%ld error=\"%s\"", (long)pid, strerror(errno));
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_warn("convert.waitpid_failed pid=%ld error=\"%s\"", (long)pid,
			         strerror(errno));
			return 0;
		}
	}
	return status;
}

static int64_t convert_pool_now_ms(void)
{
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		abort(); /* CLOCK_MONOTONIC always exists on Linux */
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void convert_pool_stop_processes(pid_t *pids, size_t n, int grace_ms)
{
	for (size_t i = 0; i < n; i++) {
		if (pids[i] > 0 && kill(pids[i], SIGTERM) < 0 && errno != ESRCH)
			log_warn("convert.kill_failed pid=%ld error=\"%s\"", (long)pids[i],
			         strerror(errno));
	}
	int64_t deadline = convert_pool_now_ms() + grace_ms;
	for (;;) {
		size_t running = 0;
		for (size_t i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			int status = 0;
			pid_t rc = waitpid(pids[i], &status, WNOHANG);
			if (rc == pids[i] || (rc < 0 && errno == ECHILD))
				pids[i] = 0;
			else
				running++;
		}
		if (running == 0 || convert_pool_now_ms() >= deadline)
			break;
		struct timespec pause = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
		(void)nanosleep(&pause, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (pids[i] > 0) {
			log_warn(
			    "convert.worker_killed pid=%ld reason=\"no exit %d s after SIGTERM\"",
			    (long)pids[i], grace_ms / 1000);
			(void)convert_pool_kill(pids[i]);
			pids[i] = 0;
		}
	}
}
