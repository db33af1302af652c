/*
 * mail-command.c - commands in a mail's subject: release held jobs to a printer, delete
 * them, or ask for a new confirmation code; and the release key that proves a command comes
 * from the jobs' owner.
 *
 * Subjects (after any "Re:", "Fwd:", "AW:" … prefixes; case does not matter):
 *   <release key> <printer> [job …]   release the sender's held jobs (or the ones named:
 *                                     "12", "#12", "12,13") to a registered, enabled printer,
 *                                     named by alias, name or printer address
 *   delete <release key> [job …]      delete the sender's held jobs (or the ones named)
 *   new code                          issue a new confirmation code and mail it
 *
 * The release key is a keyed hash of the user id under core->token_key, shown as
 * XXXX-XXXX-XXXX-XXXX (base32). Nothing is stored: the key of the sender's account is
 * computed again and compared in constant time, so a key works only from its owner's
 * address, and the address is vouched for by the inbound side's Authentication-Results
 * policy. A printer named in a mail is looked up in the registry and nowhere else.
 * Every command is answered by mail with what happened.
 */
#include "mail/mail-out-private.h"

#include "core/codes.h"
#include "core/job.h"
#include "core/settings.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_CHARS 16               /* base32 characters of a key, without dashes */
#define COMMAND_NEW_CODE_GAP_S 120 /* at most one new code by mail per user this often */

static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The 16 base32 characters of user_id's key into out[KEY_CHARS + 1]. */
static void command_key_chars(const pp_core_t *core, int64_t user_id, char out[KEY_CHARS + 1])
{
	char label[64];
	char hex[CRYPTO_HASH_HEX_LEN + 1];
	uint8_t bytes[10];
	(void)str_format(label, sizeof(label), "pullprint mail release key v1:%lld",
	                 (long long)user_id);
	crypto_keyed_hash_hex(core->token_key, label, strlen(label), hex);
	hex[2 * sizeof(bytes)] = '\0'; /* the first 80 bits */
	(void)str_hex_decode(bytes, sizeof(bytes), hex);
	/* 80 bits, 5 at a time. */
	for (size_t i = 0; i < KEY_CHARS; i++) {
		size_t bit = i * 5;
		unsigned v = ((unsigned)bytes[bit / 8] << 8) |
		             (bit / 8 + 1 < sizeof(bytes) ? bytes[bit / 8 + 1] : 0);
		out[i] = base32_alphabet[(v >> (11 - bit % 8)) & 31];
	}
	out[KEY_CHARS] = '\0';
	crypto_wipe(hex, sizeof(hex));
	crypto_wipe(bytes, sizeof(bytes));
}

void mail_release_key(const pp_core_t *core, int64_t user_id, char out[MAIL_RELEASE_KEY_LEN + 1])
{
	char chars[KEY_CHARS + 1];
	command_key_chars(core, user_id, chars);
	size_t o = 0;
	for (size_t i = 0; i < KEY_CHARS; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = chars[i];
	}
	out[o] = '\0';
	crypto_wipe(chars, sizeof(chars));
}

/*
 * The key as written, reduced to its 16 characters (upper case, dashes and blanks dropped)
 * into out[KEY_CHARS + 1]. False when it is not 16 base32 characters.
 */
