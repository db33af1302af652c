/*
 * sandbox-seccomp.c - the system calls a sandboxed converter may make, per profile.
 *
 * RENDER and EXEC are allow-lists: a call not named here fails with EPERM (code that probes
 * for a feature then takes its fallback), and calls that only an attack needs (ptrace, a
 * network socket, mount, bpf, module loading, execve in RENDER …) kill the whole child with
 * SIGSYS, which the parent reports as a violation. OFFICE (LibreOffice, a large program with
 * threads) is a deny-list on a default of allow. Arguments that the kernel reads as 32-bit
 * are matched so that junk in the upper half cannot dodge a deny rule; allow rules compare
 * the full 64 bits, so junk there fails closed.
 */
#include "sandbox-private.h"

#include "lib/str.h"

#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* API level 3 (Linux 4.14) can kill the whole process. Below it, or where the seccomp()
 * call itself is missing (valgrind), only the offending thread is killed: in a child that
 * started a decoder thread the rest then waits for the wall clock, which still ends it. */
static uint32_t seccomp_kill_action(void)
{
	return seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_KILL;
}

/* clone() flags that make new namespaces (CLONE_NEWTIME only exists for clone3/unshare). */
#define SANDBOX_CLONE_NS_FLAGS                                                                     \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |  \
	            CLONE_NEWPID | CLONE_NEWNET))

/* A thread: CLONE_THREAD set (the kernel then requires CLONE_SIGHAND and CLONE_VM, so it
 * shares this process's memory, filter and limits) and no namespace flag. */
#define SANDBOX_CLONE_THREAD_MASK ((uint64_t)CLONE_THREAD | SANDBOX_CLONE_NS_FLAGS)

/* What malloc-heavy C code (MuPDF, image and text work) needs; threads are allowed below. */
/* clang-format off */
static const char *const render_allow[] = {
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek",
	"open", "openat", "close", "fstat", "stat", "lstat", "newfstatat", "statx", "access",
	"faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd", "mkdir",
	"mkdirat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "rmdir", "ftruncate",
	"fsync", "fdatasync", "fadvise64", "fcntl", "dup", "dup2", "dup3", "umask", "mmap",
	"munmap", "mremap", "mprotect", "madvise", "brk", "futex", "set_robust_list",
	"get_robust_list", "rseq", "clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep", "sched_yield", "getrandom", "exit", "exit_group",
	"rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "sigaltstack", "restart_syscall",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getpgrp",
	"uname", "sysinfo", "sched_getaffinity", "getrusage", "times",
};
/* clang-format on */

/* What EXEC adds for fork/exec of Ghostscript (taken from strace -f of gs -dSAFER runs):
 * the dynamic loader's start-up calls, process creation and waiting. */
/* clang-format off */
static const char *const exec_allow[] = {
	"execve", "execveat", "fork", "vfork", "wait4", "waitid", "pipe", "pipe2", "arch_prctl",
	"set_tid_address", "close_range", "poll", "ppoll",
};
/* clang-format on */

/* prctl options Ghostscript and the C library use; any other option fails with EPERM. */
static const int exec_prctl_options[] = {
    PR_CAPBSET_READ, PR_GET_DUMPABLE, PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG,
};

/* Calls only an attack needs: they kill the child in every profile. */
/* clang-format off */
static const char *const kill_always[] = {
	"ptrace", "mount", "umount2", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "bpf", "process_vm_readv", "process_vm_writev",
	"open_by_handle_at", "pivot_root", "chroot", "reboot", "swapon", "swapoff", "setns",
	"unshare", "iopl", "ioperm", "fsopen", "fsmount", "fsconfig", "fspick", "move_mount",
	"open_tree", "mount_setattr", "acct", "quotactl", "uselib",
};
/* clang-format on */

/* What RENDER kills on top: running any program. */
/* clang-format off */
static const char *const render_kill[] = {
	"execve", "execveat",
};
/* clang-format on */

/* OFFICE: denied with EPERM (a program may probe these and cope with a refusal). */
/* clang-format off */
static const char *const office_eperm[] = {
	"perf_event_open", "keyctl", "add_key", "request_key", "personality", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register", "setsid", "setpgid", "setrlimit",
	"settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "sethostname",
	"setdomainname", "vhangup", "kcmp", "name_to_handle_at", "lookup_dcookie",
};
/* clang-format on */

/* Adds one rule for name with count argument comparisons. A name the running architecture
 * does not have is skipped (nothing to allow or deny). */
