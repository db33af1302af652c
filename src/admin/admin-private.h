/*
 * admin-private.h - what the HTTP files of src/admin share: the admin API object, one call
 * (a request as the handlers see it), the route flags, the answer helpers and the handlers.
 * No other folder includes it.
 */
#ifndef PP_ADMIN_PRIVATE_H
#define PP_ADMIN_PRIVATE_H

#include "admin/admin.h"

#include "core/admins.h"
#include "core/audit.h"
#include "core/tokens.h"
#include "http/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ADMIN_ERROR_MAX 512
#define ADMIN_LIST_DEFAULT 50
#define ADMIN_LIST_MAX 500
#define ADMIN_PARAMS_MAX 2
#define ADMIN_PARAM_MAX 128
#define ADMIN_COOKIE "pp_admin"
#define ADMIN_CSRF_HEADER "X-CSRF-Token"

struct pp_admin_api {
	pp_admin_api_config_t cfg;
};

/* Route flags. */
#define ADMIN_NO_AUTH 0x1u   /* no session needed (sign-in) */
#define ADMIN_NO_CSRF 0x2u   /* a write without the CSRF header (sign-in, sign-out) */
#define ADMIN_ANY_ROLE 0x4u  /* a write help desk accounts may make too (sign-out) */
#define ADMIN_BODY_JSON 0x8u /* takes a JSON object body (call->body; {} when empty) */

typedef struct admin_call admin_call_t;
typedef void (*admin_handler_fn)(admin_call_t *call);

typedef struct {
	const char *method;
	const char *pattern; /* path with {name} segments */
	unsigned flags;
	admin_handler_fn handler;
} admin_route_t;

/* One request. Lives on the listener thread's stack for the handler's duration. */
struct admin_call {
	pp_admin_api_t *api;
	pp_core_t *core;
	pp_http_request_t *req;
	const admin_route_t *route;
	char params[ADMIN_PARAMS_MAX][ADMIN_PARAM_MAX];
	size_t n_params;
	/* the signed-in admin (routes without ADMIN_NO_AUTH) */
	pp_admin_account_t account;
	char session[TOKENS_TEXT_MAX]; /* the cookie's token (wiped at the end) */
	char actor[AUDIT_ACTOR_MAX];   /* "admin:<name>" for the audit log */
	json_t *body;                  /* ADMIN_BODY_JSON */
};

/* ---- admin-router.c: answers and request helpers ---- */

/* Sends the uniform error; retry_after > 0 adds Retry-After. */
void admin_error(admin_call_t *call, unsigned status, const char *code, const char *message,
		 int64_t retry_after);
/* Sends body (stolen) with status; NULL (out of memory) becomes a 500. */
void admin_json(admin_call_t *call, unsigned status, json_t *body);
/* Sends {"items":items,"total":total} (items stolen). */
void admin_items(admin_call_t *call, json_t *items, int64_t total);
/* Logs error under event and answers 500 without details. */
void admin_internal(admin_call_t *call, const char *event, const char *error);
/* 204 No Content. */
void admin_no_content(admin_call_t *call);
/* Reads ?limit (1..500, default 50) and ?offset. Answers 400 and returns false when bad. */
bool admin_page(admin_call_t *call, size_t *limit_r, size_t *offset_r);
/* Reads ?name as Unix seconds (absent or "" = 0). Answers 400 and returns false when bad. */
bool admin_query_time(admin_call_t *call, const char *name, int64_t *value_r);
/* Reads path parameter index as a positive id. Answers 404 and returns false when bad. */
bool admin_param_id(admin_call_t *call, size_t index, int64_t *id_r);
/*
 * Reads body member name as a string: *value_r NULL when absent (an error when required) or
 * a borrowed string. Answers 400 and returns false when it is not a string or is too long
 * (max bytes) or holds control characters.
 */
bool admin_body_string(admin_call_t *call, const char *name, bool is_required, size_t max,
		       const char **value_r);
/* Returns "" for NULL. */
const char *admin_str(const char *s);
/* A Unix time as JSON: null for 0. New reference. */
json_t *admin_json_time(int64_t at);
/*
 * Sends data[len] as a download: content_type with Content-Disposition attachment naming
 * filename.
 */
void admin_download(admin_call_t *call, const char *content_type, const char *filename,
		    const char *data, size_t len);

/* ---- admin-session.c ---- */

/*
 * Checks the pp_admin cookie: a live session of an existing admin; slides its idle expiry.
 * Fills call->account, session and actor. Answers 401 not_signed_in and returns false.
 */
bool admin_authenticate(admin_call_t *call);
void admin_api_login(admin_call_t *call);
void admin_api_session(admin_call_t *call);
void admin_api_logout(admin_call_t *call);

/* ---- admin-dashboard.c ---- */

void admin_api_dashboard(admin_call_t *call);
/* The printer status fields (state, reasons, checked_at) of printer_id into obj. */
void admin_printer_status_json(admin_call_t *call, int64_t printer_id, json_t *obj);

/* ---- admin-settings.c ---- */

void admin_api_settings_list(admin_call_t *call);
void admin_api_setting_put(admin_call_t *call);
void admin_api_company_code(admin_call_t *call);
void admin_api_company_code_regenerate(admin_call_t *call);

/* ---- admin-mail.c: mail accounts and the TLS certificate ---- */

void admin_api_mail_accounts(admin_call_t *call);
void admin_api_mail_account_test(admin_call_t *call);
void admin_api_tls(admin_call_t *call);

/* ---- admin-printers.c ---- */

void admin_api_printers_list(admin_call_t *call);
void admin_api_printer_add(admin_call_t *call);
void admin_api_printer_patch(admin_call_t *call);
void admin_api_printer_delete(admin_call_t *call);
void admin_api_printer_test_page(admin_call_t *call);
void admin_api_printer_panel_token(admin_call_t *call);

/* ---- admin-discovery.c ---- */

void admin_api_discovery(admin_call_t *call);
void admin_api_discovery_probe(admin_call_t *call);

/* ---- admin-users.c ---- */

void admin_api_users_list(admin_call_t *call);
void admin_api_user_add(admin_call_t *call);
void admin_api_user_approve(admin_call_t *call);
void admin_api_user_disable(admin_call_t *call);
void admin_api_user_enable(admin_call_t *call);
void admin_api_user_new_code(admin_call_t *call);
void admin_api_user_delete(admin_call_t *call);

/* ---- admin-jobs.c ---- */

void admin_api_jobs_list(admin_call_t *call);
void admin_api_job_cancel(admin_call_t *call);
void admin_api_job_delete(admin_call_t *call);
void admin_api_job_reprint(admin_call_t *call);

/* ---- admin-reports-http.c ---- */

void admin_api_reports(admin_call_t *call);
void admin_api_accounting_export(admin_call_t *call);

/* ---- admin-audit.c ---- */

void admin_api_audit(admin_call_t *call);

/* ---- admin-accounts.c ---- */

void admin_api_admins_list(admin_call_t *call);
void admin_api_admin_add(admin_call_t *call);
void admin_api_admin_delete(admin_call_t *call);

#endif
