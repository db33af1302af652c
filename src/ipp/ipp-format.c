/*
 * ipp-format.c - the document formats the printer takes. A document sent as
 * application/octet-stream is typed by its first bytes (core/doctype.h).
 */
#include "ipp/ipp-private.h"

#include <string.h>
#include <strings.h>

static const char *const ipp_format_list[] = {
	"application/pdf",
	"application/postscript",
	"image/jpeg",
	"image/png",
	"image/pwg-raster",
	"image/urf",
	"text/plain",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/msword",
	"application/vnd.ms-excel",
	"application/vnd.ms-powerpoint",
	"application/vnd.oasis.opendocument.text",
	"application/vnd.oasis.opendocument.spreadsheet",
	"application/vnd.oasis.opendocument.presentation",
	/* Converted too (engine.h, office.h); listed after the common ones because the DNS-SD
	 * pdl key keeps only the first formats that fit. */
	"image/gif",
	"image/tiff",
	"image/bmp",
	"image/webp",
	"image/heic",
	"text/html",
	"application/rtf",
	"application/octet-stream",
};

const char *const *ipp_formats(size_t *count_r)
{
	*count_r = sizeof(ipp_format_list) / sizeof(ipp_format_list[0]);
	return ipp_format_list;
}

bool ipp_format_is_supported(const char *format)
{
	for (size_t i = 0; i < sizeof(ipp_format_list) / sizeof(ipp_format_list[0]); i++) {
		if (strcasecmp(format, ipp_format_list[i]) == 0)
			return true;
	}
	return false;
}
