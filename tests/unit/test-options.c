/* test-options.c - the print options model: JSON in and out, validation, page ranges, media. */
#include "test-support.h"

#include "core/options.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON body and whether it is accepted; rejected rows name the field the message must name. */
typedef struct {
	const char *json;
	const char *field; /* NULL: accepted */
} options_json_case_t;

static const options_json_case_t json_cases[] = {
    {"{}", NULL},
    {"{\"copies\":1}", NULL},
    {"{\"copies\":999}", NULL},
    {"{\"copies\":0}", "copies"},
    {"{\"copies\":1000}", "copies"},
    {"{\"copies\":\"2\"}", "copies"},
    {"{\"copies\":2.5}", "copies"},
    {"{\"sides\":\"one-sided\"}", NULL},
    {"{\"sides\":\"two-sided-long-edge\"}", NULL},
    {"{\"sides\":\"two-sided-short-edge\"}", NULL},
    {"{\"sides\":\"duplex\"}", "sides"},
    {"{\"sides\":2}", "sides"},
    {"{\"color_mode\":\"auto\"}", NULL},
    {"{\"color_mode\":\"color\"}", NULL},
    {"{\"color_mode\":\"monochrome\"}", NULL},
    {"{\"color_mode\":\"grey\"}", "color_mode"},
    {"{\"media\":\"iso_a4_210x297mm\"}", NULL},
    {"{\"media\":\"na_letter_8.5x11in\"}", NULL},
    {"{\"media\":\"a4\"}", "media"},
    {"{\"media\":\"iso_a4_297x210mm\"}", "media"},
    {"{\"number_up\":1}", NULL},
    {"{\"number_up\":2}", NULL},
    {"{\"number_up\":4}", NULL},
    {"{\"number_up\":6}", NULL},
    {"{\"number_up\":9}", NULL},
    {"{\"number_up\":16}", NULL},
    {"{\"number_up\":3}", "number_up"},
    {"{\"number_up\":32}", "number_up"},
    {"{\"staple\":\"none\"}", NULL},
    {"{\"staple\":\"top-left\"}", NULL},
    {"{\"staple\":\"dual-left\"}", NULL},
    {"{\"staple\":\"middle\"}", "staple"},
    {"{\"orientation\":\"portrait\"}", NULL},
    {"{\"orientation\":\"landscape\"}", NULL},
    {"{\"orientation\":\"reverse-portrait\"}", NULL},
    {"{\"orientation\":\"reverse-landscape\"}", NULL},
    {"{\"orientation\":\"auto\"}", NULL},
    {"{\"orientation\":\"sideways\"}", "orientation"},
    {"{\"page_ranges\":\"1-3,5\"}", NULL},
    {"{\"page_ranges\":\"\"}", NULL},
    {"{\"page_ranges\":\"3-1\"}", "page_ranges"},
    {"{\"page_ranges\":[1,3]}", "page_ranges"},
    {"{\"duplex\":true}", "duplex"},
    {"[]", "options"},
    {"{\"copies\":", "options"},
    {"{\"copies\":1,\"copies\":2}", "options"},
};

static void test_options_json_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
		const options_json_case_t *c = &json_cases[i];
		pp_print_options_t opts;
		char error[512] = "";
		int rc = options_from_json(c->json, &opts, error, sizeof(error));
		if (c->field == NULL) {
			if (rc != 0)
				fail_msg("row %zu %s: refused: %s", i, c->json, error);
		} else {
			if (rc == 0)
				fail_msg("row %zu %s: accepted, should name %s", i, c->json,
				         c->field);
			if (strncmp(error, c->field, strlen(c->field)) != 0)
				fail_msg(
				    "row %zu %s: message \"%s\" does not start with the field %s",
				    i, c->json, error, c->field);
		}
	}
}

