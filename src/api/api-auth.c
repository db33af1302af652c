/*
 * api-auth.c - who is calling: enrolment, sign-in, bearer tokens, sign-out.
 *
 * Enrolment (POST /enrol) takes the company code and an address; the sender policy decides
 * (an unknown address may be created enabled, pending, or refused), and the "new code" mail
 * is queued in the outbox (mail-out.h), which draws the new confirmation code when it renders
 * the message. Sign-in (POST /login) takes email + code, the code alone where
 * the admin allows it (users.release_auth = code), or directory credentials when a company
 * directory is set up, and answers an opaque app token (tokens.h) with the admin's lifetime;
 * a "stay signed in" client slides it with POST /renew. Sign-out revokes it.
 *
 * Guessing is slowed three ways, the same functions as IPP's sign-in (ipp-auth.c): the
 * database throttle per source address and per account (a lockout after auth.max_failures,
 * shared by every host, logged as auth.locked for the admin), this host's growing delays
 * between failures (api-limits.c), and a per-source request rate. A locked key is refused
 * (429 + Retry-After) before the secret is looked at. A success resets the account's keys,
 * never the source's (one valid account must not launder a guesser's address).
 *
 * Tokens are checked against the database at most every API_TOKEN_RECHECK_S per token: in
 * between, a small cache keyed by a keyed hash of the token answers (a job list costs one
 * query, not three and a write). Expiry is checked on every request; sign-out here evicts at
 * once; a revocation elsewhere (the command line) takes effect within API_TOKEN_RECHECK_S.
 *
 * Web sessions (api-private.h): with "session":"cookie" the sign-in answer sets the token as
 * an HttpOnly cookie and leaves it out of the body. A sign-in at a panel (X-Panel-Token) takes
 * the panel's modes, sets the panel's cookie, and its session ends panel.idle_timeout_s after
 * its last use.
 */
#include "api/api-private.h"

#include "core/codes.h"
#include "core/sender-policy.h"
#include "core/settings.h"
#include "core/throttle.h"
#include "directory/directory.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail-out.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_TOKEN_SLOTS 1024u
#define API_TOKEN_RECHECK_S 30
/* A panel session's expiry is slid when it is this much older than a fresh one. */
#define API_PANEL_SLIDE_STEP_S 5

typedef struct {
	char key[CRYPTO_HASH_HEX_LEN + 1]; /* keyed hash of the token; "" = free */
	pp_user_t user;
	int64_t expires_at;
	int64_t checked_at;
} api_token_entry_t;

struct api_token_cache {
	pthread_mutex_t lock;
	uint8_t key[CRYPTO_KEY_BYTES]; /* random per process: cache keys mean nothing elsewhere */
	api_token_entry_t slots[API_TOKEN_SLOTS];
};

int api_token_cache_new(api_token_cache_t **cache_r, char *error, size_t error_size)
{
	api_token_cache_t *c = calloc(1, sizeof(*c));
	if (c == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		(void)str_format(error, error_size, "api: out of memory for the token cache");
		return -1;
	}
	crypto_random_bytes(c->key, sizeof(c->key));
	*cache_r = c;
	return 0;
}

void api_token_cache_free(api_token_cache_t **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	(void)pthread_mutex_destroy(&(*cache)->lock);
	crypto_wipe(*cache, sizeof(**cache));
	free(*cache);
	*cache = NULL;
}

/* The cache key of token and its slot. */
static api_token_entry_t *api_token_slot(api_token_cache_t *c, const char *token,
					 char key[CRYPTO_HASH_HEX_LEN + 1])
{
	crypto_keyed_hash_hex(c->key, token, strlen(token), key);
	unsigned index = 0;
	for (int i = 0; i < 6; i++)
		index = index * 16u + (unsigned)str_hex_digit(key[i]);
	return &c->slots[index % API_TOKEN_SLOTS];
}

/* A fresh enough entry for token: fills user and expiry. */
static bool api_token_cached(api_token_cache_t *c, const char *token, int64_t now,
			     pp_user_t *user_r, int64_t *expires_at_r)
{
	char key[CRYPTO_HASH_HEX_LEN + 1];
	bool is_hit = false;
	if (pthread_mutex_lock(&c->lock) != 0)
		return false;
	const api_token_entry_t *e = api_token_slot(c, token, key);
	if (crypto_str_equal(e->key, key) && now - e->checked_at < API_TOKEN_RECHECK_S &&
	    now >= e->checked_at && e->expires_at > now) {
		*user_r = e->user;
		*expires_at_r = e->expires_at;
		is_hit = true;
	}
	(void)pthread_mutex_unlock(&c->lock);
	return is_hit;
}

