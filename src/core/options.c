/* options.c - the print options model, its validation and JSON form; see options.h. */
#include "core/options.h"

#include "lib/str.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* One keyword of an enum, in the IPP spelling. */
typedef struct {
	int value;
	const char *name;
} options_word_t;

static const options_word_t options_sides_words[] = {
    {PP_SIDES_ONE_SIDED, "one-sided"},
    {PP_SIDES_TWO_SIDED_LONG_EDGE, "two-sided-long-edge"},
    {PP_SIDES_TWO_SIDED_SHORT_EDGE, "two-sided-short-edge"},
};

static const options_word_t options_color_words[] = {
    {PP_COLOR_AUTO, "auto"},
    {PP_COLOR_COLOR, "color"},
    {PP_COLOR_MONOCHROME, "monochrome"},
};

static const options_word_t options_staple_words[] = {
    {PP_STAPLE_NONE, "none"},
    {PP_STAPLE_TOP_LEFT, "top-left"},
    {PP_STAPLE_TOP_RIGHT, "top-right"},
    {PP_STAPLE_BOTTOM_LEFT, "bottom-left"},
    {PP_STAPLE_BOTTOM_RIGHT, "bottom-right"},
    {PP_STAPLE_DUAL_LEFT, "dual-left"},
    {PP_STAPLE_DUAL_TOP, "dual-top"},
};

static const options_word_t options_orientation_words[] = {
    {PP_ORIENTATION_AUTO, "auto"},
    {PP_ORIENTATION_PORTRAIT, "portrait"},
    {PP_ORIENTATION_LANDSCAPE, "landscape"},
    {PP_ORIENTATION_REVERSE_PORTRAIT, "reverse-portrait"},
    {PP_ORIENTATION_REVERSE_LANDSCAPE, "reverse-landscape"},
};

#define OPTIONS_WORDS(table) (table), (sizeof(table) / sizeof((table)[0]))

static const int options_number_up_allowed[] = {1, 2, 4, 6, 9, 16};

static const char *options_word_name(const options_word_t *words, size_t count, int value)
{
	for (size_t i = 0; i < count; i++) {
		if (words[i].value == value)
			return words[i].name;
	}
	return NULL;
}

static bool options_word_parse(const options_word_t *words, size_t count, const char *name,
                               int *value_r)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(words[i].name, name) == 0) {
			*value_r = words[i].value;
			return true;
		}
	}
	return false;
}

/* "a|b|c" for error messages. */
static void options_word_list(const options_word_t *words, size_t count, char *buf, size_t size)
{
	size_t pos = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(words[i].name);
		size_t need = len + (i > 0 ? 1 : 0);
		if (pos > size || size - pos <= need)
			return;
		if (i > 0)
			buf[pos++] = '|';
		memcpy(buf + pos, words[i].name, len);
		pos += len;
		buf[pos] = '\0';
	}
}

const char *options_sides_name(pp_sides_t sides)
{
	const char *name = options_word_name(OPTIONS_WORDS(options_sides_words), (int)sides);
	return name != NULL ? name : "one-sided";
}

bool options_sides_parse(const char *name, pp_sides_t *sides_r)
{
	int value;
	if (!options_word_parse(OPTIONS_WORDS(options_sides_words), name, &value))
		return false;
	*sides_r = (pp_sides_t)value;
	return true;
}

const char *options_color_mode_name(pp_color_mode_t mode)
{
	const char *name = options_word_name(OPTIONS_WORDS(options_color_words), (int)mode);
	return name != NULL ? name : "auto";
}

bool options_color_mode_parse(const char *name, pp_color_mode_t *mode_r)
{
	int value;
	if (!options_word_parse(OPTIONS_WORDS(options_color_words), name, &value))
		return false;
	*mode_r = (pp_color_mode_t)value;
	return true;
}

const char *options_staple_name(pp_staple_t staple)
{
	const char *name = options_word_name(OPTIONS_WORDS(options_staple_words), (int)staple);
	return name != NULL ? name : "none";
}

bool options_staple_parse(const char *name, pp_staple_t *staple_r)
{
	int value;
	if (!options_word_parse(OPTIONS_WORDS(options_staple_words), name, &value))
		return false;
	*staple_r = (pp_staple_t)value;
	return true;
}

const char *options_orientation_name(pp_orientation_t orientation)
{
	const char *name =
	    options_word_name(OPTIONS_WORDS(options_orientation_words), (int)orientation);
	return name != NULL ? name : "auto";
}

