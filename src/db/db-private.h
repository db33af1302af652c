/*
 * db-private.h - what the storage backends share; included only inside src/db/.
 */
#ifndef PP_DB_PRIVATE_H
#define PP_DB_PRIVATE_H

#include "db/db.h"

typedef struct {
	int version;
	const char *name;
	const char *sql; /* with @ID@ and @BLOB@ placeholders; see migrations.c */
} db_migration_t;

/* The migrations in ascending version order. Borrowed, static. */
const db_migration_t *db_migrations_list(size_t *count_r);

/* (The backend function table, struct db_vfuncs, is declared below by the db module.) */

#endif
