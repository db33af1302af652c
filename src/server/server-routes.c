/* server-routes.c - /healthz and /metrics; see server-routes.h. */
#include "server/server-routes.h"

#include "lib/log.h"

#include <stdlib.h>

/*
 * GET /healthz: 200 {"status":"ok"} when the database answers, else 503 with which part
 * failed, so a load balancer takes the host out while its database is unreachable.
 */
static void server_healthz(pp_http_request_t *req, void *arg)
{
	pp_server_routes_t *ctx = arg;
	char error[DB_ERROR_MAX];
	pp_db_result_t *result = NULL;
	bool is_db_ok = db_query(ctx->core->db, "SELECT 1", NULL, 0, &result, error,
				 sizeof(error)) == DB_OK;
	db_result_free(&result);
	if (!is_db_ok) {
		log_warn("healthz.database_failed error=\"%s\"", error);
		(void)http_respond_json(req, 503,
					json_pack("{s:s, s:s}", "status", "unavailable",
						  "database", "error"));
		return;
	}
	(void)http_respond_json(req, 200,
				json_pack("{s:s, s:s, s:I}", "status", "ok", "database", "ok",
					  "uptime_s", (json_int_t)(core_now(ctx->core) -
								   ctx->started_at)));
}

static void server_metrics(pp_http_request_t *req, void *arg)
{
	pp_server_routes_t *ctx = arg;
	char *text = NULL, error[256];
	size_t len = 0;
	if (metrics_render(ctx->metrics, &text, &len, error, sizeof(error)) < 0) {
		log_error("metrics.render_failed error=\"%s\"", error);
		(void)http_respond_error(req, 500, "metrics_failed",
					 "The metrics could not be collected; see the server log.");
		return;
	}
	(void)http_respond_bytes(req, 200, METRICS_CONTENT_TYPE, text, len);
	free(text);
}

/* Writes one gauge family from "SELECT label, COUNT(*) … GROUP BY label". */
static int server_collect_counts(pp_metrics_writer_t *w, pp_core_t *core, const char *name,
				 const char *help, const char *label, const char *sql)
{
	char error[DB_ERROR_MAX];
	pp_db_result_t *result = NULL;
	if (db_query(core->db, sql, NULL, 0, &result, error, sizeof(error)) != DB_OK) {
		log_warn("metrics.query_failed metric=%s error=\"%s\"", name, error);
		return 0; /* One failing family must not hide the rest. */
	}
	int rc = metrics_write_family(w, name, help, METRIC_GAUGE);
	for (size_t row = 0; rc == 0 && row < db_result_rows(result); row++) {
		const char *labels[] = {label, db_result_text(result, row, 0), NULL};
		rc = metrics_write_sample(w, name, labels, (double)db_result_int(result, row, 1));
	}
	db_result_free(&result);
	return rc;
}

/* The conversion workers of this server: configured, running, idle and busy. */
static int server_collect_pool(pp_metrics_writer_t *w, pp_convert_pool_t *pool)
{
	pp_convert_pool_status_t status;
	convert_pool_status(pool, &status);
	const struct {
		const char *state;
		unsigned count;
	} rows[] = {{"configured", status.workers},
		    {"alive", status.alive},
		    {"ready", status.ready},
		    {"busy", status.busy}};
	const char *name = "pullprint_convert_workers";
	if (metrics_write_family(w, name, "Conversion workers of this server by state.",
				 METRIC_GAUGE) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *labels[] = {"state", rows[i].state, NULL};
		if (metrics_write_sample(w, name, labels, (double)rows[i].count) < 0)
			return -1;
	}
	return 0;
}

/* The database's commits and the log flushes that made them durable (SQLite only). */
static int server_collect_flushes(pp_metrics_writer_t *w, pp_core_t *core)
{
	if (db_backend(core->db) != PP_DB_SQLITE)
		return 0;
	uint64_t commits = 0, flushes = 0;
	db_flush_stats(core->db, &commits, &flushes);
	if (metrics_write_family(w, "pullprint_db_commits_total",
				 "Commits that wrote to the database since the server started.",
				 METRIC_COUNTER) < 0 ||
	    metrics_write_sample(w, "pullprint_db_commits_total", NULL, (double)commits) < 0 ||
	    metrics_write_family(w, "pullprint_db_log_flushes_total",
				 "Flushes of the database's log to disk that made those commits "
				 "durable; concurrent commits share one.",
				 METRIC_COUNTER) < 0 ||
	    metrics_write_sample(w, "pullprint_db_log_flushes_total", NULL, (double)flushes) < 0)
		return -1;
	return 0;
}

static int server_collect(pp_metrics_writer_t *w, void *arg)
{
	pp_server_routes_t *ctx = arg;
	if (server_collect_counts(w, ctx->core, "pullprint_jobs", "Jobs by state.", "state",
				  "SELECT state, COUNT(*) FROM jobs GROUP BY state") < 0 ||
	    server_collect_counts(w, ctx->core, "pullprint_users", "Users by state.", "state",
				  "SELECT state, COUNT(*) FROM users GROUP BY state") < 0)
		return -1;
	if (ctx->convert_pool != NULL && server_collect_pool(w, ctx->convert_pool) < 0)
		return -1;
	if (server_collect_flushes(w, ctx->core) < 0)
		return -1;
	if (metrics_write_family(w, "pullprint_uptime_seconds", "Seconds since the server started.",
				 METRIC_GAUGE) < 0 ||
	    metrics_write_sample(w, "pullprint_uptime_seconds", NULL,
				 (double)(core_now(ctx->core) - ctx->started_at)) < 0)
		return -1;
	return 0;
}

int server_routes_add(pp_http_server_t *http, pp_server_routes_t *ctx, char *error,
		      size_t error_size)
{
	if (http_route(http, "GET", "/healthz", 0, server_healthz, NULL, ctx, error, error_size) <
		    0 ||
	    http_route(http, "GET", "/metrics", 0, server_metrics, NULL, ctx, error, error_size) <
		    0)
		return -1;
	return metrics_add_collector(ctx->metrics, server_collect, ctx);
}
