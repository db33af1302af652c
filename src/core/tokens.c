/* tokens.c - opaque bearer tokens, admin sessions and labelled tokens; see tokens.h. */
#include "core/tokens.h"

#include "core/audit.h"
#include "core/settings.h"
#include "core/users.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

#define TOKENS_CSRF_PREFIX "ppc_"

/* Labelled tokens store last_used_at at most this often: a phone presents its token on
   every IPP request, and a write per request would cost a disk sync each. */
#define TOKENS_TOUCH_INTERVAL_S 60

static const char *tokens_prefix(pp_token_kind_t kind)
{
	switch (kind) {
	case PP_TOKEN_ADMIN_SESSION:
		return "pps_";
	case PP_TOKEN_PRINTER:
		return "ppp_";
	case PP_TOKEN_FORWARDER:
		return "ppf_";
	case PP_TOKEN_APP:
		break;
	}
	return "ppa_";
}

const char *tokens_kind_name(pp_token_kind_t kind)
{
	switch (kind) {
	case PP_TOKEN_ADMIN_SESSION:
		return "admin-session";
	case PP_TOKEN_PRINTER:
		return "printer";
	case PP_TOKEN_FORWARDER:
		return "forwarder";
	case PP_TOKEN_APP:
		break;
	}
	return "app";
}

/* True for the kinds that carry a label and live until revoked. */
static bool tokens_is_labelled(pp_token_kind_t kind)
{
	return kind == PP_TOKEN_PRINTER || kind == PP_TOKEN_FORWARDER;
}

/* Writes prefix + 64 random hex digits into out[TOKENS_TEXT_MAX]. */
static void tokens_make(const char *prefix, char out[TOKENS_TEXT_MAX])
{
	uint8_t bytes[TOKENS_RANDOM_BYTES];
	crypto_random_bytes(bytes, sizeof(bytes));
	memcpy(out, prefix, 4);
	str_hex_encode(out + 4, bytes, sizeof(bytes));
	crypto_wipe(bytes, sizeof(bytes));
}

