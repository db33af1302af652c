/* settings-cache.c - settings and sender rules in memory; see settings-cache.h. */
#include "core/settings-cache.h"

#include "lib/change-counter.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One stored setting: the name and its text as the table holds them. */
typedef struct {
	char *name;
	char *value;
} cache_setting_t;

/* When a copy was made, and from which change number. */
typedef struct {
	bool is_loaded;
	uint64_t changes; /* the counter read before the copy's query */
	int64_t loaded_ms; /* CLOCK_MONOTONIC */
} cache_stamp_t;

struct pp_settings_cache {
	pthread_mutex_t lock;
	pp_change_counter_t *counter;
	cache_stamp_t settings_stamp;
	cache_setting_t *settings; /* settings_count rows */
	size_t settings_count;
	cache_stamp_t rules_stamp;
	pp_sender_rule_t *rules; /* rules_count rules */
	size_t rules_count;
};

static int64_t cache_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cache_settings_free(cache_setting_t **settings, size_t count)
{
	if (*settings == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		free((*settings)[i].name);
		free((*settings)[i].value);
	}
	free(*settings);
	*settings = NULL;
}

int settings_cache_open(const char *counter_path, pp_settings_cache_t **cache_r, char *error,
                        size_t error_size)
{
	*cache_r = NULL;
	pp_settings_cache_t *cache = calloc(1, sizeof(*cache));
	if (cache == NULL) {
		(void)str_format(error, error_size, "settings cache: out of memory");
		return -1;
	}
	if (pthread_mutex_init(&cache->lock, NULL) != 0) {
		(void)str_format(error, error_size, "settings cache: cannot make its lock");
		free(cache);
		return -1;
	}
	if (change_counter_open(counter_path, &cache->counter, error, error_size) < 0) {
		(void)pthread_mutex_destroy(&cache->lock);
		free(cache);
		return -1;
	}
	*cache_r = cache;
	return 0;
}

void settings_cache_close(pp_settings_cache_t **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	pp_settings_cache_t *c = *cache;
	change_counter_close(&c->counter);
	cache_settings_free(&c->settings, c->settings_count);
	free(c->rules);
	(void)pthread_mutex_destroy(&c->lock);
	free(c);
	*cache = NULL;
}

void settings_cache_changed(pp_core_t *core)
{
	if (core->settings_cache == NULL)
		return;
	if (change_counter_bump(core->settings_cache->counter) < 0)
		log_warn("settings.change_not_signalled error=\"%s\" action=\"running servers see "
		         "the change within %d s; check the state directory's permissions\"",
		         strerror(errno), SETTINGS_CACHE_MAX_AGE_MS / 1000);
}

/*
 * Reads the change counter into *changes_r. False when it cannot be read: the caller then
 * loads again (a copy is never trusted without knowing nothing changed).
 */
static bool cache_counter(pp_settings_cache_t *cache, uint64_t *changes_r)
{
	if (change_counter_read(cache->counter, changes_r) == 0)
		return true;
	*changes_r = 0;
	return false;
}

/* Under the lock: the copy stamped so is current for a counter reading changes. */
static bool cache_is_fresh_locked(const cache_stamp_t *stamp, bool has_changes, uint64_t changes)
{
	return stamp->is_loaded && has_changes && stamp->changes == changes &&
	       cache_now_ms() - stamp->loaded_ms < SETTINGS_CACHE_MAX_AGE_MS;
}

/* Reads the whole settings table into a new array. Returns 0 or -1. */
static int cache_settings_load(pp_core_t *core, cache_setting_t **settings_r, size_t *count_r,
                               char *error, size_t error_size)
{
	*settings_r = NULL;
	*count_r = 0;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT name, value FROM settings", NULL, 0, &res, db_error,
	             sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "settings: cannot read: %s", db_error);
		return -1;
	}
	size_t rows = db_result_rows(res);
	cache_setting_t *settings = calloc(rows > 0 ? rows : 1, sizeof(*settings));
	bool is_ok = settings != NULL;
	for (size_t i = 0; is_ok && i < rows; i++) {
		settings[i].name = strdup(db_result_text(res, i, 0));
		settings[i].value = strdup(db_result_text(res, i, 1));
		is_ok = settings[i].name != NULL && settings[i].value != NULL;
	}
	db_result_free(&res);
	if (!is_ok) {
		cache_settings_free(&settings, rows);
		(void)str_format(error, error_size, "settings: out of memory");
		return -1;
	}
	*settings_r = settings;
	*count_r = rows;
	return 0;
}

