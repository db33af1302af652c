/* test-accounting.c - accounting records and exports, on SQLite and PostgreSQL. */
#include "test-db-support.h"

#include "core/accounting.h"
#include "core/core.h"
#include "core/job-state.h"
#include "core/job.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 TEST_CORE_T0 /* where the fixture clock starts */

static void test_sql(pp_core_t *core, const char *sql, const pp_db_value_t *params, size_t n)
{
	char error[DB_ERROR_MAX];
	if (db_exec(core->db, sql, params, n, NULL, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
}

/* An output buffer for the export callback. */
typedef struct {
	char *data;
	size_t len;
	int calls;
	int fail_at; /* 0: never fail; N: the Nth call fails */
} sink_t;

static int sink_write(void *ctx, const char *data, size_t len)
{
	sink_t *s = ctx;
	s->calls++;
	if (s->fail_at != 0 && s->calls >= s->fail_at)
		return -1;
	char *grown = realloc(s->data, s->len + len + 1);
	assert_non_null(grown);
	memcpy(grown + s->len, data, len);
	s->len += len;
	grown[s->len] = '\0';
	s->data = grown;
	return 0;
}

static char *test_export(pp_core_t *core, pp_accounting_format_t format, int64_t since,
                         int64_t until, bool is_pseudonymised)
{
	sink_t sink = {0};
	char error[512];
	pp_accounting_export_t req = {
	    .format = format, .since = since, .until = until, .is_pseudonymised = is_pseudonymised};
	if (accounting_export(core, &req, sink_write, &sink, error, sizeof(error)) != 0)
		fail_msg("export: %s", error);
	assert_non_null(sink.data);
	return sink.data;
}

/* The fixed dataset of the golden files. */
static void test_dataset(pp_core_t *core)
{
	static const struct {
		const char *uuid, *email, *dept, *printer, *source, *title, *state;
		int64_t mono, color, sheets, copies;
		const char *sides, *media;
		int64_t up, size, submitted, finished;
	} rows[] = {
	    {"a1", "ann@example.com", "Finance", "lab", "ipp", "Budget, \"final\".pdf", "completed",
	     10, 2, 6, 2, "two-sided-long-edge", "iso_a4_210x297mm", 1, 2048, 1700000000,
	     1700000060},
	    {"a2", "bob@example.com", "-Sales", "hall", "mail", "=HYPERLINK(\"http://x\")",
	     "failed", 1, 0, 1, 1, "one-sided", "na_letter_8.5x11in", 1, 10, 1700000100,
	     1700000200},
	    {"a3", "ann@example.com", "Finance", "lab", "portal", "@SUM(A1)", "canceled", 0, 0, 0,
	     1, "one-sided", "iso_a4_210x297mm", 1, 5, 1700003600, 1700007200},
	    {"a4", "carol@example.com", "", "", "api", "+note\nline two", "completed", 3, 0, 2, 1,
	     "one-sided", "iso_a4_210x297mm", 2, 7, 1700080000, 1700090000},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_db_value_t p[] = {
		    DB_TEXT(rows[i].uuid),     DB_TEXT(rows[i].email),   DB_TEXT(rows[i].dept),
		    DB_TEXT(rows[i].printer),  DB_TEXT(rows[i].source),  DB_TEXT(rows[i].title),
		    DB_TEXT(rows[i].state),    DB_INT(rows[i].mono),     DB_INT(rows[i].color),
		    DB_INT(rows[i].sheets),    DB_INT(rows[i].copies),   DB_TEXT(rows[i].sides),
		    DB_TEXT(rows[i].media),    DB_INT(rows[i].up),       DB_INT(rows[i].size),
		    DB_INT(rows[i].submitted), DB_INT(rows[i].finished),
		};
		test_sql(
		    core,
		    "INSERT INTO accounting (job_uuid, user_email, department, printer_name,"
		    " source, title, final_state, pages_mono, pages_color, sheets, copies,"
		    " sides, media, number_up, size_bytes, submitted_at, finished_at)"
		    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
		    " $16, $17)",
		    p, sizeof(p) / sizeof(p[0]));
	}
}

static const char golden_csv[] =
    "job_uuid,user,department,printer,source,title,final_state,pages_mono,pages_color,"
    "sheets,copies,sides,media,number_up,size_bytes,submitted_at,finished_at,printer_mac,"
    "server_name\r\n"
    "a1,ann@example.com,Finance,lab,ipp,\"Budget, \"\"final\"\".pdf\",completed,10,2,6,2,"
    "two-sided-long-edge,iso_a4_210x297mm,1,2048,2023-11-14T22:13:20Z,2023-11-14T22:14:20Z,,\r\n"
    "a2,bob@example.com,'-Sales,hall,mail,\"'=HYPERLINK(\"\"http://x\"\")\",failed,1,0,1,1,"
    "one-sided,na_letter_8.5x11in,1,10,2023-11-14T22:15:00Z,2023-11-14T22:16:40Z,,\r\n"
    "a3,ann@example.com,Finance,lab,portal,'@SUM(A1),canceled,0,0,0,1,one-sided,"
    "iso_a4_210x297mm,1,5,2023-11-14T23:13:20Z,2023-11-15T00:13:20Z,,\r\n"
    "a4,carol@example.com,,,api,\"'+note\nline two\",completed,3,0,2,1,one-sided,"
    "iso_a4_210x297mm,2,7,2023-11-15T20:26:40Z,2023-11-15T23:13:20Z,,\r\n";

static const char golden_json[] =
    "[\n"
    "{\"job_uuid\":\"a1\",\"user\":\"ann@example.com\",\"department\":\"Finance\","
    "\"printer\":\"lab\",\"source\":\"ipp\",\"title\":\"Budget, \\\"final\\\".pdf\","
    "\"final_state\":\"completed\",\"pages_mono\":10,\"pages_color\":2,\"sheets\":6,"
    "\"copies\":2,\"sides\":\"two-sided-long-edge\",\"media\":\"iso_a4_210x297mm\","
    "\"number_up\":1,\"size_bytes\":2048,\"submitted_at\":\"2023-11-14T22:13:20Z\","
    "\"finished_at\":\"2023-11-14T22:14:20Z\",\"printer_mac\":\"\",\"server_name\":\"\"},\n"
    "{\"job_uuid\":\"a2\",\"user\":\"bob@example.com\",\"department\":\"-Sales\","
    "\"printer\":\"hall\",\"source\":\"mail\",\"title\":\"=HYPERLINK(\\\"http://x\\\")\","
    "\"final_state\":\"failed\",\"pages_mono\":1,\"pages_color\":0,\"sheets\":1,"
    "\"copies\":1,\"sides\":\"one-sided\",\"media\":\"na_letter_8.5x11in\","
    "\"number_up\":1,\"size_bytes\":10,\"submitted_at\":\"2023-11-14T22:15:00Z\","
    "\"finished_at\":\"2023-11-14T22:16:40Z\",\"printer_mac\":\"\",\"server_name\":\"\"},\n"
    "{\"job_uuid\":\"a3\",\"user\":\"ann@example.com\",\"department\":\"Finance\","
    "\"printer\":\"lab\",\"source\":\"portal\",\"title\":\"@SUM(A1)\","
    "\"final_state\":\"canceled\",\"pages_mono\":0,\"pages_color\":0,\"sheets\":0,"
    "\"copies\":1,\"sides\":\"one-sided\",\"media\":\"iso_a4_210x297mm\","
    "\"number_up\":1,\"size_bytes\":5,\"submitted_at\":\"2023-11-14T23:13:20Z\","
    "\"finished_at\":\"2023-11-15T00:13:20Z\",\"printer_mac\":\"\",\"server_name\":\"\"},\n"
    "{\"job_uuid\":\"a4\",\"user\":\"carol@example.com\",\"department\":\"\","
    "\"printer\":\"\",\"source\":\"api\",\"title\":\"+note\\nline two\","
    "\"final_state\":\"completed\",\"pages_mono\":3,\"pages_color\":0,\"sheets\":2,"
    "\"copies\":1,\"sides\":\"one-sided\",\"media\":\"iso_a4_210x297mm\","
    "\"number_up\":2,\"size_bytes\":7,\"submitted_at\":\"2023-11-15T20:26:40Z\","
    "\"finished_at\":\"2023-11-15T23:13:20Z\",\"printer_mac\":\"\",\"server_name\":\"\"}\n"
    "]\n";

static void test_accounting_export_golden(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	test_dataset(core);

	char *csv = test_export(core, PP_ACCOUNTING_CSV, 0, 0, false);
	assert_string_equal(csv, golden_csv);
	free(csv);
	char *json = test_export(core, PP_ACCOUNTING_JSON, 0, 0, false);
	assert_string_equal(json, golden_json);
	free(json);

	/* since is inclusive, until exclusive: only a2 finished in [a2, a3). */
	csv = test_export(core, PP_ACCOUNTING_CSV, 1700000200, 1700007200, false);
	assert_non_null(strstr(csv, "\r\na2,"));
	assert_null(strstr(csv, "\r\na1,"));
	assert_null(strstr(csv, "\r\na3,"));
	free(csv);
	json = test_export(core, PP_ACCOUNTING_JSON, 1800000000, 0, false);
	assert_string_equal(json, "[]\n");
	free(json);
	csv = test_export(core, PP_ACCOUNTING_CSV, 1800000000, 0, false);
	assert_true(str_has_prefix(csv, "job_uuid,user,"));
	assert_non_null(strstr(csv, "server_name\r\n"));
	assert_int_equal(strlen(csv), strlen(strstr(csv, "server_name\r\n")) +
	                                  (size_t)(strstr(csv, "server_name\r\n") - csv));
	free(csv);
}

/* Count occurrences of needle in hay. */
static size_t test_count_str(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_accounting_pseudonyms(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	test_dataset(core);

	char *first = test_export(core, PP_ACCOUNTING_CSV, 0, 0, true);
	char *second = test_export(core, PP_ACCOUNTING_CSV, 0, 0, true);
	assert_string_equal(first, second);
	assert_null(strstr(first, "@example.com"));
	assert_null(strstr(first, "Budget")); /* titles dropped */

	char ann[ACCOUNTING_PSEUDONYM_LEN + 1], bob[ACCOUNTING_PSEUDONYM_LEN + 1];
	accounting_pseudonym(core, "ann@example.com", ann);
	accounting_pseudonym(core, "bob@example.com", bob);
	assert_int_equal(strlen(ann), 18);
	assert_true(str_has_prefix(ann, "u-"));
	assert_string_not_equal(ann, bob);
	assert_string_not_equal(ann, "ann@example.com");
	/* ann printed twice: her pseudonym appears twice, so per-user counts stay right. */
	assert_int_equal(test_count_str(first, ann), 2);
	assert_int_equal(test_count_str(first, bob), 1);

	char *json = test_export(core, PP_ACCOUNTING_JSON, 0, 0, true);
	assert_int_equal(test_count_str(json, ann), 2);
	assert_null(strstr(json, "@example.com"));
	free(json);

	/* Another server key gives other pseudonyms. */
	pp_core_t other;
	int64_t other_now;
	assert_int_equal(test_core_init(&other, &other_now, tc->tdb->db, NULL, 0x17), 0);
	char ann_other[ACCOUNTING_PSEUDONYM_LEN + 1];
	accounting_pseudonym(&other, "ann@example.com", ann_other);
	assert_string_not_equal(ann, ann_other);
	core_deinit(&other);

	free(first);
	free(second);
}

/* More rows than one batch: every record is exported once, in order. */
static void test_accounting_export_batches(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	assert_int_equal(db_tx_begin(core->db, error, sizeof(error)), DB_OK);
	for (int i = 0; i < 1203; i++) {
		char uuid[32];
		assert_true(str_format(uuid, sizeof(uuid), "job-%04d", i));
		/* Groups of equal finish times test the (finished_at, id) paging. */
		pp_db_value_t p[] = {DB_TEXT(uuid), DB_INT(T0 + i / 7)};
		test_sql(core,
		         "INSERT INTO accounting (job_uuid, user_email, source, final_state,"
		         " submitted_at, finished_at) VALUES ($1, 'x@example.com', 'ipp',"
		         " 'completed', $2, $2)",
		         p, 2);
	}
	assert_int_equal(db_tx_commit(core->db, error, sizeof(error)), DB_OK);
	char *csv = test_export(core, PP_ACCOUNTING_CSV, 0, 0, false);
	assert_int_equal(test_count_str(csv, "\r\n"), 1204);
	const char *prev = csv;
	for (int i = 0; i < 1203; i++) {
		char needle[32];
		assert_true(str_format(needle, sizeof(needle), "\r\njob-%04d,", i));
		const char *at = strstr(csv, needle);
		if (at == NULL || at < prev)
			fail_msg("record %d missing or out of order", i);
		prev = at;
	}
	free(csv);

	/* A write that fails stops the export with an error. */
	sink_t sink = {.fail_at = 3};
	pp_accounting_export_t req = {.format = PP_ACCOUNTING_JSON};
	assert_int_equal(accounting_export(core, &req, sink_write, &sink, error, sizeof(error)),
	                 -1);
	assert_int_equal(sink.calls, 3);
	free(sink.data);

	/* And into a FILE*. */
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(accounting_export_file(core, &req, f, error, sizeof(error)), 0);
	assert_true(ftell(f) > 1203 * 100);
	assert_int_equal(fclose(f), 0);
}

static int64_t test_user(pp_core_t *core)
{
	test_sql(core,
	         "INSERT INTO users (email, department, state, created_at, updated_at)"
	         " VALUES ('dan@example.com', 'Legal', 'enabled', 1, 1)",
	         NULL, 0);
	test_sql(core,
	         "INSERT INTO printers (name, alias, device_uri, created_at, updated_at)"
	         " VALUES ('lab', 'lab', 'ipp://lab/ipp/print', 1, 1)",
	         NULL, 0);
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	assert_int_equal(
	    db_query(core->db, "SELECT id FROM users", NULL, 0, &res, error, sizeof(error)), DB_OK);
	int64_t id = db_result_int(res, 0, 0);
	db_result_free(&res);
	return id;
}

/* A job printed through the state machine, with options; returns its uuid in uuid_r. */
static void test_print_job(pp_core_t *core, int64_t user, const char *options_json, int64_t pages,
                           int64_t color, pp_job_state_t end, bool is_retryable,
                           char uuid_r[JOB_UUID_MAX])
{
	char error[512];
	pp_print_options_t opts;
	assert_int_equal(options_from_json(options_json, &opts, error, sizeof(error)), 0);
	pp_job_new_t new_job = {.user_id = user, .source = "ipp", .title = "t", .options = &opts};
	pp_job_t job;
	assert_int_equal(job_create(core, &new_job, &job, error, sizeof(error)), 0);
	pp_db_value_t p[] = {DB_INT(job.id)};
	test_sql(core,
	         "UPDATE jobs SET state = 'printing', printer_id = (SELECT id FROM printers)"
	         " WHERE id = $1",
	         p, 1);
	pp_job_transition_t how = {
	    .has_pages = true, .pages = pages, .color_pages = color, .is_retryable = is_retryable};
	assert_int_equal(
	    job_transition(core, job.id, PP_JOB_PRINTING, end, &how, error, sizeof(error)), JOB_OK);
	memcpy(uuid_r, job.uuid, JOB_UUID_MAX);
}

static void test_accounting_record_from_jobs(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	pp_core_t *core = &tc->core;
	char error[512];
	char uuid[JOB_UUID_MAX];
	pp_accounting_record_t r;
	int64_t user = test_user(core);

	/* 10 pages, 3 in colour, 2 copies, duplex, 2-up: 5 sides -> 3 sheets per copy. */
	test_print_job(core, user,
	               "{\"copies\":2,\"sides\":\"two-sided-long-edge\",\"number_up\":2,"
	               "\"media\":\"na_letter_8.5x11in\"}",
	               10, 3, PP_JOB_COMPLETED, false, uuid);
	assert_int_equal(accounting_get(core, uuid, &r, error, sizeof(error)), 0);
	assert_string_equal(r.user_email, "dan@example.com");
	assert_string_equal(r.department, "Legal");
	assert_string_equal(r.printer_name, "lab");
	assert_string_equal(r.source, "ipp");
	assert_int_equal(r.pages_mono, 14);
	assert_int_equal(r.pages_color, 6);
	assert_int_equal(r.sheets, 6);
	assert_int_equal(r.copies, 2);
	assert_string_equal(r.sides, "two-sided-long-edge");
	assert_string_equal(r.media, "na_letter_8.5x11in");
	assert_int_equal(r.number_up, 2);

	/* Monochrome prints no colour pages, whatever the document holds. */
	test_print_job(core, user, "{\"color_mode\":\"monochrome\"}", 5, 5, PP_JOB_COMPLETED,
	               false, uuid);
	assert_int_equal(accounting_get(core, uuid, &r, error, sizeof(error)), 0);
	assert_int_equal(r.pages_mono, 5);
	assert_int_equal(r.pages_color, 0);

	/* A final failure is recorded; a retryable one is not (yet). */
	test_print_job(core, user, "{}", 2, 0, PP_JOB_FAILED, false, uuid);
	assert_int_equal(accounting_get(core, uuid, &r, error, sizeof(error)), 0);
	assert_string_equal(r.final_state, "failed");
	test_print_job(core, user, "{}", 2, 0, PP_JOB_FAILED, true, uuid);
	assert_int_equal(accounting_get(core, uuid, &r, error, sizeof(error)), JOB_NOT_FOUND);
	test_print_job(core, user, "{}", 1, 0, PP_JOB_CANCELED, false, uuid);
	assert_int_equal(accounting_get(core, uuid, &r, error, sizeof(error)), 0);
	assert_string_equal(r.final_state, "canceled");

	/* The record outlives the user. */
	test_sql(core, "DELETE FROM users", NULL, 0);
	assert_int_equal(accounting_get(core, uuid, &r, error, sizeof(error)), 0);
	assert_string_equal(r.user_email, "dan@example.com");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_accounting_export_golden),
	    TEST_CORE_CASE(test_accounting_pseudonyms),
	    TEST_CORE_CASE(test_accounting_export_batches),
	    TEST_CORE_CASE(test_accounting_record_from_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
