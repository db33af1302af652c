/*
 * test-mail-parse.c - reading mails as people send them: which parts print (typed by their
 * content), which are skipped and why, the body policy, encoded names in any charset,
 * forwarded mails, noise (bounces, auto-replies, lists, our own mail) and the
 * Authentication-Results verdict. No database: the policy is given as a struct.
 */
#include "test-support.h"

#include "lib/str.h"
#include "mail/mail-in-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JPEG_B64                                                                                   \
	"/9j/4AAQSkZJRgAAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2" \
	"Nzg5Ojs8PT4/QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4" \
	"eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKTlJWWl5iZmpucnZ6foKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6" \
	"u7y9vr/AwcLDxMXGxw=="
#define PNG_B64                                                                                    \
	"iVBORw0KGgoAAAANSUhEUgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAA=="
#define ZIP_B64                                                                                    \
	"UEsDBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

#define HDR                                                                                        \
	"From: Alice Example <Alice@Example.COM>\r\n"                                              \
	"To: print@example.com\r\n"                                                                \
	"Subject: test\r\n"                                                                        \
	"Message-ID: <m1@example.com>\r\n"                                                         \
	"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"                                                \
	"MIME-Version: 1.0\r\n"

#define MIXED_START                                                                                \
	HDR "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"                               \
	    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease print.\r\n"
#define PDF_PART(disposition)                                                                      \
	"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: " disposition               \
	"\r\n\r\n%PDF-1.4\r\n1 0 obj << >> endobj\r\n%%EOF\r\n"

typedef struct {
	const char *name;
	const char *raw;
	mail_body_policy_t body_policy;
	size_t inline_below; /* 0 = default 20480 */
	int rc;
	const char *parts;   /* "name|type;…" in order */
	const char *skipped; /* "name|reason prefix;…" in order */
	pp_mail_noise_t noise;
	const char *from;
} parse_case_t;

