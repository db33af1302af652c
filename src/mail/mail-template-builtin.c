/*
 * mail-template-builtin.c - the reply templates of data/mail-templates/, compiled into the
 * program (src/mail/meson.build turns each file into a byte list), so a server works without
 * any installed data file; the admin's directory (mail.template_dir) overrides them.
 * Add a row here, and the file to mail_template_files in src/mail/meson.build, for a new one.
 */
#include "mail/mail-out-private.h"

#include <string.h>

/* Each byte list ends with a NUL, so the text is also a C string. */
static const unsigned char tpl_en_command_error_html[] = {
#include "en-command-error.html.inc"
    0x00};
static const unsigned char tpl_en_command_error_txt[] = {
#include "en-command-error.txt.inc"
    0x00};
static const unsigned char tpl_en_confirmation_html[] = {
#include "en-confirmation.html.inc"
    0x00};
static const unsigned char tpl_en_confirmation_txt[] = {
#include "en-confirmation.txt.inc"
    0x00};
static const unsigned char tpl_en_delete_html[] = {
#include "en-delete.html.inc"
    0x00};
static const unsigned char tpl_en_delete_txt[] = {
#include "en-delete.txt.inc"
    0x00};
static const unsigned char tpl_en_new_code_html[] = {
#include "en-new-code.html.inc"
    0x00};
static const unsigned char tpl_en_new_code_txt[] = {
#include "en-new-code.txt.inc"
    0x00};
static const unsigned char tpl_en_refused_html[] = {
#include "en-refused.html.inc"
    0x00};
static const unsigned char tpl_en_refused_txt[] = {
#include "en-refused.txt.inc"
    0x00};
static const unsigned char tpl_en_release_html[] = {
#include "en-release.html.inc"
    0x00};
static const unsigned char tpl_en_release_txt[] = {
#include "en-release.txt.inc"
    0x00};
static const unsigned char tpl_en_smtp_test_txt[] = {
#include "en-smtp-test.txt.inc"
    0x00};
static const unsigned char tpl_en_unreadable_html[] = {
#include "en-unreadable.html.inc"
    0x00};
static const unsigned char tpl_en_unreadable_txt[] = {
#include "en-unreadable.txt.inc"
    0x00};

typedef struct {
	const char *lang, *name, *ext;
	const char *text;
	size_t len;
} builtin_t;

static const builtin_t mail_builtin_templates[] = {
    {"en", "command-error", "html", (const char *)tpl_en_command_error_html,
     sizeof(tpl_en_command_error_html) - 1},
    {"en", "command-error", "txt", (const char *)tpl_en_command_error_txt,
     sizeof(tpl_en_command_error_txt) - 1},
    {"en", "confirmation", "html", (const char *)tpl_en_confirmation_html,
     sizeof(tpl_en_confirmation_html) - 1},
    {"en", "confirmation", "txt", (const char *)tpl_en_confirmation_txt,
     sizeof(tpl_en_confirmation_txt) - 1},
    {"en", "delete", "html", (const char *)tpl_en_delete_html, sizeof(tpl_en_delete_html) - 1},
    {"en", "delete", "txt", (const char *)tpl_en_delete_txt, sizeof(tpl_en_delete_txt) - 1},
    {"en", "new-code", "html", (const char *)tpl_en_new_code_html,
     sizeof(tpl_en_new_code_html) - 1},
    {"en", "new-code", "txt", (const char *)tpl_en_new_code_txt, sizeof(tpl_en_new_code_txt) - 1},
    {"en", "refused", "html", (const char *)tpl_en_refused_html, sizeof(tpl_en_refused_html) - 1},
    {"en", "refused", "txt", (const char *)tpl_en_refused_txt, sizeof(tpl_en_refused_txt) - 1},
    {"en", "release", "html", (const char *)tpl_en_release_html, sizeof(tpl_en_release_html) - 1},
    {"en", "release", "txt", (const char *)tpl_en_release_txt, sizeof(tpl_en_release_txt) - 1},
    {"en", "smtp-test", "txt", (const char *)tpl_en_smtp_test_txt,
     sizeof(tpl_en_smtp_test_txt) - 1},
    {"en", "unreadable", "html", (const char *)tpl_en_unreadable_html,
     sizeof(tpl_en_unreadable_html) - 1},
    {"en", "unreadable", "txt", (const char *)tpl_en_unreadable_txt,
     sizeof(tpl_en_unreadable_txt) - 1},
};

const char *mail_template_builtin(const char *lang, const char *name, const char *ext,
                                  size_t *len_r)
{
	for (size_t i = 0; i < sizeof(mail_builtin_templates) / sizeof(mail_builtin_templates[0]);
	     i++) {
		const builtin_t *b = &mail_builtin_templates[i];
		if (strcmp(b->lang, lang) == 0 && strcmp(b->name, name) == 0 &&
		    strcmp(b->ext, ext) == 0) {
			*len_r = b->len;
			return b->text;
		}
	}
	*len_r = 0;
	return NULL;
}
