/*
 * output-mupdf.c - drawing laid-out sides with MuPDF, and the formats MuPDF writes for us:
 * PDF (its document writer, vector: pages are re-emitted through its PDF device) and PCL 5
 * (raster; 1-bit halftoned on monochrome jobs, 24-bit colour otherwise). PostScript is
 * Ghostscript's ps2write from the laid-out PDF (output-ghostscript.c).
 *
 * Colour: PDF keeps the document's colours (MuPDF has no colour-converting device), so a
 * monochrome PDF job relies on delivery setting the printer's print-color-mode; the raster
 * formats are rendered grey for monochrome jobs. Duplex goes into PCL's <ESC>&l#S; PDF has no
 * place for it (delivery sends sides with the job).
 */
#include "output-private.h"

#include <math.h>
#include <string.h>

void output_side_pixels(const pp_output_layout_t *layout, int dpi, int *w_r, int *h_r)
{
	*w_r = (int)lroundf(layout->media.width_pt * (float)dpi / 72.0f);
	*h_r = (int)lroundf(layout->media.height_pt * (float)dpi / 72.0f);
}

/* Runs one placed page through dev, placed by its ctm, then by view (side -> device). */
static void output_run_place(fz_context *ctx, fz_document *doc, const pp_output_place_t *place,
                             fz_matrix view, fz_device *dev)
{
	fz_page *page = NULL;
	fz_path *path = NULL;
	bool is_clipped = false;
	fz_var(page);
	fz_var(path);
	fz_var(is_clipped);
	fz_try(ctx)
	{
		/* A page larger than its cell is cut at the cell, not over its neighbour. */
		if (place->needs_clip) {
			path = fz_new_path(ctx);
			fz_rectto(ctx, path, place->cell.x0, place->cell.y0, place->cell.x1,
			          place->cell.y1);
			fz_clip_path(ctx, dev, path, 0, view, fz_infinite_rect);
			is_clipped = true;
		}
		page = fz_load_page(ctx, doc, place->page);
		fz_run_page(ctx, page, dev, fz_concat(place->ctm, view), NULL);
		if (is_clipped) {
			is_clipped = false;
			fz_pop_clip(ctx, dev);
		}
	}
	fz_always(ctx)
	{
		fz_drop_path(ctx, path);
		fz_drop_page(ctx, page);
	}
	fz_catch(ctx)
	{
		fz_rethrow(ctx);
	}
}

void output_run_side(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                            const pp_output_side_t *side, fz_matrix view, fz_device *dev)
{
	for (int i = 0; i < side->count; i++)
		output_run_place(ctx, doc, &layout->places[side->first + i], view, dev);
}

void output_draw_band(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                      const pp_output_side_t *side, int dpi, fz_pixmap *pix)
{
	fz_clear_pixmap_with_value(ctx, pix, 255);
	if (side == NULL || side->count == 0)
		return;
	fz_device *dev = fz_new_draw_device(ctx, fz_identity, pix);
	fz_try(ctx)
	{
		float zoom = (float)dpi / 72.0f;
		output_run_side(ctx, doc, layout, side, fz_scale(zoom, zoom), dev);
		fz_close_device(ctx, dev);
	}
	fz_always(ctx)
	{
		fz_drop_device(ctx, dev);
	}
	fz_catch(ctx)
	{
		fz_rethrow(ctx);
	}
}

/* PDF: every side becomes a page of the media's size; the pages are drawn into it as vectors. */
static void output_write_pdf(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                             int fd)
{
	fz_output *out = output_fd_new(ctx, fd);
	fz_document_writer *writer = NULL;
	fz_var(writer);
	fz_var(out);
	fz_try(ctx)
	{
		/* The writer owns out from here on, and drops it with itself. */
		fz_output *owned = out;
		out = NULL;
		writer = fz_new_pdf_writer_with_output(ctx, owned, "compress=yes");
		fz_rect mediabox =
		    fz_make_rect(0, 0, layout->media.width_pt, layout->media.height_pt);
		int64_t total = output_layout_total_sides(layout);
		for (int64_t k = 0; k < total; k++) {
			const pp_output_side_t *side = output_layout_side(layout, k);
			fz_device *dev = fz_begin_page(ctx, writer, mediabox);
			if (side != NULL)
				output_run_side(ctx, doc, layout, side, fz_identity, dev);
			fz_end_page(ctx, writer);
		}
		fz_close_document_writer(ctx, writer);
	}
	fz_always(ctx)
	{
		fz_drop_document_writer(ctx, writer);
		fz_drop_output(ctx, out);
	}
	fz_catch(ctx)
	{
		fz_rethrow(ctx);
	}
}

