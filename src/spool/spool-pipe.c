/*
 * spool-pipe.c - the spool writer's path to its temp file: records are sealed into large
 * batch buffers and each full batch goes out with one write(). Small documents stay in the
 * caller's thread (one write at finish). Once a document passes SPOOL_PIPE_THREAD_AFTER bytes
 * an I/O thread takes over the write() calls and the early writeback, so the caller encrypts
 * the next batch while the kernel copies and writes out the last one. Memory stays at
 * SPOOL_PIPE_BATCHES batches; the caller waits when all of them are in flight.
 *
 * An error in the thread is kept (call name and errno) and handed to the caller by the next
 * spool_pipe_reserve(), spool_pipe_check() or spool_pipe_drain(); the thread then stops.
 * Fault points stay in the caller (spool-writer.c): the thread never ends the process.
 */
#include "spool/spool-private.h"

#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Writes buf[len] at the end of the file and, every SPOOL_WRITEBACK_BYTES, starts writeback
 * without waiting for it (a file system that cannot only loses the overlap: finish fsyncs
 * all). Runs in whichever thread owns the writing. Returns 0, or -1 with errno and *call_r.
 */
static int spool_pipe_write(pp_spool_pipe_t *pipe, const uint8_t *buf, size_t len,
                            bool is_writeback, const char **call_r)
{
	if (fs_write_full(pipe->fd, buf, len) < 0) {
		*call_r = "write";
		return -1;
	}
	pipe->file_bytes += len;
	if (!is_writeback || pipe->is_writeback_off ||
	    pipe->file_bytes - pipe->writeback_from < SPOOL_WRITEBACK_BYTES)
		return 0;
	if (sync_file_range(pipe->fd, (off_t)pipe->writeback_from,
	                    (off_t)(pipe->file_bytes - pipe->writeback_from),
	                    SYNC_FILE_RANGE_WRITE) < 0) {
		if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == ESPIPE) {
			pipe->is_writeback_off = true;
			return 0;
		}
		*call_r = "sync_file_range";
		return -1;
	}
	pipe->writeback_from = pipe->file_bytes;
	return 0;
}

/* The I/O thread: writes queued batches in order until told to stop or a write fails. */
static void *spool_pipe_run(void *arg)
{
	pp_spool_pipe_t *pipe = arg;
	(void)pthread_mutex_lock(&pipe->lock);
	for (;;) {
		while (pipe->queued == 0 && !pipe->is_stopping)
			(void)pthread_cond_wait(&pipe->cond, &pipe->lock);
		if (pipe->queued == 0 || pipe->is_aborting)
			break;
		unsigned head = pipe->head;
		size_t len = pipe->batch_len[head];
		(void)pthread_mutex_unlock(&pipe->lock);

		/* Unlocked: the caller seals into another batch meanwhile. */
		const char *call = NULL;
		int failed_errno = 0;
		if (spool_pipe_write(pipe, pipe->batch[head], len, true, &call) < 0)
			failed_errno = errno;

		(void)pthread_mutex_lock(&pipe->lock);
		pipe->head = (head + 1) % SPOOL_PIPE_BATCHES;
		pipe->queued--;
		if (call != NULL) {
			/* The file is lost: drop the rest and let the caller report it. */
			pipe->failed_call = call;
			pipe->failed_errno = failed_errno;
			pipe->queued = 0;
		}
		(void)pthread_cond_broadcast(&pipe->cond);
		if (call != NULL)
			break;
	}
	(void)pthread_mutex_unlock(&pipe->lock);
	return NULL;
}

/*
 * Starts the I/O thread with the other batches. Any failure (memory, threads) only keeps the
 * writes in the caller, so nothing is reported. The thread blocks every signal: they stay
 * with the threads the program chose for them.
 */
static void spool_pipe_start(pp_spool_pipe_t *pipe)
{
	pipe->is_thread_off = true; /* one attempt per file */
	for (unsigned i = 1; i < SPOOL_PIPE_BATCHES; i++) {
		pipe->batch[i] = malloc(SPOOL_PIPE_BATCH);
		if (pipe->batch[i] == NULL)
			return; /* spool_pipe_stop() frees the ones made */
	}
	if (pthread_mutex_init(&pipe->lock, NULL) != 0)
		return;
	if (pthread_cond_init(&pipe->cond, NULL) != 0) {
		(void)pthread_mutex_destroy(&pipe->lock);
		return;
	}
	sigset_t all, old;
	(void)sigfillset(&all);
	pipe->head = pipe->fill;
	pipe->queued = 0;
	int rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc == 0) {
		rc = pthread_create(&pipe->thread, NULL, spool_pipe_run, pipe);
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL); /* restores what succeeded above */
	}
	if (rc != 0) {
		(void)pthread_cond_destroy(&pipe->cond);
		(void)pthread_mutex_destroy(&pipe->lock);
		return;
	}
	pipe->has_thread = true;
}

/*
 * Reads the thread's failure (under the lock, or after the join). Returns 0, or -1 with
 * errno and *call_r.
 */
