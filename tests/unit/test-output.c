/*
 * test-output.c - the print data a printer receives: pages chosen, laid out and repeated as
 * the options say, in each format's own framing (PDF pages, PWG and Apple raster headers,
 * PostScript DSC, PCL 5 and PCL XL prologs), and the errors a user sees.
 *
 * Input PDFs are made here with MuPDF: page N carries the text "Page N." so the order of
 * printed pages can be read back from the output.
 */
#include "test-support.h"

#include "convert/output.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define A4_W 595.28f
#define A4_H 841.89f
#define LETTER_W 612.0f
#define LETTER_H 792.0f
#define OUTPUT_READ_MAX (256u * 1024u * 1024u)

/* Per-test state: a private directory. */
typedef test_dir_t fixture_t;

/* Writes a PDF of pages pages of w x h points; page N says "Page N." (and has a red square). */
static void make_pdf(const char *path, int pages, float w, float h)
{
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	assert_non_null(ctx);
	pdf_document *doc = NULL;
	fz_font *font = NULL;
	pdf_obj *font_ref = NULL;
	fz_var(doc);
	fz_var(font);
	fz_var(font_ref);
	fz_try(ctx)
	{
		doc = pdf_create_document(ctx);
		font = fz_new_base14_font(ctx, "Helvetica");
		font_ref = pdf_add_simple_font(ctx, doc, font, PDF_SIMPLE_ENCODING_LATIN);
		for (int i = 0; i < pages; i++) {
			pdf_obj *resources = pdf_new_dict(ctx, doc, 1);
			pdf_obj *fonts = pdf_dict_put_dict(ctx, resources, PDF_NAME(Font), 1);
			pdf_dict_puts(ctx, fonts, "F1", font_ref);
			fz_buffer *contents = fz_new_buffer(ctx, 128);
			fz_append_printf(ctx, contents,
			                 "1 0 0 rg 72 72 100 100 re f 0 g BT /F1 36 Tf 72 %d Td "
			                 "(Page %d.) Tj ET",
			                 (int)h - 120, i + 1);
			pdf_obj *page = pdf_add_page(ctx, doc, fz_make_rect(0, 0, w, h), 0,
			                             resources, contents);
			pdf_insert_page(ctx, doc, -1, page);
			pdf_drop_obj(ctx, page);
			pdf_drop_obj(ctx, resources);
			fz_drop_buffer(ctx, contents);
		}
		pdf_save_document(ctx, doc, path, NULL);
	}
	fz_always(ctx)
	{
		pdf_drop_obj(ctx, font_ref);
		fz_drop_font(ctx, font);
		pdf_drop_document(ctx, doc);
	}
	fz_catch(ctx)
	{
		fail_msg("cannot make %s: %s", path, fz_caught_message(ctx));
	}
	fz_drop_context(ctx);
}

/* What a PDF output holds: page count, page sizes, and each page's text. */
typedef struct {
	int pages;
	fz_rect bounds[64];
	char *text[64];
} pdf_info_t;

static void pdf_info_read(const char *path, pdf_info_t *info)
{
	memset(info, 0, sizeof(*info));
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	assert_non_null(ctx);
	fz_document *doc = NULL;
	fz_var(doc);
	fz_try(ctx)
	{
		fz_register_document_handlers(ctx);
		doc = fz_open_document(ctx, path);
		info->pages = fz_count_pages(ctx, doc);
		for (int i = 0; i < info->pages && i < 64; i++) {
			fz_page *page = fz_load_page(ctx, doc, i);
			info->bounds[i] = fz_bound_page(ctx, page);
			fz_stext_page *text = fz_new_stext_page_from_page(ctx, page, NULL);
			fz_buffer *buf = fz_new_buffer_from_stext_page(ctx, text);
			info->text[i] = strdup(fz_string_from_buffer(ctx, buf));
			fz_drop_buffer(ctx, buf);
			fz_drop_stext_page(ctx, text);
			fz_drop_page(ctx, page);
		}
	}
	fz_always(ctx)
	{
		fz_drop_document(ctx, doc);
	}
	fz_catch(ctx)
	{
		fail_msg("cannot read %s: %s", path, fz_caught_message(ctx));
	}
	fz_drop_context(ctx);
}

