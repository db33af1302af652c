/*
 * test-spool-inline.c - small documents handed back for the database instead of a file: no
 * file is written for them, they read back byte for byte through the inline source, damaged
 * or misplaced bytes are refused as a damaged file is, documents past the limit (or with the
 * limit at 0) still become files, and a reader without an inline source says the document
 * is missing. Every test runs with encryption off and on.
 */
#include "test-support.h"

#include "lib/crypto.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TEST_MAX_FILE_BYTES ((uint64_t)64 << 20)
#define TEST_DOCS 4

/* One spool and a pretend database: the sealed bytes of up to TEST_DOCS documents. */
typedef struct {
	bool encrypt;
	char *base;
	char dir[PATH_MAX];
	pp_spool_t *spool;
	char ids[TEST_DOCS][SPOOL_ID_LEN + 1];
	uint8_t *sealed[TEST_DOCS];
	size_t sealed_len[TEST_DOCS];
	size_t count;
	unsigned fetches;
} fixture_t;

static const bool encrypt_off = false;
static const bool encrypt_on = true;

/* pp_spool_inline_fetch_fn over the fixture's pretend database. */
static int fixture_fetch(void *ctx, const char *file_id, uint8_t **sealed_r, size_t *len_r,
			 char *error, size_t error_size)
{
	fixture_t *fx = ctx;
	(void)error;
	(void)error_size;
	fx->fetches++;
	for (size_t i = 0; i < fx->count; i++) {
		if (strcmp(fx->ids[i], file_id) != 0)
			continue;
		*sealed_r = malloc(fx->sealed_len[i] + 1);
		assert_non_null(*sealed_r);
		memcpy(*sealed_r, fx->sealed[i], fx->sealed_len[i]);
		*len_r = fx->sealed_len[i];
		return 1;
	}
	return 0;
}

static int setup(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	assert_true(crypto_init());
	fx->encrypt = *(const bool *)*state;
	fx->base = test_tmpdir();
	assert_true(str_format(fx->dir, sizeof(fx->dir), "%s/spool", fx->base));
	uint8_t key[SPOOL_KEY_BYTES];
	crypto_random_bytes(key, sizeof(key));
	char error[512] = "";
	if (spool_open(fx->dir, key, fx->encrypt, TEST_MAX_FILE_BYTES, &fx->spool, error,
		       sizeof(error)) < 0)
		fail_msg("spool_open: %s", error);
	spool_set_inline_source(fx->spool, fixture_fetch, fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *fx = *state;
	spool_close(&fx->spool);
	for (size_t i = 0; i < fx->count; i++)
		free(fx->sealed[i]);
	test_rmtree(fx->base);
	free(fx->base);
	free(fx);
	return 0;
}

/* Regular files anywhere below the spool directory (temp files included). */
static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		assert_true(str_format(path, sizeof(path), "%s/%s", dir, e->d_name));
		if (e->d_type == DT_DIR)
			n += count_files(path);
		else
			n++;
	}
	assert_int_equal(closedir(d), 0);
	return n;
}

