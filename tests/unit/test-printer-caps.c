/* test-printer-caps.c - printer capabilities: defaults, JSON and the choice of output format. */
#include "test-support.h"

#include "core/printer-caps.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_caps_default(void **state)
{
	(void)state;
	pp_printer_caps_t caps;
	memset(&caps, 0x55, sizeof(caps));
	printer_caps_default(&caps);
	assert_int_equal(caps.n_formats, 1);
	assert_string_equal(caps.formats[0], "application/pdf");
	assert_true(caps.is_color);
	assert_false(caps.has_duplex);
	assert_false(caps.has_staple);
	assert_false(caps.speaks_pjl);
	assert_int_equal(caps.resolution_dpi, 0);
	assert_int_equal(caps.n_media, 1);
	assert_string_equal(caps.media[0], "iso_a4_210x297mm");
	assert_string_equal(caps.make_and_model, "");
	assert_string_equal(caps.mac_address, "");

	/* "{}" is the defaults. */
	pp_printer_caps_t parsed;
	char error[256];
	assert_int_equal(printer_caps_from_json("{}", &parsed, error, sizeof(error)), 0);
	assert_memory_equal(&parsed, &caps, sizeof(caps));
}

/* Every field read from JSON, written back with sorted keys, read again the same. */
static void test_caps_json_round_trip(void **state)
{
	(void)state;
	static const char json[] =
	    "{\"formats\":[\"image/pwg-raster\",\"application/PostScript\"],"
	    "\"media\":[\"na_letter_8.5x11in\",\"iso_a3_297x420mm\"],"
	    "\"is_color\":false,\"has_duplex\":true,\"has_staple\":true,\"speaks_pjl\":true,"
	    "\"resolution_dpi\":600,\"make_and_model\":\"Acme LaserJet 9000 — Büro\","
	    "\"mac_address\":\"AA-BB-cc:dd:EE:0f\"}";
	pp_printer_caps_t caps;
	char error[256];
	assert_int_equal(printer_caps_from_json(json, &caps, error, sizeof(error)), 0);
	assert_int_equal(caps.n_formats, 2);
	assert_string_equal(caps.formats[1], "application/PostScript");
	assert_int_equal(caps.n_media, 2);
	assert_string_equal(caps.media[0], "na_letter_8.5x11in");
	assert_false(caps.is_color);
	assert_true(caps.has_duplex && caps.has_staple && caps.speaks_pjl);
	assert_int_equal(caps.resolution_dpi, 600);
	assert_string_equal(caps.make_and_model, "Acme LaserJet 9000 — Büro");
	assert_string_equal(caps.mac_address, "aa:bb:cc:dd:ee:0f"); /* one spelling */

	char *text = printer_caps_to_json(&caps);
	assert_non_null(text);
	assert_string_equal(
	    text, "{\"formats\":[\"image/pwg-raster\",\"application/PostScript\"],"
	          "\"has_duplex\":true,\"has_staple\":true,\"is_color\":false,"
	          "\"mac_address\":\"aa:bb:cc:dd:ee:0f\","
	          "\"make_and_model\":\"Acme LaserJet 9000 — Büro\","
	          "\"media\":[\"na_letter_8.5x11in\",\"iso_a3_297x420mm\"],"
	          "\"resolution_dpi\":600,\"speaks_pjl\":true}");
	pp_printer_caps_t again;
	assert_int_equal(printer_caps_from_json(text, &again, error, sizeof(error)), 0);
	assert_memory_equal(&again, &caps, sizeof(caps));
	free(text);

	/* Keys left out keep the defaults; an empty list is allowed (nothing detected). */
	assert_int_equal(
	    printer_caps_from_json("{\"has_duplex\":true,\"formats\":[]}", &caps, error,
	                           sizeof(error)),
	    0);
	assert_true(caps.has_duplex && caps.is_color);
	assert_int_equal(caps.n_formats, 0);
	assert_int_equal(caps.n_media, 1);
}

