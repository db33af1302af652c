/*
 * spool.h - the encrypted document store: one file per 128-bit random id, written as a
 * stream, encrypted and authenticated at rest, published atomically.
 *
 * Writing: spool_writer_write() seals records in memory until the document passes the
 * spool's inline limit, then in a temp file in <dir>/tmp, in ~1 MiB batches (past 2 MiB an
 * I/O thread writes one batch while the caller seals the next: at most three batches per
 * writer). spool_writer_finish() seals the last chunk, renames to <dir>/<2 hex>/<id> and makes
 * it durable (one syncfs() shared by concurrent writers). Only then may the caller insert the
 * database row that names the id. Deleting goes the other way: row first, then
 * spool_delete(). A crash between the two leaves an orphan file, never a row without a file;
 * spool_sweep() at start removes orphans and temp files.
 *
 * Small documents: spool_writer_finish_small() hands a document that stayed under the inline
 * limit back as its sealed bytes (exactly what the file would hold) and writes no file. The
 * caller stores them in the same database transaction as the row naming the id, so storing a
 * small document costs one flush (the commit) instead of two. Readers find such a document
 * through the inline source (spool_set_inline_source()) when no file has the id.
 *
 * Reading never hands out a byte that was not authenticated: a tampered, truncated,
 * renamed or wrongly keyed file fails with an error.
 */
#ifndef PP_SPOOL_H
#define PP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_ID_LEN 32 /* hex characters of a file id */
#define SPOOL_KEY_BYTES 32
#define SPOOL_TOO_LARGE (-2) /* spool_writer_write(): the document passed the size limit */
#define SPOOL_INLINE_DEFAULT (256 * 1024) /* spool_open()'s inline limit, in sealed bytes */

typedef struct pp_spool pp_spool_t;
typedef struct pp_spool_writer pp_spool_writer_t;
typedef struct pp_spool_reader pp_spool_reader_t;

/*
 * Opens the spool in dir (made 0700 with dir/tmp when missing). key: SPOOL_KEY_BYTES (copied),
 * needed to read encrypted files even when encrypt_new is off (the admin may turn encryption
 * off while encrypted files remain). encrypt_new: encrypt files written from now on.
 * max_file_bytes: the largest document. Returns 0 and *spool_r (new; free with
 * spool_close()), or -1 with error.
 */
int spool_open(const char *dir, const uint8_t key[SPOOL_KEY_BYTES], bool encrypt_new,
	       uint64_t max_file_bytes, pp_spool_t **spool_r, char *error, size_t error_size);

/* Wipes the key and frees. NULL-safe; sets *spool to NULL. */
void spool_close(pp_spool_t **spool);

/*
 * Documents kept in the database may be up to max_bytes sealed bytes (SPOOL_INLINE_DEFAULT
 * after spool_open()); 0 keeps none: every document is a file from its first byte.
 */
void spool_set_inline_max(pp_spool_t *spool, size_t max_bytes);

/*
 * Fetches the sealed bytes of a document kept in the database. Returns 1 with *sealed_r (new;
 * free with free()) and *len_r, 0 when the database holds no such document, or -1 with error.
 */
typedef int (*pp_spool_inline_fetch_fn)(void *ctx, const char *file_id, uint8_t **sealed_r,
					size_t *len_r, char *error, size_t error_size);

/*
 * Where spool_reader_open() looks for an id that has no file. Set once, before readers run;
 * ctx is borrowed and must outlive the spool.
 */
void spool_set_inline_source(pp_spool_t *spool, pp_spool_inline_fetch_fn fetch, void *ctx);

/* A finished document: a published file, or (sealed != NULL) bytes for the database. */
typedef struct {
	char file_id[SPOOL_ID_LEN + 1];
	uint64_t size;    /* plain bytes */
	uint8_t *sealed;  /* owned: the whole sealed document, kept for the database; or NULL */
	size_t sealed_len;
} pp_spool_doc_t;

/* Wipes and frees doc->sealed. NULL-safe. The file (if any) stays. */
void spool_doc_release(pp_spool_doc_t *doc);

/* Starts a new file. Returns 0 and *writer_r (new; finish or abort it), or -1 with error. */
int spool_writer_open(pp_spool_t *spool, pp_spool_writer_t **writer_r, char *error,
		      size_t error_size);

/*
 * Appends len bytes. Returns 0, SPOOL_TOO_LARGE past the size limit (error says the limit),
 * or -1 with error. After a failure the writer can only be aborted.
 */
int spool_writer_write(pp_spool_writer_t *writer, const void *data, size_t len, char *error,
		       size_t error_size);

/*
 * Seals and publishes the file: fills file_id_r[SPOOL_ID_LEN + 1] and *size_r (plain bytes).
 * Frees *writer either way (a failed finish removes the temp file). Returns 0 or -1.
 */
int spool_writer_finish(pp_spool_writer_t **writer, char file_id_r[SPOOL_ID_LEN + 1],
			uint64_t *size_r, char *error, size_t error_size);

/*
 * Like spool_writer_finish(), except that a document whose sealed form fits the inline limit is
 * not published: doc_r->sealed gets its bytes (new; spool_doc_release()) and the caller must
 * store them under doc_r->file_id in the transaction that records the id (see the file
 * comment). Larger documents are published as files (doc_r->sealed NULL). Frees *writer
 * either way. Returns 0 or -1.
 */
int spool_writer_finish_small(pp_spool_writer_t **writer, pp_spool_doc_t *doc_r, char *error,
			      size_t error_size);

/* Removes the temp file and frees. NULL-safe; sets *writer to NULL. */
void spool_writer_abort(pp_spool_writer_t **writer);

/*
 * Opens file_id for reading: its file, or else the document kept in the database (inline
 * source). Ids that are not exactly SPOOL_ID_LEN lower-case hex digits are refused. Returns 0 and *reader_r (new; close with spool_reader_close()), or -1 with error.
 */
int spool_reader_open(pp_spool_t *spool, const char *file_id, pp_spool_reader_t **reader_r,
		      char *error, size_t error_size);

/*
 * Reads up to len (>= 1) plain bytes. Returns the count (> 0), 0 at the verified end, or -1
 * with error (tampered, truncated, wrong key, I/O).
 */
ssize_t spool_reader_read(pp_spool_reader_t *reader, void *buf, size_t len, char *error,
			  size_t error_size);

/* Closes and frees. NULL-safe; sets *reader to NULL. */
void spool_reader_close(pp_spool_reader_t **reader);

/* Removes file_id and fsyncs its directory; a missing file is success. Returns 0 or -1. */
int spool_delete(pp_spool_t *spool, const char *file_id, char *error, size_t error_size);

/*
 * Asks whether the database names file_id. Returns 0 with *is_referenced_r set, or -1 when it
 * cannot tell (the database is down): the sweep then stops and removes nothing more.
 */
typedef int (*pp_spool_is_referenced_fn)(const char *file_id, void *ctx, bool *is_referenced_r);

/*
 * Removes temp files and files that is_referenced says nobody names, when older than
 * min_age_s (so a host sharing the spool does not remove a file another host has just
 * published but not yet committed). *removed_r counts removals. Returns 0 or -1.
 */
int spool_sweep(pp_spool_t *spool, pp_spool_is_referenced_fn is_referenced, void *ctx,
		unsigned min_age_s, unsigned *removed_r, char *error, size_t error_size);

#endif
