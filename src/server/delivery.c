/*
 * delivery.c - the delivery manager: finding released jobs, one job per printer at a time on
 * a pool of threads, retries with pauses, failover within a group, and the way back to held;
 * see delivery.h. One attempt (data, transport, state moves) is delivery-job.c.
 *
 * One lock guards the task list, the counters and the stop flag. The manager thread polls
 * the database (and wakes on delivery_wake()) to add tasks and to flag tasks whose job was
 * canceled; sending threads take a task whose printer is free and whose pause is over, run
 * it without the lock, and put it back or drop it. Lock order: this lock is never held
 * across a database call or a delivery.
 */
#include "server/delivery.h"

#include "core/job-state.h"
#include "db/db-listen.h"
#include "lib/log.h"
#include "lib/str.h"
#include "server/delivery-private.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DELIVERY_SCAN_MAX 1000 /* released jobs read per poll */
#define DELIVERY_IDLE_WAIT_MS 1000
#define DELIVERY_LISTEN_WAIT_MS 500 /* the listener thread checks the stop flag this often */

static const unsigned delivery_default_delays_ms[] = {5000, 15000, 45000};

struct pp_delivery {
	pp_core_t *core;
	pp_delivery_config_t config;
	pthread_t manager;
	bool has_manager;
	pthread_t listener;
	bool has_listener;
	pp_db_listener_t *db_listener; /* PostgreSQL: the listener thread's alone */
	pthread_t *threads; /* room for max_threads, started as work comes */
	size_t n_threads;   /* started (under lock) */
	size_t max_threads;

	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t manager_cond; /* the manager waits: wake or poll */
	pthread_cond_t work_cond;    /* sending threads wait: a task, a free printer, a pause */
	pthread_cond_t idle_cond;    /* delivery_stop() waits for running deliveries */
	bool is_stopping;
	bool is_woken;
	delivery_task_t *tasks; /* in job id order */
	unsigned running;
	unsigned idle; /* sending threads waiting for work */
	pp_delivery_status_t counts;
};

