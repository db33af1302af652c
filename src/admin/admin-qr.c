/*
 * admin-qr.c - the QR code of a printer's panel URL, for the admin to print and stick on
 * the printer. libqrencode makes the symbol; this file only draws its dark modules as SVG
 * rectangles (one per horizontal run), with no script and no style attribute, so the
 * console can insert it under its strict Content-Security-Policy.
 *
 * libqrencode is loaded with dlopen() on the first QR code (like libpq in db/db-pq.c): the
 * server draws one when an admin asks for a printer's sticker, so it does not link the
 * library and an idle server does not map it. The compiler still checks both calls against
 * <qrencode.h>.
 */
#include "admin/admin.h"

#include "lib/str.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_QR_QUIET 4 /* modules of white border the standard asks for */
#define ADMIN_QR_LIBRARY "libqrencode.so.4" /* Debian's libqrencode4 */

/* The two libqrencode functions used; each field has the function's own type. */
typedef struct {
	__typeof__(QRcode_encodeString8bit) *encode;
	__typeof__(QRcode_free) *free;
} admin_qr_api_t;

/*
 * Filled once by admin_qr_load() under pthread_once, read-only afterwards: dlopen() is
 * process-wide by nature, so this is the file's one piece of process state.
 */
typedef struct {
	pthread_once_t once;
	bool is_loaded;
	char error[256];
	admin_qr_api_t api;
} admin_qr_state_t;

static admin_qr_state_t admin_qr_state = {.once = PTHREAD_ONCE_INIT};

static void admin_qr_load(void)
{
	/* Kept open for the life of the process: a cheap library, used again later. */
	void *lib = dlopen(ADMIN_QR_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		const char *why = dlerror();
		(void)str_format(admin_qr_state.error, sizeof(admin_qr_state.error),
				 "qr: QR codes need %s (apt-get install libqrencode4): %s",
				 ADMIN_QR_LIBRARY, why != NULL ? why : "not found");
		return;
	}
	/* As db/db-pq.c: ISO C has no cast from dlsym's void * to a function pointer. */
	void **encode = (void **)&admin_qr_state.api.encode;
	void **release = (void **)&admin_qr_state.api.free;
	*encode = dlsym(lib, "QRcode_encodeString8bit");
	*release = dlsym(lib, "QRcode_free");
	if (*encode == NULL || *release == NULL) {
		(void)str_format(admin_qr_state.error, sizeof(admin_qr_state.error),
				 "qr: %s lacks QRcode_encodeString8bit or QRcode_free: install a "
				 "current libqrencode4",
				 ADMIN_QR_LIBRARY);
		return;
	}
	admin_qr_state.is_loaded = true;
}

/* The table, loading libqrencode on the first call (thread-safe); NULL with error if missing. */
static const admin_qr_api_t *admin_qr_api(char *error, size_t error_size)
{
	if (pthread_once(&admin_qr_state.once, admin_qr_load) != 0) {
		(void)str_format(error, error_size, "qr: cannot load %s", ADMIN_QR_LIBRARY);
		return NULL;
	}
	if (!admin_qr_state.is_loaded) {
		(void)str_copy(error, error_size, admin_qr_state.error);
		return NULL;
	}
	return &admin_qr_state.api;
}

int admin_qr_svg(const char *text, char **svg_r, char *error, size_t error_size)
{
	*svg_r = NULL;
	if (text == NULL || text[0] == '\0') {
		(void)str_format(error, error_size, "qr: nothing to encode");
		return -1;
	}
	const admin_qr_api_t *api = admin_qr_api(error, error_size);
	if (api == NULL)
		return -1;
	errno = 0;
	QRcode *qr = api->encode(text, 0, QR_ECLEVEL_M);
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
	api->free(qr);
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
