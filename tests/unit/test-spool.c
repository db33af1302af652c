/*
 * test-spool.c - the encrypted document store as an admin would check it: documents come
 * back byte for byte, damaged/truncated/renamed/wrongly keyed files are refused without
 * handing out a wrong byte, limits and ids are enforced, files stay private, the sweep
 * removes what a crash left (and only that), memory stays bounded, and a crash at every
 * fault point recovers after a restart. Every test runs with encryption off and on.
 */
#include "test-support.h"

#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/fsutil.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)
#define TEST_MAX_FILE_BYTES ((uint64_t)1 << 30)
#define CHUNK_BYTES 65536 /* plain bytes per record (spool-private.h SPOOL_CHUNK) */
#define FILE_HEADER_BYTES 16
#define STREAM_HEADER_BYTES 24 /* secretstream header, encrypted files only */
#define ENCRYPTED_OVERHEAD 17 /* secretstream tag + MAC per record */
#define PLAIN_OVERHEAD 33 /* flags byte + BLAKE2b-256 per record */

/* One spool in a private directory; encrypt says how new files are written. */
typedef struct {
	bool encrypt;
	char *base; /* private temp dir; the spool is base/spool */
	char dir[PATH_MAX];
	uint8_t key[SPOOL_KEY_BYTES];
	pp_spool_t *spool;
} fixture_t;

static const bool encrypt_off = false;
static const bool encrypt_on = true;

/* Piece sizes cycled through while writing and reading: odd, straddling chunk edges. */
static const size_t write_pieces[] = {1, 7, 4093, 65537, 70001, 13, 65535, 2};
static const size_t read_pieces[] = {7, 65536, 1, 100003, 5, 65535, 3};
#define PIECES(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
	fixture_t *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	assert_true(crypto_init());
	fx->encrypt = *(const bool *)*state;
	fx->base = test_tmpdir();
	assert_true(str_format(fx->dir, sizeof(fx->dir), "%s/spool", fx->base));
	crypto_random_bytes(fx->key, sizeof(fx->key));
	char error[512] = "";
	if (spool_open(fx->dir, fx->key, fx->encrypt, TEST_MAX_FILE_BYTES, &fx->spool, error,
		       sizeof(error)) < 0)
		fail_msg("spool_open: %s", error);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *fx = *state;
	spool_close(&fx->spool);
	assert_null(fx->spool);
	test_rmtree(fx->base);
	free(fx->base);
	free(fx);
	return 0;
}

/* A new buffer of len random bytes (at least 1 byte allocated); free() it. */
static uint8_t *random_doc(size_t len)
{
	uint8_t *doc = malloc(len > 0 ? len : 1);
	assert_non_null(doc);
	crypto_random_bytes(doc, len);
	return doc;
}

/* Stores doc through one writer in odd-size pieces; fills id_r and checks the size. */
static void store(pp_spool_t *spool, const uint8_t *doc, size_t len, char id_r[SPOOL_ID_LEN + 1])
{
	char error[512] = "";
	pp_spool_writer_t *writer = NULL;
	if (spool_writer_open(spool, &writer, error, sizeof(error)) < 0)
		fail_msg("spool_writer_open: %s", error);
	size_t pos = 0;
	for (size_t i = 0; pos < len; i++) {
		size_t take = write_pieces[i % PIECES(write_pieces)];
		if (take > len - pos)
			take = len - pos;
		if (spool_writer_write(writer, doc + pos, take, error, sizeof(error)) != 0)
			fail_msg("spool_writer_write at %zu: %s", pos, error);
		pos += take;
	}
	uint64_t size = 0;
	if (spool_writer_finish(&writer, id_r, &size, error, sizeof(error)) < 0)
		fail_msg("spool_writer_finish: %s", error);
	assert_null(writer);
	assert_int_equal(size, len);
	assert_int_equal(strlen(id_r), SPOOL_ID_LEN);
}

/*
 * Reads id in odd-size pieces, checking that every byte handed out equals doc at the same
 * position and that no more than len bytes come out. Returns 0 at a clean end (total in
 * *total_r), -1 when opening or reading failed (with a non-empty error).
 */
