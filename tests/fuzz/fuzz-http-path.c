/*
 * fuzz-http-path.c - libFuzzer target for the listener's own parsers: the path normaliser
 * and the percent-decoder used for query parameters. Beyond not crashing, a path that is
 * accepted must hold what handlers rely on: starts with '/', no "..", "." or empty segment,
 * no NUL or control character.
 */
#include "http/http-path.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the promises of http_path_normalise on an accepted result. */
static void fuzz_check_path(const char *out)
{
	size_t len = strlen(out);
	if (len == 0 || out[0] != '/')
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c < 0x20 || c == 0x7f)
			abort();
	}
	/* Walk the segments: none empty (but a trailing '/'), ".", or "..". */
	const char *p = out + 1;
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t seg = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (seg == 0 || (seg == 1 && p[0] == '.') ||
		    (seg == 2 && p[0] == '.' && p[1] == '.'))
			abort();
		if (slash == NULL)
			break;
		p = slash + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[HTTP_PATH_MAX + 1];
	if (http_path_normalise((const char *)data, size, out, sizeof(out)) == 0) {
		fuzz_check_path(out);
		/* The logged form fits its buffer and never shows a token segment. */
		char logged[HTTP_LOG_PATH_MAX];
		http_path_for_log(out, logged, sizeof(logged));
		if (strlen(logged) >= sizeof(logged) || strstr(logged, "/ppa_x") != NULL)
			abort();
	}

	/* Small outputs exercise the refusal to truncate. */
	char small[8];
	if (http_path_normalise((const char *)data, size, small, sizeof(small)) == 0)
		fuzz_check_path(small);

	size_t len = 0;
	if (http_percent_decode((const char *)data, size, true, out, sizeof(out), &len) == 0) {
		if (len != strlen(out) || len > size)
			abort();
	}
	return 0;
}
