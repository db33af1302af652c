/*
 * directory-users.c - from a directory entry to a Pullprint user: attribute mapping, group
 * rules, and the user row (created or updated in one statement, keyed by email).
 *
 * A directory user's state follows the print group: enabled when they may print, disabled
 * when not. Texts from the directory are cleaned (no control characters, valid UTF-8, cut
 * to the column at a character boundary) before they reach the database or a log.
 */
#include "directory/directory-private.h"

#include "lib/str.h"

#include <string.h>
#include <strings.h>

void directory_search_attrs(const pp_directory_t *dir, const char *attrs[DIRECTORY_SEARCH_ATTRS])
{
	size_t n = 0;
	const char *wanted[] = {dir->attr_email,      dir->attr_display_name,
	                        dir->attr_department, dir->attr_cost_centre,
	                        "memberOf",           "proxyAddresses"};
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (wanted[i][0] != '\0' && n + 1 < DIRECTORY_SEARCH_ATTRS)
			attrs[n++] = wanted[i];
	attrs[n] = NULL;
}

/* Copies in into out[size] without control characters, cut at a UTF-8 boundary. */
static void directory_clean_text(const char *in, char *out, size_t size)
{
	size_t pos = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0' && pos + 1 < size; p++)
		if (*p >= 0x20 && *p != 0x7f)
			out[pos++] = (char)*p;
	/* Back off a multi-byte character that was cut short. */
	if (pos > 0 && pos + 1 >= size) {
		size_t start = pos;
		while (start > 0 && ((unsigned char)out[start - 1] & 0xc0) == 0x80)
			start--;
		if (start > 0 && ((unsigned char)out[start - 1] & 0x80) != 0)
			pos = start - 1;
	}
	out[pos] = '\0';
	if (!str_is_printable_utf8(out))
		out[0] = '\0';
}

/* The mapped attribute's first value, cleaned into out[size]. */
static void directory_mapped(const pp_directory_entry_t *entry, const char *attr, char *out,
                             size_t size)
{
	char raw[1024];
	out[0] = '\0';
	if (attr[0] != '\0' && directory_entry_value(entry, attr, raw, sizeof(raw)))
		directory_clean_text(raw, out, size);
}

/* AD: the primary address among proxyAddresses ("SMTP:" in capitals) into out. */
static void directory_primary_proxy(const pp_directory_entry_t *entry, char *out, size_t size)
{
	out[0] = '\0';
	struct berval **vals = directory_entry_values(entry, "proxyAddresses");
	for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
		if (vals[i]->bv_len > 5 && vals[i]->bv_len - 5 < size &&
		    memcmp(vals[i]->bv_val, "SMTP:", 5) == 0 &&
		    memchr(vals[i]->bv_val, '\0', vals[i]->bv_len) == NULL) {
			memcpy(out, vals[i]->bv_val + 5, vals[i]->bv_len - 5);
			out[vals[i]->bv_len - 5] = '\0';
			break;
		}
	}
	ldap_value_free_len(vals);
}

bool directory_person_map(const pp_directory_t *dir, const pp_directory_entry_t *entry,
                          pp_directory_person_t *person)
{
	memset(person, 0, sizeof(*person));
	char raw[USERS_EMAIL_MAX * 2], reason[128];
	if (!directory_entry_value(entry, dir->attr_email, raw, sizeof(raw)))
		raw[0] = '\0';
	if (raw[0] == '\0')
		directory_primary_proxy(entry, raw, sizeof(raw));
	if (raw[0] == '\0' || users_canonical_email(raw, person->email, reason, sizeof(reason)) < 0)
		return false;
	if (!str_copy(person->dn, sizeof(person->dn), entry->dn))
		return false;
	directory_mapped(entry, dir->attr_display_name, person->display_name,
	                 sizeof(person->display_name));
	directory_mapped(entry, dir->attr_department, person->department,
	                 sizeof(person->department));
	directory_mapped(entry, dir->attr_cost_centre, person->cost_centre,
	                 sizeof(person->cost_centre));
	person->is_allowed = dir->print_group[0] == '\0';
	person->is_admin = false;
	return true;
}

/* Whether the entry's memberOf lists group (compared as normalized DNs). */
static bool directory_memberof_has(const pp_directory_entry_t *entry, const char *group)
{
	char want[DIRECTORY_DN_MAX], have[DIRECTORY_DN_MAX], dn[DIRECTORY_DN_MAX];
	directory_dn_normalize(group, want, sizeof(want));
	bool is_member = false;
	struct berval **vals = directory_entry_values(entry, "memberOf");
	for (size_t i = 0; vals != NULL && vals[i] != NULL && !is_member; i++) {
		if (vals[i]->bv_len >= sizeof(dn))
			continue;
		memcpy(dn, vals[i]->bv_val, vals[i]->bv_len);
		dn[vals[i]->bv_len] = '\0';
		directory_dn_normalize(dn, have, sizeof(have));
		is_member = strcmp(have, want) == 0;
	}
	ldap_value_free_len(vals);
	return is_member;
}

/*
 * Whether group's entry lists dn as member or uniqueMember: LDAP compare operations, which
 * a server answers from the group's values (sorted with slapd's sortvals) without a search.
 * Returns 0 or -1.
 */
