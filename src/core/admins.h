/*
 * admins.h - administrator accounts for the console and the API.
 *
 * Passwords are stored as argon2id hashes (crypto_password_hash). A new installation has no
 * admin: admin_bootstrap() creates "admin" with a random password and hands it to the caller
 * once (printed by the first start), after which it does nothing. Verification takes the same
 * work whether or not the name exists (a missing name is checked against a dummy hash), so
 * timing does not reveal account names. Callers throttle attempts (throttle.h).
 */
#ifndef PP_ADMINS_H
#define PP_ADMINS_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMINS_NAME_MAX 64       /* 63 characters + NUL */
#define ADMINS_PASSWORD_MIN 12   /* characters */
#define ADMINS_PASSWORD_MAX 1024 /* bytes */
#define ADMINS_BOOTSTRAP_NAME "admin"
/* 6 groups of 4 characters from a 32-letter alphabet (120 bits) joined by '-'. */
#define ADMINS_BOOTSTRAP_PASSWORD_LEN 29

typedef struct {
	int64_t id;
	char name[ADMINS_NAME_MAX];
	int64_t created_at;
	int64_t updated_at;
} pp_admin_t;

/*
 * When no admin exists, creates ADMINS_BOOTSTRAP_NAME with a random password written into
 * password_r[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1] and sets *created_r; the caller shows it once
 * and wipes it. When any admin exists, *created_r is false and password_r is "".
 * Returns 0 or -1.
 */
int admin_bootstrap(pp_core_t *core, char password_r[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1],
                    bool *created_r, char *error, size_t error_size);

/*
 * Adds an admin. name: 1..63 of [a-z0-9._@-] after trimming and lower-casing; password: at
 * least ADMINS_PASSWORD_MIN characters, at most ADMINS_PASSWORD_MAX bytes. A taken name fails
 * with "already exists". Audited. Returns 0 or -1.
 */
int admin_add(pp_core_t *core, const char *actor, const char *name, const char *password,
              char *error, size_t error_size);

/* Replaces an admin's password (rules as admin_add). Audited. Returns 0 or -1. */
int admin_set_password(pp_core_t *core, const char *actor, const char *name, const char *password,
                       char *error, size_t error_size);

/*
 * Checks name + password. *valid_r true only for an existing admin with that password;
 * *admin_r (may be NULL) is filled then. Returns 0, or -1 on a storage error.
 */
int admin_verify(pp_core_t *core, const char *name, const char *password, pp_admin_t *admin_r,
                 bool *valid_r, char *error, size_t error_size);

/* Looks an admin up by name; *found_r says whether it exists. Returns 0 or -1. */
int admin_get(pp_core_t *core, const char *name, pp_admin_t *admin_r, bool *found_r, char *error,
              size_t error_size);

/* Lists admins by name. *admins_r is new (free with admin_list_free()). Returns 0 or -1. */
int admin_list(pp_core_t *core, pp_admin_t **admins_r, size_t *count_r, char *error,
               size_t error_size);
void admin_list_free(pp_admin_t **admins);

/*
 * Deletes an admin and (by cascade) their sessions. Refuses to delete the last admin.
 * Audited. Returns 0 or -1.
 */
int admin_delete(pp_core_t *core, const char *actor, const char *name, char *error,
                 size_t error_size);

/*
 * The dummy hash a missing name is verified against: made with crypto_password_hash()'s
 * parameters, of a password nobody knows. Static. (Exposed so a test can check that its
 * parameters still match crypto_password_hash's.)
 */
const char *admin_dummy_hash(void);

#endif