bool options_orientation_parse(const char *name, pp_orientation_t *orientation_r)
{
	int value;
	if (!options_word_parse(OPTIONS_WORDS(options_orientation_words), name, &value))
		return false;
	*orientation_r = (pp_orientation_t)value;
	return true;
}

void options_default(pp_print_options_t *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->copies = 1;
	opts->sides = PP_SIDES_ONE_SIDED;
	opts->color_mode = PP_COLOR_AUTO;
	(void)str_copy(opts->media, sizeof(opts->media), OPTIONS_DEFAULT_MEDIA);
	opts->number_up = 1;
	opts->staple = PP_STAPLE_NONE;
	opts->orientation = PP_ORIENTATION_AUTO;
	opts->n_page_ranges = 0;
}

static bool options_is_lowalpha_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * A PWG 5101.1 dimension: digits with an optional fraction ("8.5", "210"). Advances *p.
 * Stores the value in thousandths so that short <= long can be compared.
 */
static bool options_media_dimension(const char **p, uint64_t *milli_r)
{
	const char *s = *p;
	uint64_t whole = 0, frac = 0, scale = 1000;
	size_t digits = 0;
	while (*s >= '0' && *s <= '9') {
		if (++digits > 6)
			return false;
		whole = whole * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (digits == 0)
		return false;
	if (*s == '.') {
		s++;
		size_t frac_digits = 0;
		while (*s >= '0' && *s <= '9') {
			if (++frac_digits > 6)
				return false;
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
			s++;
		}
		if (frac_digits == 0)
			return false;
	}
	*milli_r = whole * 1000 + frac;
	*p = s;
	return true;
}

bool options_media_is_valid(const char *name)
{
	/* Classes whose sizes are given in inches and in millimetres (PWG 5101.1 section 5). */
	static const char *const in_classes[] = {"na", "asme", "roc", "oe", "custom"};
	static const char *const mm_classes[] = {"iso", "jis", "jpn", "prc", "om", "custom"};
	if (name == NULL || strlen(name) >= OPTIONS_MEDIA_MAX)
		return false;

	/* class "_" */
	const char *underscore = strchr(name, '_');
	if (underscore == NULL || underscore == name)
		return false;
	size_t class_len = (size_t)(underscore - name);

	/* size-name "_": starts with lowalpha/digit, then lowalpha, digit, '-' or '.' */
	const char *size_name = underscore + 1;
	const char *dims = strrchr(name, '_');
	if (dims == underscore || !options_is_lowalpha_digit(size_name[0]))
		return false;
	for (const char *s = size_name; s < dims; s++) {
		if (!options_is_lowalpha_digit(*s) && *s != '-' && *s != '.')
			return false;
	}

	/* short-dim "x" long-dim unit */
	const char *p = dims + 1;
	uint64_t short_dim, long_dim;
	if (!options_media_dimension(&p, &short_dim) || *p != 'x')
		return false;
	p++;
	if (!options_media_dimension(&p, &long_dim))
		return false;
	bool is_inch;
	if (strcmp(p, "in") == 0)
		is_inch = true;
	else if (strcmp(p, "mm") == 0)
		is_inch = false;
	else
		return false;
	if (short_dim == 0 || long_dim == 0)
		return false;

	/* The class must be one that uses this unit. */
	const char *const *classes = is_inch ? in_classes : mm_classes;
	size_t n_classes = is_inch ? sizeof(in_classes) / sizeof(in_classes[0])
	                           : sizeof(mm_classes) / sizeof(mm_classes[0]);
	bool is_known_class = false;
	for (size_t i = 0; i < n_classes; i++) {
		if (strlen(classes[i]) == class_len && memcmp(classes[i], name, class_len) == 0)
			is_known_class = true;
	}
	if (!is_known_class)
		return false;
	/* Custom min/max limits may be any shape; named sizes are short edge first. */
	bool is_custom = class_len == 6 && memcmp(name, "custom", 6) == 0;
	return is_custom || short_dim <= long_dim;
}

/* Skips ASCII spaces. */
static void options_skip_spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

int options_parse_page_ranges(const char *text, pp_page_range_t *ranges_r, size_t max_ranges,
                              size_t *count_r, char *error, size_t error_size)
{
	const char *p = text;
	size_t count = 0;
	*count_r = 0;
	options_skip_spaces(&p);
	if (*p == '\0')
		return 0;
	for (;;) {
		uint64_t first, last;
		options_skip_spaces(&p);
		if (!parse_uint64(&p, OPTIONS_PAGE_MAX, &first) || first == 0) {
			(void)str_format(error, error_size,
			                 "page_ranges: range %zu must start with a page number "
			                 "from 1 to %u (write it like \"1-3,5\")",
			                 count + 1, OPTIONS_PAGE_MAX);
			return -1;
		}
		options_skip_spaces(&p);
		last = first;
		if (*p == '-') {
			p++;
			options_skip_spaces(&p);
			if (!parse_uint64(&p, OPTIONS_PAGE_MAX, &last) || last == 0) {
				(void)str_format(error, error_size,
				                 "page_ranges: range %zu needs an end page from 1 "
				                 "to %u after '-'",
				                 count + 1, OPTIONS_PAGE_MAX);
				return -1;
			}
			options_skip_spaces(&p);
		}
		if (last < first) {
			(void)str_format(error, error_size,
			                 "page_ranges: range %zu (%llu-%llu) ends before it starts",
			                 count + 1, (unsigned long long)first,
			                 (unsigned long long)last);
			return -1;
		}
		if (count > 0 && first <= ranges_r[count - 1].last) {
			(void)str_format(
			    error, error_size,
			    "page_ranges: range %zu overlaps or comes before the one "
			    "before it; list ranges in ascending order without overlap",
			    count + 1);
			return -1;
		}
		if (count == max_ranges) {
			(void)str_format(error, error_size,
			                 "page_ranges: more than %zu ranges; merge some",
			                 max_ranges);
			return -1;
		}
		ranges_r[count].first = (uint32_t)first;
		ranges_r[count].last = (uint32_t)last;
		count++;
		if (*p == '\0')
			break;
		if (*p != ',') {
			(void)str_format(error, error_size,
			                 "page_ranges: unexpected character after range %zu; "
			                 "separate ranges with ','",
			                 count);
			return -1;
		}
		p++;
	}
	*count_r = count;
	return 0;
}

bool options_format_page_ranges(const pp_page_range_t *ranges, size_t count, char *buf, size_t size)
{
	size_t pos = 0;
	if (size == 0)
		return false;
	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		char item[32];
		bool ok =
		    ranges[i].first == ranges[i].last
		        ? str_format(item, sizeof(item), "%s%u", i > 0 ? "," : "", ranges[i].first)
		        : str_format(item, sizeof(item), "%s%u-%u", i > 0 ? "," : "",
		                     ranges[i].first, ranges[i].last);
		size_t len = strlen(item);
		if (!ok || pos > size || size - pos <= len) {
			buf[0] = '\0';
			return false;
		}
		memcpy(buf + pos, item, len + 1);
		pos += len;
	}
	return true;
}