static const parse_case_t parse_cases[] = {
    {"text only: the body prints", HDR "Content-Type: text/plain\r\n\r\nHello printer\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "message.txt|text/plain", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"text only, body never", HDR "Content-Type: text/plain\r\n\r\nHello printer\r\n",
     MAIL_BODY_NEVER, 0, 0, "", "", PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"blank body prints nothing", HDR "Content-Type: text/plain\r\n\r\n \r\n\r\n",
     MAIL_BODY_ALWAYS, 0, 0, "", "", PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"pdf attachment, body not printed",
     MIXED_START PDF_PART("attachment; filename=\"report.pdf\"") "--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "report.pdf|application/pdf", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"pdf attachment, body always",
     MIXED_START PDF_PART("attachment; filename=\"report.pdf\"") "--b1--\r\n", MAIL_BODY_ALWAYS,
     0, 0, "report.pdf|application/pdf;message.txt|text/plain", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"RFC 2231 name in UTF-8",
     MIXED_START PDF_PART("attachment; filename*=UTF-8''%C3%BCbersicht%20Q3.pdf") "--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "\xc3\xbc" "bersicht Q3.pdf|application/pdf", "",
     PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"RFC 2231 continued name in Latin-1",
     MIXED_START PDF_PART("attachment;\r\n filename*0*=iso-8859-1''Gr%FC;\r\n filename*1*=%DFe.pdf")
         "--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "Gr\xc3\xbc\xc3\x9f" "e.pdf|application/pdf", "",
     PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"RFC 2047 name",
     MIXED_START PDF_PART("attachment; filename=\"=?UTF-8?B?w7xiZXJzaWNodC5wZGY=?=\"")
         "--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "\xc3\xbc" "bersicht.pdf|application/pdf", "",
     PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"typed by content: a PDF called .jpg sent as image/jpeg",
     MIXED_START "--b1\r\nContent-Type: image/jpeg; name=\"photo.jpg\"\r\n"
                 "Content-Disposition: attachment\r\n\r\n%PDF-1.7\r\n%%EOF\r\n--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "photo.jpg|application/pdf", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"a JPEG and an unsupported zip",
     MIXED_START "--b1\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
                 "Content-Disposition: attachment; filename=photo.jpg\r\n\r\n" JPEG_B64 "\r\n"
                 "--b1\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
                 "Content-Disposition: attachment; filename=files.zip\r\n\r\n" ZIP_B64
                 "\r\n--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "photo.jpg|image/jpeg", "files.zip|unsupported type",
     PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"SVG looks like text but is not printed as its source",
     MIXED_START "--b1\r\nContent-Type: image/svg+xml\r\n"
                 "Content-Disposition: attachment; filename=logo.svg\r\n\r\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\r\n--b1--\r\n",
     MAIL_BODY_NEVER, 0, 0, "", "logo.svg|unsupported type image/svg+xml", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"empty attachment is named",
     MIXED_START "--b1\r\nContent-Type: application/pdf\r\n"
                 "Content-Disposition: attachment; filename=empty.pdf\r\n\r\n\r\n--b1--\r\n",
     MAIL_BODY_NEVER, 0, 0, "", "empty.pdf|empty", PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"small inline logo skipped, body prints",
     HDR "Content-Type: multipart/related; boundary=\"r\"\r\n\r\n"
         "--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>Hi <img "
         "src=\"cid:logo\"></body></html>\r\n"
         "--r\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" PNG_B64 "\r\n--r--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "message.html|text/html", "attachment-1|inline image",
     PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"inline logo printed when the threshold is 0",
     HDR "Content-Type: multipart/related; boundary=\"r\"\r\n\r\n"
         "--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html>Hi</html>\r\n"
         "--r\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" PNG_B64 "\r\n--r--\r\n",
     MAIL_BODY_NEVER, 1, 0, "attachment-1|image/png", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"alternative: plain text wins over HTML",
     HDR "Content-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
         "--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain words\r\n"
         "--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html>html words</html>\r\n"
         "--a--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "message.txt|text/plain", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"forwarded mail: its attachment prints, its text does not",
     MIXED_START "--b1\r\nContent-Type: message/rfc822\r\n\r\n"
                 "From: bob@example.org\r\nSubject: the file\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n"
                 "--in\r\nContent-Type: text/plain\r\n\r\nbob's text\r\n"
                 "--in\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
                 "Content-Disposition: attachment; filename=\"scan.jpg\"\r\n\r\n" JPEG_B64
                 "\r\n--in--\r\n\r\n--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "scan.jpg|image/jpeg", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"Latin-1 text attachment becomes UTF-8 text",
     MIXED_START "--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n"
                 "Content-Disposition: attachment; filename=notes.txt\r\n\r\nGr\xfc\xdf"
                 "e\r\n--b1--\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "notes.txt|text/plain", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"multipart without a boundary is unreadable",
     HDR "Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, -1, "", "", PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"auto-reply is noise",
     HDR "Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n\r\nI am away\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "message.txt|text/plain", "", PP_MAIL_NOISE_AUTO_SUBMITTED,
     "alice@example.com"},
    {"Auto-Submitted: no is a person",
     HDR "Auto-Submitted: no\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
     MAIL_BODY_NO_ATTACHMENTS, 0, 0, "message.txt|text/plain", "", PP_MAIL_NOISE_NONE,
     "alice@example.com"},
    {"Precedence: bulk is noise",
     HDR "Precedence: bulk\r\nContent-Type: text/plain\r\n\r\nnews\r\n", MAIL_BODY_NEVER, 0, 0,
     "", "", PP_MAIL_NOISE_PRECEDENCE, "alice@example.com"},
    {"List-Id alone is not noise",
     HDR "List-Id: <staff.example.com>\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
     MAIL_BODY_NEVER, 0, 0, "", "", PP_MAIL_NOISE_NONE, "alice@example.com"},
    {"null Return-Path is noise",
     "Return-Path: <>\r\n" HDR "Content-Type: text/plain\r\n\r\nbounce\r\n", MAIL_BODY_NEVER, 0,
     0, "", "", PP_MAIL_NOISE_NULL_SENDER, "alice@example.com"},
    {"delivery report is a bounce",
     "From: MAILER-DAEMON@example.com\r\nSubject: failure\r\nMIME-Version: 1.0\r\n"
     "Content-Type: multipart/report; report-type=delivery-status; boundary=\"d\"\r\n\r\n"
     "--d\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--d--\r\n",
     MAIL_BODY_NEVER, 0, 0, "", "", PP_MAIL_NOISE_BOUNCE, "mailer-daemon@example.com"},
    {"mail from our own address is noise",
     "From: print-replies@example.com\r\nSubject: Re\r\nContent-Type: text/plain\r\n\r\nx\r\n",
     MAIL_BODY_NEVER, 0, 0, "", "", PP_MAIL_NOISE_OWN_ADDRESS, "print-replies@example.com"},
    {"no From at all is a null sender",
     "Subject: who\r\nContent-Type: text/plain\r\n\r\nx\r\n", MAIL_BODY_NEVER, 0, 0, "", "",
     PP_MAIL_NOISE_NULL_SENDER, ""},
};

