/* inline-doc.c - small documents kept in the database; see inline-doc.h. */
#include "core/inline-doc.h"

#include "db/db.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

int inline_doc_store(pp_core_t *core, const pp_spool_doc_t *doc, char *error,
		     size_t error_size)
{
	if (doc->sealed == NULL)
		return 0;
	pp_db_value_t params[] = {DB_TEXT(doc->file_id), DB_BLOB(doc->sealed, doc->sealed_len)};
	int64_t changed = 0;
	if (db_exec(core->db, "UPDATE documents SET sealed = $2 WHERE file_id = $1", params, 2,
		    &changed, error, error_size) != DB_OK)
		return -1;
	if (changed != 1) {
		(void)str_format(error, error_size, "no document row names %s", doc->file_id);
		return -1;
	}
	return 0;
}

int inline_doc_fetch(void *ctx, const char *file_id, uint8_t **sealed_r, size_t *len_r,
		     char *error, size_t error_size)
{
	pp_db_t *db = ctx;
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_TEXT(file_id)};
	*sealed_r = NULL;
	*len_r = 0;
	if (db_query(db, "SELECT sealed FROM documents WHERE file_id = $1 AND sealed IS NOT NULL", params, 1, &res,
		     error, error_size) != DB_OK)
		return -1;
	int rc = 0;
	if (db_result_rows(res) > 0) {
		size_t len = 0;
		const void *bytes = db_result_blob(res, 0, 0, &len);
		/* One byte more, so an empty value still gets its own allocation. */
		uint8_t *copy = malloc(len + 1);
		if (copy == NULL) {
			(void)str_format(error, error_size, "out of memory reading document %s",
					 file_id);
			rc = -1;
		} else {
			if (len > 0)
				memcpy(copy, bytes, len);
			*sealed_r = copy;
			*len_r = len;
			rc = 1;
		}
	}
	db_result_free(&res);
	return rc;
}