static int64_t delivery_now_ms(void)
{
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		abort(); /* CLOCK_MONOTONIC always exists on Linux */
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void delivery_lock(pp_delivery_t *d)
{
	if (pthread_mutex_lock(&d->lock) != 0)
		abort();
}

static void delivery_unlock(pp_delivery_t *d)
{
	(void)pthread_mutex_unlock(&d->lock);
}

/* Waits on cond until ms milliseconds (monotonic) from now; the lock is held. */
static void delivery_wait_ms(pp_delivery_t *d, pthread_cond_t *cond, int64_t ms)
{
	struct timespec until;
	if (clock_gettime(CLOCK_MONOTONIC, &until) < 0)
		abort();
	if (ms < 1)
		ms = 1;
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	int rc = pthread_cond_timedwait(cond, &d->lock, &until);
	if (rc != 0 && rc != ETIMEDOUT)
		abort();
}

static delivery_task_t *delivery_find_locked(pp_delivery_t *d, int64_t job_id)
{
	for (delivery_task_t *t = d->tasks; t != NULL; t = t->next) {
		if (t->job_id == job_id)
			return t;
	}
	return NULL;
}

/* Appends a task for job_id in job id order. */
static void delivery_add_locked(pp_delivery_t *d, delivery_task_t *task)
{
	delivery_task_t **at = &d->tasks;
	while (*at != NULL && (*at)->job_id < task->job_id)
		at = &(*at)->next;
	task->next = *at;
	*at = task;
}

static void delivery_remove_locked(pp_delivery_t *d, delivery_task_t *task)
{
	for (delivery_task_t **at = &d->tasks; *at != NULL; at = &(*at)->next) {
		if (*at == task) {
			*at = task->next;
			free(task);
			return;
		}
	}
}

/* Reads the failover group of printer_id into group[size] ("" when none or unknown). */
static void delivery_group_of(pp_delivery_t *d, int64_t printer_id, char *group, size_t size)
{
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	char error[DB_ERROR_MAX];
	group[0] = '\0';
	if (printer != NULL &&
	    printers_get(d->core, printer_id, printer, error, sizeof(error)) == 0)
		(void)str_copy(group, size, printer->group_name);
	free(printer);
}

static void *delivery_thread_main(void *arg);

/*
 * Starts sending threads (lock held) until `wanted` would find one idle, up to the
 * configured number: an idle server keeps none (each costs a stack), a burst of releases
 * gets as many as it can use, and they stay for the next one. A thread that cannot start
 * is logged; the ones running carry on.
 */
static void delivery_grow_locked(pp_delivery_t *d, size_t wanted)
{
	size_t idle = d->idle;
	while (!d->is_stopping && idle < wanted && d->n_threads < d->max_threads) {
		pthread_attr_t attr;
		int rc = pthread_attr_init(&attr);
		if (rc == 0) {
			/* Small stacks: a delivery needs little (buffers are on the heap). */
			rc = pthread_attr_setstacksize(&attr, 256 * 1024);
			if (rc == 0)
				rc = pthread_create(&d->threads[d->n_threads], &attr,
						    delivery_thread_main, d);
			(void)pthread_attr_destroy(&attr);
		}
		if (rc != 0) {
			log_warn("delivery.thread_failed error=\"%s\" threads=%zu — the running ones "
				 "carry on",
				 strerror(rc), d->n_threads);
			return;
		}
		d->n_threads++;
		idle++; /* it picks a task as soon as it runs */
	}
}

/*
 * One poll: jobs releasing become tasks; tasks whose job is neither releasing nor printing
 * any more (canceled, expired, deleted) are dropped, or stopped when running.
 */
static void delivery_scan(pp_delivery_t *d)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	pp_db_value_t params[] = {DB_INT(DELIVERY_SCAN_MAX)};
	if (db_query(d->core->db,
	             "SELECT id, printer_id, state FROM jobs"
	             " WHERE state IN ('releasing', 'printing') ORDER BY id LIMIT $1",
	             params, 1, &res, error, sizeof(error)) != DB_OK) {
		log_error("delivery.scan_failed error=\"%s\" action=\"check the database; "
		          "retrying at the next poll\"",
		          error);
		return;
	}
	size_t rows = db_result_rows(res);
	delivery_lock(d);
	for (delivery_task_t *t = d->tasks; t != NULL; t = t->next)
		t->is_seen = false;
	/* New tasks are made outside the lock (their group is read from the database). */
	int64_t *fresh = calloc(rows > 0 ? rows : 1, sizeof(*fresh) * 2);
	size_t n_fresh = 0;
	for (size_t i = 0; i < rows; i++) {
		int64_t job_id = db_result_int(res, i, 0);
		delivery_task_t *t = delivery_find_locked(d, job_id);
		if (t != NULL) {
			t->is_seen = true;
			continue;
		}
		bool is_releasing = strcmp(db_result_text(res, i, 2), "releasing") == 0;
		if (is_releasing && !db_result_is_null(res, i, 1) && fresh != NULL) {
			fresh[2 * n_fresh] = job_id;
			fresh[2 * n_fresh + 1] = db_result_int(res, i, 1);
			n_fresh++;
		}
	}
	bool is_full = rows >= DELIVERY_SCAN_MAX;
	for (delivery_task_t *t = d->tasks, *next; t != NULL; t = next) {
		next = t->next;
		/* A full page may have left this one out: only what was read is judged. */
		if (t->is_seen || (is_full && t->job_id > db_result_int(res, rows - 1, 0)))
			continue;
		if (t->is_running) {
			t->cancel = 1;
		} else {
			log_info("delivery.dropped job=%lld reason=\"no longer released\"",
			         (long long)t->job_id);
			delivery_remove_locked(d, t);
		}
	}
	delivery_unlock(d);
	db_result_free(&res);

	for (size_t i = 0; i < n_fresh; i++) {
		delivery_task_t *task = calloc(1, sizeof(*task));
		if (task == NULL)
			break; /* the next poll tries again */
		task->job_id = fresh[2 * i];
		task->printer_id = fresh[2 * i + 1];
		task->tried[task->n_tried++] = task->printer_id;
		delivery_group_of(d, task->printer_id, task->group, sizeof(task->group));
		delivery_lock(d);
		if (delivery_find_locked(d, task->job_id) == NULL) {
			task->is_seen = true;
			delivery_add_locked(d, task);
			task = NULL;
		}
		delivery_unlock(d);
		free(task);
	}
	free(fresh);
	if (n_fresh > 0) {
		delivery_lock(d);
		delivery_grow_locked(d, n_fresh);
		(void)pthread_cond_broadcast(&d->work_cond);
		delivery_unlock(d);
	}
}

