/*
 * tls-peer.c - the certificate an IPPS printer presents, read and judged with GnuTLS: a pin
 * (the admin's SHA-256 of the one certificate accepted) or the usual chain verification;
 * see tls-peer.h.
 */
#include "output/tls-peer.h"

#include "lib/str.h"
#include "output/deliver-private.h"

#include <cups/cups.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>

#define TLS_CHAIN_MAX 16
#define TLS_FETCH_TIMEOUT_MS 5000

/* The peer's chain as GnuTLS certificates (the presented order: the printer's own first). */
typedef struct {
	gnutls_x509_crt_t certs[TLS_CHAIN_MAX];
	unsigned count;
	char fingerprint[TLS_PEER_FINGERPRINT_MAX]; /* of certs[0] */
} tls_chain_t;

static void tls_chain_free(tls_chain_t *chain)
{
	for (unsigned i = 0; i < chain->count; i++)
		gnutls_x509_crt_deinit(chain->certs[i]);
	chain->count = 0;
}

/* Reads http's peer chain into *chain. Returns 0, or -1 with why. */
static int tls_chain_read(http_t *http, tls_chain_t *chain, char *why, size_t why_size)
{
	memset(chain, 0, sizeof(*chain));
	cups_array_t *creds = NULL;
	if (httpCopyCredentials(http, &creds) != 0 || creds == NULL || cupsArrayCount(creds) <= 0) {
		httpFreeCredentials(creds);
		(void)str_copy(why, why_size, "the printer presented no certificate");
		return -1;
	}
	int rc = 0;
	for (http_credential_t *cred = cupsArrayFirst(creds); cred != NULL;
	     cred = cupsArrayNext(creds)) {
		if (chain->count == TLS_CHAIN_MAX ||
		    gnutls_x509_crt_init(&chain->certs[chain->count]) < 0) {
			rc = -1;
			break;
		}
		gnutls_datum_t der = {.data = cred->data, .size = (unsigned)cred->datalen};
		chain->count++;
		if (gnutls_x509_crt_import(chain->certs[chain->count - 1], &der,
					   GNUTLS_X509_FMT_DER) < 0) {
			rc = -1;
			break;
		}
		if (chain->count == 1) {
			/* The pin is the hash of the certificate as sent (DER). */
			uint8_t digest[32];
			if (gnutls_hash_fast(GNUTLS_DIG_SHA256, cred->data, cred->datalen, digest) <
			    0) {
				rc = -1;
				break;
			}
			str_hex_encode(chain->fingerprint, digest, sizeof(digest));
		}
	}
	httpFreeCredentials(creds);
	if (rc != 0) {
		tls_chain_free(chain);
		(void)str_copy(why, why_size, "the printer's certificate chain could not be read");
	}
	return rc;
}

/* True when crt is signed by its own key (dates not checked: printer clocks drift). */
static bool tls_is_self_signed(gnutls_x509_crt_t crt)
{
	if (gnutls_x509_crt_check_issuer(crt, crt) != 1)
		return false;
	unsigned status = 0;
	int rc = gnutls_x509_crt_verify(crt, &crt, 1,
					GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
						GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
					&status);
	return rc == 0 && status == 0;
}

/* Verifies the chain for host with the trust anchors; 0 when trusted, else -1 + why. */
static int tls_verify_chain(const tls_chain_t *chain, const char *host, const char *ca_file,
			    char *why, size_t why_size)
{
	gnutls_x509_trust_list_t list = NULL;
	if (gnutls_x509_trust_list_init(&list, 0) < 0) {
		(void)str_copy(why, why_size, "cannot set up certificate checks");
		return -1;
	}
	int loaded = ca_file != NULL ? gnutls_x509_trust_list_add_trust_file(
					       list, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0)
				     : gnutls_x509_trust_list_add_system_trust(list, 0, 0);
	if (loaded <= 0) {
		(void)str_format(why, why_size, "no trust anchors could be loaded from %s",
				 ca_file != NULL ? "the printer's CA file" : "the system store");
		gnutls_x509_trust_list_deinit(list, 1);
		return -1;
	}
	gnutls_typed_vdata_st data = {
		.type = GNUTLS_DT_DNS_HOSTNAME,
		.data = (unsigned char *)(uintptr_t)host,
		.size = 0,
	};
	unsigned status = 0;
	gnutls_x509_crt_t certs[TLS_CHAIN_MAX];
	memcpy(certs, chain->certs, chain->count * sizeof(certs[0]));
	int rc = gnutls_x509_trust_list_verify_crt2(list, certs, chain->count, &data, 1, 0,
						    &status, NULL);
	gnutls_x509_trust_list_deinit(list, 1);
	if (rc < 0 || status != 0) {
		gnutls_datum_t text = {0};
		char raw[TLS_PEER_WHY_MAX];
		if (rc >= 0 && gnutls_certificate_verification_status_print(
				       status, GNUTLS_CRT_X509, &text, 0) == 0) {
			(void)str_copy(raw, sizeof(raw), (const char *)text.data);
			gnutls_free(text.data);
		} else {
			(void)str_copy(raw, sizeof(raw), gnutls_strerror(rc));
		}
		deliver_ascii_line(raw, NULL, why, why_size);
		return -1;
	}
	return 0;
}

