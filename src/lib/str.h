/*
 * str.h - bounded string formatting and cursor parsing.
 *
 * Formatting refuses to truncate: a path, URI or SQL value cut short is a failure, never a
 * silently different value. Parsers advance a cursor and never read past the terminator.
 */
#ifndef PP_STR_H
#define PP_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies src into dst[size]. Returns false (dst set to "") if it does not fit. */
bool str_copy(char *dst, size_t size, const char *src);

/* snprintf into dst[size]. Returns false (dst set to "") on error or truncation. */
bool str_format(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Parses a decimal unsigned integer at *p, advancing *p past the digits. Fails on no digits,
 * a sign, or a value above max. Leading zeros are accepted.
 */
bool parse_uint64(const char **p, uint64_t max, uint64_t *value_r);

/* Parses the whole string s as a decimal unsigned integer <= max. */
bool parse_uint64_full(const char *s, uint64_t max, uint64_t *value_r);

/* Parses the whole string s as a boolean: yes/no, true/false, on/off, 1/0. */
bool parse_bool_full(const char *s, bool *value_r);

/* Lower-cases ASCII letters in place. */
void str_lower_ascii(char *s);

/* True when s starts with prefix. */
bool str_has_prefix(const char *s, const char *prefix);

/* Removes leading and trailing ASCII whitespace in place; returns s advanced past leading. */
char *str_trim(char *s);

/* Writes len bytes as lower-case hex into dst, which must hold 2*len+1 bytes. */
void str_hex_encode(char *dst, const uint8_t *src, size_t len);

/*
 * True when s is valid UTF-8 (no overlong forms, no surrogates) without control characters
 * (C0, DEL, C1): text that prints as one line on any terminal. "" is true.
 */
bool str_is_printable_utf8(const char *s);

/* The value of one hex digit (either case), or -1. */
int str_hex_digit(char c);

/* Decodes exactly 2*len hex digits of src into dst[len]. Returns false on a bad digit or length. */
bool str_hex_decode(uint8_t *dst, size_t len, const char *src);

#endif
