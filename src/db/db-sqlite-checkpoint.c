/* db-sqlite-checkpoint.c - background WAL checkpoints; see db-sqlite-checkpoint.h. */
#include "db/db-sqlite-checkpoint.h"

#include "lib/log.h"
#include "lib/str.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DB_SQLITE_CKPT_STACK (512 * 1024)
#define DB_SQLITE_CKPT_BUSY_MS 1000 /* the checkpoint connection's wait for a lock */

struct db_sqlite_checkpointer {
	sqlite3 *conn; /* the handle's connection: borrowed; its hook calls us */
	char path[PATH_MAX];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool has_thread;
	bool is_wanted;   /* a checkpoint is due */
	int woken_at;     /* the log's frames when the thread was last woken */
	bool is_backfilled; /* the thread copied the log: the committer finishes the job */
	bool is_stopping;
	bool is_thread_off; /* the thread could not start: the committer checkpoints */
	uint64_t logged;    /* the hook's calls; under the handle's lock, not ours */
};

/* Opens the thread's own connection. NULL when it cannot (logged). */
static sqlite3 *db_sqlite_ckpt_open(const char *path)
{
	sqlite3 *conn = NULL;
	int rc = sqlite3_open_v2(path, &conn,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
				 NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(conn, DB_SQLITE_CKPT_BUSY_MS);
	/* NORMAL syncs the log before copying it and the database file after. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(conn, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_warn("db.checkpoint_open_failed file=%s error=\"%s\" — the log is copied by "
			 "committing requests instead",
			 path, conn != NULL ? sqlite3_errmsg(conn) : sqlite3_errstr(rc));
		(void)sqlite3_close(conn);
		return NULL;
	}
	return conn;
}

/*
 * One PASSIVE checkpoint on conn; failures other than "busy" are logged. True when it copied
 * (nearly) the whole log.
 */
static bool db_sqlite_ckpt_run(sqlite3 *conn, const char *who)
{
	int log_frames = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(conn, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
					   &copied);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("db.checkpoint_failed by=%s error=\"%s\" — retried at the next commit",
			 who, sqlite3_errmsg(conn));
	return rc == SQLITE_OK && copied > 0;
}

static void *db_sqlite_ckpt_main(void *arg)
{
	db_sqlite_checkpointer_t *c = arg;
	sqlite3 *conn = db_sqlite_ckpt_open(c->path);
	(void)pthread_mutex_lock(&c->lock);
	if (conn == NULL)
		c->is_thread_off = true;
	while (conn != NULL && !c->is_stopping) {
		if (!c->is_wanted) {
			(void)pthread_cond_wait(&c->wake, &c->lock);
			continue;
		}
		c->is_wanted = false;
		(void)pthread_mutex_unlock(&c->lock);
		bool has_copied = db_sqlite_ckpt_run(conn, "background");
		(void)pthread_mutex_lock(&c->lock);
		if (has_copied)
			c->is_backfilled = true;
	}
	(void)pthread_mutex_unlock(&c->lock);
	if (conn != NULL && sqlite3_close(conn) != SQLITE_OK)
		log_warn("db.checkpoint_close_failed file=%s", c->path);
	return NULL;
}

/* Starts the thread (lock held). False when it cannot; the committer then checkpoints. */
static bool db_sqlite_ckpt_start(db_sqlite_checkpointer_t *c)
{
	pthread_attr_t attr;
	if (pthread_attr_init(&attr) != 0)
		return false;
	int rc = pthread_attr_setstacksize(&attr, DB_SQLITE_CKPT_STACK);
	if (rc == 0)
		rc = pthread_create(&c->thread, &attr, db_sqlite_ckpt_main, c);
	(void)pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warn("db.checkpoint_thread_failed error=\"%s\" — the log is copied by "
			 "committing requests instead",
			 strerror(rc));
		return false;
	}
	c->has_thread = true;
	return true;
}

/*
 * sqlite3_wal_hook(): after every commit on the handle's connection (its lock held), with the
 * log's frame count. Past the threshold it wakes the thread, which copies the log while
 * writers go on. Commits keep adding frames meanwhile, so that checkpoint never ends with
 * the whole log copied, and only a fully copied log starts again from the beginning: the
 * next commit therefore finishes the job here, copying the few frames added since (no
 * writer can add any while we hold the lock). Past the hard limit, or without a thread, the
 * commit checkpoints here as SQLite's automatic checkpoint would.
 */
static int db_sqlite_ckpt_hook(void *arg, sqlite3 *conn, const char *name, int frames)
{
	db_sqlite_checkpointer_t *c = arg;
	(void)name;
	c->logged++;
	if (frames < DB_SQLITE_CKPT_FRAMES)
		return SQLITE_OK;
	(void)pthread_mutex_lock(&c->lock);
	bool is_inline = c->is_thread_off || c->is_backfilled ||
			 frames >= DB_SQLITE_CKPT_HARD_FRAMES;
	c->is_backfilled = false;
	if (!is_inline && !c->has_thread && !db_sqlite_ckpt_start(c)) {
		c->is_thread_off = true;
		is_inline = true;
	}
	/* Once per DB_SQLITE_CKPT_FRAMES new frames: a log that cannot restart (another
	 * process reads an old snapshot) must not keep the thread spinning. */
	if (!is_inline &&
	    (frames < c->woken_at || frames - c->woken_at >= DB_SQLITE_CKPT_FRAMES)) {
		c->woken_at = frames;
		c->is_wanted = true;
		(void)pthread_cond_signal(&c->wake);
	}
	(void)pthread_mutex_unlock(&c->lock);
	if (is_inline)
		(void)db_sqlite_ckpt_run(conn, "commit");
	return SQLITE_OK;
}

int db_sqlite_checkpointer_attach(sqlite3 *conn, const char *path,
				  db_sqlite_checkpointer_t **ckpt_r, char *error,
				  size_t error_size)
{
	db_sqlite_checkpointer_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		(void)str_format(error, error_size, "sqlite: out of memory");
		return -1;
	}
	c->conn = conn;
	if (!str_copy(c->path, sizeof(c->path), path)) {
		(void)str_format(error, error_size, "sqlite: path too long: %s", path);
		free(c);
		return -1;
	}
	int rc = pthread_mutex_init(&c->lock, NULL);
	if (rc == 0) {
		rc = pthread_cond_init(&c->wake, NULL);
		if (rc != 0)
			(void)pthread_mutex_destroy(&c->lock);
	}
	if (rc != 0) {
		(void)str_format(error, error_size, "sqlite: cannot set up checkpoints: %s",
				 strerror(rc));
		free(c);
		return -1;
	}
	/* Replaces SQLite's own automatic checkpoint (which is a WAL hook too). */
	(void)sqlite3_wal_hook(conn, db_sqlite_ckpt_hook, c);
	*ckpt_r = c;
	return 0;
}

uint64_t db_sqlite_checkpointer_logged(const db_sqlite_checkpointer_t *ckpt)
{
	return ckpt->logged;
}

void db_sqlite_checkpointer_detach(db_sqlite_checkpointer_t **ckpt)
{
	db_sqlite_checkpointer_t *c = *ckpt;
	if (c == NULL)
		return;
	(void)sqlite3_wal_hook(c->conn, NULL, NULL);
	(void)pthread_mutex_lock(&c->lock);
	c->is_stopping = true;
	(void)pthread_cond_signal(&c->wake);
	bool has_thread = c->has_thread;
	(void)pthread_mutex_unlock(&c->lock);
	if (has_thread)
		(void)pthread_join(c->thread, NULL);
	(void)pthread_cond_destroy(&c->wake);
	(void)pthread_mutex_destroy(&c->lock);
	free(c);
	*ckpt = NULL;
}
