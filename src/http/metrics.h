/*
 * metrics.h - a small registry of counters, gauges and sum/count pairs, rendered in the
 * Prometheus text exposition format 0.0.4 for GET /metrics.
 *
 * Series are registered once (name, help, fixed labels) at start-up and updated lock-free
 * (atomic uint64) from any thread. Values that live elsewhere (job counts in the database)
 * come from collectors: callbacks run at render time that write their own gauge lines.
 * Series of one name form a family that gets one HELP and one TYPE line.
 */
#ifndef PP_METRICS_H
#define PP_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pp_metrics pp_metrics_t;
typedef struct pp_metric pp_metric_t;
typedef struct pp_metrics_writer pp_metrics_writer_t;

typedef enum {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_SUMMARY, /* name_sum and name_count; observe() adds to both */
} pp_metric_type_t;

/* Collector: appends its families with metrics_write_*(). Returns 0 or -1 (render fails). */
typedef int (*pp_metrics_collect_fn)(pp_metrics_writer_t *w, void *ctx);

/* Makes an empty registry. Returns NULL when out of memory. New; free with metrics_free(). */
pp_metrics_t *metrics_new(void);

/* Frees the registry and its series. NULL-safe; sets NULL. */
void metrics_free(pp_metrics_t **metrics);

/*
 * Registers one series. name: [a-zA-Z_:][a-zA-Z0-9_:]*; help: one line; labels: NULL or a
 * NULL-terminated list of name, value, name, value… (values escaped on output). scale: for
 * METRIC_SUMMARY, the stored unit per output unit (1000000 for microseconds shown as
 * seconds), else 1. The same name with another type fails. Thread-safe. Returns the series
 * (borrowed; valid until metrics_free()) or NULL on bad arguments or out of memory.
 */
pp_metric_t *metrics_register(pp_metrics_t *metrics, pp_metric_type_t type, const char *name,
			      const char *help, const char *const *labels, uint64_t scale);

/* Counter/gauge updates. NULL-safe (a series that failed to register is ignored). */
void metric_add(pp_metric_t *metric, uint64_t delta);
void metric_inc(pp_metric_t *metric);
void metric_sub(pp_metric_t *metric, uint64_t delta); /* gauges only */
void metric_set(pp_metric_t *metric, uint64_t value); /* gauges only */
uint64_t metric_value(const pp_metric_t *metric);

/* Summary update: adds value to the sum and 1 to the count. */
void metric_observe(pp_metric_t *metric, uint64_t value);

/*
 * Adds a collector run on every render, in registration order, under the registry lock (so
 * it must not register series). ctx borrowed. Returns 0/-1.
 */
int metrics_add_collector(pp_metrics_t *metrics, pp_metrics_collect_fn fn, void *ctx);

/* Collector helpers: a family header (HELP and TYPE lines) then its samples. Return 0/-1. */
int metrics_write_family(pp_metrics_writer_t *w, const char *name, const char *help,
			 pp_metric_type_t type);
int metrics_write_sample(pp_metrics_writer_t *w, const char *name, const char *const *labels,
			 double value);

/*
 * Renders every family and then every collector's output. Returns 0 and *text_r (new,
 * NUL-terminated; free()) with *len_r, or -1 with error.
 */
int metrics_render(pp_metrics_t *metrics, char **text_r, size_t *len_r, char *error,
		   size_t error_size);

/* Content-Type for the rendered text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
