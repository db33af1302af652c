/*
 * engine-image.c - pictures to pages: JPEG, PNG, GIF, BMP and TIFF (every page) through
 * MuPDF, WebP through libwebp, HEIC through libheif. The bytes decide the decoder, not the
 * claimed type. Every image's pixel size is checked against the limit from its header before
 * anything is decoded, so a small file claiming 50,000 × 50,000 pixels costs nothing.
 */
#include "convert/engine/engine-private.h"

#include <libheif/heif.h>
#include <webp/decode.h>

#include <stdlib.h>
#include <string.h>

#define ENGINE_DAMAGED_IMAGE "The image is damaged and cannot be read."

/* Big- and little-endian integers inside a window the caller has checked. */
static uint32_t engine_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t engine_tiff16(const uint8_t *p, bool big)
{
	return big ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t engine_tiff32(const uint8_t *p, bool big)
{
	return big ? engine_be32(p)
		   : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/*
 * Walks a TIFF's chain of images (IFDs) without decoding any: counts them and checks each
 * one's width × height. A chain that loops, leaves the file or exceeds max_pages fails.
 * Returns the number of images or -1 with a reason.
 */
static int engine_tiff_scan(const uint8_t *d, size_t len, const engine_limits_t *limits,
			    char *error, size_t error_size)
{
	if (len < 8)
		return engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
	bool big = d[0] == 'M';
	if (engine_tiff16(d + 2, big) != 42)
		return engine_fail(error, error_size,
				   "This TIFF variant (BigTIFF) cannot be printed: save it as an "
				   "ordinary TIFF or PDF.");
	uint32_t *seen = calloc((size_t)limits->max_pages + 1, sizeof(*seen));
	if (seen == NULL)
		return engine_fail(error, error_size, "The converter ran out of memory.");
	int count = 0, rc = -1;
	uint32_t off = engine_tiff32(d + 4, big);
	while (off != 0) {
		for (int i = 0; i < count; i++) {
			if (seen[i] == off)
				goto damaged; /* a loop */
		}
		if ((unsigned)count >= limits->max_pages) {
			engine_fail(error, error_size,
				    "The document has more than %u pages; at most %u can be printed: "
				    "split it and send the parts.",
				    limits->max_pages, limits->max_pages);
			goto done;
		}
		seen[count++] = off;
		if (off > len || len - off < 2)
			goto damaged;
		uint32_t entries = engine_tiff16(d + off, big);
		if ((len - off - 2) / 12 < entries || len - off - 2 - 12 * (size_t)entries < 4)
			goto damaged;
		int64_t w = 0, h = 0;
		for (uint32_t e = 0; e < entries; e++) {
			const uint8_t *ent = d + off + 2 + 12 * (size_t)e;
			uint32_t tag = engine_tiff16(ent, big), type = engine_tiff16(ent + 2, big);
			/* SHORT (3) or LONG (4); the value sits in the entry itself. */
			uint32_t value = type == 3 ? engine_tiff16(ent + 8, big)
				       : type == 4 ? engine_tiff32(ent + 8, big)
						   : 0;
			if (tag == 256)
				w = value;
			else if (tag == 257)
				h = value;
		}
		if (engine_check_pixels(w, h, limits, error, error_size) != 0)
			goto done;
		off = engine_tiff32(d + off + 2 + 12 * (size_t)entries, big);
	}
	rc = count;
	if (count == 0)
		goto damaged;
	goto done;
damaged:
	rc = engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
done:
	free(seen);
	return rc;
}

/* Adds one page holding pix (borrowed) to wri. Inside fz_try. */
static void engine_page_add_pixmap(fz_context *ctx, fz_document_writer *wri, fz_pixmap *pix,
				   const engine_limits_t *limits)
{
	fz_image *volatile image = NULL;
	fz_try(ctx)
	{
		image = fz_new_image_from_pixmap(ctx, pix, NULL);
		engine_page_add_image(ctx, wri, image, limits);
	}
	fz_always(ctx)
		fz_drop_image(ctx, image);
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* JPEG, PNG, GIF, BMP, TIFF: MuPDF reads the header first, decodes while writing the page. */
static int engine_image_mupdf(fz_context *ctx, const uint8_t *data, size_t len, int format,
			      const engine_limits_t *limits, const char *out_path, char *error,
			      size_t error_size)
{
	volatile int pages = 1;
	/* PNG: the header's size is checked by us before MuPDF looks at the image. */
	if (format == FZ_IMAGE_PNG) {
		if (len < 24 || memcmp(data + 12, "IHDR", 4) != 0)
			return engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
		if (engine_check_pixels(engine_be32(data + 16), engine_be32(data + 20), limits, error,
					error_size) != 0)
			return -1;
	} else if (format == FZ_IMAGE_TIFF) {
		pages = engine_tiff_scan(data, len, limits, error, error_size);
		if (pages < 0)
			return -1;
	}

	fz_buffer *volatile buf = NULL;
	fz_image *volatile image = NULL;
	fz_pixmap *volatile pix = NULL;
	fz_document_writer *volatile wri = NULL;
	volatile bool refused = false;
	int rc = 0;
	fz_try(ctx)
	{
		buf = fz_new_buffer_from_shared_data(ctx, data, len);
		wri = engine_pdf_writer_new(ctx, out_path);
		if (format == FZ_IMAGE_TIFF) {
			for (int i = 0; i < pages; i++) {
				pix = fz_load_tiff_subimage(ctx, data, len, i);
				engine_page_add_pixmap(ctx, wri, pix, limits);
				fz_drop_pixmap(ctx, pix);
				pix = NULL;
			}
		} else {
			image = fz_new_image_from_buffer(ctx, buf);
			if (engine_check_pixels(image->w, image->h, limits, error, error_size) != 0) {
				refused = true;
				fz_throw(ctx, FZ_ERROR_GENERIC, "too large");
			}
			engine_page_add_image(ctx, wri, image, limits);
		}
		fz_close_document_writer(ctx, wri);
	}
	fz_always(ctx)
	{
		fz_drop_pixmap(ctx, pix);
		fz_drop_image(ctx, image);
		fz_drop_document_writer(ctx, wri);
		fz_drop_buffer(ctx, buf);
		/* Nothing cached may point into the mapping after we return. */
		fz_empty_store(ctx);
	}
	fz_catch(ctx)
	{
		rc = -1;
		if (!refused)
			engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
	}
	return rc;
}

/*
 * Writes one page from an RGB pixel array (rows of stride bytes, 3 or 4 bytes a pixel; with 4
 * the last is alpha, composited onto white paper). Returns 0 or -1 with a reason.
 */
static int engine_image_from_rgb(fz_context *ctx, const uint8_t *rgb, int w, int h, size_t stride,
				 int bytes_per_pixel, const engine_limits_t *limits,
				 const char *out_path, char *error, size_t error_size)
{
	fz_pixmap *volatile pix = NULL;
	fz_document_writer *volatile wri = NULL;
	int rc = 0;
	fz_try(ctx)
	{
		pix = fz_new_pixmap(ctx, fz_device_rgb(ctx), w, h, NULL, 0);
		unsigned char *dst = fz_pixmap_samples(ctx, pix);
		size_t dst_stride = (size_t)fz_pixmap_stride(ctx, pix);
		for (int y = 0; y < h; y++) {
			const uint8_t *s = rgb + (size_t)y * stride;
			unsigned char *o = dst + (size_t)y * dst_stride;
			for (int x = 0; x < w; x++, s += bytes_per_pixel, o += 3) {
				unsigned a = bytes_per_pixel == 4 ? s[3] : 255;
				for (int c = 0; c < 3; c++)
					o[c] = (unsigned char)((s[c] * a + 255 * (255 - a) + 127) / 255);
			}
		}
		wri = engine_pdf_writer_new(ctx, out_path);
		engine_page_add_pixmap(ctx, wri, pix, limits);
		fz_close_document_writer(ctx, wri);
	}
	fz_always(ctx)
	{
		fz_drop_document_writer(ctx, wri);
		fz_drop_pixmap(ctx, pix);
	}
	fz_catch(ctx)
		rc = engine_fail(error, error_size, "The image could not be converted.");
	return rc;
}

/* WebP: the size from its header (WebPGetInfo), then RGBA decoding. Animations are refused. */
static int engine_image_webp(fz_context *ctx, const uint8_t *data, size_t len,
			     const engine_limits_t *limits, const char *out_path, char *error,
			     size_t error_size)
{
	int w = 0, h = 0;
	if (!WebPGetInfo(data, len, &w, &h))
		return engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
	if (engine_check_pixels(w, h, limits, error, error_size) != 0)
		return -1;
	int dw = 0, dh = 0;
	uint8_t *rgba = WebPDecodeRGBA(data, len, &dw, &dh);
	if (rgba == NULL)
		return engine_fail(error, error_size,
				   "The WebP image is damaged or animated and cannot be printed.");
	int rc = -1;
	if (dw == w && dh == h)
		rc = engine_image_from_rgb(ctx, rgba, w, h, (size_t)w * 4, 4, limits, out_path, error,
					   error_size);
	else
		engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
	WebPFree(rgba);
	return rc;
}

/* HEIC (and other HEIF): the primary image only, size checked before decoding. */
static int engine_image_heic(fz_context *ctx, const uint8_t *data, size_t len,
			     const engine_limits_t *limits, const char *out_path, char *error,
			     size_t error_size)
{
	struct heif_context *hctx = heif_context_alloc();
	if (hctx == NULL)
		return engine_fail(error, error_size, "The converter ran out of memory.");
	/* libheif's own guard: no side longer than the pixel budget allows. */
	uint64_t side = limits->max_image_pixels < (1u << 20) ? limits->max_image_pixels : (1u << 20);
	heif_context_set_maximum_image_size_limit(hctx, (int)side);
	/* The tiles of a grid image (as phones write them) one after another on this thread,
	 * not on libheif's own pool: each tile's libde265 decoder already starts a worker
	 * thread, and the sandbox's RLIMIT_NPROC is shared by every converter child. */
	heif_context_set_max_decoding_threads(hctx, 0);
	struct heif_image_handle *handle = NULL;
	struct heif_image *img = NULL;
	int rc = -1;
	struct heif_error err = heif_context_read_from_memory_without_copy(hctx, data, len, NULL);
	if (err.code != heif_error_Ok) {
		engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
		goto done;
	}
	err = heif_context_get_primary_image_handle(hctx, &handle);
	if (err.code != heif_error_Ok) {
		engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
		goto done;
	}
	if (engine_check_pixels(heif_image_handle_get_width(handle),
				heif_image_handle_get_height(handle), limits, error, error_size) != 0)
		goto done;
	err = heif_decode_image(handle, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, NULL);
	if (err.code != heif_error_Ok) {
		engine_fail(error, error_size,
			    "The HEIC image could not be decoded: it is damaged or uses a codec "
			    "we lack.");
		goto done;
	}
	int w = heif_image_get_width(img, heif_channel_interleaved);
	int h = heif_image_get_height(img, heif_channel_interleaved);
	int stride = 0;
	const uint8_t *plane = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
	if (plane == NULL || stride < 1 || w < 1 || (int64_t)stride < (int64_t)w * 3) {
		engine_fail(error, error_size, ENGINE_DAMAGED_IMAGE);
		goto done;
	}
	if (engine_check_pixels(w, h, limits, error, error_size) != 0)
		goto done;
	rc = engine_image_from_rgb(ctx, plane, w, h, (size_t)stride, 3, limits, out_path, error,
				   error_size);
done:
	heif_image_release(img);
	heif_image_handle_release(handle);
	heif_context_free(hctx);
	return rc;
}

int engine_image_to_pdf(fz_context *ctx, const char *in_path, const char *content_type,
			const engine_limits_t *limits, const char *out_path, char *error,
			size_t error_size)
{
	(void)content_type; /* the bytes decide */
	const uint8_t *data = NULL;
	size_t len = 0;
	if (engine_map_file(in_path, ENGINE_MAX_INPUT_BYTES, &data, &len, error, error_size) != 0)
		return -1;
	int rc;
	if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0) {
		rc = engine_image_webp(ctx, data, len, limits, out_path, error, error_size);
	} else if (len >= 12 && memcmp(data + 4, "ftyp", 4) == 0) {
		rc = engine_image_heic(ctx, data, len, limits, out_path, error, error_size);
	} else {
		unsigned char head[8] = {0};
		memcpy(head, data, len < sizeof(head) ? len : sizeof(head));
		volatile int format = FZ_IMAGE_UNKNOWN;
		fz_try(ctx)
			format = fz_recognize_image_format(ctx, head);
		fz_catch(ctx)
			format = FZ_IMAGE_UNKNOWN;
		/* Only the formats we say we take: fewer parsers meet hostile bytes. */
		if (format == FZ_IMAGE_JPEG || format == FZ_IMAGE_PNG || format == FZ_IMAGE_GIF ||
		    format == FZ_IMAGE_BMP || format == FZ_IMAGE_TIFF)
			rc = engine_image_mupdf(ctx, data, len, format, limits, out_path, error,
						error_size);
		else
			rc = engine_fail(error, error_size,
					 "The file is not an image we can print (JPEG, PNG, GIF, "
					 "TIFF, BMP, WebP, HEIC).");
	}
	engine_unmap(data, len);
	return rc;
}
