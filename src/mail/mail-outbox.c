/*
 * mail-outbox.c - the outbox: queueing replies, the pass that renders and sends them, and
 * the sender thread; see mail-out.h.
 *
 * A row moves pending -> queued -> sent, or to failed when the SMTP server refuses it for
 * good or mail.outbox_give_up_hours pass. next_attempt_at is both "due at" and a lease: the
 * pass claims a due row by moving it into the future (UPDATE … WHERE next_attempt_at = the
 * value it read), so two threads or hosts never send the same row at once, and a row whose
 * sender died becomes due again when the lease runs out.
 */
#include "mail/mail-out-private.h"

#include "lib/crypto.h"
#include "lib/crypto-seal.h"
#include "lib/log.h"
#include "lib/str.h"
#include "core/settings.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OUTBOX_LEASE_S 120             /* a claimed row is another's again after this */
#define OUTBOX_BATCH 32                /* rows one pass of the thread looks at */
#define OUTBOX_SENT_KEEP_S (7 * 86400) /* sent and failed rows are kept a week */
#define OUTBOX_DEFAULT_POLL_MS 500

/* Delays between attempts; the last repeats. */
static const int64_t outbox_backoff_s[] = {30, 60, 120, 300, 600, 1800, 3600};

int mail_outbox_queue(pp_core_t *core, const pp_mail_outbox_new_t *item, int64_t *id_r, char *error,
                      size_t error_size)
{
	char *context = json_dumps(item->context, JSON_COMPACT);
	if (context == NULL) {
		str_format(error, error_size, "outbox: cannot encode the reply's context");
		return -1;
	}
	int64_t wait_s = 0;
	char why[256];
	if (item->is_wait_for_jobs &&
	    settings_get_int(core, "mail.reply_wait_seconds", &wait_s, why, sizeof(why)) < 0)
		wait_s = 30;
	int64_t now = core_now(core);
	const pp_db_value_t params[] = {
	    DB_TEXT(item->recipient),
	    DB_TEXT(item->template_name),
	    DB_TEXT(item->lang != NULL ? item->lang : "en"),
	    item->user_id > 0 ? DB_INT(item->user_id) : DB_NULL,
	    DB_TEXT(context),
	    DB_TEXT(item->in_reply_to != NULL ? item->in_reply_to : ""),
	    DB_INT(item->issue_code),
	    DB_INT(item->is_wait_for_jobs ? 1 : 0),
	    DB_INT(now),
	    DB_INT(now + wait_s),
	};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	int rc =
	    db_query(core->db,
	             "INSERT INTO mail_outbox (recipient, template, lang, user_id, context, "
	             "in_reply_to, issue_code, wait_jobs, state, next_attempt_at, ready_by, "
	             "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, "
	             "$9) RETURNING id",
	             params, sizeof(params) / sizeof(params[0]), &res, db_error, sizeof(db_error));
	free(context);
	if (rc != DB_OK || db_result_rows(res) != 1) {
		db_result_free(&res);
		str_format(error, error_size, "outbox: cannot queue the reply: %s", db_error);
		return -1;
	}
	if (id_r != NULL)
		*id_r = db_result_int(res, 0, 0);
	db_result_free(&res);
	return 0;
}

