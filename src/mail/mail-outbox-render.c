/*
 * mail-outbox-render.c - turning an outbox row into a mail at the moment it is sent: the
 * context queued with the row (recipient, subject, jobs by id, skipped parts, the mailbox)
 * is completed with what is true now — each document's pages and state, the sender's
 * release key and the mailto: links built from it, the enabled printers, a confirmation code
 * when the row asks for one — then rendered with the template and built into MIME.
 *
 * Rendering late is what lets a confirmation list pages (the converter counted them
 * meanwhile), and keeps the release key and the code out of the database in plain text.
 */
#include "mail/mail-out-private.h"

#include "core/codes.h"
#include "core/job.h"
#include "core/printers.h"
#include "core/settings.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

#define RENDER_PRINTERS_MAX 10 /* printers with their own release link in a reply */
#define RENDER_LINK_MAX 1024

int mail_outbox_template_dir(pp_core_t *core, char *dir, size_t dir_size)
{
	char why[256];
	if (settings_get_string(core, "mail.template_dir", dir, dir_size, why, sizeof(why)) < 0) {
		dir[0] = '\0';
		return -1;
	}
	if (dir[0] != '\0' && dir[0] != '/') {
		log_warn("mail.template_dir_relative dir=%s action=\"set an absolute path\"", dir);
		dir[0] = '\0';
	}
	return 0;
}

/* True when job is past what its confirmation waits for: conversion, and for a print-now
 * job its delivery too. */
static bool render_job_settled(const pp_job_t *job)
{
	switch (job->state) {
	case PP_JOB_INCOMING:
	case PP_JOB_RECEIVED:
	case PP_JOB_CONVERTING:
		return false;
	case PP_JOB_RELEASING:
	case PP_JOB_PRINTING:
		/* Print now: the reply can say it printed, or why not (held again). */
		return !job->is_combined;
	default:
		return true;
	}
}

int mail_outbox_jobs_settled(pp_core_t *core, const json_t *ctx, bool *is_settled_r, char *error,
                             size_t error_size)
{
	*is_settled_r = true;
	const json_t *jobs = json_object_get(ctx, "jobs");
	for (size_t i = 0; i < json_array_size(jobs); i++) {
		int64_t id =
		    (int64_t)json_integer_value(json_object_get(json_array_get(jobs, i), "id"));
		pp_job_t job;
		int rc = job_get(core, id, &job, error, error_size);
		if (rc == JOB_NOT_FOUND)
			continue;
		if (rc != JOB_OK)
			return -1;
		if (!render_job_settled(&job)) {
			*is_settled_r = false;
			return 0;
		}
	}
	return 0;
}

/* A mailto: link to inbox with subject into out[RENDER_LINK_MAX]. */
static bool render_mailto(const char *inbox, const char *subject, char *out)
{
	char enc[512];
	return mail_uri_encode(subject, enc, sizeof(enc)) &&
	       str_format(out, RENDER_LINK_MAX, "mailto:%s?subject=%s", inbox, enc);
}

/* The printer's alias for the reply, or "" when it is gone. */
static void render_printer_alias(pp_core_t *core, int64_t id, char *out, size_t size)
{
	pp_printer_t printer;
	char why[256];
	out[0] = '\0';
	if (id > 0 && printers_get(core, id, &printer, why, sizeof(why)) == 0)
		(void)str_copy(out, size, printer.alias);
}

/* What became of job, in words for the reply ("" = waiting for release, nothing to say). */
static void render_job_status(pp_core_t *core, const pp_job_t *job, char *out, size_t size)
{
	char alias[PRINTERS_NAME_MAX];
	render_printer_alias(core, job->printer_id, alias, sizeof(alias));
	const char *reason = job->state_reason[0] != '\0' ? job->state_reason : "no reason given";
	switch (job->state) {
	case PP_JOB_INCOMING:
	case PP_JOB_RECEIVED:
	case PP_JOB_CONVERTING:
		(void)str_copy(out, size, "still being prepared");
		break;
	case PP_JOB_HELD:
		if (job->is_combined)
			(void)str_format(
			    out, size, "not printed (%s); it waits for you to release it", reason);
		else
			out[0] = '\0';
		break;
	case PP_JOB_RELEASING:
	case PP_JOB_PRINTING:
		(void)str_format(out, size, "printing on %s",
		                 alias[0] != '\0' ? alias : "the printer");
		break;
	case PP_JOB_COMPLETED:
		(void)str_format(out, size, "printed on %s",
		                 alias[0] != '\0' ? alias : "the printer");
		break;
	case PP_JOB_FAILED:
		(void)str_format(out, size, "%s: %s",
		                 job->finished_at == 0 && job->is_combined
		                     ? "printing failed, it waits for you to release it again"
		                     : "failed",
		                 reason);
		break;
	case PP_JOB_REJECTED:
		(void)str_format(out, size, "cannot be printed: %s", reason);
		break;
	case PP_JOB_CANCELED:
		(void)str_copy(out, size, "canceled");
		break;
	case PP_JOB_EXPIRED:
		(void)str_copy(out, size, "expired");
		break;
	}
}

