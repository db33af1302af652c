/*
 * ipp-private.h - the IPP service's insides shared by its files: the request parser, the
 * job template mapping, the printer attributes, authentication, job operations and format
 * sniffing. No other folder includes it.
 */
#ifndef PP_IPP_PRIVATE_H
#define PP_IPP_PRIVATE_H

#include "core/doctype.h"
#include "core/job.h"
#include "core/options.h"
#include "core/settings.h"
#include "core/users.h"
#include "ipp/ipp.h"
#include "spool/spool.h"

#include <cups/ipp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPP_ATTRS_MAX (256u * 1024u) /* largest header + attribute groups we buffer */
#define IPP_FORMAT_MAX 128
#define IPP_NAME_MAX 256
#define IPP_URI_MAX 512
#define IPP_GET_JOBS_DEFAULT_LIMIT 100
#define IPP_MULTIPLE_OPERATION_TIMEOUT 300 /* s a Create-Job job waits for Send-Document */
#define IPP_JOB_PASSWORD_MAX 8 /* job-password-supported: octets of a PIN (digits only) */

/* ---- ipp-request.c: raw bytes -> a checked request ---- */

typedef enum {
	IPP_PARSE_DONE = 0, /* *request_r holds the message; *used_r bytes were header+attributes */
	IPP_PARSE_MORE,     /* the bytes end inside the attributes: give more */
	IPP_PARSE_ERROR,    /* malformed (or truncated with is_complete): *status_r says how */
} ipp_parse_result_t;

/*
 * Parses the IPP header and attribute groups at data[0..len) with libcups. Reads nothing past
 * len. is_complete: no more bytes will come (a shortfall is then an error, not MORE).
 * On DONE, *request_r is new (free with ippDelete()) and *used_r counts the bytes before
 * document data. On ERROR, *status_r is the IPP status to answer with and error says why;
 * a buffer at IPP_ATTRS_MAX that still wants more is an error too
 * (IPP_STATUS_ERROR_REQUEST_ENTITY).
 */
ipp_parse_result_t ipp_request_parse(const uint8_t *data, size_t len, bool is_complete,
				     ipp_t **request_r, size_t *used_r, ipp_status_t *status_r,
				     char *error, size_t error_size);

/*
 * Checks a parsed request as RFC 8011 section 4.1 asks: version 1.x or 2.x, request-id > 0,
 * the operation group first and groups in order, attributes-charset then
 * attributes-natural-language first, no attribute twice in one group, an operation we
 * implement. Returns IPP_STATUS_OK or the status to answer with (error says why).
 */
ipp_status_t ipp_request_check(ipp_t *request, char *error, size_t error_size);

/* The request's operation attribute name (first value as text), NULL when absent. Borrowed. */
const char *ipp_request_string(ipp_t *request, const char *name);

/* True for the operations this service implements. */
bool ipp_operation_is_supported(ipp_op_t op);

/* The operations we implement, for operations-supported. Static; *count_r entries. */
const int *ipp_operations(size_t *count_r);

/* ---- ipp-options.c: job template attributes -> pp_print_options_t ---- */

/*
 * Reads the job template attributes of request's job group into *opts_r (defaults first).
 * Each attribute or value we do not support is copied into response's unsupported group and
 * the default kept. Returns IPP_STATUS_OK, IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED (some were
 * ignored), or IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES when ipp-attribute-fidelity is true and
 * something was unsupported, or a syntax error (bad tag or count) was found.
 */
ipp_status_t ipp_options_parse(ipp_t *request, pp_print_options_t *opts_r, ipp_t *response);

/*
 * Reads job-password and job-password-encryption (PWG 5100.11) from request's operation
 * group into pin_r[pin_size] ("" when absent or empty). Accepted: encryption "none" (or
 * absent) and 1..IPP_JOB_PASSWORD_MAX ASCII digits as an octetString
 * (job-password-repertoire-configured iana_us-ascii_digits). Anything else is copied into
 * response's unsupported group and gives IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES with pin_r "".
 * Returns IPP_STATUS_OK otherwise. The caller wipes pin_r after use; it is never logged.
 */
ipp_status_t ipp_options_job_password(ipp_t *request, ipp_t *response, char *pin_r,
				      size_t pin_size);

/* Adds the options of a job as job attributes (copies, sides, …) to ipp's job group. */
void ipp_options_add(ipp_t *ipp, const pp_print_options_t *opts);

/* The IPP finishings enum of a staple choice (3 = none). */
int ipp_options_finishing(pp_staple_t staple);

/* The IPP orientation-requested enum of an orientation (7 = none for auto). */
int ipp_options_orientation(pp_orientation_t orientation);

/* ---- ipp-format.c: document formats ---- */

/* The document-format-supported list. Static; *count_r entries. */
const char *const *ipp_formats(size_t *count_r);

