/*
 * test-tokens.c - bearer tokens and admin sessions (expiry, renewal, revocation, CSRF), and
 * the labelled tokens: personal printer addresses and forwarders (issue, list, revoke by
 * handle, audit).
 */
#include "test-db-support.h"

#include "core/audit.h"
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

/* Uses a session that must be valid now; returns what validation reports of it. */
static pp_token_info_t use_session(test_core_t *tc, const char *session)
{
	char error[512];
	pp_token_info_t info;
	bool ok = false;
	assert_int_equal(tokens_validate(&tc->core, PP_TOKEN_ADMIN_SESSION, session, &info, &ok,
	                                 error, sizeof(error)),
	                 0);
	assert_true(ok);
	return info;
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
	assert_int_equal(settings_set(&tc->core, "cli", "admin.idle_timeout_s", "600",
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
		pp_token_info_t info = use_session(tc, session);
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

/*
 * However often it is used, an admin session ends 12 hours after sign-in; a long idle
 * setting does not outlast that either, from the sign-in on. Each use is one write.
 */
static void test_session_ends_after_twelve_hours(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	assert_int_equal(settings_set(&tc->core, "cli", "admin.idle_timeout_s", "900", error,
	                              sizeof(error)),
	                 0);
	char session[TOKENS_TEXT_MAX], csrf[TOKENS_TEXT_MAX];
	int64_t signed_in = tc->now;
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_ADMIN_SESSION, acct.admin_id, session,
	                              csrf, NULL, error, sizeof(error)),
	                 0);
	/* Used every 10 minutes for 12 hours: the expiry slides, then stops at the 12 hours. */
	while (tc->now + 600 < signed_in + TOKENS_ADMIN_SESSION_MAX_S) {
		test_core_advance(tc, 600);
		pp_token_info_t info = use_session(tc, session);
		int64_t want = tc->now + 900;
		if (want > signed_in + TOKENS_ADMIN_SESSION_MAX_S)
			want = signed_in + TOKENS_ADMIN_SESSION_MAX_S;
		assert_int_equal(info.expires_at, want);
	}
	test_core_advance(tc, 600);
	assert_false(valid(tc, PP_TOKEN_ADMIN_SESSION, session));

	/* A day's idle setting: the new session still ends 12 hours after sign-in. */
	assert_int_equal(settings_set(&tc->core, "cli", "admin.idle_timeout_s", "86400", error,
	                              sizeof(error)),
	                 0);
	int64_t expires_at = 0;
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_ADMIN_SESSION, acct.admin_id, session,
	                              csrf, &expires_at, error, sizeof(error)),
	                 0);
	assert_int_equal(expires_at, tc->now + TOKENS_ADMIN_SESSION_MAX_S);
	test_core_advance(tc, TOKENS_ADMIN_SESSION_MAX_S - 1);
	assert_true(valid(tc, PP_TOKEN_ADMIN_SESSION, session));
	test_core_advance(tc, 1);
	assert_false(valid(tc, PP_TOKEN_ADMIN_SESSION, session));
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

/* Issues a labelled token and checks its shape; fills handle[TOKENS_HANDLE_LEN + 1]. */
static void issue_labelled(test_core_t *tc, pp_token_kind_t kind, int64_t user_id,
                           const char *label, char token[TOKENS_TEXT_MAX], char *handle)
{
	char error[512];
	assert_int_equal(tokens_issue_labelled(&tc->core, kind, user_id, label, "admin:root", token,
	                                       handle, error, sizeof(error)),
	                 0);
	assert_int_equal(strlen(token), TOKENS_TEXT_LEN);
	assert_true(str_has_prefix(token, kind == PP_TOKEN_PRINTER ? "ppp_" : "ppf_"));
	assert_int_equal(strlen(handle), TOKENS_HANDLE_LEN);
}

/* The labelled tokens of kind (of user_id, or all with 0); new, free with tokens_list_free. */
static pp_token_entry_t *list(test_core_t *tc, pp_token_kind_t kind, int64_t user_id,
                              size_t *count_r)
{
	char error[512];
	pp_token_entry_t *entries = NULL;
	assert_int_equal(
	    tokens_list(&tc->core, kind, user_id, &entries, count_r, error, sizeof(error)), 0);
	return entries;
}

