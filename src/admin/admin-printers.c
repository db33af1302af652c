/*
 * admin-printers.c - the printer registry (printers.h: validated, audited) as the console
 * lists it with each printer's cached status, adds, edits, disables and removes printers,
 * prints a test page, and issues the panel token with its URL and QR code (admin-qr.c).
 */
#include "admin/admin-private.h"

#include "core/intake.h"
#include "core/printers.h"
#include "core/users.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

/* The owner of test pages: a disabled account nobody signs in as. */
#define ADMIN_TEST_PAGE_USER "test-page@pullprint.invalid"

static json_t *admin_printer_json(admin_call_t *call, const pp_printer_t *p)
{
	json_t *obj = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:s, s:I, s:I}",
				"id", (json_int_t)p->id, "name", p->name, "alias", p->alias,
				"location", p->location, "description", p->description, "uri",
				p->device_uri, "enabled", p->is_enabled, "group", p->group_name,
				"format", p->output_format[0] != '\0' ? p->output_format : "auto",
				"has_panel_token", p->has_panel_token, "tls_pin", p->tls_pin,
				"created_at", (json_int_t)p->created_at, "updated_at",
				(json_int_t)p->updated_at);
	if (obj != NULL)
		admin_printer_status_json(call, p->id, obj);
	return obj;
}

/* Answers printer id with status, or 404. */
static void admin_printer_answer(admin_call_t *call, unsigned status, int64_t id)
{
	char error[ADMIN_ERROR_MAX];
	pp_printer_t p;
	int rc = printers_get(call->core, id, &p, error, sizeof(error));
	if (rc == PRINTERS_NOT_FOUND) {
		admin_error(call, 404, "not_found", "There is no printer with this id.", 0);
		return;
	}
	if (rc < 0) {
		admin_internal(call, "admin.printer_failed", error);
		return;
	}
	admin_json(call, status, admin_printer_json(call, &p));
}

