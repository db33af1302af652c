/*
 * converter-serve.c - the converter process (pullprint-convert --converter --fd 3): the only
 * process that starts sandboxed children and the LibreOffice host. It never opens the
 * configuration, the key file, the spool or the database; it learns its limits from the
 * broker's first message and then works on job directories the broker names, one request at
 * a time. What runs in the sandbox (the engines, the output formats) is here; the broker
 * reads back the files the children wrote.
 */
#include "convert/engine/engine-images.h"
#include "convert/worker/converter.h"
#include "convert/worker/worker.h"

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Sent by the kernel when the worker that spawned the converter dies (PR_SET_PDEATHSIG). */
#define CONVERTER_ORPHAN_SIGNAL SIGUSR1

/* The converter's state for its whole life. */
typedef struct {
	int fd;
	pp_converter_limits_t limits;
	pp_engine_limits_t engine; /* from limits; ghostscript points into it */
	pp_office_t *office;       /* started at the first office document, kept */
	char *buf;                 /* one packet, CONVERTER_MESSAGE_MAX + 2 bytes */
} converter_t;

/* What the pages child needs: analyse first (and render the first `thumbnails` pages), or
 * render first..last only. */
typedef struct {
	const pp_engine_limits_t *limits;
	bool is_analysing;
	unsigned thumbnails;
	int first;
	int last;
} converter_pages_ctx_t;

/* What the to-PDF child needs. */
typedef struct {
	const char *content_type;
	const pp_engine_limits_t *limits;
} converter_pdf_ctx_t;

/* In the sandbox: the input as the kept PDF. */
static int converter_child_to_pdf(void *ctx, char *error, size_t error_size)
{
	const converter_pdf_ctx_t *c = ctx;
	return engine_to_pdf(WORKER_INPUT_NAME, c->content_type, c->limits, WORKER_PDF_NAME, error,
			     error_size);
}

/* In the sandbox: the analysis (when asked) and the page images. */
static int converter_child_pages(void *ctx, char *error, size_t error_size)
{
	const converter_pages_ctx_t *c = ctx;
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
	if (last < first)
		return 0; /* no page images asked for (last 0 would mean "to the end") */
	/* Both sizes in one pass: each page is read and interpreted once. */
	static const pp_engine_image_size_t sizes[] = {
		{CONVERT_THUMB_WIDTH, WORKER_THUMB_PREFIX, WORKER_IMAGE_SUFFIX},
		{CONVERT_PREVIEW_WIDTH, WORKER_PREVIEW_PREFIX, WORKER_IMAGE_SUFFIX},
	};
	return engine_render_jpegs(WORKER_PDF_NAME, first, last, sizes,
				   sizeof(sizes) / sizeof(sizes[0]), error, error_size) < 0
		       ? -1
		       : 0;
}

