/*
 * deliver-ipp.c - IPP/IPPS delivery through libcups: one connection, one Print-Job whose
 * document is streamed as it is read (no request before it, so the first byte reaches the
 * printer as soon as a direct ipptool Print-Job would), then the printer-side job followed
 * with Get-Job-Attributes until it is completed, canceled or aborted.
 *
 * Every answer from the printer is parsed by libcups; the texts taken from it
 * (status-message, state reasons) are cut to printable ASCII before they reach a message.
 * Waits use libcups' timeout callback in one-second steps, so the I/O timeout and the
 * cancel flag both hold while libcups blocks.
 */
#include "output/deliver-private.h"

#include "lib/str.h"

#include <cups/cups.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define IPP_NAME_MAX 256          /* IPP name values: 255 octets */
#define IPP_REASONS_MAX 256
#define IPP_FOLLOW_FIRST_MS 50    /* first look at the printer-side job */
#define IPP_FOLLOW_MAX_MS 2000    /* then ever slower, up to this */
#define IPP_FOLLOW_FAILURES_MAX 3 /* unanswered Get-Job-Attributes before giving up */

/* One IPP delivery: the connection and what its timeout callback saw. */
typedef struct {
	deliver_ctx_t *ctx;
	http_t *http;
	unsigned waited_s;  /* one-second waits without progress since the last reset */
	bool is_timed_out;
	bool is_canceled;
} ipp_conn_t;

/* libcups calls this after each second without progress: 1 = keep waiting. */
static int ipp_timeout_cb(http_t *http, void *data)
{
	(void)http;
	ipp_conn_t *conn = data;
	if (deliver_is_canceled(conn->ctx)) {
		conn->is_canceled = true;
		return 0;
	}
	conn->waited_s++;
	if (conn->waited_s >= conn->ctx->io_timeout_s) {
		conn->is_timed_out = true;
		return 0;
	}
	return 1;
}

/* Starts a new wait: the I/O timeout counts from here. */
static void ipp_wait_reset(ipp_conn_t *conn)
{
	conn->waited_s = 0;
	conn->is_timed_out = false;
}

/* Copies an IPP text for a name attribute: as is when it is printable UTF-8 that fits. */
static void ipp_name(const char *src, const char *fallback, char *dst, size_t size)
{
	if (src == NULL || src[0] == '\0')
		src = fallback;
	if (str_is_printable_utf8(src) && strlen(src) < size)
		str_copy(dst, size, src);
	else
		deliver_ascii_line(src, NULL, dst, size);
}

/* Outcome of an IPP status: what retrying could change. */
static pp_deliver_outcome_t ipp_status_outcome(ipp_status_t status)
{
	if (status < IPP_STATUS_ERROR_BAD_REQUEST)
		return DELIVER_DONE;
	switch (status) {
	case IPP_STATUS_ERROR_BUSY:
	case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
	case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
	case IPP_STATUS_ERROR_TEMPORARY:
	case IPP_STATUS_ERROR_DEVICE:
	case IPP_STATUS_ERROR_INTERNAL:
	case IPP_STATUS_ERROR_PRINTER_IS_DEACTIVATED:
	case IPP_STATUS_ERROR_TOO_MANY_JOBS:
	case IPP_STATUS_ERROR_TOO_MANY_DOCUMENTS:
	case IPP_STATUS_ERROR_JOB_CANCELED:
	case IPP_STATUS_ERROR_NOT_POSSIBLE: /* "because of the state of the printer" */
	case IPP_STATUS_ERROR_TIMEOUT:
		return DELIVER_RETRY;
	default:
		break;
	}
	/* Other client errors (format, attributes, authorization, URI) need a change by a
	 * person; other server and library errors may pass. */
	if (status >= IPP_STATUS_ERROR_BAD_REQUEST && status < IPP_STATUS_ERROR_INTERNAL)
		return DELIVER_PERMANENT;
	if (status == IPP_STATUS_ERROR_CUPS_UPGRADE_REQUIRED)
		return DELIVER_PERMANENT;
	return DELIVER_RETRY;
}

