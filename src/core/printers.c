/* printers.c - the printer registry; see printers.h. */
#include "core/printers.h"

#include "core/audit.h"
#include "core/printers-private.h"
#include "core/job.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

#define PRINTERS_COLUMNS                                                                           \
	"id, name, alias, location, description, device_uri, is_enabled, created_at,"              \
	" updated_at, capabilities, output_format, group_name,"                                    \
	" CASE WHEN panel_token_hash IS NULL THEN 0 ELSE 1 END, tls_pin"

#define PRINTERS_PANEL_TOKEN_PREFIX "ppk_"
#define PRINTERS_PANEL_TOKEN_RANDOM_BYTES 32

static bool printers_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool printers_name_is_valid(const char *name)
{
	if (name == NULL || !printers_is_alnum(name[0]))
		return false;
	size_t len = strlen(name);
	if (len >= PRINTERS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!printers_is_alnum(name[i]) && name[i] != '-' && name[i] != '_' &&
		    name[i] != '.')
			return false;
	}
	return true;
}

/* True for a host name or IPv4 address: letters, digits, '-' and '.', 1..253 characters. */
static bool printers_host_is_valid(const char *host, size_t len)
{
	if (len == 0 || len > 253 || host[0] == '-' || host[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!printers_is_alnum(host[i]) && host[i] != '-' && host[i] != '.')
			return false;
	}
	return true;
}

/* True for the inside of [ ]: hex digits, ':' and '.', 2..45 characters. */
static bool printers_ipv6_is_valid(const char *host, size_t len)
{
	if (len < 2 || len > 45)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = host[i];
		bool is_hex =
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (!is_hex && c != ':' && c != '.')
			return false;
	}
	return true;
}

int printers_uri_validate(const char *uri, char *error, size_t error_size)
{
	static const char *const schemes[] = {"ipp://", "ipps://", "socket://", "lpd://"};
	if (uri == NULL || uri[0] == '\0') {
		(void)str_format(error, error_size,
		                 "device_uri: missing; use ipp://, ipps://, socket:// or lpd://");
		return -1;
	}
	if (strlen(uri) >= PRINTERS_URI_MAX) {
		(void)str_format(error, error_size, "device_uri: longer than %d characters",
		                 PRINTERS_URI_MAX - 1);
		return -1;
	}
	for (const char *p = uri; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f) {
			(void)str_format(error, error_size,
			                 "device_uri: spaces, control and non-ASCII characters "
			                 "must be percent-encoded");
			return -1;
		}
	}
	const char *rest = NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (str_has_prefix(uri, schemes[i]))
			rest = uri + strlen(schemes[i]);
	}
	if (rest == NULL) {
		(void)str_format(error, error_size,
		                 "device_uri: the scheme must be ipp, ipps, socket or lpd "
		                 "(lower-case), as in ipp://printer.example.com/ipp/print");
		return -1;
	}
	size_t auth_len = strcspn(rest, "/?#");
	if (memchr(rest, '@', auth_len) != NULL) {
		(void)str_format(error, error_size,
		                 "device_uri: user names and passwords do not belong in the URI");
		return -1;
	}
	const char *host = rest;
	size_t host_len;
	const char *after; /* just past the host */
	bool is_host_ok;
	if (rest[0] == '[') {
		const char *close = memchr(rest, ']', auth_len);
		host = rest + 1;
		host_len = close != NULL ? (size_t)(close - host) : 0;
		is_host_ok = close != NULL && printers_ipv6_is_valid(host, host_len);
		after = close != NULL ? close + 1 : rest + auth_len;
	} else {
		const char *colon = memchr(rest, ':', auth_len);
		host_len = colon != NULL ? (size_t)(colon - rest) : auth_len;
		is_host_ok = printers_host_is_valid(host, host_len);
		after = rest + host_len;
	}
	if (!is_host_ok) {
		(void)str_format(error, error_size,
		                 "device_uri: the host is missing or not a valid name or address");
		return -1;
	}
	const char *auth_end = rest + auth_len;
	if (after < auth_end) {
		uint64_t port;
		char digits[8];
		size_t n = (size_t)(auth_end - after) - 1;
		if (*after != ':' || n == 0 || n >= sizeof(digits)) {
			(void)str_format(error, error_size,
			                 "device_uri: write the port as host:port (1..65535)");
			return -1;
		}
		memcpy(digits, after + 1, n);
		digits[n] = '\0';
		if (!parse_uint64_full(digits, 65535, &port) || port == 0) {
			(void)str_format(error, error_size,
			                 "device_uri: the port must be a number from 1 to 65535");
			return -1;
		}
	}
	return 0;
}

