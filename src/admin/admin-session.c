/*
 * admin-session.c - signing in to the admin console, the session cookie, signing out.
 *
 * A session is an admin session token (tokens.h, "pps_…", kept only as a keyed hash) in the
 * cookie pp_admin (HttpOnly, Secure, SameSite=Strict, no Max-Age: it ends with the browser).
 * Its expiry slides with each request (tokens_validate(), one write): idle for
 * admin.idle_timeout_s and it is gone; 12 hours after sign-in (TOKENS_ADMIN_SESSION_MAX_S) it
 * is gone whatever happens.
 * The CSRF token is derived from the session token (admin-csrf.c).
 *
 * Guessing is throttled per source address and per admin name (throttle.h): a locked key is
 * refused with 429 before the password is looked at. A success resets the name's key, never
 * the source's. Passwords and tokens are never logged; sign-in and sign-out are audited.
 *
 * Directory admins: when the name and password are not a local admin's and a company
 * directory is configured, the directory is asked (core->directory_signin, which checks the
 * password and reads the groups then and there: the admin group as the import stored it may
 * be out of date). A member of the admin group signs in as a shadow account
 * "dir:<address>" (admin-directory.h), actor "admin:dir:<address>"; one who is not is
 * refused like a wrong password, and loses any session still open. A directory that cannot
 * be reached gives 503; local admins sign in as ever.
 */
#include "admin/admin-private.h"

#include "admin/admin-directory.h"
#include "directory/directory.h"

#include "core/settings.h"
#include "core/throttle.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

/* The idle timeout from the settings (the default when it cannot be read). */
static int64_t admin_idle_seconds(pp_core_t *core)
{
	int64_t value = ADMIN_IDLE_DEFAULT_S;
	char error[ADMIN_ERROR_MAX];
	if (settings_get_int(core, "admin.idle_timeout_s", &value, error, sizeof(error)) < 0) {
		log_warn("admin.idle_setting_failed error=\"%s\"", error);
		value = ADMIN_IDLE_DEFAULT_S;
	}
	return value;
}

/* Reads the session cookie into call->session. False when there is none. */
static bool admin_session_cookie(admin_call_t *call)
{
	const char *cookie = http_request_cookie(call->req, ADMIN_COOKIE);
	return cookie != NULL && str_copy(call->session, sizeof(call->session), cookie) &&
	       str_has_prefix(call->session, "pps_");
}

/* The 401 every missing, unknown or expired session gets. */
static void admin_not_signed_in(admin_call_t *call)
{
	admin_error(call, 401, "not_signed_in",
		    "Sign in first (POST /api/v1/admin/login); sessions end after a while "
		    "without use.",
		    0);
}

bool admin_authenticate(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	if (!admin_session_cookie(call)) {
		admin_not_signed_in(call);
		return false;
	}
	pp_token_info_t info;
	bool is_valid = false;
	if (tokens_validate(call->core, PP_TOKEN_ADMIN_SESSION, call->session, &info, &is_valid,
			    error, sizeof(error)) < 0) {
		admin_internal(call, "admin.session_failed", error);
		return false;
	}
	bool found = false;
	if (is_valid &&
	    admin_account_get(call->core, info.admin_id, &call->account, &found, error,
			      sizeof(error)) < 0) {
		admin_internal(call, "admin.session_failed", error);
		return false;
	}
	if (!is_valid || !found) {
		admin_not_signed_in(call);
		return false;
	}
	if (!str_format(call->actor, sizeof(call->actor), "admin:%s", call->account.name))
		(void)str_copy(call->actor, sizeof(call->actor), "admin:?");
	return true;
}

/* Answers the session's description: the admin, the CSRF token and the idle timeout. */
static void admin_session_answer(admin_call_t *call)
{
	char csrf[ADMIN_CSRF_TEXT_MAX];
	admin_csrf_derive(call->core, call->session, csrf);
	json_t *body = json_pack("{s:{s:s, s:s}, s:s, s:I}", "admin", "name", call->account.name,
				 "role", admin_role_name(call->account.role), "csrf_token", csrf,
				 "idle_timeout_s", (json_int_t)admin_idle_seconds(call->core));
	crypto_wipe(csrf, sizeof(csrf));
	admin_json(call, 200, body);
}

/* Refuses a throttled sign-in with 429 and Retry-After. */
static void admin_throttled(admin_call_t *call, int64_t retry_after)
{
	admin_error(call, 429, "throttled",
		    "Too many failed sign-ins; wait for the time in Retry-After and try again.",
		    retry_after > 0 ? retry_after : 1);
}

/*
 * Counts a failed sign-in against both keys (source, name). Returns whether either is now
 * locked, with the longer wait in *retry_r.
 */
