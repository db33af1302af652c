/*
 * engine-analyse.c - the facts about the kept PDF that pricing, quotas and the printer choice
 * need: how many pages, each page's size after its rotation, and which pages carry colour.
 * Colour is decided per page by MuPDF's test device on what the page draws (text, paths,
 * every image pixel, shadings) with a small tolerance, so grey drawn in RGB stays mono.
 */
#include "convert/engine/engine-private.h"

#include <stdlib.h>
#include <string.h>

#define ENGINE_COLOR_TOLERANCE 0.02f /* channel difference (0..1) still counted as grey */

/* Whether page draws anything in colour. Throws on a damaged page (inside fz_try). */
static bool engine_page_is_color(fz_context *ctx, fz_page *page)
{
	int is_color = 0;
	fz_device *volatile dev = NULL;
	fz_var(is_color);
	fz_try(ctx)
	{
		dev = fz_new_test_device(ctx, &is_color, ENGINE_COLOR_TOLERANCE,
					 FZ_TEST_OPT_IMAGES | FZ_TEST_OPT_SHADINGS, NULL);
		fz_run_page(ctx, page, dev, fz_identity, NULL);
		fz_close_device(ctx, dev);
	}
	fz_always(ctx)
		fz_drop_device(ctx, dev);
	fz_catch(ctx)
	{
		/* The device stops the page with an exception once it has seen colour. */
		if (is_color == 0)
			fz_rethrow(ctx);
	}
	return is_color != 0;
}

int engine_analyse(const char *pdf_path, const pp_engine_limits_t *limits,
		   pp_convert_analysis_t *analysis_r, char *error, size_t error_size)
{
	memset(analysis_r, 0, sizeof(*analysis_r));
	engine_limits_t resolved;
	engine_limits_resolve(limits, &resolved);
	fz_context *ctx = engine_context_new(error, error_size);
	if (ctx == NULL)
		return -1;
	fz_document *volatile doc = NULL;
	fz_page *volatile page = NULL;
	pp_page_info_t *volatile info = NULL;
	volatile int pages = 0, color_pages = 0;
	volatile bool refused = false;
	int rc = 0;
	fz_try(ctx)
	{
		doc = engine_open_pdf(ctx, pdf_path);
		if (fz_needs_password(ctx, doc)) {
			refused = true;
			engine_fail(error, error_size,
				    "The PDF is protected by a password: remove the password and "
				    "send it again.");
			fz_throw(ctx, FZ_ERROR_GENERIC, "password");
		}
		pages = fz_count_pages(ctx, doc);
		if (engine_check_pages(pages, &resolved, error, error_size) != 0) {
			refused = true;
			fz_throw(ctx, FZ_ERROR_GENERIC, "pages");
		}
		info = calloc((size_t)pages, sizeof(*info));
		if (info == NULL)
			fz_throw(ctx, FZ_ERROR_MEMORY, "out of memory");
		for (int i = 0; i < pages; i++) {
			page = fz_load_page(ctx, doc, i);
			fz_rect box = fz_bound_page(ctx, page);
			info[i].width_pt = box.x1 - box.x0;
			info[i].height_pt = box.y1 - box.y0;
			info[i].is_color = engine_page_is_color(ctx, page);
			if (info[i].is_color)
				color_pages++;
			fz_drop_page(ctx, page);
			page = NULL;
		}
	}
	fz_always(ctx)
	{
		fz_drop_page(ctx, page);
		fz_drop_document(ctx, doc);
	}
	fz_catch(ctx)
	{
		rc = -1;
		if (!refused)
			engine_fail(error, error_size, "The PDF is damaged and cannot be read.");
	}
	fz_drop_context(ctx);
	if (rc != 0) {
		free(info);
		return -1;
	}
	analysis_r->pages = pages;
	analysis_r->color_pages = color_pages;
	analysis_r->page_info = info;
	return 0;
}
