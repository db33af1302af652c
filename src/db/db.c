/*
 * db.c - the storage interface: picks a backend from the URL, serialises threads on the
 * handle, and keeps transaction bookkeeping the same on both backends.
 *
 * Every call takes the handle's recursive mutex around the backend call. db_tx_begin() keeps
 * the mutex until db_tx_commit()/db_tx_rollback(), so a transaction belongs to one thread and
 * other threads' statements wait until it ends. PostgreSQL aborts a transaction at its first
 * error, SQLite does not; to make both behave alike, a failed statement inside a transaction
 * marks it failed here, later statements are refused and commit rolls back and fails.
 */
#include "db/db-private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/str.h"

/* The backend named by url's scheme, or NULL. */
static const struct db_vfuncs *db_backend_for_url(const char *url)
{
	if (str_has_prefix(url, "sqlite:"))
		return &db_sqlite_vfuncs;
	if (str_has_prefix(url, "postgresql://") || str_has_prefix(url, "postgres://"))
		return &db_postgres_vfuncs;
	return NULL;
}

int db_open(const char *url, pp_db_t **db_r, char *error, size_t error_size)
{
	*db_r = NULL;
	const struct db_vfuncs *v = url == NULL ? NULL : db_backend_for_url(url);
	if (v == NULL) {
		str_format(error, error_size,
		           "database: unknown URL scheme: use sqlite:/path/file.db or "
		           "postgresql://user@host:port/dbname");
		return DB_ERROR;
	}
	pp_db_t *db = calloc(1, sizeof(*db));
	if (db == NULL) {
		str_format(error, error_size, "database: out of memory");
		return DB_ERROR;
	}
	db->v = v;

	/* A recursive mutex: db_tx_begin() holds it while the same thread keeps calling. */
	pthread_mutexattr_t attr;
	int rc = pthread_mutexattr_init(&attr);
	if (rc == 0) {
		rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
		if (rc == 0)
			rc = pthread_mutex_init(&db->lock, &attr);
		(void)pthread_mutexattr_destroy(&attr);
	}
	if (rc != 0) {
		str_format(error, error_size, "database: pthread_mutex_init failed: %s",
		           strerror(rc));
		free(db);
		return DB_ERROR;
	}

	rc = db_group_init(db);
	if (rc != 0) {
		str_format(error, error_size, "database: cannot set up group commit: %s",
		           strerror(rc));
		(void)pthread_mutex_destroy(&db->lock);
		free(db);
		return DB_ERROR;
	}
	if (v->open(db, url, error, error_size) != DB_OK) {
		db_group_destroy(db);
		(void)pthread_mutex_destroy(&db->lock);
		free(db);
		return DB_ERROR;
	}
	*db_r = db;
	return DB_OK;
}

void db_close(pp_db_t **db)
{
	if (db == NULL || *db == NULL)
		return;
	pp_db_t *d = *db;
	/* A transaction left open is rolled back: closing never commits by accident. */
	if (d->in_tx) {
		log_warn("db.close_in_transaction backend=%s action=rollback", d->v->name);
		db_tx_rollback(d);
	}
	d->v->close(d);
	db_group_destroy(d);
	(void)pthread_mutex_destroy(&d->lock);
	free(d);
	*db = NULL;
}

pp_db_backend_t db_backend(const pp_db_t *db)
{
	return db->v->backend;
}

/* Takes the handle's lock; aborts on failure, which only a corrupted mutex can cause. */
static void db_lock(pp_db_t *db)
{
	int rc = pthread_mutex_lock(&db->lock);
	if (rc != 0) {
		log_error("db.lock_failed error=\"%s\"", strerror(rc));
		abort();
	}
}

static void db_unlock(pp_db_t *db)
{
	int rc = pthread_mutex_unlock(&db->lock);
	if (rc != 0) {
		log_error("db.unlock_failed error=\"%s\"", strerror(rc));
		abort();
	}
}

/* Refuses a statement in a failed transaction, as PostgreSQL does. Lock held. */
static int db_check_tx_locked(pp_db_t *db, char *error, size_t error_size)
{
	if (db->in_tx && db->tx_failed) {
		str_format(error, error_size,
		           "database: the transaction failed earlier; roll it back");
		return DB_ERROR;
	}
	return DB_OK;
}

/* Records a failed statement inside a transaction. Lock held. */
static void db_note_result_locked(pp_db_t *db, int rc)
{
	if (rc != DB_OK && db->in_tx)
		db->tx_failed = true;
}

int db_exec(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
            int64_t *changes_r, char *error, size_t error_size)
{
	if (changes_r != NULL)
		*changes_r = 0;
	db_lock(db);
	int rc = db_check_tx_locked(db, error, error_size);
	if (rc == DB_OK) {
		rc = db->v->exec(db, sql, params, n_params, changes_r, error, error_size);
		db_note_result_locked(db, rc);
	}
	db_unlock(db);
	return rc;
}

