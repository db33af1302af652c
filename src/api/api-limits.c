/*
 * api-limits.c - this host's rate limits and growing sign-in delays, kept in memory.
 *
 * Rate limits are token buckets: a user may make API_WRITE_BURST changes at once and
 * API_WRITE_PER_S per second after that; a source address API_AUTH_BURST sign-in or
 * enrolment requests, then API_AUTH_PER_S per second. Reads are not limited here: the
 * listener's connection limits bound them.
 *
 * Growing delays sit in front of the database's guessing throttle (throttle.h: a lockout
 * after auth.max_failures failures, shared by every host): after the second failed sign-in
 * for a key the next attempt must wait 1 s, then 2, 4, 8 … up to API_DELAY_MAX_S, so a
 * guesser is slowed from the third try while someone who mistyped twice is not.
 *
 * Both live in one fixed table of API_LIMITS_SLOTS entries found by a seeded hash of the key;
 * a full neighbourhood evicts its stalest entry, so memory is bounded whatever the traffic.
 * A key evicted loses only this host's soft limits: the database's lockout still holds.
 */
#include "api/api-private.h"

#include "lib/str.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_LIMITS_SLOTS 4096u
#define API_LIMITS_PROBE 8u /* slots looked at per key */
#define API_WRITE_BURST 60.0
#define API_WRITE_PER_S 5.0
#define API_AUTH_BURST 30.0
#define API_AUTH_PER_S 0.5
#define API_DELAY_MAX_S 300
#define API_DELAY_FREE_FAILURES 2u /* failures before the first delay */
#define API_DELAY_FORGET_MS (15 * 60 * 1000) /* a quiet quarter of an hour starts afresh */

typedef struct {
	uint64_t key;     /* seeded hash of kind + key text; 0 = free */
	int64_t used_ms;  /* last touched, for eviction */
	double tokens;    /* bucket level */
	int64_t refill_ms;
	unsigned failures; /* delays: consecutive failures */
	int64_t failed_ms; /* delays: when the last one was */
	int64_t next_ms;   /* delays: no attempt before this */
} api_slot_t;

struct api_limits {
	pthread_mutex_t lock;
	uint64_t seed;
	api_slot_t slots[API_LIMITS_SLOTS];
};

int64_t api_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int api_limits_new(api_limits_t **limits_r, char *error, size_t error_size)
{
	api_limits_t *l = calloc(1, sizeof(*l));
	if (l == NULL || pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l);
		(void)str_format(error, error_size, "api: out of memory for rate limits");
		return -1;
	}
	/* A random seed: nobody can pick keys that crowd one neighbourhood. */
	crypto_random_bytes(&l->seed, sizeof(l->seed));
	*limits_r = l;
	return 0;
}

void api_limits_free(api_limits_t **limits)
{
	if (limits == NULL || *limits == NULL)
		return;
	(void)pthread_mutex_destroy(&(*limits)->lock);
	free(*limits);
	*limits = NULL;
}

/* FNV-1a over the seed, a kind byte and the key text; never 0. */
static uint64_t api_limits_hash(const api_limits_t *l, unsigned kind, const char *key)
{
	uint64_t h = 14695981039346656037ull ^ l->seed;
	h = (h ^ (uint8_t)kind) * 1099511628211ull;
	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h != 0 ? h : 1;
}

/*
 * The slot of hash, made fresh (is_new_r) when absent: a free slot in its neighbourhood, or
 * the one used longest ago. Called with the lock held.
 */
