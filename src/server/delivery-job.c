/*
 * delivery-job.c - one delivery attempt: a released job's data to one printer, and the state
 * moves around it; see delivery.h for the rules and delivery-private.h for the contract.
 *
 * The data never exists in plaintext on disk in the server: the spool reader decrypts piece
 * by piece into deliver_send()'s read callback.
 */
#include "server/delivery-private.h"

#include "core/convert-queue.h"
#include "core/job.h"
#include "core/users.h"
#include "db/db.h"
#include "lib/log.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdlib.h>
#include <string.h>

/* An output format's name (printer-caps.h, output.h) and what it is called elsewhere. */
typedef struct {
	const char *name;
	const char *mime;
	const char *pjl_language; /* ENTER LANGUAGE; NULL = none (raster is not PJL's) */
} delivery_format_t;

static const delivery_format_t delivery_formats[] = {
    {"pdf", "application/pdf", "PDF"},
    {"pwg", "image/pwg-raster", NULL},
    {"urf", "image/urf", NULL},
    {"ps", "application/postscript", "POSTSCRIPT"},
    {"pcl5", "application/vnd.hp-pcl", "PCL"},
    {"pcl6", "application/vnd.hp-pclxl", "PCLXL"},
};

static const delivery_format_t *delivery_format_find(const char *name)
{
	for (size_t i = 0; i < sizeof(delivery_formats) / sizeof(delivery_formats[0]); i++) {
		if (strcmp(delivery_formats[i].name, name) == 0)
			return &delivery_formats[i];
	}
	return NULL;
}

/* The read callback's context: the spool reader and the move to printing on first data. */
typedef struct {
	pp_core_t *core;
	delivery_task_t *task;
	pp_spool_reader_t *reader;
	bool is_lost;
	char error[256];
} delivery_reader_t;

static ssize_t delivery_read(void *arg, void *buf, size_t size)
{
	delivery_reader_t *r = arg;
	if (!r->task->is_printing) {
		/* The printer is connected and asks for data: the job is printing now. Losing
		 * this move means the job was canceled (or another host sends it): stop before
		 * the first byte of the document. */
		char error[DB_ERROR_MAX];
		int rc = job_transition(r->core, r->task->job_id, PP_JOB_RELEASING, PP_JOB_PRINTING,
		                        NULL, error, sizeof(error));
		if (rc != JOB_OK) {
			if (rc == JOB_ERROR)
				log_error("delivery.printing_failed job=%lld error=\"%s\"",
				          (long long)r->task->job_id, error);
			r->is_lost = rc != JOB_ERROR;
			r->task->cancel = 1;
			(void)str_copy(r->error, sizeof(r->error), "the job changed meanwhile");
			return -1;
		}
		r->task->is_printing = true;
	}
	ssize_t n = spool_reader_read(r->reader, buf, size, r->error, sizeof(r->error));
	if (n < 0)
		log_error("delivery.read_failed job=%lld error=\"%s\"", (long long)r->task->job_id,
		          r->error);
	return n;
}

/* The document of role (the newest), or false. */
static bool delivery_find_document(const pp_document_t *docs, size_t n, const char *role,
                                   pp_document_t *doc_r)
{
	bool is_found = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(docs[i].role, role) == 0) {
			*doc_r = docs[i];
			is_found = true;
		}
	}
	return is_found;
}

/*
 * Pages per copy as printed and colour pages among them: the pages inside the ranges; the
 * colour ones counted from the converter's page analysis when there are ranges; none in
 * colour on a monochrome printer or for a monochrome job.
 */
static void delivery_count_pages(pp_core_t *core, const pp_job_t *job, bool is_color_printer,
                                 int64_t *pages_r, int64_t *color_r)
{
	int64_t doc_pages = job->pages > 0 ? job->pages : 0;
	int64_t color = job->color_pages > 0 ? job->color_pages : 0;
	*pages_r = options_selected_pages(&job->options, doc_pages);
	if (job->options.n_page_ranges > 0) {
		char error[DB_ERROR_MAX];
		char *info = NULL;
		int64_t in_ranges = 0;
		int rc = convert_queue_page_info(core, job->id, &info, error, sizeof(error));
		if (rc == JOB_OK && options_selected_color_pages(&job->options, info, &in_ranges))
			color = in_ranges;
		else if (rc == JOB_ERROR)
			log_warn("delivery.page_info_failed job=%lld error=\"%s\" action=\"colour "
			         "pages are counted for the whole document\"",
			         (long long)job->id, error);
		free(info);
	}
	if (job->options.color_mode == PP_COLOR_MONOCHROME || !is_color_printer)
		color = 0;
	*color_r = color < *pages_r ? color : *pages_r;
}

