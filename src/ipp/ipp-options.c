/*
 * ipp-options.c - job template attributes (RFC 8011 5.2, PWG 5100.12) mapped onto
 * pp_print_options_t, and back for job attributes.
 *
 * Each attribute has one row in a table with its handler. A value we do not support goes
 * into the response's unsupported-attributes group and the default stays (RFC 8011 4.1.7):
 * the job is accepted with successful-ok-ignored-or-substituted-attributes unless the client
 * asked for ipp-attribute-fidelity, which turns it into client-error-attributes-or-values-
 * not-supported.
 */
#include "ipp/ipp-private.h"

#include "lib/str.h"

#include <string.h>

/* A handler returns true when it took the attribute, false when it is unsupported. */
typedef bool (*ipp_option_fn)(ipp_attribute_t *attr, pp_print_options_t *opts);

typedef struct {
	const char *name;
	ipp_option_fn apply;
} ipp_option_t;

static bool ipp_option_is_single(ipp_attribute_t *attr, ipp_tag_t tag)
{
	return ippGetValueTag(attr) == tag && ippGetCount(attr) == 1;
}

/* A keyword (or, for media, a name) with one value; NULL otherwise. */
static const char *ipp_option_keyword(ipp_attribute_t *attr, bool allow_name)
{
	if (ippGetCount(attr) != 1)
		return NULL;
	ipp_tag_t tag = ippGetValueTag(attr);
	if (tag != IPP_TAG_KEYWORD && !(allow_name && (tag == IPP_TAG_NAME || tag == IPP_TAG_NAMELANG)))
		return NULL;
	return ippGetString(attr, 0, NULL);
}

static bool ipp_option_copies(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	if (!ipp_option_is_single(attr, IPP_TAG_INTEGER))
		return false;
	int copies = ippGetInteger(attr, 0);
	if (copies < 1 || copies > OPTIONS_COPIES_MAX)
		return false;
	opts->copies = copies;
	return true;
}

static bool ipp_option_sides(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	const char *word = ipp_option_keyword(attr, false);
	return word != NULL && options_sides_parse(word, &opts->sides);
}

static bool ipp_option_color(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	const char *word = ipp_option_keyword(attr, false);
	return word != NULL && options_color_mode_parse(word, &opts->color_mode);
}

static bool ipp_option_media(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	const char *word = ipp_option_keyword(attr, true);
	const ipp_media_t *media = word != NULL ? ipp_media_find(word) : NULL;
	return media != NULL && str_copy(opts->media, sizeof(opts->media), media->name);
}

/* media-col: media-size-name or media-size {x-dimension, y-dimension}; other members pass. */
static bool ipp_option_media_col(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	if (!ipp_option_is_single(attr, IPP_TAG_BEGIN_COLLECTION))
		return false;
	ipp_t *col = ippGetCollection(attr, 0);
	const ipp_media_t *media = NULL;
	ipp_attribute_t *name = ippFindAttribute(col, "media-size-name", IPP_TAG_ZERO);
	ipp_attribute_t *size = ippFindAttribute(col, "media-size", IPP_TAG_BEGIN_COLLECTION);
	if (name != NULL) {
		const char *word = ipp_option_keyword(name, true);
		media = word != NULL ? ipp_media_find(word) : NULL;
	} else if (size != NULL && ippGetCount(size) == 1) {
		ipp_t *dims = ippGetCollection(size, 0);
		ipp_attribute_t *x = ippFindAttribute(dims, "x-dimension", IPP_TAG_INTEGER);
		ipp_attribute_t *y = ippFindAttribute(dims, "y-dimension", IPP_TAG_INTEGER);
		if (x != NULL && y != NULL && ippGetCount(x) == 1 && ippGetCount(y) == 1)
			media = ipp_media_find_size(ippGetInteger(x, 0), ippGetInteger(y, 0));
	} else {
		return true; /* margins, type or source alone: the default size stays */
	}
	return media != NULL && str_copy(opts->media, sizeof(opts->media), media->name);
}

static bool ipp_option_number_up(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	if (!ipp_option_is_single(attr, IPP_TAG_INTEGER))
		return false;
	int n = ippGetInteger(attr, 0);
	if (n != 1 && n != 2 && n != 4 && n != 6 && n != 9 && n != 16)
		return false;
	opts->number_up = n;
	return true;
}

