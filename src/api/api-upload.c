/*
 * api-upload.c - documents coming in: POST /jobs (held for release) and POST /print-now
 * (released to the printer named as soon as it is converted), streamed into the spool.
 *
 * Two forms of body:
 *   - multipart/form-data (a browser form, curl -F): one part with a file name (or named
 *     "file") is the document; parts named "options" (JSON object), "title" and "printer"
 *     (print-now) are read too, in any order; anything else is skipped;
 *   - the document itself, with its Content-Type, the file name in X-Filename
 *     (percent-encoded UTF-8), options in X-Print-Options (JSON) or ?options=, and the
 *     printer in ?printer= or X-Printer.
 * The document's bytes go to the spool writer as they arrive (never whole in memory); its
 * type is taken from its first bytes (doctype.h), never from a header or name. Past
 * [spool] max_document_bytes the upload is refused with 413 (at once when Content-Length
 * says so). Only when the last byte is in is the file sealed and the job committed (intake.h).
 *
 * The multipart reader keeps a window of API_MP_WINDOW bytes: document bytes are passed on as
 * soon as they cannot be the start of the next boundary.
 */
#include "api/api-private.h"

#include "core/doctype.h"
#include "core/intake.h"
#include "core/printers.h"
#include "core/sender-policy.h"
#include "lib/log.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_MP_WINDOW (64u * 1024u)   /* multipart look-ahead */
#define API_MP_HEADERS_MAX 8192u     /* one part's header block */
#define API_BOUNDARY_MAX 70          /* RFC 2046 */
#define API_FIELD_MAX (16u * 1024u)  /* a form field (options, title, printer) */
#define API_MULTIPART_SLACK (64u * 1024u) /* allowance for parts around the document */

typedef enum { API_MP_BODY = 0, API_MP_AFTER_DELIM, API_MP_HEADERS, API_MP_DONE } api_mp_state_t;

typedef enum {
	API_PART_NONE = 0, /* preamble, or a part we skip */
	API_PART_FILE,
	API_PART_OPTIONS,
	API_PART_TITLE,
	API_PART_PRINTER,
} api_part_t;

struct api_upload {
	pp_spool_writer_t *writer;
	bool is_multipart;
	bool is_print_now;
	uint8_t head[DOCTYPE_SNIFF_MAX];
	size_t head_len;
	uint64_t doc_bytes;
	char name[JOB_DOC_NAME_MAX];
	char title[JOB_TITLE_MAX];
	char printer[PRINTERS_NAME_MAX];
	char *options; /* JSON text, NULL = none */
	/* multipart */
	char delim[API_BOUNDARY_MAX + 5]; /* "\r\n--" + boundary */
	size_t delim_len;
	api_mp_state_t state;
	api_part_t part;
	bool has_file;
	uint8_t *window;
	size_t window_len;
	char *field; /* the field part being read */
	size_t field_len;
};

void api_upload_free(api_upload_t **upload)
{
	if (upload == NULL || *upload == NULL)
		return;
	api_upload_t *u = *upload;
	spool_writer_abort(&u->writer);
	free(u->options);
	free(u->window);
	free(u->field);
	free(u);
	*upload = NULL;
}

/* ---- small parsers ---- */

/* Percent-decodes in into out[size] (a bad escape is kept as it is). False if it does not fit. */
static bool api_percent_decode(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (const char *p = in; *p != '\0'; p++) {
		int c = (unsigned char)*p;
		if (*p == '%' && str_hex_digit(p[1]) >= 0 && str_hex_digit(p[2]) >= 0) {
			c = str_hex_digit(p[1]) * 16 + str_hex_digit(p[2]);
			p += 2;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/*
 * A file name as given (maybe a whole client path) into name[JOB_DOC_NAME_MAX]: the last
 * path segment, printable UTF-8, else "document".
 */
static void api_clean_name(const char *given, char name[JOB_DOC_NAME_MAX])
{
	const char *base = given;
	for (const char *p = given; *p != '\0'; p++) {
		if (*p == '/' || *p == '\\')
			base = p + 1;
	}
	job_text_copy(name, JOB_DOC_NAME_MAX, base);
	if (name[0] == '\0' || !str_is_printable_utf8(name))
		(void)str_copy(name, JOB_DOC_NAME_MAX, "document");
}

/*
 * Finds parameter param (case-insensitive) in a header value such as
 * 'form-data; name="file"; filename="a.pdf"' and copies its value (quotes and backslash
 * escapes undone) into out[size]. False when absent or too long.
 */
static bool api_header_param(const char *value, const char *param, char *out, size_t size)
{
	size_t plen = strlen(param);
	const char *p = value;
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, param, plen) != 0 || p[plen] != '=')
			continue;
		p += plen + 1;
		size_t o = 0;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (o + 1 >= size)
					return false;
				out[o++] = *p;
			}
		} else {
			for (; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t'; p++) {
				if (o + 1 >= size)
					return false;
				out[o++] = *p;
			}
		}
		out[o] = '\0';
		return true;
	}
	return false;
}