/* What the owner reads when the job's data is gone: no printer can help. */
#define DELIVERY_DATA_LOST                                                                     \
	"Your document cannot be read on this server any more; your job is held again: "     \
	"delete it and submit the document again."

/*
 * Sets the outcome and its message: for RETRY a phrase for the log (the owner's reason is
 * delivery.c's), for PERMANENT the whole sentence the owner reads (delivery_refuse()).
 */
static void delivery_fail(delivery_result_t *result, pp_deliver_outcome_t outcome,
                          const char *message)
{
	result->outcome = outcome;
	job_text_copy(result->message, sizeof(result->message), message);
}

/*
 * Fails the attempt for good with the sentence the job's owner reads on held:
 * "The printer <name> <what>; your job is held again: <todo>." (what and todo are short
 * static phrases; the technical detail goes to the log at the caller). The sentence is
 * whole within JOB_REASON_MAX: a name too long for it is left out, never cut.
 */
static void delivery_refuse(delivery_result_t *result, const char *what, const char *todo)
{
	result->outcome = DELIVER_PERMANENT;
	char reason[JOB_REASON_MAX];
	const char *name = result->printer_name;
	if (name[0] == '\0' ||
	    !str_format(reason, sizeof(reason), "The printer %s %s; your job is held again: %s.",
	                name, what, todo))
		(void)str_format(reason, sizeof(reason), "The printer %s; your job is held again: %s.",
		                 what, todo);
	(void)str_copy(result->message, sizeof(result->message), reason);
}

/*
 * Paper substitution for the printer's media option: the job's media when the printer has
 * it, else A4 <-> Letter, judged by the paper its cached status says is loaded now, else by
 * its capabilities (printer_caps_media_at_release(): the converter renders on the same
 * choice). Changes options->media.
 */
static void delivery_choose_media(pp_core_t *core, const pp_printer_t *printer,
                                  int64_t job_id, pp_print_options_t *options)
{
	char media[PRINTER_CAPS_NAME_MAX];
	bool is_by_loaded = false;
	if (!printer_caps_media_at_release(core, printer->id, &printer->caps, options->media,
	                                   media, sizeof(media), &is_by_loaded))
		return;
	log_info("delivery.media_substituted job=%lld printer=%s asked=%s printed_on=%s by=%s",
	         (long long)job_id, printer->name, options->media, media,
	         is_by_loaded ? "media_ready" : "capabilities");
	(void)str_copy(options->media, sizeof(options->media), media);
}

/* Everything one attempt reads before it sends. */
typedef struct {
	pp_job_t job;
	pp_printer_t printer;
	pp_user_t user;
	pp_document_t doc;
	const delivery_format_t *format;
	bool is_as_is; /* the kept PDF goes as it is (the printer lays it out) */
} delivery_plan_t;

/*
 * Reads the job, its printer and owner, and chooses the data (rendering it through the pool
 * when needed). Returns 0, or -1 with result filled (is_lost, or a fault).
 */
