/*
 * engine-jpeg.c - page images (thumbnails and previews): one page of the kept PDF drawn by
 * MuPDF into an RGB pixmap exactly width_px wide on white, then compressed by libjpeg at
 * quality 80. libjpeg's fatal errors come back through a jump buffer instead of exit().
 */
#include "convert/engine/engine-private.h"

#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#define ENGINE_JPEG_QUALITY 80
#define ENGINE_JPEG_MAX_SIDE 10000 /* pixels, either side */

/* libjpeg's error manager with a way back. */
typedef struct {
	struct jpeg_error_mgr mgr;
	jmp_buf back;
} engine_jpeg_error_t;

static void engine_jpeg_error_exit(j_common_ptr cinfo)
{
	engine_jpeg_error_t *err = (engine_jpeg_error_t *)cinfo->err;
	longjmp(err->back, 1);
}

static void engine_jpeg_quiet(j_common_ptr cinfo)
{
	(void)cinfo;
}

/*
 * Compresses w × h RGB samples (rows of stride bytes) into a new JPEG *out_r, *len_r (free
 * with free()). Returns 0 or -1.
 */
static int engine_jpeg_encode(const unsigned char *samples, int w, int h, size_t stride,
			      unsigned char **out_r, unsigned long *len_r)
{
	/* On the heap, not in this frame: its contents stay defined across longjmp. */
	struct engine_jpeg_dest {
		unsigned char *mem;
		unsigned long len;
		struct jpeg_compress_struct cinfo;
		engine_jpeg_error_t err;
	} *const d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -1;
	d->cinfo.err = jpeg_std_error(&d->err.mgr);
	d->err.mgr.error_exit = engine_jpeg_error_exit;
	d->err.mgr.output_message = engine_jpeg_quiet;
	if (setjmp(d->err.back) != 0) {
		jpeg_destroy_compress(&d->cinfo);
		free(d->mem);
		free(d);
		return -1;
	}
	jpeg_create_compress(&d->cinfo);
	jpeg_mem_dest(&d->cinfo, &d->mem, &d->len);
	d->cinfo.image_width = (JDIMENSION)w;
	d->cinfo.image_height = (JDIMENSION)h;
	d->cinfo.input_components = 3;
	d->cinfo.in_color_space = JCS_RGB;
	jpeg_set_defaults(&d->cinfo);
	jpeg_set_quality(&d->cinfo, ENGINE_JPEG_QUALITY, TRUE);
	jpeg_start_compress(&d->cinfo, TRUE);
	while (d->cinfo.next_scanline < d->cinfo.image_height) {
		JSAMPROW row =
		    (JSAMPROW)(uintptr_t)(samples + (size_t)d->cinfo.next_scanline * stride);
		jpeg_write_scanlines(&d->cinfo, &row, 1);
	}
	jpeg_finish_compress(&d->cinfo);
	jpeg_destroy_compress(&d->cinfo);
	/* jpeg_mem_dest moved the buffer as it grew: d->mem is the final one. */
	*out_r = d->mem;
	*len_r = d->len;
	free(d);
	return 0;
}

/* Writes data to path (created 0600, replaced if there). Returns 0 or -1 with a reason. */
static int engine_write_file(const char *path, const unsigned char *data, size_t len, char *error,
			     size_t error_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return engine_fail(error, error_size, "The page image could not be written (%s).",
				   strerror(errno));
	if (fs_write_full(fd, data, len) != 0) {
		int saved = errno;
		(void)close(fd);
		return engine_fail(error, error_size, "The page image could not be written (%s).",
				   strerror(saved));
	}
	if (close(fd) != 0)
		return engine_fail(error, error_size, "The page image could not be written (%s).",
				   strerror(errno));
	return 0;
}

int engine_render_jpeg(const char *pdf_path, int page, int width_px, const char *out_path,
		       char *error, size_t error_size)
{
	if (width_px < 1 || width_px > ENGINE_JPEG_MAX_SIDE)
		return engine_fail(error, error_size, "A page image must be 1 to %d pixels wide.",
				   ENGINE_JPEG_MAX_SIDE);
	fz_context *ctx = engine_context_new(error, error_size);
	if (ctx == NULL)
		return -1;
	fz_document *volatile doc = NULL;
	fz_page *volatile pg = NULL;
	fz_pixmap *volatile pix = NULL;
	fz_device *volatile dev = NULL;
	volatile bool refused = false;
	int rc = 0;
	fz_try(ctx)
	{
		doc = engine_open_pdf(ctx, pdf_path);
		int pages = fz_count_pages(ctx, doc);
		if (page < 1 || page > pages) {
			refused = true;
			engine_fail(error, error_size, "The document has no page %d.", page);
			fz_throw(ctx, FZ_ERROR_GENERIC, "no such page");
		}
		pg = fz_load_page(ctx, doc, page - 1);
		fz_rect box = fz_bound_page(ctx, pg);
		float pw = box.x1 - box.x0, ph = box.y1 - box.y0;
		double height = pw > 0 ? round((double)width_px * ph / pw) : 0;
		if (!(pw > 0 && ph > 0) || height < 1 || height > ENGINE_JPEG_MAX_SIDE) {
			refused = true;
			engine_fail(error, error_size,
				    "The page's shape cannot be shown as an image (%.0f x %.0f pt).",
				    (double)pw, (double)ph);
			fz_throw(ctx, FZ_ERROR_GENERIC, "page shape");
		}
		int h = (int)height;
		pix = fz_new_pixmap(ctx, fz_device_rgb(ctx), width_px, h, NULL, 0);
		fz_clear_pixmap_with_value(ctx, pix, 0xff);
		/* The page box, moved to the origin, scaled to exactly width_px × h. */
		fz_matrix ctm = fz_concat(fz_translate(-box.x0, -box.y0),
					  fz_scale((float)width_px / pw, (float)h / ph));
		dev = fz_new_draw_device(ctx, fz_identity, pix);
		fz_run_page(ctx, pg, dev, ctm, NULL);
		fz_close_device(ctx, dev);
	}
	fz_always(ctx)
	{
		fz_drop_device(ctx, dev);
		fz_drop_page(ctx, pg);
		fz_drop_document(ctx, doc);
	}
	fz_catch(ctx)
	{
		rc = -1;
		if (!refused)
			engine_fail(error, error_size,
				    "The page could not be drawn: the PDF is damaged.");
	}
	if (rc == 0) {
		unsigned char *jpeg = NULL;
		unsigned long jpeg_len = 0;
		if (engine_jpeg_encode(fz_pixmap_samples(ctx, pix), fz_pixmap_width(ctx, pix),
				       fz_pixmap_height(ctx, pix),
				       (size_t)fz_pixmap_stride(ctx, pix), &jpeg, &jpeg_len) != 0)
			rc = engine_fail(error, error_size, "The page image could not be compressed.");
		else
			rc = engine_write_file(out_path, jpeg, jpeg_len, error, error_size);
		free(jpeg);
	}
	fz_drop_pixmap(ctx, pix);
	fz_drop_context(ctx);
	return rc;
}
