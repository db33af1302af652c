/*
 * sender-policy.h - who may send documents: allow/block lists and the unknown-sender policy.
 *
 * Rules are patterns of three forms (stored lower-case):
 *   user@example.com     that one address;
 *   @example.com         every address at exactly example.com (not its subdomains);
 *   @*.example.com       every address at any subdomain of example.com (a.example.com,
 *                        b.c.example.com), not example.com itself: add both rules for both.
 *
 * The decision for a sender, in order:
 *   1. the address is invalid                          -> reject;
 *   2. a block rule matches                            -> reject (block beats allow);
 *   3. allow rules exist and none matches              -> reject;
 *   4. the user exists: enabled -> accept, pending -> hold, disabled -> reject;
 *   5. unknown: setting users.unknown_sender_policy: accept (user created enabled), hold
 *      (user created pending, documents kept until an admin approves) or reject (nothing
 *      stored, no user created).
 * Mail and IPP intake call sender_policy_decide() once per submission.
 */
#ifndef PP_SENDER_POLICY_H
#define PP_SENDER_POLICY_H

#include "core/core.h"
#include "core/users.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SENDER_PATTERN_MAX (USERS_EMAIL_MAX + 2) /* "@*." + domain fits */

typedef enum { PP_SENDER_RULE_ALLOW = 0, PP_SENDER_RULE_BLOCK } pp_sender_rule_kind_t;

typedef struct {
	int64_t id;
	pp_sender_rule_kind_t kind;
	char pattern[SENDER_PATTERN_MAX];
	int64_t created_at;
} pp_sender_rule_t;

typedef enum {
	PP_SENDER_ACCEPT = 0, /* store and process the documents for an enabled user */
	PP_SENDER_HOLD,       /* store them for a pending user; an admin approves first */
	PP_SENDER_REJECT,     /* store nothing */
} pp_sender_decision_t;

typedef enum {
	PP_SENDER_REASON_INVALID_ADDRESS = 0,
	PP_SENDER_REASON_BLOCKED,
	PP_SENDER_REASON_NOT_ALLOWED,
	PP_SENDER_REASON_USER_ENABLED,
	PP_SENDER_REASON_USER_PENDING,
	PP_SENDER_REASON_USER_DISABLED,
	PP_SENDER_REASON_UNKNOWN_ACCEPTED,
	PP_SENDER_REASON_UNKNOWN_HELD,
	PP_SENDER_REASON_UNKNOWN_REJECTED,
} pp_sender_reason_t;

typedef struct {
	pp_sender_decision_t decision;
	pp_sender_reason_t reason;
	bool has_user;        /* user below is valid (existing or just created) */
	bool is_user_created; /* this call created the user */
	pp_user_t user;
} pp_sender_result_t;

/* "accept", "hold", "reject"; and a short text for a reason ("blocked", …). Static. */
const char *sender_decision_name(pp_sender_decision_t decision);
const char *sender_reason_name(pp_sender_reason_t reason);

/* "allow" / "block" and back. */
const char *sender_rule_kind_name(pp_sender_rule_kind_t kind);
bool sender_rule_kind_parse(const char *name, pp_sender_rule_kind_t *kind_r);

/*
 * Canonicalises a pattern (trim, lower-case) into out[SENDER_PATTERN_MAX] and checks its
 * form: a valid address, "@" + a valid domain, or "@*." + a valid domain. Returns 0 or -1.
 */
int sender_pattern_canonical(const char *input, char out[SENDER_PATTERN_MAX], char *error,
                             size_t error_size);

/* Whether a canonical pattern matches a canonical address (rules in the file comment). */
bool sender_pattern_matches(const char *pattern, const char *email);

/*
 * Adds a rule (duplicate fails with "already exists"), or removes one (a missing rule fails).
 * Both are audited. Returns 0 or -1.
 */
int sender_rule_add(pp_core_t *core, const char *actor, pp_sender_rule_kind_t kind,
                    const char *pattern, char *error, size_t error_size);
int sender_rule_remove(pp_core_t *core, const char *actor, pp_sender_rule_kind_t kind,
                       const char *pattern, char *error, size_t error_size);

/*
 * Lists every rule, block rules first, then by pattern. *rules_r is new (free with
 * sender_rule_list_free()), *count_r rules. Returns 0 or -1.
 */
int sender_rule_list(pp_core_t *core, pp_sender_rule_t **rules_r, size_t *count_r, char *error,
                     size_t error_size);

/* The same, read from the database whatever core->settings_cache holds (the cache's loader). */
int sender_rule_list_stored(pp_core_t *core, pp_sender_rule_t **rules_r, size_t *count_r,
                            char *error, size_t error_size);
void sender_rule_list_free(pp_sender_rule_t **rules);

/*
 * Decides what to do with a submission from sender (any case, surrounding spaces allowed)
 * and, for an unknown sender under accept/hold, creates the user with source (e.g. "mail",
 * "ipp"). Fills *result_r. Returns 0, or -1 on a storage error (then nothing was decided:
 * the caller retries later or answers with a temporary failure).
 */
int sender_policy_decide(pp_core_t *core, const char *sender, const char *source,
                         pp_sender_result_t *result_r, char *error, size_t error_size);

#endif
