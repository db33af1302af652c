/*
 * job.h - jobs and their documents as stored: create, read, list, delete.
 *
 * A job is one submitted document of one user with its print options; its files (the
 * original and every derivative) are rows of `documents`, each naming a spool file. States
 * change only through the state machine (job-state.h); submissions come in through intake
 * (intake.h), which writes the spool file first and then creates the rows.
 *
 * Deleting removes the rows in one transaction first and the spool files after the commit:
 * a crash in between leaves orphan files (removed by intake_recover()), never a row that
 * points at a missing file.
 */
#ifndef PP_JOB_H
#define PP_JOB_H

#include "core/core.h"
#include "core/job-state.h"
#include "core/options.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_TITLE_MAX 256 /* with the terminator; longer titles are cut at a UTF-8 boundary */
#define JOB_SOURCE_MAX 32
#define JOB_UUID_MAX (CRYPTO_ID_HEX_LEN + 1)
#define JOB_LIST_MAX 1000 /* most rows one list call returns */
#define JOB_DOC_NAME_MAX 256
#define JOB_DOC_ROLE_MAX 32
#define JOB_CONTENT_TYPE_MAX 128
#define JOB_PIN_MAX 256 /* IPP job-password: at most 255 octets, with the terminator */

typedef struct {
	int64_t id;              /* the IPP job-id */
	char uuid[JOB_UUID_MAX]; /* the id in URLs */
	int64_t user_id;
	pp_job_state_t state;
	char state_reason[JOB_REASON_MAX];
	char title[JOB_TITLE_MAX];
	char source[JOB_SOURCE_MAX]; /* ipp, mail, portal, api, cli … */
	pp_print_options_t options;
	int64_t printer_id;  /* 0 = none chosen yet */
	bool is_combined;    /* printer named at submission: released as soon as held */
	int64_t pages;       /* document pages; -1 until counted */
	int64_t color_pages; /* -1 until counted */
	int64_t size_bytes;
	int64_t created_at, updated_at;               /* Unix seconds */
	int64_t released_at, finished_at, expires_at; /* 0 when not set */
	bool has_pin; /* sent with a job-password: releasable with it (job_pin_verify()) */
} pp_job_t;

typedef struct {
	int64_t id;
	int64_t job_id;
	char role[JOB_DOC_ROLE_MAX];         /* original, pdf, print, thumb:N, preview:N */
	char file_id[CRYPTO_ID_HEX_LEN + 1]; /* spool file name */
	char name[JOB_DOC_NAME_MAX];
	char content_type[JOB_CONTENT_TYPE_MAX];
	int64_t size_bytes;
	int64_t created_at;
} pp_document_t;

/* What job_create() needs. */
typedef struct {
	int64_t user_id;
	const char *source;                /* required, 1..31 bytes */
	const char *title;                 /* NULL = "" */
	const pp_print_options_t *options; /* NULL = defaults; validated */
	int64_t printer_id; /* combined flow: the printer named at submission; 0 = hold */
	int64_t size_bytes;
	const char *pin; /* job-password as sent (1..255 bytes); NULL = none. Stored as a keyed hash */
	bool is_incoming; /* Create-Job: state incoming (document to come), not received */
	int64_t incoming_timeout_s; /* with is_incoming: expires_at = now + this */
} pp_job_new_t;

/*
 * Inserts a job in state received with a new random uuid and expires_at = now +
 * jobs.retention_hours (with is_incoming: state incoming, expires_at = now +
 * incoming_timeout_s). Runs on the handle as it is: inside the caller's transaction when it
 * holds one (intake does), on its own otherwise. Fills job_r (may be NULL) with the new row.
 * Returns 0 or -1.
 */
int job_create(pp_core_t *core, const pp_job_new_t *job, pp_job_t *job_r, char *error,
               size_t error_size);

/*
 * Adds a document row for spool file file_id to job_id (on the handle as it is, like
 * job_create()). role, file_id required; name and content_type may be NULL.
 * Returns 0 or -1 (DB_DUPLICATE for a file id already used).
 */
int job_document_add(pp_core_t *core, int64_t job_id, const char *role, const char *file_id,
                     const char *name, const char *content_type, int64_t size_bytes,
                     int64_t *document_id_r, char *error, size_t error_size);

/*
 * The same for a small document kept in the database: its row also holds sealed[sealed_len]
 * (the sealed spool bytes, see inline-doc.h; NULL = a spool file). Returns 0 or -1
 * (DB_DUPLICATE for a file id already used).
 */
int job_document_add_sealed(pp_core_t *core, int64_t job_id, const char *role,
                            const char *file_id, const char *name, const char *content_type,
                            int64_t size_bytes, const uint8_t *sealed, size_t sealed_len,
                            char *error, size_t error_size);

