/*
 * test-backend.c - the CUPS backend's decisions as an admin meets them: which backend.conf
 * files and device URIs it takes, whether it hands the token to a certificate, what it sends
 * for a CUPS job, and what cupsd does next (the exit code) for each answer of the server.
 */
#include "test-support.h"

#include "backend/backend.h"

#include <cups/backend.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TOKEN "ppf_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FP_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define FP_COLONS                                                                              \
	"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:"  \
	"CC:DD:EE:FF"

/* Writes text to dir/backend.conf with mode; returns the path (static buffer per call). */
static void write_conf(const char *dir, const char *text, mode_t mode, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/backend.conf", dir);
	assert_true(n > 0 && (size_t)n < size);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

typedef struct {
	const char *name;
	const char *text;
	mode_t mode;
	bool ok;
	const char *host;
	int port;
	bool has_fingerprint;
	const char *error_part; /* what the message must mention */
} conf_case_t;

static const conf_case_t conf_cases[] = {
	{"minimal", "[backend]\nserver = ipps://print.example.com:8631\ntoken = " TOKEN "\n",
	 0600, true, "print.example.com", 8631, false, NULL},
	{"pinned, colons", "[backend]\nserver = ipps://10.0.0.5:443/\ntoken = " TOKEN
			   "\nfingerprint = " FP_COLONS "\n",
	 0600, true, "10.0.0.5", 443, true, NULL},
	{"pinned, plain hex, path", "[backend]\nserver = ipps://h:1/ipp/print\ntoken = " TOKEN
				    "\nfingerprint = " FP_HEX "\n",
	 0640, true, "h", 1, true, NULL},
	{"no port", "[backend]\nserver = ipps://h\ntoken = " TOKEN "\n", 0600, false, NULL, 0,
	 false, "ipps://HOST:PORT"},
	{"plain ipp", "[backend]\nserver = ipp://h:631\ntoken = " TOKEN "\n", 0600, false, NULL,
	 0, false, "ipps://HOST:PORT"},
	{"credentials in URL", "[backend]\nserver = ipps://u:p@h:631\ntoken = " TOKEN "\n", 0600,
	 false, NULL, 0, false, "server"},
	{"other path", "[backend]\nserver = ipps://h:631/printers/x\ntoken = " TOKEN "\n", 0600,
	 false, NULL, 0, false, "server"},
	{"app token", "[backend]\nserver = ipps://h:1\ntoken = ppa_0123\n", 0600, false, NULL, 0,
	 false, "pullprint forwarders add"},
	{"token missing", "[backend]\nserver = ipps://h:1\n", 0600, false, NULL, 0, false,
	 "token"},
	{"server missing", "[backend]\ntoken = " TOKEN "\n", 0600, false, NULL, 0, false,
	 "server"},
	{"short fingerprint", "[backend]\nserver = ipps://h:1\ntoken = " TOKEN
			      "\nfingerprint = 00:11\n",
	 0600, false, NULL, 0, false, "fingerprint"},
	{"unknown key", "[backend]\nserver = ipps://h:1\ntoken = " TOKEN "\nuser = x\n", 0600,
	 false, NULL, 0, false, "unknown setting"},
	{"other section", "[server]\nstate_dir = /x\n", 0600, false, NULL, 0, false, "[backend]"},
	{"world-readable", "[backend]\nserver = ipps://h:1\ntoken = " TOKEN "\n", 0644, false,
	 NULL, 0, false, "chmod 600"},
};

static void test_conf_load_table(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	for (size_t i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
		const conf_case_t *c = &conf_cases[i];
		char path[4200], error[1024] = "";
		write_conf(dir, c->text, c->mode, path, sizeof(path));
		pp_backend_conf_t conf;
		int rc = backend_conf_load(&conf, path, error, sizeof(error));
		if ((rc == 0) != c->ok)
			fail_msg("case %s: rc %d, error \"%s\"", c->name, rc, error);
		if (c->ok) {
			assert_string_equal(conf.host, c->host);
			assert_int_equal(conf.port, c->port);
			assert_string_equal(conf.token, TOKEN);
			assert_int_equal(conf.has_fingerprint, c->has_fingerprint);
			backend_conf_wipe(&conf);
			assert_int_equal(conf.token[0], '\0');
		} else {
			if (strstr(error, c->error_part) == NULL)
				fail_msg("case %s: error \"%s\" lacks \"%s\"", c->name, error,
					 c->error_part);
			/* The message never carries the token. */
			assert_null(strstr(error, TOKEN + 4));
		}
	}
	char missing[4200], error[1024];
	assert_true(snprintf(missing, sizeof(missing), "%s/nope.conf", dir) > 0);
	pp_backend_conf_t conf;
	assert_int_equal(backend_conf_load(&conf, missing, error, sizeof(error)), -1);
	assert_non_null(strstr(error, "cannot open"));
	test_rmtree(dir);
	free(dir);
}

static void test_fingerprint_parse(void **state)
{
	(void)state;
	uint8_t fp[BACKEND_FINGERPRINT_BYTES];
	assert_true(backend_parse_fingerprint(FP_COLONS, fp));
	char hex[65];
	backend_fingerprint_hex(fp, hex);
	assert_string_equal(hex, FP_HEX);
	assert_true(backend_parse_fingerprint(FP_HEX, fp));
	assert_false(backend_parse_fingerprint(FP_HEX "00", fp));
	assert_false(backend_parse_fingerprint(
		"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", fp));
	assert_false(backend_parse_fingerprint("", fp));
}

typedef struct {
	const char *uri;
	bool ok;
	const char *host;
	int port;
} uri_case_t;

static const uri_case_t uri_cases[] = {
	{"pullprint://other.example.com:9000", true, "other.example.com", 9000},
	{"pullprint://other.example.com", true, "other.example.com", 8631},
	{"pullprint://other.example.com:9000/", true, "other.example.com", 9000},
	{"pullprint://127.0.0.1:631", true, "127.0.0.1", 631},
	{"pullprint://", true, "conf.example.com", 8631},
	{"pullprint:/", true, "conf.example.com", 8631},
	{"ipps://h:631", false, NULL, 0},
	{"pullprint://h:1/queue", false, NULL, 0},
	{"pullprint://user@h:1", false, NULL, 0},
	{"pullprint:h", false, NULL, 0},
	{"pullprint://h:99999", false, NULL, 0},
};

static void test_device_uri_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(uri_cases) / sizeof(uri_cases[0]); i++) {
		const uri_case_t *c = &uri_cases[i];
		pp_backend_conf_t conf = {.host = "conf.example.com", .port = 8631};
		char error[512] = "";
		int rc = backend_conf_apply_device_uri(&conf, c->uri, error, sizeof(error));
		if ((rc == 0) != c->ok)
			fail_msg("uri %s: rc %d, error \"%s\"", c->uri, rc, error);
		if (c->ok) {
			assert_string_equal(conf.host, c->host);
			assert_int_equal(conf.port, c->port);
		} else {
			assert_non_null(strstr(error, "pullprint://HOST:PORT"));
			assert_string_equal(conf.host, "conf.example.com");
		}
	}
}

