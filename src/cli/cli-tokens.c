/*
 * cli-tokens.c - `pullprint users printer-uri` and `pullprint forwarders`: the labelled
 * tokens that let a device print with no prompt.
 *
 * A printer URI (ipps://HOST:PORT/ipp/print/u/ppp_…) is a user's personal printer address: a
 * phone or laptop that adds it prints into that user's queue without credentials. A forwarder
 * token (ppf_…) lets a trusted print server (the CUPS backend on a CUPS or Samba server) submit
 * jobs for the users it names. Both are printed once when issued; afterwards only their handle
 * (a public name for revoking) and label are shown.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/tokens.h"
#include "http/tls-cert.h"
#include "ipp/ipp.h"
#include "lib/str.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#define CLI_TOKENS_HOST_MAX 256
#define CLI_TOKENS_URI_MAX (CLI_TOKENS_HOST_MAX + 32 + TOKENS_TEXT_MAX)

static int printer_uri_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint users printer-uri add EMAIL [--label LABEL]\n"
		"       pullprint users printer-uri list EMAIL\n"
		"       pullprint users printer-uri revoke EMAIL HANDLE\n\n"
		"A personal printer address prints into EMAIL's queue with no password prompt.\n"
		"`add` shows it once; LABEL names the device (\"Anna's iPhone\"). `list` shows\n"
		"handles, `revoke` takes one.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static int forwarders_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint forwarders add NAME\n"
		"       pullprint forwarders [list]\n"
		"       pullprint forwarders revoke HANDLE\n\n"
		"A forwarder is a print server (the `pullprint` CUPS backend on a CUPS or Samba\n"
		"server) that submits jobs for the users it names. `add` prints its token once with\n"
		"the backend.conf lines to paste; `list` shows handles, `revoke` takes one.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* "host:port" of the server as clients reach it into out[size]. Returns an exit code. */
