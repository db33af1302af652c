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
 * Capabilities, groups and panel tokens come with a later extension of this module.
 */
#ifndef PP_PRINTERS_H
#define PP_PRINTERS_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRINTERS_NAME_MAX 128 /* 127 characters + NUL; also the alias */
#define PRINTERS_TEXT_MAX 256 /* location, description */
#define PRINTERS_URI_MAX 1024
#define PRINTERS_LIST_MAX 10000

/* Results besides 0 and -1. */
#define PRINTERS_DUPLICATE (-2) /* name or alias already used (either one) */
#define PRINTERS_NOT_FOUND (-4)

typedef struct {
	int64_t id;
	char name[PRINTERS_NAME_MAX];
	char alias[PRINTERS_NAME_MAX];
	char location[PRINTERS_TEXT_MAX];
	char description[PRINTERS_TEXT_MAX];
	char device_uri[PRINTERS_URI_MAX];
	bool is_enabled;
	int64_t created_at, updated_at;
} pp_printer_t;

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
 * Adds a printer from *printer (id and times ignored; alias "" means the lower-cased name).
 * Validates every field. Returns 0 with *id_r set (may be NULL), PRINTERS_DUPLICATE when the
 * name or alias is taken by any printer's name or alias (case-insensitive), or -1.
 */
int printers_add(pp_core_t *core, const char *actor, const pp_printer_t *printer, int64_t *id_r,
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

#endif
