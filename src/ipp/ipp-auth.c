/*
 * ipp-auth.c - who is printing: HTTP Basic over TLS carrying an email address and the
 * user's confirmation code. requesting-user-name is never trusted.
 *
 * Guessing is throttled per source address and per account (throttle.h): both keys are
 * checked first and a locked one is denied without checking the code (so a locked-out
 * guesser learns nothing, not even from timing); every failure is counted on both; a success
 * resets the account key only (resetting the source would let one valid account launder a
 * guesser's address). A denial is a 401 like any other; Retry-After tells honest clients
 * when to try again.
 */
#include "ipp/ipp-private.h"

#include "core/codes.h"
#include "core/throttle.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#define IPP_AUTH_HEADER_MAX 1024 /* a longer Authorization value is refused unread */

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
			strlen(pass) < code_size && str_copy(email, USERS_EMAIL_MAX, (char *)plain) &&
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

/* Counts a failure on both keys; logs (without the code) what happened. */
static void ipp_auth_fail(pp_core_t *core, const char *src_key, const char *acct_key,
			  const char *addr, int64_t *retry_after_r)
{
	char error[256];
	bool is_locked = false;
	int64_t retry = 0, retry_acct = 0;
	if (throttle_failure(core, src_key, &is_locked, &retry, error, sizeof(error)) < 0)
		log_warn("ipp.throttle_failed key=source error=\"%s\"", error);
	if (acct_key[0] != '\0' &&
	    throttle_failure(core, acct_key, &is_locked, &retry_acct, error, sizeof(error)) < 0)
		log_warn("ipp.throttle_failed key=account error=\"%s\"", error);
	*retry_after_r = retry > retry_acct ? retry : retry_acct;
	log_info("ipp.auth_failed remote=%s", addr);
}

ipp_auth_result_t ipp_auth_check(pp_core_t *core, pp_http_request_t *req, pp_user_t *user_r,
				 int64_t *retry_after_r)
{
	*retry_after_r = 0;
	const char *header = http_request_header(req, "Authorization");
	if (header == NULL)
		return IPP_AUTH_NONE;
	const char *addr = http_request_remote_addr(req);
	char error[256], src_key[THROTTLE_KEY_MAX], acct_key[THROTTLE_KEY_MAX] = "";
	if (throttle_key_source(addr[0] != '\0' ? addr : "unknown", src_key, error, sizeof(error)) < 0)
		return IPP_AUTH_ERROR;

	char email[USERS_EMAIL_MAX], code[CODES_MAX_LEN + 2];
	bool is_parsed = ipp_auth_parse_basic(header, email, code, sizeof(code));
	if (is_parsed)
		throttle_key_account(core, email, acct_key);

	/* A locked source or account is refused before the code is looked at. */
	bool is_allowed = true;
	int64_t retry = 0;
	if (throttle_check(core, src_key, &is_allowed, &retry, error, sizeof(error)) < 0)
		goto storage_error;
	if (is_allowed && acct_key[0] != '\0' &&
	    throttle_check(core, acct_key, &is_allowed, &retry, error, sizeof(error)) < 0)
		goto storage_error;
	if (!is_allowed) {
		*retry_after_r = retry;
		sodium_memzero(code, sizeof(code));
		log_info("ipp.auth_locked remote=%s retry_after=%lld", addr, (long long)retry);
		return IPP_AUTH_DENIED;
	}

	bool is_valid = false;
	if (is_parsed &&
	    codes_verify(core, email, code, user_r, &is_valid, error, sizeof(error)) < 0)
		goto storage_error;
	sodium_memzero(code, sizeof(code));
	if (!is_valid) {
		ipp_auth_fail(core, src_key, acct_key, addr, retry_after_r);
		return IPP_AUTH_DENIED;
	}
	if (throttle_reset(core, acct_key, error, sizeof(error)) < 0)
		log_warn("ipp.throttle_reset_failed error=\"%s\"", error);
	return IPP_AUTH_OK;

storage_error:
	sodium_memzero(code, sizeof(code));
	log_error("ipp.auth_error error=\"%s\"", error);
	return IPP_AUTH_ERROR;
}
