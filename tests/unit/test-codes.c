/* test-codes.c - confirmation codes and the company code. */
#include "test-db-support.h"

#include "core/audit.h"
#include "core/codes.h"
#include "core/settings.h"
#include "core/users.h"
#include "lib/str.h"

#include <ctype.h>
#include <string.h>

static int64_t add_user(test_core_t *tc, const char *email, pp_user_state_t state)
{
	char error[512];
	pp_user_t user;
	if (users_add(&tc->core, "cli", email, state, NULL, &user, error, sizeof(error)) != 0)
		fail_msg("add %s: %s", email, error);
	return user.id;
}

static void issue(test_core_t *tc, int64_t user_id, char code[CODES_MAX_LEN + 1])
{
	char error[512];
	if (codes_issue(&tc->core, "cli", user_id, code, error, sizeof(error)) != 0)
		fail_msg("issue: %s", error);
}

static bool verify(test_core_t *tc, const char *email, const char *code)
{
	char error[512];
	bool valid = true;
	assert_int_equal(codes_verify(&tc->core, email, code, NULL, &valid, error, sizeof(error)),
	                 0);
	return valid;
}

static bool all_digits(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
	}
	return true;
}

static void test_length_from_settings(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	int64_t id = add_user(tc, "ann@example.com", PP_USER_ENABLED);
	static const struct {
		const char *setting; /* NULL: the default */
		size_t length;
	} rows[] = {{NULL, 6}, {"4", 4}, {"8", 8}, {"12", 12}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].setting != NULL)
			assert_int_equal(settings_set(&tc->core, "cli", "users.code_length",
			                              rows[i].setting, error, sizeof(error)),
			                 0);
		char code[CODES_MAX_LEN + 1];
		issue(tc, id, code);
		assert_int_equal(strlen(code), rows[i].length);
		assert_true(all_digits(code));
		assert_true(verify(tc, "ann@example.com", code));
	}
}

static void test_verify_and_reissue(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	int64_t ann = add_user(tc, "ann@example.com", PP_USER_ENABLED);
	int64_t bob = add_user(tc, "bob@example.com", PP_USER_ENABLED);
	char code[CODES_MAX_LEN + 1], bob_code[CODES_MAX_LEN + 1];
	issue(tc, ann, code);
	issue(tc, bob, bob_code);
	assert_string_not_equal(code, bob_code);

	char error[512];
	pp_user_t user;
	bool valid = false;
	assert_int_equal(
	    codes_verify(&tc->core, " ANN@example.com", code, &user, &valid, error, sizeof(error)),
	    0);
	assert_true(valid);
	assert_int_equal(user.id, ann);
	/* A wrong code, someone else's code, an unknown address, malformed input. */
	char wrong[CODES_MAX_LEN + 1];
	assert_true(str_copy(wrong, sizeof(wrong), code));
	wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
	assert_false(verify(tc, "ann@example.com", wrong));
	assert_false(verify(tc, "ann@example.com", bob_code));
	assert_false(verify(tc, "carl@example.com", code));
	assert_false(verify(tc, "not-an-address", code));
	assert_false(verify(tc, "ann@example.com", ""));
	assert_false(verify(tc, "ann@example.com", NULL));
	assert_false(verify(tc, "ann@example.com", "12ab56"));

	/* The code alone names its user. */
	bool found = false;
	assert_int_equal(codes_find_user(&tc->core, bob_code, &user, &found, error, sizeof(error)),
	                 0);
	assert_true(found);
	assert_int_equal(user.id, bob);
	assert_int_equal(codes_find_user(&tc->core, wrong, &user, &found, error, sizeof(error)), 0);
	if (strcmp(wrong, bob_code) != 0)
		assert_false(found);

	/* Re-issuing invalidates the old code. */
	char fresh[CODES_MAX_LEN + 1];
	issue(tc, ann, fresh);
	if (strcmp(fresh, code) != 0) {
		assert_false(verify(tc, "ann@example.com", code));
		assert_int_equal(
		    codes_find_user(&tc->core, code, NULL, &found, error, sizeof(error)), 0);
		assert_false(found);
	}
	assert_true(verify(tc, "ann@example.com", fresh));
	bool has_code = false;
	assert_int_equal(codes_user_has_code(&tc->core, ann, &has_code, error, sizeof(error)), 0);
	assert_true(has_code);

	/* No such user. */
	char none[CODES_MAX_LEN + 1];
	assert_int_equal(codes_issue(&tc->core, "cli", ann + bob + 100, none, error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "no user"));
}

