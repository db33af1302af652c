/*
 * api-events.c - GET /api/v1/events: a Server-Sent Event stream of the user's job changes.
 *
 * The listener cannot be pushed from the database, so one thread (the hub) polls for every
 * open stream once a second: the user's jobs whose updated_at is recent (a two-second
 * overlap, so a change in the same second as the last look is not missed), compared with
 * what the stream was last told, so each change is sent once as
 *
 *   event: job
 *   id: 7
 *   data: {"id":"<uuid>","state":"held","pages":3,…}   (the job's summary, as GET /jobs)
 *
 * A job deleted through the API is sent as "event: job_deleted" with {"id":"<uuid>"}. A
 * comment line (": keep-alive") every API_EVENTS_KEEPALIVE_S lets the listener notice a
 * client that left. Streams are bounded: API_EVENTS_MAX per host, API_EVENTS_PER_USER per
 * user, and a client that does not read (its API_EVENTS_BUFFER_MAX bytes of backlog fill)
 * is cut off; it reconnects and lists its jobs again.
 *
 * Ownership: a stream's state (api_sub_t) has two references, the hub's list and the
 * listener's response; whichever lets go last frees it.
 */
#include "api/api-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_EVENTS_BUFFER_MAX (64u * 1024u)
#define API_EVENTS_KEEPALIVE_S 15
#define API_EVENTS_SEEN 128   /* jobs a stream remembers having told */
#define API_EVENTS_POLL_ROWS 200

typedef struct {
	int64_t job_id;
	int64_t updated_at;
	int64_t pages;
	int state;
} api_seen_t;

typedef struct api_sub {
	struct api_sub *next;
	pthread_mutex_t lock; /* guards buf, len, refs, stream and the flags */
	unsigned refs;
	int64_t user_id;
	pp_http_stream_t *stream; /* the hub's reference */
	char *buf;
	size_t len;
	bool is_closed;   /* the response is gone */
	bool is_overflow; /* the client stopped reading: end the stream */
	atomic_ullong event_id;
	int64_t since;          /* hub only: updated_at lower bound of the next look */
	int64_t keepalive_at;   /* hub only */
	api_seen_t seen[API_EVENTS_SEEN]; /* hub only */
	size_t seen_next;
} api_sub_t;

struct api_events {
	pp_core_t *core;
	pthread_mutex_t lock; /* guards subs, count, is_stopping */
	pthread_cond_t cond;
	bool is_stopping;
	bool has_thread;
	pthread_t thread;
	api_sub_t *subs;
	size_t count;
};

static void api_sub_release(api_sub_t *sub)
{
	if (pthread_mutex_lock(&sub->lock) != 0)
		abort();
	unsigned refs = --sub->refs;
	(void)pthread_mutex_unlock(&sub->lock);
	if (refs > 0)
		return;
	http_stream_unref(&sub->stream);
	(void)pthread_mutex_destroy(&sub->lock);
	free(sub->buf);
	free(sub);
}

/* Appends text to the stream's backlog and wakes it. Call without sub->lock. */
static void api_sub_send(api_sub_t *sub, const char *text, size_t len)
{
	if (pthread_mutex_lock(&sub->lock) != 0)
		abort();
	if (!sub->is_closed && !sub->is_overflow) {
		if (len > API_EVENTS_BUFFER_MAX - sub->len)
			sub->is_overflow = true;
		else {
			memcpy(sub->buf + sub->len, text, len);
			sub->len += len;
		}
	}
	/* Woken under the lock: the reference cannot go while we hold it. */
	http_stream_wake(sub->stream);
	(void)pthread_mutex_unlock(&sub->lock);
}

/* Sends one event of name with data (stolen JSON). */
static void api_sub_event(api_sub_t *sub, const char *name, json_t *data)
{
	char *text = data != NULL ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	if (text == NULL)
		return;
	size_t need = strlen(text) + strlen(name) + 64;
	char *event = malloc(need);
	if (event != NULL &&
	    str_format(event, need, "event: %s\nid: %llu\ndata: %s\n\n", name,
		       (unsigned long long)(atomic_fetch_add(&sub->event_id, 1) + 1), text))
		api_sub_send(sub, event, strlen(event));
	free(event);
	free(text);
}

