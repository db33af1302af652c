/*
 * mail.h - print by email: the one public header of src/mail.
 *
 * Mail comes in from one or more mailboxes (IMAP or POP3 through libcurl), polled by one
 * thread (mail_poller_*). Each message is parsed with GMime into a pp_mail_message_t: who
 * sent it (canonical From), whether it is noise (bounce, auto-reply, list mail, our own
 * reply) or spoofed (Authentication-Results policy), the printable parts (typed by content)
 * and the parts skipped with the reason. Then, per message, in this order:
 *
 *   1. noise or spoofed          -> logged, deleted, no reply;
 *   2. unreadable                -> mail_reply_unreadable() [MAIL-OUT], deleted;
 *   3. subject is a command      -> mail_command_handle() [MAIL-OUT] (release, new code, …);
 *   4. otherwise a submission    -> sender policy, then in ONE transaction: the parts stored
 *                                   as jobs, mail_reply_submission() [MAIL-OUT] queueing the
 *                                   confirmation, the message recorded as seen (Message-ID +
 *                                   content hash);
 *   5. only then is the message deleted on the server (a crash before re-reads it; the seen
 *      row makes the re-read delete it without new jobs and without a second reply).
 * Because of 4, the mail_reply_* functions run INSIDE the caller's transaction (possibly a
 * group commit run by another thread, possibly run twice after a rollback): they may only
 * run statements on core->db (no db_tx_*, no waiting, nothing outside the database).
 *
 * Two engineers share this folder: MAIL-IN (accounts, polling, parsing, sender, intake) and
 * MAIL-OUT (commands, replies, outbox, templates). Functions marked [MAIL-OUT] are
 * implemented by MAIL-OUT; all others by MAIL-IN.
 */
#ifndef PP_MAIL_H
#define PP_MAIL_H

#include "core/core.h"
#include "core/job.h"
#include "core/users.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAIL_ADDRESS_MAX USERS_EMAIL_MAX /* a canonical addr-spec + NUL */
#define MAIL_REASON_MAX 256             /* why a part was skipped / a mail is unreadable */
#define MAIL_HASH_BYTES 32              /* content hash (BLAKE2b-256 of the raw message) */

/* ------------------------------------------------------------------------------------- */
/* The parsed message (MAIL-IN fills it; everything below is read-only for MAIL-OUT).     */

/* Why a message is noise: it never gets a reply and is never printed. */
typedef enum {
	PP_MAIL_NOISE_NONE = 0,
	PP_MAIL_NOISE_BOUNCE,         /* delivery status notification / mailer-daemon */
	PP_MAIL_NOISE_NULL_SENDER,    /* Return-Path: <> or no usable From */
	PP_MAIL_NOISE_AUTO_SUBMITTED, /* Auto-Submitted: anything but "no" */
	PP_MAIL_NOISE_PRECEDENCE,     /* Precedence: bulk, junk or list */
	PP_MAIL_NOISE_OWN_ADDRESS,    /* From is one of our own (sending or receiving) addresses */
} pp_mail_noise_t;

/* The Authentication-Results verdict under the admin's policy (mail.auth_serv_id,
 * mail.require_auth). NONE: no policy set, so nothing is required. */
typedef enum {
	PP_MAIL_AUTH_NONE = 0,
	PP_MAIL_AUTH_PASS,
	PP_MAIL_AUTH_FAIL, /* required result missing or not "pass": not printed, logged */
} pp_mail_auth_t;

/* A printable part: a supported document. */
typedef struct {
	char *name;         /* file name, decoded (RFC 2047/2231) to UTF-8; never NULL
	                       ("attachment-N" when the mail names none, "message.txt"/".html"
	                       for a printed body) */
	const char *content_type; /* sniffed by content (doctype_sniff): static string */
	uint8_t *data;      /* the decoded bytes (transfer encoding undone) */
	size_t size_bytes;
	bool is_body;       /* this is the mail's text body, printed per mail.body_policy */
} pp_mail_part_t;

/* A part that is not printed, and why ("unsupported type image/svg+xml", "inline image
 * under 20480 bytes", "empty", "too large" …). */