static void test_stored_only_as_hash(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(
	    settings_set(&tc->core, "cli", "users.code_length", "12", error, sizeof(error)), 0);
	int64_t id = add_user(tc, "ann@example.com", PP_USER_ENABLED);
	char code[CODES_MAX_LEN + 1];
	issue(tc, id, code);
	static const char *const queries[] = {
	    "SELECT user_id, code_hash, issued_at FROM user_codes",
	    "SELECT actor, action, object, detail FROM audit_log",
	};
	for (size_t q = 0; q < 2; q++) {
		pp_db_result_t *res = NULL;
		assert_int_equal(
		    db_query(tc->core.db, queries[q], NULL, 0, &res, error, sizeof(error)), DB_OK);
		assert_true(db_result_rows(res) > 0);
		for (size_t r = 0; r < db_result_rows(res); r++) {
			for (size_t c = 0; c < db_result_cols(res); c++)
				assert_null(strstr(db_result_text(res, r, c), code));
		}
		if (q == 0) {
			char hash[CRYPTO_HASH_HEX_LEN + 1];
			codes_hash(&tc->core, code, hash);
			assert_string_equal(db_result_text(res, 0, 1), hash);
		}
		db_result_free(&res);
	}
}

static void test_pending_and_disabled_never_verify(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	int64_t pat = add_user(tc, "pat@example.com", PP_USER_PENDING);
	int64_t dan = add_user(tc, "dan@example.com", PP_USER_ENABLED);
	char pat_code[CODES_MAX_LEN + 1], dan_code[CODES_MAX_LEN + 1];
	issue(tc, pat, pat_code);
	issue(tc, dan, dan_code);
	assert_true(verify(tc, "dan@example.com", dan_code));
	assert_int_equal(users_disable(&tc->core, "cli", "dan@example.com", error, sizeof(error)),
	                 0);
	assert_false(verify(tc, "pat@example.com", pat_code));
	assert_false(verify(tc, "dan@example.com", dan_code));
	bool found = true;
	assert_int_equal(codes_find_user(&tc->core, pat_code, NULL, &found, error, sizeof(error)),
	                 0);
	assert_false(found);
	assert_int_equal(codes_find_user(&tc->core, dan_code, NULL, &found, error, sizeof(error)),
	                 0);
	assert_false(found);
	/* Approval makes the same code work. */
	assert_int_equal(users_approve(&tc->core, "cli", "pat@example.com", error, sizeof(error)),
	                 0);
	assert_true(verify(tc, "pat@example.com", pat_code));
}

/* Gives n filler users the 4-digit codes i*step+offset (i = 0..n-1), straight in SQL. */
static void fill_codes(test_core_t *tc, int n, int step, int offset)
{
	char error[512];
	assert_int_equal(db_tx_begin(tc->core.db, error, sizeof(error)), DB_OK);
	for (int i = 0; i < n; i++) {
		char email[64], code[8], hash[CRYPTO_HASH_HEX_LEN + 1];
		int value = i * step + offset;
		assert_true(str_format(email, sizeof(email), "filler%d@example.com", value));
		assert_true(str_format(code, sizeof(code), "%04d", value));
		codes_hash(&tc->core, code, hash);
		const pp_db_value_t u[] = {DB_TEXT(email)};
		assert_int_equal(db_exec(tc->core.db,
		                         "INSERT INTO users (email, state, created_at, updated_at) "
		                         "VALUES ($1, 'enabled', 1, 1)",
		                         u, 1, NULL, error, sizeof(error)),
		                 DB_OK);
		const pp_db_value_t c[] = {DB_TEXT(hash), DB_TEXT(email)};
		assert_int_equal(db_exec(tc->core.db,
		                         "INSERT INTO user_codes (user_id, code_hash, issued_at) "
		                         "SELECT id, $1, 1 FROM users WHERE email = $2",
		                         c, 2, NULL, error, sizeof(error)),
		                 DB_OK);
	}
	assert_int_equal(db_tx_commit(tc->core.db, error, sizeof(error)), DB_OK);
}

static void test_uniqueness_with_collisions(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(
	    settings_set(&tc->core, "cli", "users.code_length", "4", error, sizeof(error)), 0);
	/* Every even code is taken: about half the draws collide and must be drawn again. */
	fill_codes(tc, 5000, 2, 0);
	char codes[20][CODES_MAX_LEN + 1];
	for (int i = 0; i < 20; i++) {
		char email[64];
		assert_true(str_format(email, sizeof(email), "real%d@example.com", i));
		int64_t id = add_user(tc, email, PP_USER_ENABLED);
		issue(tc, id, codes[i]);
		assert_int_equal(strlen(codes[i]), 4);
		assert_true((codes[i][3] - '0') % 2 == 1);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
		assert_true(verify(tc, email, codes[i]));
		pp_user_t user;
		bool found = false;
		assert_int_equal(
		    codes_find_user(&tc->core, codes[i], &user, &found, error, sizeof(error)), 0);
		assert_true(found);
		assert_int_equal(user.id, id);
	}
}

