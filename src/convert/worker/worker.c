/*
 * worker.c - one worker process's context: its limits, its name, where its temporary
 * directories go, and the LibreOffice host it keeps warm for its whole life.
 */
#include "convert/worker/worker.h"

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Finds the first ancestor of path (path itself included) that uid/gid may not search. The
 * office host opens documents by full path after it switched user, so every directory on the
 * way must let it pass (sandbox_run() children enter their directory before the switch and
 * need no such thing). Returns true with blocker_r filled when one is found.
 */
static bool worker_find_blocker(const char *path, uid_t uid, gid_t gid, char *blocker_r,
				size_t blocker_size)
{
	char dir[PATH_MAX];
	if (!str_copy(dir, sizeof(dir), path))
		return false;
	for (;;) {
		struct stat st;
		if (stat(dir, &st) == 0) {
			bool is_searchable = (st.st_mode & S_IXOTH) != 0 ||
					     (st.st_uid == uid && (st.st_mode & S_IXUSR) != 0) ||
					     (st.st_gid == gid && (st.st_mode & S_IXGRP) != 0);
			if (!is_searchable) {
				(void)str_copy(blocker_r, blocker_size, dir);
				return true;
			}
		}
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			return false;
		*slash = '\0';
	}
}

int worker_open(pp_worker_t *w, const pp_config_t *config, pp_core_t *core,
		const char *tmp_base, char *error, size_t error_size)
{
	memset(w, 0, sizeof(*w));
	w->config = config;
	w->core = core;
	w->spool = core != NULL ? core->spool : NULL;

	if (worker_limits_sandbox(config, SANDBOX_PROFILE_RENDER, &w->render_limits, error,
				  error_size) < 0 ||
	    worker_limits_sandbox(config, SANDBOX_PROFILE_EXEC, &w->exec_limits, error,
				  error_size) < 0)
		return -1;
	worker_limits_engine(config, &w->engine_limits);

	/* "host:pid" names this worker in jobs.convert_worker, so an admin can find it. */
	char host[CONVERT_WORKER_NAME_MAX - 16];
	if (gethostname(host, sizeof(host)) < 0) {
		(void)str_format(error, error_size, "gethostname failed: %s", strerror(errno));
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	if (!str_format(w->name, sizeof(w->name), "%s:%ld", host, (long)getpid())) {
		(void)str_format(error, error_size, "the host name is too long");
		return -1;
	}

	const char *base = tmp_base != NULL ? tmp_base : config->convert_tmp_dir;
	if (!str_copy(w->tmp_base, sizeof(w->tmp_base), base) ||
	    !str_format(w->office_profile_dir, sizeof(w->office_profile_dir), "%s/office-%ld",
			base, (long)getpid())) {
		(void)str_format(error, error_size, "[convert] tmp_dir %s is too long", base);
		return -1;
	}
	if (fs_mkdir_p(w->tmp_base, 0700, error, error_size) < 0)
		return -1;
	/* It is about to be opened up (0711) and filled with documents: it must be ours and a
	 * real directory, not something planted in its place. */
	struct stat st;
	if (lstat(w->tmp_base, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		(void)str_format(error, error_size,
				 "[convert] tmp_dir %s is not a directory owned by this user: remove it "
				 "or set tmp_dir elsewhere", w->tmp_base);
		return -1;
	}
	/* The sandbox user must reach its own job directory below this one: let it pass through
	 * (x) without listing (r) what other jobs left. Its parents must allow the same. */
	if (w->render_limits.switch_user && chmod(w->tmp_base, 0711) < 0) {
		(void)str_format(error, error_size, "chmod(%s) failed: %s", w->tmp_base,
				 strerror(errno));
		return -1;
	}
	char blocker[PATH_MAX];
	if (w->render_limits.switch_user &&
	    worker_find_blocker(w->tmp_base, w->render_limits.uid, w->render_limits.gid, blocker,
				sizeof(blocker)))
		log_warn("convert: user %s cannot pass through %s to reach [convert] tmp_dir %s: "
			 "office documents will fail — chmod o+x %s, or set tmp_dir to a directory "
			 "it can reach",
			 config->convert_user, blocker, w->tmp_base, blocker);
	return 0;
}

void worker_close(pp_worker_t *w)
{
	if (w == NULL)
		return;
	if (w->office != NULL) {
		office_close(&w->office);
		char error[256];
		if (sandbox_tmpdir_wipe(w->office_profile_dir, error, sizeof(error)) < 0)
			log_warn("convert: cannot remove the office profile: %s", error);
	}
}

int worker_office(pp_worker_t *w, pp_office_t **office_r, char *error, size_t error_size)
{
	if (w->office == NULL) {
		pp_office_config_t office_config;
		if (worker_limits_office(w->config, w->office_profile_dir, &office_config, error,
					 error_size) < 0)
			return -1;
		double start_ms = worker_now_ms();
		if (office_open(&office_config, &w->office, error, error_size) < 0)
			return -1;
		log_info("convert: LibreOffice loaded in %.0f ms (worker=%s)",
			 worker_now_ms() - start_ms, w->name);
	}
	*office_r = w->office;
	return 0;
}

double worker_now_ms(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC cannot fail with a valid pointer; 0 keeps timings harmless anyway. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}
