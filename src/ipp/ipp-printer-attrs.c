/*
 * ipp-printer-attrs.c - the printer's description as IPP Everywhere and AirPrint clients
 * read it (Get-Printer-Attributes): identity, formats, media, finishing and raster
 * capabilities. Every value is true of this server: what it advertises, the job template
 * mapping (ipp-options.c) accepts, and the release step can honour on a real printer.
 *
 * What is left out is left out because it would be untrue of a server that holds jobs and
 * marks no paper: pages-per-minute, printer-supply*, overrides, and identify-actions (there
 * is no light, speaker or panel: Identify-Printer is answered and logged for the admin).
 */
#include "ipp/ipp-private.h"

#include "core/settings.h"

#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"
#include "pp-build-config.h"

#include <stdlib.h>
#include <string.h>

static const ipp_media_t ipp_media_list[] = {
	{"iso_a4_210x297mm", 21000, 29700},   {"na_letter_8.5x11in", 21590, 27940},
	{"iso_a5_148x210mm", 14800, 21000},   {"iso_a3_297x420mm", 29700, 42000},
	{"na_legal_8.5x14in", 21590, 35560},
};
#define IPP_MEDIA_COUNT (sizeof(ipp_media_list) / sizeof(ipp_media_list[0]))
#define IPP_MARGIN 423 /* hundredths of mm: the usual 1/6 inch unprintable edge */

const ipp_media_t *ipp_media_table(size_t *count_r)
{
	*count_r = IPP_MEDIA_COUNT;
	return ipp_media_list;
}

const ipp_media_t *ipp_media_find(const char *name)
{
	for (size_t i = 0; i < IPP_MEDIA_COUNT; i++) {
		if (strcmp(ipp_media_list[i].name, name) == 0)
			return &ipp_media_list[i];
	}
	return NULL;
}

const ipp_media_t *ipp_media_find_size(int x_dimension, int y_dimension)
{
	for (size_t i = 0; i < IPP_MEDIA_COUNT; i++) {
		if (abs(ipp_media_list[i].x_dimension - x_dimension) <= 100 &&
		    abs(ipp_media_list[i].y_dimension - y_dimension) <= 100)
			return &ipp_media_list[i];
	}
	return NULL;
}

void ipp_printer_uuid(const pp_core_t *core, char out[IPP_UUID_MAX])
{
	/* A keyed hash of a fixed label: stable for this installation, unlinkable to others. */
	static const char label[] = "ipp:printer-uuid";
	char hex[CRYPTO_HASH_HEX_LEN + 1];
	crypto_keyed_hash_hex(core->pseudonym_key, label, sizeof(label) - 1, hex);
	/* RFC 4122 layout, version 4 / variant 10 bits set so validators accept it. */
	hex[12] = '4';
	static const char variant[] = "89ab";
	hex[16] = variant[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') & 3];
	(void)str_format(out, IPP_UUID_MAX, "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
			 hex + 12, hex + 16, hex + 20);
}

/* A media-col collection for m, with the given margins. */
static ipp_t *ipp_media_col(const ipp_media_t *m)
{
	ipp_t *col = ippNew();
	ipp_t *size = ippNew();
	(void)ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-dimension", m->x_dimension);
	(void)ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-dimension", m->y_dimension);
	(void)ippAddCollection(col, IPP_TAG_ZERO, "media-size", size);
	ippDelete(size);
	(void)ippAddString(col, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "media-size-name", NULL, m->name);
	(void)ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, "media-bottom-margin", IPP_MARGIN);
	(void)ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, "media-left-margin", IPP_MARGIN);
	(void)ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, "media-right-margin", IPP_MARGIN);
	(void)ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, "media-top-margin", IPP_MARGIN);
	(void)ippAddString(col, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "media-source", NULL, "auto");
	(void)ippAddString(col, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "media-type", NULL, "stationery");
	return col;
}

