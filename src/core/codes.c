/* codes.c - confirmation codes and the company code; see codes.h. */
#include "core/codes.h"

#include "core/audit.h"
#include "core/settings.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

/* The columns users_from_row() reads, in its order, from the users table joined as "u". */
#define CODES_USER_COLUMNS                                                                         \
	"u.id, u.email, u.display_name, u.department, u.state, u.source, u.created_at, "           \
	"u.updated_at"

void codes_hash(const pp_core_t *core, const char *code, char out[CRYPTO_HASH_HEX_LEN + 1])
{
	crypto_keyed_hash_hex(core->code_key, code, strlen(code), out);
}

/* True for CODES_MIN_LEN..CODES_MAX_LEN decimal digits. */
static bool codes_well_formed(const char *code)
{
	if (code == NULL)
		return false;
	size_t len = strlen(code);
	if (len < CODES_MIN_LEN || len > CODES_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (code[i] < '0' || code[i] > '9')
			return false;
	}
	return true;
}

int codes_issue(pp_core_t *core, const char *actor, int64_t user_id, char code_r[CODES_MAX_LEN + 1],
                char *error, size_t error_size)
{
	code_r[0] = '\0';
	int64_t length;
	if (settings_get_int(core, "users.code_length", &length, error, error_size) < 0)
		return -1;
	if (length < CODES_MIN_LEN || length > CODES_MAX_LEN)
		length = 6; /* the registry makes this unreachable */
	pp_user_t user;
	bool found;
	if (users_get_by_id(core, user_id, &user, &found, error, error_size) < 0)
		return -1;
	if (!found) {
		str_format(error, error_size, "codes: no user with id %lld", (long long)user_id);
		return -1;
	}

	char code[CODES_MAX_LEN + 1];
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	char db_error[DB_ERROR_MAX];
	for (int attempt = 0; attempt < CODES_ISSUE_TRIES; attempt++) {
		crypto_random_digits(code, (size_t)length);
		codes_hash(core, code, hash);
		/*
		 * One transaction per draw: on PostgreSQL a unique violation spoils the
		 * transaction it happens in, so a collision is rolled back and drawn again.
		 */
		if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
			str_format(error, error_size, "codes: cannot issue a code: %s", db_error);
			goto fail;
		}
		const pp_db_value_t params[] = {DB_INT(user_id), DB_TEXT(hash),
		                                DB_INT(core_now(core))};
		int rc = db_exec(core->db,
		                 "INSERT INTO user_codes (user_id, code_hash, issued_at) "
		                 "VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET "
		                 "code_hash = excluded.code_hash, issued_at = excluded.issued_at",
		                 params, 3, NULL, db_error, sizeof(db_error));
		if (rc == DB_DUPLICATE) {
			db_tx_rollback(core->db);
			continue;
		}
		if (rc != DB_OK) {
			db_tx_rollback(core->db);
			str_format(error, error_size, "codes: cannot store the code: %s", db_error);
			goto fail;
		}
		char detail[48];
		(void)str_format(detail, sizeof(detail), "length=%lld", (long long)length);
		if (audit_record(core, actor, "code.issue", user.email, detail, error, error_size) <
		    0) {
			db_tx_rollback(core->db);
			goto fail;
		}
		if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
			str_format(error, error_size, "codes: cannot store the code: %s", db_error);
			goto fail;
		}
		char tag[USERS_LOG_TAG_LEN + 1];
		users_log_tag(core, user.email, tag);
		log_info("code.issued user=%s id=%lld length=%lld draws=%d actor=%s", tag,
		         (long long)user_id, (long long)length, attempt + 1, actor);
		memcpy(code_r, code, sizeof(code));
		crypto_wipe(code, sizeof(code));
		return 0;
	}
	log_warn("code.space_crowded id=%lld length=%lld draws=%d", (long long)user_id,
	         (long long)length, CODES_ISSUE_TRIES);
	str_format(error, error_size,
	           "codes: no free %lld-digit code found in %d draws: too many users share this "
	           "code length; raise users.code_length (`pullprint settings set "
	           "users.code_length %lld`)",
	           (long long)length, CODES_ISSUE_TRIES,
	           (long long)(length < CODES_MAX_LEN ? length + 2 : CODES_MAX_LEN));
fail:
	crypto_wipe(code, sizeof(code));
	return -1;
}

int codes_verify(pp_core_t *core, const char *email, const char *code, pp_user_t *user_r,
                 bool *valid_r, char *error, size_t error_size)
{
	*valid_r = false;
	char canon[USERS_EMAIL_MAX];
	char ignored[160];
	if (users_canonical_email(email, canon, ignored, sizeof(ignored)) < 0)
		canon[0] = '\0'; /* matches no row; still do the same work below */
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	codes_hash(core, code != NULL ? code : "", hash);

	const pp_db_value_t params[] = {DB_TEXT(canon)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT " CODES_USER_COLUMNS ", c.code_hash FROM users u "
	             "JOIN user_codes c ON c.user_id = u.id WHERE u.email = $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "codes: cannot check the code: %s", db_error);
		return -1;
	}
	bool has_row = db_result_rows(res) > 0;
	/* Compare against a stored hash, or a placeholder of the same form when there is none. */
	const char *stored =
	    has_row ? db_result_text(res, 0, 8)
	            : "0000000000000000000000000000000000000000000000000000000000000000";
	bool match = crypto_str_equal(stored, hash);
	pp_user_t user;
	if (has_row)
		users_from_row(res, 0, &user);
	db_result_free(&res);
	crypto_wipe(hash, sizeof(hash));

	if (has_row && match && codes_well_formed(code) && user.state == PP_USER_ENABLED) {
		*valid_r = true;
		if (user_r != NULL)
			*user_r = user;
	}
	return 0;
}

