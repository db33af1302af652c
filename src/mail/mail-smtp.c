/*
 * mail-smtp.c - one message handed to the SMTP server with libcurl: smtps:// (implicit TLS)
 * or smtp:// with STARTTLS required (CURLUSESSL_ALL: no silent fall back to plain text);
 * plain smtp:// only to a relay on this host. AUTH with a password or an OAuth2 bearer
 * (XOAUTH2). The certificate is verified unless the admin turned that off. Only the smtp and
 * smtps protocols are enabled, and redirects do not exist in SMTP, so no setting or mail can
 * make this code speak anything else.
 */
#include "mail/mail-out.h"

#include "lib/str.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define SMTP_CONNECT_TIMEOUT_S 10L
#define SMTP_TIMEOUT_S 60L
#define SMTP_TRANSCRIPT_MAX (64 * 1024)

typedef struct {
	const char *data;
	size_t len, pos;
} smtp_reader_t;

static size_t smtp_read(char *buf, size_t size, size_t n, void *ctx)
{
	smtp_reader_t *r = ctx;
	size_t room = size * n;
	size_t left = r->len - r->pos;
	size_t take = left < room ? left : room;
	memcpy(buf, r->data + r->pos, take);
	r->pos += take;
	return take;
}

typedef struct {
	char *data;
	size_t len;
} smtp_transcript_t;

/* Collects the server's lines (CURLINFO_HEADER_IN); our side may carry AUTH data: skipped. */
static int smtp_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *ctx)
{
	(void)curl;
	smtp_transcript_t *t = ctx;
	if (type != CURLINFO_HEADER_IN || t->len + size + 1 > SMTP_TRANSCRIPT_MAX)
		return 0;
	char *p = realloc(t->data, t->len + size + 1);
	if (p == NULL)
		return 0;
	memcpy(p + t->len, data, size);
	t->len += size;
	p[t->len] = '\0';
	t->data = p;
	return 0;
}

int mail_smtp_send(const pp_smtp_config_t *cfg, const char *secret, const char *rcpt,
                   const char *message, size_t len, bool *is_permanent_r, char **transcript_r,
                   char *error, size_t error_size)
{
	if (is_permanent_r != NULL)
		*is_permanent_r = false;
	if (transcript_r != NULL)
		*transcript_r = NULL;
	if (!cfg->is_configured || cfg->host[0] == '\0') {
		str_format(error, error_size,
		           "smtp: no SMTP server is set up — run `pullprint mail smtp set`");
		return -1;
	}
	char url[MAIL_SMTP_HOST_MAX + 32];
	char from[USERS_EMAIL_MAX + 2], to[USERS_EMAIL_MAX + 2];
	const char *scheme = cfg->security == PP_SMTP_TLS ? "smtps" : "smtp";
	if (!str_format(url, sizeof(url), "%s://%s:%u", scheme, cfg->host, mail_smtp_port(cfg)) ||
	    !str_format(from, sizeof(from), "<%s>", cfg->from_address) ||
	    !str_format(to, sizeof(to), "<%s>", rcpt)) {
		str_format(error, error_size, "smtp: host or address too long");
		return -1;
	}
	CURL *curl = curl_easy_init();
	if (curl == NULL) {
		str_format(error, error_size, "smtp: cannot start libcurl (out of memory)");
		return -1;
	}
	struct curl_slist *rcpts = curl_slist_append(NULL, to);
	smtp_reader_t reader = {.data = message, .len = len};
	smtp_transcript_t transcript = {0};
	char curl_error[CURL_ERROR_SIZE] = "";
	CURLcode rc = rcpts == NULL ? CURLE_OUT_OF_MEMORY : CURLE_OK;
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(curl, opt, val);                                     \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, curl_error);
	SET(CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_TIMEOUT_S);
	SET(CURLOPT_TIMEOUT, SMTP_TIMEOUT_S);
	SET(CURLOPT_MAIL_FROM, from);
	SET(CURLOPT_MAIL_RCPT, rcpts);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, smtp_read);
	SET(CURLOPT_READDATA, &reader);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (cfg->security == PP_SMTP_STARTTLS)
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	SET(CURLOPT_SSL_VERIFYPEER, cfg->is_verify_tls ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, cfg->is_verify_tls ? 2L : 0L);
	if (cfg->ca_file[0] != '\0')
		SET(CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->auth != PP_SMTP_AUTH_NONE) {
		SET(CURLOPT_USERNAME, cfg->username);
		if (cfg->auth == PP_SMTP_AUTH_XOAUTH2) {
			SET(CURLOPT_XOAUTH2_BEARER, secret != NULL ? secret : "");
			SET(CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
		} else {
			SET(CURLOPT_PASSWORD, secret != NULL ? secret : "");
		}
	}
	if (transcript_r != NULL) {
		SET(CURLOPT_DEBUGFUNCTION, smtp_debug);
		SET(CURLOPT_DEBUGDATA, &transcript);
		SET(CURLOPT_VERBOSE, 1L);
	}
#undef SET
	if (rc == CURLE_OK)
		rc = curl_easy_perform(curl);
	long response = 0;
	(void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
	curl_easy_cleanup(curl);
	curl_slist_free_all(rcpts);
	if (transcript_r != NULL)
		*transcript_r = transcript.data;
	else
		free(transcript.data);
	if (rc == CURLE_OK)
		return 0;
	/* 550-554 (no such mailbox, refused, too big, bad address, failed) are final: retrying
	 * does not help. Everything else is retried: a refused or missing login (530, 535) or
	 * TLS is the admin's to fix, network trouble and 4xx pass. */
	bool is_permanent = response >= 550 && response <= 554 && rc != CURLE_LOGIN_DENIED;
	if (is_permanent_r != NULL)
		*is_permanent_r = is_permanent;
	const char *hint = "";
	switch (rc) {
	case CURLE_LOGIN_DENIED:
		hint = " — check the user and password/token (`pullprint mail smtp set`)";
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		if (response == 530)
			hint = " — the server wants a login it was not offered: check --security and "
			       "--user";
		break;
	case CURLE_USE_SSL_FAILED:
		hint = " — the server does not offer STARTTLS: use security tls (port 465)";
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		hint = " — the certificate is not trusted: give --ca-file";
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
		hint = " — check the host, port and firewall";
		break;
	default:
		break;
	}
	str_format(error, error_size, "smtp %s:%u: %s%s%s (response %ld)%s", cfg->host,
	           mail_smtp_port(cfg), curl_easy_strerror(rc), curl_error[0] != '\0' ? ": " : "",
	           curl_error, response, hint);
	return -1;
}
