/*
 * mail-account.c - the inbound mailboxes as stored: checks, the secret sealed at rest, and
 * the status the poller writes for the dashboard and `pullprint mail status`.
 *
 * The password or OAuth2 access token is sealed with XChaCha20-Poly1305 under a key derived
 * from the master key (through core->token_key, the path every pp_core_t offers, with a
 * purpose of its own: CRYPTO_SUBKEY_SECRETS), with the account's name as associated data, so
 * a sealed secret copied to another row does not open. It is opened only by the poller
 * right before a transfer and wiped after it.
 *
 * An account is refused when it could read our own replies: its address or login equal to
 * the SMTP account's (src/mail/mail-smtp-config.c) would have the server answer itself.
 */
#include "mail/mail-in-private.h"

#include "core/audit.h"
#include "core/printers.h"
#include "lib/crypto-seal.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail-out.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAIL_ACCOUNT_COLUMNS                                                                       \
	"id, name, url, proto, username, login, address, verify_tls, ca_file, poll_interval_s, "   \
	"COALESCE(default_printer_id, 0), enabled, last_poll_at, last_ok_at, last_error, "          \
	"messages_ingested"
#define MAIL_SEALED_HEX_MAX                                                                        \
	(2 * (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + MAIL_SECRET_MAX +                     \
	      crypto_aead_xchacha20poly1305_ietf_ABYTES) +                                         \
	 1)

const char *mail_proto_name(pp_mail_proto_t proto)
{
	return proto == PP_MAIL_PROTO_POP3 ? "pop3" : "imap";
}

const char *mail_login_name(pp_mail_login_t login)
{
	return login == PP_MAIL_LOGIN_XOAUTH2 ? "xoauth2" : "password";
}

bool mail_login_parse(const char *name, pp_mail_login_t *login_r)
{
	if (name != NULL && strcmp(name, "password") == 0) {
		*login_r = PP_MAIL_LOGIN_PASSWORD;
		return true;
	}
	if (name != NULL && (strcmp(name, "xoauth2") == 0 || strcmp(name, "oauth2") == 0)) {
		*login_r = PP_MAIL_LOGIN_XOAUTH2;
		return true;
	}
	return false;
}

int mail_account_url_check(const char *url, pp_mail_proto_t *proto_r, char *error,
                            size_t error_size)
{
	const char *host = NULL;
	if (str_has_prefix(url, "imaps://")) {
		*proto_r = PP_MAIL_PROTO_IMAP;
		host = url + 8;
	} else if (str_has_prefix(url, "imap://")) {
		*proto_r = PP_MAIL_PROTO_IMAP; /* STARTTLS is then required */
		host = url + 7;
	} else if (str_has_prefix(url, "pop3s://")) {
		*proto_r = PP_MAIL_PROTO_POP3;
		host = url + 8;
	} else {
		str_format(error, error_size,
		           "mail account URL must start with imaps://, imap:// (STARTTLS is "
		           "required) or pop3s://; plain POP3 is not offered");
		return -1;
	}
	if (host[0] == '\0' || host[0] == '/' || strchr(url, '@') != NULL ||
	    strpbrk(url, " \t\r\n?#") != NULL) {
		str_format(error, error_size,
		           "mail account URL needs a host and no user, query or spaces, e.g. "
		           "imaps://mail.example.com/INBOX (the user name is given apart)");
		return -1;
	}
	if (strlen(url) >= MAIL_URL_MAX) {
		str_format(error, error_size, "mail account URL is too long");
		return -1;
	}
	return 0;
}

/* The host part of a mail URL into out[size] (lower-case, without port). */
static void mail_url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	p = p != NULL ? p + 3 : url;
	size_t n = strcspn(p, ":/");
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	str_lower_ascii(out);
}

int mail_account_check_outbound(pp_core_t *core, const char *address, const char *username,
                                const char *url, char *error, size_t error_size)
{
	pp_smtp_config_t smtp;
	if (mail_smtp_config_get(core, &smtp, error, error_size) < 0)
		return -1;
	if (!smtp.is_configured)
		return 0;
	if (address[0] != '\0' && strcasecmp(address, smtp.from_address) == 0) {
		str_format(error, error_size,
		           "the mailbox %s is also the From address of the replies: use a separate "
		           "address for sending, or the server reads its own replies",
		           address);
		return -1;
	}
	char in_host[256];
	mail_url_host(url, in_host, sizeof(in_host));
	if (smtp.username[0] != '\0' && strcasecmp(username, smtp.username) == 0 &&
	    (strcasecmp(in_host, smtp.host) == 0 || strchr(username, '@') != NULL)) {
		str_format(error, error_size,
		           "the mailbox login %s is also the SMTP login: inbound and outbound "
		           "accounts must differ",
		           username);
		return -1;
	}
	return 0;
}

