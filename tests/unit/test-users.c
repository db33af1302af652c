/* test-users.c - users: canonical addresses, adding, states, listing, deleting. */
#include "test-db-support.h"

#include "core/audit.h"
#include "core/users.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

/* Canonical form of addresses: NULL expected means invalid. */
static const struct {
	const char *input;
	const char *expected;
} email_rows[] = {
    {"ann@example.com", "ann@example.com"},
    {"  Ann.Lee@Example.COM \t", "ann.lee@example.com"},
    {"a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"},
    {"o'brien@example.ie", "o'brien@example.ie"},
    {"x_y-z@a-b.example", "x_y-z@a-b.example"},
    {"1@2.io", "1@2.io"},
    {"", NULL},
    {"   ", NULL},
    {"ann", NULL},
    {"ann@", NULL},
    {"@example.com", NULL},
    {"ann@@example.com", NULL},
    {"ann@bob@example.com", NULL},
    {"ann@localhost", NULL},
    {"ann@example..com", NULL},
    {"ann@.example.com", NULL},
    {"ann@example.com.", NULL},
    {"ann@-example.com", NULL},
    {"ann@example-.com", NULL},
    {"ann@exa_mple.com", NULL},
    {".ann@example.com", NULL},
    {"ann.@example.com", NULL},
    {"an..n@example.com", NULL},
    {"an n@example.com", NULL},
    {"\"ann\"@example.com", NULL},
    {"ann@[192.0.2.1]", NULL},
    {"anné@example.com", NULL},
    {"ann@exämple.com", NULL},
    {"ann\n@example.com", NULL},
    {"ann@example.com\r\nBcc: x@y.z", NULL},
};

static void test_canonical_email_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(email_rows) / sizeof(email_rows[0]); i++) {
		char out[USERS_EMAIL_MAX];
		char error[256] = "";
		int rc = users_canonical_email(email_rows[i].input, out, error, sizeof(error));
		if (email_rows[i].expected != NULL) {
			if (rc != 0)
				fail_msg("row %zu '%s': rejected: %s", i, email_rows[i].input,
				         error);
			assert_string_equal(out, email_rows[i].expected);
		} else {
			if (rc == 0)
				fail_msg("row %zu '%s': accepted as '%s'", i, email_rows[i].input,
				         out);
			assert_true(error[0] != '\0');
		}
	}
}

static void test_canonical_email_lengths(void **state)
{
	(void)state;
	char addr[400];
	char out[USERS_EMAIL_MAX];
	char error[256];
	/* 64-character local part is fine, 65 is not. */
	memset(addr, 'a', 64);
	assert_true(str_copy(addr + 64, sizeof(addr) - 64, "@example.com"));
	assert_int_equal(users_canonical_email(addr, out, error, sizeof(error)), 0);
	memset(addr, 'a', 65);
	assert_true(str_copy(addr + 65, sizeof(addr) - 65, "@example.com"));
	assert_int_equal(users_canonical_email(addr, out, error, sizeof(error)), -1);
	/* Exactly 254 characters is fine, 255 is not: labels of 63 with dots. */
	char domain[300];
	size_t pos = 0;
	for (int label = 0; label < 3; label++) {
		memset(domain + pos, 'd', 63);
		pos += 63;
		domain[pos++] = '.';
	}
	domain[pos] = '\0'; /* 192 characters so far */
	char tail[64];
	memset(tail, 'e', 55);
	tail[55] = '\0';
	assert_true(str_format(addr, sizeof(addr), "%.6s@%s%s", "abcdef", domain, tail));
	assert_int_equal(strlen(addr), 6 + 1 + 192 + 55);
	assert_int_equal(users_canonical_email(addr, out, error, sizeof(error)), 0);
	assert_true(str_format(addr, sizeof(addr), "%.7s@%s%s", "abcdefg", domain, tail));
	assert_int_equal(strlen(addr), 255);
	assert_int_equal(users_canonical_email(addr, out, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "254"));
}

static void test_add_and_get(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	pp_user_t user;
	assert_int_equal(users_add(&tc->core, "cli", " Ann@Example.com ", PP_USER_ENABLED, NULL,
	                           &user, error, sizeof(error)),
	                 0);
	assert_true(user.id > 0);
	assert_string_equal(user.email, "ann@example.com");
	assert_int_equal(user.state, PP_USER_ENABLED);
	assert_string_equal(user.source, "admin");
	assert_int_equal(user.created_at, tc->now);

	pp_user_t got;
	bool found;
	assert_int_equal(
	    users_get_by_email(&tc->core, "ANN@example.COM", &got, &found, error, sizeof(error)), 0);
	assert_true(found);
	assert_int_equal(got.id, user.id);
	assert_int_equal(users_get_by_id(&tc->core, user.id, &got, &found, error, sizeof(error)), 0);
	assert_true(found);
	assert_string_equal(got.email, "ann@example.com");
	assert_int_equal(
	    users_get_by_email(&tc->core, "bob@example.com", &got, &found, error, sizeof(error)), 0);
	assert_false(found);
	assert_int_equal(
	    users_get_by_email(&tc->core, "not an address", &got, &found, error, sizeof(error)), 0);
	assert_false(found);
	assert_int_equal(
	    users_get_by_id(&tc->core, user.id + 100, &got, &found, error, sizeof(error)), 0);
	assert_false(found);
}