static bool admin_count_failure(admin_call_t *call, char keys[2][THROTTLE_KEY_MAX],
				int64_t *retry_r)
{
	char error[ADMIN_ERROR_MAX];
	bool is_locked = false;
	for (size_t i = 0; i < 2; i++) {
		bool locked = false;
		int64_t r = 0;
		if (throttle_failure(call->core, keys[i], &locked, &r, error, sizeof(error)) < 0)
			log_warn("admin.throttle_failed error=\"%s\"", error);
		if (locked) {
			is_locked = true;
			*retry_r = r > *retry_r ? r : *retry_r;
		}
	}
	return is_locked;
}

/* Records a failed sign-in against both keys and answers 401 or 429. */
static void admin_login_failed(admin_call_t *call, char keys[2][THROTTLE_KEY_MAX])
{
	int64_t retry = 0;
	bool is_locked = admin_count_failure(call, keys, &retry);
	log_info("admin.login_failed remote=%s locked=%s", http_request_remote_addr(call->req),
		 is_locked ? "yes" : "no");
	if (is_locked) {
		admin_throttled(call, retry);
		return;
	}
	admin_error(call, 401, "invalid_credentials",
		    "The name or the password is wrong; check both and try again.", 0);
}

/* What admin_login_directory() concluded. */
typedef enum {
	ADMIN_DIRECTORY_REFUSED = 0, /* no directory, unknown login, wrong password, not admin */
	ADMIN_DIRECTORY_SIGNED_IN,   /* call->account is the shadow account */
	ADMIN_DIRECTORY_DOWN,        /* a directory that might know could not be asked */
	ADMIN_DIRECTORY_ERROR,       /* answered 500 already */
} admin_directory_login_t;

/*
 * Asks the company directory whether login + password is a member of an admin group; fills
 * call->account with the shadow account when so.
 */
static admin_directory_login_t admin_login_directory(admin_call_t *call, const char *login,
						     const char *password)
{
	pp_core_t *core = call->core;
	if (core->directory_signin == NULL)
		return ADMIN_DIRECTORY_REFUSED;
	char error[ADMIN_ERROR_MAX];
	pp_directory_result_t found;
	memset(&found, 0, sizeof(found));
	if (core->directory_signin(core, login, password, "admin", &found, error,
				   sizeof(error)) < 0) {
		admin_internal(call, "admin.login_error", error);
		return ADMIN_DIRECTORY_ERROR;
	}
	admin_directory_login_t result = ADMIN_DIRECTORY_REFUSED;
	if (found.outcome == PP_DIRECTORY_UNAVAILABLE) {
		log_error("admin.directory_unavailable directory=%s error=\"%s\"", found.directory,
			  found.reason);
		result = ADMIN_DIRECTORY_DOWN;
	} else if (found.outcome == PP_DIRECTORY_OK && !found.is_admin) {
		/* Right password, but not (or no longer) in the admin group. */
		size_t revoked = 0;
		if (admin_directory_revoke(core, found.user.email, &revoked, error,
					   sizeof(error)) < 0)
			log_warn("admin.directory_revoke_failed error=\"%s\"", error);
		log_info("admin.directory_not_admin directory=%s sessions_ended=%zu",
			 found.directory, revoked);
	} else if (found.outcome == PP_DIRECTORY_OK) {
		bool is_created = false;
		int rc = admin_directory_account(core, found.user.email, found.directory,
						 &call->account, &is_created, error, sizeof(error));
		if (rc < 0) {
			admin_internal(call, "admin.login_error", error);
			result = ADMIN_DIRECTORY_ERROR;
		} else if (rc == ADMIN_DIRECTORY_TOO_LONG) {
			log_warn("admin.directory_name_too_long directory=%s", found.directory);
		} else {
			result = ADMIN_DIRECTORY_SIGNED_IN;
		}
	}
	crypto_wipe(&found, sizeof(found));
	return result;
}

/* Refuses a sign-in while the directory is down: 503, or 429 once the keys are locked. */
static void admin_login_directory_down(admin_call_t *call, char keys[2][THROTTLE_KEY_MAX])
{
	/* The local check failed too: a guess costs a try even while the directory is down. */
	int64_t retry = 0;
	bool is_locked = admin_count_failure(call, keys, &retry);
	if (is_locked) {
		admin_throttled(call, retry);
		return;
	}
	admin_error(call, 503, "directory_unavailable",
		    "The company directory cannot be reached, so directory accounts cannot sign in "
		    "now; try again in a few minutes, or sign in with a local admin account.",
		    0);
}

