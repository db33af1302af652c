/*
 * table.h - human-readable output of the command line: rows of text cells printed as aligned
 * columns under a header, or the same rows as a JSON array of objects (--json).
 */
#ifndef PP_CLI_TABLE_H
#define PP_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct pp_table pp_table_t;

/* New table with the given column names (borrowed, must outlive the table). NULL on ENOMEM. */
pp_table_t *table_new(const char *const *columns, size_t n_columns);

/* Appends a row of n_columns cells (copied; NULL prints as ""). Returns 0 or -1 on ENOMEM. */
int table_add_row(pp_table_t *table, const char *const *cells);

/* Prints as aligned columns, or as a JSON array of objects keyed by column name. */
int table_print(const pp_table_t *table, FILE *out, bool as_json);

size_t table_rows(const pp_table_t *table);

void table_free(pp_table_t **table);

#endif
