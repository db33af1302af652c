/*
 * worker.h - the conversion worker (pullprint-convert): one process that turns held jobs'
 * documents into the PDF we keep, its analysis and page images, one job at a time.
 *
 * The worker never parses a document itself, and never starts the processes that do: it is
 * the BROKER of converter.h. For each job it makes a private temporary directory
 * (sandbox_tmpdir_make), copies the decrypted original there as a file the sandbox user may
 * read, and asks its CONVERTER process (a fresh program image holding no key, no database
 * and no configuration) to run the engines in sandboxed children (sandbox_run) or in the
 * warm LibreOffice host (office.h); it then reads back what the children wrote, defensively,
 * encrypts it into the spool and records the outcome (convert-queue.h). The directory is
 * wiped after every job.
 *
 * It is driven in one of four ways: by the server's local pool over a socket (--fd,
 * worker-serve.c), by the shared PostgreSQL queue on another host (--queue, worker-queue.c),
 * or by an admin on files without any database (`file` and `render`, worker-file.c).
 * Single-threaded.
 *
 * Private to src/convert/worker (and its unit test).
 */
#ifndef PP_WORKER_H
#define PP_WORKER_H

#include "convert/convert.h"
#include "convert/engine.h"
#include "convert/office.h"
#include "convert/sandbox.h"
#include "convert/worker/converter.h"
#include "core/convert-queue.h"
#include "core/core.h"
#include "core/job.h"
#include "lib/config.h"
#include "spool/spool.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Names of the files inside a job's temporary directory. */
#define WORKER_INPUT_NAME "input"
#define WORKER_PDF_NAME "document.pdf"
#define WORKER_ANALYSIS_NAME "analysis.json"
#define WORKER_THUMB_FORMAT "thumb-%d.jpg"
#define WORKER_PREVIEW_FORMAT "preview-%d.jpg"
/* The same names in parts, for engine_render_jpegs(): prefix, page number, suffix. */
#define WORKER_THUMB_PREFIX "thumb-"
#define WORKER_PREVIEW_PREFIX "preview-"
#define WORKER_IMAGE_SUFFIX ".jpg"
#define WORKER_RENDER_OUTPUT_NAME "output"
#define WORKER_RENDER_RESULT_NAME "result" /* "<pages> <sheets> <impressions>\n" */
#define WORKER_NAME_MAX 64 /* a temporary file's name, with the terminator */

/* One worker process's context. */
typedef struct pp_worker {
	const pp_config_t *config; /* borrowed */
	pp_core_t *core;           /* borrowed; NULL for `file` and `render` (no database) */
	pp_spool_t *spool;         /* borrowed from core; NULL without core */
	char name[CONVERT_WORKER_NAME_MAX]; /* "host:pid", recorded with each claim */
	char tmp_base[PATH_MAX];            /* where job directories are made */
	char office_profile_dir[PATH_MAX];  /* <tmp_base>/office-<pid> */
	pp_sandbox_limits_t render_limits;  /* MuPDF, images, text: no exec */
	pp_sandbox_limits_t exec_limits;    /* PostScript, PCL 6: Ghostscript */
	pp_engine_limits_t engine_limits;
	/* The converter process, started at the first request (or by worker_converter_start)
	 * with the limits above as they are then, and restarted after it dies. */
	pp_converter_client_t converter;
} pp_worker_t;

/* What one job's conversion ended in, for the reply to the server and for logs. */
typedef struct {
	bool is_ok;                     /* held (convert) or images recorded (pages) */
	char reason[CONVERT_ERROR_MAX]; /* when not ok: what the user reads */
} pp_worker_outcome_t;

/* What converting one staged input gave (worker-convert.c). */
typedef struct {
	pp_convert_analysis_t analysis; /* free with convert_analysis_free() */
	int images;                     /* pages 1..images have a thumb and a preview */
	double ms_convert;              /* input -> kept PDF */
	double ms_pages;                /* analysis and page images */
} pp_worker_conversion_t;

/* worker.c ------------------------------------------------------------------------------ */

/*
 * Fills w for config (borrowed, must outlive w) and core (borrowed; NULL = no database):
 * the sandbox and engine limits, the worker's name, and tmp_base (NULL = the configured
 * convert tmp_dir), made when missing. Returns 0, or -1 with error (the sandbox user does not
 * exist, tmp_base cannot be made). Release with worker_close().
 */
int worker_open(pp_worker_t *w, const pp_config_t *config, pp_core_t *core,
		const char *tmp_base, char *error, size_t error_size);

/* Stops the converter (and with it the office host) and removes the office profile. Safe
 * on a zeroed or closed worker. */
void worker_close(pp_worker_t *w);

/*
 * What the converter is told: w's sandbox and engine limits, the office host's configuration
 * (profile <tmp_base>/office-<pid>), tmp_base and the log level. Returns 0 or -1 with error.
 */
