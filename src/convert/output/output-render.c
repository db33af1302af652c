/*
 * output-render.c - output_render(): the kept PDF in, what the printer speaks out.
 *
 * Steps: check the request; open the PDF with MuPDF; choose the pages and measure them; lay
 * them out (output-layout.c); write the format (output-mupdf.c, output-raster.c, and for
 * PCL 6 and PostScript an intermediate laid-out PDF turned into PCL XL or PostScript by
 * Ghostscript, output-ghostscript.c).
 * The output file is created 0600; on failure it is removed, so a caller never sends half a
 * job. MuPDF's own warnings are silenced: what matters reaches the caller as the error.
 */
#include "output-private.h"

#include "convert/convert.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUTPUT_WRITE_BUFFER (64 * 1024)

static void output_fd_write(fz_context *ctx, void *state, const void *data, size_t n)
{
	int fd = (int)(intptr_t)state;
	if (fs_write_full(fd, data, n) != 0)
		fz_throw(ctx, FZ_ERROR_GENERIC, "cannot write the print data: %s", strerror(errno));
}

/* The PDF writer asks where it is (for the xref table); MuPDF adds what it buffered. */
static int64_t output_fd_tell(fz_context *ctx, void *state)
{
	off_t at = lseek((int)(intptr_t)state, 0, SEEK_CUR);
	if (at < 0)
		fz_throw(ctx, FZ_ERROR_GENERIC, "lseek on the print data failed: %s",
		         strerror(errno));
	return (int64_t)at;
}

static void output_fd_seek(fz_context *ctx, void *state, int64_t offset, int whence)
{
	if (lseek((int)(intptr_t)state, (off_t)offset, whence) < 0)
		fz_throw(ctx, FZ_ERROR_GENERIC, "lseek on the print data failed: %s",
		         strerror(errno));
}

fz_output *output_fd_new(fz_context *ctx, int fd)
{
	fz_output *out = fz_new_output(ctx, OUTPUT_WRITE_BUFFER, (void *)(intptr_t)fd,
	                               output_fd_write, NULL, NULL);
	out->tell = output_fd_tell;
	out->seek = output_fd_seek;
	return out;
}

/* MuPDF warnings and error traces: not logged (the caught message is what we report). */
static void output_quiet(void *user, const char *message)
{
	(void)user;
	(void)message;
}

/* Checks what the request asks before any work: options, format, resolution. */
static int output_check_request(const pp_output_request_t *req, int *dpi_r, char *error,
                                size_t error_size)
{
	if (options_validate(&req->options, error, error_size) != 0)
		return -1;
	if ((int)req->format < 0 || (int)req->format >= PP_OUTPUT_FORMAT_COUNT) {
		(void)str_format(error, error_size,
		                 "output format %d is unknown; use pdf, pwg, "
		                 "urf, ps, pcl5 or pcl6",
		                 (int)req->format);
		return -1;
	}
	int dpi = req->resolution_dpi == 0 ? OUTPUT_DPI_DEFAULT : req->resolution_dpi;
	if (dpi < OUTPUT_DPI_MIN || dpi > OUTPUT_DPI_MAX) {
		(void)str_format(error, error_size,
		                 "resolution %d dpi is out of range %d..%d; use the printer's "
		                 "resolution (300 or 600 dpi are usual)",
		                 dpi, OUTPUT_DPI_MIN, OUTPUT_DPI_MAX);
		return -1;
	}
	*dpi_r = dpi;
	return 0;
}

/*
 * Opens the document, picks the pages, measures them and lays them out into *layout_r.
 * Returns 0 or -1 with error.
 */
static int output_prepare(fz_context *ctx, const char *pdf_path, const pp_output_request_t *req,
                          fz_document **doc_r, pp_output_layout_t *layout_r, char *error,
                          size_t error_size)
{
	fz_document *doc = NULL;
	int doc_pages = 0;
	fz_var(doc);
	fz_var(doc_pages);
	fz_try(ctx)
	{
		doc = fz_open_document(ctx, pdf_path);
		if (fz_needs_password(ctx, doc))
			fz_throw(ctx, FZ_ERROR_GENERIC, "the document is protected by a password");
		doc_pages = fz_count_pages(ctx, doc);
	}
	fz_catch(ctx)
	{
		fz_drop_document(ctx, doc);
		(void)str_format(error, error_size, "cannot read the document to print: %s",
		                 fz_caught_message(ctx));
		return -1;
	}

	int *pages = NULL;
	int count = 0;
	if (output_layout_select(&req->options, doc_pages, &pages, &count, error, error_size) !=
	    0) {
		fz_drop_document(ctx, doc);
		return -1;
	}
	fz_rect *bounds = calloc((size_t)count, sizeof(*bounds));
	if (bounds == NULL) {
		free(pages);
		fz_drop_document(ctx, doc);
		(void)str_format(error, error_size, "out of memory measuring %d pages", count);
		return -1;
	}
	fz_page *page = NULL;
	int failed_page = -1;
	fz_var(page);
	fz_var(failed_page);
	fz_try(ctx)
	{
		for (int i = 0; i < count; i++) {
			failed_page = pages[i];
			page = fz_load_page(ctx, doc, pages[i]);
			bounds[i] = fz_bound_page(ctx, page);
			fz_drop_page(ctx, page);
			page = NULL;
		}
	}
	fz_catch(ctx)
	{
		fz_drop_page(ctx, page);
		(void)str_format(error, error_size, "cannot read page %d of the document: %s",
		                 failed_page + 1, fz_caught_message(ctx));
		free(bounds);
		free(pages);
		fz_drop_document(ctx, doc);
		return -1;
	}
	int rc = output_layout_make(req, pages, bounds, count, layout_r, error, error_size);
	free(bounds);
	free(pages);
	if (rc != 0) {
		fz_drop_document(ctx, doc);
		return -1;
	}
	*doc_r = doc;
	return 0;
}

