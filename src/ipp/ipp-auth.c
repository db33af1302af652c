/*
 * ipp-auth.c - who is printing. requesting-user-name alone is never trusted: a request acts
 * for a user only through one of these, decided in two steps.
 *
 * Step 1, ipp_auth_check(), on the headers:
 *   - a personal printer URI /ipp/print/u/<ppp_ token>: the token's user (enabled) with no
 *     prompt. An unknown or revoked token is IPP_AUTH_BAD_URI (HTTP 404) and counts as a
 *     failure on the source key, so nobody can scan for tokens.
 *   - Authorization: Basic email:code (the user's confirmation code), or, when a company
 *     directory is configured, user name (or address):directory password (directory.h).
 *   - Authorization: Bearer ppf_… (a forwarder, e.g. a CUPS server): the token is checked
 *     here, but the result stays IPP_AUTH_NONE with via IPP_VIA_FORWARDER until step 2 names
 *     the user; a wrong Bearer is IPP_AUTH_DENIED.
 *   - any of these over plain HTTP is IPP_AUTH_NEED_TLS, refused without looking at the
 *     secret: it has crossed the network in clear and must not be confirmed or counted.
 * Step 2, ipp_auth_resolve(), once the operation attributes are parsed: a forwarder's
 *   request, or one without credentials from a peer in the setting ipp.trusted_networks,
 *   acts for requesting-user-name mapped through ipp.user_map to an email address, with the
 *   sender policy deciding about unknown users exactly as for mail.
 *
 * Guessing is throttled per source address and per account (throttle.h): keys are checked
 * first and a locked one is denied without checking the secret (so a locked-out guesser
 * learns nothing, not even from timing); every failure is counted (source, and account for
 * Basic); a success resets the account key only (resetting the source would let one valid
 * account launder a guesser's address). A denial is a 401 like any other; Retry-After tells
 * honest clients when to try again.
 */
#include "ipp/ipp-private.h"

#include "core/codes.h"
#include "core/sender-policy.h"
#include "core/settings.h"
#include "core/throttle.h"
#include "core/tokens.h"
#include "directory/directory.h"
#include "lib/log.h"
#include "lib/netmask.h"
#include "lib/str.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#define IPP_AUTH_HEADER_MAX 1024 /* a longer Authorization value is refused unread */
#define IPP_AUTH_ERROR_MAX 512