static void test_code_space_exhausted(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(
	    settings_set(&tc->core, "cli", "users.code_length", "4", error, sizeof(error)), 0);
	fill_codes(tc, 10000, 1, 0);
	int64_t id = add_user(tc, "late@example.com", PP_USER_ENABLED);
	char code[CODES_MAX_LEN + 1] = "x";
	assert_int_equal(codes_issue(&tc->core, "cli", id, code, error, sizeof(error)), -1);
	assert_string_equal(code, "");
	assert_non_null(strstr(error, "users.code_length"));
	bool has_code = true;
	assert_int_equal(codes_user_has_code(&tc->core, id, &has_code, error, sizeof(error)), 0);
	assert_false(has_code);
	/* A longer code length solves it. */
	assert_int_equal(
	    settings_set(&tc->core, "cli", "users.code_length", "6", error, sizeof(error)), 0);
	issue(tc, id, code);
	assert_true(verify(tc, "late@example.com", code));
}

static bool company_code_form(const char *code)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	if (strlen(code) != COMPANY_CODE_LEN)
		return false;
	for (const char *p = code; *p != '\0'; p++) {
		if (strchr(alphabet, *p) == NULL)
			return false;
	}
	return true;
}

static void test_company_code(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	bool valid = true;
	/* None yet: nothing verifies. */
	assert_int_equal(company_code_verify(&tc->core, "ABCDEF", &valid, error, sizeof(error)), 0);
	assert_false(valid);
	assert_int_equal(company_code_verify(&tc->core, "", &valid, error, sizeof(error)), 0);
	assert_false(valid);

	char first[COMPANY_CODE_LEN + 1], again[COMPANY_CODE_LEN + 1];
	assert_int_equal(company_code_get(&tc->core, first, error, sizeof(error)), 0);
	assert_true(company_code_form(first));
	assert_int_equal(company_code_get(&tc->core, again, error, sizeof(error)), 0);
	assert_string_equal(first, again);

	assert_int_equal(company_code_verify(&tc->core, first, &valid, error, sizeof(error)), 0);
	assert_true(valid);
	char lower[COMPANY_CODE_LEN + 3];
	assert_true(str_format(lower, sizeof(lower), " %s ", first));
	for (char *p = lower; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	assert_int_equal(company_code_verify(&tc->core, lower, &valid, error, sizeof(error)), 0);
	assert_true(valid);
	char shorter[COMPANY_CODE_LEN + 1];
	assert_true(str_copy(shorter, sizeof(shorter), first));
	shorter[COMPANY_CODE_LEN - 1] = '\0';
	assert_int_equal(company_code_verify(&tc->core, shorter, &valid, error, sizeof(error)), 0);
	assert_false(valid);
	assert_int_equal(company_code_verify(&tc->core, NULL, &valid, error, sizeof(error)), 0);
	assert_false(valid);

	/* Regeneration replaces it (retry on the 1 in 10^9 chance of the same code). */
	char next[COMPANY_CODE_LEN + 1];
	test_core_advance(tc, 100);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    company_code_regenerate(&tc->core, "admin:root", next, error, sizeof(error)), 0);
		if (strcmp(next, first) != 0)
			break;
	}
	assert_true(company_code_form(next));
	assert_string_not_equal(next, first);
	assert_int_equal(company_code_verify(&tc->core, first, &valid, error, sizeof(error)), 0);
	assert_false(valid);
	assert_int_equal(company_code_verify(&tc->core, next, &valid, error, sizeof(error)), 0);
	assert_true(valid);
	assert_int_equal(company_code_get(&tc->core, again, error, sizeof(error)), 0);
	assert_string_equal(again, next);

	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(
	    audit_list(&tc->core, 1700000050, 10, &entries, &count, error, sizeof(error)), 0);
	assert_true(count >= 1);
	assert_string_equal(entries[0].action, "company_code.regenerate");
	assert_string_equal(entries[0].actor, "admin:root");
	assert_null(strstr(entries[0].detail, next));
	audit_list_free(&entries);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_length_from_settings),
	    TEST_CORE_CASE(test_verify_and_reissue),
	    TEST_CORE_CASE(test_stored_only_as_hash),
	    TEST_CORE_CASE(test_pending_and_disabled_never_verify),
	    TEST_CORE_CASE(test_uniqueness_with_collisions),
	    TEST_CORE_CASE(test_code_space_exhausted),
	    TEST_CORE_CASE(test_company_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
