/*
 * worker.c - one worker process's context: its limits, its name, where its temporary
 * directories go, and the converter process (converter.h) it keeps for its whole life, which
 * in turn keeps LibreOffice warm.
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
	converter_client_init(&w->converter);

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
	if (w == NULL || w->converter.starts == 0)
		return;
	/* The converter stops its office host and removes the profile when it ends by itself;
	 * one that was killed leaves the profile behind. */
	converter_client_stop(&w->converter);
	char error[256];
	if (sandbox_tmpdir_wipe(w->office_profile_dir, error, sizeof(error)) < 0)
		log_warn("convert: cannot remove the office profile: %s", error);
}

int worker_converter_limits(const pp_worker_t *w, pp_converter_limits_t *limits_r, char *error,
			    size_t error_size)
{
	memset(limits_r, 0, sizeof(*limits_r));
	pp_office_config_t office;
	if (worker_limits_office(w->config, w->office_profile_dir, &office, error, error_size) < 0)
		return -1;
	limits_r->log_level = w->config->log_level;
	limits_r->render = w->render_limits;
	limits_r->exec = w->exec_limits;
	limits_r->max_pages = w->engine_limits.max_pages;
	limits_r->max_image_pixels = w->engine_limits.max_image_pixels;
	limits_r->default_width_pt = w->engine_limits.default_width_pt;
	limits_r->default_height_pt = w->engine_limits.default_height_pt;
	limits_r->office_max_documents = office.max_documents;
	limits_r->office_timeout_s = office.timeout_s;
	limits_r->office = office.limits;
	if (!str_copy(limits_r->tmp_base, sizeof(limits_r->tmp_base), w->tmp_base) ||
	    !str_copy(limits_r->ghostscript, sizeof(limits_r->ghostscript),
		      w->engine_limits.ghostscript != NULL ? w->engine_limits.ghostscript : "") ||
	    !str_copy(limits_r->office_program_dir, sizeof(limits_r->office_program_dir),
		      office.program_dir != NULL ? office.program_dir : "") ||
	    !str_copy(limits_r->office_profile_dir, sizeof(limits_r->office_profile_dir),
		      w->office_profile_dir)) {
		(void)str_format(error, error_size, "a [convert] path is too long");
		return -1;
	}
	return 0;
}

int worker_converter_start(pp_worker_t *w, char *error, size_t error_size)
{
	if (w->converter.is_running)
		return 0;
	pp_converter_limits_t limits;
	if (worker_converter_limits(w, &limits, error, error_size) < 0)
		return -1;
	if (converter_client_start(&w->converter, &limits, error, error_size) < 0)
		return -1;
	if (w->converter.starts > 1)
		log_info("convert: a new converter %ld took over (worker=%s)",
			 (long)w->converter.pid, w->name);
	return 0;
}

int worker_converter_call(pp_worker_t *w, pp_converter_request_t *req,
			  pp_converter_reply_t *reply_r, char *error, size_t error_size)
{
	int rc = -1;
	/* A converter found dead when the request is sent did nothing of it: one more try. */
	for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
		if (worker_converter_start(w, error, error_size) < 0)
			return -1;
		rc = converter_client_call(&w->converter, req, reply_r, error, error_size);
	}
	if (rc < 0)
		return -1;
	if (reply_r->is_error) {
		(void)str_format(error, error_size, "the converter cannot work: %s", reply_r->error);
		return -1;
	}
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
