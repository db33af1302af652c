/* test-batch.c - leader/follower batching (lib/batch.h): every caller's step runs exactly
 * once, concurrent callers share steps, and a step never holds more than max members. */
#include "test-support.h"

#include "lib/batch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define CALLERS 16
#define ROUNDS 200

typedef struct {
	pp_batch_member_t member;
	int served; /* how many steps included this member */
} member_t;

typedef struct {
	pp_batch_t batch;
	atomic_uint largest; /* most members seen in one step */
} shared_t;

static void step(pp_batch_member_t *first, void *ctx)
{
	shared_t *shared = ctx;
	unsigned n = 0;
	for (pp_batch_member_t *m = first; m != NULL; m = m->next) {
		((member_t *)m)->served++;
		n++;
	}
	unsigned seen = atomic_load(&shared->largest);
	while (n > seen && !atomic_compare_exchange_weak(&shared->largest, &seen, n))
		;
	usleep(200); /* a flush takes a while: others queue meanwhile */
}

static void *caller(void *arg)
{
	shared_t *shared = arg;
	for (int i = 0; i < ROUNDS; i++) {
		member_t self = {0};
		batch_join(&shared->batch, &self.member, step, shared);
		if (self.served != 1)
			return (void *)1;
	}
	return NULL;
}

static void test_concurrent_callers_share_steps(void **state)
{
	(void)state;
	shared_t shared;
	atomic_init(&shared.largest, 0);
	assert_int_equal(batch_init(&shared.batch, 4, "test.batch"), 0);
	pthread_t threads[CALLERS];
	for (int i = 0; i < CALLERS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, caller, &shared), 0);
	for (int i = 0; i < CALLERS; i++) {
		void *result = NULL;
		assert_int_equal(pthread_join(threads[i], &result), 0);
		assert_null(result); /* each member was in exactly one step */
	}
	uint64_t steps = batch_steps(&shared.batch);
	assert_true(steps < (uint64_t)CALLERS * ROUNDS); /* shared */
	assert_true(steps >= (uint64_t)CALLERS * ROUNDS / 4); /* never more than max per step */
	assert_true(atomic_load(&shared.largest) <= 4);
	batch_destroy(&shared.batch);
}

/* A lone caller leads its own step at once. */
static void test_lone_caller(void **state)
{
	(void)state;
	shared_t shared;
	atomic_init(&shared.largest, 0);
	assert_int_equal(batch_init(&shared.batch, 0, "test.batch"), 0); /* 0 reads as 1 */
	member_t self = {0};
	batch_join(&shared.batch, &self.member, step, &shared);
	assert_int_equal(self.served, 1);
	assert_int_equal(batch_steps(&shared.batch), 1);
	batch_destroy(&shared.batch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_callers_share_steps),
		cmocka_unit_test(test_lone_caller),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
