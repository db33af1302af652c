/*
 * core.h - the context every domain function takes: the storage handle, the spool, the
 * sub-keys derived from the master key, and the clock.
 *
 * One pp_core_t lives as long as the server (or one command-line run). It holds no mutable
 * state of its own beyond what it points to, so it is shared by every thread.
 */
#ifndef PP_CORE_H
#define PP_CORE_H

#include "db/db.h"
#include "lib/crypto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct pp_spool pp_spool_t;
typedef struct pp_settings_cache pp_settings_cache_t; /* core/settings-cache.h */
struct pp_directory_result; /* directory/directory.h */

typedef struct pp_core {
	pp_db_t *db; /* borrowed */
	pp_spool_t *spool; /* borrowed; may be NULL for commands that touch no documents */
	/* Settings and sender rules in memory (runtime_open() sets it); borrowed. NULL = read
	 * the database each time. */
	pp_settings_cache_t *settings_cache;
	uint8_t code_key[CRYPTO_KEY_BYTES]; /* CRYPTO_SUBKEY_CODES */
	uint8_t token_key[CRYPTO_KEY_BYTES]; /* CRYPTO_SUBKEY_TOKENS */
	uint8_t pseudonym_key[CRYPTO_KEY_BYTES]; /* CRYPTO_SUBKEY_PSEUDONYM */
	/* Current time in Unix seconds; tests replace it to move time forward. */
	int64_t (*now)(void *clock_ctx);
	void *clock_ctx;
	/* Called by intake after it committed a job in state received (a cheap, non-blocking
	 * nudge: the server's conversion pool looks for work at once instead of at its next
	 * poll). NULL = none. Set before the threads that submit jobs start, cleared after they
	 * stopped: core is read by every thread without a lock. */
	void (*on_job_received)(void *ctx);
	void *on_job_received_ctx;
	/* Called by job_release() after it committed a job in state releasing (the same kind
	 * of nudge: the server's delivery manager picks the job up at once instead of at its
	 * next poll). NULL = none. Same rules as on_job_received. */
	void (*on_job_released)(void *ctx);
	void *on_job_released_ctx;
	/* job_release() also notifies this PostgreSQL channel after its commit (db_notify(),
	 * nothing on SQLite), so that the delivery managers of every server host, which LISTEN
	 * on it, see a release made by another process (the command line) at once. */
#define CORE_RELEASED_CHANNEL "pullprint_released"
	/* The company directory (src/directory), when the program has it: directory_attach()
	 * sets these to directory_signin(), directory_lookup_sender() and
	 * directory_has_enabled(); runtime_open() calls it. NULL = no directory: sign-in and
	 * on-boarding skip that step. */
	int (*directory_signin)(struct pp_core *core, const char *login, const char *password,
				const char *source, struct pp_directory_result *result_r,
				char *error, size_t error_size);
	int (*directory_sender)(struct pp_core *core, const char *email, const char *source,
				struct pp_directory_result *result_r, char *error,
				size_t error_size);
	int (*directory_has_enabled)(struct pp_core *core, bool *has_r, char *error,
				     size_t error_size);
} pp_core_t;

/*
 * Fills core with db, spool and the sub-keys derived from master; the clock is the real one.
 * Returns 0, or -1 if a key cannot be derived.
 */
int core_init(pp_core_t *core, pp_db_t *db, pp_spool_t *spool,
	      const uint8_t master_key[CRYPTO_KEY_BYTES]);

/* Wipes the sub-keys. db and spool are not closed: core_init borrowed them. */
void core_deinit(pp_core_t *core);

/* The current time in Unix seconds from core's clock. */
int64_t core_now(const pp_core_t *core);

#endif
