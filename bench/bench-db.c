/*
 * bench-db.c - storage benchmark: listing one user's held jobs among 100,000 jobs.
 *
 * Fills a fresh database with 1,000 users and 100,000 jobs (one in ten held), then times
 * job_list_for_user() — the portal's and panel's "my held jobs" — 1,000 times and prints one
 * line per backend:
 *     db.list_held_jobs backend=sqlite p50_ms=… p95_ms=…
 * SQLite always; PostgreSQL too when PP_TEST_PG_URL is set (scripts/with-postgres), in a
 * database of its own that is dropped afterwards. Fails if the query does not use the
 * jobs_user_state index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/job.h"
#include "db/db.h"
#include "lib/crypto.h"
#include "lib/str.h"

#define BENCH_USERS 1000
#define BENCH_JOBS 100000
#define BENCH_RUNS 1000
#define BENCH_WARMUP 50

static const char bench_list_sql[] =
    "SELECT id, uuid, title, state, created_at FROM jobs "
    "WHERE user_id = $1 AND state = 'held' ORDER BY id DESC LIMIT 50";

/* Runs sql without parameters; prints the error and returns -1 on failure. */
static int bench_exec(pp_db_t *db, const char *sql)
{
	char error[DB_ERROR_MAX];
	if (db_exec(db, sql, NULL, 0, NULL, error, sizeof(error)) != DB_OK) {
		fprintf(stderr, "bench-db: %s\n", error);
		return -1;
	}
	return 0;
}

/* Users 1..BENCH_USERS and BENCH_JOBS jobs spread over them, one in ten held. */
static int bench_fill(pp_db_t *db)
{
	char error[DB_ERROR_MAX];
	if (db_tx_begin(db, error, sizeof(error)) != DB_OK) {
		fprintf(stderr, "bench-db: %s\n", error);
		return -1;
	}
	char sql[1024];
	int rc = 0;
	if (!str_format(
	        sql, sizeof(sql),
	        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d) "
	        "INSERT INTO users (email, state, created_at, updated_at) "
	        "SELECT 'user' || n || '@example.org', 'enabled', 0, 0 FROM s",
	        BENCH_USERS) ||
	    bench_exec(db, sql) != 0)
		rc = -1;
	if (rc == 0 &&
	    (!str_format(
	         sql, sizeof(sql),
	         "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < %d) "
	         "INSERT INTO jobs (uuid, user_id, state, title, source, size_bytes, "
	         "created_at, updated_at) "
	         "SELECT 'job-' || n, 1 + n %% %d, "
	         "CASE WHEN (n / %d) %% 10 = 0 THEN 'held' ELSE 'completed' END, "
	         "'Document ' || n, 'portal', 1000 + n, n, n FROM s",
	         BENCH_JOBS - 1, BENCH_USERS, BENCH_USERS) ||
	     bench_exec(db, sql) != 0))
		rc = -1;
	if (rc != 0) {
		db_tx_rollback(db);
		return -1;
	}
	if (db_tx_commit(db, error, sizeof(error)) != DB_OK) {
		fprintf(stderr, "bench-db: %s\n", error);
		return -1;
	}
	return bench_exec(db, "ANALYZE");
}

/* True when the plan of the list query names the jobs_user_state index. */
static int bench_check_plan(pp_db_t *db)
{
	char sql[512];
	bool is_sqlite = db_backend(db) == PP_DB_SQLITE;
	if (!str_format(sql, sizeof(sql), "%s%s", is_sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ",
	                bench_list_sql))
		return -1;
	const pp_db_value_t params[] = {DB_INT(7)};
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(db, sql, params, 1, &res, error, sizeof(error)) != DB_OK) {
		fprintf(stderr, "bench-db: %s\n", error);
		return -1;
	}
	bool uses_index = false;
	size_t col = is_sqlite ? 3 : 0; /* SQLite: id, parent, notused, detail */
	for (size_t r = 0; r < db_result_rows(res); r++) {
		if (strstr(db_result_text(res, r, col), "jobs_user_state") != NULL)
			uses_index = true;
	}
	if (!uses_index) {
		fprintf(stderr, "bench-db: the list query does not use jobs_user_state:\n");
		for (size_t r = 0; r < db_result_rows(res); r++)
			fprintf(stderr, "  %s\n", db_result_text(res, r, col));
	}
	db_result_free(&res);
	return uses_index ? 0 : -1;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;
	return (x > y) - (x < y);
}

