/*
 * mail-smtp-config.c - the outbound SMTP settings: one row of table mail_smtp, the password
 * or OAuth2 token sealed (XChaCha20-Poly1305) under a key derived from core->token_key, so a
 * copy of the database alone opens nothing. See mail-out.h.
 */
#include "mail/mail-out.h"

#include "core/audit.h"
#include "lib/crypto.h"
#include "lib/str.h"

#include <sodium.h>
#include <string.h>

#define SMTP_AAD "mail_smtp"
#define SMTP_SEALED_MAX                                                                            \
	(2 * (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + MAIL_SMTP_SECRET_MAX +                \
	      crypto_aead_xchacha20poly1305_ietf_ABYTES) +                                         \
	 1)

static const char *const smtp_security_names[] = {"starttls", "tls", "plain"};
static const char *const smtp_auth_names[] = {"none", "password", "xoauth2"};

const char *mail_smtp_security_name(pp_smtp_security_t security)
{
	return (unsigned)security < 3 ? smtp_security_names[security] : "starttls";
}

bool mail_smtp_security_parse(const char *name, pp_smtp_security_t *security_r)
{
	for (unsigned i = 0; i < 3; i++) {
		if (name != NULL && strcmp(name, smtp_security_names[i]) == 0) {
			*security_r = (pp_smtp_security_t)i;
			return true;
		}
	}
	return false;
}

const char *mail_smtp_auth_name(pp_smtp_auth_t auth)
{
	return (unsigned)auth < 3 ? smtp_auth_names[auth] : "none";
}

bool mail_smtp_auth_parse(const char *name, pp_smtp_auth_t *auth_r)
{
	for (unsigned i = 0; i < 3; i++) {
		if (name != NULL && strcmp(name, smtp_auth_names[i]) == 0) {
			*auth_r = (pp_smtp_auth_t)i;
			return true;
		}
	}
	return false;
}

unsigned mail_smtp_port(const pp_smtp_config_t *cfg)
{
	if (cfg->port != 0)
		return cfg->port;
	switch (cfg->security) {
	case PP_SMTP_TLS:
		return 465;
	case PP_SMTP_PLAIN:
		return 25;
	default:
		return 587;
	}
}

/* The sealing key: a keyed hash of a fixed label under the tokens sub-key. */
static void smtp_key(const pp_core_t *core, uint8_t key[CRYPTO_KEY_BYTES])
{
	char hex[CRYPTO_HASH_HEX_LEN + 1];
	static const char label[] = "pullprint mail smtp secret v1";
	crypto_keyed_hash_hex(core->token_key, label, sizeof(label) - 1, hex);
	(void)str_hex_decode(key, CRYPTO_KEY_BYTES, hex);
	crypto_wipe(hex, sizeof(hex));
}

/* Seals secret into out[SMTP_SEALED_MAX] as hex of nonce + ciphertext. */
static int smtp_seal(const pp_core_t *core, const char *secret, char *out, char *error,
                     size_t error_size)
{
	size_t len = strlen(secret);
	if (len >= MAIL_SMTP_SECRET_MAX) {
		str_format(error, error_size,
		           "smtp: the password or token is too long (at most %d "
		           "bytes)",
		           MAIL_SMTP_SECRET_MAX - 1);
		return -1;
	}
	size_t npub = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	uint8_t sealed[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + MAIL_SMTP_SECRET_MAX +
	               crypto_aead_xchacha20poly1305_ietf_ABYTES];
	uint8_t key[CRYPTO_KEY_BYTES];
	smtp_key(core, key);
	randombytes_buf(sealed, npub);
	unsigned long long ct_len = 0;
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(
	    sealed + npub, &ct_len, (const uint8_t *)secret, len, (const uint8_t *)SMTP_AAD,
	    strlen(SMTP_AAD), NULL, sealed, key);
	crypto_wipe(key, sizeof(key));
	str_hex_encode(out, sealed, npub + (size_t)ct_len);
	return 0;
}

/* The columns read into a pp_smtp_config_t, in order. */
#define SMTP_COLUMNS                                                                               \
	"host, port, security, verify, ca_file, auth, username, "                                  \
	"CASE WHEN secret_enc <> '' THEN 1 ELSE 0 END, from_address, from_name, updated_at"

