/*
 * directory-config.c - directory connections as stored: defaults per kind, checks, the
 * service password encrypted at rest, and the health and sync records the dashboard reads.
 *
 * The service password is sealed with XChaCha20-Poly1305 under a key derived from the master
 * key (through the tokens sub-key, the only path a pp_core_t offers), with the connection's
 * name as associated data, so a sealed password copied to another row does not open.
 */
#include "directory/directory-private.h"

#include "core/audit.h"
#include "lib/crypto-seal.h"
#include "lib/log.h"
#include "lib/str.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define DIRECTORY_COLUMNS                                                                          \
	"id, name, kind, uris, starttls, ca_file, verify, bind_dn, "                           \
	"CASE WHEN bind_password_enc <> '' THEN 1 ELSE 0 END, "      \
	"base_dns, user_filter, login_attrs, mail_attrs, mapping, print_group, admin_group, "      \
	"network_timeout_ms, op_timeout_ms, sync_interval_s, enabled, last_sync_at, "              \
	"last_sync_result, last_ok_at, last_error, last_error_at"
#define DIRECTORY_SEALED_MAX                                                                       \
	(2 * (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + DIRECTORY_PASSWORD_MAX +              \
	      crypto_aead_xchacha20poly1305_ietf_ABYTES) +                                         \
	 1)
#define DIRECTORY_TIMEOUT_MAX_MS 120000

const char *directory_kind_name(pp_directory_kind_t kind)
{
	return kind == PP_DIRECTORY_AD ? "ad" : "ldap";
}

bool directory_kind_parse(const char *name, pp_directory_kind_t *kind_r)
{
	if (name != NULL && strcmp(name, "ldap") == 0) {
		*kind_r = PP_DIRECTORY_LDAP;
		return true;
	}
	if (name != NULL && (strcmp(name, "ad") == 0 || strcmp(name, "active-directory") == 0)) {
		*kind_r = PP_DIRECTORY_AD;
		return true;
	}
	return false;
}

const char *directory_outcome_name(pp_directory_outcome_t outcome)
{
	switch (outcome) {
	case PP_DIRECTORY_NONE:
		return "no directory";
	case PP_DIRECTORY_OK:
		return "ok";
	case PP_DIRECTORY_NOT_FOUND:
		return "not found";
	case PP_DIRECTORY_DENIED:
		return "denied";
	case PP_DIRECTORY_UNAVAILABLE:
		return "unavailable";
	}
	return "unknown";
}

void directory_defaults(pp_directory_kind_t kind, pp_directory_t *dir)
{
	memset(dir, 0, sizeof(*dir));
	dir->kind = kind;
	dir->is_verify = true;
	dir->is_enabled = true;
	dir->network_timeout_ms = 3000;
	dir->op_timeout_ms = 5000;
	dir->sync_interval_s = 3600;
	bool is_ad = kind == PP_DIRECTORY_AD;
	/* AD: people, not computers (also objectClass=user), and not disabled accounts. */
	(void)str_copy(dir->user_filter, sizeof(dir->user_filter),
	               is_ad ? "(&(objectCategory=person)(objectClass=user)"
	                       "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
	                     : "(objectClass=inetOrgPerson)");
	(void)str_copy(dir->login_attrs, sizeof(dir->login_attrs),
	               is_ad ? "sAMAccountName userPrincipalName" : "uid");
	(void)str_copy(dir->mail_attrs, sizeof(dir->mail_attrs), is_ad ? "mail proxyAddresses" : "mail");
	(void)str_copy(dir->attr_email, sizeof(dir->attr_email), "mail");
	(void)str_copy(dir->attr_display_name, sizeof(dir->attr_display_name), "displayName");
	(void)str_copy(dir->attr_department, sizeof(dir->attr_department),
	               is_ad ? "department" : "departmentNumber");
	(void)str_copy(dir->attr_cost_centre, sizeof(dir->attr_cost_centre), "employeeNumber");
}

/* Whether name is an LDAP attribute description: a letter, then letters, digits, '-', ';'. */
static bool directory_attr_valid(const char *name, size_t len)
{
	if (len == 0 || len >= DIRECTORY_ATTR_MAX)
		return false;
	bool is_oid = name[0] >= '0' && name[0] <= '9';
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '-' || c == ';' || (is_oid && c == '.');
		if (!ok)
			return false;
	}
	return true;
}

