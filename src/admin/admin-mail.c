/*
 * admin-mail.c - the inbound mailboxes (mail.h) with their poll status and the "test
 * connection" button, which shows the mail server's own answers (mail_account_test(): a
 * login and a listing, nothing fetched or deleted; the password never appears); and the
 * upload of the listener's TLS certificate.
 *
 * An uploaded pair is checked (PEM, the key matches, not expired) from files written beside
 * the live ones, then renamed over state_dir/tls/cert.pem and key.pem: the pair the server
 * uses when no certificate is configured (tls-cert.h never replaces a pair it did not make).
 * The listener reads it at its next start, so the answer says restart_needed.
 */
#include "admin/admin-private.h"

#include "http/tls-cert.h"
#include "lib/crypto.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail.h"

#include <errno.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADMIN_PEM_MAX (64u * 1024u)

/* "imaps://host:993/INBOX" -> host and port (the scheme's default when absent). */
static void admin_mail_host(const char *url, char *host, size_t host_size, int64_t *port_r)
{
	host[0] = '\0';
	*port_r = str_has_prefix(url, "imaps://") ? 993 : str_has_prefix(url, "pop3s://") ? 995 : 143;
	const char *p = strstr(url, "://");
	if (p == NULL)
		return;
	p += 3;
	size_t len = strcspn(p, "/");
	const char *colon = NULL;
	if (p[0] == '[') {
		const char *close = memchr(p, ']', len);
		colon = close != NULL && close + 1 < p + len && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(p, ':', len);
	}
	size_t host_len = colon != NULL ? (size_t)(colon - p) : len;
	if (host_len < host_size) {
		memcpy(host, p, host_len);
		host[host_len] = '\0';
	}
	uint64_t port = 0;
	if (colon != NULL) {
		char digits[8];
		size_t n = len - host_len - 1;
		if (n > 0 && n < sizeof(digits)) {
			memcpy(digits, colon + 1, n);
			digits[n] = '\0';
			if (parse_uint64_full(digits, 65535, &port))
				*port_r = (int64_t)port;
		}
	}
}

void admin_api_mail_accounts(admin_call_t *call)
{
	char error[ADMIN_ERROR_MAX];
	pp_mail_account_t *accounts = NULL;
	size_t count = 0;
	if (mail_account_list(call->core, &accounts, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.mail_accounts_failed", error);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; items != NULL && i < count; i++) {
		const pp_mail_account_t *a = &accounts[i];
		char host[256];
		int64_t port;
		admin_mail_host(a->url, host, sizeof(host), &port);
		(void)json_array_append_new(
			items,
			json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:b, s:o, s:o, s:s, s:s, s:I}",
				  "name", a->name, "protocol", mail_proto_name(a->proto), "host",
				  host, "port", (json_int_t)port, "user", a->username, "address",
				  a->address, "poll_interval_s", (json_int_t)a->poll_interval_s,
				  "enabled", a->is_enabled, "last_poll_at",
				  admin_json_time(a->last_poll_at), "last_ok_at",
				  admin_json_time(a->last_ok_at), "last_error", a->last_error, "url",
				  a->url, "messages_ingested", (json_int_t)a->messages_ingested));
	}
	mail_account_list_free(&accounts);
	admin_items(call, items, (int64_t)count);
}

void admin_api_mail_account_test(admin_call_t *call)
{
	const char *name = call->params[0];
	char error[ADMIN_ERROR_MAX];
	pp_mail_account_t *accounts = NULL;
	size_t count = 0;
	if (mail_account_list(call->core, &accounts, &count, error, sizeof(error)) < 0) {
		admin_internal(call, "admin.mail_accounts_failed", error);
		return;
	}
	bool is_known = false;
	for (size_t i = 0; i < count && !is_known; i++)
		is_known = strcmp(accounts[i].name, name) == 0;
	mail_account_list_free(&accounts);
	if (!is_known) {
		admin_error(call, 404, "not_found",
			    "There is no mail account of this name; GET mail-accounts lists them.",
			    0);
		return;
	}
	char *transcript = NULL;
	error[0] = '\0';
	bool is_ok = mail_account_test(call->core, name, &transcript, error, sizeof(error)) == 0;
	/* The answer is the server's own words; what failed comes first when it did. */
	char *answer = NULL;
	size_t len = strlen(error) + (transcript != NULL ? strlen(transcript) : 0) + 2;
	answer = malloc(len);
	if (answer != NULL)
		(void)snprintf(answer, len, "%s%s%s", is_ok ? "" : error,
			       !is_ok && transcript != NULL && transcript[0] != '\0' ? "\n" : "",
			       transcript != NULL ? transcript : "");
	free(transcript);
	char detail[64];
	(void)str_format(detail, sizeof(detail), "%s", is_ok ? "ok" : "failed");
	if (audit_record(call->core, call->actor, "mail.test", name, detail, error,
			 sizeof(error)) < 0)
		log_warn("admin.audit_failed action=mail.test error=\"%s\"", error);
	json_t *body = answer != NULL ? json_pack("{s:b, s:s}", "ok", is_ok, "answer", answer)
				      : NULL;
	free(answer);
	admin_json(call, 200, body);
}

