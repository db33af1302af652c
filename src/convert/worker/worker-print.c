/*
 * worker-print.c - print data at release: the server's delivery manager asks a worker for
 * "print <job_id> <printer_id> <format>" when the chosen printer does not take the kept PDF
 * as it is. The worker renders the job's "pdf" document with the job's options for that
 * printer (its colour, resolution, and the paper that delivery also chooses: printer-caps.h)
 * in the converter's sandboxed child (output.h), stores the result as the job's "print"
 * document (content type of the format; the newest one is the one sent) and answers
 * "done <job_id> ok|failed <reason>".
 * The job's state is not changed here: delivery owns it.
 */
#include "convert/worker/worker.h"

#include "convert/output.h"
#include "convert/worker-protocol.h"
#include "core/job.h"
#include "core/printers.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Sets the outcome to failed with reason; returns 0. */
static int worker_print_refuse(pp_worker_outcome_t *outcome_r, const char *reason)
{
	outcome_r->is_ok = false;
	(void)str_copy(outcome_r->reason, sizeof(outcome_r->reason), reason);
	return 0;
}

/*
 * The render request for printer's capabilities and the job's options. The paper is the one
 * decision every release path makes (printer_caps_media_at_release(): the job's size when the
 * printer has it, else A4 <-> Letter by the paper loaded now or by the capabilities): the
 * converter gets that one medium as the printer's, so it renders on it, shrinking the pages
 * when it differs from the job's. Returns 0, or -1 when a media name does not fit.
 */
static int worker_print_request(pp_core_t *core, int64_t job_id, const pp_job_t *job,
				const pp_printer_t *printer, pp_output_format_t format,
				const char *dir, pp_converter_request_t *req_r)
{
	converter_request_init(req_r, CONVERTER_REQ_RENDER, dir);
	req_r->format = format;
	req_r->options = job->options;
	req_r->resolution_dpi = printer->caps.resolution_dpi;
	req_r->printer_is_color = printer->caps.is_color;
	req_r->fit_to_page = false; /* as previewed: 100 %, centred */
	if (job->options.media[0] == '\0')
		return 0; /* nothing asked: the converter's default, nothing to substitute */
	char media[PRINTER_CAPS_NAME_MAX];
	bool is_by_loaded = false;
	if (printer_caps_media_at_release(core, printer->id, &printer->caps, job->options.media,
					  media, sizeof(media), &is_by_loaded))
		log_info("convert: job=%lld: printer=%s has no %s loaded: printing on %s (by %s)",
			 (long long)job_id, printer->name, job->options.media, media,
			 is_by_loaded ? "media_ready" : "capabilities");
	if (!str_copy(req_r->printer_media[0], sizeof(req_r->printer_media[0]), media))
		return -1;
	req_r->n_printer_media = 1;
	return 0;
}

/*
 * Renders job_id for printer_id as format and adds the "print" document. Fills *outcome_r.
 * Returns 0 (outcome set), or -1 with error when the worker itself failed.
 */
