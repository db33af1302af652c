/*
 * db-private.h - what the storage backends share; included only inside src/db/ (and by the
 * database test fixtures, which read the migration list).
 *
 * Shape of Dovecot's lib-sql and curl's vtls: db.c owns the handle, its lock, transaction
 * bookkeeping, migrations and result storage; each backend (db-sqlite.c, db-postgres.c) fills
 * one struct db_vfuncs and keeps its connection in pp_db_t.backend_data. Backend functions
 * are always called with the handle's lock held.
 */
#ifndef PP_DB_PRIVATE_H
#define PP_DB_PRIVATE_H

#include "lib/batch.h"
#include "db/db.h"

#include <pthread.h>

typedef struct {
	int version;
	const char *name;
	const char *sql; /* with @ID@ and @BLOB@ placeholders; see migrations.c */
} db_migration_t;

/* The migrations in ascending version order. Borrowed, static. */
const db_migration_t *db_migrations_list(size_t *count_r);

/* Results hold at most this many bytes of cell data: past it, a query fails (use LIMIT). */
#define DB_RESULT_MAX_BYTES ((size_t)256 * 1024 * 1024)

struct db_vfuncs {
	const char *name; /* "sqlite", "postgresql": names the backend in messages */
	pp_db_backend_t backend;
	const char *id_type;   /* replaces @ID@ in migrations */
	const char *blob_type; /* replaces @BLOB@ in migrations */
	/* One row with one column when table $1 exists in the current schema. */
	const char *table_exists_sql;
	/* Run first inside each migration transaction to keep concurrent migrators apart; or NULL.
	 */
	const char *migrate_lock_sql;

	/* Connects; fills db->backend_data. On failure frees what it made. */
	int (*open)(pp_db_t *db, const char *url, char *error, size_t error_size);
	/* Disconnects and frees db->backend_data. */
	void (*close)(pp_db_t *db);
	/* One statement with bound parameters. Returns DB_OK, DB_ERROR or DB_DUPLICATE. */
	int (*exec)(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
	            int64_t *changes_r, char *error, size_t error_size);
	/* One statement; rows copied into a new result (db_result_new/db_result_append). */
	int (*query)(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
	             pp_db_result_t **result_r, char *error, size_t error_size);
	/* Several statements without parameters (migrations). */
	int (*exec_script)(pp_db_t *db, const char *sql, char *error, size_t error_size);
	int (*begin)(pp_db_t *db, char *error, size_t error_size);
	/* *needs_sync_r: the commit left something for sync() to flush (false: it wrote
	   nothing, or the backend's commit is durable by itself). */
	int (*commit)(pp_db_t *db, bool *needs_sync_r, char *error, size_t error_size);
	int (*rollback)(pp_db_t *db, char *error, size_t error_size);
	/* Optional (NULL = commit is durable by itself): makes the commits that returned so far
	   durable. Called by db_tx_commit() after a commit that asked for it, once the handle's
	   lock is released, so other threads' statements need not wait for the disk. */
	int (*sync)(pp_db_t *db, char *error, size_t error_size);
	/* Optional (NULL = nothing to prepare): see db_prepare_log(). Called outside a
	   transaction with the lock held. */
	int (*prepare_log)(pp_db_t *db, uint64_t *grown_r, char *error, size_t error_size);
	/* Optional (NULL = both 0): see db_flush_stats(). Called without the lock. */
	void (*flush_stats)(pp_db_t *db, uint64_t *commits_r, uint64_t *flushes_r);
};


struct pp_db {
	const struct db_vfuncs *v;
	pthread_mutex_t lock; /* recursive; db_tx_begin keeps it until commit or rollback */
	bool in_tx;           /* a transaction is open (by the thread holding the lock) */
	bool tx_failed;       /* a statement failed inside it: only rollback is possible */
	pp_batch_t group; /* callers waiting for a shared transaction (db-group.c) */
	void *backend_data;
};

/* Sets up and tears down db->group. init returns 0 or an errno value. */
int db_group_init(pp_db_t *db);
void db_group_destroy(pp_db_t *db);

extern const struct db_vfuncs db_sqlite_vfuncs;
extern const struct db_vfuncs db_postgres_vfuncs;

/* A new empty result with cols columns. NULL when out of memory. Free with db_result_free(). */
pp_db_result_t *db_result_new(size_t cols);

/*
 * Appends the next cell (row-major order) to result, copying len bytes of data and adding a
 * terminating NUL, so text cells read as C strings. is_null marks SQL NULL (data ignored).
 * Returns 0, or -1 with error filled when out of memory or past DB_RESULT_MAX_BYTES.
 */
int db_result_append(pp_db_result_t *result, const void *data, size_t len, bool is_null,
                     char *error, size_t error_size);

/* Runs several statements without parameters (migrations, fixtures). Locks the handle. */
int db_exec_script(pp_db_t *db, const char *sql, char *error, size_t error_size);

/*
 * Removes every occurrence of secret (when non-empty) from the NUL-terminated text in place,
 * replacing it with "***": messages from a client library may echo a connection string.
 */
void db_redact(char *text, size_t text_size, const char *secret);

#endif
