/*
 * pjl.c - building the PJL envelope of a RAW job (see pjl.h for what is portable and what is
 * not). The text is assembled into a caller's bounded buffer; nothing here allocates.
 */
#include "output/pjl.h"

#include "lib/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PJL_UEL "\033%-12345X"

/* A bounded text being appended to: a line that does not fit fails the whole envelope. */
typedef struct {
	char *buf;
	size_t size;
	size_t len;
	bool is_full;
} pjl_text_t;

static void pjl_append(pjl_text_t *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends one formatted piece; remembers when it did not fit (the caller checks once). */
static void pjl_append(pjl_text_t *text, const char *fmt, ...)
{
	if (text->is_full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text->buf + text->len, text->size - text->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= text->size - text->len) {
		text->is_full = true;
		text->buf[text->len] = '\0';
		return;
	}
	text->len += (size_t)n;
}

void pjl_sanitize(const char *src, char *dst, size_t size)
{
	if (size == 0)
		return;
	size_t out = 0;
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)(src != NULL ? src : ""); *p != '\0';
	     p++) {
		/* A UTF-8 continuation byte belongs to the character already replaced. */
		if (*p >= 0x80 && *p < 0xC0)
			continue;
		if (chars == PJL_STRING_MAX || out + 1 >= size)
			break;
		bool is_plain = *p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\';
		dst[out++] = is_plain ? (char)*p : '_';
		chars++;
	}
	dst[out] = '\0';
}

const char *pjl_paper_name(const char *media)
{
	static const struct {
		const char *pwg;
		const char *pjl;
	} papers[] = {
		{"iso_a3_297x420mm", "A3"},
		{"iso_a4_210x297mm", "A4"},
		{"iso_a5_148x210mm", "A5"},
		{"jis_b4_257x364mm", "B4"},
		{"jis_b5_182x257mm", "B5"},
		{"na_letter_8.5x11in", "LETTER"},
		{"na_legal_8.5x14in", "LEGAL"},
		{"na_executive_7.25x10.5in", "EXECUTIVE"},
		{"na_ledger_11x17in", "LEDGER"},
		{"na_number-10_4.125x9.5in", "COM10"},
		{"na_monarch_3.875x7.5in", "MONARCH"},
		{"iso_c5_162x229mm", "C5"},
		{"iso_dl_110x220mm", "DL"},
	};
	if (media == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(papers) / sizeof(papers[0]); i++) {
		if (strcmp(papers[i].pwg, media) == 0)
			return papers[i].pjl;
	}
	return NULL;
}

bool pjl_language_is_valid(const char *language)
{
	if (language == NULL)
		return false;
	size_t n = strlen(language);
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = language[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* The STAPLE value for a staple position (see pjl.h: devices differ); NULL for none. */
static const char *pjl_staple_name(pp_staple_t staple)
{
	switch (staple) {
	case PP_STAPLE_TOP_LEFT:
		return "TOPLEFT";
	case PP_STAPLE_TOP_RIGHT:
		return "TOPRIGHT";
	case PP_STAPLE_BOTTOM_LEFT:
		return "BOTTOMLEFT";
	case PP_STAPLE_BOTTOM_RIGHT:
		return "BOTTOMRIGHT";
	case PP_STAPLE_DUAL_LEFT:
		return "DUALLEFT";
	case PP_STAPLE_DUAL_TOP:
		return "DUALTOP";
	case PP_STAPLE_NONE:
		break;
	}
	return NULL;
}

/* Writes the option lines: copies, duplex and binding, colour, paper, staple. */
static void pjl_option_lines(pjl_text_t *text, const pp_print_options_t *opts)
{
	/* QTY is collated copies (whole documents), which is what a user asking for n copies of
	 * a multi-page document expects; COPIES would repeat each page. */
	int copies = opts->copies < 1 ? 1 : opts->copies;
	pjl_append(text, "@PJL SET QTY=%d\r\n", copies);
	if (opts->sides == PP_SIDES_ONE_SIDED) {
		pjl_append(text, "@PJL SET DUPLEX=OFF\r\n");
	} else {
		pjl_append(text, "@PJL SET DUPLEX=ON\r\n");
		pjl_append(text, "@PJL SET BINDING=%s\r\n",
			   opts->sides == PP_SIDES_TWO_SIDED_SHORT_EDGE ? "SHORTEDGE" : "LONGEDGE");
	}
	if (opts->color_mode == PP_COLOR_MONOCHROME)
		pjl_append(text, "@PJL SET RENDERMODE=GRAYSCALE\r\n");
	else if (opts->color_mode == PP_COLOR_COLOR)
		pjl_append(text, "@PJL SET RENDERMODE=COLOR\r\n");
	const char *paper = pjl_paper_name(opts->media);
	if (paper != NULL)
		pjl_append(text, "@PJL SET PAPER=%s\r\n", paper);
	const char *staple = pjl_staple_name(opts->staple);
	if (staple != NULL)
		pjl_append(text, "@PJL SET STAPLE=%s\r\n", staple);
}

int pjl_header(const pp_pjl_job_t *job, char *buf, size_t size, size_t *len_r, char *error,
	       size_t error_size)
{
	if (size == 0) {
		str_format(error, error_size, "pjl: no room for the header");
		return -1;
	}
	if (job->language != NULL && !pjl_language_is_valid(job->language)) {
		str_format(error, error_size,
			   "pjl: language is not a PJL word (A-Z, 0-9, e.g. PDF, POSTSCRIPT, PCL): "
			   "fix the printer's PJL language");
		return -1;
	}
	pjl_text_t text = {.buf = buf, .size = size};
	buf[0] = '\0';
	char name[PJL_STRING_MAX + 1];
	pjl_sanitize(job->job_name, name, sizeof(name));
	/* UEL first: the printer leaves whatever language it was in and reads PJL. */
	if (name[0] != '\0')
		pjl_append(&text, "%s@PJL JOB NAME=\"%s\"\r\n", PJL_UEL, name);
	else
		pjl_append(&text, "%s@PJL JOB\r\n", PJL_UEL);
	char user[PJL_STRING_MAX + 1];
	pjl_sanitize(job->user_name, user, sizeof(user));
	if (user[0] != '\0')
		pjl_append(&text, "@PJL SET USERNAME=\"%s\"\r\n", user);
	if (job->options != NULL)
		pjl_option_lines(&text, job->options);
	if (job->language != NULL)
		pjl_append(&text, "@PJL ENTER LANGUAGE=%s\r\n", job->language);
	if (text.is_full) {
		str_format(error, error_size, "pjl: the header does not fit in %zu bytes", size);
		return -1;
	}
	*len_r = text.len;
	return 0;
}

int pjl_trailer(const pp_pjl_job_t *job, char *buf, size_t size, size_t *len_r, char *error,
		size_t error_size)
{
	if (size == 0) {
		str_format(error, error_size, "pjl: no room for the trailer");
		return -1;
	}
	pjl_text_t text = {.buf = buf, .size = size};
	buf[0] = '\0';
	char name[PJL_STRING_MAX + 1];
	pjl_sanitize(job->job_name, name, sizeof(name));
	if (name[0] != '\0')
		pjl_append(&text, "%s@PJL EOJ NAME=\"%s\"\r\n%s", PJL_UEL, name, PJL_UEL);
	else
		pjl_append(&text, "%s@PJL EOJ\r\n%s", PJL_UEL, PJL_UEL);
	if (text.is_full) {
		str_format(error, error_size, "pjl: the trailer does not fit in %zu bytes", size);
		return -1;
	}
	*len_r = text.len;
	return 0;
}
