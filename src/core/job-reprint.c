/* job-reprint.c - printing a finished job again as a new job; see job-reprint.h. */
#include "core/job-reprint.h"

#include "core/audit.h"
#include "core/convert-queue.h"
#include "core/printers.h"
#include "lib/log.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdlib.h>
#include <string.h>

#define REPRINT_CHUNK (64 * 1024) /* bytes moved from reader to writer at a time */

/* One kept document and its copy. */
typedef struct {
	const pp_document_t *doc;        /* borrowed from the old job's list */
	char file_id[SPOOL_ID_LEN + 1];  /* the copy; "" until published */
	uint64_t size_bytes;
} reprint_copy_t;

/*
 * Copies spool file file_id into a new spool file through the reader and the writer (each
 * file is sealed under its own id: a copy is decrypted and sealed again, never duplicated as
 * bytes). Fills new_id_r[SPOOL_ID_LEN + 1] and *size_r. Returns 0 or -1.
 */
static int reprint_copy_file(pp_spool_t *spool, const char *file_id,
			     char new_id_r[SPOOL_ID_LEN + 1], uint64_t *size_r, char *error,
			     size_t error_size)
{
	new_id_r[0] = '\0';
	uint8_t *buf = malloc(REPRINT_CHUNK);
	if (buf == NULL) {
		(void)str_format(error, error_size, "reprint: out of memory");
		return -1;
	}
	pp_spool_reader_t *reader = NULL;
	pp_spool_writer_t *writer = NULL;
	int rc = -1;
	if (spool_reader_open(spool, file_id, &reader, error, error_size) < 0 ||
	    spool_writer_open(spool, &writer, error, error_size) < 0)
		goto done;
	for (;;) {
		ssize_t n = spool_reader_read(reader, buf, REPRINT_CHUNK, error, error_size);
		if (n < 0)
			goto done;
		if (n == 0)
			break;
		if (spool_writer_write(writer, buf, (size_t)n, error, error_size) != 0)
			goto done;
	}
	rc = spool_writer_finish(&writer, new_id_r, size_r, error, error_size);
done:
	spool_writer_abort(&writer);
	spool_reader_close(&reader);
	free(buf);
	return rc;
}

/* Removes the published copies (a missing file is fine); failures are logged. */
static void reprint_copies_delete(pp_core_t *core, reprint_copy_t *copies, size_t count,
				  bool is_original_too)
{
	for (size_t i = 0; i < count; i++) {
		if (copies[i].file_id[0] == '\0')
			continue;
		if (!is_original_too && strcmp(copies[i].doc->role, "original") == 0)
			continue;
		char error[256];
		if (spool_delete(core->spool, copies[i].file_id, error, sizeof(error)) < 0)
			log_warn("job.reprint_cleanup_failed file=%s error=\"%s\" action=\"the startup "
				 "sweep removes it\"",
				 copies[i].file_id, error);
		copies[i].file_id[0] = '\0';
	}
}

/*
 * Commits the new job (combined flow: printer_id named) with the copy of its original in one
 * transaction, so a converter never sees the job without its document. Returns 0 or -1.
 */
static int reprint_create(pp_core_t *core, const pp_job_t *old, int64_t printer_id,
			  const reprint_copy_t *original, pp_job_t *job_r, char *error,
			  size_t error_size)
{
	pp_job_new_t spec = {
	    .user_id = old->user_id,
	    .source = JOB_REPRINT_SOURCE,
	    .title = old->title,
	    .options = &old->options,
	    .printer_id = printer_id,
	    .size_bytes = (int64_t)original->size_bytes,
	};
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	if (job_create(core, &spec, job_r, error, error_size) < 0 ||
	    job_document_add(core, job_r->id, "original", original->file_id, original->doc->name,
			     original->doc->content_type, (int64_t)original->size_bytes, NULL,
			     error, error_size) < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	return db_tx_commit(core->db, error, error_size) == DB_OK ? 0 : -1;
}

/*
 * Records the copied derivatives as the new job's conversion, which holds it and releases it
 * to its printer. A converter that claimed the job first converts it itself: the copies are
 * then not needed. Returns JOB_OK or JOB_ERROR (the derivative copies are removed then).
 */
static int reprint_finish(pp_core_t *core, const pp_job_t *old, int64_t new_id,
			  reprint_copy_t *copies, size_t count, char *error, size_t error_size)
{
	pp_convert_task_t task;
	int rc = convert_queue_claim(core, new_id, JOB_REPRINT_SOURCE, &task, error, error_size);
	if (rc == JOB_STATE_LOST) {
		reprint_copies_delete(core, copies, count, false);
		return JOB_OK;
	}
	if (rc != JOB_OK) {
		reprint_copies_delete(core, copies, count, false);
		return JOB_ERROR;
	}
	pp_convert_output_t *outputs = calloc(count > 0 ? count : 1, sizeof(*outputs));
	char *info = NULL;
	if (outputs == NULL) {
		(void)str_format(error, error_size, "reprint: out of memory");
		reprint_copies_delete(core, copies, count, false);
		return JOB_ERROR;
	}
	size_t n = 0;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(copies[i].doc->role, "original") == 0)
			continue;
		outputs[n++] = (pp_convert_output_t){.role = copies[i].doc->role,
						     .file_id = copies[i].file_id,
						     .content_type = copies[i].doc->content_type,
						     .size_bytes = (int64_t)copies[i].size_bytes};
	}
	/* The counts as the old job last stored them (unknown reads as 0). */
	int pages = old->pages > 0 && old->pages <= INT32_MAX ? (int)old->pages : 0;
	int color = old->color_pages > 0 && old->color_pages <= pages ? (int)old->color_pages : 0;
	rc = convert_queue_page_info(core, old->id, &info, error, error_size) != JOB_OK
		     ? JOB_ERROR
		     : convert_queue_complete(core, new_id, outputs, n, pages, color, info, error,
					      error_size);
	free(info);
	free(outputs);
	if (rc != JOB_OK) {
		reprint_copies_delete(core, copies, count, false);
		return JOB_ERROR;
	}
	return JOB_OK;
}

