/*
 * cli-mail.c - `pullprint mail`: the inbound mailboxes (add, list, remove, test), their
 * status as the poller left it, the outbound SMTP account the replies use (stored by
 * src/mail/mail-smtp-config.c), and a check that no inbound mailbox is the outbound account.
 *
 * The password or OAuth2 access token is read from standard input, never from the command
 * line, where `ps` and shell history would show it. `mail accounts test` prints what the
 * server answered (greeting, capabilities, login result, listing), never what we sent.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/printers.h"
#include "lib/crypto.h"
#include "lib/str.h"
#include "mail/mail-out.h"
#include "mail/mail.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int mail_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
	        "usage: pullprint mail accounts [list]\n"
	        "       pullprint mail accounts add NAME --url URL --user LOGIN [--address ADDR]\n"
	        "             [--oauth2] [--ca-file PEM] [--insecure] [--interval SECONDS]\n"
	        "             [--printer NAME]   (password or access token on standard input)\n"
	        "           URL: imaps://host[:port][/MAILBOX], imap://host (STARTTLS required),\n"
	        "                pop3s://host[:port]\n"
	        "           --printer: everything mailed to this mailbox prints there at once\n"
	        "       pullprint mail accounts remove NAME\n"
	        "       pullprint mail accounts test NAME   log in and list; shows the server's answers\n"
	        "       pullprint mail smtp [show|set|test]  the account replies are sent with\n"
	        "                                           (pullprint mail smtp --help)\n"
	        "       pullprint mail outbox [--limit N]   replies waiting, sent or given up\n"
	        "       pullprint mail status               last poll, last error per mailbox\n"
	        "       pullprint mail check                inbound and outbound accounts differ\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Reads the secret from standard input (echo off on a terminal) into a new string. */
static char *mail_read_secret(pp_cli_t *cli)
{
	bool is_tty = isatty(STDIN_FILENO) != 0;
	struct termios saved, quiet;
	if (is_tty) {
		if (tcgetattr(STDIN_FILENO, &saved) < 0)
			return NULL;
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		fputs("password or access token: ", cli->err);
		(void)fflush(cli->err);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
			return NULL;
	}
	char *buf = calloc(1, MAIL_SECRET_MAX + 2);
	bool is_ok = buf != NULL && fgets(buf, MAIL_SECRET_MAX + 2, stdin) != NULL;
	if (is_tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', cli->err);
	}
	if (!is_ok) {
		free(buf);
		return NULL;
	}
	size_t len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return buf;
}

static int mail_cmd_add(pp_cli_t *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"url", required_argument, NULL, 'u'},      {"user", required_argument, NULL, 'l'},
	    {"address", required_argument, NULL, 'a'},  {"oauth2", no_argument, NULL, 'o'},
	    {"ca-file", required_argument, NULL, 'c'},  {"insecure", no_argument, NULL, 'k'},
	    {"interval", required_argument, NULL, 'i'}, {"printer", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	if (argc < 2 || argv[1][0] == '-')
		return mail_usage(cli, cli->err);
	pp_mail_account_new_t account = {.name = argv[1], .login = PP_MAIL_LOGIN_PASSWORD};
	const char *printer_name = NULL;
	optind = 2;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		uint64_t value = 0;
		switch (opt) {
		case 'u':
			account.url = optarg;
			break;
		case 'l':
			account.username = optarg;
			break;
		case 'a':
			account.address = optarg;
			break;
		case 'o':
			account.login = PP_MAIL_LOGIN_XOAUTH2;
			break;
		case 'c':
			account.ca_file = optarg;
			break;
		case 'k':
			account.is_insecure_tls = true;
			break;
		case 'i':
			if (!parse_uint64_full(optarg, 86400, &value) || value == 0) {
				cli_error(cli, "--interval takes 1..86400 seconds");
				return CLI_EXIT_USAGE;
			}
			account.poll_interval_s = (int64_t)value;
			break;
		case 'p':
			printer_name = optarg;
			break;
		default:
			return mail_usage(cli, cli->err);
		}
	}
	if (optind != argc || account.url == NULL || account.username == NULL)
		return mail_usage(cli, cli->err);
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[1024];
	if (printer_name != NULL) {
		pp_printer_t printer;
		int found = printers_find(&cli->rt.core, printer_name, &printer, error, sizeof(error));
		if (found != 0) {
			cli_error(cli, "%s", found == PRINTERS_NOT_FOUND ? "no such printer" : error);
			return found == PRINTERS_NOT_FOUND ? CLI_EXIT_NOT_FOUND : CLI_EXIT_FAILED;
		}
		account.default_printer_id = printer.id;
	}
	char *secret = mail_read_secret(cli);
	if (secret == NULL || secret[0] == '\0') {
		free(secret);
		cli_error(cli, "give the password or access token on standard input");
		return CLI_EXIT_USAGE;
	}
	account.secret = secret;
	int added = mail_account_add(&cli->rt.core, cli_actor(), &account, NULL, error,
	                             sizeof(error));
	crypto_wipe(secret, strlen(secret));
	free(secret);
	if (added != 0) {
		cli_error(cli, "%s", error);
		return added == DB_DUPLICATE ? CLI_EXIT_CONFLICT : CLI_EXIT_FAILED;
	}
	cli_done(cli, "mail account added; the server polls it within its interval "
	              "(`pullprint mail accounts test NAME` tries it now)");
	return CLI_EXIT_OK;
}

