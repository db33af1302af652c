/*
 * test-db-group.c - group commit (db_tx_group): concurrent callers' work is all committed,
 * a failing member fails alone, and a lone caller behaves like a plain transaction. Every
 * case runs on SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include <pthread.h>
#include <stdio.h>

#define GROUP_THREADS 8
#define GROUP_ROUNDS 40

/* What one member inserts: a setting named name. */
typedef struct {
	const char *name;
	int calls; /* how many times the work ran (a split group reruns it) */
} group_work_t;

static int group_insert(pp_db_t *db, void *arg, char *error, size_t error_size)
{
	group_work_t *w = arg;
	w->calls++;
	const pp_db_value_t params[] = {DB_TEXT(w->name)};
	return db_exec(db, "INSERT INTO settings (name, value, updated_at) VALUES ($1, 'v', 0)",
	               params, 1, NULL, error, error_size);
}

static int64_t count_settings(pp_db_t *db, const char *like)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	const pp_db_value_t params[] = {DB_TEXT(like)};
	assert_int_equal(db_query(db, "SELECT COUNT(*) FROM settings WHERE name LIKE $1", params, 1,
	                          &res, error, sizeof(error)),
	                 DB_OK);
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

/* A lone caller: committed; its failure is its own result, and nothing of it stays. */
static void test_group_alone(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[DB_ERROR_MAX] = "";
	group_work_t w = {.name = "alone"};
	assert_int_equal(db_tx_group(t->db, group_insert, &w, error, sizeof(error)), DB_OK);
	assert_int_equal(w.calls, 1);
	assert_int_equal(count_settings(t->db, "alone"), 1);

	group_work_t again = {.name = "alone"};
	assert_int_equal(db_tx_group(t->db, group_insert, &again, error, sizeof(error)),
	                 DB_DUPLICATE);
	assert_true(error[0] != '\0');
	assert_int_equal(count_settings(t->db, "alone"), 1);
	/* The handle is usable afterwards: no transaction was left open. */
	char error2[DB_ERROR_MAX];
	assert_int_equal(db_tx_begin(t->db, error2, sizeof(error2)), DB_OK);
	db_tx_rollback(t->db);
}

typedef struct {
	pp_db_t *db;
	int thread;
	int ok;       /* members committed */
	int dup;      /* members refused as duplicates */
	int other;    /* anything else */
} group_thread_t;

/*
 * Each thread inserts GROUP_ROUNDS settings of its own; every fifth round it also tries the
 * shared name "clash", which only the first to commit may own.
 */
static void *group_thread(void *arg)
{
	group_thread_t *gt = arg;
	for (int i = 0; i < GROUP_ROUNDS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "t%d-%d", gt->thread, i);
		group_work_t w = {.name = (i % 5 == 4) ? "clash" : name};
		char error[DB_ERROR_MAX] = "";
		int rc = db_tx_group(gt->db, group_insert, &w, error, sizeof(error));
		if (rc == DB_OK)
			gt->ok++;
		else if (rc == DB_DUPLICATE)
			gt->dup++;
		else
			gt->other++;
	}
	return NULL;
}

/* Many threads at once: every distinct row is committed exactly once, clashes fail alone. */
static void test_group_concurrent(void **state)
{
	test_db_t *t = TEST_DB(state);
	pthread_t threads[GROUP_THREADS];
	group_thread_t args[GROUP_THREADS];
	for (int i = 0; i < GROUP_THREADS; i++) {
		args[i] = (group_thread_t){.db = t->db, .thread = i};
		assert_int_equal(pthread_create(&threads[i], NULL, group_thread, &args[i]), 0);
	}
	int ok = 0, dup = 0, other = 0;
	for (int i = 0; i < GROUP_THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		ok += args[i].ok;
		dup += args[i].dup;
		other += args[i].other;
	}
	int clash_attempts = GROUP_THREADS * (GROUP_ROUNDS / 5);
	int own_rows = GROUP_THREADS * GROUP_ROUNDS - clash_attempts;
	assert_int_equal(other, 0);
	assert_int_equal(ok, own_rows + 1);
	assert_int_equal(dup, clash_attempts - 1);
	assert_int_equal(count_settings(t->db, "t%"), own_rows);
	assert_int_equal(count_settings(t->db, "clash"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_group_alone),
	    TEST_DB_CASE(test_group_concurrent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
