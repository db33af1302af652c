/* table.c - aligned columns or JSON for the command line; see table.h. */
#include "cli/table.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct pp_table {
	const char *const *columns;
	size_t n_columns;
	char **cells; /* rows * n_columns, row-major, each owned */
	size_t rows;
	size_t capacity_rows;
};

pp_table_t *table_new(const char *const *columns, size_t n_columns)
{
	pp_table_t *table = calloc(1, sizeof(*table));
	if (table == NULL)
		return NULL;
	table->columns = columns;
	table->n_columns = n_columns;
	return table;
}

int table_add_row(pp_table_t *table, const char *const *cells)
{
	if (table->rows == table->capacity_rows) {
		size_t capacity = table->capacity_rows == 0 ? 16 : table->capacity_rows * 2;
		char **grown = reallocarray(table->cells, capacity * table->n_columns, sizeof(char *));
		if (grown == NULL)
			return -1;
		table->cells = grown;
		table->capacity_rows = capacity;
	}
	char **row = table->cells + table->rows * table->n_columns;
	for (size_t i = 0; i < table->n_columns; i++) {
		row[i] = strdup(cells[i] != NULL ? cells[i] : "");
		if (row[i] == NULL) {
			while (i-- > 0)
				free(row[i]);
			return -1;
		}
	}
	table->rows++;
	return 0;
}

size_t table_rows(const pp_table_t *table)
{
	return table->rows;
}

/* Display width in columns, counting UTF-8 continuation bytes as nothing. */
static size_t table_width(const char *s)
{
	size_t width = 0;
	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			width++;
	}
	return width;
}

static int table_print_json(const pp_table_t *table, FILE *out)
{
	json_t *array = json_array();
	if (array == NULL)
		return -1;
	for (size_t r = 0; r < table->rows; r++) {
		json_t *object = json_object();
		if (object == NULL || json_array_append_new(array, object) < 0) {
			json_decref(array);
			return -1;
		}
		for (size_t c = 0; c < table->n_columns; c++) {
			if (json_object_set_new(object, table->columns[c],
						json_string(table->cells[r * table->n_columns + c])) <
			    0) {
				json_decref(array);
				return -1;
			}
		}
	}
	int rc = json_dumpf(array, out, JSON_INDENT(2)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
	json_decref(array);
	return rc;
}

int table_print(const pp_table_t *table, FILE *out, bool as_json)
{
	if (as_json)
		return table_print_json(table, out);

	size_t widths[32] = {0};
	size_t n = table->n_columns < 32 ? table->n_columns : 32;
	for (size_t c = 0; c < n; c++) {
		widths[c] = table_width(table->columns[c]);
		for (size_t r = 0; r < table->rows; r++) {
			size_t w = table_width(table->cells[r * table->n_columns + c]);
			if (w > widths[c])
				widths[c] = w;
		}
	}
	for (size_t r = 0; r <= table->rows; r++) {
		for (size_t c = 0; c < n; c++) {
			const char *cell = r == 0 ? table->columns[c]
						  : table->cells[(r - 1) * table->n_columns + c];
			bool is_last = (c + 1 == n);
			if (fputs(cell, out) == EOF)
				return -1;
			if (!is_last) {
				for (size_t pad = table_width(cell); pad < widths[c] + 2; pad++)
					if (fputc(' ', out) == EOF)
						return -1;
			}
		}
		if (fputc('\n', out) == EOF)
			return -1;
	}
	return 0;
}

void table_free(pp_table_t **table)
{
	if (*table == NULL)
		return;
	for (size_t i = 0; i < (*table)->rows * (*table)->n_columns; i++)
		free((*table)->cells[i]);
	free((*table)->cells);
	free(*table);
	*table = NULL;
}