static api_slot_t *api_limits_slot_locked(api_limits_t *l, uint64_t hash, int64_t now_ms,
					  bool *is_new_r)
{
	api_slot_t *victim = NULL;
	for (unsigned i = 0; i < API_LIMITS_PROBE; i++) {
		api_slot_t *s = &l->slots[(hash + i) % API_LIMITS_SLOTS];
		if (s->key == hash) {
			*is_new_r = false;
			s->used_ms = now_ms;
			return s;
		}
		if (victim == NULL || s->key == 0 || (victim->key != 0 && s->used_ms < victim->used_ms))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = hash;
	victim->used_ms = now_ms;
	*is_new_r = true;
	return victim;
}

bool api_limits_take(api_limits_t *limits, api_bucket_t kind, const char *key, int64_t now_ms,
		     int64_t *retry_after_r)
{
	double burst = kind == API_BUCKET_WRITE ? API_WRITE_BURST : API_AUTH_BURST;
	double rate = kind == API_BUCKET_WRITE ? API_WRITE_PER_S : API_AUTH_PER_S;
	uint64_t hash = api_limits_hash(limits, (unsigned)kind + 1u, key);
	*retry_after_r = 0;
	if (pthread_mutex_lock(&limits->lock) != 0)
		return true; /* a broken lock must not lock everyone out */
	bool is_new = false;
	api_slot_t *s = api_limits_slot_locked(limits, hash, now_ms, &is_new);
	if (is_new) {
		s->tokens = burst;
		s->refill_ms = now_ms;
	}
	double elapsed_s = (double)(now_ms - s->refill_ms) / 1000.0;
	if (elapsed_s > 0) {
		s->tokens += elapsed_s * rate;
		if (s->tokens > burst)
			s->tokens = burst;
		s->refill_ms = now_ms;
	}
	bool is_allowed = s->tokens >= 1.0;
	if (is_allowed)
		s->tokens -= 1.0;
	else
		*retry_after_r = (int64_t)((1.0 - s->tokens) / rate) + 1;
	(void)pthread_mutex_unlock(&limits->lock);
	return is_allowed;
}

int64_t api_delay_seconds(unsigned failures)
{
	if (failures <= API_DELAY_FREE_FAILURES)
		return 0;
	unsigned shift = failures - API_DELAY_FREE_FAILURES - 1;
	if (shift >= 16)
		return API_DELAY_MAX_S;
	int64_t delay = (int64_t)1 << shift;
	return delay < API_DELAY_MAX_S ? delay : API_DELAY_MAX_S;
}

/* Delay slots use kind 0, which no bucket uses. */
bool api_delay_check(api_limits_t *limits, const char *key, int64_t now_ms,
		     int64_t *retry_after_r)
{
	*retry_after_r = 0;
	uint64_t hash = api_limits_hash(limits, 0, key);
	if (pthread_mutex_lock(&limits->lock) != 0)
		return true;
	bool is_allowed = true;
	for (unsigned i = 0; i < API_LIMITS_PROBE; i++) {
		const api_slot_t *s = &limits->slots[(hash + i) % API_LIMITS_SLOTS];
		if (s->key == hash) {
			if (s->next_ms > now_ms) {
				is_allowed = false;
				*retry_after_r = (s->next_ms - now_ms + 999) / 1000;
			}
			break;
		}
	}
	(void)pthread_mutex_unlock(&limits->lock);
	return is_allowed;
}

void api_delay_failure(api_limits_t *limits, const char *key, int64_t now_ms)
{
	uint64_t hash = api_limits_hash(limits, 0, key);
	if (pthread_mutex_lock(&limits->lock) != 0)
		return;
	bool is_new = false;
	api_slot_t *s = api_limits_slot_locked(limits, hash, now_ms, &is_new);
	if (now_ms - s->failed_ms > API_DELAY_FORGET_MS)
		s->failures = 0;
	if (s->failures < 1000u)
		s->failures++;
	s->failed_ms = now_ms;
	s->next_ms = now_ms + api_delay_seconds(s->failures) * 1000;
	(void)pthread_mutex_unlock(&limits->lock);
}

void api_delay_reset(api_limits_t *limits, const char *key)
{
	uint64_t hash = api_limits_hash(limits, 0, key);
	if (pthread_mutex_lock(&limits->lock) != 0)
		return;
	for (unsigned i = 0; i < API_LIMITS_PROBE; i++) {
		api_slot_t *s = &limits->slots[(hash + i) % API_LIMITS_SLOTS];
		if (s->key == hash) {
			memset(s, 0, sizeof(*s));
			break;
		}
	}
	(void)pthread_mutex_unlock(&limits->lock);
}