static double bench_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Fills db, checks the plan, times the query and prints the line for backend name. */
static int bench_run(pp_db_t *db, const char *name)
{
	char error[DB_ERROR_MAX];
	if (db_migrate(db, error, sizeof(error)) != DB_OK) {
		fprintf(stderr, "bench-db: %s\n", error);
		return -1;
	}
	if (bench_fill(db) != 0 || bench_check_plan(db) != 0)
		return -1;

	/* Through the domain function the server uses, options parsing included. */
	pp_core_t core;
	static const uint8_t bench_key[CRYPTO_KEY_BYTES] = {0};
	if (!crypto_init() || core_init(&core, db, NULL, bench_key) < 0) {
		fprintf(stderr, "bench-db: cannot set up the core context\n");
		return -1;
	}
	static double times[BENCH_RUNS];
	for (int i = -BENCH_WARMUP; i < BENCH_RUNS; i++) {
		/* Walk the users in a scattered order so no single row stays hot. */
		int64_t user = 1 + ((int64_t)(i + BENCH_WARMUP) * 7919) % BENCH_USERS;
		pp_job_t *jobs = NULL;
		size_t rows = 0;
		int64_t next = 0;
		double start = bench_now_ms();
		if (job_list_for_user(&core, user, JOB_STATE_BIT(PP_JOB_HELD), 50, 0, &jobs, &rows,
				      &next, error, sizeof(error)) != 0) {
			fprintf(stderr, "bench-db: %s\n", error);
			return -1;
		}
		double elapsed = bench_now_ms() - start;
		job_list_free(&jobs);
		if (rows != BENCH_JOBS / BENCH_USERS / 10) {
			fprintf(stderr, "bench-db: user %lld has %zu held jobs, expected %d\n",
			        (long long)user, rows, BENCH_JOBS / BENCH_USERS / 10);
			return -1;
		}
		if (i >= 0)
			times[i] = elapsed;
	}
	core_deinit(&core);
	qsort(times, BENCH_RUNS, sizeof(times[0]), bench_cmp_double);
	printf("db.list_held_jobs backend=%s p50_ms=%.3f p95_ms=%.3f\n", name,
	       times[BENCH_RUNS / 2], times[BENCH_RUNS * 95 / 100]);
	fflush(stdout);
	return 0;
}

static int bench_sqlite(void)
{
	const char *base = getenv("TMPDIR");
	char dir[4096];
	if (!str_format(dir, sizeof(dir), "%s/pp-bench-XXXXXX",
	                base != NULL && base[0] != '\0' ? base : "/tmp") ||
	    mkdtemp(dir) == NULL) {
		perror("bench-db: mkdtemp");
		return -1;
	}
	char path[4200];
	char url[4300];
	if (!str_format(path, sizeof(path), "%s/bench.db", dir) ||
	    !str_format(url, sizeof(url), "sqlite:%s", path))
		return -1;
	pp_db_t *db = NULL;
	char error[DB_ERROR_MAX];
	int rc = -1;
	if (db_open(url, &db, error, sizeof(error)) != DB_OK)
		fprintf(stderr, "bench-db: %s\n", error);
	else
		rc = bench_run(db, "sqlite");
	db_close(&db);
	/* Remove the database and its WAL companions, then the directory. */
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char file[4300];
		if (str_format(file, sizeof(file), "%s%s", path, suffixes[i]))
			(void)unlink(file);
	}
	if (rmdir(dir) != 0)
		perror("bench-db: rmdir");
	return rc;
}

static int bench_postgres(const char *base_url)
{
	char error[DB_ERROR_MAX];
	pp_db_t *admin = NULL;
	if (db_open(base_url, &admin, error, sizeof(error)) != DB_OK) {
		fprintf(stderr, "bench-db: %s\n", error);
		return -1;
	}
	char id[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(id);
	char name[64];
	char sql[128];
	if (!str_format(name, sizeof(name), "pp_bench_%s", id) ||
	    !str_format(sql, sizeof(sql), "CREATE DATABASE %s", name) ||
	    bench_exec(admin, sql) != 0) {
		db_close(&admin);
		return -1;
	}

	/* The same URL with the database name replaced. */
	int rc = -1;
	const char *authority = strstr(base_url, "://");
	char url[1024];
	if (authority != NULL) {
		authority += 3;
		size_t head_len = (size_t)(authority - base_url) + strcspn(authority, "/?");
		const char *query = strchr(authority, '?');
		if (str_format(url, sizeof(url), "%.*s/%s%s", (int)head_len, base_url, name,
		               query != NULL ? query : "")) {
			pp_db_t *db = NULL;
			if (db_open(url, &db, error, sizeof(error)) != DB_OK)
				fprintf(stderr, "bench-db: %s\n", error);
			else
				rc = bench_run(db, "postgresql");
			db_close(&db);
		}
	}
	if (str_format(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", name))
		(void)bench_exec(admin, sql);
	db_close(&admin);
	return rc;
}

int main(void)
{
	if (!crypto_init()) {
		fprintf(stderr, "bench-db: libsodium cannot start\n");
		return 1;
	}
	int rc = bench_sqlite();
	const char *pg_url = getenv("PP_TEST_PG_URL");
	if (pg_url != NULL && pg_url[0] != '\0') {
		if (bench_postgres(pg_url) != 0)
			rc = -1;
	} else {
		fprintf(stderr, "bench-db: PP_TEST_PG_URL unset: PostgreSQL skipped "
		                "(run under scripts/with-postgres)\n");
	}
	return rc == 0 ? 0 : 1;
}