/* True when text is prefix + exactly 64 lower-case hex digits. */
static bool tokens_well_formed(const char *text, const char *prefix)
{
	if (text == NULL || strlen(text) != TOKENS_TEXT_LEN || strncmp(text, prefix, 4) != 0)
		return false;
	for (size_t i = 4; i < TOKENS_TEXT_LEN; i++) {
		char c = text[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static void tokens_hash(const pp_core_t *core, const char *text, char out[CRYPTO_HASH_HEX_LEN + 1])
{
	crypto_keyed_hash_hex(core->token_key, text, strlen(text), out);
}

/* The lifetime of a kind in seconds, from the settings. */
static int tokens_lifetime(pp_core_t *core, pp_token_kind_t kind, int64_t *seconds_r, char *error,
                           size_t error_size)
{
	int64_t value;
	if (kind == PP_TOKEN_ADMIN_SESSION) {
		if (settings_get_int(core, "admin.idle_timeout_s", &value, error, error_size) < 0)
			return -1;
		*seconds_r = value;
	} else {
		if (settings_get_int(core, "tokens.app_lifetime_hours", &value, error, error_size) <
		    0)
			return -1;
		*seconds_r = value * 3600;
	}
	return 0;
}

/*
 * The expiry of a token of kind used (or issued) at now: now + lifetime, and for an admin
 * session never past TOKENS_ADMIN_SESSION_MAX_S after created_at.
 */
static int64_t tokens_session_capped(pp_token_kind_t kind, int64_t now, int64_t created_at,
                                     int64_t lifetime)
{
	int64_t expires_at = now + lifetime;
	int64_t hard_end = created_at + TOKENS_ADMIN_SESSION_MAX_S;
	return kind == PP_TOKEN_ADMIN_SESSION && hard_end < expires_at ? hard_end : expires_at;
}

int tokens_issue(pp_core_t *core, pp_token_kind_t kind, int64_t subject_id,
                 char token_r[TOKENS_TEXT_MAX], char *csrf_r, int64_t *expires_at_r, char *error,
                 size_t error_size)
{
	token_r[0] = '\0';
	if (tokens_is_labelled(kind)) {
		str_format(error, error_size,
		           "tokens: a %s token has a label: issue it with tokens_issue_labelled()",
		           tokens_kind_name(kind));
		return -1;
	}
	if (kind == PP_TOKEN_ADMIN_SESSION && csrf_r == NULL) {
		str_format(error, error_size, "tokens: a session needs room for its CSRF token");
		return -1;
	}
	int64_t lifetime;
	if (tokens_lifetime(core, kind, &lifetime, error, error_size) < 0)
		return -1;
	char token[TOKENS_TEXT_MAX], csrf[TOKENS_TEXT_MAX];
	char token_hash[CRYPTO_HASH_HEX_LEN + 1], csrf_hash[CRYPTO_HASH_HEX_LEN + 1];
	tokens_make(tokens_prefix(kind), token);
	tokens_hash(core, token, token_hash);
	bool has_csrf = kind == PP_TOKEN_ADMIN_SESSION;
	if (has_csrf) {
		tokens_make(TOKENS_CSRF_PREFIX, csrf);
		tokens_hash(core, csrf, csrf_hash);
	}
	int64_t now = core_now(core);
	int64_t expires_at = tokens_session_capped(kind, now, now, lifetime);
	const pp_db_value_t params[] = {
	    DB_TEXT(token_hash),
	    DB_TEXT(tokens_kind_name(kind)),
	    kind == PP_TOKEN_APP ? DB_INT(subject_id) : DB_NULL,
	    kind == PP_TOKEN_ADMIN_SESSION ? DB_INT(subject_id) : DB_NULL,
	    has_csrf ? DB_TEXT(csrf_hash) : DB_NULL,
	    DB_INT(now),
	    DB_INT(expires_at),
	    DB_INT(now),
	};
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db,
	            "INSERT INTO tokens (token_hash, kind, user_id, admin_id, csrf_hash, "
	            "created_at, expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	            params, 8, NULL, db_error, sizeof(db_error)) != DB_OK) {
		crypto_wipe(token, sizeof(token));
		crypto_wipe(csrf, sizeof(csrf));
		str_format(error, error_size, "tokens: cannot store the %s token: %s",
		           tokens_kind_name(kind), db_error);
		return -1;
	}
	log_info("token.issued kind=%s %s=%lld expires_at=%lld", tokens_kind_name(kind),
	         kind == PP_TOKEN_APP ? "user" : "admin_id", (long long)subject_id,
	         (long long)expires_at);
	memcpy(token_r, token, sizeof(token));
	if (has_csrf)
		memcpy(csrf_r, csrf, sizeof(csrf));
	crypto_wipe(token, sizeof(token));
	crypto_wipe(csrf, sizeof(csrf));
	if (expires_at_r != NULL)
		*expires_at_r = expires_at;
	return 0;
}

typedef struct {
	pp_token_info_t info;
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	char csrf_hash[CRYPTO_HASH_HEX_LEN + 1];
} tokens_row_t;

/*
 * Looks a presented token of kind up; *found_r true only if well-formed, stored with that
 * kind and not expired at now.
 */
static int tokens_lookup(pp_core_t *core, pp_token_kind_t kind, const char *token, int64_t now,
                         tokens_row_t *row, bool *found_r, char *error, size_t error_size)
{
	*found_r = false;
	memset(row, 0, sizeof(*row));
	if (!tokens_well_formed(token, tokens_prefix(kind)))
		return 0;
	tokens_hash(core, token, row->hash);
	const pp_db_value_t params[] = {DB_TEXT(row->hash)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT kind, user_id, admin_id, created_at, expires_at, last_used_at, "
	             "csrf_hash, label FROM tokens WHERE token_hash = $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "tokens: cannot check a token: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) > 0 &&
	    strcmp(db_result_text(res, 0, 0), tokens_kind_name(kind)) == 0 &&
	    db_result_int(res, 0, 4) > now) {
		*found_r = true;
		row->info.kind = kind;
		row->info.user_id = db_result_int(res, 0, 1);
		row->info.admin_id = db_result_int(res, 0, 2);
		row->info.created_at = db_result_int(res, 0, 3);
		row->info.expires_at = db_result_int(res, 0, 4);
		row->info.last_used_at = db_result_int(res, 0, 5);
		(void)str_copy(row->csrf_hash, sizeof(row->csrf_hash), db_result_text(res, 0, 6));
		if (tokens_is_labelled(kind))
			(void)str_copy(row->info.label, sizeof(row->info.label),
			               db_result_text(res, 0, 7));
	}
	db_result_free(&res);
	return 0;
}

/* Sets last_used_at = now and, when expires_at > 0, the new expiry. */
static int tokens_touch(pp_core_t *core, const char *hash, int64_t now, int64_t expires_at,
                        char *error, size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	int rc;
	if (expires_at > 0) {
		const pp_db_value_t params[] = {DB_INT(now), DB_INT(expires_at), DB_TEXT(hash)};
		rc = db_exec(core->db,
		             "UPDATE tokens SET last_used_at = $1, expires_at = $2 "
		             "WHERE token_hash = $3",
		             params, 3, NULL, db_error, sizeof(db_error));
	} else {
		const pp_db_value_t params[] = {DB_INT(now), DB_TEXT(hash)};
		rc = db_exec(core->db, "UPDATE tokens SET last_used_at = $1 WHERE token_hash = $2",
		             params, 2, NULL, db_error, sizeof(db_error));
	}
	if (rc != DB_OK) {
		str_format(error, error_size, "tokens: cannot update a token: %s", db_error);
		return -1;
	}
	return 0;
}

int tokens_validate(pp_core_t *core, pp_token_kind_t kind, const char *token,
                    pp_token_info_t *info_r, bool *valid_r, char *error, size_t error_size)
{
	*valid_r = false;
	int64_t now = core_now(core);
	tokens_row_t row;
	bool found;
	if (tokens_lookup(core, kind, token, now, &row, &found, error, error_size) < 0)
		return -1;
	if (!found)
		return 0;
	int64_t expires_at = 0;
	if (kind == PP_TOKEN_ADMIN_SESSION) {
		int64_t lifetime;
		if (tokens_lifetime(core, kind, &lifetime, error, error_size) < 0)
			return -1;
		expires_at = tokens_session_capped(kind, now, row.info.created_at, lifetime);
	}
	/* Labelled tokens never slide, and note their use at most once a minute. */
	bool is_touched = !tokens_is_labelled(kind) ||
	                  now - row.info.last_used_at >= TOKENS_TOUCH_INTERVAL_S ||
	                  now < row.info.last_used_at;
	if (is_touched && tokens_touch(core, row.hash, now, expires_at, error, error_size) < 0)
		return -1;
	row.info.last_used_at = now;
	if (expires_at > 0)
		row.info.expires_at = expires_at;
	*valid_r = true;
	if (info_r != NULL)
		*info_r = row.info;
	return 0;
}

int tokens_renew(pp_core_t *core, pp_token_kind_t kind, const char *token, bool *renewed_r,
                 int64_t *expires_at_r, char *error, size_t error_size)
{
	*renewed_r = false;
	if (tokens_is_labelled(kind))
		return 0; /* they live until revoked: nothing to renew */
	int64_t lifetime;
	if (tokens_lifetime(core, kind, &lifetime, error, error_size) < 0)
		return -1;
	return tokens_slide(core, kind, token, lifetime, renewed_r, expires_at_r, error,
	                    error_size);
}

int tokens_slide(pp_core_t *core, pp_token_kind_t kind, const char *token, int64_t lifetime_s,
                 bool *renewed_r, int64_t *expires_at_r, char *error, size_t error_size)
{
	*renewed_r = false;
	if (tokens_is_labelled(kind) || lifetime_s <= 0)
		return 0;
	int64_t now = core_now(core);
	tokens_row_t row;
	bool found;
	if (tokens_lookup(core, kind, token, now, &row, &found, error, error_size) < 0)
		return -1;
	if (!found)
		return 0;
	if (tokens_touch(core, row.hash, now, now + lifetime_s, error, error_size) < 0)
		return -1;
	*renewed_r = true;
	if (expires_at_r != NULL)
		*expires_at_r = now + lifetime_s;
	return 0;
}

int tokens_csrf_verify(pp_core_t *core, const char *session_token, const char *csrf, bool *valid_r,
                       char *error, size_t error_size)
{
	*valid_r = false;
	tokens_row_t row;
	bool found;
	if (tokens_lookup(core, PP_TOKEN_ADMIN_SESSION, session_token, core_now(core), &row, &found,
	                  error, error_size) < 0)
		return -1;
	char given_hash[CRYPTO_HASH_HEX_LEN + 1];
	tokens_hash(core, csrf != NULL ? csrf : "", given_hash);
	/* Always compare, so a missing session costs the same as a wrong token. */
	bool match = crypto_str_equal(found ? row.csrf_hash : "", given_hash);
	*valid_r = found && match && row.csrf_hash[0] != '\0' &&
	           tokens_well_formed(csrf, TOKENS_CSRF_PREFIX);
	return 0;
}

/* Runs a DELETE with one parameter and reports the count. */
static int tokens_delete(pp_core_t *core, const char *sql, pp_db_value_t param, int64_t *count_r,
                         const char *what, char *error, size_t error_size)
{
	int64_t changes = 0;
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db, sql, &param, 1, &changes, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "tokens: cannot %s: %s", what, db_error);
		return -1;
	}
	if (count_r != NULL)
		*count_r = changes;
	return 0;
}