static bool command_key_normalise(const char *key, char out[KEY_CHARS + 1])
{
	size_t n = 0;
	for (const char *p = key; *p != '\0'; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		char c = (char)toupper((unsigned char)*p);
		if (strchr(base32_alphabet, c) == NULL || c == '\0' || n >= KEY_CHARS)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == KEY_CHARS;
}

bool mail_release_key_check(const pp_core_t *core, int64_t user_id, const char *key)
{
	char given[KEY_CHARS + 1], expected[KEY_CHARS + 1];
	if (key == NULL || !command_key_normalise(key, given))
		return false;
	command_key_chars(core, user_id, expected);
	bool is_equal = crypto_equal(given, expected, KEY_CHARS);
	crypto_wipe(expected, sizeof(expected));
	return is_equal;
}

/*
 * Whether a subject word is written like a release key: 16 base32 characters once dashes
 * are dropped, with a dash or a digit in it — an English word of 16 letters is not a key.
 */
static bool command_word_is_key(const char *word)
{
	char chars[KEY_CHARS + 1];
	return command_key_normalise(word, chars) && strpbrk(word, "-234567") != NULL;
}

/* True for a printer word: an alias/name, or <alias>@<domain>. */
static bool command_word_is_printer(const char *word)
{
	size_t len = strlen(word);
	if (len == 0 || len >= MAIL_COMMAND_PRINTER_MAX)
		return false;
	bool seen_at = false;
	for (const char *p = word; *p != '\0'; p++) {
		if (*p == '@') {
			if (seen_at || p == word || p[1] == '\0')
				return false;
			seen_at = true;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	}
	return true;
}

/* The phrases that ask for a new code (lower case, single spaces), per language. */
static const char *const command_new_code_phrases[] = {
    "new code",     "newcode",      "new-code", "new confirmation code", /* en */
    "neuer code",   "neuen code",                                        /* de */
    "nouveau code",                                                      /* fr */
    "nuevo codigo", "nuevo código",                                      /* es */
    "nuovo codice",                                                      /* it */
};

/* The words that start a delete command. */
static const char *const command_delete_words[] = {"delete",    "löschen", "loeschen",
                                                   "supprimer", "borrar",  "elimina"};

/* Removes leading "Re:", "Fwd:", "AW:", "[tag]"-less reply prefixes from s (in place). */
static char *command_strip_prefixes(char *s)
{
	static const char *const prefixes[] = {"re", "fw", "fwd", "aw",   "wg", "sv",
	                                       "vs", "tr", "rv",  "antw", "r",  "ref"};
	for (bool again = true; again;) {
		again = false;
		s = str_trim(s);
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t len = strlen(prefixes[i]);
			if (strncasecmp(s, prefixes[i], len) != 0)
				continue;
			const char *p = s + len;
			if (*p == '[') { /* "Re[2]:" */
				p++;
				while (isdigit((unsigned char)*p))
					p++;
				if (*p != ']')
					continue;
				p++;
			}
			while (*p == ' ')
				p++;
			if (*p == ':') {
				s = (char *)p + 1;
				again = true;
				break;
			}
		}
	}
	return s;
}

/* Parses job numbers from words[0..n): "12", "#12", "12,13". */
static int command_parse_jobs(char **words, size_t n, pp_mail_command_t *cmd, char *error,
                              size_t error_size)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = words[i];
		while (*p != '\0') {
			if (*p == ',' || *p == '#') {
				p++;
				continue;
			}
			uint64_t id = 0;
			if (!parse_uint64(&p, INT64_MAX, &id) || id == 0 ||
			    (*p != '\0' && *p != ',')) {
				str_format(
				    error, error_size,
				    "\"%s\" is not a job number (give numbers like 12 or #12)",
				    words[i]);
				return -1;
			}
			if (cmd->n_job_ids >= MAIL_COMMAND_JOBS_MAX) {
				str_format(error, error_size, "at most %d job numbers in one mail",
				           MAIL_COMMAND_JOBS_MAX);
				return -1;
			}
			cmd->job_ids[cmd->n_job_ids++] = (int64_t)id;
		}
	}
	return 0;
}

#define COMMAND_WORDS_MAX (MAIL_COMMAND_JOBS_MAX + 8)