int worker_converter_limits(const pp_worker_t *w, pp_converter_limits_t *limits_r, char *error,
			    size_t error_size);

/* Starts the converter unless it runs. Returns 0, or -1 with error (it cannot be started). */
int worker_converter_start(pp_worker_t *w, char *error, size_t error_size);

/*
 * Sends one request to the converter (started when needed; when it turns out to have died
 * since the last request, started again and asked once more) and fills *reply_r: a converter
 * that dies or misbehaves during the request gives outcome CRASHED (converter.h). Returns 0,
 * or -1 with error when no converter could do it (including a reply_r->is_error answer).
 */
int worker_converter_call(pp_worker_t *w, pp_converter_request_t *req,
			  pp_converter_reply_t *reply_r, char *error, size_t error_size);

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC), for timings. */
double worker_now_ms(void);

/* worker-limits.c ----------------------------------------------------------------------- */

/*
 * The sandbox limits for profile from config's [convert] settings: memory, CPU, timeout, and
 * the switch to convert_user when running as root and convert_user is not "". Returns 0, or
 * -1 with error (the user does not exist).
 */
int worker_limits_sandbox(const pp_config_t *config, pp_sandbox_profile_t profile,
			  pp_sandbox_limits_t *limits_r, char *error, size_t error_size);

/* The engine limits from config (pages, image size, Ghostscript). Borrows config's strings. */
void worker_limits_engine(const pp_config_t *config, pp_engine_limits_t *limits_r);

/*
 * The office host's configuration: program dir, restarts, per-document timeout and its
 * sandbox (profile OFFICE) from config, with profile_dir (borrowed). Returns 0 or -1.
 */
int worker_limits_office(const pp_config_t *config, const char *profile_dir,
			 pp_office_config_t *office_r, char *error, size_t error_size);

/* worker-files.c ------------------------------------------------------------------------ */

/*
 * Makes a fresh private job directory under w->tmp_base, owned by the sandbox user when it
 * switches, into dir_r[dir_size]. Returns 0 or -1. Wipe it with sandbox_tmpdir_wipe().
 */
int worker_tmpdir_open(pp_worker_t *w, char *dir_r, size_t dir_size, char *error,
		       size_t error_size);

/*
 * Decrypts spool file file_id into dir/name (new, 0600, given to the sandbox user when it
 * switches). Returns 0 or -1 with error.
 */
int worker_stage_from_spool(pp_worker_t *w, const char *file_id, const char *dir,
			    const char *name, char *error, size_t error_size);

/* The same from a plain file at path (the `file` and `render` commands). Returns 0 or -1. */
int worker_stage_from_path(pp_worker_t *w, const char *path, const char *dir, const char *name,
			   char *error, size_t error_size);

/*
 * Encrypts dir/name (written by a sandboxed child: opened without following links, must be a
 * regular file) into a new spool file: fills file_id_r and *size_r. Returns 0,
 * SPOOL_TOO_LARGE (error says the limit) or -1.
 */
int worker_store_to_spool(pp_worker_t *w, const char *dir, const char *name,
			  char file_id_r[SPOOL_ID_LEN + 1], int64_t *size_r, char *error,
			  size_t error_size);

/* Copies dir/name (as above) to out_path (made 0600, replaced when it exists). Returns 0/-1. */
int worker_store_to_path(const char *dir, const char *name, const char *out_path, char *error,
			 size_t error_size);

/*
 * Reads dir/name (a small file a child wrote; checked as above) into buf[size] as a
 * NUL-terminated text. Files of size bytes or more are refused. Returns 0 or -1 with error.
 */
int worker_read_small(const char *dir, const char *name, char *buf, size_t size, char *error,
		      size_t error_size);

/* The derived files of one job on their way into the database. */
typedef struct {
	size_t count, max;
	pp_convert_output_t *outputs;       /* count entries, pointing into the arrays below */
	char (*file_ids)[SPOOL_ID_LEN + 1]; /* their spool files */
	char (*roles)[JOB_DOC_ROLE_MAX];
} worker_outputs_t;

/* Makes room for max outputs in *out (free with worker_outputs_free()). Returns 0 or -1. */
int worker_outputs_alloc(worker_outputs_t *out, size_t max, char *error, size_t error_size);

/*
 * Stores dir/name into the spool (worker_store_to_spool) as the next output with role and
 * content_type (static). Returns 0, SPOOL_TOO_LARGE or -1 with error.
 */
int worker_outputs_add(pp_worker_t *w, worker_outputs_t *out, const char *dir,
		       const char *name, const char *role, const char *content_type, char *error,
		       size_t error_size);

/* Deletes the outputs' spool files (an outcome that was not recorded); failures are logged. */
void worker_outputs_delete(pp_worker_t *w, worker_outputs_t *out);

/* Frees the arrays and zeroes *out (the spool files stay). */
void worker_outputs_free(worker_outputs_t *out);

/* worker-convert.c ---------------------------------------------------------------------- */

