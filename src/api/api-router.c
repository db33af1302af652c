/*
 * api-router.c - the one HTTP route under /api/v1/ and the table of operations behind it.
 *
 * The listener calls us with the headers before any body arrives (a streamed-body route), so
 * every decision that needs no body — which operation, rate limits, the bearer token, the
 * size and type of an upload — is taken before a byte is stored. A refusal taken then is
 * kept and sent once the body has been read (clients such as python-requests send the whole
 * body before they read, and would meet a reset connection otherwise), except when the client
 * asked "Expect: 100-continue": then it is sent at once and the body never comes.
 *
 * Errors are uniform: {"error":{"status":N,"code":"word","message":"sentence"}}; 429 and 503
 * carry Retry-After. Lists take ?limit (1..100, default 50) and ?cursor (opaque; from the
 * previous page's next_cursor).
 */
#include "api/api-private.h"

#include "lib/log.h"
#include "lib/path-route.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every operation. The OpenAPI document lists exactly these (a unit test checks). */
static const api_route_t api_routes[] = {
	{"GET", "/api/v1/openapi.json", 0, api_openapi},
	{"GET", "/api/v1/login-options", 0, api_login_options},
	{"POST", "/api/v1/enrol", API_BODY_JSON | API_LIMIT_AUTH, api_enrol},
	{"POST", "/api/v1/login", API_BODY_JSON | API_LIMIT_AUTH, api_login},
	{"POST", "/api/v1/logout", API_AUTH, api_logout},
	{"POST", "/api/v1/renew", API_AUTH, api_renew},
	{"GET", "/api/v1/me", API_AUTH, api_me},
	{"GET", "/api/v1/jobs", API_AUTH, api_jobs_list},
	{"POST", "/api/v1/jobs", API_AUTH | API_BODY_UPLOAD | API_LIMIT_WRITE, api_upload_finish},
	{"GET", "/api/v1/jobs/{id}", API_AUTH, api_job_get},
	{"PATCH", "/api/v1/jobs/{id}", API_AUTH | API_BODY_JSON | API_LIMIT_WRITE, api_job_patch},
	{"DELETE", "/api/v1/jobs/{id}", API_AUTH | API_LIMIT_WRITE, api_job_delete},
	{"POST", "/api/v1/jobs/{id}/release", API_AUTH | API_BODY_JSON | API_LIMIT_WRITE,
	 api_job_release},
	{"GET", "/api/v1/jobs/{id}/pages/{n}/thumbnail", API_AUTH, api_job_thumbnail},
	{"GET", "/api/v1/jobs/{id}/pages/{n}/preview", API_AUTH, api_job_preview},
	{"POST", "/api/v1/print-now",
	 API_AUTH | API_BODY_UPLOAD | API_LIMIT_WRITE | API_PRINT_NOW, api_upload_finish},
	{"GET", "/api/v1/printers", API_AUTH, api_printers_list},
	{"GET", "/api/v1/printers/{id}", API_AUTH, api_printer_get},
	{"GET", "/api/v1/events", API_AUTH, api_events_stream},
	{"GET", "/api/v1/panel", 0, api_panel_get},
};

#define API_ROUTES_COUNT (sizeof(api_routes) / sizeof(api_routes[0]))

const api_route_t *api_route_table(size_t *count_r)
{
	*count_r = API_ROUTES_COUNT;
	return api_routes;
}

bool api_operation(size_t index, pp_api_operation_t *op_r)
{
	if (index >= API_ROUTES_COUNT)
		return false;
	op_r->method = api_routes[index].method;
	op_r->pattern = api_routes[index].pattern;
	return true;
}

/* ---- answers ---- */

void api_error(api_call_t *call, unsigned status, const char *code, const char *message,
	       int64_t retry_after)
{
	if (retry_after > 0) {
		char value[32];
		if (str_format(value, sizeof(value), "%lld", (long long)retry_after))
			(void)http_response_header(call->req, "Retry-After", value);
	}
	if (status == 401)
		(void)http_response_header(call->req, "WWW-Authenticate",
					   "Bearer realm=\"pullprint\"");
	(void)http_respond_error(call->req, status, code, message);
}