static int read_compare_error(pp_spool_t *spool, const char *id, const uint8_t *doc, size_t len,
			      size_t *total_r, char *error, size_t error_size)
{
	pp_spool_reader_t *reader = NULL;
	size_t total = 0;
	*total_r = 0;
	if (spool_reader_open(spool, id, &reader, error, error_size) < 0) {
		assert_null(reader);
		assert_true(error[0] != '\0');
		return -1;
	}
	uint8_t *buf = malloc(100003);
	assert_non_null(buf);
	int rc = 0;
	for (size_t i = 0;; i++) {
		size_t want = read_pieces[i % PIECES(read_pieces)];
		ssize_t n = spool_reader_read(reader, buf, want, error, error_size);
		if (n < 0) {
			assert_int_equal(n, -1);
			assert_true(error[0] != '\0');
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		assert_true((size_t)n <= want);
		if ((size_t)n > len - total)
			fail_msg("reader handed out %zu bytes past the %zu stored", (size_t)n,
				 len);
		if (memcmp(buf, doc + total, (size_t)n) != 0)
			fail_msg("reader handed out bytes that differ from the original at %zu",
				 total);
		total += (size_t)n;
	}
	free(buf);
	spool_reader_close(&reader);
	assert_null(reader);
	*total_r = total;
	return rc;
}

static int read_compare(pp_spool_t *spool, const char *id, const uint8_t *doc, size_t len,
			size_t *total_r)
{
	char error[512] = "";
	return read_compare_error(spool, id, doc, len, total_r, error, sizeof(error));
}

/* Asserts id reads back exactly as doc. */
static void assert_reads_back(pp_spool_t *spool, const char *id, const uint8_t *doc, size_t len)
{
	size_t total = 0;
	char error[512] = "";
	if (read_compare_error(spool, id, doc, len, &total, error, sizeof(error)) != 0)
		fail_msg("reading %s failed after %zu bytes: %s", id, total, error);
	assert_int_equal(total, len);
}

/* Asserts reading id fails at some point, never ending cleanly, never handing out a wrong byte. */
static void assert_read_fails(pp_spool_t *spool, const char *id, const uint8_t *doc, size_t len,
			      const char *row)
{
	size_t total = 0;
	if (read_compare(spool, id, doc, len, &total) != -1)
		fail_msg("%s: read ended cleanly after %zu bytes; it must fail", row, total);
}

static void file_path(const fixture_t *fx, const char *id, char *path, size_t size)
{
	assert_true(str_format(path, size, "%s/%.2s/%s", fx->dir, id, id));
}

static bool path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool file_exists(const fixture_t *fx, const char *id)
{
	char path[PATH_MAX];
	file_path(fx, id, path, sizeof(path));
	return path_exists(path);
}

/* Reads the stored file of id into a new buffer (free() it). */
static char *read_file_bytes(const fixture_t *fx, const char *id, size_t *len_r)
{
	char path[PATH_MAX], error[512] = "";
	char *data = NULL;
	file_path(fx, id, path, sizeof(path));
	if (fs_read_file(path, 64 * MIB, &data, len_r, error, sizeof(error)) < 0)
		fail_msg("%s", error);
	return data;
}

/* Replaces the stored file of id with data. */
static void write_file_bytes(const fixture_t *fx, const char *id, const void *data, size_t len)
{
	char path[PATH_MAX], error[512] = "";
	file_path(fx, id, path, sizeof(path));
	if (fs_write_file_atomic(path, data, len, 0600, error, sizeof(error)) < 0)
		fail_msg("%s", error);
}

/* Number of entries (other than . and ..) in dir. */
static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	assert_int_equal(closedir(d), 0);
	return n;
}

static size_t header_bytes(const fixture_t *fx)
{
	return FILE_HEADER_BYTES + (fx->encrypt ? STREAM_HEADER_BYTES : 0);
}

static size_t record_overhead(const fixture_t *fx)
{
	return fx->encrypt ? ENCRYPTED_OVERHEAD : PLAIN_OVERHEAD;
}

/* ---- bounded memory (first, so earlier tests do not raise the RSS high-water mark) ---- */

static void test_memory_is_bounded(void **state)
{
	fixture_t *fx = *state;
	uint8_t *piece = random_doc(MIB);
	char error[512] = "", id[SPOOL_ID_LEN + 1];
	pp_spool_writer_t *writer = NULL;
	assert_int_equal(spool_writer_open(fx->spool, &writer, error, sizeof(error)), 0);

	struct rusage before, after;
	assert_int_equal(getrusage(RUSAGE_SELF, &before), 0);
	for (int i = 0; i < 256; i++)
		if (spool_writer_write(writer, piece, MIB, error, sizeof(error)) != 0)
			fail_msg("write %d MiB: %s", i, error);
	uint64_t size = 0;
	if (spool_writer_finish(&writer, id, &size, error, sizeof(error)) < 0)
		fail_msg("finish: %s", error);
	assert_int_equal(getrusage(RUSAGE_SELF, &after), 0);
	assert_int_equal(size, 256 * MIB);

	long grown_kib = after.ru_maxrss - before.ru_maxrss;
	if (grown_kib >= 16 * 1024)
		fail_msg("writing 256 MiB grew max RSS by %ld KiB (limit 16 MiB)", grown_kib);
	assert_int_equal(spool_delete(fx->spool, id, error, sizeof(error)), 0);
	free(piece);
}

/* ---- round trips ---- */

static void test_round_trip_sizes(void **state)
{
	fixture_t *fx = *state;
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 3 * MIB + 7};
	for (size_t i = 0; i < PIECES(sizes); i++) {
		uint8_t *doc = random_doc(sizes[i]);
		char id[SPOOL_ID_LEN + 1];
		store(fx->spool, doc, sizes[i], id);
		size_t total = 0;
		if (read_compare(fx->spool, id, doc, sizes[i], &total) != 0 || total != sizes[i])
			fail_msg("size %zu: read back %zu bytes", sizes[i], total);
		free(doc);
	}
}

