/*
 * spool-writer.c - streaming a document into the spool: one chunk buffer, records sealed as
 * they fill, published atomically at the end. A document starts in memory and moves to a temp
 * file once its sealed form passes the spool's inline limit (spool-pipe.c then takes the
 * records: large batches, an I/O thread for large documents); a small one may be handed back
 * for the database instead (spool_writer_finish_small). See spool-private.h for the format.
 */
#include "spool/spool-private.h"

#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_MEM_START 4096 /* first size of the in-memory buffer */

struct pp_spool_writer {
	pp_spool_t *spool; /* borrowed */
	char id[SPOOL_ID_LEN + 1];
	char tmp_path[PATH_MAX];
	int fd; /* the temp file; -1 while the document is in memory */
	uint8_t *mem; /* sealed bytes (header on) while fd < 0; owned */
	size_t mem_len, mem_cap;
	uint8_t header[SPOOL_HEADER_LEN];
	crypto_secretstream_xchacha20poly1305_state state;
	uint8_t chunk[SPOOL_CHUNK]; /* plain bytes not yet sealed */
	size_t chunk_len;
	uint64_t records;     /* sealed so far */
	uint64_t total_bytes; /* plain bytes accepted */
	pp_spool_pipe_t pipe; /* batches on their way to fd; valid when has_pipe */
	bool has_pipe;
	bool has_file; /* the temp file was made: an abort removes it */
	bool is_failed;
};

static int spool_writer_fail(pp_spool_writer_t *writer, char *error, size_t error_size,
                             const char *call)
{
	writer->is_failed = true;
	(void)str_format(error, error_size, "%s(%s) failed: %s%s", call, writer->tmp_path,
	                 strerror(errno),
	                 errno == ENOSPC ? " — free space or lower the retention" : "");
	return -1;
}

/* Wipes and frees the in-memory bytes. */
static void spool_writer_drop_mem(pp_spool_writer_t *writer)
{
	spool_bytes_free(&writer->mem, writer->mem_len);
	writer->mem_len = writer->mem_cap = 0;
}

/*
 * The document outgrew memory (or is to be published): creates the temp file, writes what
 * was sealed so far and hands the rest to the pipe. Returns 0 or -1 with error.
 */
