/* test-pjl.c - the PJL envelope of RAW jobs: the exact header and trailer a printer reads. */
#include "test-support.h"

#include "output/pjl.h"

#include <stdio.h>
#include <string.h>

#define UEL "\033%-12345X"

/* One envelope: the job and options in, the exact header out. */
typedef struct {
	const char *row;
	const char *job_name;
	const char *user_name;
	bool has_options;
	int copies;
	pp_sides_t sides;
	pp_color_mode_t color;
	const char *media;
	pp_staple_t staple;
	const char *language;
	const char *header;
	const char *trailer;
} pjl_case_t;

static const pjl_case_t pjl_cases[] = {
    {"defaults", "Report", "alice@example.com", true, 1, PP_SIDES_ONE_SIDED, PP_COLOR_AUTO,
     "iso_a4_210x297mm", PP_STAPLE_NONE, "PDF",
     UEL "@PJL JOB NAME=\"Report\"\r\n"
	 "@PJL SET USERNAME=\"alice@example.com\"\r\n"
	 "@PJL SET QTY=1\r\n"
	 "@PJL SET DUPLEX=OFF\r\n"
	 "@PJL SET PAPER=A4\r\n"
	 "@PJL ENTER LANGUAGE=PDF\r\n",
     UEL "@PJL EOJ NAME=\"Report\"\r\n" UEL},
    {"every option", "Q3 plan", "bob", true, 3, PP_SIDES_TWO_SIDED_LONG_EDGE,
     PP_COLOR_MONOCHROME, "na_letter_8.5x11in", PP_STAPLE_TOP_LEFT, "POSTSCRIPT",
     UEL "@PJL JOB NAME=\"Q3 plan\"\r\n"
	 "@PJL SET USERNAME=\"bob\"\r\n"
	 "@PJL SET QTY=3\r\n"
	 "@PJL SET DUPLEX=ON\r\n"
	 "@PJL SET BINDING=LONGEDGE\r\n"
	 "@PJL SET RENDERMODE=GRAYSCALE\r\n"
	 "@PJL SET PAPER=LETTER\r\n"
	 "@PJL SET STAPLE=TOPLEFT\r\n"
	 "@PJL ENTER LANGUAGE=POSTSCRIPT\r\n",
     UEL "@PJL EOJ NAME=\"Q3 plan\"\r\n" UEL},
    {"short edge, colour, media without a PJL name, no language", "x", "carol", true, 2,
     PP_SIDES_TWO_SIDED_SHORT_EDGE, PP_COLOR_COLOR, "oe_photo-l_3.5x5in", PP_STAPLE_DUAL_TOP,
     NULL,
     UEL "@PJL JOB NAME=\"x\"\r\n"
	 "@PJL SET USERNAME=\"carol\"\r\n"
	 "@PJL SET QTY=2\r\n"
	 "@PJL SET DUPLEX=ON\r\n"
	 "@PJL SET BINDING=SHORTEDGE\r\n"
	 "@PJL SET RENDERMODE=COLOR\r\n"
	 "@PJL SET STAPLE=DUALTOP\r\n",
     UEL "@PJL EOJ NAME=\"x\"\r\n" UEL},
    {"a name that tries to end the string and add a command", "a\"b\r\n@PJL SET X=1",
     "e\\ve", false, 0, 0, 0, NULL, 0, "PCL",
     UEL "@PJL JOB NAME=\"a_b__@PJL SET X=1\"\r\n"
	 "@PJL SET USERNAME=\"e_ve\"\r\n"
	 "@PJL ENTER LANGUAGE=PCL\r\n",
     UEL "@PJL EOJ NAME=\"a_b__@PJL SET X=1\"\r\n" UEL},
    {"UTF-8 becomes one _ per character", "\xc3\x9c" "bersicht \xe2\x82\xac", NULL, false, 0,
     0, 0, NULL, 0, NULL,
     UEL "@PJL JOB NAME=\"_bersicht _\"\r\n",
     UEL "@PJL EOJ NAME=\"_bersicht _\"\r\n" UEL},
    {"nothing known", NULL, "", false, 0, 0, 0, NULL, 0, NULL,
     UEL "@PJL JOB\r\n",
     UEL "@PJL EOJ\r\n" UEL},
};

