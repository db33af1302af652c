/* path-route.c - operations found by method and path pattern; see path-route.h. */
#include "lib/path-route.h"

#include <string.h>

/* Whether path fits pattern; fills params (may be NULL: any number) when it does. */
static bool path_route_match(const char *pattern, const char *path,
			     path_segment_ok_fn *segment_ok, pp_path_params_t *params)
{
	size_t n_params = 0;
	size_t max = params != NULL ? params->max : (size_t)-1;
	const char *p = pattern, *s = path;
	while (*p != '\0' && *s != '\0') {
		const char *p_end = strchr(p, '/');
		const char *s_end = strchr(s, '/');
		size_t p_len = p_end != NULL ? (size_t)(p_end - p) : strlen(p);
		size_t s_len = s_end != NULL ? (size_t)(s_end - s) : strlen(s);
		if (p_len > 1 && p[0] == '{') {
			if (!segment_ok(s, s_len) || n_params >= max ||
			    (params != NULL && s_len >= params->size))
				return false;
			if (params != NULL) {
				char *value = params->values + n_params * params->size;
				memcpy(value, s, s_len);
				value[s_len] = '\0';
			}
			n_params++;
		} else if (p_len != s_len || memcmp(p, s, p_len) != 0) {
			return false;
		}
		p += p_len;
		s += s_len;
		if ((*p == '/') != (*s == '/'))
			return false;
		if (*p == '/') {
			p++;
			s++;
		}
	}
	if (*p != '\0' || *s != '\0')
		return false;
	if (params != NULL)
		params->count = n_params;
	return true;
}

/* Appends method to the Allow list, ", "-separated; a list that is full stays as it is. */
static void path_route_allow_add(char *allow, size_t allow_size, const char *method)
{
	size_t len = strlen(allow), mlen = strlen(method);
	size_t sep = len > 0 ? 2 : 0;
	if (len + sep + mlen >= allow_size)
		return;
	if (sep > 0)
		memcpy(allow + len, ", ", 2);
	memcpy(allow + len + sep, method, mlen + 1);
}

long path_route_find(const void *table, size_t count, path_route_at_fn *route_at,
		     const char *method, const char *path, path_segment_ok_fn *segment_ok,
		     pp_path_params_t *params, char *allow, size_t allow_size)
{
	if (allow_size > 0)
		allow[0] = '\0';
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (size_t i = 0; i < count; i++) {
		const char *r_method = NULL, *r_pattern = NULL;
		route_at(table, i, &r_method, &r_pattern);
		/* params are filled by every fitting pattern; the one returned filled them last. */
		if (!path_route_match(r_pattern, path, segment_ok, params))
			continue;
		if (strcmp(r_method, method) == 0)
			return (long)i;
		if (allow_size > 0)
			path_route_allow_add(allow, allow_size, r_method);
	}
	return -1;
}
