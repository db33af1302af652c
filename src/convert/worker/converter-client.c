/*
 * converter-client.c - the broker's side of the converter (converter.h): spawning it as a
 * fresh program image with nothing of the broker's but the socket, sending it its limits and
 * one request at a time, and replacing it when it dies, hangs or talks nonsense. The broker
 * stays single-threaded; a dead converter costs the current request (reported as a crash, as
 * a crashed sandbox child would be) and nothing else.
 */
#include "convert/worker/converter.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONVERTER_START_TIMEOUT_MS 30000 /* exec and the ready message; no LibreOffice yet */
#define CONVERTER_REPLY_MARGIN_S 300     /* beyond the sandbox's own timeouts: office start */
#define CONVERTER_EXIT_WAIT_MS 10000     /* after the socket closed, before SIGKILL */

void converter_client_init(pp_converter_client_t *c)
{
	memset(c, 0, sizeof(*c));
	(void)str_copy(c->program, sizeof(c->program), CONVERTER_DEFAULT_PROGRAM);
	c->fd = -1;
	c->next_id = 1;
	c->reply_timeout_ms = -1;
}

void converter_client_attach(pp_converter_client_t *c, int fd, pid_t pid)
{
	converter_client_stop(c);
	c->fd = fd;
	c->pid = pid;
	c->is_running = true;
}

/* Waits up to wait_ms for pid to exit by itself. Returns true with *status_r when it did (or
 * is no child of ours any more: never signal a pid that may have been reused). */
static bool converter_client_exited(pid_t pid, int wait_ms, int *status_r)
{
	for (int waited = 0;; waited += 10) {
		pid_t got = waitpid(pid, status_r, WNOHANG);
		if (got == pid)
			return true;
		if (got < 0 && errno == ECHILD) {
			*status_r = SIGKILL; /* as WIFSIGNALED/WTERMSIG read it: ended, how unknown */
			return true;
		}
		if ((got < 0 && errno != EINTR) || waited >= wait_ms)
			return false;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000000L};
		(void)nanosleep(&ts, NULL);
	}
}

