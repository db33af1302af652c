/*
 * convert-queue.h - jobs waiting for conversion, claimed by workers, and what a conversion
 * leaves behind.
 *
 * A job enters state received (intake). A worker claims it (received -> converting,
 * convert_attempts + 1, convert_claimed_at = now, convert_worker = its name): the server's
 * local pool claims a job and hands its id to a worker over a socket; a worker on another
 * host claims the oldest received job itself. On PostgreSQL the claim is
 * SELECT … FOR UPDATE SKIP LOCKED, and intake wakes remote workers with NOTIFY
 * CONVERT_QUEUE_CHANNEL after its commit; on SQLite (one host) it is one UPDATE inside a write
 * transaction.
 *
 * The worker then records the outcome in one transaction: the derived documents (role
 * "pdf", "thumb:N", "preview:N"), the page analysis, and converting -> held (job_hold(), so a
 * combined-flow job is released at once); or converting -> failed (final, with the reason the
 * user sees); or, when the worker died rather than the document failing, converting ->
 * received again while attempts remain. A claim older than the lease whose worker never
 * answered is stale: convert_queue_requeue_stale() puts it back (or fails it when its attempts
 * are used up).
 */
#ifndef PP_CONVERT_QUEUE_H
#define PP_CONVERT_QUEUE_H

#include "core/core.h"
#include "core/job.h"
#include "lib/crypto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONVERT_QUEUE_CHANNEL "pullprint_convert" /* PostgreSQL LISTEN/NOTIFY channel */
#define CONVERT_WORKER_NAME_MAX 128

/* A claimed job and its original document, as the worker needs them. */
typedef struct {
	int64_t job_id;
	char uuid[JOB_UUID_MAX];
	int attempts; /* including this claim */
	char file_id[CRYPTO_ID_HEX_LEN + 1]; /* the original document's spool file */
	char name[JOB_DOC_NAME_MAX];
	char content_type[JOB_CONTENT_TYPE_MAX]; /* as sniffed at intake */
	int64_t size_bytes;
} pp_convert_task_t;

/* One derived file to record. */
typedef struct {
	const char *role;         /* "pdf", "thumb:N", "preview:N", "print" */
	const char *file_id;      /* published spool file */
	const char *content_type; /* application/pdf, image/jpeg, … */
	int64_t size_bytes;
} pp_convert_output_t;

/*
 * Claims the oldest received job for worker (a name such as "host:pid"). Returns 1 with
 * *task_r filled, 0 when none is waiting, -1 with error.
 */
int convert_queue_claim_next(pp_core_t *core, const char *worker, pp_convert_task_t *task_r,
			     char *error, size_t error_size);

/*
 * Claims job_id (received -> converting) for worker. Returns JOB_OK with *task_r filled,
 * JOB_STATE_LOST when it is not received any more, JOB_NOT_FOUND, or JOB_ERROR.
 */
int convert_queue_claim(pp_core_t *core, int64_t job_id, const char *worker,
			pp_convert_task_t *task_r, char *error, size_t error_size);

/*
 * Records a successful conversion of a converting job: the outputs' document rows and
 * jobs.page_info (a JSON array from the analysis; NULL = "[]") in one transaction, replacing
 * the outputs of an earlier attempt that died; then converting -> held through job_hold()
 * (its own transaction: they do not nest), storing pages and color_pages. If that move loses
 * (canceled or expired meanwhile), the rows are removed again. On any failure nothing is
 * recorded and the caller deletes the outputs' spool files. A combined-flow job whose release
 * fails stays held (logged) and counts as JOB_OK. Returns as job_transition().
 */
int convert_queue_complete(pp_core_t *core, int64_t job_id, const pp_convert_output_t *outputs,
			   size_t n_outputs, int pages, int color_pages, const char *page_info_json,
			   char *error, size_t error_size);

/*
 * The document could not be converted: converting -> failed (final) with reason (what the user
 * reads: cut at JOB_REASON_MAX). Returns as job_transition().
 */
int convert_queue_fail(pp_core_t *core, int64_t job_id, const char *reason, char *error,
		       size_t error_size);

/*
 * The worker died or vanished while converting job_id: back to received when its attempts are
 * below max_attempts, else failed (final) with reason. *requeued_r (may be NULL) says which.
 * Returns as job_transition().
 */
int convert_queue_abandon(pp_core_t *core, int64_t job_id, unsigned max_attempts,
			  const char *reason, bool *requeued_r, char *error, size_t error_size);

/*
 * Abandons (as above) every job converting since before now - lease_s. Counts in *requeued_r
 * and *failed_r (may be NULL). Returns 0 or -1.
 */
int convert_queue_requeue_stale(pp_core_t *core, int64_t lease_s, unsigned max_attempts,
				size_t *requeued_r, size_t *failed_r, char *error,
				size_t error_size);

/*
 * Adds derived documents to a job in any state (page images rendered on demand, the "print"
 * file at release) in one transaction. Returns 0 or -1.
 */
int convert_queue_add_outputs(pp_core_t *core, int64_t job_id, const pp_convert_output_t *outputs,
			      size_t n_outputs, char *error, size_t error_size);

/*
 * The page analysis of job_id as the last conversion stored it (jobs.page_info): a JSON array
 * [{"w":pt,"h":pt,"color":bool}, …], "[]" until the job is converted. *json_r is new; free()
 * it (NULL unless JOB_OK). Returns JOB_OK, JOB_NOT_FOUND or JOB_ERROR.
 */
int convert_queue_page_info(pp_core_t *core, int64_t job_id, char **json_r, char *error,
			    size_t error_size);

/* How many jobs are received (waiting) and converting now. Returns 0 or -1. */
int convert_queue_counts(pp_core_t *core, int64_t *waiting_r, int64_t *converting_r,
			 char *error, size_t error_size);

#endif