/* The key that seals account secrets. */
static bool mail_account_key(const pp_core_t *core, uint8_t key[CRYPTO_KEY_BYTES])
{
	return crypto_derive_subkey(core->token_key, CRYPTO_SUBKEY_SECRETS, key);
}

/* Seals secret for account name into a new hex string (free() after crypto_wipe). */
static char *mail_account_seal(const pp_core_t *core, const char *name, const char *secret,
                               char *error, size_t error_size)
{
	size_t len = strlen(secret);
	if (len == 0 || len >= MAIL_SECRET_MAX) {
		str_format(error, error_size, "mail account %s: the password or token must be 1..%d "
		           "bytes", name, MAIL_SECRET_MAX - 1);
		return NULL;
	}
	uint8_t key[CRYPTO_KEY_BYTES];
	char *hex = mail_account_key(core, key) ? crypto_seal_hex(key, secret, name) : NULL;
	crypto_wipe(key, sizeof(key));
	if (hex == NULL)
		str_format(error, error_size, "mail account %s: cannot seal the secret", name);
	return hex;
}

int mail_account_secret_get(pp_core_t *core, const pp_mail_account_t *account, char **secret_r,
                            char *error, size_t error_size)
{
	*secret_r = NULL;
	const pp_db_value_t params[] = {DB_INT(account->id)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT secret_enc FROM mail_accounts WHERE id = $1", params, 1,
	             &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "mail account %s: cannot read: %s", account->name,
		           db_error);
		return -1;
	}
	const char *hex = db_result_rows(res) == 1 ? db_result_text(res, 0, 0) : "";
	uint8_t key[CRYPTO_KEY_BYTES];
	char *plain = NULL;
	bool is_ok = mail_account_key(core, key) &&
	             crypto_open_hex(key, hex, account->name, MAIL_SECRET_MAX - 1, &plain) == 0;
	crypto_wipe(key, sizeof(key));
	db_result_free(&res);
	if (!is_ok) {
		str_format(error, error_size,
		           "mail account %s: the stored password or token does not open (was the "
		           "master key replaced?) — remove the account and add it again",
		           account->name);
		return -1;
	}
	*secret_r = plain;
	return 0;
}

