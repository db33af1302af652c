/*
 * cli-mail-out.c - `pullprint mail smtp set|show|test` (the server that sends replies) and
 * `pullprint mail outbox` (the replies queued, sent and given up).
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/settings.h"
#include "lib/crypto.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "mail/mail-out-private.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int smtp_usage(pp_cli_t *cli, FILE *out)
{
	(void)cli;
	fprintf(
	    out,
	    "usage: pullprint mail smtp show\n"
	    "       pullprint mail smtp set --host HOST --from ADDRESS [--name NAME]\n"
	    "             [--port N] [--security starttls|tls|plain] [--auth "
	    "password|xoauth2|none]\n"
	    "             [--user USER] [--password-stdin | --password-file FILE]\n"
	    "             [--ca-file FILE] [--no-verify]\n"
	    "           (with --user and no --password-file: the secret is read from standard "
	    "input)\n"
	    "       pullprint mail smtp test --to ADDRESS   send a test mail now, show the "
	    "dialogue\n"
	    "       pullprint mail outbox [--limit N]       replies queued, sent, given up\n"
	    "\n"
	    "security starttls (port 587, STARTTLS required) is the default; tls is implicit\n"
	    "TLS (port 465); plain only to a relay on this host. With --auth xoauth2 the\n"
	    "secret is an OAuth2 access token. set keeps the stored secret unless one is given.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Reads one line (the secret) from standard input or a file into buf[size]. */