/* Checks list text "a|b;c|d" against the parts (or skipped entries) of msg. */
static void check_list(const char *row, const char *expected, const pp_mail_message_t *msg,
                       bool is_parts)
{
	char want[2048];
	assert_true(str_copy(want, sizeof(want), expected));
	size_t n = 0;
	char *save = NULL;
	for (char *item = strtok_r(want, ";", &save); item != NULL;
	     item = strtok_r(NULL, ";", &save), n++) {
		char *bar = strchr(item, '|');
		assert_non_null(bar);
		*bar = '\0';
		size_t have = is_parts ? msg->n_parts : msg->n_skipped;
		if (n >= have)
			fail_msg("%s: missing %s %s", row, is_parts ? "part" : "skipped", item);
		const char *name = is_parts ? msg->parts[n].name : msg->skipped[n].name;
		const char *second = is_parts ? msg->parts[n].content_type : msg->skipped[n].reason;
		if (strcmp(name, item) != 0)
			fail_msg("%s: entry %zu is named \"%s\", expected \"%s\"", row, n, name, item);
		bool is_match = is_parts ? strcmp(second, bar + 1) == 0
		                         : strncmp(second, bar + 1, strlen(bar + 1)) == 0;
		if (!is_match)
			fail_msg("%s: entry %s has \"%s\", expected \"%s\"", row, item, second, bar + 1);
	}
	size_t have = is_parts ? msg->n_parts : msg->n_skipped;
	if (have != n)
		fail_msg("%s: %zu %s, expected %zu (first extra: %s)", row, have,
		         is_parts ? "parts" : "skipped", n,
		         is_parts ? msg->parts[n].name : msg->skipped[n].name);
}

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const parse_case_t *c = &parse_cases[i];
		mail_policy_t policy;
		mail_policy_defaults(&policy);
		policy.body_policy = c->body_policy;
		if (c->inline_below != 0)
			policy.skip_inline_below_bytes = c->inline_below;
		mail_policy_add_own(&policy, "Print-Replies@example.com");
		pp_mail_message_t *msg = NULL;
		char error[256] = "";
		int rc = mail_parse_with_policy(&policy, 3, "print@example.com",
		                                (const uint8_t *)c->raw, strlen(c->raw), &msg, error,
		                                sizeof(error));
		if (rc != c->rc)
			fail_msg("%s: rc %d, expected %d (%s)", c->name, rc, c->rc, error);
		assert_non_null(msg);
		if (strcmp(msg->from, c->from) != 0)
			fail_msg("%s: from \"%s\", expected \"%s\"", c->name, msg->from, c->from);
		if (msg->noise != c->noise)
			fail_msg("%s: noise %s, expected %s", c->name, mail_noise_name(msg->noise),
			         mail_noise_name(c->noise));
		assert_int_equal(msg->is_noise, c->noise != PP_MAIL_NOISE_NONE);
		assert_int_equal(msg->account_id, 3);
		assert_string_equal(msg->to, "print@example.com");
		if (rc == 0) {
			check_list(c->name, c->parts, msg, true);
			check_list(c->name, c->skipped, msg, false);
		} else {
			assert_true(error[0] != '\0');
		}
		mail_message_free(&msg);
		assert_null(msg);
	}
}