/* Files stay readable after the admin flips encryption, with the same key. */
static void test_readable_after_encryption_switch(void **state)
{
	fixture_t *fx = *state;
	uint8_t *doc = random_doc(150000);
	char id[SPOOL_ID_LEN + 1], error[512] = "";
	store(fx->spool, doc, 150000, id);
	spool_close(&fx->spool);
	assert_int_equal(spool_open(fx->dir, fx->key, !fx->encrypt, TEST_MAX_FILE_BYTES,
				    &fx->spool, error, sizeof(error)),
			 0);
	assert_reads_back(fx->spool, id, doc, 150000);
	free(doc);
}

/* ---- damage ---- */

#define DOC_BYTES 200000 /* three full records and a final one of 3392 bytes */
#define FINAL_BYTES (DOC_BYTES - 3 * CHUNK_BYTES)

typedef enum {
	AT_MAGIC,
	AT_VERSION,
	AT_FLAGS,
	AT_RESERVED,
	AT_STREAM_HEADER,
	AT_LENGTH_HIGH,
	AT_LENGTH_LOW,
	AT_FIRST_PAYLOAD,
	AT_CHUNK_MIDDLE,
	AT_SECOND_LENGTH,
	AT_FINAL_RECORD,
	AT_LAST_BYTE,
} flip_at_t;

/* Byte offset of a place in the file of a DOC_BYTES document; SIZE_MAX when absent. */
static size_t flip_offset(const fixture_t *fx, flip_at_t at, size_t file_len)
{
	size_t hdr = header_bytes(fx), full = CHUNK_BYTES + record_overhead(fx);
	switch (at) {
	case AT_MAGIC: return 0;
	case AT_VERSION: return 8;
	case AT_FLAGS: return 9;
	case AT_RESERVED: return 13;
	case AT_STREAM_HEADER: return fx->encrypt ? FILE_HEADER_BYTES + 11 : SIZE_MAX;
	case AT_LENGTH_HIGH: return hdr;
	case AT_LENGTH_LOW: return hdr + 3;
	case AT_FIRST_PAYLOAD: return hdr + 4;
	case AT_CHUNK_MIDDLE: return hdr + 4 + full + 4 + CHUNK_BYTES / 2;
	case AT_SECOND_LENGTH: return hdr + 4 + full + 2;
	case AT_FINAL_RECORD: return file_len - (FINAL_BYTES + record_overhead(fx)) / 2;
	case AT_LAST_BYTE: return file_len - 1;
	}
	return SIZE_MAX;
}

static void test_flipped_bit_is_refused(void **state)
{
	fixture_t *fx = *state;
	static const struct {
		const char *name;
		flip_at_t at;
		unsigned bit;
	} rows[] = {
		{"magic", AT_MAGIC, 0},
		{"version", AT_VERSION, 1},
		{"flags", AT_FLAGS, 0},
		{"flags high bit", AT_FLAGS, 7},
		{"reserved header byte", AT_RESERVED, 3},
		{"stream header", AT_STREAM_HEADER, 2},
		{"record length high byte", AT_LENGTH_HIGH, 0},
		{"record length low byte", AT_LENGTH_LOW, 0},
		{"first payload byte", AT_FIRST_PAYLOAD, 0},
		{"middle of a chunk", AT_CHUNK_MIDDLE, 5},
		{"second record length", AT_SECOND_LENGTH, 4},
		{"final record", AT_FINAL_RECORD, 6},
		{"last byte", AT_LAST_BYTE, 7},
	};
	uint8_t *doc = random_doc(DOC_BYTES);
	char id[SPOOL_ID_LEN + 1];
	store(fx->spool, doc, DOC_BYTES, id);
	size_t file_len = 0;
	char *orig = read_file_bytes(fx, id, &file_len);
	assert_int_equal(file_len, header_bytes(fx) + 4 * (4 + record_overhead(fx)) + DOC_BYTES);
	char *copy = malloc(file_len);
	assert_non_null(copy);

	for (size_t i = 0; i < PIECES(rows); i++) {
		size_t off = flip_offset(fx, rows[i].at, file_len);
		if (off == SIZE_MAX)
			continue;
		memcpy(copy, orig, file_len);
		copy[off] = (char)(copy[off] ^ (1u << rows[i].bit));
		write_file_bytes(fx, id, copy, file_len);
		assert_read_fails(fx->spool, id, doc, DOC_BYTES, rows[i].name);
	}
	/* The untouched file still reads: the failures above came from the flips. */
	write_file_bytes(fx, id, orig, file_len);
	assert_reads_back(fx->spool, id, doc, DOC_BYTES);
	free(copy);
	free(orig);
	free(doc);
}

