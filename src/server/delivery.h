/*
 * delivery.h - pullprintd's delivery manager: released jobs go out to their printers.
 *
 * A job the user released is in state releasing with a printer (job_release()). The manager
 * finds such jobs at once when job_release() calls core's on_job_released hook (in this
 * process), and every poll_ms otherwise (a release made by another process: the command
 * line, another server host). It runs at most one job per printer at a time and many printers
 * in parallel, each delivery on one of its own threads, so a slow printer holds one thread
 * and never the listener or another printer.
 *
 * One delivery: the print data is the kept PDF as it is when the printer takes PDF and its
 * output format is auto or pdf (the fast path: nothing is converted at release), else what
 * the conversion pool renders for that printer ("print" document). It is streamed from the
 * encrypted spool straight into the transport (output/deliver.h): no plaintext file in the
 * server. The job moves releasing -> printing when the first data is read for the printer,
 * and printing -> completed (with the pages printed; the accounting row is written by that
 * move) when the printer has it.
 *
 * Faults: a transient one (refused, offline, busy, timeout) is retried on the same printer
 * after each delay of retry_delays_ms ([delivery] retry_delays: 5 s, 15 s, 45 s), then on the next enabled printer of
 * the printer's failover group (by name) not yet tried; when every one failed, or at once for
 * a permanent fault (format refused, bad URI), the job goes back to held (failed retryable ->
 * held) with a reason its owner sees ("Printer X did not answer (connection refused); your
 * job is held again: release it to another printer."). A job is never lost. A job canceled
 * meanwhile is noticed at the next poll and its delivery stopped (the cancel flag of
 * deliver_send()).
 *
 * Several server hosts on one PostgreSQL database: each host's manager may pick the same job;
 * the move releasing -> printing decides which one sends (the other one stops before any
 * data). Jobs found printing when the server starts (a crash while sending; SQLite only,
 * since on PostgreSQL another host may be sending them) go back to held with a reason that
 * asks the user to check the printer first.
 */
#ifndef PP_DELIVERY_H
#define PP_DELIVERY_H

#include "core/core.h"
#include "lib/config.h"
#include "server/convert-pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DELIVERY_THREADS_DEFAULT 32 /* idle threads cost a stack each, nothing else */
#define DELIVERY_THREADS_MAX 256
#define DELIVERY_RETRIES_MAX CONFIG_DELIVERY_RETRIES_MAX
#define DELIVERY_POLL_MS_DEFAULT 1000
#define DELIVERY_RENDER_TIMEOUT_S_DEFAULT 300
#define DELIVERY_SERVER_NAME_MAX 256

typedef struct pp_delivery pp_delivery_t;

/* How the manager works. Zeroed: the defaults named on each field. */
typedef struct {
	unsigned threads; /* deliveries at once; 0 = DELIVERY_THREADS_DEFAULT */
	/* Pauses before each retry on the same printer; n = 0: 5000, 15000, 45000 ms. At most
	 * DELIVERY_RETRIES_MAX (more are ignored). */
	unsigned retry_delays_ms[DELIVERY_RETRIES_MAX];
	size_t n_retry_delays;
	bool no_retries;   /* true: no retry on the same printer (failover still happens) */
	unsigned poll_ms;  /* look for released jobs at least this often; 0 = 1000 */
	/* Passed to deliver_send(); 0 = its defaults (10, 60, 600 s). */
	unsigned connect_timeout_s;
	unsigned io_timeout_s;
	unsigned follow_timeout_s;
	unsigned render_timeout_s; /* waiting for the pool's print data; 0 = 300 */
	pp_convert_pool_t *pool;   /* borrowed; NULL: printers that need conversion are
				      refused (the job goes back to held, saying why) */
	bool recover_printing;     /* at start, jobs left printing go back to held (SQLite) */
	/* PostgreSQL: the database URL to LISTEN on CORE_RELEASED_CHANNEL, so that releases
	 * made by other processes wake the manager at once; NULL or "" = poll only. */
	const char *listen_url;
} pp_delivery_config_t;

/*
 * Fills the timeouts, threads and retry pauses of *config from the [delivery] section of
 * the start-up configuration (retry_delays = none: no retry on the same printer, failover
 * at once). Other fields are left as they are.
 */
void delivery_config_apply(pp_delivery_config_t *config, const pp_config_t *cfg);

/* A snapshot for metrics and tests. */
typedef struct {
	unsigned threads;
	unsigned sending;  /* deliveries running now */
	unsigned waiting;  /* jobs known and waiting (a busy printer, a retry pause) */
	uint64_t completed, held_again, retries, failovers; /* since start */
} pp_delivery_status_t;

/*
 * Starts the manager's threads. core is borrowed and must outlive the manager; config is
 * copied. Hook it to core afterwards (core->on_job_released = delivery_on_job_released,
 * ctx = the manager). Returns 0 with *delivery_r (new; stop with delivery_stop()), or -1.
 */
int delivery_start(pp_core_t *core, const pp_delivery_config_t *config,
                   pp_delivery_t **delivery_r, char *error, size_t error_size);

/* Makes the manager look for released jobs now. Cheap, never blocks. NULL is a no-op. */
void delivery_wake(pp_delivery_t *delivery);

/* delivery_wake() in the shape of pp_core_t's on_job_released hook (ctx is the manager). */
void delivery_on_job_released(void *ctx);

/* Fills *status_r (zero for NULL). Thread-safe. */
void delivery_status(pp_delivery_t *delivery, pp_delivery_status_t *status_r);

/*
 * Stops: no new delivery starts; deliveries in flight get up to grace_ms to finish, then are
 * canceled (a job that was printing goes back to held saying so; a job still releasing stays
 * releasing and is sent after the next start). Clear core's on_job_released hook first.
 * NULL-safe; sets *delivery to NULL.
 */
void delivery_stop(pp_delivery_t **delivery, unsigned grace_ms);

#endif