static int seccomp_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned count,
                        const struct scmp_arg_cmp *args, char *error, size_t error_size)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr < 0)
		return 0;
	int rc = seccomp_rule_add_array(ctx, action, nr, count, args);
	if (rc < 0) {
		(void)str_format(error, error_size, "seccomp rule for %s failed: %s", name,
		                 strerror(-rc));
		return -1;
	}
	return 0;
}

/* Adds an argument-free rule for each name. */
static int seccomp_rules(scmp_filter_ctx ctx, uint32_t action, const char *const *names,
                         size_t count, char *error, size_t error_size)
{
	for (size_t i = 0; i < count; i++)
		if (seccomp_rule(ctx, action, names[i], 0, NULL, error, error_size) < 0)
			return -1;
	return 0;
}

/* One argument comparison. libseccomp's SCMP_An_64 macros leave datum_b out, which clang's
 * -Wmissing-field-initializers rejects; this names every field. */
static struct scmp_arg_cmp seccomp_arg(unsigned int arg, enum scmp_compare op, uint64_t datum_a,
				       uint64_t datum_b)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = datum_a, .datum_b = datum_b};
}

/* Sockets: only AF_UNIX may be asked for. Another family gets deny_action. The comparison is
 * on all 64 bits, so a family with junk in the upper half is denied as well. */
static int seccomp_socket_rule(scmp_filter_ctx ctx, uint32_t deny_action, char *error,
                               size_t error_size)
{
	struct scmp_arg_cmp not_unix = seccomp_arg(0, SCMP_CMP_NE, (uint64_t)AF_UNIX, 0);
	return seccomp_rule(ctx, deny_action, "socket", 1, &not_unix, error, error_size);
}

/* RENDER and EXEC: the allow-list, the kill-list and the calls allowed with some arguments. */
static int seccomp_add_allow_list(scmp_filter_ctx ctx, uint32_t kill_action, bool exec, char *error,
                                  size_t error_size)
{
	uint64_t self = (uint64_t)getpid();
	if (seccomp_rules(ctx, SCMP_ACT_ALLOW, render_allow, ARRAY_SIZE(render_allow), error,
	                  error_size) < 0 ||
	    seccomp_rules(ctx, kill_action, kill_always, ARRAY_SIZE(kill_always), error,
	                  error_size) < 0 ||
	    seccomp_socket_rule(ctx, kill_action, error, error_size) < 0)
		return -1;

	/* isatty() asks TCGETS; nothing else on a descriptor is needed. */
	struct scmp_arg_cmp tcgets = seccomp_arg(1, SCMP_CMP_EQ, (uint64_t)TCGETS, 0);
	/* getrlimit() is prlimit64 without a new limit: reading is fine, raising is not. */
	struct scmp_arg_cmp no_new_limit = seccomp_arg(2, SCMP_CMP_EQ, 0, 0);
	/* Signals only to this process (raise, abort), never to other sandboxed children that
	 * share the user. */
	struct scmp_arg_cmp to_self = seccomp_arg(0, SCMP_CMP_EQ, self, 0);
	if (seccomp_rule(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &tcgets, error, error_size) < 0 ||
	    seccomp_rule(ctx, SCMP_ACT_ALLOW, "prlimit64", 1, &no_new_limit, error, error_size) <
	        0 ||
	    seccomp_rule(ctx, SCMP_ACT_ALLOW, "kill", 1, &to_self, error, error_size) < 0 ||
	    seccomp_rule(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &to_self, error, error_size) < 0)
		return -1;
	/* clone3 passes its flags in memory, out of the filter's sight: ENOSYS makes the C
	 * library fall back to clone(), whose flags can be checked. */
	if (seccomp_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, error, error_size) < 0)
		return -1;

	if (!exec) {
		/* Threads, never processes: libde265 (HEIC) decodes on a worker thread and
		 * waits for it forever when pthread_create() fails. Any other clone() gets the
		 * default EPERM; fork and vfork are not allowed at all. */
		struct scmp_arg_cmp thread = seccomp_arg(0, SCMP_CMP_MASKED_EQ,
		                                         SANDBOX_CLONE_THREAD_MASK,
		                                         (uint64_t)CLONE_THREAD);
		if (seccomp_rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &thread, error, error_size) < 0)
			return -1;
		return seccomp_rules(ctx, kill_action, render_kill, ARRAY_SIZE(render_kill), error,
		                     error_size);
	}

	if (seccomp_rules(ctx, SCMP_ACT_ALLOW, exec_allow, ARRAY_SIZE(exec_allow), error,
	                  error_size) < 0)
		return -1;
	/* New processes, but no new namespaces. */
	struct scmp_arg_cmp no_ns = seccomp_arg(0, SCMP_CMP_MASKED_EQ, SANDBOX_CLONE_NS_FLAGS, 0);
	if (seccomp_rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &no_ns, error, error_size) < 0)
		return -1;
	/* kill(0, …) reaches only the sandbox's own process group. */
	struct scmp_arg_cmp own_group = seccomp_arg(0, SCMP_CMP_EQ, 0, 0);
	if (seccomp_rule(ctx, SCMP_ACT_ALLOW, "kill", 1, &own_group, error, error_size) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(exec_prctl_options); i++) {
		struct scmp_arg_cmp option =
		    seccomp_arg(0, SCMP_CMP_EQ, (uint64_t)exec_prctl_options[i], 0);
		if (seccomp_rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, &option, error, error_size) < 0)
			return -1;
	}
	return 0;
}