static void pdf_info_free(pdf_info_t *info)
{
	for (int i = 0; i < 64; i++)
		free(info->text[i]);
	memset(info, 0, sizeof(*info));
}

/* True when page i of info says "Page n." */
static bool pdf_page_says(const pdf_info_t *info, int i, int n)
{
	char needle[32];
	assert_true(str_format(needle, sizeof(needle), "Page %d.", n));
	return info->text[i] != NULL && strstr(info->text[i], needle) != NULL;
}

/* A request for format with the default options and page_ranges ("" = all). */
static void request_make(pp_output_request_t *req, pp_output_format_t format, const char *ranges)
{
	output_request_default(req);
	req->format = format;
	char error[256];
	assert_int_equal(options_parse_page_ranges(ranges, req->options.page_ranges,
	                                           OPTIONS_RANGES_MAX, &req->options.n_page_ranges,
	                                           error, sizeof(error)),
	                 0);
}

/* Renders in to out with req; the call must succeed. */
static void render_ok(const char *in, const pp_output_request_t *req, const char *out,
                      pp_output_result_t *result)
{
	char error[512] = "";
	int rc = output_render(in, req, out, result, error, sizeof(error));
	if (rc != 0)
		fail_msg("output_render failed: %s", error);
}

static void test_format_names(void **state)
{
	(void)state;
	static const struct {
		pp_output_format_t format;
		const char *name;
		const char *mime;
	} rows[] = {
	    {PP_OUTPUT_PDF, "pdf", "application/pdf"},
	    {PP_OUTPUT_PWG, "pwg", "image/pwg-raster"},
	    {PP_OUTPUT_URF, "urf", "image/urf"},
	    {PP_OUTPUT_POSTSCRIPT, "ps", "application/postscript"},
	    {PP_OUTPUT_PCL5, "pcl5", "application/vnd.hp-pcl"},
	    {PP_OUTPUT_PCL6, "pcl6", "application/vnd.hp-pclxl"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_string_equal(output_format_name(rows[i].format), rows[i].name);
		assert_string_equal(output_format_mime(rows[i].format), rows[i].mime);
		pp_output_format_t parsed;
		assert_true(output_format_parse(rows[i].name, &parsed));
		assert_int_equal(parsed, rows[i].format);
	}
	pp_output_format_t parsed;
	assert_false(output_format_parse("tiff", &parsed));
	assert_false(output_format_parse(NULL, &parsed));
}

/* Page ranges: which pages of a 10-page document print. */
static void test_pdf_page_ranges(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 10, A4_W, A4_H);
	static const struct {
		const char *ranges;
		int pages;
		int first_page; /* what the first printed page says */
		int last_page;
	} rows[] = {
	    {"", 10, 1, 10},    {"1-3", 3, 1, 3}, {"2,4-5", 3, 2, 5},
	    {"8-20", 3, 8, 10}, /* a range reaching past the end prints what exists */
	    {"10", 1, 10, 10},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_output_request_t req;
		request_make(&req, PP_OUTPUT_PDF, rows[i].ranges);
		pp_output_result_t result;
		render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
		assert_int_equal(result.pages, rows[i].pages);
		assert_int_equal(result.sheets, rows[i].pages);
		assert_int_equal(result.impressions, rows[i].pages);
		pdf_info_t info;
		pdf_info_read(f->path, &info);
		if (info.pages != rows[i].pages || !pdf_page_says(&info, 0, rows[i].first_page) ||
		    !pdf_page_says(&info, info.pages - 1, rows[i].last_page))
			fail_msg("row %zu (%s): %d pages", i, rows[i].ranges, info.pages);
		/* 100 %, centred: the page keeps its size on its own media. */
		assert_true(fabsf(info.bounds[0].x1 - A4_W) < 1.0f);
		assert_true(fabsf(info.bounds[0].y1 - A4_H) < 1.0f);
		pdf_info_free(&info);
	}
}

