/*
 * worker-file.c - the one-shot commands for admins, tests and benchmarks, without a
 * database: `file` converts documents exactly as a job would be (typed by content, the same
 * converter process, sandbox and limits, one warm LibreOffice for all of them) and writes the
 * PDF and page images to a directory; `render` turns a PDF into what a printer speaks
 * (output.h) in the converter's sandbox.
 */
#include "convert/worker/worker.h"

#include "convert/output.h"
#include "core/options.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_PRINTER_MEDIA_MAX CONVERTER_PRINTER_MEDIA_MAX

/* Where the command's job directories go: the installation's when one was named, else a
 * new directory under $TMPDIR removed at the end. */
typedef struct {
	char base[PATH_MAX];
	bool is_temporary;
} worker_file_base_t;

static int worker_file_base_open(const pp_config_t *config, bool has_state,
				 worker_file_base_t *base_r)
{
	memset(base_r, 0, sizeof(*base_r));
	if (has_state) {
		if (!str_copy(base_r->base, sizeof(base_r->base), config->convert_tmp_dir))
			return -1;
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (!str_format(base_r->base, sizeof(base_r->base), "%s/pullprint-convert.XXXXXX", tmp)) {
		fprintf(stderr, "pullprint-convert: $TMPDIR is too long\n");
		return -1;
	}
	if (mkdtemp(base_r->base) == NULL) {
		fprintf(stderr, "pullprint-convert: mkdtemp(%s) failed: %s — set TMPDIR to a "
				"writable directory\n",
			base_r->base, strerror(errno));
		return -1;
	}
	base_r->is_temporary = true;
	return 0;
}

static void worker_file_base_close(worker_file_base_t *base)
{
	char error[256];
	if (base->is_temporary && sandbox_tmpdir_wipe(base->base, error, sizeof(error)) < 0)
		fprintf(stderr, "pullprint-convert: cannot remove %s: %s\n", base->base, error);
	base->is_temporary = false;
}

/* The file name of path without its directory and its last extension, into base_r. */
static bool worker_file_stem(const char *path, char *stem_r, size_t stem_size)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	if (!str_copy(stem_r, stem_size, name) || stem_r[0] == '\0')
		return false;
	char *dot = strrchr(stem_r, '.');
	if (dot != NULL && dot != stem_r)
		*dot = '\0';
	return true;
}

/* Copies the results in dir to out_dir/<stem>.pdf and -thumb-N.jpg / -preview-N.jpg. */
static int worker_file_save(const char *dir, const char *out_dir, const char *stem, int images,
			    char *error, size_t error_size)
{
	char out[PATH_MAX];
	if (!str_format(out, sizeof(out), "%s/%s.pdf", out_dir, stem) ||
	    worker_store_to_path(dir, WORKER_PDF_NAME, out, error, error_size) < 0)
		return -1;
	for (int page = 1; page <= images; page++) {
		char name[WORKER_NAME_MAX];
		if (!str_format(name, sizeof(name), WORKER_THUMB_FORMAT, page) ||
		    !str_format(out, sizeof(out), "%s/%s-thumb-%d.jpg", out_dir, stem, page) ||
		    worker_store_to_path(dir, name, out, error, error_size) < 0)
			return -1;
		if (!str_format(name, sizeof(name), WORKER_PREVIEW_FORMAT, page) ||
		    !str_format(out, sizeof(out), "%s/%s-preview-%d.jpg", out_dir, stem, page) ||
		    worker_store_to_path(dir, name, out, error, error_size) < 0)
			return -1;
	}
	return 0;
}

/* What converting one file gave, for its line of output. */
typedef struct {
	const char *path;
	const char *type;
	bool is_ok;
	int pages, color_pages;
	double ms_convert, ms_pages;
	char error[CONVERT_ERROR_MAX];
} worker_file_report_t;