/* ---- the document's bytes ---- */

/* Marks the upload failed and answers. Returns false (for the callers' return). */
static bool api_upload_fail(api_call_t *call, unsigned status, const char *code,
			    const char *message)
{
	spool_writer_abort(&call->upload->writer);
	api_error(call, status, code, message, 0);
	return false;
}

/* Passes document bytes to the spool, keeping the first ones for typing. */
static bool api_doc_write(api_call_t *call, const uint8_t *data, size_t len)
{
	api_upload_t *u = call->upload;
	if (len == 0)
		return true;
	if (u->head_len < DOCTYPE_SNIFF_MAX) {
		size_t n = DOCTYPE_SNIFF_MAX - u->head_len < len ? DOCTYPE_SNIFF_MAX - u->head_len
								  : len;
		memcpy(u->head + u->head_len, data, n);
		u->head_len += n;
	}
	char error[API_ERROR_MAX];
	int rc = spool_writer_write(u->writer, data, len, error, sizeof(error));
	if (rc == SPOOL_TOO_LARGE)
		return api_upload_fail(call, 413, "too_large",
				       "The document is larger than this server accepts.");
	if (rc != 0) {
		log_error("api.spool_write_failed error=\"%s\"", error);
		return api_upload_fail(call, 500, "internal", "The document could not be stored.");
	}
	u->doc_bytes += len;
	return true;
}

/* ---- multipart/form-data ---- */

/* Bytes of the current part. */
static bool api_part_data(api_call_t *call, const uint8_t *data, size_t len)
{
	api_upload_t *u = call->upload;
	if (u->part == API_PART_FILE)
		return api_doc_write(call, data, len);
	if (u->part == API_PART_NONE || len == 0)
		return true;
	if (len > API_FIELD_MAX - u->field_len)
		return api_upload_fail(call, 400, "bad_form", "A form field is longer than 16 KiB.");
	memcpy(u->field + u->field_len, data, len);
	u->field_len += len;
	u->field[u->field_len] = '\0';
	return true;
}

/* The current part ended: keep a field's value. */
static bool api_part_end(api_call_t *call)
{
	api_upload_t *u = call->upload;
	bool is_ok = true;
	if (u->part == API_PART_OPTIONS) {
		free(u->options);
		u->options = strdup(u->field);
		is_ok = u->options != NULL;
	} else if (u->part == API_PART_TITLE) {
		job_text_copy(u->title, sizeof(u->title), u->field);
	} else if (u->part == API_PART_PRINTER) {
		is_ok = str_copy(u->printer, sizeof(u->printer), str_trim(u->field));
		if (!is_ok)
			return api_upload_fail(call, 404, "printer_not_found",
					       "There is no such printer.");
	}
	if (!is_ok)
		return api_upload_fail(call, 503, "busy", "The server is out of memory; try again.");
	u->part = API_PART_NONE;
	u->field_len = 0;
	u->field[0] = '\0';
	return true;
}

