/*
 * printers-io.c - the printer registry in bulk: export as CSV or JSON, and import from either
 * in one transaction (an asset list rolled out at once, or not at all); see printers.h.
 *
 * Both formats become the same rows of optional cells (a column that is absent keeps the
 * printer's value), so one function checks and stores a row whatever it came from. Rows are
 * stored as they are read, inside the transaction, so that collisions between rows of the
 * same file (two rows claiming one alias) are found exactly as the database would find them;
 * a dry run or any invalid row rolls the whole transaction back.
 */
#include "core/printers.h"

#include "core/job.h"
#include "core/printers-private.h"
#include "lib/log.h"
#include "lib/str.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PRINTERS_IO_CELL_MAX 16384 /* the longest cell read (capabilities JSON is the longest) */

/* The columns, in export order; CSV headers and JSON keys alike. */
enum {
	COL_NAME = 0,
	COL_ALIAS,
	COL_LOCATION,
	COL_DESCRIPTION,
	COL_DEVICE_URI,
	COL_ENABLED,
	COL_OUTPUT_FORMAT,
	COL_GROUP,
	COL_CAPABILITIES,
	COL_TLS_PIN,
	COL_COUNT,
};
static const char *const printers_io_columns[COL_COUNT] = {
    "name",    "alias",         "location", "description",  "device_uri",
    "enabled", "output_format", "group",    "capabilities", "tls_pin",
};
#define PRINTERS_IO_COLUMN_LIST                                                                    \
	"name, alias, location, description, device_uri, enabled, output_format, group, "          \
	"capabilities, tls_pin"

const char *printers_row_action_name(pp_printers_row_action_t action)
{
	switch (action) {
	case PP_PRINTERS_ROW_ADDED:
		return "added";
	case PP_PRINTERS_ROW_UPDATED:
		return "updated";
	case PP_PRINTERS_ROW_UNCHANGED:
		return "unchanged";
	case PP_PRINTERS_ROW_INVALID:
		break;
	}
	return "invalid";
}

/* ---- export ---- */

/* The text cells of printer p in column order; *caps_r is new (free()). NULL on no memory. */
static bool printers_io_cells(const pp_printer_t *p, const char *cells[COL_COUNT], char **caps_r)
{
	*caps_r = printer_caps_to_json(&p->caps);
	cells[COL_NAME] = p->name;
	cells[COL_ALIAS] = p->alias;
	cells[COL_LOCATION] = p->location;
	cells[COL_DESCRIPTION] = p->description;
	cells[COL_DEVICE_URI] = p->device_uri;
	cells[COL_ENABLED] = p->is_enabled ? "yes" : "no";
	cells[COL_OUTPUT_FORMAT] = p->output_format;
	cells[COL_GROUP] = p->group_name;
	cells[COL_CAPABILITIES] = *caps_r;
	cells[COL_TLS_PIN] = p->tls_pin;
	return *caps_r != NULL;
}

/* Writes one CSV cell, quoted when it holds a comma, quote, line break or edge space. */
static bool printers_io_csv_cell(FILE *f, const char *cell, bool is_last)
{
	size_t len = strlen(cell);
	bool needs_quotes = strpbrk(cell, ",\"\r\n") != NULL ||
	                    (len > 0 && (cell[0] == ' ' || cell[len - 1] == ' '));
	bool ok = true;
	if (needs_quotes) {
		ok = fputc('"', f) != EOF;
		for (const char *c = cell; ok && *c != '\0'; c++)
			ok = (*c != '"' || fputc('"', f) != EOF) && fputc(*c, f) != EOF;
		ok = ok && fputc('"', f) != EOF;
	} else {
		ok = fputs(cell, f) != EOF;
	}
	return ok && fputs(is_last ? "\r\n" : ",", f) != EOF;
}

