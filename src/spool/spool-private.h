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

#include "spool/spool.h"

#include <limits.h>
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

struct pp_spool {
	char dir[PATH_MAX];
	char tmp_dir[PATH_MAX];
	bool is_encrypted; /* new files are encrypted */
	uint8_t key[SPOOL_KEY_BYTES];
	uint64_t max_file_bytes;
};

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

#endif
