/*
 * api-cache.c - a short-lived cache of job-list answers, per user and query.
 *
 * A portal or panel asks for its user's job list often, and a list of 50 jobs costs a query
 * and some 20 KB of JSON built with jansson: without a cache one host answers about a
 * thousand lists a second, and 200 clients asking at once wait in line. An answer is kept
 * for API_CACHE_TTL_MS and is forgotten at once when this host changes one of the user's jobs
 * (upload, options, release, delete), so a client always sees its own changes. A change made
 * elsewhere (the converter, delivery, another host) shows within API_CACHE_TTL_MS; clients
 * that need it sooner follow GET /events.
 *
 * Under load the cache must not stampede: when an answer nears its end (the last
 * API_CACHE_REFRESH_MS of its life) one request is told to build it anew (a "claim") while
 * the others still get the old one, so a busy list never expires. When an answer is missing
 * and another request already builds it, a request waits for that one (at most until the
 * claim lapses, API_CACHE_CLAIM_MS) instead of building the same list beside it under the
 * database lock. An answer built before the user's jobs changed is not stored.
 *
 * Bodies are immutable and reference-counted: the lock covers finding an answer, not sending
 * its 20 KB. Fixed size (API_CACHE_SLOTS entries, each at most API_CACHE_BODY_MAX bytes), one
 * lock and one condition variable.
 */
#include "api/api-private.h"

#include "lib/str.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_CACHE_SLOTS 256u
#define API_CACHE_TTL_MS 1000
#define API_CACHE_REFRESH_MS 250 /* the last part of an answer's life: one request renews it */
#define API_CACHE_CLAIM_MS 250   /* a claim not fulfilled by then is given up */
#define API_CACHE_BODY_MAX (256u * 1024u)

/* One answer's bytes, shared by the slot and by the requests sending it. */
typedef struct {
	atomic_uint refs;
	size_t len;
	char data[];
} api_cache_body_t;

typedef struct {
	char key[API_CACHE_KEY_MAX]; /* "" = free */
	int64_t user_id;
	int64_t stored_ms;
	api_cache_body_t *body;
	char claim[API_CACHE_KEY_MAX]; /* the key one request is building, "" = none */
	int64_t claimed_ms;
} api_cache_entry_t;

struct api_cache {
	pthread_mutex_t lock;
	pthread_cond_t stored; /* broadcast when an answer is stored (CLOCK_MONOTONIC) */
	int64_t forgot_ms;     /* the last api_cache_forget_user() */
	api_cache_entry_t slots[API_CACHE_SLOTS];
};

/* Drops one reference; the last frees. NULL-safe. */
static void api_cache_body_unref(api_cache_body_t *body)
{
	if (body != NULL && atomic_fetch_sub(&body->refs, 1) == 1)
		free(body);
}

int api_cache_new(api_cache_t **cache_r, char *error, size_t error_size)
{
	api_cache_t *c = calloc(1, sizeof(*c));
	pthread_condattr_t attr;
	bool has_attr = false;
	if (c == NULL || pthread_condattr_init(&attr) != 0)
		goto fail;
	has_attr = true;
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&c->stored, &attr) != 0)
		goto fail;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		(void)pthread_cond_destroy(&c->stored);
		goto fail;
	}
	(void)pthread_condattr_destroy(&attr);
	c->forgot_ms = INT64_MIN;
	*cache_r = c;
	return 0;
fail:
	if (has_attr)
		(void)pthread_condattr_destroy(&attr);
	free(c);
	(void)str_format(error, error_size, "api: out of memory for the answer cache");
	return -1;
}

void api_cache_free(api_cache_t **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	for (size_t i = 0; i < API_CACHE_SLOTS; i++)
		api_cache_body_unref((*cache)->slots[i].body);
	(void)pthread_cond_destroy(&(*cache)->stored);
	(void)pthread_mutex_destroy(&(*cache)->lock);
	free(*cache);
	*cache = NULL;
}

/* The slot of key (FNV-1a). */
static api_cache_entry_t *api_cache_slot(api_cache_t *c, const char *key)
{
	uint64_t h = 14695981039346656037ull;
	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return &c->slots[h % API_CACHE_SLOTS];
}

/* Waits on c->stored (lock held) until the monotonic time deadline_ms at most. */
static void api_cache_wait_locked(api_cache_t *c, int64_t deadline_ms)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
			      .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};
	(void)pthread_cond_timedwait(&c->stored, &c->lock, &ts);
}

