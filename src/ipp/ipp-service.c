/*
 * ipp-service.c - the /ipp/print route (and /ipp/print/u/<token>, the personal printer
 * URIs): the body arrives chunk by chunk; the IPP header and attribute groups are buffered
 * (at most IPP_ATTRS_MAX) and parsed, the operation is checked and authenticated, and
 * document data that follows (Print-Job, Send-Document) streams into a spool writer. The job
 * (or the document of a Create-Job job) is committed before the successful response is made;
 * a request that fails or a client that leaves aborts the writer, so no file and no row
 * remain: a Create-Job job whose Send-Document breaks off stays incoming and expires after
 * multiple-operation-time-out.
 */
#include "ipp/ipp-private.h"

#include "core/intake.h"
#include "core/sender-policy.h"
#include "lib/log.h"
#include "lib/str.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One request's state, attached to the HTTP request. */
typedef struct {
	pp_ipp_service_t *svc;
	uint8_t *buf; /* header + attributes until parsed */
	size_t len;
	size_t cap;
	ipp_t *request;
	ipp_t *response;
	bool is_parsed;
	ipp_auth_t auth; /* step 1 at the headers, step 2 (resolve) after the parse */
	pp_spool_writer_t *writer; /* Print-Job, Send-Document: the document on its way */
	uint64_t doc_bytes;
	uint64_t extra_bytes; /* bytes after the attributes of an operation without a document */
	int64_t send_job_id;  /* Send-Document: the incoming job */
	int64_t kept_at;      /* Send-Document: when its expiry was last pushed on (Unix s) */
	bool is_last;         /* Send-Document: last-document */
	char pin[JOB_PIN_MAX]; /* job-password; "" when none. Wiped, never logged */
	uint8_t head[DOCTYPE_SNIFF_MAX];
	size_t head_len;
	pp_print_options_t opts;
	ipp_status_t opts_status;
	char printer_uri[IPP_URI_MAX];  /* ipp(s)://host/ipp/print */
	char personal_uri[IPP_URI_MAX]; /* ipp(s)://host/ipp/print/u/<token>, or "" */
} ipp_exchange_t;

static void ipp_exchange_free(void *data)
{
	ipp_exchange_t *x = data;
	if (x == NULL)
		return;
	spool_writer_abort(&x->writer);
	ippDelete(x->request);
	ippDelete(x->response);
	free(x->buf);
	sodium_memzero(&x->auth, sizeof(x->auth));
	sodium_memzero(x->pin, sizeof(x->pin));
	sodium_memzero(x->personal_uri, sizeof(x->personal_uri));
	free(x);
}

/* ippWriteIO's sink: a growing buffer. */
typedef struct {
	uint8_t *data;
	size_t len;
	size_t cap;
} ipp_sink_t;

static ssize_t ipp_sink_write(void *ctx, ipp_uchar_t *buf, size_t size)
{
	ipp_sink_t *s = ctx;
	if (s->cap - s->len < size) {
		size_t cap = s->cap == 0 ? 4096 : s->cap;
		while (cap - s->len < size)
			cap *= 2;
		uint8_t *data = realloc(s->data, cap);
		if (data == NULL)
			return -1;
		s->data = data;
		s->cap = cap;
	}
	memcpy(s->data + s->len, buf, size);
	s->len += size;
	return (ssize_t)size;
}

/* Sends response as application/ipp with http_status. */
static void ipp_service_send(pp_http_request_t *req, ipp_t *response, unsigned http_status)
{
	ipp_sink_t sink = {0};
	ippSetState(response, IPP_STATE_IDLE);
	if (ippWriteIO(&sink, ipp_sink_write, 1, NULL, response) != IPP_STATE_DATA) {
		free(sink.data);
		(void)http_respond_error(req, 500, "ipp_encode", "The IPP response could not be made.");
		return;
	}
	(void)http_respond_bytes(req, http_status, "application/ipp", sink.data, sink.len);
	free(sink.data);
}

/*
 * Answers with status: on the request's own response when there is one, else a bare one
 * (version 2.0 or 1.1, the request-id from the raw header when it arrived).
 */
