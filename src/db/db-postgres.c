/*
 * db-postgres.c - the external backend: one libpq connection per handle.
 *
 * Statements go through PQexecParams: parameters as text (integers typed int8, text typed
 * text) except blobs, sent binary as bytea; results come back as text and bytea columns are
 * unescaped. A connection that dropped is re-established once when no transaction is open
 * (a transaction's work died with the connection, so inside one the error is returned).
 * libpq messages can echo connection details: every message is stripped of the URL's
 * password before it leaves this file, and the password is wiped at close.
 */
#include "db/db-private.h"

#include "db/db-pq.h"

#include <stdlib.h>
#include <string.h>

#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/str.h"

/*
 * libpq through the table db-pq.c loads on first use; every call below happens after
 * db_pg_open() has checked that it loaded.
 */
static const db_pq_t *db_pg_lib(void)
{
	char error[8];
	return db_pq(error, sizeof(error));
}
#define PQ(fn) (db_pg_lib()->fn)

/* Type OIDs from PostgreSQL's pg_type.h (stable across versions). */
#define DB_PG_BYTEAOID 17
#define DB_PG_INT8OID 20
#define DB_PG_TEXTOID 25

/* PostgreSQL accepts at most this many parameters in one statement. */
#define DB_PG_MAX_PARAMS 65535

/* Secrets to strip from messages: the password as written in the URL and as decoded. */
#define DB_PG_SECRETS 3

typedef struct {
	PGconn *conn;
	char *secrets[DB_PG_SECRETS];
} db_pg_t;

static db_pg_t *db_pg(pp_db_t *db)
{
	return db->backend_data;
}

/* Copies msg into error with newlines folded and the password removed. */
static void db_pg_message(const db_pg_t *pg, const char *prefix, const char *msg, char *error,
                          size_t error_size)
{
	if (!str_format(error, error_size, "postgresql: %s%s", prefix, msg != NULL ? msg : ""))
		(void)str_format(error, error_size, "postgresql: %s(message too long)", prefix);
	/* One line: libpq ends messages with a newline and adds DETAIL/HINT lines. */
	size_t len = strlen(error);
	while (len > 0 && (error[len - 1] == '\n' || error[len - 1] == ' '))
		error[--len] = '\0';
	for (char *p = error; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	}
	for (size_t i = 0; i < DB_PG_SECRETS; i++)
		db_redact(error, error_size, pg->secrets[i]);
}

/* A new copy of s[0..len), or NULL when out of memory or empty. */
static char *db_pg_strndup(const char *s, size_t len)
{
	return len == 0 ? NULL : strndup(s, len);
}

/*
 * Finds the passwords in url (userinfo "user:pw@", a "password=" query parameter, and the
 * decoded value libpq sees) so that messages can be stripped of them.
 */
static void db_pg_find_secrets(const char *url, db_pg_t *pg)
{
	const char *rest = strstr(url, "://");
	if (rest != NULL) {
		rest += 3;
		size_t authority_len = strcspn(rest, "/?#");
		/* The userinfo ends at the last '@' of the authority. */
		const char *at = NULL;
		for (size_t i = 0; i < authority_len; i++) {
			if (rest[i] == '@')
				at = rest + i;
		}
		if (at != NULL) {
			const char *colon = memchr(rest, ':', (size_t)(at - rest));
			if (colon != NULL)
				pg->secrets[0] = db_pg_strndup(colon + 1, (size_t)(at - colon - 1));
		}
	}
	const char *query = strstr(url, "password=");
	if (query != NULL) {
		query += strlen("password=");
		pg->secrets[1] = db_pg_strndup(query, strcspn(query, "&#"));
	}
	char *parse_error = NULL;
	PQconninfoOption *opts = PQ(PQconninfoParse)(url, &parse_error);
	if (opts != NULL) {
		for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
			if (strcmp(o->keyword, "password") == 0 && o->val != NULL)
				pg->secrets[2] = db_pg_strndup(o->val, strlen(o->val));
		}
		PQ(PQconninfoFree)(opts);
	}
	PQ(PQfreemem)(parse_error);
}

static void db_pg_free(db_pg_t *pg)
{
	if (pg == NULL)
		return;
	if (pg->conn != NULL)
		PQ(PQfinish)(pg->conn);
	for (size_t i = 0; i < DB_PG_SECRETS; i++) {
		if (pg->secrets[i] != NULL) {
			crypto_wipe(pg->secrets[i], strlen(pg->secrets[i]));
			free(pg->secrets[i]);
		}
	}
	free(pg);
}