/* Stores (user != NULL) or evicts token's entry. */
static void api_token_store(api_token_cache_t *c, const char *token, const pp_user_t *user,
			    int64_t expires_at, int64_t now)
{
	char key[CRYPTO_HASH_HEX_LEN + 1];
	if (pthread_mutex_lock(&c->lock) != 0)
		return;
	api_token_entry_t *e = api_token_slot(c, token, key);
	if (user != NULL) {
		memcpy(e->key, key, sizeof(e->key));
		e->user = *user;
		e->expires_at = expires_at;
		e->checked_at = now;
	} else if (crypto_str_equal(e->key, key)) {
		memset(e, 0, sizeof(*e));
	}
	(void)pthread_mutex_unlock(&c->lock);
}

/*
 * The token the request carries, or NULL. Borrowed. A header wins over the cookies; the
 * panel's cookie over the portal's (a kiosk browser has only the first).
 */
static const char *api_bearer(api_call_t *call)
{
	const char *header = http_request_header(call->req, "Authorization");
	if (header != NULL) {
		if (strncasecmp(header, "Bearer ", 7) != 0)
			return NULL;
		header += 7;
		while (*header == ' ')
			header++;
		return header;
	}
	const char *panel = http_request_cookie(call->req, API_PANEL_COOKIE);
	if (panel != NULL && panel[0] != '\0') {
		call->via_cookie = true;
		call->is_panel_session = true;
		return panel;
	}
	const char *session = http_request_cookie(call->req, API_SESSION_COOKIE);
	if (session != NULL && session[0] != '\0') {
		call->via_cookie = true;
		return session;
	}
	/* EventSource cannot send headers: the event stream may carry the token in its URL. */
	if (call->route->handler == api_events_stream)
		return http_request_query(call->req, "access_token");
	return NULL;
}

