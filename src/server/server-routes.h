/*
 * server-routes.h - the server's own routes: /healthz for load balancers and /metrics for
 * Prometheus, plus the collectors that put database counts into /metrics.
 */
#ifndef PP_SERVER_ROUTES_H
#define PP_SERVER_ROUTES_H

#include "core/core.h"
#include "http/http.h"
#include "server/convert-pool.h"

typedef struct {
	pp_core_t *core; /* borrowed */
	pp_metrics_t *metrics; /* borrowed */
	pp_convert_pool_t *convert_pool; /* borrowed; NULL when this server converts nothing */
	int64_t started_at;
} pp_server_routes_t;

/* Registers the routes and collectors; routes borrows ctx until the server is freed. */
int server_routes_add(pp_http_server_t *http, pp_server_routes_t *ctx, char *error,
		      size_t error_size);

#endif
