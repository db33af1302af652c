/*
 * directory-private.h - shared inside src/directory only: the libldap connection, entries
 * of a search, the service password, health records and the user upsert.
 */
#ifndef PP_DIRECTORY_PRIVATE_H
#define PP_DIRECTORY_PRIVATE_H

#include "directory/directory.h"

#include <ldap.h>

#define DIRECTORY_PAGE_SIZE 500 /* entries per paged-results page (AD's MaxPageSize is 1000) */
#define DIRECTORY_FILTER_BUILD_MAX 4096

/* An open, protected, service-bound connection. */
typedef struct pp_directory_conn {
	LDAP *ld;
	const pp_directory_t *dir; /* borrowed */
	char uri[DIRECTORY_URIS_MAX]; /* the server that answered */
} pp_directory_conn_t;

/* One entry of a search, handed to a callback; valid during the call. */
typedef struct {
	LDAP *ld;
	LDAPMessage *msg;
	const char *dn;
} pp_directory_entry_t;

/* Called per entry; returns 0 to go on, -1 to stop the search (error filled). */
typedef int directory_entry_fn(const pp_directory_entry_t *entry, void *arg, char *error,
                               size_t error_size);

/* Called after each page (e.g. to commit a batch); returns 0 or -1. May be NULL. */
typedef int directory_page_fn(void *arg, char *error, size_t error_size);

/* ---- directory-config.c ---- */

/*
 * Decrypts dir's service password into out[DIRECTORY_PASSWORD_MAX] ("" when none). The
 * caller wipes out. Returns 0 or -1 (a changed master key, or a damaged row).
 */
int directory_password_get(pp_core_t *core, const pp_directory_t *dir,
                           char out[DIRECTORY_PASSWORD_MAX], char *error, size_t error_size);

/* Records a success (clears the error) or a failure for the dashboard; logs a failure. */
void directory_health_ok(pp_core_t *core, const pp_directory_t *dir);
void directory_health_error(pp_core_t *core, const pp_directory_t *dir, const char *message);

/* Records an import's one-line result. */
void directory_sync_record(pp_core_t *core, const pp_directory_t *dir, const char *result);

/* ---- directory-conn.c ---- */

/*
 * Opens a connection for dir: URIs in order, StartTLS when asked, certificate checks,
 * timeouts, then a simple bind as the service account (anonymous when none). On failure
 * error says what and what to check; *conn_r stays NULL. New; close with directory_conn_close().
 */
int directory_conn_open(const pp_directory_t *dir, const char *bind_password,
                        pp_directory_conn_t **conn_r, char *error, size_t error_size);
void directory_conn_close(pp_directory_conn_t **conn);

/*
 * Binds as dn with password. *is_valid_r false for wrong credentials (and for an empty
 * password, refused without asking). Returns 0, or -1 when the server could not answer.
 */
int directory_conn_bind_user(pp_directory_conn_t *conn, const char *dn, const char *password,
                             bool *is_valid_r, char *error, size_t error_size);

/*
 * Searches base (subtree) with filter for attrs (NULL-terminated), in pages when paged,
 * calling on_entry for each entry and on_page after each page; at most size_limit entries
 * (0 = no limit). *count_r (may be NULL) gets the entries seen. Returns 0 or -1.
 */
int directory_conn_search(pp_directory_conn_t *conn, const char *base, int scope,
                          const char *filter, char **attrs, bool is_paged, int size_limit,
                          directory_entry_fn *on_entry, directory_page_fn *on_page, void *arg,
                          size_t *count_r, char *error, size_t error_size);

/* The first value of attr in entry into out[out_size] ("" when absent). False when cut. */
bool directory_entry_value(const pp_directory_entry_t *entry, const char *attr, char *out,
                           size_t out_size);

/* The values of attr (new; free with ldap_value_free_len()), or NULL when absent. */
struct berval **directory_entry_values(const pp_directory_entry_t *entry, const char *attr);

/* Whether a libldap result code means the server could not be reached or answer. */
bool directory_conn_is_down(int rc);

/* ---- directory-filter.c ---- */

/*
 * The filter that finds login: (&USER_FILTER(|(a=v)(b=v)...)) over the login attributes for
 * a user name, or the mail attributes for an address (also tried as a UPN), every value
 * escaped. Returns false when it does not fit.
 */
bool directory_filter_login(const pp_directory_t *dir, const char *login, bool is_address,
                            char *out, size_t out_size);

/* A DN canonical enough to compare member lists: lower-case, no spaces around , = +. */
void directory_dn_normalize(const char *dn, char *out, size_t out_size);

/* Splits a space-separated list into words; calls fn for each. */
typedef bool directory_word_fn(const char *word, size_t len, void *arg);
bool directory_words(const char *list, directory_word_fn *fn, void *arg);

/* ---- directory-users.c ---- */

/* What one entry maps to. */
typedef struct {
	char email[USERS_EMAIL_MAX];
	char display_name[USERS_DISPLAY_NAME_MAX];
	char department[USERS_DEPARTMENT_MAX];
	char cost_centre[DIRECTORY_COST_CENTRE_MAX];
	char dn[DIRECTORY_DN_MAX];
	bool is_allowed; /* may print */
	bool is_admin;
} pp_directory_person_t;

/* The attributes a search asks for (NULL-terminated) into attrs[DIRECTORY_SEARCH_ATTRS]. */
#define DIRECTORY_SEARCH_ATTRS 8
void directory_search_attrs(const pp_directory_t *dir, const char *attrs[DIRECTORY_SEARCH_ATTRS]);

/*
 * Maps entry through dir's attributes into person (email canonical; texts cleaned and cut to
 * the column sizes). Returns false when the entry has no usable address.
 */
bool directory_person_map(const pp_directory_t *dir, const pp_directory_entry_t *entry,
                          pp_directory_person_t *person);

/*
 * Decides the group rules for person with the service connection: memberOf of the entry, or
 * the group entry's member / uniqueMember values. Returns 0 or -1 (server trouble).
 */
int directory_person_groups(pp_directory_conn_t *conn, const pp_directory_entry_t *entry,
                            pp_directory_person_t *person, char *error, size_t error_size);

/*
 * Creates or updates person's user row for dir (state from is_allowed, source for a new
 * row, sync generation gen, 0 = keep). *is_created_r (may be NULL) says whether it was new.
 * Runs inside the caller's transaction if any. Returns 0 or -1.
 */
int directory_user_upsert(pp_core_t *core, const pp_directory_t *dir,
                          const pp_directory_person_t *person, const char *source, int64_t gen,
                          bool *is_created_r, char *error, size_t error_size);

#endif
