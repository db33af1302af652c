/*
 * bench-spool.c - spool throughput side by side with the plain tools on the same disk.
 *
 * Makes 100 MB of random data in a file (not timed), then, three times each:
 *   - writes it through an encrypted spool, finish (fsync, rename, directory fsync) included,
 *     and copies it with `dd bs=1M conv=fsync` into the same directory;
 *   - reads the spool file back (authenticated, decrypted) and read()s the dd copy, each
 *     after posix_fadvise(DONTNEED) so both come from the disk, not the page cache.
 * Prints the best of three as two lines:
 *     spool.write_100mb encrypted_mb_s=X dd_mb_s=Y ratio=Z
 *     spool.read_100mb encrypted_mb_s=X cat_mb_s=Y ratio=Z
 * Works in a new directory under $PP_BENCH_DIR (else ./var/bench, created) and removes it.
 */
#include "lib/crypto.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_BYTES ((size_t)100 * 1000 * 1000)
#define BENCH_PIECE ((size_t)1 << 20)
#define BENCH_RUNS 3

extern char **environ;

/* Everything one benchmark run needs; lives on main's stack. */
typedef struct {
	char dir[PATH_MAX]; /* the private work directory */
	char input[PATH_MAX]; /* the 100 MB of random data */
	char dd_out[PATH_MAX]; /* dd's copy */
	char spool_dir[PATH_MAX];
	pp_spool_t *spool;
	uint8_t *buf; /* BENCH_PIECE bytes */
	char file_id[SPOOL_ID_LEN + 1]; /* the last spool file written, "" when none */
} bench_t;

static double bench_now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		perror("bench-spool: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes BENCH_BYTES of random data to b->input and fsyncs it. Returns 0 or -1. */
static int bench_make_input(bench_t *b)
{
	int fd = open(b->input, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "bench-spool: open(%s) failed: %s\n", b->input, strerror(errno));
		return -1;
	}
	for (size_t done = 0; done < BENCH_BYTES; done += BENCH_PIECE) {
		size_t n = BENCH_BYTES - done < BENCH_PIECE ? BENCH_BYTES - done : BENCH_PIECE;
		crypto_random_bytes(b->buf, n);
		if (fs_write_full(fd, b->buf, n) < 0) {
			fprintf(stderr, "bench-spool: write(%s) failed: %s — free space in %s\n",
				b->input, strerror(errno), b->dir);
			(void)close(fd);
			return -1;
		}
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fprintf(stderr, "bench-spool: fsync/close(%s) failed: %s\n", b->input,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Streams b->input into a new spool file, finish included. Returns seconds or -1. */
static double bench_spool_write(bench_t *b)
{
	char error[512];
	int fd = open(b->input, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bench-spool: open(%s) failed: %s\n", b->input, strerror(errno));
		return -1;
	}
	double start = bench_now();
	pp_spool_writer_t *writer = NULL;
	if (spool_writer_open(b->spool, &writer, error, sizeof(error)) < 0) {
		fprintf(stderr, "bench-spool: %s\n", error);
		(void)close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, b->buf, BENCH_PIECE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "bench-spool: read(%s) failed: %s\n", b->input,
				strerror(errno));
			spool_writer_abort(&writer);
			(void)close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (spool_writer_write(writer, b->buf, (size_t)n, error, sizeof(error)) != 0) {
			fprintf(stderr, "bench-spool: %s\n", error);
			spool_writer_abort(&writer);
			(void)close(fd);
			return -1;
		}
	}
	uint64_t size = 0;
	if (spool_writer_finish(&writer, b->file_id, &size, error, sizeof(error)) < 0) {
		fprintf(stderr, "bench-spool: %s\n", error);
		(void)close(fd);
		return -1;
	}
	double seconds = bench_now() - start;
	(void)close(fd); /* read-only */
	if (size != BENCH_BYTES) {
		fprintf(stderr, "bench-spool: spool stored %llu bytes, expected %zu\n",
			(unsigned long long)size, BENCH_BYTES);
		return -1;
	}
	return seconds;
}

/* Runs dd if=input of=dd_out bs=1M conv=fsync (stderr to /dev/null). Returns seconds or -1. */
static double bench_dd(bench_t *b)
{
	char if_arg[PATH_MAX + 4], of_arg[PATH_MAX + 4];
	if (!str_format(if_arg, sizeof(if_arg), "if=%s", b->input) ||
	    !str_format(of_arg, sizeof(of_arg), "of=%s", b->dd_out)) {
		fprintf(stderr, "bench-spool: path too long\n");
		return -1;
	}
	if (unlink(b->dd_out) < 0 && errno != ENOENT) {
		fprintf(stderr, "bench-spool: unlink(%s) failed: %s\n", b->dd_out,
			strerror(errno));
		return -1;
	}
	char *const argv[] = {"dd", if_arg, of_arg, "bs=1M", "conv=fsync", NULL};
	posix_spawn_file_actions_t actions;
	int rc = posix_spawn_file_actions_init(&actions);
	if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
						      O_WRONLY, 0);
	pid_t pid = -1;
	double start = bench_now();
	if (rc == 0)
		rc = posix_spawnp(&pid, "dd", &actions, NULL, argv, environ);
	(void)posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		fprintf(stderr, "bench-spool: cannot start dd: %s — install coreutils\n",
			strerror(rc));
		return -1;
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench-spool: waitpid(dd) failed: %s\n", strerror(errno));
			return -1;
		}
	}
	double seconds = bench_now() - start;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-spool: dd failed (status %d)\n", status);
		return -1;
	}
	return seconds;
}