static void test_truncated_or_extended_is_refused(void **state)
{
	fixture_t *fx = *state;
	uint8_t *doc = random_doc(DOC_BYTES);
	char id[SPOOL_ID_LEN + 1];
	store(fx->spool, doc, DOC_BYTES, id);
	size_t file_len = 0;
	char *orig = read_file_bytes(fx, id, &file_len);
	size_t hdr = header_bytes(fx), full = CHUNK_BYTES + record_overhead(fx);
	size_t final_record = 4 + FINAL_BYTES + record_overhead(fx);

	static const char *const names[] = {
		"empty file", "inside the header", "after the header", "record boundary",
		"inside a record length", "mid record", "final record dropped", "last byte cut",
	};
	const size_t lengths[] = {
		0, 9, hdr, hdr + 4 + full, hdr + 4 + full + 2, hdr + 4 + full / 2,
		file_len - final_record, file_len - 1,
	};
	for (size_t i = 0; i < PIECES(lengths); i++) {
		write_file_bytes(fx, id, orig, lengths[i]);
		assert_read_fails(fx->spool, id, doc, DOC_BYTES, names[i]);
	}

	/* Anything behind the final record: a byte, an empty record header, the final record again. */
	static const char *const tails[] = {"one byte appended", "empty record appended",
					    "final record replayed"};
	const size_t tail_lens[] = {1, 4, final_record};
	char *longer = malloc(file_len + final_record);
	assert_non_null(longer);
	for (size_t i = 0; i < PIECES(tail_lens); i++) {
		memcpy(longer, orig, file_len);
		if (i == 2)
			memcpy(longer + file_len, orig + file_len - final_record, final_record);
		else
			memset(longer + file_len, 0, tail_lens[i]);
		write_file_bytes(fx, id, longer, file_len + tail_lens[i]);
		assert_read_fails(fx->spool, id, doc, DOC_BYTES, tails[i]);
	}
	free(longer);
	free(orig);
	free(doc);
}

/* A file copied under another valid id is refused: the id is bound into every record. */
static void test_renamed_file_is_refused(void **state)
{
	fixture_t *fx = *state;
	uint8_t *doc = random_doc(DOC_BYTES);
	char id[SPOOL_ID_LEN + 1], other[SPOOL_ID_LEN + 1], fanout[PATH_MAX], error[512];
	store(fx->spool, doc, DOC_BYTES, id);
	size_t file_len = 0;
	char *orig = read_file_bytes(fx, id, &file_len);
	crypto_random_id(other);
	assert_true(str_format(fanout, sizeof(fanout), "%s/%.2s", fx->dir, other));
	assert_int_equal(fs_mkdir_p(fanout, 0700, error, sizeof(error)), 0);
	write_file_bytes(fx, other, orig, file_len);
	assert_read_fails(fx->spool, other, doc, DOC_BYTES, "copied to another id");
	assert_reads_back(fx->spool, id, doc, DOC_BYTES);
	free(orig);
	free(doc);
}

/* Every file needs the right key: encrypted ones to decrypt, plain ones for their MACs. */
static void test_other_key_is_refused(void **state)
{
	fixture_t *fx = *state;
	uint8_t *doc = random_doc(DOC_BYTES);
	char id[SPOOL_ID_LEN + 1], error[512] = "";
	store(fx->spool, doc, DOC_BYTES, id);
	uint8_t other_key[SPOOL_KEY_BYTES];
	memcpy(other_key, fx->key, sizeof(other_key));
	other_key[31] ^= 0x01;
	pp_spool_t *other = NULL;
	assert_int_equal(spool_open(fx->dir, other_key, true, TEST_MAX_FILE_BYTES, &other, error,
				    sizeof(error)),
			 0);
	assert_read_fails(other, id, doc, DOC_BYTES, "other key");
	spool_close(&other);
	assert_null(other);
	spool_close(&other); /* NULL-safe */
	free(doc);
}

/* ---- limits and ids ---- */

