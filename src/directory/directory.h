/*
 * directory.h - the company directory (OpenLDAP, Active Directory): connections, sign-in
 * with directory credentials, import of users and on-boarding of new mail senders.
 *
 * A directory connection names one or more servers (URIs tried in order: failover), how the
 * channel is protected (ldaps://, or ldap:// with StartTLS; the server certificate is
 * verified against ca_file unless the admin turns verification off), a service account used
 * for searches (its password stored encrypted, never logged), where users live (base DNs and
 * a filter), which attributes hold email, display name, department and cost centre, and
 * which groups may print and administer. Pullprint keys users by email, so a directory
 * entry without a mail address is never a Pullprint user.
 *
 * Every call that reaches a server blocks for at most the connection's timeouts; callers run
 * them off listener threads where they can. Health (last success, last error) is kept per
 * connection for `pullprint directory status` and the admin dashboard.
 */
#ifndef PP_DIRECTORY_H
#define PP_DIRECTORY_H

#include "core/core.h"
#include "core/users.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIRECTORY_NAME_MAX 64      /* 63 characters + NUL: [a-z0-9_-] */
#define DIRECTORY_URIS_MAX 1024    /* space-separated URIs */
#define DIRECTORY_DN_MAX 512       /* one DN */
#define DIRECTORY_BASES_MAX 2048   /* newline-separated base DNs */
#define DIRECTORY_FILTER_MAX 1024  /* an admin's LDAP filter */
#define DIRECTORY_PATH_MAX 1024    /* ca_file */
#define DIRECTORY_ATTRS_MAX 256    /* space-separated attribute names */
#define DIRECTORY_ATTR_MAX 64      /* one attribute name */
#define DIRECTORY_PASSWORD_MAX 256 /* longest password accepted (service or user) */
#define DIRECTORY_ERROR_MAX 512
#define DIRECTORY_LOGIN_MAX 256    /* longest user name or address accepted at sign-in */
#define DIRECTORY_COST_CENTRE_MAX 128
#define DIRECTORY_LIST_MAX 100     /* most connections */

typedef enum { PP_DIRECTORY_LDAP = 0, PP_DIRECTORY_AD } pp_directory_kind_t;

/* One connection, as stored (the service password stays encrypted in the database). */
typedef struct {
	int64_t id;
	char name[DIRECTORY_NAME_MAX];
	pp_directory_kind_t kind;
	char uris[DIRECTORY_URIS_MAX];
	bool is_starttls;
	char ca_file[DIRECTORY_PATH_MAX]; /* "" = the system's CAs (ldap.conf TLS_CACERT) */
	bool is_verify;                   /* verify the server certificate (default true) */
	char bind_dn[DIRECTORY_DN_MAX];   /* "" = anonymous searches */
	bool has_bind_password;
	char base_dns[DIRECTORY_BASES_MAX];
	char user_filter[DIRECTORY_FILTER_MAX];
	char login_attrs[DIRECTORY_ATTRS_MAX]; /* matched against a user name at sign-in */
	char mail_attrs[DIRECTORY_ATTRS_MAX];  /* matched against an address ("proxyAddresses" as smtp:) */
	char attr_email[DIRECTORY_ATTR_MAX];
	char attr_display_name[DIRECTORY_ATTR_MAX];
	char attr_department[DIRECTORY_ATTR_MAX];
	char attr_cost_centre[DIRECTORY_ATTR_MAX];
	char print_group[DIRECTORY_DN_MAX]; /* "" = everyone the filter finds may print */
	char admin_group[DIRECTORY_DN_MAX]; /* "" = nobody is made admin by the directory */
	int network_timeout_ms;
	int op_timeout_ms;
	int64_t sync_interval_s; /* 0 = import on demand only */
	bool is_enabled;
	int64_t last_sync_at;
	char last_sync_result[DIRECTORY_ERROR_MAX];
	int64_t last_ok_at;
	char last_error[DIRECTORY_ERROR_MAX];
	int64_t last_error_at;
} pp_directory_t;

/* What a sign-in or a sender lookup concluded. */
typedef enum {
	PP_DIRECTORY_NONE = 0,    /* no enabled directory connection: the directory has no say */
	PP_DIRECTORY_OK,          /* found, password right (sign-in), allowed to print: user set */
	PP_DIRECTORY_NOT_FOUND,   /* no directory knows the login or address */
	PP_DIRECTORY_DENIED,      /* wrong or empty password, ambiguous login, or not allowed */
	PP_DIRECTORY_UNAVAILABLE, /* a directory that might know could not be asked */
} pp_directory_outcome_t;

typedef struct pp_directory_result {
	pp_directory_outcome_t outcome;
	pp_user_t user;      /* PP_DIRECTORY_OK: the enabled user (created when new) */
	bool is_user_created;
	bool is_admin;       /* PP_DIRECTORY_OK: member of the admin group */
	char cost_centre[DIRECTORY_COST_CENTRE_MAX];
	char directory[DIRECTORY_NAME_MAX]; /* the connection that decided */
	char reason[DIRECTORY_ERROR_MAX];   /* why, for logs and admins: never a secret */
} pp_directory_result_t;

typedef struct {
	size_t seen;              /* entries the searches returned */
	size_t imported;          /* users created or updated */
	size_t created;
	size_t enabled;           /* imported as enabled (print group) */
	size_t disabled_by_group; /* imported as disabled: not in the print group */
	size_t admins;
	size_t skipped;           /* entries without a usable mail address */
	size_t disabled_left;     /* users of this directory the import no longer saw */
	int64_t elapsed_ms;
} pp_directory_import_stats_t;

