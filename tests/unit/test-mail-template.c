/*
 * test-mail-template.c - the reply templates: what the renderer writes for each construct,
 * what it refuses, how an admin's template overrides the built-in one (and a broken one does
 * not), the language fallback, and the MIME message a reply becomes.
 */
#include "test-support.h"

#include "lib/fsutil.h"
#include "lib/str.h"
#include "mail/mail-out-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *name;
	const char *tpl;
	const char *ctx; /* JSON */
	bool is_html;
	const char *expect;     /* NULL: the render fails */
	const char *error_part; /* with expect NULL: a part of the message */
} render_case_t;

static const render_case_t render_cases[] = {
    {"value", "Hello {{who}}!", "{\"who\":\"Ann\"}", false, "Hello Ann!", NULL},
    {"missing value is empty", "[{{nothing}}]", "{}", false, "[]", NULL},
    {"numbers and booleans", "{{n}} {{t}} {{f}}|", "{\"n\":12,\"t\":true,\"f\":false}", false,
     "12 yes |", NULL},
    {"text is not escaped", "{{v}}", "{\"v\":\"a<b & \\\"c\\\"\"}", false, "a<b & \"c\"", NULL},
    {"html escapes every value", "<p>{{v}}</p>", "{\"v\":\"<script>x('1')&</script>\"}", true,
     "<p>&lt;script&gt;x(&#39;1&#39;)&amp;&lt;/script&gt;</p>", NULL},
    {"each over objects", "{{#each docs}}<{{name}}:{{pages}}>{{/each}}",
     "{\"docs\":[{\"name\":\"a.pdf\",\"pages\":2},{\"name\":\"b.doc\",\"pages\":5}]}", false,
     "<a.pdf:2><b.doc:5>", NULL},
    {"each sees the outer scope", "{{#each xs}}{{.}}@{{host}} {{/each}}",
     "{\"xs\":[\"a\",\"b\"],\"host\":\"h\"}", false, "a@h b@h ", NULL},
    {"each over nothing", "[{{#each xs}}x{{/each}}]", "{}", false, "[]", NULL},
    {"if true", "{{#if a}}yes{{else}}no{{/if}}", "{\"a\":\"x\"}", false, "yes", NULL},
    {"if empty string", "{{#if a}}yes{{else}}no{{/if}}", "{\"a\":\"\"}", false, "no", NULL},
    {"if empty list", "{{#if a}}yes{{/if}}.", "{\"a\":[]}", false, ".", NULL},
    {"unless", "{{#unless a}}none{{/unless}}", "{\"a\":0}", false, "none", NULL},
    {"nested blocks", "{{#each d}}{{#if ok}}+{{name}}{{else}}-{{name}}{{/if}}{{/each}}",
     "{\"d\":[{\"name\":\"a\",\"ok\":true},{\"name\":\"b\"}]}", false, "+a-b", NULL},
    {"standalone block lines leave no blank line",
     "Docs:\n  {{#each d}}\n  * {{.}}\n  {{/each}}\nEnd\n", "{\"d\":[\"a\",\"b\"]}", false,
     "Docs:\n  * a\n  * b\nEnd\n", NULL},
    {"comment", "a{{! nothing to see }}b", "{}", false, "ab", NULL},
    {"unclosed block", "{{#if a}}x", "{}", false, NULL, "not closed"},
    {"stray close", "x{{/each}}", "{}", false, NULL, "does not close"},
    {"wrong close", "{{#if a}}x{{/each}}", "{}", false, NULL, "does not close"},
    {"unknown block", "{{#with a}}x{{/with}}", "{}", false, NULL, "unknown block"},
    {"unknown tag", "{{a b}}", "{}", false, NULL, "unknown tag"},
    {"open without close", "line 1\nline {{2", "{}", false, NULL, "line 2"},
    {"else in each", "{{#each a}}x{{else}}y{{/each}}", "{}", false, NULL, "else"},
    {"too deep",
     "{{#if a}}{{#if a}}{{#if a}}{{#if a}}{{#if a}}{{#if a}}{{#if a}}{{#if a}}"
     "{{#if a}}x{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}{{/if}}",
     "{}", false, NULL, "nested"},
};

