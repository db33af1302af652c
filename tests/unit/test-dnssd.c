/*
 * test-dnssd.c - the DNS-SD TXT record of the IPP service and the unicast DNS-SD zone lines:
 * every key a client reads is there, within 255 bytes, and says what Get-Printer-Attributes
 * says.
 */
#include "test-support.h"

#include "ipp/ipp-dnssd.h"
#include "ipp/ipp-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_ADMIN_URL "https://print.example.com:8631/"

static int64_t test_clock(void *ctx)
{
	(void)ctx;
	return 1700000000;
}

/* cmocka setup: a core with fixed keys, a fixed clock and an empty in-memory database. */
static int core_setup(void **state)
{
	pp_core_t *core = calloc(1, sizeof(*core));
	assert_non_null(core);
	for (size_t i = 0; i < sizeof(core->pseudonym_key); i++)
		core->pseudonym_key[i] = (uint8_t)(i * 7 + 1);
	core->now = test_clock;
	char error[512];
	if (db_open("sqlite::memory:", &core->db, error, sizeof(error)) != DB_OK ||
	    db_migrate(core->db, error, sizeof(error)) != DB_OK)
		fail_msg("database: %s", error);
	*state = core;
	return 0;
}

static int core_teardown(void **state)
{
	pp_core_t *core = *state;
	db_close(&core->db);
	free(core);
	return 0;
}

/* The printer attributes as Get-Printer-Attributes (all of them) reports them. New. */
static ipp_t *test_attrs(const pp_core_t *core)
{
	pp_ipp_service_t svc = {.core = (pp_core_t *)core, .started_at = 1700000000};
	ipp_printer_uuid(core, svc.printer_uuid);
	ipp_t *attrs = ippNew();
	assert_non_null(attrs);
	ipp_printer_now_t now;
	ipp_printer_now_read(svc.core, &now);
	ipp_printer_attrs_add(&svc, NULL, attrs, "ipps://print.example.com/ipp/print", &now);
	return attrs;
}

/* Every key a client reads, and for fixed ones the value (NULL: checked elsewhere). */
static const struct {
	const char *key;
	const char *value;
} txt_keys[] = {
	{"txtvers", "1"},
	{"qtotal", "1"},
	{"rp", "ipp/print"},
	{"ty", NULL},
	{"product", "(Pullprint)"},
	{"note", ""},
	{"adminurl", TEST_ADMIN_URL},
	{"pdl", NULL},
	{"URF", NULL},
	{"UUID", NULL},
	{"TLS", "1.2"},
	{"Color", "T"},
	{"Duplex", "T"},
	{"kind", "document"},
	{"priority", "50"},
	{"air", "username,password"},
	{"printer-state", "3"},
};

static void test_txt_keys(void **state)
{
	pp_core_t *core = *state;
	pp_dnssd_txt_t txt;
	char error[256] = "";
	assert_int_equal(dnssd_txt_build(core, TEST_ADMIN_URL, true, &txt, error, sizeof(error)), 0);
	for (size_t i = 0; i < sizeof(txt_keys) / sizeof(txt_keys[0]); i++) {
		const char *value = dnssd_txt_get(&txt, txt_keys[i].key);
		if (value == NULL)
			fail_msg("row %zu: key %s missing", i, txt_keys[i].key);
		if (txt_keys[i].value != NULL && strcmp(value, txt_keys[i].value) != 0)
			fail_msg("row %zu: %s=%s, want %s", i, txt_keys[i].key, value,
				 txt_keys[i].value);
	}
	/* RFC 6763 6.1: each entry is one length byte plus at most 255 bytes. */
	for (size_t i = 0; i < txt.count; i++) {
		if (strlen(txt.entries[i]) > 255)
			fail_msg("entry %zu (%.20s…) is %zu bytes", i, txt.entries[i],
				 strlen(txt.entries[i]));
	}
}

static void test_txt_plain_has_no_tls(void **state)
{
	pp_core_t *core = *state;
	pp_dnssd_txt_t txt;
	char error[256] = "";
	assert_int_equal(dnssd_txt_build(core, TEST_ADMIN_URL, false, &txt, error, sizeof(error)),
			 0);
	assert_null(dnssd_txt_get(&txt, "TLS"));
	assert_non_null(dnssd_txt_get(&txt, "rp"));
}

/* True when value is one of attr's values. */
static bool test_attr_has(ipp_attribute_t *attr, const char *value, size_t len)
{
	for (int i = 0; i < ippGetCount(attr); i++) {
		const char *v = ippGetString(attr, i, NULL);
		if (v != NULL && strlen(v) == len && strncmp(v, value, len) == 0)
			return true;
	}
	return false;
}

