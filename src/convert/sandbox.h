/*
 * sandbox.h - running untrusted document parsing in a locked-down child process.
 *
 * sandbox_run() forks a child in its own process group, applies the limits below
 * (sandbox_enter()), calls fn there and reports how the child ended. The parent never
 * parses anything: data comes back as files the child wrote into its private temporary
 * directory (sandbox_tmpdir_make()), which the caller reads defensively and wipes.
 *
 * What the child gets, in this order (each step is documented in docs/security.md with what
 * it stops): a new session/process group; rlimits (address space, CPU seconds, file size,
 * open files, no core dumps, no new processes unless the profile execs); a new network
 * namespace where the kernel allows (else: logged once, the seccomp filter still forbids
 * network sockets); its own user (switch_user: setgroups/setgid/setuid to uid/gid, only when
 * running as root); PR_SET_NO_NEW_PRIVS; a seccomp filter (libseccomp) for the profile.
 * cwd = the temporary directory is set first, before the user switch, so that a base
 * directory that only root may enter (0700) still works: fn opens its files by paths
 * relative to cwd, never by absolute paths under the base. The parent kills the whole
 * process group when wall_seconds pass.
 */
#ifndef PP_SANDBOX_H
#define PP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SANDBOX_MESSAGE_MAX 512

typedef enum {
	/* MuPDF, image and text work in-process: no execve, no sockets at all. */
	SANDBOX_PROFILE_RENDER = 0,
	/* Like RENDER, plus execve/fork for Ghostscript (gs -dSAFER). */
	SANDBOX_PROFILE_EXEC,
	/* LibreOffice: a broad allow-list (threads, mmap, AF_UNIX socketpair), but no network
	 * sockets (AF_INET/AF_INET6/AF_NETLINK/AF_PACKET), no ptrace, mount, kexec, bpf … */
	SANDBOX_PROFILE_OFFICE,
} pp_sandbox_profile_t;

typedef struct {
	pp_sandbox_profile_t profile;
	uint64_t address_space_bytes; /* RLIMIT_AS; 0 = unlimited */
	uint64_t cpu_seconds;         /* RLIMIT_CPU; 0 = unlimited */
	uint64_t file_size_bytes;     /* RLIMIT_FSIZE; 0 = unlimited */
	uint64_t open_files;          /* RLIMIT_NOFILE; 0 = leave */
	unsigned wall_seconds;        /* sandbox_run(): kill the group after this; 0 = never */
	bool isolate_network;         /* try unshare(CLONE_NEWNET) */
	bool switch_user;             /* only honoured when running as root */
	uid_t uid;
	gid_t gid;
} pp_sandbox_limits_t;

/* How a sandboxed child ended. */
typedef enum {
	SANDBOX_OK = 0,    /* fn returned 0 */
	SANDBOX_FAILED,    /* fn returned an error: message holds it (user-facing) */
	SANDBOX_TIMEOUT,   /* wall_seconds passed: the group was killed */
	SANDBOX_LIMIT,     /* a resource limit ended it: SIGXCPU, SIGXFSZ, out of memory */
	SANDBOX_VIOLATION, /* the seccomp filter killed it (SIGSYS) */
	SANDBOX_CRASHED,   /* another signal, or an exit without a report */
} pp_sandbox_outcome_t;

typedef struct {
	pp_sandbox_outcome_t outcome;
	int signal;                         /* the signal that ended the child, or 0 */
	double elapsed_s;
	char message[SANDBOX_MESSAGE_MAX]; /* always a sentence a user understands */
} pp_sandbox_result_t;

/*
 * Fills limits with the defaults: RENDER, 2 GiB address space, 60 s CPU, 512 MiB files,
 * 64 open files, 120 s wall clock, network isolated, user switch off.
 */
void sandbox_limits_default(pp_sandbox_limits_t *limits);

/*
 * Looks up a system user for switch_user (getpwnam_r). Returns 0 with limits->uid/gid set and
 * switch_user true, or -1 with error (the user does not exist: say how to create it).
 */
int sandbox_limits_set_user(pp_sandbox_limits_t *limits, const char *user, char *error,
			    size_t error_size);

/*
 * In the calling (child) process: applies everything in the file comment except the
 * wall-clock timer, with cwd = work_dir (may be NULL: cwd unchanged). Irreversible. Used by
 * sandbox_run() and by long-lived sandboxed helpers (the office host). Returns 0, or -1 with
 * error (the caller must then _exit: never run untrusted work half-confined).
 */
int sandbox_enter(const pp_sandbox_limits_t *limits, const char *work_dir, char *error,
		  size_t error_size);

/*
 * Runs in the child. Returns 0 on success, or -1 with a user-facing message in error
 * ("This PDF is protected by a password: remove it and send the document again.").
 * It may instead return SANDBOX_FN_LIMIT (outcome LIMIT: it stopped because a resource limit
 * was reached, e.g. an allocation failed under the address-space limit) or
 * SANDBOX_FN_VIOLATION (outcome VIOLATION: a program it ran was killed by the filter), both
 * with a user-facing message; sandbox_exec_wait() returns these so fn can pass them on.
 * A plain -1 is always FAILED: the sandbox never guesses an outcome from the text.
 */
#define SANDBOX_FN_LIMIT (-2)
#define SANDBOX_FN_VIOLATION (-3)
typedef int (*pp_sandbox_fn)(void *ctx, char *error, size_t error_size);

/*
 * Forks, enters the sandbox in work_dir, runs fn(ctx, …), and waits at most
 * limits->wall_seconds (then kills the process group). Fills *result_r. Returns 0 when the
 * child ran (whatever its outcome), -1 with error when it could not be started.
 * Safe to call from several threads at once (no global state, CLOEXEC everywhere), but it
 * forks: fn runs in a copy of the caller in which only the calling thread exists, so no other
 * thread may hold a lock fn needs (malloc's are reset by fork; the worker is single-threaded).
 * The caller must not ignore SIGCHLD (the child is reaped with wait4()).
 */
int sandbox_run(const pp_sandbox_limits_t *limits, const char *work_dir, pp_sandbox_fn fn,
		void *ctx, pp_sandbox_result_t *result_r, char *error, size_t error_size);

/*
 * In a sandboxed child of PROFILE_EXEC: runs argv[0] (an absolute path) with argv and an empty
 * environment (plus envp when not NULL), waits for it, and returns 0 when it exited 0, or -1
 * with error naming how it ended (its last stderr line, at most 200 bytes, when it wrote one).
 * When SIGXCPU/SIGXFSZ ended it the return is SANDBOX_FN_LIMIT, when the seccomp filter
 * killed it (SIGSYS) SANDBOX_FN_VIOLATION (see pp_sandbox_fn). Its stdin and stdout are the
 * caller's (in sandbox_run(): /dev/null and the worker's stdout). Set TMPDIR in envp to a
 * directory under cwd: the child shares the host's file system.
 */
int sandbox_exec_wait(const char *const argv[], const char *const envp[], char *error,
		      size_t error_size);

/*
 * Makes a private temporary directory under base (mode 0700, owned by limits' user when
 * switch_user), filling path_r[path_size]. Returns 0 or -1.
 */
int sandbox_tmpdir_make(const char *base, const pp_sandbox_limits_t *limits, char *path_r,
			size_t path_size, char *error, size_t error_size);

/* Removes dir and everything under it (no symlinks followed). Returns 0 or -1. */
int sandbox_tmpdir_wipe(const char *dir, char *error, size_t error_size);

/* A short English name of outcome ("timeout"). Static. */
const char *sandbox_outcome_name(pp_sandbox_outcome_t outcome);

#endif
