/*
 * mail-template.c - reply templates: finding the files (admin directory, built-in, language
 * fallback) and the small renderer they are written for; see mail-out-private.h.
 *
 * The renderer parses a template into a flat list of nodes (text, value, block open/else/
 * close) with the matching close of each block recorded, then walks it with a stack of
 * scopes. Parsing first means an unbalanced template fails before anything is written, and
 * the walk never searches for a matching tag.
 */
#include "mail/mail-out-private.h"

#include "lib/crypto.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMPLATE_MAX_NODES 4096
#define TEMPLATE_NAME_MAX 64 /* a name inside {{ }} */

typedef enum {
	NODE_TEXT = 0,
	NODE_VALUE,
	NODE_EACH,
	NODE_IF,
	NODE_UNLESS,
	NODE_ELSE,
	NODE_END,
} node_kind_t;

typedef struct {
	node_kind_t kind;
	const char *text; /* NODE_TEXT: into the template */
	size_t len;
	char name[TEMPLATE_NAME_MAX]; /* VALUE, EACH, IF, UNLESS */
	size_t else_at;               /* IF/UNLESS: index of its ELSE, or its END */
	size_t end_at;                /* EACH/IF/UNLESS: index of its END */
} node_t;

typedef struct {
	node_t *nodes;
	size_t n;
} tree_t;

typedef struct {
	char *data;
	size_t len, cap, max;
	bool is_full;
} outbuf_t;

/* Appends s[len] to b, refusing growth past b->max. */
static bool out_add(outbuf_t *b, const char *s, size_t len)
{
	if (b->is_full || len > b->max || b->max - len < b->len) {
		b->is_full = true;
		return false;
	}
	if (b->cap - b->len <= len) {
		size_t cap = b->cap == 0 ? 1024 : b->cap;
		while (cap - b->len <= len)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (p == NULL) {
			b->is_full = true;
			return false;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
	return true;
}

/* Appends s[len], HTML-escaped when is_html. */
static bool out_value(outbuf_t *b, const char *s, size_t len, bool is_html)
{
	if (!is_html)
		return out_add(b, s, len);
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			break;
		}
		if (rep == NULL)
			continue;
		if (!out_add(b, s + start, i - start) || !out_add(b, rep, strlen(rep)))
			return false;
		start = i + 1;
	}
	return out_add(b, s + start, len - start);
}

/* The line number (from 1) of position pos in tpl. */
static size_t template_line(const char *tpl, const char *pos)
{
	size_t line = 1;
	for (const char *p = tpl; p < pos; p++)
		line += *p == '\n';
	return line;
}

