/*
 * mail-account-fetch.c - one session on an inbound mailbox through libcurl: list the waiting
 * messages, fetch one, delete one, make the deletions final.
 *
 * IMAP (imaps://, or imap:// where STARTTLS is required: CURLUSESSL_ALL) works on UIDs:
 * "UID SEARCH ALL" lists, ";UID=n" fetches (BODY[]), "UID STORE n
 * +FLAGS.SILENT (\Deleted)" deletes and EXPUNGE, once per round, makes it final. A message
 * flagged but not expunged (crash) is listed again and recognised as seen by intake.
 * POP3 (pop3s:// only) works on message numbers, stable within a session: LIST, RETR n,
 * DELE n; deletions become final only at QUIT, which libcurl sends when the connection is
 * closed cleanly (mail_box_commit()). A session cut short keeps every message: intake
 * recognises them at the next poll.
 *
 * Login: CURLOPT_USERNAME + CURLOPT_PASSWORD, or CURLOPT_XOAUTH2_BEARER with AUTH=XOAUTH2
 * (Microsoft 365, Gmail). The certificate is verified unless the account turns it off; an
 * account may name its own CA bundle. Only the server's answers are kept for `mail accounts
 * test` (CURLINFO_HEADER_IN): never what we send, so never the secret.
 */
#include "mail/mail-in-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAIL_TRANSCRIPT_MAX 16384
#define MAIL_LIST_REPLY_MAX (16u * 1024u * 1024u) /* a listing of ~300000 messages */

struct mail_box {
	CURL *curl;
	pp_mail_account_t account;
	char *secret;
	char base[MAIL_URL_MAX + 16]; /* IMAP: imaps://host/MAILBOX; POP3: pop3s://host */
	/* the current transfer's body */
	uint8_t *data;
	size_t len, cap, limit;
	bool is_over_limit;
	/* the server's answers */
	char transcript[MAIL_TRANSCRIPT_MAX];
	size_t transcript_len;
	char curl_error[CURL_ERROR_SIZE];
};

static pthread_once_t mail_curl_once = PTHREAD_ONCE_INIT;
static bool mail_curl_is_ok;

static void mail_curl_start(void)
{
	mail_curl_is_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool mail_curl_init(void)
{
	(void)pthread_once(&mail_curl_once, mail_curl_start);
	return mail_curl_is_ok;
}

/* CURLOPT_WRITEFUNCTION: appends to box->data up to box->limit bytes. */
static size_t mail_box_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	mail_box_t *box = userdata;
	size_t total = size * nmemb;
	size_t n = total;
	if (box->limit - box->len < n) {
		/* Keep what fits (so len reaches limit exactly), then stop the transfer. */
		box->is_over_limit = true;
		n = box->limit - box->len;
	}
	if (n > 0 && box->cap - box->len < n) {
		size_t cap = box->cap == 0 ? 65536 : box->cap;
		while (cap - box->len < n)
			cap *= 2;
		uint8_t *grown = realloc(box->data, cap);
		if (grown == NULL)
			return 0;
		box->data = grown;
		box->cap = cap;
	}
	if (n > 0)
		memcpy(box->data + box->len, ptr, n);
	box->len += n;
	return box->is_over_limit ? 0 : total;
}

/* CURLOPT_DEBUGFUNCTION: keeps the server's lines only. */
static int mail_box_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *userdata)
{
	(void)curl;
	mail_box_t *box = userdata;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	size_t room = sizeof(box->transcript) - 1 - box->transcript_len;
	size_t n = size < room ? size : room;
	memcpy(box->transcript + box->transcript_len, data, n);
	box->transcript_len += n;
	box->transcript[box->transcript_len] = '\0';
	return 0;
}