/* N-up: pages per sheet, sheet count, sheets stay the media's size, pages in reading order. */
static void test_pdf_number_up(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 10, A4_W, A4_H);
	static const struct {
		int up;
		int sheets;
	} rows[] = {{2, 5}, {4, 3}, {6, 2}, {9, 2}, {16, 1}};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_output_request_t req;
		request_make(&req, PP_OUTPUT_PDF, "");
		req.options.number_up = rows[i].up;
		pp_output_result_t result;
		render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
		assert_int_equal(result.pages, 10);
		assert_int_equal(result.sheets, rows[i].sheets);
		pdf_info_t info;
		pdf_info_read(f->path, &info);
		if (info.pages != rows[i].sheets)
			fail_msg("row %zu (%d-up): %d sheets", i, rows[i].up, info.pages);
		/* Portrait A4 sheets; the first holds pages 1..up. */
		assert_true(fabsf(info.bounds[0].x1 - A4_W) < 1.0f);
		assert_true(fabsf(info.bounds[0].y1 - A4_H) < 1.0f);
		int on_first = rows[i].up < 10 ? rows[i].up : 10;
		for (int p = 1; p <= on_first; p++) {
			if (!pdf_page_says(&info, 0, p))
				fail_msg("row %zu (%d-up): page %d not on sheet 1", i, rows[i].up,
				         p);
		}
		if (rows[i].up < 10)
			assert_false(pdf_page_says(&info, 0, rows[i].up + 1));
		pdf_info_free(&info);
	}
}

/* Where "Page n." is drawn on page i of the PDF at path (its first character's origin). */
static fz_point pdf_text_origin(const char *path, int i, int n, fz_point *dir_r)
{
	fz_point origin = {-1, -1};
	char needle[32];
	assert_true(str_format(needle, sizeof(needle), "Page %d.", n));
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	assert_non_null(ctx);
	fz_register_document_handlers(ctx);
	fz_document *doc = fz_open_document(ctx, path);
	fz_page *page = fz_load_page(ctx, doc, i);
	fz_stext_page *text = fz_new_stext_page_from_page(ctx, page, NULL);
	for (fz_stext_block *b = text->first_block; b != NULL; b = b->next) {
		if (b->type != FZ_STEXT_BLOCK_TEXT)
			continue;
		for (fz_stext_line *l = b->u.t.first_line; l != NULL; l = l->next) {
			char line[64];
			size_t len = 0;
			for (fz_stext_char *c = l->first_char; c != NULL && len + 1 < sizeof(line);
			     c = c->next)
				line[len++] = (char)c->c;
			line[len] = '\0';
			if (strcmp(line, needle) == 0) {
				origin = l->first_char->origin;
				*dir_r = l->dir;
			}
		}
	}
	fz_drop_stext_page(ctx, text);
	fz_drop_page(ctx, page);
	fz_drop_document(ctx, doc);
	fz_drop_context(ctx);
	return origin;
}

/*
 * 2-up on portrait A4: the sheet is read landscape (turned a quarter to the right), page 1
 * left of page 2 as the reader holds it, the text running up the portrait sheet.
 */
static void test_pdf_two_up_reading_order(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 2, A4_W, A4_H);
	pp_output_request_t req;
	request_make(&req, PP_OUTPUT_PDF, "");
	req.options.number_up = 2;
	pp_output_result_t result;
	render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
	fz_point dir1, dir2;
	fz_point p1 = pdf_text_origin(f->path, 0, 1, &dir1);
	fz_point p2 = pdf_text_origin(f->path, 0, 2, &dir2);
	assert_true(p1.x >= 0 && p2.x >= 0);
	/* Text turned 90 degrees counter-clockwise runs up the sheet. */
	assert_true(dir1.y < -0.9f);
	/* Read landscape, page 1 is first: lower on the portrait sheet. */
	assert_true(p1.y > A4_H / 2 && p2.y < A4_H / 2);
}