typedef struct {
	char *name;   /* as in pp_mail_part_t; never NULL */
	char *reason; /* short English text for the reply and the log; never NULL */
} pp_mail_skipped_t;

typedef struct {
	int64_t account_id;         /* the mailbox it came from (mail_accounts.id) */
	char *message_id;           /* Message-ID without <>; never NULL ("" when missing) */
	char from[MAIL_ADDRESS_MAX]; /* canonical From: lower-case addr-spec; "" if none */
	char *from_name;            /* display name of From, decoded; never NULL */
	char to[MAIL_ADDRESS_MAX];  /* the mailbox address it came to (the account's address) */
	char *subject;              /* decoded, UTF-8; never NULL */
	int64_t date;               /* Date header, Unix seconds; 0 if missing or invalid */
	bool is_noise;              /* noise != PP_MAIL_NOISE_NONE */
	pp_mail_noise_t noise;
	pp_mail_auth_t auth;
	pp_mail_part_t *parts;      /* n_parts printable parts, in mail order */
	size_t n_parts;
	pp_mail_skipped_t *skipped; /* n_skipped parts not printed, in mail order */
	size_t n_skipped;
	char *body;                 /* the text body (UTF-8; text/plain preferred); never NULL */
	bool body_is_html;          /* body is text/html (no text/plain alternative) */
	uint8_t content_hash[MAIL_HASH_BYTES]; /* of the raw message bytes */
} pp_mail_message_t;

/* A job made from one part of a submission, for the confirmation reply. */
typedef struct {
	int64_t job_id;
	char uuid[JOB_UUID_MAX];
	const char *name;   /* borrowed from the message's part */
	int64_t printer_id; /* print now: the printer it goes to; 0 = held for release */
} pp_mail_job_t;

/* Settings MAIL-IN reads (src/core/settings.c), for reference:
 *   mail.body_policy                    "no_attachments" (default) | "always" | "never"
 *   mail.skip_inline_images_below_bytes  inline images smaller than this are skipped (20480)
 *   mail.auth_serv_id                    trusted Authentication-Results authserv-id ("" = off)
 *   mail.require_auth                    "dmarc" (default) | "dkim" | "spf" | "none"
 *   mail.print_now_enabled               a printer named in the subject prints at once
 *   mail.max_message_bytes               larger messages are refused (reply) and deleted
 */

/*
 * Parses a raw RFC 5322 message data[0..len) (any size up to the caller's cap) into a new
 * *msg_r with the current settings (body and inline-image policy, auth policy, own
 * addresses). account_id and to are copied into the message. Returns 0, or -1 when the mail
 * cannot be read, with the reason in error (fit for the reply to the sender); on -1 *msg_r is
 * still set when at least the headers could be read (from, subject, noise, auth, hash: enough
 * to reply or to stay silent), else NULL. *msg_r is new; free with mail_message_free().
 */
int mail_message_parse(pp_core_t *core, int64_t account_id, const char *to, const uint8_t *data,
                       size_t len, pp_mail_message_t **msg_r, char *error, size_t error_size);

/* Frees a message and its parts; sets *msg to NULL. NULL is a no-op. */
void mail_message_free(pp_mail_message_t **msg);

/* Short text for a noise kind ("bounce", "auto-submitted" …). Static. */
const char *mail_noise_name(pp_mail_noise_t noise);

/* ------------------------------------------------------------------------------------- */
/* Commands in the subject [MAIL-OUT].                                                    */

typedef enum {
	PP_MAIL_COMMAND_NONE = 0, /* not a command: a submission */
	PP_MAIL_COMMAND_RELEASE,  /* release key + printer alias/address (+ optional job ids) */
	PP_MAIL_COMMAND_NEW_CODE, /* the fixed "new code" subject */
	PP_MAIL_COMMAND_DELETE,   /* delete the held jobs (release key) */
} pp_mail_command_kind_t;

#define MAIL_COMMAND_KEY_MAX 128
#define MAIL_COMMAND_PRINTER_MAX 256
#define MAIL_COMMAND_JOBS_MAX 32

