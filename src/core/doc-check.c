/* doc-check.c - reading every stored document back; see doc-check.h. */
#include "core/doc-check.h"

#include "db/db.h"
#include "lib/crypto.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DOC_CHECK_CHUNK 65536

/* Reads file_id whole. Returns its plain length, or -1 with reason. */
static int64_t doc_check_read(pp_spool_t *spool, const char *file_id, uint8_t *buf,
			      char *reason, size_t reason_size)
{
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(spool, file_id, &reader, reason, reason_size) < 0)
		return -1;
	int64_t total = 0;
	for (;;) {
		ssize_t n = spool_reader_read(reader, buf, DOC_CHECK_CHUNK, reason, reason_size);
		if (n < 0) {
			total = -1;
			break;
		}
		if (n == 0)
			break;
		total += n;
	}
	spool_reader_close(&reader);
	return total;
}

int doc_check_all(pp_core_t *core, pp_doc_damaged_fn *on_damaged, void *ctx,
		  pp_doc_check_t *stats_r, char *error, size_t error_size)
{
	memset(stats_r, 0, sizeof(*stats_r));
	if (core->spool == NULL) {
		(void)str_format(error, error_size, "no spool is open");
		return -1;
	}
	pp_db_result_t *rows = NULL;
	if (db_query(core->db,
		     "SELECT job_id, role, file_id, size_bytes,"
		     " CASE WHEN sealed IS NULL THEN 0 ELSE 1 END"
		     " FROM documents ORDER BY id",
		     NULL, 0, &rows, error, error_size) != DB_OK)
		return -1;
	uint8_t *buf = malloc(DOC_CHECK_CHUNK);
	if (buf == NULL) {
		db_result_free(&rows);
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < db_result_rows(rows); i++) {
		const char *file_id = db_result_text(rows, i, 2);
		int64_t want = db_result_int(rows, i, 3);
		char reason[512] = "";
		int64_t got = doc_check_read(core->spool, file_id, buf, reason, sizeof(reason));
		stats_r->documents++;
		if (db_result_int(rows, i, 4) != 0)
			stats_r->in_database++;
		if (got >= 0 && got != want)
			(void)str_format(reason, sizeof(reason),
					 "%lld bytes read back where the job recorded %lld",
					 (long long)got, (long long)want);
		if (got >= 0 && got == want) {
			stats_r->bytes += (uint64_t)got;
			continue;
		}
		stats_r->damaged++;
		if (on_damaged != NULL)
			on_damaged(ctx, db_result_int(rows, i, 0), db_result_text(rows, i, 1),
				   file_id, reason);
	}
	/* The last chunk read holds a user's document in clear. */
	crypto_wipe(buf, DOC_CHECK_CHUNK);
	free(buf);
	db_result_free(&rows);
	return 0;
}
