/*
 * admin-directory.h - admins from the company directory: a member of a directory
 * connection's admin group signs in to the console with directory credentials and acts
 * through a shadow admin account of kind "directory" (migration 11).
 *
 * The shadow account is named "dir:<address>" (the user's canonical address; ':' is a
 * character no local account name may hold, so the two never collide and a local sign-in
 * never matches it). Its stored password hash is not a hash, so it cannot sign in with a
 * local password; only the directory, which checks the password and the group at every
 * sign-in, opens sessions for it. It gives sessions (tokens.admin_id) and the audit log
 * ("admin:dir:<address>") an admin row to name. Part of pp_admin_core (no HTTP).
 */
#ifndef PP_ADMIN_DIRECTORY_H
#define PP_ADMIN_DIRECTORY_H

#include "admin/admin.h"

#include <stdbool.h>
#include <stddef.h>

#define ADMIN_DIRECTORY_PREFIX "dir:"
#define ADMIN_DIRECTORY_TOO_LONG 1 /* the address does not fit an admin name */

/*
 * The shadow account name of email ("dir:" + lower-cased address) into name_r[size].
 * False when it does not fit ADMINS_NAME_MAX or email is empty.
 */
bool admin_directory_name(const char *email, char *name_r, size_t size);

/*
 * Finds or creates the shadow account of the directory user email (role admin when created;
 * a role an admin set since is kept), audited as admin.add by "directory:<directory>" when
 * created. Fills *account_r and *is_created_r (may be NULL). Returns 0,
 * ADMIN_DIRECTORY_TOO_LONG, or -1 with error.
 */
int admin_directory_account(pp_core_t *core, const char *email, const char *directory,
			    pp_admin_account_t *account_r, bool *is_created_r, char *error,
			    size_t error_size);

/*
 * Ends every console session of email's shadow account (one who left the admin group signs
 * in no more, and keeps no session either). *revoked_r (may be NULL) counts them.
 * Returns 0 or -1.
 */
int admin_directory_revoke(pp_core_t *core, const char *email, size_t *revoked_r, char *error,
			   size_t error_size);

#endif
