/*
 * spool-private.h - the spool file format, shared by the writer and the reader.
 *
 * A file is a 16-byte header, then (encrypted files) the 24-byte secretstream header, then
 * records. A record is a 4-byte big-endian payload length and the payload:
 *
 *   encrypted: secretstream ciphertext of up to SPOOL_CHUNK plain bytes (+17 bytes), the
 *              last one tagged FINAL; additional data = the file header + the file id, so a
 *              flipped header bit or a file renamed to another id fails to decrypt.
 *   plain:     a flags byte (1 = final), the data, and a keyed BLAKE2b-256 MAC (under the
 *              spool key) of (a label, the file id, the header, the record index, flags,
 *              data). Without the key nobody can forge a plain file, so turning encryption
 *              off gives up confidentiality only, not integrity.
 *
 * Every record is checked before any of its bytes are handed out, and nothing may follow the
 * final record.
 */
#ifndef PP_SPOOL_PRIVATE_H
#define PP_SPOOL_PRIVATE_H

#include "lib/batch.h"
#include "spool/spool.h"

#include <limits.h>
#include <pthread.h>
#include <sodium.h>

#define SPOOL_MAGIC "PPSPOOL1"
#define SPOOL_MAGIC_LEN 8
#define SPOOL_HEADER_LEN 16
#define SPOOL_VERSION 1
#define SPOOL_FLAG_ENCRYPTED 0x01
#define SPOOL_CHUNK (64 * 1024)
#define SPOOL_PLAIN_HASH_LEN 32
#define SPOOL_RECORD_MAX (SPOOL_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES + \
			  1 + SPOOL_PLAIN_HASH_LEN)
#define SPOOL_RECORD_FINAL 0x01

#define SPOOL_SYNC_MAX 256 /* writers one syncfs() answers for */

struct pp_spool {
	char dir[PATH_MAX];
	int dir_fd; /* the spool directory, for syncfs() */
	pp_batch_t sync; /* writers waiting for a shared syncfs() (spool-sync.c) */
	char tmp_dir[PATH_MAX];
	bool is_encrypted; /* new files are encrypted */
	uint8_t key[SPOOL_KEY_BYTES];
	uint64_t max_file_bytes;
	size_t inline_max; /* sealed bytes a document kept in the database may have */
	pp_spool_inline_fetch_fn inline_fetch; /* NULL: no documents in the database */
	void *inline_ctx;                      /* borrowed */
};

/* Sets up and tears down spool->sync. init returns 0 or an errno value. */
int spool_sync_init(pp_spool_t *spool);
void spool_sync_destroy(pp_spool_t *spool);

/*
 * Makes every file written and renamed into the spool before this call durable, together
 * with the files of concurrent callers (one syncfs() for the group). Blocks until the group's
 * sync is over. Returns 0, or -1 with *errno_r set.
 */
int spool_sync_wait(pp_spool_t *spool, int *errno_r);

/* How many syncfs() calls spool_sync_wait() has made: a test sees writers share them. */
uint64_t spool_sync_count(pp_spool_t *spool);

/* True when id is exactly SPOOL_ID_LEN lower-case hex digits. */
bool spool_id_is_valid(const char *id);

/* Fills path with <dir>/<2 hex>/<id> (file) or <dir>/<2 hex> (fan-out directory). */
bool spool_file_path(const pp_spool_t *spool, const char *id, char *path, size_t size);
bool spool_fanout_dir(const pp_spool_t *spool, const char *id, char *path, size_t size);

/* The per-file secretstream key: keyed BLAKE2b of the id under the spool key. */
void spool_file_key(const pp_spool_t *spool, const char *id,
		    uint8_t key_r[crypto_secretstream_xchacha20poly1305_KEYBYTES]);

/* The additional data bound to every encrypted record: header + id. */
#define SPOOL_AD_LEN (SPOOL_HEADER_LEN + SPOOL_ID_LEN)
void spool_additional_data(const uint8_t header[SPOOL_HEADER_LEN], const char *id,
			   uint8_t ad_r[SPOOL_AD_LEN]);