int codes_find_user(pp_core_t *core, const char *code, pp_user_t *user_r, bool *found_r,
                    char *error, size_t error_size)
{
	*found_r = false;
	if (!codes_well_formed(code))
		return 0;
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	codes_hash(core, code, hash);
	const pp_db_value_t params[] = {DB_TEXT(hash)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	int rc = db_query(core->db,
	                  "SELECT " CODES_USER_COLUMNS " FROM users u "
	                  "JOIN user_codes c ON c.user_id = u.id WHERE c.code_hash = $1",
	                  params, 1, &res, db_error, sizeof(db_error));
	crypto_wipe(hash, sizeof(hash));
	if (rc != DB_OK) {
		str_format(error, error_size, "codes: cannot look the code up: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) > 0) {
		pp_user_t user;
		users_from_row(res, 0, &user);
		if (user.state == PP_USER_ENABLED) {
			*found_r = true;
			if (user_r != NULL)
				*user_r = user;
		}
	}
	db_result_free(&res);
	return 0;
}

int codes_user_has_code(pp_core_t *core, int64_t user_id, bool *has_code_r, char *error,
                        size_t error_size)
{
	*has_code_r = false;
	const pp_db_value_t params[] = {DB_INT(user_id)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT 1 FROM user_codes WHERE user_id = $1", params, 1, &res,
	             db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "codes: cannot read codes: %s", db_error);
		return -1;
	}
	*has_code_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

/* Reads the stored company code; *found_r false when there is none. */
static int company_code_read(pp_core_t *core, char code_r[COMPANY_CODE_LEN + 1], bool *found_r,
                             char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	*found_r = false;
	code_r[0] = '\0';
	if (db_query(core->db, "SELECT code FROM company_code WHERE id = 1", NULL, 0, &res,
	             db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "codes: cannot read the company code: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) > 0) {
		*found_r = str_copy(code_r, COMPANY_CODE_LEN + 1, db_result_text(res, 0, 0));
		if (!*found_r)
			log_warn("company_code.malformed action=regenerate");
	}
	db_result_free(&res);
	return 0;
}

/* Stores a new random company code (insert or replace) and audits it. */
static int company_code_store(pp_core_t *core, const char *actor, const char *action,
                              char code_r[COMPANY_CODE_LEN + 1], char *error, size_t error_size)
{
	char code[COMPANY_CODE_LEN + 1];
	crypto_random_code_chars(code, COMPANY_CODE_LEN);
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "codes: cannot store the company code: %s", db_error);
		return -1;
	}
	const pp_db_value_t params[] = {DB_TEXT(code), DB_INT(core_now(core))};
	if (db_exec(core->db,
	            "INSERT INTO company_code (id, code, issued_at) VALUES (1, $1, $2) "
	            "ON CONFLICT (id) DO UPDATE SET code = excluded.code, "
	            "issued_at = excluded.issued_at",
	            params, 2, NULL, db_error, sizeof(db_error)) != DB_OK) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "codes: cannot store the company code: %s", db_error);
		return -1;
	}
	if (audit_record(core, actor, action, "company_code", NULL, error, error_size) < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "codes: cannot store the company code: %s", db_error);
		return -1;
	}
	log_info("%s actor=%s", action, actor);
	memcpy(code_r, code, sizeof(code));
	return 0;
}

int company_code_get(pp_core_t *core, char code_r[COMPANY_CODE_LEN + 1], char *error,
                     size_t error_size)
{
	bool found;
	if (company_code_read(core, code_r, &found, error, error_size) < 0)
		return -1;
	if (found)
		return 0;
	return company_code_store(core, "system", "company_code.create", code_r, error, error_size);
}

int company_code_regenerate(pp_core_t *core, const char *actor, char code_r[COMPANY_CODE_LEN + 1],
                            char *error, size_t error_size)
{
	return company_code_store(core, actor, "company_code.regenerate", code_r, error,
	                          error_size);
}

int company_code_verify(pp_core_t *core, const char *input, bool *valid_r, char *error,
                        size_t error_size)
{
	*valid_r = false;
	char stored[COMPANY_CODE_LEN + 1];
	bool found;
	if (company_code_read(core, stored, &found, error, error_size) < 0)
		return -1;
	char buf[64];
	if (input == NULL || !str_copy(buf, sizeof(buf), input))
		buf[0] = '\0';
	char *given = str_trim(buf);
	for (char *p = given; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	}
	bool match = crypto_str_equal(found ? stored : "", given);
	*valid_r = found && match && given[0] != '\0';
	return 0;
}
