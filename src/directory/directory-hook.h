/*
 * directory-hook.h - how the domain (core/sender-policy.c) and the IPP service
 * (ipp/ipp-auth.c) reach the directory without depending on it at link time.
 *
 * pp_core is linked into programs that carry no LDAP at all (tests, benchmarks), and the
 * directory itself depends on pp_core, so the domain cannot call it directly. Instead these
 * two entry points are weak references: in a program that links pp_directory_dep they are
 * the functions below (the dependency forces them in with -Wl,-u); elsewhere their address
 * is NULL and the caller behaves as if no directory were configured. No global state, no
 * registration at run time: the linker does the registering.
 */
#ifndef PP_DIRECTORY_HOOK_H
#define PP_DIRECTORY_HOOK_H

#include "directory/directory.h"

#include <stdbool.h>

/* directory_signin(), when the directory module is linked in; else NULL. */
int directory_hook_signin(pp_core_t *core, const char *login, const char *password,
                          const char *source, pp_directory_result_t *result_r, char *error,
                          size_t error_size) __attribute__((weak));

/* directory_lookup_sender(), when the directory module is linked in; else NULL. */
int directory_hook_sender(pp_core_t *core, const char *email, const char *source,
                          pp_directory_result_t *result_r, char *error, size_t error_size)
    __attribute__((weak));

#endif
