/*
 * admin-qr.c - the QR code of a printer's panel URL, for the admin to print and stick on
 * the printer. libqrencode makes the symbol; this file only draws its dark modules as SVG
 * rectangles (one per horizontal run), with no script and no style attribute, so the
 * console can insert it under its strict Content-Security-Policy.
 */
#include "admin/admin.h"

#include "lib/str.h"

#include <errno.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_QR_QUIET 4 /* modules of white border the standard asks for */

int admin_qr_svg(const char *text, char **svg_r, char *error, size_t error_size)
{
	*svg_r = NULL;
	if (text == NULL || text[0] == '\0') {
		(void)str_format(error, error_size, "qr: nothing to encode");
		return -1;
	}
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	if (qr == NULL) {
		(void)str_format(error, error_size, "qr: cannot encode the URL (%s)",
				 errno == ERANGE ? "too long for a QR code" : "out of memory");
		return -1;
	}
	int size = qr->width + 2 * ADMIN_QR_QUIET;
	pp_admin_buf_t *buf = admin_buf_new(4u * 1024u * 1024u);
	char piece[256];
	bool is_ok = buf != NULL &&
		     str_format(piece, sizeof(piece),
				"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
				"width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
				"<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>",
				size, size, size * 4, size * 4, size, size) &&
		     admin_buf_append(buf, piece, strlen(piece));
	for (int y = 0; is_ok && y < qr->width; y++) {
		int x = 0;
		while (is_ok && x < qr->width) {
			/* bit 0 of each byte is the module's colour: 1 = dark */
			if ((qr->data[y * qr->width + x] & 1) == 0) {
				x++;
				continue;
			}
			int start = x;
			while (x < qr->width && (qr->data[y * qr->width + x] & 1) != 0)
				x++;
			is_ok = str_format(piece, sizeof(piece),
					   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"1\" "
					   "fill=\"#000000\"/>",
					   start + ADMIN_QR_QUIET, y + ADMIN_QR_QUIET, x - start) &&
				admin_buf_append(buf, piece, strlen(piece));
		}
	}
	QRcode_free(qr);
	is_ok = is_ok && admin_buf_append(buf, "</svg>", 6);
	if (!is_ok) {
		admin_buf_free(&buf);
		(void)str_format(error, error_size, "qr: out of memory");
		return -1;
	}
	size_t len;
	const char *text_out = admin_buf_text(buf, &len);
	*svg_r = strdup(text_out);
	admin_buf_free(&buf);
	if (*svg_r == NULL) {
		(void)str_format(error, error_size, "qr: out of memory");
		return -1;
	}
	return 0;
}
