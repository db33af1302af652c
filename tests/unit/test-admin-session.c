/*
 * test-admin-session.c - the admin console's rules that need no HTTP: the CSRF token of a
 * session, the session's expiry, reading the cookie, and what each role may do; and the
 * roles as stored (the last full admin stays; nobody deletes themselves), and the shadow
 * accounts of directory admins, on SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "admin/admin-directory.h"
#include "admin/admin.h"
#include "core/admins.h"
#include "core/audit.h"
#include "core/tokens.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

static void test_csrf_is_per_session_and_stable(void **state)
{
	(void)state;
	pp_core_t core;
	memset(&core, 0, sizeof(core));
	memset(core.token_key, 0x42, sizeof(core.token_key));
	const char *a = "pps_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *b = "pps_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	char csrf_a[ADMIN_CSRF_TEXT_MAX], again[ADMIN_CSRF_TEXT_MAX], csrf_b[ADMIN_CSRF_TEXT_MAX];
	admin_csrf_derive(&core, a, csrf_a);
	admin_csrf_derive(&core, a, again);
	admin_csrf_derive(&core, b, csrf_b);
	assert_true(str_has_prefix(csrf_a, "ppc_"));
	assert_int_equal(strlen(csrf_a), 68);
	assert_string_equal(csrf_a, again);   /* given again after a reload */
	assert_string_not_equal(csrf_a, csrf_b); /* another session's is not yours */
	assert_null(strstr(csrf_a, a + 4));
	assert_true(admin_csrf_check(&core, a, csrf_a));
	assert_false(admin_csrf_check(&core, b, csrf_a));
	assert_false(admin_csrf_check(&core, a, NULL));
	assert_false(admin_csrf_check(&core, a, ""));
	char wrong[ADMIN_CSRF_TEXT_MAX];
	memcpy(wrong, csrf_a, sizeof(wrong));
	wrong[67] = wrong[67] == '0' ? '1' : '0';
	assert_false(admin_csrf_check(&core, a, wrong));
	/* Another server key gives other tokens. */
	memset(core.token_key, 0x43, sizeof(core.token_key));
	assert_false(admin_csrf_check(&core, a, csrf_a));
}

static void test_roles_may(void **state)
{
	(void)state;
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
	for (size_t i = 0; i < 6; i++) {
		assert_true(admin_role_may(PP_ADMIN_ROLE_ADMIN, methods[i]));
		assert_int_equal(admin_role_may(PP_ADMIN_ROLE_HELPDESK, methods[i]), i < 2);
	}
	pp_admin_role_t role;
	assert_true(admin_role_parse("helpdesk", &role));
	assert_int_equal(role, PP_ADMIN_ROLE_HELPDESK);
	assert_string_equal(admin_role_name(role), "helpdesk");
	assert_false(admin_role_parse("root", &role));
	assert_false(admin_role_parse("Admin", &role));
}

