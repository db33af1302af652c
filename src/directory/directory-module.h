/*
 * directory-module.h - the entry points of pullprint-directory.so, the module that holds the
 * company directory (and with it libldap) for pullprintd; see lib/module-load.h.
 * directory-module.c fills the struct in the module, directory-lazy.c calls through it.
 */
#ifndef PP_DIRECTORY_MODULE_H
#define PP_DIRECTORY_MODULE_H

#include "directory/directory.h"
#include "lib/module-load.h"

#define DIRECTORY_MODULE_FILE "pullprint-directory.so"
#define DIRECTORY_MODULE_NAME "directory"
#define DIRECTORY_MODULE_ABI 1 /* raise when the struct below changes */

/* Each field is the directory library's function of the same name, with its type. */
typedef struct {
	pp_module_header_t header;
	__typeof__(directory_signin) *signin;
	__typeof__(directory_lookup_sender) *lookup_sender;
	__typeof__(directory_import_due) *import_due;
	__typeof__(directory_list) *list;
	__typeof__(directory_list_free) *list_free;
} pp_directory_module_t;

/* The module defines it as pp_module_entry (MODULE_ENTRY_SYMBOL), its one exported symbol. */

#endif
