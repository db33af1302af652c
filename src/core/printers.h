/*
 * printers.h - the registry of output devices an administrator sets up.
 *
 * A printer has a name (the IPP queue name: 1..127 characters of letters, digits, '-', '_'
 * and '.', starting with a letter or digit), an alias (the short word people type in a mail
 * subject or on the panel; same character set, stored lower-case so that it is unique
 * regardless of case; defaults to the lower-cased name), a location and description, and a
 * device URI with scheme ipp, ipps, socket or lpd. Names and aliases share one namespace:
 * printers_find() resolves either. Every change is audited with the caller's actor.
 *
 * Besides, a printer has capabilities (printer-caps.h; detected, editable), an output format
 * ("auto" or an output name: pdf, pwg, urf, ps, pcl5, pcl6), a failover group (a word in the
 * name character set, stored lower-case; "" = none) and at most one panel token: the secret
 * a panel app at the printer presents ("ppk_<64 hex>"), shown once when issued and stored
 * only as a keyed hash (core->token_key), so lookup by it takes the same time for any token.
 *
 * The registry moves in bulk as CSV or JSON (printers-io.c): export writes every field but
 * secrets; import adds or updates by name in one transaction, all or nothing.
 */
#ifndef PP_PRINTERS_H
#define PP_PRINTERS_H

#include "core/core.h"
#include "core/printer-caps.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRINTERS_NAME_MAX 128 /* 127 characters + NUL; also the alias */
#define PRINTERS_TEXT_MAX 256 /* location, description */
#define PRINTERS_URI_MAX 1024
#define PRINTERS_LIST_MAX 10000
#define PRINTERS_FORMAT_MAX 8 /* "auto", "pdf", … "pcl6" */
#define PRINTERS_PANEL_TOKEN_MAX 69 /* "ppk_" + 64 hex + NUL */
#define PRINTERS_TLS_PIN_MAX 65 /* SHA-256 as 64 lower-case hex digits + NUL */

/* Results besides 0 and -1. */
#define PRINTERS_DUPLICATE (-2) /* name or alias already used (either one) */
#define PRINTERS_INVALID (-3) /* import: a row is wrong; the report says which and why */
#define PRINTERS_NOT_FOUND (-4)

typedef struct {
	int64_t id;
	char name[PRINTERS_NAME_MAX];
	char alias[PRINTERS_NAME_MAX];
	char location[PRINTERS_TEXT_MAX];
	char description[PRINTERS_TEXT_MAX];
	char device_uri[PRINTERS_URI_MAX];
	bool is_enabled;
	pp_printer_caps_t caps;
	char output_format[PRINTERS_FORMAT_MAX]; /* "auto" or an output name; "" reads as auto */
	char group_name[PRINTERS_NAME_MAX];      /* failover group, lower-case; "" = none */
	bool has_panel_token;                    /* read only: a panel token is set */
	/* ipps: the SHA-256 of the one certificate accepted (lower-case hex), for printers
	 * whose certificate no CA vouches for; "" = the usual CA verification. */
	char tls_pin[PRINTERS_TLS_PIN_MAX];
	int64_t created_at, updated_at;
} pp_printer_t;

/*
 * A printer as add expects it when only some fields are known: enabled, default
 * capabilities, format auto, no group; every text "".
 */
void printers_init(pp_printer_t *printer);

/* True when name is 1..127 characters of [A-Za-z0-9._-] starting with a letter or digit. */
bool printers_name_is_valid(const char *name);

/*
 * Checks a device URI: scheme ipp, ipps, socket or lpd, then "://", a host (name, IPv4, or
 * [IPv6]), an optional port 1..65535, an optional path; no user:password@ (credentials do
 * not belong in a URI that is shown and logged), no spaces or control characters.
 * Returns 0 or -1 with error saying what is wrong.
 */
int printers_uri_validate(const char *uri, char *error, size_t error_size);

/*
 * Checks output_format: "auto" or an output name. Returns 0 or -1 with error saying what is
 * allowed.
 */
int printers_format_validate(const char *format, char *error, size_t error_size);

