/* admins.c - administrator accounts; see admins.h. */
#include "core/admins.h"

#include "core/audit.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

/*
 * argon2id with crypto_password_hash()'s parameters (interactive limits) of a random password
 * that was thrown away. test-admins checks that the parameters still match.
 */
static const char admins_dummy_hash[] = "$argon2id$v=19$m=65536,t=2,p=1$ajmS6/lDHUx/GSG5Z1eprg$"
                                        "wGdAflC5yxv32R07gqAV4MBBWFve7pHXaLcqHg8kvEo";

const char *admin_dummy_hash(void)
{
	return admins_dummy_hash;
}

/* Canonicalises an admin name into out[ADMINS_NAME_MAX]. */
static int admins_canonical_name(const char *input, char out[ADMINS_NAME_MAX], char *error,
                                 size_t error_size)
{
	char buf[ADMINS_NAME_MAX * 2];
	out[0] = '\0';
	if (input == NULL || !str_copy(buf, sizeof(buf), input)) {
		str_format(error, error_size, "admins: name missing or longer than %d characters",
		           ADMINS_NAME_MAX - 1);
		return -1;
	}
	char *name = str_trim(buf);
	str_lower_ascii(name);
	size_t len = strlen(name);
	if (len == 0 || len >= ADMINS_NAME_MAX) {
		str_format(error, error_size, "admins: a name is 1 to %d characters",
		           ADMINS_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-' || c == '@')) {
			str_format(error, error_size,
			           "admins: a name uses only letters, digits and . _ - @");
			return -1;
		}
	}
	(void)str_copy(out, ADMINS_NAME_MAX, name);
	return 0;
}

/* Checks the password rules; never echoes the password. */
static int admins_password_ok(const char *password, char *error, size_t error_size)
{
	if (password == NULL || password[0] == '\0') {
		str_format(error, error_size, "admins: the password is empty");
		return -1;
	}
	size_t bytes = strlen(password);
	if (bytes > ADMINS_PASSWORD_MAX) {
		str_format(error, error_size, "admins: the password is longer than %d bytes",
		           ADMINS_PASSWORD_MAX);
		return -1;
	}
	/* Count characters, not bytes: UTF-8 continuation bytes do not start one. */
	size_t chars = 0;
	for (size_t i = 0; i < bytes; i++) {
		if (((unsigned char)password[i] & 0xC0) != 0x80)
			chars++;
	}
	if (chars < ADMINS_PASSWORD_MIN) {
		str_format(error, error_size,
		           "admins: the password needs at least %d characters; a passphrase of "
		           "several words is easiest",
		           ADMINS_PASSWORD_MIN);
		return -1;
	}
	return 0;
}

static void admins_from_row(const pp_db_result_t *res, size_t row, pp_admin_t *admin)
{
	memset(admin, 0, sizeof(*admin));
	admin->id = db_result_int(res, row, 0);
	(void)str_copy(admin->name, sizeof(admin->name), db_result_text(res, row, 1));
	admin->created_at = db_result_int(res, row, 2);
	admin->updated_at = db_result_int(res, row, 3);
}

/* Inserts an admin with a ready hash and audits it. Returns 0, -1 or DB_DUPLICATE. */
static int admins_insert(pp_core_t *core, const char *actor, const char *action, const char *name,
                         const char *hash, char *error, size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot add %s: %s", name, db_error);
		return -1;
	}
	int64_t now = core_now(core);
	const pp_db_value_t params[] = {DB_TEXT(name), DB_TEXT(hash), DB_INT(now), DB_INT(now)};
	int rc = db_exec(core->db,
	                 "INSERT INTO admins (name, password_hash, created_at, updated_at) "
	                 "VALUES ($1, $2, $3, $4)",
	                 params, 4, NULL, db_error, sizeof(db_error));
	if (rc != DB_OK) {
		db_tx_rollback(core->db);
		if (rc == DB_DUPLICATE) {
			str_format(error, error_size, "admin %s already exists", name);
			return DB_DUPLICATE;
		}
		str_format(error, error_size, "admins: cannot add %s: %s", name, db_error);
		return -1;
	}
	if (audit_record(core, actor, action, name, NULL, error, error_size) < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot add %s: %s", name, db_error);
		return -1;
	}
	log_info("%s admin=%s actor=%s", action, name, actor);
	return 0;
}