void admin_api_login(admin_call_t *call)
{
	pp_core_t *core = call->core;
	const char *name = NULL, *password = NULL;
	/* A local admin name (63 at most) or a directory login (a user name or an address). */
	if (!admin_body_string(call, "name", true, DIRECTORY_LOGIN_MAX - 1, &name))
		return;
	json_t *pw = json_object_get(call->body, "password");
	password = json_string_value(pw);
	if (password == NULL || password[0] == '\0' || strlen(password) > ADMINS_PASSWORD_MAX) {
		admin_error(call, 400, "invalid_value",
			    "Give \"password\" in the JSON body: a string of at most 1024 bytes.", 0);
		return;
	}
	char error[ADMIN_ERROR_MAX];
	char keys[2][THROTTLE_KEY_MAX];
	const char *addr = http_request_remote_addr(call->req);
	if (throttle_key_source(addr != NULL && addr[0] != '\0' ? addr : "unknown", keys[0], error,
				sizeof(error)) < 0)
		(void)str_copy(keys[0], sizeof(keys[0]), "src:unknown");
	throttle_key_account(core, name, keys[1]);
	/* A locked key is refused before the password is looked at. */
	for (size_t i = 0; i < 2; i++) {
		bool is_allowed = true;
		int64_t retry = 0;
		if (throttle_check(core, keys[i], &is_allowed, &retry, error, sizeof(error)) < 0) {
			admin_internal(call, "admin.throttle_error", error);
			return;
		}
		if (!is_allowed) {
			log_info("admin.login_throttled remote=%s", admin_str(addr));
			admin_throttled(call, retry);
			return;
		}
	}
	pp_admin_t admin;
	bool is_valid = false;
	if (admin_verify(core, name, password, &admin, &is_valid, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.login_error", error);
		return;
	}
	bool is_directory = false;
	if (!is_valid) {
		/* Not a local admin: perhaps a member of the directory's admin group. */
		admin_directory_login_t via = admin_login_directory(call, name, password);
		if (via == ADMIN_DIRECTORY_ERROR)
			return;
		if (via == ADMIN_DIRECTORY_DOWN) {
			admin_login_directory_down(call, keys);
			return;
		}
		if (via == ADMIN_DIRECTORY_REFUSED) {
			admin_login_failed(call, keys);
			return;
		}
		is_directory = true;
	}
	if (throttle_reset(core, keys[1], error, sizeof(error)) < 0)
		log_warn("admin.throttle_reset_failed error=\"%s\"", error);
	bool found = false;
	if (!is_directory &&
	    (admin_account_get(core, admin.id, &call->account, &found, error, sizeof(error)) < 0 ||
	     !found)) {
		admin_internal(call, "admin.login_error", found ? error : "admin vanished");
		return;
	}
	char unused_csrf[TOKENS_TEXT_MAX];
	int64_t expires_at = 0;
	int rc = tokens_issue(core, PP_TOKEN_ADMIN_SESSION, call->account.id, call->session,
			      unused_csrf,
			      &expires_at, error, sizeof(error));
	crypto_wipe(unused_csrf, sizeof(unused_csrf));
	if (rc < 0) {
		admin_internal(call, "admin.login_error", error);
		return;
	}
	char detail[128];
	if (!str_format(detail, sizeof(detail), "%s%s", admin_str(addr),
			is_directory ? " via the directory" : ""))
		(void)str_copy(detail, sizeof(detail), admin_str(addr));
	if (!str_format(call->actor, sizeof(call->actor), "admin:%s", call->account.name) ||
	    audit_record(core, call->actor, "admin.login", call->account.name, detail, error,
			 sizeof(error)) < 0)
		log_warn("admin.audit_failed action=admin.login error=\"%s\"", error);
	log_info("admin.login admin=%s remote=%s", call->account.name, admin_str(addr));
	char cookie[TOKENS_TEXT_MAX + 96];
	if (!str_format(cookie, sizeof(cookie),
			"%s=%s; Path=/; HttpOnly; Secure; SameSite=Strict", ADMIN_COOKIE,
			call->session) ||
	    http_response_header(call->req, "Set-Cookie", cookie) < 0) {
		crypto_wipe(cookie, sizeof(cookie));
		admin_internal(call, "admin.login_error", "cannot set the cookie");
		return;
	}
	crypto_wipe(cookie, sizeof(cookie));
	admin_session_answer(call);
}

void admin_api_session(admin_call_t *call)
{
	admin_session_answer(call);
}

void admin_api_logout(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	if (admin_session_cookie(call)) {
		pp_token_info_t info;
		bool is_valid = false, found = false;
		if (tokens_validate(call->core, PP_TOKEN_ADMIN_SESSION, call->session, &info,
				    &is_valid, error, sizeof(error)) == 0 &&
		    is_valid &&
		    admin_account_get(call->core, info.admin_id, &call->account, &found, error,
				      sizeof(error)) == 0 &&
		    found) {
			char actor[AUDIT_ACTOR_MAX];
			bool is_revoked = false;
			if (tokens_revoke(call->core, call->session, &is_revoked, error,
					  sizeof(error)) < 0) {
				admin_internal(call, "admin.logout_failed", error);
				return;
			}
			if (str_format(actor, sizeof(actor), "admin:%s", call->account.name) &&
			    audit_record(call->core, actor, "admin.logout", call->account.name, NULL,
					 error, sizeof(error)) < 0)
				log_warn("admin.audit_failed action=admin.logout error=\"%s\"", error);
			log_info("admin.logout admin=%s", call->account.name);
		}
	}
	(void)http_response_header(call->req, "Set-Cookie",
				   ADMIN_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; "
						"SameSite=Strict");
	admin_no_content(call);
}
