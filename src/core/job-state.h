/*
 * job-state.h - the job state machine: the one table of allowed transitions, and the one
 * function that moves a job from state to state.
 *
 *   incoming ──► received (its document arrived; or canceled, expired without one)
 *   received ──► converting ──► held ──► releasing ──► printing ──► completed
 *       ▲  │          │  │        │            │            └──► failed (retryable / final)
 *       │  └─► rejected  └─► failed  ├─► canceled (by user/admin)
 *       │             │              └─► expired (retention)
 *       └─────────────┘ abandoned: the converter died; received again while attempts remain
 *                       (convert-queue.h)
 *
 * Every move is one database transaction: UPDATE … WHERE id = ? AND state = <expected>, so
 * of two callers racing from the same state exactly one wins and the other gets
 * JOB_STATE_LOST. The same transaction sets the timestamps (released_at, finished_at,
 * expires_at), writes the accounting record when a job that was printing ends, and an audit
 * row when the actor is an administrator ("admin:<name>").
 *
 * failed comes in two kinds. A retryable failure keeps finished_at NULL and gets a fresh
 * expires_at: the job may go back to held (its reason kept), be canceled, or expire. A final
 * failure sets finished_at: the job is finished like completed, canceled, rejected and
 * expired, and nothing leaves those states.
 */
#ifndef PP_JOB_STATE_H
#define PP_JOB_STATE_H

#include "core/core.h"
#include "core/options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	PP_JOB_RECEIVED = 0,
	PP_JOB_CONVERTING,
	PP_JOB_HELD,
	PP_JOB_RELEASING,
	PP_JOB_PRINTING,
	PP_JOB_COMPLETED,
	PP_JOB_FAILED,
	PP_JOB_REJECTED,
	PP_JOB_CANCELED,
	PP_JOB_EXPIRED,
	PP_JOB_INCOMING, /* Create-Job: the row exists, its document has not arrived yet */
} pp_job_state_t;

#define PP_JOB_STATE_COUNT 11
/* A set of states for filters: JOB_STATE_BIT(PP_JOB_HELD) | … ; 0 means every state. */
#define JOB_STATE_BIT(state) (1u << (unsigned)(state))

/* Results of job_transition() and of the job functions (job.h) besides 0 and -1. */
#define JOB_OK 0
#define JOB_ERROR (-1)
#define JOB_STATE_LOST (-2)      /* the job was no longer in the expected state: another won */
#define JOB_STATE_FORBIDDEN (-3) /* the table (or a final failure) does not allow the move */
#define JOB_NOT_FOUND (-4)

#define JOB_REASON_MAX 256 /* state_reason, with the terminator */

/* The word stored in jobs.state ("held"). Static; "unknown" for a bad value. */
const char *job_state_name(pp_job_state_t state);

/* Parses a state word. Returns false for anything else. */
bool job_state_parse(const char *name, pp_job_state_t *state_r);

/* True for completed, failed, rejected, canceled and expired (failed may still be retryable). */
bool job_state_is_final(pp_job_state_t state);

/*
 * True when the table allows from -> to. (Leaving failed additionally needs the failure to be
 * retryable; job_transition() checks that against the row.)
 */
bool job_state_can(pp_job_state_t from, pp_job_state_t to);

/* How a transition happens. Zeroed means: system actor, reason unchanged, final failure. */
typedef struct {
	const char *actor;  /* "system" when NULL; "admin:<name>" also writes an audit row */
	const char *reason; /* new state_reason; NULL keeps the current one (cut at 255 bytes) */
	bool is_retryable;  /* entering failed: the job may be retried (back to held) */
	int64_t printer_id; /* entering releasing: the printer chosen (0 keeps the current) */
	/* With has_pages: stores the page counts on the job (the converter's count on entering
	 * held, the printed count on leaving printing): pages per copy and how many of them in
	 * colour. Without: the stored counts are kept. */
	bool has_pages;
	int64_t pages;
	int64_t color_pages;
} pp_job_transition_t;

/*
 * Moves job job_id from state from to state to in one transaction (see the file comment).
 * how may be NULL (defaults above). Returns JOB_OK, JOB_STATE_LOST (the row is not in from;
 * nothing changed), JOB_STATE_FORBIDDEN (the move is not allowed; nothing changed),
 * JOB_NOT_FOUND, or JOB_ERROR with error filled.
 */
int job_transition(pp_core_t *core, int64_t job_id, pp_job_state_t from, pp_job_state_t to,
                   const pp_job_transition_t *how, char *error, size_t error_size);

/*
 * Moves job_id from from (converting, or a retryable failed) to held; a combined-flow job
 * (printer named at submission) is then released to that printer at once with job_release().
 * The two moves are two transactions: a crash between leaves the job held, where its owner
 * can release it. Returns as job_transition() (the release's result for a combined job).
 */
int job_hold(pp_core_t *core, int64_t job_id, pp_job_state_t from, const pp_job_transition_t *how,
             char *error, size_t error_size);

/*
 * Releases a held job to printer_id: held -> releasing with the printer recorded. Used by the
 * release step (panel, portal) and by the combined flow, which calls it as soon as the job
 * is held. The printer must exist and be enabled. options (may be NULL) replace the job's
 * stored print options, validated first. actor as in pp_job_transition_t.
 * Returns as job_transition().
 */
int job_release(pp_core_t *core, int64_t job_id, int64_t printer_id,
                const pp_print_options_t *options, const char *actor, char *error,
                size_t error_size);

#endif
