/*
 * settings-cache.h - the stored settings and sender rules, kept in memory for the requests
 * that read them on every job.
 *
 * Every IPP job reads a handful of settings (trusted networks, the user map, the retention)
 * and the sender rules; each read was a database statement. The cache holds the whole
 * `settings` table and the rule list, and reads them again when they may have changed:
 *
 * - at once after any process on this host changed them: settings_set(), settings_reset()
 *   and the sender rule changes call settings_cache_changed() after their commit, which
 *   bumps a change counter in the state directory (lib/change-counter.h) that every process
 *   reads before it trusts its copy: one pread() instead of a statement;
 * - at the latest SETTINGS_CACHE_MAX_AGE_MS after loading, for changes this host cannot see:
 *   another host on the same PostgreSQL, or a hand-made SQL edit.
 *
 * Thread-safe. The lock is never held across a database call (a thread inside a
 * transaction holds the database handle and may read a setting), so two threads may load
 * at once; the later copy wins and both are current.
 *
 * A core without a cache (core->settings_cache NULL: unit tests, tools) reads the database
 * each time, as before.
 */
#ifndef PP_SETTINGS_CACHE_H
#define PP_SETTINGS_CACHE_H

#include "core/core.h"
#include "core/sender-policy.h"

#include <stdbool.h>
#include <stddef.h>

/* A copy is read again at the latest this long after it was loaded. */
#define SETTINGS_CACHE_MAX_AGE_MS 5000

/* The change counter's file name in the state directory. */
#define SETTINGS_CACHE_COUNTER_FILE "settings.changes"

/*
 * Opens a cache whose change counter is the file counter_path (created, 0600). *cache_r is
 * new; close with settings_cache_close() after the last reader stopped. Returns 0 or -1.
 */
int settings_cache_open(const char *counter_path, pp_settings_cache_t **cache_r, char *error,
                        size_t error_size);

/* Frees *cache and sets it to NULL. NULL is a no-op. */
void settings_cache_close(pp_settings_cache_t **cache);

/*
 * Tells every process on this host (this one included) that settings or sender rules
 * changed: call after the commit. No-op for a core without a cache. A counter that cannot
 * be written is logged (the change then shows within SETTINGS_CACHE_MAX_AGE_MS).
 */
void settings_cache_changed(pp_core_t *core);

/*
 * The stored text of setting name into buf[buf_size], *is_stored_r false (buf "") when no row
 * holds it. core->settings_cache must be set. Returns 0, or -1 (error says why: the
 * database, or a buffer too small).
 */
int settings_cache_stored(pp_core_t *core, const char *name, char *buf, size_t buf_size,
                          bool *is_stored_r, char *error, size_t error_size);

/*
 * Calls visit(rule, ctx) for every sender rule in sender_rule_list()'s order, under the
 * cache's lock (visit must not call back into settings or rules). core->settings_cache must
 * be set. Returns 0 or -1.
 */
typedef void settings_cache_rule_fn(const pp_sender_rule_t *rule, void *ctx);
int settings_cache_rules_visit(pp_core_t *core, settings_cache_rule_fn *visit, void *ctx,
                               char *error, size_t error_size);

/*
 * A copy of the sender rules (as sender_rule_list()): *rules_r new (free with
 * sender_rule_list_free()), *count_r rules. Returns 0 or -1.
 */
int settings_cache_rules_copy(pp_core_t *core, pp_sender_rule_t **rules_r, size_t *count_r,
                              char *error, size_t error_size);

#endif
