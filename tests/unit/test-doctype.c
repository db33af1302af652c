/*
 * test-doctype.c - typing documents by content: each format the server takes is recognised
 * from its first bytes, ZIP containers by their entries, and anything else is refused
 * (NULL) rather than guessed; nothing reads past the window it is given.
 */
#include "test-support.h"

#include "core/doctype.h"

#include <stdlib.h>
#include <string.h>

/* Appends a stored ZIP local file header with name and data to buf at *len. */
static void zip_entry(uint8_t *buf, size_t *len, const char *name, const char *data, uint16_t flags)
{
	size_t name_len = strlen(name), data_len = strlen(data);
	uint8_t *h = buf + *len;
	memset(h, 0, 30);
	memcpy(h, "PK\x03\x04", 4);
	h[4] = 20;
	h[6] = (uint8_t)flags;
	h[18] = (uint8_t)data_len; /* compressed size */
	h[19] = (uint8_t)(data_len >> 8);
	h[22] = (uint8_t)data_len; /* uncompressed size */
	h[23] = (uint8_t)(data_len >> 8);
	h[26] = (uint8_t)name_len;
	memcpy(h + 30, name, name_len);
	memcpy(h + 30 + name_len, data, data_len);
	*len += 30 + name_len + data_len;
}

typedef struct {
	const char *bytes;
	size_t len;
	const char *type;
} sniff_case_t;

static const sniff_case_t sniff_cases[] = {
	{"%PDF-1.7\n", 9, "application/pdf"},
	{"%!PS-Adobe-3.0\n", 15, "application/postscript"},
	{"\x04%!PS", 5, "application/postscript"},
	{"\xff\xd8\xff\xe0\x00\x10JFIF", 10, "image/jpeg"},
	{"\x89PNG\r\n\x1a\n\0\0", 10, "image/png"},
	{"RaS2PwgRaster", 13, "image/pwg-raster"},
	{"UNIRAST\0\x01", 9, "image/urf"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", 10, "application/vnd.ms-office"},
	{"Hello, world.\nZweite Zeile \xc3\xa4.\n", 31, "text/plain"},
	{"cut UTF-8 at the end \xe2\x82", 23, "text/plain"},
	{"GIF89a\x10\0\x10\0", 10, "image/gif"},
	{"GIF87a\x01\0", 8, "image/gif"},
	{"GIF90a\x01\0", 8, NULL},
	{"II*\0\x08\0\0\0", 8, "image/tiff"},
	{"MM\0*\0\0\0\x08", 8, "image/tiff"},
	/* BMP: file header (size, reserved 0, pixel offset 54) and a 40-byte info header */
	{"BM\x36\x10\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0", 18, "image/bmp"},
	{"BM\x36\x10\0\0\0\0\0\0\x36\0\0\0\x29\0\0\0", 18, NULL}, /* no such info header */
	{"BMW Isetta\n", 11, "text/plain"},                                  /* just letters */
	{"RIFF\x24\0\0\0WEBPVP8 ", 16, "image/webp"},
	{"RIFF\x24\0\0\0WAVEfmt ", 16, NULL},
	{"\0\0\0\x18" "ftypheic\0\0\0\0mif1heic", 24, "image/heic"},
	{"\0\0\0\x18" "ftypmif1\0\0\0\0mif1heix", 24, "image/heic"},
	{"\0\0\0\x14" "ftypmsf1\0\0\0\0hevc", 20, "image/heic"},
	{"\0\0\0\x18" "ftypisom\0\0\0\0isomavc1", 24, NULL}, /* an MP4 video */
	{"\0\0\0\x10" "ftypisom\0\0\0\0heic", 20, NULL},     /* brand outside the box */
	{"<!DOCTYPE html>\n<html>", 22, "text/html"},
	{"\xef\xbb\xbf \r\n<HTML lang=de>", 20, "text/html"},
	{"\t<head><title>x</title>", 24, "text/html"},
	{"<body>", 6, "text/html"},
	{"<html", 5, "text/html"},
	{"<htmlish>", 9, "text/plain"},
	{"<!doctype HTML><p>caf\xe9</p>", 26, "text/html"}, /* Latin-1 inside */
	{"<?xml version=\"1.0\"?><svg/>", 27, "text/plain"},
	{"{\\rtf1\\ansi\\deff0", 16, "application/rtf"},
	{"{\\rtx", 5, "text/plain"},
	{"\xff\xfeH\0i\0 \0\xe9\0\n\0", 12, "text/plain"},
	{"\xfe\xff\0H\0i", 6, "text/plain"},
	{"\xff\xfe\x01\0\x02\0", 6, NULL},
	{"overlong \xc0\xaf", 11, "text/plain"}, /* not UTF-8, but fine 8-bit text */
	{"caf\xe9 cr\xe8me br\xfbl\xe9" "e\r\n", 19, "text/plain"}, /* Latin-1 */
	{"\xd0\xd2\xc9\xd7\xc5\xd4\n", 7, "text/plain"},          /* KOI8-R */
	{"bin\x01ary \xe9", 11, NULL},                           /* a control byte */
	{"del\x7f", 4, NULL},
	{"PK\x03\x04\x14\0", 6, NULL}, /* a ZIP header cut short */
	{"\0\0\0\0", 4, NULL},
	{"", 0, NULL},
};

static void test_doctype_magic(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sniff_cases) / sizeof(sniff_cases[0]); i++) {
		const sniff_case_t *c = &sniff_cases[i];
		const char *type = doctype_sniff((const uint8_t *)c->bytes, c->len);
		if ((type == NULL) != (c->type == NULL) ||
		    (type != NULL && strcmp(type, c->type) != 0))
			fail_msg("row %zu: %s, want %s", i, type ? type : "none",
				 c->type ? c->type : "none");
	}
}