static void ipp_service_fail(pp_http_request_t *req, ipp_exchange_t *x, ipp_status_t status,
			     const char *message, unsigned http_status)
{
	ipp_t *response = x->response;
	if (response == NULL) {
		response = x->request != NULL ? ippNewResponse(x->request) : ippNew();
		if (response == NULL) {
			(void)http_respond_error(req, 500, "internal", "Out of memory.");
			return;
		}
		if (x->request == NULL) {
			int request_id = 1;
			if (x->len >= 8)
				request_id = (int)(((uint32_t)x->buf[4] << 24 | (uint32_t)x->buf[5] << 16 |
						    (uint32_t)x->buf[6] << 8 | x->buf[7]) & INT32_MAX);
			ippSetRequestId(response, request_id > 0 ? request_id : 1);
			(void)ippAddString(response, IPP_TAG_OPERATION, IPP_TAG_CHARSET,
					   "attributes-charset", NULL, "utf-8");
			(void)ippAddString(response, IPP_TAG_OPERATION, IPP_TAG_LANGUAGE,
					   "attributes-natural-language", NULL, "en");
		}
		x->response = response;
	}
	if (status == IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED)
		ippSetVersion(response, 1, 1);
	ipp_response_status(response, status, message);
	ipp_service_send(req, response, http_status);
}

/* Answers HTTP 404 for a personal printer URI whose token is unknown or revoked. */
static void ipp_service_bad_uri(pp_http_request_t *req)
{
	(void)http_respond_error(req, 404, "printer_uri_revoked",
				 "This printer address is not valid any more; get a new one from "
				 "the portal");
}

/* Answers 401 with the Basic challenge (and Retry-After while locked out). */
static void ipp_service_challenge(pp_http_request_t *req, ipp_exchange_t *x, int64_t retry_after)
{
	(void)http_response_header(req, "WWW-Authenticate", "Basic realm=\"Pullprint\"");
	char value[32];
	if (retry_after > 0 && str_format(value, sizeof(value), "%lld", (long long)retry_after))
		(void)http_response_header(req, "Retry-After", value);
	if (x->request == NULL) {
		(void)http_respond_bytes(req, 401, "text/plain", "Authentication required.\n", 25);
		return;
	}
	ipp_service_fail(req, x, IPP_STATUS_ERROR_NOT_AUTHENTICATED,
			 "Sign in with your email address and confirmation code.", 401);
}

/* The context of a job operation: the personal URI when the request came through one. */
static ipp_op_ctx_t ipp_service_ctx(ipp_exchange_t *x)
{
	return (ipp_op_ctx_t){.svc = x->svc,
			      .request = x->request,
			      .response = x->response,
			      .user = &x->auth.user,
			      .via = x->auth.via,
			      .printer_uri = x->personal_uri[0] != '\0' ? x->personal_uri
									: x->printer_uri,
			      .opts = &x->opts,
			      .opts_status = x->opts_status,
			      .pin = x->pin[0] != '\0' ? x->pin : NULL};
}

/*
 * The printer URI as the client reached us: scheme by transport, host from Host; and, for a
 * request under IPP_SERVICE_USER_PATH whose token part is plain (letters, digits, '_'), the
 * personal URI into personal[IPP_URI_MAX] ("" otherwise).
 */
static void ipp_service_printer_uri(pp_http_request_t *req, char out[IPP_URI_MAX],
				    char personal[IPP_URI_MAX])
{
	const char *host = http_request_header(req, "Host");
	bool is_clean = host != NULL && host[0] != '\0' && strlen(host) < 256;
	for (const char *p = host; is_clean && *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".-:[]", *p) != NULL))
			is_clean = false;
	}
	if (!str_format(out, IPP_URI_MAX, "%s://%s%s", http_request_is_tls(req) ? "ipps" : "ipp",
			is_clean ? host : "localhost", IPP_SERVICE_PATH))
		(void)str_copy(out, IPP_URI_MAX, "ipps://localhost" IPP_SERVICE_PATH);
	personal[0] = '\0';
	const char *path = http_request_path(req);
	if (strncmp(path, IPP_SERVICE_USER_PATH, strlen(IPP_SERVICE_USER_PATH)) != 0)
		return;
	const char *token = path + strlen(IPP_SERVICE_USER_PATH);
	size_t len = strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (len == 0 || len > 128 || token[len] != '\0' ||
	    !str_format(personal, IPP_URI_MAX, "%s/u/%s", out, token))
		personal[0] = '\0';
}

