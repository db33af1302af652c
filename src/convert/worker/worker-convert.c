/*
 * worker-convert.c - the steps of one conversion as the broker asks its converter for them
 * (converter.h), shared by jobs (worker-job.c), on-demand pages (worker-pages.c) and the
 * admin's `file` command: the input becomes the kept PDF (in a sandboxed child or the warm
 * office host), then one more child analyses that PDF and renders the first pages' images.
 * Everything crosses as files in the job's directory; the broker checks what came back.
 */
#include "convert/worker/worker.h"

#include "core/doctype.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void worker_reason_of(const pp_sandbox_result_t *result, char *reason_r, size_t reason_size)
{
	if (result->message[0] != '\0')
		(void)str_copy(reason_r, reason_size, result->message);
	else
		(void)str_format(reason_r, reason_size,
				 "The document could not be converted (%s).",
				 sandbox_outcome_name(result->outcome));
}

/* True when dir/name is a plain file (a child that said "done" wrote what it should). */
static bool worker_has_file(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	return str_format(path, sizeof(path), "%s/%s", dir, name) && lstat(path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

/* True when both images of pages first..last exist in dir. */
static bool worker_has_images(const char *dir, int first, int last)
{
	for (int page = first; page <= last; page++) {
		char thumb[WORKER_NAME_MAX], preview[WORKER_NAME_MAX];
		if (!str_format(thumb, sizeof(thumb), WORKER_THUMB_FORMAT, page) ||
		    !str_format(preview, sizeof(preview), WORKER_PREVIEW_FORMAT, page) ||
		    !worker_has_file(dir, thumb) || !worker_has_file(dir, preview))
			return false;
	}
	return true;
}

const char *worker_input_type(const char *dir, const char *declared)
{
	char path[PATH_MAX];
	uint8_t head[DOCTYPE_SNIFF_MAX];
	size_t len = 0;
	int fd = -1;
	/* The worker wrote this file itself a moment ago: reading its first bytes for magic
	 * numbers is no parsing (doctype.h). */
	if (str_format(path, sizeof(path), "%s/%s", dir, WORKER_INPUT_NAME))
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	while (fd >= 0 && len < sizeof(head)) {
		ssize_t n = read(fd, head + len, sizeof(head) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (fd >= 0)
		(void)close(fd);
	const char *sniffed = fd >= 0 ? doctype_sniff(head, len) : NULL;
	if (sniffed == NULL)
		return declared;
	if (convert_kind_of(declared) == PP_CONVERT_UNSUPPORTED)
		return sniffed;
	/* A recognised binary format wins over the label; text keeps a supported label (HTML
	 * looks like text, and a "PDF" that is text must fail as a PDF, saying so). */
	return convert_kind_of(sniffed) == PP_CONVERT_TEXT ? declared : sniffed;
}

/* Step 1: the input as dir/WORKER_PDF_NAME. Returns 1, 0 with reason, -1 with error. */
static int worker_to_pdf(pp_worker_t *w, const char *dir, const char *content_type,
			 char *reason_r, size_t reason_size, char *error, size_t error_size)
{
	if (convert_kind_of(content_type) == PP_CONVERT_UNSUPPORTED) {
		(void)str_format(reason_r, reason_size,
				 "This kind of document (%s) cannot be printed: send a PDF, a "
				 "photo, a text or an office document.",
				 content_type != NULL ? content_type : "unknown");
		return 0;
	}
	pp_converter_request_t req;
	converter_request_init(&req, CONVERTER_REQ_PDF, dir);
	if (!str_copy(req.content_type, sizeof(req.content_type), content_type)) {
		(void)str_format(reason_r, reason_size,
				 "This kind of document cannot be printed: send a PDF, a photo, a "
				 "text or an office document.");
		return 0;
	}
	pp_converter_reply_t reply;
	if (worker_converter_call(w, &req, &reply, error, error_size) < 0)
		return -1;
	if (reply.result.outcome != SANDBOX_OK) {
		worker_reason_of(&reply.result, reason_r, reason_size);
		return 0;
	}
	if (!worker_has_file(dir, WORKER_PDF_NAME)) {
		(void)str_copy(reason_r, reason_size,
			       "The document could not be converted: the converter wrote no PDF.");
		return 0;
	}
	return 1;
}

/* Asks for the analysis (is_analysing) or the images of pages first..last. Returns 1, 0 with
 * reason, -1 with error. */
static int worker_pages_step(pp_worker_t *w, const char *dir, bool is_analysing,
			     unsigned thumbnails, int first, int last, char *reason_r,
			     size_t reason_size, char *error, size_t error_size)
{
	pp_converter_request_t req;
	converter_request_init(&req, CONVERTER_REQ_PAGES, dir);
	req.is_analysing = is_analysing;
	req.thumbnails = thumbnails;
	req.first = first;
	req.last = last;
	pp_converter_reply_t reply;
	if (worker_converter_call(w, &req, &reply, error, error_size) < 0)
		return -1;
	if (reply.result.outcome != SANDBOX_OK) {
		worker_reason_of(&reply.result, reason_r, reason_size);
		return 0;
	}
	return 1;
}

int worker_convert(pp_worker_t *w, const char *dir, const char *content_type,
		   unsigned thumbnails, pp_worker_conversion_t *conv_r, char *reason_r,
		   size_t reason_size, char *error, size_t error_size)
{
	memset(conv_r, 0, sizeof(*conv_r));
	reason_r[0] = '\0';

	double start_ms = worker_now_ms();
	int rc = worker_to_pdf(w, dir, worker_input_type(dir, content_type), reason_r, reason_size,
			       error, error_size);
	conv_r->ms_convert = worker_now_ms() - start_ms;
	if (rc <= 0)
		return rc;

	/* Step 2: one child analyses the kept PDF and renders the first pages. */
	start_ms = worker_now_ms();
	rc = worker_pages_step(w, dir, true, thumbnails, 0, 0, reason_r, reason_size, error,
			       error_size);
	if (rc <= 0)
		return rc;

	/* The analysis came from a child: engine_analysis_load() checks it. */
	char path[PATH_MAX];
	char load_error[256];
	if (!str_format(path, sizeof(path), "%s/%s", dir, WORKER_ANALYSIS_NAME)) {
		(void)str_format(error, error_size, "the job directory %s is too long", dir);
		return -1;
	}
	unsigned max_pages = w->engine_limits.max_pages != 0 ? w->engine_limits.max_pages : 5000;
	if (engine_analysis_load(path, max_pages, &conv_r->analysis, load_error,
				 sizeof(load_error)) < 0) {
		log_warn("convert: the analysis is unusable: %s", load_error);
		(void)str_copy(reason_r, reason_size,
			       "The document could not be analysed after conversion.");
		return 0;
	}
	int pages = conv_r->analysis.pages;
	conv_r->images = pages < (int)thumbnails ? pages : (int)thumbnails;
	if (!worker_has_images(dir, 1, conv_r->images)) {
		convert_analysis_free(&conv_r->analysis);
		(void)str_copy(reason_r, reason_size,
			       "The document's page images could not be made.");
		return 0;
	}
	conv_r->ms_pages = worker_now_ms() - start_ms;
	return 1;
}

int worker_render_pages(pp_worker_t *w, const char *dir, int first, int last, char *reason_r,
			size_t reason_size, char *error, size_t error_size)
{
	reason_r[0] = '\0';
	int rc = worker_pages_step(w, dir, false, 0, first, last, reason_r, reason_size, error,
				   error_size);
	if (rc <= 0)
		return rc;
	if (!worker_has_images(dir, first, last)) {
		(void)str_copy(reason_r, reason_size,
			       "The document's page images could not be made.");
		return 0;
	}
	return 1;
}