static bool revoke_handle(test_core_t *tc, pp_token_kind_t kind, int64_t user_id,
                          const char *handle)
{
	char error[512];
	bool revoked = true;
	assert_int_equal(tokens_revoke_handle(&tc->core, kind, user_id, handle, "admin:root",
	                                      &revoked, error, sizeof(error)),
	                 0);
	return revoked;
}

static void test_printer_address_lifecycle(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	char phone[TOKENS_TEXT_MAX], laptop[TOKENS_TEXT_MAX], other[TOKENS_TEXT_MAX];
	char phone_h[TOKENS_HANDLE_LEN + 1], laptop_h[TOKENS_HANDLE_LEN + 1],
	    other_h[TOKENS_HANDLE_LEN + 1];
	int64_t t0 = tc->now;
	issue_labelled(tc, PP_TOKEN_PRINTER, acct.user_id, "Ann's iPhone", phone, phone_h);
	test_core_advance(tc, 5);
	issue_labelled(tc, PP_TOKEN_PRINTER, acct.user_id, "Zoë's Mac 💻", laptop, laptop_h);
	issue_labelled(tc, PP_TOKEN_PRINTER, acct.user2_id, "Bob's phone", other, other_h);
	assert_string_not_equal(phone_h, laptop_h);

	/* The handle is the head of the stored hash; the token itself is not stored. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db,
	                          "SELECT token_hash, expires_at FROM tokens WHERE kind = 'printer' "
	                          "ORDER BY created_at, token_hash",
	                          NULL, 0, &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), 3);
	bool seen = false;
	for (size_t i = 0; i < 3; i++) {
		assert_null(strstr(db_result_text(res, i, 0), phone + 4));
		assert_int_equal(db_result_int(res, i, 1), TOKENS_NEVER_EXPIRES);
		seen = seen || strncmp(db_result_text(res, i, 0), phone_h, TOKENS_HANDLE_LEN) == 0;
	}
	assert_true(seen);
	db_result_free(&res);

	/* Valid as a printer token only, for its user, with its label, without expiry. */
	pp_token_info_t info;
	bool ok = false;
	test_core_advance(tc, 100);
	assert_int_equal(
	    tokens_validate(&tc->core, PP_TOKEN_PRINTER, phone, &info, &ok, error, sizeof(error)), 0);
	assert_true(ok);
	assert_int_equal(info.kind, PP_TOKEN_PRINTER);
	assert_int_equal(info.user_id, acct.user_id);
	assert_int_equal(info.admin_id, 0);
	assert_string_equal(info.label, "Ann's iPhone");
	assert_int_equal(info.created_at, t0);
	assert_int_equal(info.expires_at, TOKENS_NEVER_EXPIRES);
	assert_int_equal(info.last_used_at, tc->now);
	assert_false(valid(tc, PP_TOKEN_APP, phone));
	assert_false(valid(tc, PP_TOKEN_FORWARDER, phone));
	char swapped[TOKENS_TEXT_MAX];
	assert_true(str_format(swapped, sizeof(swapped), "ppf_%s", phone + 4));
	assert_false(valid(tc, PP_TOKEN_FORWARDER, swapped));
	assert_true(str_format(swapped, sizeof(swapped), "ppa_%s", phone + 4));
	assert_false(valid(tc, PP_TOKEN_APP, swapped));

	/* Listed oldest first, per user, with when it was last used. */
	size_t count = 0;
	pp_token_entry_t *entries = list(tc, PP_TOKEN_PRINTER, acct.user_id, &count);
	assert_int_equal(count, 2);
	assert_string_equal(entries[0].handle, phone_h);
	assert_string_equal(entries[0].label, "Ann's iPhone");
	assert_int_equal(entries[0].kind, PP_TOKEN_PRINTER);
	assert_int_equal(entries[0].user_id, acct.user_id);
	assert_int_equal(entries[0].created_at, t0);
	assert_int_equal(entries[0].last_used_at, t0 + 105);
	assert_string_equal(entries[1].handle, laptop_h);
	assert_string_equal(entries[1].label, "Zoë's Mac 💻");
	assert_int_equal(entries[1].last_used_at, 0); /* never used */
	tokens_list_free(&entries);
	assert_null(entries);
	tokens_list_free(&entries);
	entries = list(tc, PP_TOKEN_PRINTER, 0, &count);
	assert_int_equal(count, 3);
	tokens_list_free(&entries);
	entries = list(tc, PP_TOKEN_FORWARDER, 0, &count);
	assert_int_equal(count, 0);
	tokens_list_free(&entries);

	/* Ten years on it still works: no expiry, no renewal, not purged, and "sign out
	   everywhere" (all app tokens) leaves printer addresses alone. */
	char app[TOKENS_TEXT_MAX];
	assert_int_equal(
	    tokens_issue(&tc->core, PP_TOKEN_APP, acct.user_id, app, NULL, NULL, error, sizeof(error)),
	    0);
	test_core_advance(tc, 3650 * 86400);
	int64_t purged = 0;
	assert_int_equal(tokens_purge_expired(&tc->core, &purged, error, sizeof(error)), 0);
	assert_int_equal(purged, 1);
	assert_true(valid(tc, PP_TOKEN_PRINTER, phone));
	bool renewed = true;
	assert_int_equal(tokens_renew(&tc->core, PP_TOKEN_PRINTER, phone, &renewed, NULL, error,
	                              sizeof(error)),
	                 0);
	assert_false(renewed);
	assert_true(valid(tc, PP_TOKEN_PRINTER, phone));
	int64_t revoked_count = -1;
	assert_int_equal(
	    tokens_revoke_user(&tc->core, acct.user_id, &revoked_count, error, sizeof(error)), 0);
	assert_int_equal(revoked_count, 0);
	assert_true(valid(tc, PP_TOKEN_PRINTER, laptop));

	/* Revoked by handle, of its own user only, in any case; then gone everywhere. */
	assert_false(revoke_handle(tc, PP_TOKEN_PRINTER, acct.user2_id, phone_h));
	assert_false(revoke_handle(tc, PP_TOKEN_FORWARDER, 0, phone_h));
	assert_true(valid(tc, PP_TOKEN_PRINTER, phone));
	char upper[TOKENS_HANDLE_LEN + 1];
	assert_true(str_copy(upper, sizeof(upper), phone_h));
	for (char *p = upper; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	}
	assert_true(revoke_handle(tc, PP_TOKEN_PRINTER, acct.user_id, upper));
	assert_false(valid(tc, PP_TOKEN_PRINTER, phone));
	assert_false(revoke_handle(tc, PP_TOKEN_PRINTER, acct.user_id, phone_h));
	entries = list(tc, PP_TOKEN_PRINTER, acct.user_id, &count);
	assert_int_equal(count, 1);
	assert_string_equal(entries[0].handle, laptop_h);
	tokens_list_free(&entries);
	/* Any owner with user 0 (an admin revoking from the full list). */
	assert_true(revoke_handle(tc, PP_TOKEN_PRINTER, 0, other_h));
	assert_false(valid(tc, PP_TOKEN_PRINTER, other));
	/* Malformed handles match nothing. */
	static const char *const bad_handles[] = {"", "abc", "0123456789abcdefg", "zzzzzzzzzzzzzzzz",
	                                          NULL};
	for (size_t i = 0; i < sizeof(bad_handles) / sizeof(bad_handles[0]); i++)
		assert_false(revoke_handle(tc, PP_TOKEN_PRINTER, 0, bad_handles[i]));
	assert_true(valid(tc, PP_TOKEN_PRINTER, laptop));
}