/* True for a name: letters, digits, '_', '-' or the single ".". */
static bool template_name_ok(const char *name)
{
	if (strcmp(name, ".") == 0)
		return true;
	if (name[0] == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * When the block tag at [open, close) stands alone on its line (only blanks around it),
 * trims the blanks before it from the text node before (if any) and returns the position
 * after the line's newline; else returns close.
 */
static const char *template_standalone(tree_t *t, const char *tpl, const char *end,
                                       const char *open, const char *close)
{
	const char *line_start = open;
	while (line_start > tpl && (line_start[-1] == ' ' || line_start[-1] == '\t'))
		line_start--;
	if (line_start > tpl && line_start[-1] != '\n')
		return close;
	const char *after = close;
	while (after < end && (*after == ' ' || *after == '\t'))
		after++;
	if (after < end && *after == '\r')
		after++;
	if (after < end && *after != '\n')
		return close;
	if (after < end)
		after++;
	/* Drop the indentation already collected as text. */
	if (t->n > 0 && t->nodes[t->n - 1].kind == NODE_TEXT) {
		node_t *prev = &t->nodes[t->n - 1];
		size_t cut = (size_t)(open - line_start);
		if (prev->text + prev->len == open && prev->len >= cut)
			prev->len -= cut;
	}
	return after;
}

/* Adds a node; fails when the template has too many. */
static node_t *template_node(tree_t *t)
{
	if (t->n >= TEMPLATE_MAX_NODES)
		return NULL;
	node_t *n = &t->nodes[t->n++];
	memset(n, 0, sizeof(*n));
	return n;
}

/* Parses tpl[len] into t (nodes allocated here; free(t->nodes)). */
static int template_parse(const char *tpl, size_t len, tree_t *t, char *error, size_t error_size)
{
	const char *p = tpl, *end = tpl + len;
	size_t open_blocks[MAIL_TEMPLATE_MAX_DEPTH];
	size_t depth = 0;
	t->n = 0;
	t->nodes = calloc(TEMPLATE_MAX_NODES, sizeof(node_t));
	if (t->nodes == NULL) {
		str_format(error, error_size, "template: out of memory");
		return -1;
	}
	while (p < end) {
		const char *open = memmem(p, (size_t)(end - p), "{{", 2);
		const char *text_end = open != NULL ? open : end;
		if (text_end > p) {
			node_t *n = template_node(t);
			if (n == NULL)
				goto too_big;
			n->kind = NODE_TEXT;
			n->text = p;
			n->len = (size_t)(text_end - p);
		}
		if (open == NULL)
			break;
		const char *inner = open + 2;
		const char *close = memmem(inner, (size_t)(end - inner), "}}", 2);
		if (close == NULL) {
			str_format(error, error_size, "template line %zu: \"{{\" without \"}}\"",
			           template_line(tpl, open));
			goto fail;
		}
		p = close + 2;
		if (*inner == '!') /* a comment */
			continue;
		/* The tag: an optional sigil, a word, an optional argument. */
		char tag[2 * TEMPLATE_NAME_MAX];
		size_t tag_len = (size_t)(close - inner);
		if (tag_len >= sizeof(tag)) {
			str_format(error, error_size, "template line %zu: tag too long",
			           template_line(tpl, open));
			goto fail;
		}
		memcpy(tag, inner, tag_len);
		tag[tag_len] = '\0';
		char *word = str_trim(tag);
		char sigil = '\0';
		if (*word == '#' || *word == '/') {
			sigil = *word;
			word = str_trim(word + 1);
		}
		char *arg = word + strcspn(word, " \t");
		if (*arg != '\0') {
			*arg++ = '\0';
			arg = str_trim(arg);
		}
		size_t line = template_line(tpl, open);
		if (sigil == '\0' && strcmp(word, "else") == 0 && *arg == '\0') {
			if (depth == 0 || t->nodes[open_blocks[depth - 1]].kind == NODE_EACH ||
			    t->nodes[open_blocks[depth - 1]].else_at != 0) {
				str_format(
				    error, error_size,
				    "template line %zu: {{else}} outside {{#if}}/{{#unless}}",
				    line);
				goto fail;
			}
			p = template_standalone(t, tpl, end, open, p);
			node_t *n = template_node(t);
			if (n == NULL)
				goto too_big;
			n->kind = NODE_ELSE;
			t->nodes[open_blocks[depth - 1]].else_at = t->n - 1;
			continue;
		}
		if (sigil == '\0') {
			if (*arg != '\0' || !template_name_ok(word)) {
				str_format(error, error_size,
				           "template line %zu: unknown tag {{%s}}", line, word);
				goto fail;
			}
			node_t *n = template_node(t);
			if (n == NULL)
				goto too_big;
			n->kind = NODE_VALUE;
			(void)str_copy(n->name, sizeof(n->name), word);
			continue;
		}
		if (sigil == '#') {
			node_kind_t kind;
			if (strcmp(word, "each") == 0)
				kind = NODE_EACH;
			else if (strcmp(word, "if") == 0)
				kind = NODE_IF;
			else if (strcmp(word, "unless") == 0)
				kind = NODE_UNLESS;
			else {
				str_format(
				    error, error_size,
				    "template line %zu: unknown block {{#%s}} (each, if, unless)",
				    line, word);
				goto fail;
			}
			if (!template_name_ok(arg) || strcmp(arg, ".") == 0) {
				str_format(error, error_size,
				           "template line %zu: {{#%s}} needs a name", line, word);
				goto fail;
			}
			if (depth >= MAIL_TEMPLATE_MAX_DEPTH) {
				str_format(error, error_size,
				           "template line %zu: blocks nested deeper than %d", line,
				           MAIL_TEMPLATE_MAX_DEPTH);
				goto fail;
			}
			p = template_standalone(t, tpl, end, open, p);
			node_t *n = template_node(t);
			if (n == NULL)
				goto too_big;
			n->kind = kind;
			(void)str_copy(n->name, sizeof(n->name), arg);
			open_blocks[depth++] = t->n - 1;
			continue;
		}
		/* sigil '/': closes the innermost block, which must be of this kind. */
		static const char *const block_words[] = {
		    [NODE_EACH] = "each", [NODE_IF] = "if", [NODE_UNLESS] = "unless"};
		if (depth == 0 ||
		    strcmp(block_words[t->nodes[open_blocks[depth - 1]].kind], word) != 0 ||
		    *arg != '\0') {
			str_format(error, error_size,
			           "template line %zu: {{/%s}} does not close a block", line, word);
			goto fail;
		}
		p = template_standalone(t, tpl, end, open, p);
		node_t *n = template_node(t);
		if (n == NULL)
			goto too_big;
		n->kind = NODE_END;
		node_t *block = &t->nodes[open_blocks[--depth]];
		block->end_at = t->n - 1;
		if (block->else_at == 0)
			block->else_at = t->n - 1;
	}
	if (depth > 0) {
		str_format(error, error_size, "template: {{#%s %s}} is not closed",
		           t->nodes[open_blocks[depth - 1]].kind == NODE_EACH ? "each" : "if",
		           t->nodes[open_blocks[depth - 1]].name);
		goto fail;
	}
	return 0;
too_big:
	str_format(error, error_size, "template: more than %d tags and texts", TEMPLATE_MAX_NODES);
fail:
	free(t->nodes);
	t->nodes = NULL;
	return -1;
}

typedef struct {
	const json_t *scopes[MAIL_TEMPLATE_MAX_DEPTH + 1];
	size_t n_scopes;
	bool is_html;
	outbuf_t out;
} render_t;

/* The value of name in the innermost scope that has it; "." is the innermost scope. */
static const json_t *render_lookup(const render_t *r, const char *name)
{
	if (strcmp(name, ".") == 0)
		return r->scopes[r->n_scopes - 1];
	for (size_t i = r->n_scopes; i > 0; i--) {
		const json_t *scope = r->scopes[i - 1];
		if (json_is_object(scope)) {
			const json_t *v = json_object_get(scope, name);
			if (v != NULL)
				return v;
		}
	}
	return NULL;
}

static bool render_truthy(const json_t *v)
{
	switch (v == NULL ? JSON_NULL : json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return true;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	default:
		return false;
	}
}

static bool render_value(render_t *r, const json_t *v)
{
	char num[64];
	switch (v == NULL ? JSON_NULL : json_typeof(v)) {
	case JSON_STRING:
		return out_value(&r->out, json_string_value(v), json_string_length(v), r->is_html);
	case JSON_INTEGER:
		(void)str_format(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return out_add(&r->out, num, strlen(num));
	case JSON_REAL:
		(void)str_format(num, sizeof(num), "%g", json_real_value(v));
		return out_add(&r->out, num, strlen(num));
	case JSON_TRUE:
		return out_add(&r->out, "yes", 3);
	default:
		return true; /* null, false, arrays and objects print nothing */
	}
}

/* Renders nodes [from, to). */
static bool render_range(render_t *r, const tree_t *t, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const node_t *n = &t->nodes[i];
		switch (n->kind) {
		case NODE_TEXT:
			if (!out_add(&r->out, n->text, n->len))
				return false;
			break;
		case NODE_VALUE:
			if (!render_value(r, render_lookup(r, n->name)))
				return false;
			break;
		case NODE_IF:
		case NODE_UNLESS: {
			bool is_true = render_truthy(render_lookup(r, n->name));
			if (n->kind == NODE_UNLESS)
				is_true = !is_true;
			bool ok = is_true ? render_range(r, t, i + 1, n->else_at)
			                  : render_range(r, t, n->else_at + 1, n->end_at);
			if (!ok)
				return false;
			i = n->end_at;
			break;
		}
		case NODE_EACH: {
			const json_t *list = render_lookup(r, n->name);
			if (json_is_array(list) && r->n_scopes <= MAIL_TEMPLATE_MAX_DEPTH) {
				for (size_t k = 0; k < json_array_size(list); k++) {
					r->scopes[r->n_scopes++] = json_array_get(list, k);
					bool ok = render_range(r, t, i + 1, n->end_at);
					r->n_scopes--;
					if (!ok)
						return false;
				}
			}
			i = n->end_at;
			break;
		}
		case NODE_ELSE:
		case NODE_END:
			break; /* reached only past a block's end; never inside render order */
		}
	}
	return true;
}

int mail_template_render(const char *tpl, size_t len, const json_t *ctx, bool is_html,
                         size_t max_bytes, char **out_r, char *error, size_t error_size)
{
	*out_r = NULL;
	tree_t t;
	if (template_parse(tpl, len, &t, error, error_size) < 0)
		return -1;
	render_t r = {.n_scopes = 1, .is_html = is_html, .out = {.max = max_bytes}};
	r.scopes[0] = ctx;
	bool is_ok = render_range(&r, &t, 0, t.n) && out_add(&r.out, "", 0);
	free(t.nodes);
	if (!is_ok) {
		free(r.out.data);
		str_format(error, error_size,
		           "template: the reply would be larger than %zu bytes (or out of memory)",
		           max_bytes);
		return -1;
	}
	*out_r = r.out.data;
	return 0;
}

/* ------------------------------------------------------------------------------------- */
/* Finding and building.                                                                   */

/* True for a language tag or template name: [a-z0-9_-], 1..63 characters. */
static bool template_word_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= MAIL_TEMPLATE_NAME_MAX)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			return false;
	}
	return true;
}