/* Sets the options every transfer of box shares. Returns false on a libcurl failure. */
static bool mail_box_setup(mail_box_t *box)
{
	CURL *c = box->curl;
	const pp_mail_account_t *a = &box->account;
	bool is_ok = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps,pop3s") == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, a->is_verify_tls ? 1L : 0L) ==
	                 CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, a->is_verify_tls ? 2L : 0L) ==
	                 CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_USERNAME, a->username) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mail_box_write) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_WRITEDATA, box) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, mail_box_debug) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_DEBUGDATA, box) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_VERBOSE, 1L) == CURLE_OK &&
	             curl_easy_setopt(c, CURLOPT_ERRORBUFFER, box->curl_error) == CURLE_OK;
	if (is_ok && a->ca_file[0] != '\0')
		is_ok = curl_easy_setopt(c, CURLOPT_CAINFO, a->ca_file) == CURLE_OK;
	if (is_ok && a->login == PP_MAIL_LOGIN_XOAUTH2)
		is_ok = curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, box->secret) == CURLE_OK &&
		        curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2") == CURLE_OK;
	else if (is_ok)
		is_ok = curl_easy_setopt(c, CURLOPT_PASSWORD, box->secret) == CURLE_OK;
	return is_ok;
}

int mail_box_open(pp_core_t *core, const pp_mail_account_t *account, mail_box_t **box_r,
                  char *error, size_t error_size)
{
	*box_r = NULL;
	if (!mail_curl_init()) {
		str_format(error, error_size, "mail: libcurl cannot start");
		return -1;
	}
	mail_box_t *box = calloc(1, sizeof(*box));
	if (box == NULL) {
		str_format(error, error_size, "mail: out of memory");
		return -1;
	}
	box->account = *account;
	/* IMAP names a mailbox (INBOX unless the URL says); POP3 has none. */
	const char *url = account->url;
	size_t url_len = strlen(url);
	while (url_len > 0 && url[url_len - 1] == '/')
		url_len--;
	const char *scheme_end = strstr(url, "://");
	bool has_path = scheme_end != NULL && memchr(scheme_end + 3, '/', url_len -
	                                              (size_t)(scheme_end + 3 - url)) != NULL;
	bool is_ok = account->proto == PP_MAIL_PROTO_IMAP
	                 ? str_format(box->base, sizeof(box->base), "%.*s%s", (int)url_len, url,
	                              has_path ? "" : "/INBOX")
	                 : str_format(box->base, sizeof(box->base), "%.*s", (int)url_len, url);
	if (!is_ok || mail_account_secret_get(core, account, &box->secret, error, error_size) < 0) {
		if (!is_ok)
			str_format(error, error_size, "mail account %s: URL too long", account->name);
		mail_box_close(&box);
		return -1;
	}
	box->curl = curl_easy_init();
	if (box->curl == NULL || !mail_box_setup(box)) {
		str_format(error, error_size, "mail account %s: libcurl cannot be set up",
		           account->name);
		mail_box_close(&box);
		return -1;
	}
	*box_r = box;
	return 0;
}

/* Runs one transfer on url with custom (NULL = the URL's own action), keeping at most limit
 * bytes of the answer in box->data. Returns 0 or -1 with error naming what failed. */
static int mail_box_perform(mail_box_t *box, const char *url, const char *custom, bool is_nobody,
                            size_t limit, const char *what, char *error, size_t error_size)
{
	box->len = 0;
	box->limit = limit;
	box->is_over_limit = false;
	box->curl_error[0] = '\0';
	if (curl_easy_setopt(box->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(box->curl, CURLOPT_CUSTOMREQUEST, custom) != CURLE_OK ||
	    curl_easy_setopt(box->curl, CURLOPT_NOBODY, is_nobody ? 1L : 0L) != CURLE_OK) {
		str_format(error, error_size, "mail account %s: libcurl refused an option",
		           box->account.name);
		return -1;
	}
	CURLcode rc = curl_easy_perform(box->curl);
	if (rc == CURLE_WRITE_ERROR && box->is_over_limit)
		return 0; /* stopped on purpose: the caller sees len == limit */
	if (rc != CURLE_OK) {
		const char *hint = "";
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
			hint = " — the server's certificate is not trusted: install its CA (--ca-file) "
			       "or check the host name";
		else if (rc == CURLE_LOGIN_DENIED)
			hint = " — check the user name and the password or token (OAuth2 tokens "
			       "expire: store a fresh one)";
		else if (rc == CURLE_USE_SSL_FAILED)
			hint = " — the server offers no STARTTLS: use imaps://";
		else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		         rc == CURLE_OPERATION_TIMEDOUT)
			hint = " — check the host, port and firewall";
		str_format(error, error_size, "mail account %s: %s failed: %s%s", box->account.name,
		           what, box->curl_error[0] != '\0' ? box->curl_error : curl_easy_strerror(rc),
		           hint);
		return -1;
	}
	return 0;
}

