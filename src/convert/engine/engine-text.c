/*
 * engine-text.c - plain text and HTML (mail bodies) laid out on the default page by MuPDF's
 * HTML engine. Both are made UTF-8 first: a byte-order mark decides, then valid UTF-8 stays,
 * then an HTML document's declared charset, then uchardet's guess; iconv converts, and
 * sequences invalid in that charset become U+FFFD. Text is escaped into one preformatted,
 * wrapping monospace block.
 *
 * MuPDF gets the HTML as a "story" with no archive: nothing the document names (images,
 * style sheets, by relative path, absolute path or file: URL) is read; only data: URLs,
 * which are part of the document, show.
 */
#include "convert/engine/engine-private.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet.h>

#define ENGINE_TEXT_MAX_BYTES ((size_t)64 << 20) /* text and HTML input */
#define ENGINE_TEXT_FONT_PT 10.0f
#define ENGINE_CHARSET_MAX 48
#define ENGINE_META_WINDOW 4096 /* where an HTML charset declaration is looked for */

/* A growable byte buffer that refuses to grow past max. */
typedef struct {
	char *data;
	size_t len, cap, max;
} text_buf_t;

static bool text_buf_append(text_buf_t *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return false;
	if (b->cap - b->len < n + 1) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;
		while (cap - b->len < n + 1)
			cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
		char *grown = realloc(b->data, cap);
		if (grown == NULL)
			return false;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

static bool text_buf_puts(text_buf_t *b, const char *s)
{
	return text_buf_append(b, s, strlen(s));
}

/* True when data is valid UTF-8 (no overlong forms or surrogates). */
static bool engine_is_utf8(const uint8_t *d, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint8_t c = d[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t follow = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 0;
		if (follow == 0 || c < 0xc2 || c > 0xf4 || len - i <= follow)
			return false;
		for (size_t k = 1; k <= follow; k++) {
			if ((d[i + k] & 0xc0) != 0x80)
				return false;
		}
		if ((c == 0xe0 && d[i + 1] < 0xa0) || (c == 0xed && d[i + 1] >= 0xa0) ||
		    (c == 0xf0 && d[i + 1] < 0x90) || (c == 0xf4 && d[i + 1] >= 0x90))
			return false;
		i += follow + 1;
	}
	return true;
}

/* The charset an HTML document declares (charset=… in its first bytes), or false. */
static bool engine_html_declared_charset(const uint8_t *d, size_t len, char *charset, size_t size)
{
	size_t window = len < ENGINE_META_WINDOW ? len : ENGINE_META_WINDOW;
	for (size_t i = 0; i + 8 <= window; i++) {
		if (strncasecmp((const char *)d + i, "charset=", 8) != 0)
			continue;
		size_t p = i + 8, o = 0;
		while (p < window && (d[p] == '"' || d[p] == '\'' || d[p] == ' '))
			p++;
		while (p < window && o + 1 < size &&
		       ((d[p] >= 'a' && d[p] <= 'z') || (d[p] >= 'A' && d[p] <= 'Z') ||
			(d[p] >= '0' && d[p] <= '9') || d[p] == '-' || d[p] == '_' || d[p] == ':' ||
			d[p] == '.'))
			charset[o++] = (char)d[p++];
		charset[o] = '\0';
		return o > 0;
	}
	return false;
}

/* uchardet's guess for d; windows-1252 when it has none (the commonest legacy mail text). */
static void engine_guess_charset(const uint8_t *d, size_t len, char *charset, size_t size)
{
	const char *guess = NULL;
	uchardet_t ud = uchardet_new();
	if (ud != NULL && uchardet_handle_data(ud, (const char *)d, len) == 0) {
		uchardet_data_end(ud);
		guess = uchardet_get_charset(ud);
	}
	if (guess == NULL || guess[0] == '\0' || strcasecmp(guess, "ASCII") == 0)
		guess = strcasecmp(guess != NULL ? guess : "", "ASCII") == 0 ? "UTF-8" : "WINDOWS-1252";
	size_t n = strlen(guess);
	if (n >= size)
		guess = "WINDOWS-1252", n = strlen(guess);
	memcpy(charset, guess, n + 1);
	if (ud != NULL)
		uchardet_delete(ud);
}

/*
 * Converts d (in charset) to UTF-8 appended to out; invalid or cut sequences become U+FFFD.
 * Returns 0 or -1 with a reason (unknown charset: the caller falls back).
 */
static int engine_to_utf8(const uint8_t *d, size_t len, const char *charset, text_buf_t *out,
			  char *error, size_t error_size)
{
	static const char replacement[] = "\xef\xbf\xbd";
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return engine_fail(error, error_size, "The text's character set is unknown.");
	size_t unit = strncasecmp(charset, "UTF-16", 6) == 0 ? 2 : strncasecmp(charset, "UTF-32", 6) == 0 ? 4 : 1;
	char chunk[16384];
	char *in = (char *)(uintptr_t)d;
	size_t in_left = len;
	int rc = 0;
	while (in_left > 0) {
		char *o = chunk;
		size_t o_left = sizeof(chunk);
		size_t r = iconv(cd, &in, &in_left, &o, &o_left);
		int saved = errno;
		if (!text_buf_append(out, chunk, sizeof(chunk) - o_left)) {
			rc = engine_fail(error, error_size, "The text is too long to print.");
			break;
		}
		if (r != (size_t)-1 || saved == E2BIG)
			continue;
		/* EILSEQ: skip one unit; EINVAL: the text ends inside a character. */
		if (!text_buf_append(out, replacement, 3)) {
			rc = engine_fail(error, error_size, "The text is too long to print.");
			break;
		}
		if (saved != EILSEQ)
			break;
		size_t skip = in_left < unit ? in_left : unit;
		in += skip;
		in_left -= skip;
	}
	(void)iconv_close(cd);
	return rc;
}

/* Makes d UTF-8 in out, choosing the charset as the file comment says. Returns 0 or -1. */
static int engine_text_decode(const uint8_t *d, size_t len, bool is_html, text_buf_t *out,
			      char *error, size_t error_size)
{
	char charset[ENGINE_CHARSET_MAX];
	size_t start = out->len;
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) {
		d += 3, len -= 3;
		memcpy(charset, "UTF-8", 6);
	} else if (len >= 2 && d[0] == 0xff && d[1] == 0xfe) {
		d += 2, len -= 2;
		memcpy(charset, "UTF-16LE", 9);
	} else if (len >= 2 && d[0] == 0xfe && d[1] == 0xff) {
		d += 2, len -= 2;
		memcpy(charset, "UTF-16BE", 9);
	} else if (engine_is_utf8(d, len)) {
		memcpy(charset, "UTF-8", 6);
	} else if (!is_html || !engine_html_declared_charset(d, len, charset, sizeof(charset))) {
		engine_guess_charset(d, len, charset, sizeof(charset));
	}
	if (engine_to_utf8(d, len, charset, out, error, error_size) == 0)
		return 0;
	/* A charset iconv does not know (a typo in a declaration): guess instead. */
	out->len = start;
	engine_guess_charset(d, len, charset, sizeof(charset));
	if (engine_to_utf8(d, len, charset, out, error, error_size) == 0)
		return 0;
	out->len = start;
	return engine_to_utf8(d, len, "WINDOWS-1252", out, error, error_size);
}

