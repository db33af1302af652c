/* test-crypto.c - random codes, keyed hashes, passwords and the master key file. */
#include "test-support.h"

#include "lib/crypto.h"
#include "lib/crypto-seal.h"
#include "lib/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

static void test_master_key_created_private_and_stable(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char path[4096], error[512];
	assert_true(str_format(path, sizeof(path), "%s/keys/master.key", dir));

	uint8_t first[CRYPTO_KEY_BYTES], again[CRYPTO_KEY_BYTES];
	assert_int_equal(crypto_master_key_load(path, first, error, sizeof(error)), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, CRYPTO_KEY_BYTES);
	char keydir[4096];
	assert_true(str_format(keydir, sizeof(keydir), "%s/keys", dir));
	assert_int_equal(stat(keydir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* The second start reads the same key rather than making a new one. */
	assert_int_equal(crypto_master_key_load(path, again, error, sizeof(error)), 0);
	assert_memory_equal(first, again, CRYPTO_KEY_BYTES);

	/* A key file others can read is refused with what to do. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(crypto_master_key_load(path, again, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "chmod 600"));

	/* A damaged key file is refused, never silently replaced (that would orphan the spool). */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(crypto_master_key_load(path, again, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "restore it from backup"));

	test_rmtree(dir);
	free(dir);
}

static void test_random_codes_have_the_right_shape(void **state)
{
	(void)state;
	for (size_t len = 4; len <= 12; len++) {
		char code[16];
		crypto_random_digits(code, len);
		assert_int_equal(strlen(code), len);
		assert_int_equal(strspn(code, "0123456789"), len);
	}
	char company[7];
	crypto_random_code_chars(company, 6);
	assert_int_equal(strlen(company), 6);
	assert_int_equal(strspn(company, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"), 6);

	char a[CRYPTO_ID_HEX_LEN + 1], b[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(a);
	crypto_random_id(b);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
}

static void test_digits_are_roughly_uniform(void **state)
{
	(void)state;
	/* 60,000 digits: each of 10 should appear ~6,000 times; a biased generator falls far off. */
	unsigned counts[10] = {0};
	char code[13];
	for (int i = 0; i < 5000; i++) {
		crypto_random_digits(code, 12);
		for (int j = 0; j < 12; j++)
			counts[code[j] - '0']++;
	}
	for (int d = 0; d < 10; d++)
		assert_in_range(counts[d], 5400, 6600);
}

static void test_keyed_hash_and_subkeys(void **state)
{
	(void)state;
	uint8_t master[CRYPTO_KEY_BYTES] = {1, 2, 3};
	uint8_t codes[CRYPTO_KEY_BYTES], tokens[CRYPTO_KEY_BYTES];
	assert_true(crypto_derive_subkey(master, CRYPTO_SUBKEY_CODES, codes));
	assert_true(crypto_derive_subkey(master, CRYPTO_SUBKEY_TOKENS, tokens));
	assert_memory_not_equal(codes, tokens, CRYPTO_KEY_BYTES);

	char h1[CRYPTO_HASH_HEX_LEN + 1], h2[CRYPTO_HASH_HEX_LEN + 1], h3[CRYPTO_HASH_HEX_LEN + 1];
	crypto_keyed_hash_hex(codes, "123456", 6, h1);
	crypto_keyed_hash_hex(codes, "123456", 6, h2);
	crypto_keyed_hash_hex(tokens, "123456", 6, h3);
	assert_string_equal(h1, h2);
	assert_string_not_equal(h1, h3);
	assert_null(strstr(h1, "123456"));
}

static void test_passwords(void **state)
{
	(void)state;
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	assert_true(crypto_password_hash("correct horse battery", hash));
	assert_true(str_has_prefix(hash, "$argon2id$"));
	assert_true(crypto_password_verify(hash, "correct horse battery"));
	assert_false(crypto_password_verify(hash, "correct horse battery "));
	assert_false(crypto_password_verify(hash, ""));
	assert_true(crypto_str_equal("abc", "abc"));
	assert_false(crypto_str_equal("abc", "abd"));
	assert_false(crypto_str_equal("abc", "abcd"));
}

/* A sealed secret opens only with its key and its row's name, and only untouched. */
static void test_seal_and_open(void **state)
{
	(void)state;
	uint8_t key[CRYPTO_KEY_BYTES], other[CRYPTO_KEY_BYTES];
	crypto_random_bytes(key, sizeof(key));
	crypto_random_bytes(other, sizeof(other));
	const char *secret = "s3cret service password";

	char *hex = crypto_seal_hex(key, secret, "row-1");
	assert_non_null(hex);
	assert_int_equal(strlen(hex), 2 * (strlen(secret) + crypto_seal_overhead()));
	char *plain = NULL;
	assert_int_equal(crypto_open_hex(key, hex, "row-1", 64, &plain), 0);
	assert_string_equal(plain, secret);
	free(plain);
	/* Another row, another key, a longer limit than allowed, a flipped bit, bad hex. */
	assert_int_equal(crypto_open_hex(key, hex, "row-2", 64, &plain), -1);
	assert_null(plain);
	assert_int_equal(crypto_open_hex(other, hex, "row-1", 64, &plain), -1);
	assert_int_equal(crypto_open_hex(key, hex, "row-1", strlen(secret) - 1, &plain), -1);
	hex[strlen(hex) - 1] = hex[strlen(hex) - 1] == '0' ? '1' : '0';
	assert_int_equal(crypto_open_hex(key, hex, "row-1", 64, &plain), -1);
	assert_int_equal(crypto_open_hex(key, "zz", "row-1", 64, &plain), -1);
	assert_int_equal(crypto_open_hex(key, "", "row-1", 64, &plain), -1);
	free(hex);

	/* Two seals of the same secret differ (random nonce); binary form with a NUL inside. */
	const uint8_t bytes[] = {1, 0, 2, 0, 3};
	uint8_t *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0, out_len = 0;
	assert_int_equal(crypto_seal(key, bytes, sizeof(bytes), "outbox:7", &a, &a_len), 0);
	assert_int_equal(crypto_seal(key, bytes, sizeof(bytes), "outbox:7", &b, &b_len), 0);
	assert_int_equal(a_len, b_len);
	assert_true(memcmp(a, b, a_len) != 0);
	assert_int_equal(crypto_open(key, a, a_len, "outbox:7", SIZE_MAX, &plain, &out_len), 0);
	assert_int_equal(out_len, sizeof(bytes));
	assert_memory_equal(plain, bytes, sizeof(bytes));
	free(plain);
	assert_int_equal(crypto_open(key, a, 3, "outbox:7", SIZE_MAX, &plain, &out_len), -1);
	assert_int_equal(crypto_open(key, NULL, 0, "outbox:7", SIZE_MAX, &plain, &out_len), -1);
	free(a);
	free(b);
}

/* Time-ordered ids: the same form as random ones, in creation order, never repeated. */
static void test_time_ids(void **state)
{
	(void)state;
	enum { COUNT = 2000 };
	static char ids[COUNT][CRYPTO_ID_HEX_LEN + 1];
	for (int i = 0; i < COUNT; i++) {
		crypto_time_id(ids[i], 0);
		assert_int_equal(strlen(ids[i]), CRYPTO_ID_HEX_LEN);
		assert_int_equal(strspn(ids[i], "0123456789abcdef"), CRYPTO_ID_HEX_LEN);
		/* The time part never goes back; the random part tells ids of one millisecond
		 * apart. */
		if (i > 0) {
			assert_true(strncmp(ids[i - 1], ids[i], 12) <= 0);
			assert_string_not_equal(ids[i - 1], ids[i]);
		}
	}
	/* With two random digits first, a store fanning out on them sees many of them. */
	bool seen[256] = {false};
	unsigned distinct = 0;
	for (int i = 0; i < COUNT; i++) {
		char id[CRYPTO_ID_HEX_LEN + 1];
		crypto_time_id(id, 2);
		assert_int_equal(strspn(id, "0123456789abcdef"), CRYPTO_ID_HEX_LEN);
		unsigned fan = (unsigned)strtoul((char[]){id[0], id[1], '\0'}, NULL, 16);
		if (!seen[fan]) {
			seen[fan] = true;
			distinct++;
		}
		/* The time follows the two digits. */
		assert_memory_equal(id + 2, ids[COUNT - 1], 6);
	}
	assert_true(distinct > 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_master_key_created_private_and_stable),
		cmocka_unit_test(test_random_codes_have_the_right_shape),
		cmocka_unit_test(test_digits_are_roughly_uniform),
		cmocka_unit_test(test_keyed_hash_and_subkeys),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_seal_and_open),
		cmocka_unit_test(test_time_ids),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
