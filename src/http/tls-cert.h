/*
 * tls-cert.h - the listener's certificate: a self-signed one made with GnuTLS at first start
 * (ECDSA P-256, SubjectAltName for the host name, localhost, 127.0.0.1 and ::1, two years,
 * random serial), or an admin-supplied pair, checked before the listener uses it.
 *
 * The self-signed pair lives in a directory the caller names (state_dir/tls, 0700) as
 * cert.pem (0644) and key.pem (0600), written atomically. Our own certificates carry the
 * organisation name TLS_CERT_SELF_SIGNED_ORG, so an expired or broken one is replaced while
 * an admin's pair is never touched.
 */
#ifndef PP_TLS_CERT_H
#define PP_TLS_CERT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define TLS_CERT_SELF_SIGNED_ORG "Pullprint self-signed"
#define TLS_CERT_VALIDITY_DAYS 730
/* "AB:CD:…" SHA-256 of the DER certificate: 32 pairs and 31 colons. */
#define TLS_CERT_FINGERPRINT_LEN 95

typedef struct pp_tls_cert_info {
	char cert_file[PATH_MAX];
	char key_file[PATH_MAX];
	char fingerprint_sha256[TLS_CERT_FINGERPRINT_LEN + 1];
	time_t not_after;
	bool is_self_signed_ours; /* made by tls_cert_ensure_self_signed */
	bool is_new; /* made by this call */
	bool is_expired; /* admin pair past its end date: the caller warns */
} pp_tls_cert_info_t;

/*
 * Uses dir/cert.pem and dir/key.pem, making dir (0700) and a new self-signed pair for
 * host_name (NULL or "" = gethostname()) when missing. An existing pair is checked: one that
 * is expired, does not match its key or cannot be read is replaced if it is ours, else an
 * error naming the file. Fills *info_r. Returns 0 or -1 with error saying what to do.
 */
int tls_cert_ensure_self_signed(const char *dir, const char *host_name,
				pp_tls_cert_info_t *info_r, char *error, size_t error_size);

/*
 * Checks an admin-supplied pair: both PEM files readable, the certificate parses and matches
 * the key. An expired certificate is not an error (info_r->is_expired; the caller warns).
 * Returns 0 or -1 with error naming the file and what to do.
 */
int tls_cert_check_pair(const char *cert_file, const char *key_file, pp_tls_cert_info_t *info_r,
			char *error, size_t error_size);

#endif
