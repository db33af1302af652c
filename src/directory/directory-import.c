/*
 * directory-import.c - importing a connection's users, scheduled or on demand.
 *
 * One paged search per base DN (500 entries a page, one database transaction a page, so a
 * large directory neither holds a long lock nor loses everything to one failure). The group
 * rules read each group's member list once (member and uniqueMember values, kept sorted) and
 * also accept an entry's memberOf (AD, or OpenLDAP's memberof overlay). Every user written
 * carries this import's generation; once every base has been read to the end, users of the
 * connection with an older generation have left and are disabled. An import that fails part
 * way, or finds nobody at all, disables nobody.
 */
#include "directory/directory-private.h"

#include "core/audit.h"
#include "lib/log.h"
#include "lib/str.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIRECTORY_GROUP_MEMBERS_MAX 1000000

typedef struct {
	char **dns; /* normalized, sorted */
	size_t count;
	size_t cap;
} directory_members_t;

typedef struct {
	pp_core_t *core;
	const pp_directory_t *dir;
	int64_t gen;
	bool is_in_tx;
	directory_members_t print, admin;
	pp_directory_import_stats_t *stats;
} directory_import_t;

static int64_t directory_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void directory_members_free(directory_members_t *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->dns[i]);
	free(m->dns);
	memset(m, 0, sizeof(*m));
}

static int directory_members_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool directory_members_has(const directory_members_t *m, const char *dn)
{
	char norm[DIRECTORY_DN_MAX];
	directory_dn_normalize(dn, norm, sizeof(norm));
	const char *key = norm;
	return m->count > 0 &&
	       bsearch(&key, m->dns, m->count, sizeof(m->dns[0]), directory_members_cmp) != NULL;
}

/* Search callback for a group entry: collects member and uniqueMember values. */
static int directory_members_entry(const pp_directory_entry_t *entry, void *arg, char *error,
                                   size_t error_size)
{
	directory_members_t *m = arg;
	const char *attrs[] = {"member", "uniqueMember"};
	for (size_t a = 0; a < 2; a++) {
		struct berval **vals = directory_entry_values(entry, attrs[a]);
		for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
			if (vals[i]->bv_len >= DIRECTORY_DN_MAX)
				continue;
			if (m->count == m->cap) {
				size_t cap = m->cap == 0 ? 256 : m->cap * 2;
				char **grown = cap <= DIRECTORY_GROUP_MEMBERS_MAX
				                   ? realloc(m->dns, cap * sizeof(*grown))
				                   : NULL;
				if (grown == NULL) {
					ldap_value_free_len(vals);
					str_format(error, error_size,
					           "directory: group too large or out of memory");
					return -1;
				}
				m->dns = grown;
				m->cap = cap;
			}
			char dn[DIRECTORY_DN_MAX], norm[DIRECTORY_DN_MAX];
			memcpy(dn, vals[i]->bv_val, vals[i]->bv_len);
			dn[vals[i]->bv_len] = '\0';
			directory_dn_normalize(dn, norm, sizeof(norm));
			m->dns[m->count] = strdup(norm);
			if (m->dns[m->count] == NULL) {
				ldap_value_free_len(vals);
				str_format(error, error_size, "directory: out of memory");
				return -1;
			}
			m->count++;
		}
		ldap_value_free_len(vals);
	}
	return 0;
}

/* Reads group's member list into m. A group that does not exist is an error. */
static int directory_members_load(pp_directory_conn_t *conn, const char *group,
                                  directory_members_t *m, char *error, size_t error_size)
{
	if (group[0] == '\0')
		return 0;
	char *attrs[] = {"member", "uniqueMember", NULL};
	size_t count = 0;
	if (directory_conn_search(conn, group, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, false, 1,
	                          directory_members_entry, NULL, m, &count, error, error_size) < 0)
		return -1;
	if (count != 1) {
		str_format(error, error_size,
		           "directory %s: group '%s' not found — check --print-group/--admin-group",
		           conn->dir->name, group);
		return -1;
	}
	qsort(m->dns, m->count, sizeof(m->dns[0]), directory_members_cmp);
	return 0;
}