/* What a person can do about a permanent status (for the message). */
static const char *ipp_status_advice(ipp_status_t status)
{
	switch (status) {
	case IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED:
		return "the printer does not take this format: set its output format to one it "
		       "accepts";
	case IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES:
	case IPP_STATUS_ERROR_CONFLICTING:
		return "the printer does not support these options: change them or the printer's "
		       "capabilities";
	case IPP_STATUS_ERROR_FORBIDDEN:
	case IPP_STATUS_ERROR_NOT_AUTHENTICATED:
	case IPP_STATUS_ERROR_NOT_AUTHORIZED:
		return "the printer wants authentication this server does not have";
	case IPP_STATUS_ERROR_NOT_FOUND:
	case IPP_STATUS_ERROR_GONE:
	case IPP_STATUS_ERROR_URI_SCHEME:
		return "check the printer's URI";
	case IPP_STATUS_ERROR_CUPS_UPGRADE_REQUIRED:
		return "the printer requires encryption: use an ipps:// URI";
	default:
		return "retrying will not help";
	}
}

/* Joins the keywords of attr into dst[size] ("media-jam-error,…"), printable ASCII. */
static void ipp_keywords(ipp_attribute_t *attr, char *dst, size_t size)
{
	char joined[IPP_REASONS_MAX] = "";
	size_t len = 0;
	int count = attr != NULL ? ippGetCount(attr) : 0;
	for (int i = 0; i < count; i++) {
		const char *word = ippGetString(attr, i, NULL);
		if (word == NULL)
			continue;
		size_t n = strlen(word);
		if (len + n + 2 > sizeof(joined))
			break;
		if (len > 0)
			joined[len++] = ',';
		memcpy(joined + len, word, n);
		len += n;
		joined[len] = '\0';
	}
	deliver_ascii_line(joined[0] != '\0' ? joined : "none", NULL, dst, size);
}

/* True when a reason word says the document itself cannot print (no retry helps). */
static bool ipp_reasons_are_document_faults(const char *reasons)
{
	static const char *const faults[] = {
		"document-format-error",   "document-unprintable-error",
		"unsupported-document-format", "unsupported-compression",
		"compression-error",       "document-password-error",
		"document-permission-error", "document-security-error",
	};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		if (strstr(reasons, faults[i]) != NULL)
			return true;
	}
	return false;
}

/* The printer's state and reasons as text ("stopped: media-jam-error"), or "" when unknown. */
static void ipp_printer_state(ipp_conn_t *conn, char *dst, size_t size)
{
	static const char *const wanted[] = {"printer-state", "printer-state-reasons"};
	dst[0] = '\0';
	ipp_t *request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL,
		     conn->ctx->req->device_uri);
	ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 2, NULL,
		      wanted);
	ipp_wait_reset(conn);
	ipp_t *response = cupsDoRequest(conn->http, request, conn->ctx->uri.resource);
	if (response == NULL)
		return;
	ipp_attribute_t *state = ippFindAttribute(response, "printer-state", IPP_TAG_ENUM);
	char reasons[IPP_REASONS_MAX];
	ipp_keywords(ippFindAttribute(response, "printer-state-reasons", IPP_TAG_KEYWORD), reasons,
		     sizeof(reasons));
	if (state != NULL) {
		const char *name = ippEnumString("printer-state", ippGetInteger(state, 0));
		str_format(dst, size, "printer %s: %s", name != NULL ? name : "?", reasons);
	}
	ippDelete(response);
}

/* Sets the outcome for a failed request from its status and the printer's message. */
static void ipp_set_failure(ipp_conn_t *conn, const char *what, ipp_status_t status)
{
	char said[160];
	deliver_ascii_line(cupsLastErrorString(), NULL, said, sizeof(said));
	pp_deliver_outcome_t outcome = ipp_status_outcome(status);
	if (outcome == DELIVER_DONE)
		outcome = DELIVER_RETRY;
	if (outcome == DELIVER_PERMANENT) {
		deliver_set(conn->ctx, outcome, "the printer refused %s: %s (%s); %s", what,
			    ippErrorString(status), said, ipp_status_advice(status));
		return;
	}
	/* A transient refusal: the printer's own state tells the user why (stopped, jam). */
	char state[IPP_REASONS_MAX + 32];
	ipp_printer_state(conn, state, sizeof(state));
	deliver_set(conn->ctx, outcome, "the printer did not take %s: %s (%s)%s%s", what,
		    ippErrorString(status), said, state[0] != '\0' ? "; " : "", state);
}

