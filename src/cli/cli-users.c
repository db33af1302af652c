/*
 * cli-users.c - `pullprint users` and `pullprint company-code`: accounts, their confirmation
 * codes, and the company code that apps enrol with.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/codes.h"
#include "core/users.h"
#include "lib/str.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>

static int users_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint users [list] [--state enabled|pending|disabled] [--search TEXT]\n"
		"       pullprint users add EMAIL [--name NAME] [--department DEPT] [--pending]\n"
		"       pullprint users show EMAIL\n"
		"       pullprint users approve|enable|disable|delete EMAIL\n"
		"       pullprint users code EMAIL      issue a new confirmation code (shown once)\n"
		"       pullprint users rules …         allow-list and block-list (see users rules --help)\n"
		"       pullprint users printer-uri …   personal printer addresses (see users printer-uri --help)\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int users_print(pp_cli_t *cli, const pp_user_t *users, size_t count)
{
	static const char *const columns[] = {"email", "state", "name", "department", "source",
					      "created"};
	pp_table_t *table = table_new(columns, 6);
	if (table == NULL)
		return CLI_EXIT_FAILED;
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		char created[32];
		cli_format_time(users[i].created_at, created);
		const char *cells[] = {users[i].email,	      users_state_name(users[i].state),
				       users[i].display_name, users[i].department,
				       users[i].source,	      created};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	rc = cli_table_finish(cli, &table, rc);
	return rc;
}

static int users_cmd_list(pp_cli_t *cli, int argc, char **argv)
{
	pp_user_filter_t filter = {0};
	static const struct option options[] = {{"state", required_argument, NULL, 's'},
						{"search", required_argument, NULL, 'q'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 's' && users_state_parse(optarg, &filter.state)) {
			filter.has_state = true;
		} else if (opt == 'q') {
			filter.search = optarg;
		} else {
			cli_error(cli, "users list: bad option (states: enabled, pending, disabled)");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return users_usage(cli, cli->err);
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	pp_user_t *users = NULL;
	size_t count = 0;
	if (users_list(&cli->rt.core, &filter, &users, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	rc = users_print(cli, users, count);
	users_list_free(&users);
	return rc;
}

/* Prints a newly issued code; the command line is the one place it is shown to the admin. */
static void users_print_code(pp_cli_t *cli, const char *email, const char *code)
{
	if (cli->as_json) {
		(void)cli_print_json(cli, json_pack("{s:s, s:s}", "email", email, "code", code));
	} else {
		fprintf(cli->out, "confirmation code for %s: %s\n", email, code);
	}
}

/* Issues a new code and prints it once; context prefixes an error message. */
static int users_issue_code(pp_cli_t *cli, const pp_user_t *user, const char *context)
{
	char code[CODES_MAX_LEN + 1], error[512];
	if (codes_issue(&cli->rt.core, cli_actor(), user->id, code, error, sizeof(error)) < 0) {
		cli_error(cli, "%s%s", context, error);
		return CLI_EXIT_FAILED;
	}
	users_print_code(cli, user->email, code);
	crypto_wipe(code, sizeof(code));
	return CLI_EXIT_OK;
}

static int users_cmd_add(pp_cli_t *cli, int argc, char **argv)
{
	const char *name = NULL, *department = NULL;
	bool is_pending = false;
	static const struct option options[] = {{"name", required_argument, NULL, 'n'},
						{"department", required_argument, NULL, 'd'},
						{"pending", no_argument, NULL, 'p'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'n')
			name = optarg;
		else if (opt == 'd')
			department = optarg;
		else if (opt == 'p')
			is_pending = true;
		else
			return users_usage(cli, cli->err);
	}
	if (optind + 1 != argc)
		return users_usage(cli, cli->err);
	const char *email = argv[optind];

	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_core_t *core = &cli->rt.core;
	char error[512];
	pp_user_t user;
	int added = users_add(core, cli_actor(), email,
			      is_pending ? PP_USER_PENDING : PP_USER_ENABLED, "admin", &user, error,
			      sizeof(error));
	if (added == DB_DUPLICATE) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_CONFLICT;
	}
	if (added < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	if ((name != NULL && users_set_display_name(core, cli_actor(), user.email, name, error,
						    sizeof(error)) < 0) ||
	    (department != NULL && users_set_department(core, cli_actor(), user.email,
							department, error, sizeof(error)) < 0)) {
		cli_error(cli, "user %s added, but: %s", user.email, error);
		return CLI_EXIT_FAILED;
	}
	return users_issue_code(cli, &user, "user added, but no code: ");
}

