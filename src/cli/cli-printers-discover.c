/*
 * cli-printers-discover.c - `pullprint printers discover|probe|status|trust`: finding
 * printers on the network (DNS-SD browsing, SNMP and IPP probing of addresses) with one-step
 * adding, the status cache (state, reasons, supplies, trays) with an on-demand refresh, and
 * pinning an IPPS printer's certificate (trust on first use, done by the admin).
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/printers.h"
#include "lib/str.h"
#include "output/probe.h"
#include "output/status.h"
#include "output/tls-peer.h"

#include <cups/http.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int discover_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint printers discover [--timeout SECONDS] [--add]\n"
		"       pullprint printers probe HOST|CIDR [--community C] [--snmp-port P]\n"
		"                                [--ipp-port P] [--timeout MS] [--add NAME]\n"
		"           CIDR: an IPv4 range of at most 256 addresses (/24 or longer)\n"
		"       pullprint printers status [NAME] [--refresh]\n"
		"       pullprint printers status NAME [--community C] [--snmp-port P]\n"
		"       pullprint printers trust NAME [--fingerprint SHA256] | --remove\n"
		"           pins the certificate an ipps:// printer presents now (or the one\n"
		"           given); only that certificate is accepted from then on\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Parses a decimal option value within 1..max, with a message on failure. */
static bool discover_uint(pp_cli_t *cli, const char *option, const char *value, uint64_t max,
			  uint64_t *value_r)
{
	if (!parse_uint64_full(value, max, value_r) || *value_r == 0) {
		cli_error(cli, "%s: give a whole number from 1 to %llu", option,
			  (unsigned long long)max);
		return false;
	}
	return true;
}

/* The host and port of a URI, for "is this device registered already?". */
static bool discover_host_port(const char *uri, char host[PROBE_HOST_MAX], int *port_r)
{
	char scheme[16], userpass[256], resource[1024];
	if (httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, sizeof(scheme), userpass,
			    sizeof(userpass), host, PROBE_HOST_MAX, port_r, resource,
			    sizeof(resource)) < HTTP_URI_STATUS_OK)
		return false;
	str_lower_ascii(host);
	return true;
}

/* The registered printer whose URI names the same host and port as uri, or NULL. */
static const pp_printer_t *discover_registered(const pp_printer_t *printers, size_t count,
					       const char *uri)
{
	char host[PROBE_HOST_MAX], other[PROBE_HOST_MAX];
	int port = 0, other_port = 0;
	if (!discover_host_port(uri, host, &port))
		return NULL;
	for (size_t i = 0; i < count; i++) {
		if (discover_host_port(printers[i].device_uri, other, &other_port) &&
		    strcmp(host, other) == 0 && port == other_port)
			return &printers[i];
	}
	return NULL;
}

/*
 * A printer name from a service or device name: [A-Za-z0-9._-] kept, runs of anything else
 * become one '-', cut to fit, "printer" when nothing is left.
 */
static void discover_name_from(const char *text, char name[PRINTERS_NAME_MAX])
{
	size_t n = 0;
	for (const char *p = text; *p != '\0' && n + 1 < PRINTERS_NAME_MAX - 4; p++) {
		char c = *p;
		bool is_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (is_ok)
			name[n++] = c;
		else if (n > 0 && name[n - 1] != '-')
			name[n++] = '-';
	}
	while (n > 0 && (name[n - 1] == '-' || name[n - 1] == '.'))
		n--;
	name[n] = '\0';
	size_t skip = 0;
	while (name[skip] != '\0' && !((name[skip] >= 'a' && name[skip] <= 'z') ||
				       (name[skip] >= 'A' && name[skip] <= 'Z') ||
				       (name[skip] >= '0' && name[skip] <= '9')))
		skip++;
	memmove(name, name + skip, strlen(name + skip) + 1);
	if (name[0] == '\0')
		(void)str_copy(name, PRINTERS_NAME_MAX, "printer");
}