/* True when format (a MIME type, compared case-insensitively) is in the supported list. */
bool ipp_format_is_supported(const char *format);


/* ---- ipp-printer-attrs.c ---- */

typedef struct {
	const char *name; /* PWG self-describing name */
	int x_dimension;  /* hundredths of millimetres */
	int y_dimension;
} ipp_media_t;

/* The media we advertise; the first is the default. Static; *count_r entries. */
const ipp_media_t *ipp_media_table(size_t *count_r);

/* The entry named name, or NULL. */
const ipp_media_t *ipp_media_find(const char *name);

/* The entry whose size is x by y (hundredths of mm, within 1 mm), or NULL. */
const ipp_media_t *ipp_media_find_size(int x_dimension, int y_dimension);

/* What the printer attributes report that changes while the server runs. */
typedef struct {
	int queued_jobs;                       /* queued-job-count: jobs not yet finished */
	int64_t now;                           /* Unix seconds: printer-current-time, up-time */
	char location[SETTINGS_VALUE_MAX];     /* printer-location (ipp.location); "" = not set */
	char geo_location[SETTINGS_VALUE_MAX]; /* ipp.geo_location; "" = unknown */
} ipp_printer_now_t;

/*
 * Reads them from core's database and clock. A figure the database cannot give is logged
 * and left at zero or "", so the printer still answers.
 */
void ipp_printer_now_read(pp_core_t *core, ipp_printer_now_t *now_r);

/*
 * Adds the printer's attributes to response's printer group, filtered by the request's
 * requested-attributes (all when absent). printer_uri is the service URI as the client
 * reached it (scheme and host); state what changes (ipp_printer_now_read()).
 */
void ipp_printer_attrs_add(const pp_ipp_service_t *svc, ipp_t *request, ipp_t *response,
			   const char *printer_uri, const ipp_printer_now_t *state);

/*
 * The same for a request that came through a personal printer URI (personal_uri; NULL is
 * ipp_printer_attrs_add()): it is listed first in printer-uri-supported (authentication
 * "none") so a client set up with it keeps using it.
 */
void ipp_printer_attrs_add_personal(const pp_ipp_service_t *svc, ipp_t *request,
				    ipp_t *response, const char *printer_uri,
				    const char *personal_uri, const ipp_printer_now_t *state);

/*
 * Builds the printer-icons URI of size px (48, 128 or 512) for printer_uri's host and port:
 * https for ipps, http for ipp, path /icons/printer-<px>.png. Returns false when printer_uri
 * has no host or out is too small.
 */
bool ipp_printer_icon_uri(const char *printer_uri, int px, char *out, size_t out_size);

/* Derives the stable printer-uuid ("urn:uuid:…") from core's keys into out[IPP_UUID_MAX]. */
void ipp_printer_uuid(const pp_core_t *core, char out[IPP_UUID_MAX]);

/* ---- ipp-auth.c: who is printing ---- */

typedef enum {
	IPP_AUTH_NONE = 0, /* no credentials (yet): Get-Printer-Attributes only, or challenge */
	IPP_AUTH_OK,       /* auth->user is the enabled user this request acts for */
	IPP_AUTH_DENIED,   /* wrong, malformed, or locked out: answer 401 with the challenge */
	IPP_AUTH_ERROR,    /* the database could not answer: answer 503 + Retry-After */
	IPP_AUTH_BAD_URI,  /* a personal printer URI whose token is unknown or revoked: HTTP 404 */
	IPP_AUTH_NEED_TLS, /* credentials or a token sent over plain HTTP: client-error-forbidden */
} ipp_auth_result_t;

/* How the user was established. */
typedef enum {
	IPP_VIA_NONE = 0,
	IPP_VIA_BASIC,           /* Authorization: Basic email:code */
	IPP_VIA_PRINTER_TOKEN,   /* /ipp/print/u/<ppp_ token> */
	IPP_VIA_FORWARDER,       /* Authorization: Bearer <ppf_ token>; user from requesting-user-name */
	IPP_VIA_TRUSTED_NETWORK, /* no credentials from an ipp.trusted_networks address; likewise */
} ipp_auth_via_t;

#define IPP_AUTH_LABEL_MAX 64

typedef struct {
	ipp_auth_result_t result;
	ipp_auth_via_t via;
	pp_user_t user;                       /* with result IPP_AUTH_OK */
	char forwarder[IPP_AUTH_LABEL_MAX];   /* IPP_VIA_FORWARDER: its label, for the log */
	int64_t retry_after;                  /* IPP_AUTH_DENIED while locked out: seconds */
} ipp_auth_t;

/*
 * Splits an Authorization header value "Basic base64(email:code)" into email[USERS_EMAIL_MAX]
 * and code[code_size]. Returns false for another scheme or a malformed value. The caller
 * wipes code after use.
 */
