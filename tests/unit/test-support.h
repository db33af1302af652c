/*
 * test-support.h - helpers shared by the unit tests: temporary directories and fresh,
 * migrated databases on each backend.
 */
#ifndef PP_TEST_SUPPORT_H
#define PP_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Makes a new private (0700) directory under $TMPDIR. New; free() it, test_rmtree() first. */
char *test_tmpdir(void);

/* Removes path and everything below it. */
void test_rmtree(const char *path);

/* A private directory for one test: *state of the cmocka setup/teardown pair below. */
typedef struct {
	char *dir;       /* from test_tmpdir() */
	char path[4096]; /* the last test_dir_path() */
} test_dir_t;

/* cmocka setup and teardown: *state becomes a new test_dir_t; teardown removes it all. */
int test_dir_setup(void **state);
int test_dir_teardown(void **state);
#define TEST_DIR_CASE(fn) cmocka_unit_test_setup_teardown(fn, test_dir_setup, test_dir_teardown)

/* d->dir/name, written into d->path (returned; valid until the next call). */
const char *test_dir_path(test_dir_t *d, const char *name);

#endif
