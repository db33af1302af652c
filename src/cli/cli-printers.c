/*
 * cli-printers.c - `pullprint printers`: the printer registry (name, alias users type,
 * location, device URI, enabled, output format, failover group, capabilities), its bulk
 * export and import, and the panel token a printer's panel app signs in with.
 * `discover`, `probe` and `status` live in cli-printers-discover.c.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/printers.h"
#include "lib/str.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CLI_PRINTERS_IMPORT_MAX (16u * 1024 * 1024) /* largest import file read */

static int printers_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint printers [list]\n"
		"       pullprint printers add NAME --uri URI [--alias ALIAS] [--location TEXT]\n"
		"                 [--description TEXT] [--format FORMAT] [--group GROUP]\n"
		"                 [--caps JSON] [--disabled]\n"
		"       pullprint printers edit NAME-OR-ALIAS [--name NEW] [--uri URI] [--alias ALIAS]\n"
		"                 [--location TEXT] [--description TEXT] [--format FORMAT]\n"
		"                 [--group GROUP] [--caps JSON] [--enabled|--disabled]\n"
		"       pullprint printers show|enable|disable|remove NAME-OR-ALIAS\n"
		"       pullprint printers caps NAME-OR-ALIAS [--set JSON]\n"
		"       pullprint printers export [--format csv|json]\n"
		"       pullprint printers import FILE|- [--format csv|json] [--dry-run]\n"
		"       pullprint printers panel-token NAME-OR-ALIAS [--revoke]\n"
		"       pullprint printers discover|probe|status|trust …\n"
		"  URI: ipp://host[:port]/path, ipps://…, socket://host[:port], lpd://host/queue\n"
		"  FORMAT: auto (PDF if the printer takes it, else PWG or URF raster, else\n"
		"          PostScript, else PCL), pdf, pwg, urf, ps, pcl5 or pcl6\n"
		"  GROUP: printers of one group stand in for each other (\"\" = none)\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Opens the installation and finds the printer by name or alias. Returns an exit code. */