/*
 * Loads "<lang>/<name>.<ext>" from the admin's directory dir into *text_r (new; free()).
 * Returns 0, 1 when the file does not exist, -1 when it exists but cannot be read.
 */
static int template_load_admin(const char *dir, const char *lang, const char *name, const char *ext,
                               char **text_r, size_t *len_r, char *error, size_t error_size)
{
	char path[PATH_MAX];
	if (!str_format(path, sizeof(path), "%s/%s/%s.%s", dir, lang, name, ext)) {
		str_format(error, error_size, "mail.template_dir is too long");
		return -1;
	}
	if (access(path, F_OK) != 0)
		return 1;
	return fs_read_file(path, MAIL_TEMPLATE_MAX_BYTES, text_r, len_r, error, error_size);
}

/* Renders one file of a template: the admin's copy when it works, else the built-in. */
static int template_render_file(const char *admin_dir, const char *lang, const char *name,
                                const char *ext, const json_t *ctx, char **out_r, bool *is_found_r,
                                char *error, size_t error_size)
{
	*out_r = NULL;
	*is_found_r = false;
	bool is_html = strcmp(ext, "html") == 0;
	if (admin_dir != NULL && admin_dir[0] != '\0') {
		char *text = NULL;
		size_t len = 0;
		char why[512];
		int rc =
		    template_load_admin(admin_dir, lang, name, ext, &text, &len, why, sizeof(why));
		if (rc == 0) {
			rc = mail_template_render(text, len, ctx, is_html, MAIL_TEMPLATE_MAX_BYTES,
			                          out_r, why, sizeof(why));
			free(text);
			if (rc == 0) {
				*is_found_r = true;
				return 0;
			}
		}
		if (rc < 0)
			log_warn("mail.template_broken dir=%s lang=%s template=%s.%s error=\"%s\" "
			         "action=\"fix the file; the built-in template is used meanwhile\"",
			         admin_dir, lang, name, ext, why);
	}
	size_t len = 0;
	const char *builtin = mail_template_builtin(lang, name, ext, &len);
	if (builtin == NULL)
		return 0;
	*is_found_r = true;
	return mail_template_render(builtin, len, ctx, is_html, MAIL_TEMPLATE_MAX_BYTES, out_r,
	                            error, error_size);
}