/* The PCL 5 options: a generic PCL 5 printer, told about duplex when the job is two-sided. */
static void output_pcl_options(fz_context *ctx, const pp_output_layout_t *layout,
                               fz_pcl_options *pcl)
{
	memset(pcl, 0, sizeof(*pcl));
	fz_pcl_preset(ctx, pcl, "generic");
	if (layout->is_duplex) {
		/* MuPDF 1.21 compares a preset with strcmp: no other option may follow it. */
		fz_parse_pcl_options(ctx, pcl, "has_duplex=yes");
		pcl->duplex_set = 1;
		pcl->duplex = 1;
		pcl->tumble = layout->is_tumble ? 1 : 0;
	}
}

/* PCL 5: each side drawn whole into one pixmap, handed to MuPDF's band writer. */
static void output_write_banded(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                                pp_output_format_t format, int dpi, int fd)
{
	fz_output *out = output_fd_new(ctx, fd);
	fz_band_writer *writer = NULL;
	fz_pixmap *pix = NULL;
	fz_bitmap *bitmap = NULL;
	fz_var(writer);
	fz_var(pix);
	fz_var(bitmap);
	fz_try(ctx)
	{
		int w, h;
		output_side_pixels(layout, dpi, &w, &h);
		bool is_mono_pcl = format == PP_OUTPUT_PCL5 && layout->is_gray;
		fz_colorspace *cs = layout->is_gray ? fz_device_gray(ctx) : fz_device_rgb(ctx);
		pix = fz_new_pixmap_with_bbox(ctx, cs, fz_make_irect(0, 0, w, h), NULL, 0);
		fz_set_pixmap_resolution(ctx, pix, dpi, dpi);
		fz_pcl_options pcl;
		output_pcl_options(ctx, layout, &pcl);
		int64_t total = output_layout_total_sides(layout);
		for (int64_t k = 0; k < total; k++) {
			output_draw_band(ctx, doc, layout, output_layout_side(layout, k), dpi, pix);
			if (format == PP_OUTPUT_PCL5) {
				/*
				 * One PCL band writer per page: MuPDF 1.21's PCL writers allocate
				 * their line buffers per page and free them only when dropped.
				 * page_count carries on, so only the first page resets the printer
				 * and sets duplex, as one writer would.
				 */
				if (writer != NULL)
					fz_close_band_writer(ctx, writer);
				fz_drop_band_writer(ctx, writer);
				writer = NULL;
				pcl.page_count = (int)k;
				writer = is_mono_pcl ? fz_new_mono_pcl_band_writer(ctx, out, &pcl)
				                     : fz_new_color_pcl_band_writer(ctx, out, &pcl);
			}
			if (is_mono_pcl) {
				/* The printer gets 1 bit per dot: MuPDF's default halftone. */
				fz_drop_bitmap(ctx, bitmap);
				bitmap = NULL;
				bitmap = fz_new_bitmap_from_pixmap(ctx, pix, NULL);
				int bw, bh, bn, bstride;
				fz_bitmap_details(bitmap, &bw, &bh, &bn, &bstride);
				fz_write_header(ctx, writer, w, h, 1, 0, dpi, dpi, (int)k + 1, NULL,
				                NULL);
				fz_write_band(ctx, writer, bstride, h, bitmap->samples);
			} else {
				fz_write_header(ctx, writer, w, h, pix->n, 0, dpi, dpi, (int)k + 1,
				                cs, NULL);
				fz_write_band(ctx, writer, pix->stride, h, pix->samples);
			}
		}
		if (writer != NULL)
			fz_close_band_writer(ctx, writer);
		fz_close_output(ctx, out);
	}
	fz_always(ctx)
	{
		fz_drop_bitmap(ctx, bitmap);
		fz_drop_pixmap(ctx, pix);
		fz_drop_band_writer(ctx, writer);
		fz_drop_output(ctx, out);
	}
	fz_catch(ctx)
	{
		fz_rethrow(ctx);
	}
}

void output_mupdf_write(fz_context *ctx, fz_document *doc, const pp_output_layout_t *layout,
                        pp_output_format_t format, int dpi, int fd)
{
	if (format == PP_OUTPUT_PDF)
		output_write_pdf(ctx, doc, layout, fd);
	else
		output_write_banded(ctx, doc, layout, format, dpi, fd);
}