void api_json(api_call_t *call, unsigned status, json_t *body)
{
	if (body == NULL) {
		api_internal(call, "api.json_failed", "out of memory");
		return;
	}
	(void)http_respond_json(call->req, status, body);
}

void api_internal(api_call_t *call, const char *event, const char *error)
{
	log_error("%s route=\"%s %s\" error=\"%s\"", event,
		  call->route != NULL ? call->route->method : "-",
		  call->route != NULL ? call->route->pattern : http_request_path(call->req),
		  error != NULL ? error : "");
	api_error(call, 500, "internal",
		  "The server could not answer this request; the administrator finds the reason "
		  "in the server log.",
		  0);
}

void api_pending(api_call_t *call, unsigned status, const char *code, const char *message,
		 int64_t retry_after)
{
	if (call->has_pending)
		return; /* the first reason stands */
	call->has_pending = true;
	call->pending_status = status;
	(void)str_copy(call->pending_code, sizeof(call->pending_code), code);
	if (!str_copy(call->pending_message, sizeof(call->pending_message), message))
		(void)str_copy(call->pending_message, sizeof(call->pending_message),
			       "The request was refused.");
	call->pending_retry_after = retry_after;
}

/* Sends the answer kept by api_pending(). */
static void api_send_pending(api_call_t *call)
{
	api_error(call, call->pending_status, call->pending_code, call->pending_message,
		  call->pending_retry_after);
}

bool api_page_params(api_call_t *call, size_t *limit_r, int64_t *cursor_r)
{
	*limit_r = API_LIST_DEFAULT;
	*cursor_r = 0;
	const char *limit = http_request_query(call->req, "limit");
	const char *cursor = http_request_query(call->req, "cursor");
	uint64_t value = 0;
	if (limit != NULL && limit[0] != '\0') {
		if (!parse_uint64_full(limit, API_LIST_MAX, &value) || value == 0) {
			api_error(call, 400, "bad_limit", "limit must be a number from 1 to 100.", 0);
			return false;
		}
		*limit_r = (size_t)value;
	}
	if (cursor != NULL && cursor[0] != '\0') {
		if (!parse_uint64_full(cursor, INT64_MAX, &value) || value == 0) {
			api_error(call, 400, "bad_cursor",
				  "cursor must be the next_cursor of the page before.", 0);
			return false;
		}
		*cursor_r = (int64_t)value;
	}
	return true;
}

/* ---- matching ---- */

/* True for a path segment a parameter may take: 1..API_PARAM_MAX-1 of [A-Za-z0-9._-]. */
static bool api_segment_ok(const char *seg, size_t len)
{
	if (len == 0 || len >= API_PARAM_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = seg[i];
		bool is_ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
		if (!is_ok)
			return false;
	}
	return true;
}

/* The method and pattern of route i (path_route_find()'s view of the table). */
static void api_route_at(const void *table, size_t i, const char **method_r,
			 const char **pattern_r)
{
	const api_route_t *routes = table;
	*method_r = routes[i].method;
	*pattern_r = routes[i].pattern;
}

/*
 * Finds the operation for the request. Returns it, or NULL after making a 404 or 405 (with
 * Allow) pending.
 */
static const api_route_t *api_find(api_call_t *call)
{
	char allow[128];
	pp_path_params_t params = {.values = &call->params[0][0], .size = API_PARAM_MAX,
				   .max = API_PARAMS_MAX};
	long found = path_route_find(api_routes, API_ROUTES_COUNT, api_route_at,
				     http_request_method(call->req), http_request_path(call->req),
				     api_segment_ok, &params, allow, sizeof(allow));
	if (found >= 0) {
		call->n_params = params.count;
		return &api_routes[found];
	}
	if (allow[0] == '\0') {
		api_pending(call, 404, "not_found",
			    "There is no such API operation; see /api/v1/openapi.json.", 0);
		return NULL;
	}
	(void)http_response_header(call->req, "Allow", allow);
	api_pending(call, 405, "method_not_allowed",
		    "This method is not allowed here; see the Allow header.", 0);
	return NULL;
}

