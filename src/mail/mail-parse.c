/*
 * mail-parse.c - a raw mail into a pp_mail_message_t: the printable parts, the skipped parts
 * with their reasons, and the text body, read with GMime 3.
 *
 * The MIME tree is walked depth-first in mail order: multiparts (mixed, alternative,
 * related, signed …), forwarded mails (message/rfc822, whose own attachments count as the
 * sender's) and leaf parts. A leaf is the body when it is text/plain or text/html without a
 * file name and not marked as an attachment (the first text/plain wins; HTML only when there
 * is no plain text). Every other leaf is a candidate document: decoded (transfer encoding
 * undone; text converted from its charset to UTF-8), then typed by its content
 * (doctype_sniff), never by its name or declared type, and kept when the converter takes
 * that kind (convert_kind_of). Small inline images (signature logos) are skipped by policy.
 * Everything not printed is listed with why, so the reply can name it.
 *
 * The body is printed by policy (mail.body_policy): when there is nothing else printable,
 * always, or never.
 *
 * Nothing here touches the database: the policy comes in as a struct (mail_policy_load()
 * reads it), so the parser is fuzzed as it is (tests/fuzz/fuzz-mail-parse.c).
 */
#include "mail/mail-in-private.h"

#include "convert/convert.h"
#include "core/doctype.h"
#include "lib/log.h"
#include "lib/str.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A growable list of parts / skipped entries under construction. */
typedef struct {
	const mail_policy_t *policy;
	pp_mail_message_t *msg;
	size_t parts_cap;
	size_t skipped_cap;
	size_t leaves; /* leaf parts seen, against MAIL_PARTS_MAX */
	unsigned unnamed; /* for "attachment-N" */
	unsigned forwarded; /* inside this many forwarded mails: their text is quoted, not ours */
	/* body candidates (UTF-8, malloc'ed) */
	char *plain;
	char *html;
	char error[MAIL_REASON_MAX]; /* set when the mail is unreadable */
	bool is_oom;
} mail_walk_t;

static pthread_once_t mail_gmime_once = PTHREAD_ONCE_INIT;

static void mail_gmime_start(void)
{
	g_mime_init();
}

void mail_gmime_init(void)
{
	(void)pthread_once(&mail_gmime_once, mail_gmime_start);
}

void mail_policy_defaults(mail_policy_t *policy_r)
{
	memset(policy_r, 0, sizeof(*policy_r));
	policy_r->body_policy = MAIL_BODY_NO_ATTACHMENTS;
	policy_r->skip_inline_below_bytes = 20480;
	policy_r->require = MAIL_REQUIRE_DMARC;
	policy_r->max_message_bytes = 50u * 1024u * 1024u;
}

void mail_policy_add_own(mail_policy_t *policy, const char *address)
{
	if (address == NULL || address[0] == '\0' || policy->n_own >= MAIL_OWN_ADDRESSES_MAX)
		return;
	for (size_t i = 0; i < policy->n_own; i++) {
		if (strcmp(policy->own[i], address) == 0)
			return;
	}
	if (str_copy(policy->own[policy->n_own], MAIL_ADDRESS_MAX, address)) {
		str_lower_ascii(policy->own[policy->n_own]);
		policy->n_own++;
	}
}

const char *mail_noise_name(pp_mail_noise_t noise)
{
	switch (noise) {
	case PP_MAIL_NOISE_NONE:
		return "none";
	case PP_MAIL_NOISE_BOUNCE:
		return "bounce";
	case PP_MAIL_NOISE_NULL_SENDER:
		return "null sender";
	case PP_MAIL_NOISE_AUTO_SUBMITTED:
		return "auto-submitted";
	case PP_MAIL_NOISE_PRECEDENCE:
		return "bulk or list mail";
	case PP_MAIL_NOISE_OWN_ADDRESS:
		return "from our own address";
	}
	return "unknown";
}