static void test_size_limit(void **state)
{
	fixture_t *fx = *state;
	char error[512] = "", tmp[PATH_MAX], id[SPOOL_ID_LEN + 1];
	pp_spool_t *small = NULL;
	assert_int_equal(spool_open(fx->dir, fx->key, fx->encrypt, 100000, &small, error,
				    sizeof(error)),
			 0);
	uint8_t *doc = random_doc(100001);

	/* Exactly the limit is accepted. */
	pp_spool_writer_t *writer = NULL;
	uint64_t size = 0;
	assert_int_equal(spool_writer_open(small, &writer, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(writer, doc, 60000, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(writer, doc + 60000, 40000, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_finish(&writer, id, &size, error, sizeof(error)), 0);
	assert_int_equal(size, 100000);
	assert_reads_back(small, id, doc, 100000);

	/* One byte more is SPOOL_TOO_LARGE, the writer stays failed, abort leaves no temp file. */
	assert_int_equal(spool_writer_open(small, &writer, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(writer, doc, 70000, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(writer, doc + 70000, 30001, error, sizeof(error)),
			 SPOOL_TOO_LARGE);
	assert_non_null(strstr(error, "100000"));
	assert_int_equal(spool_writer_write(writer, doc, 1, error, sizeof(error)), -1);
	spool_writer_abort(&writer);
	assert_null(writer);
	spool_writer_abort(&writer); /* NULL-safe */
	assert_true(str_format(tmp, sizeof(tmp), "%s/tmp", fx->dir));
	assert_int_equal(dir_entries(tmp), 0);

	/* A failed writer cannot be finished, and finishing removes its temp file too. */
	assert_int_equal(spool_writer_open(small, &writer, error, sizeof(error)), 0);
	assert_int_equal(spool_writer_write(writer, doc, 100001, error, sizeof(error)),
			 SPOOL_TOO_LARGE);
	assert_int_equal(spool_writer_finish(&writer, id, &size, error, sizeof(error)), -1);
	assert_null(writer);
	assert_int_equal(dir_entries(tmp), 0);

	spool_close(&small);
	free(doc);
}

static void test_bad_ids_are_refused(void **state)
{
	fixture_t *fx = *state;
	static const char *const ids[] = {
		"../etc/passwd",
		"0123456789ABCDEF0123456789abcdef",
		"0123456789abcdef0123456789abcde",
		"0123456789abcdef0123456789abcdef0",
		"",
		"0123456789abcdef0123456789abcdeg",
		"01/3456789abcdef0123456789abcdef",
	};
	for (size_t i = 0; i < PIECES(ids); i++) {
		char error[512] = "";
		pp_spool_reader_t *reader = NULL;
		if (spool_reader_open(fx->spool, ids[i], &reader, error, sizeof(error)) != -1)
			fail_msg("spool_reader_open accepted \"%s\"", ids[i]);
		assert_null(reader);
		assert_true(error[0] != '\0');
		error[0] = '\0';
		if (spool_delete(fx->spool, ids[i], error, sizeof(error)) != -1)
			fail_msg("spool_delete accepted \"%s\"", ids[i]);
		assert_true(error[0] != '\0');
	}
}

/* ---- files on disk ---- */

static void assert_mode(const char *path, mode_t mode)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		fail_msg("lstat(%s): %s", path, strerror(errno));
	if ((st.st_mode & 07777) != mode)
		fail_msg("%s has mode %o, want %o", path, (unsigned)(st.st_mode & 07777),
			 (unsigned)mode);
}

static void test_files_are_private_and_delete_is_idempotent(void **state)
{
	fixture_t *fx = *state;
	uint8_t *doc = random_doc(1000);
	char id[SPOOL_ID_LEN + 1], path[PATH_MAX], error[512] = "";
	store(fx->spool, doc, 1000, id);

	assert_mode(fx->dir, 0700);
	assert_true(str_format(path, sizeof(path), "%s/tmp", fx->dir));
	assert_mode(path, 0700);
	assert_true(str_format(path, sizeof(path), "%s/%.2s", fx->dir, id));
	assert_mode(path, 0700);
	file_path(fx, id, path, sizeof(path));
	assert_mode(path, 0600);

	/* A temp file in progress is private too (a document past the inline limit has one). */
	pp_spool_writer_t *writer = NULL;
	assert_int_equal(spool_writer_open(fx->spool, &writer, error, sizeof(error)), 0);
	uint8_t *big = calloc(1, SPOOL_INLINE_DEFAULT + 1);
	assert_non_null(big);
	assert_int_equal(
	    spool_writer_write(writer, big, SPOOL_INLINE_DEFAULT + 1, error, sizeof(error)), 0);
	free(big);
	char tmp[PATH_MAX];
	assert_true(str_format(tmp, sizeof(tmp), "%s/tmp", fx->dir));
	DIR *d = opendir(tmp);
	assert_non_null(d);
	size_t seen = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		assert_true(str_format(path, sizeof(path), "%s/%s", tmp, e->d_name));
		assert_mode(path, 0600);
		seen++;
	}
	assert_int_equal(closedir(d), 0);
	assert_int_equal(seen, 1);
	spool_writer_abort(&writer);

	/* Deleting removes the file; deleting again, or a never-stored id, succeeds. */
	assert_int_equal(spool_delete(fx->spool, id, error, sizeof(error)), 0);
	assert_false(file_exists(fx, id));
	assert_read_fails(fx->spool, id, doc, 1000, "deleted");
	assert_int_equal(spool_delete(fx->spool, id, error, sizeof(error)), 0);
	char missing[SPOOL_ID_LEN + 1];
	crypto_random_id(missing);
	assert_int_equal(spool_delete(fx->spool, missing, error, sizeof(error)), 0);
	free(doc);
}

/* ---- sweep ---- */

/* What the "database" names, and how it answers. */
typedef struct {
	const char *const *referenced; /* ids */
	size_t referenced_count;
	int fail_at_call; /* answer -1 on this call (1-based); 0 = never */
	int calls;
} sweep_ctx_t;

static int sweep_is_referenced(const char *file_id, void *ctx_p, bool *is_referenced_r)
{
	sweep_ctx_t *ctx = ctx_p;
	ctx->calls++;
	if (ctx->fail_at_call != 0 && ctx->calls >= ctx->fail_at_call)
		return -1;
	*is_referenced_r = false;
	for (size_t i = 0; i < ctx->referenced_count; i++)
		if (strcmp(ctx->referenced[i], file_id) == 0)
			*is_referenced_r = true;
	return 0;
}

/* Sets the modification time of path to seconds_ago in the past. */
static void age_path(const char *path, time_t seconds_ago)
{
	struct timespec times[2];
	times[0].tv_sec = time(NULL) - seconds_ago;
	times[0].tv_nsec = 0;
	times[1] = times[0];
	assert_int_equal(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), 0);
}

static void make_tmp_file(const fixture_t *fx, const char *name, time_t seconds_ago)
{
	char path[PATH_MAX];
	assert_true(str_format(path, sizeof(path), "%s/tmp/%s", fx->dir, name));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_full(fd, "half", 4), 0);
	assert_int_equal(close(fd), 0);
	age_path(path, seconds_ago);
}

static void test_sweep_removes_leftovers_only(void **state)
{
	fixture_t *fx = *state;
	uint8_t *doc = random_doc(5000);
	char kept[SPOOL_ID_LEN + 1], fresh[SPOOL_ID_LEN + 1], old[SPOOL_ID_LEN + 1];
	char path[PATH_MAX], error[512] = "";
	store(fx->spool, doc, 5000, kept);
	store(fx->spool, doc, 5000, fresh);
	store(fx->spool, doc, 5000, old);
	file_path(fx, old, path, sizeof(path));
	age_path(path, 7200);
	file_path(fx, kept, path, sizeof(path));
	age_path(path, 7200);
	make_tmp_file(fx, "fresh-tmp", 0);
	make_tmp_file(fx, "old-tmp", 7200);

	/* With min_age_s = 1 h only the old orphan and the old temp file go. */
	const char *const referenced[] = {kept};
	sweep_ctx_t ctx = {referenced, 1, 0, 0};
	unsigned removed = 99;
	assert_int_equal(spool_sweep(fx->spool, sweep_is_referenced, &ctx, 3600, &removed, error,
				     sizeof(error)),
			 0);
	assert_int_equal(removed, 2);
	assert_true(file_exists(fx, kept));
	assert_true(file_exists(fx, fresh));
	assert_false(file_exists(fx, old));
	assert_true(str_format(path, sizeof(path), "%s/tmp/fresh-tmp", fx->dir));
	assert_true(path_exists(path));
	assert_true(str_format(path, sizeof(path), "%s/tmp/old-tmp", fx->dir));
	assert_false(path_exists(path));

	/* With min_age_s = 0 the fresh orphan and fresh temp file go; the named file stays. */
	assert_int_equal(spool_sweep(fx->spool, sweep_is_referenced, &ctx, 0, &removed, error,
				     sizeof(error)),
			 0);
	assert_int_equal(removed, 2);
	assert_false(file_exists(fx, fresh));
	assert_true(str_format(path, sizeof(path), "%s/tmp", fx->dir));
	assert_int_equal(dir_entries(path), 0);
	assert_reads_back(fx->spool, kept, doc, 5000);

	/* Nothing left to do: a second sweep removes nothing. */
	assert_int_equal(spool_sweep(fx->spool, sweep_is_referenced, &ctx, 0, &removed, error,
				     sizeof(error)),
			 0);
	assert_int_equal(removed, 0);
	free(doc);
}

static void test_sweep_stops_when_database_cannot_tell(void **state)
{
	fixture_t *fx = *state;
	uint8_t *doc = random_doc(100);
	char ids[3][SPOOL_ID_LEN + 1], error[512] = "";
	for (int i = 0; i < 3; i++)
		store(fx->spool, doc, 100, ids[i]);

	/* The first answer is "cannot tell": nothing is removed. */
	sweep_ctx_t ctx = {NULL, 0, 1, 0};
	unsigned removed = 99;
	assert_int_equal(spool_sweep(fx->spool, sweep_is_referenced, &ctx, 0, &removed, error,
				     sizeof(error)),
			 -1);
	assert_true(error[0] != '\0');
	assert_int_equal(removed, 0);
	assert_int_equal(ctx.calls, 1);
	for (int i = 0; i < 3; i++)
		assert_true(file_exists(fx, ids[i]));

	/* One orphan confirmed, then "cannot tell": exactly one goes, the sweep stops there. */
	sweep_ctx_t ctx2 = {NULL, 0, 2, 0};
	assert_int_equal(spool_sweep(fx->spool, sweep_is_referenced, &ctx2, 0, &removed, error,
				     sizeof(error)),
			 -1);
	assert_int_equal(removed, 1);
	assert_int_equal(ctx2.calls, 2);
	int left = 0;
	for (int i = 0; i < 3; i++)
		left += file_exists(fx, ids[i]) ? 1 : 0;
	assert_int_equal(left, 2);
	free(doc);
}

/* ---- fault injection: a crash at every step, then a restart ---- */

#define FAULT_DOC_BYTES (200 * KIB)
#define RECORDS_MAX 2

/* Writes the record file (ids, one per line) atomically. Returns 0 or -1. */
static int records_write(const char *path, const char *const *ids, size_t n)
{
	char text[RECORDS_MAX * (SPOOL_ID_LEN + 1) + 1];
	size_t len = 0;
	for (size_t i = 0; i < n && i < RECORDS_MAX; i++) {
		memcpy(text + len, ids[i], SPOOL_ID_LEN);
		text[len + SPOOL_ID_LEN] = '\n';
		len += SPOOL_ID_LEN + 1;
	}
	char error[512];
	return fs_write_file_atomic(path, text, len, 0600, error, sizeof(error));
}

/* True when the record file at path names id. */
static bool records_contain(const char *records, const char *id)
{
	for (const char *line = records; *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (len == SPOOL_ID_LEN && memcmp(line, id, SPOOL_ID_LEN) == 0)
			return true;
		line += len + (nl != NULL ? 1 : 0);
	}
	return false;
}

static char *records_read(const char *path)
{
	char *data = NULL, error[512] = "";
	size_t len = 0;
	if (fs_read_file(path, 4096, &data, &len, error, sizeof(error)) < 0)
		fail_msg("%s", error);
	return data;
}

static int records_is_referenced(const char *file_id, void *ctx, bool *is_referenced_r)
{
	char *data = NULL, error[512];
	size_t len = 0;
	if (fs_read_file(ctx, 4096, &data, &len, error, sizeof(error)) < 0)
		return -1;
	*is_referenced_r = records_contain(data, file_id);
	free(data);
	return 0;
}

/*
 * The child's work: store a document, record its id, then delete the old document (record
 * first, file second). Returns 0 when every step succeeded, or the step that failed.
 */
static int fault_child_run(const fixture_t *fx, const char *records, const uint8_t *doc,
			   const char *old_id)
{
	char error[512], id[SPOOL_ID_LEN + 1];
	pp_spool_t *spool = NULL;
	pp_spool_writer_t *writer = NULL;
	uint64_t size = 0;
	if (spool_open(fx->dir, fx->key, fx->encrypt, TEST_MAX_FILE_BYTES, &spool, error,
		       sizeof(error)) < 0)
		return 2;
	if (spool_writer_open(spool, &writer, error, sizeof(error)) < 0)
		return 3;
	for (size_t pos = 0; pos < FAULT_DOC_BYTES; pos += 10000) {
		size_t take = FAULT_DOC_BYTES - pos < 10000 ? FAULT_DOC_BYTES - pos : 10000;
		if (spool_writer_write(writer, doc + pos, take, error, sizeof(error)) != 0)
			return 4;
	}
	if (spool_writer_finish(&writer, id, &size, error, sizeof(error)) < 0)
		return 5;
	const char *const both[] = {old_id, id};
	if (records_write(records, both, 2) < 0)
		return 6;
	const char *const only_new[] = {id};
	if (records_write(records, only_new, 1) < 0)
		return 7;
	if (spool_delete(spool, old_id, error, sizeof(error)) < 0)
		return 8;
	spool_close(&spool);
	return 0;
}

/* After a restart: every file under the spool (tmp included) is a recorded id in place. */
static void assert_only_recorded_files(const fixture_t *fx, const char *records,
				       const char *point)
{
	DIR *d = opendir(fx->dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char sub[PATH_MAX];
		assert_true(str_format(sub, sizeof(sub), "%s/%s", fx->dir, e->d_name));
		if (strcmp(e->d_name, "tmp") == 0) {
			if (dir_entries(sub) != 0)
				fail_msg("%s: temp files left after the sweep", point);
			continue;
		}
		DIR *f = opendir(sub);
		if (f == NULL)
			fail_msg("%s: unexpected entry %s in the spool", point, e->d_name);
		for (struct dirent *g; (g = readdir(f)) != NULL;) {
			if (strcmp(g->d_name, ".") == 0 || strcmp(g->d_name, "..") == 0)
				continue;
			if (!records_contain(records, g->d_name) ||
			    strncmp(g->d_name, e->d_name, 2) != 0)
				fail_msg("%s: file %s/%s is not recorded", point, e->d_name,
					 g->d_name);
		}
		assert_int_equal(closedir(f), 0);
	}
	assert_int_equal(closedir(d), 0);
}

static void test_crash_at_every_fault_point_recovers(void **state)
{
	fixture_t *fx = *state;
	static const struct {
		const char *point;
		bool is_new_recorded; /* the child's document is in the record file */
		bool is_old_recorded; /* the document stored before is still recorded */
	} rows[] = {
		{"spool.after_create", false, true},
		{"spool.after_first_chunk", false, true},
		{"spool.before_fsync", false, true},
		{"spool.after_fsync", false, true},
		{"spool.after_rename", false, true},
		{"spool.after_dir_fsync", false, true},
		{"spool.delete.before_unlink", true, false},
		{"spool.delete.after_unlink", true, false},
	};
	uint8_t *old_doc = random_doc(FAULT_DOC_BYTES);
	uint8_t *new_doc = random_doc(FAULT_DOC_BYTES);
	char records[PATH_MAX], error[512] = "";
	assert_true(str_format(records, sizeof(records), "%s/records", fx->base));

	for (size_t i = 0; i < PIECES(rows); i++) {
		/* A fresh spool holding one stored and recorded document. */
		spool_close(&fx->spool);
		test_rmtree(fx->dir);
		assert_int_equal(spool_open(fx->dir, fx->key, fx->encrypt, TEST_MAX_FILE_BYTES,
					    &fx->spool, error, sizeof(error)),
				 0);
		char old_id[SPOOL_ID_LEN + 1];
		store(fx->spool, old_doc, FAULT_DOC_BYTES, old_id);
		const char *const first[] = {old_id};
		assert_int_equal(records_write(records, first, 1), 0);

		(void)fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setenv("PP_FAULT_POINT", rows[i].point, 1) < 0)
				_exit(1);
			_exit(fault_child_run(fx, records, new_doc, old_id));
		}
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != FAULT_EXIT_CODE)
			fail_msg("%s: child did not stop at the fault point (status %d)",
				 rows[i].point, status);

		/* The restart: open, sweep against the record file, check what is there. */
		spool_close(&fx->spool);
		assert_int_equal(spool_open(fx->dir, fx->key, fx->encrypt, TEST_MAX_FILE_BYTES,
					    &fx->spool, error, sizeof(error)),
				 0);
		unsigned removed = 0;
		if (spool_sweep(fx->spool, records_is_referenced, records, 0, &removed, error,
				sizeof(error)) < 0)
			fail_msg("%s: sweep: %s", rows[i].point, error);
		char *recorded = records_read(records);
		size_t count = 0;
		for (const char *line = recorded; *line != '\0'; line += SPOOL_ID_LEN + 1) {
			char id[SPOOL_ID_LEN + 1];
			assert_true(strlen(line) >= SPOOL_ID_LEN + 1);
			memcpy(id, line, SPOOL_ID_LEN);
			id[SPOOL_ID_LEN] = '\0';
			bool is_old = strcmp(id, old_id) == 0;
			assert_reads_back(fx->spool, id, is_old ? old_doc : new_doc,
					  FAULT_DOC_BYTES);
			count++;
		}
		assert_int_equal(records_contain(recorded, old_id), rows[i].is_old_recorded);
		assert_int_equal(count, (rows[i].is_old_recorded ? 1u : 0u) +
						(rows[i].is_new_recorded ? 1u : 0u));
		assert_only_recorded_files(fx, recorded, rows[i].point);
		free(recorded);
	}
	free(new_doc);
	free(old_doc);
}