typedef struct {
	http_status_t http;
	ipp_status_t ipp;
	int code;
} exit_case_t;

static const exit_case_t exit_cases[] = {
	{HTTP_STATUS_OK, IPP_STATUS_OK, CUPS_BACKEND_OK},
	{HTTP_STATUS_OK, IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED, CUPS_BACKEND_OK},
	{0, IPP_STATUS_OK, CUPS_BACKEND_OK},
	/* The token is wrong or revoked. */
	{HTTP_STATUS_UNAUTHORIZED, IPP_STATUS_ERROR_NOT_AUTHENTICATED, CUPS_BACKEND_AUTH_REQUIRED},
	{HTTP_STATUS_CUPS_AUTHORIZATION_CANCELED, IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED,
	 CUPS_BACKEND_AUTH_REQUIRED},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_NOT_AUTHENTICATED, CUPS_BACKEND_AUTH_REQUIRED},
	/* Unreachable, busy, failing: later. */
	{HTTP_STATUS_ERROR, IPP_STATUS_ERROR_INTERNAL, CUPS_BACKEND_RETRY},
	{HTTP_STATUS_SERVICE_UNAVAILABLE, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, CUPS_BACKEND_RETRY},
	{HTTP_STATUS_SERVER_ERROR, IPP_STATUS_ERROR_INTERNAL, CUPS_BACKEND_RETRY},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, CUPS_BACKEND_RETRY},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_BUSY, CUPS_BACKEND_RETRY},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS, CUPS_BACKEND_RETRY},
	/* This job or user is refused for good. */
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, CUPS_BACKEND_CANCEL},
	{HTTP_STATUS_REQUEST_TOO_LARGE, IPP_STATUS_ERROR_REQUEST_VALUE, CUPS_BACKEND_CANCEL},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_REQUEST_ENTITY, CUPS_BACKEND_CANCEL},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_FORBIDDEN, CUPS_BACKEND_CANCEL},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_NOT_AUTHORIZED, CUPS_BACKEND_CANCEL},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_BAD_REQUEST, CUPS_BACKEND_CANCEL},
	/* The admin must fix the address. */
	{HTTP_STATUS_NOT_FOUND, IPP_STATUS_ERROR_NOT_FOUND, CUPS_BACKEND_FAILED},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_NOT_FOUND, CUPS_BACKEND_FAILED},
	{HTTP_STATUS_OK, IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED, CUPS_BACKEND_FAILED},
	{HTTP_STATUS_BAD_REQUEST, IPP_STATUS_ERROR_BAD_REQUEST, CUPS_BACKEND_FAILED},
	{HTTP_STATUS_FORBIDDEN, IPP_STATUS_ERROR_FORBIDDEN, CUPS_BACKEND_FAILED},
};

