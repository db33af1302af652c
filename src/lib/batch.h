/*
 * batch.h - leader/follower batching: callers that want the same costly step at about the
 * same moment (a flush to disk, a commit) share one.
 *
 * Each caller queues a member that lives on its own stack and joins. The first to find no
 * batch running becomes the leader: it takes what is queued (at most max), runs the step once
 * for all of them without the queue lock, and wakes them. Callers that arrive meanwhile form
 * the next batch, so under load one step covers many callers while a lone caller pays for
 * one step, as if it had done the work alone. The step writes each member's result into the
 * member (the caller's struct that embeds pp_batch_member_t as its first field).
 */
#ifndef PP_BATCH_H
#define PP_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Embedded first in the caller's member struct. */
typedef struct pp_batch_member {
	struct pp_batch_member *next;
	bool is_done;
} pp_batch_member_t;

/* Runs the step for the members first, first->next, … (NULL-terminated). */
typedef void batch_step_fn(pp_batch_member_t *first, void *ctx);

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t done; /* broadcast when a batch has finished */
	pp_batch_member_t *head, *tail;
	bool has_leader;     /* one caller is running a batch now */
	unsigned max;        /* members one step answers for */
	uint64_t steps;      /* steps run so far (tests read it) */
	const char *name;    /* for log lines ("spool.sync", "db.group") */
} pp_batch_t;

/* Sets up b for batches of at most max (>= 1). Returns 0 or an errno value. */
int batch_init(pp_batch_t *b, unsigned max, const char *name);
void batch_destroy(pp_batch_t *b);

/*
 * Queues self (zeroed by the caller apart from its own fields) and returns once a step has
 * run for it: by this caller as leader, or by another. step and ctx must be the same for
 * every caller of one b. A broken mutex or condition variable aborts (a corrupted lock).
 */
void batch_join(pp_batch_t *b, pp_batch_member_t *self, batch_step_fn *step, void *ctx);

/* How many steps b has run. */
uint64_t batch_steps(pp_batch_t *b);

#endif
