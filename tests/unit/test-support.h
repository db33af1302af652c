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

#endif
