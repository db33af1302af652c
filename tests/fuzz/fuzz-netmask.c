/*
 * fuzz-netmask.c - the CIDR list parser behind ipp.trusted_networks on arbitrary bytes: it
 * must answer with a list or an error, never read past the input, and what it accepts must
 * survive a round trip through netmask_format() and match its own network address.
 */
#include "lib/netmask.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pp_netmask_list_t list;
	char error[256];
	if (netmask_list_parse((const char *)data, size, &list, error, sizeof(error)) < 0) {
		/* Every refusal says what it is about. */
		if (strncmp(error, "netmask: ", 9) != 0 || list.count != 0)
			abort();
		return 0;
	}
	if (list.count > NETMASK_LIST_MAX)
		abort();
	for (size_t i = 0; i < list.count; i++) {
		/* Canonical text parses back to the same entry. */
		char text[NETMASK_ENTRY_TEXT_MAX];
		if (!netmask_format(&list.entries[i], text, sizeof(text)))
			abort();
		pp_netmask_list_t again;
		if (netmask_list_parse(text, strlen(text), &again, error, sizeof(error)) < 0 ||
		    again.count != 1 ||
		    memcmp(again.entries[0].addr, list.entries[i].addr, 16) != 0 ||
		    again.entries[0].prefix != list.entries[i].prefix)
			abort();
		/* A network contains its own address. */
		char *slash = strchr(text, '/');
		if (slash == NULL)
			abort();
		*slash = '\0';
		if (!netmask_list_match_text(&list, text))
			abort();
	}
	/* The input as an address: any answer, no crash. */
	char address[NETMASK_ENTRY_TEXT_MAX];
	size_t n = size < sizeof(address) - 1 ? size : sizeof(address) - 1;
	memcpy(address, data, n);
	address[n] = '\0';
	(void)netmask_list_match_text(&list, address);
	return 0;
}
