/* doctype.c - recognising a document by its first bytes; see doctype.h. */
#include "core/doctype.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define DOCTYPE_ZIP_HEADER 30u /* a ZIP local file header before its name */
#define DOCTYPE_ZIP_ENTRIES 16 /* entries looked at, at most */

/* True when head starts with the magic bytes. */
static bool doctype_has_magic(const uint8_t *head, size_t len, const char *magic, size_t magic_len)
{
	return len >= magic_len && memcmp(head, magic, magic_len) == 0;
}

/* Little-endian integers inside a window the caller has checked. */
static uint32_t doctype_le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t doctype_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* True when name[0..name_len) starts with prefix. */
static bool doctype_name_has_prefix(const uint8_t *name, size_t name_len, const char *prefix)
{
	size_t n = strlen(prefix);
	return name_len >= n && memcmp(name, prefix, n) == 0;
}

/* OpenDocument: the stored "mimetype" entry's content, matched against the kinds we take. */
static const char *doctype_odf(const uint8_t *data, size_t len)
{
	static const char *const kinds[] = {
	    "application/vnd.oasis.opendocument.text",
	    "application/vnd.oasis.opendocument.spreadsheet",
	    "application/vnd.oasis.opendocument.presentation",
	    "application/vnd.oasis.opendocument.graphics",
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (len == strlen(kinds[i]) && memcmp(data, kinds[i], len) == 0)
			return kinds[i];
	}
	return NULL;
}

/*
 * A ZIP container: walks the local file headers inside the window. Office Open XML is told by
 * its part names (word/, xl/, ppt/), OpenDocument by its first entry "mimetype" (stored,
 * uncompressed, by the standard). Anything else, or a walk that leaves the window, is NULL.
 */
static const char *doctype_zip(const uint8_t *head, size_t len)
{
	size_t pos = 0;
	for (int entry = 0; entry < DOCTYPE_ZIP_ENTRIES; entry++) {
		if (len - pos < DOCTYPE_ZIP_HEADER || !doctype_has_magic(head + pos, len - pos,
									   "PK\x03\x04", 4))
			return NULL;
		const uint8_t *h = head + pos;
		uint32_t flags = doctype_le16(h + 6), method = doctype_le16(h + 8);
		uint32_t csize = doctype_le32(h + 18);
		size_t name_len = doctype_le16(h + 26), extra_len = doctype_le16(h + 28);
		if (len - pos - DOCTYPE_ZIP_HEADER < name_len)
			return NULL;
		const uint8_t *name = h + DOCTYPE_ZIP_HEADER;
		if (doctype_name_has_prefix(name, name_len, "word/"))
			return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
		if (doctype_name_has_prefix(name, name_len, "xl/"))
			return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
		if (doctype_name_has_prefix(name, name_len, "ppt/"))
			return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
		size_t data_at = DOCTYPE_ZIP_HEADER + name_len + extra_len;
		if (entry == 0 && method == 0 && name_len == 8 && memcmp(name, "mimetype", 8) == 0) {
			if (len - pos < data_at || len - pos - data_at < csize)
				return NULL;
			return doctype_odf(h + data_at, csize);
		}
		if (len - pos < data_at)
			return NULL;
		if ((flags & 0x8u) != 0) {
			/* Sizes after the data (flag bit 3, as LibreOffice and many zip writers
			 * do): the next entry is found by its signature. A false match inside
			 * compressed data only makes us look at a wrong name; the converter
			 * checks the type again. */
			const uint8_t *next = memmem(h + data_at, len - pos - data_at, "PK\x03\x04", 4);
			if (next == NULL)
				return NULL;
			pos = (size_t)(next - head);
			continue;
		}
		if (len - pos - data_at < csize)
			return NULL;
		pos += data_at + csize;
	}
	return NULL;
}

static uint32_t doctype_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * BMP: "BM", then a file header whose reserved fields are zero and an info header of one of
 * the sizes Windows and OS/2 define: two letters alone are too common to trust.
 */
static bool doctype_is_bmp(const uint8_t *head, size_t len)
{
	if (len < 18 || !doctype_has_magic(head, len, "BM", 2))
		return false;
	static const uint32_t info_sizes[] = {12, 16, 40, 52, 56, 64, 108, 124};
	uint32_t info = doctype_le32(head + 14);
	if (doctype_le32(head + 6) != 0)
		return false;
	for (size_t i = 0; i < sizeof(info_sizes) / sizeof(info_sizes[0]); i++) {
		if (info == info_sizes[i])
			return doctype_le32(head + 10) >= 14 + info;
	}
	return false;
}

/*
 * HEIF (HEIC photos): an ISO base media file whose first box is "ftyp" naming a HEIF brand,
 * as its major brand or one of the compatible brands inside the window.
 */
