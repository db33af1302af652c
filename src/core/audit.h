/*
 * audit.h - the audit log: who changed what, when.
 *
 * Every administrative change (users, codes, sender rules, settings, admins) leaves one row in
 * audit_log. audit_record() runs on the database handle as it is: inside the caller's
 * transaction when the caller holds one (so the change and its trace commit together), on its
 * own otherwise. Details name objects and values, never a code, password or token.
 */
#ifndef PP_AUDIT_H
#define PP_AUDIT_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

#define AUDIT_ACTOR_MAX 128
#define AUDIT_ACTION_MAX 64
#define AUDIT_OBJECT_MAX 320
#define AUDIT_DETAIL_MAX 512
#define AUDIT_LIST_MAX 10000 /* most rows one listing returns */

/* One row of the audit log. */
typedef struct {
	int64_t id;
	int64_t at;                    /* Unix seconds */
	char actor[AUDIT_ACTOR_MAX];   /* "admin:alice", "cli", "system", "mail" … */
	char action[AUDIT_ACTION_MAX]; /* "user.add", "setting.set" … */
	char object[AUDIT_OBJECT_MAX]; /* what was changed: an address, a setting name */
	char detail[AUDIT_DETAIL_MAX]; /* free text, never a secret */
} pp_audit_entry_t;

/*
 * Appends one row at core's current time. actor and action must be non-empty; object and
 * detail may be NULL (stored as ""). Longer texts are cut to the field sizes above, at a
 * UTF-8 character boundary. Returns 0 or -1 (error says why).
 */
int audit_record(pp_core_t *core, const char *actor, const char *action, const char *object,
                 const char *detail, char *error, size_t error_size);

/*
 * Lists rows with at >= since, oldest first, at most limit (1..10000) rows.
 * *entries_r is new (free with audit_list_free()), *count_r rows. Returns 0 or -1.
 */
int audit_list(pp_core_t *core, int64_t since, size_t limit, pp_audit_entry_t **entries_r,
               size_t *count_r, char *error, size_t error_size);

/* Lists the newest limit (1..10000) rows, oldest of them first. As audit_list() otherwise. */
int audit_list_recent(pp_core_t *core, size_t limit, pp_audit_entry_t **entries_r,
                      size_t *count_r, char *error, size_t error_size);

/* Frees a list from audit_list() and sets *entries to NULL. NULL is a no-op. */
void audit_list_free(pp_audit_entry_t **entries);

#endif