/* Search callback: one user entry into the database. */
static int directory_import_entry(const pp_directory_entry_t *entry, void *arg, char *error,
                                  size_t error_size)
{
	directory_import_t *imp = arg;
	const pp_directory_t *dir = imp->dir;
	imp->stats->seen++;
	pp_directory_person_t person;
	if (!directory_person_map(dir, entry, &person)) {
		imp->stats->skipped++;
		return 0;
	}
	if (dir->print_group[0] != '\0')
		person.is_allowed = directory_members_has(&imp->print, entry->dn);
	if (dir->admin_group[0] != '\0')
		person.is_admin = directory_members_has(&imp->admin, entry->dn);
	/* memberOf, where the server keeps it, counts as much as the group's own list. */
	struct berval **of = directory_entry_values(entry, "memberOf");
	for (size_t i = 0; of != NULL && of[i] != NULL; i++) {
		char dn[DIRECTORY_DN_MAX], norm[DIRECTORY_DN_MAX], want[DIRECTORY_DN_MAX];
		if (of[i]->bv_len >= sizeof(dn))
			continue;
		memcpy(dn, of[i]->bv_val, of[i]->bv_len);
		dn[of[i]->bv_len] = '\0';
		directory_dn_normalize(dn, norm, sizeof(norm));
		directory_dn_normalize(dir->print_group, want, sizeof(want));
		if (dir->print_group[0] != '\0' && strcmp(norm, want) == 0)
			person.is_allowed = true;
		directory_dn_normalize(dir->admin_group, want, sizeof(want));
		if (dir->admin_group[0] != '\0' && strcmp(norm, want) == 0)
			person.is_admin = true;
	}
	ldap_value_free_len(of);
	if (person.is_admin)
		person.is_allowed = true;

	char db_error[DB_ERROR_MAX];
	if (!imp->is_in_tx) {
		if (db_tx_begin(imp->core->db, db_error, sizeof(db_error)) != DB_OK) {
			str_format(error, error_size, "directory %s: cannot write users: %s", dir->name,
			           db_error);
			return -1;
		}
		imp->is_in_tx = true;
	}
	bool is_created = false;
	if (directory_user_upsert(imp->core, dir, &person, "directory", imp->gen, &is_created,
	                          error, error_size) < 0)
		return -1;
	imp->stats->imported++;
	imp->stats->created += is_created ? 1 : 0;
	imp->stats->enabled += person.is_allowed ? 1 : 0;
	imp->stats->disabled_by_group += person.is_allowed ? 0 : 1;
	imp->stats->admins += person.is_admin ? 1 : 0;
	return 0;
}

/* Page callback: commits the page's users. */
static int directory_import_page(void *arg, char *error, size_t error_size)
{
	directory_import_t *imp = arg;
	if (!imp->is_in_tx)
		return 0;
	imp->is_in_tx = false;
	char db_error[DB_ERROR_MAX];
	if (db_tx_commit(imp->core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot write users: %s", imp->dir->name,
		           db_error);
		return -1;
	}
	return 0;
}

/* The generation this import writes: one past the connection's newest. Returns 0 or -1. */
static int directory_import_gen(pp_core_t *core, const pp_directory_t *dir, int64_t *gen_r,
                                int64_t *known_r, char *error, size_t error_size)
{
	const pp_db_value_t params[] = {DB_INT(dir->id)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
	             "SELECT COALESCE(MAX(directory_sync_gen), 0) + 1, COUNT(*) FROM users "
	             "WHERE directory_id = $1",
	             params, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot read users: %s", dir->name,
		           db_error);
		return -1;
	}
	*gen_r = db_result_int(res, 0, 0);
	*known_r = db_result_int(res, 0, 1);
	db_result_free(&res);
	return 0;
}

/* Disables the connection's users that this import did not see. Returns 0 or -1. */
static int directory_import_leavers(directory_import_t *imp, char *error, size_t error_size)
{
	const pp_db_value_t params[] = {DB_INT(core_now(imp->core)), DB_INT(imp->dir->id),
	                                DB_INT(imp->gen)};
	int64_t changes = 0;
	char db_error[DB_ERROR_MAX];
	if (db_exec(imp->core->db,
	            "UPDATE users SET state = 'disabled', updated_at = $1 WHERE directory_id = $2 "
	            "AND (directory_sync_gen IS NULL OR directory_sync_gen < $3) "
	            "AND state <> 'disabled'",
	            params, 3, &changes, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot disable leavers: %s",
		           imp->dir->name, db_error);
		return -1;
	}
	imp->stats->disabled_left = (size_t)changes;
	return 0;
}