static void test_last_used_is_noted_once_a_minute(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char token[TOKENS_TEXT_MAX], handle[TOKENS_HANDLE_LEN + 1];
	int64_t t0 = tc->now;
	issue_labelled(tc, PP_TOKEN_PRINTER, acct.user_id, "phone", token, handle);
	size_t count = 0;
	pp_token_entry_t *entries = list(tc, PP_TOKEN_PRINTER, acct.user_id, &count);
	assert_int_equal(count, 1);
	assert_int_equal(entries[0].last_used_at, 0); /* never used */
	tokens_list_free(&entries);
	static const struct {
		int64_t at;      /* seconds after issue */
		int64_t listed;  /* last used as listed afterwards, seconds after issue */
	} uses[] = {{10, 10}, {69, 10}, {70, 70}, {71, 70}, {200, 200}};
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		tc->now = t0 + uses[i].at;
		assert_true(valid(tc, PP_TOKEN_PRINTER, token));
		entries = list(tc, PP_TOKEN_PRINTER, acct.user_id, &count);
		assert_int_equal(count, 1);
		if (entries[0].last_used_at != t0 + uses[i].listed)
			fail_msg("row %zu: last used %lld, want %lld", i,
			         (long long)(entries[0].last_used_at - t0), (long long)uses[i].listed);
		tokens_list_free(&entries);
	}
}

