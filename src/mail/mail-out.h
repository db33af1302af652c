/*
 * mail-out.h - the outbound side of print by email: SMTP settings, the outbox and its sender
 * thread, release keys and printer addresses.
 *
 * Every reply is a row of table mail_outbox before it is a mail. A row holds the template to
 * use and its context (JSON: documents by job id, skipped parts, the mailbox to link to), so
 * queueing never waits for the network or for conversion. The sender thread renders a row
 * when it is ready (a confirmation waits until its jobs are converted, or
 * mail.reply_wait_seconds passed), seals the rendered message in the row (it may carry a
 * confirmation code, which exists nowhere else in plain text), and sends it over SMTP
 * (libcurl: STARTTLS required, or implicit TLS; AUTH with a password or an OAuth2 bearer).
 * A failure is retried with backoff until mail.outbox_give_up_hours, then given up with a
 * log line. Rows survive restarts; a sent row keeps no message body.
 *
 * The release key that mailto: links carry is derived (keyed hash of the user id under
 * core->token_key): nothing is stored, and it only works from its owner's address.
 *
 * Companion of mail.h (the folder's boundary, which declares the [MAIL-OUT] functions
 * mail_command_* and mail_reply_*); this header holds what the server, the command line and
 * the inbound side need besides.
 */
#ifndef PP_MAIL_OUT_H
#define PP_MAIL_OUT_H

#include "core/core.h"
#include "core/printers.h"
#include "core/users.h"
#include "mail/mail.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------- */
/* SMTP settings (mail-smtp-config.c): one row, the secret sealed.                         */

#define MAIL_SMTP_HOST_MAX 256
#define MAIL_SMTP_USER_MAX 256
#define MAIL_SMTP_NAME_MAX 128
#define MAIL_SMTP_PATH_MAX 512
#define MAIL_SMTP_SECRET_MAX 4096 /* OAuth2 access tokens run to a few kilobytes */

typedef enum {
	PP_SMTP_STARTTLS = 0, /* smtp://, STARTTLS required (port 587) */
	PP_SMTP_TLS,          /* smtps://, implicit TLS (port 465) */
	PP_SMTP_PLAIN,        /* smtp:// without TLS: only to a relay on this host (loopback) */
} pp_smtp_security_t;

typedef enum {
	PP_SMTP_AUTH_NONE = 0,
	PP_SMTP_AUTH_PASSWORD,
	PP_SMTP_AUTH_XOAUTH2, /* the secret is an OAuth2 access token */
} pp_smtp_auth_t;

typedef struct {
	bool is_configured; /* a row exists (else the fields hold defaults) */
	char host[MAIL_SMTP_HOST_MAX];
	unsigned port; /* 0 = 587 for STARTTLS, 465 for TLS, 25 for plain */
	pp_smtp_security_t security;
	bool is_verify_tls;               /* verify the server certificate (default true) */
	char ca_file[MAIL_SMTP_PATH_MAX]; /* extra CA bundle; "" = system store */
	pp_smtp_auth_t auth;
	char username[MAIL_SMTP_USER_MAX];
	bool has_secret;                    /* read only: a password or token is stored */
	char from_address[USERS_EMAIL_MAX]; /* canonical; the envelope and header From */
	char from_name[MAIL_SMTP_NAME_MAX]; /* display name; "" = none */
	int64_t updated_at;
} pp_smtp_config_t;

/* "starttls", "tls", "plain" / "none", "password", "xoauth2" and back. Static. */
const char *mail_smtp_security_name(pp_smtp_security_t security);
bool mail_smtp_security_parse(const char *name, pp_smtp_security_t *security_r);
const char *mail_smtp_auth_name(pp_smtp_auth_t auth);
bool mail_smtp_auth_parse(const char *name, pp_smtp_auth_t *auth_r);

/* The port used for cfg: cfg->port, or the security's default. */
unsigned mail_smtp_port(const pp_smtp_config_t *cfg);

/*
 * Reads the settings into *cfg_r (defaults and is_configured false when none are stored).
 * Never the secret. Returns 0 or -1.
 */