int admin_bootstrap(pp_core_t *core, char password_r[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1],
                    bool *created_r, char *error, size_t error_size)
{
	*created_r = false;
	password_r[0] = '\0';
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT COUNT(*) FROM admins", NULL, 0, &res, db_error,
	             sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot count admins: %s", db_error);
		return -1;
	}
	int64_t count = db_result_int(res, 0, 0);
	db_result_free(&res);
	if (count > 0)
		return 0;

	/* xxxx-xxxx-…: groups are easier to copy from a terminal without mistakes. */
	char password[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1];
	size_t pos = 0;
	for (int group = 0; group < 6; group++) {
		if (group > 0)
			password[pos++] = '-';
		crypto_random_code_chars(password + pos, 4);
		pos += 4;
	}
	password[pos] = '\0';
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	if (!crypto_password_hash(password, hash)) {
		crypto_wipe(password, sizeof(password));
		str_format(error, error_size, "admins: out of memory hashing the password");
		return -1;
	}
	int rc = admins_insert(core, "system", "admin.bootstrap", ADMINS_BOOTSTRAP_NAME, hash,
	                       error, error_size);
	if (rc == DB_DUPLICATE) {
		/* Another process bootstrapped at the same moment. */
		crypto_wipe(password, sizeof(password));
		return 0;
	}
	if (rc < 0) {
		crypto_wipe(password, sizeof(password));
		return -1;
	}
	memcpy(password_r, password, sizeof(password));
	crypto_wipe(password, sizeof(password));
	*created_r = true;
	return 0;
}

/*
 * Checks name and password and hashes the password into hash, for adding an admin and for
 * setting a password alike, so both apply the same rules. Called before any transaction:
 * argon2id is slow on purpose. Returns 0, or -1 with error filled (never the password).
 */
static int admins_name_and_hash(const char *name, const char *password,
                                char canon[ADMINS_NAME_MAX],
                                char hash[CRYPTO_PASSWORD_HASH_MAX], char *error,
                                size_t error_size)
{
	if (admins_canonical_name(name, canon, error, error_size) < 0 ||
	    admins_password_ok(password, error, error_size) < 0)
		return -1;
	if (!crypto_password_hash(password, hash)) {
		str_format(error, error_size, "admins: out of memory hashing the password");
		return -1;
	}
	return 0;
}

int admin_add(pp_core_t *core, const char *actor, const char *name, const char *password,
              char *error, size_t error_size)
{
	char canon[ADMINS_NAME_MAX];
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	if (admins_name_and_hash(name, password, canon, hash, error, error_size) < 0)
		return -1;
	return admins_insert(core, actor, "admin.add", canon, hash, error, error_size) == 0 ? 0
	                                                                                    : -1;
}

/*
 * Ends a change to the row of admin canon inside the transaction the caller began: runs sql
 * (params bound), which must change that row, records action in the audit log and commits.
 * A failure before the commit rolls the transaction back. verb names the change in messages
 * ("change", "delete"). Setting a password and deleting end the same way, so the "no such
 * admin" answer and the audit in the same transaction are written once, here.
 * Returns 0, or -1 with error filled.
 */