/* True for the methods that change something (they need the CSRF header with a cookie). */
static bool api_method_writes(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

/*
 * A panel session lives panel.idle_timeout_s after its last use: slide its expiry, at most
 * once every few seconds (each slide is a write). A failure is logged; the session then ends
 * at its earlier expiry.
 */
static void api_panel_session_slide(api_call_t *call, int64_t now)
{
	pp_core_t *core = call->api->cfg.core;
	char modes[SETTINGS_VALUE_MAX], error[API_ERROR_MAX];
	bool hide_code = false;
	int64_t idle_s = 60;
	if (api_panel_settings(core, modes, &hide_code, &idle_s, error, sizeof(error)) < 0) {
		log_warn("api.panel_slide_failed error=\"%s\"", error);
		return;
	}
	if (call->token_expires_at - now > idle_s - API_PANEL_SLIDE_STEP_S)
		return;
	bool is_renewed = false;
	int64_t expires_at = 0;
	if (tokens_slide(core, PP_TOKEN_APP, call->token, idle_s, &is_renewed, &expires_at,
			 error, sizeof(error)) < 0) {
		log_warn("api.panel_slide_failed error=\"%s\"", error);
		return;
	}
	if (is_renewed) {
		call->token_expires_at = expires_at;
		api_token_store(call->api->tokens, call->token, &call->user, expires_at, now);
	}
}

bool api_authenticate(api_call_t *call)
{
	const char *token = api_bearer(call);
	if (token == NULL || token[0] == '\0') {
		api_pending(call, 401, "unauthorized",
			    "Sign in first, then send the token: Authorization: Bearer <token>.", 0);
		return false;
	}
	if (call->via_cookie && api_method_writes(http_request_method(call->req))) {
		const char *csrf = http_request_header(call->req, API_CSRF_HEADER);
		if (csrf == NULL || strcmp(csrf, API_CSRF_VALUE) != 0) {
			api_pending(call, 403, "csrf",
				    "A change made with a session cookie needs the header "
				    "X-Requested-With: pullprint; reload the app.",
				    0);
			return false;
		}
	}
	if (strlen(token) != TOKENS_TEXT_LEN || !str_has_prefix(token, "ppa_") ||
	    !str_copy(call->token, sizeof(call->token), token)) {
		api_pending(call, 401, "invalid_token",
			    "The token is not a Pullprint app token; sign in again.", 0);
		return false;
	}
	pp_api_t *api = call->api;
	pp_core_t *core = api->cfg.core;
	int64_t now = core_now(core);
	if (api_token_cached(api->tokens, call->token, now, &call->user, &call->token_expires_at)) {
		if (call->is_panel_session)
			api_panel_session_slide(call, now);
		return true;
	}

	char error[API_ERROR_MAX];
	pp_token_info_t info;
	bool is_valid = false, is_found = false;
	if (tokens_validate(core, PP_TOKEN_APP, call->token, &info, &is_valid, error,
			    sizeof(error)) < 0 ||
	    (is_valid &&
	     users_get_by_id(core, info.user_id, &call->user, &is_found, error, sizeof(error)) < 0)) {
		log_error("api.auth_error error=\"%s\"", error);
		api_pending(call, 503, "unavailable", "The server cannot check tokens now; try again.",
			    5);
		return false;
	}
	if (!is_valid || !is_found) {
		api_token_store(api->tokens, call->token, NULL, 0, now);
		api_pending(call, 401, "invalid_token",
			    "The token is unknown, signed out or expired; sign in again.", 0);
		return false;
	}
	if (call->user.state != PP_USER_ENABLED) {
		api_token_store(api->tokens, call->token, NULL, 0, now);
		api_pending(call, 403, "account_disabled",
			    "This account may not print now; ask your administrator.", 0);
		return false;
	}
	call->token_expires_at = info.expires_at;
	api_token_store(api->tokens, call->token, &call->user, info.expires_at, now);
	if (call->is_panel_session)
		api_panel_session_slide(call, now);
	return true;
}

/*
 * Sets (max_age_s > 0: persistent; 0: for the browser session; < 0: deleted) the cookie
 * name with value. Returns 0 or -1.
 */
static int api_set_cookie(api_call_t *call, const char *name, const char *value,
			  int64_t max_age_s)
{
	char cookie[TOKENS_TEXT_MAX + 128], age[40] = "";
	if (max_age_s != 0 &&
	    !str_format(age, sizeof(age), "; Max-Age=%lld", (long long)(max_age_s > 0 ? max_age_s
										      : 0)))
		return -1;
	bool ok = str_format(cookie, sizeof(cookie),
			     "%s=%s; Path=/api/; HttpOnly; Secure; SameSite=Strict%s", name, value,
			     age) &&
		  http_response_header(call->req, "Set-Cookie", cookie) == 0;
	crypto_wipe(cookie, sizeof(cookie));
	return ok ? 0 : -1;
}

/* ---- helpers ---- */

/* A string member of the body, or NULL when absent; false (after 400) when not a string. */
static bool api_body_string(api_call_t *call, const char *name, const char **value_r)
{
	json_t *v = json_object_get(call->body, name);
	*value_r = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		char message[128];
		(void)str_format(message, sizeof(message), "%s must be a string.", name);
		api_error(call, 400, "bad_request", message, 0);
		return false;
	}
	*value_r = json_string_value(v);
	return true;
}

static const char *api_source(api_call_t *call)
{
	const char *addr = http_request_remote_addr(call->req);
	return addr != NULL && addr[0] != '\0' ? addr : "unknown";
}

/*
 * Whether key may try now: the database's lockout first, then this host's delay. Answers
 * 429 (or 503) and returns false otherwise.
 */
static bool api_key_allowed(api_call_t *call, const char *key)
{
	if (key[0] == '\0')
		return true;
	pp_core_t *core = call->api->cfg.core;
	char error[API_ERROR_MAX];
	bool is_allowed = true;
	int64_t retry = 0;
	if (throttle_check(core, key, &is_allowed, &retry, error, sizeof(error)) < 0) {
		log_error("api.throttle_error error=\"%s\"", error);
		api_error(call, 503, "unavailable", "The server cannot check sign-ins now; try again.",
			  5);
		return false;
	}
	if (is_allowed)
		is_allowed = api_delay_check(call->api->limits, key, api_now_ms(), &retry);
	if (!is_allowed) {
		log_info("api.auth_throttled remote=%s key=%.5s retry_after=%lld", api_source(call),
			 key, (long long)retry);
		api_error(call, 429, "throttled",
			  "Too many failed attempts; wait before you try again (see Retry-After).",
			  retry > 0 ? retry : 1);
		return false;
	}
	return true;
}

