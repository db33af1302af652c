/*
 * convert-queue.c - claims and outcomes of conversions in the database; see convert-queue.h.
 *
 * A claim is one guarded UPDATE (state received -> converting) in a transaction that also
 * reads the job's original document. Outcomes go through the state machine (job-state.h):
 * job_transition() for failed and received, job_hold() for held. job_hold() runs its own
 * transaction and transactions do not nest, so a successful conversion is recorded in two
 * steps: first the outputs and the analysis (guarded by state converting), then the move to
 * held; if the move loses (the job was canceled or expired meanwhile) the outputs' rows are
 * removed again, so the caller may delete their files. A crash between the two steps leaves a
 * converting job with outputs: its claim goes stale, it is converted again, and the next
 * complete replaces the earlier attempt's outputs (rows, then files).
 */
#include "core/convert-queue.h"

#include "core/job-state.h"
#include "lib/log.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* At most this many stale claims are handled by one convert_queue_requeue_stale() call. */
#define CONVERT_QUEUE_STALE_BATCH 1000

/* How often convert_queue_claim_next() skips a broken job (no original) before giving up. */
#define CONVERT_QUEUE_SKIP_MAX 16

/* Columns the claim's RETURNING gives, in order. */
#define CONVERT_CLAIM_RETURNING " RETURNING id, uuid, convert_attempts, size_bytes"

/* Copies worker into a bounded name; "" becomes "unknown". */
static void convert_worker_name(char name[CONVERT_WORKER_NAME_MAX], const char *worker)
{
	job_text_copy(name, CONVERT_WORKER_NAME_MAX,
	              worker != NULL && worker[0] != '\0' ? worker : "unknown");
}

/* Inside the claim's transaction: fills task from the RETURNING row and the original. */
static int convert_task_fill(pp_core_t *core, const pp_db_result_t *claimed,
                             pp_convert_task_t *task_r, bool *has_original_r, char *error,
                             size_t error_size)
{
	memset(task_r, 0, sizeof(*task_r));
	task_r->job_id = db_result_int(claimed, 0, 0);
	job_text_copy(task_r->uuid, sizeof(task_r->uuid), db_result_text(claimed, 0, 1));
	task_r->attempts = (int)db_result_int(claimed, 0, 2);
	task_r->size_bytes = db_result_int(claimed, 0, 3);

	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(task_r->job_id)};
	if (db_query(core->db,
	             "SELECT file_id, name, content_type, size_bytes FROM documents"
	             " WHERE job_id = $1 AND role = 'original' ORDER BY id LIMIT 1",
	             params, 1, &res, error, error_size) != DB_OK)
		return -1;
	*has_original_r = db_result_rows(res) == 1;
	if (*has_original_r) {
		job_text_copy(task_r->file_id, sizeof(task_r->file_id), db_result_text(res, 0, 0));
		job_text_copy(task_r->name, sizeof(task_r->name), db_result_text(res, 0, 1));
		job_text_copy(task_r->content_type, sizeof(task_r->content_type),
		              db_result_text(res, 0, 2));
		task_r->size_bytes = db_result_int(res, 0, 3);
	}
	db_result_free(&res);
	return 0;
}

/*
 * Runs one claim statement (sql with $1 now, $2 worker, $3 optional job id) and reads the
 * original, in one transaction. Returns 1 claimed, 0 no row changed, -1 error. A claimed job
 * without an original document is failed at once (*task_r then has job_id set and
 * *is_broken_r true): nothing could ever convert it.
 */