int tokens_revoke(pp_core_t *core, const char *token, bool *revoked_r, char *error,
                  size_t error_size)
{
	if (revoked_r != NULL)
		*revoked_r = false;
	if (token == NULL)
		return 0;
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	tokens_hash(core, token, hash);
	int64_t count = 0;
	if (tokens_delete(core, "DELETE FROM tokens WHERE token_hash = $1", DB_TEXT(hash), &count,
	                  "revoke a token", error, error_size) < 0)
		return -1;
	if (revoked_r != NULL)
		*revoked_r = count > 0;
	if (count > 0)
		log_info("token.revoked");
	return 0;
}

/*
 * Deletes every token of one owner: delete_sql picks them by $1 = owner_id; owner ("user",
 * "admin") names the owner in the log line and what the action in an error.
 */
static int tokens_revoke_owner(pp_core_t *core, const char *delete_sql, const char *owner,
                               int64_t owner_id, const char *what, int64_t *count_r,
                               char *error, size_t error_size)
{
	int64_t count = 0;
	if (tokens_delete(core, delete_sql, DB_INT(owner_id), &count, what, error, error_size) < 0)
		return -1;
	log_info("token.revoked_all owner=%s id=%lld count=%lld", owner, (long long)owner_id,
	         (long long)count);
	if (count_r != NULL)
		*count_r = count;
	return 0;
}