/* Counts a failure on the keys given (may be ""); returns the longest lockout now in force. */
static int64_t api_count_failure(api_call_t *call, const char *src_key, const char *acct_key)
{
	pp_core_t *core = call->api->cfg.core;
	const char *keys[] = {src_key, acct_key};
	int64_t longest = 0;
	for (size_t i = 0; i < 2; i++) {
		if (keys[i][0] == '\0')
			continue;
		char error[API_ERROR_MAX];
		bool is_locked = false;
		int64_t retry = 0;
		if (throttle_failure(core, keys[i], &is_locked, &retry, error, sizeof(error)) < 0)
			log_warn("api.throttle_failed error=\"%s\"", error);
		api_delay_failure(call->api->limits, keys[i], api_now_ms());
		if (is_locked && retry > longest)
			longest = retry;
	}
	return longest;
}

/* Whether secret could be a confirmation code: CODES_MIN_LEN..CODES_MAX_LEN digits. */
static bool api_is_code_shaped(const char *secret)
{
	size_t len = strlen(secret);
	return len >= CODES_MIN_LEN && len <= CODES_MAX_LEN && strspn(secret, "0123456789") == len;
}

/* The user object answers carry. New reference. */
static json_t *api_user_json(const pp_user_t *user)
{
	return json_pack("{s:s, s:s, s:s}", "email", user->email, "display_name",
			 user->display_name, "department", user->department);
}

/*
 * Whether directory sign-in works here: the program has the directory module and an enabled
 * connection exists. A storage error reads as no.
 */
bool api_has_directory(pp_core_t *core)
{
	if (core->directory_signin == NULL || core->directory_has_enabled == NULL)
		return false;
	bool has = false;
	char error[API_ERROR_MAX];
	if (core->directory_has_enabled(core, &has, error, sizeof(error)) < 0) {
		log_warn("api.directory_check_failed error=\"%s\"", error);
		return false;
	}
	return has;
}

/* ---- operations ---- */

/* GET /login-options: which sign-ins this server takes (the apps show the matching form). */
void api_login_options(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	char mode[SETTINGS_VALUE_MAX], error[API_ERROR_MAX];
	int64_t code_length = 6;
	if (settings_get_string(core, "users.release_auth", mode, sizeof(mode), error,
				sizeof(error)) < 0 ||
	    settings_get_int(core, "users.code_length", &code_length, error, sizeof(error)) < 0) {
		api_internal(call, "api.settings_failed", error);
		return;
	}
	json_t *modes = json_pack("[s]", "email_code");
	if (modes != NULL && strcmp(mode, "code") == 0)
		(void)json_array_append_new(modes, json_string("code"));
	if (modes != NULL && api_has_directory(core))
		(void)json_array_append_new(modes, json_string("directory"));
	api_json(call, 200,
		 json_pack("{s:o?, s:s, s:I, s:b}", "modes", modes, "release_auth", mode,
			   "code_length", (json_int_t)code_length, "enrolment", 1));
}

