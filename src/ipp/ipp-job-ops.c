/*
 * ipp-job-ops.c - the job operations seen from the owner: Get-Job-Attributes, Get-Jobs and
 * Cancel-Job, and the job attributes they report. A user sees and cancels only their own
 * jobs; another user's job answers client-error-not-found, so ids reveal nothing.
 *
 * States map as PWG 5100.12 clients expect: received/converting -> pending, held ->
 * pending-held (job-hold-until-specified: the job waits for its owner's release),
 * releasing/printing -> processing, completed -> completed, canceled -> canceled,
 * failed/rejected/expired -> aborted with a reason.
 */
#include "ipp/ipp-private.h"

#include "core/job.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

void ipp_response_status(ipp_t *response, ipp_status_t status, const char *message)
{
	ippSetStatusCode(response, status);
	if (message != NULL && message[0] != '\0')
		(void)ippAddString(response, IPP_TAG_OPERATION, IPP_TAG_TEXT, "status-message", NULL,
				   message);
}

ipp_jstate_t ipp_job_state(pp_job_state_t state)
{
	switch (state) {
	case PP_JOB_RECEIVED:
	case PP_JOB_CONVERTING:
		return IPP_JSTATE_PENDING;
	case PP_JOB_HELD:
		return IPP_JSTATE_HELD;
	case PP_JOB_RELEASING:
	case PP_JOB_PRINTING:
		return IPP_JSTATE_PROCESSING;
	case PP_JOB_COMPLETED:
		return IPP_JSTATE_COMPLETED;
	case PP_JOB_CANCELED:
		return IPP_JSTATE_CANCELED;
	case PP_JOB_FAILED:
	case PP_JOB_REJECTED:
	case PP_JOB_EXPIRED:
		return IPP_JSTATE_ABORTED;
	}
	return IPP_JSTATE_ABORTED;
}

const char *ipp_job_state_reason(pp_job_state_t state)
{
	switch (state) {
	case PP_JOB_RECEIVED:
		return "job-queued";
	case PP_JOB_CONVERTING:
		return "job-transforming";
	case PP_JOB_HELD:
		return "job-hold-until-specified";
	case PP_JOB_RELEASING:
		return "job-queued-for-marker";
	case PP_JOB_PRINTING:
		return "job-printing";
	case PP_JOB_COMPLETED:
		return "job-completed-successfully";
	case PP_JOB_CANCELED:
		return "job-canceled-by-user";
	case PP_JOB_FAILED:
		return "aborted-by-system";
	case PP_JOB_REJECTED:
		return "document-unprintable-error";
	case PP_JOB_EXPIRED:
		return "job-canceled-at-device";
	}
	return "none";
}

/* Adds an integer time or, when 0, the out-of-band no-value. */
static void ipp_job_time(ipp_t *ipp, const char *name, const char *date_name, int64_t t)
{
	if (t <= 0) {
		(void)ippAddOutOfBand(ipp, IPP_TAG_JOB, IPP_TAG_NOVALUE, name);
		(void)ippAddOutOfBand(ipp, IPP_TAG_JOB, IPP_TAG_NOVALUE, date_name);
		return;
	}
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, name, (int)(t & INT32_MAX));
	(void)ippAddDate(ipp, IPP_TAG_JOB, date_name, ippTimeToDate((time_t)t));
}

/* Every attribute of job, into a fresh message (new; ippDelete()). */
static ipp_t *ipp_job_all(const ipp_op_ctx_t *ctx, const pp_job_t *job, int64_t now)
{
	ipp_t *ipp = ippNew();
	if (ipp == NULL)
		return NULL;
	char uri[IPP_URI_MAX + 32], uuid[IPP_UUID_MAX];
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-id", (int)job->id);
	if (str_format(uri, sizeof(uri), "%s/%lld", ctx->printer_uri, (long long)job->id))
		(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_URI, "job-uri", NULL, uri);
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_URI, "job-printer-uri", NULL, ctx->printer_uri);
	if (strlen(job->uuid) == 32 &&
	    str_format(uuid, sizeof(uuid), "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", job->uuid,
		       job->uuid + 8, job->uuid + 12, job->uuid + 16, job->uuid + 20))
		(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_URI, "job-uuid", NULL, uuid);
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_NAME, "job-name", NULL, job->title);
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_NAME, "job-originating-user-name", NULL,
			   ctx->user->email);
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_ENUM, "job-state", ipp_job_state(job->state));
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-state-reasons", NULL,
			   ipp_job_state_reason(job->state));
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_TEXT, "job-state-message", NULL,
			   job->state_reason[0] != '\0' ? job->state_reason
							: job_state_name(job->state));
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-printer-up-time",
			    (int)(now & INT32_MAX));
	ipp_job_time(ipp, "time-at-creation", "date-time-at-creation", job->created_at);
	ipp_job_time(ipp, "time-at-processing", "date-time-at-processing", job->released_at);
	ipp_job_time(ipp, "time-at-completed", "date-time-at-completed", job->finished_at);
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-k-octets",
			    (int)((job->size_bytes + 1023) / 1024 & INT32_MAX));
	if (job->pages >= 0)
		(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-impressions",
				    (int)(job->pages & INT32_MAX));
	ipp_options_add(ipp, &job->options);
	return ipp;
}