/* Counts jobs that are not finished, for queued-job-count. */
static int ipp_service_queued(pp_core_t *core)
{
	pp_db_result_t *result = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(core->db,
		     "SELECT COUNT(*) FROM jobs WHERE state IN "
		     "('incoming','received','converting','held','releasing','printing')",
		     NULL, 0, &result, error, sizeof(error)) != DB_OK) {
		log_warn("ipp.queued_count_failed error=\"%s\"", error);
		return 0;
	}
	int64_t n = db_result_rows(result) > 0 ? db_result_int(result, 0, 0) : 0;
	db_result_free(&result);
	return (int)(n > INT32_MAX ? INT32_MAX : n);
}

/*
 * Send-Document: keeps the incoming job from expiring while its document arrives (a large
 * upload may outlast multiple-operation-time-out), at most once a minute.
 */
static void ipp_service_keep_incoming(ipp_exchange_t *x)
{
	pp_core_t *core = x->svc->core;
	int64_t now = core_now(core);
	if (x->send_job_id == 0 || (x->kept_at != 0 && now - x->kept_at < 60))
		return;
	x->kept_at = now;
	char error[DB_ERROR_MAX];
	if (intake_keep_incoming(core, x->send_job_id, x->auth.user.id,
				 IPP_MULTIPLE_OPERATION_TIMEOUT, error, sizeof(error)) == JOB_ERROR)
		log_warn("ipp.keep_incoming_failed job=%lld error=\"%s\"", (long long)x->send_job_id,
			 error);
}

/* Passes document bytes to the writer, keeping the first DOCTYPE_SNIFF_MAX for sniffing. */
static int ipp_service_write(pp_http_request_t *req, ipp_exchange_t *x, const uint8_t *data,
			     size_t len)
{
	if (len == 0)
		return 0;
	if (x->head_len < DOCTYPE_SNIFF_MAX) {
		size_t n = DOCTYPE_SNIFF_MAX - x->head_len < len ? DOCTYPE_SNIFF_MAX - x->head_len : len;
		memcpy(x->head + x->head_len, data, n);
		x->head_len += n;
	}
	char error[256];
	int rc = spool_writer_write(x->writer, data, len, error, sizeof(error));
	if (rc == 0) {
		x->doc_bytes += len;
		ipp_service_keep_incoming(x);
		return 0;
	}
	spool_writer_abort(&x->writer);
	if (rc == SPOOL_TOO_LARGE) {
		ipp_service_fail(req, x, IPP_STATUS_ERROR_REQUEST_ENTITY,
				 "The document is larger than this server accepts.", 413);
		return -1;
	}
	log_error("ipp.spool_write_failed error=\"%s\"", error);
	ipp_service_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored.", 200);
	return -1;
}

