/* test-policy.c - sender rules and the unknown-sender policy. */
#include "test-db-support.h"

#include "core/audit.h"
#include "core/sender-policy.h"
#include "core/settings.h"
#include "core/users.h"
#include "lib/str.h"

#include <string.h>

static const struct {
	const char *input;
	const char *canonical; /* NULL: refused */
} pattern_rows[] = {
    {"Ann@Example.com", "ann@example.com"},
    {" @Example.COM ", "@example.com"},
    {"@*.example.com", "@*.example.com"},
    {"@*.co.uk", "@*.co.uk"},
    {"@", NULL},
    {"@*", NULL},
    {"@*.", NULL},
    {"@*.com", NULL}, /* single label after the wildcard */
    {"@localhost", NULL},
    {"@exa mple.com", NULL},
    {"@*example.com", NULL},
    {"*@example.com", "*@example.com"}, /* '*' is a legal local-part character */
    {"ann", NULL},
    {"", NULL},
};

static void test_pattern_canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pattern_rows) / sizeof(pattern_rows[0]); i++) {
		char out[SENDER_PATTERN_MAX];
		char error[256];
		int rc = sender_pattern_canonical(pattern_rows[i].input, out, error, sizeof(error));
		if (pattern_rows[i].canonical == NULL) {
			if (rc == 0)
				fail_msg("row %zu '%s' accepted as '%s'", i, pattern_rows[i].input,
				         out);
		} else {
			if (rc != 0)
				fail_msg("row %zu '%s' refused: %s", i, pattern_rows[i].input,
				         error);
			assert_string_equal(out, pattern_rows[i].canonical);
		}
	}
}

static const struct {
	const char *pattern;
	const char *email;
	bool matches;
} match_rows[] = {
    {"ann@example.com", "ann@example.com", true},
    {"ann@example.com", "bob@example.com", false},
    {"ann@example.com", "ann@sub.example.com", false},
    {"@example.com", "ann@example.com", true},
    {"@example.com", "ann@sub.example.com", false},
    {"@example.com", "ann@badexample.com", false},
    {"@example.com", "ann@example.com.evil.net", false},
    {"@*.example.com", "ann@sub.example.com", true},
    {"@*.example.com", "ann@a.b.example.com", true},
    {"@*.example.com", "ann@example.com", false},
    {"@*.example.com", "ann@badexample.com", false},
    {"@*.example.com", "ann@x.badexample.com", false},
};

static void test_pattern_matching(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
		if (sender_pattern_matches(match_rows[i].pattern, match_rows[i].email) !=
		    match_rows[i].matches)
			fail_msg("row %zu: %s vs %s should be %s", i, match_rows[i].pattern,
			         match_rows[i].email,
			         match_rows[i].matches ? "a match" : "no match");
	}
}

static void add_rule(test_core_t *tc, pp_sender_rule_kind_t kind, const char *pattern)
{
	char error[512];
	if (sender_rule_add(&tc->core, "admin:root", kind, pattern, error, sizeof(error)) != 0)
		fail_msg("rule %s: %s", pattern, error);
}

static pp_sender_result_t decide(test_core_t *tc, const char *sender)
{
	pp_sender_result_t r;
	char error[512];
	if (sender_policy_decide(&tc->core, sender, "mail", &r, error, sizeof(error)) != 0)
		fail_msg("decide %s: %s", sender, error);
	return r;
}

