/*
 * printer-caps.c - printer capabilities: defaults, the JSON kept in printers.capabilities,
 * and the choice of the output format; see printer-caps.h.
 *
 * The JSON is strict on purpose: an admin who mistypes a key ("duplex" for "has_duplex")
 * hears about it instead of silently keeping the default.
 */
#include "core/printer-caps.h"

#include "core/core.h"
#include "db/db.h"
#include "lib/log.h"
#include "lib/str.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PRINTER_CAPS_DPI_MAX 9600

/* The output formats in the order "auto" tries them, with the MIME types that mean them. */
static const struct {
	const char *name;
	const char *mime[2];
} printer_caps_outputs[] = {
    {"pdf", {"application/pdf", NULL}},
    {"pwg", {"image/pwg-raster", NULL}},
    {"urf", {"image/urf", NULL}},
    {"ps", {"application/postscript", NULL}},
    {"pcl6", {"application/vnd.hp-pclxl", "application/vnd.hp-pcl-xl"}},
    {"pcl5", {"application/vnd.hp-pcl", NULL}},
};
#define PRINTER_CAPS_N_OUTPUTS (sizeof(printer_caps_outputs) / sizeof(printer_caps_outputs[0]))

void printer_caps_default(pp_printer_caps_t *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->n_formats = 1;
	(void)str_copy(caps->formats[0], sizeof(caps->formats[0]), "application/pdf");
	caps->is_color = true;
	caps->n_media = 1;
	(void)str_copy(caps->media[0], sizeof(caps->media[0]), "iso_a4_210x297mm");
}

/* True for a MIME type or media name: 1..63 printable ASCII characters, no space or quote. */
static bool printer_caps_word_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= PRINTER_CAPS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* Reads a list of words (formats or media) into items[max]; *n_r the count. */
static int printer_caps_list(json_t *value, const char *key, size_t max,
			     char (*items)[PRINTER_CAPS_NAME_MAX], size_t *n_r, char *error,
			     size_t error_size)
{
	if (!json_is_array(value)) {
		(void)str_format(error, error_size, "capabilities: %s must be a list of strings",
				 key);
		return -1;
	}
	if (json_array_size(value) > max) {
		(void)str_format(error, error_size, "capabilities: %s lists more than %zu entries",
				 key, max);
		return -1;
	}
	size_t i;
	json_t *item;
	json_array_foreach(value, i, item)
	{
		const char *s = json_string_value(item);
		if (s == NULL || !printer_caps_word_ok(s)) {
			(void)str_format(error, error_size,
					 "capabilities: %s entry %zu must be 1..%d printable "
					 "characters without spaces",
					 key, i + 1, PRINTER_CAPS_NAME_MAX - 1);
			return -1;
		}
		(void)str_copy(items[i], PRINTER_CAPS_NAME_MAX, s);
	}
	*n_r = json_array_size(value);
	return 0;
}

/* Reads a MAC address "aa:bb:cc:dd:ee:ff" (either case, or "-" separators; "" = unknown). */
static int printer_caps_mac(const char *s, char out[32], char *error, size_t error_size)
{
	out[0] = '\0';
	if (s[0] == '\0')
		return 0;
	bool ok = strlen(s) == 17;
	for (size_t i = 0; ok && i < 17; i++) {
		if (i % 3 == 2)
			ok = s[i] == ':' || s[i] == '-';
		else
			ok = str_hex_digit(s[i]) >= 0;
	}
	if (!ok) {
		(void)str_format(error, error_size,
				 "capabilities: mac_address must read aa:bb:cc:dd:ee:ff");
		return -1;
	}
	for (size_t i = 0; i < 17; i++)
		out[i] = i % 3 == 2 ? ':' : s[i];
	out[17] = '\0';
	str_lower_ascii(out);
	return 0;
}

