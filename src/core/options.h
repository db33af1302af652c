/*
 * options.h - the print options of a job: copies, sides, colour, media, n-up, stapling, page
 * ranges and orientation.
 *
 * Options arrive from IPP attributes, mail subjects, the portal and the REST API; all of them
 * end in one pp_print_options_t, validated here, and are stored as JSON in jobs.options.
 * The JSON keys are the field names below (snake_case); enum values use the IPP keywords
 * ("two-sided-long-edge", "monochrome", "iso_a4_210x297mm"). Page ranges are a text such as
 * "1-3,5": 1-based, ascending, non-overlapping, at most OPTIONS_RANGES_MAX ranges.
 */
#ifndef PP_OPTIONS_H
#define PP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPTIONS_COPIES_MAX 999
#define OPTIONS_MEDIA_MAX 64 /* longest media name, with the terminator */
#define OPTIONS_RANGES_MAX 100
#define OPTIONS_PAGE_MAX 2147483647u /* IPP integer range */
#define OPTIONS_RANGES_TEXT_MAX 2048 /* "a-b," * 100 with 10-digit numbers fits */
#define OPTIONS_DEFAULT_MEDIA "iso_a4_210x297mm"

typedef enum {
	PP_SIDES_ONE_SIDED = 0,
	PP_SIDES_TWO_SIDED_LONG_EDGE,
	PP_SIDES_TWO_SIDED_SHORT_EDGE,
} pp_sides_t;

typedef enum {
	PP_COLOR_AUTO = 0,
	PP_COLOR_COLOR,
	PP_COLOR_MONOCHROME,
} pp_color_mode_t;

typedef enum {
	PP_STAPLE_NONE = 0,
	PP_STAPLE_TOP_LEFT,
	PP_STAPLE_TOP_RIGHT,
	PP_STAPLE_BOTTOM_LEFT,
	PP_STAPLE_BOTTOM_RIGHT,
	PP_STAPLE_DUAL_LEFT,
	PP_STAPLE_DUAL_TOP,
} pp_staple_t;

typedef enum {
	PP_ORIENTATION_AUTO = 0,
	PP_ORIENTATION_PORTRAIT,
	PP_ORIENTATION_LANDSCAPE,
	PP_ORIENTATION_REVERSE_PORTRAIT,
	PP_ORIENTATION_REVERSE_LANDSCAPE,
} pp_orientation_t;

/* One inclusive range of 1-based page numbers. */
typedef struct {
	uint32_t first;
	uint32_t last;
} pp_page_range_t;

typedef struct {
	int copies; /* 1..OPTIONS_COPIES_MAX */
	pp_sides_t sides;
	pp_color_mode_t color_mode;
	char media[OPTIONS_MEDIA_MAX]; /* PWG 5101.1 self-describing name */
	int number_up;                 /* 1, 2, 4, 6, 9 or 16 */
	pp_staple_t staple;
	pp_orientation_t orientation;
	size_t n_page_ranges; /* 0 = every page */
	pp_page_range_t page_ranges[OPTIONS_RANGES_MAX];
} pp_print_options_t;

/* Fills opts with the defaults: 1 copy, one-sided, auto colour, A4, 1-up, no staple, auto. */
void options_default(pp_print_options_t *opts);

/*
 * Checks every field of opts. Returns 0, or -1 with error naming the field and what is
 * allowed ("copies: 0 is out of range 1..999").
 */
int options_validate(const pp_print_options_t *opts, char *error, size_t error_size);

/*
 * Parses a JSON object (text) into *opts_r: fields missing from the object keep their
 * defaults; an unknown key, a wrong type or a bad value fails with error naming the field.
 * Returns 0 or -1.
 */
int options_from_json(const char *json, pp_print_options_t *opts_r, char *error, size_t error_size);

/*
 * Same as options_from_json() for an object the caller already parsed (a jansson json_t *,
 * passed as const void * so this header needs no jansson). Returns 0 or -1.
 */
int options_from_json_value(const void *object, pp_print_options_t *opts_r, char *error,
                            size_t error_size);

/*
 * Writes opts as a compact JSON object with sorted keys (stable text, so equal options give
 * equal strings); page_ranges is left out when every page prints.
 * Returns new text (free with free()), or NULL when out of memory.
 */
char *options_to_json(const pp_print_options_t *opts);

/*
 * Parses a page-range list such as "1-3,5" (spaces around numbers allowed) into
 * ranges_r[max_ranges]. Ranges are 1-based, first <= last, ascending and non-overlapping; the
 * empty string means every page (*count_r = 0). Returns 0, or -1 with error saying which
 * range is wrong.
 */
int options_parse_page_ranges(const char *text, pp_page_range_t *ranges_r, size_t max_ranges,
                              size_t *count_r, char *error, size_t error_size);

/*
 * Formats ranges back to text ("1-3,5") into buf[size]; "" for none.
 * Returns false when buf is too small.
 */
bool options_format_page_ranges(const pp_page_range_t *ranges, size_t count, char *buf,
                                size_t size);

/* True when name is a PWG 5101.1 self-describing media name ("na_letter_8.5x11in"). */
bool options_media_is_valid(const char *name);

/*
 * Keyword of each enum value (IPP spelling), and the reverse. The names are borrowed, static;
 * a parse of an unknown word returns false.
 */
const char *options_sides_name(pp_sides_t sides);
bool options_sides_parse(const char *name, pp_sides_t *sides_r);
const char *options_color_mode_name(pp_color_mode_t mode);
bool options_color_mode_parse(const char *name, pp_color_mode_t *mode_r);
const char *options_staple_name(pp_staple_t staple);
bool options_staple_parse(const char *name, pp_staple_t *staple_r);
const char *options_orientation_name(pp_orientation_t orientation);
bool options_orientation_parse(const char *name, pp_orientation_t *orientation_r);

/*
 * Number of pages that print per copy out of a document of doc_pages pages: the pages inside
 * the ranges (all of them without ranges). 0 for a document of 0 pages.
 */
int64_t options_selected_pages(const pp_print_options_t *opts, int64_t doc_pages);

/*
 * Colour pages that print per copy, from a page analysis (jobs.page_info: a JSON array
 * [{"color":bool}, …], page 1 first): those inside the ranges (all of them without ranges).
 * Returns false, *color_r untouched, when the analysis is not a non-empty array (not
 * converted yet, or unreadable): the caller then goes by the job's own counts.
 */
bool options_selected_color_pages(const pp_print_options_t *opts, const char *page_info_json,
				  int64_t *color_r);

/*
 * Sheets of paper for pages_per_copy printed pages with opts: pages are placed number_up per
 * side, one or two sides per sheet, times copies. 0 for no pages.
 */
int64_t options_sheets(const pp_print_options_t *opts, int64_t pages_per_copy);

#endif
