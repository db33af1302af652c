/* test-printers.c - the printer registry, on SQLite and PostgreSQL: fields, groups, panel
   tokens, bulk export and import. */
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
	printers_init(&p);
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
	    {"ok", "a", "ipp://h/", "location"},
	    {"ok", "a", "ipp://h/", "output_format"},
	    {"ok", "a", "ipp://h/", "group"},
	    {"ok", "a", "ipp://h/", "capabilities"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_printer_t p = test_printer(rows[i].name, rows[i].alias, rows[i].uri);
		if (strcmp(rows[i].field, "location") == 0)
			assert_true(str_copy(p.location, sizeof(p.location), "two\nlines"));
		if (strcmp(rows[i].field, "output_format") == 0)
			assert_true(str_copy(p.output_format, sizeof(p.output_format), "pcl9"));
		if (strcmp(rows[i].field, "group") == 0)
			assert_true(str_copy(p.group_name, sizeof(p.group_name), "floor 2"));
		if (strcmp(rows[i].field, "capabilities") == 0)
			p.caps.n_formats = PRINTER_CAPS_FORMATS_MAX + 1;
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


/* Looks the last audit row of action up: its object and detail into the buffers. */
static void test_last_audit(pp_core_t *core, const char *action, char *object, size_t object_size,
                            char *detail, size_t detail_size)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	pp_db_value_t p[] = {DB_TEXT(action)};
	if (db_query(core->db,
	             "SELECT object, detail, actor FROM audit_log WHERE action = $1"
	             " ORDER BY id DESC LIMIT 1",
	             p, 1, &res, error, sizeof(error)) != DB_OK || db_result_rows(res) != 1)
		fail_msg("no audit row %s: %s", action, error);
	assert_true(str_copy(object, object_size, db_result_text(res, 0, 0)));
	assert_true(str_copy(detail, detail_size, db_result_text(res, 0, 1)));
	db_result_free(&res);
}

