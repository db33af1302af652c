/*
 * users.h - the people who print, keyed by a canonical email address.
 *
 * An address is canonical when trimmed and lower-cased as a whole (local part included: no
 * site relies on case-sensitive mailboxes, and two accounts for "Ann@x" and "ann@x" would be
 * a support call). A user is enabled (may print and release), pending (known, waiting for
 * an admin's approval; jobs are kept but never released) or disabled (refused). Deleting a
 * user deletes their jobs, codes and tokens (ON DELETE CASCADE).
 *
 * Every change is audited with the caller's actor name ("admin:alice", "cli", "mail" …).
 */
#ifndef PP_USERS_H
#define PP_USERS_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERS_EMAIL_MAX 255 /* 254 characters (RFC 5321 path limit) + NUL */
#define USERS_LOCAL_MAX 64  /* longest local part */
#define USERS_DISPLAY_NAME_MAX 128
#define USERS_DEPARTMENT_MAX 128
#define USERS_SOURCE_MAX 32
#define USERS_LOG_TAG_LEN 12 /* hex characters of the keyed hash shown in logs */
#define USERS_LIST_MAX 1000  /* most rows one users_list() returns */

typedef enum {
	PP_USER_ENABLED = 0,
	PP_USER_PENDING,
	PP_USER_DISABLED,
} pp_user_state_t;

typedef struct {
	int64_t id;
	char email[USERS_EMAIL_MAX];
	char display_name[USERS_DISPLAY_NAME_MAX];
	char department[USERS_DEPARTMENT_MAX];
	pp_user_state_t state;
	char source[USERS_SOURCE_MAX]; /* how the account came to be: admin, mail, ipp, … */
	int64_t created_at;
	int64_t updated_at;
} pp_user_t;

/* A users_list() query. Zeroed means: every state, no search, first page of USERS_LIST_MAX. */
typedef struct {
	bool has_state; /* filter on state below */
	pp_user_state_t state;
	const char *search; /* substring of email, display name or department; NULL or "" = all */
	size_t offset;
	size_t limit; /* 0 = USERS_LIST_MAX; larger values are capped to it */
} pp_user_filter_t;

/*
 * Canonicalises an address into out[USERS_EMAIL_MAX]: trims surrounding whitespace,
 * lower-cases ASCII, then checks: at most 254 characters; exactly one '@'; a local part of
 * 1..64 characters from the RFC 5322 dot-atom set (letters, digits, !#$%&'*+/=?^_`{|}~-) with
 * no leading, trailing or doubled dot; a domain of at least two dot-separated labels, each
 * 1..63 letters, digits or hyphens, not starting or ending with a hyphen. Quoted local parts,
 * IP-literal domains, single-label domains ("user@localhost") and non-ASCII are refused.
 * Returns 0 or -1 (error says what is wrong).
 */
int users_canonical_email(const char *input, char out[USERS_EMAIL_MAX], char *error,
                          size_t error_size);

/* "enabled", "pending", "disabled". Static. */
const char *users_state_name(pp_user_state_t state);

/* Parses a state name. Returns false for anything else. */
bool users_state_parse(const char *name, pp_user_state_t *state_r);

/*
 * Fills user_r from the first eight columns of row of res, selected in this order: id, email,
 * display_name, department, state, source, created_at, updated_at (users.c's USERS_COLUMNS;
 * codes.c selects the same with a "u." prefix in its joins). One decoder for every module
 * that reads user rows, so a new column is added in one place. A state name the schema does
 * not know reads as disabled; text too long for its field reads as "" (the schema's limits
 * match the fields, so neither happens with rows this module wrote).
 */
void users_from_row(const pp_db_result_t *res, size_t row, pp_user_t *user_r);

/*
 * A stable pseudonymous tag for log lines: the first USERS_LOG_TAG_LEN hex characters of a
 * keyed hash (pseudonym key) of "log:" + the canonical address (so it never equals an
 * accounting pseudonym), into out[USERS_LOG_TAG_LEN + 1].
 */
void users_log_tag(const pp_core_t *core, const char *email, char out[USERS_LOG_TAG_LEN + 1]);

/*
 * Adds a user with the canonical form of email. source (NULL = "admin") records how the
 * account came to be. *user_r (may be NULL) gets the new row.
 * Returns 0; DB_DUPLICATE (-2) when the address already exists (error says so); -1 otherwise.
 */
int users_add(pp_core_t *core, const char *actor, const char *email, pp_user_state_t state,
              const char *source, pp_user_t *user_r, char *error, size_t error_size);

/*
 * Looks a user up by address (canonicalised first) or by id. *found_r says whether it
 * exists; an invalid address is simply not found. Returns 0, or -1 on a storage error.
 */
int users_get_by_email(pp_core_t *core, const char *email, pp_user_t *user_r, bool *found_r,
                       char *error, size_t error_size);
int users_get_by_id(pp_core_t *core, int64_t id, pp_user_t *user_r, bool *found_r, char *error,
                    size_t error_size);

/*
 * Lists users ordered by email, filtered and paged by filter (NULL = defaults).
 * *users_r is new (free with users_list_free()), *count_r rows. Returns 0 or -1.
 */
int users_list(pp_core_t *core, const pp_user_filter_t *filter, pp_user_t **users_r,
               size_t *count_r, char *error, size_t error_size);

/* Frees a list from users_list() and sets *users to NULL. NULL is a no-op. */
void users_list_free(pp_user_t **users);

/*
 * State changes by address. approve: pending -> enabled only (fails for any other state);
 * enable / disable: from any state (a no-op change succeeds). A missing user fails with
 * "no user". Returns 0 or -1.
 */
int users_approve(pp_core_t *core, const char *actor, const char *email, char *error,
                  size_t error_size);
int users_enable(pp_core_t *core, const char *actor, const char *email, char *error,
                 size_t error_size);
int users_disable(pp_core_t *core, const char *actor, const char *email, char *error,
                  size_t error_size);

/* Deletes the user and, by cascade, their jobs, code and tokens. Returns 0 or -1. */
int users_delete(pp_core_t *core, const char *actor, const char *email, char *error,
                 size_t error_size);

/*
 * Sets the display name or department (trimmed; "" clears; at most the field size minus
 * one bytes; no control characters). Returns 0 or -1.
 */
int users_set_display_name(pp_core_t *core, const char *actor, const char *email,
                           const char *display_name, char *error, size_t error_size);
int users_set_department(pp_core_t *core, const char *actor, const char *email,
                         const char *department, char *error, size_t error_size);

#endif
