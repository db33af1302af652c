/*
 * engine-raster.c - PWG raster and Apple URF, the page images IPP clients (iOS, Android,
 * Windows) send: decoded here (they are simple, and no library on the system reads them
 * without CUPS' filters) into 8-bit grey or RGB pages, each written as one PDF page of the
 * size its resolution gives.
 *
 * Both formats are a file header, then per page a header and lines: each line is a repeat
 * count byte (the line appears count + 1 times), then runs until the line is full: a byte n
 * < 128 repeats the next pixel n + 1 times, n > 128 copies 257 - n literal pixels; in URF,
 * 128 fills the rest of the line with white. "Pixel" is one pixel's bytes, or one byte below
 * 8 bits a pixel. Every count is checked against the line and the data.
 */
#include "convert/engine/engine-private.h"

#include <stdlib.h>
#include <string.h>

#define PWG_SYNC_LEN 4
#define PWG_HEADER_LEN 1796
#define URF_FILE_HEADER_LEN 12 /* "UNIRAST\0" and a page count we do not trust */
#define URF_PAGE_HEADER_LEN 32
#define RASTER_MAX_DPI 10000u
#define RASTER_MAX_SIDE 1000000u /* pixels: 100 inches at 10,000 dpi */
#define RASTER_DAMAGED "The raster document is damaged and cannot be read."

/* How a page's samples map to light. */
typedef enum {
	RASTER_WHITE, /* one channel, 0 = black (sGray, W) */
	RASTER_BLACK, /* one channel, 0 = white (K) */
	RASTER_RGB,
	RASTER_CMYK,
} raster_space_t;

typedef struct {
	uint32_t width, height, dpi_x, dpi_y;
	unsigned bits_per_color;
	unsigned colors; /* channels in the data: 1, 3 or 4 */
	raster_space_t space;
	size_t bytes_per_line;
	bool is_urf;
} raster_format_t;

static uint32_t raster_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks a page's format and fills the derived fields. Returns 0 or -1 with a reason. */
static int raster_format_check(raster_format_t *f, uint64_t max_pixels, char *error,
			       size_t error_size)
{
	if (f->width == 0 || f->height == 0 || f->width > RASTER_MAX_SIDE || f->height > RASTER_MAX_SIDE)
		return engine_fail(error, error_size, RASTER_DAMAGED);
	if ((uint64_t)f->width * f->height > max_pixels)
		return engine_fail(error, error_size,
				   "The raster page is %u x %u pixels; at most %llu megapixels can "
				   "be printed: send it at a lower resolution.",
				   f->width, f->height, (unsigned long long)(max_pixels / 1000000u));
	if (f->dpi_x == 0 || f->dpi_y == 0 || f->dpi_x > RASTER_MAX_DPI || f->dpi_y > RASTER_MAX_DPI)
		return engine_fail(error, error_size, RASTER_DAMAGED);
	bool depth_ok = f->bits_per_color == 8 || f->bits_per_color == 16 ||
			(f->bits_per_color == 1 && f->colors == 1);
	if (!depth_ok)
		return engine_fail(error, error_size,
				   "The raster document uses a colour depth we cannot print.");
	uint64_t bits = (uint64_t)f->width * f->bits_per_color * f->colors;
	f->bytes_per_line = (size_t)((bits + 7) / 8);
	return 0;
}

