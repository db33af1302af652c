/*
 * admin-settings.c - the runtime settings (settings.h: one registry, validated, audited) and
 * the company code (codes.h) as the console shows and changes them.
 */
#include "admin/admin-private.h"

#include "core/codes.h"
#include "core/settings.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

static const char *admin_setting_type(pp_setting_type_t type)
{
	switch (type) {
	case PP_SETTING_INT: return "int";
	case PP_SETTING_ENUM: return "enum";
	default: return "string";
	}
}

static json_t *admin_setting_json(const pp_setting_t *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "name", s->name, "value", s->value,
			 "default", s->default_value, "allowed", s->allowed, "type",
			 admin_setting_type(s->type), "description", admin_str(s->description),
			 "is_default", s->is_default);
}

void admin_api_settings_list(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	pp_setting_t *settings = NULL;
	size_t count = 0;
	if (settings_list(call->core, &settings, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.settings_failed", error);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; items != NULL && i < count; i++)
		(void)json_array_append_new(items, admin_setting_json(&settings[i]));
	settings_list_free(&settings);
	admin_items(call, items, (int64_t)count);
}

void admin_api_setting_put(admin_call_t *call)
{
	const char *name = call->params[0];
	json_t *value = json_object_get(call->body, "value");
	char text[SETTINGS_VALUE_MAX];
	/* {"value": 48} is taken as "48": the console sends what the field holds. */
	if (json_is_integer(value)) {
		(void)str_format(text, sizeof(text), "%lld", (long long)json_integer_value(value));
	} else if (!json_is_string(value) || !str_copy(text, sizeof(text), json_string_value(value))) {
		admin_error(call, 400, "invalid_value",
			    "Give {\"value\": \"…\"}: a string of at most 511 bytes.", 0);
		return;
	}
	char error[ADMIN_ERROR_MAX];
	pp_setting_t *settings = NULL;
	size_t count = 0;
	if (settings_list(call->core, &settings, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.settings_failed", error);
		return;
	}
	bool is_known = false;
	for (size_t i = 0; i < count && !is_known; i++)
		is_known = strcmp(settings[i].name, name) == 0;
	settings_list_free(&settings);
	if (!is_known) {
		admin_error(call, 404, "not_found",
			    "There is no such setting; GET /api/v1/admin/settings lists them.", 0);
		return;
	}
	if (settings_validate(name, text, error, sizeof(error)) < 0) {
		admin_error(call, 400, "invalid_value", error, 0);
		return;
	}
	if (settings_set(call->core, call->actor, name, text, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.setting_failed", error);
		return;
	}
	log_info("admin.setting name=%s admin=%s", name, call->account.name);
	if (settings_list(call->core, &settings, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.settings_failed", error);
		return;
	}
	json_t *item = NULL;
	for (size_t i = 0; i < count && item == NULL; i++)
		if (strcmp(settings[i].name, name) == 0)
			item = admin_setting_json(&settings[i]);
	settings_list_free(&settings);
	admin_json(call, 200, item);
}

void admin_api_company_code(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	char code[COMPANY_CODE_LEN + 1];
	if (company_code_get(call->core, code, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.company_code_failed", error);
		return;
	}
	admin_json(call, 200, json_pack("{s:s}", "code", code));
}

void admin_api_company_code_regenerate(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	char code[COMPANY_CODE_LEN + 1];
	if (company_code_regenerate(call->core, call->actor, code, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.company_code_failed", error);
		return;
	}
	log_info("admin.company_code_regenerated admin=%s", call->account.name);
	admin_json(call, 200, json_pack("{s:s}", "code", code));
}
