/*
 * cli-main.c - `pullprint` option parsing and dispatch to the command families.
 */
#include "cli/cli.h"

#include "cli/table.h"

#include "lib/str.h"
#include "pp-build-config.h"

#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	const char *name;
	cli_command_fn fn;
	const char *summary;
} cli_command_t;

/* cli-directory.c (declared here, not in cli.h, which another change owns). */
int cli_directory(pp_cli_t *cli, int argc, char **argv);

static const cli_command_t cli_commands[] = {
	{"users", cli_users, "list, add, approve, disable, enable, delete users; issue codes; sender rules; printer addresses"},
	{"company-code", cli_company_code, "show or regenerate the company code"},
	{"printers", cli_printers, "list, add, remove, enable, disable printers"},
	{"forwarders", cli_forwarders, "print servers (CUPS backends) that forward jobs: add, list, revoke"},
	{"jobs", cli_jobs, "list, cancel, delete jobs"},
	{"settings", cli_settings, "list, get, set runtime settings"},
	{"directory", cli_directory, "company directory (LDAP/AD): add, list, remove, test, import, status, signin-test"},
	{"mail", cli_mail, "print by email: inbound mailboxes (accounts add, list, remove, test), status, check"},
	{"spool", cli_spool, "check that every stored document is complete and unaltered"},
	{"export", cli_export, "export accounting as CSV or JSON, optionally pseudonymised"},
	{"admin", cli_admin, "admin accounts and their console role: list, add, role, passwd, delete"},
	{"audit", cli_audit, "show the audit log"},
	{"reports", cli_reports, "pages printed by user, department, printer, day, week, month, source"},
	{"dns-sd-records", cli_dns_sd_records, "print DNS records that let other subnets find the printer"},
	{"check-config", cli_check_config, "check the configuration file (--dump to print it)"},
};

static void cli_usage(FILE *out)
{
	fprintf(out, "usage: pullprint [--config PATH] [--state-dir DIR] [--json] [--verbose] COMMAND [ARGS]\n\n"
		     "commands:\n");
	for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++)
		fprintf(out, "  %-14s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fprintf(out, "\n`pullprint COMMAND --help` describes a command. Exit codes: 0 done, 1 failed,\n"
		     "2 usage, 3 not found, 4 conflict (exists / wrong state), 5 bad configuration.\n");
}

void cli_error(pp_cli_t *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pullprint: ", cli->err);
	vfprintf(cli->err, fmt, ap);
	fputc('\n', cli->err);
	va_end(ap);
}

void cli_done(pp_cli_t *cli, const char *message)
{
	if (cli->as_json)
		fprintf(cli->out, "{\"ok\": true}\n");
	else
		fprintf(cli->out, "%s\n", message);
}

int cli_table_finish(pp_cli_t *cli, pp_table_t **table, int rc)
{
	if (rc == CLI_EXIT_OK && table_print(*table, cli->out, cli->as_json) < 0)
		rc = CLI_EXIT_FAILED;
	table_free(table);
	return rc;
}


bool cli_print_json(pp_cli_t *cli, json_t *obj)
{
	bool is_printed = obj != NULL && json_dumpf(obj, cli->out, JSON_INDENT(2)) == 0 &&
			  fputc('\n', cli->out) != EOF;
	json_decref(obj);
	return is_printed;
}

void cli_format_time(int64_t at, char out[32])
{
	struct tm tm;
	time_t t = (time_t)at;
	if (at == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		out[0] = '\0';
}

const char *cli_actor(void)
{
	static __thread char actor[96];
	struct passwd pw, *result = NULL;
	char buf[1024];
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &result) == 0 && result != NULL &&
	    str_format(actor, sizeof(actor), "cli:%s", result->pw_name))
		return actor;
	if (str_format(actor, sizeof(actor), "cli:uid%u", (unsigned)getuid()))
		return actor;
	return "cli";
}