int printers_export_csv(pp_core_t *core, char **text_r, char *error, size_t error_size)
{
	pp_printer_t *list = NULL;
	size_t count = 0;
	*text_r = NULL;
	if (printers_list(core, &list, &count, error, error_size) < 0)
		return -1;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	bool ok = f != NULL;
	for (size_t c = 0; ok && c < COL_COUNT; c++)
		ok = printers_io_csv_cell(f, printers_io_columns[c], c + 1 == COL_COUNT);
	for (size_t i = 0; ok && i < count; i++) {
		const char *cells[COL_COUNT];
		char *caps = NULL;
		ok = printers_io_cells(&list[i], cells, &caps);
		for (size_t c = 0; ok && c < COL_COUNT; c++)
			ok = printers_io_csv_cell(f, cells[c], c + 1 == COL_COUNT);
		free(caps);
	}
	printers_list_free(&list);
	if (f != NULL && fclose(f) != 0)
		ok = false;
	if (!ok) {
		free(text);
		(void)str_format(error, error_size, "printers export: out of memory");
		return -1;
	}
	*text_r = text;
	return 0;
}

int printers_export_json(pp_core_t *core, char **text_r, char *error, size_t error_size)
{
	pp_printer_t *list = NULL;
	size_t count = 0;
	*text_r = NULL;
	if (printers_list(core, &list, &count, error, error_size) < 0)
		return -1;
	json_t *array = json_array();
	bool ok = array != NULL;
	for (size_t i = 0; ok && i < count; i++) {
		const char *cells[COL_COUNT];
		char *caps = NULL;
		json_t *obj = json_object();
		ok = obj != NULL && printers_io_cells(&list[i], cells, &caps);
		for (size_t c = 0; ok && c < COL_COUNT; c++) {
			json_t *value;
			if (c == COL_ENABLED)
				value = json_boolean(list[i].is_enabled);
			else if (c == COL_CAPABILITIES)
				value = json_loads(caps, 0, NULL);
			else
				value = json_string(cells[c]);
			ok = json_object_set_new(obj, printers_io_columns[c], value) == 0;
		}
		free(caps);
		ok = ok && json_array_append_new(array, obj) == 0;
		if (!ok)
			json_decref(obj);
	}
	printers_list_free(&list);
	char *text = ok ? json_dumps(array, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(array);
	if (text == NULL) {
		(void)str_format(error, error_size, "printers export: out of memory");
		return -1;
	}
	*text_r = text;
	return 0;
}

int printers_export(pp_core_t *core, pp_printers_format_t format, char **text_r, char *error,
                    size_t error_size)
{
	return format == PP_PRINTERS_JSON ? printers_export_json(core, text_r, error, error_size)
	                                  : printers_export_csv(core, text_r, error, error_size);
}

/* ---- import: one row ---- */

/* One row to import: its cells by column (NULL = column absent), new strings. */
typedef struct {
	size_t line;
	char *cells[COL_COUNT];
} printers_io_row_t;

static void printers_io_row_clear(printers_io_row_t *row)
{
	for (size_t c = 0; c < COL_COUNT; c++) {
		free(row->cells[c]);
		row->cells[c] = NULL;
	}
}

/* The import in progress: the report being written and the names seen so far. */
typedef struct {
	pp_core_t *core;
	const char *actor;
	pp_printers_import_report_t *report;
	size_t rows_cap;
} printers_io_import_t;

/* Appends a report row for line; NULL on no memory. */
static pp_printers_import_row_t *printers_io_report_row(printers_io_import_t *im, size_t line,
                                                        const char *name)
{
	pp_printers_import_report_t *r = im->report;
	if (r->n_rows == im->rows_cap) {
		size_t cap = im->rows_cap > 0 ? im->rows_cap * 2 : 64;
		pp_printers_import_row_t *rows = realloc(r->rows, cap * sizeof(*rows));
		if (rows == NULL)
			return NULL;
		r->rows = rows;
		im->rows_cap = cap;
	}
	pp_printers_import_row_t *out = &r->rows[r->n_rows++];
	memset(out, 0, sizeof(*out));
	out->line = line;
	job_text_copy(out->name, sizeof(out->name), name);
	return out;
}

/* Marks out invalid: field at fault ("" for the row) and the message. */
static void printers_io_invalid(printers_io_import_t *im, pp_printers_import_row_t *out,
                                const char *field, const char *message)
{
	out->action = PP_PRINTERS_ROW_INVALID;
	(void)str_copy(out->field, sizeof(out->field), field != NULL ? field : "");
	job_text_copy(out->message, sizeof(out->message), message);
	im->report->n_invalid++;
}

/* Copies cell into a fixed field of the printer, or reports it too long. */
static bool printers_io_text(printers_io_import_t *im, pp_printers_import_row_t *out, char *dst,
                             size_t size, const char *cell, const char *column)
{
	if (str_copy(dst, size, cell))
		return true;
	char message[128];
	(void)str_format(message, sizeof(message), "%s: at most %zu bytes", column, size - 1);
	printers_io_invalid(im, out, column, message);
	return false;
}

/*
 * Checks and stores one row inside the import's transaction, reporting what it did.
 * Returns 0 (also for an invalid row: the report says so) or -1 on a storage error.
 */
static int printers_io_import_row(printers_io_import_t *im, const printers_io_row_t *row,
                                  char *error, size_t error_size)
{
	char *const *cells = row->cells;
	const char *name = cells[COL_NAME] != NULL ? cells[COL_NAME] : "";
	pp_printers_import_row_t *out = printers_io_report_row(im, row->line, name);
	if (out == NULL) {
		(void)str_format(error, error_size, "printers import: out of memory");
		return -1;
	}
	if (name[0] == '\0') {
		printers_io_invalid(im, out, "name", "name: required: the printer to add or update");
		return 0;
	}
	/* A name twice in one file would silently let the later row win: refuse it. */
	for (size_t i = 0; i + 1 < im->report->n_rows; i++) {
		if (strcasecmp(im->report->rows[i].name, name) == 0) {
			char message[96];
			(void)str_format(message, sizeof(message), "name: already on line %zu",
			                 im->report->rows[i].line);
			printers_io_invalid(im, out, "name", message);
			return 0;
		}
	}

	pp_printer_t old, p;
	int found = printers_find_name(im->core, name, &old, error, error_size);
	if (found != 0 && found != PRINTERS_NOT_FOUND)
		return -1;
	bool is_new = found == PRINTERS_NOT_FOUND;
	if (is_new)
		printers_init(&p);
	else
		p = old;
	if (!printers_io_text(im, out, p.name, sizeof(p.name), name, "name"))
		return 0;
	if (is_new && (cells[COL_DEVICE_URI] == NULL || cells[COL_DEVICE_URI][0] == '\0')) {
		printers_io_invalid(im, out, "device_uri",
		                    "device_uri: required for a new printer (ipp://, ipps://, "
		                    "socket:// or lpd://)");
		return 0;
	}
	struct {
		int column;
		char *dst;
		size_t size;
	} texts[] = {
	    {COL_ALIAS, p.alias, sizeof(p.alias)},
	    {COL_LOCATION, p.location, sizeof(p.location)},
	    {COL_DESCRIPTION, p.description, sizeof(p.description)},
	    {COL_DEVICE_URI, p.device_uri, sizeof(p.device_uri)},
	    {COL_OUTPUT_FORMAT, p.output_format, sizeof(p.output_format)},
	    {COL_GROUP, p.group_name, sizeof(p.group_name)},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *cell = cells[texts[i].column];
		/* A printer always has an address: an empty cell keeps the one it has. */
		if (texts[i].column == COL_DEVICE_URI && cell != NULL && cell[0] == '\0')
			continue;
		if (cell != NULL && !printers_io_text(im, out, texts[i].dst, texts[i].size, cell,
		                                      printers_io_columns[texts[i].column]))
			return 0;
	}
	/* Empty enabled and capabilities cells keep what the printer has, too. */
	if (cells[COL_ENABLED] != NULL && cells[COL_ENABLED][0] != '\0' &&
	    !parse_bool_full(cells[COL_ENABLED], &p.is_enabled)) {
		printers_io_invalid(im, out, "enabled", "enabled: use yes or no (or leave it empty)");
		return 0;
	}
	/* A fingerprint may come in the colon form openssl prints; "" removes the pin. */
	if (cells[COL_TLS_PIN] != NULL && cells[COL_TLS_PIN][0] != '\0' &&
	    !printers_tls_pin_parse(cells[COL_TLS_PIN], p.tls_pin)) {
		printers_io_invalid(im, out, "tls_pin",
		                    "tls_pin: the certificate's SHA-256 fingerprint as 64 hex digits "
		                    "(or leave it empty for CA verification)");
		return 0;
	}
	if (cells[COL_TLS_PIN] != NULL && cells[COL_TLS_PIN][0] == '\0')
		p.tls_pin[0] = '\0';
	if (cells[COL_CAPABILITIES] != NULL && cells[COL_CAPABILITIES][0] != '\0') {
		char message[320];
		if (printer_caps_from_json(cells[COL_CAPABILITIES], &p.caps, message,
		                           sizeof(message)) < 0) {
			printers_io_invalid(im, out, "capabilities", message);
			return 0;
		}
	}

	const char *field = NULL;
	bool is_changed = false;
	char message[320];
	int rc = printers_write_locked(im->core, im->actor, is_new ? NULL : &old, &p, NULL,
	                               &is_changed, &field, message, sizeof(message));
	if (rc == PRINTERS_INVALID || rc == PRINTERS_DUPLICATE) {
		printers_io_invalid(im, out, field, message);
		return 0;
	}
	if (rc != 0) {
		(void)str_format(error, error_size, "printers import: line %zu: %s", row->line,
		                 message);
		return -1;
	}
	out->action = is_new      ? PP_PRINTERS_ROW_ADDED
	              : is_changed ? PP_PRINTERS_ROW_UPDATED
	                           : PP_PRINTERS_ROW_UNCHANGED;
	if (is_new)
		im->report->n_added++;
	else if (is_changed)
		im->report->n_updated++;
	else
		im->report->n_unchanged++;
	return 0;
}

/* ---- import: CSV ---- */

/* A CSV reader over data[len]: the cursor and the line it is on. */
typedef struct {
	const char *data;
	size_t len, pos, line;
} printers_io_csv_t;

/*
 * Reads the next record's cells (RFC 4180: quoted cells may hold commas, "" and line breaks;
 * unquoted cells are trimmed of spaces) into cells[max] (new strings), *n_r cells,
 * *line_r the line it starts on. Returns 1 for a record, 0 at the end, -1 on a malformed or
 * oversized one with message filled (the reader then stands at the end).
 */
static int printers_io_csv_record(printers_io_csv_t *csv, char **cells, size_t max, size_t *n_r,
                                  size_t *line_r, char *message, size_t message_size)
{
	*n_r = 0;
	if (csv->pos >= csv->len)
		return 0;
	*line_r = csv->line;
	char *cell = malloc(PRINTERS_IO_CELL_MAX);
	if (cell == NULL) {
		(void)str_format(message, message_size, "out of memory");
		return -1;
	}
	const char *d = csv->data;
	for (;;) {
		size_t n = 0;
		bool is_too_long = false;
		/* Leading spaces of an unquoted cell, or before an opening quote, are dropped. */
		while (csv->pos < csv->len && (d[csv->pos] == ' ' || d[csv->pos] == '\t'))
			csv->pos++;
		if (csv->pos < csv->len && d[csv->pos] == '"') {
			csv->pos++;
			for (;;) {
				if (csv->pos >= csv->len) {
					(void)str_format(message, message_size,
					                 "a quoted cell is not closed");
					goto malformed;
				}
				char c = d[csv->pos++];
				if (c == '"') {
					if (csv->pos < csv->len && d[csv->pos] == '"')
						csv->pos++;
					else
						break;
				}
				if (c == '\n')
					csv->line++;
				if (n + 1 < PRINTERS_IO_CELL_MAX)
					cell[n++] = c;
				else
					is_too_long = true;
			}
			while (csv->pos < csv->len && (d[csv->pos] == ' ' || d[csv->pos] == '\t'))
				csv->pos++;
		} else {
			while (csv->pos < csv->len && d[csv->pos] != ',' && d[csv->pos] != '\n' &&
			       d[csv->pos] != '\r') {
				if (n + 1 < PRINTERS_IO_CELL_MAX)
					cell[n++] = d[csv->pos];
				else
					is_too_long = true;
				csv->pos++;
			}
			while (n > 0 && (cell[n - 1] == ' ' || cell[n - 1] == '\t'))
				n--;
		}
		cell[n] = '\0';
		if (is_too_long) {
			(void)str_format(message, message_size, "cell %zu is longer than %d bytes",
			                 *n_r + 1, PRINTERS_IO_CELL_MAX - 1);
			goto malformed;
		}
		if (*n_r == max) {
			(void)str_format(message, message_size,
			                 "more cells than the header has columns");
			goto malformed;
		}
		cells[*n_r] = strdup(cell);
		if (cells[*n_r] == NULL) {
			(void)str_format(message, message_size, "out of memory");
			goto malformed;
		}
		(*n_r)++;
		if (csv->pos >= csv->len)
			break;
		char c = d[csv->pos++];
		if (c == ',')
			continue;
		if (c == '\r' && csv->pos < csv->len && d[csv->pos] == '\n')
			csv->pos++;
		if (c == '\r' || c == '\n') {
			csv->line++;
			break;
		}
		(void)str_format(message, message_size, "text after the closing quote of cell %zu",
		                 *n_r);
		goto malformed;
	}
	free(cell);
	return 1;
malformed:
	free(cell);
	for (size_t i = 0; i < *n_r; i++) {
		free(cells[i]);
		cells[i] = NULL;
	}
	*n_r = 0;
	csv->pos = csv->len;
	return -1;
}

/* True for a record that is one empty cell: a blank line. */
static bool printers_io_blank(char *const *cells, size_t n)
{
	return n == 1 && cells[0][0] == '\0';
}

/* Reads the header row into map[column index] = COL_…; -1 with error on a bad header. */
static int printers_io_csv_header(printers_io_csv_t *csv, int map[COL_COUNT], size_t *n_r,
                                  char *error, size_t error_size)
{
	char *cells[COL_COUNT] = {NULL};
	size_t n = 0, line = 1;
	char message[128];
	int rc;
	do {
		for (size_t i = 0; i < n; i++)
			free(cells[i]);
		rc = printers_io_csv_record(csv, cells, COL_COUNT, &n, &line, message,
		                            sizeof(message));
	} while (rc == 1 && printers_io_blank(cells, n));
	if (rc == 0) {
		(void)str_format(error, error_size,
		                 "printers import: the file is empty; its first line names the "
		                 "columns: " PRINTERS_IO_COLUMN_LIST);
		return -1;
	}
	if (rc < 0) {
		(void)str_format(error, error_size, "printers import: line %zu: %s", line, message);
		return -1;
	}
	bool has_name = false;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		str_lower_ascii(cells[i]);
		map[i] = -1;
		for (int c = 0; c < COL_COUNT; c++) {
			if (strcmp(cells[i], printers_io_columns[c]) == 0)
				map[i] = c;
		}
		for (size_t j = 0; j < i && map[i] >= 0; j++) {
			if (map[j] == map[i])
				map[i] = -2;
		}
		if (map[i] < 0) {
			(void)str_format(error, error_size,
			                 "printers import: line %zu: column \"%.40s\" is %s; the "
			                 "columns are " PRINTERS_IO_COLUMN_LIST,
			                 line, cells[i], map[i] == -2 ? "named twice" : "unknown");
			rc = -1;
		}
		has_name = has_name || map[i] == COL_NAME;
	}
	if (rc == 0 && !has_name) {
		(void)str_format(error, error_size,
		                 "printers import: line %zu: the header has no name column", line);
		rc = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
	*n_r = n;
	return rc;
}

/* Imports every CSV record after the header. Returns 0 or -1 (storage, no memory). */
static int printers_io_import_csv(printers_io_import_t *im, const char *text, size_t len,
                                  char *error, size_t error_size)
{
	printers_io_csv_t csv = {.data = text, .len = len, .line = 1};
	/* A spreadsheet's UTF-8 byte order mark is not part of the first column's name. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		csv.pos = 3;
	int map[COL_COUNT];
	size_t n_columns;
	if (printers_io_csv_header(&csv, map, &n_columns, error, error_size) < 0)
		return -1;
	for (;;) {
		char *cells[COL_COUNT] = {NULL};
		size_t n = 0, line = csv.line;
		char message[128];
		int rc = printers_io_csv_record(&csv, cells, n_columns, &n, &line, message,
		                                sizeof(message));
		if (rc == 0)
			return 0;
		if (rc == 1 && printers_io_blank(cells, n)) {
			free(cells[0]);
			continue;
		}
		if (im->report->n_rows >= PRINTERS_LIST_MAX) {
			for (size_t i = 0; i < n; i++)
				free(cells[i]);
			(void)str_format(error, error_size,
			                 "printers import: more than %d rows; split the file",
			                 PRINTERS_LIST_MAX);
			return -1;
		}
		printers_io_row_t row = {.line = line};
		if (rc < 0) {
			/* Malformed: reported on its line, nothing more can be read after it. */
			pp_printers_import_row_t *out = printers_io_report_row(im, line, "");
			if (out == NULL) {
				(void)str_format(error, error_size, "printers import: out of memory");
				return -1;
			}
			printers_io_invalid(im, out, "", message);
			return 0;
		}
		for (size_t i = 0; i < n; i++) {
			row.cells[map[i]] = cells[i];
			cells[i] = NULL;
		}
		int stored = printers_io_import_row(im, &row, error, error_size);
		printers_io_row_clear(&row);
		if (stored < 0)
			return -1;
	}
}

