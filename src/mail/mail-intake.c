/*
 * mail-intake.c - one fetched mail, handled exactly once: noise and spoofs dropped, commands
 * passed on, a submission's parts stored as jobs, the sender answered.
 *
 * Exactly once. The poller deletes a mail on the server only after this returns 0, so a
 * crash at any point before leaves the mail there to be read again. What makes reading it
 * again harmless is the mail_seen row, keyed UNIQUE by (Message-ID, BLAKE2b hash of the raw
 * bytes): the same mail fetched again has the same key (a resend by its author has a new
 * Message-ID and counts as new, as it should).
 *
 * For a submission the order is:
 *   1. each part is written to the spool (temp file, fsync, rename);
 *   2. ONE transaction creates every job and its document row, queues the confirmation
 *      (mail_reply_submission(): a row of MAIL-OUT's outbox, on the handle as it is) AND
 *      inserts the mail_seen row — jobs, reply and the mark "handled" appear together or not
 *      at all;
 *   3. the caller deletes the mail on the server.
 * Why each crash is safe:
 *   - before 2 commits: files without rows, which startup recovery (intake_recover())
 *     removes; no row, so the re-read stores the mail afresh — nothing doubled, nothing lost;
 *   - after 2, before 3: the re-read finds the seen row and deletes the mail: no job, no
 *     reply. So jobs AND confirmation are exactly once.
 * Unreadable and refused mail are answered the same way: the seen row and the reply share
 * one transaction.
 * Two servers polling one mailbox race at step 2: the loser's transaction fails on the
 * UNIQUE key, it removes its files and treats the mail as already handled.
 *
 * Other outcomes are recorded the same way (noise, spoofed, rejected, unreadable, command),
 * so that a re-read does not answer twice; a command (release, new code) is carried out by
 * MAIL-OUT before its row is written, so a crash in between may repeat it (a second release
 * finds nothing held; a second new code supersedes the first).
 */
#include "mail/mail-in-private.h"

#include "core/convert-queue.h"
#include "core/printers.h"
#include "core/sender-policy.h"
#include "db/db-listen.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail-out.h"
#include "spool/spool.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAIL_JOB_IDS_MAX 4096 /* text of the job id list in mail_seen */
#define MAIL_REFUSED_TEXT "this address is not allowed to print here"

/* The rows of one submission, made by mail_intake_rows() inside a (group) transaction. */
typedef struct {
	pp_core_t *core;
	const pp_mail_message_t *msg;
	char hash_hex[2 * MAIL_HASH_BYTES + 1];
	int64_t user_id;
	const pp_user_t *user; /* the sender, for the confirmation */
	int64_t printer_id;
	char (*file_ids)[SPOOL_ID_LEN + 1]; /* one per part */
	uint64_t *sizes;
	pp_mail_job_t *jobs; /* filled: one per part */
	bool is_duplicate;   /* the seen row existed already (another poller) */
} mail_rows_t;

const char *mail_outcome_name(mail_outcome_t outcome)
{
	switch (outcome) {
	case MAIL_OUTCOME_JOBS:
		return "jobs";
	case MAIL_OUTCOME_DUPLICATE:
		return "duplicate";
	case MAIL_OUTCOME_NOISE:
		return "noise";
	case MAIL_OUTCOME_SPOOFED:
		return "spoofed";
	case MAIL_OUTCOME_UNREADABLE:
		return "unreadable";
	case MAIL_OUTCOME_COMMAND:
		return "command";
	case MAIL_OUTCOME_REJECTED:
		return "rejected";
	}
	return "unknown";
}

/* Whether (message_id, hash) was handled before: *found_r. Returns 0 or -1. */
static int mail_seen_get(pp_core_t *core, const char *message_id, const char *hash_hex,
                         bool *found_r, char *error, size_t error_size)
{
	*found_r = false;
	const pp_db_value_t params[] = {DB_TEXT(message_id), DB_TEXT(hash_hex)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT 1 FROM mail_seen WHERE message_id = $1 AND content_hash = $2",
	             params, 2, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "mail: cannot read the seen mails: %s", db_error);
		return -1;
	}
	*found_r = db_result_rows(res) == 1;
	db_result_free(&res);
	return 0;
}