static int64_t user_count(test_core_t *tc)
{
	pp_db_result_t *res = NULL;
	char error[512];
	assert_int_equal(db_query(tc->core.db, "SELECT COUNT(*) FROM users", NULL, 0, &res, error,
	                          sizeof(error)),
	                 DB_OK);
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

/* Rules and users are set up once; each row is one sender under policy "reject". */
static void test_decision_table(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(settings_set(&tc->core, "cli", "users.unknown_sender_policy", "reject",
	                              error, sizeof(error)),
	                 0);
	assert_int_equal(users_add(&tc->core, "cli", "en@example.com", PP_USER_ENABLED, NULL, NULL,
	                           error, sizeof(error)),
	                 0);
	assert_int_equal(users_add(&tc->core, "cli", "pen@example.com", PP_USER_PENDING, NULL, NULL,
	                           error, sizeof(error)),
	                 0);
	assert_int_equal(users_add(&tc->core, "cli", "dis@example.com", PP_USER_DISABLED, NULL, NULL,
	                           error, sizeof(error)),
	                 0);
	assert_int_equal(users_add(&tc->core, "cli", "mallory@example.com", PP_USER_ENABLED, NULL,
	                           NULL, error, sizeof(error)),
	                 0);
	assert_int_equal(users_add(&tc->core, "cli", "eve@partner.org", PP_USER_ENABLED, NULL, NULL,
	                           error, sizeof(error)),
	                 0);

	static const struct {
		const char *sender;
		pp_sender_decision_t decision;
		pp_sender_reason_t reason;
	} before_allow[] = {
	    /* No allow rules yet: every valid sender passes the lists. */
	    {"en@example.com", PP_SENDER_ACCEPT, PP_SENDER_REASON_USER_ENABLED},
	    {" EN@Example.com ", PP_SENDER_ACCEPT, PP_SENDER_REASON_USER_ENABLED},
	    {"pen@example.com", PP_SENDER_HOLD, PP_SENDER_REASON_USER_PENDING},
	    {"dis@example.com", PP_SENDER_REJECT, PP_SENDER_REASON_USER_DISABLED},
	    {"eve@partner.org", PP_SENDER_ACCEPT, PP_SENDER_REASON_USER_ENABLED},
	    {"new@example.com", PP_SENDER_REJECT, PP_SENDER_REASON_UNKNOWN_REJECTED},
	    {"bad address", PP_SENDER_REJECT, PP_SENDER_REASON_INVALID_ADDRESS},
	    {NULL, PP_SENDER_REJECT, PP_SENDER_REASON_INVALID_ADDRESS},
	};
	for (size_t i = 0; i < sizeof(before_allow) / sizeof(before_allow[0]); i++) {
		pp_sender_result_t r = decide(tc, before_allow[i].sender);
		if (r.decision != before_allow[i].decision || r.reason != before_allow[i].reason)
			fail_msg("row %zu %s: got %s (%s)", i, before_allow[i].sender,
			         sender_decision_name(r.decision), sender_reason_name(r.reason));
		assert_false(r.is_user_created);
	}

	/* Block one address and a subdomain tree; allow the whole domain and its subdomains. */
	add_rule(tc, PP_SENDER_RULE_BLOCK, "mallory@example.com");
	add_rule(tc, PP_SENDER_RULE_BLOCK, "@*.spam.example.com");
	add_rule(tc, PP_SENDER_RULE_ALLOW, "@example.com");
	add_rule(tc, PP_SENDER_RULE_ALLOW, "@*.example.com");
	static const struct {
		const char *sender;
		pp_sender_decision_t decision;
		pp_sender_reason_t reason;
	} rows[] = {
	    {"en@example.com", PP_SENDER_ACCEPT, PP_SENDER_REASON_USER_ENABLED},
	    {"pen@example.com", PP_SENDER_HOLD, PP_SENDER_REASON_USER_PENDING},
	    {"dis@example.com", PP_SENDER_REJECT, PP_SENDER_REASON_USER_DISABLED},
	    /* block beats allow, even for an enabled user */
	    {"mallory@example.com", PP_SENDER_REJECT, PP_SENDER_REASON_BLOCKED},
	    {"x@a.spam.example.com", PP_SENDER_REJECT, PP_SENDER_REASON_BLOCKED},
	    /* an existing user outside the allow list is refused */
	    {"eve@partner.org", PP_SENDER_REJECT, PP_SENDER_REASON_NOT_ALLOWED},
	    {"x@example.com.evil.net", PP_SENDER_REJECT, PP_SENDER_REASON_NOT_ALLOWED},
	    /* allowed, but unknown under "reject" */
	    {"new@sub.example.com", PP_SENDER_REJECT, PP_SENDER_REASON_UNKNOWN_REJECTED},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_sender_result_t r = decide(tc, rows[i].sender);
		if (r.decision != rows[i].decision || r.reason != rows[i].reason)
			fail_msg("row %zu %s: got %s (%s)", i, rows[i].sender,
			         sender_decision_name(r.decision), sender_reason_name(r.reason));
		assert_false(r.is_user_created);
	}
	/* "reject" stored nothing. */
	assert_int_equal(user_count(tc), 5);
}

static void test_unknown_sender_modes(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	static const struct {
		const char *policy; /* NULL: the default (hold) */
		const char *sender;
		pp_sender_decision_t decision;
		bool is_created;
		pp_user_state_t state;
	} rows[] = {
	    {NULL, "a@example.com", PP_SENDER_HOLD, true, PP_USER_PENDING},
	    {"accept", "b@example.com", PP_SENDER_ACCEPT, true, PP_USER_ENABLED},
	    {"hold", "c@example.com", PP_SENDER_HOLD, true, PP_USER_PENDING},
	    {"reject", "d@example.com", PP_SENDER_REJECT, false, PP_USER_ENABLED},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].policy != NULL)
			assert_int_equal(settings_set(&tc->core, "cli",
			                              "users.unknown_sender_policy", rows[i].policy,
			                              error, sizeof(error)),
			                 0);
		int64_t before = user_count(tc);
		pp_sender_result_t r = decide(tc, rows[i].sender);
		assert_int_equal(r.decision, rows[i].decision);
		assert_int_equal(r.is_user_created, rows[i].is_created);
		assert_int_equal(r.has_user, rows[i].is_created);
		assert_int_equal(user_count(tc), before + (rows[i].is_created ? 1 : 0));
		pp_user_t user;
		bool found;
		assert_int_equal(users_get_by_email(&tc->core, rows[i].sender, &user, &found, error,
		                                    sizeof(error)),
		                 0);
		assert_int_equal(found, rows[i].is_created);
		if (found) {
			assert_int_equal(user.state, rows[i].state);
			assert_int_equal(user.id, r.user.id);
			assert_string_equal(user.source, "mail");
		}
	}
	/* A second message from a created user is not "created" again. */
	pp_sender_result_t r = decide(tc, "a@example.com");
	assert_int_equal(r.decision, PP_SENDER_HOLD);
	assert_int_equal(r.reason, PP_SENDER_REASON_USER_PENDING);
	assert_false(r.is_user_created);
	assert_true(r.has_user);
	/* Blocked unknown senders are not created under "accept". */
	assert_int_equal(settings_set(&tc->core, "cli", "users.unknown_sender_policy", "accept",
	                              error, sizeof(error)),
	                 0);
	add_rule(tc, PP_SENDER_RULE_BLOCK, "@spam.example");
	int64_t before = user_count(tc);
	r = decide(tc, "x@spam.example");
	assert_int_equal(r.decision, PP_SENDER_REJECT);
	assert_int_equal(r.reason, PP_SENDER_REASON_BLOCKED);
	assert_int_equal(user_count(tc), before);
}