static int directory_group_lists(pp_directory_conn_t *conn, const char *group, const char *dn,
                                 bool *is_member_r, char *error, size_t error_size)
{
	*is_member_r = false;
	struct berval value = {.bv_len = strlen(dn), .bv_val = (char *)dn};
	const char *attrs[] = {"member", "uniqueMember"};
	for (size_t i = 0; i < 2 && !*is_member_r; i++) {
		int rc = ldap_compare_ext_s(conn->ld, group, attrs[i], &value, NULL, NULL);
		if (rc == LDAP_COMPARE_TRUE) {
			*is_member_r = true;
		} else if (rc == LDAP_NO_SUCH_OBJECT) {
			/* A group that does not exist has no members: the rule refuses. */
			return 0;
		} else if (rc != LDAP_COMPARE_FALSE && rc != LDAP_NO_SUCH_ATTRIBUTE &&
		           rc != LDAP_UNDEFINED_TYPE && rc != LDAP_INAPPROPRIATE_MATCHING &&
		           rc != LDAP_INVALID_SYNTAX) {
			str_format(error, error_size,
			           "directory %s: cannot check group '%s': %s — check the group DN and "
			           "the service account's rights",
			           conn->dir->name, group, ldap_err2string(rc));
			return -1;
		}
	}
	return 0;
}

int directory_person_groups(pp_directory_conn_t *conn, const pp_directory_entry_t *entry,
                            pp_directory_person_t *person, char *error, size_t error_size)
{
	const pp_directory_t *dir = conn->dir;
	const char *groups[] = {dir->print_group, dir->admin_group};
	bool *flags[] = {&person->is_allowed, &person->is_admin};
	for (size_t i = 0; i < 2; i++) {
		if (groups[i][0] == '\0')
			continue;
		*flags[i] = directory_memberof_has(entry, groups[i]);
		if (!*flags[i] &&
		    directory_group_lists(conn, groups[i], entry->dn, flags[i], error, error_size) < 0)
			return -1;
	}
	/* An admin may print. */
	if (person->is_admin)
		person->is_allowed = true;
	return 0;
}

int directory_user_upsert(pp_core_t *core, const pp_directory_t *dir,
                          const pp_directory_person_t *person, const char *source, int64_t gen,
                          bool *is_created_r, char *error, size_t error_size)
{
	char db_error[DB_ERROR_MAX];
	pp_db_result_t *res = NULL;
	const pp_db_value_t key[] = {DB_TEXT(person->email)};
	if (is_created_r != NULL) {
		if (db_query(core->db,
		             "SELECT display_name, department, cost_centre, state, directory_id, "
		             "COALESCE(directory_dn, ''), is_directory_admin, "
		             "COALESCE(directory_sync_gen, 0) FROM users WHERE email = $1",
		             key, 1, &res, db_error, sizeof(db_error)) != DB_OK) {
			str_format(error, error_size, "directory %s: cannot read users: %s", dir->name,
			           db_error);
			return -1;
		}
		*is_created_r = db_result_rows(res) == 0;
		/* Unchanged since the last sign-in or import: no write (and no sync to disk). */
		bool is_same =
		    !*is_created_r &&
		    strcmp(db_result_text(res, 0, 0), person->display_name) == 0 &&
		    strcmp(db_result_text(res, 0, 1), person->department) == 0 &&
		    strcmp(db_result_text(res, 0, 2), person->cost_centre) == 0 &&
		    strcmp(db_result_text(res, 0, 3), person->is_allowed ? "enabled" : "disabled") == 0 &&
		    db_result_int(res, 0, 4) == dir->id &&
		    strcmp(db_result_text(res, 0, 5), person->dn) == 0 &&
		    (db_result_int(res, 0, 6) != 0) == person->is_admin &&
		    (gen == 0 || db_result_int(res, 0, 7) == gen);
		db_result_free(&res);
		if (is_same)
			return 0;
	}
	const pp_db_value_t params[] = {
	    DB_TEXT(person->email),
	    DB_TEXT(person->display_name),
	    DB_TEXT(person->department),
	    DB_TEXT(person->cost_centre),
	    DB_TEXT(person->is_allowed ? "enabled" : "disabled"),
	    DB_TEXT(source),
	    DB_INT(core_now(core)),
	    DB_INT(dir->id),
	    DB_TEXT(person->dn),
	    DB_INT(person->is_admin),
	    gen > 0 ? DB_INT(gen) : DB_NULL,
	};
	/* The directory owns what it maps; the row's history (created_at, source) stays. */
	if (db_exec(core->db,
	            "INSERT INTO users (email, display_name, department, cost_centre, state, "
	            "source, created_at, updated_at, directory_id, directory_dn, "
	            "is_directory_admin, directory_sync_gen) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	            "$7, $8, $9, $10, $11) ON CONFLICT (email) DO UPDATE SET "
	            "display_name = excluded.display_name, department = excluded.department, "
	            "cost_centre = excluded.cost_centre, state = excluded.state, "
	            "updated_at = excluded.updated_at, directory_id = excluded.directory_id, "
	            "directory_dn = excluded.directory_dn, "
	            "is_directory_admin = excluded.is_directory_admin, "
	            "directory_sync_gen = COALESCE(excluded.directory_sync_gen, "
	            "users.directory_sync_gen)",
	            params, sizeof(params) / sizeof(params[0]), NULL, db_error,
	            sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "directory %s: cannot store a user: %s", dir->name,
		           db_error);
		return -1;
	}
	return 0;
}
