/*
 * crypto.h - thin wrappers over libsodium for the few primitives Pullprint uses:
 * random identifiers and codes, keyed hashes, constant-time comparison, argon2id password
 * hashes, and the server master key with the sub-keys derived from it.
 *
 * The master key lives in a file (0600) outside the database; everything secret at rest is
 * protected by a sub-key derived from it, so a stolen database alone opens nothing.
 */
#ifndef PP_CRYPTO_H
#define PP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_BYTES 32
#define CRYPTO_ID_HEX_LEN 32 /* 128-bit random id as hex */
#define CRYPTO_HASH_HEX_LEN 64 /* 256-bit keyed hash as hex */
#define CRYPTO_PASSWORD_HASH_MAX 128

/* Purposes of the sub-keys derived from the master key; each gets its own. */
typedef enum {
	CRYPTO_SUBKEY_SPOOL = 1, /* encrypts spool files */
	CRYPTO_SUBKEY_CODES = 2, /* keyed hash of confirmation codes */
	CRYPTO_SUBKEY_TOKENS = 3, /* keyed hash of bearer tokens and sessions */
	CRYPTO_SUBKEY_PSEUDONYM = 4, /* stable pseudonyms in accounting exports */
	CRYPTO_SUBKEY_SECRETS = 5, /* encrypts stored credentials (mail, directory) */
	/* Encrypts the directory service account's password. Derived from the tokens sub-key
	 * (not the master key) because the domain context pp_core_t carries sub-keys only and
	 * sign-in needs the password wherever a core is at hand. */
	CRYPTO_SUBKEY_DIRECTORY = 6,
} crypto_subkey_t;

/* Initialises libsodium. Returns false if the library cannot start (no entropy source). */
bool crypto_init(void);

/* Fills out[CRYPTO_ID_HEX_LEN + 1] with a random 128-bit id in lower-case hex. */
void crypto_random_id(char out[CRYPTO_ID_HEX_LEN + 1]);

/*
 * An id of the same form (32 lower-case hex digits) for rows that are inserted all the time,
 * so that an index on it grows at a few places instead of a random one per insert (fewer
 * pages written and cached per row): spread_hex random digits (0..4), then the time in
 * milliseconds (12 digits), then random digits to the end (80 random bits or more in all,
 * so the id stays unguessable). spread_hex 2 keeps the first two digits uniform, for stores
 * that fan out on them (the spool).
 */
void crypto_time_id(char out[CRYPTO_ID_HEX_LEN + 1], unsigned spread_hex);

/* Fills out[len + 1] with len uniformly random decimal digits. */
void crypto_random_digits(char *out, size_t len);

/*
 * Fills out[len + 1] with len uniformly random characters from an alphabet of upper-case
 * letters and digits without the look-alikes 0, O, 1 and I (read aloud, typed on a phone).
 */
void crypto_random_code_chars(char *out, size_t len);

/* Fills buf with len random bytes. */
void crypto_random_bytes(void *buf, size_t len);

/*
 * Derives the sub-key for purpose from master. Returns false only on a libsodium failure.
 */
bool crypto_derive_subkey(const uint8_t master[CRYPTO_KEY_BYTES], crypto_subkey_t purpose,
			  uint8_t subkey_r[CRYPTO_KEY_BYTES]);

/*
 * Keyed BLAKE2b-256 of data under key, as lower-case hex in out[CRYPTO_HASH_HEX_LEN + 1].
 * Used to store codes and tokens and to make stable pseudonyms.
 */
void crypto_keyed_hash_hex(const uint8_t key[CRYPTO_KEY_BYTES], const void *data, size_t len,
			   char out[CRYPTO_HASH_HEX_LEN + 1]);

/* Compares two equal-length buffers in constant time. */
bool crypto_equal(const void *a, const void *b, size_t len);

/* Compares two NUL-terminated strings in time independent of where they differ. */
bool crypto_str_equal(const char *a, const char *b);

/*
 * Hashes password with argon2id (interactive limits) into out[CRYPTO_PASSWORD_HASH_MAX].
 * Returns false when out of memory.
 */
bool crypto_password_hash(const char *password, char out[CRYPTO_PASSWORD_HASH_MAX]);

/* Verifies password against an argon2id string from crypto_password_hash. */
bool crypto_password_verify(const char *hash, const char *password);

/* Wipes len bytes of buf so a secret does not outlive its use. */
void crypto_wipe(void *buf, size_t len);

/*
 * Loads the master key from path, or creates it (random, mode 0600, parent directories 0700)
 * when the file does not exist. A file of the wrong size or readable by others is refused:
 * error_r says what to do. Returns 0 or -1.
 */
int crypto_master_key_load(const char *path, uint8_t key_r[CRYPTO_KEY_BYTES], char *error,
			   size_t error_size);

#endif