static void test_rule_changes_audited(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	add_rule(tc, PP_SENDER_RULE_ALLOW, "@Example.com");
	assert_int_equal(sender_rule_add(&tc->core, "cli", PP_SENDER_RULE_ALLOW, "@example.com",
	                                 error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "already exists"));
	/* The same pattern may be on both lists (block wins). */
	add_rule(tc, PP_SENDER_RULE_BLOCK, "@example.com");
	assert_int_equal(sender_rule_add(&tc->core, "cli", PP_SENDER_RULE_BLOCK, "@localhost", error,
	                                 sizeof(error)),
	                 -1);

	pp_sender_rule_t *rules = NULL;
	size_t count = 0;
	assert_int_equal(sender_rule_list(&tc->core, &rules, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_int_equal(rules[0].kind, PP_SENDER_RULE_BLOCK);
	assert_string_equal(rules[0].pattern, "@example.com");
	assert_int_equal(rules[1].kind, PP_SENDER_RULE_ALLOW);
	sender_rule_list_free(&rules);

	assert_int_equal(sender_rule_remove(&tc->core, "admin:root", PP_SENDER_RULE_BLOCK,
	                                    "@EXAMPLE.com", error, sizeof(error)),
	                 0);
	assert_int_equal(sender_rule_remove(&tc->core, "admin:root", PP_SENDER_RULE_BLOCK,
	                                    "@example.com", error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "no block rule"));

	pp_audit_entry_t *entries = NULL;
	assert_int_equal(audit_list(&tc->core, 0, 10, &entries, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 3);
	assert_string_equal(entries[0].action, "sender_rule.add");
	assert_string_equal(entries[0].object, "@example.com");
	assert_string_equal(entries[0].detail, "allow");
	assert_string_equal(entries[1].detail, "block");
	assert_string_equal(entries[2].action, "sender_rule.remove");
	assert_string_equal(entries[2].actor, "admin:root");
	audit_list_free(&entries);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pattern_canonical), cmocka_unit_test(test_pattern_matching),
	    TEST_CORE_CASE(test_decision_table),        TEST_CORE_CASE(test_unknown_sender_modes),
	    TEST_CORE_CASE(test_rule_changes_audited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
