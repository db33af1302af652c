/*
 * spool-sync.c - group sync: the files that concurrent writers finish at the same moment are
 * made durable by one syncfs() of the spool's file system instead of an fsync of each file
 * and of each fan-out directory.
 *
 * A durable small file used to cost two flushes (the file, then its directory entry), and
 * concurrent fsyncs queue on the disk one after the other. Here each writer, its file written
 * and renamed into place, joins a queue; the first to find no sync running becomes the leader,
 * takes everything queued (at most SPOOL_SYNC_MAX), calls syncfs() once — data, inodes and
 * directory entries of all of them — and wakes the members. Writers that arrive meanwhile
 * form the next group, so under load one flush covers many documents while a lone writer
 * pays one flush instead of two. A failed syncfs() fails every member of its group (each
 * then removes its file, as a failed fsync did).
 *
 * Correctness does not rest on the order of data and name: a published file is named by no
 * database row until its writer returns, and an unnamed file is an orphan that spool_sweep()
 * removes at start.
 */
#include "spool/spool-private.h"

#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One waiting writer; lives on its caller's stack until is_done is set. */
struct spool_sync_member {
	int result; /* 0, or -1 with err */
	int err;
	bool is_done;
	struct spool_sync_member *next;
};

int spool_sync_init(pp_spool_t *spool)
{
	spool_sync_t *g = &spool->sync;
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
	g->syncs = 0;
	return 0;
}

void spool_sync_destroy(pp_spool_t *spool)
{
	(void)pthread_cond_destroy(&spool->sync.done);
	(void)pthread_mutex_destroy(&spool->sync.lock);
}

/* Locks or unlocks the queue; a failure means a corrupted mutex, so abort. */
static void spool_sync_lock(spool_sync_t *g)
{
	int rc = pthread_mutex_lock(&g->lock);
	if (rc != 0) {
		log_error("spool.sync_lock_failed error=\"%s\"", strerror(rc));
		abort();
	}
}

static void spool_sync_unlock(spool_sync_t *g)
{
	int rc = pthread_mutex_unlock(&g->lock);
	if (rc != 0) {
		log_error("spool.sync_unlock_failed error=\"%s\"", strerror(rc));
		abort();
	}
}

int spool_sync_wait(pp_spool_t *spool, int *errno_r)
{
	struct spool_sync_member self = {.result = -1, .err = EIO};
	spool_sync_t *g = &spool->sync;
	spool_sync_lock(g);
	if (g->tail != NULL)
		g->tail->next = &self;
	else
		g->head = &self;
	g->tail = &self;
	while (!self.is_done) {
		if (g->has_leader) {
			int rc = pthread_cond_wait(&g->done, &g->lock);
			if (rc != 0) {
				log_error("spool.sync_wait_failed error=\"%s\"", strerror(rc));
				abort();
			}
			continue;
		}
		/* Lead: take up to SPOOL_SYNC_MAX members from the front of the queue. */
		g->has_leader = true;
		struct spool_sync_member *first = g->head, *last = g->head;
		for (unsigned n = 1; n < SPOOL_SYNC_MAX && last->next != NULL; n++)
			last = last->next;
		g->head = last->next;
		if (g->head == NULL)
			g->tail = NULL;
		last->next = NULL;
		spool_sync_unlock(g);

		/* Every member's file was written and renamed before it queued: one call covers
		   them all. */
		int result = syncfs(spool->dir_fd);
		int err = result < 0 ? errno : 0;

		spool_sync_lock(g);
		g->syncs++;
		for (struct spool_sync_member *m = first; m != NULL;) {
			struct spool_sync_member *next = m->next;
			m->result = result < 0 ? -1 : 0;
			m->err = err;
			m->is_done = true; /* m may be gone once the lock is released */
			m = next;
		}
		g->has_leader = false;
		int rc = pthread_cond_broadcast(&g->done);
		if (rc != 0) {
			log_error("spool.sync_broadcast_failed error=\"%s\"", strerror(rc));
			abort();
		}
	}
	spool_sync_unlock(g);
	*errno_r = self.err;
	return self.result;
}

uint64_t spool_sync_count(pp_spool_t *spool)
{
	spool_sync_t *g = &spool->sync;
	spool_sync_lock(g);
	uint64_t n = g->syncs;
	spool_sync_unlock(g);
	return n;
}
