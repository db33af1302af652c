/* fsutil.c - checked file system helpers; see fsutil.h. */
#include "lib/fsutil.h"

#include "lib/crypto.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdir_p(const char *path, mode_t mode, char *error, size_t error_size)
{
	char buf[PATH_MAX];
	if (!str_copy(buf, sizeof(buf), path)) {
		(void)str_format(error, error_size, "path too long: %.64s…", path);
		return -1;
	}
	/* Walk the components left to right so each parent exists before its child. */
	for (char *p = buf + 1;; p++) {
		bool at_end = (*p == '\0');
		if (*p != '/' && !at_end)
			continue;
		char saved = *p;
		*p = '\0';
		if (buf[0] != '\0' && mkdir(buf, mode) < 0 && errno != EEXIST) {
			(void)str_format(error, error_size, "mkdir(%s) failed: %s", buf,
					 strerror(errno));
			return -1;
		}
		*p = saved;
		if (at_end)
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		(void)str_format(error, error_size, "%s is not a directory", path);
		return -1;
	}
	return 0;
}

int fs_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_fsync_dir(const char *dir, char *error, size_t error_size)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		(void)str_format(error, error_size, "open(%s) failed: %s", dir, strerror(errno));
		return -1;
	}
	int ret = 0;
	if (fsync(fd) < 0) {
		(void)str_format(error, error_size, "fsync(%s) failed: %s", dir, strerror(errno));
		ret = -1;
	}
	if (close(fd) < 0 && ret == 0) {
		(void)str_format(error, error_size, "close(%s) failed: %s", dir, strerror(errno));
		ret = -1;
	}
	return ret;
}

/* Copies the directory part of path into dir ("." when there is none). */
static bool fs_dirname(const char *path, char *dir, size_t dir_size)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return str_copy(dir, dir_size, ".");
	if (slash == path)
		return str_copy(dir, dir_size, "/");
	size_t len = (size_t)(slash - path);
	if (len >= dir_size)
		return false;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return true;
}

int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 char *error, size_t error_size)
{
	char dir[PATH_MAX], tmp[PATH_MAX], suffix[CRYPTO_ID_HEX_LEN + 1];
	crypto_random_id(suffix);
	if (!fs_dirname(path, dir, sizeof(dir)) ||
	    !str_format(tmp, sizeof(tmp), "%s.tmp.%s", path, suffix)) {
		(void)str_format(error, error_size, "path too long: %.64s…", path);
		return -1;
	}
	if (fs_mkdir_p(dir, 0700, error, error_size) < 0)
		return -1;

	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		(void)str_format(error, error_size, "open(%s) failed: %s", tmp, strerror(errno));
		return -1;
	}
	const char *step = NULL;
	if (fchmod(fd, mode) < 0)
		step = "fchmod";
	else if (fs_write_full(fd, data, len) < 0)
		step = "write";
	else if (fsync(fd) < 0)
		step = "fsync";
	int saved_errno = errno;
	if (close(fd) < 0 && step == NULL) {
		step = "close";
		saved_errno = errno;
	}
	if (step == NULL && rename(tmp, path) < 0) {
		step = "rename";
		saved_errno = errno;
	}
	if (step != NULL) {
		(void)unlink(tmp); /* Best effort: the failure reported below is the real one. */
		(void)str_format(error, error_size, "%s(%s) failed: %s", step, tmp,
				 strerror(saved_errno));
		return -1;
	}
	return fs_fsync_dir(dir, error, error_size);
}

int fs_read_file(const char *path, size_t max_bytes, char **data_r, size_t *len_r, char *error,
		 size_t error_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		(void)str_format(error, error_size, "open(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		(void)str_format(error, error_size, "fstat(%s) failed: %s", path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max_bytes) {
		(void)str_format(error, error_size, "%s is larger than %zu bytes", path, max_bytes);
		(void)close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	char *data = malloc(len + 1);
	if (data == NULL) {
		(void)str_format(error, error_size, "out of memory reading %s", path);
		(void)close(fd);
		return -1;
	}
	if (len > 0 && fs_read_full(fd, data, len) < 0) {
		(void)str_format(error, error_size, "read(%s) failed: %s", path, strerror(errno));
		free(data);
		(void)close(fd);
		return -1;
	}
	(void)close(fd); /* Read-only descriptor: nothing to lose on close. */
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	return 0;
}
