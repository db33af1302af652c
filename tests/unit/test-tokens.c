/* test-tokens.c - bearer tokens and admin sessions: expiry, renewal, revocation, CSRF. */
#include "test-db-support.h"

#include "core/settings.h"
#include "core/tokens.h"
#include "core/users.h"
#include "lib/str.h"

#include <string.h>

/* The accounts every case works with: two users and one admin row (inserted directly). */
typedef struct {
	int64_t user_id;
	int64_t user2_id;
	int64_t admin_id;
} accounts_t;

static accounts_t add_accounts(test_core_t *tc)
{
	accounts_t acct;
	char error[512];
	pp_user_t user;
	assert_int_equal(users_add(&tc->core, "cli", "ann@example.com", PP_USER_ENABLED, NULL,
	                           &user, error, sizeof(error)),
	                 0);
	acct.user_id = user.id;
	assert_int_equal(users_add(&tc->core, "cli", "bob@example.com", PP_USER_ENABLED, NULL,
	                           &user, error, sizeof(error)),
	                 0);
	acct.user2_id = user.id;
	assert_int_equal(db_exec(tc->core.db,
	                         "INSERT INTO admins (name, password_hash, created_at, updated_at) "
	                         "VALUES ('root', 'x', 1, 1)",
	                         NULL, 0, NULL, error, sizeof(error)),
	                 DB_OK);
	pp_db_result_t *res = NULL;
	assert_int_equal(
	    db_query(tc->core.db, "SELECT id FROM admins", NULL, 0, &res, error, sizeof(error)),
	    DB_OK);
	acct.admin_id = db_result_int(res, 0, 0);
	db_result_free(&res);
	return acct;
}

static bool valid(test_core_t *tc, pp_token_kind_t kind, const char *token)
{
	char error[512];
	bool ok = true;
	assert_int_equal(tokens_validate(&tc->core, kind, token, NULL, &ok, error, sizeof(error)),
	                 0);
	return ok;
}

static void test_app_token_lifetime(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	assert_int_equal(
	    settings_set(&tc->core, "cli", "tokens.app_lifetime_hours", "2", error, sizeof(error)),
	    0);
	char token[TOKENS_TEXT_MAX];
	int64_t expires_at = 0;
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_APP, acct.user_id, token, NULL, &expires_at,
	                              error, sizeof(error)),
	                 0);
	assert_true(str_has_prefix(token, "ppa_"));
	assert_int_equal(strlen(token), TOKENS_TEXT_LEN);
	assert_int_equal(expires_at, tc->now + 2 * 3600);

	pp_token_info_t info;
	bool ok = false;
	test_core_advance(tc, 3600);
	assert_int_equal(
	    tokens_validate(&tc->core, PP_TOKEN_APP, token, &info, &ok, error, sizeof(error)), 0);
	assert_true(ok);
	assert_int_equal(info.user_id, acct.user_id);
	assert_int_equal(info.kind, PP_TOKEN_APP);
	assert_int_equal(info.last_used_at, tc->now);
	/* App tokens do not slide on use. */
	assert_int_equal(info.expires_at, expires_at);
	tc->now = expires_at - 1;
	assert_true(valid(tc, PP_TOKEN_APP, token));
	tc->now = expires_at;
	assert_false(valid(tc, PP_TOKEN_APP, token));

	/* Only the hash is stored. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db, "SELECT token_hash, kind FROM tokens", NULL, 0, &res,
	                          error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), 1);
	assert_null(strstr(db_result_text(res, 0, 0), token + 4));
	assert_string_equal(db_result_text(res, 0, 1), "app");
	db_result_free(&res);

	/* Purge removes it. */
	int64_t purged = 0;
	assert_int_equal(tokens_purge_expired(&tc->core, &purged, error, sizeof(error)), 0);
	assert_int_equal(purged, 1);
}

