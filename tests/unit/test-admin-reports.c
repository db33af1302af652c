/*
 * test-admin-reports.c - what the admin console downloads and draws: CSV cells (quoted,
 * never a formula), report groups (users, days, ISO weeks across new year, months), the
 * counters (mono/colour, simplex/duplex) matching the accounting rows, pseudonyms that keep
 * counts right, and the panel URL's QR code as plain SVG rectangles.
 */
#include "test-db-support.h"

#include "admin/admin.h"
#include "core/accounting.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

static void test_csv_cells(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *expected;
	} cases[] = {
		{"plain", "plain,"},
		{"", ","},
		{"a,b", "\"a,b\","},
		{"say \"hi\"", "\"say \"\"hi\"\"\","},
		{"two\nlines", "\"two\nlines\","},
		{"=SUM(A1)", "'=SUM(A1),"},
		{"+1", "'+1,"},
		{"-1", "'-1,"},
		{"@cmd", "'@cmd,"},
		{"\tx", "'\tx,"},
		{"=a,b", "\"'=a,b\","},
		{"ann@example.com", "ann@example.com,"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pp_admin_buf_t *buf = admin_buf_new(1024);
		assert_non_null(buf);
		assert_true(admin_csv_cell(buf, cases[i].text, false));
		size_t len;
		const char *out = admin_buf_text(buf, &len);
		if (strcmp(out, cases[i].expected) != 0)
			fail_msg("row %zu: got [%s], expected [%s]", i, out, cases[i].expected);
		admin_buf_free(&buf);
		assert_null(buf);
	}
	pp_admin_buf_t *buf = admin_buf_new(8);
	assert_true(admin_csv_int(buf, -42, true));
	size_t len;
	assert_string_equal(admin_buf_text(buf, &len), "-42\r\n");
	/* The cap holds: nothing past it, and the buffer is unchanged. */
	assert_false(admin_csv_cell(buf, "too long here", true));
	assert_string_equal(admin_buf_text(buf, &len), "-42\r\n");
	admin_buf_free(&buf);
	admin_buf_free(&buf); /* NULL is a no-op */
}

