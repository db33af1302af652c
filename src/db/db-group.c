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

/* One waiting caller; lives on its caller's stack until its batch is done. */
typedef struct {
	pp_batch_member_t member; /* first: the batch's view of it */
	db_tx_fn *fn;
	void *arg;
	char *error; /* the caller's buffer */
	size_t error_size;
	int result;
} db_group_member_t;

int db_group_init(pp_db_t *db)
{
	return batch_init(&db->group, DB_GROUP_MAX, "db.group");
}

void db_group_destroy(pp_db_t *db)
{
	batch_destroy(&db->group);
}

/* The member after m in its batch, or NULL. */
static db_group_member_t *db_group_next(const db_group_member_t *m)
{
	return (db_group_member_t *)m->member.next;
}

/* Runs one member in a transaction of its own; its result goes into the member. */
static void db_group_run_alone(pp_db_t *db, db_group_member_t *m)
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
 * failure rolls back and runs each alone. The batch step, run by the leader without the
 * queue lock.
 */
static void db_group_run(pp_batch_member_t *first_member, void *ctx)
{
	pp_db_t *db = ctx;
	db_group_member_t *first = (db_group_member_t *)first_member;
	if (first->member.next == NULL) {
		db_group_run_alone(db, first);
		return;
	}
	char error[DB_ERROR_MAX];
	bool is_ok = db_tx_begin(db, error, sizeof(error)) == DB_OK;
	if (is_ok) {
		for (db_group_member_t *m = first; m != NULL; m = db_group_next(m)) {
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
		for (db_group_member_t *m = first; m != NULL; m = db_group_next(m))
			m->result = DB_OK;
		return;
	}
	/* Someone's work failed, or the commit did: give each member its own chance. */
	log_warn("db.group_split backend=%s", db->v->name);
	for (db_group_member_t *m = first; m != NULL; m = db_group_next(m))
		db_group_run_alone(db, m);
}

int db_tx_group(pp_db_t *db, db_tx_fn *fn, void *arg, char *error, size_t error_size)
{
	db_group_member_t self = {.fn = fn, .arg = arg, .error = error,
	                          .error_size = error_size, .result = DB_ERROR};
	batch_join(&db->group, &self.member, db_group_run, db);
	return self.result;
}