static void test_options_defaults(void **state)
{
	(void)state;
	pp_print_options_t opts;
	char error[256];
	assert_int_equal(options_from_json("{}", &opts, error, sizeof(error)), 0);
	assert_int_equal(opts.copies, 1);
	assert_int_equal(opts.sides, PP_SIDES_ONE_SIDED);
	assert_int_equal(opts.color_mode, PP_COLOR_AUTO);
	assert_string_equal(opts.media, "iso_a4_210x297mm");
	assert_int_equal(opts.number_up, 1);
	assert_int_equal(opts.staple, PP_STAPLE_NONE);
	assert_int_equal(opts.orientation, PP_ORIENTATION_AUTO);
	assert_int_equal(opts.n_page_ranges, 0);
	assert_int_equal(options_validate(&opts, error, sizeof(error)), 0);
}

static void test_options_json_round_trip(void **state)
{
	(void)state;
	const char *in =
	    "{\"color_mode\":\"monochrome\",\"copies\":3,\"media\":\"na_letter_8.5x11in\","
	    "\"number_up\":4,\"orientation\":\"landscape\",\"page_ranges\":\"1-3,5,9-12\","
	    "\"sides\":\"two-sided-short-edge\",\"staple\":\"top-right\"}";
	pp_print_options_t opts, again;
	char error[256];
	assert_int_equal(options_from_json(in, &opts, error, sizeof(error)), 0);
	assert_int_equal(opts.n_page_ranges, 3);
	char *out = options_to_json(&opts);
	assert_non_null(out);
	assert_string_equal(out, in);
	assert_int_equal(options_from_json(out, &again, error, sizeof(error)), 0);
	assert_memory_equal(&opts, &again, sizeof(opts));
	free(out);

	/* Defaults leave page_ranges out. */
	options_default(&opts);
	out = options_to_json(&opts);
	assert_non_null(out);
	assert_null(strstr(out, "page_ranges"));
	free(out);
}

/* A page-range text, and the ranges it gives (count -1: refused). */
typedef struct {
	const char *text;
	int count;
	pp_page_range_t ranges[4];
} range_case_t;

static const range_case_t range_cases[] = {
    {"", 0, {{0, 0}}},
    {"1", 1, {{1, 1}}},
    {"1-3,5", 2, {{1, 3}, {5, 5}}},
    {" 1 - 3 , 5 ", 2, {{1, 3}, {5, 5}}},
    {"1-3,4-6", 2, {{1, 3}, {4, 6}}},
    {"2-2", 1, {{2, 2}}},
    {"1,3,5,7", 4, {{1, 1}, {3, 3}, {5, 5}, {7, 7}}},
    {"2147483647", 1, {{2147483647u, 2147483647u}}},
    {"0", -1, {{0, 0}}},
    {"0-3", -1, {{0, 0}}},
    {"3-1", -1, {{0, 0}}},
    {"1-3,2-5", -1, {{0, 0}}},
    {"5,1", -1, {{0, 0}}},
    {"1,1", -1, {{0, 0}}},
    {"1-", -1, {{0, 0}}},
    {"-3", -1, {{0, 0}}},
    {"1,,2", -1, {{0, 0}}},
    {"1,", -1, {{0, 0}}},
    {"a", -1, {{0, 0}}},
    {"1;2", -1, {{0, 0}}},
    {"2147483648", -1, {{0, 0}}},
    {"+1", -1, {{0, 0}}},
};

