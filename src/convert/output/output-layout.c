/*
 * output-layout.c - where every printed page lands: page selection, the media (and its
 * substitution), n-up grids, orientation, scaling, copies and blank backs.
 *
 * The layout is computed once per job for one copy; writers repeat it for each copy
 * (collated: 1..N, 1..N) and add a blank back between copies when a duplex copy has an odd
 * number of sides, so that every copy starts on a new sheet.
 *
 * Placement works in a "logical sheet": the media, turned 90 degrees counter-clockwise when
 * the content is printed landscape (IPP's orientation-requested 4). Pages are laid out in the
 * logical sheet in a cols x rows grid in row-major order, upright, each scaled uniformly and
 * centred in its cell; the logical sheet is then turned onto the physical side. With
 * orientation "auto", the turn is chosen by what fits the first page best (2-up on portrait
 * A4 gives a landscape logical sheet with two portrait cells side by side), and a single page
 * that fits its cell better turned (a landscape page in a portrait document) is turned.
 */
#include "output-private.h"

#include "convert/convert.h"
#include "lib/str.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LAYOUT_SAME_SIZE_PT 2.0f /* two media whose sides differ by less are the same size */
#define LAYOUT_A4_W (210.0f * 72.0f / 25.4f)
#define LAYOUT_A4_H (297.0f * 72.0f / 25.4f)
#define LAYOUT_LETTER_W (8.5f * 72.0f)
#define LAYOUT_LETTER_H (11.0f * 72.0f)
#define LAYOUT_TURN_GAIN 1.01f /* turn a page only when it then prints 1 % larger */

/* A grid of cells: columns x rows of the logical sheet. */
typedef struct {
	int cols;
	int rows;
} layout_grid_t;

/*
 * Parses a decimal number with an optional fraction ("8.5") at *p, advancing *p. Returns
 * false when there are no digits or the value is absurd (above 100000).
 */
static bool layout_parse_decimal(const char **p, float *value_r)
{
	const char *s = *p;
	double value = 0.0;
	bool has_digit = false;
	while (*s >= '0' && *s <= '9') {
		value = value * 10.0 + (double)(*s - '0');
		has_digit = true;
		if (value > 100000.0)
			return false;
		s++;
	}
	if (*s == '.') {
		double unit = 0.1;
		s++;
		while (*s >= '0' && *s <= '9') {
			value += unit * (double)(*s - '0');
			unit /= 10.0;
			has_digit = true;
			s++;
		}
	}
	if (!has_digit)
		return false;
	*p = s;
	*value_r = (float)value;
	return true;
}

int output_media_parse(const char *name, pp_output_media_t *media_r, char *error, size_t error_size)
{
	memset(media_r, 0, sizeof(*media_r));
	const char *dims = name != NULL ? strrchr(name, '_') : NULL;
	float a = 0.0f, b = 0.0f;
	const char *p = dims != NULL ? dims + 1 : NULL;
	bool is_ok = p != NULL && layout_parse_decimal(&p, &a) && *p++ == 'x' &&
	             layout_parse_decimal(&p, &b);
	float unit_pt = 0.0f;
	if (is_ok && strcmp(p, "mm") == 0)
		unit_pt = 72.0f / 25.4f;
	else if (is_ok && strcmp(p, "in") == 0)
		unit_pt = 72.0f;
	if (!is_ok || unit_pt == 0.0f || a < 1.0f || b < 1.0f ||
	    !str_copy(media_r->name, sizeof(media_r->name), name)) {
		(void)str_format(
		    error, error_size,
		    "media %.64s is not a PWG media name with its size; use names like "
		    "iso_a4_210x297mm or na_letter_8.5x11in",
		    name != NULL ? name : "(none)");
		return -1;
	}
	media_r->width_pt = fminf(a, b) * unit_pt;
	media_r->height_pt = fmaxf(a, b) * unit_pt;
	return 0;
}

/* True when media is w x h points, give or take LAYOUT_SAME_SIZE_PT. */
static bool layout_media_is(const pp_output_media_t *media, float w, float h)
{
	return fabsf(media->width_pt - w) < LAYOUT_SAME_SIZE_PT &&
	       fabsf(media->height_pt - h) < LAYOUT_SAME_SIZE_PT;
}