static int tokens_server_address(pp_cli_t *cli, char *out, size_t size)
{
	char host[CLI_TOKENS_HOST_MAX];
	unsigned port;
	if (!cli_public_address(cli, host, sizeof(host), &port)) {
		cli_error(cli, "[server] public_url \"%s\" is not https://HOST[:PORT]/: fix it in %s",
			  cli->rt.config.public_url,
			  cli->rt.config.path[0] != '\0' ? cli->rt.config.path
							 : "the configuration file");
		return CLI_EXIT_CONFIG;
	}
	if (!str_format(out, size, "%s:%u", host, port)) {
		cli_error(cli, "the server's host name is too long for an address");
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

/* A handle as `list` prints it: exactly TOKENS_HANDLE_LEN hex digits. */
static bool tokens_handle_ok(pp_cli_t *cli, const char *handle)
{
	bool ok = strlen(handle) == TOKENS_HANDLE_LEN;
	for (size_t i = 0; ok && i < TOKENS_HANDLE_LEN; i++)
		ok = str_hex_digit(handle[i]) >= 0;
	if (!ok)
		cli_error(cli, "a handle is the %d hex digits that `list` shows, not \"%s\"",
			  TOKENS_HANDLE_LEN, handle);
	return ok;
}

/* Prints labelled tokens as a table: handle, label (or name), created, last used. */
static int tokens_print_list(pp_cli_t *cli, const pp_token_entry_t *entries, size_t count,
			     const char *label_column)
{
	const char *columns[] = {"handle", label_column, "created", "last_used"};
	pp_table_t *table = table_new(columns, 4);
	int rc = table != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		char created[32], used[32];
		cli_format_time(entries[i].created_at, created);
		cli_format_time(entries[i].last_used_at, used);
		if (used[0] == '\0' && !cli->as_json)
			(void)str_copy(used, sizeof(used), "never");
		const char *cells[] = {entries[i].handle, entries[i].label, created, used};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	return cli_table_finish(cli, &table, rc);
}

/* Lists kind's tokens of user_id (0 = all). Returns an exit code. */
static int tokens_cmd_list(pp_cli_t *cli, pp_token_kind_t kind, int64_t user_id,
			   const char *label_column)
{
	char error[512];
	pp_token_entry_t *entries = NULL;
	size_t count = 0;
	if (tokens_list(&cli->rt.core, kind, user_id, &entries, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	int rc = tokens_print_list(cli, entries, count, label_column);
	tokens_list_free(&entries);
	return rc;
}

/*
 * Revokes kind's token with handle (of user_id; 0 = any). what names it in messages
 * ("printer URI"), list_hint the command that lists them. Returns an exit code.
 */
static int tokens_cmd_revoke(pp_cli_t *cli, pp_token_kind_t kind, int64_t user_id,
			     const char *handle, const char *what, const char *list_hint)
{
	char error[512];
	bool revoked = false;
	if (tokens_revoke_handle(&cli->rt.core, kind, user_id, handle, cli_actor(), &revoked,
				 error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (!revoked) {
		cli_error(cli, "no %s with handle %s (see `%s`)", what, handle, list_hint);
		return CLI_EXIT_NOT_FOUND;
	}
	char message[128];
	(void)str_format(message, sizeof(message), "%s %s revoked: it no longer works", what,
			 handle);
	cli_done(cli, message);
	return CLI_EXIT_OK;
}

/* The label a printer URI gets without --label: the day it was made. */
static void printer_uri_default_label(pp_cli_t *cli, char out[TOKENS_LABEL_MAX])
{
	char day[32];
	cli_format_time(core_now(&cli->rt.core), day);
	day[10] = '\0'; /* "YYYY-MM-DD" */
	if (!str_format(out, TOKENS_LABEL_MAX, "added %s", day))
		(void)str_copy(out, TOKENS_LABEL_MAX, "printer address");
}

static int printer_uri_add(pp_cli_t *cli, int argc, char **argv)
{
	const char *label = NULL;
	static const struct option options[] = {{"label", required_argument, NULL, 'l'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'l')
			label = optarg;
		else
			return printer_uri_usage(cli, cli->err);
	}
	if (optind + 1 != argc)
		return printer_uri_usage(cli, cli->err);
	pp_user_t user;
	int rc = cli_user_find(cli, argv[optind], &user);
	if (rc != CLI_EXIT_OK)
		return rc;
	char address[CLI_TOKENS_HOST_MAX + 8];
	rc = tokens_server_address(cli, address, sizeof(address));
	if (rc != CLI_EXIT_OK)
		return rc;
	char default_label[TOKENS_LABEL_MAX];
	if (label == NULL) {
		printer_uri_default_label(cli, default_label);
		label = default_label;
	}

	char token[TOKENS_TEXT_MAX], handle[TOKENS_HANDLE_LEN + 1], error[512];
	if (tokens_issue_labelled(&cli->rt.core, PP_TOKEN_PRINTER, user.id, label, cli_actor(),
				  token, handle, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return strstr(error, "the label must") != NULL ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
	}
	char uri[CLI_TOKENS_URI_MAX];
	bool ok = str_format(uri, sizeof(uri), "ipps://%s%s%s", address, IPP_SERVICE_USER_PATH,
			     token);
	crypto_wipe(token, sizeof(token));
	if (!ok) {
		/* Cannot happen with the sizes above; the token is stored, so revoke it. */
		cli_error(cli, "the printer address does not fit; revoke handle %s", handle);
		return CLI_EXIT_FAILED;
	}
	if (cli->as_json) {
		ok = cli_print_json(cli, json_pack("{s:s, s:s, s:s, s:s}", "email", user.email,
						      "label", label, "handle", handle, "uri",
						      uri));
	} else {
		ok = fprintf(cli->out,
			     "Printer address for %s (\"%s\", handle %s):\n\n"
			     "  %s\n\n"
			     "Add it as an IPP printer (\"IPP Everywhere\" / AirPrint, by address or URL)\n"
			     "on the phone or computer: what it prints lands in %s's queue with no\n"
			     "password prompt. It is shown only now; anyone who has it can print as this\n"
			     "user, so keep it private. Revoke it with:\n"
			     "  pullprint users printer-uri revoke %s %s\n",
			     user.email, label, handle, uri, user.email, user.email, handle) > 0;
	}
	crypto_wipe(uri, sizeof(uri));
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int cli_users_printer_uri(pp_cli_t *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0)
		return printer_uri_usage(cli, argc < 2 ? cli->err : cli->out);
	const char *verb = argv[1];
	if (strcmp(verb, "add") == 0)
		return printer_uri_add(cli, argc - 1, argv + 1);
	bool is_list = strcmp(verb, "list") == 0 && argc == 3;
	bool is_revoke = strcmp(verb, "revoke") == 0 && argc == 4;
	if (!is_list && !is_revoke)
		return printer_uri_usage(cli, cli->err);
	if (is_revoke && !tokens_handle_ok(cli, argv[3]))
		return CLI_EXIT_USAGE;
	pp_user_t user;
	int rc = cli_user_find(cli, argv[2], &user);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (is_list)
		return tokens_cmd_list(cli, PP_TOKEN_PRINTER, user.id, "label");
	char hint[USERS_EMAIL_MAX + 48];
	if (!str_format(hint, sizeof(hint), "pullprint users printer-uri list %s", user.email))
		(void)str_copy(hint, sizeof(hint), "pullprint users printer-uri list EMAIL");
	return tokens_cmd_revoke(cli, PP_TOKEN_PRINTER, user.id, argv[3],
				 "printer URI", hint);
}

/*
 * The SHA-256 fingerprint of the server's own self-signed certificate into
 * out[TLS_CERT_FINGERPRINT_LEN + 1], for the backend to pin. False (out "") when the server
 * uses an admin's certificate (the backend checks it against the system's CAs) or has not
 * made its certificate yet.
 */
static bool forwarders_fingerprint(pp_cli_t *cli, char out[TLS_CERT_FINGERPRINT_LEN + 1])
{
	out[0] = '\0';
	const pp_config_t *cfg = &cli->rt.config;
	if (cfg->tls_certificate[0] != '\0')
		return false;
	char cert[PATH_MAX], key[PATH_MAX], error[512];
	if (!str_format(cert, sizeof(cert), "%s/tls/cert.pem", cfg->state_dir) ||
	    !str_format(key, sizeof(key), "%s/tls/key.pem", cfg->state_dir))
		return false;
	pp_tls_cert_info_t info;
	if (tls_cert_check_pair(cert, key, &info, error, sizeof(error)) < 0 ||
	    !info.is_self_signed_ours)
		return false;
	return str_copy(out, TLS_CERT_FINGERPRINT_LEN + 1, info.fingerprint_sha256);
}

static int forwarders_add(pp_cli_t *cli, const char *name)
{
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char address[CLI_TOKENS_HOST_MAX + 8];
	rc = tokens_server_address(cli, address, sizeof(address));
	if (rc != CLI_EXIT_OK)
		return rc;
	char fingerprint[TLS_CERT_FINGERPRINT_LEN + 1];
	bool has_fingerprint = forwarders_fingerprint(cli, fingerprint);

	char token[TOKENS_TEXT_MAX], handle[TOKENS_HANDLE_LEN + 1], error[512];
	if (tokens_issue_labelled(&cli->rt.core, PP_TOKEN_FORWARDER, 0, name, cli_actor(), token,
				  handle, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return strstr(error, "the label must") != NULL ? CLI_EXIT_USAGE : CLI_EXIT_FAILED;
	}
	char server[CLI_TOKENS_HOST_MAX + 16];
	(void)str_format(server, sizeof(server), "ipps://%s", address);
	bool ok;
	if (cli->as_json) {
		json_t *obj = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "handle", handle,
					"server", server, "token", token);
		if (obj != NULL && has_fingerprint &&
		    json_object_set_new(obj, "fingerprint", json_string(fingerprint)) < 0) {
			json_decref(obj);
			obj = NULL;
		}
		ok = cli_print_json(cli, obj);
	} else {
		ok = fprintf(cli->out,
			     "Forwarder \"%s\" (handle %s). Its token is shown only now.\n\n"
			     "Put these lines into /etc/pullprint/backend.conf on that print server\n"
			     "(owner root, mode 0600):\n\n"
			     "[backend]\n"
			     "server = %s\n"
			     "token = %s\n"
			     "%s%s%s\n"
			     "%s"
			     "Revoke it with: pullprint forwarders revoke %s\n",
			     name, handle, server, token,
			     has_fingerprint ? "fingerprint = " : "",
			     has_fingerprint ? fingerprint : "",
			     has_fingerprint ? "\n" : "",
			     has_fingerprint || cli->rt.config.tls_certificate[0] != '\0'
				     ? ""
				     : "The server has no certificate yet: start pullprintd once, then add\n"
				       "fingerprint = <the SHA-256 its start-up banner shows> to pin it.\n\n",
			     handle) > 0;
	}
	crypto_wipe(token, sizeof(token));
	return ok ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

int cli_forwarders(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return forwarders_usage(cli, cli->out);
	const char *verb = argc >= 2 ? argv[1] : "list";
	bool is_list = strcmp(verb, "list") == 0 && argc <= 2;
	bool is_add = strcmp(verb, "add") == 0 && argc == 3;
	bool is_revoke = strcmp(verb, "revoke") == 0 && argc == 3;
	if (!is_list && !is_add && !is_revoke)
		return forwarders_usage(cli, cli->err);
	if (is_add)
		return forwarders_add(cli, argv[2]);
	if (is_revoke && !tokens_handle_ok(cli, argv[2]))
		return CLI_EXIT_USAGE;
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (is_list)
		return tokens_cmd_list(cli, PP_TOKEN_FORWARDER, 0, "name");
	return tokens_cmd_revoke(cli, PP_TOKEN_FORWARDER, 0, argv[2], "forwarder",
				 "pullprint forwarders list");
}
