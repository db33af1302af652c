/*
 * bench-release.c - the server side of bench/release_latency: the delivery manager of
 * pullprintd (server/delivery.h) in this process, over a fresh SQLite database and encrypted
 * spool, releasing held jobs one after the other to one IPP printer.
 *
 *   bench-release --dir DIR --uri URI --pdf FILE --runs N
 *
 * Each job's kept PDF is FILE. For each run it prints "release n=<i> t_ns=<CLOCK_MONOTONIC>"
 * just before job_release() (the call the panel, the portal and the combined flow make inside
 * the server; its hook wakes the manager), waits until the job is completed, and prints
 * "completed n=<i> t_ns=…". The driver timestamps the first byte the printer receives on the
 * same clock. Exits 0 when every job completed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/job-state.h"
#include "core/job.h"
#include "core/printers.h"
#include "db/db.h"
#include "lib/crypto.h"
#include "lib/str.h"
#include "server/delivery.h"
#include "spool/spool.h"

#define BENCH_PDF_MAX (16 * 1024 * 1024)
#define BENCH_RUNS_MAX 10000

static int64_t bench_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int bench_fail(const char *what, const char *error)
{
	fprintf(stderr, "bench-release: %s: %s\n", what, error);
	return 1;
}

/* A held job owned by user_id whose kept PDF is data[len]. Returns its id, or 0. */
static int64_t bench_held_job(pp_core_t *core, pp_spool_t *spool, int64_t user_id,
                              const void *data, size_t len)
{
	char error[DB_ERROR_MAX], file_id[SPOOL_ID_LEN + 1];
	pp_spool_writer_t *w = NULL;
	uint64_t size = 0;
	if (spool_writer_open(spool, &w, error, sizeof(error)) < 0 ||
	    spool_writer_write(w, data, len, error, sizeof(error)) < 0 ||
	    spool_writer_finish(&w, file_id, &size, error, sizeof(error)) < 0) {
		spool_writer_abort(&w);
		bench_fail("spool", error);
		return 0;
	}
	pp_job_new_t new_job = {.user_id = user_id, .source = "portal", .title = "Bench page",
	                        .size_bytes = (int64_t)size};
	pp_job_t job;
	pp_job_transition_t how = {.has_pages = true, .pages = 1, .color_pages = 0};
	if (job_create(core, &new_job, &job, error, sizeof(error)) != 0 ||
	    job_document_add(core, job.id, "pdf", file_id, "page.pdf", "application/pdf",
	                     (int64_t)size, NULL, error, sizeof(error)) != 0 ||
	    job_transition(core, job.id, PP_JOB_RECEIVED, PP_JOB_CONVERTING, NULL, error,
	                   sizeof(error)) != JOB_OK ||
	    job_transition(core, job.id, PP_JOB_CONVERTING, PP_JOB_HELD, &how, error,
	                   sizeof(error)) != JOB_OK) {
		bench_fail("job", error);
		return 0;
	}
	return job.id;
}

