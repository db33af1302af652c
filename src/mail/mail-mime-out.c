/*
 * mail-mime-out.c - a rendered reply turned into an RFC 5322 message with GMime:
 * multipart/alternative (plain text first, HTML last, as clients prefer the last they can
 * show), UTF-8 in quoted-printable, the subject encoded per RFC 2047 by GMime, CRLF line ends
 * for SMTP. Auto-Submitted: auto-replied (RFC 3834) tells other robots (vacation replies,
 * our own poller) not to answer, which is what stops mail loops.
 */
#include "mail/mail-out-private.h"

#include "mail/mail-in-private.h"
#include "lib/crypto.h"
#include "lib/str.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

/*
 * A text part of subtype ("plain", "html") holding text as it is (UTF-8), quoted-printable.
 * (g_mime_text_part_set_text() would convert to the "best" charset, Latin-1 for most of
 * Europe; UTF-8 throughout is simpler for every client.)
 */
static GMimeObject *mime_text_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeDataWrapper *content =
	    stream != NULL
	        ? g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT)
	        : NULL;
	if (part == NULL || content == NULL) {
		if (part != NULL)
			g_object_unref(part);
		if (stream != NULL)
			g_object_unref(stream);
		return NULL;
	}
	g_mime_part_set_content(GMIME_PART(part), content);
	g_object_unref(content);
	g_object_unref(stream);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(part);
}

/* The domain of address (after '@'), or "localhost". */
static const char *mime_domain(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL && at[1] != '\0' ? at + 1 : "localhost";
}

int mail_mime_build(const pp_mail_headers_t *headers, const pp_mail_rendered_t *body,
                    char **message_r, size_t *len_r, char *error, size_t error_size)
{
	*message_r = NULL;
	*len_r = 0;
	mail_gmime_init();
	GMimeMessage *msg = g_mime_message_new(TRUE);
	GMimeObject *text = mime_text_part("plain", body->text != NULL ? body->text : "");
	GMimeObject *html = body->html != NULL ? mime_text_part("html", body->html) : NULL;
	GMimeMultipart *alt =
	    body->html != NULL ? g_mime_multipart_new_with_subtype("alternative") : NULL;
	GMimeStream *mem = g_mime_stream_mem_new();
	GMimeFormatOptions *opts = g_mime_format_options_new();
	int rc = -1;
	if (msg == NULL || text == NULL || mem == NULL || opts == NULL ||
	    (body->html != NULL && (html == NULL || alt == NULL))) {
		str_format(error, error_size, "mail: out of memory building a reply");
		goto done;
	}
	const char *from_name =
	    headers->from_name != NULL && headers->from_name[0] != '\0' ? headers->from_name : NULL;
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, from_name, headers->from_address);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL, headers->to);
	if (headers->reply_to != NULL && headers->reply_to[0] != '\0')
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, NULL,
		                           headers->reply_to);
	g_mime_message_set_subject(msg, body->subject != NULL ? body->subject : "", "utf-8");
	GDateTime *date = g_date_time_new_from_unix_utc(headers->date);
	if (date != NULL) {
		g_mime_message_set_date(msg, date);
		g_date_time_unref(date);
	}
	char id[CRYPTO_ID_HEX_LEN + 1];
	char message_id[CRYPTO_ID_HEX_LEN + USERS_EMAIL_MAX + 16];
	crypto_random_id(id);
	if (str_format(message_id, sizeof(message_id), "%s.pullprint@%s", id,
	               mime_domain(headers->from_address)))
		g_mime_message_set_message_id(msg, message_id);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "X-Auto-Response-Suppress", "All", NULL);
	if (headers->in_reply_to != NULL && headers->in_reply_to[0] != '\0') {
		char ref[1024];
		if (str_format(ref, sizeof(ref), "<%s>", headers->in_reply_to)) {
			g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", ref, NULL);
			g_mime_object_set_header(GMIME_OBJECT(msg), "References", ref, NULL);
		}
	}
	if (alt != NULL) {
		g_mime_multipart_add(alt, text);
		g_mime_multipart_add(alt, html);
		g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));
	} else {
		g_mime_message_set_mime_part(msg, text);
	}
	g_mime_format_options_set_newline_format(opts, GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, mem) < 0) {
		str_format(error, error_size, "mail: cannot write the reply");
		goto done;
	}
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	char *out = malloc(bytes->len + 1);
	if (out == NULL) {
		str_format(error, error_size, "mail: out of memory building a reply");
		goto done;
	}
	memcpy(out, bytes->data, bytes->len);
	out[bytes->len] = '\0';
	*message_r = out;
	*len_r = bytes->len;
	/* The rendered body may hold a code: wipe GMime's copy before it is freed. */
	crypto_wipe(bytes->data, bytes->len);
	rc = 0;
done:
	if (opts != NULL)
		g_mime_format_options_free(opts);
	if (mem != NULL)
		g_object_unref(mem);
	if (alt != NULL)
		g_object_unref(alt);
	if (html != NULL)
		g_object_unref(html);
	if (text != NULL)
		g_object_unref(text);
	if (msg != NULL)
		g_object_unref(msg);
	return rc;
}
