/*
 * ipp-exchange.h - one IPP request on its way through the service, shared by ipp-service.c
 * (parsing, authentication, dispatch, answering) and ipp-document.c (the operations that
 * carry a document). Private to src/ipp.
 */
#ifndef PP_IPP_EXCHANGE_H
#define PP_IPP_EXCHANGE_H

#include "ipp/ipp-private.h"

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

/* Sends response as application/ipp with http_status. */
void ipp_exchange_send(pp_http_request_t *req, ipp_t *response, unsigned http_status);

/*
 * Answers with status: on the request's own response when there is one, else a bare one
 * (version 2.0 or 1.1, the request-id from the raw header when it arrived).
 */
void ipp_exchange_fail(pp_http_request_t *req, ipp_exchange_t *x, ipp_status_t status,
		       const char *message, unsigned http_status);

/* The context of a job operation: the personal URI when the request came through one. */
ipp_op_ctx_t ipp_exchange_ctx(ipp_exchange_t *x);

/*
 * After authentication, for op: the document operations' checks, and for Print-Job and
 * Send-Document the spool writer fed with rest (the bytes after the attributes). Returns 0,
 * or -1 after answering.
 */
int ipp_document_begin(pp_http_request_t *req, ipp_exchange_t *x, ipp_op_t op,
		       const uint8_t *rest, size_t rest_len);

/* Passes more document bytes to the writer. Returns 0, or -1 after answering. */
int ipp_document_write(pp_http_request_t *req, ipp_exchange_t *x, const uint8_t *data,
		       size_t len);

/* After the last byte: finish the operation and answer. */
void ipp_document_print_job(pp_http_request_t *req, ipp_exchange_t *x);
void ipp_document_send_document(pp_http_request_t *req, ipp_exchange_t *x);
void ipp_document_create_job(pp_http_request_t *req, ipp_exchange_t *x);

#endif