int tls_peer_check(http_t *http, const char *host, const char *pin, const char *ca_file,
		   bool accept_self_signed, char *why, size_t why_size)
{
	tls_chain_t chain;
	if (tls_chain_read(http, &chain, why, why_size) < 0)
		return -1;
	int rc = 0;
	if (pin != NULL && pin[0] != '\0') {
		/* Pinned: this certificate and no other, whatever a CA would say. */
		if (strcmp(chain.fingerprint, pin) != 0) {
			(void)str_format(why, why_size,
					 "certificate changed: expected %s, got %s (if the printer "
					 "got a new certificate, check it and run pullprint printers "
					 "trust again)",
					 pin, chain.fingerprint);
			rc = -1;
		}
		tls_chain_free(&chain);
		return rc;
	}
	char reason[TLS_PEER_WHY_MAX];
	rc = tls_verify_chain(&chain, host, ca_file, reason, sizeof(reason));
	if (rc != 0 && accept_self_signed && chain.count == 1 && tls_is_self_signed(chain.certs[0]))
		rc = 0;
	if (rc != 0)
		(void)str_format(why, why_size,
				 "the printer's certificate is not trusted: an administrator should "
				 "check and pin it with pullprint printers trust, or install its CA "
				 "file (SHA-256 %s; %.160s)",
				 chain.fingerprint, reason);
	tls_chain_free(&chain);
	return rc;
}

/* A DN of crt (subject or issuer) as printable ASCII into dst[size]; "" when unreadable. */
static void tls_dn(gnutls_x509_crt_t crt, bool is_issuer, char *dst, size_t size)
{
	gnutls_datum_t dn = {0};
	dst[0] = '\0';
	int rc = is_issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0)
			   : gnutls_x509_crt_get_dn3(crt, &dn, 0);
	if (rc < 0)
		return;
	deliver_ascii_line((const char *)dn.data, NULL, dst, size);
	gnutls_free(dn.data);
}

int tls_peer_read(http_t *http, pp_tls_peer_t *peer_r, char *error, size_t error_size)
{
	memset(peer_r, 0, sizeof(*peer_r));
	tls_chain_t chain;
	if (tls_chain_read(http, &chain, error, error_size) < 0)
		return -1;
	(void)str_copy(peer_r->fingerprint, sizeof(peer_r->fingerprint), chain.fingerprint);
	tls_dn(chain.certs[0], false, peer_r->subject, sizeof(peer_r->subject));
	tls_dn(chain.certs[0], true, peer_r->issuer, sizeof(peer_r->issuer));
	time_t not_after = gnutls_x509_crt_get_expiration_time(chain.certs[0]);
	peer_r->not_after = not_after == (time_t)-1 ? -1 : (int64_t)not_after;
	peer_r->is_self_signed = tls_is_self_signed(chain.certs[0]);
	tls_chain_free(&chain);
	return 0;
}

int tls_peer_fetch(const char *uri, int timeout_ms, pp_tls_peer_t *peer_r, char *error,
		   size_t error_size)
{
	char scheme[16], userpass[256], host[DELIVER_HOST_MAX], resource[DELIVER_RESOURCE_MAX];
	int port = 0;
	memset(peer_r, 0, sizeof(*peer_r));
	if (httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, sizeof(scheme), userpass,
			    sizeof(userpass), host, sizeof(host), &port, resource,
			    sizeof(resource)) < HTTP_URI_STATUS_OK ||
	    strcmp(scheme, "ipps") != 0) {
		(void)str_format(error, error_size,
				 "only ipps:// printers present a certificate; this one's URI is "
				 "%.200s",
				 uri);
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = TLS_FETCH_TIMEOUT_MS;
	http_t *http = httpConnect2(host, port, NULL, AF_UNSPEC, HTTP_ENCRYPTION_ALWAYS, 1,
				    timeout_ms, NULL);
	if (http == NULL) {
		char why[160];
		deliver_ascii_line(cupsLastErrorString(), NULL, why, sizeof(why));
		(void)str_format(error, error_size,
				 "cannot connect to %s port %d over TLS: %s (check that the printer "
				 "is on and reachable)",
				 host, port, why);
		return -1;
	}
	int rc = tls_peer_read(http, peer_r, error, error_size);
	httpClose(http);
	return rc;
}
