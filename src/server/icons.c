/* icons.c - the embedded printer icons and their route; see icons.h. */
#include "server/icons.h"

#include "lib/crypto.h"
#include "lib/str.h"

#include <stdint.h>
#include <string.h>

/* Cache for a week, then revalidate with the ETag: icons change only with a release. */
#define ICONS_CACHE_CONTROL "public, max-age=604800"

/* Hex digits of the content hash used as the ETag (64 bits are plenty to tell versions). */
#define ICONS_ETAG_HEX 16

/* The PNG bytes, generated at build time from data/icons/ by scripts/make-icons c-array. */
static const uint8_t icons_png_48[] = {
#include "printer-48.png.inc"
};
static const uint8_t icons_png_128[] = {
#include "printer-128.png.inc"
};
static const uint8_t icons_png_512[] = {
#include "printer-512.png.inc"
};

typedef struct {
	const char *name; /* below ICONS_PATH */
	const uint8_t *data;
	size_t len;
} icons_file_t;

static const icons_file_t icons_files[] = {
	{"printer-48.png", icons_png_48, sizeof(icons_png_48)},
	{"printer-128.png", icons_png_128, sizeof(icons_png_128)},
	{"printer-512.png", icons_png_512, sizeof(icons_png_512)},
};

/* The icon called name, or NULL. */
static const icons_file_t *icons_find(const char *name)
{
	for (size_t i = 0; i < sizeof(icons_files) / sizeof(icons_files[0]); i++) {
		if (strcmp(icons_files[i].name, name) == 0)
			return &icons_files[i];
	}
	return NULL;
}

/*
 * Writes the quoted ETag of file into out: the start of an unkeyed BLAKE2b of its bytes
 * (a zero key: nothing secret here), so a new drawing gets a new tag without a version bump.
 */
static void icons_etag(const icons_file_t *file, char out[ICONS_ETAG_HEX + 3])
{
	static const uint8_t zero_key[CRYPTO_KEY_BYTES] = {0};
	char hex[CRYPTO_HASH_HEX_LEN + 1];
	crypto_keyed_hash_hex(zero_key, file->data, file->len, hex);
	out[0] = '"';
	memcpy(out + 1, hex, ICONS_ETAG_HEX);
	out[ICONS_ETAG_HEX + 1] = '"';
	out[ICONS_ETAG_HEX + 2] = '\0';
}

/* True when an If-None-Match value names etag (or is "*"): the client's copy is current. */
static bool icons_is_current(const char *if_none_match, const char *etag)
{
	if (if_none_match == NULL)
		return false;
	return strcmp(if_none_match, "*") == 0 || strstr(if_none_match, etag) != NULL;
}

/* GET /icons/<name>: the PNG, 304 when the client has it, 404 for any other name. */
static void icons_get(pp_http_request_t *req, void *ctx)
{
	(void)ctx;
	const icons_file_t *file = icons_find(http_request_subpath(req));
	if (file == NULL) {
		(void)http_respond_error(req, 404, "not_found",
					 "No such icon; the printer icons are printer-48.png, "
					 "printer-128.png and printer-512.png.");
		return;
	}
	char etag[ICONS_ETAG_HEX + 3];
	icons_etag(file, etag);
	if (http_response_header(req, "ETag", etag) < 0 ||
	    http_response_header(req, "Cache-Control", ICONS_CACHE_CONTROL) < 0) {
		(void)http_respond_error(req, 500, "internal_error",
					 "The icon could not be sent; see the server log.");
		return;
	}
	if (icons_is_current(http_request_header(req, "If-None-Match"), etag)) {
		(void)http_respond_bytes(req, 304, NULL, "", 0);
		return;
	}
	(void)http_respond_bytes(req, 200, "image/png", file->data, file->len);
}

int icons_add(pp_http_server_t *http, char *error, size_t error_size)
{
	return http_route(http, "GET", ICONS_PATH, HTTP_ROUTE_PREFIX, icons_get, NULL, NULL, error,
			  error_size);
}
