/*
 * admin-roles.c - the two admin roles (full admin, read-only help desk) and the admin
 * accounts with them, over core/admins.c (accounts, passwords) and column admins.role
 * (migration 10). The console, the API and `pullprint admins` share these functions.
 *
 * Rules kept here: a help desk account may only read; the last full admin can neither be
 * deleted nor made a help desk account (someone must be able to change things); nobody
 * deletes their own account from the console.
 */
#include "admin/admin.h"

#include "core/admins.h"
#include "core/audit.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

const char *admin_role_name(pp_admin_role_t role)
{
	return role == PP_ADMIN_ROLE_ADMIN ? "admin" : "helpdesk";
}

bool admin_role_parse(const char *name, pp_admin_role_t *role_r)
{
	if (name == NULL)
		return false;
	if (strcmp(name, "admin") == 0) {
		*role_r = PP_ADMIN_ROLE_ADMIN;
		return true;
	}
	if (strcmp(name, "helpdesk") == 0) {
		*role_r = PP_ADMIN_ROLE_HELPDESK;
		return true;
	}
	return false;
}

bool admin_role_may(pp_admin_role_t role, const char *method)
{
	if (role == PP_ADMIN_ROLE_ADMIN)
		return true;
	return method != NULL && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
}

int admin_role_get(pp_core_t *core, int64_t admin_id, pp_admin_role_t *role_r, bool *found_r,
		   char *error, size_t error_size)
{
	*found_r = false;
	*role_r = PP_ADMIN_ROLE_HELPDESK;
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_INT(admin_id)};
	if (db_query(core->db, "SELECT role FROM admins WHERE id = $1", params, 1, &res, db_error,
		     sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot read the role: %s", db_error);
		return -1;
	}
	if (db_result_rows(res) == 1) {
		*found_r = true;
		if (!admin_role_parse(db_result_text(res, 0, 0), role_r))
			*role_r = PP_ADMIN_ROLE_HELPDESK; /* least rights for a word we do not know */
	}
	db_result_free(&res);
	return 0;
}

