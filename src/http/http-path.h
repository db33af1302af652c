/*
 * http-path.h - our own parsing of request targets: percent-decoding and path normalisation
 * (libmicrohttpd is told not to decode, so we see %00 and %2e%2e ourselves). Private to
 * src/http and its tests and fuzz targets.
 */
#ifndef PP_HTTP_PATH_H
#define PP_HTTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_PATH_MAX 2048 /* longest decoded path we serve */
#define HTTP_LOG_PATH_MAX 256 /* a path as logged (http_path_for_log()) */

/*
 * Decodes len bytes of in (%XX escapes; '+' as space when plus_is_space) into out[out_size]
 * NUL-terminated, length in *out_len_r. Fails on a bad escape, a decoded NUL or control
 * character, or when out is too small. Returns 0 or -1.
 */
int http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out,
			size_t out_size, size_t *out_len_r);

/*
 * Decodes and normalises the path of a request target (raw, len bytes, no query) into
 * out[out_size]: must start with '/', "//" collapse, "." segments go, a trailing '/' stays.
 * Fails (the request gets 400) on a ".." segment, a bad escape, NUL or a control character,
 * or a result longer than out_size - 1. Returns 0 or -1.
 */
int http_path_normalise(const char *raw, size_t len, char *out, size_t out_size);

/*
 * Copies path into out[out_size] for a log line, with every segment that is a bearer token
 * (ppX_… as tokens.h makes them: a personal printer address carries one) replaced by
 * "<token>", so that secrets in URLs never reach the log. Cut to fit.
 */
void http_path_for_log(const char *path, char *out, size_t out_size);

#endif
