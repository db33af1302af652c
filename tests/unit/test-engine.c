/*
 * test-engine.c - the converter's engine as a user sees its results: every kind of input
 * becomes a PDF with the right pages and words (checked with poppler's pdftotext, an
 * independent reader), pictures land on pages turned their way, colour is found where it is
 * and only there, page images have the asked width, and hostile input (not a PDF, locked,
 * too long, absurd image headers, truncated files, HTML pointing at local files) is refused
 * with a reason or rendered without what it points at.
 *
 * Test documents are written by the tests themselves into a private directory: raw PDF
 * text, MuPDF's PNG writer, libwebp, ImageMagick's convert, heif-enc and Ghostscript. Rows
 * needing a missing tool are skipped with a message saying which.
 */
#include "test-support.h"

#include "convert/engine.h"
#include "convert/engine/engine-images.h"
#include "convert/engine/engine-private.h"
#include "convert/sandbox.h"

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#include <fcntl.h>
#include <jpeglib.h>
#include <pwd.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <webp/encode.h>
#include <zlib.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

extern char **environ;

typedef test_dir_t fixture_t; /* a private directory per test */

/* dir/name into buf. */
static const char *path_in(const fixture_t *f, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", f->dir, name);
	assert_true(n > 0 && (size_t)n < size);
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Whole file, NUL-terminated. New; free(). */
static char *read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	long n = ftell(fp);
	assert_true(n >= 0);
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	char *data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
	data[n] = '\0';
	assert_int_equal(fclose(fp), 0);
	if (len_r != NULL)
		*len_r = (size_t)n;
	return data;
}

/* Runs argv (absolute program) with stdout to out_path (or /dev/null). Returns exit status. */
static int run(const char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t fa;
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
							  O_WRONLY | O_CREAT | O_TRUNC, 0600),
			 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0), 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool have(const char *program)
{
	return access(program, X_OK) == 0;
}

/* ImageMagick's convert, wherever it is installed, or NULL. */
static const char *convert_program(void)
{
	return have("/usr/bin/convert") ? "/usr/bin/convert"
	       : have("/usr/local/bin/convert") ? "/usr/local/bin/convert"
						 : NULL;
}

/* The text of a PDF as pdftotext (poppler) reads it. New; free(). */
static char *pdf_text(const fixture_t *f, const char *pdf)
{
	char txt[4096];
	path_in(f, "extracted.txt", txt, sizeof(txt));
	const char *argv[] = {"/usr/bin/pdftotext", "-enc", "UTF-8", pdf, txt, NULL};
	assert_int_equal(run(argv, NULL), 0);
	return read_file(txt, NULL);
}

/* How many images pdfimages (poppler) lists in a PDF. */
static int pdf_image_count(const fixture_t *f, const char *pdf)
{
	char list[4096];
	path_in(f, "images.txt", list, sizeof(list));
	const char *argv[] = {"/usr/bin/pdfimages", "-list", pdf, NULL};
	assert_int_equal(run(argv, list), 0);
	char *text = read_file(list, NULL);
	/* Rows whose type column says "image" (soft masks are listed as "smask"). */
	int images = 0;
	for (const char *p = strstr(text, "\n"); p != NULL; p = strstr(p + 1, "\n")) {
		char type[32] = "";
		if (sscanf(p + 1, "%*s %*s %31s", type) == 1 && strcmp(type, "image") == 0)
			images++;
	}
	free(text);
	return images;
}

static void analyse_ok(const char *pdf, pp_convert_analysis_t *a)
{
	char error[CONVERT_ERROR_MAX] = "";
	if (engine_analyse(pdf, NULL, a, error, sizeof(error)) != 0)
		fail_msg("analyse %s: %s", pdf, error);
}

/* ---- a tiny PDF writer: raw objects with a correct cross-reference table ---- */

typedef struct {
	char *data;
	size_t len, cap;
	size_t offsets[64];
} rawpdf_t;