int mail_smtp_config_get(pp_core_t *core, pp_smtp_config_t *cfg_r, char *error, size_t error_size);

/*
 * Validates and stores *cfg (host required; plain only to a loopback host; from_address a
 * valid address; auth needs a username, and a secret stored now or before). secret: the
 * password or token to seal; NULL keeps the stored one, "" removes it. Audited with actor
 * (never the secret). Returns 0 or -1 (error names the field at fault).
 */
int mail_smtp_config_set(pp_core_t *core, const char *actor, const pp_smtp_config_t *cfg,
                         const char *secret, char *error, size_t error_size);

/*
 * Opens the stored secret into out[MAIL_SMTP_SECRET_MAX] ("" when none). The caller wipes it
 * (crypto_wipe) after use. Returns 0 or -1.
 */
int mail_smtp_secret_get(pp_core_t *core, char out[MAIL_SMTP_SECRET_MAX], char *error,
                         size_t error_size);

/* ------------------------------------------------------------------------------------- */
/* Sending one message (mail-smtp.c).                                                      */

/*
 * Sends message[len] (RFC 5322, CRLF line ends) to rcpt over SMTP with cfg and secret
 * (NULL or "" when cfg->auth is none). Blocks up to about a minute (connect 10 s, whole
 * transfer 60 s). *is_permanent_r (may be NULL) is set when the server refused for good
 * (5xx to the recipient or the data): retrying will not help. *transcript_r (may be NULL;
 * new, free()) gets the server's side of the dialogue for `pullprint mail smtp test`.
 * Returns 0 or -1 (error says what failed and what to check).
 */
int mail_smtp_send(const pp_smtp_config_t *cfg, const char *secret, const char *rcpt,
                   const char *message, size_t len, bool *is_permanent_r, char **transcript_r,
                   char *error, size_t error_size);

/* ------------------------------------------------------------------------------------- */
/* The outbox (mail-outbox.c).                                                             */

#define MAIL_TEMPLATE_NAME_MAX 64
#define MAIL_LANG_MAX 16

/* What a queued reply needs. */
typedef struct {
	const char *recipient;     /* canonical address */
	const char *template_name; /* "confirmation", "release", … (data/mail-templates/<lang>/) */
	const char *lang;          /* NULL = "en" */
	int64_t user_id;           /* 0 = no account */
	json_t *context;           /* borrowed; stored as JSON text */
	const char *in_reply_to;   /* Message-ID being answered (no <>), or NULL */
	/* Issue a confirmation code when the message is rendered and put it in the context as
	 * "code" (the plain code then lives only in the sealed message; needs user_id):
	 * 0 never, 1 always a new one, 2 only when the user has none by then. */
	int issue_code;
	/* A confirmation: wait for the jobs listed in context "jobs" (ids) to leave conversion,
	 * at most mail.reply_wait_seconds after now. */
	bool is_wait_for_jobs;
} pp_mail_outbox_new_t;

/*
 * Inserts the reply into the outbox (on the handle as it is: inside the caller's
 * transaction when it holds one). *id_r may be NULL. Returns 0 or -1.
 */
int mail_outbox_queue(pp_core_t *core, const pp_mail_outbox_new_t *item, int64_t *id_r, char *error,
                      size_t error_size);

/*
 * Queues the "new-code" mail to user: a new confirmation code, drawn when the outbox renders
 * the message, so the plain code exists only in that sealed message (never in the caller,
 * never in a log). Used by enrolment and by an admin's "new code". Returns 0 or -1.
 */
int mail_outbox_queue_new_code(pp_core_t *core, const pp_user_t *user, char *error,
                               size_t error_size);

/*
 * Sends a rendered message: the stand-in the tests give the sender instead of SMTP. Same
 * contract as mail_smtp_send().
 */
typedef int pp_mail_send_fn(void *ctx, const char *rcpt, const char *message, size_t len,
                            bool *is_permanent_r, char *error, size_t error_size);

