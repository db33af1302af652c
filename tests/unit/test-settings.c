/* test-settings.c - runtime settings: defaults, validation, storage, audit. */
#include "test-db-support.h"

#include "core/audit.h"
#include "core/settings.h"
#include "lib/str.h"

#include <string.h>

/* The registry's defaults, as the contract lists them. */
static const struct {
	const char *name;
	const char *value;
} default_rows[] = {
    {"users.code_length", "6"},           {"users.unknown_sender_policy", "hold"},
    {"users.release_auth", "code"},       {"auth.max_failures", "5"},
    {"auth.window_seconds", "900"},       {"auth.lockout_seconds", "900"},
    {"tokens.app_lifetime_hours", "720"},
    {"admin.idle_timeout_s", "900"},
    {"jobs.retention_hours", "24"},       {"jobs.printed_policy", "delete"},
    {"jobs.printed_keep_hours", "24"},    {"accounting.retention_days", "365"},
    {"ipp.trusted_networks", ""},         {"ipp.user_map", "{name}"},
    {"ipp.location", ""},                 {"ipp.geo_location", ""},
    {"mail.body_policy", "no_attachments"},
    {"mail.skip_inline_images_below_bytes", "20480"},
    {"mail.auth_serv_id", ""},            {"mail.require_auth", "dmarc"},
    {"mail.print_now_enabled", "off"},    {"mail.max_message_bytes", "52428800"},
    {"mail.code_in_reply", "new-users"},  {"mail.reply_wait_seconds", "30"},
    {"mail.outbox_give_up_hours", "48"},  {"mail.template_dir", ""},
    {"mail.printer_domain", ""},
    {"panel.signin_modes", "code,email_code"},
    {"panel.hide_code", "no"},
    {"panel.idle_timeout_s", "60"},
};

static void test_defaults(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	for (size_t i = 0; i < sizeof(default_rows) / sizeof(default_rows[0]); i++) {
		char buf[SETTINGS_VALUE_MAX];
		if (settings_get_string(&tc->core, default_rows[i].name, buf, sizeof(buf), error,
		                        sizeof(error)) != 0)
			fail_msg("row %zu %s: %s", i, default_rows[i].name, error);
		assert_string_equal(buf, default_rows[i].value);
	}
	int64_t v;
	assert_int_equal(settings_get_int(&tc->core, "users.code_length", &v, error, sizeof(error)),
	                 0);
	assert_int_equal(v, 6);
	/* An enum is not an int; an unknown name is an error naming it. */
	assert_int_equal(settings_get_int(&tc->core, "users.release_auth", &v, error, sizeof(error)),
	                 -1);
	assert_int_equal(settings_get_int(&tc->core, "users.colour", &v, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "users.colour"));
	char small[3];
	assert_int_equal(settings_get_string(&tc->core, "auth.window_seconds", small, sizeof(small),
	                                     error, sizeof(error)),
	                 -1);
}

