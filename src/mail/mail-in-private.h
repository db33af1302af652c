/*
 * mail-in-private.h - what the inbound half of src/mail shares inside the folder: the parse
 * policy (settings turned into a struct, so parsing itself needs no database and can be
 * fuzzed), the sender checks, the account secrets and the mailbox transfer functions.
 * Nothing outside src/mail includes it.
 */
#ifndef PP_MAIL_IN_PRIVATE_H
#define PP_MAIL_IN_PRIVATE_H

#include "mail/mail.h"

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	MAIL_BODY_NO_ATTACHMENTS = 0, /* print the text only when nothing else is printable */
	MAIL_BODY_ALWAYS,
	MAIL_BODY_NEVER,
} mail_body_policy_t;

typedef enum {
	MAIL_REQUIRE_DMARC = 0,
	MAIL_REQUIRE_DKIM,
	MAIL_REQUIRE_SPF,
	MAIL_REQUIRE_NONE,
} mail_require_t;

#define MAIL_OWN_ADDRESSES_MAX 16
#define MAIL_SERV_ID_MAX 128
#define MAIL_DEPTH_MAX 16  /* nesting of multiparts and forwarded mails */
#define MAIL_PARTS_MAX 256 /* leaf parts looked at in one mail */

/* The settings that shape parsing, read once per poll round. */
typedef struct {
	mail_body_policy_t body_policy;
	size_t skip_inline_below_bytes; /* inline images smaller than this are skipped */
	char auth_serv_id[MAIL_SERV_ID_MAX]; /* "" = no Authentication-Results policy */
	mail_require_t require;
	char own[MAIL_OWN_ADDRESSES_MAX][MAIL_ADDRESS_MAX]; /* canonical; n_own used */
	size_t n_own;
	size_t max_message_bytes;
	bool is_print_now_enabled; /* a printer named in the subject prints at once */
} mail_policy_t;

/* Fills *policy_r with defaults (no database): body when no attachments, 20480 bytes,
 * no auth policy, no own addresses, 50 MiB. */
void mail_policy_defaults(mail_policy_t *policy_r);

/*
 * Reads the mail.* settings, the outbound sending address and every inbound account address
 * into *policy_r. Returns 0 or -1.
 */
int mail_policy_load(pp_core_t *core, mail_policy_t *policy_r, char *error, size_t error_size);

/* Adds a canonical own address to policy (ignored when full or "" ). */
void mail_policy_add_own(mail_policy_t *policy, const char *address);

/* mail_message_parse() with an explicit policy (no database): see mail.h. */
int mail_parse_with_policy(const mail_policy_t *policy, int64_t account_id, const char *to,
                           const uint8_t *data, size_t len, pp_mail_message_t **msg_r,
                           char *error, size_t error_size);

/* Starts GMime once per process (thread-safe). */
void mail_gmime_init(void);

/*
 * Sender checks on a parsed GMime message (mail-sender.c): fills msg->from, from_name,
 * noise and auth under policy.
 */
void mail_sender_classify(GMimeMessage *message, const mail_policy_t *policy,
                          pp_mail_message_t *msg);

/*
 * The verdict of Authentication-Results header values values[0..n) (topmost first) for a
 * mail from from_domain under serv_id and require: PASS, FAIL, or NONE when serv_id is "" or
 * require is NONE. Pure; for tests.
 */
pp_mail_auth_t mail_sender_auth_verdict(const char *const *values, size_t n,
                                        const char *serv_id, mail_require_t require,
                                        const char *from_domain);

/* ----- intake (mail-intake.c) ----- */

typedef enum {
	MAIL_OUTCOME_JOBS = 0,   /* a submission: jobs stored (maybe none: all parts skipped) */
	MAIL_OUTCOME_DUPLICATE,  /* handled before (read again after a crash) */
	MAIL_OUTCOME_NOISE,      /* bounce, auto-reply, list mail, our own */
	MAIL_OUTCOME_SPOOFED,    /* Authentication-Results policy failed */
	MAIL_OUTCOME_UNREADABLE, /* could not be parsed: the sender is told when known */
	MAIL_OUTCOME_COMMAND,    /* release / new code …, handled by MAIL-OUT */
	MAIL_OUTCOME_REJECTED,   /* the sender policy refused: nothing stored */
} mail_outcome_t;

