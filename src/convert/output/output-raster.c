/*
 * output-raster.c - PWG raster (image/pwg-raster, PWG 5102.4) and Apple raster (image/urf),
 * written here: MuPDF's PWG writer cannot set Duplex/Tumble and encodes one pixel per call,
 * and no Debian library writes URF.
 *
 * Both formats share one compression: each line starts with a byte "the line repeats n+1
 * times", then runs of pixels, each run led by a byte b: b <= 127 means the next pixel
 * repeats b+1 times; b >= 129 means 257-b (2..128) literal pixels follow. (Apple raster also
 * gives b == 128 a meaning, "white to the end of the line"; we never write it.) Pixels are
 * 8-bit sGray or 8-bit-per-colour sRGB, chunky.
 *
 * PWG raster: "RaS2", then per page a 1796-byte header (big-endian fields; the offsets are
 * PWG 5102.4 section 4.3) and the compressed lines.
 *
 * Apple raster, as CUPS (cups/raster-stream.c) and the ppm2pwg project read and write it:
 * "UNIRAST\0", the page count (uint32 big-endian), then per page a 32-byte header:
 *   byte 0      bits per pixel (8 = sGray, 24 = sRGB)
 *   byte 1      colour space: 0 sGray, 1 sRGB, 2 CIELab, 3 AdobeRGB, 4 Gray, 5 RGB, 6 CMYK
 *   byte 2      duplex: 1 one-sided, 2 two-sided short edge, 3 two-sided long edge
 *   byte 3      quality: 0 default, 3 draft, 4 normal, 5 high
 *   bytes 4-11  reserved (0)
 *   bytes 12-15 width in pixels, 16-19 height in pixels, 20-23 resolution in dpi (uint32 BE)
 *   bytes 24-31 reserved (0)
 * followed by the compressed lines.
 *
 * Speed: a side is recorded once as a display list and drawn in bands of about
 * OUTPUT_RASTER_BAND_BYTES, which stay in the CPU's cache while they are cleared, drawn,
 * compared and encoded (a whole 300-dpi RGB side is 26 MB: clearing and comparing it from
 * memory was most of the time). Each band runs only the list entries that touch it, and bands
 * outside the rows where the side has marks (the display list's bounds) are added as white
 * lines without being drawn. Lines are encoded into one buffer and written through a 64 KiB
 * output buffer; identical lines (most of a text page) cost one memcmp, or none for white.
 * Collated copies after the first are copied byte for byte from the first copy's output
 * instead of being drawn again.
 */
#include "output-private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PWG_HEADER_BYTES 1796
#define URF_HEADER_BYTES 32
#define PWG_CSPACE_SGRAY 18
#define PWG_CSPACE_SRGB 19
#define RASTER_COPY_CHUNK (1024u * 1024u)

/* A page being encoded: the pending line and how often it repeats. */
typedef struct {
	int width; /* pixels */
	int n;     /* bytes per pixel: 1 or 3 */
	size_t line_bytes;
	const unsigned char *pending; /* the last line seen: in the band, or in store */
	unsigned char *store;         /* line_bytes: keeps pending while the band is redrawn */
	int repeats;                  /* times pending repeats so far (0: none yet) */
	unsigned char *code;          /* encoded line, line_bytes * 2 + 16 */
	unsigned char *white;         /* line_bytes of 255: every blank line */
} raster_encoder_t;

static void raster_put_u32(unsigned char *p, uint32_t value)
{
	p[0] = (unsigned char)(value >> 24);
	p[1] = (unsigned char)(value >> 16);
	p[2] = (unsigned char)(value >> 8);
	p[3] = (unsigned char)value;
}

