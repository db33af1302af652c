/*
 * office-client.c - the worker's side of the office host: starts it, hands it one document
 * at a time, waits at most timeout_s for each, and kills and restarts it when it hangs,
 * dies, failed on a document or has served max_documents documents (see office.h).
 * Spreadsheets do not go to the host: they are recognised by content and converted by a
 * headless soffice run (office-sheet.c).
 *
 * The host is forked, not executed: it needs nothing but this library and LibreOffice. Fork
 * from a thread while no other thread holds a lock the host needs (the converter worker is
 * single-threaded; the host takes only the C library's malloc, which fork() makes safe).
 */
#include "convert/office/office-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* LibreOffice opens fonts, libraries and its own pipes: far more than a parser's 64. */
#define OFFICE_MIN_OPEN_FILES 1024u
/* How long a host that closed its socket gets to finish exiting before it is killed. */
#define OFFICE_EXIT_WAIT_MS 5000

struct pp_office {
	char program_dir[PATH_MAX];
	char profile_dir[PATH_MAX];
	unsigned max_documents;
	unsigned timeout_s;
	pp_sandbox_limits_t limits;
	pid_t pid;       /* the host (leader of its process group), 0 when none runs */
	int sock;        /* the worker's end of the socketpair, -1 when none */
	unsigned documents_done;
};

bool office_available(const char *program_dir)
{
	char library[PATH_MAX];
	if (!str_format(library, sizeof(library), "%s/libmergedlo.so",
			program_dir != NULL ? program_dir : OFFICE_DEFAULT_PROGRAM_DIR))
		return false;
	struct stat st;
	return stat(library, &st) == 0 && S_ISREG(st.st_mode) && access(library, R_OK) == 0;
}

/* Monotonic seconds. */
static double office_now_s(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps for ms milliseconds (EINTR cut short is fine: callers loop). */
static void office_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	(void)nanosleep(&ts, NULL);
}

/*
 * Ends the host: kills its process group while the leader is still unreaped (so the group's
 * id cannot have been reused), then reaps it. When kill_first is false the host is given
 * OFFICE_EXIT_WAIT_MS to end on its own first (it closed its socket: it is exiting). Fills
 * *status_r (waitpid status) when not NULL and returns true when the host was reaped.
 */
