/*
 * worker-limits.c - the [convert] settings turned into the limits of the sandbox, the
 * engines and the office host, so that every way of running the worker (server pool, remote
 * queue, admin's `file` command) confines documents the same way.
 */
#include "convert/worker/worker.h"

#include <unistd.h>

/* LibreOffice holds its libraries, fonts and profile open at once: far more than 64. */
#define WORKER_OFFICE_OPEN_FILES 1024

int worker_limits_sandbox(const pp_config_t *config, pp_sandbox_profile_t profile,
			  pp_sandbox_limits_t *limits_r, char *error, size_t error_size)
{
	sandbox_limits_default(limits_r);
	limits_r->profile = profile;
	limits_r->address_space_bytes = config->convert_memory;
	limits_r->cpu_seconds = config->convert_cpu_s;
	limits_r->wall_seconds = config->convert_timeout_s;
	limits_r->isolate_network = true;
	/* Only root can change user; an unprivileged worker (tests, an admin's `file` run) stays
	 * itself and relies on the other layers. */
	if (geteuid() == 0 && config->convert_user[0] != '\0') {
		if (sandbox_limits_set_user(limits_r, config->convert_user, error, error_size) < 0)
			return -1;
	}
	return 0;
}

void worker_limits_engine(const pp_config_t *config, pp_engine_limits_t *limits_r)
{
	*limits_r = (pp_engine_limits_t){
		.max_pages = config->convert_max_pages,
		.max_image_pixels = (uint64_t)config->convert_max_image_mpixels * 1000000u,
		.default_width_pt = 0, /* A4 */
		.default_height_pt = 0,
		.ghostscript = config->convert_ghostscript[0] != '\0' ? config->convert_ghostscript
								      : NULL,
	};
}

int worker_limits_office(const pp_config_t *config, const char *profile_dir,
			 pp_office_config_t *office_r, char *error, size_t error_size)
{
	*office_r = (pp_office_config_t){
		.program_dir = config->convert_office_dir[0] != '\0' ? config->convert_office_dir
								     : NULL,
		.profile_dir = profile_dir,
		.max_documents = config->convert_office_max_documents,
		.timeout_s = config->convert_timeout_s,
	};
	if (worker_limits_sandbox(config, SANDBOX_PROFILE_OFFICE, &office_r->limits, error,
				  error_size) < 0)
		return -1;
	/* RLIMIT_CPU counts over the host's whole life (up to max_documents documents), so a
	 * per-document bound there would end a healthy host; each document is bounded by the
	 * wall-clock timeout instead, after which the host's group is killed. */
	office_r->limits.cpu_seconds = 0;
	office_r->limits.wall_seconds = 0;
	office_r->limits.open_files = WORKER_OFFICE_OPEN_FILES;
	return 0;
}