int mail_command_parse(const char *subject, pp_mail_command_t *cmd_r, char *error,
                       size_t error_size)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	char buf[1024];
	if (subject == NULL || strlen(subject) >= sizeof(buf))
		return 0; /* a subject this long is no command */
	(void)str_copy(buf, sizeof(buf), subject);
	for (char *p = buf; *p != '\0'; p++) {
		if (*p == '\t' || *p == '\r' || *p == '\n')
			*p = ' ';
	}
	char *s = command_strip_prefixes(buf);
	/* "new code", compared with single spaces and in lower case. */
	char phrase[1024];
	size_t o = 0;
	for (const char *p = s; *p != '\0' && o + 1 < sizeof(phrase); p++) {
		if (*p == ' ' && (o == 0 || phrase[o - 1] == ' '))
			continue;
		phrase[o++] = (char)tolower((unsigned char)*p);
	}
	while (o > 0 && (phrase[o - 1] == ' ' || phrase[o - 1] == '.' || phrase[o - 1] == '!'))
		o--;
	phrase[o] = '\0';
	for (size_t i = 0; i < sizeof(command_new_code_phrases) / sizeof(char *); i++) {
		if (strcmp(phrase, command_new_code_phrases[i]) == 0) {
			cmd_r->kind = PP_MAIL_COMMAND_NEW_CODE;
			return 0;
		}
	}
	/* Split into words at blanks. */
	char *words[COMMAND_WORDS_MAX];
	size_t n = 0;
	for (char *p = s; *p != '\0';) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (n >= COMMAND_WORDS_MAX)
			return 0; /* many words: a sentence, not a command */
		words[n++] = p;
		p += strcspn(p, " ");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (n == 0)
		return 0;
	bool is_delete = false;
	for (size_t i = 0; i < sizeof(command_delete_words) / sizeof(char *); i++)
		is_delete = is_delete || strcasecmp(words[0], command_delete_words[i]) == 0;
	if (is_delete) {
		if (n < 2 || !command_word_is_key(words[1])) {
			/* "delete" alone, or with something else, may be an ordinary subject. */
			if (n >= 2 && strlen(words[1]) >= 16 && strchr(words[1], '-') != NULL) {
				str_format(error, error_size,
				           "\"%s\" is not a release key: use the link in a reply",
				           words[1]);
				cmd_r->kind = PP_MAIL_COMMAND_DELETE;
				return -1;
			}
			return 0;
		}
		cmd_r->kind = PP_MAIL_COMMAND_DELETE;
		(void)str_copy(cmd_r->key, sizeof(cmd_r->key), words[1]);
		return command_parse_jobs(words + 2, n - 2, cmd_r, error, error_size);
	}
	if (!command_word_is_key(words[0]))
		return 0;
	cmd_r->kind = PP_MAIL_COMMAND_RELEASE;
	(void)str_copy(cmd_r->key, sizeof(cmd_r->key), words[0]);
	if (n < 2 || strcmp(words[1], "PRINTER") == 0) {
		str_format(error, error_size,
		           "name a printer after the release key (its name or alias, e.g. \"%s "
		           "floor2\")",
		           words[0]);
		return -1;
	}
	if (!command_word_is_printer(words[1])) {
		str_format(error, error_size, "\"%s\" is not a printer name", words[1]);
		return -1;
	}
	(void)str_copy(cmd_r->printer, sizeof(cmd_r->printer), words[1]);
	return command_parse_jobs(words + 2, n - 2, cmd_r, error, error_size);
}

int mail_printer_resolve(pp_core_t *core, const char *word, const char *inbox,
                         pp_printer_t *printer_r, char *error, size_t error_size)
{
	char name[MAIL_COMMAND_PRINTER_MAX];
	if (!str_copy(name, sizeof(name), word))
		return PRINTERS_NOT_FOUND;
	char *at = strchr(name, '@');
	if (at != NULL) {
		/* An address: only <alias>@<the printer domain>. */
		*at = '\0';
		char domain[SETTINGS_VALUE_MAX];
		char why[256];
		if (settings_get_string(core, "mail.printer_domain", domain, sizeof(domain), why,
		                        sizeof(why)) < 0)
			domain[0] = '\0';
		if (domain[0] == '\0') {
			const char *inbox_at = inbox != NULL ? strrchr(inbox, '@') : NULL;
			if (inbox_at == NULL)
				return PRINTERS_NOT_FOUND;
			(void)str_copy(domain, sizeof(domain), inbox_at + 1);
		}
		if (strcasecmp(at + 1, domain) != 0)
			return PRINTERS_NOT_FOUND;
	}
	int rc = printers_find(core, name, printer_r, error, error_size);
	if (rc == 0 && !printer_r->is_enabled)
		return PRINTERS_NOT_FOUND;
	return rc;
}

