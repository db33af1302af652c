/* accounting.c - accounting records and their CSV/JSON export; see accounting.h. */
#include "core/accounting.h"

#include "core/job.h"
#include "core/options.h"
#include "core/printer-caps.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Rows read from the database per batch during an export. */
#define ACCOUNTING_BATCH 500
/* One CSV line: 19 cells of at most 256 bytes, each doubled by quoting at worst. */
#define ACCOUNTING_LINE_MAX 16384

#define ACCOUNTING_COLUMNS                                                                         \
	"id, job_uuid, user_email, department, printer_name, source, title, final_state,"          \
	" pages_mono, pages_color, sheets, copies, sides, media, number_up, size_bytes,"           \
	" submitted_at, finished_at, printer_mac, server_name"

/* This host's name for the row, "localhost" when it has none. */
static void accounting_server_name(char name[ACCOUNTING_TEXT_MAX])
{
	if (gethostname(name, ACCOUNTING_TEXT_MAX) < 0 || name[0] == '\0')
		(void)str_copy(name, ACCOUNTING_TEXT_MAX, "localhost");
	name[ACCOUNTING_TEXT_MAX - 1] = '\0';
}

int accounting_record_locked(pp_core_t *core, int64_t job_id, pp_job_state_t final_state,
                             int64_t finished_at, char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	if (db_query(core->db,
	             "SELECT j.uuid, u.email, u.department, COALESCE(p.name, ''), j.source,"
	             " j.title, j.options, j.pages, j.color_pages, j.size_bytes, j.created_at,"
	             " COALESCE(p.capabilities, '{}')"
	             " FROM jobs j JOIN users u ON u.id = j.user_id"
	             " LEFT JOIN printers p ON p.id = j.printer_id WHERE j.id = $1",
	             params, 1, &res, error, error_size) != DB_OK)
		return -1;
	if (db_result_rows(res) == 0) {
		db_result_free(&res);
		(void)str_format(error, error_size, "accounting: job %lld does not exist",
		                 (long long)job_id);
		return -1;
	}
	pp_print_options_t opts;
	char opt_error[256];
	if (options_from_json(db_result_text(res, 0, 6), &opts, opt_error, sizeof(opt_error)) < 0) {
		log_warn("accounting.bad_options job=%lld error=\"%s\"", (long long)job_id, opt_error);
		options_default(&opts);
	}
	/* Pages per copy as printed; colour pages among them (none in monochrome). */
	int64_t pages = db_result_is_null(res, 0, 7) ? 0 : db_result_int(res, 0, 7);
	int64_t color = db_result_is_null(res, 0, 8) ? 0 : db_result_int(res, 0, 8);
	if (pages < 0)
		pages = 0;
	if (color < 0 || opts.color_mode == PP_COLOR_MONOCHROME)
		color = 0;
	if (color > pages)
		color = pages;
	int64_t copies = opts.copies;

	char title[ACCOUNTING_TEXT_MAX];
	job_text_copy(title, sizeof(title), db_result_text(res, 0, 5));
	/* The MAC address as detected (SNMP) or set by the admin; unreadable caps give "". */
	char mac[sizeof(((pp_printer_caps_t *)0)->mac_address)] = "";
	pp_printer_caps_t *caps = malloc(sizeof(*caps));
	if (caps != NULL && printer_caps_from_json(db_result_text(res, 0, 11), caps, opt_error,
	                                           sizeof(opt_error)) == 0)
		(void)str_copy(mac, sizeof(mac), caps->mac_address);
	free(caps);
	char server[ACCOUNTING_TEXT_MAX];
	accounting_server_name(server);
	pp_db_value_t row[] = {
	    DB_TEXT(db_result_text(res, 0, 0)), /* job_uuid */
	    DB_TEXT(db_result_text(res, 0, 1)), /* user_email */
	    DB_TEXT(db_result_text(res, 0, 2)), /* department */
	    DB_TEXT(db_result_text(res, 0, 3)), /* printer_name */
	    DB_TEXT(db_result_text(res, 0, 4)), /* source */
	    DB_TEXT(title),
	    DB_TEXT(job_state_name(final_state)),
	    DB_INT((pages - color) * copies),
	    DB_INT(color * copies),
	    DB_INT(options_sheets(&opts, pages)),
	    DB_INT(copies),
	    DB_TEXT(options_sides_name(opts.sides)),
	    DB_TEXT(opts.media),
	    DB_INT(opts.number_up),
	    DB_INT(db_result_int(res, 0, 9)),  /* size_bytes */
	    DB_INT(db_result_int(res, 0, 10)), /* submitted_at */
	    DB_INT(finished_at),
	    DB_TEXT(mac),
	    DB_TEXT(server),
	};
	int rc = db_exec(core->db,
	                 "INSERT INTO accounting (job_uuid, user_email, department, printer_name,"
	                 " source, title, final_state, pages_mono, pages_color, sheets, copies,"
	                 " sides, media, number_up, size_bytes, submitted_at, finished_at,"
	                 " printer_mac, server_name)"
	                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
	                 " $15, $16, $17, $18, $19)",
	                 row, sizeof(row) / sizeof(row[0]), NULL, error, error_size);
	db_result_free(&res);
	return rc == DB_OK ? 0 : -1;
}

