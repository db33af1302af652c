/*
 * backend-conf.c - the backend's configuration: /etc/pullprint/backend.conf (INI, read with
 * inih like the server's own file) and the queue's device URI pullprint://HOST:PORT.
 *
 * The file holds a forwarder token, which lets its holder submit jobs as any user; so it must
 * not be readable by other users, and nothing here ever prints the token.
 */
#include "backend/backend.h"

#include "lib/str.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct {
	pp_backend_conf_t *conf;
	bool has_server;
	bool has_token;
	bool failed;
	char first_error[512];
} backend_conf_ctx_t;

static void backend_conf_fail(backend_conf_ctx_t *ctx, const char *what)
{
	if (ctx->failed)
		return; /* The first error is the one to fix first. */
	ctx->failed = true;
	(void)str_copy(ctx->first_error, sizeof(ctx->first_error), what);
}

/*
 * Splits "ipps://HOST:PORT[/]" into host and port. The port must be written: an ipps URI
 * without one means 631, which is not where Pullprint listens by default (8631).
 */
static bool backend_parse_server(const char *url, char host_r[BACKEND_HOST_MAX], int *port_r)
{
	char scheme[32], userpass[256], host[BACKEND_HOST_MAX], resource[1024];
	int port;
	if (httpSeparateURI(HTTP_URI_CODING_ALL, url, scheme, sizeof(scheme), userpass,
			    sizeof(userpass), host, sizeof(host), &port, resource,
			    sizeof(resource)) < HTTP_URI_STATUS_OK)
		return false;
	if (strncasecmp(url, "ipps://", strlen("ipps://")) != 0 || strcmp(scheme, "ipps") != 0 ||
	    userpass[0] != '\0' || host[0] == '\0' ||
	    (strcmp(resource, "/") != 0 && strcmp(resource, BACKEND_RESOURCE) != 0))
		return false;
	/* The authority is what follows "ipps://" up to the next '/'; its port follows the
	   last ':' outside an IPv6 literal's brackets. */
	const char *authority = url + strlen("ipps://");
	size_t len = strcspn(authority, "/");
	const char *close = memchr(authority, ']', len);
	const char *from = close != NULL ? close : authority;
	if (memchr(from, ':', len - (size_t)(from - authority)) == NULL)
		return false;
	if (port < 1 || port > 65535)
		return false;
	if (!str_copy(host_r, BACKEND_HOST_MAX, host))
		return false;
	*port_r = port;
	return true;
}

/* True for "ppf_" followed by exactly 64 hex digits. */
static bool backend_token_is_valid(const char *token)
{
	if (strlen(token) != BACKEND_TOKEN_LEN || !str_has_prefix(token, BACKEND_TOKEN_PREFIX))
		return false;
	for (const char *p = token + strlen(BACKEND_TOKEN_PREFIX); *p != '\0'; p++) {
		if (str_hex_digit(*p) < 0)
			return false;
	}
	return true;
}

bool backend_parse_fingerprint(const char *text, uint8_t fingerprint_r[BACKEND_FINGERPRINT_BYTES])
{
	char hex[2 * BACKEND_FINGERPRINT_BYTES + 1];
	size_t n = 0;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (n >= sizeof(hex) - 1)
			return false;
		hex[n++] = *p;
	}
	hex[n] = '\0';
	if (n != 2 * BACKEND_FINGERPRINT_BYTES)
		return false;
	return str_hex_decode(fingerprint_r, BACKEND_FINGERPRINT_BYTES, hex);
}

/* inih callback for one "name = value" line. Returns 0 to make inih report the line. */
static int backend_conf_handler(void *user, const char *section, const char *name,
				const char *value)
{
	backend_conf_ctx_t *ctx = user;
	if (name == NULL)
		return 1; /* A section header alone; an unknown one fails at its first key. */
	if (strcmp(section, "backend") != 0) {
		backend_conf_fail(ctx, "only the section [backend] belongs in this file");
		return 0;
	}
	pp_backend_conf_t *conf = ctx->conf;
	if (strcmp(name, "server") == 0) {
		if (!backend_parse_server(value, conf->host, &conf->port)) {
			backend_conf_fail(ctx, "[backend] server: expected ipps://HOST:PORT "
					       "(e.g. ipps://print.example.com:8631)");
			return 0;
		}
		ctx->has_server = true;
		return 1;
	}
	if (strcmp(name, "token") == 0) {
		if (!backend_token_is_valid(value)) {
			backend_conf_fail(ctx, "[backend] token: expected ppf_ and 64 hex digits, "
					       "as printed by `pullprint forwarders add NAME`");
			return 0;
		}
		(void)str_copy(conf->token, sizeof(conf->token), value);
		ctx->has_token = true;
		return 1;
	}
	if (strcmp(name, "fingerprint") == 0) {
		if (value[0] == '\0') {
			conf->has_fingerprint = false;
			return 1;
		}
		if (!backend_parse_fingerprint(value, conf->fingerprint)) {
			backend_conf_fail(ctx, "[backend] fingerprint: expected the server "
					       "certificate's SHA-256 as 64 hex digits (colons allowed)");
			return 0;
		}
		conf->has_fingerprint = true;
		return 1;
	}
	backend_conf_fail(ctx, "unknown setting (expected server, token, fingerprint)");
	return 0;
}

