/*
 * probe-ipp.c - what an IPP printer says about itself: one Get-Printer-Attributes request
 * (libcups, its own connection, bounded connect and read timeouts) turned into capabilities
 * (printer-caps.h) and a status (probe.h). See probe.h.
 */
#include "output/probe/probe-private.h"

#include "lib/str.h"
#include "output/tls-peer.h"

#include <cups/cups.h>
#include <cups/http.h>
#include <cups/ipp.h>
#include <string.h>
#include <strings.h>

/* What is asked for: capabilities and status in one round trip. */
static const char *const probe_ipp_attrs[] = {
	"color-supported",
	"document-format-supported",
	"finishings-supported",
	"marker-colors",
	"marker-levels",
	"marker-names",
	"media-col-ready",
	"media-ready",
	"media-supported",
	"print-color-mode-supported",
	"printer-input-tray",
	"printer-make-and-model",
	"printer-resolution-default",
	"printer-state",
	"printer-state-reasons",
	"printer-supply",
	"printer-supply-description",
	"pwg-raster-document-resolution-supported",
	"sides-supported",
};
#define PROBE_IPP_N_ATTRS (sizeof(probe_ipp_attrs) / sizeof(probe_ipp_attrs[0]))

/* True when attr holds the string value word. */
static bool probe_ipp_has_string(ipp_attribute_t *attr, const char *word)
{
	for (int i = 0; attr != NULL && i < ippGetCount(attr); i++) {
		const char *value = ippGetString(attr, i, NULL);
		if (value != NULL && strcasecmp(value, word) == 0)
			return true;
	}
	return false;
}

/* A resolution attribute's first value in dots per inch, or 0. */
static int probe_ipp_dpi(ipp_attribute_t *attr)
{
	if (attr == NULL || ippGetValueTag(attr) != IPP_TAG_RESOLUTION || ippGetCount(attr) < 1)
		return 0;
	int yres = 0;
	ipp_res_t units = IPP_RES_PER_INCH;
	int xres = ippGetResolution(attr, 0, &yres, &units);
	if (units == IPP_RES_PER_CM)
		xres = (int)((double)xres * 2.54 + 0.5);
	return xres > 0 && xres <= 9600 ? xres : 0;
}

/*
 * The value of key in a Printer-MIB style octetString "key=value;key=value;…" (printer-supply,
 * printer-input-tray; PWG 5100.13) into out[size]. Returns false when the key is absent.
 */
static bool probe_ipp_kv(const char *data, size_t len, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	size_t pos = 0;
	while (pos < len) {
		const char *item = data + pos;
		const char *end = memchr(item, ';', len - pos);
		size_t item_len = end != NULL ? (size_t)(end - item) : len - pos;
		if (item_len > klen && memcmp(item, key, klen) == 0 && item[klen] == '=') {
			probe_text_copy(out, size, item + klen + 1, item_len - klen - 1);
			return true;
		}
		pos += item_len + 1;
	}
	return false;
}

/* An integer value of key in such an octetString, or fallback. */
static int probe_ipp_kv_int(const char *data, size_t len, const char *key, int fallback)
{
	char text[16];
	if (!probe_ipp_kv(data, len, key, text, sizeof(text)))
		return fallback;
	const char *p = text;
	bool is_negative = *p == '-';
	uint64_t value = 0;
	if (is_negative)
		p++;
	if (!parse_uint64(&p, 1000000000, &value) || *p != '\0')
		return fallback;
	return is_negative ? -(int)value : (int)value;
}