int tokens_revoke_user(pp_core_t *core, int64_t user_id, int64_t *count_r, char *error,
                       size_t error_size)
{
	/* Apps only: printer addresses are revoked one by one, or die with the user. */
	return tokens_revoke_owner(core, "DELETE FROM tokens WHERE user_id = $1 AND kind = 'app'",
	                           "user", user_id, "revoke a user's app tokens", count_r, error,
	                           error_size);
}

int tokens_revoke_admin(pp_core_t *core, int64_t admin_id, int64_t *count_r, char *error,
                        size_t error_size)
{
	return tokens_revoke_owner(core, "DELETE FROM tokens WHERE admin_id = $1", "admin", admin_id,
	                           "revoke an admin's sessions", count_r, error, error_size);
}

int tokens_purge_expired(pp_core_t *core, int64_t *count_r, char *error, size_t error_size)
{
	int64_t count = 0;
	if (tokens_delete(core, "DELETE FROM tokens WHERE expires_at <= $1", DB_INT(core_now(core)),
	                  &count, "purge expired tokens", error, error_size) < 0)
		return -1;
	if (count > 0)
		log_info("token.purged count=%lld", (long long)count);
	if (count_r != NULL)
		*count_r = count;
	return 0;
}

/* ---- Labelled tokens: personal printer addresses and forwarders ---- */