static int convert_claim_run(pp_core_t *core, const char *sql, const pp_db_value_t *params,
                             size_t n_params, pp_convert_task_t *task_r, bool *is_broken_r,
                             char *error, size_t error_size)
{
	*is_broken_r = false;
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	pp_db_result_t *claimed = NULL;
	if (db_query(core->db, sql, params, n_params, &claimed, error, error_size) != DB_OK)
		goto fail;
	if (db_result_rows(claimed) == 0) {
		db_result_free(&claimed);
		db_tx_rollback(core->db);
		return 0;
	}
	bool has_original = false;
	int rc = convert_task_fill(core, claimed, task_r, &has_original, error, error_size);
	db_result_free(&claimed);
	if (rc < 0)
		goto fail;
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		return -1;
	log_info("job.state job=%lld from=received to=converting actor=system attempt=%d",
	         (long long)task_r->job_id, task_r->attempts);
	if (!has_original) {
		*is_broken_r = true;
		char fail_error[256];
		log_error("convert.no_original job=%lld action=\"the job is failed; send the "
		          "document again\"",
		          (long long)task_r->job_id);
		if (convert_queue_fail(core, task_r->job_id,
		                       "The document was not stored completely; send it again.",
		                       fail_error, sizeof(fail_error)) != JOB_OK)
			log_error("convert.fail_failed job=%lld error=\"%s\"",
			          (long long)task_r->job_id, fail_error);
	}
	return 1;
fail:
	db_result_free(&claimed);
	db_tx_rollback(core->db);
	return -1;
}

int convert_queue_claim_next(pp_core_t *core, const char *worker, pp_convert_task_t *task_r,
                             char *error, size_t error_size)
{
	if (!job_state_can(PP_JOB_RECEIVED, PP_JOB_CONVERTING)) {
		(void)str_format(error, error_size, "the state machine forbids claiming jobs");
		return -1;
	}
	char name[CONVERT_WORKER_NAME_MAX];
	convert_worker_name(name, worker);
	/*
	 * PostgreSQL: the oldest received row not locked by another claimer (SKIP LOCKED), so
	 * workers on many hosts never wait on each other nor take the same job. SQLite: the
	 * write transaction (BEGIN IMMEDIATE) already keeps claimers apart.
	 */
	const char *sql = db_backend(core->db) == PP_DB_POSTGRES
	                      ? "UPDATE jobs SET state = 'converting',"
	                        " convert_attempts = convert_attempts + 1,"
	                        " convert_claimed_at = $1, convert_worker = $2, updated_at = $1"
	                        " WHERE id = (SELECT id FROM jobs WHERE state = 'received'"
	                        " ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)"
	                        " AND state = 'received'" CONVERT_CLAIM_RETURNING
	                      : "UPDATE jobs SET state = 'converting',"
	                        " convert_attempts = convert_attempts + 1,"
	                        " convert_claimed_at = $1, convert_worker = $2, updated_at = $1"
	                        " WHERE id = (SELECT id FROM jobs WHERE state = 'received'"
	                        " ORDER BY id LIMIT 1)"
	                        " AND state = 'received'" CONVERT_CLAIM_RETURNING;
	for (int skipped = 0; skipped < CONVERT_QUEUE_SKIP_MAX; skipped++) {
		/* A cheap look first: an idle pool asks every second, and an empty queue
		 * should cost no write transaction (SQLite's is the one database lock). */
		pp_db_result_t *res = NULL;
		if (db_query(core->db, "SELECT id FROM jobs WHERE state = 'received' LIMIT 1", NULL,
		             0, &res, error, error_size) != DB_OK)
			return -1;
		size_t rows = db_result_rows(res);
		db_result_free(&res);
		if (rows == 0)
			return 0;
		pp_db_value_t params[] = {DB_INT(core_now(core)), DB_TEXT(name)};
		bool is_broken = false;
		int rc =
		    convert_claim_run(core, sql, params, 2, task_r, &is_broken, error, error_size);
		if (rc <= 0 || !is_broken)
			return rc;
	}
	return 0;
}

