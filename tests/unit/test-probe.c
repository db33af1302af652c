/*
 * test-probe.c - printer discovery and status as an admin meets them: the Printer-MIB error
 * bits read as the IPP words people know, the warning shown before a release, the addresses
 * a range probes, and the status cache on both database backends (stored, read back, kept
 * per printer with its SNMP settings, gone with the printer, "offline" for a printer that
 * does not answer). Real printers and agents are exercised end to end in
 * tests/e2e/test_printers_status.py.
 */
#include "test-db-support.h"

#include "core/printers.h"
#include "lib/str.h"
#include "output/probe.h"
#include "output/status.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- hrPrinterDetectedErrorState -> reasons ------------------------------------------------ */

static void test_snmp_error_bits(void **state)
{
	(void)state;
	static const struct {
		uint8_t bytes[2];
		size_t len;
		const char *reasons;
	} cases[] = {
		{{0x00, 0x00}, 2, ""},
		{{0x80, 0x00}, 1, "media-low"},
		{{0x40, 0x00}, 1, "media-empty"},
		{{0x44, 0x00}, 2, "media-empty,media-jam"},      /* noPaper + jammed */
		{{0x20, 0x00}, 1, "toner-low"},
		{{0x10, 0x00}, 1, "toner-empty"},
		{{0x08, 0x00}, 1, "door-open"},
		{{0x02, 0x00}, 1, "offline"},
		{{0x01, 0x00}, 1, "other"},                      /* serviceRequested */
		{{0x00, 0x80}, 2, "input-tray-missing"},
		{{0x00, 0x04}, 2, "media-empty"},                /* inputTrayEmpty */
		{{0x40, 0x04}, 2, "media-empty"},                /* said twice, listed once */
		{{0x00, 0x80}, 1, ""},                           /* second byte not sent */
		{{0xff, 0xfe}, 2,
		 "media-low,media-empty,toner-low,toner-empty,door-open,media-jam,offline,other,"
		 "input-tray-missing,output-tray-missing,marker-supply-missing,"
		 "output-area-almost-full,output-area-full"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char reasons[PROBE_REASONS_MAX] = "";
		probe_snmp_errors_to_reasons(cases[i].bytes, cases[i].len, reasons, sizeof(reasons));
		if (strcmp(reasons, cases[i].reasons) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, reasons, cases[i].reasons);
	}
}

static void test_reasons_list(void **state)
{
	(void)state;
	char reasons[40] = "";
	assert_true(probe_reasons_add(reasons, sizeof(reasons), "none"));
	assert_string_equal(reasons, "");
	assert_true(probe_reasons_add(reasons, sizeof(reasons), "media-empty-report"));
	assert_true(probe_reasons_add(reasons, sizeof(reasons), "toner-low-warning"));
	assert_true(probe_reasons_add(reasons, sizeof(reasons), "toner-low"));
	assert_string_equal(reasons, "media-empty-report,toner-low-warning");
	/* A keyword matches with or without its severity suffix, never as a prefix. */
	assert_true(probe_reasons_has(reasons, "media-empty"));
	assert_true(probe_reasons_has(reasons, "media-empty-error"));
	assert_true(probe_reasons_has(reasons, "toner-low"));
	assert_false(probe_reasons_has(reasons, "media"));
	assert_false(probe_reasons_has(reasons, "toner-low-more"));
	/* Full: refused, list unchanged. */
	assert_false(probe_reasons_add(reasons, sizeof(reasons), "marker-supply-missing"));
	assert_string_equal(reasons, "media-empty-report,toner-low-warning");

	for (int s = PP_PRINTER_STATE_UNKNOWN; s <= PP_PRINTER_STATE_OFFLINE; s++)
		assert_int_equal(probe_state_parse(probe_state_name((pp_printer_state_t)s)), s);
	assert_int_equal(probe_state_parse("asleep"), PP_PRINTER_STATE_UNKNOWN);
}

/* ---- the warning before a release ---------------------------------------------------------- */

static void test_release_warning(void **state)
{
	(void)state;
	static const struct {
		pp_printer_state_t state;
		const char *reasons;
		const char *warning;
	} cases[] = {
		{PP_PRINTER_STATE_IDLE, "", ""},
		{PP_PRINTER_STATE_IDLE, "toner-low-warning", ""},
		{PP_PRINTER_STATE_PROCESSING, "media-low", ""},
		{PP_PRINTER_STATE_OFFLINE, "", "offline"},
		{PP_PRINTER_STATE_STOPPED, "media-jam", "jammed"},
		{PP_PRINTER_STATE_STOPPED, "media-empty,media-jam", "jammed, out of paper"},
		{PP_PRINTER_STATE_IDLE, "media-empty-report", "out of paper"},
		{PP_PRINTER_STATE_IDLE, "media-needed-error", "out of paper"},
		{PP_PRINTER_STATE_STOPPED, "door-open", "door open"},
		{PP_PRINTER_STATE_STOPPED, "toner-empty-error", "out of toner"},
		{PP_PRINTER_STATE_STOPPED, "paused", "stopped"},
		{PP_PRINTER_STATE_UNKNOWN, "offline", "offline"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pp_printer_status_t st = {.state = cases[i].state};
		assert_true(str_copy(st.reasons, sizeof(st.reasons), cases[i].reasons));
		char warning[128];
		bool has = status_warning(&st, warning, sizeof(warning));
		if (strcmp(warning, cases[i].warning) != 0 || has != (cases[i].warning[0] != '\0'))
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, warning, cases[i].warning);
	}
}

/* ---- the addresses a probe covers ---------------------------------------------------------- */

static void test_range_expand(void **state)
{
	(void)state;
	static const struct {
		const char *target;
		int count; /* -1: refused */
		const char *first, *last;
	} cases[] = {
		{"192.0.2.7", 1, "192.0.2.7", "192.0.2.7"},
		{"printer-3.example.com", 1, "printer-3.example.com", "printer-3.example.com"},
		{"192.0.2.0/24", 254, "192.0.2.1", "192.0.2.254"},
		{"192.0.2.77/24", 254, "192.0.2.1", "192.0.2.254"}, /* host bits ignored */
		{"192.0.2.0/30", 2, "192.0.2.1", "192.0.2.2"},
		{"192.0.2.4/31", 2, "192.0.2.4", "192.0.2.5"},
		{"192.0.2.9/32", 1, "192.0.2.9", "192.0.2.9"},
		{"192.0.2.0/23", -1, NULL, NULL}, /* more than 256 addresses */
		{"10.0.0.0/8", -1, NULL, NULL},
		{"192.0.2.0/33", -1, NULL, NULL},
		{"192.0.2.0/", -1, NULL, NULL},
		{"2001:db8::/120", -1, NULL, NULL},
		{"host name", -1, NULL, NULL},
		{"host;rm", -1, NULL, NULL},
		{"", -1, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char(*hosts)[PROBE_HOST_MAX] = NULL;
		size_t count = 0;
		char error[256] = "";
		int rc = probe_range_expand(cases[i].target, &hosts, &count, error, sizeof(error));
		if (cases[i].count < 0) {
			if (rc != -1 || error[0] == '\0')
				fail_msg("row %zu (%s): accepted", i, cases[i].target);
			continue;
		}
		if (rc != 0 || count != (size_t)cases[i].count ||
		    strcmp(hosts[0], cases[i].first) != 0 ||
		    strcmp(hosts[count - 1], cases[i].last) != 0)
			fail_msg("row %zu (%s): rc %d count %zu error %s", i, cases[i].target, rc,
				 count, error);
		free(hosts);
	}
}

/* A local TCP port with no listener (bound once, then closed). */
static unsigned closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(close(fd), 0);
	return ntohs(sin.sin_port);
}

static void test_probe_nothing_there(void **state)
{
	(void)state;
	/* A /30 of loopback addresses with no IPP, SNMP agent or raw port on the ports asked. */
	unsigned port = closed_port();
	pp_probe_options_t options = {.snmp = {.port = port, .timeout_ms = 200, .retries = 0},
				      .ipp_port = port,
				      .ipp_timeout_ms = 500};
	pp_probe_result_t *results = NULL;
	size_t count = 0;
	char error[256];
	assert_int_equal(probe_range("127.0.0.0/30", &options, &results, &count, error,
				     sizeof(error)),
			 0);
	assert_int_equal(count, 2);
	assert_string_equal(results[0].host, "127.0.0.1");
	for (size_t i = 0; i < count; i++) {
		assert_false(results[i].has_snmp);
		assert_false(results[i].has_ipp);
	}
	free(results);

	/* The IPP probe says what failed and what to check. */
	char uri[128];
	assert_true(str_format(uri, sizeof(uri), "ipp://127.0.0.1:%u/ipp/print", port));
	pp_printer_status_t st;
	assert_int_equal(probe_ipp(uri, 500, NULL, &st, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "cannot connect"));
	assert_int_equal(probe_ipp("http://127.0.0.1/", 500, NULL, &st, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "not an ipp://"));
}

/* ---- the cache ----------------------------------------------------------------------------- */

static int64_t add_printer(test_core_t *tc, const char *name, const char *uri)
{
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	assert_non_null(printer);
	printers_init(printer);
	assert_true(str_copy(printer->name, sizeof(printer->name), name));
	assert_true(str_copy(printer->device_uri, sizeof(printer->device_uri), uri));
	int64_t id = 0;
	char error[512];
	if (printers_add(&tc->core, "test", printer, &id, error, sizeof(error)) != 0)
		fail_msg("printers_add: %s", error);
	free(printer);
	return id;
}

static void test_status_store_and_get(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	int64_t id = add_printer(tc, "floor2", "socket://192.0.2.7:9100");
	char error[512];
	pp_status_entry_t *entry = calloc(1, sizeof(*entry));
	assert_non_null(entry);

	/* Never checked: unknown, and the default SNMP port. */
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), STATUS_NOT_FOUND);
	assert_int_equal(entry->status.state, PP_PRINTER_STATE_UNKNOWN);
	assert_int_equal(entry->snmp_port, 161);

	/* SNMP settings alone do not make it checked. */
	assert_int_equal(status_set_snmp(&tc->core, id, "s3cret", 16161, error, sizeof(error)), 0);
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), STATUS_NOT_FOUND);
	assert_int_equal(entry->snmp_port, 16161);
	assert_int_equal(status_set_snmp(&tc->core, id, "", 0, error, sizeof(error)), -1);
	assert_int_equal(status_set_snmp(&tc->core, id, "a\nb", 0, error, sizeof(error)), -1);

	pp_printer_status_t st = {.state = PP_PRINTER_STATE_STOPPED};
	assert_true(str_copy(st.reasons, sizeof(st.reasons), "media-empty,media-jam"));
	st.n_markers = 2;
	st.markers[0] = (pp_probe_marker_t){.name = "Black Toner", .color = "black", .level = 40,
					    .max = 200};
	st.markers[1] = (pp_probe_marker_t){.name = "Drum \"2\"", .level = PROBE_LEVEL_SOME,
					    .max = PROBE_LEVEL_UNKNOWN};
	st.n_trays = 1;
	st.trays[0] = (pp_probe_tray_t){.name = "Tray 2", .media = "iso_a4_210x297mm",
					.width_mm = 210, .height_mm = 297, .level = 0, .max = 500};
	tc->now = TEST_CORE_T0 + 100;
	assert_int_equal(status_store(&tc->core, id, &st, "", error, sizeof(error)), 0);
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), 0);
	assert_int_equal(entry->status.state, PP_PRINTER_STATE_STOPPED);
	assert_string_equal(entry->status.reasons, "media-empty,media-jam");
	assert_int_equal(entry->checked_at, TEST_CORE_T0 + 100);
	assert_int_equal(entry->status.n_markers, 2);
	assert_string_equal(entry->status.markers[0].name, "Black Toner");
	assert_string_equal(entry->status.markers[0].color, "black");
	assert_int_equal(entry->status.markers[0].level, 40);
	assert_int_equal(entry->status.markers[0].max, 200);
	assert_string_equal(entry->status.markers[1].name, "Drum \"2\"");
	assert_int_equal(entry->status.markers[1].level, PROBE_LEVEL_SOME);
	assert_int_equal(entry->status.n_trays, 1);
	assert_string_equal(entry->status.trays[0].media, "iso_a4_210x297mm");
	assert_int_equal(entry->status.trays[0].height_mm, 297);
	assert_int_equal(entry->status.trays[0].max, 500);
	assert_string_equal(entry->error, "");
	/* The SNMP settings survived the status update; a port-only change keeps the rest. */
	assert_int_equal(entry->snmp_port, 16161);
	assert_int_equal(status_set_snmp(&tc->core, id, NULL, 1161, error, sizeof(error)), 0);
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), 0);
	assert_int_equal(entry->snmp_port, 1161);
	assert_int_equal(entry->status.state, PP_PRINTER_STATE_STOPPED);

	/* A second store replaces the first. */
	pp_printer_status_t idle = {.state = PP_PRINTER_STATE_IDLE};
	assert_int_equal(status_store(&tc->core, id, &idle, NULL, error, sizeof(error)), 0);
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), 0);
	assert_int_equal(entry->status.state, PP_PRINTER_STATE_IDLE);
	assert_string_equal(entry->status.reasons, "");
	assert_int_equal(entry->status.n_markers, 0);

	/* The row goes with the printer. */
	assert_int_equal(printers_remove(&tc->core, "test", id, error, sizeof(error)), 0);
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), STATUS_NOT_FOUND);
	free(entry);
}

