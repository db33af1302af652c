/*
 * output.h - turning the kept PDF into what a printer speaks, with the job's options applied.
 * Runs only inside a sandboxed child (sandbox.h, profile EXEC for PostScript and PCL 6).
 *
 * Pages are chosen (page ranges), placed (n-up, orientation, fit-to-page, media
 * substitution A4 <-> Letter when the job's media is not one the printer has), coloured
 * (monochrome when asked or when the printer has no colour) and repeated (copies,
 * collated); duplex is written into the format's own page headers (PWG/URF) or PJL/PostScript
 * setpagedevice, and blank backs are added so each copy starts on a new sheet. Formats:
 * PDF (MuPDF writer), PCL 5 (MuPDF's band writer), PWG raster and Apple raster URF (written
 * here: MuPDF 1.21's PWG writer cannot set duplex, and no Debian library writes URF),
 * PostScript (Ghostscript's ps2write, vector) and PCL 6 / PCL XL (Ghostscript's
 * pxlcolor/pxlmono devices), both with -dSAFER in the EXEC sandbox profile. Staples and trays are not applied here:
 * delivery passes them to the printer.
 */
#ifndef PP_OUTPUT_H
#define PP_OUTPUT_H

#include "core/options.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	PP_OUTPUT_PDF = 0,
	PP_OUTPUT_PWG,        /* image/pwg-raster */
	PP_OUTPUT_URF,        /* image/urf */
	PP_OUTPUT_POSTSCRIPT, /* application/postscript */
	PP_OUTPUT_PCL5,       /* application/vnd.hp-pcl (PCL 5, raster) */
	PP_OUTPUT_PCL6,       /* application/vnd.hp-pclxl */
} pp_output_format_t;

#define PP_OUTPUT_FORMAT_COUNT 6

typedef struct {
	pp_output_format_t format;
	pp_print_options_t options; /* copies, sides, color_mode, media, number_up,
				       orientation, page ranges (staple ignored) */
	int resolution_dpi;          /* raster formats; 0 = 300 */
	bool printer_is_color;       /* false: every page is rendered grey */
	/* The media the printer has loaded (PWG names), for substitution; NULL/0 = no
	 * substitution: the job's media is used as it is. */
	const char *const *printer_media;
	size_t n_printer_media;
	bool fit_to_page; /* scale each page into the printable area; else centre at 100 % */
	const char *ghostscript; /* NULL = "/usr/bin/gs" */
} pp_output_request_t;

/* What was written. */
typedef struct {
	int pages;  /* document pages printed per copy (after page ranges) */
	int sheets; /* sheets of paper for all copies */
	int impressions; /* sides with marks, all copies */
} pp_output_result_t;

/* Fills req with PDF, default options, 300 dpi, colour printer, no substitution, fit off. */
void output_request_default(pp_output_request_t *req);

/* "pdf", "pwg", "urf", "ps", "pcl5", "pcl6". Static. */
const char *output_format_name(pp_output_format_t format);

/* The MIME type of format. Static. */
const char *output_format_mime(pp_output_format_t format);

/* Parses a name from output_format_name(). Returns false for anything else. */
bool output_format_parse(const char *name, pp_output_format_t *format_r);

/*
 * Writes pdf_path as req->format to out_path. Returns 0 with *result_r filled, or -1 with a
 * user-facing reason ("page range 9-12 is past the document's 3 pages").
 */
int output_render(const char *pdf_path, const pp_output_request_t *req, const char *out_path,
		  pp_output_result_t *result_r, char *error, size_t error_size);

#endif
