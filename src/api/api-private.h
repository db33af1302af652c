/*
 * api-private.h - what the files of src/api share: the API object, one call (a request as
 * the handlers see it), the route table's handler type, the rate limits and sign-in delays,
 * the token cache, uploads, the event hub, and the JSON forms of jobs. No other folder
 * includes it.
 */
#ifndef PP_API_PRIVATE_H
#define PP_API_PRIVATE_H

#include "api/api.h"

#include "core/job.h"
#include "core/printers.h"
#include "core/settings.h"
#include "core/tokens.h"
#include "core/users.h"
#include "lib/crypto.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define API_ERROR_MAX 512
#define API_JSON_BODY_MAX (64u * 1024u) /* largest JSON request body */
#define API_LIST_DEFAULT 50             /* ?limit when absent */
#define API_LIST_MAX 100                /* ?limit at most */
#define API_PARAMS_MAX 2                /* {id}, {n} */
#define API_PARAM_MAX 64

typedef struct api_limits api_limits_t;
typedef struct api_token_cache api_token_cache_t;
typedef struct api_events api_events_t;
typedef struct api_upload api_upload_t;
typedef struct api_cache api_cache_t;

struct pp_api {
	pp_api_config_t cfg;
	api_limits_t *limits;
	api_token_cache_t *tokens;
	api_events_t *events;
	api_cache_t *cache;
};

/* Route flags. */
#define API_AUTH 0x1u        /* needs a bearer token: call->user is set */
#define API_BODY_JSON 0x2u   /* takes a JSON object body (call->body) */
#define API_BODY_UPLOAD 0x4u /* takes a document (multipart or raw), streamed to the spool */
#define API_LIMIT_WRITE 0x8u /* counts against the user's write rate */
#define API_LIMIT_AUTH 0x10u /* counts against the source's sign-in rate */
#define API_PRINT_NOW 0x20u  /* upload with a printer: released as soon as it is converted */

typedef struct api_call api_call_t;
typedef void (*api_handler_fn)(api_call_t *call);

typedef struct {
	const char *method;
	const char *pattern; /* path with {name} segments */
	unsigned flags;
	api_handler_fn handler;
} api_route_t;

/* One request on its way through the API. Lives in the request's data; freed with it. */
struct api_call {
	pp_api_t *api;
	pp_http_request_t *req;
	const api_route_t *route;
	char params[API_PARAMS_MAX][API_PARAM_MAX]; /* path segments matched by {…}, in order */
	size_t n_params;
	pp_user_t user;                 /* API_AUTH routes: the signed-in user */
	int64_t token_expires_at;       /* API_AUTH routes: when the token expires */
	char token[TOKENS_TEXT_MAX]; /* the bearer token as sent (wiped at the end) */
	bool via_cookie;             /* the token came in a session cookie, not a header */
	bool is_panel_session;       /* ... in the panel's cookie (API_PANEL_COOKIE) */
	/* JSON body being read (API_BODY_JSON), then parsed */
	char *body_buf;
	size_t body_len;
	json_t *body;
	api_upload_t *upload; /* API_BODY_UPLOAD */
	/* An answer decided before the body arrived, sent once it has been read (a client that
	   sends its whole body before it reads must not meet a closed connection). */
	bool has_pending;
	unsigned pending_status;
	char pending_code[48];
	char pending_message[256];
	int64_t pending_retry_after;
};

/* ---- api-router.c ---- */

/* Sends the uniform error; retry_after > 0 adds Retry-After (429, 503, 202). */
void api_error(api_call_t *call, unsigned status, const char *code, const char *message,
	       int64_t retry_after);
/* Sends body (stolen) with status; a NULL body (out of memory) becomes a 500. */
void api_json(api_call_t *call, unsigned status, json_t *body);
/* Logs error under event and answers 500 (or 503 when is_busy) without details. */
void api_internal(api_call_t *call, const char *event, const char *error);
/* Remembers an answer to send once the body has been read (see api_call_t). */
void api_pending(api_call_t *call, unsigned status, const char *code, const char *message,
		 int64_t retry_after);
/*
 * Reads ?limit and ?cursor. *limit_r 1..API_LIST_MAX (default API_LIST_DEFAULT), *cursor_r
 * 0 for the first page. Answers 400 and returns false on a bad value.
 */
bool api_page_params(api_call_t *call, size_t *limit_r, int64_t *cursor_r);
/* The routes (api-router.c's table) for the OpenAPI check; *count_r entries. */
const api_route_t *api_route_table(size_t *count_r);

/* ---- api-limits.c: per-host rate limits and growing sign-in delays ---- */

typedef enum {
	API_BUCKET_WRITE = 0, /* per user: uploads, releases, changes */
	API_BUCKET_AUTH,      /* per source address: enrol and sign-in attempts */
	API_BUCKET_COUNT,
} api_bucket_t;

int api_limits_new(api_limits_t **limits_r, char *error, size_t error_size);
void api_limits_free(api_limits_t **limits);
/*
 * Takes one request from key's bucket of kind. Returns true when allowed; false with
 * *retry_after_r (seconds, >= 1) when the bucket is empty. Thread-safe.
 */
bool api_limits_take(api_limits_t *limits, api_bucket_t kind, const char *key, int64_t now_ms,
		     int64_t *retry_after_r);
/*
 * Growing delays between failed sign-ins for key (a throttle key): whether an attempt may go
 * ahead now (else *retry_after_r seconds), recording a failure (the next delay doubles), and
 * forgetting key after a success. Thread-safe.
 */
bool api_delay_check(api_limits_t *limits, const char *key, int64_t now_ms,
		     int64_t *retry_after_r);
