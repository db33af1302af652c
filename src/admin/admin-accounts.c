/*
 * admin-accounts.c - the admin accounts as the console lists, adds and deletes them
 * (admin-roles.c: never the last full admin, never yourself; audited).
 */
#include "admin/admin-private.h"

#include "lib/crypto.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

void admin_api_admins_list(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	pp_admin_account_t *accounts = NULL;
	size_t count = 0;
	if (admin_accounts_list(call->core, &accounts, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.admins_failed", error);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; items != NULL && i < count; i++)
		(void)json_array_append_new(
			items, json_pack("{s:s, s:s, s:I}", "name", accounts[i].name, "role",
					 admin_role_name(accounts[i].role), "created_at",
					 (json_int_t)accounts[i].created_at));
	free(accounts);
	admin_items(call, items, (int64_t)count);
}

void admin_api_admin_add(admin_call_t *call)
{
	const char *name = NULL, *role_text = NULL;
	if (!admin_body_string(call, "name", true, ADMINS_NAME_MAX - 1, &name) ||
	    !admin_body_string(call, "role", false, 16, &role_text))
		return;
	const char *password = json_string_value(json_object_get(call->body, "password"));
	if (password == NULL || strlen(password) < ADMINS_PASSWORD_MIN ||
	    strlen(password) > ADMINS_PASSWORD_MAX) {
		admin_error(call, 400, "invalid_value",
			    "password must be a string of 12 to 1024 bytes.", 0);
		return;
	}
	pp_admin_role_t role = PP_ADMIN_ROLE_ADMIN;
	if (role_text != NULL && !admin_role_parse(role_text, &role)) {
		admin_error(call, 400, "invalid_value", "role must be admin or helpdesk.", 0);
		return;
	}
	char error[ADMIN_ERROR_MAX];
	int rc = admin_account_add(call->core, call->actor, name, password, role, error,
				   sizeof(error));
	if (rc == DB_DUPLICATE) {
		admin_error(call, 409, "exists", "An admin of this name exists already.", 0);
		return;
	}
	if (rc < 0) {
		if (strstr(error, "cannot") != NULL)
			admin_internal(call, "admin.admin_add_failed", error);
		else
			admin_error(call, 400, "invalid_value", error, 0);
		return;
	}
	pp_admin_account_t *accounts = NULL;
	size_t count = 0;
	if (admin_accounts_list(call->core, &accounts, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.admins_failed", error);
		return;
	}
	char canon[ADMINS_NAME_MAX];
	(void)str_copy(canon, sizeof(canon), name);
	str_lower_ascii(canon);
	char *trimmed = str_trim(canon);
	json_t *item = NULL;
	for (size_t i = 0; i < count && item == NULL; i++)
		if (strcmp(accounts[i].name, trimmed) == 0)
			item = json_pack("{s:s, s:s, s:I}", "name", accounts[i].name, "role",
					 admin_role_name(accounts[i].role), "created_at",
					 (json_int_t)accounts[i].created_at);
	free(accounts);
	admin_json(call, 201, item);
}

void admin_api_admin_delete(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	int rc = admin_account_delete(call->core, call->actor, call->account.name, call->params[0],
				      error, sizeof(error));
	if (rc == 1) {
		admin_error(call, 404, "not_found", "There is no admin of this name.", 0);
		return;
	}
	if (rc == 2) {
		admin_error(call, 409, "refused", error, 0);
		return;
	}
	if (rc < 0) {
		admin_internal(call, "admin.admin_delete_failed", error);
		return;
	}
	admin_no_content(call);
}