static int delivery_prepare(pp_core_t *core, const pp_delivery_config_t *config,
                            delivery_task_t *task, delivery_plan_t *plan,
                            delivery_result_t *result)
{
	char error[DB_ERROR_MAX];
	int rc = job_get(core, task->job_id, &plan->job, error, sizeof(error));
	if (rc == JOB_NOT_FOUND ||
	    (rc == JOB_OK && plan->job.state != PP_JOB_RELEASING &&
	     !(plan->job.state == PP_JOB_PRINTING && task->is_printing))) {
		result->is_lost = true;
		return -1;
	}
	if (rc != JOB_OK) {
		delivery_fail(result, DELIVER_RETRY, "the server's database did not answer");
		log_error("delivery.job_read_failed job=%lld error=\"%s\"", (long long)task->job_id,
		          error);
		return -1;
	}
	rc = printers_get(core, task->printer_id, &plan->printer, error, sizeof(error));
	if (rc == PRINTERS_NOT_FOUND) {
		delivery_refuse(result, "was removed", "release it to another printer");
		return -1;
	}
	if (rc != 0) {
		delivery_fail(result, DELIVER_RETRY, "the server's database did not answer");
		log_error("delivery.printer_read_failed job=%lld printer=%lld error=\"%s\"",
		          (long long)task->job_id, (long long)task->printer_id, error);
		return -1;
	}
	(void)str_copy(result->printer_name, sizeof(result->printer_name), plan->printer.name);
	if (!plan->printer.is_enabled) {
		delivery_refuse(result, "was disabled by an administrator",
		                "release it to another printer");
		return -1;
	}
	bool is_found = false;
	if (users_get_by_id(core, plan->job.user_id, &plan->user, &is_found, error,
	                    sizeof(error)) < 0 ||
	    !is_found)
		(void)str_copy(plan->user.email, sizeof(plan->user.email), "pullprint");

	/* The format: the admin's choice, else the best the printer takes. */
	const char *name = printer_caps_choose_format(
	    &plan->printer.caps,
	    plan->printer.output_format[0] != '\0' ? plan->printer.output_format : "auto");
	plan->format = name != NULL ? delivery_format_find(name) : NULL;
	if (plan->format == NULL) {
		log_error("delivery.format_unknown job=%lld printer=%s output_format=\"%s\" "
		          "action=\"set the printer's output format to auto\"",
		          (long long)task->job_id, plan->printer.name, plan->printer.output_format);
		delivery_refuse(result, "is not set up right (output format)",
		                "release it to another printer and tell the administrator");
		return -1;
	}
	/* PDF as it is when the printer can do the layout: IPP printers are asked for n-up,
	 * orientation and page ranges; over RAW and LPD there is no way to ask, so a job that
	 * needs them is rendered. */
	const pp_print_options_t *o = &plan->job.options;
	bool is_ipp = str_has_prefix(plan->printer.device_uri, "ipp://") ||
	              str_has_prefix(plan->printer.device_uri, "ipps://");
	bool needs_layout = o->number_up > 1 || o->n_page_ranges > 0 ||
	                    o->orientation != PP_ORIENTATION_AUTO;
	plan->is_as_is = strcmp(plan->format->name, "pdf") == 0 && (is_ipp || !needs_layout);

	pp_document_t *docs = NULL;
	size_t n_docs = 0;
	if (!plan->is_as_is && task->print_ready_printer_id != task->printer_id) {
		char reason[256] = "";
		if (config->pool == NULL) {
			log_error("delivery.no_converter job=%lld printer=%s format=%s "
			          "action=\"start the conversion workers ([convert]) or give the "
			          "printer a format it takes as is\"",
			          (long long)task->job_id, plan->printer.name, plan->format->name);
			delivery_refuse(result, "needs a converter that this server does not run",
			                "release it to another printer and tell the administrator");
			return -1;
		}
		unsigned timeout = config->render_timeout_s > 0 ? config->render_timeout_s
		                                                : DELIVERY_RENDER_TIMEOUT_S_DEFAULT;
		if (convert_pool_request_print(config->pool, task->job_id, task->printer_id,
		                               plan->format->name, timeout, reason,
		                               sizeof(reason)) < 0) {
			log_warn("delivery.render_failed job=%lld printer=%s format=%s error=\"%s\"",
			         (long long)task->job_id, plan->printer.name, plan->format->name,
			         reason);
			delivery_refuse(result, "could not get your document in its format",
			                "release it to another printer");
			return -1;
		}
		task->print_ready_printer_id = task->printer_id;
	}
	if (job_documents(core, task->job_id, &docs, &n_docs, error, sizeof(error)) < 0) {
		delivery_fail(result, DELIVER_RETRY, "the server's database did not answer");
		return -1;
	}
	is_found = delivery_find_document(docs, n_docs, plan->is_as_is ? "pdf" : "print",
	                                  &plan->doc);
	job_documents_free(&docs);
	if (!is_found || (!plan->is_as_is &&
	                  strcmp(plan->doc.content_type, plan->format->mime) != 0)) {
		task->print_ready_printer_id = 0;
		log_error("delivery.data_missing job=%lld printer=%s role=%s",
		          (long long)task->job_id, plan->printer.name,
		          plan->is_as_is ? "pdf" : "print");
		delivery_fail(result, DELIVER_PERMANENT, DELIVERY_DATA_LOST);
		return -1;
	}
	return 0;
}