int mail_box_list(mail_box_t *box, size_t max, mail_box_item_t **items_r, size_t *count_r,
                  char *error, size_t error_size)
{
	*items_r = NULL;
	*count_r = 0;
	bool is_imap = box->account.proto == PP_MAIL_PROTO_IMAP;
	/* IMAP: one "* SEARCH 4 7 9" line. (A FETCH line per message would be shorter to parse
	 * for sizes, but libcurl 7.88 counts the untagged lines of one response as headers and
	 * refuses past 300 KB, which 500 waiting messages already reach.) */
	if (mail_box_perform(box, box->base, is_imap ? "UID SEARCH ALL" : NULL,
	                     false, MAIL_LIST_REPLY_MAX, "listing the mailbox", error,
	                     error_size) < 0)
		return -1;
	if (box->is_over_limit) {
		str_format(error, error_size, "mail account %s: the listing is too long",
		           box->account.name);
		return -1;
	}
	size_t cap = 64;
	mail_box_item_t *items = malloc(cap * sizeof(*items));
	if (items == NULL) {
		str_format(error, error_size, "mail: out of memory");
		return -1;
	}
	size_t n = 0;
	const char *text = (const char *)box->data;
	size_t pos = 0;
	while (pos < box->len && n < max) {
		const char *nl = memchr(text + pos, '\n', box->len - pos);
		size_t line_len = nl != NULL ? (size_t)(nl - (text + pos)) : box->len - pos;
		const char *line = text + pos;
		pos += line_len + 1;
		mail_box_item_t item = {0};
		if (is_imap) {
			/* "* SEARCH 4 7 9": every UID of the line, up to max */
			if (line_len < 8 || memcmp(line, "* SEARCH", 8) != 0)
				continue;
			const char *p = line + 8;
			const char *end = line + line_len;
			while (p < end && n < max) {
				while (p < end && (*p == ' ' || *p == '\r'))
					p++;
				if (p >= end || !parse_uint64(&p, UINT64_MAX, &item.id))
					break;
				if (item.id == 0)
					continue;
				if (n == cap) {
					cap *= 2;
					mail_box_item_t *grown = realloc(items, cap * sizeof(*items));
					if (grown == NULL) {
						free(items);
						str_format(error, error_size, "mail: out of memory");
						return -1;
					}
					items = grown;
				}
				items[n++] = item;
			}
			continue;
		} else {
			/* "1 1234" */
			const char *p = line;
			if (!parse_uint64(&p, UINT64_MAX, &item.id) || *p != ' ')
				continue;
			p++;
			(void)parse_uint64(&p, UINT64_MAX, &item.size_bytes);
		}
		if (item.id == 0)
			continue;
		if (n == cap) {
			cap *= 2;
			mail_box_item_t *grown = realloc(items, cap * sizeof(*items));
			if (grown == NULL) {
				free(items);
				str_format(error, error_size, "mail: out of memory");
				return -1;
			}
			items = grown;
		}
		items[n++] = item;
	}
	*items_r = items;
	*count_r = n;
	return 0;
}