int mail_outbox_queue_new_code(pp_core_t *core, const pp_user_t *user, char *error,
                               size_t error_size)
{
	json_t *context = json_pack("{s:b, s:s}", "is_pending", user->state == PP_USER_PENDING,
	                            "email", user->email);
	if (context == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	pp_mail_outbox_new_t item = {.recipient = user->email,
	                             .template_name = "new-code",
	                             .user_id = user->id,
	                             .context = context,
	                             .issue_code = 1 /* always a new code */};
	int rc = mail_outbox_queue(core, &item, NULL, error, error_size);
	json_decref(context);
	return rc;
}

/* The key that seals queued messages. */
static void outbox_key(const pp_core_t *core, uint8_t key[CRYPTO_KEY_BYTES])
{
	char hex[CRYPTO_HASH_HEX_LEN + 1];
	static const char label[] = "pullprint mail outbox message v1";
	crypto_keyed_hash_hex(core->token_key, label, sizeof(label) - 1, hex);
	(void)str_hex_decode(key, CRYPTO_KEY_BYTES, hex);
	crypto_wipe(hex, sizeof(hex));
}

/* Seals message[len] for row id: *sealed_r new (free()), nonce + ciphertext. */
static int outbox_seal(const pp_core_t *core, int64_t id, const char *message, size_t len,
                       uint8_t **sealed_r, size_t *sealed_len_r)
{
	char aad[32];
	(void)str_format(aad, sizeof(aad), "outbox:%lld", (long long)id);
	uint8_t key[CRYPTO_KEY_BYTES];
	outbox_key(core, key);
	int rc = crypto_seal(key, message, len, aad, sealed_r, sealed_len_r);
	crypto_wipe(key, sizeof(key));
	return rc;
}

/* Opens a sealed message of row id into *message_r (new, NUL-terminated). Returns 0 or -1. */
static int outbox_open(const pp_core_t *core, int64_t id, const uint8_t *sealed, size_t len,
                       char **message_r, size_t *len_r)
{
	char aad[32];
	(void)str_format(aad, sizeof(aad), "outbox:%lld", (long long)id);
	uint8_t key[CRYPTO_KEY_BYTES];
	outbox_key(core, key);
	int rc = crypto_open(key, sealed, len, aad, SIZE_MAX, message_r, len_r);
	crypto_wipe(key, sizeof(key));
	return rc;
}

/* Claims row id (due at old): moves its next attempt to the lease's end. */
static int outbox_claim(pp_core_t *core, int64_t id, int64_t old, bool *is_claimed_r, char *error,
                        size_t error_size)
{
	const pp_db_value_t params[] = {DB_INT(core_now(core) + OUTBOX_LEASE_S), DB_INT(id),
	                                DB_INT(old)};
	int64_t changes = 0;
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db,
	            "UPDATE mail_outbox SET next_attempt_at = $1 WHERE id = $2 AND "
	            "next_attempt_at = $3 AND state IN ('pending','queued')",
	            params, 3, &changes, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "outbox: %s", db_error);
		return -1;
	}
	*is_claimed_r = changes == 1;
	return 0;
}

/* Runs one UPDATE on row id; logs a failure (the lease makes the row due again). */
static void outbox_update(pp_core_t *core, const char *sql, const pp_db_value_t *params, size_t n)
{
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db, sql, params, n, NULL, db_error, sizeof(db_error)) != DB_OK)
		log_error("mail.outbox_update_failed error=\"%s\"", db_error);
}