/* The listener's producer: hands out the backlog, or sleeps. */
static ssize_t api_sub_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	api_sub_t *sub = ctx;
	if (pthread_mutex_lock(&sub->lock) != 0)
		abort();
	ssize_t n = HTTP_STREAM_WAIT;
	if (sub->len > 0) {
		size_t take = sub->len < max ? sub->len : max;
		memcpy(buf, sub->buf, take);
		memmove(sub->buf, sub->buf + take, sub->len - take);
		sub->len -= take;
		n = (ssize_t)take;
	} else if (sub->is_overflow) {
		n = HTTP_STREAM_END;
	}
	(void)pthread_mutex_unlock(&sub->lock);
	return n;
}

/* The listener let go of the response (client gone, or server stopping). */
static void api_sub_done(void *ctx)
{
	api_sub_t *sub = ctx;
	if (pthread_mutex_lock(&sub->lock) != 0)
		abort();
	sub->is_closed = true;
	(void)pthread_mutex_unlock(&sub->lock);
	api_sub_release(sub);
}

/* Whether the stream has told this state of the job already; remembers it if not. */
static bool api_sub_is_new(api_sub_t *sub, int64_t job_id, int64_t updated_at, int state,
			   int64_t pages)
{
	for (size_t i = 0; i < API_EVENTS_SEEN; i++) {
		api_seen_t *s = &sub->seen[i];
		if (s->job_id != job_id)
			continue;
		if (s->updated_at == updated_at && s->state == state && s->pages == pages)
			return false;
		s->updated_at = updated_at;
		s->state = state;
		s->pages = pages;
		return true;
	}
	api_seen_t *s = &sub->seen[sub->seen_next];
	sub->seen_next = (sub->seen_next + 1) % API_EVENTS_SEEN;
	*s = (api_seen_t){.job_id = job_id, .updated_at = updated_at, .state = state,
			  .pages = pages};
	return true;
}

/* One look at the user's recent job changes for sub (hub thread). */
static void api_events_poll(api_events_t *ev, api_sub_t *sub, int64_t now)
{
	pp_job_change_t changes[API_EVENTS_POLL_ROWS];
	size_t count = 0;
	char error[API_ERROR_MAX];
	if (job_changes_since(ev->core, sub->user_id, sub->since, changes, API_EVENTS_POLL_ROWS,
			      &count, error, sizeof(error)) < 0) {
		log_warn("api.events_poll_failed error=\"%s\"", error);
		return;
	}
	sub->since = now - 2;
	for (size_t row = 0; row < count; row++) {
		const pp_job_change_t *change = &changes[row];
		if (!api_sub_is_new(sub, change->id, change->updated_at, (int)change->state,
				    change->pages))
			continue;
		pp_job_t job;
		if (job_get(ev->core, change->id, &job, error, sizeof(error)) == JOB_OK &&
		    job.user_id == sub->user_id)
			api_sub_event(sub, "job", api_job_summary(&job));
	}
	if (now - sub->keepalive_at >= API_EVENTS_KEEPALIVE_S) {
		sub->keepalive_at = now;
		api_sub_send(sub, ": keep-alive\n\n", 14);
	}
}

/* The hub: once a second, drops closed streams and polls for the others. */
static void *api_events_main(void *arg)
{
	api_events_t *ev = arg;
	for (;;) {
		if (pthread_mutex_lock(&ev->lock) != 0)
			abort();
		struct timespec until;
		(void)clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		while (!ev->is_stopping) {
			int rc = pthread_cond_timedwait(&ev->cond, &ev->lock, &until);
			if (rc == ETIMEDOUT)
				break;
		}
		if (ev->is_stopping) {
			(void)pthread_mutex_unlock(&ev->lock);
			return NULL;
		}
		/* Take the closed ones out; hold a reference to the rest while polling. */
		api_sub_t *work[API_EVENTS_MAX];
		size_t n_work = 0;
		for (api_sub_t **p = &ev->subs; *p != NULL;) {
			api_sub_t *sub = *p;
			if (pthread_mutex_lock(&sub->lock) != 0)
				abort();
			bool is_gone = sub->is_closed;
			if (!is_gone)
				sub->refs++;
			(void)pthread_mutex_unlock(&sub->lock);
			if (is_gone) {
				*p = sub->next;
				ev->count--;
				api_sub_release(sub);
				continue;
			}
			work[n_work++] = sub;
			p = &sub->next;
		}
		(void)pthread_mutex_unlock(&ev->lock);
		int64_t now = core_now(ev->core);
		for (size_t i = 0; i < n_work; i++) {
			api_events_poll(ev, work[i], now);
			api_sub_release(work[i]);
		}
	}
}

