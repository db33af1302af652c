/* test-throttle.c - the guessing throttle: lockout, reset, per source and per account. */
#include "test-db-support.h"

#include "core/settings.h"
#include "core/throttle.h"
#include "lib/str.h"

#include <string.h>

typedef struct {
	pp_core_t core;
	int64_t now;
} fx_t;

static int64_t fx_clock(void *ctx)
{
	return *(const int64_t *)ctx;
}

static void fx_init(fx_t *fx, void **state)
{
	assert_true(crypto_init());
	uint8_t key[CRYPTO_KEY_BYTES];
	crypto_random_bytes(key, sizeof(key));
	assert_int_equal(core_init(&fx->core, TEST_DB(state)->db, NULL, key), 0);
	fx->now = 1700000000;
	fx->core.now = fx_clock;
	fx->core.clock_ctx = &fx->now;
}

static void set(fx_t *fx, const char *name, const char *value)
{
	char error[512];
	if (settings_set(&fx->core, "cli", name, value, error, sizeof(error)) != 0)
		fail_msg("%s=%s: %s", name, value, error);
}

static bool allowed(fx_t *fx, const char *key, int64_t *retry_r)
{
	char error[512];
	bool ok = false;
	assert_int_equal(throttle_check(&fx->core, key, &ok, retry_r, error, sizeof(error)), 0);
	return ok;
}

static bool fail_once(fx_t *fx, const char *key)
{
	char error[512];
	bool locked = false;
	assert_int_equal(throttle_failure(&fx->core, key, &locked, NULL, error, sizeof(error)), 0);
	return locked;
}

static void test_keys(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
	char key[THROTTLE_KEY_MAX], key2[THROTTLE_KEY_MAX];
	char error[256];
	assert_int_equal(throttle_key_source("192.0.2.7", key, error, sizeof(error)), 0);
	assert_string_equal(key, "src:192.0.2.7");
	assert_int_equal(throttle_key_source("2001:DB8::1", key, error, sizeof(error)), 0);
	assert_string_equal(key, "src:2001:db8::1");
	assert_int_equal(throttle_key_source("", key, error, sizeof(error)), -1);
	assert_int_equal(throttle_key_source("1.2.3.4 x", key, error, sizeof(error)), -1);
	/* Account keys hide the address and ignore case and spaces. */
	throttle_key_account(&fx.core, "Ann@Example.com ", key);
	throttle_key_account(&fx.core, "ann@example.com", key2);
	assert_string_equal(key, key2);
	assert_true(str_has_prefix(key, "acct:"));
	assert_null(strstr(key, "ann"));
	throttle_key_account(&fx.core, "bob@example.com", key2);
	assert_string_not_equal(key, key2);
}

static void test_lockout_after_max_failures(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
	set(&fx, "auth.max_failures", "3");
	set(&fx, "auth.lockout_seconds", "300");
	const char *key = "src:192.0.2.7";
	int64_t retry = -1;
	assert_true(allowed(&fx, key, &retry));
	assert_int_equal(retry, 0);
	assert_false(fail_once(&fx, key));
	assert_false(fail_once(&fx, key));
	assert_true(allowed(&fx, key, NULL));
	fx.now += 10;
	char error[512];
	bool locked = false;
	int64_t retry_after = 0;
	assert_int_equal(
	    throttle_failure(&fx.core, key, &locked, &retry_after, error, sizeof(error)), 0);
	assert_true(locked);
	assert_int_equal(retry_after, 300);
	assert_false(allowed(&fx, key, &retry));
	assert_int_equal(retry, 300);
	fx.now += 299;
	assert_false(allowed(&fx, key, &retry));
	assert_int_equal(retry, 1);
	fx.now += 1;
	assert_true(allowed(&fx, key, &retry));
	/* Another source is not affected. */
	assert_true(allowed(&fx, "src:192.0.2.8", NULL));
}

