/*
 * db.h - the storage interface: one API, two backends (SQLite, PostgreSQL).
 *
 * SQL is written once in PostgreSQL's dialect subset that SQLite also understands, with
 * numbered parameters $1, $2, … bound from a pp_db_value_t array: never a string built from
 * input. Results are copied into memory at once, so a result outlives the lock and the
 * statement. A handle is shared by threads: every call locks it; db_tx_begin() keeps the lock
 * (recursively) until db_tx_commit()/db_tx_rollback(), so a transaction is one thread's.
 *
 * Schema changes are numbered migrations (migrations.c) applied in order by db_migrate().
 */
#ifndef PP_DB_H
#define PP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pp_db pp_db_t;
typedef struct pp_db_result pp_db_result_t;

typedef enum { PP_DB_SQLITE, PP_DB_POSTGRES } pp_db_backend_t;

typedef enum {
	PP_DB_NULL = 0,
	PP_DB_INT, /* int64_t */
	PP_DB_TEXT, /* NUL-terminated UTF-8 */
	PP_DB_BLOB, /* bytes with length */
} pp_db_type_t;

/* One bound parameter. Borrowed: the pointed-to data must live until the call returns. */
typedef struct {
	pp_db_type_t type;
	int64_t i;
	const char *s;
	const void *blob;
	size_t len;
} pp_db_value_t;

#define DB_NULL ((pp_db_value_t){.type = PP_DB_NULL})
#define DB_INT(v) ((pp_db_value_t){.type = PP_DB_INT, .i = (int64_t)(v)})
/* A NULL string binds SQL NULL. */
#define DB_TEXT(v) ((pp_db_value_t){.type = (v) != NULL ? PP_DB_TEXT : PP_DB_NULL, .s = (v)})
#define DB_BLOB(p, n) ((pp_db_value_t){.type = PP_DB_BLOB, .blob = (p), .len = (n)})

/* Error messages are copied into a caller buffer of this size. */
#define DB_ERROR_MAX 512

/*
 * Return values of every int function below. DB_DUPLICATE is a unique-constraint violation,
 * so callers can answer "already exists" rather than "database error".
 */
#define DB_OK 0
#define DB_ERROR (-1)
#define DB_DUPLICATE (-2)

/*
 * Opens the database named by url: "sqlite:/path/file.db" (created when missing, WAL mode,
 * file 0600) or "postgresql://user:pw@host:port/db?…" (libpq URI). On failure error holds a
 * message without the password. *db_r is new; close with db_close().
 */
int db_open(const char *url, pp_db_t **db_r, char *error, size_t error_size);

/* Closes the connection and frees *db; sets *db to NULL. NULL is a no-op. */
void db_close(pp_db_t **db);

pp_db_backend_t db_backend(const pp_db_t *db);

/* Applies every migration newer than the schema's version, each in its own transaction. */
int db_migrate(pp_db_t *db, char *error, size_t error_size);

/*
 * For the long-running server, once at start: SQLite grows its write-ahead log file to the
 * size it works at and keeps it across restarts (db-sqlite-log.h), so commits do not pay for
 * the file's growth; PostgreSQL has nothing to do. *grown_r (may be NULL) gets the bytes
 * added. Returns DB_OK or DB_ERROR (the server runs on: this only costs speed).
 */
int db_prepare_log(pp_db_t *db, uint64_t *grown_r, char *error, size_t error_size);

/*
 * How this handle made its commits durable: *commits_r commits that wrote, covered by
 * *flushes_r flushes of the log (a flush covers every commit that ended while it ran, so
 * under load there are fewer flushes than commits). A write that changed nothing needs no
 * flush and counts in neither. SQLite only: PostgreSQL's server flushes, and both read 0.
 */
void db_flush_stats(pp_db_t *db, uint64_t *commits_r, uint64_t *flushes_r);

/* The schema version now in the database (the number of the last applied migration). */
int db_schema_version(pp_db_t *db, int *version_r, char *error, size_t error_size);

/*
 * Runs one statement (a second one in the same text is refused). *changes_r (may be NULL)
 * gets the number of rows it changed. Parameters $1..$n map to params[0..n-1]; on PostgreSQL
 * DB_INT is typed int8, DB_TEXT text and DB_BLOB bytea, so compare a text parameter only with
 * text. SQLite also refuses a given parameter that the SQL does not use.
 */
int db_exec(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
	    int64_t *changes_r, char *error, size_t error_size);

/*
 * Runs a query and copies every row into *result_r (new; free with db_result_free()).
 * Use LIMIT: results are held in memory.
 */
int db_query(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
	     pp_db_result_t **result_r, char *error, size_t error_size);

/*
 * Transactions. begin locks the handle for this thread until commit or rollback; other
 * threads' calls on the handle wait. Nesting is refused (DB_ERROR). On both backends a
 * statement that fails inside a transaction (DB_DUPLICATE too) dooms it, as PostgreSQL does:
 * later statements fail and commit rolls back and returns DB_ERROR. SQLite transactions take
 * the write lock at begin (BEGIN IMMEDIATE).
 */
int db_tx_begin(pp_db_t *db, char *error, size_t error_size);
int db_tx_commit(pp_db_t *db, char *error, size_t error_size);
/* Always releases the lock; failures are logged, since the caller is already failing. */
void db_tx_rollback(pp_db_t *db);

/*
 * A piece of work for db_tx_group(): runs statements on db (no db_tx_* calls) and returns
 * DB_OK, or DB_ERROR / DB_DUPLICATE with error filled. It may run twice (the first run rolled
 * back), so it must not act outside the database before it returns.
 */
typedef int db_tx_fn(pp_db_t *db, void *arg, char *error, size_t error_size);

/*
 * Group commit: runs fn inside a transaction shared with the db_tx_group() calls of other
 * threads that arrive while one is committing, and commits them all at once, so that many
 * small concurrent transactions cost one sync of the log instead of one each. Returns DB_OK
 * once this caller's work is committed (durable as with db_tx_commit()). If any member of a
 * group fails, or the shared commit does, the group is rolled back and each member is rerun
 * alone in its own transaction, so a failure reaches only the caller whose work failed: its
 * fn's result or the commit's DB_ERROR, with error filled. Must not be called inside a
 * transaction (DB_ERROR). At most DB_GROUP_MAX callers share one transaction.
 */
int db_tx_group(pp_db_t *db, db_tx_fn *fn, void *arg, char *error, size_t error_size);

#define DB_GROUP_MAX 64

/* Rows and columns of a result. Rows and columns count from 0. */
size_t db_result_rows(const pp_db_result_t *result);
size_t db_result_cols(const pp_db_result_t *result);
bool db_result_is_null(const pp_db_result_t *result, size_t row, size_t col);
/* Borrowed; valid until db_result_free(). "" for NULL; integers as decimal text. */
const char *db_result_text(const pp_db_result_t *result, size_t row, size_t col);
/* 0 for NULL or text that is not an integer. */
int64_t db_result_int(const pp_db_result_t *result, size_t row, size_t col);
/* Borrowed bytes of a BLOB/BYTEA column; *len_r set; NULL with *len_r 0 for NULL. */
const void *db_result_blob(const pp_db_result_t *result, size_t row, size_t col, size_t *len_r);
/*
 * Moves a cell's bytes out of the result: the caller owns them (free()), followed by a NUL
 * that *len_r does not count, and the cell reads as NULL afterwards. Saves a copy of a large
 * value. NULL with *len_r 0 for NULL or out of range.
 */
void *db_result_take(pp_db_result_t *result, size_t row, size_t col, size_t *len_r);
void db_result_free(pp_db_result_t **result);


#endif