/* Reads a pending row into *item (context parsed). Returns 0, 1 when gone, -1. */
static int outbox_read_item(pp_core_t *core, int64_t id, pp_outbox_item_t *item, char *error,
                            size_t error_size)
{
	memset(item, 0, sizeof(*item));
	const pp_db_value_t params[] = {DB_INT(id)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(
	        core->db,
	        "SELECT recipient, template, lang, COALESCE(user_id, 0), context, in_reply_to, "
	        "issue_code, wait_jobs, ready_by, created_at, attempts FROM mail_outbox WHERE id = "
	        "$1",
	        params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "outbox: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) != 1) {
		db_result_free(&res);
		return 1;
	}
	item->id = id;
	(void)str_copy(item->recipient, sizeof(item->recipient), db_result_text(res, 0, 0));
	(void)str_copy(item->template_name, sizeof(item->template_name), db_result_text(res, 0, 1));
	(void)str_copy(item->lang, sizeof(item->lang), db_result_text(res, 0, 2));
	item->user_id = db_result_int(res, 0, 3);
	json_error_t jerr;
	item->context = json_loads(db_result_text(res, 0, 4), 0, &jerr);
	(void)str_copy(item->in_reply_to, sizeof(item->in_reply_to), db_result_text(res, 0, 5));
	item->issue_code = (int)db_result_int(res, 0, 6);
	item->is_wait_for_jobs = db_result_int(res, 0, 7) != 0;
	item->ready_by = db_result_int(res, 0, 8);
	item->created_at = db_result_int(res, 0, 9);
	item->attempts = db_result_int(res, 0, 10);
	db_result_free(&res);
	if (!json_is_object(item->context)) {
		json_decref(item->context);
		item->context = json_object();
	}
	return 0;
}

/* The give-up bound in seconds (mail.outbox_give_up_hours). */
static int64_t outbox_give_up_s(pp_core_t *core)
{
	int64_t hours = 48;
	char why[256];
	if (settings_get_int(core, "mail.outbox_give_up_hours", &hours, why, sizeof(why)) < 0)
		hours = 48;
	return hours * 3600;
}

/* Records a failed attempt of row id: retried with backoff, or given up. */
static void outbox_attempt_failed(pp_core_t *core, int64_t id, int64_t attempts, int64_t created_at,
                                  const char *recipient, const char *why, bool is_permanent,
                                  pp_mail_outbox_stats_t *stats)
{
	int64_t now = core_now(core);
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, recipient, tag);
	char last_error[256];
	job_text_copy(last_error, sizeof(last_error), why);
	if (is_permanent || now - created_at >= outbox_give_up_s(core)) {
		const pp_db_value_t params[] = {DB_INT(attempts), DB_TEXT(last_error), DB_INT(id)};
		outbox_update(core,
		              "UPDATE mail_outbox SET state = 'failed', message = NULL, context = "
		              "'{}', attempts = $1, "
		              "last_error = $2 WHERE id = $3",
		              params, 3);
		log_warn("mail.reply_given_up outbox=%lld user=%s attempts=%lld error=\"%s\" "
		         "action=\"%s\"",
		         (long long)id, tag, (long long)attempts, why,
		         is_permanent
		             ? "the SMTP server refused the reply for good; check the address"
		             : "check `pullprint mail smtp test`; the reply was not sent");
		stats->given_up++;
		return;
	}
	size_t n = sizeof(outbox_backoff_s) / sizeof(outbox_backoff_s[0]);
	size_t step = attempts > 0 && (size_t)(attempts - 1) < n ? (size_t)(attempts - 1) : n - 1;
	const pp_db_value_t params[] = {DB_INT(attempts), DB_TEXT(last_error),
	                                DB_INT(now + outbox_backoff_s[step]), DB_INT(id)};
	outbox_update(core,
	              "UPDATE mail_outbox SET attempts = $1, last_error = $2, next_attempt_at = $3 "
	              "WHERE id = $4",
	              params, 4);
	log_info("mail.reply_retry outbox=%lld user=%s attempt=%lld next_in_s=%lld error=\"%s\"",
	         (long long)id, tag, (long long)attempts, (long long)outbox_backoff_s[step], why);
	stats->retried++;
}

/* Sends message[len] with cfg's stand-in or SMTP with the stored settings. */
static int outbox_send(pp_core_t *core, const pp_mail_sender_config_t *cfg, const char *rcpt,
                       const char *message, size_t len, bool *is_permanent_r, char *error,
                       size_t error_size)
{
	if (cfg->send != NULL)
		return cfg->send(cfg->send_ctx, rcpt, message, len, is_permanent_r, error,
		                 error_size);
	pp_smtp_config_t smtp;
	if (mail_smtp_config_get(core, &smtp, error, error_size) < 0)
		return -1;
	char *secret = malloc(MAIL_SMTP_SECRET_MAX);
	if (secret == NULL) {
		str_format(error, error_size, "out of memory");
		return -1;
	}
	int rc = mail_smtp_secret_get(core, secret, error, error_size);
	if (rc == 0)
		rc = mail_smtp_send(&smtp, secret, rcpt, message, len, is_permanent_r, NULL, error,
		                    error_size);
	crypto_wipe(secret, MAIL_SMTP_SECRET_MAX);
	free(secret);
	return rc;
}