/* Number of full admins other than name (inside the caller's transaction). -1 on error. */
static int64_t admin_other_full_admins(pp_core_t *core, const char *name, char *error,
				       size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_TEXT(name)};
	if (db_query(core->db, "SELECT COUNT(*) FROM admins WHERE role = 'admin' AND name <> $1",
		     params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot count admins: %s", db_error);
		return -1;
	}
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

int admin_role_set(pp_core_t *core, const char *actor, const char *name, pp_admin_role_t role,
		   char *error, size_t error_size)
{
	pp_admin_t admin;
	bool found = false;
	if (admin_get(core, name, &admin, &found, error, error_size) < 0)
		return -1;
	if (!found) {
		(void)str_format(error, error_size, "no admin %s; `pullprint admins list` shows them",
				 name);
		return 1;
	}
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot change %s: %s", admin.name,
				 db_error);
		return -1;
	}
	if (role != PP_ADMIN_ROLE_ADMIN) {
		int64_t others = admin_other_full_admins(core, admin.name, error, error_size);
		if (others < 0)
			goto fail;
		if (others == 0) {
			(void)str_format(error, error_size,
					 "%s is the last full admin; make another admin first",
					 admin.name);
			goto fail;
		}
	}
	const pp_db_value_t params[] = {DB_TEXT(admin_role_name(role)), DB_INT(core_now(core)),
					DB_INT(admin.id)};
	if (db_exec(core->db, "UPDATE admins SET role = $1, updated_at = $2 WHERE id = $3", params,
		    3, NULL, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot change %s: %s", admin.name,
				 db_error);
		goto fail;
	}
	if (audit_record(core, actor, "admin.role", admin.name, admin_role_name(role), error,
			 error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot change %s: %s", admin.name,
				 db_error);
		return -1;
	}
	log_info("admin.role admin=%s role=%s actor=%s", admin.name, admin_role_name(role), actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int admin_account_get(pp_core_t *core, int64_t admin_id, pp_admin_account_t *account_r,
		      bool *found_r, char *error, size_t error_size)
{
	*found_r = false;
	memset(account_r, 0, sizeof(*account_r));
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t params[] = {DB_INT(admin_id)};
	if (db_query(core->db, "SELECT id, name, role, created_at FROM admins WHERE id = $1",
		     params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot read admin %lld: %s",
				 (long long)admin_id, db_error);
		return -1;
	}
	if (db_result_rows(res) == 1) {
		*found_r = true;
		account_r->id = db_result_int(res, 0, 0);
		(void)str_copy(account_r->name, sizeof(account_r->name), db_result_text(res, 0, 1));
		if (!admin_role_parse(db_result_text(res, 0, 2), &account_r->role))
			account_r->role = PP_ADMIN_ROLE_HELPDESK;
		account_r->created_at = db_result_int(res, 0, 3);
	}
	db_result_free(&res);
	return 0;
}

int admin_accounts_list(pp_core_t *core, pp_admin_account_t **accounts_r, size_t *count_r,
			char *error, size_t error_size)
{
	*accounts_r = NULL;
	*count_r = 0;
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	if (db_query(core->db, "SELECT id, name, role, created_at FROM admins ORDER BY name LIMIT 10000",
		     NULL, 0, &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "admins: cannot list: %s", db_error);
		return -1;
	}
	size_t n = db_result_rows(res);
	pp_admin_account_t *list = calloc(n > 0 ? n : 1, sizeof(*list));
	if (list == NULL) {
		db_result_free(&res);
		(void)str_format(error, error_size, "admins: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		list[i].id = db_result_int(res, i, 0);
		(void)str_copy(list[i].name, sizeof(list[i].name), db_result_text(res, i, 1));
		if (!admin_role_parse(db_result_text(res, i, 2), &list[i].role))
			list[i].role = PP_ADMIN_ROLE_HELPDESK;
		list[i].created_at = db_result_int(res, i, 3);
	}
	db_result_free(&res);
	*accounts_r = list;
	*count_r = n;
	return 0;
}

int admin_account_add(pp_core_t *core, const char *actor, const char *name, const char *password,
		      pp_admin_role_t role, char *error, size_t error_size)
{
	pp_admin_t existing;
	bool found = false;
	if (name != NULL && admin_get(core, name, &existing, &found, error, error_size) == 0 &&
	    found) {
		(void)str_format(error, error_size, "admin %s already exists", existing.name);
		return DB_DUPLICATE;
	}
	if (admin_add(core, actor, name, password, error, error_size) < 0)
		return strstr(error, "already exists") != NULL ? DB_DUPLICATE : -1;
	if (role == PP_ADMIN_ROLE_ADMIN)
		return 0; /* the column's default */
	int rc = admin_role_set(core, actor, name, role, error, error_size);
	return rc == 0 ? 0 : -1;
}

int admin_account_delete(pp_core_t *core, const char *actor, const char *self_name,
			 const char *name, char *error, size_t error_size)
{
	pp_admin_t admin;
	bool found = false;
	if (admin_get(core, name, &admin, &found, error, error_size) < 0)
		return -1;
	if (!found) {
		(void)str_format(error, error_size, "no admin %s", name);
		return 1;
	}
	if (self_name != NULL && strcmp(self_name, admin.name) == 0) {
		(void)str_format(error, error_size,
				 "you cannot delete your own account; another admin can");
		return 2;
	}
	pp_admin_role_t role;
	bool exists = false;
	if (admin_role_get(core, admin.id, &role, &exists, error, error_size) < 0)
		return -1;
	if (role == PP_ADMIN_ROLE_ADMIN) {
		int64_t others = admin_other_full_admins(core, admin.name, error, error_size);
		if (others < 0)
			return -1;
		if (others == 0) {
			(void)str_format(error, error_size,
					 "%s is the last full admin; add another before deleting it",
					 admin.name);
			return 2;
		}
	}
	if (admin_delete(core, actor, admin.name, error, error_size) < 0)
		return strstr(error, "last admin") != NULL ? 2 : -1;
	return 0;
}