static void test_txt_values_from_attributes(void **state)
{
	pp_core_t *core = *state;
	pp_dnssd_txt_t txt;
	char error[256] = "";
	assert_int_equal(dnssd_txt_build(core, TEST_ADMIN_URL, true, &txt, error, sizeof(error)), 0);
	ipp_t *attrs = test_attrs(core);

	/* UUID is printer-uuid without its urn:uuid: prefix. */
	const char *uuid = ippGetString(ippFindAttribute(attrs, "printer-uuid", IPP_TAG_URI), 0, NULL);
	assert_non_null(uuid);
	assert_string_equal(dnssd_txt_get(&txt, "UUID"), uuid + strlen("urn:uuid:"));
	/* ty is the make and model. */
	assert_string_equal(dnssd_txt_get(&txt, "ty"),
			    ippGetString(ippFindAttribute(attrs, "printer-make-and-model",
							  IPP_TAG_TEXT), 0, NULL));
	/* pdl: every listed format is supported; PDF and URF (AirPrint's two) are listed. */
	ipp_attribute_t *formats = ippFindAttribute(attrs, "document-format-supported",
						    IPP_TAG_MIMETYPE);
	const char *pdl = dnssd_txt_get(&txt, "pdl");
	assert_non_null(strstr(pdl, "application/pdf"));
	assert_non_null(strstr(pdl, "image/urf"));
	for (const char *p = pdl; *p != '\0';) {
		size_t len = strcspn(p, ",");
		if (!test_attr_has(formats, p, len))
			fail_msg("pdl lists %.*s, which document-format-supported does not", (int)len, p);
		p += len + (p[len] == ',' ? 1 : 0);
	}
	/* URF: every urf-supported value, in order. */
	ipp_attribute_t *urf = ippFindAttribute(attrs, "urf-supported", IPP_TAG_KEYWORD);
	char joined[256] = "";
	size_t len = 0;
	for (int i = 0; i < ippGetCount(urf); i++) {
		int n = snprintf(joined + len, sizeof(joined) - len, "%s%s", i > 0 ? "," : "",
				 ippGetString(urf, i, NULL));
		assert_true(n > 0 && (size_t)n < sizeof(joined) - len);
		len += (size_t)n;
	}
	assert_string_equal(dnssd_txt_get(&txt, "URF"), joined);
	/* Color and Duplex say what color-supported and sides-supported say. */
	assert_true(ippGetBoolean(ippFindAttribute(attrs, "color-supported", IPP_TAG_BOOLEAN), 0));
	assert_true(test_attr_has(ippFindAttribute(attrs, "sides-supported", IPP_TAG_KEYWORD),
				  "two-sided-long-edge", strlen("two-sided-long-edge")));
	ippDelete(attrs);
}

/* One row per zone line: the start of the line and a piece it must contain. */
static const struct {
	const char *owner;
	const char *contains;
} zone_lines[] = {
	{"b._dns-sd._udp.example.com.\t", "IN PTR\texample.com."},
	{"lb._dns-sd._udp.example.com.\t", "IN PTR\texample.com."},
	{"_ipps._tcp.example.com.\t", "IN PTR\tPrint\\032room\\0322\\.1._ipps._tcp.example.com."},
	{"_universal._sub._ipps._tcp.example.com.\t", "IN PTR\tPrint\\032room"},
	{"_print._sub._ipps._tcp.example.com.\t", "IN PTR\tPrint\\032room"},
	{"Print\\032room\\0322\\.1._ipps._tcp.example.com.\t", "IN SRV\t0 0 8631 printhost.example.com."},
	{"Print\\032room\\0322\\.1._ipps._tcp.example.com.\t", "IN TXT\t\"txtvers=1\" \"qtotal=1\""},
};

static void test_zone_lines(void **state)
{
	pp_core_t *core = *state;
	pp_dnssd_txt_t txt;
	char error[256] = "";
	assert_int_equal(dnssd_txt_build(core, TEST_ADMIN_URL, true, &txt, error, sizeof(error)), 0);
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	assert_non_null(out);
	/* A trailing dot on the domain is accepted and not doubled. */
	pp_dnssd_zone_t zone = {.domain = "example.com.", .host = "printhost.example.com",
				.port = 8631, .name = "Print room 2.1"};
	assert_int_equal(dnssd_zone_write(&zone, &txt, out, error, sizeof(error)), 0);
	assert_int_equal(fclose(out), 0);

	size_t row = 0;
	for (char *line = text; *line != '\0';) {
		char *end = strchr(line, '\n');
		assert_non_null(end);
		*end = '\0';
		if (line[0] != ';') {
			assert_true(row < sizeof(zone_lines) / sizeof(zone_lines[0]));
			if (strncmp(line, zone_lines[row].owner, strlen(zone_lines[row].owner)) != 0 ||
			    strstr(line, zone_lines[row].contains) == NULL)
				fail_msg("row %zu: got \"%s\"", row, line);
			row++;
		}
		line = end + 1;
	}
	assert_int_equal(row, sizeof(zone_lines) / sizeof(zone_lines[0]));
	free(text);
}

static void test_zone_rejects_empty(void **state)
{
	(void)state;
	pp_dnssd_txt_t txt = {0};
	char error[256] = "";
	pp_dnssd_zone_t zone = {.domain = "", .host = "h.example.com", .port = 1, .name = "P"};
	FILE *out = fopen("/dev/null", "w");
	assert_non_null(out);
	assert_int_equal(dnssd_zone_write(&zone, &txt, out, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "non-empty"));
	assert_int_equal(fclose(out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_txt_keys, core_setup, core_teardown),
		cmocka_unit_test_setup_teardown(test_txt_plain_has_no_tls, core_setup, core_teardown),
		cmocka_unit_test_setup_teardown(test_txt_values_from_attributes, core_setup, core_teardown),
		cmocka_unit_test_setup_teardown(test_zone_lines, core_setup, core_teardown),
		cmocka_unit_test(test_zone_rejects_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
