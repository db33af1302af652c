/* test-change-counter.c - the change number processes on one host share through a file. */
#include "test-support.h"

#include "lib/change-counter.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A private directory; f->path is its counter file, "changes". */
typedef test_dir_t fixture_t;

static int setup(void **state)
{
	(void)test_dir_setup(state);
	(void)test_dir_path(*state, "changes");
	return 0;
}

static uint64_t read_value(pp_change_counter_t *counter)
{
	uint64_t value = 99;
	assert_int_equal(change_counter_read(counter, &value), 0);
	return value;
}

/* A new file reads 0; a bump by one process is seen by another handle (another process). */
static void test_bump_seen_by_others(void **state)
{
	fixture_t *f = *state;
	char error[512];
	pp_change_counter_t *writer = NULL, *reader = NULL;
	assert_int_equal(change_counter_open(f->path, &writer, error, sizeof(error)), 0);
	assert_int_equal(change_counter_open(f->path, &reader, error, sizeof(error)), 0);
	assert_int_equal(read_value(reader), 0);
	assert_int_equal(change_counter_bump(writer), 0);
	assert_int_equal(read_value(reader), 1);
	assert_int_equal(change_counter_bump(reader), 0);
	assert_int_equal(read_value(writer), 2);

	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	change_counter_close(&writer);
	change_counter_close(&reader);
	assert_null(writer);
	change_counter_close(&writer); /* NULL is a no-op */
}

/* Two processes bumping at once lose no bump: each counts. */
static void test_concurrent_bumps_all_count(void **state)
{
	fixture_t *f = *state;
	char error[512];
	enum { BUMPS = 400 };
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pp_change_counter_t *c = NULL;
		if (change_counter_open(f->path, &c, error, sizeof(error)) < 0)
			_exit(2);
		for (int i = 0; i < BUMPS; i++)
			if (change_counter_bump(c) < 0)
				_exit(3);
		change_counter_close(&c);
		_exit(0);
	}
	pp_change_counter_t *counter = NULL;
	assert_int_equal(change_counter_open(f->path, &counter, error, sizeof(error)), 0);
	for (int i = 0; i < BUMPS; i++)
		assert_int_equal(change_counter_bump(counter), 0);
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read_value(counter), 2 * BUMPS);
	change_counter_close(&counter);
}

/* A file cut short or holding junk is a number like any other, and bumping changes it. */
static void test_odd_file_still_counts(void **state)
{
	fixture_t *f = *state;
	char error[512];
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x01\x02", 2), 2);
	assert_int_equal(close(fd), 0);
	pp_change_counter_t *counter = NULL;
	assert_int_equal(change_counter_open(f->path, &counter, error, sizeof(error)), 0);
	uint64_t before = read_value(counter);
	assert_int_equal(before, 0x0201);
	assert_int_equal(change_counter_bump(counter), 0);
	assert_int_equal(read_value(counter), before + 1);
	change_counter_close(&counter);
}

/* A symbolic link in the counter's place is refused, with a message naming the file. */
static void test_symlink_refused(void **state)
{
	fixture_t *f = *state;
	char error[512] = "";
	char target[600];
	assert_true(str_format(target, sizeof(target), "%s/elsewhere", f->dir));
	assert_int_equal(symlink(target, f->path), 0);
	pp_change_counter_t *counter = NULL;
	assert_int_equal(change_counter_open(f->path, &counter, error, sizeof(error)), -1);
	assert_null(counter);
	assert_non_null(strstr(error, f->path));
	assert_int_equal(access(target, F_OK), -1); /* nothing made through the link */
}

/* Each case in a private directory whose counter file is "changes". */
#define COUNTER_CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, test_dir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    COUNTER_CASE(test_bump_seen_by_others),
	    COUNTER_CASE(test_concurrent_bumps_all_count),
	    COUNTER_CASE(test_odd_file_still_counts),
	    COUNTER_CASE(test_symlink_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