/* Builds the Print-Job request with the job's name, user, format and options. New. */
static ipp_t *ipp_print_job_request(const deliver_ctx_t *ctx)
{
	const pp_deliver_request_t *req = ctx->req;
	const pp_print_options_t *opts = req->options;
	char user[IPP_NAME_MAX], job[IPP_NAME_MAX];
	ipp_name(req->user_name, "pullprint", user, sizeof(user));
	ipp_name(req->job_name, "job", job, sizeof(job));

	ipp_t *request = ippNewRequest(IPP_OP_PRINT_JOB);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, req->device_uri);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, user);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, job);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL,
		     req->content_type);

	/* Job template: only what the printer applies; the converter did the rest. */
	if (opts->copies > 1)
		ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", opts->copies);
	ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "sides", NULL,
		     options_sides_name(opts->sides));
	if (opts->color_mode != PP_COLOR_AUTO)
		ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-color-mode", NULL,
			     options_color_mode_name(opts->color_mode));
	if (opts->media[0] != '\0')
		ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", NULL, opts->media);
	static const int staple_finishings[] = {
		[PP_STAPLE_NONE] = IPP_FINISHINGS_NONE,
		[PP_STAPLE_TOP_LEFT] = IPP_FINISHINGS_STAPLE_TOP_LEFT,
		[PP_STAPLE_TOP_RIGHT] = IPP_FINISHINGS_STAPLE_TOP_RIGHT,
		[PP_STAPLE_BOTTOM_LEFT] = IPP_FINISHINGS_STAPLE_BOTTOM_LEFT,
		[PP_STAPLE_BOTTOM_RIGHT] = IPP_FINISHINGS_STAPLE_BOTTOM_RIGHT,
		[PP_STAPLE_DUAL_LEFT] = IPP_FINISHINGS_STAPLE_DUAL_LEFT,
		[PP_STAPLE_DUAL_TOP] = IPP_FINISHINGS_STAPLE_DUAL_TOP,
	};
	if (opts->staple != PP_STAPLE_NONE &&
	    (size_t)opts->staple < sizeof(staple_finishings) / sizeof(staple_finishings[0]))
		ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_ENUM, "finishings",
			      staple_finishings[opts->staple]);
	/* Layout options only when the document goes as is and the printer lays it out. */
	if (req->pass_layout_options) {
		if (opts->number_up > 1)
			ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, "number-up",
				      opts->number_up);
		if (opts->orientation != PP_ORIENTATION_AUTO)
			ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_ENUM, "orientation-requested",
				      IPP_ORIENT_PORTRAIT + (int)opts->orientation - 1);
		if (opts->n_page_ranges > 0) {
			int lower[OPTIONS_RANGES_MAX], upper[OPTIONS_RANGES_MAX];
			for (size_t i = 0; i < opts->n_page_ranges; i++) {
				lower[i] = (int)opts->page_ranges[i].first;
				upper[i] = (int)opts->page_ranges[i].last;
			}
			ippAddRanges(request, IPP_TAG_JOB, "page-ranges", (int)opts->n_page_ranges,
				     lower, upper);
		}
	}
	return request;
}

/* Waits ms in short steps; false when canceled meanwhile. */
static bool ipp_pause(const deliver_ctx_t *ctx, int64_t ms)
{
	while (ms > 0) {
		if (deliver_is_canceled(ctx))
			return false;
		int slice = ms < 100 ? (int)ms : 100;
		if (poll(NULL, 0, slice) < 0 && errno != EINTR)
			break;
		ms -= slice;
	}
	return !deliver_is_canceled(ctx);
}