int options_validate(const pp_print_options_t *opts, char *error, size_t error_size)
{
	char words[256];
	if (opts->copies < 1 || opts->copies > OPTIONS_COPIES_MAX) {
		(void)str_format(error, error_size, "copies: %d is out of range 1..%d",
		                 opts->copies, OPTIONS_COPIES_MAX);
		return -1;
	}
	if (options_word_name(OPTIONS_WORDS(options_sides_words), (int)opts->sides) == NULL) {
		options_word_list(OPTIONS_WORDS(options_sides_words), words, sizeof(words));
		(void)str_format(error, error_size, "sides: unknown value; use %s", words);
		return -1;
	}
	if (options_word_name(OPTIONS_WORDS(options_color_words), (int)opts->color_mode) == NULL) {
		options_word_list(OPTIONS_WORDS(options_color_words), words, sizeof(words));
		(void)str_format(error, error_size, "color_mode: unknown value; use %s", words);
		return -1;
	}
	if (memchr(opts->media, '\0', sizeof(opts->media)) == NULL ||
	    !options_media_is_valid(opts->media)) {
		(void)str_format(error, error_size,
		                 "media: not a PWG self-describing media name; use names like "
		                 "iso_a4_210x297mm or na_letter_8.5x11in");
		return -1;
	}
	bool is_up_ok = false;
	for (size_t i = 0; i < sizeof(options_number_up_allowed) / sizeof(int); i++) {
		if (opts->number_up == options_number_up_allowed[i])
			is_up_ok = true;
	}
	if (!is_up_ok) {
		(void)str_format(error, error_size,
		                 "number_up: %d is not allowed; use 1, 2, 4, 6, 9 or 16",
		                 opts->number_up);
		return -1;
	}
	if (options_word_name(OPTIONS_WORDS(options_staple_words), (int)opts->staple) == NULL) {
		options_word_list(OPTIONS_WORDS(options_staple_words), words, sizeof(words));
		(void)str_format(error, error_size, "staple: unknown value; use %s", words);
		return -1;
	}
	if (options_word_name(OPTIONS_WORDS(options_orientation_words), (int)opts->orientation) ==
	    NULL) {
		options_word_list(OPTIONS_WORDS(options_orientation_words), words, sizeof(words));
		(void)str_format(error, error_size, "orientation: unknown value; use %s", words);
		return -1;
	}
	if (opts->n_page_ranges > OPTIONS_RANGES_MAX) {
		(void)str_format(error, error_size, "page_ranges: more than %d ranges",
		                 OPTIONS_RANGES_MAX);
		return -1;
	}
	for (size_t i = 0; i < opts->n_page_ranges; i++) {
		const pp_page_range_t *r = &opts->page_ranges[i];
		if (r->first == 0 || r->last < r->first || r->last > OPTIONS_PAGE_MAX ||
		    (i > 0 && r->first <= opts->page_ranges[i - 1].last)) {
			(void)str_format(
			    error, error_size,
			    "page_ranges: range %zu is empty, out of order or overlaps "
			    "the one before",
			    i + 1);
			return -1;
		}
	}
	return 0;
}

