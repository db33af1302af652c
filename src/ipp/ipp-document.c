/*
 * ipp-document.c - the operations that carry or announce a document: Print-Job, Validate-Job,
 * Create-Job and Send-Document. Their checks before any byte is kept (format, sender policy,
 * job template, job-password; for Send-Document the caller's incoming job), the stream into
 * the spool writer, typing and sealing the file, and handing it to intake. The exchange
 * itself (parsing, authentication, answering) is ipp-service.c's.
 */
#include "ipp/ipp-exchange.h"

#include "core/intake.h"
#include "core/sender-policy.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>
#include <strings.h>

static bool ipp_document_check_template(pp_http_request_t *req, ipp_exchange_t *x);

/*
 * Send-Document: keeps the incoming job from expiring while its document arrives (a large
 * upload may outlast multiple-operation-time-out), at most once a minute.
 */
static void ipp_document_keep_incoming(ipp_exchange_t *x)
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
int ipp_document_write(pp_http_request_t *req, ipp_exchange_t *x, const uint8_t *data,
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
		ipp_document_keep_incoming(x);
		return 0;
	}
	spool_writer_abort(&x->writer);
	if (rc == SPOOL_TOO_LARGE) {
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_REQUEST_ENTITY,
				  "The document is larger than this server accepts.", 413);
		return -1;
	}
	log_error("ipp.spool_write_failed error=\"%s\"", error);
	ipp_exchange_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored.", 200);
	return -1;
}
/* document-format and compression (Print-Job, Validate-Job, Create-Job, Send-Document). */
static bool ipp_document_check_format(pp_http_request_t *req, ipp_exchange_t *x)
{
	ipp_attribute_t *format = ippFindAttribute(x->request, "document-format", IPP_TAG_ZERO);
	if (format != NULL &&
	    (ippGetValueTag(format) != IPP_TAG_MIMETYPE || ippGetCount(format) != 1 ||
	     !ipp_format_is_supported(ippGetString(format, 0, NULL)))) {
		ipp_attribute_t *copy = ippCopyAttribute(x->response, format, 0);
		(void)ippSetGroupTag(x->response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
				  "This document format is not supported.", 200);
		return false;
	}
	ipp_attribute_t *compression = ippFindAttribute(x->request, "compression", IPP_TAG_ZERO);
	if (compression != NULL && (ippGetCount(compression) != 1 || ippGetString(compression, 0, NULL) == NULL ||
				    strcmp(ippGetString(compression, 0, NULL), "none") != 0)) {
		ipp_attribute_t *copy = ippCopyAttribute(x->response, compression, 0);
		(void)ippSetGroupTag(x->response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_COMPRESSION_NOT_SUPPORTED,
				  "Only uncompressed documents are accepted.", 200);
		return false;
	}
	return true;
}
/*
 * Print-Job / Validate-Job / Create-Job checks before any document byte is kept: format,
 * compression, sender policy, the job template and the job-password. Returns false after
 * answering.
 */