static void test_reset_on_success(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
	set(&fx, "auth.max_failures", "3");
	char key[THROTTLE_KEY_MAX];
	throttle_key_account(&fx.core, "ann@example.com", key);
	assert_false(fail_once(&fx, key));
	assert_false(fail_once(&fx, key));
	char error[512];
	assert_int_equal(throttle_reset(&fx.core, key, error, sizeof(error)), 0);
	/* Counting starts again: two more failures do not lock. */
	assert_false(fail_once(&fx, key));
	assert_false(fail_once(&fx, key));
	assert_true(allowed(&fx, key, NULL));
	assert_true(fail_once(&fx, key));
	assert_false(allowed(&fx, key, NULL));
	/* A reset (e.g. by an admin) unlocks at once. */
	assert_int_equal(throttle_reset(&fx.core, key, error, sizeof(error)), 0);
	assert_true(allowed(&fx, key, NULL));
}

static void test_window_expiry(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
	set(&fx, "auth.max_failures", "3");
	set(&fx, "auth.window_seconds", "600");
	const char *key = "src:198.51.100.1";
	assert_false(fail_once(&fx, key));
	assert_false(fail_once(&fx, key));
	/* The window is over: the count restarts. */
	fx.now += 600;
	assert_false(fail_once(&fx, key));
	assert_false(fail_once(&fx, key));
	assert_true(fail_once(&fx, key));

	/* Lockout 0: locked until the window (from the first failure) ends. */
	set(&fx, "auth.lockout_seconds", "0");
	const char *key2 = "src:198.51.100.2";
	int64_t start = fx.now;
	assert_false(fail_once(&fx, key2));
	fx.now += 100;
	assert_false(fail_once(&fx, key2));
	assert_true(fail_once(&fx, key2));
	int64_t retry = 0;
	assert_false(allowed(&fx, key2, &retry));
	assert_int_equal(retry, start + 600 - fx.now);
	fx.now = start + 600;
	assert_true(allowed(&fx, key2, NULL));

	/* Purge forgets rows whose window and lockout are over. */
	fx.now += 10000;
	int64_t purged = 0;
	char error[512];
	assert_int_equal(throttle_purge(&fx.core, &purged, error, sizeof(error)), 0);
	assert_int_equal(purged, 2);
}

static void test_per_source_and_per_account(void **state)
{
	fx_t fx;
	fx_init(&fx, state);
	set(&fx, "auth.max_failures", "3");
	/* One source guessing many accounts is stopped by the source key... */
	char src[THROTTLE_KEY_MAX], acct[THROTTLE_KEY_MAX];
	char error[512];
	assert_int_equal(throttle_key_source("203.0.113.5", src, error, sizeof(error)), 0);
	for (int i = 0; i < 3; i++) {
		char email[64];
		assert_true(str_format(email, sizeof(email), "user%d@example.com", i));
		throttle_key_account(&fx.core, email, acct);
		assert_true(allowed(&fx, src, NULL));
		assert_true(allowed(&fx, acct, NULL));
		(void)fail_once(&fx, src);
		assert_false(fail_once(&fx, acct));
	}
	assert_false(allowed(&fx, src, NULL));
	throttle_key_account(&fx.core, "user0@example.com", acct);
	assert_true(allowed(&fx, acct, NULL));
	/* ...and many sources guessing one account by the account key. */
	throttle_key_account(&fx.core, "target@example.com", acct);
	for (int i = 0; i < 3; i++) {
		char ip[32];
		assert_true(str_format(ip, sizeof(ip), "198.18.0.%d", i + 1));
		assert_int_equal(throttle_key_source(ip, src, error, sizeof(error)), 0);
		assert_false(fail_once(&fx, src));
		(void)fail_once(&fx, acct);
	}
	assert_false(allowed(&fx, acct, NULL));
	assert_true(allowed(&fx, "src:198.18.0.1", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_keys),
	    TEST_DB_CASE(test_lockout_after_max_failures),
	    TEST_DB_CASE(test_reset_on_success),
	    TEST_DB_CASE(test_window_expiry),
	    TEST_DB_CASE(test_per_source_and_per_account),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