/* Drops path's pages from the page cache so the next read comes from the disk. */
static int bench_drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bench-spool: open(%s) failed: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	(void)close(fd); /* read-only */
	if (rc != 0) {
		fprintf(stderr, "bench-spool: posix_fadvise(%s) failed: %s\n", path,
			strerror(rc));
		return -1;
	}
	return 0;
}

/* Reads the last spool file back in 1 MiB pieces. Returns seconds or -1. */
static double bench_spool_read(bench_t *b)
{
	char path[PATH_MAX], error[512];
	if (!str_format(path, sizeof(path), "%s/%.2s/%s", b->spool_dir, b->file_id, b->file_id) ||
	    bench_drop_cache(path) < 0)
		return -1;
	double start = bench_now();
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(b->spool, b->file_id, &reader, error, sizeof(error)) < 0) {
		fprintf(stderr, "bench-spool: %s\n", error);
		return -1;
	}
	size_t total = 0;
	for (;;) {
		ssize_t n = spool_reader_read(reader, b->buf, BENCH_PIECE, error, sizeof(error));
		if (n < 0) {
			fprintf(stderr, "bench-spool: %s\n", error);
			spool_reader_close(&reader);
			return -1;
		}
		if (n == 0)
			break;
		total += (size_t)n;
	}
	spool_reader_close(&reader);
	double seconds = bench_now() - start;
	if (total != BENCH_BYTES) {
		fprintf(stderr, "bench-spool: read %zu bytes back, expected %zu\n", total,
			BENCH_BYTES);
		return -1;
	}
	return seconds;
}

/* read()s the dd copy in 1 MiB pieces, as cat would. Returns seconds or -1. */
static double bench_cat(bench_t *b)
{
	if (bench_drop_cache(b->dd_out) < 0)
		return -1;
	double start = bench_now();
	int fd = open(b->dd_out, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bench-spool: open(%s) failed: %s\n", b->dd_out, strerror(errno));
		return -1;
	}
	size_t total = 0;
	for (;;) {
		ssize_t n = read(fd, b->buf, BENCH_PIECE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "bench-spool: read(%s) failed: %s\n", b->dd_out,
				strerror(errno));
			(void)close(fd);
			return -1;
		}
		if (n == 0)
			break;
		total += (size_t)n;
	}
	(void)close(fd); /* read-only */
	double seconds = bench_now() - start;
	if (total != BENCH_BYTES) {
		fprintf(stderr, "bench-spool: dd copy has %zu bytes, expected %zu\n", total,
			BENCH_BYTES);
		return -1;
	}
	return seconds;
}

