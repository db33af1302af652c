/* inline-doc.c - small documents kept in the database; see inline-doc.h. */
#include "core/inline-doc.h"

#include "db/db.h"
#include "lib/str.h"

int inline_doc_fetch(void *ctx, const char *file_id, uint8_t **sealed_r, size_t *len_r,
		     char *error, size_t error_size)
{
	pp_db_t *db = ctx;
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_TEXT(file_id)};
	*sealed_r = NULL;
	*len_r = 0;
	if (db_query(db, "SELECT sealed FROM documents WHERE file_id = $1 AND sealed IS NOT NULL",
		     params, 1, &res, error, error_size) != DB_OK)
		return -1;
	int rc = 0;
	if (db_result_rows(res) > 0) {
		/* The result's own allocation: a sealed document is up to the inline limit, so
		 * it is not copied again. A zero-length value still has its NUL's allocation. */
		size_t len = 0;
		uint8_t *sealed = db_result_take(res, 0, 0, &len);
		if (sealed == NULL) {
			(void)str_format(error, error_size, "document %s has no stored bytes", file_id);
			rc = -1;
		} else {
			*sealed_r = sealed;
			*len_r = len;
			rc = 1;
		}
	}
	db_result_free(&res);
	return rc;
}
