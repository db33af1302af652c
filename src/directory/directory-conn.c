/*
 * directory-conn.c - one protected LDAP connection (OpenLDAP libldap): servers tried in
 * order, StartTLS or ldaps://, the server certificate verified against the connection's CA
 * file (a TLS context of its own, so two connections never share settings), network and
 * operation timeouts, a simple bind, paged searches, and a user bind to check a password.
 *
 * Errors name the server list and say what to check; a certificate failure is told apart
 * from an unreachable server, since the fixes differ.
 */
#include "directory/directory-private.h"

#include "lib/log.h"
#include "lib/net.h"
#include "lib/str.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct timeval directory_timeval(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return tv;
}

bool directory_conn_is_down(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT ||
	       rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED ||
	       rc == LDAP_LOCAL_ERROR || rc == LDAP_NO_MEMORY;
}

/* The server's or the TLS layer's own words for the last failure on ld ("" when none). */
static void directory_diagnostic(LDAP *ld, char *out, size_t out_size)
{
	out[0] = '\0';
	char *msg = NULL;
	if (ld != NULL && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
	    msg != NULL) {
		if (!str_copy(out, out_size, msg))
			out[0] = '\0';
		ldap_memfree(msg);
	}
}

/* Whether a failure's words point at the certificate check rather than the network. */
static bool directory_is_tls_failure(const char *diag)
{
	return strstr(diag, "TLS") != NULL || strstr(diag, "cert") != NULL ||
	       strstr(diag, "Cert") != NULL || strstr(diag, "issuer") != NULL;
}

/* directory_words() callback: stops (false) at the first URI whose server accepts TCP. */
static bool directory_tcp_uri_closed(const char *word, size_t len, void *arg)
{
	const pp_directory_t *dir = arg;
	char uri[DIRECTORY_URIS_MAX];
	if (len >= sizeof(uri))
		return true;
	memcpy(uri, word, len);
	uri[len] = '\0';
	LDAPURLDesc *u = NULL;
	if (ldap_url_parse(uri, &u) != LDAP_URL_SUCCESS)
		return true;
	int port = u->lud_port > 0 ? u->lud_port : (strcmp(u->lud_scheme, "ldaps") == 0 ? 636 : 389);
	bool is_open = u->lud_host != NULL && u->lud_host[0] != '\0' &&
	               net_tcp_port_opens(u->lud_host, (unsigned)port, dir->network_timeout_ms);
	ldap_free_urldesc(u);
	return !is_open;
}

/* Whether some server of the list accepts TCP: then a failed connect was the TLS handshake. */
static bool directory_tcp_any_opens(const pp_directory_t *dir)
{
	return !directory_words(dir->uris, directory_tcp_uri_closed, (void *)dir);
}

/* Fills error for a failed step on the connection, with what to check. */
static void directory_conn_error(const pp_directory_t *dir, LDAP *ld, const char *step, int rc,
                                 char *error, size_t error_size)
{
	char diag[256];
	directory_diagnostic(ld, diag, sizeof(diag));
	if (strcmp(diag, "(unknown error code)") == 0)
		diag[0] = '\0';
	const char *hint;
	/* libldap says "can't contact" for a refused certificate too: a server that takes a
	 * TCP connection but not the handshake has a certificate this connection refuses. */
	if (!directory_is_tls_failure(diag) &&
	    (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && directory_tcp_any_opens(dir)) {
		str_format(error, error_size,
		           "directory %s: %s failed on %s: the TLS handshake failed (the server "
		           "answers, but its certificate is not trusted or does not name the host) "
		           "— set --ca-file to the CA that signed the server certificate and use a "
		           "host name the certificate lists",
		           dir->name, step, dir->uris);
		return;
	}
	if (directory_is_tls_failure(diag))
		hint = "the server certificate is not trusted: set --ca-file to the CA that signed "
		       "it and check that the URI's host name is in the certificate";
	else if (directory_conn_is_down(rc))
		hint = "check that the server runs and the URIs, ports and firewall are right";
	else if (rc == LDAP_INVALID_CREDENTIALS)
		hint = "check the service account's bind DN and password";
	else if (rc == LDAP_NO_SUCH_OBJECT)
		hint = "check the base DN";
	else if (rc == LDAP_FILTER_ERROR)
		hint = "check the user filter";
	else
		hint = "see the directory server's log";
	str_format(error, error_size, "directory %s: %s failed on %s: %s%s%s%s — %s", dir->name,
	           step, dir->uris, ldap_err2string(rc), diag[0] != '\0' ? " (" : "", diag,
	           diag[0] != '\0' ? ")" : "", hint);
}

/* Sets the options that must precede the first connect. Returns 0 or -1. */
static int directory_conn_options(const pp_directory_t *dir, LDAP *ld, char *error,
                                  size_t error_size)
{
	int version = LDAP_VERSION3;
	int require = dir->is_verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
	int is_server = 0;
	struct timeval net = directory_timeval(dir->network_timeout_ms);
	struct timeval op = directory_timeval(dir->op_timeout_ms);
	const char *step = "protocol version";
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS)
		goto fail;
	step = "referrals";
	if (ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS)
		goto fail;
	step = "network timeout";
	if (ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net) != LDAP_OPT_SUCCESS)
		goto fail;
	step = "operation timeout";
	if (ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op) != LDAP_OPT_SUCCESS)
		goto fail;
	step = "TLS certificate check";
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &require) != LDAP_OPT_SUCCESS)
		goto fail;
	step = "TLS CA file";
	if (dir->ca_file[0] != '\0' &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, dir->ca_file) != LDAP_OPT_SUCCESS)
		goto fail;
	/* A TLS context of this handle's own: the options above apply to it alone. */
	step = "TLS context (is the CA file readable PEM?)";
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS)
		goto fail;
	return 0;
