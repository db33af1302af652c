/* web-routes.c - serves the compiled-in web apps; see web-files.h. */
#include "server/web-files.h"

#include "lib/str.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define WEB_PATH_MAX 512

/* The apps and the shared folder, each served below "/<name>/". */
static const char *const web_apps[] = { "portal", "panel", "admin", "common" };

const pp_web_file_t *web_file_find(const char *path)
{
	if (path == NULL)
		return NULL;
	for (size_t i = 0; i < web_files_count; i++) {
		if (strcmp(web_files[i].path, path) == 0)
			return &web_files[i];
	}
	return NULL;
}

/* True when an If-None-Match value names etag (or is "*"): the client's copy is current. */
static bool web_is_current(const char *if_none_match, const char *etag)
{
	if (if_none_match == NULL)
		return false;
	return strcmp(if_none_match, "*") == 0 || strstr(if_none_match, etag) != NULL;
}

static void web_redirect(pp_http_request_t *req, const char *location)
{
	if (http_response_header(req, "Location", location) < 0) {
		(void)http_respond_error(req, 500, "internal_error",
					 "The redirect could not be sent; see the server log.");
		return;
	}
	(void)http_respond_bytes(req, 302, "text/plain; charset=utf-8", "", 0);
}

/* GET / : people who type the server's name land on the portal. */
static void web_get_root(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	web_redirect(req, "/portal/");
}

/* GET /favicon.ico: browsers ask for it on their own; the printer icon answers. */
static void web_get_favicon(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	web_redirect(req, "/icons/printer-48.png");
}

/* GET /portal (no slash): relative links in the app need the folder form. */
static void web_get_app_bare(pp_http_request_t *req, void *ctx)
{
	const char *app = ctx;
	char location[64];
	if (!str_format(location, sizeof(location), "/%s/", app)) {
		(void)http_respond_error(req, 500, "internal_error", "Bad app name.");
		return;
	}
	web_redirect(req, location);
}

/* GET /<app>/<file>: the file, its folder's index.html for "…/", 304 when current. */
static void web_get_file(pp_http_request_t *req, void *ctx)
{
	const char *app = ctx;
	const char *sub = http_request_subpath(req);
	size_t sub_len = strlen(sub);
	bool folder = sub_len == 0 || sub[sub_len - 1] == '/';
	char path[WEB_PATH_MAX];
	if (!str_format(path, sizeof(path), "%s/%s%s", app, sub, folder ? "index.html" : "")) {
		(void)http_respond_error(req, 404, "not_found", "No such page.");
		return;
	}
	const pp_web_file_t *file = web_file_find(path);
	if (file == NULL) {
		(void)http_respond_error(req, 404, "not_found",
					 "No such page. The apps are at /portal/, /panel/ and "
					 "/admin/.");
		return;
	}
	bool page = str_has_prefix(file->media_type, "text/html");
	if (http_response_header(req, "ETag", file->etag) < 0 ||
	    http_response_header(req, "Cache-Control", page ? "no-store" : "no-cache") < 0) {
		(void)http_respond_error(req, 500, "internal_error",
					 "The page could not be sent; see the server log.");
		return;
	}
	if (!page && web_is_current(http_request_header(req, "If-None-Match"), file->etag)) {
		(void)http_respond_bytes(req, 304, NULL, "", 0);
		return;
	}
	(void)http_respond_bytes(req, 200, file->media_type, file->data, file->len);
}

/*
 * POST /portal/share: Android's share sheet posts here. The portal's service worker answers
 * it in the browser (it uploads the files through the API); this route meets the share only
 * before the worker is active, and sends the person to the portal with a note instead of an
 * error page. The body is read and dropped as it comes (nothing is stored without a session).
 */
static int web_share_body(pp_http_request_t *req, const uint8_t *data, size_t len, void *ctx)
{
	(void)req;
	(void)data;
	(void)len;
	(void)ctx;
	return 0;
}

static void web_post_share(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	if (http_response_header(req, "Location", "/portal/?shared=retry") < 0) {
		(void)http_respond_error(req, 500, "internal_error",
					 "The redirect could not be sent; see the server log.");
		return;
	}
	(void)http_respond_bytes(req, 303, "text/plain; charset=utf-8", "", 0);
}

int web_routes_add(pp_http_server_t *http, char *error, size_t error_size)
{
	if (http_route(http, "GET", "/", 0, web_get_root, NULL, NULL, error, error_size) < 0 ||
	    http_route(http, "GET", "/favicon.ico", 0, web_get_favicon, NULL, NULL, error,
		       error_size) < 0 ||
	    http_route(http, "POST", "/portal/share", HTTP_ROUTE_STREAM_BODY, web_post_share,
		       web_share_body, NULL, error, error_size) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(web_apps) / sizeof(web_apps[0]); i++) {
		char bare[32], folder[32];
		/* The route table keeps ctx: web_apps[i] is static. */
		void *app = (void *)(uintptr_t)web_apps[i];
		if (!str_format(bare, sizeof(bare), "/%s", web_apps[i]) ||
		    !str_format(folder, sizeof(folder), "/%s/", web_apps[i]) ||
		    http_route(http, "GET", bare, 0, web_get_app_bare, NULL, app, error,
			       error_size) < 0 ||
		    http_route(http, "GET", folder, HTTP_ROUTE_PREFIX, web_get_file, NULL, app,
			       error, error_size) < 0)
			return -1;
	}
	return 0;
}