/*
 * Escapes UTF-8 text into the body of an XHTML <pre>: markup characters as entities, tabs
 * to the next multiple of 8 columns, CR LF and CR as LF, form feeds as a new line, other
 * control characters dropped (XML forbids them).
 */
static bool engine_text_escape(const char *s, size_t len, text_buf_t *out)
{
	static const char spaces[] = "        ";
	size_t column = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = true;
		if (c == '&')
			ok = text_buf_puts(out, "&amp;");
		else if (c == '<')
			ok = text_buf_puts(out, "&lt;");
		else if (c == '>')
			ok = text_buf_puts(out, "&gt;");
		else if (c == '\t')
			ok = text_buf_append(out, spaces, 8 - column % 8), column += 8 - column % 8;
		else if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		else if (c == '\n' || c == '\r' || c == '\f')
			ok = text_buf_puts(out, "\n"), column = 0;
		else if (c < 0x20 || c == 0x7f)
			continue;
		else
			ok = text_buf_append(out, &s[i], 1);
		if (!ok)
			return false;
		/* Columns count characters: UTF-8 continuation bytes do not start one. */
		if (c != '\t' && c != '\n' && c != '\r' && c != '\f' && (c & 0xc0) != 0x80)
			column++;
	}
	return true;
}

/*
 * Copies UTF-8 HTML to out with every charset declaration in its head (charset=NAME within
 * the first ENGINE_META_WINDOW bytes) saying utf-8: MuPDF obeys an http-equiv declaration,
 * and the text is UTF-8 now whatever it was.
 */
static bool engine_html_redeclare(const text_buf_t *in, text_buf_t *out)
{
	const char *d = in->data;
	size_t window = in->len < ENGINE_META_WINDOW ? in->len : ENGINE_META_WINDOW, copied = 0;
	for (size_t i = 0; i + 8 <= window; i++) {
		if (strncasecmp(d + i, "charset=", 8) != 0)
			continue;
		size_t p = i + 8;
		while (p < in->len && (d[p] == '"' || d[p] == '\'' || d[p] == ' '))
			p++;
		size_t end = p;
		while (end < in->len && d[end] != '"' && d[end] != '\'' && d[end] != ' ' &&
		       d[end] != ';' && d[end] != '>' && d[end] != '/')
			end++;
		if (!text_buf_append(out, d + copied, p - copied) || !text_buf_puts(out, "utf-8"))
			return false;
		copied = end;
		i = end > i ? end - 1 : i;
	}
	return text_buf_append(out, d + copied, in->len - copied);
}