static void test_duplicate_user(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(users_add(&tc->core, "cli", "ann@example.com", PP_USER_ENABLED, NULL, NULL,
	                           error, sizeof(error)),
	                 0);
	/* Same address in another case is the same user. */
	assert_int_equal(users_add(&tc->core, "cli", "ANN@example.com", PP_USER_PENDING, "mail",
	                           NULL, error, sizeof(error)),
	                 DB_DUPLICATE);
	assert_non_null(strstr(error, "already exists"));
	assert_non_null(strstr(error, "ann@example.com"));
	/* The first one is untouched. */
	pp_user_t got;
	bool found;
	assert_int_equal(
	    users_get_by_email(&tc->core, "ann@example.com", &got, &found, error, sizeof(error)), 0);
	assert_int_equal(got.state, PP_USER_ENABLED);
	/* An invalid address is -1 with the reason. */
	assert_int_equal(users_add(&tc->core, "cli", "ann@localhost", PP_USER_ENABLED, NULL, NULL,
	                           error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "invalid email address"));
}

static pp_user_state_t state_of(test_core_t *tc, const char *email)
{
	pp_user_t got;
	bool found;
	char error[512];
	assert_int_equal(users_get_by_email(&tc->core, email, &got, &found, error, sizeof(error)),
	                 0);
	assert_true(found);
	return got.state;
}

static void test_state_changes(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	const char *e = "pat@example.com";
	assert_int_equal(
	    users_add(&tc->core, "mail", e, PP_USER_PENDING, "mail", NULL, error, sizeof(error)), 0);
	assert_int_equal(state_of(tc, e), PP_USER_PENDING);
	test_core_advance(tc, 10);
	assert_int_equal(users_approve(&tc->core, "admin:root", e, error, sizeof(error)), 0);
	assert_int_equal(state_of(tc, e), PP_USER_ENABLED);
	/* Approving an enabled user is refused with a reason. */
	assert_int_equal(users_approve(&tc->core, "admin:root", e, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "not pending"));
	assert_int_equal(users_disable(&tc->core, "admin:root", e, error, sizeof(error)), 0);
	assert_int_equal(state_of(tc, e), PP_USER_DISABLED);
	assert_int_equal(users_approve(&tc->core, "admin:root", e, error, sizeof(error)), -1);
	assert_int_equal(users_enable(&tc->core, "admin:root", e, error, sizeof(error)), 0);
	assert_int_equal(state_of(tc, e), PP_USER_ENABLED);
	/* Unknown user. */
	assert_int_equal(
	    users_disable(&tc->core, "admin:root", "nobody@example.com", error, sizeof(error)), -1);
	assert_non_null(strstr(error, "no user"));

	/* Each change is in the audit log, with who did it. */
	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(audit_list(&tc->core, 0, 100, &entries, &count, error, sizeof(error)), 0);
	const char *expected[] = {"user.add", "user.approve", "user.disable", "user.enable"};
	assert_int_equal(count, 4);
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(entries[i].action, expected[i]);
		assert_string_equal(entries[i].object, e);
	}
	assert_string_equal(entries[1].actor, "admin:root");
	assert_string_equal(entries[1].detail, "pending -> enabled");
	assert_int_equal(entries[1].at, 1700000010);
	audit_list_free(&entries);
	assert_null(entries);
}

