/*
 * test-ipp-auth.c - who a request to /ipp/print acts for, decided by ipp_auth_check() and
 * ipp_auth_resolve() on real requests: a loopback listener (test-http-support.h) whose one
 * route runs both steps on a test core (SQLite and PostgreSQL) and answers with the outcome
 * as text, so each case reads like what the IPP service will do with the request.
 *
 * The route builds the IPP operation from the query: ?op=<number>&user=<requesting-user-name>
 * (no user: the attribute is absent).
 */
#include "test-http-support.h"
#include "test-db-support.h"

#include "core/codes.h"
#include "core/sender-policy.h"
#include "core/settings.h"
#include "core/tokens.h"
#include "core/users.h"
#include "ipp/ipp-private.h"
#include "lib/str.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	test_core_t *tc;
	char *dir;
	pp_tls_cert_info_t cert;
	pp_http_server_t *server;
	test_http_peer_t peer;
} fixture_t;

/* The outcome as the route reports it. */
typedef struct {
	int result;
	int via;
	char email[USERS_EMAIL_MAX]; /* "-" without a user */
	char forwarder[IPP_AUTH_LABEL_MAX];
	long long retry_after;
} outcome_t;

/* ---- the route: both steps, then the outcome as "result via email forwarder retry" ---- */

static void handle_auth(pp_http_request_t *req, void *ctx)
{
	fixture_t *f = ctx;
	ipp_auth_t auth;
	(void)ipp_auth_check(&f->tc->core, req, &auth);

	uint64_t op = IPP_OP_PRINT_JOB;
	const char *op_text = http_request_query(req, "op");
	if (op_text != NULL && !parse_uint64_full(op_text, 0x7fff, &op)) {
		(void)http_respond_error(req, 400, "bad_op", "op must be a number");
		return;
	}
	ipp_t *request = ippNewRequest((ipp_op_t)op);
	const char *user = http_request_query(req, "user");
	if (user != NULL)
		ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL,
		             user);
	(void)ipp_auth_resolve(&f->tc->core, req, request, &auth);
	ippDelete(request);

	char body[512];
	if (!str_format(body, sizeof(body), "%d %d %s %s %lld", (int)auth.result, (int)auth.via,
	                auth.user.email[0] != '\0' ? auth.user.email : "-",
	                auth.forwarder[0] != '\0' ? auth.forwarder : "-",
	                (long long)auth.retry_after)) {
		(void)http_respond_error(req, 500, "internal", "outcome too long");
		return;
	}
	(void)http_respond_bytes(req, 200, "text/plain", body, strlen(body));
}

/* ---- fixture: a test core and a listener on it ---- */

static int fixture_setup(void **state, int (*core_setup)(void **state))
{
	void *core_state = NULL;
	if (core_setup(&core_state) != 0)
		return -1;
	fixture_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->tc = core_state;
	f->dir = test_tmpdir();
	test_http_cert_make(f->dir, &f->cert);
	pp_http_config_t cfg;
	test_http_config_loopback(&cfg, &f->cert);
	char error[1024];
	if (http_server_new(&cfg, &f->server, error, sizeof(error)) != 0)
		fail_msg("http_server_new: %s", error);
	if (http_route(f->server, NULL, IPP_SERVICE_PATH, HTTP_ROUTE_PREFIX, handle_auth, NULL, f,
	               error, sizeof(error)) != 0)
		fail_msg("http_route: %s", error);
	test_http_start(f->server, &f->cert, &f->peer);
	*state = f;
	return 0;
}

static int fixture_setup_sqlite(void **state)
{
	return fixture_setup(state, test_core_setup_sqlite);
}

static int fixture_setup_postgres(void **state)
{
	return fixture_setup(state, test_core_setup_postgres);
}

static int fixture_teardown(void **state)
{
	fixture_t *f = *state;
	if (f == NULL)
		return 0;
	http_server_free(&f->server);
	void *core_state = f->tc;
	(void)test_core_teardown(&core_state);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	*state = NULL;
	return 0;
}

#define AUTH_CASE(fn)                                                                              \
	{.name = #fn "/sqlite",                                                                    \
	 .test_func = fn,                                                                          \
	 .setup_func = fixture_setup_sqlite,                                                       \
	 .teardown_func = fixture_teardown,                                                        \
	 .initial_state = NULL},                                                                   \
	{                                                                                          \
		.name = #fn "/postgres", .test_func = fn, .setup_func = fixture_setup_postgres,    \
		.teardown_func = fixture_teardown, .initial_state = NULL                           \
	}

/* ---- helpers ---- */

