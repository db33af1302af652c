/* job-state.c - the job state machine: the transition table and job_transition(); see job-state.h.
 */
#include "core/job-state.h"

#include "core/accounting.h"
#include "core/audit.h"
#include "core/job.h"
#include "core/settings.h"
#include "db/db-listen.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

static const char *const job_state_names[PP_JOB_STATE_COUNT] = {
    [PP_JOB_RECEIVED] = "received", [PP_JOB_CONVERTING] = "converting",
    [PP_JOB_HELD] = "held",         [PP_JOB_RELEASING] = "releasing",
    [PP_JOB_PRINTING] = "printing", [PP_JOB_COMPLETED] = "completed",
    [PP_JOB_FAILED] = "failed",     [PP_JOB_REJECTED] = "rejected",
    [PP_JOB_CANCELED] = "canceled", [PP_JOB_EXPIRED] = "expired",
    [PP_JOB_INCOMING] = "incoming",
};

#define B(state) JOB_STATE_BIT(PP_JOB_##state)

/*
 * THE table: for each state, the set of states it may move to. Everything else asks
 * job_state_can(). converting -> received requeues a document whose converter was lost.
 * incoming (Create-Job) -> received once its document arrived (intake.c moves it in the
 * transaction that attaches the document), canceled, or expired when none came in time.
 */
static const uint32_t job_state_next[PP_JOB_STATE_COUNT] = {
    [PP_JOB_INCOMING] = B(RECEIVED) | B(CANCELED) | B(EXPIRED),
    [PP_JOB_RECEIVED] = B(CONVERTING) | B(REJECTED) | B(CANCELED) | B(EXPIRED),
    [PP_JOB_CONVERTING] = B(RECEIVED) | B(HELD) | B(FAILED) | B(CANCELED) | B(EXPIRED),
    [PP_JOB_HELD] = B(RELEASING) | B(CANCELED) | B(EXPIRED),
    [PP_JOB_RELEASING] = B(PRINTING) | B(FAILED) | B(CANCELED),
    [PP_JOB_PRINTING] = B(COMPLETED) | B(FAILED) | B(CANCELED),
    [PP_JOB_COMPLETED] = 0,
    /* Only a retryable failure leaves failed; job_transition() checks the row. */
    [PP_JOB_FAILED] = B(HELD) | B(CANCELED) | B(EXPIRED),
    [PP_JOB_REJECTED] = 0,
    [PP_JOB_CANCELED] = 0,
    [PP_JOB_EXPIRED] = 0,
};

#undef B

static bool job_state_is_valid(pp_job_state_t state)
{
	return (unsigned)state < PP_JOB_STATE_COUNT;
}

const char *job_state_name(pp_job_state_t state)
{
	return job_state_is_valid(state) ? job_state_names[state] : "unknown";
}

bool job_state_parse(const char *name, pp_job_state_t *state_r)
{
	for (unsigned i = 0; i < PP_JOB_STATE_COUNT; i++) {
		if (strcmp(job_state_names[i], name) == 0) {
			*state_r = (pp_job_state_t)i;
			return true;
		}
	}
	return false;
}

bool job_state_is_final(pp_job_state_t state)
{
	return state == PP_JOB_COMPLETED || state == PP_JOB_FAILED || state == PP_JOB_REJECTED ||
	       state == PP_JOB_CANCELED || state == PP_JOB_EXPIRED;
}

bool job_state_can(pp_job_state_t from, pp_job_state_t to)
{
	if (!job_state_is_valid(from) || !job_state_is_valid(to))
		return false;
	return (job_state_next[from] & JOB_STATE_BIT(to)) != 0;
}

/* Extra work done inside the transition's transaction for job_release(). */
typedef struct {
	const char *options_json; /* new options, or NULL to keep */
	bool check_printer;       /* the printer in how->printer_id must exist and be enabled */
} job_state_extra_t;

/* Why no row changed: missing job, another state, or a final failure. Called inside the tx. */
static int job_state_why_unchanged(pp_core_t *core, int64_t job_id, pp_job_state_t from,
                                   pp_job_state_t to, char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	if (db_query(core->db, "SELECT state, finished_at FROM jobs WHERE id = $1", params, 1, &res,
	             error, error_size) != DB_OK)
		return JOB_ERROR;
	int rc;
	if (db_result_rows(res) == 0) {
		(void)str_format(error, error_size, "job %lld does not exist", (long long)job_id);
		rc = JOB_NOT_FOUND;
	} else if (strcmp(db_result_text(res, 0, 0), job_state_name(from)) != 0) {
		(void)str_format(error, error_size,
		                 "job %lld is %s, no longer %s: another request changed it first",
		                 (long long)job_id, db_result_text(res, 0, 0),
		                 job_state_name(from));
		rc = JOB_STATE_LOST;
	} else {
		(void)str_format(error, error_size,
		                 "job %lld failed for good and cannot become %s; submit it again",
		                 (long long)job_id, job_state_name(to));
		rc = JOB_STATE_FORBIDDEN;
	}
	db_result_free(&res);
	return rc;
}

