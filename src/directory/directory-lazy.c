/*
 * directory-lazy.c - pullprintd's stand-ins for the directory functions the rest of the
 * server calls, which load pullprint-directory.so (libldap) only when a directory is
 * configured (see directory-module.h, lib/module-load.h).
 *
 * pullprintd links this file instead of the directory library. directory_attach() hooks
 * sign-in and the sender check to functions that first ask the database whether any
 * directory is enabled (one indexed query, as the real ones do first): without one they
 * answer "no directory" (PP_DIRECTORY_NONE) without loading anything. The sweeper's
 * import and the dashboard's list do the same. The module's own code never calls these:
 * its version script binds its calls to its own functions.
 */
#include "directory/directory-module.h"

#include "lib/log.h"
#include "lib/str.h"

#include <stdlib.h>
#include <string.h>

/*
 * The process's one slot for the module: dlopen() is process-wide by nature, like the
 * libpq table in db/db-pq.c.
 */
static pp_module_slot_t directory_slot =
    MODULE_SLOT_INIT(DIRECTORY_MODULE_FILE, DIRECTORY_MODULE_NAME,
		     "OpenLDAP's libldap (apt-get install libldap-2.5-0)", DIRECTORY_MODULE_ABI);

/* The module's entry points, loading it on the first call; NULL with error when missing. */
static const pp_directory_module_t *directory_lazy_module(char *error, size_t error_size)
{
	return module_get(&directory_slot, error, error_size);
}

/* Whether a directory row exists (only_enabled: an enabled one). Returns 0 or -1. */
static int directory_lazy_exists(pp_core_t *core, bool only_enabled, bool *has_r, char *error,
				 size_t error_size)
{
	*has_r = false;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
		     only_enabled ? "SELECT 1 FROM directories WHERE enabled = 1 LIMIT 1"
				  : "SELECT 1 FROM directories LIMIT 1",
		     NULL, 0, &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "directories: cannot read: %s", db_error);
		return -1;
	}
	*has_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

/* core->directory_has_enabled: the same question as the real one, without the module. */
static int directory_lazy_has_enabled(pp_core_t *core, bool *has_r, char *error,
				      size_t error_size)
{
	return directory_lazy_exists(core, true, has_r, error, error_size);
}

/* core->directory_signin: "no directory" at once, else the module's directory_signin(). */
static int directory_lazy_signin(pp_core_t *core, const char *login, const char *password,
				 const char *source, pp_directory_result_t *result_r, char *error,
				 size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	bool has_enabled = false;
	if (directory_lazy_exists(core, true, &has_enabled, error, error_size) < 0)
		return -1;
	if (!has_enabled) {
		result_r->outcome = PP_DIRECTORY_NONE;
		return 0;
	}
	const pp_directory_module_t *m = directory_lazy_module(error, error_size);
	return m != NULL ? m->signin(core, login, password, source, result_r, error, error_size)
			 : -1;
}

/* core->directory_sender: as directory_lookup_sender() without a directory, else the module. */
static int directory_lazy_sender(pp_core_t *core, const char *email, const char *source,
				 pp_directory_result_t *result_r, char *error, size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	bool has_enabled = false;
	if (directory_lazy_exists(core, true, &has_enabled, error, error_size) < 0)
		return -1;
	if (!has_enabled) {
		/* What the real lookup answers: not an address, or nobody to ask. */
		result_r->outcome = email == NULL || strchr(email, '@') == NULL ||
					    strlen(email) >= DIRECTORY_LOGIN_MAX
					? PP_DIRECTORY_NOT_FOUND
					: PP_DIRECTORY_NONE;
		return 0;
	}
	const pp_directory_module_t *m = directory_lazy_module(error, error_size);
	return m != NULL ? m->lookup_sender(core, email, source, result_r, error, error_size) : -1;
}

void directory_attach(pp_core_t *core)
{
	core->directory_signin = directory_lazy_signin;
	core->directory_sender = directory_lazy_sender;
	core->directory_has_enabled = directory_lazy_has_enabled;
}

int directory_import_due(pp_core_t *core, const char *actor, size_t *count_r, char *error,
			 size_t error_size)
{
	if (count_r != NULL)
		*count_r = 0;
	/* The sweeper asks at every pass: only an enabled directory has imports due. */
	bool has_enabled = false;
	if (directory_lazy_exists(core, true, &has_enabled, error, error_size) < 0)
		return -1;
	if (!has_enabled)
		return 0;
	const pp_directory_module_t *m = directory_lazy_module(error, error_size);
	return m != NULL ? m->import_due(core, actor, count_r, error, error_size) : -1;
}

int directory_list(pp_core_t *core, pp_directory_t **dirs_r, size_t *count_r, char *error,
		   size_t error_size)
{
	*dirs_r = NULL;
	*count_r = 0;
	/* The dashboard lists directories on every visit: none configured, no module. */
	bool has_any = false;
	if (directory_lazy_exists(core, false, &has_any, error, error_size) < 0)
		return -1;
	if (!has_any)
		return 0;
	const pp_directory_module_t *m = directory_lazy_module(error, error_size);
	return m != NULL ? m->list(core, dirs_r, count_r, error, error_size) : -1;
}

void directory_list_free(pp_directory_t **dirs)
{
	if (dirs == NULL || *dirs == NULL)
		return;
	/* A list exists only when the module made it, so the module is loaded. */
	char error[MODULE_ERROR_MAX];
	const pp_directory_module_t *m = directory_lazy_module(error, sizeof(error));
	if (m != NULL) {
		m->list_free(dirs);
		return;
	}
	free(*dirs);
	*dirs = NULL;
}