int backend_conf_load(pp_backend_conf_t *conf, const char *path, char *error, size_t error_size)
{
	memset(conf, 0, sizeof(*conf));
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		(void)str_format(error, error_size,
				 "%s: cannot open: %s — create it with [backend] server and token "
				 "(see docs/desktop-printing.md)",
				 path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) < 0) {
		(void)str_format(error, error_size, "fstat(%s) failed: %s", path, strerror(errno));
		(void)fclose(f); /* Read-only stream. */
		return -1;
	}
	if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
		(void)str_format(error, error_size,
				 "%s holds a forwarder token but other users may read or write "
				 "it — run chmod 600 %s",
				 path, path);
		(void)fclose(f);
		return -1;
	}
	backend_conf_ctx_t ctx = {.conf = conf};
	int rc = ini_parse_file(f, backend_conf_handler, &ctx);
	(void)fclose(f); /* Read-only stream. */
	if (ctx.failed) {
		(void)str_format(error, error_size, "%s:%d: %s", path, rc, ctx.first_error);
		backend_conf_wipe(conf);
		return -1;
	}
	if (rc != 0) {
		(void)str_format(error, error_size,
				 "%s:%d: syntax error (expected [backend] or name = value)", path, rc);
		backend_conf_wipe(conf);
		return -1;
	}
	if (!ctx.has_server || !ctx.has_token) {
		(void)str_format(error, error_size, "%s: [backend] %s is missing", path,
				 !ctx.has_server ? "server = ipps://HOST:PORT" : "token = ppf_…");
		backend_conf_wipe(conf);
		return -1;
	}
	return 0;
}

int backend_conf_apply_device_uri(pp_backend_conf_t *conf, const char *uri, char *error,
				  size_t error_size)
{
	if (strcmp(uri, BACKEND_SCHEME ":/") == 0 || strcmp(uri, BACKEND_SCHEME "://") == 0 ||
	    strcmp(uri, BACKEND_SCHEME ":///") == 0)
		return 0;
	char scheme[32], userpass[256], host[BACKEND_HOST_MAX], resource[1024];
	int port;
	http_uri_status_t status = httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme,
						   sizeof(scheme), userpass, sizeof(userpass),
						   host, sizeof(host), &port, resource,
						   sizeof(resource));
	if (status < HTTP_URI_STATUS_OK || !str_has_prefix(uri, BACKEND_SCHEME "://") ||
	    strcmp(scheme, BACKEND_SCHEME) != 0 ||
	    userpass[0] != '\0' || host[0] == '\0' ||
	    (resource[0] != '\0' && strcmp(resource, "/") != 0)) {
		(void)str_format(error, error_size,
				 "device URI %s: expected pullprint://HOST:PORT (or pullprint:// "
				 "for the server in backend.conf) — fix it with lpadmin -p QUEUE -v",
				 uri);
		return -1;
	}
	/* httpSeparateURI knows no default port for our scheme: 0 (or its guess) unless the
	   URI names one, which is the case when a ':' follows the host. */
	const char *authority = uri + strlen(BACKEND_SCHEME "://");
	size_t len = strcspn(authority, "/");
	const char *close = memchr(authority, ']', len);
	const char *from = close != NULL ? close : authority;
	bool has_port = memchr(from, ':', len - (size_t)(from - authority)) != NULL;
	if (has_port && (port < 1 || port > 65535)) {
		(void)str_format(error, error_size, "device URI %s: the port must be 1..65535", uri);
		return -1;
	}
	if (!str_copy(conf->host, sizeof(conf->host), host)) {
		(void)str_format(error, error_size, "device URI %s: host name too long", uri);
		return -1;
	}
	if (has_port)
		conf->port = port;
	return 0;
}

void backend_conf_wipe(pp_backend_conf_t *conf)
{
	explicit_bzero(conf->token, sizeof(conf->token));
}
