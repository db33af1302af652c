/*
 * deliver.h - sending print-ready data to one printer and following it until the printer has
 * it: IPP/IPPS (libcups), AppSocket/RAW (port 9100, optionally in a PJL envelope) and LPD
 * (RFC 1179, with a control file).
 *
 * A delivery reads a file the caller has decrypted into a private place (or a stream the
 * caller provides), connects with a timeout, writes with a per-write timeout, and reports
 * one of: done (the printer accepted it; for IPP: the printer-side job reached completed),
 * a transient fault worth retrying (refused, offline, busy, timeout, printer-side job
 * aborted for a reason that may pass) or a permanent one (the printer refused the format,
 * a bad URI). It never blocks longer than its timeouts, so one slow printer never holds
 * up another (each delivery runs on its own thread; the caller schedules them).
 */
#ifndef PP_DELIVER_H
#define PP_DELIVER_H

#include "core/options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DELIVER_MESSAGE_MAX 512

typedef enum {
	DELIVER_DONE = 0,
	DELIVER_RETRY,     /* transient: try again later or on another printer of the group */
	DELIVER_PERMANENT, /* retrying will not help */
	DELIVER_CANCELED,  /* the caller's cancel flag was set */
} pp_deliver_outcome_t;

/* Supplies the data: up to size bytes into buf. Returns the count, 0 at the end, -1 on error. */
typedef ssize_t pp_deliver_read_fn(void *ctx, void *buf, size_t size);

typedef struct {
	const char *device_uri;   /* ipp://, ipps://, socket://host[:port], lpd://host/queue */
	const char *content_type; /* MIME type of the data (document-format for IPP) */
	pp_deliver_read_fn *read; /* the data, read once from start to end */
	void *read_ctx;
	int64_t size_bytes;       /* when known (LPD needs it: else the data is counted first
				     into a temp file); -1 = unknown */
	const char *job_name;     /* job-name / PJL JOB NAME / LPD N line */
	const char *user_name;    /* requesting-user-name / PJL USERNAME / LPD P line */
	const char *job_uuid;     /* for logs and IPP job-uuid-like correlation */
	/* Options the printer applies (the converter already applied the others): copies,
	 * sides, print-color-mode, media, finishings (staple), number-up only when
	 * pass_layout_options (PDF sent as is to an IPP printer that does the layout). */
	const pp_print_options_t *options;
	bool pass_layout_options;
	bool use_pjl;             /* RAW: wrap in a PJL envelope (UEL, @PJL JOB, SET COPIES,
				     DUPLEX, BINDING, RENDERMODE, STAPLE …, ENTER LANGUAGE) */
	const char *pjl_language; /* "PDF", "POSTSCRIPT", "PCL", "PCLXL" for ENTER LANGUAGE */
	unsigned connect_timeout_s; /* 0 = 10 */
	unsigned io_timeout_s;      /* per write or wait for an answer; 0 = 60 */
	unsigned follow_timeout_s;  /* IPP: how long to follow the printer-side job; 0 = 600 */
	const volatile int *cancel; /* non-NULL: checked between writes; set to 1 to cancel */
	const char *ca_file;      /* IPPS: trust anchors; NULL = system store; self-signed printer
				     certificates are accepted only when accept_self_signed */
	bool accept_self_signed;
	const char *tls_pin;      /* IPPS: SHA-256 (64 lower-case hex) of the one certificate
				     accepted (printers.tls_pin); NULL or "" = CA verification */
} pp_deliver_request_t;

typedef struct {
	pp_deliver_outcome_t outcome;
	char message[DELIVER_MESSAGE_MAX]; /* what happened, for the user and the admin */
	int printer_job_id;  /* IPP: the printer's job-id; 0 otherwise */
	int64_t bytes_sent;
	double seconds;
} pp_deliver_result_t;

/*
 * Delivers req to its printer. Fills *result_r. Returns 0 when an outcome was reached (any of
 * them), -1 only for a bad request (error says why; nothing was sent).
 */
int deliver_send(const pp_deliver_request_t *req, pp_deliver_result_t *result_r, char *error,
		 size_t error_size);

/* "done", "retry", "permanent", "canceled". Static. */
const char *deliver_outcome_name(pp_deliver_outcome_t outcome);

#endif