/* Renders pending row id if ready; on success leaves it queued with *message_r to send. */
static int outbox_render_row(pp_core_t *core, const pp_mail_sender_config_t *cfg, int64_t id,
                             char **message_r, size_t *len_r, char *recipient,
                             int64_t *created_at_r, pp_mail_outbox_stats_t *stats)
{
	*message_r = NULL;
	char error[512];
	pp_outbox_item_t item;
	int rc = outbox_read_item(core, id, &item, error, sizeof(error));
	if (rc != 0)
		return rc < 0 ? -1 : 1;
	(void)str_copy(recipient, USERS_EMAIL_MAX, item.recipient);
	*created_at_r = item.created_at;
	int64_t now = core_now(core);
	if (item.is_wait_for_jobs && now < item.ready_by) {
		bool is_settled = false;
		if (mail_outbox_jobs_settled(core, item.context, &is_settled, error,
		                             sizeof(error)) < 0 ||
		    !is_settled) {
			/* Look again in a second; others get their turn meanwhile. */
			const pp_db_value_t params[] = {DB_INT(now + 1), DB_INT(id)};
			outbox_update(core,
			              "UPDATE mail_outbox SET next_attempt_at = $1 WHERE id = $2",
			              params, 2);
			json_decref(item.context);
			stats->waiting++;
			return 1;
		}
	}
	char *message = NULL;
	size_t len = 0;
	rc = mail_outbox_render(core, cfg, &item, &message, &len, error, sizeof(error));
	json_decref(item.context);
	if (rc < 0) {
		/* A broken render does not heal by itself often, but a code space or the database
		 * may: retry like a send, then give up with the reason logged. */
		outbox_attempt_failed(core, id, item.attempts + 1, item.created_at, item.recipient,
		                      error, false, stats);
		return 1;
	}
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	if (outbox_seal(core, id, message, len, &sealed, &sealed_len) < 0) {
		crypto_wipe(message, len);
		free(message);
		return -1;
	}
	const pp_db_value_t params[] = {DB_BLOB(sealed, sealed_len), DB_INT(id)};
	outbox_update(core, "UPDATE mail_outbox SET state = 'queued', message = $1 WHERE id = $2",
	              params, 2);
	free(sealed);
	*message_r = message;
	*len_r = len;
	return 0;
}

/* Reads and opens queued row id's message. Returns 0, 1 when gone or unreadable, -1. */
static int outbox_load_queued(pp_core_t *core, int64_t id, char **message_r, size_t *len_r,
                              char *recipient, int64_t *attempts_r, int64_t *created_at_r)
{
	const pp_db_value_t params[] = {DB_INT(id)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(
	        core->db,
	        "SELECT recipient, message, attempts, created_at FROM mail_outbox WHERE id = $1",
	        params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		log_error("mail.outbox_read_failed outbox=%lld error=\"%s\"", (long long)id,
		          db_error);
		return -1;
	}
	if (db_result_rows(res) != 1) {
		db_result_free(&res);
		return 1;
	}
	(void)str_copy(recipient, USERS_EMAIL_MAX, db_result_text(res, 0, 0));
	size_t sealed_len = 0;
	const void *sealed = db_result_blob(res, 0, 1, &sealed_len);
	*attempts_r = db_result_int(res, 0, 2);
	*created_at_r = db_result_int(res, 0, 3);
	int rc = outbox_open(core, id, sealed, sealed_len, message_r, len_r);
	db_result_free(&res);
	if (rc < 0) {
		const pp_db_value_t p2[] = {
		    DB_TEXT("the stored message does not open (was the master "
		            "key replaced?)"),
		    DB_INT(id)};
		outbox_update(core,
		              "UPDATE mail_outbox SET state = 'failed', message = NULL, context = "
		              "'{}', last_error = $1 "
		              "WHERE id = $2",
		              p2, 2);
		log_warn("mail.reply_unreadable outbox=%lld action=\"the reply is dropped\"",
		         (long long)id);
		return 1;
	}
	return 0;
}

/* Works on one claimed row: render when pending, then send. */
static void outbox_work(pp_core_t *core, const pp_mail_sender_config_t *cfg, int64_t id,
                        bool is_pending, pp_mail_outbox_stats_t *stats)
{
	char recipient[USERS_EMAIL_MAX] = "";
	char *message = NULL;
	size_t len = 0;
	int64_t attempts = 0, created_at = 0;
	int rc =
	    is_pending
	        ? outbox_render_row(core, cfg, id, &message, &len, recipient, &created_at, stats)
	        : outbox_load_queued(core, id, &message, &len, recipient, &attempts, &created_at);
	if (rc != 0)
		return;
	char error[768];
	bool is_permanent = false;
	rc = outbox_send(core, cfg, recipient, message, len, &is_permanent, error, sizeof(error));
	crypto_wipe(message, len);
	free(message);
	if (rc < 0) {
		outbox_attempt_failed(core, id, attempts + 1, created_at, recipient,
		                      error[0] != '\0' ? error : "the send failed", is_permanent,
		                      stats);
		return;
	}
	const pp_db_value_t params[] = {DB_INT(attempts + 1), DB_INT(core_now(core)), DB_INT(id)};
	outbox_update(
	    core,
	    "UPDATE mail_outbox SET state = 'sent', message = NULL, context = '{}', attempts = $1, "
	    "sent_at = $2, last_error = '' WHERE id = $3",
	    params, 3);
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, recipient, tag);
	log_info("mail.reply_sent outbox=%lld user=%s", (long long)id, tag);
	stats->sent++;
}

