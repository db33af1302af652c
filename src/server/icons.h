/*
 * icons.h - the printer icon, served at /icons/printer-48.png, printer-128.png and
 * printer-512.png on every listener, without authentication.
 *
 * IPP clients show it next to the printer (printer-icons, AirPrint's TXT record points at
 * it), and so can the web portal. The PNGs are drawn by scripts/make-icons, checked in under
 * data/icons/ and compiled into the program, so the server needs no data directory for them.
 * Answers carry an ETag (a hash of the bytes) and a week-long Cache-Control; a request with
 * a matching If-None-Match gets 304.
 */
#ifndef PP_ICONS_H
#define PP_ICONS_H

#include "http/http.h"

#include <stddef.h>

/* The URL path prefix of the icons; the files below it are printer-<size>.png. */
#define ICONS_PATH "/icons/"

/*
 * Registers GET /icons/ (a prefix route; unknown names answer 404) on http. Before
 * http_server_start() only. Returns 0 or -1 with error.
 */
int icons_add(pp_http_server_t *http, char *error, size_t error_size);

#endif