/* Asks the printer to cancel its job (the caller canceled after the printer had it). */
static void ipp_cancel_job(ipp_conn_t *conn, int job_id)
{
	char user[IPP_NAME_MAX];
	ipp_name(conn->ctx->req->user_name, "pullprint", user, sizeof(user));
	ipp_t *request = ippNewRequest(IPP_OP_CANCEL_JOB);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL,
		     conn->ctx->req->device_uri);
	ippAddInteger(request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, user);
	/* cancel is set, so the timeout callback would stop at once: give it plain time. */
	httpSetTimeout(conn->http, (double)conn->ctx->io_timeout_s, NULL, NULL);
	ipp_t *response = cupsDoRequest(conn->http, request, conn->ctx->uri.resource);
	ipp_status_t status = response != NULL ? ippGetStatusCode(response) : cupsLastError();
	ippDelete(response);
	deliver_set(conn->ctx, DELIVER_CANCELED, "canceled; the printer %s job %d",
		    status < IPP_STATUS_ERROR_BAD_REQUEST ? "canceled its" : "could not cancel its",
		    job_id);
}

/*
 * Follows the printer-side job until completed, canceled or aborted, or follow_timeout_s.
 * A job still pending at the end stays with the printer: reported as done (resending
 * would print it twice), with its state in the message.
 */
static void ipp_follow(ipp_conn_t *conn, int job_id)
{
	static const char *const wanted[] = {"job-state", "job-state-reasons"};
	deliver_ctx_t *ctx = conn->ctx;
	char user[IPP_NAME_MAX];
	ipp_name(ctx->req->user_name, "pullprint", user, sizeof(user));
	int64_t deadline_ms = deliver_elapsed_ms(ctx) + (int64_t)ctx->follow_timeout_s * 1000;
	int64_t interval_ms = IPP_FOLLOW_FIRST_MS;
	int failures = 0;
	char last[IPP_REASONS_MAX + 64] = "state unknown";
	for (;;) {
		if (deliver_is_canceled(ctx)) {
			ipp_cancel_job(conn, job_id);
			return;
		}
		ipp_t *request = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
		ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL,
			     ctx->req->device_uri);
		ippAddInteger(request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
		ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name",
			     NULL, user);
		ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
			      2, NULL, wanted);
		ipp_wait_reset(conn);
		ipp_t *response = cupsDoRequest(conn->http, request, ctx->uri.resource);
		ipp_status_t status = response != NULL ? ippGetStatusCode(response) : cupsLastError();
		ipp_attribute_t *state_attr =
			response != NULL ? ippFindAttribute(response, "job-state", IPP_TAG_ENUM) : NULL;
		int state = state_attr != NULL ? ippGetInteger(state_attr, 0) : 0;
		char reasons[IPP_REASONS_MAX];
		ipp_keywords(response != NULL ? ippFindAttribute(response, "job-state-reasons",
								 IPP_TAG_KEYWORD)
					      : NULL,
			     reasons, sizeof(reasons));
		ippDelete(response);

		if (status == IPP_STATUS_ERROR_NOT_FOUND) {
			deliver_set(ctx, DELIVER_DONE, "the printer took job %d and no longer lists "
				    "it (finished)", job_id);
			return;
		}
		if (status >= IPP_STATUS_ERROR_BAD_REQUEST || state_attr == NULL) {
			if (conn->is_canceled)
				continue; /* cancel at the top of the loop */
			failures++;
		} else if (state == IPP_JSTATE_COMPLETED) {
			deliver_set(ctx, DELIVER_DONE, "printed: the printer completed job %d",
				    job_id);
			return;
		} else if (state == IPP_JSTATE_CANCELED) {
			deliver_set(ctx, DELIVER_PERMANENT, "job %d was canceled at the printer (%s)",
				    job_id, reasons);
			return;
		} else if (state == IPP_JSTATE_ABORTED) {
			deliver_set(ctx,
				    ipp_reasons_are_document_faults(reasons) ? DELIVER_PERMANENT
									     : DELIVER_RETRY,
				    "the printer aborted job %d (%s)", job_id, reasons);
			return;
		} else {
			failures = 0;
			const char *name = ippEnumString("job-state", state);
			str_format(last, sizeof(last), "%s: %s", name != NULL ? name : "?", reasons);
		}
		int64_t left = deadline_ms - deliver_elapsed_ms(ctx);
		if (failures >= IPP_FOLLOW_FAILURES_MAX || left <= 0) {
			char why[160];
			deliver_ascii_line(cupsLastErrorString(), NULL, why, sizeof(why));
			deliver_set(ctx, DELIVER_DONE, "the printer took job %d; not followed further "
				    "(%s; last seen %s)", job_id,
				    failures >= IPP_FOLLOW_FAILURES_MAX ? why : "follow time is up",
				    last);
			return;
		}
		ipp_pause(ctx, interval_ms < left ? interval_ms : left);
		interval_ms = interval_ms * 2 > IPP_FOLLOW_MAX_MS ? IPP_FOLLOW_MAX_MS : interval_ms * 2;
	}
}

