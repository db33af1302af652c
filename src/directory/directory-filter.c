/*
 * directory-filter.c - LDAP filters built from what a user typed, and DN comparison.
 *
 * A user name or address reaches a filter only through directory_filter_escape() (RFC 4515:
 * every byte other than letters, digits and a few harmless marks becomes \xx), so "*",
 * ")(" or a NUL match themselves literally and never widen the search to other entries.
 */
#include "directory/directory-private.h"

#include "lib/str.h"

#include <string.h>
#include <strings.h>

/* Bytes kept as they are; everything else (* ( ) \ NUL, controls, non-ASCII) is escaped. */
static bool directory_filter_is_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '@' || c == '.' || c == '-' || c == '_' || c == '+' || c == ' ' || c == ':' ||
	       c == '=' || c == ',' || c == '\'';
}

bool directory_filter_escape(const char *value, size_t len, char *out, size_t out_size)
{
	static const char hex[] = "0123456789abcdef";
	size_t pos = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		size_t need = directory_filter_is_plain(c) ? 1 : 3;
		if (pos > out_size || out_size - pos <= need) {
			if (out_size > 0)
				out[0] = '\0';
			return false;
		}
		if (need == 1) {
			out[pos++] = (char)c;
		} else {
			out[pos++] = '\\';
			out[pos++] = hex[c >> 4];
			out[pos++] = hex[c & 0x0f];
		}
	}
	if (out_size == 0)
		return false;
	out[pos] = '\0';
	return true;
}

/* Appends text to out[size] at *pos. False when it does not fit. */
static bool directory_append(char *out, size_t size, size_t *pos, const char *text)
{
	size_t len = strlen(text);
	if (*pos > size || size - *pos <= len)
		return false;
	memcpy(out + *pos, text, len + 1);
	*pos += len;
	return true;
}

bool directory_words(const char *list, directory_word_fn *fn, void *arg)
{
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, " ,");
		if (len > 0 && !fn(p, len, arg))
			return false;
		p += len;
	}
	return true;
}

typedef struct {
	char *out;
	size_t size;
	size_t pos;
	const char *value;   /* escaped */
	const char *smtp;    /* escaped "smtp:" + value, for proxyAddresses */
	size_t n_terms;
} directory_filter_build_t;

/* Adds "(attr=value)" for one attribute of the list. */
static bool directory_filter_term(const char *word, size_t len, void *arg)
{
	directory_filter_build_t *b = arg;
	char attr[DIRECTORY_ATTR_MAX];
	if (len >= sizeof(attr))
		return false;
	memcpy(attr, word, len);
	attr[len] = '\0';
	bool is_proxy = strcasecmp(attr, "proxyAddresses") == 0;
	b->n_terms++;
	return directory_append(b->out, b->size, &b->pos, "(") &&
	       directory_append(b->out, b->size, &b->pos, attr) &&
	       directory_append(b->out, b->size, &b->pos, "=") &&
	       directory_append(b->out, b->size, &b->pos, is_proxy ? b->smtp : b->value) &&
	       directory_append(b->out, b->size, &b->pos, ")");
}

bool directory_filter_login(const pp_directory_t *dir, const char *login, bool is_address,
                            char *out, size_t out_size)
{
	char value[DIRECTORY_LOGIN_MAX * 3 + 1], smtp[DIRECTORY_LOGIN_MAX * 3 + 16];
	if (!directory_filter_escape(login, strlen(login), value, sizeof(value)) ||
	    !str_format(smtp, sizeof(smtp), "smtp:%s", value))
		return false;
	directory_filter_build_t b = {.out = out, .size = out_size, .value = value, .smtp = smtp};
	if (!directory_append(out, out_size, &b.pos, "(&") ||
	    (dir->user_filter[0] != '\0' &&
	     !directory_append(out, out_size, &b.pos, dir->user_filter)) ||
	    !directory_append(out, out_size, &b.pos, "(|"))
		return false;
	/* An address is a mail value, or (AD) a user principal name written like one. */
	if (!directory_words(is_address ? dir->mail_attrs : dir->login_attrs,
	                     directory_filter_term, &b))
		return false;
	if (is_address && dir->kind == PP_DIRECTORY_AD &&
	    !directory_filter_term("userPrincipalName", strlen("userPrincipalName"), &b))
		return false;
	if (b.n_terms == 0)
		return false;
	return directory_append(out, out_size, &b.pos, "))");
}

void directory_dn_normalize(const char *dn, char *out, size_t out_size)
{
	size_t pos = 0;
	bool is_prev_escaped = false;
	if (out_size == 0)
		return;
	for (const char *p = dn; *p != '\0' && pos + 1 < out_size; p++) {
		char c = *p;
		if (c == '\\' && p[1] != '\0') {
			/* An escaped character stays as written, with its backslash. */
			if (pos + 2 >= out_size)
				break;
			out[pos++] = c;
			out[pos++] = p[1];
			p++;
			is_prev_escaped = true;
			continue;
		}
		if (c == ' ') {
			/* Spaces next to a separator carry no meaning (an escaped one is text). */
			char prev = is_prev_escaped ? 'x' : pos > 0 ? out[pos - 1] : ',';
			const char *q = p;
			while (*q == ' ')
				q++;
			if (prev == ',' || prev == '=' || prev == '+' || *q == ',' || *q == '=' ||
			    *q == '+' || *q == '\0') {
				p = q - 1;
				continue;
			}
		}
		out[pos++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		is_prev_escaped = false;
	}
	out[pos] = '\0';
}
