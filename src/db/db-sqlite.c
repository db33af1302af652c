/*
 * db-sqlite.c - the embedded backend: one SQLite file in WAL mode.
 *
 * Durability first: synchronous=FULL, so a committed job survives a power cut; foreign keys
 * on, so deleting a user removes its jobs and documents as on PostgreSQL. The file is created
 * 0600 before SQLite opens it (SQLite gives its -wal and -shm files the same mode). SQL text
 * is shared with PostgreSQL: parameters are written $1..$n and bound by name, and double-
 * quoted strings are refused as PostgreSQL would. Transactions use BEGIN IMMEDIATE, so a
 * writer waits for the write lock at the start (busy_timeout) instead of failing half-way.
 */
#include "db/db-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/str.h"

/* How long a statement waits for another process's write lock before failing. */
#define DB_SQLITE_BUSY_TIMEOUT_MS 10000

typedef struct {
	sqlite3 *conn;
} db_sqlite_t;

static sqlite3 *db_sqlite_conn(pp_db_t *db)
{
	return ((db_sqlite_t *)db->backend_data)->conn;
}

/* Maps an SQLite result code to DB_DUPLICATE or DB_ERROR and fills error. */
static int db_sqlite_fail(sqlite3 *conn, int rc, const char *what, char *error, size_t error_size)
{
	str_format(error, error_size, "sqlite: %s: %s", what, sqlite3_errmsg(conn));
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return DB_DUPLICATE;
	return DB_ERROR;
}

/* Creates the database file 0600 if it does not exist yet, so it is never world-readable. */
static int db_sqlite_create_file(const char *path, char *error, size_t error_size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return DB_OK;
		str_format(error, error_size,
		           "sqlite: cannot create %s: %s: check that its directory exists and is "
		           "writable by this user",
		           path, strerror(errno));
		return DB_ERROR;
	}
	int rc = DB_OK;
	/* The umask may have taken bits away; set exactly owner read/write. */
	if (fchmod(fd, 0600) != 0) {
		str_format(error, error_size, "sqlite: fchmod(%s) failed: %s", path,
		           strerror(errno));
		rc = DB_ERROR;
	}
	if (close(fd) != 0 && rc == DB_OK) {
		str_format(error, error_size, "sqlite: close(%s) failed: %s", path,
		           strerror(errno));
		rc = DB_ERROR;
	}
	return rc;
}

/* Runs a PRAGMA that answers one text value and checks the answer. */
static int db_sqlite_pragma_expect(sqlite3 *conn, const char *sql, const char *expect, char *error,
                                   size_t error_size)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return db_sqlite_fail(conn, rc, sql, error, error_size);
	rc = sqlite3_step(stmt);
	int ret = DB_OK;
	if (rc != SQLITE_ROW) {
		ret = db_sqlite_fail(conn, rc, sql, error, error_size);
	} else {
		const char *value = (const char *)sqlite3_column_text(stmt, 0);
		if (value == NULL || strcmp(value, expect) != 0) {
			str_format(error, error_size,
			           "sqlite: %s answered \"%s\", not \"%s\": the file system may "
			           "not support it (use a local disk)",
			           sql, value != NULL ? value : "", expect);
			ret = DB_ERROR;
		}
	}
	(void)sqlite3_finalize(stmt);
	return ret;
}

