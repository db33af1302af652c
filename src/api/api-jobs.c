/*
 * api-jobs.c - a user's own jobs: list, detail, options, release, delete, page images.
 *
 * A job is named in URLs by its uuid. Every operation first loads the job and compares its
 * owner with the signed-in user: another user's job answers 404 with the same words as a
 * job that does not exist, so ids reveal nothing. Page images (thumbnails ≈200 px, previews
 * ≈1000 px, JPEG) are read from the spool, decrypted, and sent; a page not rendered yet is
 * asked of the conversion pool and answered 202 with Retry-After, so a client polls.
 */
#include "api/api-private.h"

#include "core/convert-queue.h"
#include "core/printers.h"
#include "lib/log.h"
#include "lib/str.h"
#include "output/status.h"
#include "spool/spool.h"

#include <stdlib.h>
#include <string.h>

#define API_IMAGE_MAX (16u * 1024u * 1024u) /* largest page image sent */
#define API_PAGE_MAX 100000u
#define API_URL_MAX 160

/* An integer, or JSON null when unknown (negative) or unset (0 where 0 means unset). */
static json_t *api_int_or_null(int64_t value, bool is_zero_unset)
{
	if (value < 0 || (is_zero_unset && value == 0))
		return json_null();
	return json_integer((json_int_t)value);
}

/* "/api/v1/jobs/<uuid>/pages/<n>/<kind>" into url[API_URL_MAX]. */
static bool api_page_url(char url[API_URL_MAX], const char *uuid, int64_t page, const char *kind)
{
	return str_format(url, API_URL_MAX, API_PREFIX "jobs/%s/pages/%lld/%s", uuid,
			  (long long)page, kind);
}

json_t *api_job_summary(const pp_job_t *job)
{
	char thumb[API_URL_MAX];
	json_t *thumb_url = job->pages > 0 && api_page_url(thumb, job->uuid, 1, "thumbnail")
				    ? json_string(thumb)
				    : json_null();
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o, s:b, s:I, s:I, s:o, "
			 "s:o, s:o, s:o}",
			 "id", job->uuid, "number", (json_int_t)job->id, "title", job->title,
			 "state", job_state_name(job->state), "state_reason", job->state_reason,
			 "source", job->source, "pages", api_int_or_null(job->pages, false),
			 "color_pages", api_int_or_null(job->color_pages, false), "size_bytes",
			 (json_int_t)job->size_bytes, "printer_id",
			 api_int_or_null(job->printer_id, true), "print_now", job->is_combined,
			 "created_at", (json_int_t)job->created_at, "updated_at",
			 (json_int_t)job->updated_at, "released_at",
			 api_int_or_null(job->released_at, true), "finished_at",
			 api_int_or_null(job->finished_at, true), "expires_at",
			 api_int_or_null(job->expires_at, true), "thumbnail_url", thumb_url);
}

/* True for a job uuid as intake makes them: 32 lower-case hex digits. */
static bool api_uuid_ok(const char *s)
{
	size_t len = strlen(s);
	return len == CRYPTO_ID_HEX_LEN && strspn(s, "0123456789abcdef") == len;
}

bool api_job_load(api_call_t *call, pp_job_t *job_r)
{
	const char *uuid = call->params[0];
	char error[API_ERROR_MAX];
	int rc = api_uuid_ok(uuid) ? job_get_by_uuid(call->api->cfg.core, uuid, job_r, error,
						     sizeof(error))
				   : JOB_NOT_FOUND;
	if (rc == JOB_OK && job_r->user_id == call->user.id)
		return true;
	if (rc == JOB_OK || rc == JOB_NOT_FOUND)
		api_error(call, 404, "not_found", "You have no job with this id.", 0);
	else
		api_internal(call, "api.job_read_failed", error);
	return false;
}

