/*
 * fuzz-options.c - the parsers of user-supplied job data: print options as JSON, page
 * ranges, email addresses and sender patterns. Whatever comes in, each answers with a
 * value that validates, or an error; none crashes.
 */
#include "core/options.h"
#include "core/sender-policy.h"
#include "core/users.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char error[512];

	pp_print_options_t opts;
	if (options_from_json(text, &opts, error, sizeof(error)) == 0 &&
	    options_validate(&opts, error, sizeof(error)) != 0)
		abort(); /* accepted options must be valid */

	pp_page_range_t ranges[100];
	size_t count = 0;
	if (options_parse_page_ranges(text, ranges, 100, &count, error, sizeof(error)) == 0) {
		for (size_t i = 0; i < count; i++) {
			if (ranges[i].first < 1 || ranges[i].last < ranges[i].first ||
			    (i > 0 && ranges[i].first <= ranges[i - 1].last))
				abort(); /* ascending, 1-based, non-overlapping */
		}
	}

	char email[USERS_EMAIL_MAX];
	if (users_canonical_email(text, email, error, sizeof(error)) == 0) {
		char again[USERS_EMAIL_MAX];
		if (users_canonical_email(email, again, error, sizeof(error)) != 0 ||
		    strcmp(email, again) != 0)
			abort(); /* canonical form is a fixed point */
	}
	char pattern[SENDER_PATTERN_MAX];
	(void)sender_pattern_canonical(text, pattern, error, sizeof(error));
	free(text);
	return 0;
}
