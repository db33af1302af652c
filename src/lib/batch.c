/* batch.c - leader/follower batching; see batch.h. */
#include "lib/batch.h"

#include "lib/log.h"

#include <stdlib.h>
#include <string.h>

int batch_init(pp_batch_t *b, unsigned max, const char *name)
{
	memset(b, 0, sizeof(*b));
	int rc = pthread_mutex_init(&b->lock, NULL);
	if (rc != 0)
		return rc;
	rc = pthread_cond_init(&b->done, NULL);
	if (rc != 0) {
		(void)pthread_mutex_destroy(&b->lock);
		return rc;
	}
	b->max = max > 0 ? max : 1;
	b->name = name;
	return 0;
}

void batch_destroy(pp_batch_t *b)
{
	(void)pthread_cond_destroy(&b->done);
	(void)pthread_mutex_destroy(&b->lock);
}

/* A pthread call on the queue failed: the lock is corrupted, nothing can be trusted. */
static void batch_check(const pp_batch_t *b, const char *what, int rc)
{
	if (rc == 0)
		return;
	log_error("%s.%s_failed error=\"%s\"", b->name, what, strerror(rc));
	abort();
}

void batch_join(pp_batch_t *b, pp_batch_member_t *self, batch_step_fn *step, void *ctx)
{
	self->next = NULL;
	self->is_done = false;
	batch_check(b, "lock", pthread_mutex_lock(&b->lock));
	if (b->tail != NULL)
		b->tail->next = self;
	else
		b->head = self;
	b->tail = self;
	while (!self->is_done) {
		if (b->has_leader) {
			batch_check(b, "wait", pthread_cond_wait(&b->done, &b->lock));
			continue;
		}
		/* Lead: take up to max members from the front of the queue. */
		b->has_leader = true;
		pp_batch_member_t *first = b->head, *last = b->head;
		for (unsigned n = 1; n < b->max && last->next != NULL; n++)
			last = last->next;
		b->head = last->next;
		if (b->head == NULL)
			b->tail = NULL;
		last->next = NULL;
		batch_check(b, "unlock", pthread_mutex_unlock(&b->lock));

		step(first, ctx);

		batch_check(b, "lock", pthread_mutex_lock(&b->lock));
		b->steps++;
		for (pp_batch_member_t *m = first; m != NULL;) {
			pp_batch_member_t *next = m->next;
			m->is_done = true; /* m may be gone once the lock is released */
			m = next;
		}
		b->has_leader = false;
		batch_check(b, "broadcast", pthread_cond_broadcast(&b->done));
	}
	batch_check(b, "unlock", pthread_mutex_unlock(&b->lock));
}

uint64_t batch_steps(pp_batch_t *b)
{
	batch_check(b, "lock", pthread_mutex_lock(&b->lock));
	uint64_t n = b->steps;
	batch_check(b, "unlock", pthread_mutex_unlock(&b->lock));
	return n;
}
