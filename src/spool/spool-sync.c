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

#include <errno.h>
#include <unistd.h>

/* One waiting writer; lives on its caller's stack until its batch is done. */
typedef struct {
	pp_batch_member_t member; /* first: the batch's view of it */
	int result;               /* 0, or -1 with err */
	int err;
} spool_sync_member_t;

int spool_sync_init(pp_spool_t *spool)
{
	return batch_init(&spool->sync, SPOOL_SYNC_MAX, "spool.sync");
}

void spool_sync_destroy(pp_spool_t *spool)
{
	batch_destroy(&spool->sync);
}

/* The leader's step: every member's file was written and renamed before it queued, so one
 * syncfs() covers them all. */
static void spool_sync_step(pp_batch_member_t *first, void *ctx)
{
	const pp_spool_t *spool = ctx;
	int result = syncfs(spool->dir_fd);
	int err = result < 0 ? errno : 0;
	for (pp_batch_member_t *m = first; m != NULL; m = m->next) {
		spool_sync_member_t *w = (spool_sync_member_t *)m;
		w->result = result < 0 ? -1 : 0;
		w->err = err;
	}
}

int spool_sync_wait(pp_spool_t *spool, int *errno_r)
{
	spool_sync_member_t self = {.result = -1, .err = EIO};
	batch_join(&spool->sync, &self.member, spool_sync_step, spool);
	*errno_r = self.err;
	return self.result;
}

uint64_t spool_sync_count(pp_spool_t *spool)
{
	return batch_steps(&spool->sync);
}