/* ---- the request life cycle ---- */

static void api_call_free(void *data)
{
	api_call_t *call = data;
	if (call == NULL)
		return;
	crypto_wipe(call->token, sizeof(call->token));
	if (call->body_buf != NULL) {
		crypto_wipe(call->body_buf, call->body_len); /* codes and passwords pass here */
		free(call->body_buf);
	}
	json_decref(call->body);
	api_upload_free(&call->upload);
	free(call);
}

/* Whether the client waits for "100 Continue" before it sends its body. */
static bool api_expects_continue(api_call_t *call)
{
	const char *expect = http_request_header(call->req, "Expect");
	return expect != NULL && strcasecmp(expect, "100-continue") == 0;
}

/* The source address as a key for limits and logs; "unknown" when the listener cannot tell. */
static const char *api_source(api_call_t *call)
{
	const char *addr = http_request_remote_addr(call->req);
	return addr != NULL && addr[0] != '\0' ? addr : "unknown";
}

/* Everything decided on the headers. Returns false when an answer is pending. */
static bool api_call_begin(api_call_t *call)
{
	call->route = api_find(call);
	if (call->route == NULL)
		return false;
	unsigned flags = call->route->flags;
	int64_t retry = 0;
	/* Codes, passwords and tokens never cross the network in clear: not even to be refused. */
	if ((flags & (API_AUTH | API_LIMIT_AUTH)) != 0 && !http_request_is_tls(call->req)) {
		api_pending(call, 403, "tls_required",
			    "Use https://: the API takes credentials and tokens only over TLS.", 0);
		return false;
	}
	if ((flags & API_LIMIT_AUTH) != 0 &&
	    !api_limits_take(call->api->limits, API_BUCKET_AUTH, api_source(call), api_now_ms(),
			     &retry)) {
		log_info("api.rate_limited remote=%s kind=auth", api_source(call));
		api_pending(call, 429, "rate_limited",
			    "Too many sign-in requests from this address; wait and try again.",
			    retry);
		return false;
	}
	if ((flags & API_AUTH) != 0 && !api_authenticate(call))
		return false;
	if ((flags & API_LIMIT_WRITE) != 0) {
		char key[32];
		(void)str_format(key, sizeof(key), "user:%lld", (long long)call->user.id);
		if (!api_limits_take(call->api->limits, API_BUCKET_WRITE, key, api_now_ms(),
				     &retry)) {
			log_info("api.rate_limited user=%lld kind=write", (long long)call->user.id);
			api_pending(call, 429, "rate_limited",
				    "Too many changes in a short time; wait and try again.", retry);
			return false;
		}
	}
	if ((flags & API_BODY_UPLOAD) != 0)
		return api_upload_begin(call);
	const char *cl = http_request_header(call->req, "Content-Length");
	uint64_t declared = 0;
	if (cl != NULL && parse_uint64_full(cl, UINT64_MAX, &declared) &&
	    declared > API_JSON_BODY_MAX) {
		api_pending(call, 413, "too_large", "The request body is larger than 64 KiB.", 0);
		return false;
	}
	return true;
}

/* Appends a chunk of a JSON body (or of any body a route does not take: dropped). */
static bool api_body_append(api_call_t *call, const uint8_t *data, size_t len)
{
	if (len > API_JSON_BODY_MAX || call->body_len > API_JSON_BODY_MAX - len) {
		api_error(call, 413, "too_large", "The request body is larger than 64 KiB.", 0);
		return false;
	}
	if ((call->route->flags & API_BODY_JSON) == 0)
		return true; /* nothing to keep */
	char *grown = realloc(call->body_buf, call->body_len + len + 1);
	if (grown == NULL) {
		api_error(call, 503, "busy", "The server is out of memory; try again.", 5);
		return false;
	}
	call->body_buf = grown;
	memcpy(call->body_buf + call->body_len, data, len);
	call->body_len += len;
	call->body_buf[call->body_len] = '\0';
	return true;
}

