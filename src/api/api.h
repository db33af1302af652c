/*
 * api.h - the REST API under /api/v1: the one public header of src/api.
 *
 * JSON over HTTPS for the portal, the panel and third-party apps and scripts, described by
 * the OpenAPI 3.1 document docs/openapi.json (served at /api/v1/openapi.json). A user enrols
 * with the company code and a mailed confirmation code, signs in for an opaque bearer token
 * (tokens.h), and then sees and touches only their own jobs: another user's job answers 404
 * exactly like a job that does not exist. Every error is {"error":{"status":N,"code":"…",
 * "message":"…"}} with the matching HTTP status; docs/api.md is the guide.
 *
 * One pp_api_t per server: the route, the per-host rate limits and sign-in delays, the cache
 * of recently checked tokens and the thread that feeds the Server-Sent Event streams.
 */
#ifndef PP_API_H
#define PP_API_H

#include "core/core.h"
#include "http/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pp_api pp_api_t;

/*
 * Asks for page images first..last of a held job to be rendered (the server's conversion
 * pool: convert_pool_request_pages()). Returns 0, or -1 with error when it cannot now.
 */
typedef int (*pp_api_render_pages_fn)(void *ctx, int64_t job_id, unsigned first, unsigned last,
				      char *error, size_t error_size);

/* What the API needs from the server. Pointers are borrowed and must outlive the API. */
typedef struct {
	pp_core_t *core;                /* with a spool: uploads and page images need it */
	pp_api_render_pages_fn render_pages; /* NULL = this host renders no pages */
	void *render_pages_ctx;
	uint64_t max_document_bytes;    /* largest upload ([spool] max_document_bytes) */
} pp_api_config_t;

#define API_PREFIX "/api/v1/"

/*
 * Registers the API's route (everything below API_PREFIX) on http and starts the event
 * thread. Call before http_server_start(). Returns 0 with *api_r (new; free with api_free()
 * after the HTTP server is freed), or -1 with error.
 */
int api_start(pp_http_server_t *http, const pp_api_config_t *cfg, pp_api_t **api_r, char *error,
	      size_t error_size);

/* Stops the event thread and frees. Free the HTTP server first. NULL-safe; sets *api NULL. */
void api_free(pp_api_t **api);

/* One operation of the API, as the OpenAPI document lists it. */
typedef struct {
	const char *method;  /* "GET", "POST", "PATCH", "DELETE" */
	const char *pattern; /* "/api/v1/jobs/{id}/release" */
} pp_api_operation_t;

/*
 * The index-th operation the router answers (0, 1, … in table order) into *op_r (static
 * strings). Returns false past the last one.
 */
bool api_operation(size_t index, pp_api_operation_t *op_r);

/* The OpenAPI document served at /api/v1/openapi.json (compiled in). Static; *len_r bytes. */
const char *api_openapi_document(size_t *len_r);

#endif
