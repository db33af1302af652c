/*
 * worker-pages.c - page images of a held job on demand: intake renders only the first
 * [convert] thumbnails pages; when someone looks further, the server asks a worker for
 * more ("pages <job_id> <first> <last>"). The images are rendered from the kept "pdf"
 * document in a sandboxed child and added to the job; images the job has already are
 * neither rendered again nor added twice.
 */
#include "convert/worker/worker.h"

#include "core/job.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

/* Which of the requested pages lack which image. */
typedef struct {
	int first, last;    /* the requested pages, cut to the document */
	bool *needs_thumb;  /* [page - first] */
	bool *needs_preview;
	char pdf_file_id[CRYPTO_ID_HEX_LEN + 1];
} worker_missing_t;

static void worker_missing_free(worker_missing_t *m)
{
	free(m->needs_thumb);
	free(m->needs_preview);
	m->needs_thumb = NULL;
	m->needs_preview = NULL;
}

/* Parses "thumb:N" / "preview:N" roles; returns the page (> 0) or 0. */
static int worker_role_page(const char *role, const char *prefix)
{
	if (!str_has_prefix(role, prefix))
		return 0;
	uint64_t page = 0;
	if (!parse_uint64_full(role + strlen(prefix), INT32_MAX, &page))
		return 0;
	return (int)page;
}

/* Reads the job's documents into *m. Returns 0, or -1 with error. */
static int worker_missing_find(pp_worker_t *w, int64_t job_id, worker_missing_t *m, char *error,
			       size_t error_size)
{
	size_t count = (size_t)(m->last - m->first + 1);
	m->needs_thumb = malloc(count * sizeof(bool));
	m->needs_preview = malloc(count * sizeof(bool));
	if (m->needs_thumb == NULL || m->needs_preview == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		m->needs_thumb[i] = m->needs_preview[i] = true;

	pp_document_t *docs = NULL;
	size_t n_docs = 0;
	if (job_documents(w->core, job_id, &docs, &n_docs, error, error_size) < 0)
		return -1;
	for (size_t i = 0; i < n_docs; i++) {
		if (strcmp(docs[i].role, "pdf") == 0)
			(void)str_copy(m->pdf_file_id, sizeof(m->pdf_file_id), docs[i].file_id);
		int thumb = worker_role_page(docs[i].role, "thumb:");
		int preview = worker_role_page(docs[i].role, "preview:");
		if (thumb >= m->first && thumb <= m->last)
			m->needs_thumb[thumb - m->first] = false;
		if (preview >= m->first && preview <= m->last)
			m->needs_preview[preview - m->first] = false;
	}
	job_documents_free(&docs);
	return 0;
}

/* Stores the images *m lacks from dir and adds them to the job. Returns 0 or -1. */
static int worker_pages_record(pp_worker_t *w, int64_t job_id, const char *dir,
			       const worker_missing_t *m, char *error, size_t error_size)
{
	worker_outputs_t out;
	if (worker_outputs_alloc(&out, 2 * (size_t)(m->last - m->first + 1), error, error_size) <
	    0)
		return -1;
	int rc = 0;
	for (int page = m->first; rc == 0 && page <= m->last; page++) {
		char name[WORKER_NAME_MAX], role[JOB_DOC_ROLE_MAX];
		if (m->needs_thumb[page - m->first]) {
			rc = (str_format(name, sizeof(name), WORKER_THUMB_FORMAT, page) &&
			      str_format(role, sizeof(role), "thumb:%d", page))
				     ? worker_outputs_add(w, &out, dir, name, role, "image/jpeg",
							  error, error_size)
				     : -1;
		}
		if (rc == 0 && m->needs_preview[page - m->first]) {
			rc = (str_format(name, sizeof(name), WORKER_PREVIEW_FORMAT, page) &&
			      str_format(role, sizeof(role), "preview:%d", page))
				     ? worker_outputs_add(w, &out, dir, name, role, "image/jpeg",
							  error, error_size)
				     : -1;
		}
	}
	if (rc == 0)
		rc = convert_queue_add_outputs(w->core, job_id, out.outputs, out.count, error,
					       error_size);
	if (rc != 0) {
		worker_outputs_delete(w, &out);
		rc = -1;
	}
	worker_outputs_free(&out);
	return rc;
}

/* Sets outcome to failed with reason. Returns 0. */
static int worker_pages_refuse(pp_worker_outcome_t *outcome_r, const char *reason)
{
	outcome_r->is_ok = false;
	(void)str_copy(outcome_r->reason, sizeof(outcome_r->reason), reason);
	return 0;
}

int worker_pages_run(pp_worker_t *w, int64_t job_id, int first, int last,
		     pp_worker_outcome_t *outcome_r, char *error, size_t error_size)
{
	memset(outcome_r, 0, sizeof(*outcome_r));
	pp_job_t job;
	int rc = job_get(w->core, job_id, &job, error, error_size);
	if (rc == JOB_NOT_FOUND)
		return worker_pages_refuse(outcome_r, "The job does not exist any more.");
	if (rc != JOB_OK)
		return -1;
	if (job.pages < 1)
		return worker_pages_refuse(outcome_r, "The job has not been converted yet.");

	worker_missing_t m = {
		.first = first < 1 ? 1 : first,
		.last = (int64_t)last > job.pages ? (int)job.pages : last,
	};
	if (m.first > m.last) {
		/* Nothing of the document lies in the range: nothing to do. */
		outcome_r->is_ok = true;
		return 0;
	}
	if (worker_missing_find(w, job_id, &m, error, error_size) < 0) {
		worker_missing_free(&m);
		return -1;
	}
	if (m.pdf_file_id[0] == '\0') {
		worker_missing_free(&m);
		return worker_pages_refuse(outcome_r, "The job has no converted document.");
	}
	/* Render only from the first page that lacks an image to the last that does. */
	int from = m.last + 1, to = m.first - 1;
	for (int page = m.first; page <= m.last; page++) {
		if (m.needs_thumb[page - m.first] || m.needs_preview[page - m.first]) {
			if (from > page)
				from = page;
			to = page;
		}
	}
	if (from > to) {
		worker_missing_free(&m);
		outcome_r->is_ok = true;
		return 0;
	}

	char dir[PATH_MAX];
	if (worker_tmpdir_open(w, dir, sizeof(dir), error, error_size) < 0) {
		worker_missing_free(&m);
		return -1;
	}
	rc = worker_stage_from_spool(w, m.pdf_file_id, dir, WORKER_PDF_NAME, error, error_size);
	if (rc == 0) {
		int rendered = worker_render_pages(w, dir, from, to, outcome_r->reason,
						   sizeof(outcome_r->reason), error, error_size);
		if (rendered < 0)
			rc = -1;
		else if (rendered > 0)
			rc = worker_pages_record(w, job_id, dir, &m, error, error_size);
		outcome_r->is_ok = (rc == 0 && rendered > 0);
		if (rc == 0 && rendered > 0)
			log_info("convert: job=%lld: page images %d-%d added", (long long)job_id,
				 from, to);
	}
	char wipe_error[256];
	if (sandbox_tmpdir_wipe(dir, wipe_error, sizeof(wipe_error)) < 0)
		log_error("convert: job=%lld: cannot remove %s: %s — remove it by hand",
			  (long long)job_id, dir, wipe_error);
	worker_missing_free(&m);
	return rc;
}
