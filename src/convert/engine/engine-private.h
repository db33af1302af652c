/*
 * engine-private.h - what the engine's files share: resolved limits, the MuPDF context every
 * public function makes for itself, user-facing failure messages, placing one picture on a
 * page of the PDF being written, and the PWG raster / URF decoder (a pure parser, fuzzed by
 * tests/fuzz/fuzz-raster.c). Not included outside src/convert/engine/ and its tests.
 */
#ifndef PP_ENGINE_PRIVATE_H
#define PP_ENGINE_PRIVATE_H

#include "convert/engine.h"

#include <mupdf/fitz.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENGINE_DEFAULT_MAX_PAGES 5000u
#define ENGINE_DEFAULT_MAX_PIXELS (100u * 1000u * 1000u)
#define ENGINE_A4_WIDTH_PT 595.276f
#define ENGINE_A4_HEIGHT_PT 841.89f
#define ENGINE_MARGIN_PT (5.0f * 72.0f / 25.4f) /* images: 5 mm */
#define ENGINE_TEXT_MARGIN_PT (15.0f * 72.0f / 25.4f) /* text and HTML: 15 mm */
#define ENGINE_MAX_INPUT_BYTES ((size_t)1 << 30) /* files read whole into memory, at most */

/* pp_engine_limits_t with every 0/NULL replaced by its default; the page portrait. */
typedef struct {
	unsigned max_pages;
	uint64_t max_image_pixels;
	float page_width_pt;
	float page_height_pt;
	const char *ghostscript;
} engine_limits_t;

/* Fills *resolved_r from limits (NULL = all defaults). */
void engine_limits_resolve(const pp_engine_limits_t *limits, engine_limits_t *resolved_r);

/*
 * A new MuPDF context with the default store size, document handlers registered, and
 * MuPDF's own warnings and errors kept off stderr (they quote hostile bytes). New; drop with
 * fz_drop_context(). NULL with error filled when out of memory.
 */
fz_context *engine_context_new(char *error, size_t error_size);

/* Formats a user-facing reason into error and returns -1. */
int engine_fail(char *error, size_t error_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* -1 with "The document has N pages; at most M can be printed." when pages > max_pages. */
int engine_check_pages(long pages, const engine_limits_t *limits, char *error, size_t error_size);

/* -1 with "The image is W × H pixels; …" when w × h > max_image_pixels or either is < 1. */
int engine_check_pixels(int64_t w, int64_t h, const engine_limits_t *limits, char *error,
			size_t error_size);

/*
 * Inside fz_try: adds one page to wri holding image, scaled to fit the default page less a
 * 5 mm margin and centred; the page is landscape when the image (after its EXIF orientation)
 * is wider than tall. xres/yres are not used: photos have no meaningful print size.
 */
void engine_page_add_image(fz_context *ctx, fz_document_writer *wri, fz_image *image,
			   const engine_limits_t *limits);

/*
 * Inside fz_try: adds one page of width_pt × height_pt to wri, the image covering it all
 * (raster input, whose pixels already are the page).
 */
void engine_page_add_full_image(fz_context *ctx, fz_document_writer *wri, fz_image *image,
				float width_pt, float height_pt);

/* Inside fz_try: a PDF writer for path with compressed streams. New; close and drop it. */
fz_document_writer *engine_pdf_writer_new(fz_context *ctx, const char *path);

/* The kinds of input, each called by engine_to_pdf() with its own context. 0 or -1. */
int engine_pdf_rewrite(fz_context *ctx, const char *in_path, const engine_limits_t *limits,
		       const char *out_path, char *error, size_t error_size);
int engine_postscript_to_pdf(fz_context *ctx, const char *in_path, const engine_limits_t *limits,
			     const char *out_path, char *error, size_t error_size);
int engine_image_to_pdf(fz_context *ctx, const char *in_path, const char *content_type,
			const engine_limits_t *limits, const char *out_path, char *error,
			size_t error_size);
int engine_raster_to_pdf(fz_context *ctx, const char *in_path, const engine_limits_t *limits,
			 const char *out_path, char *error, size_t error_size);
int engine_text_to_pdf(fz_context *ctx, const char *in_path, bool is_html,
		       const engine_limits_t *limits, const char *out_path, char *error,
		       size_t error_size);

/*
 * Opens the kept (or any) PDF at path. New; fz_drop_document(). Throws (inside fz_try);
 * a damaged file is repaired by MuPDF when it can be.
 */
fz_document *engine_open_pdf(fz_context *ctx, const char *path);

/*
 * Maps a file read-only: *data_r and *len_r, refusing empty files and files over max_bytes.
 * Unmap with engine_unmap(). Returns 0 or -1 with a user-facing reason.
 */
int engine_map_file(const char *path, size_t max_bytes, const uint8_t **data_r, size_t *len_r,
		    char *error, size_t error_size);
void engine_unmap(const uint8_t *data, size_t len);

/* ---- PWG raster and Apple URF ---- */

/* One decoded raster page: 8-bit grey (colors 1) or RGB (colors 3), rows top to bottom. */
typedef struct {
	uint32_t width;  /* pixels */
	uint32_t height;
	uint32_t dpi_x;
	uint32_t dpi_y;
	unsigned colors;
} engine_raster_page_t;

/*
 * Called once per decoded page with width × height × colors bytes (borrowed: valid during
 * the call). Returns 0 to go on, -1 with error to stop.
 */
typedef int (*engine_raster_page_fn)(void *opaque, const engine_raster_page_t *page,
				     const uint8_t *pixels, char *error, size_t error_size);

/*
 * Decodes a PWG raster ("RaS2", big-endian CUPS v2 headers) or URF ("UNIRAST\0") stream in
 * data[0..len), calling page_fn for each page. Refuses pages whose width × height exceeds
 * max_pixels, more than max_pages pages, colour spaces and depths it cannot print, and any
 * run that leaves its line or the data. Never reads outside data. Returns the page count (≥ 1)
 * or -1 with a user-facing reason.
 */
int engine_raster_decode(const uint8_t *data, size_t len, uint64_t max_pixels, unsigned max_pages,
			 engine_raster_page_fn page_fn, void *opaque, char *error,
			 size_t error_size);

#endif