static void test_renew_stay_signed_in(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	char token[TOKENS_TEXT_MAX];
	int64_t expires_at = 0;
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_APP, acct.user_id, token, NULL, &expires_at,
	                              error, sizeof(error)),
	                 0);
	assert_int_equal(expires_at, tc->now + 720 * 3600);
	tc->now = expires_at - 10;
	bool renewed = false;
	int64_t new_expiry = 0;
	assert_int_equal(tokens_renew(&tc->core, PP_TOKEN_APP, token, &renewed, &new_expiry, error,
	                              sizeof(error)),
	                 0);
	assert_true(renewed);
	assert_int_equal(new_expiry, tc->now + 720 * 3600);
	tc->now = expires_at + 10;
	assert_true(valid(tc, PP_TOKEN_APP, token));
	/* Once expired, renewal is refused. */
	tc->now = new_expiry;
	assert_int_equal(
	    tokens_renew(&tc->core, PP_TOKEN_APP, token, &renewed, NULL, error, sizeof(error)), 0);
	assert_false(renewed);
}

static void test_kind_checks_and_garbage(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	char app[TOKENS_TEXT_MAX], session[TOKENS_TEXT_MAX], csrf[TOKENS_TEXT_MAX];
	assert_int_equal(
	    tokens_issue(&tc->core, PP_TOKEN_APP, acct.user_id, app, NULL, NULL, error, sizeof(error)),
	    0);
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_ADMIN_SESSION, acct.admin_id, session, csrf,
	                              NULL, error, sizeof(error)),
	                 0);
	assert_true(str_has_prefix(session, "pps_"));
	assert_true(str_has_prefix(csrf, "ppc_"));
	assert_string_not_equal(app + 4, session + 4);
	assert_true(valid(tc, PP_TOKEN_APP, app));
	assert_true(valid(tc, PP_TOKEN_ADMIN_SESSION, session));
	/* A token is only good for its kind, even with the prefix swapped. */
	assert_false(valid(tc, PP_TOKEN_ADMIN_SESSION, app));
	assert_false(valid(tc, PP_TOKEN_APP, session));
	char swapped[TOKENS_TEXT_MAX];
	assert_true(str_format(swapped, sizeof(swapped), "pps_%s", app + 4));
	assert_false(valid(tc, PP_TOKEN_ADMIN_SESSION, swapped));
	/* Garbage. */
	static const char *const junk[] = {"", "ppa_", "ppa_xyz", "PPA_00", NULL};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_false(valid(tc, PP_TOKEN_APP, junk[i]));
	char upper[TOKENS_TEXT_MAX];
	assert_true(str_copy(upper, sizeof(upper), app));
	for (char *p = upper + 4; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	}
	if (strcmp(upper, app) != 0)
		assert_false(valid(tc, PP_TOKEN_APP, upper));
	/* A session needs room for its CSRF token. */
	char s2[TOKENS_TEXT_MAX];
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_ADMIN_SESSION, acct.admin_id, s2, NULL, NULL,
	                              error, sizeof(error)),
	                 -1);
}

