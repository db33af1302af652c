/*
 * admin-jobs.c - every user's jobs as the console searches them (by user, printer, state and
 * creation time) and acts on them: cancel and delete (job-state.h, job.h; audited by the
 * state machine with the admin as actor) and reprint: a held or retryably failed job is
 * released to the printer the admin names (job_release()); a finished one is printed again as
 * a NEW job from the documents it kept (job_reprint(): only with jobs.printed_policy = keep,
 * within jobs.printed_keep_hours), the old job staying completed.
 */
#include "admin/admin-private.h"

#include "core/job-reprint.h"
#include "core/job.h"
#include "core/printers.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

#define ADMIN_JOB_COLUMNS                                                                     \
	"j.id, j.uuid, u.email, j.title, j.state, j.state_reason, j.source, j.pages, "        \
	"j.color_pages, p.name, j.created_at, j.updated_at, j.printer_id "                    \
	"FROM jobs j JOIN users u ON u.id = j.user_id LEFT JOIN printers p ON p.id = j.printer_id"

/* A count that may be unknown (NULL, or -1 before conversion) as JSON. */
static json_t *admin_json_count(const pp_db_result_t *res, size_t row, size_t col)
{
	if (db_result_is_null(res, row, col) || db_result_int(res, row, col) < 0)
		return json_null();
	return json_integer((json_int_t)db_result_int(res, row, col));
}

static json_t *admin_job_json(const pp_db_result_t *res, size_t i)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:I}",
			 "id", (json_int_t)db_result_int(res, i, 0), "uuid",
			 db_result_text(res, i, 1), "user", db_result_text(res, i, 2), "name",
			 db_result_text(res, i, 3), "state", db_result_text(res, i, 4), "reason",
			 db_result_text(res, i, 5), "source", db_result_text(res, i, 6), "pages",
			 admin_json_count(res, i, 7), "colour_pages", admin_json_count(res, i, 8),
			 "printer",
			 db_result_is_null(res, i, 9) ? json_null()
						      : json_string(db_result_text(res, i, 9)),
			 "printer_id",
			 db_result_is_null(res, i, 12) ? json_null()
						       : json_integer(db_result_int(res, i, 12)),
			 "created_at", (json_int_t)db_result_int(res, i, 10), "updated_at",
			 (json_int_t)db_result_int(res, i, 11));
}

/* Answers the item of job id with status, or 404. */
static void admin_job_answer(admin_call_t *call, unsigned status, int64_t id)
{
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_INT(id)};
	if (db_query(call->core->db, "SELECT " ADMIN_JOB_COLUMNS " WHERE j.id = $1", params, 1,
		     &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.job_failed", db_error);
		return;
	}
	if (db_result_rows(res) != 1)
		admin_error(call, 404, "not_found", "There is no job with this id.", 0);
	else
		admin_json(call, status, admin_job_json(res, 0));
	db_result_free(&res);
}

