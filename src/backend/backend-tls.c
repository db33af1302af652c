/*
 * backend-tls.c - whether the server at the other end of the TLS connection is the one the
 * forwarder token belongs to, decided before the token is sent.
 *
 * With a pinned fingerprint (backend.conf fingerprint = …) only that certificate is accepted:
 * the way to use Pullprint's self-signed certificate. Without one the chain must verify
 * against the system's trusted CAs for the host name, as a browser would. libcups itself
 * accepts any certificate, so this check is ours; it uses GnuTLS, which libcups uses too.
 */
#include "backend/backend.h"

#include "lib/str.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

#define BACKEND_TLS_CHAIN_MAX 16

void backend_fingerprint_hex(const uint8_t fp[BACKEND_FINGERPRINT_BYTES], char out[65])
{
	str_hex_encode(out, fp, BACKEND_FINGERPRINT_BYTES);
}

/* Verifies the chain against the system trust store for host. */
static pp_backend_tls_t backend_tls_verify_system(const char *host, const uint8_t *const *certs,
						  const size_t *sizes, size_t count)
{
	gnutls_x509_crt_t chain[BACKEND_TLS_CHAIN_MAX];
	size_t imported = 0;
	gnutls_x509_trust_list_t trust = NULL;
	pp_backend_tls_t result = BACKEND_TLS_ERROR;
	if (count > BACKEND_TLS_CHAIN_MAX)
		count = BACKEND_TLS_CHAIN_MAX; /* Longer chains do not occur; the leaf comes first. */
	for (; imported < count; imported++) {
		if (gnutls_x509_crt_init(&chain[imported]) < 0)
			goto out;
		gnutls_datum_t der = {.data = (unsigned char *)(uintptr_t)certs[imported],
				      .size = (unsigned)sizes[imported]};
		if (gnutls_x509_crt_import(chain[imported], &der, GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(chain[imported]);
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&trust, 0) < 0) {
		trust = NULL;
		goto out;
	}
	if (gnutls_x509_trust_list_add_system_trust(trust, 0, 0) < 0)
		goto out;
	gnutls_typed_vdata_st data[2] = {
		{.type = GNUTLS_DT_DNS_HOSTNAME, .data = (unsigned char *)(uintptr_t)host, .size = 0},
		{.type = GNUTLS_DT_KEY_PURPOSE_OID,
		 .data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER,
		 .size = 0},
	};
	unsigned verify_status = 0;
	if (gnutls_x509_trust_list_verify_crt2(trust, chain, (unsigned)imported, data, 2, 0,
					       &verify_status, NULL) < 0)
		goto out;
	result = verify_status == 0 ? BACKEND_TLS_OK : BACKEND_TLS_UNTRUSTED;
out:
	if (trust != NULL)
		gnutls_x509_trust_list_deinit(trust, 1);
	for (size_t i = 0; i < imported; i++)
		gnutls_x509_crt_deinit(chain[i]);
	return result;
}

pp_backend_tls_t backend_tls_check_chain(const pp_backend_conf_t *conf, const char *host,
					 const uint8_t *const *certs, const size_t *sizes,
					 size_t count, uint8_t seen_r[BACKEND_FINGERPRINT_BYTES])
{
	uint8_t seen[BACKEND_FINGERPRINT_BYTES];
	if (count == 0 || sizes[0] == 0 || sizes[0] > UINT32_MAX)
		return BACKEND_TLS_ERROR;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0], sizes[0], seen) < 0)
		return BACKEND_TLS_ERROR;
	if (seen_r != NULL)
		memcpy(seen_r, seen, sizeof(seen));
	if (conf->has_fingerprint)
		return memcmp(seen, conf->fingerprint, sizeof(seen)) == 0 ? BACKEND_TLS_OK
									   : BACKEND_TLS_MISMATCH;
	return backend_tls_verify_system(host, certs, sizes, count);
}

pp_backend_tls_t backend_tls_check(http_t *http, const pp_backend_conf_t *conf,
				   uint8_t seen_r[BACKEND_FINGERPRINT_BYTES])
{
	cups_array_t *credentials = NULL;
	if (httpCopyCredentials(http, &credentials) != 0 || credentials == NULL)
		return BACKEND_TLS_ERROR;
	const uint8_t *certs[BACKEND_TLS_CHAIN_MAX];
	size_t sizes[BACKEND_TLS_CHAIN_MAX];
	size_t count = 0;
	for (http_credential_t *c = cupsArrayFirst(credentials);
	     c != NULL && count < BACKEND_TLS_CHAIN_MAX; c = cupsArrayNext(credentials)) {
		certs[count] = c->data;
		sizes[count] = c->datalen;
		count++;
	}
	pp_backend_tls_t result = backend_tls_check_chain(conf, conf->host, certs, sizes, count,
							  seen_r);
	httpFreeCredentials(credentials);
	return result;
}

bool backend_tls_same_peer(http_t *http, const uint8_t fp[BACKEND_FINGERPRINT_BYTES])
{
	cups_array_t *credentials = NULL;
	if (httpCopyCredentials(http, &credentials) != 0 || credentials == NULL)
		return false;
	http_credential_t *leaf = cupsArrayFirst(credentials);
	uint8_t seen[BACKEND_FINGERPRINT_BYTES];
	bool same = leaf != NULL && leaf->datalen > 0 && leaf->datalen <= UINT32_MAX &&
		    gnutls_hash_fast(GNUTLS_DIG_SHA256, leaf->data, leaf->datalen, seen) >= 0 &&
		    memcmp(seen, fp, sizeof(seen)) == 0;
	httpFreeCredentials(credentials);
	return same;
}
