/*
 * admin-users.c - the people who print, as the console searches and changes them (users.h:
 * every change audited with the admin's name). A new user or a new code is mailed through
 * the outbox (mail-out.h), which draws the code when it renders the message: the code never
 * appears in an answer or a log.
 *
 * The API says "active" for the stored state "enabled" (the console's word).
 */
#include "admin/admin-private.h"

#include "core/users.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail-out.h"

#include <string.h>

/* "active", "pending", "disabled". */
static const char *admin_user_state(pp_user_state_t state)
{
	return state == PP_USER_ENABLED ? "active" : users_state_name(state);
}

/* The columns every user query selects, decoded by admin_user_json(). */
#define ADMIN_USER_COLUMNS                                                                    \
	"u.id, u.email, u.display_name, u.department, u.state, u.source, u.created_at, "      \
	"u.updated_at, u.directory_id, (SELECT COUNT(*) FROM jobs j WHERE j.user_id = u.id)"

static json_t *admin_user_json(const pp_db_result_t *res, size_t row)
{
	pp_user_t user;
	users_from_row(res, row, &user);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id",
			 (json_int_t)user.id, "email", user.email, "display_name",
			 user.display_name, "department", user.department, "state",
			 admin_user_state(user.state), "source",
			 db_result_is_null(res, row, 8) ? "local" : "directory", "origin", user.source,
			 "jobs", (json_int_t)db_result_int(res, row, 9), "created_at",
			 (json_int_t)user.created_at, "updated_at", (json_int_t)user.updated_at);
}

/* Answers the item of user id (200), or 404. */
static void admin_user_answer(admin_call_t *call, unsigned status, int64_t id)
{
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_INT(id)};
	if (db_query(call->core->db, "SELECT " ADMIN_USER_COLUMNS " FROM users u WHERE u.id = $1",
		     params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.user_failed", db_error);
		return;
	}
	if (db_result_rows(res) != 1)
		admin_error(call, 404, "not_found", "There is no user with this id.", 0);
	else
		admin_json(call, status, admin_user_json(res, 0));
	db_result_free(&res);
}