/*
 * Sends the Print-Job and the document. Returns the printer's job-id (> 0) with the outcome
 * not yet decided, or 0 with the outcome set.
 */
static int ipp_print_job(ipp_conn_t *conn)
{
	deliver_ctx_t *ctx = conn->ctx;
	ipp_t *request = ipp_print_job_request(ctx);
	/* libcups wants the whole body's length: the IPP message plus the document. */
	size_t length = ctx->req->size_bytes >= 0
				? ippLength(request) + (size_t)ctx->req->size_bytes
				: CUPS_LENGTH_VARIABLE;
	ipp_wait_reset(conn);
	http_status_t http_status = cupsSendRequest(conn->http, request, ctx->uri.resource, length);
	ippDelete(request);

	/* Stream the document while the printer keeps asking for more. */
	char *buf = NULL;
	bool is_read_failed = false;
	if (http_status == HTTP_STATUS_CONTINUE) {
		buf = malloc(DELIVER_CHUNK_BYTES);
		if (buf == NULL) {
			deliver_set(ctx, DELIVER_RETRY, "out of memory while sending");
			return 0;
		}
	}
	while (http_status == HTTP_STATUS_CONTINUE) {
		if (deliver_is_canceled(ctx)) {
			free(buf);
			deliver_set(ctx, DELIVER_CANCELED, "canceled while sending; the printer "
				    "discards the unfinished request");
			return 0;
		}
		ssize_t n = deliver_read_data(ctx, buf, DELIVER_CHUNK_BYTES);
		if (n <= 0) {
			is_read_failed = n < 0;
			break;
		}
		ipp_wait_reset(conn);
		http_status = cupsWriteRequestData(conn->http, buf, (size_t)n);
		if (http_status == HTTP_STATUS_CONTINUE)
			ctx->result->bytes_sent += n;
	}
	free(buf);
	if (is_read_failed)
		return 0; /* outcome set; closing the connection drops the partial request */
	if (conn->is_canceled) {
		deliver_set(ctx, DELIVER_CANCELED, "canceled while sending");
		return 0;
	}
	if (conn->is_timed_out) {
		deliver_set(ctx, DELIVER_RETRY, "the printer took no data for %u s (busy or stalled)",
			    ctx->io_timeout_s);
		return 0;
	}

	/* An HTTP-level refusal has no IPP answer to read. */
	if (http_status >= HTTP_STATUS_BAD_REQUEST) {
		bool is_transient = http_status >= HTTP_STATUS_SERVER_ERROR ||
				    http_status == HTTP_STATUS_REQUEST_TIMEOUT;
		deliver_set(ctx, is_transient ? DELIVER_RETRY : DELIVER_PERMANENT,
			    "the printer answered HTTP %d (%s)%s", (int)http_status,
			    httpStatus(http_status),
			    http_status == HTTP_STATUS_UNAUTHORIZED ||
					    http_status == HTTP_STATUS_FORBIDDEN
				    ? "; it wants authentication this server does not have"
			    : http_status == HTTP_STATUS_UPGRADE_REQUIRED
				    ? "; use an ipps:// URI"
			    : http_status == HTTP_STATUS_NOT_FOUND ? "; check the printer's URI"
								   : "");
		return 0;
	}

	/* The answer: also read after a refused or failed write, since a printer that
	 * refuses the job early says why before it stops reading. */
	ipp_wait_reset(conn);
	ipp_t *response = cupsGetResponse(conn->http, ctx->uri.resource);
	if (response == NULL) {
		if (conn->is_canceled)
			deliver_set(ctx, DELIVER_CANCELED, "canceled while waiting for the printer");
		else if (conn->is_timed_out)
			deliver_set(ctx, DELIVER_RETRY, "the printer did not answer the print "
				    "request within %u s", ctx->io_timeout_s);
		else if (cupsLastError() < IPP_STATUS_ERROR_BAD_REQUEST)
			deliver_set(ctx, DELIVER_RETRY, "the printer closed the connection without "
				    "answering the print request");
		else
			ipp_set_failure(conn, "the job", cupsLastError());
		return 0;
	}
	ipp_status_t status = ippGetStatusCode(response);
	ipp_attribute_t *id = ippFindAttribute(response, "job-id", IPP_TAG_INTEGER);
	int job_id = id != NULL ? ippGetInteger(id, 0) : 0;
	ippDelete(response);
	if (status >= IPP_STATUS_ERROR_BAD_REQUEST) {
		ipp_set_failure(conn, "the job", status);
		return 0;
	}
	if (job_id <= 0) {
		deliver_set(ctx, DELIVER_DONE, "the printer took the job without a job-id; not "
			    "followed");
		return 0;
	}
	return job_id;
}