/* Applies one key of the JSON object to caps. */
static int printer_caps_key(pp_printer_caps_t *caps, const char *key, json_t *value, char *error,
			    size_t error_size)
{
	static const struct {
		const char *key;
		size_t offset;
	} flags[] = {
	    {"is_color", offsetof(pp_printer_caps_t, is_color)},
	    {"has_duplex", offsetof(pp_printer_caps_t, has_duplex)},
	    {"has_staple", offsetof(pp_printer_caps_t, has_staple)},
	    {"speaks_pjl", offsetof(pp_printer_caps_t, speaks_pjl)},
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strcmp(key, flags[i].key) != 0)
			continue;
		if (!json_is_boolean(value)) {
			(void)str_format(error, error_size,
					 "capabilities: %s must be true or false", key);
			return -1;
		}
		*(bool *)((char *)caps + flags[i].offset) = json_is_true(value);
		return 0;
	}
	if (strcmp(key, "formats") == 0)
		return printer_caps_list(value, key, PRINTER_CAPS_FORMATS_MAX, caps->formats,
					 &caps->n_formats, error, error_size);
	if (strcmp(key, "media") == 0)
		return printer_caps_list(value, key, PRINTER_CAPS_MEDIA_MAX, caps->media,
					 &caps->n_media, error, error_size);
	if (strcmp(key, "resolution_dpi") == 0) {
		json_int_t dpi = json_is_integer(value) ? json_integer_value(value) : -1;
		if (dpi < 0 || dpi > PRINTER_CAPS_DPI_MAX) {
			(void)str_format(error, error_size,
					 "capabilities: resolution_dpi must be a whole number from "
					 "0 (300) to %d",
					 PRINTER_CAPS_DPI_MAX);
			return -1;
		}
		caps->resolution_dpi = (int)dpi;
		return 0;
	}
	if (strcmp(key, "make_and_model") == 0) {
		const char *s = json_string_value(value);
		if (s == NULL || !str_is_printable_utf8(s) ||
		    !str_copy(caps->make_and_model, sizeof(caps->make_and_model), s)) {
			(void)str_format(error, error_size,
					 "capabilities: make_and_model must be one line of at "
					 "most %d bytes",
					 PRINTER_CAPS_TEXT_MAX - 1);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "mac_address") == 0) {
		const char *s = json_string_value(value);
		if (s == NULL) {
			(void)str_format(error, error_size,
					 "capabilities: mac_address must be a string");
			return -1;
		}
		return printer_caps_mac(s, caps->mac_address, error, error_size);
	}
	(void)str_format(error, error_size,
			 "capabilities: unknown key \"%.40s\"; known: formats, media, is_color, "
			 "has_duplex, has_staple, speaks_pjl, resolution_dpi, make_and_model, "
			 "mac_address",
			 key);
	return -1;
}