/* PWG: the CUPS v2 page header (big-endian), colour spaces W, K, RGB, CMYK, sGray, sRGB, AdobeRGB. */
static int raster_pwg_header(const uint8_t *h, raster_format_t *f, uint64_t max_pixels,
			     char *error, size_t error_size)
{
	memset(f, 0, sizeof(*f));
	f->dpi_x = raster_be32(h + 276);
	f->dpi_y = raster_be32(h + 280);
	f->width = raster_be32(h + 372);
	f->height = raster_be32(h + 376);
	f->bits_per_color = raster_be32(h + 384);
	uint32_t bits_per_pixel = raster_be32(h + 388);
	uint32_t bytes_per_line = raster_be32(h + 392);
	uint32_t order = raster_be32(h + 396), space = raster_be32(h + 400);
	switch (space) {
	case 0:  /* W */
	case 18: /* sGray */
		f->space = RASTER_WHITE, f->colors = 1;
		break;
	case 3: /* K */
		f->space = RASTER_BLACK, f->colors = 1;
		break;
	case 1:  /* RGB */
	case 19: /* sRGB */
	case 20: /* AdobeRGB */
		f->space = RASTER_RGB, f->colors = 3;
		break;
	case 6: /* CMYK */
		f->space = RASTER_CMYK, f->colors = 4;
		break;
	default:
		return engine_fail(error, error_size,
				   "The raster document uses a colour space we cannot print.");
	}
	if (order != 0) /* only chunky pixels */
		return engine_fail(error, error_size,
				   "The raster document uses a colour order we cannot print.");
	if (raster_format_check(f, max_pixels, error, error_size) != 0)
		return -1;
	if (bits_per_pixel != f->bits_per_color * f->colors || bytes_per_line != f->bytes_per_line)
		return engine_fail(error, error_size, RASTER_DAMAGED);
	return 0;
}

/* URF: bits per pixel, colour space, width, height, resolution. */
static int raster_urf_header(const uint8_t *h, raster_format_t *f, uint64_t max_pixels,
			     char *error, size_t error_size)
{
	memset(f, 0, sizeof(*f));
	f->is_urf = true;
	unsigned bits_per_pixel = h[0];
	switch (h[1]) {
	case 0: /* sGray */
	case 4: /* W */
		f->space = RASTER_WHITE, f->colors = 1;
		break;
	case 1: /* sRGB */
	case 3: /* AdobeRGB */
	case 5: /* RGB */
		f->space = RASTER_RGB, f->colors = 3;
		break;
	case 6:
		f->space = RASTER_CMYK, f->colors = 4;
		break;
	default:
		return engine_fail(error, error_size,
				   "The raster document uses a colour space we cannot print.");
	}
	if (bits_per_pixel % f->colors != 0)
		return engine_fail(error, error_size, RASTER_DAMAGED);
	f->bits_per_color = bits_per_pixel / f->colors;
	f->width = raster_be32(h + 12);
	f->height = raster_be32(h + 16);
	f->dpi_x = f->dpi_y = raster_be32(h + 20);
	/* 1-bit URF (Ghostscript's urf device) marks ink with 1, like PWG's black_1. */
	if (f->bits_per_color == 1 && f->colors == 1)
		f->space = RASTER_BLACK;
	return raster_format_check(f, max_pixels, error, error_size);
}

/* Turns one decoded line into 8-bit grey or RGB. */
static void raster_line_convert(const raster_format_t *f, const uint8_t *line, uint8_t *out)
{
	size_t step = f->bits_per_color / 8 * f->colors; /* bytes a pixel, at 8 or 16 bits */
	for (uint32_t x = 0; x < f->width; x++) {
		if (f->bits_per_color == 1) {
			bool set = (line[x / 8] >> (7 - x % 8)) & 1;
			out[x] = (uint8_t)((set == (f->space == RASTER_WHITE)) ? 255 : 0);
			continue;
		}
		/* At 16 bits the high byte of each (big-endian) sample is enough for paper. */
		const uint8_t *p = line + (size_t)x * step;
		size_t stride = f->bits_per_color / 8;
		uint8_t c0 = p[0];
		switch (f->space) {
		case RASTER_WHITE:
			out[x] = c0;
			break;
		case RASTER_BLACK:
			out[x] = (uint8_t)(255 - c0);
			break;
		case RASTER_RGB:
			out[3 * x] = c0;
			out[3 * x + 1] = p[stride];
			out[3 * x + 2] = p[2 * stride];
			break;
		case RASTER_CMYK: {
			unsigned k = p[3 * stride];
			for (int c = 0; c < 3; c++) {
				unsigned ink = p[(size_t)c * stride] + k;
				out[3 * x + (size_t)c] = (uint8_t)(ink >= 255 ? 0 : 255 - ink);
			}
			break;
		}
		}
	}
}