static void test_forwarder(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	(void)add_accounts(tc);
	char error[512];
	char fwd[TOKENS_TEXT_MAX], handle[TOKENS_HANDLE_LEN + 1];
	issue_labelled(tc, PP_TOKEN_FORWARDER, 0, "cups-01", fwd, handle);
	pp_token_info_t info;
	bool ok = false;
	assert_int_equal(
	    tokens_validate(&tc->core, PP_TOKEN_FORWARDER, fwd, &info, &ok, error, sizeof(error)),
	    0);
	assert_true(ok);
	assert_int_equal(info.kind, PP_TOKEN_FORWARDER);
	assert_int_equal(info.user_id, 0);
	assert_string_equal(info.label, "cups-01");
	assert_int_equal(info.expires_at, TOKENS_NEVER_EXPIRES);
	assert_false(valid(tc, PP_TOKEN_PRINTER, fwd));
	assert_false(valid(tc, PP_TOKEN_APP, fwd));
	assert_false(valid(tc, PP_TOKEN_ADMIN_SESSION, fwd));

	size_t count = 0;
	pp_token_entry_t *entries = list(tc, PP_TOKEN_FORWARDER, 0, &count);
	assert_int_equal(count, 1);
	assert_string_equal(entries[0].handle, handle);
	assert_string_equal(entries[0].label, "cups-01");
	assert_int_equal(entries[0].user_id, 0);
	tokens_list_free(&entries);

	/* Deleting users and purging leave it; revoking it by handle ends it. */
	assert_int_equal(users_delete(&tc->core, "cli", "ann@example.com", error, sizeof(error)), 0);
	test_core_advance(tc, 3650 * 86400);
	assert_int_equal(tokens_purge_expired(&tc->core, NULL, error, sizeof(error)), 0);
	assert_true(valid(tc, PP_TOKEN_FORWARDER, fwd));
	assert_false(revoke_handle(tc, PP_TOKEN_PRINTER, 0, handle));
	assert_true(revoke_handle(tc, PP_TOKEN_FORWARDER, 0, handle));
	assert_false(valid(tc, PP_TOKEN_FORWARDER, fwd));
	entries = list(tc, PP_TOKEN_FORWARDER, 0, &count);
	assert_int_equal(count, 0);
	tokens_list_free(&entries);
}

static void test_user_deletion_kills_printer_addresses(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	char ann[TOKENS_TEXT_MAX], bob[TOKENS_TEXT_MAX], h1[TOKENS_HANDLE_LEN + 1],
	    h2[TOKENS_HANDLE_LEN + 1];
	issue_labelled(tc, PP_TOKEN_PRINTER, acct.user_id, "ann", ann, h1);
	issue_labelled(tc, PP_TOKEN_PRINTER, acct.user2_id, "bob", bob, h2);
	assert_int_equal(users_delete(&tc->core, "cli", "bob@example.com", error, sizeof(error)), 0);
	assert_false(valid(tc, PP_TOKEN_PRINTER, bob));
	assert_true(valid(tc, PP_TOKEN_PRINTER, ann));
	size_t count = 0;
	pp_token_entry_t *entries = list(tc, PP_TOKEN_PRINTER, 0, &count);
	assert_int_equal(count, 1);
	assert_string_equal(entries[0].handle, h1);
	tokens_list_free(&entries);
	/* A user added again under the same address does not get the old address back. */
	pp_user_t user;
	assert_int_equal(users_add(&tc->core, "cli", "bob@example.com", PP_USER_ENABLED, NULL, &user,
	                           error, sizeof(error)),
	                 0);
	assert_false(valid(tc, PP_TOKEN_PRINTER, bob));
}

