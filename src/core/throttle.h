/*
 * throttle.h - slows down guessing of codes and passwords.
 *
 * Failures are counted per key in table auth_throttle. Callers check two keys per attempt:
 * the source ("src:<ip>", from throttle_key_source) and the account ("acct:<hash>", from
 * throttle_key_account; a keyed hash of the canonical address or name, so the table holds
 * no addresses and keys have one length). Settings: after auth.max_failures failures within
 * auth.window_seconds of the first, the key is locked for auth.lockout_seconds (0: until the
 * window ends). Each further failure while counted restarts the lockout. A success resets
 * the account key (callers decide whether to reset the source key too).
 */
#ifndef PP_THROTTLE_H
#define PP_THROTTLE_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 80

/* "src:" + address (IPv4 or IPv6 text, at most 63 characters) into key[THROTTLE_KEY_MAX]. */
int throttle_key_source(const char *address, char key[THROTTLE_KEY_MAX], char *error,
                        size_t error_size);

/*
 * "acct:" + 32 hex characters of a keyed hash of account (an email address or admin name,
 * trimmed and lower-cased) into key[THROTTLE_KEY_MAX].
 */
void throttle_key_account(const pp_core_t *core, const char *account, char key[THROTTLE_KEY_MAX]);

/*
 * Whether an attempt for key may go ahead now. When locked, *allowed_r is false and
 * *retry_after_r (may be NULL) the seconds until it may (for Retry-After); else 0.
 * Returns 0 or -1.
 */
int throttle_check(pp_core_t *core, const char *key, bool *allowed_r, int64_t *retry_after_r,
                   char *error, size_t error_size);

/*
 * Records a failed attempt for key. *locked_r (may be NULL) says whether the key is locked
 * now, *retry_after_r (may be NULL) for how many seconds. Returns 0 or -1.
 */
int throttle_failure(pp_core_t *core, const char *key, bool *locked_r, int64_t *retry_after_r,
                     char *error, size_t error_size);

/* Forgets key's failures (after a success). Returns 0 or -1. */
int throttle_reset(pp_core_t *core, const char *key, char *error, size_t error_size);

/*
 * Deletes rows whose window and lockout are both over (housekeeping). *count_r (may be
 * NULL) gets how many. Returns 0 or -1.
 */
int throttle_purge(pp_core_t *core, int64_t *count_r, char *error, size_t error_size);

#endif
