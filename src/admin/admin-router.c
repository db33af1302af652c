/*
 * admin-router.c - the one HTTP route under /api/v1/admin/ (the longest prefix wins over the
 * user API's /api/v1/) and the table of operations behind it.
 *
 * Every request goes through the same gate, in this order: TLS only (a cookie and passwords
 * never cross in clear); the operation (404, or 405 with Allow); the session cookie (401
 * not_signed_in); for a write (any method but GET/HEAD) the X-CSRF-Token header (403 csrf),
 * then the role (403 read_only for help desk); then the JSON body. Bodies are small (the
 * listener buffers them up to its limit), so the route is a buffered one.
 *
 * Errors are uniform: {"error":{"status":N,"code":"word","message":"sentence"}}. Lists take
 * ?limit (1..500, default 50) and ?offset and answer {"items":[…],"total":N}.
 */
#include "admin/admin-private.h"

#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/path-route.h"
#include "lib/str.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define R(m, p, f, h) {m, ADMIN_API_PREFIX p, f, h}

/* Every operation. docs/openapi.json lists exactly these (tests/unit/test-admin-routes.c). */
static const admin_route_t admin_routes[] = {
	R("POST", "login", ADMIN_NO_AUTH | ADMIN_NO_CSRF | ADMIN_BODY_JSON, admin_api_login),
	R("GET", "session", 0, admin_api_session),
	R("POST", "logout", ADMIN_NO_AUTH | ADMIN_NO_CSRF | ADMIN_ANY_ROLE, admin_api_logout),
	R("GET", "dashboard", 0, admin_api_dashboard),
	R("GET", "settings", 0, admin_api_settings_list),
	R("PUT", "settings/{name}", ADMIN_BODY_JSON, admin_api_setting_put),
	R("GET", "company-code", 0, admin_api_company_code),
	R("POST", "company-code/regenerate", 0, admin_api_company_code_regenerate),
	R("GET", "mail-accounts", 0, admin_api_mail_accounts),
	R("POST", "mail-accounts/{name}/test", 0, admin_api_mail_account_test),
	R("POST", "tls", ADMIN_BODY_JSON, admin_api_tls),
	R("GET", "printers", 0, admin_api_printers_list),
	R("POST", "printers", ADMIN_BODY_JSON, admin_api_printer_add),
	R("PATCH", "printers/{id}", ADMIN_BODY_JSON, admin_api_printer_patch),
	R("DELETE", "printers/{id}", 0, admin_api_printer_delete),
	R("POST", "printers/{id}/test-page", 0, admin_api_printer_test_page),
	R("POST", "printers/{id}/panel-token", 0, admin_api_printer_panel_token),
	R("GET", "discovery", 0, admin_api_discovery),
	R("POST", "discovery/probe", ADMIN_BODY_JSON, admin_api_discovery_probe),
	R("GET", "users", 0, admin_api_users_list),
	R("POST", "users", ADMIN_BODY_JSON, admin_api_user_add),
	R("POST", "users/{id}/approve", 0, admin_api_user_approve),
	R("POST", "users/{id}/disable", 0, admin_api_user_disable),
	R("POST", "users/{id}/enable", 0, admin_api_user_enable),
	R("POST", "users/{id}/new-code", 0, admin_api_user_new_code),
	R("DELETE", "users/{id}", 0, admin_api_user_delete),
	R("GET", "jobs", 0, admin_api_jobs_list),
	R("POST", "jobs/{id}/cancel", 0, admin_api_job_cancel),
	R("DELETE", "jobs/{id}", 0, admin_api_job_delete),
	R("POST", "jobs/{id}/reprint", ADMIN_BODY_JSON, admin_api_job_reprint),
	R("GET", "reports", 0, admin_api_reports),
	R("GET", "accounting/export", 0, admin_api_accounting_export),
	R("GET", "audit", 0, admin_api_audit),
	R("GET", "admins", 0, admin_api_admins_list),
	R("POST", "admins", ADMIN_BODY_JSON, admin_api_admin_add),
	R("DELETE", "admins/{name}", 0, admin_api_admin_delete),
};

#define ADMIN_ROUTES_COUNT (sizeof(admin_routes) / sizeof(admin_routes[0]))

bool admin_api_operation(size_t index, pp_admin_operation_t *op_r)
{
	if (index >= ADMIN_ROUTES_COUNT)
		return false;
	op_r->method = admin_routes[index].method;
	op_r->pattern = admin_routes[index].pattern;
	return true;
}

/* ---- answers ---- */

void admin_error(admin_call_t *call, unsigned status, const char *code, const char *message,
		 int64_t retry_after)
{
	if (retry_after > 0) {
		char value[32];
		if (str_format(value, sizeof(value), "%" PRId64, retry_after))
			(void)http_response_header(call->req, "Retry-After", value);
	}
	(void)http_respond_error(call->req, status, code, message);
}

void admin_json(admin_call_t *call, unsigned status, json_t *body)
{
	if (body == NULL) {
		admin_internal(call, "admin.json_failed", "out of memory");
		return;
	}
	(void)http_respond_json(call->req, status, body);
}