static bool office_host_stop(pp_office_t *office, bool kill_first, int *status_r)
{
	if (office->sock >= 0) {
		if (close(office->sock) != 0)
			log_warn("office.close_failed error=%s", strerror(errno));
		office->sock = -1;
	}
	if (office->pid <= 0)
		return false;
	pid_t pid = office->pid;
	office->pid = 0;
	office->documents_done = 0;
	if (!kill_first) {
		/* WNOWAIT: see that it ended without reaping it yet. */
		for (long waited = 0; waited < OFFICE_EXIT_WAIT_MS; waited += 20) {
			siginfo_t info = { 0 };
			if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    info.si_pid == pid)
				break;
			office_sleep_ms(20);
		}
	}
	/* Whatever the host started in its group goes too; the host itself is killed by pid as
	 * well, in case it had not yet made its group (setsid in sandbox_enter()). */
	if (kill(-pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn("office.kill_failed pid=%d error=%s", (int)pid, strerror(errno));
	if (kill(pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn("office.kill_failed pid=%d error=%s", (int)pid, strerror(errno));
	int status = 0;
	for (;;) {
		pid_t got = waitpid(pid, &status, 0);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			log_error("office.waitpid_failed pid=%d error=%s", (int)pid, strerror(errno));
			return false;
		}
	}
	if (status_r != NULL)
		*status_r = status;
	return true;
}

/* Forks a host and waits for "ready". Returns 0, or -1 with error (nothing left running). */
static int office_host_start(pp_office_t *office, char *error, size_t error_size)
{
	if (office_profile_prepare(office->profile_dir, &office->limits, error, error_size) != 0)
		return -1;
	int pair[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
		str_format(error, error_size, "office: socketpair failed: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		str_format(error, error_size, "office: fork failed: %s", strerror(errno));
		(void)close(pair[0]);
		(void)close(pair[1]);
		return -1;
	}
	if (pid == 0) {
		(void)close(pair[0]);
		office_host_args_t args = {
			.program_dir = office->program_dir,
			.profile_dir = office->profile_dir,
			.limits = &office->limits,
		};
		office_host_main(&args, pair[1]);
	}
	/* The host makes its own session and group in sandbox_enter() (setsid). */
	if (close(pair[1]) != 0)
		log_warn("office.close_failed error=%s", strerror(errno));
	office->pid = pid;
	office->sock = pair[0];
	office->documents_done = 0;

	char reply[OFFICE_FRAME_MAX + 1] = "";
	size_t len;
	office_read_status_t status = office_frame_read(office->sock, OFFICE_START_TIMEOUT_S * 1000,
							reply, sizeof(reply), &len);
	if (status == OFFICE_READ_OK && strcmp(reply, "ready") == 0) {
		log_info("office.started pid=%d", (int)pid);
		return 0;
	}
	int exit_status = 0;
	bool reaped = office_host_stop(office, status != OFFICE_READ_EOF &&
					       !str_has_prefix(reply, "init-failed\n"),
				       &exit_status);
	if (status == OFFICE_READ_OK && str_has_prefix(reply, "init-failed\n")) {
		str_copy(error, error_size, reply + strlen("init-failed\n"));
	} else if (status == OFFICE_READ_TIMEOUT) {
		str_format(error, error_size, "office: LibreOffice did not start within %u s",
			   OFFICE_START_TIMEOUT_S);
	} else if (reaped && WIFSIGNALED(exit_status)) {
		int sig = WTERMSIG(exit_status);
		str_format(error, error_size, "office: the host was killed by signal %d (%s) while "
			   "LibreOffice started%s", sig, strsignal(sig),
			   sig == SIGSYS ? ": the sandbox's OFFICE seccomp filter refused a system "
					   "call LibreOffice needs"
					 : "");
	} else {
		str_format(error, error_size, "office: the host ended while LibreOffice started "
			   "(exit status %d); see the converter's log",
			   reaped && WIFEXITED(exit_status) ? WEXITSTATUS(exit_status) : -1);
	}
	return -1;
}

/*
 * The RLIMIT_NOFILE for the host: at least OFFICE_MIN_OPEN_FILES, but never above the hard
 * limit the worker itself has (raising it fails, and valgrind keeps some of it for itself).
 * 0 stays 0 (leave the limit as it is).
 */
static uint64_t office_open_files(uint64_t wanted)
{
	if (wanted == 0 || wanted >= OFFICE_MIN_OPEN_FILES)
		return wanted;
	struct rlimit current;
	if (getrlimit(RLIMIT_NOFILE, &current) != 0)
		return wanted;
	if (current.rlim_max != RLIM_INFINITY && current.rlim_max < OFFICE_MIN_OPEN_FILES)
		return current.rlim_max > wanted ? current.rlim_max : wanted;
	return OFFICE_MIN_OPEN_FILES;
}

int office_open(const pp_office_config_t *config, pp_office_t **office_r, char *error,
		size_t error_size)
{
	*office_r = NULL;
	const char *program_dir =
		config->program_dir != NULL ? config->program_dir : OFFICE_DEFAULT_PROGRAM_DIR;
	if (config->profile_dir == NULL || config->profile_dir[0] != '/') {
		str_copy(error, error_size, "office: the profile directory must be an absolute path");
		return -1;
	}
	if (!office_available(program_dir)) {
		str_format(error, error_size, "office: no LibreOffice in %s (libmergedlo.so is "
			   "missing): install libreoffice-core-nogui or set [convert] office_dir",
			   program_dir);
		return -1;
	}
	pp_office_t *office = calloc(1, sizeof(*office));
	if (office == NULL) {
		str_copy(error, error_size, "office: out of memory");
		return -1;
	}
	if (!str_copy(office->program_dir, sizeof(office->program_dir), program_dir) ||
	    !str_copy(office->profile_dir, sizeof(office->profile_dir), config->profile_dir)) {
		str_copy(error, error_size, "office: a LibreOffice path is too long");
		free(office);
		return -1;
	}
	office->max_documents =
		config->max_documents != 0 ? config->max_documents : OFFICE_DEFAULT_MAX_DOCUMENTS;
	office->timeout_s = config->timeout_s != 0 ? config->timeout_s : OFFICE_DEFAULT_TIMEOUT_S;
	office->limits = config->limits;
	office->limits.profile = SANDBOX_PROFILE_OFFICE;
	office->limits.wall_seconds = 0; /* the worker times each document itself */
	office->limits.open_files = office_open_files(office->limits.open_files);
	office->sock = -1;
	if (office_host_start(office, error, error_size) != 0) {
		free(office);
		return -1;
	}
	*office_r = office;
	return 0;
}

/* Fills result for a host that ended (status from waitpid) in the middle of a document. */
static void office_result_died(pp_sandbox_result_t *result, bool reaped, int status)
{
	int sig = reaped && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	result->signal = sig;
	if (sig == SIGSYS) {
		result->outcome = SANDBOX_VIOLATION;
		str_copy(result->message, sizeof(result->message),
			 "The converter stopped this document because it tried something not "
			 "allowed while printing. Save it as PDF and send it again.");
	} else if (sig == SIGXCPU || sig == SIGXFSZ) {
		result->outcome = SANDBOX_LIMIT;
		str_copy(result->message, sizeof(result->message),
			 "This document needs more time or space than the converter allows: "
			 "split it or save it as PDF and send it again.");
	} else {
		result->outcome = SANDBOX_CRASHED;
		str_copy(result->message, sizeof(result->message),
			 "LibreOffice failed on this document: it may be damaged. Save it again "
			 "(or as PDF) and send it again.");
	}
}

/* True when path can be sent to the host: absolute, short enough, without a newline. */
static bool office_path_ok(const char *path)
{
	return path != NULL && path[0] == '/' && strlen(path) < PATH_MAX &&
	       strchr(path, '\n') == NULL;
}

/* A spreadsheet through a headless soffice run (office-sheet.c); returns as office_convert. */
static int office_convert_sheet(pp_office_t *office, const char *in_path, const char *out_path,
				pp_sandbox_result_t *result_r, char *error, size_t error_size)
{
	office_sheet_args_t args = {
		.program_dir = office->program_dir,
		.profile_dir = office->profile_dir,
		.limits = &office->limits,
		.timeout_s = office->timeout_s,
	};
	int rc = office_sheet_convert(&args, in_path, out_path, result_r, error, error_size);
	if (rc == 0)
		log_info("office.sheet outcome=%s elapsed_s=%.1f",
			 sandbox_outcome_name(result_r->outcome), result_r->elapsed_s);
	return rc;
}

int office_convert(pp_office_t *office, const char *in_path, const char *out_path,
		   pp_sandbox_result_t *result_r, char *error, size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	if (!office_path_ok(in_path) || !office_path_ok(out_path)) {
		str_copy(error, error_size, "office: document paths must be absolute, shorter than "
			 "PATH_MAX and without newlines");
		return -1;
	}
	char request[OFFICE_FRAME_MAX];
	if (!str_format(request, sizeof(request), "convert\n%s\n%s", in_path, out_path)) {
		str_copy(error, error_size, "office: document paths too long");
		return -1;
	}
	office_sheet_t sheet = office_sheet_sniff(in_path);
	if (sheet == OFFICE_SHEET_YES)
		return office_convert_sheet(office, in_path, out_path, result_r, error, error_size);
	/* A host that served its share, died or was killed is replaced before the request. */
	if (office->pid > 0 && office->documents_done >= office->max_documents) {
		log_info("office.restart pid=%d reason=max_documents documents=%u",
			 (int)office->pid, office->documents_done);
		(void)office_host_stop(office, true, NULL);
	}
	/* A host that died while idle (killed from outside) is replaced before the request:
	 * its socket may still look open when something it started holds the other end. */
	siginfo_t idle_end = {0};
	if (office->pid > 0 &&
	    waitid(P_PID, (id_t)office->pid, &idle_end, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    idle_end.si_pid == office->pid) {
		log_warn("office.host_gone pid=%d reason=died_while_idle", (int)office->pid);
		(void)office_host_stop(office, true, NULL);
	}
	for (int attempt = 0;; attempt++) {
		if (office->pid <= 0 && office_host_start(office, error, error_size) != 0)
			return -1;
		if (office_frame_write(office->sock, request, strlen(request)) == 0)
			break;
		/* The host died while idle (killed from outside): start a new one, once. */
		log_warn("office.host_gone pid=%d error=%s", (int)office->pid, strerror(errno));
		(void)office_host_stop(office, true, NULL);
		if (attempt > 0) {
			str_format(error, error_size, "office: cannot reach a new host: %s",
				   strerror(errno));
			return -1;
		}
	}

	double started = office_now_s();
	char reply[OFFICE_FRAME_MAX + 1];
	size_t len;
	office_read_status_t status = office_frame_read(
		office->sock, (int)(office->timeout_s > 2000000 ? 2000000000 : office->timeout_s * 1000),
		reply, sizeof(reply), &len);
	result_r->elapsed_s = office_now_s() - started;
	if (status == OFFICE_READ_OK && strcmp(reply, "ok") == 0) {
		office->documents_done++;
		result_r->outcome = SANDBOX_OK;
		return 0;
	}
	bool unopened = status == OFFICE_READ_OK && str_has_prefix(reply, "unopened\n");
	if (unopened || (status == OFFICE_READ_OK && str_has_prefix(reply, "failed\n"))) {
		office->documents_done++;
		result_r->outcome = SANDBOX_FAILED;
		if (!str_copy(result_r->message, sizeof(result_r->message),
			      strchr(reply, '\n') + 1))
			str_copy(result_r->message, sizeof(result_r->message),
				 "The document could not be converted.");
		/* A load that failed half-way can leave LibreOffice unable to open the next
		 * document (a spreadsheet whose view could not be built makes the next load
		 * abort the host): the next request gets a fresh host. */
		log_info("office.restart pid=%d reason=failed_document", (int)office->pid);
		(void)office_host_stop(office, true, NULL);
		/* Not loaded, and perhaps a spreadsheet the sniffer could not tell: soffice. */
		if (unopened && sheet == OFFICE_SHEET_UNSURE) {
			log_info("office.sheet_fallback");
			return office_convert_sheet(office, in_path, out_path, result_r, error,
						    error_size);
		}
		return 0;
	}
	if (status == OFFICE_READ_TIMEOUT) {
		log_warn("office.timeout pid=%d timeout_s=%u", (int)office->pid, office->timeout_s);
		(void)office_host_stop(office, true, NULL);
		result_r->outcome = SANDBOX_TIMEOUT;
		result_r->signal = SIGKILL;
		str_format(result_r->message, sizeof(result_r->message),
			   "This document took longer than %u seconds to convert: split it or save "
			   "it as PDF and send it again.", office->timeout_s);
		return 0;
	}
	/* EOF, a broken frame or an unexpected reply: the host is not to be trusted further. */
	pid_t pid = office->pid;
	int exit_status = 0;
	bool reaped = office_host_stop(office, status != OFFICE_READ_EOF, &exit_status);
	office_result_died(result_r, reaped, exit_status);
	log_warn("office.host_died pid=%d signal=%d outcome=%s", (int)pid, result_r->signal,
		 sandbox_outcome_name(result_r->outcome));
	return 0;
}

unsigned office_documents_done(const pp_office_t *office)
{
	return office != NULL ? office->documents_done : 0;
}

void office_close(pp_office_t **office)
{
	if (office == NULL || *office == NULL)
		return;
	(void)office_host_stop(*office, true, NULL);
	free(*office);
	*office = NULL;
}
