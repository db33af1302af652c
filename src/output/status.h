/*
 * status.h - the printer status cache: what each registered printer last said about its
 * state (idle, processing, stopped, offline), its reasons (IPP printer-state-reasons
 * keywords; SNMP error bits mapped to the same words), its supplies and its trays, with the
 * time it was asked and the error when it did not answer.
 *
 * A refresh asks the printer (IPP Get-Printer-Attributes for ipp/ipps, SNMP for socket and
 * lpd, SNMP also when IPP fails) and stores the answer in the table printer_status; readers
 * (the command line, the API, the release step) read the cache. The server refreshes every
 * printer periodically (sweeper.c) with a bound on concurrency, and the release step asks
 * status_check_before_release() for a warning. Each printer's SNMP community and port are
 * kept in the same row (the community is a credential: never logged or shown).
 */
#ifndef PP_STATUS_H
#define PP_STATUS_H

#include "core/core.h"
#include "core/printers.h"
#include "output/probe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_NOT_FOUND (-4)    /* never checked */
#define STATUS_ERROR_MAX 256
#define STATUS_COMMUNITY_MAX 64
#define STATUS_CONCURRENCY_DEFAULT 8
/* The release step refreshes a cached status older than this before it warns. */
#define STATUS_RELEASE_MAX_AGE_S 60

/* One printer's cached status. */
typedef struct {
	int64_t printer_id;
	pp_printer_status_t status;
	int64_t checked_at;             /* Unix seconds; 0 = never */
	char error[STATUS_ERROR_MAX];   /* why the last check failed, "" when it answered */
	unsigned snmp_port;             /* 161 unless set */
} pp_status_entry_t;

/*
 * Reads printer_id's cached status. Returns 0, STATUS_NOT_FOUND (never checked; *entry_r
 * then holds state unknown and the default SNMP port) or -1.
 */
int status_get(pp_core_t *core, int64_t printer_id, pp_status_entry_t *entry_r, char *error,
	       size_t error_size);

/*
 * Stores status (and check_error, "" or NULL when the printer answered) as printer_id's
 * cached status at core's time. Returns 0 or -1.
 */
int status_store(pp_core_t *core, int64_t printer_id, const pp_printer_status_t *status,
		 const char *check_error, char *error, size_t error_size);

/*
 * Sets the SNMP community (NULL keeps it; 1..63 printable characters) and port (0 keeps it)
 * used for printer_id. Returns 0 or -1.
 */
int status_set_snmp(pp_core_t *core, int64_t printer_id, const char *community, unsigned port,
		    char *error, size_t error_size);

/*
 * Asks printer now (blocks up to a few seconds: the probe timeouts), stores the answer and
 * copies it into *entry_r (may be NULL). A printer that does not answer is stored as offline
 * with the reason in entry.error; that is a result, not a failure. Returns 0, or -1 when the
 * database fails.
 */
int status_refresh(pp_core_t *core, const pp_printer_t *printer, pp_status_entry_t *entry_r,
		   char *error, size_t error_size);

/*
 * Refreshes every enabled printer, at most concurrency (0 = STATUS_CONCURRENCY_DEFAULT, at
 * most 32) at once; *refreshed_r (may be NULL) counts those stored. Returns 0, or -1 when
 * the printers cannot be listed or threads cannot start.
 */
int status_refresh_all(pp_core_t *core, unsigned concurrency, size_t *refreshed_r, char *error,
		       size_t error_size);

/*
 * What to tell the user before releasing to printer: "offline", "jammed", "out of paper",
 * "door open", "out of toner" or "stopped" (joined with ", " when several), from the cached
 * status, refreshed first when older than STATUS_RELEASE_MAX_AGE_S. Never fails the release:
 * a status that cannot be read gives no warning (and is logged). Returns true with
 * warning_r[warning_size] filled, false with it "".
 */
bool status_check_before_release(pp_core_t *core, const pp_printer_t *printer, char *warning_r,
				 size_t warning_size);

/*
 * The warning words for a status (as status_check_before_release()), without asking anyone.
 * Returns true when there is something to say.
 */
bool status_warning(const pp_printer_status_t *status, char *warning_r, size_t warning_size);

/* markers and trays as JSON arrays (compact). New text (free()); NULL on no memory. */
char *status_markers_to_json(const pp_printer_status_t *status);
char *status_trays_to_json(const pp_printer_status_t *status);

#endif