/* ------------------------------------------------------------------------------------- */
/* Carrying commands out.                                                                  */

/* Queues the command-error reply: reason, the printers (when asked) and the new-code link. */
static int command_refuse(pp_core_t *core, const pp_mail_message_t *msg, int64_t user_id,
                          const char *reason, bool with_printers, char *error, size_t error_size)
{
	json_t *ctx = json_pack("{s:s, s:s, s:s}", "subject", msg->subject, "inbox", msg->to,
	                        "reason", reason);
	if (ctx == NULL) {
		str_format(error, error_size, "command: out of memory");
		return -1;
	}
	/* Without with_printers the links are built but the template shows only new code. */
	int rc = mail_reply_queue(core, msg->from, "command-error", with_printers ? user_id : 0,
	                          ctx, msg->message_id, MAIL_CODE_NONE, false, error, error_size);
	json_decref(ctx);
	return rc;
}

/* The jobs a command works on: the ones named (owned by user), or every job in states. */
static int command_jobs(pp_core_t *core, const pp_mail_command_t *cmd, int64_t user_id,
                        uint32_t states, pp_job_t **jobs_r, size_t *count_r, json_t *missing,
                        char *error, size_t error_size)
{
	*jobs_r = NULL;
	*count_r = 0;
	if (cmd->n_job_ids == 0) {
		int64_t next = 0;
		return job_list_for_user(core, user_id, states, JOB_LIST_MAX, 0, jobs_r, count_r,
		                         &next, error, error_size);
	}
	pp_job_t *jobs = calloc(cmd->n_job_ids, sizeof(*jobs));
	if (jobs == NULL) {
		str_format(error, error_size, "out of memory");
		return -1;
	}
	size_t n = 0;
	for (size_t i = 0; i < cmd->n_job_ids; i++) {
		int rc = job_get(core, cmd->job_ids[i], &jobs[n], error, error_size);
		if (rc == JOB_ERROR) {
			free(jobs);
			return -1;
		}
		/* Another user's job reads as missing: a mail cannot probe which ids exist. */
		if (rc == JOB_NOT_FOUND || jobs[n].user_id != user_id) {
			json_t *m = json_pack("{s:s, s:I, s:s}", "name", "?", "id",
			                      (json_int_t)cmd->job_ids[i], "reason",
			                      "no such job of yours");
			if (m != NULL)
				(void)json_array_append_new(missing, m);
			continue;
		}
		n++;
	}
	*jobs_r = jobs;
	*count_r = n;
	return 0;
}

/* Appends {name, id[, reason]} to list. */
static void command_list_add(json_t *list, const pp_job_t *job, const char *reason)
{
	json_t *e = json_pack("{s:s, s:I}", "name", job->title[0] != '\0' ? job->title : "document",
	                      "id", (json_int_t)job->id);
	if (e != NULL && reason != NULL)
		(void)json_object_set_new(e, "reason", json_string(reason));
	if (e != NULL)
		(void)json_array_append_new(list, e);
}