static void *delivery_manager_main(void *arg)
{
	pp_delivery_t *d = arg;
	unsigned poll_ms = d->config.poll_ms > 0 ? d->config.poll_ms : DELIVERY_POLL_MS_DEFAULT;
	delivery_lock(d);
	while (!d->is_stopping) {
		d->is_woken = false;
		delivery_unlock(d);
		delivery_scan(d);
		delivery_lock(d);
		if (!d->is_woken && !d->is_stopping)
			delivery_wait_ms(d, &d->manager_cond, poll_ms);
	}
	delivery_unlock(d);
	return NULL;
}

static bool delivery_is_stopping(pp_delivery_t *d)
{
	delivery_lock(d);
	bool is_stopping = d->is_stopping;
	delivery_unlock(d);
	return is_stopping;
}

/* PostgreSQL: waits for CORE_RELEASED_CHANNEL and wakes the manager on each notification. */
static void *delivery_listener_main(void *arg)
{
	pp_delivery_t *d = arg;
	char error[DB_ERROR_MAX];
	while (!delivery_is_stopping(d)) {
		bool is_notified = false;
		if (db_listener_wait(d->db_listener, DELIVERY_LISTEN_WAIT_MS, &is_notified, error,
		                     sizeof(error)) < 0) {
			/* Reconnected at the next wait; the poll covers the gap. */
			log_warn("delivery.listen_failed error=\"%s\"", error);
			struct timespec pause = {.tv_sec = 1, .tv_nsec = 0};
			(void)nanosleep(&pause, NULL);
			is_notified = true;
		}
		if (is_notified)
			delivery_wake(d);
	}
	return NULL;
}

/* True when a running task sends to printer_id. */
static bool delivery_printer_busy_locked(pp_delivery_t *d, int64_t printer_id)
{
	for (delivery_task_t *t = d->tasks; t != NULL; t = t->next) {
		if (t->is_running && t->printer_id == printer_id)
			return true;
	}
	return false;
}

/*
 * The next task to send (oldest job first): not running, pause over, printer free. Else NULL
 * with *wait_ms_r the time until the nearest pause ends.
 */
static delivery_task_t *delivery_pick_locked(pp_delivery_t *d, int64_t *wait_ms_r)
{
	int64_t now = delivery_now_ms();
	int64_t wait = DELIVERY_IDLE_WAIT_MS;
	for (delivery_task_t *t = d->tasks; t != NULL; t = t->next) {
		if (t->is_running || t->cancel)
			continue;
		if (t->not_before_ms > now) {
			if (t->not_before_ms - now < wait)
				wait = t->not_before_ms - now;
			continue;
		}
		if (!delivery_printer_busy_locked(d, t->printer_id))
			return t;
	}
	*wait_ms_r = wait;
	return NULL;
}

