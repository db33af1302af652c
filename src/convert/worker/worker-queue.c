/*
 * worker-queue.c - a worker on another host (pullprint-convert --queue): it shares the
 * server's PostgreSQL database and spool, claims the oldest waiting job itself
 * (convert_queue_claim_next: FOR UPDATE SKIP LOCKED, so several hosts never take the same
 * job) and sleeps on LISTEN/NOTIFY between jobs, waking at least every 5 s to look anyway
 * (a notification can be lost while the connection is re-opened).
 *
 * SIGTERM and SIGINT are blocked by the caller and looked for between jobs with
 * sigtimedwait(), so a signal never interrupts a conversion: the current job is finished and
 * recorded, then the worker ends.
 */
#include "convert/worker/worker.h"

#include "db/db-listen.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define WORKER_QUEUE_WAIT_MS 5000

/* Waits up to timeout_ms for SIGTERM or SIGINT (0: only looks). True when one came. */
static bool worker_queue_signalled(int timeout_ms)
{
	sigset_t set;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGTERM);
	(void)sigaddset(&set, SIGINT);
	struct timespec ts = {.tv_sec = timeout_ms / 1000,
			      .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0) {
			log_info("convert: %s received: ending after the current job",
				 sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return true;
		}
		/* EINTR: another signal (the timeout restarts: harmless for a pause). */
		if (errno != EINTR)
			return false;
	}
}

/* Converts one claimed task; a job the worker could not record is given back for another
 * attempt. Returns 0, or -1 when the worker itself failed (the caller pauses: a full disk or
 * a lost database does not mend in a tight loop). */
static int worker_queue_convert(pp_worker_t *w, const pp_convert_task_t *task)
{
	char error[1024];
	pp_worker_outcome_t outcome;
	if (worker_job_run(w, task, &outcome, error, sizeof(error)) == 0)
		return 0;
	log_error("convert: job=%lld: %s", (long long)task->job_id, error);
	bool is_requeued = false;
	if (convert_queue_abandon(w->core, task->job_id, w->config->convert_max_attempts,
				  "The converter failed several times: send the document again.",
				  &is_requeued, error, sizeof(error)) != JOB_OK) {
		/* The server's stale-claim sweep gives it back after the lease. */
		log_error("convert: job=%lld: cannot give the job back: %s",
			  (long long)task->job_id, error);
	}
	return -1;
}

int worker_queue_run(pp_worker_t *w, const char *url)
{
	char error[1024];
	if (db_backend(w->core->db) != PP_DB_POSTGRES) {
		log_error("convert: --queue needs the server's shared PostgreSQL database "
			  "([server] database = postgresql://…); with SQLite the server converts "
			  "on its own host: set [convert] local = yes there instead");
		return 1;
	}
	if (worker_converter_start(w, error, sizeof(error)) < 0) {
		log_error("convert: %s", error);
		return 1;
	}
	pp_db_listener_t *listener = NULL;
	if (db_listener_open(url, CONVERT_QUEUE_CHANNEL, &listener, error, sizeof(error)) < 0) {
		log_error("convert: cannot listen for new jobs: %s", error);
		return 1;
	}
	log_info("convert: worker %s takes jobs from the shared queue", w->name);

	while (!worker_queue_signalled(0)) {
		pp_convert_task_t task;
		int rc = convert_queue_claim_next(w->core, w->name, &task, error, sizeof(error));
		if (rc == 1) {
			/* Straight on afterwards: more jobs may be waiting. */
			if (worker_queue_convert(w, &task) < 0 &&
			    worker_queue_signalled(WORKER_QUEUE_WAIT_MS))
				break;
			continue;
		}
		if (rc < 0) {
			log_error("convert: cannot claim a job: %s", error);
			if (worker_queue_signalled(WORKER_QUEUE_WAIT_MS))
				break;
			continue;
		}
		bool is_notified = false;
		if (db_listener_wait(listener, WORKER_QUEUE_WAIT_MS, &is_notified, error,
				     sizeof(error)) < 0) {
			log_warn("convert: waiting for new jobs: %s", error);
			if (worker_queue_signalled(WORKER_QUEUE_WAIT_MS))
				break;
		}
	}
	db_listener_close(&listener);
	return 0;
}