void printers_init(pp_printer_t *printer)
{
	memset(printer, 0, sizeof(*printer));
	printer->is_enabled = true;
	printer_caps_default(&printer->caps);
	(void)str_copy(printer->output_format, sizeof(printer->output_format), "auto");
}

int printers_format_validate(const char *format, char *error, size_t error_size)
{
	pp_printer_caps_t caps;
	printer_caps_default(&caps);
	if (format == NULL || format[0] == '\0' ||
	    printer_caps_choose_format(&caps, format) == NULL) {
		(void)str_format(error, error_size,
		                 "output_format: \"%.20s\" is not a format; use auto, pdf, pwg, "
		                 "urf, ps, pcl5 or pcl6",
		                 format != NULL ? format : "");
		return -1;
	}
	return 0;
}

/* True when the fixed-size text field holds a terminated line of printable UTF-8. */
static bool printers_text_ok(const char *text, size_t size)
{
	return memchr(text, '\0', size) != NULL && str_is_printable_utf8(text);
}

/*
 * Checks *in and writes the stored form into *out (alias defaulted and lower-cased, group
 * lower-cased, format defaulted) and the capabilities as JSON into *caps_json_r (new; free()).
 * Returns 0, or PRINTERS_INVALID with *field_r the column at fault, or -1 on no memory.
 */