/* POST /enrol {company_code, email}. */
void api_enrol(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	const char *company = NULL, *email = NULL;
	if (!api_body_string(call, "company_code", &company) ||
	    !api_body_string(call, "email", &email))
		return;
	if (company == NULL || email == NULL) {
		api_error(call, 400, "bad_request", "Send {\"company_code\": …, \"email\": …}.", 0);
		return;
	}
	char error[API_ERROR_MAX], src_key[THROTTLE_KEY_MAX];
	if (throttle_key_source(api_source(call), src_key, error, sizeof(error)) < 0)
		src_key[0] = '\0';
	if (!api_key_allowed(call, src_key))
		return;
	bool is_valid = false;
	if (company_code_verify(core, company, &is_valid, error, sizeof(error)) < 0) {
		api_internal(call, "api.enrol_failed", error);
		return;
	}
	if (!is_valid) {
		int64_t retry = api_count_failure(call, src_key, "");
		log_info("api.enrol_refused remote=%s reason=company_code", api_source(call));
		if (retry > 0)
			api_error(call, 429, "throttled",
				  "Too many failed attempts; wait before you try again.", retry);
		else
			api_error(call, 403, "invalid_company_code",
				  "The company code is not right; ask your administrator for it.", 0);
		return;
	}
	char canonical[USERS_EMAIL_MAX];
	if (users_canonical_email(email, canonical, error, sizeof(error)) < 0) {
		api_error(call, 400, "invalid_email", "That is not an email address this server takes.",
			  0);
		return;
	}
	/* Each enrolment of an address counts: a code mailed every minute is a nuisance. */
	char acct_key[THROTTLE_KEY_MAX], enrol_key[THROTTLE_KEY_MAX];
	throttle_key_account(core, canonical, acct_key);
	(void)str_format(enrol_key, sizeof(enrol_key), "enrol:%s", acct_key + strlen("acct:"));
	if (!api_key_allowed(call, enrol_key))
		return;

	pp_sender_result_t policy;
	if (sender_policy_decide(core, canonical, "api", &policy, error, sizeof(error)) < 0) {
		api_internal(call, "api.enrol_failed", error);
		return;
	}
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, canonical, tag);
	if (policy.decision == PP_SENDER_REJECT || !policy.has_user) {
		log_info("api.enrol_refused remote=%s user=%s reason=%s", api_source(call), tag,
			 sender_reason_name(policy.reason));
		api_error(call, 403, "not_allowed",
			  "This address may not print here; ask your administrator.", 0);
		return;
	}
	if (mail_outbox_queue_new_code(core, &policy.user, error, sizeof(error)) < 0) {
		api_internal(call, "api.enrol_mail_failed", error);
		return;
	}
	bool is_locked = false;
	if (throttle_failure(core, enrol_key, &is_locked, NULL, error, sizeof(error)) < 0)
		log_warn("api.throttle_failed error=\"%s\"", error);
	bool is_pending = policy.user.state == PP_USER_PENDING;
	log_info("api.enrolled remote=%s user=%s created=%s state=%s", api_source(call), tag,
		 policy.is_user_created ? "yes" : "no", users_state_name(policy.user.state));
	api_json(call, 202,
		 json_pack("{s:s, s:s}", "status", is_pending ? "pending_approval" : "code_sent",
			   "message",
			   is_pending ? "A confirmation code is on its way; an administrator must "
					"approve the account before it can sign in."
				      : "A confirmation code is on its way to that address."));
}

typedef enum { API_LOGIN_EMAIL_CODE, API_LOGIN_CODE, API_LOGIN_DIRECTORY } api_login_mode_t;

static const char *api_login_mode_name(api_login_mode_t mode)
{
	return mode == API_LOGIN_CODE ? "code" : mode == API_LOGIN_DIRECTORY ? "directory"
									      : "email_code";
}

/*
 * Checks the credentials of a sign-in. Returns 1 with *user_r when right, 0 when wrong,
 * 2 when a directory could not be asked, -1 on a storage error (error filled).
 */
static int api_login_verify(pp_core_t *core, api_login_mode_t mode, const char *account,
			    const char *secret, pp_user_t *user_r, char *error,
			    size_t error_size)
{
	bool is_valid = false;
	if (mode == API_LOGIN_EMAIL_CODE) {
		if (api_is_code_shaped(secret) &&
		    codes_verify(core, account, secret, user_r, &is_valid, error, error_size) < 0)
			return -1;
		return is_valid ? 1 : 0;
	}
	if (mode == API_LOGIN_CODE) {
		if (api_is_code_shaped(secret) &&
		    codes_find_user(core, secret, user_r, &is_valid, error, error_size) < 0)
			return -1;
		return is_valid ? 1 : 0;
	}
	pp_directory_result_t found;
	memset(&found, 0, sizeof(found));
	if (core->directory_signin(core, account, secret, "api", &found, error, error_size) < 0)
		return -1;
	int rc = found.outcome == PP_DIRECTORY_OK            ? 1
		 : found.outcome == PP_DIRECTORY_UNAVAILABLE ? 2
							     : 0;
	if (rc == 1)
		*user_r = found.user;
	if (rc == 2)
		log_error("api.directory_unavailable directory=%s error=\"%s\"", found.directory,
			  found.reason);
	crypto_wipe(&found, sizeof(found));
	return rc;
}