/* In the sandbox: the PDF in what the printer speaks, and the counts for the broker. */
static int converter_child_render(void *ctx, char *error, size_t error_size)
{
	const pp_output_request_t *req = ctx;
	pp_output_result_t result;
	memset(&result, 0, sizeof(result));
	if (output_render(WORKER_PDF_NAME, req, WORKER_RENDER_OUTPUT_NAME, &result, error,
			  error_size) < 0)
		return -1;
	char text[96];
	if (!str_format(text, sizeof(text), "%d %d %d\n", result.pages, result.sheets,
			result.impressions))
		return -1;
	int fd = open(WORKER_RENDER_RESULT_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_full(fd, text, strlen(text)) < 0) {
		(void)str_format(error, error_size, "cannot write the page counts: %s",
				 strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		(void)str_format(error, error_size, "cannot write the page counts: %s",
				 strerror(errno));
		return -1;
	}
	return 0;
}

/* The warm LibreOffice host, started at the first office document. Returns 0 or -1. */
static int converter_office(converter_t *c, char *error, size_t error_size)
{
	if (c->office != NULL)
		return 0;
	const pp_converter_limits_t *l = &c->limits;
	pp_office_config_t config = {
		.program_dir = l->office_program_dir[0] != '\0' ? l->office_program_dir : NULL,
		.profile_dir = l->office_profile_dir,
		.max_documents = l->office_max_documents,
		.timeout_s = l->office_timeout_s,
		.limits = l->office,
	};
	double start_ms = worker_now_ms();
	if (office_open(&config, &c->office, error, error_size) < 0)
		return -1;
	log_info("convert: LibreOffice loaded in %.0f ms (converter=%ld)",
		 worker_now_ms() - start_ms, (long)getpid());
	return 0;
}

/* PDF: the input as dir/WORKER_PDF_NAME, by the office host or an engine's child. */
static int converter_do_pdf(converter_t *c, const pp_converter_request_t *req,
			    pp_sandbox_result_t *result, char *error, size_t error_size)
{
	pp_convert_kind_t kind = convert_kind_of(req->content_type);
	if (kind == PP_CONVERT_UNSUPPORTED) {
		result->outcome = SANDBOX_FAILED;
		(void)str_copy(result->message, sizeof(result->message),
			       "This kind of document cannot be printed: send a PDF, a photo, a "
			       "text or an office document.");
		return 0;
	}
	if (kind == PP_CONVERT_OFFICE) {
		char in_path[PATH_MAX], out_path[PATH_MAX];
		if (!str_format(in_path, sizeof(in_path), "%s/%s", req->dir, WORKER_INPUT_NAME) ||
		    !str_format(out_path, sizeof(out_path), "%s/%s", req->dir, WORKER_PDF_NAME)) {
			(void)str_format(error, error_size, "the job directory %s is too long",
					 req->dir);
			return -1;
		}
		if (converter_office(c, error, error_size) < 0)
			return -1;
		return office_convert(c->office, in_path, out_path, result, error, error_size);
	}
	converter_pdf_ctx_t ctx = {.content_type = req->content_type, .limits = &c->engine};
	/* Ghostscript is a program of its own: only PostScript needs exec. */
	const pp_sandbox_limits_t *limits =
		kind == PP_CONVERT_POSTSCRIPT ? &c->limits.exec : &c->limits.render;
	return sandbox_run(limits, req->dir, converter_child_to_pdf, &ctx, result, error,
			   error_size);
}

/* RENDER: dir/WORKER_PDF_NAME as req's format, in a child. */
static int converter_do_render(converter_t *c, const pp_converter_request_t *req,
			       pp_sandbox_result_t *result, char *error, size_t error_size)
{
	const char *media[CONVERTER_PRINTER_MEDIA_MAX];
	for (size_t i = 0; i < req->n_printer_media; i++)
		media[i] = req->printer_media[i];
	pp_output_request_t out = {
		.format = req->format,
		.options = req->options,
		.resolution_dpi = req->resolution_dpi,
		.printer_is_color = req->printer_is_color,
		.printer_media = req->n_printer_media > 0 ? media : NULL,
		.n_printer_media = req->n_printer_media,
		.fit_to_page = req->fit_to_page,
		.ghostscript = c->engine.ghostscript,
	};
	/* PCL 6 and PostScript are written by Ghostscript: the formats that need exec. */
	const pp_sandbox_limits_t *limits =
		(req->format == PP_OUTPUT_PCL6 || req->format == PP_OUTPUT_POSTSCRIPT)
			? &c->limits.exec
			: &c->limits.render;
	return sandbox_run(limits, req->dir, converter_child_render, &out, result, error,
			   error_size);
}

/* Works on one request and fills the reply. */
static void converter_handle(converter_t *c, const pp_converter_request_t *req,
			     pp_converter_reply_t *reply)
{
	memset(reply, 0, sizeof(*reply));
	reply->id = req->id;
	double start_ms = worker_now_ms();
	int rc = -1;
	if (req->kind == CONVERTER_REQ_PDF) {
		rc = converter_do_pdf(c, req, &reply->result, reply->error, sizeof(reply->error));
	} else if (req->kind == CONVERTER_REQ_PAGES) {
		converter_pages_ctx_t ctx = {
			.limits = &c->engine,
			.is_analysing = req->is_analysing,
			.thumbnails = req->thumbnails,
			.first = req->first,
			.last = req->last,
		};
		rc = sandbox_run(&c->limits.render, req->dir, converter_child_pages, &ctx,
				 &reply->result, reply->error, sizeof(reply->error));
	} else {
		rc = converter_do_render(c, req, &reply->result, reply->error,
					 sizeof(reply->error));
	}
	reply->ms = worker_now_ms() - start_ms;
	if (rc < 0) {
		reply->is_error = true;
		log_error("convert: the converter cannot work: %s", reply->error);
	}
}

/* Reads the first message, the limits. Returns 0 or -1 (logged). */
static int converter_read_limits(converter_t *c)
{
	char error[512];
	size_t len = 0;
	bool is_timeout = false;
	int rc = converter_recv(c->fd, c->buf, CONVERTER_MESSAGE_MAX + 2, -1, &len, &is_timeout,
				error, sizeof(error));
	if (rc == 0)
		return -1; /* the broker went away before it said anything */
	if (rc < 0 || converter_limits_decode(c->buf, len, &c->limits, error, sizeof(error)) < 0) {
		log_error("convert: the converter's limits are unusable: %s", error);
		return -1;
	}
	log_set_level(c->limits.log_level);
	c->engine = (pp_engine_limits_t){
		.max_pages = c->limits.max_pages,
		.max_image_pixels = c->limits.max_image_pixels,
		.default_width_pt = c->limits.default_width_pt,
		.default_height_pt = c->limits.default_height_pt,
		.ghostscript = c->limits.ghostscript[0] != '\0' ? c->limits.ghostscript : NULL,
	};
	return 0;
}

/* Encodes and sends text from encode(); -1 when the broker is gone. */
static int converter_send_new(int fd, char *text, const char *what)
{
	char error[256];
	int rc = text != NULL ? converter_send(fd, text, error, sizeof(error)) : -1;
	if (text == NULL)
		(void)str_copy(error, sizeof(error), "cannot encode it");
	free(text);
	if (rc < 0)
		log_error("convert: cannot send the %s to the broker: %s", what, error);
	return rc;
}

/* Serves requests until the broker closes the socket. Returns the exit code. */
static int converter_loop(converter_t *c)
{
	char error[512];
	char *text = converter_ready_encode(getpid(), error, sizeof(error));
	if (converter_send_new(c->fd, text, "ready message") < 0)
		return 1;
	for (;;) {
		size_t len = 0;
		bool is_timeout = false;
		int rc = converter_recv(c->fd, c->buf, CONVERTER_MESSAGE_MAX + 2, -1, &len,
					&is_timeout, error, sizeof(error));
		if (rc == 0)
			return 0; /* the broker closed the socket: it wants us gone */
		pp_converter_request_t req;
		if (rc < 0 || converter_request_decode(c->buf, len, c->limits.tmp_base, &req, error,
						       sizeof(error)) < 0) {
			log_error("convert: malformed request from the broker: %s: ending", error);
			return 1;
		}
		pp_converter_reply_t reply;
		converter_handle(c, &req, &reply);
		text = converter_reply_encode(&reply, error, sizeof(error));
		if (converter_send_new(c->fd, text, "reply") < 0)
			return 1;
	}
}

/*
 * The worker died (killed while it waited for a reply): end the sandboxed child or office
 * host working for it — each leads a process group of its own, where Ghostscript runs too —
 * then the converter. Otherwise they would run on until their timeouts, for nobody.
 * Async-signal-safe: open, read, kill and _exit only, no allocation, no stdio.
 */
static void converter_orphaned(int sig)
{
	(void)sig;
	char buf[1024];
	int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		(void)close(fd);
	pid_t pid = 0;
	for (ssize_t i = 0; i <= n; i++) {
		if (i < n && buf[i] >= '0' && buf[i] <= '9' && pid < 100000000) {
			pid = pid * 10 + (buf[i] - '0');
			continue;
		}
		if (pid > 1) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
		}
		pid = 0;
	}
	_exit(1);
}