static void test_labelled_refusals(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512], token[TOKENS_TEXT_MAX], handle[TOKENS_HANDLE_LEN + 1];
	char long_label[TOKENS_LABEL_MAX + 1];
	memset(long_label, 'x', TOKENS_LABEL_MAX);
	long_label[TOKENS_LABEL_MAX] = '\0';
	char max_label[TOKENS_LABEL_MAX];
	memset(max_label, 'y', TOKENS_LABEL_MAX - 1);
	max_label[TOKENS_LABEL_MAX - 1] = '\0';
	static const struct {
		pp_token_kind_t kind;
		int64_t user; /* 1 = ann, 2 = bob, -1 = a user that does not exist */
		const char *label;
		bool is_ok;
	} cases[] = {
	    {PP_TOKEN_PRINTER, 1, "Ann's iPhone", true},
	    {PP_TOKEN_PRINTER, 1, "Zoë — 日本", true},
	    {PP_TOKEN_FORWARDER, 0, "cups-01", true},
	    {PP_TOKEN_PRINTER, 0, "no user", false},
	    {PP_TOKEN_PRINTER, -1, "gone user", false},
	    {PP_TOKEN_FORWARDER, 2, "with a user", false},
	    {PP_TOKEN_APP, 1, "an app", false},
	    {PP_TOKEN_ADMIN_SESSION, 0, "a session", false},
	    {PP_TOKEN_PRINTER, 1, "", false},
	    {PP_TOKEN_PRINTER, 1, NULL, false},
	    {PP_TOKEN_PRINTER, 1, "two\nlines", false},
	    {PP_TOKEN_PRINTER, 1, "tab\there", false},
	    {PP_TOKEN_PRINTER, 1, "del\x7f", false},
	    {PP_TOKEN_PRINTER, 1, "c1 \xc2\x85", false},
	    {PP_TOKEN_PRINTER, 1, "bad \xff utf-8", false},
	    {PP_TOKEN_PRINTER, 1, "overlong \xc0\xaf", false},
	    {PP_TOKEN_PRINTER, 1, "surrogate \xed\xa0\x80", false},
	    {PP_TOKEN_PRINTER, 1, "cut \xe6\x97", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t user = cases[i].user == 1   ? acct.user_id
		               : cases[i].user == 2 ? acct.user2_id
		               : cases[i].user < 0  ? acct.user2_id + 1000
		                                    : 0;
		error[0] = '\0';
		int rc = tokens_issue_labelled(&tc->core, cases[i].kind, user, cases[i].label, "cli",
		                               token, handle, error, sizeof(error));
		if ((rc == 0) != cases[i].is_ok)
			fail_msg("row %zu (%s): rc %d, error \"%s\"", i,
			         cases[i].label != NULL ? cases[i].label : "NULL", rc, error);
		if (rc < 0) {
			assert_string_equal(token, "");
			assert_true(error[0] != '\0');
		}
	}
	assert_int_equal(tokens_issue_labelled(&tc->core, PP_TOKEN_PRINTER, acct.user_id,
	                                       long_label, "cli", token, NULL, error, sizeof(error)),
	                 -1);
	assert_int_equal(tokens_issue_labelled(&tc->core, PP_TOKEN_PRINTER, acct.user_id, max_label,
	                                       "cli", token, NULL, error, sizeof(error)),
	                 0);
	assert_int_equal(tokens_issue_labelled(&tc->core, PP_TOKEN_PRINTER, acct.user_id, "x", "",
	                                       token, NULL, error, sizeof(error)),
	                 -1);
	/* Labelled kinds are not issued by tokens_issue(), nor listed as apps. */
	assert_int_equal(tokens_issue(&tc->core, PP_TOKEN_PRINTER, acct.user_id, token, NULL, NULL,
	                              error, sizeof(error)),
	                 -1);
	pp_token_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(tokens_list(&tc->core, PP_TOKEN_APP, 0, &entries, &count, error,
	                             sizeof(error)),
	                 -1);
	assert_null(entries);
	/* The three good rows and the longest label are stored, nothing else. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db, "SELECT count(*) FROM tokens", NULL, 0, &res, error,
	                          sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_int(res, 0, 0), 4);
	db_result_free(&res);
}

static void test_audit_names_the_token_never_shows_it(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	accounts_t acct = add_accounts(tc);
	char error[512];
	char phone[TOKENS_TEXT_MAX], fwd[TOKENS_TEXT_MAX];
	char phone_h[TOKENS_HANDLE_LEN + 1], fwd_h[TOKENS_HANDLE_LEN + 1];
	issue_labelled(tc, PP_TOKEN_PRINTER, acct.user_id, "Ann's iPhone", phone, phone_h);
	issue_labelled(tc, PP_TOKEN_FORWARDER, 0, "cups-01", fwd, fwd_h);
	assert_true(revoke_handle(tc, PP_TOKEN_PRINTER, acct.user_id, phone_h));
	assert_true(revoke_handle(tc, PP_TOKEN_FORWARDER, 0, fwd_h));

	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(audit_list(&tc->core, 0, 100, &entries, &count, error, sizeof(error)), 0);
	static const struct {
		const char *action;
		const char *object;
		const char *detail_part;
	} want[] = {
	    {"token.issue", "ann@example.com", "kind=printer"},
	    {"token.issue", "cups-01", "kind=forwarder"},
	    {"token.revoke", "ann@example.com", "label=Ann's iPhone"},
	    {"token.revoke", "cups-01", "label=cups-01"},
	};
	size_t found = 0;
	for (size_t i = 0; i < count; i++) {
		const pp_audit_entry_t *e = &entries[i];
		/* No row carries either token, whole or without its prefix. */
		assert_null(strstr(e->detail, phone + 4));
		assert_null(strstr(e->object, phone + 4));
		assert_null(strstr(e->detail, fwd + 4));
		assert_null(strstr(e->object, fwd + 4));
		if (!str_has_prefix(e->action, "token."))
			continue;
		assert_true(found < sizeof(want) / sizeof(want[0]));
		if (strcmp(e->action, want[found].action) != 0 ||
		    strcmp(e->object, want[found].object) != 0 ||
		    strstr(e->detail, want[found].detail_part) == NULL ||
		    strstr(e->detail, found % 2 == 0 ? phone_h : fwd_h) == NULL)
			fail_msg("audit row %zu: %s %s %s", found, e->action, e->object, e->detail);
		assert_string_equal(e->actor, "admin:root");
		found++;
	}
	assert_int_equal(found, 4);
	audit_list_free(&entries);
}