static void test_status_offline_printer(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	unsigned port = closed_port();
	char uri[128], error[512];
	assert_true(str_format(uri, sizeof(uri), "ipp://127.0.0.1:%u/ipp/print", port));
	int64_t id = add_printer(tc, "gone", uri);
	/* No agent on the SNMP port either: the fallback gives up after one short wait. */
	assert_int_equal(status_set_snmp(&tc->core, id, NULL, port, error, sizeof(error)), 0);
	pp_printer_t printer;
	assert_int_equal(printers_get(&tc->core, id, &printer, error, sizeof(error)), 0);

	char warning[128];
	assert_true(status_check_before_release(&tc->core, &printer, warning, sizeof(warning)));
	assert_string_equal(warning, "offline");
	pp_status_entry_t *entry = calloc(1, sizeof(*entry));
	assert_non_null(entry);
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), 0);
	assert_int_equal(entry->status.state, PP_PRINTER_STATE_OFFLINE);
	assert_non_null(strstr(entry->error, "cannot connect"));

	/* A fresh cached status is used as it is: a stored "idle" gives no warning... */
	pp_printer_status_t idle = {.state = PP_PRINTER_STATE_IDLE};
	assert_int_equal(status_store(&tc->core, id, &idle, NULL, error, sizeof(error)), 0);
	assert_false(status_check_before_release(&tc->core, &printer, warning, sizeof(warning)));
	assert_string_equal(warning, "");
	/* ...until it is older than the limit: then the printer is asked again. */
	tc->now += STATUS_RELEASE_MAX_AGE_S + 1;
	assert_true(status_check_before_release(&tc->core, &printer, warning, sizeof(warning)));
	assert_string_equal(warning, "offline");

	/* refresh_all asks enabled printers only. */
	tc->now += 10;
	assert_int_equal(printers_set_enabled(&tc->core, "test", id, false, error, sizeof(error)),
			 0);
	size_t refreshed = 99;
	assert_int_equal(status_refresh_all(&tc->core, 0, &refreshed, error, sizeof(error)), 0);
	assert_int_equal(refreshed, 0);
	assert_int_equal(printers_set_enabled(&tc->core, "test", id, true, error, sizeof(error)),
			 0);
	assert_int_equal(status_refresh_all(&tc->core, 0, &refreshed, error, sizeof(error)), 0);
	assert_int_equal(refreshed, 1);
	assert_int_equal(status_get(&tc->core, id, entry, error, sizeof(error)), 0);
	assert_int_equal(entry->checked_at, tc->now);
	free(entry);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snmp_error_bits),
		cmocka_unit_test(test_reasons_list),
		cmocka_unit_test(test_release_warning),
		cmocka_unit_test(test_range_expand),
		cmocka_unit_test(test_probe_nothing_there),
		TEST_CORE_CASE(test_status_store_and_get),
		TEST_CORE_CASE(test_status_offline_printer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
