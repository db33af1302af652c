/* sweeper.c - the retention thread; see sweeper.h. */
#include "server/sweeper.h"

#include "core/convert-queue.h"
#include "core/intake.h"
#include "core/retention.h"
#include "core/tokens.h"
#include "directory/directory.h"
#include "lib/log.h"
#include "lib/str.h"
#include "output/status.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pp_sweeper {
	pp_core_t *core;
	unsigned interval_s;
	int64_t convert_lease_s;
	unsigned convert_max_attempts;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* signalled to stop early */
	bool is_stopping;
	int64_t last_recovery; /* monotonic seconds of the last orphan pass */
	unsigned passes;       /* passes done; printer status every SWEEPER_STATUS_EVERY */
};

/* Printer status is refreshed on the first pass and every this many passes after it. */
#define SWEEPER_STATUS_EVERY 5

static bool sweeper_is_stopping(pp_sweeper_t *sweeper)
{
	if (pthread_mutex_lock(&sweeper->lock) != 0)
		abort();
	bool is_stopping = sweeper->is_stopping;
	(void)pthread_mutex_unlock(&sweeper->lock);
	return is_stopping;
}

/* One pass: retention, tokens, stale conversions, printer status, directory imports.
 * Failures are logged and retried next pass. */
static void sweeper_pass(pp_sweeper_t *sweeper)
{
	char error[512];
	pp_retention_stats_t stats;
	/* Batches keep each pass short; a backlog drains over the following passes at once. */
	do {
		if (retention_sweep(sweeper->core, RETENTION_BATCH_DEFAULT, &stats, error,
				    sizeof(error)) < 0) {
			log_error("retention.failed error=\"%s\" action=\"will retry next pass\"",
				  error);
			break;
		}
		if (stats.jobs_expired + stats.files_deleted + stats.jobs_purged +
			    stats.accounting_purged >
		    0)
			log_info("retention.swept expired=%zu files_deleted=%zu jobs_purged=%zu "
				 "accounting_purged=%zu",
				 stats.jobs_expired, stats.files_deleted, stats.jobs_purged,
				 stats.accounting_purged);
	} while (stats.is_more && !sweeper_is_stopping(sweeper));

	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) == 0 &&
	    now.tv_sec - sweeper->last_recovery >= SWEEPER_ORPHAN_AGE_S) {
		sweeper->last_recovery = now.tv_sec;
		pp_intake_recovery_t recovery;
		if (intake_recover(sweeper->core, SWEEPER_ORPHAN_AGE_S, &recovery, error,
				   sizeof(error)) < 0)
			log_error("spool.recovery_failed error=\"%s\"", error);
	}

	/* Conversions whose worker vanished (a host that died, a hung worker) go back. */
	size_t requeued = 0, failed = 0;
	if (convert_queue_requeue_stale(sweeper->core, sweeper->convert_lease_s,
					sweeper->convert_max_attempts, &requeued, &failed, error,
					sizeof(error)) < 0)
		log_error("convert.requeue_failed error=\"%s\" action=\"will retry next pass\"",
			  error);
	if (requeued + failed > 0)
		log_info("convert.requeued_stale requeued=%zu failed=%zu", requeued, failed);

	int64_t purged = 0;
	if (tokens_purge_expired(sweeper->core, &purged, error, sizeof(error)) < 0)
		log_error("tokens.purge_failed error=\"%s\"", error);
	else if (purged > 0)
		log_info("tokens.purged count=%lld", (long long)purged);

	/* The printer status cache: bounded concurrency and short timeouts keep this pass to
	 * a few seconds even with printers switched off. */
	if (sweeper->passes++ % SWEEPER_STATUS_EVERY == 0 &&
	    status_refresh_all(sweeper->core, 0, NULL, error, sizeof(error)) < 0)
		log_error("printer.status_failed error=\"%s\" action=\"will retry next pass\"",
			  error);

	/* The company directory: connections whose sync interval has passed are imported (each
	 * records its own outcome for `pullprint directory status`). */
	size_t imported = 0;
	if (directory_import_due(sweeper->core, "system", &imported, error, sizeof(error)) < 0)
		log_error("directory.import_failed error=\"%s\" action=\"will retry next pass\"",
			  error);

	/* Memory freed after a burst (uploads, a sweep, conversions) goes back to the system:
	 * malloc keeps freed pages otherwise, and an idle server would stay at its peak. */
	(void)malloc_trim(0);
}

static void *sweeper_main(void *arg)
{
	pp_sweeper_t *sweeper = arg;
	for (;;) {
		sweeper_pass(sweeper);

		struct timespec deadline;
		if (clock_gettime(CLOCK_MONOTONIC, &deadline) < 0)
			abort(); /* CLOCK_MONOTONIC always exists on Linux */
		deadline.tv_sec += sweeper->interval_s;

		if (pthread_mutex_lock(&sweeper->lock) != 0)
			abort();
		while (!sweeper->is_stopping) {
			int rc = pthread_cond_timedwait(&sweeper->wake, &sweeper->lock, &deadline);
			if (rc == ETIMEDOUT)
				break;
		}
		bool is_stopping = sweeper->is_stopping;
		(void)pthread_mutex_unlock(&sweeper->lock);
		if (is_stopping)
			return NULL;
	}
}

int sweeper_start(pp_core_t *core, unsigned interval_s, int64_t convert_lease_s,
		  unsigned convert_max_attempts, pp_sweeper_t **sweeper_r, char *error,
		  size_t error_size)
{
	pp_sweeper_t *sweeper = calloc(1, sizeof(*sweeper));
	if (sweeper == NULL) {
		(void)str_format(error, error_size, "sweeper: out of memory");
		return -1;
	}
	sweeper->core = core;
	sweeper->interval_s = interval_s;
	sweeper->convert_lease_s = convert_lease_s;
	sweeper->convert_max_attempts = convert_max_attempts;
	struct timespec now;
	/* The server ran a recovery at start: the first hourly pass comes an hour later. */
	if (clock_gettime(CLOCK_MONOTONIC, &now) == 0)
		sweeper->last_recovery = now.tv_sec;

	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc == 0)
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&sweeper->wake, &attr);
	if (rc == 0)
		(void)pthread_condattr_destroy(&attr);
	if (rc == 0)
		rc = pthread_mutex_init(&sweeper->lock, NULL);
	if (rc == 0)
		rc = pthread_create(&sweeper->thread, NULL, sweeper_main, sweeper);
	if (rc != 0) {
		(void)str_format(error, error_size, "sweeper: cannot start thread: %s",
				 strerror(rc));
		free(sweeper);
		return -1;
	}
	*sweeper_r = sweeper;
	return 0;
}

void sweeper_stop(pp_sweeper_t **sweeper_p)
{
	pp_sweeper_t *sweeper = *sweeper_p;
	if (sweeper == NULL)
		return;
	if (pthread_mutex_lock(&sweeper->lock) != 0)
		abort();
	sweeper->is_stopping = true;
	(void)pthread_cond_signal(&sweeper->wake);
	(void)pthread_mutex_unlock(&sweeper->lock);
	(void)pthread_join(sweeper->thread, NULL);
	(void)pthread_cond_destroy(&sweeper->wake);
	(void)pthread_mutex_destroy(&sweeper->lock);
	free(sweeper);
	*sweeper_p = NULL;
}
