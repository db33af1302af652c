/*
 * fsutil.h - file system helpers that check every call: directories made 0700, whole reads
 * and writes that survive short transfers and EINTR, and atomic file replacement
 * (temp file, fsync, rename, fsync of the directory).
 */
#ifndef PP_FSUTIL_H
#define PP_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Creates path and its missing parents with mode. An existing directory is success. */
int fs_mkdir_p(const char *path, mode_t mode, char *error, size_t error_size);

/* Writes all len bytes to fd, retrying short writes and EINTR. Returns 0 or -1 (errno set). */
int fs_write_full(int fd, const void *buf, size_t len);

/* Reads exactly len bytes from fd. Returns 0, or -1 on error or early end (errno EIO). */
int fs_read_full(int fd, void *buf, size_t len);

/* fsyncs the directory that holds path (or path itself when it is a directory). */
int fs_fsync_dir(const char *dir, char *error, size_t error_size);

/*
 * Replaces path with data atomically: writes path.tmp.<random> with mode, fsyncs it, renames
 * it over path and fsyncs the directory. Returns 0 or -1 with error filled.
 */
int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 char *error, size_t error_size);

/*
 * Reads the whole file at path into a new NUL-terminated buffer *data_r (free with free()),
 * refusing files larger than max_bytes. Returns 0 or -1 with error filled.
 */
int fs_read_file(const char *path, size_t max_bytes, char **data_r, size_t *len_r, char *error,
		 size_t error_size);

#endif
