/*
 * directory-auth.c - signing in with directory credentials, and looking a mail sender up.
 *
 * Both find one entry the same way: each enabled connection in order; the service account
 * searches the base DNs with the connection's filter AND the login (escaped) over the login
 * attributes (a user name) or the mail attributes (an address); exactly one entry must match.
 * Sign-in then binds as that entry's DN with the password on the same connection: the
 * directory, not Pullprint, checks the password, and an empty one is refused before the bind
 * (servers take a DN with no password as an anonymous "success"). The first connection that
 * finds the login decides; one that cannot be reached is recorded and skipped, so a second
 * server of the same company still answers.
 */
#include "directory/directory-private.h"

#include "core/audit.h"
#include "lib/log.h"
#include "lib/str.h"

#include <sodium.h>
#include <string.h>

typedef struct {
	pp_directory_conn_t *conn;
	size_t count;
	bool is_mapped;
	pp_directory_person_t person;
} directory_find_t;

/* Search callback: maps the first entry and decides its groups while it is at hand. */
static int directory_find_entry(const pp_directory_entry_t *entry, void *arg, char *error,
                                size_t error_size)
{
	directory_find_t *f = arg;
	if (++f->count > 1)
		return 0;
	f->is_mapped = directory_person_map(f->conn->dir, entry, &f->person);
	if (f->is_mapped && directory_person_groups(f->conn, entry, &f->person, error, error_size) < 0)
		return -1;
	return 0;
}

/* Sets result's outcome and reason. */
static void directory_result_set(pp_directory_result_t *result, const pp_directory_t *dir,
                                 pp_directory_outcome_t outcome, const char *reason)
{
	result->outcome = outcome;
	(void)str_copy(result->directory, sizeof(result->directory), dir->name);
	if (!str_copy(result->reason, sizeof(result->reason), reason))
		(void)str_copy(result->reason, sizeof(result->reason), "(reason too long)");
}

/* Creates or updates the found person's user and fills result (OK). Returns 0 or -1. */
static int directory_find_accept(pp_core_t *core, const pp_directory_t *dir,
                                 const pp_directory_person_t *person, const char *source,
                                 pp_directory_result_t *result, char *error, size_t error_size)
{
	bool is_created = false, is_found = false;
	if (directory_user_upsert(core, dir, person, source, 0, &is_created, error, error_size) < 0 ||
	    users_get_by_email(core, person->email, &result->user, &is_found, error, error_size) < 0)
		return -1;
	if (!is_found) {
		str_format(error, error_size, "directory %s: the user vanished while signing in",
		           dir->name);
		return -1;
	}
	char actor[DIRECTORY_NAME_MAX + 16];
	(void)str_format(actor, sizeof(actor), "directory:%s", dir->name);
	if (is_created &&
	    audit_record(core, actor, "user.add", person->email, "state=enabled source=directory",
	                 error, error_size) < 0)
		return -1;
	result->is_user_created = is_created;
	result->is_admin = person->is_admin;
	(void)str_copy(result->cost_centre, sizeof(result->cost_centre), person->cost_centre);
	directory_result_set(result, dir, PP_DIRECTORY_OK,
	                     is_created ? "found: user created" : "found");
	return 0;
}

/*
 * Asks one connection about login. password NULL = a lookup (no bind). Fills result;
 * returns -1 only on a storage error.
 */
