/*
 * cli-printers.c - `pullprint printers`: the printer registry (name, alias users type,
 * location, device URI, enabled).
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/printers.h"
#include "lib/str.h"

#include <getopt.h>
#include <string.h>

static int printers_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint printers [list]\n"
		"       pullprint printers add NAME --uri URI [--alias ALIAS] [--location TEXT]\n"
		"                                [--description TEXT] [--disabled]\n"
		"           URI: ipp://host[:port]/path, ipps://…, socket://host[:port], lpd://host/queue\n"
		"       pullprint printers show|enable|disable|remove NAME-OR-ALIAS\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int printers_print(pp_cli_t *cli, const pp_printer_t *printers, size_t count)
{
	static const char *const columns[] = {"name", "alias", "enabled", "location", "uri",
					      "description"};
	pp_table_t *table = table_new(columns, 6);
	if (table == NULL)
		return CLI_EXIT_FAILED;
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		const char *cells[] = {printers[i].name,
				       printers[i].alias,
				       printers[i].is_enabled ? "yes" : "no",
				       printers[i].location,
				       printers[i].device_uri,
				       printers[i].description};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	rc = cli_table_finish(cli, &table, rc);
	return rc;
}

static int printers_cmd_add(pp_cli_t *cli, int argc, char **argv)
{
	pp_printer_t printer = {.is_enabled = true};
	static const struct option options[] = {{"uri", required_argument, NULL, 'u'},
						{"alias", required_argument, NULL, 'a'},
						{"location", required_argument, NULL, 'l'},
						{"description", required_argument, NULL, 'd'},
						{"disabled", no_argument, NULL, 'x'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		bool ok = true;
		switch (opt) {
		case 'u':
			ok = str_copy(printer.device_uri, sizeof(printer.device_uri), optarg);
			break;
		case 'a':
			ok = str_copy(printer.alias, sizeof(printer.alias), optarg);
			break;
		case 'l':
			ok = str_copy(printer.location, sizeof(printer.location), optarg);
			break;
		case 'd':
			ok = str_copy(printer.description, sizeof(printer.description), optarg);
			break;
		case 'x':
			printer.is_enabled = false;
			break;
		default:
			return printers_usage(cli, cli->err);
		}
		if (!ok) {
			cli_error(cli, "printers add: value too long: %.40s…", optarg);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || printer.device_uri[0] == '\0' ||
	    !str_copy(printer.name, sizeof(printer.name), argv[optind]))
		return printers_usage(cli, cli->err);

	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	int added = printers_add(&cli->rt.core, cli_actor(), &printer, NULL, error, sizeof(error));
	if (added == PRINTERS_DUPLICATE) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_CONFLICT;
	}
	if (added < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	cli_done(cli, "printer added");
	return CLI_EXIT_OK;
}

int cli_printers(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return printers_usage(cli, cli->out);
	const char *verb = argc >= 2 ? argv[1] : "list";
	if (strcmp(verb, "add") == 0)
		return printers_cmd_add(cli, argc - 1, argv + 1);
	bool is_list = strcmp(verb, "list") == 0 && argc <= 2;
	if (!is_list && argc != 3)
		return printers_usage(cli, cli->err);

	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	if (is_list) {
		pp_printer_t *printers = NULL;
		size_t count = 0;
		if (printers_list(&cli->rt.core, &printers, &count, error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		rc = printers_print(cli, printers, count);
		printers_list_free(&printers);
		return rc;
	}

	pp_printer_t printer;
	int found = printers_find(&cli->rt.core, argv[2], &printer, error, sizeof(error));
	if (found == PRINTERS_NOT_FOUND) {
		cli_error(cli, "no printer named %s", argv[2]);
		return CLI_EXIT_NOT_FOUND;
	}
	if (found < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	int changed;
	const char *done;
	if (strcmp(verb, "show") == 0) {
		return printers_print(cli, &printer, 1);
	} else if (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0) {
		bool enable = strcmp(verb, "enable") == 0;
		changed = printers_set_enabled(&cli->rt.core, cli_actor(), printer.id, enable, error,
					       sizeof(error));
		done = enable ? "printer enabled" : "printer disabled";
	} else if (strcmp(verb, "remove") == 0) {
		changed = printers_remove(&cli->rt.core, cli_actor(), printer.id, error,
					  sizeof(error));
		done = "printer removed";
	} else {
		return printers_usage(cli, cli->err);
	}
	if (changed < 0) {
		cli_error(cli, "%s", error);
		return changed == PRINTERS_NOT_FOUND ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CONFLICT;
	}
	cli_done(cli, done);
	return CLI_EXIT_OK;
}
