/* str.c - bounded formatting and cursor parsing; see str.h. */
#include "lib/str.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool str_copy(char *dst, size_t size, const char *src)
{
	if (size == 0)
		return false;
	size_t len = strlen(src);
	if (len >= size) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, len + 1);
	return true;
}

bool str_format(char *dst, size_t size, const char *fmt, ...)
{
	if (size == 0)
		return false;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		dst[0] = '\0';
		return false;
	}
	return true;
}

bool parse_uint64(const char **p, uint64_t max, uint64_t *value_r)
{
	const char *s = *p;
	uint64_t value = 0;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		uint64_t digit = (uint64_t)(*s - '0');
		if (digit > max || value > (max - digit) / 10)
			return false;
		value = value * 10 + digit;
		s++;
	}
	*p = s;
	*value_r = value;
	return true;
}

bool parse_uint64_full(const char *s, uint64_t max, uint64_t *value_r)
{
	const char *p = s;
	uint64_t value;
	if (!parse_uint64(&p, max, &value) || *p != '\0')
		return false;
	*value_r = value;
	return true;
}

bool parse_bool_full(const char *s, bool *value_r)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*value_r = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*value_r = false;
			return true;
		}
	}
	return false;
}

void str_lower_ascii(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *str_trim(char *s)
{
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

void str_hex_encode(char *dst, const uint8_t *src, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 0x0f];
	}
	dst[2 * len] = '\0';
}

bool str_is_printable_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	while (p < end) {
		unsigned c = *p;
		size_t extra;
		unsigned code, min;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			extra = 1, code = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			extra = 2, code = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			extra = 3, code = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= extra)
			return false;
		for (size_t i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			code = (code << 6) | (p[i] & 0x3f);
		}
		if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ||
		    (code >= 0x80 && code <= 0x9f))
			return false;
		p += extra + 1;
	}
	return true;
}

int str_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool str_hex_decode(uint8_t *dst, size_t len, const char *src)
{
	if (strlen(src) != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++) {
		int hi = str_hex_digit(src[2 * i]);
		int lo = str_hex_digit(src[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}
