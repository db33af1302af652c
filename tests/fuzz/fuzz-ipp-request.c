/*
 * fuzz-ipp-request.c - the IPP request parser and checker (ipp-request.c) and the job
 * template mapping on arbitrary bytes: a parsed request or an IPP status, never a crash,
 * never a read past the input.
 */
#include "ipp/ipp-private.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int is_complete = 0; is_complete < 2; is_complete++) {
		ipp_t *request = NULL;
		size_t used = 0;
		ipp_status_t status = IPP_STATUS_OK;
		char error[256];
		if (ipp_request_parse(data, size, is_complete != 0, &request, &used, &status, error,
				      sizeof(error)) != IPP_PARSE_DONE)
			continue;
		if (used > size)
			__builtin_trap();
		if (ipp_request_check(request, error, sizeof(error)) == IPP_STATUS_OK) {
			ipp_t *response = ippNewResponse(request);
			pp_print_options_t opts;
			(void)ipp_options_parse(request, &opts, response);
			ippDelete(response);
		}
		(void)doctype_sniff(data + used, size - used);
		ippDelete(request);
	}
	return 0;
}