/* POST /login {email, code} | {code} | {login, password}, with "stay_signed_in". */
void api_login(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	const char *email = NULL, *code = NULL, *login = NULL, *password = NULL;
	if (!api_body_string(call, "email", &email) || !api_body_string(call, "code", &code) ||
	    !api_body_string(call, "login", &login) ||
	    !api_body_string(call, "password", &password))
		return;
	const char *session = NULL;
	if (!api_body_string(call, "session", &session))
		return;
	if (session != NULL && strcmp(session, "cookie") != 0 && strcmp(session, "bearer") != 0) {
		api_error(call, 400, "bad_request", "session must be \"cookie\" or \"bearer\".", 0);
		return;
	}
	bool is_cookie = session != NULL && strcmp(session, "cookie") == 0;
	json_t *stay = json_object_get(call->body, "stay_signed_in");
	if (stay != NULL && !json_is_boolean(stay)) {
		api_error(call, 400, "bad_request", "stay_signed_in must be true or false.", 0);
		return;
	}
	pp_printer_t panel_printer;
	int at_panel = api_panel_printer(call, &panel_printer);
	if (at_panel < 0)
		return;
	api_login_mode_t mode;
	const char *account = NULL, *secret = NULL;
	if (login != NULL && password != NULL && email == NULL && code == NULL) {
		mode = API_LOGIN_DIRECTORY;
		account = login;
		secret = password;
	} else if (email != NULL && code != NULL && login == NULL && password == NULL) {
		mode = API_LOGIN_EMAIL_CODE;
		account = email;
		secret = code;
	} else if (code != NULL && email == NULL && login == NULL && password == NULL) {
		mode = API_LOGIN_CODE;
		secret = code;
	} else {
		api_error(call, 400, "bad_request",
			  "Send {\"email\", \"code\"}, {\"code\"} or {\"login\", \"password\"}.", 0);
		return;
	}
	if (strlen(secret) >= DIRECTORY_PASSWORD_MAX ||
	    (account != NULL && strlen(account) >= DIRECTORY_LOGIN_MAX)) {
		api_error(call, 400, "bad_request", "The credentials are too long.", 0);
		return;
	}

	/* Is this way of signing in allowed here? */
	char release_auth[SETTINGS_VALUE_MAX], error[API_ERROR_MAX];
	if (settings_get_string(core, "users.release_auth", release_auth, sizeof(release_auth),
				error, sizeof(error)) < 0) {
		api_internal(call, "api.settings_failed", error);
		return;
	}
	char panel_modes[SETTINGS_VALUE_MAX] = "";
	bool hide_code = false;
	int64_t panel_idle_s = 0;
	if (at_panel == 1 && api_panel_settings(core, panel_modes, &hide_code, &panel_idle_s,
						error, sizeof(error)) < 0) {
		api_internal(call, "api.settings_failed", error);
		return;
	}
	if (at_panel == 1 && !api_panel_mode_allowed(panel_modes, api_login_mode_name(mode))) {
		api_error(call, 403, "mode_not_allowed",
			  "This panel does not take this way of signing in; use the form it shows.",
			  0);
		return;
	}
	if ((mode == API_LOGIN_CODE && strcmp(release_auth, "code") != 0) ||
	    (mode == API_LOGIN_DIRECTORY && !api_has_directory(core))) {
		api_error(call, 403, "mode_not_allowed",
			  mode == API_LOGIN_CODE
				  ? "This server wants your email address with the code."
				  : "This server has no company directory; sign in with your email "
				    "address and code.",
			  0);
		return;
	}

	/* A locked source or account is refused before the secret is looked at. */
	char src_key[THROTTLE_KEY_MAX], acct_key[THROTTLE_KEY_MAX] = "";
	if (throttle_key_source(api_source(call), src_key, error, sizeof(error)) < 0)
		src_key[0] = '\0';
	if (account != NULL)
		throttle_key_account(core, account, acct_key);
	if (!api_key_allowed(call, src_key) || !api_key_allowed(call, acct_key))
		return;

	pp_user_t user;
	memset(&user, 0, sizeof(user));
	int rc = api_login_verify(core, mode, account, secret, &user, error, sizeof(error));
	if (rc < 0) {
		api_internal(call, "api.login_failed", error);
		return;
	}
	if (rc != 1) {
		int64_t retry = api_count_failure(call, src_key, acct_key);
		log_info("api.login_failed remote=%s mode=%s", api_source(call),
			 api_login_mode_name(mode));
		if (rc == 2)
			api_error(call, 503, "directory_unavailable",
				  "The company directory cannot be asked now; try again later.", 30);
		else if (retry > 0)
			api_error(call, 429, "throttled",
				  "Too many failed attempts; wait before you try again.", retry);
		else
			api_error(call, 401, "invalid_credentials",
				  "These credentials are not right.", 0);
		return;
	}
	if (acct_key[0] != '\0') {
		if (throttle_reset(core, acct_key, error, sizeof(error)) < 0)
			log_warn("api.throttle_reset_failed error=\"%s\"", error);
		api_delay_reset(call->api->limits, acct_key);
	}

	char token[TOKENS_TEXT_MAX];
	int64_t expires_at = 0;
	if (tokens_issue(core, PP_TOKEN_APP, user.id, token, NULL, &expires_at, error,
			 sizeof(error)) < 0) {
		api_internal(call, "api.token_failed", error);
		return;
	}
	/* At a panel the session is short and never "stay signed in". */
	bool is_stay = stay != NULL && json_is_true(stay) && at_panel == 0;
	bool is_slid = false;
	if (at_panel == 1 && tokens_slide(core, PP_TOKEN_APP, token, panel_idle_s, &is_slid,
					  &expires_at, error, sizeof(error)) < 0) {
		crypto_wipe(token, sizeof(token));
		api_internal(call, "api.token_failed", error);
		return;
	}
	if (is_cookie &&
	    api_set_cookie(call, at_panel == 1 ? API_PANEL_COOKIE : API_SESSION_COOKIE, token,
			   is_stay ? expires_at - core_now(core) : 0) < 0) {
		crypto_wipe(token, sizeof(token));
		api_internal(call, "api.cookie_failed", "cannot set the session cookie");
		return;
	}
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, user.email, tag);
	if (at_panel == 1)
		log_info("api.signed_in remote=%s user=%s mode=%s panel_printer=%lld",
			 api_source(call), tag, api_login_mode_name(mode),
			 (long long)panel_printer.id);
	else
		log_info("api.signed_in remote=%s user=%s mode=%s", api_source(call), tag,
			 api_login_mode_name(mode));
	json_t *answer = json_pack("{s:I, s:b, s:o?}", "expires_at", (json_int_t)expires_at,
				   "stay_signed_in", is_stay, "user", api_user_json(&user));
	if (answer != NULL && !is_cookie &&
	    (json_object_set_new(answer, "token", json_string(token)) < 0 ||
	     json_object_set_new(answer, "token_type", json_string("Bearer")) < 0)) {
		json_decref(answer);
		answer = NULL;
	}
	crypto_wipe(token, sizeof(token));
	api_json(call, 200, answer);
}