static void worker_file_print(const worker_file_report_t *r, bool is_json)
{
	if (!is_json) {
		if (r->is_ok)
			printf("%s: ok: %s, %d pages (%d colour), convert %.0f ms, pages %.0f ms\n",
			       r->path, r->type, r->pages, r->color_pages, r->ms_convert,
			       r->ms_pages);
		else
			printf("%s: failed: %s\n", r->path, r->error);
		(void)fflush(stdout);
		return;
	}
	json_t *obj = json_pack("{s:s, s:b, s:s?, s:i, s:i, s:f, s:f, s:s?}", "file", r->path,
				"ok", r->is_ok ? 1 : 0, "type", r->type, "pages", r->pages,
				"color_pages", r->color_pages, "ms_convert", r->ms_convert,
				"ms_pages", r->ms_pages, "error", r->is_ok ? NULL : r->error);
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	if (text != NULL)
		printf("%s\n", text);
	else
		fprintf(stderr, "pullprint-convert: out of memory\n");
	(void)fflush(stdout);
	free(text);
	json_decref(obj);
}

/* Converts one file into out_dir, filling *r. */
static void worker_file_one(pp_worker_t *w, const char *path, const char *out_dir,
			    unsigned thumbnails, worker_file_report_t *r)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	char stem[NAME_MAX + 1];
	if (!worker_file_stem(path, stem, sizeof(stem))) {
		(void)str_copy(r->error, sizeof(r->error), "not a file name");
		return;
	}
	char dir[PATH_MAX];
	if (worker_tmpdir_open(w, dir, sizeof(dir), r->error, sizeof(r->error)) < 0)
		return;
	pp_worker_conversion_t conv;
	memset(&conv, 0, sizeof(conv));
	char error[CONVERT_ERROR_MAX];
	if (worker_stage_from_path(w, path, dir, WORKER_INPUT_NAME, r->error, sizeof(r->error)) ==
	    0) {
		/* Typed by content only: an admin's file name says nothing. */
		r->type = worker_input_type(dir, NULL);
		int rc = worker_convert(w, dir, r->type, thumbnails, &conv, r->error,
					sizeof(r->error), error, sizeof(error));
		if (rc < 0)
			(void)str_copy(r->error, sizeof(r->error), error);
		r->ms_convert = conv.ms_convert;
		r->ms_pages = conv.ms_pages;
		if (rc > 0 && worker_file_save(dir, out_dir, stem, conv.images, r->error,
					       sizeof(r->error)) == 0) {
			r->is_ok = true;
			r->pages = conv.analysis.pages;
			r->color_pages = conv.analysis.color_pages;
		}
	}
	convert_analysis_free(&conv.analysis);
	if (sandbox_tmpdir_wipe(dir, error, sizeof(error)) < 0)
		fprintf(stderr, "pullprint-convert: cannot remove %s: %s\n", dir, error);
}

/* Parses a number option value in 0..max. */
static bool worker_file_number(const char *option, const char *value, uint64_t max,
			       uint64_t *value_r)
{
	if (parse_uint64_full(value, max, value_r))
		return true;
	fprintf(stderr, "pullprint-convert: %s wants a number from 0 to %llu, not %s\n", option,
		(unsigned long long)max, value);
	return false;
}