/* Validation: NULL message means accepted; else a fragment the message must contain. */
static const struct {
	const char *name;
	const char *value;
	const char *message;
	const char *stored; /* canonical form when accepted */
} validate_rows[] = {
    {"users.code_length", "4", NULL, "4"},
    {"panel.signin_modes", " email_code , code ", NULL, "email_code,code"},
    {"panel.signin_modes", "directory", NULL, "directory"},
    {"panel.signin_modes", "code,code", "each at most once", NULL},
    {"panel.signin_modes", "keypad", "comma list of code, email_code and directory", NULL},
    {"panel.signin_modes", " , ", "at least one", NULL},
    {"panel.hide_code", "yes", NULL, "yes"},
    {"panel.hide_code", "maybe", "no|yes", NULL},
    {"panel.idle_timeout_s", "14", "15..600", NULL},
    {"users.code_length", "12", NULL, "12"},
    {"users.code_length", " 08 ", NULL, "8"},
    {"users.code_length", "3", "4..12", NULL},
    {"users.code_length", "13", "4..12", NULL},
    {"users.code_length", "-5", "4..12", NULL},
    {"users.code_length", "six", "whole number", NULL},
    {"users.code_length", "", "4..12", NULL},
    {"users.code_length", "99999999999999999999999", "4..12", NULL},
    {"auth.lockout_seconds", "0", NULL, "0"},
    {"auth.max_failures", "0", "1..100", NULL},
    {"auth.window_seconds", "59", "60..86400", NULL},
    {"admin.idle_timeout_s", "59", "60..86400", NULL},
    {"accounting.retention_days", "36500", NULL, "36500"},
    {"users.unknown_sender_policy", "accept", NULL, "accept"},
    {"users.unknown_sender_policy", "REJECT", NULL, "reject"},
    {"users.unknown_sender_policy", "maybe", "accept|hold|reject", NULL},
    {"users.release_auth", "email_code", NULL, "email_code"},
    {"users.release_auth", "password", "code|email_code|directory", NULL},
    {"jobs.printed_policy", "keep", NULL, "keep"},
    {"jobs.printed_policy", "", "delete|keep", NULL},
    /* Trusted networks: a CIDR list stored in canonical form; "" turns it off. */
    {"ipp.trusted_networks", "127.0.0.0/8", NULL, "127.0.0.0/8"},
    {"ipp.trusted_networks", " 10.1.2.3/8,2001:DB8::/32  192.0.2.7 ", NULL,
     "10.0.0.0/8, 2001:db8::/32, 192.0.2.7/32"},
    {"ipp.trusted_networks", "", NULL, ""},
    {"ipp.trusted_networks", "10.0.0.0/33", "prefix", NULL},
    {"ipp.trusted_networks", "intranet", "not an IPv4 or IPv6 address", NULL},
    {"ipp.trusted_networks", "10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 "
     "10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 "
     "10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 "
     "10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 "
     "10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8 10.0.0.0/8",
     "more than 32", NULL},
    /* The user map: {name} exactly once, printable, no spaces. */
    {"ipp.user_map", "{name}@example.com", NULL, "{name}@example.com"},
    {"ipp.user_map", "  print.{name}@Example.com ", NULL, "print.{name}@Example.com"},
    {"ipp.user_map", "{name}", NULL, "{name}"},
    {"ipp.user_map", "", "exactly once", NULL},
    {"ipp.user_map", "anna@example.com", "exactly once", NULL},
    {"ipp.user_map", "{name}.{name}@example.com", "exactly once", NULL},
    {"ipp.user_map", "{user}@example.com", "exactly once", NULL},
    {"ipp.user_map", "{name}@exa mple.com", "exactly once", NULL},
    {"ipp.user_map", "{name}@{domain}", "exactly once", NULL},
    /* Where the printers are: one line of text; a geo URI or nothing. */
    {"ipp.location", "Printers by the lifts, every floor", NULL,
     "Printers by the lifts, every floor"},
    {"ipp.location", "Empfang, 2. Stock \xc3\xbc" "ber der Kantine", NULL,
     "Empfang, 2. Stock \xc3\xbc" "ber der Kantine"},
    {"ipp.location", "two\nlines", "control characters", NULL},
    {"ipp.location", "bad \xc3\x28 utf-8", "control characters", NULL},
    {"ipp.geo_location", "geo:52.52,13.405", NULL, "geo:52.52,13.405"},
    {"ipp.geo_location", "geo:-33.86,151.21,58", NULL, "geo:-33.86,151.21,58"},
    {"ipp.geo_location", "", NULL, ""},
    {"ipp.geo_location", "geo:91,0", "latitude", NULL},
    {"ipp.geo_location", "geo:0,181", "latitude", NULL},
    {"ipp.geo_location", "52.52,13.405", "latitude", NULL},
    {"ipp.geo_location", "geo:52.52,13.405;u=10", "latitude", NULL},
    {"no.such_setting", "1", "unknown setting", NULL},
    {"", "1", "unknown setting", NULL},
};

static void test_validation_table(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	for (size_t i = 0; i < sizeof(validate_rows) / sizeof(validate_rows[0]); i++) {
		char error[512] = "";
		int rc = settings_set(&tc->core, "admin:root", validate_rows[i].name,
		                      validate_rows[i].value, error, sizeof(error));
		int vrc = settings_validate(validate_rows[i].name, validate_rows[i].value, error,
		                            sizeof(error));
		assert_int_equal(rc, vrc);
		if (validate_rows[i].message == NULL) {
			if (rc != 0)
				fail_msg("row %zu %s=%s rejected: %s", i, validate_rows[i].name,
				         validate_rows[i].value, error);
			char buf[SETTINGS_VALUE_MAX];
			assert_int_equal(settings_get_string(&tc->core, validate_rows[i].name, buf,
			                                     sizeof(buf), error, sizeof(error)),
			                 0);
			assert_string_equal(buf, validate_rows[i].stored);
		} else {
			if (rc == 0)
				fail_msg("row %zu %s=%s accepted", i, validate_rows[i].name,
				         validate_rows[i].value);
			if (strstr(error, validate_rows[i].message) == NULL)
				fail_msg("row %zu: message '%s' lacks '%s'", i, error,
				         validate_rows[i].message);
		}
	}
}