/* Reads one part's header block (headers[len], no final blank line) and starts the part. */
static bool api_part_begin(api_call_t *call, char *headers)
{
	api_upload_t *u = call->upload;
	char field_name[64] = "", file_name[JOB_DOC_NAME_MAX * 3] = "";
	bool has_file_name = false;
	for (char *line = headers; line != NULL && *line != '\0';) {
		char *end = strstr(line, "\r\n");
		if (end != NULL)
			*end = '\0';
		if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
			(void)api_header_param(line, "name", field_name, sizeof(field_name));
			char encoded[JOB_DOC_NAME_MAX * 3];
			if (api_header_param(line, "filename*", encoded, sizeof(encoded)) &&
			    strncasecmp(encoded, "UTF-8''", 7) == 0)
				has_file_name = api_percent_decode(encoded + 7, file_name,
								   sizeof(file_name));
			else
				has_file_name = api_header_param(line, "filename", file_name,
								 sizeof(file_name));
		}
		line = end != NULL ? end + 2 : NULL;
	}
	u->part = API_PART_NONE;
	if (has_file_name || strcmp(field_name, "file") == 0) {
		if (u->has_file)
			return api_upload_fail(call, 400, "one_document",
					       "Send one document per upload.");
		u->has_file = true;
		u->part = API_PART_FILE;
		api_clean_name(file_name, u->name);
	} else if (strcmp(field_name, "options") == 0) {
		u->part = API_PART_OPTIONS;
	} else if (strcmp(field_name, "title") == 0) {
		u->part = API_PART_TITLE;
	} else if (strcmp(field_name, "printer") == 0) {
		u->part = API_PART_PRINTER;
	}
	u->field_len = 0;
	return true;
}

/* Finds needle[nlen] in hay[hlen]; returns its offset or SIZE_MAX. */
static size_t api_find(const uint8_t *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0 || hlen < nlen)
		return SIZE_MAX;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		const uint8_t *p = memchr(hay + i, needle[0], hlen - i - nlen + 1);
		if (p == NULL)
			return SIZE_MAX;
		i = (size_t)(p - hay);
		if (memcmp(p, needle, nlen) == 0)
			return i;
	}
	return SIZE_MAX;
}

/* Drops n bytes from the front of the window. */
static void api_window_consume(api_upload_t *u, size_t n)
{
	memmove(u->window, u->window + n, u->window_len - n);
	u->window_len -= n;
}

/* Works through the window as far as it can. Returns false after answering. */
static bool api_mp_process(api_call_t *call)
{
	api_upload_t *u = call->upload;
	for (;;) {
		if (u->state == API_MP_DONE) {
			u->window_len = 0; /* the epilogue is ignored */
			return true;
		}
		if (u->state == API_MP_BODY) {
			size_t at = api_find(u->window, u->window_len, u->delim, u->delim_len);
			if (at == SIZE_MAX) {
				/* Pass on what cannot be the start of a boundary. */
				size_t keep = u->delim_len - 1;
				if (u->window_len > keep) {
					size_t n = u->window_len - keep;
					if (!api_part_data(call, u->window, n))
						return false;
					api_window_consume(u, n);
				}
				return true;
			}
			if (!api_part_data(call, u->window, at) || !api_part_end(call))
				return false;
			api_window_consume(u, at + u->delim_len);
			u->state = API_MP_AFTER_DELIM;
			continue;
		}
		if (u->state == API_MP_AFTER_DELIM) {
			if (u->window_len < 2)
				return true;
			if (memcmp(u->window, "--", 2) == 0) {
				u->state = API_MP_DONE;
				continue;
			}
			if (memcmp(u->window, "\r\n", 2) != 0)
				return api_upload_fail(call, 400, "bad_form",
						       "The multipart body is malformed.");
			api_window_consume(u, 2);
			u->state = API_MP_HEADERS;
			continue;
		}
		/* API_MP_HEADERS: up to a blank line (an empty block is just "\r\n"). */
		size_t end = u->window_len >= 2 && memcmp(u->window, "\r\n", 2) == 0
				     ? 0
				     : api_find(u->window, u->window_len, "\r\n\r\n", 4);
		if (end == SIZE_MAX) {
			if (u->window_len > API_MP_HEADERS_MAX)
				return api_upload_fail(call, 400, "bad_form",
						       "A part's headers are too long.");
			return true;
		}
		size_t consumed = end == 0 ? 2 : end + 4;
		char headers[API_MP_HEADERS_MAX + 1];
		if (end > API_MP_HEADERS_MAX)
			return api_upload_fail(call, 400, "bad_form", "A part's headers are too long.");
		memcpy(headers, u->window, end);
		headers[end] = '\0';
		api_window_consume(u, consumed);
		if (!api_part_begin(call, headers))
			return false;
		u->state = API_MP_BODY;
	}
}

