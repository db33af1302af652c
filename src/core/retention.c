/* retention.c - the retention sweeper; see retention.h. */
#include "core/retention.h"

#include "core/job-state.h"
#include "core/job.h"
#include "core/settings.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

#define RETENTION_BATCH_MAX 10000

/* The settings one sweep works with. */
typedef struct {
	int64_t now;
	int64_t printed_cutoff; /* completed jobs finished at or before this lose their files */
	int64_t purge_cutoff;   /* finished jobs and records at or before this are deleted */
	size_t batch;
} retention_plan_t;

static int retention_plan(pp_core_t *core, size_t batch, retention_plan_t *plan, char *error,
                          size_t error_size)
{
	char policy[32];
	int64_t keep_hours, days;
	if (settings_get_string(core, "jobs.printed_policy", policy, sizeof(policy), error,
	                        error_size) < 0 ||
	    settings_get_int(core, "jobs.printed_keep_hours", &keep_hours, error, error_size) < 0 ||
	    settings_get_int(core, "accounting.retention_days", &days, error, error_size) < 0)
		return -1;
	plan->now = core_now(core);
	plan->printed_cutoff =
	    strcmp(policy, "keep") == 0 ? plan->now - keep_hours * 3600 : plan->now;
	plan->purge_cutoff = plan->now - days * 86400;
	plan->batch = batch == 0 ? RETENTION_BATCH_DEFAULT : batch;
	if (plan->batch > RETENTION_BATCH_MAX)
		plan->batch = RETENTION_BATCH_MAX;
	return 0;
}

/* What one sweep step does to one selected job: 0, or -1 to stop the sweep (error filled). */
typedef int (*retention_row_fn)(pp_core_t *core, const pp_db_result_t *res, size_t row,
                                pp_retention_stats_t *stats, char *error, size_t error_size);

/*
 * One batch step: which jobs (sql: $1 = cutoff, $2 = the batch size; the job id in column 0)
 * and what happens to each.
 */
typedef struct {
	const char *sql;
	int64_t cutoff;
	retention_row_fn on_row;
} retention_step_t;

/*
 * One batch of a sweep step: selects at most plan->batch jobs with step->sql and calls
 * step->on_row for each, stopping at the first -1. Steps 1-3 differ only in the query and the
 * per-job action, so the batch limit, the "more to do" flag and the cleanup live here once.
 * Returns 0, or -1 with error filled.
 */
static int retention_batch(pp_core_t *core, const retention_plan_t *plan,
                           const retention_step_t *step, pp_retention_stats_t *stats,
                           char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(step->cutoff), DB_INT((int64_t)plan->batch)};
	if (db_query(core->db, step->sql, params, 2, &res, error, error_size) != DB_OK)
		return -1;
	size_t rows = db_result_rows(res);
	int rc = 0;
	for (size_t i = 0; i < rows; i++) {
		if (step->on_row(core, res, i, stats, error, error_size) < 0) {
			rc = -1;
			break;
		}
	}
	/* A full batch may have left rows behind: the caller sweeps again soon. */
	if (rows == plan->batch)
		stats->is_more = true;
	db_result_free(&res);
	return rc;
}

/*
 * Step 1: waiting jobs past expires_at become expired through the state machine. An incoming
 * job's expires_at is its operation time-out (Create-Job without the document in time).
 */
#define RETENTION_EXPIRE_SQL                                                                       \
	"SELECT id, state FROM jobs WHERE expires_at <= $1"                                        \
	" AND (state IN ('incoming','received','converting','held')"                               \
	" OR (state = 'failed' AND finished_at IS NULL))"                                          \
	" ORDER BY expires_at, id LIMIT $2"

static int retention_expire_row(pp_core_t *core, const pp_db_result_t *res, size_t row,
                                pp_retention_stats_t *stats, char *error, size_t error_size)
{
	pp_job_state_t from;
	if (!job_state_parse(db_result_text(res, row, 1), &from))
		return 0;
	pp_job_transition_t how = {.reason = from == PP_JOB_INCOMING
	                                         ? "its document did not arrive in time"
	                                         : "not released within the retention time"};
	int moved = job_transition(core, db_result_int(res, row, 0), from, PP_JOB_EXPIRED, &how,
	                           error, error_size);
	if (moved == JOB_OK)
		stats->jobs_expired++;
	else if (moved == JOB_ERROR)
		return -1;
	/* LOST/NOT_FOUND: another request moved or deleted it; nothing to do. */
	return 0;
}