/* ipp.user_map applied to a requesting-user-name: NULL email means refused. */
static const struct {
	const char *map;
	const char *name;
	const char *email;
	const char *message;
} map_rows[] = {
    {"{name}", "anna@example.com", "anna@example.com", NULL},
    {"{name}", "  Anna@Example.COM ", "anna@example.com", NULL},
    {"{name}@example.com", "Anna", "anna@example.com", NULL},
    {"print-{name}@corp.example", "bob", "print-bob@corp.example", NULL},
    {"{name}", "anna", NULL, "not an email address"},
    {"{name}", "Anna Smith", NULL, "not an email address"},
    {"{name}@example.com", "anna@evil.example", NULL, "not an email address"},
    {"{name}@example.com", "DOMAIN\\anna", NULL, "not an email address"},
    {"{name}", "", NULL, "no requesting-user-name"},
    {"{name}", NULL, NULL, "no requesting-user-name"},
    {"nothing", "anna@example.com", NULL, "holds no {name}"},
};

static void test_user_map_apply(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(map_rows) / sizeof(map_rows[0]); i++) {
		char email[USERS_EMAIL_MAX] = "x", error[512] = "";
		int rc = settings_user_map_apply(map_rows[i].map, map_rows[i].name, email, error,
		                                 sizeof(error));
		if (map_rows[i].email != NULL) {
			if (rc != 0)
				fail_msg("row %zu refused: %s", i, error);
			assert_string_equal(email, map_rows[i].email);
			continue;
		}
		if (rc == 0)
			fail_msg("row %zu accepted as %s", i, email);
		assert_string_equal(email, "");
		if (strstr(error, map_rows[i].message) == NULL)
			fail_msg("row %zu: message '%s' lacks '%s'", i, error, map_rows[i].message);
		/* The message never repeats what the client sent. */
		if (map_rows[i].name != NULL && map_rows[i].name[0] != '\0')
			assert_null(strstr(error, map_rows[i].name));
	}
	/* A name that would make the address too long is refused, not cut. */
	char longname[USERS_EMAIL_MAX];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	char email[USERS_EMAIL_MAX], error[512];
	assert_int_equal(settings_user_map_apply("{name}@example.com", longname, email, error,
	                                         sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "too long"));
}