void admin_api_users_list(admin_call_t *call)
{
	size_t limit, offset;
	if (!admin_page(call, &limit, &offset))
		return;
	const char *q = http_request_query(call->req, "q");
	const char *state_text = http_request_query(call->req, "state");
	const char *state = "";
	if (state_text != NULL && state_text[0] != '\0') {
		pp_user_state_t parsed;
		if (strcmp(state_text, "active") == 0) {
			state = "enabled";
		} else if (strcmp(state_text, "enabled") != 0 &&
			   users_state_parse(state_text, &parsed)) {
			state = users_state_name(parsed);
		} else {
			admin_error(call, 400, "invalid_value",
				    "state must be active, pending or disabled.", 0);
			return;
		}
	}
	if (q != NULL && (strlen(q) > 200 || !str_is_printable_utf8(q))) {
		admin_error(call, 400, "invalid_value", "q must be at most 200 characters of text.",
			    0);
		return;
	}
	/* q matches a substring of the address, name or department, without regard to case
	 * (LIKE's wildcards in q are taken literally: instr/strpos-free, both dialects). */
	char pattern[256] = "";
	if (q != NULL && q[0] != '\0') {
		char lower[201];
		(void)str_copy(lower, sizeof(lower), q);
		str_lower_ascii(lower);
		size_t n = 0;
		pattern[n++] = '%';
		for (const char *p = lower; *p != '\0' && n + 3 < sizeof(pattern); p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				pattern[n++] = '\\';
			pattern[n++] = *p;
		}
		pattern[n++] = '%';
		pattern[n] = '\0';
	}
	const char *where = " FROM users u WHERE ($1 = '' OR u.state = $1) AND ($2 = '' OR "
			    "LOWER(u.email) LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 "
			    "ESCAPE '\\' OR LOWER(u.department) LIKE $2 ESCAPE '\\')";
	char sql[1024];
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_TEXT(state), DB_TEXT(pattern), DB_INT(limit),
					DB_INT(offset)};
	(void)str_format(sql, sizeof(sql), "SELECT COUNT(*)%s", where);
	if (db_query(call->core->db, sql, params, 2, &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.users_failed", db_error);
		return;
	}
	int64_t total = db_result_int(res, 0, 0);
	db_result_free(&res);
	(void)str_format(sql, sizeof(sql),
			 "SELECT " ADMIN_USER_COLUMNS "%s ORDER BY u.email LIMIT $3 OFFSET $4",
			 where);
	if (db_query(call->core->db, sql, params, 4, &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.users_failed", db_error);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; items != NULL && i < db_result_rows(res); i++)
		(void)json_array_append_new(items, admin_user_json(res, i));
	db_result_free(&res);
	admin_items(call, items, total);
}

void admin_api_user_add(admin_call_t *call)
{
	const char *email = NULL, *display_name = NULL;
	if (!admin_body_string(call, "email", true, USERS_EMAIL_MAX - 1, &email) ||
	    !admin_body_string(call, "display_name", false, USERS_DISPLAY_NAME_MAX - 1,
			       &display_name))
		return;
	char error[ADMIN_ERROR_MAX];
	char canonical[USERS_EMAIL_MAX];
	if (users_canonical_email(email, canonical, error, sizeof(error)) < 0) {
		admin_error(call, 400, "invalid_value", error, 0);
		return;
	}
	pp_user_t user;
	int rc = users_add(call->core, call->actor, canonical, PP_USER_ENABLED, "admin", &user,
			   error, sizeof(error));
	if (rc == DB_DUPLICATE) {
		admin_error(call, 409, "exists", "A user with this address exists already.", 0);
		return;
	}
	if (rc < 0) {
		admin_internal(call, "admin.user_add_failed", error);
		return;
	}
	if (display_name != NULL && display_name[0] != '\0' &&
	    users_set_display_name(call->core, call->actor, user.email, display_name, error,
				   sizeof(error)) < 0)
		log_warn("admin.user_name_failed user=%lld error=\"%s\"", (long long)user.id, error);
	if (mail_outbox_queue_new_code(call->core, &user, error, sizeof(error)) < 0)
		log_warn("admin.user_mail_failed user=%lld error=\"%s\"", (long long)user.id, error);
	admin_user_answer(call, 201, user.id);
}

/* Loads the user of the path's {id}. Answers 404 and returns false when there is none. */
static bool admin_user_load(admin_call_t *call, pp_user_t *user_r)
{
	int64_t id;
	if (!admin_param_id(call, 0, &id))
		return false;
	char error[ADMIN_ERROR_MAX];
	bool found = false;
	if (users_get_by_id(call->core, id, user_r, &found, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.user_failed", error);
		return false;
	}
	if (!found) {
		admin_error(call, 404, "not_found", "There is no user with this id.", 0);
		return false;
	}
	return true;
}

typedef int admin_user_change_fn(pp_core_t *core, const char *actor, const char *email,
				 char *error, size_t error_size);

static void admin_user_change(admin_call_t *call, admin_user_change_fn *change)
{
	pp_user_t user;
	if (!admin_user_load(call, &user))
		return;
	char error[ADMIN_ERROR_MAX];
	if (change(call->core, call->actor, user.email, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.user_change_failed", error);
		return;
	}
	admin_user_answer(call, 200, user.id);
}

void admin_api_user_approve(admin_call_t *call)
{
	pp_user_t user;
	if (!admin_user_load(call, &user))
		return;
	if (user.state != PP_USER_PENDING) {
		admin_error(call, 409, "not_pending",
			    "Only a pending user can be approved; use enable for a disabled one.", 0);
		return;
	}
	admin_user_change(call, users_approve);
}

void admin_api_user_disable(admin_call_t *call)
{
	admin_user_change(call, users_disable);
}

void admin_api_user_enable(admin_call_t *call)
{
	admin_user_change(call, users_enable);
}

void admin_api_user_new_code(admin_call_t *call)
{
	pp_user_t user;
	if (!admin_user_load(call, &user))
		return;
	char error[ADMIN_ERROR_MAX];
	if (mail_outbox_queue_new_code(call->core, &user, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.user_code_failed", error);
		return;
	}
	if (audit_record(call->core, call->actor, "code.mail", user.email,
			 "a new code is mailed to the user", error, sizeof(error)) < 0)
		log_warn("admin.audit_failed action=code.mail error=\"%s\"", error);
	admin_user_answer(call, 200, user.id);
}

void admin_api_user_delete(admin_call_t *call)
{
	pp_user_t user;
	if (!admin_user_load(call, &user))
		return;
	char error[ADMIN_ERROR_MAX];
	if (users_delete(call->core, call->actor, user.email, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.user_delete_failed", error);
		return;
	}
	admin_no_content(call);
}
