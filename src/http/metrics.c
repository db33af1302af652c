/*
 * metrics.c - the metrics registry and its Prometheus text rendering; see metrics.h.
 *
 * Families and series are linked lists appended under the registry lock (registration is
 * rare, at start-up); values are atomics, so updates never take the lock. A series' label
 * text is escaped once at registration.
 */
#include "http/metrics.h"

#include "lib/str.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_RENDER_MAX (16u * 1024u * 1024u) /* refuse to build a larger page */

struct pp_metric {
	struct pp_metric *next;
	pp_metric_type_t type;
	char *labels; /* "{a=\"b\"}" or "" */
	uint64_t scale;
	_Atomic uint64_t value; /* counter/gauge value, or summary sum */
	_Atomic uint64_t count; /* summary count */
};

typedef struct pp_metric_family {
	struct pp_metric_family *next;
	char *name;
	char *help;
	pp_metric_type_t type;
	pp_metric_t *series;
	pp_metric_t *series_tail;
} pp_metric_family_t;

typedef struct pp_metrics_collector {
	struct pp_metrics_collector *next;
	pp_metrics_collect_fn fn;
	void *ctx;
} pp_metrics_collector_t;

struct pp_metrics {
	pthread_mutex_t lock;
	pp_metric_family_t *families;
	pp_metric_family_t *families_tail;
	pp_metrics_collector_t *collectors;
	pp_metrics_collector_t *collectors_tail;
};

struct pp_metrics_writer {
	char *buf;
	size_t len;
	size_t cap;
	bool is_failed;
};

