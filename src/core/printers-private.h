/*
 * printers-private.h - what printers.c shares with printers-io.c (bulk import and export):
 * the checked write of one printer inside a transaction the caller holds, so that an import
 * of many rows commits or rolls back as one. Not for other folders.
 */
#ifndef PP_PRINTERS_PRIVATE_H
#define PP_PRINTERS_PRIVATE_H

#include "core/printers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Checks *printer and stores it, inside the caller's transaction: a new printer when old is
 * NULL (*id_r, may be NULL, gets its id), else the changes from *old (the row as read in this
 * transaction). Audited with actor when anything changed; *changed_r (may be NULL) says
 * whether it did. Statements that could fail on a constraint are checked first, so a refusal
 * leaves the transaction usable for the next row. Returns 0, PRINTERS_INVALID (*field_r the
 * column at fault, static), PRINTERS_DUPLICATE (*field_r "name" or "alias") or -1 (storage;
 * the transaction is doomed).
 */
int printers_write_locked(pp_core_t *core, const char *actor, const pp_printer_t *old,
                          const pp_printer_t *printer, int64_t *id_r, bool *changed_r,
                          const char **field_r, char *error, size_t error_size);

/* Finds the printer named name, without regard to case. Returns 0, PRINTERS_NOT_FOUND, -1. */
int printers_find_name(pp_core_t *core, const char *name, pp_printer_t *printer_r, char *error,
                       size_t error_size);

#endif