/* Sets the connection up: strict SQL, WAL, durable commits, foreign keys, busy wait. */
static int db_sqlite_configure(sqlite3 *conn, bool is_memory, char *error, size_t error_size)
{
	int rc = sqlite3_extended_result_codes(conn, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(conn, DB_SQLITE_BUSY_TIMEOUT_MS);
	/* Double-quoted strings are identifiers only, as in PostgreSQL. */
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(conn, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(conn, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
	if (rc != SQLITE_OK)
		return db_sqlite_fail(conn, rc, "configure", error, error_size);

	if (!is_memory && db_sqlite_pragma_expect(conn, "PRAGMA journal_mode=WAL", "wal", error,
	                                          error_size) != DB_OK)
		return DB_ERROR;
	char *msg = NULL;
	rc = sqlite3_exec(conn, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", NULL, NULL,
	                  &msg);
	if (rc != SQLITE_OK) {
		str_format(error, error_size, "sqlite: cannot set synchronous and foreign_keys: %s",
		           msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return DB_ERROR;
	}
	return db_sqlite_pragma_expect(conn, "PRAGMA foreign_keys", "1", error, error_size);
}

static int db_sqlite_open(pp_db_t *db, const char *url, char *error, size_t error_size)
{
	/* "sqlite:/path", also "sqlite:///path". */
	const char *path = url + strlen("sqlite:");
	if (str_has_prefix(path, "//"))
		path += 2;
	if (path[0] == '\0') {
		str_format(error, error_size,
		           "sqlite: the URL names no file: use sqlite:/path/to/pullprint.db");
		return DB_ERROR;
	}
	bool is_memory = strcmp(path, ":memory:") == 0;
	if (!is_memory && db_sqlite_create_file(path, error, error_size) != DB_OK)
		return DB_ERROR;

	db_sqlite_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		str_format(error, error_size, "sqlite: out of memory");
		return DB_ERROR;
	}
	/* The handle's own mutex serialises calls, so SQLite's per-connection mutex is not
	   needed. */
	int flags =
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	int rc = sqlite3_open_v2(path, &s->conn, flags, NULL);
	if (rc != SQLITE_OK) {
		str_format(error, error_size, "sqlite: cannot open %s: %s", path,
		           s->conn != NULL ? sqlite3_errmsg(s->conn) : sqlite3_errstr(rc));
		(void)sqlite3_close(s->conn);
		free(s);
		return DB_ERROR;
	}
	if (db_sqlite_configure(s->conn, is_memory, error, error_size) != DB_OK) {
		(void)sqlite3_close(s->conn);
		free(s);
		return DB_ERROR;
	}
	db->backend_data = s;
	return DB_OK;
}

static void db_sqlite_close(pp_db_t *db)
{
	db_sqlite_t *s = db->backend_data;
	if (s == NULL)
		return;
	int rc = sqlite3_close(s->conn);
	if (rc != SQLITE_OK)
		log_error("db.close_failed backend=sqlite error=\"%s\"", sqlite3_errstr(rc));
	free(s);
	db->backend_data = NULL;
}

/* True when s is "$k" with 1 <= k <= n. */
static bool db_sqlite_param_name_ok(const char *s, size_t n)
{
	/* Parse without a small max, then compare: parse_uint64's bound check needs max >= 9. */
	uint64_t k;
	return s != NULL && s[0] == '$' && parse_uint64_full(s + 1, UINT64_MAX, &k) && k >= 1 &&
	       k <= n;
}

/*
 * Prepares one statement and binds params to $1..$n by name. Every parameter of the SQL must
 * be given and every given one used (PostgreSQL refuses the same mistakes). *stmt_r is new;
 * finalize it.
 */
static int db_sqlite_prepare(sqlite3 *conn, const char *sql, const pp_db_value_t *params,
                             size_t n_params, sqlite3_stmt **stmt_r, char *error, size_t error_size)
{
	*stmt_r = NULL;
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	int rc = sqlite3_prepare_v2(conn, sql, -1, &stmt, &tail);
	if (rc != SQLITE_OK)
		return db_sqlite_fail(conn, rc, "prepare", error, error_size);
	if (stmt == NULL) {
		str_format(error, error_size, "sqlite: the SQL holds no statement");
		return DB_ERROR;
	}
	/* One statement per call: a second one would silently not run. */
	for (; tail != NULL && *tail != '\0'; tail++) {
		if (*tail != ' ' && *tail != '\n' && *tail != '\t' && *tail != '\r' &&
		    *tail != ';') {
			str_format(error, error_size,
			           "sqlite: more than one statement in one call: run them "
			           "separately");
			(void)sqlite3_finalize(stmt);
			return DB_ERROR;
		}
	}

	int count = sqlite3_bind_parameter_count(stmt);
	for (int idx = 1; idx <= count; idx++) {
		const char *name = sqlite3_bind_parameter_name(stmt, idx);
		if (!db_sqlite_param_name_ok(name, n_params)) {
			str_format(error, error_size,
			           "sqlite: the statement uses parameter %s but %zu were given "
			           "(write parameters as $1..$n)",
			           name != NULL ? name : "?", n_params);
			(void)sqlite3_finalize(stmt);
			return DB_ERROR;
		}
	}
	for (size_t i = 0; i < n_params; i++) {
		char name[32];
		if (!str_format(name, sizeof(name), "$%zu", i + 1)) {
			(void)sqlite3_finalize(stmt);
			return DB_ERROR;
		}
		int idx = sqlite3_bind_parameter_index(stmt, name);
		if (idx == 0) {
			str_format(
			    error, error_size,
			    "sqlite: parameter %s was given but the statement does not use it",
			    name);
			(void)sqlite3_finalize(stmt);
			return DB_ERROR;
		}
		const pp_db_value_t *p = &params[i];
		switch (p->type) {
		case PP_DB_INT:
			rc = sqlite3_bind_int64(stmt, idx, p->i);
			break;
		case PP_DB_TEXT:
			rc = p->s == NULL ? sqlite3_bind_null(stmt, idx)
			                  : sqlite3_bind_text(stmt, idx, p->s, -1, SQLITE_STATIC);
			break;
		case PP_DB_BLOB:
			/* An empty blob is still a blob, not NULL. */
			rc = p->len == 0 || p->blob == NULL
			         ? sqlite3_bind_zeroblob(stmt, idx, 0)
			         : sqlite3_bind_blob64(stmt, idx, p->blob, p->len, SQLITE_STATIC);
			break;
		case PP_DB_NULL:
		default:
			rc = sqlite3_bind_null(stmt, idx);
			break;
		}
		if (rc != SQLITE_OK) {
			int ret = db_sqlite_fail(conn, rc, "bind", error, error_size);
			(void)sqlite3_finalize(stmt);
			return ret;
		}
	}
	*stmt_r = stmt;
	return DB_OK;
}

/* Copies the current row of stmt into result. */
static int db_sqlite_copy_row(sqlite3_stmt *stmt, pp_db_result_t *result, char *error,
                              size_t error_size)
{
	int cols = sqlite3_column_count(stmt);
	for (int c = 0; c < cols; c++) {
		int type = sqlite3_column_type(stmt, c);
		const void *data = NULL;
		if (type == SQLITE_BLOB)
			data = sqlite3_column_blob(stmt, c);
		else if (type != SQLITE_NULL)
			data = sqlite3_column_text(stmt, c); /* numbers as decimal text */
		size_t len = (size_t)sqlite3_column_bytes(stmt, c);
		if (db_result_append(result, data, len, type == SQLITE_NULL, error, error_size) !=
		    0)
			return DB_ERROR;
	}
	return DB_OK;
}

/* Steps stmt to the end, copying rows into result when non-NULL. Finalizes stmt. */
static int db_sqlite_run(sqlite3 *conn, sqlite3_stmt *stmt, pp_db_result_t *result, char *error,
                         size_t error_size)
{
	int rc;
	int ret = DB_OK;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (result != NULL &&
		    db_sqlite_copy_row(stmt, result, error, error_size) != DB_OK) {
			ret = DB_ERROR;
			break;
		}
	}
	if (ret == DB_OK && rc != SQLITE_DONE)
		ret = db_sqlite_fail(conn, rc, "statement failed", error, error_size);
	(void)sqlite3_finalize(stmt);
	return ret;
}

static int db_sqlite_exec(pp_db_t *db, const char *sql, const pp_db_value_t *params,
                          size_t n_params, int64_t *changes_r, char *error, size_t error_size)
{
	sqlite3 *conn = db_sqlite_conn(db);
	sqlite3_stmt *stmt;
	int rc = db_sqlite_prepare(conn, sql, params, n_params, &stmt, error, error_size);
	if (rc != DB_OK)
		return rc;
	rc = db_sqlite_run(conn, stmt, NULL, error, error_size);
	if (rc == DB_OK && changes_r != NULL)
		*changes_r = sqlite3_changes64(conn);
	return rc;
}

static int db_sqlite_query(pp_db_t *db, const char *sql, const pp_db_value_t *params,
                           size_t n_params, pp_db_result_t **result_r, char *error,
                           size_t error_size)
{
	sqlite3 *conn = db_sqlite_conn(db);
	sqlite3_stmt *stmt;
	int rc = db_sqlite_prepare(conn, sql, params, n_params, &stmt, error, error_size);
	if (rc != DB_OK)
		return rc;
	pp_db_result_t *result = db_result_new((size_t)sqlite3_column_count(stmt));
	if (result == NULL) {
		(void)sqlite3_finalize(stmt);
		str_format(error, error_size, "sqlite: out of memory for a query result");
		return DB_ERROR;
	}
	rc = db_sqlite_run(conn, stmt, result, error, error_size);
	if (rc != DB_OK) {
		db_result_free(&result);
		return rc;
	}
	*result_r = result;
	return DB_OK;
}

static int db_sqlite_exec_script(pp_db_t *db, const char *sql, char *error, size_t error_size)
{
	sqlite3 *conn = db_sqlite_conn(db);
	char *msg = NULL;
	int rc = sqlite3_exec(conn, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return DB_OK;
	str_format(error, error_size, "sqlite: %s", msg != NULL ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	rc = sqlite3_extended_errcode(conn);
	return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? DB_DUPLICATE
	                                                                            : DB_ERROR;
}

static int db_sqlite_simple(pp_db_t *db, const char *sql, char *error, size_t error_size)
{
	sqlite3 *conn = db_sqlite_conn(db);
	int rc = sqlite3_exec(conn, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_sqlite_fail(conn, rc, sql, error, error_size);
	return DB_OK;
}

static int db_sqlite_begin(pp_db_t *db, char *error, size_t error_size)
{
	return db_sqlite_simple(db, "BEGIN IMMEDIATE", error, error_size);
}

static int db_sqlite_commit(pp_db_t *db, char *error, size_t error_size)
{
	return db_sqlite_simple(db, "COMMIT", error, error_size);
}

static int db_sqlite_rollback(pp_db_t *db, char *error, size_t error_size)
{
	/* SQLite may already have rolled back by itself (e.g. out of disk); that is success. */
	if (sqlite3_get_autocommit(db_sqlite_conn(db)) != 0)
		return DB_OK;
	return db_sqlite_simple(db, "ROLLBACK", error, error_size);
}

const struct db_vfuncs db_sqlite_vfuncs = {
    .name = "sqlite",
    .backend = PP_DB_SQLITE,
    .id_type = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .blob_type = "BLOB",
    .table_exists_sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
    .migrate_lock_sql = NULL, /* BEGIN IMMEDIATE already holds the write lock */
    .open = db_sqlite_open,
    .close = db_sqlite_close,
    .exec = db_sqlite_exec,
    .query = db_sqlite_query,
    .exec_script = db_sqlite_exec_script,
    .begin = db_sqlite_begin,
    .commit = db_sqlite_commit,
    .rollback = db_sqlite_rollback,
};
