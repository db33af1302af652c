/* admin-directory.c - shadow admin accounts of directory admins; see admin-directory.h. */
#include "admin/admin-directory.h"

#include "core/admins.h"
#include "core/audit.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

/* What password_hash holds for a shadow account: no argon2id string, so nothing matches. */
#define ADMIN_DIRECTORY_NO_PASSWORD "!directory"

bool admin_directory_name(const char *email, char *name_r, size_t size)
{
	if (email == NULL || email[0] == '\0' || size == 0)
		return false;
	if (!str_format(name_r, size, ADMIN_DIRECTORY_PREFIX "%s", email) ||
	    strlen(name_r) >= ADMINS_NAME_MAX) {
		name_r[0] = '\0';
		return false;
	}
	str_lower_ascii(name_r);
	return true;
}

/* Reads the shadow account named name. *found_r says whether one exists. Returns 0 or -1. */
static int admin_directory_read(pp_core_t *core, const char *name, pp_admin_account_t *account_r,
				bool *found_r, char *error, size_t error_size)
{
	*found_r = false;
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_TEXT(name)};
	if (db_query(core->db,
		     "SELECT id, name, role, created_at FROM admins WHERE name = $1 AND kind = "
		     "'directory'",
		     params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot read %s: %s", name, db_error);
		return -1;
	}
	if (db_result_rows(res) == 1) {
		*found_r = true;
		memset(account_r, 0, sizeof(*account_r));
		account_r->id = db_result_int(res, 0, 0);
		(void)str_copy(account_r->name, sizeof(account_r->name), db_result_text(res, 0, 1));
		if (!admin_role_parse(db_result_text(res, 0, 2), &account_r->role))
			account_r->role = PP_ADMIN_ROLE_HELPDESK;
		account_r->created_at = db_result_int(res, 0, 3);
	}
	db_result_free(&res);
	return 0;
}

int admin_directory_account(pp_core_t *core, const char *email, const char *directory,
			    pp_admin_account_t *account_r, bool *is_created_r, char *error,
			    size_t error_size)
{
	if (is_created_r != NULL)
		*is_created_r = false;
	char name[ADMINS_NAME_MAX];
	if (!admin_directory_name(email, name, sizeof(name))) {
		(void)str_format(error, error_size,
				 "admins: the address is too long for an admin account (at most %d "
				 "characters)",
				 ADMINS_NAME_MAX - 1 - (int)strlen(ADMIN_DIRECTORY_PREFIX));
		return ADMIN_DIRECTORY_TOO_LONG;
	}
	bool found = false;
	if (admin_directory_read(core, name, account_r, &found, error, error_size) < 0)
		return -1;
	if (found)
		return 0;
	/* Two first sign-ins at once: the loser's insert does nothing, both read the winner's. */
	char db_error[DB_ERROR_MAX];
	int64_t now = core_now(core), changes = 0;
	const pp_db_value_t params[] = {DB_TEXT(name), DB_TEXT(ADMIN_DIRECTORY_NO_PASSWORD),
					DB_INT(now)};
	if (db_exec(core->db,
		    "INSERT INTO admins (name, password_hash, role, kind, created_at, updated_at) "
		    "VALUES ($1, $2, 'admin', 'directory', $3, $3) ON CONFLICT (name) DO NOTHING",
		    params, 3, &changes, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot add %s: %s", name, db_error);
		return -1;
	}
	if (admin_directory_read(core, name, account_r, &found, error, error_size) < 0)
		return -1;
	if (!found) {
		(void)str_format(error, error_size, "admins: %s vanished while being added", name);
		return -1;
	}
	if (changes > 0) {
		if (is_created_r != NULL)
			*is_created_r = true;
		char actor[AUDIT_ACTOR_MAX], detail[128], audit_error[256];
		if (!str_format(actor, sizeof(actor), "directory:%s",
				directory != NULL && directory[0] != '\0' ? directory : "?"))
			(void)str_copy(actor, sizeof(actor), "directory");
		(void)str_format(detail, sizeof(detail), "role=admin kind=directory");
		if (audit_record(core, actor, "admin.add", name, detail, audit_error,
				 sizeof(audit_error)) < 0)
			log_warn("admin.audit_failed action=admin.add error=\"%s\"", audit_error);
		log_info("admin.directory_account_added admin_id=%lld", (long long)account_r->id);
	}
	return 0;
}

int admin_directory_revoke(pp_core_t *core, const char *email, size_t *revoked_r, char *error,
			   size_t error_size)
{
	if (revoked_r != NULL)
		*revoked_r = 0;
	char name[ADMINS_NAME_MAX];
	if (!admin_directory_name(email, name, sizeof(name)))
		return 0; /* no such account can exist */
	char db_error[DB_ERROR_MAX];
	int64_t changes = 0;
	const pp_db_value_t params[] = {DB_TEXT(name)};
	if (db_exec(core->db,
		    "DELETE FROM tokens WHERE kind = 'admin-session' AND admin_id IN "
		    "(SELECT id FROM admins WHERE name = $1 AND kind = 'directory')",
		    params, 1, &changes, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot end the sessions of %s: %s",
				 name, db_error);
		return -1;
	}
	if (revoked_r != NULL)
		*revoked_r = (size_t)changes;
	return 0;
}