/* Why no row changed for job_id: JOB_NOT_FOUND or JOB_STATE_LOST, with error filled. */
static int convert_why_unchanged(pp_core_t *core, int64_t job_id, const char *expected, char *error,
                                 size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	if (db_query(core->db, "SELECT state FROM jobs WHERE id = $1", params, 1, &res, error,
	             error_size) != DB_OK)
		return JOB_ERROR;
	int rc;
	if (db_result_rows(res) == 0) {
		(void)str_format(error, error_size, "job %lld does not exist", (long long)job_id);
		rc = JOB_NOT_FOUND;
	} else {
		(void)str_format(error, error_size, "job %lld is %s, no longer %s",
		                 (long long)job_id, db_result_text(res, 0, 0), expected);
		rc = JOB_STATE_LOST;
	}
	db_result_free(&res);
	return rc;
}

int convert_queue_claim(pp_core_t *core, int64_t job_id, const char *worker,
                        pp_convert_task_t *task_r, char *error, size_t error_size)
{
	char name[CONVERT_WORKER_NAME_MAX];
	convert_worker_name(name, worker);
	static const char sql[] =
	    "UPDATE jobs SET state = 'converting', convert_attempts = convert_attempts + 1,"
	    " convert_claimed_at = $1, convert_worker = $2, updated_at = $1"
	    " WHERE id = $3 AND state = 'received'" CONVERT_CLAIM_RETURNING;
	pp_db_value_t params[] = {DB_INT(core_now(core)), DB_TEXT(name), DB_INT(job_id)};
	bool is_broken = false;
	int rc = convert_claim_run(core, sql, params, 3, task_r, &is_broken, error, error_size);
	if (rc < 0)
		return JOB_ERROR;
	if (rc == 0)
		return convert_why_unchanged(core, job_id, "received", error, error_size);
	if (is_broken) {
		(void)str_format(error, error_size,
		                 "job %lld has no stored document; it was failed",
		                 (long long)job_id);
		return JOB_STATE_LOST;
	}
	return JOB_OK;
}

/* Checks that every output names a role and a spool file. */
static int convert_outputs_check(const pp_convert_output_t *outputs, size_t n_outputs, char *error,
                                 size_t error_size)
{
	if (n_outputs > 0 && outputs == NULL) {
		(void)str_format(error, error_size, "convert: outputs missing");
		return -1;
	}
	for (size_t i = 0; i < n_outputs; i++) {
		if (outputs[i].role == NULL || outputs[i].role[0] == '\0' ||
		    strcmp(outputs[i].role, "original") == 0 || outputs[i].file_id == NULL ||
		    outputs[i].size_bytes < 0) {
			(void)str_format(
			    error, error_size,
			    "convert: output %zu needs a role (not \"original\"), a file "
			    "id and a size",
			    i);
			return -1;
		}
	}
	return 0;
}

/* Inside the caller's transaction: adds a documents row per output. */
static int convert_outputs_insert(pp_core_t *core, int64_t job_id,
                                  const pp_convert_output_t *outputs, size_t n_outputs, char *error,
                                  size_t error_size)
{
	for (size_t i = 0; i < n_outputs; i++) {
		if (job_document_add(core, job_id, outputs[i].role, outputs[i].file_id, NULL,
		                     outputs[i].content_type, outputs[i].size_bytes, NULL, error,
		                     error_size) != 0)
			return -1;
	}
	return 0;
}

/* Deletes spool files no row names any more (after the commit that dropped their rows). */
static void convert_files_delete(pp_core_t *core, int64_t job_id, pp_db_result_t *files)
{
	for (size_t i = 0; files != NULL && i < db_result_rows(files); i++) {
		const char *file_id = db_result_text(files, i, 0);
		char spool_error[256];
		if (core->spool == NULL) {
			log_warn("convert.file_left job=%lld file=%s — startup recovery removes it",
			         (long long)job_id, file_id);
		} else if (spool_delete(core->spool, file_id, spool_error, sizeof(spool_error)) <
		           0) {
			log_warn(
			    "convert.file_left job=%lld file=%s error=\"%s\" — startup recovery "
			    "removes it",
			    (long long)job_id, file_id, spool_error);
		}
	}
}

