/*
 * test-api.c - the REST API as a client sees it, over HTTPS against a real listener, a real
 * database (SQLite and PostgreSQL) and an encrypted spool: sign-in and its throttle, tokens
 * that expire, uploads (raw and multipart, and one too large), another user's job that does
 * not exist for you, uniform errors, and the OpenAPI document matching the routes.
 */
#include "test-db-support.h"
#include "test-http-support.h"

#include "api/api.h"
#include "core/codes.h"
#include "core/settings.h"
#include "core/tokens.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The HTTP client and certificate fixtures (not linked into this row of the build list). */
#include "test-http-support.c"

#define TEST_MAX_DOC 8192u
#define TEST_PDF "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

typedef struct {
	test_core_t *tc; /* owned by the cmocka state */
	pp_spool_t *spool;
	pp_http_server_t *http;
	pp_api_t *api;
	pp_tls_cert_info_t cert;
	test_http_peer_t peer;
	int64_t ann, bob;
	char ann_code[CODES_MAX_LEN + 1];
	char bob_code[CODES_MAX_LEN + 1];
} fixture_t;

/* Starts the API over the case's core: a spool, a listener, two users with codes. */
static void fixture_start(void **state, fixture_t *f)
{
	memset(f, 0, sizeof(*f));
	f->tc = TEST_CORE(state);
	char dir[4096], error[512];
	assert_true(str_format(dir, sizeof(dir), "%s/spool", f->tc->tdb->dir));
	uint8_t key[SPOOL_KEY_BYTES];
	memset(key, 7, sizeof(key));
	if (spool_open(dir, key, true, TEST_MAX_DOC, &f->spool, error, sizeof(error)) < 0)
		fail_msg("%s", error);
	f->tc->core.spool = f->spool;
	f->ann = test_db_add_user(f->tc->tdb->db, "ann@example.com");
	f->bob = test_db_add_user(f->tc->tdb->db, "bob@example.com");
	assert_int_equal(codes_issue(&f->tc->core, "test", f->ann, f->ann_code, error,
				     sizeof(error)), 0);
	assert_int_equal(codes_issue(&f->tc->core, "test", f->bob, f->bob_code, error,
				     sizeof(error)), 0);

	test_http_cert_make(f->tc->tdb->dir, &f->cert);
	pp_http_config_t cfg;
	test_http_config_loopback(&cfg, &f->cert);
	if (http_server_new(&cfg, &f->http, error, sizeof(error)) < 0)
		fail_msg("%s", error);
	pp_api_config_t api_cfg = {.core = &f->tc->core, .max_document_bytes = TEST_MAX_DOC};
	if (api_start(f->http, &api_cfg, &f->api, error, sizeof(error)) < 0)
		fail_msg("%s", error);
	test_http_start(f->http, &f->cert, &f->peer);
}

static void fixture_stop(fixture_t *f)
{
	http_server_free(&f->http);
	api_free(&f->api);
	f->tc->core.spool = NULL;
	spool_close(&f->spool);
}

/*
 * One request over TLS: method, path, extra header lines ("" or "X: y\r\n…" without the
 * last CRLF), body. Returns the status; *json_r (may be NULL) gets the parsed body (new).
 */
static unsigned call(fixture_t *f, const char *method, const char *path, const char *headers,
		     const void *body, size_t len, json_t **json_r, test_http_response_t *r_out)
{
	char head[3072];
	assert_true(str_format(head, sizeof(head), "%s %s HTTP/1.1\r\nContent-Length: %zu%s%s",
			       method, path, len, headers[0] != '\0' ? "\r\n" : "", headers));
	test_http_response_t r;
	test_http_exchange(&f->peer, true, head, body, len, &r);
	unsigned status = r.status;
	if (json_r != NULL) {
		*json_r = json_loadb(r.body, r.body_len, 0, NULL);
		if (*json_r == NULL)
			fail_msg("%s %s: body is not JSON: %s", method, path, r.body);
	}
	if (r_out != NULL)
		*r_out = r;
	else
		test_http_response_free(&r);
	return status;
}