static int worker_print_run(pp_worker_t *w, int64_t job_id, int64_t printer_id,
			    pp_output_format_t format, pp_worker_outcome_t *outcome_r,
			    char *error, size_t error_size)
{
	memset(outcome_r, 0, sizeof(*outcome_r));
	pp_job_t job;
	int rc = job_get(w->core, job_id, &job, error, error_size);
	if (rc == JOB_NOT_FOUND ||
	    (rc == JOB_OK && job.state != PP_JOB_RELEASING && job.state != PP_JOB_PRINTING))
		return worker_print_refuse(outcome_r, "the job is not being released any more");
	if (rc != JOB_OK)
		return -1;
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	if (printer == NULL) {
		(void)str_copy(error, error_size, "out of memory");
		return -1;
	}
	rc = printers_get(w->core, printer_id, printer, error, error_size);
	if (rc != 0) {
		free(printer);
		return rc == PRINTERS_NOT_FOUND
			       ? worker_print_refuse(outcome_r, "the printer was removed")
			       : -1;
	}
	pp_document_t *docs = NULL;
	size_t n_docs = 0;
	char pdf_id[CRYPTO_ID_HEX_LEN + 1] = "";
	if (job_documents(w->core, job_id, &docs, &n_docs, error, error_size) < 0) {
		free(printer);
		return -1;
	}
	for (size_t i = 0; i < n_docs; i++) {
		if (strcmp(docs[i].role, "pdf") == 0)
			(void)str_copy(pdf_id, sizeof(pdf_id), docs[i].file_id);
	}
	job_documents_free(&docs);
	if (pdf_id[0] == '\0') {
		free(printer);
		return worker_print_refuse(outcome_r, "the job has no converted document");
	}

	char dir[PATH_MAX];
	if (worker_tmpdir_open(w, dir, sizeof(dir), error, error_size) < 0) {
		free(printer);
		return -1;
	}
	pp_converter_request_t *req = calloc(1, sizeof(*req));
	rc = req != NULL ? 0 : -1;
	if (rc < 0)
		(void)str_copy(error, error_size, "out of memory");
	if (rc == 0)
		rc = worker_stage_from_spool(w, pdf_id, dir, WORKER_PDF_NAME, error, error_size);
	if (rc == 0 && worker_print_request(w->core, job_id, &job, printer, format, dir, req) < 0) {
		(void)str_copy(error, error_size, "a media name of the printer is too long");
		rc = -1;
	}
	pp_converter_reply_t reply;
	double start_ms = worker_now_ms();
	if (rc == 0)
		rc = worker_converter_call(w, req, &reply, error, error_size);
	if (rc == 0 && reply.result.outcome != SANDBOX_OK) {
		worker_reason_of(&reply.result, outcome_r->reason, sizeof(outcome_r->reason));
	} else if (rc == 0) {
		worker_outputs_t out;
		rc = worker_outputs_alloc(&out, 1, error, error_size);
		if (rc == 0) {
			rc = worker_outputs_add(w, &out, dir, WORKER_RENDER_OUTPUT_NAME, "print",
						output_format_mime(format), error, error_size);
			if (rc == SPOOL_TOO_LARGE) {
				(void)worker_print_refuse(outcome_r, error);
				rc = 0;
			} else if (rc == 0 &&
				   convert_queue_add_outputs(w->core, job_id, out.outputs, out.count,
							     error, error_size) < 0) {
				worker_outputs_delete(w, &out);
				rc = -1;
			} else if (rc == 0) {
				outcome_r->is_ok = true;
				log_info("convert: job=%lld: print data for printer=%s format=%s "
					 "in %.0f ms",
					 (long long)job_id, printer->name, output_format_name(format),
					 worker_now_ms() - start_ms);
			}
			worker_outputs_free(&out);
		}
	}
	char wipe_error[256];
	if (sandbox_tmpdir_wipe(dir, wipe_error, sizeof(wipe_error)) < 0)
		log_error("convert: job=%lld: cannot remove %s: %s — remove it by hand",
			  (long long)job_id, dir, wipe_error);
	free(req);
	free(printer);
	return rc;
}

/* Parses "print <job_id> <printer_id> <format>". Returns true when well-formed. */
static bool worker_print_parse(const char *text, int64_t *job_id_r, int64_t *printer_id_r,
			       pp_output_format_t *format_r)
{
	const char *p = text;
	uint64_t job = 0, printer = 0;
	if (!str_has_prefix(p, "print "))
		return false;
	p += strlen("print ");
	if (!parse_uint64(&p, INT64_MAX, &job) || job == 0 || *p != ' ')
		return false;
	p++;
	if (!parse_uint64(&p, INT64_MAX, &printer) || printer == 0 || *p != ' ')
		return false;
	p++;
	if (!output_format_parse(p, format_r))
		return false;
	*job_id_r = (int64_t)job;
	*printer_id_r = (int64_t)printer;
	return true;
}

/* Sends one answer packet. Returns 0, or -1 when the server is gone. */
static int worker_print_send(int fd, const char *message)
{
	size_t len = strlen(message);
	ssize_t n;
	do {
		n = send(fd, message, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		log_error("convert: cannot send to the server: %s",
			  n < 0 ? strerror(errno) : "short send");
		return -1;
	}
	return 0;
}

int worker_print_serve(pp_worker_t *w, int fd, const char *text)
{
	int64_t job_id = 0, printer_id = 0;
	pp_output_format_t format;
	if (!worker_print_parse(text, &job_id, &printer_id, &format)) {
		log_error("convert: malformed print request from the server: ending");
		return -1;
	}
	char error[1024];
	pp_worker_outcome_t outcome;
	if (worker_print_run(w, job_id, printer_id, format, &outcome, error, sizeof(error)) < 0) {
		log_error("convert: job=%lld: print data for printer %lld: %s", (long long)job_id,
			  (long long)printer_id, error);
		outcome.is_ok = false;
		(void)str_copy(outcome.reason, sizeof(outcome.reason),
			       "the converter could not prepare the print data");
	}
	char message[WORKER_MESSAGE_MAX];
	if (outcome.is_ok) {
		(void)str_format(message, sizeof(message), "done %lld ok", (long long)job_id);
	} else {
		char reason[CONVERT_ERROR_MAX];
		job_text_copy(reason, sizeof(reason),
			      outcome.reason[0] != '\0' ? outcome.reason : "unknown");
		for (char *c = reason; *c != '\0'; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = ' ';
		}
		(void)str_format(message, sizeof(message), "done %lld failed %.900s",
				 (long long)job_id, reason);
	}
	return worker_print_send(fd, message);
}
