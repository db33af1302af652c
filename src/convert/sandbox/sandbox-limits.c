/*
 * sandbox-limits.c - the sandbox's settings: defaults, the converter user, outcome names.
 */
#include "sandbox-private.h"

#include "lib/str.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

/* getpwnam_r's buffer: start here, double on ERANGE up to the cap. */
#define SANDBOX_PW_BUF_START 4096
#define SANDBOX_PW_BUF_MAX (1024 * 1024)

void sandbox_limits_default(pp_sandbox_limits_t *limits)
{
	*limits = (pp_sandbox_limits_t){
	    .profile = SANDBOX_PROFILE_RENDER,
	    .address_space_bytes = UINT64_C(2) * 1024 * 1024 * 1024,
	    .cpu_seconds = 60,
	    .file_size_bytes = UINT64_C(512) * 1024 * 1024,
	    .open_files = 64,
	    .wall_seconds = 120,
	    .isolate_network = true,
	    .switch_user = false,
	    .uid = (uid_t)-1,
	    .gid = (gid_t)-1,
	};
}

int sandbox_limits_set_user(pp_sandbox_limits_t *limits, const char *user, char *error,
                            size_t error_size)
{
	if (user == NULL || user[0] == '\0') {
		(void)str_format(error, error_size, "no converter user given: set convert_user");
		return -1;
	}
	size_t size = SANDBOX_PW_BUF_START;
	for (;;) {
		char *buf = malloc(size);
		if (buf == NULL) {
			(void)str_format(error, error_size, "out of memory looking up user %s",
			                 user);
			return -1;
		}
		struct passwd pw;
		struct passwd *found = NULL;
		int rc = getpwnam_r(user, &pw, buf, size, &found);
		if (rc == ERANGE && size < SANDBOX_PW_BUF_MAX) {
			free(buf);
			size *= 2;
			continue;
		}
		if (rc != 0) {
			(void)str_format(error, error_size, "looking up user %s failed: %s", user,
			                 strerror(rc));
			free(buf);
			return -1;
		}
		if (found == NULL) {
			(void)str_format(error, error_size,
			                 "user %s does not exist: create it with `useradd --system "
			                 "--no-create-home --shell /usr/sbin/nologin %s`",
			                 user, user);
			free(buf);
			return -1;
		}
		uid_t uid = found->pw_uid;
		gid_t gid = found->pw_gid;
		free(buf);
		if (uid == 0 || gid == 0) {
			(void)str_format(error, error_size,
			                 "user %s is root (uid or gid 0): the converter needs an "
			                 "unprivileged user of its own",
			                 user);
			return -1;
		}
		limits->uid = uid;
		limits->gid = gid;
		limits->switch_user = true;
		return 0;
	}
}

const char *sandbox_outcome_name(pp_sandbox_outcome_t outcome)
{
	switch (outcome) {
	case SANDBOX_OK:
		return "ok";
	case SANDBOX_FAILED:
		return "failed";
	case SANDBOX_TIMEOUT:
		return "timeout";
	case SANDBOX_LIMIT:
		return "limit";
	case SANDBOX_VIOLATION:
		return "violation";
	case SANDBOX_CRASHED:
		return "crashed";
	}
	return "unknown";
}
