/*
 * db-group.c - group commit: concurrent small transactions share one commit.
 *
 * A durable commit costs a sync of the log (SQLite's WAL, PostgreSQL's WAL on its side), and
 * on an ordinary disk that sync costs more than the statements of a small transaction. Jobs
 * arrive concurrently (IPP clients, mail, uploads), each wanting two INSERTs and a commit.
 * db_tx_group() queues the caller's work; the first caller to find no group running becomes
 * the leader: it takes everything queued (at most DB_GROUP_MAX), runs all of it in one
 * transaction, commits once, and wakes the members. Callers that arrive while it commits
 * queue up and form the next group, so under load each sync covers many jobs, and a lone
 * caller pays exactly what db_tx_begin()/db_tx_commit() would.
 *
 * Failure stays with its owner: if one member's work or the shared commit fails, the group
 * is rolled back and every member is rerun alone in its own transaction.
 */
#include "db/db-private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/str.h"

/* One waiting caller; lives on its caller's stack until done is set. */
struct db_group_member {
	db_tx_fn *fn;
	void *arg;
	char *error; /* the caller's buffer */
	size_t error_size;
	int result;
	bool is_done;
	struct db_group_member *next;
};

int db_group_init(pp_db_t *db)
{
	db_group_t *g = &db->group;
	int rc = pthread_mutex_init(&g->lock, NULL);
	if (rc != 0)
		return rc;
	rc = pthread_cond_init(&g->done, NULL);
	if (rc != 0) {
		(void)pthread_mutex_destroy(&g->lock);
		return rc;
	}
	g->head = g->tail = NULL;
	g->has_leader = false;
	return 0;
}

void db_group_destroy(pp_db_t *db)
{
	(void)pthread_cond_destroy(&db->group.done);
	(void)pthread_mutex_destroy(&db->group.lock);
}

/* Locks or unlocks the queue; a failure means a corrupted mutex, so abort. */
static void db_group_lock(db_group_t *g)
{
	int rc = pthread_mutex_lock(&g->lock);
	if (rc != 0) {
		log_error("db.group_lock_failed error=\"%s\"", strerror(rc));
		abort();
	}
}

static void db_group_unlock(db_group_t *g)
{
	int rc = pthread_mutex_unlock(&g->lock);
	if (rc != 0) {
		log_error("db.group_unlock_failed error=\"%s\"", strerror(rc));
		abort();
	}
}

/* Runs one member in a transaction of its own; its result goes into the member. */
static void db_group_run_alone(pp_db_t *db, struct db_group_member *m)
{
	m->result = db_tx_begin(db, m->error, m->error_size);
	if (m->result != DB_OK)
		return;
	m->result = m->fn(db, m->arg, m->error, m->error_size);
	if (m->result != DB_OK) {
		db_tx_rollback(db);
		return;
	}
	m->result = db_tx_commit(db, m->error, m->error_size);
}

/*
 * Runs the members first..(count of them) in one transaction and commits once; on any
 * failure rolls back and runs each alone. Called by the leader without the queue lock.
 */
static void db_group_run(pp_db_t *db, struct db_group_member *first)
{
	if (first->next == NULL) {
		db_group_run_alone(db, first);
		return;
	}
	char error[DB_ERROR_MAX];
	bool is_ok = db_tx_begin(db, error, sizeof(error)) == DB_OK;
	if (is_ok) {
		for (struct db_group_member *m = first; m != NULL; m = m->next) {
			if (m->fn(db, m->arg, m->error, m->error_size) != DB_OK) {
				is_ok = false;
				break;
			}
		}
		if (is_ok)
			is_ok = db_tx_commit(db, error, sizeof(error)) == DB_OK;
		else
			db_tx_rollback(db);
	}
	if (is_ok) {
		for (struct db_group_member *m = first; m != NULL; m = m->next)
			m->result = DB_OK;
		return;
	}
	/* Someone's work failed, or the commit did: give each member its own chance. */
	log_warn("db.group_split backend=%s", db->v->name);
	for (struct db_group_member *m = first; m != NULL; m = m->next)
		db_group_run_alone(db, m);
}

int db_tx_group(pp_db_t *db, db_tx_fn *fn, void *arg, char *error, size_t error_size)
{
	struct db_group_member self = {.fn = fn, .arg = arg, .error = error,
	                               .error_size = error_size, .result = DB_ERROR};
	db_group_t *g = &db->group;
	db_group_lock(g);
	if (g->tail != NULL)
		g->tail->next = &self;
	else
		g->head = &self;
	g->tail = &self;
	while (!self.is_done) {
		if (g->has_leader) {
			int rc = pthread_cond_wait(&g->done, &g->lock);
			if (rc != 0) {
				log_error("db.group_wait_failed error=\"%s\"", strerror(rc));
				abort();
			}
			continue;
		}
		/* Lead: take up to DB_GROUP_MAX members from the front of the queue. */
		g->has_leader = true;
		struct db_group_member *first = g->head, *last = g->head;
		for (unsigned n = 1; n < DB_GROUP_MAX && last->next != NULL; n++)
			last = last->next;
		g->head = last->next;
		if (g->head == NULL)
			g->tail = NULL;
		last->next = NULL;
		db_group_unlock(g);

		db_group_run(db, first);

		db_group_lock(g);
		for (struct db_group_member *m = first; m != NULL;) {
			struct db_group_member *next = m->next;
			m->is_done = true; /* m may be gone once the lock is released */
			m = next;
		}
		g->has_leader = false;
		int rc = pthread_cond_broadcast(&g->done);
		if (rc != 0) {
			log_error("db.group_broadcast_failed error=\"%s\"", strerror(rc));
			abort();
		}
	}
	db_group_unlock(g);
	return self.result;
}
