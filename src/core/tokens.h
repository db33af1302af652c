/*
 * tokens.h - opaque bearer tokens for apps and admin console sessions.
 *
 * A token is a kind prefix and 32 random bytes in hex: "ppa_<64 hex>" for an app (portal,
 * IPP client) acting for a user, "pps_<64 hex>" for an admin console session. Only its keyed
 * hash (core->token_key) is stored, with the kind, the user or admin it stands for, and its
 * expiry. Lookup is by that hash, so it takes the same time whatever the token is.
 *
 * Lifetimes come from settings: app tokens live tokens.app_lifetime_hours from issue (a "stay
 * signed in" client renews with tokens_renew(), sliding the expiry); admin sessions expire
 * after admin.idle_timeout_s seconds without use (each successful validation slides it), and
 * TOKENS_ADMIN_SESSION_MAX_S after sign-in whatever their use.
 * A session carries a CSRF token ("ppc_<64 hex>", hash stored) that forms must echo.
 *
 * Labelled tokens live until revoked: "ppp_…" is a user's personal printer address
 * (ipps://host:port/ipp/print/u/<token>), "ppf_…" a trusted print server (a CUPS backend)
 * that names the user of each job. Each has a label ("Anna's iPhone", "cups-01") and a public
 * handle (the first TOKENS_HANDLE_LEN hex digits of its stored hash) that lists show and
 * revocation takes; issuing and revoking them is audited, the token itself never.
 */
#ifndef PP_TOKENS_H
#define PP_TOKENS_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKENS_RANDOM_BYTES 32
#define TOKENS_TEXT_LEN (4 + 2 * TOKENS_RANDOM_BYTES) /* prefix + hex */
#define TOKENS_TEXT_MAX (TOKENS_TEXT_LEN + 1)

/* An admin session ends this long after sign-in, however often it is used. */
#define TOKENS_ADMIN_SESSION_MAX_S (12 * 3600)

typedef enum {
	PP_TOKEN_APP = 0,       /* for a user; prefix ppa_ */
	PP_TOKEN_ADMIN_SESSION, /* for an admin; prefix pps_; has a CSRF token */
	PP_TOKEN_PRINTER,       /* a user's personal printer URI /ipp/print/u/<token>; prefix ppp_;
				   labelled; lives until revoked */
	PP_TOKEN_FORWARDER,     /* a trusted print server (CUPS backend) naming the user of each
				   job; prefix ppf_; labelled; no user; lives until revoked */
} pp_token_kind_t;

#define TOKENS_LABEL_MAX 64  /* "Anna's iPhone", "cups-01"; with the terminator */
#define TOKENS_HANDLE_LEN 16 /* public handle: hex prefix of the stored keyed hash */
/* The expiry stored for labelled tokens (9999-12-31 23:59:59 UTC): they live until revoked,
   so tokens_purge_expired() never takes them. */
#define TOKENS_NEVER_EXPIRES INT64_C(253402300799)

/* A labelled token as listed (never the token itself). */
typedef struct {
	pp_token_kind_t kind;
	char handle[TOKENS_HANDLE_LEN + 1]; /* names it for revocation */
	char label[TOKENS_LABEL_MAX];
	int64_t user_id; /* PP_TOKEN_PRINTER; else 0 */
	int64_t created_at;
	int64_t last_used_at; /* 0 = never used; noted to the minute */
} pp_token_entry_t;

/* What a valid token stands for. */
typedef struct {
	pp_token_kind_t kind;
	int64_t user_id;  /* PP_TOKEN_APP, PP_TOKEN_PRINTER; else 0 */
	int64_t admin_id; /* PP_TOKEN_ADMIN_SESSION; else 0 */
	char label[TOKENS_LABEL_MAX]; /* PP_TOKEN_PRINTER, PP_TOKEN_FORWARDER; else "" */
	int64_t created_at;
	int64_t expires_at;
	int64_t last_used_at;
} pp_token_info_t;

/* "app", "admin-session", "printer", "forwarder" (the stored kind). Static. */
const char *tokens_kind_name(pp_token_kind_t kind);

/*
 * Issues a token for subject_id (a user id for PP_TOKEN_APP, an admin id for a session) into
 * token_r[TOKENS_TEXT_MAX]. For a session, csrf_r[TOKENS_TEXT_MAX] gets its CSRF token
 * (required); for an app csrf_r may be NULL. *expires_at_r (may be NULL) gets the expiry.
 * Labelled kinds are refused (see tokens_issue_labelled()). The caller hands the token out and wipes its copies; it is never logged. Returns 0 or -1.
 */
int tokens_issue(pp_core_t *core, pp_token_kind_t kind, int64_t subject_id,
                 char token_r[TOKENS_TEXT_MAX], char *csrf_r, int64_t *expires_at_r, char *error,
                 size_t error_size);

