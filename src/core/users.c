/* users.c - people keyed by canonical email address; see users.h. */
#include "core/users.h"

#include "core/audit.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

#define USERS_COLUMNS "id, email, display_name, department, state, source, created_at, updated_at"

static const char *const users_state_names[] = {"enabled", "pending", "disabled"};

const char *users_state_name(pp_user_state_t state)
{
	if ((size_t)state >= sizeof(users_state_names) / sizeof(users_state_names[0]))
		return "unknown";
	return users_state_names[state];
}

bool users_state_parse(const char *name, pp_user_state_t *state_r)
{
	for (size_t i = 0; i < sizeof(users_state_names) / sizeof(users_state_names[0]); i++) {
		if (name != NULL && strcmp(name, users_state_names[i]) == 0) {
			*state_r = (pp_user_state_t)i;
			return true;
		}
	}
	return false;
}

static bool users_is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static bool users_is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Checks a lower-cased domain: two or more labels of 1..63 [a-z0-9-], no edge hyphens. */
static bool users_domain_ok(const char *domain, char *error, size_t error_size)
{
	size_t labels = 0;
	const char *p = domain;
	for (;;) {
		const char *start = p;
		while (users_is_label_char(*p))
			p++;
		size_t len = (size_t)(p - start);
		if (len == 0 || len > 63) {
			str_format(error, error_size,
			           "the domain needs labels of 1 to 63 letters, digits or hyphens "
			           "separated by single dots");
			return false;
		}
		if (start[0] == '-' || p[-1] == '-') {
			str_format(error, error_size,
			           "a domain label cannot start or end with a hyphen");
			return false;
		}
		labels++;
		if (*p == '\0')
			break;
		if (*p != '.') {
			str_format(error, error_size,
			           "the domain contains '%c', which is not allowed", *p);
			return false;
		}
		p++;
	}
	if (labels < 2) {
		str_format(error, error_size,
		           "the domain needs at least one dot (user@example.com); single-label "
		           "domains are not accepted");
		return false;
	}
	return true;
}

/* Checks a local part: dot-atom of 1..64 characters. */
static bool users_local_ok(const char *local, size_t len, char *error, size_t error_size)
{
	if (len == 0 || len > USERS_LOCAL_MAX) {
		str_format(error, error_size, "the part before '@' must be 1 to %d characters",
		           USERS_LOCAL_MAX);
		return false;
	}
	if (local[0] == '.' || local[len - 1] == '.') {
		str_format(error, error_size, "the part before '@' cannot start or end with a dot");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (local[i] == '.') {
			if (local[i + 1] == '.') {
				str_format(error, error_size,
				           "the part before '@' cannot contain two dots in a row");
				return false;
			}
			continue;
		}
		if (!users_is_atext(local[i])) {
			str_format(error, error_size,
			           "the part before '@' contains a character that is not allowed "
			           "(quoted or non-ASCII addresses are not supported)");
			return false;
		}
	}
	return true;
}

int users_canonical_email(const char *input, char out[USERS_EMAIL_MAX], char *error,
                          size_t error_size)
{
	char reason[160];
	out[0] = '\0';
	if (input == NULL) {
		str_format(error, error_size, "invalid email address: none given");
		return -1;
	}
	/* Copy with room to spare so trimming can happen before the length check. */
	char buf[USERS_EMAIL_MAX * 2];
	if (!str_copy(buf, sizeof(buf), input)) {
		str_format(error, error_size, "invalid email address: longer than %d characters",
		           USERS_EMAIL_MAX - 1);
		return -1;
	}
	char *addr = str_trim(buf);
	str_lower_ascii(addr);
	size_t len = strlen(addr);
	if (len == 0) {
		str_format(error, error_size, "invalid email address: empty");
		return -1;
	}
	if (len > USERS_EMAIL_MAX - 1) {
		str_format(error, error_size, "invalid email address: longer than %d characters",
		           USERS_EMAIL_MAX - 1);
		return -1;
	}
	const char *at = strchr(addr, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL) {
		str_format(error, error_size,
		           "invalid email address '%s': it needs exactly one '@'", addr);
		return -1;
	}
	if (!users_local_ok(addr, (size_t)(at - addr), reason, sizeof(reason)) ||
	    !users_domain_ok(at + 1, reason, sizeof(reason))) {
		str_format(error, error_size, "invalid email address '%s': %s", addr, reason);
		return -1;
	}
	(void)str_copy(out, USERS_EMAIL_MAX, addr);
	return 0;
}

