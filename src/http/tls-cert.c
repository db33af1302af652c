/*
 * tls-cert.c - making and checking the listener's certificate with GnuTLS; see tls-cert.h.
 *
 * The key is written before the certificate, each atomically: a crash between the two
 * leaves an old certificate that no longer matches, which is ours and so is made again.
 */
#include "http/tls-cert.h"

#include "lib/crypto.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_PEM_MAX (1024u * 1024u)
#define TLS_RENEW_BEFORE_S (30 * 24 * 3600) /* renew our own this long before it ends */

/* State of one pair read from disk. */
typedef struct tls_pair {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
} tls_pair_t;

static void tls_pair_free(tls_pair_t *pair)
{
	if (pair->crt != NULL)
		gnutls_x509_crt_deinit(pair->crt);
	if (pair->key != NULL)
		gnutls_x509_privkey_deinit(pair->key);
	pair->crt = NULL;
	pair->key = NULL;
}

/* Reads the first certificate of the PEM file at path. Returns 0 or -1 with error. */
static int tls_read_cert(const char *path, gnutls_x509_crt_t *crt_r, char *error,
			 size_t error_size)
{
	char *pem = NULL;
	size_t len = 0;
	*crt_r = NULL;
	if (fs_read_file(path, TLS_PEM_MAX, &pem, &len, error, error_size) != 0)
		return -1;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)len };
	int rc = gnutls_x509_crt_init(crt_r);
	if (rc == 0)
		rc = gnutls_x509_crt_import(*crt_r, &d, GNUTLS_X509_FMT_PEM);
	free(pem);
	if (rc != 0) {
		if (*crt_r != NULL)
			gnutls_x509_crt_deinit(*crt_r);
		*crt_r = NULL;
		(void)str_format(error, error_size, "%s is not a PEM certificate: %s", path,
				 gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

/* Reads the PEM private key at path (PKCS#8, PKCS#1 or SEC1). Returns 0 or -1 with error. */
static int tls_read_key(const char *path, gnutls_x509_privkey_t *key_r, char *error,
			size_t error_size)
{
	char *pem = NULL;
	size_t len = 0;
	*key_r = NULL;
	if (fs_read_file(path, TLS_PEM_MAX, &pem, &len, error, error_size) != 0)
		return -1;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned int)len };
	int rc = gnutls_x509_privkey_init(key_r);
	if (rc == 0)
		rc = gnutls_x509_privkey_import2(*key_r, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	crypto_wipe(pem, len);
	free(pem);
	if (rc != 0) {
		if (*key_r != NULL)
			gnutls_x509_privkey_deinit(*key_r);
		*key_r = NULL;
		(void)str_format(error, error_size,
				 "%s is not an unencrypted PEM private key: %s", path,
				 gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

/* True when crt is one of ours: self-issued with our organisation name. */
static bool tls_cert_is_ours(gnutls_x509_crt_t crt)
{
	char org[128];
	size_t size = sizeof(org);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, 0, org,
					  &size) != 0)
		return false;
	return strcmp(org, TLS_CERT_SELF_SIGNED_ORG) == 0 && gnutls_x509_crt_check_issuer(crt, crt);
}

/* True when the certificate's public key is the private key's. */
static bool tls_pair_matches(const tls_pair_t *pair)
{
	unsigned char a[64];
	unsigned char b[64];
	size_t alen = sizeof(a);
	size_t blen = sizeof(b);
	if (gnutls_x509_crt_get_key_id(pair->crt, GNUTLS_KEYID_USE_SHA256, a, &alen) != 0 ||
	    gnutls_x509_privkey_get_key_id(pair->key, GNUTLS_KEYID_USE_SHA256, b, &blen) != 0)
		return false;
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Fills the fingerprint, end date and ownership fields of info from crt. */
static int tls_fill_info(gnutls_x509_crt_t crt, pp_tls_cert_info_t *info, char *error,
			 size_t error_size)
{
	unsigned char digest[32];
	size_t size = sizeof(digest);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &size) != 0 ||
	    size != sizeof(digest)) {
		(void)str_format(error, error_size, "cannot compute the certificate fingerprint");
		return -1;
	}
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < size; i++) {
		if (i > 0)
			info->fingerprint_sha256[o++] = ':';
		info->fingerprint_sha256[o++] = hex[digest[i] >> 4];
		info->fingerprint_sha256[o++] = hex[digest[i] & 0xf];
	}
	info->fingerprint_sha256[o] = '\0';
	info->not_after = gnutls_x509_crt_get_expiration_time(crt);
	info->is_self_signed_ours = tls_cert_is_ours(crt);
	info->is_expired = info->not_after != (time_t)-1 && info->not_after <= time(NULL);
	return 0;
}

