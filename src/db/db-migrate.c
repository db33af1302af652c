/*
 * db-migrate.c - brings a database's schema up to date with migrations.c.
 *
 * The table schema_version records each applied migration. db_migrate() applies the missing
 * ones in order, each in its own transaction together with its schema_version row, so a crash
 * leaves the schema at a whole version and a rerun continues from there (idempotent). On
 * PostgreSQL an advisory lock inside each transaction keeps several servers that start at once
 * from applying the same migration twice; on SQLite BEGIN IMMEDIATE does the same.
 */
#include "db/db-private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/str.h"

static const char db_schema_version_sql[] = "CREATE TABLE IF NOT EXISTS schema_version ("
                                            "  version INTEGER PRIMARY KEY,"
                                            "  name TEXT NOT NULL,"
                                            "  applied_at BIGINT NOT NULL)";

/*
 * Returns sql with @ID@ and @BLOB@ replaced by the backend's spelling. New; free with free().
 * NULL when out of memory.
 */
static char *db_migration_substitute(const struct db_vfuncs *v, const char *sql)
{
	static const char id_mark[] = "@ID@";
	static const char blob_mark[] = "@BLOB@";
	size_t id_len = strlen(v->id_type);
	size_t blob_len = strlen(v->blob_type);
	size_t grow = id_len > blob_len ? id_len : blob_len;

	/* Count placeholders first so the output is allocated once, exactly. */
	size_t n_marks = 0;
	for (const char *p = sql; (p = strchr(p, '@')) != NULL; p++)
		n_marks++;
	size_t in_len = strlen(sql);
	if (n_marks > 0 && grow > (SIZE_MAX - in_len - 1) / n_marks)
		return NULL;
	char *out = malloc(in_len + n_marks * grow + 1);
	if (out == NULL)
		return NULL;

	size_t o = 0;
	for (const char *p = sql; *p != '\0';) {
		if (strncmp(p, id_mark, sizeof(id_mark) - 1) == 0) {
			memcpy(out + o, v->id_type, id_len);
			o += id_len;
			p += sizeof(id_mark) - 1;
		} else if (strncmp(p, blob_mark, sizeof(blob_mark) - 1) == 0) {
			memcpy(out + o, v->blob_type, blob_len);
			o += blob_len;
			p += sizeof(blob_mark) - 1;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

int db_schema_version(pp_db_t *db, int *version_r, char *error, size_t error_size)
{
	*version_r = 0;
	pp_db_result_t *res = NULL;
	const pp_db_value_t name[] = {DB_TEXT("schema_version")};
	if (db_query(db, db->v->table_exists_sql, name, 1, &res, error, error_size) != DB_OK)
		return DB_ERROR;
	bool exists = db_result_rows(res) > 0;
	db_result_free(&res);
	if (!exists)
		return DB_OK; /* a new, empty database */

	if (db_query(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, &res,
	             error, error_size) != DB_OK)
		return DB_ERROR;
	int64_t version = db_result_int(res, 0, 0);
	db_result_free(&res);
	if (version < 0 || version > 1000000) {
		str_format(error, error_size,
		           "database: schema_version holds %lld, which is not a version: "
		           "restore the database from a backup",
		           (long long)version);
		return DB_ERROR;
	}
	*version_r = (int)version;
	return DB_OK;
}

/* Begins a migration transaction and takes the backend's migration lock in it. */
static int db_migrate_begin(pp_db_t *db, char *error, size_t error_size)
{
	if (db_tx_begin(db, error, error_size) != DB_OK)
		return DB_ERROR;
	if (db->v->migrate_lock_sql != NULL) {
		pp_db_result_t *res = NULL;
		if (db_query(db, db->v->migrate_lock_sql, NULL, 0, &res, error, error_size) !=
		    DB_OK) {
			db_tx_rollback(db);
			return DB_ERROR;
		}
		db_result_free(&res);
	}
	return DB_OK;
}

/* Applies migration m if the schema is older than it. Its own transaction. */
static int db_migrate_one(pp_db_t *db, const db_migration_t *m, char *error, size_t error_size)
{
	if (db_migrate_begin(db, error, error_size) != DB_OK)
		return DB_ERROR;
	/* Read the version under the lock: another process may have migrated meanwhile. */
	int version;
	if (db_schema_version(db, &version, error, error_size) != DB_OK) {
		db_tx_rollback(db);
		return DB_ERROR;
	}
	if (version >= m->version) {
		db_tx_rollback(db);
		return DB_OK;
	}

	char *sql = db_migration_substitute(db->v, m->sql);
	if (sql == NULL) {
		db_tx_rollback(db);
		str_format(error, error_size, "database: out of memory for migration %d",
		           m->version);
		return DB_ERROR;
	}
	char step_error[DB_ERROR_MAX];
	int rc = db_exec_script(db, sql, step_error, sizeof(step_error));
	free(sql);
	if (rc == DB_OK) {
		const pp_db_value_t params[] = {DB_INT(m->version), DB_TEXT(m->name),
		                                DB_INT(time(NULL))};
		rc = db_exec(db,
		             "INSERT INTO schema_version (version, name, applied_at) "
		             "VALUES ($1, $2, $3)",
		             params, 3, NULL, step_error, sizeof(step_error));
	}
	if (rc != DB_OK) {
		db_tx_rollback(db);
		str_format(error, error_size, "database: migration %d (%s) failed: %s", m->version,
		           m->name, step_error);
		return DB_ERROR;
	}
	if (db_tx_commit(db, step_error, sizeof(step_error)) != DB_OK) {
		str_format(error, error_size, "database: migration %d (%s) failed to commit: %s",
		           m->version, m->name, step_error);
		return DB_ERROR;
	}
	log_info("db.migrated backend=%s version=%d name=\"%s\"", db->v->name, m->version, m->name);
	return DB_OK;
}

int db_migrate(pp_db_t *db, char *error, size_t error_size)
{
	/* The version table itself, under the same lock as migrations. */
	if (db_migrate_begin(db, error, error_size) != DB_OK)
		return DB_ERROR;
	if (db_exec_script(db, db_schema_version_sql, error, error_size) != DB_OK) {
		db_tx_rollback(db);
		return DB_ERROR;
	}
	if (db_tx_commit(db, error, error_size) != DB_OK)
		return DB_ERROR;

	size_t count;
	const db_migration_t *migrations = db_migrations_list(&count);
	int latest = count > 0 ? migrations[count - 1].version : 0;
	int version;
	if (db_schema_version(db, &version, error, error_size) != DB_OK)
		return DB_ERROR;
	/* A newer schema means an older program: running it could corrupt data. */
	if (version > latest) {
		str_format(error, error_size,
		           "database: schema version %d is newer than this program knows (%d): "
		           "upgrade Pullprint",
		           version, latest);
		return DB_ERROR;
	}
	for (size_t i = 0; i < count; i++) {
		if (migrations[i].version <= version)
			continue;
		if (db_migrate_one(db, &migrations[i], error, error_size) != DB_OK)
			return DB_ERROR;
	}
	return DB_OK;
}