void users_log_tag(const pp_core_t *core, const char *email, char out[USERS_LOG_TAG_LEN + 1])
{
	/* Prefixed so a log tag never equals (a prefix of) an accounting pseudonym. */
	char input[USERS_EMAIL_MAX + 8];
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	if (!str_format(input, sizeof(input), "log:%s", email))
		input[0] = '\0';
	crypto_keyed_hash_hex(core->pseudonym_key, input, strlen(input), hash);
	memcpy(out, hash, USERS_LOG_TAG_LEN);
	out[USERS_LOG_TAG_LEN] = '\0';
}

void users_from_row(const pp_db_result_t *res, size_t row, pp_user_t *user_r)
{
	memset(user_r, 0, sizeof(*user_r));
	user_r->id = db_result_int(res, row, 0);
	(void)str_copy(user_r->email, sizeof(user_r->email), db_result_text(res, row, 1));
	(void)str_copy(user_r->display_name, sizeof(user_r->display_name),
	               db_result_text(res, row, 2));
	(void)str_copy(user_r->department, sizeof(user_r->department), db_result_text(res, row, 3));
	if (!users_state_parse(db_result_text(res, row, 4), &user_r->state))
		user_r->state = PP_USER_DISABLED; /* the CHECK constraint makes this unreachable */
	(void)str_copy(user_r->source, sizeof(user_r->source), db_result_text(res, row, 5));
	user_r->created_at = db_result_int(res, row, 6);
	user_r->updated_at = db_result_int(res, row, 7);
}