static int printers_lookup(pp_cli_t *cli, const char *word, pp_printer_t *printer_r)
{
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	int found = printers_find(&cli->rt.core, word, printer_r, error, sizeof(error));
	if (found == PRINTERS_NOT_FOUND) {
		cli_error(cli, "no printer named %s; `pullprint printers list` shows them", word);
		return CLI_EXIT_NOT_FOUND;
	}
	if (found < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

static int printers_print(pp_cli_t *cli, const pp_printer_t *printers, size_t count)
{
	static const char *const columns[] = {"name",  "alias",  "enabled",    "group",
					      "format", "location", "uri", "description"};
	pp_table_t *table = table_new(columns, 8);
	if (table == NULL)
		return CLI_EXIT_FAILED;
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		const char *cells[] = {printers[i].name,
				       printers[i].alias,
				       printers[i].is_enabled ? "yes" : "no",
				       printers[i].group_name,
				       printers[i].output_format,
				       printers[i].location,
				       printers[i].device_uri,
				       printers[i].description};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	return cli_table_finish(cli, &table, rc);
}

/* `show`: every field but the panel token (only whether one is set), and the format used. */
static int printers_cmd_show(pp_cli_t *cli, const pp_printer_t *p)
{
	char *caps = printer_caps_to_json(&p->caps);
	json_t *caps_obj = caps != NULL ? json_loads(caps, 0, NULL) : NULL;
	const char *chosen = printer_caps_choose_format(&p->caps, p->output_format);
	char created[32], updated[32];
	cli_format_time(p->created_at, created);
	cli_format_time(p->updated_at, updated);
	int rc = CLI_EXIT_OK;
	if (cli->as_json) {
		json_t *obj = json_pack(
		    "{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:O?, s:b, s:s, s:s, s:s}", "name",
		    p->name, "alias", p->alias, "enabled", p->is_enabled, "location", p->location,
		    "description", p->description, "device_uri", p->device_uri, "output_format",
		    p->output_format, "format_used", chosen != NULL ? chosen : "", "group",
		    p->group_name, "capabilities", caps_obj, "panel_token", p->has_panel_token,
		    "created", created, "updated", updated, "tls_pin", p->tls_pin);
		if (!cli_print_json(cli, obj))
			rc = CLI_EXIT_FAILED;
	} else {
		fprintf(cli->out,
			"name:          %s\n"
			"alias:         %s\n"
			"enabled:       %s\n"
			"location:      %s\n"
			"description:   %s\n"
			"device_uri:    %s\n"
			"output_format: %s (sends %s)\n"
			"group:         %s\n"
			"capabilities:  %s\n"
			"panel_token:   %s\n"
			"tls_pin:       %s\n"
			"created:       %s\n"
			"updated:       %s\n",
			p->name, p->alias, p->is_enabled ? "yes" : "no", p->location, p->description,
			p->device_uri, p->output_format, chosen != NULL ? chosen : "?",
			p->group_name[0] != '\0' ? p->group_name : "(none)",
			caps != NULL ? caps : "?",
			p->has_panel_token ? "set (`printers panel-token` issues a new one)"
					   : "none",
			p->tls_pin[0] != '\0' ? p->tls_pin : "(none: CA verification)", created,
			updated);
	}
	json_decref(caps_obj);
	free(caps);
	return rc;
}

/* The options add and edit take; NULL / -1 = not given. */
typedef struct {
	const char *name, *uri, *alias, *location, *description, *format, *group, *caps;
	int is_enabled;
} printers_opts_t;

/* Parses add/edit options; argv[optind] is then the printer. Returns an exit code. */
static int printers_parse_opts(pp_cli_t *cli, int argc, char **argv, bool is_edit,
			       printers_opts_t *o)
{
	static const struct option options[] = {{"uri", required_argument, NULL, 'u'},
						{"alias", required_argument, NULL, 'a'},
						{"location", required_argument, NULL, 'l'},
						{"description", required_argument, NULL, 'd'},
						{"format", required_argument, NULL, 'f'},
						{"group", required_argument, NULL, 'g'},
						{"caps", required_argument, NULL, 'c'},
						{"disabled", no_argument, NULL, 'x'},
						{"enabled", no_argument, NULL, 'e'},
						{"name", required_argument, NULL, 'n'},
						{NULL, 0, NULL, 0}};
	memset(o, 0, sizeof(*o));
	o->is_enabled = -1;
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		switch (opt) {
		case 'u':
			o->uri = optarg;
			break;
		case 'a':
			o->alias = optarg;
			break;
		case 'l':
			o->location = optarg;
			break;
		case 'd':
			o->description = optarg;
			break;
		case 'f':
			o->format = optarg;
			break;
		case 'g':
			o->group = optarg;
			break;
		case 'c':
			o->caps = optarg;
			break;
		case 'x':
			o->is_enabled = 0;
			break;
		case 'e':
			if (!is_edit)
				return printers_usage(cli, cli->err);
			o->is_enabled = 1;
			break;
		case 'n':
			if (!is_edit)
				return printers_usage(cli, cli->err);
			o->name = optarg;
			break;
		default:
			return printers_usage(cli, cli->err);
		}
	}
	if (optind + 1 != argc)
		return printers_usage(cli, cli->err);
	return CLI_EXIT_OK;
}

/* Copies the given options into *p. Returns an exit code (usage for a value that is wrong). */
static int printers_apply_opts(pp_cli_t *cli, const printers_opts_t *o, pp_printer_t *p)
{
	const struct {
		const char *value, *field;
		char *dst;
		size_t size;
	} texts[] = {
	    {o->name, "name", p->name, sizeof(p->name)},
	    {o->uri, "device_uri", p->device_uri, sizeof(p->device_uri)},
	    {o->alias, "alias", p->alias, sizeof(p->alias)},
	    {o->location, "location", p->location, sizeof(p->location)},
	    {o->description, "description", p->description, sizeof(p->description)},
	    {o->group, "group", p->group_name, sizeof(p->group_name)},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (texts[i].value != NULL &&
		    !str_copy(texts[i].dst, texts[i].size, texts[i].value)) {
			cli_error(cli, "%s: at most %zu bytes", texts[i].field, texts[i].size - 1);
			return CLI_EXIT_USAGE;
		}
	}
	char error[512];
	if (o->format != NULL &&
	    (printers_format_validate(o->format, error, sizeof(error)) < 0 ||
	     !str_copy(p->output_format, sizeof(p->output_format), o->format))) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	if (o->caps != NULL && printer_caps_from_json(o->caps, &p->caps, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	if (o->is_enabled >= 0)
		p->is_enabled = o->is_enabled != 0;
	return CLI_EXIT_OK;
}

/* The exit code for a failed add or update. */
static int printers_store_failed(pp_cli_t *cli, int rc, const char *error)
{
	cli_error(cli, "%s", error);
	if (rc == PRINTERS_DUPLICATE)
		return CLI_EXIT_CONFLICT;
	return rc == PRINTERS_NOT_FOUND ? CLI_EXIT_NOT_FOUND : CLI_EXIT_USAGE;
}

static int printers_cmd_add(pp_cli_t *cli, int argc, char **argv)
{
	printers_opts_t o;
	int rc = printers_parse_opts(cli, argc, argv, false, &o);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (o.uri == NULL) {
		cli_error(cli, "printers add: give the device address with --uri");
		return printers_usage(cli, cli->err);
	}
	o.name = argv[optind];
	pp_printer_t printer;
	printers_init(&printer);
	rc = printers_apply_opts(cli, &o, &printer);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	int added = printers_add(&cli->rt.core, cli_actor(), &printer, NULL, error, sizeof(error));
	if (added != 0)
		return printers_store_failed(cli, added, error);
	cli_done(cli, "printer added");
	return CLI_EXIT_OK;
}

static int printers_cmd_edit(pp_cli_t *cli, int argc, char **argv)
{
	printers_opts_t o;
	int rc = printers_parse_opts(cli, argc, argv, true, &o);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_printer_t printer;
	rc = printers_lookup(cli, argv[optind], &printer);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = printers_apply_opts(cli, &o, &printer);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	int changed =
	    printers_update(&cli->rt.core, cli_actor(), printer.id, &printer, error, sizeof(error));
	if (changed != 0)
		return printers_store_failed(cli, changed, error);
	cli_done(cli, "printer changed");
	return CLI_EXIT_OK;
}

/* `caps NAME [--set JSON]`: shows the capabilities, or replaces them (keys left out reset). */
static int printers_cmd_caps(pp_cli_t *cli, int argc, char **argv)
{
	const char *set = NULL;
	if (argc == 4 && strcmp(argv[2], "--set") == 0)
		set = argv[3];
	else if (argc == 3 && str_has_prefix(argv[2], "--set="))
		set = argv[2] + 6;
	else if (argc != 2)
		return printers_usage(cli, cli->err);
	pp_printer_t printer;
	char error[512];
	pp_printer_caps_t caps;
	if (set != NULL && printer_caps_from_json(set, &caps, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	int rc = printers_lookup(cli, argv[1], &printer);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (set != NULL) {
		printer.caps = caps;
		int changed = printers_update(&cli->rt.core, cli_actor(), printer.id, &printer,
					      error, sizeof(error));
		if (changed != 0)
			return printers_store_failed(cli, changed, error);
	}
	char *text = printer_caps_to_json(&printer.caps);
	json_t *obj = text != NULL ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return cli_print_json(cli, obj) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

/* Parses "csv" or "json" into *format_r; an exit code. */
static int printers_parse_format(pp_cli_t *cli, const char *name, pp_printers_format_t *format_r)
{
	if (strcmp(name, "csv") == 0)
		*format_r = PP_PRINTERS_CSV;
	else if (strcmp(name, "json") == 0)
		*format_r = PP_PRINTERS_JSON;
	else {
		cli_error(cli, "--format %s: use csv or json", name);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int printers_cmd_export(pp_cli_t *cli, int argc, char **argv)
{
	pp_printers_format_t format = cli->as_json ? PP_PRINTERS_JSON : PP_PRINTERS_CSV;
	if (argc == 3 && strcmp(argv[1], "--format") == 0) {
		int rc = printers_parse_format(cli, argv[2], &format);
		if (rc != CLI_EXIT_OK)
			return rc;
	} else if (argc != 1) {
		return printers_usage(cli, cli->err);
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char *text = NULL, error[512];
	if (printers_export(&cli->rt.core, format, &text, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	size_t len = strlen(text);
	bool ok = fwrite(text, 1, len, cli->out) == len &&
		  (format == PP_PRINTERS_CSV || fputc('\n', cli->out) != EOF) &&
		  fflush(cli->out) == 0;
	free(text);
	if (!ok) {
		cli_error(cli, "printers export: cannot write the output: %s", strerror(errno));
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

/* Reads path ("-" = standard input) into *text_r (new; free()), at most the import limit. */
static int printers_read_file(pp_cli_t *cli, const char *path, char **text_r, size_t *len_r)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (f == NULL) {
		cli_error(cli, "cannot open %s: %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	size_t cap = 64 * 1024, len = 0;
	char *text = malloc(cap);
	int rc = text != NULL ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	while (rc == CLI_EXIT_OK) {
		if (len == cap) {
			if (cap >= CLI_PRINTERS_IMPORT_MAX) {
				cli_error(cli, "%s: larger than %u MiB; split it", path,
					  CLI_PRINTERS_IMPORT_MAX / (1024 * 1024));
				rc = CLI_EXIT_USAGE;
				break;
			}
			char *bigger = realloc(text, cap * 2);
			if (bigger == NULL) {
				rc = CLI_EXIT_FAILED;
				break;
			}
			text = bigger;
			cap *= 2;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				cli_error(cli, "cannot read %s: %s", path, strerror(errno));
				rc = CLI_EXIT_FAILED;
			}
			break;
		}
	}
	if (!is_stdin && fclose(f) != 0 && rc == CLI_EXIT_OK) {
		cli_error(cli, "cannot read %s: %s", path, strerror(errno));
		rc = CLI_EXIT_FAILED;
	}
	if (rc != CLI_EXIT_OK) {
		if (text == NULL)
			cli_error(cli, "%s: out of memory", path);
		free(text);
		return rc;
	}
	*text_r = text;
	*len_r = len;
	return CLI_EXIT_OK;
}

/* Prints an import report: one line per row, then the totals. */
static bool printers_print_report(pp_cli_t *cli, const pp_printers_import_report_t *r,
				  bool dry_run)
{
	if (cli->as_json) {
		json_t *rows = json_array();
		for (size_t i = 0; rows != NULL && i < r->n_rows; i++) {
			const pp_printers_import_row_t *row = &r->rows[i];
			if (json_array_append_new(
				rows, json_pack("{s:I, s:s, s:s, s:s, s:s}", "line",
						(json_int_t)row->line, "name", row->name, "action",
						printers_row_action_name(row->action), "field",
						row->field, "message", row->message)) < 0) {
				json_decref(rows);
				rows = NULL;
			}
		}
		return cli_print_json(
		    cli, json_pack("{s:o?, s:I, s:I, s:I, s:I, s:b, s:b}", "rows", rows, "added",
				   (json_int_t)r->n_added, "updated", (json_int_t)r->n_updated,
				   "unchanged", (json_int_t)r->n_unchanged, "invalid",
				   (json_int_t)r->n_invalid, "dry_run", dry_run, "stored",
				   r->is_committed));
	}
	for (size_t i = 0; i < r->n_rows; i++) {
		const pp_printers_import_row_t *row = &r->rows[i];
		if (row->action == PP_PRINTERS_ROW_INVALID)
			fprintf(cli->out, "line %zu: %s: %s\n", row->line,
				row->name[0] != '\0' ? row->name : "(no name)", row->message);
		else
			fprintf(cli->out, "line %zu: %s: %s%s\n", row->line, row->name,
				r->is_committed ? "" : "would be ",
				printers_row_action_name(row->action));
	}
	fprintf(cli->out, "%zu added, %zu updated, %zu unchanged, %zu invalid; %s\n", r->n_added,
		r->n_updated, r->n_unchanged, r->n_invalid,
		r->is_committed ? "stored"
		: r->n_invalid > 0
		    ? "nothing stored: correct the lines above and import the file again"
		    : "dry run: nothing stored");
	return fflush(cli->out) == 0;
}

static int printers_cmd_import(pp_cli_t *cli, int argc, char **argv)
{
	static const struct option options[] = {{"format", required_argument, NULL, 'f'},
						{"dry-run", no_argument, NULL, 'n'},
						{NULL, 0, NULL, 0}};
	const char *format_name = NULL;
	bool dry_run = false;
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'f')
			format_name = optarg;
		else if (opt == 'n')
			dry_run = true;
		else
			return printers_usage(cli, cli->err);
	}
	if (optind + 1 != argc)
		return printers_usage(cli, cli->err);
	const char *path = argv[optind];
	/* Without --format, a .json file is JSON and anything else CSV. */
	size_t path_len = strlen(path);
	pp_printers_format_t format =
	    path_len > 5 && strcmp(path + path_len - 5, ".json") == 0 ? PP_PRINTERS_JSON
								      : PP_PRINTERS_CSV;
	int rc = format_name != NULL ? printers_parse_format(cli, format_name, &format)
				     : CLI_EXIT_OK;
	if (rc != CLI_EXIT_OK)
		return rc;
	char *text = NULL;
	size_t len = 0;
	rc = printers_read_file(cli, path, &text, &len);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_open(cli);
	if (rc != CLI_EXIT_OK) {
		free(text);
		return rc;
	}
	char error[512];
	pp_printers_import_report_t *report = NULL;
	int imported = printers_import(&cli->rt.core, cli_actor(), text, len, format, dry_run,
				       &report, error, sizeof(error));
	free(text);
	if (imported == -1) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	rc = printers_print_report(cli, report, dry_run) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	if (rc == CLI_EXIT_OK && imported == PRINTERS_INVALID) {
		cli_error(cli, "%s: %zu invalid row(s); nothing was stored", path,
			  report->n_invalid);
		rc = CLI_EXIT_FAILED;
	}
	printers_import_report_free(&report);
	return rc;
}

/* The panel's address for token: <public_url>/panel/?token=…, else https://host:port/…. */
static bool printers_panel_url(pp_cli_t *cli, const char *token, char *url, size_t size)
{
	const char *public_url = cli->rt.config.public_url;
	size_t len = strlen(public_url);
	while (len > 0 && public_url[len - 1] == '/')
		len--;
	if (len > 0)
		return len <= (size_t)INT32_MAX &&
		       str_format(url, size, "%.*s/panel/?token=%s", (int)len, public_url, token);
	char host[256];
	unsigned port;
	return cli_public_address(cli, host, sizeof(host), &port) &&
	       str_format(url, size, "https://%s:%u/panel/?token=%s", host, port, token);
}

static int printers_cmd_panel_token(pp_cli_t *cli, int argc, char **argv)
{
	bool revoke = argc == 3 && strcmp(argv[2], "--revoke") == 0;
	if (argc != 2 && !revoke)
		return printers_usage(cli, cli->err);
	pp_printer_t printer;
	int rc = printers_lookup(cli, argv[1], &printer);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	if (revoke) {
		bool is_revoked = false;
		if (printers_panel_token_revoke(&cli->rt.core, cli_actor(), printer.id,
						&is_revoked, error, sizeof(error)) != 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		cli_done(cli, is_revoked ? "panel token revoked" : "the printer had no panel token");
		return CLI_EXIT_OK;
	}
	char token[PRINTERS_PANEL_TOKEN_MAX], url[CONFIG_URL_MAX + PRINTERS_PANEL_TOKEN_MAX + 32];
	if (printers_panel_token_issue(&cli->rt.core, cli_actor(), printer.id, token, error,
				       sizeof(error)) != 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (!printers_panel_url(cli, token, url, sizeof(url))) {
		cli_error(cli, "[server] public_url \"%s\" is not https://HOST[:PORT]/: fix it, "
			       "then issue the token again",
			  cli->rt.config.public_url);
		crypto_wipe(token, sizeof(token));
		return CLI_EXIT_CONFIG;
	}
	if (cli->as_json) {
		rc = cli_print_json(cli, json_pack("{s:s, s:s, s:s}", "printer", printer.name,
						   "token", token, "url", url))
			 ? CLI_EXIT_OK
			 : CLI_EXIT_FAILED;
	} else {
		fprintf(cli->out,
			"panel token for %s (shown once; any earlier one no longer works):\n"
			"%s\n"
			"Open this address on the printer's panel (or a browser next to it):\n"
			"%s\n",
			printer.name, token, url);
	}
	crypto_wipe(token, sizeof(token));
	crypto_wipe(url, sizeof(url));
	return rc;
}

/* show|enable|disable|remove NAME-OR-ALIAS */
static int printers_cmd_one(pp_cli_t *cli, const char *verb, const char *word)
{
	pp_printer_t printer;
	int rc = printers_lookup(cli, word, &printer);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	int changed;
	const char *done;
	if (strcmp(verb, "show") == 0) {
		return printers_cmd_show(cli, &printer);
	} else if (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0) {
		bool enable = strcmp(verb, "enable") == 0;
		changed = printers_set_enabled(&cli->rt.core, cli_actor(), printer.id, enable, error,
					       sizeof(error));
		done = enable ? "printer enabled" : "printer disabled";
	} else {
		changed = printers_remove(&cli->rt.core, cli_actor(), printer.id, error,
					  sizeof(error));
		done = "printer removed";
	}
	if (changed < 0) {
		cli_error(cli, "%s", error);
		return changed == PRINTERS_NOT_FOUND ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CONFLICT;
	}
	cli_done(cli, done);
	return CLI_EXIT_OK;
}

int cli_printers(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return printers_usage(cli, cli->out);
	const char *verb = argc >= 2 ? argv[1] : "list";
	if (strcmp(verb, "add") == 0)
		return printers_cmd_add(cli, argc - 1, argv + 1);
	if (strcmp(verb, "discover") == 0 || strcmp(verb, "probe") == 0 ||
	    strcmp(verb, "status") == 0 || strcmp(verb, "trust") == 0)
		return cli_printers_discover(cli, argc - 1, argv + 1);
	if (strcmp(verb, "edit") == 0)
		return printers_cmd_edit(cli, argc - 1, argv + 1);
	if (strcmp(verb, "caps") == 0)
		return printers_cmd_caps(cli, argc - 1, argv + 1);
	if (strcmp(verb, "export") == 0)
		return printers_cmd_export(cli, argc - 1, argv + 1);
	if (strcmp(verb, "import") == 0)
		return printers_cmd_import(cli, argc - 1, argv + 1);
	if (strcmp(verb, "panel-token") == 0)
		return printers_cmd_panel_token(cli, argc - 1, argv + 1);
	if (strcmp(verb, "list") == 0 && argc <= 2) {
		int rc = cli_open(cli);
		if (rc != CLI_EXIT_OK)
			return rc;
		char error[512];
		pp_printer_t *printers = NULL;
		size_t count = 0;
		if (printers_list(&cli->rt.core, &printers, &count, error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		rc = printers_print(cli, printers, count);
		printers_list_free(&printers);
		return rc;
	}
	if (argc == 3 && (strcmp(verb, "show") == 0 || strcmp(verb, "enable") == 0 ||
			  strcmp(verb, "disable") == 0 || strcmp(verb, "remove") == 0))
		return printers_cmd_one(cli, verb, argv[2]);
	return printers_usage(cli, cli->err);
}
