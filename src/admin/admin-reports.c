/*
 * admin-reports.c - pages printed, grouped by user, department, printer, day, ISO week,
 * month or submission source, from the accounting records (accounting.h), with mono versus
 * colour and simplex versus duplex. The console draws the charts; `pullprint reports` and the
 * CSV download give the same rows.
 *
 * Records are read in batches of REPORT_BATCH by id, so the size of the accounting table is
 * not limited by memory; the groups are kept sorted by key (at most REPORT_ROWS_MAX). Days,
 * weeks and months are UTC, computed here rather than in SQL so both backends agree.
 */
#include "admin/admin.h"

#include "core/accounting.h"
#include "lib/str.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_BATCH 1000

static const char *const report_by_names[] = {"user", "department", "printer", "day",
					      "week", "month", "source"};

const char *report_by_name(pp_report_by_t by)
{
	size_t i = (size_t)by;
	return i < sizeof(report_by_names) / sizeof(report_by_names[0]) ? report_by_names[i]
									: "user";
}

bool report_by_parse(const char *name, pp_report_by_t *by_r)
{
	for (size_t i = 0; name != NULL && i < sizeof(report_by_names) / sizeof(report_by_names[0]);
	     i++) {
		if (strcmp(name, report_by_names[i]) == 0) {
			*by_r = (pp_report_by_t)i;
			return true;
		}
	}
	return false;
}

/* Days in a Gregorian year. */
static int report_year_days(int year)
{
	bool is_leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return is_leap ? 366 : 365;
}

void report_key(pp_report_by_t by, const char *user, const char *department,
		const char *printer, const char *source, int64_t finished_at,
		char key_r[REPORT_KEY_MAX])
{
	const char *text = NULL;
	switch (by) {
	case PP_REPORT_BY_USER: text = user; break;
	case PP_REPORT_BY_DEPARTMENT: text = department; break;
	case PP_REPORT_BY_PRINTER: text = printer; break;
	case PP_REPORT_BY_SOURCE: text = source; break;
	default: break;
	}
	if (by == PP_REPORT_BY_USER || by == PP_REPORT_BY_DEPARTMENT ||
	    by == PP_REPORT_BY_PRINTER || by == PP_REPORT_BY_SOURCE) {
		if (text == NULL || text[0] == '\0' || !str_copy(key_r, REPORT_KEY_MAX, text))
			(void)str_copy(key_r, REPORT_KEY_MAX, "(none)");
		return;
	}
	time_t t = (time_t)finished_at;
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL) {
		(void)str_copy(key_r, REPORT_KEY_MAX, "(none)");
		return;
	}
	int year = tm.tm_year + 1900;
	if (by == PP_REPORT_BY_DAY) {
		(void)str_format(key_r, REPORT_KEY_MAX, "%04d-%02d-%02d", year, tm.tm_mon + 1,
				 tm.tm_mday);
	} else if (by == PP_REPORT_BY_MONTH) {
		(void)str_format(key_r, REPORT_KEY_MAX, "%04d-%02d", year, tm.tm_mon + 1);
	} else {
		/* ISO 8601: the week (Monday first) holding the year's first Thursday is week 1. */
		int weekday = (tm.tm_wday + 6) % 7; /* Monday 0 */
		int thursday = tm.tm_yday - weekday + 3;
		if (thursday < 0) {
			year--;
			thursday += report_year_days(year);
		} else if (thursday >= report_year_days(year)) {
			thursday -= report_year_days(year);
			year++;
		}
		(void)str_format(key_r, REPORT_KEY_MAX, "%04d-W%02d", year, thursday / 7 + 1);
	}
}

void report_count(pp_report_counts_t *c, int64_t mono_pages, int64_t colour_pages,
		  const char *sides)
{
	int64_t pages = mono_pages + colour_pages;
	c->jobs++;
	c->pages += pages;
	c->mono_pages += mono_pages;
	c->colour_pages += colour_pages;
	if (sides != NULL && str_has_prefix(sides, "two-sided"))
		c->duplex_pages += pages;
	else
		c->simplex_pages += pages;
}