/* Adds media-supported, -default, -ready and the media-col family. */
static void ipp_printer_media(ipp_t *p)
{
	const char *names[IPP_MEDIA_COUNT];
	for (size_t i = 0; i < IPP_MEDIA_COUNT; i++)
		names[i] = ipp_media_list[i].name;
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "media-supported",
			    (int)IPP_MEDIA_COUNT, NULL, names);
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "media-ready",
			    (int)IPP_MEDIA_COUNT, NULL, names);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "media-default", NULL, names[0]);
	ipp_attribute_t *db = NULL, *ready = NULL;
	for (size_t i = 0; i < IPP_MEDIA_COUNT; i++) {
		ipp_t *col = ipp_media_col(&ipp_media_list[i]);
		if (db == NULL)
			db = ippAddCollection(p, IPP_TAG_PRINTER, "media-col-database", col);
		else
			(void)ippSetCollection(p, &db, ippGetCount(db), col);
		if (ready == NULL)
			ready = ippAddCollection(p, IPP_TAG_PRINTER, "media-col-ready", col);
		else
			(void)ippSetCollection(p, &ready, ippGetCount(ready), col);
		if (i == 0)
			(void)ippAddCollection(p, IPP_TAG_PRINTER, "media-col-default", col);
		ippDelete(col);
	}
	static const char *const col_members[] = {
		"media-bottom-margin", "media-left-margin", "media-right-margin",
		"media-size",          "media-size-name",   "media-source",
		"media-top-margin",    "media-type"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "media-col-supported",
			    (int)(sizeof(col_members) / sizeof(col_members[0])), NULL, col_members);
	int margin = IPP_MARGIN;
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "media-bottom-margin-supported", 1, &margin);
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "media-left-margin-supported", 1, &margin);
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "media-right-margin-supported", 1, &margin);
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "media-top-margin-supported", 1, &margin);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "media-source-supported", NULL, "auto");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "media-type-supported", NULL, "stationery");
	ipp_t *sizes = NULL;
	ipp_attribute_t *size_attr = NULL;
	for (size_t i = 0; i < IPP_MEDIA_COUNT; i++) {
		sizes = ippNew();
		(void)ippAddInteger(sizes, IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-dimension", ipp_media_list[i].x_dimension);
		(void)ippAddInteger(sizes, IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-dimension", ipp_media_list[i].y_dimension);
		if (size_attr == NULL)
			size_attr = ippAddCollection(p, IPP_TAG_PRINTER, "media-size-supported", sizes);
		else
			(void)ippSetCollection(p, &size_attr, ippGetCount(size_attr), sizes);
		ippDelete(sizes);
	}
}

/* Adds formats, finishing, layout and raster capabilities. */
static void ipp_printer_capabilities(ipp_t *p)
{
	size_t n_formats = 0;
	const char *const *formats = ipp_formats(&n_formats);
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_MIMETYPE, "document-format-supported",
			    (int)n_formats, NULL, formats);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_MIMETYPE, "document-format-default", NULL,
			   "application/octet-stream");
	static const char *const sides[] = {"one-sided", "two-sided-long-edge", "two-sided-short-edge"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "sides-supported", 3, NULL, sides);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "sides-default", NULL, "one-sided");
	static const char *const colors[] = {"auto", "color", "monochrome"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-color-mode-supported", 3, NULL, colors);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-color-mode-default", NULL, "auto");
	(void)ippAddRange(p, IPP_TAG_PRINTER, "copies-supported", 1, OPTIONS_COPIES_MAX);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "copies-default", 1);
	(void)ippAddBoolean(p, IPP_TAG_PRINTER, "page-ranges-supported", 1);
	static const int nup[] = {1, 2, 4, 6, 9, 16};
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "number-up-supported", 6, nup);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "number-up-default", 1);
	static const int finishings[] = {
		IPP_FINISHINGS_NONE, IPP_FINISHINGS_STAPLE, IPP_FINISHINGS_STAPLE_TOP_LEFT,
		IPP_FINISHINGS_STAPLE_BOTTOM_LEFT, IPP_FINISHINGS_STAPLE_TOP_RIGHT,
		IPP_FINISHINGS_STAPLE_BOTTOM_RIGHT, IPP_FINISHINGS_STAPLE_DUAL_LEFT,
		IPP_FINISHINGS_STAPLE_DUAL_TOP};
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_ENUM, "finishings-supported",
			     (int)(sizeof(finishings) / sizeof(finishings[0])), finishings);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_ENUM, "finishings-default", IPP_FINISHINGS_NONE);
	static const int orientations[] = {IPP_ORIENT_PORTRAIT, IPP_ORIENT_LANDSCAPE,
					   IPP_ORIENT_REVERSE_LANDSCAPE, IPP_ORIENT_REVERSE_PORTRAIT,
					   IPP_ORIENT_NONE};
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_ENUM, "orientation-requested-supported", 5, orientations);
	/* The default is the page's own orientation: no value (RFC 8011 5.1.5), as 7 'none' is
	   outside the range RFC 8011 clients check. */
	(void)ippAddOutOfBand(p, IPP_TAG_PRINTER, IPP_TAG_NOVALUE, "orientation-requested-default");
	static const int qualities[] = {IPP_QUALITY_DRAFT, IPP_QUALITY_NORMAL, IPP_QUALITY_HIGH};
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_ENUM, "print-quality-supported", 3, qualities);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_ENUM, "print-quality-default", IPP_QUALITY_NORMAL);
	int xres[] = {300, 600}, yres[] = {300, 600};
	(void)ippAddResolutions(p, IPP_TAG_PRINTER, "printer-resolution-supported", 2, IPP_RES_PER_INCH, xres, yres);
	(void)ippAddResolution(p, IPP_TAG_PRINTER, "printer-resolution-default", IPP_RES_PER_INCH, 600, 600);
	(void)ippAddResolutions(p, IPP_TAG_PRINTER, "pwg-raster-document-resolution-supported", 2, IPP_RES_PER_INCH, xres, yres);
	static const char *const raster_types[] = {"black_1", "sgray_8", "srgb_8"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "pwg-raster-document-type-supported", 3, NULL, raster_types);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "pwg-raster-document-sheet-back", NULL, "normal");
	static const char *const urf[] = {"V1.4", "CP1", "DM1", "IS1", "MT1-2", "OB9", "PQ3-4-5", "RS300-600", "SRGB24", "W8"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "urf-supported",
			    (int)(sizeof(urf) / sizeof(urf[0])), NULL, urf);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "output-bin-supported", NULL, "face-down");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "output-bin-default", NULL, "face-down");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "compression-supported", NULL, "none");
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "job-priority-supported", 100);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "job-priority-default", 50);
	static const char *const holds[] = {"indefinite", "no-hold"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "job-hold-until-supported", 2, NULL, holds);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "job-hold-until-default", NULL, "indefinite");
	static const char *const creation[] = {
		"copies", "finishings", "ipp-attribute-fidelity", "job-hold-until", "job-name",
		"job-priority", "media", "media-col", "multiple-document-handling", "number-up",
		"orientation-requested", "output-bin", "page-ranges", "print-color-mode",
		"print-content-optimize", "print-quality", "print-rendering-intent",
		"printer-resolution", "sides"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "job-creation-attributes-supported",
			    (int)(sizeof(creation) / sizeof(creation[0])), NULL, creation);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "multiple-document-handling-supported", NULL,
			   "separate-documents-uncollated-copies");
	/* The converter and the printer choose; "auto" is the one true value. */
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-content-optimize-supported", NULL, "auto");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-content-optimize-default", NULL, "auto");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-rendering-intent-supported", NULL, "auto");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-rendering-intent-default", NULL, "auto");
}

