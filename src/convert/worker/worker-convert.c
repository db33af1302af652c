/*
 * worker-convert.c - the sandboxed steps of one conversion, shared by jobs (worker-job.c),
 * on-demand pages (worker-pages.c) and the admin's `file` command: the input becomes the
 * kept PDF in one child (or in the warm office host), then one more child analyses that PDF
 * and renders the first pages' images. Everything crosses the boundary as files in the job's
 * directory; the children find them relative to their working directory (the sandbox
 * enters it), the parent by full path.
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

/* What the to-PDF child needs. */
typedef struct {
	const char *content_type;
	const pp_engine_limits_t *limits;
} worker_pdf_ctx_t;

/* What the pages child needs: analyse first (and render the first `thumbnails` pages), or
 * render first..last only. */
typedef struct {
	const pp_engine_limits_t *limits;
	bool is_analysing;
	unsigned thumbnails;
	int first;
	int last;
} worker_pages_ctx_t;

/* In the sandbox: the input as the kept PDF. */
static int worker_child_to_pdf(void *ctx, char *error, size_t error_size)
{
	const worker_pdf_ctx_t *c = ctx;
	return engine_to_pdf(WORKER_INPUT_NAME, c->content_type, c->limits, WORKER_PDF_NAME, error,
			     error_size);
}

/* In the sandbox: one page's thumb and preview images. */
static int worker_child_render_page(int page, char *error, size_t error_size)
{
	char thumb[WORKER_NAME_MAX], preview[WORKER_NAME_MAX];
	if (!str_format(thumb, sizeof(thumb), WORKER_THUMB_FORMAT, page) ||
	    !str_format(preview, sizeof(preview), WORKER_PREVIEW_FORMAT, page)) {
		(void)str_format(error, error_size, "page number %d is too large", page);
		return -1;
	}
	if (engine_render_jpeg(WORKER_PDF_NAME, page, CONVERT_THUMB_WIDTH, thumb, error,
			       error_size) < 0)
		return -1;
	return engine_render_jpeg(WORKER_PDF_NAME, page, CONVERT_PREVIEW_WIDTH, preview, error,
				  error_size);
}

/* In the sandbox: the analysis (when asked) and the page images. */
static int worker_child_pages(void *ctx, char *error, size_t error_size)
{
	const worker_pages_ctx_t *c = ctx;
	int first = c->first;
	int last = c->last;
	if (c->is_analysing) {
		pp_convert_analysis_t analysis = {0};
		if (engine_analyse(WORKER_PDF_NAME, c->limits, &analysis, error, error_size) < 0)
			return -1;
		int rc = engine_analysis_save(&analysis, WORKER_ANALYSIS_NAME, error, error_size);
		first = 1;
		last = analysis.pages < (int)c->thumbnails ? analysis.pages : (int)c->thumbnails;
		convert_analysis_free(&analysis);
		if (rc < 0)
			return -1;
	}
	for (int page = first; page <= last; page++) {
		if (worker_child_render_page(page, error, error_size) < 0)
			return -1;
	}
	return 0;
}

/* The user-facing reason of a child that did not succeed. */
static void worker_reason_of(const pp_sandbox_result_t *result, char *reason_r,
			     size_t reason_size)
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
	pp_convert_kind_t kind = convert_kind_of(content_type);
	pp_sandbox_result_t result;
	memset(&result, 0, sizeof(result));
	if (kind == PP_CONVERT_UNSUPPORTED) {
		(void)str_format(reason_r, reason_size,
				 "This kind of document (%s) cannot be printed: send a PDF, a "
				 "photo, a text or an office document.",
				 content_type != NULL ? content_type : "unknown");
		return 0;
	}
	if (kind == PP_CONVERT_OFFICE) {
		pp_office_t *office = NULL;
		char in_path[PATH_MAX], out_path[PATH_MAX];
		if (!str_format(in_path, sizeof(in_path), "%s/%s", dir, WORKER_INPUT_NAME) ||
		    !str_format(out_path, sizeof(out_path), "%s/%s", dir, WORKER_PDF_NAME)) {
			(void)str_format(error, error_size, "the job directory %s is too long",
					 dir);
			return -1;
		}
		if (worker_office(w, &office, error, error_size) < 0 ||
		    office_convert(office, in_path, out_path, &result, error, error_size) < 0)
			return -1;
	} else {
		worker_pdf_ctx_t ctx = {.content_type = content_type, .limits = &w->engine_limits};
		/* Ghostscript is a program of its own: only PostScript needs exec. */
		const pp_sandbox_limits_t *limits =
			kind == PP_CONVERT_POSTSCRIPT ? &w->exec_limits : &w->render_limits;
		if (sandbox_run(limits, dir, worker_child_to_pdf, &ctx, &result, error,
				error_size) < 0)
			return -1;
	}
	if (result.outcome != SANDBOX_OK) {
		worker_reason_of(&result, reason_r, reason_size);
		return 0;
	}
	if (!worker_has_file(dir, WORKER_PDF_NAME)) {
		(void)str_copy(reason_r, reason_size,
			       "The document could not be converted: the converter wrote no PDF.");
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
	int rc = worker_to_pdf(w, dir, worker_input_type(dir, content_type), reason_r, reason_size, error, error_size);
	conv_r->ms_convert = worker_now_ms() - start_ms;
	if (rc <= 0)
		return rc;

	/* Step 2: one child analyses the kept PDF and renders the first pages. */
	start_ms = worker_now_ms();
	worker_pages_ctx_t ctx = {
		.limits = &w->engine_limits,
		.is_analysing = true,
		.thumbnails = thumbnails,
	};
	pp_sandbox_result_t result;
	memset(&result, 0, sizeof(result));
	if (sandbox_run(&w->render_limits, dir, worker_child_pages, &ctx, &result, error,
			error_size) < 0)
		return -1;
	if (result.outcome != SANDBOX_OK) {
		worker_reason_of(&result, reason_r, reason_size);
		return 0;
	}

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
	worker_pages_ctx_t ctx = {
		.limits = &w->engine_limits,
		.is_analysing = false,
		.first = first,
		.last = last,
	};
	pp_sandbox_result_t result;
	memset(&result, 0, sizeof(result));
	if (sandbox_run(&w->render_limits, dir, worker_child_pages, &ctx, &result, error,
			error_size) < 0)
		return -1;
	if (result.outcome != SANDBOX_OK) {
		worker_reason_of(&result, reason_r, reason_size);
		return 0;
	}
	if (!worker_has_images(dir, first, last)) {
		(void)str_copy(reason_r, reason_size,
			       "The document's page images could not be made.");
		return 0;
	}
	return 1;
}
