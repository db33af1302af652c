/*
 * output-format.c - the output formats' names and MIME types, and the request defaults.
 *
 * The names are the keywords the converter protocol and the printer capabilities use; the
 * MIME types are what IPP's document-format says for each.
 */
#include "convert/output.h"

#include <string.h>

typedef struct {
	pp_output_format_t format;
	const char *name;
	const char *mime;
} output_format_entry_t;

static const output_format_entry_t output_formats[PP_OUTPUT_FORMAT_COUNT] = {
    {PP_OUTPUT_PDF, "pdf", "application/pdf"},
    {PP_OUTPUT_PWG, "pwg", "image/pwg-raster"},
    {PP_OUTPUT_URF, "urf", "image/urf"},
    {PP_OUTPUT_POSTSCRIPT, "ps", "application/postscript"},
    {PP_OUTPUT_PCL5, "pcl5", "application/vnd.hp-pcl"},
    {PP_OUTPUT_PCL6, "pcl6", "application/vnd.hp-pclxl"},
};

void output_request_default(pp_output_request_t *req)
{
	memset(req, 0, sizeof(*req));
	req->format = PP_OUTPUT_PDF;
	options_default(&req->options);
	req->resolution_dpi = 300;
	req->printer_is_color = true;
	req->printer_media = NULL;
	req->n_printer_media = 0;
	req->fit_to_page = false;
	req->ghostscript = NULL;
}

const char *output_format_name(pp_output_format_t format)
{
	for (size_t i = 0; i < PP_OUTPUT_FORMAT_COUNT; i++) {
		if (output_formats[i].format == format)
			return output_formats[i].name;
	}
	return "unknown";
}

const char *output_format_mime(pp_output_format_t format)
{
	for (size_t i = 0; i < PP_OUTPUT_FORMAT_COUNT; i++) {
		if (output_formats[i].format == format)
			return output_formats[i].mime;
	}
	return "application/octet-stream";
}

bool output_format_parse(const char *name, pp_output_format_t *format_r)
{
	if (name == NULL)
		return false;
	for (size_t i = 0; i < PP_OUTPUT_FORMAT_COUNT; i++) {
		if (strcmp(output_formats[i].name, name) == 0) {
			*format_r = output_formats[i].format;
			return true;
		}
	}
	return false;
}
