/*
 * cli-admin.c - an admin's password as the command line reads it (for `pullprint admin add`
 * and `passwd`, cli-admins.c) and `pullprint audit` (the audit log).
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/admins.h"
#include "core/audit.h"
#include "lib/str.h"

#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line from f into buf without its newline. Returns false at EOF or overflow. */
static bool admin_read_line(FILE *f, char *buf, size_t size)
{
	if (fgets(buf, (int)size, f) == NULL)
		return false;
	size_t len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(f))
		return false; /* longer than the buffer */
	return true;
}

/* Reads a password with echo off on a terminal, or one line from a pipe. */
static bool admin_read_password(pp_cli_t *cli, const char *prompt, char *buf, size_t size)
{
	if (!isatty(STDIN_FILENO))
		return admin_read_line(stdin, buf, size);
	struct termios saved, quiet;
	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return false;
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fputs(prompt, cli->err);
	(void)fflush(cli->err);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return false;
	bool ok = admin_read_line(stdin, buf, size);
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	fputc('\n', cli->err);
	return ok;
}

/* Asks for a new password (twice on a terminal). Returns an exit code. */
static int admin_new_password(pp_cli_t *cli, char *password, size_t size)
{
	char again[ADMINS_PASSWORD_MAX];
	if (!admin_read_password(cli, "New password: ", password, size)) {
		cli_error(cli, "no password given");
		return CLI_EXIT_USAGE;
	}
	if (isatty(STDIN_FILENO)) {
		bool same = admin_read_password(cli, "Again: ", again, sizeof(again)) &&
			    strcmp(password, again) == 0;
		crypto_wipe(again, sizeof(again));
		if (!same) {
			cli_error(cli, "the two passwords differ");
			return CLI_EXIT_USAGE;
		}
	}
	return CLI_EXIT_OK;
}

int cli_admin_password(pp_cli_t *cli, bool is_add, const char *name)
{
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (name == NULL)
		name = ADMINS_BOOTSTRAP_NAME;
	char error[512];

	pp_admin_t admin;
	bool found = false;
	if (admin_get(&cli->rt.core, name, &admin, &found, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (is_add == found) {
		cli_error(cli, found ? "admin %s already exists" : "no admin %s", name);
		return found ? CLI_EXIT_CONFLICT : CLI_EXIT_NOT_FOUND;
	}

	char password[ADMINS_PASSWORD_MAX];
	rc = admin_new_password(cli, password, sizeof(password));
	if (rc == CLI_EXIT_OK) {
		int changed = is_add ? admin_add(&cli->rt.core, cli_actor(), name, password, error,
						 sizeof(error))
				     : admin_set_password(&cli->rt.core, cli_actor(), name,
							  password, error, sizeof(error));
		if (changed < 0) {
			cli_error(cli, "%s", error);
			rc = CLI_EXIT_USAGE; /* too short, bad name: the admin's input */
		}
	}
	crypto_wipe(password, sizeof(password));
	if (rc == CLI_EXIT_OK)
		cli_done(cli, is_add ? "admin added" : "password changed");
	return rc;
}

int cli_audit(pp_cli_t *cli, int argc, char **argv)
{
	uint64_t limit = 50;
	if (argc == 3 && strcmp(argv[1], "--limit") == 0) {
		if (!parse_uint64_full(argv[2], AUDIT_LIST_MAX, &limit) || limit == 0) {
			cli_error(cli, "audit: --limit takes 1 to %d", AUDIT_LIST_MAX);
			return CLI_EXIT_USAGE;
		}
	} else if (argc != 1) {
		fprintf(argc == 2 && strcmp(argv[1], "--help") == 0 ? cli->out : cli->err,
			"usage: pullprint audit [--limit N]   the newest N entries (default 50)\n");
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	if (audit_list_recent(&cli->rt.core, (size_t)limit, &entries, &count, error,
			      sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	static const char *const columns[] = {"time", "actor", "action", "object", "detail"};
	pp_table_t *table = table_new(columns, 5);
	rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		char at[32];
		cli_format_time(entries[i].at, at);
		const char *cells[] = {at, entries[i].actor, entries[i].action, entries[i].object,
				       entries[i].detail};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	rc = cli_table_finish(cli, &table, rc);
	audit_list_free(&entries);
	return rc;
}
