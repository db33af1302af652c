/*
 * test-sandbox.c - the converter's sandbox: what a document's child may and may not do, and
 * how each way it ends reaches the user. Limits are tightened so every case ends quickly.
 */
#include "test-support.h"

#include "convert/sandbox.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

#define MIB (UINT64_C(1024) * 1024)
#define CONVERT_USER "pullprint-convert"

/* A test's own base directory and the work directory made in it. Held in arrays, not on
 * the heap: the forked children exit with a copy of this frame, and memcheck would count a
 * heap copy as their leak. */
typedef struct {
	char base[4096];
	char dir[4096];
} test_dirs_t;

static void dirs_make(test_dirs_t *dirs, const pp_sandbox_limits_t *limits)
{
	char error[512];
	char *tmp = test_tmpdir();
	assert_true(str_copy(dirs->base, sizeof(dirs->base), tmp));
	free(tmp);
	char base[4096];
	assert_true(str_format(base, sizeof(base), "%s/convert", dirs->base));
	assert_int_equal(
	    sandbox_tmpdir_make(base, limits, dirs->dir, sizeof(dirs->dir), error, sizeof(error)),
	    0);
}

static void dirs_free(test_dirs_t *dirs)
{
	char error[512];
	assert_int_equal(sandbox_tmpdir_wipe(dirs->dir, error, sizeof(error)), 0);
	test_rmtree(dirs->base);
}

/* Limits for a quick test: a safety-net wall clock, and no address-space limit under memory
 * checkers, which reserve far more address space than they use. */
static void limits_quick(pp_sandbox_limits_t *limits, pp_sandbox_profile_t profile)
{
	sandbox_limits_default(limits);
	limits->profile = profile;
	limits->wall_seconds = 60;
	limits->cpu_seconds = 30;
	if (RUNNING_ON_VALGRIND || TEST_ASAN)
		limits->address_space_bytes = 0;
	/* Valgrind keeps descriptors of its own above the limit and refuses to lower it. */
	if (RUNNING_ON_VALGRIND)
		limits->open_files = 0;
}

/* ---- what fn does in the child ---------------------------------------------------------- */

static int fn_ok(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	(void)error;
	(void)error_size;
	return 0;
}

static int fn_fail(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	(void)str_format(error, error_size,
	                 "This PDF is protected by a password: remove it "
	                 "and send the document again.");
	return -1;
}

static int fn_limit(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	(void)str_format(error, error_size,
	                 "The document's pages need more memory than the "
	                 "converter may use.");
	return SANDBOX_FN_LIMIT;
}

static int fn_busy(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	(void)error;
	(void)error_size;
	for (volatile unsigned long i = 0;; i++)
		;
	return 0;
}

static int fn_socket_inet(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	(void)str_format(error, error_size, "socket(AF_INET) returned %d (%s)", fd,
	                 strerror(errno));
	return -1;
}

static int fn_execve(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	char *const argv[] = {(char *)"/bin/true", NULL};
	char *const envp[] = {NULL};
	(void)execve(argv[0], argv, envp);
	(void)str_format(error, error_size, "execve returned: %s", strerror(errno));
	return -1;
}

static int fn_ptrace(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	long rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	(void)str_format(error, error_size, "ptrace returned %ld", rc);
	return -1;
}

static int fn_write_2mib(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	static char chunk[64 * 1024];
	int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		(void)str_format(error, error_size, "open(big): %s", strerror(errno));
		return -1;
	}
	for (size_t done = 0; done < 2 * MIB; done += sizeof(chunk)) {
		if (fs_write_full(fd, chunk, sizeof(chunk)) < 0) {
			(void)str_format(error, error_size, "write: %s", strerror(errno));
			(void)close(fd);
			return -1;
		}
	}
	(void)close(fd);
	(void)str_format(error, error_size, "wrote 2 MiB past the file size limit");
	return -1;
}

static int fn_malloc_1gib(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	volatile size_t size = 1024 * MIB;
	char *p = malloc(size);
	if (p == NULL) {
		(void)str_format(error, error_size,
		                 "The document needs more memory than the "
		                 "converter may use.");
		return -1;
	}
	free(p);
	return 0;
}