bool cli_public_address(const pp_cli_t *cli, char *host, size_t host_size, unsigned *port_r)
{
	const pp_config_t *cfg = &cli->rt.config;
	*port_r = cfg->https_port;
	if (cfg->public_url[0] == '\0') {
		if (host_size < 2 || gethostname(host, host_size) < 0 || host[0] == '\0')
			return str_copy(host, host_size, "localhost");
		host[host_size - 1] = '\0';
		return true;
	}
	const char *p = strstr(cfg->public_url, "://");
	if (p == NULL)
		return false;
	p += 3;
	/* An IPv6 literal keeps its brackets, so "host:port" stays readable. */
	size_t len;
	if (p[0] == '[') {
		const char *close = strchr(p, ']');
		if (close == NULL)
			return false;
		len = (size_t)(close - p) + 1;
	} else {
		len = strcspn(p, ":/?#");
	}
	if (len == 0 || len >= host_size)
		return false;
	memcpy(host, p, len);
	host[len] = '\0';
	if (p[len] == ':') {
		const char *q = p + len + 1;
		uint64_t port;
		if (parse_uint64(&q, 65535, &port) && port > 0)
			*port_r = (unsigned)port;
	}
	return true;
}

int cli_open(pp_cli_t *cli)
{
	if (cli->is_open)
		return CLI_EXIT_OK;
	char error[1024];
	if (runtime_load_config(&cli->rt, cli->config_path, cli->state_dir, error, sizeof(error)) <
	    0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_CONFIG;
	}
	/* Results go to stdout; the event log stays quiet unless asked for. */
	log_set_level(cli->is_verbose || cli->rt.config.log_level > PP_LOG_WARN
			      ? cli->rt.config.log_level
			      : PP_LOG_WARN);
	if (runtime_open(&cli->rt, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	cli->is_open = true;
	return CLI_EXIT_OK;
}

int cli_check_config(pp_cli_t *cli, int argc, char **argv)
{
	bool dump = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dump") == 0) {
			dump = true;
		} else if (strcmp(argv[i], "--help") == 0) {
			fprintf(cli->out, "usage: pullprint [--config PATH] check-config [--dump]\n");
			return CLI_EXIT_OK;
		} else {
			cli_error(cli, "check-config: unknown argument %s", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	char error[1024];
	pp_runtime_t rt;
	if (runtime_load_config(&rt, cli->config_path, cli->state_dir, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_CONFIG;
	}
	if (dump)
		config_dump(&rt.config, cli->out);
	else
		fprintf(cli->out, "%s: OK\n",
			rt.config.path[0] != '\0' ? rt.config.path : "(no file: defaults)");
	return CLI_EXIT_OK;
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	pp_cli_t cli = {.out = out, .err = err};
	int i = 1;
	/* Global options come before the command; --json is also accepted after it. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			cli.config_path = argv[++i];
		} else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
			cli.state_dir = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			cli.as_json = true;
		} else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
			cli.is_verbose = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_usage(out);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			fprintf(out, "pullprint %s\n", PP_VERSION);
			return CLI_EXIT_OK;
		} else {
			cli_error(&cli, "unknown option %s (see pullprint --help)", argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cli_usage(err);
		return CLI_EXIT_USAGE;
	}

	/* Remove a trailing --json so that command functions see only their own arguments. */
	int sub_argc = 0;
	char *sub_argv[64];
	for (int j = i; j < argc; j++) {
		if (strcmp(argv[j], "--json") == 0) {
			cli.as_json = true;
			continue;
		}
		if (sub_argc == (int)(sizeof(sub_argv) / sizeof(sub_argv[0])) - 1) {
			cli_error(&cli, "too many arguments");
			return CLI_EXIT_USAGE;
		}
		sub_argv[sub_argc++] = argv[j];
	}
	sub_argv[sub_argc] = NULL;

	for (size_t c = 0; c < sizeof(cli_commands) / sizeof(cli_commands[0]); c++) {
		if (strcmp(sub_argv[0], cli_commands[c].name) != 0)
			continue;
		int rc = cli_commands[c].fn(&cli, sub_argc, sub_argv);
		if (cli.is_open)
			runtime_close(&cli.rt);
		if (fflush(out) == EOF && rc == CLI_EXIT_OK)
			rc = CLI_EXIT_FAILED;
		return rc;
	}
	cli_error(&cli, "unknown command %s (see pullprint --help)", sub_argv[0]);
	return CLI_EXIT_USAGE;
}