int mail_smtp_config_get(pp_core_t *core, pp_smtp_config_t *cfg_r, char *error, size_t error_size)
{
	memset(cfg_r, 0, sizeof(*cfg_r));
	cfg_r->is_verify_tls = true;
	cfg_r->auth = PP_SMTP_AUTH_PASSWORD;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT " SMTP_COLUMNS " FROM mail_smtp WHERE id = 1", NULL, 0, &res,
	             db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "smtp: cannot read the settings: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) == 1) {
		cfg_r->is_configured = true;
		(void)str_copy(cfg_r->host, sizeof(cfg_r->host), db_result_text(res, 0, 0));
		int64_t port = db_result_int(res, 0, 1);
		cfg_r->port = port > 0 && port <= 65535 ? (unsigned)port : 0;
		(void)mail_smtp_security_parse(db_result_text(res, 0, 2), &cfg_r->security);
		cfg_r->is_verify_tls = db_result_int(res, 0, 3) != 0;
		(void)str_copy(cfg_r->ca_file, sizeof(cfg_r->ca_file), db_result_text(res, 0, 4));
		(void)mail_smtp_auth_parse(db_result_text(res, 0, 5), &cfg_r->auth);
		(void)str_copy(cfg_r->username, sizeof(cfg_r->username), db_result_text(res, 0, 6));
		cfg_r->has_secret = db_result_int(res, 0, 7) != 0;
		(void)str_copy(cfg_r->from_address, sizeof(cfg_r->from_address),
		               db_result_text(res, 0, 8));
		(void)str_copy(cfg_r->from_name, sizeof(cfg_r->from_name),
		               db_result_text(res, 0, 9));
		cfg_r->updated_at = db_result_int(res, 0, 10);
	}
	db_result_free(&res);
	return 0;
}

/* True for a host that is this machine: a relay here may be spoken to without TLS. */
static bool smtp_is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "[::1]") == 0 || str_has_prefix(host, "127.");
}

/* True for a host name or address literal: letters, digits, '.', '-', ':', '[', ']'. */
static bool smtp_host_ok(const char *host)
{
	if (host[0] == '\0' || strlen(host) >= MAIL_SMTP_HOST_MAX)
		return false;
	for (const char *p = host; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
			return false;
	}
	return true;
}

/* Checks cfg and writes the canonical from address into from[USERS_EMAIL_MAX]. */
static int smtp_validate(const pp_smtp_config_t *cfg, bool will_have_secret,
                         char from[USERS_EMAIL_MAX], char *error, size_t error_size)
{
	char why[256];
	if (!smtp_host_ok(cfg->host)) {
		str_format(
		    error, error_size,
		    "host: give the SMTP server's name or address (letters, digits, '.', '-')");
		return -1;
	}
	if (cfg->port > 65535) {
		str_format(error, error_size, "port: must be 1..65535 (0 = the default)");
		return -1;
	}
	if (cfg->security == PP_SMTP_PLAIN && !smtp_is_loopback(cfg->host)) {
		str_format(error, error_size,
		           "security: plain (no TLS) is allowed only to a relay on this host "
		           "(localhost); use starttls or tls");
		return -1;
	}
	if (users_canonical_email(cfg->from_address, from, why, sizeof(why)) < 0) {
		str_format(error, error_size, "from: %s", why);
		return -1;
	}
	if (!str_is_printable_utf8(cfg->from_name) || !str_is_printable_utf8(cfg->username) ||
	    !str_is_printable_utf8(cfg->ca_file)) {
		str_format(error, error_size,
		           "name, user and ca-file must be text without control "
		           "characters");
		return -1;
	}
	if (cfg->auth != PP_SMTP_AUTH_NONE && (cfg->username[0] == '\0' || !will_have_secret)) {
		str_format(error, error_size,
		           "auth %s needs a user and a %s (or use auth none for a relay that "
		           "needs no login)",
		           mail_smtp_auth_name(cfg->auth),
		           cfg->auth == PP_SMTP_AUTH_XOAUTH2 ? "token" : "password");
		return -1;
	}
	return 0;
}

