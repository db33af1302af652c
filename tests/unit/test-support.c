/* test-support.c - helpers shared by the unit tests; see test-support.h. */
#include "test-support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char template[4096];
	int n = snprintf(template, sizeof(template), "%s/pp-test-XXXXXX",
			 base != NULL && base[0] != '\0' ? base : "/tmp");
	assert_true(n > 0 && (size_t)n < sizeof(template));
	char *dir = mkdtemp(template);
	assert_non_null(dir);
	char *copy = strdup(dir);
	assert_non_null(copy);
	return copy;
}

static int test_rmtree_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void test_rmtree(const char *path)
{
	(void)nftw(path, test_rmtree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int test_dir_setup(void **state)
{
	test_dir_t *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	d->dir = test_tmpdir();
	*state = d;
	return 0;
}

int test_dir_teardown(void **state)
{
	test_dir_t *d = *state;
	test_rmtree(d->dir);
	free(d->dir);
	free(d);
	return 0;
}

const char *test_dir_path(test_dir_t *d, const char *name)
{
	int n = snprintf(d->path, sizeof(d->path), "%s/%s", d->dir, name);
	assert_true(n > 0 && (size_t)n < sizeof(d->path));
	return d->path;
}
