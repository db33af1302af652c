/*
 * cli-export.c - `pullprint export accounting`: the accounting records as CSV or JSON, in a
 * date range, optionally with users replaced by stable pseudonyms.
 */
#include "cli/cli.h"

#include "core/accounting.h"
#include "lib/str.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>

static int export_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint export accounting [--format csv|json] [--since DATE] [--until DATE]\n"
		"                                   [--pseudonymise] [--output FILE]\n"
		"  DATE is YYYY-MM-DD (UTC, start of day) or Unix seconds; --until is exclusive.\n"
		"  --pseudonymise replaces each user with a stable keyed hash: counts per user stay\n"
		"  right across exports while names are hidden.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

bool cli_parse_date(const char *s, int64_t *at_r)
{
	uint64_t seconds;
	if (parse_uint64_full(s, INT64_MAX, &seconds)) {
		*at_r = (int64_t)seconds;
		return true;
	}
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return false;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*at_r = (int64_t)t;
	return true;
}

int cli_export(pp_cli_t *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "accounting") != 0)
		return export_usage(cli, argc >= 2 && strcmp(argv[1], "--help") == 0 ? cli->out
										     : cli->err);
	pp_accounting_export_t request = {
		.format = cli->as_json ? PP_ACCOUNTING_JSON : PP_ACCOUNTING_CSV};
	const char *output = NULL;
	static const struct option options[] = {{"format", required_argument, NULL, 'f'},
						{"since", required_argument, NULL, 's'},
						{"until", required_argument, NULL, 'u'},
						{"pseudonymise", no_argument, NULL, 'p'},
						{"pseudonymize", no_argument, NULL, 'p'},
						{"output", required_argument, NULL, 'o'},
						{"help", no_argument, NULL, 'h'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1;) {
		switch (opt) {
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				request.format = PP_ACCOUNTING_CSV;
			else if (strcmp(optarg, "json") == 0)
				request.format = PP_ACCOUNTING_JSON;
			else
				return export_usage(cli, cli->err);
			break;
		case 's':
		case 'u':
			if (!cli_parse_date(optarg, opt == 's' ? &request.since : &request.until)) {
				cli_error(cli, "export: bad date %s (use YYYY-MM-DD)", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'p':
			request.is_pseudonymised = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			return export_usage(cli, cli->out);
		default:
			return export_usage(cli, cli->err);
		}
	}
	if (optind != argc - 1)
		return export_usage(cli, cli->err);

	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	FILE *out = cli->out;
	if (output != NULL) {
		out = fopen(output, "wxe"); /* never overwrite an earlier export by accident */
		if (out == NULL) {
			cli_error(cli, "export: cannot create %s: %s", output, strerror(errno));
			return CLI_EXIT_FAILED;
		}
	}
	char error[512];
	rc = CLI_EXIT_OK;
	if (accounting_export_file(&cli->rt.core, &request, out, error, sizeof(error)) < 0) {
		cli_error(cli, "export: %s", error);
		rc = CLI_EXIT_FAILED;
	}
	if (output != NULL && fclose(out) != 0 && rc == CLI_EXIT_OK) {
		cli_error(cli, "export: writing %s failed: %s", output, strerror(errno));
		rc = CLI_EXIT_FAILED;
	}
	return rc;
}
