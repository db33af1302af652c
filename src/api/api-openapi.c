/*
 * api-openapi.c - the OpenAPI 3.1 document of the API (docs/openapi.json), compiled in by
 * scripts/make-icons c-array and served at GET /api/v1/openapi.json, so a client always reads
 * the description of the server it talks to. tests/unit/test-api.c checks that its paths and
 * methods are exactly the router's operations.
 */
#include "api/api-private.h"

/* The document's bytes (UTF-8) and a terminator. */
static const unsigned char api_openapi_text[] = {
#include "openapi.json.inc"
	0};

const char *api_openapi_document(size_t *len_r)
{
	*len_r = sizeof(api_openapi_text) - 1;
	return (const char *)api_openapi_text;
}

/* GET /openapi.json: public (it names no user and no secret); cached for an hour. */
void api_openapi(api_call_t *call)
{
	size_t len = 0;
	const char *text = api_openapi_document(&len);
	(void)http_response_header(call->req, "Cache-Control", "public, max-age=3600");
	(void)http_respond_bytes(call->req, 200, "application/json", text, len);
}