void admin_items(admin_call_t *call, json_t *items, int64_t total)
{
	admin_json(call, 200, items != NULL ? json_pack("{s:o, s:I}", "items", items, "total",
							(json_int_t)total)
					    : NULL);
}

void admin_internal(admin_call_t *call, const char *event, const char *error)
{
	log_error("%s route=\"%s %s\" error=\"%s\"", event,
		  call->route != NULL ? call->route->method : "-",
		  call->route != NULL ? call->route->pattern : http_request_path(call->req),
		  error != NULL ? error : "");
	admin_error(call, 500, "internal",
		    "The server could not answer this request; the reason is in the server log.",
		    0);
}

void admin_no_content(admin_call_t *call)
{
	(void)http_respond_bytes(call->req, 204, "text/plain", "", 0);
}

bool admin_page(admin_call_t *call, size_t *limit_r, size_t *offset_r)
{
	*limit_r = ADMIN_LIST_DEFAULT;
	*offset_r = 0;
	const char *limit = http_request_query(call->req, "limit");
	const char *offset = http_request_query(call->req, "offset");
	uint64_t value = 0;
	if (limit != NULL && limit[0] != '\0') {
		if (!parse_uint64_full(limit, ADMIN_LIST_MAX, &value) || value == 0) {
			admin_error(call, 400, "invalid_value",
				    "limit must be a number from 1 to 500.", 0);
			return false;
		}
		*limit_r = (size_t)value;
	}
	if (offset != NULL && offset[0] != '\0') {
		if (!parse_uint64_full(offset, 100000000, &value)) {
			admin_error(call, 400, "invalid_value",
				    "offset must be a number from 0 to 100000000.", 0);
			return false;
		}
		*offset_r = (size_t)value;
	}
	return true;
}

bool admin_query_time(admin_call_t *call, const char *name, int64_t *value_r)
{
	*value_r = 0;
	const char *text = http_request_query(call->req, name);
	if (text == NULL || text[0] == '\0')
		return true;
	uint64_t value = 0;
	if (!parse_uint64_full(text, INT64_MAX / 2, &value)) {
		char message[160];
		(void)str_format(message, sizeof(message),
				 "%s must be a time in Unix seconds (digits only).", name);
		admin_error(call, 400, "invalid_value", message, 0);
		return false;
	}
	*value_r = (int64_t)value;
	return true;
}

bool admin_param_id(admin_call_t *call, size_t index, int64_t *id_r)
{
	uint64_t value = 0;
	if (index >= call->n_params || !parse_uint64_full(call->params[index], INT64_MAX, &value) ||
	    value == 0) {
		admin_error(call, 404, "not_found", "There is nothing with this id.", 0);
		return false;
	}
	*id_r = (int64_t)value;
	return true;
}

bool admin_body_string(admin_call_t *call, const char *name, bool is_required, size_t max,
		       const char **value_r)
{
	*value_r = NULL;
	char message[200];
	json_t *value = call->body != NULL ? json_object_get(call->body, name) : NULL;
	if (value == NULL || json_is_null(value)) {
		if (!is_required)
			return true;
		(void)str_format(message, sizeof(message), "Give \"%s\" in the JSON body.", name);
		admin_error(call, 400, "invalid_value", message, 0);
		return false;
	}
	const char *text = json_string_value(value);
	if (text == NULL || strlen(text) > max || !str_is_printable_utf8(text)) {
		(void)str_format(message, sizeof(message),
				 "\"%s\" must be a string of at most %zu bytes of printable text.",
				 name, max);
		admin_error(call, 400, "invalid_value", message, 0);
		return false;
	}
	*value_r = text;
	return true;
}

const char *admin_str(const char *s)
{
	return s != NULL ? s : "";
}

json_t *admin_json_time(int64_t at)
{
	return at > 0 ? json_integer((json_int_t)at) : json_null();
}

void admin_download(admin_call_t *call, const char *content_type, const char *filename,
		    const char *data, size_t len)
{
	char disposition[160];
	if (str_format(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename))
		(void)http_response_header(call->req, "Content-Disposition", disposition);
	(void)http_respond_bytes(call->req, 200, content_type, data, len);
}

/* ---- matching ---- */

/*
 * True for a path segment a parameter may take: 1..ADMIN_PARAM_MAX-1 bytes without control
 * characters. Handlers check the value itself (an id, a setting or admin name), so that a
 * known path with an odd value answers 404 or 400 from its handler, never "no such path".
 */