static void accounting_from_row(const pp_db_result_t *res, size_t i, pp_accounting_record_t *r)
{
	memset(r, 0, sizeof(*r));
	r->id = db_result_int(res, i, 0);
	job_text_copy(r->job_uuid, sizeof(r->job_uuid), db_result_text(res, i, 1));
	job_text_copy(r->user_email, sizeof(r->user_email), db_result_text(res, i, 2));
	job_text_copy(r->department, sizeof(r->department), db_result_text(res, i, 3));
	job_text_copy(r->printer_name, sizeof(r->printer_name), db_result_text(res, i, 4));
	job_text_copy(r->source, sizeof(r->source), db_result_text(res, i, 5));
	job_text_copy(r->title, sizeof(r->title), db_result_text(res, i, 6));
	job_text_copy(r->final_state, sizeof(r->final_state), db_result_text(res, i, 7));
	r->pages_mono = db_result_int(res, i, 8);
	r->pages_color = db_result_int(res, i, 9);
	r->sheets = db_result_int(res, i, 10);
	r->copies = db_result_int(res, i, 11);
	job_text_copy(r->sides, sizeof(r->sides), db_result_text(res, i, 12));
	job_text_copy(r->media, sizeof(r->media), db_result_text(res, i, 13));
	r->number_up = db_result_int(res, i, 14);
	r->size_bytes = db_result_int(res, i, 15);
	r->submitted_at = db_result_int(res, i, 16);
	r->finished_at = db_result_int(res, i, 17);
	job_text_copy(r->printer_mac, sizeof(r->printer_mac), db_result_text(res, i, 18));
	job_text_copy(r->server_name, sizeof(r->server_name), db_result_text(res, i, 19));
}

int accounting_get(pp_core_t *core, const char *job_uuid, pp_accounting_record_t *record_r,
                   char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_TEXT(job_uuid)};
	if (db_query(core->db, "SELECT " ACCOUNTING_COLUMNS " FROM accounting WHERE job_uuid = $1",
	             params, 1, &res, error, error_size) != DB_OK)
		return JOB_ERROR;
	int rc = JOB_OK;
	if (db_result_rows(res) == 0) {
		(void)str_format(error, error_size, "no accounting record for this job");
		rc = JOB_NOT_FOUND;
	} else {
		accounting_from_row(res, 0, record_r);
	}
	db_result_free(&res);
	return rc;
}

void accounting_pseudonym(const pp_core_t *core, const char *email,
                          char out[ACCOUNTING_PSEUDONYM_LEN + 1])
{
	char hash[CRYPTO_HASH_HEX_LEN + 1];
	crypto_keyed_hash_hex(core->pseudonym_key, email, strlen(email), hash);
	out[0] = 'u';
	out[1] = '-';
	memcpy(out + 2, hash, ACCOUNTING_PSEUDONYM_LEN - 2);
	out[ACCOUNTING_PSEUDONYM_LEN] = '\0';
	crypto_wipe(hash, sizeof(hash));
}

/* UTC ISO 8601 ("2024-05-01T09:30:00Z") into buf[32]. */
static void accounting_time(int64_t t, char buf[32])
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)str_format(buf, 32, "%lld", (long long)t);
}

/* A line being assembled, bounded. */
typedef struct {
	char data[ACCOUNTING_LINE_MAX];
	size_t len;
	bool is_full;
} accounting_line_t;

static void accounting_put(accounting_line_t *line, const char *s, size_t len)
{
	if (line->is_full || len >= sizeof(line->data) - line->len) {
		line->is_full = true;
		return;
	}
	memcpy(line->data + line->len, s, len);
	line->len += len;
	line->data[line->len] = '\0';
}