/*
 * Sends "POST <target>" with an optional Authorization value, over TLS or plain HTTP, and
 * reads the route's outcome.
 */
static outcome_t ask(const fixture_t *f, bool is_tls, const char *target, const char *authorization)
{
	char head[2048];
	assert_true(str_format(head, sizeof(head), "POST %s HTTP/1.1%s%s", target,
	                       authorization != NULL ? "\r\nAuthorization: " : "",
	                       authorization != NULL ? authorization : ""));
	test_http_response_t r;
	test_http_exchange(&f->peer, is_tls, head, NULL, 0, &r);
	if (r.status != 200)
		fail_msg("%s: HTTP %u %s", target, r.status, r.body);
	outcome_t o;
	memset(&o, 0, sizeof(o));
	char *cursor = r.body;
	char *fields[5];
	for (size_t i = 0; i < 5; i++) {
		fields[i] = cursor;
		char *space = strchr(cursor, ' ');
		if (i < 4) {
			assert_non_null(space);
			*space = '\0';
			cursor = space + 1;
		}
	}
	uint64_t n;
	assert_true(parse_uint64_full(fields[0], 10, &n));
	o.result = (int)n;
	assert_true(parse_uint64_full(fields[1], 10, &n));
	o.via = (int)n;
	assert_true(str_copy(o.email, sizeof(o.email), fields[2]));
	assert_true(str_copy(o.forwarder, sizeof(o.forwarder), fields[3]));
	assert_true(parse_uint64_full(fields[4], UINT32_MAX, &n));
	o.retry_after = (long long)n;
	test_http_response_free(&r);
	return o;
}

/* "Basic base64(email:code)" into out[size]. */
static void basic_header(const char *email, const char *code, char *out, size_t size)
{
	char plain[512], b64[1024];
	assert_true(str_format(plain, sizeof(plain), "%s:%s", email, code));
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)plain, strlen(plain),
	                  sodium_base64_VARIANT_ORIGINAL);
	assert_true(str_format(out, size, "Basic %s", b64));
}

static void set_setting(fixture_t *f, const char *name, const char *value)
{
	char error[512];
	if (settings_set(&f->tc->core, "test", name, value, error, sizeof(error)) != 0)
		fail_msg("settings_set %s=%s: %s", name, value, error);
}

static int64_t add_user(fixture_t *f, const char *email, pp_user_state_t state)
{
	pp_user_t user;
	char error[512];
	if (users_add(&f->tc->core, "test", email, state, NULL, &user, error, sizeof(error)) != 0)
		fail_msg("users_add %s: %s", email, error);
	return user.id;
}

/* Rows in auth_throttle: failures counted anywhere. */
static int64_t throttle_rows(fixture_t *f)
{
	pp_db_result_t *res = NULL;
	char error[512];
	assert_int_equal(db_query(f->tc->core.db, "SELECT COUNT(*) FROM auth_throttle", NULL, 0,
	                          &res, error, sizeof(error)),
	                 DB_OK);
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

static void expect(const outcome_t *o, int result, int via, const char *email, const char *what)
{
	if (o->result != result || o->via != via || strcmp(o->email, email) != 0)
		fail_msg("%s: got result=%d via=%d user=%s, want result=%d via=%d user=%s", what,
		         o->result, o->via, o->email, result, via, email);
}

/* ---- cases ---- */

static void test_basic(void **state)
{
	fixture_t *f = *state;
	char error[512], code[CODES_MAX_LEN + 1], header[1024];
	int64_t id = add_user(f, "anna@example.com", PP_USER_ENABLED);
	assert_int_equal(codes_issue(&f->tc->core, "test", id, code, error, sizeof(error)), 0);

	/* No credentials: nobody, and nothing counted. */
	outcome_t o = ask(f, true, "/ipp/print", NULL);
	expect(&o, IPP_AUTH_NONE, IPP_VIA_NONE, "-", "no credentials");

	/* Over plain HTTP the right code is refused unread: NEED_TLS, nothing counted. */
	basic_header("anna@example.com", code, header, sizeof(header));
	o = ask(f, false, "/ipp/print", header);
	expect(&o, IPP_AUTH_NEED_TLS, IPP_VIA_BASIC, "-", "basic over plain");
	assert_int_equal(throttle_rows(f), 0);

	o = ask(f, true, "/ipp/print", header);
	expect(&o, IPP_AUTH_OK, IPP_VIA_BASIC, "anna@example.com", "basic right code");

	/* The user name in the request does not change who it is. */
	o = ask(f, true, "/ipp/print?user=boss@example.com", header);
	expect(&o, IPP_AUTH_OK, IPP_VIA_BASIC, "anna@example.com", "basic + other user name");

	/* Wrong code, unknown scheme: denied and counted on source and account. */
	basic_header("anna@example.com", "000000000000", header, sizeof(header));
	o = ask(f, true, "/ipp/print", header);
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_BASIC, "-", "basic wrong code");
	assert_int_equal(throttle_rows(f), 2);
	o = ask(f, true, "/ipp/print", "Digest username=\"anna\"");
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_BASIC, "-", "digest");

	/* Locked out after auth.max_failures: the right code is refused too, with Retry-After. */
	set_setting(f, "auth.max_failures", "3");
	o = ask(f, true, "/ipp/print", "Basic !!!");
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_BASIC, "-", "third failure");
	basic_header("anna@example.com", code, header, sizeof(header));
	o = ask(f, true, "/ipp/print", header);
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_BASIC, "-", "right code while locked");
	assert_true(o.retry_after > 0);
	sodium_memzero(code, sizeof(code));
}