typedef struct {
	pp_mail_command_kind_t kind;
	char key[MAIL_COMMAND_KEY_MAX];         /* release key as written; "" if none */
	char printer[MAIL_COMMAND_PRINTER_MAX]; /* printer alias or address; "" if none */
	int64_t job_ids[MAIL_COMMAND_JOBS_MAX]; /* jobs named; n_job_ids 0 = all held jobs */
	size_t n_job_ids;
} pp_mail_command_t;

/*
 * [MAIL-OUT] Recognises a command in a decoded subject; fills *cmd_r (kind NONE for an
 * ordinary submission). Pure text parsing, no storage. Returns 0, or -1 for a subject that
 * looks like a command but is malformed (error says why).
 */
int mail_command_parse(const char *subject, pp_mail_command_t *cmd_r, char *error,
                       size_t error_size);

/*
 * [MAIL-OUT] Carries out the command in msg's subject for msg->from (release, new code,
 * delete) and queues its reply. *handled_r is false when the subject is not a command (the
 * caller then treats the mail as a submission). Called outside any transaction, at most
 * once per message in the normal course but possibly again after a crash before the
 * message was deleted. Returns 0 (handled or not), or -1 on a temporary failure (storage):
 * the caller keeps the message on the server and retries at the next poll.
 */
int mail_command_handle(pp_core_t *core, const pp_mail_message_t *msg, bool *handled_r,
                        char *error, size_t error_size);

/* ------------------------------------------------------------------------------------- */
/* Replies [MAIL-OUT]: queued in the outbox, sent by the outbox thread; never block.      */

/*
 * [MAIL-OUT] Queues the confirmation of a submission to msg->from: each job (name, pages
 * once converted or why conversion failed), the skipped parts with their reasons, the
 * user's code per policy, release instructions and links. user is the sender's user row
 * (status pending: the reply says an admin must approve first). n_jobs may be 0 (every
 * part skipped). Called inside the transaction that creates the jobs (see the file comment:
 * database statements only). Returns 0, or -1 (the transaction is rolled back and the mail
 * read again at the next poll).
 */
int mail_reply_submission(pp_core_t *core, const pp_mail_message_t *msg, const pp_user_t *user,
                          const pp_mail_job_t *jobs, size_t n_jobs,
                          const pp_mail_skipped_t *skipped, size_t n_skipped, char *error,
                          size_t error_size);

/*
 * [MAIL-OUT] Queues a reply to from (canonical address) saying the mail could not be read
 * and why (reason: short English text, no secrets). subject is the original subject when
 * known, else NULL. Called inside the caller's transaction, as above. Returns 0 or -1.
 */
int mail_reply_unreadable(pp_core_t *core, const char *from, const char *subject,
                          const char *reason, char *error, size_t error_size);

/* ------------------------------------------------------------------------------------- */
/* Inbound accounts (mail-account.c).                                                     */

#define MAIL_ACCOUNT_NAME_MAX 64
#define MAIL_URL_MAX 512

typedef enum { PP_MAIL_PROTO_IMAP = 0, PP_MAIL_PROTO_POP3 } pp_mail_proto_t;
typedef enum { PP_MAIL_LOGIN_PASSWORD = 0, PP_MAIL_LOGIN_XOAUTH2 } pp_mail_login_t;

/* One inbound mailbox as stored (the secret is never in this struct). */
typedef struct {
	int64_t id;
	char name[MAIL_ACCOUNT_NAME_MAX];  /* admin's label, unique */
	char url[MAIL_URL_MAX];            /* imaps://host[:port]/INBOX, imap://… (STARTTLS
	                                      required), pop3s://host[:port] */
	pp_mail_proto_t proto;
	char username[MAIL_ADDRESS_MAX];
	pp_mail_login_t login;             /* password or OAuth2 bearer */
	char address[MAIL_ADDRESS_MAX];    /* the mailbox's own address (for To and loops) */
	bool is_verify_tls;                /* verify the server certificate (default true) */
	char ca_file[MAIL_URL_MAX];        /* extra CA bundle; "" = system store */
	int64_t poll_interval_s;           /* default 10 */
	int64_t default_printer_id;        /* 0 = hold; else everything mailed here prints */
	bool is_enabled;
	/* status, written by the poller */
	int64_t last_poll_at;              /* 0 = never */
	int64_t last_ok_at;
	char last_error[MAIL_REASON_MAX];  /* "" after a good poll */
	int64_t messages_ingested;
} pp_mail_account_t;