/* Ties the converter's life (and its children's) to the worker's. Returns 0 or -1 (logged). */
static int converter_bind_to_parent(void)
{
	struct sigaction sa = {.sa_handler = converter_orphaned};
	if (sigemptyset(&sa.sa_mask) < 0 || sigaction(CONVERTER_ORPHAN_SIGNAL, &sa, NULL) < 0 ||
	    prctl(PR_SET_PDEATHSIG, CONVERTER_ORPHAN_SIGNAL) < 0) {
		log_error("convert: the converter cannot watch its worker: %s", strerror(errno));
		return -1;
	}
	/* ps and the logs show "pp-converter" (the image is /proc/self/exe, named "exe"). */
	(void)prctl(PR_SET_NAME, "pp-converter");
	/* A worker that died before the line above is seen at the first read (end of file). */
	return 0;
}

int converter_serve(int fd)
{
	if (converter_bind_to_parent() < 0)
		return 1;
	converter_t c;
	memset(&c, 0, sizeof(c));
	c.fd = fd;
	c.buf = malloc(CONVERTER_MESSAGE_MAX + 2);
	if (c.buf == NULL) {
		log_error("convert: the converter is out of memory");
		return 1;
	}
	int exit_code = converter_read_limits(&c) < 0 ? 1 : converter_loop(&c);
	if (c.office != NULL) {
		office_close(&c.office);
		char error[256];
		if (sandbox_tmpdir_wipe(c.limits.office_profile_dir, error, sizeof(error)) < 0)
			log_warn("convert: cannot remove the office profile: %s", error);
	}
	free(c.buf);
	return exit_code;
}