/* Notices ("table exists, skipping") are not errors; they are dropped. */
static void db_pg_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Readies a fresh connection: notices dropped, UTF-8 text. */
static int db_pg_setup_conn(db_pg_t *pg, char *error, size_t error_size)
{
	(void)PQ(PQsetNoticeProcessor)(pg->conn, db_pg_notice, NULL);
	if (PQ(PQsetClientEncoding)(pg->conn, "UTF8") != 0) {
		db_pg_message(pg, "cannot set client encoding UTF8: ", PQ(PQerrorMessage)(pg->conn),
		              error, error_size);
		return DB_ERROR;
	}
	return DB_OK;
}

static int db_pg_open(pp_db_t *db, const char *url, char *error, size_t error_size)
{
	if (db_pq(error, error_size) == NULL)
		return DB_ERROR;
	db_pg_t *pg = calloc(1, sizeof(*pg));
	if (pg == NULL) {
		str_format(error, error_size, "postgresql: out of memory");
		return DB_ERROR;
	}
	db_pg_find_secrets(url, pg);
	pg->conn = PQ(PQconnectdb)(url);
	if (pg->conn == NULL) {
		str_format(error, error_size, "postgresql: out of memory");
		db_pg_free(pg);
		return DB_ERROR;
	}
	if (PQ(PQstatus)(pg->conn) != CONNECTION_OK) {
		db_pg_message(pg, "cannot connect: ", PQ(PQerrorMessage)(pg->conn), error, error_size);
		db_pg_free(pg);
		return DB_ERROR;
	}
	if (db_pg_setup_conn(pg, error, error_size) != DB_OK) {
		db_pg_free(pg);
		return DB_ERROR;
	}
	db->backend_data = pg;
	return DB_OK;
}

static void db_pg_close(pp_db_t *db)
{
	db_pg_free(db->backend_data);
	db->backend_data = NULL;
}

/* Re-establishes a dropped connection. Returns false when the server is still unreachable. */
static bool db_pg_reconnect(pp_db_t *db)
{
	db_pg_t *pg = db_pg(db);
	log_warn("db.reconnect backend=postgresql reason=connection_lost");
	PQ(PQreset)(pg->conn);
	if (PQ(PQstatus)(pg->conn) != CONNECTION_OK)
		return false;
	char error[DB_ERROR_MAX];
	if (db_pg_setup_conn(pg, error, sizeof(error)) != DB_OK) {
		log_error("db.reconnect_failed backend=postgresql error=\"%s\"", error);
		return false;
	}
	return true;
}

