/*
 * engine-pdf.c - engine_to_pdf(): choosing the engine for a kind of input, and the PDF kind
 * itself: a submitted PDF is opened by MuPDF (repaired when it can be), refused when it is
 * locked or too long, stripped of what runs or hides (JavaScript, open actions, embedded
 * files, encryption) and written back garbage-collected and compressed.
 */
#include "convert/engine/engine-private.h"

#include <mupdf/pdf.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define ENGINE_PDF_HEADER_WINDOW 1024 /* "%PDF-" may follow junk this far (as readers allow) */

/* Why a PDF was refused inside fz_try, so the catch can say it in the user's words. */
typedef enum {
	ENGINE_PDF_DAMAGED = 0,
	ENGINE_PDF_PASSWORD,
	ENGINE_PDF_LIMIT, /* error already filled */
} engine_pdf_reason_t;

/* True when "%PDF-" starts within the first ENGINE_PDF_HEADER_WINDOW bytes of path. */
static int engine_pdf_has_header(const char *path, bool *has_r, char *error, size_t error_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return engine_fail(error, error_size, "The document could not be opened (%s).",
				   strerror(errno));
	char head[ENGINE_PDF_HEADER_WINDOW];
	size_t len = 0;
	while (len < sizeof(head)) {
		ssize_t n = read(fd, head + len, sizeof(head) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			(void)close(fd);
			return engine_fail(error, error_size, "The document could not be read.");
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (close(fd) != 0)
		return engine_fail(error, error_size, "The document could not be read.");
	*has_r = len >= 5 && memmem(head, len, "%PDF-", 5) != NULL;
	return 0;
}

/* Removes what would run or hide when the PDF is opened: document JavaScript, actions, files. */
static void engine_pdf_strip(fz_context *ctx, pdf_document *doc)
{
	pdf_obj *root = pdf_dict_get(ctx, pdf_trailer(ctx, doc), PDF_NAME(Root));
	if (root == NULL)
		return;
	pdf_dict_dels(ctx, root, "OpenAction");
	pdf_dict_del(ctx, root, PDF_NAME(AA));
	pdf_obj *names = pdf_dict_get(ctx, root, PDF_NAME(Names));
	if (pdf_is_dict(ctx, names)) {
		pdf_dict_del(ctx, names, PDF_NAME(JavaScript));
		pdf_dict_del(ctx, names, PDF_NAME(EmbeddedFiles));
	}
	pdf_obj *form = pdf_dict_get(ctx, root, PDF_NAME(AcroForm));
	if (pdf_is_dict(ctx, form))
		pdf_dict_del(ctx, form, PDF_NAME(XFA));
}

int engine_pdf_rewrite(fz_context *ctx, const char *in_path, const engine_limits_t *limits,
		       const char *out_path, char *error, size_t error_size)
{
	bool has_header = false;
	if (engine_pdf_has_header(in_path, &has_header, error, error_size) != 0)
		return -1;
	if (!has_header)
		return engine_fail(error, error_size, "The file claims to be a PDF but is not one.");

	pdf_document *volatile doc = NULL;
	volatile engine_pdf_reason_t reason = ENGINE_PDF_DAMAGED;
	int rc = 0;
	fz_try(ctx)
	{
		doc = pdf_open_document(ctx, in_path);
		if (pdf_needs_password(ctx, doc)) {
			reason = ENGINE_PDF_PASSWORD;
			fz_throw(ctx, FZ_ERROR_GENERIC, "password");
		}
		/* The page count comes from the page tree's root: cheap, before any page. */
		if (engine_check_pages(pdf_count_pages(ctx, doc), limits, error, error_size) != 0) {
			reason = ENGINE_PDF_LIMIT;
			fz_throw(ctx, FZ_ERROR_GENERIC, "pages");
		}
		engine_pdf_strip(ctx, doc);
		pdf_write_options opts = pdf_default_write_options;
		opts.do_garbage = 2;
		opts.do_compress = 1;
		opts.do_compress_images = 1;
		opts.do_compress_fonts = 1;
		opts.do_encrypt = PDF_ENCRYPT_NONE;
		pdf_save_document(ctx, doc, out_path, &opts);
	}
	fz_always(ctx)
		pdf_drop_document(ctx, doc);
	fz_catch(ctx)
	{
		rc = -1;
		if (reason == ENGINE_PDF_PASSWORD)
			engine_fail(error, error_size,
				    "The PDF is protected by a password: remove the password and send "
				    "it again.");
		else if (reason == ENGINE_PDF_DAMAGED)
			engine_fail(error, error_size, "The PDF is damaged and cannot be read.");
	}
	return rc;
}

int engine_to_pdf(const char *in_path, const char *content_type, const pp_engine_limits_t *limits,
		  const char *out_path, char *error, size_t error_size)
{
	if (in_path == NULL || out_path == NULL)
		return engine_fail(error, error_size, "No document was given to convert.");
	engine_limits_t resolved;
	engine_limits_resolve(limits, &resolved);
	pp_convert_kind_t kind = convert_kind_of(content_type);
	if (kind == PP_CONVERT_OFFICE)
		return engine_fail(error, error_size,
				   "This office document needs the office engine, which did not "
				   "take it.");
	if (kind == PP_CONVERT_UNSUPPORTED)
		return engine_fail(error, error_size,
				   "This kind of document cannot be printed: send a PDF, an image, "
				   "text or an office document.");

	fz_context *ctx = engine_context_new(error, error_size);
	if (ctx == NULL)
		return -1;
	int rc = -1;
	switch (kind) {
	case PP_CONVERT_PDF:
		rc = engine_pdf_rewrite(ctx, in_path, &resolved, out_path, error, error_size);
		break;
	case PP_CONVERT_POSTSCRIPT:
		rc = engine_postscript_to_pdf(ctx, in_path, &resolved, out_path, error, error_size);
		break;
	case PP_CONVERT_IMAGE:
		rc = engine_image_to_pdf(ctx, in_path, content_type, &resolved, out_path, error,
					 error_size);
		break;
	case PP_CONVERT_RASTER:
		rc = engine_raster_to_pdf(ctx, in_path, &resolved, out_path, error, error_size);
		break;
	case PP_CONVERT_TEXT:
	case PP_CONVERT_HTML:
		rc = engine_text_to_pdf(ctx, in_path, kind == PP_CONVERT_HTML, &resolved, out_path,
					error, error_size);
		break;
	case PP_CONVERT_OFFICE:
	case PP_CONVERT_UNSUPPORTED:
		break;
	}
	fz_drop_context(ctx);
	return rc;
}
