/*
 * spool-reader.c - streaming a document out of the spool: from its file, or from the sealed
 * bytes the database keeps for a small document (the same format, checked the same way).
 * Each record is authenticated (or, unencrypted, checksummed) before any of its bytes are
 * handed out; the end is accepted only after the final record and nothing behind it. See
 * spool-private.h for the format.
 */
#include "spool/spool-private.h"

#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pp_spool_reader {
	const pp_spool_t *spool; /* borrowed */
	char id[SPOOL_ID_LEN + 1];
	int fd;        /* the file; -1 when reading sealed bytes from the database */
	uint8_t *mem;  /* those bytes (owned), when fd < 0 */
	size_t mem_len, mem_pos;
	bool is_encrypted;
	uint8_t header[SPOOL_HEADER_LEN];
	crypto_secretstream_xchacha20poly1305_state state;
	uint8_t record[SPOOL_RECORD_MAX];
	uint8_t plain[SPOOL_CHUNK]; /* verified bytes of the current record */
	size_t plain_len, plain_pos;
	uint64_t records; /* verified so far */
	bool is_final_seen;
	bool is_failed;
};

/* Reads exactly len bytes; *got_r < len only at the end. Returns 0 or -1 (errno). */
static int spool_read_exact(pp_spool_reader_t *reader, uint8_t *buf, size_t len, size_t *got_r)
{
	if (reader->fd < 0) {
		size_t left = reader->mem_len - reader->mem_pos;
		size_t take = len < left ? len : left;
		memcpy(buf, reader->mem + reader->mem_pos, take);
		reader->mem_pos += take;
		*got_r = take;
		return 0;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(reader->fd, buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*got_r = got;
	return 0;
}

/*
 * No file has the id: asks the inline source (the database) for its sealed bytes. Returns 0,
 * or -1 with error (not there either, or the database failed).
 */
static int spool_reader_fetch(pp_spool_t *spool, pp_spool_reader_t *reader, const char *path,
                              char *error, size_t error_size)
{
	if (spool->inline_fetch == NULL) {
		(void)str_format(error, error_size, "open(%s) failed: %s", path, strerror(ENOENT));
		return -1;
	}
	int rc = spool->inline_fetch(spool->inline_ctx, reader->id, &reader->mem,
	                             &reader->mem_len, error, error_size);
	if (rc == 0)
		(void)str_format(error, error_size,
		                 "spool: document %s is neither in %s nor in the database", reader->id,
		                 path);
	return rc > 0 ? 0 : -1;
}

static ssize_t spool_reader_fail(pp_spool_reader_t *reader, char *error, size_t error_size,
                                 const char *what)
{
	reader->is_failed = true;
	(void)str_format(error, error_size,
	                 "spool file %s is damaged (%s) — the document cannot be used; delete the "
	                 "job and send it again",
	                 reader->id, what);
	return -1;
}

int spool_reader_open(pp_spool_t *spool, const char *file_id, pp_spool_reader_t **reader_r,
                      char *error, size_t error_size)
{
	char path[PATH_MAX];
	if (!spool_id_is_valid(file_id)) {
		(void)str_format(error, error_size, "spool: invalid file id");
		return -1;
	}
	if (!spool_file_path(spool, file_id, path, sizeof(path))) {
		(void)str_format(error, error_size, "spool: path too long");
		return -1;
	}
	pp_spool_reader_t *reader = calloc(1, sizeof(*reader));
	if (reader == NULL) {
		(void)str_format(error, error_size, "spool: out of memory");
		return -1;
	}
	reader->spool = spool;
	memcpy(reader->id, file_id, SPOOL_ID_LEN + 1);
	reader->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (reader->fd < 0) {
		int open_errno = errno;
		int rc = -1;
		if (open_errno == ENOENT)
			rc = spool_reader_fetch(spool, reader, path, error, error_size);
		else
			(void)str_format(error, error_size, "open(%s) failed: %s", path,
			                 strerror(open_errno));
		if (rc < 0) {
			spool_reader_close(&reader);
			return -1;
		}
	}

	/*
	 * The reserved header bytes must be zero (the writer leaves them so): a plain file's
	 * checksums do not cover the header, so this is what catches a flipped bit there.
	 */
	static const uint8_t zeros[SPOOL_HEADER_LEN - SPOOL_MAGIC_LEN - 2] = {0};
	size_t got = 0;
	if (spool_read_exact(reader, reader->header, SPOOL_HEADER_LEN, &got) < 0 ||
	    got != SPOOL_HEADER_LEN || memcmp(reader->header, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0 ||
	    reader->header[SPOOL_MAGIC_LEN] != SPOOL_VERSION ||
	    (reader->header[SPOOL_MAGIC_LEN + 1] & ~SPOOL_FLAG_ENCRYPTED) != 0 ||
	    memcmp(reader->header + SPOOL_MAGIC_LEN + 2, zeros, sizeof(zeros)) != 0) {
		(void)spool_reader_fail(reader, error, error_size, "bad header");
		spool_reader_close(&reader);
		return -1;
	}
	reader->is_encrypted = (reader->header[SPOOL_MAGIC_LEN + 1] & SPOOL_FLAG_ENCRYPTED) != 0;
	if (reader->is_encrypted) {
		uint8_t stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
		uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
		spool_file_key(spool, file_id, key);
		int rc = spool_read_exact(reader, stream_header, sizeof(stream_header), &got);
		if (rc == 0 && got == sizeof(stream_header))
			rc = crypto_secretstream_xchacha20poly1305_init_pull(&reader->state,
			                                                     stream_header, key);
		else
			rc = -1;
		sodium_memzero(key, sizeof(key));
		if (rc != 0) {
			(void)spool_reader_fail(reader, error, error_size, "bad stream header");
			spool_reader_close(&reader);
			return -1;
		}
	}
	*reader_r = reader;
	return 0;
}

/* Reads and verifies the next record into reader->plain. Returns 1, 0 at the end, or -1. */
static int spool_reader_next(pp_spool_reader_t *reader, char *error, size_t error_size)
{
	uint8_t prefix[4];
	size_t got = 0;
	if (spool_read_exact(reader, prefix, sizeof(prefix), &got) < 0) {
		(void)str_format(error, error_size, "read(spool %s) failed: %s", reader->id,
		                 strerror(errno));
		reader->is_failed = true;
		return -1;
	}
	if (got == 0 && reader->is_final_seen)
		return 0;
	if (reader->is_final_seen)
		return (int)spool_reader_fail(reader, error, error_size, "data after the end");
	if (got != sizeof(prefix))
		return (int)spool_reader_fail(reader, error, error_size, "truncated");

	size_t len =
	    (size_t)prefix[0] << 24 | (size_t)prefix[1] << 16 | (size_t)prefix[2] << 8 | prefix[3];
	size_t overhead = reader->is_encrypted ? crypto_secretstream_xchacha20poly1305_ABYTES
	                                       : 1 + SPOOL_PLAIN_HASH_LEN;
	if (len < overhead || len - overhead > SPOOL_CHUNK)
		return (int)spool_reader_fail(reader, error, error_size, "bad record length");
	if (spool_read_exact(reader, reader->record, len, &got) < 0 || got != len)
		return (int)spool_reader_fail(reader, error, error_size, "truncated");

	if (reader->is_encrypted) {
		uint8_t ad[SPOOL_AD_LEN], tag = 0;
		unsigned long long plain_len = 0;
		spool_additional_data(reader->header, reader->id, ad);
		if (crypto_secretstream_xchacha20poly1305_pull(&reader->state, reader->plain,
		                                               &plain_len, &tag, reader->record,
		                                               len, ad, sizeof(ad)) != 0)
			return (int)spool_reader_fail(reader, error, error_size,
			                              "authentication failed");
		reader->plain_len = (size_t)plain_len;
		reader->is_final_seen = (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL);
		if (tag != 0 && !reader->is_final_seen)
			return (int)spool_reader_fail(reader, error, error_size, "unexpected tag");
	} else {
		uint8_t flags = reader->record[0];
		size_t data_len = len - overhead;
		uint8_t hash[SPOOL_PLAIN_HASH_LEN];
		spool_plain_hash(reader->spool, reader->header, reader->id, reader->records, flags,
		                 reader->record + 1, data_len, hash);
		if ((flags & ~SPOOL_RECORD_FINAL) != 0 ||
		    sodium_memcmp(hash, reader->record + 1 + data_len, sizeof(hash)) != 0)
			return (int)spool_reader_fail(reader, error, error_size,
			                              "checksum mismatch");
		memcpy(reader->plain, reader->record + 1, data_len);
		reader->plain_len = data_len;
		reader->is_final_seen = (flags & SPOOL_RECORD_FINAL) != 0;
	}
	reader->plain_pos = 0;
	reader->records++;
	return 1;
}

ssize_t spool_reader_read(pp_spool_reader_t *reader, void *buf, size_t len, char *error,
                          size_t error_size)
{
	if (len == 0) {
		/* 0 means "verified end": a zero-length read must not be mistaken for it. */
		(void)str_format(error, error_size, "spool: read of 0 bytes");
		return -1;
	}
	if (reader->is_failed) {
		(void)str_format(error, error_size, "spool file %s: reader already failed",
		                 reader->id);
		return -1;
	}
	while (reader->plain_pos == reader->plain_len) {
		int rc = spool_reader_next(reader, error, error_size);
		if (rc <= 0)
			return rc;
	}
	size_t take = reader->plain_len - reader->plain_pos;
	if (take > len)
		take = len;
	memcpy(buf, reader->plain + reader->plain_pos, take);
	reader->plain_pos += take;
	return (ssize_t)take;
}

void spool_reader_close(pp_spool_reader_t **reader_p)
{
	pp_spool_reader_t *reader = *reader_p;
	if (reader == NULL)
		return;
	if (reader->fd >= 0)
		(void)close(reader->fd); /* read-only: nothing to lose */
	if (reader->mem != NULL) {
		sodium_memzero(reader->mem, reader->mem_len); /* in clear when unencrypted */
		free(reader->mem);
	}
	sodium_memzero(reader, sizeof(*reader));
	free(reader);
	*reader_p = NULL;
}