static void test_exit_code_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exit_cases) / sizeof(exit_cases[0]); i++) {
		const exit_case_t *c = &exit_cases[i];
		int code = backend_exit_code(c->http, c->ipp);
		if (code != c->code)
			fail_msg("http %d ipp %s: exit %d, expected %d", (int)c->http,
				 ippErrorString(c->ipp), code, c->code);
	}
}

static void test_document_format(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"application/pdf", "application/pdf"},
		{"image/jpeg", "image/jpeg"},
		{NULL, "application/octet-stream"},
		{"", "application/octet-stream"},
		{"garbage", "application/octet-stream"},
		{"application/vnd.cups-raw", "application/octet-stream"},
		{"application/vnd.cups-pdf", "application/octet-stream"},
		{"printer/office", "application/octet-stream"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(backend_document_format(cases[i][0]), cases[i][1]);
}

static void test_copies(void **state)
{
	(void)state;
	int copies = 0;
	assert_true(backend_parse_copies("1", &copies));
	assert_int_equal(copies, 1);
	assert_true(backend_parse_copies("9999", &copies));
	assert_int_equal(copies, 9999);
	assert_false(backend_parse_copies("0", &copies));
	assert_false(backend_parse_copies("10000", &copies));
	assert_false(backend_parse_copies("-1", &copies));
	assert_false(backend_parse_copies("2x", &copies));
	assert_false(backend_parse_copies("", &copies));
}

/* The string value of name in group, or NULL. */
static const char *request_string(ipp_t *request, const char *name, ipp_tag_t group)
{
	ipp_attribute_t *attr = ippFindAttribute(request, name, IPP_TAG_ZERO);
	if (attr == NULL || ippGetGroupTag(attr) != group)
		return NULL;
	return ippGetString(attr, 0, NULL);
}

static int request_int(ipp_t *request, const char *name)
{
	ipp_attribute_t *attr = ippFindAttribute(request, name, IPP_TAG_ZERO);
	assert_non_null(attr);
	assert_int_equal(ippGetGroupTag(attr), IPP_TAG_JOB);
	return ippGetInteger(attr, 0);
}

static void test_request_from_job(void **state)
{
	(void)state;
	pp_backend_job_t job = {
		.user = "someone@example.com",
		.title = "Quarterly report.pdf",
		.copies = 3,
		.options = "job-uuid=urn:uuid:1 job-originating-host-name=pc1 media=A4 "
			   "Duplex=DuplexNoTumble ColorModel=Gray number-up=2 landscape "
			   "page-ranges=1-3 time-at-creation=1700000000",
		.format = "application/pdf",
	};
	ipp_t *request = backend_job_request(&job, "print.example.com", 8631, false);
	assert_non_null(request);
	assert_int_equal(ippGetOperation(request), IPP_OP_PRINT_JOB);
	assert_string_equal(request_string(request, "printer-uri", IPP_TAG_OPERATION),
			    "ipps://print.example.com:8631/ipp/print");
	assert_string_equal(request_string(request, "requesting-user-name", IPP_TAG_OPERATION),
			    "someone@example.com");
	assert_string_equal(request_string(request, "job-name", IPP_TAG_OPERATION),
			    "Quarterly report.pdf");
	assert_string_equal(request_string(request, "document-format", IPP_TAG_OPERATION),
			    "application/pdf");
	assert_int_equal(request_int(request, "copies"), 3);
	assert_string_equal(request_string(request, "media", IPP_TAG_JOB), "iso_a4_210x297mm");
	assert_string_equal(request_string(request, "sides", IPP_TAG_JOB), "two-sided-long-edge");
	assert_string_equal(request_string(request, "print-color-mode", IPP_TAG_JOB),
			    "monochrome");
	assert_int_equal(request_int(request, "number-up"), 2);
	assert_int_equal(request_int(request, "orientation-requested"), 4);
	int upper = 0;
	ipp_attribute_t *ranges = ippFindAttribute(request, "page-ranges", IPP_TAG_RANGE);
	assert_non_null(ranges);
	assert_int_equal(ippGetRange(ranges, 0, &upper), 1);
	assert_int_equal(upper, 3);
	/* cupsd's own bookkeeping is not the sender's wish. */
	assert_null(ippFindAttribute(request, "job-uuid", IPP_TAG_ZERO));
	assert_null(ippFindAttribute(request, "job-originating-host-name", IPP_TAG_ZERO));
	assert_null(ippFindAttribute(request, "time-at-creation", IPP_TAG_ZERO));
	assert_null(ippFindAttribute(request, "landscape", IPP_TAG_ZERO));
	ippDelete(request);

	/* IPP names win over PPD spellings; Validate-Job carries the same attributes. */
	job.options = "sides=one-sided Duplex=DuplexTumble print-color-mode=color "
		      "ColorModel=Gray media=na_letter_8.5x11in,tray-1";
	request = backend_job_request(&job, "h", 1, true);
	assert_non_null(request);
	assert_int_equal(ippGetOperation(request), IPP_OP_VALIDATE_JOB);
	assert_string_equal(request_string(request, "sides", IPP_TAG_JOB), "one-sided");
	assert_string_equal(request_string(request, "print-color-mode", IPP_TAG_JOB), "color");
	assert_string_equal(request_string(request, "media", IPP_TAG_JOB), "na_letter_8.5x11in");
	ippDelete(request);
}