void admin_api_jobs_list(admin_call_t *call)
{
	size_t limit, offset;
	int64_t from, to;
	if (!admin_page(call, &limit, &offset) || !admin_query_time(call, "from", &from) ||
	    !admin_query_time(call, "to", &to))
		return;
	const char *user = http_request_query(call->req, "user");
	const char *printer = http_request_query(call->req, "printer");
	const char *state = http_request_query(call->req, "state");
	pp_job_state_t parsed;
	if (state != NULL && state[0] != '\0' && !job_state_parse(state, &parsed)) {
		admin_error(call, 400, "invalid_value",
			    "state must be one of incoming, received, converting, held, releasing, "
			    "printing, completed, failed, rejected, canceled, expired.",
			    0);
		return;
	}
	if ((user != NULL && strlen(user) > 254) || (printer != NULL && strlen(printer) > 127)) {
		admin_error(call, 400, "invalid_value",
			    "user is an email address (at most 254 characters), printer a name "
			    "(at most 127).",
			    0);
		return;
	}
	char user_lower[256] = "";
	(void)str_copy(user_lower, sizeof(user_lower), admin_str(user));
	str_lower_ascii(user_lower);
	/* user: the address exactly; printer: name or alias (case-insensitive) or id. */
	const char *where =
		" WHERE ($1 = '' OR u.email = $1) AND ($2 = '' OR p.name = $2 OR LOWER(p.alias) = "
		"LOWER($2) OR CAST(j.printer_id AS TEXT) = $2) AND ($3 = '' OR j.state = $3) AND "
		"j.created_at >= $4 AND j.created_at < $5";
	const pp_db_value_t params[] = {DB_TEXT(user_lower),  DB_TEXT(admin_str(printer)),
					DB_TEXT(admin_str(state)), DB_INT(from),
					DB_INT(to > 0 ? to : INT64_MAX), DB_INT(limit),
					DB_INT(offset)};
	char sql[1536];
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	(void)str_format(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM jobs j JOIN users u ON u.id = j.user_id LEFT JOIN "
			 "printers p ON p.id = j.printer_id%s",
			 where);
	if (db_query(call->core->db, sql, params, 5, &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.jobs_failed", db_error);
		return;
	}
	int64_t total = db_result_int(res, 0, 0);
	db_result_free(&res);
	(void)str_format(sql, sizeof(sql),
			 "SELECT " ADMIN_JOB_COLUMNS "%s ORDER BY j.id DESC LIMIT $6 OFFSET $7",
			 where);
	if (db_query(call->core->db, sql, params, 7, &res, db_error, sizeof(db_error)) != DB_OK) {
		admin_internal(call, "admin.jobs_failed", db_error);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; items != NULL && i < db_result_rows(res); i++)
		(void)json_array_append_new(items, admin_job_json(res, i));
	db_result_free(&res);
	admin_items(call, items, total);
}

/* Loads the job of the path's {id}. Answers 404 and returns false when there is none. */
static bool admin_job_load(admin_call_t *call, pp_job_t *job_r)
{
	int64_t id;
	if (!admin_param_id(call, 0, &id))
		return false;
	char error[ADMIN_ERROR_MAX];
	int rc = job_get(call->core, id, job_r, error, sizeof(error));
	if (rc == JOB_NOT_FOUND) {
		admin_error(call, 404, "not_found", "There is no job with this id.", 0);
		return false;
	}
	if (rc < 0) {
		admin_internal(call, "admin.job_failed", error);
		return false;
	}
	return true;
}

void admin_api_job_cancel(admin_call_t *call)
{
	pp_job_t job;
	if (!admin_job_load(call, &job))
		return;
	char error[ADMIN_ERROR_MAX];
	pp_job_transition_t how = {.actor = call->actor, .reason = "canceled by an administrator"};
	int rc = job_transition(call->core, job.id, job.state, PP_JOB_CANCELED, &how, error,
				sizeof(error));
	if (rc == JOB_STATE_FORBIDDEN || rc == JOB_STATE_LOST) {
		char message[200];
		(void)str_format(message, sizeof(message),
				 "The job is %s and cannot be canceled now; only a job that has "
				 "not finished can.",
				 rc == JOB_STATE_LOST ? "changing state" : job_state_name(job.state));
		admin_error(call, 409, "state", message, 0);
		return;
	}
	if (rc < 0) {
		admin_internal(call, "admin.job_cancel_failed", error);
		return;
	}
	admin_job_answer(call, 200, job.id);
}

void admin_api_job_delete(admin_call_t *call)
{
	pp_job_t job;
	if (!admin_job_load(call, &job))
		return;
	char error[ADMIN_ERROR_MAX];
	int rc = job_delete(call->core, job.id, error, sizeof(error));
	if (rc == JOB_STATE_FORBIDDEN) {
		admin_error(call, 409, "state",
			    "The job is being printed; cancel it first, then delete it.", 0);
		return;
	}
	if (rc < 0 && rc != JOB_NOT_FOUND) {
		admin_internal(call, "admin.job_delete_failed", error);
		return;
	}
	char object[64];
	(void)str_format(object, sizeof(object), "job:%lld", (long long)job.id);
	if (audit_record(call->core, call->actor, "job.delete", object, job.uuid, error,
			 sizeof(error)) < 0)
		log_warn("admin.audit_failed action=job.delete error=\"%s\"", error);
	admin_no_content(call);
}

/* Reprints finished job as a new job to printer_id: 202 with the new job, or 409 / 400. */
static void admin_job_reprint_new(admin_call_t *call, const pp_job_t *job, int64_t printer_id)
{
	char error[ADMIN_ERROR_MAX];
	pp_job_t created;
	int rc = job_reprint(call->core, job->id, printer_id, call->actor, &created, error,
			     sizeof(error));
	if (rc == JOB_REPRINT_GONE) {
		admin_error(call, 409, "documents_gone",
			    "The documents of this job are gone, so it cannot be printed again. "
			    "Printed jobs keep them only with the setting jobs.printed_policy = keep, "
			    "for jobs.printed_keep_hours; the user can send it again.",
			    0);
		return;
	}
	if (rc == JOB_REPRINT_NO_PRINTER) {
		admin_error(call, 400, "invalid_value",
			    "printer_id must name an enabled printer (GET printers lists them).", 0);
		return;
	}
	if (rc == JOB_STATE_FORBIDDEN || rc == JOB_STATE_LOST || rc == JOB_NOT_FOUND) {
		admin_error(call, 409, "state",
			    "The job changed state meanwhile; reload the list and try again.", 0);
		return;
	}
	if (rc < 0) {
		admin_internal(call, "admin.job_reprint_failed", error);
		return;
	}
	admin_job_answer(call, 202, created.id);
}

void admin_api_job_reprint(admin_call_t *call)
{
	pp_job_t job;
	if (!admin_job_load(call, &job))
		return;
	json_t *printer = json_object_get(call->body, "printer_id");
	int64_t printer_id = json_is_integer(printer) ? (int64_t)json_integer_value(printer) : 0;
	if (printer_id <= 0 && job.printer_id > 0 && printer == NULL)
		printer_id = job.printer_id; /* the printer it went to before */
	if (printer_id <= 0) {
		admin_error(call, 400, "invalid_value",
			    "Give {\"printer_id\": n}: the id of an enabled printer.", 0);
		return;
	}
	char error[ADMIN_ERROR_MAX];
	pp_printer_t p;
	int rc = printers_get(call->core, printer_id, &p, error, sizeof(error));
	if (rc == PRINTERS_NOT_FOUND || (rc == 0 && !p.is_enabled)) {
		admin_error(call, 400, "invalid_value",
			    "printer_id must name an enabled printer (GET printers lists them).", 0);
		return;
	}
	if (rc < 0) {
		admin_internal(call, "admin.job_reprint_failed", error);
		return;
	}
	/* A finished job prints again as a new job, from the documents it kept. */
	if (job.state == PP_JOB_COMPLETED || (job.state == PP_JOB_FAILED && job.finished_at > 0)) {
		admin_job_reprint_new(call, &job, printer_id);
		return;
	}
	/* A retryable failure goes back to held first, then both release. */
	if (job.state == PP_JOB_FAILED) {
		pp_job_transition_t how = {.actor = call->actor};
		rc = job_transition(call->core, job.id, PP_JOB_FAILED, PP_JOB_HELD, &how, error,
				    sizeof(error));
		if (rc < 0 && rc != JOB_STATE_FORBIDDEN && rc != JOB_STATE_LOST) {
			admin_internal(call, "admin.job_reprint_failed", error);
			return;
		}
	}
	rc = job_release(call->core, job.id, printer_id, NULL, call->actor, error, sizeof(error));
	if (rc == JOB_STATE_FORBIDDEN || rc == JOB_STATE_LOST) {
		admin_error(call, 409, "state",
			    "Only a held job, a job whose printing failed and may be retried, or a "
			    "completed job whose documents were kept can be sent to a printer.",
			    0);
		return;
	}
	if (rc < 0) {
		admin_internal(call, "admin.job_reprint_failed", error);
		return;
	}
	admin_job_answer(call, 202, job.id);
}
