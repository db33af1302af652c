/*
 * output-private.h - what the facets of the output part share (no other folder includes it).
 *
 * output_render() (output-render.c) opens the kept PDF, picks the pages and lays them out on
 * sides of paper (output-layout.c), then hands the sides to one writer: PDF, PostScript and
 * PCL 5 through MuPDF (output-mupdf.c), PWG raster and Apple raster through our own encoder
 * (output-raster.c), PCL 6 through Ghostscript on an intermediate PDF (output-pcl6.c).
 *
 * Coordinates are PostScript points (1/72 inch) with MuPDF's orientation: origin at the top
 * left of the side, y growing downwards.
 */
#ifndef PP_OUTPUT_PRIVATE_H
#define PP_OUTPUT_PRIVATE_H

#include "convert/output.h"

#include <mupdf/fitz.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OUTPUT_MARGIN_PT (4.0f * 72.0f / 25.4f) /* printable area: 4 mm from each edge */
#define OUTPUT_DPI_DEFAULT 300
#define OUTPUT_DPI_MIN 72
#define OUTPUT_DPI_MAX 1200
#define OUTPUT_BAND_BYTES_MAX (32u * 1024u * 1024u) /* one raster band at most */
/* PWG/URF bands: small enough to stay in the CPU's cache while drawn, compared and encoded. */
#define OUTPUT_RASTER_BAND_BYTES (1024u * 1024u)

/* A media size parsed from its PWG self-describing name. */
typedef struct {
	char name[OPTIONS_MEDIA_MAX];
	float width_pt; /* portrait: width <= height */
	float height_pt;
} pp_output_media_t;

/* One source page placed on a side. */
typedef struct {
	int page;        /* 0-based page of the source document */
	fz_matrix ctm;   /* page space (fz_bound_page) -> side space, points */
	fz_rect cell;    /* the part of the side the page may mark */
	bool needs_clip; /* the placed page reaches outside its cell */
} pp_output_place_t;

/* One side of a sheet: places[first .. first + count - 1]; count 0 is a blank side. */
typedef struct {
	int first;
	int count;
} pp_output_side_t;

/* The sides of one copy, and how copies repeat. */
typedef struct {
	pp_output_media_t media; /* what every side is printed on */
	bool is_substituted;     /* media differs from the job's (A4 <-> Letter, nearest) */
	bool is_duplex;
	bool is_tumble; /* two-sided-short-edge */
	bool is_gray;   /* monochrome asked for, or a printer without colour */
	int copies;
	int pages_per_copy;        /* after page ranges */
	int sides_per_copy;        /* sides with marks */
	bool has_blank_back;       /* duplex with an odd side count: a blank between copies */
	pp_output_side_t *sides;   /* sides_per_copy entries */
	pp_output_place_t *places; /* pages_per_copy entries */
} pp_output_layout_t;

/* --- output-layout.c --- */

/*
 * Parses a PWG self-describing name ("iso_a4_210x297mm", "na_letter_8.5x11in") into
 * *media_r. Returns 0, or -1 with error saying which names work.
 */
int output_media_parse(const char *name, pp_output_media_t *media_r, char *error,
                       size_t error_size);

/*
 * The media to print on: the job's, or when printer_media is given and the job's size is not
 * among them, A4 <-> Letter or else the nearest size the printer has. Returns 0 or -1.
 */
int output_media_choose(const pp_output_request_t *req, pp_output_media_t *media_r,
                        bool *is_substituted_r, char *error, size_t error_size);

/*
 * The 0-based pages that print, in order, out of doc_pages (page ranges; all without).
 * Returns 0 with *pages_r (new; free with free()) and *count_r >= 1, or -1 with error: a
 * range past the end, or a document without pages.
 */
int output_layout_select(const pp_print_options_t *opts, int doc_pages, int **pages_r, int *count_r,
                         char *error, size_t error_size);

/*
 * Lays out count pages (page numbers pages[i], page boxes bounds[i] as fz_bound_page gives
 * them) for req into *layout_r. Returns 0 (clear with output_layout_clear()) or -1.
 */
int output_layout_make(const pp_output_request_t *req, const int *pages, const fz_rect *bounds,
                       int count, pp_output_layout_t *layout_r, char *error, size_t error_size);

/* Frees the arrays of layout and zeroes it. NULL-safe. */
void output_layout_clear(pp_output_layout_t *layout);

/* Sides written for all copies, blank backs included. */
int64_t output_layout_total_sides(const pp_output_layout_t *layout);

/*
 * The k-th written side (0 <= k < output_layout_total_sides()): borrowed from layout, or NULL
 * for a blank back between copies.
 */
const pp_output_side_t *output_layout_side(const pp_output_layout_t *layout, int64_t k);

/* --- output-render.c --- */

/*
 * A MuPDF output writing to fd (borrowed: closing or dropping the output leaves fd open); a
 * failed or short write throws. New; fz_close_output() then fz_drop_output().
 */
fz_output *output_fd_new(fz_context *ctx, int fd);

/* --- output-mupdf.c --- */

/* Writes the layout through MuPDF as PDF, PostScript or PCL 5 to fd. Throws (fz_throw). */
void output_mupdf_write(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                        pp_output_format_t format, int dpi, int fd);

/* Runs the pages of side through dev, each placed by its ctm, then by view. Throws. */
void output_run_side(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                     const pp_output_side_t *side, fz_matrix view, fz_device *dev);

/*
 * Draws side (NULL: blank) into pix, whose bbox is a band of the side at dpi (white first).
 * Throws.
 */
void output_draw_band(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                      const pp_output_side_t *side, int dpi, fz_pixmap *pix);

/* Pixel size of one side at dpi. */
void output_side_pixels(const pp_output_layout_t *layout, int dpi, int *w_r, int *h_r);

/* --- output-raster.c --- */

/* Writes the layout as PWG raster (format PWG) or Apple raster (URF) to fd. Throws. */
void output_raster_write(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                         pp_output_format_t format, int dpi, int fd);

/* --- output-ghostscript.c --- */

/*
 * Turns intermediate_pdf (the laid-out job) into format (PP_OUTPUT_PCL6 or
 * PP_OUTPUT_POSTSCRIPT) at out_path with Ghostscript (ghostscript: absolute path). Runs it
 * through sandbox_exec_wait(). Returns 0 or -1.
 */
int output_ghostscript_run(const char *ghostscript, pp_output_format_t format,
                          const char *intermediate_pdf, const char *out_path,
                          const pp_output_layout_t *layout, int dpi, char *error,
                          size_t error_size);

#endif