/* Staple choices by their IPP finishings enum. */
static const struct {
	int value;
	pp_staple_t staple;
} ipp_finishings[] = {
	{IPP_FINISHINGS_NONE, PP_STAPLE_NONE},
	{IPP_FINISHINGS_STAPLE, PP_STAPLE_TOP_LEFT},
	{IPP_FINISHINGS_STAPLE_TOP_LEFT, PP_STAPLE_TOP_LEFT},
	{IPP_FINISHINGS_STAPLE_TOP_RIGHT, PP_STAPLE_TOP_RIGHT},
	{IPP_FINISHINGS_STAPLE_BOTTOM_LEFT, PP_STAPLE_BOTTOM_LEFT},
	{IPP_FINISHINGS_STAPLE_BOTTOM_RIGHT, PP_STAPLE_BOTTOM_RIGHT},
	{IPP_FINISHINGS_STAPLE_DUAL_LEFT, PP_STAPLE_DUAL_LEFT},
	{IPP_FINISHINGS_STAPLE_DUAL_TOP, PP_STAPLE_DUAL_TOP},
};

int ipp_options_finishing(pp_staple_t staple)
{
	/* Skip the generic "staple" row so a stored choice maps to its exact position. */
	for (size_t i = 2; i < sizeof(ipp_finishings) / sizeof(ipp_finishings[0]); i++) {
		if (ipp_finishings[i].staple == staple)
			return ipp_finishings[i].value;
	}
	return IPP_FINISHINGS_NONE;
}

/* finishings: each value must be ours; at most one staple position. */
static bool ipp_option_finishings(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	if (ippGetValueTag(attr) != IPP_TAG_ENUM)
		return false;
	pp_staple_t chosen = PP_STAPLE_NONE;
	int staples = 0;
	for (int i = 0; i < ippGetCount(attr); i++) {
		int value = ippGetInteger(attr, i);
		bool is_known = false;
		for (size_t k = 0; k < sizeof(ipp_finishings) / sizeof(ipp_finishings[0]); k++) {
			if (ipp_finishings[k].value == value) {
				is_known = true;
				if (ipp_finishings[k].staple != PP_STAPLE_NONE) {
					chosen = ipp_finishings[k].staple;
					staples++;
				}
			}
		}
		if (!is_known)
			return false;
	}
	if (staples > 1)
		return false;
	opts->staple = chosen;
	return true;
}

/* page-ranges: 1setOf rangeOfInteger, ascending and not overlapping. */
static bool ipp_option_page_ranges(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	int count = ippGetCount(attr);
	if (ippGetValueTag(attr) != IPP_TAG_RANGE || count < 1 || count > OPTIONS_RANGES_MAX)
		return false;
	pp_print_options_t trial = *opts;
	for (int i = 0; i < count; i++) {
		int upper = 0;
		int lower = ippGetRange(attr, i, &upper);
		if (lower < 1 || upper < lower)
			return false;
		if (i > 0 && (uint32_t)lower <= trial.page_ranges[i - 1].last)
			return false;
		trial.page_ranges[i].first = (uint32_t)lower;
		trial.page_ranges[i].last = (uint32_t)upper;
	}
	trial.n_page_ranges = (size_t)count;
	*opts = trial;
	return true;
}

static const struct {
	int value;
	pp_orientation_t orientation;
} ipp_orientations[] = {
	{IPP_ORIENT_PORTRAIT, PP_ORIENTATION_PORTRAIT},
	{IPP_ORIENT_LANDSCAPE, PP_ORIENTATION_LANDSCAPE},
	{IPP_ORIENT_REVERSE_LANDSCAPE, PP_ORIENTATION_REVERSE_LANDSCAPE},
	{IPP_ORIENT_REVERSE_PORTRAIT, PP_ORIENTATION_REVERSE_PORTRAIT},
	{IPP_ORIENT_NONE, PP_ORIENTATION_AUTO},
};

int ipp_options_orientation(pp_orientation_t orientation)
{
	for (size_t i = 0; i < sizeof(ipp_orientations) / sizeof(ipp_orientations[0]); i++) {
		if (ipp_orientations[i].orientation == orientation)
			return ipp_orientations[i].value;
	}
	return IPP_ORIENT_NONE;
}

static bool ipp_option_orientation(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	if (!ipp_option_is_single(attr, IPP_TAG_ENUM))
		return false;
	for (size_t i = 0; i < sizeof(ipp_orientations) / sizeof(ipp_orientations[0]); i++) {
		if (ipp_orientations[i].value == ippGetInteger(attr, 0)) {
			opts->orientation = ipp_orientations[i].orientation;
			return true;
		}
	}
	return false;
}