static bool ipp_document_check_job(pp_http_request_t *req, ipp_exchange_t *x)
{
	if (!ipp_document_check_format(req, x))
		return false;
	/* A user mapped from requesting-user-name was decided on by ipp_auth_resolve() already. */
	if (x->auth.via == IPP_VIA_FORWARDER || x->auth.via == IPP_VIA_TRUSTED_NETWORK)
		return ipp_document_check_template(req, x);
	pp_sender_result_t policy;
	char error[512];
	if (sender_policy_decide(x->svc->core, x->auth.user.email, "ipp", &policy, error, sizeof(error)) < 0) {
		log_error("ipp.policy_failed error=\"%s\"", error);
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				  "The server cannot decide now; try again.", 200);
		return false;
	}
	if (policy.decision == PP_SENDER_REJECT) {
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
				  "Your address may not send documents here.", 200);
		return false;
	}
	return ipp_document_check_template(req, x);
}
/* The job template and job-password. Returns false after answering. */
static bool ipp_document_check_template(pp_http_request_t *req, ipp_exchange_t *x)
{
	x->opts_status = ipp_options_parse(x->request, &x->opts, x->response);
	if (x->opts_status != IPP_STATUS_OK && x->opts_status != IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED) {
		ipp_exchange_fail(req, x, x->opts_status,
				  "Some job attributes or values are not supported.", 200);
		return false;
	}
	ipp_status_t pin_status = ipp_options_job_password(x->request, x->response, x->pin,
							   sizeof(x->pin));
	if (pin_status != IPP_STATUS_OK) {
		ipp_exchange_fail(req, x, pin_status,
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
static bool ipp_document_check_send(pp_http_request_t *req, ipp_exchange_t *x)
{
	ipp_op_ctx_t ctx = ipp_exchange_ctx(x);
	pp_job_t job;
	if (!ipp_job_load(&ctx, &job)) {
		ipp_exchange_send(req, x->response, 200);
		return false;
	}
	ipp_attribute_t *last = ippFindAttribute(x->request, "last-document", IPP_TAG_ZERO);
	if (last == NULL || ippGetGroupTag(last) != IPP_TAG_OPERATION ||
	    ippGetValueTag(last) != IPP_TAG_BOOLEAN || ippGetCount(last) != 1) {
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST,
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
			ipp_exchange_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
					  "The job store is not answering; try again.", 200);
			return false;
		}
		has_document = count > 0;
		job_documents_free(&docs);
	}
	const char *message = NULL;
	ipp_status_t status = ipp_job_send_document_check(&job, has_document, &message);
	if (status != IPP_STATUS_OK) {
		ipp_exchange_fail(req, x, status, message, 200);
		return false;
	}
	if (!ipp_document_check_format(req, x))
		return false;
	x->send_job_id = job.id;
	x->is_last = ippGetBoolean(last, 0) != 0;
	ipp_document_keep_incoming(x);
	return true;
}
/*
 * After the last document byte: refuses an empty document, types it (document-format, or
 * sniffed for application/octet-stream), seals the document (*stored_r: a spool file, or a
 * small one's bytes for the job's transaction). Returns the format (borrowed from the request
 * or static), or NULL after answering.
 */
static const char *ipp_document_seal(pp_http_request_t *req, ipp_exchange_t *x,
				    pp_spool_doc_t *stored_r)
{
	if (x->doc_bytes == 0) {
		spool_writer_abort(&x->writer);
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST, "The document is empty.", 200);
		return NULL;
	}
	const char *format = ipp_request_string(x->request, "document-format");
	if (format == NULL || strcasecmp(format, "application/octet-stream") == 0) {
		format = doctype_sniff(x->head, x->head_len);
		if (format == NULL) {
			spool_writer_abort(&x->writer);
			ipp_exchange_fail(req, x, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
					  "The document's format was not recognised.", 200);
			return NULL;
		}
	}
	char error[512];
	if (spool_writer_finish_small(&x->writer, stored_r, error, sizeof(error)) < 0) {
		log_error("ipp.spool_finish_failed error=\"%s\"", error);
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored.", 200);
		return NULL;
	}
	return format;
}
/* Print-Job after the last byte: seal the file, type it, commit the job, answer. */
void ipp_document_print_job(pp_http_request_t *req, ipp_exchange_t *x)
{
	char error[512];
	pp_spool_doc_t sealed;
	const char *format = ipp_document_seal(req, x, &sealed);
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
	if (intake_store_spooled(x->svc->core, &doc, &sealed, &stored, error, sizeof(error)) < 0) {
		log_error("ipp.intake_failed error=\"%s\"", error);
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				  "The job could not be stored now; try again.", 200);
		return;
	}
	log_info("ipp.job_received job=%lld size=%lld format=%s via=%s pin=%s",
		 (long long)stored.job_id, (long long)stored.size_bytes, format,
		 ipp_via_name(x->auth.via), doc.pin != NULL ? "yes" : "no");
	ipp_op_ctx_t ctx = ipp_exchange_ctx(x);
	ipp_job_add_created(&ctx, stored.job_id, stored.state);
	ipp_response_status(x->response, x->opts_status, NULL);
	ipp_exchange_send(req, x->response, 200);
}
/*
 * Send-Document after the last byte: with data, the document is sealed and attached to the
 * incoming job (which moves on to received with last-document true); without data and
 * last-document true, the job is closed as Close-Job would; without either, bad-request.
 */