/* Adds "documents" and "document_count" (and is_print_now) from ctx "jobs". */
static int render_documents(pp_core_t *core, json_t *ctx, char *error, size_t error_size)
{
	const json_t *jobs = json_object_get(ctx, "jobs");
	json_t *docs = json_array();
	if (docs == NULL)
		return -1;
	bool is_print_now = false;
	for (size_t i = 0; i < json_array_size(jobs); i++) {
		const json_t *j = json_array_get(jobs, i);
		int64_t id = (int64_t)json_integer_value(json_object_get(j, "id"));
		const char *name = json_string_value(json_object_get(j, "name"));
		pp_job_t job;
		char status[JOB_REASON_MAX + 128];
		int rc = job_get(core, id, &job, error, error_size);
		if (rc == JOB_NOT_FOUND) {
			(void)str_copy(status, sizeof(status), "deleted");
			job.pages = -1;
		} else if (rc != JOB_OK) {
			json_decref(docs);
			return -1;
		} else {
			render_job_status(core, &job, status, sizeof(status));
			is_print_now = is_print_now || job.is_combined;
		}
		json_t *doc = json_pack("{s:s, s:I, s:s}", "name", name != NULL ? name : "document",
		                        "id", (json_int_t)id, "status", status);
		if (doc == NULL ||
		    (job.pages > 0 &&
		     json_object_set_new(doc, "pages", json_integer(job.pages)) < 0) ||
		    json_array_append_new(docs, doc) < 0) {
			json_decref(docs);
			return -1;
		}
	}
	if (json_object_set_new(ctx, "document_count",
	                        json_integer((json_int_t)json_array_size(docs))) < 0 ||
	    json_object_set_new(ctx, "documents", docs) < 0 ||
	    json_object_set_new(ctx, "is_print_now", json_boolean(is_print_now)) < 0)
		return -1;
	return 0;
}

/* Adds the release key's links and the printers when the row has a user and a mailbox. */
static int render_links(pp_core_t *core, const pp_outbox_item_t *item, json_t *ctx)
{
	const char *inbox = json_string_value(json_object_get(ctx, "inbox"));
	if (inbox == NULL || inbox[0] == '\0')
		return 0;
	char link[RENDER_LINK_MAX];
	if (render_mailto(inbox, "new code", link) &&
	    json_object_set_new(ctx, "new_code_link", json_string(link)) < 0)
		return -1;
	if (item->user_id <= 0)
		return 0;
	char key[MAIL_RELEASE_KEY_LEN + 1];
	mail_release_key(core, item->user_id, key);
	char subject[MAIL_RELEASE_KEY_LEN + PRINTERS_NAME_MAX + 16];
	int rc = 0;
	if (json_object_set_new(ctx, "release_key", json_string(key)) < 0)
		rc = -1;
	if (rc == 0 && str_format(subject, sizeof(subject), "%s PRINTER", key) &&
	    render_mailto(inbox, subject, link) &&
	    json_object_set_new(ctx, "release_link", json_string(link)) < 0)
		rc = -1;
	if (rc == 0 && str_format(subject, sizeof(subject), "delete %s", key) &&
	    render_mailto(inbox, subject, link) &&
	    json_object_set_new(ctx, "delete_link", json_string(link)) < 0)
		rc = -1;
	/* The enabled printers, each with its own link (a reply lists at most ten). */
	pp_printer_t *printers = NULL;
	size_t n = 0;
	char why[256];
	json_t *list = json_array();
	if (rc == 0 && list != NULL && printers_list(core, &printers, &n, why, sizeof(why)) == 0) {
		size_t shown = 0;
		for (size_t i = 0; i < n && shown < RENDER_PRINTERS_MAX; i++) {
			if (!printers[i].is_enabled)
				continue;
			if (!str_format(subject, sizeof(subject), "%s %s", key,
			                printers[i].alias) ||
			    !render_mailto(inbox, subject, link))
				continue;
			json_t *p = json_pack("{s:s, s:s, s:s}", "alias", printers[i].alias,
			                      "location", printers[i].location, "link", link);
			if (p != NULL && json_array_append_new(list, p) == 0)
				shown++;
		}
		printers_list_free(&printers);
	}
	if (list != NULL && json_object_set_new(ctx, "printers", list) < 0)
		rc = -1;
	crypto_wipe(key, sizeof(key));
	return rc;
}