static void test_report_keys(void **state)
{
	(void)state;
	static const struct {
		pp_report_by_t by;
		int64_t at;
		const char *expected;
	} cases[] = {
		{PP_REPORT_BY_DAY, 1700000000, "2023-11-14"},
		{PP_REPORT_BY_MONTH, 1700000000, "2023-11"},
		{PP_REPORT_BY_WEEK, 1700000000, "2023-W46"},
		{PP_REPORT_BY_WEEK, 1704067200, "2024-W01"}, /* Mon 2024-01-01 */
		{PP_REPORT_BY_WEEK, 1672531200, "2022-W52"}, /* Sun 2023-01-01 */
		{PP_REPORT_BY_WEEK, 1735603200, "2025-W01"}, /* Tue 2024-12-31 */
		{PP_REPORT_BY_WEEK, 1609459200, "2020-W53"}, /* Fri 2021-01-01 */
		{PP_REPORT_BY_USER, 0, "ann@example.com"},
		{PP_REPORT_BY_DEPARTMENT, 0, "(none)"},
		{PP_REPORT_BY_PRINTER, 0, "Floor2"},
		{PP_REPORT_BY_SOURCE, 0, "mail"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char key[REPORT_KEY_MAX];
		report_key(cases[i].by, "ann@example.com", "", "Floor2", "mail", cases[i].at, key);
		if (strcmp(key, cases[i].expected) != 0)
			fail_msg("row %zu: got %s, expected %s", i, key, cases[i].expected);
	}
	pp_report_by_t by;
	assert_true(report_by_parse("week", &by));
	assert_int_equal(by, PP_REPORT_BY_WEEK);
	assert_string_equal(report_by_name(by), "week");
	assert_false(report_by_parse("colour", &by));
}

static void test_report_counts(void **state)
{
	(void)state;
	pp_report_counts_t c = {0};
	report_count(&c, 3, 1, "two-sided-long-edge");
	report_count(&c, 2, 0, "one-sided");
	report_count(&c, 5, 5, "");
	assert_int_equal(c.jobs, 3);
	assert_int_equal(c.pages, 16);
	assert_int_equal(c.mono_pages, 10);
	assert_int_equal(c.colour_pages, 6);
	assert_int_equal(c.duplex_pages, 4);
	assert_int_equal(c.simplex_pages, 12);
}

/* One accounting row, as the state machine writes it. */
static void add_record(pp_core_t *core, int n, const char *user, const char *dept,
		       const char *printer, int64_t mono, int64_t colour, const char *sides,
		       int64_t finished_at)
{
	char uuid[40], error[512];
	(void)str_format(uuid, sizeof(uuid), "%032d", n);
	const pp_db_value_t params[] = {DB_TEXT(uuid),	DB_TEXT(user),	 DB_TEXT(dept),
					DB_TEXT(printer), DB_INT(mono), DB_INT(colour),
					DB_TEXT(sides), DB_INT(finished_at)};
	assert_int_equal(db_exec(core->db,
				 "INSERT INTO accounting (job_uuid, user_email, department, "
				 "printer_name, source, final_state, pages_mono, pages_color, sides, "
				 "submitted_at, finished_at) VALUES ($1, $2, $3, $4, 'mail', "
				 "'completed', $5, $6, $7, $8, $8)",
				 params, 8, NULL, error, sizeof(error)),
			 DB_OK);
}

static void test_report_build(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	const int64_t day = 86400, t0 = 1700000000;
	add_record(core, 1, "ann@example.com", "sales", "Floor2", 2, 1, "one-sided", t0);
	add_record(core, 2, "bob@example.com", "", "Floor2", 4, 0, "two-sided-long-edge", t0);
	add_record(core, 3, "ann@example.com", "sales", "Lobby", 1, 0, "one-sided", t0 + day);
	add_record(core, 4, "ann@example.com", "sales", "Lobby", 9, 9, "one-sided", t0 + 40 * day);

	pp_report_t *report = NULL;
	assert_int_equal(report_build(core, PP_REPORT_BY_USER, 0, 0, false, &report, error,
				      sizeof(error)),
			 0);
	assert_int_equal(report->n_rows, 2);
	assert_string_equal(report->rows[0].key, "ann@example.com");
	assert_int_equal(report->rows[0].counts.jobs, 3);
	assert_int_equal(report->rows[0].counts.pages, 22);
	assert_int_equal(report->rows[0].counts.colour_pages, 10);
	assert_int_equal(report->rows[1].counts.duplex_pages, 4);
	assert_int_equal(report->totals.jobs, 4);
	assert_int_equal(report->totals.pages, 26);

	pp_admin_buf_t *buf = admin_buf_new(1 << 20);
	assert_true(report_csv(report, buf));
	size_t len;
	assert_string_equal(admin_buf_text(buf, &len),
			    "user,jobs,pages,mono_pages,colour_pages,simplex_pages,duplex_pages\r\n"
			    "ann@example.com,3,22,12,10,22,0\r\n"
			    "bob@example.com,1,4,4,0,0,4\r\n");
	admin_buf_free(&buf);
	report_free(&report);
	assert_null(report);

	/* A range: finished_at in [t0 + 1 day, t0 + 2 days). */
	assert_int_equal(report_build(core, PP_REPORT_BY_PRINTER, t0 + day, t0 + 2 * day, false,
				      &report, error, sizeof(error)),
			 0);
	assert_int_equal(report->n_rows, 1);
	assert_string_equal(report->rows[0].key, "Lobby");
	assert_int_equal(report->totals.pages, 1);
	report_free(&report);

	assert_int_equal(report_build(core, PP_REPORT_BY_MONTH, 0, 0, false, &report, error,
				      sizeof(error)),
			 0);
	assert_int_equal(report->n_rows, 2);
	assert_string_equal(report->rows[0].key, "2023-11");
	assert_string_equal(report->rows[1].key, "2023-12");
	report_free(&report);

	/* Pseudonyms: same counts, no address anywhere. */
	assert_int_equal(report_build(core, PP_REPORT_BY_USER, 0, 0, true, &report, error,
				      sizeof(error)),
			 0);
	assert_int_equal(report->n_rows, 2);
	char ann[ACCOUNTING_PSEUDONYM_LEN + 1];
	accounting_pseudonym(core, "ann@example.com", ann);
	bool found = false;
	for (size_t i = 0; i < report->n_rows; i++) {
		assert_null(strchr(report->rows[i].key, '@'));
		if (strcmp(report->rows[i].key, ann) == 0) {
			found = true;
			assert_int_equal(report->rows[i].counts.pages, 22);
		}
	}
	assert_true(found);
	report_free(&report);
	report_free(&report);
}

static void test_qr_svg(void **state)
{
	(void)state;
	char error[256];
	char *svg = NULL;
	assert_int_equal(admin_qr_svg("https://print.example.com/panel/?t=ppk_0123456789abcdef",
				      &svg, error, sizeof(error)),
			 0);
	assert_true(str_has_prefix(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(svg, "fill=\"#000000\""));
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "style"));
	assert_true(strlen(svg) > 1000);
	assert_string_equal(svg + strlen(svg) - 6, "</svg>");
	free(svg);
	assert_int_equal(admin_qr_svg("", &svg, error, sizeof(error)), -1);
	assert_null(svg);
	/* Far more than a QR code holds (2953 bytes). */
	char *huge = malloc(5000);
	assert_non_null(huge);
	memset(huge, 'a', 4999);
	huge[4999] = '\0';
	assert_int_equal(admin_qr_svg(huge, &svg, error, sizeof(error)), -1);
	assert_null(svg);
	free(huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_cells),
		cmocka_unit_test(test_report_keys),
		cmocka_unit_test(test_report_counts),
		TEST_CORE_CASE(test_report_build),
		cmocka_unit_test(test_qr_svg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
