/*
 * convert-pool.h - pullprintd's own conversion workers ([convert] local = yes).
 *
 * The pool keeps N pullprint-convert processes running and one dispatcher thread. The
 * dispatcher claims received jobs (convert_queue_claim_next(), worker name "<host>:<pid>")
 * for workers that said "ready" and hands each job's id to one of them; it looks for work
 * every second and at once when intake calls convert_pool_wake() (through core's
 * on_job_received hook). The worker records the outcome in the database itself; the
 * dispatcher only learns that the worker is free again. A worker that dies, closes its socket
 * or breaks the protocol (convert/worker-protocol.h) is killed and reaped, its job abandoned
 * (received again while attempts remain, else failed), and a new worker started: at most one
 * start per second per worker, and a pause of 30 s after 5 quick deaths in a row.
 *
 * How a worker is started (the program's side of this contract):
 *
 *   <program> [--config <path>] --state-dir <dir> --fd <n>
 *
 * posix_spawn, no shell; --config is given only when the server read a configuration file;
 * <n> is the worker's end of a SOCK_SEQPACKET socketpair (always 3, without FD_CLOEXEC:
 * the worker should set FD_CLOEXEC on it so that its own children do not inherit it).
 * Standard input is /dev/null, standard output and error are the server's; every other
 * descriptor is closed. The worker runs in its own process group with an empty signal mask
 * and default signal actions. On stop the server closes the sockets, sends SIGTERM, and
 * SIGKILL after 5 s.
 */
#ifndef PP_CONVERT_POOL_H
#define PP_CONVERT_POOL_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pp_convert_pool pp_convert_pool_t;

/* What the pool starts. Strings are copied. */
typedef struct {
	const char *program;     /* NULL or "" = pullprint-convert beside /proc/self/exe */
	const char *config_path; /* given as --config; NULL or "" = none */
	const char *state_dir;   /* given as --state-dir; required */
	unsigned workers;        /* 0 = one per online processor */
	unsigned max_attempts;   /* [convert] max_attempts, for jobs whose worker died */
} pp_convert_pool_config_t;

/* A snapshot of the pool. */
typedef struct {
	unsigned workers; /* configured */
	unsigned alive;   /* processes running */
	unsigned ready;   /* running and idle */
	unsigned busy;    /* converting or rendering pages */
} pp_convert_pool_status_t;

/*
 * Starts the workers and the dispatcher. core is borrowed and must outlive the pool. When the
 * program does not exist (or is not executable) one error line says that conversion is off
 * and how to fix it, and the call returns 0 with *pool_r NULL: the server runs without a pool.
 * Returns 0 with *pool_r (new; stop with convert_pool_stop()), or -1 with error.
 */
int convert_pool_start(pp_core_t *core, const pp_convert_pool_config_t *config,
                       pp_convert_pool_t **pool_r, char *error, size_t error_size);

/* Makes the dispatcher look for received jobs now. Cheap, never blocks. NULL is a no-op. */
void convert_pool_wake(pp_convert_pool_t *pool);

/* convert_pool_wake() in the shape of pp_core_t's on_job_received hook (ctx is the pool). */
void convert_pool_on_job_received(void *ctx);

/*
 * Queues "pages <job_id> <first> <last>" for the next idle worker (on-demand previews of a
 * held job; 1 <= first <= last). The worker records the pages itself. Returns 0, or -1 with
 * error when the queue is full (try again later) or the range is bad.
 */
int convert_pool_request_pages(pp_convert_pool_t *pool, int64_t job_id, unsigned first,
                               unsigned last, char *error, size_t error_size);

/*
 * Asks the next idle worker for print data: "print <job_id> <printer_id> <format>" (format an
 * output name: pdf, pwg, urf, ps, pcl5, pcl6). The worker renders the job's kept PDF with the
 * job's options for that printer's capabilities and stores it as the job's "print" document
 * (replacing an older one) before it answers. Print requests go before page requests and
 * conversions: someone waits at the printer. Blocks the caller (a delivery thread, never a
 * listener thread) up to timeout_s. Returns 0 when the document is stored, or -1 with
 * reason_r[reason_size] saying why for the user (the worker's reason, a time-out, no pool,
 * the worker died). Thread-safe.
 */
int convert_pool_request_print(pp_convert_pool_t *pool, int64_t job_id, int64_t printer_id,
                               const char *format, unsigned timeout_s, char *reason_r,
                               size_t reason_size);

/* Fills *status_r (all zero for a NULL pool). Thread-safe. */
void convert_pool_status(pp_convert_pool_t *pool, pp_convert_pool_status_t *status_r);

/*
 * Stops the dispatcher, then the workers (sockets closed, SIGTERM, SIGKILL after 5 s, all
 * reaped); a job a worker still held is abandoned. Clear core's on_job_received hook first.
 * NULL-safe; sets *pool to NULL.
 */
void convert_pool_stop(pp_convert_pool_t **pool);

#endif
