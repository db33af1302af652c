/*
 * pjl.h - the PJL envelope around a RAW (port 9100) job: a header that names the job and its
 * user and sets copies, duplex, colour, paper and stapling, then ENTER LANGUAGE; and a
 * trailer that ends the job, each framed by the Universal Exit Language (UEL,
 * ESC "%-12345X") so the printer resets between jobs.
 *
 * Only the HP PJL core is portable: JOB/EOJ, USERNAME, QTY, DUPLEX, BINDING, RENDERMODE,
 * PAPER and ENTER LANGUAGE. Stapling has no common PJL spelling (HP Enterprise uses
 * PROCESSINGTYPE/PROCESSINGOPTION, Xerox a COMMENT XRXSTAPLE, Brother and Kyocera
 * STAPLE=...): this module writes "@PJL SET STAPLE=<place>", which devices that do not know it
 * ignore. Strings are sanitised (printable ASCII, no quotes), so a job name cannot end a
 * PJL string early or inject a command.
 */
#ifndef PP_PJL_H
#define PP_PJL_H

#include "core/options.h"

#include <stdbool.h>
#include <stddef.h>

#define PJL_HEADER_MAX 2048 /* every line at its longest fits */
#define PJL_TRAILER_MAX 256
#define PJL_STRING_MAX 80   /* PJL string values: at most 80 characters, as HP printers take */

typedef struct {
	const char *job_name;               /* NULL or "": no NAME on JOB/EOJ */
	const char *user_name;              /* NULL or "": no USERNAME line */
	const pp_print_options_t *options;  /* NULL: no option lines */
	const char *language;               /* "PDF", "POSTSCRIPT", …; NULL: no ENTER LANGUAGE */
} pp_pjl_job_t;

/*
 * Writes the PJL header of job into buf[size] (PJL_HEADER_MAX is always enough) and its
 * length into *len_r. Lines end in CR LF. Returns 0, or -1 with error filled (a language
 * that is not a PJL word, a buffer too small).
 */
int pjl_header(const pp_pjl_job_t *job, char *buf, size_t size, size_t *len_r, char *error,
	       size_t error_size);

/* Writes the trailer: UEL "@PJL EOJ [NAME=…]" CR LF UEL. Returns 0 or -1 as pjl_header(). */
int pjl_trailer(const pp_pjl_job_t *job, char *buf, size_t size, size_t *len_r, char *error,
		size_t error_size);

/*
 * Copies src into dst[size] as a PJL string value: printable ASCII other than '"' and '\\'
 * is kept, each other character (a UTF-8 sequence counts as one) becomes '_', and the result
 * is cut at PJL_STRING_MAX characters. NULL src gives "".
 */
void pjl_sanitize(const char *src, char *dst, size_t size);

/* PJL PAPER name of a PWG media name ("iso_a4_210x297mm" -> "A4"); NULL when PJL has none. */
const char *pjl_paper_name(const char *media);

/* True when language is a PJL language word: 1..32 of A-Z, 0-9 (PDF, POSTSCRIPT, PCLXL). */
bool pjl_language_is_valid(const char *language);

#endif
