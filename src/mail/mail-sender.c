/*
 * mail-sender.c - who sent a mail, and whether it deserves an answer at all.
 *
 * The canonical From is the first mailbox of the From header, lower-cased and checked
 * (users_canonical_email()). Noise is never printed and never answered, to keep out of mail
 * loops and backscatter:
 *   - a null sender (Return-Path: <>) or no usable From;
 *   - a bounce: multipart/report, or From MAILER-DAEMON;
 *   - Auto-Submitted with any value but "no" (RFC 3834), and the older X-Autoreply /
 *     X-Autorespond markers of auto-responders that predate it;
 *   - Precedence: bulk, junk or list. A List-Id header ALONE is not noise: company aliases
 *     and groups add it to mail people send by hand, and those are legitimate submissions;
 *   - mail from one of our own addresses (the SMTP From of the replies, or an inbound
 *     mailbox), which would otherwise answer itself.
 *
 * Anti-spoofing (RFC 8601): when the admin names the trusted receiving host's authserv-id
 * (mail.auth_serv_id), the topmost Authentication-Results header carrying that id must say
 * pass for the required method (mail.require_auth): dmarc=pass; or dkim=pass with a signing
 * domain (header.d / header.i) aligned with the From domain; or spf=pass with an aligned
 * smtp.mailfrom. A missing header or any other result is FAIL. Headers with other ids are
 * ignored: anyone can write one. The receiving host must remove incoming headers that carry
 * its own id (RFC 8601 section 5; Postfix/OpenDMARC, Exchange Online and Gmail do).
 */
#include "mail/mail-in-private.h"

#include "core/settings.h"
#include "core/users.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail-out.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAIL_AR_MAX 4096 /* longest Authentication-Results value looked at */
#define MAIL_AR_HEADERS_MAX 16

/* Removes RFC 5322 comments "( … )" (nested, with quoted pairs) from s in place, leaving
 * quoted strings alone. */
static void mail_ar_strip_comments(char *s)
{
	char *out = s;
	unsigned depth = 0;
	bool is_quoted = false;
	for (char *in = s; *in != '\0'; in++) {
		char c = *in;
		if (depth == 0 && c == '"') {
			is_quoted = !is_quoted;
		} else if (!is_quoted && c == '(') {
			depth++;
			continue;
		} else if (!is_quoted && depth > 0 && c == ')') {
			depth--;
			*out++ = ' ';
			continue;
		} else if (c == '\\' && in[1] != '\0') {
			if (depth == 0) {
				*out++ = c;
				*out++ = in[1];
			}
			in++;
			continue;
		}
		if (depth == 0)
			*out++ = c;
	}
	*out = '\0';
}

/* Splits s at the next unquoted ';': returns the start of this element (trimmed) and sets
 * *rest_r after the ';' (NULL at the end). */
static char *mail_ar_next(char *s, char **rest_r)
{
	bool is_quoted = false;
	char *p = s;
	for (; *p != '\0'; p++) {
		if (*p == '"')
			is_quoted = !is_quoted;
		else if (*p == ';' && !is_quoted)
			break;
	}
	if (*p == ';') {
		*p = '\0';
		*rest_r = p + 1;
	} else {
		*rest_r = NULL;
	}
	return str_trim(s);
}

/* Whether domain d (of a signature or envelope) is aligned with from_domain: equal, or one
 * a subdomain of the other (relaxed alignment, RFC 7489 3.1). */
static bool mail_domain_aligned(const char *d, const char *from_domain)
{
	size_t dl = strlen(d);
	size_t fl = strlen(from_domain);
	if (dl == 0 || fl == 0)
		return false;
	if (strcasecmp(d, from_domain) == 0)
		return true;
	if (fl > dl && from_domain[fl - dl - 1] == '.' && strcasecmp(from_domain + fl - dl, d) == 0)
		return true;
	if (dl > fl && d[dl - fl - 1] == '.' && strcasecmp(d + dl - fl, from_domain) == 0)
		return true;
	return false;
}

/*
 * One resinfo "method[/v]=result prop=value …": whether it passes require for from_domain.
 * Sets *is_method_r when the method is the required one.
 */
