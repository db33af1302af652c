/*
 * convert.c - the kinds of input and the analysis record shared by the converter's parts.
 */
#include "convert/convert.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* MIME types (as doctype_sniff() names them) and the engine each needs. */
static const struct {
	const char *type;
	pp_convert_kind_t kind;
} convert_kinds[] = {
	{"application/pdf", PP_CONVERT_PDF},
	{"application/postscript", PP_CONVERT_POSTSCRIPT},
	{"image/jpeg", PP_CONVERT_IMAGE},
	{"image/png", PP_CONVERT_IMAGE},
	{"image/gif", PP_CONVERT_IMAGE},
	{"image/tiff", PP_CONVERT_IMAGE},
	{"image/bmp", PP_CONVERT_IMAGE},
	{"image/webp", PP_CONVERT_IMAGE},
	{"image/heic", PP_CONVERT_IMAGE},
	{"image/heif", PP_CONVERT_IMAGE},
	{"image/pwg-raster", PP_CONVERT_RASTER},
	{"image/urf", PP_CONVERT_RASTER},
	{"text/plain", PP_CONVERT_TEXT},
	{"text/html", PP_CONVERT_HTML},
	{"application/rtf", PP_CONVERT_OFFICE},
	{"text/rtf", PP_CONVERT_OFFICE},
	{"application/msword", PP_CONVERT_OFFICE},
	{"application/vnd.ms-excel", PP_CONVERT_OFFICE},
	{"application/vnd.ms-powerpoint", PP_CONVERT_OFFICE},
	{"application/vnd.ms-office", PP_CONVERT_OFFICE},
};

/* Prefixes that name whole families (every OOXML and OpenDocument type). */
static const char *const convert_office_prefixes[] = {
	"application/vnd.openxmlformats-officedocument.",
	"application/vnd.oasis.opendocument.",
};

pp_convert_kind_t convert_kind_of(const char *content_type)
{
	if (content_type == NULL)
		return PP_CONVERT_UNSUPPORTED;
	/* The bare type ends at a parameter (";") or a space. */
	size_t len = strcspn(content_type, "; \t");
	for (size_t i = 0; i < sizeof(convert_kinds) / sizeof(convert_kinds[0]); i++) {
		if (strlen(convert_kinds[i].type) == len &&
		    strncasecmp(content_type, convert_kinds[i].type, len) == 0)
			return convert_kinds[i].kind;
	}
	for (size_t i = 0; i < sizeof(convert_office_prefixes) / sizeof(convert_office_prefixes[0]);
	     i++) {
		size_t prefix_len = strlen(convert_office_prefixes[i]);
		if (len > prefix_len &&
		    strncasecmp(content_type, convert_office_prefixes[i], prefix_len) == 0)
			return PP_CONVERT_OFFICE;
	}
	return PP_CONVERT_UNSUPPORTED;
}

void convert_analysis_free(pp_convert_analysis_t *analysis)
{
	if (analysis == NULL)
		return;
	free(analysis->page_info);
	memset(analysis, 0, sizeof(*analysis));
}