/* Copies the requested attributes (default: all, or job-id + job-uri for Get-Jobs). */
static void ipp_job_copy(ipp_t *response, ipp_t *job_attrs, cups_array_t *requested)
{
	for (ipp_attribute_t *a = ippFirstAttribute(job_attrs); a != NULL;
	     a = ippNextAttribute(job_attrs)) {
		const char *name = ippGetName(a);
		if (name != NULL && (requested == NULL || cupsArrayFind(requested, (void *)name) != NULL))
			(void)ippCopyAttribute(response, a, 0);
	}
}

/* The job-id the request names (job-id, or the number ending job-uri); 0 when none. */
static int64_t ipp_job_target(ipp_t *request)
{
	ipp_attribute_t *id = ippFindAttribute(request, "job-id", IPP_TAG_ZERO);
	if (id != NULL) {
		if (ippGetGroupTag(id) != IPP_TAG_OPERATION || ippGetValueTag(id) != IPP_TAG_INTEGER ||
		    ippGetCount(id) != 1 || ippGetInteger(id, 0) < 1)
			return -1;
		return ippGetInteger(id, 0);
	}
	const char *uri = ipp_request_string(request, "job-uri");
	const char *slash = uri != NULL ? strrchr(uri, '/') : NULL;
	uint64_t value = 0;
	if (slash == NULL || !parse_uint64_full(slash + 1, INT32_MAX, &value) || value == 0)
		return 0;
	return (int64_t)value;
}

/* Reads the caller's job named by the request; answers the error itself. */
static bool ipp_job_load(ipp_op_ctx_t *ctx, pp_job_t *job_r)
{
	int64_t id = ipp_job_target(ctx->request);
	if (id <= 0) {
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_BAD_REQUEST,
				    "job-id (or job-uri) is missing or malformed.");
		return false;
	}
	char error[512];
	int rc = job_get(ctx->svc->core, id, job_r, error, sizeof(error));
	if (rc == JOB_NOT_FOUND || (rc == 0 && job_r->user_id != ctx->user->id)) {
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_NOT_FOUND, "No such job.");
		return false;
	}
	if (rc != 0) {
		log_error("ipp.job_get_failed job=%lld error=\"%s\"", (long long)id, error);
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				    "The job store is not answering; try again.");
		return false;
	}
	return true;
}

void ipp_op_get_job_attributes(ipp_op_ctx_t *ctx)
{
	pp_job_t job;
	if (!ipp_job_load(ctx, &job))
		return;
	ipp_t *attrs = ipp_job_all(ctx, &job, core_now(ctx->svc->core));
	cups_array_t *requested = ippCreateRequestedArray(ctx->request);
	ipp_job_copy(ctx->response, attrs, requested);
	cupsArrayDelete(requested);
	ippDelete(attrs);
	ipp_response_status(ctx->response, IPP_STATUS_OK, NULL);
}

#define IPP_NOT_COMPLETED                                                                    \
	(JOB_STATE_BIT(PP_JOB_RECEIVED) | JOB_STATE_BIT(PP_JOB_CONVERTING) |                 \
	 JOB_STATE_BIT(PP_JOB_HELD) | JOB_STATE_BIT(PP_JOB_RELEASING) |                      \
	 JOB_STATE_BIT(PP_JOB_PRINTING))
#define IPP_COMPLETED                                                                        \
	(JOB_STATE_BIT(PP_JOB_COMPLETED) | JOB_STATE_BIT(PP_JOB_FAILED) |                    \
	 JOB_STATE_BIT(PP_JOB_REJECTED) | JOB_STATE_BIT(PP_JOB_CANCELED) |                   \
	 JOB_STATE_BIT(PP_JOB_EXPIRED))

