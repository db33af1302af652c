/*
 * office-private.h - what the parts of the office host share and no other folder sees: the
 * request/reply frames on the socket between the worker and its host (office-protocol.c),
 * the private LibreOffice user profile (office-profile.c), the host's main loop
 * (office-host.c) and the spreadsheets' headless soffice runs (office-sheet.c).
 *
 * The worker (office-client.c) and the host talk over one AF_UNIX stream socketpair. Every
 * message is one frame: a 4-byte big-endian length, then that many bytes (at most
 * OFFICE_FRAME_MAX). Messages are text, their fields separated by '\n':
 *   host -> worker at start:  "ready"  or  "init-failed\n<reason>"
 *   worker -> host:           "convert\n<input path>\n<output path>"
 *   host -> worker:           "ok"  or  "failed\n<user-facing reason>"  or
 *                             "unopened\n<user-facing reason>" (LibreOffice could not load
 *                             it and asked for no password: a spreadsheet the sniffer was
 *                             unsure of is then tried with soffice)
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

/* What office_sheet_sniff() makes of a document's first bytes. */
typedef enum {
	OFFICE_SHEET_NO = 0, /* another office format, or none (the host judges it) */
	OFFICE_SHEET_YES,    /* OOXML with xl/ parts, OpenDocument spreadsheet, OLE2 Workbook */
	OFFICE_SHEET_UNSURE, /* a ZIP, OLE2 or XML file whose first 16 KiB do not say */
} office_sheet_t;

/*
 * Reads the first 16 KiB of in_path (and an OLE2 file's first directory sector) and says
 * whether it is a spreadsheet by its content; the name is never looked at. A file that
 * cannot be read is OFFICE_SHEET_NO (the host then says what is wrong).
 */
office_sheet_t office_sheet_sniff(const char *in_path);

/* What a soffice run needs; all borrowed. */
typedef struct {
	const char *program_dir;           /* holds soffice.bin */
	const char *profile_dir;           /* the host's; the run uses <it>/soffice, wiped after */
	const pp_sandbox_limits_t *limits; /* the host's (OFFICE) */
	unsigned timeout_s;                /* the run's wall clock */
} office_sheet_args_t;

/*
 * Converts the spreadsheet in_path to out_path with one `soffice.bin --headless
 * --convert-to pdf` run in the sandbox (sandbox_run(), profile OFFICE, wall clock
 * timeout_s), with a fresh private profile holding office-profile.c's settings. Paths are
 * absolute; out_path's directory must be writable by the sandbox user. Fills *result_r as
 * sandbox_run() does (FAILED with a user-facing reason). Returns 0 when soffice ran, -1 with
 * error when it could not be started.
 */
int office_sheet_convert(const office_sheet_args_t *args, const char *in_path,
			 const char *out_path, pp_sandbox_result_t *result_r, char *error,
			 size_t error_size);

#endif