/* "ldap" / "ad" and back. */
const char *directory_kind_name(pp_directory_kind_t kind);
bool directory_kind_parse(const char *name, pp_directory_kind_t *kind_r);
const char *directory_outcome_name(pp_directory_outcome_t outcome);

/*
 * Fills dir with the defaults of kind: verification on, timeouts 3 s / 5 s, sync hourly, and
 * the attributes usual for the kind (OpenLDAP: uid, mail, displayName, departmentNumber,
 * employeeNumber, inetOrgPerson; AD: sAMAccountName + userPrincipalName, mail +
 * proxyAddresses, displayName, department, employeeNumber, person users not disabled).
 */
void directory_defaults(pp_directory_kind_t kind, pp_directory_t *dir);

/*
 * Parses "email=mail,display_name=cn,department=ou,cost_centre=employeeNumber" (any subset)
 * into dir's attr_* fields. Returns 0 or -1 (error names the bad item).
 */
int directory_mapping_parse(const char *text, pp_directory_t *dir, char *error,
                            size_t error_size);

/*
 * Checks dir (name, URIs, base DNs, filter syntax, attributes, timeouts) and stores it with
 * bind_password (NULL or "" = none) encrypted. Audited. *id_r (may be NULL) gets the id.
 * Returns 0, DB_DUPLICATE (-2) when the name exists, or -1; error says what to fix.
 */
int directory_add(pp_core_t *core, const char *actor, const pp_directory_t *dir,
                  const char *bind_password, int64_t *id_r, char *error, size_t error_size);

/* Removes a connection (its users stay, no longer tied to it). Audited. Returns 0 or -1. */
int directory_remove(pp_core_t *core, const char *actor, const char *name, char *error,
                     size_t error_size);

/* Looks a connection up by name. *found_r says whether it exists. Returns 0 or -1. */
int directory_get(pp_core_t *core, const char *name, pp_directory_t *dir_r, bool *found_r,
                  char *error, size_t error_size);

/*
 * Every connection ordered by id (the order sign-in asks them in). *dirs_r is new (free with
 * directory_list_free()), *count_r entries. Returns 0 or -1.
 */
int directory_list(pp_core_t *core, pp_directory_t **dirs_r, size_t *count_r, char *error,
                   size_t error_size);
void directory_list_free(pp_directory_t **dirs);

/*
 * Whether at least one connection is enabled (sign-in and on-boarding ask the directory only
 * then): *has_r. Returns 0 or -1.
 */
int directory_has_enabled(pp_core_t *core, bool *has_r, char *error, size_t error_size);

/*
 * Connects (failing over across the URIs), protects the channel, binds the service account
 * and reads each base DN: what an admin runs after `directory add`. Records the health.
 * Returns 0, or -1 with error saying what failed and what to check.
 */
int directory_test(pp_core_t *core, const pp_directory_t *dir, char *error, size_t error_size);

/*
 * Signs in with login (a user name, DOMAIN\name, or an address) and password against every
 * enabled connection in order; the first that finds login decides. An empty password is
 * refused before any bind. A user who may print is created or updated (enabled, directory
 * data, source) and returned. Fills *result_r; returns 0, or -1 on a storage error only.
 */
int directory_signin(pp_core_t *core, const char *login, const char *password, const char *source,
                     pp_directory_result_t *result_r, char *error, size_t error_size);

/*
 * On-boarding: looks a canonical address up (mail attributes) without a password. Found and
 * allowed: the user is created or updated, enabled, with directory data (PP_DIRECTORY_OK).
 * Fills *result_r; returns 0, or -1 on a storage error only.
 */
int directory_lookup_sender(pp_core_t *core, const char *email, const char *source,
                            pp_directory_result_t *result_r, char *error, size_t error_size);

/*
 * Imports the users of one connection: every entry under its base DNs matching its filter
 * (paged), mapped, enabled or disabled by the print group, admin by the admin group; users
 * of this connection that the import no longer sees are disabled (unless the searches found
 * nobody at all, which is refused as a likely misconfiguration). Records the result and the
 * health, audits it. Returns 0 or -1 (error says what failed; nothing is disabled then).
 */
int directory_import(pp_core_t *core, const char *actor, const pp_directory_t *dir,
                     pp_directory_import_stats_t *stats_r, char *error, size_t error_size);

/*
 * The scheduled import: imports each enabled connection whose sync_interval_s has passed
 * since its last import. *count_r (may be NULL) gets how many ran. Failures are recorded
 * and logged per connection; returns -1 only when the list cannot be read.
 */
int directory_import_due(pp_core_t *core, const char *actor, size_t *count_r, char *error,
                         size_t error_size);

/*
 * Escapes value[len] for an RFC 4515 filter assertion (* ( ) \ NUL and non-ASCII bytes as
 * \xx) into out[out_size]. Returns false when it does not fit.
 */
bool directory_filter_escape(const char *value, size_t len, char *out, size_t out_size);

/*
 * Lets core's callers reach the directory: sets core->directory_signin,
 * core->directory_sender and core->directory_has_enabled to directory_signin(),
 * directory_lookup_sender() and directory_has_enabled(). runtime_open() calls it; a program
 * that never does (tests of the domain alone) has no directory.
 */
void directory_attach(pp_core_t *core);

#endif
