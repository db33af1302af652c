/*
 * http-path.c - percent-decoding and path normalisation; see http-path.h.
 *
 * Decoding comes first and normalising second, so "%2e%2e" and "%2F" are judged as what they
 * mean, not how they were spelt: no spelling of ".." reaches a handler or the file system.
 */
#include "http/http-path.h"

#include "lib/str.h"

#include <string.h>

int http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out,
			size_t out_size, size_t *out_len_r)
{
	size_t o = 0;
	if (out_size == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			/* Exactly two hex digits must follow, inside len. */
			if (len - i < 3)
				return -1;
			int hi = str_hex_digit(in[i + 1]);
			int lo = str_hex_digit(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		/* NUL would cut the string short; control characters forge log lines. */
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (o >= out_size - 1)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*out_len_r = o;
	return 0;
}

int http_path_normalise(const char *raw, size_t len, char *out, size_t out_size)
{
	char decoded[HTTP_PATH_MAX + 1];
	size_t dlen = 0;
	if (out_size < 2 || len == 0 || raw[0] != '/')
		return -1;
	if (http_percent_decode(raw, len, false, decoded, sizeof(decoded), &dlen) != 0)
		return -1;

	/* Walk the segments between slashes, copying all but empty and "." ones. */
	size_t o = 0;
	size_t i = 0;
	bool ends_with_slash = decoded[dlen - 1] == '/';
	while (i < dlen) {
		while (i < dlen && decoded[i] == '/')
			i++;
		size_t start = i;
		while (i < dlen && decoded[i] != '/')
			i++;
		size_t seg = i - start;
		if (seg == 0 || (seg == 1 && decoded[start] == '.'))
			continue;
		if (seg == 2 && decoded[start] == '.' && decoded[start + 1] == '.')
			return -1;
		if (o >= out_size || out_size - o < seg + 2)
			return -1;
		out[o++] = '/';
		memcpy(out + o, decoded + start, seg);
		o += seg;
	}
	/* "/" alone, or a path whose last segment was followed by '/' (or was "."). */
	if (o == 0 || ends_with_slash || (dlen >= 2 && decoded[dlen - 1] == '.' &&
					  decoded[dlen - 2] == '/')) {
		if (o >= out_size - 1)
			return -1;
		out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}

/* True when the segment at s begins like a token: "pp" + letter + '_' (tokens.h). */
static bool http_path_is_token_segment(const char *s)
{
	return s[0] == 'p' && s[1] == 'p' && s[2] >= 'a' && s[2] <= 'z' && s[3] == '_';
}

void http_path_for_log(const char *path, char *out, size_t out_size)
{
	static const char mask[] = "<token>";
	size_t n = 0;
	if (out_size == 0)
		return;
	for (const char *p = path != NULL ? path : ""; *p != '\0';) {
		const char *end = strchr(p, '/');
		size_t seg_len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *piece = p;
		size_t piece_len = seg_len;
		if (seg_len > 4 && http_path_is_token_segment(p)) {
			piece = mask;
			piece_len = sizeof(mask) - 1;
		}
		if (out_size - 1 - n < piece_len)
			piece_len = out_size - 1 - n;
		memcpy(out + n, piece, piece_len);
		n += piece_len;
		if (end == NULL || n == out_size - 1)
			break;
		out[n++] = '/';
		p = end + 1;
	}
	out[n] = '\0';
}