/* Under the lock: copies name's stored text into buf. Returns 0, or -1 when too long. */
static int cache_lookup_locked(const pp_settings_cache_t *cache, const char *name, char *buf,
                               size_t buf_size, bool *is_stored_r, char *error,
                               size_t error_size)
{
	*is_stored_r = false;
	(void)str_copy(buf, buf_size, "");
	for (size_t i = 0; i < cache->settings_count; i++) {
		if (strcmp(cache->settings[i].name, name) != 0)
			continue;
		if (!str_copy(buf, buf_size, cache->settings[i].value)) {
			(void)str_format(error, error_size, "settings: %s: the stored value is too long",
			                 name);
			return -1;
		}
		*is_stored_r = true;
		return 0;
	}
	return 0;
}

/*
 * Reads the counter and takes the lock. True, the lock held, when the copy stamped *stamp is
 * current. False, the lock released, with *next_r the stamp for a copy loaded now: it is
 * taken before the load, so a change made during the load is seen at the next read.
 */
static bool cache_lock_if_fresh(pp_settings_cache_t *cache, const cache_stamp_t *stamp,
                                cache_stamp_t *next_r)
{
	uint64_t changes;
	bool has_changes = cache_counter(cache, &changes);
	int64_t now_ms = cache_now_ms();
	(void)pthread_mutex_lock(&cache->lock);
	if (cache_is_fresh_locked(stamp, has_changes, changes))
		return true;
	(void)pthread_mutex_unlock(&cache->lock);
	*next_r = (cache_stamp_t){.is_loaded = has_changes, .changes = changes, .loaded_ms = now_ms};
	return false;
}

/* Makes the settings copy current (loading it when stale) and returns with the lock held, or
 * returns -1 without it. */
static int cache_settings_lock_current(pp_core_t *core, char *error, size_t error_size)
{
	pp_settings_cache_t *cache = core->settings_cache;
	cache_stamp_t stamp;
	if (cache_lock_if_fresh(cache, &cache->settings_stamp, &stamp))
		return 0;
	cache_setting_t *settings = NULL;
	size_t count = 0;
	if (cache_settings_load(core, &settings, &count, error, error_size) < 0)
		return -1;
	(void)pthread_mutex_lock(&cache->lock);
	cache_settings_free(&cache->settings, cache->settings_count);
	cache->settings = settings;
	cache->settings_count = count;
	cache->settings_stamp = stamp;
	return 0;
}

int settings_cache_stored(pp_core_t *core, const char *name, char *buf, size_t buf_size,
                          bool *is_stored_r, char *error, size_t error_size)
{
	if (cache_settings_lock_current(core, error, error_size) < 0)
		return -1;
	pp_settings_cache_t *cache = core->settings_cache;
	int rc = cache_lookup_locked(cache, name, buf, buf_size, is_stored_r, error, error_size);
	(void)pthread_mutex_unlock(&cache->lock);
	return rc;
}

/* Makes the rule copy current (loading it when stale) and returns with the lock held, or
 * returns -1 without it. */
static int cache_rules_lock_current(pp_core_t *core, char *error, size_t error_size)
{
	pp_settings_cache_t *cache = core->settings_cache;
	cache_stamp_t stamp;
	if (cache_lock_if_fresh(cache, &cache->rules_stamp, &stamp))
		return 0;
	pp_sender_rule_t *rules = NULL;
	size_t count = 0;
	if (sender_rule_list_stored(core, &rules, &count, error, error_size) < 0)
		return -1;
	(void)pthread_mutex_lock(&cache->lock);
	free(cache->rules);
	cache->rules = rules;
	cache->rules_count = count;
	cache->rules_stamp = stamp;
	return 0;
}

int settings_cache_rules_visit(pp_core_t *core, settings_cache_rule_fn *visit, void *ctx,
                               char *error, size_t error_size)
{
	if (cache_rules_lock_current(core, error, error_size) < 0)
		return -1;
	pp_settings_cache_t *cache = core->settings_cache;
	for (size_t i = 0; i < cache->rules_count; i++)
		visit(&cache->rules[i], ctx);
	(void)pthread_mutex_unlock(&cache->lock);
	return 0;
}

int settings_cache_rules_copy(pp_core_t *core, pp_sender_rule_t **rules_r, size_t *count_r,
                              char *error, size_t error_size)
{
	*rules_r = NULL;
	*count_r = 0;
	if (cache_rules_lock_current(core, error, error_size) < 0)
		return -1;
	pp_settings_cache_t *cache = core->settings_cache;
	size_t count = cache->rules_count;
	pp_sender_rule_t *rules = calloc(count > 0 ? count : 1, sizeof(*rules));
	if (rules != NULL && count > 0)
		memcpy(rules, cache->rules, count * sizeof(*rules));
	(void)pthread_mutex_unlock(&cache->lock);
	if (rules == NULL) {
		(void)str_format(error, error_size, "sender rules: out of memory");
		return -1;
	}
	*rules_r = rules;
	*count_r = count;
	return 0;
}
