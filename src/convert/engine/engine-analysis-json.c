/*
 * engine-analysis-json.c - the analysis crossing the sandbox boundary: the child writes it as
 * JSON into its private directory, the parent reads it back as untrusted input (bounded
 * size, every field checked, the colour count recomputed and compared).
 */
#include "convert/engine/engine-private.h"

#include "lib/fsutil.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENGINE_ANALYSIS_MAX_BYTES ((size_t)4 << 20)
#define ENGINE_ANALYSIS_MAX_SIDE_PT 200000.0 /* PDF's own limit on a page side is 14,400 units × UserUnit */

int engine_analysis_save(const pp_convert_analysis_t *analysis, const char *path, char *error,
			 size_t error_size)
{
	if (analysis == NULL || analysis->pages < 0 ||
	    (analysis->pages > 0 && analysis->page_info == NULL))
		return engine_fail(error, error_size, "No analysis to save.");
	json_t *list = json_array();
	json_t *root = json_object();
	char *text = NULL;
	int rc = -1;
	if (list == NULL || root == NULL)
		goto done;
	for (int i = 0; i < analysis->pages; i++) {
		const pp_page_info_t *p = &analysis->page_info[i];
		json_t *entry = json_pack("{s:f, s:f, s:b}", "w", (double)p->width_pt, "h",
					  (double)p->height_pt, "color", p->is_color ? 1 : 0);
		if (entry == NULL || json_array_append_new(list, entry) != 0)
			goto done;
	}
	if (json_object_set_new(root, "pages", json_integer(analysis->pages)) != 0 ||
	    json_object_set_new(root, "color_pages", json_integer(analysis->color_pages)) != 0 ||
	    json_object_set(root, "page_info", list) != 0)
		goto done;
	text = json_dumps(root, JSON_COMPACT);
	if (text == NULL)
		goto done;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		engine_fail(error, error_size, "The analysis could not be written (%s).",
			    strerror(errno));
		goto out;
	}
	if (fs_write_full(fd, text, strlen(text)) != 0) {
		int saved = errno;
		(void)close(fd);
		engine_fail(error, error_size, "The analysis could not be written (%s).",
			    strerror(saved));
		goto out;
	}
	if (close(fd) != 0) {
		engine_fail(error, error_size, "The analysis could not be written (%s).",
			    strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
done:
	engine_fail(error, error_size, "The converter ran out of memory.");
out:
	free(text);
	json_decref(list);
	json_decref(root);
	return rc;
}

/* A page side from the child: a finite, positive number of points below the bound. */
static bool engine_side_ok(const json_t *v, float *side_r)
{
	if (!json_is_number(v))
		return false;
	double d = json_number_value(v);
	if (!isfinite(d) || d <= 0.0 || d > ENGINE_ANALYSIS_MAX_SIDE_PT)
		return false;
	*side_r = (float)d;
	return true;
}

int engine_analysis_load(const char *path, unsigned max_pages, pp_convert_analysis_t *analysis_r,
			 char *error, size_t error_size)
{
	memset(analysis_r, 0, sizeof(*analysis_r));
	if (max_pages == 0)
		max_pages = ENGINE_DEFAULT_MAX_PAGES;
	char *data = NULL;
	size_t len = 0;
	char read_error[256];
	if (fs_read_file(path, ENGINE_ANALYSIS_MAX_BYTES, &data, &len, read_error,
			 sizeof(read_error)) != 0)
		return engine_fail(error, error_size, "The converter's analysis is missing or too "
				   "large: %s", read_error);
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	free(data);
	pp_page_info_t *info = NULL;
	int rc = -1;
	if (!json_is_object(root))
		goto bad;
	json_t *pages_v = json_object_get(root, "pages");
	json_t *color_v = json_object_get(root, "color_pages");
	json_t *list = json_object_get(root, "page_info");
	if (!json_is_integer(pages_v) || !json_is_integer(color_v) || !json_is_array(list))
		goto bad;
	json_int_t pages = json_integer_value(pages_v);
	if (pages < 1 || pages > (json_int_t)max_pages || json_array_size(list) != (size_t)pages)
		goto bad;
	info = calloc((size_t)pages, sizeof(*info));
	if (info == NULL) {
		engine_fail(error, error_size, "Out of memory reading the analysis.");
		goto out;
	}
	json_int_t color_pages = 0;
	for (size_t i = 0; i < (size_t)pages; i++) {
		json_t *entry = json_array_get(list, i);
		json_t *color = json_object_get(entry, "color");
		if (!json_is_object(entry) || !json_is_boolean(color) ||
		    !engine_side_ok(json_object_get(entry, "w"), &info[i].width_pt) ||
		    !engine_side_ok(json_object_get(entry, "h"), &info[i].height_pt))
			goto bad;
		info[i].is_color = json_is_true(color);
		if (info[i].is_color)
			color_pages++;
	}
	if (color_pages != json_integer_value(color_v))
		goto bad;
	analysis_r->pages = (int)pages;
	analysis_r->color_pages = (int)color_pages;
	analysis_r->page_info = info;
	info = NULL;
	rc = 0;
	goto out;
bad:
	engine_fail(error, error_size, "The converter's analysis is malformed.");
out:
	free(info);
	json_decref(root);
	return rc;
}
