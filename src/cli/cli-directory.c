/*
 * cli-directory.c - `pullprint directory`: company directory connections (LDAP / Active
 * Directory): add, list, remove, test, import, status, and two checks an admin runs by hand:
 * signin-test (a user's directory sign-in) and sender-test (what mail on-boarding decides).
 *
 * Passwords (the service account's, a test user's) are read from standard input, never from
 * the command line, where `ps` and shell history would show them.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/sender-policy.h"
#include "directory/directory.h"
#include "lib/str.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int directory_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
	        "usage: pullprint directory [list]\n"
	        "       pullprint directory add NAME --uri URI [--uri URI2 …] --base DN [--base DN …]\n"
	        "             [--type ldap|ad] [--starttls] [--ca-file PEM] [--no-verify]\n"
	        "             [--bind-dn DN --bind-password-stdin] [--filter FILTER]\n"
	        "             [--login-attrs 'uid …'] [--mail-attrs 'mail …']\n"
	        "             [--map email=A,display_name=A,department=A,cost_centre=A]\n"
	        "             [--print-group DN] [--admin-group DN] [--network-timeout-ms N]\n"
	        "             [--timeout-ms N] [--sync-interval SECONDS] [--disabled]\n"
	        "           URI: ldaps://host[:port], or ldap://host[:port] with --starttls\n"
	        "       pullprint directory remove NAME\n"
	        "       pullprint directory test [NAME]        connect, bind, read the base DNs\n"
	        "       pullprint directory import [NAME] [--due]\n"
	        "       pullprint directory status [--no-check]  health (checks each server now)\n"
	        "       pullprint directory signin-test LOGIN [--repeat N]  password on standard input;\n"
	        "             --repeat times N more sign-ins in this process (p50/p95 in --json)\n"
	        "       pullprint directory sender-test ADDRESS  what mail on-boarding decides\n"
	        "signin-test exits 0 when signed in, 3 when refused, 1 when no directory answered.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Reads one secret line from standard input (echo off on a terminal). */
static bool directory_read_secret(pp_cli_t *cli, const char *prompt, char *buf, size_t size)
{
	bool is_tty = isatty(STDIN_FILENO) != 0;
	struct termios saved, quiet;
	if (is_tty) {
		if (tcgetattr(STDIN_FILENO, &saved) < 0)
			return false;
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fputs(prompt, cli->err);
		(void)fflush(cli->err);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
			return false;
	}
	bool is_ok = fgets(buf, (int)size, stdin) != NULL;
	if (is_tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', cli->err);
	}
	if (!is_ok)
		return false;
	size_t len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin))
		return false;
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return true;
}

/* Appends word to a list in out[size] with sep between items. */
static bool directory_list_append(char *out, size_t size, const char *sep, const char *word)
{
	size_t len = strlen(out);
	return str_format(out + len, size - len, "%s%s", len > 0 ? sep : "", word);
}

/* Parses a number option into *value_r. */
static bool directory_number(const char *text, uint64_t max, int64_t *value_r)
{
	uint64_t v = 0;
	if (!parse_uint64_full(text, max, &v))
		return false;
	*value_r = (int64_t)v;
	return true;
}