/* Inserts a seen row on the handle as it is. Returns DB_OK, DB_DUPLICATE or DB_ERROR. */
static int mail_seen_insert(pp_core_t *core, const pp_mail_message_t *msg, const char *hash_hex,
                            mail_outcome_t outcome, const char *job_ids,
                            const char *reply_state, char *error, size_t error_size)
{
	const pp_db_value_t params[] = {
	    DB_TEXT(msg->message_id),
	    DB_TEXT(hash_hex),
	    msg->account_id > 0 ? DB_INT(msg->account_id) : DB_NULL,
	    DB_TEXT(mail_outcome_name(outcome)),
	    DB_TEXT(job_ids),
	    DB_TEXT(reply_state),
	    DB_INT(core_now(core)),
	};
	return db_exec(core->db,
	               "INSERT INTO mail_seen (message_id, content_hash, account_id, outcome, "
	               "job_ids, reply_state, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	               params, sizeof(params) / sizeof(params[0]), NULL, error, error_size);
}

/* Records an outcome without jobs; DB_DUPLICATE (another poller was first) counts as done. */
static int mail_seen_record(pp_core_t *core, const pp_mail_message_t *msg, const char *hash_hex,
                            mail_outcome_t outcome, char *error, size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	int rc = mail_seen_insert(core, msg, hash_hex, outcome, "", "none", db_error,
	                          sizeof(db_error));
	if (rc == DB_OK)
		return 0;
	if (rc == DB_DUPLICATE)
		return 1;
	str_format(error, error_size, "mail: cannot record the mail as seen: %s", db_error);
	return -1;
}

/*
 * Records an outcome that is answered (unreadable, refused) and queues the answer in ONE
 * transaction, so the sender hears exactly once. why: the reason for the reply. Returns 0,
 * 1 (recorded before: nothing queued) or -1.
 */
static int mail_seen_record_replying(pp_core_t *core, const pp_mail_message_t *msg,
                                     const char *hash_hex, mail_outcome_t outcome,
                                     const char *why, char *error, size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "mail: cannot record the mail: %s", db_error);
		return -1;
	}
	int rc = mail_seen_insert(core, msg, hash_hex, outcome, "", "queued", db_error,
	                          sizeof(db_error));
	if (rc != DB_OK) {
		db_tx_rollback(core->db);
		if (rc == DB_DUPLICATE)
			return 1;
		str_format(error, error_size, "mail: cannot record the mail: %s", db_error);
		return -1;
	}
	int replied = outcome == MAIL_OUTCOME_UNREADABLE
	                  ? mail_reply_unreadable(core, msg->from, msg->subject, why, error,
	                                          error_size)
	                  : mail_reply_refused(core, msg, why, error, error_size);
	if (replied < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "mail: cannot record the mail: %s", db_error);
		return -1;
	}
	return 0;
}