/* Attributes we advertise but that change nothing here: the release step decides. */
static bool ipp_option_print_quality(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	(void)opts;
	return ipp_option_is_single(attr, IPP_TAG_ENUM) && ippGetInteger(attr, 0) >= IPP_QUALITY_DRAFT &&
	       ippGetInteger(attr, 0) <= IPP_QUALITY_HIGH;
}

static bool ipp_option_resolution(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	(void)opts;
	if (!ipp_option_is_single(attr, IPP_TAG_RESOLUTION))
		return false;
	int y = 0;
	ipp_res_t units = IPP_RES_PER_INCH;
	int x = ippGetResolution(attr, 0, &y, &units);
	return units == IPP_RES_PER_INCH && x == y && (x == 300 || x == 600);
}

static bool ipp_option_hold_until(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	(void)opts;
	const char *word = ipp_option_keyword(attr, true);
	/* Every job is held until its owner releases it; these two say nothing else. */
	return word != NULL && (strcmp(word, "no-hold") == 0 || strcmp(word, "indefinite") == 0);
}

static bool ipp_option_output_bin(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	(void)opts;
	const char *word = ipp_option_keyword(attr, true);
	return word != NULL && strcmp(word, "face-down") == 0;
}

static bool ipp_option_media_source(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	(void)opts;
	const char *word = ipp_option_keyword(attr, true);
	return word != NULL && strcmp(word, "auto") == 0;
}

static bool ipp_option_job_priority(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	(void)opts;
	return ipp_option_is_single(attr, IPP_TAG_INTEGER) && ippGetInteger(attr, 0) >= 1 &&
	       ippGetInteger(attr, 0) <= 100;
}

/* print-content-optimize, print-rendering-intent: "auto" only (the converter decides). */
static bool ipp_option_auto_only(ipp_attribute_t *attr, pp_print_options_t *opts)
{
	(void)opts;
	const char *word = ipp_option_keyword(attr, false);
	return word != NULL && strcmp(word, "auto") == 0;
}

static const ipp_option_t ipp_option_table[] = {
	{"copies", ipp_option_copies},
	{"sides", ipp_option_sides},
	{"print-color-mode", ipp_option_color},
	{"media", ipp_option_media},
	{"media-col", ipp_option_media_col},
	{"number-up", ipp_option_number_up},
	{"finishings", ipp_option_finishings},
	{"page-ranges", ipp_option_page_ranges},
	{"orientation-requested", ipp_option_orientation},
	{"print-quality", ipp_option_print_quality},
	{"printer-resolution", ipp_option_resolution},
	{"job-hold-until", ipp_option_hold_until},
	{"output-bin", ipp_option_output_bin},
	{"media-source", ipp_option_media_source},
	{"job-priority", ipp_option_job_priority},
	{"print-content-optimize", ipp_option_auto_only},
	{"print-rendering-intent", ipp_option_auto_only},
};