/*
 * Issues a labelled token (PP_TOKEN_PRINTER for user subject_id, PP_TOKEN_FORWARDER with
 * subject_id 0) into token_r[TOKENS_TEXT_MAX]; label 1..63 bytes of printable UTF-8. It lives
 * until revoked (a printer token also dies with its user; its expiry reads
 * TOKENS_NEVER_EXPIRES). handle_r[TOKENS_HANDLE_LEN + 1]
 * (may be NULL) gets its public handle. actor ("admin:<name>", "user:<id>", "cli") is written
 * to the audit log with the kind and label. The token is shown once and never logged.
 * Returns 0 or -1.
 */
int tokens_issue_labelled(pp_core_t *core, pp_token_kind_t kind, int64_t subject_id,
                          const char *label, const char *actor, char token_r[TOKENS_TEXT_MAX],
                          char *handle_r, char *error, size_t error_size);

/*
 * Lists the labelled tokens of kind (PP_TOKEN_PRINTER or PP_TOKEN_FORWARDER): of user_id, or
 * of everyone with user_id 0; oldest first, at most 1000. *entries_r is new (free with
 * tokens_list_free()). Returns 0 or -1.
 */
int tokens_list(pp_core_t *core, pp_token_kind_t kind, int64_t user_id,
                pp_token_entry_t **entries_r, size_t *count_r, char *error, size_t error_size);

/* Frees a list from tokens_list() and sets *entries to NULL. NULL is a no-op. */
void tokens_list_free(pp_token_entry_t **entries);

/*
 * Revokes the token of kind with this handle (of user_id; any owner with 0), auditing it with
 * actor. The handle is matched without regard to case. *revoked_r says whether one matched
 * (false for a malformed handle). Should two tokens share the handle, none is revoked and
 * -1 is returned with error saying so. Returns 0 or -1.
 */
int tokens_revoke_handle(pp_core_t *core, pp_token_kind_t kind, int64_t user_id,
                         const char *handle, const char *actor, bool *revoked_r, char *error,
                         size_t error_size);

/*
 * Checks a presented token: *valid_r true only if it exists, is of kind (the prefix and the
 * stored kind both), and has not expired. Marks it used; an admin session's expiry slides
 * to now + admin.idle_timeout_s, never past TOKENS_ADMIN_SESSION_MAX_S after its issue (one
 * write per request). Printer and forwarder tokens never slide, and their stored
 * last_used_at is written at most once a minute (they come with every IPP request).
 * *info_r (may be NULL) is filled when valid.
 * Returns 0, or -1 on a storage error.
 */
int tokens_validate(pp_core_t *core, pp_token_kind_t kind, const char *token,
                    pp_token_info_t *info_r, bool *valid_r, char *error, size_t error_size);

/*
 * Slides a valid token's expiry to now + its lifetime ("stay signed in"). *renewed_r false
 * for an unknown, expired or wrong-kind token, and always for printer and forwarder tokens. *expires_at_r (may be NULL) gets the new
 * expiry. Returns 0 or -1.
 */
int tokens_renew(pp_core_t *core, pp_token_kind_t kind, const char *token, bool *renewed_r,
                 int64_t *expires_at_r, char *error, size_t error_size);

/*
 * Sets a valid token's expiry to now + lifetime_s (which may shorten it): a panel session
 * lives a short while after its last use. Otherwise as tokens_renew(). Returns 0 or -1.
 */
int tokens_slide(pp_core_t *core, pp_token_kind_t kind, const char *token, int64_t lifetime_s,
                 bool *renewed_r, int64_t *expires_at_r, char *error, size_t error_size);

/*
 * Checks the CSRF token sent with a form against the session's, in constant time.
 * *valid_r false when either is wrong or the session has expired. Returns 0 or -1.
 */
int tokens_csrf_verify(pp_core_t *core, const char *session_token, const char *csrf, bool *valid_r,
                       char *error, size_t error_size);

/* Revokes one token (sign-out). *revoked_r (may be NULL) says whether it existed. 0 or -1. */
int tokens_revoke(pp_core_t *core, const char *token, bool *revoked_r, char *error,
                  size_t error_size);

/*
 * Revokes every app token of a user ("sign out everywhere") or every session of an admin;
 * *count_r (may be NULL) gets the number revoked. A user's printer addresses stay: they are
 * revoked one by one with tokens_revoke_handle(), or go when the user is deleted.
 * Returns 0 or -1.
 */
int tokens_revoke_user(pp_core_t *core, int64_t user_id, int64_t *count_r, char *error,
                       size_t error_size);
int tokens_revoke_admin(pp_core_t *core, int64_t admin_id, int64_t *count_r, char *error,
                        size_t error_size);

/* Deletes every expired token; *count_r (may be NULL) gets how many. Returns 0 or -1. */
int tokens_purge_expired(pp_core_t *core, int64_t *count_r, char *error, size_t error_size);

#endif