/*
 * Decodes one page's lines from data[*pos..len) into pixels (width × height × out_colors),
 * using line (bytes_per_line bytes) as scratch. Advances *pos. Returns 0 or -1 with a reason.
 */
static int raster_page_decode(const raster_format_t *f, const uint8_t *data, size_t len,
			      size_t *pos, uint8_t *line, uint8_t *pixels, char *error,
			      size_t error_size)
{
	size_t unit = f->bits_per_color == 1 ? 1 : f->bits_per_color / 8 * f->colors;
	size_t out_row = (size_t)f->width * (f->space == RASTER_WHITE || f->space == RASTER_BLACK ? 1 : 3);
	uint8_t white = f->space == RASTER_BLACK || f->space == RASTER_CMYK ? 0x00 : 0xff;
	size_t p = *pos;
	uint32_t y = 0;
	while (y < f->height) {
		if (p >= len)
			return engine_fail(error, error_size, RASTER_DAMAGED);
		uint32_t copies = (uint32_t)data[p++] + 1;
		size_t filled = 0;
		while (filled < f->bytes_per_line) {
			if (p >= len)
				return engine_fail(error, error_size, RASTER_DAMAGED);
			unsigned n = data[p++];
			size_t room = f->bytes_per_line - filled;
			if (n == 128 && f->is_urf) {
				memset(line + filled, white, room);
				filled += room;
			} else if (n < 128) {
				size_t bytes = (size_t)(n + 1) * unit;
				if (len - p < unit)
					return engine_fail(error, error_size, RASTER_DAMAGED);
				/* A run past the line's end is cut at the end (as CUPS does). */
				for (size_t done = 0; done < bytes && done < room; done += unit) {
					size_t take = room - done < unit ? room - done : unit;
					memcpy(line + filled + done, data + p, take);
				}
				p += unit;
				filled += bytes < room ? bytes : room;
			} else {
				size_t bytes = (size_t)(257 - n) * unit;
				if (len - p < bytes)
					return engine_fail(error, error_size, RASTER_DAMAGED);
				memcpy(line + filled, data + p, bytes < room ? bytes : room);
				p += bytes;
				filled += bytes < room ? bytes : room;
			}
		}
		uint8_t *row = pixels + (size_t)y * out_row;
		raster_line_convert(f, line, row);
		y++;
		/* Repeats past the page's last line are ignored. */
		for (uint32_t c = 1; c < copies && y < f->height; c++, y++)
			memcpy(pixels + (size_t)y * out_row, row, out_row);
	}
	*pos = p;
	return 0;
}

int engine_raster_decode(const uint8_t *data, size_t len, uint64_t max_pixels, unsigned max_pages,
			 engine_raster_page_fn page_fn, void *opaque, char *error,
			 size_t error_size)
{
	bool is_urf;
	size_t pos;
	if (len >= URF_FILE_HEADER_LEN && memcmp(data, "UNIRAST", 8) == 0) {
		is_urf = true;
		pos = URF_FILE_HEADER_LEN;
	} else if (len >= PWG_SYNC_LEN && memcmp(data, "RaS2", 4) == 0) {
		is_urf = false;
		pos = PWG_SYNC_LEN;
	} else {
		return engine_fail(error, error_size,
				   "The file is not a PWG raster or URF document.");
	}
	size_t header_len = is_urf ? URF_PAGE_HEADER_LEN : PWG_HEADER_LEN;
	uint8_t *line = NULL, *pixels = NULL;
	size_t pixels_size = 0;
	unsigned pages = 0;
	int rc = -1;
	while (pos < len) {
		if (len - pos < header_len) {
			engine_fail(error, error_size, RASTER_DAMAGED);
			goto done;
		}
		if (pages >= max_pages) {
			engine_fail(error, error_size,
				    "The document has more than %u pages; at most %u can be printed: "
				    "split it and send the parts.",
				    max_pages, max_pages);
			goto done;
		}
		raster_format_t f;
		int hrc = is_urf ? raster_urf_header(data + pos, &f, max_pixels, error, error_size)
				 : raster_pwg_header(data + pos, &f, max_pixels, error, error_size);
		if (hrc != 0)
			goto done;
		pos += header_len;
		unsigned out_colors = f.space == RASTER_WHITE || f.space == RASTER_BLACK ? 1 : 3;
		size_t need = (size_t)f.width * f.height * out_colors; /* ≤ 3 × max_pixels */
		free(line);
		line = malloc(f.bytes_per_line);
		if (need > pixels_size) {
			free(pixels);
			pixels = malloc(need);
			pixels_size = pixels == NULL ? 0 : need;
		}
		if (line == NULL || pixels == NULL) {
			engine_fail(error, error_size, "The converter ran out of memory.");
			goto done;
		}
		if (raster_page_decode(&f, data, len, &pos, line, pixels, error, error_size) != 0)
			goto done;
		engine_raster_page_t page = {
		    .width = f.width, .height = f.height, .dpi_x = f.dpi_x, .dpi_y = f.dpi_y,
		    .colors = out_colors,
		};
		if (page_fn(opaque, &page, pixels, error, error_size) != 0)
			goto done;
		pages++;
	}
	if (pages == 0) {
		engine_fail(error, error_size, "The raster document has no pages.");
		goto done;
	}
	rc = (int)pages;
done:
	free(line);
	free(pixels);
	return rc;
}