static void raw_append(rawpdf_t *w, const void *p, size_t n)
{
	if (w->cap - w->len < n + 1) {
		w->cap = (w->cap + n + 1) * 2;
		w->data = realloc(w->data, w->cap);
		assert_non_null(w->data);
	}
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

static void raw_printf(rawpdf_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void raw_printf(rawpdf_t *w, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(buf));
	raw_append(w, buf, (size_t)n);
}

static void raw_obj(rawpdf_t *w, int num)
{
	assert_true(num > 0 && num < 64);
	w->offsets[num] = w->len;
	raw_printf(w, "%d 0 obj\n", num);
}

static void raw_stream(rawpdf_t *w, int num, const char *dict, const void *data, size_t len)
{
	raw_obj(w, num);
	raw_printf(w, "<< %s /Length %zu >>\nstream\n", dict, len);
	raw_append(w, data, len);
	raw_printf(w, "\nendstream\nendobj\n");
}

static void raw_finish(rawpdf_t *w, int objects, const char *path)
{
	size_t xref = w->len;
	raw_printf(w, "xref\n0 %d\n0000000000 65535 f \n", objects + 1);
	for (int i = 1; i <= objects; i++)
		raw_printf(w, "%010zu 00000 n \n", w->offsets[i]);
	raw_printf(w, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", objects + 1,
		   xref);
	write_file(path, w->data, w->len);
	free(w->data);
}

/*
 * A Letter-size PDF with one page per content stream; resources: /F1 Helvetica and /Im1, a
 * 2 × 2 RGB image whose pixels are all grey. extra_catalog goes into the catalog.
 */
static void write_pdf(const char *path, const char *const contents[], int pages,
		      const char *extra_catalog)
{
	rawpdf_t w = {0};
	raw_printf(&w, "%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n");
	raw_obj(&w, 1);
	raw_printf(&w, "<< /Type /Catalog /Pages 2 0 R %s >>\nendobj\n",
		   extra_catalog ? extra_catalog : "");
	raw_obj(&w, 2);
	raw_printf(&w, "<< /Type /Pages /Count %d /Kids [", pages);
	for (int i = 0; i < pages; i++)
		raw_printf(&w, " %d 0 R", 5 + 2 * i);
	raw_printf(&w, " ] >>\nendobj\n");
	raw_obj(&w, 3);
	raw_printf(&w, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
	static const uint8_t grey[12] = {0x30, 0x30, 0x30, 0x90, 0x90, 0x90,
					 0xd0, 0xd0, 0xd0, 0x60, 0x60, 0x60};
	raw_stream(&w, 4,
		   "/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB "
		   "/BitsPerComponent 8",
		   grey, sizeof(grey));
	for (int i = 0; i < pages; i++) {
		raw_obj(&w, 5 + 2 * i);
		raw_printf(&w,
			   "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
			   "/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >> >> >>\n"
			   "endobj\n",
			   6 + 2 * i);
		raw_stream(&w, 6 + 2 * i, "", contents[i], strlen(contents[i]));
	}
	raw_finish(&w, 4 + 2 * pages, path);
}

/* A PDF whose page tree says it has 10^levels pages (shared nodes keep the file tiny). */
static void write_deep_pdf(const char *path, int levels)
{
	rawpdf_t w = {0};
	raw_printf(&w, "%%PDF-1.7\n");
	raw_obj(&w, 1);
	raw_printf(&w, "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	long count = 1;
	for (int i = 0; i < levels; i++)
		count *= 10;
	for (int i = 0; i < levels; i++, count /= 10) {
		int kid = 3 + i;
		raw_obj(&w, 2 + i);
		raw_printf(&w, "<< /Type /Pages /Count %ld /Kids [", count);
		for (int k = 0; k < 10; k++)
			raw_printf(&w, " %d 0 R", kid);
		raw_printf(&w, " ] >>\nendobj\n");
	}
	raw_obj(&w, 2 + levels);
	raw_printf(&w, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 100 100] >>\nendobj\n",
		   1 + levels);
	raw_finish(&w, 2 + levels, path);
}

/* Re-saves a PDF locked with a user password (AES-256). */
static void encrypt_pdf(const char *in, const char *out)
{
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	assert_non_null(ctx);
	pdf_document *doc = NULL;
	bool ok = true;
	fz_try(ctx)
	{
		doc = pdf_open_document(ctx, in);
		pdf_write_options opts = pdf_default_write_options;
		opts.do_encrypt = PDF_ENCRYPT_AES_256;
		opts.permissions = -1;
		memcpy(opts.upwd_utf8, "secret", 7);
		memcpy(opts.opwd_utf8, "owner-secret", 13);
		pdf_save_document(ctx, doc, out, &opts);
	}
	fz_always(ctx)
		pdf_drop_document(ctx, doc);
	fz_catch(ctx)
		ok = false;
	fz_drop_context(ctx);
	assert_true(ok);
}

/* A w × h PNG of one colour, by MuPDF's writer. */
static void write_png(const char *path, int w, int h, uint8_t r, uint8_t g, uint8_t b)
{
	fz_context *ctx = fz_new_context(NULL, NULL, FZ_STORE_DEFAULT);
	assert_non_null(ctx);
	fz_pixmap *pix = NULL;
	bool ok = true;
	fz_try(ctx)
	{
		pix = fz_new_pixmap(ctx, fz_device_rgb(ctx), w, h, NULL, 0);
		unsigned char *s = fz_pixmap_samples(ctx, pix);
		for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
			s[3 * i] = r;
			s[3 * i + 1] = g;
			s[3 * i + 2] = b;
		}
		fz_save_pixmap_as_png(ctx, pix, path);
	}
	fz_always(ctx)
		fz_drop_pixmap(ctx, pix);
	fz_catch(ctx)
		ok = false;
	fz_drop_context(ctx);
	assert_true(ok);
}

static void convert_ok(const char *in, const char *type, const char *out)
{
	char error[CONVERT_ERROR_MAX] = "";
	if (engine_to_pdf(in, type, NULL, out, error, sizeof(error)) != 0)
		fail_msg("%s (%s): %s", in, type, error);
}

/* engine_to_pdf fails and its reason contains want. */
static void convert_fails(const char *in, const char *type, const pp_engine_limits_t *limits,
			  const char *out, const char *want)
{
	char error[CONVERT_ERROR_MAX] = "";
	if (engine_to_pdf(in, type, limits, out, error, sizeof(error)) == 0)
		fail_msg("%s (%s) converted, want a failure with \"%s\"", in, type, want);
	if (strstr(error, want) == NULL)
		fail_msg("%s (%s): reason \"%s\", want \"%s\"", in, type, error, want);
}

/* ---- PDF ---- */

static void test_pdf_rewrite(void **state)
{
	fixture_t *f = *state;
	char in[4096], out[4096];
	const char *pages[] = {
	    "BT /F1 24 Tf 72 700 Td (Alpha first page) Tj ET",
	    "BT /F1 24 Tf 72 700 Td (Bravo second page) Tj ET",
	    "BT /F1 24 Tf 72 700 Td (Charlie third page) Tj ET",
	};
	write_pdf(path_in(f, "in.pdf", in, sizeof(in)), pages, 3,
		  "/OpenAction << /S /JavaScript /JS (app.alert\\('hi'\\)) >> "
		  "/Names << /JavaScript << /Names [(x) << /S /JavaScript /JS (1) >>] >> >>");
	convert_ok(in, "application/pdf", path_in(f, "out.pdf", out, sizeof(out)));

	pp_convert_analysis_t a;
	analyse_ok(out, &a);
	assert_int_equal(a.pages, 3);
	assert_int_equal(a.color_pages, 0);
	assert_float_equal(a.page_info[0].width_pt, 612.0, 0.01);
	assert_float_equal(a.page_info[0].height_pt, 792.0, 0.01);
	convert_analysis_free(&a);

	char *text = pdf_text(f, out);
	assert_non_null(strstr(text, "Alpha first page"));
	assert_non_null(strstr(text, "Charlie third page"));
	free(text);
	size_t len;
	char *bytes = read_file(out, &len);
	assert_null(memmem(bytes, len, "JavaScript", 10));
	assert_null(memmem(bytes, len, "OpenAction", 10));
	free(bytes);
}

static void test_pdf_hostile(void **state)
{
	fixture_t *f = *state;
	char in[4096], out[4096], locked[4096];
	path_in(f, "out.pdf", out, sizeof(out));

	write_file(path_in(f, "notpdf", in, sizeof(in)), "Hello, I am text.\n", 18);
	convert_fails(in, "application/pdf", NULL, out, "The file claims to be a PDF but is not one.");

	write_file(in, "%PDF-1.4\n1 0 obj\n<< /Garbage", 28);
	convert_fails(in, "application/pdf", NULL, out, "damaged");

	const char *pages[] = {"BT /F1 24 Tf 72 700 Td (Secret) Tj ET"};
	write_pdf(in, pages, 1, NULL);
	encrypt_pdf(in, path_in(f, "locked.pdf", locked, sizeof(locked)));
	convert_fails(locked, "application/pdf", NULL, out,
		      "The PDF is protected by a password: remove the password and send it again.");

	write_deep_pdf(in, 5);
	convert_fails(in, "application/pdf", NULL, out, "has 100000 pages; at most 5000 can be printed");

	const char *three[] = {"", "", ""};
	write_pdf(in, three, 3, NULL);
	pp_engine_limits_t limits = {.max_pages = 2};
	convert_fails(in, "application/pdf", &limits, out, "has 3 pages; at most 2 can be printed");

	/* The kinds the engine does not take say where they belong. */
	convert_fails(in, "application/vnd.oasis.opendocument.text", NULL, out, "office engine");
	convert_fails(in, "application/zip", NULL, out, "cannot be printed");
}

/* ---- images ---- */

typedef enum { MAKE_PNG, MAKE_WEBP, MAKE_CONVERT, MAKE_HEIC } image_maker_t;

typedef struct {
	const char *name;
	image_maker_t maker;
	const char *convert_args; /* ImageMagick: size and colours, one image per xc: */
	int w, h;
	uint8_t rgb[3];
	const char *type;
	int pages;
	bool landscape;
	bool color;
} image_case_t;

static const image_case_t image_cases[] = {
    {"wide.png", MAKE_PNG, NULL, 300, 200, {200, 30, 30}, "image/png", 1, true, true},
    {"tall.png", MAKE_PNG, NULL, 200, 300, {128, 128, 128}, "image/png", 1, false, false},
    {"photo.webp", MAKE_WEBP, NULL, 160, 90, {20, 40, 220}, "image/webp", 1, true, true},
    {"photo.jpg", MAKE_CONVERT, "-size 120x80 xc:blue", 0, 0, {0}, "image/jpeg", 1, true, true},
    {"anim.gif", MAKE_CONVERT, "-size 80x120 xc:gray50", 0, 0, {0}, "image/gif", 1, false, false},
    {"pic.bmp", MAKE_CONVERT, "-size 200x100 xc:yellow", 0, 0, {0}, "image/bmp", 1, true, true},
    {"fax.tif", MAKE_CONVERT, "-size 100x150 xc:red xc:white xc:blue", 0, 0, {0}, "image/tiff",
     3, false, true},
    {"phone.heic", MAKE_HEIC, NULL, 320, 240, {30, 160, 60}, "image/heic", 1, true, true},
};

/* Makes the row's image; false (with a message) when the tool it needs is missing. */
static bool make_image(const fixture_t *f, const image_case_t *c, const char *path)
{
	char tmp[4096];
	switch (c->maker) {
	case MAKE_PNG:
		write_png(path, c->w, c->h, c->rgb[0], c->rgb[1], c->rgb[2]);
		return true;
	case MAKE_WEBP: {
		size_t n = (size_t)c->w * (size_t)c->h;
		uint8_t *rgb = malloc(3 * n);
		assert_non_null(rgb);
		for (size_t i = 0; i < n; i++)
			memcpy(rgb + 3 * i, c->rgb, 3);
		uint8_t *webp = NULL;
		size_t len = WebPEncodeRGB(rgb, c->w, c->h, 3 * c->w, 90, &webp);
		assert_true(len > 0);
		write_file(path, webp, len);
		WebPFree(webp);
		free(rgb);
		return true;
	}
	case MAKE_CONVERT: {
		const char *prog = convert_program();
		if (prog == NULL) {
			print_message("skipping %s: ImageMagick's convert is not installed\n", c->name);
			return false;
		}
		const char *argv[16] = {prog};
		char args[256];
		snprintf(args, sizeof(args), "%s", c->convert_args);
		int n = 1;
		for (char *save = NULL, *tok = strtok_r(args, " ", &save); tok != NULL && n < 14;
		     tok = strtok_r(NULL, " ", &save))
			argv[n++] = tok;
		argv[n++] = path;
		argv[n] = NULL;
		assert_int_equal(run(argv, NULL), 0);
		return true;
	}
	case MAKE_HEIC: {
		if (!have("/usr/bin/heif-enc")) {
			print_message("skipping %s: heif-enc (libheif-examples) is not installed\n",
				      c->name);
			return false;
		}
		write_png(path_in(f, "heic-source.png", tmp, sizeof(tmp)), c->w, c->h, c->rgb[0],
			  c->rgb[1], c->rgb[2]);
		const char *argv[] = {"/usr/bin/heif-enc", "-q", "90", tmp, "-o", path, NULL};
		if (run(argv, NULL) != 0) {
			print_message("skipping %s: heif-enc cannot encode HEIC on this machine "
				      "(no HEVC encoder plugin)\n",
				      c->name);
			return false;
		}
		return true;
	}
	}
	return false;
}

static void test_images(void **state)
{
	fixture_t *f = *state;
	for (size_t i = 0; i < sizeof(image_cases) / sizeof(image_cases[0]); i++) {
		const image_case_t *c = &image_cases[i];
		char in[4096], out[4096], error[CONVERT_ERROR_MAX] = "";
		path_in(f, c->name, in, sizeof(in));
		path_in(f, "image.pdf", out, sizeof(out));
		if (!make_image(f, c, in))
			continue;
		if (engine_to_pdf(in, c->type, NULL, out, error, sizeof(error)) != 0)
			fail_msg("row %zu (%s): %s", i, c->name, error);
		pp_convert_analysis_t a;
		analyse_ok(out, &a);
		if (a.pages != c->pages)
			fail_msg("row %zu (%s): %d pages, want %d", i, c->name, a.pages, c->pages);
		const pp_page_info_t *p = &a.page_info[0];
		/* A4, turned to the picture. */
		float want_w = c->landscape ? 841.89f : 595.28f, want_h = c->landscape ? 595.28f : 841.89f;
		if (p->width_pt < want_w - 1 || p->width_pt > want_w + 1 || p->height_pt < want_h - 1 ||
		    p->height_pt > want_h + 1)
			fail_msg("row %zu (%s): page %.1f x %.1f, want %.1f x %.1f", i, c->name,
				 (double)p->width_pt, (double)p->height_pt, (double)want_w,
				 (double)want_h);
		if ((a.color_pages > 0) != c->color)
			fail_msg("row %zu (%s): %d colour pages, want colour %d", i, c->name,
				 a.color_pages, c->color);
		if (pdf_image_count(f, out) != c->pages)
			fail_msg("row %zu (%s): %d images, want %d", i, c->name, pdf_image_count(f, out), c->pages);
		convert_analysis_free(&a);
		if (strcmp(c->name, "fax.tif") == 0) {
			/* The middle page is white: mono. */
			analyse_ok(out, &a);
			assert_true(a.page_info[0].is_color);
			assert_false(a.page_info[1].is_color);
			assert_true(a.page_info[2].is_color);
			convert_analysis_free(&a);
		}
	}
}

/* In the sandboxed child: the HEIC at cwd/input to cwd/document.pdf. */
static int fn_heic_to_pdf(void *ctx, char *error, size_t error_size)
{
	(void)ctx;
	return engine_to_pdf("input", "image/heic", NULL, "document.pdf", error, error_size);
}

/*
 * A HEIC photo converts inside the real sandbox (profile RENDER, as the converter user when
 * the test runs as root), as pullprint-convert does it. libde265 decodes on a worker thread
 * and waits for it without checking that the thread started: a sandbox that refuses threads
 * turns every HEIC into a wall-clock timeout (the safety net below), not an error.
 */
static void test_heic_in_sandbox(void **state)
{
	fixture_t *f = *state;
	const image_case_t *c = &image_cases[sizeof(image_cases) / sizeof(image_cases[0]) - 1];
	assert_int_equal(c->maker, MAKE_HEIC);
	char heic[4096], error[CONVERT_ERROR_MAX] = "";
	path_in(f, c->name, heic, sizeof(heic));
	if (!make_image(f, c, heic))
		skip();

	pp_sandbox_limits_t limits;
	sandbox_limits_default(&limits);
	limits.profile = SANDBOX_PROFILE_RENDER;
	limits.wall_seconds = 60; /* a safety net: a hang ends as a timeout, not a stuck test */
	if (RUNNING_ON_VALGRIND || TEST_ASAN)
		limits.address_space_bytes = 0;
	if (RUNNING_ON_VALGRIND)
		limits.open_files = 0;
	if (geteuid() == 0 && getpwnam("pullprint-convert") != NULL)
		assert_int_equal(
		    sandbox_limits_set_user(&limits, "pullprint-convert", error, sizeof(error)), 0);
	else
		print_message("not root or no pullprint-convert user: sandbox without user switch\n");

	char base[4096], dir[4096], in[4096], out[4096];
	path_in(f, "sandbox", base, sizeof(base));
	assert_int_equal(sandbox_tmpdir_make(base, &limits, dir, sizeof(dir), error, sizeof(error)),
			 0);
	size_t len = 0;
	char *data = read_file(heic, &len);
	assert_true(snprintf(in, sizeof(in), "%s/input", dir) < (int)sizeof(in));
	write_file(in, data, len);
	free(data);
	assert_int_equal(chmod(in, 0644), 0);

	pp_sandbox_result_t result;
	assert_int_equal(
	    sandbox_run(&limits, dir, fn_heic_to_pdf, NULL, &result, error, sizeof(error)), 0);
	if (result.outcome != SANDBOX_OK)
		fail_msg("HEIC in the sandbox: %s: %s", sandbox_outcome_name(result.outcome),
			 result.message);
	assert_true(snprintf(out, sizeof(out), "%s/document.pdf", dir) < (int)sizeof(out));
	pp_convert_analysis_t a;
	analyse_ok(out, &a);
	assert_int_equal(a.pages, 1);
	assert_int_equal(a.color_pages, 1);
	convert_analysis_free(&a);
	assert_int_equal(sandbox_tmpdir_wipe(dir, error, sizeof(error)), 0);
}

/* A PNG signature and IHDR chunk (with its CRC) for w × h, then IDAT and IEND. */
static void write_png_header(const char *path, uint32_t w, uint32_t h)
{
	uint8_t png[8 + 25 + 12 + 12];
	size_t n = 0;
	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	n = 8;
	const uint8_t ihdr[] = {0, 0, 0, 13, 'I', 'H', 'D', 'R',
				(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
				(uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
				8, 2, 0, 0, 0};
	memcpy(png + n, ihdr, sizeof(ihdr));
	uLong crc = crc32(0, ihdr + 4, sizeof(ihdr) - 4);
	n += sizeof(ihdr);
	png[n++] = (uint8_t)(crc >> 24), png[n++] = (uint8_t)(crc >> 16);
	png[n++] = (uint8_t)(crc >> 8), png[n++] = (uint8_t)crc;
	memcpy(png + n, "\0\0\0\0IDAT\x35\xaf\x06\x1e", 12);
	n += 12;
	memcpy(png + n, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
	n += 12;
	write_file(path, png, n);
}

static void test_images_hostile(void **state)
{
	fixture_t *f = *state;
	char in[4096], out[4096];
	path_in(f, "out.pdf", out, sizeof(out));
	path_in(f, "in.png", in, sizeof(in));

	/* 50,000 × 50,000 pixels from a 57-byte file: refused from the header. */
	write_png_header(in, 50000, 50000);
	convert_fails(in, "image/png", NULL, out, "50000 x 50000 pixels");

	/* A sane image over a lowered limit. */
	write_png(in, 300, 200, 1, 2, 3);
	pp_engine_limits_t limits = {.max_image_pixels = 1000};
	convert_fails(in, "image/png", &limits, out, "300 x 200 pixels");

	/* Truncated in its pixel data. */
	write_png(in, 400, 400, 10, 200, 10);
	size_t len;
	char *png = read_file(in, &len);
	write_file(in, png, len / 2);
	free(png);
	convert_fails(in, "image/png", NULL, out, "damaged");

	/* A WebP that is only a RIFF header, and bytes that are no image at all. */
	write_file(in, "RIFF\x10\0\0\0WEBPVP8 \0\0\0\0", 20);
	convert_fails(in, "image/webp", NULL, out, "damaged");
	write_file(in, "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic", 24);
	convert_fails(in, "image/heic", NULL, out, "damaged");
	write_file(in, "just some words", 15);
	convert_fails(in, "image/png", NULL, out, "not an image we can print");

	/* A TIFF whose chain of images loops back on itself. */
	static const uint8_t tiff_loop[] = {
	    'I', 'I', 42, 0, 8, 0, 0, 0,     /* header, first IFD at 8 */
	    2, 0,                            /* two entries */
	    0, 1, 3, 0, 1, 0, 0, 0, 10, 0, 0, 0, /* width 10 */
	    1, 1, 3, 0, 1, 0, 0, 0, 10, 0, 0, 0, /* height 10 */
	    8, 0, 0, 0,                      /* next IFD: itself */
	};
	write_file(in, tiff_loop, sizeof(tiff_loop));
	convert_fails(in, "image/tiff", NULL, out, "damaged");
}

/* ---- text and HTML ---- */

/* Standard base64 of data into out[size]. */
static void base64(const char *data, size_t len, char *out, size_t size)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	assert_true((len + 2) / 3 * 4 < size);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)(uint8_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= (uint8_t)data[i + 2];
		out[o++] = digits[v >> 18 & 63];
		out[o++] = digits[v >> 12 & 63];
		out[o++] = i + 1 < len ? digits[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? digits[v & 63] : '=';
	}
	out[o] = '\0';
}

static void test_text_charsets(void **state)
{
	fixture_t *f = *state;
	char in[4096], out[4096];
	path_in(f, "in.txt", in, sizeof(in));
	path_in(f, "out.pdf", out, sizeof(out));
	static const struct {
		const char *bytes;
		size_t len; /* 0: up to the terminator */
		const char *want[2];
	} rows[] = {
	    {"Hello UTF-8: Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln & <tags>\n", 0, {"Grüße aus Köln", "& <tags>"}},
	    /* Latin-1: uchardet recognises it from the accented words. */
	    {"Die Stra\xdf" "e hei\xdf" "t K\xf6nigsallee, das Caf\xe9 ist ge\xf6" "ffnet, "
	     "sch\xf6ne Gr\xfc\xdf" "e aus M\xfcnchen.\n", 0, {"Straße heißt Königsallee", "Café"}},
	    /* UTF-16LE with its byte-order mark. */
	    {"\xff\xfe" "C\0a\0f\0\xe9\0 \0" "d\0\xe9\0j\0\xe0\0\n\0", 22, {"Café déjà", NULL}},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		write_file(in, rows[i].bytes,
			   rows[i].len != 0 ? rows[i].len : strlen(rows[i].bytes));
		char error[CONVERT_ERROR_MAX] = "";
		if (engine_to_pdf(in, "text/plain", NULL, out, error, sizeof(error)) != 0)
			fail_msg("row %zu: %s", i, error);
		char *text = pdf_text(f, out);
		for (int k = 0; k < 2; k++) {
			if (rows[i].want[k] != NULL && strstr(text, rows[i].want[k]) == NULL)
				fail_msg("row %zu: \"%s\" not in \"%s\"", i, rows[i].want[k], text);
		}
		free(text);
	}

	/* A long text flows over pages; a page limit stops it. */
	FILE *fp = fopen(in, "w");
	assert_non_null(fp);
	for (int i = 1; i <= 300; i++)
		fprintf(fp, "Line %d\twith a tab and a long tail of words that says nothing.\n", i);
	assert_int_equal(fclose(fp), 0);
	convert_ok(in, "text/plain; charset=utf-8", out);
	pp_convert_analysis_t a;
	analyse_ok(out, &a);
	assert_true(a.pages >= 3);
	assert_int_equal(a.color_pages, 0);
	assert_float_equal(a.page_info[0].width_pt, 595.28, 0.1);
	convert_analysis_free(&a);
	char *text = pdf_text(f, out);
	assert_non_null(strstr(text, "Line 1"));
	assert_non_null(strstr(text, "Line 300"));
	free(text);
	pp_engine_limits_t limits = {.max_pages = 2};
	convert_fails(in, "text/plain", &limits, out, "more than 2 pages");
}

static void test_html(void **state)
{
	fixture_t *f = *state;
	char in[4096], out[4096], secret[4096], html[24576];
	path_in(f, "in.html", in, sizeof(in));
	path_in(f, "out.pdf", out, sizeof(out));

	/* A local picture the document must not be able to pull in, by any spelling. */
	write_png(path_in(f, "local.png", secret, sizeof(secret)), 40, 40, 255, 0, 0);
	snprintf(html, sizeof(html),
		 "<!DOCTYPE html><html><head><link rel=stylesheet href=\"%s\"></head><body>"
		 "<h1>Invoice 42</h1><p>Dear customer, please pay.</p>"
		 "<img src=\"%s\"><img src=\"file://%s\"><img src=\"local.png\">"
		 "<img src=\"../../../../../../..%s\"><img src=\"/etc/passwd\">"
		 "<img src=\"http://127.0.0.1:1/x.png\"></body></html>",
		 secret, secret, secret, secret);
	write_file(in, html, strlen(html));
	convert_ok(in, "text/html", out);
	char *text = pdf_text(f, out);
	assert_non_null(strstr(text, "Invoice 42"));
	assert_non_null(strstr(text, "please pay"));
	assert_null(strstr(text, "root:"));
	free(text);
	assert_int_equal(pdf_image_count(f, out), 0);

	/* A picture inside the document (data: URL) does show. */
	char tiny[4096];
	write_png(path_in(f, "tiny.png", tiny, sizeof(tiny)), 4, 4, 0, 0, 255);
	size_t png_len;
	char *png = read_file(tiny, &png_len);
	char b64[4096];
	base64(png, png_len, b64, sizeof(b64));
	free(png);
	snprintf(html, sizeof(html),
		 "<html><body><p>With a picture</p><img src=\"data:image/png;base64,%s\" "
		 "width=100></body></html>",
		 b64);
	write_file(in, html, strlen(html));
	convert_ok(in, "text/html", out);
	assert_int_equal(pdf_image_count(f, out), 1);

	/* Each way of declaring (or not) the charset keeps the accents. */
	static const char *const accented[] = {
	    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
	    "charset=iso-8859-1\"></head><body><p>Gr\xfc\xdf" "e aus K\xf6ln</p></body></html>",
	    "<html><head><meta charset='windows-1252'></head><body><p>Gr\xfc\xdf" "e aus "
	    "K\xf6ln</p></body></html>",
	    "<html><body><p>Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln</p></body></html>",
	    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
	    "charset=iso-8859-1\"></head><body><p>Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln (the "
	    "declaration is wrong: the bytes are UTF-8)</p></body></html>",
	};
	for (size_t i = 0; i < sizeof(accented) / sizeof(accented[0]); i++) {
		write_file(in, accented[i], strlen(accented[i]));
		convert_ok(in, "text/html", out);
		text = pdf_text(f, out);
		if (strstr(text, "Grüße aus Köln") == NULL)
			fail_msg("row %zu: got \"%s\"", i, text);
		free(text);
	}
}

/* ---- PostScript ---- */

static void test_postscript(void **state)
{
	fixture_t *f = *state;
	if (!have("/usr/bin/gs")) {
		print_message("skipping: Ghostscript (/usr/bin/gs) is not installed\n");
		return;
	}
	char in[4096], out[4096];
	path_in(f, "in.ps", in, sizeof(in));
	path_in(f, "out%d.pdf", out, sizeof(out)); /* a '%' gs must not expand */
	static const char ps[] = "%!PS-Adobe-3.0\n"
				 "/Helvetica findfont 20 scalefont setfont\n"
				 "72 700 moveto (Hello from PostScript) show showpage\n"
				 "72 700 moveto (Second page) show showpage\n";
	write_file(in, ps, sizeof(ps) - 1);
	convert_ok(in, "application/postscript", out);
	pp_convert_analysis_t a;
	analyse_ok(out, &a);
	assert_int_equal(a.pages, 2);
	convert_analysis_free(&a);
	char *text = pdf_text(f, out);
	assert_non_null(strstr(text, "Hello from PostScript"));
	assert_non_null(strstr(text, "Second page"));
	free(text);

	pp_engine_limits_t limits = {.max_pages = 1};
	convert_fails(in, "application/postscript", &limits, out, "more than 1 pages");

	static const char broken[] = "%!PS\n/foo { undefined-operator } def foo\n";
	write_file(in, broken, sizeof(broken) - 1);
	convert_fails(in, "application/postscript", NULL, out, "could not be read");
}

/* ---- PWG raster and URF ---- */

/* Appends one line (bytes_per_line bytes, unit bytes a pixel) in the shared run coding. */
static void raster_line(rawpdf_t *w, const uint8_t *line, size_t bpl, size_t unit, uint8_t repeat)
{
	raw_append(w, &repeat, 1);
	size_t px = bpl / unit;
	for (size_t x = 0; x < px;) {
		/* A run of equal pixels, or up to 128 literal ones. */
		size_t same = 1;
		while (x + same < px && same < 128 &&
		       memcmp(line + (x + same) * unit, line + x * unit, unit) == 0)
			same++;
		if (same > 1) {
			uint8_t c = (uint8_t)(same - 1);
			raw_append(w, &c, 1);
			raw_append(w, line + x * unit, unit);
			x += same;
			continue;
		}
		size_t n = px - x < 128 ? px - x : 128;
		uint8_t c = (uint8_t)(257 - n);
		if (n == 1)
			c = 0;
		raw_append(w, &c, 1);
		raw_append(w, line + x * unit, n * unit);
		x += n;
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A PWG page: w × h at dpi, colour space cs, bits per colour, colours; pixel(x, y, out). */
typedef void (*pixel_fn)(uint32_t x, uint32_t y, uint8_t *out);

static void pwg_page(rawpdf_t *w, uint32_t width, uint32_t height, uint32_t dpi, uint32_t cs,
		     uint32_t bpc, uint32_t colors, pixel_fn pixel)
{
	uint8_t header[1796] = {0};
	put_be32(header + 276, dpi);
	put_be32(header + 280, dpi);
	put_be32(header + 372, width);
	put_be32(header + 376, height);
	put_be32(header + 384, bpc);
	put_be32(header + 388, bpc * colors);
	uint32_t bpl = (width * bpc * colors + 7) / 8;
	put_be32(header + 392, bpl);
	put_be32(header + 400, cs);
	put_be32(header + 420, colors);
	raw_append(w, header, sizeof(header));
	uint8_t *lines = calloc(height, bpl);
	assert_non_null(lines);
	for (uint32_t y = 0; y < height; y++) {
		uint8_t *line = lines + (size_t)y * bpl;
		for (uint32_t x = 0; x < width; x++) {
			uint8_t px[4];
			pixel(x, y, px);
			if (bpc == 1)
				line[x / 8] |= (uint8_t)((px[0] & 1) << (7 - x % 8));
			else
				memcpy(line + (size_t)x * colors, px, colors);
		}
	}
	/* Equal lines share one coded line through its repeat count (at most 256). */
	for (uint32_t y = 0; y < height;) {
		uint32_t same = 1;
		while (y + same < height && same < 256 &&
		       memcmp(lines + (size_t)(y + same) * bpl, lines + (size_t)y * bpl, bpl) == 0)
			same++;
		raster_line(w, lines + (size_t)y * bpl, bpl, bpc == 1 ? 1 : colors, (uint8_t)(same - 1));
		y += same;
	}
	free(lines);
}

static void px_half_black(uint32_t x, uint32_t y, uint8_t *out)
{
	(void)y;
	out[0] = x < 50 ? 0 : 255;
}

static void px_red(uint32_t x, uint32_t y, uint8_t *out)
{
	(void)x, (void)y;
	out[0] = 230, out[1] = 20, out[2] = 20;
}

static void px_ink_left(uint32_t x, uint32_t y, uint8_t *out)
{
	(void)y;
	out[0] = x < 50 ? 1 : 0; /* black_1: 1 is ink */
}

/* Decodes a JPEG file: width, height and the grey level at (x, y) of its first row. */
static void jpeg_probe(const char *path, int *w_r, int *h_r, int probe_x, int *level_r)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr jerr;
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_decompress(&cinfo);
	jpeg_stdio_src(&cinfo, fp);
	assert_int_equal(jpeg_read_header(&cinfo, TRUE), JPEG_HEADER_OK);
	jpeg_start_decompress(&cinfo);
	*w_r = (int)cinfo.output_width;
	*h_r = (int)cinfo.output_height;
	JSAMPLE *row = malloc((size_t)cinfo.output_width * (size_t)cinfo.output_components);
	assert_non_null(row);
	/* The middle row. */
	for (JDIMENSION y = 0; y <= cinfo.output_height / 2; y++)
		jpeg_read_scanlines(&cinfo, &row, 1);
	if (level_r != NULL)
		*level_r = row[(size_t)probe_x * (size_t)cinfo.output_components];
	free(row);
	jpeg_abort_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	fclose(fp);
}

static void test_raster(void **state)
{
	fixture_t *f = *state;
	char in[4096], out[4096], jpg[4096];
	path_in(f, "in.pwg", in, sizeof(in));
	path_in(f, "out.pdf", out, sizeof(out));
	path_in(f, "page.jpg", jpg, sizeof(jpg));

	/* PWG: an sGray page half black, an sRGB red page, a 1-bit black page. */
	rawpdf_t w = {0};
	raw_append(&w, "RaS2", 4);
	pwg_page(&w, 100, 50, 100, 18, 8, 1, px_half_black);
	pwg_page(&w, 100, 50, 100, 19, 8, 3, px_red);
	pwg_page(&w, 100, 50, 100, 3, 1, 1, px_ink_left);
	write_file(in, w.data, w.len);
	convert_ok(in, "image/pwg-raster", out);
	pp_convert_analysis_t a;
	analyse_ok(out, &a);
	assert_int_equal(a.pages, 3);
	assert_float_equal(a.page_info[0].width_pt, 72.0, 0.01);
	assert_float_equal(a.page_info[0].height_pt, 36.0, 0.01);
	assert_false(a.page_info[0].is_color);
	assert_true(a.page_info[1].is_color);
	assert_false(a.page_info[2].is_color);
	convert_analysis_free(&a);
	/* Black on the left, white on the right, on both grey pages. */
	char error[CONVERT_ERROR_MAX];
	for (int page = 1; page <= 3; page += 2) {
		int jw, jh, left, right;
		assert_int_equal(engine_render_jpeg(out, page, 100, jpg, error, sizeof(error)), 0);
		jpeg_probe(jpg, &jw, &jh, 10, &left);
		jpeg_probe(jpg, &jw, &jh, 90, &right);
		assert_true(left < 40);
		assert_true(right > 215);
	}

	/* Hostile: cut in the middle of the second page; a page header claiming 10^10 pixels. */
	write_file(in, w.data, 4 + 1796 + 200 + 1796 + 10);
	convert_fails(in, "image/pwg-raster", NULL, out, "damaged");
	uint8_t *huge = (uint8_t *)w.data;
	put_be32(huge + 4 + 372, 100000);
	put_be32(huge + 4 + 376, 100000);
	write_file(in, huge, w.len);
	convert_fails(in, "image/pwg-raster", NULL, out, "100000 x 100000 pixels");
	pp_engine_limits_t limits = {.max_pages = 2};
	put_be32(huge + 4 + 372, 100);
	put_be32(huge + 4 + 376, 50);
	write_file(in, huge, w.len);
	convert_fails(in, "image/pwg-raster", &limits, out, "more than 2 pages");
	free(w.data);

	/* URF: one sRGB page 60 × 80 at 60 dpi, red. */
	memset(&w, 0, sizeof(w));
	raw_append(&w, "UNIRAST\0\0\0\0\1", 12);
	uint8_t ph[32] = {24, 1};
	put_be32(ph + 12, 60);
	put_be32(ph + 16, 80);
	put_be32(ph + 20, 60);
	raw_append(&w, ph, sizeof(ph));
	uint8_t line[60 * 3];
	for (int x = 0; x < 60; x++)
		px_red(0, 0, line + 3 * x);
	raster_line(&w, line, sizeof(line), 3, 79); /* one line, repeated for the whole page */
	write_file(in, w.data, w.len);
	convert_ok(in, "image/urf", out);
	analyse_ok(out, &a);
	assert_int_equal(a.pages, 1);
	assert_float_equal(a.page_info[0].width_pt, 72.0, 0.01);
	assert_float_equal(a.page_info[0].height_pt, 96.0, 0.01);
	assert_true(a.page_info[0].is_color);
	convert_analysis_free(&a);
	/* The same page with the rest of each line filled white by code 128. */
	w.len = 12 + 32;
	uint8_t fill[] = {79, 0x00, 230, 20, 20, 0x80};
	raw_append(&w, fill, sizeof(fill));
	write_file(in, w.data, w.len);
	convert_ok(in, "image/urf", out);
	free(w.data);

	/* What Ghostscript's own raster devices write. */
	if (!have("/usr/bin/gs")) {
		print_message("skipping Ghostscript raster rows: gs is not installed\n");
		return;
	}
	char ps[4096];
	static const char text_ps[] = "%!PS\n/Helvetica findfont 30 scalefont setfont\n"
				      "72 700 moveto (Raster) show showpage\n";
	write_file(path_in(f, "r.ps", ps, sizeof(ps)), text_ps, sizeof(text_ps) - 1);
	static const char *const devices[][2] = {{"-sDEVICE=pwgraster", "image/pwg-raster"},
						 {"-sDEVICE=urf", "image/urf"}};
	for (size_t i = 0; i < 2; i++) {
		char outfile[4200];
		snprintf(outfile, sizeof(outfile), "-sOutputFile=%s", in);
		const char *argv[] = {"/usr/bin/gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE",
				      devices[i][0], "-r50", "-sPAPERSIZE=a4", outfile, ps, NULL};
		assert_int_equal(run(argv, NULL), 0);
		convert_ok(in, devices[i][1], out);
		analyse_ok(out, &a);
		assert_true(a.pages >= 1);
		assert_float_equal(a.page_info[0].width_pt, 595.0, 3.0);
		convert_analysis_free(&a);
		/* Mostly paper: the top-left corner is white. */
		int jw, jh, corner;
		assert_int_equal(engine_render_jpeg(out, 1, 100, jpg, error, sizeof(error)), 0);
		jpeg_probe(jpg, &jw, &jh, 2, &corner);
		if (corner < 200)
			fail_msg("%s: corner level %d, want white", devices[i][0], corner);
	}
}

/* ---- analysis and page images ---- */

static void test_analyse_colors(void **state)
{
	fixture_t *f = *state;
	char in[4096];
	const char *pages[] = {
	    "BT /F1 24 Tf 72 700 Td (Black text) Tj ET",
	    "1 0 0 rg 100 100 200 200 re f",
	    "q 200 0 0 200 100 400 cm /Im1 Do Q",
	    "0.5 0.5 0.5 rg BT /F1 24 Tf 72 700 Td (Grey in RGB) Tj ET",
	    "0 0 0.8 RG 4 w 72 72 m 300 300 l S",
	};
	write_pdf(path_in(f, "colors.pdf", in, sizeof(in)), pages, 5, NULL);
	static const bool want[] = {false, true, false, false, true};
	pp_convert_analysis_t a;
	analyse_ok(in, &a);
	assert_int_equal(a.pages, 5);
	assert_int_equal(a.color_pages, 2);
	for (int i = 0; i < 5; i++) {
		if (a.page_info[i].is_color != want[i])
			fail_msg("page %d: colour %d, want %d", i + 1, a.page_info[i].is_color, want[i]);
	}
	convert_analysis_free(&a);

	char error[CONVERT_ERROR_MAX] = "";
	write_file(in, "not a pdf", 9);
	assert_int_equal(engine_analyse(in, NULL, &a, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "damaged"));
	assert_int_equal(a.pages, 0);
	assert_null(a.page_info);
}

static void test_render_jpeg(void **state)
{
	fixture_t *f = *state;
	char in[4096], jpg[4096], error[CONVERT_ERROR_MAX] = "";
	const char *pages[] = {"1 0 0 rg 0 0 612 792 re f", "BT /F1 24 Tf 72 700 Td (Two) Tj ET"};
	write_pdf(path_in(f, "doc.pdf", in, sizeof(in)), pages, 2, NULL);
	path_in(f, "thumb.jpg", jpg, sizeof(jpg));
	static const int widths[] = {CONVERT_THUMB_WIDTH, CONVERT_PREVIEW_WIDTH, 1, 333};
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		if (engine_render_jpeg(in, 1, widths[i], jpg, error, sizeof(error)) != 0)
			fail_msg("width %d: %s", widths[i], error);
		int w, h, level;
		jpeg_probe(jpg, &w, &h, 0, &level);
		assert_int_equal(w, widths[i]);
		int want_h = (int)(widths[i] * 792.0 / 612.0 + 0.5);
		if (h != want_h)
			fail_msg("width %d: height %d, want %d", widths[i], h, want_h);
	}
	struct stat st;
	assert_int_equal(stat(jpg, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(engine_render_jpeg(in, 3, 200, jpg, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "no page 3"));
	assert_int_equal(engine_render_jpeg(in, 0, 200, jpg, error, sizeof(error)), -1);
	assert_int_equal(engine_render_jpeg(in, 1, 0, jpg, error, sizeof(error)), -1);
	assert_int_equal(engine_render_jpeg(in, 1, 100000, jpg, error, sizeof(error)), -1);
}

/* Page images of a range of pages in one go: every page at every width, named as asked,
 * the same sizes as one page at a time; bad ranges and widths refused. */
static void test_render_jpegs(void **state)
{
	fixture_t *f = *state;
	char in[4096], error[CONVERT_ERROR_MAX] = "";
	const char *pages[] = {"1 0 0 rg 0 0 612 792 re f", "BT /F1 24 Tf 72 700 Td (Two) Tj ET",
			       "BT /F1 24 Tf 72 700 Td (Three) Tj ET"};
	write_pdf(path_in(f, "doc.pdf", in, sizeof(in)), pages, 3, NULL);
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	const pp_engine_image_size_t sizes[] = {{CONVERT_THUMB_WIDTH, "thumb-", ".jpg"},
						{CONVERT_PREVIEW_WIDTH, "preview-", ".jpg"}};
	int drawn = engine_render_jpegs("doc.pdf", 2, 0, sizes, 2, error, sizeof(error));
	if (drawn != 2)
		fail_msg("pages 2 to the end: %d (%s)", drawn, error);
	static const struct {
		const char *name;
		int width;
		bool exists;
	} files[] = {{"thumb-1.jpg", 0, false},        {"thumb-2.jpg", 200, true},
		     {"thumb-3.jpg", 200, true},        {"preview-2.jpg", 1000, true},
		     {"preview-3.jpg", 1000, true},     {"preview-1.jpg", 0, false}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct stat st;
		bool exists = stat(files[i].name, &st) == 0;
		if (exists != files[i].exists)
			fail_msg("%s: exists %d, want %d", files[i].name, exists, files[i].exists);
		if (!exists)
			continue;
		assert_int_equal(st.st_mode & 0777, 0600);
		int w, h, level;
		jpeg_probe(files[i].name, &w, &h, 0, &level);
		int want_h = (int)(files[i].width * 792.0 / 612.0 + 0.5);
		if (w != files[i].width || h != want_h)
			fail_msg("%s: %d x %d, want %d x %d", files[i].name, w, h, files[i].width,
				 want_h);
	}
	assert_int_equal(engine_render_jpegs("doc.pdf", 1, 1, sizes, 1, error, sizeof(error)), 1);

	static const struct {
		int first, last, width;
		size_t n;
		const char *reason;
	} bad[] = {
		{1, 4, 200, 1, "no page 4"}, {4, 0, 200, 1, "no page 4"}, {0, 1, 200, 1, "range"},
		{2, 1, 200, 1, "range"},     {1, 1, 0, 1, "pixels wide"}, {1, 1, 200, 0, "sizes"},
		{1, 1, 20000, 1, "pixels wide"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pp_engine_image_size_t size = {bad[i].width, "x-", ".jpg"};
		error[0] = '\0';
		if (engine_render_jpegs("doc.pdf", bad[i].first, bad[i].last, &size, bad[i].n,
					error, sizeof(error)) != -1 ||
		    strstr(error, bad[i].reason) == NULL)
			fail_msg("row %zu: want -1 with \"%s\", got \"%s\"", i, bad[i].reason, error);
	}
	assert_int_equal(chdir(cwd), 0);
}

static void test_analysis_json(void **state)
{
	fixture_t *f = *state;
	char path[4096], error[CONVERT_ERROR_MAX] = "";
	path_in(f, "analysis.json", path, sizeof(path));
	pp_page_info_t info[3] = {{595.28f, 841.89f, false}, {841.89f, 595.28f, true}, {612, 792, false}};
	pp_convert_analysis_t a = {.pages = 3, .color_pages = 1, .page_info = info}, b;
	assert_int_equal(engine_analysis_save(&a, path, error, sizeof(error)), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(engine_analysis_load(path, 100, &b, error, sizeof(error)), 0);
	assert_int_equal(b.pages, 3);
	assert_int_equal(b.color_pages, 1);
	for (int i = 0; i < 3; i++) {
		assert_float_equal(b.page_info[i].width_pt, info[i].width_pt, 0.001);
		assert_float_equal(b.page_info[i].height_pt, info[i].height_pt, 0.001);
		assert_int_equal(b.page_info[i].is_color, info[i].is_color);
	}
	convert_analysis_free(&b);
	assert_null(b.page_info);
	/* More pages than the parent allows. */
	assert_int_equal(engine_analysis_load(path, 2, &b, error, sizeof(error)), -1);

	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"pages\":1,\"color_pages\":1,\"page_info\":[{\"w\":1,\"h\":1,\"color\":false}]}",
	    "{\"pages\":2,\"color_pages\":0,\"page_info\":[{\"w\":1,\"h\":1,\"color\":false}]}",
	    "{\"pages\":1,\"color_pages\":0,\"page_info\":[{\"w\":-5,\"h\":1,\"color\":false}]}",
	    "{\"pages\":1,\"color_pages\":0,\"page_info\":[{\"w\":1e300,\"h\":1,\"color\":false}]}",
	    "{\"pages\":1,\"color_pages\":0,\"page_info\":[{\"w\":\"1\",\"h\":1,\"color\":false}]}",
	    "{\"pages\":1,\"color_pages\":0,\"page_info\":[{\"w\":1,\"h\":1,\"color\":0}]}",
	    "{\"pages\":0,\"color_pages\":0,\"page_info\":[]}",
	    "{\"pages\":1,\"pages\":1,\"color_pages\":0,\"page_info\":[{\"w\":1,\"h\":1,\"color\":false}]}",
	    "{\"pages\":1,\"color_pages\":0,\"page_info\":[7]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i], strlen(bad[i]));
		if (engine_analysis_load(path, 100, &b, error, sizeof(error)) != -1)
			fail_msg("row %zu accepted", i);
		assert_null(b.page_info);
	}
	/* Too large to be an analysis. */
	size_t big = (4u << 20) + 1;
	char *filler = malloc(big);
	assert_non_null(filler);
	memset(filler, ' ', big);
	write_file(path, filler, big);
	free(filler);
	assert_int_equal(engine_analysis_load(path, 100, &b, error, sizeof(error)), -1);
	path_in(f, "missing.json", path, sizeof(path));
	assert_int_equal(engine_analysis_load(path, 100, &b, error, sizeof(error)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_DIR_CASE(test_pdf_rewrite),
	    TEST_DIR_CASE(test_pdf_hostile),
	    TEST_DIR_CASE(test_images),
	    TEST_DIR_CASE(test_heic_in_sandbox),
	    TEST_DIR_CASE(test_images_hostile),
	    TEST_DIR_CASE(test_text_charsets),
	    TEST_DIR_CASE(test_html),
	    TEST_DIR_CASE(test_postscript),
	    TEST_DIR_CASE(test_raster),
	    TEST_DIR_CASE(test_analyse_colors),
	    TEST_DIR_CASE(test_render_jpeg),
	    TEST_DIR_CASE(test_render_jpegs),
	    TEST_DIR_CASE(test_analysis_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
