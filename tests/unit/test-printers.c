/* test-printers.c - the printer registry, on SQLite and PostgreSQL. */
#include "test-db-support.h"

#include "core/audit.h"
#include "core/core.h"
#include "core/printers.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pp_printer_t test_printer(const char *name, const char *alias, const char *uri)
{
	pp_printer_t p;
	memset(&p, 0, sizeof(p));
	assert_true(str_copy(p.name, sizeof(p.name), name));
	assert_true(str_copy(p.alias, sizeof(p.alias), alias));
	assert_true(str_copy(p.location, sizeof(p.location), "2nd floor, room 201"));
	assert_true(str_copy(p.description, sizeof(p.description), "Colour laser"));
	assert_true(str_copy(p.device_uri, sizeof(p.device_uri), uri));
	p.is_enabled = true;
	return p;
}

static int64_t test_count(pp_core_t *core, const char *sql)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(core->db, sql, NULL, 0, &res, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

static void test_printers_add_list_remove(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];

	pp_printer_t a = test_printer("Lab-Color_1", "Lab", "ipps://lab.example.com:631/ipp/print");
	pp_printer_t b = test_printer("hall.mono", "", "socket://10.0.0.7:9100");
	int64_t id_a = 0, id_b = 0;
	assert_int_equal(printers_add(core, "admin:alice", &a, &id_a, error, sizeof(error)), 0);
	assert_int_equal(printers_add(core, "admin:alice", &b, &id_b, error, sizeof(error)), 0);
	assert_true(id_a > 0 && id_b > 0 && id_a != id_b);

	pp_printer_t got;
	assert_int_equal(printers_get(core, id_a, &got, error, sizeof(error)), 0);
	assert_string_equal(got.name, "Lab-Color_1");
	assert_string_equal(got.alias, "lab"); /* stored lower-case */
	assert_string_equal(got.location, "2nd floor, room 201");
	assert_string_equal(got.device_uri, "ipps://lab.example.com:631/ipp/print");
	assert_true(got.is_enabled);
	assert_int_equal(got.created_at, tc->now);

	/* Found by name (exact) or alias (any case); the default alias is the lower-cased name. */
	assert_int_equal(printers_find(core, "LAB", &got, error, sizeof(error)), 0);
	assert_int_equal(got.id, id_a);
	assert_int_equal(printers_find(core, "Lab-Color_1", &got, error, sizeof(error)), 0);
	assert_int_equal(got.id, id_a);
	assert_int_equal(printers_find(core, "HALL.MONO", &got, error, sizeof(error)), 0);
	assert_int_equal(got.id, id_b);
	assert_int_equal(printers_find(core, "nowhere", &got, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);

	pp_printer_t *list = NULL;
	size_t count = 0;
	assert_int_equal(printers_list(core, &list, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(list[0].name, "hall.mono"); /* ordered by name, any case */
	assert_string_equal(list[1].name, "Lab-Color_1");
	printers_list_free(&list);
	assert_null(list);
	printers_list_free(&list);

	test_core_advance(tc, 10);
	assert_int_equal(
	    printers_set_enabled(core, "admin:bob", id_b, false, error, sizeof(error)), 0);
	assert_int_equal(printers_get(core, id_b, &got, error, sizeof(error)), 0);
	assert_false(got.is_enabled);
	assert_int_equal(got.updated_at, tc->now);

	assert_int_equal(printers_remove(core, "admin:bob", id_a, error, sizeof(error)), 0);
	assert_int_equal(printers_get(core, id_a, &got, error, sizeof(error)), PRINTERS_NOT_FOUND);
	assert_int_equal(printers_remove(core, "admin:bob", id_a, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);
	assert_int_equal(printers_set_enabled(core, "admin:bob", 9999, true, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);

	/* Every change left a trace. */
	assert_int_equal(
	    test_count(core, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'printer.%'"), 4);
	assert_int_equal(test_count(core,
	                            "SELECT COUNT(*) FROM audit_log WHERE action = 'printer.remove'"
	                            " AND actor = 'admin:bob' AND object = 'Lab-Color_1'"),
	                 1);
}

static void test_printers_duplicates(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];

	pp_printer_t a = test_printer("first", "Lobby", "ipp://p1.example.com/ipp/print");
	assert_int_equal(printers_add(core, "cli", &a, NULL, error, sizeof(error)), 0);

	/* Each row collides with "first"/"lobby" on name or alias, whatever the case. */
	static const char *const clashes[][2] = {
	    {"second", "lobby"}, {"second", "LOBBY"}, {"second", "First"},
	    {"FIRST", "other"},  {"lobby", "other"},  {"first", "other"},
	};
	for (size_t i = 0; i < sizeof(clashes) / sizeof(clashes[0]); i++) {
		pp_printer_t b =
		    test_printer(clashes[i][0], clashes[i][1], "lpd://p2.example.com/q");
		int rc = printers_add(core, "cli", &b, NULL, error, sizeof(error));
		if (rc != PRINTERS_DUPLICATE)
			fail_msg("row %zu %s/%s: got %d (%s), expected a duplicate", i,
			         clashes[i][0], clashes[i][1], rc, error);
	}
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM printers"), 1);
}

static void test_printers_bad_input(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	static const struct {
		const char *name, *alias, *uri, *field;
	} rows[] = {
	    {"", "a", "ipp://h/", "name"},
	    {"-dash", "a", "ipp://h/", "name"},
	    {"has space", "a", "ipp://h/", "name"},
	    {"semi;colon", "a", "ipp://h/", "name"},
	    {"ok", "bad/alias", "ipp://h/", "alias"},
	    {"ok", "a", "http://h/", "device_uri"},
	    {"ok", "a", "", "device_uri"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_printer_t p = test_printer(rows[i].name, rows[i].alias, rows[i].uri);
		if (printers_add(core, "cli", &p, NULL, error, sizeof(error)) != -1)
			fail_msg("row %zu accepted", i);
		if (!str_has_prefix(error, rows[i].field))
			fail_msg("row %zu: \"%s\" does not name %s", i, error, rows[i].field);
	}
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM printers"), 0);

	/* 127 characters are fine, 128 are not. */
	char name[200];
	memset(name, 'n', 128);
	name[128] = '\0';
	assert_false(printers_name_is_valid(name));
	name[127] = '\0';
	assert_true(printers_name_is_valid(name));
}

/* Device URIs without a database. */
static void test_printers_uri_table(void **state)
{
	(void)state;
	static const struct {
		const char *uri;
		bool is_valid;
	} rows[] = {
	    {"ipp://printer.example.com/ipp/print", true},
	    {"ipps://printer.example.com:631/ipp/print", true},
	    {"socket://10.1.2.3:9100", true},
	    {"socket://10.1.2.3", true},
	    {"lpd://printserver/queue1", true},
	    {"ipp://[fe80::1]:631/ipp/print", true},
	    {"ipp://[2001:db8::7]/printers/x", true},
	    {"ipp://printer", true},
	    {"http://printer/", false},
	    {"IPP://printer/", false},
	    {"ipp:/printer", false},
	    {"ipp://", false},
	    {"ipp:///path", false},
	    {"ipp://:631/", false},
	    {"ipp://user:secret@printer/", false},
	    {"ipp://printer:0/", false},
	    {"ipp://printer:65536/", false},
	    {"ipp://printer:abc/", false},
	    {"ipp://printer:/", false},
	    {"ipp://pri nter/", false},
	    {"ipp://printer/a b", false},
	    {"ipp://printer/\n", false},
	    {"ipp://[fe80::1/", false},
	    {"ipp://[zz::1]/", false},
	    {"ipp://under_score/", false},
	    {"file:///etc/passwd", false},
	    {"socket://-host:9100", false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char error[256] = "";
		int rc = printers_uri_validate(rows[i].uri, error, sizeof(error));
		if ((rc == 0) != rows[i].is_valid)
			fail_msg("row %zu %s: expected %s (%s)", i, rows[i].uri,
			         rows[i].is_valid ? "valid" : "invalid", error);
		if (rc != 0 && !str_has_prefix(error, "device_uri"))
			fail_msg("row %zu: message \"%s\" does not name device_uri", i, error);
	}
}

/* A printer with a job being printed on it stays; other jobs lose the printer. */
static void test_printers_remove_busy(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	pp_printer_t a = test_printer("busy", "busy", "ipp://p.example.com/ipp/print");
	int64_t id = 0;
	assert_int_equal(printers_add(core, "cli", &a, &id, error, sizeof(error)), 0);
	pp_db_value_t p[] = {DB_INT(id)};
	assert_int_equal(db_exec(core->db,
	                         "INSERT INTO users (email, state, created_at, updated_at)"
	                         " VALUES ('ann@example.com', 'enabled', 1, 1)",
	                         NULL, 0, NULL, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(
	    db_exec(core->db,
	            "INSERT INTO jobs (uuid, user_id, state, source, printer_id,"
	            " created_at, updated_at) SELECT 'u1', id, 'printing', 'ipp', $1, 1, 1"
	            " FROM users",
	            p, 1, NULL, error, sizeof(error)),
	    DB_OK);
	assert_int_equal(printers_remove(core, "cli", id, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "cancel"));
	assert_int_equal(db_exec(core->db, "UPDATE jobs SET state = 'completed'", NULL, 0, NULL,
	                         error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(printers_remove(core, "cli", id, error, sizeof(error)), 0);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM jobs WHERE printer_id IS NULL"),
	                 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printers_uri_table),
	    TEST_CORE_CASE(test_printers_add_list_remove),
	    TEST_CORE_CASE(test_printers_duplicates),
	    TEST_CORE_CASE(test_printers_bad_input),
	    TEST_CORE_CASE(test_printers_remove_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
