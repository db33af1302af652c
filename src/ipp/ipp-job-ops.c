/*
 * ipp-job-ops.c - the job operations seen from the owner: Get-Job-Attributes, Get-Jobs and
 * Cancel-Job, and the job attributes they report. A user sees and cancels only their own
 * jobs; another user's job answers client-error-not-found, so ids reveal nothing.
 *
 * Create-Job makes a job in state incoming that waits for its one document (Send-Document,
 * in ipp-service.c, which streams it); Close-Job ends the wait; Cancel-My-Jobs cancels the
 * caller's unfinished jobs.
 *
 * States map as PWG 5100.12 clients expect: incoming -> pending (job-incoming: the document
 * is still to come), received/converting -> pending, held -> pending-held
 * (job-hold-until-specified: the job waits for its owner's release; with a job-password also
 * job-password-wait), releasing/printing -> processing, completed -> completed, canceled ->
 * canceled, failed/rejected/expired -> aborted with a reason.
 */
#include "ipp/ipp-private.h"

#include "core/intake.h"
#include "core/job.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

const char *ipp_via_name(ipp_auth_via_t via)
{
	switch (via) {
	case IPP_VIA_NONE:
		return "none";
	case IPP_VIA_BASIC:
		return "basic";
	case IPP_VIA_PRINTER_TOKEN:
		return "printer-uri";
	case IPP_VIA_FORWARDER:
		return "forwarder";
	case IPP_VIA_TRUSTED_NETWORK:
		return "trusted-network";
	}
	return "unknown";
}

/* The first attribute of response outside the operation group, or NULL. */
static ipp_attribute_t *ipp_response_first_later(ipp_t *response)
{
	for (ipp_attribute_t *a = ippFirstAttribute(response); a != NULL;
	     a = ippNextAttribute(response)) {
		if (ippGetGroupTag(a) != IPP_TAG_OPERATION)
			return a;
	}
	return NULL;
}

void ipp_response_status(ipp_t *response, ipp_status_t status, const char *message)
{
	ippSetStatusCode(response, status);
	if (message == NULL || message[0] == '\0')
		return;
	/* status-message belongs to the operation group, which must stay first (libcups
	 * readers refuse a group out of order): later groups are moved behind it. */
	ipp_t *later = ippNew();
	bool is_moving = false;
	for (ipp_attribute_t *a = ippFirstAttribute(response); later != NULL && a != NULL;
	     a = ippNextAttribute(response)) {
		is_moving = is_moving || ippGetGroupTag(a) != IPP_TAG_OPERATION;
		if (!is_moving)
			continue;
		if (ippGetName(a) == NULL)
			(void)ippAddSeparator(later);
		else
			(void)ippCopyAttribute(later, a, 0);
	}
	for (ipp_attribute_t *a; later != NULL && (a = ipp_response_first_later(response)) != NULL;)
		ippDeleteAttribute(response, a);
	(void)ippAddString(response, IPP_TAG_OPERATION, IPP_TAG_TEXT, "status-message", NULL,
			   message);
	for (ipp_attribute_t *a = ippFirstAttribute(later); a != NULL; a = ippNextAttribute(later)) {
		if (ippGetName(a) == NULL)
			(void)ippAddSeparator(response);
		else
			(void)ippCopyAttribute(response, a, 0);
	}
	ippDelete(later);
}