/* True when res holds a successful command or query. */
static bool db_pg_ok(const PGresult *res)
{
	if (res == NULL)
		return false;
	ExecStatusType st = PQ(PQresultStatus)(res);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/*
 * Runs sql with params, reconnecting once outside a transaction if the connection dropped.
 * (A statement that reached the server just before the drop may then run twice; the window
 * is the moment of a server restart.) Returns the result (PQclear it), never NULL on DB_OK.
 */
static int db_pg_run(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
                     PGresult **res_r, char *error, size_t error_size)
{
	db_pg_t *pg = db_pg(db);
	*res_r = NULL;
	if (n_params > DB_PG_MAX_PARAMS) {
		str_format(error, error_size, "postgresql: more than %d parameters",
		           DB_PG_MAX_PARAMS);
		return DB_ERROR;
	}

	/* Parameter arrays; integers are formatted into ints[]. */
	size_t n = n_params > 0 ? n_params : 1;
	Oid *types = calloc(n, sizeof(*types));
	const char **values = calloc(n, sizeof(*values));
	int *lengths = calloc(n, sizeof(*lengths));
	int *formats = calloc(n, sizeof(*formats));
	char(*ints)[24] = calloc(n, sizeof(*ints));
	int ret = DB_OK;
	if (types == NULL || values == NULL || lengths == NULL || formats == NULL || ints == NULL) {
		str_format(error, error_size, "postgresql: out of memory");
		ret = DB_ERROR;
	}
	for (size_t i = 0; ret == DB_OK && i < n_params; i++) {
		const pp_db_value_t *p = &params[i];
		switch (p->type) {
		case PP_DB_INT:
			types[i] = DB_PG_INT8OID;
			(void)str_format(ints[i], sizeof(ints[i]), "%lld", (long long)p->i);
			values[i] = ints[i];
			break;
		case PP_DB_TEXT:
			types[i] = DB_PG_TEXTOID;
			values[i] = p->s; /* NULL binds SQL NULL */
			break;
		case PP_DB_BLOB:
			if (p->len > INT32_MAX) {
				str_format(error, error_size,
				           "postgresql: blob parameter too large");
				ret = DB_ERROR;
				break;
			}
			types[i] = DB_PG_BYTEAOID;
			values[i] = p->len > 0 ? p->blob : ""; /* empty, not NULL */
			lengths[i] = (int)p->len;
			formats[i] = 1;
			break;
		case PP_DB_NULL:
		default:
			values[i] = NULL;
			break;
		}
	}

	PGresult *res = NULL;
	if (ret == DB_OK) {
		/* Once per call: a connection known to be down, or one that drops under this
		   statement, is re-established when no transaction depended on it. */
		bool reconnected = false;
		if (PQ(PQstatus)(pg->conn) == CONNECTION_BAD && !db->in_tx) {
			reconnected = true;
			(void)db_pg_reconnect(db);
		}
		res =
		    PQ(PQexecParams)(pg->conn, sql, (int)n_params, types, values, lengths, formats, 0);
		if (!db_pg_ok(res) && PQ(PQstatus)(pg->conn) == CONNECTION_BAD && !db->in_tx &&
		    !reconnected && db_pg_reconnect(db)) {
			PQ(PQclear)(res);
			res = PQ(PQexecParams)(pg->conn, sql, (int)n_params, types, values, lengths,
			                   formats, 0);
		}
	}

	if (ret == DB_OK && !db_pg_ok(res)) {
		const char *state = res != NULL ? PQ(PQresultErrorField)(res, PG_DIAG_SQLSTATE) : NULL;
		const char *msg =
		    res != NULL ? PQ(PQresultErrorField)(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		/* The primary message only: DETAIL lines quote row values (emails, hashes). */
		db_pg_message(pg, "", msg != NULL ? msg : PQ(PQerrorMessage)(pg->conn), error,
		              error_size);
		ret = state != NULL && strcmp(state, "23505") == 0 ? DB_DUPLICATE : DB_ERROR;
		PQ(PQclear)(res);
		res = NULL;
	}
	free(types);
	free(values);
	free(lengths);
	free(formats);
	free(ints);
	*res_r = res;
	return ret;
}

static int db_pg_exec(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
                      int64_t *changes_r, char *error, size_t error_size)
{
	PGresult *res;
	int rc = db_pg_run(db, sql, params, n_params, &res, error, error_size);
	if (rc != DB_OK)
		return rc;
	if (changes_r != NULL) {
		uint64_t changes = 0;
		const char *tuples = PQ(PQcmdTuples)(res);
		if (tuples[0] != '\0' && parse_uint64_full(tuples, INT64_MAX, &changes))
			*changes_r = (int64_t)changes;
	}
	PQ(PQclear)(res);
	return DB_OK;
}

/* Copies every cell of res into result, unescaping bytea columns. */
static int db_pg_copy(db_pg_t *pg, const PGresult *res, pp_db_result_t *result, char *error,
                      size_t error_size)
{
	int rows = PQ(PQntuples)(res);
	int cols = PQ(PQnfields)(res);
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++) {
			int rc;
			if (PQ(PQgetisnull)(res, r, c)) {
				rc = db_result_append(result, NULL, 0, true, error, error_size);
			} else if (PQ(PQftype)(res, c) == DB_PG_BYTEAOID) {
				size_t len = 0;
				unsigned char *bytes = PQ(PQunescapeBytea)(
				    (const unsigned char *)PQ(PQgetvalue)(res, r, c), &len);
				if (bytes == NULL) {
					db_pg_message(pg, "cannot decode bytea: ",
					              PQ(PQerrorMessage)(pg->conn), error, error_size);
					return DB_ERROR;
				}
				rc = db_result_append(result, bytes, len, false, error, error_size);
				PQ(PQfreemem)(bytes);
			} else {
				rc = db_result_append(result, PQ(PQgetvalue)(res, r, c),
				                      (size_t)PQ(PQgetlength)(res, r, c), false, error,
				                      error_size);
			}
			if (rc != 0)
				return DB_ERROR;
		}
	}
	return DB_OK;
}

