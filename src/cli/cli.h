/*
 * cli.h - the administration command line, `pullprint`: one function per command family,
 * sharing one context that opens the installation (configuration, key, database) on demand.
 *
 * Output is a human table by default and JSON with --json. Exit codes are part of the
 * interface, so scripts can tell "not found" from "failed".
 */
#ifndef PP_CLI_H
#define PP_CLI_H

#include "core/users.h"
#include "runtime/runtime.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1, /* the action could not be done (database, I/O, …) */
	CLI_EXIT_USAGE = 2, /* wrong command, option or argument */
	CLI_EXIT_NOT_FOUND = 3, /* the named user, printer, job or setting does not exist */
	CLI_EXIT_CONFLICT = 4, /* already exists, or not allowed in its current state */
	CLI_EXIT_CONFIG = 5, /* the configuration file is invalid */
};

typedef struct pp_cli {
	const char *config_path; /* --config, NULL = default */
	const char *state_dir; /* --state-dir, NULL = from the configuration */
	bool as_json; /* --json */
	bool is_verbose; /* --verbose: log lines at the configured level, else warnings only */
	FILE *out; /* results */
	FILE *err; /* messages */
	pp_runtime_t rt;
	bool is_open;
} pp_cli_t;

/* A command family: argv[0] is the family name ("users"), the rest its arguments. */
typedef int (*cli_command_fn)(pp_cli_t *cli, int argc, char **argv);

/* Runs the command line; returns the process exit code. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

/* Opens the installation once (configuration, key, database, spool). Returns an exit code. */
int cli_open(pp_cli_t *cli);

/* Prints "pullprint: <message>" on the error stream. */
void cli_error(pp_cli_t *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints a JSON object {"ok":true,…} or the human message, for commands without a table. */
void cli_done(pp_cli_t *cli, const char *message);

/* Formats Unix seconds as UTC "YYYY-MM-DD HH:MM:SS"; "" for 0 or an impossible time. */
void cli_format_time(int64_t at, char out[32]);

struct pp_table;
/*
 * Prints *table (as a table or JSON) when rc is CLI_EXIT_OK, frees it either way, and returns
 * the exit code: rc, or CLI_EXIT_FAILED when printing failed.
 */
int cli_table_finish(pp_cli_t *cli, struct pp_table **table, int rc);

/*
 * Prints one JSON object (--json output) on its own lines and releases it (obj is consumed;
 * NULL, e.g. a failed json_pack(), is allowed). Returns false when nothing was printed.
 */
bool cli_print_json(pp_cli_t *cli, json_t *obj);

/* The actor name written to the audit log for this command line run ("cli:<login>"). */
const char *cli_actor(void);

/*
 * The host and port clients reach the server at, as the server derives them: the host of
 * [server] public_url ("[…]" kept for an IPv6 literal) and its port, else [http] https_port;
 * without a public_url, this machine's host name. host[host_size] (at least 2 bytes). Opens
 * nothing: call after cli_open(). Returns false when public_url is set but not
 * "scheme://host[:port]…" or the host does not fit.
 */
bool cli_public_address(const pp_cli_t *cli, char *host, size_t host_size, unsigned *port_r);

/*
 * Opens the installation and looks the user up by address, so that a missing one is exit
 * code 3 (with a message), not a generic failure. Returns an exit code.
 */
int cli_user_find(pp_cli_t *cli, const char *email, pp_user_t *user_r);

int cli_check_config(pp_cli_t *cli, int argc, char **argv);
int cli_users(pp_cli_t *cli, int argc, char **argv);
int cli_users_rules(pp_cli_t *cli, int argc, char **argv);
int cli_users_printer_uri(pp_cli_t *cli, int argc, char **argv); /* argv[0] "printer-uri" */
int cli_forwarders(pp_cli_t *cli, int argc, char **argv);
int cli_company_code(pp_cli_t *cli, int argc, char **argv);
int cli_printers(pp_cli_t *cli, int argc, char **argv);
/* `printers discover|probe|status` (argv[0] is the verb), in cli-printers-discover.c. */
int cli_printers_discover(pp_cli_t *cli, int argc, char **argv);
int cli_jobs(pp_cli_t *cli, int argc, char **argv);
int cli_jobs_submit(pp_cli_t *cli, int argc, char **argv);
int cli_settings(pp_cli_t *cli, int argc, char **argv);
int cli_export(pp_cli_t *cli, int argc, char **argv);
/* `spool check` (cli-spool.c): every stored document read back. */
int cli_spool(pp_cli_t *cli, int argc, char **argv);
/* `admin` (accounts with their console roles, cli-admins.c). */
int cli_admin(pp_cli_t *cli, int argc, char **argv);
int cli_audit(pp_cli_t *cli, int argc, char **argv);
/*
 * Sets an admin's password read from the terminal or standard input (cli-admin.c): a new
 * admin (is_add) or an existing one (name NULL = the first admin). Returns a CLI_EXIT_ code.
 */
int cli_admin_password(pp_cli_t *cli, bool is_add, const char *name);
/* Parses a date argument: YYYY-MM-DD (UTC midnight) or Unix seconds (cli-export.c). */
bool cli_parse_date(const char *s, int64_t *at_r);
/* `reports` (cli-reports.c). */
int cli_reports(pp_cli_t *cli, int argc, char **argv);
int cli_dns_sd_records(pp_cli_t *cli, int argc, char **argv);
/* `mail accounts|status|check` (cli-mail.c). */
int cli_mail(pp_cli_t *cli, int argc, char **argv);
/* `mail smtp set|show|test` and `mail outbox` (cli-mail-out.c); argv[0] is "smtp" or
 * "outbox". cli_mail() hands those two families to it. */
int cli_mail_out(pp_cli_t *cli, int argc, char **argv);

#endif
