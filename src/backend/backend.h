/*
 * backend.h - the CUPS backend `pullprint`: a CUPS queue (or a Samba share printing through
 * CUPS) forwards each job into Pullprint over IPPS, authenticated as a trusted forwarder with
 * "Authorization: Bearer ppf_…", naming the submitting user in requesting-user-name.
 *
 * Three facets, one file each: backend-conf.c reads /etc/pullprint/backend.conf and the device
 * URI; backend-tls.c decides whether the server's certificate is the one we may hand the
 * token to; backend-job.c builds the Print-Job request from the CUPS job and turns the
 * server's answer into a CUPS backend exit code. pullprint-backend.c holds main(), the
 * connection and the streaming of the document. No other folder includes this header.
 */
#ifndef PP_BACKEND_H
#define PP_BACKEND_H

#include <cups/cups.h>
#include <cups/http.h>
#include <cups/ipp.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKEND_CONF_DEFAULT_PATH "/etc/pullprint/backend.conf"
#define BACKEND_CONF_ENV "PULLPRINT_BACKEND_CONF"
#define BACKEND_SCHEME "pullprint"
#define BACKEND_RESOURCE "/ipp/print"
#define BACKEND_HOST_MAX 256
#define BACKEND_TOKEN_PREFIX "ppf_"
#define BACKEND_TOKEN_LEN 68 /* "ppf_" + 64 hex digits */
#define BACKEND_FINGERPRINT_BYTES 32 /* SHA-256 */

/* Where to send jobs and with which credential (read from backend.conf). */
typedef struct {
	char host[BACKEND_HOST_MAX];
	int port;
	char token[BACKEND_TOKEN_LEN + 1]; /* secret: never printed; wiped by backend_conf_wipe() */
	bool has_fingerprint;
	uint8_t fingerprint[BACKEND_FINGERPRINT_BYTES]; /* of the server's leaf certificate */
} pp_backend_conf_t;

/* ---- backend-conf.c ---- */

/*
 * Reads the INI file at path into conf: section [backend] with server = ipps://HOST:PORT,
 * token = ppf_… and an optional fingerprint = SHA-256 of the server certificate in hex (colons
 * and either case allowed). Unknown sections or keys, a missing server or token, and a file
 * that other users may read or write are errors. error says what to fix. Returns 0 or -1.
 */
int backend_conf_load(pp_backend_conf_t *conf, const char *path, char *error, size_t error_size);

/*
 * Applies a device URI "pullprint://HOST[:PORT][/]" over conf: HOST replaces the server's
 * host, PORT (when given) its port. "pullprint://" and "pullprint:/" alone keep the
 * configured server. Any other scheme, a path, user info or a query is an error.
 * Returns 0 or -1.
 */
int backend_conf_apply_device_uri(pp_backend_conf_t *conf, const char *uri, char *error,
				  size_t error_size);

/*
 * Parses a SHA-256 fingerprint: 64 hex digits, optionally grouped by colons ("AB:CD:…").
 * Returns false for anything else.
 */
bool backend_parse_fingerprint(const char *text, uint8_t fingerprint_r[BACKEND_FINGERPRINT_BYTES]);

/* Wipes the token from conf. */
void backend_conf_wipe(pp_backend_conf_t *conf);

/* ---- backend-tls.c ---- */

typedef enum {
	BACKEND_TLS_OK = 0,
	BACKEND_TLS_MISMATCH,  /* a pinned fingerprint does not match: never send the token */
	BACKEND_TLS_UNTRUSTED, /* no pin, and the chain does not verify for the host name */
	BACKEND_TLS_ERROR,     /* no certificate to look at, or the check itself failed */
} pp_backend_tls_t;

/*
 * Checks the server certificate chain (DER, leaf first, count entries): against the pinned
 * fingerprint when conf has one, else against the system's trusted CAs for host. The leaf's
 * SHA-256 goes into seen_r (may be NULL) so the message can show the value to pin.
 */
pp_backend_tls_t backend_tls_check_chain(const pp_backend_conf_t *conf, const char *host,
					 const uint8_t *const *certs, const size_t *sizes,
					 size_t count, uint8_t seen_r[BACKEND_FINGERPRINT_BYTES]);

/* The same for a connected libcups connection (its peer credentials). */
pp_backend_tls_t backend_tls_check(http_t *http, const pp_backend_conf_t *conf,
				   uint8_t seen_r[BACKEND_FINGERPRINT_BYTES]);

/*
 * True when the connection's current peer certificate is still the one whose SHA-256 is fp.
 * libcups reconnects on its own inside a request (a dropped keep-alive, a 401), and sends the
 * Authorization header at once, so the check made at connect time is repeated after every
 * request: a change is reported so that the token can be revoked.
 */
bool backend_tls_same_peer(http_t *http, const uint8_t fp[BACKEND_FINGERPRINT_BYTES]);

/* Writes fp as 64 lower-case hex digits into out[65]. */
void backend_fingerprint_hex(const uint8_t fp[BACKEND_FINGERPRINT_BYTES], char out[65]);

/* ---- backend-job.c ---- */

/* The CUPS job as cupsd hands it to the backend. */
typedef struct {
	const char *user;     /* argv[2]: the submitting user (Samba: the Windows user) */
	const char *title;    /* argv[3] */
	int copies;           /* argv[4] when the backend got a file; else 1 */
	const char *options;  /* argv[5]: "name=value name=value …" */
	const char *format;   /* MIME type of the data sent */
} pp_backend_job_t;

/*
 * Parses the copies argument: a whole number 1..9999. Returns false otherwise.
 */
bool backend_parse_copies(const char *text, int *copies_r);

/*
 * The document-format to declare for the data, from CUPS's CONTENT_TYPE (may be NULL): the
 * type itself, or application/octet-stream (the server then types it by content) when it is
 * missing, malformed, or a CUPS-internal type (application/vnd.cups-…, printer/…). Static or
 * borrowed from content_type.
 */
const char *backend_document_format(const char *content_type);

/*
 * Builds a Validate-Job (validate_only) or Print-Job request for job to the printer at
 * host:port: requesting-user-name, job-name, document-format, copies and the job template
 * options Pullprint understands (sides, media, print-color-mode, number-up, page-ranges,
 * orientation-requested, print-quality, finishings, and the PPD spellings Duplex, PageSize,
 * ColorModel, landscape); CUPS-internal options are left out. New; free with ippDelete().
 * NULL when the URI cannot be built.
 */
ipp_t *backend_job_request(const pp_backend_job_t *job, const char *host, int port,
			   bool validate_only);

/*
 * The CUPS backend exit code for the server's answer: http is the HTTP status (0 when only an
 * IPP status is known), status the IPP status. OK for success; AUTH_REQUIRED for 401 and
 * not-authenticated; RETRY when the server is unreachable, busy or failing (5xx); CANCEL when
 * the server refused this document or user for good (format, size, user refused, bad
 * request); FAILED for what an admin must fix (wrong address: not found, other errors).
 */
int backend_exit_code(http_status_t http, ipp_status_t status);

#endif