/* document-format and compression (Print-Job, Validate-Job, Create-Job, Send-Document). */
static bool ipp_service_check_format(pp_http_request_t *req, ipp_exchange_t *x)
{
	ipp_attribute_t *format = ippFindAttribute(x->request, "document-format", IPP_TAG_ZERO);
	if (format != NULL &&
	    (ippGetValueTag(format) != IPP_TAG_MIMETYPE || ippGetCount(format) != 1 ||
	     !ipp_format_is_supported(ippGetString(format, 0, NULL)))) {
		ipp_attribute_t *copy = ippCopyAttribute(x->response, format, 0);
		(void)ippSetGroupTag(x->response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
		ipp_service_fail(req, x, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
				 "This document format is not supported.", 200);
		return false;
	}
	ipp_attribute_t *compression = ippFindAttribute(x->request, "compression", IPP_TAG_ZERO);
	if (compression != NULL && (ippGetCount(compression) != 1 || ippGetString(compression, 0, NULL) == NULL ||
				    strcmp(ippGetString(compression, 0, NULL), "none") != 0)) {
		ipp_attribute_t *copy = ippCopyAttribute(x->response, compression, 0);
		(void)ippSetGroupTag(x->response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
		ipp_service_fail(req, x, IPP_STATUS_ERROR_COMPRESSION_NOT_SUPPORTED,
				 "Only uncompressed documents are accepted.", 200);
		return false;
	}
	return true;
}

static bool ipp_service_check_template(pp_http_request_t *req, ipp_exchange_t *x);

/*
 * Print-Job / Validate-Job / Create-Job checks before any document byte is kept: format,
 * compression, sender policy, the job template and the job-password. Returns false after
 * answering.
 */
static bool ipp_service_check_job(pp_http_request_t *req, ipp_exchange_t *x)
{
	if (!ipp_service_check_format(req, x))
		return false;
	/* A user mapped from requesting-user-name was decided on by ipp_auth_resolve() already. */
	if (x->auth.via == IPP_VIA_FORWARDER || x->auth.via == IPP_VIA_TRUSTED_NETWORK)
		return ipp_service_check_template(req, x);
	pp_sender_result_t policy;
	char error[512];
	if (sender_policy_decide(x->svc->core, x->auth.user.email, "ipp", &policy, error, sizeof(error)) < 0) {
		log_error("ipp.policy_failed error=\"%s\"", error);
		ipp_service_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				 "The server cannot decide now; try again.", 200);
		return false;
	}
	if (policy.decision == PP_SENDER_REJECT) {
		ipp_service_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
				 "Your address may not send documents here.", 200);
		return false;
	}
	return ipp_service_check_template(req, x);
}

/* The job template and job-password. Returns false after answering. */
static bool ipp_service_check_template(pp_http_request_t *req, ipp_exchange_t *x)
{
	x->opts_status = ipp_options_parse(x->request, &x->opts, x->response);
	if (x->opts_status != IPP_STATUS_OK && x->opts_status != IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED) {
		ipp_service_fail(req, x, x->opts_status,
				 "Some job attributes or values are not supported.", 200);
		return false;
	}
	ipp_status_t pin_status = ipp_options_job_password(x->request, x->response, x->pin,
							   sizeof(x->pin));
	if (pin_status != IPP_STATUS_OK) {
		ipp_service_fail(req, x, pin_status,
				 "job-password: up to 8 digits, job-password-encryption none.", 200);
		return false;
	}
	return true;
}

/*
 * Send-Document checks before any document byte is kept: the caller's job, incoming and
 * without its document, last-document present, format and compression. Returns false after
 * answering.
 */
static bool ipp_service_check_send(pp_http_request_t *req, ipp_exchange_t *x)
{
	ipp_op_ctx_t ctx = ipp_service_ctx(x);
	pp_job_t job;
	if (!ipp_job_load(&ctx, &job)) {
		ipp_service_send(req, x->response, 200);
		return false;
	}
	ipp_attribute_t *last = ippFindAttribute(x->request, "last-document", IPP_TAG_ZERO);
	if (last == NULL || ippGetGroupTag(last) != IPP_TAG_OPERATION ||
	    ippGetValueTag(last) != IPP_TAG_BOOLEAN || ippGetCount(last) != 1) {
		ipp_service_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST,
				 "last-document (true or false) is required.", 200);
		return false;
	}
	bool has_document = false;
	if (job.state == PP_JOB_INCOMING) {
		pp_document_t *docs = NULL;
		size_t count = 0;
		char error[512];
		if (job_documents(x->svc->core, job.id, &docs, &count, error, sizeof(error)) < 0) {
			log_error("ipp.job_documents_failed job=%lld error=\"%s\"", (long long)job.id,
				  error);
			ipp_service_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
					 "The job store is not answering; try again.", 200);
			return false;
		}
		has_document = count > 0;
		job_documents_free(&docs);
	}
	const char *message = NULL;
	ipp_status_t status = ipp_job_send_document_check(&job, has_document, &message);
	if (status != IPP_STATUS_OK) {
		ipp_service_fail(req, x, status, message, 200);
		return false;
	}
	if (!ipp_service_check_format(req, x))
		return false;
	x->send_job_id = job.id;
	x->is_last = ippGetBoolean(last, 0) != 0;
	ipp_service_keep_incoming(x);
	return true;
}

/*
 * Runs once the attributes are parsed: checks, authentication, and for Print-Job the spool
 * writer with the bytes that came after the attributes. Returns 0, or -1 after answering.
 */