void mail_message_free(pp_mail_message_t **msg)
{
	if (msg == NULL || *msg == NULL)
		return;
	pp_mail_message_t *m = *msg;
	for (size_t i = 0; i < m->n_parts; i++) {
		free(m->parts[i].name);
		if (m->parts[i].data != NULL)
			sodium_memzero(m->parts[i].data, m->parts[i].size_bytes);
		free(m->parts[i].data);
	}
	free(m->parts);
	for (size_t i = 0; i < m->n_skipped; i++) {
		free(m->skipped[i].name);
		free(m->skipped[i].reason);
	}
	free(m->skipped);
	free(m->message_id);
	free(m->from_name);
	free(m->subject);
	free(m->body);
	free(m);
	*msg = NULL;
}

/* strdup of s, or of "" for NULL; NULL only when out of memory. */
static char *mail_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Whether s is only white space (or empty). */
static bool mail_is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

/* Adds a skipped entry (copies name and reason). */
static void mail_walk_skip(mail_walk_t *walk, const char *name, const char *reason)
{
	pp_mail_message_t *msg = walk->msg;
	if (msg->n_skipped == walk->skipped_cap) {
		size_t cap = walk->skipped_cap == 0 ? 4 : walk->skipped_cap * 2;
		pp_mail_skipped_t *grown = realloc(msg->skipped, cap * sizeof(*grown));
		if (grown == NULL) {
			walk->is_oom = true;
			return;
		}
		msg->skipped = grown;
		walk->skipped_cap = cap;
	}
	pp_mail_skipped_t *entry = &msg->skipped[msg->n_skipped];
	entry->name = mail_strdup(name);
	entry->reason = mail_strdup(reason);
	if (entry->name == NULL || entry->reason == NULL) {
		free(entry->name);
		free(entry->reason);
		walk->is_oom = true;
		return;
	}
	msg->n_skipped++;
}

/* Adds a printable part; takes data (malloc'ed) in every case. */
static void mail_walk_add(mail_walk_t *walk, const char *name, const char *content_type,
                          uint8_t *data, size_t size, bool is_body)
{
	pp_mail_message_t *msg = walk->msg;
	if (msg->n_parts == walk->parts_cap) {
		size_t cap = walk->parts_cap == 0 ? 4 : walk->parts_cap * 2;
		pp_mail_part_t *grown = realloc(msg->parts, cap * sizeof(*grown));
		if (grown == NULL) {
			free(data);
			walk->is_oom = true;
			return;
		}
		msg->parts = grown;
		walk->parts_cap = cap;
	}
	pp_mail_part_t *part = &msg->parts[msg->n_parts];
	part->name = mail_strdup(name);
	if (part->name == NULL) {
		free(data);
		walk->is_oom = true;
		return;
	}
	part->content_type = content_type;
	part->data = data;
	part->size_bytes = size;
	part->is_body = is_body;
	msg->n_parts++;
}

/* Whether charset names UTF-8 or ASCII (no conversion needed). */
static bool mail_charset_is_utf8(const char *charset)
{
	return charset == NULL || strcasecmp(charset, "utf-8") == 0 ||
	       strcasecmp(charset, "utf8") == 0 || strcasecmp(charset, "us-ascii") == 0 ||
	       strcasecmp(charset, "ascii") == 0;
}

/*
 * The decoded bytes of a leaf part: transfer encoding undone, and text in a declared charset
 * other than UTF-8 converted to UTF-8. *data_r new (malloc) or NULL for empty content.
 * Returns false when out of memory.
 */
static bool mail_part_bytes(GMimePart *part, uint8_t **data_r, size_t *len_r)
{
	*data_r = NULL;
	*len_r = 0;
	if (GMIME_IS_TEXT_PART(part) &&
	    !mail_charset_is_utf8(g_mime_text_part_get_charset(GMIME_TEXT_PART(part)))) {
		char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
		if (text == NULL)
			return true;
		size_t len = strlen(text);
		if (len > 0) {
			*data_r = malloc(len);
			if (*data_r == NULL) {
				g_free(text);
				return false;
			}
			memcpy(*data_r, text, len);
			*len_r = len;
		}
		g_free(text);
		return true;
	}
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	if (content == NULL)
		return true;
	GMimeStream *out = g_mime_stream_mem_new();
	if (out == NULL)
		return false;
	if (g_mime_data_wrapper_write_to_stream(content, out) < 0) {
		g_object_unref(out);
		return true; /* unreadable content counts as empty */
	}
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	if (bytes != NULL && bytes->len > 0) {
		*data_r = malloc(bytes->len);
		if (*data_r == NULL) {
			g_object_unref(out);
			return false;
		}
		memcpy(*data_r, bytes->data, bytes->len);
		*len_r = bytes->len;
	}
	g_object_unref(out);
	return true;
}