static int printers_normalise(const pp_printer_t *in, pp_printer_t *out, char **caps_json_r,
                              const char **field_r, char *error, size_t error_size)
{
	static const char name_rule[] =
	    "use 1..127 letters, digits, '-', '_' or '.', starting with a letter or digit";
	*caps_json_r = NULL;
	*out = *in;
	*field_r = "name";
	if (memchr(in->name, '\0', sizeof(in->name)) == NULL ||
	    !printers_name_is_valid(in->name)) {
		(void)str_format(error, error_size, "name: %s", name_rule);
		return PRINTERS_INVALID;
	}
	*field_r = "alias";
	if (memchr(in->alias, '\0', sizeof(in->alias)) == NULL ||
	    !str_copy(out->alias, sizeof(out->alias), in->alias[0] != '\0' ? in->alias : in->name) ||
	    !printers_name_is_valid(out->alias)) {
		(void)str_format(error, error_size, "alias: %s", name_rule);
		return PRINTERS_INVALID;
	}
	str_lower_ascii(out->alias);
	*field_r = "location";
	if (!printers_text_ok(in->location, sizeof(in->location))) {
		(void)str_format(error, error_size,
		                 "location: one line of text, at most %d bytes",
		                 PRINTERS_TEXT_MAX - 1);
		return PRINTERS_INVALID;
	}
	*field_r = "description";
	if (!printers_text_ok(in->description, sizeof(in->description))) {
		(void)str_format(error, error_size,
		                 "description: one line of text, at most %d bytes",
		                 PRINTERS_TEXT_MAX - 1);
		return PRINTERS_INVALID;
	}
	*field_r = "device_uri";
	if (memchr(in->device_uri, '\0', sizeof(in->device_uri)) == NULL ||
	    printers_uri_validate(in->device_uri, error, error_size) < 0)
		return PRINTERS_INVALID;
	*field_r = "output_format";
	if (memchr(in->output_format, '\0', sizeof(in->output_format)) == NULL) {
		(void)printers_format_validate("", error, error_size);
		return PRINTERS_INVALID;
	}
	if (in->output_format[0] == '\0')
		(void)str_copy(out->output_format, sizeof(out->output_format), "auto");
	else if (printers_format_validate(in->output_format, error, error_size) < 0)
		return PRINTERS_INVALID;
	*field_r = "group";
	if (memchr(in->group_name, '\0', sizeof(in->group_name)) == NULL ||
	    (in->group_name[0] != '\0' && !printers_name_is_valid(in->group_name))) {
		(void)str_format(error, error_size, "group: empty for none, or %s", name_rule);
		return PRINTERS_INVALID;
	}
	str_lower_ascii(out->group_name);
	*field_r = "tls_pin";
	if (memchr(in->tls_pin, '\0', sizeof(in->tls_pin)) == NULL ||
	    (in->tls_pin[0] != '\0' && !printers_tls_pin_parse(in->tls_pin, out->tls_pin))) {
		(void)str_format(error, error_size,
		                 "tls_pin: empty, or the certificate's SHA-256 fingerprint as 64 "
		                 "hex digits");
		return PRINTERS_INVALID;
	}
	/* Capabilities: the JSON round trip checks every list and string the way an admin's
	   edit is checked, and gives the text to store. */
	*field_r = "capabilities";
	const pp_printer_caps_t *caps = &in->caps;
	bool is_shape_ok = caps->n_formats <= PRINTER_CAPS_FORMATS_MAX &&
	                   caps->n_media <= PRINTER_CAPS_MEDIA_MAX &&
	                   memchr(caps->make_and_model, '\0', sizeof(caps->make_and_model)) &&
	                   memchr(caps->mac_address, '\0', sizeof(caps->mac_address));
	for (size_t i = 0; is_shape_ok && i < caps->n_formats; i++)
		is_shape_ok = memchr(caps->formats[i], '\0', PRINTER_CAPS_NAME_MAX) != NULL;
	for (size_t i = 0; is_shape_ok && i < caps->n_media; i++)
		is_shape_ok = memchr(caps->media[i], '\0', PRINTER_CAPS_NAME_MAX) != NULL;
	if (!is_shape_ok) {
		(void)str_format(error, error_size,
		                 "capabilities: at most %d formats and %d media, each shorter "
		                 "than %d characters",
		                 PRINTER_CAPS_FORMATS_MAX, PRINTER_CAPS_MEDIA_MAX,
		                 PRINTER_CAPS_NAME_MAX);
		return PRINTERS_INVALID;
	}
	char *json = printer_caps_to_json(caps);
	if (json == NULL) {
		(void)str_format(error, error_size, "printers: out of memory");
		return -1;
	}
	if (printer_caps_from_json(json, &out->caps, error, error_size) < 0) {
		free(json);
		return PRINTERS_INVALID;
	}
	*field_r = NULL;
	*caps_json_r = json;
	return 0;
}

static void printers_from_row(const pp_db_result_t *res, size_t i, pp_printer_t *p)
{
	memset(p, 0, sizeof(*p));
	p->id = db_result_int(res, i, 0);
	job_text_copy(p->name, sizeof(p->name), db_result_text(res, i, 1));
	job_text_copy(p->alias, sizeof(p->alias), db_result_text(res, i, 2));
	job_text_copy(p->location, sizeof(p->location), db_result_text(res, i, 3));
	job_text_copy(p->description, sizeof(p->description), db_result_text(res, i, 4));
	job_text_copy(p->device_uri, sizeof(p->device_uri), db_result_text(res, i, 5));
	p->is_enabled = db_result_int(res, i, 6) != 0;
	p->created_at = db_result_int(res, i, 7);
	p->updated_at = db_result_int(res, i, 8);
	char error[256];
	if (printer_caps_from_json(db_result_text(res, i, 9), &p->caps, error, sizeof(error)) < 0) {
		/* Only a hand-edited database gets here: run on defaults rather than fail. */
		log_warn("printer.caps_unreadable printer=%s error=\"%s\" — set them again with "
		         "`pullprint printers caps`",
		         p->name, error);
		printer_caps_default(&p->caps);
	}
	job_text_copy(p->output_format, sizeof(p->output_format), db_result_text(res, i, 10));
	job_text_copy(p->group_name, sizeof(p->group_name), db_result_text(res, i, 11));
	p->has_panel_token = db_result_int(res, i, 12) != 0;
	job_text_copy(p->tls_pin, sizeof(p->tls_pin), db_result_text(res, i, 13));
}