/* Creates path 0600 for reading back and writing (raster copies are read back). */
static int output_open(const char *path, int *fd_r, char *error, size_t error_size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		(void)str_format(error, error_size,
		                 "cannot create the print data file %s: %s; check the converter's "
		                 "temporary directory",
		                 path, strerror(errno));
		return -1;
	}
	*fd_r = fd;
	return 0;
}

/* Writes layout as format into the open fd. Returns 0 or -1 with error. */
static int output_write(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                        pp_output_format_t format, int dpi, int fd, char *error, size_t error_size)
{
	fz_try(ctx)
	{
		if (format == PP_OUTPUT_PWG || format == PP_OUTPUT_URF)
			output_raster_write(ctx, doc, layout, format, dpi, fd);
		else
			output_mupdf_write(ctx, doc, layout, format, dpi, fd);
	}
	fz_catch(ctx)
	{
		(void)str_format(error, error_size, "cannot make the %s print data: %s",
		                 output_format_name(format), fz_caught_message(ctx));
		return -1;
	}
	return 0;
}

/* Closes fd, checking the result (a failed close can mean lost data). */
static int output_close(int fd, const char *path, char *error, size_t error_size)
{
	if (close(fd) != 0) {
		(void)str_format(error, error_size, "close(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* PCL 6 and PostScript: the laid-out job as a PDF next to out_path, then Ghostscript. */
static int output_write_ghostscript(fz_context *ctx, fz_document *doc, const pp_output_request_t *req,
                             const pp_output_layout_t *layout, int dpi, const char *out_path,
                             char *error, size_t error_size)
{
	char pdf_path[PATH_MAX];
	if (!str_format(pdf_path, sizeof(pdf_path), "%s.layout.pdf", out_path)) {
		(void)str_format(error, error_size, "the output path is too long");
		return -1;
	}
	int fd;
	if (output_open(pdf_path, &fd, error, error_size) != 0)
		return -1;
	int rc = output_write(ctx, doc, layout, PP_OUTPUT_PDF, dpi, fd, error, error_size);
	if (rc == 0)
		rc = output_close(fd, pdf_path, error, error_size);
	else
		(void)close(fd); /* already failing: the first error is the one to report */
	if (rc == 0) {
		/* Ghostscript writes out_path itself; make it ours (0600) first. */
		int out_fd;
		rc = output_open(out_path, &out_fd, error, error_size);
		if (rc == 0)
			rc = output_close(out_fd, out_path, error, error_size);
	}
	if (rc == 0)
		rc = output_ghostscript_run(req->ghostscript != NULL ? req->ghostscript : "/usr/bin/gs",
		                            req->format, pdf_path, out_path, layout, dpi, error,
		                            error_size);
	if (unlink(pdf_path) != 0 && errno != ENOENT && rc == 0) {
		(void)str_format(error, error_size, "unlink(%s) failed: %s", pdf_path,
		                 strerror(errno));
		rc = -1;
	}
	return rc;
}

int output_render(const char *pdf_path, const pp_output_request_t *req, const char *out_path,
                  pp_output_result_t *result_r, char *error, size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	if (pdf_path == NULL || req == NULL || out_path == NULL) {
		(void)str_format(error, error_size, "output: no document, request or output path");
		return -1;
	}
	int dpi;
	if (output_check_request(req, &dpi, error, error_size) != 0)
		return -1;

	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	if (ctx == NULL) {
		(void)str_format(error, error_size, "out of memory starting the renderer");
		return -1;
	}
	fz_set_warning_callback(ctx, output_quiet, NULL);
	fz_set_error_callback(ctx, output_quiet, NULL);
	int rc = 0;
	fz_var(rc);
	fz_try(ctx)
	{
		fz_register_document_handlers(ctx);
		/*
		 * No anti-aliasing in print data: a printer halftones grey edges into noise, and
		 * hard edges compress into runs (half the bytes, much faster to encode). This is
		 * what Ghostscript's printer devices do too (TextAlphaBits=1).
		 */
		fz_set_aa_level(ctx, 0);
	}
	fz_catch(ctx)
	{
		(void)str_format(error, error_size, "cannot start the renderer: %s",
		                 fz_caught_message(ctx));
		rc = -1;
	}

	fz_document *doc = NULL;
	pp_output_layout_t layout = {0};
	if (rc == 0)
		rc = output_prepare(ctx, pdf_path, req, &doc, &layout, error, error_size);
	if (rc == 0 && (req->format == PP_OUTPUT_PCL6 || req->format == PP_OUTPUT_POSTSCRIPT)) {
		rc = output_write_ghostscript(ctx, doc, req, &layout, dpi, out_path, error, error_size);
		if (rc != 0)
			(void)unlink(out_path);
	} else if (rc == 0) {
		int fd;
		rc = output_open(out_path, &fd, error, error_size);
		if (rc == 0) {
			rc = output_write(ctx, doc, &layout, req->format, dpi, fd, error,
			                  error_size);
			if (rc == 0)
				rc = output_close(fd, out_path, error, error_size);
			else
				(void)close(fd); /* already failing: keep the first error */
			if (rc != 0)
				(void)unlink(out_path);
		}
	}
	if (rc == 0) {
		int64_t sides = layout.sides_per_copy;
		int64_t sheets = layout.is_duplex ? (sides + 1) / 2 : sides;
		result_r->pages = layout.pages_per_copy;
		result_r->sheets = (int)(sheets * layout.copies);
		result_r->impressions = (int)(sides * layout.copies);
	}
	output_layout_clear(&layout);
	fz_drop_document(ctx, doc);
	fz_drop_context(ctx);
	return rc;
}