void converter_client_stop(pp_converter_client_t *c)
{
	if (!c->is_running)
		return;
	if (close(c->fd) < 0)
		log_warn("convert: close(converter socket) failed: %s", strerror(errno));
	c->fd = -1;
	c->is_running = false;
	int status = 0;
	if (c->pid > 0 && !converter_client_exited(c->pid, CONVERTER_EXIT_WAIT_MS, &status)) {
		log_warn("convert: the converter %ld did not end when asked: killed", (long)c->pid);
		if (kill(c->pid, SIGKILL) < 0 && errno != ESRCH)
			log_error("convert: kill(converter %ld) failed: %s", (long)c->pid,
				  strerror(errno));
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = 0;
}

/*
 * Ends a converter that died or misbehaved: one that closed its socket gets wait_ms to
 * exit (its status then names how it ended), anything else is killed at once. Fills
 * *result as a crash (or a timeout), so the user reads what a crashed sandbox child would
 * have told them.
 */
static void converter_client_kill(pp_converter_client_t *c, bool is_timeout, int wait_ms,
				  pp_sandbox_result_t *result)
{
	int status = 0;
	bool has_status = false;
	if (c->pid > 0) {
		has_status = converter_client_exited(c->pid, wait_ms, &status);
		if (!has_status) {
			/* Its group is the broker's: only the converter itself is signalled. */
			if (kill(c->pid, SIGKILL) < 0 && errno != ESRCH)
				log_error("convert: kill(converter %ld) failed: %s", (long)c->pid,
					  strerror(errno));
			while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
				;
		}
		c->pid = 0;
	}
	if (c->is_running && close(c->fd) < 0)
		log_warn("convert: close(converter socket) failed: %s", strerror(errno));
	c->fd = -1;
	c->is_running = false;

	memset(result, 0, sizeof(*result));
	if (is_timeout) {
		result->outcome = SANDBOX_TIMEOUT;
		(void)str_copy(result->message, sizeof(result->message),
			       "The document took too long to convert and was stopped.");
	} else if (has_status && WIFEXITED(status)) {
		result->outcome = SANDBOX_CRASHED;
		(void)str_format(result->message, sizeof(result->message),
				 "The converter stopped without reporting a result (exit status "
				 "%d); the document may be damaged.",
				 WEXITSTATUS(status));
	} else {
		int sig = has_status && WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
		const char *name = sigabbrev_np(sig);
		result->outcome = SANDBOX_CRASHED;
		result->signal = sig;
		(void)str_format(result->message, sizeof(result->message),
				 "The converter crashed while reading the document (signal SIG%s); "
				 "the document may be damaged.",
				 name != NULL ? name : "?");
	}
}

/* posix_spawn of c->program as the converter with child_fd as CONVERTER_FD. 0 or an errno. */
static int converter_client_spawn(pp_converter_client_t *c, int child_fd, char *const envp[])
{
	char fd_text[16];
	(void)str_format(fd_text, sizeof(fd_text), "%d", CONVERTER_FD);
	/* argv[0] names the program for ps and the logs; /proc/self/exe is what is run. */
	char name[PATH_MAX];
	ssize_t name_len = -1;
	if (strcmp(c->program, CONVERTER_DEFAULT_PROGRAM) == 0)
		name_len = readlink(CONVERTER_DEFAULT_PROGRAM, name, sizeof(name) - 1);
	if (name_len > 0)
		name[name_len] = '\0';
	const char *argv[] = {name_len > 0 ? name : c->program, CONVERTER_ARG, "--fd", fd_text,
			      NULL};
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	int rc = posix_spawn_file_actions_init(&actions);
	if (rc != 0)
		return rc;
	rc = posix_spawnattr_init(&attr);
	if (rc != 0) {
		(void)posix_spawn_file_actions_destroy(&actions);
		return rc;
	}
	/* stdin: nothing; stdout: the broker's stderr (a child's stray output must never
	 * mix with the report lines `file` prints); stderr: the broker's log. */
	rc = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = fcntl(STDERR_FILENO, F_GETFD) >= 0
			     ? posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO,
								STDOUT_FILENO)
			     : posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
								"/dev/null", O_WRONLY, 0);
	if (rc == 0 && fcntl(STDERR_FILENO, F_GETFD) < 0)
		rc = posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
						      O_WRONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&actions, child_fd, CONVERTER_FD);
	/* Whatever the broker or its libraries hold without close-on-exec stays here. */
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&actions, CONVERTER_FD + 1);
	sigset_t none, all;
	if (rc == 0 && (sigemptyset(&none) < 0 || sigfillset(&all) < 0))
		rc = EINVAL;
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &all);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* posix_spawn takes char *const[] for historical reasons; it does not write to them. */
	if (rc == 0)
		rc = posix_spawn(&c->pid, c->program, &actions, &attr,
				 (char *const *)(uintptr_t)argv, envp);
	(void)posix_spawnattr_destroy(&attr);
	(void)posix_spawn_file_actions_destroy(&actions);
	return rc;
}