/*
 * Checks pin against the job-password job_id was sent with, in constant time. *match_r is
 * false for a wrong pin or a job without one. Throttling guesses is the caller's duty (the
 * release step counts failures like wrong codes). Returns 0, JOB_NOT_FOUND or -1.
 */
int job_pin_verify(pp_core_t *core, int64_t job_id, const char *pin, bool *match_r, char *error,
                   size_t error_size);

/* Reads job id into *job_r. Returns 0, JOB_NOT_FOUND or -1. */
int job_get(pp_core_t *core, int64_t id, pp_job_t *job_r, char *error, size_t error_size);

/* Reads the job with this uuid into *job_r. Returns 0, JOB_NOT_FOUND or -1. */
int job_get_by_uuid(pp_core_t *core, const char *uuid, pp_job_t *job_r, char *error,
                    size_t error_size);

/*
 * Lists user_id's jobs, newest first, through the jobs_user_state index. states is a set of
 * JOB_STATE_BIT()s (0 = every state). cursor is 0 for the first page, else the next_cursor
 * of the page before; at most limit (1..JOB_LIST_MAX) rows. *jobs_r is new (free with
 * job_list_free()), *count_r rows; *next_cursor_r is 0 when there is no further page.
 * Returns 0 or -1.
 */
int job_list_for_user(pp_core_t *core, int64_t user_id, uint32_t states, size_t limit,
                      int64_t cursor, pp_job_t **jobs_r, size_t *count_r, int64_t *next_cursor_r,
                      char *error, size_t error_size);

/* The same for every user (administration), newest first. */
int job_list(pp_core_t *core, uint32_t states, size_t limit, int64_t cursor, pp_job_t **jobs_r,
             size_t *count_r, int64_t *next_cursor_r, char *error, size_t error_size);

/* Frees a list from job_list*() and sets *jobs to NULL. NULL is a no-op. */
void job_list_free(pp_job_t **jobs);

/* What job_changes_since() reports of one job: enough to tell whether it changed. */
typedef struct {
	int64_t id;
	pp_job_state_t state; /* a state this program does not know reads as failed */
	int64_t updated_at;   /* Unix seconds */
	int64_t pages;        /* -1 until counted */
} pp_job_change_t;

/*
 * The jobs of user_id updated at or after since (Unix seconds), oldest change first (by
 * updated_at, then id), at most max (1..JOB_LIST_MAX) into changes[max]: what an event
 * stream polls to tell a user's apps about new and changed jobs. *count_r rows.
 * Returns 0 or -1.
 */
int job_changes_since(pp_core_t *core, int64_t user_id, int64_t since, pp_job_change_t *changes,
                      size_t max, size_t *count_r, char *error, size_t error_size);

/*
 * Replaces the print options of job_id with options (validated first) while the job still
 * waits: incoming, received, converting or held; once released the printer has what it was
 * sent. user_id > 0 limits the change to that user's job (0 = any owner: administration).
 * Sets updated_at. Returns 0; JOB_NOT_FOUND (no such job of that user); JOB_STATE_FORBIDDEN
 * (released or ended: nothing changed); or -1 (options invalid, storage error).
 */
int job_set_options(pp_core_t *core, int64_t job_id, int64_t user_id,
                    const pp_print_options_t *options, char *error, size_t error_size);

/*
 * Lists the documents of job_id, oldest first (at most 1000). *docs_r is new (free with
 * job_documents_free()), *count_r rows. Returns 0 or -1.
 */
int job_documents(pp_core_t *core, int64_t job_id, pp_document_t **docs_r, size_t *count_r,
                  char *error, size_t error_size);

/* Frees a list from job_documents() and sets *docs to NULL. NULL is a no-op. */
void job_documents_free(pp_document_t **docs);

/*
 * Deletes job_id with its documents: rows in one transaction, then the spool files.
 * A job in releasing or printing is refused (JOB_STATE_FORBIDDEN: cancel it first, the
 * delivery holds its file). A spool file that cannot be removed is logged and left to
 * intake_recover(). Returns 0, JOB_NOT_FOUND, JOB_STATE_FORBIDDEN or -1.
 */
int job_delete(pp_core_t *core, int64_t job_id, char *error, size_t error_size);

/*
 * Deletes the document rows of job_id in one transaction, then their spool files; the job row
 * stays (history). Used by retention for finished jobs. *files_r (may be NULL) gets the
 * number of documents dropped. Returns 0 or -1.
 */
int job_drop_documents(pp_core_t *core, int64_t job_id, size_t *files_r, char *error,
                       size_t error_size);

/*
 * Copies src into dst[size], cut at a UTF-8 character boundary when it does not fit (titles,
 * reasons and names come from mail subjects and clients: cut rather than refuse). NULL src
 * gives "".
 */
void job_text_copy(char *dst, size_t size, const char *src);

#endif
