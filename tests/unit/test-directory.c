/*
 * test-directory.c - the company directory without a directory server: filter escaping and
 * building, DN comparison, attribute mapping, connection checks and storage (the service
 * password encrypted), and what sign-in and on-boarding do when no directory is configured or
 * the configured one cannot be reached. tests/e2e/test_directory.py covers a real slapd.
 */
#include "test-db-support.h"

#include "core/sender-policy.h"
#include "core/settings.h"
#include "directory/directory-private.h"
#include "lib/str.h"

#include <string.h>

static const struct {
	const char *in;
	size_t len;
	const char *out;
} escape_rows[] = {
    {"alice@example.com", 17, "alice@example.com"},
    {"*", 1, "\\2a"},
    {")(", 2, "\\29\\28"},
    {"a\0b", 3, "a\\00b"},
    {"\\", 1, "\\5c"},
    {"*)(uid=*", 8, "\\2a\\29\\28uid=\\2a"},
    {"J\xc3\xb6rg", 5, "J\\c3\\b6rg"},
    {"", 0, ""},
};

static void test_filter_escape(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(escape_rows) / sizeof(escape_rows[0]); i++) {
		char out[64];
		if (!directory_filter_escape(escape_rows[i].in, escape_rows[i].len, out, sizeof(out)) ||
		    strcmp(out, escape_rows[i].out) != 0)
			fail_msg("row %zu: got '%s', want '%s'", i, out, escape_rows[i].out);
	}
	char small[4];
	assert_false(directory_filter_escape("**", 2, small, sizeof(small)));
	assert_string_equal(small, "");
}

static void test_filter_login(void **state)
{
	(void)state;
	pp_directory_t dir;
	char out[DIRECTORY_FILTER_BUILD_MAX];
	directory_defaults(PP_DIRECTORY_LDAP, &dir);
	assert_true(directory_filter_login(&dir, "a*)(uid=*", false, out, sizeof(out)));
	assert_string_equal(out, "(&(objectClass=inetOrgPerson)(|(uid=a\\2a\\29\\28uid=\\2a)))");
	assert_true(directory_filter_login(&dir, "ann@example.com", true, out, sizeof(out)));
	assert_string_equal(out, "(&(objectClass=inetOrgPerson)(|(mail=ann@example.com)))");

	directory_defaults(PP_DIRECTORY_AD, &dir);
	(void)str_copy(dir.user_filter, sizeof(dir.user_filter), "(objectClass=user)");
	assert_true(directory_filter_login(&dir, "ann", false, out, sizeof(out)));
	assert_string_equal(out, "(&(objectClass=user)(|(sAMAccountName=ann)(userPrincipalName=ann)))");
	assert_true(directory_filter_login(&dir, "ann@example.com", true, out, sizeof(out)));
	assert_string_equal(out, "(&(objectClass=user)(|(mail=ann@example.com)"
	                         "(proxyAddresses=smtp:ann@example.com)"
	                         "(userPrincipalName=ann@example.com)))");
}

static const struct {
	const char *in;
	const char *out;
} dn_rows[] = {
    {"CN=Printers, OU=Groups,DC=Example,DC=com", "cn=printers,ou=groups,dc=example,dc=com"},
    {"cn = a , dc=x", "cn=a,dc=x"},
    {"cn=Smith\\, John,dc=x", "cn=smith\\, john,dc=x"},
    {"cn=two words,dc=x", "cn=two words,dc=x"},
};

static void test_dn_normalize(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dn_rows) / sizeof(dn_rows[0]); i++) {
		char out[DIRECTORY_DN_MAX];
		directory_dn_normalize(dn_rows[i].in, out, sizeof(out));
		if (strcmp(out, dn_rows[i].out) != 0)
			fail_msg("row %zu: got '%s', want '%s'", i, out, dn_rows[i].out);
	}
}

static const struct {
	const char *text;
	bool is_ok;
	const char *department; /* after parsing */
} mapping_rows[] = {
    {"email=mail,department=ou", true, "ou"},
    {"display_name=cn, cost_centre=employeeType", true, "departmentNumber"},
    {"department=", true, ""},
    {"email=", false, NULL},
    {"phone=telephoneNumber", false, NULL},
    {"department=o u", false, NULL},
    {"department", false, NULL},
};

static void test_mapping_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mapping_rows) / sizeof(mapping_rows[0]); i++) {
		pp_directory_t dir;
		directory_defaults(PP_DIRECTORY_LDAP, &dir);
		char error[256];
		int rc = directory_mapping_parse(mapping_rows[i].text, &dir, error, sizeof(error));
		if ((rc == 0) != mapping_rows[i].is_ok)
			fail_msg("row %zu (%s): rc %d", i, mapping_rows[i].text, rc);
		if (rc == 0 && strcmp(dir.attr_department, mapping_rows[i].department) != 0)
			fail_msg("row %zu: department '%s'", i, dir.attr_department);
	}
}