void delivery_attempt(pp_core_t *core, const pp_delivery_config_t *config, delivery_task_t *task,
                      delivery_result_t *result)
{
	memset(result, 0, sizeof(*result));
	delivery_plan_t *plan = calloc(1, sizeof(*plan));
	if (plan == NULL) {
		delivery_fail(result, DELIVER_RETRY, "the server ran out of memory");
		return;
	}
	if (delivery_prepare(core, config, task, plan, result) < 0) {
		free(plan);
		return;
	}
	char error[256];
	delivery_reader_t reader = {.core = core, .task = task};
	if (core->spool == NULL ||
	    spool_reader_open(core->spool, plan->doc.file_id, &reader.reader, error,
	                      sizeof(error)) < 0) {
		log_error("delivery.open_failed job=%lld file=%s error=\"%s\"",
		          (long long)task->job_id, plan->doc.file_id,
		          core->spool == NULL ? "no spool" : error);
		delivery_fail(result, DELIVER_PERMANENT, DELIVERY_DATA_LOST);
		free(plan);
		return;
	}

	/* Rendered data carries its copies and layout already: the printer makes one. */
	pp_print_options_t options = plan->job.options;
	if (!plan->is_as_is) {
		options.copies = 1;
		options.number_up = 1;
		options.n_page_ranges = 0;
	}
	delivery_choose_media(core, &plan->printer, task->job_id, &options);
	bool is_socket = str_has_prefix(plan->printer.device_uri, "socket://");
	pp_deliver_request_t req = {
	    .device_uri = plan->printer.device_uri,
	    .content_type = plan->format->mime,
	    .read = delivery_read,
	    .read_ctx = &reader,
	    .size_bytes = plan->doc.size_bytes >= 0 ? plan->doc.size_bytes : -1,
	    .job_name = plan->job.title[0] != '\0' ? plan->job.title : "Pullprint job",
	    .user_name = plan->user.email,
	    .job_uuid = plan->job.uuid,
	    .options = &options,
	    .pass_layout_options = plan->is_as_is,
	    .use_pjl = is_socket && plan->printer.caps.speaks_pjl &&
	               plan->format->pjl_language != NULL,
	    .pjl_language = plan->format->pjl_language,
	    .connect_timeout_s = config->connect_timeout_s,
	    .io_timeout_s = config->io_timeout_s,
	    .follow_timeout_s = config->follow_timeout_s,
	    .cancel = &task->cancel,
	    .tls_pin = plan->printer.tls_pin,
	};
	log_info("delivery.sending job=%lld printer=%s format=%s as_is=%s attempt=%u",
	         (long long)task->job_id, plan->printer.name, plan->format->name,
	         plan->is_as_is ? "yes" : "no", task->attempt);
	pp_deliver_result_t sent;
	if (deliver_send(&req, &sent, error, sizeof(error)) < 0) {
		log_error("delivery.request_refused job=%lld printer=%s error=\"%s\" "
		          "action=\"check the printer's device URI\"",
		          (long long)task->job_id, plan->printer.name, error);
		delivery_refuse(result, "has an address this server cannot use",
		                "release it to another printer and tell the administrator");
	} else if (sent.outcome == DELIVER_PERMANENT) {
		/* The printer's or libcups's words are for the admin's log, not the owner. */
		log_warn("delivery.sent job=%lld printer=%s outcome=permanent bytes=%lld "
		         "seconds=%.3f message=\"%s\"",
		         (long long)task->job_id, plan->printer.name, (long long)sent.bytes_sent,
		         sent.seconds, sent.message);
		/* An IPPS certificate refused before any data: the owner learns it is the
		 * printer's identity (deliver-tls.c's words name the certificate). */
		bool is_certificate = str_has_prefix(plan->printer.device_uri, "ipps://") &&
		                      sent.bytes_sent == 0 &&
		                      strstr(sent.message, "certificate") != NULL;
		if (is_certificate && plan->printer.tls_pin[0] != '\0')
			delivery_refuse(result, "has changed its certificate since it was pinned",
			                "release it to another printer and ask the administrator to "
			                "check it (pullprint printers trust)");
		else if (is_certificate)
			delivery_refuse(result, "has a certificate that is not trusted",
			                "release it to another printer and ask the administrator to "
			                "check and pin it (pullprint printers trust)");
		else
			delivery_refuse(result, "refused this job",
			                "release it to another printer or ask the administrator");
	} else {
		result->outcome = sent.outcome;
		(void)str_copy(result->message, sizeof(result->message), sent.message);
		log_info("delivery.sent job=%lld printer=%s outcome=%s bytes=%lld seconds=%.3f "
		         "message=\"%s\"",
		         (long long)task->job_id, plan->printer.name,
		         deliver_outcome_name(sent.outcome), (long long)sent.bytes_sent,
		         sent.seconds, sent.message);
	}
	spool_reader_close(&reader.reader);
	if (reader.is_lost) {
		result->is_lost = true;
		free(plan);
		return;
	}
	if (result->outcome == DELIVER_DONE) {
		/* Nothing was read (an empty document): the move to printing is still owed. */
		int rc = JOB_OK;
		if (!task->is_printing) {
			rc = job_transition(core, task->job_id, PP_JOB_RELEASING, PP_JOB_PRINTING,
			                    NULL, error, sizeof(error));
			task->is_printing = rc == JOB_OK;
		}
		pp_job_transition_t how = {.reason = "", .has_pages = true};
		delivery_count_pages(core, &plan->job, plan->printer.caps.is_color, &how.pages,
		                     &how.color_pages);
		if (rc == JOB_OK)
			rc = job_transition(core, task->job_id, PP_JOB_PRINTING, PP_JOB_COMPLETED,
			                    &how, error, sizeof(error));
		if (rc == JOB_ERROR)
			log_error("delivery.complete_failed job=%lld error=\"%s\" action=\"the "
			          "printer has the job; check the database\"",
			          (long long)task->job_id, error);
		result->is_lost = rc != JOB_OK;
	}
	free(plan);
}

