/* test-throttle.c - the guessing throttle: lockout, reset, per source and per account. */
#include "test-db-support.h"

#include "core/settings.h"
#include "core/throttle.h"
#include "lib/str.h"

#include <string.h>

static void set(test_core_t *tc, const char *name, const char *value)
{
	char error[512];
	if (settings_set(&tc->core, "cli", name, value, error, sizeof(error)) != 0)
		fail_msg("%s=%s: %s", name, value, error);
}

static bool allowed(test_core_t *tc, const char *key, int64_t *retry_r)
{
	char error[512];
	bool ok = false;
	assert_int_equal(throttle_check(&tc->core, key, &ok, retry_r, error, sizeof(error)), 0);
	return ok;
}

static bool fail_once(test_core_t *tc, const char *key)
{
	char error[512];
	bool locked = false;
	assert_int_equal(throttle_failure(&tc->core, key, &locked, NULL, error, sizeof(error)), 0);
	return locked;
}

static void test_keys(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char key[THROTTLE_KEY_MAX], key2[THROTTLE_KEY_MAX];
	char error[256];
	assert_int_equal(throttle_key_source("192.0.2.7", key, error, sizeof(error)), 0);
	assert_string_equal(key, "src:192.0.2.7");
	assert_int_equal(throttle_key_source("2001:DB8::1", key, error, sizeof(error)), 0);
	assert_string_equal(key, "src:2001:db8::1");
	assert_int_equal(throttle_key_source("", key, error, sizeof(error)), -1);
	assert_int_equal(throttle_key_source("1.2.3.4 x", key, error, sizeof(error)), -1);
	/* Account keys hide the address and ignore case and spaces. */
	throttle_key_account(&tc->core, "Ann@Example.com ", key);
	throttle_key_account(&tc->core, "ann@example.com", key2);
	assert_string_equal(key, key2);
	assert_true(str_has_prefix(key, "acct:"));
	assert_null(strstr(key, "ann"));
	throttle_key_account(&tc->core, "bob@example.com", key2);
	assert_string_not_equal(key, key2);
}

static void test_lockout_after_max_failures(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	set(tc, "auth.max_failures", "3");
	set(tc, "auth.lockout_seconds", "300");
	const char *key = "src:192.0.2.7";
	int64_t retry = -1;
	assert_true(allowed(tc, key, &retry));
	assert_int_equal(retry, 0);
	assert_false(fail_once(tc, key));
	assert_false(fail_once(tc, key));
	assert_true(allowed(tc, key, NULL));
	test_core_advance(tc, 10);
	char error[512];
	bool locked = false;
	int64_t retry_after = 0;
	assert_int_equal(
	    throttle_failure(&tc->core, key, &locked, &retry_after, error, sizeof(error)), 0);
	assert_true(locked);
	assert_int_equal(retry_after, 300);
	assert_false(allowed(tc, key, &retry));
	assert_int_equal(retry, 300);
	test_core_advance(tc, 299);
	assert_false(allowed(tc, key, &retry));
	assert_int_equal(retry, 1);
	test_core_advance(tc, 1);
	assert_true(allowed(tc, key, &retry));
	/* Another source is not affected. */
	assert_true(allowed(tc, "src:192.0.2.8", NULL));
}

static void test_reset_on_success(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	set(tc, "auth.max_failures", "3");
	char key[THROTTLE_KEY_MAX];
	throttle_key_account(&tc->core, "ann@example.com", key);
	assert_false(fail_once(tc, key));
	assert_false(fail_once(tc, key));
	char error[512];
	assert_int_equal(throttle_reset(&tc->core, key, error, sizeof(error)), 0);
	/* Counting starts again: two more failures do not lock. */
	assert_false(fail_once(tc, key));
	assert_false(fail_once(tc, key));
	assert_true(allowed(tc, key, NULL));
	assert_true(fail_once(tc, key));
	assert_false(allowed(tc, key, NULL));
	/* A reset (e.g. by an admin) unlocks at once. */
	assert_int_equal(throttle_reset(&tc->core, key, error, sizeof(error)), 0);
	assert_true(allowed(tc, key, NULL));
}

static void test_window_expiry(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	set(tc, "auth.max_failures", "3");
	set(tc, "auth.window_seconds", "600");
	const char *key = "src:198.51.100.1";
	assert_false(fail_once(tc, key));
	assert_false(fail_once(tc, key));
	/* The window is over: the count restarts. */
	test_core_advance(tc, 600);
	assert_false(fail_once(tc, key));
	assert_false(fail_once(tc, key));
	assert_true(fail_once(tc, key));

	/* Lockout 0: locked until the window (from the first failure) ends. */
	set(tc, "auth.lockout_seconds", "0");
	const char *key2 = "src:198.51.100.2";
	int64_t start = tc->now;
	assert_false(fail_once(tc, key2));
	test_core_advance(tc, 100);
	assert_false(fail_once(tc, key2));
	assert_true(fail_once(tc, key2));
	int64_t retry = 0;
	assert_false(allowed(tc, key2, &retry));
	assert_int_equal(retry, start + 600 - tc->now);
	tc->now = start + 600;
	assert_true(allowed(tc, key2, NULL));

	/* Purge forgets rows whose window and lockout are over. */
	test_core_advance(tc, 10000);
	int64_t purged = 0;
	char error[512];
	assert_int_equal(throttle_purge(&tc->core, &purged, error, sizeof(error)), 0);
	assert_int_equal(purged, 2);
}

static void test_per_source_and_per_account(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	set(tc, "auth.max_failures", "3");
	/* One source guessing many accounts is stopped by the source key... */
	char src[THROTTLE_KEY_MAX], acct[THROTTLE_KEY_MAX];
	char error[512];
	assert_int_equal(throttle_key_source("203.0.113.5", src, error, sizeof(error)), 0);
	for (int i = 0; i < 3; i++) {
		char email[64];
		assert_true(str_format(email, sizeof(email), "user%d@example.com", i));
		throttle_key_account(&tc->core, email, acct);
		assert_true(allowed(tc, src, NULL));
		assert_true(allowed(tc, acct, NULL));
		(void)fail_once(tc, src);
		assert_false(fail_once(tc, acct));
	}
	assert_false(allowed(tc, src, NULL));
	throttle_key_account(&tc->core, "user0@example.com", acct);
	assert_true(allowed(tc, acct, NULL));
	/* ...and many sources guessing one account by the account key. */
	throttle_key_account(&tc->core, "target@example.com", acct);
	for (int i = 0; i < 3; i++) {
		char ip[32];
		assert_true(str_format(ip, sizeof(ip), "198.18.0.%d", i + 1));
		assert_int_equal(throttle_key_source(ip, src, error, sizeof(error)), 0);
		assert_false(fail_once(tc, src));
		(void)fail_once(tc, acct);
	}
	assert_false(allowed(tc, acct, NULL));
	assert_true(allowed(tc, "src:198.18.0.1", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_CORE_CASE(test_keys),
	    TEST_CORE_CASE(test_lockout_after_max_failures),
	    TEST_CORE_CASE(test_reset_on_success),
	    TEST_CORE_CASE(test_window_expiry),
	    TEST_CORE_CASE(test_per_source_and_per_account),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
