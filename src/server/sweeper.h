/*
 * sweeper.h - the background thread that applies retention: expires unprinted jobs, deletes
 * printed documents per policy, purges expired tokens — every interval, and once at start —
 * puts stale conversion claims back, and once an hour removes spool files that no row names (what a crash of another process,
 * such as `pullprint jobs submit`, left behind while the server ran).
 */
#ifndef PP_SWEEPER_H
#define PP_SWEEPER_H

#include "core/core.h"

/* Unreferenced spool files older than this are removed by the hourly recovery pass. */
#define SWEEPER_ORPHAN_AGE_S 3600

typedef struct pp_sweeper pp_sweeper_t;

/*
 * Starts the thread. core is borrowed and must outlive the sweeper. Each pass also puts
 * conversions claimed more than convert_lease_s ago back in the queue (or fails them after
 * convert_max_attempts): their worker died without a word (convert_queue_requeue_stale()).
 * Returns 0 or -1.
 */
int sweeper_start(pp_core_t *core, unsigned interval_s, int64_t convert_lease_s,
		  unsigned convert_max_attempts, pp_sweeper_t **sweeper_r, char *error,
		  size_t error_size);

/* Asks the thread to stop after its current batch, joins it and frees. NULL-safe. */
void sweeper_stop(pp_sweeper_t **sweeper);

#endif
