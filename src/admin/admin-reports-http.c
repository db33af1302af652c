/*
 * admin-reports-http.c - GET reports (admin-reports.c: pages grouped by user, department,
 * printer, day, week, month or source; JSON for the charts, CSV for a download) and GET
 * accounting/export (accounting.h: every record as CSV or JSON, optionally pseudonymised).
 *
 * Downloads are built in memory up to ADMIN_DOWNLOAD_MAX; a larger export is refused with a
 * message pointing at a shorter period or `pullprint export`, which streams to a file.
 */
#include "admin/admin-private.h"

#include "core/accounting.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

#define ADMIN_DOWNLOAD_MAX (64u * 1024u * 1024u)

static json_t *admin_counts_json(const pp_report_counts_t *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "jobs", (json_int_t)c->jobs, "pages",
			 (json_int_t)c->pages, "mono_pages", (json_int_t)c->mono_pages,
			 "colour_pages", (json_int_t)c->colour_pages, "simplex_pages",
			 (json_int_t)c->simplex_pages, "duplex_pages", (json_int_t)c->duplex_pages);
}

/* Reads ?format: json (default) or csv (also json/csv for the export). */
static bool admin_format(admin_call_t *call, bool *is_csv_r, bool csv_default)
{
	const char *format = http_request_query(call->req, "format");
	*is_csv_r = csv_default;
	if (format == NULL || format[0] == '\0')
		return true;
	if (strcmp(format, "csv") == 0 || strcmp(format, "json") == 0) {
		*is_csv_r = strcmp(format, "csv") == 0;
		return true;
	}
	admin_error(call, 400, "invalid_value", "format must be csv or json.", 0);
	return false;
}

void admin_api_reports(admin_call_t *call)
{
	int64_t from, to;
	bool is_csv;
	if (!admin_query_time(call, "from", &from) || !admin_query_time(call, "to", &to) ||
	    !admin_format(call, &is_csv, false))
		return;
	const char *by_text = http_request_query(call->req, "by");
	pp_report_by_t by = PP_REPORT_BY_USER;
	if (by_text != NULL && by_text[0] != '\0' && !report_by_parse(by_text, &by)) {
		admin_error(call, 400, "invalid_value",
			    "by must be user, department, printer, day, week, month or source.", 0);
		return;
	}
	char error[ADMIN_ERROR_MAX];
	pp_report_t *report = NULL;
	if (report_build(call->core, by, from, to, false, &report, error, sizeof(error)) < 0) {
		if (strstr(error, "groups") != NULL)
			admin_error(call, 400, "invalid_value", error, 0);
		else
			admin_internal(call, "admin.report_failed", error);
		return;
	}
	if (is_csv) {
		pp_admin_buf_t *buf = admin_buf_new(ADMIN_DOWNLOAD_MAX);
		if (buf == NULL || !report_csv(report, buf)) {
			admin_buf_free(&buf);
			report_free(&report);
			admin_internal(call, "admin.report_failed", "the CSV does not fit in memory");
			return;
		}
		size_t len;
		const char *text = admin_buf_text(buf, &len);
		char filename[64];
		(void)str_format(filename, sizeof(filename), "pullprint-report-%s.csv",
				 report_by_name(by));
		admin_download(call, "text/csv; charset=utf-8", filename, text, len);
		admin_buf_free(&buf);
		report_free(&report);
		return;
	}
	json_t *rows = json_array();
	for (size_t i = 0; rows != NULL && i < report->n_rows; i++) {
		json_t *row = admin_counts_json(&report->rows[i].counts);
		if (row != NULL)
			(void)json_object_set_new(row, "key", json_string(report->rows[i].key));
		(void)json_array_append_new(rows, row);
	}
	json_t *body = rows != NULL ? json_pack("{s:s, s:o, s:o}", "by", report_by_name(by), "rows",
						rows, "totals", admin_counts_json(&report->totals))
				    : NULL;
	report_free(&report);
	admin_json(call, 200, body);
}

/* accounting_export()'s writer: into the buffer, refusing past its cap. */
static int admin_export_write(void *ctx, const char *data, size_t len)
{
	return admin_buf_append(ctx, data, len) ? 0 : -1;
}

void admin_api_accounting_export(admin_call_t *call)
{
	pp_accounting_export_t request = {0};
	bool is_csv;
	if (!admin_query_time(call, "from", &request.since) ||
	    !admin_query_time(call, "to", &request.until) || !admin_format(call, &is_csv, true))
		return;
	request.format = is_csv ? PP_ACCOUNTING_CSV : PP_ACCOUNTING_JSON;
	const char *pseudo = http_request_query(call->req, "pseudonymise");
	if (pseudo != NULL && pseudo[0] != '\0') {
		if (strcmp(pseudo, "1") != 0 && strcmp(pseudo, "0") != 0) {
			admin_error(call, 400, "invalid_value", "pseudonymise must be 0 or 1.", 0);
			return;
		}
		request.is_pseudonymised = strcmp(pseudo, "1") == 0;
	}
	char error[ADMIN_ERROR_MAX];
	pp_admin_buf_t *buf = admin_buf_new(ADMIN_DOWNLOAD_MAX);
	if (buf == NULL) {
		admin_internal(call, "admin.export_failed", "out of memory");
		return;
	}
	if (accounting_export(call->core, &request, admin_export_write, buf, error,
			      sizeof(error)) < 0) {
		admin_buf_free(&buf);
		admin_error(call, 413, "too_large",
			    "The export is larger than 64 MiB; choose a shorter period (from, to) "
			    "or run `pullprint export`, which writes a file of any size.",
			    0);
		log_warn("admin.export_failed error=\"%s\"", error);
		return;
	}
	if (audit_record(call->core, call->actor, "accounting.export",
			 request.is_pseudonymised ? "pseudonymised" : "named",
			 is_csv ? "csv" : "json", error, sizeof(error)) < 0)
		log_warn("admin.audit_failed action=accounting.export error=\"%s\"", error);
	size_t len;
	const char *text = admin_buf_text(buf, &len);
	admin_download(call, is_csv ? "text/csv; charset=utf-8" : "application/json",
		       is_csv ? "pullprint-accounting.csv" : "pullprint-accounting.json", text, len);
	admin_buf_free(&buf);
}
