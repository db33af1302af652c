/* test-admins.c - admin accounts: bootstrap, passwords, verification. */
#include "test-db-support.h"

#include "core/admins.h"
#include "core/audit.h"
#include "lib/str.h"

#include <string.h>

typedef struct {
	pp_core_t core;
	int64_t now;
} fx_t;

static int64_t fx_clock(void *ctx)
{
	return *(const int64_t *)ctx;
}

static void fx_init(fx_t *fx, void **state)
{
	assert_true(crypto_init());
	uint8_t key[CRYPTO_KEY_BYTES];
	crypto_random_bytes(key, sizeof(key));
	assert_int_equal(core_init(&fx->core, TEST_DB(state)->db, NULL, key), 0);
	fx->now = 1700000000;
	fx->core.now = fx_clock;
	fx->core.clock_ctx = &fx->now;
}

static bool verify(fx_t *fx, const char *name, const char *password)
{
	char error[512];
	bool valid = true;
	assert_int_equal(
	    admin_verify(&fx->core, name, password, NULL, &valid, error, sizeof(error)), 0);
	return valid;
}

static void test_bootstrap_once(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
	char error[512];
	char password[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1];
	bool created = false;
	assert_int_equal(admin_bootstrap(&fx.core, password, &created, error, sizeof(error)), 0);
	assert_true(created);
	/* At least 20 characters, readable: upper-case letters, digits, dashes. */
	assert_true(strlen(password) >= 20);
	assert_int_equal(strlen(password), ADMINS_BOOTSTRAP_PASSWORD_LEN);
	for (const char *p = password; *p != '\0'; p++)
		assert_non_null(strchr("ABCDEFGHJKLMNPQRSTUVWXYZ23456789-", *p));
	assert_true(verify(&fx, "admin", password));

	/* The password is stored only as an argon2id hash. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(fx.core.db, "SELECT name, password_hash FROM admins", NULL, 0,
	                          &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), 1);
	assert_string_equal(db_result_text(res, 0, 0), "admin");
	assert_true(str_has_prefix(db_result_text(res, 0, 1), "$argon2id$"));
	assert_null(strstr(db_result_text(res, 0, 1), password));
	db_result_free(&res);

	/* A second start does nothing and hands out nothing. */
	char again[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1] = "x";
	assert_int_equal(admin_bootstrap(&fx.core, again, &created, error, sizeof(error)), 0);
	assert_false(created);
	assert_string_equal(again, "");
	assert_true(verify(&fx, "admin", password));

	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(audit_list(&fx.core, 0, 10, &entries, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_string_equal(entries[0].action, "admin.bootstrap");
	assert_null(strstr(entries[0].detail, password));
	audit_list_free(&entries);
}

static void test_bootstrap_skipped_when_any_admin_exists(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
	char error[512];
	assert_int_equal(
	    admin_add(&fx.core, "cli", "Alice", "correct horse battery", error, sizeof(error)), 0);
	char password[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1];
	bool created = true;
	assert_int_equal(admin_bootstrap(&fx.core, password, &created, error, sizeof(error)), 0);
	assert_false(created);
	bool found = true;
	assert_int_equal(admin_get(&fx.core, "admin", NULL, &found, error, sizeof(error)), 0);
	assert_false(found);
}

static void test_password_rules_and_verify(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
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
		int rc = admin_add(&fx.core, "cli", name, rows[i].password, error, sizeof(error));
		if ((rc == 0) != rows[i].ok)
			fail_msg("row %zu: %s (%s)", i, rc == 0 ? "accepted" : "refused", error);
		if (!rows[i].ok && rows[i].password != NULL && rows[i].password[0] != '\0')
			assert_non_null(strstr(error, "12"));
	}
	assert_int_equal(
	    admin_add(&fx.core, "cli", "ADMIN3", "another password", error, sizeof(error)), -1);
	assert_non_null(strstr(error, "already exists"));
	assert_int_equal(
	    admin_add(&fx.core, "cli", "bad name", "another password", error, sizeof(error)), -1);

	pp_admin_t admin;
	bool valid = false;
	assert_int_equal(admin_verify(&fx.core, " Admin3 ", "twelve chars", &admin, &valid, error,
	                              sizeof(error)),
	                 0);
	assert_true(valid);
	assert_string_equal(admin.name, "admin3");
	assert_false(verify(&fx, "admin3", "twelve chars!"));
	assert_false(verify(&fx, "admin3", "Twelve chars"));
	assert_false(verify(&fx, "admin3", ""));
	assert_false(verify(&fx, "admin3", NULL));
	/* A missing admin and a malformed name are simply "no". */
	assert_false(verify(&fx, "nobody", "twelve chars"));
	assert_false(verify(&fx, "no body", "twelve chars"));

	/* Changing the password: the old one stops working. */
	assert_int_equal(
	    admin_set_password(&fx.core, "admin:admin3", "admin3", "short", error, sizeof(error)),
	    -1);
	assert_int_equal(
	    admin_set_password(&fx.core, "admin:admin3", "admin3", "", error, sizeof(error)), -1);
	assert_int_equal(admin_set_password(&fx.core, "admin:admin3", "admin3",
	                                    "a much better passphrase", error, sizeof(error)),
	                 0);
	assert_false(verify(&fx, "admin3", "twelve chars"));
	assert_true(verify(&fx, "admin3", "a much better passphrase"));
	assert_int_equal(admin_set_password(&fx.core, "cli", "nobody", "a much better passphrase",
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
	fx_t fx;
	fx_init(&fx, state);
	char error[512];
	assert_int_equal(
	    admin_add(&fx.core, "cli", "bob", "password for bob", error, sizeof(error)), 0);
	assert_int_equal(
	    admin_add(&fx.core, "cli", "alice", "password for alice", error, sizeof(error)), 0);
	pp_admin_t *admins = NULL;
	size_t count = 0;
	assert_int_equal(admin_list(&fx.core, &admins, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(admins[0].name, "alice");
	admin_list_free(&admins);
	assert_null(admins);
	assert_int_equal(admin_delete(&fx.core, "cli", "bob", error, sizeof(error)), 0);
	/* The last admin stays. */
	assert_int_equal(admin_delete(&fx.core, "cli", "alice", error, sizeof(error)), -1);
	assert_non_null(strstr(error, "last admin"));
	assert_true(verify(&fx, "alice", "password for alice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_bootstrap_once),
	    TEST_DB_CASE(test_bootstrap_skipped_when_any_admin_exists),
	    TEST_DB_CASE(test_password_rules_and_verify),
	    cmocka_unit_test(test_dummy_hash_matches_parameters),
	    TEST_DB_CASE(test_list_and_delete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