/* Issues a code per item->issue_code into ctx "code". */
static int render_code(pp_core_t *core, const pp_outbox_item_t *item, json_t *ctx, char *error,
                       size_t error_size)
{
	if (item->issue_code == MAIL_CODE_NONE || item->user_id <= 0)
		return 0;
	if (item->issue_code == MAIL_CODE_IF_NONE) {
		bool has_code = false;
		if (codes_user_has_code(core, item->user_id, &has_code, error, error_size) < 0)
			return -1;
		if (has_code)
			return 0;
	}
	char code[CODES_MAX_LEN + 1];
	if (codes_issue(core, "mail", item->user_id, code, error, error_size) < 0)
		return -1;
	int rc = json_object_set_new(ctx, "code", json_string(code)) < 0 ? -1 : 0;
	crypto_wipe(code, sizeof(code));
	return rc;
}

int mail_outbox_render(pp_core_t *core, const pp_mail_sender_config_t *cfg,
                       const pp_outbox_item_t *item, char **message_r, size_t *len_r, char *error,
                       size_t error_size)
{
	*message_r = NULL;
	json_t *ctx = json_deep_copy(item->context);
	if (ctx == NULL) {
		str_format(error, error_size, "outbox: out of memory");
		return -1;
	}
	int64_t retention = 0;
	char why[256];
	if (settings_get_int(core, "jobs.retention_hours", &retention, why, sizeof(why)) == 0)
		(void)json_object_set_new(ctx, "expires_hours", json_integer(retention));
	if (cfg->public_url != NULL && cfg->public_url[0] != '\0')
		(void)json_object_set_new(ctx, "portal_url", json_string(cfg->public_url));
	(void)json_object_set_new(ctx, "user_email", json_string(item->recipient));
	int rc = 0;
	if (json_object_get(ctx, "jobs") != NULL)
		rc = render_documents(core, ctx, error, error_size);
	if (rc == 0 && render_links(core, item, ctx) < 0) {
		str_format(error, error_size, "outbox: cannot build the links");
		rc = -1;
	}
	pp_smtp_config_t smtp;
	if (rc == 0)
		rc = mail_smtp_config_get(core, &smtp, error, error_size);
	if (rc == 0 && cfg->send == NULL && !smtp.is_configured) {
		str_format(error, error_size,
		           "no SMTP server is set up — run `pullprint mail smtp set`");
		rc = -1;
	}
	/* The code as late as possible: a failure after it leaves a code issued but not sent
	 * (the old one stopped working), so everything that may fail for want of setup is
	 * checked before. */
	if (rc == 0)
		rc = render_code(core, item, ctx, error, error_size);
	pp_mail_rendered_t body = {0};
	char dir[SETTINGS_VALUE_MAX];
	(void)mail_outbox_template_dir(core, dir, sizeof(dir));
	if (rc == 0)
		rc = mail_template_build(dir, item->lang, item->template_name, ctx, &body, error,
		                         error_size);
	const char *inbox = json_string_value(json_object_get(ctx, "inbox"));
	if (rc == 0) {
		pp_mail_headers_t headers = {
		    .from_address = smtp.from_address[0] != '\0'
		                        ? smtp.from_address
		                        : "pullprint@localhost.localdomain",
		    .from_name = smtp.from_name,
		    .to = item->recipient,
		    .reply_to = inbox,
		    .in_reply_to = item->in_reply_to,
		    .date = core_now(core),
		};
		rc = mail_mime_build(&headers, &body, message_r, len_r, error, error_size);
	}
	mail_rendered_free(&body);
	/* The context may hold the code: wipe it before it goes. */
	const char *code = json_string_value(json_object_get(ctx, "code"));
	if (code != NULL)
		crypto_wipe((void *)code, strlen(code));
	json_decref(ctx);
	return rc;
}
