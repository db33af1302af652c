/*
 * deliver-tls.c - whom an IPPS printer is: libcups makes the TLS connection but leaves
 * judging the certificate to the caller, so the chain it received is checked here with
 * GnuTLS before a byte of the job is sent: against the admin's CA file or the system trust
 * store, for the host name of the device URI. Printers often carry a self-signed
 * certificate; it is accepted only when the admin said so for that printer
 * (accept_self_signed), and then only when it really is self-signed (its own signature
 * verifies; dates are not checked, as printer clocks are often wrong).
 */
#include "output/deliver-private.h"

#include <cups/cups.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_CHAIN_MAX 16

/* True when crt is signed by its own key. */
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

/* Verifies certs[count] for host with the trust anchors; 0 when trusted, else -1 + why. */
static int tls_verify_chain(const deliver_ctx_t *ctx, gnutls_x509_crt_t *certs, unsigned count,
			    char *why, size_t why_size)
{
	gnutls_x509_trust_list_t list = NULL;
	if (gnutls_x509_trust_list_init(&list, 0) < 0) {
		snprintf(why, why_size, "cannot set up certificate checks");
		return -1;
	}
	int loaded = ctx->req->ca_file != NULL
			     ? gnutls_x509_trust_list_add_trust_file(list, ctx->req->ca_file, NULL,
								     GNUTLS_X509_FMT_PEM, 0, 0)
			     : gnutls_x509_trust_list_add_system_trust(list, 0, 0);
	if (loaded <= 0) {
		snprintf(why, why_size, "no trust anchors could be loaded from %s",
			 ctx->req->ca_file != NULL ? "the printer's CA file" : "the system store");
		gnutls_x509_trust_list_deinit(list, 1);
		return -1;
	}
	gnutls_typed_vdata_st host = {
		.type = GNUTLS_DT_DNS_HOSTNAME,
		.data = (unsigned char *)ctx->uri.host,
		.size = 0,
	};
	unsigned status = 0;
	int rc = gnutls_x509_trust_list_verify_crt2(list, certs, count, &host, 1, 0, &status,
						    NULL);
	gnutls_x509_trust_list_deinit(list, 1);
	if (rc < 0 || status != 0) {
		gnutls_datum_t text = {0};
		if (rc >= 0 && gnutls_certificate_verification_status_print(
				       status, GNUTLS_CRT_X509, &text, 0) == 0) {
			snprintf(why, why_size, "%s", (const char *)text.data);
			gnutls_free(text.data);
		} else {
			snprintf(why, why_size, "%s", gnutls_strerror(rc));
		}
		return -1;
	}
	return 0;
}

int deliver_tls_check(deliver_ctx_t *ctx, http_t *http)
{
	cups_array_t *creds = NULL;
	if (httpCopyCredentials(http, &creds) != 0 || creds == NULL || cupsArrayCount(creds) <= 0) {
		httpFreeCredentials(creds);
		deliver_set(ctx, DELIVER_PERMANENT, "the printer presented no certificate over "
			    "ipps://");
		return -1;
	}
	gnutls_x509_crt_t certs[TLS_CHAIN_MAX];
	unsigned count = 0;
	int rc = 0;
	for (http_credential_t *cred = cupsArrayFirst(creds); cred != NULL && rc == 0;
	     cred = cupsArrayNext(creds)) {
		if (count == TLS_CHAIN_MAX || gnutls_x509_crt_init(&certs[count]) < 0) {
			rc = -1;
			break;
		}
		gnutls_datum_t der = {.data = cred->data, .size = (unsigned)cred->datalen};
		if (gnutls_x509_crt_import(certs[count], &der, GNUTLS_X509_FMT_DER) < 0)
			rc = -1;
		count++;
	}
	httpFreeCredentials(creds);
	char why[256] = "the certificate chain could not be read";
	if (rc == 0)
		rc = tls_verify_chain(ctx, certs, count, why, sizeof(why));
	if (rc != 0 && ctx->req->accept_self_signed && count == 1 && tls_is_self_signed(certs[0]))
		rc = 0;
	for (unsigned i = 0; i < count; i++)
		gnutls_x509_crt_deinit(certs[i]);
	if (rc != 0) {
		char line[256];
		deliver_ascii_line(why, NULL, line, sizeof(line));
		deliver_set(ctx, DELIVER_PERMANENT, "the printer's certificate is not trusted (%s): "
			    "install its CA file, or accept its self-signed certificate for this "
			    "printer", line);
		return -1;
	}
	return 0;
}
