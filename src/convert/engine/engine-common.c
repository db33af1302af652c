/*
 * engine-common.c - the engine's shared pieces: limits with their defaults, a quiet MuPDF
 * context, user-facing failures, placing pictures on pages and mapping input files.
 */
#include "convert/engine/engine-private.h"

#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void engine_limits_resolve(const pp_engine_limits_t *limits, engine_limits_t *resolved_r)
{
	resolved_r->max_pages = ENGINE_DEFAULT_MAX_PAGES;
	resolved_r->max_image_pixels = ENGINE_DEFAULT_MAX_PIXELS;
	resolved_r->page_width_pt = ENGINE_A4_WIDTH_PT;
	resolved_r->page_height_pt = ENGINE_A4_HEIGHT_PT;
	resolved_r->ghostscript = "/usr/bin/gs";
	if (limits == NULL)
		return;
	if (limits->max_pages > 0)
		resolved_r->max_pages = limits->max_pages;
	if (limits->max_image_pixels > 0)
		resolved_r->max_image_pixels = limits->max_image_pixels;
	/* A page size is taken only whole, sane (1 pt to 5 m) and made portrait. */
	float w = limits->default_width_pt, h = limits->default_height_pt;
	if (isfinite(w) && isfinite(h) && w >= 1.0f && h >= 1.0f && w <= 14400.0f && h <= 14400.0f) {
		resolved_r->page_width_pt = w < h ? w : h;
		resolved_r->page_height_pt = w < h ? h : w;
	}
	if (limits->ghostscript != NULL && limits->ghostscript[0] == '/')
		resolved_r->ghostscript = limits->ghostscript;
}

/* MuPDF's messages quote the document; they are dropped, our reasons say what happened. */
static void engine_quiet(void *user, const char *message)
{
	(void)user;
	(void)message;
}

fz_context *engine_context_new(char *error, size_t error_size)
{
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	if (ctx == NULL) {
		engine_fail(error, error_size, "The converter ran out of memory: try again later.");
		return NULL;
	}
	fz_set_warning_callback(ctx, engine_quiet, NULL);
	fz_set_error_callback(ctx, engine_quiet, NULL);
	fz_try(ctx)
		fz_register_document_handlers(ctx);
	fz_catch(ctx)
	{
		fz_drop_context(ctx);
		engine_fail(error, error_size, "The converter could not start: try again later.");
		return NULL;
	}
	return ctx;
}

int engine_fail(char *error, size_t error_size, const char *fmt, ...)
{
	if (error == NULL || error_size == 0)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(error, error_size, fmt, ap);
	va_end(ap);
	if (n < 0)
		error[0] = '\0';
	/* A reason cut short still says most of what happened: keep the prefix. */
	return -1;
}

int engine_check_pages(long pages, const engine_limits_t *limits, char *error, size_t error_size)
{
	if (pages < 1)
		return engine_fail(error, error_size, "The document has no pages to print.");
	if ((unsigned long)pages > limits->max_pages)
		return engine_fail(error, error_size,
				   "The document has %ld pages; at most %u can be printed: split it "
				   "and send the parts.",
				   pages, limits->max_pages);
	return 0;
}

int engine_check_pixels(int64_t w, int64_t h, const engine_limits_t *limits, char *error,
			size_t error_size)
{
	if (w < 1 || h < 1)
		return engine_fail(error, error_size, "The image is damaged: it has no pixels.");
	/* Both are below 2^31 where they come from, so the product fits. */
	if (w > INT32_MAX || h > INT32_MAX || (uint64_t)w * (uint64_t)h > limits->max_image_pixels) {
		bool mega = limits->max_image_pixels >= 1000000u;
		return engine_fail(error, error_size,
				   "The image is %" PRId64 " x %" PRId64 " pixels; at most %" PRIu64
				   " %spixels can be printed: make it smaller and send it again.",
				   w, h, mega ? limits->max_image_pixels / 1000000u : limits->max_image_pixels,
				   mega ? "mega" : "");
	}
	return 0;
}

fz_document_writer *engine_pdf_writer_new(fz_context *ctx, const char *path)
{
	return fz_new_pdf_writer(ctx, path, "compress,compress-images,compress-fonts,garbage");
}

