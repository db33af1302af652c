/*
 * test-convert-kind.c - which engine each document type goes to.
 */
#include "convert/convert.h"
#include "test-support.h"

#include <stdlib.h>

static void test_kind_of_each_type(void **state)
{
	(void)state;
	static const struct {
		const char *type;
		pp_convert_kind_t kind;
	} cases[] = {
		{"application/pdf", PP_CONVERT_PDF},
		{"APPLICATION/PDF", PP_CONVERT_PDF},
		{"application/postscript", PP_CONVERT_POSTSCRIPT},
		{"image/jpeg", PP_CONVERT_IMAGE},
		{"image/heic", PP_CONVERT_IMAGE},
		{"image/webp", PP_CONVERT_IMAGE},
		{"image/tiff", PP_CONVERT_IMAGE},
		{"image/pwg-raster", PP_CONVERT_RASTER},
		{"image/urf", PP_CONVERT_RASTER},
		{"text/plain; charset=iso-8859-1", PP_CONVERT_TEXT},
		{"text/html", PP_CONVERT_HTML},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		 PP_CONVERT_OFFICE},
		{"application/vnd.oasis.opendocument.spreadsheet", PP_CONVERT_OFFICE},
		{"application/vnd.ms-office", PP_CONVERT_OFFICE},
		{"application/rtf", PP_CONVERT_OFFICE},
		{"application/octet-stream", PP_CONVERT_UNSUPPORTED},
		{"application/pdfx", PP_CONVERT_UNSUPPORTED},
		{"application/vnd.oasis.opendocument.", PP_CONVERT_UNSUPPORTED},
		{"", PP_CONVERT_UNSUPPORTED},
		{NULL, PP_CONVERT_UNSUPPORTED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(convert_kind_of(cases[i].type), cases[i].kind);
}

static void test_analysis_free_is_null_safe(void **state)
{
	(void)state;
	convert_analysis_free(NULL);
	pp_convert_analysis_t analysis = {.pages = 2, .color_pages = 1};
	analysis.page_info = calloc(2, sizeof(*analysis.page_info));
	assert_non_null(analysis.page_info);
	convert_analysis_free(&analysis);
	assert_null(analysis.page_info);
	assert_int_equal(analysis.pages, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_of_each_type),
		cmocka_unit_test(test_analysis_free_is_null_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