/* Every field can be edited; what changed is audited; collisions and bad values refused. */
static void test_printers_update(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512], object[AUDIT_OBJECT_MAX], detail[AUDIT_DETAIL_MAX];
	pp_printer_t a = test_printer("lab", "", "ipp://lab.example.com/ipp/print");
	pp_printer_t b = test_printer("hall", "", "socket://10.0.0.7");
	int64_t id_a = 0, id_b = 0;
	assert_int_equal(printers_add(core, "cli", &a, &id_a, error, sizeof(error)), 0);
	assert_int_equal(printers_add(core, "cli", &b, &id_b, error, sizeof(error)), 0);

	pp_printer_t got;
	assert_int_equal(printers_get(core, id_a, &got, error, sizeof(error)), 0);
	assert_string_equal(got.output_format, "auto");
	assert_string_equal(got.group_name, "");
	assert_false(got.has_panel_token);
	assert_true(printer_caps_takes(&got.caps, "application/pdf"));

	test_core_advance(tc, 60);
	pp_printer_t edit = got;
	assert_true(str_copy(edit.name, sizeof(edit.name), "Lab-2"));
	assert_true(str_copy(edit.alias, sizeof(edit.alias), "LabTwo"));
	assert_true(str_copy(edit.location, sizeof(edit.location), "Room 2 — Ost"));
	assert_true(str_copy(edit.description, sizeof(edit.description), "Mono"));
	assert_true(str_copy(edit.device_uri, sizeof(edit.device_uri), "ipps://lab2:631/ipp/print"));
	assert_true(str_copy(edit.output_format, sizeof(edit.output_format), "ps"));
	assert_true(str_copy(edit.group_name, sizeof(edit.group_name), "Floor2"));
	edit.is_enabled = false;
	edit.caps.has_duplex = true;
	edit.caps.is_color = false;
	assert_int_equal(printers_update(core, "admin:alice", id_a, &edit, error, sizeof(error)),
	                 0);
	assert_int_equal(printers_get(core, id_a, &got, error, sizeof(error)), 0);
	assert_string_equal(got.name, "Lab-2");
	assert_string_equal(got.alias, "labtwo");
	assert_string_equal(got.location, "Room 2 — Ost");
	assert_string_equal(got.description, "Mono");
	assert_string_equal(got.device_uri, "ipps://lab2:631/ipp/print");
	assert_string_equal(got.output_format, "ps");
	assert_string_equal(got.group_name, "floor2"); /* groups are one word, any case */
	assert_false(got.is_enabled);
	assert_true(got.caps.has_duplex);
	assert_false(got.caps.is_color);
	assert_int_equal(got.updated_at, tc->now);
	assert_int_equal(got.created_at, TEST_CORE_T0);
	test_last_audit(core, "printer.update", object, sizeof(object), detail, sizeof(detail));
	assert_string_equal(object, "lab"); /* under the old name */
	assert_string_equal(detail,
	                    "changed: name, alias, location, description, device_uri, "
	                    "output_format, group, capabilities, enabled; new name Lab-2");

	/* Storing the same again changes and audits nothing. */
	int64_t audits = test_count(core, "SELECT COUNT(*) FROM audit_log");
	assert_int_equal(printers_update(core, "admin:alice", id_a, &got, error, sizeof(error)), 0);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM audit_log"), audits);

	/* Collisions with the other printer, by name or alias, in any case. */
	pp_printer_t clash = got;
	assert_true(str_copy(clash.name, sizeof(clash.name), "HALL"));
	assert_int_equal(printers_update(core, "cli", id_a, &clash, error, sizeof(error)),
	                 PRINTERS_DUPLICATE);
	assert_true(str_has_prefix(error, "name"));
	clash = got;
	assert_true(str_copy(clash.alias, sizeof(clash.alias), "Hall"));
	assert_int_equal(printers_update(core, "cli", id_a, &clash, error, sizeof(error)),
	                 PRINTERS_DUPLICATE);
	assert_true(str_has_prefix(error, "alias"));
	/* Its own name in another case is no collision. */
	clash = got;
	assert_true(str_copy(clash.name, sizeof(clash.name), "LAB-2"));
	assert_int_equal(printers_update(core, "cli", id_a, &clash, error, sizeof(error)), 0);

	/* Bad values name the field and say what is allowed. */
	clash = got;
	assert_true(str_copy(clash.output_format, sizeof(clash.output_format), "pdf2"));
	assert_int_equal(printers_update(core, "cli", id_a, &clash, error, sizeof(error)), -1);
	assert_true(str_has_prefix(error, "output_format"));
	assert_non_null(strstr(error, "auto, pdf, pwg, urf, ps, pcl5 or pcl6"));
	assert_int_equal(printers_update(core, "cli", 9999, &got, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);
	assert_int_equal(printers_format_validate("auto", error, sizeof(error)), 0);
	assert_int_equal(printers_format_validate("pcl6", error, sizeof(error)), 0);
	assert_int_equal(printers_format_validate("", error, sizeof(error)), -1);
}

