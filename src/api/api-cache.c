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
 * Fixed size (API_CACHE_SLOTS entries, each at most API_CACHE_BODY_MAX bytes), one lock.
 */
#include "api/api-private.h"

#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

#define API_CACHE_SLOTS 256u
#define API_CACHE_TTL_MS 1000
#define API_CACHE_BODY_MAX (256u * 1024u)

typedef struct {
	char key[API_CACHE_KEY_MAX]; /* "" = free */
	int64_t user_id;
	int64_t stored_ms;
	char *body;
	size_t len;
} api_cache_entry_t;

struct api_cache {
	pthread_mutex_t lock;
	api_cache_entry_t slots[API_CACHE_SLOTS];
};

int api_cache_new(api_cache_t **cache_r, char *error, size_t error_size)
{
	api_cache_t *c = calloc(1, sizeof(*c));
	if (c == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		(void)str_format(error, error_size, "api: out of memory for the answer cache");
		return -1;
	}
	*cache_r = c;
	return 0;
}

void api_cache_free(api_cache_t **cache)
{
	if (cache == NULL || *cache == NULL)
		return;
	for (size_t i = 0; i < API_CACHE_SLOTS; i++)
		free((*cache)->slots[i].body);
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

bool api_cache_answer(api_cache_t *c, api_call_t *call, const char *key, int64_t now_ms)
{
	bool is_hit = false;
	if (pthread_mutex_lock(&c->lock) != 0)
		return false;
	const api_cache_entry_t *e = api_cache_slot(c, key);
	if (e->body != NULL && strcmp(e->key, key) == 0 && now_ms - e->stored_ms >= 0 &&
	    now_ms - e->stored_ms < API_CACHE_TTL_MS)
		is_hit = http_respond_bytes(call->req, 200, "application/json", e->body, e->len) ==
			 0;
	(void)pthread_mutex_unlock(&c->lock);
	return is_hit;
}

void api_cache_store(api_cache_t *c, const char *key, int64_t user_id, const char *body,
		     size_t len, int64_t now_ms)
{
	if (len > API_CACHE_BODY_MAX)
		return;
	char *copy = malloc(len);
	if (copy == NULL)
		return;
	memcpy(copy, body, len);
	if (pthread_mutex_lock(&c->lock) != 0) {
		free(copy);
		return;
	}
	api_cache_entry_t *e = api_cache_slot(c, key);
	free(e->body);
	(void)str_copy(e->key, sizeof(e->key), key);
	e->user_id = user_id;
	e->stored_ms = now_ms;
	e->body = copy;
	e->len = len;
	(void)pthread_mutex_unlock(&c->lock);
}

void api_cache_forget_user(api_cache_t *c, int64_t user_id)
{
	if (c == NULL || pthread_mutex_lock(&c->lock) != 0)
		return;
	for (size_t i = 0; i < API_CACHE_SLOTS; i++) {
		api_cache_entry_t *e = &c->slots[i];
		if (e->body != NULL && e->user_id == user_id) {
			free(e->body);
			memset(e, 0, sizeof(*e));
		}
	}
	(void)pthread_mutex_unlock(&c->lock);
}