/* Removes the rows of outputs again (the move to held lost). Logged when it cannot. */
static void convert_outputs_remove(pp_core_t *core, int64_t job_id,
                                   const pp_convert_output_t *outputs, size_t n_outputs)
{
	char error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, error, sizeof(error)) != DB_OK)
		goto fail;
	for (size_t i = 0; i < n_outputs; i++) {
		pp_db_value_t params[] = {DB_INT(job_id), DB_TEXT(outputs[i].file_id)};
		if (db_exec(core->db, "DELETE FROM documents WHERE job_id = $1 AND file_id = $2",
		            params, 2, NULL, error, sizeof(error)) != DB_OK) {
			db_tx_rollback(core->db);
			goto fail;
		}
	}
	if (db_tx_commit(core->db, error, sizeof(error)) != DB_OK)
		goto fail;
	return;
fail:
	log_error("convert.rows_left job=%lld error=\"%s\" — rows name files the converter "
	          "removes; delete the job",
	          (long long)job_id, error);
}

/* Checks the analysis: counts in range, page_info a JSON array. */
static int convert_analysis_check(int pages, int color_pages, const char *page_info_json,
                                  char *error, size_t error_size)
{
	if (pages < 0 || color_pages < 0 || color_pages > pages) {
		(void)str_format(error, error_size,
		                 "convert: page counts out of range (pages %d, colour %d)", pages,
		                 color_pages);
		return -1;
	}
	json_error_t json_error;
	json_t *info = json_loads(page_info_json, JSON_REJECT_DUPLICATES, &json_error);
	bool is_array = json_is_array(info);
	json_decref(info);
	if (!is_array) {
		(void)str_format(error, error_size,
		                 "convert: the page analysis is not a JSON array");
		return -1;
	}
	return 0;
}

int convert_queue_complete(pp_core_t *core, int64_t job_id, const pp_convert_output_t *outputs,
                           size_t n_outputs, int pages, int color_pages, const char *page_info_json,
                           char *error, size_t error_size)
{
	if (page_info_json == NULL)
		page_info_json = "[]";
	if (convert_outputs_check(outputs, n_outputs, error, error_size) < 0 ||
	    convert_analysis_check(pages, color_pages, page_info_json, error, error_size) < 0)
		return JOB_ERROR;
	if (!job_state_can(PP_JOB_CONVERTING, PP_JOB_HELD)) {
		(void)str_format(error, error_size, "a job cannot go from converting to held");
		return JOB_STATE_FORBIDDEN;
	}

	/* Step 1: the outputs and the analysis, only while the job is converting (the guarded
	 * UPDATE takes the row lock first). An earlier attempt's outputs are replaced. */
	pp_db_result_t *old_files = NULL;
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return JOB_ERROR;
	int64_t changes = 0;
	pp_db_value_t params[] = {DB_INT(job_id), DB_TEXT(page_info_json), DB_INT(core_now(core))};
	if (db_exec(core->db,
	            "UPDATE jobs SET page_info = $2, updated_at = $3"
	            " WHERE id = $1 AND state = 'converting'",
	            params, 3, &changes, error, error_size) != DB_OK)
		goto fail;
	if (changes == 0) {
		int rc = convert_why_unchanged(core, job_id, "converting", error, error_size);
		db_tx_rollback(core->db);
		return rc;
	}
	if (db_query(core->db,
	             "SELECT file_id FROM documents WHERE job_id = $1 AND role <> 'original'",
	             params, 1, &old_files, error, error_size) != DB_OK ||
	    db_exec(core->db, "DELETE FROM documents WHERE job_id = $1 AND role <> 'original'",
	            params, 1, NULL, error, error_size) != DB_OK ||
	    convert_outputs_insert(core, job_id, outputs, n_outputs, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, error, error_size) != DB_OK) {
		db_result_free(&old_files);
		return JOB_ERROR;
	}
	convert_files_delete(core, job_id, old_files);
	db_result_free(&old_files);

	/* Step 2: converting -> held (and on to releasing for a combined-flow job). */
	pp_job_transition_t how = {.has_pages = true, .pages = pages, .color_pages = color_pages};
	int rc = job_hold(core, job_id, PP_JOB_CONVERTING, &how, error, error_size);
	if (rc == JOB_OK)
		return JOB_OK;
	pp_job_t job;
	char get_error[DB_ERROR_MAX];
	if (job_get(core, job_id, &job, get_error, sizeof(get_error)) == JOB_OK &&
	    (job.state == PP_JOB_HELD || job.state == PP_JOB_RELEASING ||
	     job.state == PP_JOB_PRINTING || job.state == PP_JOB_COMPLETED)) {
		/* Held, but the combined flow's release failed: the conversion is recorded and
		 * the job waits for its owner to release it. */
		log_warn("convert.release_failed job=%lld error=\"%s\" action=\"the job is held; "
		         "release it by hand\"",
		         (long long)job_id, error);
		return JOB_OK;
	}
	convert_outputs_remove(core, job_id, outputs, n_outputs);
	return rc;
fail:
	db_result_free(&old_files);
	db_tx_rollback(core->db);
	return JOB_ERROR;
}

