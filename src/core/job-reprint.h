/*
 * job-reprint.h - printing a finished job again: a NEW job for the same user with copies of
 * the documents the old one kept, released to the printer an administrator names.
 *
 * A completed job keeps its documents only while jobs.printed_policy is "keep" (for
 * jobs.printed_keep_hours, retention.h); after that, or under "delete", there is nothing to
 * print and the reprint is refused with JOB_REPRINT_GONE. The old job stays as it was
 * (completed, in the accounting once); the new one is a job of its own, source "reprint",
 * with its own accounting record when it prints.
 *
 * Documents are copied through the spool's reader and writer (spool.h): each file is sealed
 * under its own id, so bytes are never copied from one id to another. The copies are
 * published first, then the rows (the new job and its original) are committed in one
 * transaction; the derived files (pdf, print, thumbnails) are recorded as a conversion
 * outcome (convert-queue.h), which holds the job and, because it names its printer, releases
 * it at once (the combined flow). Should a converter claim the new job first, it converts
 * the original again and releases it all the same.
 */
#ifndef PP_JOB_REPRINT_H
#define PP_JOB_REPRINT_H

#include "core/core.h"
#include "core/job.h"

#include <stddef.h>
#include <stdint.h>

/* Results of job_reprint() besides JOB_OK, JOB_ERROR, JOB_NOT_FOUND, JOB_STATE_FORBIDDEN. */
#define JOB_REPRINT_GONE (-10)       /* the job kept no documents (retention removed them) */
#define JOB_REPRINT_NO_PRINTER (-11) /* printer_id is not an existing, enabled printer */

/* The source word of a job made by job_reprint(). */
#define JOB_REPRINT_SOURCE "reprint"

/*
 * Makes a new job for job_id's user from copies of its kept documents and releases it to
 * printer_id, audited as job.reprint by actor ("admin:<name>", "cli"; NULL = "system").
 * job_id must be finished: completed, or failed for good (anything still waiting, printing or
 * retryable is JOB_STATE_FORBIDDEN: release it instead). *new_job_r (may be NULL) gets the
 * new job as it stands after the release (releasing; held if the release failed; received or
 * converting when a converter took it first). Needs core->spool.
 * Returns JOB_OK, JOB_NOT_FOUND, JOB_STATE_FORBIDDEN, JOB_REPRINT_GONE,
 * JOB_REPRINT_NO_PRINTER, or JOB_ERROR with error filled (spool copies are removed again).
 */
int job_reprint(pp_core_t *core, int64_t job_id, int64_t printer_id, const char *actor,
		pp_job_t *new_job_r, char *error, size_t error_size);

#endif