/* db_tx_fn: every job with its document, and the seen row. Safe to rerun. */
static int mail_intake_rows(pp_db_t *db, void *arg, char *error, size_t error_size)
{
	(void)db;
	mail_rows_t *rows = arg;
	const pp_mail_message_t *msg = rows->msg;
	char job_ids[MAIL_JOB_IDS_MAX] = "";
	size_t pos = 0;
	for (size_t i = 0; i < msg->n_parts; i++) {
		const pp_mail_part_t *part = &msg->parts[i];
		pp_job_new_t new_job = {
		    .user_id = rows->user_id,
		    .source = "mail",
		    .title = part->name,
		    .printer_id = rows->printer_id,
		    .size_bytes = (int64_t)rows->sizes[i],
		};
		pp_job_t job;
		if (job_create(rows->core, &new_job, &job, error, error_size) < 0)
			return DB_ERROR;
		int rc = job_document_add(rows->core, job.id, "original", rows->file_ids[i],
		                          part->name, part->content_type, (int64_t)rows->sizes[i],
		                          NULL, error, error_size);
		if (rc != 0)
			return rc == DB_DUPLICATE ? DB_DUPLICATE : DB_ERROR;
		rows->jobs[i].job_id = job.id;
		(void)str_copy(rows->jobs[i].uuid, sizeof(rows->jobs[i].uuid), job.uuid);
		rows->jobs[i].name = part->name;
		rows->jobs[i].printer_id = rows->printer_id;
		if (!str_format(job_ids + pos, sizeof(job_ids) - pos, "%s%lld", i > 0 ? "," : "",
		                (long long)job.id)) {
			str_format(error, error_size, "mail: too many documents in one mail");
			return DB_ERROR;
		}
		pos += strlen(job_ids + pos);
	}
	/* The confirmation in the same transaction (see the file comment). */
	if (mail_reply_submission(rows->core, msg, rows->user, rows->jobs, msg->n_parts,
	                          msg->skipped, msg->n_skipped, error, error_size) < 0)
		return DB_ERROR;
	fault_point("mail.intake_before_commit");
	int rc = mail_seen_insert(rows->core, msg, rows->hash_hex, MAIL_OUTCOME_JOBS, job_ids,
	                          "queued", error, error_size);
	if (rc == DB_DUPLICATE)
		rows->is_duplicate = true;
	return rc;
}

/* Writes one part to the spool. Returns 0 with file_id and size, or -1. */
static int mail_intake_spool(pp_core_t *core, const pp_mail_part_t *part,
                             char file_id[SPOOL_ID_LEN + 1], uint64_t *size_r, char *error,
                             size_t error_size)
{
	pp_spool_writer_t *writer = NULL;
	if (spool_writer_open(core->spool, &writer, error, error_size) < 0)
		return -1;
	if (spool_writer_write(writer, part->data, part->size_bytes, error, error_size) != 0) {
		spool_writer_abort(&writer);
		return -1;
	}
	return spool_writer_finish(&writer, file_id, size_r, error, error_size);
}

/* The printer the submission goes to at once: the mailbox's default printer, else (when
 * print-now is enabled and the sender is enabled) a printer the subject names. 0 = hold. */
static int64_t mail_intake_printer(pp_core_t *core, const pp_mail_account_t *account,
                                   const mail_policy_t *policy, const pp_mail_message_t *msg)
{
	if (account != NULL && account->default_printer_id != 0)
		return account->default_printer_id;
	if (!policy->is_print_now_enabled)
		return 0;
	char subject[512];
	(void)str_copy(subject, sizeof(subject), msg->subject);
	char *save = NULL;
	for (char *word = strtok_r(subject, " \t,;:()[]<>\"'", &save); word != NULL;
	     word = strtok_r(NULL, " \t,;:()[]<>\"'", &save)) {
		pp_printer_t printer;
		char why[256];
		int rc = mail_printer_resolve(core, word, msg->to, &printer, why, sizeof(why));
		if (rc == 0)
			return printer.id;
		if (rc < 0)
			log_warn("mail.printer_lookup_failed error=\"%s\" — the mail is held instead",
			         why);
	}
	return 0;
}