int delivery_hold_again(pp_core_t *core, delivery_task_t *task, const char *reason)
{
	char error[DB_ERROR_MAX];
	pp_job_state_t from = task->is_printing ? PP_JOB_PRINTING : PP_JOB_RELEASING;
	pp_job_transition_t how = {.reason = reason, .is_retryable = true};
	int rc = job_transition(core, task->job_id, from, PP_JOB_FAILED, &how, error,
	                        sizeof(error));
	if (rc == JOB_OK) {
		/* The reason stays: the owner reads why, on held. */
		rc = job_transition(core, task->job_id, PP_JOB_FAILED, PP_JOB_HELD, NULL, error,
		                    sizeof(error));
		if (rc != JOB_OK)
			log_error("delivery.hold_failed job=%lld error=\"%s\" action=\"the job "
			          "waits as failed (retryable); its owner can still release it\"",
			          (long long)task->job_id, error);
		task->is_printing = false;
		return 0;
	}
	if (rc == JOB_ERROR)
		log_error("delivery.hold_failed job=%lld error=\"%s\"", (long long)task->job_id,
		          error);
	return -1;
}

int delivery_set_printer(pp_core_t *core, int64_t job_id, int64_t printer_id, char *error,
                         size_t error_size)
{
	pp_db_value_t params[] = {DB_INT(printer_id), DB_INT(core_now(core)), DB_INT(job_id)};
	int64_t changes = 0;
	if (db_exec(core->db,
	            "UPDATE jobs SET printer_id = $1, updated_at = $2"
	            " WHERE id = $3 AND state IN ('releasing', 'printing')",
	            params, 3, &changes, error, error_size) != DB_OK)
		return -1;
	return changes == 1 ? 0 : JOB_STATE_LOST;
}
