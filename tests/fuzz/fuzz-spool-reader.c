/*
 * fuzz-spool-reader.c - the spool reader on arbitrary file contents: the input becomes the
 * stored file of one fixed id in a spool made once, and is read through spool_reader_* with a
 * fixed key. It must never crash, and never hand out more plain bytes than the file could
 * hold (every plain byte costs at least one file byte after the 16-byte header).
 *
 * Seeds: PP_FUZZ_SPOOL_SEED_DIR=<dir> writes valid files (plain and encrypted, a few sizes)
 * into dir and exits. For seeds to be files of the fixed id, this harness replaces libsodium's
 * random source with a deterministic one reset before each file: every writer then draws the
 * same id, and that id is the fixed one. Never do this outside a fuzzer.
 */
#include "spool/spool.h"

#include "lib/fsutil.h"
#include "lib/str.h"

#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_HEADER_BYTES 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed key, so that seeds made by one run decrypt in the next. */
static const uint8_t fuzz_key[SPOOL_KEY_BYTES] = {
	0x70, 0x75, 0x6c, 0x6c, 0x70, 0x72, 0x69, 0x6e, 0x74, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b,
	0x65, 0x79, 0x2d, 0x6e, 0x6f, 0x74, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x01, 0x02,
};

/* Process state libFuzzer's interface leaves no other place for. */
typedef struct {
	uint64_t rng_counter; /* deterministic random source: next block */
	pp_spool_t *spool;
	char id[SPOOL_ID_LEN + 1];
	char path[PATH_MAX];
} fuzz_state_t;

static fuzz_state_t fuzz;

static const char *fuzz_rng_name(void)
{
	return "pullprint-fuzz-deterministic";
}

static void fuzz_rng_buf(void *const buf, const size_t size)
{
	uint8_t seed[randombytes_SEEDBYTES] = {0};
	memcpy(seed, &fuzz.rng_counter, sizeof(fuzz.rng_counter));
	fuzz.rng_counter++;
	randombytes_buf_deterministic(buf, size, seed);
}

static uint32_t fuzz_rng_random(void)
{
	uint32_t v = 0;
	fuzz_rng_buf(&v, sizeof(v));
	return v;
}

static randombytes_implementation fuzz_rng = {
	.implementation_name = fuzz_rng_name,
	.random = fuzz_rng_random,
	.buf = fuzz_rng_buf,
};

/* The fixed id: what a writer draws first after a reset of the random source. */
static void fuzz_fixed_id(char id[SPOOL_ID_LEN + 1])
{
	uint8_t raw[SPOOL_ID_LEN / 2];
	fuzz.rng_counter = 0;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(id, SPOOL_ID_LEN + 1, raw, sizeof(raw));
}

/* Writes valid spool files of a few sizes, plain and encrypted, as seeds into dir. */
static void fuzz_write_seeds(const char *dir)
{
	static const size_t sizes[] = {0, 1, 100, 65536, 65537, 140000};
	uint8_t *doc = calloc(1, 140000);
	char error[512];
	if (doc == NULL)
		abort();
	for (size_t i = 0; i < 140000; i++)
		doc[i] = (uint8_t)(i * 7 + i / 251);
	for (int encrypt = 0; encrypt < 2; encrypt++) {
		char spool_dir[PATH_MAX];
		pp_spool_t *spool = NULL;
		if (!str_format(spool_dir, sizeof(spool_dir), "%s/spool-%d", dir, encrypt) ||
		    spool_open(spool_dir, fuzz_key, encrypt != 0, (uint64_t)1 << 30, &spool, error,
			       sizeof(error)) < 0)
			abort();
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			pp_spool_writer_t *writer = NULL;
			char id[SPOOL_ID_LEN + 1], from[PATH_MAX], to[PATH_MAX];
			char *file = NULL;
			size_t file_len = 0;
			uint64_t size = 0;
			fuzz.rng_counter = 0;
			if (spool_writer_open(spool, &writer, error, sizeof(error)) < 0 ||
			    spool_writer_write(writer, doc, sizes[s], error, sizeof(error)) != 0 ||
			    spool_writer_finish(&writer, id, &size, error, sizeof(error)) < 0 ||
			    strcmp(id, fuzz.id) != 0 ||
			    !str_format(from, sizeof(from), "%s/%.2s/%s", spool_dir, id, id) ||
			    !str_format(to, sizeof(to), "%s/seed-%s-%zu", dir,
					encrypt ? "encrypted" : "plain", sizes[s]) ||
			    fs_read_file(from, 1 << 20, &file, &file_len, error, sizeof(error)) < 0 ||
			    fs_write_file_atomic(to, file, file_len, 0600, error, sizeof(error)) < 0 ||
			    spool_delete(spool, id, error, sizeof(error)) < 0) {
				fprintf(stderr, "fuzz-spool-reader: seed failed: %s\n", error);
				abort();
			}
			free(file);
		}
		spool_close(&spool);
	}
	free(doc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char template[] = "/tmp/pp-fuzz-spool-XXXXXX";
	char error[512], fanout[PATH_MAX];
	if (randombytes_set_implementation(&fuzz_rng) != 0 || sodium_init() < 0)
		abort();
	fuzz_fixed_id(fuzz.id);
	const char *seed_dir = getenv("PP_FUZZ_SPOOL_SEED_DIR");
	if (seed_dir != NULL) {
		fuzz_write_seeds(seed_dir);
		exit(0);
	}
	if (mkdtemp(template) == NULL ||
	    spool_open(template, fuzz_key, true, (uint64_t)1 << 30, &fuzz.spool, error,
		       sizeof(error)) < 0 ||
	    !str_format(fanout, sizeof(fanout), "%s/%.2s", template, fuzz.id) ||
	    fs_mkdir_p(fanout, 0700, error, sizeof(error)) < 0 ||
	    !str_format(fuzz.path, sizeof(fuzz.path), "%s/%s", fanout, fuzz.id))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = open(fuzz.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_full(fd, data, size) < 0 || close(fd) < 0)
		abort();

	char error[512] = "";
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(fuzz.spool, fuzz.id, &reader, error, sizeof(error)) < 0) {
		if (reader != NULL || error[0] == '\0')
			abort();
		return 0;
	}
	/* A file shorter than its header never opens. */
	if (size < FUZZ_HEADER_BYTES)
		abort();
	static uint8_t buf[70000];
	size_t total = 0;
	size_t want = size > 0 ? 1 + data[size - 1] * 273u : 1;
	for (;;) {
		ssize_t n = spool_reader_read(reader, buf, want, error, sizeof(error));
		if (n < 0) {
			if (n != -1 || error[0] == '\0')
				abort();
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > want)
			abort();
		total += (size_t)n;
		if (total > size - FUZZ_HEADER_BYTES)
			abort(); /* more plain bytes than the file can hold */
	}
	spool_reader_close(&reader);
	if (reader != NULL)
		abort();
	return 0;
}
