/*
 * worker-files.c - moving bytes in and out of a job's temporary directory: the original in
 * (decrypted from the spool, or copied from an admin's file) as a file the sandbox user may
 * read; the results out (encrypted into the spool, or copied to an admin's directory).
 *
 * What comes out was written by a sandboxed child that parsed hostile bytes, so it is opened
 * without following links and must be a plain file with one link: a child cannot make the
 * worker read (and store) anything but what it wrote itself.
 */
#include "convert/worker/worker.h"

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WORKER_COPY_CHUNK (256 * 1024)

/* Builds dir/name into path_r[PATH_MAX]. Returns 0 or -1. */
static int worker_path(const char *dir, const char *name, char path_r[PATH_MAX], char *error,
		       size_t error_size)
{
	if (!str_format(path_r, PATH_MAX, "%s/%s", dir, name)) {
		(void)str_format(error, error_size, "path %s/%s is too long", dir, name);
		return -1;
	}
	return 0;
}

/* Opens a regular file for reading without following a link; *size_r its size. */
static int worker_open_regular(const char *path, bool is_from_child, int *fd_r, int64_t *size_r,
			       char *error, size_t error_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		(void)str_format(error, error_size, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		(void)str_format(error, error_size, "fstat(%s) failed: %s", path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (is_from_child && st.st_nlink != 1)) {
		(void)str_format(error, error_size, "%s is not a plain file", path);
		(void)close(fd);
		return -1;
	}
	*fd_r = fd;
	*size_r = (int64_t)st.st_size;
	return 0;
}

/* Creates dir/name for the sandbox: new (never an existing file or link), 0600, and owned by
 * the sandbox user when the worker switches to one. Returns the descriptor or -1. */
static int worker_create_input(const pp_worker_t *w, const char *path, char *error,
			       size_t error_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		(void)str_format(error, error_size, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (w->render_limits.switch_user &&
	    fchown(fd, w->render_limits.uid, w->render_limits.gid) < 0) {
		(void)str_format(error, error_size, "fchown(%s) failed: %s", path, strerror(errno));
		(void)close(fd);
		(void)unlink(path);
		return -1;
	}
	return fd;
}

/*
 * Copies everything from in (named in_name in messages) to out (out_name), in chunks of
 * WORKER_COPY_CHUNK. Closes neither. Returns 0 or -1 with error.
 */
static int worker_copy_fd(int in, const char *in_name, int out, const char *out_name,
			  char *error, size_t error_size)
{
	uint8_t *buf = malloc(WORKER_COPY_CHUNK);
	if (buf == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, buf, WORKER_COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			(void)str_format(error, error_size, "cannot read %s: %s", in_name,
					 strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (fs_write_full(out, buf, (size_t)n) < 0) {
			(void)str_format(error, error_size, "cannot write %s: %s", out_name,
					 strerror(errno));
			rc = -1;
			break;
		}
	}
	free(buf);
	return rc;
}

/* Closes fd after writing path; a failed close is a failed write (NFS, quotas). */
static int worker_close_written(int fd, const char *path, char *error, size_t error_size)
{
	if (close(fd) < 0) {
		(void)str_format(error, error_size, "close(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Opens dir/name, a file a sandboxed child wrote, for reading (regular file, no link
 * followed): fills path_r[PATH_MAX], *fd_r and *size_r. Returns 0 or -1 with error.
 */
static int worker_open_child_file(const char *dir, const char *name, char path_r[PATH_MAX],
				  int *fd_r, int64_t *size_r, char *error, size_t error_size)
{
	if (worker_path(dir, name, path_r, error, error_size) < 0)
		return -1;
	return worker_open_regular(path_r, true, fd_r, size_r, error, error_size);
}

int worker_read_small(const char *dir, const char *name, char *buf, size_t size, char *error,
		      size_t error_size)
{
	char path[PATH_MAX];
	int fd = -1;
	int64_t len = 0;
	if (worker_open_child_file(dir, name, path, &fd, &len, error, error_size) < 0)
		return -1;
	if (size == 0 || len < 0 || (uint64_t)len >= size) {
		(void)str_format(error, error_size, "%s is larger than expected", path);
		(void)close(fd);
		return -1;
	}
	int rc = fs_read_full(fd, buf, (size_t)len);
	(void)close(fd);
	if (rc < 0) {
		(void)str_format(error, error_size, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	buf[len] = '\0';
	return 0;
}

int worker_tmpdir_open(pp_worker_t *w, char *dir_r, size_t dir_size, char *error,
		       size_t error_size)
{
	return sandbox_tmpdir_make(w->tmp_base, &w->render_limits, dir_r, dir_size, error,
				   error_size);
}

int worker_stage_from_spool(pp_worker_t *w, const char *file_id, const char *dir,
			    const char *name, char *error, size_t error_size)
{
	char path[PATH_MAX];
	if (worker_path(dir, name, path, error, error_size) < 0)
		return -1;
	if (w->spool == NULL) {
		(void)str_format(error, error_size, "no spool is open");
		return -1;
	}
	pp_spool_reader_t *reader = NULL;
	if (spool_reader_open(w->spool, file_id, &reader, error, error_size) < 0)
		return -1;
	uint8_t *buf = malloc(WORKER_COPY_CHUNK);
	int fd = -1;
	int rc = -1;
	bool is_created = false;
	if (buf == NULL) {
		(void)str_format(error, error_size, "out of memory");
		goto out;
	}
	fd = worker_create_input(w, path, error, error_size);
	if (fd < 0)
		goto out;
	is_created = true;
	for (;;) {
		ssize_t n = spool_reader_read(reader, buf, WORKER_COPY_CHUNK, error, error_size);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (fs_write_full(fd, buf, (size_t)n) < 0) {
			(void)str_format(error, error_size, "cannot write %s: %s", path,
					 strerror(errno));
			goto out;
		}
	}
	rc = worker_close_written(fd, path, error, error_size);
	fd = -1;
out:
	if (fd >= 0)
		(void)close(fd);
	if (rc < 0 && is_created)
		(void)unlink(path);
	if (buf != NULL) {
		/* The plain text of a user's document. */
		crypto_wipe(buf, WORKER_COPY_CHUNK);
		free(buf);
	}
	spool_reader_close(&reader);
	return rc;
}

int worker_stage_from_path(pp_worker_t *w, const char *src_path, const char *dir,
			   const char *name, char *error, size_t error_size)
{
	char path[PATH_MAX];
	if (worker_path(dir, name, path, error, error_size) < 0)
		return -1;
	int in = -1;
	int64_t size = 0;
	if (worker_open_regular(src_path, false, &in, &size, error, error_size) < 0)
		return -1;
	int out = worker_create_input(w, path, error, error_size);
	if (out < 0) {
		(void)close(in);
		return -1;
	}
	int rc = worker_copy_fd(in, src_path, out, path, error, error_size);
	(void)close(in);
	if (rc == 0)
		rc = worker_close_written(out, path, error, error_size);
	else
		(void)close(out);
	if (rc < 0)
		(void)unlink(path);
	return rc;
}

int worker_store_to_spool(pp_worker_t *w, const char *dir, const char *name,
			  char file_id_r[SPOOL_ID_LEN + 1], int64_t *size_r, char *error,
			  size_t error_size)
{
	if (w->spool == NULL) {
		(void)str_format(error, error_size, "no spool is open");
		return -1;
	}
	char path[PATH_MAX];
	int fd = -1;
	int64_t size = 0;
	if (worker_open_child_file(dir, name, path, &fd, &size, error, error_size) < 0)
		return -1;
	pp_spool_writer_t *writer = NULL;
	uint8_t *buf = malloc(WORKER_COPY_CHUNK);
	int rc = -1;
	if (buf == NULL) {
		(void)str_format(error, error_size, "out of memory");
		goto out;
	}
	if (spool_writer_open(w->spool, &writer, error, error_size) < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, WORKER_COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			(void)str_format(error, error_size, "cannot read %s: %s", path,
					 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		int wrc = spool_writer_write(writer, buf, (size_t)n, error, error_size);
		if (wrc < 0) {
			rc = wrc; /* SPOOL_TOO_LARGE or -1 */
			goto out;
		}
	}
	uint64_t stored = 0;
	if (spool_writer_finish(&writer, file_id_r, &stored, error, error_size) < 0)
		goto out;
	*size_r = (int64_t)stored;
	rc = 0;
out:
	spool_writer_abort(&writer);
	if (buf != NULL) {
		crypto_wipe(buf, WORKER_COPY_CHUNK);
		free(buf);
	}
	(void)close(fd);
	return rc;
}

int worker_store_to_path(const char *dir, const char *name, const char *out_path, char *error,
			 size_t error_size)
{
	char path[PATH_MAX];
	int in = -1;
	int64_t size = 0;
	if (worker_open_child_file(dir, name, path, &in, &size, error, error_size) < 0)
		return -1;
	int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		(void)str_format(error, error_size, "cannot create %s: %s", out_path,
				 strerror(errno));
		(void)close(in);
		return -1;
	}
	int rc = worker_copy_fd(in, path, out, out_path, error, error_size);
	(void)close(in);
	if (rc == 0)
		rc = worker_close_written(out, out_path, error, error_size);
	else
		(void)close(out);
	return rc;
}

void worker_outputs_delete(pp_worker_t *w, worker_outputs_t *out)
{
	for (size_t i = 0; i < out->count; i++) {
		char error[256];
		if (spool_delete(w->spool, out->file_ids[i], error, sizeof(error)) < 0)
			log_warn("convert: cannot delete spool file %s (intake_recover() will): %s",
				 out->file_ids[i], error);
	}
	out->count = 0;
}

int worker_outputs_alloc(worker_outputs_t *out, size_t max, char *error, size_t error_size)
{
	memset(out, 0, sizeof(*out));
	out->outputs = calloc(max, sizeof(*out->outputs));
	out->file_ids = calloc(max, sizeof(*out->file_ids));
	out->roles = calloc(max, sizeof(*out->roles));
	out->max = max;
	if (out->outputs == NULL || out->file_ids == NULL || out->roles == NULL) {
		worker_outputs_free(out);
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	return 0;
}

void worker_outputs_free(worker_outputs_t *out)
{
	free(out->outputs);
	free(out->file_ids);
	free(out->roles);
	memset(out, 0, sizeof(*out));
}

int worker_outputs_add(pp_worker_t *w, worker_outputs_t *out, const char *dir,
		       const char *name, const char *role, const char *content_type, char *error,
		       size_t error_size)
{
	size_t i = out->count;
	if (i >= out->max) {
		(void)str_format(error, error_size, "too many outputs");
		return -1;
	}
	if (!str_copy(out->roles[i], JOB_DOC_ROLE_MAX, role)) {
		(void)str_format(error, error_size, "role %s is too long", role);
		return -1;
	}
	int64_t size = 0;
	int rc = worker_store_to_spool(w, dir, name, out->file_ids[i], &size, error, error_size);
	if (rc < 0)
		return rc;
	out->outputs[i] = (pp_convert_output_t){
		.role = out->roles[i],
		.file_id = out->file_ids[i],
		.content_type = content_type,
		.size_bytes = size,
	};
	out->count++;
	return 0;
}