int mail_account_add(pp_core_t *core, const char *actor, const pp_mail_account_new_t *account,
                     int64_t *id_r, char *error, size_t error_size)
{
	const char *name = account->name != NULL ? account->name : "";
	if (name[0] == '\0' || strlen(name) >= MAIL_ACCOUNT_NAME_MAX || !str_is_printable_utf8(name) ||
	    strchr(name, ' ') != NULL) {
		str_format(error, error_size,
		           "mail account name must be 1..%d printable characters without spaces",
		           MAIL_ACCOUNT_NAME_MAX - 1);
		return -1;
	}
	pp_mail_proto_t proto;
	if (account->url == NULL || mail_account_url_check(account->url, &proto, error,
	                                                   error_size) < 0)
		return -1;
	if (account->username == NULL || account->username[0] == '\0' ||
	    strlen(account->username) >= MAIL_ADDRESS_MAX ||
	    !str_is_printable_utf8(account->username)) {
		str_format(error, error_size, "mail account %s: a user name is required", name);
		return -1;
	}
	/* The mailbox's own address: given, or the login when it is an address. */
	char address[MAIL_ADDRESS_MAX];
	char why[128];
	const char *given = account->address != NULL && account->address[0] != '\0'
	                        ? account->address
	                        : account->username;
	if (users_canonical_email(given, address, why, sizeof(why)) < 0) {
		str_format(error, error_size,
		           "mail account %s: give the mailbox's address (--address): %s", name, why);
		return -1;
	}
	if (account->poll_interval_s < 0 || account->poll_interval_s > 86400) {
		str_format(error, error_size, "mail account %s: poll interval must be 1..86400 s",
		           name);
		return -1;
	}
	if (account->ca_file != NULL && strlen(account->ca_file) >= MAIL_URL_MAX) {
		str_format(error, error_size, "mail account %s: CA file path too long", name);
		return -1;
	}
	if (account->default_printer_id != 0) {
		pp_printer_t printer;
		int rc = printers_get(core, account->default_printer_id, &printer, error, error_size);
		if (rc != 0) {
			if (rc == PRINTERS_NOT_FOUND)
				str_format(error, error_size, "mail account %s: no printer %lld", name,
				           (long long)account->default_printer_id);
			return -1;
		}
	}
	if (mail_account_check_outbound(core, address, account->username, account->url, error,
	                                error_size) < 0)
		return -1;
	char *sealed = mail_account_seal(core, name, account->secret != NULL ? account->secret : "",
	                                 error, error_size);
	if (sealed == NULL)
		return -1;

	int64_t now = core_now(core);
	const pp_db_value_t params[] = {
	    DB_TEXT(name),
	    DB_TEXT(account->url),
	    DB_TEXT(mail_proto_name(proto)),
	    DB_TEXT(account->username),
	    DB_TEXT(mail_login_name(account->login)),
	    DB_TEXT(sealed),
	    DB_TEXT(address),
	    DB_INT(account->is_insecure_tls ? 0 : 1),
	    DB_TEXT(account->ca_file != NULL ? account->ca_file : ""),
	    DB_INT(account->poll_interval_s > 0 ? account->poll_interval_s : 10),
	    account->default_printer_id != 0 ? DB_INT(account->default_printer_id) : DB_NULL,
	    DB_INT(now),
	};
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	int rc = db_tx_begin(core->db, db_error, sizeof(db_error));
	if (rc == DB_OK) {
		rc = db_query(core->db,
		              "INSERT INTO mail_accounts (name, url, proto, username, login, "
		              "secret_enc, address, verify_tls, ca_file, poll_interval_s, "
		              "default_printer_id, created_at, updated_at) VALUES ($1, $2, $3, $4, "
		              "$5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
		              params, sizeof(params) / sizeof(params[0]), &res, db_error,
		              sizeof(db_error));
		char detail[MAIL_URL_MAX + 128];
		(void)str_format(detail, sizeof(detail), "url=%s login=%s%s", account->url,
		                 mail_login_name(account->login),
		                 account->is_insecure_tls ? " tls-verify=off" : "");
		if (rc == DB_OK && audit_record(core, actor, "mail.account.add", name, detail,
		                                db_error, sizeof(db_error)) < 0)
			rc = DB_ERROR;
		if (rc == DB_OK)
			rc = db_tx_commit(core->db, db_error, sizeof(db_error));
		else
			db_tx_rollback(core->db);
	}
	crypto_wipe(sealed, strlen(sealed));
	free(sealed);
	if (rc == DB_DUPLICATE) {
		db_result_free(&res);
		str_format(error, error_size, "mail account %s already exists", name);
		return DB_DUPLICATE;
	}
	if (rc != DB_OK) {
		db_result_free(&res);
		str_format(error, error_size, "mail account %s: cannot add: %s", name, db_error);
		return -1;
	}
	if (id_r != NULL)
		*id_r = db_result_rows(res) == 1 ? db_result_int(res, 0, 0) : 0;
	db_result_free(&res);
	if (account->is_insecure_tls)
		log_warn("mail.account_insecure account=%s — certificate verification is off: anyone "
		         "on the path can read the mailbox password; turn it back on when you can",
		         name);
	log_info("mail.account_added account=%s proto=%s", name, mail_proto_name(proto));
	return 0;
}

int mail_account_remove(pp_core_t *core, const char *actor, const char *name, char *error,
                        size_t error_size)
{
	const pp_db_value_t params[] = {DB_TEXT(name)};
	char db_error[DB_ERROR_MAX];
	int64_t changes = 0;
	int rc = db_tx_begin(core->db, db_error, sizeof(db_error));
	if (rc == DB_OK) {
		rc = db_exec(core->db, "DELETE FROM mail_accounts WHERE name = $1", params, 1,
		             &changes, db_error, sizeof(db_error));
		if (rc == DB_OK && changes == 1 &&
		    audit_record(core, actor, "mail.account.remove", name, "", db_error,
		                 sizeof(db_error)) < 0)
			rc = DB_ERROR;
		if (rc == DB_OK && changes == 1)
			rc = db_tx_commit(core->db, db_error, sizeof(db_error));
		else
			db_tx_rollback(core->db);
	}
	if (rc != DB_OK) {
		str_format(error, error_size, "mail account %s: cannot remove: %s", name, db_error);
		return -1;
	}
	if (changes != 1) {
		str_format(error, error_size, "no mail account %s (see `pullprint mail accounts list`)",
		           name);
		return -1;
	}
	return 0;
}

