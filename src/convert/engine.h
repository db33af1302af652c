/*
 * engine.h - turning one input document into the PDF we keep, analysing that PDF and
 * rendering its pages as JPEG images. Runs only inside a sandboxed child (sandbox.h): every
 * function here parses hostile bytes.
 *
 * Engines: MuPDF for PDF, JPEG, PNG, GIF, TIFF (every page), BMP, PWG raster/URF is not MuPDF's
 * (see engine_to_pdf), HTML and text (laid out by MuPDF's HTML engine after the text is made
 * UTF-8: uchardet guesses the charset, iconv converts); libwebp for WebP, libheif for HEIC;
 * Ghostscript (gs -dSAFER, through sandbox_exec_wait()) for PostScript. Office documents are
 * not handled here (office.h).
 */
#ifndef PP_ENGINE_H
#define PP_ENGINE_H

#include "convert/convert.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	unsigned max_pages;       /* more pages fail the document; 0 = 5000 */
	uint64_t max_image_pixels; /* width × height of one decoded image; 0 = 100 Mpixel */
	/* Page size for documents that have none (text, HTML, images): points. 0 = A4. */
	float default_width_pt;
	float default_height_pt;
	const char *ghostscript; /* path of gs; NULL = "/usr/bin/gs" */
} pp_engine_limits_t;

/*
 * Converts in_path (typed as content_type by doctype_sniff(); never trusted to be right)
 * to a normalised PDF at out_path: PDF is rewritten by MuPDF (garbage-collected, no
 * JavaScript or embedded files kept); images become one page each, fitted to the default
 * page with the page turned to the image's orientation; text and HTML are laid out on the
 * default page. Returns 0, or -1 with a user-facing reason (password-protected PDF, damaged
 * file, too many pages, image too large, "this is not a PDF although it says so", kind
 * unsupported, office kinds: "needs the office engine").
 */
int engine_to_pdf(const char *in_path, const char *content_type, const pp_engine_limits_t *limits,
		  const char *out_path, char *error, size_t error_size);

/*
 * Analyses pdf_path: page count, per page size and whether anything on it is in colour
 * (rendered at a low resolution in RGB; a page is colour when some pixel's channels differ
 * by more than a small tolerance, so anti-aliased grey text stays mono). Fills *analysis_r
 * (free with convert_analysis_free()). Returns 0 or -1 with a reason.
 */
int engine_analyse(const char *pdf_path, const pp_engine_limits_t *limits,
		   pp_convert_analysis_t *analysis_r, char *error, size_t error_size);

/*
 * Renders page (1-based) of pdf_path as a JPEG width_px wide (height keeps the aspect) at
 * out_path (libjpeg, quality 80). Returns 0 or -1 with a reason.
 */
int engine_render_jpeg(const char *pdf_path, int page, int width_px, const char *out_path,
		       char *error, size_t error_size);

/*
 * Writes analysis as JSON ({"pages":N,"color_pages":N,"page_info":[{"w":pt,"h":pt,
 * "color":bool}…]}) to path, for the sandbox's parent. Returns 0 or -1.
 */
int engine_analysis_save(const pp_convert_analysis_t *analysis, const char *path, char *error,
			 size_t error_size);

/*
 * Reads what engine_analysis_save() wrote, in the parent: the file came from a sandboxed
 * child and is checked (size ≤ 4 MiB, pages ≤ max_pages, sizes finite and positive,
 * color_pages = the count of colour pages). Returns 0 or -1.
 */
int engine_analysis_load(const char *path, unsigned max_pages, pp_convert_analysis_t *analysis_r,
			 char *error, size_t error_size);

#endif
