/*
 * admin-audit.c - GET audit: the audit log (audit.h), newest first, searched by a word
 * (in action, object or detail), the actor and a time range; as JSON pages or a CSV download
 * of every match (at most AUDIT_LIST_MAX rows).
 */
#include "admin/admin-private.h"

#include "lib/str.h"

#include <string.h>

/* Builds "%word%" with LIKE's wildcards escaped into out[size]; "" for no word. */
static void admin_like_pattern(const char *word, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	if (word == NULL || word[0] == '\0' || size < 4)
		return;
	out[n++] = '%';
	for (const char *p = word; *p != '\0' && n + 3 < size; p++) {
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		if (c == '%' || c == '_' || c == '\\')
			out[n++] = '\\';
		out[n++] = c;
	}
	out[n++] = '%';
	out[n] = '\0';
}

void admin_api_audit(admin_call_t *call)
{
	size_t limit, offset;
	int64_t from, to;
	if (!admin_page(call, &limit, &offset) || !admin_query_time(call, "from", &from) ||
	    !admin_query_time(call, "to", &to))
		return;
	const char *q = http_request_query(call->req, "q");
	const char *actor = http_request_query(call->req, "actor");
	const char *format = http_request_query(call->req, "format");
	bool is_csv = format != NULL && strcmp(format, "csv") == 0;
	if (format != NULL && format[0] != '\0' && !is_csv && strcmp(format, "json") != 0) {
		admin_error(call, 400, "invalid_value", "format must be csv or json.", 0);
		return;
	}
	if ((q != NULL && (strlen(q) > 200 || !str_is_printable_utf8(q))) ||
	    (actor != NULL && (strlen(actor) > AUDIT_ACTOR_MAX - 1 || !str_is_printable_utf8(actor)))) {
		admin_error(call, 400, "invalid_value",
			    "q and actor must be at most 200 and 127 characters of text.", 0);
		return;
	}
	if (is_csv) {
		limit = AUDIT_LIST_MAX;
		offset = 0;
	}
	char pattern[420];
	admin_like_pattern(q, pattern, sizeof(pattern));
	const char *where =
		" FROM audit_log WHERE ($1 = '' OR LOWER(action) LIKE $1 ESCAPE '\\' OR LOWER(object) "
		"LIKE $1 ESCAPE '\\' OR LOWER(detail) LIKE $1 ESCAPE '\\') AND ($2 = '' OR actor = $2 "
		"OR actor = 'admin:' || $2) AND at >= $3 AND at < $4";
	const pp_db_value_t params[] = {DB_TEXT(pattern), DB_TEXT(admin_str(actor)), DB_INT(from),
					DB_INT(to > 0 ? to : INT64_MAX), DB_INT(limit),
					DB_INT(offset)};
	char sql[1024];
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	(void)str_format(sql, sizeof(sql), "SELECT COUNT(*)%s", where);
	if (db_query(call->core->db, sql, params, 4, &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.audit_failed", db_error);
		return;
	}
	int64_t total = db_result_int(res, 0, 0);
	db_result_free(&res);
	(void)str_format(sql, sizeof(sql),
			 "SELECT at, actor, action, object, detail%s ORDER BY at DESC, id DESC "
			 "LIMIT $5 OFFSET $6",
			 where);
	if (db_query(call->core->db, sql, params, 6, &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.audit_failed", db_error);
		return;
	}
	size_t n = db_result_rows(res);
	if (is_csv) {
		pp_admin_buf_t *buf = admin_buf_new(64u * 1024u * 1024u);
		bool is_ok = buf != NULL && admin_csv_cell(buf, "at", false) &&
			     admin_csv_cell(buf, "actor", false) &&
			     admin_csv_cell(buf, "action", false) &&
			     admin_csv_cell(buf, "object", false) && admin_csv_cell(buf, "detail", true);
		for (size_t i = 0; is_ok && i < n; i++)
			is_ok = admin_csv_int(buf, db_result_int(res, i, 0), false) &&
				admin_csv_cell(buf, db_result_text(res, i, 1), false) &&
				admin_csv_cell(buf, db_result_text(res, i, 2), false) &&
				admin_csv_cell(buf, db_result_text(res, i, 3), false) &&
				admin_csv_cell(buf, db_result_text(res, i, 4), true);
		db_result_free(&res);
		if (!is_ok) {
			admin_buf_free(&buf);
			admin_internal(call, "admin.audit_failed", "the CSV does not fit in memory");
			return;
		}
		size_t len;
		const char *text = admin_buf_text(buf, &len);
		admin_download(call, "text/csv; charset=utf-8", "pullprint-audit.csv", text, len);
		admin_buf_free(&buf);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; items != NULL && i < n; i++)
		(void)json_array_append_new(
			items, json_pack("{s:I, s:s, s:s, s:s, s:s}", "at",
					 (json_int_t)db_result_int(res, i, 0), "actor",
					 db_result_text(res, i, 1), "action", db_result_text(res, i, 2),
					 "object", db_result_text(res, i, 3), "detail",
					 db_result_text(res, i, 4)));
	db_result_free(&res);
	admin_items(call, items, total);
}
