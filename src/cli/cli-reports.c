/*
 * cli-reports.c - `pullprint reports`: pages printed grouped by user, department, printer,
 * day, week, month or source, with mono/colour and simplex/duplex (admin-reports.c, the
 * same rows as the admin console's reports and their CSV download).
 */
#include "cli/cli.h"

#include "admin/admin.h"
#include "cli/table.h"
#include "lib/str.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static int reports_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint reports [--by user|department|printer|day|week|month|source]\n"
		"                         [--since DATE] [--until DATE] [--pseudonymise] [--csv]\n"
		"  DATE is YYYY-MM-DD (UTC, start of day) or Unix seconds; --until is exclusive.\n"
		"  --csv prints the console's CSV download; --json one JSON object.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* One JSON object of counters. */
static json_t *reports_counts_json(const pp_report_counts_t *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "jobs", (json_int_t)c->jobs, "pages",
			 (json_int_t)c->pages, "mono_pages", (json_int_t)c->mono_pages,
			 "colour_pages", (json_int_t)c->colour_pages, "simplex_pages",
			 (json_int_t)c->simplex_pages, "duplex_pages", (json_int_t)c->duplex_pages);
}

static int reports_print(pp_cli_t *cli, const pp_report_t *report, bool is_csv)
{
	if (is_csv) {
		pp_admin_buf_t *buf = admin_buf_new(SIZE_MAX / 2);
		bool is_ok = buf != NULL && report_csv(report, buf);
		size_t len = 0;
		const char *text = is_ok ? admin_buf_text(buf, &len) : NULL;
		is_ok = is_ok && fwrite(text, 1, len, cli->out) == len;
		admin_buf_free(&buf);
		if (!is_ok) {
			cli_error(cli, "reports: cannot write the CSV");
			return CLI_EXIT_FAILED;
		}
		return CLI_EXIT_OK;
	}
	if (cli->as_json) {
		json_t *rows = json_array();
		for (size_t i = 0; rows != NULL && i < report->n_rows; i++) {
			json_t *row = reports_counts_json(&report->rows[i].counts);
			if (row != NULL)
				(void)json_object_set_new(row, "key", json_string(report->rows[i].key));
			(void)json_array_append_new(rows, row);
		}
		json_t *obj = rows != NULL ? json_pack("{s:s, s:o, s:o}", "by",
						       report_by_name(report->by), "rows", rows,
						       "totals", reports_counts_json(&report->totals))
					   : NULL;
		return cli_print_json(cli, obj) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	}
	const char *const columns[] = {report_by_name(report->by), "jobs", "pages", "mono",
				       "colour", "simplex", "duplex"};
	pp_table_t *table = table_new(columns, 7);
	int rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; rc == CLI_EXIT_OK && i <= report->n_rows; i++) {
		const pp_report_counts_t *c =
			i < report->n_rows ? &report->rows[i].counts : &report->totals;
		char n[6][24];
		const int64_t values[6] = {c->jobs,	    c->pages,	      c->mono_pages,
					   c->colour_pages, c->simplex_pages, c->duplex_pages};
		for (size_t k = 0; k < 6; k++)
			(void)str_format(n[k], sizeof(n[k]), "%" PRId64, values[k]);
		const char *cells[] = {i < report->n_rows ? report->rows[i].key : "(total)",
				       n[0], n[1], n[2], n[3], n[4], n[5]};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	return cli_table_finish(cli, &table, rc);
}

int cli_reports(pp_cli_t *cli, int argc, char **argv)
{
	pp_report_by_t by = PP_REPORT_BY_USER;
	int64_t since = 0, until = 0;
	bool is_pseudonymised = false, is_csv = false;
	static const struct option options[] = {{"by", required_argument, NULL, 'b'},
						{"since", required_argument, NULL, 's'},
						{"until", required_argument, NULL, 'u'},
						{"pseudonymise", no_argument, NULL, 'p'},
						{"pseudonymize", no_argument, NULL, 'p'},
						{"csv", no_argument, NULL, 'c'},
						{"help", no_argument, NULL, 'h'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		switch (opt) {
		case 'b':
			if (!report_by_parse(optarg, &by)) {
				cli_error(cli, "reports: --by takes user, department, printer, day, "
					       "week, month or source");
				return CLI_EXIT_USAGE;
			}
			break;
		case 's':
		case 'u':
			if (!cli_parse_date(optarg, opt == 's' ? &since : &until)) {
				cli_error(cli, "reports: bad date %s (use YYYY-MM-DD)", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'p': is_pseudonymised = true; break;
		case 'c': is_csv = true; break;
		case 'h': return reports_usage(cli, cli->out);
		default: return reports_usage(cli, cli->err);
		}
	}
	if (optind != argc)
		return reports_usage(cli, cli->err);
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	pp_report_t *report = NULL;
	if (report_build(&cli->rt.core, by, since, until, is_pseudonymised, &report, error,
			 sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	rc = reports_print(cli, report, is_csv);
	report_free(&report);
	return rc;
}