void ipp_op_get_jobs(ipp_op_ctx_t *ctx)
{
	uint32_t states = IPP_NOT_COMPLETED;
	ipp_attribute_t *which = ippFindAttribute(ctx->request, "which-jobs", IPP_TAG_ZERO);
	if (which != NULL) {
		const char *word = ippGetValueTag(which) == IPP_TAG_KEYWORD && ippGetCount(which) == 1
					   ? ippGetString(which, 0, NULL)
					   : NULL;
		if (word != NULL && strcmp(word, "completed") == 0) {
			states = IPP_COMPLETED;
		} else if (word == NULL || strcmp(word, "not-completed") != 0) {
			ipp_attribute_t *copy = ippCopyAttribute(ctx->response, which, 0);
			(void)ippSetGroupTag(ctx->response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
			ipp_response_status(ctx->response, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
					    "which-jobs: completed or not-completed.");
			return;
		}
	}
	size_t limit = IPP_GET_JOBS_DEFAULT_LIMIT;
	ipp_attribute_t *lim = ippFindAttribute(ctx->request, "limit", IPP_TAG_ZERO);
	if (lim != NULL) {
		if (ippGetValueTag(lim) != IPP_TAG_INTEGER || ippGetCount(lim) != 1 ||
		    ippGetInteger(lim, 0) < 1) {
			ipp_response_status(ctx->response, IPP_STATUS_ERROR_BAD_REQUEST,
					    "limit must be an integer of 1 or more.");
			return;
		}
		limit = (size_t)ippGetInteger(lim, 0);
		if (limit > JOB_LIST_MAX)
			limit = JOB_LIST_MAX;
	}
	/* my-jobs true or false: a user only ever sees their own jobs here. */
	pp_job_t *jobs = NULL;
	size_t count = 0;
	int64_t next = 0;
	char error[512];
	if (job_list_for_user(ctx->svc->core, ctx->user->id, states, limit, 0, &jobs, &count,
			      &next, error, sizeof(error)) < 0) {
		log_error("ipp.get_jobs_failed error=\"%s\"", error);
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				    "The job store is not answering; try again.");
		return;
	}
	cups_array_t *requested = ippCreateRequestedArray(ctx->request);
	int64_t now = core_now(ctx->svc->core);
	for (size_t i = 0; i < count; i++) {
		ipp_t *attrs = ipp_job_all(ctx, &jobs[i], now);
		if (i > 0)
			(void)ippAddSeparator(ctx->response);
		ipp_job_copy(ctx->response, attrs, requested);
		ippDelete(attrs);
	}
	cupsArrayDelete(requested);
	job_list_free(&jobs);
	ipp_response_status(ctx->response, IPP_STATUS_OK, NULL);
}

void ipp_op_cancel_job(ipp_op_ctx_t *ctx)
{
	pp_job_t job;
	if (!ipp_job_load(ctx, &job))
		return;
	char error[512];
	pp_job_transition_t how = {.actor = "ipp", .reason = "canceled by its owner"};
	/* Another thread may move the job meanwhile (the converter): re-read and try again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (!job_state_can(job.state, PP_JOB_CANCELED)) {
			ipp_response_status(ctx->response, IPP_STATUS_ERROR_NOT_POSSIBLE,
					    "The job is finished and cannot be canceled.");
			return;
		}
		int rc = job_transition(ctx->svc->core, job.id, job.state, PP_JOB_CANCELED, &how,
					error, sizeof(error));
		if (rc == JOB_OK) {
			log_info("ipp.job_canceled job=%lld", (long long)job.id);
			ipp_response_status(ctx->response, IPP_STATUS_OK, NULL);
			return;
		}
		if (rc == JOB_STATE_FORBIDDEN) {
			ipp_response_status(ctx->response, IPP_STATUS_ERROR_NOT_POSSIBLE,
					    "The job cannot be canceled now.");
			return;
		}
		if (rc != JOB_STATE_LOST ||
		    job_get(ctx->svc->core, job.id, &job, error, sizeof(error)) != 0)
			break;
	}
	log_error("ipp.cancel_failed job=%lld error=\"%s\"", (long long)job.id, error);
	ipp_response_status(ctx->response, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
			    "The job could not be canceled now; try again.");
}

int ipp_job_add_created(ipp_op_ctx_t *ctx, int64_t job_id)
{
	pp_job_t job;
	char error[512];
	if (job_get(ctx->svc->core, job_id, &job, error, sizeof(error)) != 0)
		return -1;
	char uri[IPP_URI_MAX + 32];
	(void)ippAddInteger(ctx->response, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-id", (int)job.id);
	if (str_format(uri, sizeof(uri), "%s/%lld", ctx->printer_uri, (long long)job.id))
		(void)ippAddString(ctx->response, IPP_TAG_JOB, IPP_TAG_URI, "job-uri", NULL, uri);
	(void)ippAddInteger(ctx->response, IPP_TAG_JOB, IPP_TAG_ENUM, "job-state",
			    ipp_job_state(job.state));
	(void)ippAddString(ctx->response, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-state-reasons", NULL,
			   ipp_job_state_reason(job.state));
	(void)ippAddString(ctx->response, IPP_TAG_JOB, IPP_TAG_TEXT, "job-state-message", NULL,
			   "Held: release it at a printer.");
	return 0;
}