static int fn_office_sockets(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 || errno != EACCES) {
		(void)str_format(error, error_size, "socket(AF_INET) gave %d (%s), not EACCES", fd,
		                 strerror(errno));
		return -1;
	}
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd >= 0 || errno != EACCES) {
		(void)str_format(error, error_size, "socket(AF_INET6) gave %d (%s)", fd,
		                 strerror(errno));
		return -1;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		(void)str_format(error, error_size, "socketpair: %s", strerror(errno));
		return -1;
	}
	char got = 0;
	bool ok = write(sv[0], "x", 1) == 1 && read(sv[1], &got, 1) == 1 && got == 'x';
	(void)close(sv[0]);
	(void)close(sv[1]);
	if (!ok) {
		(void)str_format(error, error_size, "socketpair did not carry a byte");
		return -1;
	}
	return 0;
}

static int fn_fork_must_fail(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		(void)str_format(error, error_size, "fork succeeded in RENDER");
		return -1;
	}
	return 0;
}

static void *thread_mark(void *arg)
{
	*(int *)arg = 1;
	return NULL;
}

/* A thread starts and is joined (decoders such as libde265 need one). */
static int fn_thread_ok(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	int marked = 0;
	pthread_t thread;
	int rc = pthread_create(&thread, NULL, thread_mark, &marked);
	if (rc != 0) {
		(void)str_format(error, error_size, "pthread_create failed: %s", strerror(rc));
		return -1;
	}
	rc = pthread_join(thread, NULL);
	if (rc != 0 || marked != 1) {
		(void)str_format(error, error_size, "pthread_join failed: %s", strerror(rc));
		return -1;
	}
	return 0;
}

static int fn_crash(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	(void)raise(SIGSEGV);
	(void)str_format(error, error_size, "raise(SIGSEGV) returned");
	return -1;
}

static int fn_control_chars(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	(void)str_format(error, error_size, "First line\nSECOND: forged\x01 line");
	return -1;
}

