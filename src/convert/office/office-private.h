/*
 * office-private.h - what the parts of the office host share and no other folder sees: the
 * request/reply frames on the socket between the worker and its host (office-protocol.c),
 * the private LibreOffice user profile (office-profile.c) and the host's main loop
 * (office-host.c).
 *
 * The worker (office-client.c) and the host talk over one AF_UNIX stream socketpair. Every
 * message is one frame: a 4-byte big-endian length, then that many bytes (at most
 * OFFICE_FRAME_MAX). Messages are text, their fields separated by '\n':
 *   host -> worker at start:  "ready"  or  "init-failed\n<reason>"
 *   worker -> host:           "convert\n<input path>\n<output path>"
 *   host -> worker:           "ok"  or  "failed\n<user-facing reason>"
 * Paths never hold '\n' (office_convert() refuses them), so splitting at '\n' is exact.
 */
#ifndef PP_OFFICE_PRIVATE_H
#define PP_OFFICE_PRIVATE_H

#include "convert/office.h"

#include <limits.h>
#include <stddef.h>

#define OFFICE_FRAME_MAX (2 * PATH_MAX + 64)
#define OFFICE_DEFAULT_MAX_DOCUMENTS 200u
#define OFFICE_DEFAULT_TIMEOUT_S 120u
/* Starting LibreOffice takes 1-3 s on an idle machine; allow for a loaded one. */
#define OFFICE_START_TIMEOUT_S 120u

/* How reading one frame ended. */
typedef enum {
	OFFICE_READ_OK = 0,
	OFFICE_READ_EOF,     /* the peer closed the socket (it died or is closing) */
	OFFICE_READ_TIMEOUT, /* timeout_ms passed first */
	OFFICE_READ_ERROR,   /* a system call failed or the frame was malformed; errno set */
} office_read_status_t;

/*
 * Writes one frame holding len bytes of data (len <= OFFICE_FRAME_MAX) to the socket fd,
 * retrying short writes and EINTR, never raising SIGPIPE. Returns 0 or -1 (errno set).
 */
int office_frame_write(int fd, const char *data, size_t len);

/*
 * Reads one frame from fd into buf[size] and NUL-terminates it (a frame holding a NUL byte
 * is malformed). timeout_ms bounds the whole frame; -1 waits for ever. *len_r is the length
 * without the terminator.
 */
office_read_status_t office_frame_read(int fd, int timeout_ms, char *buf, size_t size,
				       size_t *len_r);

/*
 * Makes profile_dir (0700, with its parents) when missing and removes what an earlier host
 * left in it (its "user" and "tmp" folders, nothing else, so a wrongly configured directory
 * loses nothing of its own). When limits->switch_user is honoured (running as root) the
 * directory is given to limits' user, who writes the profile. Returns 0 or -1 with error.
 */
int office_profile_prepare(const char *profile_dir, const pp_sandbox_limits_t *limits,
			   char *error, size_t error_size);

/*
 * In the host, after sandbox_enter(): writes <profile_dir>/user/registrymodifications.xcu
 * (the settings that keep documents from running code or fetching anything, see
 * office-profile.c) and makes <profile_dir>/tmp. Returns 0 or -1 with error.
 */
int office_profile_write(const char *profile_dir, char *error, size_t error_size);

/*
 * Percent-encodes the absolute path into a file:/// URL in url_r[url_size]. Returns false
 * when path is not absolute or the URL does not fit.
 */
bool office_file_url(const char *path, char *url_r, size_t url_size);

/* What the forked host needs; all borrowed from the pp_office_t that forks it. */
typedef struct {
	const char *program_dir;
	const char *profile_dir;
	const pp_sandbox_limits_t *limits;
} office_host_args_t;

/*
 * The host process: runs in the child that office-client.c forked, with sock its end of
 * the socketpair. Enters the sandbox, loads LibreOffice, answers requests until the socket
 * closes, then exits. Never returns.
 */
_Noreturn void office_host_main(const office_host_args_t *args, int sock);

#endif