/* A connection to a port where nothing listens, so every contact fails at once. */
static void unreachable_dir(pp_directory_t *dir, const char *name)
{
	directory_defaults(PP_DIRECTORY_LDAP, dir);
	(void)str_copy(dir->name, sizeof(dir->name), name);
	(void)str_copy(dir->uris, sizeof(dir->uris), "ldaps://127.0.0.1:1");
	(void)str_copy(dir->base_dns, sizeof(dir->base_dns), "ou=people,dc=example,dc=com");
	(void)str_copy(dir->bind_dn, sizeof(dir->bind_dn), "cn=svc,dc=example,dc=com");
	dir->network_timeout_ms = 500;
}

static void test_add_checks_and_storage(void **state)
{
	test_core_t *tc = *state;
	pp_core_t *core = &tc->core;
	char error[DIRECTORY_ERROR_MAX];
	pp_directory_t dir;

	/* Refused: passwords in clear, bad DNs, filters, names. */
	unreachable_dir(&dir, "corp");
	(void)str_copy(dir.uris, sizeof(dir.uris), "ldap://127.0.0.1:1");
	assert_int_equal(directory_add(core, "test", &dir, "pw", NULL, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "starttls"));
	unreachable_dir(&dir, "corp");
	(void)str_copy(dir.base_dns, sizeof(dir.base_dns), "not a dn");
	assert_int_equal(directory_add(core, "test", &dir, "pw", NULL, error, sizeof(error)), -1);
	unreachable_dir(&dir, "corp");
	(void)str_copy(dir.user_filter, sizeof(dir.user_filter), "(a=b))(c=d");
	assert_int_equal(directory_add(core, "test", &dir, "pw", NULL, error, sizeof(error)), -1);
	unreachable_dir(&dir, "Corp Dir");
	assert_int_equal(directory_add(core, "test", &dir, "pw", NULL, error, sizeof(error)), -1);

	/* Stored with the password sealed; a second add of the name is a duplicate. */
	unreachable_dir(&dir, "corp");
	int64_t id = 0;
	assert_int_equal(directory_add(core, "test", &dir, "s3cret-service", &id, error,
	                               sizeof(error)), 0);
	assert_true(id > 0);
	assert_int_equal(directory_add(core, "test", &dir, "x", NULL, error, sizeof(error)),
	                 DB_DUPLICATE);
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	assert_int_equal(db_query(core->db, "SELECT bind_password_enc FROM directories", NULL, 0,
	                          &res, db_error, sizeof(db_error)), DB_OK);
	assert_null(strstr(db_result_text(res, 0, 0), "s3cret"));
	assert_true(strlen(db_result_text(res, 0, 0)) > 40);
	db_result_free(&res);

	pp_directory_t got;
	bool found = false;
	assert_int_equal(directory_get(core, "corp", &got, &found, error, sizeof(error)), 0);
	assert_true(found && got.has_bind_password && got.is_verify && got.is_enabled);
	assert_string_equal(got.attr_email, "mail");
	char password[DIRECTORY_PASSWORD_MAX];
	assert_int_equal(directory_password_get(core, &got, password, error, sizeof(error)), 0);
	assert_string_equal(password, "s3cret-service");

	/* Another master key opens nothing. */
	pp_core_t other;
	int64_t now = 0;
	assert_int_equal(test_core_init(&other, &now, core->db, NULL, 0x17), 0);
	assert_int_equal(directory_password_get(&other, &got, password, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "master key"));
	core_deinit(&other);

	pp_directory_t *dirs = NULL;
	size_t count = 0;
	assert_int_equal(directory_list(core, &dirs, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	directory_list_free(&dirs);
	assert_null(dirs);
	assert_int_equal(directory_remove(core, "test", "corp", error, sizeof(error)), 0);
	assert_int_equal(directory_remove(core, "test", "corp", error, sizeof(error)), -1);
}

static void test_signin_without_and_with_unreachable_directory(void **state)
{
	test_core_t *tc = *state;
	pp_core_t *core = &tc->core;
	char error[DIRECTORY_ERROR_MAX];
	pp_directory_result_t res;

	/* No directory: it has no say, whatever is typed. */
	assert_int_equal(directory_signin(core, "ann", "pw", "test", &res, error, sizeof(error)), 0);
	assert_int_equal(res.outcome, PP_DIRECTORY_NONE);

	pp_directory_t dir;
	unreachable_dir(&dir, "corp");
	assert_int_equal(directory_add(core, "test", &dir, "svc", NULL, error, sizeof(error)), 0);
	/* An empty password is refused before any server is asked. */
	assert_int_equal(directory_signin(core, "ann", "", "test", &res, error, sizeof(error)), 0);
	assert_int_equal(res.outcome, PP_DIRECTORY_DENIED);
	assert_string_equal(res.reason, "empty password");
	bool found = false;
	pp_directory_t got;
	assert_int_equal(directory_get(core, "corp", &got, &found, error, sizeof(error)), 0);
	assert_string_equal(got.last_error, "");

	/* Unreachable: said so, and recorded for the dashboard. */
	assert_int_equal(directory_signin(core, "ann", "pw", "test", &res, error, sizeof(error)), 0);
	assert_int_equal(res.outcome, PP_DIRECTORY_UNAVAILABLE);
	assert_string_equal(res.directory, "corp");
	assert_int_equal(directory_get(core, "corp", &got, &found, error, sizeof(error)), 0);
	assert_non_null(strstr(got.last_error, "127.0.0.1:1"));
	assert_int_equal(got.last_error_at, TEST_CORE_T0);
	assert_int_equal(directory_test(core, &got, error, sizeof(error)), -1);

	/* An import that cannot connect records the failure and disables nobody. */
	test_db_add_user(core->db, "kept@example.com");
	pp_directory_import_stats_t stats;
	assert_int_equal(directory_import(core, "test", &got, &stats, error, sizeof(error)), -1);
	assert_int_equal(directory_get(core, "corp", &got, &found, error, sizeof(error)), 0);
	assert_true(str_has_prefix(got.last_sync_result, "failed: "));
	pp_user_t user;
	assert_int_equal(users_get_by_email(core, "kept@example.com", &user, &found, error,
	                                    sizeof(error)), 0);
	assert_int_equal(user.state, PP_USER_ENABLED);
}

static void test_onboarding_falls_back_when_the_directory_is_down(void **state)
{
	test_core_t *tc = *state;
	pp_core_t *core = &tc->core;
	char error[DIRECTORY_ERROR_MAX];
	/* As runtime_open() does: the sender policy reaches the directory through core. */
	directory_attach(core);
	pp_directory_t dir;
	unreachable_dir(&dir, "corp");
	assert_int_equal(directory_add(core, "test", &dir, "svc", NULL, error, sizeof(error)), 0);
	assert_int_equal(settings_set(core, "test", "users.unknown_sender_policy", "accept", error,
	                              sizeof(error)), 0);
	pp_sender_result_t res;
	assert_int_equal(sender_policy_decide(core, "New@Example.com", "mail", &res, error,
	                                      sizeof(error)), 0);
	assert_int_equal(res.decision, PP_SENDER_ACCEPT);
	assert_int_equal(res.reason, PP_SENDER_REASON_UNKNOWN_ACCEPTED);
	assert_true(res.is_user_created);
	assert_string_equal(res.user.source, "mail");

	assert_int_equal(settings_set(core, "test", "users.unknown_sender_policy", "reject", error,
	                              sizeof(error)), 0);
	assert_int_equal(sender_policy_decide(core, "other@example.com", "mail", &res, error,
	                                      sizeof(error)), 0);
	assert_int_equal(res.decision, PP_SENDER_REJECT);
	assert_int_equal(res.reason, PP_SENDER_REASON_UNKNOWN_REJECTED);
}

/*
 * Whether directory sign-in is offered: only once an enabled connection exists; a disabled
 * one does not count. Through core's hook too, as the REST API asks.
 */
static void test_has_enabled(void **state)
{
	test_core_t *tc = *state;
	pp_core_t *core = &tc->core;
	char error[DIRECTORY_ERROR_MAX];
	bool has = true;
	assert_int_equal(directory_has_enabled(core, &has, error, sizeof(error)), 0);
	assert_false(has);

	pp_directory_t dir;
	unreachable_dir(&dir, "old");
	dir.is_enabled = false;
	assert_int_equal(directory_add(core, "test", &dir, "svc", NULL, error, sizeof(error)), 0);
	assert_int_equal(directory_has_enabled(core, &has, error, sizeof(error)), 0);
	assert_false(has);

	unreachable_dir(&dir, "corp");
	assert_int_equal(directory_add(core, "test", &dir, "svc", NULL, error, sizeof(error)), 0);
	assert_int_equal(directory_has_enabled(core, &has, error, sizeof(error)), 0);
	assert_true(has);

	assert_null(core->directory_has_enabled);
	directory_attach(core);
	has = false;
	assert_int_equal(core->directory_has_enabled(core, &has, error, sizeof(error)), 0);
	assert_true(has);

	assert_int_equal(directory_remove(core, "test", "corp", error, sizeof(error)), 0);
	assert_int_equal(directory_has_enabled(core, &has, error, sizeof(error)), 0);
	assert_false(has);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_escape),
	    cmocka_unit_test(test_filter_login),
	    cmocka_unit_test(test_dn_normalize),
	    cmocka_unit_test(test_mapping_parse),
	    TEST_CORE_CASE(test_add_checks_and_storage),
	    TEST_CORE_CASE(test_signin_without_and_with_unreachable_directory),
	    TEST_CORE_CASE(test_onboarding_falls_back_when_the_directory_is_down),
	    TEST_CORE_CASE(test_has_enabled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
