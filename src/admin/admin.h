/*
 * admin.h - the admin API under /api/v1/admin/: the one public header of src/admin.
 *
 * The admin console (web/admin/) and scripts drive the whole installation through it: sign-in
 * with an admin account (argon2id, admins.h) into a session cookie "pp_admin" (a "pps_"
 * token, tokens.h) with a CSRF token every write echoes, the dashboard, settings, printers,
 * users, jobs, reports, the accounting export and the audit log. docs/admin-api.md is the
 * reference. Two roles: "admin" (everything) and "helpdesk" (read only).
 *
 * The parts that are not HTTP — roles, the CSRF rule, session lifetimes, CSV cells, report
 * grouping and the QR code of a panel URL — are in the library pp_admin_core, which the
 * command line (`pullprint admins`, `pullprint reports`) and the unit tests link too: one set
 * of functions, three faces.
 */
#ifndef PP_ADMIN_H
#define PP_ADMIN_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- roles (admin-roles.c) ------------------------------------------------------------ */

typedef enum {
	PP_ADMIN_ROLE_ADMIN = 0, /* everything */
	PP_ADMIN_ROLE_HELPDESK,  /* read only: every write is refused */
} pp_admin_role_t;

#define ADMIN_ROLE_NAME_MAX 16

/* "admin" / "helpdesk". Static. */
const char *admin_role_name(pp_admin_role_t role);
/* Parses a role word. Returns false for anything else. */
bool admin_role_parse(const char *name, pp_admin_role_t *role_r);
/* Whether role may make a request with method (GET and HEAD read; anything else writes). */
bool admin_role_may(pp_admin_role_t role, const char *method);

/* An admin account as the console lists it. */
typedef struct {
	int64_t id;
	char name[64];
	pp_admin_role_t role;
	int64_t created_at;
} pp_admin_account_t;

/*
 * Reads the role of admin id (an unknown stored word reads as helpdesk: least rights).
 * *found_r says whether the admin exists. Returns 0 or -1.
 */
int admin_role_get(pp_core_t *core, int64_t admin_id, pp_admin_role_t *role_r, bool *found_r,
		   char *error, size_t error_size);
/*
 * Sets the role of the admin named name, audited as admin.role by actor. Refuses to make the
 * last full admin a help desk account. Returns 0, 1 when there is no such admin, or -1.
 */
int admin_role_set(pp_core_t *core, const char *actor, const char *name, pp_admin_role_t role,
		   char *error, size_t error_size);
/* Reads admin id with its role. *found_r says whether it exists. Returns 0 or -1. */
int admin_account_get(pp_core_t *core, int64_t admin_id, pp_admin_account_t *account_r,
		      bool *found_r, char *error, size_t error_size);
/*
 * Lists every admin account by name with its role. *accounts_r new (free()), *count_r rows.
 * Returns 0 or -1.
 */
int admin_accounts_list(pp_core_t *core, pp_admin_account_t **accounts_r, size_t *count_r,
			char *error, size_t error_size);
/*
 * Adds an admin with role (admin_add()'s rules for name and password, then the role), both
 * audited with actor. Returns 0, DB_DUPLICATE when the name is taken, or -1 (error says what
 * is wrong with the name or password).
 */
int admin_account_add(pp_core_t *core, const char *actor, const char *name, const char *password,
		      pp_admin_role_t role, char *error, size_t error_size);
/*
 * Deletes the admin named name (admin_delete()): never the last one, never self_name (the
 * caller; NULL = no such rule), never the last full admin. Returns 0, 1 when there is no such
 * admin, 2 when refused (error says why), or -1.
 */
int admin_account_delete(pp_core_t *core, const char *actor, const char *self_name,
			 const char *name, char *error, size_t error_size);

/* ---- sessions (admin-csrf.c) ------------------------------------------------------------ */

#define ADMIN_CSRF_TEXT_MAX (4 + 64 + 1) /* "ppc_" + 64 hex + NUL */
#define ADMIN_IDLE_DEFAULT_S 900         /* setting admin.idle_timeout_s */

/*
 * The CSRF token of a session: "ppc_" + the keyed hash (core->token_key) of a purpose label
 * and the session token, so it can be handed out again (GET session) without being stored.
 * Writes out[ADMIN_CSRF_TEXT_MAX].
 */
void admin_csrf_derive(const pp_core_t *core, const char *session_token,
		       char out[ADMIN_CSRF_TEXT_MAX]);
/* Whether given is session_token's CSRF token; compared in constant time. NULL is false. */
bool admin_csrf_check(const pp_core_t *core, const char *session_token, const char *given);

/* ---- CSV (admin-csv.c) ------------------------------------------------------------------- */

typedef struct pp_admin_buf pp_admin_buf_t;

/* A growable text buffer refusing to grow past cap bytes. New; free with admin_buf_free(). */
pp_admin_buf_t *admin_buf_new(size_t cap);
void admin_buf_free(pp_admin_buf_t **buf);
/* Appends len bytes; returns false (buffer unchanged) past the cap or out of memory. */
bool admin_buf_append(pp_admin_buf_t *buf, const char *data, size_t len);
/* The text so far (NUL-terminated; borrowed) and its length. */
const char *admin_buf_text(const pp_admin_buf_t *buf, size_t *len_r);
/*
 * Appends one CSV cell (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes
 * doubled; a text starting with = + - @ TAB or CR gets a leading ' first, so a spreadsheet
 * never runs it as a formula. is_last ends the row with CRLF, else a comma follows.
 */