/* Whether obj is explicitly an attachment (Content-Disposition: attachment). */
static bool mail_is_attachment(GMimeObject *obj)
{
	const char *disposition = g_mime_object_get_disposition(obj);
	return disposition != NULL && strcasecmp(disposition, "attachment") == 0;
}

/* Whether obj is shown inline: Content-Disposition inline, or none at all but a
 * Content-ID (referenced from HTML, e.g. a logo in multipart/related). */
static bool mail_is_inline(GMimeObject *obj)
{
	const char *disposition = g_mime_object_get_disposition(obj);
	if (disposition != NULL)
		return strcasecmp(disposition, "inline") == 0;
	return g_mime_object_get_content_id(obj) != NULL;
}

/* A leaf part: the body, a document, or something skipped. */
static void mail_walk_leaf(mail_walk_t *walk, GMimeObject *obj)
{
	if (++walk->leaves > MAIL_PARTS_MAX) {
		if (walk->leaves == MAIL_PARTS_MAX + 1)
			mail_walk_skip(walk, "(the remaining parts)",
			               "too many parts in one mail: only the first 256 are read");
		return;
	}
	GMimePart *part = GMIME_PART(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	/* GMime reads a multipart without a boundary as one opaque part. */
	if (ct != NULL && g_mime_content_type_is_type(ct, "multipart", "*")) {
		(void)str_format(walk->error, sizeof(walk->error),
		                 "the mail says it has several parts but gives no boundary between "
		                 "them");
		return;
	}
	const char *filename = g_mime_part_get_filename(part);
	bool is_text = ct != NULL && g_mime_content_type_is_type(ct, "text", "plain");
	bool is_html = ct != NULL && g_mime_content_type_is_type(ct, "text", "html");
	bool has_name = filename != NULL && filename[0] != '\0';

	/* The mail's own text: kept aside, printed by policy once the whole tree is known. */
	if ((is_text || is_html) && !has_name && !mail_is_attachment(obj)) {
		char **slot = is_text ? &walk->plain : &walk->html;
		if (*slot != NULL || walk->forwarded > 0)
			return; /* the first of each kind is the body; later ones are quoted parts */
		uint8_t *data = NULL;
		size_t len = 0;
		if (!mail_part_bytes(part, &data, &len)) {
			walk->is_oom = true;
			return;
		}
		*slot = malloc(len + 1);
		if (*slot == NULL) {
			free(data);
			walk->is_oom = true;
			return;
		}
		if (len > 0)
			memcpy(*slot, data, len);
		(*slot)[len] = '\0';
		free(data);
		return;
	}

	char name[512];
	if (has_name) {
		if (!str_copy(name, sizeof(name), filename))
			(void)str_format(name, sizeof(name), "attachment-%u", ++walk->unnamed);
	} else {
		(void)str_format(name, sizeof(name), "attachment-%u", ++walk->unnamed);
	}
	char declared[128] = "application/octet-stream";
	if (ct != NULL) {
		char *mime = g_mime_content_type_get_mime_type(ct);
		if (mime != NULL) {
			(void)str_copy(declared, sizeof(declared), mime);
			str_lower_ascii(declared);
			g_free(mime);
		}
	}

	uint8_t *data = NULL;
	size_t len = 0;
	if (!mail_part_bytes(part, &data, &len)) {
		walk->is_oom = true;
		return;
	}
	if (len == 0) {
		free(data);
		mail_walk_skip(walk, name, "empty");
		return;
	}
	/* Typed by content only: a name or a declared type proves nothing. */
	const char *sniffed = doctype_sniff(data, len < DOCTYPE_SNIFF_MAX ? len : DOCTYPE_SNIFF_MAX);
	char reason[MAIL_REASON_MAX];
	/* Text is a weak verdict (SVG, JSON, XML all look like text): trust it only for parts
	 * sent as text or as unknown bytes. */
	bool is_text_sniff = sniffed != NULL && (strcmp(sniffed, "text/plain") == 0 ||
	                                         strcmp(sniffed, "text/html") == 0);
	if (is_text_sniff && !str_has_prefix(declared, "text/") &&
	    strcmp(declared, "application/octet-stream") != 0)
		sniffed = NULL;
	if (sniffed == NULL || convert_kind_of(sniffed) == PP_CONVERT_UNSUPPORTED) {
		(void)str_format(reason, sizeof(reason), "unsupported type %s",
		                 sniffed != NULL ? sniffed : declared);
		free(data);
		mail_walk_skip(walk, name, reason);
		return;
	}
	if (str_has_prefix(sniffed, "image/") && mail_is_inline(obj) &&
	    len < walk->policy->skip_inline_below_bytes) {
		(void)str_format(reason, sizeof(reason), "inline image under %zu bytes",
		                 walk->policy->skip_inline_below_bytes);
		free(data);
		mail_walk_skip(walk, name, reason);
		return;
	}
	mail_walk_add(walk, name, sniffed, data, len, false);
}

/* Walks obj at depth (0 = the message's top part). */
static void mail_walk(mail_walk_t *walk, GMimeObject *obj, unsigned depth)
{
	if (obj == NULL || walk->is_oom || walk->error[0] != '\0')
		return;
	if (depth > MAIL_DEPTH_MAX) {
		(void)str_format(walk->error, sizeof(walk->error),
		                 "the mail nests parts or forwarded mails more than %d deep",
		                 MAIL_DEPTH_MAX);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *multi = GMIME_MULTIPART(obj);
		/* The parameter as sent (g_mime_multipart_get_boundary() would make one up). */
		const char *boundary = g_mime_object_get_content_type_parameter(obj, "boundary");
		if (boundary == NULL || boundary[0] == '\0') {
			(void)str_format(walk->error, sizeof(walk->error),
			                 "the mail says it has several parts but gives no boundary "
			                 "between them");
			return;
		}
		int count = g_mime_multipart_get_count(multi);
		for (int i = 0; i < count; i++)
			mail_walk(walk, g_mime_multipart_get_part(multi, i), depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		/* A forwarded mail: its documents count as the sender's; its text is quoted. */
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner == NULL)
			return;
		walk->forwarded++;
		mail_walk(walk, g_mime_message_get_mime_part(inner), depth + 1);
		walk->forwarded--;
		return;
	}
	if (GMIME_IS_MESSAGE_PARTIAL(obj)) {
		mail_walk_skip(walk, "(partial message)",
		               "message/partial is not reassembled: send the mail whole");
		return;
	}
	if (GMIME_IS_PART(obj))
		mail_walk_leaf(walk, obj);
}

/* Converts text (UTF-8) into a printable body part and/or msg->body per policy. */
static void mail_walk_finish_body(mail_walk_t *walk)
{
	pp_mail_message_t *msg = walk->msg;
	const char *text = walk->plain != NULL ? walk->plain : walk->html;
	msg->body_is_html = walk->plain == NULL && walk->html != NULL;
	free(msg->body);
	msg->body = mail_strdup(text);
	if (msg->body == NULL) {
		walk->is_oom = true;
		return;
	}
	size_t len = strlen(msg->body);
	bool is_print = false;
	switch (walk->policy->body_policy) {
	case MAIL_BODY_ALWAYS:
		is_print = true;
		break;
	case MAIL_BODY_NO_ATTACHMENTS:
		is_print = msg->n_parts == 0;
		break;
	case MAIL_BODY_NEVER:
		is_print = false;
		break;
	}
	if (!is_print || mail_is_blank(msg->body, len))
		return;
	const char *sniffed = doctype_sniff((const uint8_t *)msg->body,
	                                    len < DOCTYPE_SNIFF_MAX ? len : DOCTYPE_SNIFF_MAX);
	if (sniffed == NULL || convert_kind_of(sniffed) == PP_CONVERT_UNSUPPORTED)
		sniffed = "text/plain";
	uint8_t *copy = malloc(len);
	if (copy == NULL) {
		walk->is_oom = true;
		return;
	}
	memcpy(copy, msg->body, len);
	mail_walk_add(walk, msg->body_is_html ? "message.html" : "message.txt", sniffed, copy, len,
	              true);
}

/* The headers every mail has (Message-ID, Subject, Date) into msg. */
static bool mail_read_headers(GMimeMessage *message, pp_mail_message_t *msg)
{
	const char *message_id = g_mime_message_get_message_id(message);
	msg->message_id = mail_strdup(message_id);
	msg->subject = mail_strdup(g_mime_message_get_subject(message));
	if (msg->message_id == NULL || msg->subject == NULL)
		return false;
	/* Subjects are printed in replies and logs: no control characters. */
	for (char *c = msg->subject; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	}
	GDateTime *date = g_mime_message_get_date(message);
	msg->date = date != NULL ? (int64_t)g_date_time_to_unix(date) : 0;
	return true;
}

/* Parses data[0..len) into a GMime message; NULL when GMime cannot. */
static GMimeMessage *mail_gmime_parse(const uint8_t *data, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer((const char *)data, len);
	if (stream == NULL)
		return NULL;
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = parser != NULL ? g_mime_parser_construct_message(parser, NULL) : NULL;
	if (parser != NULL)
		g_object_unref(parser);
	g_object_unref(stream);
	return message;
}

/* The length of the header block of data[0..len) with its blank line, or len if none. */
static size_t mail_header_length(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (data[i] == '\n' && data[i + 1] == '\n')
			return i + 2;
		if (i + 3 < len && memcmp(data + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return len;
}

int mail_parse_with_policy(const mail_policy_t *policy, int64_t account_id, const char *to,
                           const uint8_t *data, size_t len, pp_mail_message_t **msg_r,
                           char *error, size_t error_size)
{
	*msg_r = NULL;
	mail_gmime_init();
	if (len == 0) {
		str_format(error, error_size, "the mail is empty");
		return -1;
	}
	pp_mail_message_t *msg = calloc(1, sizeof(*msg));
	if (msg == NULL || (msg->from_name = mail_strdup("")) == NULL) {
		free(msg);
		str_format(error, error_size, "out of memory reading a mail");
		return -1;
	}
	msg->account_id = account_id;
	if (to != NULL)
		(void)str_copy(msg->to, sizeof(msg->to), to);
	crypto_generichash(msg->content_hash, sizeof(msg->content_hash), data, len, NULL, 0);

	/* A mail over the cap: only its headers are read, to tell the sender why. */
	bool is_too_large = len > policy->max_message_bytes;
	GMimeMessage *message =
	    mail_gmime_parse(data, is_too_large ? mail_header_length(data, len) : len);
	if (message == NULL) {
		mail_message_free(&msg);
		str_format(error, error_size, "the mail could not be read as a mail message");
		return -1;
	}
	if (!mail_read_headers(message, msg)) {
		g_object_unref(message);
		mail_message_free(&msg);
		str_format(error, error_size, "out of memory reading a mail");
		return -1;
	}
	mail_sender_classify(message, policy, msg);

	mail_walk_t walk = {.policy = policy, .msg = msg};
	if (is_too_large)
		(void)str_format(walk.error, sizeof(walk.error),
		                 "the mail is larger than %zu bytes: send fewer or smaller "
		                 "attachments",
		                 policy->max_message_bytes);
	mail_walk(&walk, g_mime_message_get_mime_part(message), 0);
	g_object_unref(message);
	if (!walk.is_oom && walk.error[0] == '\0')
		mail_walk_finish_body(&walk);
	free(walk.plain);
	free(walk.html);
	if (msg->body == NULL)
		msg->body = mail_strdup("");
	if (walk.is_oom || msg->body == NULL) {
		mail_message_free(&msg);
		str_format(error, error_size, "out of memory reading a mail");
		return -1;
	}
	*msg_r = msg;
	if (walk.error[0] != '\0') {
		str_format(error, error_size, "%s", walk.error);
		return -1;
	}
	return 0;
}