/* Splits "Subject: …\n\n" off the rendered text into r->subject (cleaned) and r->text. */
static int template_split_subject(char *rendered, pp_mail_rendered_t *r, char *error,
                                  size_t error_size)
{
	if (strncmp(rendered, "Subject:", 8) != 0) {
		str_format(error, error_size,
		           "template: the .txt file must start with a line \"Subject: …\"");
		return -1;
	}
	char *nl = strchr(rendered, '\n');
	char *body = nl != NULL ? nl + 1 : rendered + strlen(rendered);
	if (nl != NULL)
		*nl = '\0';
	char *subject = str_trim(rendered + 8);
	/* A value substituted into the subject must not start a second header line. */
	for (char *p = subject; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if (strlen(subject) >= MAIL_SUBJECT_MAX)
		subject[MAIL_SUBJECT_MAX - 1] = '\0'; /* cut; GMime encodes what is left */
	if (*body == '\r')
		body++;
	if (*body == '\n')
		body++;
	r->subject = strdup(subject);
	r->text = strdup(body);
	if (r->subject == NULL || r->text == NULL) {
		str_format(error, error_size, "template: out of memory");
		return -1;
	}
	return 0;
}

int mail_template_build(const char *admin_dir, const char *lang, const char *name,
                        const json_t *ctx, pp_mail_rendered_t *out_r, char *error,
                        size_t error_size)
{
	memset(out_r, 0, sizeof(*out_r));
	if (lang == NULL || !template_word_ok(lang))
		lang = "en";
	if (!template_word_ok(name)) {
		str_format(error, error_size, "template: bad name \"%s\"", name);
		return -1;
	}
	/* The language asked for, then English. */
	const char *langs[] = {lang, "en"};
	char *text = NULL, *html = NULL;
	bool is_found = false;
	for (size_t i = 0; i < 2 && !is_found; i++) {
		if (template_render_file(admin_dir, langs[i], name, "txt", ctx, &text, &is_found,
		                         error, error_size) < 0)
			return -1;
		if (is_found && template_render_file(admin_dir, langs[i], name, "html", ctx, &html,
		                                     &(bool){false}, error, error_size) < 0) {
			free(text);
			return -1;
		}
	}
	if (!is_found) {
		str_format(error, error_size, "template: no template named %s", name);
		return -1;
	}
	int rc = template_split_subject(text, out_r, error, error_size);
	crypto_wipe(text, strlen(text));
	free(text);
	out_r->html = html;
	if (rc < 0) {
		mail_rendered_free(out_r);
		return -1;
	}
	return 0;
}

void mail_rendered_free(pp_mail_rendered_t *r)
{
	if (r == NULL)
		return;
	char *fields[] = {r->subject, r->text, r->html};
	for (size_t i = 0; i < 3; i++) {
		if (fields[i] != NULL) {
			crypto_wipe(fields[i], strlen(fields[i]));
			free(fields[i]);
		}
	}
	memset(r, 0, sizeof(*r));
}

bool mail_uri_encode(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t pos = 0;
	if (size == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		bool is_plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		                (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
		                *p == '~' || *p == '@';
		size_t need = is_plain ? 1 : 3;
		if (size - pos <= need)
			return false;
		if (is_plain) {
			out[pos++] = (char)*p;
		} else {
			out[pos++] = '%';
			out[pos++] = hex[*p >> 4];
			out[pos++] = hex[*p & 15];
		}
	}
	if (pos >= size)
		return false;
	out[pos] = '\0';
	return true;
}