/* The error code of an error body, "" when it is not one. */
static const char *error_code(const json_t *body)
{
	const char *code = json_string_value(json_object_get(json_object_get(body, "error"),
							     "code"));
	return code != NULL ? code : "";
}

/* Signs in with email + code; returns the token into token[TOKENS_TEXT_MAX]. */
static void sign_in(fixture_t *f, const char *email, const char *code, char *token)
{
	char body[256], hdr[64];
	assert_true(str_format(body, sizeof(body), "{\"email\":\"%s\",\"code\":\"%s\"}", email,
			       code));
	assert_true(str_copy(hdr, sizeof(hdr), "Content-Type: application/json"));
	json_t *answer = NULL;
	assert_int_equal(call(f, "POST", "/api/v1/login", hdr, body, strlen(body), &answer, NULL),
			 200);
	assert_true(str_copy(token, TOKENS_TEXT_MAX,
			     json_string_value(json_object_get(answer, "token"))));
	assert_string_equal(json_string_value(json_object_get(answer, "token_type")), "Bearer");
	json_decref(answer);
}

/* Uploads TEST_PDF raw; returns the status and the job id into id[33] on success. */
static unsigned upload_raw(fixture_t *f, const char *token, const void *data, size_t len,
			   char *id)
{
	char hdr[512];
	assert_true(str_format(hdr, sizeof(hdr),
			       "Authorization: Bearer %s\r\nContent-Type: application/pdf\r\n"
			       "X-Filename: report%%20Q3.pdf",
			       token));
	json_t *answer = NULL;
	unsigned status = call(f, "POST", "/api/v1/jobs", hdr, data, len, &answer, NULL);
	if (status == 201) {
		assert_true(str_copy(id, 33, json_string_value(json_object_get(answer, "id"))));
		assert_string_equal(json_string_value(json_object_get(answer, "title")),
				    "report Q3.pdf");
		assert_string_equal(json_string_value(json_object_get(answer, "state")),
				    "received");
	}
	json_decref(answer);
	return status;
}

/* Sign-in, upload, list, detail; and bob sees none of ann's job. */
static void test_own_jobs_only(void **state)
{
	fixture_t f;
	fixture_start(state, &f);
	char ann[TOKENS_TEXT_MAX], bob[TOKENS_TEXT_MAX], id[33], hdr[256], path[128];
	sign_in(&f, "ann@example.com", f.ann_code, ann);
	sign_in(&f, "bob@example.com", f.bob_code, bob);
	assert_int_equal(upload_raw(&f, ann, TEST_PDF, strlen(TEST_PDF), id), 201);

	/* Ann lists and reads her job. */
	json_t *answer = NULL;
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", ann));
	assert_int_equal(call(&f, "GET", "/api/v1/jobs", hdr, NULL, 0, &answer, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(answer, "jobs")), 1);
	json_decref(answer);
	assert_true(str_format(path, sizeof(path), "/api/v1/jobs/%s", id));
	assert_int_equal(call(&f, "GET", path, hdr, NULL, 0, &answer, NULL), 200);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(answer, "documents"), 0),
				    "content_type")),
			    "application/pdf");
	json_decref(answer);

	/* Bob: an empty list, and every operation on ann's job answers 404. */
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", bob));
	assert_int_equal(call(&f, "GET", "/api/v1/jobs", hdr, NULL, 0, &answer, NULL), 200);
	assert_int_equal(json_array_size(json_object_get(answer, "jobs")), 0);
	json_decref(answer);
	static const struct {
		const char *method;
		const char *suffix;
	} ops[] = {{"GET", ""}, {"DELETE", ""}, {"GET", "/pages/1/thumbnail"},
		   {"GET", "/pages/1/preview"}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		assert_true(str_format(path, sizeof(path), "/api/v1/jobs/%s%s", id, ops[i].suffix));
		assert_int_equal(call(&f, ops[i].method, path, hdr, NULL, 0, &answer, NULL), 404);
		assert_string_equal(error_code(answer), "not_found");
		json_decref(answer);
	}
	char hdr_json[512];
	assert_true(str_format(hdr_json, sizeof(hdr_json), "%s\r\nContent-Type: application/json",
			       hdr));
	const char *patch = "{\"options\":{\"copies\":3}}";
	assert_true(str_format(path, sizeof(path), "/api/v1/jobs/%s", id));
	assert_int_equal(call(&f, "PATCH", path, hdr_json, patch, strlen(patch), &answer, NULL),
			 404);
	json_decref(answer);
	assert_true(str_format(path, sizeof(path), "/api/v1/jobs/%s/release", id));
	const char *release = "{\"printer\":\"nowhere\"}";
	assert_int_equal(call(&f, "POST", path, hdr_json, release, strlen(release), &answer, NULL),
			 404);
	json_decref(answer);

	/* Ann's job is still there; she deletes it. */
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", ann));
	assert_true(str_format(path, sizeof(path), "/api/v1/jobs/%s", id));
	assert_int_equal(call(&f, "DELETE", path, hdr, NULL, 0, NULL, NULL), 204);
	assert_int_equal(call(&f, "GET", path, hdr, NULL, 0, &answer, NULL), 404);
	json_decref(answer);
	fixture_stop(&f);
}

