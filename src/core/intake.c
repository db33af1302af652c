/* intake.c - storing a submitted document: spool file, then job and document rows; see intake.h. */
#include "core/intake.h"

#include "core/convert-queue.h"
#include "core/settings.h"
#include "db/db-listen.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdlib.h>
#include <string.h>

#define INTAKE_CHUNK 65536

/* No row names the document (a failed or refused store): remove its file now, as recovery
 * would at the next start; a small one held in memory is just released. */
static void intake_drop_document(pp_core_t *core, pp_spool_doc_t *stored)
{
	if (stored->sealed != NULL) {
		spool_doc_release(stored);
		return;
	}
	if (core->spool == NULL)
		return;
	char spool_error[256];
	if (spool_delete(core->spool, stored->file_id, spool_error, sizeof(spool_error)) < 0)
		log_warn("intake.file_left file=%s error=\"%s\" — startup recovery removes it",
		         stored->file_id, spool_error);
}

/*
 * A job is waiting for conversion (committed in state received): wakes the converters, the
 * remote ones by NOTIFY (PostgreSQL) and the server's own pool through core's hook. Failures
 * are logged only: the job is stored, and converters also poll for work.
 */
static void intake_wake_converters(pp_core_t *core, int64_t job_id)
{
	char notify_error[DB_ERROR_MAX];
	if (db_notify(core->db, CONVERT_QUEUE_CHANNEL, notify_error, sizeof(notify_error)) < 0)
		log_warn("intake.notify_failed job=%lld error=\"%s\" — converters find the job at "
		         "their next poll",
		         (long long)job_id, notify_error);
	if (core->on_job_received != NULL)
		core->on_job_received(core->on_job_received_ctx);
}

/* The rows of one stored document, made by intake_store_rows() inside a shared transaction. */
typedef struct {
	pp_core_t *core;
	const pp_job_new_t *new_job;
	const pp_intake_t *doc;
	const pp_spool_doc_t *stored;
	pp_job_t job; /* the row made */
} intake_rows_t;

/* db_tx_fn: the job and the row naming its file. Safe to rerun (a new uuid each time). */
static int intake_store_rows(pp_db_t *db, void *arg, char *error, size_t error_size)
{
	intake_rows_t *rows = arg;
	(void)db; /* the same handle as rows->core->db */
	if (job_create(rows->core, rows->new_job, &rows->job, error, error_size) < 0 ||
	    job_document_add_sealed(rows->core, rows->job.id, "original", rows->stored->file_id,
	                            rows->doc->name, rows->doc->content_type,
	                            (int64_t)rows->stored->size, rows->stored->sealed,
	                            rows->stored->sealed_len, error, error_size) != 0)
		return DB_ERROR;
	fault_point("intake.before_commit");
	return DB_OK;
}

int intake_store_spooled(pp_core_t *core, const pp_intake_t *doc, pp_spool_doc_t *stored,
                         pp_intake_result_t *result_r, char *error, size_t error_size)
{
	int64_t size_bytes = (int64_t)stored->size;
	memset(result_r, 0, sizeof(*result_r));
	pp_job_new_t new_job = {
	    .user_id = doc->user_id,
	    .source = doc->source,
	    .title = doc->title != NULL ? doc->title : doc->name,
	    .options = doc->options,
	    .printer_id = doc->printer_id,
	    .size_bytes = size_bytes,
	    .pin = doc->pin,
	};
	/*
	 * One transaction: the job and the row naming its file appear together or not at all.
	 * Concurrent submissions share it (group commit), so one log sync covers all of them.
	 */
	intake_rows_t rows = {.core = core, .new_job = &new_job, .doc = doc, .stored = stored};
	int rc = db_tx_group(core->db, intake_store_rows, &rows, error, error_size);
	if (rc != DB_OK) {
		intake_drop_document(core, stored);
		return -1;
	}
	spool_doc_release(stored);
	fault_point("intake.after_commit");
	intake_wake_converters(core, rows.job.id);

	result_r->job_id = rows.job.id;
	(void)str_copy(result_r->uuid, sizeof(result_r->uuid), rows.job.uuid);
	(void)str_copy(result_r->file_id, sizeof(result_r->file_id), stored->file_id);
	result_r->size_bytes = size_bytes;
	result_r->state = rows.job.state;
	/* Each way in logs the job at info with its own details (ipp.job_received, …). */
	log_debug("job.received job=%lld source=%s size=%lld", (long long)rows.job.id,
	          rows.job.source, (long long)size_bytes);
	return 0;
}