bool ipp_auth_parse_basic(const char *header, char email[USERS_EMAIL_MAX], char *code,
			  size_t code_size);

/*
 * Step 1, when the request's headers are in: the personal printer token in the path (a
 * request under IPP_SERVICE_USER_PATH), else Authorization Basic (email + code; throttled by
 * source address and account: a locked key is denied without checking the code, every
 * failure counts on both keys, success resets the account key) or Bearer (a forwarder
 * token). Fills *auth_r; returns auth_r->result.
 */
ipp_auth_result_t ipp_auth_check(pp_core_t *core, pp_http_request_t *req, ipp_auth_t *auth_r);

/*
 * Step 2, once the operation attributes are parsed: for a forwarder, or for a request without
 * credentials from an address in the setting ipp.trusted_networks, maps requesting-user-name
 * through the setting ipp.user_map to a user's email address and applies the sender policy
 * (an unknown user may be created or refused as users.unknown_sender_policy says). Other
 * requests are left as they are. Returns auth->result.
 */
ipp_auth_result_t ipp_auth_resolve(pp_core_t *core, pp_http_request_t *req, ipp_t *request,
				   ipp_auth_t *auth);

/* ---- ipp-job-ops.c ---- */

/* What a job operation needs besides the request and response. */
typedef struct {
	const pp_ipp_service_t *svc;
	ipp_t *request;
	ipp_t *response;
	const pp_user_t *user; /* authenticated (a forwarder's: the mapped user; it acts for
				  that user only) */
	ipp_auth_via_t via;    /* how the user was established (for the log) */
	const char *printer_uri;
	/* Create-Job: the parsed job template, its status, and the job-password (NULL: none). */
	const pp_print_options_t *opts;
	ipp_status_t opts_status;
	const char *pin;
} ipp_op_ctx_t;

/* Get-Job-Attributes, Get-Jobs, Cancel-Job, Cancel-My-Jobs, Close-Job: fill ctx->response. */
void ipp_op_get_job_attributes(ipp_op_ctx_t *ctx);
void ipp_op_get_jobs(ipp_op_ctx_t *ctx);
void ipp_op_cancel_job(ipp_op_ctx_t *ctx);
void ipp_op_cancel_my_jobs(ipp_op_ctx_t *ctx);
void ipp_op_close_job(ipp_op_ctx_t *ctx);

/*
 * Create-Job: a job in state incoming for ctx->user with ctx->opts and ctx->pin that waits
 * IPP_MULTIPLE_OPERATION_TIMEOUT seconds for its document (Send-Document), then expires.
 */
void ipp_op_create_job(ipp_op_ctx_t *ctx);

/*
 * Reads the caller's job named by the request (job-id, or the number ending job-uri) into
 * *job_r. Another user's job is "not found". Returns true, or false after setting the
 * response's status (bad-request, not-found, service-unavailable).
 */
bool ipp_job_load(ipp_op_ctx_t *ctx, pp_job_t *job_r);

/*
 * Send-Document's checks before any byte is kept: job is the caller's, incoming, and has no
 * document yet. Returns IPP_STATUS_OK or the status to answer with (*message_r static).
 */
ipp_status_t ipp_job_send_document_check(const pp_job_t *job, bool has_document,
					 const char **message_r);

/* The IPP status for a result of intake_attach_spooled()/intake_close_incoming() (!= JOB_OK). */
ipp_status_t ipp_job_intake_status(int rc, const char **message_r);

/* Identify-Printer: there is nothing to flash or sound; the request is logged for the admin. */
void ipp_op_identify_printer(ipp_op_ctx_t *ctx);

/*
 * Adds the attributes of job job_id, just committed in state, to the answer of Print-Job,
 * Create-Job, Send-Document or Close-Job: job-id, job-uri, job-state, job-state-reasons,
 * job-state-message. The state is the one the operation committed (the job is not read
 * back: a converter may already have moved it on, which Get-Job-Attributes then shows).
 */
void ipp_job_add_created(ipp_op_ctx_t *ctx, int64_t job_id, pp_job_state_t state);

/* Maps a stored state (with its reason) to job-state and job-state-reasons. */
ipp_jstate_t ipp_job_state(pp_job_state_t state);
const char *ipp_job_state_reason(pp_job_state_t state);

/* A sentence for job-state-message of a job in state (where it is, what happens next). */
const char *ipp_job_state_message(pp_job_state_t state);

/*
 * Sets the response's status code and status-message (NULL or "": none). The message goes
 * into the operation group, ahead of any unsupported or job attributes already added, so the
 * groups stay in the order readers require.
 */
void ipp_response_status(ipp_t *response, ipp_status_t status, const char *message);

/* How a user was established, as a word for the log ("basic", "printer-uri", …). Static. */
const char *ipp_via_name(ipp_auth_via_t via);

#endif
