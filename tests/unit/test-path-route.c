/* test-path-route.c - operations found by method and path pattern (lib/path-route.h). */
#include "test-support.h"

#include "lib/path-route.h"

#include <string.h>

typedef struct {
	const char *method;
	const char *pattern;
} route_t;

static const route_t routes[] = {
	{"GET", "/v1/jobs"},
	{"POST", "/v1/jobs"},
	{"GET", "/v1/jobs/{id}"},
	{"DELETE", "/v1/jobs/{id}"},
	{"GET", "/v1/jobs/{id}/pages/{n}/thumbnail"},
	{"POST", "/v1/jobs/{id}/release"},
};

static void route_at(const void *table, size_t i, const char **method_r, const char **pattern_r)
{
	const route_t *r = table;
	*method_r = r[i].method;
	*pattern_r = r[i].pattern;
}

/* Digits and letters only, as a route's parameters here. */
static bool segment_ok(const char *seg, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((seg[i] >= '0' && seg[i] <= '9') || (seg[i] >= 'a' && seg[i] <= 'z')))
			return false;
	return true;
}

static void test_find_table(void **state)
{
	(void)state;
	static const struct {
		const char *method, *path;
		long found;          /* -1: none */
		const char *allow;   /* when none */
		const char *first, *second; /* parameters when found */
	} rows[] = {
	    {"GET", "/v1/jobs", 0, "", NULL, NULL},
	    {"HEAD", "/v1/jobs", 0, "", NULL, NULL},
	    {"POST", "/v1/jobs", 1, "", NULL, NULL},
	    {"PUT", "/v1/jobs", -1, "GET, POST", NULL, NULL},
	    {"GET", "/v1/jobs/12", 2, "", "12", NULL},
	    {"DELETE", "/v1/jobs/ab", 3, "", "ab", NULL},
	    {"PATCH", "/v1/jobs/12", -1, "GET, DELETE", NULL, NULL},
	    {"GET", "/v1/jobs/12/pages/3/thumbnail", 4, "", "12", "3"},
	    {"GET", "/v1/jobs/12/release", -1, "POST", NULL, NULL},
	    {"GET", "/v1/jobs/", -1, "", NULL, NULL},           /* empty segment */
	    {"GET", "/v1/jobs/12/", -1, "", NULL, NULL},        /* trailing slash */
	    {"GET", "/v1/jobs/A-B", -1, "", NULL, NULL},        /* refused by segment_ok */
	    {"GET", "/v1/jobs/123456789", -1, "", NULL, NULL},  /* longer than a value holds */
	    {"GET", "/v1", -1, "", NULL, NULL},
	    {"GET", "", -1, "", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char values[2][8];
		memset(values, 'x', sizeof(values));
		pp_path_params_t params = {.values = &values[0][0], .size = 8, .max = 2};
		char allow[64];
		long found = path_route_find(routes, sizeof(routes) / sizeof(routes[0]), route_at,
					     rows[i].method, rows[i].path, segment_ok, &params,
					     allow, sizeof(allow));
		if (found != rows[i].found)
			fail_msg("row %zu: found %ld, expected %ld", i, found, rows[i].found);
		if (found < 0) {
			if (strcmp(allow, rows[i].allow) != 0)
				fail_msg("row %zu: Allow \"%s\"", i, allow);
			continue;
		}
		assert_int_equal(params.count, (rows[i].first != NULL) + (rows[i].second != NULL));
		if (rows[i].first != NULL)
			assert_string_equal(values[0], rows[i].first);
		if (rows[i].second != NULL)
			assert_string_equal(values[1], rows[i].second);
	}
}

/* A small Allow buffer keeps what fits and stays terminated. */
static void test_allow_truncated(void **state)
{
	(void)state;
	char allow[6];
	long found = path_route_find(routes, sizeof(routes) / sizeof(routes[0]), route_at, "PUT",
				     "/v1/jobs", segment_ok, NULL, allow, sizeof(allow));
	assert_int_equal(found, -1);
	assert_string_equal(allow, "GET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_allow_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