/* Appends name to the task's list of printers tried (for the user's reason). */
static void delivery_note_name(delivery_task_t *task, const char *name)
{
	if (name[0] == '\0' || strstr(task->names, name) != NULL)
		return;
	size_t len = strlen(task->names);
	(void)str_format(task->names + len, sizeof(task->names) - len, "%s%s",
	                 len > 0 ? ", " : "", name);
}

/*
 * The next enabled printer of the task's group not tried yet, or 0. Reads the registry.
 */
static int64_t delivery_next_in_group(pp_delivery_t *d, delivery_task_t *task)
{
	if (task->group[0] == '\0' || task->n_tried >= DELIVERY_TRIED_MAX)
		return 0;
	pp_printer_t *list = NULL;
	size_t count = 0;
	char error[DB_ERROR_MAX];
	if (printers_list_group(d->core, task->group, &list, &count, error, sizeof(error)) < 0) {
		log_error("delivery.group_failed job=%lld group=%s error=\"%s\"",
		          (long long)task->job_id, task->group, error);
		return 0;
	}
	int64_t next = 0;
	for (size_t i = 0; i < count && next == 0; i++) {
		bool is_tried = false;
		for (size_t k = 0; k < task->n_tried; k++)
			is_tried = is_tried || task->tried[k] == list[i].id;
		if (!is_tried && list[i].is_enabled)
			next = list[i].id;
	}
	printers_list_free(&list);
	return next;
}

/* What the owner reads when the server stopped mid-send and the printer is not known. */
#define DELIVERY_STOPPED_REASON                                                                \
	"The server stopped while sending this job; check the printer before you release it "  \
	"again."

/*
 * The owner's reason when no printer tried answered: names them when the sentence fits
 * reason[size] whole, else counts them (by group), never cut.
 */
static void delivery_unanswered_reason(const delivery_task_t *task, char *reason, size_t size)
{
	static const char todo[] = "did not answer (offline?); your job is held again: release it "
	                           "to another printer or try later.";
	bool is_several = strchr(task->names, ',') != NULL;
	if (task->names[0] != '\0' &&
	    str_format(reason, size, "The printer%s %s %s", is_several ? "s" : "", task->names,
	               todo))
		return;
	if (task->group[0] != '\0' &&
	    str_format(reason, size, "The %zu printers of group %s %s", task->n_tried,
	               task->group, todo))
		return;
	(void)str_format(reason, size, "The printer %s", todo);
}

/* What happens to a task after an attempt. */
typedef enum { DELIVERY_DROP = 0, DELIVERY_AGAIN } delivery_next_t;

/*
 * Decides after an attempt (without the lock; the task is still ours): retry after a pause,
 * fail over, or end (completed, canceled, back to held). Returns DROP or AGAIN.
 */