/* Appends ", field" (or "field") to the changed-fields list in buf[size]. */
static void printers_note_change(char *buf, size_t size, const char *field)
{
	size_t used = strlen(buf);
	if (used + strlen(field) + 3 > size)
		return;
	(void)str_format(buf + used, size - used, "%s%s", used > 0 ? ", " : "", field);
}

/* Lists in changed[size] the names of the stored fields in which a and b differ. */
static void printers_diff(const pp_printer_t *a, const pp_printer_t *b, const char *a_caps,
                          const char *b_caps, char *changed, size_t size)
{
	changed[0] = '\0';
	const struct {
		const char *field, *x, *y;
	} texts[] = {
	    {"name", a->name, b->name},
	    {"alias", a->alias, b->alias},
	    {"location", a->location, b->location},
	    {"description", a->description, b->description},
	    {"device_uri", a->device_uri, b->device_uri},
	    {"output_format", a->output_format, b->output_format},
	    {"group", a->group_name, b->group_name},
	    {"capabilities", a_caps, b_caps},
	    {"tls_pin", a->tls_pin, b->tls_pin},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (strcmp(texts[i].x, texts[i].y) != 0)
			printers_note_change(changed, size, texts[i].field);
	}
	if (a->is_enabled != b->is_enabled)
		printers_note_change(changed, size, "enabled");
}

int printers_write_locked(pp_core_t *core, const char *actor, const pp_printer_t *old,
                          const pp_printer_t *printer, int64_t *id_r, bool *changed_r,
                          const char **field_r, char *error, size_t error_size)
{
	pp_printer_t p;
	char *caps_json = NULL, *old_caps_json = NULL;
	pp_db_result_t *res = NULL;
	int rc = printers_normalise(printer, &p, &caps_json, field_r, error, error_size);
	if (changed_r != NULL)
		*changed_r = false;
	if (rc != 0)
		return rc;
	actor = actor != NULL ? actor : "system";
	char changed[256] = "";
	if (old != NULL) {
		old_caps_json = printer_caps_to_json(&old->caps);
		if (old_caps_json == NULL) {
			(void)str_format(error, error_size, "printers: out of memory");
			rc = -1;
			goto done;
		}
		printers_diff(old, &p, old_caps_json, caps_json, changed, sizeof(changed));
		if (changed[0] == '\0')
			goto done; /* nothing to store, nothing to audit */
	}

	/* Names and aliases share one namespace, compared without case: check before writing,
	   so that a refusal leaves the transaction usable (an import goes on to the next row). */
	pp_db_value_t check[] = {DB_TEXT(p.name), DB_TEXT(p.alias), DB_INT(old != NULL ? old->id : 0)};
	rc = -1;
	if (db_query(core->db,
	             "SELECT name, CASE WHEN lower(name) = lower($1) OR alias = lower($1)"
	             " THEN 1 ELSE 0 END FROM printers"
	             " WHERE (lower(name) IN (lower($1), $2) OR alias IN (lower($1), $2))"
	             " AND id <> $3 ORDER BY 2 DESC LIMIT 1",
	             check, 3, &res, error, error_size) != DB_OK)
		goto done;
	if (db_result_rows(res) > 0) {
		/* The name is at fault when it is what collides, else the alias. */
		*field_r = db_result_int(res, 0, 1) != 0 ? "name" : "alias";
		(void)str_format(error, error_size,
		                 "%s: printer %s or alias %s is already used by printer %.127s; "
		                 "choose another",
		                 *field_r, p.name, p.alias, db_result_text(res, 0, 0));
		rc = PRINTERS_DUPLICATE;
		goto done;
	}
	db_result_free(&res);

	int64_t now = core_now(core);
	pp_db_value_t params[] = {
	    DB_TEXT(p.name),          DB_TEXT(p.alias),       DB_TEXT(p.location),
	    DB_TEXT(p.description),   DB_TEXT(p.device_uri),  DB_INT(p.is_enabled ? 1 : 0),
	    DB_TEXT(caps_json),       DB_TEXT(p.output_format), DB_TEXT(p.group_name),
	    DB_INT(now),              DB_INT(old != NULL ? old->id : 0), DB_TEXT(p.tls_pin),
	};
	/* An insert has no id to name: every parameter but $11. */
	pp_db_value_t insert_params[] = {params[0], params[1], params[2], params[3],
	                                 params[4], params[5], params[6], params[7],
	                                 params[8], params[9], params[11]};
	if (old == NULL) {
		if (db_query(core->db,
		             "INSERT INTO printers (name, alias, location, description, device_uri,"
		             " is_enabled, capabilities, output_format, group_name, created_at,"
		             " updated_at, tls_pin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
		             " $10, $10, $11) RETURNING id",
		             insert_params, 11, &res, error, error_size) != DB_OK ||
		    db_result_rows(res) != 1)
			goto done;
		if (id_r != NULL)
			*id_r = db_result_int(res, 0, 0);
		if (audit_record(core, actor, "printer.add", p.name, p.device_uri, error,
		                 error_size) < 0)
			goto done;
	} else {
		if (db_exec(core->db,
		            "UPDATE printers SET name = $1, alias = $2, location = $3,"
		            " description = $4, device_uri = $5, is_enabled = $6, capabilities = $7,"
		            " output_format = $8, group_name = $9, updated_at = $10, tls_pin = $12"
		            " WHERE id = $11",
		            params, 12, NULL, error, error_size) != DB_OK)
			goto done;
		/* A rename is recorded under the old name, so the trail stays searchable by it. */
		char detail[AUDIT_DETAIL_MAX];
		if (!str_format(detail, sizeof(detail), "changed: %s%s%s", changed,
		                strcmp(old->name, p.name) != 0 ? "; new name " : "",
		                strcmp(old->name, p.name) != 0 ? p.name : ""))
			(void)str_copy(detail, sizeof(detail), "changed");
		if (id_r != NULL)
			*id_r = old->id;
		if (audit_record(core, actor, "printer.update", old->name, detail, error,
		                 error_size) < 0)
			goto done;
	}
	if (changed_r != NULL)
		*changed_r = true;
	rc = 0;
done:
	db_result_free(&res);
	free(caps_json);
	free(old_caps_json);
	return rc;
}

