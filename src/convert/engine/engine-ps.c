/*
 * engine-ps.c - PostScript: Ghostscript (gs -dSAFER, no file access beyond its input and
 * output) writes the PDF, run through sandbox_exec_wait() inside the converter's sandbox;
 * MuPDF then counts the pages it made.
 */
#include "convert/engine/engine-private.h"

#include "convert/sandbox.h"
#include "lib/str.h"

#include <limits.h>
#include <string.h>

/* Ghostscript reads "%d" in an output file name as a page number: doubles every '%'. */
static bool engine_ps_escape_percent(const char *path, char *dst, size_t size)
{
	size_t o = 0;
	for (const char *p = path; *p != '\0'; p++) {
		size_t need = *p == '%' ? 2 : 1;
		if (size - o <= need)
			return false;
		dst[o++] = *p;
		if (*p == '%')
			dst[o++] = '%';
	}
	dst[o] = '\0';
	return true;
}

/* TMPDIR for gs: the directory the output goes to (the sandbox's private one). */
static bool engine_ps_tmpdir_env(const char *out_path, char *env, size_t size)
{
	const char *slash = strrchr(out_path, '/');
	if (slash == NULL)
		return str_copy(env, size, "TMPDIR=.");
	int dir_len = (int)(slash - out_path);
	return str_format(env, size, "TMPDIR=%.*s", dir_len == 0 ? 1 : dir_len, out_path);
}

int engine_postscript_to_pdf(fz_context *ctx, const char *in_path, const engine_limits_t *limits,
			     const char *out_path, char *error, size_t error_size)
{
	char out_escaped[PATH_MAX * 2], output_arg[PATH_MAX * 2 + 32], last_page[48];
	char width_arg[48], height_arg[48], env_tmp[PATH_MAX + 16];
	if (!engine_ps_escape_percent(out_path, out_escaped, sizeof(out_escaped)) ||
	    !str_format(output_arg, sizeof(output_arg), "-sOutputFile=%s", out_escaped) ||
	    /* One page past the limit is enough to know the document is too long. */
	    !str_format(last_page, sizeof(last_page), "-dLastPage=%u", limits->max_pages + 1) ||
	    !str_format(width_arg, sizeof(width_arg), "-dDEVICEWIDTHPOINTS=%.0f",
			(double)limits->page_width_pt) ||
	    !str_format(height_arg, sizeof(height_arg), "-dDEVICEHEIGHTPOINTS=%.0f",
			(double)limits->page_height_pt) ||
	    !engine_ps_tmpdir_env(out_path, env_tmp, sizeof(env_tmp)))
		return engine_fail(error, error_size, "The converter's file names are too long.");

	const char *const argv[] = {
	    limits->ghostscript, "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dQUIET",
	    "-sDEVICE=pdfwrite", "-sstdout=%stderr", "-dMaxBitmap=100000000", width_arg,
	    height_arg, last_page,
	    output_arg, "--", in_path, NULL,
	};
	const char *const envp[] = {env_tmp, NULL};
	char gs_error[CONVERT_ERROR_MAX];
	if (sandbox_exec_wait(argv, envp, gs_error, sizeof(gs_error)) != 0)
		return engine_fail(error, error_size,
				   "The PostScript document could not be read: it is damaged or "
				   "uses something we cannot print.");

	fz_document *volatile doc = NULL;
	volatile int pages = 0;
	fz_try(ctx)
	{
		doc = engine_open_pdf(ctx, out_path);
		pages = fz_count_pages(ctx, doc);
	}
	fz_always(ctx)
		fz_drop_document(ctx, doc);
	fz_catch(ctx)
		return engine_fail(error, error_size,
				   "The PostScript document could not be converted.");
	if ((unsigned)pages > limits->max_pages)
		return engine_fail(error, error_size,
				   "The document has more than %u pages; at most %u can be "
				   "printed: split it and send the parts.",
				   limits->max_pages, limits->max_pages);
	return engine_check_pages(pages, limits, error, error_size);
}
