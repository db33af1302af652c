/*
 * worker-job.c - converting one claimed job: decrypt its original into a fresh job
 * directory, convert it there (worker-convert.c), encrypt the results into the spool and
 * record the outcome in one transaction (convert_queue_complete / convert_queue_fail). The
 * directory is wiped whatever happened; spool files of an outcome that could not be recorded
 * are deleted again, so a failure leaves neither rows without files nor files of ours.
 */
#include "convert/worker/worker.h"

#include "core/job.h"
#include "lib/log.h"
#include "lib/str.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The reason a job gets when it vanished (canceled, deleted) while it was converted. */
#define WORKER_REASON_GONE "The job was canceled or deleted while it was being converted."

/*
 * Stores a page's thumb and preview images. Returns as worker_outputs_add().
 */
static int worker_job_add_images(pp_worker_t *w, worker_outputs_t *out, const char *dir,
				   int page, char *error, size_t error_size)
{
	char name[WORKER_NAME_MAX], role[JOB_DOC_ROLE_MAX];
	if (!str_format(name, sizeof(name), WORKER_THUMB_FORMAT, page) ||
	    !str_format(role, sizeof(role), "thumb:%d", page)) {
		(void)str_format(error, error_size, "page %d: name too long", page);
		return -1;
	}
	int rc = worker_outputs_add(w, out, dir, name, role, "image/jpeg", error, error_size);
	if (rc < 0)
		return rc;
	if (!str_format(name, sizeof(name), WORKER_PREVIEW_FORMAT, page) ||
	    !str_format(role, sizeof(role), "preview:%d", page)) {
		(void)str_format(error, error_size, "page %d: name too long", page);
		return -1;
	}
	return worker_outputs_add(w, out, dir, name, role, "image/jpeg", error, error_size);
}

/*
 * The analysis as jobs.page_info: [{"w":pt,"h":pt,"color":bool}, …]. New text (free()), or
 * NULL when out of memory.
 */
static char *worker_page_info_json(const pp_convert_analysis_t *analysis)
{
	json_t *array = json_array();
	if (array == NULL)
		return NULL;
	for (int i = 0; i < analysis->pages; i++) {
		const pp_page_info_t *page = &analysis->page_info[i];
		json_t *entry = json_pack("{s:f, s:f, s:b}", "w", (double)page->width_pt, "h",
					  (double)page->height_pt, "color", page->is_color ? 1 : 0);
		if (entry == NULL || json_array_append_new(array, entry) < 0) {
			json_decref(array);
			return NULL;
		}
	}
	char *text = json_dumps(array, JSON_COMPACT);
	json_decref(array);
	return text;
}

int worker_job_task(pp_worker_t *w, int64_t job_id, pp_convert_task_t *task_r, char *error,
		    size_t error_size)
{
	memset(task_r, 0, sizeof(*task_r));
	pp_job_t job;
	int rc = job_get(w->core, job_id, &job, error, error_size);
	if (rc != JOB_OK)
		return rc;
	if (job.state != PP_JOB_CONVERTING)
		return JOB_STATE_LOST;
	task_r->job_id = job.id;
	(void)str_copy(task_r->uuid, sizeof(task_r->uuid), job.uuid);

	pp_document_t *docs = NULL;
	size_t n_docs = 0;
	if (job_documents(w->core, job_id, &docs, &n_docs, error, error_size) < 0)
		return JOB_ERROR;
	for (size_t i = 0; i < n_docs; i++) {
		if (strcmp(docs[i].role, "original") != 0)
			continue;
		(void)str_copy(task_r->file_id, sizeof(task_r->file_id), docs[i].file_id);
		(void)str_copy(task_r->name, sizeof(task_r->name), docs[i].name);
		(void)str_copy(task_r->content_type, sizeof(task_r->content_type),
			       docs[i].content_type);
		task_r->size_bytes = docs[i].size_bytes;
		break;
	}
	job_documents_free(&docs);
	/* A job without its original (file_id "") is failed by worker_job_run(). */
	return JOB_OK;
}

/* Records that the document failed. Returns 0, or -1 with error. */
static int worker_job_fail(pp_worker_t *w, int64_t job_id, const char *reason,
			   pp_worker_outcome_t *outcome_r, char *error, size_t error_size)
{
	outcome_r->is_ok = false;
	(void)str_copy(outcome_r->reason, sizeof(outcome_r->reason), reason);
	int rc = convert_queue_fail(w->core, job_id, reason, error, error_size);
	if (rc == JOB_STATE_LOST || rc == JOB_NOT_FOUND) {
		(void)str_copy(outcome_r->reason, sizeof(outcome_r->reason), WORKER_REASON_GONE);
		return 0;
	}
	if (rc != JOB_OK)
		return -1;
	log_info("convert: job=%lld failed: %s", (long long)job_id, reason);
	return 0;
}

