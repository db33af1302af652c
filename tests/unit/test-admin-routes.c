/*
 * test-admin-routes.c - the admin API's operations are exactly those docs/openapi.json lists
 * under /api/v1/admin/, each with responses, so the console engineer's reference and the
 * server never drift apart.
 */
#include "test-support.h"

#include "admin/admin.h"
#include "lib/str.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void test_openapi_lists_admin_routes(void **state)
{
	(void)state;
	const char *data = getenv("PP_TEST_DATA");
	assert_non_null(data);
	/* PP_TEST_DATA is <source root>/tests/data (which may not exist): the root is above. */
	char path[PATH_MAX];
	assert_true(str_copy(path, sizeof(path), data));
	char *tail = strstr(path, "/tests/data");
	assert_non_null(tail);
	*tail = '\0';
	assert_true(str_format(tail, sizeof(path) - (size_t)(tail - path), "/docs/openapi.json"));
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		fail_msg("%s line %d: %s", path, jerr.line, jerr.text);
	json_t *paths = json_object_get(doc, "paths");
	size_t documented = 0;
	const char *key;
	json_t *item;
	json_object_foreach(paths, key, item) {
		if (!str_has_prefix(key, ADMIN_API_PREFIX))
			continue;
		const char *method;
		json_t *op;
		json_object_foreach(item, method, op) {
			if (strcmp(method, "parameters") == 0)
				continue;
			documented++;
			if (json_object_size(json_object_get(op, "responses")) == 0)
				fail_msg("%s %s has no responses", method, key);
		}
	}
	pp_admin_operation_t op;
	size_t routed = 0;
	for (size_t i = 0; admin_api_operation(i, &op); i++) {
		routed++;
		assert_true(str_has_prefix(op.pattern, ADMIN_API_PREFIX));
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
		cmocka_unit_test(test_openapi_lists_admin_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