/*
 * Checks a label: 1..TOKENS_LABEL_MAX-1 bytes of text that prints as one line (str.h). It is
 * shown in lists and the audit log.
 */
static bool tokens_label_valid(const char *label)
{
	size_t len = label != NULL ? strlen(label) : 0;
	return len > 0 && len < TOKENS_LABEL_MAX && str_is_printable_utf8(label);
}

/* Copies the handle of a stored hash into out[TOKENS_HANDLE_LEN + 1]. */
static void tokens_handle_of(const char *hash, char out[TOKENS_HANDLE_LEN + 1])
{
	size_t len = strlen(hash);
	if (len > TOKENS_HANDLE_LEN)
		len = TOKENS_HANDLE_LEN;
	memcpy(out, hash, len);
	out[len] = '\0';
}

/* Canonical handle (lower-case) into out; false unless exactly TOKENS_HANDLE_LEN hex digits. */
static bool tokens_handle_parse(const char *text, char out[TOKENS_HANDLE_LEN + 1])
{
	if (text == NULL || strlen(text) != TOKENS_HANDLE_LEN)
		return false;
	for (size_t i = 0; i < TOKENS_HANDLE_LEN; i++) {
		if (str_hex_digit(text[i]) < 0)
			return false;
		out[i] = text[i];
	}
	out[TOKENS_HANDLE_LEN] = '\0';
	str_lower_ascii(out);
	return true;
}

/* Text for the audit detail: kind, handle and label (never the token or its full hash). */
static void tokens_audit_detail(pp_token_kind_t kind, const char *handle, const char *label,
                                char out[AUDIT_DETAIL_MAX])
{
	if (!str_format(out, AUDIT_DETAIL_MAX, "kind=%s handle=%s label=%s",
	                tokens_kind_name(kind), handle, label))
		(void)str_format(out, AUDIT_DETAIL_MAX, "kind=%s handle=%s",
		                 tokens_kind_name(kind), handle);
}

