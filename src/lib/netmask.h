/*
 * netmask.h - lists of networks in CIDR notation ("10.0.0.0/8, 2001:db8::/32 192.0.2.7") and
 * the question "is this peer address in one of them?".
 *
 * Every entry is kept as a 16-byte IPv6 prefix: an IPv4 network a.b.c.d/n is stored as the
 * IPv4-mapped ::ffff:a.b.c.d/(96+n), so an IPv4 peer seen on a dual-stack socket
 * (::ffff:192.0.2.7) matches the IPv4 entries it belongs to, and plain IPv4 peers are mapped
 * the same way before matching. A list is a bounded value (no allocation, nothing to free).
 * Host bits below the prefix are cleared when parsing (10.1.2.3/8 means 10.0.0.0/8).
 */
#ifndef PP_NETMASK_H
#define PP_NETMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NETMASK_LIST_MAX 32       /* entries in one list */
#define NETMASK_ENTRY_TEXT_MAX 64 /* longest "address/prefix" entry, with the terminator */

typedef struct {
	uint8_t addr[16]; /* network address as IPv6 (IPv4 mapped), host bits cleared */
	unsigned prefix;  /* 0..128 bits of addr that must match */
	bool is_ipv4;     /* written as IPv4 (prefix counts the 96 mapped bits) */
} pp_netmask_t;

typedef struct {
	size_t count;
	pp_netmask_t entries[NETMASK_LIST_MAX];
} pp_netmask_list_t;

/*
 * Parses text[0..len) — entries separated by commas and/or whitespace, each an IPv4 or IPv6
 * address with an optional "/prefix" (32 or 128 when absent) — into *list_r. An empty or
 * all-separator text gives an empty list (matches nothing). Reads nothing past len; NUL bytes
 * are an error. Fails on a malformed entry, a prefix out of range, or more than
 * NETMASK_LIST_MAX entries; error names the entry. Returns 0 or -1.
 */
int netmask_list_parse(const char *text, size_t len, pp_netmask_list_t *list_r, char *error,
                       size_t error_size);

/*
 * True when address (text as the listener gives it: "192.0.2.7", "2001:db8::1",
 * "::ffff:192.0.2.7") is inside an entry of list. An unparsable or empty address matches
 * nothing.
 */
bool netmask_list_match_text(const pp_netmask_list_t *list, const char *address);

/* The same for a socket address (AF_INET or AF_INET6; any other family matches nothing). */
bool netmask_list_match_sockaddr(const pp_netmask_list_t *list, const struct sockaddr *sa);

/*
 * Writes entry as canonical text ("10.0.0.0/8", "2001:db8::/32") into buf[size].
 * Returns false if it does not fit.
 */
bool netmask_format(const pp_netmask_t *entry, char *buf, size_t size);

#endif