fail:
	str_format(error, error_size, "directory %s: cannot set the %s%s%s", dir->name, step,
	           dir->ca_file[0] != '\0' ? " for " : "", dir->ca_file);
	return -1;
}

/* A simple bind; an empty dn binds anonymously. Returns the libldap result code. */
static int directory_simple_bind(LDAP *ld, const char *dn, const char *password)
{
	struct berval cred = {.bv_len = password != NULL ? strlen(password) : 0,
	                      .bv_val = (char *)(password != NULL ? password : "")};
	return ldap_sasl_bind_s(ld, dn != NULL && dn[0] != '\0' ? dn : NULL, LDAP_SASL_SIMPLE,
	                        &cred, NULL, NULL, NULL);
}

int directory_conn_open(const pp_directory_t *dir, const char *bind_password,
                        pp_directory_conn_t **conn_r, char *error, size_t error_size)
{
	*conn_r = NULL;
	pp_directory_conn_t *conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		str_format(error, error_size, "directory %s: out of memory", dir->name);
		return -1;
	}
	conn->dir = dir;
	(void)str_copy(conn->uri, sizeof(conn->uri), dir->uris);
	/* libldap takes the space-separated list and tries each server in turn. */
	int rc = ldap_initialize(&conn->ld, dir->uris);
	if (rc != LDAP_SUCCESS) {
		str_format(error, error_size, "directory %s: bad URI list '%s': %s", dir->name,
		           dir->uris, ldap_err2string(rc));
		goto fail;
	}
	if (directory_conn_options(dir, conn->ld, error, error_size) < 0)
		goto fail;
	if (dir->is_starttls) {
		rc = ldap_start_tls_s(conn->ld, NULL, NULL);
		if (rc != LDAP_SUCCESS) {
			directory_conn_error(dir, conn->ld, "StartTLS", rc, error, error_size);
			goto fail;
		}
	}
	rc = directory_simple_bind(conn->ld, dir->bind_dn, bind_password);
	if (rc != LDAP_SUCCESS) {
		directory_conn_error(dir, conn->ld,
		                     dir->bind_dn[0] != '\0' ? "the service account's bind"
		                                             : "the anonymous bind",
		                     rc, error, error_size);
		goto fail;
	}
	*conn_r = conn;
	return 0;
fail:
	directory_conn_close(&conn);
	return -1;
}

void directory_conn_close(pp_directory_conn_t **conn)
{
	if (conn == NULL || *conn == NULL)
		return;
	if ((*conn)->ld != NULL)
		(void)ldap_unbind_ext_s((*conn)->ld, NULL, NULL);
	free(*conn);
	*conn = NULL;
}

int directory_conn_bind_user(pp_directory_conn_t *conn, const char *dn, const char *password,
                             bool *is_valid_r, char *error, size_t error_size)
{
	*is_valid_r = false;
	/* An empty password would be an unauthenticated bind, which servers answer "success". */
	if (password == NULL || password[0] == '\0' || dn == NULL || dn[0] == '\0')
		return 0;
	int rc = directory_simple_bind(conn->ld, dn, password);
	if (rc == LDAP_SUCCESS) {
		*is_valid_r = true;
		return 0;
	}
	if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
	    rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_CONSTRAINT_VIOLATION ||
	    rc == LDAP_INVALID_DN_SYNTAX || rc == LDAP_NO_SUCH_OBJECT)
		return 0;
	directory_conn_error(conn->dir, conn->ld, "the user's bind", rc, error, error_size);
	return -1;
}