int mail_outbox_run(pp_core_t *core, const pp_mail_sender_config_t *cfg, size_t batch,
                    pp_mail_outbox_stats_t *stats_r, char *error, size_t error_size)
{
	pp_mail_outbox_stats_t stats = {0};
	if (batch == 0 || batch > 1000)
		batch = OUTBOX_BATCH;
	const pp_db_value_t params[] = {DB_INT(core_now(core)), DB_INT((int64_t)batch)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT id, state, next_attempt_at FROM mail_outbox WHERE state IN "
	             "('pending','queued') AND next_attempt_at <= $1 ORDER BY next_attempt_at, id "
	             "LIMIT $2",
	             params, 2, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "outbox: %s", db_error);
		return -1;
	}
	for (size_t i = 0; i < db_result_rows(res); i++) {
		int64_t id = db_result_int(res, i, 0);
		bool is_pending = strcmp(db_result_text(res, i, 1), "pending") == 0;
		bool is_claimed = false;
		if (outbox_claim(core, id, db_result_int(res, i, 2), &is_claimed, error,
		                 error_size) < 0) {
			db_result_free(&res);
			return -1;
		}
		if (is_claimed)
			outbox_work(core, cfg, id, is_pending, &stats);
	}
	db_result_free(&res);
	if (stats_r != NULL)
		*stats_r = stats;
	return 0;
}

int mail_outbox_list(pp_core_t *core, size_t limit, pp_mail_outbox_row_t **rows_r, size_t *count_r,
                     char *error, size_t error_size)
{
	*rows_r = NULL;
	*count_r = 0;
	if (limit == 0 || limit > 10000)
		limit = 10000;
	const pp_db_value_t params[] = {DB_INT((int64_t)limit)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT id, recipient, template, state, attempts, last_error, created_at, "
	             "COALESCE(sent_at, 0) FROM mail_outbox ORDER BY id DESC LIMIT $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "outbox: %s", db_error);
		return -1;
	}
	size_t n = db_result_rows(res);
	pp_mail_outbox_row_t *rows = calloc(n > 0 ? n : 1, sizeof(*rows));
	if (rows == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		rows[i].id = db_result_int(res, i, 0);
		(void)str_copy(rows[i].recipient, sizeof(rows[i].recipient),
		               db_result_text(res, i, 1));
		(void)str_copy(rows[i].template_name, sizeof(rows[i].template_name),
		               db_result_text(res, i, 2));
		(void)str_copy(rows[i].state, sizeof(rows[i].state), db_result_text(res, i, 3));
		rows[i].attempts = db_result_int(res, i, 4);
		job_text_copy(rows[i].last_error, sizeof(rows[i].last_error),
		              db_result_text(res, i, 5));
		rows[i].created_at = db_result_int(res, i, 6);
		rows[i].sent_at = db_result_int(res, i, 7);
	}
	db_result_free(&res);
	*rows_r = rows;
	*count_r = n;
	return 0;
}

