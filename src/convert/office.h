/*
 * office.h - Word, Excel, PowerPoint, OpenDocument and RTF to PDF through LibreOffice kept
 * loaded (LibreOfficeKit's C API), so that a document never pays LibreOffice's start-up.
 *
 * office_open() starts an office host: a forked child that enters the sandbox (profile
 * OFFICE, sandbox.h), loads LibreOffice once (lok_init_2 with a private user profile in
 * which macros are disabled and linked content is never fetched or updated) and then
 * converts one document per request received over a pipe. The host is restarted after it
 * crashes, after a timeout (its process group is killed), after a document that failed and
 * after max_documents documents, so a leak or a poisoned state lasts for a bounded time.
 *
 * Spreadsheets (xlsx, xls, ods … recognised by content, not by name) go through a headless
 * `soffice --convert-to pdf` run instead, in the same sandbox, with the same profile settings
 * and timeout: LibreOfficeKit opens documents in a view, which Calc cannot build without the
 * UI files Debian's libreoffice-calc-nogui leaves out, while soffice opens them hidden. A
 * document the sniffer cannot place is tried in the host first and, when LibreOffice could
 * not load it, with soffice. One pp_office_t is used by one thread at a time.
 */
#ifndef PP_OFFICE_H
#define PP_OFFICE_H

#include "convert/sandbox.h"

#include <stdbool.h>
#include <stddef.h>

#define OFFICE_DEFAULT_PROGRAM_DIR "/usr/lib/libreoffice/program"

typedef struct pp_office pp_office_t;

typedef struct {
	const char *program_dir;  /* LibreOffice's program directory; NULL = the default */
	const char *profile_dir;  /* private, made 0700 when missing; wiped at each (re)start */
	unsigned max_documents;   /* restart after this many; 0 = 200 */
	unsigned timeout_s;       /* per document, wall clock; 0 = 120 */
	pp_sandbox_limits_t limits; /* for the host process (wall_seconds unused) */
} pp_office_config_t;

/* True when program_dir (NULL = default) holds a LibreOffice that LibreOfficeKit can load. */
bool office_available(const char *program_dir);

/*
 * Starts the office host and waits until LibreOffice is loaded. Returns 0 and *office_r
 * (new; close with office_close()), or -1 with error.
 */
int office_open(const pp_office_config_t *config, pp_office_t **office_r, char *error,
		size_t error_size);

/*
 * Converts in_path (readable by the sandbox user) to a PDF at out_path (in a directory the
 * sandbox user may write; a spreadsheet's soffice run also writes <in_path's stem>.pdf there
 * first, then renames it). Fills *result_r like sandbox_run(): SANDBOX_OK, SANDBOX_FAILED with
 * a user-facing reason (password-protected, damaged, not an office document), or TIMEOUT /
 * CRASHED / LIMIT (the host is restarted before the next request). Returns 0 when the host
 * answered or died, -1 with error when it could not be (re)started.
 */
int office_convert(pp_office_t *office, const char *in_path, const char *out_path,
		   pp_sandbox_result_t *result_r, char *error, size_t error_size);

/* Documents converted by the current host since it started (for tests and logs). */
unsigned office_documents_done(const pp_office_t *office);

/* Stops the host (its process group) and frees. NULL-safe; sets *office to NULL. */
void office_close(pp_office_t **office);

#endif
