/* netmask.c - CIDR lists and address matching; see netmask.h. */
#include "lib/netmask.h"

#include "lib/str.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t netmask_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool netmask_is_separator(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copies text into out[size] with anything unprintable shown as '?', for messages. */
static void netmask_printable(const char *text, size_t len, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)text[i];
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

/* Writes an IPv4 address as its IPv4-mapped IPv6 form into out[16]. */
static void netmask_map_v4(const struct in_addr *v4, uint8_t out[16])
{
	memcpy(out, netmask_v4_mapped, sizeof(netmask_v4_mapped));
	memcpy(out + 12, &v4->s_addr, 4);
}

/* Clears the bits of addr after the first prefix bits. */
static void netmask_clear_host_bits(uint8_t addr[16], unsigned prefix)
{
	for (unsigned bit = prefix; bit < 128; bit++)
		addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

/*
 * Parses one entry text[0..len) (no separators inside) into *entry_r.
 * Returns 0, or -1 with error naming the entry.
 */
static int netmask_parse_entry(const char *text, size_t len, pp_netmask_t *entry_r, char *error,
                               size_t error_size)
{
	char shown[NETMASK_ENTRY_TEXT_MAX];
	netmask_printable(text, len, shown, sizeof(shown));
	char buf[NETMASK_ENTRY_TEXT_MAX];
	if (len >= sizeof(buf) || memchr(text, '\0', len) != NULL) {
		str_format(error, error_size,
		           "netmask: '%s…' is not a network; write entries like 10.0.0.0/8 or "
		           "2001:db8::/32",
		           shown);
		return -1;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';

	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	memset(entry_r, 0, sizeof(*entry_r));
	unsigned max_prefix;
	if (strchr(buf, ':') != NULL) {
		struct in6_addr v6;
		if (inet_pton(AF_INET6, buf, &v6) != 1)
			goto bad_address;
		memcpy(entry_r->addr, v6.s6_addr, 16);
		max_prefix = 128;
	} else {
		struct in_addr v4;
		if (inet_pton(AF_INET, buf, &v4) != 1)
			goto bad_address;
		netmask_map_v4(&v4, entry_r->addr);
		entry_r->is_ipv4 = true;
		max_prefix = 32;
	}

	uint64_t prefix = max_prefix;
	if (slash != NULL && !parse_uint64_full(slash + 1, max_prefix, &prefix)) {
		str_format(error, error_size,
		           "netmask: '%s' has a bad prefix length; use /0../%u after the address",
		           shown, max_prefix);
		return -1;
	}
	entry_r->prefix = (unsigned)prefix + (entry_r->is_ipv4 ? 96u : 0u);
	netmask_clear_host_bits(entry_r->addr, entry_r->prefix);
	return 0;

bad_address:
	str_format(error, error_size,
	           "netmask: '%s' is not an IPv4 or IPv6 address; write entries like 10.0.0.0/8 "
	           "or 2001:db8::/32",
	           shown);
	return -1;
}

int netmask_list_parse(const char *text, size_t len, pp_netmask_list_t *list_r, char *error,
                       size_t error_size)
{
	memset(list_r, 0, sizeof(*list_r));
	size_t pos = 0;
	while (pos < len) {
		/* Skip separators, then take one entry up to the next separator. */
		if (netmask_is_separator(text[pos])) {
			pos++;
			continue;
		}
		size_t start = pos;
		while (pos < len && !netmask_is_separator(text[pos]))
			pos++;
		if (list_r->count == NETMASK_LIST_MAX) {
			str_format(error, error_size,
			           "netmask: more than %d networks; merge them into wider prefixes",
			           NETMASK_LIST_MAX);
			memset(list_r, 0, sizeof(*list_r));
			return -1;
		}
		if (netmask_parse_entry(text + start, pos - start, &list_r->entries[list_r->count],
		                        error, error_size) < 0) {
			memset(list_r, 0, sizeof(*list_r));
			return -1;
		}
		list_r->count++;
	}
	return 0;
}

/* True when the 16-byte address addr lies in some entry of list. */
static bool netmask_list_match_bytes(const pp_netmask_list_t *list, const uint8_t addr[16])
{
	for (size_t i = 0; i < list->count; i++) {
		const pp_netmask_t *e = &list->entries[i];
		unsigned full = e->prefix / 8, rest = e->prefix % 8;
		if (memcmp(e->addr, addr, full) != 0)
			continue;
		if (rest == 0)
			return true;
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));
		if ((addr[full] & mask) == e->addr[full])
			return true;
	}
	return false;
}

bool netmask_list_match_text(const pp_netmask_list_t *list, const char *address)
{
	if (list == NULL || address == NULL || address[0] == '\0')
		return false;
	uint8_t addr[16];
	if (strchr(address, ':') != NULL) {
		struct in6_addr v6;
		if (inet_pton(AF_INET6, address, &v6) != 1)
			return false;
		memcpy(addr, v6.s6_addr, 16);
	} else {
		struct in_addr v4;
		if (inet_pton(AF_INET, address, &v4) != 1)
			return false;
		netmask_map_v4(&v4, addr);
	}
	return netmask_list_match_bytes(list, addr);
}

bool netmask_list_match_sockaddr(const pp_netmask_list_t *list, const struct sockaddr *sa)
{
	if (list == NULL || sa == NULL)
		return false;
	uint8_t addr[16];
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		netmask_map_v4(&sin.sin_addr, addr);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(addr, sin6.sin6_addr.s6_addr, 16);
	} else {
		return false;
	}
	return netmask_list_match_bytes(list, addr);
}

bool netmask_format(const pp_netmask_t *entry, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	if (entry->is_ipv4) {
		struct in_addr v4;
		memcpy(&v4.s_addr, entry->addr + 12, 4);
		if (inet_ntop(AF_INET, &v4, text, sizeof(text)) == NULL)
			return false;
		return str_format(buf, size, "%s/%u", text, entry->prefix - 96);
	}
	struct in6_addr v6;
	memcpy(v6.s6_addr, entry->addr, 16);
	if (inet_ntop(AF_INET6, &v6, text, sizeof(text)) == NULL)
		return false;
	return str_format(buf, size, "%s/%u", text, entry->prefix);
}