/* ---- import: JSON ---- */

/* Turns one JSON object into a row; a wrong key or type is reported as an invalid row. */
static int printers_io_import_json_item(printers_io_import_t *im, json_t *item, size_t position,
                                        char *error, size_t error_size)
{
	printers_io_row_t row = {.line = position};
	const char *bad_key = NULL, *why = NULL;
	if (!json_is_object(item)) {
		why = "each entry must be an object such as {\"name\": …, \"device_uri\": …}";
	} else {
		const char *key;
		json_t *value;
		json_object_foreach(item, key, value)
		{
			int c = -1;
			for (int i = 0; i < COL_COUNT; i++) {
				if (strcmp(key, printers_io_columns[i]) == 0)
					c = i;
			}
			if (c < 0) {
				bad_key = key;
				why = "unknown key; the keys are " PRINTERS_IO_COLUMN_LIST;
				break;
			}
			if (json_is_null(value))
				continue; /* as if absent */
			if (c == COL_ENABLED) {
				if (!json_is_boolean(value)) {
					bad_key = key;
					why = "must be true or false";
					break;
				}
				row.cells[c] = strdup(json_is_true(value) ? "yes" : "no");
			} else if (c == COL_CAPABILITIES) {
				if (!json_is_object(value)) {
					bad_key = key;
					why = "must be an object such as {\"has_duplex\": true}";
					break;
				}
				row.cells[c] = json_dumps(value, JSON_COMPACT);
			} else {
				if (!json_is_string(value)) {
					bad_key = key;
					why = "must be a string";
					break;
				}
				row.cells[c] = strdup(json_string_value(value));
			}
			if (row.cells[c] == NULL) {
				printers_io_row_clear(&row);
				(void)str_format(error, error_size, "printers import: out of memory");
				return -1;
			}
		}
	}
	if (why != NULL) {
		const char *name = json_string_value(json_object_get(item, "name"));
		pp_printers_import_row_t *out =
		    printers_io_report_row(im, position, name != NULL ? name : "");
		printers_io_row_clear(&row);
		if (out == NULL) {
			(void)str_format(error, error_size, "printers import: out of memory");
			return -1;
		}
		char message[320];
		(void)str_format(message, sizeof(message), "%.40s%s%s", bad_key != NULL ? bad_key : "",
		                 bad_key != NULL ? ": " : "", why);
		printers_io_invalid(im, out, bad_key, message);
		return 0;
	}
	int rc = printers_io_import_row(im, &row, error, error_size);
	printers_io_row_clear(&row);
	return rc;
}