/* A group lists its members for failover, whatever the case it is asked in. */
static void test_printers_groups(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	static const char *const rows[][2] = {
	    {"west-b", "West"}, {"west-a", "west"}, {"east", "east"}, {"solo", ""}};
	for (size_t i = 0; i < 4; i++) {
		pp_printer_t p = test_printer(rows[i][0], "", "socket://10.0.0.9");
		assert_true(str_copy(p.group_name, sizeof(p.group_name), rows[i][1]));
		p.is_enabled = i != 0;
		assert_int_equal(printers_add(core, "cli", &p, NULL, error, sizeof(error)), 0);
	}
	pp_printer_t *list = NULL;
	size_t count = 0;
	assert_int_equal(printers_list_group(core, "WEST", &list, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 2);
	assert_string_equal(list[0].name, "west-a");
	assert_string_equal(list[1].name, "west-b");
	assert_false(list[1].is_enabled); /* listed; delivery skips it */
	printers_list_free(&list);
	assert_int_equal(printers_list_group(core, "", &list, &count, error, sizeof(error)), 0);
	assert_int_equal(count, 0);
	printers_list_free(&list);
	assert_int_equal(printers_list_group(core, "north", &list, &count, error, sizeof(error)),
	                 0);
	assert_int_equal(count, 0);
	printers_list_free(&list);
}

/* The panel token: shown once, stored as a keyed hash, replaced by a new one, revoked. */
static void test_printers_panel_token(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	pp_printer_t a = test_printer("lab", "", "ipp://lab.example.com/ipp/print");
	pp_printer_t b = test_printer("hall", "", "ipp://hall.example.com/ipp/print");
	int64_t id_a = 0, id_b = 0;
	assert_int_equal(printers_add(core, "cli", &a, &id_a, error, sizeof(error)), 0);
	assert_int_equal(printers_add(core, "cli", &b, &id_b, error, sizeof(error)), 0);

	char first[PRINTERS_PANEL_TOKEN_MAX], second[PRINTERS_PANEL_TOKEN_MAX],
	    other[PRINTERS_PANEL_TOKEN_MAX];
	assert_int_equal(printers_panel_token_issue(core, "admin:alice", id_a, first, error,
	                                            sizeof(error)),
	                 0);
	assert_int_equal(strlen(first), 68);
	assert_true(str_has_prefix(first, "ppk_"));
	assert_int_equal(
	    printers_panel_token_issue(core, "admin:alice", id_b, other, error, sizeof(error)), 0);
	assert_string_not_equal(first, other);

	pp_printer_t got;
	assert_int_equal(printers_find_by_panel_token(core, first, &got, error, sizeof(error)), 0);
	assert_int_equal(got.id, id_a);
	assert_true(got.has_panel_token);
	assert_int_equal(printers_find_by_panel_token(core, other, &got, error, sizeof(error)), 0);
	assert_int_equal(got.id, id_b);

	/* Only a keyed hash is stored, and no trace of the token is audited. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(core->db,
	                          "SELECT panel_token_hash FROM printers WHERE name = 'lab'", NULL,
	                          0, &res, error, sizeof(error)),
	                 DB_OK);
	const char *hash = db_result_text(res, 0, 0);
	assert_int_equal(strlen(hash), CRYPTO_HASH_HEX_LEN);
	assert_null(strstr(hash, first + 4));
	db_result_free(&res);
	assert_int_equal(db_query(core->db, "SELECT actor, action, object, detail FROM audit_log",
	                          NULL, 0, &res, error, sizeof(error)),
	                 DB_OK);
	for (size_t i = 0; i < db_result_rows(res); i++) {
		for (size_t c = 0; c < 4; c++)
			assert_null(strstr(db_result_text(res, i, c), first + 4));
	}
	db_result_free(&res);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM audit_log"
	                                  " WHERE action = 'printer.panel_token.issue'"
	                                  " AND actor = 'admin:alice'"),
	                 2);

	/* A new token replaces the old one at once. */
	assert_int_equal(
	    printers_panel_token_issue(core, "cli", id_a, second, error, sizeof(error)), 0);
	assert_string_not_equal(first, second);
	assert_int_equal(printers_find_by_panel_token(core, first, &got, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);
	assert_int_equal(printers_find_by_panel_token(core, second, &got, error, sizeof(error)), 0);
	assert_int_equal(got.id, id_a);

	/* Malformed or unknown tokens are simply not found. */
	char upper[PRINTERS_PANEL_TOKEN_MAX];
	assert_true(str_copy(upper, sizeof(upper), second));
	upper[10] = upper[10] >= 'a' ? 'A' : '9' - (upper[10] == '9');
	const char *const wrong[] = {"", "ppk_", "ppa_0000", upper, second + 1,
	                             "ppk_0000000000000000000000000000000000000000000000000000000000000000"};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		if (printers_find_by_panel_token(core, wrong[i], &got, error, sizeof(error)) !=
		    PRINTERS_NOT_FOUND)
			fail_msg("row %zu found a printer", i);
	}
	assert_int_equal(printers_find_by_panel_token(core, NULL, &got, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);

	/* Revoked: gone; revoking again says there was none. */
	bool is_revoked = false;
	assert_int_equal(
	    printers_panel_token_revoke(core, "cli", id_a, &is_revoked, error, sizeof(error)), 0);
	assert_true(is_revoked);
	assert_int_equal(printers_find_by_panel_token(core, second, &got, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);
	assert_int_equal(printers_get(core, id_a, &got, error, sizeof(error)), 0);
	assert_false(got.has_panel_token);
	assert_int_equal(
	    printers_panel_token_revoke(core, "cli", id_a, &is_revoked, error, sizeof(error)), 0);
	assert_false(is_revoked);
	assert_int_equal(
	    printers_panel_token_revoke(core, "cli", 9999, &is_revoked, error, sizeof(error)),
	    PRINTERS_NOT_FOUND);
	assert_int_equal(printers_panel_token_issue(core, "cli", 9999, first, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);
	assert_string_equal(first, "");
	/* Hall's token was never touched. */
	assert_int_equal(printers_find_by_panel_token(core, other, &got, error, sizeof(error)), 0);
}

/* Imports text, failing the test on -1; returns the result and leaves the report in *r. */
static int test_import(pp_core_t *core, const char *text, pp_printers_format_t format,
                       bool dry_run, pp_printers_import_report_t **r)
{
	char error[512] = "";
	int rc = printers_import(core, "admin:alice", text, strlen(text), format, dry_run, r, error,
	                         sizeof(error));
	if (rc == -1)
		fail_msg("import failed: %s", error);
	assert_non_null(*r);
	return rc;
}

/* The export of the registry, as text (new; free()). */
static char *test_export(pp_core_t *core, pp_printers_format_t format)
{
	char *text = NULL, error[512];
	if (printers_export(core, format, &text, error, sizeof(error)) < 0)
		fail_msg("export: %s", error);
	return text;
}

static void test_printers_export(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	char *text = test_export(core, PP_PRINTERS_CSV);
	assert_string_equal(text, "name,alias,location,description,device_uri,enabled,"
	                          "output_format,group,capabilities,tls_pin\r\n");
	free(text);
	text = test_export(core, PP_PRINTERS_JSON);
	assert_string_equal(text, "[]");
	free(text);

	pp_printer_t a = test_printer("Lab", "", "ipp://lab.example.com/ipp/print");
	assert_true(str_copy(a.location, sizeof(a.location), "Room 1, \"east\""));
	assert_true(str_copy(a.group_name, sizeof(a.group_name), "floor2"));
	a.caps.has_duplex = true;
	int64_t id = 0;
	assert_int_equal(printers_add(core, "cli", &a, &id, error, sizeof(error)), 0);
	char token[PRINTERS_PANEL_TOKEN_MAX];
	assert_int_equal(printers_panel_token_issue(core, "cli", id, token, error, sizeof(error)),
	                 0);

	text = test_export(core, PP_PRINTERS_CSV);
	assert_string_equal(
	    text, "name,alias,location,description,device_uri,enabled,output_format,group,"
	          "capabilities,tls_pin\r\n"
	          "Lab,lab,\"Room 1, \"\"east\"\"\",Colour laser,ipp://lab.example.com/ipp/print,"
	          "yes,auto,floor2,\"{\"\"formats\"\":[\"\"application/pdf\"\"],"
	          "\"\"has_duplex\"\":true,\"\"has_staple\"\":false,\"\"is_color\"\":true,"
	          "\"\"mac_address\"\":\"\"\"\",\"\"make_and_model\"\":\"\"\"\","
	          "\"\"media\"\":[\"\"iso_a4_210x297mm\"\"],\"\"resolution_dpi\"\":0,"
	          "\"\"speaks_pjl\"\":false}\",\r\n");
	assert_null(strstr(text, "ppk_"));
	free(text);
	text = test_export(core, PP_PRINTERS_JSON);
	assert_non_null(strstr(text, "\"location\": \"Room 1, \\\"east\\\"\""));
	assert_non_null(strstr(text, "\"enabled\": true"));
	assert_non_null(strstr(text, "\"has_duplex\": true"));
	assert_null(strstr(text, "panel"));
	assert_null(strstr(text, token + 4));
	free(text);
}

/* CSV import: adds, updates, leaves alone, and reports the line and field of bad rows. */
static void test_printers_import_csv(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	pp_printer_t a = test_printer("Lab", "", "ipp://lab.example.com/ipp/print");
	assert_int_equal(printers_add(core, "cli", &a, NULL, error, sizeof(error)), 0);
	pp_printers_import_report_t *r = NULL;

	/* A BOM, CRLF, a quoted cell with a comma and a line break, a blank line, columns in
	   any order, and spaces around unquoted cells. */
	static const char good[] =
	    "\xEF\xBB\xBF"
	    "Name,device_uri,location,group,enabled,output_format,capabilities\r\n"
	    "lab , ipp://lab.example.com/ipp/print, Room 1 ,Floor2,no,pcl6,\r\n"
	    "\r\n"
	    "hall,socket://10.0.0.5:9100,\"Lobby, near the door\",floor2,,,"
	    "\"{\"\"speaks_pjl\"\":true,\n \"\"formats\"\":[]}\"\r\n"
	    "cellar,lpd://srv/q,,,yes,auto,\r\n";
	assert_int_equal(test_import(core, good, PP_PRINTERS_CSV, false, &r), 0);
	assert_true(r->is_committed);
	assert_int_equal(r->n_rows, 3);
	assert_int_equal(r->n_added, 2);
	assert_int_equal(r->n_updated, 1);
	assert_int_equal(r->n_invalid, 0);
	assert_int_equal(r->rows[0].line, 2);
	assert_int_equal(r->rows[0].action, PP_PRINTERS_ROW_UPDATED);
	assert_int_equal(r->rows[1].line, 4);
	assert_int_equal(r->rows[1].action, PP_PRINTERS_ROW_ADDED);
	assert_string_equal(r->rows[1].name, "hall");
	assert_int_equal(r->rows[2].line, 6); /* the quoted line break counts */
	printers_import_report_free(&r);
	assert_null(r);
	printers_import_report_free(&r);

	pp_printer_t got;
	assert_int_equal(printers_find(core, "Lab", &got, error, sizeof(error)), 0);
	assert_string_equal(got.name, "lab"); /* matched without case, renamed as written */
	assert_string_equal(got.location, "Room 1");
	assert_string_equal(got.group_name, "floor2");
	assert_string_equal(got.output_format, "pcl6");
	assert_string_equal(got.description, "Colour laser"); /* no column: kept */
	assert_false(got.is_enabled);
	assert_true(printer_caps_takes(&got.caps, "application/pdf")); /* empty cell: kept */
	assert_int_equal(printers_find(core, "hall", &got, error, sizeof(error)), 0);
	assert_string_equal(got.location, "Lobby, near the door");
	assert_true(got.is_enabled); /* empty: a new printer is enabled */
	assert_true(got.caps.speaks_pjl);
	assert_string_equal(got.output_format, "auto");
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM audit_log WHERE actor ="
	                                  " 'admin:alice' AND action IN ('printer.add',"
	                                  " 'printer.update')"),
	                 3);

	/* The same file again changes nothing. */
	assert_int_equal(test_import(core, good, PP_PRINTERS_CSV, false, &r), 0);
	assert_int_equal(r->n_unchanged, 3);
	printers_import_report_free(&r);

	/* One bad row: nothing at all is stored, and each bad row says line and field. */
	static const char bad[] = "name,alias,device_uri,enabled,output_format,capabilities\n"
	                          "new1,,ipp://n1.example.com/,yes,,\n"
	                          "lab,,ipp://lab.example.com/ipp/print,yes,,\n"
	                          "new2,,http://n2/,yes,,\n"
	                          "new3,,ipp://n3/,maybe,,\n"
	                          "new4,,ipp://n4/,,pdf9,\n"
	                          "new5,,ipp://n5/,,,{\"duplex\":true}\n"
	                          "new6,hall,ipp://n6/,,,\n"
	                          "NEW1,,ipp://n1.example.com/,,,\n"
	                          ",,ipp://n7/,,,\n"
	                          "new8,,,,,\n"
	                          "new9,bad alias,ipp://n9/,,,\n"
	                          "new10,,ipp://n10/,,,,extra\n";
	int64_t before = test_count(core, "SELECT COUNT(*) FROM audit_log");
	assert_int_equal(test_import(core, bad, PP_PRINTERS_CSV, false, &r), PRINTERS_INVALID);
	assert_false(r->is_committed);
	static const struct {
		size_t line;
		pp_printers_row_action_t action;
		const char *field;
	} expected[] = {
	    {2, PP_PRINTERS_ROW_ADDED, ""},
	    {3, PP_PRINTERS_ROW_UPDATED, ""},
	    {4, PP_PRINTERS_ROW_INVALID, "device_uri"},
	    {5, PP_PRINTERS_ROW_INVALID, "enabled"},
	    {6, PP_PRINTERS_ROW_INVALID, "output_format"},
	    {7, PP_PRINTERS_ROW_INVALID, "capabilities"},
	    {8, PP_PRINTERS_ROW_INVALID, "alias"},
	    {9, PP_PRINTERS_ROW_INVALID, "name"},
	    {10, PP_PRINTERS_ROW_INVALID, "name"},
	    {11, PP_PRINTERS_ROW_INVALID, "device_uri"},
	    {12, PP_PRINTERS_ROW_INVALID, "alias"},
	    {13, PP_PRINTERS_ROW_INVALID, ""},
	};
	assert_int_equal(r->n_rows, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < r->n_rows; i++) {
		const pp_printers_import_row_t *row = &r->rows[i];
		if (row->line != expected[i].line || row->action != expected[i].action ||
		    strcmp(row->field, expected[i].field) != 0)
			fail_msg("row %zu: line %zu %s field \"%s\" (%s); expected line %zu field "
			         "\"%s\"",
			         i, row->line, printers_row_action_name(row->action), row->field,
			         row->message, expected[i].line, expected[i].field);
		if (row->action == PP_PRINTERS_ROW_INVALID && row->message[0] == '\0')
			fail_msg("row %zu: no message", i);
	}
	assert_non_null(strstr(r->rows[3].message, "yes or no"));
	assert_non_null(strstr(r->rows[4].message, "auto, pdf"));
	assert_non_null(strstr(r->rows[7].message, "line 2"));
	assert_int_equal(r->n_invalid, 10);
	printers_import_report_free(&r);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM printers"), 3);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM audit_log"), before);
	assert_int_equal(printers_find(core, "lab", &got, error, sizeof(error)), 0);
	assert_false(got.is_enabled);

	/* A dry run reports what would happen and stores nothing. */
	static const char dry[] = "name,device_uri,enabled\nnew1,ipp://n1/,\nlab,,yes\n";
	assert_int_equal(test_import(core, dry, PP_PRINTERS_CSV, true, &r), 0);
	assert_false(r->is_committed);
	assert_int_equal(r->n_added, 1);
	assert_int_equal(r->n_updated, 1);
	printers_import_report_free(&r);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM printers"), 3);
	assert_int_equal(printers_find(core, "lab", &got, error, sizeof(error)), 0);
	assert_false(got.is_enabled);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM audit_log"), before);

	/* Files that cannot be read as a whole: -1, with the line. */
	static const char *const unreadable[] = {
	    "",
	    "\n\n",
	    "alias,device_uri\nx,ipp://x/\n",
	    "name,colour\nx,red\n",
	    "name,name\nx,y\n",
	    "name,\"device_uri\nx,ipp://x/\n",
	};
	for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++) {
		error[0] = '\0';
		if (printers_import(core, "cli", unreadable[i], strlen(unreadable[i]),
		                    PP_PRINTERS_CSV, false, &r, error, sizeof(error)) != -1)
			fail_msg("row %zu was read", i);
		assert_null(r);
		if (strstr(error, i < 2 ? "empty" : "line 1") == NULL)
			fail_msg("row %zu: \"%s\" names no line", i, error);
	}
	static const char nul[] = "name,device_uri\nx\0,ipp://x/\n";
	assert_int_equal(printers_import(core, "cli", nul, sizeof(nul) - 1, PP_PRINTERS_CSV, false,
	                                 &r, error, sizeof(error)),
	                 -1);
	/* An unclosed quote in a row: that row is reported, nothing stored. */
	static const char open_quote[] = "name,device_uri\nok,ipp://ok/\nx,\"ipp://x/\n";
	assert_int_equal(test_import(core, open_quote, PP_PRINTERS_CSV, false, &r),
	                 PRINTERS_INVALID);
	assert_int_equal(r->n_rows, 2);
	assert_int_equal(r->rows[1].line, 3);
	assert_non_null(strstr(r->rows[1].message, "quote"));
	printers_import_report_free(&r);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM printers"), 3);
}

