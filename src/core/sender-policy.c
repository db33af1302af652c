/* sender-policy.c - allow/block lists and the unknown-sender policy; see sender-policy.h. */
#include "core/sender-policy.h"

#include "core/audit.h"
#include "core/settings-cache.h"
#include "core/settings.h"
#include "directory/directory.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

#define SENDER_RULES_MAX 10000 /* rules are read whole for each decision */

const char *sender_decision_name(pp_sender_decision_t decision)
{
	switch (decision) {
	case PP_SENDER_ACCEPT:
		return "accept";
	case PP_SENDER_HOLD:
		return "hold";
	case PP_SENDER_REJECT:
		return "reject";
	}
	return "unknown";
}

const char *sender_reason_name(pp_sender_reason_t reason)
{
	switch (reason) {
	case PP_SENDER_REASON_INVALID_ADDRESS:
		return "invalid address";
	case PP_SENDER_REASON_BLOCKED:
		return "blocked";
	case PP_SENDER_REASON_NOT_ALLOWED:
		return "not on the allow list";
	case PP_SENDER_REASON_USER_ENABLED:
		return "user enabled";
	case PP_SENDER_REASON_USER_PENDING:
		return "user pending approval";
	case PP_SENDER_REASON_USER_DISABLED:
		return "user disabled";
	case PP_SENDER_REASON_UNKNOWN_ACCEPTED:
		return "unknown sender accepted";
	case PP_SENDER_REASON_UNKNOWN_HELD:
		return "unknown sender held for approval";
	case PP_SENDER_REASON_UNKNOWN_REJECTED:
		return "unknown sender rejected";
	}
	return "unknown";
}

const char *sender_rule_kind_name(pp_sender_rule_kind_t kind)
{
	return kind == PP_SENDER_RULE_BLOCK ? "block" : "allow";
}

bool sender_rule_kind_parse(const char *name, pp_sender_rule_kind_t *kind_r)
{
	if (name != NULL && strcmp(name, "allow") == 0) {
		*kind_r = PP_SENDER_RULE_ALLOW;
		return true;
	}
	if (name != NULL && strcmp(name, "block") == 0) {
		*kind_r = PP_SENDER_RULE_BLOCK;
		return true;
	}
	return false;
}

int sender_pattern_canonical(const char *input, char out[SENDER_PATTERN_MAX], char *error,
                             size_t error_size)
{
	char buf[SENDER_PATTERN_MAX * 2];
	out[0] = '\0';
	if (input == NULL || !str_copy(buf, sizeof(buf), input)) {
		str_format(error, error_size, "sender rule: pattern missing or too long");
		return -1;
	}
	char *p = str_trim(buf);
	str_lower_ascii(p);
	if (p[0] != '@') {
		char canon[USERS_EMAIL_MAX];
		if (users_canonical_email(p, canon, error, error_size) < 0)
			return -1;
		(void)str_copy(out, SENDER_PATTERN_MAX, canon);
		return 0;
	}
	/* Check the domain by validating a stand-in address at it. */
	bool is_subdomains = str_has_prefix(p, "@*.");
	const char *domain = is_subdomains ? p + 3 : p + 1;
	char probe[USERS_EMAIL_MAX * 2];
	char canon[USERS_EMAIL_MAX];
	char reason[256];
	if (!str_format(probe, sizeof(probe), "x@%s", domain) ||
	    users_canonical_email(probe, canon, reason, sizeof(reason)) < 0) {
		str_format(error, error_size,
		           "sender rule: '%s' is not user@domain, @domain or @*.domain with a "
		           "valid domain",
		           p);
		return -1;
	}
	if (!str_format(out, SENDER_PATTERN_MAX, "%s%s", is_subdomains ? "@*." : "@", domain)) {
		str_format(error, error_size, "sender rule: pattern too long");
		return -1;
	}
	return 0;
}

bool sender_pattern_matches(const char *pattern, const char *email)
{
	const char *at = strchr(email, '@');
	if (at == NULL)
		return false;
	const char *domain = at + 1;
	if (str_has_prefix(pattern, "@*.")) {
		const char *suffix = pattern + 2; /* ".example.com" */
		size_t dlen = strlen(domain), slen = strlen(suffix);
		return dlen > slen && strcmp(domain + dlen - slen, suffix) == 0;
	}
	if (pattern[0] == '@')
		return strcmp(domain, pattern + 1) == 0;
	return strcmp(email, pattern) == 0;
}