static delivery_next_t delivery_decide(pp_delivery_t *d, delivery_task_t *task,
                                       const delivery_result_t *result, bool is_stopping,
                                       pp_delivery_status_t *counts)
{
	char reason[JOB_REASON_MAX]; /* what the owner reads: whole sentences, never cut */
	delivery_note_name(task, result->printer_name);
	if (result->is_lost) {
		log_info("delivery.lost job=%lld reason=\"the job changed meanwhile (canceled?)\"",
		         (long long)task->job_id);
		return DELIVERY_DROP;
	}
	switch (result->outcome) {
	case DELIVER_DONE:
		counts->completed++;
		log_info("delivery.completed job=%lld printer=%s", (long long)task->job_id,
		         result->printer_name);
		return DELIVERY_DROP;
	case DELIVER_CANCELED:
		if (is_stopping && task->is_printing) {
			if (!str_format(reason, sizeof(reason),
			                "The server stopped while sending this job to %s; check the "
			                "printer before you release it again.",
			                result->printer_name))
				(void)str_copy(reason, sizeof(reason), DELIVERY_STOPPED_REASON);
			if (delivery_hold_again(d->core, task, reason) == 0)
				counts->held_again++;
		}
		return DELIVERY_DROP;
	case DELIVER_PERMANENT:
		/* The attempt wrote the owner's sentence (and logged the detail). */
		if (delivery_hold_again(d->core, task, result->message) == 0)
			counts->held_again++;
		log_warn("delivery.held_again job=%lld printer=%s why=permanent reason=\"%s\"",
		         (long long)task->job_id, result->printer_name, result->message);
		return DELIVERY_DROP;
	case DELIVER_RETRY:
		break;
	}
	if (is_stopping)
		return DELIVERY_AGAIN; /* still releasing or printing: after the next start */

	/* Transient: pauses on the same printer first. */
	const unsigned *delays = d->config.retry_delays_ms;
	size_t n_delays = d->config.n_retry_delays;
	if (n_delays == 0 && !d->config.no_retries) {
		delays = delivery_default_delays_ms;
		n_delays = sizeof(delivery_default_delays_ms) / sizeof(delivery_default_delays_ms[0]);
	}
	if (d->config.no_retries)
		n_delays = 0;
	if (task->attempt < n_delays) {
		task->not_before_ms = delivery_now_ms() + delays[task->attempt];
		task->attempt++;
		counts->retries++;
		log_info("delivery.retry job=%lld printer=%s attempt=%u pause_ms=%u message=\"%s\"",
		         (long long)task->job_id, result->printer_name, task->attempt,
		         delays[task->attempt - 1], result->message);
		return DELIVERY_AGAIN;
	}
	/* Then the next printer of the group. */
	for (int64_t next; (next = delivery_next_in_group(d, task)) != 0;) {
		char error[DB_ERROR_MAX];
		task->tried[task->n_tried++] = next;
		int rc = delivery_set_printer(d->core, task->job_id, next, error, sizeof(error));
		if (rc == JOB_STATE_LOST)
			return DELIVERY_DROP;
		if (rc < 0) {
			log_error("delivery.failover_failed job=%lld error=\"%s\"",
			          (long long)task->job_id, error);
			continue;
		}
		log_info("delivery.failover job=%lld from=%s to_id=%lld group=%s",
		         (long long)task->job_id, result->printer_name, (long long)next,
		         task->group);
		task->printer_id = next;
		task->attempt = 0;
		task->not_before_ms = 0;
		counts->failovers++;
		return DELIVERY_AGAIN;
	}
	/* Every printer failed: back to held, saying what happened (the detail is logged). */
	delivery_unanswered_reason(task, reason, sizeof(reason));
	if (delivery_hold_again(d->core, task, reason) == 0)
		counts->held_again++;
	log_warn("delivery.held_again job=%lld printers=\"%s\" why=unreachable message=\"%s\"",
	         (long long)task->job_id, task->names, result->message);
	return DELIVERY_DROP;
}

static void *delivery_thread_main(void *arg)
{
	pp_delivery_t *d = arg;
	delivery_result_t *result = calloc(1, sizeof(*result));
	if (result == NULL) {
		log_error("delivery.thread_failed error=\"out of memory\"");
		return NULL;
	}
	delivery_lock(d);
	while (!d->is_stopping) {
		int64_t wait_ms = DELIVERY_IDLE_WAIT_MS;
		delivery_task_t *task = delivery_pick_locked(d, &wait_ms);
		if (task == NULL) {
			d->idle++;
			delivery_wait_ms(d, &d->work_cond, wait_ms);
			d->idle--;
			continue;
		}
		task->is_running = true;
		d->running++;
		delivery_unlock(d);

		delivery_attempt(d->core, &d->config, task, result);

		delivery_lock(d);
		bool is_stopping = d->is_stopping;
		delivery_unlock(d);
		pp_delivery_status_t counts = {0};
		delivery_next_t next = delivery_decide(d, task, result, is_stopping, &counts);

		delivery_lock(d);
		d->counts.completed += counts.completed;
		d->counts.held_again += counts.held_again;
		d->counts.retries += counts.retries;
		d->counts.failovers += counts.failovers;
		task->is_running = false;
		d->running--;
		if (next == DELIVERY_DROP)
			delivery_remove_locked(d, task);
		else
			task->cancel = 0;
		/* A printer is free again, or a pause was set: others may go now. */
		(void)pthread_cond_broadcast(&d->work_cond);
		(void)pthread_cond_broadcast(&d->idle_cond);
	}
	delivery_unlock(d);
	free(result);
	return NULL;
}