/* Selects one user by a WHERE clause with one parameter. */
static int users_select_one(pp_core_t *core, const char *sql, pp_db_value_t param,
                            pp_user_t *user_r, bool *found_r, char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	*found_r = false;
	if (db_query(core->db, sql, &param, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "users: cannot read the user: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) > 0) {
		*found_r = true;
		if (user_r != NULL)
			users_from_row(res, 0, user_r);
	}
	db_result_free(&res);
	return 0;
}

int users_get_by_email(pp_core_t *core, const char *email, pp_user_t *user_r, bool *found_r,
                       char *error, size_t error_size)
{
	char canon[USERS_EMAIL_MAX];
	char ignored[160];
	*found_r = false;
	if (users_canonical_email(email, canon, ignored, sizeof(ignored)) < 0)
		return 0;
	return users_select_one(core, "SELECT " USERS_COLUMNS " FROM users WHERE email = $1",
	                        DB_TEXT(canon), user_r, found_r, error, error_size);
}

int users_get_by_id(pp_core_t *core, int64_t id, pp_user_t *user_r, bool *found_r, char *error,
                    size_t error_size)
{
	return users_select_one(core, "SELECT " USERS_COLUMNS " FROM users WHERE id = $1",
	                        DB_INT(id), user_r, found_r, error, error_size);
}

int users_add(pp_core_t *core, const char *actor, const char *email, pp_user_state_t state,
              const char *source, pp_user_t *user_r, char *error, size_t error_size)
{
	char canon[USERS_EMAIL_MAX];
	if (users_canonical_email(email, canon, error, error_size) < 0)
		return -1;
	if (source == NULL)
		source = "admin";
	if (strlen(source) >= USERS_SOURCE_MAX) {
		str_format(error, error_size, "users: source name too long");
		return -1;
	}
	int64_t now = core_now(core);
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "users: cannot add %s: %s", canon, db_error);
		return -1;
	}
	const pp_db_value_t params[] = {DB_TEXT(canon), DB_TEXT(users_state_name(state)),
	                                DB_TEXT(source), DB_INT(now), DB_INT(now)};
	int rc = db_exec(core->db,
	                 "INSERT INTO users (email, state, source, created_at, updated_at) "
	                 "VALUES ($1, $2, $3, $4, $5)",
	                 params, 5, NULL, db_error, sizeof(db_error));
	if (rc == DB_DUPLICATE) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "user %s already exists", canon);
		return DB_DUPLICATE;
	}
	if (rc != DB_OK) {
		str_format(error, error_size, "users: cannot add %s: %s", canon, db_error);
		goto fail;
	}
	pp_user_t user;
	bool found;
	if (users_select_one(core, "SELECT " USERS_COLUMNS " FROM users WHERE email = $1",
	                     DB_TEXT(canon), &user, &found, error, error_size) < 0)
		goto fail;
	if (!found) {
		str_format(error, error_size, "users: %s vanished after insert", canon);
		goto fail;
	}
	char detail[96];
	(void)str_format(detail, sizeof(detail), "state=%s source=%s", users_state_name(state),
	                 source);
	if (audit_record(core, actor, "user.add", canon, detail, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "users: cannot add %s: %s", canon, db_error);
		return -1;
	}
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, canon, tag);
	log_info("user.added user=%s id=%lld state=%s source=%s actor=%s", tag, (long long)user.id,
	         users_state_name(state), source, actor);
	if (user_r != NULL)
		*user_r = user;
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int users_list(pp_core_t *core, const pp_user_filter_t *filter, pp_user_t **users_r,
               size_t *count_r, char *error, size_t error_size)
{
	static const pp_user_filter_t defaults = {0};
	if (filter == NULL)
		filter = &defaults;
	*users_r = NULL;
	*count_r = 0;

	/* The SQL is chosen from fixed texts; input only ever travels as parameters. */
	pp_db_value_t params[4];
	size_t n = 0;
	char pattern[2 * USERS_EMAIL_MAX + 3];
	bool has_search = filter->search != NULL && filter->search[0] != '\0';
	if (filter->has_state)
		params[n++] = DB_TEXT(users_state_name(filter->state));
	if (has_search) {
		/* Escape LIKE's wildcards so the search is a plain substring. */
		size_t pos = 0;
		pattern[pos++] = '%';
		for (const char *s = filter->search; *s != '\0'; s++) {
			if (pos + 4 > sizeof(pattern)) {
				str_format(error, error_size, "users: search text too long");
				return -1;
			}
			if (*s == '%' || *s == '_' || *s == '\\')
				pattern[pos++] = '\\';
			pattern[pos++] = *s;
		}
		pattern[pos++] = '%';
		pattern[pos] = '\0';
		str_lower_ascii(pattern);
		params[n++] = DB_TEXT(pattern);
	}
	size_t limit =
	    filter->limit == 0 || filter->limit > USERS_LIST_MAX ? USERS_LIST_MAX : filter->limit;
	params[n++] = DB_INT(limit);
	params[n++] = DB_INT(filter->offset);

	static const char *const queries[2][2] = {
	    {"SELECT " USERS_COLUMNS " FROM users ORDER BY email LIMIT $1 OFFSET $2",
	     "SELECT " USERS_COLUMNS " FROM users WHERE (LOWER(email) LIKE $1 ESCAPE '\\' OR "
	     "LOWER(display_name) LIKE $1 ESCAPE '\\' OR LOWER(department) LIKE $1 "
	     "ESCAPE '\\') ORDER BY email LIMIT $2 OFFSET $3"},
	    {"SELECT " USERS_COLUMNS " FROM users WHERE state = $1 ORDER BY email "
	     "LIMIT $2 OFFSET $3",
	     "SELECT " USERS_COLUMNS " FROM users WHERE state = $1 AND (LOWER(email) LIKE $2 "
	     "ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\' OR LOWER(department) "
	     "LIKE $2 ESCAPE '\\') ORDER BY email LIMIT $3 OFFSET $4"},
	};
	const char *sql = queries[filter->has_state ? 1 : 0][has_search ? 1 : 0];

	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, sql, params, n, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "users: cannot list users: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	pp_user_t *users = calloc(rows > 0 ? rows : 1, sizeof(*users));
	if (users == NULL) {
		db_result_free(&res);
		str_format(error, error_size, "users: out of memory listing %zu users", rows);
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		users_from_row(res, i, &users[i]);
	db_result_free(&res);
	*users_r = users;
	*count_r = rows;
	return 0;
}

void users_list_free(pp_user_t **users)
{
	if (users == NULL || *users == NULL)
		return;
	free(*users);
	*users = NULL;
}

/*
 * Begins a transaction and reads the user named by email into user_r. On failure the
 * transaction is already rolled back and error says why (including "no user").
 */
static int users_begin_with_user(pp_core_t *core, const char *email, pp_user_t *user_r, char *error,
                                 size_t error_size)
{
	char canon[USERS_EMAIL_MAX];
	if (users_canonical_email(email, canon, error, error_size) < 0)
		return -1;
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "users: cannot change %s: %s", canon, db_error);
		return -1;
	}
	bool found;
	if (users_select_one(core, "SELECT " USERS_COLUMNS " FROM users WHERE email = $1",
	                     DB_TEXT(canon), user_r, &found, error, error_size) < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	if (!found) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "no user %s; `pullprint user list` shows the users",
		           canon);
		return -1;
	}
	return 0;
}

/* Audits and commits a change begun with users_begin_with_user(); rolls back on failure. */
static int users_finish(pp_core_t *core, const char *actor, const char *action,
                        const pp_user_t *user, const char *detail, char *error, size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	if (audit_record(core, actor, action, user->email, detail, error, error_size) < 0) {
		db_tx_rollback(core->db);
		return -1;
	}
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "users: cannot change %s: %s", user->email, db_error);
		return -1;
	}
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, user->email, tag);
	log_info("%s user=%s id=%lld actor=%s", action, tag, (long long)user->id, actor);
	return 0;
}