void deliver_ipp_send(deliver_ctx_t *ctx)
{
	bool is_ipps = ctx->uri.scheme == DELIVER_SCHEME_IPPS;
	ipp_conn_t conn = {.ctx = ctx};
	/* msec 0 creates the connection object without connecting, so that a failed connect
	 * can be read from httpError() before the object is gone. */
	conn.http = httpConnect2(ctx->uri.host, ctx->uri.port, NULL, AF_UNSPEC,
				 is_ipps ? HTTP_ENCRYPTION_ALWAYS : HTTP_ENCRYPTION_IF_REQUESTED, 1, 0,
				 NULL);
	if (conn.http == NULL) {
		deliver_set(ctx, DELIVER_RETRY, "cannot find printer host %s (check the name and "
			    "the DNS)", ctx->uri.host);
		return;
	}
	if (httpReconnect2(conn.http, (int)ctx->connect_timeout_s * 1000, NULL) != 0) {
		/* A TLS failure is reported by libcups. The saved errno of a TCP failure is not
		 * always the connect's own (libcups closes sockets after it), so only the
		 * errors that connect itself gives are named. */
		int connect_errno = httpError(conn.http);
		bool is_connect_errno = connect_errno == ECONNREFUSED ||
					connect_errno == EHOSTUNREACH ||
					connect_errno == ENETUNREACH || connect_errno == ETIMEDOUT;
		char why[160];
		if (is_ipps && cupsLastError() == IPP_STATUS_ERROR_CUPS_PKI)
			deliver_ascii_line(cupsLastErrorString(), NULL, why, sizeof(why));
		else if (deliver_elapsed_ms(ctx) >= (int64_t)ctx->connect_timeout_s * 1000)
			str_format(why, sizeof(why), "no answer within %u s", ctx->connect_timeout_s);
		else
			str_copy(why, sizeof(why), is_connect_errno ? strerror(connect_errno)
					: "connection refused or host unreachable");
		deliver_set(ctx, DELIVER_RETRY, "cannot connect to %s port %d: %s (check that the "
			    "printer is on and reachable)", ctx->uri.host, ctx->uri.port, why);
		httpClose(conn.http);
		return;
	}
	httpSetTimeout(conn.http, 1.0, ipp_timeout_cb, &conn);
	if (is_ipps && deliver_tls_check(ctx, conn.http) != 0) {
		httpClose(conn.http);
		return;
	}
	int job_id = ipp_print_job(&conn);
	if (job_id > 0) {
		ctx->result->printer_job_id = job_id;
		ipp_follow(&conn, job_id);
	}
	httpClose(conn.http);
}