/* Adds a page of size page and draws image into the rectangle (x, y, w, h) of it. */
static void engine_page_draw_image(fz_context *ctx, fz_document_writer *wri, fz_image *image,
				   fz_rect page, float x, float y, float w, float h)
{
	/* The orientation matrix turns the unit square by the image's EXIF orientation. */
	fz_matrix ctm = fz_concat(fz_image_orientation_matrix(ctx, image),
				  fz_concat(fz_scale(w, h), fz_translate(x, y)));
	fz_device *dev = fz_begin_page(ctx, wri, page);
	fz_fill_image(ctx, dev, image, ctm, 1.0f, fz_default_color_params);
	fz_end_page(ctx, wri);
}

void engine_page_add_image(fz_context *ctx, fz_document_writer *wri, fz_image *image,
			   const engine_limits_t *limits)
{
	/* The image's shape on paper: pixels over resolution (fax TIFFs have unequal ones). */
	int xres = image->xres > 0 ? image->xres : 96, yres = image->yres > 0 ? image->yres : 96;
	float iw = (float)image->w / (float)xres, ih = (float)image->h / (float)yres;
	uint8_t orientation = fz_image_orientation(ctx, image);
	if (orientation == 2 || orientation == 4 || orientation == 6 || orientation == 8) {
		float t = iw;
		iw = ih;
		ih = t;
	}
	/* The page turns to the image's orientation. */
	bool landscape = iw > ih;
	float pw = landscape ? limits->page_height_pt : limits->page_width_pt;
	float ph = landscape ? limits->page_width_pt : limits->page_height_pt;
	float bw = pw - 2 * ENGINE_MARGIN_PT, bh = ph - 2 * ENGINE_MARGIN_PT;
	if (bw < 1.0f || bh < 1.0f) {
		bw = pw;
		bh = ph;
	}
	float scale = fminf(bw / iw, bh / ih);
	float w = iw * scale, h = ih * scale;
	engine_page_draw_image(ctx, wri, image, fz_make_rect(0, 0, pw, ph), (pw - w) / 2,
			       (ph - h) / 2, w, h);
}

void engine_page_add_full_image(fz_context *ctx, fz_document_writer *wri, fz_image *image,
				float width_pt, float height_pt)
{
	engine_page_draw_image(ctx, wri, image, fz_make_rect(0, 0, width_pt, height_pt), 0, 0,
			       width_pt, height_pt);
}

fz_document *engine_open_pdf(fz_context *ctx, const char *path)
{
	fz_stream *volatile stm = NULL;
	fz_document *volatile doc = NULL;
	fz_try(ctx)
	{
		stm = fz_open_file(ctx, path);
		doc = fz_open_document_with_stream(ctx, "application/pdf", stm);
	}
	fz_always(ctx)
		fz_drop_stream(ctx, stm);
	fz_catch(ctx)
		fz_rethrow(ctx);
	return doc;
}

int engine_map_file(const char *path, size_t max_bytes, const uint8_t **data_r, size_t *len_r,
		    char *error, size_t error_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return engine_fail(error, error_size, "The document could not be opened (%s).",
				   strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return engine_fail(error, error_size, "The document is not a regular file.");
	}
	if (st.st_size <= 0) {
		(void)close(fd);
		return engine_fail(error, error_size, "The document is empty: send it again.");
	}
	if ((uint64_t)st.st_size > max_bytes) {
		(void)close(fd);
		return engine_fail(error, error_size,
				   "The document is too large to convert (%jd bytes).",
				   (intmax_t)st.st_size);
	}
	size_t len = (size_t)st.st_size;
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	int saved = errno;
	if (close(fd) != 0 && map != MAP_FAILED) {
		(void)munmap(map, len);
		return engine_fail(error, error_size, "The document could not be read.");
	}
	if (map == MAP_FAILED)
		return engine_fail(error, error_size, "The document could not be read (%s).",
				   strerror(saved));
	*data_r = map;
	*len_r = len;
	return 0;
}

void engine_unmap(const uint8_t *data, size_t len)
{
	if (data != NULL)
		(void)munmap((void *)(uintptr_t)data, len);
}
