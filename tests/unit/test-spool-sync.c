/*
 * test-spool-sync.c - documents finished at the same moment by several threads share the
 * spool's group sync: each writer gets back a published, readable file, and the group never
 * needs more file system syncs than there were documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spool/spool-private.h"
#include "test-support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_THREADS 8
#define SYNC_DOCS_PER_THREAD 16

typedef struct {
	pp_spool_t *spool;
	unsigned index;
	char ids[SYNC_DOCS_PER_THREAD][SPOOL_ID_LEN + 1];
	int failures;
} writer_t;

/* The text of document d of thread t: distinct, so a mix-up shows. */
static void doc_text(unsigned t, unsigned d, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%%PDF-1.4 document %u of writer %u", d, t);
}

static void *writer_run(void *arg)
{
	writer_t *w = arg;
	for (unsigned d = 0; d < SYNC_DOCS_PER_THREAD; d++) {
		char text[128], error[256];
		doc_text(w->index, d, text, sizeof(text));
		pp_spool_writer_t *writer = NULL;
		uint64_t size = 0;
		if (spool_writer_open(w->spool, &writer, error, sizeof(error)) < 0 ||
		    spool_writer_write(writer, text, strlen(text), error, sizeof(error)) < 0 ||
		    spool_writer_finish(&writer, w->ids[d], &size, error, sizeof(error)) < 0) {
			spool_writer_abort(&writer);
			w->failures++;
		}
	}
	return NULL;
}

static void test_concurrent_writers_share_syncs(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char path[4096], error[256];
	assert_true(snprintf(path, sizeof(path), "%s/spool", dir) > 0);
	uint8_t key[SPOOL_KEY_BYTES];
	memset(key, 7, sizeof(key));
	pp_spool_t *spool = NULL;
	assert_int_equal(spool_open(path, key, true, 1 << 20, &spool, error, sizeof(error)), 0);

	static writer_t writers[SYNC_THREADS];
	pthread_t threads[SYNC_THREADS];
	for (unsigned t = 0; t < SYNC_THREADS; t++) {
		writers[t] = (writer_t){.spool = spool, .index = t};
		assert_int_equal(pthread_create(&threads[t], NULL, writer_run, &writers[t]), 0);
	}
	for (unsigned t = 0; t < SYNC_THREADS; t++)
		assert_int_equal(pthread_join(threads[t], NULL), 0);

	/* Every document is there and reads back as written. */
	for (unsigned t = 0; t < SYNC_THREADS; t++) {
		assert_int_equal(writers[t].failures, 0);
		for (unsigned d = 0; d < SYNC_DOCS_PER_THREAD; d++) {
			char want[128], got[256];
			doc_text(t, d, want, sizeof(want));
			pp_spool_reader_t *reader = NULL;
			assert_int_equal(spool_reader_open(spool, writers[t].ids[d], &reader, error,
							   sizeof(error)),
					 0);
			size_t len = 0;
			for (;;) {
				ssize_t n = spool_reader_read(reader, got + len, sizeof(got) - 1 - len,
							      error, sizeof(error));
				assert_true(n >= 0);
				if (n == 0)
					break;
				len += (size_t)n;
			}
			got[len] = '\0';
			assert_string_equal(got, want);
			spool_reader_close(&reader);
		}
	}
	/* One sync at least, never more than one per document. */
	uint64_t syncs = spool_sync_count(spool);
	assert_true(syncs >= 1);
	assert_true(syncs <= SYNC_THREADS * SYNC_DOCS_PER_THREAD);
	print_message("%d documents, %llu syncs\n", SYNC_THREADS * SYNC_DOCS_PER_THREAD,
		      (unsigned long long)syncs);

	spool_close(&spool);
	assert_null(spool);
	test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_writers_share_syncs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