/* Landscape orientation turns portrait pages; auto turns landscape pages onto portrait media. */
static void test_pdf_orientation(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 1, A4_W, A4_H);
	pp_output_request_t req;
	request_make(&req, PP_OUTPUT_PDF, "");
	req.options.orientation = PP_ORIENTATION_LANDSCAPE;
	req.fit_to_page = true;
	pp_output_result_t result;
	render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
	fz_point dir;
	fz_point origin = pdf_text_origin(f->path, 0, 1, &dir);
	assert_true(origin.x >= 0);
	assert_true(dir.y < -0.9f);

	/* A landscape page, orientation auto: turned, and printed whole (not cut at 100 %). */
	make_pdf(in, 1, A4_H, A4_W);
	request_make(&req, PP_OUTPUT_PDF, "");
	render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
	origin = pdf_text_origin(f->path, 0, 1, &dir);
	assert_true(origin.x >= 0);
	assert_true(fabsf(dir.x) < 0.1f);
	pdf_info_t info;
	pdf_info_read(f->path, &info);
	assert_true(fabsf(info.bounds[0].x1 - A4_W) < 1.0f);
	pdf_info_free(&info);
}

/* Three collated copies: 1 2 3 1 2 3 1 2 3. */
static void test_pdf_copies_collated(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 3, A4_W, A4_H);
	pp_output_request_t req;
	request_make(&req, PP_OUTPUT_PDF, "");
	req.options.copies = 3;
	pp_output_result_t result;
	render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
	assert_int_equal(result.pages, 3);
	assert_int_equal(result.sheets, 9);
	assert_int_equal(result.impressions, 9);
	pdf_info_t info;
	pdf_info_read(f->path, &info);
	assert_int_equal(info.pages, 9);
	for (int i = 0; i < 9; i++) {
		if (!pdf_page_says(&info, i, i % 3 + 1))
			fail_msg("printed page %d does not say Page %d.", i + 1, i % 3 + 1);
	}
	pdf_info_free(&info);
}

/* Duplex, odd pages, two copies: a blank back after copy 1 so copy 2 starts a new sheet. */
static void test_pdf_duplex_blank_backs(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 3, A4_W, A4_H);
	pp_output_request_t req;
	request_make(&req, PP_OUTPUT_PDF, "");
	req.options.copies = 2;
	req.options.sides = PP_SIDES_TWO_SIDED_LONG_EDGE;
	pp_output_result_t result;
	render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
	assert_int_equal(result.pages, 3);
	assert_int_equal(result.sheets, 4);
	assert_int_equal(result.impressions, 6);
	pdf_info_t info;
	pdf_info_read(f->path, &info);
	assert_int_equal(info.pages, 7);
	static const int says[7] = {1, 2, 3, 0, 1, 2, 3};
	for (int i = 0; i < 7; i++) {
		if (says[i] == 0)
			assert_true(info.text[i] == NULL || strstr(info.text[i], "Page") == NULL);
		else if (!pdf_page_says(&info, i, says[i]))
			fail_msg("side %d does not say Page %d.", i + 1, says[i]);
	}
	pdf_info_free(&info);

	/* An even side count needs no blank. */
	request_make(&req, PP_OUTPUT_PDF, "1-2");
	req.options.copies = 2;
	req.options.sides = PP_SIDES_TWO_SIDED_SHORT_EDGE;
	render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
	assert_int_equal(result.sheets, 2);
	pdf_info_read(f->path, &info);
	assert_int_equal(info.pages, 4);
	pdf_info_free(&info);
}