/* Runs printers_write_locked() in a transaction of its own. */
static int printers_write(pp_core_t *core, const char *actor, int64_t id,
                          const pp_printer_t *printer, int64_t *id_r, char *error,
                          size_t error_size)
{
	pp_printer_t old;
	const char *field = NULL;
	bool is_changed = false;
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	if (id != 0) {
		int found = printers_get(core, id, &old, error, error_size);
		if (found != 0) {
			db_tx_rollback(core->db);
			return found;
		}
	}
	int rc = printers_write_locked(core, actor, id != 0 ? &old : NULL, printer, id_r,
	                               &is_changed, &field, error, error_size);
	if (rc != 0) {
		db_tx_rollback(core->db);
		return rc == PRINTERS_INVALID ? -1 : rc;
	}
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		return -1;
	if (is_changed)
		log_info("printer.%s printer=%s", id != 0 ? "updated" : "added", printer->name);
	return 0;
}

int printers_add(pp_core_t *core, const char *actor, const pp_printer_t *printer, int64_t *id_r,
                 char *error, size_t error_size)
{
	return printers_write(core, actor, 0, printer, id_r, error, error_size);
}

int printers_update(pp_core_t *core, const char *actor, int64_t id, const pp_printer_t *printer,
                    char *error, size_t error_size)
{
	if (id <= 0) {
		(void)str_format(error, error_size, "no such printer");
		return PRINTERS_NOT_FOUND;
	}
	return printers_write(core, actor, id, printer, NULL, error, error_size);
}

static int printers_get_one(pp_core_t *core, const char *sql, const pp_db_value_t *params, size_t n,
                            pp_printer_t *printer_r, char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	if (db_query(core->db, sql, params, n, &res, error, error_size) != DB_OK)
		return -1;
	int rc = 0;
	if (db_result_rows(res) == 0) {
		(void)str_format(error, error_size, "no such printer");
		rc = PRINTERS_NOT_FOUND;
	} else {
		printers_from_row(res, 0, printer_r);
	}
	db_result_free(&res);
	return rc;
}