static int ipp_service_begin(pp_http_request_t *req, ipp_exchange_t *x, const uint8_t *rest,
			     size_t rest_len)
{
	char error[256];
	ipp_status_t status = ipp_request_check(x->request, error, sizeof(error));
	if (status != IPP_STATUS_OK) {
		ipp_service_fail(req, x, status, error, 200);
		return -1;
	}
	x->response = ippNewResponse(x->request);
	if (x->response == NULL) {
		ipp_service_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "Out of memory.", 500);
		return -1;
	}
	ipp_op_t op = ippGetOperation(x->request);
	if (x->auth.result == IPP_AUTH_NEED_TLS) {
		/* Credentials or a printer token over plain HTTP: even printer attributes are
		 * refused, so the client is set up with ipps:// instead. */
		ipp_service_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
				 "Use ipps:// (TLS) to print here.", 200);
		return -1;
	}
	if (op == IPP_OP_GET_PRINTER_ATTRIBUTES)
		return 0;
	/* Everything else acts for a person: a forwarder or trusted network names them now. */
	switch (ipp_auth_resolve(x->svc->core, req, x->request, &x->auth)) {
	case IPP_AUTH_OK:
		break;
	case IPP_AUTH_ERROR:
		ipp_service_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				 "The server cannot check who you are now; try again.", 200);
		return -1;
	case IPP_AUTH_NEED_TLS:
		ipp_service_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
				 "Use ipps:// (TLS) to print here.", 200);
		return -1;
	case IPP_AUTH_BAD_URI:
		ipp_service_bad_uri(req);
		return -1;
	case IPP_AUTH_NONE:
		if (!http_request_is_tls(req)) {
			ipp_service_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
					 "Use ipps:// (TLS) to print here.", 200);
			return -1;
		}
		ipp_service_challenge(req, x, 0);
		return -1;
	case IPP_AUTH_DENIED:
		if (x->auth.via == IPP_VIA_FORWARDER || x->auth.via == IPP_VIA_TRUSTED_NETWORK) {
			ipp_service_fail(req, x, IPP_STATUS_ERROR_NOT_AUTHORIZED,
					 "This user may not print here.", 200);
			return -1;
		}
		ipp_service_challenge(req, x, x->auth.retry_after);
		return -1;
	}
	if (x->auth.result != IPP_AUTH_OK || x->auth.user.id <= 0) {
		/* Never act without a user, whatever step 2 said. */
		ipp_service_challenge(req, x, 0);
		return -1;
	}
	switch (op) {
	case IPP_OP_PRINT_JOB:
		if (!ipp_service_check_job(req, x))
			return -1;
		break;
	case IPP_OP_VALIDATE_JOB:
	case IPP_OP_CREATE_JOB:
		if (!ipp_service_check_job(req, x))
			return -1;
		x->extra_bytes += rest_len;
		return 0;
	case IPP_OP_SEND_DOCUMENT:
		if (!ipp_service_check_send(req, x))
			return -1;
		break;
	default:
		x->extra_bytes += rest_len;
		return 0;
	}
	if (spool_writer_open(x->svc->core->spool, &x->writer, error, sizeof(error)) < 0) {
		log_error("ipp.spool_open_failed error=\"%s\"", error);
		ipp_service_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "The document cannot be stored now.", 200);
		return -1;
	}
	return ipp_service_write(req, x, rest, rest_len);
}

/*
 * After the last document byte: refuses an empty document, types it (document-format, or
 * sniffed for application/octet-stream), seals the spool file (file_id, size_r). Returns
 * the format (borrowed from the request or static), or NULL after answering.
 */
static const char *ipp_service_seal(pp_http_request_t *req, ipp_exchange_t *x,
				    char file_id[SPOOL_ID_LEN + 1], uint64_t *size_r)
{
	if (x->doc_bytes == 0) {
		spool_writer_abort(&x->writer);
		ipp_service_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST, "The document is empty.", 200);
		return NULL;
	}
	const char *format = ipp_request_string(x->request, "document-format");
	if (format == NULL || strcasecmp(format, "application/octet-stream") == 0) {
		format = doctype_sniff(x->head, x->head_len);
		if (format == NULL) {
			spool_writer_abort(&x->writer);
			ipp_service_fail(req, x, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
					 "The document's format was not recognised.", 200);
			return NULL;
		}
	}
	char error[512];
	if (spool_writer_finish(&x->writer, file_id, size_r, error, sizeof(error)) < 0) {
		log_error("ipp.spool_finish_failed error=\"%s\"", error);
		ipp_service_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored.", 200);
		return NULL;
	}
	return format;
}

