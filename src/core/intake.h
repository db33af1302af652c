/*
 * intake.h - storing a submitted document: the spool file first, then the rows.
 *
 * Every way in (an IPP Print-Job body, a mail attachment, a portal upload) ends here. The
 * document is streamed into the spool (spool_writer_*), which publishes it atomically
 * (fsync, rename); only then does ONE transaction create the job (state received, a random
 * uuid) and its "original" document row naming the file id. A small document is not
 * published as a file: its sealed bytes go into that same transaction (inline-doc.h), so it
 * costs one flush. If the transaction fails, the file is deleted again. A crash between the two steps leaves a file no row names: at start,
 * intake_recover() removes such orphans (and temp files), so after any crash every row points
 * at a complete file and every file belongs to a row.
 *
 * Crash points for the fault-injection tests (fault.h): "intake.after_spool_finish",
 * "intake.before_commit", "intake.after_commit", "intake.attach_before_commit",
 * "intake.attach_after_commit", plus the spool's own and job_delete's
 * ("job_delete.before_commit", "job_delete.after_commit").
 */
#ifndef PP_INTAKE_H
#define PP_INTAKE_H

#include "core/core.h"
#include "core/job.h"
#include "core/options.h"
#include "spool/spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The document and who sent it. */
typedef struct {
	int64_t user_id;          /* owner; the caller has applied the sender policy already */
	const char *source;       /* ipp, mail, portal, api, cli … (1..31 bytes) */
	const char *title;        /* job title; NULL = name; cut at 255 bytes */
	const char *name;         /* document file name; may be NULL */
	const char *content_type; /* MIME type as sent; NULL = application/octet-stream */
	const pp_print_options_t *options; /* NULL = defaults */
	int64_t printer_id; /* combined flow: printer named at submission; 0 = hold */
	const char *pin;    /* IPP job-password (1..255 bytes); NULL = none */
} pp_intake_t;

/* What was stored. */
typedef struct {
	int64_t job_id;
	char uuid[JOB_UUID_MAX];
	char file_id[CRYPTO_ID_HEX_LEN + 1];
	int64_t size_bytes;
	pp_job_state_t state; /* as committed: received, or incoming (Create-Job) */
} pp_intake_result_t;

/*
 * Supplies the document: reads up to size bytes into buf. Returns the count (> 0), 0 at the
 * end, or -1 on an error (with a message in error[error_size]).
 */
typedef ssize_t pp_intake_read_fn(void *ctx, void *buf, size_t size, char *error,
                                  size_t error_size);

/*
 * Streams a document from read(ctx, …) into the spool, then creates its job and document
 * rows in one transaction (see the file comment). The spool's size limit applies; an empty
 * document is refused. Returns 0 with *result_r filled, or -1 with error (no file and no
 * row are left behind, crashes aside).
 */
int intake_store_document(pp_core_t *core, const pp_intake_t *doc, pp_intake_read_fn *read,
                          void *ctx, pp_intake_result_t *result_r, char *error, size_t error_size);

/*
 * The same for a caller that wrote the document itself (spool_writer_finish_small(), or
 * spool_writer_finish() with stored->sealed NULL): creates the rows, storing the sealed
 * bytes of a small document with them. The document belongs to intake from this call on:
 * its bytes are released and, on failure, its file deleted. Returns 0 with *result_r filled,
 * or -1 with error.
 */
int intake_store_spooled(pp_core_t *core, const pp_intake_t *doc, pp_spool_doc_t *stored,
                         pp_intake_result_t *result_r, char *error, size_t error_size);

/*
 * Create-Job: creates the job (state incoming, no document) with doc's owner, title, options
 * and pin; doc->name and content_type are not used. It expires (retention) if no document
 * arrives within timeout_s (IPP multiple-operation-time-out). Returns 0 with *result_r
 * filled (file_id "" and size 0), or -1.
 */
int intake_create_incoming(pp_core_t *core, const pp_intake_t *doc, int64_t timeout_s,
                           pp_intake_result_t *result_r, char *error, size_t error_size);

/*
 * Send-Document: attaches the spooled document (from spool_writer_finish_small(), or a file
 * from spool_writer_finish() with stored->sealed NULL) as the "original" document of incoming
 * job job_id owned by user_id, in one transaction; with is_last the job moves on to received
 * (expires_at from jobs.retention_hours) in the same transaction. One document per job. The
 * document belongs to intake from this call on: its bytes are released, and its file deleted
 * on any result but JOB_OK. Returns JOB_OK, JOB_NOT_FOUND (no such job of user_id),
 * JOB_STATE_LOST (no longer incoming: canceled or expired meanwhile), JOB_STATE_FORBIDDEN
 * (it has its document already) or -1. On JOB_OK *state_r (may be NULL) gets the state
 * committed: received with is_last, else still incoming.
 */
int intake_attach_spooled(pp_core_t *core, int64_t job_id, int64_t user_id,
                          pp_spool_doc_t *stored, const char *name, const char *content_type,
                          bool is_last, pp_job_state_t *state_r, char *error,
                          size_t error_size);

/*
 * Keeps incoming job job_id of user_id alive while its document is arriving: moves its
 * expiry to at least now + timeout_s, so a long upload is not expired by retention in the
 * middle. Call it when Send-Document begins and then every minute or so while bytes flow.
 * Returns JOB_OK, JOB_STATE_LOST (not incoming, or not of user_id) or -1.
 */
int intake_keep_incoming(pp_core_t *core, int64_t job_id, int64_t user_id, int64_t timeout_s,
                         char *error, size_t error_size);

/*
 * Close-Job (or Send-Document with last-document and no data): an incoming job of user_id with
 * its document moves to received; one without moves to canceled ("no document was sent").
 * *state_r gets the state it is in afterwards. Returns JOB_OK, JOB_NOT_FOUND, JOB_STATE_LOST
 * (not incoming) or -1.
 */
int intake_close_incoming(pp_core_t *core, int64_t job_id, int64_t user_id,
                          pp_job_state_t *state_r, char *error, size_t error_size);

/* What intake_recover() found. */
typedef struct {
	unsigned files_removed; /* orphans and temp files */
} pp_intake_recovery_t;

/*
 * Startup recovery: removes spool files that no documents row names, and temp files, older
 * than min_age_s seconds (0 when this host is the only one using the spool; a few minutes when
 * several servers share it). Run it before accepting work. Returns 0 or -1 (the database could
 * not answer: nothing more is removed).
 */
int intake_recover(pp_core_t *core, unsigned min_age_s, pp_intake_recovery_t *stats_r, char *error,
                   size_t error_size);

#endif