/* Headers: Message-ID without brackets, decoded subject, date, display name, hash. */
static void test_parse_headers(void **state)
{
	(void)state;
	const char *raw = "From: =?ISO-8859-1?Q?J=FCrgen?= <jurgen@example.de>\r\n"
	                  "Subject: =?UTF-8?Q?Bericht_f=C3=BCr_=E2=82=AC?=\r\n"
	                  "Message-ID: <abc.123@example.de>\r\n"
	                  "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	                  "Content-Type: text/plain; charset=iso-8859-1\r\n"
	                  "Content-Transfer-Encoding: quoted-printable\r\n\r\nS=FC=DF\r\n";
	mail_policy_t policy;
	mail_policy_defaults(&policy);
	pp_mail_message_t *msg = NULL;
	char error[256];
	assert_int_equal(mail_parse_with_policy(&policy, 1, "p@example.com", (const uint8_t *)raw,
	                                        strlen(raw), &msg, error, sizeof(error)),
	                 0);
	assert_string_equal(msg->message_id, "abc.123@example.de");
	assert_string_equal(msg->subject, "Bericht f\xc3\xbcr \xe2\x82\xac");
	assert_string_equal(msg->from_name, "J\xc3\xbcrgen");
	assert_string_equal(msg->from, "jurgen@example.de");
	assert_int_equal(msg->date, 1700000000);
	/* The body, converted to UTF-8, prints as text. */
	assert_string_equal(msg->body, "S\xc3\xbc\xc3\x9f\r\n");
	assert_false(msg->body_is_html);
	assert_int_equal(msg->n_parts, 1);
	assert_true(msg->parts[0].is_body);
	/* The same bytes give the same hash; one byte more does not. */
	pp_mail_message_t *again = NULL;
	assert_int_equal(mail_parse_with_policy(&policy, 1, "p@example.com", (const uint8_t *)raw,
	                                        strlen(raw), &again, error, sizeof(error)),
	                 0);
	assert_memory_equal(msg->content_hash, again->content_hash, MAIL_HASH_BYTES);
	mail_message_free(&again);
	assert_int_equal(mail_parse_with_policy(&policy, 1, "p@example.com", (const uint8_t *)raw,
	                                        strlen(raw) - 1, &again, error, sizeof(error)),
	                 0);
	assert_memory_not_equal(msg->content_hash, again->content_hash, MAIL_HASH_BYTES);
	mail_message_free(&again);
	mail_message_free(&msg);
	mail_message_free(&msg); /* NULL is a no-op */
}

/* A mail over the size cap: unreadable, but its sender is known for the reply. */
static void test_parse_too_large(void **state)
{
	(void)state;
	const char *raw = MIXED_START PDF_PART("attachment; filename=big.pdf") "--b1--\r\n";
	mail_policy_t policy;
	mail_policy_defaults(&policy);
	policy.max_message_bytes = 200;
	pp_mail_message_t *msg = NULL;
	char error[256];
	assert_int_equal(mail_parse_with_policy(&policy, 1, "", (const uint8_t *)raw, strlen(raw),
	                                        &msg, error, sizeof(error)),
	                 -1);
	assert_non_null(msg);
	assert_string_equal(msg->from, "alice@example.com");
	assert_string_equal(msg->subject, "test");
	assert_non_null(strstr(error, "larger than 200 bytes"));
	mail_message_free(&msg);

	/* Nothing that looks like a mail at all, and an empty one. */
	assert_int_equal(mail_parse_with_policy(&policy, 1, "", (const uint8_t *)"", 0, &msg, error,
	                                        sizeof(error)),
	                 -1);
	assert_null(msg);
}

/* Authentication-Results under each policy. */
typedef struct {
	const char *name;
	const char *headers[3];
	const char *serv_id;
	mail_require_t require;
	const char *from_domain;
	pp_mail_auth_t verdict;
} auth_case_t;