int tls_cert_check_pair(const char *cert_file, const char *key_file, pp_tls_cert_info_t *info_r,
			char *error, size_t error_size)
{
	memset(info_r, 0, sizeof(*info_r));
	char sub[512];
	tls_pair_t pair = { 0 };
	if (!str_copy(info_r->cert_file, sizeof(info_r->cert_file), cert_file) ||
	    !str_copy(info_r->key_file, sizeof(info_r->key_file), key_file)) {
		(void)str_format(error, error_size, "tls: certificate or key path too long");
		return -1;
	}
	if (tls_read_cert(cert_file, &pair.crt, sub, sizeof(sub)) != 0 ||
	    tls_read_key(key_file, &pair.key, sub, sizeof(sub)) != 0) {
		tls_pair_free(&pair);
		(void)str_format(error, error_size,
				 "tls: %s — fix tls_certificate/tls_key or leave both empty for a "
				 "self-signed certificate",
				 sub);
		return -1;
	}
	if (!tls_pair_matches(&pair)) {
		tls_pair_free(&pair);
		(void)str_format(error, error_size,
				 "tls: the certificate %s does not belong to the key %s — install "
				 "the matching pair",
				 cert_file, key_file);
		return -1;
	}
	int rc = tls_fill_info(pair.crt, info_r, sub, sizeof(sub));
	tls_pair_free(&pair);
	if (rc != 0)
		(void)str_format(error, error_size, "tls: %s: %s", cert_file, sub);
	return rc;
}

/* ---- making a self-signed pair ---- */

/* Adds the SubjectAltNames: host name, localhost, 127.0.0.1, ::1. */
static int tls_set_names(gnutls_x509_crt_t crt, const char *host)
{
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };
	int rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
						      (unsigned)strlen(host), GNUTLS_FSAN_APPEND);
	if (rc == 0 && strcmp(host, "localhost") != 0)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
							  GNUTLS_FSAN_APPEND);
	if (rc == 0)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4,
							  sizeof(v4), GNUTLS_FSAN_APPEND);
	if (rc == 0)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6,
							  sizeof(v6), GNUTLS_FSAN_APPEND);
	return rc;
}

