/*
 * mail-out-private.h - inside the outbound side: templates, their renderer and the MIME
 * message built from them. Used by mail-outbox.c, mail-reply.c, mail-smtp-config.c and the
 * unit tests; no other folder includes it.
 *
 * A template is a pair of files, <name>.txt and <name>.html, under <dir>/<lang>/. The .txt
 * starts with one line "Subject: …" and a blank line; the rest is the plain-text body. The
 * .html is the HTML body. Both are rendered with the same context (a JSON object):
 *
 *   {{name}}                     the value of name (strings as they are, numbers in decimal,
 *                                true as "yes", null/false as ""); in HTML, escaped
 *   {{#each list}}…{{/each}}     the inner text once per element of array list; an element
 *                                that is an object adds its members to the names in scope;
 *                                {{.}} is the element itself
 *   {{#if name}}…{{else}}…{{/if}}   the first part when name is truthy (not null, false, "",
 *                                0 or an empty array/object), else the optional second part
 *   {{#unless name}}…{{/unless}}
 *   {{! comment }}
 *
 * A line that holds only a block tag ({{#each}}, {{/if}} …) and blanks leaves no blank line.
 * Nothing in a template runs code or reads files; output is bounded; an unknown tag or an
 * unbalanced block fails the render (the built-in template is then used, with a log line).
 *
 * Lookup of <name> in language lang: the admin's directory (setting mail.template_dir)
 * <dir>/<lang>/, then the built-in <lang>, then the same for "en".
 */
#ifndef PP_MAIL_OUT_PRIVATE_H
#define PP_MAIL_OUT_PRIVATE_H

#include "mail/mail-out.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define MAIL_TEMPLATE_MAX_BYTES (256 * 1024) /* largest template file and rendered body */
#define MAIL_TEMPLATE_MAX_DEPTH 8            /* nested blocks */
#define MAIL_SUBJECT_MAX 512

/*
 * Renders template tpl[len] with ctx (a JSON object, borrowed). is_html escapes every
 * substituted value (& < > " '). The output is at most max_bytes (refused beyond).
 * *out_r is new (free()). Returns 0 or -1 (error names the line and what is wrong).
 */
int mail_template_render(const char *tpl, size_t len, const json_t *ctx, bool is_html,
                         size_t max_bytes, char **out_r, char *error, size_t error_size);

/*
 * The built-in template file "<lang>/<name>.<ext>" (ext "txt" or "html") compiled into the
 * program from data/mail-templates/. Borrowed (static); NULL when there is none.
 */
const char *mail_template_builtin(const char *lang, const char *name, const char *ext,
                                  size_t *len_r);

/* A rendered reply. */
typedef struct {
	char *subject; /* one line, no control characters */
	char *text;
	char *html; /* NULL when the template has no .html */
} pp_mail_rendered_t;

/*
 * Finds template name in lang (see the file comment; admin_dir "" = built-in only) and
 * renders subject, text and HTML with ctx. An admin template that fails to load or render
 * is logged and the built-in one used. Returns 0 with *out_r filled (free with
 * mail_rendered_free()), or -1.
 */
int mail_template_build(const char *admin_dir, const char *lang, const char *name,
                        const json_t *ctx, pp_mail_rendered_t *out_r, char *error,
                        size_t error_size);

/* Frees the strings of r (wiping them: a reply may carry a code). NULL-safe. */
void mail_rendered_free(pp_mail_rendered_t *r);

/* The headers of a reply. */
typedef struct {
	const char *from_address;
	const char *from_name; /* "" = none */
	const char *to;
	const char *reply_to;    /* the mailbox to answer to (commands); NULL = none */
	const char *in_reply_to; /* Message-ID answered (no <>); NULL = none */
	int64_t date;            /* Unix seconds */
} pp_mail_headers_t;

/*
 * Builds the RFC 5322 message (multipart/alternative of text/plain and text/html in UTF-8,
 * quoted-printable; Auto-Submitted: auto-replied so that no robot answers it) with GMime.
 * *message_r new (free()), *len_r bytes, CRLF line ends. Returns 0 or -1.
 */
int mail_mime_build(const pp_mail_headers_t *headers, const pp_mail_rendered_t *body,
                    char **message_r, size_t *len_r, char *error, size_t error_size);

/* Percent-encodes s for a mailto: URI query into out[size]. Returns false if it does not fit. */
bool mail_uri_encode(const char *s, char *out, size_t size);

/* ------------------------------------------------------------------------------------- */
/* The outbox inside (mail-outbox.c, mail-outbox-render.c, mail-reply.c).                  */

/* When a reply carries a confirmation code (mail_outbox.issue_code). */
#define MAIL_CODE_NONE 0
#define MAIL_CODE_ALWAYS 1  /* issue a new one */
#define MAIL_CODE_IF_NONE 2 /* issue one only when the user has none at render time */

/* A pending row as the renderer reads it. */
typedef struct {
	int64_t id;
	char recipient[USERS_EMAIL_MAX];
	char template_name[MAIL_TEMPLATE_NAME_MAX];
	char lang[MAIL_LANG_MAX];
	int64_t user_id; /* 0 = none */
	json_t *context; /* owned by the reader */
	char in_reply_to[1024];
	int issue_code; /* MAIL_CODE_* */
	bool is_wait_for_jobs;
	int64_t ready_by, created_at;
	int64_t attempts; /* failed renders so far */
} pp_outbox_item_t;

/*
 * Whether every job listed in ctx "jobs" (objects with "id") has left conversion (and, for
 * a print-now job, release): the confirmation can say what became of it. Returns 0 or -1.
 */
int mail_outbox_jobs_settled(pp_core_t *core, const json_t *ctx, bool *is_settled_r, char *error,
                             size_t error_size);

/*
 * Renders item into an RFC 5322 message: the context completed with what is known now (the
 * documents' pages and states, the release key's links, the printers, a code issued per
 * item->issue_code), the template built, the MIME message made. *message_r new (free() after
 * crypto_wipe). Returns 0 or -1.
 */
int mail_outbox_render(pp_core_t *core, const pp_mail_sender_config_t *cfg,
                       const pp_outbox_item_t *item, char **message_r, size_t *len_r, char *error,
                       size_t error_size);

/* The settings a render needs. */
int mail_outbox_template_dir(pp_core_t *core, char *dir, size_t dir_size);

/*
 * Queues template_name to recipient with ctx (borrowed), user_id (0 = none), the Message-ID
 * answered (NULL = none) and code (MAIL_CODE_*). Returns 0 or -1.
 */
int mail_reply_queue(pp_core_t *core, const char *recipient, const char *template_name,
                     int64_t user_id, json_t *ctx, const char *in_reply_to, int code,
                     bool is_wait_for_jobs, char *error, size_t error_size);

#endif
