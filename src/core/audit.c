/* audit.c - the audit log; see audit.h. */
#include "core/audit.h"

#include "core/job.h" /* job_text_copy(): the UTF-8-safe cut every core module uses */
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

int audit_record(pp_core_t *core, const char *actor, const char *action, const char *object,
                 const char *detail, char *error, size_t error_size)
{
	if (actor == NULL || actor[0] == '\0' || action == NULL || action[0] == '\0') {
		str_format(error, error_size, "audit: an entry needs an actor and an action");
		return -1;
	}
	char actor_buf[AUDIT_ACTOR_MAX], action_buf[AUDIT_ACTION_MAX];
	char object_buf[AUDIT_OBJECT_MAX], detail_buf[AUDIT_DETAIL_MAX];
	job_text_copy(actor_buf, sizeof(actor_buf), actor);
	job_text_copy(action_buf, sizeof(action_buf), action);
	job_text_copy(object_buf, sizeof(object_buf), object != NULL ? object : "");
	job_text_copy(detail_buf, sizeof(detail_buf), detail != NULL ? detail : "");

	const pp_db_value_t params[] = {
	    DB_INT(core_now(core)), DB_TEXT(actor_buf),  DB_TEXT(action_buf),
	    DB_TEXT(object_buf),    DB_TEXT(detail_buf),
	};
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db,
	            "INSERT INTO audit_log (at, actor, action, object, detail) "
	            "VALUES ($1, $2, $3, $4, $5)",
	            params, 5, NULL, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "audit: cannot record %s: %s", action_buf, db_error);
		return -1;
	}
	return 0;
}

/* Runs a listing query (columns id, at, actor, action, object, detail) into new entries. */
static int audit_query(pp_core_t *core, const char *sql, const pp_db_value_t *params,
                       size_t n_params, pp_audit_entry_t **entries_r, size_t *count_r,
                       char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, sql, params, n_params, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "audit: cannot list the log: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	pp_audit_entry_t *entries = calloc(rows > 0 ? rows : 1, sizeof(*entries));
	if (entries == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "audit: out of memory listing %zu rows", rows);
		return -1;
	}
	for (size_t i = 0; i < rows; i++) {
		entries[i].id = db_result_int(res, i, 0);
		entries[i].at = db_result_int(res, i, 1);
		job_text_copy(entries[i].actor, sizeof(entries[i].actor),
		              db_result_text(res, i, 2));
		job_text_copy(entries[i].action, sizeof(entries[i].action),
		              db_result_text(res, i, 3));
		job_text_copy(entries[i].object, sizeof(entries[i].object),
		              db_result_text(res, i, 4));
		job_text_copy(entries[i].detail, sizeof(entries[i].detail),
		              db_result_text(res, i, 5));
	}
	db_result_free(&res);
	*entries_r = entries;
	*count_r = rows;
	return 0;
}

int audit_list(pp_core_t *core, int64_t since, size_t limit, pp_audit_entry_t **entries_r,
               size_t *count_r, char *error, size_t error_size)
{
	*entries_r = NULL;
	*count_r = 0;
	if (limit == 0 || limit > AUDIT_LIST_MAX) {
		str_format(error, error_size, "audit: limit must be 1..%d", AUDIT_LIST_MAX);
		return -1;
	}
	const pp_db_value_t params[] = {DB_INT(since), DB_INT(limit)};
	return audit_query(core,
	                   "SELECT id, at, actor, action, object, detail FROM audit_log "
	                   "WHERE at >= $1 ORDER BY at, id LIMIT $2",
	                   params, 2, entries_r, count_r, error, error_size);
}

int audit_list_recent(pp_core_t *core, size_t limit, pp_audit_entry_t **entries_r,
                      size_t *count_r, char *error, size_t error_size)
{
	*entries_r = NULL;
	*count_r = 0;
	if (limit == 0 || limit > AUDIT_LIST_MAX) {
		str_format(error, error_size, "audit: limit must be 1..%d", AUDIT_LIST_MAX);
		return -1;
	}
	const pp_db_value_t params[] = {DB_INT(limit)};
	/* The newest rows, shown oldest first so the list reads as a story. */
	return audit_query(core,
	                   "SELECT id, at, actor, action, object, detail FROM "
	                   "(SELECT id, at, actor, action, object, detail FROM audit_log "
	                   "ORDER BY id DESC LIMIT $1) AS recent ORDER BY id",
	                   params, 1, entries_r, count_r, error, error_size);
}

void audit_list_free(pp_audit_entry_t **entries)
{
	if (entries == NULL || *entries == NULL)
		return;
	free(*entries);
	*entries = NULL;
}