/* Media substitution: A4 job on a Letter-only printer prints on Letter, scaled to fit. */
static void test_media_substitution(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 1, A4_W, A4_H);
	static const char *const letter_only[] = {"na_letter_8.5x11in"};
	static const char *const both[] = {"na_letter_8.5x11in", "iso_a4_210x297mm"};
	static const char *const legal_a3[] = {"na_legal_8.5x14in", "iso_a3_297x420mm"};
	static const struct {
		const char *job_media;
		const char *const *printer;
		size_t n;
		float w, h;
	} rows[] = {
	    {"iso_a4_210x297mm", letter_only, 1, LETTER_W, LETTER_H},
	    {"iso_a4_210x297mm", both, 2, A4_W, A4_H},
	    {"na_letter_8.5x11in", both, 2, LETTER_W, LETTER_H},
	    {"iso_a4_210x297mm", NULL, 0, A4_W, A4_H},
	    {"iso_a4_210x297mm", legal_a3, 2, 612.0f, 1008.0f}, /* nearest size */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_output_request_t req;
		request_make(&req, PP_OUTPUT_PDF, "");
		assert_true(
		    str_copy(req.options.media, sizeof(req.options.media), rows[i].job_media));
		req.printer_media = rows[i].printer;
		req.n_printer_media = rows[i].n;
		pp_output_result_t result;
		render_ok(in, &req, test_dir_path(f, "out.pdf"), &result);
		pdf_info_t info;
		pdf_info_read(f->path, &info);
		if (fabsf(info.bounds[0].x1 - rows[i].w) > 1.0f ||
		    fabsf(info.bounds[0].y1 - rows[i].h) > 1.0f)
			fail_msg("row %zu: page is %.1f x %.1f", i, info.bounds[0].x1,
			         info.bounds[0].y1);
		assert_true(pdf_page_says(&info, 0, 1));
		pdf_info_free(&info);
	}
}