int worker_file_main(const pp_config_t *config, bool has_state, int argc, char **argv)
{
	const char *out_dir = ".";
	uint64_t thumbnails = config->convert_thumbnails;
	bool is_json = false;
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--out-dir") == 0 && i + 1 < argc) {
			out_dir = argv[++i];
		} else if (strcmp(argv[i], "--thumbnails") == 0 && i + 1 < argc) {
			if (!worker_file_number("--thumbnails", argv[++i], 1000, &thumbnails))
				return 2;
		} else if (strcmp(argv[i], "--json") == 0) {
			is_json = true;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "pullprint-convert file: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: pullprint-convert file [--out-dir DIR] [--thumbnails N] "
				"[--json] FILE...\n");
		return 2;
	}
	char error[1024];
	if (fs_mkdir_p(out_dir, 0700, error, sizeof(error)) < 0) {
		fprintf(stderr, "pullprint-convert: %s\n", error);
		return 1;
	}
	worker_file_base_t base;
	if (worker_file_base_open(config, has_state, &base) < 0)
		return 1;
	pp_worker_t w;
	if (worker_open(&w, config, NULL, base.base, error, sizeof(error)) < 0) {
		fprintf(stderr, "pullprint-convert: %s\n", error);
		worker_file_base_close(&base);
		return 1;
	}
	int exit_code = 0;
	for (; i < argc; i++) {
		worker_file_report_t report;
		worker_file_one(&w, argv[i], out_dir, (unsigned)thumbnails, &report);
		worker_file_print(&report, is_json);
		if (!report.is_ok)
			exit_code = 1;
	}
	worker_close(&w);
	worker_file_base_close(&base);
	return exit_code;
}

/* Reads what the render child counted (written by the child: checked). */
static int worker_render_result(const char *dir, pp_output_result_t *result_r, char *error,
				size_t error_size)
{
	char text[96];
	if (worker_read_small(dir, WORKER_RENDER_RESULT_NAME, text, sizeof(text), error,
			      error_size) < 0)
		return -1;
	const char *p = text;
	uint64_t v[3] = {0, 0, 0};
	bool is_ok = true;
	for (size_t k = 0; k < 3 && is_ok; k++) {
		is_ok = parse_uint64(&p, INT32_MAX, &v[k]) && (*p == ' ' || *p == '\n');
		p++;
	}
	if (!is_ok) {
		(void)str_copy(error, error_size, "the renderer's counts are malformed");
		return -1;
	}
	result_r->pages = (int)v[0];
	result_r->sheets = (int)v[1];
	result_r->impressions = (int)v[2];
	return 0;
}

