/*
 * crypto-seal.h - small secrets sealed at rest: XChaCha20-Poly1305 (libsodium) with a random
 * nonce, bound to associated data that names the row the secret belongs to, so that a sealed
 * value copied to another row does not open.
 *
 * The sealed form is nonce || ciphertext || tag; the hex form of it fits a TEXT column. The
 * caller owns the key (a subkey of the master key for one purpose) and wipes it.
 */
#ifndef PP_CRYPTO_SEAL_H
#define PP_CRYPTO_SEAL_H

#include "lib/crypto.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes a sealed value adds to its plaintext (nonce and tag). */
size_t crypto_seal_overhead(void);

/*
 * Seals plain[len] under key with aad (a NUL-terminated row name). *sealed_r is new (free()),
 * *sealed_len_r = len + crypto_seal_overhead(). Returns 0, or -1 when out of memory.
 */
int crypto_seal(const uint8_t key[CRYPTO_KEY_BYTES], const void *plain, size_t len,
		const char *aad, uint8_t **sealed_r, size_t *sealed_len_r);

/*
 * Opens sealed[len] under key with aad. Refuses a value whose plaintext would be longer than
 * max_plain bytes. *plain_r is new (free() after crypto_wipe()), NUL-terminated, its length
 * in *plain_len_r (may be NULL). Returns 0, or -1 when it does not open (wrong key, other
 * row, tampered, too short or too long, out of memory).
 */
int crypto_open(const uint8_t key[CRYPTO_KEY_BYTES], const uint8_t *sealed, size_t len,
		const char *aad, size_t max_plain, char **plain_r, size_t *plain_len_r);

/* crypto_seal() of a string, as a new hex string (free() after crypto_wipe()); NULL on OOM. */
char *crypto_seal_hex(const uint8_t key[CRYPTO_KEY_BYTES], const char *plain, const char *aad);

/* crypto_open() of a hex string from crypto_seal_hex(). Returns 0 or -1 as crypto_open(). */
int crypto_open_hex(const uint8_t key[CRYPTO_KEY_BYTES], const char *hex, const char *aad,
		    size_t max_plain, char **plain_r);

#endif