int directory_mapping_parse(const char *text, pp_directory_t *dir, char *error,
                            size_t error_size)
{
	const char *p = text;
	while (*p != '\0') {
		while (*p == ',' || *p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		if (eq == NULL) {
			str_format(error, error_size,
			           "directory: mapping item '%.*s' is not field=attribute", (int)len, p);
			return -1;
		}
		size_t key_len = (size_t)(eq - p), val_len = len - key_len - 1;
		const char *val = eq + 1;
		while (val_len > 0 && val[val_len - 1] == ' ')
			val_len--;
		char *field = NULL;
		if (key_len == 5 && memcmp(p, "email", 5) == 0)
			field = dir->attr_email;
		else if (key_len == 12 && memcmp(p, "display_name", 12) == 0)
			field = dir->attr_display_name;
		else if (key_len == 10 && memcmp(p, "department", 10) == 0)
			field = dir->attr_department;
		else if (key_len == 11 && memcmp(p, "cost_centre", 11) == 0)
			field = dir->attr_cost_centre;
		if (field == NULL) {
			str_format(error, error_size,
			           "directory: unknown mapping field '%.*s' (email, display_name, "
			           "department, cost_centre)",
			           (int)key_len, p);
			return -1;
		}
		/* An empty attribute leaves the field unmapped (except email). */
		if (val_len > 0 && !directory_attr_valid(val, val_len)) {
			str_format(error, error_size, "directory: '%.*s' is not an attribute name",
			           (int)val_len, val);
			return -1;
		}
		memcpy(field, val, val_len);
		field[val_len] = '\0';
		p += len;
	}
	if (dir->attr_email[0] == '\0') {
		str_format(error, error_size, "directory: the email field must be mapped");
		return -1;
	}
	return 0;
}

/* A word-list check: every word an attribute name. */
static bool directory_attr_word_ok(const char *word, size_t len, void *arg)
{
	(void)arg;
	return directory_attr_valid(word, len);
}

/* Checks one URI for the connection's protection. */
static bool directory_uri_ok(const char *word, size_t len, void *arg)
{
	const pp_directory_t *dir = arg;
	char uri[DIRECTORY_URIS_MAX];
	if (len >= sizeof(uri))
		return false;
	memcpy(uri, word, len);
	uri[len] = '\0';
	LDAPURLDesc *desc = NULL;
	if (ldap_url_parse(uri, &desc) != LDAP_URL_SUCCESS)
		return false;
	bool is_ldaps = strcmp(desc->lud_scheme, "ldaps") == 0;
	bool is_ldap = strcmp(desc->lud_scheme, "ldap") == 0;
	ldap_free_urldesc(desc);
	/* Passwords cross the channel: ldaps://, or ldap:// only with StartTLS. */
	return (is_ldaps && !dir->is_starttls) || (is_ldap && dir->is_starttls);
}

/* Checks one DN's syntax. */
static bool directory_dn_ok(const char *dn)
{
	LDAPDN parsed = NULL;
	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return false;
	ldap_dnfree(parsed);
	return true;
}

/* Checks that a filter is one parenthesised, balanced expression. */
static bool directory_filter_ok(const char *filter)
{
	size_t len = strlen(filter);
	if (len == 0)
		return true;
	if (filter[0] != '(' || filter[len - 1] != ')')
		return false;
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		if (filter[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (filter[i] == '(')
			depth++;
		else if (filter[i] == ')' && --depth < 0)
			return false;
		if (depth == 0 && i + 1 < len)
			return false;
	}
	return depth == 0;
}

/* Checks a connection before it is stored. Returns 0 or -1 (error says what to fix). */
static int directory_validate(const pp_directory_t *dir, char *error, size_t error_size)
{
	size_t name_len = strlen(dir->name);
	if (name_len == 0 || name_len >= DIRECTORY_NAME_MAX ||
	    strspn(dir->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != name_len) {
		str_format(error, error_size,
		           "directory: the name must be 1-63 characters of a-z, 0-9, '_' and '-'");
		return -1;
	}
	if (dir->uris[0] == '\0' || !directory_words(dir->uris, directory_uri_ok, (void *)dir)) {
		str_format(error, error_size,
		           "directory %s: URIs must be ldaps://host[:port], or ldap://host[:port] "
		           "with --starttls (passwords never cross the network in clear)",
		           dir->name);
		return -1;
	}
	if (dir->base_dns[0] == '\0') {
		str_format(error, error_size, "directory %s: give at least one base DN (--base)",
		           dir->name);
		return -1;
	}
	char copy[DIRECTORY_BASES_MAX];
	(void)str_copy(copy, sizeof(copy), dir->base_dns);
	for (char *line = copy, *next; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] != '\0' && !directory_dn_ok(line)) {
			str_format(error, error_size, "directory %s: '%s' is not a DN", dir->name, line);
			return -1;
		}
	}
	const char *dns[] = {dir->bind_dn, dir->print_group, dir->admin_group};
	for (size_t i = 0; i < sizeof(dns) / sizeof(dns[0]); i++) {
		if (dns[i][0] != '\0' && !directory_dn_ok(dns[i])) {
			str_format(error, error_size, "directory %s: '%s' is not a DN", dir->name,
			           dns[i]);
			return -1;
		}
	}
	if (!directory_filter_ok(dir->user_filter)) {
		str_format(error, error_size,
		           "directory %s: the filter must be one parenthesised expression, e.g. "
		           "(objectClass=inetOrgPerson)",
		           dir->name);
		return -1;
	}
	if (dir->login_attrs[0] == '\0' || dir->mail_attrs[0] == '\0' ||
	    !directory_words(dir->login_attrs, directory_attr_word_ok, NULL) ||
	    !directory_words(dir->mail_attrs, directory_attr_word_ok, NULL)) {
		str_format(error, error_size,
		           "directory %s: login and mail attributes must be attribute names",
		           dir->name);
		return -1;
	}
	if (dir->network_timeout_ms < 100 || dir->network_timeout_ms > DIRECTORY_TIMEOUT_MAX_MS ||
	    dir->op_timeout_ms < 100 || dir->op_timeout_ms > DIRECTORY_TIMEOUT_MAX_MS) {
		str_format(error, error_size, "directory %s: timeouts must be 100..%d ms", dir->name,
		           DIRECTORY_TIMEOUT_MAX_MS);
		return -1;
	}
	if (dir->sync_interval_s < 0) {
		str_format(error, error_size, "directory %s: the sync interval must be >= 0",
		           dir->name);
		return -1;
	}
	return 0;
}

/* The key that seals service passwords. */
static bool directory_key(const pp_core_t *core, uint8_t key[CRYPTO_KEY_BYTES])
{
	return crypto_derive_subkey(core->token_key, CRYPTO_SUBKEY_DIRECTORY, key);
}

/* Seals password for the connection named name into out[DIRECTORY_SEALED_MAX] (hex). */
static int directory_seal(const pp_core_t *core, const char *name, const char *password,
                          char out[DIRECTORY_SEALED_MAX], char *error, size_t error_size)
{
	if (strlen(password) >= DIRECTORY_PASSWORD_MAX) {
		str_format(error, error_size, "directory %s: the service password is too long", name);
		return -1;
	}
	uint8_t key[CRYPTO_KEY_BYTES];
	char *hex = directory_key(core, key) ? crypto_seal_hex(key, password, name) : NULL;
	crypto_wipe(key, sizeof(key));
	bool is_ok = hex != NULL && str_copy(out, DIRECTORY_SEALED_MAX, hex);
	if (hex != NULL) {
		crypto_wipe(hex, strlen(hex));
		free(hex);
	}
	if (!is_ok) {
		str_format(error, error_size, "directory %s: cannot seal the service password", name);
		return -1;
	}
	return 0;
}

int directory_password_get(pp_core_t *core, const pp_directory_t *dir,
                           char out[DIRECTORY_PASSWORD_MAX], char *error, size_t error_size)
{
	out[0] = '\0';
	if (!dir->has_bind_password)
		return 0;
	const pp_db_value_t params[] = {DB_INT(dir->id)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT bind_password_enc FROM directories WHERE id = $1", params,
	             1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot read: %s", dir->name, db_error);
		return -1;
	}
	char hex[DIRECTORY_SEALED_MAX];
	bool is_read = db_result_rows(res) == 1 && str_copy(hex, sizeof(hex), db_result_text(res, 0, 0));
	db_result_free(&res);
	uint8_t key[CRYPTO_KEY_BYTES];
	char *plain = NULL;
	bool is_ok = is_read && directory_key(core, key) &&
	             crypto_open_hex(key, hex, dir->name, DIRECTORY_PASSWORD_MAX - 1, &plain) == 0;
	crypto_wipe(key, sizeof(key));
	if (is_ok) {
		(void)str_copy(out, DIRECTORY_PASSWORD_MAX, plain);
		crypto_wipe(plain, strlen(plain));
		free(plain);
	}
	if (!is_ok) {
		str_format(error, error_size,
		           "directory %s: the stored service password does not open (was the "
		           "master key replaced?) — remove and add the connection again",
		           dir->name);
		return -1;
	}
	return 0;
}

/* Writes the mapping text of dir into out[size]. */
static bool directory_mapping_text(const pp_directory_t *dir, char *out, size_t size)
{
	return str_format(out, size, "email=%s,display_name=%s,department=%s,cost_centre=%s",
	                  dir->attr_email, dir->attr_display_name, dir->attr_department,
	                  dir->attr_cost_centre);
}

int directory_add(pp_core_t *core, const char *actor, const pp_directory_t *dir,
                  const char *bind_password, int64_t *id_r, char *error, size_t error_size)
{
	if (directory_validate(dir, error, error_size) < 0)
		return -1;
	char sealed[DIRECTORY_SEALED_MAX] = "";
	if (bind_password != NULL && bind_password[0] != '\0' &&
	    directory_seal(core, dir->name, bind_password, sealed, error, error_size) < 0)
		return -1;
	char mapping[DIRECTORY_ATTR_MAX * 4 + 64];
	if (!directory_mapping_text(dir, mapping, sizeof(mapping))) {
		str_format(error, error_size, "directory %s: mapping too long", dir->name);
		return -1;
	}
	int64_t now = core_now(core);
	const pp_db_value_t params[] = {
	    DB_TEXT(dir->name),          DB_TEXT(directory_kind_name(dir->kind)),
	    DB_TEXT(dir->uris),          DB_INT(dir->is_starttls),
	    DB_TEXT(dir->ca_file),       DB_INT(dir->is_verify),
	    DB_TEXT(dir->bind_dn),       DB_TEXT(sealed),
	    DB_TEXT(dir->base_dns),      DB_TEXT(dir->user_filter),
	    DB_TEXT(dir->login_attrs),   DB_TEXT(dir->mail_attrs),
	    DB_TEXT(mapping),            DB_TEXT(dir->print_group),
	    DB_TEXT(dir->admin_group),   DB_INT(dir->network_timeout_ms),
	    DB_INT(dir->op_timeout_ms),  DB_INT(dir->sync_interval_s),
	    DB_INT(dir->is_enabled),     DB_INT(now),
	};
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot add: %s", dir->name, db_error);
		return -1;
	}
	int rc = db_exec(core->db,
	                 "INSERT INTO directories (name, kind, uris, starttls, ca_file, verify, "
	                 "bind_dn, bind_password_enc, base_dns, user_filter, login_attrs, "
	                 "mail_attrs, mapping, print_group, admin_group, network_timeout_ms, "
	                 "op_timeout_ms, sync_interval_s, enabled, created_at, updated_at) VALUES "
	                 "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
	                 "$17, $18, $19, $20, $20)",
	                 params, sizeof(params) / sizeof(params[0]), NULL, db_error,
	                 sizeof(db_error));
	crypto_wipe(sealed, sizeof(sealed));
	if (rc == DB_DUPLICATE) {
		str_format(error, error_size,
		           "directory %s already exists; `pullprint directory remove %s` first",
		           dir->name, dir->name);
		db_tx_rollback(core->db);
		return DB_DUPLICATE;
	}
	char detail[DIRECTORY_URIS_MAX + 64];
	if (!str_format(detail, sizeof(detail), "uris=%s", dir->uris))
		detail[0] = '\0';
	if (rc != DB_OK) {
		str_format(error, error_size, "directory %s: cannot add: %s", dir->name, db_error);
		goto fail;
	}
	if (audit_record(core, actor, "directory.add", dir->name, detail, error, error_size) < 0)
		goto fail;
	pp_db_result_t *res = NULL;
	const pp_db_value_t key[] = {DB_TEXT(dir->name)};
	if (db_query(core->db, "SELECT id FROM directories WHERE name = $1", key, 1, &res,
	             db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot add: %s", dir->name, db_error);
		goto fail;
	}
	if (id_r != NULL)
		*id_r = db_result_int(res, 0, 0);
	db_result_free(&res);
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot add: %s", dir->name, db_error);
		return -1;
	}
	log_info("directory.added name=%s uris=\"%s\" actor=%s", dir->name, dir->uris, actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int directory_remove(pp_core_t *core, const char *actor, const char *name, char *error,
                     size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot remove: %s", name, db_error);
		return -1;
	}
	const pp_db_value_t params[] = {DB_TEXT(name)};
	int64_t changes = 0;
	/* Users stay (their jobs and accounting too); they no longer belong to a connection. */
	if (db_exec(core->db,
	            "UPDATE users SET directory_id = NULL WHERE directory_id IN "
	            "(SELECT id FROM directories WHERE name = $1)",
	            params, 1, NULL, db_error, sizeof(db_error)) != DB_OK ||
	    db_exec(core->db, "DELETE FROM directories WHERE name = $1", params, 1, &changes,
	            db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot remove: %s", name, db_error);
		goto fail;
	}
	if (changes == 0) {
		str_format(error, error_size,
		           "no directory %s; `pullprint directory list` shows the connections", name);
		goto fail;
	}
	if (audit_record(core, actor, "directory.remove", name, NULL, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot remove: %s", name, db_error);
		return -1;
	}
	log_info("directory.removed name=%s actor=%s", name, actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

/* Fills dir from row of res (DIRECTORY_COLUMNS). */
static void directory_from_row(const pp_db_result_t *res, size_t row, pp_directory_t *dir)
{
	memset(dir, 0, sizeof(*dir));
	size_t c = 0;
	dir->id = db_result_int(res, row, c++);
	(void)str_copy(dir->name, sizeof(dir->name), db_result_text(res, row, c++));
	if (!directory_kind_parse(db_result_text(res, row, c++), &dir->kind))
		dir->kind = PP_DIRECTORY_LDAP;
	(void)str_copy(dir->uris, sizeof(dir->uris), db_result_text(res, row, c++));
	dir->is_starttls = db_result_int(res, row, c++) != 0;
	(void)str_copy(dir->ca_file, sizeof(dir->ca_file), db_result_text(res, row, c++));
	dir->is_verify = db_result_int(res, row, c++) != 0;
	(void)str_copy(dir->bind_dn, sizeof(dir->bind_dn), db_result_text(res, row, c++));
	dir->has_bind_password = db_result_int(res, row, c++) != 0;
	(void)str_copy(dir->base_dns, sizeof(dir->base_dns), db_result_text(res, row, c++));
	(void)str_copy(dir->user_filter, sizeof(dir->user_filter), db_result_text(res, row, c++));
	(void)str_copy(dir->login_attrs, sizeof(dir->login_attrs), db_result_text(res, row, c++));
	(void)str_copy(dir->mail_attrs, sizeof(dir->mail_attrs), db_result_text(res, row, c++));
	char err[64];
	if (directory_mapping_parse(db_result_text(res, row, c++), dir, err, sizeof(err)) < 0)
		(void)str_copy(dir->attr_email, sizeof(dir->attr_email), "mail");
	(void)str_copy(dir->print_group, sizeof(dir->print_group), db_result_text(res, row, c++));
	(void)str_copy(dir->admin_group, sizeof(dir->admin_group), db_result_text(res, row, c++));
	dir->network_timeout_ms = (int)db_result_int(res, row, c++);
	dir->op_timeout_ms = (int)db_result_int(res, row, c++);
	dir->sync_interval_s = db_result_int(res, row, c++);
	dir->is_enabled = db_result_int(res, row, c++) != 0;
	dir->last_sync_at = db_result_int(res, row, c++);
	(void)str_copy(dir->last_sync_result, sizeof(dir->last_sync_result),
	               db_result_text(res, row, c++));
	dir->last_ok_at = db_result_int(res, row, c++);
	(void)str_copy(dir->last_error, sizeof(dir->last_error), db_result_text(res, row, c++));
	dir->last_error_at = db_result_int(res, row, c++);
}

int directory_get(pp_core_t *core, const char *name, pp_directory_t *dir_r, bool *found_r,
                  char *error, size_t error_size)
{
	*found_r = false;
	const pp_db_value_t params[] = {DB_TEXT(name)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT " DIRECTORY_COLUMNS " FROM directories WHERE name = $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot read: %s", name, db_error);
		return -1;
	}
	if (db_result_rows(res) == 1) {
		directory_from_row(res, 0, dir_r);
		*found_r = true;
	}
	db_result_free(&res);
	return 0;
}

int directory_list(pp_core_t *core, pp_directory_t **dirs_r, size_t *count_r, char *error,
                   size_t error_size)
{
	*dirs_r = NULL;
	*count_r = 0;
	const pp_db_value_t params[] = {DB_INT(DIRECTORY_LIST_MAX)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT " DIRECTORY_COLUMNS " FROM directories ORDER BY id LIMIT $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directories: cannot read: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	pp_directory_t *dirs = calloc(rows > 0 ? rows : 1, sizeof(*dirs));
	if (dirs == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "directories: out of memory");
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		directory_from_row(res, i, &dirs[i]);
	db_result_free(&res);
	*dirs_r = dirs;
	*count_r = rows;
	return 0;
}

void directory_list_free(pp_directory_t **dirs)
{
	if (dirs == NULL || *dirs == NULL)
		return;
	free(*dirs);
	*dirs = NULL;
}

int directory_has_enabled(pp_core_t *core, bool *has_r, char *error, size_t error_size)
{
	*has_r = false;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT 1 FROM directories WHERE enabled = 1 LIMIT 1", NULL, 0,
	             &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directories: cannot read: %s", db_error);
		return -1;
	}
	*has_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

void directory_health_ok(pp_core_t *core, const pp_directory_t *dir)
{
	char db_error[DB_ERROR_MAX];
	const pp_db_value_t params[] = {DB_INT(core_now(core)), DB_INT(dir->id)};
	/* One write per state change, not per sign-in: only a recorded error is cleared. */
	if (dir->last_error[0] == '\0' && dir->last_ok_at != 0)
		return;
	if (db_exec(core->db,
	            "UPDATE directories SET last_ok_at = $1, last_error = '' WHERE id = $2", params,
	            2, NULL, db_error, sizeof(db_error)) != DB_OK)
		log_warn("directory.health_write_failed directory=%s error=\"%s\"", dir->name,
		         db_error);
	else if (dir->last_error[0] != '\0')
		log_info("directory.recovered directory=%s", dir->name);
}

void directory_health_error(pp_core_t *core, const pp_directory_t *dir, const char *message)
{
	log_error("directory.unavailable directory=%s error=\"%s\"", dir->name, message);
	char db_error[DB_ERROR_MAX];
	const pp_db_value_t params[] = {DB_TEXT(message), DB_INT(core_now(core)), DB_INT(dir->id)};
	if (db_exec(core->db,
	            "UPDATE directories SET last_error = $1, last_error_at = $2 WHERE id = $3",
	            params, 3, NULL, db_error, sizeof(db_error)) != DB_OK)
		log_warn("directory.health_write_failed directory=%s error=\"%s\"", dir->name,
		         db_error);
}

void directory_sync_record(pp_core_t *core, const pp_directory_t *dir, const char *result)
{
	char db_error[DB_ERROR_MAX];
	const pp_db_value_t params[] = {DB_INT(core_now(core)), DB_TEXT(result), DB_INT(dir->id)};
	if (db_exec(core->db,
	            "UPDATE directories SET last_sync_at = $1, last_sync_result = $2 WHERE id = $3",
	            params, 3, NULL, db_error, sizeof(db_error)) != DB_OK)
		log_warn("directory.sync_write_failed directory=%s error=\"%s\"", dir->name,
		         db_error);
}

int directory_test(pp_core_t *core, const pp_directory_t *dir, char *error, size_t error_size)
{
	char password[DIRECTORY_PASSWORD_MAX];
	if (directory_password_get(core, dir, password, error, error_size) < 0)
		return -1;
	pp_directory_conn_t *conn = NULL;
	int rc = directory_conn_open(dir, password, &conn, error, error_size);
	sodium_memzero(password, sizeof(password));
	if (rc < 0) {
		directory_health_error(core, dir, error);
		return -1;
	}
	/* Each base must exist and be readable by the service account. */
	char copy[DIRECTORY_BASES_MAX];
	(void)str_copy(copy, sizeof(copy), dir->base_dns);
	char *no_attrs[] = {(char *)LDAP_NO_ATTRS, NULL};
	for (char *line = copy, *next; line != NULL && rc == 0; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '\0')
			continue;
		size_t count = 0;
		rc = directory_conn_search(conn, line, LDAP_SCOPE_BASE, "(objectClass=*)", no_attrs,
		                           false, 1, NULL, NULL, NULL, &count, error, error_size);
		if (rc == 0 && count != 1) {
			str_format(error, error_size,
			           "directory %s: the base DN '%s' cannot be read by the service "
			           "account — check the DN and the account's rights",
			           dir->name, line);
			rc = -1;
		}
	}
	directory_conn_close(&conn);
	if (rc < 0) {
		directory_health_error(core, dir, error);
		return -1;
	}
	pp_directory_t fresh = *dir;
	fresh.last_ok_at = 0; /* force the write */
	directory_health_ok(core, &fresh);
	return 0;
}