int printer_caps_from_json(const char *json, pp_printer_caps_t *caps_r, char *error,
			   size_t error_size)
{
	pp_printer_caps_t caps;
	printer_caps_default(&caps);
	json_error_t jerr;
	json_t *root = json_loads(json != NULL ? json : "", JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		if (root == NULL)
			(void)str_format(error, error_size,
					 "capabilities: not valid JSON (%s); write an object such "
					 "as {\"formats\":[\"application/pdf\"],\"has_duplex\":true}",
					 jerr.text);
		else
			(void)str_format(error, error_size,
					 "capabilities: must be a JSON object such as "
					 "{\"has_duplex\":true}");
		json_decref(root);
		return -1;
	}
	const char *key;
	json_t *value;
	json_object_foreach(root, key, value)
	{
		if (printer_caps_key(&caps, key, value, error, error_size) < 0) {
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	*caps_r = caps;
	return 0;
}

/* A JSON array of the n strings in items; NULL on no memory. */
static json_t *printer_caps_array(const char (*items)[PRINTER_CAPS_NAME_MAX], size_t n)
{
	json_t *array = json_array();
	for (size_t i = 0; array != NULL && i < n; i++) {
		if (json_array_append_new(array, json_string(items[i])) < 0) {
			json_decref(array);
			array = NULL;
		}
	}
	return array;
}

char *printer_caps_to_json(const pp_printer_caps_t *caps)
{
	json_t *obj = json_object();
	if (obj == NULL)
		return NULL;
	int rc = 0;
	rc |= json_object_set_new(obj, "formats",
				  printer_caps_array((const char(*)[PRINTER_CAPS_NAME_MAX])caps->formats,
						     caps->n_formats));
	rc |= json_object_set_new(obj, "media",
				  printer_caps_array((const char(*)[PRINTER_CAPS_NAME_MAX])caps->media,
						     caps->n_media));
	rc |= json_object_set_new(obj, "is_color", json_boolean(caps->is_color));
	rc |= json_object_set_new(obj, "has_duplex", json_boolean(caps->has_duplex));
	rc |= json_object_set_new(obj, "has_staple", json_boolean(caps->has_staple));
	rc |= json_object_set_new(obj, "speaks_pjl", json_boolean(caps->speaks_pjl));
	rc |= json_object_set_new(obj, "resolution_dpi", json_integer(caps->resolution_dpi));
	rc |= json_object_set_new(obj, "make_and_model", json_string(caps->make_and_model));
	rc |= json_object_set_new(obj, "mac_address", json_string(caps->mac_address));
	char *text = rc == 0 ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(obj);
	return text;
}

bool printer_caps_takes(const pp_printer_caps_t *caps, const char *format)
{
	for (size_t i = 0; format != NULL && i < caps->n_formats && i < PRINTER_CAPS_FORMATS_MAX;
	     i++) {
		if (strcasecmp(caps->formats[i], format) == 0)
			return true;
	}
	return false;
}

const char *printer_caps_choose_format(const pp_printer_caps_t *caps, const char *preferred)
{
	bool is_auto = preferred == NULL || preferred[0] == '\0' || strcmp(preferred, "auto") == 0;
	for (size_t i = 0; i < PRINTER_CAPS_N_OUTPUTS; i++) {
		if (is_auto) {
			for (size_t m = 0; m < 2; m++) {
				const char *mime = printer_caps_outputs[i].mime[m];
				if (mime != NULL && printer_caps_takes(caps, mime))
					return printer_caps_outputs[i].name;
			}
		} else if (strcmp(preferred, printer_caps_outputs[i].name) == 0) {
			return printer_caps_outputs[i].name;
		}
	}
	/* Nothing known accepted: PCL 5 is what the oldest socket printers still take. */
	return is_auto ? "pcl5" : NULL;
}

/* Paper sizes a tray or a job commonly has, for names and sizes given without a PWG name. */
static const struct {
	const char *word;
	const char *pwg;
	int width_mm, height_mm;
} printer_caps_papers[] = {
    {"a4", "iso_a4_210x297mm", 210, 297},
    {"letter", "na_letter_8.5x11in", 216, 279},
    {"legal", "na_legal_8.5x14in", 216, 356},
    {"a3", "iso_a3_297x420mm", 297, 420},
    {"a5", "iso_a5_148x210mm", 148, 210},
};
#define PRINTER_CAPS_N_PAPERS (sizeof(printer_caps_papers) / sizeof(printer_caps_papers[0]))
#define PRINTER_CAPS_SIZE_SLACK_MM 2

/* True when a and b are within the slack of each other. */
static bool printer_caps_near(int a, int b)
{
	return a - b <= PRINTER_CAPS_SIZE_SLACK_MM && b - a <= PRINTER_CAPS_SIZE_SLACK_MM;
}

bool printer_caps_media_name(const char *media, int width_mm, int height_mm,
			     char name_r[PRINTER_CAPS_NAME_MAX])
{
	name_r[0] = '\0';
	const char *last = media != NULL ? strrchr(media, '_') : NULL;
	size_t len = media != NULL ? strlen(media) : 0;
	/* class_name_WxHunit: at least two '_' and a size ending in mm or in. */
	if (last != NULL && last != strchr(media, '_') && strchr(last, 'x') != NULL &&
	    len > 2 && (strcmp(media + len - 2, "mm") == 0 || strcmp(media + len - 2, "in") == 0))
		return str_copy(name_r, PRINTER_CAPS_NAME_MAX, media);
	for (size_t i = 0; i < PRINTER_CAPS_N_PAPERS; i++) {
		bool is_word = media != NULL && strcasecmp(media, printer_caps_papers[i].word) == 0;
		int w = printer_caps_papers[i].width_mm, h = printer_caps_papers[i].height_mm;
		bool is_size = (printer_caps_near(width_mm, w) && printer_caps_near(height_mm, h)) ||
			       (printer_caps_near(width_mm, h) && printer_caps_near(height_mm, w));
		if (is_word || (width_mm > 0 && height_mm > 0 && is_size))
			return str_copy(name_r, PRINTER_CAPS_NAME_MAX, printer_caps_papers[i].pwg);
	}
	return false;
}

/* The size part of a PWG name ("210x297mm"), or the name itself. */
static const char *printer_caps_media_size(const char *name)
{
	const char *last = strrchr(name, '_');
	return last != NULL ? last + 1 : name;
}

/* The name among names[n] of the same size as want, or NULL. */
static const char *printer_caps_media_find(const char *const *names, size_t n, const char *want)
{
	const char *size = printer_caps_media_size(want);
	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(printer_caps_media_size(names[i]), size) == 0)
			return names[i];
	}
	return NULL;
}