/* Stores a submission from user (see the file comment). */
static int mail_intake_submission(pp_core_t *core, const pp_mail_account_t *account,
                                  const mail_policy_t *policy, const pp_mail_message_t *msg,
                                  const char *hash_hex, const pp_sender_result_t *sender,
                                  mail_outcome_t *outcome_r, size_t *jobs_r, char *error,
                                  size_t error_size)
{
	size_t n = msg->n_parts;
	mail_rows_t rows = {.core = core, .msg = msg, .user_id = sender->user.id,
	                    .user = &sender->user};
	(void)str_copy(rows.hash_hex, sizeof(rows.hash_hex), hash_hex);
	/* A held (pending) user's documents wait for the admin, never print at once. */
	rows.printer_id = sender->decision == PP_SENDER_ACCEPT
	                      ? mail_intake_printer(core, account, policy, msg)
	                      : 0;
	rows.file_ids = calloc(n > 0 ? n : 1, sizeof(*rows.file_ids));
	rows.sizes = calloc(n > 0 ? n : 1, sizeof(*rows.sizes));
	rows.jobs = calloc(n > 0 ? n : 1, sizeof(*rows.jobs));
	int result = -1;
	size_t spooled = 0;
	if (rows.file_ids == NULL || rows.sizes == NULL || rows.jobs == NULL) {
		str_format(error, error_size, "mail: out of memory");
		goto done;
	}
	/* 1. The files first: a crash leaves orphans that startup recovery removes. */
	for (; spooled < n; spooled++) {
		if (mail_intake_spool(core, &msg->parts[spooled], rows.file_ids[spooled],
		                      &rows.sizes[spooled], error, error_size) < 0)
			goto done;
	}
	fault_point("mail.intake_after_spool");
	/* 2. The jobs and the seen mark in one transaction. */
	char db_error[DB_ERROR_MAX];
	int rc = db_tx_group(core->db, mail_intake_rows, &rows, db_error, sizeof(db_error));
	if (rc != DB_OK) {
		if (rows.is_duplicate) {
			/* Another poller stored it first: ours goes. */
			*outcome_r = MAIL_OUTCOME_DUPLICATE;
			result = 0;
		} else {
			str_format(error, error_size, "mail: cannot store the documents: %s", db_error);
		}
		goto done;
	}
	spooled = 0; /* the files belong to their rows now */
	fault_point("mail.intake_after_commit");
	char notify_error[DB_ERROR_MAX];
	if (n > 0 && db_notify(core->db, CONVERT_QUEUE_CHANNEL, notify_error,
	                       sizeof(notify_error)) < 0)
		log_warn("mail.notify_failed error=\"%s\" — converters find the jobs at their next "
		         "poll",
		         notify_error);
	if (n > 0 && core->on_job_received != NULL)
		core->on_job_received(core->on_job_received_ctx);
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, msg->from, tag);
	for (size_t i = 0; i < n; i++)
		log_info("job.received job=%lld source=mail user=%s size=%llu%s",
		         (long long)rows.jobs[i].job_id, tag, (unsigned long long)rows.sizes[i],
		         rows.printer_id != 0 ? " print-now" : "");
	*outcome_r = MAIL_OUTCOME_JOBS;
	*jobs_r = n;
	result = 0;
done:
	for (size_t i = 0; i < spooled; i++) {
		char spool_error[256];
		if (spool_delete(core->spool, rows.file_ids[i], spool_error, sizeof(spool_error)) < 0)
			log_warn("mail.file_left file=%s error=\"%s\" — startup recovery removes it",
			         rows.file_ids[i], spool_error);
	}
	free(rows.file_ids);
	free(rows.sizes);
	free(rows.jobs);
	return result;
}