ipp_jstate_t ipp_job_state(pp_job_state_t state)
{
	switch (state) {
	case PP_JOB_INCOMING:
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
	case PP_JOB_INCOMING:
		return "job-incoming";
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

const char *ipp_job_state_message(pp_job_state_t state)
{
	switch (state) {
	case PP_JOB_INCOMING:
		return "Waiting for the document (Send-Document).";
	case PP_JOB_RECEIVED:
	case PP_JOB_CONVERTING:
		return "Received: it will be held for you to release at a printer.";
	case PP_JOB_HELD:
		return "Held: release it at a printer.";
	case PP_JOB_RELEASING:
	case PP_JOB_PRINTING:
		return "Printing.";
	case PP_JOB_COMPLETED:
		return "Printed.";
	case PP_JOB_CANCELED:
		return "Canceled.";
	case PP_JOB_FAILED:
		return "Printing failed.";
	case PP_JOB_REJECTED:
		return "The document could not be printed.";
	case PP_JOB_EXPIRED:
		return "Expired: it was not released in time.";
	}
	return "Unknown state.";
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
	if (job->state == PP_JOB_HELD && job->has_pin) {
		/* Releasable with the job-password at a printer as well as with the code. */
		const char *reasons[] = {ipp_job_state_reason(job->state), "job-password-wait"};
		(void)ippAddStrings(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-state-reasons", 2, NULL,
				    reasons);
	} else {
		(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-state-reasons", NULL,
				   ipp_job_state_reason(job->state));
	}
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_TEXT, "job-state-message", NULL,
			   job->state_reason[0] != '\0' ? job->state_reason
							: ipp_job_state_message(job->state));
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

bool ipp_job_load(ipp_op_ctx_t *ctx, pp_job_t *job_r)
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
	(JOB_STATE_BIT(PP_JOB_INCOMING) | JOB_STATE_BIT(PP_JOB_RECEIVED) | JOB_STATE_BIT(PP_JOB_CONVERTING) |                 \
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

/*
 * Cancels *job (re-read and retried when another thread moved it meanwhile). Returns JOB_OK,
 * JOB_STATE_FORBIDDEN (finished, or not cancelable now) or -1 with error.
 */
static int ipp_job_cancel(pp_core_t *core, pp_job_t *job, char *error, size_t error_size)
{
	pp_job_transition_t how = {.actor = "ipp", .reason = "canceled by its owner"};
	(void)str_copy(error, error_size, "the job kept changing state");
	for (int attempt = 0; attempt < 3; attempt++) {
		if (!job_state_can(job->state, PP_JOB_CANCELED))
			return JOB_STATE_FORBIDDEN;
		int rc = job_transition(core, job->id, job->state, PP_JOB_CANCELED, &how, error,
					error_size);
		if (rc == JOB_OK) {
			log_info("ipp.job_canceled job=%lld", (long long)job->id);
			return JOB_OK;
		}
		if (rc == JOB_STATE_FORBIDDEN)
			return JOB_STATE_FORBIDDEN;
		if (rc != JOB_STATE_LOST || job_get(core, job->id, job, error, error_size) != 0)
			break;
	}
	return -1;
}

void ipp_op_cancel_job(ipp_op_ctx_t *ctx)
{
	pp_job_t job;
	if (!ipp_job_load(ctx, &job))
		return;
	char error[512];
	int rc = ipp_job_cancel(ctx->svc->core, &job, error, sizeof(error));
	if (rc == JOB_OK) {
		ipp_response_status(ctx->response, IPP_STATUS_OK, NULL);
		return;
	}
	if (rc == JOB_STATE_FORBIDDEN) {
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_NOT_POSSIBLE,
				    job_state_is_final(job.state)
					    ? "The job is finished and cannot be canceled."
					    : "The job cannot be canceled now.");
		return;
	}
	log_error("ipp.cancel_failed job=%lld error=\"%s\"", (long long)job.id, error);
	ipp_response_status(ctx->response, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
			    "The job could not be canceled now; try again.");
}

/*
 * The job-ids operation attribute of Cancel-My-Jobs into *ids_r (new; free()), *count_r
 * values; absent: *ids_r NULL, 0. Returns false (status set) for a malformed one.
 */
static bool ipp_job_ids(ipp_op_ctx_t *ctx, int64_t **ids_r, size_t *count_r)
{
	*ids_r = NULL;
	*count_r = 0;
	ipp_attribute_t *attr = ippFindAttribute(ctx->request, "job-ids", IPP_TAG_ZERO);
	if (attr == NULL)
		return true;
	int n = ippGetCount(attr);
	if (ippGetGroupTag(attr) != IPP_TAG_OPERATION || ippGetValueTag(attr) != IPP_TAG_INTEGER ||
	    n < 1 || n > JOB_LIST_MAX) {
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_BAD_REQUEST,
				    "job-ids must be 1 to 1000 job numbers.");
		return false;
	}
	int64_t *ids = calloc((size_t)n, sizeof(*ids));
	if (ids == NULL) {
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_INTERNAL, "Out of memory.");
		return false;
	}
	for (int i = 0; i < n; i++) {
		ids[i] = ippGetInteger(attr, i);
		if (ids[i] < 1) {
			free(ids);
			ipp_response_status(ctx->response, IPP_STATUS_ERROR_BAD_REQUEST,
					    "job-ids must be 1 to 1000 job numbers.");
			return false;
		}
	}
	*ids_r = ids;
	*count_r = (size_t)n;
	return true;
}