static int command_release(pp_core_t *core, const pp_mail_message_t *msg,
                           const pp_mail_command_t *cmd, const pp_user_t *user, char *error,
                           size_t error_size)
{
	pp_printer_t printer;
	int rc = mail_printer_resolve(core, cmd->printer, msg->to, &printer, error, error_size);
	if (rc == PRINTERS_NOT_FOUND) {
		char reason[MAIL_COMMAND_PRINTER_MAX + 96];
		(void)str_format(reason, sizeof(reason),
		                 "there is no printer \"%s\" that takes jobs by mail",
		                 cmd->printer);
		return command_refuse(core, msg, user->id, reason, true, error, error_size);
	}
	if (rc != 0)
		return -1;
	json_t *released = json_array(), *failed = json_array();
	pp_job_t *jobs = NULL;
	size_t n = 0;
	if (released == NULL || failed == NULL ||
	    command_jobs(core, cmd, user->id, JOB_STATE_BIT(PP_JOB_HELD), &jobs, &n, failed, error,
	                 error_size) < 0) {
		json_decref(released);
		json_decref(failed);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char why[512];
		if (jobs[i].state != PP_JOB_HELD) {
			char reason[64];
			(void)str_format(reason, sizeof(reason), "not waiting for release (%s)",
			                 job_state_name(jobs[i].state));
			command_list_add(failed, &jobs[i], reason);
			continue;
		}
		int jrc = job_release(core, jobs[i].id, printer.id, NULL, "mail", why, sizeof(why));
		if (jrc == JOB_OK)
			command_list_add(released, &jobs[i], NULL);
		else
			command_list_add(failed, &jobs[i],
			                 jrc == JOB_STATE_LOST ? "released or deleted meanwhile"
			                                       : why);
	}
	job_list_free(&jobs);
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, user->email, tag);
	log_info("mail.release user=%s printer=%s released=%zu not_released=%zu", tag, printer.name,
	         json_array_size(released), json_array_size(failed));
	json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "subject", msg->subject, "inbox",
	                        msg->to, "printer", printer.alias, "location", printer.location,
	                        "released", released, "failed", failed);
	if (ctx == NULL) {
		str_format(error, error_size, "command: out of memory");
		return -1;
	}
	rc = mail_reply_queue(core, msg->from, "release", user->id, ctx, msg->message_id,
	                      MAIL_CODE_NONE, false, error, error_size);
	json_decref(ctx);
	return rc;
}

static int command_delete(pp_core_t *core, const pp_mail_message_t *msg,
                          const pp_mail_command_t *cmd, const pp_user_t *user, char *error,
                          size_t error_size)
{
	json_t *deleted = json_array(), *kept = json_array();
	pp_job_t *jobs = NULL;
	size_t n = 0;
	uint32_t waiting = JOB_STATE_BIT(PP_JOB_HELD);
	if (deleted == NULL || kept == NULL ||
	    command_jobs(core, cmd, user->id, waiting, &jobs, &n, kept, error, error_size) < 0) {
		json_decref(deleted);
		json_decref(kept);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char why[512];
		int jrc = jobs[i].state == PP_JOB_RELEASING || jobs[i].state == PP_JOB_PRINTING
		              ? JOB_STATE_FORBIDDEN
		              : job_delete(core, jobs[i].id, why, sizeof(why));
		if (jrc == JOB_OK)
			command_list_add(deleted, &jobs[i], NULL);
		else if (jrc == JOB_STATE_FORBIDDEN)
			command_list_add(kept, &jobs[i], "it is being printed");
		else if (jrc != JOB_NOT_FOUND)
			command_list_add(kept, &jobs[i], why);
	}
	job_list_free(&jobs);
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, user->email, tag);
	log_info("mail.delete user=%s deleted=%zu kept=%zu", tag, json_array_size(deleted),
	         json_array_size(kept));
	json_t *ctx = json_pack("{s:s, s:s, s:I, s:o, s:o}", "subject", msg->subject, "inbox",
	                        msg->to, "deleted_count", (json_int_t)json_array_size(deleted),
	                        "deleted", deleted, "kept", kept);
	if (ctx == NULL) {
		str_format(error, error_size, "command: out of memory");
		return -1;
	}
	int rc = mail_reply_queue(core, msg->from, "delete", user->id, ctx, msg->message_id,
	                          MAIL_CODE_NONE, false, error, error_size);
	json_decref(ctx);
	return rc;
}