static bool admin_segment_ok(const char *seg, size_t len)
{
	if (len == 0 || len >= ADMIN_PARAM_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
			return false;
	return true;
}

/* The method and pattern of route i (path_route_find()'s view of the table). */
static void admin_route_at(const void *table, size_t i, const char **method_r,
			   const char **pattern_r)
{
	const admin_route_t *routes = table;
	*method_r = routes[i].method;
	*pattern_r = routes[i].pattern;
}

/* Finds the operation, or answers 404 / 405 (with Allow) and returns NULL. */
static const admin_route_t *admin_find(admin_call_t *call)
{
	char allow[128];
	pp_path_params_t params = {.values = &call->params[0][0], .size = ADMIN_PARAM_MAX,
				   .max = ADMIN_PARAMS_MAX};
	long found = path_route_find(admin_routes, ADMIN_ROUTES_COUNT, admin_route_at,
				     http_request_method(call->req), http_request_path(call->req),
				     admin_segment_ok, &params, allow, sizeof(allow));
	if (found >= 0) {
		call->n_params = params.count;
		return &admin_routes[found];
	}
	if (allow[0] == '\0') {
		admin_error(call, 404, "not_found",
			    "There is no such admin API operation; see docs/admin-api.md.", 0);
		return NULL;
	}
	(void)http_response_header(call->req, "Allow", allow);
	admin_error(call, 405, "method_not_allowed",
		    "This method is not allowed here; see the Allow header.", 0);
	return NULL;
}

/* Parses the JSON body: an object, {} when empty. Answers 400/415 and returns false. */
static bool admin_parse_body(admin_call_t *call)
{
	size_t len = 0;
	const uint8_t *data = http_request_body(call->req, &len);
	if (len == 0) {
		call->body = json_object();
		return call->body != NULL;
	}
	const char *type = http_request_header(call->req, "Content-Type");
	if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
	    (type[16] != '\0' && type[16] != ';' && type[16] != ' ')) {
		admin_error(call, 415, "unsupported_media_type",
			    "Send the request body as application/json.", 0);
		return false;
	}
	json_error_t jerr;
	call->body = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (call->body == NULL || !json_is_object(call->body)) {
		char message[256];
		if (call->body == NULL)
			(void)str_format(message, sizeof(message),
					 "The body is not valid JSON (line %d: %s).", jerr.line,
					 jerr.text);
		else
			(void)str_copy(message, sizeof(message), "The body must be a JSON object.");
		admin_error(call, 400, "invalid_json", message, 0);
		return false;
	}
	return true;
}

/* Whether the request is a write (anything but GET and HEAD). */
static bool admin_is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* The gate (see the file comment). Returns false when it answered. */
static bool admin_gate(admin_call_t *call)
{
	if (!http_request_is_tls(call->req)) {
		admin_error(call, 403, "tls_required",
			    "Use https://: the admin API takes passwords and sessions only over TLS.",
			    0);
		return false;
	}
	call->route = admin_find(call);
	if (call->route == NULL)
		return false;
	unsigned flags = call->route->flags;
	if ((flags & ADMIN_NO_AUTH) == 0 && !admin_authenticate(call))
		return false;
	const char *method = http_request_method(call->req);
	if (admin_is_write(method) && (flags & ADMIN_NO_CSRF) == 0 &&
	    !admin_csrf_check(call->core, call->session,
			      http_request_header(call->req, ADMIN_CSRF_HEADER))) {
		log_info("admin.csrf_refused admin=%s route=\"%s %s\"", call->account.name,
			 call->route->method, call->route->pattern);
		admin_error(call, 403, "csrf",
			    "Send the X-CSRF-Token header with the csrf_token of your session "
			    "(GET /api/v1/admin/session gives it).",
			    0);
		return false;
	}
	if (admin_is_write(method) && (flags & ADMIN_ANY_ROLE) == 0 &&
	    (flags & ADMIN_NO_AUTH) == 0 && !admin_role_may(call->account.role, method)) {
		admin_error(call, 403, "read_only",
			    "A help desk account can look but not change anything; ask a full "
			    "admin.",
			    0);
		return false;
	}
	if ((flags & ADMIN_BODY_JSON) != 0 && !admin_parse_body(call))
		return false;
	return true;
}

/* The listener's handler. */
static void admin_handle(pp_http_request_t *req, void *ctx)
{
	admin_call_t *call = calloc(1, sizeof(*call));
	if (call == NULL) {
		(void)http_respond_error(req, 503, "busy", "The server is out of memory; try again.");
		return;
	}
	call->api = ctx;
	call->core = call->api->cfg.core;
	call->req = req;
	if (admin_gate(call))
		call->route->handler(call);
	crypto_wipe(call->session, sizeof(call->session));
	json_decref(call->body);
	free(call);
}

/* ---- the admin API object ---- */

int admin_api_start(pp_http_server_t *http, const pp_admin_api_config_t *cfg,
		    pp_admin_api_t **admin_r, char *error, size_t error_size)
{
	*admin_r = NULL;
	if (cfg == NULL || cfg->core == NULL) {
		(void)str_format(error, error_size, "admin api: no core");
		return -1;
	}
	pp_admin_api_t *api = calloc(1, sizeof(*api));
	if (api == NULL) {
		(void)str_format(error, error_size, "admin api: out of memory");
		return -1;
	}
	api->cfg = *cfg;
	if (http_route(http, NULL, ADMIN_API_PREFIX, HTTP_ROUTE_PREFIX, admin_handle, NULL, api,
		       error, error_size) < 0) {
		free(api);
		return -1;
	}
	*admin_r = api;
	return 0;
}

void admin_api_free(pp_admin_api_t **admin)
{
	if (admin == NULL || *admin == NULL)
		return;
	free(*admin);
	*admin = NULL;
}
