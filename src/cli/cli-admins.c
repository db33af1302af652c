/*
 * cli-admins.c - `pullprint admin`: admin accounts with their console role (admin-roles.c,
 * the same functions as the admin API). Passwords are read by cli_admin_password()
 * (cli-admin.c).
 */
#include "cli/cli.h"

#include "admin/admin.h"
#include "cli/table.h"
#include "core/admins.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

static int admins_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint admin list\n"
		"       pullprint admin add NAME [--role admin|helpdesk]   asks for the password\n"
		"       pullprint admin role NAME admin|helpdesk\n"
		"       pullprint admin passwd [NAME]\n"
		"       pullprint admin delete NAME\n"
		"A helpdesk account may sign in to the admin console and look, but not change\n"
		"anything. The last full admin can be neither deleted nor made helpdesk.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int admins_list(pp_cli_t *cli)
{
	char error[512];
	pp_admin_account_t *accounts = NULL;
	size_t count = 0;
	if (admin_accounts_list(&cli->rt.core, &accounts, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	static const char *const columns[] = {"name", "role", "created"};
	pp_table_t *table = table_new(columns, 3);
	int rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		char created[32];
		cli_format_time(accounts[i].created_at, created);
		const char *cells[] = {accounts[i].name, admin_role_name(accounts[i].role), created};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	free(accounts);
	return cli_table_finish(cli, &table, rc);
}

/* Exit code of admin_role_set()'s result. */
static int admins_role(pp_cli_t *cli, const char *name, pp_admin_role_t role)
{
	char error[512];
	int rc = admin_role_set(&cli->rt.core, cli_actor(), name, role, error, sizeof(error));
	if (rc == 1) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_NOT_FOUND;
	}
	if (rc < 0) {
		cli_error(cli, "%s", error);
		return strstr(error, "last full admin") != NULL ? CLI_EXIT_CONFLICT
								: CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

int cli_admin(pp_cli_t *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0)
		return admins_usage(cli, argc < 2 ? cli->err : cli->out);
	const char *verb = argv[1];
	if (strcmp(verb, "list") == 0 && argc == 2) {
		int rc = cli_open(cli);
		return rc == CLI_EXIT_OK ? admins_list(cli) : rc;
	}
	if (strcmp(verb, "role") == 0 && argc == 4) {
		pp_admin_role_t role;
		if (!admin_role_parse(argv[3], &role))
			return admins_usage(cli, cli->err);
		int rc = cli_open(cli);
		if (rc == CLI_EXIT_OK)
			rc = admins_role(cli, argv[2], role);
		if (rc == CLI_EXIT_OK)
			cli_done(cli, "role changed");
		return rc;
	}
	if (strcmp(verb, "delete") == 0 && argc == 3) {
		int rc = cli_open(cli);
		if (rc != CLI_EXIT_OK)
			return rc;
		char error[512];
		rc = admin_account_delete(&cli->rt.core, cli_actor(), NULL, argv[2], error,
					  sizeof(error));
		if (rc != 0) {
			cli_error(cli, "%s", error);
			return rc == 1 ? CLI_EXIT_NOT_FOUND : rc == 2 ? CLI_EXIT_CONFLICT
								      : CLI_EXIT_FAILED;
		}
		cli_done(cli, "admin deleted");
		return CLI_EXIT_OK;
	}
	if (strcmp(verb, "passwd") == 0 && argc <= 3)
		return cli_admin_password(cli, false, argc == 3 ? argv[2] : NULL);
	if (strcmp(verb, "add") == 0 && (argc == 3 || argc == 5)) {
		pp_admin_role_t role = PP_ADMIN_ROLE_ADMIN;
		if (argc == 5 && (strcmp(argv[3], "--role") != 0 || !admin_role_parse(argv[4], &role)))
			return admins_usage(cli, cli->err);
		int rc = cli_admin_password(cli, true, argv[2]);
		if (rc == CLI_EXIT_OK && role != PP_ADMIN_ROLE_ADMIN)
			rc = admins_role(cli, argv[2], role);
		return rc;
	}
	return admins_usage(cli, cli->err);
}
