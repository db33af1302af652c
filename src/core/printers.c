/* printers.c - the printer registry; see printers.h. */
#include "core/printers.h"

#include "core/audit.h"
#include "core/job.h"
#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

#define PRINTERS_COLUMNS                                                                           \
	"id, name, alias, location, description, device_uri, is_enabled, created_at,"              \
	" updated_at"

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

/* Validates the text fields of a printer before it is stored. */
static int printers_check(const pp_printer_t *p, const char *alias, char *error, size_t error_size)
{
	if (!printers_name_is_valid(p->name)) {
		(void)str_format(error, error_size,
		                 "name: use 1..127 letters, digits, '-', '_' or '.', starting "
		                 "with a letter or digit");
		return -1;
	}
	if (!printers_name_is_valid(alias)) {
		(void)str_format(error, error_size,
		                 "alias: use 1..127 letters, digits, '-', '_' or '.', starting "
		                 "with a letter or digit");
		return -1;
	}
	if (memchr(p->location, '\0', sizeof(p->location)) == NULL ||
	    memchr(p->description, '\0', sizeof(p->description)) == NULL) {
		(void)str_format(error, error_size, "location and description: at most %d bytes",
		                 PRINTERS_TEXT_MAX - 1);
		return -1;
	}
	return printers_uri_validate(p->device_uri, error, error_size);
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
}

int printers_add(pp_core_t *core, const char *actor, const pp_printer_t *printer, int64_t *id_r,
                 char *error, size_t error_size)
{
	char alias[PRINTERS_NAME_MAX];
	if (!str_copy(alias, sizeof(alias),
	              printer->alias[0] != '\0' ? printer->alias : printer->name)) {
		(void)str_format(error, error_size, "alias: longer than %d characters",
		                 PRINTERS_NAME_MAX - 1);
		return -1;
	}
	str_lower_ascii(alias);
	if (printers_check(printer, alias, error, error_size) < 0)
		return -1;

	int64_t now = core_now(core);
	pp_db_result_t *res = NULL;
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	/* Names and aliases share one namespace, compared without case. */
	pp_db_value_t check[] = {DB_TEXT(printer->name), DB_TEXT(alias)};
	if (db_query(core->db,
	             "SELECT name FROM printers WHERE lower(name) IN (lower($1), $2)"
	             " OR alias IN (lower($1), $2) LIMIT 1",
	             check, 2, &res, error, error_size) != DB_OK)
		goto fail;
	if (db_result_rows(res) > 0) {
		(void)str_format(error, error_size,
		                 "printer %s or alias %s is already used by printer %.127s; "
		                 "choose another",
		                 printer->name, alias, db_result_text(res, 0, 0));
		db_result_free(&res);
		db_tx_rollback(core->db);
		return PRINTERS_DUPLICATE;
	}
	db_result_free(&res);
	pp_db_value_t params[] = {
	    DB_TEXT(printer->name),
	    DB_TEXT(alias),
	    DB_TEXT(printer->location),
	    DB_TEXT(printer->description),
	    DB_TEXT(printer->device_uri),
	    DB_INT(printer->is_enabled ? 1 : 0),
	    DB_INT(now),
	};
	int rc = db_exec(core->db,
	                 "INSERT INTO printers (name, alias, location, description, device_uri,"
	                 " is_enabled, created_at, updated_at)"
	                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
	                 params, sizeof(params) / sizeof(params[0]), NULL, error, error_size);
	if (rc == DB_DUPLICATE) {
		db_tx_rollback(core->db);
		(void)str_format(error, error_size,
		                 "printer %s or alias %s is already used; choose another",
		                 printer->name, alias);
		return PRINTERS_DUPLICATE;
	}
	if (rc != DB_OK)
		goto fail;
	if (db_query(core->db, "SELECT id FROM printers WHERE name = $1", params, 1, &res, error,
	             error_size) != DB_OK)
		goto fail;
	int64_t id = db_result_rows(res) == 1 ? db_result_int(res, 0, 0) : 0;
	db_result_free(&res);
	if (audit_record(core, actor != NULL ? actor : "system", "printer.add", printer->name,
	                 printer->device_uri, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, error, error_size) != DB_OK)
		return -1;
	if (id_r != NULL)
		*id_r = id;
	log_info("printer.added printer=%s alias=%s", printer->name, alias);
	return 0;
fail:
	db_result_free(&res);
	db_tx_rollback(core->db);
	return -1;
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

int printers_list(pp_core_t *core, pp_printer_t **printers_r, size_t *count_r, char *error,
                  size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(PRINTERS_LIST_MAX)};
	*printers_r = NULL;
	*count_r = 0;
	if (db_query(core->db,
	             "SELECT " PRINTERS_COLUMNS " FROM printers ORDER BY lower(name), id LIMIT $1",
	             params, 1, &res, error, error_size) != DB_OK)
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
                           const char *refuse_sql, const char *refuse_message, char *error,
                           size_t error_size)
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
	                       params, 3, NULL, NULL, error, error_size);
}

int printers_remove(pp_core_t *core, const char *actor, int64_t id, char *error, size_t error_size)
{
	pp_db_value_t params[] = {DB_INT(id)};
	return printers_change(
	    core, actor, id, "printer.remove", "DELETE FROM printers WHERE id = $1", params, 1,
	    "SELECT id FROM jobs WHERE printer_id = $1"
	    " AND state IN ('releasing','printing') LIMIT 1",
	    "jobs are being printed on it; wait for them or cancel them first", error, error_size);
}