/* Feeds body bytes through the window. */
static bool api_mp_feed(api_call_t *call, const uint8_t *data, size_t len)
{
	api_upload_t *u = call->upload;
	while (len > 0) {
		size_t room = API_MP_WINDOW - u->window_len;
		size_t n = len < room ? len : room;
		memcpy(u->window + u->window_len, data, n);
		u->window_len += n;
		data += n;
		len -= n;
		if (!api_mp_process(call))
			return false;
		if (u->window_len == API_MP_WINDOW)
			return api_upload_fail(call, 400, "bad_form", "The multipart body is malformed.");
	}
	return true;
}

/* ---- the request ---- */

/* Sets the upload up for a multipart body with the boundary of type. */
static bool api_mp_setup(api_call_t *call, const char *type)
{
	api_upload_t *u = call->upload;
	char boundary[API_BOUNDARY_MAX + 1];
	if (!api_header_param(type, "boundary", boundary, sizeof(boundary)) ||
	    boundary[0] == '\0') {
		api_pending(call, 400, "bad_form", "The multipart Content-Type has no boundary.", 0);
		return false;
	}
	u->window = malloc(API_MP_WINDOW);
	u->field = malloc(API_FIELD_MAX + 1);
	if (u->window == NULL || u->field == NULL) {
		api_pending(call, 503, "busy", "The server is out of memory; try again.", 5);
		return false;
	}
	u->field[0] = '\0';
	(void)str_format(u->delim, sizeof(u->delim), "\r\n--%s", boundary);
	u->delim_len = strlen(u->delim);
	/* The first boundary may open the body: read it as if a line break came before it. */
	memcpy(u->window, "\r\n", 2);
	u->window_len = 2;
	u->is_multipart = true;
	return true;
}

/* Sets the upload up for a raw body: name, options and printer from headers and query. */
static bool api_raw_setup(api_call_t *call)
{
	api_upload_t *u = call->upload;
	const char *name = http_request_header(call->req, "X-Filename");
	char decoded[JOB_DOC_NAME_MAX * 3];
	if (name != NULL && api_percent_decode(name, decoded, sizeof(decoded)))
		api_clean_name(decoded, u->name);
	else
		(void)str_copy(u->name, sizeof(u->name), "document");
	const char *options = http_request_header(call->req, "X-Print-Options");
	if (options == NULL)
		options = http_request_query(call->req, "options");
	if (options != NULL && options[0] != '\0') {
		if (strlen(options) > API_FIELD_MAX || (u->options = strdup(options)) == NULL) {
			api_pending(call, 400, "bad_options", "The options are too long.", 0);
			return false;
		}
	}
	const char *printer = http_request_query(call->req, "printer");
	if (printer == NULL)
		printer = http_request_header(call->req, "X-Printer");
	if (printer != NULL && !str_copy(u->printer, sizeof(u->printer), printer)) {
		api_pending(call, 404, "printer_not_found", "There is no such printer.", 0);
		return false;
	}
	return true;
}

bool api_upload_begin(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	if (core->spool == NULL) {
		api_pending(call, 503, "unavailable", "This server stores no documents.", 0);
		return false;
	}
	/* An address blocked since it signed in may not send any more. */
	pp_sender_result_t policy;
	char error[API_ERROR_MAX];
	if (sender_policy_decide(core, call->user.email, "api", &policy, error, sizeof(error)) <
	    0) {
		log_error("api.policy_failed error=\"%s\"", error);
		api_pending(call, 503, "unavailable", "The server cannot decide now; try again.", 5);
		return false;
	}
	if (policy.decision != PP_SENDER_ACCEPT) {
		api_pending(call, 403, "not_allowed",
			    "Your address may not send documents here; ask your administrator.", 0);
		return false;
	}
	const char *type = http_request_header(call->req, "Content-Type");
	if (type == NULL || type[0] == '\0') {
		api_pending(call, 415, "unsupported_media_type",
			    "Send multipart/form-data, or the document with its Content-Type.", 0);
		return false;
	}
	call->upload = calloc(1, sizeof(*call->upload));
	if (call->upload == NULL) {
		api_pending(call, 503, "busy", "The server is out of memory; try again.", 5);
		return false;
	}
	call->upload->is_print_now = (call->route->flags & API_PRINT_NOW) != 0;
	bool is_multipart = strncasecmp(type, "multipart/form-data", 19) == 0;
	if (!(is_multipart ? api_mp_setup(call, type) : api_raw_setup(call)))
		return false;

	/* A declared length past the limit is refused before any byte is stored. */
	uint64_t max = call->api->cfg.max_document_bytes;
	const char *cl = http_request_header(call->req, "Content-Length");
	uint64_t declared = 0;
	if (max > 0 && cl != NULL && parse_uint64_full(cl, UINT64_MAX, &declared) &&
	    declared > max + (is_multipart ? API_MULTIPART_SLACK : 0)) {
		api_pending(call, 413, "too_large", "The document is larger than this server accepts.",
			    0);
		return false;
	}
	if (spool_writer_open(core->spool, &call->upload->writer, error, sizeof(error)) < 0) {
		log_error("api.spool_open_failed error=\"%s\"", error);
		api_pending(call, 503, "unavailable", "The document cannot be stored now; try again.",
			    5);
		return false;
	}
	return true;
}