int api_events_start(pp_core_t *core, api_events_t **events_r, char *error, size_t error_size)
{
	*events_r = NULL;
	api_events_t *ev = calloc(1, sizeof(*ev));
	if (ev == NULL) {
		(void)str_format(error, error_size, "api: out of memory");
		return -1;
	}
	ev->core = core;
	if (pthread_mutex_init(&ev->lock, NULL) != 0) {
		free(ev);
		(void)str_format(error, error_size, "api: cannot make a lock");
		return -1;
	}
	if (pthread_cond_init(&ev->cond, NULL) != 0) {
		(void)pthread_mutex_destroy(&ev->lock);
		free(ev);
		(void)str_format(error, error_size, "api: cannot make a condition");
		return -1;
	}
	int rc = pthread_create(&ev->thread, NULL, api_events_main, ev);
	if (rc != 0) {
		(void)str_format(error, error_size, "api: cannot start the event thread: %s",
				 strerror(rc));
		(void)pthread_cond_destroy(&ev->cond);
		(void)pthread_mutex_destroy(&ev->lock);
		free(ev);
		return -1;
	}
	ev->has_thread = true;
	*events_r = ev;
	return 0;
}

void api_events_stop(api_events_t **events)
{
	if (events == NULL || *events == NULL)
		return;
	api_events_t *ev = *events;
	if (pthread_mutex_lock(&ev->lock) != 0)
		abort();
	ev->is_stopping = true;
	(void)pthread_cond_signal(&ev->cond);
	(void)pthread_mutex_unlock(&ev->lock);
	if (ev->has_thread)
		(void)pthread_join(ev->thread, NULL);
	while (ev->subs != NULL) {
		api_sub_t *sub = ev->subs;
		ev->subs = sub->next;
		api_sub_release(sub);
	}
	(void)pthread_cond_destroy(&ev->cond);
	(void)pthread_mutex_destroy(&ev->lock);
	free(ev);
	*events = NULL;
}

void api_events_stream(api_call_t *call)
{
	api_events_t *ev = call->api->events;
	api_sub_t *sub = calloc(1, sizeof(*sub));
	char *buf = malloc(API_EVENTS_BUFFER_MAX);
	if (sub == NULL || buf == NULL || pthread_mutex_init(&sub->lock, NULL) != 0) {
		free(sub);
		free(buf);
		api_error(call, 503, "busy", "The server is out of memory; try again.", 5);
		return;
	}
	sub->buf = buf;
	sub->refs = 2; /* the hub's list and the response */
	sub->user_id = call->user.id;
	sub->since = core_now(call->api->cfg.core);
	sub->keepalive_at = sub->since;
	static const char hello[] = "retry: 3000\n: connected\n\n";
	memcpy(sub->buf, hello, sizeof(hello) - 1);
	sub->len = sizeof(hello) - 1;

	/* Bounded: per host and per user; the place is taken at once, so checks do not race. */
	if (pthread_mutex_lock(&ev->lock) != 0)
		abort();
	size_t mine = 0;
	for (const api_sub_t *s = ev->subs; s != NULL; s = s->next)
		mine += s->user_id == sub->user_id;
	bool is_full = ev->count >= API_EVENTS_MAX;
	bool is_mine_full = mine >= API_EVENTS_PER_USER;
	if (!is_full && !is_mine_full) {
		sub->next = ev->subs;
		ev->subs = sub;
		ev->count++;
	}
	(void)pthread_mutex_unlock(&ev->lock);
	if (is_full || is_mine_full) {
		sub->refs = 1;
		api_sub_release(sub);
		api_error(call, is_full ? 503 : 429, "too_many_streams",
			  is_full ? "The server has too many event streams open; try again later."
				  : "You have too many event streams open; close one first.",
			  30);
		return;
	}
	(void)http_response_header(call->req, "X-Accel-Buffering", "no");
	pp_http_stream_t *stream = NULL;
	if (http_respond_stream(call->req, 200, "text/event-stream", api_sub_read, sub,
				api_sub_done, &stream) < 0)
		return; /* api_sub_done() ran: the hub drops the stream at its next round */
	if (pthread_mutex_lock(&sub->lock) != 0)
		abort();
	sub->stream = stream;
	(void)pthread_mutex_unlock(&sub->lock);
}

void api_events_deleted(api_events_t *events, int64_t user_id, const char *uuid)
{
	if (events == NULL)
		return;
	if (pthread_mutex_lock(&events->lock) != 0)
		abort();
	for (api_sub_t *sub = events->subs; sub != NULL; sub = sub->next) {
		if (sub->user_id == user_id)
			api_sub_event(sub, "job_deleted", json_pack("{s:s}", "id", uuid));
	}
	(void)pthread_mutex_unlock(&events->lock);
}