/* Jobs left printing by a crash go back to held (the printer may or may not have them). */
static void delivery_recover(pp_delivery_t *d)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(d->core->db, "SELECT id FROM jobs WHERE state = 'printing' ORDER BY id",
	             NULL, 0, &res, error, sizeof(error)) != DB_OK) {
		log_error("delivery.recover_failed error=\"%s\"", error);
		return;
	}
	for (size_t i = 0; i < db_result_rows(res); i++) {
		delivery_task_t task = {.job_id = db_result_int(res, i, 0), .is_printing = true};
		if (delivery_hold_again(d->core, &task, DELIVERY_STOPPED_REASON) == 0)
			log_warn("delivery.recovered job=%lld state=held", (long long)task.job_id);
	}
	db_result_free(&res);
}

/* Frees what delivery_start made, threads already joined. */
static void delivery_free(pp_delivery_t *d)
{
	while (d->tasks != NULL)
		delivery_remove_locked(d, d->tasks);
	(void)pthread_cond_destroy(&d->manager_cond);
	(void)pthread_cond_destroy(&d->work_cond);
	(void)pthread_cond_destroy(&d->idle_cond);
	(void)pthread_mutex_destroy(&d->lock);
	free(d->threads);
	free(d);
}

static int delivery_init_sync(pp_delivery_t *d, char *error, size_t error_size)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc == 0)
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_mutex_init(&d->lock, NULL);
	if (rc == 0)
		rc = pthread_cond_init(&d->manager_cond, &attr);
	if (rc == 0)
		rc = pthread_cond_init(&d->work_cond, &attr);
	if (rc == 0)
		rc = pthread_cond_init(&d->idle_cond, &attr);
	(void)pthread_condattr_destroy(&attr);
	if (rc != 0) {
		(void)str_format(error, error_size, "delivery: cannot make a lock: %s",
		                 strerror(rc));
		return -1;
	}
	return 0;
}

void delivery_config_apply(pp_delivery_config_t *config, const pp_config_t *cfg)
{
	const pp_config_delays_t *delays = &cfg->delivery_retry_delays;
	size_t n = delays->count < DELIVERY_RETRIES_MAX ? delays->count : DELIVERY_RETRIES_MAX;
	memset(config->retry_delays_ms, 0, sizeof(config->retry_delays_ms));
	memcpy(config->retry_delays_ms, delays->ms, n * sizeof(delays->ms[0]));
	config->n_retry_delays = n;
	config->no_retries = n == 0;
	config->threads = cfg->delivery_threads;
	config->connect_timeout_s = cfg->delivery_connect_timeout_s;
	config->io_timeout_s = cfg->delivery_write_timeout_s;
	config->follow_timeout_s = cfg->delivery_follow_timeout_s;
}