static const auth_case_t auth_cases[] = {
    {"no policy", {"mx.example.com; dmarc=fail"}, "", MAIL_REQUIRE_DMARC, "example.com",
     PP_MAIL_AUTH_NONE},
    {"policy none", {"mx.example.com; dmarc=fail"}, "mx.example.com", MAIL_REQUIRE_NONE,
     "example.com", PP_MAIL_AUTH_NONE},
    {"dmarc pass",
     {"mx.example.com; spf=pass smtp.mailfrom=a@example.com; dkim=pass header.d=example.com; "
      "dmarc=pass (p=reject) header.from=example.com"},
     "mx.example.com", MAIL_REQUIRE_DMARC, "example.com", PP_MAIL_AUTH_PASS},
    {"dmarc fail", {"mx.example.com; dmarc=fail header.from=example.com"}, "mx.example.com",
     MAIL_REQUIRE_DMARC, "example.com", PP_MAIL_AUTH_FAIL},
    {"id compared without case, version allowed", {"MX.Example.com 1; dmarc=pass"},
     "mx.example.com", MAIL_REQUIRE_DMARC, "example.com", PP_MAIL_AUTH_PASS},
    {"header of another host ignored", {"evil.example.net; dmarc=pass"}, "mx.example.com",
     MAIL_REQUIRE_DMARC, "example.com", PP_MAIL_AUTH_FAIL},
    {"topmost trusted header decides",
     {"mx.example.com; dmarc=fail", "mx.example.com; dmarc=pass"}, "mx.example.com",
     MAIL_REQUIRE_DMARC, "example.com", PP_MAIL_AUTH_FAIL},
    {"pass inside a comment does not count", {"mx.example.com; dmarc=fail (dmarc=pass)"},
     "mx.example.com", MAIL_REQUIRE_DMARC, "example.com", PP_MAIL_AUTH_FAIL},
    {"no header at all", {NULL}, "mx.example.com", MAIL_REQUIRE_DMARC, "example.com",
     PP_MAIL_AUTH_FAIL},
    {"dkim aligned (subdomain signer)", {"mx.example.com; dkim=pass header.d=mail.example.com"},
     "mx.example.com", MAIL_REQUIRE_DKIM, "example.com", PP_MAIL_AUTH_PASS},
    {"dkim of another domain", {"mx.example.com; dkim=pass header.d=mailer.example.net"},
     "mx.example.com", MAIL_REQUIRE_DKIM, "example.com", PP_MAIL_AUTH_FAIL},
    {"dkim look-alike domain", {"mx.example.com; dkim=pass header.d=badexample.com"},
     "mx.example.com", MAIL_REQUIRE_DKIM, "example.com", PP_MAIL_AUTH_FAIL},
    {"spf aligned", {"mx.example.com; spf=pass smtp.mailfrom=bounce@example.com"},
     "mx.example.com", MAIL_REQUIRE_SPF, "example.com", PP_MAIL_AUTH_PASS},
    {"spf softfail", {"mx.example.com; spf=softfail smtp.mailfrom=example.com"},
     "mx.example.com", MAIL_REQUIRE_SPF, "example.com", PP_MAIL_AUTH_FAIL},
    {"quoted reason with ;",
     {"mx.example.com; dkim=fail reason=\"bad; dmarc=pass\"; dmarc=pass"}, "mx.example.com",
     MAIL_REQUIRE_DMARC, "example.com", PP_MAIL_AUTH_PASS},
    {"none result", {"mx.example.com; none"}, "mx.example.com", MAIL_REQUIRE_DMARC,
     "example.com", PP_MAIL_AUTH_FAIL},
};

static void test_auth_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
		const auth_case_t *c = &auth_cases[i];
		size_t n = 0;
		while (n < 3 && c->headers[n] != NULL)
			n++;
		pp_mail_auth_t verdict = mail_sender_auth_verdict(c->headers, n, c->serv_id, c->require,
		                                                  c->from_domain);
		if (verdict != c->verdict)
			fail_msg("%s: verdict %d, expected %d", c->name, (int)verdict, (int)c->verdict);
	}
}

/* A spoofed mail through the whole parser: the header says fail. */
static void test_parse_spoofed(void **state)
{
	(void)state;
	const char *raw = "Authentication-Results: mx.example.com; dmarc=fail header.from=bank.com\r\n"
	                  "From: ceo@bank.com\r\nSubject: pay\r\nContent-Type: text/plain\r\n\r\nx\r\n";
	mail_policy_t policy;
	mail_policy_defaults(&policy);
	(void)str_copy(policy.auth_serv_id, sizeof(policy.auth_serv_id), "mx.example.com");
	pp_mail_message_t *msg = NULL;
	char error[256];
	assert_int_equal(mail_parse_with_policy(&policy, 1, "", (const uint8_t *)raw, strlen(raw),
	                                        &msg, error, sizeof(error)),
	                 0);
	assert_int_equal(msg->auth, PP_MAIL_AUTH_FAIL);
	mail_message_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),
	    cmocka_unit_test(test_parse_headers),
	    cmocka_unit_test(test_parse_too_large),
	    cmocka_unit_test(test_auth_table),
	    cmocka_unit_test(test_parse_spoofed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