static bool doctype_is_heic(const uint8_t *head, size_t len)
{
	static const char *const brands[] = {"heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"};
	if (len < 16 || memcmp(head + 4, "ftyp", 4) != 0)
		return false;
	uint32_t box = doctype_be32(head);
	if (box < 16)
		return false;
	size_t end = box < len ? box : len;
	for (size_t pos = 8; pos + 4 <= end; pos += 4) {
		if (pos == 12)
			continue; /* the minor version, not a brand */
		for (size_t i = 0; i < sizeof(brands) / sizeof(brands[0]); i++) {
			if (memcmp(head + pos, brands[i], 4) == 0)
				return true;
		}
	}
	return false;
}

/*
 * HTML: after a byte-order mark and white space, a doctype or an html, head or body tag
 * (any case).
 */
static bool doctype_is_html(const uint8_t *head, size_t len)
{
	static const char *const starts[] = {"<!doctype html", "<html", "<head", "<body"};
	size_t pos = doctype_has_magic(head, len, "\xef\xbb\xbf", 3) ? 3 : 0;
	while (pos < len && (head[pos] == ' ' || head[pos] == '\t' || head[pos] == '\r' ||
			     head[pos] == '\n' || head[pos] == '\f'))
		pos++;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		size_t n = strlen(starts[i]);
		if (len - pos < n || strncasecmp((const char *)head + pos, starts[i], n) != 0)
			continue;
		/* "<html" must end there: "<htmlfoo" is not HTML. */
		if (len - pos == n || head[pos + n] == '>' || head[pos + n] == ' ' ||
		    head[pos + n] == '\t' || head[pos + n] == '\r' || head[pos + n] == '\n' ||
		    head[pos + n] == '/')
			return true;
	}
	return false;
}

/*
 * UTF-16 text with its byte-order mark (what Windows' Notepad writes): every code unit in
 * the window is printable or white space (surrogates allowed); a cut last unit is fine.
 */
static bool doctype_is_utf16_text(const uint8_t *head, size_t len)
{
	bool little;
	if (doctype_has_magic(head, len, "\xff\xfe", 2))
		little = true;
	else if (doctype_has_magic(head, len, "\xfe\xff", 2))
		little = false;
	else
		return false;
	if (len < 4)
		return false;
	for (size_t i = 2; i + 1 < len; i += 2) {
		uint32_t u = little ? doctype_le16(head + i) : (uint32_t)head[i] << 8 | head[i + 1];
		if (u == '\t' || u == '\n' || u == '\r' || u == '\f')
			continue;
		if (u < 0x20 || (u >= 0x7f && u < 0xa0) || u == 0xfffe || u == 0xffff)
			return false;
	}
	return true;
}

/*
 * True when every byte is printable ASCII, whitespace, or part of a well-formed UTF-8
 * sequence (a sequence cut by the end of the window counts as well-formed).
 */
static bool doctype_is_text(const uint8_t *head, size_t len)
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

/*
 * Text in an 8-bit charset (Latin-1, Windows-1252, KOI8-R …: the engine guesses which): no
 * C0 control byte other than tab, newline, carriage return and form feed, and no DEL. Binary
 * formats have such bytes within their first kilobytes; text has none.
 */
static bool doctype_is_8bit_text(const uint8_t *head, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = head[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f)
			return false;
	}
	return true;
}

const char *doctype_sniff(const uint8_t *head, size_t len)
{
	if (len > DOCTYPE_SNIFF_MAX)
		len = DOCTYPE_SNIFF_MAX;
	if (doctype_has_magic(head, len, "%PDF-", 5))
		return "application/pdf";
	if (doctype_has_magic(head, len, "%!", 2) || doctype_has_magic(head, len, "\x04%!", 3))
		return "application/postscript";
	if (doctype_has_magic(head, len, "\xff\xd8\xff", 3))
		return "image/jpeg";
	if (doctype_has_magic(head, len, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (doctype_has_magic(head, len, "RaS2", 4))
		return "image/pwg-raster";
	if (doctype_has_magic(head, len, "UNIRAST", 8)) /* with its NUL */
		return "image/urf";
	if (doctype_has_magic(head, len, "PK\x03\x04", 4))
		return doctype_zip(head, len);
	if (doctype_has_magic(head, len, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))
		return "application/vnd.ms-office";
	if (doctype_has_magic(head, len, "GIF87a", 6) || doctype_has_magic(head, len, "GIF89a", 6))
		return "image/gif";
	if (doctype_has_magic(head, len, "II*\0", 4) || doctype_has_magic(head, len, "MM\0*", 4))
		return "image/tiff";
	if (doctype_is_bmp(head, len))
		return "image/bmp";
	if (len >= 12 && doctype_has_magic(head, len, "RIFF", 4) && memcmp(head + 8, "WEBP", 4) == 0)
		return "image/webp";
	if (doctype_is_heic(head, len))
		return "image/heic";
	if (doctype_has_magic(head, len, "{\\rtf", 5))
		return "application/rtf";
	if (doctype_is_html(head, len))
		return "text/html";
	if (doctype_is_utf16_text(head, len))
		return "text/plain";
	if (doctype_is_text(head, len) || doctype_is_8bit_text(head, len))
		return "text/plain";
	return NULL;
}