const char *printer_caps_media_for_job(const pp_printer_caps_t *caps, const char *const *ready,
				       size_t n_ready, const char *want, bool *is_substituted_r)
{
	*is_substituted_r = false;
	if (want == NULL || want[0] == '\0')
		return want;
	/* What the printer has: its loaded paper when known, else what it says it supports. */
	const char *known[PRINTER_CAPS_MEDIA_MAX];
	const char *const *names = ready;
	size_t n = n_ready;
	if (n_ready == 0) {
		n = caps->n_media < PRINTER_CAPS_MEDIA_MAX ? caps->n_media : PRINTER_CAPS_MEDIA_MAX;
		for (size_t i = 0; i < n; i++)
			known[i] = caps->media[i];
		names = known;
	}
	if (n == 0 || printer_caps_media_find(names, n, want) != NULL)
		return want;
	/* A4 <-> Letter: the usual mix-up between what people make and what is loaded. */
	const char *other = NULL;
	if (strcmp(printer_caps_media_size(want), "210x297mm") == 0)
		other = printer_caps_media_find(names, n, "na_letter_8.5x11in");
	else if (strcmp(printer_caps_media_size(want), "8.5x11in") == 0)
		other = printer_caps_media_find(names, n, "iso_a4_210x297mm");
	if (other == NULL)
		return want;
	*is_substituted_r = true;
	return other;
}

size_t printer_caps_media_loaded(struct pp_core *core, int64_t printer_id,
				 char (*names_r)[PRINTER_CAPS_NAME_MAX], size_t max)
{
	/* The cache only, and only a check that worked: stale trays are better than none (the
	 * release step refreshes an old status), a failed check says nothing about paper. */
	const pp_db_value_t params[] = {DB_INT(printer_id)};
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(core->db,
		     "SELECT trays FROM printer_status WHERE printer_id = $1 AND error = ''",
		     params, 1, &res, error, sizeof(error)) != DB_OK) {
		log_error("printer_caps.loaded_failed printer_id=%lld error=\"%s\" action=\"paper "
			  "substitution goes by the capabilities; check the database\"",
			  (long long)printer_id, error);
		return 0;
	}
	json_t *trays = db_result_rows(res) == 1 ? json_loads(db_result_text(res, 0, 0), 0, NULL)
						 : NULL;
	db_result_free(&res);
	size_t n = 0;
	for (size_t i = 0; json_is_array(trays) && i < json_array_size(trays) && n < max; i++) {
		json_t *tray = json_array_get(trays, i);
		json_t *level = json_object_get(tray, "level");
		json_t *width = json_object_get(tray, "width_mm");
		json_t *height = json_object_get(tray, "height_mm");
		const char *media = json_string_value(json_object_get(tray, "media"));
		if (json_is_integer(level) && json_integer_value(level) == 0)
			continue; /* empty: nothing of it can print now */
		char name[PRINTER_CAPS_NAME_MAX];
		if (!printer_caps_media_name(media != NULL ? media : "",
					     json_is_integer(width) ? (int)json_integer_value(width) : 0,
					     json_is_integer(height) ? (int)json_integer_value(height)
								     : 0,
					     name))
			continue;
		bool is_seen = false;
		for (size_t k = 0; k < n && !is_seen; k++)
			is_seen = strcmp(names_r[k], name) == 0;
		if (!is_seen)
			(void)str_copy(names_r[n++], PRINTER_CAPS_NAME_MAX, name);
	}
	json_decref(trays);
	return n;
}

bool printer_caps_media_at_release(struct pp_core *core, int64_t printer_id,
				   const pp_printer_caps_t *caps, const char *want, char *media_r,
				   size_t media_size, bool *is_by_loaded_r)
{
	char loaded[PRINTER_CAPS_MEDIA_MAX][PRINTER_CAPS_NAME_MAX];
	const char *names[PRINTER_CAPS_MEDIA_MAX];
	size_t n_loaded = printer_caps_media_loaded(core, printer_id, loaded,
						    PRINTER_CAPS_MEDIA_MAX);
	for (size_t i = 0; i < n_loaded; i++)
		names[i] = loaded[i];
	if (is_by_loaded_r != NULL)
		*is_by_loaded_r = n_loaded > 0;
	bool is_substituted = false;
	const char *media = printer_caps_media_for_job(caps, names, n_loaded,
						       want != NULL ? want : "", &is_substituted);
	if (!is_substituted || !str_copy(media_r, media_size, media)) {
		(void)str_copy(media_r, media_size, want != NULL ? want : "");
		return false;
	}
	return true;
}