/*
 * The type to convert dir/WORKER_INPUT_NAME as: what its first bytes say (doctype_sniff)
 * when the declared type (may be NULL) is none we convert or the bytes are a known binary
 * format; else the declared type. Static, or declared itself.
 */
const char *worker_input_type(const char *dir, const char *declared);

/*
 * Converts dir/WORKER_INPUT_NAME (declared as content_type, checked by worker_input_type())
 * in dir: the converter's sandboxed child (or its office host) writes WORKER_PDF_NAME, then
 * one more sandboxed child analyses it and renders thumb and preview images of its first
 * `thumbnails` pages. Fills *conv_r.
 * Returns 1 when converted, 0 when the document failed (reason_r says why, for the user), or
 * -1 with error when the worker itself could not work (no converter, no sandbox, no office
 * host). A converter that dies during the document is the document's failure (a crash).
 */
int worker_convert(pp_worker_t *w, const char *dir, const char *content_type,
		   unsigned thumbnails, pp_worker_conversion_t *conv_r, char *reason_r,
		   size_t reason_size, char *error, size_t error_size);

/*
 * Renders thumb and preview images of pages first..last (1-based, within the document) of
 * dir/WORKER_PDF_NAME in a sandboxed child. Returns 1, 0 with reason_r, or -1 with error.
 */
int worker_render_pages(pp_worker_t *w, const char *dir, int first, int last, char *reason_r,
			size_t reason_size, char *error, size_t error_size);

/* The user-facing reason of a child (or converter) that did not succeed, into reason_r. */
void worker_reason_of(const pp_sandbox_result_t *result, char *reason_r, size_t reason_size);

/* worker-job.c -------------------------------------------------------------------------- */

/*
 * Reads what a job the server claimed for this worker needs (its original document) into
 * *task_r. Returns JOB_OK, JOB_STATE_LOST (the job is not converting: canceled meanwhile),
 * JOB_NOT_FOUND, or JOB_ERROR with error.
 */
int worker_job_task(pp_worker_t *w, int64_t job_id, pp_convert_task_t *task_r, char *error,
		    size_t error_size);

/*
 * Converts a claimed job (state converting) and records the outcome: held with its "pdf",
 * "thumb:N" and "preview:N" documents and analysis, or failed with the reason. Fills
 * *outcome_r. Returns 0 when an outcome was recorded (or the job was gone meanwhile), or -1
 * with error when nothing could be recorded (the caller abandons the job).
 */
int worker_job_run(pp_worker_t *w, const pp_convert_task_t *task,
		   pp_worker_outcome_t *outcome_r, char *error, size_t error_size);

/* worker-pages.c ------------------------------------------------------------------------ */

/*
 * Renders the page images a held job lacks among pages first..last (cut to its page count)
 * from its "pdf" document and adds them (convert_queue_add_outputs). Fills *outcome_r.
 * Returns 0, or -1 with error when the worker itself failed.
 */
int worker_pages_run(pp_worker_t *w, int64_t job_id, int first, int last,
		     pp_worker_outcome_t *outcome_r, char *error, size_t error_size);

/* worker-print.c ------------------------------------------------------------------------ */

/*
 * Serves one "print <job_id> <printer_id> <format>" packet (text, NUL-terminated): renders the
 * job's kept PDF for the printer and adds it as the job's "print" document, then answers
 * "done <job_id> ok|failed <reason>" on fd. Returns 0 after answering, or -1 when the packet
 * is malformed or the server is gone (the worker ends).
 */
int worker_print_serve(pp_worker_t *w, int fd, const char *text);

/* worker-serve.c ------------------------------------------------------------------------ */

/*
 * Serves the server's pool on socket fd (SOCK_SEQPACKET, worker-protocol.h): says ready,
 * then converts and renders what it is sent until the socket closes. Returns the process
 * exit code: 0 when the server closed the socket, 1 on a malformed message or a failure
 * that leaves a job unrecorded.
 */
int worker_serve(pp_worker_t *w, int fd);

/* worker-queue.c ------------------------------------------------------------------------ */

/*
 * Claims and converts jobs from the shared PostgreSQL database at url (w->core on it) until
 * SIGTERM or SIGINT, which the caller has blocked (the current job is finished first).
 * Returns the process exit code (0 after a signal; 1 when the database is SQLite or the
 * listener cannot be opened).
 */
int worker_queue_run(pp_worker_t *w, const char *url);

/* worker-file.c ------------------------------------------------------------------------- */

/*
 * `pullprint-convert file …` and `pullprint-convert render …`: argv holds the arguments after
 * the command word. config is the loaded configuration (borrowed); has_state is true when
 * --config or --state-dir named an installation (else temporary files go under $TMPDIR).
 * Return the process exit code.
 */
int worker_file_main(const pp_config_t *config, bool has_state, int argc, char **argv);
int worker_render_main(const pp_config_t *config, bool has_state, int argc, char **argv);

#endif