/*
 * Adds a printer named name (or name-2, name-3, … when taken) with uri and caps. Returns 0
 * with the name used in added_r, or -1 with error.
 */
static int discover_add(pp_cli_t *cli, const char *name, const char *uri,
			const pp_printer_caps_t *caps, char added_r[PRINTERS_NAME_MAX],
			int64_t *id_r, char *error, size_t error_size)
{
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	if (printer == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	printers_init(printer);
	printer->caps = *caps;
	int rc = -1;
	if (!str_copy(printer->device_uri, sizeof(printer->device_uri), uri)) {
		(void)str_format(error, error_size, "device URI too long");
		free(printer);
		return -1;
	}
	for (int attempt = 1; attempt <= 20; attempt++) {
		bool ok = attempt == 1 ? str_copy(printer->name, sizeof(printer->name), name)
				       : str_format(printer->name, sizeof(printer->name), "%s-%d",
						    name, attempt);
		if (!ok)
			break;
		printer->alias[0] = '\0';
		rc = printers_add(&cli->rt.core, cli_actor(), printer, id_r, error, error_size);
		if (rc != PRINTERS_DUPLICATE)
			break;
	}
	if (rc == 0)
		(void)str_copy(added_r, PRINTERS_NAME_MAX, printer->name);
	else if (rc == PRINTERS_DUPLICATE)
		(void)str_format(error, error_size, "names %s to %s-20 are all taken", name, name);
	free(printer);
	return rc == 0 ? 0 : -1;
}

/* Preference among the service types of one device when adding: IPPS, IPP, then raw. */
static int discover_type_rank(const char *type)
{
	return strcmp(type, "_ipps._tcp") == 0 ? 0 : strcmp(type, "_ipp._tcp") == 0 ? 1 : 2;
}

static int discover_cmd_discover(pp_cli_t *cli, int argc, char **argv)
{
	uint64_t timeout_s = 5;
	bool do_add = false;
	static const struct option options[] = {{"timeout", required_argument, NULL, 't'},
						{"add", no_argument, NULL, 'a'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 't' && !discover_uint(cli, "--timeout", optarg, 60, &timeout_s))
			return CLI_EXIT_USAGE;
		if (opt == 'a')
			do_add = true;
		if (opt != 't' && opt != 'a')
			return discover_usage(cli, cli->err);
	}
	if (optind != argc)
		return discover_usage(cli, cli->err);

	char error[1024];
	pp_discovered_t *found = NULL;
	size_t count = 0;
	if (discover_browse((int)timeout_s * 1000, &found, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	pp_printer_t *printers = NULL;
	size_t n_printers = 0;
	int rc = CLI_EXIT_OK;
	if (do_add) {
		rc = cli_open(cli);
		if (rc == CLI_EXIT_OK &&
		    printers_list(&cli->rt.core, &printers, &n_printers, error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			rc = CLI_EXIT_FAILED;
		}
	}
	static const char *const columns[] = {"service", "type", "uri", "make_and_model",
					      "registered"};
	pp_table_t *table = rc == CLI_EXIT_OK ? table_new(columns, 5) : NULL;
	if (rc == CLI_EXIT_OK && table == NULL)
		rc = CLI_EXIT_FAILED;
	pp_printer_caps_t *caps = calloc(1, sizeof(*caps));
	if (caps == NULL)
		rc = CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		char registered[PRINTERS_NAME_MAX + 32] = "";
		const pp_printer_t *known = discover_registered(printers, n_printers, found[i].uri);
		if (known != NULL) {
			(void)str_copy(registered, sizeof(registered), known->name);
		} else if (do_add) {
			/* One printer per device: add its best service only. */
			bool is_best = true;
			for (size_t j = 0; j < count; j++) {
				if (j != i &&
				    strcmp(found[j].service_name, found[i].service_name) == 0 &&
				    discover_type_rank(found[j].service_type) <
					    discover_type_rank(found[i].service_type))
					is_best = false;
			}
			char name[PRINTERS_NAME_MAX], added[PRINTERS_NAME_MAX];
			discover_name_from(found[i].service_name, name);
			printer_caps_default(caps);
			bool is_ipp = str_has_prefix(found[i].uri, "ipp");
			if (is_best && is_ipp &&
			    probe_ipp(found[i].uri, 0, caps, NULL, error, sizeof(error)) < 0)
				cli_error(cli, "%s: capabilities not detected (%s); defaults kept",
					  found[i].service_name, error);
			if (caps->make_and_model[0] == '\0')
				(void)str_copy(caps->make_and_model, sizeof(caps->make_and_model),
					       found[i].make_and_model);
			if (!is_best) {
				(void)str_copy(registered, sizeof(registered), "");
			} else if (discover_add(cli, name, found[i].uri, caps, added, NULL, error,
						sizeof(error)) < 0) {
				cli_error(cli, "%s: not added: %s", found[i].service_name, error);
				rc = CLI_EXIT_FAILED;
			} else {
				(void)str_format(registered, sizeof(registered), "%s (added)", added);
				printers_list_free(&printers);
				if (printers_list(&cli->rt.core, &printers, &n_printers, error,
						  sizeof(error)) < 0) {
					cli_error(cli, "%s", error);
					rc = CLI_EXIT_FAILED;
				}
			}
		}
		const char *cells[] = {found[i].service_name, found[i].service_type, found[i].uri,
				       found[i].make_and_model, registered};
		if (rc == CLI_EXIT_OK && table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	free(caps);
	printers_list_free(&printers);
	if (rc == CLI_EXIT_OK && count == 0 && !cli->as_json) {
		fprintf(cli->out, "no printers announced themselves within %llu s\n",
			(unsigned long long)timeout_s);
		table_free(&table);
	} else if (table != NULL) {
		rc = cli_table_finish(cli, &table, rc);
	}
	free(found);
	return rc;
}

/* "80% Black Toner, 12% Cyan" style summary of supplies into out[size]. */
static void discover_markers_text(const pp_printer_status_t *status, char *out, size_t size)
{
	out[0] = '\0';
	size_t used = 0;
	for (size_t i = 0; i < status->n_markers; i++) {
		const pp_probe_marker_t *m = &status->markers[i];
		char level[32];
		if (m->level >= 0 && m->max > 0)
			(void)str_format(level, sizeof(level), "%d%%",
					 (int)((int64_t)m->level * 100 / m->max));
		else
			(void)str_copy(level, sizeof(level),
				       m->level == PROBE_LEVEL_SOME ? "some" : "?");
		char item[PROBE_TEXT_MAX + 48];
		(void)str_format(item, sizeof(item), "%s%s %s", used > 0 ? ", " : "", m->name, level);
		size_t len = strlen(item);
		if (used + len >= size)
			break;
		memcpy(out + used, item, len + 1);
		used += len;
	}
}

/* "Tray 1: iso_a4_210x297mm 250/500" style summary of trays into out[size]. */
static void discover_trays_text(const pp_printer_status_t *status, char *out, size_t size)
{
	out[0] = '\0';
	size_t used = 0;
	for (size_t i = 0; i < status->n_trays; i++) {
		const pp_probe_tray_t *t = &status->trays[i];
		char level[48] = "";
		if (t->level >= 0 && t->max > 0)
			(void)str_format(level, sizeof(level), " %d/%d", t->level, t->max);
		else if (t->level >= 0)
			(void)str_format(level, sizeof(level), " %d", t->level);
		char item[2 * PROBE_TEXT_MAX + 64];
		(void)str_format(item, sizeof(item), "%s%s: %s%s", used > 0 ? "; " : "",
				 t->name[0] != '\0' ? t->name : "tray",
				 t->media[0] != '\0' ? t->media : "?", level);
		size_t len = strlen(item);
		if (used + len >= size)
			break;
		memcpy(out + used, item, len + 1);
		used += len;
	}
}

static int discover_cmd_probe(pp_cli_t *cli, int argc, char **argv)
{
	pp_probe_options_t options = {.snmp = {.retries = -1}};
	const char *add_name = NULL;
	uint64_t value = 0;
	bool has_community = false;
	static const struct option long_options[] = {
		{"community", required_argument, NULL, 'c'},
		{"snmp-port", required_argument, NULL, 's'},
		{"ipp-port", required_argument, NULL, 'i'},
		{"timeout", required_argument, NULL, 't'},
		{"add", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", long_options, NULL)) != -1;) {
		switch (opt) {
		case 'c':
			options.snmp.community = optarg;
			has_community = true;
			break;
		case 's':
			if (!discover_uint(cli, "--snmp-port", optarg, 65535, &value))
				return CLI_EXIT_USAGE;
			options.snmp.port = (unsigned)value;
			break;
		case 'i':
			if (!discover_uint(cli, "--ipp-port", optarg, 65535, &value))
				return CLI_EXIT_USAGE;
			options.ipp_port = (unsigned)value;
			break;
		case 't':
			if (!discover_uint(cli, "--timeout", optarg, 60000, &value))
				return CLI_EXIT_USAGE;
			options.snmp.timeout_ms = (int)value;
			options.ipp_timeout_ms = (int)value;
			break;
		case 'a':
			add_name = optarg;
			break;
		default:
			return discover_usage(cli, cli->err);
		}
	}
	if (optind + 1 != argc)
		return discover_usage(cli, cli->err);
	const char *target = argv[optind];
	if (add_name != NULL && !printers_name_is_valid(add_name)) {
		cli_error(cli, "--add: %s is not a printer name (letters, digits, '.', '_', '-')",
			  add_name);
		return CLI_EXIT_USAGE;
	}
	int rc = CLI_EXIT_OK;
	if (add_name != NULL) {
		rc = cli_open(cli); /* before the probe: a broken installation fails fast */
		if (rc != CLI_EXIT_OK)
			return rc;
	}

	char error[1024];
	pp_probe_result_t *results = NULL;
	size_t count = 0;
	if (probe_range(target, &options, &results, &count, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_USAGE;
	}
	size_t n_found = 0;
	const pp_probe_result_t *first = NULL;
	static const char *const columns[] = {"host", "uri", "make_and_model", "printer_name",
					      "mac", "state", "reasons", "formats", "color",
					      "duplex"};
	pp_table_t *table = table_new(columns, 10);
	if (table == NULL)
		rc = CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		const pp_probe_result_t *r = &results[i];
		if (!r->is_found)
			continue;
		n_found++;
		if (first == NULL)
			first = r;
		char formats[PRINTER_CAPS_FORMATS_MAX * PRINTER_CAPS_NAME_MAX] = "";
		for (size_t f = 0; r->has_ipp && f < r->caps.n_formats; f++)
			(void)probe_reasons_add(formats, sizeof(formats), r->caps.formats[f]);
		const char *cells[] = {
			r->host,
			r->uri,
			r->caps.make_and_model,
			r->snmp.printer_name,
			r->caps.mac_address,
			r->has_snmp ? probe_state_name(r->snmp.status.state) : "",
			r->snmp.status.reasons,
			formats,
			r->has_ipp ? (r->caps.is_color ? "yes" : "no") : "",
			r->has_ipp ? (r->caps.has_duplex ? "yes" : "no") : ""};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	if (rc == CLI_EXIT_OK && n_found == 0) {
		table_free(&table);
		free(results);
		if (cli->as_json)
			fprintf(cli->out, "[]\n");
		else
			fprintf(cli->out, "nothing found at %s (%zu address%s probed)\n", target,
				count, count == 1 ? "" : "es");
		if (add_name != NULL) {
			cli_error(cli, "--add %s: no printer answered at %s", add_name, target);
			return CLI_EXIT_NOT_FOUND;
		}
		return CLI_EXIT_OK;
	}
	if (rc == CLI_EXIT_OK && add_name != NULL) {
		if (n_found != 1 || first->uri[0] == '\0') {
			cli_error(cli,
				  "--add %s: %s; probe one address that answers IPP or port 9100",
				  add_name,
				  n_found != 1 ? "more than one printer answered"
					       : "the device has no IPP or raw print port");
			rc = CLI_EXIT_USAGE;
		} else {
			char added[PRINTERS_NAME_MAX];
			int64_t id = 0;
			if (discover_add(cli, add_name, first->uri, &first->caps, added, &id, error,
					 sizeof(error)) < 0 ||
			    ((first->has_snmp || has_community || options.snmp.port != 0) &&
			     status_set_snmp(&cli->rt.core, id, options.snmp.community,
					     options.snmp.port, error, sizeof(error)) < 0)) {
				cli_error(cli, "--add %s: %s", add_name, error);
				rc = CLI_EXIT_FAILED;
			} else if (!cli->as_json) {
				fprintf(cli->err, "pullprint: added printer %s (%s)\n", added,
					first->uri);
			}
		}
	}
	rc = cli_table_finish(cli, &table, rc);
	free(results);
	return rc;
}

/* One printer's status as a JSON object (new; NULL on no memory). */
static json_t *discover_status_json(const pp_printer_t *printer, const pp_status_entry_t *entry,
				    bool is_checked)
{
	char *markers = status_markers_to_json(&entry->status);
	char *trays = status_trays_to_json(&entry->status);
	char checked[32] = "";
	cli_format_time(is_checked ? entry->checked_at : 0, checked);
	json_t *obj = markers != NULL && trays != NULL
			      ? json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:i}", "name",
					  printer->name, "uri", printer->device_uri, "state",
					  probe_state_name(entry->status.state), "reasons",
					  entry->status.reasons, "markers",
					  json_loads(markers, 0, NULL), "trays",
					  json_loads(trays, 0, NULL), "checked_at", checked,
					  "error", entry->error, "snmp_port",
					  (int)entry->snmp_port)
			      : NULL;
	free(markers);
	free(trays);
	return obj;
}

static int discover_cmd_status(pp_cli_t *cli, int argc, char **argv)
{
	bool do_refresh = false;
	const char *community = NULL;
	unsigned snmp_port = 0;
	uint64_t value = 0;
	static const struct option options[] = {{"refresh", no_argument, NULL, 'r'},
						{"community", required_argument, NULL, 'c'},
						{"snmp-port", required_argument, NULL, 's'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'r') {
			do_refresh = true;
		} else if (opt == 'c') {
			community = optarg;
		} else if (opt == 's') {
			if (!discover_uint(cli, "--snmp-port", optarg, 65535, &value))
				return CLI_EXIT_USAGE;
			snmp_port = (unsigned)value;
		} else {
			return discover_usage(cli, cli->err);
		}
	}
	if (optind + 1 < argc || ((community != NULL || snmp_port != 0) && optind == argc))
		return discover_usage(cli, cli->err);
	const char *word = optind < argc ? argv[optind] : NULL;

	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[1024];
	pp_printer_t *printers = NULL;
	size_t count = 0;
	if (word != NULL) {
		printers = calloc(1, sizeof(*printers));
		if (printers == NULL)
			return CLI_EXIT_FAILED;
		int found = printers_find(&cli->rt.core, word, printers, error, sizeof(error));
		if (found != 0) {
			free(printers);
			if (found == PRINTERS_NOT_FOUND) {
				cli_error(cli, "no printer named %s", word);
				return CLI_EXIT_NOT_FOUND;
			}
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		count = 1;
		if ((community != NULL || snmp_port != 0) &&
		    status_set_snmp(&cli->rt.core, printers[0].id, community, snmp_port, error,
				    sizeof(error)) < 0) {
			free(printers);
			cli_error(cli, "%s", error);
			return CLI_EXIT_USAGE;
		}
		if (do_refresh &&
		    status_refresh(&cli->rt.core, &printers[0], NULL, error, sizeof(error)) < 0) {
			free(printers);
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
	} else {
		if (do_refresh && status_refresh_all(&cli->rt.core, 0, NULL, error,
						     sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		if (printers_list(&cli->rt.core, &printers, &count, error, sizeof(error)) < 0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
	}

	static const char *const columns[] = {"name", "state", "reasons", "supplies",
					      "trays", "checked", "error"};
	pp_table_t *table = cli->as_json ? NULL : table_new(columns, 7);
	json_t *array = cli->as_json ? json_array() : NULL;
	pp_status_entry_t *entry = calloc(1, sizeof(*entry));
	if ((cli->as_json ? array == NULL : table == NULL) || entry == NULL)
		rc = CLI_EXIT_FAILED;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		int got = status_get(&cli->rt.core, printers[i].id, entry, error, sizeof(error));
		if (got < 0 && got != STATUS_NOT_FOUND) {
			cli_error(cli, "%s", error);
			rc = CLI_EXIT_FAILED;
			break;
		}
		bool is_checked = got == 0;
		if (array != NULL) {
			if (json_array_append_new(array, discover_status_json(&printers[i], entry,
									       is_checked)) != 0)
				rc = CLI_EXIT_FAILED;
			continue;
		}
		char supplies[512], trays[512], checked[32] = "never";
		discover_markers_text(&entry->status, supplies, sizeof(supplies));
		discover_trays_text(&entry->status, trays, sizeof(trays));
		if (is_checked)
			cli_format_time(entry->checked_at, checked);
		const char *cells[] = {printers[i].name,
				       probe_state_name(entry->status.state),
				       entry->status.reasons,
				       supplies,
				       trays,
				       checked,
				       entry->error};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
	}
	free(entry);
	if (word != NULL)
		free(printers);
	else
		printers_list_free(&printers);
	if (array != NULL) {
		if (rc == CLI_EXIT_OK && !cli_print_json(cli, array))
			rc = CLI_EXIT_FAILED;
		else if (rc != CLI_EXIT_OK)
			json_decref(array);
		return rc;
	}
	return cli_table_finish(cli, &table, rc);
}

/* Prints what trust stored (or removed) for printer. */
static int discover_trust_print(pp_cli_t *cli, const pp_printer_t *printer, const char *pin,
				const pp_tls_peer_t *peer)
{
	char expires[32] = "";
	if (peer != NULL && peer->not_after > 0)
		cli_format_time(peer->not_after, expires);
	if (cli->as_json) {
		json_t *obj = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b}", "printer", printer->name,
					"fingerprint", pin, "subject",
					peer != NULL ? peer->subject : NULL, "issuer",
					peer != NULL ? peer->issuer : NULL, "expires",
					peer != NULL && expires[0] != '\0' ? expires : NULL,
					"self_signed", peer != NULL && peer->is_self_signed);
		return cli_print_json(cli, obj) ? CLI_EXIT_OK : CLI_EXIT_FAILED;
	}
	if (pin[0] == '\0') {
		cli_done(cli, "certificate pin removed: the printer's certificate must now verify "
			      "against a CA");
		return CLI_EXIT_OK;
	}
	fprintf(cli->out, "printer:     %s\nfingerprint: %s (SHA-256)\n", printer->name, pin);
	if (peer != NULL)
		fprintf(cli->out, "subject:     %s\nissuer:      %s%s\nexpires:     %s\n",
			peer->subject, peer->issuer, peer->is_self_signed ? " (self-signed)" : "",
			expires[0] != '\0' ? expires : "?");
	cli_done(cli, "certificate pinned: deliveries and status checks accept this certificate "
		      "and no other");
	return CLI_EXIT_OK;
}

/* trust NAME [--fingerprint HEX] | --remove */
static int discover_cmd_trust(pp_cli_t *cli, int argc, char **argv)
{
	static const struct option options[] = {{"fingerprint", required_argument, NULL, 'f'},
						{"remove", no_argument, NULL, 'r'},
						{NULL, 0, NULL, 0}};
	const char *given = NULL;
	bool is_remove = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'f')
			given = optarg;
		else if (opt == 'r')
			is_remove = true;
		else
			return discover_usage(cli, cli->err);
	}
	if (optind + 1 != argc || (is_remove && given != NULL))
		return discover_usage(cli, cli->err);
	char pin[PRINTERS_TLS_PIN_MAX] = "";
	if (given != NULL && !printers_tls_pin_parse(given, pin)) {
		cli_error(cli, "--fingerprint: give the certificate's SHA-256 fingerprint as 64 hex "
			       "digits (pairs may be separated by ':')");
		return CLI_EXIT_USAGE;
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_printer_t printer;
	char error[512];
	int found = printers_find(&cli->rt.core, argv[optind], &printer, error, sizeof(error));
	if (found != 0) {
		cli_error(cli, found == PRINTERS_NOT_FOUND
				       ? "no printer named %s; `pullprint printers list` shows them"
				       : "%s",
			  found == PRINTERS_NOT_FOUND ? argv[optind] : error);
		return found == PRINTERS_NOT_FOUND ? CLI_EXIT_NOT_FOUND : CLI_EXIT_FAILED;
	}
	pp_tls_peer_t peer;
	bool has_peer = false;
	if (!is_remove) {
		if (!str_has_prefix(printer.device_uri, "ipps://")) {
			cli_error(cli, "printer %s is reached at %s: only ipps:// printers present a "
				       "certificate to pin",
				  printer.name, printer.device_uri);
			return CLI_EXIT_CONFLICT;
		}
		/* What the printer presents now: the pin itself, or a check of the one given. */
		char fetch_error[512];
		has_peer = tls_peer_fetch(printer.device_uri, 0, &peer, fetch_error,
					  sizeof(fetch_error)) == 0;
		if (!has_peer && given == NULL) {
			cli_error(cli, "%s; or give the fingerprint with --fingerprint", fetch_error);
			return CLI_EXIT_FAILED;
		}
		if (has_peer && given != NULL && strcmp(pin, peer.fingerprint) != 0) {
			cli_error(cli, "printer %s presents the certificate %s, not the one given: "
				       "check which one is the printer's before you trust it",
				  printer.name, peer.fingerprint);
			return CLI_EXIT_CONFLICT;
		}
		if (given == NULL)
			(void)str_copy(pin, sizeof(pin), peer.fingerprint);
		else if (!has_peer)
			fprintf(cli->err, "note: the printer did not answer (%s); the fingerprint "
					  "is stored as given\n",
				fetch_error);
	}
	if (printers_set_tls_pin(&cli->rt.core, cli_actor(), printer.id, pin, error,
				 sizeof(error)) != 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	return discover_trust_print(cli, &printer, pin, has_peer ? &peer : NULL);
}

int cli_printers_discover(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return discover_usage(cli, cli->out);
	if (strcmp(argv[0], "discover") == 0)
		return discover_cmd_discover(cli, argc, argv);
	if (strcmp(argv[0], "probe") == 0)
		return discover_cmd_probe(cli, argc, argv);
	if (strcmp(argv[0], "status") == 0)
		return discover_cmd_status(cli, argc, argv);
	if (strcmp(argv[0], "trust") == 0)
		return discover_cmd_trust(cli, argc, argv);
	return discover_usage(cli, cli->err);
}