#define SPOOL_TESTS(mode)                                                                   \
	{                                                                                   \
		cmocka_unit_test_prestate_setup_teardown(test_memory_is_bounded, setup,     \
							 teardown, (void *)&(mode)),        \
		cmocka_unit_test_prestate_setup_teardown(test_round_trip_sizes, setup,      \
							 teardown, (void *)&(mode)),        \
		cmocka_unit_test_prestate_setup_teardown(                                   \
			test_readable_after_encryption_switch, setup, teardown,             \
			(void *)&(mode)),                                                   \
		cmocka_unit_test_prestate_setup_teardown(test_flipped_bit_is_refused,       \
							 setup, teardown, (void *)&(mode)), \
		cmocka_unit_test_prestate_setup_teardown(                                   \
			test_truncated_or_extended_is_refused, setup, teardown,             \
			(void *)&(mode)),                                                   \
		cmocka_unit_test_prestate_setup_teardown(test_renamed_file_is_refused,      \
							 setup, teardown, (void *)&(mode)), \
		cmocka_unit_test_prestate_setup_teardown(test_other_key_is_refused, setup,  \
							 teardown, (void *)&(mode)),        \
		cmocka_unit_test_prestate_setup_teardown(test_size_limit, setup, teardown,  \
							 (void *)&(mode)),                  \
		cmocka_unit_test_prestate_setup_teardown(test_bad_ids_are_refused, setup,   \
							 teardown, (void *)&(mode)),        \
		cmocka_unit_test_prestate_setup_teardown(                                   \
			test_files_are_private_and_delete_is_idempotent, setup, teardown,   \
			(void *)&(mode)),                                                   \
		cmocka_unit_test_prestate_setup_teardown(test_sweep_removes_leftovers_only, \
							 setup, teardown, (void *)&(mode)), \
		cmocka_unit_test_prestate_setup_teardown(                                   \
			test_sweep_stops_when_database_cannot_tell, setup, teardown,        \
			(void *)&(mode)),                                                   \
		cmocka_unit_test_prestate_setup_teardown(                                   \
			test_crash_at_every_fault_point_recovers, setup, teardown,          \
			(void *)&(mode)),                                                   \
	}

int main(void)
{
	const struct CMUnitTest plain_tests[] = SPOOL_TESTS(encrypt_off);
	const struct CMUnitTest encrypted_tests[] = SPOOL_TESTS(encrypt_on);
	int failed = cmocka_run_group_tests_name("spool, encryption off", plain_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("spool, encryption on", encrypted_tests, NULL, NULL);
	return failed;
}