int delivery_start(pp_core_t *core, const pp_delivery_config_t *config,
                   pp_delivery_t **delivery_r, char *error, size_t error_size)
{
	*delivery_r = NULL;
	pp_delivery_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		(void)str_format(error, error_size, "delivery: out of memory");
		return -1;
	}
	d->core = core;
	d->config = *config;
	if (d->config.n_retry_delays > DELIVERY_RETRIES_MAX)
		d->config.n_retry_delays = DELIVERY_RETRIES_MAX;
	size_t n = config->threads > 0 ? config->threads : DELIVERY_THREADS_DEFAULT;
	if (n > DELIVERY_THREADS_MAX)
		n = DELIVERY_THREADS_MAX;
	d->threads = calloc(n, sizeof(*d->threads));
	if (d->threads == NULL) {
		(void)str_format(error, error_size, "delivery: out of memory");
		free(d);
		return -1;
	}
	if (delivery_init_sync(d, error, error_size) < 0) {
		free(d->threads);
		free(d);
		return -1;
	}
	d->counts.threads = (unsigned)n;
	d->max_threads = n;
	if (config->recover_printing)
		delivery_recover(d);

	/* The sending threads start with the first releases (delivery_grow_locked). */
	pthread_attr_t attr;
	int rc = pthread_attr_init(&attr);
	if (rc == 0)
		rc = pthread_attr_setstacksize(&attr, 256 * 1024);
	if (rc == 0) {
		rc = pthread_create(&d->manager, &attr, delivery_manager_main, d);
		d->has_manager = rc == 0;
	}
	if (rc == 0 && config->listen_url != NULL && config->listen_url[0] != '\0') {
		char listen_error[DB_ERROR_MAX];
		if (db_listener_open(config->listen_url, CORE_RELEASED_CHANNEL, &d->db_listener,
		                     listen_error, sizeof(listen_error)) < 0) {
			log_warn("delivery.listen_off error=\"%s\" action=\"releases from other "
			         "processes are sent at the next poll (1 s)\"",
			         listen_error);
		} else {
			rc = pthread_create(&d->listener, &attr, delivery_listener_main, d);
			d->has_listener = rc == 0;
		}
	}
	(void)pthread_attr_destroy(&attr);
	if (rc != 0) {
		(void)str_format(error, error_size, "delivery: cannot start a thread: %s",
		                 strerror(rc));
		delivery_stop(&d, 0);
		return -1;
	}
	log_info("delivery.started threads=%zu (started as releases come)", n);
	*delivery_r = d;
	return 0;
}

void delivery_wake(pp_delivery_t *d)
{
	if (d == NULL)
		return;
	delivery_lock(d);
	d->is_woken = true;
	(void)pthread_cond_signal(&d->manager_cond);
	delivery_unlock(d);
}

void delivery_on_job_released(void *ctx)
{
	delivery_wake(ctx);
}

void delivery_status(pp_delivery_t *d, pp_delivery_status_t *status_r)
{
	memset(status_r, 0, sizeof(*status_r));
	if (d == NULL)
		return;
	delivery_lock(d);
	*status_r = d->counts;
	status_r->sending = d->running;
	unsigned waiting = 0;
	for (delivery_task_t *t = d->tasks; t != NULL; t = t->next)
		waiting += t->is_running ? 0 : 1;
	status_r->waiting = waiting;
	delivery_unlock(d);
}

void delivery_stop(pp_delivery_t **delivery, unsigned grace_ms)
{
	pp_delivery_t *d = *delivery;
	if (d == NULL)
		return;
	delivery_lock(d);
	d->is_stopping = true;
	(void)pthread_cond_broadcast(&d->manager_cond);
	(void)pthread_cond_broadcast(&d->work_cond);
	/* Deliveries in flight may finish within the grace; then they are canceled. */
	int64_t until = delivery_now_ms() + grace_ms;
	while (d->running > 0 && delivery_now_ms() < until)
		delivery_wait_ms(d, &d->idle_cond, until - delivery_now_ms());
	for (delivery_task_t *t = d->tasks; t != NULL; t = t->next) {
		if (t->is_running)
			t->cancel = 1;
	}
	delivery_unlock(d);
	if (d->has_manager)
		(void)pthread_join(d->manager, NULL);
	if (d->has_listener)
		(void)pthread_join(d->listener, NULL);
	db_listener_close(&d->db_listener);
	/* is_stopping is set: no thread starts any more, so n_threads is final. */
	for (size_t i = 0; i < d->n_threads; i++)
		(void)pthread_join(d->threads[i], NULL);
	log_info("delivery.stopped");
	delivery_free(d);
	*delivery = NULL;
}
