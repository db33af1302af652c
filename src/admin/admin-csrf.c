/*
 * admin-csrf.c - the rules of an admin console session that need no HTTP: its CSRF token
 * and reading its cookie. (When it expires is the token's: tokens.h.)
 *
 * The CSRF token is derived from the session token with a keyed hash instead of being
 * stored, so the console can ask for it again after a reload (GET session) while a page on
 * another site, which cannot read the cookie, cannot make it. It is compared in constant
 * time.
 */
#include "admin/admin.h"

#include "lib/crypto.h"
#include "lib/str.h"

#include <string.h>

#define ADMIN_CSRF_LABEL "admin-csrf:"

void admin_csrf_derive(const pp_core_t *core, const char *session_token,
		       char out[ADMIN_CSRF_TEXT_MAX])
{
	/* label + token: a CSRF token never equals any other keyed hash of the token key */
	char input[sizeof(ADMIN_CSRF_LABEL) + 80];
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	if (!str_format(input, sizeof(input), "%s%s", ADMIN_CSRF_LABEL,
			session_token != NULL ? session_token : "")) {
		out[0] = '\0';
		return;
	}
	crypto_keyed_hash_hex(core->token_key, input, strlen(input), hash);
	crypto_wipe(input, sizeof(input));
	memcpy(out, "ppc_", 4);
	memcpy(out + 4, hash, CRYPTO_HASH_HEX_LEN + 1);
}

bool admin_csrf_check(const pp_core_t *core, const char *session_token, const char *given)
{
	char expected[ADMIN_CSRF_TEXT_MAX];
	admin_csrf_derive(core, session_token, expected);
	bool is_ok = given != NULL && expected[0] != '\0' && crypto_str_equal(expected, given);
	crypto_wipe(expected, sizeof(expected));
	return is_ok;
}