static int directory_find_one(pp_core_t *core, const pp_directory_t *dir, const char *login,
                              bool is_address, const char *password, const char *source,
                              pp_directory_result_t *result, char *error, size_t error_size)
{
	char reason[DIRECTORY_ERROR_MAX];
	char filter[DIRECTORY_FILTER_BUILD_MAX];
	if (!directory_filter_login(dir, login, is_address, filter, sizeof(filter))) {
		directory_result_set(result, dir, PP_DIRECTORY_NOT_FOUND, "login too long");
		return 0;
	}
	char service[DIRECTORY_PASSWORD_MAX];
	if (directory_password_get(core, dir, service, reason, sizeof(reason)) < 0) {
		directory_health_error(core, dir, reason);
		directory_result_set(result, dir, PP_DIRECTORY_UNAVAILABLE, reason);
		return 0;
	}
	directory_find_t f = {0};
	int rc = directory_conn_open(dir, service, &f.conn, reason, sizeof(reason));
	sodium_memzero(service, sizeof(service));
	if (rc < 0) {
		directory_health_error(core, dir, reason);
		directory_result_set(result, dir, PP_DIRECTORY_UNAVAILABLE, reason);
		return 0;
	}
	const char *attrs[DIRECTORY_SEARCH_ATTRS];
	directory_search_attrs(dir, attrs);
	char bases[DIRECTORY_BASES_MAX];
	(void)str_copy(bases, sizeof(bases), dir->base_dns);
	/* Two entries are enough to know a login is ambiguous. */
	for (char *line = bases, *next; line != NULL && rc == 0; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		size_t seen = 0;
		if (line[0] != '\0')
			rc = directory_conn_search(f.conn, line, LDAP_SCOPE_SUBTREE, filter,
			                           (char **)attrs, false, 2, directory_find_entry, NULL,
			                           &f, &seen, reason, sizeof(reason));
	}
	int result_rc = 0;
	if (rc < 0) {
		directory_health_error(core, dir, reason);
		directory_result_set(result, dir, PP_DIRECTORY_UNAVAILABLE, reason);
		goto done;
	}
	directory_health_ok(core, dir);
	if (f.count == 0) {
		directory_result_set(result, dir, PP_DIRECTORY_NOT_FOUND, "no such user");
		goto done;
	}
	if (f.count > 1) {
		directory_result_set(result, dir, PP_DIRECTORY_DENIED,
		                     "ambiguous: several entries match; make the login attributes "
		                     "unique");
		goto done;
	}
	if (!f.is_mapped) {
		directory_result_set(result, dir, PP_DIRECTORY_DENIED,
		                     "the entry has no usable mail address (Pullprint keys users by "
		                     "address)");
		goto done;
	}
	if (password != NULL) {
		bool is_valid = false;
		if (directory_conn_bind_user(f.conn, f.person.dn, password, &is_valid, reason,
		                             sizeof(reason)) < 0) {
			directory_health_error(core, dir, reason);
			directory_result_set(result, dir, PP_DIRECTORY_UNAVAILABLE, reason);
			goto done;
		}
		if (!is_valid) {
			directory_result_set(result, dir, PP_DIRECTORY_DENIED, "wrong password");
			goto done;
		}
	}
	if (!f.person.is_allowed) {
		directory_result_set(result, dir, PP_DIRECTORY_DENIED,
		                     "not a member of the print group");
		goto done;
	}
	result_rc = directory_find_accept(core, dir, &f.person, source, result, error, error_size);
done:
	directory_conn_close(&f.conn);
	return result_rc;
}

/* Asks every enabled connection in turn; see directory_signin(). */
static int directory_find(pp_core_t *core, const char *login, const char *password,
                          const char *source, pp_directory_result_t *result, char *error,
                          size_t error_size)
{
	memset(result, 0, sizeof(*result));
	result->outcome = PP_DIRECTORY_NONE;
	pp_directory_t *dirs = NULL;
	size_t count = 0;
	if (directory_list(core, &dirs, &count, error, error_size) < 0)
		return -1;
	char down[DIRECTORY_ERROR_MAX] = "", down_name[DIRECTORY_NAME_MAX] = "";
	bool has_enabled = false;
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		if (!dirs[i].is_enabled)
			continue;
		has_enabled = true;
		if (password != NULL && password[0] == '\0') {
			directory_result_set(result, &dirs[i], PP_DIRECTORY_DENIED, "empty password");
			goto done;
		}
		/* AD accepts DOMAIN\name; the domain part is the connection's business. */
		const char *name = login;
		const char *slash = strchr(login, '\\');
		if (dirs[i].kind == PP_DIRECTORY_AD && slash != NULL)
			name = slash + 1;
		bool is_address = strchr(name, '@') != NULL;
		pp_directory_result_t one;
		memset(&one, 0, sizeof(one));
		rc = directory_find_one(core, &dirs[i], name, is_address, password, source, &one,
		                        error, error_size);
		if (rc < 0)
			goto done;
		if (one.outcome == PP_DIRECTORY_UNAVAILABLE) {
			(void)str_copy(down, sizeof(down), one.reason);
			(void)str_copy(down_name, sizeof(down_name), one.directory);
			continue;
		}
		if (one.outcome == PP_DIRECTORY_NOT_FOUND)
			continue;
		*result = one;
		goto done;
	}
	if (!has_enabled) {
		result->outcome = PP_DIRECTORY_NONE;
	} else if (down[0] != '\0') {
		/* Nobody found the login and somebody could not be asked: say so, not "no". */
		result->outcome = PP_DIRECTORY_UNAVAILABLE;
		(void)str_copy(result->directory, sizeof(result->directory), down_name);
		(void)str_copy(result->reason, sizeof(result->reason), down);
	} else {
		result->outcome = PP_DIRECTORY_NOT_FOUND;
		(void)str_copy(result->reason, sizeof(result->reason), "no such user");
	}
