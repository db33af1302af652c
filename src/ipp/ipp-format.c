/*
 * ipp-format.c - the document formats the printer takes, and recognising a document by its
 * first bytes when the client sends application/octet-stream. Nothing beyond those bytes is
 * looked at: parsing documents is the converter's job, in its sandbox.
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

/* True when head starts with the magic bytes. */
static bool ipp_format_has_magic(const uint8_t *head, size_t len, const char *magic,
				 size_t magic_len)
{
	return len >= magic_len && memcmp(head, magic, magic_len) == 0;
}

/*
 * True when every byte is printable ASCII, whitespace, or part of a well-formed UTF-8
 * sequence (a sequence cut by the end of the window counts as well-formed).
 */
static bool ipp_format_is_text(const uint8_t *head, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len;) {
		uint8_t c = head[i];
		if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || (c >= 0x20 && c < 0x7f)) {
			i++;
			continue;
		}
		size_t follow = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
		if (follow == 0 || c == 0xc0 || c == 0xc1)
			return false;
		for (size_t k = 1; k <= follow; k++) {
			if (i + k >= len)
				return true;
			if ((head[i + k] & 0xc0) != 0x80)
				return false;
		}
		i += follow + 1;
	}
	return true;
}

const char *ipp_format_sniff(const uint8_t *head, size_t len)
{
	if (ipp_format_has_magic(head, len, "%PDF-", 5))
		return "application/pdf";
	if (ipp_format_has_magic(head, len, "%!", 2) ||
	    ipp_format_has_magic(head, len, "\x04%!", 3))
		return "application/postscript";
	if (ipp_format_has_magic(head, len, "\xff\xd8\xff", 3))
		return "image/jpeg";
	if (ipp_format_has_magic(head, len, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (ipp_format_has_magic(head, len, "RaS2", 4))
		return "image/pwg-raster";
	if (ipp_format_has_magic(head, len, "UNIRAST", 8)) /* with its NUL */
		return "image/urf";
	if (ipp_format_is_text(head, len))
		return "text/plain";
	return NULL;
}