static int users_change_state(pp_core_t *core, const char *actor, const char *email,
                              bool only_from_pending, pp_user_state_t to, const char *action,
                              char *error, size_t error_size)
{
	pp_user_t user;
	if (users_begin_with_user(core, email, &user, error, error_size) < 0)
		return -1;
	if (only_from_pending && user.state != PP_USER_PENDING) {
		db_tx_rollback(core->db);
		str_format(error, error_size,
		           "user %s is %s, not pending: only pending users can be approved",
		           user.email, users_state_name(user.state));
		return -1;
	}
	const pp_db_value_t params[] = {DB_TEXT(users_state_name(to)), DB_INT(core_now(core)),
	                                DB_INT(user.id)};
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db, "UPDATE users SET state = $1, updated_at = $2 WHERE id = $3", params,
	            3, NULL, db_error, sizeof(db_error)) != DB_OK) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "users: cannot change %s: %s", user.email, db_error);
		return -1;
	}
	char detail[64];
	(void)str_format(detail, sizeof(detail), "%s -> %s", users_state_name(user.state),
	                 users_state_name(to));
	return users_finish(core, actor, action, &user, detail, error, error_size);
}

int users_approve(pp_core_t *core, const char *actor, const char *email, char *error,
                  size_t error_size)
{
	return users_change_state(core, actor, email, true, PP_USER_ENABLED, "user.approve", error,
	                          error_size);
}

int users_enable(pp_core_t *core, const char *actor, const char *email, char *error,
                 size_t error_size)
{
	return users_change_state(core, actor, email, false, PP_USER_ENABLED, "user.enable", error,
	                          error_size);
}

int users_disable(pp_core_t *core, const char *actor, const char *email, char *error,
                  size_t error_size)
{
	return users_change_state(core, actor, email, false, PP_USER_DISABLED, "user.disable",
	                          error, error_size);
}

int users_delete(pp_core_t *core, const char *actor, const char *email, char *error,
                 size_t error_size)
{
	pp_user_t user;
	if (users_begin_with_user(core, email, &user, error, error_size) < 0)
		return -1;
	const pp_db_value_t params[] = {DB_INT(user.id)};
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db, "DELETE FROM users WHERE id = $1", params, 1, NULL, db_error,
	            sizeof(db_error)) != DB_OK) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "users: cannot delete %s: %s", user.email, db_error);
		return -1;
	}
	return users_finish(core, actor, "user.delete", &user, NULL, error, error_size);
}

/* Sets one text column; column is one of two fixed names, never input. */
static int users_set_text(pp_core_t *core, const char *actor, const char *email, const char *sql,
                          const char *what, size_t max, const char *value, const char *action,
                          char *error, size_t error_size)
{
	char buf[USERS_DISPLAY_NAME_MAX > USERS_DEPARTMENT_MAX ? USERS_DISPLAY_NAME_MAX * 2
	                                                       : USERS_DEPARTMENT_MAX * 2];
	if (value == NULL)
		value = "";
	if (!str_copy(buf, sizeof(buf), value)) {
		str_format(error, error_size, "users: %s longer than %zu bytes", what, max - 1);
		return -1;
	}
	char *v = str_trim(buf);
	if (strlen(v) >= max) {
		str_format(error, error_size, "users: %s longer than %zu bytes", what, max - 1);
		return -1;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			str_format(error, error_size, "users: %s contains a control character",
			           what);
			return -1;
		}
	}
	pp_user_t user;
	if (users_begin_with_user(core, email, &user, error, error_size) < 0)
		return -1;
	const pp_db_value_t params[] = {DB_TEXT(v), DB_INT(core_now(core)), DB_INT(user.id)};
	char db_error[DB_ERROR_MAX];
	if (db_exec(core->db, sql, params, 3, NULL, db_error, sizeof(db_error)) != DB_OK) {
		db_tx_rollback(core->db);
		str_format(error, error_size, "users: cannot change %s: %s", user.email, db_error);
		return -1;
	}
	return users_finish(core, actor, action, &user, v, error, error_size);
}

int users_set_display_name(pp_core_t *core, const char *actor, const char *email,
                           const char *display_name, char *error, size_t error_size)
{
	return users_set_text(core, actor, email,
	                      "UPDATE users SET display_name = $1, updated_at = $2 WHERE id = $3",
	                      "display name", USERS_DISPLAY_NAME_MAX, display_name,
	                      "user.set_display_name", error, error_size);
}

int users_set_department(pp_core_t *core, const char *actor, const char *email,
                         const char *department, char *error, size_t error_size)
{
	return users_set_text(core, actor, email,
	                      "UPDATE users SET department = $1, updated_at = $2 WHERE id = $3",
	                      "department", USERS_DEPARTMENT_MAX, department, "user.set_department",
	                      error, error_size);
}