static void test_request_long_title_cut_at_character(void **state)
{
	(void)state;
	char title[400];
	memset(title, 'a', 254);
	memcpy(title + 254, "\xc3\xa9tude", 7); /* "é" straddles the 255-octet limit */
	pp_backend_job_t job = {.user = "u@example.com", .title = title, .copies = 1,
				.options = "", .format = "application/pdf"};
	ipp_t *request = backend_job_request(&job, "h", 1, false);
	assert_non_null(request);
	const char *name = request_string(request, "job-name", IPP_TAG_OPERATION);
	assert_int_equal(strlen(name), 254);
	ippDelete(request);
	job.title = "";
	request = backend_job_request(&job, "h", 1, false);
	assert_string_equal(request_string(request, "job-name", IPP_TAG_OPERATION), "Untitled");
	ippDelete(request);
}

/* A fresh self-signed certificate for host as DER. New; gnutls_free(der->data). */
static void make_self_signed(const char *host, gnutls_datum_t *der)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
						      0),
			 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	unsigned char serial[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
	time_t now = time(NULL);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now - 60), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + 86400), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
						       (unsigned)strlen(host)),
			 0);
	assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
							      (unsigned)strlen(host),
							      GNUTLS_FSAN_SET),
			 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void test_tls_pin_and_trust(void **state)
{
	(void)state;
	gnutls_datum_t der;
	make_self_signed("print.example.com", &der);
	const uint8_t *certs[1] = {der.data};
	size_t sizes[1] = {der.size};
	uint8_t seen[BACKEND_FINGERPRINT_BYTES];

	/* Not pinned: a self-signed certificate is not trusted, and we learn what to pin. */
	pp_backend_conf_t conf = {.host = "print.example.com", .port = 8631};
	assert_int_equal(backend_tls_check_chain(&conf, conf.host, certs, sizes, 1, seen),
			 BACKEND_TLS_UNTRUSTED);
	uint8_t expected[BACKEND_FINGERPRINT_BYTES];
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, expected), 0);
	assert_memory_equal(seen, expected, sizeof(expected));

	/* Pinned to it: accepted, whatever the name. */
	conf.has_fingerprint = true;
	memcpy(conf.fingerprint, expected, sizeof(expected));
	assert_int_equal(backend_tls_check_chain(&conf, "other.example.com", certs, sizes, 1,
						 NULL),
			 BACKEND_TLS_OK);

	/* Pinned to another: refused. */
	conf.fingerprint[0] ^= 1;
	assert_int_equal(backend_tls_check_chain(&conf, conf.host, certs, sizes, 1, NULL),
			 BACKEND_TLS_MISMATCH);

	/* Nothing to look at, or not a certificate. */
	assert_int_equal(backend_tls_check_chain(&conf, conf.host, certs, sizes, 0, NULL),
			 BACKEND_TLS_ERROR);
	conf.has_fingerprint = false;
	const uint8_t junk[4] = {1, 2, 3, 4};
	const uint8_t *junk_certs[1] = {junk};
	size_t junk_sizes[1] = {sizeof(junk)};
	assert_int_equal(backend_tls_check_chain(&conf, conf.host, junk_certs, junk_sizes, 1, NULL),
			 BACKEND_TLS_ERROR);
	gnutls_free(der.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_load_table),
		cmocka_unit_test(test_fingerprint_parse),
		cmocka_unit_test(test_device_uri_table),
		cmocka_unit_test(test_exit_code_table),
		cmocka_unit_test(test_document_format),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_request_from_job),
		cmocka_unit_test(test_request_long_title_cut_at_character),
		cmocka_unit_test(test_tls_pin_and_trust),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