static void test_accounts_and_roles(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	assert_int_equal(admin_account_add(core, "cli", "Boss", "password for boss",
					   PP_ADMIN_ROLE_ADMIN, error, sizeof(error)),
			 0);
	assert_int_equal(admin_account_add(core, "cli", "desk", "password for desk",
					   PP_ADMIN_ROLE_HELPDESK, error, sizeof(error)),
			 0);
	assert_int_equal(admin_account_add(core, "cli", "desk", "password for desk",
					   PP_ADMIN_ROLE_HELPDESK, error, sizeof(error)),
			 DB_DUPLICATE);
	assert_int_equal(admin_account_add(core, "cli", "x", "short", PP_ADMIN_ROLE_ADMIN, error,
					   sizeof(error)),
			 -1);
	pp_admin_account_t *list = NULL;
	size_t count = 0;
	assert_int_equal(admin_accounts_list(core, &list, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(list[0].name, "boss");
	assert_int_equal(list[0].role, PP_ADMIN_ROLE_ADMIN);
	assert_string_equal(list[1].name, "desk");
	assert_int_equal(list[1].role, PP_ADMIN_ROLE_HELPDESK);
	pp_admin_account_t one;
	bool found = false;
	assert_int_equal(admin_account_get(core, list[1].id, &one, &found, error, sizeof(error)),
			 0);
	assert_true(found);
	assert_int_equal(one.role, PP_ADMIN_ROLE_HELPDESK);
	free(list);

	/* The last full admin can be neither made help desk nor deleted; nor yourself. */
	assert_int_equal(admin_role_set(core, "cli", "boss", PP_ADMIN_ROLE_HELPDESK, error,
					sizeof(error)),
			 -1);
	assert_non_null(strstr(error, "last full admin"));
	assert_int_equal(admin_account_delete(core, "cli", NULL, "boss", error, sizeof(error)), 2);
	assert_int_equal(admin_account_delete(core, "admin:desk", "desk", "desk", error,
					      sizeof(error)),
			 2);
	assert_int_equal(admin_account_delete(core, "cli", NULL, "nobody", error, sizeof(error)),
			 1);
	assert_int_equal(admin_role_set(core, "cli", "nobody", PP_ADMIN_ROLE_ADMIN, error,
					sizeof(error)),
			 1);
	assert_int_equal(admin_role_set(core, "cli", "desk", PP_ADMIN_ROLE_ADMIN, error,
					sizeof(error)),
			 0);
	assert_int_equal(admin_role_set(core, "cli", "boss", PP_ADMIN_ROLE_HELPDESK, error,
					sizeof(error)),
			 0);
	assert_int_equal(admin_account_delete(core, "admin:desk", "desk", "boss", error,
					      sizeof(error)),
			 0);

	/* Every change is audited with its actor. */
	pp_audit_entry_t *entries = NULL;
	assert_int_equal(audit_list(core, 0, 100, &entries, &count, error, sizeof(error)), 0);
	size_t roles = 0, deletes = 0;
	for (size_t i = 0; i < count; i++) {
		roles += strcmp(entries[i].action, "admin.role") == 0;
		deletes += strcmp(entries[i].action, "admin.delete") == 0 &&
			   strcmp(entries[i].actor, "admin:desk") == 0;
	}
	assert_int_equal(roles, 3); /* desk helpdesk at add, desk admin, boss helpdesk */
	assert_int_equal(deletes, 1);
	audit_list_free(&entries);
}

static void test_directory_names(void **state)
{
	(void)state;
	static const struct {
		const char *email;
		const char *expected; /* NULL: refused */
	} cases[] = {
		{"ann@example.com", "dir:ann@example.com"},
		{"Ann@Example.COM", "dir:ann@example.com"},
		{"", NULL},
		/* 59 characters fit ("dir:" + 59 = 63), 60 do not. */
		{"a23456789012345678901234567890123456789012345678@example.com", NULL},
		{"a2345678901234567890123456789012345678901234567@example.com",
		 "dir:a2345678901234567890123456789012345678901234567@example.com"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[ADMINS_NAME_MAX];
		bool ok = admin_directory_name(cases[i].email, name, sizeof(name));
		if (cases[i].expected == NULL) {
			if (ok)
				fail_msg("row %zu: %s should be refused", i, cases[i].email);
		} else {
			if (!ok || strcmp(name, cases[i].expected) != 0)
				fail_msg("row %zu: got %s", i, ok ? name : "(refused)");
		}
	}
}

static void test_directory_accounts(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	pp_admin_account_t account, again;
	bool is_created = false;

	/* First sign-in: a full admin named after the address, added by the directory. */
	assert_int_equal(admin_directory_account(core, "ann@example.com", "corp", &account,
						 &is_created, error, sizeof(error)),
			 0);
	assert_true(is_created);
	assert_string_equal(account.name, "dir:ann@example.com");
	assert_int_equal(account.role, PP_ADMIN_ROLE_ADMIN);
	assert_int_equal(admin_directory_account(core, "ann@example.com", "corp", &again,
						 &is_created, error, sizeof(error)),
			 0);
	assert_false(is_created);
	assert_int_equal(again.id, account.id);

	/* It never signs in with a local password, not even with what its row holds. */
	static const char *const guesses[] = {"!directory", "", "correct horse battery"};
	for (size_t i = 0; i < sizeof(guesses) / sizeof(guesses[0]); i++) {
		bool is_valid = true;
		assert_int_equal(admin_verify(core, "dir:ann@example.com", guesses[i], NULL,
					      &is_valid, error, sizeof(error)),
				 0);
		assert_false(is_valid);
	}

	/* A role stored since (help desk) is kept at the next sign-in. */
	const pp_db_value_t p[] = {DB_INT(account.id)};
	assert_int_equal(db_exec(core->db, "UPDATE admins SET role = 'helpdesk' WHERE id = $1", p,
				 1, NULL, error, sizeof(error)),
			 DB_OK);
	assert_int_equal(admin_directory_account(core, "ann@example.com", "corp", &again, NULL,
						 error, sizeof(error)),
			 0);
	assert_int_equal(again.role, PP_ADMIN_ROLE_HELPDESK);

	/* Leaving the admin group ends the sessions still open. */
	char token[TOKENS_TEXT_MAX], csrf[TOKENS_TEXT_MAX];
	int64_t expires_at = 0;
	assert_int_equal(tokens_issue(core, PP_TOKEN_ADMIN_SESSION, account.id, token, csrf,
				      &expires_at, error, sizeof(error)),
			 0);
	size_t revoked = 0;
	assert_int_equal(admin_directory_revoke(core, "ann@example.com", &revoked, error,
						sizeof(error)),
			 0);
	assert_int_equal(revoked, 1);
	pp_token_info_t info;
	bool is_valid = true;
	assert_int_equal(tokens_validate(core, PP_TOKEN_ADMIN_SESSION, token, &info, &is_valid,
					 error, sizeof(error)),
			 0);
	assert_false(is_valid);
	assert_int_equal(admin_directory_revoke(core, "bob@example.com", &revoked, error,
						sizeof(error)),
			 0);
	assert_int_equal(revoked, 0);

	/* An address too long for an admin name is refused, not cut. */
	assert_int_equal(admin_directory_account(
				 core, "a23456789012345678901234567890123456789012345678@example.com",
				 "corp", &again, NULL, error, sizeof(error)),
			 ADMIN_DIRECTORY_TOO_LONG);

	/* The audit log says who added the account. */
	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(audit_list(core, 0, 100, &entries, &count, error, sizeof(error)), 0);
	size_t added = 0;
	for (size_t i = 0; i < count; i++)
		if (strcmp(entries[i].action, "admin.add") == 0 &&
		    strcmp(entries[i].actor, "directory:corp") == 0 &&
		    strcmp(entries[i].object, "dir:ann@example.com") == 0)
			added++;
	assert_int_equal(added, 1);
	audit_list_free(&entries);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csrf_is_per_session_and_stable),
		cmocka_unit_test(test_roles_may),
		TEST_CORE_CASE(test_accounts_and_roles),
		cmocka_unit_test(test_directory_names),
		TEST_CORE_CASE(test_directory_accounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
