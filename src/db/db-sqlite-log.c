/* db-sqlite-log.c - the log file at its working size; see db-sqlite-log.h. */
#include "db/db-sqlite-log.h"

#include "db/db-sqlite-checkpoint.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_SQLITE_LOG_HEADER 32       /* the log file's header */
#define DB_SQLITE_LOG_FRAME_HEADER 24 /* before each page */
#define DB_SQLITE_LOG_CHUNK (256 * 1024)

uint64_t db_sqlite_log_working_size(sqlite3 *conn)
{
	uint64_t page_size = 4096;
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(conn, "PRAGMA page_size", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) > 0)
		page_size = (uint64_t)sqlite3_column_int64(stmt, 0);
	(void)sqlite3_finalize(stmt);
	return DB_SQLITE_LOG_HEADER +
	       2 * (uint64_t)DB_SQLITE_CKPT_FRAMES * (DB_SQLITE_LOG_FRAME_HEADER + page_size);
}

/* Appends zeros to the open log file fd from its end up to bytes, then flushes it. */
static int db_sqlite_log_fill(int fd, const char *path, uint64_t bytes, uint64_t *grown_r,
			      char *error, size_t error_size)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		(void)str_format(error, error_size, "sqlite: cannot stat %s: %s", path,
				 strerror(errno));
		return -1;
	}
	uint64_t at = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	if (at >= bytes)
		return 0;
	void *zeros = calloc(1, DB_SQLITE_LOG_CHUNK);
	if (zeros == NULL) {
		(void)str_format(error, error_size, "sqlite: out of memory");
		return -1;
	}
	uint64_t start = at;
	int rc = lseek(fd, (off_t)at, SEEK_SET) < 0 ? -1 : 0;
	while (rc == 0 && at < bytes) {
		size_t len = bytes - at < DB_SQLITE_LOG_CHUNK ? (size_t)(bytes - at)
							       : DB_SQLITE_LOG_CHUNK;
		rc = fs_write_full(fd, zeros, len);
		at += len;
	}
	if (rc < 0)
		(void)str_format(error, error_size, "sqlite: cannot grow %s: %s; check the free space",
				 path, strerror(errno));
	free(zeros);
	if (rc == 0 && fdatasync(fd) != 0) {
		(void)str_format(error, error_size, "sqlite: cannot flush %s: %s", path,
				 strerror(errno));
		rc = -1;
	}
	/* What was added before a failure is zeros past the log's end: harmless, only space. */
	if (rc < 0 && ftruncate(fd, (off_t)start) != 0)
		log_warn("db.log_trim_failed file=%s error=\"%s\"", path, strerror(errno));
	if (rc == 0 && grown_r != NULL)
		*grown_r = at - start;
	return rc;
}

int db_sqlite_log_prepare(sqlite3 *conn, uint64_t bytes, uint64_t *grown_r, char *error,
			  size_t error_size)
{
	if (grown_r != NULL)
		*grown_r = 0;
	if (bytes == 0)
		bytes = db_sqlite_log_working_size(conn);
	int persist = 1;
	int rc = sqlite3_file_control(conn, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (rc != SQLITE_OK) {
		(void)str_format(error, error_size, "sqlite: cannot keep the log file: %s",
				 sqlite3_errstr(rc));
		return -1;
	}
	const char *db_path = sqlite3_db_filename(conn, "main");
	char path[PATH_MAX];
	if (db_path == NULL || db_path[0] == '\0' ||
	    !str_format(path, sizeof(path), "%s-wal", db_path))
		return 0; /* an in-memory database has no log file */

	/* The write lock: no commit appends to the log while the zeros go past its end. */
	rc = sqlite3_exec(conn, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		(void)str_format(error, error_size, "sqlite: cannot lock the log: %s",
				 sqlite3_errmsg(conn));
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int ret = 0;
	if (fd < 0) {
		(void)str_format(error, error_size, "sqlite: cannot open %s: %s", path,
				 strerror(errno));
		ret = -1;
	} else {
		ret = db_sqlite_log_fill(fd, path, bytes, grown_r, error, error_size);
		(void)close(fd);
	}
	/* Nothing was changed inside: ROLLBACK only lets the lock go. */
	(void)sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}
