/* throttle.c - counting failed attempts per source and account; see throttle.h. */
#include "core/throttle.h"

#include "core/settings.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

typedef struct {
	int64_t max_failures;
	int64_t window_seconds;
	int64_t lockout_seconds;
} throttle_settings_t;

static int throttle_settings(pp_core_t *core, throttle_settings_t *s, char *error,
                             size_t error_size)
{
	if (settings_get_int(core, "auth.max_failures", &s->max_failures, error, error_size) < 0 ||
	    settings_get_int(core, "auth.window_seconds", &s->window_seconds, error, error_size) <
	        0 ||
	    settings_get_int(core, "auth.lockout_seconds", &s->lockout_seconds, error, error_size) <
	        0)
		return -1;
	return 0;
}

int throttle_key_source(const char *address, char key[THROTTLE_KEY_MAX], char *error,
                        size_t error_size)
{
	key[0] = '\0';
	if (address == NULL || address[0] == '\0' || strlen(address) > 63) {
		str_format(error, error_size, "throttle: source address missing or too long");
		return -1;
	}
	for (const char *p = address; *p != '\0'; p++) {
		char c = *p;
		/* IPv4, IPv6, and an IPv6 zone ("fe80::1%eth0"). */
		bool is_alnum =
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if (!is_alnum && c != '.' && c != ':' && c != '%') {
			str_format(error, error_size, "throttle: '%s' is not an IP address",
			           address);
			return -1;
		}
	}
	if (!str_format(key, THROTTLE_KEY_MAX, "src:%s", address)) {
		str_format(error, error_size, "throttle: source address too long");
		return -1;
	}
	str_lower_ascii(key);
	return 0;
}

void throttle_key_account(const pp_core_t *core, const char *account, char key[THROTTLE_KEY_MAX])
{
	char buf[512];
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	if (account == NULL || !str_copy(buf, sizeof(buf), account))
		buf[0] = '\0';
	char *a = str_trim(buf);
	str_lower_ascii(a);
	/* Domain-separated from code hashes, which use the same key. */
	char input[600];
	if (!str_format(input, sizeof(input), "throttle:%s", a))
		input[0] = '\0';
	crypto_keyed_hash_hex(core->code_key, input, strlen(input), hash);
	(void)str_format(key, THROTTLE_KEY_MAX, "acct:%.32s", hash);
}

int throttle_check(pp_core_t *core, const char *key, bool *allowed_r, int64_t *retry_after_r,
                   char *error, size_t error_size)
{
	*allowed_r = true;
	if (retry_after_r != NULL)
		*retry_after_r = 0;
	int64_t now = core_now(core);
	const pp_db_value_t params[] = {DB_TEXT(key)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT locked_until FROM auth_throttle WHERE throttle_key = $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "throttle: cannot read: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) > 0) {
		int64_t locked_until = db_result_int(res, 0, 0);
		if (locked_until > now) {
			*allowed_r = false;
			if (retry_after_r != NULL)
				*retry_after_r = locked_until - now;
		}
	}
	db_result_free(&res);
	return 0;
}

int throttle_failure(pp_core_t *core, const char *key, bool *locked_r, int64_t *retry_after_r,
                     char *error, size_t error_size)
{
	if (locked_r != NULL)
		*locked_r = false;
	if (retry_after_r != NULL)
		*retry_after_r = 0;
	throttle_settings_t s;
	if (throttle_settings(core, &s, error, error_size) < 0)
		return -1;
	int64_t now = core_now(core);
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "throttle: cannot record a failure: %s", db_error);
		return -1;
	}
	/*
	 * Count in one statement, so concurrent failures on PostgreSQL are not lost: a row
	 * whose window is over starts a new window at 1.
	 */
	const pp_db_value_t up[] = {DB_TEXT(key), DB_INT(now), DB_INT(now - s.window_seconds)};
	if (db_exec(
	        core->db,
	        "INSERT INTO auth_throttle (throttle_key, failures, window_start, locked_until) "
	        "VALUES ($1, 1, $2, 0) ON CONFLICT (throttle_key) DO UPDATE SET "
	        "failures = CASE WHEN auth_throttle.window_start <= $3 THEN 1 "
	        "ELSE auth_throttle.failures + 1 END, "
	        "window_start = CASE WHEN auth_throttle.window_start <= $3 THEN $2 "
	        "ELSE auth_throttle.window_start END",
	        up, 3, NULL, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "throttle: cannot record a failure: %s", db_error);
		goto fail;
	}
	const pp_db_value_t sel[] = {DB_TEXT(key)};
	pp_db_result_t *res = NULL;
	if (db_query(core->db,
	             "SELECT failures, window_start, locked_until FROM auth_throttle "
	             "WHERE throttle_key = $1",
	             sel, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "throttle: cannot record a failure: %s", db_error);
		goto fail;
	}
	int64_t failures = db_result_rows(res) > 0 ? db_result_int(res, 0, 0) : 0;
	int64_t window_start = db_result_rows(res) > 0 ? db_result_int(res, 0, 1) : now;
	db_result_free(&res);
	int64_t locked_until = 0;
	if (failures >= s.max_failures) {
		locked_until = s.lockout_seconds > 0 ? now + s.lockout_seconds
		                                     : window_start + s.window_seconds;
		const pp_db_value_t lock[] = {DB_INT(locked_until), DB_TEXT(key)};
		if (db_exec(core->db,
		            "UPDATE auth_throttle SET locked_until = $1 WHERE throttle_key = $2",
		            lock, 2, NULL, db_error, sizeof(db_error)) != DB_OK) {
			str_format(error, error_size, "throttle: cannot lock: %s", db_error);
			goto fail;
		}
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "throttle: cannot record a failure: %s", db_error);
		return -1;
	}
	if (locked_until > now) {
		/* The key names a source address or an account hash, never a secret. */
		log_warn("auth.locked key=%s failures=%lld retry_after=%lld", key,
		         (long long)failures, (long long)(locked_until - now));
		if (locked_r != NULL)
			*locked_r = true;
		if (retry_after_r != NULL)
			*retry_after_r = locked_until - now;
	}
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int throttle_reset(pp_core_t *core, const char *key, char *error, size_t error_size)
{
	const pp_db_value_t params[] = {DB_TEXT(key)};
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db, "DELETE FROM auth_throttle WHERE throttle_key = $1", params, 1, NULL,
	            db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "throttle: cannot reset: %s", db_error);
		return -1;
	}
	return 0;
}

int throttle_purge(pp_core_t *core, int64_t *count_r, char *error, size_t error_size)
{
	int64_t window;
	if (settings_get_int(core, "auth.window_seconds", &window, error, error_size) < 0)
		return -1;
	int64_t now = core_now(core);
	const pp_db_value_t params[] = {DB_INT(now - window), DB_INT(now)};
	int64_t changes = 0;
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db,
	            "DELETE FROM auth_throttle WHERE window_start <= $1 AND locked_until <= $2",
	            params, 2, &changes, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "throttle: cannot purge: %s", db_error);
		return -1;
	}
	if (count_r != NULL)
		*count_r = changes;
	return 0;
}