/* The MAC of a plain record, keyed with the spool key. */
void spool_plain_hash(const pp_spool_t *spool, const uint8_t header[SPOOL_HEADER_LEN],
		      const char *id, uint64_t index, uint8_t flags, const uint8_t *data,
		      size_t len, uint8_t hash_r[SPOOL_PLAIN_HASH_LEN]);

/*
 * The writer's path to the file (spool-pipe.c). Records are sealed straight into a batch
 * buffer; a full batch goes out with one write(). Once a file passes SPOOL_PIPE_THREAD_AFTER
 * bytes, an I/O thread does the write() calls (and starts writeback every
 * SPOOL_WRITEBACK_BYTES) while the caller seals the next batch, so encryption overlaps the
 * kernel's copy. Memory: SPOOL_PIPE_BATCHES batches of SPOOL_PIPE_BATCH bytes per writer.
 */
#define SPOOL_PIPE_BATCH (16 * (4 + SPOOL_RECORD_MAX))
#define SPOOL_PIPE_BATCHES 3
#define SPOOL_PIPE_THREAD_AFTER ((uint64_t)2 << 20)
#define SPOOL_WRITEBACK_BYTES ((uint64_t)8 << 20)

typedef struct {
	int fd; /* borrowed */
	uint8_t *batch[SPOOL_PIPE_BATCHES]; /* owned; [0] from init, the others with the thread */
	size_t batch_len[SPOOL_PIPE_BATCHES];  /* bytes sealed into each, not yet written */
	size_t batch_used[SPOOL_PIPE_BATCHES]; /* the most each has held: wiped at the end */
	unsigned fill;            /* the batch the caller seals into */
	uint64_t submitted_bytes; /* handed on so far */
	bool has_thread;
	bool is_thread_off; /* the thread could not start: write in the caller */
	/* Owned by whoever writes: the caller, or the I/O thread while it runs. */
	uint64_t file_bytes;     /* written to the file */
	uint64_t writeback_from; /* file offset not yet handed to writeback */
	bool is_writeback_off;   /* the file system cannot start writeback early */
	/* Shared with the I/O thread, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	unsigned head;   /* the next batch the thread writes */
	unsigned queued; /* full batches handed to the thread, not yet written */
	bool is_stopping, is_aborting;
	const char *failed_call; /* "write" or "sync_file_range"; NULL while all went well */
	int failed_errno;
} pp_spool_pipe_t;

/*
 * Prepares pipe for fd, which already holds file_bytes bytes. Returns 0, or -1 when out of
 * memory. Undo with spool_pipe_stop().
 */
int spool_pipe_init(pp_spool_pipe_t *pipe, int fd, uint64_t file_bytes);

/*
 * Room for one record of up to len (<= 4 + SPOOL_RECORD_MAX) bytes, handing on the current
 * batch first when it is too full. Borrowed; valid until spool_pipe_commit(). Returns NULL
 * with errno and *call_r set when a write failed (now or earlier, in the thread).
 */
uint8_t *spool_pipe_reserve(pp_spool_pipe_t *pipe, size_t len, const char **call_r);

/* Adds the len bytes just placed at spool_pipe_reserve()'s pointer to the batch. */
void spool_pipe_commit(pp_spool_pipe_t *pipe, size_t len);

/* Returns 0, or -1 with errno and *call_r set when the I/O thread has failed. */
int spool_pipe_check(pp_spool_pipe_t *pipe, const char **call_r);

/*
 * Writes everything still buffered and stops the thread; afterwards the caller fsyncs.
 * Returns 0, or -1 with errno and *call_r set.
 */
int spool_pipe_drain(pp_spool_pipe_t *pipe, const char **call_r);

/* Stops the thread without writing what is left and frees the batches. Idempotent. */
void spool_pipe_stop(pp_spool_pipe_t *pipe);

/*
 * Wipes and frees a document's bytes held in memory (*bytes, len of them; with encryption
 * off they are the document in clear) and sets *bytes to NULL. NULL is a no-op.
 */
void spool_bytes_free(uint8_t **bytes, size_t len);

#endif