/* POST /logout: the token stops working at once. */
void api_logout(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	char error[API_ERROR_MAX];
	api_token_store(call->api->tokens, call->token, NULL, 0, core_now(core));
	if (tokens_revoke(core, call->token, NULL, error, sizeof(error)) < 0) {
		api_internal(call, "api.logout_failed", error);
		return;
	}
	if (call->via_cookie &&
	    api_set_cookie(call, call->is_panel_session ? API_PANEL_COOKIE : API_SESSION_COOKIE,
			   "", -1) < 0)
		log_warn("api.cookie_clear_failed");
	(void)http_respond_bytes(call->req, 204, NULL, "", 0);
}

/* POST /renew: "stay signed in" slides the token's expiry by the admin's lifetime. */
void api_renew(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	char error[API_ERROR_MAX];
	bool is_renewed = false;
	int64_t expires_at = 0;
	if (tokens_renew(core, PP_TOKEN_APP, call->token, &is_renewed, &expires_at, error,
			 sizeof(error)) < 0) {
		api_internal(call, "api.renew_failed", error);
		return;
	}
	if (!is_renewed) {
		api_token_store(call->api->tokens, call->token, NULL, 0, core_now(core));
		api_error(call, 401, "invalid_token", "The token has expired; sign in again.", 0);
		return;
	}
	api_token_store(call->api->tokens, call->token, &call->user, expires_at, core_now(core));
	/* A portal that stays signed in keeps its cookie as long as the token. */
	if (call->via_cookie && !call->is_panel_session &&
	    api_set_cookie(call, API_SESSION_COOKIE, call->token, expires_at - core_now(core)) < 0)
		log_warn("api.cookie_renew_failed");
	api_json(call, 200, json_pack("{s:I}", "expires_at", (json_int_t)expires_at));
}

/* GET /me: who the token stands for. */
void api_me(api_call_t *call)
{
	api_json(call, 200,
		 json_pack("{s:o?, s:I}", "user", api_user_json(&call->user), "token_expires_at",
			   (json_int_t)call->token_expires_at));
}
