/*
 * fuzz-raster.c - the PWG raster / URF decoder on arbitrary bytes: it must decode or refuse
 * with a reason, never read outside the input, and hand each page exactly
 * width × height × colours bytes of pixels (the callback touches every one).
 */
#include "convert/engine/engine-private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every pixel byte so the sanitizer sees a short buffer; checks the page's shape. */
static int fuzz_raster_page(void *opaque, const engine_raster_page_t *page, const uint8_t *pixels,
			    char *error, size_t error_size)
{
	(void)error;
	(void)error_size;
	unsigned *sum = opaque;
	if (page->width == 0 || page->height == 0 || (page->colors != 1 && page->colors != 3) ||
	    page->dpi_x == 0 || page->dpi_y == 0)
		abort();
	size_t n = (size_t)page->width * page->height * page->colors;
	for (size_t i = 0; i < n; i++)
		*sum += pixels[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char error[256] = "";
	unsigned sum = 0;
	/* Small limits keep each run fast; the limits themselves are part of what is tested. */
	int pages = engine_raster_decode(data, size, 1u << 20, 8, fuzz_raster_page, &sum, error,
					 sizeof(error));
	if (pages < 0 ? error[0] == '\0' : (pages == 0 || pages > 8))
		abort();
	return 0;
}