static void probe_ipp_caps(ipp_t *response, pp_printer_caps_t *caps)
{
	printer_caps_default(caps);
	ipp_attribute_t *attr = ippFindAttribute(response, "document-format-supported", IPP_TAG_ZERO);
	if (attr != NULL) {
		caps->n_formats = 0;
		for (int i = 0; i < ippGetCount(attr); i++) {
			const char *format = ippGetString(attr, i, NULL);
			/* octet-stream means "auto-sense", not a format we could choose. */
			if (format != NULL && strcasecmp(format, "application/octet-stream") != 0)
				probe_caps_add_word(caps, 'f', format);
		}
	}

	attr = ippFindAttribute(response, "color-supported", IPP_TAG_BOOLEAN);
	ipp_attribute_t *modes = ippFindAttribute(response, "print-color-mode-supported",
						  IPP_TAG_ZERO);
	if (attr != NULL || modes != NULL)
		caps->is_color = (attr != NULL && ippGetBoolean(attr, 0)) ||
				 probe_ipp_has_string(modes, "color");

	attr = ippFindAttribute(response, "sides-supported", IPP_TAG_ZERO);
	caps->has_duplex = probe_ipp_has_string(attr, "two-sided-long-edge") ||
			   probe_ipp_has_string(attr, "two-sided-short-edge");

	/* finishings: 4 staple, 20..35 the staple-* positions, 50..53 the staple-dual etc. */
	attr = ippFindAttribute(response, "finishings-supported", IPP_TAG_ENUM);
	for (int i = 0; attr != NULL && i < ippGetCount(attr); i++) {
		int f = ippGetInteger(attr, i);
		if (f == 4 || (f >= 20 && f <= 35) || (f >= 50 && f <= 53))
			caps->has_staple = true;
	}

	/* Media the device has loaded first, then what it could take, within the maximum. */
	ipp_attribute_t *ready = ippFindAttribute(response, "media-ready", IPP_TAG_ZERO);
	ipp_attribute_t *supported = ippFindAttribute(response, "media-supported", IPP_TAG_ZERO);
	if (ready != NULL || supported != NULL) {
		caps->n_media = 0;
		for (int i = 0; ready != NULL && i < ippGetCount(ready); i++)
			probe_caps_add_word(caps, 'm', ippGetString(ready, i, NULL));
		for (int i = 0; supported != NULL && i < ippGetCount(supported); i++)
			probe_caps_add_word(caps, 'm', ippGetString(supported, i, NULL));
	}

	int dpi = probe_ipp_dpi(ippFindAttribute(response, "printer-resolution-default",
						 IPP_TAG_RESOLUTION));
	if (dpi == 0)
		dpi = probe_ipp_dpi(ippFindAttribute(
			response, "pwg-raster-document-resolution-supported", IPP_TAG_RESOLUTION));
	caps->resolution_dpi = dpi;

	attr = ippFindAttribute(response, "printer-make-and-model", IPP_TAG_TEXT);
	const char *model = attr != NULL ? ippGetString(attr, 0, NULL) : NULL;
	if (model != NULL)
		probe_text_copy(caps->make_and_model, sizeof(caps->make_and_model), model,
				strlen(model));
}

/* One media-col-ready collection as a tray: source, size (hundredths of mm to mm). */
static void probe_ipp_tray(ipp_t *col, const char *media, pp_probe_tray_t *tray)
{
	memset(tray, 0, sizeof(*tray));
	tray->level = PROBE_LEVEL_UNKNOWN;
	tray->max = PROBE_LEVEL_UNKNOWN;
	ipp_attribute_t *source = col != NULL ? ippFindAttribute(col, "media-source", IPP_TAG_ZERO)
					      : NULL;
	const char *name = source != NULL ? ippGetString(source, 0, NULL) : NULL;
	if (name != NULL)
		probe_text_copy(tray->name, sizeof(tray->name), name, strlen(name));
	if (media != NULL)
		probe_text_copy(tray->media, sizeof(tray->media), media, strlen(media));
	ipp_attribute_t *size = col != NULL ? ippFindAttribute(col, "media-size",
							       IPP_TAG_BEGIN_COLLECTION)
					    : NULL;
	ipp_t *dims = size != NULL ? ippGetCollection(size, 0) : NULL;
	ipp_attribute_t *x = dims != NULL ? ippFindAttribute(dims, "x-dimension", IPP_TAG_INTEGER)
					  : NULL;
	ipp_attribute_t *y = dims != NULL ? ippFindAttribute(dims, "y-dimension", IPP_TAG_INTEGER)
					  : NULL;
	if (x != NULL && y != NULL) {
		tray->width_mm = (ippGetInteger(x, 0) + 50) / 100;
		tray->height_mm = (ippGetInteger(y, 0) + 50) / 100;
	}
}