/* Reads a keyword field of an enum table into *value_r, naming the field on error. */
static int options_json_word(const char *key, json_t *value, const options_word_t *words,
                             size_t count, int *value_r, char *error, size_t error_size)
{
	char list[256];
	options_word_list(words, count, list, sizeof(list));
	if (!json_is_string(value) ||
	    !options_word_parse(words, count, json_string_value(value), value_r)) {
		(void)str_format(error, error_size, "%s: must be one of %s", key, list);
		return -1;
	}
	return 0;
}

/* Reads an integer field within [min, max], naming the field on error. */
static int options_json_int(const char *key, json_t *value, int min, int max, int *value_r,
                            char *error, size_t error_size)
{
	if (!json_is_integer(value)) {
		(void)str_format(error, error_size, "%s: must be a whole number", key);
		return -1;
	}
	json_int_t v = json_integer_value(value);
	if (v < min || v > max) {
		(void)str_format(error, error_size, "%s: %lld is out of range %d..%d", key,
		                 (long long)v, min, max);
		return -1;
	}
	*value_r = (int)v;
	return 0;
}

/* Applies one key of the JSON object to *opts. */
static int options_json_field(const char *key, json_t *value, pp_print_options_t *opts, char *error,
                              size_t error_size)
{
	int word;
	if (strcmp(key, "copies") == 0)
		return options_json_int(key, value, 1, OPTIONS_COPIES_MAX, &opts->copies, error,
		                        error_size);
	if (strcmp(key, "number_up") == 0)
		return options_json_int(key, value, 1, 16, &opts->number_up, error, error_size);
	if (strcmp(key, "sides") == 0) {
		if (options_json_word(key, value, OPTIONS_WORDS(options_sides_words), &word, error,
		                      error_size) < 0)
			return -1;
		opts->sides = (pp_sides_t)word;
		return 0;
	}
	if (strcmp(key, "color_mode") == 0) {
		if (options_json_word(key, value, OPTIONS_WORDS(options_color_words), &word, error,
		                      error_size) < 0)
			return -1;
		opts->color_mode = (pp_color_mode_t)word;
		return 0;
	}
	if (strcmp(key, "staple") == 0) {
		if (options_json_word(key, value, OPTIONS_WORDS(options_staple_words), &word, error,
		                      error_size) < 0)
			return -1;
		opts->staple = (pp_staple_t)word;
		return 0;
	}
	if (strcmp(key, "orientation") == 0) {
		if (options_json_word(key, value, OPTIONS_WORDS(options_orientation_words), &word,
		                      error, error_size) < 0)
			return -1;
		opts->orientation = (pp_orientation_t)word;
		return 0;
	}
	if (strcmp(key, "media") == 0) {
		if (!json_is_string(value) || !options_media_is_valid(json_string_value(value)) ||
		    !str_copy(opts->media, sizeof(opts->media), json_string_value(value))) {
			(void)str_format(error, error_size,
			                 "media: not a PWG self-describing media name; use names "
			                 "like iso_a4_210x297mm or na_letter_8.5x11in");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "page_ranges") == 0) {
		if (!json_is_string(value)) {
			(void)str_format(error, error_size,
			                 "page_ranges: must be a text such as \"1-3,5\"");
			return -1;
		}
		return options_parse_page_ranges(json_string_value(value), opts->page_ranges,
		                                 OPTIONS_RANGES_MAX, &opts->n_page_ranges, error,
		                                 error_size);
	}
	(void)str_format(
	    error, error_size,
	    "%.64s: unknown print option; known options are copies, sides, color_mode, "
	    "media, number_up, staple, page_ranges, orientation",
	    key);
	return -1;
}