static void test_render_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(render_cases) / sizeof(render_cases[0]); i++) {
		const render_case_t *c = &render_cases[i];
		json_error_t jerr;
		json_t *ctx = json_loads(c->ctx, 0, &jerr);
		if (ctx == NULL)
			fail_msg("case %s: bad JSON", c->name);
		char *out = NULL;
		char error[256] = "";
		int rc = mail_template_render(c->tpl, strlen(c->tpl), ctx, c->is_html, 4096, &out,
		                              error, sizeof(error));
		json_decref(ctx);
		if (c->expect != NULL) {
			if (rc != 0)
				fail_msg("case %s: failed: %s", c->name, error);
			if (strcmp(out, c->expect) != 0)
				fail_msg("case %s: got [%s], want [%s]", c->name, out, c->expect);
		} else {
			if (rc == 0)
				fail_msg("case %s: rendered [%s] but should fail", c->name, out);
			if (strstr(error, c->error_part) == NULL)
				fail_msg("case %s: error [%s] lacks [%s]", c->name, error,
				         c->error_part);
		}
		free(out);
	}
}

/* A loop that would write more than the cap fails instead of growing without bound. */
static void test_render_bounded(void **state)
{
	(void)state;
	json_t *list = json_array();
	for (int i = 0; i < 1000; i++)
		json_array_append_new(list, json_string("0123456789"));
	json_t *ctx = json_pack("{s:o}", "xs", list);
	const char *tpl = "{{#each xs}}{{.}}{{.}}{{.}}{{/each}}";
	char *out = NULL;
	char error[256];
	assert_int_equal(
	    mail_template_render(tpl, strlen(tpl), ctx, false, 10000, &out, error, sizeof(error)),
	    -1);
	assert_null(out);
	assert_non_null(strstr(error, "larger than"));
	assert_int_equal(
	    mail_template_render(tpl, strlen(tpl), ctx, false, 40000, &out, error, sizeof(error)),
	    0);
	assert_int_equal(strlen(out), 30000);
	free(out);
	json_decref(ctx);
}

/* The context a confirmation gets when the outbox renders it. */
static json_t *confirmation_context(void)
{
	return json_pack(
	    "{s:s, s:s, s:s, s:I, s:[{s:s, s:I, s:I, s:s}, {s:s, s:I, s:s}],"
	    " s:[{s:s, s:s}], s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}], s:b}",
	    "subject", "Quarterly <report>", "user_email", "ann@example.com", "inbox",
	    "print@example.com", "document_count", (json_int_t)2, "documents", "name", "report.pdf",
	    "id", (json_int_t)7, "pages", (json_int_t)3, "status", "", "name", "broken.docx", "id",
	    (json_int_t)8, "status", "cannot be printed: the file is damaged", "skipped", "name",
	    "logo.png", "reason", "inline image under 20480 bytes", "code", "482913", "release_key",
	    "ABCD-EFGH-IJKL-MNOP", "release_link",
	    "mailto:print@example.com?subject=ABCD-EFGH-IJKL-MNOP%20PRINTER", "delete_link",
	    "mailto:print@example.com?subject=delete%20ABCD-EFGH-IJKL-MNOP", "new_code_link",
	    "mailto:print@example.com?subject=new%20code", "printers", "alias", "floor2",
	    "location", "Second floor", "link",
	    "mailto:print@example.com?subject=ABCD-EFGH-IJKL-MNOP%20floor2", "is_pending", 0);
}