pp_metrics_t *metrics_new(void)
{
	pp_metrics_t *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void metrics_free(pp_metrics_t **metrics)
{
	if (metrics == NULL || *metrics == NULL)
		return;
	pp_metrics_t *m = *metrics;
	pp_metric_family_t *f = m->families;
	while (f != NULL) {
		pp_metric_family_t *next_f = f->next;
		pp_metric_t *s = f->series;
		while (s != NULL) {
			pp_metric_t *next_s = s->next;
			free(s->labels);
			free(s);
			s = next_s;
		}
		free(f->name);
		free(f->help);
		free(f);
		f = next_f;
	}
	pp_metrics_collector_t *c = m->collectors;
	while (c != NULL) {
		pp_metrics_collector_t *next_c = c->next;
		free(c);
		c = next_c;
	}
	(void)pthread_mutex_destroy(&m->lock);
	free(m);
	*metrics = NULL;
}

/* True for a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, without colons, a label name. */
static bool metrics_name_valid(const char *name, bool allow_colon)
{
	if (name == NULL || name[0] == '\0')
		return false;
	for (size_t i = 0; name[i] != '\0'; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

/* ---- bounded text buffer ---- */

static void writer_append(pp_metrics_writer_t *w, const char *data, size_t len)
{
	if (w->is_failed)
		return;
	if (len > METRICS_RENDER_MAX || w->len > METRICS_RENDER_MAX - len) {
		w->is_failed = true;
		return;
	}
	if (w->cap - w->len <= len) {
		size_t cap = w->cap == 0 ? 4096 : w->cap;
		while (cap - w->len <= len)
			cap *= 2;
		char *buf = realloc(w->buf, cap);
		if (buf == NULL) {
			w->is_failed = true;
			return;
		}
		w->buf = buf;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
	w->buf[w->len] = '\0';
}

static void writer_puts(pp_metrics_writer_t *w, const char *s)
{
	writer_append(w, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void writer_printf(pp_metrics_writer_t *w,
								const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		w->is_failed = true;
		return;
	}
	writer_append(w, line, (size_t)n);
}

/* Appends s escaped: backslash and newline always, double quote when in a label value. */
static void writer_escaped(pp_metrics_writer_t *w, const char *s, bool is_label_value)
{
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\\')
			writer_puts(w, "\\\\");
		else if (*p == '\n')
			writer_puts(w, "\\n");
		else if (*p == '"' && is_label_value)
			writer_puts(w, "\\\"");
		else
			writer_append(w, p, 1);
	}
}

/* Appends {a="b",…} for a name/value list, nothing for NULL or empty. False on bad names. */
static bool writer_labels(pp_metrics_writer_t *w, const char *const *labels)
{
	if (labels == NULL || labels[0] == NULL)
		return true;
	writer_puts(w, "{");
	for (size_t i = 0; labels[i] != NULL; i += 2) {
		if (labels[i + 1] == NULL || !metrics_name_valid(labels[i], false))
			return false;
		if (i > 0)
			writer_puts(w, ",");
		writer_puts(w, labels[i]);
		writer_puts(w, "=\"");
		writer_escaped(w, labels[i + 1], true);
		writer_puts(w, "\"");
	}
	writer_puts(w, "}");
	return true;
}

static const char *metrics_type_name(pp_metric_type_t type)
{
	switch (type) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGE:
		return "gauge";
	case METRIC_SUMMARY:
		return "summary";
	}
	return "untyped";
}

/* ---- registration and updates ---- */

pp_metric_t *metrics_register(pp_metrics_t *metrics, pp_metric_type_t type, const char *name,
			      const char *help, const char *const *labels, uint64_t scale)
{
	if (metrics == NULL || !metrics_name_valid(name, true) || help == NULL ||
	    (type == METRIC_SUMMARY && scale == 0))
		return NULL;

	/* Escape the labels once, now, so rendering only copies. */
	pp_metrics_writer_t lw = { 0 };
	if (!writer_labels(&lw, labels) || lw.is_failed) {
		free(lw.buf);
		return NULL;
	}
	pp_metric_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		free(lw.buf);
		return NULL;
	}
	s->labels = lw.buf != NULL ? lw.buf : strdup("");
	if (s->labels == NULL) {
		free(s);
		return NULL;
	}
	s->type = type;
	s->scale = type == METRIC_SUMMARY ? scale : 1;

	if (pthread_mutex_lock(&metrics->lock) != 0)
		abort();
	pp_metric_family_t *f = metrics->families;
	while (f != NULL && strcmp(f->name, name) != 0)
		f = f->next;
	if (f != NULL && f->type != type)
		goto fail_locked;
	if (f == NULL) {
		f = calloc(1, sizeof(*f));
		if (f == NULL)
			goto fail_locked;
		f->name = strdup(name);
		f->help = strdup(help);
		f->type = type;
		if (f->name == NULL || f->help == NULL) {
			free(f->name);
			free(f->help);
			free(f);
			goto fail_locked;
		}
		if (metrics->families_tail != NULL)
			metrics->families_tail->next = f;
		else
			metrics->families = f;
		metrics->families_tail = f;
	}
	if (f->series_tail != NULL)
		f->series_tail->next = s;
	else
		f->series = s;
	f->series_tail = s;
	(void)pthread_mutex_unlock(&metrics->lock);
	return s;

fail_locked:
	(void)pthread_mutex_unlock(&metrics->lock);
	free(s->labels);
	free(s);
	return NULL;
}

void metric_add(pp_metric_t *metric, uint64_t delta)
{
	if (metric != NULL)
		atomic_fetch_add_explicit(&metric->value, delta, memory_order_relaxed);
}

void metric_inc(pp_metric_t *metric)
{
	metric_add(metric, 1);
}

void metric_sub(pp_metric_t *metric, uint64_t delta)
{
	if (metric != NULL && metric->type == METRIC_GAUGE)
		atomic_fetch_sub_explicit(&metric->value, delta, memory_order_relaxed);
}

void metric_set(pp_metric_t *metric, uint64_t value)
{
	if (metric != NULL && metric->type == METRIC_GAUGE)
		atomic_store_explicit(&metric->value, value, memory_order_relaxed);
}

uint64_t metric_value(const pp_metric_t *metric)
{
	if (metric == NULL)
		return 0;
	return atomic_load_explicit(&metric->value, memory_order_relaxed);
}

void metric_observe(pp_metric_t *metric, uint64_t value)
{
	if (metric == NULL)
		return;
	atomic_fetch_add_explicit(&metric->value, value, memory_order_relaxed);
	atomic_fetch_add_explicit(&metric->count, 1, memory_order_relaxed);
}

int metrics_add_collector(pp_metrics_t *metrics, pp_metrics_collect_fn fn, void *ctx)
{
	if (metrics == NULL || fn == NULL)
		return -1;
	pp_metrics_collector_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->fn = fn;
	c->ctx = ctx;
	if (pthread_mutex_lock(&metrics->lock) != 0)
		abort();
	if (metrics->collectors_tail != NULL)
		metrics->collectors_tail->next = c;
	else
		metrics->collectors = c;
	metrics->collectors_tail = c;
	(void)pthread_mutex_unlock(&metrics->lock);
	return 0;
}

/* ---- rendering ---- */

int metrics_write_family(pp_metrics_writer_t *w, const char *name, const char *help,
			 pp_metric_type_t type)
{
	if (!metrics_name_valid(name, true) || help == NULL)
		return -1;
	writer_puts(w, "# HELP ");
	writer_puts(w, name);
	writer_puts(w, " ");
	writer_escaped(w, help, false);
	writer_puts(w, "\n# TYPE ");
	writer_puts(w, name);
	writer_puts(w, " ");
	writer_puts(w, metrics_type_name(type));
	writer_puts(w, "\n");
	return w->is_failed ? -1 : 0;
}

int metrics_write_sample(pp_metrics_writer_t *w, const char *name, const char *const *labels,
			 double value)
{
	if (!metrics_name_valid(name, true))
		return -1;
	writer_puts(w, name);
	if (!writer_labels(w, labels))
		return -1;
	writer_printf(w, " %.17g\n", value);
	return w->is_failed ? -1 : 0;
}

/* Writes one registered series. */
static void metrics_render_series(pp_metrics_writer_t *w, const pp_metric_family_t *f,
				  pp_metric_t *s)
{
	uint64_t value = atomic_load_explicit(&s->value, memory_order_relaxed);
	if (f->type != METRIC_SUMMARY) {
		writer_puts(w, f->name);
		writer_puts(w, s->labels);
		writer_printf(w, " %" PRIu64 "\n", value);
		return;
	}
	uint64_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
	writer_puts(w, f->name);
	writer_puts(w, "_sum");
	writer_puts(w, s->labels);
	writer_printf(w, " %.17g\n", (double)value / (double)s->scale);
	writer_puts(w, f->name);
	writer_puts(w, "_count");
	writer_puts(w, s->labels);
	writer_printf(w, " %" PRIu64 "\n", count);
}

int metrics_render(pp_metrics_t *metrics, char **text_r, size_t *len_r, char *error,
		   size_t error_size)
{
	*text_r = NULL;
	*len_r = 0;
	pp_metrics_writer_t w = { 0 };
	writer_puts(&w, "");

	/* The lock keeps registration out while the lists are walked. */
	if (pthread_mutex_lock(&metrics->lock) != 0)
		abort();
	for (pp_metric_family_t *f = metrics->families; f != NULL; f = f->next) {
		(void)metrics_write_family(&w, f->name, f->help, f->type);
		for (pp_metric_t *s = f->series; s != NULL; s = s->next)
			metrics_render_series(&w, f, s);
	}

	/* Collectors run under the lock too (they must not register series). */
	for (pp_metrics_collector_t *c = metrics->collectors; c != NULL && !w.is_failed;
	     c = c->next) {
		if (c->fn(&w, c->ctx) != 0) {
			(void)pthread_mutex_unlock(&metrics->lock);
			free(w.buf);
			(void)str_format(error, error_size,
					 "metrics: a collector failed; see the log line before this");
			return -1;
		}
	}
	(void)pthread_mutex_unlock(&metrics->lock);
	if (w.is_failed) {
		free(w.buf);
		(void)str_format(error, error_size,
				 "metrics: out of memory or page over %u bytes while rendering",
				 METRICS_RENDER_MAX);
		return -1;
	}
	*text_r = w.buf;
	*len_r = w.len;
	return 0;
}