static void test_options_page_ranges_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		const range_case_t *c = &range_cases[i];
		pp_page_range_t ranges[OPTIONS_RANGES_MAX];
		size_t count = 99;
		char error[256] = "";
		int rc = options_parse_page_ranges(c->text, ranges, OPTIONS_RANGES_MAX, &count,
		                                   error, sizeof(error));
		if (c->count < 0) {
			if (rc == 0)
				fail_msg("row %zu \"%s\": accepted", i, c->text);
			if (strstr(error, "page_ranges") == NULL)
				fail_msg("row %zu \"%s\": message \"%s\" does not name page_ranges",
				         i, c->text, error);
			continue;
		}
		if (rc != 0)
			fail_msg("row %zu \"%s\": refused: %s", i, c->text, error);
		if (count != (size_t)c->count)
			fail_msg("row %zu \"%s\": %zu ranges, expected %d", i, c->text, count,
			         c->count);
		for (size_t k = 0; k < count; k++) {
			if (ranges[k].first != c->ranges[k].first ||
			    ranges[k].last != c->ranges[k].last)
				fail_msg("row %zu \"%s\": range %zu is %u-%u", i, c->text, k,
				         ranges[k].first, ranges[k].last);
		}
	}
}

static void test_options_page_ranges_limit(void **state)
{
	(void)state;
	char text[OPTIONS_RANGES_TEXT_MAX];
	size_t pos = 0;
	/* 100 ranges are fine, 101 are not. */
	for (int i = 1; i <= 101; i++) {
		int n = snprintf(text + pos, sizeof(text) - pos, "%s%d", i > 1 ? "," : "", i * 2);
		assert_true(n > 0 && (size_t)n < sizeof(text) - pos);
		pos += (size_t)n;
		if (i == 100) {
			pp_page_range_t ranges[OPTIONS_RANGES_MAX];
			size_t count;
			char error[256];
			assert_int_equal(options_parse_page_ranges(text, ranges, OPTIONS_RANGES_MAX,
			                                           &count, error, sizeof(error)),
			                 0);
			assert_int_equal(count, 100);
			char back[OPTIONS_RANGES_TEXT_MAX];
			assert_true(options_format_page_ranges(ranges, count, back, sizeof(back)));
			assert_string_equal(back, text);
		}
	}
	pp_page_range_t ranges[OPTIONS_RANGES_MAX];
	size_t count;
	char error[256];
	assert_int_equal(options_parse_page_ranges(text, ranges, OPTIONS_RANGES_MAX, &count, error,
	                                           sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "more than 100"));
}

typedef struct {
	const char *name;
	bool is_valid;
} media_case_t;

static const media_case_t media_cases[] = {
    {"iso_a4_210x297mm", true},
    {"iso_a3_297x420mm", true},
    {"iso_a5_148x210mm", true},
    {"na_letter_8.5x11in", true},
    {"na_legal_8.5x14in", true},
    {"na_number-10_4.125x9.5in", true},
    {"jis_b5_182x257mm", true},
    {"om_small-photo_100x150mm", true},
    {"oe_photo-l_3.5x5in", true},
    {"custom_max_16x24in", true},
    {"custom_wide_300x100mm", true},
    {"iso_a4_210x297in", false},
    {"na_letter_216x279mm", false},
    {"iso_a4_297x210mm", false},
    {"ISO_A4_210x297mm", false},
    {"iso__210x297mm", false},
    {"iso_a4_210x297", false},
    {"iso_a4_210mm", false},
    {"iso_a4_x297mm", false},
    {"iso_a4_210.x297mm", false},
    {"iso_a4_0x297mm", false},
    {"xyz_a4_210x297mm", false},
    {"a4", false},
    {"", false},
    {"iso_a4_210x297mm ", false},
    {"iso_-a4_210x297mm", false},
};

static void test_options_media_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(media_cases) / sizeof(media_cases[0]); i++) {
		if (options_media_is_valid(media_cases[i].name) != media_cases[i].is_valid)
			fail_msg("row %zu \"%s\": expected %s", i, media_cases[i].name,
			         media_cases[i].is_valid ? "valid" : "invalid");
	}
}

