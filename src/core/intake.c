/* intake.c - storing a submitted document: spool file, then job and document rows; see intake.h. */
#include "core/intake.h"

#include "lib/fault.h"
#include "lib/log.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdlib.h>
#include <string.h>

#define INTAKE_CHUNK 65536

int intake_store_spooled(pp_core_t *core, const pp_intake_t *doc, const char *file_id,
                         int64_t size_bytes, pp_intake_result_t *result_r, char *error,
                         size_t error_size)
{
	pp_job_t job;
	memset(result_r, 0, sizeof(*result_r));
	pp_job_new_t new_job = {
	    .user_id = doc->user_id,
	    .source = doc->source,
	    .title = doc->title != NULL ? doc->title : doc->name,
	    .options = doc->options,
	    .printer_id = doc->printer_id,
	    .size_bytes = size_bytes,
	};
	/* One transaction: the job and the row naming its file appear together or not at all. */
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		goto drop_file;
	if (job_create(core, &new_job, &job, error, error_size) < 0 ||
	    job_document_add(core, job.id, "original", file_id, doc->name, doc->content_type,
	                     size_bytes, NULL, error, error_size) != 0) {
		db_tx_rollback(core->db);
		goto drop_file;
	}
	fault_point("intake.before_commit");
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		goto drop_file;
	fault_point("intake.after_commit");

	result_r->job_id = job.id;
	(void)str_copy(result_r->uuid, sizeof(result_r->uuid), job.uuid);
	(void)str_copy(result_r->file_id, sizeof(result_r->file_id), file_id);
	result_r->size_bytes = size_bytes;
	log_info("job.received job=%lld source=%s size=%lld", (long long)job.id, job.source,
	         (long long)size_bytes);
	return 0;

drop_file:
	/* No row names the file: remove it now (recovery would, at the next start). */
	if (core->spool != NULL) {
		char spool_error[256];
		if (spool_delete(core->spool, file_id, spool_error, sizeof(spool_error)) < 0)
			log_warn("intake.file_left file=%s error=\"%s\" — startup recovery removes it",
			         file_id, spool_error);
	}
	return -1;
}

int intake_store_document(pp_core_t *core, const pp_intake_t *doc, pp_intake_read_fn *read,
                          void *ctx, pp_intake_result_t *result_r, char *error, size_t error_size)
{
	pp_spool_writer_t *writer = NULL;
	char file_id[SPOOL_ID_LEN + 1];
	uint64_t size = 0;
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
	/* Publish the file (fsync, rename) before any row names it. */
	if (spool_writer_finish(&writer, file_id, &size, error, error_size) < 0)
		return -1;
	fault_point("intake.after_spool_finish");
	return intake_store_spooled(core, doc, file_id, (int64_t)size, result_r, error, error_size);
fail:
	spool_writer_abort(&writer);
	free(buf);
	return -1;
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