/*
 * Cancel-My-Jobs (PWG 5100.11): cancels the caller's unfinished jobs, or those listed in
 * job-ids (each must be the caller's: otherwise client-error-not-found and nothing is
 * canceled). Jobs that cannot be canceled (finished, or moving on) are returned in job-ids
 * of the unsupported group with client-error-not-possible; the others are canceled.
 */
void ipp_op_cancel_my_jobs(ipp_op_ctx_t *ctx)
{
	pp_core_t *core = ctx->svc->core;
	int64_t *ids = NULL;
	size_t n_ids = 0;
	if (!ipp_job_ids(ctx, &ids, &n_ids))
		return;
	char error[512];
	pp_job_t *jobs = NULL;
	size_t count = 0;
	if (ids != NULL) {
		jobs = calloc(n_ids, sizeof(*jobs));
		if (jobs == NULL) {
			free(ids);
			ipp_response_status(ctx->response, IPP_STATUS_ERROR_INTERNAL, "Out of memory.");
			return;
		}
		for (; count < n_ids; count++) {
			int rc = job_get(core, ids[count], &jobs[count], error, sizeof(error));
			if (rc == JOB_NOT_FOUND || (rc == 0 && jobs[count].user_id != ctx->user->id)) {
				ipp_response_status(ctx->response, IPP_STATUS_ERROR_NOT_FOUND,
						    "job-ids names a job that is not yours or does not exist.");
				goto done;
			}
			if (rc != 0)
				goto store_error;
		}
	} else {
		int64_t next = 0;
		if (job_list_for_user(core, ctx->user->id, IPP_NOT_COMPLETED, JOB_LIST_MAX, 0, &jobs,
				      &count, &next, error, sizeof(error)) < 0)
			goto store_error;
	}
	int not_possible[JOB_LIST_MAX];
	int n_not_possible = 0;
	for (size_t i = 0; i < count; i++) {
		int rc = ipp_job_cancel(core, &jobs[i], error, sizeof(error));
		if (rc == JOB_STATE_FORBIDDEN) {
			not_possible[n_not_possible++] = (int)jobs[i].id;
		} else if (rc != JOB_OK) {
			log_error("ipp.cancel_failed job=%lld error=\"%s\"", (long long)jobs[i].id,
				  error);
			not_possible[n_not_possible++] = (int)jobs[i].id;
		}
	}
	if (n_not_possible > 0) {
		(void)ippAddIntegers(ctx->response, IPP_TAG_UNSUPPORTED_GROUP, IPP_TAG_INTEGER,
				     "job-ids", n_not_possible, not_possible);
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_NOT_POSSIBLE,
				    "Some jobs are finished or moving on and were not canceled.");
	} else {
		ipp_response_status(ctx->response, IPP_STATUS_OK, NULL);
	}
	goto done;

store_error:
	log_error("ipp.cancel_my_jobs_failed error=\"%s\"", error);
	ipp_response_status(ctx->response, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
			    "The job store is not answering; try again.");
done:
	if (ids != NULL)
		free(jobs);
	else
		job_list_free(&jobs);
	free(ids);
}

