/*
 * spool.c - opening the spool, paths and keys of its files, deleting, and the sweep that
 * removes what a crash left behind. The writer and reader live in their own files.
 */
#include "spool/spool-private.h"

#include "lib/fault.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool spool_id_is_valid(const char *id)
{
	size_t i = 0;
	for (; id[i] != '\0'; i++) {
		bool is_hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
		if (!is_hex || i >= SPOOL_ID_LEN)
			return false;
	}
	return i == SPOOL_ID_LEN;
}

bool spool_fanout_dir(const pp_spool_t *spool, const char *id, char *path, size_t size)
{
	return str_format(path, size, "%s/%.2s", spool->dir, id);
}

bool spool_file_path(const pp_spool_t *spool, const char *id, char *path, size_t size)
{
	return str_format(path, size, "%s/%.2s/%s", spool->dir, id, id);
}

void spool_file_key(const pp_spool_t *spool, const char *id,
                    uint8_t key_r[crypto_secretstream_xchacha20poly1305_KEYBYTES])
{
	(void)crypto_generichash(key_r, crypto_secretstream_xchacha20poly1305_KEYBYTES,
	                         (const uint8_t *)id, SPOOL_ID_LEN, spool->key, SPOOL_KEY_BYTES);
}

void spool_additional_data(const uint8_t header[SPOOL_HEADER_LEN], const char *id,
                           uint8_t ad_r[SPOOL_AD_LEN])
{
	memcpy(ad_r, header, SPOOL_HEADER_LEN);
	memcpy(ad_r + SPOOL_HEADER_LEN, id, SPOOL_ID_LEN);
}

void spool_plain_hash(const pp_spool_t *spool, const uint8_t header[SPOOL_HEADER_LEN],
                      const char *id, uint64_t index, uint8_t flags, const uint8_t *data,
                      size_t len, uint8_t hash_r[SPOOL_PLAIN_HASH_LEN])
{
	/* The label keeps these inputs apart from the per-file key derivation (id alone). */
	static const char label[] = "pullprint plain record";
	crypto_generichash_state state;
	uint8_t prefix[9];
	for (int i = 0; i < 8; i++)
		prefix[i] = (uint8_t)(index >> (56 - 8 * i));
	prefix[8] = flags;
	(void)crypto_generichash_init(&state, spool->key, SPOOL_KEY_BYTES, SPOOL_PLAIN_HASH_LEN);
	(void)crypto_generichash_update(&state, (const uint8_t *)label, sizeof(label));
	(void)crypto_generichash_update(&state, (const uint8_t *)id, SPOOL_ID_LEN);
	(void)crypto_generichash_update(&state, header, SPOOL_HEADER_LEN);
	(void)crypto_generichash_update(&state, prefix, sizeof(prefix));
	(void)crypto_generichash_update(&state, data, len);
	(void)crypto_generichash_final(&state, hash_r, SPOOL_PLAIN_HASH_LEN);
}

/*
 * Makes the 256 fan-out directories that are missing, then syncs the spool directory once, so
 * that storing a document never pays for a mkdir and a second directory sync.
 */
