/*
 * doc-check.h - checking that every stored document is intact: each documents row is read
 * back whole through the spool (its file, or its bytes in the database), authenticated
 * record by record, and its length compared with the size the row records. What an
 * administrator runs after a crash, a restore or a disk error (`pullprint spool check`).
 */
#ifndef PP_DOC_CHECK_H
#define PP_DOC_CHECK_H

#include "core/core.h"

#include <stdint.h>

/* Totals of one check. */
typedef struct {
	uint64_t documents;   /* rows checked */
	uint64_t in_database; /* of those, kept in the database (small documents) */
	uint64_t bytes;       /* plain bytes read back */
	uint64_t damaged;     /* missing, unreadable, failing authentication or of the wrong size */
} pp_doc_check_t;

/* One damaged document: its job, role ("original", "print" …), file id and what is wrong. */
typedef void pp_doc_damaged_fn(void *ctx, int64_t job_id, const char *role, const char *file_id,
			       const char *reason);

/*
 * Reads every document back. Each damaged one is reported to on_damaged (may be NULL) and
 * counted. Returns 0 with *stats_r filled (damaged documents do not make it fail), or -1
 * with error when the database could not be read.
 */
int doc_check_all(pp_core_t *core, pp_doc_damaged_fn *on_damaged, void *ctx,
		  pp_doc_check_t *stats_r, char *error, size_t error_size);

#endif