/* Print-Job after the last byte: seal the file, type it, commit the job, answer. */
static void ipp_service_print_job(pp_http_request_t *req, ipp_exchange_t *x)
{
	char error[512], file_id[SPOOL_ID_LEN + 1];
	uint64_t size = 0;
	const char *format = ipp_service_seal(req, x, file_id, &size);
	if (format == NULL)
		return;
	const char *job_name = ipp_request_string(x->request, "job-name");
	const char *doc_name = ipp_request_string(x->request, "document-name");
	pp_intake_t doc = {.user_id = x->auth.user.id,
			   .source = "ipp",
			   .title = job_name != NULL ? job_name : doc_name,
			   .name = doc_name,
			   .content_type = format,
			   .options = &x->opts,
			   .pin = x->pin[0] != '\0' ? x->pin : NULL};
	pp_intake_result_t stored;
	if (intake_store_spooled(x->svc->core, &doc, file_id, (int64_t)size, &stored, error,
				 sizeof(error)) < 0) {
		log_error("ipp.intake_failed error=\"%s\"", error);
		ipp_service_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				 "The job could not be stored now; try again.", 200);
		return;
	}
	log_info("ipp.job_received job=%lld size=%lld format=%s via=%s pin=%s",
		 (long long)stored.job_id, (long long)stored.size_bytes, format,
		 ipp_via_name(x->auth.via), doc.pin != NULL ? "yes" : "no");
	ipp_op_ctx_t ctx = ipp_service_ctx(x);
	(void)ipp_job_add_created(&ctx, stored.job_id);
	ipp_response_status(x->response, x->opts_status, NULL);
	ipp_service_send(req, x->response, 200);
}

/*
 * Send-Document after the last byte: with data, the document is sealed and attached to the
 * incoming job (which moves on to received with last-document true); without data and
 * last-document true, the job is closed as Close-Job would; without either, bad-request.
 */
static void ipp_service_send_document(pp_http_request_t *req, ipp_exchange_t *x)
{
	pp_core_t *core = x->svc->core;
	ipp_op_ctx_t ctx = ipp_service_ctx(x);
	char error[512];
	int rc;
	if (x->doc_bytes == 0 && x->is_last) {
		spool_writer_abort(&x->writer);
		pp_job_state_t state = PP_JOB_INCOMING;
		rc = intake_close_incoming(core, x->send_job_id, x->auth.user.id, &state, error,
					   sizeof(error));
		if (rc == JOB_OK)
			log_info("ipp.job_closed job=%lld state=%s", (long long)x->send_job_id,
				 job_state_name(state));
	} else {
		if (x->doc_bytes == 0) {
			spool_writer_abort(&x->writer);
			ipp_service_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST,
					 "The document is empty: send its data, or last-document "
					 "true to close the job.", 200);
			return;
		}
		char file_id[SPOOL_ID_LEN + 1];
		uint64_t size = 0;
		const char *format = ipp_service_seal(req, x, file_id, &size);
		if (format == NULL)
			return;
		/* From here the file belongs to intake, whatever the result. */
		rc = intake_attach_spooled(core, x->send_job_id, x->auth.user.id, file_id,
					   (int64_t)size, ipp_request_string(x->request, "document-name"),
					   format, x->is_last, error, sizeof(error));
		if (rc == JOB_OK)
			log_info("ipp.document_received job=%lld size=%lld format=%s last=%s via=%s",
				 (long long)x->send_job_id, (long long)size, format,
				 x->is_last ? "yes" : "no", ipp_via_name(x->auth.via));
	}
	if (rc != JOB_OK) {
		const char *message = NULL;
		ipp_status_t status = ipp_job_intake_status(rc, &message);
		if (status == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE)
			log_error("ipp.send_document_failed job=%lld error=\"%s\"",
				  (long long)x->send_job_id, error);
		ipp_service_fail(req, x, status, message, 200);
		return;
	}
	(void)ipp_job_add_created(&ctx, x->send_job_id);
	ipp_response_status(x->response, IPP_STATUS_OK, NULL);
	ipp_service_send(req, x->response, 200);
}