/* True when the n-byte pixels at a and b are equal. */
static inline bool raster_same(const unsigned char *a, const unsigned char *b, int n)
{
	return n == 1 ? a[0] == b[0] : (a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
}

/* The 8 bytes at p as one word (unaligned-safe). */
static inline uint64_t raster_load64(const unsigned char *p)
{
	uint64_t word;
	memcpy(&word, p, sizeof(word));
	return word;
}

/*
 * How many pixels from p on (at most max) equal p. Grey pixels are checked 8 at a time as a
 * word; colour pixels 16 at a time with one overlapping memcmp (pixels p[0..r) are all equal
 * exactly when bytes p[0..(r-1)n) equal p[n..rn)). This is what makes a page's white cheap.
 */
static inline int raster_run_length(const unsigned char *p, int n, int max)
{
	int run = 1;
	if (n == 1) {
		const uint64_t pattern = (uint64_t)p[0] * 0x0101010101010101ull;
		while (run + 8 <= max && raster_load64(p + run) == pattern)
			run += 8;
		while (run < max && p[run] == p[0])
			run++;
		return run;
	}
	while (run < 4 && run < max && raster_same(p, p + (size_t)run * (size_t)n, n))
		run++;
	if (run < 4)
		return run;
	const size_t step = 16;
	while (run + (int)step <= max && memcmp(p + (size_t)(run - 1) * (size_t)n,
	                                        p + (size_t)run * (size_t)n, step * (size_t)n) == 0)
		run += (int)step;
	while (run < max && raster_same(p, p + (size_t)run * (size_t)n, n))
		run++;
	return run;
}

/* Encodes enc->pending with its repeat count and writes it. */
static void raster_flush_line(fz_context *ctx, fz_output *out, raster_encoder_t *enc)
{
	if (enc->repeats == 0)
		return;
	const unsigned char *line = enc->pending;
	const int n = enc->n;
	const int w = enc->width;
	unsigned char *code = enc->code;
	size_t len = 0;
	code[len++] = (unsigned char)(enc->repeats - 1);
	int x = 0;
	while (x < w) {
		const unsigned char *p = line + (size_t)x * (size_t)n;
		int max = w - x < 128 ? w - x : 128;
		if (max > 1 && raster_same(p, p + n, n)) {
			/* A run: up to 128 copies of one pixel. */
			int run = raster_run_length(p, n, max);
			code[len++] = (unsigned char)(run - 1);
			memcpy(code + len, p, (size_t)n);
			len += (size_t)n;
			x += run;
			continue;
		}
		/* Literals up to the next pair of equal pixels, 128 at most; one alone is a run
		 * of 1. */
		int count = 1;
		while (count < max &&
		       !(count + 1 < max && raster_same(p + (size_t)count * (size_t)n,
		                                        p + (size_t)(count + 1) * (size_t)n, n)))
			count++;
		code[len++] = count == 1 ? 0 : (unsigned char)(257 - count);
		memcpy(code + len, p, (size_t)count * (size_t)n);
		len += (size_t)count * (size_t)n;
		x += count;
	}
	fz_write_data(ctx, out, code, len);
	enc->repeats = 0;
}

/* The band is about to be redrawn: keep the pending line. */
static void raster_band_done(raster_encoder_t *enc)
{
	if (enc->repeats > 0 && enc->pending != enc->store && enc->pending != enc->white) {
		memcpy(enc->store, enc->pending, enc->line_bytes);
		enc->pending = enc->store;
	}
}

/* The PWG page header of every side (all sides of a job look alike). */
static void raster_pwg_header(const pp_output_layout_t *layout, int dpi, int w, int h, int n,
                              uint32_t total, unsigned char header[PWG_HEADER_BYTES])
{
	memset(header, 0, PWG_HEADER_BYTES);
	memcpy(header + 0, "PwgRaster", sizeof("PwgRaster"));    /* MediaClass */
	raster_put_u32(header + 272, layout->is_duplex ? 1 : 0); /* Duplex */
	raster_put_u32(header + 276, (uint32_t)dpi);             /* HWResolution */
	raster_put_u32(header + 280, (uint32_t)dpi);
	raster_put_u32(header + 340, 1); /* NumCopies: copies are already in the stream */
	raster_put_u32(header + 352, (uint32_t)(layout->media.width_pt + 0.5f)); /* PageSize */
	raster_put_u32(header + 356, (uint32_t)(layout->media.height_pt + 0.5f));
	raster_put_u32(header + 368, layout->is_tumble ? 1 : 0); /* Tumble */
	raster_put_u32(header + 372, (uint32_t)w);               /* Width */
	raster_put_u32(header + 376, (uint32_t)h);               /* Height */
	raster_put_u32(header + 384, 8);                         /* BitsPerColor */
	raster_put_u32(header + 388, (uint32_t)(8 * n));         /* BitsPerPixel */
	raster_put_u32(header + 392, (uint32_t)(w * n));         /* BytesPerLine */
	raster_put_u32(header + 396, 0);                         /* ColorOrder: chunky */
	raster_put_u32(header + 400, n == 1 ? PWG_CSPACE_SGRAY : PWG_CSPACE_SRGB);
	raster_put_u32(header + 420, (uint32_t)n); /* NumColors */
	raster_put_u32(header + 452, total);       /* TotalPageCount */
	raster_put_u32(header + 456, 1);           /* CrossFeedTransform */
	raster_put_u32(header + 460, 1);           /* FeedTransform */
	raster_put_u32(header + 472, (uint32_t)w); /* ImageBoxRight */
	raster_put_u32(header + 476, (uint32_t)h); /* ImageBoxBottom */
	raster_put_u32(header + 480, 0xffffff);    /* AlternatePrimary: white */
	/* PageSizeName: the PWG media name, at most 63 bytes and a NUL. */
	size_t name_len = strnlen(layout->media.name, 63);
	memcpy(header + 1732, layout->media.name, name_len);
}

/* The Apple raster page header (see the file comment for the layout). */
static void raster_urf_header(const pp_output_layout_t *layout, int dpi, int w, int h, int n,
                              unsigned char header[URF_HEADER_BYTES])
{
	memset(header, 0, URF_HEADER_BYTES);
	header[0] = (unsigned char)(8 * n);
	header[1] = n == 1 ? 0 : 1;
	header[2] = !layout->is_duplex ? 1 : layout->is_tumble ? 2 : 3;
	header[3] = 4;
	raster_put_u32(header + 12, (uint32_t)w);
	raster_put_u32(header + 16, (uint32_t)h);
	raster_put_u32(header + 20, (uint32_t)dpi);
}

/* Adds count lines equal to line (which stays valid and unchanged, like enc->white). */
static void raster_add_lines(fz_context *ctx, fz_output *out, raster_encoder_t *enc,
                             const unsigned char *line, int count)
{
	while (count > 0) {
		if (enc->repeats > 0 && enc->repeats < 256 &&
		    (enc->pending == line || memcmp(enc->pending, line, enc->line_bytes) == 0)) {
			int room = 256 - enc->repeats;
			int take = count < room ? count : room;
			enc->repeats += take;
			count -= take;
			continue;
		}
		raster_flush_line(ctx, out, enc);
		enc->pending = line;
		enc->repeats = 1;
		count--;
	}
}

/* Inside fz_try: the pages of side recorded as a display list in side space (points). New. */
static fz_display_list *raster_record_side(fz_context *ctx, fz_document *doc,
                                           const pp_output_layout_t *layout,
                                           const pp_output_side_t *side)
{
	fz_rect media = fz_make_rect(0, 0, layout->media.width_pt, layout->media.height_pt);
	fz_display_list *list = fz_new_display_list(ctx, media);
	fz_device *dev = NULL;
	fz_var(dev);
	fz_try(ctx)
	{
		dev = fz_new_list_device(ctx, list);
		output_run_side(ctx, doc, layout, side, fz_identity, dev);
		fz_close_device(ctx, dev);
	}
	fz_always(ctx)
		fz_drop_device(ctx, dev);
	fz_catch(ctx)
	{
		fz_drop_display_list(ctx, list);
		fz_rethrow(ctx);
	}
	return list;
}

/*
 * Inside fz_try: the side (NULL: blank) as a display list, so that each band runs only what
 * touches it, and the device rows [*y0_r, *y1_r) of the h outside which the side is white.
 * Returns NULL for a side with nothing on it. New; fz_drop_display_list().
 */
static fz_display_list *raster_side_list(fz_context *ctx, fz_document *doc,
                                         const pp_output_layout_t *layout,
                                         const pp_output_side_t *side, float zoom, int h,
                                         int *y0_r, int *y1_r)
{
	*y0_r = 0;
	*y1_r = 0;
	if (side == NULL || side->count == 0)
		return NULL;
	fz_display_list *list = raster_record_side(ctx, doc, layout, side);
	/* Where anything is drawn, in device rows, with a margin for rounding: every row
	 * outside it stays white, so it is neither drawn nor compared. */
	fz_rect marks = fz_transform_rect(fz_bound_display_list(ctx, list), fz_scale(zoom, zoom));
	if (fz_is_empty_rect(marks))
		return list;
	*y0_r = 0;
	*y1_r = h;
	if (fz_is_infinite_rect(marks) || !isfinite(marks.y0) || !isfinite(marks.y1))
		return list;
	float y0 = floorf(marks.y0) - 2.0f, y1 = ceilf(marks.y1) + 2.0f;
	if (y0 > 0.0f)
		*y0_r = y0 < (float)h ? (int)y0 : h;
	if (y1 < (float)h)
		*y1_r = y1 > 0.0f ? (int)y1 : 0;
	return list;
}

/* Inside fz_try: draws list into the band pix (its y set), white first, running only what
 * touches the band. */
static void raster_draw_band(fz_context *ctx, fz_display_list *list, float zoom, fz_pixmap *pix)
{
	fz_clear_pixmap_with_value(ctx, pix, 255);
	fz_device *dev = fz_new_draw_device(ctx, fz_identity, pix);
	fz_try(ctx)
	{
		fz_rect band = fz_make_rect((float)pix->x, (float)pix->y, (float)(pix->x + pix->w),
		                            (float)(pix->y + pix->h));
		fz_run_display_list(ctx, list, dev, fz_scale(zoom, zoom), band, NULL);
		fz_close_device(ctx, dev);
	}
	fz_always(ctx)
		fz_drop_device(ctx, dev);
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* Inside fz_try: the h lines of a side from list (NULL: blank), marks within rows
 * [marks_y0, marks_y1), band by band through pix. */
static void raster_encode_side(fz_context *ctx, fz_display_list *list, int marks_y0,
                               int marks_y1, float zoom, fz_pixmap *pix, raster_encoder_t *enc,
                               fz_output *out, int h)
{
	int rows = pix->h;
	for (int y = 0; y < h; y += rows) {
		int band_rows = h - y < rows ? h - y : rows;
		if (list == NULL || y + band_rows <= marks_y0 || y >= marks_y1) {
			raster_add_lines(ctx, out, enc, enc->white, band_rows);
			continue;
		}
		pix->y = y;
		raster_draw_band(ctx, list, zoom, pix);
		for (int r = 0; r < band_rows; r++)
			raster_add_lines(ctx, out, enc, pix->samples + (size_t)r * (size_t)pix->stride,
			                 1);
		raster_band_done(enc);
	}
	raster_flush_line(ctx, out, enc);
}

/*
 * Draws side band by band into pix and encodes its lines; the page header is written first.
 * Bands no mark reaches are white lines, added without drawing.
 */
static void raster_write_side(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                              const pp_output_side_t *side, int dpi, fz_pixmap *pix,
                              raster_encoder_t *enc, fz_output *out, const unsigned char *header,
                              size_t header_bytes, int h)
{
	fz_write_data(ctx, out, header, header_bytes);
	const float zoom = (float)dpi / 72.0f;
	int marks_y0 = 0, marks_y1 = 0;
	fz_display_list *volatile list =
	    raster_side_list(ctx, doc, layout, side, zoom, h, &marks_y0, &marks_y1);
	fz_try(ctx)
		raster_encode_side(ctx, list, marks_y0, marks_y1, zoom, pix, enc, out, h);
	fz_always(ctx)
		fz_drop_display_list(ctx, list);
	fz_catch(ctx)
		fz_rethrow(ctx);
}

/* Copies bytes [start, end) of fd to out (the first copy, repeated). */
static void raster_copy_range(fz_context *ctx, int fd, off_t start, off_t end, fz_output *out,
                              unsigned char *buffer)
{
	for (off_t at = start; at < end;) {
		size_t want =
		    (size_t)(end - at) < RASTER_COPY_CHUNK ? (size_t)(end - at) : RASTER_COPY_CHUNK;
		ssize_t got = pread(fd, buffer, want, at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			fz_throw(ctx, FZ_ERROR_GENERIC, "cannot read back the first copy: %s",
			         got < 0 ? strerror(errno) : "file ended");
		fz_write_data(ctx, out, buffer, (size_t)got);
		at += got;
	}
}

/* Where out's next byte lands in fd (after flushing what out buffered). */
static off_t raster_position(fz_context *ctx, fz_output *out, int fd)
{
	fz_flush_output(ctx, out);
	off_t at = lseek(fd, 0, SEEK_CUR);
	if (at < 0)
		fz_throw(ctx, FZ_ERROR_GENERIC, "lseek on the output failed: %s", strerror(errno));
	return at;
}

void output_raster_write(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                         pp_output_format_t format, int dpi, int fd)
{
	fz_output *out = output_fd_new(ctx, fd);
	fz_pixmap *pix = NULL;
	raster_encoder_t enc = {0};
	unsigned char *copy_buffer = NULL;
	fz_var(pix);
	fz_var(copy_buffer);
	fz_try(ctx)
	{
		int w, h;
		output_side_pixels(layout, dpi, &w, &h);
		int n = layout->is_gray ? 1 : 3;
		fz_colorspace *cs = layout->is_gray ? fz_device_gray(ctx) : fz_device_rgb(ctx);

		/* Bands as tall as the budget allows: one band per side at usual resolutions. */
		size_t line_bytes = (size_t)w * (size_t)n;
		size_t rows = OUTPUT_RASTER_BAND_BYTES / line_bytes;
		if (rows < 1)
			rows = 1;
		if (rows > (size_t)h)
			rows = (size_t)h;
		pix = fz_new_pixmap_with_bbox(ctx, cs, fz_make_irect(0, 0, w, (int)rows), NULL, 0);
		fz_set_pixmap_resolution(ctx, pix, dpi, dpi);
		enc.width = w;
		enc.n = n;
		enc.line_bytes = line_bytes;
		enc.store = fz_malloc(ctx, line_bytes);
		enc.code = fz_malloc(ctx, line_bytes * 2 + 16);
		enc.white = fz_malloc(ctx, line_bytes);
		memset(enc.white, 255, line_bytes);

		/* File header and the page header every side shares. */
		int64_t total = output_layout_total_sides(layout);
		unsigned char header[PWG_HEADER_BYTES];
		size_t header_bytes;
		if (format == PP_OUTPUT_PWG) {
			fz_write_data(ctx, out, "RaS2", 4);
			raster_pwg_header(layout, dpi, w, h, n, (uint32_t)total, header);
			header_bytes = PWG_HEADER_BYTES;
		} else {
			unsigned char file_header[12];
			memcpy(file_header, "UNIRAST", 8);
			raster_put_u32(file_header + 8, (uint32_t)total);
			fz_write_data(ctx, out, file_header, sizeof(file_header));
			raster_urf_header(layout, dpi, w, h, n, header);
			header_bytes = URF_HEADER_BYTES;
		}

		/* The first copy is drawn; later copies repeat its bytes, blank backs between. */
		off_t copy_start = raster_position(ctx, out, fd);
		for (int s = 0; s < layout->sides_per_copy; s++)
			raster_write_side(ctx, doc, layout, &layout->sides[s], dpi, pix, &enc, out,
			                  header, header_bytes, h);
		off_t copy_end = raster_position(ctx, out, fd);
		if (layout->copies > 1)
			copy_buffer = fz_malloc(ctx, RASTER_COPY_CHUNK);
		for (int c = 1; c < layout->copies; c++) {
			if (layout->has_blank_back)
				raster_write_side(ctx, doc, layout, NULL, dpi, pix, &enc, out,
				                  header, header_bytes, h);
			raster_copy_range(ctx, fd, copy_start, copy_end, out, copy_buffer);
		}
		fz_close_output(ctx, out);
	}
	fz_always(ctx)
	{
		fz_free(ctx, copy_buffer);
		fz_free(ctx, enc.store);
		fz_free(ctx, enc.code);
		fz_free(ctx, enc.white);
		fz_drop_pixmap(ctx, pix);
		fz_drop_output(ctx, out);
	}
	fz_catch(ctx)
	{
		fz_rethrow(ctx);
	}
}
