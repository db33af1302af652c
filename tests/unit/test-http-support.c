/* test-http-support.c - HTTP client and certificate fixtures for the unit tests; see
 * test-http-support.h. */
#include "test-http-support.h"

#include "lib/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RESPONSE_MAX (64u * 1024u * 1024u)

int test_http_tcp_connect(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct timeval tv = { .tv_sec = 60 };
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void test_http_client_open(test_http_client_t *c, const test_http_peer_t *peer, bool is_tls)
{
	memset(c, 0, sizeof(*c));
	c->is_tls = is_tls;
	c->fd = test_http_tcp_connect(is_tls ? peer->https_port : peer->http_port);
	assert_true(c->fd >= 0);
	if (!is_tls)
		return;
	assert_non_null(peer->ca_file);
	assert_int_equal(gnutls_certificate_allocate_credentials(&c->cred), 0);
	assert_true(gnutls_certificate_set_x509_trust_file(c->cred, peer->ca_file,
							   GNUTLS_X509_FMT_PEM) == 1);
	assert_int_equal(gnutls_init(&c->session, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_set_default_priority(c->session), 0);
	assert_int_equal(gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred), 0);
	assert_int_equal(gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, "localhost", 9), 0);
	gnutls_session_set_verify_cert(c->session, "localhost", 0);
	gnutls_transport_set_int(c->session, c->fd);
	int rc;
	do {
		rc = gnutls_handshake(c->session);
	} while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
	if (rc < 0)
		fail_msg("TLS handshake failed: %s", gnutls_strerror(rc));
}

void test_http_client_write(test_http_client_t *c, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n;
		if (c->is_tls) {
			n = gnutls_record_send(c->session, p, len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0)
			fail_msg("send failed: %zd", n);
		p += n;
		len -= (size_t)n;
	}
}

/* Reads up to max bytes; 0 at the end of the answer (or the connection). */
static size_t client_read(test_http_client_t *c, char *buf, size_t max)
{
	for (;;) {
		ssize_t n;
		if (c->is_tls) {
			n = gnutls_record_recv(c->session, buf, max);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			/* A close without close_notify ends the answer too. */
			if (n < 0)
				return 0;
		} else {
			n = recv(c->fd, buf, max, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return 0;
		}
		return (size_t)n;
	}
}

/* Decodes a chunked body in place; returns its length. */
static size_t dechunk(char *body, size_t len)
{
	size_t in = 0;
	size_t out = 0;
	while (in < len) {
		char *end = NULL;
		unsigned long size = strtoul(body + in, &end, 16);
		char *crlf = strstr(body + in, "\r\n");
		assert_non_null(crlf);
		(void)end;
		in = (size_t)(crlf - body) + 2;
		if (size == 0)
			break;
		assert_true(in + size <= len);
		memmove(body + out, body + in, size);
		out += size;
		in += size + 2;
	}
	body[out] = '\0';
	return out;
}

void test_http_client_read_response(test_http_client_t *c, test_http_response_t *r)
{
	memset(r, 0, sizeof(*r));
	size_t cap = 65536;
	r->raw = malloc(cap + 1);
	assert_non_null(r->raw);
	for (;;) {
		if (cap - r->raw_len < 16384) {
			assert_true(cap < RESPONSE_MAX);
			cap *= 2;
			r->raw = realloc(r->raw, cap + 1);
			assert_non_null(r->raw);
		}
		size_t n = client_read(c, r->raw + r->raw_len, cap - r->raw_len);
		if (n == 0)
			break;
		r->raw_len += n;
	}
	r->raw[r->raw_len] = '\0';
	assert_true(r->raw_len > 12);
	assert_true(strncmp(r->raw, "HTTP/1.1 ", 9) == 0);
	r->status = (unsigned)strtoul(r->raw + 9, NULL, 10);
	char *sep = strstr(r->raw, "\r\n\r\n");
	assert_non_null(sep);
	*sep = '\0';
	r->headers = r->raw;
	r->body = sep + 4;
	r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	const char *te = strcasestr(r->headers, "\r\nTransfer-Encoding: chunked");
	if (te != NULL)
		r->body_len = dechunk(r->body, r->body_len);
}

void test_http_client_close(test_http_client_t *c)
{
	if (c->is_tls) {
		(void)gnutls_bye(c->session, GNUTLS_SHUT_WR);
		gnutls_deinit(c->session);
		gnutls_certificate_free_credentials(c->cred);
	}
	close(c->fd);
}

bool test_http_response_header(const test_http_response_t *r, const char *name, char *out,
			       size_t size)
{
	size_t nlen = strlen(name);
	for (const char *line = strstr(r->headers, "\r\n"); line != NULL;
	     line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
			const char *v = h + nlen + 1;
			while (*v == ' ')
				v++;
			const char *end = strstr(v, "\r\n");
			size_t vlen = end != NULL ? (size_t)(end - v) : strlen(v);
			assert_true(vlen < size);
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
	}
	return false;
}

void test_http_response_free(test_http_response_t *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

void test_http_exchange(const test_http_peer_t *peer, bool is_tls, const char *head,
			const void *body, size_t body_len, test_http_response_t *r)
{
	test_http_client_t c;
	test_http_client_open(&c, peer, is_tls);
	char req[4096];
	assert_true(str_format(req, sizeof(req),
			       "%s\r\nHost: localhost\r\nConnection: close\r\n\r\n", head));
	test_http_client_write(&c, req, strlen(req));
	if (body_len > 0)
		test_http_client_write(&c, body, body_len);
	test_http_client_read_response(&c, r);
	test_http_client_close(&c);
}

void test_http_cert_make(const char *dir, pp_tls_cert_info_t *cert_r)
{
	char tls_dir[4096];
	char error[1024];
	assert_true(str_format(tls_dir, sizeof(tls_dir), "%s/tls", dir));
	if (tls_cert_ensure_self_signed(tls_dir, "printhost.example", cert_r, error,
					sizeof(error)) != 0)
		fail_msg("%s", error);
}

void test_http_config_loopback(pp_http_config_t *cfg_r, const pp_tls_cert_info_t *cert)
{
	memset(cfg_r, 0, sizeof(*cfg_r));
	assert_true(str_copy(cfg_r->listen_address, sizeof(cfg_r->listen_address), "127.0.0.1"));
	cfg_r->https_any_port = true;
	cfg_r->http_any_port = true;
	assert_true(str_copy(cfg_r->cert_file, sizeof(cfg_r->cert_file), cert->cert_file));
	assert_true(str_copy(cfg_r->key_file, sizeof(cfg_r->key_file), cert->key_file));
}

void test_http_start(pp_http_server_t *server, const pp_tls_cert_info_t *cert,
		     test_http_peer_t *peer_r)
{
	char error[1024];
	if (http_server_start(server, error, sizeof(error)) != 0)
		fail_msg("%s", error);
	peer_r->https_port = http_server_https_port(server);
	peer_r->http_port = http_server_http_port(server);
	peer_r->ca_file = cert->cert_file;
	assert_true(peer_r->https_port > 0 && peer_r->http_port > 0);
}