static void test_string_setting_list_and_audit(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(settings_set(&tc->core, "cli", "ipp.trusted_networks", "127.0.0.1/8",
	                              error, sizeof(error)),
	                 0);
	pp_setting_t *list = NULL;
	size_t count = 0;
	assert_int_equal(settings_list(&tc->core, &list, &count, error, sizeof(error)), 0);
	bool saw = false;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(list[i].name, "ipp.trusted_networks") != 0)
			continue;
		saw = true;
		assert_int_equal(list[i].type, PP_SETTING_STRING);
		assert_string_equal(list[i].value, "127.0.0.0/8");
		assert_false(list[i].is_default);
		assert_non_null(strstr(list[i].allowed, "CIDR"));
	}
	assert_true(saw);
	settings_list_free(&list);

	/* The audit row shows old and new value; "" reads as itself. */
	pp_audit_entry_t *entries = NULL;
	assert_int_equal(audit_list(&tc->core, 0, 10, &entries, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_string_equal(entries[0].object, "ipp.trusted_networks");
	assert_string_equal(entries[0].detail, " -> 127.0.0.0/8");
	audit_list_free(&entries);

	/* An int getter refuses a string setting. */
	int64_t v;
	assert_int_equal(settings_get_int(&tc->core, "ipp.user_map", &v, error, sizeof(error)), -1);

	/* A hand-edited value that no longer parses falls back to the default (trust nobody). */
	assert_int_equal(db_exec(tc->core.db,
	                         "UPDATE settings SET value = 'everyone' "
	                         "WHERE name = 'ipp.trusted_networks'",
	                         NULL, 0, NULL, error, sizeof(error)),
	                 DB_OK);
	char buf[SETTINGS_VALUE_MAX];
	assert_int_equal(settings_get_string(&tc->core, "ipp.trusted_networks", buf, sizeof(buf),
	                                     error, sizeof(error)),
	                 0);
	assert_string_equal(buf, "");
}

static void test_set_get_and_audit(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(
	    settings_set(&tc->core, "admin:root", "users.code_length", "8", error, sizeof(error)),
	    0);
	test_core_advance(tc, 60);
	assert_int_equal(
	    settings_set(&tc->core, "cli", "users.code_length", "10", error, sizeof(error)), 0);
	/* A rejected value changes nothing and leaves no audit row. */
	assert_int_equal(
	    settings_set(&tc->core, "cli", "users.code_length", "2", error, sizeof(error)), -1);
	int64_t v;
	assert_int_equal(settings_get_int(&tc->core, "users.code_length", &v, error, sizeof(error)),
	                 0);
	assert_int_equal(v, 10);

	/* One row per name (upsert), with the time of the last change. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db, "SELECT value, updated_at FROM settings", NULL, 0,
	                          &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_rows(res), 1);
	assert_string_equal(db_result_text(res, 0, 0), "10");
	assert_int_equal(db_result_int(res, 0, 1), 1700000060);
	db_result_free(&res);

	pp_audit_entry_t *entries = NULL;
	size_t count = 0;
	assert_int_equal(audit_list(&tc->core, 0, 10, &entries, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(entries[0].actor, "admin:root");
	assert_string_equal(entries[0].action, "setting.set");
	assert_string_equal(entries[0].object, "users.code_length");
	assert_string_equal(entries[0].detail, "6 -> 8");
	assert_string_equal(entries[1].actor, "cli");
	assert_string_equal(entries[1].detail, "8 -> 10");
	assert_int_equal(entries[1].at, 1700000060);
	audit_list_free(&entries);
	/* since filters by time. */
	assert_int_equal(
	    audit_list(&tc->core, 1700000001, 10, &entries, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	audit_list_free(&entries);

	/* Reset brings the default back, audited too. */
	assert_int_equal(settings_reset(&tc->core, "cli", "users.code_length", error, sizeof(error)),
	                 0);
	assert_int_equal(settings_get_int(&tc->core, "users.code_length", &v, error, sizeof(error)),
	                 0);
	assert_int_equal(v, 6);
	assert_int_equal(audit_list(&tc->core, 0, 10, &entries, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 3);
	assert_string_equal(entries[2].action, "setting.reset");
	audit_list_free(&entries);
	assert_int_equal(settings_reset(&tc->core, "cli", "nope", error, sizeof(error)), -1);
}

static void test_audit_failure_undoes_change(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	/* An empty actor makes the audit row fail: the setting must not change either. */
	assert_int_equal(settings_set(&tc->core, "", "users.code_length", "9", error, sizeof(error)),
	                 -1);
	int64_t v;
	assert_int_equal(settings_get_int(&tc->core, "users.code_length", &v, error, sizeof(error)),
	                 0);
	assert_int_equal(v, 6);
}

static void test_hand_edited_value_falls_back(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(db_exec(tc->core.db,
	                         "INSERT INTO settings (name, value, updated_at) "
	                         "VALUES ('users.code_length', '99', 1)",
	                         NULL, 0, NULL, error, sizeof(error)),
	                 DB_OK);
	int64_t v;
	assert_int_equal(settings_get_int(&tc->core, "users.code_length", &v, error, sizeof(error)),
	                 0);
	assert_int_equal(v, 6);
}

static void test_list(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	assert_int_equal(
	    settings_set(&tc->core, "cli", "jobs.printed_policy", "keep", error, sizeof(error)), 0);
	pp_setting_t *list = NULL;
	size_t count = 0;
	assert_int_equal(settings_list(&tc->core, &list, &count, error, sizeof(error)), 0);
	assert_int_equal(count, sizeof(default_rows) / sizeof(default_rows[0]));
	bool saw_policy = false;
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(list[i].name, default_rows[i].name);
		assert_string_equal(list[i].default_value, default_rows[i].value);
		assert_non_null(list[i].description);
		assert_true(list[i].allowed[0] != '\0');
		if (strcmp(list[i].name, "jobs.printed_policy") == 0) {
			saw_policy = true;
			assert_string_equal(list[i].value, "keep");
			assert_false(list[i].is_default);
			assert_string_equal(list[i].allowed, "delete|keep");
			assert_int_equal(list[i].type, PP_SETTING_ENUM);
		} else {
			assert_string_equal(list[i].value, default_rows[i].value);
			assert_true(list[i].is_default);
		}
	}
	assert_true(saw_policy);
	assert_string_equal(list[0].allowed, "4..12");
	settings_list_free(&list);
	assert_null(list);
	settings_list_free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_defaults),
	    TEST_CORE_CASE(test_validation_table),
	    TEST_CORE_CASE(test_set_get_and_audit),
	    TEST_CORE_CASE(test_audit_failure_undoes_change),
	    TEST_CORE_CASE(test_hand_edited_value_falls_back),
	    TEST_CORE_CASE(test_list),
	    cmocka_unit_test(test_user_map_apply),
	    TEST_CORE_CASE(test_string_setting_list_and_audit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