static void test_printer_uri(void **state)
{
	fixture_t *f = *state;
	char error[512], token[TOKENS_TEXT_MAX], handle[TOKENS_HANDLE_LEN + 1], target[256];
	int64_t id = add_user(f, "anna@example.com", PP_USER_ENABLED);
	assert_int_equal(tokens_issue_labelled(&f->tc->core, PP_TOKEN_PRINTER, id, "Anna's phone",
	                                       "test", token, handle, error, sizeof(error)),
	                 0);
	assert_true(str_format(target, sizeof(target), "%s%s", IPP_SERVICE_USER_PATH, token));

	/* The token alone names the user; no prompt, no requesting-user-name needed. */
	outcome_t o = ask(f, true, target, NULL);
	expect(&o, IPP_AUTH_OK, IPP_VIA_PRINTER_TOKEN, "anna@example.com", "printer uri");
	char with_user[512];
	assert_true(str_format(with_user, sizeof(with_user), "%s?user=boss@example.com", target));
	o = ask(f, true, with_user, NULL);
	expect(&o, IPP_AUTH_OK, IPP_VIA_PRINTER_TOKEN, "anna@example.com", "uri + other name");

	/* Over plain HTTP: refused unchecked. */
	o = ask(f, false, target, NULL);
	expect(&o, IPP_AUTH_NEED_TLS, IPP_VIA_PRINTER_TOKEN, "-", "printer uri over plain");
	assert_int_equal(throttle_rows(f), 0);

	/* A disabled user's address is known but may not print. */
	assert_int_equal(
	    users_disable(&f->tc->core, "test", "anna@example.com", error, sizeof(error)), 0);
	o = ask(f, true, target, NULL);
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_PRINTER_TOKEN, "-", "disabled user");
	assert_int_equal(
	    users_enable(&f->tc->core, "test", "anna@example.com", error, sizeof(error)), 0);

	/* Revoked, made up, or cut short: BAD_URI, each counted on the source. */
	bool is_revoked = false;
	assert_int_equal(tokens_revoke_handle(&f->tc->core, PP_TOKEN_PRINTER, id, handle, "test",
	                                      &is_revoked, error, sizeof(error)),
	                 0);
	assert_true(is_revoked);
	o = ask(f, true, target, NULL);
	expect(&o, IPP_AUTH_BAD_URI, IPP_VIA_PRINTER_TOKEN, "-", "revoked");
	o = ask(f, true, "/ipp/print/u/ppp_0000", NULL);
	expect(&o, IPP_AUTH_BAD_URI, IPP_VIA_PRINTER_TOKEN, "-", "short token");
	assert_int_equal(throttle_rows(f), 1);

	/* A scanner is locked out: then even a good token waits (Retry-After). */
	set_setting(f, "auth.max_failures", "3");
	o = ask(f, true, "/ipp/print/u/guess", NULL);
	expect(&o, IPP_AUTH_BAD_URI, IPP_VIA_PRINTER_TOKEN, "-", "third guess");
	assert_int_equal(tokens_issue_labelled(&f->tc->core, PP_TOKEN_PRINTER, id, "Anna's laptop",
	                                       "test", token, NULL, error, sizeof(error)),
	                 0);
	assert_true(str_format(target, sizeof(target), "%s%s", IPP_SERVICE_USER_PATH, token));
	o = ask(f, true, target, NULL);
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_PRINTER_TOKEN, "-", "good token from locked source");
	assert_true(o.retry_after > 0);
	sodium_memzero(token, sizeof(token));
}