/* Checks inside the tx that printer_id exists and is enabled. */
static int job_state_check_printer(pp_core_t *core, int64_t printer_id, char *error,
                                   size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(printer_id)};
	if (db_query(core->db, "SELECT is_enabled, name FROM printers WHERE id = $1", params, 1,
	             &res, error, error_size) != DB_OK)
		return JOB_ERROR;
	int rc = JOB_OK;
	if (db_result_rows(res) == 0) {
		(void)str_format(error, error_size,
		                 "printer %lld does not exist; choose another printer",
		                 (long long)printer_id);
		rc = JOB_ERROR;
	} else if (db_result_int(res, 0, 0) == 0) {
		(void)str_format(error, error_size,
		                 "printer %.127s is disabled; choose another printer or ask an "
		                 "administrator to enable it",
		                 db_result_text(res, 0, 1));
		rc = JOB_ERROR;
	}
	db_result_free(&res);
	return rc;
}

/*
 * The one place a job's state changes. Order inside the transaction: the guarded UPDATE
 * first (it takes the row's write lock, so a racing caller waits and then finds the state
 * changed), then the accounting row and the audit row, then commit.
 */
static int job_state_move(pp_core_t *core, int64_t job_id, pp_job_state_t from, pp_job_state_t to,
                          const pp_job_transition_t *how, const job_state_extra_t *extra,
                          char *error, size_t error_size)
{
	static const pp_job_transition_t no_how = {0};
	if (how == NULL)
		how = &no_how;
	if (!job_state_can(from, to)) {
		(void)str_format(error, error_size, "a job cannot go from %s to %s",
		                 job_state_name(from), job_state_name(to));
		return JOB_STATE_FORBIDDEN;
	}
	const char *actor = how->actor != NULL && how->actor[0] != '\0' ? how->actor : "system";
	int64_t now = core_now(core);

	/* expires_at: a fresh retention window when a job starts waiting (held, a retryable
	 * failure waiting for a retry, or a Create-Job whose document arrived: its window was
	 * the operation time-out); cleared when the job is finished; else kept. */
	bool is_finishing = job_state_is_final(to) && !(to == PP_JOB_FAILED && how->is_retryable);
	int expires_mode = 0; /* 0 keep, 1 set */
	int64_t expires_at = 0;
	if (to == PP_JOB_HELD || (to == PP_JOB_FAILED && how->is_retryable) ||
	    (from == PP_JOB_INCOMING && to == PP_JOB_RECEIVED)) {
		int64_t hours;
		if (settings_get_int(core, "jobs.retention_hours", &hours, error, error_size) < 0)
			return JOB_ERROR;
		expires_mode = 1;
		expires_at = now + hours * 3600;
	} else if (is_finishing) {
		expires_mode = 1; /* NULL */
	}

	char reason[JOB_REASON_MAX];
	if (how->reason != NULL)
		job_text_copy(reason, sizeof(reason), how->reason);

	pp_db_value_t params[] = {
	    DB_TEXT(job_state_name(to)),                     /* $1 */
	    DB_INT(now),                                     /* $2 */
	    how->reason != NULL ? DB_TEXT(reason) : DB_NULL, /* $3 */
	    to == PP_JOB_RELEASING ? DB_INT(now) : DB_NULL,  /* $4 released_at */
	    is_finishing ? DB_INT(now) : DB_NULL,            /* $5 finished_at */
	    expires_mode == 1 && expires_at != 0 ? DB_INT(expires_at) : DB_NULL, /* $6 */
	    DB_INT(expires_mode),                                                /* $7 */
	    to == PP_JOB_RELEASING && how->printer_id > 0 ? DB_INT(how->printer_id)
	                                                  : DB_NULL, /* $8 */
	    how->has_pages ? DB_INT(how->pages) : DB_NULL,           /* $9 */
	    how->has_pages ? DB_INT(how->color_pages) : DB_NULL,     /* $10 */
	    DB_INT(job_id),                                          /* $11 */
	    DB_TEXT(job_state_name(from)),                           /* $12 */
	    DB_INT(from == PP_JOB_FAILED ? 1 : 0), /* $13: leaving failed needs a retryable one */
	    extra != NULL ? DB_TEXT(extra->options_json) : DB_NULL, /* $14 */
	};
	static const char update_sql[] =
	    "UPDATE jobs SET state = $1, updated_at = $2,"
	    " state_reason = COALESCE($3, state_reason),"
	    " released_at = COALESCE($4, released_at),"
	    " finished_at = $5,"
	    " expires_at = CASE WHEN $7 = 1 THEN $6 ELSE expires_at END,"
	    " printer_id = COALESCE($8, printer_id),"
	    " pages = COALESCE($9, pages),"
	    " color_pages = COALESCE($10, color_pages),"
	    " options = COALESCE($14, options)"
	    " WHERE id = $11 AND state = $12 AND ($13 = 0 OR finished_at IS NULL)";

	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return JOB_ERROR;
	int64_t changes = 0;
	if (db_exec(core->db, update_sql, params, sizeof(params) / sizeof(params[0]), &changes,
	            error, error_size) != DB_OK)
		goto fail;
	if (changes == 0) {
		int rc = job_state_why_unchanged(core, job_id, from, to, error, error_size);
		db_tx_rollback(core->db);
		return rc;
	}
	/* Checked after the UPDATE so that the printer row is read under the same lock order
	 * as every other transition; a disabled printer undoes the whole move. */
	if (extra != NULL && extra->check_printer &&
	    job_state_check_printer(core, how->printer_id, error, error_size) != JOB_OK) {
		db_tx_rollback(core->db);
		return JOB_ERROR;
	}
	/* A job that was printing leaves its accounting record as it ends. */
	if (from == PP_JOB_PRINTING && is_finishing &&
	    accounting_record_locked(core, job_id, to, now, error, error_size) < 0)
		goto fail;
	if (str_has_prefix(actor, "admin:")) {
		char object[64];
		char action[64];
		(void)str_format(object, sizeof(object), "job:%lld", (long long)job_id);
		(void)str_format(action, sizeof(action), "job.%s", job_state_name(to));
		if (audit_record(core, actor, action, object, how->reason != NULL ? reason : NULL,
		                 error, error_size) < 0)
			goto fail;
	}
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		return JOB_ERROR;
	log_info("job.state job=%lld from=%s to=%s actor=%s", (long long)job_id,
	         job_state_name(from), job_state_name(to), actor);
	return JOB_OK;
fail:
	db_tx_rollback(core->db);
	return JOB_ERROR;
}