bool ipp_auth_parse_basic(const char *header, char email[USERS_EMAIL_MAX], char *code,
                          size_t code_size)
{
	email[0] = '\0';
	if (code_size > 0)
		code[0] = '\0';
	if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
		return false;
	const char *b64 = header + 6;
	while (*b64 == ' ')
		b64++;
	size_t b64_len = strlen(b64);
	while (b64_len > 0 && b64[b64_len - 1] == ' ')
		b64_len--;
	if (b64_len == 0 || b64_len > IPP_AUTH_HEADER_MAX)
		return false;
	unsigned char plain[IPP_AUTH_HEADER_MAX];
	size_t plain_len = 0;
	if (sodium_base642bin(plain, sizeof(plain) - 1, b64, b64_len, NULL, &plain_len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0) {
		sodium_memzero(plain, sizeof(plain));
		return false;
	}
	plain[plain_len] = '\0';
	bool is_ok = false;
	unsigned char *colon = memchr(plain, ':', plain_len);
	/* No NUL inside, a user part that fits, a code part that fits. */
	if (colon != NULL && strlen((char *)plain) == plain_len) {
		*colon = '\0';
		const char *pass = (const char *)colon + 1;
		is_ok = colon != plain && strlen((char *)plain) < USERS_EMAIL_MAX &&
		        strlen(pass) < code_size &&
		        str_copy(email, USERS_EMAIL_MAX, (char *)plain) &&
		        str_copy(code, code_size, pass);
	}
	sodium_memzero(plain, sizeof(plain));
	if (!is_ok) {
		email[0] = '\0';
		if (code_size > 0)
			sodium_memzero(code, code_size);
	}
	return is_ok;
}

/* The peer address for keys and logs: "unknown" when the listener could not tell. */
static const char *ipp_auth_peer(pp_http_request_t *req)
{
	const char *addr = http_request_remote_addr(req);
	return addr != NULL && addr[0] != '\0' ? addr : "unknown";
}

/*
 * Whether key may try now. On a lock, fills auth_r (DENIED, retry_after) and logs it.
 * Returns 0 (*allowed_r set) or -1 on a storage error (error filled).
 */
static int ipp_auth_check_key(pp_core_t *core, const char *key, const char *addr,
                              ipp_auth_t *auth_r, bool *allowed_r, char *error, size_t error_size)
{
	int64_t retry = 0;
	if (throttle_check(core, key, allowed_r, &retry, error, error_size) < 0)
		return -1;
	if (!*allowed_r) {
		auth_r->result = IPP_AUTH_DENIED;
		auth_r->retry_after = retry;
		log_info("ipp.auth_locked remote=%s via=%s retry_after=%lld", addr,
		         ipp_via_name(auth_r->via), (long long)retry);
	}
	return 0;
}

/* Counts a failure on the source key and (if set) the account key; logs it without secrets. */
static void ipp_auth_fail(pp_core_t *core, const char *src_key, const char *acct_key,
                          const char *addr, ipp_auth_t *auth_r)
{
	char error[IPP_AUTH_ERROR_MAX];
	bool is_locked = false;
	int64_t retry = 0, retry_acct = 0;
	if (throttle_failure(core, src_key, &is_locked, &retry, error, sizeof(error)) < 0)
		log_warn("ipp.throttle_failed key=source error=\"%s\"", error);
	if (acct_key[0] != '\0' &&
	    throttle_failure(core, acct_key, &is_locked, &retry_acct, error, sizeof(error)) < 0)
		log_warn("ipp.throttle_failed key=account error=\"%s\"", error);
	/* When this failure locked a key, the answer already says when to try again. */
	auth_r->retry_after = retry > retry_acct ? retry : retry_acct;
	log_info("ipp.auth_failed remote=%s via=%s", addr, ipp_via_name(auth_r->via));
}

/* The token of a request under IPP_SERVICE_USER_PATH, or NULL for any other path. Borrowed. */
static const char *ipp_auth_path_token(pp_http_request_t *req)
{
	const char *path = http_request_path(req);
	if (path == NULL || !str_has_prefix(path, IPP_SERVICE_USER_PATH))
		return NULL;
	return path + strlen(IPP_SERVICE_USER_PATH);
}

/* Step 1 for a personal printer URI; the request came over TLS. */
static ipp_auth_result_t ipp_auth_printer_token(pp_core_t *core, const char *token,
                                                const char *addr, const char *src_key,
                                                ipp_auth_t *auth_r)
{
	char error[IPP_AUTH_ERROR_MAX];
	bool is_allowed = true;
	auth_r->via = IPP_VIA_PRINTER_TOKEN;
	if (ipp_auth_check_key(core, src_key, addr, auth_r, &is_allowed, error, sizeof(error)) < 0)
		goto storage_error;
	if (!is_allowed)
		return auth_r->result;

	/* A value that cannot be a token is not worth a lookup, but counts all the same. */
	pp_token_info_t info;
	bool is_valid = false;
	if (strlen(token) == TOKENS_TEXT_LEN &&
	    tokens_validate(core, PP_TOKEN_PRINTER, token, &info, &is_valid, error, sizeof(error)) <
	        0)
		goto storage_error;
	if (!is_valid) {
		ipp_auth_fail(core, src_key, "", addr, auth_r);
		auth_r->result = IPP_AUTH_BAD_URI;
		return auth_r->result;
	}

	bool is_found = false;
	if (users_get_by_id(core, info.user_id, &auth_r->user, &is_found, error, sizeof(error)) < 0)
		goto storage_error;
	if (!is_found) {
		/* The user went away between the lookups: the token died with them. */
		auth_r->result = IPP_AUTH_BAD_URI;
		return auth_r->result;
	}
	if (auth_r->user.state != PP_USER_ENABLED) {
		/* The address is right; the account may not print (pending or disabled). */
		char tag[USERS_LOG_TAG_LEN + 1];
		users_log_tag(core, auth_r->user.email, tag);
		log_info("ipp.auth_refused via=printer-uri user=%s state=%s", tag,
		         users_state_name(auth_r->user.state));
		memset(&auth_r->user, 0, sizeof(auth_r->user));
		auth_r->result = IPP_AUTH_DENIED;
		return auth_r->result;
	}
	auth_r->result = IPP_AUTH_OK;
	return auth_r->result;

storage_error:
	log_error("ipp.auth_error via=printer-uri error=\"%s\"", error);
	memset(&auth_r->user, 0, sizeof(auth_r->user));
	auth_r->result = IPP_AUTH_ERROR;
	return auth_r->result;
}

/* Step 1 for "Authorization: Bearer …" (a forwarder); over TLS. */
static ipp_auth_result_t ipp_auth_bearer(pp_core_t *core, const char *header, const char *addr,
                                         const char *src_key, ipp_auth_t *auth_r)
{
	char error[IPP_AUTH_ERROR_MAX];
	bool is_allowed = true;
	auth_r->via = IPP_VIA_FORWARDER;
	if (ipp_auth_check_key(core, src_key, addr, auth_r, &is_allowed, error, sizeof(error)) < 0)
		goto storage_error;
	if (!is_allowed)
		return auth_r->result;

	const char *token = header + strlen("Bearer ");
	while (*token == ' ')
		token++;
	pp_token_info_t info;
	bool is_valid = false;
	if (strlen(token) == TOKENS_TEXT_LEN &&
	    tokens_validate(core, PP_TOKEN_FORWARDER, token, &info, &is_valid, error,
	                    sizeof(error)) < 0)
		goto storage_error;
	if (!is_valid) {
		ipp_auth_fail(core, src_key, "", addr, auth_r);
		auth_r->result = IPP_AUTH_DENIED;
		return auth_r->result;
	}
	/* Known forwarder; the user it speaks for is named by the request (step 2). */
	(void)str_copy(auth_r->forwarder, sizeof(auth_r->forwarder), info.label);
	auth_r->result = IPP_AUTH_NONE;
	return auth_r->result;

storage_error:
	log_error("ipp.auth_error via=forwarder error=\"%s\"", error);
	auth_r->result = IPP_AUTH_ERROR;
	return auth_r->result;
}

/*
 * Basic credentials that are not an address + confirmation code: a directory user name or
 * address + directory password, when the program has the directory module and a directory
 * is configured. Sets *is_valid_r (and auth_r->user) or *is_down_r. Returns 0 or -1 (storage).
 */
static int ipp_auth_directory(pp_core_t *core, const char *login, const char *password,
                              const char *addr, ipp_auth_t *auth_r, bool *is_valid_r,
                              bool *is_down_r, char *error, size_t error_size)
{
	*is_valid_r = false;
	*is_down_r = false;
	if (core->directory_signin == NULL)
		return 0;
	pp_directory_result_t found;
	if (core->directory_signin(core, login, password, "ipp", &found, error, error_size) < 0)
		return -1;
	if (found.outcome == PP_DIRECTORY_OK) {
		auth_r->user = found.user;
		*is_valid_r = true;
	} else if (found.outcome == PP_DIRECTORY_UNAVAILABLE) {
		*is_down_r = true;
		log_error("ipp.auth_directory_unavailable remote=%s directory=%s error=\"%s\"", addr,
		          found.directory, found.reason);
	}
	sodium_memzero(&found, sizeof(found));
	return 0;
}

/* Whether secret could be a confirmation code (digits, code length). */
static bool ipp_auth_is_code_shaped(const char *secret)
{
	size_t len = strlen(secret);
	return len >= CODES_MIN_LEN && len <= CODES_MAX_LEN && strspn(secret, "0123456789") == len;
}

/*
 * Step 1 for "Authorization: Basic …" or an unknown scheme; over TLS. An address with a
 * confirmation code is checked first; anything else (or a code that did not match) goes to
 * the directory. A failure is counted once whichever check refused it; when the directory
 * could not be asked the answer is "try again later" (503), still counted, so an outage is
 * no window for unthrottled guessing.
 */
static ipp_auth_result_t ipp_auth_basic(pp_core_t *core, const char *header, const char *addr,
                                        const char *src_key, ipp_auth_t *auth_r)
{
	char error[IPP_AUTH_ERROR_MAX], acct_key[THROTTLE_KEY_MAX] = "";
	char login[USERS_EMAIL_MAX], secret[DIRECTORY_PASSWORD_MAX];
	auth_r->via = IPP_VIA_BASIC;
	bool is_parsed = ipp_auth_parse_basic(header, login, secret, sizeof(secret));
	if (is_parsed)
		throttle_key_account(core, login, acct_key);

	/* A locked source or account is refused before the secret is looked at. */
	bool is_allowed = true;
	if (ipp_auth_check_key(core, src_key, addr, auth_r, &is_allowed, error, sizeof(error)) < 0)
		goto storage_error;
	if (is_allowed && acct_key[0] != '\0' &&
	    ipp_auth_check_key(core, acct_key, addr, auth_r, &is_allowed, error, sizeof(error)) < 0)
		goto storage_error;
	if (!is_allowed) {
		sodium_memzero(secret, sizeof(secret));
		return auth_r->result;
	}

	bool is_valid = false, is_down = false;
	if (is_parsed && ipp_auth_is_code_shaped(secret) &&
	    codes_verify(core, login, secret, &auth_r->user, &is_valid, error, sizeof(error)) < 0)
		goto storage_error;
	if (is_parsed && !is_valid &&
	    ipp_auth_directory(core, login, secret, addr, auth_r, &is_valid, &is_down, error,
	                       sizeof(error)) < 0)
		goto storage_error;
	sodium_memzero(secret, sizeof(secret));
	if (!is_valid) {
		memset(&auth_r->user, 0, sizeof(auth_r->user));
		ipp_auth_fail(core, src_key, acct_key, addr, auth_r);
		auth_r->result = is_down ? IPP_AUTH_ERROR : IPP_AUTH_DENIED;
		return auth_r->result;
	}
	if (throttle_reset(core, acct_key, error, sizeof(error)) < 0)
		log_warn("ipp.throttle_reset_failed error=\"%s\"", error);
	auth_r->result = IPP_AUTH_OK;
	return auth_r->result;

storage_error:
	sodium_memzero(secret, sizeof(secret));
	memset(&auth_r->user, 0, sizeof(auth_r->user));
	log_error("ipp.auth_error via=basic error=\"%s\"", error);
	auth_r->result = IPP_AUTH_ERROR;
	return auth_r->result;
}

ipp_auth_result_t ipp_auth_check(pp_core_t *core, pp_http_request_t *req, ipp_auth_t *auth_r)
{
	memset(auth_r, 0, sizeof(*auth_r));
	const char *token = ipp_auth_path_token(req);
	const char *header = http_request_header(req, "Authorization");
	if (token == NULL && header == NULL)
		return auth_r->result; /* NONE; step 2 may still trust the network */

	const char *addr = ipp_auth_peer(req);
	if (!http_request_is_tls(req)) {
		/* Sent in clear: refused unchecked, so neither confirmed nor counted. */
		auth_r->via = token != NULL                            ? IPP_VIA_PRINTER_TOKEN
		              : strncasecmp(header, "Bearer ", 7) == 0 ? IPP_VIA_FORWARDER
		                                                       : IPP_VIA_BASIC;
		auth_r->result = IPP_AUTH_NEED_TLS;
		log_info("ipp.auth_need_tls remote=%s via=%s", addr, ipp_via_name(auth_r->via));
		return auth_r->result;
	}

	char error[IPP_AUTH_ERROR_MAX], src_key[THROTTLE_KEY_MAX];
	if (throttle_key_source(addr, src_key, error, sizeof(error)) < 0) {
		log_error("ipp.auth_error error=\"%s\"", error);
		auth_r->result = IPP_AUTH_ERROR;
		return auth_r->result;
	}
	/* The path token names the user by itself; an Authorization header beside it is moot. */
	if (token != NULL)
		return ipp_auth_printer_token(core, token, addr, src_key, auth_r);
	if (strlen(header) > IPP_AUTH_HEADER_MAX) {
		/* Unread; counted like any malformed credential. */
		auth_r->via = IPP_VIA_BASIC;
		ipp_auth_fail(core, src_key, "", addr, auth_r);
		auth_r->result = IPP_AUTH_DENIED;
		return auth_r->result;
	}
	if (strncasecmp(header, "Bearer ", 7) == 0)
		return ipp_auth_bearer(core, header, addr, src_key, auth_r);
	return ipp_auth_basic(core, header, addr, src_key, auth_r);
}

/*
 * Whether the peer is in ipp.trusted_networks. A value that no longer parses (it was checked
 * when set) trusts nobody. Returns 0 (*trusted_r set) or -1 on a storage error.
 */
static int ipp_auth_peer_trusted(pp_core_t *core, pp_http_request_t *req, bool *trusted_r,
                                 char *error, size_t error_size)
{
	*trusted_r = false;
	char value[SETTINGS_VALUE_MAX];
	if (settings_get_string(core, "ipp.trusted_networks", value, sizeof(value), error,
	                        error_size) < 0)
		return -1;
	if (value[0] == '\0')
		return 0;
	pp_netmask_list_t list;
	char parse_error[256];
	if (netmask_list_parse(value, strlen(value), &list, parse_error, sizeof(parse_error)) < 0) {
		log_warn("ipp.trusted_networks_invalid error=\"%s\" trusting=nobody", parse_error);
		return 0;
	}
	*trusted_r = netmask_list_match_text(&list, http_request_remote_addr(req));
	return 0;
}

ipp_auth_result_t ipp_auth_resolve(pp_core_t *core, pp_http_request_t *req, ipp_t *request,
                                   ipp_auth_t *auth)
{
	if (auth->result != IPP_AUTH_NONE)
		return auth->result;
	char error[IPP_AUTH_ERROR_MAX];
	if (auth->via == IPP_VIA_NONE) {
		bool is_trusted = false;
		if (ipp_auth_peer_trusted(core, req, &is_trusted, error, sizeof(error)) < 0)
			goto storage_error;
		if (!is_trusted)
			return auth->result;
		auth->via = IPP_VIA_TRUSTED_NETWORK;
	} else if (auth->via != IPP_VIA_FORWARDER) {
		return auth->result;
	}
	/* Printer attributes are everyone's: no user is named (or created) for them. */
	if (ippGetOperation(request) == IPP_OP_GET_PRINTER_ATTRIBUTES)
		return auth->result;

	const char *addr = ipp_auth_peer(req);
	char map[SETTINGS_VALUE_MAX], email[USERS_EMAIL_MAX];
	if (settings_get_string(core, "ipp.user_map", map, sizeof(map), error, sizeof(error)) < 0)
		goto storage_error;
	const char *name = ipp_request_string(request, "requesting-user-name");
	if (settings_user_map_apply(map, name, email, error, sizeof(error)) < 0) {
		/* Nobody named: stays anonymous (a challenge over TLS, else refused). */
		log_info("ipp.auth_unmapped remote=%s via=%s forwarder=\"%s\" reason=\"%s\"", addr,
		         ipp_via_name(auth->via), auth->forwarder, error);
		return auth->result;
	}

	/* The sender policy decides as for mail: it may create the user (source "ipp"). */
	pp_sender_result_t policy;
	if (sender_policy_decide(core, email, "ipp", &policy, error, sizeof(error)) < 0)
		goto storage_error;
	bool is_ok = policy.decision == PP_SENDER_ACCEPT && policy.has_user &&
	             policy.user.state == PP_USER_ENABLED;
	/* A refusal or a new user is news for the admin; the routine accept of a known user
	 * (every job from a trusted network) is detail, whose keyed tag is not worth making
	 * when debug lines are off. */
	pp_log_level_t level = is_ok && !policy.is_user_created ? PP_LOG_DEBUG : PP_LOG_INFO;
	if (log_is_enabled(level)) {
		char tag[USERS_LOG_TAG_LEN + 1];
		users_log_tag(core, email, tag);
		pp_log(level,
		       "ipp.auth_mapped remote=%s via=%s forwarder=\"%s\" user=%s decision=%s "
		       "reason=%s created=%s",
		       addr, ipp_via_name(auth->via), auth->forwarder, tag,
		       is_ok ? "accept" : "refuse", sender_reason_name(policy.reason),
		       policy.is_user_created ? "yes" : "no");
	}
	if (!is_ok) {
		/* Pending (held for approval), disabled, blocked or rejected: not now. */
		auth->result = IPP_AUTH_DENIED;
		return auth->result;
	}
	auth->user = policy.user;
	auth->result = IPP_AUTH_OK;
	return auth->result;

storage_error:
	log_error("ipp.auth_error via=%s error=\"%s\"", ipp_via_name(auth->via), error);
	auth->result = IPP_AUTH_ERROR;
	return auth->result;
}