static int spool_make_fanout(const pp_spool_t *spool, char *error, size_t error_size)
{
	/* They are made in order, so the last one standing means all were (a command line run
	   opens the spool too and should not pay 256 system calls each time). */
	char last[PATH_MAX];
	struct stat st;
	if (str_format(last, sizeof(last), "%s/ff", spool->dir) && stat(last, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;
	bool is_new = false;
	for (unsigned i = 0; i < 256; i++) {
		char path[PATH_MAX];
		if (!str_format(path, sizeof(path), "%s/%02x", spool->dir, i)) {
			(void)str_format(error, error_size, "spool: directory path too long");
			return -1;
		}
		if (mkdir(path, 0700) == 0) {
			is_new = true;
		} else if (errno != EEXIST) {
			(void)str_format(error, error_size, "mkdir(%s) failed: %s", path, strerror(errno));
			return -1;
		}
	}
	return is_new ? fs_fsync_dir(spool->dir, error, error_size) : 0;
}

int spool_open(const char *dir, const uint8_t key[SPOOL_KEY_BYTES], bool encrypt_new,
               uint64_t max_file_bytes, pp_spool_t **spool_r, char *error, size_t error_size)
{
	if (sodium_init() < 0) {
		(void)str_format(error, error_size, "spool: libsodium failed to start");
		return -1;
	}
	pp_spool_t *spool = calloc(1, sizeof(*spool));
	if (spool == NULL) {
		(void)str_format(error, error_size, "spool: out of memory");
		return -1;
	}
	if (!str_copy(spool->dir, sizeof(spool->dir), dir) ||
	    !str_format(spool->tmp_dir, sizeof(spool->tmp_dir), "%s/tmp", dir)) {
		(void)str_format(error, error_size, "spool: directory path too long: %.64s…", dir);
		free(spool);
		return -1;
	}
	if (fs_mkdir_p(spool->tmp_dir, 0700, error, error_size) < 0 ||
	    spool_make_fanout(spool, error, error_size) < 0) {
		free(spool);
		return -1;
	}
	spool->dir_fd = open(spool->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (spool->dir_fd < 0) {
		(void)str_format(error, error_size, "open(%s) failed: %s", spool->dir,
		                 strerror(errno));
		free(spool);
		return -1;
	}
	int rc = spool_sync_init(spool);
	if (rc != 0) {
		(void)str_format(error, error_size, "spool: cannot set up group sync: %s",
		                 strerror(rc));
		(void)close(spool->dir_fd);
		free(spool);
		return -1;
	}
	spool->is_encrypted = encrypt_new;
	memcpy(spool->key, key, SPOOL_KEY_BYTES);
	spool->max_file_bytes = max_file_bytes;
	spool->inline_max = SPOOL_INLINE_DEFAULT;
	*spool_r = spool;
	return 0;
}

void spool_set_inline_max(pp_spool_t *spool, size_t max_bytes)
{
	spool->inline_max = max_bytes;
}

void spool_set_inline_source(pp_spool_t *spool, pp_spool_inline_fetch_fn fetch, void *ctx)
{
	spool->inline_fetch = fetch;
	spool->inline_ctx = ctx;
}

void spool_bytes_free(uint8_t **bytes, size_t len)
{
	if (bytes == NULL || *bytes == NULL)
		return;
	sodium_memzero(*bytes, len);
	free(*bytes);
	*bytes = NULL;
}

void spool_doc_release(pp_spool_doc_t *doc)
{
	if (doc == NULL)
		return;
	spool_bytes_free(&doc->sealed, doc->sealed_len);
	doc->sealed_len = 0;
}

void spool_close(pp_spool_t **spool)
{
	if (*spool == NULL)
		return;
	sodium_memzero((*spool)->key, sizeof((*spool)->key));
	spool_sync_destroy(*spool);
	if (close((*spool)->dir_fd) < 0)
		log_warn("spool.close_failed dir=%s error=\"%s\"", (*spool)->dir, strerror(errno));
	free(*spool);
	*spool = NULL;
}

int spool_delete(pp_spool_t *spool, const char *file_id, char *error, size_t error_size)
{
	char path[PATH_MAX], dir[PATH_MAX];
	if (!spool_id_is_valid(file_id)) {
		(void)str_format(error, error_size, "spool: invalid file id");
		return -1;
	}
	if (!spool_file_path(spool, file_id, path, sizeof(path)) ||
	    !spool_fanout_dir(spool, file_id, dir, sizeof(dir))) {
		(void)str_format(error, error_size, "spool: path too long");
		return -1;
	}
	fault_point("spool.delete.before_unlink");
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0; /* already gone: deleting is idempotent */
		(void)str_format(error, error_size, "unlink(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	fault_point("spool.delete.after_unlink");
	return fs_fsync_dir(dir, error, error_size);
}

/* True when name was last modified at least min_age_s ago; false if it cannot be stat'ed. */
static bool spool_is_old(int dir_fd, const char *name, unsigned min_age_s, time_t now)
{
	struct stat st;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	/* Without an age to respect, any file is old: a file's time stamp may be a little
	 * ahead of time(), which lags it by up to a clock tick. */
	if (min_age_s == 0)
		return true;
	return now - st.st_mtime >= (time_t)min_age_s;
}

/* Removes every old enough file in the temp directory. */
static int spool_sweep_tmp(pp_spool_t *spool, unsigned min_age_s, time_t now, unsigned *removed,
                           char *error, size_t error_size)
{
	DIR *d = opendir(spool->tmp_dir);
	if (d == NULL) {
		(void)str_format(error, error_size, "opendir(%s) failed: %s", spool->tmp_dir,
		                 strerror(errno));
		return -1;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || !spool_is_old(dirfd(d), e->d_name, min_age_s, now))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			(*removed)++;
		else
			log_warn("spool.sweep_failed file=tmp/%s error=\"%s\"", e->d_name,
			         strerror(errno));
	}
	(void)closedir(d);
	return 0;
}

/* Removes unreferenced files in one fan-out directory. */
static int spool_sweep_fanout(pp_spool_t *spool, const char *fanout,
                              pp_spool_is_referenced_fn is_referenced, void *ctx,
                              unsigned min_age_s, time_t now, unsigned *removed, char *error,
                              size_t error_size)
{
	char path[PATH_MAX];
	if (!str_format(path, sizeof(path), "%s/%s", spool->dir, fanout)) {
		(void)str_format(error, error_size, "spool: path too long");
		return -1;
	}
	DIR *d = opendir(path);
	if (d == NULL) {
		(void)str_format(error, error_size, "opendir(%s) failed: %s", path,
		                 strerror(errno));
		return -1;
	}
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		if (!spool_id_is_valid(e->d_name) || strncmp(e->d_name, fanout, 2) != 0) {
			log_warn("spool.stray_file file=%s/%s action=\"remove it by hand if it is "
			         "not yours\"",
			         fanout, e->d_name);
			continue;
		}
		if (!spool_is_old(dirfd(d), e->d_name, min_age_s, now))
			continue;
		bool is_named = true;
		if (is_referenced(e->d_name, ctx, &is_named) < 0) {
			(void)str_format(error, error_size,
			                 "spool sweep stopped: cannot ask the database about %s",
			                 e->d_name);
			rc = -1;
			break;
		}
		if (is_named)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			(*removed)++;
		else
			log_warn("spool.sweep_failed file=%s error=\"%s\"", e->d_name,
			         strerror(errno));
	}
	(void)closedir(d);
	return rc;
}

int spool_sweep(pp_spool_t *spool, pp_spool_is_referenced_fn is_referenced, void *ctx,
                unsigned min_age_s, unsigned *removed_r, char *error, size_t error_size)
{
	unsigned removed = 0;
	time_t now = time(NULL);
	int rc = spool_sweep_tmp(spool, min_age_s, now, &removed, error, error_size);

	DIR *d = rc == 0 ? opendir(spool->dir) : NULL;
	if (rc == 0 && d == NULL) {
		(void)str_format(error, error_size, "opendir(%s) failed: %s", spool->dir,
		                 strerror(errno));
		rc = -1;
	}
	for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
		bool is_fanout =
		    strlen(e->d_name) == 2 && strspn(e->d_name, "0123456789abcdef") == 2;
		if (!is_fanout)
			continue;
		rc = spool_sweep_fanout(spool, e->d_name, is_referenced, ctx, min_age_s, now,
		                        &removed, error, error_size);
	}
	if (d != NULL)
		(void)closedir(d);
	*removed_r = removed;
	return rc;
}