/*
 * Adds a printer from *printer (id, times and has_panel_token ignored; alias "" means the
 * lower-cased name; output_format "" means auto; the group is stored lower-case).
 * Validates every field; error starts with the field at fault ("alias: …"). Returns 0 with
 * *id_r set (may be NULL), PRINTERS_DUPLICATE when the name or alias is taken by any
 * printer's name or alias (case-insensitive), or -1.
 */
int printers_add(pp_core_t *core, const char *actor, const pp_printer_t *printer, int64_t *id_r,
                 char *error, size_t error_size);

/*
 * Replaces every field of printer id with *printer (a rename included; id, times and
 * has_panel_token ignored; defaults as for add), audited with the names of the fields that
 * changed. Returns 0, PRINTERS_NOT_FOUND, PRINTERS_DUPLICATE or -1 (error names the field).
 */
int printers_update(pp_core_t *core, const char *actor, int64_t id, const pp_printer_t *printer,
                    char *error, size_t error_size);

/* Reads printer id. Returns 0, PRINTERS_NOT_FOUND or -1. */
int printers_get(pp_core_t *core, int64_t id, pp_printer_t *printer_r, char *error,
                 size_t error_size);

/*
 * Finds the printer whose name (exactly) or alias (case-insensitively) is word.
 * Returns 0, PRINTERS_NOT_FOUND or -1.
 */
int printers_find(pp_core_t *core, const char *word, pp_printer_t *printer_r, char *error,
                  size_t error_size);

/*
 * Lists every printer ordered by lower-cased name (at most PRINTERS_LIST_MAX). *printers_r is new
 * (free with printers_list_free()), *count_r rows. Returns 0 or -1.
 */
int printers_list(pp_core_t *core, pp_printer_t **printers_r, size_t *count_r, char *error,
                  size_t error_size);

/*
 * Lists the printers of failover group (case-insensitive), enabled or not, ordered by
 * lower-cased name; delivery tries the enabled ones. "" lists nothing. As printers_list().
 */
int printers_list_group(pp_core_t *core, const char *group, pp_printer_t **printers_r,
                        size_t *count_r, char *error, size_t error_size);

/* Frees a list from printers_list() and sets *printers to NULL. NULL is a no-op. */
void printers_list_free(pp_printer_t **printers);

/* Enables or disables printer id (audited). Returns 0, PRINTERS_NOT_FOUND or -1. */
int printers_set_enabled(pp_core_t *core, const char *actor, int64_t id, bool is_enabled,
                         char *error, size_t error_size);

/*
 * Removes printer id (audited). Refused while a job is releasing or printing on it; other
 * jobs keep their rows with no printer. Returns 0, PRINTERS_NOT_FOUND or -1.
 */
int printers_remove(pp_core_t *core, const char *actor, int64_t id, char *error, size_t error_size);

/*
 * Issues a new panel token for printer id into token_r[PRINTERS_PANEL_TOKEN_MAX], replacing
 * any earlier one (which stops working at once). Audited without the token; the caller shows
 * it once and wipes its copy. Returns 0, PRINTERS_NOT_FOUND or -1.
 */
int printers_panel_token_issue(pp_core_t *core, const char *actor, int64_t id,
                               char token_r[PRINTERS_PANEL_TOKEN_MAX], char *error,
                               size_t error_size);

/*
 * Finds the printer whose panel token is token, by its keyed hash (the time taken does not
 * depend on how much of it matches). Returns 0, PRINTERS_NOT_FOUND for an unknown or
 * malformed token, or -1.
 */
int printers_find_by_panel_token(pp_core_t *core, const char *token, pp_printer_t *printer_r,
                                 char *error, size_t error_size);

/*
 * Revokes printer id's panel token (audited); *revoked_r (may be NULL) says whether it had
 * one. Returns 0, PRINTERS_NOT_FOUND or -1.
 */
int printers_panel_token_revoke(pp_core_t *core, const char *actor, int64_t id, bool *revoked_r,
                                char *error, size_t error_size);

