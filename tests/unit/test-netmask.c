/*
 * test-netmask.c - CIDR lists as an administrator writes them in ipp.trusted_networks, and
 * which peer addresses they let in.
 */
#include "test-support.h"

#include "lib/netmask.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Parsing: NULL message means accepted, with the canonical entries joined by " ". */
static const struct {
	const char *text;
	const char *canonical; /* accepted: the entries as netmask_format() writes them */
	const char *message;   /* refused: a fragment of the error */
} parse_rows[] = {
    {"", "", NULL},
    {" , ,\t\n", "", NULL},
    {"10.0.0.0/8", "10.0.0.0/8", NULL},
    {"192.0.2.7", "192.0.2.7/32", NULL},
    {"10.1.2.3/8", "10.0.0.0/8", NULL},
    {"0.0.0.0/0", "0.0.0.0/0", NULL},
    {"10.0.0.0/8,192.168.0.0/16 172.16.0.0/12", "10.0.0.0/8 192.168.0.0/16 172.16.0.0/12", NULL},
    {"2001:db8::/32", "2001:db8::/32", NULL},
    {"2001:DB8:0:0:1::/64", "2001:db8::/64", NULL},
    {"::1", "::1/128", NULL},
    {"::/0", "::/0", NULL},
    {"::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", NULL},
    {"10.0.0.0/33", NULL, "prefix"},
    {"2001:db8::/129", NULL, "prefix"},
    {"10.0.0.0/", NULL, "prefix"},
    {"10.0.0.0/-1", NULL, "prefix"},
    {"10.0.0.0/8x", NULL, "prefix"},
    {"10.0.0", NULL, "not an IPv4 or IPv6"},
    {"10.0.0.256", NULL, "not an IPv4 or IPv6"},
    {"localhost", NULL, "not an IPv4 or IPv6"},
    {"fe80::1%eth0", NULL, "not an IPv4 or IPv6"},
    {"10.0.0.0/8;", NULL, "10.0.0.0/8;"},
    {"2001:db8::/32 bogus", NULL, "bogus"},
    {"1111:2222:3333:4444:5555:6666:7777:8888/128/128/128/128/128/128/128/128", NULL,
     "not a network"},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		pp_netmask_list_t list;
		char error[256] = "";
		int rc = netmask_list_parse(parse_rows[i].text, strlen(parse_rows[i].text), &list,
		                            error, sizeof(error));
		if (parse_rows[i].message != NULL) {
			if (rc == 0)
				fail_msg("row %zu '%s' accepted", i, parse_rows[i].text);
			if (strstr(error, parse_rows[i].message) == NULL)
				fail_msg("row %zu: message '%s' lacks '%s'", i, error,
				         parse_rows[i].message);
			assert_int_equal(list.count, 0);
			continue;
		}
		if (rc != 0)
			fail_msg("row %zu '%s' refused: %s", i, parse_rows[i].text, error);
		char joined[512] = "";
		size_t pos = 0;
		for (size_t k = 0; k < list.count; k++) {
			char entry[NETMASK_ENTRY_TEXT_MAX];
			assert_true(netmask_format(&list.entries[k], entry, sizeof(entry)));
			assert_true(str_format(joined + pos, sizeof(joined) - pos, "%s%s",
			                       k > 0 ? " " : "", entry));
			pos += strlen(joined + pos);
		}
		if (strcmp(joined, parse_rows[i].canonical) != 0)
			fail_msg("row %zu '%s': got '%s', want '%s'", i, parse_rows[i].text, joined,
			         parse_rows[i].canonical);
	}
}

static void test_parse_limits(void **state)
{
	(void)state;
	char text[NETMASK_LIST_MAX * 16 + 32];
	size_t pos = 0;
	for (int i = 0; i <= NETMASK_LIST_MAX; i++) {
		assert_true(str_format(text + pos, sizeof(text) - pos, "10.%d.0.0/16 ", i));
		pos += strlen(text + pos);
	}
	pp_netmask_list_t list;
	char error[256];
	/* One too many entries is refused with advice; exactly the maximum is fine. */
	assert_int_equal(netmask_list_parse(text, pos, &list, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "more than"));
	assert_int_equal(
	    netmask_list_parse(text, pos - strlen("10.32.0.0/16 "), &list, error, sizeof(error)),
	    0);
	assert_int_equal(list.count, NETMASK_LIST_MAX);

	/* The length bounds the read: what lies after it is not looked at. */
	const char cut[] = "10.0.0.0/8 junk";
	assert_int_equal(netmask_list_parse(cut, 10, &list, error, sizeof(error)), 0);
	assert_int_equal(list.count, 1);
	/* A NUL inside the given length is malformed input. */
	const char nul[] = "10.0.0.0/8\0 1.2.3.4";
	assert_int_equal(netmask_list_parse(nul, sizeof(nul) - 1, &list, error, sizeof(error)), -1);
}

