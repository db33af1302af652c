/*
 * sandbox-enter.c - confining the calling process, step by step, for good.
 *
 * The order matters: the session and cwd while we may still enter a root-only directory;
 * rlimits before anything can allocate much; the network namespace before the user switch
 * (creating one needs root, or a user namespace that a later setuid could not leave); the
 * user switch before the process limit (RLIMIT_NPROC counts the processes of the real user,
 * so it only bites once that user is the unprivileged one); no_new_privs and the seccomp
 * filter last, since the filter forbids the calls the earlier steps make.
 */
#include "sandbox-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* RLIMIT_NPROC once the user is switched: the kernel counts every thread and process of the
 * converter user against it, across all workers and the office host. Enough for Ghostscript
 * (EXEC) and decoder threads (RENDER) in a few workers at once, too few for a fork or thread
 * bomb to hurt the host. RENDER cannot make a process at all (the filter refuses). */
#define SANDBOX_NPROC 256
/* SIGXCPU comes at the soft CPU limit; the hard limit, this much later, sends SIGKILL to a
 * child that ignores it. */
#define SANDBOX_CPU_GRACE_S 5

/* A new session: its own process group (the parent kills the group on timeout) and no
 * controlling terminal (no /dev/tty to type into). */
static int enter_session(char *error, size_t error_size)
{
	if (getsid(0) == getpid())
		return 0;
	if (setsid() < 0) {
		(void)str_format(error, error_size, "setsid failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Sets one limit, soft and hard; a hard limit lower than asked (set by whoever started us)
 * is kept, since it is only tighter. */
static int enter_rlimit(int resource, const char *name, uint64_t soft, uint64_t hard, char *error,
                        size_t error_size)
{
	struct rlimit now;
	if (getrlimit(resource, &now) < 0) {
		(void)str_format(error, error_size, "getrlimit(%s) failed: %s", name,
		                 strerror(errno));
		return -1;
	}
	struct rlimit lim = {.rlim_cur = (rlim_t)soft, .rlim_max = (rlim_t)hard};
	if (now.rlim_max != RLIM_INFINITY && lim.rlim_max > now.rlim_max)
		lim.rlim_max = now.rlim_max;
	if (lim.rlim_cur > lim.rlim_max)
		lim.rlim_cur = lim.rlim_max;
	if (setrlimit(resource, &lim) < 0) {
		(void)str_format(error, error_size, "setrlimit(%s, %llu) failed: %s", name,
		                 (unsigned long long)soft, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * AddressSanitizer reserves terabytes of address space for its shadow memory, so under an
 * address-space limit every mapping of a sanitized child fails. Sanitizer builds (the test
 * suite's) leave RLIMIT_AS out; release builds always set it.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_HAS_AS_LIMIT 0
#else
#define SANDBOX_HAS_AS_LIMIT 1
#endif

/* The limits that do not depend on the user (all but RLIMIT_NPROC). */
static int enter_rlimits(const pp_sandbox_limits_t *limits, char *error, size_t error_size)
{
	if (SANDBOX_HAS_AS_LIMIT && limits->address_space_bytes > 0 &&
	    enter_rlimit(RLIMIT_AS, "RLIMIT_AS", limits->address_space_bytes,
	                 limits->address_space_bytes, error, error_size) < 0)
		return -1;
	if (limits->cpu_seconds > 0 &&
	    enter_rlimit(RLIMIT_CPU, "RLIMIT_CPU", limits->cpu_seconds,
	                 limits->cpu_seconds + SANDBOX_CPU_GRACE_S, error, error_size) < 0)
		return -1;
	if (limits->file_size_bytes > 0 &&
	    enter_rlimit(RLIMIT_FSIZE, "RLIMIT_FSIZE", limits->file_size_bytes,
	                 limits->file_size_bytes, error, error_size) < 0)
		return -1;
	if (limits->open_files > 0 &&
	    enter_rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", limits->open_files, limits->open_files,
	                 error, error_size) < 0)
		return -1;
	/* A core dump would copy the document's contents to wherever cores go. */
	return enter_rlimit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0, error, error_size);
}

/* A network namespace has only a loopback device that is down: nothing to reach. When the
 * kernel refuses, the seccomp filter still forbids network sockets, so we go on and say so. */
static void enter_network(bool will_switch_user)
{
	if (unshare(CLONE_NEWNET) == 0)
		return;
	int first_errno = errno;
	/* Without root, a user namespace grants the right to make a network namespace; a later
	 * setuid could not map its user there, so this is only tried without a user switch. */
	if (!will_switch_user && unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
		return;
	log_warn("sandbox.network_not_isolated error=\"%s\" hint=\"run the converter as root or "
	         "allow unprivileged user namespaces; sockets stay blocked by seccomp\"",
	         strerror(first_errno));
}

/* setgroups, setgid, setuid, each checked, then proof that root cannot be regained. */
static int enter_user(uid_t uid, gid_t gid, char *error, size_t error_size)
{
	if (uid == 0 || gid == 0) {
		(void)str_format(error, error_size,
		                 "the converter user must not be root (uid %u, gid %u): set "
		                 "convert_user to a system user such as pullprint-convert",
		                 (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (setgroups(0, NULL) < 0) {
		(void)str_format(error, error_size, "setgroups(0) failed: %s", strerror(errno));
		return -1;
	}
	if (setgid(gid) < 0) {
		(void)str_format(error, error_size, "setgid(%u) failed: %s", (unsigned)gid,
		                 strerror(errno));
		return -1;
	}
	if (setuid(uid) < 0) {
		(void)str_format(error, error_size, "setuid(%u) failed: %s", (unsigned)uid,
		                 strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid) {
		(void)str_format(error, error_size,
		                 "dropping to uid %u failed: root can still be regained",
		                 (unsigned)uid);
		return -1;
	}
	/* Not dumpable: another child of the same user cannot read this one's memory through
	 * /proc/<pid>/mem (setuid already did this; say it rather than rely on it). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		(void)str_format(error, error_size, "prctl(PR_SET_DUMPABLE) failed: %s",
		                 strerror(errno));
		return -1;
	}
	return 0;
}

/* Limits hold only when their signals end the process: undo an inherited ignore or block. */
static int enter_signals(char *error, size_t error_size)
{
	static const int sigs[] = {SIGXCPU, SIGXFSZ, SIGSYS, SIGSEGV, SIGBUS, SIGABRT};
	sigset_t set;
	if (sigemptyset(&set) < 0) {
		(void)str_format(error, error_size, "sigemptyset failed: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (signal(sigs[i], SIG_DFL) == SIG_ERR || sigaddset(&set, sigs[i]) < 0) {
			(void)str_format(error, error_size, "resetting signal %d failed: %s",
			                 sigs[i], strerror(errno));
			return -1;
		}
	}
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) < 0) {
		(void)str_format(error, error_size, "sigprocmask failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int sandbox_enter(const pp_sandbox_limits_t *limits, const char *work_dir, char *error,
                  size_t error_size)
{
	if (enter_session(error, error_size) < 0)
		return -1;
	/* Files the child makes are its own and nobody else's. */
	(void)umask(077);
	if (work_dir != NULL && chdir(work_dir) < 0) {
		(void)str_format(error, error_size, "chdir(%s) failed: %s", work_dir,
		                 strerror(errno));
		return -1;
	}
	if (enter_signals(error, error_size) < 0 || enter_rlimits(limits, error, error_size) < 0)
		return -1;

	bool switch_user = limits->switch_user && geteuid() == 0;
	if (limits->isolate_network)
		enter_network(switch_user);
	if (switch_user && enter_user(limits->uid, limits->gid, error, error_size) < 0)
		return -1;

	/* The child must not outlive whoever runs it: if the worker is killed, the kernel kills
	 * the child too (and so the Ghostscript it runs, see sandbox-exec.c) instead of letting
	 * a hostile document burn its CPU limit unwatched. Set after the user switch, which
	 * clears it; a parent already gone by then has left us to init. */
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
		(void)str_format(error, error_size, "prctl(PR_SET_PDEATHSIG) failed: %s",
		                 strerror(errno));
		return -1;
	}
	if (parent == 1) {
		(void)str_format(error, error_size, "the process that started this one is gone");
		return -1;
	}

	/* A bound on the converter user's threads and processes, once we run as that user
	 * (root is not held to RLIMIT_NPROC, and without a switch the count would include the
	 * user's own login processes). Not 0 for RENDER: the limit counts threads too, and
	 * libde265 hangs when it cannot start its decoder thread; the filter keeps RENDER from
	 * making processes. */
	if ((limits->profile == SANDBOX_PROFILE_RENDER || limits->profile == SANDBOX_PROFILE_EXEC) &&
	    switch_user &&
	    enter_rlimit(RLIMIT_NPROC, "RLIMIT_NPROC", SANDBOX_NPROC, SANDBOX_NPROC, error,
	                 error_size) < 0)
		return -1;

	/* No setuid binary, file capability or LSM transition can give back what was dropped. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		(void)str_format(error, error_size, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s",
		                 strerror(errno));
		return -1;
	}
	return sandbox_seccomp_load(limits->profile, error, error_size);
}
