/*
 * web-files.h - the static web apps (web/portal, web/panel, web/admin, web/common) compiled
 * into the server by scripts/embed-files, and their routes.
 *
 * Each file is served at its path below web/ ("/panel/app.js"); a path ending in "/" serves
 * its index.html, and "/" sends people to the portal. Answers carry an ETag (304 when the
 * client has the file). HTML pages are no-store, so a page that showed a user's jobs is never
 * taken from a cache or the back/forward cache after sign-out; scripts, styles and images are
 * no-cache (always revalidated: a new release is seen at once, at the cost of a 304).
 */
#ifndef PP_WEB_FILES_H
#define PP_WEB_FILES_H

#include "http/http.h"

#include <stddef.h>

typedef struct {
	const char *path;       /* below web/: "panel/index.html" */
	const char *media_type; /* "text/html; charset=utf-8" */
	const char *etag;       /* quoted: "\"0123456789abcdef\"" */
	const unsigned char *data;
	size_t len;
} pp_web_file_t;

/* Generated (web-files.c in the build directory). */
extern const pp_web_file_t web_files[];
extern const size_t web_files_count;

/* The file at path below web/ ("panel/index.html"), or NULL. */
const pp_web_file_t *web_file_find(const char *path);

/* Registers GET / and the prefix routes of the apps. Returns 0 or -1 with error. */
int web_routes_add(pp_http_server_t *http, char *error, size_t error_size);

#endif
