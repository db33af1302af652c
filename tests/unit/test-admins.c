/* test-admins.c - admin accounts: bootstrap, passwords, verification. */
#include "test-db-support.h"

#include "core/admins.h"
#include "core/audit.h"
#include "lib/str.h"

#include <string.h>

static bool verify(test_core_t *tc, const char *name, const char *password)
{
	char error[512];
	bool valid = true;
	assert_int_equal(
	    admin_verify(&tc->core, name, password, NULL, &valid, error, sizeof(error)), 0);
	return valid;
}

static void test_bootstrap_once(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	char password[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1];
	bool created = false;
	assert_int_equal(admin_bootstrap(&tc->core, password, &created, error, sizeof(error)), 0);
	assert_true(created);
	/* At least 20 characters, readable: upper-case letters, digits, dashes. */
	assert_true(strlen(password) >= 20);
	assert_int_equal(strlen(password), ADMINS_BOOTSTRAP_PASSWORD_LEN);
	for (const char *p = password; *p != '\0'; p++)
		assert_non_null(strchr("ABCDEFGHJKLMNPQRSTUVWXYZ23456789-", *p));
	assert_true(verify(tc, "admin", password));

	/* The password is stored only as an argon2id hash. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db, "SELECT name, password_hash FROM admins", NULL, 0,
	                          &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), 1);
	assert_string_equal(db_result_text(res, 0, 0), "admin");
	assert_true(str_has_prefix(db_result_text(res, 0, 1), "$argon2id$"));
	assert_null(strstr(db_result_text(res, 0, 1), password));
	db_result_free(&res);

	/* A second start does nothing and hands out nothing. */
	char again[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1] = "x";
	assert_int_equal(admin_bootstrap(&tc->core, again, &created, error, sizeof(error)), 0);
	assert_false(created);
	assert_string_equal(again, "");
	assert_true(verify(tc, "admin", password));

	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(audit_list(&tc->core, 0, 10, &entries, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_string_equal(entries[0].action, "admin.bootstrap");
	assert_null(strstr(entries[0].detail, password));
	audit_list_free(&entries);
}

static void test_bootstrap_skipped_when_any_admin_exists(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(
	    admin_add(&tc->core, "cli", "Alice", "correct horse battery", error, sizeof(error)), 0);
	char password[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1];
	bool created = true;
	assert_int_equal(admin_bootstrap(&tc->core, password, &created, error, sizeof(error)), 0);
	assert_false(created);
	bool found = true;
	assert_int_equal(admin_get(&tc->core, "admin", NULL, &found, error, sizeof(error)), 0);
	assert_false(found);
}

static void test_password_rules_and_verify(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	static const struct {
		const char *password;
		bool ok;
	} rows[] = {
	    {"", false},
	    {NULL, false},
	    {"elevenchars", false},
	    {"twelve chars", true},
	    {"ÅÅÅÅÅÅÅÅÅÅÅ", false}, /* 11 characters, 22 bytes */
	    {"ÅÅÅÅÅÅÅÅÅÅÅÅ", true},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char name[32];
		assert_true(str_format(name, sizeof(name), "admin%zu", i));
		int rc = admin_add(&tc->core, "cli", name, rows[i].password, error, sizeof(error));
		if ((rc == 0) != rows[i].ok)
			fail_msg("row %zu: %s (%s)", i, rc == 0 ? "accepted" : "refused", error);
		if (!rows[i].ok && rows[i].password != NULL && rows[i].password[0] != '\0')
			assert_non_null(strstr(error, "12"));
	}
	assert_int_equal(
	    admin_add(&tc->core, "cli", "ADMIN3", "another password", error, sizeof(error)), -1);
	assert_non_null(strstr(error, "already exists"));
	assert_int_equal(
	    admin_add(&tc->core, "cli", "bad name", "another password", error, sizeof(error)), -1);

	pp_admin_t admin;
	bool valid = false;
	assert_int_equal(admin_verify(&tc->core, " Admin3 ", "twelve chars", &admin, &valid, error,
	                              sizeof(error)),
	                 0);
	assert_true(valid);
	assert_string_equal(admin.name, "admin3");
	assert_false(verify(tc, "admin3", "twelve chars!"));
	assert_false(verify(tc, "admin3", "Twelve chars"));
	assert_false(verify(tc, "admin3", ""));
	assert_false(verify(tc, "admin3", NULL));
	/* A missing admin and a malformed name are simply "no". */
	assert_false(verify(tc, "nobody", "twelve chars"));
	assert_false(verify(tc, "no body", "twelve chars"));

	/* Changing the password: the old one stops working. */
	assert_int_equal(
	    admin_set_password(&tc->core, "admin:admin3", "admin3", "short", error, sizeof(error)),
	    -1);
	assert_int_equal(
	    admin_set_password(&tc->core, "admin:admin3", "admin3", "", error, sizeof(error)), -1);
	assert_int_equal(admin_set_password(&tc->core, "admin:admin3", "admin3",
	                                    "a much better passphrase", error, sizeof(error)),
	                 0);
	assert_false(verify(tc, "admin3", "twelve chars"));
	assert_true(verify(tc, "admin3", "a much better passphrase"));
	assert_int_equal(admin_set_password(&tc->core, "cli", "nobody", "a much better passphrase",
	                                    error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "no admin"));
}

static void test_dummy_hash_matches_parameters(void **state)
{
	(void)state;
	assert_true(crypto_init());
	/* The dummy must cost what a real verify costs: same algorithm and parameters. */
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	assert_true(crypto_password_hash("some password", hash));
	const char *dummy = admin_dummy_hash();
	/* "$argon2id$v=19$m=…,t=…,p=…$": compare up to the salt. */
	const char *end = hash;
	for (int dollars = 0; *end != '\0' && dollars < 4; end++) {
		if (*end == '$')
			dollars++;
	}
	size_t prefix = (size_t)(end - hash);
	assert_true(prefix > 10);
	assert_memory_equal(dummy, hash, prefix);
	assert_false(crypto_password_verify(dummy, ""));
}

static void test_list_and_delete(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(
	    admin_add(&tc->core, "cli", "bob", "password for bob", error, sizeof(error)), 0);
	assert_int_equal(
	    admin_add(&tc->core, "cli", "alice", "password for alice", error, sizeof(error)), 0);
	pp_admin_t *admins = NULL;
	size_t count = 0;
	assert_int_equal(admin_list(&tc->core, &admins, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(admins[0].name, "alice");
	admin_list_free(&admins);
	assert_null(admins);
	assert_int_equal(admin_delete(&tc->core, "cli", "bob", error, sizeof(error)), 0);
	/* The last admin stays. */
	assert_int_equal(admin_delete(&tc->core, "cli", "alice", error, sizeof(error)), -1);
	assert_non_null(strstr(error, "last admin"));
	assert_true(verify(tc, "alice", "password for alice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_bootstrap_once),
	    TEST_CORE_CASE(test_bootstrap_skipped_when_any_admin_exists),
	    TEST_CORE_CASE(test_password_rules_and_verify),
	    cmocka_unit_test(test_dummy_hash_matches_parameters),
	    TEST_CORE_CASE(test_list_and_delete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