int tokens_issue_labelled(pp_core_t *core, pp_token_kind_t kind, int64_t subject_id,
                          const char *label, const char *actor, char token_r[TOKENS_TEXT_MAX],
                          char *handle_r, char *error, size_t error_size)
{
	token_r[0] = '\0';
	if (handle_r != NULL)
		handle_r[0] = '\0';
	if (!tokens_is_labelled(kind)) {
		str_format(error, error_size, "tokens: %s tokens have no label: use tokens_issue()",
		           tokens_kind_name(kind));
		return -1;
	}
	if ((kind == PP_TOKEN_PRINTER) != (subject_id > 0) || subject_id < 0) {
		str_format(error, error_size, "tokens: a %s token %s",
		           tokens_kind_name(kind),
		           kind == PP_TOKEN_PRINTER ? "needs a user" : "has no user");
		return -1;
	}
	if (!tokens_label_valid(label)) {
		str_format(error, error_size,
		           "tokens: the label must be 1 to %d bytes of text without control "
		           "characters (e.g. \"Anna's iPhone\" or \"cups-01\")",
		           TOKENS_LABEL_MAX - 1);
		return -1;
	}
	if (actor == NULL || actor[0] == '\0') {
		str_format(error, error_size, "tokens: no actor to audit the new token with");
		return -1;
	}
	/* The audit row names the user by address, as every other user change does. */
	const char *object = label;
	pp_user_t user;
	if (kind == PP_TOKEN_PRINTER) {
		bool found = false;
		if (users_get_by_id(core, subject_id, &user, &found, error, error_size) < 0)
			return -1;
		if (!found) {
			str_format(error, error_size, "tokens: no user with id %lld",
			           (long long)subject_id);
			return -1;
		}
		object = user.email;
	}

	char token[TOKENS_TEXT_MAX], hash[CRYPTO_HASH_HEX_LEN + 1], handle[TOKENS_HANDLE_LEN + 1];
	tokens_make(tokens_prefix(kind), token);
	tokens_hash(core, token, hash);
	tokens_handle_of(hash, handle);
	int64_t now = core_now(core);
	const pp_db_value_t params[] = {
	    DB_TEXT(hash),
	    DB_TEXT(tokens_kind_name(kind)),
	    kind == PP_TOKEN_PRINTER ? DB_INT(subject_id) : DB_NULL,
	    DB_INT(now),
	    DB_INT(TOKENS_NEVER_EXPIRES),
	    DB_TEXT(label),
	};
	char detail[AUDIT_DETAIL_MAX];
	tokens_audit_detail(kind, handle, label, detail);

	/* The token and its audit row commit together. */
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "tokens: cannot store the %s token: %s",
		           tokens_kind_name(kind), db_error);
		goto fail;
	}
	if (db_exec(core->db,
	            "INSERT INTO tokens (token_hash, kind, user_id, admin_id, csrf_hash, created_at, "
	            "expires_at, last_used_at, label) VALUES ($1, $2, $3, NULL, NULL, $4, $5, 0, $6)",
	            params, 6, NULL, db_error, sizeof(db_error)) != DB_OK) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "tokens: cannot store the %s token: %s",
		           tokens_kind_name(kind), db_error);
		goto fail;
	}
	if (audit_record(core, actor, "token.issue", object, detail, error, error_size) < 0) {
		db_tx_rollback(core->db);
		goto fail;
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "tokens: cannot store the %s token: %s",
		           tokens_kind_name(kind), db_error);
		goto fail;
	}
	log_info("token.issued kind=%s user=%lld handle=%s actor=%s", tokens_kind_name(kind),
	         (long long)subject_id, handle, actor);
	memcpy(token_r, token, sizeof(token));
	if (handle_r != NULL)
		memcpy(handle_r, handle, sizeof(handle));
	crypto_wipe(token, sizeof(token));
	return 0;
fail:
	crypto_wipe(token, sizeof(token));
	return -1;
}

