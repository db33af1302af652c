/*
 * sandbox-tmpdir.c - the private directory a sandboxed child works in, and its removal.
 *
 * The child may have left anything there: symlinks to /etc, directories without permissions,
 * deep trees. Removal therefore walks by descriptor (openat/fstatat/unlinkat with
 * O_NOFOLLOW and AT_SYMLINK_NOFOLLOW): a symlink is unlinked, never followed, so nothing
 * outside the directory can be touched. The caller kills the child's group before wiping, so
 * nothing changes the tree underneath the walk.
 */
#include "sandbox-private.h"

#include "lib/fsutil.h"
#include "lib/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees are refused rather than walked with one descriptor per level. */
#define SANDBOX_WIPE_MAX_DEPTH 64

int sandbox_tmpdir_make(const char *base, const pp_sandbox_limits_t *limits, char *path_r,
                        size_t path_size, char *error, size_t error_size)
{
	if (fs_mkdir_p(base, 0700, error, error_size) < 0)
		return -1;
	char template[PATH_MAX];
	if (!str_format(template, sizeof(template), "%s/convert-XXXXXX", base)) {
		(void)str_format(error, error_size, "temporary directory path too long under %s",
		                 base);
		return -1;
	}
	if (mkdtemp(template) == NULL) {
		(void)str_format(error, error_size, "mkdtemp(%s) failed: %s", template,
		                 strerror(errno));
		return -1;
	}
	if (!str_copy(path_r, path_size, template)) {
		(void)str_format(error, error_size, "temporary directory path too long: %s",
		                 template);
		(void)rmdir(template);
		return -1;
	}
	if (limits == NULL || !limits->switch_user || geteuid() != 0)
		return 0;
	/* Owned by the converter user, so the child can write there after the switch. */
	int fd = open(template, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, limits->uid, limits->gid) < 0) {
		(void)str_format(error, error_size, "chown(%s, %u) failed: %s", template,
		                 (unsigned)limits->uid, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		(void)rmdir(template);
		path_r[0] = '\0';
		return -1;
	}
	(void)close(fd);
	return 0;
}

static int wipe_dir_fd(int dir_fd, const char *path, unsigned depth, char *error,
                       size_t error_size);

/* Opens the subdirectory name of dir_fd without following a symlink; a directory its owner
 * made unreadable is made readable first (we own it, or are root). */
static int wipe_open_subdir(int dir_fd, const char *name)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dir_fd, name, flags);
	if (fd < 0 && errno == EACCES) {
		/* fstatat with AT_SYMLINK_NOFOLLOW said this is a directory, not a link. */
		if (fchmodat(dir_fd, name, 0700, 0) < 0)
			return -1;
		fd = openat(dir_fd, name, flags);
	}
	return fd;
}

/* Removes one entry of dir_fd: files and symlinks are unlinked, directories emptied first. */
static int wipe_entry(int dir_fd, const char *path, const char *name, unsigned depth, char *error,
                      size_t error_size)
{
	struct stat st;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		(void)str_format(error, error_size, "stat(%s/%s) failed: %s", path, name,
		                 strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		int sub = wipe_open_subdir(dir_fd, name);
		if (sub < 0) {
			(void)str_format(error, error_size, "open(%s/%s) failed: %s", path, name,
			                 strerror(errno));
			return -1;
		}
		int rc = wipe_dir_fd(sub, path, depth + 1, error, error_size);
		if (rc < 0)
			return -1;
	}
	if (unlinkat(dir_fd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT) {
		(void)str_format(error, error_size, "unlink(%s/%s) failed: %s", path, name,
		                 strerror(errno));
		return -1;
	}
	return 0;
}

/* Empties the directory open at dir_fd and closes dir_fd. path is for messages only. */
static int wipe_dir_fd(int dir_fd, const char *path, unsigned depth, char *error, size_t error_size)
{
	if (depth > SANDBOX_WIPE_MAX_DEPTH) {
		(void)str_format(error, error_size,
		                 "%s is nested more than %d directories deep: remove it by hand",
		                 path, SANDBOX_WIPE_MAX_DEPTH);
		(void)close(dir_fd);
		return -1;
	}
	/* fdopendir takes its own descriptor, so entries stay reachable through dir_fd. */
	int list_fd = dup(dir_fd);
	DIR *dir = list_fd < 0 ? NULL : fdopendir(list_fd);
	if (dir == NULL) {
		(void)str_format(error, error_size, "opendir(%s) failed: %s", path,
		                 strerror(errno));
		if (list_fd >= 0)
			(void)close(list_fd);
		(void)close(dir_fd);
		return -1;
	}
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *entry = readdir(dir);
		if (entry == NULL) {
			if (errno != 0) {
				(void)str_format(error, error_size, "readdir(%s) failed: %s", path,
				                 strerror(errno));
				rc = -1;
			}
			break;
		}
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (wipe_entry(dir_fd, path, entry->d_name, depth, error, error_size) < 0) {
			rc = -1;
			break;
		}
	}
	(void)closedir(dir);
	(void)close(dir_fd);
	return rc;
}

int sandbox_tmpdir_wipe(const char *dir, char *error, size_t error_size)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;
		if (saved == ENOENT)
			return 0;
		(void)str_format(error, error_size, "open(%s) failed: %s%s", dir, strerror(saved),
		                 saved == ELOOP || saved == ENOTDIR
		                     ? " (not a directory: refusing to follow it)"
		                     : "");
		return -1;
	}
	if (wipe_dir_fd(fd, dir, 0, error, error_size) < 0)
		return -1;
	if (rmdir(dir) < 0) {
		(void)str_format(error, error_size, "rmdir(%s) failed: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}