/* Lays html (UTF-8, borrowed) out page after page into a PDF at out_path. 0 or -1. */
static int engine_story_to_pdf(fz_context *ctx, const char *html, size_t len,
			       const engine_limits_t *limits, const char *out_path, char *error,
			       size_t error_size)
{
	fz_buffer *volatile buf = NULL;
	fz_story *volatile story = NULL;
	fz_document_writer *volatile wri = NULL;
	volatile bool too_long = false;
	int rc = 0;
	fz_try(ctx)
	{
		buf = fz_new_buffer_from_copied_data(ctx, (const unsigned char *)html, len);
		/* No archive: links to files or URLs resolve to nothing. */
		story = fz_new_story(ctx, buf, "body { margin: 0; }", ENGINE_TEXT_FONT_PT, NULL);
		wri = engine_pdf_writer_new(ctx, out_path);
		fz_rect page = fz_make_rect(0, 0, limits->page_width_pt, limits->page_height_pt);
		fz_rect where = fz_make_rect(ENGINE_TEXT_MARGIN_PT, ENGINE_TEXT_MARGIN_PT,
					     limits->page_width_pt - ENGINE_TEXT_MARGIN_PT,
					     limits->page_height_pt - ENGINE_TEXT_MARGIN_PT);
		if (where.x1 - where.x0 < 72 || where.y1 - where.y0 < 72)
			where = page;
		unsigned pages = 0;
		int more = 1;
		while (more) {
			/* Also ends a story that never finishes placing (MuPDF corner cases). */
			if (pages >= limits->max_pages) {
				too_long = true;
				fz_throw(ctx, FZ_ERROR_GENERIC, "too many pages");
			}
			fz_rect filled;
			more = fz_place_story(ctx, story, where, &filled);
			fz_device *dev = fz_begin_page(ctx, wri, page);
			fz_draw_story(ctx, story, dev, fz_identity);
			fz_end_page(ctx, wri);
			pages++;
		}
		fz_close_document_writer(ctx, wri);
	}
	fz_always(ctx)
	{
		fz_drop_document_writer(ctx, wri);
		fz_drop_story(ctx, story);
		fz_drop_buffer(ctx, buf);
	}
	fz_catch(ctx)
	{
		if (too_long)
			rc = engine_fail(error, error_size,
					 "The document has more than %u pages; at most %u can be "
					 "printed: split it and send the parts.",
					 limits->max_pages, limits->max_pages);
		else
			rc = engine_fail(error, error_size,
					 "The document could not be laid out: it is damaged or too "
					 "complex.");
	}
	return rc;
}

int engine_text_to_pdf(fz_context *ctx, const char *in_path, bool is_html,
		       const engine_limits_t *limits, const char *out_path, char *error,
		       size_t error_size)
{
	const uint8_t *data = NULL;
	size_t len = 0;
	if (engine_map_file(in_path, ENGINE_TEXT_MAX_BYTES, &data, &len, error, error_size) != 0)
		return -1;
	/* UTF-8 takes at most three bytes for any one input byte (U+FFFD for a bad one). */
	text_buf_t utf8 = {.max = len * 3 + 16};
	text_buf_t html = {.max = len * 3 * 6 + 2 * ENGINE_META_WINDOW};
	int rc = engine_text_decode(data, len, is_html, &utf8, error, error_size);
	engine_unmap(data, len);
	if (rc == 0 && utf8.data == NULL && !text_buf_puts(&utf8, ""))
		rc = engine_fail(error, error_size, "The converter ran out of memory.");
	if (rc == 0 && is_html && !engine_html_redeclare(&utf8, &html))
		rc = engine_fail(error, error_size, "The document is too long to print.");
	if (rc == 0 && !is_html) {
		bool ok = text_buf_puts(&html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
					       "</head><body><pre style=\"white-space:pre-wrap;"
					       "font-family:monospace;font-size:10pt;margin:0\">") &&
			  engine_text_escape(utf8.data, utf8.len, &html) &&
			  text_buf_puts(&html, "</pre></body></html>");
		if (!ok)
			rc = engine_fail(error, error_size, "The text is too long to print.");
	}
	if (rc == 0) {
		const text_buf_t *doc = &html;
		rc = engine_story_to_pdf(ctx, doc->data, doc->len, limits, out_path, error,
					 error_size);
	}
	free(utf8.data);
	free(html.data);
	return rc;
}