/* Checks that printer_id is an enabled printer; its name into name_r. Returns as job_reprint. */
static int reprint_printer(pp_core_t *core, int64_t printer_id, char *name_r, size_t name_size,
			   char *error, size_t error_size)
{
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	if (printer == NULL) {
		(void)str_format(error, error_size, "reprint: out of memory");
		return JOB_ERROR;
	}
	int rc = printer_id > 0 ? printers_get(core, printer_id, printer, error, error_size)
				: PRINTERS_NOT_FOUND;
	if (rc == 0 && !printer->is_enabled)
		rc = PRINTERS_NOT_FOUND;
	if (rc == PRINTERS_NOT_FOUND) {
		(void)str_format(error, error_size,
				 "reprint: printer %lld does not exist or is disabled",
				 (long long)printer_id);
		rc = JOB_REPRINT_NO_PRINTER;
	} else if (rc < 0) {
		rc = JOB_ERROR;
	} else {
		(void)str_copy(name_r, name_size, printer->name);
	}
	free(printer);
	return rc;
}

int job_reprint(pp_core_t *core, int64_t job_id, int64_t printer_id, const char *actor,
		pp_job_t *new_job_r, char *error, size_t error_size)
{
	if (actor == NULL || actor[0] == '\0')
		actor = "system";
	if (core->spool == NULL) {
		(void)str_format(error, error_size, "reprint: this program has no spool open");
		return JOB_ERROR;
	}
	pp_job_t old;
	int rc = job_get(core, job_id, &old, error, error_size);
	if (rc != JOB_OK)
		return rc;
	/* Only a finished job: one still waiting is released, a retryable failure retried. */
	if (old.state != PP_JOB_COMPLETED && !(old.state == PP_JOB_FAILED && old.finished_at > 0)) {
		(void)str_format(error, error_size,
				 "reprint: job %lld is %s; only a completed job can be reprinted "
				 "(a held or retryable job is released instead)",
				 (long long)old.id, job_state_name(old.state));
		return JOB_STATE_FORBIDDEN;
	}
	char printer_name[PRINTERS_NAME_MAX] = "";
	rc = reprint_printer(core, printer_id, printer_name, sizeof(printer_name), error,
			     error_size);
	if (rc != 0)
		return rc;

	/* The kept documents: without the original there is nothing to print. */
	pp_document_t *docs = NULL;
	size_t count = 0;
	if (job_documents(core, old.id, &docs, &count, error, error_size) < 0)
		return JOB_ERROR;
	const pp_document_t *original = NULL;
	for (size_t i = 0; i < count && original == NULL; i++)
		if (strcmp(docs[i].role, "original") == 0)
			original = &docs[i];
	if (original == NULL) {
		job_documents_free(&docs);
		(void)str_format(error, error_size,
				 "reprint: the documents of job %lld are gone; printed jobs keep "
				 "them only with jobs.printed_policy = keep, for "
				 "jobs.printed_keep_hours",
				 (long long)old.id);
		return JOB_REPRINT_GONE;
	}
	reprint_copy_t *copies = calloc(count, sizeof(*copies));
	if (copies == NULL) {
		job_documents_free(&docs);
		(void)str_format(error, error_size, "reprint: out of memory");
		return JOB_ERROR;
	}

	/* Step 1: copy every file (published, not yet named by any row). */
	size_t i_original = 0;
	rc = JOB_OK;
	for (size_t i = 0; i < count && rc == JOB_OK; i++) {
		copies[i].doc = &docs[i];
		if (&docs[i] == original)
			i_original = i;
		char copy_error[256];
		if (reprint_copy_file(core->spool, docs[i].file_id, copies[i].file_id,
				      &copies[i].size_bytes, copy_error, sizeof(copy_error)) < 0) {
			/* Retention may have removed the files meanwhile. */
			(void)str_format(error, error_size,
					 "reprint: cannot copy the %s document of job %lld: %s",
					 docs[i].role, (long long)old.id, copy_error);
			rc = JOB_ERROR;
		}
	}

	/* Step 2: the new job with its original; step 3: the rest as its conversion. */
	pp_job_t created;
	if (rc == JOB_OK && reprint_create(core, &old, printer_id, &copies[i_original], &created,
					   error, error_size) < 0)
		rc = JOB_ERROR;
	if (rc != JOB_OK) {
		reprint_copies_delete(core, copies, count, true);
	} else {
		rc = reprint_finish(core, &old, created.id, copies, count, error, error_size);
		char object[32], detail[256];
		(void)str_format(object, sizeof(object), "job:%lld", (long long)old.id);
		(void)str_format(detail, sizeof(detail), "new job %lld to printer %s",
				 (long long)created.id, printer_name);
		char audit_error[256];
		if (audit_record(core, actor, "job.reprint", object, detail, audit_error,
				 sizeof(audit_error)) < 0)
			log_warn("job.reprint_audit_failed job=%lld error=\"%s\"", (long long)old.id,
				 audit_error);
		log_info("job.reprint job=%lld new_job=%lld printer=%s result=%s", (long long)old.id,
			 (long long)created.id, printer_name, rc == JOB_OK ? "ok" : "error");
		if (new_job_r != NULL &&
		    job_get(core, created.id, new_job_r, error, error_size) != JOB_OK)
			*new_job_r = created;
	}
	free(copies);
	job_documents_free(&docs);
	return rc;
}
