/*
 * api-panel.c - what the panel app at a printer learns before anyone signs in: which printer
 * it stands at (found by the printer's panel token in X-Panel-Token) and how people may
 * sign in there (panel.signin_modes, panel.hide_code, panel.idle_timeout_s).
 *
 * The panel token names a printer, not a person: it opens nothing but this answer and the
 * panel's own kind of sign-in (api-auth.c).
 */
#include "api/api-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <string.h>

int api_panel_printer(api_call_t *call, pp_printer_t *printer_r)
{
	const char *token = http_request_header(call->req, API_PANEL_TOKEN_HEADER);
	if (token == NULL)
		return 0;
	char error[API_ERROR_MAX];
	int rc = printers_find_by_panel_token(call->api->cfg.core, token, printer_r, error,
					      sizeof(error));
	if (rc == PRINTERS_NOT_FOUND) {
		log_info("api.panel_token_refused remote=%s", http_request_remote_addr(call->req));
		api_error(call, 401, "panel_token",
			  "This panel's address is not (or no longer) valid: ask the administrator "
			  "for the printer's current panel URL.",
			  0);
		return -1;
	}
	if (rc < 0) {
		api_internal(call, "api.panel_token_failed", error);
		return -1;
	}
	return 1;
}

int api_panel_settings(pp_core_t *core, char modes_r[SETTINGS_VALUE_MAX], bool *hide_code_r,
		       int64_t *idle_timeout_s_r, char *error, size_t error_size)
{
	char hide[SETTINGS_VALUE_MAX];
	if (settings_get_string(core, "panel.signin_modes", modes_r, SETTINGS_VALUE_MAX, error,
				error_size) < 0 ||
	    settings_get_string(core, "panel.hide_code", hide, sizeof(hide), error, error_size) <
		    0 ||
	    settings_get_int(core, "panel.idle_timeout_s", idle_timeout_s_r, error, error_size) <
		    0)
		return -1;
	*hide_code_r = strcmp(hide, "yes") == 0;
	return 0;
}

bool api_panel_mode_allowed(const char *modes, const char *mode)
{
	size_t mode_len = strlen(mode);
	const char *p = modes;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (len == mode_len && strncmp(p, mode, len) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* GET /panel (X-Panel-Token): the printer and the sign-ins offered at it. */
void api_panel_get(api_call_t *call)
{
	pp_core_t *core = call->api->cfg.core;
	pp_printer_t printer;
	int found = api_panel_printer(call, &printer);
	if (found < 0)
		return;
	if (found == 0) {
		api_error(call, 401, "panel_token",
			  "Open the panel with the printer's panel URL (it carries its token).", 0);
		return;
	}
	char modes[SETTINGS_VALUE_MAX], release_auth[SETTINGS_VALUE_MAX], error[API_ERROR_MAX];
	bool hide_code = false;
	int64_t idle_timeout_s = 60, code_length = 6;
	if (api_panel_settings(core, modes, &hide_code, &idle_timeout_s, error, sizeof(error)) <
		    0 ||
	    settings_get_string(core, "users.release_auth", release_auth, sizeof(release_auth),
				error, sizeof(error)) < 0 ||
	    settings_get_int(core, "users.code_length", &code_length, error, sizeof(error)) < 0) {
		api_internal(call, "api.settings_failed", error);
		return;
	}
	/* Offer only what would work: the code alone needs release_auth = code, the directory
	 * needs one. */
	json_t *offered = json_array();
	if (offered != NULL && api_panel_mode_allowed(modes, "code") &&
	    strcmp(release_auth, "code") == 0)
		(void)json_array_append_new(offered, json_string("code"));
	if (offered != NULL && api_panel_mode_allowed(modes, "email_code"))
		(void)json_array_append_new(offered, json_string("email_code"));
	if (offered != NULL && api_panel_mode_allowed(modes, "directory") &&
	    api_has_directory(core))
		(void)json_array_append_new(offered, json_string("directory"));
	if (offered != NULL && json_array_size(offered) == 0)
		(void)json_array_append_new(offered, json_string("email_code"));
	api_json(call, 200,
		 json_pack("{s:o?, s:{s:o?, s:b, s:I}, s:I}", "printer",
			   api_printer_json(core, &printer), "signin", "modes", offered,
			   "hide_code", hide_code, "code_length", (json_int_t)code_length,
			   "idle_timeout_s", (json_int_t)idle_timeout_s));
}