/* ------------------------------------------------------------------------------------- */
/* The sender thread.                                                                      */

struct pp_mail_outbox {
	pp_core_t *core;
	pp_mail_sender_config_t cfg;
	char public_url[1024];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool is_stopping;
	bool is_woken;
};

/* Drops sent and failed rows older than a week (the log keeps the story). */
static void outbox_prune(pp_core_t *core)
{
	const pp_db_value_t params[] = {DB_INT(core_now(core) - OUTBOX_SENT_KEEP_S)};
	outbox_update(
	    core, "DELETE FROM mail_outbox WHERE state IN ('sent','failed') AND created_at < $1",
	    params, 1);
}

static void *outbox_thread(void *arg)
{
	pp_mail_outbox_t *o = arg;
	unsigned poll_ms = o->cfg.poll_ms != 0 ? o->cfg.poll_ms : OUTBOX_DEFAULT_POLL_MS;
	unsigned passes = 0;
	for (;;) {
		pp_mail_outbox_stats_t stats;
		char error[512];
		if (mail_outbox_run(o->core, &o->cfg, OUTBOX_BATCH, &stats, error, sizeof(error)) <
		    0)
			log_error("mail.outbox_failed error=\"%s\" action=\"check the database\"",
			          error);
		if (passes++ % 7200 == 0)
			outbox_prune(o->core);
		pthread_mutex_lock(&o->lock);
		if (!o->is_stopping && !o->is_woken) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_nsec += (long)(poll_ms % 1000) * 1000000L;
			until.tv_sec += poll_ms / 1000 + until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			(void)pthread_cond_timedwait(&o->cond, &o->lock, &until);
		}
		o->is_woken = false;
		bool is_stopping = o->is_stopping;
		pthread_mutex_unlock(&o->lock);
		if (is_stopping)
			break;
	}
	return NULL;
}

int mail_outbox_start(pp_core_t *core, const pp_mail_sender_config_t *cfg,
                      pp_mail_outbox_t **outbox_r, char *error, size_t error_size)
{
	*outbox_r = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		str_format(error, error_size, "mail: cannot start libcurl");
		return -1;
	}
	pp_mail_outbox_t *o = calloc(1, sizeof(*o));
	if (o == NULL) {
		curl_global_cleanup();
		str_format(error, error_size, "out of memory");
		return -1;
	}
	o->core = core;
	o->cfg = *cfg;
	(void)str_copy(o->public_url, sizeof(o->public_url),
	               cfg->public_url != NULL ? cfg->public_url : "");
	o->cfg.public_url = o->public_url;
	pthread_condattr_t attr;
	bool is_ok = pthread_condattr_init(&attr) == 0;
	is_ok = is_ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
	        pthread_cond_init(&o->cond, &attr) == 0;
	if (is_ok)
		(void)pthread_condattr_destroy(&attr);
	if (!is_ok || pthread_mutex_init(&o->lock, NULL) != 0) {
		free(o);
		curl_global_cleanup();
		str_format(error, error_size, "mail: cannot make the outbox's lock");
		return -1;
	}
	int rc = pthread_create(&o->thread, NULL, outbox_thread, o);
	if (rc != 0) {
		pthread_cond_destroy(&o->cond);
		pthread_mutex_destroy(&o->lock);
		free(o);
		curl_global_cleanup();
		str_format(error, error_size, "mail: cannot start the outbox thread: %s",
		           strerror(rc));
		return -1;
	}
	log_info("mail.outbox_started poll_ms=%u",
	         cfg->poll_ms != 0 ? cfg->poll_ms : OUTBOX_DEFAULT_POLL_MS);
	*outbox_r = o;
	return 0;
}

void mail_outbox_wake(pp_mail_outbox_t *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->is_woken = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

void mail_outbox_stop(pp_mail_outbox_t **outbox)
{
	pp_mail_outbox_t *o = *outbox;
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->is_stopping = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
	(void)pthread_join(o->thread, NULL);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	free(o);
	curl_global_cleanup();
	*outbox = NULL;
}