int printers_get(pp_core_t *core, int64_t id, pp_printer_t *printer_r, char *error,
                 size_t error_size)
{
	pp_db_value_t params[] = {DB_INT(id)};
	return printers_get_one(core, "SELECT " PRINTERS_COLUMNS " FROM printers WHERE id = $1",
	                        params, 1, printer_r, error, error_size);
}

int printers_find(pp_core_t *core, const char *word, pp_printer_t *printer_r, char *error,
                  size_t error_size)
{
	char lower[PRINTERS_NAME_MAX];
	if (!str_copy(lower, sizeof(lower), word)) {
		(void)str_format(error, error_size, "no such printer");
		return PRINTERS_NOT_FOUND;
	}
	str_lower_ascii(lower);
	pp_db_value_t params[] = {DB_TEXT(word), DB_TEXT(lower)};
	/* An exact name wins over an alias. */
	return printers_get_one(core,
	                        "SELECT " PRINTERS_COLUMNS " FROM printers"
	                        " WHERE name = $1 OR alias = $2"
	                        " ORDER BY CASE WHEN name = $1 THEN 0 ELSE 1 END LIMIT 1",
	                        params, 2, printer_r, error, error_size);
}

int printers_find_name(pp_core_t *core, const char *name, pp_printer_t *printer_r, char *error,
                       size_t error_size)
{
	pp_db_value_t params[] = {DB_TEXT(name)};
	return printers_get_one(core,
	                        "SELECT " PRINTERS_COLUMNS " FROM printers"
	                        " WHERE lower(name) = lower($1) LIMIT 1",
	                        params, 1, printer_r, error, error_size);
}

