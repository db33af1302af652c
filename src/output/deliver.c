/*
 * deliver.c - the front of delivery: checks a request, takes its device URI apart, picks the
 * transport by scheme (IPP/IPPS, socket, LPD) and times the attempt. The transports live in
 * deliver-ipp.c, deliver-socket.c and deliver-lpd.c; their shared socket helpers in
 * deliver-net.c.
 */
#include "output/deliver-private.h"

#include "lib/log.h"
#include "lib/str.h"
#include "output/pjl.h"

#include <cups/http.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const deliver_transport_t deliver_transports[] = {
	[DELIVER_SCHEME_IPP] = {"ipp", 631, deliver_ipp_send},
	[DELIVER_SCHEME_IPPS] = {"ipps", 631, deliver_ipp_send},
	[DELIVER_SCHEME_SOCKET] = {"socket", 9100, deliver_socket_send},
	[DELIVER_SCHEME_LPD] = {"lpd", 515, deliver_lpd_send},
};

const char *deliver_outcome_name(pp_deliver_outcome_t outcome)
{
	switch (outcome) {
	case DELIVER_DONE:
		return "done";
	case DELIVER_RETRY:
		return "retry";
	case DELIVER_PERMANENT:
		return "permanent";
	case DELIVER_CANCELED:
		return "canceled";
	}
	return "unknown";
}

void deliver_set(deliver_ctx_t *ctx, pp_deliver_outcome_t outcome, const char *fmt, ...)
{
	ctx->result->outcome = outcome;
	va_list ap;
	va_start(ap, fmt);
	/* A message cut short is still worth showing: truncation is fine here. */
	int n = vsnprintf(ctx->result->message, sizeof(ctx->result->message), fmt, ap);
	va_end(ap);
	if (n < 0)
		ctx->result->message[0] = '\0';
}

bool deliver_is_canceled(const deliver_ctx_t *ctx)
{
	return ctx->req->cancel != NULL && *ctx->req->cancel != 0;
}

int64_t deliver_elapsed_ms(const deliver_ctx_t *ctx)
{
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	return (int64_t)(now.tv_sec - ctx->started.tv_sec) * 1000 +
	       (now.tv_nsec - ctx->started.tv_nsec) / 1000000;
}

ssize_t deliver_read_data(deliver_ctx_t *ctx, void *buf, size_t size)
{
	ssize_t n = ctx->req->read(ctx->req->read_ctx, buf, size);
	if (n < 0 || (size_t)n > size) {
		deliver_set(ctx, DELIVER_PERMANENT,
			    "the job's print data could not be read after %lld bytes; the job has to "
			    "be converted again",
			    (long long)ctx->result->bytes_sent);
		return -1;
	}
	return n;
}

void deliver_ascii_line(const char *src, const char *also_replace, char *dst, size_t size)
{
	if (size == 0)
		return;
	size_t out = 0;
	for (const unsigned char *p = (const unsigned char *)(src != NULL ? src : ""); *p != '\0';
	     p++) {
		/* One '_' per UTF-8 character: skip the continuation bytes. */
		if (*p >= 0x80 && *p < 0xC0)
			continue;
		if (out + 1 >= size)
			break;
		bool is_plain = *p >= 0x20 && *p < 0x7F &&
				(also_replace == NULL || strchr(also_replace, *p) == NULL);
		dst[out++] = is_plain ? (char)*p : '_';
	}
	dst[out] = '\0';
}

/* True when every byte of s is a letter, digit or one of extra. */
static bool deliver_chars_are(const char *s, const char *extra)
{
	for (const char *p = s; *p != '\0'; p++) {
		char c = *p;
		bool is_alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9');
		if (!is_alnum && strchr(extra, c) == NULL)
			return false;
	}
	return true;
}

int deliver_uri_parse(const char *uri, deliver_uri_t *uri_r, char *error, size_t error_size)
{
	memset(uri_r, 0, sizeof(*uri_r));
	if (uri == NULL || uri[0] == '\0') {
		str_format(error, error_size, "no device URI: set the printer's URI");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)uri; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7F) {
			str_format(error, error_size,
				   "the device URI has a space, control or non-ASCII character: "
				   "percent-encode it");
			return -1;
		}
	}
	char scheme[32], userpass[256], host[DELIVER_HOST_MAX], resource[DELIVER_RESOURCE_MAX];
	int port = 0;
	http_uri_status_t st = httpSeparateURI(HTTP_URI_CODING_MOST, uri, scheme, sizeof(scheme),
					       userpass, sizeof(userpass), host, sizeof(host),
					       &port, resource, sizeof(resource));
	if (st < HTTP_URI_STATUS_OK) {
		str_format(error, error_size, "the device URI is not valid (%s): use ipp://, "
			   "ipps://, socket://host[:port] or lpd://host/queue",
			   httpURIStatusString(st));
		return -1;
	}
	size_t n_transports = sizeof(deliver_transports) / sizeof(deliver_transports[0]);
	size_t i = 0;
	while (i < n_transports && strcmp(deliver_transports[i].scheme, scheme) != 0)
		i++;
	if (i == n_transports) {
		str_format(error, error_size, "the device URI scheme is not supported: use ipp://, "
			   "ipps://, socket:// or lpd://");
		return -1;
	}
	uri_r->scheme = (deliver_scheme_t)i;
	if (userpass[0] != '\0') {
		str_format(error, error_size, "the device URI carries user information: remove the "
			   "user:password@ part");
		return -1;
	}
	if (host[0] == '\0' || !deliver_chars_are(host, ".-_:%")) {
		str_format(error, error_size, "the device URI has no valid host name");
		return -1;
	}
	if (port <= 0 || port > 65535)
		port = deliver_transports[i].default_port;
	uri_r->port = port;
	str_copy(uri_r->host, sizeof(uri_r->host), host);
	/* Options after '?' (CUPS backends' "?waiteof=…") are not used by these transports. */
	char *query = strchr(resource, '?');
	if (query != NULL)
		*query = '\0';
	switch (uri_r->scheme) {
	case DELIVER_SCHEME_IPP:
	case DELIVER_SCHEME_IPPS:
		str_copy(uri_r->resource, sizeof(uri_r->resource),
			 resource[0] != '\0' ? resource : "/");
		break;
	case DELIVER_SCHEME_SOCKET:
		if (resource[0] != '\0' && strcmp(resource, "/") != 0) {
			str_format(error, error_size, "a socket:// URI has no path: use "
				   "socket://host[:port]");
			return -1;
		}
		break;
	case DELIVER_SCHEME_LPD: {
		const char *queue = resource[0] == '/' ? resource + 1 : resource;
		if (queue[0] == '\0' || strlen(queue) >= DELIVER_QUEUE_MAX ||
		    !deliver_chars_are(queue, ".-_+@:")) {
			str_format(error, error_size, "an lpd:// URI needs a queue name (letters, "
				   "digits, . - _ + @ :): use lpd://host/queue");
			return -1;
		}
		str_copy(uri_r->resource, sizeof(uri_r->resource), queue);
		break;
	}
	}
	return 0;
}

