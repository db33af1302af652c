/*
 * engine-jpeg.c - page images (thumbnails and previews): one page of the kept PDF recorded
 * once as a MuPDF display list, drawn into an RGB pixmap exactly as wide as each image on
 * white, then compressed by libjpeg at quality 80. engine_render_jpegs() does a range of
 * pages in one context and one open document, so fonts are loaded once per document rather
 * than once per image (that load was most of a 200-px thumbnail's cost). libjpeg's fatal
 * errors come back through a jump buffer instead of exit().
 */
#include "convert/engine/engine-private.h"

#include "convert/engine/engine-images.h"
#include "lib/fsutil.h"
#include "lib/str.h"

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

/*
 * Inside fz_try: draws list (one page, bounds box) exactly width_px wide on white and writes
 * it as a JPEG at out_path. *refused_r is set when error already holds the reason.
 */
static void engine_jpeg_draw(fz_context *ctx, fz_display_list *list, fz_rect box, int width_px,
			     const char *out_path, bool *refused_r, char *error, size_t error_size)
{
	float pw = box.x1 - box.x0, ph = box.y1 - box.y0;
	double height = pw > 0 ? round((double)width_px * ph / pw) : 0;
	if (!(pw > 0 && ph > 0) || height < 1 || height > ENGINE_JPEG_MAX_SIDE) {
		*refused_r = true;
		engine_fail(error, error_size,
			    "The page's shape cannot be shown as an image (%.0f x %.0f pt).",
			    (double)pw, (double)ph);
		fz_throw(ctx, FZ_ERROR_GENERIC, "page shape");
	}
	int h = (int)height;
	fz_pixmap *pix = fz_new_pixmap(ctx, fz_device_rgb(ctx), width_px, h, NULL, 0);
	fz_device *dev = NULL;
	unsigned char *jpeg = NULL;
	fz_var(dev);
	fz_var(jpeg);
	fz_try(ctx)
	{
		fz_clear_pixmap_with_value(ctx, pix, 0xff);
		/* The page box, moved to the origin, scaled to exactly width_px × h: the page is
		 * drawn at the image's own size, never larger and scaled down. */
		fz_matrix ctm = fz_concat(fz_translate(-box.x0, -box.y0),
					  fz_scale((float)width_px / pw, (float)h / ph));
		dev = fz_new_draw_device(ctx, fz_identity, pix);
		fz_run_display_list(ctx, list, dev, ctm, fz_infinite_rect, NULL);
		fz_close_device(ctx, dev);
		unsigned long jpeg_len = 0;
		if (engine_jpeg_encode(fz_pixmap_samples(ctx, pix), fz_pixmap_width(ctx, pix),
				       fz_pixmap_height(ctx, pix),
				       (size_t)fz_pixmap_stride(ctx, pix), &jpeg, &jpeg_len) != 0) {
			*refused_r = true;
			engine_fail(error, error_size, "The page image could not be compressed.");
			fz_throw(ctx, FZ_ERROR_GENERIC, "jpeg");
		}
		if (engine_write_file(out_path, jpeg, jpeg_len, error, error_size) != 0) {
			*refused_r = true;
			fz_throw(ctx, FZ_ERROR_GENERIC, "write");
		}
	}
	fz_always(ctx)
	{
		free(jpeg);
		fz_drop_device(ctx, dev);
		fz_drop_pixmap(ctx, pix);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/*
 * Inside fz_try: page (1-based) of doc, recorded once as a display list and drawn at each of
 * the n widths[i] into out_paths[i].
 */
static void engine_jpeg_page(fz_context *ctx, fz_document *doc, int page, const int *widths,
			     const char *const *out_paths, size_t n, bool *refused_r, char *error,
			     size_t error_size)
{
	fz_page *pg = NULL;
	fz_display_list *list = NULL;
	fz_var(pg);
	fz_var(list);
	fz_try(ctx)
	{
		pg = fz_load_page(ctx, doc, page - 1);
		fz_rect box = fz_bound_page(ctx, pg);
		/* Interpreted once, however many sizes are drawn. */
		list = fz_new_display_list_from_page(ctx, pg);
		for (size_t i = 0; i < n; i++)
			engine_jpeg_draw(ctx, list, box, widths[i], out_paths[i], refused_r, error,
					 error_size);
	}
	fz_always(ctx)
	{
		fz_drop_display_list(ctx, list);
		fz_drop_page(ctx, pg);
	}
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* Checks a requested image width. Returns 0 or -1 with the reason. */
static int engine_jpeg_check_width(int width_px, char *error, size_t error_size)
{
	if (width_px < 1 || width_px > ENGINE_JPEG_MAX_SIDE)
		return engine_fail(error, error_size, "A page image must be 1 to %d pixels wide.",
				   ENGINE_JPEG_MAX_SIDE);
	return 0;
}

int engine_render_jpeg(const char *pdf_path, int page, int width_px, const char *out_path,
		       char *error, size_t error_size)
{
	if (engine_jpeg_check_width(width_px, error, error_size) < 0)
		return -1;
	fz_context *ctx = engine_context_new(error, error_size);
	if (ctx == NULL)
		return -1;
	fz_document *volatile doc = NULL;
	bool refused = false;
	fz_var(refused);
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
		const char *paths[1] = {out_path};
		engine_jpeg_page(ctx, doc, page, &width_px, paths, 1, &refused, error, error_size);
	}
	fz_always(ctx)
		fz_drop_document(ctx, doc);
	fz_catch(ctx)
	{
		rc = -1;
		if (!refused)
			engine_fail(error, error_size,
				    "The page could not be drawn: the PDF is damaged.");
	}
	fz_drop_context(ctx);
	return rc;
}

int engine_render_jpegs(const char *pdf_path, int first, int last,
			const pp_engine_image_size_t *sizes, size_t n_sizes, char *error,
			size_t error_size)
{
	if (n_sizes < 1 || n_sizes > ENGINE_IMAGE_SIZES_MAX)
		return engine_fail(error, error_size, "Between 1 and %d image sizes can be drawn.",
				   ENGINE_IMAGE_SIZES_MAX);
	int widths[ENGINE_IMAGE_SIZES_MAX];
	for (size_t i = 0; i < n_sizes; i++) {
		if (engine_jpeg_check_width(sizes[i].width_px, error, error_size) < 0)
			return -1;
		widths[i] = sizes[i].width_px;
	}
	if (first < 1 || (last != 0 && last < first))
		return engine_fail(error, error_size, "The pages %d to %d are not a range.", first,
				   last);
	/* One context and one open document for every page: fonts are loaded and glyphs
	 * rasterised once, not once per image. */
	fz_context *ctx = engine_context_new(error, error_size);
	if (ctx == NULL)
		return -1;
	fz_document *volatile doc = NULL;
	bool refused = false;
	fz_var(refused);
	int rc = 0;
	fz_var(last);
	fz_try(ctx)
	{
		doc = engine_open_pdf(ctx, pdf_path);
		int pages = fz_count_pages(ctx, doc);
		if (last == 0)
			last = pages;
		if (first > last || last > pages) {
			refused = true;
			engine_fail(error, error_size, "The document has no page %d.",
				    first > last ? first : last);
			fz_throw(ctx, FZ_ERROR_GENERIC, "no such page");
		}
		char names[ENGINE_IMAGE_SIZES_MAX][ENGINE_IMAGE_NAME_MAX];
		const char *paths[ENGINE_IMAGE_SIZES_MAX];
		for (int page = first; page <= last; page++) {
			for (size_t i = 0; i < n_sizes; i++) {
				if (!str_format(names[i], sizeof(names[i]), "%s%d%s", sizes[i].prefix,
						page, sizes[i].suffix)) {
					refused = true;
					engine_fail(error, error_size,
						    "The page image's name is too long.");
					fz_throw(ctx, FZ_ERROR_GENERIC, "name");
				}
				paths[i] = names[i];
			}
			engine_jpeg_page(ctx, doc, page, widths, paths, n_sizes, &refused, error,
					 error_size);
		}
	}
	fz_always(ctx)
		fz_drop_document(ctx, doc);
	fz_catch(ctx)
	{
		rc = -1;
		if (!refused)
			engine_fail(error, error_size,
				    "The page could not be drawn: the PDF is damaged.");
	}
	fz_drop_context(ctx);
	return rc == 0 ? last - first + 1 : -1;
}