/* Create-Job: refused when document data came with it (nothing is created then). */
static void ipp_service_create_job(pp_http_request_t *req, ipp_exchange_t *x)
{
	if (x->extra_bytes > 0) {
		/* A client that sends its document with Create-Job would otherwise get a job
		 * that silently expires empty: say so instead, and create nothing. */
		ipp_service_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST,
				 "Create-Job carries no document: send it with Send-Document, or "
				 "use Print-Job.", 200);
		return;
	}
	ipp_op_ctx_t ctx = ipp_service_ctx(x);
	ipp_op_create_job(&ctx);
	ipp_service_send(req, x->response, 200);
}

static int ipp_service_body(pp_http_request_t *req, const uint8_t *data, size_t len, void *arg)
{
	ipp_exchange_t *x = http_request_data(req);
	if (data == NULL) {
		/* Headers are in: check the type, then any credentials sent up front. */
		x = calloc(1, sizeof(*x));
		if (x == NULL) {
			(void)http_respond_error(req, 503, "busy", "Out of memory; try again.");
			return -1;
		}
		x->svc = arg;
		http_request_set_data(req, x, ipp_exchange_free);
		const char *type = http_request_header(req, "Content-Type");
		if (type == NULL || strncasecmp(type, "application/ipp", 15) != 0) {
			(void)http_respond_error(req, 400, "not_ipp",
						 "Send IPP requests as application/ipp.");
			return -1;
		}
		ipp_service_printer_uri(req, x->printer_uri, x->personal_uri);
		switch (ipp_auth_check(x->svc->core, req, &x->auth)) {
		case IPP_AUTH_NONE:
		case IPP_AUTH_OK:
		case IPP_AUTH_NEED_TLS: /* answered after the parse, as an IPP status */
			return 0;
		case IPP_AUTH_DENIED:
			ipp_service_challenge(req, x, x->auth.retry_after);
			return -1;
		case IPP_AUTH_ERROR:
			(void)http_response_header(req, "Retry-After", "5");
			(void)http_respond_error(req, 503, "unavailable", "Try again shortly.");
			return -1;
		case IPP_AUTH_BAD_URI:
			ipp_service_bad_uri(req);
			return -1;
		}
		return 0;
	}
	if (x->is_parsed) {
		/* Document bytes for Print-Job and Send-Document; after another operation they
		 * are counted (Create-Job refuses them) and dropped. */
		if (x->writer != NULL)
			return ipp_service_write(req, x, data, len);
		x->extra_bytes += len;
		return 0;
	}
	if (x->cap - x->len < len) {
		size_t cap = x->len + len;
		if (cap > IPP_ATTRS_MAX + len)
			cap = IPP_ATTRS_MAX + len;
		if (cap - x->len < len) {
			ipp_service_fail(req, x, IPP_STATUS_ERROR_REQUEST_ENTITY,
					 "The request's attributes are too large.", 413);
			return -1;
		}
		uint8_t *buf = realloc(x->buf, cap);
		if (buf == NULL) {
			(void)http_respond_error(req, 503, "busy", "Out of memory; try again.");
			return -1;
		}
		x->buf = buf;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, len);
	x->len += len;
	size_t used = 0;
	ipp_status_t status = IPP_STATUS_OK;
	char error[256];
	ipp_parse_result_t parsed = ipp_request_parse(x->buf, x->len, false, &x->request, &used,
						      &status, error, sizeof(error));
	if (parsed == IPP_PARSE_MORE)
		return 0;
	if (parsed == IPP_PARSE_ERROR) {
		ipp_service_fail(req, x, status, error,
				 status == IPP_STATUS_ERROR_REQUEST_ENTITY ? 413 : 200);
		return -1;
	}
	x->is_parsed = true;
	int rc = ipp_service_begin(req, x, x->buf + used, x->len - used);
	free(x->buf);
	x->buf = NULL;
	x->len = x->cap = 0;
	return rc;
}

