/* test-str.c - bounded formatting and cursor parsing. */
#include "test-support.h"

#include "lib/str.h"

#include <string.h>

typedef struct {
	const char *input;
	uint64_t max;
	bool ok;
	uint64_t value;
} parse_case_t;

static const parse_case_t parse_cases[] = {
	{"0", 10, true, 0},
	{"1", 0, false, 0},
	{"0", 0, true, 0},
	{"8", 7, false, 0},
	{"10", 10, true, 10},
	{"11", 10, false, 0},
	{"007", 10, true, 7},
	{"", 10, false, 0},
	{"-1", 10, false, 0},
	{"+1", 10, false, 0},
	{"1x", 10, false, 0},
	{"18446744073709551615", UINT64_MAX, true, UINT64_MAX},
	{"18446744073709551616", UINT64_MAX, false, 0},
	{"99999999999999999999999", UINT64_MAX, false, 0},
};

static void test_parse_uint64_full(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const parse_case_t *c = &parse_cases[i];
		uint64_t value = 12345;
		bool ok = parse_uint64_full(c->input, c->max, &value);
		if (ok != c->ok || (ok && value != c->value))
			fail_msg("row %zu (\"%s\"): ok=%d value=%llu", i, c->input, ok,
				 (unsigned long long)value);
	}
}

static void test_format_refuses_truncation(void **state)
{
	(void)state;
	char small[8];
	assert_true(str_format(small, sizeof(small), "%s", "1234567"));
	assert_string_equal(small, "1234567");
	assert_false(str_format(small, sizeof(small), "%s", "12345678"));
	assert_string_equal(small, "");
	assert_false(str_copy(small, sizeof(small), "12345678"));
	assert_true(str_copy(small, sizeof(small), "abc"));
}

static void test_hex_round_trip(void **state)
{
	(void)state;
	const uint8_t raw[4] = {0x00, 0xff, 0x10, 0xab};
	char hex[9];
	str_hex_encode(hex, raw, sizeof(raw));
	assert_string_equal(hex, "00ff10ab");
	uint8_t back[4];
	assert_true(str_hex_decode(back, sizeof(back), hex));
	assert_memory_equal(raw, back, sizeof(raw));
	assert_false(str_hex_decode(back, sizeof(back), "00ff10a"));
	assert_false(str_hex_decode(back, sizeof(back), "00ff10ag"));
}

static void test_bool_and_case(void **state)
{
	(void)state;
	bool flag;
	assert_true(parse_bool_full("Yes", &flag) && flag);
	assert_true(parse_bool_full("off", &flag) && !flag);
	assert_false(parse_bool_full("maybe", &flag));
	char s[] = "Alice@Example.COM";
	str_lower_ascii(s);
	assert_string_equal(s, "alice@example.com");
	char padded[] = "  x y \t";
	assert_string_equal(str_trim(padded), "x y");
}

/* Text that prints as one line: valid UTF-8, no control characters. */
static void test_printable_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool is_ok;
	} rows[] = {
		{"", true},
		{"Anna's iPhone", true},
		{"Stra\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x96\xa8", true}, /* ß € printer emoji */
		{"tab\there", false},
		{"del\x7f", false},
		{"c1 \xc2\x85", false},          /* NEL */
		{"overlong \xc0\xaf", false},
		{"surrogate \xed\xa0\x80", false},
		{"cut \xe2\x82", false},
		{"stray \x80", false},
		{"too high \xf4\x90\x80\x80", false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (str_is_printable_utf8(rows[i].text) != rows[i].is_ok)
			fail_msg("row %zu: want %d", i, rows[i].is_ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_uint64_full),
		cmocka_unit_test(test_format_refuses_truncation),
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_bool_and_case),
		cmocka_unit_test(test_printable_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