/* JSON import, and an export that imports back into an empty registry as it was. */
static void test_printers_import_json_round_trip(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	pp_printers_import_report_t *r = NULL;
	static const char json[] =
	    "[{\"name\":\"Lab\",\"alias\":\"L1\",\"location\":\"Room 1, \\\"east\\\"\","
	    "\"device_uri\":\"ipps://lab:631/ipp/print\",\"enabled\":false,"
	    "\"output_format\":\"pwg\",\"group\":\"g1\","
	    "\"capabilities\":{\"formats\":[\"image/pwg-raster\"],\"has_duplex\":true}},"
	    " {\"name\":\"hall\",\"device_uri\":\"socket://10.0.0.5\",\"description\":null}]";
	assert_int_equal(test_import(core, json, PP_PRINTERS_JSON, false, &r), 0);
	assert_int_equal(r->n_added, 2);
	assert_int_equal(r->rows[1].line, 2);
	printers_import_report_free(&r);

	static const char bad[] =
	    "[{\"name\":\"x1\",\"device_uri\":\"ipp://x1/\"}, 42,"
	    " {\"name\":\"x2\",\"device_uri\":\"ipp://x2/\",\"colour\":true},"
	    " {\"name\":\"x3\",\"device_uri\":\"ipp://x3/\",\"enabled\":\"yes\"},"
	    " {\"name\":\"x4\",\"device_uri\":\"ipp://x4/\",\"capabilities\":\"{}\"}]";
	assert_int_equal(test_import(core, bad, PP_PRINTERS_JSON, false, &r), PRINTERS_INVALID);
	assert_int_equal(r->n_rows, 5);
	assert_int_equal(r->rows[0].action, PP_PRINTERS_ROW_ADDED);
	assert_int_equal(r->rows[1].line, 2);
	assert_string_equal(r->rows[1].field, "");
	assert_string_equal(r->rows[2].field, "colour");
	assert_string_equal(r->rows[3].field, "enabled");
	assert_string_equal(r->rows[4].field, "capabilities");
	printers_import_report_free(&r);
	assert_int_equal(test_count(core, "SELECT COUNT(*) FROM printers"), 2);

	char error[512];
	static const char *const unreadable[] = {"", "{}", "[1,", "{\"name\":\"x\"}"};
	for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++) {
		if (printers_import(core, "cli", unreadable[i], strlen(unreadable[i]),
		                    PP_PRINTERS_JSON, false, &r, error, sizeof(error)) != -1)
			fail_msg("row %zu was read", i);
	}

	/* Round trip, both formats: export, empty the registry, import, export again. */
	for (int f = 0; f < 2; f++) {
		pp_printers_format_t format = f == 0 ? PP_PRINTERS_CSV : PP_PRINTERS_JSON;
		char *before = test_export(core, format);
		assert_int_equal(db_exec(core->db, "DELETE FROM printers", NULL, 0, NULL, error,
		                         sizeof(error)),
		                 DB_OK);
		assert_int_equal(test_import(core, before, format, false, &r), 0);
		assert_int_equal(r->n_added, 2);
		printers_import_report_free(&r);
		char *after = test_export(core, format);
		assert_string_equal(before, after);
		free(before);
		free(after);
	}
	pp_printer_t got;
	assert_int_equal(printers_find(core, "l1", &got, error, sizeof(error)), 0);
	assert_string_equal(got.name, "Lab");
	assert_false(got.is_enabled);
	assert_true(got.caps.has_duplex);
	assert_string_equal(got.output_format, "pwg");
	assert_string_equal(got.group_name, "g1");
	assert_string_equal(got.location, "Room 1, \"east\"");
}