/* Whether user_id was sent a new code within the last COMMAND_NEW_CODE_GAP_S seconds. */
static int command_new_code_recent(pp_core_t *core, int64_t user_id, bool *is_recent_r, char *error,
                                   size_t error_size)
{
	const pp_db_value_t params[] = {DB_INT(user_id),
	                                DB_INT(core_now(core) - COMMAND_NEW_CODE_GAP_S)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(
	        core->db,
	        "SELECT count(*) FROM mail_outbox WHERE user_id = $1 AND template = 'new-code' "
	        "AND created_at > $2",
	        params, 2, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "command: %s", db_error);
		return -1;
	}
	*is_recent_r = db_result_rows(res) == 1 && db_result_int(res, 0, 0) > 0;
	db_result_free(&res);
	return 0;
}

int mail_command_handle(pp_core_t *core, const pp_mail_message_t *msg, bool *handled_r, char *error,
                        size_t error_size)
{
	*handled_r = false;
	pp_mail_command_t cmd;
	char why[512];
	int prc = mail_command_parse(msg->subject, &cmd, why, sizeof(why));
	if (cmd.kind == PP_MAIL_COMMAND_NONE)
		return 0;
	*handled_r = true;
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, msg->from, tag);
	if (prc < 0) {
		log_info("mail.command_malformed user=%s error=\"%s\"", tag, why);
		return command_refuse(core, msg, 0, why, false, error, error_size);
	}
	pp_user_t user;
	bool is_found = false;
	if (users_get_by_email(core, msg->from, &user, &is_found, error, error_size) < 0)
		return -1;
	if (!is_found) {
		char reason[MAIL_ADDRESS_MAX + 128];
		(void)str_format(reason, sizeof(reason),
		                 "this address has no account yet: mail a document to %s first",
		                 msg->to[0] != '\0' ? msg->to : "the print service");
		return command_refuse(core, msg, 0, reason, false, error, error_size);
	}
	if (user.state == PP_USER_DISABLED)
		return command_refuse(core, msg, 0,
		                      "this account is disabled; ask an administrator", false,
		                      error, error_size);
	if (cmd.kind == PP_MAIL_COMMAND_NEW_CODE) {
		/* One new code per user per COMMAND_NEW_CODE_GAP_S: a flood of requests (a forged
		 * From, where no Authentication-Results policy guards) neither floods the mailbox
		 * nor keeps the user's code changing. The extra requests get no answer. */
		bool is_recent = false;
		if (command_new_code_recent(core, user.id, &is_recent, error, error_size) < 0)
			return -1;
		if (is_recent) {
			log_info("mail.new_code_throttled user=%s", tag);
			return 0;
		}
		json_t *ctx = json_pack("{s:s, s:s, s:b}", "subject", msg->subject, "inbox",
		                        msg->to, "is_pending", user.state == PP_USER_PENDING);
		if (ctx == NULL) {
			str_format(error, error_size, "command: out of memory");
			return -1;
		}
		log_info("mail.new_code user=%s", tag);
		int rc =
		    mail_reply_queue(core, msg->from, "new-code", user.id, ctx, msg->message_id,
		                     MAIL_CODE_ALWAYS, false, error, error_size);
		json_decref(ctx);
		return rc;
	}
	/* Release and delete: the key must be this sender's own. */
	if (!mail_release_key_check(core, user.id, cmd.key)) {
		log_warn("mail.release_key_refused user=%s command=%s", tag,
		         cmd.kind == PP_MAIL_COMMAND_RELEASE ? "release" : "delete");
		return command_refuse(
		    core, msg, 0,
		    "the release key is not the one of this address (use the links "
		    "in a reply the print service sent you)",
		    false, error, error_size);
	}
	if (user.state == PP_USER_PENDING)
		return command_refuse(core, msg, 0,
		                      "your account waits for an administrator's approval; your "
		                      "documents can be released once it is approved",
		                      false, error, error_size);
	if (cmd.kind == PP_MAIL_COMMAND_RELEASE)
		return command_release(core, msg, &cmd, &user, error, error_size);
	return command_delete(core, msg, &cmd, &user, error, error_size);
}