/* Runs the searches of one import over conn. Returns 0 or -1. */
static int directory_import_run(directory_import_t *imp, pp_directory_conn_t *conn,
                                int64_t known, char *error, size_t error_size)
{
	const pp_directory_t *dir = imp->dir;
	if (directory_members_load(conn, dir->print_group, &imp->print, error, error_size) < 0 ||
	    directory_members_load(conn, dir->admin_group, &imp->admin, error, error_size) < 0)
		return -1;
	const char *attrs[DIRECTORY_SEARCH_ATTRS];
	directory_search_attrs(dir, attrs);
	char bases[DIRECTORY_BASES_MAX];
	(void)str_copy(bases, sizeof(bases), dir->base_dns);
	const char *filter = dir->user_filter[0] != '\0' ? dir->user_filter : "(objectClass=*)";
	for (char *line = bases, *next; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '\0')
			continue;
		if (directory_conn_search(conn, line, LDAP_SCOPE_SUBTREE, filter, (char **)attrs,
		                          true, 0, directory_import_entry, directory_import_page,
		                          imp, NULL, error, error_size) < 0)
			return -1;
	}
	if (imp->stats->imported == 0 && known > 0) {
		str_format(error, error_size,
		           "directory %s: the import found nobody, but %lld users came from this "
		           "directory; nobody was disabled — check the base DNs, the filter and the "
		           "service account's rights",
		           dir->name, (long long)known);
		return -1;
	}
	return directory_import_leavers(imp, error, error_size);
}

int directory_import(pp_core_t *core, const char *actor, const pp_directory_t *dir,
                     pp_directory_import_stats_t *stats_r, char *error, size_t error_size)
{
	memset(stats_r, 0, sizeof(*stats_r));
	int64_t start = directory_now_ms();
	directory_import_t imp = {.core = core, .dir = dir, .stats = stats_r};
	int64_t known = 0;
	if (directory_import_gen(core, dir, &imp.gen, &known, error, error_size) < 0)
		return -1;
	char service[DIRECTORY_PASSWORD_MAX];
	if (directory_password_get(core, dir, service, error, error_size) < 0)
		return -1;
	pp_directory_conn_t *conn = NULL;
	int rc = directory_conn_open(dir, service, &conn, error, error_size);
	sodium_memzero(service, sizeof(service));
	if (rc == 0)
		rc = directory_import_run(&imp, conn, known, error, error_size);
	if (imp.is_in_tx)
		db_tx_rollback(core->db);
	directory_conn_close(&conn);
	directory_members_free(&imp.print);
	directory_members_free(&imp.admin);
	stats_r->elapsed_ms = directory_now_ms() - start;

	char summary[DIRECTORY_ERROR_MAX];
	if (rc < 0) {
		directory_health_error(core, dir, error);
		if (!str_format(summary, sizeof(summary), "failed: %s", error))
			(void)str_copy(summary, sizeof(summary), "failed");
		directory_sync_record(core, dir, summary);
		return -1;
	}
	directory_health_ok(core, dir);
	if (!str_format(summary, sizeof(summary),
	                "imported %zu (created %zu, enabled %zu, disabled by group %zu, admins "
	                "%zu), skipped %zu without mail, disabled %zu who left, %lld ms",
	                stats_r->imported, stats_r->created, stats_r->enabled,
	                stats_r->disabled_by_group, stats_r->admins, stats_r->skipped,
	                stats_r->disabled_left, (long long)stats_r->elapsed_ms))
		(void)str_copy(summary, sizeof(summary), "imported");
	directory_sync_record(core, dir, summary);
	char audit_error[256];
	if (audit_record(core, actor, "directory.import", dir->name, summary, audit_error,
	                 sizeof(audit_error)) < 0)
		log_warn("directory.audit_failed directory=%s error=\"%s\"", dir->name, audit_error);
	log_info("directory.imported directory=%s seen=%zu imported=%zu created=%zu enabled=%zu "
	         "disabled_by_group=%zu admins=%zu skipped=%zu disabled_left=%zu elapsed_ms=%lld",
	         dir->name, stats_r->seen, stats_r->imported, stats_r->created, stats_r->enabled,
	         stats_r->disabled_by_group, stats_r->admins, stats_r->skipped,
	         stats_r->disabled_left, (long long)stats_r->elapsed_ms);
	return 0;
}

int directory_import_due(pp_core_t *core, const char *actor, size_t *count_r, char *error,
                         size_t error_size)
{
	if (count_r != NULL)
		*count_r = 0;
	pp_directory_t *dirs = NULL;
	size_t count = 0;
	if (directory_list(core, &dirs, &count, error, error_size) < 0)
		return -1;
	int64_t now = core_now(core);
	for (size_t i = 0; i < count; i++) {
		const pp_directory_t *dir = &dirs[i];
		if (!dir->is_enabled || dir->sync_interval_s <= 0 ||
		    (dir->last_sync_at != 0 && now - dir->last_sync_at < dir->sync_interval_s))
			continue;
		pp_directory_import_stats_t stats;
		char one_error[DIRECTORY_ERROR_MAX];
		/* Each failure is recorded and logged by the import; the next connection goes on. */
		(void)directory_import(core, actor, dir, &stats, one_error, sizeof(one_error));
		if (count_r != NULL)
			(*count_r)++;
	}
	directory_list_free(&dirs);
	return 0;
}