bool admin_csv_cell(pp_admin_buf_t *buf, const char *text, bool is_last);
/* Appends an integer cell. */
bool admin_csv_int(pp_admin_buf_t *buf, int64_t value, bool is_last);

/* ---- reports (admin-reports.c) ----------------------------------------------------------- */

typedef enum {
	PP_REPORT_BY_USER = 0,
	PP_REPORT_BY_DEPARTMENT,
	PP_REPORT_BY_PRINTER,
	PP_REPORT_BY_DAY,
	PP_REPORT_BY_WEEK,
	PP_REPORT_BY_MONTH,
	PP_REPORT_BY_SOURCE,
} pp_report_by_t;

#define REPORT_KEY_MAX 256
#define REPORT_ROWS_MAX 100000 /* groups one report holds at most */

typedef struct {
	int64_t jobs, pages, mono_pages, colour_pages, simplex_pages, duplex_pages;
} pp_report_counts_t;

typedef struct {
	char key[REPORT_KEY_MAX];
	pp_report_counts_t counts;
} pp_report_row_t;

typedef struct {
	pp_report_by_t by;
	pp_report_row_t *rows; /* ordered by key */
	size_t n_rows;
	pp_report_counts_t totals;
} pp_report_t;

/* "user", "department", … Static. */
const char *report_by_name(pp_report_by_t by);
bool report_by_parse(const char *name, pp_report_by_t *by_r);
/*
 * The group key of one accounting record for by: the user, department, printer or source as
 * stored ("" reads as "(none)"), or the UTC day "2024-03-15", ISO week "2024-W11" or month
 * "2024-03" of finished_at. Writes key_r[REPORT_KEY_MAX].
 */
void report_key(pp_report_by_t by, const char *user, const char *department,
		const char *printer, const char *source, int64_t finished_at,
		char key_r[REPORT_KEY_MAX]);
/* Adds one record's counts to c: sides "two-sided-…" counts as duplex, anything else simplex. */
void report_count(pp_report_counts_t *c, int64_t mono_pages, int64_t colour_pages,
		  const char *sides);
/*
 * Groups the accounting records with since <= finished_at < until (0 = open) by by, with
 * pseudonymised users when is_pseudonymised (accounting_pseudonym()). *report_r is new (free
 * with report_free()). Returns 0 or -1.
 */
int report_build(pp_core_t *core, pp_report_by_t by, int64_t since, int64_t until,
		 bool is_pseudonymised, pp_report_t **report_r, char *error, size_t error_size);
void report_free(pp_report_t **report);
/*
 * Writes report as CSV (header key,jobs,pages,mono_pages,colour_pages,simplex_pages,
 * duplex_pages; the key column is named after by) into buf. Returns false past its cap.
 */
bool report_csv(const pp_report_t *report, pp_admin_buf_t *buf);

/* ---- QR code (admin-qr.c) ----------------------------------------------------------------- */

/*
 * Draws the QR code of text (libqrencode, error correction M) as an SVG document of <rect>s
 * (no script, no style attribute), 4 modules of quiet zone. *svg_r is new (free()).
 * Returns 0 or -1 (text too long for a QR code, out of memory).
 */
int admin_qr_svg(const char *text, char **svg_r, char *error, size_t error_size);

/* ---- the HTTP face (pp_admin) ------------------------------------------------------------ */

typedef struct pp_http_server pp_http_server_t;
typedef struct pp_admin_api pp_admin_api_t;

/* What the admin API needs from the server. Pointers are borrowed and must outlive it. */
typedef struct {
	pp_core_t *core;
	/* The address people reach the server at ("https://host:port/"), for panel URLs; read
	 * at each request (the server fills it once its listener is bound). */
	const char *public_url;
	const char *state_dir; /* where an uploaded TLS certificate is written (state_dir/tls) */
} pp_admin_api_config_t;

#define ADMIN_API_PREFIX "/api/v1/admin/"

/*
 * Registers the admin API's route (everything below ADMIN_API_PREFIX) on http. Call before
 * http_server_start(). Returns 0 with *admin_r (new; free with admin_api_free() after the
 * HTTP server is freed), or -1 with error.
 */
int admin_api_start(pp_http_server_t *http, const pp_admin_api_config_t *cfg,
		    pp_admin_api_t **admin_r, char *error, size_t error_size);
/* Frees. NULL-safe; sets *admin NULL. */
void admin_api_free(pp_admin_api_t **admin);

/* One operation of the admin API, as the OpenAPI document lists it. */
typedef struct {
	const char *method;
	const char *pattern; /* "/api/v1/admin/printers/{id}" */
} pp_admin_operation_t;

/* The index-th operation (0, 1, …) into *op_r (static strings). False past the last one. */
bool admin_api_operation(size_t index, pp_admin_operation_t *op_r);

#endif