/* The worker's descriptors are gone and stdin reads /dev/null. */
static int fn_fds(void *ctx, char *error, size_t error_size)
{
	int parent_fd = *(const int *)ctx;
	if (fcntl(parent_fd, F_GETFD) >= 0 || errno != EBADF) {
		(void)str_format(error, error_size, "descriptor %d is still open", parent_fd);
		return -1;
	}
	struct stat st;
	if (fstat(STDIN_FILENO, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		(void)str_format(error, error_size, "stdin is not /dev/null");
		return -1;
	}
	return 0;
}

/* The child's network namespace is not the worker's. */
static int fn_netns(void *ctx, char *error, size_t error_size)
{
	const char *parent_ns = ctx;
	char ns[256];
	ssize_t n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
	if (n < 0) {
		(void)str_format(error, error_size, "readlink: %s", strerror(errno));
		return -1;
	}
	ns[n] = '\0';
	if (strcmp(ns, parent_ns) == 0) {
		(void)str_format(error, error_size, "same network namespace %s", ns);
		return -1;
	}
	return 0;
}

/* Runs a program that the EXEC filter kills (unshare): the violation reaches the outcome. */
static int fn_exec_unshare(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	const char *const argv[] = {"/usr/bin/unshare", "--net", "/bin/true", NULL};
	return sandbox_exec_wait(argv, NULL, error, error_size);
}

/* ---- table: fn -> outcome --------------------------------------------------------------- */

typedef void (*tweak_fn)(pp_sandbox_limits_t *limits);

static void tweak_cpu_1s(pp_sandbox_limits_t *limits)
{
	limits->cpu_seconds = 1;
}

static void tweak_fsize_1mib(pp_sandbox_limits_t *limits)
{
	limits->file_size_bytes = 1 * MIB;
}

static void tweak_as_256mib(pp_sandbox_limits_t *limits)
{
	limits->address_space_bytes = 256 * MIB;
}

/* As pullprint-convert when the test runs as root: RLIMIT_NPROC only bites after the switch. */
static void tweak_converter_user(pp_sandbox_limits_t *limits)
{
	char error[512];
	if (geteuid() == 0 && getpwnam(CONVERT_USER) != NULL)
		assert_int_equal(
		    sandbox_limits_set_user(limits, CONVERT_USER, error, sizeof(error)), 0);
}

typedef struct {
	const char *name;
	pp_sandbox_profile_t profile;
	pp_sandbox_fn fn;
	tweak_fn tweak;
	pp_sandbox_outcome_t outcome;
	int signal;
	int signal_also;          /* also accepted (0: none) */
	const char *message_part; /* must appear in result.message */
	bool needs_rlimit_as;     /* meaningless under valgrind and ASan */
	const char *needs_file;   /* skipped when this program is missing */
} run_case_t;

static const run_case_t run_cases[] = {
    {"fn succeeds", SANDBOX_PROFILE_RENDER, fn_ok, NULL, SANDBOX_OK, 0, 0, "converted", false,
     NULL},
    {"fn's error reaches the user", SANDBOX_PROFILE_RENDER, fn_fail, NULL, SANDBOX_FAILED, 0, 0,
     "protected by a password", false, NULL},
    {"fn reports a limit", SANDBOX_PROFILE_RENDER, fn_limit, NULL, SANDBOX_LIMIT, 0, 0,
     "more memory", false, NULL},
    {"CPU limit", SANDBOX_PROFILE_RENDER, fn_busy, tweak_cpu_1s, SANDBOX_LIMIT, SIGXCPU,
     /* the hard limit's SIGKILL where SIGXCPU is caught (valgrind does) */ SIGKILL,
     "1 s of processor time", false, NULL},
    {"socket(AF_INET) in RENDER", SANDBOX_PROFILE_RENDER, fn_socket_inet, NULL, SANDBOX_VIOLATION,
     SIGSYS, 0, "forbidden operation", false, NULL},
    {"socket(AF_INET) in EXEC", SANDBOX_PROFILE_EXEC, fn_socket_inet, NULL, SANDBOX_VIOLATION,
     SIGSYS, 0, "forbidden operation", false, NULL},
    {"execve in RENDER", SANDBOX_PROFILE_RENDER, fn_execve, NULL, SANDBOX_VIOLATION, SIGSYS, 0,
     "may be malicious", false, NULL},
    {"ptrace in OFFICE", SANDBOX_PROFILE_OFFICE, fn_ptrace, NULL, SANDBOX_VIOLATION, SIGSYS, 0,
     "forbidden operation", false, NULL},
    {"file size limit", SANDBOX_PROFILE_RENDER, fn_write_2mib, tweak_fsize_1mib, SANDBOX_LIMIT,
     SIGXFSZ, 0, "larger than 1 MiB", false, NULL},
    {"address-space limit", SANDBOX_PROFILE_RENDER, fn_malloc_1gib, tweak_as_256mib, SANDBOX_FAILED,
     0, 0, "more memory", true, NULL},
    {"OFFICE: no network sockets, socketpair works", SANDBOX_PROFILE_OFFICE, fn_office_sockets,
     NULL, SANDBOX_OK, 0, 0, "converted", false, NULL},
    {"RENDER cannot fork", SANDBOX_PROFILE_RENDER, fn_fork_must_fail, NULL, SANDBOX_OK, 0, 0,
     "converted", false, NULL},
    {"RENDER as the converter user cannot fork", SANDBOX_PROFILE_RENDER, fn_fork_must_fail,
     tweak_converter_user, SANDBOX_OK, 0, 0, "converted", false, NULL},
    {"RENDER may start a thread", SANDBOX_PROFILE_RENDER, fn_thread_ok, NULL, SANDBOX_OK, 0, 0,
     "converted", false, NULL},
    {"RENDER as the converter user may start a thread", SANDBOX_PROFILE_RENDER, fn_thread_ok,
     tweak_converter_user, SANDBOX_OK, 0, 0, "converted", false, NULL},
    {"crash", SANDBOX_PROFILE_RENDER, fn_crash, NULL, SANDBOX_CRASHED, SIGSEGV, 0, "SIGSEGV", false,
     NULL},
    {"control characters cannot forge lines", SANDBOX_PROFILE_RENDER, fn_control_chars, NULL,
     SANDBOX_FAILED, 0, 0, "First line SECOND: forged  line", false, NULL},
    {"a program killed by the EXEC filter", SANDBOX_PROFILE_EXEC, fn_exec_unshare, NULL,
     SANDBOX_VIOLATION, 0, 0, "unshare was killed by signal SIGSYS", false, "/usr/bin/unshare"},
};

static void test_run_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
		const run_case_t *c = &run_cases[i];
		if (c->needs_rlimit_as && (RUNNING_ON_VALGRIND || TEST_ASAN))
			continue;
		if (c->needs_file != NULL && access(c->needs_file, X_OK) < 0)
			continue;
		pp_sandbox_limits_t limits;
		limits_quick(&limits, c->profile);
		if (c->tweak != NULL)
			c->tweak(&limits);
		test_dirs_t dirs;
		dirs_make(&dirs, &limits);
		pp_sandbox_result_t result;
		char error[512] = "";
		int rc = sandbox_run(&limits, dirs.dir, c->fn, NULL, &result, error, sizeof(error));
		bool signal_ok = result.signal == c->signal ||
		                 (c->signal_also != 0 && result.signal == c->signal_also);
		if (rc != 0 || result.outcome != c->outcome || !signal_ok ||
		    strstr(result.message, c->message_part) == NULL)
			fail_msg("case \"%s\": rc %d (%s), outcome %s, signal %d, message \"%s\"",
			         c->name, rc, error, sandbox_outcome_name(result.outcome),
			         result.signal, result.message);
		assert_null(strchr(result.message, '\n'));
		dirs_free(&dirs);
	}
}

