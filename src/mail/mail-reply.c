/*
 * mail-reply.c - the replies the inbound side asks for: the confirmation of a submission,
 * the answer to an unreadable mail and to a refused sender. Each is queued in the outbox with
 * its template and a small context; the sender thread renders it later (mail-outbox-render.c),
 * so queueing never waits for conversion or the network.
 */
#include "mail/mail-out-private.h"

#include "core/settings.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

int mail_reply_queue(pp_core_t *core, const char *recipient, const char *template_name,
                     int64_t user_id, json_t *ctx, const char *in_reply_to, int code,
                     bool is_wait_for_jobs, char *error, size_t error_size)
{
	if (recipient == NULL || recipient[0] == '\0') {
		/* Nothing to answer to (the inbound side drops such mail as noise first): not an
		 * error, or the mail would be read again and again. */
		log_info("mail.reply_no_address template=%s", template_name);
		return 0;
	}
	pp_mail_outbox_new_t item = {
	    .recipient = recipient,
	    .template_name = template_name,
	    .lang = "en", /* per-user language later: the templates are laid out for it */
	    .user_id = user_id,
	    .context = ctx,
	    .in_reply_to = in_reply_to,
	    .issue_code = code,
	    .is_wait_for_jobs = is_wait_for_jobs,
	};
	return mail_outbox_queue(core, &item, NULL, error, error_size);
}

/* The code policy (mail.code_in_reply) as MAIL_CODE_*. */
static int reply_code_policy(pp_core_t *core)
{
	char value[32];
	char why[256];
	if (settings_get_string(core, "mail.code_in_reply", value, sizeof(value), why,
	                        sizeof(why)) < 0)
		return MAIL_CODE_IF_NONE;
	if (strcmp(value, "always") == 0)
		return MAIL_CODE_ALWAYS;
	if (strcmp(value, "never") == 0)
		return MAIL_CODE_NONE;
	return MAIL_CODE_IF_NONE;
}

int mail_reply_submission(pp_core_t *core, const pp_mail_message_t *msg, const pp_user_t *user,
                          const pp_mail_job_t *jobs, size_t n_jobs,
                          const pp_mail_skipped_t *skipped, size_t n_skipped, char *error,
                          size_t error_size)
{
	json_t *ctx = json_pack("{s:s, s:s, s:b}", "subject", msg->subject, "inbox", msg->to,
	                        "is_pending", user->state == PP_USER_PENDING);
	json_t *job_list = json_array();
	json_t *skip_list = json_array();
	bool is_ok = ctx != NULL && job_list != NULL && skip_list != NULL;
	for (size_t i = 0; is_ok && i < n_jobs; i++) {
		json_t *j = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)jobs[i].job_id, "name",
		                      jobs[i].name != NULL ? jobs[i].name : "document",
		                      "printer_id", (json_int_t)jobs[i].printer_id);
		is_ok = j != NULL && json_array_append_new(job_list, j) == 0;
	}
	for (size_t i = 0; is_ok && i < n_skipped; i++) {
		json_t *s =
		    json_pack("{s:s, s:s}", "name", skipped[i].name, "reason", skipped[i].reason);
		is_ok = s != NULL && json_array_append_new(skip_list, s) == 0;
	}
	is_ok = is_ok && json_object_set(ctx, "jobs", job_list) == 0 &&
	        json_object_set(ctx, "skipped", skip_list) == 0;
	json_decref(job_list);
	json_decref(skip_list);
	if (!is_ok) {
		json_decref(ctx);
		str_format(error, error_size, "reply: out of memory");
		return -1;
	}
	int rc = mail_reply_queue(core, msg->from, "confirmation", user->id, ctx, msg->message_id,
	                          user->state == PP_USER_DISABLED ? MAIL_CODE_NONE
	                                                          : reply_code_policy(core),
	                          n_jobs > 0, error, error_size);
	json_decref(ctx);
	return rc;
}

int mail_reply_unreadable(pp_core_t *core, const char *from, const char *subject,
                          const char *reason, char *error, size_t error_size)
{
	json_t *ctx = json_pack("{s:s, s:s}", "subject", subject != NULL ? subject : "", "reason",
	                        reason != NULL ? reason : "the mail is malformed");
	if (ctx == NULL) {
		str_format(error, error_size, "reply: out of memory");
		return -1;
	}
	int rc = mail_reply_queue(core, from, "unreadable", 0, ctx, NULL, MAIL_CODE_NONE, false,
	                          error, error_size);
	json_decref(ctx);
	return rc;
}

int mail_reply_refused(pp_core_t *core, const pp_mail_message_t *msg, const char *reason,
                       char *error, size_t error_size)
{
	json_t *ctx =
	    json_pack("{s:s, s:s, s:s, s:b}", "subject", msg->subject, "inbox", msg->to, "reason",
	              reason != NULL ? reason : "this address may not print", "is_pending", false);
	if (ctx == NULL) {
		str_format(error, error_size, "reply: out of memory");
		return -1;
	}
	int rc = mail_reply_queue(core, msg->from, "refused", 0, ctx, msg->message_id,
	                          MAIL_CODE_NONE, false, error, error_size);
	json_decref(ctx);
	return rc;
}
