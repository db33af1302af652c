/*
 * codes.h - confirmation codes (per user) and the company code (per server).
 *
 * A confirmation code is N random decimal digits (N = setting users.code_length, 4..12) from
 * the CSPRNG. It is stored only as a keyed hash (core->code_key), so a copy of the database
 * does not reveal it. Hashes are unique across users, so the code alone names its user
 * (release mode "code"): codes_find_user() looks the user up by the code's hash, which takes
 * the same time whatever the code is (the index lookup is on a keyed hash the guesser cannot
 * steer), and codes_verify() compares hashes with crypto_str_equal(). Only enabled users
 * verify. The plain code is handed to the caller once, for mailing, and never logged or
 * stored. Callers throttle guessing (throttle.h) before they call verify.
 *
 * The company code is 6 characters from crypto_random_code_chars() (no look-alikes), stored
 * in table company_code, which portals and apps quote to enrol against this server. It is
 * handed out on purpose, so it is stored as it is.
 */
#ifndef PP_CODES_H
#define PP_CODES_H

#include "core/core.h"
#include "core/users.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODES_MIN_LEN 4
#define CODES_MAX_LEN 12
#define CODES_ISSUE_TRIES 64 /* random draws before a crowded code space is reported */
#define COMPANY_CODE_LEN 6

/*
 * The stored form of a code: keyed hash (core->code_key) of its digits, as hex in
 * out[CRYPTO_HASH_HEX_LEN + 1].
 */
void codes_hash(const pp_core_t *core, const char *code, char out[CRYPTO_HASH_HEX_LEN + 1]);

/*
 * Issues a new code for the user (replacing any old one, which stops working at once) and
 * writes it into code_r[CODES_MAX_LEN + 1] for the caller to send; the caller wipes it
 * (crypto_wipe) after use. Draws up to CODES_ISSUE_TRIES times when a code is taken by
 * another user, then fails asking for a longer users.code_length. Audited as code.issue
 * (without the code). Returns 0 or -1.
 */
int codes_issue(pp_core_t *core, const char *actor, int64_t user_id, char code_r[CODES_MAX_LEN + 1],
                char *error, size_t error_size);

/*
 * Checks email + code: *valid_r is true only when the user exists, is enabled, and the code
 * is theirs. Anything else (unknown address, wrong code, malformed code, pending or disabled
 * user) is simply false; *user_r (may be NULL) is filled when valid. Returns 0, or -1 on a
 * storage error.
 */
int codes_verify(pp_core_t *core, const char *email, const char *code, pp_user_t *user_r,
                 bool *valid_r, char *error, size_t error_size);

/*
 * Finds the enabled user whose code is code (release with the code alone). *found_r false
 * for no match or a user who is not enabled. Returns 0, or -1 on a storage error.
 */
int codes_find_user(pp_core_t *core, const char *code, pp_user_t *user_r, bool *found_r,
                    char *error, size_t error_size);

/* Whether the user has a code at all (the admin console shows "no code yet"). 0 or -1. */
int codes_user_has_code(pp_core_t *core, int64_t user_id, bool *has_code_r, char *error,
                        size_t error_size);

/*
 * Reads the company code into code_r[COMPANY_CODE_LEN + 1]; makes one first if none exists
 * (audited as the "system" actor). Returns 0 or -1.
 */
int company_code_get(pp_core_t *core, char code_r[COMPANY_CODE_LEN + 1], char *error,
                     size_t error_size);

/*
 * Replaces the company code with a new random one (the old stops working), writes it into
 * code_r[COMPANY_CODE_LEN + 1] and audits the change. Returns 0 or -1.
 */
int company_code_regenerate(pp_core_t *core, const char *actor, char code_r[COMPANY_CODE_LEN + 1],
                            char *error, size_t error_size);

/*
 * Checks input against the company code: surrounding whitespace ignored, case-insensitive,
 * compared in constant time. *valid_r false when no company code exists yet.
 * Returns 0, or -1 on a storage error.
 */
int company_code_verify(pp_core_t *core, const char *input, bool *valid_r, char *error,
                        size_t error_size);

#endif
