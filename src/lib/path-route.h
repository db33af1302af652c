/*
 * path-route.h - finding an operation in a table of (method, path pattern) routes, as the
 * REST API and the admin API do below their prefixes.
 *
 * A pattern is an absolute path whose segments are literal or "{name}": a parameter that
 * takes one whole segment the caller's segment_ok() accepts, copied out in order. A path
 * that fits some patterns but none with the request's method is told apart from a path that
 * fits none, so that the caller can answer 405 with Allow or 404. HEAD finds GET routes.
 */
#ifndef PP_PATH_ROUTE_H
#define PP_PATH_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether seg[len] (no '/') may be a parameter's value. */
typedef bool path_segment_ok_fn(const char *seg, size_t len);

/* Where path_route_find() puts the parameters: max of them, each size bytes, contiguous. */
typedef struct {
	char *values;   /* values[i * size] is the i-th, NUL-terminated */
	size_t size;    /* bytes per value, NUL included */
	size_t max;     /* how many fit */
	size_t count;   /* filled: how many the route had */
} pp_path_params_t;

/* The method and pattern of route i of table (the caller's own route type). */
typedef void path_route_at_fn(const void *table, size_t i, const char **method_r,
			      const char **pattern_r);

/*
 * Finds the route of method + path among count routes. Returns its index with params
 * filled, or -1: then allow[allow_size] holds the methods of the routes whose pattern fits
 * ("GET, POST"), "" when no pattern fits.
 */
long path_route_find(const void *table, size_t count, path_route_at_fn *route_at,
		     const char *method, const char *path, path_segment_ok_fn *segment_ok,
		     pp_path_params_t *params, char *allow, size_t allow_size);

#endif