/* The number of jobs in the list GET path answers with token's user (200 expected). */
static size_t list_count(fixture_t *f, const char *token, const char *path)
{
	char hdr[256];
	json_t *answer = NULL;
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", token));
	assert_int_equal(call(f, "GET", path, hdr, NULL, 0, &answer, NULL), 200);
	size_t count = json_array_size(json_object_get(answer, "jobs"));
	json_decref(answer);
	return count;
}

/*
 * Job lists are kept for a second, yet a user sees each change of their own at once, in
 * every query they asked before (uploads and deletes), and another user's list is not theirs.
 */
static void test_list_follows_own_changes(void **state)
{
	fixture_t f;
	fixture_start(state, &f);
	char ann[TOKENS_TEXT_MAX], bob[TOKENS_TEXT_MAX], first[33], second[33], hdr[256],
		path[128];
	sign_in(&f, "ann@example.com", f.ann_code, ann);
	sign_in(&f, "bob@example.com", f.bob_code, bob);
	static const char *const lists[] = {"/api/v1/jobs", "/api/v1/jobs?limit=10",
					    "/api/v1/jobs?state=received,converting,held"};
	const size_t n_lists = sizeof(lists) / sizeof(lists[0]);
	for (size_t i = 0; i < n_lists; i++) {
		assert_int_equal(list_count(&f, ann, lists[i]), 0);
		assert_int_equal(list_count(&f, ann, lists[i]), 0); /* answered again: the same */
	}
	assert_int_equal(upload_raw(&f, ann, TEST_PDF, strlen(TEST_PDF), first), 201);
	for (size_t i = 0; i < n_lists; i++)
		assert_int_equal(list_count(&f, ann, lists[i]), 1);
	assert_int_equal(upload_raw(&f, ann, TEST_PDF, strlen(TEST_PDF), second), 201);
	for (size_t i = 0; i < n_lists; i++) {
		assert_int_equal(list_count(&f, ann, lists[i]), 2);
		assert_int_equal(list_count(&f, bob, lists[i]), 0);
	}
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", ann));
	assert_true(str_format(path, sizeof(path), "/api/v1/jobs/%s", first));
	assert_int_equal(call(&f, "DELETE", path, hdr, NULL, 0, NULL, NULL), 204);
	for (size_t i = 0; i < n_lists; i++)
		assert_int_equal(list_count(&f, ann, lists[i]), 1);
	fixture_stop(&f);
}