typedef struct {
	const char *public_url; /* the portal's address for the replies ("" = not shown); copied */
	unsigned poll_ms;       /* how often the outbox is looked at; 0 = 500 */
	pp_mail_send_fn *send;  /* NULL = SMTP with the stored settings */
	void *send_ctx;
} pp_mail_sender_config_t;

/* What one pass did. */
typedef struct {
	size_t sent, retried, given_up, waiting;
} pp_mail_outbox_stats_t;

/*
 * One pass over the outbox: renders the rows that are ready and sends those due, at most
 * batch rows. Used by the sender thread and the tests. Returns 0 or -1 (storage).
 */
int mail_outbox_run(pp_core_t *core, const pp_mail_sender_config_t *cfg, size_t batch,
                    pp_mail_outbox_stats_t *stats_r, char *error, size_t error_size);

/* The outbox row as the tests and `pullprint mail outbox` see it. */
typedef struct {
	int64_t id;
	char recipient[USERS_EMAIL_MAX];
	char template_name[MAIL_TEMPLATE_NAME_MAX];
	char state[16]; /* pending, queued, sent, failed */
	int64_t attempts;
	char last_error[256];
	int64_t created_at, sent_at;
} pp_mail_outbox_row_t;

/* Lists the newest rows (at most limit). *rows_r new; free(). Returns 0 or -1. */
int mail_outbox_list(pp_core_t *core, size_t limit, pp_mail_outbox_row_t **rows_r, size_t *count_r,
                     char *error, size_t error_size);

typedef struct pp_mail_outbox pp_mail_outbox_t;

/*
 * Starts the outbox's sender thread (calls curl_global_init once). core is borrowed and must
 * outlive it. Returns 0 with *outbox_r new (stop with mail_outbox_stop()), or -1.
 */
int mail_outbox_start(pp_core_t *core, const pp_mail_sender_config_t *cfg,
                      pp_mail_outbox_t **outbox_r, char *error, size_t error_size);

/* Wakes the sender thread now (a reply was queued). NULL is a no-op. */
void mail_outbox_wake(pp_mail_outbox_t *outbox);

/* Stops the thread after its current send, frees it, sets *outbox NULL. NULL is a no-op. */
void mail_outbox_stop(pp_mail_outbox_t **outbox);

/* ------------------------------------------------------------------------------------- */
/* Release keys and printer addresses (mail-command.c).                                    */

#define MAIL_RELEASE_KEY_LEN 19 /* "XXXX-XXXX-XXXX-XXXX": 16 base32 characters, 80 bits */

/*
 * The release key of user_id into out[MAIL_RELEASE_KEY_LEN + 1]: 16 characters of base32
 * (A-Z, 2-7) of a keyed hash under core->token_key, in groups of four joined by '-' (the
 * dashes tell a key from an ordinary word in a subject). Stable for the user; not stored.
 */
void mail_release_key(const pp_core_t *core, int64_t user_id, char out[MAIL_RELEASE_KEY_LEN + 1]);

/*
 * Whether key (as written: any case, dashes and spaces ignored) is user_id's release key,
 * compared in constant time.
 */
bool mail_release_key_check(const pp_core_t *core, int64_t user_id, const char *key);

/*
 * Finds the registered, enabled printer that word names: an alias or name, or an address
 * "<alias>@<domain>" whose domain is setting mail.printer_domain (or, when that is "", the
 * domain of inbox, the mailbox the mail came to). Never anything else: an address in a mail
 * never makes the server reach a host. Returns 0, PRINTERS_NOT_FOUND (also for a disabled
 * printer) or -1.
 */
int mail_printer_resolve(pp_core_t *core, const char *word, const char *inbox,
                         pp_printer_t *printer_r, char *error, size_t error_size);

/* ------------------------------------------------------------------------------------- */
/* Replies besides those in mail.h (mail-reply.c).                                         */

/*
 * Queues the answer to a sender whose documents were not stored under the sender policy
 * (reject: why, in reason, e.g. "this address is not allowed to print"). subject may be NULL.
 * Returns 0 or -1.
 */
int mail_reply_refused(pp_core_t *core, const pp_mail_message_t *msg, const char *reason,
                       char *error, size_t error_size);

#endif