int intake_store_document(pp_core_t *core, const pp_intake_t *doc, pp_intake_read_fn *read,
                          void *ctx, pp_intake_result_t *result_r, char *error, size_t error_size)
{
	pp_spool_writer_t *writer = NULL;
	memset(result_r, 0, sizeof(*result_r));
	if (core->spool == NULL) {
		(void)str_format(error, error_size, "intake: no spool is open");
		return -1;
	}
	/* Check what the rows will need before storing anything. */
	if (doc->source == NULL || doc->source[0] == '\0' ||
	    strlen(doc->source) >= JOB_SOURCE_MAX) {
		(void)str_format(error, error_size, "intake: source must be 1..%d characters",
		                 JOB_SOURCE_MAX - 1);
		return -1;
	}
	if (doc->options != NULL && options_validate(doc->options, error, error_size) < 0)
		return -1;
	if (doc->pin != NULL &&
	    (doc->pin[0] == '\0' || strnlen(doc->pin, JOB_PIN_MAX) >= JOB_PIN_MAX)) {
		(void)str_format(error, error_size,
		                 "intake: a job password must be 1..%d bytes; send another one",
		                 JOB_PIN_MAX - 1);
		return -1;
	}
	uint8_t *buf = malloc(INTAKE_CHUNK);
	if (buf == NULL) {
		(void)str_format(error, error_size, "intake: out of memory");
		return -1;
	}
	if (spool_writer_open(core->spool, &writer, error, error_size) < 0) {
		free(buf);
		return -1;
	}
	/* Stream the document through one bounded buffer. */
	bool is_empty = true;
	for (;;) {
		ssize_t n = read(ctx, buf, INTAKE_CHUNK, error, error_size);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		is_empty = false;
		if (spool_writer_write(writer, buf, (size_t)n, error, error_size) != 0)
			goto fail;
	}
	if (is_empty) {
		(void)str_format(error, error_size,
		                 "intake: the document is empty; nothing to print");
		goto fail;
	}
	free(buf);
	buf = NULL;
	/* Publish the file (durable, renamed) before any row names it; a small document goes
	 * into the rows' transaction instead. */
	pp_spool_doc_t stored;
	if (spool_writer_finish_small(&writer, &stored, error, error_size) < 0)
		return -1;
	fault_point("intake.after_spool_finish");
	return intake_store_spooled(core, doc, &stored, result_r, error, error_size);
fail:
	spool_writer_abort(&writer);
	free(buf);
	return -1;
}