/* The built-in confirmation says what a user checks: documents, pages, failures, code, links. */
static void test_builtin_confirmation(void **state)
{
	(void)state;
	json_t *ctx = confirmation_context();
	assert_non_null(ctx);
	pp_mail_rendered_t r;
	char error[256];
	assert_int_equal(
	    mail_template_build("", "en", "confirmation", ctx, &r, error, sizeof(error)), 0);
	assert_string_equal(r.subject, "Received: Quarterly <report>");
	const char *expect_text[] = {
	    "report.pdf - 3 page(s)",
	    "broken.docx - cannot be printed: the file is damaged",
	    "logo.png - inline image under 20480 bytes",
	    "Your confirmation code: 482913",
	    "mailto:print@example.com?subject=ABCD-EFGH-IJKL-MNOP%20PRINTER",
	    "floor2 (Second floor): mailto:print@example.com?subject=ABCD-EFGH-IJKL-MNOP%20floor2",
	    "Delete all your waiting documents: mailto:print@example.com?subject=delete%20",
	    "Get a new confirmation code: mailto:print@example.com?subject=new%20code",
	};
	for (size_t i = 0; i < sizeof(expect_text) / sizeof(expect_text[0]); i++) {
		if (strstr(r.text, expect_text[i]) == NULL)
			fail_msg("text lacks [%s]:\n%s", expect_text[i], r.text);
	}
	assert_null(strstr(r.text, "\n\n\n")); /* block lines leave no holes */
	assert_non_null(r.html);
	assert_non_null(strstr(r.html, "<title>Quarterly &lt;report&gt;</title>"));
	assert_non_null(strstr(r.html, "href=\"mailto:print@example.com?subject=new%20code\""));
	mail_rendered_free(&r);

	/* A pending account: no release instructions, the approval is explained, no code. */
	json_object_set_new(ctx, "is_pending", json_true());
	json_object_del(ctx, "code");
	assert_int_equal(
	    mail_template_build("", "en", "confirmation", ctx, &r, error, sizeof(error)), 0);
	assert_non_null(strstr(r.text, "waits for an administrator's approval"));
	assert_null(strstr(r.text, "PRINTER"));
	assert_null(strstr(r.text, "Your confirmation code"));
	mail_rendered_free(&r);
	json_decref(ctx);
}

/* Writes text to dir/lang/name. */
static void write_template(const char *dir, const char *lang, const char *name, const char *text)
{
	char path[1024], error[256];
	assert_true(str_format(path, sizeof(path), "%s/%s", dir, lang));
	assert_int_equal(fs_mkdir_p(path, 0700, error, sizeof(error)), 0);
	assert_true(str_format(path, sizeof(path), "%s/%s/%s", dir, lang, name));
	assert_int_equal(fs_write_file_atomic(path, text, strlen(text), 0600, error, sizeof(error)),
	                 0);
}

/* The admin's directory wins; a broken admin template falls back to the built-in one; an
 * unknown language falls back to English. */