/* Office Open XML by its part names; OpenDocument by its mimetype entry; other ZIPs refused. */
static void test_doctype_zip(void **state)
{
	(void)state;
	static uint8_t buf[DOCTYPE_SNIFF_MAX];
	size_t len = 0;
	zip_entry(buf, &len, "[Content_Types].xml", "<Types/>", 0);
	zip_entry(buf, &len, "_rels/.rels", "<Relationships/>", 0);
	zip_entry(buf, &len, "word/document.xml", "<w:document/>", 0);
	assert_string_equal(doctype_sniff(buf, len),
			    "application/vnd.openxmlformats-officedocument.wordprocessingml.document");

	len = 0;
	zip_entry(buf, &len, "[Content_Types].xml", "<Types/>", 0);
	zip_entry(buf, &len, "xl/workbook.xml", "<workbook/>", 0);
	assert_string_equal(doctype_sniff(buf, len),
			    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");

	len = 0;
	zip_entry(buf, &len, "ppt/presentation.xml", "<p/>", 0);
	assert_string_equal(doctype_sniff(buf, len),
			    "application/vnd.openxmlformats-officedocument.presentationml.presentation");

	len = 0;
	zip_entry(buf, &len, "mimetype", "application/vnd.oasis.opendocument.text", 0);
	zip_entry(buf, &len, "content.xml", "<office:document-content/>", 0);
	assert_string_equal(doctype_sniff(buf, len), "application/vnd.oasis.opendocument.text");
	/* The same entry cut by the window: not guessed. */
	assert_null(doctype_sniff(buf, 30 + 8 + 10));

	len = 0;
	zip_entry(buf, &len, "mimetype", "application/epub+zip", 0);
	assert_null(doctype_sniff(buf, len));

	/* An archive of something else. */
	len = 0;
	zip_entry(buf, &len, "photos/cat.jpg", "\xff\xd8\xff", 0);
	assert_null(doctype_sniff(buf, len));

	/* Sizes after the data (bit 3, as LibreOffice writes a .docx): the next entry is found
	 * by its signature behind the data and its descriptor. */
	len = 0;
	zip_entry(buf, &len, "[Content_Types].xml", "<Types/>", 0x8);
	static const uint8_t descriptor[16] = {'P', 'K', 7, 8}; /* signature, crc, sizes */
	memcpy(buf + len, descriptor, sizeof(descriptor));
	len += sizeof(descriptor);
	zip_entry(buf, &len, "word/document.xml", "", 0);
	assert_string_equal(doctype_sniff(buf, len),
			    "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
	len = 0;
	zip_entry(buf, &len, "[Content_Types].xml", "<Types/>", 0x8);
	assert_null(doctype_sniff(buf, len)); /* no next entry in the window */

	/* Only the window is read: a part name past DOCTYPE_SNIFF_MAX is not seen. */
	static char filler[DOCTYPE_SNIFF_MAX];
	memset(filler, 'x', sizeof(filler) - 1);
	len = 0;
	zip_entry(buf, &len, "a", "", 0);
	uint8_t *big = malloc(2 * DOCTYPE_SNIFF_MAX);
	assert_non_null(big);
	memcpy(big, buf, len);
	size_t big_len = len;
	/* a stored entry whose data fills the window, then a word/ part beyond it */
	uint8_t *h = big + big_len;
	memset(h, 0, 30);
	memcpy(h, "PK\x03\x04", 4);
	size_t data_len = DOCTYPE_SNIFF_MAX;
	h[18] = (uint8_t)data_len;
	h[19] = (uint8_t)(data_len >> 8);
	h[26] = 1;
	h[30] = 'b';
	big_len += 31;
	memset(big + big_len, 'x', 2 * DOCTYPE_SNIFF_MAX - big_len);
	assert_null(doctype_sniff(big, 2 * DOCTYPE_SNIFF_MAX));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doctype_magic),
	    cmocka_unit_test(test_doctype_zip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