int mail_box_fetch(mail_box_t *box, const mail_box_item_t *item, size_t cap, uint8_t **data_r,
                   size_t *len_r, char *error, size_t error_size)
{
	*data_r = NULL;
	*len_r = 0;
	char url[sizeof(box->base) + 32];
	bool is_imap = box->account.proto == PP_MAIL_PROTO_IMAP;
	if (!str_format(url, sizeof(url), is_imap ? "%s/;UID=%llu" : "%s/%llu", box->base,
	                (unsigned long long)item->id)) {
		str_format(error, error_size, "mail: URL too long");
		return -1;
	}
	if (mail_box_perform(box, url, NULL, false, cap + 1, "fetching a message", error,
	                     error_size) < 0)
		return -1;
	/* Over the cap: what arrived (cap + part) is enough for the headers and the reply. */
	uint8_t *data = malloc(box->len > 0 ? box->len : 1);
	if (data == NULL) {
		str_format(error, error_size, "mail: out of memory");
		return -1;
	}
	if (box->len > 0)
		memcpy(data, box->data, box->len);
	*data_r = data;
	*len_r = box->len; /* cap + 1 when the message is larger than cap */
	return 0;
}

int mail_box_delete(mail_box_t *box, const mail_box_item_t *item, char *error,
                    size_t error_size)
{
	char url[sizeof(box->base) + 32];
	char custom[96];
	bool is_imap = box->account.proto == PP_MAIL_PROTO_IMAP;
	if (is_imap) {
		(void)str_copy(url, sizeof(url), box->base);
		(void)str_format(custom, sizeof(custom), "UID STORE %llu +FLAGS.SILENT (\\Deleted)",
		                 (unsigned long long)item->id);
	} else {
		(void)str_format(url, sizeof(url), "%s/%llu", box->base, (unsigned long long)item->id);
		(void)str_copy(custom, sizeof(custom), "DELE");
	}
	return mail_box_perform(box, url, custom, !is_imap, 65536, "deleting a message", error,
	                        error_size);
}

int mail_box_commit(mail_box_t *box, char *error, size_t error_size)
{
	if (box->account.proto == PP_MAIL_PROTO_IMAP)
		return mail_box_perform(box, box->base, "EXPUNGE", false, 1048576,
		                        "expunging deleted messages", error, error_size);
	/* POP3: deletions happen at QUIT, which libcurl sends when it closes the connection. */
	curl_easy_cleanup(box->curl);
	box->curl = curl_easy_init();
	if (box->curl == NULL || !mail_box_setup(box)) {
		str_format(error, error_size, "mail account %s: libcurl cannot be set up again",
		           box->account.name);
		return -1;
	}
	return 0;
}

const char *mail_box_transcript(const mail_box_t *box)
{
	return box->transcript;
}

void mail_box_close(mail_box_t **box)
{
	if (box == NULL || *box == NULL)
		return;
	mail_box_t *b = *box;
	if (b->curl != NULL)
		curl_easy_cleanup(b->curl);
	if (b->secret != NULL) {
		crypto_wipe(b->secret, strlen(b->secret));
		free(b->secret);
	}
	free(b->data);
	free(b);
	*box = NULL;
}

int mail_account_test(pp_core_t *core, const char *name, char **transcript_r, char *error,
                      size_t error_size)
{
	*transcript_r = NULL;
	pp_mail_account_t account;
	if (mail_account_get(core, name, &account, error, error_size) != 0)
		return -1;
	mail_box_t *box = NULL;
	if (mail_box_open(core, &account, &box, error, error_size) < 0)
		return -1;
	mail_box_item_t *items = NULL;
	size_t count = 0;
	int rc = mail_box_list(box, SIZE_MAX, &items, &count, error, error_size);
	free(items);
	const char *transcript = mail_box_transcript(box);
	size_t size = strlen(transcript) + 128;
	char *out = malloc(size);
	if (out != NULL) {
		if (rc == 0)
			(void)str_format(out, size, "%s%zu message(s) waiting\n", transcript, count);
		else
			(void)str_copy(out, size, transcript);
	}
	*transcript_r = out;
	mail_box_close(&box);
	return rc;
}