bool ipp_printer_icon_uri(const char *printer_uri, int px, char *out, size_t out_size)
{
	bool is_tls = strncmp(printer_uri, "ipps://", 7) == 0;
	if (!is_tls && strncmp(printer_uri, "ipp://", 6) != 0)
		return false;
	const char *host = printer_uri + (is_tls ? 7 : 6);
	size_t host_len = strcspn(host, "/?#");
	if (host_len == 0 || host_len > 255)
		return false;
	return str_format(out, out_size, "%s://%.*s/icons/printer-%d.png", is_tls ? "https" : "http",
			  (int)host_len, host, px);
}

/* printer-icons: the three sizes the icons route serves (server/icons.c). */
static void ipp_printer_icons(ipp_t *p, const char *printer_uri)
{
	static const int sizes[] = {48, 128, 512};
	char uris[3][IPP_URI_MAX];
	const char *values[3];
	for (size_t i = 0; i < 3; i++) {
		if (!ipp_printer_icon_uri(printer_uri, sizes[i], uris[i], sizeof(uris[i])))
			return;
		values[i] = uris[i];
	}
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-icons", 3, NULL, values);
}

void ipp_op_identify_printer(ipp_op_ctx_t *ctx)
{
	/* No standard action (display, flash, sound, speak) is something this server can do:
	 * the request is accepted and logged, and any action asked for is reported ignored. */
	ipp_attribute_t *actions = ippFindAttribute(ctx->request, "identify-actions", IPP_TAG_ZERO);
	log_info("ipp.identify_requested user_id=%lld via=%s actions=%d: a client asked the "
		 "printer to identify itself; Pullprint has no light, speaker or panel",
		 (long long)ctx->user->id, ipp_via_name(ctx->via),
		 actions != NULL ? ippGetCount(actions) : 0);
	if (actions != NULL && ippGetGroupTag(actions) == IPP_TAG_OPERATION) {
		ipp_attribute_t *copy = ippCopyAttribute(ctx->response, actions, 0);
		if (copy != NULL)
			(void)ippSetGroupTag(ctx->response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
		ipp_response_status(ctx->response, IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED,
				    "Pullprint is a server without light, speaker or panel; the "
				    "request was logged for the administrator.");
		return;
	}
	ipp_response_status(ctx->response, IPP_STATUS_OK, NULL);
}

/* Adds printer-uri-supported with its parallel uri-security and uri-authentication lists. */
static void ipp_printer_uris(ipp_t *p, const char *printer_uri, const char *personal_uri)
{
	bool is_tls = strncmp(printer_uri, "ipps://", 7) == 0;
	const char *uris[2], *security[2], *auth[2];
	int n = 0;
	if (personal_uri != NULL) {
		uris[n] = personal_uri;
		security[n] = is_tls ? "tls" : "none";
		auth[n++] = "none"; /* the token in the path names the user */
	}
	uris[n] = printer_uri;
	security[n] = is_tls ? "tls" : "none";
	auth[n++] = is_tls ? "basic" : "none"; /* plain IPP: printer attributes, trusted networks */
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-uri-supported", n, NULL, uris);
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "uri-security-supported", n, NULL,
			    security);
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "uri-authentication-supported", n,
			    NULL, auth);
}

