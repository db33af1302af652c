/*
 * db-sqlite-log.h - the write-ahead log file at its working size from the start.
 *
 * Each commit ends with a flush of the log (fdatasync). While the log file grows, that flush
 * also writes the file's new size and block map: two more device writes per commit, which
 * made the first few thousand jobs after a start about a quarter slower than the rest. Once
 * the log has reached the size the checkpointer keeps it at (db-sqlite-checkpoint.h), commits
 * overwrite blocks that exist and the flush writes data only.
 *
 * So the server, when it starts, fills the log file up to that size with zeros (written, not
 * fallocate()d: unwritten extents would turn each first write into a metadata change again)
 * and asks SQLite to keep the file when the last connection closes (SQLITE_FCNTL_PERSIST_WAL),
 * so a restart finds it at size. The zeros are written past the log's end while holding the
 * write lock (BEGIN IMMEDIATE), where no writer appends meanwhile; SQLite never reads past the
 * last valid frame, and a zero frame ends recovery's scan (its salt and checksum fail), so the
 * log's meaning is unchanged.
 */
#ifndef PP_DB_SQLITE_LOG_H
#define PP_DB_SQLITE_LOG_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The log's working size for conn's page size: twice the checkpointer's threshold of frames,
 * where it settles under steady load.
 */
uint64_t db_sqlite_log_working_size(sqlite3 *conn);

/*
 * Grows conn's log file to at least bytes (0: db_sqlite_log_working_size()) and keeps it
 * across closes. A file already that large is left alone. *grown_r (may be NULL) gets the
 * bytes added. Called with the handle's lock held, outside a transaction. Returns 0 or -1.
 */
int db_sqlite_log_prepare(sqlite3 *conn, uint64_t bytes, uint64_t *grown_r, char *error,
			  size_t error_size);

#endif