/* Makes a key and a certificate for host and writes them to key_path and cert_path. */
static int tls_make_pair(const char *host, const char *cert_path, const char *key_path,
			 char *error, size_t error_size)
{
	tls_pair_t pair = { 0 };
	gnutls_datum_t cert_pem = { NULL, 0 };
	gnutls_datum_t key_pem = { NULL, 0 };
	int rc = gnutls_x509_privkey_init(&pair.key);
	if (rc == 0)
		rc = gnutls_x509_privkey_generate2(
			pair.key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0);
	if (rc == 0)
		rc = gnutls_x509_crt_init(&pair.crt);

	/* A positive 128-bit serial from the CSPRNG. */
	unsigned char serial[16];
	crypto_random_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	time_t now = time(NULL);
	if (rc == 0)
		rc = gnutls_x509_crt_set_version(pair.crt, 3);
	if (rc == 0)
		rc = gnutls_x509_crt_set_serial(pair.crt, serial, sizeof(serial));
	/* Start an hour back so a client with a slightly slow clock accepts it. */
	if (rc == 0)
		rc = gnutls_x509_crt_set_activation_time(pair.crt, now - 3600);
	if (rc == 0)
		rc = gnutls_x509_crt_set_expiration_time(
			pair.crt, now + (time_t)TLS_CERT_VALIDITY_DAYS * 24 * 3600);
	if (rc == 0)
		rc = gnutls_x509_crt_set_dn_by_oid(pair.crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
						   (unsigned)strlen(host));
	if (rc == 0)
		rc = gnutls_x509_crt_set_dn_by_oid(pair.crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
						   TLS_CERT_SELF_SIGNED_ORG,
						   (unsigned)strlen(TLS_CERT_SELF_SIGNED_ORG));
	if (rc == 0)
		rc = gnutls_x509_crt_set_key(pair.crt, pair.key);
	if (rc == 0)
		rc = tls_set_names(pair.crt, host);
	if (rc == 0)
		rc = gnutls_x509_crt_set_basic_constraints(pair.crt, 0, -1);
	if (rc == 0)
		rc = gnutls_x509_crt_set_key_usage(pair.crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	if (rc == 0)
		rc = gnutls_x509_crt_set_key_purpose_oid(pair.crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (rc == 0)
		rc = gnutls_x509_crt_sign2(pair.crt, pair.crt, pair.key, GNUTLS_DIG_SHA256, 0);
	if (rc == 0)
		rc = gnutls_x509_crt_export2(pair.crt, GNUTLS_X509_FMT_PEM, &cert_pem);
	if (rc == 0)
		rc = gnutls_x509_privkey_export2_pkcs8(pair.key, GNUTLS_X509_FMT_PEM, NULL,
						       GNUTLS_PKCS_PLAIN, &key_pem);
	tls_pair_free(&pair);
	if (rc != 0) {
		(void)str_format(error, error_size, "tls: cannot make a certificate: %s",
				 gnutls_strerror(rc));
		goto out;
	}
	/* Key first: see the file comment. */
	rc = fs_write_file_atomic(key_path, key_pem.data, key_pem.size, 0600, error, error_size);
	if (rc == 0)
		rc = fs_write_file_atomic(cert_path, cert_pem.data, cert_pem.size, 0600, error,
					  error_size);
out:
	if (key_pem.data != NULL) {
		crypto_wipe(key_pem.data, key_pem.size);
		gnutls_free(key_pem.data);
	}
	gnutls_free(cert_pem.data);
	return rc == 0 ? 0 : -1;
}

int tls_cert_ensure_self_signed(const char *dir, const char *host_name,
				pp_tls_cert_info_t *info_r, char *error, size_t error_size)
{
	memset(info_r, 0, sizeof(*info_r));
	char host[256];
	if (host_name != NULL && host_name[0] != '\0') {
		if (!str_copy(host, sizeof(host), host_name)) {
			(void)str_format(error, error_size, "tls: host name too long");
			return -1;
		}
	} else if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0') {
		(void)str_copy(host, sizeof(host), "localhost");
	}
	host[sizeof(host) - 1] = '\0';

	char cert_path[PATH_MAX];
	char key_path[PATH_MAX];
	if (!str_format(cert_path, sizeof(cert_path), "%s/cert.pem", dir) ||
	    !str_format(key_path, sizeof(key_path), "%s/key.pem", dir)) {
		(void)str_format(error, error_size, "tls: directory path too long: %s", dir);
		return -1;
	}
	if (fs_mkdir_p(dir, 0700, error, error_size) != 0)
		return -1;

	/* Decide: keep the pair, make a new one, or refuse (not ours and broken). */
	bool must_make = false;
	char why[512] = "";
	if (access(cert_path, F_OK) != 0 && errno == ENOENT) {
		must_make = true;
		(void)str_copy(why, sizeof(why), "first start");
	} else {
		pp_tls_cert_info_t probe;
		if (tls_cert_check_pair(cert_path, key_path, &probe, why, sizeof(why)) == 0 &&
		    probe.is_self_signed_ours &&
		    probe.not_after > time(NULL) + TLS_RENEW_BEFORE_S) {
			*info_r = probe;
			return 0;
		}
		/* Broken, expiring or not ours: only ours may be replaced. */
		gnutls_x509_crt_t crt = NULL;
		char sub[512];
		bool is_ours = tls_read_cert(cert_path, &crt, sub, sizeof(sub)) == 0 &&
			       tls_cert_is_ours(crt);
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		if (!is_ours) {
			(void)str_format(error, error_size,
					 "tls: %s is not a certificate this server made (%s) — "
					 "configure it as tls_certificate/tls_key, or remove it to "
					 "get a new self-signed one",
					 cert_path, why[0] != '\0' ? why : "not self-signed by us");
			return -1;
		}
		if (why[0] == '\0')
			(void)str_copy(why, sizeof(why), "expired or about to expire");
		must_make = true;
	}
	if (must_make) {
		log_info("tls.self_signed.make dir=%s host=%s reason=\"%s\"", dir, host, why);
		if (tls_make_pair(host, cert_path, key_path, error, error_size) != 0)
			return -1;
	}
	if (tls_cert_check_pair(cert_path, key_path, info_r, error, error_size) != 0)
		return -1;
	info_r->is_new = must_make;
	return 0;
}