int intake_create_incoming(pp_core_t *core, const pp_intake_t *doc, int64_t timeout_s,
                           pp_intake_result_t *result_r, char *error, size_t error_size)
{
	pp_job_t job;
	memset(result_r, 0, sizeof(*result_r));
	pp_job_new_t new_job = {
	    .user_id = doc->user_id,
	    .source = doc->source,
	    .title = doc->title,
	    .options = doc->options,
	    .printer_id = doc->printer_id,
	    .pin = doc->pin,
	    .is_incoming = true,
	    .incoming_timeout_s = timeout_s,
	};
	/* One transaction: the row and its read-back see the same database. */
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	if (job_create(core, &new_job, &job, error, error_size) < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		return -1;
	result_r->job_id = job.id;
	(void)str_copy(result_r->uuid, sizeof(result_r->uuid), job.uuid);
	result_r->state = job.state;
	log_info("job.incoming job=%lld source=%s timeout=%llds", (long long)job.id, job.source,
	         (long long)timeout_s);
	return 0;
}

/*
 * Inside the caller's transaction: takes the write lock of incoming job job_id of user_id (a
 * no-op UPDATE guarded by the state, so a racing cancel or expiry either waits for us or has
 * already won). When no row changed, says why: JOB_NOT_FOUND (no such job, or another user's:
 * not told apart, so a job id reveals nothing), or JOB_STATE_LOST with *state_r set.
 */
static int intake_lock_incoming(pp_core_t *core, int64_t job_id, int64_t user_id, int64_t now,
                                pp_job_state_t *state_r, char *error, size_t error_size)
{
	int64_t changes = 0;
	pp_db_value_t params[] = {DB_INT(job_id), DB_INT(user_id), DB_INT(now),
	                          DB_TEXT(job_state_name(PP_JOB_INCOMING))};
	if (db_exec(core->db,
	            "UPDATE jobs SET updated_at = $3 WHERE id = $1 AND user_id = $2 AND state = $4",
	            params, 4, &changes, error, error_size) != DB_OK)
		return JOB_ERROR;
	if (changes > 0)
		return JOB_OK;
	pp_db_result_t *res = NULL;
	if (db_query(core->db, "SELECT state FROM jobs WHERE id = $1 AND user_id = $2", params, 2,
	             &res, error, error_size) != DB_OK)
		return JOB_ERROR;
	int rc;
	if (db_result_rows(res) == 0) {
		(void)str_format(error, error_size, "job %lld does not exist", (long long)job_id);
		rc = JOB_NOT_FOUND;
	} else {
		pp_job_state_t state = PP_JOB_FAILED;
		(void)job_state_parse(db_result_text(res, 0, 0), &state);
		*state_r = state;
		(void)str_format(error, error_size,
		                 "job %lld is %s, no longer waiting for its document; submit the "
		                 "document as a new job",
		                 (long long)job_id, job_state_name(state));
		rc = JOB_STATE_LOST;
	}
	db_result_free(&res);
	return rc;
}

/* Inside the caller's transaction: does job_id have a document already? 0 or -1. */
static int intake_has_document(pp_core_t *core, int64_t job_id, bool *has_r, char *error,
                               size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	if (db_query(core->db, "SELECT 1 FROM documents WHERE job_id = $1 LIMIT 1", params, 1, &res,
	             error, error_size) != DB_OK)
		return -1;
	*has_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

/*
 * Inside the caller's transaction, the row locked and incoming: moves job_id on to "to"
 * (received or canceled), as job_transition() would: a received job gets a fresh retention
 * window; a canceled one is finished, with reason. The state machine's table is asked first.
 */
static int intake_move_locked(pp_core_t *core, int64_t job_id, pp_job_state_t to,
                              const char *reason, int64_t now, char *error, size_t error_size)
{
	if (!job_state_can(PP_JOB_INCOMING, to)) {
		(void)str_format(error, error_size, "a job cannot go from %s to %s",
		                 job_state_name(PP_JOB_INCOMING), job_state_name(to));
		return JOB_STATE_FORBIDDEN;
	}
	int64_t hours;
	if (settings_get_int(core, "jobs.retention_hours", &hours, error, error_size) < 0)
		return JOB_ERROR;
	bool is_finishing = job_state_is_final(to);
	pp_db_value_t params[] = {
	    DB_INT(job_id),
	    DB_TEXT(job_state_name(to)),
	    DB_INT(now),
	    is_finishing ? DB_NULL : DB_INT(now + hours * 3600), /* expires_at */
	    is_finishing ? DB_INT(now) : DB_NULL,                /* finished_at */
	    DB_TEXT(reason),                                     /* NULL keeps the reason */
	};
	if (db_exec(core->db,
	            "UPDATE jobs SET state = $2, updated_at = $3, expires_at = $4,"
	            " finished_at = $5, state_reason = COALESCE($6, state_reason) WHERE id = $1",
	            params, sizeof(params) / sizeof(params[0]), NULL, error, error_size) != DB_OK)
		return JOB_ERROR;
	return JOB_OK;
}

int intake_attach_spooled(pp_core_t *core, int64_t job_id, int64_t user_id,
                          pp_spool_doc_t *stored, const char *name, const char *content_type,
                          bool is_last, pp_job_state_t *state_r, char *error,
                          size_t error_size)
{
	const char *file_id = stored->file_id;
	int64_t size_bytes = (int64_t)stored->size;
	pp_job_state_t ignored;
	bool has_document = false;
	int64_t now = core_now(core);
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		goto drop_file;
	/* The row lock first: the document check below then sees every committed attach. */
	int rc = intake_lock_incoming(core, job_id, user_id, now, &ignored, error, error_size);
	if (rc != JOB_OK)
		goto rollback;
	if (intake_has_document(core, job_id, &has_document, error, error_size) < 0) {
		rc = JOB_ERROR;
		goto rollback;
	}
	if (has_document) {
		(void)str_format(error, error_size,
		                 "job %lld has its document already: one document per job; send "
		                 "another document as a new job",
		                 (long long)job_id);
		rc = JOB_STATE_FORBIDDEN;
		goto rollback;
	}
	/* The operation time-out starts again: Close-Job has as long as Send-Document had
	 * (expires_at - created_at is the time-out the job was created with). */
	pp_db_value_t params[] = {DB_INT(job_id), DB_INT(size_bytes), DB_INT(now)};
	if (db_exec(core->db,
	            "UPDATE jobs SET size_bytes = $2, expires_at = $3 + expires_at - created_at"
	            " WHERE id = $1",
	            params, 3, NULL, error, error_size) != DB_OK ||
	    job_document_add_sealed(core, job_id, "original", file_id, name, content_type,
	                            size_bytes, stored->sealed, stored->sealed_len, error,
	                            error_size) != 0) {
		rc = JOB_ERROR;
		goto rollback;
	}
	if (is_last) {
		rc =
		    intake_move_locked(core, job_id, PP_JOB_RECEIVED, NULL, now, error, error_size);
		if (rc != JOB_OK)
			goto rollback;
	}
	fault_point("intake.attach_before_commit");
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		goto drop_file;
	spool_doc_release(stored);
	fault_point("intake.attach_after_commit");
	log_info("job.attached job=%lld size=%lld last=%s", (long long)job_id,
	         (long long)size_bytes, is_last ? "yes" : "no");
	if (is_last) {
		log_info("job.state job=%lld from=%s to=%s actor=system", (long long)job_id,
		         job_state_name(PP_JOB_INCOMING), job_state_name(PP_JOB_RECEIVED));
		intake_wake_converters(core, job_id);
	}
	if (state_r != NULL)
		*state_r = is_last ? PP_JOB_RECEIVED : PP_JOB_INCOMING;
	return JOB_OK;

rollback:
	db_tx_rollback(core->db);
	intake_drop_document(core, stored);
	return rc;
drop_file:
	intake_drop_document(core, stored);
	return JOB_ERROR;
}

int intake_keep_incoming(pp_core_t *core, int64_t job_id, int64_t user_id, int64_t timeout_s,
                         char *error, size_t error_size)
{
	int64_t now = core_now(core);
	const pp_db_value_t params[] = {DB_INT(job_id), DB_INT(user_id), DB_INT(now + timeout_s),
	                                DB_INT(now)};
	int64_t changes = 0;
	if (db_exec(core->db,
	            "UPDATE jobs SET expires_at = CASE WHEN expires_at < $3 THEN $3 ELSE expires_at END,"
	            " updated_at = $4 WHERE id = $1 AND user_id = $2 AND state = 'incoming'",
	            params, 4, &changes, error, error_size) != DB_OK)
		return JOB_ERROR;
	return changes == 1 ? JOB_OK : JOB_STATE_LOST;
}

int intake_close_incoming(pp_core_t *core, int64_t job_id, int64_t user_id, pp_job_state_t *state_r,
                          char *error, size_t error_size)
{
	bool has_document = false;
	int64_t now = core_now(core);
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return JOB_ERROR;
	int rc = intake_lock_incoming(core, job_id, user_id, now, state_r, error, error_size);
	if (rc != JOB_OK) {
		db_tx_rollback(core->db);
		return rc;
	}
	if (intake_has_document(core, job_id, &has_document, error, error_size) < 0) {
		db_tx_rollback(core->db);
		return JOB_ERROR;
	}
	/* With its document the job goes on like any other; without, there is nothing to print. */
	pp_job_state_t to = has_document ? PP_JOB_RECEIVED : PP_JOB_CANCELED;
	rc = intake_move_locked(core, job_id, to, has_document ? NULL : "no document was sent", now,
	                        error, error_size);
	if (rc != JOB_OK) {
		db_tx_rollback(core->db);
		return rc;
	}
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		return JOB_ERROR;
	*state_r = to;
	log_info("job.state job=%lld from=%s to=%s actor=system", (long long)job_id,
	         job_state_name(PP_JOB_INCOMING), job_state_name(to));
	if (to == PP_JOB_RECEIVED)
		intake_wake_converters(core, job_id);
	return JOB_OK;
}

/*
 * What the sweep knows of the database: every file id the documents table named when the
 * sweep began, sorted, so that a spool of many files costs one query instead of one per file.
 */
typedef struct {
	pp_core_t *core;
	const char **ids; /* borrowed from rows */
	size_t count;
} intake_known_t;

static int intake_id_compare(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The sweep's question: does a documents row name this file? A file missing from the list
 * loaded at the start is asked about once more, since its row may have been committed since
 * (a submission running in another process); only then is it an orphan.
 */
static int intake_is_referenced(const char *file_id, void *ctx, bool *is_referenced_r)
{
	intake_known_t *known = ctx;
	if (known->count > 0 && bsearch(&file_id, known->ids, known->count, sizeof(known->ids[0]),
	                                intake_id_compare) != NULL) {
		*is_referenced_r = true;
		return 0;
	}
	char error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_TEXT(file_id)};
	if (db_query(known->core->db, "SELECT 1 FROM documents WHERE file_id = $1", params, 1, &res,
	             error, sizeof(error)) != DB_OK) {
		log_error("intake.recover_query_failed error=\"%s\"", error);
		return -1;
	}
	*is_referenced_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

int intake_recover(pp_core_t *core, unsigned min_age_s, pp_intake_recovery_t *stats_r, char *error,
                   size_t error_size)
{
	memset(stats_r, 0, sizeof(*stats_r));
	if (core->spool == NULL) {
		(void)str_format(error, error_size, "intake: no spool is open");
		return -1;
	}
	pp_db_result_t *rows = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT file_id FROM documents", NULL, 0, &rows, db_error,
	             sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "intake: cannot list documents: %s", db_error);
		return -1;
	}
	intake_known_t known = {.core = core, .count = db_result_rows(rows)};
	known.ids = calloc(known.count > 0 ? known.count : 1, sizeof(known.ids[0]));
	if (known.ids == NULL) {
		db_result_free(&rows);
		(void)str_format(error, error_size, "intake: out of memory listing documents");
		return -1;
	}
	for (size_t i = 0; i < known.count; i++)
		known.ids[i] = db_result_text(rows, i, 0);
	qsort(known.ids, known.count, sizeof(known.ids[0]), intake_id_compare);

	unsigned removed = 0;
	int rc = spool_sweep(core->spool, intake_is_referenced, &known, min_age_s, &removed, error,
	                     error_size);
	free(known.ids);
	db_result_free(&rows);
	stats_r->files_removed = removed;
	if (removed > 0)
		log_info("intake.recovered files_removed=%u", removed);
	return rc;
}
