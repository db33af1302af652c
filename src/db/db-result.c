/*
 * db-result.c - query results copied into memory.
 *
 * A backend copies every cell of a query into one pp_db_result_t before it releases the
 * handle's lock, so a result outlives the statement, the lock and even the connection. Cells
 * are stored row-major; each keeps its bytes plus a terminating NUL, so a text cell is a C
 * string and a blob cell may hold NUL bytes of its own.
 */
#include "db/db-private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/str.h"

typedef struct {
	char *data; /* len bytes + NUL; NULL for SQL NULL */
	size_t len;
} db_cell_t;

struct pp_db_result {
	size_t cols;
	size_t n_cells;
	size_t cap_cells;
	size_t total_bytes;
	db_cell_t *cells;
};

pp_db_result_t *db_result_new(size_t cols)
{
	pp_db_result_t *result = calloc(1, sizeof(*result));
	if (result == NULL)
		return NULL;
	result->cols = cols;
	return result;
}

int db_result_append(pp_db_result_t *result, const void *data, size_t len, bool is_null,
                     char *error, size_t error_size)
{
	/* Grow the cell array geometrically, refusing sizes that would overflow. */
	if (result->n_cells == result->cap_cells) {
		size_t cap = result->cap_cells == 0 ? 16 : result->cap_cells * 2;
		if (cap > SIZE_MAX / sizeof(db_cell_t)) {
			str_format(error, error_size, "query result too large: add a LIMIT");
			return -1;
		}
		db_cell_t *cells = realloc(result->cells, cap * sizeof(db_cell_t));
		if (cells == NULL) {
			str_format(error, error_size, "out of memory for a query result");
			return -1;
		}
		result->cells = cells;
		result->cap_cells = cap;
	}
	db_cell_t *cell = &result->cells[result->n_cells];
	cell->data = NULL;
	cell->len = 0;
	if (!is_null) {
		/* Cap the whole result: rows are held in memory, so a missing LIMIT must not
		   exhaust it. */
		if (len >= DB_RESULT_MAX_BYTES ||
		    DB_RESULT_MAX_BYTES - len <= result->total_bytes) {
			str_format(error, error_size,
			           "query result larger than %zu bytes: add a LIMIT",
			           DB_RESULT_MAX_BYTES);
			return -1;
		}
		cell->data = malloc(len + 1);
		if (cell->data == NULL) {
			str_format(error, error_size, "out of memory for a query result");
			return -1;
		}
		if (len > 0)
			memcpy(cell->data, data, len);
		cell->data[len] = '\0';
		cell->len = len;
		result->total_bytes += len + 1;
	}
	result->n_cells++;
	return 0;
}

size_t db_result_rows(const pp_db_result_t *result)
{
	if (result == NULL || result->cols == 0)
		return 0;
	return result->n_cells / result->cols;
}

size_t db_result_cols(const pp_db_result_t *result)
{
	return result == NULL ? 0 : result->cols;
}

/* The cell at (row, col), or NULL when out of range. */
static const db_cell_t *db_result_cell(const pp_db_result_t *result, size_t row, size_t col)
{
	if (result == NULL || col >= result->cols || row >= db_result_rows(result))
		return NULL;
	return &result->cells[row * result->cols + col];
}

bool db_result_is_null(const pp_db_result_t *result, size_t row, size_t col)
{
	const db_cell_t *cell = db_result_cell(result, row, col);
	return cell == NULL || cell->data == NULL;
}

const char *db_result_text(const pp_db_result_t *result, size_t row, size_t col)
{
	const db_cell_t *cell = db_result_cell(result, row, col);
	return cell == NULL || cell->data == NULL ? "" : cell->data;
}

int64_t db_result_int(const pp_db_result_t *result, size_t row, size_t col)
{
	const db_cell_t *cell = db_result_cell(result, row, col);
	if (cell == NULL || cell->data == NULL)
		return 0;
	/* Parse an optional minus sign then digits; anything else (or overflow) reads 0. */
	const char *p = cell->data;
	bool negative = false;
	if (*p == '-') {
		negative = true;
		p++;
	}
	uint64_t magnitude;
	uint64_t max = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (!parse_uint64_full(p, max, &magnitude))
		return 0;
	if (negative)
		return magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
	return (int64_t)magnitude;
}

const void *db_result_blob(const pp_db_result_t *result, size_t row, size_t col, size_t *len_r)
{
	const db_cell_t *cell = db_result_cell(result, row, col);
	if (cell == NULL || cell->data == NULL) {
		*len_r = 0;
		return NULL;
	}
	*len_r = cell->len;
	return cell->data;
}

void *db_result_take(pp_db_result_t *result, size_t row, size_t col, size_t *len_r)
{
	*len_r = 0;
	if (result == NULL || col >= result->cols || row >= db_result_rows(result))
		return NULL;
	db_cell_t *cell = &result->cells[row * result->cols + col];
	void *data = cell->data;
	*len_r = data != NULL ? cell->len : 0;
	cell->data = NULL;
	cell->len = 0;
	return data;
}

void db_result_free(pp_db_result_t **result)
{
	if (result == NULL || *result == NULL)
		return;
	pp_db_result_t *r = *result;
	for (size_t i = 0; i < r->n_cells; i++)
		free(r->cells[i].data);
	free(r->cells);
	free(r);
	*result = NULL;
}