static int printers_io_import_json(printers_io_import_t *im, const char *text, size_t len,
                                   char *error, size_t error_size)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_array(root)) {
		if (root == NULL)
			(void)str_format(error, error_size,
			                 "printers import: line %d: not valid JSON: %s", jerr.line,
			                 jerr.text);
		else
			(void)str_format(error, error_size,
			                 "printers import: JSON import takes an array of printer "
			                 "objects, as `pullprint printers export --format json` writes");
		json_decref(root);
		return -1;
	}
	if (json_array_size(root) > PRINTERS_LIST_MAX) {
		json_decref(root);
		(void)str_format(error, error_size,
		                 "printers import: more than %d entries; split the file",
		                 PRINTERS_LIST_MAX);
		return -1;
	}
	size_t i;
	json_t *item;
	int rc = 0;
	json_array_foreach(root, i, item)
	{
		if (rc == 0)
			rc = printers_io_import_json_item(im, item, i + 1, error, error_size);
	}
	json_decref(root);
	return rc;
}

int printers_import(pp_core_t *core, const char *actor, const char *text, size_t len,
                    pp_printers_format_t format, bool dry_run,
                    pp_printers_import_report_t **report_r, char *error, size_t error_size)
{
	*report_r = NULL;
	if (memchr(text, '\0', len) != NULL) {
		(void)str_format(error, error_size,
		                 "printers import: the file holds NUL bytes: save the sheet as CSV "
		                 "(UTF-8) or JSON text");
		return -1;
	}
	printers_io_import_t im = {.core = core, .actor = actor != NULL ? actor : "system"};
	im.report = calloc(1, sizeof(*im.report));
	if (im.report == NULL) {
		(void)str_format(error, error_size, "printers import: out of memory");
		return -1;
	}
	if (db_tx_begin(core->db, error, error_size) != DB_OK) {
		printers_import_report_free(&im.report);
		return -1;
	}
	int rc = format == PP_PRINTERS_JSON
	             ? printers_io_import_json(&im, text, len, error, error_size)
	             : printers_io_import_csv(&im, text, len, error, error_size);
	if (rc < 0 || dry_run || im.report->n_invalid > 0) {
		db_tx_rollback(core->db);
	} else if (db_tx_commit(core->db, error, error_size) != DB_OK) {
		rc = -1;
	} else {
		im.report->is_committed = true;
	}
	if (rc < 0) {
		printers_import_report_free(&im.report);
		return -1;
	}
	log_info("printer.import rows=%zu added=%zu updated=%zu invalid=%zu stored=%s",
	         im.report->n_rows, im.report->n_added, im.report->n_updated,
	         im.report->n_invalid, im.report->is_committed ? "yes" : "no");
	*report_r = im.report;
	return im.report->n_invalid > 0 ? PRINTERS_INVALID : 0;
}

void printers_import_report_free(pp_printers_import_report_t **report)
{
	if (report == NULL || *report == NULL)
		return;
	free((*report)->rows);
	free(*report);
	*report = NULL;
}