/* Finds key among the sorted rows, or where it goes (*at_r). */
static bool report_find(const pp_report_t *report, const char *key, size_t *at_r)
{
	size_t lo = 0, hi = report->n_rows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(report->rows[mid].key, key);
		if (cmp == 0) {
			*at_r = mid;
			return true;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at_r = lo;
	return false;
}

/* The row of key, added when new. NULL when out of memory or past REPORT_ROWS_MAX. */
static pp_report_row_t *report_row(pp_report_t *report, size_t *size, const char *key)
{
	size_t at;
	if (report_find(report, key, &at))
		return &report->rows[at];
	if (report->n_rows >= REPORT_ROWS_MAX)
		return NULL;
	if (report->n_rows == *size) {
		size_t grown_size = *size > 0 ? *size * 2 : 64;
		pp_report_row_t *grown = realloc(report->rows, grown_size * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		report->rows = grown;
		*size = grown_size;
	}
	memmove(&report->rows[at + 1], &report->rows[at],
		(report->n_rows - at) * sizeof(report->rows[0]));
	report->n_rows++;
	pp_report_row_t *row = &report->rows[at];
	memset(row, 0, sizeof(*row));
	(void)str_copy(row->key, sizeof(row->key), key);
	return row;
}

int report_build(pp_core_t *core, pp_report_by_t by, int64_t since, int64_t until,
		 bool is_pseudonymised, pp_report_t **report_r, char *error, size_t error_size)
{
	*report_r = NULL;
	pp_report_t *report = calloc(1, sizeof(*report));
	if (report == NULL) {
		(void)str_format(error, error_size, "reports: out of memory");
		return -1;
	}
	report->by = by;
	size_t size = 0;
	int64_t last_id = 0;
	for (;;) {
		char db_error[DB_ERROR_MAX];
		pp_db_result_t *res = NULL;
		const pp_db_value_t params[] = {DB_INT(last_id), DB_INT(since),
						DB_INT(until > 0 ? until : INT64_MAX),
						DB_INT(REPORT_BATCH)};
		if (db_query(core->db,
			     "SELECT id, user_email, department, printer_name, source, pages_mono, "
			     "pages_color, sides, finished_at FROM accounting WHERE id > $1 AND "
			     "finished_at >= $2 AND finished_at < $3 ORDER BY id LIMIT $4",
			     params, 4, &res, db_error, sizeof(db_error)) != DB_OK) {
			(void)str_format(error, error_size, "reports: cannot read accounting: %s",
					 db_error);
			report_free(&report);
			return -1;
		}
		size_t n = db_result_rows(res);
		for (size_t i = 0; i < n; i++) {
			last_id = db_result_int(res, i, 0);
			const char *user = db_result_text(res, i, 1);
			char pseudonym[ACCOUNTING_PSEUDONYM_LEN + 1];
			if (is_pseudonymised) {
				accounting_pseudonym(core, user, pseudonym);
				user = pseudonym;
			}
			char key[REPORT_KEY_MAX];
			report_key(by, user, db_result_text(res, i, 2), db_result_text(res, i, 3),
				   db_result_text(res, i, 4), db_result_int(res, i, 8), key);
			pp_report_row_t *row = report_row(report, &size, key);
			if (row == NULL) {
				db_result_free(&res);
				(void)str_format(error, error_size,
						 "reports: more than %d groups; choose a shorter "
						 "period or a coarser grouping",
						 REPORT_ROWS_MAX);
				report_free(&report);
				return -1;
			}
			int64_t mono = db_result_int(res, i, 5), colour = db_result_int(res, i, 6);
			const char *sides = db_result_text(res, i, 7);
			report_count(&row->counts, mono, colour, sides);
			report_count(&report->totals, mono, colour, sides);
		}
		db_result_free(&res);
		if (n < REPORT_BATCH)
			break;
	}
	*report_r = report;
	return 0;
}

void report_free(pp_report_t **report)
{
	if (report == NULL || *report == NULL)
		return;
	free((*report)->rows);
	free(*report);
	*report = NULL;
}

/* One CSV row: key and the counters. */
static bool report_csv_row(pp_admin_buf_t *buf, const char *key, const pp_report_counts_t *c)
{
	return admin_csv_cell(buf, key, false) && admin_csv_int(buf, c->jobs, false) &&
	       admin_csv_int(buf, c->pages, false) && admin_csv_int(buf, c->mono_pages, false) &&
	       admin_csv_int(buf, c->colour_pages, false) &&
	       admin_csv_int(buf, c->simplex_pages, false) &&
	       admin_csv_int(buf, c->duplex_pages, true);
}

bool report_csv(const pp_report_t *report, pp_admin_buf_t *buf)
{
	static const char *const header[] = {"jobs",	     "pages",	      "mono_pages",
					     "colour_pages", "simplex_pages", "duplex_pages"};
	if (!admin_csv_cell(buf, report_by_name(report->by), false))
		return false;
	for (size_t i = 0; i < 6; i++)
		if (!admin_csv_cell(buf, header[i], i == 5))
			return false;
	for (size_t i = 0; i < report->n_rows; i++)
		if (!report_csv_row(buf, report->rows[i].key, &report->rows[i].counts))
			return false;
	return true;
}