static void test_admin_override_and_fallback(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	json_t *ctx = json_pack("{s:s, s:s}", "code", "123456", "inbox", "print@example.com");
	pp_mail_rendered_t r;
	char error[256];

	write_template(dir, "en", "new-code.txt",
	               "Subject: Code {{code}}\n\nACME code: {{code}}\n");
	assert_int_equal(mail_template_build(dir, "en", "new-code", ctx, &r, error, sizeof(error)),
	                 0);
	assert_string_equal(r.subject, "Code 123456");
	assert_string_equal(r.text, "ACME code: 123456\n");
	/* The .html the admin did not write comes from the built-in set. */
	assert_non_null(r.html);
	assert_non_null(strstr(r.html, "123456"));
	mail_rendered_free(&r);

	/* German asked for, only English exists: English. */
	assert_int_equal(mail_template_build(dir, "de", "new-code", ctx, &r, error, sizeof(error)),
	                 0);
	assert_string_equal(r.text, "ACME code: 123456\n");
	mail_rendered_free(&r);
	/* A German admin template is used for German. */
	write_template(dir, "de", "new-code.txt", "Subject: Neuer Code\n\nCode: {{code}}\n");
	assert_int_equal(mail_template_build(dir, "de", "new-code", ctx, &r, error, sizeof(error)),
	                 0);
	assert_string_equal(r.subject, "Neuer Code");
	mail_rendered_free(&r);

	/* Broken: the built-in text is used. */
	write_template(dir, "en", "new-code.txt", "Subject: x\n\n{{#if code}}unclosed\n");
	assert_int_equal(mail_template_build(dir, "en", "new-code", ctx, &r, error, sizeof(error)),
	                 0);
	assert_string_equal(r.subject, "Your new confirmation code");
	assert_non_null(strstr(r.text, "Your new confirmation code: 123456"));
	mail_rendered_free(&r);

	/* A value cannot add a header line through the subject. */
	json_object_set_new(ctx, "code", json_string("1\r\nBcc: evil@example.com"));
	write_template(dir, "en", "new-code.txt", "Subject: Code {{code}}\n\nx\n");
	assert_int_equal(mail_template_build(dir, "en", "new-code", ctx, &r, error, sizeof(error)),
	                 0);
	assert_null(strchr(r.subject, '\n'));
	assert_null(strchr(r.subject, '\r'));
	mail_rendered_free(&r);

	assert_int_equal(mail_template_build("", "en", "no-such", ctx, &r, error, sizeof(error)),
	                 -1);
	assert_int_equal(mail_template_build("", "en", "../etc", ctx, &r, error, sizeof(error)),
	                 -1);
	json_decref(ctx);
	test_rmtree(dir);
	free(dir);
}

/* The reply as it goes over SMTP. */
static void test_mime_build(void **state)
{
	(void)state;
	pp_mail_rendered_t body = {.subject = strdup("Ihr Dokument: Übersicht"),
	                           .text = strdup("Grüße\nline two\n"),
	                           .html = strdup("<p>Grüße</p>")};
	pp_mail_headers_t h = {.from_address = "print@example.com",
	                       .from_name = "Print Service",
	                       .to = "ann@example.com",
	                       .reply_to = "print@example.com",
	                       .in_reply_to = "abc@mail.example.com",
	                       .date = 1700000000};
	char *msg = NULL;
	size_t len = 0;
	char error[256];
	assert_int_equal(mail_mime_build(&h, &body, &msg, &len, error, sizeof(error)), 0);
	assert_int_equal(strlen(msg), len);
	const char *expect[] = {
	    "Auto-Submitted: auto-replied\r\n",
	    "In-Reply-To: <abc@mail.example.com>\r\n",
	    "To: ann@example.com\r\n",
	    "Reply-To: print@example.com\r\n",
	    "multipart/alternative",
	    "text/plain; charset=utf-8",
	    "text/html; charset=utf-8",
	    "Content-Transfer-Encoding: quoted-printable",
	    "Subject: Ihr Dokument: =?UTF-8?", /* RFC 2047 for the umlaut */
	    "Gr=C3=BC=C3=9Fe",
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		if (strstr(msg, expect[i]) == NULL)
			fail_msg("message lacks [%s]:\n%s", expect[i], msg);
	}
	/* Every line ends in CRLF. */
	for (const char *p = msg; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > msg && p[-1] == '\r');
	free(msg);
	mail_rendered_free(&body);
}

static void test_uri_encode(void **state)
{
	(void)state;
	char out[64];
	assert_true(mail_uri_encode("ABCD-EFGH floor2", out, sizeof(out)));
	assert_string_equal(out, "ABCD-EFGH%20floor2");
	assert_true(mail_uri_encode("a&b=c?d#é", out, sizeof(out)));
	assert_string_equal(out, "a%26b%3Dc%3Fd%23%C3%A9");
	assert_false(mail_uri_encode("0123456789", out, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_table),
	    cmocka_unit_test(test_render_bounded),
	    cmocka_unit_test(test_builtin_confirmation),
	    cmocka_unit_test(test_admin_override_and_fallback),
	    cmocka_unit_test(test_mime_build),
	    cmocka_unit_test(test_uri_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