/* Fills *account from row of res (MAIL_ACCOUNT_COLUMNS). */
static void mail_account_from_row(const pp_db_result_t *res, size_t row,
                                  pp_mail_account_t *account)
{
	memset(account, 0, sizeof(*account));
	account->id = db_result_int(res, row, 0);
	(void)str_copy(account->name, sizeof(account->name), db_result_text(res, row, 1));
	(void)str_copy(account->url, sizeof(account->url), db_result_text(res, row, 2));
	account->proto = strcmp(db_result_text(res, row, 3), "pop3") == 0 ? PP_MAIL_PROTO_POP3
	                                                                   : PP_MAIL_PROTO_IMAP;
	(void)str_copy(account->username, sizeof(account->username), db_result_text(res, row, 4));
	account->login = strcmp(db_result_text(res, row, 5), "xoauth2") == 0
	                     ? PP_MAIL_LOGIN_XOAUTH2
	                     : PP_MAIL_LOGIN_PASSWORD;
	(void)str_copy(account->address, sizeof(account->address), db_result_text(res, row, 6));
	account->is_verify_tls = db_result_int(res, row, 7) != 0;
	(void)str_copy(account->ca_file, sizeof(account->ca_file), db_result_text(res, row, 8));
	account->poll_interval_s = db_result_int(res, row, 9);
	account->default_printer_id = db_result_int(res, row, 10);
	account->is_enabled = db_result_int(res, row, 11) != 0;
	account->last_poll_at = db_result_int(res, row, 12);
	account->last_ok_at = db_result_int(res, row, 13);
	(void)str_copy(account->last_error, sizeof(account->last_error), db_result_text(res, row, 14));
	account->messages_ingested = db_result_int(res, row, 15);
}

int mail_account_list(pp_core_t *core, pp_mail_account_t **accounts_r, size_t *count_r,
                      char *error, size_t error_size)
{
	*accounts_r = NULL;
	*count_r = 0;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT " MAIL_ACCOUNT_COLUMNS " FROM mail_accounts ORDER BY name LIMIT 1000",
	             NULL, 0, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "mail accounts: cannot read: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	pp_mail_account_t *accounts = calloc(rows > 0 ? rows : 1, sizeof(*accounts));
	if (accounts == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "mail accounts: out of memory");
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		mail_account_from_row(res, i, &accounts[i]);
	db_result_free(&res);
	*accounts_r = accounts;
	*count_r = rows;
	return 0;
}

void mail_account_list_free(pp_mail_account_t **accounts)
{
	if (accounts == NULL || *accounts == NULL)
		return;
	free(*accounts);
	*accounts = NULL;
}

int mail_account_get(pp_core_t *core, const char *name, pp_mail_account_t *account_r,
                     char *error, size_t error_size)
{
	const pp_db_value_t params[] = {DB_TEXT(name)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT " MAIL_ACCOUNT_COLUMNS " FROM mail_accounts WHERE name = $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "mail account %s: cannot read: %s", name, db_error);
		return -1;
	}
	if (db_result_rows(res) != 1) {
		db_result_free(&res);
		str_format(error, error_size, "no mail account %s (see `pullprint mail accounts list`)",
		           name);
		return 1;
	}
	mail_account_from_row(res, 0, account_r);
	db_result_free(&res);
	return 0;
}

int mail_account_is_own_address(pp_core_t *core, const char *address, bool *is_own_r,
                                char *error, size_t error_size)
{
	*is_own_r = false;
	const pp_db_value_t params[] = {DB_TEXT(address)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT 1 FROM mail_accounts WHERE address = lower($1) LIMIT 1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "mail accounts: cannot read: %s", db_error);
		return -1;
	}
	*is_own_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

int mail_account_status_set(pp_core_t *core, int64_t id, const char *last_error,
                            int64_t ingested, char *error, size_t error_size)
{
	int64_t now = core_now(core);
	bool is_ok = last_error == NULL || last_error[0] == '\0';
	const pp_db_value_t params[] = {DB_INT(id), DB_INT(now),
	                                DB_TEXT(is_ok ? "" : last_error), DB_INT(ingested)};
	char db_error[DB_ERROR_MAX];
	int rc = db_exec(core->db,
	                 is_ok ? "UPDATE mail_accounts SET last_poll_at = $2, last_ok_at = $2, "
	                         "last_error = $3, messages_ingested = messages_ingested + $4 "
	                         "WHERE id = $1"
	                       : "UPDATE mail_accounts SET last_poll_at = $2, last_error = $3, "
	                         "messages_ingested = messages_ingested + $4 WHERE id = $1",
	                 params, 4, NULL, db_error, sizeof(db_error));
	if (rc != DB_OK) {
		str_format(error, error_size, "mail account %lld: cannot record the status: %s",
		           (long long)id, db_error);
		return -1;
	}
	return 0;
}