int output_media_choose(const pp_output_request_t *req, pp_output_media_t *media_r,
                        bool *is_substituted_r, char *error, size_t error_size)
{
	*is_substituted_r = false;
	if (output_media_parse(req->options.media, media_r, error, error_size) != 0)
		return -1;
	if (req->printer_media == NULL || req->n_printer_media == 0)
		return 0;

	/* The printer's media that we understand; the job's size among them ends the search. */
	const pp_output_media_t job = *media_r;
	bool is_job_a4 = layout_media_is(&job, LAYOUT_A4_W, LAYOUT_A4_H);
	bool is_job_letter = layout_media_is(&job, LAYOUT_LETTER_W, LAYOUT_LETTER_H);
	bool has_swap = false, has_nearest = false;
	pp_output_media_t swap = {0}, nearest = {0};
	float nearest_distance = 0.0f;
	for (size_t i = 0; i < req->n_printer_media; i++) {
		pp_output_media_t candidate;
		char ignored[CONVERT_ERROR_MAX];
		if (req->printer_media[i] == NULL ||
		    output_media_parse(req->printer_media[i], &candidate, ignored,
		                       sizeof(ignored)) != 0)
			continue;
		if (layout_media_is(&candidate, job.width_pt, job.height_pt))
			return 0;
		if (!has_swap &&
		    ((is_job_a4 && layout_media_is(&candidate, LAYOUT_LETTER_W, LAYOUT_LETTER_H)) ||
		     (is_job_letter && layout_media_is(&candidate, LAYOUT_A4_W, LAYOUT_A4_H)))) {
			swap = candidate;
			has_swap = true;
		}
		float distance = fabsf(candidate.width_pt - job.width_pt) +
		                 fabsf(candidate.height_pt - job.height_pt);
		if (!has_nearest || distance < nearest_distance) {
			nearest = candidate;
			nearest_distance = distance;
			has_nearest = true;
		}
	}

	/* A4 <-> Letter first (the usual mix-up), else the nearest size; nothing usable: as is. */
	if (has_swap || has_nearest) {
		*media_r = has_swap ? swap : nearest;
		*is_substituted_r = true;
	}
	return 0;
}

int output_layout_select(const pp_print_options_t *opts, int doc_pages, int **pages_r, int *count_r,
                         char *error, size_t error_size)
{
	*pages_r = NULL;
	*count_r = 0;
	if (doc_pages <= 0) {
		(void)str_format(error, error_size,
		                 "the document has no pages to print; check it and send it again");
		return -1;
	}

	/* Count first: a range that starts past the end is the user's mistake, said plainly. */
	int64_t total = 0;
	for (size_t i = 0; i < opts->n_page_ranges; i++) {
		const pp_page_range_t *range = &opts->page_ranges[i];
		if (range->first < 1 || range->first > range->last ||
		    range->first > (uint32_t)doc_pages) {
			(void)str_format(
			    error, error_size,
			    "page range %u-%u is past the document's %d page%s; choose "
			    "pages from 1 to %d",
			    range->first, range->last, doc_pages, doc_pages == 1 ? "" : "s",
			    doc_pages);
			return -1;
		}
		uint32_t last =
		    range->last > (uint32_t)doc_pages ? (uint32_t)doc_pages : range->last;
		total += (int64_t)(last - range->first) + 1;
	}
	if (opts->n_page_ranges == 0)
		total = doc_pages;

	int *pages = calloc((size_t)total, sizeof(*pages));
	if (pages == NULL) {
		(void)str_format(error, error_size, "out of memory choosing pages");
		return -1;
	}
	int n = 0;
	if (opts->n_page_ranges == 0) {
		for (int i = 0; i < doc_pages; i++)
			pages[n++] = i;
	}
	for (size_t i = 0; i < opts->n_page_ranges; i++) {
		uint32_t last = opts->page_ranges[i].last > (uint32_t)doc_pages
		                    ? (uint32_t)doc_pages
		                    : opts->page_ranges[i].last;
		for (uint32_t page = opts->page_ranges[i].first; page <= last; page++)
			pages[n++] = (int)page - 1;
	}
	*pages_r = pages;
	*count_r = n;
	return 0;
}

/* The grids for number_up, the preferred first (ties keep the earlier one). */
static size_t layout_grids(int up, layout_grid_t grids_r[2])
{
	switch (up) {
	case 2:
		grids_r[0] = (layout_grid_t){2, 1};
		grids_r[1] = (layout_grid_t){1, 2};
		return 2;
	case 4:
		grids_r[0] = (layout_grid_t){2, 2};
		return 1;
	case 6:
		grids_r[0] = (layout_grid_t){3, 2};
		grids_r[1] = (layout_grid_t){2, 3};
		return 2;
	case 9:
		grids_r[0] = (layout_grid_t){3, 3};
		return 1;
	case 16:
		grids_r[0] = (layout_grid_t){4, 4};
		return 1;
	default:
		grids_r[0] = (layout_grid_t){1, 1};
		return 1;
	}
}

/* The largest scale at which a w x h box fits into cw x ch. */
static float layout_fit(float w, float h, float cw, float ch)
{
	return fminf(cw / w, ch / h);
}

