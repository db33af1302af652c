/*
 * retention.h - the sweeper that forgets documents and records on schedule.
 *
 * One call of retention_sweep() does, in order, at most `batch` items of each step:
 *   1. expire: jobs still waiting (incoming, received, converting, held, or a retryable
 *      failure) whose expires_at has passed (for incoming: the IPP multiple-operation-time-out) become expired, through the state machine;
 *   2. files: finished jobs lose their documents (rows, then spool files). Completed jobs
 *      follow jobs.printed_policy: delete -> at the first sweep after printing; keep -> once
 *      jobs.printed_keep_hours have passed (the reprint window). Canceled, rejected, expired
 *      and finally failed jobs lose theirs at once. The job row stays as history;
 *   3. purge: rows of jobs finished more than accounting.retention_days ago are deleted;
 *   4. accounting: records that old are deleted too.
 * The server calls it periodically (and again at once while it reports more work). It is
 * idempotent: a second call with nothing due changes nothing. Time is core's clock.
 */
#ifndef PP_RETENTION_H
#define PP_RETENTION_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>

#define RETENTION_BATCH_DEFAULT 200

typedef struct {
	size_t jobs_expired;
	size_t jobs_emptied;  /* finished jobs whose documents were removed */
	size_t files_deleted; /* document rows (and spool files) removed */
	size_t jobs_purged;
	size_t accounting_purged;
	bool is_more; /* some step hit the batch limit: call again */
} pp_retention_stats_t;

/*
 * Runs one sweep (see above) with at most batch (1..10000; 0 = RETENTION_BATCH_DEFAULT)
 * items per step, counting into *stats_r (zeroed first). A job that another request moves
 * meanwhile is skipped. Returns 0, or -1 on a database error (the steps done so far stay).
 */
int retention_sweep(pp_core_t *core, size_t batch, pp_retention_stats_t *stats_r, char *error,
                    size_t error_size);

#endif
