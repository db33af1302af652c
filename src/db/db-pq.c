/* db-pq.c - loading libpq on first use; see db-pq.h. */
#include "db/db-pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#include "lib/str.h"

#define DB_PQ_LIBRARY "libpq.so.5" /* Debian's libpq5 */

/* Filled once by db_pq_load() under pthread_once, read-only afterwards. */
typedef struct {
	pthread_once_t once;
	bool is_loaded;
	char error[256];
	db_pq_t api;
} db_pq_state_t;

static db_pq_state_t db_pq_state = {.once = PTHREAD_ONCE_INIT};

/* Looks up one symbol into *slot; false (with the error noted) when it is missing. */
static bool db_pq_symbol(void *lib, const char *name, void **slot)
{
	*slot = dlsym(lib, name);
	if (*slot == NULL) {
		(void)str_format(db_pq_state.error, sizeof(db_pq_state.error),
				 "%s lacks %s: install a current libpq5", DB_PQ_LIBRARY, name);
		return false;
	}
	return true;
}

static void db_pq_load(void)
{
	/* Kept open for the life of the process: connections may exist until exit. */
	void *lib = dlopen(DB_PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		const char *why = dlerror();
		(void)str_format(db_pq_state.error, sizeof(db_pq_state.error),
				 "PostgreSQL needs %s (apt-get install libpq5): %s", DB_PQ_LIBRARY,
				 why != NULL ? why : "not found");
		return;
	}
	db_pq_t *api = &db_pq_state.api;
#define DB_PQ_SYMBOL(fn) db_pq_symbol(lib, #fn, (void **)&api->fn)
	db_pq_state.is_loaded =
	    DB_PQ_SYMBOL(PQclear) && DB_PQ_SYMBOL(PQcmdStatus) && DB_PQ_SYMBOL(PQcmdTuples) &&
	    DB_PQ_SYMBOL(PQconnectdb) && DB_PQ_SYMBOL(PQconsumeInput) &&
	    DB_PQ_SYMBOL(PQconninfoFree) && DB_PQ_SYMBOL(PQnotifies) && DB_PQ_SYMBOL(PQsocket) &&
	    DB_PQ_SYMBOL(PQconninfoParse) && DB_PQ_SYMBOL(PQerrorMessage) && DB_PQ_SYMBOL(PQexec) &&
	    DB_PQ_SYMBOL(PQexecParams) && DB_PQ_SYMBOL(PQfinish) && DB_PQ_SYMBOL(PQfreemem) &&
	    DB_PQ_SYMBOL(PQftype) && DB_PQ_SYMBOL(PQgetisnull) && DB_PQ_SYMBOL(PQgetlength) &&
	    DB_PQ_SYMBOL(PQgetvalue) && DB_PQ_SYMBOL(PQnfields) && DB_PQ_SYMBOL(PQntuples) &&
	    DB_PQ_SYMBOL(PQreset) && DB_PQ_SYMBOL(PQresultErrorField) &&
	    DB_PQ_SYMBOL(PQresultStatus) && DB_PQ_SYMBOL(PQsetClientEncoding) &&
	    DB_PQ_SYMBOL(PQsetNoticeProcessor) && DB_PQ_SYMBOL(PQstatus) &&
	    DB_PQ_SYMBOL(PQunescapeBytea);
#undef DB_PQ_SYMBOL
}

const db_pq_t *db_pq(char *error, size_t error_size)
{
	if (pthread_once(&db_pq_state.once, db_pq_load) != 0) {
		(void)str_format(error, error_size, "database: cannot load %s", DB_PQ_LIBRARY);
		return NULL;
	}
	if (!db_pq_state.is_loaded) {
		(void)str_copy(error, error_size, db_pq_state.error);
		return NULL;
	}
	return &db_pq_state.api;
}
