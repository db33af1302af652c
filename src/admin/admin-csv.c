/*
 * admin-csv.c - CSV downloads of the admin console (reports, the audit log): a bounded text
 * buffer and RFC 4180 cells that a spreadsheet never runs as formulas (the same rule as the
 * accounting export, accounting.h).
 */
#include "admin/admin.h"

#include "lib/str.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct pp_admin_buf {
	char *data;
	size_t len;
	size_t size;
	size_t cap;
};

pp_admin_buf_t *admin_buf_new(size_t cap)
{
	pp_admin_buf_t *buf = calloc(1, sizeof(*buf));
	if (buf == NULL)
		return NULL;
	buf->size = 1024;
	buf->data = malloc(buf->size);
	if (buf->data == NULL) {
		free(buf);
		return NULL;
	}
	buf->data[0] = '\0';
	buf->cap = cap;
	return buf;
}

void admin_buf_free(pp_admin_buf_t **buf)
{
	if (buf == NULL || *buf == NULL)
		return;
	free((*buf)->data);
	free(*buf);
	*buf = NULL;
}

bool admin_buf_append(pp_admin_buf_t *buf, const char *data, size_t len)
{
	if (buf == NULL || len > buf->cap || buf->len > buf->cap - len)
		return false;
	if (buf->len + len + 1 > buf->size) {
		size_t size = buf->size;
		while (size < buf->len + len + 1)
			size *= 2;
		char *grown = realloc(buf->data, size);
		if (grown == NULL)
			return false;
		buf->data = grown;
		buf->size = size;
	}
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return true;
}

const char *admin_buf_text(const pp_admin_buf_t *buf, size_t *len_r)
{
	*len_r = buf->len;
	return buf->data;
}

/* Ends a cell: a comma, or CRLF at the end of the row. */
static bool admin_csv_end(pp_admin_buf_t *buf, bool is_last)
{
	return is_last ? admin_buf_append(buf, "\r\n", 2) : admin_buf_append(buf, ",", 1);
}

bool admin_csv_cell(pp_admin_buf_t *buf, const char *text, bool is_last)
{
	if (text == NULL)
		text = "";
	bool is_formula = text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
			  text[0] == '\t' || text[0] == '\r';
	bool is_quoted = strpbrk(text, ",\"\r\n") != NULL;
	if (is_quoted && !admin_buf_append(buf, "\"", 1))
		return false;
	if (is_formula && !admin_buf_append(buf, "'", 1))
		return false;
	for (const char *p = text; *p != '\0';) {
		const char *quote = strchr(p, '"');
		size_t len = quote != NULL ? (size_t)(quote - p) : strlen(p);
		if (!admin_buf_append(buf, p, len))
			return false;
		p += len;
		if (*p == '"') {
			if (!admin_buf_append(buf, "\"\"", 2))
				return false;
			p++;
		}
	}
	if (is_quoted && !admin_buf_append(buf, "\"", 1))
		return false;
	return admin_csv_end(buf, is_last);
}

bool admin_csv_int(pp_admin_buf_t *buf, int64_t value, bool is_last)
{
	char text[32];
	if (!str_format(text, sizeof(text), "%" PRId64, value))
		return false;
	return admin_buf_append(buf, text, strlen(text)) && admin_csv_end(buf, is_last);
}