/* Fingerprints as admins paste them: plain, in colon pairs, any case; anything else refused. */
static void test_printers_tls_pin_parse(void **state)
{
	(void)state;
	static const char plain[] =
	    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
	static const struct {
		const char *text;
		bool is_ok;
	} rows[] = {
	    {plain, true},
	    {"A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90", true},
	    {"A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:"
	     "6D:7E:8F:90",
	     true},
	    {"a1 b2 c3 d4 e5 f6 07 18 29 3a 4b 5c 6d 7e 8f 90 a1 b2 c3 d4 e5 f6 07 18 29 3a 4b 5c "
	     "6d 7e 8f 90",
	     true},
	    {"", false},
	    {"a1b2", false},
	    {"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", false},
	    {"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f900", false},
	    {"g1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", false},
	    {":a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", false},
	    {"a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90:", false},
	    {"a:1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char pin[PRINTERS_TLS_PIN_MAX] = "x";
		bool is_ok = printers_tls_pin_parse(rows[i].text, pin);
		if (is_ok != rows[i].is_ok)
			fail_msg("row %zu \"%s\": %s", i, rows[i].text, is_ok ? "taken" : "refused");
		assert_string_equal(pin, is_ok ? plain : "");
	}
}

/* A pin is stored, audited, kept by other edits, exported and removed again. */
static void test_printers_tls_pin(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	static const char pin[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
	pp_printer_t a = test_printer("lab", "", "ipps://lab.example.com/ipp/print");
	int64_t id = 0;
	assert_int_equal(printers_add(core, "cli", &a, &id, error, sizeof(error)), 0);
	pp_printer_t got;
	assert_int_equal(printers_get(core, id, &got, error, sizeof(error)), 0);
	assert_string_equal(got.tls_pin, "");

	assert_int_equal(printers_set_tls_pin(core, "admin:alice", id, "not hex", error,
	                                      sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "64 hex digits"));
	assert_int_equal(printers_set_tls_pin(core, "admin:alice", id, pin, error, sizeof(error)),
	                 0);
	char object[128], detail[256];
	test_last_audit(core, "printer.trust", object, sizeof(object), detail, sizeof(detail));
	assert_string_equal(object, "lab");

	/* An edit of another field keeps the pin. */
	assert_int_equal(printers_get(core, id, &got, error, sizeof(error)), 0);
	assert_string_equal(got.tls_pin, pin);
	assert_true(str_copy(got.location, sizeof(got.location), "Hall"));
	assert_int_equal(printers_update(core, "cli", id, &got, error, sizeof(error)), 0);
	assert_int_equal(printers_get(core, id, &got, error, sizeof(error)), 0);
	assert_string_equal(got.tls_pin, pin);

	char *text = NULL;
	assert_int_equal(printers_export_json(core, &text, error, sizeof(error)), 0);
	assert_non_null(strstr(text, "\"tls_pin\": \"a1b2c3d4"));
	free(text);
	assert_int_equal(printers_export_csv(core, &text, error, sizeof(error)), 0);
	assert_non_null(strstr(text, ",tls_pin\r\n"));
	assert_non_null(strstr(text, pin));
	free(text);

	/* Import: the colon form is taken; a bad one names the column; empty removes. */
	static const char csv_bad[] = "name,tls_pin\r\nlab,zz\r\n";
	pp_printers_import_report_t *report = NULL;
	assert_int_equal(printers_import(core, "cli", csv_bad, sizeof(csv_bad) - 1,
	                                 PP_PRINTERS_CSV, false, &report, error, sizeof(error)),
	                 PRINTERS_INVALID);
	assert_string_equal(report->rows[0].field, "tls_pin");
	printers_import_report_free(&report);
	static const char csv_empty[] = "name,tls_pin\r\nlab,\r\n";
	assert_int_equal(printers_import(core, "cli", csv_empty, sizeof(csv_empty) - 1,
	                                 PP_PRINTERS_CSV, false, &report, error, sizeof(error)),
	                 0);
	printers_import_report_free(&report);
	assert_int_equal(printers_get(core, id, &got, error, sizeof(error)), 0);
	assert_string_equal(got.tls_pin, "");
	static const char csv_colon[] =
	    "name,tls_pin\r\nlab,A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:"
	    "07:18:29:3A:4B:5C:6D:7E:8F:90\r\n";
	assert_int_equal(printers_import(core, "cli", csv_colon, sizeof(csv_colon) - 1,
	                                 PP_PRINTERS_CSV, false, &report, error, sizeof(error)),
	                 0);
	printers_import_report_free(&report);
	assert_int_equal(printers_get(core, id, &got, error, sizeof(error)), 0);
	assert_string_equal(got.tls_pin, pin);

	assert_int_equal(printers_set_tls_pin(core, "admin:alice", id, "", error, sizeof(error)),
	                 0);
	test_last_audit(core, "printer.untrust", object, sizeof(object), detail, sizeof(detail));
	assert_int_equal(printers_get(core, id, &got, error, sizeof(error)), 0);
	assert_string_equal(got.tls_pin, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printers_uri_table),
	    TEST_CORE_CASE(test_printers_add_list_remove),
	    TEST_CORE_CASE(test_printers_duplicates),
	    TEST_CORE_CASE(test_printers_bad_input),
	    TEST_CORE_CASE(test_printers_remove_busy),
	    TEST_CORE_CASE(test_printers_update),
	    TEST_CORE_CASE(test_printers_groups),
	    TEST_CORE_CASE(test_printers_panel_token),
	    TEST_CORE_CASE(test_printers_export),
	    TEST_CORE_CASE(test_printers_import_csv),
	    TEST_CORE_CASE(test_printers_import_json_round_trip),
	    cmocka_unit_test(test_printers_tls_pin_parse),
	    TEST_CORE_CASE(test_printers_tls_pin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
