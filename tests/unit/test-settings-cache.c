/*
 * test-settings-cache.c - settings and sender rules held in memory: a change made by another
 * process (the command line, here a second core on its own database handle) is seen by the
 * next read, on SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "core/sender-policy.h"
#include "core/settings-cache.h"
#include "core/settings.h"
#include "lib/str.h"

#include <string.h>

/* The server's core (the fixture's) and the command line's, each with its own cache. */
typedef struct {
	test_core_t *server;
	pp_settings_cache_t *server_cache;
	pp_db_t *cli_db;
	pp_core_t cli;
	int64_t cli_now;
	pp_settings_cache_t *cli_cache;
} two_t;

static void two_open(void **state, two_t *t)
{
	char error[512];
	memset(t, 0, sizeof(*t));
	t->server = *state;
	char counter[600];
	assert_true(str_format(counter, sizeof(counter), "%s/%s", t->server->tdb->dir,
	                       SETTINGS_CACHE_COUNTER_FILE));
	assert_int_equal(settings_cache_open(counter, &t->server_cache, error, sizeof(error)), 0);
	t->server->core.settings_cache = t->server_cache;
	if (db_open(t->server->tdb->url, &t->cli_db, error, sizeof(error)) != DB_OK)
		fail_msg("second handle: %s", error);
	assert_int_equal(test_core_init(&t->cli, &t->cli_now, t->cli_db, NULL,
	                                TEST_CORE_KEY_BYTE),
	                 0);
	assert_int_equal(settings_cache_open(counter, &t->cli_cache, error, sizeof(error)), 0);
	t->cli.settings_cache = t->cli_cache;
}

static void two_close(two_t *t)
{
	t->server->core.settings_cache = NULL;
	settings_cache_close(&t->server_cache);
	assert_null(t->server_cache);
	core_deinit(&t->cli);
	settings_cache_close(&t->cli_cache);
	db_close(&t->cli_db);
}

static void expect_setting(pp_core_t *core, const char *name, const char *want)
{
	char error[512];
	char value[SETTINGS_VALUE_MAX];
	if (settings_get_string(core, name, value, sizeof(value), error, sizeof(error)) != 0)
		fail_msg("%s: %s", name, error);
	assert_string_equal(value, want);
}

/* Set and reset on the command line; the running server's next read has the new value. */
static void test_setting_change_seen_at_once(void **state)
{
	two_t t;
	two_open(state, &t);
	char error[512];
	pp_core_t *server = &t.server->core;
	expect_setting(server, "ipp.trusted_networks", "");
	expect_setting(server, "jobs.retention_hours", "24");

	assert_int_equal(settings_set(&t.cli, "cli", "ipp.trusted_networks", "10.0.0.0/8", error,
	                              sizeof(error)),
	                 0);
	expect_setting(server, "ipp.trusted_networks", "10.0.0.0/8");
	int64_t hours = 0;
	assert_int_equal(settings_set(&t.cli, "cli", "jobs.retention_hours", "48", error,
	                              sizeof(error)),
	                 0);
	assert_int_equal(settings_get_int(server, "jobs.retention_hours", &hours, error,
	                                  sizeof(error)),
	                 0);
	assert_int_equal(hours, 48);

	assert_int_equal(settings_reset(&t.cli, "cli", "ipp.trusted_networks", error,
	                                sizeof(error)),
	                 0);
	expect_setting(server, "ipp.trusted_networks", "");

	/* The server's own change (the admin console) shows to it and to the command line. */
	assert_int_equal(settings_set(server, "admin", "ipp.user_map", "{name}@example.com", error,
	                              sizeof(error)),
	                 0);
	expect_setting(server, "ipp.user_map", "{name}@example.com");
	expect_setting(&t.cli, "ipp.user_map", "{name}@example.com");

	/* The listing reads through the same copy. */
	pp_setting_t *list = NULL;
	size_t count = 0;
	assert_int_equal(settings_list(server, &list, &count, error, sizeof(error)), 0);
	bool is_found = false;
	for (size_t i = 0; i < count; i++)
		if (strcmp(list[i].name, "jobs.retention_hours") == 0) {
			assert_string_equal(list[i].value, "48");
			assert_false(list[i].is_default);
			is_found = true;
		}
	assert_true(is_found);
	settings_list_free(&list);
	two_close(&t);
}

/* The server's decision for a sender of an IPP job, checked; returns its reason. */
static pp_sender_reason_t expect_decision(pp_core_t *core, const char *sender,
                                          pp_sender_decision_t decision)
{
	char error[512];
	pp_sender_result_t result;
	if (sender_policy_decide(core, sender, "ipp", &result, error, sizeof(error)) != 0)
		fail_msg("sender_policy_decide %s: %s", sender, error);
	assert_int_equal(result.decision, decision);
	return result.reason;
}

/* A block rule added on the command line stops the server's next decision for that sender. */
static void test_sender_rule_seen_at_once(void **state)
{
	two_t t;
	two_open(state, &t);
	char error[512];
	pp_core_t *server = &t.server->core;
	(void)test_db_add_user(t.server->tdb->db, "ann@blocked.example");

	(void)expect_decision(server, "ann@blocked.example", PP_SENDER_ACCEPT);

	assert_int_equal(sender_rule_add(&t.cli, "cli", PP_SENDER_RULE_BLOCK, "@blocked.example",
	                                 error, sizeof(error)),
	                 0);
	assert_int_equal(expect_decision(server, "ann@blocked.example", PP_SENDER_REJECT),
	                 PP_SENDER_REASON_BLOCKED);

	pp_sender_rule_t *rules = NULL;
	size_t count = 0;
	assert_int_equal(sender_rule_list(server, &rules, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 1);
	assert_string_equal(rules[0].pattern, "@blocked.example");
	sender_rule_list_free(&rules);

	assert_int_equal(sender_rule_remove(&t.cli, "cli", PP_SENDER_RULE_BLOCK, "@blocked.example",
	                                    error, sizeof(error)),
	                 0);
	(void)expect_decision(server, "ann@blocked.example", PP_SENDER_ACCEPT);
	assert_int_equal(sender_rule_list(server, &rules, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 0);
	sender_rule_list_free(&rules);
	two_close(&t);
}

/* A stored value edited by hand into something invalid reads as the default, as uncached. */
static void test_hand_edit_invalid_reads_default(void **state)
{
	two_t t;
	two_open(state, &t);
	char error[512];
	const pp_db_value_t p[] = {DB_TEXT("jobs.retention_hours"), DB_TEXT("many")};
	assert_int_equal(db_exec(t.cli_db,
	                         "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, 1)",
	                         p, 2, NULL, error, sizeof(error)),
	                 DB_OK);
	settings_cache_changed(&t.cli); /* as a tool that edits the table must */
	expect_setting(&t.server->core, "jobs.retention_hours", "24");
	two_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_setting_change_seen_at_once),
	    TEST_CORE_CASE(test_sender_rule_seen_at_once),
	    TEST_CORE_CASE(test_hand_edit_invalid_reads_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