int tokens_list(pp_core_t *core, pp_token_kind_t kind, int64_t user_id,
                pp_token_entry_t **entries_r, size_t *count_r, char *error, size_t error_size)
{
	*entries_r = NULL;
	*count_r = 0;
	if (!tokens_is_labelled(kind)) {
		str_format(error, error_size, "tokens: only printer and forwarder tokens are listed");
		return -1;
	}
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	/* user_id 0 lists every owner's. */
	const pp_db_value_t params[] = {DB_TEXT(tokens_kind_name(kind)), DB_INT(user_id)};
	int rc = db_query(core->db,
	                  "SELECT token_hash, user_id, label, created_at, last_used_at FROM tokens "
	                  "WHERE kind = $1 AND ($2 = 0 OR user_id = $2) "
	                  "ORDER BY created_at, token_hash LIMIT 1000",
	                  params, 2, &res, db_error, sizeof(db_error));
	if (rc != DB_OK) {
		str_format(error, error_size, "tokens: cannot list %s tokens: %s",
		           tokens_kind_name(kind), db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	pp_token_entry_t *entries = calloc(rows > 0 ? rows : 1, sizeof(*entries));
	if (entries == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "tokens: out of memory listing %zu tokens", rows);
		return -1;
	}
	for (size_t i = 0; i < rows; i++) {
		pp_token_entry_t *e = &entries[i];
		e->kind = kind;
		tokens_handle_of(db_result_text(res, i, 0), e->handle);
		e->user_id = db_result_int(res, i, 1);
		if (!str_copy(e->label, sizeof(e->label), db_result_text(res, i, 2)))
			e->label[0] = '\0';
		e->created_at = db_result_int(res, i, 3);
		e->last_used_at = db_result_int(res, i, 4);
	}
	db_result_free(&res);
	*entries_r = entries;
	*count_r = rows;
	return 0;
}

void tokens_list_free(pp_token_entry_t **entries)
{
	if (entries == NULL || *entries == NULL)
		return;
	free(*entries);
	*entries = NULL;
}

int tokens_revoke_handle(pp_core_t *core, pp_token_kind_t kind, int64_t user_id,
                         const char *handle, const char *actor, bool *revoked_r, char *error,
                         size_t error_size)
{
	*revoked_r = false;
	char canon[TOKENS_HANDLE_LEN + 1];
	if (!tokens_is_labelled(kind) || !tokens_handle_parse(handle, canon))
		return 0; /* no such handle can exist */
	if (actor == NULL || actor[0] == '\0') {
		str_format(error, error_size, "tokens: no actor to audit the revocation with");
		return -1;
	}
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "tokens: cannot revoke a token: %s", db_error);
		return -1;
	}
	/* Find it first: the handle is a prefix, so it must name exactly one token. */
	pp_db_result_t *res = NULL;
	/* user_id 0: whoever owns it. */
	const pp_db_value_t params[] = {DB_TEXT(tokens_kind_name(kind)), DB_TEXT(canon),
	                                DB_INT(user_id)};
	int rc = db_query(core->db,
	                  "SELECT t.token_hash, t.label, u.email FROM tokens t "
	                  "LEFT JOIN users u ON u.id = t.user_id WHERE t.kind = $1 AND "
	                  "substr(t.token_hash, 1, 16) = $2 AND ($3 = 0 OR t.user_id = $3) LIMIT 2",
	                  params, 3, &res, db_error, sizeof(db_error));
	if (rc != DB_OK) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "tokens: cannot look a token up: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	if (rows == 0) {
		db_result_free(&res);
		db_tx_rollback(core->db);
		return 0;
	}
	if (rows > 1) {
		db_result_free(&res);
		db_tx_rollback(core->db);
		str_format(error, error_size,
		           "tokens: handle %s names more than one %s token, so none was revoked; "
		           "revoke them by deleting the user, or report this: it should not happen",
		           canon, tokens_kind_name(kind));
		return -1;
	}
	char hash[CRYPTO_HASH_HEX_LEN + 1], label[TOKENS_LABEL_MAX], object[USERS_EMAIL_MAX];
	bool ok = str_copy(hash, sizeof(hash), db_result_text(res, 0, 0));
	if (!str_copy(label, sizeof(label), db_result_text(res, 0, 1)))
		label[0] = '\0';
	const char *email = db_result_text(res, 0, 2);
	if (!str_copy(object, sizeof(object), email[0] != '\0' ? email : label))
		object[0] = '\0';
	db_result_free(&res);
	if (!ok) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "tokens: a stored token hash is malformed");
		return -1;
	}
	const pp_db_value_t del[] = {DB_TEXT(hash)};
	int64_t changes = 0;
	char detail[AUDIT_DETAIL_MAX];
	tokens_audit_detail(kind, canon, label, detail);
	if (db_exec(core->db, "DELETE FROM tokens WHERE token_hash = $1", del, 1, &changes,
	            db_error, sizeof(db_error)) != DB_OK) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "tokens: cannot revoke a token: %s", db_error);
		return -1;
	}
	if (audit_record(core, actor, "token.revoke", object, detail, error, error_size) < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "tokens: cannot revoke a token: %s", db_error);
		return -1;
	}
	log_info("token.revoked kind=%s handle=%s actor=%s", tokens_kind_name(kind), canon, actor);
	*revoked_r = changes > 0;
	return 0;
}
