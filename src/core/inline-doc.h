/*
 * inline-doc.h - small documents kept in the database beside the row that names them.
 *
 * A document whose sealed form fits the spool's inline limit (spool_writer_finish_small())
 * is stored in its documents row (column sealed, job_document_add_sealed()), in the
 * transaction that records it: a submission then costs one flush (the commit) where a file
 * would cost two (the file, then the row). The bytes are the spool format, encrypted and
 * authenticated as a file is; readers reach them through spool_reader_open(), which asks
 * inline_doc_fetch() when no file has the id. Deleting the documents row deletes them.
 */
#ifndef PP_INLINE_DOC_H
#define PP_INLINE_DOC_H

#include "spool/spool.h"

#include <stddef.h>
#include <stdint.h>

/*
 * pp_spool_inline_fetch_fn over the database handle ctx (a pp_db_t *): the sealed bytes of
 * file_id. Returns 1 with *sealed_r (new; free()), 0 when there are none, or -1 with error.
 */
int inline_doc_fetch(void *ctx, const char *file_id, uint8_t **sealed_r, size_t *len_r,
		     char *error, size_t error_size);

#endif
