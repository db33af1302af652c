/*
 * backend-job.c - the CUPS job as an IPP request to Pullprint, and the server's answer as a
 * CUPS backend exit code.
 *
 * Only job template options Pullprint understands are passed on; the many options cupsd adds
 * on its own (job-uuid, time-at-creation, job-originating-host-name, …) are not the sender's
 * wishes and would only earn "attributes ignored" answers. The exit code decides what cupsd
 * does next, so it is chosen by who can fix the failure: nobody (cancel the job), time (retry
 * later), or the admin (fail, which stops the queue under the default error policy).
 */
#include "backend/backend.h"

#include "lib/str.h"

#include <cups/backend.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BACKEND_NAME_MAX 255 /* octets in an IPP name value */
#define BACKEND_COPIES_MAX 9999

bool backend_parse_copies(const char *text, int *copies_r)
{
	uint64_t copies;
	if (!parse_uint64_full(text, BACKEND_COPIES_MAX, &copies) || copies == 0)
		return false;
	*copies_r = (int)copies;
	return true;
}

const char *backend_document_format(const char *content_type)
{
	static const char octet_stream[] = "application/octet-stream";
	if (content_type == NULL || content_type[0] == '\0' ||
	    strchr(content_type, '/') == NULL || strlen(content_type) > BACKEND_NAME_MAX)
		return octet_stream;
	/* cupsd's own types (raw, cups-pdf, printer/…) mean nothing to another server; the
	   data is still an ordinary document that the server recognises by its content. */
	if (strncasecmp(content_type, "application/vnd.cups-", 21) == 0 ||
	    strncasecmp(content_type, "printer/", 8) == 0)
		return octet_stream;
	return content_type;
}

/* Copies s into out[BACKEND_NAME_MAX + 1], cut at a UTF-8 character boundary if too long. */
static void backend_name_value(const char *s, char out[BACKEND_NAME_MAX + 1])
{
	size_t len = strlen(s);
	if (len > BACKEND_NAME_MAX) {
		len = BACKEND_NAME_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--; /* s[len] continues a character: cut before that character */
	}
	memcpy(out, s, len);
	out[len] = '\0';
}

/* The value of an option, or NULL. */
static const char *backend_option(const char *name, int num_options, cups_option_t *options)
{
	return cupsGetOption(name, num_options, options);
}

/* media (or PageSize) as a PWG self-describing name where CUPS knows the size. */
static const char *backend_media_name(const char *value)
{
	pwg_media_t *media = pwgMediaForPWG(value);
	if (media == NULL)
		media = pwgMediaForLegacy(value);
	if (media == NULL)
		media = pwgMediaForPPD(value);
	return media != NULL && media->pwg != NULL ? media->pwg : value;
}

/* sides from the PPD option Duplex, or NULL. */
static const char *backend_sides_from_duplex(const char *duplex)
{
	if (duplex == NULL)
		return NULL;
	if (strcasecmp(duplex, "None") == 0)
		return "one-sided";
	if (strcasecmp(duplex, "DuplexNoTumble") == 0)
		return "two-sided-long-edge";
	if (strcasecmp(duplex, "DuplexTumble") == 0)
		return "two-sided-short-edge";
	return NULL;
}

/* print-color-mode from the PPD option ColorModel, or NULL. */
static const char *backend_color_from_model(const char *model)
{
	static const char *const gray[] = {"Gray", "Grey", "KGray", "Black", "Mono", "Monochrome"};
	static const char *const color[] = {"RGB", "CMYK", "CMY", "Color", "Colour"};
	if (model == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(gray) / sizeof(gray[0]); i++) {
		if (strcasecmp(model, gray[i]) == 0)
			return "monochrome";
	}
	for (size_t i = 0; i < sizeof(color) / sizeof(color[0]); i++) {
		if (strcasecmp(model, color[i]) == 0)
			return "color";
	}
	return NULL;
}

/* Adds one job template attribute, encoded as CUPS encodes it for its own printers. */
static void backend_add_option(ipp_t *request, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0' || strlen(value) > BACKEND_NAME_MAX)
		return;
	if (cupsEncodeOption(request, IPP_TAG_JOB, name, value) == NULL)
		fprintf(stderr, "DEBUG: option %s not sent: its value cannot be encoded\n", name);
}

