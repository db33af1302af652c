/*
 * test-sqlite-file.h - a SQLite database file in a private directory, for the tests of what
 * the SQLite backend does with its files (the log, checkpoints): its URL, its log's path, the
 * log's size and a row count of the tests' table t.
 */
#ifndef PP_TEST_SQLITE_FILE_H
#define PP_TEST_SQLITE_FILE_H

#include "test-support.h"

#include "db/db.h"
#include "lib/str.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

typedef struct {
	char *dir;               /* private, removed by test_sqlite_file_remove() */
	char url[PATH_MAX + 16]; /* sqlite:<dir>/t.db */
	char wal[PATH_MAX];      /* its log file */
} test_sqlite_file_t;

/* Makes the directory and fills the paths (no file yet: db_open() makes it). */
static inline void test_sqlite_file_make(test_sqlite_file_t *file)
{
	file->dir = test_tmpdir();
	assert_true(str_format(file->url, sizeof(file->url), "sqlite:%s/t.db", file->dir));
	assert_true(str_format(file->wal, sizeof(file->wal), "%s/t.db-wal", file->dir));
}

/* Removes the directory with everything in it. */
static inline void test_sqlite_file_remove(test_sqlite_file_t *file)
{
	test_rmtree(file->dir);
	free(file->dir);
	file->dir = NULL;
}

/* The log file's size; -1 when there is none. */
static inline off_t test_sqlite_wal_bytes(const test_sqlite_file_t *file)
{
	struct stat st;
	return stat(file->wal, &st) == 0 ? st.st_size : -1;
}

/* The rows of table t (fails the test on an error). */
static inline int64_t test_sqlite_count_rows(pp_db_t *db)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX] = "";
	if (db_query(db, "SELECT COUNT(*) FROM t", NULL, 0, &res, error, sizeof(error)) != DB_OK)
		fail_msg("count: %s", error);
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

#endif