bool api_upload_write(api_call_t *call, const uint8_t *data, size_t len)
{
	if (call->upload == NULL || call->upload->writer == NULL)
		return false;
	return call->upload->is_multipart ? api_mp_feed(call, data, len)
					  : api_doc_write(call, data, len);
}

/* POST /jobs, POST /print-now: the body is in; seal the file and make the job. */
void api_upload_finish(api_call_t *call)
{
	api_upload_t *u = call->upload;
	pp_core_t *core = call->api->cfg.core;
	if (u == NULL || u->writer == NULL) {
		api_internal(call, "api.upload_lost", "no upload state");
		return;
	}
	if (u->is_multipart && (u->state != API_MP_DONE || !u->has_file)) {
		(void)api_upload_fail(call, 400, "bad_form",
				      u->has_file ? "The multipart body ends too early."
						  : "The form has no file part.");
		return;
	}
	if (u->doc_bytes == 0) {
		(void)api_upload_fail(call, 400, "empty_document", "The document is empty.");
		return;
	}
	const char *format = doctype_sniff(u->head, u->head_len);
	if (format == NULL) {
		(void)api_upload_fail(call, 415, "unsupported_document",
				      "This kind of document cannot be printed here; send PDF, an "
				      "image, text or an office document.");
		return;
	}
	pp_print_options_t opts;
	options_default(&opts);
	char error[API_ERROR_MAX];
	if (u->options != NULL && options_from_json(u->options, &opts, error, sizeof(error)) < 0) {
		(void)api_upload_fail(call, 400, "bad_options", error);
		return;
	}
	int64_t printer_id = 0;
	if (u->is_print_now) {
		if (u->printer[0] == '\0') {
			(void)api_upload_fail(call, 400, "bad_printer",
					      "Print now needs the printer: a printer field or "
					      "?printer=.");
			return;
		}
		if (!api_printer_resolve(call, NULL, u->printer, &printer_id)) {
			spool_writer_abort(&u->writer);
			return;
		}
	}
	pp_spool_doc_t sealed;
	if (spool_writer_finish_small(&u->writer, &sealed, error, sizeof(error)) < 0) {
		api_internal(call, "api.spool_finish_failed", error);
		return;
	}
	pp_intake_t doc = {.user_id = call->user.id,
			   .source = "api",
			   .title = u->title[0] != '\0' ? u->title : u->name,
			   .name = u->name,
			   .content_type = format,
			   .options = &opts,
			   .printer_id = printer_id};
	pp_intake_result_t stored;
	if (intake_store_spooled(core, &doc, &sealed, &stored, error, sizeof(error)) < 0) {
		log_error("api.intake_failed error=\"%s\"", error);
		api_error(call, 503, "unavailable", "The job could not be stored now; try again.", 5);
		return;
	}
	api_cache_forget_user(call->api->cache, call->user.id);
	log_info("api.job_received job=%lld size=%lld format=%s print_now=%s",
		 (long long)stored.job_id, (long long)stored.size_bytes, format,
		 printer_id > 0 ? "yes" : "no");
	pp_job_t job;
	if (job_get(core, stored.job_id, &job, error, sizeof(error)) != JOB_OK) {
		api_internal(call, "api.job_read_failed", error);
		return;
	}
	char location[96];
	if (str_format(location, sizeof(location), API_PREFIX "jobs/%s", job.uuid))
		(void)http_response_header(call->req, "Location", location);
	api_json(call, 201, api_job_summary(&job));
}
