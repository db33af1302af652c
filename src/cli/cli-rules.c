/*
 * cli-rules.c - `pullprint users rules`: the sender allow-list and block-list.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/sender-policy.h"

#include <string.h>

static int rules_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out, "usage: pullprint users rules [list]\n"
		     "       pullprint users rules allow|block PATTERN    PATTERN: user@domain, @domain,\n"
		     "                                                  or @*.domain for subdomains\n"
		     "       pullprint users rules remove allow|block PATTERN\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int rules_list(pp_cli_t *cli)
{
	char error[512];
	pp_sender_rule_t *rules = NULL;
	size_t count = 0;
	if (sender_rule_list(&cli->rt.core, &rules, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	static const char *const columns[] = {"kind", "pattern"};
	pp_table_t *table = table_new(columns, 2);
	int rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		const char *cells[] = {sender_rule_kind_name(rules[i].kind), rules[i].pattern};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	rc = cli_table_finish(cli, &table, rc);
	sender_rule_list_free(&rules);
	return rc;
}

int cli_users_rules(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return rules_usage(cli, cli->out);
	const char *verb = argc >= 2 ? argv[1] : "list";
	int rc;
	if (strcmp(verb, "list") == 0 && argc <= 2) {
		if ((rc = cli_open(cli)) != CLI_EXIT_OK)
			return rc;
		return rules_list(cli);
	}
	bool is_remove = strcmp(verb, "remove") == 0;
	pp_sender_rule_kind_t kind;
	const char *kind_name = is_remove ? (argc == 4 ? argv[2] : "") : verb;
	if (argc != (is_remove ? 4 : 3) || !sender_rule_kind_parse(kind_name, &kind))
		return rules_usage(cli, cli->err);
	const char *pattern = argv[argc - 1];

	char error[512], canonical[SENDER_PATTERN_MAX];
	if (sender_pattern_canonical(pattern, canonical, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	if ((rc = cli_open(cli)) != CLI_EXIT_OK)
		return rc;
	int changed = is_remove ? sender_rule_remove(&cli->rt.core, cli_actor(), kind, canonical,
						     error, sizeof(error))
				: sender_rule_add(&cli->rt.core, cli_actor(), kind, canonical,
						  error, sizeof(error));
	if (changed < 0) {
		cli_error(cli, "%s", error);
		if (strstr(error, "already exists") != NULL)
			return CLI_EXIT_CONFLICT;
		return is_remove ? CLI_EXIT_NOT_FOUND : CLI_EXIT_FAILED;
	}
	cli_done(cli, is_remove ? "rule removed" : "rule added");
	return CLI_EXIT_OK;
}