/* Reads path into a new buffer (free()). Returns NULL on failure. */
static char *bench_read(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = malloc(BENCH_PDF_MAX);
	size_t n = buf != NULL ? fread(buf, 1, BENCH_PDF_MAX, f) : 0;
	fclose(f);
	if (n == 0) {
		free(buf);
		return NULL;
	}
	*len_r = n;
	return buf;
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *uri = NULL, *pdf_path = NULL;
	uint64_t runs = 30;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--uri") == 0)
			uri = argv[i + 1];
		else if (strcmp(argv[i], "--pdf") == 0)
			pdf_path = argv[i + 1];
		else if (strcmp(argv[i], "--runs") == 0 &&
		         !parse_uint64_full(argv[i + 1], BENCH_RUNS_MAX, &runs))
			return bench_fail("--runs", "1 to 10000");
	}
	if (dir == NULL || uri == NULL || pdf_path == NULL || runs == 0) {
		fprintf(stderr, "usage: bench-release --dir DIR --uri URI --pdf FILE --runs N\n");
		return 2;
	}
	size_t pdf_len = 0;
	char *pdf = bench_read(pdf_path, &pdf_len);
	if (pdf == NULL)
		return bench_fail(pdf_path, "cannot read it");

	char error[DB_ERROR_MAX], url[1024], spool_dir[1024];
	uint8_t master[CRYPTO_KEY_BYTES];
	if (!crypto_init())
		return bench_fail("libsodium", "cannot start");
	crypto_random_bytes(master, sizeof(master));
	(void)str_format(url, sizeof(url), "sqlite:%s/bench.db", dir);
	(void)str_format(spool_dir, sizeof(spool_dir), "%s/spool", dir);
	pp_db_t *db = NULL;
	pp_spool_t *spool = NULL;
	pp_core_t core;
	if (db_open(url, &db, error, sizeof(error)) != DB_OK ||
	    db_migrate(db, error, sizeof(error)) != DB_OK)
		return bench_fail("database", error);
	if (spool_open(spool_dir, master, true, BENCH_PDF_MAX, &spool, error, sizeof(error)) < 0)
		return bench_fail("spool", error);
	if (core_init(&core, db, spool, master) != 0)
		return bench_fail("core", "cannot derive keys");

	pp_db_result_t *res = NULL;
	if (db_query(db,
	             "INSERT INTO users (email, state, created_at, updated_at)"
	             " VALUES ('bench@example.com', 'enabled', 1, 1) RETURNING id",
	             NULL, 0, &res, error, sizeof(error)) != DB_OK)
		return bench_fail("user", error);
	int64_t user_id = db_result_int(res, 0, 0);
	db_result_free(&res);
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	int64_t printer_id = 0;
	printers_init(printer);
	(void)str_copy(printer->name, sizeof(printer->name), "bench");
	(void)str_copy(printer->device_uri, sizeof(printer->device_uri), uri);
	if (printer_caps_from_json("{\"formats\":[\"application/pdf\"]}", &printer->caps, error,
	                           sizeof(error)) < 0 ||
	    printers_add(&core, "admin:bench", printer, &printer_id, error, sizeof(error)) != 0)
		return bench_fail("printer", error);
	free(printer);

	int64_t *jobs = calloc(runs, sizeof(*jobs));
	for (uint64_t i = 0; i < runs; i++) {
		jobs[i] = bench_held_job(&core, spool, user_id, pdf, pdf_len);
		if (jobs[i] == 0)
			return 1;
	}
	pp_delivery_config_t cfg = {.threads = 4, .no_retries = true};
	pp_delivery_t *delivery = NULL;
	if (delivery_start(&core, &cfg, &delivery, error, sizeof(error)) < 0)
		return bench_fail("delivery", error);
	core.on_job_released = delivery_on_job_released;
	core.on_job_released_ctx = delivery;

	int rc = 0;
	for (uint64_t i = 0; i < runs && rc == 0; i++) {
		printf("release n=%llu t_ns=%lld\n", (unsigned long long)i,
		       (long long)bench_now_ns());
		fflush(stdout);
		if (job_release(&core, jobs[i], printer_id, NULL, "admin:bench", error,
		                sizeof(error)) != JOB_OK) {
			rc = bench_fail("release", error);
			break;
		}
		pp_job_t job;
		for (int waited = 0;; waited++) {
			if (job_get(&core, jobs[i], &job, error, sizeof(error)) != JOB_OK) {
				rc = bench_fail("job", error);
				break;
			}
			if (job.state == PP_JOB_COMPLETED)
				break;
			if (job.state == PP_JOB_HELD || waited > 60000) {
				rc = bench_fail("delivery", job.state_reason);
				break;
			}
			struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
			nanosleep(&pause, NULL);
		}
		printf("completed n=%llu t_ns=%lld\n", (unsigned long long)i,
		       (long long)bench_now_ns());
		fflush(stdout);
	}
	core.on_job_released = NULL;
	delivery_stop(&delivery, 1000);
	free(jobs);
	free(pdf);
	core_deinit(&core);
	spool_close(&spool);
	db_close(&db);
	return rc;
}