/* Step 2: finished jobs that still hold documents lose them (policy for completed ones). */
#define RETENTION_FILES_SQL                                                                        \
	"SELECT j.id FROM jobs j WHERE EXISTS"                                                     \
	" (SELECT 1 FROM documents d WHERE d.job_id = j.id)"                                       \
	" AND (j.state IN ('rejected','canceled','expired')"                                       \
	" OR (j.state = 'failed' AND j.finished_at IS NOT NULL)"                                   \
	" OR (j.state = 'completed' AND j.finished_at <= $1))"                                     \
	" ORDER BY j.id LIMIT $2"

static int retention_files_row(pp_core_t *core, const pp_db_result_t *res, size_t row,
                               pp_retention_stats_t *stats, char *error, size_t error_size)
{
	size_t files = 0;
	if (job_drop_documents(core, db_result_int(res, row, 0), &files, error, error_size) < 0)
		return -1;
	stats->jobs_emptied++;
	stats->files_deleted += files;
	return 0;
}

/* Step 3: rows of jobs finished before the accounting retention go, with any files left. */
#define RETENTION_PURGE_SQL                                                                        \
	"SELECT id FROM jobs WHERE finished_at <= $1"                                              \
	" AND (state IN ('completed','rejected','canceled','expired','failed'))"                   \
	" ORDER BY finished_at, id LIMIT $2"

static int retention_purge_row(pp_core_t *core, const pp_db_result_t *res, size_t row,
                               pp_retention_stats_t *stats, char *error, size_t error_size)
{
	int deleted = job_delete(core, db_result_int(res, row, 0), error, error_size);
	if (deleted == JOB_OK)
		stats->jobs_purged++;
	else if (deleted == JOB_ERROR)
		return -1;
	return 0;
}

/* Step 4: accounting records past their retention. */
static int retention_accounting(pp_core_t *core, const retention_plan_t *plan,
                                pp_retention_stats_t *stats, char *error, size_t error_size)
{
	int64_t changes = 0;
	pp_db_value_t params[] = {DB_INT(plan->purge_cutoff), DB_INT((int64_t)plan->batch)};
	if (db_exec(core->db,
	            "DELETE FROM accounting WHERE id IN (SELECT id FROM accounting"
	            " WHERE finished_at <= $1 ORDER BY finished_at, id LIMIT $2)",
	            params, 2, &changes, error, error_size) != DB_OK)
		return -1;
	stats->accounting_purged = (size_t)changes;
	if ((size_t)changes == plan->batch)
		stats->is_more = true;
	return 0;
}

int retention_sweep(pp_core_t *core, size_t batch, pp_retention_stats_t *stats_r, char *error,
                    size_t error_size)
{
	retention_plan_t plan;
	memset(stats_r, 0, sizeof(*stats_r));
	if (retention_plan(core, batch, &plan, error, error_size) < 0)
		return -1;
	/* Expire before dropping files, so jobs expired now lose their files in this sweep. */
	const retention_step_t steps[] = {
	    {RETENTION_EXPIRE_SQL, plan.now, retention_expire_row},
	    {RETENTION_FILES_SQL, plan.printed_cutoff, retention_files_row},
	    {RETENTION_PURGE_SQL, plan.purge_cutoff, retention_purge_row},
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
		rc = retention_batch(core, &plan, &steps[i], stats_r, error, error_size);
	if (rc == 0)
		rc = retention_accounting(core, &plan, stats_r, error, error_size);
	if (stats_r->jobs_expired + stats_r->jobs_emptied + stats_r->jobs_purged +
	        stats_r->accounting_purged >
	    0)
		log_info("retention.swept expired=%zu emptied=%zu files=%zu purged=%zu "
		         "accounting=%zu more=%s",
		         stats_r->jobs_expired, stats_r->jobs_emptied, stats_r->files_deleted,
		         stats_r->jobs_purged, stats_r->accounting_purged,
		         stats_r->is_more ? "yes" : "no");
	return rc;
}
