/*
 * db-listen.c - PostgreSQL LISTEN/NOTIFY; see db-listen.h.
 *
 * The listener keeps its own libpq connection (through the table db-pq.c loads) and waits on
 * its socket with poll(). A connection that drops is noticed when the socket reports it; the
 * next wait opens a new one, LISTENs again and reports a notification at once, since any
 * sent while it was away are lost. libpq messages may echo the URL: the password is stripped
 * from every message that leaves this file, and wiped at close.
 */
#include "db/db-listen.h"

#include "db/db-pq.h"
#include "db/db-private.h"
#include "lib/crypto.h"
#include "lib/str.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_LISTEN_CHANNEL_MAX 64 /* PostgreSQL identifiers: at most 63 bytes */
#define DB_LISTEN_SECRETS 2

struct pp_db_listener {
	const db_pq_t *pq;
	PGconn *conn; /* NULL after a drop until the next wait re-opens it */
	char *url;
	char channel[DB_LISTEN_CHANNEL_MAX];
	char *secrets[DB_LISTEN_SECRETS]; /* the password as written in the URL and as decoded */
};

/* True for a channel name LISTEN accepts quoted without escaping: [A-Za-z_][A-Za-z0-9_]*. */
static bool db_listen_channel_is_valid(const char *channel)
{
	size_t len = strlen(channel);
	if (len == 0 || len >= DB_LISTEN_CHANNEL_MAX || (channel[0] >= '0' && channel[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = channel[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

int db_notify(pp_db_t *db, const char *channel, char *error, size_t error_size)
{
	if (db_backend(db) != PP_DB_POSTGRES)
		return 0;
	if (channel == NULL || !db_listen_channel_is_valid(channel)) {
		(void)str_format(error, error_size,
		                 "database: a notification channel is letters, digits and '_'");
		return -1;
	}
	/* pg_notify() takes the channel as a value: bound, never spliced into the SQL. */
	pp_db_value_t params[] = {DB_TEXT(channel)};
	return db_exec(db, "SELECT pg_notify($1, '')", params, 1, NULL, error, error_size) == DB_OK
	           ? 0
	           : -1;
}

/* Finds the URL's password, raw and decoded, so that messages can be stripped of it. */
static void db_listen_find_secrets(pp_db_listener_t *listener)
{
	const char *rest = strstr(listener->url, "://");
	if (rest != NULL) {
		rest += 3;
		size_t authority_len = strcspn(rest, "/?#");
		const char *at = NULL;
		for (size_t i = 0; i < authority_len; i++) {
			if (rest[i] == '@')
				at = rest + i;
		}
		const char *colon = at != NULL ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
		if (colon != NULL && at - colon > 1)
			listener->secrets[0] = strndup(colon + 1, (size_t)(at - colon - 1));
	}
	char *parse_error = NULL;
	PQconninfoOption *opts = listener->pq->PQconninfoParse(listener->url, &parse_error);
	if (opts != NULL) {
		for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
			if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
			    o->val[0] != '\0')
				listener->secrets[1] = strdup(o->val);
		}
		listener->pq->PQconninfoFree(opts);
	}
	listener->pq->PQfreemem(parse_error);
}

/* "postgresql listener: <prefix><libpq message>" on one line, without the password. */
static void db_listen_message(const pp_db_listener_t *listener, const char *prefix, char *error,
                              size_t error_size)
{
	const char *msg =
	    listener->conn != NULL ? listener->pq->PQerrorMessage(listener->conn) : "out of memory";
	if (!str_format(error, error_size, "postgresql listener: %s%s", prefix, msg))
		(void)str_format(error, error_size, "postgresql listener: %s(message too long)",
		                 prefix);
	size_t len = strlen(error);
	while (len > 0 && (error[len - 1] == '\n' || error[len - 1] == ' '))
		error[--len] = '\0';
	for (char *p = error; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	for (size_t i = 0; i < DB_LISTEN_SECRETS; i++)
		db_redact(error, error_size, listener->secrets[i]);
}

static void db_listen_drop(pp_db_listener_t *listener)
{
	if (listener->conn != NULL)
		listener->pq->PQfinish(listener->conn);
	listener->conn = NULL;
}

static void db_listen_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Opens the connection and LISTENs. Returns 0, or -1 with error (no connection kept). */
static int db_listen_connect(pp_db_listener_t *listener, char *error, size_t error_size)
{
	const db_pq_t *pq = listener->pq;
	listener->conn = pq->PQconnectdb(listener->url);
	if (listener->conn == NULL || pq->PQstatus(listener->conn) != CONNECTION_OK) {
		db_listen_message(listener, "cannot connect: ", error, error_size);
		db_listen_drop(listener);
		return -1;
	}
	/* Notices (and the server's goodbye when it drops us) are not printed on stderr. */
	(void)pq->PQsetNoticeProcessor(listener->conn, db_listen_notice, NULL);
	char sql[DB_LISTEN_CHANNEL_MAX + 16];
	if (!str_format(sql, sizeof(sql), "LISTEN \"%s\"", listener->channel)) {
		(void)str_format(error, error_size, "postgresql listener: channel name too long");
		db_listen_drop(listener);
		return -1;
	}
	PGresult *res = pq->PQexec(listener->conn, sql);
	bool is_ok = res != NULL && pq->PQresultStatus(res) == PGRES_COMMAND_OK;
	pq->PQclear(res);
	if (!is_ok) {
		db_listen_message(listener, "LISTEN failed: ", error, error_size);
		db_listen_drop(listener);
		return -1;
	}
	return 0;
}

int db_listener_open(const char *url, const char *channel, pp_db_listener_t **listener_r,
                     char *error, size_t error_size)
{
	*listener_r = NULL;
	if (!str_has_prefix(url, "postgresql://") && !str_has_prefix(url, "postgres://")) {
		(void)str_format(
		    error, error_size,
		    "database: waiting for notifications needs PostgreSQL; set [server] "
		    "database to a postgresql:// URL");
		return -1;
	}
	if (!db_listen_channel_is_valid(channel)) {
		(void)str_format(error, error_size,
		                 "database: a notification channel is letters, digits and '_'");
		return -1;
	}
	const db_pq_t *pq = db_pq(error, error_size);
	if (pq == NULL)
		return -1;
	pp_db_listener_t *listener = calloc(1, sizeof(*listener));
	if (listener == NULL || (listener->url = strdup(url)) == NULL) {
		free(listener);
		(void)str_format(error, error_size, "postgresql listener: out of memory");
		return -1;
	}
	listener->pq = pq;
	(void)str_copy(listener->channel, sizeof(listener->channel), channel);
	db_listen_find_secrets(listener);
	if (db_listen_connect(listener, error, error_size) < 0) {
		db_listener_close(&listener);
		return -1;
	}
	*listener_r = listener;
	return 0;
}

/* Takes every notification libpq has read; true when there was at least one. */
static bool db_listen_take(pp_db_listener_t *listener)
{
	bool is_any = false;
	PGnotify *note;
	while ((note = listener->pq->PQnotifies(listener->conn)) != NULL) {
		is_any = true;
		listener->pq->PQfreemem(note);
	}
	return is_any;
}

/* Sleeps timeout_ms (>= 0), so that a caller retrying a dead server is paced. */
static void db_listen_pause(int timeout_ms)
{
	struct timespec pause = {.tv_sec = timeout_ms / 1000,
	                         .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
	while (nanosleep(&pause, &pause) < 0 && errno == EINTR) {
	}
}

/* A monotonic clock in milliseconds. */
static int64_t db_listen_now_ms(void)
{
	struct timespec now;
	if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		return 0;
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * Also: the call that finds the connection dropped returns -1 (say it in the log); the next
 * one re-opens it and reports *notified_r = true at once (what was sent meanwhile is lost).
 * When the server cannot be reached, the call waits timeout_ms before it returns -1, so a
 * caller that simply calls again does not spin.
 */
int db_listener_wait(pp_db_listener_t *listener, int timeout_ms, bool *notified_r, char *error,
                     size_t error_size)
{
	const db_pq_t *pq = listener->pq;
	*notified_r = false;
	if (timeout_ms < 0)
		timeout_ms = 0;
	if (listener->conn == NULL) {
		if (db_listen_connect(listener, error, error_size) < 0) {
			db_listen_pause(timeout_ms);
			return -1;
		}
		*notified_r = true;
		return 0;
	}

	/* Notifications read along with an earlier answer are already waiting in libpq. */
	if (db_listen_take(listener)) {
		*notified_r = true;
		return 0;
	}
	int64_t deadline = db_listen_now_ms() + timeout_ms;
	for (;;) {
		int fd = pq->PQsocket(listener->conn);
		if (fd < 0 || pq->PQstatus(listener->conn) != CONNECTION_OK)
			goto dropped;
		int64_t left = deadline - db_listen_now_ms();
		if (left < 0)
			left = 0;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, (int)left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			(void)str_format(error, error_size, "postgresql listener: poll failed: %s",
			                 strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0; /* timed out: nothing came */
		if (pq->PQconsumeInput(listener->conn) == 0 ||
		    pq->PQstatus(listener->conn) != CONNECTION_OK)
			goto dropped;
		if (db_listen_take(listener)) {
			*notified_r = true;
			return 0;
		}
		/* Something else arrived (a parameter status, a notice): wait on. */
	}
dropped:
	db_listen_message(listener, "connection lost (re-opening on the next wait): ", error,
	                  error_size);
	db_listen_drop(listener);
	return -1;
}

void db_listener_close(pp_db_listener_t **listener_p)
{
	pp_db_listener_t *listener = *listener_p;
	if (listener == NULL)
		return;
	db_listen_drop(listener);
	for (size_t i = 0; i < DB_LISTEN_SECRETS; i++) {
		if (listener->secrets[i] != NULL) {
			crypto_wipe(listener->secrets[i], strlen(listener->secrets[i]));
			free(listener->secrets[i]);
		}
	}
	if (listener->url != NULL) {
		crypto_wipe(listener->url, strlen(listener->url));
		free(listener->url);
	}
	free(listener);
	*listener_p = NULL;
}