/* The job template options Pullprint understands, from CUPS's option string. */
static void backend_add_options(ipp_t *request, const char *text)
{
	cups_option_t *options = NULL;
	int n = cupsParseOptions(text != NULL ? text : "", 0, &options);

	const char *sides = backend_option("sides", n, options);
	if (sides == NULL)
		sides = backend_sides_from_duplex(backend_option("Duplex", n, options));
	backend_add_option(request, "sides", sides);

	const char *media = backend_option("media", n, options);
	if (media == NULL)
		media = backend_option("PageSize", n, options);
	if (media != NULL) {
		/* "media=A4,Tray1" names a size and a source: only the size is ours. */
		char size[BACKEND_NAME_MAX + 1];
		backend_name_value(media, size);
		size[strcspn(size, ",")] = '\0';
		backend_add_option(request, "media", backend_media_name(size));
	}

	const char *color = backend_option("print-color-mode", n, options);
	if (color == NULL)
		color = backend_color_from_model(backend_option("ColorModel", n, options));
	backend_add_option(request, "print-color-mode", color);

	const char *orientation = backend_option("orientation-requested", n, options);
	const char *landscape = backend_option("landscape", n, options);
	if (orientation == NULL && landscape != NULL &&
	    (landscape[0] == '\0' || strcasecmp(landscape, "true") == 0 ||
	     strcasecmp(landscape, "yes") == 0 || strcasecmp(landscape, "on") == 0))
		orientation = "4"; /* landscape */
	backend_add_option(request, "orientation-requested", orientation);

	static const char *const passed[] = {"number-up", "page-ranges", "print-quality",
					     "finishings"};
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		backend_add_option(request, passed[i], backend_option(passed[i], n, options));
	cupsFreeOptions(n, options);
}

ipp_t *backend_job_request(const pp_backend_job_t *job, const char *host, int port,
			   bool validate_only)
{
	char uri[HTTP_MAX_URI];
	if (httpAssembleURI(HTTP_URI_CODING_ALL, uri, sizeof(uri), "ipps", NULL, host, port,
			    BACKEND_RESOURCE) < HTTP_URI_STATUS_OK)
		return NULL;
	ipp_t *request = ippNewRequest(validate_only ? IPP_OP_VALIDATE_JOB : IPP_OP_PRINT_JOB);
	if (request == NULL)
		return NULL;
	char user[BACKEND_NAME_MAX + 1], title[BACKEND_NAME_MAX + 1];
	backend_name_value(job->user, user);
	backend_name_value(job->title[0] != '\0' ? job->title : "Untitled", title);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, user);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, title);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL,
		     job->format);
	ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", job->copies);
	backend_add_options(request, job->options);
	return request;
}

/* The exit code for an HTTP status other than 200/100. */
static int backend_exit_for_http(http_status_t http)
{
	if ((int)http == 429) /* Too Many Requests: libcups 2.4 has no name for it */
		return CUPS_BACKEND_RETRY;
	switch (http) {
	case HTTP_STATUS_UNAUTHORIZED:
	case HTTP_STATUS_CUPS_AUTHORIZATION_CANCELED:
		return CUPS_BACKEND_AUTH_REQUIRED;
	case HTTP_STATUS_REQUEST_TOO_LARGE:
		return CUPS_BACKEND_CANCEL;
	case HTTP_STATUS_ERROR: /* the connection broke */
	case HTTP_STATUS_REQUEST_TIMEOUT:
		return CUPS_BACKEND_RETRY;
	default:
		/* 5xx: the server is there but cannot take jobs now. 404 (wrong address), 400,
		   403, redirects: the queue or backend.conf needs the admin. */
		return http >= HTTP_STATUS_SERVER_ERROR && http < 600 ? CUPS_BACKEND_RETRY
								      : CUPS_BACKEND_FAILED;
	}
}

int backend_exit_code(http_status_t http, ipp_status_t status)
{
	if (http != 0 && http != HTTP_STATUS_OK && http != HTTP_STATUS_CONTINUE)
		return backend_exit_for_http(http);
	if (status <= IPP_STATUS_OK_EVENTS_COMPLETE)
		return CUPS_BACKEND_OK; /* successful-ok and its -ignored/-conflicting variants */
	switch (status) {
	case IPP_STATUS_ERROR_NOT_AUTHENTICATED:
	case IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED:
		return CUPS_BACKEND_AUTH_REQUIRED;
	case IPP_STATUS_ERROR_NOT_FOUND:         /* no printer at that address */
	case IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED: /* not a Pullprint server */
	case IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED:
	case IPP_STATUS_ERROR_CUPS_PKI:
	case IPP_STATUS_ERROR_CUPS_UPGRADE_REQUIRED:
		return CUPS_BACKEND_FAILED;
	case IPP_STATUS_ERROR_TIMEOUT:
	case IPP_STATUS_ERROR_INTERNAL:
	case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
	case IPP_STATUS_ERROR_DEVICE:
	case IPP_STATUS_ERROR_TEMPORARY:
	case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
	case IPP_STATUS_ERROR_BUSY:
		return CUPS_BACKEND_RETRY;
	default:
		break;
	}
	/* Any other client error is about this job or its user (format, size, refused by the
	   sender policy, bad attributes): sending it again changes nothing. */
	if (status >= IPP_STATUS_ERROR_BAD_REQUEST && status < IPP_STATUS_ERROR_INTERNAL)
		return CUPS_BACKEND_CANCEL;
	if (status == IPP_STATUS_ERROR_JOB_CANCELED)
		return CUPS_BACKEND_CANCEL;
	return CUPS_BACKEND_FAILED;
}