/* What the page callback writes into. */
typedef struct {
	fz_context *ctx;
	fz_document_writer *wri;
} raster_pdf_t;

/* One decoded page onto one PDF page of its own physical size. */
static int raster_pdf_page(void *opaque, const engine_raster_page_t *page, const uint8_t *pixels,
			   char *error, size_t error_size)
{
	raster_pdf_t *out = opaque;
	fz_context *ctx = out->ctx;
	fz_pixmap *volatile pix = NULL;
	fz_image *volatile image = NULL;
	int rc = 0;
	fz_try(ctx)
	{
		fz_colorspace *cs = page->colors == 1 ? fz_device_gray(ctx) : fz_device_rgb(ctx);
		/* MuPDF only reads the samples: they stay ours. */
		pix = fz_new_pixmap_with_data(ctx, cs, (int)page->width, (int)page->height, NULL, 0,
					      (int)(page->width * page->colors),
					      (unsigned char *)(uintptr_t)pixels);
		fz_set_pixmap_resolution(ctx, pix, (int)page->dpi_x, (int)page->dpi_y);
		image = fz_new_image_from_pixmap(ctx, pix, NULL);
		engine_page_add_full_image(ctx, out->wri, image,
					   (float)page->width * 72.0f / (float)page->dpi_x,
					   (float)page->height * 72.0f / (float)page->dpi_y);
	}
	fz_always(ctx)
	{
		fz_drop_image(ctx, image);
		fz_drop_pixmap(ctx, pix);
		/* The store must not keep the image: its samples are about to be reused. */
		fz_empty_store(ctx);
	}
	fz_catch(ctx)
		rc = engine_fail(error, error_size, "The raster page could not be converted.");
	return rc;
}

int engine_raster_to_pdf(fz_context *ctx, const char *in_path, const engine_limits_t *limits,
			 const char *out_path, char *error, size_t error_size)
{
	const uint8_t *data = NULL;
	size_t len = 0;
	if (engine_map_file(in_path, ENGINE_MAX_INPUT_BYTES, &data, &len, error, error_size) != 0)
		return -1;
	raster_pdf_t out = {.ctx = ctx, .wri = NULL};
	int rc = 0;
	fz_try(ctx)
		out.wri = engine_pdf_writer_new(ctx, out_path);
	fz_catch(ctx)
		rc = engine_fail(error, error_size, "The converter could not write the PDF.");
	if (rc == 0 && engine_raster_decode(data, len, limits->max_image_pixels, limits->max_pages,
					    raster_pdf_page, &out, error, error_size) < 0)
		rc = -1;
	fz_try(ctx)
	{
		if (rc == 0)
			fz_close_document_writer(ctx, out.wri);
	}
	fz_always(ctx)
		fz_drop_document_writer(ctx, out.wri);
	fz_catch(ctx)
		rc = engine_fail(error, error_size, "The converter could not write the PDF.");
	engine_unmap(data, len);
	return rc;
}