int convert_queue_fail(pp_core_t *core, int64_t job_id, const char *reason, char *error,
                       size_t error_size)
{
	pp_job_transition_t how = {
	    .reason = reason != NULL && reason[0] != '\0' ? reason
	                                                  : "The document could not be converted.",
	    .is_retryable = false,
	};
	return job_transition(core, job_id, PP_JOB_CONVERTING, PP_JOB_FAILED, &how, error,
	                      error_size);
}

int convert_queue_abandon(pp_core_t *core, int64_t job_id, unsigned max_attempts,
                          const char *reason, bool *requeued_r, char *error, size_t error_size)
{
	if (requeued_r != NULL)
		*requeued_r = false;
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	if (db_query(core->db, "SELECT state, convert_attempts FROM jobs WHERE id = $1", params, 1,
	             &res, error, error_size) != DB_OK)
		return JOB_ERROR;
	if (db_result_rows(res) == 0) {
		db_result_free(&res);
		(void)str_format(error, error_size, "job %lld does not exist", (long long)job_id);
		return JOB_NOT_FOUND;
	}
	int64_t attempts = db_result_int(res, 0, 1);
	db_result_free(&res);

	/* The transition itself is guarded by state converting: a worker that recorded its
	 * outcome meanwhile wins, and this gets JOB_STATE_LOST. */
	bool is_requeue = attempts < (int64_t)max_attempts;
	int rc;
	if (is_requeue) {
		rc = job_transition(core, job_id, PP_JOB_CONVERTING, PP_JOB_RECEIVED, NULL, error,
		                    error_size);
	} else {
		pp_job_transition_t how = {
		    .reason = reason != NULL && reason[0] != '\0'
		                  ? reason
		                  : "The converter stopped while converting this document.",
		};
		rc = job_transition(core, job_id, PP_JOB_CONVERTING, PP_JOB_FAILED, &how, error,
		                    error_size);
	}
	if (rc == JOB_OK) {
		log_warn("convert.abandoned job=%lld attempts=%lld outcome=%s", (long long)job_id,
		         (long long)attempts, is_requeue ? "requeued" : "failed");
		if (requeued_r != NULL)
			*requeued_r = is_requeue;
	}
	return rc;
}