int db_prepare_log(pp_db_t *db, uint64_t *grown_r, char *error, size_t error_size)
{
	if (grown_r != NULL)
		*grown_r = 0;
	if (db->v->prepare_log == NULL)
		return DB_OK;
	db_lock(db);
	int rc = DB_OK;
	if (db->in_tx) {
		(void)str_format(error, error_size, "the log cannot be prepared inside a transaction");
		rc = DB_ERROR;
	} else if (db->v->prepare_log(db, grown_r, error, error_size) < 0) {
		rc = DB_ERROR;
	}
	db_unlock(db);
	return rc;
}

void db_flush_stats(pp_db_t *db, uint64_t *commits_r, uint64_t *flushes_r)
{
	*commits_r = 0;
	*flushes_r = 0;
	if (db->v->flush_stats != NULL)
		db->v->flush_stats(db, commits_r, flushes_r);
}

int db_query(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
             pp_db_result_t **result_r, char *error, size_t error_size)
{
	*result_r = NULL;
	db_lock(db);
	int rc = db_check_tx_locked(db, error, error_size);
	if (rc == DB_OK) {
		rc = db->v->query(db, sql, params, n_params, result_r, error, error_size);
		db_note_result_locked(db, rc);
	}
	db_unlock(db);
	if (rc != DB_OK)
		db_result_free(result_r);
	return rc;
}

int db_exec_script(pp_db_t *db, const char *sql, char *error, size_t error_size)
{
	db_lock(db);
	int rc = db_check_tx_locked(db, error, error_size);
	if (rc == DB_OK) {
		rc = db->v->exec_script(db, sql, error, error_size);
		db_note_result_locked(db, rc);
	}
	db_unlock(db);
	return rc;
}

int db_tx_begin(pp_db_t *db, char *error, size_t error_size)
{
	db_lock(db);
	/* Nesting is refused: an inner commit that does not commit would mislead callers. */
	if (db->in_tx) {
		db_unlock(db);
		str_format(error, error_size,
		           "database: a transaction is already open in this thread; "
		           "commit or roll it back first");
		return DB_ERROR;
	}
	if (db->v->begin(db, error, error_size) != DB_OK) {
		db_unlock(db);
		return DB_ERROR;
	}
	db->in_tx = true;
	db->tx_failed = false;
	/* Keep the lock: it is released by commit or rollback. */
	return DB_OK;
}

/* Ends the transaction's bookkeeping and drops the lock begin kept. Lock held twice. */
static void db_tx_end_locked(pp_db_t *db)
{
	db->in_tx = false;
	db->tx_failed = false;
	db_unlock(db); /* begin's hold */
}

int db_tx_commit(pp_db_t *db, char *error, size_t error_size)
{
	db_lock(db);
	if (!db->in_tx) {
		db_unlock(db);
		str_format(error, error_size,
		           "database: commit without a transaction in this thread");
		return DB_ERROR;
	}
	int rc;
	bool needs_sync = false;
	if (db->tx_failed) {
		/* Same outcome on both backends: a transaction with a failed statement is undone.
		 */
		char rb_error[DB_ERROR_MAX];
		if (db->v->rollback(db, rb_error, sizeof(rb_error)) != DB_OK)
			log_error("db.rollback_failed backend=%s error=\"%s\"", db->v->name, rb_error);
		str_format(error, error_size,
		           "database: transaction rolled back because a statement in it failed");
		rc = DB_ERROR;
	} else {
		rc = db->v->commit(db, &needs_sync, error, error_size);
		if (rc != DB_OK) {
			/* A failed COMMIT may leave the transaction open (SQLite): undo it. */
			char rb_error[DB_ERROR_MAX];
			(void)db->v->rollback(db, rb_error, sizeof(rb_error));
		}
	}
	db_tx_end_locked(db);
	db_unlock(db);
	/* The flush outside the lock: readers and the next transaction go on meanwhile. */
	if (rc == DB_OK && needs_sync && db->v->sync != NULL)
		rc = db->v->sync(db, error, error_size);
	return rc;
}

void db_tx_rollback(pp_db_t *db)
{
	db_lock(db);
	if (!db->in_tx) {
		db_unlock(db);
		log_warn("db.rollback_without_transaction backend=%s", db->v->name);
		return;
	}
	char error[DB_ERROR_MAX];
	if (db->v->rollback(db, error, sizeof(error)) != DB_OK)
		log_error("db.rollback_failed backend=%s error=\"%s\"", db->v->name, error);
	db_tx_end_locked(db);
	db_unlock(db);
}

void db_redact(char *text, size_t text_size, const char *secret)
{
	if (secret == NULL || secret[0] == '\0' || text == NULL)
		return;
	static const char mask[] = "***";
	size_t secret_len = strlen(secret);
	char *hit;
	char *from = text;
	/* The mask is never longer than any secret of 3+ bytes; shorter secrets grow the text,
	   so check room before moving the tail. */
	while ((hit = strstr(from, secret)) != NULL) {
		size_t tail_len = strlen(hit + secret_len);
		size_t mask_len = sizeof(mask) - 1;
		size_t used = (size_t)(hit - text) + mask_len + tail_len + 1;
		if (used > text_size) {
			/* No room: cut the text at the secret rather than leave it. */
			*hit = '\0';
			return;
		}
		memmove(hit + mask_len, hit + secret_len, tail_len + 1);
		memcpy(hit, mask, mask_len);
		from = hit + mask_len;
	}
}