void api_delay_failure(api_limits_t *limits, const char *key, int64_t now_ms);
void api_delay_reset(api_limits_t *limits, const char *key);
/* The delay after failures consecutive failures, in seconds (0 for the first two). */
int64_t api_delay_seconds(unsigned failures);
/* Monotonic milliseconds. */
int64_t api_now_ms(void);

/* ---- api-cache.c: job-list answers kept for a second ---- */

#define API_CACHE_KEY_MAX 96

int api_cache_new(api_cache_t **cache_r, char *error, size_t error_size);
void api_cache_free(api_cache_t **cache);
/* Answers call from the cache when key is fresh there. Returns whether it answered. */
bool api_cache_answer(api_cache_t *cache, api_call_t *call, const char *key, int64_t now_ms);
/* Keeps body[len] (copied) as the answer for key, of user_id's. */
void api_cache_store(api_cache_t *cache, const char *key, int64_t user_id, const char *body,
		     size_t len, int64_t now_ms);
/* Forgets every answer of user_id's (one of their jobs changed). NULL-safe. */
void api_cache_forget_user(api_cache_t *cache, int64_t user_id);

/* ---- api-auth.c ---- */

/*
 * Web sessions: the portal's and the panel's tokens travel in HttpOnly, Secure,
 * SameSite=Strict cookies the page's scripts cannot read. A request authenticated by a cookie
 * must, for any method that changes something, carry API_CSRF_HEADER: API_CSRF_VALUE, which a
 * cross-site form or image cannot send (a cross-site script would need a CORS preflight the
 * server never grants).
 */
#define API_SESSION_COOKIE "pp_session"
#define API_PANEL_COOKIE "pp_panel"
#define API_CSRF_HEADER "X-Requested-With"
#define API_CSRF_VALUE "pullprint"
#define API_PANEL_TOKEN_HEADER "X-Panel-Token"

int api_token_cache_new(api_token_cache_t **cache_r, char *error, size_t error_size);
void api_token_cache_free(api_token_cache_t **cache);
/*
 * Checks the request's bearer token (Authorization: Bearer ppa_…, or ?access_token= on the
 * event stream, which browsers cannot give headers) and fills call->user. Answers (or makes
 * pending) 401 and returns false when it is missing, unknown, expired or its user is not
 * enabled.
 */
bool api_authenticate(api_call_t *call);
/* Whether directory sign-in works here (the module is in and a connection is enabled). */
bool api_has_directory(pp_core_t *core);
void api_enrol(api_call_t *call);
void api_login(api_call_t *call);
void api_login_options(api_call_t *call);
void api_logout(api_call_t *call);
void api_renew(api_call_t *call);
void api_me(api_call_t *call);

/* ---- api-jobs.c ---- */

void api_jobs_list(api_call_t *call);
void api_job_get(api_call_t *call);
void api_job_patch(api_call_t *call);
void api_job_delete(api_call_t *call);
void api_job_release(api_call_t *call);
void api_job_thumbnail(api_call_t *call);
void api_job_preview(api_call_t *call);
/* The summary form of a job (list, events, upload answers). New reference. */
json_t *api_job_summary(const pp_job_t *job);
/*
 * Reads the job named by call->params[0] if it is the caller's. Answers 404 (or 500) and
 * returns false otherwise: another user's job is indistinguishable from none.
 */
bool api_job_load(api_call_t *call, pp_job_t *job_r);

/* ---- api-upload.c ---- */

/* Called with the headers (before any body), each body chunk, and at the end (handler). */
bool api_upload_begin(api_call_t *call);
bool api_upload_write(api_call_t *call, const uint8_t *data, size_t len);
void api_upload_finish(api_call_t *call);
void api_upload_free(api_upload_t **upload);

/* ---- api-printers.c ---- */

/* The printer as the API shows it, with its cached status. New reference. */
json_t *api_printer_json(pp_core_t *core, const pp_printer_t *p);

void api_printers_list(api_call_t *call);
void api_printer_get(api_call_t *call);
/*
 * Resolves a printer named in a request: a JSON integer (id) or a string (name, alias, or
 * decimal id). Answers 404/409 and returns false when it does not exist or is disabled.
 */
bool api_printer_resolve(api_call_t *call, const json_t *value, const char *text,
			 int64_t *printer_id_r);

/* ---- api-panel.c: the panel app's view of its printer ---- */

/*
 * Finds the printer of the request's X-Panel-Token. Returns 1 with *printer_r, 0 when the
 * header is absent, -1 after answering (unknown token 401, storage error 500).
 */
int api_panel_printer(api_call_t *call, pp_printer_t *printer_r);
/* The panel's sign-in settings. Returns 0 or -1 with error. */
int api_panel_settings(pp_core_t *core, char modes_r[SETTINGS_VALUE_MAX], bool *hide_code_r,
		       int64_t *idle_timeout_s_r, char *error, size_t error_size);
/* True when mode ("code", "email_code", "directory") is in the comma list modes. */
bool api_panel_mode_allowed(const char *modes, const char *mode);
void api_panel_get(api_call_t *call);

/* ---- api-events.c ---- */

#define API_EVENTS_MAX 256     /* open event streams per host */
#define API_EVENTS_PER_USER 8  /* per user */

int api_events_start(pp_core_t *core, api_events_t **events_r, char *error, size_t error_size);
void api_events_stop(api_events_t **events);
void api_events_stream(api_call_t *call);
/* Tells the user's streams that a job is gone (deleted through the API). */
void api_events_deleted(api_events_t *events, int64_t user_id, const char *uuid);

/* ---- api-openapi.c ---- */

void api_openapi(api_call_t *call);

#endif
