/*
 * engine-images.h - page images of a range of pages in one go: the kept PDF opened once, each
 * page interpreted once, drawn at one or more widths (a 200-px thumbnail and a 1000-px
 * preview at intake; the thumbnail alone for `pullprint-convert images`). Runs only inside a
 * sandboxed child (sandbox.h), like everything in engine.h; a candidate for engine.h itself.
 */
#ifndef PP_ENGINE_IMAGES_H
#define PP_ENGINE_IMAGES_H

#include "convert/engine.h"

#include <stddef.h>

#define ENGINE_IMAGE_SIZES_MAX 4
#define ENGINE_IMAGE_NAME_MAX 128 /* a file name made from prefix, page and suffix */

/* One size of page image: width_px wide (1..10000), written to prefix<page>suffix. */
typedef struct {
	int width_px;
	const char *prefix; /* borrowed, "thumb-" */
	const char *suffix; /* borrowed, ".jpg" */
} pp_engine_image_size_t;

/*
 * Renders pages first..last (1-based; last 0 = the document's last page) of pdf_path as JPEGs (libjpeg, quality 80), one per
 * size in sizes[0..n_sizes) (at most ENGINE_IMAGE_SIZES_MAX), relative to the current
 * directory: the same images as engine_render_jpeg() for each page and width, in one MuPDF
 * context. Returns the number of pages drawn (>= 1), or -1 with a reason (no such page, a
 * width out of range, a damaged page); images written before a failure stay.
 */
int engine_render_jpegs(const char *pdf_path, int first, int last,
			const pp_engine_image_size_t *sizes, size_t n_sizes, char *error,
			size_t error_size);

#endif