/*
 * Stores what a successful conversion in dir made and records the job as held. Returns 0
 * (outcome filled) or -1 with error; the spool files it wrote are deleted unless recorded.
 */
static int worker_job_complete(pp_worker_t *w, const pp_convert_task_t *task, const char *dir,
			       const pp_worker_conversion_t *conv, pp_worker_outcome_t *outcome_r,
			       char *error, size_t error_size)
{
	worker_outputs_t out;
	if (worker_outputs_alloc(&out, 1 + 2 * (size_t)conv->images, error, error_size) < 0)
		return -1;
	char *page_info = NULL;
	int rc = worker_outputs_add(w, &out, dir, WORKER_PDF_NAME, "pdf", "application/pdf",
				    error, error_size);
	for (int page = 1; rc == 0 && page <= conv->images; page++)
		rc = worker_job_add_images(w, &out, dir, page, error, error_size);
	if (rc == SPOOL_TOO_LARGE) {
		/* The document's fault, not the worker's: the user learns the limit. */
		char reason[CONVERT_ERROR_MAX];
		(void)str_format(reason, sizeof(reason),
				 "The converted document is too large to keep (%s).", error);
		worker_outputs_delete(w, &out);
		worker_outputs_free(&out);
		return worker_job_fail(w, task->job_id, reason, outcome_r, error, error_size);
	}
	if (rc < 0)
		goto fail;

	page_info = worker_page_info_json(&conv->analysis);
	if (page_info == NULL) {
		(void)str_format(error, error_size, "out of memory");
		goto fail;
	}
	rc = convert_queue_complete(w->core, task->job_id, out.outputs, out.count,
				    conv->analysis.pages, conv->analysis.color_pages, page_info,
				    error, error_size);
	free(page_info);
	page_info = NULL;
	if (rc == JOB_STATE_LOST || rc == JOB_NOT_FOUND) {
		worker_outputs_delete(w, &out);
		worker_outputs_free(&out);
		outcome_r->is_ok = false;
		(void)str_copy(outcome_r->reason, sizeof(outcome_r->reason), WORKER_REASON_GONE);
		return 0;
	}
	if (rc != JOB_OK)
		goto fail;
	worker_outputs_free(&out);
	outcome_r->is_ok = true;
	log_info("convert: job=%lld held: %d pages (%d colour), %.0f ms + %.0f ms (worker=%s)",
		 (long long)task->job_id, conv->analysis.pages, conv->analysis.color_pages,
		 conv->ms_convert, conv->ms_pages, w->name);
	return 0;

fail:
	free(page_info);
	worker_outputs_delete(w, &out);
	worker_outputs_free(&out);
	return -1;
}

int worker_job_run(pp_worker_t *w, const pp_convert_task_t *task,
		   pp_worker_outcome_t *outcome_r, char *error, size_t error_size)
{
	memset(outcome_r, 0, sizeof(*outcome_r));
	if (task->file_id[0] == '\0')
		return worker_job_fail(w, task->job_id, "The job has no document to convert.",
				       outcome_r, error, error_size);

	char dir[PATH_MAX];
	if (worker_tmpdir_open(w, dir, sizeof(dir), error, error_size) < 0)
		return -1;
	pp_worker_conversion_t conv;
	memset(&conv, 0, sizeof(conv));
	char reason[CONVERT_ERROR_MAX];
	int rc = worker_stage_from_spool(w, task->file_id, dir, WORKER_INPUT_NAME, error,
					 error_size);
	if (rc == 0) {
		int converted = worker_convert(w, dir, task->content_type,
					       w->config->convert_thumbnails, &conv, reason,
					       sizeof(reason), error, error_size);
		if (converted < 0)
			rc = -1;
		else if (converted == 0)
			rc = worker_job_fail(w, task->job_id, reason, outcome_r, error,
					     error_size);
		else
			rc = worker_job_complete(w, task, dir, &conv, outcome_r, error,
						 error_size);
	}
	convert_analysis_free(&conv.analysis);

	/* Always: the directory holds the user's document in plain text. */
	char wipe_error[256];
	if (sandbox_tmpdir_wipe(dir, wipe_error, sizeof(wipe_error)) < 0)
		log_error("convert: job=%lld: cannot remove %s: %s — remove it by hand",
			  (long long)task->job_id, dir, wipe_error);
	return rc;
}