static int spool_pipe_failed_locked(const pp_spool_pipe_t *pipe, const char **call_r)
{
	if (pipe->failed_call == NULL)
		return 0;
	*call_r = pipe->failed_call;
	errno = pipe->failed_errno;
	return -1;
}

/*
 * Hands the current batch on: to the thread (then waits until a batch is free to seal
 * into), or written here. Returns 0, or -1 with errno and *call_r.
 */
static int spool_pipe_submit(pp_spool_pipe_t *pipe, const char **call_r)
{
	size_t len = pipe->batch_len[pipe->fill];
	pipe->submitted_bytes += len;
	if (!pipe->has_thread) {
		if (spool_pipe_write(pipe, pipe->batch[pipe->fill], len, true, call_r) < 0)
			return -1;
		pipe->batch_len[pipe->fill] = 0;
		if (!pipe->is_thread_off && pipe->submitted_bytes >= SPOOL_PIPE_THREAD_AFTER)
			spool_pipe_start(pipe);
		return 0;
	}
	(void)pthread_mutex_lock(&pipe->lock);
	pipe->queued++;
	(void)pthread_cond_broadcast(&pipe->cond);
	/* The next batch is free once fewer than all of them are queued. */
	while (pipe->queued == SPOOL_PIPE_BATCHES && pipe->failed_call == NULL)
		(void)pthread_cond_wait(&pipe->cond, &pipe->lock);
	int rc = spool_pipe_failed_locked(pipe, call_r);
	(void)pthread_mutex_unlock(&pipe->lock);
	pipe->fill = (pipe->fill + 1) % SPOOL_PIPE_BATCHES;
	pipe->batch_len[pipe->fill] = 0;
	return rc;
}

/* Tells the thread to stop (abort: without writing what is queued) and joins it. */
static void spool_pipe_join(pp_spool_pipe_t *pipe, bool is_abort)
{
	if (!pipe->has_thread)
		return;
	(void)pthread_mutex_lock(&pipe->lock);
	pipe->is_stopping = true;
	pipe->is_aborting = is_abort;
	(void)pthread_cond_broadcast(&pipe->cond);
	(void)pthread_mutex_unlock(&pipe->lock);
	(void)pthread_join(pipe->thread, NULL);
	(void)pthread_cond_destroy(&pipe->cond);
	(void)pthread_mutex_destroy(&pipe->lock);
	pipe->has_thread = false;
}

int spool_pipe_init(pp_spool_pipe_t *pipe, int fd, uint64_t file_bytes)
{
	memset(pipe, 0, sizeof(*pipe));
	pipe->fd = fd;
	pipe->file_bytes = file_bytes;
	pipe->writeback_from = file_bytes;
	pipe->batch[0] = malloc(SPOOL_PIPE_BATCH);
	return pipe->batch[0] != NULL ? 0 : -1;
}

uint8_t *spool_pipe_reserve(pp_spool_pipe_t *pipe, size_t len, const char **call_r)
{
	if (SPOOL_PIPE_BATCH - pipe->batch_len[pipe->fill] < len &&
	    spool_pipe_submit(pipe, call_r) < 0)
		return NULL;
	return pipe->batch[pipe->fill] + pipe->batch_len[pipe->fill];
}

void spool_pipe_commit(pp_spool_pipe_t *pipe, size_t len)
{
	pipe->batch_len[pipe->fill] += len;
	if (pipe->batch_used[pipe->fill] < pipe->batch_len[pipe->fill])
		pipe->batch_used[pipe->fill] = pipe->batch_len[pipe->fill];
}

int spool_pipe_check(pp_spool_pipe_t *pipe, const char **call_r)
{
	if (!pipe->has_thread)
		return 0;
	(void)pthread_mutex_lock(&pipe->lock);
	int rc = spool_pipe_failed_locked(pipe, call_r);
	(void)pthread_mutex_unlock(&pipe->lock);
	return rc;
}

int spool_pipe_drain(pp_spool_pipe_t *pipe, const char **call_r)
{
	/* The thread writes what is queued, then ends; the rest goes out from here. */
	spool_pipe_join(pipe, false);
	if (spool_pipe_failed_locked(pipe, call_r) < 0)
		return -1;
	size_t len = pipe->batch_len[pipe->fill];
	if (spool_pipe_write(pipe, pipe->batch[pipe->fill], len, false, call_r) < 0)
		return -1;
	pipe->batch_len[pipe->fill] = 0;
	return 0;
}

void spool_pipe_stop(pp_spool_pipe_t *pipe)
{
	spool_pipe_join(pipe, true);
	for (unsigned i = 0; i < SPOOL_PIPE_BATCHES; i++) {
		/* Plain files put document bytes in the batches. */
		if (pipe->batch[i] != NULL)
			sodium_memzero(pipe->batch[i], pipe->batch_used[i]);
		free(pipe->batch[i]);
		pipe->batch[i] = NULL;
	}
}