/* What an admin might type wrong: refused with the key named. */
static void test_caps_json_refused(void **state)
{
	(void)state;
	char long_list[4096] = "{\"media\":[";
	for (int i = 0; i <= PRINTER_CAPS_MEDIA_MAX; i++)
		assert_true(str_format(long_list + strlen(long_list),
		                       sizeof(long_list) - strlen(long_list), "%s\"m%d\"",
		                       i > 0 ? "," : "", i));
	assert_true(str_format(long_list + strlen(long_list), sizeof(long_list) - strlen(long_list),
	                       "]}"));
	char long_name[200] = "{\"formats\":[\"";
	memset(long_name + strlen(long_name), 'x', PRINTER_CAPS_NAME_MAX);
	assert_true(str_format(long_name + strlen(long_name), sizeof(long_name) - strlen(long_name),
	                       "\"]}"));
	const struct {
		const char *json, *names;
	} rows[] = {
	    {"", "JSON"},
	    {"not json", "JSON"},
	    {"[]", "object"},
	    {"{\"duplex\":true}", "duplex"},
	    {"{\"has_duplex\":\"yes\"}", "has_duplex"},
	    {"{\"is_color\":1}", "is_color"},
	    {"{\"formats\":\"application/pdf\"}", "formats"},
	    {"{\"formats\":[42]}", "formats"},
	    {"{\"formats\":[\"has space\"]}", "formats"},
	    {"{\"formats\":[\"\"]}", "formats"},
	    {long_name, "formats"},
	    {long_list, "media"},
	    {"{\"resolution_dpi\":-1}", "resolution_dpi"},
	    {"{\"resolution_dpi\":99999}", "resolution_dpi"},
	    {"{\"resolution_dpi\":300.5}", "resolution_dpi"},
	    {"{\"make_and_model\":\"two\\nlines\"}", "make_and_model"},
	    {"{\"mac_address\":\"aa:bb:cc\"}", "mac_address"},
	    {"{\"mac_address\":\"zz:bb:cc:dd:ee:ff\"}", "mac_address"},
	    {"{\"has_duplex\":true,\"has_duplex\":false}", "JSON"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_printer_caps_t caps;
		char error[512] = "";
		if (printer_caps_from_json(rows[i].json, &caps, error, sizeof(error)) != -1)
			fail_msg("row %zu accepted", i);
		if (strstr(error, rows[i].names) == NULL || !str_has_prefix(error, "capabilities"))
			fail_msg("row %zu: \"%s\" does not name %s", i, error, rows[i].names);
	}
	pp_printer_caps_t caps;
	char error[256];
	assert_int_equal(printer_caps_from_json(NULL, &caps, error, sizeof(error)), -1);
}

static void test_caps_takes(void **state)
{
	(void)state;
	pp_printer_caps_t caps;
	printer_caps_default(&caps);
	assert_true(printer_caps_takes(&caps, "application/pdf"));
	assert_true(printer_caps_takes(&caps, "Application/PDF"));
	assert_false(printer_caps_takes(&caps, "application/postscript"));
	assert_false(printer_caps_takes(&caps, NULL));
}

/* The format each kind of device is sent. */
static void test_caps_choose_format(void **state)
{
	(void)state;
	static const struct {
		const char *formats; /* JSON list */
		const char *preferred, *expected;
	} rows[] = {
	    /* auto: PDF, else PWG, else URF, else PostScript, else PCL 6, else PCL 5 */
	    {"[\"application/pdf\",\"image/pwg-raster\",\"application/postscript\"]", "auto",
	     "pdf"},
	    {"[\"image/urf\",\"image/pwg-raster\"]", "auto", "pwg"},
	    {"[\"image/urf\",\"application/postscript\"]", "auto", "urf"},
	    {"[\"application/vnd.hp-PCL\",\"application/postscript\"]", "auto", "ps"},
	    {"[\"application/vnd.hp-PCL\",\"application/vnd.hp-PCLXL\"]", "auto", "pcl6"},
	    {"[\"application/vnd.hp-pcl\"]", "auto", "pcl5"},
	    {"[\"IMAGE/PWG-RASTER\"]", "", "pwg"},
	    {"[\"image/pwg-raster\"]", NULL, "pwg"},
	    /* nothing known (an old socket printer): PCL 5 */
	    {"[]", "auto", "pcl5"},
	    {"[\"application/octet-stream\"]", "auto", "pcl5"},
	    /* the admin's choice wins over what the device says */
	    {"[\"application/pdf\"]", "ps", "ps"},
	    {"[\"application/pdf\"]", "pcl5", "pcl5"},
	    {"[\"application/pdf\"]", "urf", "urf"},
	    {"[\"application/pdf\"]", "pcl6", "pcl6"},
	    {"[\"application/pdf\"]", "pwg", "pwg"},
	    {"[\"application/pdf\"]", "pdf", "pdf"},
	    /* not a name */
	    {"[\"application/pdf\"]", "PDF", NULL},
	    {"[\"application/pdf\"]", "pcl", NULL},
	    {"[\"application/pdf\"]", "application/pdf", NULL},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char json[256], error[256];
		pp_printer_caps_t caps;
		assert_true(str_format(json, sizeof(json), "{\"formats\":%s}", rows[i].formats));
		if (printer_caps_from_json(json, &caps, error, sizeof(error)) < 0)
			fail_msg("row %zu: %s", i, error);
		const char *got = printer_caps_choose_format(&caps, rows[i].preferred);
		if (rows[i].expected == NULL ? got != NULL
		                             : got == NULL || strcmp(got, rows[i].expected) != 0)
			fail_msg("row %zu: got %s, expected %s", i, got != NULL ? got : "NULL",
			         rows[i].expected != NULL ? rows[i].expected : "NULL");
	}
}

#define A4 "iso_a4_210x297mm"
#define LETTER "na_letter_8.5x11in"
#define LEGAL "na_legal_8.5x14in"
#define A3 "iso_a3_297x420mm"

/* Substitution at release: loaded paper (media-ready) when known, else the capabilities. */
static void test_caps_media_for_job(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		const char *caps[3];  /* capabilities' media; NULL ends */
		const char *ready[3]; /* loaded now; NULL ends (none = not known) */
		const char *want;
		const char *printed_on;
		bool is_substituted;
	} rows[] = {
	    {"loaded as asked", {A4, LETTER}, {A4}, A4, A4, false},
	    {"A4 asked, only Letter loaded", {A4, LETTER}, {LETTER}, A4, LETTER, true},
	    {"Letter asked, only A4 loaded", {A4, LETTER}, {A4}, LETTER, A4, true},
	    {"Letter loaded beside A4: as asked", {A4}, {LETTER, A4}, A4, A4, false},
	    {"ready unknown: caps have A4", {A4, LETTER}, {NULL}, A4, A4, false},
	    {"ready unknown: caps only Letter", {LETTER}, {NULL}, A4, LETTER, true},
	    {"ready unknown: caps only A4", {A4}, {NULL}, LETTER, A4, true},
	    {"ready beats caps", {LETTER}, {A4}, A4, A4, false},
	    {"no counterpart loaded: as asked", {A4, LETTER}, {LEGAL}, A4, A4, false},
	    {"not A4 or Letter: as asked", {A4}, {A4}, A3, A3, false},
	    {"nothing known: as asked", {NULL}, {NULL}, A4, A4, false},
	    {"other name, same size", {A4}, {"iso_a4_210x297mm"}, "om_a4-ish_210x297mm",
	     "om_a4-ish_210x297mm", false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_printer_caps_t caps;
		printer_caps_default(&caps);
		caps.n_media = 0;
		for (size_t m = 0; m < 3 && rows[i].caps[m] != NULL; m++)
			assert_true(str_copy(caps.media[caps.n_media++], PRINTER_CAPS_NAME_MAX,
					     rows[i].caps[m]));
		size_t n_ready = 0;
		while (n_ready < 3 && rows[i].ready[n_ready] != NULL)
			n_ready++;
		bool is_substituted = !rows[i].is_substituted;
		const char *got = printer_caps_media_for_job(&caps, rows[i].ready, n_ready,
							     rows[i].want, &is_substituted);
		if (strcmp(got, rows[i].printed_on) != 0 ||
		    is_substituted != rows[i].is_substituted)
			fail_msg("row %zu (%s): got %s substituted=%d", i, rows[i].what, got,
				 is_substituted);
	}
}

/* Tray media as devices report it, named the PWG way. */
static void test_caps_media_name(void **state)
{
	(void)state;
	static const struct {
		const char *media;
		int width_mm, height_mm;
		const char *name; /* NULL: not known */
	} rows[] = {
	    {A4, 0, 0, A4},
	    {"na_letter_8.5x11in", 0, 0, LETTER},
	    {"A4", 0, 0, A4},
	    {"letter", 0, 0, LETTER},
	    {"", 210, 297, A4},
	    {"Tray 1", 297, 210, A4},  /* landscape feed */
	    {"", 216, 279, LETTER},
	    {"", 215, 280, LETTER},    /* within 2 mm */
	    {"", 100, 150, NULL},
	    {"", 0, 0, NULL},
	    {"plain_paper", 0, 0, NULL},
	    {NULL, 148, 210, "iso_a5_148x210mm"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char name[PRINTER_CAPS_NAME_MAX] = "x";
		bool is_known = printer_caps_media_name(rows[i].media, rows[i].width_mm,
							rows[i].height_mm, name);
		if (is_known != (rows[i].name != NULL) ||
		    (is_known && strcmp(name, rows[i].name) != 0))
			fail_msg("row %zu: known=%d name=%s", i, is_known, name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caps_default),
	    cmocka_unit_test(test_caps_json_round_trip),
	    cmocka_unit_test(test_caps_json_refused),
	    cmocka_unit_test(test_caps_takes),
	    cmocka_unit_test(test_caps_choose_format),
	    cmocka_unit_test(test_caps_media_for_job),
	    cmocka_unit_test(test_caps_media_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