ipp_status_t ipp_job_intake_status(int rc, const char **message_r)
{
	switch (rc) {
	case JOB_NOT_FOUND:
		*message_r = "No such job.";
		return IPP_STATUS_ERROR_NOT_FOUND;
	case JOB_STATE_LOST:
		*message_r = "The job is no longer waiting for a document (closed, canceled or "
			     "timed out).";
		return IPP_STATUS_ERROR_NOT_POSSIBLE;
	case JOB_STATE_FORBIDDEN:
		*message_r = "This job has its document already: one document per job.";
		return IPP_STATUS_ERROR_MULTIPLE_JOBS_NOT_SUPPORTED;
	default:
		*message_r = "The job store is not answering; try again.";
		return IPP_STATUS_ERROR_SERVICE_UNAVAILABLE;
	}
}

ipp_status_t ipp_job_send_document_check(const pp_job_t *job, bool has_document,
					 const char **message_r)
{
	*message_r = NULL;
	if (job->state != PP_JOB_INCOMING)
		return ipp_job_intake_status(JOB_STATE_LOST, message_r);
	if (has_document)
		return ipp_job_intake_status(JOB_STATE_FORBIDDEN, message_r);
	return IPP_STATUS_OK;
}

void ipp_op_close_job(ipp_op_ctx_t *ctx)
{
	int64_t id = ipp_job_target(ctx->request);
	if (id <= 0) {
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_BAD_REQUEST,
				    "job-id (or job-uri) is missing or malformed.");
		return;
	}
	char error[512];
	pp_job_state_t state = PP_JOB_INCOMING;
	int rc = intake_close_incoming(ctx->svc->core, id, ctx->user->id, &state, error,
				       sizeof(error));
	if (rc != JOB_OK) {
		const char *message = NULL;
		ipp_status_t status = ipp_job_intake_status(rc, &message);
		if (rc == JOB_STATE_LOST)
			message = "The job is not open (closed, canceled or timed out).";
		if (status == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE)
			log_error("ipp.close_job_failed job=%lld error=\"%s\"", (long long)id, error);
		ipp_response_status(ctx->response, status, message);
		return;
	}
	log_info("ipp.job_closed job=%lld state=%s", (long long)id, job_state_name(state));
	ipp_job_add_created(ctx, id, state);
	ipp_response_status(ctx->response, IPP_STATUS_OK, NULL);
}

void ipp_op_create_job(ipp_op_ctx_t *ctx)
{
	const char *job_name = ipp_request_string(ctx->request, "job-name");
	pp_intake_t doc = {.user_id = ctx->user->id,
			   .source = "ipp",
			   .title = job_name,
			   .options = ctx->opts,
			   .pin = ctx->pin};
	pp_intake_result_t created;
	char error[512];
	if (intake_create_incoming(ctx->svc->core, &doc, IPP_MULTIPLE_OPERATION_TIMEOUT, &created,
				   error, sizeof(error)) < 0) {
		log_error("ipp.create_job_failed error=\"%s\"", error);
		ipp_response_status(ctx->response, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				    "The job could not be created now; try again.");
		return;
	}
	log_info("ipp.job_created job=%lld pin=%s", (long long)created.job_id,
		 ctx->pin != NULL ? "yes" : "no");
	ipp_job_add_created(ctx, created.job_id, created.state);
	ipp_response_status(ctx->response, ctx->opts_status, NULL);
}

void ipp_job_add_created(ipp_op_ctx_t *ctx, int64_t job_id, pp_job_state_t state)
{
	char uri[IPP_URI_MAX + 32];
	(void)ippAddInteger(ctx->response, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-id", (int)job_id);
	if (str_format(uri, sizeof(uri), "%s/%lld", ctx->printer_uri, (long long)job_id))
		(void)ippAddString(ctx->response, IPP_TAG_JOB, IPP_TAG_URI, "job-uri", NULL, uri);
	(void)ippAddInteger(ctx->response, IPP_TAG_JOB, IPP_TAG_ENUM, "job-state",
			    ipp_job_state(state));
	(void)ippAddString(ctx->response, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-state-reasons", NULL,
			   ipp_job_state_reason(state));
	(void)ippAddString(ctx->response, IPP_TAG_JOB, IPP_TAG_TEXT, "job-state-message", NULL,
			   ipp_job_state_message(state));
}
