/*
 * admin-dashboard.c - GET dashboard: what the admin looks at first. Jobs per state (the
 * queue), conversions running, each printer's cached status (output/status.h: nothing here
 * waits for a printer), the latest failures with their reasons, and the health of the mail
 * intake and of the company directory as their own threads last wrote it.
 */
#include "admin/admin-private.h"

#include "core/job-state.h"
#include "core/printers.h"
#include "directory/directory.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail.h"
#include "output/probe.h"
#include "output/status.h"

#include <string.h>

#define ADMIN_RECENT_FAILURES 20

void admin_printer_status_json(admin_call_t *call, int64_t printer_id, json_t *obj)
{
	char error[ADMIN_ERROR_MAX];
	pp_status_entry_t entry;
	int rc = status_get(call->core, printer_id, &entry, error, sizeof(error));
	if (rc < 0 && rc != STATUS_NOT_FOUND) {
		log_warn("admin.status_failed printer=%lld error=\"%s\"", (long long)printer_id,
			 error);
		memset(&entry, 0, sizeof(entry));
		entry.status.state = PP_PRINTER_STATE_UNKNOWN;
	}
	json_t *reasons = json_array();
	for (const char *r = entry.status.reasons; reasons != NULL && *r != '\0';) {
		size_t len = strcspn(r, ",");
		if (len > 0)
			(void)json_array_append_new(reasons, json_stringn(r, len));
		r += len;
		if (*r == ',')
			r++;
	}
	(void)json_object_set_new(obj, "state", json_string(probe_state_name(entry.status.state)));
	(void)json_object_set_new(obj, "reasons", reasons != NULL ? reasons : json_array());
	(void)json_object_set_new(obj, "checked_at", admin_json_time(entry.checked_at));
	(void)json_object_set_new(obj, "status_error", json_string(entry.error));
}

/* {"received":n,…} with every state, 0 where there are none. */
static json_t *admin_dashboard_jobs(admin_call_t *call, int64_t *converting_r, char *error,
				    size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	if (db_query(call->core->db, "SELECT state, COUNT(*) FROM jobs GROUP BY state", NULL, 0,
		     &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "cannot count jobs: %s", db_error);
		return NULL;
	}
	json_t *jobs = json_object();
	for (int s = 0; jobs != NULL && s < PP_JOB_STATE_COUNT; s++)
		(void)json_object_set_new(jobs, job_state_name((pp_job_state_t)s), json_integer(0));
	*converting_r = 0;
	for (size_t i = 0; jobs != NULL && i < db_result_rows(res); i++) {
		const char *state = db_result_text(res, i, 0);
		int64_t n = db_result_int(res, i, 1);
		(void)json_object_set_new(jobs, state, json_integer((json_int_t)n));
		if (strcmp(state, "converting") == 0)
			*converting_r = n;
	}
	db_result_free(&res);
	return jobs;
}

static json_t *admin_dashboard_printers(admin_call_t *call, char *error, size_t error_size)
{
	pp_printer_t *printers = NULL;
	size_t count = 0;
	if (printers_list(call->core, &printers, &count, error, error_size) < 0)
		return NULL;
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < count; i++) {
		json_t *p = json_pack("{s:I, s:s, s:b}", "id", (json_int_t)printers[i].id, "name",
				      printers[i].name, "enabled", printers[i].is_enabled);
		if (p == NULL)
			continue;
		admin_printer_status_json(call, printers[i].id, p);
		(void)json_array_append_new(list, p);
	}
	printers_list_free(&printers);
	return list;
}

static json_t *admin_dashboard_failures(admin_call_t *call, char *error, size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_INT(ADMIN_RECENT_FAILURES)};
	if (db_query(call->core->db,
		     "SELECT j.id, u.email, j.title, j.state, j.state_reason, j.updated_at "
		     "FROM jobs j JOIN users u ON u.id = j.user_id "
		     "WHERE j.state IN ('failed', 'rejected') ORDER BY j.updated_at DESC, j.id DESC "
		     "LIMIT $1",
		     params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "cannot read failures: %s", db_error);
		return NULL;
	}
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < db_result_rows(res); i++)
		(void)json_array_append_new(
			list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "job_id",
					(json_int_t)db_result_int(res, i, 0), "user",
					db_result_text(res, i, 1), "name", db_result_text(res, i, 2),
					"state", db_result_text(res, i, 3), "reason",
					db_result_text(res, i, 4), "at",
					(json_int_t)db_result_int(res, i, 5)));
	db_result_free(&res);
	return list;
}

static json_t *admin_dashboard_mail(admin_call_t *call, char *error, size_t error_size)
{
	pp_mail_account_t *accounts = NULL;
	size_t count = 0;
	if (mail_account_list(call->core, &accounts, &count, error, error_size) < 0)
		return NULL;
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < count; i++)
		(void)json_array_append_new(
			list, json_pack("{s:s, s:b, s:o, s:o, s:s, s:I}", "account",
					accounts[i].name, "enabled", accounts[i].is_enabled,
					"last_poll_at", admin_json_time(accounts[i].last_poll_at),
					"last_ok_at", admin_json_time(accounts[i].last_ok_at),
					"last_error", accounts[i].last_error, "messages_ingested",
					(json_int_t)accounts[i].messages_ingested));
	mail_account_list_free(&accounts);
	return list;
}

/* ok, unreachable (the last attempt failed), never (not imported yet) or disabled. */
static const char *admin_directory_state(const pp_directory_t *dir)
{
	if (!dir->is_enabled)
		return "disabled";
	if (dir->last_error_at > 0 && dir->last_error_at >= dir->last_ok_at)
		return "unreachable";
	return dir->last_ok_at > 0 ? "ok" : "never";
}

static json_t *admin_dashboard_directory(admin_call_t *call, char *error, size_t error_size)
{
	pp_directory_t *dirs = NULL;
	size_t count = 0;
	if (directory_list(call->core, &dirs, &count, error, error_size) < 0)
		return NULL;
	json_t *list = json_array();
	for (size_t i = 0; list != NULL && i < count; i++)
		(void)json_array_append_new(
			list, json_pack("{s:s, s:s, s:o, s:s, s:s}", "name", dirs[i].name, "state",
					admin_directory_state(&dirs[i]), "last_import_at",
					admin_json_time(dirs[i].last_sync_at), "last_result",
					dirs[i].last_sync_result, "last_error", dirs[i].last_error));
	directory_list_free(&dirs);
	return list;
}

void admin_api_dashboard(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX] = "out of memory";
	int64_t converting = 0;
	json_t *jobs = admin_dashboard_jobs(call, &converting, error, sizeof(error));
	json_t *printers = jobs != NULL ? admin_dashboard_printers(call, error, sizeof(error)) : NULL;
	json_t *failures =
		printers != NULL ? admin_dashboard_failures(call, error, sizeof(error)) : NULL;
	json_t *mail = failures != NULL ? admin_dashboard_mail(call, error, sizeof(error)) : NULL;
	json_t *directory =
		mail != NULL ? admin_dashboard_directory(call, error, sizeof(error)) : NULL;
	if (directory == NULL) {
		json_decref(jobs);
		json_decref(printers);
		json_decref(failures);
		json_decref(mail);
		admin_internal(call, "admin.dashboard_failed", error);
		return;
	}
	admin_json(call, 200,
		   json_pack("{s:o, s:I, s:o, s:o, s:o, s:o}", "jobs", jobs, "conversions_running",
			     (json_int_t)converting, "printers", printers, "recent_failures",
			     failures, "mail", mail, "directory", directory));
}