/* Reads the certificate's subject DN into subject[size]. Returns false when unreadable. */
static bool admin_cert_subject(const char *pem, char *subject, size_t size)
{
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	gnutls_datum_t data = {(unsigned char *)(uintptr_t)pem, (unsigned int)strlen(pem)};
	gnutls_datum_t dn = {NULL, 0};
	bool is_ok = gnutls_x509_crt_import(crt, &data, GNUTLS_X509_FMT_PEM) >= 0 &&
		     gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0 &&
		     str_format(subject, size, "%.*s", (int)dn.size, (const char *)dn.data);
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	return is_ok;
}

/* Removes the staged files (best effort; they hold nothing the live files do not). */
static void admin_tls_unstage(const char *cert, const char *key)
{
	if (unlink(cert) < 0 && errno != ENOENT)
		log_warn("admin.tls_unlink_failed file=%s error=\"%s\"", cert, strerror(errno));
	if (unlink(key) < 0 && errno != ENOENT)
		log_warn("admin.tls_unlink_failed file=%s error=\"%s\"", key, strerror(errno));
}

void admin_api_tls(admin_call_t *call)
{
	const char *cert_pem = json_string_value(json_object_get(call->body, "certificate_pem"));
	const char *key_pem = json_string_value(json_object_get(call->body, "key_pem"));
	if (cert_pem == NULL || strstr(cert_pem, "-----BEGIN CERTIFICATE-----") == NULL ||
	    strlen(cert_pem) > ADMIN_PEM_MAX) {
		admin_error(call, 400, "invalid_value",
			    "certificate_pem must hold a PEM certificate (-----BEGIN CERTIFICATE-----"
			    ", the server's first, then its chain), at most 64 KiB.",
			    0);
		return;
	}
	if (key_pem == NULL || strstr(key_pem, "PRIVATE KEY-----") == NULL ||
	    strlen(key_pem) > ADMIN_PEM_MAX) {
		admin_error(call, 400, "invalid_value",
			    "key_pem must hold the certificate's PEM private key (-----BEGIN PRIVATE "
			    "KEY----- or RSA/EC PRIVATE KEY), unencrypted, at most 64 KiB.",
			    0);
		return;
	}
	const char *state_dir = admin_str(call->api->cfg.state_dir);
	char dir[4096], cert_new[4200], key_new[4200], cert_live[4200], key_live[4200];
	char error[ADMIN_ERROR_MAX];
	if (state_dir[0] == '\0' || !str_format(dir, sizeof(dir), "%s/tls", state_dir) ||
	    !str_format(cert_new, sizeof(cert_new), "%s/upload-cert.pem", dir) ||
	    !str_format(key_new, sizeof(key_new), "%s/upload-key.pem", dir) ||
	    !str_format(cert_live, sizeof(cert_live), "%s/cert.pem", dir) ||
	    !str_format(key_live, sizeof(key_live), "%s/key.pem", dir)) {
		admin_internal(call, "admin.tls_failed", "no state directory");
		return;
	}
	if (fs_mkdir_p(dir, 0700, error, sizeof(error)) < 0 ||
	    fs_write_file_atomic(key_new, key_pem, strlen(key_pem), 0600, error, sizeof(error)) <
		    0 ||
	    fs_write_file_atomic(cert_new, cert_pem, strlen(cert_pem), 0600, error,
				 sizeof(error)) < 0) {
		admin_tls_unstage(cert_new, key_new);
		admin_internal(call, "admin.tls_failed", error);
		return;
	}
	pp_tls_cert_info_t info;
	if (tls_cert_check_pair(cert_new, key_new, &info, error, sizeof(error)) < 0) {
		admin_tls_unstage(cert_new, key_new);
		char message[ADMIN_ERROR_MAX + 64];
		(void)str_format(message, sizeof(message),
				 "The certificate or key is not usable: %s", error);
		admin_error(call, 400, "invalid_value", message, 0);
		return;
	}
	if (info.is_expired || info.not_after < time(NULL)) {
		admin_tls_unstage(cert_new, key_new);
		admin_error(call, 400, "invalid_value",
			    "The certificate has expired; upload a current one.", 0);
		return;
	}
	char subject[512] = "";
	(void)admin_cert_subject(cert_pem, subject, sizeof(subject));
	if (rename(key_new, key_live) < 0 || rename(cert_new, cert_live) < 0 ||
	    fs_fsync_dir(dir, error, sizeof(error)) < 0) {
		(void)str_format(error, sizeof(error), "rename into %s: %s", dir, strerror(errno));
		admin_tls_unstage(cert_new, key_new);
		admin_internal(call, "admin.tls_failed", error);
		return;
	}
	if (audit_record(call->core, call->actor, "tls.install", subject,
			 info.fingerprint_sha256, error, sizeof(error)) < 0)
		log_warn("admin.audit_failed action=tls.install error=\"%s\"", error);
	log_info("admin.tls_installed sha256=%s admin=%s", info.fingerprint_sha256,
		 call->account.name);
	admin_json(call, 200,
		   json_pack("{s:s, s:I, s:s, s:b}", "subject", subject, "not_after",
			     (json_int_t)info.not_after, "fingerprint_sha256",
			     info.fingerprint_sha256, "restart_needed", true));
}