/* Wrong codes: refused, then throttled with Retry-After; the right code is refused too. */
static void test_wrong_codes_throttled(void **state)
{
	fixture_t f;
	fixture_start(state, &f);
	const char *wrong = "{\"email\":\"ann@example.com\",\"code\":\"000000\"}";
	const char *hdr = "Content-Type: application/json";
	unsigned statuses[6];
	for (size_t i = 0; i < 6; i++) {
		json_t *answer = NULL;
		test_http_response_t r;
		statuses[i] = call(&f, "POST", "/api/v1/login", hdr, wrong, strlen(wrong), &answer,
				   &r);
		if (statuses[i] == 429) {
			char retry[32];
			assert_true(test_http_response_header(&r, "Retry-After", retry, sizeof(retry)));
			uint64_t seconds = 0;
			assert_true(parse_uint64_full(retry, 86400, &seconds) && seconds >= 1);
			assert_string_equal(error_code(answer), "throttled");
		} else {
			assert_string_equal(error_code(answer), "invalid_credentials");
		}
		test_http_response_free(&r);
		json_decref(answer);
	}
	assert_int_equal(statuses[0], 401);
	assert_int_equal(statuses[1], 401);
	assert_int_equal(statuses[5], 429);
	/* While locked, even the right code is not looked at. */
	char right[128];
	assert_true(str_format(right, sizeof(right), "{\"email\":\"ann@example.com\",\"code\":\"%s\"}",
			       f.ann_code));
	json_t *answer = NULL;
	assert_int_equal(call(&f, "POST", "/api/v1/login", hdr, right, strlen(right), &answer, NULL),
			 429);
	json_decref(answer);
	fixture_stop(&f);
}

/* A token past its lifetime is refused; sign-out ends one at once. */
static void test_token_expiry_and_logout(void **state)
{
	fixture_t f;
	fixture_start(state, &f);
	char token[TOKENS_TEXT_MAX], hdr[256];
	sign_in(&f, "ann@example.com", f.ann_code, token);
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", token));
	json_t *answer = NULL;
	assert_int_equal(call(&f, "GET", "/api/v1/me", hdr, NULL, 0, &answer, NULL), 200);
	json_decref(answer);
	int64_t hours = 0;
	char error[256];
	assert_int_equal(settings_get_int(&f.tc->core, "tokens.app_lifetime_hours", &hours, error,
					  sizeof(error)), 0);
	test_core_advance(f.tc, hours * 3600 + 1);
	assert_int_equal(call(&f, "GET", "/api/v1/me", hdr, NULL, 0, &answer, NULL), 401);
	assert_string_equal(error_code(answer), "invalid_token");
	json_decref(answer);

	sign_in(&f, "ann@example.com", f.ann_code, token);
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", token));
	assert_int_equal(call(&f, "POST", "/api/v1/renew", hdr, NULL, 0, &answer, NULL), 200);
	assert_true(json_integer_value(json_object_get(answer, "expires_at")) > f.tc->now);
	json_decref(answer);
	assert_int_equal(call(&f, "POST", "/api/v1/logout", hdr, NULL, 0, NULL, NULL), 204);
	assert_int_equal(call(&f, "GET", "/api/v1/jobs", hdr, NULL, 0, &answer, NULL), 401);
	json_decref(answer);
	fixture_stop(&f);
}

