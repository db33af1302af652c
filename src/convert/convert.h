/*
 * convert.h - what every part of the converter shares: the kinds of input, the facts an
 * analysis finds, and the sizes of page images.
 *
 * The converter (pullprint-convert) turns a held job's original document into the PDF we
 * keep (role "pdf"), analyses it (pages, colour pages, page sizes), renders page images
 * (roles "thumb:N" ≈ CONVERT_THUMB_WIDTH px wide and "preview:N" ≈ CONVERT_PREVIEW_WIDTH px,
 * JPEG, N 1-based) and, at release, the data a printer speaks (role "print"). Documents are
 * parsed only inside a sandboxed child (sandbox.h); these types cross that boundary as files
 * in the child's private temporary directory.
 */
#ifndef PP_CONVERT_H
#define PP_CONVERT_H

#include <stdbool.h>
#include <stddef.h>

#define CONVERT_THUMB_WIDTH 200
#define CONVERT_PREVIEW_WIDTH 1000
#define CONVERT_ERROR_MAX 512 /* a user-facing reason, with the terminator */

/* Which engine a document needs. */
typedef enum {
	PP_CONVERT_UNSUPPORTED = 0,
	PP_CONVERT_PDF,        /* application/pdf: MuPDF */
	PP_CONVERT_POSTSCRIPT, /* application/postscript: Ghostscript -dSAFER */
	PP_CONVERT_IMAGE,      /* JPEG, PNG, GIF, TIFF, BMP (MuPDF), WebP (libwebp), HEIC (libheif) */
	PP_CONVERT_RASTER,     /* image/pwg-raster, image/urf: sent by IPP clients */
	PP_CONVERT_TEXT,       /* text/plain in any common charset */
	PP_CONVERT_HTML,       /* text/html (mail bodies) */
	PP_CONVERT_OFFICE,     /* Word, Excel, PowerPoint, OpenDocument, RTF: LibreOfficeKit */
} pp_convert_kind_t;

/* One page of the kept PDF. */
typedef struct {
	float width_pt;  /* media box, 1/72 inch, after /Rotate */
	float height_pt;
	bool is_color;   /* some mark on the page is not neutral grey */
} pp_page_info_t;

/* What analysing the kept PDF found. */
typedef struct {
	int pages;
	int color_pages;
	pp_page_info_t *page_info; /* pages entries; new, freed by convert_analysis_free() */
} pp_convert_analysis_t;

/* Frees page_info and zeroes the struct. NULL-safe. */
void convert_analysis_free(pp_convert_analysis_t *analysis);

/*
 * The kind for a MIME type as doctype_sniff() (core/doctype.h) names it, parameters such as
 * "; charset=…" ignored. PP_CONVERT_UNSUPPORTED for anything else (and for NULL).
 */
pp_convert_kind_t convert_kind_of(const char *content_type);

#endif
