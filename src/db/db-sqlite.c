/*
 * db-sqlite.c - the embedded backend: one SQLite file in WAL mode.
 *
 * Durability first: synchronous=FULL, so a committed job survives a power cut; foreign keys
 * on, so deleting a user removes its jobs and documents as on PostgreSQL. The file is created
 * 0600 before SQLite opens it (SQLite gives its -wal and -shm files the same mode). SQL text
 * is shared with PostgreSQL: parameters are written $1..$n and bound by name, and double-
 * quoted strings are refused as PostgreSQL would. Transactions use BEGIN IMMEDIATE, so a
 * writer waits for the write lock at the start (busy_timeout) instead of failing half-way.
 *
 * Durable commits without holding the handle: SQLite runs with synchronous=NORMAL (a commit
 * writes the WAL but does not flush it) and the flush is ours. A statement outside a
 * transaction that wrote is flushed before it returns, as synchronous=FULL would. A COMMIT
 * is flushed by db_sqlite_sync(), which db_tx_commit() calls once the handle's lock is
 * released: readers and the next transaction go on while the disk works, and commits that
 * end meanwhile share one fdatasync() of the WAL (a group commit of the log). A failed flush
 * aborts the process, as PostgreSQL does: the commit is visible already and cannot be taken
 * back, and after a failed fsync the kernel may have dropped the pages, so retrying would
 * only pretend; a restart recovers from what is on disk.
 */
#include "db/db-private.h"
#include "db/db-sqlite-checkpoint.h"
#include "db/db-sqlite-log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/str.h"

/* How long a statement waits for another process's write lock before failing. */
#define DB_SQLITE_BUSY_TIMEOUT_MS 10000

/*
 * Prepared statements kept for reuse, keyed by their SQL text: preparing costs more than
 * running the small statements of a job submission. A bounded table; the slot of a new
 * statement evicts (finalizes) whatever held it. A kept statement is always reset after its
 * run, so it holds no read snapshot between calls. Guarded by the handle's mutex (db.c).
 */
#define DB_SQLITE_CACHE_SLOTS 128
#define DB_SQLITE_CACHE_SQL_MAX 2048 /* longer SQL is prepared afresh each time */

typedef struct {
	sqlite3_stmt *stmt; /* NULL = empty slot */
	uint64_t hash;
	size_t n_params; /* the parameter count the statement was checked against */
} db_sqlite_cached_t;

/* The log flush shared by concurrent commits (see the file comment). */
typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t done;
	uint64_t written; /* commits that wrote, counted under the handle's lock */
	uint64_t synced;  /* of those, how many are known durable */
	uint64_t flushes; /* flushes that made them so */
	bool is_syncing;  /* one thread is flushing now */
	int wal_fd;       /* the -wal file, opened at the first flush; -1 until then */
	char wal_path[PATH_MAX];
	char db_path[PATH_MAX];
} db_sqlite_sync_t;

typedef struct {
	sqlite3 *conn;
	bool is_memory;
	db_sqlite_sync_t sync;
	db_sqlite_checkpointer_t *checkpointer; /* NULL in memory */
	db_sqlite_cached_t cache[DB_SQLITE_CACHE_SLOTS];
} db_sqlite_t;

static sqlite3 *db_sqlite_conn(pp_db_t *db)
{
	return ((db_sqlite_t *)db->backend_data)->conn;
}

/* FNV-1a of sql, and its length (the cache's key). */
static uint64_t db_sqlite_hash(const char *sql, size_t *len_r)
{
	uint64_t h = 1469598103934665603ULL;
	size_t n = 0;
	for (; sql[n] != '\0'; n++) {
		h ^= (uint8_t)sql[n];
		h *= 1099511628211ULL;
	}
	*len_r = n;
	return h;
}

/*
 * Flushes the WAL (or, when there is none, the database file) of s to the disk. The -wal file
 * is opened once and again only if it was removed (the last connection of all closed).
 * Returns 0 or -1 with errno.
 */