static void test_shared_handle_revokes_nothing(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	/* Two stored hashes with the same first 16 digits (no real token hashes to these). */
	static const char *const hashes[] = {
	    "0123456789abcdef0000000000000000000000000000000000000000000000aa",
	    "0123456789abcdef0000000000000000000000000000000000000000000000bb",
	};
	for (size_t i = 0; i < 2; i++) {
		const pp_db_value_t params[] = {DB_TEXT(hashes[i])};
		assert_int_equal(db_exec(tc->core.db,
		                         "INSERT INTO tokens (token_hash, kind, created_at, expires_at, "
		                         "last_used_at, label) VALUES ($1, 'forwarder', 1, "
		                         "253402300799, 1, 'twin')",
		                         params, 1, NULL, error, sizeof(error)),
		                 DB_OK);
	}
	bool revoked = true;
	error[0] = '\0';
	assert_int_equal(tokens_revoke_handle(&tc->core, PP_TOKEN_FORWARDER, 0, "0123456789abcdef",
	                                      "cli", &revoked, error, sizeof(error)),
	                 -1);
	assert_false(revoked);
	assert_non_null(strstr(error, "none was revoked"));
	size_t count = 0;
	pp_token_entry_t *entries = list(tc, PP_TOKEN_FORWARDER, 0, &count);
	assert_int_equal(count, 2);
	assert_string_equal(entries[0].handle, entries[1].handle);
	tokens_list_free(&entries);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_app_token_lifetime),
	    TEST_CORE_CASE(test_renew_stay_signed_in),
	    TEST_CORE_CASE(test_kind_checks_and_garbage),
	    TEST_CORE_CASE(test_session_idle_timeout_and_csrf),
	    TEST_CORE_CASE(test_session_ends_after_twelve_hours),
	    TEST_CORE_CASE(test_revoke),
	    TEST_CORE_CASE(test_printer_address_lifecycle),
	    TEST_CORE_CASE(test_last_used_is_noted_once_a_minute),
	    TEST_CORE_CASE(test_forwarder),
	    TEST_CORE_CASE(test_user_deletion_kills_printer_addresses),
	    TEST_CORE_CASE(test_labelled_refusals),
	    TEST_CORE_CASE(test_audit_names_the_token_never_shows_it),
	    TEST_CORE_CASE(test_shared_handle_revokes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