int mail_smtp_config_set(pp_core_t *core, const char *actor, const pp_smtp_config_t *cfg,
                         const char *secret, char *error, size_t error_size)
{
	pp_smtp_config_t old;
	if (mail_smtp_config_get(core, &old, error, error_size) < 0)
		return -1;
	bool will_have_secret = secret != NULL ? secret[0] != '\0' : old.has_secret;
	char from[USERS_EMAIL_MAX];
	if (smtp_validate(cfg, will_have_secret, from, error, error_size) < 0)
		return -1;
	char sealed[SMTP_SEALED_MAX];
	sealed[0] = '\0';
	if (secret != NULL && secret[0] != '\0' &&
	    smtp_seal(core, secret, sealed, error, error_size) < 0)
		return -1;
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "smtp: %s", db_error);
		return -1;
	}
	const pp_db_value_t params[] = {
	    DB_TEXT(cfg->host),
	    DB_INT(cfg->port),
	    DB_TEXT(mail_smtp_security_name(cfg->security)),
	    DB_INT(cfg->is_verify_tls ? 1 : 0),
	    DB_TEXT(cfg->ca_file),
	    DB_TEXT(mail_smtp_auth_name(cfg->auth)),
	    DB_TEXT(cfg->username),
	    DB_TEXT(from),
	    DB_TEXT(cfg->from_name),
	    DB_INT(core_now(core)),
	    DB_TEXT(sealed),
	    DB_INT(secret != NULL ? 1 : 0),
	};
	/* An upsert: the secret column changes only when a secret was given ($12). */
	int rc =
	    db_exec(core->db,
	            "INSERT INTO mail_smtp (id, host, port, security, verify, ca_file, auth, "
	            "username, from_address, from_name, updated_at, secret_enc) "
	            "VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
	            "ON CONFLICT (id) DO UPDATE SET host = $1, port = $2, security = $3, "
	            "verify = $4, ca_file = $5, auth = $6, username = $7, from_address = $8, "
	            "from_name = $9, updated_at = $10, "
	            "secret_enc = CASE WHEN $12 = 1 THEN $11 ELSE mail_smtp.secret_enc END",
	            params, sizeof(params) / sizeof(params[0]), NULL, db_error, sizeof(db_error));
	crypto_wipe(sealed, sizeof(sealed));
	char detail[AUDIT_DETAIL_MAX];
	(void)str_format(
	    detail, sizeof(detail), "host=%s port=%u security=%s auth=%s%s", cfg->host,
	    mail_smtp_port(cfg), mail_smtp_security_name(cfg->security),
	    mail_smtp_auth_name(cfg->auth),
	    secret != NULL ? (secret[0] != '\0' ? " secret=replaced" : " secret=removed") : "");
	if (rc != DB_OK || audit_record(core, actor, "mail.smtp.set", from, detail, db_error,
	                                sizeof(db_error)) < 0) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "smtp: cannot store the settings: %s", db_error);
		return -1;
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "smtp: cannot store the settings: %s", db_error);
		return -1;
	}
	return 0;
}

int mail_smtp_secret_get(pp_core_t *core, char out[MAIL_SMTP_SECRET_MAX], char *error,
                         size_t error_size)
{
	out[0] = '\0';
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT secret_enc FROM mail_smtp WHERE id = 1", NULL, 0, &res,
	             db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "smtp: cannot read the settings: %s", db_error);
		return -1;
	}
	const char *hex = db_result_rows(res) == 1 ? db_result_text(res, 0, 0) : "";
	size_t hex_len = strlen(hex);
	size_t npub = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	size_t abytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (hex_len == 0) {
		db_result_free(&res);
		return 0;
	}
	uint8_t sealed[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + MAIL_SMTP_SECRET_MAX +
	               crypto_aead_xchacha20poly1305_ietf_ABYTES];
	size_t sealed_len = hex_len / 2;
	bool is_ok = hex_len % 2 == 0 && sealed_len > npub + abytes &&
	             sealed_len - npub - abytes < MAIL_SMTP_SECRET_MAX &&
	             str_hex_decode(sealed, sealed_len, hex);
	db_result_free(&res);
	if (is_ok) {
		uint8_t key[CRYPTO_KEY_BYTES];
		smtp_key(core, key);
		unsigned long long len = 0;
		is_ok = crypto_aead_xchacha20poly1305_ietf_decrypt(
		            (uint8_t *)out, &len, NULL, sealed + npub, sealed_len - npub,
		            (const uint8_t *)SMTP_AAD, strlen(SMTP_AAD), sealed, key) == 0;
		crypto_wipe(key, sizeof(key));
		if (is_ok)
			out[len] = '\0';
	}
	crypto_wipe(sealed, sizeof(sealed));
	if (!is_ok) {
		out[0] = '\0';
		str_format(
		    error, error_size,
		    "smtp: the stored password does not open (was the master key replaced?) — "
		    "set it again with `pullprint mail smtp set --password-file FILE`");
		return -1;
	}
	return 0;
}