/* Width and height of a page box, at least one point each (a degenerate box prints blank). */
static void layout_page_size(fz_rect bounds, float *w_r, float *h_r)
{
	*w_r = fmaxf(bounds.x1 - bounds.x0, 1.0f);
	*h_r = fmaxf(bounds.y1 - bounds.y0, 1.0f);
}

/* The rotation (MuPDF degrees, clockwise) the orientation asks for; -1 for auto. */
static int layout_orientation_degrees(pp_orientation_t orientation)
{
	switch (orientation) {
	case PP_ORIENTATION_PORTRAIT:
		return 0;
	case PP_ORIENTATION_LANDSCAPE: /* content turned 90 degrees counter-clockwise */
		return 270;
	case PP_ORIENTATION_REVERSE_LANDSCAPE:
		return 90;
	case PP_ORIENTATION_REVERSE_PORTRAIT:
		return 180;
	case PP_ORIENTATION_AUTO:
	default:
		return -1;
	}
}

/* The geometry every page of the job shares. */
typedef struct {
	float w, h;      /* physical side, points */
	float lw, lh;    /* logical sheet */
	fz_matrix frame; /* logical sheet -> physical side */
	fz_rect area;    /* where cells go, logical */
	layout_grid_t grid;
	bool is_auto;   /* orientation auto: single pages may turn */
	bool is_scaled; /* scale each page into its cell (n-up, fit) */
	bool is_shrunk; /* scale down only (substituted media) */
} layout_frame_t;

/* Sets the logical sheet, frame matrix and cell area for a turn of degrees. */
static void layout_frame_set(layout_frame_t *frame, int degrees, bool use_margins)
{
	bool is_turned = degrees == 90 || degrees == 270;
	frame->lw = is_turned ? frame->h : frame->w;
	frame->lh = is_turned ? frame->w : frame->h;
	frame->frame = fz_concat(
	    fz_concat(fz_translate(-frame->lw / 2, -frame->lh / 2), fz_rotate((float)degrees)),
	    fz_translate(frame->w / 2, frame->h / 2));
	float m = use_margins ? OUTPUT_MARGIN_PT : 0.0f;
	frame->area = fz_make_rect(m, m, frame->lw - m, frame->lh - m);
}

/* Cell size of grid in frame. */
static void layout_cell_size(const layout_frame_t *frame, layout_grid_t grid, float *cw_r,
                             float *ch_r)
{
	*cw_r = (frame->area.x1 - frame->area.x0) / (float)grid.cols;
	*ch_r = (frame->area.y1 - frame->area.y0) / (float)grid.rows;
}

/* Chooses the turn of the logical sheet and the grid by how large the first page prints. */
static void layout_frame_choose(layout_frame_t *frame, const pp_output_request_t *req,
                                const pp_output_media_t *media, fz_rect first_bounds)
{
	int up = req->options.number_up > 0 ? req->options.number_up : 1;
	bool use_margins = up > 1 || req->fit_to_page;
	frame->w = media->width_pt;
	frame->h = media->height_pt;
	int fixed = layout_orientation_degrees(req->options.orientation);
	frame->is_auto = fixed < 0;

	float pw, ph;
	layout_page_size(first_bounds, &pw, &ph);
	layout_grid_t grids[2];
	size_t n_grids = layout_grids(up, grids);
	const int autos[2] = {0, 270};
	int best_degrees = fixed < 0 ? 0 : fixed;
	layout_grid_t best_grid = grids[0];
	float best_score = -1.0f;
	for (size_t t = 0; t < (fixed < 0 ? 2u : 1u); t++) {
		int degrees = fixed < 0 ? autos[t] : fixed;
		layout_frame_set(frame, degrees, use_margins);
		for (size_t g = 0; g < n_grids; g++) {
			float cw, ch;
			layout_cell_size(frame, grids[g], &cw, &ch);
			float score = layout_fit(pw, ph, cw, ch);
			if (score > best_score * 1.005f) {
				best_score = score;
				best_degrees = degrees;
				best_grid = grids[g];
			}
		}
	}
	layout_frame_set(frame, best_degrees, use_margins);
	frame->grid = best_grid;
	frame->is_scaled = up > 1 || req->fit_to_page;
}