int sender_rule_add(pp_core_t *core, const char *actor, pp_sender_rule_kind_t kind,
                    const char *pattern, char *error, size_t error_size)
{
	char canon[SENDER_PATTERN_MAX];
	if (sender_pattern_canonical(pattern, canon, error, error_size) < 0)
		return -1;
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "sender rule: cannot add: %s", db_error);
		return -1;
	}
	if (db_query(core->db, "SELECT COUNT(*) FROM sender_rules", NULL, 0, &res, db_error,
	             sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "sender rule: cannot add: %s", db_error);
		goto fail;
	}
	int64_t count = db_result_int(res, 0, 0);
	db_result_free(&res);
	if (count >= SENDER_RULES_MAX) {
		str_format(error, error_size,
		           "sender rule: already %d rules; use @domain or @*.domain rules instead "
		           "of single addresses",
		           SENDER_RULES_MAX);
		goto fail;
	}
	const pp_db_value_t params[] = {DB_TEXT(sender_rule_kind_name(kind)), DB_TEXT(canon),
	                                DB_INT(core_now(core))};
	int rc = db_exec(core->db,
	                 "INSERT INTO sender_rules (kind, pattern, created_at) VALUES ($1, $2, $3)",
	                 params, 3, NULL, db_error, sizeof(db_error));
	if (rc == DB_DUPLICATE) {
		str_format(error, error_size, "sender rule: %s %s already exists",
		           sender_rule_kind_name(kind), canon);
		goto fail;
	}
	if (rc != DB_OK) {
		str_format(error, error_size, "sender rule: cannot add: %s", db_error);
		goto fail;
	}
	if (audit_record(core, actor, "sender_rule.add", canon, sender_rule_kind_name(kind), error,
	                 error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "sender rule: cannot add: %s", db_error);
		return -1;
	}
	settings_cache_changed(core);
	log_info("sender_rule.added kind=%s pattern=%s actor=%s", sender_rule_kind_name(kind),
	         canon, actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int sender_rule_remove(pp_core_t *core, const char *actor, pp_sender_rule_kind_t kind,
                       const char *pattern, char *error, size_t error_size)
{
	char canon[SENDER_PATTERN_MAX];
	if (sender_pattern_canonical(pattern, canon, error, error_size) < 0)
		return -1;
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "sender rule: cannot remove: %s", db_error);
		return -1;
	}
	const pp_db_value_t params[] = {DB_TEXT(sender_rule_kind_name(kind)), DB_TEXT(canon)};
	int64_t changes = 0;
	if (db_exec(core->db, "DELETE FROM sender_rules WHERE kind = $1 AND pattern = $2", params,
	            2, &changes, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "sender rule: cannot remove: %s", db_error);
		goto fail;
	}
	if (changes == 0) {
		str_format(error, error_size,
		           "sender rule: no %s rule %s; `pullprint sender-rules` lists them",
		           sender_rule_kind_name(kind), canon);
		goto fail;
	}
	if (audit_record(core, actor, "sender_rule.remove", canon, sender_rule_kind_name(kind),
	                 error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "sender rule: cannot remove: %s", db_error);
		return -1;
	}
	settings_cache_changed(core);
	log_info("sender_rule.removed kind=%s pattern=%s actor=%s", sender_rule_kind_name(kind),
	         canon, actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int sender_rule_list(pp_core_t *core, pp_sender_rule_t **rules_r, size_t *count_r, char *error,
                     size_t error_size)
{
	if (core->settings_cache != NULL)
		return settings_cache_rules_copy(core, rules_r, count_r, error, error_size);
	return sender_rule_list_stored(core, rules_r, count_r, error, error_size);
}

int sender_rule_list_stored(pp_core_t *core, pp_sender_rule_t **rules_r, size_t *count_r,
                            char *error, size_t error_size)
{
	*rules_r = NULL;
	*count_r = 0;
	const pp_db_value_t params[] = {DB_INT(SENDER_RULES_MAX)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	/* 'block' sorts before 'allow' in descending order. */
	if (db_query(core->db,
	             "SELECT id, kind, pattern, created_at FROM sender_rules "
	             "ORDER BY kind DESC, pattern LIMIT $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "sender rules: cannot read: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	pp_sender_rule_t *rules = calloc(rows > 0 ? rows : 1, sizeof(*rules));
	if (rules == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "sender rules: out of memory");
		return -1;
	}
	for (size_t i = 0; i < rows; i++) {
		rules[i].id = db_result_int(res, i, 0);
		if (!sender_rule_kind_parse(db_result_text(res, i, 1), &rules[i].kind))
			rules[i].kind = PP_SENDER_RULE_BLOCK;
		(void)str_copy(rules[i].pattern, sizeof(rules[i].pattern),
		               db_result_text(res, i, 2));
		rules[i].created_at = db_result_int(res, i, 3);
	}
	db_result_free(&res);
	*rules_r = rules;
	*count_r = rows;
	return 0;
}

void sender_rule_list_free(pp_sender_rule_t **rules)
{
	if (rules == NULL || *rules == NULL)
		return;
	free(*rules);
	*rules = NULL;
}

/* What the rules say about one address (sender_rules_check()). */
typedef struct {
	const char *email;
	bool has_allow, on_allow, on_block;
} sender_verdict_t;

static void sender_rule_apply(const pp_sender_rule_t *rule, void *ctx)
{
	sender_verdict_t *v = ctx;
	bool match = sender_pattern_matches(rule->pattern, v->email);
	if (rule->kind == PP_SENDER_RULE_BLOCK) {
		v->on_block = v->on_block || match;
	} else {
		v->has_allow = true;
		v->on_allow = v->on_allow || match;
	}
}

/* Applies the rules to email: sets *is_blocked and *is_allowed (true when no allow rule). */
static int sender_rules_check(pp_core_t *core, const char *email, bool *is_blocked_r,
                              bool *is_allowed_r, char *error, size_t error_size)
{
	sender_verdict_t v = {.email = email};
	if (core->settings_cache != NULL) {
		/* Matched in place: no copy of up to SENDER_RULES_MAX rules per job. */
		if (settings_cache_rules_visit(core, sender_rule_apply, &v, error, error_size) < 0)
			return -1;
	} else {
		pp_sender_rule_t *rules = NULL;
		size_t count = 0;
		if (sender_rule_list_stored(core, &rules, &count, error, error_size) < 0)
			return -1;
		for (size_t i = 0; i < count; i++)
			sender_rule_apply(&rules[i], &v);
		sender_rule_list_free(&rules);
	}
	*is_blocked_r = v.on_block;
	*is_allowed_r = !v.has_allow || v.on_allow;
	return 0;
}

static void sender_result_from_user(pp_sender_result_t *result, const pp_user_t *user)
{
	result->has_user = true;
	result->user = *user;
	switch (user->state) {
	case PP_USER_ENABLED:
		result->decision = PP_SENDER_ACCEPT;
		result->reason = PP_SENDER_REASON_USER_ENABLED;
		break;
	case PP_USER_PENDING:
		result->decision = PP_SENDER_HOLD;
		result->reason = PP_SENDER_REASON_USER_PENDING;
		break;
	case PP_USER_DISABLED:
		result->decision = PP_SENDER_REJECT;
		result->reason = PP_SENDER_REASON_USER_DISABLED;
		break;
	}
}

/*
 * On-boarding, between "the user exists" and the unknown-sender policy: a sender the company
 * directory knows (and its group rules let print) becomes an enabled user with the
 * directory's data; one it knows but refuses is rejected; one it does not know, or a
 * directory that cannot be asked (logged as an error), falls through to the policy. The
 * directory is reached through core->directory_sender (core.h): a program without the
 * directory module skips this step. Returns 1 when decided, 0 to go on, -1 on a storage
 * error.
 */
static int sender_directory_onboard(pp_core_t *core, const char *email, const char *source,
                                    pp_sender_result_t *result, char *error, size_t error_size)
{
	if (core->directory_sender == NULL)
		return 0;
	pp_directory_result_t found;
	if (core->directory_sender(core, email, source, &found, error, error_size) < 0)
		return -1;
	switch (found.outcome) {
	case PP_DIRECTORY_OK:
		result->has_user = true;
		result->is_user_created = found.is_user_created;
		result->user = found.user;
		result->decision = PP_SENDER_ACCEPT;
		result->reason = found.is_user_created ? PP_SENDER_REASON_UNKNOWN_ACCEPTED
		                                       : PP_SENDER_REASON_USER_ENABLED;
		return 1;
	case PP_DIRECTORY_DENIED:
		result->reason = PP_SENDER_REASON_NOT_ALLOWED;
		return 1;
	case PP_DIRECTORY_UNAVAILABLE:
		log_error("sender.directory_unavailable source=%s directory=%s error=\"%s\" "
		          "fallback=unknown_sender_policy",
		          source, found.directory, found.reason);
		return 0;
	case PP_DIRECTORY_NONE:
	case PP_DIRECTORY_NOT_FOUND:
		return 0;
	}
	return 0;
}

/* Decides without logging; see sender_policy_decide(). */
static int sender_decide(pp_core_t *core, const char *email, const char *source,
                         pp_sender_result_t *result, char *error, size_t error_size)
{
	bool is_blocked, is_allowed;
	if (sender_rules_check(core, email, &is_blocked, &is_allowed, error, error_size) < 0)
		return -1;
	if (is_blocked || !is_allowed) {
		result->reason =
		    is_blocked ? PP_SENDER_REASON_BLOCKED : PP_SENDER_REASON_NOT_ALLOWED;
		return 0;
	}
	pp_user_t user;
	bool found;
	if (users_get_by_email(core, email, &user, &found, error, error_size) < 0)
		return -1;
	if (found) {
		sender_result_from_user(result, &user);
		return 0;
	}
	int rc = sender_directory_onboard(core, email, source, result, error, error_size);
	if (rc != 0)
		return rc < 0 ? -1 : 0;

	char policy[SETTINGS_VALUE_MAX];
	if (settings_get_string(core, "users.unknown_sender_policy", policy, sizeof(policy), error,
	                        error_size) < 0)
		return -1;
	pp_user_state_t state;
	if (strcmp(policy, "accept") == 0) {
		state = PP_USER_ENABLED;
	} else if (strcmp(policy, "hold") == 0) {
		state = PP_USER_PENDING;
	} else {
		result->reason = PP_SENDER_REASON_UNKNOWN_REJECTED;
		return 0;
	}
	rc = users_add(core, source, email, state, source, &user, error, error_size);
	if (rc == DB_DUPLICATE) {
		/* Another submission created the user a moment ago: follow its state. */
		if (users_get_by_email(core, email, &user, &found, error, error_size) < 0)
			return -1;
		if (!found) {
			str_format(error, error_size,
			           "sender policy: %s was created and deleted meanwhile; try again",
			           email);
			return -1;
		}
		sender_result_from_user(result, &user);
		return 0;
	}
	if (rc < 0)
		return -1;
	result->has_user = true;
	result->is_user_created = true;
	result->user = user;
	result->decision = state == PP_USER_ENABLED ? PP_SENDER_ACCEPT : PP_SENDER_HOLD;
	result->reason = state == PP_USER_ENABLED ? PP_SENDER_REASON_UNKNOWN_ACCEPTED
	                                          : PP_SENDER_REASON_UNKNOWN_HELD;
	return 0;
}

int sender_policy_decide(pp_core_t *core, const char *sender, const char *source,
                         pp_sender_result_t *result_r, char *error, size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	result_r->decision = PP_SENDER_REJECT;
	result_r->reason = PP_SENDER_REASON_INVALID_ADDRESS;
	if (source == NULL || source[0] == '\0')
		source = "intake";

	char email[USERS_EMAIL_MAX];
	char reason[256];
	if (users_canonical_email(sender, email, reason, sizeof(reason)) < 0) {
		log_info("sender.rejected source=%s reason=\"invalid address\"", source);
		return 0;
	}
	if (sender_decide(core, email, source, result_r, error, error_size) < 0)
		return -1;
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, email, tag);
	/* A known user let through is every job's case: only the exceptions are news. */
	bool is_routine = result_r->decision == PP_SENDER_ACCEPT && !result_r->is_user_created;
	pp_log(is_routine ? PP_LOG_DEBUG : PP_LOG_INFO,
	       "sender.decision user=%s source=%s decision=%s reason=\"%s\" created=%s", tag,
	       source, sender_decision_name(result_r->decision),
	       sender_reason_name(result_r->reason), result_r->is_user_created ? "yes" : "no");
	return 0;
}
