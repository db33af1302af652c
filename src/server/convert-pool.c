/*
 * convert-pool.c - the local conversion workers and their dispatcher; see convert-pool.h.
 *
 * One thread owns every slot (process, socket, state): it starts workers, poll()s their
 * sockets and an eventfd, claims jobs and reaps children. Other threads only touch the
 * pages queue, the stop flag and the status snapshot, under the pool's lock, and poke the
 * eventfd. Children are reaped by pid (never waitpid(-1)), so other parts of the server may
 * run their own children.
 *
 * A print request (convert_pool_request_print) is a pool_print_t on the heap: queued under
 * the lock, taken by the dispatcher, answered under the lock with a signal to its waiting
 * caller. A caller that gives up first (time-out) leaves it marked abandoned, and whoever
 * finishes it last (the dispatcher) frees it.
 */
#include "server/convert-pool.h"

#include "convert/worker-protocol.h"
#include "core/convert-queue.h"
#include "lib/log.h"
#include "lib/str.h"
#include "server/convert-pool-private.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POOL_WORKERS_MAX 256
#define POOL_PAGES_MAX 64         /* queued page requests */
#define POOL_POLL_MS 1000         /* look for received jobs at least this often */
#define POOL_RESPAWN_MS 1000      /* at most one start per second per slot */
#define POOL_QUICK_DEATH_MS 10000 /* a worker that dies younger died "quickly" */
#define POOL_QUICK_DEATHS_MAX 5   /* in a row: then pause */
#define POOL_PAUSE_MS 30000       /* the pause */
#define POOL_STOP_GRACE_MS 5000   /* SIGTERM, then SIGKILL after this */
#define POOL_ERROR_LOG_MS 60000   /* repeat a database error at most this often */

typedef enum {
	POOL_SLOT_DOWN = 0, /* no process; started again at next_spawn_ms */
	POOL_SLOT_STARTING, /* spawned, waiting for "ready" */
	POOL_SLOT_IDLE,
	POOL_SLOT_BUSY,
} pool_slot_state_t;

/* One print request; see the file comment for who frees it. */
typedef enum { POOL_PRINT_QUEUED = 0, POOL_PRINT_SENT, POOL_PRINT_DONE } pool_print_state_t;

typedef struct pool_print {
	int64_t job_id;
	int64_t printer_id;
	char format[8];
	pool_print_state_t state; /* under the pool's lock */
	bool is_ok;
	bool is_abandoned; /* the caller stopped waiting: the dispatcher frees it */
	char reason[256];
	pthread_cond_t done_cond;
	struct pool_print *next; /* in the queue */
} pool_print_t;

typedef struct {
	pool_slot_state_t state;
	pid_t pid;      /* 0 when none (reaped) */
	int fd;         /* our end of the socket; -1 when none */
	int64_t job_id; /* BUSY: the job it works on */
	bool is_pages;  /* BUSY: rendering pages (nothing to abandon), not converting */
	pool_print_t *print; /* BUSY: rendering print data for this request, else NULL */
	int64_t spawned_ms;
	int64_t next_spawn_ms;
	unsigned quick_deaths;              /* in a row */
	char name[CONVERT_WORKER_NAME_MAX]; /* "<host>:<pid>" */
} pool_slot_t;

typedef struct {
	int64_t job_id;
	unsigned first, last;
} pool_pages_t;

struct pp_convert_pool {
	pp_core_t *core;
	char program[PATH_MAX];
	char config_path[PATH_MAX];
	char state_dir[PATH_MAX];
	char host[256];
	unsigned max_attempts;
	size_t n_slots;
	pool_slot_t *slots; /* the dispatcher's alone */
	int wake_fd;        /* eventfd */
	int64_t next_poll_ms;
	int64_t last_error_log_ms;
	bool has_new_idle; /* a worker became free: look for work without waiting for the poll */
	pthread_t thread;
	bool has_thread;

	pthread_mutex_t lock; /* guards what follows */
	bool is_stopping;
	pool_pages_t pages[POOL_PAGES_MAX]; /* a ring */
	size_t pages_head, pages_count;
	pool_print_t *prints; /* queued print requests, oldest first */
	pp_convert_pool_status_t status;
};