static void probe_ipp_status(ipp_t *response, pp_printer_status_t *status)
{
	memset(status, 0, sizeof(*status));
	ipp_attribute_t *attr = ippFindAttribute(response, "printer-state", IPP_TAG_ENUM);
	switch (attr != NULL ? ippGetInteger(attr, 0) : 0) {
	case IPP_PSTATE_IDLE:
		status->state = PP_PRINTER_STATE_IDLE;
		break;
	case IPP_PSTATE_PROCESSING:
		status->state = PP_PRINTER_STATE_PROCESSING;
		break;
	case IPP_PSTATE_STOPPED:
		status->state = PP_PRINTER_STATE_STOPPED;
		break;
	default:
		status->state = PP_PRINTER_STATE_UNKNOWN;
		break;
	}

	attr = ippFindAttribute(response, "printer-state-reasons", IPP_TAG_ZERO);
	for (int i = 0; attr != NULL && i < ippGetCount(attr); i++) {
		const char *reason = ippGetString(attr, i, NULL);
		if (reason != NULL && probe_word_ok(reason))
			(void)probe_reasons_add(status->reasons, sizeof(status->reasons), reason);
	}

	ipp_attribute_t *names = ippFindAttribute(response, "marker-names", IPP_TAG_ZERO);
	ipp_attribute_t *levels = ippFindAttribute(response, "marker-levels", IPP_TAG_INTEGER);
	ipp_attribute_t *colors = ippFindAttribute(response, "marker-colors", IPP_TAG_ZERO);
	for (int i = 0; names != NULL && i < ippGetCount(names) &&
			status->n_markers < PROBE_MARKERS_MAX;
	     i++) {
		pp_probe_marker_t *m = &status->markers[status->n_markers++];
		const char *name = ippGetString(names, i, NULL);
		probe_text_copy(m->name, sizeof(m->name), name != NULL ? name : "",
				name != NULL ? strlen(name) : 0);
		const char *color = colors != NULL && i < ippGetCount(colors)
					    ? ippGetString(colors, i, NULL)
					    : NULL;
		if (color != NULL && probe_word_ok(color))
			(void)str_copy(m->color, sizeof(m->color), color);
		/* marker-levels are percent; -1 other, -2 unknown, -3 some remaining. */
		int level = levels != NULL && i < ippGetCount(levels) ? ippGetInteger(levels, i)
								      : PROBE_LEVEL_UNKNOWN;
		m->level = level >= 0 && level <= 100 ? level
			   : level == PROBE_LEVEL_SOME ? PROBE_LEVEL_SOME
						       : PROBE_LEVEL_UNKNOWN;
		m->max = 100;
	}

	/* Newer printers (and ippeveprinter) describe supplies in printer-supply instead. */
	ipp_attribute_t *supplies = ippFindAttribute(response, "printer-supply", IPP_TAG_STRING);
	ipp_attribute_t *descriptions = ippFindAttribute(response, "printer-supply-description",
							 IPP_TAG_ZERO);
	for (int i = 0; names == NULL && supplies != NULL && i < ippGetCount(supplies) &&
			status->n_markers < PROBE_MARKERS_MAX;
	     i++) {
		int len = 0;
		const char *data = ippGetOctetString(supplies, i, &len);
		if (data == NULL || len <= 0)
			continue;
		pp_probe_marker_t *m = &status->markers[status->n_markers++];
		const char *description = descriptions != NULL && i < ippGetCount(descriptions)
						  ? ippGetString(descriptions, i, NULL)
						  : NULL;
		if (description != NULL)
			probe_text_copy(m->name, sizeof(m->name), description, strlen(description));
		else
			(void)probe_ipp_kv(data, (size_t)len, "type", m->name, sizeof(m->name));
		char color[32] = "";
		if (probe_ipp_kv(data, (size_t)len, "colorantname", color, sizeof(color)) &&
		    strcmp(color, "unknown") != 0 && probe_word_ok(color))
			(void)str_copy(m->color, sizeof(m->color), color);
		int max = probe_ipp_kv_int(data, (size_t)len, "maxcapacity", PROBE_LEVEL_UNKNOWN);
		int level = probe_ipp_kv_int(data, (size_t)len, "level", PROBE_LEVEL_UNKNOWN);
		m->max = max > 0 ? max : PROBE_LEVEL_UNKNOWN;
		m->level = level >= 0 ? level
			   : level == PROBE_LEVEL_SOME ? PROBE_LEVEL_SOME
						       : PROBE_LEVEL_UNKNOWN;
	}

	/* Trays: media-col-ready (source and size) where the printer has it, else media-ready. */
	ipp_attribute_t *cols = ippFindAttribute(response, "media-col-ready",
						 IPP_TAG_BEGIN_COLLECTION);
	ipp_attribute_t *ready = ippFindAttribute(response, "media-ready", IPP_TAG_ZERO);
	int n_cols = cols != NULL ? ippGetCount(cols) : 0;
	int n_ready = ready != NULL ? ippGetCount(ready) : 0;
	int n = n_cols > 0 ? n_cols : n_ready;
	for (int i = 0; i < n && status->n_trays < PROBE_TRAYS_MAX; i++) {
		const char *media = i < n_ready ? ippGetString(ready, i, NULL) : NULL;
		probe_ipp_tray(n_cols > 0 ? ippGetCollection(cols, i) : NULL, media,
			       &status->trays[status->n_trays++]);
	}

	/* printer-input-tray adds levels and capacities to the trays of the same name. */
	ipp_attribute_t *inputs = ippFindAttribute(response, "printer-input-tray", IPP_TAG_STRING);
	for (int i = 0; inputs != NULL && i < ippGetCount(inputs); i++) {
		int len = 0;
		const char *data = ippGetOctetString(inputs, i, &len);
		char name[PROBE_TEXT_MAX];
		if (data == NULL || len <= 0 ||
		    !probe_ipp_kv(data, (size_t)len, "name", name, sizeof(name)))
			continue;
		for (size_t t = 0; t < status->n_trays; t++) {
			pp_probe_tray_t *tray = &status->trays[t];
			if (strcmp(tray->name, name) != 0)
				continue;
			int max = probe_ipp_kv_int(data, (size_t)len, "maxcapacity",
						   PROBE_LEVEL_UNKNOWN);
			int level = probe_ipp_kv_int(data, (size_t)len, "level",
						     PROBE_LEVEL_UNKNOWN);
			tray->max = max >= 0 ? max : PROBE_LEVEL_UNKNOWN;
			tray->level = level >= 0 || level == PROBE_LEVEL_SOME ? level
									      : PROBE_LEVEL_UNKNOWN;
		}
	}
}