/* Copies attr into response's unsupported group (created on first use). */
static void ipp_options_unsupported(ipp_t *response, ipp_attribute_t *attr)
{
	if (response == NULL)
		return;
	ipp_attribute_t *copy = ippCopyAttribute(response, attr, 0);
	if (copy != NULL)
		(void)ippSetGroupTag(response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
}

ipp_status_t ipp_options_parse(ipp_t *request, pp_print_options_t *opts_r, ipp_t *response)
{
	options_default(opts_r);
	bool is_fidelity = false;
	ipp_attribute_t *fidelity = ippFindAttribute(request, "ipp-attribute-fidelity", IPP_TAG_ZERO);
	if (fidelity != NULL) {
		if (!ipp_option_is_single(fidelity, IPP_TAG_BOOLEAN)) {
			ipp_options_unsupported(response, fidelity);
			return IPP_STATUS_ERROR_BAD_REQUEST;
		}
		is_fidelity = ippGetBoolean(fidelity, 0) != 0;
	}

	size_t ignored = 0;
	for (ipp_attribute_t *attr = ippFirstAttribute(request); attr != NULL;
	     attr = ippNextAttribute(request)) {
		if (ippGetGroupTag(attr) != IPP_TAG_JOB || ippGetName(attr) == NULL)
			continue;
		const ipp_option_t *row = NULL;
		for (size_t i = 0; i < sizeof(ipp_option_table) / sizeof(ipp_option_table[0]); i++) {
			if (strcmp(ippGetName(attr), ipp_option_table[i].name) == 0)
				row = &ipp_option_table[i];
		}
		pp_print_options_t trial = *opts_r;
		if (row != NULL && row->apply(attr, &trial)) {
			*opts_r = trial;
			continue;
		}
		ipp_options_unsupported(response, attr);
		ignored++;
	}
	/* Combinations (e.g. a range past the IPP integer range) are checked once more here. */
	char error[256];
	if (options_validate(opts_r, error, sizeof(error)) < 0) {
		options_default(opts_r);
		return IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES;
	}
	if (ignored == 0)
		return IPP_STATUS_OK;
	return is_fidelity ? IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES
			   : IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED;
}

/* True for 1..IPP_JOB_PASSWORD_MAX ASCII digits (iana_us-ascii_digits). */
static bool ipp_options_pin_is_valid(const uint8_t *data, int len)
{
	if (len < 1 || len > IPP_JOB_PASSWORD_MAX)
		return false;
	for (int i = 0; i < len; i++) {
		if (data[i] < '0' || data[i] > '9')
			return false;
	}
	return true;
}

ipp_status_t ipp_options_job_password(ipp_t *request, ipp_t *response, char *pin_r,
				      size_t pin_size)
{
	if (pin_size > 0)
		pin_r[0] = '\0';
	ipp_attribute_t *enc = ippFindAttribute(request, "job-password-encryption", IPP_TAG_ZERO);
	if (enc != NULL && ippGetGroupTag(enc) == IPP_TAG_OPERATION) {
		const char *word = ippGetValueTag(enc) == IPP_TAG_KEYWORD && ippGetCount(enc) == 1
					   ? ippGetString(enc, 0, NULL)
					   : NULL;
		if (word == NULL || strcmp(word, "none") != 0) {
			ipp_options_unsupported(response, enc);
			return IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES;
		}
	}
	ipp_attribute_t *pw = ippFindAttribute(request, "job-password", IPP_TAG_ZERO);
	if (pw == NULL || ippGetGroupTag(pw) != IPP_TAG_OPERATION)
		return IPP_STATUS_OK;
	int len = -1;
	bool is_octets = ippGetValueTag(pw) == IPP_TAG_STRING && ippGetCount(pw) == 1;
	const void *data = is_octets ? ippGetOctetString(pw, 0, &len) : NULL;
	if (is_octets && len == 0)
		return IPP_STATUS_OK; /* an empty PIN is no PIN: the job is held as usual */
	if (data == NULL || !ipp_options_pin_is_valid(data, len) || (size_t)len >= pin_size) {
		/* The unsupported group names the attribute, never the value sent. */
		if (response != NULL)
			(void)ippAddOutOfBand(response, IPP_TAG_UNSUPPORTED_GROUP, IPP_TAG_UNSUPPORTED_VALUE,
					      "job-password");
		return IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES;
	}
	memcpy(pin_r, data, (size_t)len);
	pin_r[len] = '\0';
	return IPP_STATUS_OK;
}

void ipp_options_add(ipp_t *ipp, const pp_print_options_t *opts)
{
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", opts->copies);
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "sides", NULL,
			   options_sides_name(opts->sides));
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-color-mode", NULL,
			   options_color_mode_name(opts->color_mode));
	(void)ippAddString(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "media", NULL, opts->media);
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_INTEGER, "number-up", opts->number_up);
	(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_ENUM, "finishings",
			    ipp_options_finishing(opts->staple));
	/* Only an orientation the sender chose: "auto" follows each page. */
	if (opts->orientation != PP_ORIENTATION_AUTO)
		(void)ippAddInteger(ipp, IPP_TAG_JOB, IPP_TAG_ENUM, "orientation-requested",
				    ipp_options_orientation(opts->orientation));
	if (opts->n_page_ranges > 0) {
		int lower[OPTIONS_RANGES_MAX], upper[OPTIONS_RANGES_MAX];
		for (size_t i = 0; i < opts->n_page_ranges; i++) {
			lower[i] = (int)opts->page_ranges[i].first;
			upper[i] = (int)opts->page_ranges[i].last;
		}
		(void)ippAddRanges(ipp, IPP_TAG_JOB, "page-ranges", (int)opts->n_page_ranges, lower,
				   upper);
	}
}
