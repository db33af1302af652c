/*
 * settings.h - runtime settings an administrator changes while the server runs.
 *
 * A fixed registry names every setting with its type (int with a range, or an enum with its
 * allowed words) and its default. The table `settings` holds name -> text value; a missing row
 * means the default. settings_set() validates against the registry and records the change in
 * the audit log in the same transaction, so a setting never changes without a trace.
 *
 * String settings have a validator of their own, which also writes the canonical form stored.
 *
 * Registry (name, type, default, allowed):
 *   users.code_length               int   6       4..12
 *   users.unknown_sender_policy     enum  hold    accept|hold|reject
 *   users.release_auth              enum  code    code|email_code|directory
 *   auth.max_failures               int   5       1..100
 *   auth.window_seconds             int   900     60..86400
 *   auth.lockout_seconds            int   900     0..86400
 *   tokens.app_lifetime_hours       int   720     1..87600
 *   admin.idle_timeout_s            int   900     60..86400
 *   jobs.retention_hours            int   24      1..8760
 *   jobs.printed_policy             enum  delete  delete|keep
 *   jobs.printed_keep_hours         int   24      1..8760
 *   accounting.retention_days       int   365     1..36500
 *   ipp.trusted_networks            string ""     CIDR list (netmask.h), "" = nobody; stored
 *                                                 canonical: "10.0.0.0/8, 2001:db8::/32"
 *   ipp.user_map                    string "{name}" template with {name} exactly once;
 *                                                 printable ASCII, no spaces
 *
 * ipp.trusted_networks lets peers in those networks print over IPP without credentials,
 * naming the user by requesting-user-name; ipp.user_map turns that name into the user's
 * email address (settings_user_map_apply()). See docs/security.md for the trust model.
 */
#ifndef PP_SETTINGS_H
#define PP_SETTINGS_H

#include "core/core.h"
#include "core/users.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest setting name and value (with the terminator). */
#define SETTINGS_NAME_MAX 64
#define SETTINGS_VALUE_MAX 512 /* a CIDR list of a few dozen networks fits */

/* The placeholder in ipp.user_map replaced by requesting-user-name. */
#define SETTINGS_USER_MAP_NAME "{name}"

typedef enum { PP_SETTING_INT, PP_SETTING_ENUM, PP_SETTING_STRING } pp_setting_type_t;

/* One row of settings_list(): the current value (stored or default) and the registry entry. */
typedef struct {
	char name[SETTINGS_NAME_MAX];
	char value[SETTINGS_VALUE_MAX]; /* effective value */
	char default_value[SETTINGS_VALUE_MAX];
	char allowed[SETTINGS_VALUE_MAX]; /* "4..12", "accept|hold|reject" or a description */
	const char *description;          /* borrowed, static */
	pp_setting_type_t type;
	bool is_default; /* true when no row is stored */
} pp_setting_t;

/*
 * Reads an int setting: the stored value, or the default when no row exists. Fails for an
 * unknown name or a name that is not an int setting. Returns 0 or -1 (error says why).
 */
int settings_get_int(pp_core_t *core, const char *name, int64_t *value_r, char *error,
                     size_t error_size);

/*
 * Reads any setting as text (an enum's word, an int's decimal digits, a string) into buf[buf_size]:
 * stored value or default. Fails for an unknown name or a buffer too small. Returns 0 or -1.
 */
int settings_get_string(pp_core_t *core, const char *name, char *buf, size_t buf_size, char *error,
                        size_t error_size);

/*
 * Validates value against the registry (type, range, enum; the message names the allowed
 * values or range), stores it (upsert) and writes an audit row by actor in one transaction.
 * Returns 0 or -1.
 */
int settings_set(pp_core_t *core, const char *actor, const char *name, const char *value,
                 char *error, size_t error_size);

/*
 * Removes the stored row so the default applies again; audited. Unknown name fails.
 * Returns 0 or -1.
 */
int settings_reset(pp_core_t *core, const char *actor, const char *name, char *error,
                   size_t error_size);

/*
 * Lists every registered setting in registry order with its effective value, for
 * `pullprint settings`. *settings_r is new (free with settings_list_free()), *count_r entries.
 * Returns 0 or -1.
 */
int settings_list(pp_core_t *core, pp_setting_t **settings_r, size_t *count_r, char *error,
                  size_t error_size);

/* Frees a list from settings_list() and sets *settings to NULL. NULL is a no-op. */
void settings_list_free(pp_setting_t **settings);

/*
 * Checks value against the registry without storing it. Returns 0 or -1 (error names the
 * allowed values or range, or says the name is unknown).
 */
int settings_validate(const char *name, const char *value, char *error, size_t error_size);

/*
 * Applies an ipp.user_map template (map, holding SETTINGS_USER_MAP_NAME) to a
 * requesting-user-name: the placeholder is replaced by name and the result canonicalised as
 * an email address (users_canonical_email(): trimmed, lower-cased, checked) into
 * email_r[USERS_EMAIL_MAX]. Fails (email_r "") for a NULL or empty name, a map without the
 * placeholder, a result too long or not an email address; error says which, without echoing
 * the name. Returns 0 or -1.
 */
int settings_user_map_apply(const char *map, const char *name, char email_r[USERS_EMAIL_MAX],
                            char *error, size_t error_size);

#endif