static int db_sqlite_flush(db_sqlite_sync_t *y)
{
	struct stat st;
	if (y->wal_fd >= 0 && (fstat(y->wal_fd, &st) < 0 || st.st_nlink == 0)) {
		(void)close(y->wal_fd); /* read-only, and the file is gone */
		y->wal_fd = -1;
	}
	if (y->wal_fd < 0)
		y->wal_fd = open(y->wal_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (y->wal_fd >= 0)
		return fdatasync(y->wal_fd);
	if (errno != ENOENT)
		return -1;
	/* No WAL file: what was committed is in the database file. */
	int fd = open(y->db_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	int rc = fdatasync(fd);
	int saved = errno;
	(void)close(fd); /* read-only */
	errno = saved;
	return rc;
}

/*
 * A mark of the log's commits (handle lock held), for db_sqlite_logged_since(): a write that
 * changed no page (a DELETE that matched no row: every signed-in request resets its account's
 * failures so) commits nothing, so there is nothing to wait for the disk for.
 */
static uint64_t db_sqlite_log_mark(const db_sqlite_t *s)
{
	return s->checkpointer != NULL ? db_sqlite_checkpointer_logged(s->checkpointer) : 0;
}

/* Whether a commit since mark wrote to the log. Without the hook it cannot tell: yes. */
static bool db_sqlite_logged_since(const db_sqlite_t *s, uint64_t mark)
{
	return s->checkpointer == NULL || db_sqlite_checkpointer_logged(s->checkpointer) != mark;
}

/* Counts a commit that wrote (handle lock held): db_sqlite_sync() makes it durable. */
static void db_sqlite_note_write(db_sqlite_t *s)
{
	db_sqlite_sync_t *y = &s->sync;
	if (s->is_memory)
		return;
	(void)pthread_mutex_lock(&y->lock);
	y->written++;
	(void)pthread_mutex_unlock(&y->lock);
}

/*
 * Returns once every commit counted before the call is durable. The first caller to find no
 * flush running flushes for everyone counted so far; the others wait for it. Aborts when the
 * flush fails (see the file comment). Always DB_OK.
 */
static int db_sqlite_sync_wait(db_sqlite_t *s)
{
	db_sqlite_sync_t *y = &s->sync;
	if (s->is_memory)
		return DB_OK;
	(void)pthread_mutex_lock(&y->lock);
	uint64_t want = y->written;
	while (y->synced < want) {
		if (y->is_syncing) {
			(void)pthread_cond_wait(&y->done, &y->lock);
			continue;
		}
		y->is_syncing = true;
		uint64_t target = y->written;
		(void)pthread_mutex_unlock(&y->lock);
		if (db_sqlite_flush(y) < 0) {
			log_error("db.sync_failed backend=sqlite file=%s error=\"%s\" — committed "
			          "data may not be on disk; stopping so that a restart recovers from "
			          "what is; check the disk",
			          y->wal_path, strerror(errno));
			abort();
		}
		(void)pthread_mutex_lock(&y->lock);
		y->flushes++;
		y->is_syncing = false;
		if (target > y->synced)
			y->synced = target;
		(void)pthread_cond_broadcast(&y->done);
	}
	(void)pthread_mutex_unlock(&y->lock);
	return DB_OK;
}

static int db_sqlite_sync(pp_db_t *db, char *error, size_t error_size)
{
	(void)error;
	(void)error_size;
	return db_sqlite_sync_wait(db->backend_data);
}

static void db_sqlite_flush_stats(pp_db_t *db, uint64_t *commits_r, uint64_t *flushes_r)
{
	db_sqlite_sync_t *y = &((db_sqlite_t *)db->backend_data)->sync;
	(void)pthread_mutex_lock(&y->lock);
	*commits_r = y->written;
	*flushes_r = y->flushes;
	(void)pthread_mutex_unlock(&y->lock);
}

/* Sets up s->sync for the file at path. Returns 0 or an errno value. */
static int db_sqlite_sync_init(db_sqlite_t *s, const char *path)
{
	db_sqlite_sync_t *y = &s->sync;
	y->wal_fd = -1;
	if (!str_copy(y->db_path, sizeof(y->db_path), path) ||
	    !str_format(y->wal_path, sizeof(y->wal_path), "%s-wal", path))
		return ENAMETOOLONG;
	int rc = pthread_mutex_init(&y->lock, NULL);
	if (rc != 0)
		return rc;
	rc = pthread_cond_init(&y->done, NULL);
	if (rc != 0)
		(void)pthread_mutex_destroy(&y->lock);
	return rc;
}

static void db_sqlite_sync_destroy(db_sqlite_t *s)
{
	db_sqlite_sync_t *y = &s->sync;
	if (y->wal_fd >= 0)
		(void)close(y->wal_fd); /* read-only */
	(void)pthread_cond_destroy(&y->done);
	(void)pthread_mutex_destroy(&y->lock);
}

/* Finalizes every kept statement (before the connection closes). */
static void db_sqlite_cache_clear(db_sqlite_t *s)
{
	for (size_t i = 0; i < DB_SQLITE_CACHE_SLOTS; i++) {
		if (s->cache[i].stmt != NULL)
			(void)sqlite3_finalize(s->cache[i].stmt);
		s->cache[i].stmt = NULL;
	}
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
	/* NORMAL: the WAL flush is ours, outside the handle's lock (see the file comment). */
	rc = sqlite3_exec(conn, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", NULL, NULL,
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
	s->is_memory = is_memory;
	int sync_rc = db_sqlite_sync_init(s, path);
	if (sync_rc != 0) {
		str_format(error, error_size, "sqlite: cannot set up commits for %s: %s", path,
		           strerror(sync_rc));
		free(s);
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
		db_sqlite_sync_destroy(s);
		free(s);
		return DB_ERROR;
	}
	if (db_sqlite_configure(s->conn, is_memory, error, error_size) != DB_OK ||
	    (!is_memory && db_sqlite_checkpointer_attach(s->conn, path, &s->checkpointer, error,
	                                                 error_size) < 0)) {
		(void)sqlite3_close(s->conn);
		db_sqlite_sync_destroy(s);
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
	db_sqlite_cache_clear(s);
	db_sqlite_checkpointer_detach(&s->checkpointer);
	int rc = sqlite3_close(s->conn);
	if (rc != SQLITE_OK)
		log_error("db.close_failed backend=sqlite error=\"%s\"", sqlite3_errstr(rc));
	db_sqlite_sync_destroy(s);
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
 * Checks that the statement's parameters are exactly $1..$n_params (PostgreSQL refuses the
 * same mistakes): every one it uses is given, and every given one is used.
 */
static int db_sqlite_check_params(sqlite3_stmt *stmt, size_t n_params, char *error,
                                  size_t error_size)
{
	int count = sqlite3_bind_parameter_count(stmt);
	for (int idx = 1; idx <= count; idx++) {
		const char *name = sqlite3_bind_parameter_name(stmt, idx);
		if (!db_sqlite_param_name_ok(name, n_params)) {
			str_format(error, error_size,
			           "sqlite: the statement uses parameter %s but %zu were given "
			           "(write parameters as $1..$n)",
			           name != NULL ? name : "?", n_params);
			return DB_ERROR;
		}
	}
	for (size_t i = 0; i < n_params; i++) {
		char name[32];
		if (!str_format(name, sizeof(name), "$%zu", i + 1))
			return DB_ERROR;
		if (sqlite3_bind_parameter_index(stmt, name) == 0) {
			str_format(
			    error, error_size,
			    "sqlite: parameter %s was given but the statement does not use it",
			    name);
			return DB_ERROR;
		}
	}
	return DB_OK;
}

/* Prepares sql afresh (exactly one statement). *stmt_r is new; finalize or keep it. */
static int db_sqlite_prepare_new(sqlite3 *conn, const char *sql, size_t len, bool is_kept,
                                 sqlite3_stmt **stmt_r, char *error, size_t error_size)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	(void)len;
	int rc = sqlite3_prepare_v3(conn, sql, -1,
	                            is_kept ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
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
	*stmt_r = stmt;
	return DB_OK;
}

/*
 * Finds sql's kept statement, or prepares it (and keeps it when short enough), checking its
 * parameters against n_params. *stmt_r is borrowed from the cache when kept, else new:
 * either way hand it to db_sqlite_release().
 */
static int db_sqlite_lookup(db_sqlite_t *s, const char *sql, size_t n_params,
                            sqlite3_stmt **stmt_r, char *error, size_t error_size)
{
	size_t len = 0;
	uint64_t hash = db_sqlite_hash(sql, &len);
	db_sqlite_cached_t *slot = &s->cache[hash % DB_SQLITE_CACHE_SLOTS];
	if (slot->stmt != NULL && slot->hash == hash &&
	    strcmp(sqlite3_sql(slot->stmt), sql) == 0) {
		if (slot->n_params != n_params &&
		    db_sqlite_check_params(slot->stmt, n_params, error, error_size) != DB_OK)
			return DB_ERROR;
		slot->n_params = n_params;
		*stmt_r = slot->stmt;
		return DB_OK;
	}
	bool is_kept = len <= DB_SQLITE_CACHE_SQL_MAX;
	sqlite3_stmt *stmt = NULL;
	int rc = db_sqlite_prepare_new(s->conn, sql, len, is_kept, &stmt, error, error_size);
	if (rc != DB_OK)
		return rc;
	if (db_sqlite_check_params(stmt, n_params, error, error_size) != DB_OK) {
		(void)sqlite3_finalize(stmt);
		return DB_ERROR;
	}
	/* Kept only when sqlite3_sql() gives back exactly sql, so the next lookup finds it. */
	if (is_kept && strcmp(sqlite3_sql(stmt), sql) == 0) {
		if (slot->stmt != NULL)
			(void)sqlite3_finalize(slot->stmt);
		*slot = (db_sqlite_cached_t){.stmt = stmt, .hash = hash, .n_params = n_params};
	}
	*stmt_r = stmt;
	return DB_OK;
}

/* Done with stmt: a kept one is reset (no snapshot held, no borrowed text bound), another
 * finalized. */
static void db_sqlite_release(db_sqlite_t *s, sqlite3_stmt *stmt)
{
	if (stmt == NULL)
		return;
	size_t len = 0;
	uint64_t hash = db_sqlite_hash(sqlite3_sql(stmt), &len);
	if (s->cache[hash % DB_SQLITE_CACHE_SLOTS].stmt == stmt) {
		(void)sqlite3_reset(stmt);
		(void)sqlite3_clear_bindings(stmt);
		return;
	}
	(void)sqlite3_finalize(stmt);
}

/*
 * Finds or prepares one statement and binds params to $1..$n by name. *stmt_r goes back
 * through db_sqlite_release().
 */
static int db_sqlite_prepare(db_sqlite_t *s, const char *sql, const pp_db_value_t *params,
                             size_t n_params, sqlite3_stmt **stmt_r, char *error, size_t error_size)
{
	sqlite3 *conn = s->conn;
	*stmt_r = NULL;
	sqlite3_stmt *stmt = NULL;
	int rc = db_sqlite_lookup(s, sql, n_params, &stmt, error, error_size);
	if (rc != DB_OK)
		return rc;
	for (size_t i = 0; i < n_params; i++) {
		char name[32];
		if (!str_format(name, sizeof(name), "$%zu", i + 1)) {
			db_sqlite_release(s, stmt);
			return DB_ERROR;
		}
		int idx = sqlite3_bind_parameter_index(stmt, name);
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
			db_sqlite_release(s, stmt);
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

/* Steps stmt to the end, copying rows into result when non-NULL. Releases stmt. */
static int db_sqlite_run(db_sqlite_t *s, sqlite3_stmt *stmt, pp_db_result_t *result, char *error,
                         size_t error_size)
{
	sqlite3 *conn = s->conn;
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
	db_sqlite_release(s, stmt);
	return ret;
}

static int db_sqlite_exec(pp_db_t *db, const char *sql, const pp_db_value_t *params,
                          size_t n_params, int64_t *changes_r, char *error, size_t error_size)
{
	db_sqlite_t *s = db->backend_data;
	sqlite3 *conn = s->conn;
	sqlite3_stmt *stmt;
	int rc = db_sqlite_prepare(s, sql, params, n_params, &stmt, error, error_size);
	if (rc != DB_OK)
		return rc;
	/* BEGIN IMMEDIATE counts as a write to SQLite but commits nothing by itself. */
	bool is_lone_write = sqlite3_get_autocommit(conn) != 0 && !sqlite3_stmt_readonly(stmt) &&
	                     strcmp(sql, "BEGIN IMMEDIATE") != 0;
	uint64_t mark = db_sqlite_log_mark(s);
	rc = db_sqlite_run(s, stmt, NULL, error, error_size);
	if (rc == DB_OK && changes_r != NULL)
		*changes_r = sqlite3_changes64(conn);
	/* A write outside a transaction is its own commit: durable before it returns. */
	if (rc == DB_OK && is_lone_write && db_sqlite_logged_since(s, mark)) {
		db_sqlite_note_write(s);
		rc = db_sqlite_sync_wait(s);
	}
	return rc;
}

static int db_sqlite_query(pp_db_t *db, const char *sql, const pp_db_value_t *params,
                           size_t n_params, pp_db_result_t **result_r, char *error,
                           size_t error_size)
{
	db_sqlite_t *s = db->backend_data;
	sqlite3_stmt *stmt;
	int rc = db_sqlite_prepare(s, sql, params, n_params, &stmt, error, error_size);
	if (rc != DB_OK)
		return rc;
	pp_db_result_t *result = db_result_new((size_t)sqlite3_column_count(stmt));
	if (result == NULL) {
		db_sqlite_release(s, stmt);
		str_format(error, error_size, "sqlite: out of memory for a query result");
		return DB_ERROR;
	}
	bool is_lone_write =
	    sqlite3_get_autocommit(s->conn) != 0 && !sqlite3_stmt_readonly(stmt);
	uint64_t mark = db_sqlite_log_mark(s);
	rc = db_sqlite_run(s, stmt, result, error, error_size);
	if (rc != DB_OK) {
		db_result_free(&result);
		return rc;
	}
	/* INSERT … RETURNING outside a transaction: durable before it returns. */
	if (is_lone_write && db_sqlite_logged_since(s, mark)) {
		db_sqlite_note_write(s);
		(void)db_sqlite_sync_wait(s);
	}
	*result_r = result;
	return DB_OK;
}

static int db_sqlite_exec_script(pp_db_t *db, const char *sql, char *error, size_t error_size)
{
	sqlite3 *conn = db_sqlite_conn(db);
	char *msg = NULL;
	bool is_lone = sqlite3_get_autocommit(conn) != 0;
	int rc = sqlite3_exec(conn, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK) {
		/* Outside a transaction each statement committed: flush them. */
		if (is_lone && sqlite3_get_autocommit(conn) != 0) {
			db_sqlite_note_write(db->backend_data);
			return db_sqlite_sync_wait(db->backend_data);
		}
		return DB_OK;
	}
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

/* BEGIN and COMMIT run as kept statements: they come with every transaction. */
static int db_sqlite_begin(pp_db_t *db, char *error, size_t error_size)
{
	return db_sqlite_exec(db, "BEGIN IMMEDIATE", NULL, 0, NULL, error, error_size);
}

/*
 * COMMIT writes the WAL; db_tx_commit() then calls db_sqlite_sync() outside the lock, unless
 * the transaction changed no page.
 */
static int db_sqlite_commit(pp_db_t *db, bool *needs_sync_r, char *error, size_t error_size)
{
	db_sqlite_t *s = db->backend_data;
	uint64_t mark = db_sqlite_log_mark(s);
	*needs_sync_r = false;
	int rc = db_sqlite_exec(db, "COMMIT", NULL, 0, NULL, error, error_size);
	if (rc == DB_OK && db_sqlite_logged_since(s, mark)) {
		db_sqlite_note_write(s);
		*needs_sync_r = true;
	}
	return rc;
}

static int db_sqlite_rollback(pp_db_t *db, char *error, size_t error_size)
{
	/* SQLite may already have rolled back by itself (e.g. out of disk); that is success. */
	if (sqlite3_get_autocommit(db_sqlite_conn(db)) != 0)
		return DB_OK;
	return db_sqlite_simple(db, "ROLLBACK", error, error_size);
}

static int db_sqlite_prepare_log(pp_db_t *db, uint64_t *grown_r, char *error, size_t error_size)
{
	db_sqlite_t *s = db->backend_data;
	if (s->is_memory)
		return 0;
	return db_sqlite_log_prepare(s->conn, 0, grown_r, error, error_size);
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
    .sync = db_sqlite_sync,
    .flush_stats = db_sqlite_flush_stats,
    .prepare_log = db_sqlite_prepare_log,
};