static void test_list_filter_search_paging(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	static const struct {
		const char *email;
		pp_user_state_t state;
	} rows[] = {
	    {"carol@example.com", PP_USER_ENABLED},  {"alice@example.com", PP_USER_ENABLED},
	    {"bob@other.org", PP_USER_PENDING},      {"dave@example.com", PP_USER_DISABLED},
	    {"erin_x@example.com", PP_USER_ENABLED}, {"erinzx@example.com", PP_USER_ENABLED},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(users_add(&tc->core, "cli", rows[i].email, rows[i].state, NULL,
		                           NULL, error, sizeof(error)),
		                 0);
	assert_int_equal(users_set_display_name(&tc->core, "cli", "carol@example.com",
	                                        " Carol Smith ", error, sizeof(error)),
	                 0);
	assert_int_equal(users_set_department(&tc->core, "cli", "alice@example.com", "Finance",
	                                      error, sizeof(error)),
	                 0);

	pp_user_t *users = NULL;
	size_t count = 0;
	/* Everything, sorted by address. */
	assert_int_equal(users_list(&tc->core, NULL, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 6);
	assert_string_equal(users[0].email, "alice@example.com");
	assert_string_equal(users[0].department, "Finance");
	assert_string_equal(users[2].email, "carol@example.com");
	assert_string_equal(users[2].display_name, "Carol Smith");
	users_list_free(&users);

	pp_user_filter_t f = {.has_state = true, .state = PP_USER_PENDING};
	assert_int_equal(users_list(&tc->core, &f, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_string_equal(users[0].email, "bob@other.org");
	users_list_free(&users);

	/* Search matches address, display name and department, case-insensitively. */
	pp_user_filter_t s = {.search = "SMITH"};
	assert_int_equal(users_list(&tc->core, &s, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_string_equal(users[0].email, "carol@example.com");
	users_list_free(&users);
	s.search = "finance";
	assert_int_equal(users_list(&tc->core, &s, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	users_list_free(&users);
	/* '_' is literal, not a wildcard. */
	s.search = "erin_";
	assert_int_equal(users_list(&tc->core, &s, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_string_equal(users[0].email, "erin_x@example.com");
	users_list_free(&users);
	s.search = "%";
	assert_int_equal(users_list(&tc->core, &s, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 0);
	users_list_free(&users);

	/* State and search together, then paging. */
	pp_user_filter_t both = {
	    .has_state = true, .state = PP_USER_ENABLED, .search = "example.com"};
	assert_int_equal(users_list(&tc->core, &both, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 4);
	users_list_free(&users);
	both.limit = 2;
	both.offset = 2;
	assert_int_equal(users_list(&tc->core, &both, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(users[0].email, "erin_x@example.com");
	assert_string_equal(users[1].email, "erinzx@example.com");
	users_list_free(&users);
	both.offset = 10;
	assert_int_equal(users_list(&tc->core, &both, &users, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 0);
	users_list_free(&users);
}

static void test_set_fields_validation(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(users_add(&tc->core, "cli", "ann@example.com", PP_USER_ENABLED, NULL, NULL,
	                           error, sizeof(error)),
	                 0);
	assert_int_equal(users_set_display_name(&tc->core, "cli", "ann@example.com", "Ann\nEvil",
	                                        error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "control character"));
	char long_name[USERS_DISPLAY_NAME_MAX + 10];
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(users_set_display_name(&tc->core, "cli", "ann@example.com", long_name,
	                                        error, sizeof(error)),
	                 -1);
	assert_int_equal(
	    users_set_department(&tc->core, "cli", "nobody@example.com", "X", error, sizeof(error)),
	    -1);
	assert_non_null(strstr(error, "no user"));
	/* UTF-8 names are fine. */
	assert_int_equal(users_set_display_name(&tc->core, "cli", "ann@example.com", "Ånn Müller",
	                                        error, sizeof(error)),
	                 0);
	pp_user_t got;
	bool found;
	assert_int_equal(
	    users_get_by_email(&tc->core, "ann@example.com", &got, &found, error, sizeof(error)), 0);
	assert_string_equal(got.display_name, "Ånn Müller");
}

static void test_delete_cascades(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	pp_user_t user;
	assert_int_equal(users_add(&tc->core, "cli", "ann@example.com", PP_USER_ENABLED, NULL, &user,
	                           error, sizeof(error)),
	                 0);
	const pp_db_value_t params[] = {DB_INT(user.id)};
	assert_int_equal(db_exec(tc->core.db,
	                         "INSERT INTO jobs (uuid, user_id, state, source, created_at, "
	                         "updated_at) VALUES ('u-1', $1, 'held', 'mail', 1, 1)",
	                         params, 1, NULL, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_exec(tc->core.db,
	                         "INSERT INTO user_codes (user_id, code_hash, issued_at) "
	                         "VALUES ($1, 'h', 1)",
	                         params, 1, NULL, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(users_delete(&tc->core, "cli", "ANN@example.com", error, sizeof(error)), 0);
	bool found;
	assert_int_equal(users_get_by_id(&tc->core, user.id, NULL, &found, error, sizeof(error)), 0);
	assert_false(found);
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db,
	                          "SELECT (SELECT COUNT(*) FROM jobs), "
	                          "(SELECT COUNT(*) FROM user_codes)",
	                          NULL, 0, &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_int(res, 0, 0), 0);
	assert_int_equal(db_result_int(res, 0, 1), 0);
	db_result_free(&res);
	assert_int_equal(users_delete(&tc->core, "cli", "ann@example.com", error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "no user"));
}

static void test_log_tag(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char a[USERS_LOG_TAG_LEN + 1], b[USERS_LOG_TAG_LEN + 1];
	users_log_tag(&tc->core, "ann@example.com", a);
	users_log_tag(&tc->core, "ann@example.com", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), USERS_LOG_TAG_LEN);
	assert_null(strstr(a, "ann"));
	users_log_tag(&tc->core, "bob@example.com", b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical_email_table),
	    cmocka_unit_test(test_canonical_email_lengths),
	    TEST_CORE_CASE(test_add_and_get),
	    TEST_CORE_CASE(test_duplicate_user),
	    TEST_CORE_CASE(test_state_changes),
	    TEST_CORE_CASE(test_list_filter_search_paging),
	    TEST_CORE_CASE(test_set_fields_validation),
	    TEST_CORE_CASE(test_delete_cascades),
	    TEST_CORE_CASE(test_log_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