static bool mail_ar_resinfo_passes(char *resinfo, mail_require_t require, const char *from_domain)
{
	const char *want = require == MAIL_REQUIRE_DMARC ? "dmarc"
	                   : require == MAIL_REQUIRE_DKIM ? "dkim"
	                                                  : "spf";
	char *save = NULL;
	char *word = strtok_r(resinfo, " \t\r\n", &save);
	if (word == NULL)
		return false;
	char *eq = strchr(word, '=');
	if (eq == NULL)
		return false;
	*eq = '\0';
	char *slash = strchr(word, '/');
	if (slash != NULL)
		*slash = '\0';
	if (strcasecmp(word, want) != 0 || strcasecmp(eq + 1, "pass") != 0)
		return false;
	if (require == MAIL_REQUIRE_DMARC)
		return true; /* DMARC pass already means aligned with From */
	/* DKIM and SPF pass prove a domain: it must be the From domain's. */
	for (char *prop = strtok_r(NULL, " \t\r\n", &save); prop != NULL;
	     prop = strtok_r(NULL, " \t\r\n", &save)) {
		char *val = strchr(prop, '=');
		if (val == NULL)
			continue;
		*val++ = '\0';
		if (val[0] == '"') {
			val++;
			size_t vl = strlen(val);
			if (vl > 0 && val[vl - 1] == '"')
				val[vl - 1] = '\0';
		}
		bool is_domain_prop =
		    require == MAIL_REQUIRE_DKIM
		        ? strcasecmp(prop, "header.d") == 0 || strcasecmp(prop, "header.i") == 0
		        : strcasecmp(prop, "smtp.mailfrom") == 0;
		if (!is_domain_prop)
			continue;
		const char *at = strrchr(val, '@');
		if (mail_domain_aligned(at != NULL ? at + 1 : val, from_domain))
			return true;
	}
	return false;
}

pp_mail_auth_t mail_sender_auth_verdict(const char *const *values, size_t n, const char *serv_id,
                                        mail_require_t require, const char *from_domain)
{
	if (serv_id == NULL || serv_id[0] == '\0' || require == MAIL_REQUIRE_NONE)
		return PP_MAIL_AUTH_NONE;
	for (size_t i = 0; i < n; i++) {
		char buf[MAIL_AR_MAX];
		if (values[i] == NULL || !str_copy(buf, sizeof(buf), values[i]))
			continue;
		mail_ar_strip_comments(buf);
		char *rest = NULL;
		char *head = mail_ar_next(buf, &rest);
		/* authserv-id [ version ] */
		char *space = strpbrk(head, " \t\r\n");
		if (space != NULL)
			*space = '\0';
		if (strcasecmp(head, serv_id) != 0)
			continue;
		/* The topmost header of the trusted host decides, pass or not. */
		while (rest != NULL) {
			char *resinfo = mail_ar_next(rest, &rest);
			if (mail_ar_resinfo_passes(resinfo, require, from_domain))
				return PP_MAIL_AUTH_PASS;
		}
		return PP_MAIL_AUTH_FAIL;
	}
	return PP_MAIL_AUTH_FAIL;
}

/* The first value of header name on message, or NULL. */
static const char *mail_header(GMimeMessage *message, const char *name)
{
	return g_mime_object_get_header(GMIME_OBJECT(message), name);
}

/* Whether value (a header) starts with word, ignoring case and leading space. */
static bool mail_header_is(const char *value, const char *word)
{
	if (value == NULL)
		return false;
	while (*value == ' ' || *value == '\t')
		value++;
	size_t wl = strlen(word);
	if (strncasecmp(value, word, wl) != 0)
		return false;
	char end = value[wl];
	return end == '\0' || end == ' ' || end == '\t' || end == ';' || end == '\r' || end == '\n';
}

/* The noise kind of message from canonical address from (may be ""). */
static pp_mail_noise_t mail_sender_noise(GMimeMessage *message, const mail_policy_t *policy,
                                         const char *from)
{
	const char *return_path = mail_header(message, "Return-Path");
	if (return_path != NULL) {
		char rp[64];
		(void)str_copy(rp, sizeof(rp), return_path);
		if (strcmp(str_trim(rp), "<>") == 0)
			return PP_MAIL_NOISE_NULL_SENDER;
	}
	if (from[0] == '\0')
		return PP_MAIL_NOISE_NULL_SENDER;
	if (str_has_prefix(from, "mailer-daemon@"))
		return PP_MAIL_NOISE_BOUNCE;
	GMimeObject *top = g_mime_message_get_mime_part(message);
	if (top != NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(top);
		if (ct != NULL && g_mime_content_type_is_type(ct, "multipart", "report"))
			return PP_MAIL_NOISE_BOUNCE;
	}
	const char *auto_submitted = mail_header(message, "Auto-Submitted");
	if (auto_submitted != NULL && !mail_header_is(auto_submitted, "no"))
		return PP_MAIL_NOISE_AUTO_SUBMITTED;
	if (mail_header(message, "X-Autoreply") != NULL ||
	    mail_header(message, "X-Autorespond") != NULL)
		return PP_MAIL_NOISE_AUTO_SUBMITTED;
	const char *precedence = mail_header(message, "Precedence");
	if (mail_header_is(precedence, "bulk") || mail_header_is(precedence, "junk") ||
	    mail_header_is(precedence, "list"))
		return PP_MAIL_NOISE_PRECEDENCE;
	for (size_t i = 0; i < policy->n_own; i++) {
		if (strcmp(policy->own[i], from) == 0)
			return PP_MAIL_NOISE_OWN_ADDRESS;
	}
	return PP_MAIL_NOISE_NONE;
}