/* Uploads: multipart with options; too large (raw and multipart); not a document. */
static void test_uploads(void **state)
{
	fixture_t f;
	fixture_start(state, &f);
	char token[TOKENS_TEXT_MAX], hdr[512], id[33];
	sign_in(&f, "ann@example.com", f.ann_code, token);

	const char *form = "--XyZ\r\n"
			   "Content-Disposition: form-data; name=\"options\"\r\n\r\n"
			   "{\"copies\":2,\"sides\":\"two-sided-long-edge\"}\r\n"
			   "--XyZ\r\n"
			   "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\tmp\\\\a.pdf\"\r\n"
			   "Content-Type: application/pdf\r\n\r\n" TEST_PDF "\r\n"
			   "--XyZ--\r\n";
	assert_true(str_format(hdr, sizeof(hdr),
			       "Authorization: Bearer %s\r\n"
			       "Content-Type: multipart/form-data; boundary=XyZ",
			       token));
	json_t *answer = NULL;
	assert_int_equal(call(&f, "POST", "/api/v1/jobs", hdr, form, strlen(form), &answer, NULL),
			 201);
	assert_string_equal(json_string_value(json_object_get(answer, "title")), "a.pdf");
	assert_int_equal(json_integer_value(json_object_get(answer, "size_bytes")),
			 strlen(TEST_PDF));
	char path[128];
	assert_true(str_format(path, sizeof(path), "/api/v1/jobs/%s",
			       json_string_value(json_object_get(answer, "id"))));
	json_decref(answer);
	assert_true(str_format(hdr, sizeof(hdr), "Authorization: Bearer %s", token));
	assert_int_equal(call(&f, "GET", path, hdr, NULL, 0, &answer, NULL), 200);
	json_t *options = json_object_get(answer, "options");
	assert_int_equal(json_integer_value(json_object_get(options, "copies")), 2);
	assert_string_equal(json_string_value(json_object_get(options, "sides")),
			    "two-sided-long-edge");
	json_decref(answer);

	/* Over [spool] max_document_bytes: 413 with a JSON error, declared or not. */
	size_t big_len = TEST_MAX_DOC * 2;
	char *big = malloc(big_len);
	assert_non_null(big);
	memset(big, 'x', big_len);
	memcpy(big, TEST_PDF, strlen(TEST_PDF));
	assert_int_equal(upload_raw(&f, token, big, big_len, id), 413);
	assert_true(str_format(hdr, sizeof(hdr),
			       "Authorization: Bearer %s\r\n"
			       "Content-Type: multipart/form-data; boundary=XyZ",
			       token));
	size_t form_len = big_len + 200;
	char *big_form = malloc(form_len);
	assert_non_null(big_form);
	int n = snprintf(big_form, form_len,
			 "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
			 "filename=\"big.pdf\"\r\n\r\n");
	memcpy(big_form + n, big, big_len - 300);
	size_t used = (size_t)n + big_len - 300;
	memcpy(big_form + used, "\r\n--XyZ--\r\n", 11);
	used += 11;
	assert_int_equal(call(&f, "POST", "/api/v1/jobs", hdr, big_form, used, &answer, NULL), 413);
	assert_string_equal(error_code(answer), "too_large");
	json_decref(answer);
	free(big_form);
	free(big);

	/* Bytes that are no document this server prints. */
	assert_true(str_format(hdr, sizeof(hdr),
			       "Authorization: Bearer %s\r\nContent-Type: application/pdf", token));
	const char junk[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05};
	assert_int_equal(call(&f, "POST", "/api/v1/jobs", hdr, junk, sizeof(junk), &answer, NULL),
			 415);
	json_decref(answer);
	fixture_stop(&f);
}