void admin_api_printers_list(admin_call_t *call)
{
	size_t limit, offset;
	if (!admin_page(call, &limit, &offset))
		return;
	char error[ADMIN_ERROR_MAX];
	pp_printer_t *printers = NULL;
	size_t count = 0;
	if (printers_list(call->core, &printers, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.printers_failed", error);
		return;
	}
	json_t *items = json_array();
	for (size_t i = offset; items != NULL && i < count && i - offset < limit; i++)
		(void)json_array_append_new(items, admin_printer_json(call, &printers[i]));
	printers_list_free(&printers);
	admin_items(call, items, (int64_t)count);
}

/*
 * Copies the body's printer fields that are present into *p. Answers 400 and returns false
 * when one is not a string of the right size (or enabled not a boolean).
 */
static bool admin_printer_fields(admin_call_t *call, pp_printer_t *p)
{
	static const struct {
		const char *key;
		size_t offset, size;
	} fields[] = {
		{"name", offsetof(pp_printer_t, name), PRINTERS_NAME_MAX},
		{"alias", offsetof(pp_printer_t, alias), PRINTERS_NAME_MAX},
		{"location", offsetof(pp_printer_t, location), PRINTERS_TEXT_MAX},
		{"description", offsetof(pp_printer_t, description), PRINTERS_TEXT_MAX},
		{"uri", offsetof(pp_printer_t, device_uri), PRINTERS_URI_MAX},
		{"group", offsetof(pp_printer_t, group_name), PRINTERS_NAME_MAX},
		{"format", offsetof(pp_printer_t, output_format), PRINTERS_FORMAT_MAX},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *value = NULL;
		if (!admin_body_string(call, fields[i].key, false, fields[i].size - 1, &value))
			return false;
		if (value != NULL)
			(void)str_copy((char *)p + fields[i].offset, fields[i].size, value);
	}
	json_t *enabled = json_object_get(call->body, "enabled");
	if (enabled != NULL) {
		if (!json_is_boolean(enabled)) {
			admin_error(call, 400, "invalid_value", "\"enabled\" must be true or false.",
				    0);
			return false;
		}
		p->is_enabled = json_is_true(enabled);
	}
	return true;
}

/* Answers a printers_add/update failure: 409 for a taken name, 400 with the field's reason. */
static void admin_printer_refused(admin_call_t *call, int rc, const char *error)
{
	if (rc == PRINTERS_DUPLICATE)
		admin_error(call, 409, "exists",
			    "Another printer already has this name or alias; choose another.", 0);
	else if (rc == PRINTERS_NOT_FOUND)
		admin_error(call, 404, "not_found", "There is no printer with this id.", 0);
	else if (strstr(error, "database") != NULL || strstr(error, "cannot") != NULL)
		admin_internal(call, "admin.printer_failed", error);
	else
		admin_error(call, 400, "invalid_value", error, 0);
}

void admin_api_printer_add(admin_call_t *call)
{
	pp_printer_t p;
	printers_init(&p);
	if (!admin_printer_fields(call, &p))
		return;
	char error[ADMIN_ERROR_MAX];
	if (p.name[0] == '\0' || p.device_uri[0] == '\0') {
		admin_error(call, 400, "invalid_value",
			    "Give \"name\" (letters, digits, . _ -) and \"uri\" (ipp://, ipps://, "
			    "socket:// or lpd://host[:port][/path]).",
			    0);
		return;
	}
	if (!printers_name_is_valid(p.name)) {
		admin_error(call, 400, "invalid_value",
			    "name: 1 to 127 letters, digits, '.', '_' or '-', starting with a "
			    "letter or digit.",
			    0);
		return;
	}
	if (printers_uri_validate(p.device_uri, error, sizeof(error)) < 0) {
		admin_error(call, 400, "invalid_value", error, 0);
		return;
	}
	int64_t id = 0;
	int rc = printers_add(call->core, call->actor, &p, &id, error, sizeof(error));
	if (rc != 0) {
		admin_printer_refused(call, rc, error);
		return;
	}
	admin_printer_answer(call, 201, id);
}

void admin_api_printer_patch(admin_call_t *call)
{
	int64_t id;
	if (!admin_param_id(call, 0, &id))
		return;
	char error[ADMIN_ERROR_MAX];
	pp_printer_t p;
	int rc = printers_get(call->core, id, &p, error, sizeof(error));
	if (rc != 0) {
		admin_printer_refused(call, rc, error);
		return;
	}
	if (!admin_printer_fields(call, &p))
		return;
	if (json_object_get(call->body, "uri") != NULL &&
	    printers_uri_validate(p.device_uri, error, sizeof(error)) < 0) {
		admin_error(call, 400, "invalid_value", error, 0);
		return;
	}
	rc = printers_update(call->core, call->actor, id, &p, error, sizeof(error));
	if (rc != 0) {
		admin_printer_refused(call, rc, error);
		return;
	}
	admin_printer_answer(call, 200, id);
}

void admin_api_printer_delete(admin_call_t *call)
{
	int64_t id;
	if (!admin_param_id(call, 0, &id))
		return;
	char error[ADMIN_ERROR_MAX];
	int rc = printers_remove(call->core, call->actor, id, error, sizeof(error));
	if (rc == PRINTERS_NOT_FOUND) {
		admin_error(call, 404, "not_found", "There is no printer with this id.", 0);
		return;
	}
	if (rc < 0) {
		if (strstr(error, "printing") != NULL || strstr(error, "releasing") != NULL)
			admin_error(call, 409, "busy", error, 0);
		else
			admin_internal(call, "admin.printer_remove_failed", error);
		return;
	}
	admin_no_content(call);
}

/* A one-page PDF (A4) that says what it is. */
static const char admin_test_pdf[] =
	"%PDF-1.4\n"
	"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
	"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>"
	"/Contents 5 0 R>>endobj\n"
	"4 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
	"5 0 obj<</Length 88>>stream\n"
	"BT /F1 28 Tf 72 760 Td (Pullprint test page) Tj 0 -40 Td /F1 14 Tf (It works.) Tj ET\n"
	"endstream endobj\n"
	"trailer<</Root 1 0 R>>\n"
	"%%EOF\n";

typedef struct {
	size_t pos;
} admin_test_reader_t;

static ssize_t admin_test_read(void *ctx, void *buf, size_t size, char *error,
			       size_t error_size)
{
	(void)error;
	(void)error_size;
	admin_test_reader_t *r = ctx;
	size_t total = sizeof(admin_test_pdf) - 1;
	size_t n = total - r->pos < size ? total - r->pos : size;
	memcpy(buf, admin_test_pdf + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

/* The test pages' owner, made (disabled) when missing. Returns 0 or -1. */
static int admin_test_user(admin_call_t *call, int64_t *user_id_r, char *error,
			   size_t error_size)
{
	pp_user_t user;
	bool found = false;
	if (users_get_by_email(call->core, ADMIN_TEST_PAGE_USER, &user, &found, error,
			       error_size) < 0)
		return -1;
	if (!found) {
		int rc = users_add(call->core, call->actor, ADMIN_TEST_PAGE_USER, PP_USER_DISABLED,
				   "admin", &user, error, error_size);
		if (rc == DB_DUPLICATE)
			rc = users_get_by_email(call->core, ADMIN_TEST_PAGE_USER, &user, &found,
						error, error_size);
		if (rc < 0)
			return -1;
	}
	*user_id_r = user.id;
	return 0;
}

void admin_api_printer_test_page(admin_call_t *call)
{
	int64_t id;
	if (!admin_param_id(call, 0, &id))
		return;
	char error[ADMIN_ERROR_MAX];
	pp_printer_t p;
	int rc = printers_get(call->core, id, &p, error, sizeof(error));
	if (rc != 0) {
		admin_printer_refused(call, rc, error);
		return;
	}
	if (!p.is_enabled) {
		admin_error(call, 409, "disabled", "The printer is disabled; enable it first.", 0);
		return;
	}
	int64_t user_id = 0;
	if (admin_test_user(call, &user_id, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.test_page_failed", error);
		return;
	}
	/* Combined flow: released to the printer as soon as it is converted. */
	pp_intake_t doc = {.user_id = user_id,
			   .source = "admin",
			   .title = "Pullprint test page",
			   .name = "test-page.pdf",
			   .content_type = "application/pdf",
			   .printer_id = p.id};
	admin_test_reader_t reader = {0};
	pp_intake_result_t result;
	if (intake_store_document(call->core, &doc, admin_test_read, &reader, &result, error,
				  sizeof(error)) < 0) {
		admin_internal(call, "admin.test_page_failed", error);
		return;
	}
	if (call->core->on_job_received != NULL)
		call->core->on_job_received(call->core->on_job_received_ctx);
	char detail[64];
	(void)str_format(detail, sizeof(detail), "job %lld", (long long)result.job_id);
	if (audit_record(call->core, call->actor, "printer.test_page", p.name, detail, error,
			 sizeof(error)) < 0)
		log_warn("admin.audit_failed action=printer.test_page error=\"%s\"", error);
	admin_json(call, 202, json_pack("{s:I}", "job_id", (json_int_t)result.job_id));
}

void admin_api_printer_panel_token(admin_call_t *call)
{
	int64_t id;
	if (!admin_param_id(call, 0, &id))
		return;
	char error[ADMIN_ERROR_MAX];
	char token[PRINTERS_PANEL_TOKEN_MAX];
	int rc = printers_panel_token_issue(call->core, call->actor, id, token, error,
					    sizeof(error));
	if (rc != 0) {
		admin_printer_refused(call, rc, error);
		return;
	}
	const char *base = admin_str(call->api->cfg.public_url);
	if (base[0] == '\0')
		base = "https://localhost/";
	size_t base_len = strlen(base);
	char url[1024 + PRINTERS_PANEL_TOKEN_MAX];
	bool is_ok = str_format(url, sizeof(url), "%s%spanel/?t=%s", base,
				base_len > 0 && base[base_len - 1] == '/' ? "" : "/", token);
	char *svg = NULL;
	if (!is_ok || admin_qr_svg(url, &svg, error, sizeof(error)) < 0) {
		crypto_wipe(token, sizeof(token));
		crypto_wipe(url, sizeof(url));
		admin_internal(call, "admin.panel_token_failed", is_ok ? error : "URL too long");
		return;
	}
	admin_json(call, 200, json_pack("{s:s, s:s, s:s}", "token", token, "url", url, "qr_svg",
					svg));
	crypto_wipe(token, sizeof(token));
	crypto_wipe(url, sizeof(url));
	free(svg);
}