static int bench_remove_entry(const char *path, const struct stat *st, int flag,
			      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "bench-spool: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static double bench_min(double a, double b)
{
	return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* Runs the benchmark in b->dir. Returns 0 or -1. */
static int bench_run(bench_t *b)
{
	char error[512];
	uint8_t key[SPOOL_KEY_BYTES];
	crypto_random_bytes(key, sizeof(key));
	if (!str_format(b->input, sizeof(b->input), "%s/input", b->dir) ||
	    !str_format(b->dd_out, sizeof(b->dd_out), "%s/dd-out", b->dir) ||
	    !str_format(b->spool_dir, sizeof(b->spool_dir), "%s/spool", b->dir)) {
		fprintf(stderr, "bench-spool: path too long\n");
		return -1;
	}
	if (spool_open(b->spool_dir, key, true, (uint64_t)BENCH_BYTES, &b->spool, error,
		       sizeof(error)) < 0) {
		fprintf(stderr, "bench-spool: %s\n", error);
		return -1;
	}
	crypto_wipe(key, sizeof(key));
	if (bench_make_input(b) < 0)
		return -1;

	double spool_write = -1, dd = -1, spool_read = -1, cat = -1;
	for (int run = 0; run < BENCH_RUNS; run++) {
		if (b->file_id[0] != '\0' &&
		    spool_delete(b->spool, b->file_id, error, sizeof(error)) < 0) {
			fprintf(stderr, "bench-spool: %s\n", error);
			return -1;
		}
		double s = bench_spool_write(b);
		double d = bench_dd(b);
		if (s < 0 || d < 0)
			return -1;
		spool_write = bench_min(spool_write, s);
		dd = bench_min(dd, d);
	}
	for (int run = 0; run < BENCH_RUNS; run++) {
		double s = bench_spool_read(b);
		double c = bench_cat(b);
		if (s < 0 || c < 0)
			return -1;
		spool_read = bench_min(spool_read, s);
		cat = bench_min(cat, c);
	}

	double mb = (double)BENCH_BYTES / 1e6;
	printf("spool.write_100mb encrypted_mb_s=%.1f dd_mb_s=%.1f ratio=%.2f\n",
	       mb / spool_write, mb / dd, dd / spool_write);
	printf("spool.read_100mb encrypted_mb_s=%.1f cat_mb_s=%.1f ratio=%.2f\n",
	       mb / spool_read, mb / cat, cat / spool_read);
	return 0;
}

int main(void)
{
	char error[512], base[PATH_MAX];
	const char *env = getenv("PP_BENCH_DIR");
	if (!crypto_init()) {
		fprintf(stderr, "bench-spool: libsodium failed to start\n");
		return 1;
	}
	if (!str_copy(base, sizeof(base), env != NULL && env[0] != '\0' ? env : "var/bench") ||
	    fs_mkdir_p(base, 0700, error, sizeof(error)) < 0) {
		fprintf(stderr, "bench-spool: cannot make the work directory: %s\n", error);
		return 1;
	}
	bench_t *b = calloc(1, sizeof(*b));
	if (b == NULL || (b->buf = malloc(BENCH_PIECE)) == NULL) {
		fprintf(stderr, "bench-spool: out of memory\n");
		free(b);
		return 1;
	}
	int rc = -1;
	if (!str_format(b->dir, sizeof(b->dir), "%s/spool-bench-XXXXXX", base) ||
	    mkdtemp(b->dir) == NULL) {
		fprintf(stderr, "bench-spool: mkdtemp in %s failed: %s\n", base, strerror(errno));
	} else {
		rc = bench_run(b);
		(void)nftw(b->dir, bench_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	spool_close(&b->spool);
	free(b->buf);
	free(b);
	return rc == 0 ? 0 : 1;
}