static int spool_writer_spill(pp_spool_writer_t *writer, char *error, size_t error_size)
{
	writer->fd =
	    open(writer->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (writer->fd < 0)
		return spool_writer_fail(writer, error, error_size, "open");
	writer->has_file = true;
	fault_point("spool.after_create");
	if (fs_write_full(writer->fd, writer->mem, writer->mem_len) < 0)
		return spool_writer_fail(writer, error, error_size, "write");
	if (spool_pipe_init(&writer->pipe, writer->fd, writer->mem_len) < 0) {
		writer->is_failed = true;
		(void)str_format(error, error_size, "spool: out of memory");
		return -1;
	}
	writer->has_pipe = true;
	spool_writer_drop_mem(writer);
	return 0;
}

/* Makes the in-memory buffer hold at least need bytes. Returns 0 or -1 (out of memory). */
static int spool_writer_grow(pp_spool_writer_t *writer, size_t need)
{
	if (need <= writer->mem_cap)
		return 0;
	size_t cap = writer->mem_cap > 0 ? writer->mem_cap : SPOOL_MEM_START;
	while (cap < need)
		cap *= 2;
	/* Not realloc(): the old bytes must be wiped, not left in freed memory. */
	uint8_t *mem = malloc(cap);
	if (mem == NULL)
		return -1;
	if (writer->mem != NULL)
		memcpy(mem, writer->mem, writer->mem_len);
	size_t len = writer->mem_len;
	spool_writer_drop_mem(writer);
	writer->mem = mem;
	writer->mem_len = len;
	writer->mem_cap = cap;
	return 0;
}

/*
 * Room for the next record of len plain bytes: in memory while the sealed document stays
 * within the inline limit, else in the file's pipe (spilling first). Borrowed; NULL with
 * error on failure.
 */
static uint8_t *spool_writer_reserve(pp_spool_writer_t *writer, size_t len, char *error,
                                     size_t error_size)
{
	if (writer->fd < 0) {
		size_t overhead = writer->spool->is_encrypted
		                      ? crypto_secretstream_xchacha20poly1305_ABYTES
		                      : 1 + SPOOL_PLAIN_HASH_LEN;
		size_t need = writer->mem_len + 4 + len + overhead;
		if (need <= writer->spool->inline_max) {
			if (spool_writer_grow(writer, need) == 0)
				return writer->mem + writer->mem_len;
			writer->is_failed = true;
			(void)str_format(error, error_size, "spool: out of memory");
			return NULL;
		}
		if (spool_writer_spill(writer, error, error_size) < 0)
			return NULL;
	}
	const char *call = "write";
	uint8_t *record = spool_pipe_reserve(&writer->pipe, 4 + SPOOL_RECORD_MAX, &call);
	if (record == NULL)
		(void)spool_writer_fail(writer, error, error_size, call);
	return record;
}

/*
 * Seals data[len] (len <= SPOOL_CHUNK) as the next record, straight into the in-memory
 * buffer or the pipe's batch: it reaches the file when the batch fills, or at finish.
 */
static int spool_writer_seal(pp_spool_writer_t *writer, const uint8_t *data, size_t len,
                             bool is_final, char *error, size_t error_size)
{
	uint8_t *record = spool_writer_reserve(writer, len, error, error_size);
	if (record == NULL)
		return -1;
	uint8_t *payload = record + 4;
	size_t payload_len;
	if (writer->spool->is_encrypted) {
		uint8_t ad[SPOOL_AD_LEN];
		spool_additional_data(writer->header, writer->id, ad);
		unsigned long long out_len = 0;
		(void)crypto_secretstream_xchacha20poly1305_push(
		    &writer->state, payload, &out_len, data, len, ad, sizeof(ad),
		    is_final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		payload_len = (size_t)out_len;
	} else {
		uint8_t flags = is_final ? SPOOL_RECORD_FINAL : 0;
		payload[0] = flags;
		memcpy(payload + 1, data, len);
		spool_plain_hash(writer->spool, writer->header, writer->id, writer->records, flags,
		                 data, len, payload + 1 + len);
		payload_len = 1 + len + SPOOL_PLAIN_HASH_LEN;
	}
	record[0] = (uint8_t)(payload_len >> 24);
	record[1] = (uint8_t)(payload_len >> 16);
	record[2] = (uint8_t)(payload_len >> 8);
	record[3] = (uint8_t)payload_len;
	if (writer->fd < 0)
		writer->mem_len += 4 + payload_len;
	else
		spool_pipe_commit(&writer->pipe, 4 + payload_len);
	/* The first record is on its way to the file (a crash here leaves only a temp file). */
	if (writer->records == 0)
		fault_point("spool.after_first_chunk");
	writer->records++;
	return 0;
}

int spool_writer_open(pp_spool_t *spool, pp_spool_writer_t **writer_r, char *error,
                      size_t error_size)
{
	pp_spool_writer_t *writer = calloc(1, sizeof(*writer));
	if (writer == NULL) {
		(void)str_format(error, error_size, "spool: out of memory");
		return -1;
	}
	writer->spool = spool;
	writer->fd = -1;
	/* Time-ordered behind two random digits: the fan-out stays even and the database index
	 * of file ids grows at 256 places, not at a random one per document. */
	crypto_time_id(writer->id, 2);
	if (!str_format(writer->tmp_path, sizeof(writer->tmp_path), "%s/%s", spool->tmp_dir,
	                writer->id)) {
		(void)str_format(error, error_size, "spool: path too long");
		free(writer);
		return -1;
	}
	memcpy(writer->header, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	writer->header[SPOOL_MAGIC_LEN] = SPOOL_VERSION;
	writer->header[SPOOL_MAGIC_LEN + 1] = spool->is_encrypted ? SPOOL_FLAG_ENCRYPTED : 0;
	size_t prologue_len = SPOOL_HEADER_LEN + (spool->is_encrypted
	                      ? crypto_secretstream_xchacha20poly1305_HEADERBYTES : 0);
	if (spool_writer_grow(writer, prologue_len) < 0) {
		(void)str_format(error, error_size, "spool: out of memory");
		free(writer);
		return -1;
	}
	memcpy(writer->mem, writer->header, SPOOL_HEADER_LEN);
	if (spool->is_encrypted) {
		uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
		spool_file_key(spool, writer->id, key);
		(void)crypto_secretstream_xchacha20poly1305_init_push(
		    &writer->state, writer->mem + SPOOL_HEADER_LEN, key);
		sodium_memzero(key, sizeof(key));
	}
	writer->mem_len = prologue_len;
	/* Without documents in the database every document is a file from the start. */
	if (spool->inline_max == 0 && spool_writer_spill(writer, error, error_size) < 0) {
		spool_writer_abort(&writer);
		return -1;
	}
	*writer_r = writer;
	return 0;
}

int spool_writer_write(pp_spool_writer_t *writer, const void *data, size_t len, char *error,
                       size_t error_size)
{
	if (writer->is_failed) {
		(void)str_format(error, error_size, "spool: writer already failed");
		return -1;
	}
	/* A write that failed in the I/O thread is reported by the next call. */
	const char *call = NULL;
	if (writer->has_pipe && spool_pipe_check(&writer->pipe, &call) < 0)
		return spool_writer_fail(writer, error, error_size, call);
	if (len > writer->spool->max_file_bytes - writer->total_bytes) {
		writer->is_failed = true;
		(void)str_format(error, error_size,
		                 "document is larger than the limit of %llu bytes — send a smaller "
		                 "file, or raise [spool] max_document_bytes",
		                 (unsigned long long)writer->spool->max_file_bytes);
		return SPOOL_TOO_LARGE;
	}
	const uint8_t *p = data;
	while (len > 0) {
		/* Seal a full chunk only when more data follows: the last one is tagged final. */
		if (writer->chunk_len == SPOOL_CHUNK) {
			if (spool_writer_seal(writer, writer->chunk, SPOOL_CHUNK, false, error,
			                      error_size) < 0)
				return -1;
			writer->chunk_len = 0;
		}
		/* A whole chunk of the caller's data with more behind it: seal it in place. */
		if (writer->chunk_len == 0 && len > SPOOL_CHUNK) {
			if (spool_writer_seal(writer, p, SPOOL_CHUNK, false, error, error_size) < 0)
				return -1;
			writer->total_bytes += SPOOL_CHUNK;
			p += SPOOL_CHUNK;
			len -= SPOOL_CHUNK;
			continue;
		}
		size_t take = SPOOL_CHUNK - writer->chunk_len;
		if (take > len)
			take = len;
		memcpy(writer->chunk + writer->chunk_len, p, take);
		writer->chunk_len += take;
		writer->total_bytes += take;
		p += take;
		len -= take;
	}
	return 0;
}

/* Seals the last (perhaps empty) chunk, tagged final. Returns 0 or -1 with error. */
static int spool_writer_seal_last(pp_spool_writer_t *writer, char *error, size_t error_size)
{
	if (writer->is_failed) {
		(void)str_format(error, error_size, "spool: writer already failed");
		return -1;
	}
	return spool_writer_seal(writer, writer->chunk, writer->chunk_len, true, error,
	                         error_size);
}

/* Publishes the sealed document as its file (see the comment inside). Returns 0 or -1. */
static int spool_writer_publish(pp_spool_writer_t *writer, char *error, size_t error_size)
{
	char path[PATH_MAX], fanout[PATH_MAX];
	if (!spool_file_path(writer->spool, writer->id, path, sizeof(path)) ||
	    !spool_fanout_dir(writer->spool, writer->id, fanout, sizeof(fanout))) {
		(void)str_format(error, error_size, "spool: path too long");
		return -1;
	}
	if (writer->fd < 0 && spool_writer_spill(writer, error, error_size) < 0)
		return -1;
	const char *call = "write";
	if (spool_pipe_drain(&writer->pipe, &call) < 0)
		return spool_writer_fail(writer, error, error_size, call);

	/*
	 * Publish, then make durable with the writers finishing alongside (spool-sync.c): one
	 * syncfs() covers the data and the name of every file of the group. The caller records
	 * the id only after this returns, and a file no row names is swept at start, so a crash
	 * before the sync loses nothing that was acknowledged.
	 */
	fault_point("spool.before_fsync");
	int fd = writer->fd;
	writer->fd = -1;
	if (close(fd) < 0)
		return spool_writer_fail(writer, error, error_size, "close");
	/* spool_open() made every fan-out directory; one removed since is made again. */
	int renamed = rename(writer->tmp_path, path);
	if (renamed < 0 && errno == ENOENT) {
		if (mkdir(fanout, 0700) < 0 && errno != EEXIST) {
			(void)str_format(error, error_size, "mkdir(%s) failed: %s", fanout,
			                 strerror(errno));
			return -1;
		}
		renamed = rename(writer->tmp_path, path);
	}
	if (renamed < 0) {
		(void)str_format(error, error_size, "rename(%s, %s) failed: %s", writer->tmp_path,
		                 path, strerror(errno));
		return -1;
	}
	fault_point("spool.after_rename");
	int sync_errno = 0;
	if (spool_sync_wait(writer->spool, &sync_errno) < 0) {
		(void)str_format(error, error_size, "syncfs(%s) failed: %s%s", writer->spool->dir,
		                 strerror(sync_errno),
		                 sync_errno == ENOSPC ? " — free space or lower the retention" : "");
		/* Published but perhaps not durable: undo so the caller does not record it. */
		(void)unlink(path);
		return -1;
	}
	fault_point("spool.after_fsync");
	fault_point("spool.after_dir_fsync");
	return 0;
}

/* Frees a writer whose document is published or handed on. */
static void spool_writer_free(pp_spool_writer_t **writer_p)
{
	pp_spool_writer_t *writer = *writer_p;
	if (writer->has_pipe)
		spool_pipe_stop(&writer->pipe);
	spool_writer_drop_mem(writer);
	sodium_memzero(writer, sizeof(*writer));
	free(writer);
	*writer_p = NULL;
}

int spool_writer_finish(pp_spool_writer_t **writer_p, char file_id_r[SPOOL_ID_LEN + 1],
                        uint64_t *size_r, char *error, size_t error_size)
{
	pp_spool_writer_t *writer = *writer_p;
	if (spool_writer_seal_last(writer, error, error_size) < 0 ||
	    spool_writer_publish(writer, error, error_size) < 0) {
		spool_writer_abort(writer_p);
		return -1;
	}
	memcpy(file_id_r, writer->id, SPOOL_ID_LEN + 1);
	*size_r = writer->total_bytes;
	spool_writer_free(writer_p);
	return 0;
}

int spool_writer_finish_small(pp_spool_writer_t **writer_p, pp_spool_doc_t *doc_r, char *error,
                              size_t error_size)
{
	pp_spool_writer_t *writer = *writer_p;
	memset(doc_r, 0, sizeof(*doc_r));
	if (spool_writer_seal_last(writer, error, error_size) < 0) {
		spool_writer_abort(writer_p);
		return -1;
	}
	if (writer->fd < 0) {
		/* Small: the caller's transaction makes it durable with its row. */
		doc_r->sealed = writer->mem;
		doc_r->sealed_len = writer->mem_len;
		writer->mem = NULL;
		writer->mem_len = writer->mem_cap = 0;
	} else if (spool_writer_publish(writer, error, error_size) < 0) {
		spool_writer_abort(writer_p);
		return -1;
	}
	memcpy(doc_r->file_id, writer->id, SPOOL_ID_LEN + 1);
	doc_r->size = writer->total_bytes;
	spool_writer_free(writer_p);
	return 0;
}

void spool_writer_abort(pp_spool_writer_t **writer_p)
{
	pp_spool_writer_t *writer = *writer_p;
	if (writer == NULL)
		return;
	/* The I/O thread stops before the file it writes goes. */
	if (writer->has_pipe)
		spool_pipe_stop(&writer->pipe);
	if (writer->fd >= 0)
		(void)close(writer->fd); /* the file is being thrown away */
	if (writer->has_file)
		(void)unlink(writer->tmp_path); /* best effort: the sweep removes leftovers */
	spool_writer_drop_mem(writer);
	sodium_memzero(writer, sizeof(*writer));
	free(writer);
	*writer_p = NULL;
}