static bool smtp_read_secret(pp_cli_t *cli, const char *path, char *buf, size_t size)
{
	if (path != NULL) {
		char *data = NULL;
		size_t len = 0;
		char error[512];
		if (fs_read_file(path, size - 1, &data, &len, error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return false;
		}
		bool is_ok = str_copy(buf, size, data);
		crypto_wipe(data, len);
		free(data);
		buf[strcspn(buf, "\r\n")] = '\0';
		return is_ok;
	}
	if (fgets(buf, (int)size, stdin) == NULL) {
		cli_error(cli, "mail smtp set: no password on standard input");
		return false;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

static int smtp_show(pp_cli_t *cli)
{
	pp_smtp_config_t cfg;
	char error[512];
	if (mail_smtp_config_get(&cli->rt.core, &cfg, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (!cfg.is_configured) {
		cli_error(cli, "no SMTP server is set up: run pullprint mail smtp set");
		return CLI_EXIT_NOT_FOUND;
	}
	char port[16], updated[32];
	(void)str_format(port, sizeof(port), "%u", mail_smtp_port(&cfg));
	cli_format_time(cfg.updated_at, updated);
	if (cli->as_json)
		return cli_print_json(
		           cli,
		           json_pack("{s:s, s:i, s:s, s:b, s:s, s:s, s:s, s:b, s:s, s:s, s:s}",
		                     "host", cfg.host, "port", (int)mail_smtp_port(&cfg),
		                     "security", mail_smtp_security_name(cfg.security), "verify",
		                     cfg.is_verify_tls, "ca_file", cfg.ca_file, "auth",
		                     mail_smtp_auth_name(cfg.auth), "user", cfg.username,
		                     "has_secret", cfg.has_secret, "from", cfg.from_address, "name",
		                     cfg.from_name, "updated_at", updated))
		           ? CLI_EXIT_OK
		           : CLI_EXIT_FAILED;
	fprintf(cli->out,
	        "host:     %s\nport:     %s\nsecurity: %s%s\nca-file:  %s\nauth:     %s\n"
	        "user:     %s\nsecret:   %s\nfrom:     %s%s%s%s\nupdated:  %s\n",
	        cfg.host, port, mail_smtp_security_name(cfg.security),
	        cfg.is_verify_tls ? "" : " (certificate NOT verified)",
	        cfg.ca_file[0] != '\0' ? cfg.ca_file : "(system store)",
	        mail_smtp_auth_name(cfg.auth), cfg.username,
	        cfg.has_secret ? "stored (encrypted)" : "none",
	        cfg.from_name[0] != '\0' ? cfg.from_name : "", cfg.from_name[0] != '\0' ? " <" : "",
	        cfg.from_address, cfg.from_name[0] != '\0' ? ">" : "", updated);
	return CLI_EXIT_OK;
}

static int smtp_set(pp_cli_t *cli, int argc, char **argv)
{
	pp_smtp_config_t cfg;
	char error[512];
	if (mail_smtp_config_get(&cli->rt.core, &cfg, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	/* Fields not given keep their stored (or default) values. */
	bool is_password_stdin = false;
	const char *password_file = NULL;
	static const struct option options[] = {{"host", required_argument, NULL, 'h'},
	                                        {"port", required_argument, NULL, 'p'},
	                                        {"security", required_argument, NULL, 's'},
	                                        {"auth", required_argument, NULL, 'a'},
	                                        {"user", required_argument, NULL, 'u'},
	                                        {"password-stdin", no_argument, NULL, 'w'},
	                                        {"password-file", required_argument, NULL, 'W'},
	                                        {"from", required_argument, NULL, 'f'},
	                                        {"name", required_argument, NULL, 'n'},
	                                        {"ca-file", required_argument, NULL, 'c'},
	                                        {"no-verify", no_argument, NULL, 'V'},
	                                        {"verify", no_argument, NULL, 'v'},
	                                        /* the spellings of cli-mail.c's first version */
	                                        {"oauth2", no_argument, NULL, 'o'},
	                                        {"insecure", no_argument, NULL, 'V'},
	                                        {"from-name", required_argument, NULL, 'n'},
	                                        {NULL, 0, NULL, 0}};
	bool is_user_given = false, is_auth_given = false;
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		bool ok = true;
		uint64_t n = 0;
		switch (opt) {
		case 'h':
			ok = str_copy(cfg.host, sizeof(cfg.host), optarg);
			break;
		case 'p':
			ok = parse_uint64_full(optarg, 65535, &n);
			cfg.port = (unsigned)n;
			break;
		case 's':
			ok = mail_smtp_security_parse(optarg, &cfg.security);
			break;
		case 'a':
			ok = mail_smtp_auth_parse(optarg, &cfg.auth);
			is_auth_given = true;
			break;
		case 'o':
			cfg.auth = PP_SMTP_AUTH_XOAUTH2;
			is_auth_given = true;
			break;
		case 'u':
			ok = str_copy(cfg.username, sizeof(cfg.username), optarg);
			is_user_given = true;
			break;
		case 'w':
			is_password_stdin = true;
			break;
		case 'W':
			password_file = optarg;
			break;
		case 'f':
			ok = str_copy(cfg.from_address, sizeof(cfg.from_address), optarg);
			break;
		case 'n':
			ok = str_copy(cfg.from_name, sizeof(cfg.from_name), optarg);
			break;
		case 'c':
			ok = str_copy(cfg.ca_file, sizeof(cfg.ca_file), optarg);
			break;
		case 'V':
			cfg.is_verify_tls = false;
			break;
		case 'v':
			cfg.is_verify_tls = true;
			break;
		default:
			return smtp_usage(cli, cli->err);
		}
		if (!ok) {
			const char *name = "?";
			for (size_t i = 0; options[i].name != NULL; i++)
				name = options[i].val == opt ? options[i].name : name;
			cli_error(cli, "mail smtp set: bad value for --%s (see --help)", name);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return smtp_usage(cli, cli->err);
	/* --user alone means a password login; no --user and no --auth on a first set: none. */
	if (is_user_given && !is_auth_given)
		cfg.auth = PP_SMTP_AUTH_PASSWORD;
	if (!is_user_given && !is_auth_given && !cfg.is_configured)
		cfg.auth = PP_SMTP_AUTH_NONE;
	/* A new user name needs its secret: read it from standard input unless a file is given. */
	if (is_user_given && cfg.auth != PP_SMTP_AUTH_NONE && password_file == NULL)
		is_password_stdin = true;
	char *secret = NULL;
	if (is_password_stdin || password_file != NULL) {
		secret = calloc(1, MAIL_SMTP_SECRET_MAX);
		if (secret == NULL ||
		    !smtp_read_secret(cli, password_file, secret, MAIL_SMTP_SECRET_MAX)) {
			free(secret);
			return CLI_EXIT_FAILED;
		}
	}
	int rc =
	    mail_smtp_config_set(&cli->rt.core, cli_actor(), &cfg, secret, error, sizeof(error));
	if (secret != NULL) {
		crypto_wipe(secret, MAIL_SMTP_SECRET_MAX);
		free(secret);
	}
	if (rc < 0) {
		cli_error(cli, "mail smtp set: %s", error);
		return CLI_EXIT_USAGE;
	}
	if (!cfg.is_verify_tls)
		fprintf(cli->err,
		        "pullprint: warning: the SMTP server's certificate is not verified\n");
	cli_done(cli,
	         "SMTP settings stored; check them with: pullprint mail smtp test --to ADDRESS");
	return CLI_EXIT_OK;
}

static int smtp_test(pp_cli_t *cli, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--to") != 0)
		return smtp_usage(cli, cli->err);
	char to[USERS_EMAIL_MAX], error[1024];
	if (users_canonical_email(argv[2], to, error, sizeof(error)) < 0) {
		cli_error(cli, "mail smtp test: %s", error);
		return CLI_EXIT_USAGE;
	}
	pp_smtp_config_t cfg;
	if (mail_smtp_config_get(&cli->rt.core, &cfg, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (!cfg.is_configured) {
		cli_error(cli, "no SMTP server is set up: run pullprint mail smtp set");
		return CLI_EXIT_NOT_FOUND;
	}
	json_t *ctx = json_pack("{s:s, s:s}", "from_address", cfg.from_address, "host", cfg.host);
	pp_mail_rendered_t body = {0};
	char dir[SETTINGS_VALUE_MAX];
	(void)mail_outbox_template_dir(&cli->rt.core, dir, sizeof(dir));
	int rc = ctx != NULL
	             ? mail_template_build(dir, "en", "smtp-test", ctx, &body, error, sizeof(error))
	             : -1;
	json_decref(ctx);
	char *message = NULL;
	size_t len = 0;
	pp_mail_headers_t headers = {.from_address = cfg.from_address,
	                             .from_name = cfg.from_name,
	                             .to = to,
	                             .date = core_now(&cli->rt.core)};
	if (rc == 0)
		rc = mail_mime_build(&headers, &body, &message, &len, error, sizeof(error));
	mail_rendered_free(&body);
	char *secret = calloc(1, MAIL_SMTP_SECRET_MAX);
	char *transcript = NULL;
	if (rc == 0 && secret == NULL)
		rc = -1;
	if (rc == 0)
		rc = mail_smtp_secret_get(&cli->rt.core, secret, error, sizeof(error));
	if (rc == 0)
		rc = mail_smtp_send(&cfg, secret, to, message, len, NULL, &transcript, error,
		                    sizeof(error));
	if (secret != NULL) {
		crypto_wipe(secret, MAIL_SMTP_SECRET_MAX);
		free(secret);
	}
	free(message);
	if (transcript != NULL && !cli->as_json)
		fprintf(cli->out, "%s", transcript);
	free(transcript);
	if (rc < 0) {
		cli_error(cli, "mail smtp test: %s", error[0] != '\0' ? error : "failed");
		return CLI_EXIT_FAILED;
	}
	cli_done(cli, "test mail sent");
	return CLI_EXIT_OK;
}

static int outbox_list(pp_cli_t *cli, int argc, char **argv)
{
	uint64_t limit = 50;
	if (argc == 3 && strcmp(argv[1], "--limit") == 0) {
		if (!parse_uint64_full(argv[2], 10000, &limit) || limit == 0)
			return smtp_usage(cli, cli->err);
	} else if (argc != 1) {
		return smtp_usage(cli, cli->err);
	}
	pp_mail_outbox_row_t *rows = NULL;
	size_t n = 0;
	char error[512];
	if (mail_outbox_list(&cli->rt.core, (size_t)limit, &rows, &n, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	static const char *const columns[] = {"id",       "to",      "template", "state",
	                                      "attempts", "created", "sent",     "last_error"};
	pp_table_t *table = table_new(columns, 8);
	int rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; i < n && rc == CLI_EXIT_OK; i++) {
		char id[24], attempts[24], created[32], sent[32];
		(void)str_format(id, sizeof(id), "%lld", (long long)rows[i].id);
		(void)str_format(attempts, sizeof(attempts), "%lld", (long long)rows[i].attempts);
		cli_format_time(rows[i].created_at, created);
		cli_format_time(rows[i].sent_at, sent);
		const char *cells[] = {id,
		                       rows[i].recipient,
		                       rows[i].template_name,
		                       rows[i].state,
		                       attempts,
		                       created,
		                       sent,
		                       rows[i].last_error};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	free(rows);
	return cli_table_finish(cli, &table, rc);
}

int cli_mail_out(pp_cli_t *cli, int argc, char **argv)
{
	/* argv[0] is "smtp" or "outbox". */
	if (argc < 1)
		return smtp_usage(cli, cli->err);
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return smtp_usage(cli, cli->out);
	bool is_outbox = strcmp(argv[0], "outbox") == 0;
	if (!is_outbox && strcmp(argv[0], "smtp") != 0)
		return smtp_usage(cli, cli->err);
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (is_outbox)
		return outbox_list(cli, argc, argv);
	const char *verb = argc >= 2 ? argv[1] : "show";
	if (strcmp(verb, "show") == 0 && argc <= 2)
		return smtp_show(cli);
	if (strcmp(verb, "set") == 0)
		return smtp_set(cli, argc - 1, argv + 1);
	if (strcmp(verb, "test") == 0)
		return smtp_test(cli, argc - 1, argv + 1);
	return smtp_usage(cli, cli->err);
}
