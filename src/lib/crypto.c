/* crypto.c - libsodium wrappers and the master key file; see crypto.h. */
#include "lib/crypto.h"

#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* Context string for crypto_kdf: exactly crypto_kdf_CONTEXTBYTES (8) characters. */
static const char crypto_kdf_context[crypto_kdf_CONTEXTBYTES] = {'p', 'u', 'l', 'l',
								 'p', 'r', 'n', 't'};

bool crypto_init(void)
{
	return sodium_init() >= 0;
}

void crypto_random_bytes(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void crypto_random_id(char out[CRYPTO_ID_HEX_LEN + 1])
{
	uint8_t raw[CRYPTO_ID_HEX_LEN / 2];
	randombytes_buf(raw, sizeof(raw));
	str_hex_encode(out, raw, sizeof(raw));
}

void crypto_time_id(char out[CRYPTO_ID_HEX_LEN + 1], unsigned spread_hex)
{
	if (spread_hex > 4)
		spread_hex = 4;
	crypto_random_id(out);
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return; /* all random: still a valid id */
	uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	static const char digits[] = "0123456789abcdef";
	for (int i = 11; i >= 0; i--) {
		out[spread_hex + (unsigned)i] = digits[ms & 0xf];
		ms >>= 4;
	}
}

void crypto_random_digits(char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)('0' + randombytes_uniform(10));
	out[len] = '\0';
}

void crypto_random_code_chars(char *out, size_t len)
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof(alphabet) - 1))];
	out[len] = '\0';
}

bool crypto_derive_subkey(const uint8_t master[CRYPTO_KEY_BYTES], crypto_subkey_t purpose,
			  uint8_t subkey_r[CRYPTO_KEY_BYTES])
{
	return crypto_kdf_derive_from_key(subkey_r, CRYPTO_KEY_BYTES, (uint64_t)purpose,
					  crypto_kdf_context, master) == 0;
}

void crypto_keyed_hash_hex(const uint8_t key[CRYPTO_KEY_BYTES], const void *data, size_t len,
			   char out[CRYPTO_HASH_HEX_LEN + 1])
{
	uint8_t digest[CRYPTO_HASH_HEX_LEN / 2];
	/* crypto_generichash only fails on invalid lengths, which are constants here. */
	(void)crypto_generichash(digest, sizeof(digest), data, len, key, CRYPTO_KEY_BYTES);
	str_hex_encode(out, digest, sizeof(digest));
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

bool crypto_str_equal(const char *a, const char *b)
{
	/* Hash both sides so the comparison time depends on neither length nor content. */
	uint8_t da[32], db[32];
	(void)crypto_generichash(da, sizeof(da), (const uint8_t *)a, strlen(a), NULL, 0);
	(void)crypto_generichash(db, sizeof(db), (const uint8_t *)b, strlen(b), NULL, 0);
	return sodium_memcmp(da, db, sizeof(da)) == 0;
}

bool crypto_password_hash(const char *password, char out[CRYPTO_PASSWORD_HASH_MAX])
{
	_Static_assert(crypto_pwhash_STRBYTES <= CRYPTO_PASSWORD_HASH_MAX, "hash buffer");
	return crypto_pwhash_str_alg(out, password, strlen(password),
				     crypto_pwhash_OPSLIMIT_INTERACTIVE,
				     crypto_pwhash_MEMLIMIT_INTERACTIVE,
				     crypto_pwhash_ALG_ARGON2ID13) == 0;
}

bool crypto_password_verify(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void crypto_wipe(void *buf, size_t len)
{
	sodium_memzero(buf, len);
}

/* Reads an existing key file, refusing one that others can read or of the wrong size. */
static int crypto_master_key_read(const char *path, int fd, uint8_t key_r[CRYPTO_KEY_BYTES],
				  char *error, size_t error_size)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		(void)str_format(error, error_size, "fstat(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		(void)str_format(error, error_size,
				 "key file %s is readable by group or others — chmod 600 it", path);
		return -1;
	}
	if (st.st_size != CRYPTO_KEY_BYTES) {
		(void)str_format(error, error_size,
				 "key file %s has %lld bytes, expected %d — restore it from backup",
				 path, (long long)st.st_size, CRYPTO_KEY_BYTES);
		return -1;
	}
	if (fs_read_full(fd, key_r, CRYPTO_KEY_BYTES) < 0) {
		(void)str_format(error, error_size, "read(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int crypto_master_key_load(const char *path, uint8_t key_r[CRYPTO_KEY_BYTES], char *error,
			   size_t error_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		int ret = crypto_master_key_read(path, fd, key_r, error, error_size);
		if (close(fd) < 0 && ret == 0) {
			(void)str_format(error, error_size, "close(%s) failed: %s", path,
					 strerror(errno));
			ret = -1;
		}
		return ret;
	}
	if (errno != ENOENT) {
		(void)str_format(error, error_size, "open(%s) failed: %s", path, strerror(errno));
		return -1;
	}

	/* First start: make a new key and store it atomically, so a crash leaves none or all. */
	randombytes_buf(key_r, CRYPTO_KEY_BYTES);
	if (fs_write_file_atomic(path, key_r, CRYPTO_KEY_BYTES, 0600, error, error_size) < 0) {
		sodium_memzero(key_r, CRYPTO_KEY_BYTES);
		return -1;
	}
	return 0;
}