done:
	directory_list_free(&dirs);
	return rc;
}

/* Logs a decision with a pseudonymous tag of the login, never the login or a password. */
static void directory_log_result(pp_core_t *core, const char *event, const char *login,
                                 const char *source, const pp_directory_result_t *result)
{
	if (result->outcome == PP_DIRECTORY_NONE)
		return;
	char tag[USERS_LOG_TAG_LEN + 1];
	users_log_tag(core, result->outcome == PP_DIRECTORY_OK ? result->user.email : login, tag);
	/* The failure itself was logged once, as an error, where it happened. */
	pp_log(PP_LOG_INFO,
	       "%s directory=%s user=%s source=%s outcome=%s reason=\"%s\" created=%s", event,
	       result->directory[0] != '\0' ? result->directory : "-", tag, source,
	       directory_outcome_name(result->outcome), result->reason,
	       result->is_user_created ? "yes" : "no");
}

int directory_signin(pp_core_t *core, const char *login, const char *password, const char *source,
                     pp_directory_result_t *result_r, char *error, size_t error_size)
{
	if (source == NULL || source[0] == '\0')
		source = "directory";
	memset(result_r, 0, sizeof(*result_r));
	if (login == NULL || login[0] == '\0' || strlen(login) >= DIRECTORY_LOGIN_MAX ||
	    password == NULL || strlen(password) >= DIRECTORY_PASSWORD_MAX) {
		/* Still NONE without a directory, so other sign-in methods answer alone. */
		bool has_enabled = false;
		if (directory_has_enabled(core, &has_enabled, error, error_size) < 0)
			return -1;
		result_r->outcome = has_enabled ? PP_DIRECTORY_DENIED : PP_DIRECTORY_NONE;
		(void)str_copy(result_r->reason, sizeof(result_r->reason),
		               "user name or password missing or too long");
		return 0;
	}
	if (directory_find(core, login, password, source, result_r, error, error_size) < 0)
		return -1;
	directory_log_result(core, "directory.signin", login, source, result_r);
	return 0;
}

int directory_lookup_sender(pp_core_t *core, const char *email, const char *source,
                            pp_directory_result_t *result_r, char *error, size_t error_size)
{
	if (source == NULL || source[0] == '\0')
		source = "mail";
	if (email == NULL || strchr(email, '@') == NULL || strlen(email) >= DIRECTORY_LOGIN_MAX) {
		memset(result_r, 0, sizeof(*result_r));
		result_r->outcome = PP_DIRECTORY_NOT_FOUND;
		return 0;
	}
	if (directory_find(core, email, NULL, source, result_r, error, error_size) < 0)
		return -1;
	directory_log_result(core, "directory.sender_lookup", email, source, result_r);
	return 0;
}

void directory_attach(pp_core_t *core)
{
	core->directory_signin = directory_signin;
	core->directory_sender = directory_lookup_sender;
	core->directory_has_enabled = directory_has_enabled;
}