void ipp_printer_now_read(pp_core_t *core, ipp_printer_now_t *now_r)
{
	memset(now_r, 0, sizeof(*now_r));
	now_r->now = core_now(core);
	pp_db_result_t *result = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(core->db,
		     "SELECT COUNT(*) FROM jobs WHERE state IN "
		     "('incoming','received','converting','held','releasing','printing')",
		     NULL, 0, &result, error, sizeof(error)) != DB_OK) {
		log_warn("ipp.queued_count_failed error=\"%s\"", error);
	} else {
		int64_t n = db_result_rows(result) > 0 ? db_result_int(result, 0, 0) : 0;
		now_r->queued_jobs = (int)(n > INT32_MAX ? INT32_MAX : n);
		db_result_free(&result);
	}
	if (settings_get_string(core, "ipp.location", now_r->location, sizeof(now_r->location),
				error, sizeof(error)) < 0 ||
	    settings_get_string(core, "ipp.geo_location", now_r->geo_location,
				sizeof(now_r->geo_location), error, sizeof(error)) < 0)
		log_warn("ipp.location_unreadable error=\"%s\"", error);
}

/* printer-location, and printer-geo-location or its out-of-band unknown. */
static void ipp_printer_location(ipp_t *p, const ipp_printer_now_t *state)
{
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-location", NULL,
			   state->location);
	if (state->geo_location[0] != '\0')
		(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-geo-location", NULL,
				   state->geo_location);
	else
		(void)ippAddOutOfBand(p, IPP_TAG_PRINTER, IPP_TAG_UNKNOWN, "printer-geo-location");
}

