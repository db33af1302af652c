/*
 * db-pq.h - libpq, loaded when the first PostgreSQL database is opened.
 *
 * libpq brings OpenSSL, OpenLDAP and SASL with it: about 2 MiB of resident memory in a
 * server that uses SQLite, the default, and never calls any of it. So pullprintd does not
 * link libpq; db-postgres.c calls it through this table, filled by dlopen() of Debian's
 * libpq5 on first use. The compiler still checks every call against <libpq-fe.h>.
 */
#ifndef PP_DB_PQ_H
#define PP_DB_PQ_H

#include <libpq-fe.h>
#include <stddef.h>

/* The libpq functions Pullprint uses; each field has the function's own type. */
typedef struct {
	__typeof__(PQclear) *PQclear;
	__typeof__(PQcmdStatus) *PQcmdStatus;
	__typeof__(PQcmdTuples) *PQcmdTuples;
	__typeof__(PQconnectdb) *PQconnectdb;
	__typeof__(PQconsumeInput) *PQconsumeInput;
	__typeof__(PQconninfoFree) *PQconninfoFree;
	__typeof__(PQconninfoParse) *PQconninfoParse;
	__typeof__(PQerrorMessage) *PQerrorMessage;
	__typeof__(PQexec) *PQexec;
	__typeof__(PQexecParams) *PQexecParams;
	__typeof__(PQfinish) *PQfinish;
	__typeof__(PQfreemem) *PQfreemem;
	__typeof__(PQftype) *PQftype;
	__typeof__(PQgetisnull) *PQgetisnull;
	__typeof__(PQgetlength) *PQgetlength;
	__typeof__(PQgetvalue) *PQgetvalue;
	__typeof__(PQnfields) *PQnfields;
	__typeof__(PQnotifies) *PQnotifies;
	__typeof__(PQntuples) *PQntuples;
	__typeof__(PQreset) *PQreset;
	__typeof__(PQresultErrorField) *PQresultErrorField;
	__typeof__(PQresultStatus) *PQresultStatus;
	__typeof__(PQsetClientEncoding) *PQsetClientEncoding;
	__typeof__(PQsetNoticeProcessor) *PQsetNoticeProcessor;
	__typeof__(PQsocket) *PQsocket;
	__typeof__(PQstatus) *PQstatus;
	__typeof__(PQunescapeBytea) *PQunescapeBytea;
} db_pq_t;

/*
 * The table, loading libpq on the first call (thread-safe). NULL when libpq5 is not
 * installed or lacks a function; error then says what to install.
 */
const db_pq_t *db_pq(char *error, size_t error_size);

#endif