/*
 * A request that finds no answer, or one near its end, is told (by false) to build it and
 * store it with api_cache_store(); it then holds the claim on key. Requests that find an
 * answer being built wait for it (at most until the claim lapses). The body is sent outside
 * the lock.
 */
bool api_cache_answer(api_cache_t *c, api_call_t *call, const char *key, int64_t now_ms)
{
	api_cache_body_t *body = NULL;
	if (pthread_mutex_lock(&c->lock) != 0)
		return false;
	for (;;) {
		api_cache_entry_t *e = api_cache_slot(c, key);
		/* now_ms was read before the lock: another request's later time makes these
		   negative, which counts as fresh and as claimed. */
		int64_t age = now_ms - e->stored_ms;
		bool is_fresh = e->body != NULL && strcmp(e->key, key) == 0 &&
				age < API_CACHE_TTL_MS;
		bool is_claimed = e->claim[0] != '\0' && now_ms - e->claimed_ms < API_CACHE_CLAIM_MS;
		bool is_mine = is_claimed && strcmp(e->claim, key) == 0;
		if (is_fresh && (is_claimed || age < API_CACHE_TTL_MS - API_CACHE_REFRESH_MS)) {
			body = e->body;
			atomic_fetch_add(&body->refs, 1);
			break;
		}
		if (is_mine) {
			/* Another request builds this answer: wait for it. */
			api_cache_wait_locked(c, e->claimed_ms + API_CACHE_CLAIM_MS);
			now_ms = api_now_ms();
			continue;
		}
		/* Missing or near its end, and nobody builds it: this request will. */
		(void)str_copy(e->claim, sizeof(e->claim), key);
		e->claimed_ms = now_ms;
		break;
	}
	(void)pthread_mutex_unlock(&c->lock);
	if (body == NULL)
		return false;
	bool is_sent = http_respond_bytes(call->req, 200, "application/json", body->data,
					  body->len) == 0;
	api_cache_body_unref(body);
	return is_sent;
}

/*
 * Stores the answer built from a read that began at now_ms, unless one of the user's jobs
 * changed since (api_cache_forget_user() at or after now_ms) or a newer answer is there, and
 * ends the claim on key.
 */
void api_cache_store(api_cache_t *c, const char *key, int64_t user_id, const char *body,
		     size_t len, int64_t now_ms)
{
	api_cache_body_t *copy = NULL;
	if (len <= API_CACHE_BODY_MAX) {
		copy = malloc(sizeof(*copy) + len);
		if (copy != NULL) {
			atomic_init(&copy->refs, 1);
			copy->len = len;
			memcpy(copy->data, body, len);
		}
	}
	if (pthread_mutex_lock(&c->lock) != 0) {
		api_cache_body_unref(copy);
		return;
	}
	api_cache_entry_t *e = api_cache_slot(c, key);
	api_cache_body_t *old = NULL;
	if (strcmp(e->claim, key) == 0)
		e->claim[0] = '\0';
	bool is_newer = e->body == NULL || strcmp(e->key, key) != 0 || e->stored_ms <= now_ms;
	if (copy != NULL && c->forgot_ms < now_ms && is_newer) {
		old = e->body;
		(void)str_copy(e->key, sizeof(e->key), key);
		e->user_id = user_id;
		e->stored_ms = now_ms;
		e->body = copy;
		copy = NULL;
	}
	(void)pthread_cond_broadcast(&c->stored);
	(void)pthread_mutex_unlock(&c->lock);
	api_cache_body_unref(old);
	api_cache_body_unref(copy);
}

void api_cache_forget_user(api_cache_t *c, int64_t user_id)
{
	if (c == NULL || pthread_mutex_lock(&c->lock) != 0)
		return;
	/* Answers being built now began before this change: api_cache_store() drops them. */
	c->forgot_ms = api_now_ms();
	for (size_t i = 0; i < API_CACHE_SLOTS; i++) {
		api_cache_entry_t *e = &c->slots[i];
		if (e->body != NULL && e->user_id == user_id) {
			api_cache_body_unref(e->body);
			e->body = NULL;
			e->key[0] = '\0';
			e->user_id = 0;
			e->stored_ms = 0;
		}
	}
	(void)pthread_mutex_unlock(&c->lock);
}