static int directory_cmd_add(pp_cli_t *cli, int argc, char **argv)
{
	/* The kind decides the defaults, so find it before the other options. */
	pp_directory_kind_t kind = PP_DIRECTORY_LDAP;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--type") == 0 && !directory_kind_parse(argv[i + 1], &kind)) {
			cli_error(cli, "directory add: --type is ldap or ad");
			return CLI_EXIT_USAGE;
		}
	pp_directory_t dir;
	directory_defaults(kind, &dir);
	dir.uris[0] = '\0';
	bool is_password_stdin = false;
	char mapping[DIRECTORY_ATTRS_MAX * 2] = "";
	static const struct option options[] = {
	    {"uri", required_argument, NULL, 'u'},
	    {"base", required_argument, NULL, 'b'},
	    {"type", required_argument, NULL, 'k'},
	    {"starttls", no_argument, NULL, 's'},
	    {"ca-file", required_argument, NULL, 'c'},
	    {"no-verify", no_argument, NULL, 'V'},
	    {"bind-dn", required_argument, NULL, 'D'},
	    {"bind-password-stdin", no_argument, NULL, 'w'},
	    {"filter", required_argument, NULL, 'f'},
	    {"login-attrs", required_argument, NULL, 'l'},
	    {"mail-attrs", required_argument, NULL, 'm'},
	    {"map", required_argument, NULL, 'M'},
	    {"print-group", required_argument, NULL, 'p'},
	    {"admin-group", required_argument, NULL, 'a'},
	    {"network-timeout-ms", required_argument, NULL, 'n'},
	    {"timeout-ms", required_argument, NULL, 't'},
	    {"sync-interval", required_argument, NULL, 'i'},
	    {"disabled", no_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		bool ok = true;
		int64_t n = 0;
		switch (opt) {
		case 'u':
			ok = directory_list_append(dir.uris, sizeof(dir.uris), " ", optarg);
			break;
		case 'b':
			ok = strchr(optarg, '\n') == NULL &&
			     directory_list_append(dir.base_dns, sizeof(dir.base_dns), "\n", optarg);
			break;
		case 'k':
			break;
		case 's':
			dir.is_starttls = true;
			break;
		case 'c':
			ok = str_copy(dir.ca_file, sizeof(dir.ca_file), optarg);
			break;
		case 'V':
			dir.is_verify = false;
			break;
		case 'D':
			ok = str_copy(dir.bind_dn, sizeof(dir.bind_dn), optarg);
			break;
		case 'w':
			is_password_stdin = true;
			break;
		case 'f':
			ok = str_copy(dir.user_filter, sizeof(dir.user_filter), optarg);
			break;
		case 'l':
			ok = str_copy(dir.login_attrs, sizeof(dir.login_attrs), optarg);
			break;
		case 'm':
			ok = str_copy(dir.mail_attrs, sizeof(dir.mail_attrs), optarg);
			break;
		case 'M':
			ok = str_copy(mapping, sizeof(mapping), optarg);
			break;
		case 'p':
			ok = str_copy(dir.print_group, sizeof(dir.print_group), optarg);
			break;
		case 'a':
			ok = str_copy(dir.admin_group, sizeof(dir.admin_group), optarg);
			break;
		case 'n':
			ok = directory_number(optarg, 120000, &n);
			dir.network_timeout_ms = (int)n;
			break;
		case 't':
			ok = directory_number(optarg, 120000, &n);
			dir.op_timeout_ms = (int)n;
			break;
		case 'i':
			ok = directory_number(optarg, 365 * 86400, &n);
			dir.sync_interval_s = n;
			break;
		case 'x':
			dir.is_enabled = false;
			break;
		default:
			return directory_usage(cli, cli->err);
		}
		if (!ok) {
			cli_error(cli, "directory add: bad or too long value: %.60s", optarg);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !str_copy(dir.name, sizeof(dir.name), argv[optind]))
		return directory_usage(cli, cli->err);
	char error[1024];
	if (mapping[0] != '\0' && directory_mapping_parse(mapping, &dir, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	char password[DIRECTORY_PASSWORD_MAX] = "";
	if (is_password_stdin &&
	    !directory_read_secret(cli, "Service account password: ", password, sizeof(password))) {
		cli_error(cli, "directory add: no service password on standard input (or too long)");
		return CLI_EXIT_USAGE;
	}
	int rc = cli_open(cli);
	if (rc == CLI_EXIT_OK) {
		int added = directory_add(&cli->rt.core, cli_actor(), &dir, password, NULL, error,
		                          sizeof(error));
		if (added < 0) {
			cli_error(cli, "%s", error);
			rc = added == DB_DUPLICATE ? CLI_EXIT_CONFLICT : CLI_EXIT_USAGE;
		}
	}
	sodium_memzero(password, sizeof(password));
	if (rc == CLI_EXIT_OK)
		cli_done(cli, "directory added; `pullprint directory test` checks it");
	return rc;
}

static int directory_print(pp_cli_t *cli, const pp_directory_t *dirs, size_t count)
{
	static const char *const columns[] = {"name", "type", "enabled", "uris", "base",
	                                      "print_group", "admin_group", "last_sync"};
	pp_table_t *table = table_new(columns, 8);
	if (table == NULL)
		return CLI_EXIT_FAILED;
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		char bases[DIRECTORY_BASES_MAX], synced[32];
		(void)str_copy(bases, sizeof(bases), dirs[i].base_dns);
		for (char *p = bases; (p = strchr(p, '\n')) != NULL;)
			*p = ';';
		cli_format_time(dirs[i].last_sync_at, synced);
		const char *cells[] = {dirs[i].name,        directory_kind_name(dirs[i].kind),
		                       dirs[i].is_enabled ? "yes" : "no",
		                       dirs[i].uris,        bases,
		                       dirs[i].print_group, dirs[i].admin_group,
		                       synced};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	return cli_table_finish(cli, &table, rc);
}

/* The named connection, or every one (name NULL). *dirs_r new; free with directory_list_free. */
static int directory_select(pp_cli_t *cli, const char *name, pp_directory_t **dirs_r,
                            size_t *count_r)
{
	char error[1024];
	if (directory_list(&cli->rt.core, dirs_r, count_r, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (name == NULL) {
		if (*count_r == 0) {
			directory_list_free(dirs_r);
			cli_error(cli, "no directory configured; `pullprint directory add` adds one");
			return CLI_EXIT_NOT_FOUND;
		}
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < *count_r; i++) {
		if (strcmp((*dirs_r)[i].name, name) == 0) {
			(*dirs_r)[0] = (*dirs_r)[i];
			*count_r = 1;
			return CLI_EXIT_OK;
		}
	}
	directory_list_free(dirs_r);
	cli_error(cli, "no directory %s; `pullprint directory list` shows them", name);
	return CLI_EXIT_NOT_FOUND;
}

static int directory_cmd_test(pp_cli_t *cli, const char *name)
{
	pp_directory_t *dirs = NULL;
	size_t count = 0;
	int rc = directory_select(cli, name, &dirs, &count);
	for (size_t i = 0; i < count; i++) {
		char error[1024];
		if (directory_test(&cli->rt.core, &dirs[i], error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			rc = CLI_EXIT_FAILED;
		} else {
			fprintf(cli->out, "directory %s: OK (connected, bound, base DNs readable)\n",
			        dirs[i].name);
		}
	}
	directory_list_free(&dirs);
	return rc;
}

static int directory_cmd_import(pp_cli_t *cli, int argc, char **argv)
{
	bool is_due = false;
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--due") == 0)
			is_due = true;
		else if (name == NULL && argv[i][0] != '-')
			name = argv[i];
		else
			return directory_usage(cli, cli->err);
	}
	char error[1024];
	if (is_due) {
		size_t ran = 0;
		if (name != NULL)
			return directory_usage(cli, cli->err);
		if (directory_import_due(&cli->rt.core, cli_actor(), &ran, error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		fprintf(cli->out, "%zu import(s) were due; `pullprint directory status` shows them\n",
		        ran);
		return CLI_EXIT_OK;
	}
	pp_directory_t *dirs = NULL;
	size_t count = 0;
	int rc = directory_select(cli, name, &dirs, &count);
	for (size_t i = 0; i < count; i++) {
		pp_directory_import_stats_t st;
		if (directory_import(&cli->rt.core, cli_actor(), &dirs[i], &st, error,
		                     sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			rc = CLI_EXIT_FAILED;
			continue;
		}
		if (cli->as_json) {
			json_t *obj = json_pack(
			    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "directory",
			    dirs[i].name, "seen", (json_int_t)st.seen, "imported",
			    (json_int_t)st.imported, "created", (json_int_t)st.created, "enabled",
			    (json_int_t)st.enabled, "disabled_by_group",
			    (json_int_t)st.disabled_by_group, "admins", (json_int_t)st.admins,
			    "skipped", (json_int_t)st.skipped, "disabled_left",
			    (json_int_t)st.disabled_left, "elapsed_ms", (json_int_t)st.elapsed_ms);
			if (!cli_print_json(cli, obj))
				rc = CLI_EXIT_FAILED;
		} else {
			fprintf(cli->out,
			        "directory %s: imported %zu users (%zu new, %zu enabled, %zu disabled "
			        "by group, %zu admins), %zu skipped without mail, %zu who left "
			        "disabled, in %lld ms\n",
			        dirs[i].name, st.imported, st.created, st.enabled,
			        st.disabled_by_group, st.admins, st.skipped, st.disabled_left,
			        (long long)st.elapsed_ms);
		}
	}
	directory_list_free(&dirs);
	return rc;
}

static int directory_cmd_status(pp_cli_t *cli, int argc, char **argv)
{
	bool is_check = true;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-check") != 0)
			return directory_usage(cli, cli->err);
		is_check = false;
	}
	pp_directory_t *dirs = NULL;
	size_t count = 0;
	int rc = directory_select(cli, NULL, &dirs, &count);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[1024];
	/* A live check first, so the table shows now, not the last sign-in. */
	for (size_t i = 0; i < count && is_check; i++)
		if (dirs[i].is_enabled && directory_test(&cli->rt.core, &dirs[i], error, sizeof(error)) < 0)
			rc = CLI_EXIT_FAILED;
	directory_list_free(&dirs);
	if (directory_list(&cli->rt.core, &dirs, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	static const char *const columns[] = {"name", "state", "last_ok", "last_error_at",
	                                      "last_error", "last_sync", "last_sync_result"};
	pp_table_t *table = table_new(columns, 7);
	if (table == NULL) {
		directory_list_free(&dirs);
		return CLI_EXIT_FAILED;
	}
	int table_rc = CLI_EXIT_OK;
	for (size_t i = 0; i < count; i++) {
		char ok_at[32], err_at[32], sync_at[32];
		cli_format_time(dirs[i].last_ok_at, ok_at);
		cli_format_time(dirs[i].last_error_at, err_at);
		cli_format_time(dirs[i].last_sync_at, sync_at);
		const char *state = !dirs[i].is_enabled            ? "disabled"
		                    : dirs[i].last_error[0] != '\0' ? "unreachable"
		                                                    : "ok";
		const char *cells[] = {dirs[i].name,       state,   ok_at,
		                       err_at,             dirs[i].last_error,
		                       sync_at,            dirs[i].last_sync_result};
		if (table_add_row(table, cells) < 0)
			table_rc = CLI_EXIT_FAILED;
	}
	directory_list_free(&dirs);
	table_rc = cli_table_finish(cli, &table, table_rc);
	return table_rc != CLI_EXIT_OK ? table_rc : rc;
}

static int directory_ms_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Times n more sign-ins in this process (warm, as in the server): p50/p95 into the out-params. */
static int directory_signin_repeat(pp_cli_t *cli, const char *login, const char *password,
                                   size_t n, double *p50_r, double *p95_r)
{
	double *ms = calloc(n, sizeof(*ms));
	if (ms == NULL)
		return CLI_EXIT_FAILED;
	for (size_t i = 0; i < n; i++) {
		char error[1024];
		pp_directory_result_t res;
		struct timespec t0, t1;
		(void)clock_gettime(CLOCK_MONOTONIC, &t0);
		int rc = directory_signin(&cli->rt.core, login, password, "cli", &res, error,
		                          sizeof(error));
		(void)clock_gettime(CLOCK_MONOTONIC, &t1);
		if (rc < 0 || res.outcome != PP_DIRECTORY_OK) {
			cli_error(cli, "directory signin-test: repeat %zu failed: %s", i,
			          rc < 0 ? error : res.reason);
			free(ms);
			return CLI_EXIT_FAILED;
		}
		ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	}
	qsort(ms, n, sizeof(*ms), directory_ms_cmp);
	*p50_r = ms[n / 2];
	*p95_r = ms[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1];
	free(ms);
	return CLI_EXIT_OK;
}

static int directory_cmd_signin(pp_cli_t *cli, const char *login, size_t repeat)
{
	char password[DIRECTORY_PASSWORD_MAX];
	if (!directory_read_secret(cli, "Password: ", password, sizeof(password))) {
		cli_error(cli, "directory signin-test: no password on standard input (or too long)");
		return CLI_EXIT_USAGE;
	}
	char error[1024];
	pp_directory_result_t res;
	struct timespec t0, t1;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = directory_signin(&cli->rt.core, login, password, "cli", &res, error, sizeof(error));
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	/* What the sign-in itself took (connect, TLS, binds, search, user row), for bench/. */
	double elapsed_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	double p50 = elapsed_ms, p95 = elapsed_ms;
	if (rc == 0 && res.outcome == PP_DIRECTORY_OK && repeat > 0 &&
	    directory_signin_repeat(cli, login, password, repeat, &p50, &p95) != CLI_EXIT_OK) {
		sodium_memzero(password, sizeof(password));
		return CLI_EXIT_FAILED;
	}
	if (rc < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	sodium_memzero(password, sizeof(password));
	bool is_ok = res.outcome == PP_DIRECTORY_OK;
	if (cli->as_json) {
		json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:f, s:f, s:f}", "outcome",
		                        directory_outcome_name(res.outcome), "directory",
		                        res.directory, "reason", res.reason, "email",
		                        is_ok ? res.user.email : "", "display_name",
		                        is_ok ? res.user.display_name : "", "department",
		                        is_ok ? res.user.department : "", "cost_centre",
		                        is_ok ? res.cost_centre : "", "admin", res.is_admin,
		                        "created", res.is_user_created, "elapsed_ms", elapsed_ms,
		                        "repeat_p50_ms", p50, "repeat_p95_ms", p95);
		if (!cli_print_json(cli, obj))
			return CLI_EXIT_FAILED;
	} else if (is_ok) {
		fprintf(cli->out,
		        "signed in via %s: %s (%s), department '%s', cost centre '%s'%s%s\n",
		        res.directory, res.user.email, res.user.display_name, res.user.department,
		        res.cost_centre, res.is_admin ? ", admin" : "",
		        res.is_user_created ? ", user created" : "");
	} else {
		cli_error(cli, "sign-in refused (%s%s%s): %s", directory_outcome_name(res.outcome),
		          res.directory[0] != '\0' ? ", directory " : "", res.directory,
		          res.outcome == PP_DIRECTORY_NONE ? "no directory is configured" : res.reason);
	}
	switch (res.outcome) {
	case PP_DIRECTORY_OK:
		return CLI_EXIT_OK;
	case PP_DIRECTORY_DENIED:
	case PP_DIRECTORY_NOT_FOUND:
		return CLI_EXIT_NOT_FOUND;
	case PP_DIRECTORY_NONE:
	case PP_DIRECTORY_UNAVAILABLE:
		break;
	}
	return CLI_EXIT_FAILED;
}

static int directory_cmd_sender(pp_cli_t *cli, const char *address)
{
	char error[1024];
	pp_sender_result_t res;
	if (sender_policy_decide(&cli->rt.core, address, "mail", &res, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (cli->as_json) {
		json_t *obj = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s}", "decision",
		                        sender_decision_name(res.decision), "reason",
		                        sender_reason_name(res.reason), "created",
		                        res.is_user_created, "email",
		                        res.has_user ? res.user.email : "", "state",
		                        res.has_user ? users_state_name(res.user.state) : "",
		                        "department", res.has_user ? res.user.department : "");
		return cli_print_json(cli, obj) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	}
	fprintf(cli->out, "%s: %s (%s)%s\n", address, sender_decision_name(res.decision),
	        sender_reason_name(res.reason), res.is_user_created ? ", user created" : "");
	return CLI_EXIT_OK;
}

/* Registered in cli-main.c's command table. */
int cli_directory(pp_cli_t *cli, int argc, char **argv);

int cli_directory(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return directory_usage(cli, cli->out);
	const char *verb = argc >= 2 ? argv[1] : "list";
	if (strcmp(verb, "add") == 0)
		return directory_cmd_add(cli, argc - 1, argv + 1);
	bool is_known = strcmp(verb, "list") == 0 || strcmp(verb, "remove") == 0 ||
	                strcmp(verb, "test") == 0 || strcmp(verb, "import") == 0 ||
	                strcmp(verb, "status") == 0 || strcmp(verb, "signin-test") == 0 ||
	                strcmp(verb, "sender-test") == 0;
	bool needs_one = strcmp(verb, "remove") == 0 || strcmp(verb, "sender-test") == 0;
	bool is_signin_argc = strcmp(verb, "signin-test") != 0 || argc == 3 || argc == 5;
	if (!is_known || (needs_one && argc != 3) || !is_signin_argc ||
	    ((strcmp(verb, "list") == 0) && argc > 2) || (strcmp(verb, "test") == 0 && argc > 3))
		return directory_usage(cli, cli->err);
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (strcmp(verb, "list") == 0) {
		pp_directory_t *dirs = NULL;
		size_t count = 0;
		char error[1024];
		if (directory_list(&cli->rt.core, &dirs, &count, error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		rc = directory_print(cli, dirs, count);
		directory_list_free(&dirs);
		return rc;
	}
	if (strcmp(verb, "remove") == 0) {
		char error[1024];
		if (directory_remove(&cli->rt.core, cli_actor(), argv[2], error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return strstr(error, "no directory") == error ? CLI_EXIT_NOT_FOUND
			                                               : CLI_EXIT_FAILED;
		}
		cli_done(cli, "directory removed (its users stay)");
		return CLI_EXIT_OK;
	}
	if (strcmp(verb, "test") == 0)
		return directory_cmd_test(cli, argc == 3 ? argv[2] : NULL);
	if (strcmp(verb, "import") == 0)
		return directory_cmd_import(cli, argc - 1, argv + 1);
	if (strcmp(verb, "status") == 0)
		return directory_cmd_status(cli, argc - 1, argv + 1);
	if (strcmp(verb, "signin-test") == 0) {
		int64_t repeat = 0;
		if (argc == 5 && (strcmp(argv[3], "--repeat") != 0 ||
		                  !directory_number(argv[4], 100000, &repeat)))
			return directory_usage(cli, cli->err);
		return directory_cmd_signin(cli, argv[2], (size_t)repeat);
	}
	return directory_cmd_sender(cli, argv[2]);
}
