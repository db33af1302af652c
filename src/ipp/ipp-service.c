/*
 * ipp-service.c - the /ipp/print route (and /ipp/print/u/<token>, the personal printer
 * URIs): the body arrives chunk by chunk; the IPP header and attribute groups are buffered
 * (at most IPP_ATTRS_MAX) and parsed, the operation is checked and authenticated, and
 * document data that follows (Print-Job, Send-Document) streams into a spool writer
 * (ipp-document.c holds those operations). The job (or the document of a Create-Job job) is
 * committed before the successful response is made; a request that fails or a client that
 * leaves aborts the writer, so no file and no row remain: a Create-Job job whose
 * Send-Document breaks off stays incoming and expires after multiple-operation-time-out.
 */
#include "ipp/ipp-exchange.h"

#include "lib/log.h"
#include "lib/str.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
void ipp_exchange_send(pp_http_request_t *req, ipp_t *response, unsigned http_status)
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
void ipp_exchange_fail(pp_http_request_t *req, ipp_exchange_t *x, ipp_status_t status,
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
	ipp_exchange_send(req, response, http_status);
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
	ipp_exchange_fail(req, x, IPP_STATUS_ERROR_NOT_AUTHENTICATED,
			  "Sign in with your email address and confirmation code.", 401);
}

/* The context of a job operation: the personal URI when the request came through one. */
ipp_op_ctx_t ipp_exchange_ctx(ipp_exchange_t *x)
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
		ipp_exchange_fail(req, x, status, error, 200);
		return -1;
	}
	x->response = ippNewResponse(x->request);
	if (x->response == NULL) {
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_INTERNAL, "Out of memory.", 500);
		return -1;
	}
	ipp_op_t op = ippGetOperation(x->request);
	if (x->auth.result == IPP_AUTH_NEED_TLS) {
		/* Credentials or a printer token over plain HTTP: even printer attributes are
		 * refused, so the client is set up with ipps:// instead. */
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
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
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
				  "The server cannot check who you are now; try again.", 200);
		return -1;
	case IPP_AUTH_NEED_TLS:
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
				  "Use ipps:// (TLS) to print here.", 200);
		return -1;
	case IPP_AUTH_BAD_URI:
		ipp_service_bad_uri(req);
		return -1;
	case IPP_AUTH_NONE:
		if (!http_request_is_tls(req)) {
			ipp_exchange_fail(req, x, IPP_STATUS_ERROR_FORBIDDEN,
					  "Use ipps:// (TLS) to print here.", 200);
			return -1;
		}
		ipp_service_challenge(req, x, 0);
		return -1;
	case IPP_AUTH_DENIED:
		if (x->auth.via == IPP_VIA_FORWARDER || x->auth.via == IPP_VIA_TRUSTED_NETWORK) {
			ipp_exchange_fail(req, x, IPP_STATUS_ERROR_NOT_AUTHORIZED,
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
	return ipp_document_begin(req, x, op, rest, rest_len);
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
			return ipp_document_write(req, x, data, len);
		x->extra_bytes += len;
		return 0;
	}
	if (x->cap - x->len < len) {
		size_t cap = x->len + len;
		if (cap > IPP_ATTRS_MAX + len)
			cap = IPP_ATTRS_MAX + len;
		if (cap - x->len < len) {
			ipp_exchange_fail(req, x, IPP_STATUS_ERROR_REQUEST_ENTITY,
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
		ipp_exchange_fail(req, x, status, error,
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

/* Get-Printer-Attributes: the attributes as of now, the personal URI first if it came so. */
static void ipp_service_printer_attributes(ipp_exchange_t *x)
{
	ipp_printer_now_t state;
	ipp_printer_now_read(x->svc->core, &state);
	ipp_printer_attrs_add_personal(x->svc, x->request, x->response, x->printer_uri,
				       x->personal_uri[0] != '\0' ? x->personal_uri : NULL, &state);
	ipp_response_status(x->response, IPP_STATUS_OK, NULL);
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
			ipp_exchange_fail(req, x, status, error, 200);
			return;
		}
		x->is_parsed = true;
		if (ipp_service_begin(req, x, x->buf + used, x->len - used) < 0)
			return;
	}
	ipp_op_ctx_t ctx = ipp_exchange_ctx(x);
	ipp_op_t op = ippGetOperation(x->request);
	/*
	 * A trusted network only lets a machine say who it submits for: listing or canceling
	 * everything of a user it names would let any machine there read others' job titles.
	 */
	if (x->auth.via == IPP_VIA_TRUSTED_NETWORK &&
	    (op == IPP_OP_GET_JOBS || op == IPP_OP_CANCEL_MY_JOBS)) {
		ipp_exchange_fail(req, x, IPP_STATUS_ERROR_NOT_AUTHORIZED,
				  "Sign in (ipps:// with your email address and code, or your "
				  "personal printer address) to list or cancel your jobs.",
				  200);
		return;
	}
	switch (op) {
	case IPP_OP_PRINT_JOB:
		ipp_document_print_job(req, x);
		return;
	case IPP_OP_SEND_DOCUMENT:
		ipp_document_send_document(req, x);
		return;
	case IPP_OP_CREATE_JOB:
		ipp_document_create_job(req, x);
		return;
	case IPP_OP_VALIDATE_JOB:
		ipp_response_status(x->response, x->opts_status, NULL);
		break;
	case IPP_OP_GET_PRINTER_ATTRIBUTES:
		ipp_service_printer_attributes(x);
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
	ipp_exchange_send(req, x->response, 200);
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