static int64_t pool_now_ms(void)
{
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		abort(); /* CLOCK_MONOTONIC always exists on Linux */
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void pool_lock(pp_convert_pool_t *pool)
{
	if (pthread_mutex_lock(&pool->lock) != 0)
		abort();
}

static void pool_unlock(pp_convert_pool_t *pool)
{
	(void)pthread_mutex_unlock(&pool->lock);
}

static void pool_print_free(pool_print_t *print)
{
	(void)pthread_cond_destroy(&print->done_cond);
	free(print);
}

/* Answers a print request taken by the dispatcher (or refused at stop) and wakes its caller. */
static void pool_print_finish(pp_convert_pool_t *pool, pool_print_t *print, bool is_ok,
                              const char *reason)
{
	pool_lock(pool);
	print->state = POOL_PRINT_DONE;
	print->is_ok = is_ok;
	(void)str_copy(print->reason, sizeof(print->reason), reason != NULL ? reason : "");
	bool is_abandoned = print->is_abandoned;
	(void)pthread_cond_signal(&print->done_cond);
	pool_unlock(pool);
	if (is_abandoned)
		pool_print_free(print);
}

/* Starts the worker of slot. Returns 0, or -1 (logged) with the slot still down. */
static int pool_spawn(pp_convert_pool_t *pool, pool_slot_t *slot)
{
	pid_t pid = 0;
	int fd = -1;
	if (convert_pool_spawn(pool->program, pool->config_path, pool->state_dir, &pid, &fd) < 0)
		return -1;
	slot->pid = pid;
	slot->fd = fd;
	slot->state = POOL_SLOT_STARTING;
	slot->job_id = 0;
	slot->is_pages = false;
	slot->spawned_ms = pool_now_ms();
	(void)str_format(slot->name, sizeof(slot->name), "%.200s:%ld", pool->host, (long)pid);
	log_info("convert.worker_started worker=%s slot=%zu", slot->name,
	         (size_t)(slot - pool->slots));
	return 0;
}

/* Plans the next start of a slot whose worker died or could not start (the backoff). */
static void pool_plan_respawn(pp_convert_pool_t *pool, pool_slot_t *slot, int64_t now)
{
	bool is_quick = now - slot->spawned_ms < POOL_QUICK_DEATH_MS;
	slot->quick_deaths = is_quick ? slot->quick_deaths + 1 : 0;
	slot->next_spawn_ms = slot->spawned_ms + POOL_RESPAWN_MS;
	if (slot->next_spawn_ms < now)
		slot->next_spawn_ms = now;
	if (slot->quick_deaths >= POOL_QUICK_DEATHS_MAX) {
		log_error(
		    "convert.worker_failing slot=%zu deaths=%u program=%s action=\"the worker "
		    "keeps dying at start; read its messages above and check [convert]; "
		    "next try in %d s\"",
		    (size_t)(slot - pool->slots), slot->quick_deaths, pool->program,
		    POOL_PAUSE_MS / 1000);
		slot->quick_deaths = 0;
		slot->next_spawn_ms = now + POOL_PAUSE_MS;
	}
}

/* Abandons the job a dead worker held (a conversion; pages have nothing to undo). */
static void pool_abandon(pp_convert_pool_t *pool, pool_slot_t *slot, const char *reason)
{
	if (slot->state != POOL_SLOT_BUSY || slot->is_pages || slot->print != NULL)
		return;
	bool is_requeued = false;
	char error[DB_ERROR_MAX];
	int rc = convert_queue_abandon(pool->core, slot->job_id, pool->max_attempts, reason,
	                               &is_requeued, error, sizeof(error));
	if (rc == JOB_ERROR)
		log_error("convert.abandon_failed job=%lld worker=%s error=\"%s\" action=\"the "
		          "sweeper puts the job back when its claim goes stale\"",
		          (long long)slot->job_id, slot->name, error);
	else if (rc != JOB_OK)
		log_info("convert.abandon_skipped job=%lld worker=%s reason=\"%s\"",
		         (long long)slot->job_id, slot->name, error);
}

/*
 * The worker of slot is gone or broken: closes its socket, kills and reaps it unless
 * is_reaped (then status is its wait status), abandons its job and plans its restart.
 */
static void pool_slot_lost(pp_convert_pool_t *pool, pool_slot_t *slot, const char *why,
                           bool is_reaped, int status)
{
	convert_pool_close(&slot->fd);
	if (!is_reaped && slot->pid > 0)
		status = convert_pool_kill(slot->pid);
	slot->pid = 0;
	char how[32];
	if (slot->state == POOL_SLOT_BUSY)
		log_warn("convert.worker_lost worker=%s why=%s status=%s job=%lld", slot->name, why,
		         convert_pool_describe_status(status, how, sizeof(how)),
		         (long long)slot->job_id);
	else
		log_warn("convert.worker_lost worker=%s why=%s status=%s", slot->name, why,
		         convert_pool_describe_status(status, how, sizeof(how)));
	pool_abandon(pool, slot, "The converter stopped while converting this document.");
	if (slot->print != NULL)
		pool_print_finish(pool, slot->print, false,
		                  "the converter stopped while preparing the print data");
	slot->print = NULL;
	slot->state = POOL_SLOT_DOWN;
	slot->job_id = 0;
	slot->is_pages = false;
	pool_plan_respawn(pool, slot, pool_now_ms());
}

/* Sends one message to slot's worker. Returns 0, or -1 (logged) when it cannot. */
static int pool_send(pool_slot_t *slot, const char *message)
{
	size_t len = strlen(message);
	ssize_t n;
	do {
		n = send(slot->fd, message, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		log_warn("convert.send_failed worker=%s error=\"%s\"", slot->name,
		         n < 0 ? strerror(errno) : "short send");
		return -1;
	}
	return 0;
}

/* Parses a whole decimal field (no sign) up to max. */
static bool pool_parse_number(const char *text, uint64_t max, uint64_t *value_r)
{
	return text != NULL && parse_uint64_full(text, max, value_r);
}

/*
 * Handles one message from slot's worker (NUL-terminated, at most WORKER_MESSAGE_MAX bytes).
 * Returns false when it breaks the protocol: the caller restarts the worker.
 */
static bool pool_handle_message(pp_convert_pool_t *pool, pool_slot_t *slot, char *message)
{
	/* Fields: the first three split on single spaces; the rest of "done … failed" is the
	 * reason. */
	char *fields[3] = {message, NULL, NULL};
	char *rest = NULL;
	for (size_t i = 1; i < 3 && fields[i - 1] != NULL; i++) {
		char *space = strchr(fields[i - 1], ' ');
		if (space != NULL) {
			*space = '\0';
			fields[i] = space + 1;
		}
	}
	if (fields[2] != NULL) {
		char *space = strchr(fields[2], ' ');
		if (space != NULL) {
			*space = '\0';
			rest = space + 1;
		}
	}
	uint64_t number = 0;
	if (strcmp(fields[0], "ready") == 0) {
		if (slot->state != POOL_SLOT_STARTING || fields[2] != NULL ||
		    !pool_parse_number(fields[1], INT32_MAX, &number))
			return false;
		slot->state = POOL_SLOT_IDLE;
		pool->has_new_idle = true;
		log_info("convert.worker_ready worker=%s", slot->name);
		return true;
	}
	if (strcmp(fields[0], "progress") == 0) {
		uint64_t percent = 0;
		if (slot->state != POOL_SLOT_BUSY || rest != NULL ||
		    !pool_parse_number(fields[1], INT64_MAX, &number) ||
		    !pool_parse_number(fields[2], 100, &percent) || (int64_t)number != slot->job_id)
			return false;
		log_debug("convert.progress job=%lld worker=%s percent=%u", (long long)number,
		          slot->name, (unsigned)percent);
		return true;
	}
	if (strcmp(fields[0], "done") == 0) {
		if (slot->state != POOL_SLOT_BUSY || fields[2] == NULL ||
		    !pool_parse_number(fields[1], INT64_MAX, &number) ||
		    (int64_t)number != slot->job_id)
			return false;
		bool is_ok = strcmp(fields[2], "ok") == 0 && rest == NULL;
		/* The reason is only logged (the log escapes control characters). */
		bool is_failed = strcmp(fields[2], "failed") == 0 && rest != NULL;
		if (!is_ok && !is_failed)
			return false;
		const char *kind = slot->print != NULL ? "print"
		                   : slot->is_pages    ? "pages"
		                                       : "convert";
		if (is_ok)
			log_info("convert.done job=%lld worker=%s kind=%s outcome=ok",
			         (long long)number, slot->name, kind);
		else
			log_info(
			    "convert.done job=%lld worker=%s kind=%s outcome=failed reason=\"%s\"",
			    (long long)number, slot->name, kind, rest);
		if (slot->print != NULL)
			pool_print_finish(pool, slot->print, is_ok, rest);
		slot->print = NULL;
		slot->state = POOL_SLOT_IDLE;
		slot->job_id = 0;
		slot->is_pages = false;
		pool->has_new_idle = true;
		return true;
	}
	return false;
}

/* Reads what slot's socket has (revents from poll). */
static void pool_read_slot(pp_convert_pool_t *pool, pool_slot_t *slot, short revents)
{
	char message[WORKER_MESSAGE_MAX + 1];
	if ((revents & POLLIN) != 0) {
		ssize_t n;
		do {
			n = recv(slot->fd, message, WORKER_MESSAGE_MAX, MSG_DONTWAIT | MSG_TRUNC);
		} while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			pool_slot_lost(pool, slot, "recv_failed", false, 0);
			return;
		}
		if (n == 0) {
			pool_slot_lost(pool, slot, "socket_closed", false, 0);
			return;
		}
		if ((size_t)n > WORKER_MESSAGE_MAX || memchr(message, '\0', (size_t)n) != NULL) {
			log_warn("convert.bad_message worker=%s length=%zd", slot->name, n);
			pool_slot_lost(pool, slot, "bad_message", false, 0);
			return;
		}
		message[n] = '\0';
		char copy[WORKER_MESSAGE_MAX + 1];
		memcpy(copy, message, (size_t)n + 1);
		if (!pool_handle_message(pool, slot, message)) {
			log_warn("convert.bad_message worker=%s message=\"%s\"", slot->name, copy);
			pool_slot_lost(pool, slot, "bad_message", false, 0);
		}
		return;
	}
	if ((revents & (POLLHUP | POLLERR | POLLNVAL)) != 0)
		pool_slot_lost(pool, slot, "socket_closed", false, 0);
}

/* Reaps workers that exited on their own (their socket may stay open in a grandchild). */
static void pool_reap(pp_convert_pool_t *pool)
{
	for (size_t i = 0; i < pool->n_slots; i++) {
		pool_slot_t *slot = &pool->slots[i];
		if (slot->pid <= 0)
			continue;
		int status = 0;
		pid_t rc = waitpid(slot->pid, &status, WNOHANG);
		if (rc == slot->pid)
			pool_slot_lost(pool, slot, "exited", true, status);
		else if (rc < 0 && errno == ECHILD)
			pool_slot_lost(pool, slot, "vanished", true, 0);
	}
}

/* Takes the oldest print request, if any, marked sent. */
static pool_print_t *pool_take_print(pp_convert_pool_t *pool)
{
	pool_lock(pool);
	pool_print_t *print = pool->prints;
	if (print != NULL) {
		pool->prints = print->next;
		print->next = NULL;
		print->state = POOL_PRINT_SENT;
	}
	pool_unlock(pool);
	return print;
}

/* Takes the oldest page request, if any. */
static bool pool_take_pages(pp_convert_pool_t *pool, pool_pages_t *pages_r)
{
	pool_lock(pool);
	bool is_any = pool->pages_count > 0;
	if (is_any) {
		*pages_r = pool->pages[pool->pages_head];
		pool->pages_head = (pool->pages_head + 1) % POOL_PAGES_MAX;
		pool->pages_count--;
	}
	pool_unlock(pool);
	return is_any;
}

/* Logs a database error, at most once a minute while it persists. */
static void pool_log_db_error(pp_convert_pool_t *pool, const char *error)
{
	int64_t now = pool_now_ms();
	if (pool->last_error_log_ms != 0 && now - pool->last_error_log_ms < POOL_ERROR_LOG_MS)
		return;
	pool->last_error_log_ms = now;
	log_error("convert.claim_failed error=\"%s\" action=\"check the database; retrying every "
	          "second\"",
	          error);
}

/* Gives work to idle workers: page requests first (someone is looking), then claims. */
static void pool_dispatch(pp_convert_pool_t *pool, bool look_for_jobs)
{
	for (size_t i = 0; i < pool->n_slots; i++) {
		pool_slot_t *slot = &pool->slots[i];
		if (slot->state != POOL_SLOT_IDLE)
			continue;
		char message[WORKER_MESSAGE_MAX];
		pool_print_t *print = pool_take_print(pool);
		if (print != NULL) {
			(void)str_format(message, sizeof(message), "print %lld %lld %s",
			                 (long long)print->job_id, (long long)print->printer_id,
			                 print->format);
			slot->state = POOL_SLOT_BUSY;
			slot->job_id = print->job_id;
			slot->is_pages = false;
			slot->print = print;
			log_info("convert.dispatched job=%lld worker=%s kind=print printer=%lld "
			         "format=%s",
			         (long long)print->job_id, slot->name, (long long)print->printer_id,
			         print->format);
			if (pool_send(slot, message) < 0)
				pool_slot_lost(pool, slot, "send_failed", false, 0);
			continue;
		}
		pool_pages_t pages;
		if (pool_take_pages(pool, &pages)) {
			(void)str_format(message, sizeof(message), "pages %lld %u %u",
			                 (long long)pages.job_id, pages.first, pages.last);
			slot->state = POOL_SLOT_BUSY;
			slot->job_id = pages.job_id;
			slot->is_pages = true;
			if (pool_send(slot, message) < 0)
				pool_slot_lost(pool, slot, "send_failed", false, 0);
			continue;
		}
		if (!look_for_jobs)
			continue;
		pp_convert_task_t task;
		char error[DB_ERROR_MAX];
		int rc =
		    convert_queue_claim_next(pool->core, slot->name, &task, error, sizeof(error));
		if (rc < 0) {
			pool_log_db_error(pool, error);
			return;
		}
		if (rc == 0) {
			look_for_jobs = false; /* nothing waits; idle slots may still get pages */
			continue;
		}
		pool->last_error_log_ms = 0;
		slot->state = POOL_SLOT_BUSY;
		slot->job_id = task.job_id;
		slot->is_pages = false;
		(void)str_format(message, sizeof(message), "convert %lld", (long long)task.job_id);
		log_info("convert.dispatched job=%lld worker=%s attempt=%d", (long long)task.job_id,
		         slot->name, task.attempts);
		if (pool_send(slot, message) < 0)
			pool_slot_lost(pool, slot, "send_failed", false, 0);
	}
}

/* Publishes the counts for convert_pool_status(). */
static void pool_publish_status(pp_convert_pool_t *pool)
{
	pp_convert_pool_status_t status = {.workers = (unsigned)pool->n_slots};
	for (size_t i = 0; i < pool->n_slots; i++) {
		const pool_slot_t *slot = &pool->slots[i];
		if (slot->pid > 0)
			status.alive++;
		if (slot->state == POOL_SLOT_IDLE)
			status.ready++;
		if (slot->state == POOL_SLOT_BUSY)
			status.busy++;
	}
	pool_lock(pool);
	pool->status = status;
	pool_unlock(pool);
}

static bool pool_is_stopping(pp_convert_pool_t *pool)
{
	pool_lock(pool);
	bool is_stopping = pool->is_stopping;
	pool_unlock(pool);
	return is_stopping;
}

static void *pool_main(void *arg)
{
	pp_convert_pool_t *pool = arg;
	struct pollfd *fds = calloc(pool->n_slots + 1, sizeof(*fds));
	pool_slot_t **owners = calloc(pool->n_slots + 1, sizeof(*owners));
	if (fds == NULL || owners == NULL) {
		log_error("convert.pool_failed error=\"out of memory\" action=\"restart the "
		          "server\"");
		free(fds);
		free(owners);
		return NULL;
	}
	bool is_woken = true;
	while (!pool_is_stopping(pool)) {
		int64_t now = pool_now_ms();
		for (size_t i = 0; i < pool->n_slots; i++) {
			pool_slot_t *slot = &pool->slots[i];
			if (slot->state == POOL_SLOT_DOWN && slot->next_spawn_ms <= now) {
				slot->spawned_ms = now;
				if (pool_spawn(pool, slot) < 0)
					pool_plan_respawn(pool, slot, now);
			}
		}
		bool look_for_jobs = is_woken || now >= pool->next_poll_ms;
		if (look_for_jobs)
			pool->next_poll_ms = now + POOL_POLL_MS;
		is_woken = false;
		pool_dispatch(pool, look_for_jobs);
		pool_publish_status(pool);

		/* Sleep until the next poll or the next planned start, whichever comes first. */
		now = pool_now_ms();
		int64_t until = pool->next_poll_ms;
		size_t n_fds = 0;
		fds[n_fds] = (struct pollfd){.fd = pool->wake_fd, .events = POLLIN};
		owners[n_fds++] = NULL;
		for (size_t i = 0; i < pool->n_slots; i++) {
			pool_slot_t *slot = &pool->slots[i];
			if (slot->state == POOL_SLOT_DOWN && slot->next_spawn_ms < until)
				until = slot->next_spawn_ms;
			if (slot->fd >= 0) {
				fds[n_fds] = (struct pollfd){.fd = slot->fd, .events = POLLIN};
				owners[n_fds++] = slot;
			}
		}
		int64_t timeout = until - now;
		if (timeout < 0)
			timeout = 0;
		if (timeout > POOL_POLL_MS)
			timeout = POOL_POLL_MS;
		int n = poll(fds, n_fds, (int)timeout);
		if (n < 0 && errno != EINTR) {
			log_error("convert.poll_failed error=\"%s\"", strerror(errno));
			struct timespec pause = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
			(void)nanosleep(&pause, NULL);
		}
		for (size_t i = 0; n > 0 && i < n_fds; i++) {
			if (fds[i].revents == 0)
				continue;
			if (owners[i] == NULL) {
				uint64_t count;
				if (read(pool->wake_fd, &count, sizeof(count)) < 0 &&
				    errno != EAGAIN)
					log_warn("convert.wake_read_failed error=\"%s\"",
					         strerror(errno));
				is_woken = true;
			} else if (owners[i]->fd == fds[i].fd) {
				pool_read_slot(pool, owners[i], fds[i].revents);
			}
		}
		pool_reap(pool);
		is_woken = is_woken || pool->has_new_idle;
		pool->has_new_idle = false;
	}
	free(fds);
	free(owners);
	return NULL;
}

int convert_pool_start(pp_core_t *core, const pp_convert_pool_config_t *config,
                       pp_convert_pool_t **pool_r, char *error, size_t error_size)
{
	*pool_r = NULL;
	if (config->state_dir == NULL || config->state_dir[0] == '\0') {
		(void)str_format(error, error_size, "convert pool: a state directory is needed");
		return -1;
	}
	pp_convert_pool_t *pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		(void)str_format(error, error_size, "convert pool: out of memory");
		return -1;
	}
	pool->wake_fd = -1;
	pool->core = core;
	pool->max_attempts = config->max_attempts > 0 ? config->max_attempts : 1;
	char find_error[256];
	int found = convert_pool_find_program(config->program, pool->program, sizeof(pool->program),
	                                      find_error, sizeof(find_error));
	if (found != 0) {
		log_error(
		    "convert.off program=%s error=\"%s\" action=\"documents wait unconverted: "
		    "install %s beside pullprintd or set [convert] program to its path, then "
		    "restart (or set [convert] local = no when other hosts convert)\"",
		    pool->program[0] != '\0' ? pool->program : CONVERT_POOL_PROGRAM_NAME,
		    find_error, CONVERT_POOL_PROGRAM_NAME);
		free(pool);
		return 0;
	}
	if (!str_copy(pool->config_path, sizeof(pool->config_path),
	              config->config_path != NULL ? config->config_path : "") ||
	    !str_copy(pool->state_dir, sizeof(pool->state_dir), config->state_dir)) {
		(void)str_format(error, error_size, "convert pool: a path is too long");
		free(pool);
		return -1;
	}
	if (gethostname(pool->host, sizeof(pool->host)) < 0 || pool->host[0] == '\0')
		(void)str_copy(pool->host, sizeof(pool->host), "localhost");
	pool->host[sizeof(pool->host) - 1] = '\0';

	size_t n = config->workers;
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (size_t)cpus : 1;
	}
	if (n > POOL_WORKERS_MAX)
		n = POOL_WORKERS_MAX;
	pool->n_slots = n;
	pool->slots = calloc(n, sizeof(*pool->slots));
	if (pool->slots == NULL) {
		(void)str_format(error, error_size, "convert pool: out of memory");
		free(pool);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		pool->slots[i].fd = -1;
	pool->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pool->wake_fd < 0) {
		(void)str_format(error, error_size, "convert pool: eventfd failed: %s",
		                 strerror(errno));
		free(pool->slots);
		free(pool);
		return -1;
	}
	int rc = pthread_mutex_init(&pool->lock, NULL);
	if (rc != 0) {
		(void)str_format(error, error_size, "convert pool: cannot make a lock: %s",
		                 strerror(rc));
		convert_pool_close(&pool->wake_fd);
		free(pool->slots);
		free(pool);
		return -1;
	}
	pool->status.workers = (unsigned)n;
	rc = pthread_create(&pool->thread, NULL, pool_main, pool);
	if (rc != 0) {
		(void)str_format(error, error_size, "convert pool: cannot start a thread: %s",
		                 strerror(rc));
		(void)pthread_mutex_destroy(&pool->lock);
		convert_pool_close(&pool->wake_fd);
		free(pool->slots);
		free(pool);
		return -1;
	}
	pool->has_thread = true;
	log_info("convert.pool_started workers=%zu program=%s", n, pool->program);
	*pool_r = pool;
	return 0;
}