static int db_pg_query(pp_db_t *db, const char *sql, const pp_db_value_t *params, size_t n_params,
                       pp_db_result_t **result_r, char *error, size_t error_size)
{
	PGresult *res;
	int rc = db_pg_run(db, sql, params, n_params, &res, error, error_size);
	if (rc != DB_OK)
		return rc;
	pp_db_result_t *result = db_result_new((size_t)PQ(PQnfields)(res));
	if (result == NULL) {
		PQ(PQclear)(res);
		str_format(error, error_size, "postgresql: out of memory for a query result");
		return DB_ERROR;
	}
	rc = db_pg_copy(db_pg(db), res, result, error, error_size);
	PQ(PQclear)(res);
	if (rc != DB_OK) {
		db_result_free(&result);
		return rc;
	}
	*result_r = result;
	return DB_OK;
}

/* Runs sql (one or more statements, no parameters) with PQexec; *res_r is PQclear'ed by the caller.
 */
static int db_pg_simple(pp_db_t *db, const char *sql, PGresult **res_r, char *error,
                        size_t error_size)
{
	db_pg_t *pg = db_pg(db);
	*res_r = NULL;
	if (PQ(PQstatus)(pg->conn) == CONNECTION_BAD && !db->in_tx)
		(void)db_pg_reconnect(db);
	PGresult *res = PQ(PQexec)(pg->conn, sql);
	if (db_pg_ok(res)) {
		*res_r = res;
		return DB_OK;
	}
	const char *state = res != NULL ? PQ(PQresultErrorField)(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQ(PQresultErrorField)(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	db_pg_message(pg, "", msg != NULL ? msg : PQ(PQerrorMessage)(pg->conn), error, error_size);
	int ret = state != NULL && strcmp(state, "23505") == 0 ? DB_DUPLICATE : DB_ERROR;
	PQ(PQclear)(res);
	return ret;
}

static int db_pg_exec_script(pp_db_t *db, const char *sql, char *error, size_t error_size)
{
	PGresult *res;
	int rc = db_pg_simple(db, sql, &res, error, error_size);
	PQ(PQclear)(res);
	return rc;
}

static int db_pg_begin(pp_db_t *db, char *error, size_t error_size)
{
	return db_pg_exec_script(db, "BEGIN", error, error_size);
}

static int db_pg_commit(pp_db_t *db, bool *needs_sync_r, char *error, size_t error_size)
{
	*needs_sync_r = false; /* the server's COMMIT is durable */
	PGresult *res;
	int rc = db_pg_simple(db, "COMMIT", &res, error, error_size);
	/* COMMIT of a transaction that had failed answers ROLLBACK: that is no commit. */
	if (rc == DB_OK && strcmp(PQ(PQcmdStatus)(res), "COMMIT") != 0) {
		str_format(error, error_size,
		           "postgresql: the transaction was rolled back, not committed");
		rc = DB_ERROR;
	}
	PQ(PQclear)(res);
	return rc;
}

static int db_pg_rollback(pp_db_t *db, char *error, size_t error_size)
{
	/* A dropped connection took its transaction with it: nothing is left to undo. */
	if (PQ(PQstatus)(db_pg(db)->conn) == CONNECTION_BAD)
		return DB_OK;
	return db_pg_exec_script(db, "ROLLBACK", error, error_size);
}

const struct db_vfuncs db_postgres_vfuncs = {
    .name = "postgresql",
    .backend = PP_DB_POSTGRES,
    .id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    .blob_type = "BYTEA",
    .table_exists_sql = "SELECT 1 FROM information_schema.tables "
                        "WHERE table_schema = current_schema() AND table_name = $1",
    /* Any fixed key: Pullprint's migrations, one at a time across servers. */
    .migrate_lock_sql = "SELECT pg_advisory_xact_lock(7237366)",
    .open = db_pg_open,
    .close = db_pg_close,
    .exec = db_pg_exec,
    .query = db_pg_query,
    .exec_script = db_pg_exec_script,
    .begin = db_pg_begin,
    .commit = db_pg_commit,
    .rollback = db_pg_rollback,
};