/* The errors a user sees. */
static void test_errors(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 3, A4_W, A4_H);
	static const struct {
		const char *ranges;
		const char *media;
		int dpi;
		const char *message;
	} rows[] = {
	    {"5-6", "iso_a4_210x297mm", 300, "page range 5-6 is past the document's 3 pages"},
	    {"", "a4", 300, "media"},
	    {"", "iso_a4_210x297mm", 5000, "resolution 5000 dpi"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_output_request_t req;
		request_make(&req, PP_OUTPUT_PWG, rows[i].ranges);
		assert_true(str_copy(req.options.media, sizeof(req.options.media), rows[i].media));
		req.resolution_dpi = rows[i].dpi;
		pp_output_result_t result;
		char error[512] = "";
		const char *out = test_dir_path(f, "out.pwg");
		assert_int_equal(output_render(in, &req, out, &result, error, sizeof(error)), -1);
		if (strstr(error, rows[i].message) == NULL)
			fail_msg("row %zu: \"%s\" does not say \"%s\"", i, error, rows[i].message);
		assert_int_not_equal(access(out, F_OK), 0); /* no half-written output left */
	}

	/* Not a PDF at all. */
	FILE *fp = fopen(in, "w");
	assert_non_null(fp);
	assert_true(fputs("hello\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	pp_output_request_t req;
	request_make(&req, PP_OUTPUT_PDF, "");
	pp_output_result_t result;
	char error[512] = "";
	assert_int_equal(
	    output_render(in, &req, test_dir_path(f, "out.pdf"), &result, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "cannot read the document"));
}

/* One page of a raster stream as its header says, and how many dark pixels it has. */
typedef struct {
	uint32_t duplex, tumble, xres, yres, page_w_pt, page_h_pt, width, height;
	uint32_t bits_per_color, bits_per_pixel, color_space, num_colors, total_pages;
	uint32_t urf_quality;
	char size_name[64];
	long dark;
} raster_page_t;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Decodes height lines of width pixels of n bytes at data[*pos], counting pixels darker than
 * mid-grey. False when the data is malformed or short.
 */
static bool raster_decode(const uint8_t *data, size_t len, size_t *pos, uint32_t width,
                          uint32_t height, uint32_t n, long *dark_r)
{
	uint32_t y = 0;
	while (y < height) {
		if (*pos >= len)
			return false;
		uint32_t repeat = (uint32_t)data[(*pos)++] + 1;
		uint32_t x = 0;
		long line_dark = 0;
		while (x < width) {
			if (*pos >= len)
				return false;
			uint8_t b = data[(*pos)++];
			uint32_t count;
			bool is_run = b < 128;
			if (b == 128)
				return false;
			count = is_run ? (uint32_t)b + 1 : 257u - b;
			size_t bytes = is_run ? n : (size_t)count * n;
			if (len - *pos < bytes || x + count > width)
				return false;
			for (uint32_t i = 0; i < count; i++) {
				const uint8_t *px = data + *pos + (is_run ? 0 : (size_t)i * n);
				bool is_dark = false;
				for (uint32_t c = 0; c < n; c++)
					is_dark = is_dark || px[c] < 128;
				line_dark += is_dark ? 1 : 0;
			}
			*pos += bytes;
			x += count;
		}
		*dark_r += line_dark * (long)repeat;
		y += repeat;
	}
	return y == height;
}

/* Parses a PWG raster file into pages[max]; returns the page count, or -1 when malformed. */
static int pwg_parse(const uint8_t *data, size_t len, raster_page_t *pages, int max)
{
	if (len < 4 || memcmp(data, "RaS2", 4) != 0)
		return -1;
	size_t pos = 4;
	int count = 0;
	while (pos < len) {
		if (len - pos < 1796 || count >= max)
			return -1;
		const uint8_t *h = data + pos;
		raster_page_t *p = &pages[count++];
		memset(p, 0, sizeof(*p));
		p->duplex = be32(h + 272);
		p->xres = be32(h + 276);
		p->yres = be32(h + 280);
		p->page_w_pt = be32(h + 352);
		p->page_h_pt = be32(h + 356);
		p->tumble = be32(h + 368);
		p->width = be32(h + 372);
		p->height = be32(h + 376);
		p->bits_per_color = be32(h + 384);
		p->bits_per_pixel = be32(h + 388);
		p->color_space = be32(h + 400);
		p->num_colors = be32(h + 420);
		p->total_pages = be32(h + 452);
		memcpy(p->size_name, h + 1732, 63);
		if (memcmp(h, "PwgRaster", 10) != 0 ||
		    be32(h + 392) != p->width * p->bits_per_pixel / 8)
			return -1;
		pos += 1796;
		if (!raster_decode(data, len, &pos, p->width, p->height, p->bits_per_pixel / 8,
		                   &p->dark))
			return -1;
	}
	return count;
}

/* Parses an Apple raster file; returns the page count (checked against the file header). */
static int urf_parse(const uint8_t *data, size_t len, raster_page_t *pages, int max)
{
	if (len < 12 || memcmp(data, "UNIRAST\0", 8) != 0)
		return -1;
	uint32_t declared = be32(data + 8);
	size_t pos = 12;
	int count = 0;
	while (pos < len) {
		if (len - pos < 32 || count >= max)
			return -1;
		const uint8_t *h = data + pos;
		raster_page_t *p = &pages[count++];
		memset(p, 0, sizeof(*p));
		p->bits_per_pixel = h[0];
		p->color_space = h[1];
		p->duplex = h[2];
		p->urf_quality = h[3];
		p->width = be32(h + 12);
		p->height = be32(h + 16);
		p->xres = be32(h + 20);
		pos += 32;
		if (!raster_decode(data, len, &pos, p->width, p->height, p->bits_per_pixel / 8,
		                   &p->dark))
			return -1;
	}
	return (uint32_t)count == declared ? count : -1;
}

/* Reads a whole output file. */
static uint8_t *read_all(const char *path, size_t *len_r)
{
	char *data = NULL;
	char error[256];
	if (fs_read_file(path, OUTPUT_READ_MAX, &data, len_r, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	return (uint8_t *)data;
}

/* PWG raster: sync word, one header per side with the job's resolution, colour and duplex. */
static void test_pwg(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 3, A4_W, A4_H);
	static const struct {
		pp_color_mode_t mode;
		bool printer_is_color;
		pp_sides_t sides;
		int copies;
		int sides_written;
		uint32_t color_space, bits_per_pixel, duplex, tumble;
	} rows[] = {
	    {PP_COLOR_AUTO, true, PP_SIDES_ONE_SIDED, 1, 3, 19, 24, 0, 0},
	    {PP_COLOR_MONOCHROME, true, PP_SIDES_ONE_SIDED, 1, 3, 18, 8, 0, 0},
	    {PP_COLOR_COLOR, false, PP_SIDES_TWO_SIDED_LONG_EDGE, 1, 3, 18, 8, 1, 0},
	    {PP_COLOR_MONOCHROME, true, PP_SIDES_TWO_SIDED_SHORT_EDGE, 2, 7, 18, 8, 1, 1},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_output_request_t req;
		request_make(&req, PP_OUTPUT_PWG, "");
		req.options.color_mode = rows[i].mode;
		req.options.sides = rows[i].sides;
		req.options.copies = rows[i].copies;
		req.printer_is_color = rows[i].printer_is_color;
		pp_output_result_t result;
		render_ok(in, &req, test_dir_path(f, "out.pwg"), &result);
		size_t len;
		uint8_t *data = read_all(f->path, &len);
		raster_page_t pages[16];
		int count = pwg_parse(data, len, pages, 16);
		free(data);
		if (count != rows[i].sides_written)
			fail_msg("row %zu: %d pages", i, count);
		for (int p = 0; p < count; p++) {
			const raster_page_t *page = &pages[p];
			assert_int_equal(page->xres, 300);
			assert_int_equal(page->yres, 300);
			assert_int_equal(page->bits_per_color, 8);
			assert_int_equal(page->bits_per_pixel, rows[i].bits_per_pixel);
			assert_int_equal(page->color_space, rows[i].color_space);
			assert_int_equal(page->duplex, rows[i].duplex);
			assert_int_equal(page->tumble, rows[i].tumble);
			assert_int_equal(page->page_w_pt, 595);
			assert_int_equal(page->page_h_pt, 842);
			assert_int_equal(page->width, 2480);
			assert_int_equal(page->height, 3508);
			assert_int_equal(page->total_pages, (uint32_t)rows[i].sides_written);
			assert_string_equal(page->size_name, "iso_a4_210x297mm");
			/* Marks on printed sides; the blank back between copies has none. */
			bool is_blank_back = rows[i].copies == 2 && p == 3;
			if (is_blank_back ? page->dark != 0 : page->dark < 1000)
				fail_msg("row %zu page %d: %ld dark pixels", i, p + 1, page->dark);
		}
	}
}

/* Apple raster: UNIRAST, the page count, per-page headers. */
static void test_urf(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 2, A4_W, A4_H);
	static const struct {
		pp_color_mode_t mode;
		pp_sides_t sides;
		int copies;
		int pages;
		uint32_t bpp, cs, duplex;
	} rows[] = {
	    {PP_COLOR_AUTO, PP_SIDES_ONE_SIDED, 1, 2, 24, 1, 1},
	    {PP_COLOR_MONOCHROME, PP_SIDES_TWO_SIDED_LONG_EDGE, 3, 6, 8, 0, 3},
	    {PP_COLOR_MONOCHROME, PP_SIDES_TWO_SIDED_SHORT_EDGE, 1, 2, 8, 0, 2},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_output_request_t req;
		request_make(&req, PP_OUTPUT_URF, "");
		req.options.color_mode = rows[i].mode;
		req.options.sides = rows[i].sides;
		req.options.copies = rows[i].copies;
		pp_output_result_t result;
		render_ok(in, &req, test_dir_path(f, "out.urf"), &result);
		size_t len;
		uint8_t *data = read_all(f->path, &len);
		raster_page_t pages[16];
		int count = urf_parse(data, len, pages, 16);
		free(data);
		if (count != rows[i].pages)
			fail_msg("row %zu: %d pages", i, count);
		for (int p = 0; p < count; p++) {
			assert_int_equal(pages[p].bits_per_pixel, rows[i].bpp);
			assert_int_equal(pages[p].color_space, rows[i].cs);
			assert_int_equal(pages[p].duplex, rows[i].duplex);
			assert_int_equal(pages[p].urf_quality, 4);
			assert_int_equal(pages[p].width, 2480);
			assert_int_equal(pages[p].height, 3508);
			assert_int_equal(pages[p].xres, 300);
			assert_true(pages[p].dark > 1000);
		}
	}
}

/* True when needle (len bytes) occurs in data. */
static bool contains(const uint8_t *data, size_t len, const char *needle, size_t needle_len)
{
	return memmem(data, len, needle, needle_len) != NULL;
}

/* PostScript: DSC header and page count; duplex asked for in the setup. */
static void test_postscript(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 3, A4_W, A4_H);
	pp_output_request_t req;
	request_make(&req, PP_OUTPUT_POSTSCRIPT, "1-2");
	req.options.sides = PP_SIDES_TWO_SIDED_LONG_EDGE;
	req.resolution_dpi = 150;
	pp_output_result_t result;
	render_ok(in, &req, test_dir_path(f, "out.ps"), &result);
	size_t len;
	uint8_t *data = read_all(f->path, &len);
	assert_true(len > 15 && memcmp(data, "%!PS-Adobe-3.0", 14) == 0);
	assert_true(contains(data, len, "%%Pages: 2\n", 11));
	assert_true(contains(data, len, "%%Page: 2 2\n", 12));
	assert_true(contains(data, len, "/Duplex true /Tumble false", 26));
	free(data);
}

/* PCL 5: printer reset first, raster graphics, duplex command when two-sided. */
static void test_pcl5(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 2, A4_W, A4_H);
	static const struct {
		pp_color_mode_t mode;
		pp_sides_t sides;
	} rows[] = {
	    {PP_COLOR_MONOCHROME, PP_SIDES_TWO_SIDED_LONG_EDGE},
	    {PP_COLOR_AUTO, PP_SIDES_ONE_SIDED},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		pp_output_request_t req;
		request_make(&req, PP_OUTPUT_PCL5, "");
		req.options.color_mode = rows[i].mode;
		req.options.sides = rows[i].sides;
		req.resolution_dpi = 150;
		pp_output_result_t result;
		render_ok(in, &req, test_dir_path(f, "out.pcl"), &result);
		size_t len;
		uint8_t *data = read_all(f->path, &len);
		if (!(len > 2 && data[0] == 0x1b && data[1] == 'E'))
			fail_msg("row %zu: does not start with ESC E", i);
		assert_true(contains(data, len, "\033*r", 3)); /* raster graphics */
		if (rows[i].sides == PP_SIDES_TWO_SIDED_LONG_EDGE)
			assert_true(contains(data, len, "\033&l1S", 5));
		free(data);
	}
}