/* Runs a listing query (its last parameter is the row limit) into a new array. */
static int printers_list_query(pp_core_t *core, const char *sql, const pp_db_value_t *params,
                               size_t n, pp_printer_t **printers_r, size_t *count_r, char *error,
                               size_t error_size)
{
	pp_db_result_t *res = NULL;
	*printers_r = NULL;
	*count_r = 0;
	if (db_query(core->db, sql, params, n, &res, error, error_size) != DB_OK)
		return -1;
	size_t rows = db_result_rows(res);
	pp_printer_t *list = calloc(rows > 0 ? rows : 1, sizeof(*list));
	if (list == NULL) {
		db_result_free(&res);
		(void)str_format(error, error_size, "printers: out of memory");
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		printers_from_row(res, i, &list[i]);
	db_result_free(&res);
	*printers_r = list;
	*count_r = rows;
	return 0;
}

int printers_list(pp_core_t *core, pp_printer_t **printers_r, size_t *count_r, char *error,
                  size_t error_size)
{
	pp_db_value_t params[] = {DB_INT(PRINTERS_LIST_MAX)};
	return printers_list_query(
	    core, "SELECT " PRINTERS_COLUMNS " FROM printers ORDER BY lower(name), id LIMIT $1",
	    params, 1, printers_r, count_r, error, error_size);
}

int printers_list_group(pp_core_t *core, const char *group, pp_printer_t **printers_r,
                        size_t *count_r, char *error, size_t error_size)
{
	char lower[PRINTERS_NAME_MAX];
	if (group == NULL || group[0] == '\0' || !str_copy(lower, sizeof(lower), group)) {
		/* No group, or one no printer can have: an empty list. */
		pp_printer_t *list = calloc(1, sizeof(*list));
		*printers_r = list;
		*count_r = 0;
		if (list == NULL)
			(void)str_format(error, error_size, "printers: out of memory");
		return list != NULL ? 0 : -1;
	}
	str_lower_ascii(lower);
	pp_db_value_t params[] = {DB_TEXT(lower), DB_INT(PRINTERS_LIST_MAX)};
	return printers_list_query(core,
	                           "SELECT " PRINTERS_COLUMNS " FROM printers WHERE group_name = $1"
	                           " ORDER BY lower(name), id LIMIT $2",
	                           params, 2, printers_r, count_r, error, error_size);
}

void printers_list_free(pp_printer_t **printers)
{
	if (printers == NULL)
		return;
	free(*printers);
	*printers = NULL;
}

/* Runs one change of printer id and its audit row in a transaction. */
static int printers_change(pp_core_t *core, const char *actor, int64_t id, const char *action,
                           const char *sql, const pp_db_value_t *params, size_t n,
                           const char *refuse_sql, const char *refuse_message,
                           int64_t *changes_r, char *error, size_t error_size)
{
	pp_printer_t printer;
	int64_t changes = 0;
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	int rc = printers_get(core, id, &printer, error, error_size);
	if (rc != 0) {
		db_tx_rollback(core->db);
		return rc;
	}
	if (refuse_sql != NULL) {
		pp_db_result_t *res = NULL;
		pp_db_value_t p[] = {DB_INT(id)};
		if (db_query(core->db, refuse_sql, p, 1, &res, error, error_size) != DB_OK)
			goto fail;
		bool is_refused = db_result_rows(res) > 0;
		db_result_free(&res);
		if (is_refused) {
			(void)str_format(error, error_size, "printer %s: %s", printer.name,
			                 refuse_message);
			db_tx_rollback(core->db);
			return -1;
		}
	}
	if (db_exec(core->db, sql, params, n, &changes, error, error_size) != DB_OK)
		goto fail;
	if (audit_record(core, actor != NULL ? actor : "system", action, printer.name, NULL, error,
	                 error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		return -1;
	if (changes_r != NULL)
		*changes_r = changes;
	log_info("printer.changed printer=%s action=%s", printer.name, action);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int printers_set_enabled(pp_core_t *core, const char *actor, int64_t id, bool is_enabled,
                         char *error, size_t error_size)
{
	pp_db_value_t params[] = {DB_INT(is_enabled ? 1 : 0), DB_INT(core_now(core)), DB_INT(id)};
	return printers_change(core, actor, id, is_enabled ? "printer.enable" : "printer.disable",
	                       "UPDATE printers SET is_enabled = $1, updated_at = $2 WHERE id = $3",
	                       params, 3, NULL, NULL, NULL, error, error_size);
}

int printers_remove(pp_core_t *core, const char *actor, int64_t id, char *error, size_t error_size)
{
	pp_db_value_t params[] = {DB_INT(id)};
	return printers_change(
	    core, actor, id, "printer.remove", "DELETE FROM printers WHERE id = $1", params, 1,
	    "SELECT id FROM jobs WHERE printer_id = $1"
	    " AND state IN ('releasing','printing') LIMIT 1",
	    "jobs are being printed on it; wait for them or cancel them first", NULL, error,
	    error_size);
}

bool printers_tls_pin_parse(const char *text, char pin_r[PRINTERS_TLS_PIN_MAX])
{
	size_t n = 0;
	pin_r[0] = '\0';
	for (const char *c = text != NULL ? text : ""; *c != '\0'; c++) {
		char lower = (*c >= 'A' && *c <= 'F') ? (char)(*c - 'A' + 'a') : *c;
		bool is_hex = (lower >= '0' && lower <= '9') || (lower >= 'a' && lower <= 'f');
		/* Separators only between pairs of digits. */
		if ((*c == ':' || *c == ' ') && n > 0 && n % 2 == 0 && c[1] != '\0')
			continue;
		if (!is_hex || n == PRINTERS_TLS_PIN_MAX - 1) {
			pin_r[0] = '\0';
			return false;
		}
		pin_r[n++] = lower;
	}
	pin_r[n] = '\0';
	if (n != PRINTERS_TLS_PIN_MAX - 1) {
		pin_r[0] = '\0';
		return false;
	}
	return true;
}

int printers_set_tls_pin(pp_core_t *core, const char *actor, int64_t id, const char *pin,
                         char *error, size_t error_size)
{
	char clean[PRINTERS_TLS_PIN_MAX] = "";
	if (pin != NULL && pin[0] != '\0' && !printers_tls_pin_parse(pin, clean)) {
		(void)str_format(error, error_size,
		                 "fingerprint: give the certificate's SHA-256 fingerprint as 64 hex "
		                 "digits (pairs may be separated by ':')");
		return -1;
	}
	pp_db_value_t params[] = {DB_TEXT(clean), DB_INT(core_now(core)), DB_INT(id)};
	return printers_change(core, actor, id,
	                       clean[0] != '\0' ? "printer.trust" : "printer.untrust",
	                       "UPDATE printers SET tls_pin = $1, updated_at = $2 WHERE id = $3",
	                       params, 3, NULL, NULL, NULL, error, error_size);
}

/* The keyed hash a panel token is stored and looked up by. */
static void printers_panel_hash(const pp_core_t *core, const char *token,
                                char out[CRYPTO_HASH_HEX_LEN + 1])
{
	crypto_keyed_hash_hex(core->token_key, token, strlen(token), out);
}

int printers_panel_token_issue(pp_core_t *core, const char *actor, int64_t id,
                               char token_r[PRINTERS_PANEL_TOKEN_MAX], char *error,
                               size_t error_size)
{
	char token[PRINTERS_PANEL_TOKEN_MAX], hash[CRYPTO_HASH_HEX_LEN + 1];
	uint8_t bytes[PRINTERS_PANEL_TOKEN_RANDOM_BYTES];
	token_r[0] = '\0';
	crypto_random_bytes(bytes, sizeof(bytes));
	memcpy(token, PRINTERS_PANEL_TOKEN_PREFIX, 4);
	str_hex_encode(token + 4, bytes, sizeof(bytes));
	crypto_wipe(bytes, sizeof(bytes));
	printers_panel_hash(core, token, hash);
	pp_db_value_t params[] = {DB_TEXT(hash), DB_INT(core_now(core)), DB_INT(id)};
	int rc = printers_change(core, actor, id, "printer.panel_token.issue",
	                         "UPDATE printers SET panel_token_hash = $1, updated_at = $2"
	                         " WHERE id = $3",
	                         params, 3, NULL, NULL, NULL, error, error_size);
	if (rc == 0)
		memcpy(token_r, token, sizeof(token));
	crypto_wipe(token, sizeof(token));
	return rc;
}

/* True when token is the prefix and exactly 64 lower-case hex digits. */
static bool printers_panel_token_well_formed(const char *token)
{
	if (token == NULL || strlen(token) != PRINTERS_PANEL_TOKEN_MAX - 1 ||
	    !str_has_prefix(token, PRINTERS_PANEL_TOKEN_PREFIX))
		return false;
	for (size_t i = 4; i < PRINTERS_PANEL_TOKEN_MAX - 1; i++) {
		char c = token[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

int printers_find_by_panel_token(pp_core_t *core, const char *token, pp_printer_t *printer_r,
                                 char *error, size_t error_size)
{
	if (!printers_panel_token_well_formed(token)) {
		(void)str_format(error, error_size, "no printer has this panel token");
		return PRINTERS_NOT_FOUND;
	}
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	printers_panel_hash(core, token, hash);
	pp_db_value_t params[] = {DB_TEXT(hash)};
	int rc = printers_get_one(core,
	                          "SELECT " PRINTERS_COLUMNS
	                          " FROM printers WHERE panel_token_hash = $1",
	                          params, 1, printer_r, error, error_size);
	if (rc == PRINTERS_NOT_FOUND)
		(void)str_format(error, error_size, "no printer has this panel token");
	return rc;
}

int printers_panel_token_revoke(pp_core_t *core, const char *actor, int64_t id, bool *revoked_r,
                                char *error, size_t error_size)
{
	pp_db_value_t params[] = {DB_INT(core_now(core)), DB_INT(id)};
	int64_t changes = 0;
	int rc = printers_change(core, actor, id, "printer.panel_token.revoke",
	                         "UPDATE printers SET panel_token_hash = NULL, updated_at = $1"
	                         " WHERE id = $2 AND panel_token_hash IS NOT NULL",
	                         params, 2, NULL, NULL, &changes, error, error_size);
	if (revoked_r != NULL)
		*revoked_r = rc == 0 && changes > 0;
	return rc;
}