/* "jobs", "duplicate", … Static. */
const char *mail_outcome_name(mail_outcome_t outcome);

/*
 * Handles one fetched mail data[0..len) from account (may be NULL in tests) under policy,
 * exactly once (see mail-intake.c). Returns 0 when the mail may now be deleted on the server
 * (*outcome_r says what happened, *jobs_r how many jobs were made), or -1 on a temporary
 * failure (storage, outbox): keep the mail, retry at the next poll.
 */
int mail_intake_raw(pp_core_t *core, const pp_mail_account_t *account,
                    const mail_policy_t *policy, const uint8_t *data, size_t len,
                    mail_outcome_t *outcome_r, size_t *jobs_r, char *error, size_t error_size);

/* ----- accounts (mail-account.c) ----- */

/* Checks an account URL (imaps://, imap:// with STARTTLS, pop3s://; a host, no user or
 * query) and gives its protocol. Returns 0 or -1. */
int mail_account_url_check(const char *url, pp_mail_proto_t *proto_r, char *error,
                           size_t error_size);

/* Reads the account named name. Returns 0, 1 (no such account; error says so) or -1. */
int mail_account_get(pp_core_t *core, const char *name, pp_mail_account_t *account_r,
                     char *error, size_t error_size);

/* Opens the account's secret: *secret_r new; crypto_wipe(strlen) then free(). 0 or -1. */
int mail_account_secret_get(pp_core_t *core, const pp_mail_account_t *account, char **secret_r,
                            char *error, size_t error_size);

/* Records a poll: last_error "" or NULL = good; ingested messages are added up. 0 or -1. */
int mail_account_status_set(pp_core_t *core, int64_t id, const char *last_error,
                            int64_t ingested, char *error, size_t error_size);

/* ----- one session on a mailbox (mail-account-fetch.c, libcurl) ----- */

typedef struct mail_box mail_box_t;

/* One message waiting in the mailbox: IMAP UID or POP3 message number, and its size. */
typedef struct {
	uint64_t id;
	uint64_t size_bytes; /* 0 when the server did not say */
} mail_box_item_t;

/* Starts libcurl once per process (thread-safe). Returns false when it cannot. */
bool mail_curl_init(void);

/*
 * Prepares a session on account (the secret opened and held until mail_box_close()).
 * Nothing is sent yet. *box_r new. Returns 0 or -1.
 */
int mail_box_open(pp_core_t *core, const pp_mail_account_t *account, mail_box_t **box_r,
                  char *error, size_t error_size);

/* Lists the waiting messages (at most max). *items_r new (free()). 0 or -1. */
int mail_box_list(mail_box_t *box, size_t max, mail_box_item_t **items_r, size_t *count_r,
                  char *error, size_t error_size);

/* Fetches one message, at most cap bytes (+1 to see that it is larger). *data_r new
 * (free()). Returns 0 or -1. */
int mail_box_fetch(mail_box_t *box, const mail_box_item_t *item, size_t cap, uint8_t **data_r,
                   size_t *len_r, char *error, size_t error_size);

/* Deletes one message (IMAP: UID STORE +FLAGS \Deleted; POP3: DELE). 0 or -1. */
int mail_box_delete(mail_box_t *box, const mail_box_item_t *item, char *error,
                    size_t error_size);

/* Makes the deletions final (IMAP: EXPUNGE; POP3: QUIT, ending the session). 0 or -1. */
int mail_box_commit(mail_box_t *box, char *error, size_t error_size);

/* The server's answers so far (for `mail accounts test`); borrowed. */
const char *mail_box_transcript(const mail_box_t *box);

/* Closes the connection (POP3: without QUIT deletions are not made), wipes the secret,
 * frees *box; sets NULL. NULL is a no-op. */
void mail_box_close(mail_box_t **box);

#endif