static int admins_change_row(pp_core_t *core, const char *actor, const char *action,
                             const char *verb, const char *canon, const char *sql,
                             const pp_db_value_t *params, size_t n_params, char *error,
                             size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	int64_t changes = 0;
	if (db_exec(core->db, sql, params, n_params, &changes, db_error, sizeof(db_error)) !=
	    DB_OK) {
		str_format(error, error_size, "admins: cannot %s %s: %s", verb, canon, db_error);
		goto fail;
	}
	if (changes == 0) {
		str_format(error, error_size, "no admin %s; `pullprint admin list` shows them",
		           canon);
		goto fail;
	}
	if (audit_record(core, actor, action, canon, NULL, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot %s %s: %s", verb, canon, db_error);
		return -1;
	}
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int admin_set_password(pp_core_t *core, const char *actor, const char *name, const char *password,
                       char *error, size_t error_size)
{
	char canon[ADMINS_NAME_MAX];
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	if (admins_name_and_hash(name, password, canon, hash, error, error_size) < 0)
		return -1;
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot change %s: %s", canon, db_error);
		return -1;
	}
	const pp_db_value_t params[] = {DB_TEXT(hash), DB_INT(core_now(core)), DB_TEXT(canon)};
	if (admins_change_row(core, actor, "admin.set_password", "change", canon,
	                      "UPDATE admins SET password_hash = $1, updated_at = $2"
	                      " WHERE name = $3",
	                      params, 3, error, error_size) < 0)
		return -1;
	log_info("admin.password_changed admin=%s actor=%s", canon, actor);
	return 0;
}

int admin_get(pp_core_t *core, const char *name, pp_admin_t *admin_r, bool *found_r, char *error,
              size_t error_size)
{
	*found_r = false;
	char canon[ADMINS_NAME_MAX];
	char ignored[128];
	if (admins_canonical_name(name, canon, ignored, sizeof(ignored)) < 0)
		return 0;
	const pp_db_value_t params[] = {DB_TEXT(canon)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT id, name, created_at, updated_at FROM admins WHERE name = $1", params,
	             1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot read %s: %s", canon, db_error);
		return -1;
	}
	if (db_result_rows(res) > 0) {
		*found_r = true;
		if (admin_r != NULL)
			admins_from_row(res, 0, admin_r);
	}
	db_result_free(&res);
	return 0;
}

int admin_verify(pp_core_t *core, const char *name, const char *password, pp_admin_t *admin_r,
                 bool *valid_r, char *error, size_t error_size)
{
	*valid_r = false;
	char canon[ADMINS_NAME_MAX];
	char ignored[128];
	if (admins_canonical_name(name, canon, ignored, sizeof(ignored)) < 0)
		canon[0] = '\0'; /* matches no row; the dummy hash is still checked below */
	const pp_db_value_t params[] = {DB_TEXT(canon)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT id, name, created_at, updated_at, password_hash FROM admins "
	             "WHERE name = $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot check %s: %s", canon, db_error);
		return -1;
	}
	bool found = db_result_rows(res) > 0;
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	pp_admin_t admin;
	if (found) {
		admins_from_row(res, 0, &admin);
		if (!str_copy(hash, sizeof(hash), db_result_text(res, 0, 4)))
			found = false; /* a mangled hash verifies nothing */
	}
	db_result_free(&res);
	/* Same argon2id work for a missing name, so timing does not reveal names. */
	const char *check = found ? hash : admins_dummy_hash;
	bool match = crypto_password_verify(check, password != NULL ? password : "");
	if (found && match) {
		*valid_r = true;
		if (admin_r != NULL)
			*admin_r = admin;
		log_info("admin.login_ok admin=%s", canon);
	} else {
		log_info("admin.login_failed admin=%s", found ? canon : "(unknown)");
	}
	return 0;
}

int admin_list(pp_core_t *core, pp_admin_t **admins_r, size_t *count_r, char *error,
               size_t error_size)
{
	*admins_r = NULL;
	*count_r = 0;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(
	        core->db,
	        "SELECT id, name, created_at, updated_at FROM admins ORDER BY name LIMIT 10000",
	        NULL, 0, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot list: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	pp_admin_t *admins = calloc(rows > 0 ? rows : 1, sizeof(*admins));
	if (admins == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "admins: out of memory");
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		admins_from_row(res, i, &admins[i]);
	db_result_free(&res);
	*admins_r = admins;
	*count_r = rows;
	return 0;
}

void admin_list_free(pp_admin_t **admins)
{
	if (admins == NULL || *admins == NULL)
		return;
	free(*admins);
	*admins = NULL;
}

int admin_delete(pp_core_t *core, const char *actor, const char *name, char *error,
                 size_t error_size)
{
	char canon[ADMINS_NAME_MAX];
	if (admins_canonical_name(name, canon, error, error_size) < 0)
		return -1;
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot delete %s: %s", canon, db_error);
		return -1;
	}
	if (db_query(core->db, "SELECT COUNT(*) FROM admins", NULL, 0, &res, db_error,
	             sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "admins: cannot delete %s: %s", canon, db_error);
		goto fail;
	}
	int64_t count = db_result_int(res, 0, 0);
	db_result_free(&res);
	if (count <= 1) {
		str_format(error, error_size,
		           "admins: %s is the last admin; add another before deleting it", canon);
		goto fail;
	}
	const pp_db_value_t params[] = {DB_TEXT(canon)};
	if (admins_change_row(core, actor, "admin.delete", "delete", canon,
	                      "DELETE FROM admins WHERE name = $1", params, 1, error,
	                      error_size) < 0)
		return -1;
	log_info("admin.delete admin=%s actor=%s", canon, actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}