int mail_intake_raw(pp_core_t *core, const pp_mail_account_t *account,
                    const mail_policy_t *policy, const uint8_t *data, size_t len,
                    mail_outcome_t *outcome_r, size_t *jobs_r, char *error, size_t error_size)
{
	*outcome_r = MAIL_OUTCOME_UNREADABLE;
	*jobs_r = 0;
	const char *account_name = account != NULL ? account->name : "-";
	pp_mail_message_t *msg = NULL;
	char why[MAIL_REASON_MAX];
	int parsed = mail_parse_with_policy(policy, account != NULL ? account->id : 0,
	                                    account != NULL ? account->address : "", data, len,
	                                    &msg, why, sizeof(why));
	if (msg == NULL) {
		/* Not even headers: nobody to answer. The log line is the trace. */
		uint8_t hash[MAIL_HASH_BYTES];
		char hex[2 * MAIL_HASH_BYTES + 1];
		crypto_generichash(hash, sizeof(hash), data, len, NULL, 0);
		str_hex_encode(hex, hash, sizeof(hash));
		log_warn("mail.unreadable account=%s hash=%.16s size=%zu reason=\"%s\" — removed "
		         "without a reply (no sender could be read)",
		         account_name, hex, len, why);
		return 0;
	}
	char hash_hex[2 * MAIL_HASH_BYTES + 1];
	str_hex_encode(hash_hex, msg->content_hash, sizeof(msg->content_hash));
	char tag[USERS_LOG_TAG_LEN + 1] = "-";
	if (msg->from[0] != '\0')
		users_log_tag(core, msg->from, tag);
	int result = -1;

	/* Seen before (a crash before the delete): finish what is left, make nothing anew. */
	bool is_seen = false;
	if (mail_seen_get(core, msg->message_id, hash_hex, &is_seen, error, error_size) < 0)
		goto done;
	if (is_seen) {
		*outcome_r = MAIL_OUTCOME_DUPLICATE;
		log_info("mail.duplicate account=%s user=%s — seen before, removed without new jobs",
		         account_name, tag);
		result = 0;
		goto done;
	}
	if (msg->is_noise) {
		*outcome_r = MAIL_OUTCOME_NOISE;
		log_info("mail.ignored account=%s user=%s why=\"%s\" — no reply, not printed",
		         account_name, tag, mail_noise_name(msg->noise));
		result = mail_seen_record(core, msg, hash_hex, MAIL_OUTCOME_NOISE, error,
		                          error_size) < 0
		             ? -1
		             : 0;
		goto done;
	}
	if (msg->auth == PP_MAIL_AUTH_FAIL) {
		*outcome_r = MAIL_OUTCOME_SPOOFED;
		log_warn("mail.spoofed account=%s user=%s — Authentication-Results of %s do not show "
		         "a pass: not printed, no reply",
		         account_name, tag, policy->auth_serv_id);
		result = mail_seen_record(core, msg, hash_hex, MAIL_OUTCOME_SPOOFED, error,
		                          error_size) < 0
		             ? -1
		             : 0;
		goto done;
	}
	if (parsed < 0) {
		*outcome_r = MAIL_OUTCOME_UNREADABLE;
		log_warn("mail.unreadable account=%s user=%s reason=\"%s\" — the sender is told",
		         account_name, tag, why);
		if (mail_seen_record_replying(core, msg, hash_hex, MAIL_OUTCOME_UNREADABLE, why, error,
		                              error_size) < 0)
			goto done;
		result = 0;
		goto done;
	}

	/* A command in the subject (release, new code …): MAIL-OUT's. */
	bool is_handled = false;
	if (mail_command_handle(core, msg, &is_handled, error, error_size) < 0)
		goto done;
	if (is_handled) {
		*outcome_r = MAIL_OUTCOME_COMMAND;
		log_info("mail.command account=%s user=%s", account_name, tag);
		result = mail_seen_record(core, msg, hash_hex, MAIL_OUTCOME_COMMAND, error,
		                          error_size) < 0
		             ? -1
		             : 0;
		goto done;
	}

	/* A submission: who may send, then the documents. */
	pp_sender_result_t sender;
	if (sender_policy_decide(core, msg->from, "mail", &sender, error, error_size) < 0)
		goto done;
	if (sender.decision == PP_SENDER_REJECT || !sender.has_user) {
		*outcome_r = MAIL_OUTCOME_REJECTED;
		log_info("mail.rejected account=%s user=%s why=\"%s\" — nothing stored",
		         account_name, tag, sender_reason_name(sender.reason));
		/* Blocked senders and invalid addresses hear nothing (no backscatter). */
		bool is_told = sender.reason != PP_SENDER_REASON_BLOCKED &&
		               sender.reason != PP_SENDER_REASON_INVALID_ADDRESS;
		int rc = is_told ? mail_seen_record_replying(core, msg, hash_hex,
		                                             MAIL_OUTCOME_REJECTED, MAIL_REFUSED_TEXT,
		                                             error, error_size)
		                 : mail_seen_record(core, msg, hash_hex, MAIL_OUTCOME_REJECTED, error,
		                                    error_size);
		if (rc < 0)
			goto done;
		result = 0;
		goto done;
	}
	result = mail_intake_submission(core, account, policy, msg, hash_hex, &sender, outcome_r,
	                                jobs_r, error, error_size);
done:
	mail_message_free(&msg);
	return result;
}