static void test_pjl_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pjl_cases) / sizeof(pjl_cases[0]); i++) {
		const pjl_case_t *c = &pjl_cases[i];
		pp_print_options_t opts;
		options_default(&opts);
		if (c->has_options) {
			opts.copies = c->copies;
			opts.sides = c->sides;
			opts.color_mode = c->color;
			snprintf(opts.media, sizeof(opts.media), "%s", c->media);
			opts.staple = c->staple;
		}
		pp_pjl_job_t job = {.job_name = c->job_name, .user_name = c->user_name,
				    .options = c->has_options ? &opts : NULL,
				    .language = c->language};
		char buf[PJL_HEADER_MAX], error[256] = "";
		size_t len = 0;
		if (pjl_header(&job, buf, sizeof(buf), &len, error, sizeof(error)) != 0)
			fail_msg("row '%s': header failed: %s", c->row, error);
		if (len != strlen(c->header) || memcmp(buf, c->header, len) != 0)
			fail_msg("row '%s': header is\n%.*s", c->row, (int)len, buf);
		if (pjl_trailer(&job, buf, PJL_TRAILER_MAX, &len, error, sizeof(error)) != 0)
			fail_msg("row '%s': trailer failed: %s", c->row, error);
		if (len != strlen(c->trailer) || memcmp(buf, c->trailer, len) != 0)
			fail_msg("row '%s': trailer is\n%.*s", c->row, (int)len, buf);
	}
}

static void test_pjl_refusals(void **state)
{
	(void)state;
	char buf[PJL_HEADER_MAX], error[256] = "";
	size_t len = 0;
	/* A language that would inject a line is refused, and the admin is told what to fix. */
	pp_pjl_job_t job = {.job_name = "a", .language = "PDF\r\n@PJL SET X"};
	assert_int_equal(pjl_header(&job, buf, sizeof(buf), &len, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "language"));
	job.language = "pdf";
	assert_int_equal(pjl_header(&job, buf, sizeof(buf), &len, error, sizeof(error)), -1);
	/* A buffer too small fails instead of sending half an envelope. */
	job.language = "PDF";
	assert_int_equal(pjl_header(&job, buf, 16, &len, error, sizeof(error)), -1);
	assert_int_equal(pjl_trailer(&job, buf, 8, &len, error, sizeof(error)), -1);
	assert_true(pjl_language_is_valid("PCLXL"));
	assert_false(pjl_language_is_valid(""));
	assert_false(pjl_language_is_valid(NULL));
}

static void test_pjl_sanitize_limits(void **state)
{
	(void)state;
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	char out[PJL_STRING_MAX + 1];
	pjl_sanitize(longname, out, sizeof(out));
	assert_int_equal(strlen(out), PJL_STRING_MAX);
	char tiny[4];
	pjl_sanitize("abcdef", tiny, sizeof(tiny));
	assert_string_equal(tiny, "abc");
	pjl_sanitize(NULL, tiny, sizeof(tiny));
	assert_string_equal(tiny, "");
	pjl_sanitize("tab\there", out, sizeof(out));
	assert_string_equal(out, "tab_here");
}

static void test_pjl_paper_names(void **state)
{
	(void)state;
	static const struct {
		const char *media;
		const char *paper;
	} rows[] = {
	    {"iso_a4_210x297mm", "A4"},   {"iso_a3_297x420mm", "A3"},
	    {"iso_a5_148x210mm", "A5"},   {"na_letter_8.5x11in", "LETTER"},
	    {"na_legal_8.5x14in", "LEGAL"}, {"na_ledger_11x17in", "LEDGER"},
	    {"iso_dl_110x220mm", "DL"},   {"oe_photo-l_3.5x5in", NULL},
	    {"", NULL},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = pjl_paper_name(rows[i].media);
		if (rows[i].paper == NULL ? got != NULL : (got == NULL || strcmp(got, rows[i].paper)))
			fail_msg("media '%s': got %s", rows[i].media, got != NULL ? got : "NULL");
	}
	assert_null(pjl_paper_name(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pjl_table),
	    cmocka_unit_test(test_pjl_refusals),
	    cmocka_unit_test(test_pjl_sanitize_limits),
	    cmocka_unit_test(test_pjl_paper_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