/* PCL 6: Ghostscript's PCL XL stream header. */
static void test_pcl6(void **state)
{
	fixture_t *f = *state;
	char in[512];
	assert_true(str_copy(in, sizeof(in), test_dir_path(f, "in.pdf")));
	make_pdf(in, 2, A4_W, A4_H);
	pp_output_request_t req;
	request_make(&req, PP_OUTPUT_PCL6, "");
	req.options.sides = PP_SIDES_TWO_SIDED_LONG_EDGE;
	req.options.color_mode = PP_COLOR_MONOCHROME;
	pp_output_result_t result;
	render_ok(in, &req, test_dir_path(f, "out.pxl"), &result);
	assert_int_equal(result.sheets, 1);
	size_t len;
	uint8_t *data = read_all(f->path, &len);
	assert_true(contains(data, len, ") HP-PCL XL;", 12));
	free(data);
	/* The intermediate PDF is gone. */
	assert_int_not_equal(access(test_dir_path(f, "out.pxl.layout.pdf"), F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_names),
	    TEST_DIR_CASE(test_pdf_page_ranges),
	    TEST_DIR_CASE(test_pdf_number_up),
	    TEST_DIR_CASE(test_pdf_two_up_reading_order),
	    TEST_DIR_CASE(test_pdf_orientation),
	    TEST_DIR_CASE(test_pdf_copies_collated),
	    TEST_DIR_CASE(test_pdf_duplex_blank_backs),
	    TEST_DIR_CASE(test_media_substitution),
	    TEST_DIR_CASE(test_errors),
	    TEST_DIR_CASE(test_pwg),
	    TEST_DIR_CASE(test_urf),
	    TEST_DIR_CASE(test_postscript),
	    TEST_DIR_CASE(test_pcl5),
	    TEST_DIR_CASE(test_pcl6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