/* Hands every entry of res to on_entry. Returns 0 or -1. */
static int directory_search_entries(pp_directory_conn_t *conn, LDAPMessage *res,
                                    directory_entry_fn *on_entry, void *arg, size_t *count,
                                    char *error, size_t error_size)
{
	for (LDAPMessage *msg = ldap_first_entry(conn->ld, res); msg != NULL;
	     msg = ldap_next_entry(conn->ld, msg)) {
		char *dn = ldap_get_dn(conn->ld, msg);
		if (dn == NULL) {
			str_format(error, error_size, "directory %s: an entry without a DN",
			           conn->dir->name);
			return -1;
		}
		pp_directory_entry_t entry = {.ld = conn->ld, .msg = msg, .dn = dn};
		(*count)++;
		int rc = on_entry != NULL ? on_entry(&entry, arg, error, error_size) : 0;
		ldap_memfree(dn);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Reads the paged-results cookie of res into *cookie (freed and replaced). Returns 0 or -1. */
static int directory_search_cookie(pp_directory_conn_t *conn, LDAPMessage *res,
                                   struct berval *cookie, char *error, size_t error_size)
{
	int err = LDAP_SUCCESS;
	LDAPControl **ctrls = NULL;
	int rc = ldap_parse_result(conn->ld, res, &err, NULL, NULL, NULL, &ctrls, 0);
	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	if (rc != LDAP_SUCCESS) {
		directory_conn_error(conn->dir, conn->ld, "reading a search result", rc, error,
		                     error_size);
		return -1;
	}
	LDAPControl *page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	if (page != NULL) {
		ber_int_t estimate = 0;
		rc = ldap_parse_pageresponse_control(conn->ld, page, &estimate, cookie);
		if (rc != LDAP_SUCCESS) {
			ldap_controls_free(ctrls);
			directory_conn_error(conn->dir, conn->ld, "reading the paging cookie", rc,
			                     error, error_size);
			return -1;
		}
	}
	ldap_controls_free(ctrls);
	return 0;
}

int directory_conn_search(pp_directory_conn_t *conn, const char *base, int scope,
                          const char *filter, char **attrs, bool is_paged, int size_limit,
                          directory_entry_fn *on_entry, directory_page_fn *on_page, void *arg,
                          size_t *count_r, char *error, size_t error_size)
{
	size_t count = 0;
	struct berval cookie = {0, NULL};
	int result = -1;
	do {
		LDAPControl *page = NULL;
		LDAPControl *sctrls[2] = {NULL, NULL};
		if (is_paged) {
			int rc = ldap_create_page_control(conn->ld, DIRECTORY_PAGE_SIZE,
			                                  cookie.bv_val != NULL ? &cookie : NULL, 0,
			                                  &page);
			if (rc != LDAP_SUCCESS) {
				directory_conn_error(conn->dir, conn->ld, "paging", rc, error,
				                     error_size);
				goto done;
			}
			sctrls[0] = page;
		}
		struct timeval tv = directory_timeval(conn->dir->op_timeout_ms);
		LDAPMessage *res = NULL;
		int rc = ldap_search_ext_s(conn->ld, base, scope, filter, attrs, 0,
		                           is_paged ? sctrls : NULL, NULL, &tv, size_limit, &res);
		ldap_control_free(page);
		/* A size limit still hands back the entries up to it: the caller counts them. */
		if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
			ldap_msgfree(res);
			char step[DIRECTORY_DN_MAX + 32];
			if (!str_format(step, sizeof(step), "the search under '%s'", base))
				(void)str_copy(step, sizeof(step), "a search");
			directory_conn_error(conn->dir, conn->ld, step, rc, error, error_size);
			goto done;
		}
		if (directory_search_entries(conn, res, on_entry, arg, &count, error,
		                             error_size) < 0 ||
		    (is_paged && rc == LDAP_SUCCESS &&
		     directory_search_cookie(conn, res, &cookie, error, error_size) < 0)) {
			ldap_msgfree(res);
			goto done;
		}
		ldap_msgfree(res);
		if (on_page != NULL && on_page(arg, error, error_size) < 0)
			goto done;
		if (rc == LDAP_SIZELIMIT_EXCEEDED)
			break;
	} while (is_paged && cookie.bv_val != NULL && cookie.bv_len > 0);
	result = 0;
done:
	ber_memfree(cookie.bv_val);
	if (count_r != NULL)
		*count_r = count;
	return result;
}

bool directory_entry_value(const pp_directory_entry_t *entry, const char *attr, char *out,
                           size_t out_size)
{
	out[0] = '\0';
	if (attr == NULL || attr[0] == '\0')
		return true;
	struct berval **vals = ldap_get_values_len(entry->ld, entry->msg, attr);
	if (vals == NULL)
		return true;
	bool is_ok = true;
	if (vals[0] != NULL) {
		/* A value with a NUL inside, or too long, is not one Pullprint can keep. */
		is_ok = vals[0]->bv_len < out_size && memchr(vals[0]->bv_val, '\0', vals[0]->bv_len) == NULL;
		if (is_ok) {
			memcpy(out, vals[0]->bv_val, vals[0]->bv_len);
			out[vals[0]->bv_len] = '\0';
		}
	}
	ldap_value_free_len(vals);
	return is_ok;
}

struct berval **directory_entry_values(const pp_directory_entry_t *entry, const char *attr)
{
	return ldap_get_values_len(entry->ld, entry->msg, attr);
}