static void ipp_service_handle(pp_http_request_t *req, void *arg)
{
	ipp_exchange_t *x = http_request_data(req);
	(void)arg;
	if (x == NULL) {
		(void)http_respond_error(req, 500, "internal", "The request was lost.");
		return;
	}
	if (!x->is_parsed) {
		/* The body ended: whatever is buffered must be a whole request now. */
		size_t used = 0;
		ipp_status_t status = IPP_STATUS_OK;
		char error[256];
		if (ipp_request_parse(x->buf, x->len, true, &x->request, &used, &status, error,
				      sizeof(error)) != IPP_PARSE_DONE) {
			ipp_service_fail(req, x, status, error, 200);
			return;
		}
		x->is_parsed = true;
		if (ipp_service_begin(req, x, x->buf + used, x->len - used) < 0)
			return;
	}
	ipp_op_ctx_t ctx = ipp_service_ctx(x);
	ipp_op_t op = ippGetOperation(x->request);
	/*
	 * A trusted network only lets a machine say who it submits for: listing or canceling
	 * everything of a user it names would let any machine there read others' job titles.
	 */
	if (x->auth.via == IPP_VIA_TRUSTED_NETWORK &&
	    (op == IPP_OP_GET_JOBS || op == IPP_OP_CANCEL_MY_JOBS)) {
		ipp_service_fail(req, x, IPP_STATUS_ERROR_NOT_AUTHORIZED,
				 "Sign in (ipps:// with your email address and code, or your "
				 "personal printer address) to list or cancel your jobs.",
				 200);
		return;
	}
	switch (op) {
	case IPP_OP_PRINT_JOB:
		ipp_service_print_job(req, x);
		return;
	case IPP_OP_SEND_DOCUMENT:
		ipp_service_send_document(req, x);
		return;
	case IPP_OP_CREATE_JOB:
		ipp_service_create_job(req, x);
		return;
	case IPP_OP_VALIDATE_JOB:
		ipp_response_status(x->response, x->opts_status, NULL);
		break;
	case IPP_OP_GET_PRINTER_ATTRIBUTES:
		ipp_printer_attrs_add_personal(x->svc, x->request, x->response, x->printer_uri,
					       x->personal_uri[0] != '\0' ? x->personal_uri : NULL,
					       ipp_service_queued(x->svc->core),
					       core_now(x->svc->core));
		ipp_response_status(x->response, IPP_STATUS_OK, NULL);
		break;
	case IPP_OP_GET_JOB_ATTRIBUTES:
		ipp_op_get_job_attributes(&ctx);
		break;
	case IPP_OP_GET_JOBS:
		ipp_op_get_jobs(&ctx);
		break;
	case IPP_OP_CANCEL_JOB:
		ipp_op_cancel_job(&ctx);
		break;
	case IPP_OP_CANCEL_MY_JOBS:
		ipp_op_cancel_my_jobs(&ctx);
		break;
	case IPP_OP_CLOSE_JOB:
		ipp_op_close_job(&ctx);
		break;
	case IPP_OP_IDENTIFY_PRINTER:
		ipp_op_identify_printer(&ctx);
		break;
	default:
		ipp_response_status(x->response, IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED, NULL);
		break;
	}
	ipp_service_send(req, x->response, 200);
}

int ipp_service_add(pp_http_server_t *http, pp_core_t *core, pp_ipp_service_t *svc,
		    char *error, size_t error_size)
{
	*svc = (pp_ipp_service_t){.core = core, .started_at = core_now(core)};
	ipp_printer_uuid(core, svc->printer_uuid);
	if (http_route(http, "POST", IPP_SERVICE_PATH, HTTP_ROUTE_STREAM_BODY, ipp_service_handle,
		       ipp_service_body, svc, error, error_size) < 0)
		return -1;
	/* Personal printer URIs: /ipp/print/u/<token>, the token checked by ipp_auth_check(). */
	return http_route(http, "POST", IPP_SERVICE_USER_PATH,
			  HTTP_ROUTE_PREFIX | HTTP_ROUTE_STREAM_BODY, ipp_service_handle,
			  ipp_service_body, svc, error, error_size);
}