int convert_queue_requeue_stale(pp_core_t *core, int64_t lease_s, unsigned max_attempts,
                                size_t *requeued_r, size_t *failed_r, char *error,
                                size_t error_size)
{
	size_t requeued = 0, failed = 0;
	if (requeued_r != NULL)
		*requeued_r = 0;
	if (failed_r != NULL)
		*failed_r = 0;
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(core_now(core) - lease_s),
	                          DB_INT(CONVERT_QUEUE_STALE_BATCH)};
	if (db_query(core->db,
	             "SELECT id, convert_worker FROM jobs WHERE state = 'converting'"
	             " AND (convert_claimed_at IS NULL OR convert_claimed_at < $1)"
	             " ORDER BY id LIMIT $2",
	             params, 2, &res, error, error_size) != DB_OK)
		return -1;
	int ret = 0;
	for (size_t i = 0; i < db_result_rows(res); i++) {
		int64_t job_id = db_result_int(res, i, 0);
		bool is_requeued = false;
		char job_error[DB_ERROR_MAX];
		log_warn("convert.stale job=%lld worker=%s lease=%llds", (long long)job_id,
		         db_result_text(res, i, 1), (long long)lease_s);
		int rc = convert_queue_abandon(core, job_id, max_attempts,
		                               "The converter stopped answering while converting "
		                               "this document.",
		                               &is_requeued, job_error, sizeof(job_error));
		if (rc == JOB_OK) {
			if (is_requeued)
				requeued++;
			else
				failed++;
		} else if (rc == JOB_ERROR) {
			/* The others are still worth trying; the error goes to the caller. */
			(void)str_copy(error, error_size, job_error);
			ret = -1;
		}
		/* JOB_STATE_LOST, JOB_NOT_FOUND: its worker answered or it went away meanwhile. */
	}
	db_result_free(&res);
	if (requeued_r != NULL)
		*requeued_r = requeued;
	if (failed_r != NULL)
		*failed_r = failed;
	return ret;
}

int convert_queue_add_outputs(pp_core_t *core, int64_t job_id, const pp_convert_output_t *outputs,
                              size_t n_outputs, char *error, size_t error_size)
{
	if (convert_outputs_check(outputs, n_outputs, error, error_size) < 0)
		return -1;
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	/* The row lock first, so a concurrent job_delete() either waits for this or wins. */
	int64_t changes = 0;
	pp_db_value_t params[] = {DB_INT(job_id), DB_INT(core_now(core))};
	if (db_exec(core->db, "UPDATE jobs SET updated_at = $2 WHERE id = $1", params, 2, &changes,
	            error, error_size) != DB_OK)
		goto fail;
	if (changes == 0) {
		(void)str_format(error, error_size, "job %lld does not exist", (long long)job_id);
		goto fail;
	}
	if (convert_outputs_insert(core, job_id, outputs, n_outputs, error, error_size) < 0)
		goto fail;
	return db_tx_commit(core->db, error, error_size) == DB_OK ? 0 : -1;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int convert_queue_counts(pp_core_t *core, int64_t *waiting_r, int64_t *converting_r, char *error,
                         size_t error_size)
{
	*waiting_r = 0;
	*converting_r = 0;
	pp_db_result_t *res = NULL;
	if (db_query(core->db,
	             "SELECT state, COUNT(*) FROM jobs WHERE state IN ('received', 'converting')"
	             " GROUP BY state",
	             NULL, 0, &res, error, error_size) != DB_OK)
		return -1;
	for (size_t i = 0; i < db_result_rows(res); i++) {
		if (strcmp(db_result_text(res, i, 0), "received") == 0)
			*waiting_r = db_result_int(res, i, 1);
		else
			*converting_r = db_result_int(res, i, 1);
	}
	db_result_free(&res);
	return 0;
}

int convert_queue_page_info(pp_core_t *core, int64_t job_id, char **json_r, char *error,
                            size_t error_size)
{
	*json_r = NULL;
	const pp_db_value_t params[] = {DB_INT(job_id)};
	pp_db_result_t *res = NULL;
	if (db_query(core->db, "SELECT page_info FROM jobs WHERE id = $1", params, 1, &res, error,
	             error_size) != DB_OK)
		return JOB_ERROR;
	if (db_result_rows(res) != 1) {
		db_result_free(&res);
		(void)str_format(error, error_size, "no such job");
		return JOB_NOT_FOUND;
	}
	char *text = strdup(db_result_text(res, 0, 0));
	db_result_free(&res);
	if (text == NULL) {
		(void)str_format(error, error_size, "convert: out of memory");
		return JOB_ERROR;
	}
	*json_r = text;
	return JOB_OK;
}