static void test_forwarder(void **state)
{
	fixture_t *f = *state;
	char error[512], token[TOKENS_TEXT_MAX], header[256], printer[TOKENS_TEXT_MAX];
	set_setting(f, "users.unknown_sender_policy", "accept");
	add_user(f, "anna@example.com", PP_USER_ENABLED);
	int64_t id = add_user(f, "paul@example.com", PP_USER_ENABLED);
	assert_int_equal(tokens_issue_labelled(&f->tc->core, PP_TOKEN_FORWARDER, 0, "cups-01",
	                                       "test", token, NULL, error, sizeof(error)),
	                 0);
	assert_true(str_format(header, sizeof(header), "Bearer %s", token));

	/* The forwarder names the user of each job. */
	outcome_t o = ask(f, true, "/ipp/print?user=Anna@Example.com", header);
	expect(&o, IPP_AUTH_OK, IPP_VIA_FORWARDER, "anna@example.com", "forwarder");
	assert_string_equal(o.forwarder, "cups-01");

	/* Without a name, or for printer attributes, it stays anonymous. */
	o = ask(f, true, "/ipp/print", header);
	expect(&o, IPP_AUTH_NONE, IPP_VIA_FORWARDER, "-", "forwarder without user");
	o = ask(f, true, "/ipp/print?op=11&user=new@example.com", header);
	expect(&o, IPP_AUTH_NONE, IPP_VIA_FORWARDER, "-", "get-printer-attributes");
	bool is_found = true;
	pp_user_t user;
	assert_int_equal(users_get_by_email(&f->tc->core, "new@example.com", &user, &is_found,
	                                    error, sizeof(error)),
	                 0);
	assert_false(is_found);

	/* ipp.user_map turns a login name into the address. */
	set_setting(f, "ipp.user_map", "{name}@example.com");
	o = ask(f, true, "/ipp/print?user=Paul", header);
	expect(&o, IPP_AUTH_OK, IPP_VIA_FORWARDER, "paul@example.com", "mapped name");
	o = ask(f, true, "/ipp/print?user=paul@example.com", header);
	expect(&o, IPP_AUTH_NONE, IPP_VIA_FORWARDER, "-", "name that maps to no address");

	/* Wrong or foreign tokens are denied and counted; over plain HTTP refused unchecked. */
	assert_int_equal(throttle_rows(f), 0);
	o = ask(f, false, "/ipp/print?user=Paul", header);
	expect(&o, IPP_AUTH_NEED_TLS, IPP_VIA_FORWARDER, "-", "forwarder over plain");
	assert_int_equal(throttle_rows(f), 0);
	o = ask(f, true, "/ipp/print?user=Paul", "Bearer ppf_0123");
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_FORWARDER, "-", "wrong bearer");
	assert_int_equal(throttle_rows(f), 1);
	assert_int_equal(tokens_issue_labelled(&f->tc->core, PP_TOKEN_PRINTER, id, "Paul's phone",
	                                       "test", printer, NULL, error, sizeof(error)),
	                 0);
	assert_true(str_format(header, sizeof(header), "Bearer %s", printer));
	o = ask(f, true, "/ipp/print?user=Paul", header);
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_FORWARDER, "-", "printer token as bearer");
	sodium_memzero(token, sizeof(token));
	sodium_memzero(printer, sizeof(printer));
}