/*
 * One CSV text cell: a leading ' defuses = + - @ tab CR (spreadsheet formulas); the cell is
 * quoted when it holds a comma, quote, CR or LF, with quotes doubled (RFC 4180).
 */
static void accounting_csv_text(accounting_line_t *line, const char *value, bool is_last)
{
	bool is_formula = value[0] == '=' || value[0] == '+' || value[0] == '-' ||
	                  value[0] == '@' || value[0] == '\t' || value[0] == '\r';
	bool needs_quotes = strpbrk(value, ",\"\r\n") != NULL;
	if (needs_quotes)
		accounting_put(line, "\"", 1);
	if (is_formula)
		accounting_put(line, "'", 1);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"')
			accounting_put(line, "\"\"", 2);
		else
			accounting_put(line, p, 1);
	}
	if (needs_quotes)
		accounting_put(line, "\"", 1);
	if (is_last)
		accounting_put(line, "\r\n", 2);
	else
		accounting_put(line, ",", 1);
}

static void accounting_csv_int(accounting_line_t *line, int64_t value)
{
	char buf[32];
	(void)str_format(buf, sizeof(buf), "%lld,", (long long)value);
	accounting_put(line, buf, strlen(buf));
}

static const char accounting_csv_header[] =
    "job_uuid,user,department,printer,source,title,final_state,pages_mono,pages_color,"
    "sheets,copies,sides,media,number_up,size_bytes,submitted_at,finished_at,printer_mac,"
    "server_name\r\n";

static void accounting_csv_row(const pp_accounting_record_t *r, const char *user, const char *title,
                               accounting_line_t *line)
{
	char submitted[32], finished[32];
	accounting_time(r->submitted_at, submitted);
	accounting_time(r->finished_at, finished);
	accounting_csv_text(line, r->job_uuid, false);
	accounting_csv_text(line, user, false);
	accounting_csv_text(line, r->department, false);
	accounting_csv_text(line, r->printer_name, false);
	accounting_csv_text(line, r->source, false);
	accounting_csv_text(line, title, false);
	accounting_csv_text(line, r->final_state, false);
	accounting_csv_int(line, r->pages_mono);
	accounting_csv_int(line, r->pages_color);
	accounting_csv_int(line, r->sheets);
	accounting_csv_int(line, r->copies);
	accounting_csv_text(line, r->sides, false);
	accounting_csv_text(line, r->media, false);
	accounting_csv_int(line, r->number_up);
	accounting_csv_int(line, r->size_bytes);
	accounting_csv_text(line, submitted, false);
	accounting_csv_text(line, finished, false);
	accounting_csv_text(line, r->printer_mac, false);
	accounting_csv_text(line, r->server_name, true);
}

/* One JSON object (compact, keys in column order). Returns -1 when out of memory. */
static int accounting_json_row(const pp_accounting_record_t *r, const char *user, const char *title,
                               accounting_line_t *line)
{
	char submitted[32], finished[32];
	accounting_time(r->submitted_at, submitted);
	accounting_time(r->finished_at, finished);
	json_t *o = json_object();
	if (o == NULL)
		return -1;
	int rc = 0;
	rc |= json_object_set_new(o, "job_uuid", json_string(r->job_uuid));
	rc |= json_object_set_new(o, "user", json_string(user));
	rc |= json_object_set_new(o, "department", json_string(r->department));
	rc |= json_object_set_new(o, "printer", json_string(r->printer_name));
	rc |= json_object_set_new(o, "source", json_string(r->source));
	rc |= json_object_set_new(o, "title", json_string(title));
	rc |= json_object_set_new(o, "final_state", json_string(r->final_state));
	rc |= json_object_set_new(o, "pages_mono", json_integer(r->pages_mono));
	rc |= json_object_set_new(o, "pages_color", json_integer(r->pages_color));
	rc |= json_object_set_new(o, "sheets", json_integer(r->sheets));
	rc |= json_object_set_new(o, "copies", json_integer(r->copies));
	rc |= json_object_set_new(o, "sides", json_string(r->sides));
	rc |= json_object_set_new(o, "media", json_string(r->media));
	rc |= json_object_set_new(o, "number_up", json_integer(r->number_up));
	rc |= json_object_set_new(o, "size_bytes", json_integer(r->size_bytes));
	rc |= json_object_set_new(o, "submitted_at", json_string(submitted));
	rc |= json_object_set_new(o, "finished_at", json_string(finished));
	rc |= json_object_set_new(o, "printer_mac", json_string(r->printer_mac));
	rc |= json_object_set_new(o, "server_name", json_string(r->server_name));
	char *text = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (text == NULL)
		return -1;
	accounting_put(line, text, strlen(text));
	free(text);
	return 0;
}