/* Splits "a,b,c" into media[] (pointing into buf). Returns the count or -1. */
static int worker_render_media(char *buf, const char *media[WORKER_PRINTER_MEDIA_MAX])
{
	int n = 0;
	char *p = buf;
	while (*p != '\0') {
		if (n == WORKER_PRINTER_MEDIA_MAX)
			return -1;
		media[n++] = p;
		char *comma = strchr(p, ',');
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

/* Runs the render child on in_path (staged into dir) and copies the output to out_path. */
static int worker_render_run(pp_worker_t *w, const pp_output_request_t *req, const char *dir,
			     const char *in_path, const char *out_path,
			     pp_output_result_t *result_r, char *error, size_t error_size)
{
	if (worker_stage_from_path(w, in_path, dir, WORKER_PDF_NAME, error, error_size) < 0)
		return -1;
	pp_converter_request_t creq;
	converter_request_init(&creq, CONVERTER_REQ_RENDER, dir);
	creq.format = req->format;
	creq.options = req->options;
	creq.resolution_dpi = req->resolution_dpi;
	creq.printer_is_color = req->printer_is_color;
	creq.fit_to_page = req->fit_to_page;
	for (size_t i = 0; i < req->n_printer_media && i < CONVERTER_PRINTER_MEDIA_MAX; i++) {
		if (!str_copy(creq.printer_media[i], sizeof(creq.printer_media[i]),
			      req->printer_media[i])) {
			(void)str_format(error, error_size, "the media name %s is too long",
					 req->printer_media[i]);
			return -1;
		}
		creq.n_printer_media = i + 1;
	}
	pp_converter_reply_t reply;
	if (worker_converter_call(w, &creq, &reply, error, error_size) < 0)
		return -1;
	if (reply.result.outcome != SANDBOX_OK) {
		(void)str_copy(error, error_size,
			       reply.result.message[0] != '\0'
				       ? reply.result.message
				       : sandbox_outcome_name(reply.result.outcome));
		return -1;
	}
	if (worker_render_result(dir, result_r, error, error_size) < 0)
		return -1;
	return worker_store_to_path(dir, WORKER_RENDER_OUTPUT_NAME, out_path, error, error_size);
}

int worker_render_main(const pp_config_t *config, bool has_state, int argc, char **argv)
{
	pp_output_request_t req;
	output_request_default(&req);
	char media_buf[1024] = "";
	const char *media[WORKER_PRINTER_MEDIA_MAX];
	char error[1024];
	bool has_format = false;
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t dpi = 0;
		if (strcmp(opt, "--format") == 0 && value != NULL) {
			if (!output_format_parse(value, &req.format)) {
				fprintf(stderr, "pullprint-convert render: --format is one of pdf, "
						"pwg, urf, ps, pcl5, pcl6, not %s\n",
					value);
				return 2;
			}
			has_format = true;
			i++;
		} else if (strcmp(opt, "--options") == 0 && value != NULL) {
			if (options_from_json(value, &req.options, error, sizeof(error)) < 0) {
				fprintf(stderr, "pullprint-convert render: --options: %s\n", error);
				return 2;
			}
			i++;
		} else if (strcmp(opt, "--dpi") == 0 && value != NULL) {
			if (!worker_file_number("--dpi", value, 2400, &dpi))
				return 2;
			req.resolution_dpi = (int)dpi;
			i++;
		} else if (strcmp(opt, "--mono-printer") == 0) {
			req.printer_is_color = false;
		} else if (strcmp(opt, "--printer-media") == 0 && value != NULL) {
			int n = -1;
			if (str_copy(media_buf, sizeof(media_buf), value))
				n = worker_render_media(media_buf, media);
			if (n < 0) {
				fprintf(stderr, "pullprint-convert render: --printer-media takes at "
						"most %d names\n",
					WORKER_PRINTER_MEDIA_MAX);
				return 2;
			}
			req.printer_media = media;
			req.n_printer_media = (size_t)n;
			i++;
		} else if (strcmp(opt, "--fit") == 0) {
			req.fit_to_page = true;
		} else {
			fprintf(stderr, "pullprint-convert render: unknown option %s\n", opt);
			return 2;
		}
	}
	if (!has_format || argc - i != 2) {
		fprintf(stderr, "usage: pullprint-convert render --format pdf|pwg|urf|ps|pcl5|pcl6 "
				"[--options JSON] [--dpi N] [--mono-printer] [--printer-media a,b] "
				"[--fit] IN.pdf OUT\n");
		return 2;
	}
	/* Ghostscript's path is the converter's ([convert] ghostscript, in its limits). */

	worker_file_base_t base;
	if (worker_file_base_open(config, has_state, &base) < 0)
		return 1;
	pp_worker_t w;
	if (worker_open(&w, config, NULL, base.base, error, sizeof(error)) < 0) {
		fprintf(stderr, "pullprint-convert: %s\n", error);
		worker_file_base_close(&base);
		return 1;
	}
	int exit_code = 1;
	char dir[PATH_MAX];
	if (worker_tmpdir_open(&w, dir, sizeof(dir), error, sizeof(error)) == 0) {
		pp_output_result_t result;
		memset(&result, 0, sizeof(result));
		double start_ms = worker_now_ms();
		if (worker_render_run(&w, &req, dir, argv[i], argv[i + 1], &result, error,
				      sizeof(error)) == 0) {
			printf("%s: %s, pages %d, sheets %d, impressions %d, %.0f ms\n", argv[i + 1],
			       output_format_name(req.format), result.pages, result.sheets,
			       result.impressions, worker_now_ms() - start_ms);
			exit_code = 0;
		}
		char wipe_error[256];
		if (sandbox_tmpdir_wipe(dir, wipe_error, sizeof(wipe_error)) < 0)
			fprintf(stderr, "pullprint-convert: cannot remove %s: %s\n", dir,
				wipe_error);
	}
	if (exit_code != 0)
		fprintf(stderr, "pullprint-convert render: %s: %s\n", argv[i], error);
	worker_close(&w);
	worker_file_base_close(&base);
	return exit_code;
}