static void test_session_idle_timeout_and_csrf(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	assert_int_equal(settings_set(&tc->core, "cli", "tokens.session_lifetime_minutes", "10",
	                              error, sizeof(error)),
	                 0);
	char session[TOKENS_TEXT_MAX], csrf[TOKENS_TEXT_MAX];
	int64_t expires_at = 0;
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_ADMIN_SESSION, acct.admin_id, session, csrf,
	                              &expires_at, error, sizeof(error)),
	                 0);
	assert_int_equal(expires_at, tc->now + 600);
	/* Used every 9 minutes, it stays alive past 10 minutes... */
	for (int i = 0; i < 3; i++) {
		test_core_advance(tc, 540);
		pp_token_info_t info;
		bool ok = false;
		assert_int_equal(tokens_validate(&tc->core, PP_TOKEN_ADMIN_SESSION, session, &info,
		                                 &ok, error, sizeof(error)),
		                 0);
		assert_true(ok);
		assert_int_equal(info.admin_id, acct.admin_id);
		assert_int_equal(info.expires_at, tc->now + 600);
	}
	bool ok = false;
	assert_int_equal(tokens_csrf_verify(&tc->core, session, csrf, &ok, error, sizeof(error)), 0);
	assert_true(ok);
	/* Wrong CSRF, CSRF of another session, app token as session: all refused. */
	char other[TOKENS_TEXT_MAX], other_csrf[TOKENS_TEXT_MAX];
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_ADMIN_SESSION, acct.admin_id, other,
	                              other_csrf, NULL, error, sizeof(error)),
	                 0);
	assert_int_equal(
	    tokens_csrf_verify(&tc->core, session, other_csrf, &ok, error, sizeof(error)), 0);
	assert_false(ok);
	assert_int_equal(tokens_csrf_verify(&tc->core, session, "", &ok, error, sizeof(error)), 0);
	assert_false(ok);
	assert_int_equal(tokens_csrf_verify(&tc->core, session, NULL, &ok, error, sizeof(error)), 0);
	assert_false(ok);
	assert_int_equal(tokens_csrf_verify(&tc->core, csrf, csrf, &ok, error, sizeof(error)), 0);
	assert_false(ok);
	/* ...and dies after 10 idle minutes; its CSRF token with it. */
	test_core_advance(tc, 600);
	assert_false(valid(tc, PP_TOKEN_ADMIN_SESSION, session));
	assert_int_equal(tokens_csrf_verify(&tc->core, session, csrf, &ok, error, sizeof(error)), 0);
	assert_false(ok);
}

static void test_revoke(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	char a1[TOKENS_TEXT_MAX], a2[TOKENS_TEXT_MAX], b1[TOKENS_TEXT_MAX];
	char s1[TOKENS_TEXT_MAX], c1[TOKENS_TEXT_MAX];
	assert_int_equal(
	    tokens_issue(&tc->core, PP_TOKEN_APP, acct.user_id, a1, NULL, NULL, error, sizeof(error)),
	    0);
	assert_int_equal(
	    tokens_issue(&tc->core, PP_TOKEN_APP, acct.user_id, a2, NULL, NULL, error, sizeof(error)),
	    0);
	assert_int_equal(
	    tokens_issue(&tc->core, PP_TOKEN_APP, acct.user2_id, b1, NULL, NULL, error, sizeof(error)),
	    0);
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_ADMIN_SESSION, acct.admin_id, s1, c1, NULL,
	                              error, sizeof(error)),
	                 0);
	bool revoked = false;
	assert_int_equal(tokens_revoke(&tc->core, a1, &revoked, error, sizeof(error)), 0);
	assert_true(revoked);
	assert_false(valid(tc, PP_TOKEN_APP, a1));
	assert_true(valid(tc, PP_TOKEN_APP, a2));
	assert_int_equal(tokens_revoke(&tc->core, a1, &revoked, error, sizeof(error)), 0);
	assert_false(revoked);

	int64_t count = 0;
	assert_int_equal(tokens_revoke_user(&tc->core, acct.user_id, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_false(valid(tc, PP_TOKEN_APP, a2));
	assert_true(valid(tc, PP_TOKEN_APP, b1));
	assert_true(valid(tc, PP_TOKEN_ADMIN_SESSION, s1));
	assert_int_equal(tokens_revoke_admin(&tc->core, acct.admin_id, &count, error, sizeof(error)),
	                 0);
	assert_int_equal(count, 1);
	assert_false(valid(tc, PP_TOKEN_ADMIN_SESSION, s1));

	/* Deleting a user takes their tokens. */
	assert_int_equal(users_delete(&tc->core, "cli", "bob@example.com", error, sizeof(error)), 0);
	assert_false(valid(tc, PP_TOKEN_APP, b1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_app_token_lifetime),
	    TEST_CORE_CASE(test_renew_stay_signed_in),
	    TEST_CORE_CASE(test_kind_checks_and_garbage),
	    TEST_CORE_CASE(test_session_idle_timeout_and_csrf),
	    TEST_CORE_CASE(test_revoke),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