/* Every refusal is the uniform JSON error with the right status. */
static void test_uniform_errors(void **state)
{
	fixture_t f;
	fixture_start(state, &f);
	char token[TOKENS_TEXT_MAX], auth[256], auth_json[320];
	sign_in(&f, "ann@example.com", f.ann_code, token);
	assert_true(str_format(auth, sizeof(auth), "Authorization: Bearer %s", token));
	assert_true(str_format(auth_json, sizeof(auth_json),
			       "%s\r\nContent-Type: application/json", auth));
	const struct {
		const char *method, *path, *headers, *body;
		unsigned status;
		const char *code;
	} rows[] = {
		{"GET", "/api/v1/nothing", "", "", 404, "not_found"},
		{"PUT", "/api/v1/jobs", auth, "", 405, "method_not_allowed"},
		{"GET", "/api/v1/jobs", "", "", 401, "unauthorized"},
		{"GET", "/api/v1/jobs", "Authorization: Bearer ppa_nope", "", 401, "invalid_token"},
		{"GET", "/api/v1/jobs?limit=0", auth, "", 400, "bad_limit"},
		{"GET", "/api/v1/jobs?state=lost", auth, "", 400, "bad_state"},
		{"GET", "/api/v1/jobs/0123456789abcdef0123456789abcdef", auth, "", 404, "not_found"},
		{"POST", "/api/v1/login", "Content-Type: application/json", "{nope", 400,
		 "invalid_json"},
		{"POST", "/api/v1/login", "Content-Type: text/plain", "{}", 415,
		 "unsupported_media_type"},
		{"POST", "/api/v1/login", "Content-Type: application/json", "{\"code\":1}", 400,
		 "bad_request"},
		{"POST", "/api/v1/enrol", "Content-Type: application/json",
		 "{\"company_code\":\"AAAAAA\",\"email\":\"x@example.com\"}", 403,
		 "invalid_company_code"},
		{"GET", "/api/v1/printers/nope", auth, "", 404, "printer_not_found"},
		{"POST", "/api/v1/print-now", auth, "", 415, "unsupported_media_type"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *answer = NULL;
		unsigned status = call(&f, rows[i].method, rows[i].path, rows[i].headers,
				       rows[i].body, strlen(rows[i].body), &answer, NULL);
		if (status != rows[i].status || strcmp(error_code(answer), rows[i].code) != 0)
			fail_msg("row %zu (%s %s): got %u %s, want %u %s", i, rows[i].method,
				 rows[i].path, status, error_code(answer), rows[i].status,
				 rows[i].code);
		json_t *err = json_object_get(answer, "error");
		assert_int_equal(json_integer_value(json_object_get(err, "status")), status);
		assert_true(json_is_string(json_object_get(err, "message")));
		json_decref(answer);
	}
	fixture_stop(&f);
}

/* The OpenAPI document is 3.1, and its paths and methods are exactly the router's. */
static void test_openapi_matches_routes(void **state)
{
	(void)state;
	size_t len = 0;
	const char *text = api_openapi_document(&len);
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		fail_msg("openapi.json line %d: %s", jerr.line, jerr.text);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	json_t *paths = json_object_get(doc, "paths");
	size_t documented = 0;
	const char *path;
	json_t *item;
	json_object_foreach(paths, path, item) {
		if (str_has_prefix(path, "/api/v1/admin/"))
			continue; /* the admin API's own route table: test-admin-routes.c */
		const char *key;
		json_t *op;
		json_object_foreach(item, key, op) {
			if (strcmp(key, "parameters") == 0)
				continue;
			documented++;
			if (!json_is_object(json_object_get(op, "responses")) ||
			    json_object_size(json_object_get(op, "responses")) == 0)
				fail_msg("%s %s has no responses", key, path);
		}
	}
	pp_api_operation_t op;
	size_t routed = 0;
	for (size_t i = 0; api_operation(i, &op); i++) {
		routed++;
		char lower[16];
		assert_true(str_copy(lower, sizeof(lower), op.method));
		for (char *p = lower; *p != '\0'; p++)
			*p = (char)(*p - 'A' + 'a');
		if (json_object_get(json_object_get(paths, op.pattern), lower) == NULL)
			fail_msg("%s %s is routed but not documented", op.method, op.pattern);
	}
	assert_int_equal(documented, routed);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openapi_matches_routes),
		TEST_CORE_CASE(test_own_jobs_only),
		TEST_CORE_CASE(test_list_follows_own_changes),
		TEST_CORE_CASE(test_wrong_codes_throttled),
		TEST_CORE_CASE(test_token_expiry_and_logout),
		TEST_CORE_CASE(test_uploads),
		TEST_CORE_CASE(test_uniform_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