/* Matching: which peers a list lets in. */
static const struct {
	const char *list;
	const char *address;
	bool is_match;
} match_rows[] = {
    {"127.0.0.0/8", "127.0.0.1", true},
    {"127.0.0.0/8", "127.255.255.255", true},
    {"127.0.0.0/8", "128.0.0.1", false},
    {"127.0.0.0/8", "::ffff:127.0.0.1", true}, /* dual-stack socket */
    {"127.0.0.0/8", "::1", false},
    {"::1", "::1", true},
    {"::1", "127.0.0.1", false},
    {"192.168.1.0/24", "192.168.1.200", true},
    {"192.168.1.0/24", "192.168.2.1", false},
    {"192.168.1.128/25", "192.168.1.127", false},
    {"192.168.1.128/25", "192.168.1.128", true},
    {"10.0.0.0/9", "10.127.0.1", true},
    {"10.0.0.0/9", "10.128.0.1", false},
    {"192.0.2.7", "192.0.2.7", true},
    {"192.0.2.7", "192.0.2.8", false},
    {"0.0.0.0/0", "203.0.113.9", true},
    {"0.0.0.0/0", "2001:db8::1", false}, /* every IPv4 address, no IPv6 one */
    {"::/0", "2001:db8::1", true},
    {"::/0", "203.0.113.9", true}, /* every address, IPv4 seen mapped */
    {"2001:db8::/32", "2001:db8:ffff::1", true},
    {"2001:db8::/32", "2001:db9::1", false},
    {"2001:db8::/33", "2001:db8:8000::1", false},
    {"10.0.0.0/8, 2001:db8::/32", "2001:db8::5", true},
    {"10.0.0.0/8, 2001:db8::/32", "10.9.9.9", true},
    {"10.0.0.0/8, 2001:db8::/32", "11.0.0.1", false},
    {"", "127.0.0.1", false},
    {"0.0.0.0/0", "", false},
    {"0.0.0.0/0", "not-an-address", false},
    {"0.0.0.0/0", "unknown", false},
};

static void test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
		pp_netmask_list_t list;
		char error[256];
		if (netmask_list_parse(match_rows[i].list, strlen(match_rows[i].list), &list, error,
		                       sizeof(error)) != 0)
			fail_msg("row %zu: list refused: %s", i, error);
		if (netmask_list_match_text(&list, match_rows[i].address) != match_rows[i].is_match)
			fail_msg("row %zu: %s in '%s' should be %s", i, match_rows[i].address,
			         match_rows[i].list, match_rows[i].is_match ? "in" : "out");
	}
	assert_false(netmask_list_match_text(NULL, "127.0.0.1"));
}

static void test_match_sockaddr(void **state)
{
	(void)state;
	pp_netmask_list_t list;
	char error[256];
	const char *text = "192.168.0.0/16 2001:db8::/32";
	assert_int_equal(netmask_list_parse(text, strlen(text), &list, error, sizeof(error)), 0);

	struct sockaddr_in sin = {.sin_family = AF_INET};
	assert_int_equal(inet_pton(AF_INET, "192.168.4.5", &sin.sin_addr), 1);
	assert_true(netmask_list_match_sockaddr(&list, (const struct sockaddr *)&sin));
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", &sin.sin_addr), 1);
	assert_false(netmask_list_match_sockaddr(&list, (const struct sockaddr *)&sin));

	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::9", &sin6.sin6_addr), 1);
	assert_true(netmask_list_match_sockaddr(&list, (const struct sockaddr *)&sin6));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.168.1.1", &sin6.sin6_addr), 1);
	assert_true(netmask_list_match_sockaddr(&list, (const struct sockaddr *)&sin6));
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr), 1);
	assert_false(netmask_list_match_sockaddr(&list, (const struct sockaddr *)&sin6));

	struct sockaddr other = {.sa_family = AF_UNIX};
	assert_false(netmask_list_match_sockaddr(&list, &other));
	assert_false(netmask_list_match_sockaddr(&list, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_match_table),
	    cmocka_unit_test(test_match_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