void convert_pool_wake(pp_convert_pool_t *pool)
{
	if (pool == NULL)
		return;
	uint64_t one = 1;
	/* EAGAIN: the counter is already high, so the dispatcher wakes anyway. */
	if (write(pool->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("convert.wake_failed error=\"%s\"", strerror(errno));
}

void convert_pool_on_job_received(void *ctx)
{
	convert_pool_wake(ctx);
}

int convert_pool_request_pages(pp_convert_pool_t *pool, int64_t job_id, unsigned first,
                               unsigned last, char *error, size_t error_size)
{
	if (pool == NULL) {
		(void)str_format(
		    error, error_size,
		    "no local converter runs on this server; pages cannot be rendered");
		return -1;
	}
	if (job_id <= 0 || first < 1 || last < first) {
		(void)str_format(error, error_size, "pages %u to %u of job %lld: bad range", first,
		                 last, (long long)job_id);
		return -1;
	}
	pool_lock(pool);
	bool is_full = pool->pages_count >= POOL_PAGES_MAX;
	if (!is_full) {
		size_t at = (pool->pages_head + pool->pages_count) % POOL_PAGES_MAX;
		pool->pages[at] = (pool_pages_t){.job_id = job_id, .first = first, .last = last};
		pool->pages_count++;
	}
	pool_unlock(pool);
	if (is_full) {
		(void)str_format(error, error_size,
		                 "the converters have %d page requests waiting; try again shortly",
		                 POOL_PAGES_MAX);
		return -1;
	}
	convert_pool_wake(pool);
	return 0;
}

/* Waits on print's condition until deadline (CLOCK_MONOTONIC); the pool's lock is held. */
static void pool_print_wait(pp_convert_pool_t *pool, pool_print_t *print,
                            const struct timespec *deadline)
{
	int rc = pthread_cond_timedwait(&print->done_cond, &pool->lock, deadline);
	if (rc != 0 && rc != ETIMEDOUT)
		abort();
}

int convert_pool_request_print(pp_convert_pool_t *pool, int64_t job_id, int64_t printer_id,
                               const char *format, unsigned timeout_s, char *reason_r,
                               size_t reason_size)
{
	if (pool == NULL) {
		(void)str_format(reason_r, reason_size,
		                 "no local converter runs on this server to prepare print data");
		return -1;
	}
	pool_print_t *print = calloc(1, sizeof(*print));
	pthread_condattr_t attr;
	bool is_ready = print != NULL && pthread_condattr_init(&attr) == 0;
	if (is_ready) {
		is_ready = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
		           pthread_cond_init(&print->done_cond, &attr) == 0;
		(void)pthread_condattr_destroy(&attr);
	}
	if (!is_ready || job_id <= 0 || printer_id <= 0 ||
	    !str_copy(print->format, sizeof(print->format), format)) {
		(void)str_format(reason_r, reason_size, "the server could not ask for print data");
		free(print);
		return -1;
	}
	print->job_id = job_id;
	print->printer_id = printer_id;
	struct timespec deadline;
	if (clock_gettime(CLOCK_MONOTONIC, &deadline) < 0)
		abort();
	deadline.tv_sec += (time_t)(timeout_s > 0 ? timeout_s : 1);

	pool_lock(pool);
	bool is_stopping = pool->is_stopping;
	if (!is_stopping) {
		pool_print_t **at = &pool->prints;
		while (*at != NULL)
			at = &(*at)->next;
		*at = print;
	}
	pool_unlock(pool);
	if (is_stopping) {
		(void)str_format(reason_r, reason_size, "the server is stopping");
		pool_print_free(print);
		return -1;
	}
	convert_pool_wake(pool);

	pool_lock(pool);
	struct timespec now;
	while (print->state != POOL_PRINT_DONE) {
		if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
			abort();
		if (now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
			break;
		pool_print_wait(pool, print, &deadline);
	}
	int rc = -1;
	if (print->state == POOL_PRINT_DONE) {
		rc = print->is_ok ? 0 : -1;
		(void)str_copy(reason_r, reason_size, print->reason);
		pool_unlock(pool);
		pool_print_free(print);
		return rc;
	}
	/* Timed out: a queued request leaves the queue; a sent one is freed by its answer. */
	if (print->state == POOL_PRINT_QUEUED) {
		for (pool_print_t **at = &pool->prints; *at != NULL; at = &(*at)->next) {
			if (*at == print) {
				*at = print->next;
				break;
			}
		}
		pool_unlock(pool);
		pool_print_free(print);
	} else {
		print->is_abandoned = true;
		pool_unlock(pool);
	}
	(void)str_format(reason_r, reason_size,
	                 "the converters did not prepare the print data within %u s",
	                 timeout_s);
	return -1;
}

void convert_pool_status(pp_convert_pool_t *pool, pp_convert_pool_status_t *status_r)
{
	memset(status_r, 0, sizeof(*status_r));
	if (pool == NULL)
		return;
	pool_lock(pool);
	*status_r = pool->status;
	pool_unlock(pool);
}

/* Stops every worker (sockets closed first, so they see the end), then abandons their jobs. */
static void pool_stop_workers(pp_convert_pool_t *pool)
{
	pid_t *pids = calloc(pool->n_slots, sizeof(*pids));
	for (size_t i = 0; i < pool->n_slots; i++) {
		pool_slot_t *slot = &pool->slots[i];
		convert_pool_close(&slot->fd);
		if (pids != NULL)
			pids[i] = slot->pid;
		else if (slot->pid > 0)
			(void)convert_pool_kill(slot->pid); /* no memory: no grace either */
	}
	if (pids != NULL)
		convert_pool_stop_processes(pids, pool->n_slots, POOL_STOP_GRACE_MS);
	free(pids);
	for (size_t i = 0; i < pool->n_slots; i++) {
		pool_slot_t *slot = &pool->slots[i];
		slot->pid = 0;
		/* Its worker is gone for sure now: the job it held goes back to the queue. */
		pool_abandon(pool, slot, "The server stopped while converting this document.");
		if (slot->print != NULL)
			pool_print_finish(pool, slot->print, false, "the server is stopping");
		slot->print = NULL;
		slot->state = POOL_SLOT_DOWN;
	}
	/* Print requests nobody took: their callers learn at once. */
	for (pool_print_t *print; (print = pool_take_print(pool)) != NULL;)
		pool_print_finish(pool, print, false, "the server is stopping");
}

void convert_pool_stop(pp_convert_pool_t **pool_p)
{
	pp_convert_pool_t *pool = *pool_p;
	if (pool == NULL)
		return;
	pool_lock(pool);
	pool->is_stopping = true;
	pool_unlock(pool);
	convert_pool_wake(pool);
	if (pool->has_thread)
		(void)pthread_join(pool->thread, NULL);
	pool_stop_workers(pool);
	log_info("convert.pool_stopped");
	convert_pool_close(&pool->wake_fd);
	(void)pthread_mutex_destroy(&pool->lock);
	free(pool->slots);
	free(pool);
	*pool_p = NULL;
}