/* Sends the limits and waits for "ready". Returns 0 or -1 with error. */
static int converter_client_handshake(pp_converter_client_t *c,
				      const pp_converter_limits_t *limits, char *error,
				      size_t error_size)
{
	char *text = converter_limits_encode(limits, error, error_size);
	if (text == NULL)
		return -1;
	int rc = converter_send(c->fd, text, error, error_size);
	free(text);
	if (rc < 0)
		return -1;
	char *buf = malloc(CONVERTER_MESSAGE_MAX + 2);
	if (buf == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	size_t len = 0;
	bool is_timeout = false;
	pid_t pid = 0;
	rc = converter_recv(c->fd, buf, CONVERTER_MESSAGE_MAX + 2, CONVERTER_START_TIMEOUT_MS, &len,
			    &is_timeout, error, error_size);
	if (rc == 0)
		(void)str_format(error, error_size, "it ended before it was ready (see its log "
						    "lines above)");
	if (rc > 0 && converter_ready_decode(buf, len, &pid, error, error_size) == 0 &&
	    pid != c->pid) {
		(void)str_format(error, error_size, "it says it is process %ld, not %ld", (long)pid,
				 (long)c->pid);
		rc = -1;
	}
	free(buf);
	return rc > 0 && pid == c->pid ? 0 : -1;
}

int converter_client_start(pp_converter_client_t *c, const pp_converter_limits_t *limits,
			   char *error, size_t error_size)
{
	converter_client_stop(c);
	char home[PATH_MAX + 8];
	if (!str_format(home, sizeof(home), "HOME=%s", limits->office_profile_dir)) {
		(void)str_format(error, error_size, "the office profile path is too long");
		return -1;
	}
	/* What LibreOffice needs, and nothing of the broker's environment (a database URL, a
	 * password in PGPASSWORD, a key path). */
	char *const envp[] = {home, (char *)(uintptr_t) "LANG=C.UTF-8",
			      (char *)(uintptr_t) "PATH=/usr/bin:/bin", NULL};
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		(void)str_format(error, error_size, "socketpair failed: %s", strerror(errno));
		return -1;
	}
	/* dup2 onto the same number would keep FD_CLOEXEC, and 0-2 are replaced before the
	 * dup2 (a broker started with them closed): move the child's end above 3. */
	if (sv[1] <= CONVERTER_FD) {
		int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, CONVERTER_FD + 1);
		if (moved < 0) {
			(void)str_format(error, error_size, "fcntl failed: %s", strerror(errno));
			(void)close(sv[0]);
			(void)close(sv[1]);
			return -1;
		}
		(void)close(sv[1]);
		sv[1] = moved;
	}
	c->pid = 0;
	int rc = converter_client_spawn(c, sv[1], envp);
	if (close(sv[1]) < 0)
		log_warn("convert: close(converter socket) failed: %s", strerror(errno));
	if (rc != 0) {
		(void)str_format(error, error_size, "cannot start the converter %s: %s",
				 c->program, strerror(rc));
		(void)close(sv[0]);
		c->pid = 0;
		return -1;
	}
	c->fd = sv[0];
	c->is_running = true;
	c->starts++;

	char why[512];
	if (converter_client_handshake(c, limits, why, sizeof(why)) < 0) {
		(void)str_format(error, error_size, "the converter %s did not start: %s",
				 c->program, why);
		pp_sandbox_result_t ignored;
		converter_client_kill(c, false, 0, &ignored);
		return -1;
	}
	/* The sandbox stops a document after its own timeouts; past these (and LibreOffice's
	 * start) the converter itself is stuck. */
	unsigned wall = limits->render.wall_seconds;
	if (limits->exec.wall_seconds > wall)
		wall = limits->exec.wall_seconds;
	if (limits->office_timeout_s > wall)
		wall = limits->office_timeout_s;
	c->reply_timeout_ms =
		wall == 0 || wall > 1000000 ? -1 : (int)(2 * wall + CONVERTER_REPLY_MARGIN_S) * 1000;
	log_debug("convert: converter %ld started", (long)c->pid);
	return 0;
}

int converter_client_call(pp_converter_client_t *c, pp_converter_request_t *req,
			  pp_converter_reply_t *reply_r, char *error, size_t error_size)
{
	memset(reply_r, 0, sizeof(*reply_r));
	if (!c->is_running) {
		(void)str_format(error, error_size, "the converter is not running");
		return -1;
	}
	req->id = c->next_id++;
	char *text = converter_request_encode(req, error, error_size);
	if (text == NULL)
		return -1;
	char why[512];
	int rc = converter_send(c->fd, text, why, sizeof(why));
	free(text);
	if (rc < 0) {
		/* It died between requests: nothing of this one was done. */
		(void)str_format(error, error_size, "the converter is gone: %s", why);
		converter_client_kill(c, false, 0, &reply_r->result);
		memset(reply_r, 0, sizeof(*reply_r));
		return -1;
	}
	char *buf = malloc(CONVERTER_MESSAGE_MAX + 2);
	if (buf == NULL) {
		(void)str_format(error, error_size, "out of memory");
		converter_client_kill(c, false, 0, &reply_r->result);
		memset(reply_r, 0, sizeof(*reply_r));
		return -1;
	}
	size_t len = 0;
	bool is_timeout = false;
	why[0] = '\0';
	rc = converter_recv(c->fd, buf, CONVERTER_MESSAGE_MAX + 2, c->reply_timeout_ms, &len,
			    &is_timeout, why, sizeof(why));
	if (rc == 0)
		(void)str_copy(why, sizeof(why), "it closed the socket");
	if (rc > 0) {
		if (converter_reply_decode(buf, len, reply_r, why, sizeof(why)) < 0) {
			rc = -1;
		} else if (reply_r->id != req->id) {
			(void)str_format(why, sizeof(why), "it answered request %llu, not %llu",
					 (unsigned long long)reply_r->id,
					 (unsigned long long)req->id);
			rc = -1;
		}
	}
	free(buf);
	if (rc <= 0) {
		/* Dead, stuck or talking nonsense: the document is the likeliest cause. A
		 * converter that closed its socket gets a moment to exit, for its status. */
		log_error("convert: the converter failed during a request: %s: it is replaced",
			  why);
		memset(reply_r, 0, sizeof(*reply_r));
		converter_client_kill(c, is_timeout, rc == 0 ? 1000 : 0, &reply_r->result);
		reply_r->id = req->id;
	}
	return 0;
}
