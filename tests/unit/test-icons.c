/*
 * test-icons.c - the printer icons as an IPP client or a browser fetches them: each size
 * answers on HTTPS and plain HTTP without credentials, as a PNG of the advertised width and
 * height, byte for byte the file checked in under data/icons/, cacheable (ETag, 304 on
 * If-None-Match); other names answer 404 and other methods 405.
 */
#include "test-http-support.h"

#include "lib/crypto.h"
#include "pp-build-config.h"
#include "server/icons.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
	char *dir;
	pp_tls_cert_info_t cert;
	pp_http_server_t *server;
	test_http_peer_t peer;
} fixture_t;

/* ---- fixture: a loopback listener with only the icon route ---- */

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = test_tmpdir();
	test_http_cert_make(f->dir, &f->cert);
	pp_http_config_t cfg;
	test_http_config_loopback(&cfg, &f->cert);
	char error[1024];
	if (http_server_new(&cfg, &f->server, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	if (icons_add(f->server, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	test_http_start(f->server, &f->cert, &f->peer);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	http_server_free(&f->server);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static uint32_t be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Reads data/icons/<name> from the source tree into *len_r bytes. New; free(). */
static char *read_checked_in(const char *name, size_t *len_r)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/data/icons/%s", PP_SOURCE_ROOT, name);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	size_t cap = 1u << 20;
	char *data = malloc(cap);
	assert_non_null(data);
	*len_r = fread(data, 1, cap, fp);
	assert_int_equal(ferror(fp), 0);
	assert_int_equal(fclose(fp), 0);
	assert_true(*len_r < cap);
	return data;
}

/* ---- tests ---- */

static const struct {
	const char *name;
	uint32_t size;
} icon_cases[] = {
	{"printer-48.png", 48},
	{"printer-128.png", 128},
	{"printer-512.png", 512},
};

/* Each size, on both listeners: a PNG whose IHDR says size x size, RGBA, as checked in. */
static void test_icons_each_size_is_a_png(void **state)
{
	fixture_t *f = *state;
	for (size_t i = 0; i < sizeof(icon_cases) / sizeof(icon_cases[0]); i++) {
		for (int tls = 0; tls <= 1; tls++) {
			char head[256];
			assert_true(snprintf(head, sizeof(head), "GET /icons/%s HTTP/1.1",
					     icon_cases[i].name) < (int)sizeof(head));
			test_http_response_t r;
			test_http_exchange(&f->peer, tls == 1, head, NULL, 0, &r);
			if (r.status != 200)
				fail_msg("%s tls=%d: status %u", icon_cases[i].name, tls, r.status);
			char value[256];
			assert_true(test_http_response_header(&r, "Content-Type", value,
							      sizeof(value)));
			assert_string_equal(value, "image/png");
			assert_true(test_http_response_header(&r, "Cache-Control", value,
							      sizeof(value)));
			if (strstr(value, "max-age=") == NULL || strstr(value, "no-store") != NULL)
				fail_msg("%s: Cache-Control %s", icon_cases[i].name, value);
			assert_true(test_http_response_header(&r, "ETag", value, sizeof(value)));
			assert_true(value[0] == '"' && strlen(value) > 2);

			/* Signature, then IHDR first: width, height, 8-bit RGBA (colour type 6). */
			assert_true(r.body_len > 33);
			assert_memory_equal(r.body, "\x89PNG\r\n\x1a\n", 8);
			assert_int_equal(be32(r.body + 8), 13);
			assert_memory_equal(r.body + 12, "IHDR", 4);
			if (be32(r.body + 16) != icon_cases[i].size ||
			    be32(r.body + 20) != icon_cases[i].size)
				fail_msg("%s: IHDR says %ux%u", icon_cases[i].name,
					 be32(r.body + 16), be32(r.body + 20));
			assert_int_equal((unsigned char)r.body[24], 8);
			assert_int_equal((unsigned char)r.body[25], 6);

			size_t len = 0;
			char *file = read_checked_in(icon_cases[i].name, &len);
			assert_int_equal(r.body_len, len);
			assert_memory_equal(r.body, file, len);
			free(file);
			test_http_response_free(&r);
		}
	}
}

/* A client that has the icon revalidates with its ETag and gets 304 without a body. */
static void test_icons_etag_revalidates(void **state)
{
	fixture_t *f = *state;
	test_http_response_t r;
	test_http_exchange(&f->peer, true, "GET /icons/printer-128.png HTTP/1.1", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	char etag[128];
	assert_true(test_http_response_header(&r, "ETag", etag, sizeof(etag)));
	test_http_response_free(&r);

	char head[256];
	assert_true(snprintf(head, sizeof(head),
			     "GET /icons/printer-128.png HTTP/1.1\r\nIf-None-Match: %s",
			     etag) < (int)sizeof(head));
	test_http_exchange(&f->peer, true, head, NULL, 0, &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body_len, 0);
	char again[128];
	assert_true(test_http_response_header(&r, "ETag", again, sizeof(again)));
	assert_string_equal(again, etag);
	test_http_response_free(&r);

	/* Another size has another tag, and a stale tag gets the whole icon. */
	test_http_exchange(&f->peer, true, "GET /icons/printer-48.png HTTP/1.1", NULL, 0, &r);
	assert_true(test_http_response_header(&r, "ETag", again, sizeof(again)));
	assert_string_not_equal(again, etag);
	test_http_response_free(&r);
	test_http_exchange(&f->peer, true,
			   "GET /icons/printer-48.png HTTP/1.1\r\nIf-None-Match: \"0000\"", NULL,
			   0, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.body_len > 8);
	test_http_response_free(&r);
}

/* Unknown names and other methods: 404 / 405 JSON, never an icon. */
static void test_icons_unknown_is_404(void **state)
{
	fixture_t *f = *state;
	static const struct {
		const char *head;
		unsigned status;
	} cases[] = {
		{"GET /icons/printer-64.png HTTP/1.1", 404},
		{"GET /icons/printer-48.PNG HTTP/1.1", 404},
		{"GET /icons/printer-48.png.bak HTTP/1.1", 404},
		{"GET /icons/ HTTP/1.1", 404},
		{"GET /icons/sub/printer-48.png HTTP/1.1", 404},
		{"GET /icons/printer-48.png/ HTTP/1.1", 404},
		{"POST /icons/printer-48.png HTTP/1.1\r\nContent-Length: 0", 405},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_http_response_t r;
		test_http_exchange(&f->peer, true, cases[i].head, NULL, 0, &r);
		if (r.status != cases[i].status)
			fail_msg("row %zu (%s): status %u, want %u", i, cases[i].head, r.status,
				 cases[i].status);
		char value[128];
		assert_true(test_http_response_header(&r, "Content-Type", value, sizeof(value)));
		assert_string_equal(value, "application/json");
		test_http_response_free(&r);
	}
}

static int group_setup(void **state)
{
	(void)state;
	return crypto_init() ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_icons_each_size_is_a_png, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icons_etag_revalidates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icons_unknown_is_404, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