int job_transition(pp_core_t *core, int64_t job_id, pp_job_state_t from, pp_job_state_t to,
                   const pp_job_transition_t *how, char *error, size_t error_size)
{
	return job_state_move(core, job_id, from, to, how, NULL, error, error_size);
}

int job_release(pp_core_t *core, int64_t job_id, int64_t printer_id,
                const pp_print_options_t *options, const char *actor, char *error,
                size_t error_size)
{
	if (printer_id <= 0) {
		(void)str_format(error, error_size, "job %lld: choose a printer to release to",
		                 (long long)job_id);
		return JOB_ERROR;
	}
	char *options_json = NULL;
	if (options != NULL) {
		if (options_validate(options, error, error_size) < 0)
			return JOB_ERROR;
		options_json = options_to_json(options);
		if (options_json == NULL) {
			(void)str_format(error, error_size, "job %lld: out of memory",
			                 (long long)job_id);
			return JOB_ERROR;
		}
	}
	pp_job_transition_t how = {
	    .actor = actor,
	    .printer_id = printer_id,
	};
	job_state_extra_t extra = {.options_json = options_json, .check_printer = true};
	int rc = job_state_move(core, job_id, PP_JOB_HELD, PP_JOB_RELEASING, &how, &extra, error,
	                        error_size);
	free(options_json);
	/* After the commit: the delivery manager finds the job releasing when it looks; the
	 * notification wakes the managers of other processes (PostgreSQL only). A failed
	 * notification only delays the delivery to their next poll. */
	if (rc == JOB_OK) {
		char notify_error[DB_ERROR_MAX];
		if (db_notify(core->db, CORE_RELEASED_CHANNEL, notify_error,
		              sizeof(notify_error)) < 0)
			log_warn("job.notify_failed job=%lld error=\"%s\"", (long long)job_id,
			         notify_error);
		if (core->on_job_released != NULL)
			core->on_job_released(core->on_job_released_ctx);
	}
	return rc;
}

int job_hold(pp_core_t *core, int64_t job_id, pp_job_state_t from, const pp_job_transition_t *how,
             char *error, size_t error_size)
{
	int rc = job_state_move(core, job_id, from, PP_JOB_HELD, how, NULL, error, error_size);
	if (rc != JOB_OK)
		return rc;
	/* Combined flow: no waiting for a release step. */
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	if (db_query(core->db, "SELECT is_combined, printer_id FROM jobs WHERE id = $1", params, 1,
	             &res, error, error_size) != DB_OK)
		return JOB_ERROR;
	bool is_combined = db_result_rows(res) == 1 && db_result_int(res, 0, 0) != 0 &&
	                   !db_result_is_null(res, 0, 1);
	int64_t printer_id = is_combined ? db_result_int(res, 0, 1) : 0;
	db_result_free(&res);
	if (!is_combined)
		return JOB_OK;
	return job_release(core, job_id, printer_id, NULL, how != NULL ? how->actor : NULL, error,
	                   error_size);
}