int options_from_json_value(const void *object, pp_print_options_t *opts_r, char *error,
                            size_t error_size)
{
	json_t *root = (json_t *)(uintptr_t)object;
	const char *key;
	json_t *value;
	pp_print_options_t opts;
	options_default(&opts);
	if (!json_is_object(root)) {
		(void)str_format(error, error_size, "options: must be a JSON object");
		return -1;
	}
	json_object_foreach(root, key, value)
	{
		if (options_json_field(key, value, &opts, error, error_size) < 0)
			return -1;
	}
	if (options_validate(&opts, error, error_size) < 0)
		return -1;
	*opts_r = opts;
	return 0;
}

int options_from_json(const char *json, pp_print_options_t *opts_r, char *error, size_t error_size)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		(void)str_format(error, error_size, "options: not valid JSON (line %d: %s)",
		                 jerr.line, jerr.text);
		return -1;
	}
	int rc = options_from_json_value(root, opts_r, error, error_size);
	json_decref(root);
	return rc;
}

char *options_to_json(const pp_print_options_t *opts)
{
	char ranges[OPTIONS_RANGES_TEXT_MAX];
	json_t *root = json_object();
	if (root == NULL)
		return NULL;
	int rc = 0;
	rc |= json_object_set_new(root, "copies", json_integer(opts->copies));
	rc |= json_object_set_new(root, "sides", json_string(options_sides_name(opts->sides)));
	rc |= json_object_set_new(root, "color_mode",
	                          json_string(options_color_mode_name(opts->color_mode)));
	rc |= json_object_set_new(root, "media", json_string(opts->media));
	rc |= json_object_set_new(root, "number_up", json_integer(opts->number_up));
	rc |= json_object_set_new(root, "staple", json_string(options_staple_name(opts->staple)));
	rc |= json_object_set_new(root, "orientation",
	                          json_string(options_orientation_name(opts->orientation)));
	if (opts->n_page_ranges > 0) {
		if (!options_format_page_ranges(opts->page_ranges, opts->n_page_ranges, ranges,
		                                sizeof(ranges)))
			rc = -1;
		else
			rc |= json_object_set_new(root, "page_ranges", json_string(ranges));
	}
	char *text = rc == 0 ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	return text;
}

int64_t options_selected_pages(const pp_print_options_t *opts, int64_t doc_pages)
{
	if (doc_pages <= 0)
		return 0;
	if (opts->n_page_ranges == 0)
		return doc_pages;
	int64_t total = 0;
	for (size_t i = 0; i < opts->n_page_ranges; i++) {
		int64_t first = opts->page_ranges[i].first;
		int64_t last = opts->page_ranges[i].last;
		if (first > doc_pages)
			break;
		if (last > doc_pages)
			last = doc_pages;
		total += last - first + 1;
	}
	return total;
}

bool options_selected_color_pages(const pp_print_options_t *opts, const char *page_info_json,
				  int64_t *color_r)
{
	json_t *info = page_info_json != NULL ? json_loads(page_info_json, 0, NULL) : NULL;
	size_t doc_pages = json_is_array(info) ? json_array_size(info) : 0;
	if (doc_pages == 0) {
		json_decref(info);
		return false;
	}
	uint32_t last = doc_pages < UINT32_MAX ? (uint32_t)doc_pages : UINT32_MAX;
	pp_page_range_t all = {.first = 1, .last = last};
	const pp_page_range_t *ranges = opts->n_page_ranges > 0 ? opts->page_ranges : &all;
	size_t n_ranges = opts->n_page_ranges > 0 ? opts->n_page_ranges : 1;
	int64_t color = 0;
	for (size_t r = 0; r < n_ranges; r++) {
		/* p counts in size_t: a range may end at UINT32_MAX. */
		for (size_t p = ranges[r].first; p <= ranges[r].last && p <= doc_pages; p++) {
			json_t *page = json_array_get(info, p - 1);
			if (json_is_true(json_object_get(page, "color")))
				color++;
		}
	}
	json_decref(info);
	*color_r = color;
	return true;
}

int64_t options_sheets(const pp_print_options_t *opts, int64_t pages_per_copy)
{
	if (pages_per_copy <= 0)
		return 0;
	int64_t up = opts->number_up > 0 ? opts->number_up : 1;
	int64_t sides_per_copy = (pages_per_copy + up - 1) / up;
	int64_t sheets_per_copy =
	    opts->sides == PP_SIDES_ONE_SIDED ? sides_per_copy : (sides_per_copy + 1) / 2;
	int64_t copies = opts->copies > 0 ? opts->copies : 1;
	return sheets_per_copy * copies;
}