int cli_user_find(pp_cli_t *cli, const char *email, pp_user_t *user_r)
{
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	bool found = false;
	if (users_get_by_email(&cli->rt.core, email, user_r, &found, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (!found) {
		cli_error(cli, "no user %s", email);
		return CLI_EXIT_NOT_FOUND;
	}
	return CLI_EXIT_OK;
}

typedef int (*users_change_fn)(pp_core_t *core, const char *actor, const char *email,
			       char *error, size_t error_size);

static int users_cmd_change(pp_cli_t *cli, const char *verb, const char *email)
{
	static const struct {
		const char *verb;
		users_change_fn fn;
		const char *done;
	} changes[] = {
		{"approve", users_approve, "user approved"},
		{"enable", users_enable, "user enabled"},
		{"disable", users_disable, "user disabled"},
		{"delete", users_delete, "user deleted with their jobs"},
	};
	pp_user_t user;
	int rc = cli_user_find(cli, email, &user);
	if (rc != CLI_EXIT_OK)
		return rc;
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		if (strcmp(verb, changes[i].verb) != 0)
			continue;
		char error[512];
		if (strcmp(verb, "approve") == 0 && user.state != PP_USER_PENDING) {
			cli_error(cli, "%s is %s, not pending", user.email,
				  users_state_name(user.state));
			return CLI_EXIT_CONFLICT;
		}
		if (changes[i].fn(&cli->rt.core, cli_actor(), user.email, error, sizeof(error)) <
		    0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		cli_done(cli, changes[i].done);
		return CLI_EXIT_OK;
	}
	return users_usage(cli, cli->err);
}

static int users_cmd_code(pp_cli_t *cli, const char *email)
{
	pp_user_t user;
	int rc = cli_user_find(cli, email, &user);
	if (rc != CLI_EXIT_OK)
		return rc;
	return users_issue_code(cli, &user, "");
}

static int users_cmd_show(pp_cli_t *cli, const char *email)
{
	pp_user_t user;
	int rc = cli_user_find(cli, email, &user);
	if (rc != CLI_EXIT_OK)
		return rc;
	return users_print(cli, &user, 1);
}

int cli_users(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return users_usage(cli, cli->out);
	if (argc < 2 || argv[1][0] == '-')
		return users_cmd_list(cli, argc, argv);
	const char *verb = argv[1];
	if (strcmp(verb, "list") == 0)
		return users_cmd_list(cli, argc - 1, argv + 1);
	if (strcmp(verb, "add") == 0)
		return users_cmd_add(cli, argc - 1, argv + 1);
	if (strcmp(verb, "rules") == 0)
		return cli_users_rules(cli, argc - 1, argv + 1);
	if (strcmp(verb, "printer-uri") == 0)
		return cli_users_printer_uri(cli, argc - 1, argv + 1);
	if (argc != 3)
		return users_usage(cli, cli->err);
	if (strcmp(verb, "show") == 0)
		return users_cmd_show(cli, argv[2]);
	if (strcmp(verb, "code") == 0)
		return users_cmd_code(cli, argv[2]);
	return users_cmd_change(cli, verb, argv[2]);
}

int cli_company_code(pp_cli_t *cli, int argc, char **argv)
{
	bool regenerate = argc == 2 && strcmp(argv[1], "--regenerate") == 0;
	if (argc > 2 || (argc == 2 && !regenerate)) {
		fprintf(argc == 2 && strcmp(argv[1], "--help") == 0 ? cli->out : cli->err,
			"usage: pullprint company-code [--regenerate]\n");
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char code[COMPANY_CODE_LEN + 1], error[512];
	int got = regenerate ? company_code_regenerate(&cli->rt.core, cli_actor(), code, error,
							sizeof(error))
			     : company_code_get(&cli->rt.core, code, error, sizeof(error));
	if (got < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (cli->as_json)
		fprintf(cli->out, "{\"company_code\": \"%s\"}\n", code);
	else
		fprintf(cli->out, "%s\n", code);
	return CLI_EXIT_OK;
}