/* OFFICE: everything not denied here is allowed. */
static int seccomp_add_deny_list(scmp_filter_ctx ctx, uint32_t kill_action, char *error,
                                 size_t error_size)
{
	if (seccomp_rules(ctx, kill_action, kill_always, ARRAY_SIZE(kill_always), error,
	                  error_size) < 0 ||
	    seccomp_rules(ctx, SCMP_ACT_ERRNO(EPERM), office_eperm, ARRAY_SIZE(office_eperm), error,
	                  error_size) < 0 ||
	    seccomp_socket_rule(ctx, SCMP_ACT_ERRNO(EACCES), error, error_size) < 0)
		return -1;
	if (seccomp_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, error, error_size) < 0)
		return -1;
	/* No new namespaces through clone() (unshare and setns already kill). */
	static const uint64_t ns_flags[] = {
	    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
	};
	for (size_t i = 0; i < ARRAY_SIZE(ns_flags); i++) {
		struct scmp_arg_cmp has_flag =
		    seccomp_arg(0, SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		if (seccomp_rule(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &has_flag, error,
		                 error_size) < 0)
			return -1;
	}
	/* Limits may be read, not raised (root without a user switch could raise them). */
	struct scmp_arg_cmp new_limit = seccomp_arg(2, SCMP_CMP_NE, 0, 0);
	if (seccomp_rule(ctx, SCMP_ACT_ERRNO(EPERM), "prlimit64", 1, &new_limit, error,
	                 error_size) < 0)
		return -1;
	/* Typing into the terminal the worker was started from. */
	static const uint64_t tty_requests[] = {TIOCSTI, TIOCLINUX};
	for (size_t i = 0; i < ARRAY_SIZE(tty_requests); i++) {
		struct scmp_arg_cmp request =
		    seccomp_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_requests[i]);
		if (seccomp_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &request, error,
		                 error_size) < 0)
			return -1;
	}
	return 0;
}

int sandbox_seccomp_load(pp_sandbox_profile_t profile, char *error, size_t error_size)
{
	bool office = (profile == SANDBOX_PROFILE_OFFICE);
	uint32_t kill_action = seccomp_kill_action();
	scmp_filter_ctx ctx = seccomp_init(office ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL) {
		(void)str_format(error, error_size,
		                 "seccomp_init failed: out of memory or libseccomp unusable");
		return -1;
	}
	int rc = 0;
	/* Calls of another ABI (i386 int 0x80, x32) would bypass every rule: kill them. */
	int attr_rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill_action);
	if (attr_rc < 0) {
		(void)str_format(error, error_size, "seccomp_attr_set(BADARCH) failed: %s",
		                 strerror(-attr_rc));
		rc = -1;
	}
	if (rc == 0) {
		switch (profile) {
		case SANDBOX_PROFILE_RENDER:
			rc = seccomp_add_allow_list(ctx, kill_action, false, error, error_size);
			break;
		case SANDBOX_PROFILE_EXEC:
			rc = seccomp_add_allow_list(ctx, kill_action, true, error, error_size);
			break;
		case SANDBOX_PROFILE_OFFICE:
			rc = seccomp_add_deny_list(ctx, kill_action, error, error_size);
			break;
		default:
			(void)str_format(error, error_size, "unknown sandbox profile %d",
			                 (int)profile);
			rc = -1;
			break;
		}
	}
	if (rc == 0) {
		int load_rc = seccomp_load(ctx);
		if (load_rc < 0) {
			(void)str_format(error, error_size,
			                 "seccomp_load failed: %s (the kernel needs "
			                 "CONFIG_SECCOMP_FILTER)",
			                 strerror(-load_rc));
			rc = -1;
		}
	}
	seccomp_release(ctx);
	return rc;
}
