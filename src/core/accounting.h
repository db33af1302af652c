/*
 * accounting.h - the record every printed job leaves, and its export.
 *
 * When a job that was printing ends (completed, failed for good, canceled), the state machine
 * writes one accounting row in the same transaction. The row keeps copies, not references
 * (user email and department, printer name and MAC address, options, pages, the name of the
 * server that sent it): it outlives the user, the job and the printer, until
 * accounting.retention_days (retention.h) removes it.
 *
 * Exports are CSV (RFC 4180, header row, CRLF; a text cell starting with = + - @ or a tab/CR
 * gets a leading ' so a spreadsheet never runs it as a formula) or JSON (one array of
 * objects). Times are UTC ISO 8601. With pseudonymisation the user column holds "u-" and 16
 * hex digits of a keyed hash of the email (core->pseudonym_key): the same user gets the same
 * pseudonym in every export, so counts per user stay right; titles are left empty, since
 * document names often name people.
 */
#ifndef PP_ACCOUNTING_H
#define PP_ACCOUNTING_H

#include "core/core.h"
#include "core/job-state.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ACCOUNTING_TEXT_MAX 256
#define ACCOUNTING_PSEUDONYM_LEN 18 /* "u-" + 16 hex */

typedef struct {
	int64_t id;
	char job_uuid[CRYPTO_ID_HEX_LEN + 1];
	char user_email[ACCOUNTING_TEXT_MAX];
	char department[ACCOUNTING_TEXT_MAX];
	char printer_name[ACCOUNTING_TEXT_MAX];
	char source[ACCOUNTING_TEXT_MAX];
	char title[ACCOUNTING_TEXT_MAX];
	char final_state[32];
	int64_t pages_mono;  /* all copies */
	int64_t pages_color; /* all copies */
	int64_t sheets;      /* all copies */
	int64_t copies;
	char sides[32];
	char media[64];
	int64_t number_up;
	int64_t size_bytes;
	int64_t submitted_at;
	int64_t finished_at;
	char printer_mac[32];  /* "aa:bb:cc:dd:ee:ff" from the printer's capabilities, or "" */
	char server_name[ACCOUNTING_TEXT_MAX]; /* host name of the server that wrote the row */
} pp_accounting_record_t;

/*
 * Writes the accounting row of job_id, which has just entered final_state at finished_at.
 * Pages come from the job row (pages per copy as printed, colour pages among them; unknown
 * counts as 0), multiplied by copies; a monochrome job counts every page as mono. Sheets
 * follow from pages, copies, sides and n-up (options_sheets()). The printer's MAC address
 * comes from its capabilities, the server name from gethostname(). The caller holds the
 * transaction (job_transition() does). Returns 0 or -1.
 */
int accounting_record_locked(pp_core_t *core, int64_t job_id, pp_job_state_t final_state,
                             int64_t finished_at, char *error, size_t error_size);

/* Reads the record of job_uuid. Returns 0, JOB_NOT_FOUND or -1. */
int accounting_get(pp_core_t *core, const char *job_uuid, pp_accounting_record_t *record_r,
                   char *error, size_t error_size);

/* "u-" + 16 hex digits of the keyed hash of email, into out[ACCOUNTING_PSEUDONYM_LEN + 1]. */
void accounting_pseudonym(const pp_core_t *core, const char *email,
                          char out[ACCOUNTING_PSEUDONYM_LEN + 1]);

typedef enum { PP_ACCOUNTING_CSV = 0, PP_ACCOUNTING_JSON } pp_accounting_format_t;

/* What to export. Zeroed: CSV, everything, real user emails. */
typedef struct {
	pp_accounting_format_t format;
	int64_t since; /* finished_at >= since; 0 = from the start */
	int64_t until; /* finished_at < until; 0 = no end */
	bool is_pseudonymised;
} pp_accounting_export_t;

/* Receives export output; returns 0, or -1 to stop the export (for example, disk full). */
typedef int pp_accounting_write_fn(void *ctx, const char *data, size_t len);

/*
 * Exports the records in range, oldest first (columns: job_uuid, user, department, printer,
 * source, title, final_state, pages_mono, pages_color, sheets, copies, sides, media,
 * number_up, size_bytes, submitted_at, finished_at, printer_mac, server_name), through write(ctx, …) in pieces. Rows are read
 * in bounded batches, so the export size is not limited by memory. Returns 0 or -1 (a write
 * that failed, or a database error).
 */
int accounting_export(pp_core_t *core, const pp_accounting_export_t *request,
                      pp_accounting_write_fn *write, void *ctx, char *error, size_t error_size);

/* accounting_export() into an open stream; a short write is an error. Returns 0 or -1. */
int accounting_export_file(pp_core_t *core, const pp_accounting_export_t *request, FILE *out,
                           char *error, size_t error_size);

#endif