void mail_sender_classify(GMimeMessage *message, const mail_policy_t *policy,
                          pp_mail_message_t *msg)
{
	msg->from[0] = '\0';
	InternetAddressList *list = g_mime_message_get_from(message);
	int count = list != NULL ? internet_address_list_length(list) : 0;
	for (int i = 0; i < count; i++) {
		InternetAddress *address = internet_address_list_get_address(list, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(address))
			continue;
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
		char why[128];
		if (addr == NULL ||
		    users_canonical_email(addr, msg->from, why, sizeof(why)) < 0) {
			msg->from[0] = '\0';
		} else {
			const char *name = internet_address_get_name(address);
			char *copy = strdup(name != NULL ? name : "");
			if (copy != NULL) {
				free(msg->from_name);
				msg->from_name = copy;
			}
		}
		break; /* the first mailbox is the author */
	}
	msg->noise = mail_sender_noise(message, policy, msg->from);
	msg->is_noise = msg->noise != PP_MAIL_NOISE_NONE;

	/* Authentication-Results, topmost first (the order GMime keeps). */
	const char *values[MAIL_AR_HEADERS_MAX];
	size_t n = 0;
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
	int n_headers = headers != NULL ? g_mime_header_list_get_count(headers) : 0;
	for (int i = 0; i < n_headers && n < MAIL_AR_HEADERS_MAX; i++) {
		GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);
		const char *name = g_mime_header_get_name(header);
		if (name != NULL && strcasecmp(name, "Authentication-Results") == 0)
			values[n++] = g_mime_header_get_value(header);
	}
	const char *at = strrchr(msg->from, '@');
	msg->auth = mail_sender_auth_verdict(values, n, policy->auth_serv_id, policy->require,
	                                     at != NULL ? at + 1 : "");
}

int mail_policy_load(pp_core_t *core, mail_policy_t *policy_r, char *error, size_t error_size)
{
	mail_policy_defaults(policy_r);
	char word[SETTINGS_VALUE_MAX];
	int64_t value = 0;
	if (settings_get_string(core, "mail.body_policy", word, sizeof(word), error, error_size) < 0)
		return -1;
	policy_r->body_policy = strcmp(word, "always") == 0  ? MAIL_BODY_ALWAYS
	                        : strcmp(word, "never") == 0 ? MAIL_BODY_NEVER
	                                                     : MAIL_BODY_NO_ATTACHMENTS;
	if (settings_get_int(core, "mail.skip_inline_images_below_bytes", &value, error,
	                     error_size) < 0)
		return -1;
	policy_r->skip_inline_below_bytes = (size_t)value;
	if (settings_get_string(core, "mail.auth_serv_id", policy_r->auth_serv_id,
	                        sizeof(policy_r->auth_serv_id), error, error_size) < 0)
		return -1;
	if (settings_get_string(core, "mail.require_auth", word, sizeof(word), error, error_size) < 0)
		return -1;
	policy_r->require = strcmp(word, "dkim") == 0   ? MAIL_REQUIRE_DKIM
	                    : strcmp(word, "spf") == 0  ? MAIL_REQUIRE_SPF
	                    : strcmp(word, "none") == 0 ? MAIL_REQUIRE_NONE
	                                                : MAIL_REQUIRE_DMARC;
	if (settings_get_int(core, "mail.max_message_bytes", &value, error, error_size) < 0)
		return -1;
	policy_r->max_message_bytes = (size_t)value;
	if (settings_get_string(core, "mail.print_now_enabled", word, sizeof(word), error,
	                        error_size) < 0)
		return -1;
	policy_r->is_print_now_enabled = strcmp(word, "on") == 0;

	/* Our own addresses: the replies' From and every inbound mailbox. */
	pp_smtp_config_t smtp;
	if (mail_smtp_config_get(core, &smtp, error, error_size) < 0)
		return -1;
	if (smtp.is_configured)
		mail_policy_add_own(policy_r, smtp.from_address);
	pp_mail_account_t *accounts = NULL;
	size_t count = 0;
	if (mail_account_list(core, &accounts, &count, error, error_size) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		mail_policy_add_own(policy_r, accounts[i].address);
	mail_account_list_free(&accounts);
	return 0;
}

int mail_message_parse(pp_core_t *core, int64_t account_id, const char *to, const uint8_t *data,
                       size_t len, pp_mail_message_t **msg_r, char *error, size_t error_size)
{
	*msg_r = NULL;
	mail_policy_t policy;
	if (mail_policy_load(core, &policy, error, error_size) < 0)
		return -1;
	return mail_parse_with_policy(&policy, account_id, to, data, len, msg_r, error, error_size);
}