/* Trusted networks: one row per situation, applied in order on one database. */
static const struct {
	const char *setting; /* NULL: none */
	const char *value;
	bool is_tls;
	const char *target;
	int result;
	int via;
	const char *email;
} trusted_rows[] = {
    /* Off by default: anonymous plain IPP names nobody. */
    {NULL, NULL, false, "/ipp/print?user=anna@example.com", IPP_AUTH_NONE, IPP_VIA_NONE, "-"},
    /* Another network than the peer's. */
    {"ipp.trusted_networks", "10.0.0.0/8, ::1", false, "/ipp/print?user=anna@example.com",
     IPP_AUTH_NONE, IPP_VIA_NONE, "-"},
    {"ipp.trusted_networks", "10.0.0.0/8 127.0.0.0/8", false, "/ipp/print?user=anna@example.com",
     IPP_AUTH_OK, IPP_VIA_TRUSTED_NETWORK, "anna@example.com"},
    /* Over TLS too: the network is what is trusted. */
    {NULL, NULL, true, "/ipp/print?user=ANNA@example.com", IPP_AUTH_OK, IPP_VIA_TRUSTED_NETWORK,
     "anna@example.com"},
    /* No name, an empty one, one that is no address, printer attributes: nobody. */
    {NULL, NULL, false, "/ipp/print", IPP_AUTH_NONE, IPP_VIA_TRUSTED_NETWORK, "-"},
    {NULL, NULL, false, "/ipp/print?user=", IPP_AUTH_NONE, IPP_VIA_TRUSTED_NETWORK, "-"},
    {NULL, NULL, false, "/ipp/print?user=anna", IPP_AUTH_NONE, IPP_VIA_TRUSTED_NETWORK, "-"},
    {NULL, NULL, false, "/ipp/print?op=11&user=anna@example.com", IPP_AUTH_NONE,
     IPP_VIA_TRUSTED_NETWORK, "-"},
    /* Unknown users under the default policy hold: created pending, refused for now. */
    {NULL, NULL, false, "/ipp/print?user=newbie@example.com", IPP_AUTH_DENIED,
     IPP_VIA_TRUSTED_NETWORK, "-"},
    {NULL, NULL, false, "/ipp/print?user=newbie@example.com", IPP_AUTH_DENIED,
     IPP_VIA_TRUSTED_NETWORK, "-"},
    /* Under accept: created enabled. */
    {"users.unknown_sender_policy", "accept", false, "/ipp/print?user=fresh@example.com",
     IPP_AUTH_OK, IPP_VIA_TRUSTED_NETWORK, "fresh@example.com"},
    /* A disabled user stays out. */
    {NULL, NULL, false, "/ipp/print?user=gone@example.com", IPP_AUTH_DENIED,
     IPP_VIA_TRUSTED_NETWORK, "-"},
    /* The map: a login name becomes an address at the company's domain. */
    {"ipp.user_map", "{name}@example.com", false, "/ipp/print?user=Anna", IPP_AUTH_OK,
     IPP_VIA_TRUSTED_NETWORK, "anna@example.com"},
    {NULL, NULL, false, "/ipp/print?user=Anna%20Smith", IPP_AUTH_NONE, IPP_VIA_TRUSTED_NETWORK,
     "-"},
    /* Credentials over plain HTTP are refused even from a trusted network. */
    {NULL, NULL, false, "/ipp/print/u/ppp_00?user=Anna", IPP_AUTH_NEED_TLS, IPP_VIA_PRINTER_TOKEN,
     "-"},
    /* Turned off again. */
    {"ipp.trusted_networks", "", false, "/ipp/print?user=Anna", IPP_AUTH_NONE, IPP_VIA_NONE, "-"},
};

static void test_trusted_network(void **state)
{
	fixture_t *f = *state;
	char error[512];
	add_user(f, "anna@example.com", PP_USER_ENABLED);
	add_user(f, "gone@example.com", PP_USER_DISABLED);
	for (size_t i = 0; i < sizeof(trusted_rows) / sizeof(trusted_rows[0]); i++) {
		if (trusted_rows[i].setting != NULL)
			set_setting(f, trusted_rows[i].setting, trusted_rows[i].value);
		outcome_t o = ask(f, trusted_rows[i].is_tls, trusted_rows[i].target, NULL);
		char what[64];
		assert_true(str_format(what, sizeof(what), "row %zu", i));
		expect(&o, trusted_rows[i].result, trusted_rows[i].via, trusted_rows[i].email,
		       what);
	}
	/* The held newcomer waits for an admin as a pending user, as mail does. */
	pp_user_t user;
	bool is_found = false;
	assert_int_equal(users_get_by_email(&f->tc->core, "newbie@example.com", &user, &is_found,
	                                    error, sizeof(error)),
	                 0);
	assert_true(is_found);
	assert_int_equal(user.state, PP_USER_PENDING);
	assert_string_equal(user.source, "ipp");
	/* A blocked address stays out even when the network is trusted. */
	set_setting(f, "ipp.trusted_networks", "127.0.0.1");
	assert_int_equal(sender_rule_add(&f->tc->core, "test", PP_SENDER_RULE_BLOCK,
	                                 "anna@example.com", error, sizeof(error)),
	                 0);
	outcome_t o = ask(f, false, "/ipp/print?user=Anna", NULL);
	expect(&o, IPP_AUTH_DENIED, IPP_VIA_TRUSTED_NETWORK, "-", "blocked");
	/* Trusting a network is not a credential: no failure was ever counted. */
	assert_int_equal(throttle_rows(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    AUTH_CASE(test_basic),
	    AUTH_CASE(test_printer_uri),
	    AUTH_CASE(test_forwarder),
	    AUTH_CASE(test_trusted_network),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