/* Writes a finished line, or fails on a line too long or a failed write. */
static int accounting_emit(pp_accounting_write_fn *write, void *ctx, accounting_line_t *line,
                           char *error, size_t error_size)
{
	if (line->is_full) {
		(void)str_format(error, error_size, "accounting export: a record is too long");
		return -1;
	}
	if (line->len > 0 && write(ctx, line->data, line->len) < 0) {
		(void)str_format(error, error_size,
		                 "accounting export: writing the output failed; check the "
		                 "destination (disk space, permissions)");
		return -1;
	}
	line->len = 0;
	line->data[0] = '\0';
	return 0;
}

int accounting_export(pp_core_t *core, const pp_accounting_export_t *request,
                      pp_accounting_write_fn *write, void *ctx, char *error, size_t error_size)
{
	bool is_json = request->format == PP_ACCOUNTING_JSON;
	int64_t since = request->since;
	int64_t until = request->until > 0 ? request->until : INT64_MAX;
	/* Keyset paging: (finished_at, id) after the last row of the batch before. */
	int64_t last_finished = INT64_MIN, last_id = 0;
	size_t written = 0;
	accounting_line_t *line = calloc(1, sizeof(*line));
	if (line == NULL) {
		(void)str_format(error, error_size, "accounting export: out of memory");
		return -1;
	}
	if (!is_json)
		accounting_put(line, accounting_csv_header, strlen(accounting_csv_header));
	int rc = accounting_emit(write, ctx, line, error, error_size);
	for (bool is_done = false; rc == 0 && !is_done;) {
		pp_db_result_t *res = NULL;
		pp_db_value_t params[] = {DB_INT(since), DB_INT(until), DB_INT(last_finished),
		                          DB_INT(last_id), DB_INT(ACCOUNTING_BATCH)};
		if (db_query(core->db,
		             "SELECT " ACCOUNTING_COLUMNS " FROM accounting"
		             " WHERE finished_at >= $1 AND finished_at < $2"
		             " AND (finished_at > $3 OR (finished_at = $3 AND id > $4))"
		             " ORDER BY finished_at, id LIMIT $5",
		             params, 5, &res, error, error_size) != DB_OK) {
			rc = -1;
			break;
		}
		size_t rows = db_result_rows(res);
		is_done = rows < ACCOUNTING_BATCH;
		for (size_t i = 0; rc == 0 && i < rows; i++) {
			pp_accounting_record_t r;
			char pseudonym[ACCOUNTING_PSEUDONYM_LEN + 1];
			accounting_from_row(res, i, &r);
			const char *user = r.user_email;
			const char *title = r.title;
			if (request->is_pseudonymised) {
				accounting_pseudonym(core, r.user_email, pseudonym);
				user = pseudonym;
				title = "";
			}
			if (is_json) {
				accounting_put(line, written == 0 ? "[\n" : ",\n", 2);
				if (accounting_json_row(&r, user, title, line) < 0) {
					(void)str_format(error, error_size,
					                 "accounting export: out of memory");
					rc = -1;
					break;
				}
			} else {
				accounting_csv_row(&r, user, title, line);
			}
			rc = accounting_emit(write, ctx, line, error, error_size);
			written++;
			last_finished = r.finished_at;
			last_id = r.id;
		}
		db_result_free(&res);
	}
	if (rc == 0 && is_json) {
		const char *end = written == 0 ? "[]\n" : "\n]\n";
		accounting_put(line, end, strlen(end));
		rc = accounting_emit(write, ctx, line, error, error_size);
	}
	free(line);
	if (rc == 0)
		log_info("accounting.exported records=%zu format=%s pseudonymised=%s", written,
		         is_json ? "json" : "csv", request->is_pseudonymised ? "yes" : "no");
	return rc;
}

static int accounting_file_write(void *ctx, const char *data, size_t len)
{
	FILE *out = ctx;
	return fwrite(data, 1, len, out) == len ? 0 : -1;
}

int accounting_export_file(pp_core_t *core, const pp_accounting_export_t *request, FILE *out,
                           char *error, size_t error_size)
{
	if (accounting_export(core, request, accounting_file_write, out, error, error_size) < 0)
		return -1;
	if (fflush(out) != 0) {
		(void)str_format(error, error_size,
		                 "accounting export: flushing the output failed: %s; check the "
		                 "destination",
		                 strerror(errno));
		return -1;
	}
	return 0;
}