void ipp_document_send_document(pp_http_request_t *req, ipp_exchange_t *x)
{
	pp_core_t *core = x->svc->core;
	ipp_op_ctx_t ctx = ipp_exchange_ctx(x);
	char error[512];
	int rc;
	pp_job_state_t state = PP_JOB_INCOMING;
	if (x->doc_bytes == 0 && x->is_last) {
		spool_writer_abort(&x->writer);
		rc = intake_close_incoming(core, x->send_job_id, x->auth.user.id, &state, error,
					   sizeof(error));
		if (rc == JOB_OK)
			log_info("ipp.job_closed job=%lld state=%s", (long long)x->send_job_id,
				 job_state_name(state));
	} else {
		if (x->doc_bytes == 0) {
			spool_writer_abort(&x->writer);
			ipp_exchange_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST,
					  "The document is empty: send its data, or last-document "
					  "true to close the job.", 200);
			return;
		}
		pp_spool_doc_t sealed;
		const char *format = ipp_document_seal(req, x, &sealed);
		if (format == NULL)
			return;
		uint64_t size = sealed.size;
		/* From here the document belongs to intake, whatever the result. */
		rc = intake_attach_spooled(core, x->send_job_id, x->auth.user.id, &sealed,
					   ipp_request_string(x->request, "document-name"), format,
					   x->is_last, &state, error, sizeof(error));
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
		ipp_exchange_fail(req, x, status, message, 200);
		return;
	}
	ipp_job_add_created(&ctx, x->send_job_id, state);
	ipp_response_status(x->response, IPP_STATUS_OK, NULL);
	ipp_exchange_send(req, x->response, 200);
}
/* Create-Job: refused when document data came with it (nothing is created then). */
void ipp_document_create_job(pp_http_request_t *req, ipp_exchange_t *x)
{
	if (x->extra_bytes > 0) {
		/* A client that sends its document with Create-Job would otherwise get a job
		 * that silently expires empty: say so instead, and create nothing. */
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_BAD_REQUEST,
				  "Create-Job carries no document: send it with Send-Document, or "
				  "use Print-Job.", 200);
		return;
	}
	ipp_op_ctx_t ctx = ipp_exchange_ctx(x);
	ipp_op_create_job(&ctx);
	ipp_exchange_send(req, x->response, 200);
}

int ipp_document_begin(pp_http_request_t *req, ipp_exchange_t *x, ipp_op_t op,
		       const uint8_t *rest, size_t rest_len)
{
	char error[256];
	switch (op) {
	case IPP_OP_PRINT_JOB:
		if (!ipp_document_check_job(req, x))
			return -1;
		break;
	case IPP_OP_VALIDATE_JOB:
	case IPP_OP_CREATE_JOB:
		if (!ipp_document_check_job(req, x))
			return -1;
		x->extra_bytes += rest_len;
		return 0;
	case IPP_OP_SEND_DOCUMENT:
		if (!ipp_document_check_send(req, x))
			return -1;
		break;
	default:
		x->extra_bytes += rest_len;
		return 0;
	}
	if (spool_writer_open(x->svc->core->spool, &x->writer, error, sizeof(error)) < 0) {
		log_error("ipp.spool_open_failed error=\"%s\"", error);
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "The document cannot be stored now.", 200);
		return -1;
	}
	return ipp_document_write(req, x, rest, rest_len);
}