/* probe_ipp() and probe_ipp_verified(): verify says whether to judge the certificate. */
static int probe_ipp_ask(const char *uri, bool verify, const char *tls_pin, int timeout_ms,
			 pp_printer_caps_t *caps_r, pp_printer_status_t *status_r, char *error,
			 size_t error_size)
{
	char scheme[32], userpass[256], host[PROBE_HOST_MAX], resource[1024];
	int port = 0;
	if (httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, sizeof(scheme), userpass,
			    sizeof(userpass), host, sizeof(host), &port, resource,
			    sizeof(resource)) < HTTP_URI_STATUS_OK ||
	    (strcmp(scheme, "ipp") != 0 && strcmp(scheme, "ipps") != 0)) {
		(void)str_format(error, error_size,
				 "ipp: %s is not an ipp:// or ipps:// URI", uri);
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = PROBE_IPP_TIMEOUT_MS;
	http_encryption_t encryption = strcmp(scheme, "ipps") == 0 ? HTTP_ENCRYPTION_ALWAYS
								   : HTTP_ENCRYPTION_IF_REQUESTED;
	http_t *http = httpConnect2(host, port, NULL, AF_UNSPEC, encryption, 1, timeout_ms, NULL);
	if (http == NULL) {
		(void)str_format(error, error_size,
				 "ipp: cannot connect to %s port %d: %s — check that the printer is "
				 "on and reachable",
				 host, port, cupsLastErrorString());
		return -1;
	}
	httpSetTimeout(http, (double)timeout_ms / 1000.0, NULL, NULL);
	if (verify && strcmp(scheme, "ipps") == 0) {
		char why[TLS_PEER_WHY_MAX];
		if (tls_peer_check(http, host, tls_pin, NULL, false, why, sizeof(why)) != 0) {
			(void)str_format(error, error_size, "ipp: %s", why);
			httpClose(http);
			return PROBE_UNTRUSTED;
		}
	}

	ipp_t *request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
	ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
		     "pullprint");
	ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
		      (int)PROBE_IPP_N_ATTRS, NULL, probe_ipp_attrs);
	ipp_t *response = cupsDoRequest(http, request, resource[0] != '\0' ? resource : "/");
	int rc = 0;
	if (response == NULL || ippGetStatusCode(response) >= IPP_STATUS_ERROR_BAD_REQUEST) {
		(void)str_format(error, error_size,
				 "ipp: Get-Printer-Attributes on %s failed: %s", uri,
				 response != NULL ? ippErrorString(ippGetStatusCode(response))
						  : cupsLastErrorString());
		rc = -1;
	} else {
		if (caps_r != NULL)
			probe_ipp_caps(response, caps_r);
		if (status_r != NULL)
			probe_ipp_status(response, status_r);
	}
	ippDelete(response);
	httpClose(http);
	return rc;
}

int probe_ipp(const char *uri, int timeout_ms, pp_printer_caps_t *caps_r,
	      pp_printer_status_t *status_r, char *error, size_t error_size)
{
	return probe_ipp_ask(uri, false, NULL, timeout_ms, caps_r, status_r, error, error_size);
}

int probe_ipp_verified(const char *uri, const char *tls_pin, int timeout_ms,
		       pp_printer_caps_t *caps_r, pp_printer_status_t *status_r, char *error,
		       size_t error_size)
{
	return probe_ipp_ask(uri, true, tls_pin, timeout_ms, caps_r, status_r, error,
			     error_size);
}