/* Adds identity, protocol and state attributes. */
static void ipp_printer_identity(const pp_ipp_service_t *svc, ipp_t *p, const char *printer_uri,
				 const char *personal_uri, const ipp_printer_now_t *state)
{
	ipp_printer_uris(p, printer_uri, personal_uri);
	ipp_printer_icons(p, printer_uri);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-device-id", NULL,
			   "MFG:Pullprint;MDL:Secure Release;CMD:PDF,PS,JPEG,PNG,PWGRaster,URF;");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_NAME, "printer-name", NULL, "Pullprint");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-info", NULL,
			   "Pullprint: documents wait until you release them at a printer");
	ipp_printer_location(p, state);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-make-and-model", NULL, "Pullprint Secure Release");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-organization", NULL, "");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-organizational-unit", NULL, "");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-uuid", NULL, svc->printer_uuid);
	char more_info[IPP_URI_MAX];
	/* The portal is the printer's web page: the same host, https, path "/". */
	const char *host = strstr(printer_uri, "://");
	const char *path = host != NULL ? strchr(host + 3, '/') : NULL;
	if (host != NULL && path != NULL &&
	    str_format(more_info, sizeof(more_info), "https://%.*s/", (int)(path - host - 3), host + 3))
		(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-more-info", NULL, more_info);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-firmware-name", NULL, "Pullprint");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-firmware-string-version", NULL, PP_VERSION);
	(void)ippAddOctetString(p, IPP_TAG_PRINTER, "printer-firmware-version", PP_VERSION, (int)strlen(PP_VERSION));
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-kind", NULL, "document");
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_ENUM, "printer-state", IPP_PSTATE_IDLE);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-state-reasons", NULL, "none");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-state-message", NULL, "Ready: jobs are held for release.");
	(void)ippAddBoolean(p, IPP_TAG_PRINTER, "printer-is-accepting-jobs", 1);
	static const char *const versions[] = {"1.1", "2.0"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp-versions-supported", 2, NULL, versions);
	static const char *const features[] = {"ipp-everywhere"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp-features-supported", 1, NULL, features);
	size_t n_ops = 0;
	const int *ops = ipp_operations(&n_ops);
	(void)ippAddIntegers(p, IPP_TAG_PRINTER, IPP_TAG_ENUM, "operations-supported", (int)n_ops, ops);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_CHARSET, "charset-configured", NULL, "utf-8");
	static const char *const charsets[] = {"us-ascii", "utf-8"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_CHARSET, "charset-supported", 2, NULL, charsets);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_LANGUAGE, "natural-language-configured", NULL, "en");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_LANGUAGE, "generated-natural-language-supported", NULL, "en");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "pdl-override-supported", NULL, "attempted");
	(void)ippAddBoolean(p, IPP_TAG_PRINTER, "multiple-document-jobs-supported", 0);
	(void)ippAddBoolean(p, IPP_TAG_PRINTER, "job-ids-supported", 1);
	static const char *const which[] = {"completed", "not-completed"};
	(void)ippAddStrings(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "which-jobs-supported", 2, NULL, which);
	(void)ippAddBoolean(p, IPP_TAG_PRINTER, "color-supported", 1);
	(void)ippAddRange(p, IPP_TAG_PRINTER, "job-k-octets-supported", 0, INT32_MAX / 1024);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "multiple-operation-time-out",
			    IPP_MULTIPLE_OPERATION_TIMEOUT);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "job-password-supported",
			    IPP_JOB_PASSWORD_MAX);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "job-password-encryption-supported",
			   NULL, "none");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "job-password-repertoire-supported",
			   NULL, "iana_us-ascii_digits");
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "job-password-repertoire-configured",
			   NULL, "iana_us-ascii_digits");
	(void)ippAddBoolean(p, IPP_TAG_PRINTER, "preferred-attributes-supported", 0);
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-get-attributes-supported",
			   NULL, "document-format"); /* accepted; the answer is the same for all */
	(void)ippAddString(p, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "multiple-operation-time-out-action", NULL, "abort-job");
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "queued-job-count", state->queued_jobs);
	/* Unix seconds throughout, so time-at-* of jobs compare with printer-up-time. */
	int up = state->now > svc->started_at ? (int)(state->now & INT32_MAX) : (int)(svc->started_at & INT32_MAX);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "printer-up-time", up);
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "printer-config-change-time",
			    (int)(svc->started_at & INT32_MAX));
	(void)ippAddInteger(p, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "printer-state-change-time",
			    (int)(svc->started_at & INT32_MAX));
	(void)ippAddDate(p, IPP_TAG_PRINTER, "printer-current-time", ippTimeToDate((time_t)state->now));
	(void)ippAddDate(p, IPP_TAG_PRINTER, "printer-config-change-date-time",
			 ippTimeToDate((time_t)svc->started_at));
	(void)ippAddDate(p, IPP_TAG_PRINTER, "printer-state-change-date-time",
			 ippTimeToDate((time_t)svc->started_at));
}

void ipp_printer_attrs_add(const pp_ipp_service_t *svc, ipp_t *request, ipp_t *response,
			   const char *printer_uri, const ipp_printer_now_t *state)
{
	ipp_printer_attrs_add_personal(svc, request, response, printer_uri, NULL, state);
}

void ipp_printer_attrs_add_personal(const pp_ipp_service_t *svc, ipp_t *request,
				    ipp_t *response, const char *printer_uri,
				    const char *personal_uri, const ipp_printer_now_t *state)
{
	ipp_t *all = ippNew();
	if (all == NULL)
		return;
	ipp_printer_identity(svc, all, printer_uri, personal_uri, state);
	ipp_printer_capabilities(all);
	ipp_printer_media(all);
	/* requested-attributes (groups like "printer-description" expanded by libcups). */
	cups_array_t *requested = ippCreateRequestedArray(request);
	for (ipp_attribute_t *attr = ippFirstAttribute(all); attr != NULL;
	     attr = ippNextAttribute(all)) {
		const char *name = ippGetName(attr);
		if (name == NULL || name[0] == '\0')
			continue;
		if (requested == NULL || cupsArrayFind(requested, (void *)name) != NULL)
			(void)ippCopyAttribute(response, attr, 0);
	}
	cupsArrayDelete(requested);
	ippDelete(all);
}
