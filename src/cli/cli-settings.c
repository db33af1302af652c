/*
 * cli-settings.c - `pullprint settings`: the runtime settings kept in the database.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/settings.h"

#include <jansson.h>
#include <string.h>

static int settings_usage(pp_cli_t *cli, FILE *out)
{
	(void)cli;
	fprintf(out, "usage: pullprint settings [list]\n"
		     "       pullprint settings get NAME\n"
		     "       pullprint settings set NAME VALUE\n"
		     "       pullprint settings reset NAME\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int settings_print_list(pp_cli_t *cli)
{
	char error[512];
	pp_setting_t *settings = NULL;
	size_t count = 0;
	if (settings_list(&cli->rt.core, &settings, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	static const char *const columns[] = {"name", "value", "default", "allowed", "description"};
	pp_table_t *table = table_new(columns, 5);
	int rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		const char *cells[] = {settings[i].name, settings[i].value,
				       settings[i].default_value, settings[i].allowed,
				       settings[i].description};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	rc = cli_table_finish(cli, &table, rc);
	settings_list_free(&settings);
	return rc;
}

/* True when name is a known setting; an unknown name is exit code "not found". */
static bool settings_is_known(const char *name)
{
	char error[512];
	return settings_validate(name, "", error, sizeof(error)) == 0 ||
	       strstr(error, "unknown setting") == NULL;
}

int cli_settings(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return settings_usage(cli, cli->out);
	const char *verb = argc >= 2 ? argv[1] : "list";
	if (!((strcmp(verb, "list") == 0 && argc <= 2) ||
	      (strcmp(verb, "get") == 0 && argc == 3) || (strcmp(verb, "set") == 0 && argc == 4) ||
	      (strcmp(verb, "reset") == 0 && argc == 3)))
		return settings_usage(cli, cli->err);

	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (strcmp(verb, "list") == 0)
		return settings_print_list(cli);

	const char *name = argv[2];
	char error[512];
	if (!settings_is_known(name)) {
		cli_error(cli, "no setting named %s (see pullprint settings)", name);
		return CLI_EXIT_NOT_FOUND;
	}
	if (strcmp(verb, "get") == 0) {
		char value[SETTINGS_VALUE_MAX];
		if (settings_get_string(&cli->rt.core, name, value, sizeof(value), error,
					sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		if (cli->as_json) {
			if (!cli_print_json(cli, json_pack("{s:s, s:s}", "name", name, "value",
							   value)))
				return CLI_EXIT_FAILED;
		} else {
			fprintf(cli->out, "%s\n", value);
		}
		return CLI_EXIT_OK;
	}
	if (strcmp(verb, "set") == 0) {
		if (settings_validate(name, argv[3], error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_USAGE;
		}
		if (settings_set(&cli->rt.core, cli_actor(), name, argv[3], error, sizeof(error)) <
		    0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		cli_done(cli, "setting saved");
		return CLI_EXIT_OK;
	}
	if (settings_reset(&cli->rt.core, cli_actor(), name, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	cli_done(cli, "setting reset to its default");
	return CLI_EXIT_OK;
}