static int mail_cmd_list(pp_cli_t *cli, bool is_status)
{
	pp_mail_account_t *accounts = NULL;
	size_t count = 0;
	char error[1024];
	if (mail_account_list(&cli->rt.core, &accounts, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	static const char *const list_columns[] = {"name", "url", "user", "login", "address",
	                                           "verify_tls", "interval_s", "printer_id"};
	static const char *const status_columns[] = {"name", "last_poll", "last_ok", "ingested",
	                                             "last_error"};
	pp_table_t *table = is_status ? table_new(status_columns, 5) : table_new(list_columns, 8);
	int rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		const pp_mail_account_t *a = &accounts[i];
		char interval[24], printer[24], polled[32], ok[32], ingested[24];
		(void)str_format(interval, sizeof(interval), "%lld", (long long)a->poll_interval_s);
		(void)str_format(printer, sizeof(printer), "%lld", (long long)a->default_printer_id);
		(void)str_format(ingested, sizeof(ingested), "%lld", (long long)a->messages_ingested);
		cli_format_time(a->last_poll_at, polled);
		cli_format_time(a->last_ok_at, ok);
		const char *list_cells[] = {a->name,    a->url,
		                            a->username, mail_login_name(a->login),
		                            a->address, a->is_verify_tls ? "yes" : "NO",
		                            interval,   a->default_printer_id != 0 ? printer : ""};
		const char *status_cells[] = {a->name, polled[0] != '\0' ? polled : "never", ok,
		                              ingested, a->last_error};
		if (table_add_row(table, is_status ? status_cells : list_cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	mail_account_list_free(&accounts);
	return cli_table_finish(cli, &table, rc);
}

static int mail_cmd_test(pp_cli_t *cli, const char *name)
{
	char error[1024];
	char *transcript = NULL;
	int rc = mail_account_test(&cli->rt.core, name, &transcript, error, sizeof(error));
	if (cli->as_json) {
		(void)cli_print_json(cli, json_pack("{s:b, s:s, s:s}", "ok", rc == 0, "server",
		                                    transcript != NULL ? transcript : "", "error",
		                                    rc == 0 ? "" : error));
	} else {
		if (transcript != NULL && transcript[0] != '\0')
			fprintf(cli->out, "%s", transcript);
		if (rc == 0)
			fprintf(cli->out, "mail account %s: OK (logged in, mailbox listed)\n", name);
		else
			cli_error(cli, "%s", error);
	}
	free(transcript);
	if (rc == 0)
		return CLI_EXIT_OK;
	return strstr(error, "no mail account") == error ? CLI_EXIT_NOT_FOUND : CLI_EXIT_FAILED;
}

static int mail_cmd_check(pp_cli_t *cli)
{
	pp_mail_account_t *accounts = NULL;
	size_t count = 0;
	char error[1024];
	if (mail_account_list(&cli->rt.core, &accounts, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < count; i++) {
		if (mail_account_check_outbound(&cli->rt.core, accounts[i].address,
		                                accounts[i].username, accounts[i].url, error,
		                                sizeof(error)) < 0) {
			cli_error(cli, "mail account %s: %s", accounts[i].name, error);
			rc = CLI_EXIT_CONFIG;
		}
		if (!accounts[i].is_verify_tls)
			fprintf(cli->err, "pullprint: warning: mail account %s does not verify the "
			                  "server certificate\n",
			        accounts[i].name);
	}
	mail_account_list_free(&accounts);
	if (rc == CLI_EXIT_OK)
		cli_done(cli, count == 0 ? "no inbound mailbox; `pullprint mail accounts add` adds one"
		                         : "mail: inbound and outbound accounts differ");
	return rc;
}

int cli_mail(pp_cli_t *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0)
		return mail_usage(cli, argc < 2 ? cli->err : cli->out);
	const char *family = argv[1];
	if (strcmp(family, "status") == 0 || strcmp(family, "check") == 0) {
		if (argc != 2)
			return mail_usage(cli, cli->err);
		int rc = cli_open(cli);
		if (rc != CLI_EXIT_OK)
			return rc;
		return strcmp(family, "status") == 0 ? mail_cmd_list(cli, true) : mail_cmd_check(cli);
	}
	/* The outbound side (replies) has its own commands: cli-mail-out.c. */
	if (strcmp(family, "smtp") == 0 || strcmp(family, "outbox") == 0)
		return cli_mail_out(cli, argc - 1, argv + 1);
	if (strcmp(family, "accounts") != 0)
		return mail_usage(cli, cli->err);
	const char *verb = argc >= 3 ? argv[2] : "list";
	if (strcmp(verb, "add") == 0)
		return mail_cmd_add(cli, argc - 2, argv + 2);
	bool needs_name = strcmp(verb, "remove") == 0 || strcmp(verb, "test") == 0;
	bool is_known = needs_name || strcmp(verb, "list") == 0;
	if (!is_known || (needs_name && argc != 4) || (!needs_name && argc > 3))
		return mail_usage(cli, cli->err);
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (strcmp(verb, "list") == 0)
		return mail_cmd_list(cli, false);
	if (strcmp(verb, "test") == 0)
		return mail_cmd_test(cli, argv[3]);
	char error[1024];
	if (mail_account_remove(&cli->rt.core, cli_actor(), argv[3], error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return strstr(error, "no mail account") == error ? CLI_EXIT_NOT_FOUND : CLI_EXIT_FAILED;
	}
	cli_done(cli, "mail account removed");
	return CLI_EXIT_OK;
}
