/*
 * runtime.h - opening a Pullprint installation: configuration in, then the master key, the
 * database (migrated), the spool and the domain context, in that order.
 *
 * The server and the command line open the same installation the same way, so an admin's
 * `pullprint` run sees exactly what the running server sees.
 */
#ifndef PP_RUNTIME_H
#define PP_RUNTIME_H

#include "core/core.h"
#include "db/db.h"
#include "lib/config.h"
#include "spool/spool.h"

#include <stdbool.h>

typedef struct pp_runtime {
	pp_config_t config;
	uint8_t master_key[CRYPTO_KEY_BYTES];
	pp_db_t *db; /* owned */
	pp_spool_t *spool; /* owned */
	pp_settings_cache_t *settings_cache; /* owned; lent to core */
	pp_core_t core; /* borrows db, spool and settings_cache */
	bool is_core_ready;
} pp_runtime_t;

/*
 * Reads the configuration: path (NULL = the default path, which may be missing), then
 * state_dir_override (NULL = none). Fills rt->config. Returns 0, or -1 with error naming the
 * file, line and setting.
 */
int runtime_load_config(pp_runtime_t *rt, const char *path, const char *state_dir_override,
			char *error, size_t error_size);

/*
 * Opens what rt->config names: makes state_dir (0700), loads or creates the master key, opens
 * and migrates the database, opens the spool, and fills rt->core. Returns 0 or -1 with error
 * saying what to do. On failure everything opened is closed again.
 */
int runtime_open(pp_runtime_t *rt, char *error, size_t error_size);

/* Closes everything runtime_open opened and wipes the keys. Safe to call twice. */
void runtime_close(pp_runtime_t *rt);

#endif