static void test_options_validate_struct(void **state)
{
	(void)state;
	pp_print_options_t opts;
	char error[256];
	options_default(&opts);
	opts.sides = (pp_sides_t)7;
	assert_int_equal(options_validate(&opts, error, sizeof(error)), -1);
	assert_true(str_has_prefix(error, "sides"));
	options_default(&opts);
	opts.n_page_ranges = 2;
	opts.page_ranges[0] = (pp_page_range_t){3, 5};
	opts.page_ranges[1] = (pp_page_range_t){5, 6};
	assert_int_equal(options_validate(&opts, error, sizeof(error)), -1);
	assert_true(str_has_prefix(error, "page_ranges"));
}

/* Sheets and selected pages: what accounting counts. */
static void test_options_sheets(void **state)
{
	(void)state;
	pp_print_options_t opts;
	options_default(&opts);
	assert_int_equal(options_sheets(&opts, 0), 0);
	assert_int_equal(options_sheets(&opts, 5), 5);
	opts.sides = PP_SIDES_TWO_SIDED_LONG_EDGE;
	assert_int_equal(options_sheets(&opts, 5), 3);
	opts.number_up = 2;
	assert_int_equal(options_sheets(&opts, 5), 2); /* 3 sides -> 2 sheets */
	opts.copies = 3;
	assert_int_equal(options_sheets(&opts, 5), 6);
	opts.number_up = 16;
	opts.sides = PP_SIDES_ONE_SIDED;
	opts.copies = 1;
	assert_int_equal(options_sheets(&opts, 17), 2);

	options_default(&opts);
	assert_int_equal(options_selected_pages(&opts, 10), 10);
	char error[256];
	assert_int_equal(options_parse_page_ranges("1-3,5,9-20", opts.page_ranges,
	                                           OPTIONS_RANGES_MAX, &opts.n_page_ranges, error,
	                                           sizeof(error)),
	                 0);
	assert_int_equal(options_selected_pages(&opts, 10), 3 + 1 + 2);
	assert_int_equal(options_selected_pages(&opts, 4), 3);
	assert_int_equal(options_selected_pages(&opts, 0), 0);
}

/* Colour pages per copy from the page analysis: inside the ranges, or all without ranges. */
static void test_options_selected_color_pages(void **state)
{
	(void)state;
	/* Five pages; 1, 3, 4 and 5 in colour. */
	const char *info = "[{\"color\":true},{\"color\":false},{\"color\":true},"
	                   "{\"color\":true,\"w\":595},{\"color\":true}]";
	pp_print_options_t opts;
	options_default(&opts);
	int64_t color = -1;
	assert_true(options_selected_color_pages(&opts, info, &color));
	assert_int_equal(color, 4);

	char error[256];
	assert_int_equal(options_parse_page_ranges("2-3,5-999", opts.page_ranges,
	                                           OPTIONS_RANGES_MAX, &opts.n_page_ranges, error,
	                                           sizeof(error)),
	                 0);
	assert_true(options_selected_color_pages(&opts, info, &color));
	assert_int_equal(color, 2); /* pages 3 and 5; the range past the end stops there */

	/* Not analysed, or not an analysis: unknown, the caller keeps the job's counts. */
	const char *unknown[] = {"[]", "", "{\"color\":true}", "[{\"color\":tru", NULL};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		color = -1;
		assert_false(options_selected_color_pages(&opts, unknown[i], &color));
		assert_int_equal(color, -1);
	}
	/* Pages without a colour flag, or not objects, count as monochrome. */
	assert_true(options_selected_color_pages(&opts, "[1,{},\"x\",null,{\"color\":1}]", &color));
	assert_int_equal(color, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_json_table),
	    cmocka_unit_test(test_options_defaults),
	    cmocka_unit_test(test_options_json_round_trip),
	    cmocka_unit_test(test_options_page_ranges_table),
	    cmocka_unit_test(test_options_page_ranges_limit),
	    cmocka_unit_test(test_options_media_table),
	    cmocka_unit_test(test_options_validate_struct),
	    cmocka_unit_test(test_options_sheets),
	    cmocka_unit_test(test_options_selected_color_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