/* Places one page (box bounds) in cell index of frame. */
static void layout_place(const layout_frame_t *frame, int index, fz_rect bounds,
                         pp_output_place_t *place)
{
	float cw, ch;
	layout_cell_size(frame, frame->grid, &cw, &ch);
	int col = index % frame->grid.cols;
	int row = index / frame->grid.cols;
	fz_rect cell = fz_make_rect(
	    frame->area.x0 + (float)col * cw, frame->area.y0 + (float)row * ch,
	    frame->area.x0 + (float)(col + 1) * cw, frame->area.y0 + (float)(row + 1) * ch);

	/* Turn a page that fits its cell clearly better turned (auto orientation only). */
	float pw, ph;
	layout_page_size(bounds, &pw, &ph);
	int turn = 0;
	if (frame->is_auto &&
	    layout_fit(ph, pw, cw, ch) > layout_fit(pw, ph, cw, ch) * LAYOUT_TURN_GAIN)
		turn = 270;
	float rw = turn != 0 ? ph : pw;
	float rh = turn != 0 ? pw : ph;

	/* Scale: into the cell (n-up, fit), down only onto substituted media, else 100 %. */
	float scale = 1.0f;
	if (frame->is_scaled)
		scale = layout_fit(rw, rh, cw, ch);
	else if (frame->is_shrunk)
		scale = fminf(1.0f, layout_fit(rw, rh, cw, ch));

	fz_matrix m = fz_translate(-(bounds.x0 + pw / 2), -(bounds.y0 + ph / 2));
	m = fz_concat(m, fz_rotate((float)turn));
	m = fz_concat(m, fz_scale(scale, scale));
	m = fz_concat(m, fz_translate((cell.x0 + cell.x1) / 2, (cell.y0 + cell.y1) / 2));
	m = fz_concat(m, frame->frame);
	place->ctm = m;
	place->cell = fz_transform_rect(cell, frame->frame);

	/* Clip only when the page reaches out of its cell (rounding aside). */
	fz_rect placed = fz_transform_rect(
	    fz_make_rect(bounds.x0, bounds.y0, bounds.x0 + pw, bounds.y0 + ph), m);
	const float slack = 0.01f;
	place->needs_clip =
	    placed.x0 < place->cell.x0 - slack || placed.y0 < place->cell.y0 - slack ||
	    placed.x1 > place->cell.x1 + slack || placed.y1 > place->cell.y1 + slack;
}

int output_layout_make(const pp_output_request_t *req, const int *pages, const fz_rect *bounds,
                       int count, pp_output_layout_t *layout_r, char *error, size_t error_size)
{
	memset(layout_r, 0, sizeof(*layout_r));
	if (count <= 0) {
		(void)str_format(error, error_size, "no pages to print");
		return -1;
	}
	pp_output_layout_t layout = {0};
	if (output_media_choose(req, &layout.media, &layout.is_substituted, error, error_size) != 0)
		return -1;
	const pp_print_options_t *opts = &req->options;
	int up = opts->number_up > 0 ? opts->number_up : 1;
	layout.is_duplex = opts->sides != PP_SIDES_ONE_SIDED;
	layout.is_tumble = opts->sides == PP_SIDES_TWO_SIDED_SHORT_EDGE;
	layout.is_gray = !req->printer_is_color || opts->color_mode == PP_COLOR_MONOCHROME;
	layout.copies = opts->copies > 0 ? opts->copies : 1;
	layout.pages_per_copy = count;
	layout.sides_per_copy = (count + up - 1) / up;
	layout.has_blank_back =
	    layout.is_duplex && layout.sides_per_copy % 2 == 1 && layout.copies > 1;

	layout.sides = calloc((size_t)layout.sides_per_copy, sizeof(*layout.sides));
	layout.places = calloc((size_t)count, sizeof(*layout.places));
	if (layout.sides == NULL || layout.places == NULL) {
		output_layout_clear(&layout);
		(void)str_format(error, error_size, "out of memory laying out %d pages", count);
		return -1;
	}

	layout_frame_t frame = {0};
	layout_frame_choose(&frame, req, &layout.media, bounds[0]);
	frame.is_shrunk = layout.is_substituted;
	for (int i = 0; i < count; i++) {
		layout.places[i].page = pages[i];
		layout_place(&frame, i % up, bounds[i], &layout.places[i]);
	}
	for (int s = 0; s < layout.sides_per_copy; s++) {
		layout.sides[s].first = s * up;
		layout.sides[s].count = count - s * up < up ? count - s * up : up;
	}
	*layout_r = layout;
	return 0;
}

void output_layout_clear(pp_output_layout_t *layout)
{
	if (layout == NULL)
		return;
	free(layout->sides);
	free(layout->places);
	memset(layout, 0, sizeof(*layout));
}

int64_t output_layout_total_sides(const pp_output_layout_t *layout)
{
	int64_t per_copy = (int64_t)layout->sides_per_copy + (layout->has_blank_back ? 1 : 0);
	/* The last copy needs no blank back: nothing follows it. */
	return per_copy * layout->copies - (layout->has_blank_back ? 1 : 0);
}

const pp_output_side_t *output_layout_side(const pp_output_layout_t *layout, int64_t k)
{
	int64_t per_copy = (int64_t)layout->sides_per_copy + (layout->has_blank_back ? 1 : 0);
	int64_t in_copy = k % per_copy;
	if (in_copy >= layout->sides_per_copy)
		return NULL;
	return &layout->sides[in_copy];
}
