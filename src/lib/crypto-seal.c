/* crypto-seal.c - small secrets sealed at rest; see crypto-seal.h. */
#include "lib/crypto-seal.h"

#include "lib/str.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

size_t crypto_seal_overhead(void)
{
	return SEAL_NONCE_BYTES + SEAL_TAG_BYTES;
}

int crypto_seal(const uint8_t key[CRYPTO_KEY_BYTES], const void *plain, size_t len,
		const char *aad, uint8_t **sealed_r, size_t *sealed_len_r)
{
	*sealed_r = NULL;
	*sealed_len_r = 0;
	if (len > SIZE_MAX - crypto_seal_overhead())
		return -1;
	uint8_t *sealed = malloc(len + crypto_seal_overhead());
	if (sealed == NULL)
		return -1;
	randombytes_buf(sealed, SEAL_NONCE_BYTES);
	unsigned long long ct_len = 0;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + SEAL_NONCE_BYTES, &ct_len, plain,
						       len, (const uint8_t *)aad, strlen(aad), NULL,
						       sealed, key) != 0) {
		free(sealed);
		return -1;
	}
	*sealed_r = sealed;
	*sealed_len_r = SEAL_NONCE_BYTES + (size_t)ct_len;
	return 0;
}

int crypto_open(const uint8_t key[CRYPTO_KEY_BYTES], const uint8_t *sealed, size_t len,
		const char *aad, size_t max_plain, char **plain_r, size_t *plain_len_r)
{
	*plain_r = NULL;
	if (plain_len_r != NULL)
		*plain_len_r = 0;
	if (sealed == NULL || len < crypto_seal_overhead() ||
	    len - crypto_seal_overhead() > max_plain)
		return -1;
	char *plain = malloc(len - crypto_seal_overhead() + 1);
	if (plain == NULL)
		return -1;
	unsigned long long plain_len = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (uint8_t *)plain, &plain_len, NULL, sealed + SEAL_NONCE_BYTES,
		    len - SEAL_NONCE_BYTES, (const uint8_t *)aad, strlen(aad), sealed, key) != 0) {
		free(plain);
		return -1;
	}
	plain[plain_len] = '\0';
	*plain_r = plain;
	if (plain_len_r != NULL)
		*plain_len_r = (size_t)plain_len;
	return 0;
}

char *crypto_seal_hex(const uint8_t key[CRYPTO_KEY_BYTES], const char *plain, const char *aad)
{
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	if (crypto_seal(key, plain, strlen(plain), aad, &sealed, &sealed_len) < 0)
		return NULL;
	char *hex = malloc(2 * sealed_len + 1);
	if (hex != NULL)
		str_hex_encode(hex, sealed, sealed_len);
	free(sealed);
	return hex;
}

int crypto_open_hex(const uint8_t key[CRYPTO_KEY_BYTES], const char *hex, const char *aad,
		    size_t max_plain, char **plain_r)
{
	*plain_r = NULL;
	size_t hex_len = strlen(hex);
	if (hex_len % 2 != 0 || hex_len / 2 < crypto_seal_overhead() ||
	    hex_len / 2 - crypto_seal_overhead() > max_plain)
		return -1;
	uint8_t *sealed = malloc(hex_len / 2);
	if (sealed == NULL)
		return -1;
	int rc = str_hex_decode(sealed, hex_len / 2, hex)
			 ? crypto_open(key, sealed, hex_len / 2, aad, max_plain, plain_r, NULL)
			 : -1;
	free(sealed);
	return rc;
}
