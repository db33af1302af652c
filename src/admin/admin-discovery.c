/*
 * admin-discovery.c - finding printers to add: a DNS-SD browse of the local link and a probe
 * of addresses (output/probe.h, the same functions as `pullprint printers discover|probe`).
 *
 * Both wait for the network (a browse at most ADMIN_BROWSE_MS, a probe a few seconds per
 * address batch) on the listener thread: an admin clicks "discover" rarely, and the listener
 * has more threads. The browse answers what the Avahi daemon knows; without one, the list is
 * empty and "error" says why.
 */
#include "admin/admin-private.h"

#include "lib/log.h"
#include "lib/str.h"
#include "output/probe.h"

#include <stdlib.h>
#include <string.h>

#define ADMIN_BROWSE_MS 2000
#define ADMIN_TARGETS_MAX 64

void admin_api_discovery(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX] = "";
	pp_discovered_t *found = NULL;
	size_t count = 0;
	bool is_ok = discover_browse(ADMIN_BROWSE_MS, &found, &count, error, sizeof(error)) == 0;
	if (!is_ok)
		log_info("admin.discovery_unavailable error=\"%s\"", error);
	json_t *items = json_array();
	for (size_t i = 0; is_ok && items != NULL && i < count; i++) {
		const char *type = found[i].service_type;
		(void)json_array_append_new(
			items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "uri", found[i].uri,
					 "make_and_model", found[i].make_and_model, "name",
					 found[i].service_name, "source", "dnssd", "service_type",
					 type, "port", (json_int_t)found[i].port));
	}
	free(found);
	json_t *body = items != NULL ? json_pack("{s:o, s:I, s:s}", "items", items, "total",
						 (json_int_t)json_array_size(items), "error",
						 is_ok ? "" : error)
				     : NULL;
	admin_json(call, 200, body);
}

void admin_api_discovery_probe(admin_call_t *call)
{
	const char *targets = NULL;
	if (!admin_body_string(call, "targets", true, 255, &targets))
		return;
	char error[ADMIN_ERROR_MAX];
	pp_probe_options_t options;
	memset(&options, 0, sizeof(options));
	pp_probe_result_t *results = NULL;
	size_t count = 0;
	if (probe_range(targets, &options, &results, &count, error, sizeof(error)) < 0) {
		admin_error(call, 400, "invalid_value", error, 0);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; items != NULL && i < count; i++) {
		if (!results[i].is_found)
			continue;
		const char *model = results[i].caps.make_and_model[0] != '\0'
					    ? results[i].caps.make_and_model
					    : results[i].snmp.device_descr;
		(void)json_array_append_new(
			items, json_pack("{s:s, s:s, s:s, s:s, s:s}", "uri", results[i].uri,
					 "make_and_model", model, "name", results[i].host, "source",
					 results[i].has_ipp ? "ipp" : "snmp", "host",
					 results[i].host));
	}
	free(results);
	admin_items(call, items, items != NULL ? (int64_t)json_array_size(items) : 0);
}