/* GET /jobs?state=held,…&limit=&cursor=: mine, newest first. */
void api_jobs_list(api_call_t *call)
{
	size_t limit = 0;
	int64_t cursor = 0;
	if (!api_page_params(call, &limit, &cursor))
		return;
	uint32_t states = 0;
	const char *filter = http_request_query(call->req, "state");
	if (filter != NULL && filter[0] != '\0') {
		char word[32];
		const char *p = filter;
		while (*p != '\0') {
			size_t len = strcspn(p, ",");
			pp_job_state_t state;
			if (len == 0 || len >= sizeof(word)) {
				api_error(call, 400, "bad_state", "state is a list of job states.", 0);
				return;
			}
			memcpy(word, p, len);
			word[len] = '\0';
			if (!job_state_parse(word, &state)) {
				api_error(call, 400, "bad_state",
					  "state takes received, converting, held, releasing, printing, "
					  "completed, failed, rejected, canceled, expired.",
					  0);
				return;
			}
			states |= JOB_STATE_BIT(state);
			p += len;
			if (*p == ',')
				p++;
		}
	}
	char key[API_CACHE_KEY_MAX];
	int64_t now_ms = api_now_ms();
	(void)str_format(key, sizeof(key), "jobs:%lld:%x:%zu:%lld", (long long)call->user.id,
			 states, limit, (long long)cursor);
	if (api_cache_answer(call->api->cache, call, key, now_ms))
		return;
	pp_job_t *jobs = NULL;
	size_t count = 0;
	int64_t next = 0;
	char error[API_ERROR_MAX];
	if (job_list_for_user(call->api->cfg.core, call->user.id, states, limit, cursor, &jobs,
			      &count, &next, error, sizeof(error)) < 0) {
		api_internal(call, "api.jobs_list_failed", error);
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < count; i++) {
		if (json_array_append_new(list, api_job_summary(&jobs[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	job_list_free(&jobs);
	char cursor_text[24];
	(void)str_format(cursor_text, sizeof(cursor_text), "%lld", (long long)next);
	json_t *answer = list == NULL ? NULL
				      : json_pack("{s:o, s:o}", "jobs", list, "next_cursor",
						  next > 0 ? json_string(cursor_text) : json_null());
	char *text = answer != NULL ? json_dumps(answer, JSON_COMPACT) : NULL;
	json_decref(answer);
	if (text == NULL) {
		api_internal(call, "api.json_failed", "out of memory");
		return;
	}
	size_t len = strlen(text);
	api_cache_store(call->api->cache, key, call->user.id, text, len, now_ms);
	(void)http_respond_bytes(call->req, 200, "application/json", text, len);
	free(text);
}

/* The job's pages as the converter analysed them, with the URLs of their images. */
static json_t *api_job_pages(api_call_t *call, const pp_job_t *job)
{
	char *info_text = NULL;
	char error[API_ERROR_MAX];
	json_t *pages = json_array();
	if (pages == NULL)
		return NULL;
	int rc = convert_queue_page_info(call->api->cfg.core, job->id, &info_text, error,
					 sizeof(error));
	if (rc == JOB_ERROR) {
		log_warn("api.page_info_failed job=%lld error=\"%s\"", (long long)job->id, error);
		return pages;
	}
	json_t *info = rc == JOB_OK ? json_loads(info_text, 0, NULL) : NULL;
	free(info_text);
	for (int64_t n = 1; n <= job->pages; n++) {
		json_t *entry = json_array_get(info, (size_t)(n - 1));
		char thumb[API_URL_MAX], preview[API_URL_MAX];
		if (!api_page_url(thumb, job->uuid, n, "thumbnail") ||
		    !api_page_url(preview, job->uuid, n, "preview"))
			break;
		json_t *w = json_object_get(entry, "w"), *h = json_object_get(entry, "h");
		json_t *page = json_pack("{s:I, s:O?, s:O?, s:O?, s:s, s:s}", "number",
					 (json_int_t)n, "width_pt", w, "height_pt", h, "color",
					 json_object_get(entry, "color"), "thumbnail_url", thumb,
					 "preview_url", preview);
		if (page == NULL || json_array_append_new(pages, page) < 0)
			break;
	}
	json_decref(info);
	return pages;
}

/* GET /jobs/{id}: the summary with options, documents, pages and printer. */
void api_job_get(api_call_t *call)
{
	pp_job_t job;
	if (!api_job_load(call, &job))
		return;
	pp_core_t *core = call->api->cfg.core;
	char error[API_ERROR_MAX];
	json_t *answer = api_job_summary(&job);
	char *options_text = options_to_json(&job.options);
	json_t *options = options_text != NULL ? json_loads(options_text, 0, NULL) : NULL;
	free(options_text);
	pp_document_t *docs = NULL;
	size_t n_docs = 0;
	json_t *documents = json_array();
	if (job_documents(core, job.id, &docs, &n_docs, error, sizeof(error)) < 0)
		log_warn("api.documents_failed job=%lld error=\"%s\"", (long long)job.id, error);
	for (size_t i = 0; documents != NULL && i < n_docs; i++) {
		/* The original and the kept PDF; page images are listed under pages. */
		if (strcmp(docs[i].role, "original") != 0 && strcmp(docs[i].role, "pdf") != 0)
			continue;
		(void)json_array_append_new(
			documents, json_pack("{s:s, s:s, s:s, s:I}", "role", docs[i].role, "name",
					     docs[i].name, "content_type", docs[i].content_type,
					     "size_bytes", (json_int_t)docs[i].size_bytes));
	}
	job_documents_free(&docs);
	json_t *printer = json_null();
	pp_printer_t p;
	if (job.printer_id > 0 && printers_get(core, job.printer_id, &p, error, sizeof(error)) == 0)
		printer = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)p.id, "name", p.name,
				    "alias", p.alias, "location", p.location);
	if (answer == NULL || options == NULL ||
	    json_object_set_new(answer, "options", options) < 0 ||
	    json_object_set_new(answer, "documents", documents) < 0 ||
	    json_object_set_new(answer, "pages_detail", api_job_pages(call, &job)) < 0 ||
	    json_object_set_new(answer, "printer", printer) < 0) {
		json_decref(answer);
		api_internal(call, "api.job_json_failed", "out of memory");
		return;
	}
	api_json(call, 200, answer);
}

/*
 * Applies the options object given (some fields) over the job's options into *opts_r.
 * Answers 400 and returns false when a field is wrong.
 */
static bool api_merge_options(api_call_t *call, const pp_job_t *job, const json_t *given,
			      pp_print_options_t *opts_r)
{
	if (!json_is_object(given)) {
		api_error(call, 400, "bad_options", "options must be a JSON object.", 0);
		return false;
	}
	char *current_text = options_to_json(&job->options);
	json_t *merged = current_text != NULL ? json_loads(current_text, 0, NULL) : NULL;
	free(current_text);
	char error[API_ERROR_MAX];
	if (merged == NULL || json_object_update(merged, (json_t *)given) < 0) {
		json_decref(merged);
		api_internal(call, "api.options_failed", "out of memory");
		return false;
	}
	int rc = options_from_json_value(merged, opts_r, error, sizeof(error));
	json_decref(merged);
	if (rc == 0)
		rc = options_validate(opts_r, error, sizeof(error));
	if (rc < 0) {
		api_error(call, 400, "bad_options", error, 0);
		return false;
	}
	return true;
}

/* PATCH /jobs/{id} {"options": {…}}: changes options of a job not yet released. */
void api_job_patch(api_call_t *call)
{
	pp_job_t job;
	if (!api_job_load(call, &job))
		return;
	json_t *given = json_object_get(call->body, "options");
	if (given == NULL || json_object_size(call->body) != 1) {
		api_error(call, 400, "bad_request", "Send {\"options\": {…}} with the fields to change.",
			  0);
		return;
	}
	pp_print_options_t opts;
	if (!api_merge_options(call, &job, given, &opts))
		return;
	/* Only while the job waits: once released, the printer has what it was sent. */
	char error[API_ERROR_MAX];
	int rc = job_set_options(call->api->cfg.core, job.id, call->user.id, &opts, error,
				 sizeof(error));
	if (rc == JOB_ERROR) {
		api_internal(call, "api.patch_failed", error);
		return;
	}
	if (rc != JOB_OK) {
		api_error(call, 409, "not_changeable",
			  "The job has been released or has ended; its options cannot change now.", 0);
		return;
	}
	api_cache_forget_user(call->api->cache, call->user.id);
	if (!api_job_load(call, &job))
		return;
	api_json(call, 200, api_job_summary(&job));
}

/* DELETE /jobs/{id}: the job and its files go. */
void api_job_delete(api_call_t *call)
{
	pp_job_t job;
	if (!api_job_load(call, &job))
		return;
	char error[API_ERROR_MAX];
	int rc = job_delete(call->api->cfg.core, job.id, error, sizeof(error));
	if (rc == JOB_STATE_FORBIDDEN) {
		api_error(call, 409, "in_progress",
			  "The job is being sent to a printer and cannot be deleted now.", 0);
		return;
	}
	if (rc == JOB_NOT_FOUND) {
		api_error(call, 404, "not_found", "You have no job with this id.", 0);
		return;
	}
	if (rc != JOB_OK) {
		api_internal(call, "api.delete_failed", error);
		return;
	}
	api_cache_forget_user(call->api->cache, call->user.id);
	log_info("api.job_deleted job=%lld", (long long)job.id);
	api_events_deleted(call->api->events, call->user.id, job.uuid);
	(void)http_respond_bytes(call->req, 204, NULL, "", 0);
}

/* POST /jobs/{id}/release {"printer": id|name, "options": {…}}. */
void api_job_release(api_call_t *call)
{
	pp_job_t job;
	if (!api_job_load(call, &job))
		return;
	pp_core_t *core = call->api->cfg.core;
	json_t *printer_value = json_object_get(call->body, "printer");
	if (printer_value == NULL) {
		api_error(call, 400, "bad_request", "Name the printer: {\"printer\": …}.", 0);
		return;
	}
	int64_t printer_id = 0;
	if (!api_printer_resolve(call, printer_value, NULL, &printer_id))
		return;
	/* A panel's session prints only at the panel's own printer. */
	if (call->is_panel_session) {
		pp_printer_t panel_printer;
		int at_panel = api_panel_printer(call, &panel_printer);
		if (at_panel < 0)
			return;
		if (at_panel == 0 || panel_printer.id != printer_id) {
			api_error(call, 403, "other_printer",
				  "A panel releases jobs only to its own printer; use the portal to "
				  "print elsewhere.",
				  0);
			return;
		}
	}
	pp_print_options_t opts;
	json_t *given = json_object_get(call->body, "options");
	if (given != NULL && !api_merge_options(call, &job, given, &opts))
		return;
	if (job.state == PP_JOB_RECEIVED || job.state == PP_JOB_CONVERTING ||
	    job.state == PP_JOB_INCOMING) {
		api_error(call, 409, "not_ready",
			  "The job is still being prepared; release it in a moment.", 2);
		return;
	}
	if (job.state != PP_JOB_HELD) {
		api_error(call, 409, "not_releasable", "Only a held job can be released.", 0);
		return;
	}
	char error[API_ERROR_MAX];
	int rc = job_release(core, job.id, printer_id, given != NULL ? &opts : NULL, "api", error,
			     sizeof(error));
	if (rc == JOB_STATE_LOST || rc == JOB_STATE_FORBIDDEN) {
		api_error(call, 409, "not_releasable",
			  "The job changed meanwhile (released, canceled or expired).", 0);
		return;
	}
	if (rc != JOB_OK) {
		api_internal(call, "api.release_failed", error);
		return;
	}
	api_cache_forget_user(call->api->cache, call->user.id);
	log_info("api.job_released job=%lld printer=%lld", (long long)job.id,
		 (long long)printer_id);
	/* What the printer last said (the cache: nothing here waits for a printer). */
	pp_status_entry_t status;
	char warning[128] = "";
	if (status_get(core, printer_id, &status, error, sizeof(error)) == 0)
		(void)status_warning(&status.status, warning, sizeof(warning));
	if (!api_job_load(call, &job))
		return;
	api_json(call, 200,
		 json_pack("{s:o, s:o}", "job", api_job_summary(&job), "warning",
			   warning[0] != '\0' ? json_string(warning) : json_null()));
}

/*
 * Reads a spool file of at most API_IMAGE_MAX bytes into a new buffer (free()). Returns 0,
 * or -1 with error.
 */
static int api_spool_read(pp_spool_t *spool, const pp_document_t *doc, uint8_t **data_r,
			  size_t *len_r, char *error, size_t error_size)
{
	*data_r = NULL;
	*len_r = 0;
	if (doc->size_bytes <= 0 || doc->size_bytes > (int64_t)API_IMAGE_MAX) {
		(void)str_format(error, error_size, "image of %lld bytes", (long long)doc->size_bytes);
		return -1;
	}
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(spool, doc->file_id, &reader, error, error_size) < 0)
		return -1;
	size_t cap = (size_t)doc->size_bytes, len = 0;
	uint8_t *data = malloc(cap + 1);
	int rc = data != NULL ? 0 : -1;
	while (rc == 0) {
		if (len == cap + 1) {
			(void)str_format(error, error_size, "image longer than its row says");
			rc = -1;
			break;
		}
		ssize_t n = spool_reader_read(reader, data + len, cap + 1 - len, error, error_size);
		if (n < 0)
			rc = -1;
		else if (n == 0)
			break;
		else
			len += (size_t)n;
	}
	spool_reader_close(&reader);
	if (rc < 0) {
		free(data);
		return -1;
	}
	*data_r = data;
	*len_r = len;
	return 0;
}

/* GET /jobs/{id}/pages/{n}/<kind>: the image, or 202 while it is being made. */
static void api_job_image(api_call_t *call, const char *role_prefix)
{
	pp_job_t job;
	if (!api_job_load(call, &job))
		return;
	uint64_t page = 0;
	if (!parse_uint64_full(call->params[1], API_PAGE_MAX, &page) || page == 0) {
		api_error(call, 404, "not_found", "Pages are numbered from 1.", 0);
		return;
	}
	if (job.state == PP_JOB_RECEIVED || job.state == PP_JOB_CONVERTING ||
	    job.state == PP_JOB_INCOMING) {
		(void)http_response_header(call->req, "Retry-After", "2");
		api_json(call, 202,
			 json_pack("{s:s, s:s}", "status", "converting", "message",
				   "The document is being converted; ask again shortly."));
		return;
	}
	if (job.pages <= 0 || (int64_t)page > job.pages) {
		api_error(call, 404, "not_found", "The job has no such page.", 0);
		return;
	}
	pp_core_t *core = call->api->cfg.core;
	char role[JOB_DOC_ROLE_MAX], error[API_ERROR_MAX];
	(void)str_format(role, sizeof(role), "%s:%llu", role_prefix, (unsigned long long)page);
	pp_document_t *docs = NULL;
	size_t n_docs = 0;
	if (job_documents(core, job.id, &docs, &n_docs, error, sizeof(error)) < 0) {
		api_internal(call, "api.documents_failed", error);
		return;
	}
	const pp_document_t *found = NULL;
	for (size_t i = 0; i < n_docs && found == NULL; i++) {
		if (strcmp(docs[i].role, role) == 0)
			found = &docs[i];
	}
	if (found != NULL) {
		uint8_t *data = NULL;
		size_t len = 0;
		int rc = api_spool_read(core->spool, found, &data, &len, error, sizeof(error));
		job_documents_free(&docs);
		if (rc < 0) {
			api_internal(call, "api.image_read_failed", error);
			return;
		}
		(void)http_respond_bytes(call->req, 200, "image/jpeg", data, len);
		free(data);
		return;
	}
	job_documents_free(&docs);
	/* Not rendered yet: ask for it while the job still has its document. */
	bool has_document = job.state == PP_JOB_HELD || job.state == PP_JOB_RELEASING ||
			    job.state == PP_JOB_PRINTING ||
			    (job.state == PP_JOB_FAILED && job.finished_at == 0);
	if (!has_document || call->api->cfg.render_pages == NULL) {
		api_error(call, 404, "not_found", "This page image is not available.", 0);
		return;
	}
	if (call->api->cfg.render_pages(call->api->cfg.render_pages_ctx, job.id, (unsigned)page,
					(unsigned)page, error, sizeof(error)) < 0) {
		log_info("api.pages_busy job=%lld error=\"%s\"", (long long)job.id, error);
		api_error(call, 503, "busy", "The page renderers are busy; ask again shortly.", 2);
		return;
	}
	(void)http_response_header(call->req, "Retry-After", "1");
	api_json(call, 202,
		 json_pack("{s:s, s:s}", "status", "rendering", "message",
			   "The page is being rendered; ask again shortly."));
}

void api_job_thumbnail(api_call_t *call)
{
	api_job_image(call, "thumb");
}

void api_job_preview(api_call_t *call)
{
	api_job_image(call, "preview");
}
