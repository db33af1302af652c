/*
 * api-printers.c - the printers a user may release to: searchable by name, alias, location
 * and description, each with its capabilities and the status the cache last holds
 * (output/status.h: nothing here waits for a printer to answer).
 *
 * Only enabled printers are listed; a disabled one answers 404 like one that does not exist.
 */
#include "api/api-private.h"

#include "core/printers.h"
#include "lib/log.h"
#include "lib/str.h"
#include "output/status.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_PRINTER_QUERY_MAX 128

json_t *api_printer_json(pp_core_t *core, const pp_printer_t *p)
{
	pp_status_entry_t entry;
	char error[API_ERROR_MAX], warning[128] = "";
	int rc = status_get(core, p->id, &entry, error, sizeof(error));
	if (rc < 0 && rc != STATUS_NOT_FOUND) {
		log_warn("api.status_failed printer=%lld error=\"%s\"", (long long)p->id, error);
		memset(&entry, 0, sizeof(entry));
		entry.status.state = probe_state_parse("unknown");
	}
	bool is_checked = rc == 0 && entry.checked_at > 0;
	if (is_checked)
		(void)status_warning(&entry.status, warning, sizeof(warning));

	json_t *reasons = json_array();
	const char *r = entry.status.reasons;
	while (reasons != NULL && *r != '\0') {
		size_t len = strcspn(r, ",");
		if (len > 0 && json_array_append_new(reasons, json_stringn(r, len)) < 0)
			break;
		r += len;
		if (*r == ',')
			r++;
	}
	json_t *media = json_array(), *formats = json_array();
	for (size_t i = 0; media != NULL && i < p->caps.n_media; i++)
		(void)json_array_append_new(media, json_string(p->caps.media[i]));
	for (size_t i = 0; formats != NULL && i < p->caps.n_formats; i++)
		(void)json_array_append_new(formats, json_string(p->caps.formats[i]));

	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, "
			 "s:{s:s, s:o?, s:o, s:o}, "
			 "s:{s:b, s:b, s:b, s:o?, s:o?, s:s}}",
			 "id", (json_int_t)p->id, "name", p->name, "alias", p->alias, "location",
			 p->location, "description", p->description, "group", p->group_name,
			 "status", "state", probe_state_name(entry.status.state), "reasons", reasons,
			 "warning", warning[0] != '\0' ? json_string(warning) : json_null(),
			 "checked_at", is_checked ? json_integer(entry.checked_at) : json_null(),
			 "capabilities", "color", p->caps.is_color, "duplex", p->caps.has_duplex,
			 "staple", p->caps.has_staple, "media", media, "formats", formats,
			 "make_and_model", p->caps.make_and_model);
}

/* True when needle (lower-case) is in any searchable field of p. */
static bool api_printer_matches(const pp_printer_t *p, const char *needle)
{
	return needle[0] == '\0' || strcasestr(p->name, needle) != NULL ||
	       strcasestr(p->alias, needle) != NULL || strcasestr(p->location, needle) != NULL ||
	       strcasestr(p->description, needle) != NULL;
}

/* GET /printers?q=&limit=&cursor=: enabled printers by name; cursor is an offset. */
void api_printers_list(api_call_t *call)
{
	size_t limit = 0;
	int64_t cursor = 0;
	if (!api_page_params(call, &limit, &cursor))
		return;
	const char *q = http_request_query(call->req, "q");
	char needle[API_PRINTER_QUERY_MAX];
	if (!str_copy(needle, sizeof(needle), q != NULL ? q : "")) {
		api_error(call, 400, "bad_query", "q is at most 127 characters.", 0);
		return;
	}
	char *trimmed = str_trim(needle);
	pp_core_t *core = call->api->cfg.core;
	pp_printer_t *printers = NULL;
	size_t count = 0;
	char error[API_ERROR_MAX];
	if (printers_list(core, &printers, &count, error, sizeof(error)) < 0) {
		api_internal(call, "api.printers_failed", error);
		return;
	}
	json_t *list = json_array();
	size_t seen = 0, shown = 0;
	int64_t next = 0;
	for (size_t i = 0; list != NULL && i < count; i++) {
		if (!printers[i].is_enabled || !api_printer_matches(&printers[i], trimmed))
			continue;
		if (seen++ < (size_t)cursor)
			continue;
		if (shown == limit) {
			next = (int64_t)seen - 1;
			break;
		}
		(void)json_array_append_new(list, api_printer_json(core, &printers[i]));
		shown++;
	}
	printers_list_free(&printers);
	char cursor_text[24];
	(void)str_format(cursor_text, sizeof(cursor_text), "%lld", (long long)next);
	api_json(call, 200,
		 list == NULL ? NULL
			      : json_pack("{s:o, s:o}", "printers", list, "next_cursor",
					  next > 0 ? json_string(cursor_text) : json_null()));
}

/* Finds an enabled printer by id (digits) or name/alias. Returns 0, PRINTERS_NOT_FOUND, -1. */
static int api_printer_lookup(pp_core_t *core, const char *word, pp_printer_t *p, char *error,
			      size_t error_size)
{
	uint64_t id = 0;
	int rc = parse_uint64_full(word, INT64_MAX, &id)
			 ? printers_get(core, (int64_t)id, p, error, error_size)
			 : printers_find(core, word, p, error, error_size);
	if (rc == 0 && !p->is_enabled)
		return PRINTERS_NOT_FOUND;
	return rc;
}

/* GET /printers/{id}: one printer (id, name or alias). */
void api_printer_get(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	pp_printer_t p;
	char error[API_ERROR_MAX];
	int rc = api_printer_lookup(core, call->params[0], &p, error, sizeof(error));
	if (rc == PRINTERS_NOT_FOUND) {
		api_error(call, 404, "printer_not_found", "There is no such printer.", 0);
		return;
	}
	if (rc != 0) {
		api_internal(call, "api.printer_failed", error);
		return;
	}
	api_json(call, 200, api_printer_json(core, &p));
}

bool api_printer_resolve(api_call_t *call, const json_t *value, const char *text,
			 int64_t *printer_id_r)
{
	char word[PRINTERS_NAME_MAX];
	if (value != NULL && json_is_integer(value) && json_integer_value(value) > 0) {
		(void)str_format(word, sizeof(word), "%lld", (long long)json_integer_value(value));
	} else if (value != NULL && json_is_string(value)) {
		text = json_string_value(value);
	} else if (value != NULL || text == NULL) {
		api_error(call, 400, "bad_printer", "printer is a printer's id, name or alias.", 0);
		return false;
	}
	if (text != NULL && !str_copy(word, sizeof(word), text)) {
		api_error(call, 404, "printer_not_found", "There is no such printer.", 0);
		return false;
	}
	pp_printer_t p;
	char error[API_ERROR_MAX];
	int rc = api_printer_lookup(call->api->cfg.core, word, &p, error, sizeof(error));
	if (rc == PRINTERS_NOT_FOUND) {
		api_error(call, 404, "printer_not_found",
			  "There is no such printer, or it is switched off.", 0);
		return false;
	}
	if (rc != 0) {
		api_internal(call, "api.printer_failed", error);
		return false;
	}
	*printer_id_r = p.id;
	return true;
}