/* The listener's body callback: begin on the headers, then each chunk. */
static int api_body(pp_http_request_t *req, const uint8_t *data, size_t len, void *ctx)
{
	api_call_t *call = http_request_data(req);
	if (data == NULL) {
		call = calloc(1, sizeof(*call));
		if (call == NULL) {
			(void)http_respond_error(req, 503, "busy",
						 "The server is out of memory; try again.");
			return -1;
		}
		call->api = ctx;
		call->req = req;
		http_request_set_data(req, call, api_call_free);
		if (!api_call_begin(call) && api_expects_continue(call)) {
			api_send_pending(call);
			return -1;
		}
		return 0;
	}
	if (call == NULL)
		return -1;
	if (call->has_pending) {
		/* Answered now; the listener reads and drops the rest before it sends this. */
		api_send_pending(call);
		return -1;
	}
	if ((call->route->flags & API_BODY_UPLOAD) != 0)
		return api_upload_write(call, data, len) ? 0 : -1;
	return api_body_append(call, data, len) ? 0 : -1;
}

/* Parses the JSON body: an object, {} when empty. Answers 400/415 and returns false. */
static bool api_parse_body(api_call_t *call)
{
	if (call->body_len == 0) {
		call->body = json_object();
		return call->body != NULL;
	}
	const char *type = http_request_header(call->req, "Content-Type");
	if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
	    (type[16] != '\0' && type[16] != ';' && type[16] != ' ')) {
		api_error(call, 415, "unsupported_media_type",
			  "Send the request body as application/json.", 0);
		return false;
	}
	json_error_t jerr;
	call->body = json_loadb(call->body_buf, call->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (call->body == NULL || !json_is_object(call->body)) {
		char message[256];
		if (call->body == NULL)
			(void)str_format(message, sizeof(message),
					 "The body is not valid JSON (line %d: %s).", jerr.line,
					 jerr.text);
		else
			(void)str_copy(message, sizeof(message), "The body must be a JSON object.");
		api_error(call, 400, "invalid_json", message, 0);
		return false;
	}
	return true;
}

/* The listener's handler: runs once the body is in. */
static void api_handle(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	api_call_t *call = http_request_data(req);
	if (call == NULL) {
		(void)http_respond_error(req, 500, "internal", "The request was lost.");
		return;
	}
	if (call->has_pending) {
		api_send_pending(call);
		return;
	}
	if ((call->route->flags & API_BODY_JSON) != 0 && !api_parse_body(call))
		return;
	call->route->handler(call);
}

/* ---- the API object ---- */

int api_start(pp_http_server_t *http, const pp_api_config_t *cfg, pp_api_t **api_r, char *error,
	      size_t error_size)
{
	*api_r = NULL;
	if (cfg == NULL || cfg->core == NULL) {
		(void)str_format(error, error_size, "api: no core");
		return -1;
	}
	pp_api_t *api = calloc(1, sizeof(*api));
	if (api == NULL) {
		(void)str_format(error, error_size, "api: out of memory");
		return -1;
	}
	api->cfg = *cfg;
	if (api_limits_new(&api->limits, error, error_size) < 0 ||
	    api_token_cache_new(&api->tokens, error, error_size) < 0 ||
	    api_cache_new(&api->cache, error, error_size) < 0 ||
	    api_events_start(cfg->core, &api->events, error, error_size) < 0 ||
	    http_route(http, NULL, API_PREFIX, HTTP_ROUTE_PREFIX | HTTP_ROUTE_STREAM_BODY,
		       api_handle, api_body, api, error, error_size) < 0) {
		api_free(&api);
		return -1;
	}
	*api_r = api;
	return 0;
}

void api_free(pp_api_t **api_p)
{
	if (api_p == NULL || *api_p == NULL)
		return;
	pp_api_t *api = *api_p;
	api_events_stop(&api->events);
	api_token_cache_free(&api->tokens);
	api_cache_free(&api->cache);
	api_limits_free(&api->limits);
	free(api);
	*api_p = NULL;
}
