/*
 * db-sqlite-checkpoint.h - moving the WAL's pages into the database file off the request path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: that
 * commit copies every page of the log into the database file and flushes both, holding the
 * handle's lock, so every request behind it waits (a pause of several milliseconds every few
 * dozen jobs). Instead, a WAL hook on the handle's connection counts the log's frames and
 * wakes a background thread with its own connection, which copies the log with a PASSIVE
 * checkpoint (it never blocks writers); the next commit copies the few frames added
 * meanwhile, so the whole log is copied and the next writer starts it again from the
 * beginning: the log file keeps its size (its flushes then write no metadata).
 * Should the thread not keep up (the log past DB_SQLITE_CKPT_HARD_FRAMES), the committing
 * connection checkpoints itself, as SQLite would.
 */
#ifndef PP_DB_SQLITE_CHECKPOINT_H
#define PP_DB_SQLITE_CHECKPOINT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Wake the thread from this many log frames (~40 MiB of log). Ten times SQLite's default:
 * the pages a job touches are mostly the same few (the tables' and indexes' last pages,
 * the header), so a longer log copies each of them once for many more jobs, and the
 * database file's flush competes less often with the commits' log flushes.
 */
#define DB_SQLITE_CKPT_FRAMES 10000
#define DB_SQLITE_CKPT_HARD_FRAMES 50000 /* the committer checkpoints itself from here */

typedef struct db_sqlite_checkpointer db_sqlite_checkpointer_t;

/*
 * Installs the WAL hook on conn (the database file at path); the thread starts at the first
 * checkpoint wanted. Returns 0 with *ckpt_r (new; db_sqlite_checkpointer_detach()), or -1
 * with error.
 */
int db_sqlite_checkpointer_attach(sqlite3 *conn, const char *path,
				  db_sqlite_checkpointer_t **ckpt_r, char *error,
				  size_t error_size);

/*
 * Commits on the handle's connection that wrote frames to the log so far (SQLite calls the
 * hook only for those). A write that changed no page (a DELETE that matched no row) leaves it
 * as it was: it has nothing to flush. Read with the handle's lock held: the hook runs under
 * it.
 */
uint64_t db_sqlite_checkpointer_logged(const db_sqlite_checkpointer_t *ckpt);

/* Stops the thread, closes its connection, removes the hook. Before closing conn. NULL-safe. */
void db_sqlite_checkpointer_detach(db_sqlite_checkpointer_t **ckpt);

#endif