#define MAIL_SECRET_MAX 8192 /* longest password / OAuth2 access token (a few KB) */

/* "imap"/"pop3", "password"/"xoauth2" and back. Static. */
const char *mail_proto_name(pp_mail_proto_t proto);
const char *mail_login_name(pp_mail_login_t login);
bool mail_login_parse(const char *name, pp_mail_login_t *login_r);

/*
 * The config check "inbound and outbound accounts differ": refuses an inbound mailbox whose
 * address is the replies' From address, or whose login is the SMTP login (the server would
 * read its own replies). Returns 0 (fine, or no SMTP set up yet) or -1 with why.
 */
int mail_account_check_outbound(pp_core_t *core, const char *address, const char *username,
                                const char *url, char *error, size_t error_size);

/* What mail_account_add() needs. secret: password or OAuth2 access token (stored
 * encrypted with a key derived from the master key). */
typedef struct {
	const char *name;
	const char *url;
	const char *username;
	const char *secret;
	pp_mail_login_t login;
	const char *address;       /* NULL = username when it is an address */
	bool is_insecure_tls;      /* turn certificate verification off (logged, discouraged) */
	const char *ca_file;       /* NULL = system store */
	int64_t poll_interval_s;   /* 0 = default 10 */
	int64_t default_printer_id;
} pp_mail_account_new_t;

/*
 * Account storage. The secret is sealed (XChaCha20-Poly1305) under a key derived from
 * core->token_key (itself derived from the master key), so a stolen database alone opens
 * nothing.
 *
 * mail_account_add: checks the URL (imaps://, imap:// which then requires STARTTLS,
 * pop3s://), and that the account is not the outbound SMTP account; audited with actor.
 * *id_r may be NULL. Returns 0, DB_DUPLICATE (name taken) or -1.
 */
int mail_account_add(pp_core_t *core, const char *actor, const pp_mail_account_new_t *account,
                     int64_t *id_r, char *error, size_t error_size);
/* Removes the account named name. Returns 0, or -1 (not found / storage). */
int mail_account_remove(pp_core_t *core, const char *actor, const char *name, char *error,
                        size_t error_size);
/* Every account with its status, by name. *accounts_r new; free with
 * mail_account_list_free(). Returns 0 or -1. */
int mail_account_list(pp_core_t *core, pp_mail_account_t **accounts_r, size_t *count_r,
                      char *error, size_t error_size);
void mail_account_list_free(pp_mail_account_t **accounts);
/*
 * Connects to the account named name, logs in and lists the mailbox, without fetching or
 * deleting anything. *transcript_r (new; free()) gets the server's answers (greeting,
 * capabilities, the result of the listing; never the secret). Returns 0 when login and
 * listing worked, -1 otherwise (error says what failed; the transcript is still filled
 * when the server answered at all).
 */
int mail_account_test(pp_core_t *core, const char *name, char **transcript_r, char *error,
                      size_t error_size);
/* Whether address (canonical) is one of the inbound mailboxes' addresses. Returns 0 or -1. */
int mail_account_is_own_address(pp_core_t *core, const char *address, bool *is_own_r,
                                char *error, size_t error_size);

/* ------------------------------------------------------------------------------------- */
/* The poller thread (mail-poll.c), started and stopped by the server.                    */

typedef struct pp_mail_poller pp_mail_poller_t;

/*
 * Starts the poller thread over every enabled account (re-read at each round, so accounts
 * added or removed meanwhile take effect without a restart). core is borrowed: it must
 * outlive the poller. Returns 0 with *poller_r new (stop with mail_poller_stop()), or -1.
 */
int mail_poller_start(pp_core_t *core, pp_mail_poller_t **poller_r, char *error,
                      size_t error_size);
/* Asks the thread to stop, waits for it (at most one transfer's timeout), frees it; sets
 * *poller NULL. NULL is a no-op. */
void mail_poller_stop(pp_mail_poller_t **poller);
/* Wakes the poller now (e.g. after an account was added). NULL is a no-op. */
void mail_poller_wake(pp_mail_poller_t *poller);

#endif