/* Seals len bytes of doc with finish_small; *stored_r as the writer hands it back. */
static void seal(fixture_t *fx, const uint8_t *doc, size_t len, pp_spool_doc_t *stored_r)
{
	char error[512] = "";
	pp_spool_writer_t *writer = NULL;
	if (spool_writer_open(fx->spool, &writer, error, sizeof(error)) < 0)
		fail_msg("spool_writer_open: %s", error);
	/* In two pieces, so the chunk buffer is used as a streaming writer uses it. */
	size_t half = len / 2;
	assert_int_equal(spool_writer_write(writer, doc, half, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(writer, doc + half, len - half, error, sizeof(error)),
			 0);
	if (spool_writer_finish_small(&writer, stored_r, error, sizeof(error)) < 0)
		fail_msg("spool_writer_finish_small: %s", error);
	assert_null(writer);
	assert_int_equal(stored_r->size, len);
	assert_int_equal(strlen(stored_r->file_id), SPOOL_ID_LEN);
}

/* Keeps stored's sealed bytes in the pretend database, as intake's transaction does. */
static void keep(fixture_t *fx, pp_spool_doc_t *stored)
{
	assert_true(fx->count < TEST_DOCS);
	assert_non_null(stored->sealed);
	memcpy(fx->ids[fx->count], stored->file_id, SPOOL_ID_LEN + 1);
	fx->sealed[fx->count] = malloc(stored->sealed_len);
	assert_non_null(fx->sealed[fx->count]);
	memcpy(fx->sealed[fx->count], stored->sealed, stored->sealed_len);
	fx->sealed_len[fx->count] = stored->sealed_len;
	fx->count++;
	spool_doc_release(stored);
	assert_null(stored->sealed);
}

/* Reads id whole into buf (size > the document). Returns its length, or -1 with error. */
static ssize_t read_back(fixture_t *fx, const char *id, uint8_t *buf, size_t size, char *error,
			 size_t error_size)
{
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(fx->spool, id, &reader, error, error_size) < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		ssize_t n = spool_reader_read(reader, buf + len, size - len, error, error_size);
		if (n < 0) {
			spool_reader_close(&reader);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		assert_true(len < size);
	}
	spool_reader_close(&reader);
	return (ssize_t)len;
}

/* A small document writes no file at all and reads back byte for byte from its bytes. */
static void test_small_document_is_kept_and_read_back(void **state)
{
	fixture_t *fx = *state;
	static const char text[] = "%PDF-1.7 a one-page letter";
	pp_spool_doc_t stored;
	seal(fx, (const uint8_t *)text, sizeof(text) - 1, &stored);
	assert_non_null(stored.sealed);
	assert_true(stored.sealed_len > sizeof(text) - 1);
	assert_int_equal(count_files(fx->dir), 0); /* no temp file, no published file */
	if (fx->encrypt)
		assert_null(memmem(stored.sealed, stored.sealed_len, "one-page", 8));
	char id[SPOOL_ID_LEN + 1];
	memcpy(id, stored.file_id, sizeof(id));
	keep(fx, &stored);

	uint8_t buf[256];
	char error[512] = "";
	ssize_t n = read_back(fx, id, buf, sizeof(buf), error, sizeof(error));
	if (n < 0)
		fail_msg("read: %s", error);
	assert_int_equal(n, sizeof(text) - 1);
	assert_memory_equal(buf, text, sizeof(text) - 1);
	assert_int_equal(fx->fetches, 1);

	/* An id nobody has: neither a file nor a row. */
	char other[SPOOL_ID_LEN + 1];
	crypto_random_id(other);
	assert_int_equal(read_back(fx, other, buf, sizeof(buf), error, sizeof(error)), -1);
	assert_non_null(strstr(error, "neither"));
}

/* Sealed bytes that were changed, cut or filed under another id are refused. */
static void test_damaged_or_moved_bytes_are_refused(void **state)
{
	fixture_t *fx = *state;
	static const char text[] = "pay 100 to Ann";
	pp_spool_doc_t stored;
	seal(fx, (const uint8_t *)text, sizeof(text) - 1, &stored);
	char id[SPOOL_ID_LEN + 1];
	memcpy(id, stored.file_id, sizeof(id));
	keep(fx, &stored);
	uint8_t buf[256];
	char error[512] = "";

	/* A flipped bit in the last record. */
	fx->sealed[0][fx->sealed_len[0] - 3] ^= 0x10;
	assert_int_equal(read_back(fx, id, buf, sizeof(buf), error, sizeof(error)), -1);
	assert_non_null(strstr(error, "damaged"));
	fx->sealed[0][fx->sealed_len[0] - 3] ^= 0x10;

	/* Cut short. */
	fx->sealed_len[0] -= 5;
	assert_int_equal(read_back(fx, id, buf, sizeof(buf), error, sizeof(error)), -1);
	assert_non_null(strstr(error, "damaged"));
	fx->sealed_len[0] += 5;

	/* The same bytes under another id (a row pointing at someone else's document). */
	crypto_random_id(fx->ids[0]);
	assert_int_equal(read_back(fx, fx->ids[0], buf, sizeof(buf), error, sizeof(error)), -1);
	assert_non_null(strstr(error, "damaged"));
	memcpy(fx->ids[0], id, sizeof(id));

	/* Put back, it reads again. */
	assert_int_equal(read_back(fx, id, buf, sizeof(buf), error, sizeof(error)),
			 sizeof(text) - 1);
}

/* Past the limit a document is a file (sealed NULL); with the limit at 0 every one is. */
static void test_large_documents_and_limit_zero_are_files(void **state)
{
	fixture_t *fx = *state;
	size_t len = SPOOL_INLINE_DEFAULT + 1;
	uint8_t *doc = malloc(len);
	assert_non_null(doc);
	crypto_random_bytes(doc, len);
	pp_spool_doc_t stored;
	seal(fx, doc, len, &stored);
	assert_null(stored.sealed);
	assert_int_equal(count_files(fx->dir), 1);
	uint8_t *buf = malloc(len + 1);
	assert_non_null(buf);
	char error[512] = "";
	assert_int_equal(read_back(fx, stored.file_id, buf, len + 1, error, sizeof(error)),
			 (ssize_t)len);
	assert_memory_equal(buf, doc, len);
	assert_int_equal(fx->fetches, 0); /* the file was found: the database was not asked */

	/* The largest document that is still kept: its sealed form is at the limit. */
	spool_set_inline_max(fx->spool, 1000);
	seal(fx, doc, 100, &stored);
	assert_non_null(stored.sealed);
	assert_true(stored.sealed_len <= 1000);
	spool_doc_release(&stored);
	seal(fx, doc, 1000, &stored);
	assert_null(stored.sealed);
	assert_int_equal(count_files(fx->dir), 2);

	spool_set_inline_max(fx->spool, 0);
	seal(fx, doc, 10, &stored);
	assert_null(stored.sealed);
	assert_int_equal(count_files(fx->dir), 3);
	assert_int_equal(read_back(fx, stored.file_id, buf, len + 1, error, sizeof(error)), 10);
	assert_memory_equal(buf, doc, 10);
	free(buf);
	free(doc);
}

/* A reader with no inline source reports the document missing; an abort leaves nothing. */
static void test_no_source_and_abort(void **state)
{
	fixture_t *fx = *state;
	pp_spool_doc_t stored;
	seal(fx, (const uint8_t *)"hello", 5, &stored);
	char id[SPOOL_ID_LEN + 1];
	memcpy(id, stored.file_id, sizeof(id));
	keep(fx, &stored);
	spool_set_inline_source(fx->spool, NULL, NULL);
	uint8_t buf[64];
	char error[512] = "";
	assert_int_equal(read_back(fx, id, buf, sizeof(buf), error, sizeof(error)), -1);
	assert_non_null(strstr(error, "No such file"));

	pp_spool_writer_t *writer = NULL;
	assert_int_equal(spool_writer_open(fx->spool, &writer, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(writer, "half", 4, error, sizeof(error)), 0);
	spool_writer_abort(&writer);
	assert_null(writer);
	assert_int_equal(count_files(fx->dir), 0);
	spool_doc_release(NULL); /* NULL-safe */
}

#define BOTH(test)                                                                          \
	cmocka_unit_test_prestate_setup_teardown(test, setup, teardown, (void *)&encrypt_off), \
	    cmocka_unit_test_prestate_setup_teardown(test, setup, teardown, (void *)&encrypt_on)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_small_document_is_kept_and_read_back),
	    BOTH(test_damaged_or_moved_bytes_are_refused),
	    BOTH(test_large_documents_and_limit_zero_are_files),
	    BOTH(test_no_source_and_abort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