/*
 * Reads a certificate fingerprint as an admin writes it: 64 hex digits, in any case, plain or
 * in pairs separated by ':' or spaces (as openssl and printers' web pages show it), into
 * pin_r as 64 lower-case hex digits. Returns false (pin_r "") when it is not one.
 */
bool printers_tls_pin_parse(const char *text, char pin_r[PRINTERS_TLS_PIN_MAX]);

/*
 * Sets printer id's certificate pin (a printers_tls_pin_parse() form; "" removes it, so the
 * usual CA verification applies again), audited as printer.trust / printer.untrust with the
 * fingerprint. Returns 0, PRINTERS_NOT_FOUND or -1 (a bad pin: error says what to give).
 */
int printers_set_tls_pin(pp_core_t *core, const char *actor, int64_t id, const char *pin,
                         char *error, size_t error_size);

/* Bulk export and import (printers-io.c). */
typedef enum { PP_PRINTERS_CSV = 0, PP_PRINTERS_JSON } pp_printers_format_t;

/* What import did with one row, or would do (dry run). */
typedef enum {
	PP_PRINTERS_ROW_ADDED = 0,
	PP_PRINTERS_ROW_UPDATED,
	PP_PRINTERS_ROW_UNCHANGED,
	PP_PRINTERS_ROW_INVALID,
} pp_printers_row_action_t;

typedef struct {
	size_t line; /* CSV: the line the record starts on (the header is line 1);
	                JSON: the position in the array, from 1 */
	char name[PRINTERS_NAME_MAX]; /* as given, cut to fit; "" when missing */
	pp_printers_row_action_t action;
	char field[16];     /* INVALID: the column at fault ("" for the row as a whole) */
	char message[320];  /* INVALID: what is wrong and what is allowed; else "" */
} pp_printers_import_row_t;

typedef struct {
	pp_printers_import_row_t *rows; /* in input order */
	size_t n_rows;
	size_t n_added, n_updated, n_unchanged, n_invalid;
	bool is_committed; /* the changes were stored (false for a dry run or any invalid row) */
} pp_printers_import_report_t;

/* "added", "updated", "unchanged", "invalid". Static. */
const char *printers_row_action_name(pp_printers_row_action_t action);

/*
 * Writes the whole registry, ordered by name, as CSV (a header row, then one row per printer;
 * RFC 4180 quoting, capabilities as compact JSON) or as a JSON array of objects with the
 * same keys: name, alias, location, description, device_uri, enabled, output_format, group,
 * capabilities, tls_pin (a certificate fingerprint: public, not a secret). No panel token
 * or hash. *text_r is new (free()). Returns 0 or -1.
 */
int printers_export(pp_core_t *core, pp_printers_format_t format, char **text_r, char *error,
                    size_t error_size);
int printers_export_csv(pp_core_t *core, char **text_r, char *error, size_t error_size);
int printers_export_json(pp_core_t *core, char **text_r, char *error, size_t error_size);

/*
 * Imports text[len] (CSV with a header row naming the columns, which must include name, in
 * any order; or a JSON array of objects) as one transaction: a row whose name matches a
 * printer (case-insensitively) updates the fields given, any other row adds a printer (then
 * device_uri is required). An empty cell keeps device_uri, enabled and capabilities as they
 * are (new printers: enabled, default capabilities); other empty cells set the field empty
 * (alias: the lower-cased name; output_format: auto).
 * Every row is checked and reported; if any is invalid nothing is stored. dry_run checks and
 * reports the same but stores nothing. Each change is audited with actor.
 * *report_r is new (free with printers_import_report_free()) whenever the result is 0 or
 * PRINTERS_INVALID. Returns 0, PRINTERS_INVALID (see the report), or -1 (input unreadable as
 * a whole, or storage; error says why; *report_r NULL).
 */
int printers_import(pp_core_t *core, const char *actor, const char *text, size_t len,
                    pp_printers_format_t format, bool dry_run,
                    pp_printers_import_report_t **report_r, char *error, size_t error_size);

/* Frees a report and sets *report to NULL. NULL is a no-op. */
void printers_import_report_free(pp_printers_import_report_t **report);

#endif