/* True when type reads as a MIME type "type/subtype" (parameters are not accepted). */
static bool deliver_content_type_is_valid(const char *type)
{
	const char *slash = strchr(type, '/');
	return slash != NULL && slash != type && slash[1] != '\0' && strlen(type) < 128 &&
	       strchr(slash + 1, '/') == NULL && deliver_chars_are(type, "/.+-_");
}

/* Checks what the caller must get right; returns 0 or -1 with error (nothing was sent). */
static int deliver_check_request(const pp_deliver_request_t *req, char *error, size_t error_size)
{
	if (req == NULL || req->read == NULL || req->device_uri == NULL) {
		str_format(error, error_size, "deliver: a request needs a device URI and a reader");
		return -1;
	}
	if (req->content_type != NULL && !deliver_content_type_is_valid(req->content_type)) {
		str_format(error, error_size, "deliver: content type is not a MIME type "
			   "(type/subtype)");
		return -1;
	}
	if (req->options != NULL) {
		char why[256];
		if (options_validate(req->options, why, sizeof(why)) != 0) {
			str_format(error, error_size, "deliver: %s", why);
			return -1;
		}
	}
	if (req->use_pjl && req->pjl_language != NULL && !pjl_language_is_valid(req->pjl_language)) {
		str_format(error, error_size, "deliver: PJL language must be a PJL word such as "
			   "PDF, POSTSCRIPT, PCL or PCLXL");
		return -1;
	}
	return 0;
}

int deliver_send(const pp_deliver_request_t *req, pp_deliver_result_t *result_r, char *error,
		 size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	result_r->outcome = DELIVER_PERMANENT;
	if (deliver_check_request(req, error, error_size) != 0)
		return -1;

	/* Work on a copy so that missing options read as the defaults everywhere below. */
	pp_deliver_request_t copy = *req;
	pp_print_options_t defaults;
	if (copy.options == NULL) {
		options_default(&defaults);
		copy.options = &defaults;
	}
	if (copy.content_type == NULL)
		copy.content_type = "application/octet-stream";

	deliver_ctx_t ctx = {
		.req = &copy,
		.result = result_r,
		.connect_timeout_s = req->connect_timeout_s != 0 ? req->connect_timeout_s : 10,
		.io_timeout_s = req->io_timeout_s != 0 ? req->io_timeout_s : 60,
		.follow_timeout_s = req->follow_timeout_s != 0 ? req->follow_timeout_s : 600,
	};
	if (clock_gettime(CLOCK_MONOTONIC, &ctx.started) != 0) {
		str_format(error, error_size, "deliver: clock_gettime failed: %s", strerror(errno));
		return -1;
	}

	/* A URI that does not parse will not parse next time either: a permanent outcome the
	 * admin fixes in the registry, not a caller error. */
	char why[DELIVER_MESSAGE_MAX];
	if (deliver_uri_parse(copy.device_uri, &ctx.uri, why, sizeof(why)) != 0) {
		deliver_set(&ctx, DELIVER_PERMANENT, "%s", why);
	} else if (deliver_is_canceled(&ctx)) {
		deliver_set(&ctx, DELIVER_CANCELED, "canceled before sending");
	} else {
		deliver_transports[ctx.uri.scheme].send(&ctx);
	}
	result_r->seconds = (double)deliver_elapsed_ms(&ctx) / 1000.0;
	log_debug("deliver.attempt job=%s scheme=%s host=%s outcome=%s bytes=%lld ms=%lld",
		  copy.job_uuid != NULL ? copy.job_uuid : "-",
		  deliver_transports[ctx.uri.scheme].scheme, ctx.uri.host,
		  deliver_outcome_name(result_r->outcome), (long long)result_r->bytes_sent,
		  (long long)deliver_elapsed_ms(&ctx));
	return 0;
}