/* ---- single cases ----------------------------------------------------------------------- */

/* The child loops and has forked a grandchild; after the wall clock both are gone. */
static int fn_loop_with_grandchild(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	pid_t pid = fork();
	if (pid < 0) {
		(void)str_format(error, error_size, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		for (;;)
			(void)sleep(60);
	}
	char line[32];
	int fd = open("grandchild.pid", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || !str_format(line, sizeof(line), "%d", (int)pid) ||
	    fs_write_full(fd, line, strlen(line)) < 0 || close(fd) < 0) {
		(void)str_format(error, error_size, "writing grandchild.pid failed");
		return -1;
	}
	return fn_busy(ctx, error, error_size);
}

static void test_timeout_kills_group(void **state)
{
	(void)state;
	/* Orphans come to us, so the grandchild's end can be waited for, not guessed. */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	pp_sandbox_limits_t limits;
	limits_quick(&limits, SANDBOX_PROFILE_EXEC);
	limits.wall_seconds = 1;
	test_dirs_t dirs;
	dirs_make(&dirs, &limits);
	pp_sandbox_result_t result;
	char error[512] = "";
	assert_int_equal(sandbox_run(&limits, dirs.dir, fn_loop_with_grandchild, NULL, &result,
	                             error, sizeof(error)),
	                 0);
	assert_int_equal(result.outcome, SANDBOX_TIMEOUT);
	assert_int_equal(result.signal, SIGKILL);
	assert_non_null(strstr(result.message, "longer than 1 s"));

	char path[4096];
	assert_true(str_format(path, sizeof(path), "%s/grandchild.pid", dirs.dir));
	char *data = NULL;
	size_t len = 0;
	assert_int_equal(fs_read_file(path, 64, &data, &len, error, sizeof(error)), 0);
	uint64_t grandchild = 0;
	assert_true(parse_uint64_full(str_trim(data), INT32_MAX, &grandchild));
	free(data);
	int status = 0;
	assert_int_equal(waitpid((pid_t)grandchild, &status, 0), (pid_t)grandchild);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
	dirs_free(&dirs);
}

static void test_fds_closed_stdin_null(void **state)
{
	(void)state;
	int fd = open("/dev/null", O_RDONLY); /* deliberately inheritable */
	assert_true(fd >= 0);
	pp_sandbox_limits_t limits;
	limits_quick(&limits, SANDBOX_PROFILE_RENDER);
	pp_sandbox_result_t result;
	char error[512] = "";
	assert_int_equal(sandbox_run(&limits, NULL, fn_fds, &fd, &result, error, sizeof(error)), 0);
	assert_string_equal(sandbox_outcome_name(result.outcome), "ok");
	assert_int_equal(close(fd), 0);
}

static void test_network_namespace(void **state)
{
	(void)state;
	char ns[256];
	ssize_t n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
	assert_true(n > 0);
	ns[n] = '\0';
	pp_sandbox_limits_t limits;
	limits_quick(&limits, SANDBOX_PROFILE_OFFICE);
	pp_sandbox_result_t result;
	char error[512] = "";
	assert_int_equal(sandbox_run(&limits, NULL, fn_netns, ns, &result, error, sizeof(error)),
	                 0);
	if (result.outcome != SANDBOX_OK)
		fail_msg("%s", result.message);
}

static void test_setup_failure(void **state)
{
	(void)state;
	pp_sandbox_limits_t limits;
	limits_quick(&limits, SANDBOX_PROFILE_RENDER);
	pp_sandbox_result_t result;
	char error[512] = "";
	assert_int_equal(sandbox_run(&limits, "/nonexistent/pullprint-sandbox", fn_ok, NULL,
	                             &result, error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "chdir(/nonexistent/pullprint-sandbox)"));
	assert_int_equal(result.outcome, SANDBOX_CRASHED);
	assert_non_null(strstr(result.message, "administrator"));
}

/* ---- the converter user ----------------------------------------------------------------- */

static int fn_write_ids(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	char line[64];
	int fd = open("ids", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 ||
	    !str_format(line, sizeof(line), "%u %u %d", (unsigned)getuid(), (unsigned)getgid(),
	                setuid(0) == 0 ? 1 : 0) ||
	    fs_write_full(fd, line, strlen(line)) < 0 || close(fd) < 0) {
		(void)str_format(error, error_size, "writing ids failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void test_switch_user(void **state)
{
	(void)state;
	struct passwd *pw = getpwnam(CONVERT_USER);
	if (geteuid() != 0 || pw == NULL)
		skip();
	pp_sandbox_limits_t limits;
	limits_quick(&limits, SANDBOX_PROFILE_RENDER);
	char error[512] = "";
	assert_int_equal(sandbox_limits_set_user(&limits, CONVERT_USER, error, sizeof(error)), 0);
	assert_true(limits.switch_user);
	assert_int_equal(limits.uid, pw->pw_uid);
	test_dirs_t dirs;
	dirs_make(&dirs, &limits);
	/* The work directory is the converter user's, 0700; its base stays root's. */
	struct stat st;
	assert_int_equal(stat(dirs.dir, &st), 0);
	assert_int_equal(st.st_uid, pw->pw_uid);
	assert_int_equal(st.st_mode & 07777, 0700);

	pp_sandbox_result_t result;
	assert_int_equal(
	    sandbox_run(&limits, dirs.dir, fn_write_ids, NULL, &result, error, sizeof(error)), 0);
	if (result.outcome != SANDBOX_OK)
		fail_msg("%s: %s", sandbox_outcome_name(result.outcome), result.message);
	char path[4096];
	assert_true(str_format(path, sizeof(path), "%s/ids", dirs.dir));
	char *data = NULL;
	size_t len = 0;
	assert_int_equal(fs_read_file(path, 64, &data, &len, error, sizeof(error)), 0);
	char want[64];
	assert_true(
	    str_format(want, sizeof(want), "%u %u 0", (unsigned)pw->pw_uid, (unsigned)pw->pw_gid));
	assert_string_equal(data, want);
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, pw->pw_uid);
	assert_int_equal(st.st_mode & 07777, 0600);
	dirs_free(&dirs);
}

static void test_set_user_unknown(void **state)
{
	(void)state;
	pp_sandbox_limits_t limits;
	sandbox_limits_default(&limits);
	char error[512] = "";
	assert_int_equal(
	    sandbox_limits_set_user(&limits, "pullprint-no-such-user", error, sizeof(error)), -1);
	assert_non_null(strstr(error, "useradd"));
	assert_false(limits.switch_user);
	assert_int_equal(sandbox_limits_set_user(&limits, "root", error, sizeof(error)), -1);
	assert_false(limits.switch_user);
}

static void test_defaults(void **state)
{
	(void)state;
	pp_sandbox_limits_t limits;
	sandbox_limits_default(&limits);
	assert_int_equal(limits.profile, SANDBOX_PROFILE_RENDER);
	assert_int_equal(limits.address_space_bytes, 2048 * MIB);
	assert_int_equal(limits.cpu_seconds, 60);
	assert_int_equal(limits.file_size_bytes, 512 * MIB);
	assert_int_equal(limits.open_files, 64);
	assert_int_equal(limits.wall_seconds, 120);
	assert_true(limits.isolate_network);
	assert_false(limits.switch_user);

	static const struct {
		pp_sandbox_outcome_t outcome;
		const char *name;
	} names[] = {
	    {SANDBOX_OK, "ok"},
	    {SANDBOX_FAILED, "failed"},
	    {SANDBOX_TIMEOUT, "timeout"},
	    {SANDBOX_LIMIT, "limit"},
	    {SANDBOX_VIOLATION, "violation"},
	    {SANDBOX_CRASHED, "crashed"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(sandbox_outcome_name(names[i].outcome), names[i].name);
}

/* ---- running programs ------------------------------------------------------------------- */

static void test_exec_wait_table(void **state)
{
	(void)state;
	static const struct {
		const char *argv[4];
		int rc;
		const char *error_part;
	} cases[] = {
	    {{"/bin/echo", "hello", NULL}, 0, ""},
	    {{"/bin/false", NULL}, -1, "false exited with status 1"},
	    {{"/bin/ls", "/nonexistent-pullprint", NULL}, -1, "No such file"},
	    {{"/nonexistent/program", NULL}, -1, "cannot run /nonexistent/program"},
	    {{"echo", "relative", NULL}, -1, "absolute program path"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char error[512] = "";
		int rc = sandbox_exec_wait(cases[i].argv, NULL, error, sizeof(error));
		if (rc != cases[i].rc || strstr(error, cases[i].error_part) == NULL)
			fail_msg("%s: rc %d, error \"%s\"", cases[i].argv[0], rc, error);
	}
}

/* Ghostscript turns PostScript into PDF inside the EXEC sandbox, as the converter user when
 * we are root. */
static int fn_ghostscript(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	static const char ps[] = "%!PS\n/Helvetica findfont 24 scalefont setfont\n"
	                         "72 720 moveto (Sandboxed) show showpage\n";
	int fd = open("in.ps", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_full(fd, ps, sizeof(ps) - 1) < 0 || close(fd) < 0) {
		(void)str_format(error, error_size, "writing in.ps failed: %s", strerror(errno));
		return -1;
	}
	const char *const argv[] = {
	    "/usr/bin/gs",          "-q",    "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
	    "-sOutputFile=out.pdf", "in.ps", NULL};
	const char *const envp[] = {"TMPDIR=.", NULL};
	int rc = sandbox_exec_wait(argv, envp, error, error_size);
	if (rc != 0)
		return rc;
	const char *const echo[] = {"/bin/echo", "done", NULL};
	return sandbox_exec_wait(echo, NULL, error, error_size);
}

static int fn_exec_false(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	const char *const argv[] = {"/bin/false", NULL};
	return sandbox_exec_wait(argv, NULL, error, error_size);
}

static void test_exec_profile(void **state)
{
	(void)state;
	if (access("/usr/bin/gs", X_OK) < 0)
		skip();
	pp_sandbox_limits_t limits;
	limits_quick(&limits, SANDBOX_PROFILE_EXEC);
	char error[512] = "";
	if (geteuid() == 0 && getpwnam(CONVERT_USER) != NULL)
		assert_int_equal(
		    sandbox_limits_set_user(&limits, CONVERT_USER, error, sizeof(error)), 0);
	test_dirs_t dirs;
	dirs_make(&dirs, &limits);
	pp_sandbox_result_t result;
	assert_int_equal(
	    sandbox_run(&limits, dirs.dir, fn_ghostscript, NULL, &result, error, sizeof(error)), 0);
	if (result.outcome != SANDBOX_OK)
		fail_msg("%s: %s", sandbox_outcome_name(result.outcome), result.message);
	char path[4096];
	assert_true(str_format(path, sizeof(path), "%s/out.pdf", dirs.dir));
	char *data = NULL;
	size_t len = 0;
	assert_int_equal(fs_read_file(path, 16 * MIB, &data, &len, error, sizeof(error)), 0);
	assert_true(len > 5 && memcmp(data, "%PDF-", 5) == 0);
	free(data);

	assert_int_equal(
	    sandbox_run(&limits, dirs.dir, fn_exec_false, NULL, &result, error, sizeof(error)), 0);
	assert_int_equal(result.outcome, SANDBOX_FAILED);
	assert_non_null(strstr(result.message, "false exited with status 1"));
	dirs_free(&dirs);
}

/* ---- the temporary directory ------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	char error[512];
	assert_int_equal(fs_write_file_atomic(path, text, strlen(text), 0600, error, sizeof(error)),
	                 0);
}

static void test_tmpdir_wipe_no_follow(void **state)
{
	(void)state;
	char *root = test_tmpdir();
	char base[4096], outside[4096], outside_dir[4096], path[4096], dir[4096];
	char error[512] = "";
	assert_true(str_format(base, sizeof(base), "%s/a/b", root));
	assert_true(str_format(outside, sizeof(outside), "%s/keep.txt", root));
	assert_true(str_format(outside_dir, sizeof(outside_dir), "%s/keepdir", root));
	write_file(outside, "precious");
	assert_int_equal(mkdir(outside_dir, 0700), 0);
	assert_true(str_format(path, sizeof(path), "%s/inside.txt", outside_dir));
	write_file(path, "also precious");

	/* The base is made 0700 when missing; the directory is private. */
	assert_int_equal(sandbox_tmpdir_make(base, NULL, dir, sizeof(dir), error, sizeof(error)),
	                 0);
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	/* What a hostile child might leave: links out, nested and locked directories. */
	assert_true(str_format(path, sizeof(path), "%s/link-to-file", dir));
	assert_int_equal(symlink(outside, path), 0);
	assert_true(str_format(path, sizeof(path), "%s/link-to-dir", dir));
	assert_int_equal(symlink(outside_dir, path), 0);
	assert_true(str_format(path, sizeof(path), "%s/sub", dir));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(str_format(path, sizeof(path), "%s/sub/deeper", dir));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(str_format(path, sizeof(path), "%s/sub/deeper/page-1.jpg", dir));
	write_file(path, "jpeg");
	assert_true(str_format(path, sizeof(path), "%s/sub/deeper/up", dir));
	assert_int_equal(symlink("../../../keepdir", path), 0);
	assert_true(str_format(path, sizeof(path), "%s/locked", dir));
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(str_format(path, sizeof(path), "%s/locked/f", dir));
	write_file(path, "x");
	assert_true(str_format(path, sizeof(path), "%s/locked", dir));
	assert_int_equal(chmod(path, 0), 0);

	assert_int_equal(sandbox_tmpdir_wipe(dir, error, sizeof(error)), 0);
	assert_int_equal(lstat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
	char *data = NULL;
	size_t len = 0;
	assert_int_equal(fs_read_file(outside, 64, &data, &len, error, sizeof(error)), 0);
	assert_string_equal(data, "precious");
	free(data);
	assert_true(str_format(path, sizeof(path), "%s/inside.txt", outside_dir));
	assert_int_equal(stat(path, &st), 0);

	/* A symlink given as the directory itself is refused, its target left alone. */
	assert_true(str_format(path, sizeof(path), "%s/link", root));
	assert_int_equal(symlink(outside_dir, path), 0);
	assert_int_equal(sandbox_tmpdir_wipe(path, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "refusing to follow"));
	assert_true(str_format(path, sizeof(path), "%s/inside.txt", outside_dir));
	assert_int_equal(stat(path, &st), 0);

	/* Wiping what is already gone is fine. */
	assert_int_equal(sandbox_tmpdir_wipe(dir, error, sizeof(error)), 0);
	test_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_set_user_unknown),
	    cmocka_unit_test(test_run_table),
	    cmocka_unit_test(test_timeout_kills_group),
	    cmocka_unit_test(test_fds_closed_stdin_null),
	    cmocka_unit_test(test_network_namespace),
	    cmocka_unit_test(test_setup_failure),
	    cmocka_unit_test(test_switch_user),
	    cmocka_unit_test(test_exec_wait_table),
	    cmocka_unit_test(test_exec_profile),
	    cmocka_unit_test(test_tmpdir_wipe_no_follow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
