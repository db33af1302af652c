/*
 * module-load.h - optional parts of pullprintd loaded from a file on first use.
 *
 * Mail (GMime, libcurl), the company directory (libldap) and SNMP (net-snmp) pull in
 * libraries that cost about 8 MiB of resident memory merely by being linked (constructors,
 * relocations, OpenSSL's libcrypto), in a server that most sites run without them. So
 * pullprintd does not link that code: each part is a shared module (pullprint-mail.so,
 * pullprint-directory.so, pullprint-snmp.so) that exports one struct of entry points, whose
 * first member is a pp_module_header_t, and that takes everything else (the core, the
 * database, logging) from the executable (linked with --export-dynamic).
 *
 * A module file is looked for beside the running program (the build tree: `make run`, the
 * tests) and else in PP_MODULEDIR (the installed place). It is opened with
 * RTLD_NOW | RTLD_LOCAL, so a symbol the executable lacks fails the load instead of a later
 * call, and it stays loaded for the life of the process.
 */
#ifndef PP_MODULE_LOAD_H
#define PP_MODULE_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The symbol every module exports: its entry struct. */
#define MODULE_ENTRY_SYMBOL "pp_module_entry"
#define MODULE_MAGIC 0x50504d44u /* "PPMD" */
#define MODULE_ERROR_MAX 512

/* The first member of every module's entry struct, checked before anything else is used. */
typedef struct {
	uint32_t magic;      /* MODULE_MAGIC */
	uint32_t abi;        /* the part's own layout number of the rest of the struct */
	const char *name;    /* "mail", "directory", "snmp" */
	const char *version; /* PP_VERSION of the build: core structs must match the program's */
} pp_module_header_t;

/*
 * One optional part as the program sees it: which file, which layout, and (after the first
 * module_get) the entry struct or why there is none. Declare one per part, static, with
 * MODULE_SLOT_INIT; it is the only process-wide state the loading needs.
 */
typedef struct {
	pthread_mutex_t lock;
	const char *file;   /* "pullprint-mail.so" */
	const char *name;   /* "mail" */
	const char *needs;  /* what the module needs installed, for the error: "GMime 3 and libcurl" */
	uint32_t abi;
	bool is_tried;
	const void *entry;  /* the module's entry struct; NULL when loading failed */
	char error[MODULE_ERROR_MAX];
} pp_module_slot_t;

#define MODULE_SLOT_INIT(file_, name_, needs_, abi_)                                       \
	{                                                                                  \
		.lock = PTHREAD_MUTEX_INITIALIZER, .file = (file_), .name = (name_),       \
		.needs = (needs_), .abi = (abi_)                                           \
	}

/*
 * The entry struct of slot's module, loading it on the first call (thread-safe; later calls
 * take a lock and return at once). A failure is logged once, as an error that says what to
 * install or check, and remembered: later calls return NULL with the same error at once
 * (installing the module then needs a restart). Returns the entry (borrowed, valid for the
 * life of the process) or NULL with error filled.
 */
const void *module_get(pp_module_slot_t *slot, char *error, size_t error_size);

/* Whether slot's module is loaded by now (never loads it). */
bool module_is_loaded(pp_module_slot_t *slot);

/*
 * Loads file from directory dir (NULL = beside the program, then PP_MODULEDIR) and checks
 * its header against name and abi, without any slot: for the tests. Returns the entry
 * (borrowed; the module stays loaded) or NULL with error filled. Logs nothing.
 */
const void *module_load(const char *dir, const char *file, const char *name, uint32_t abi,
			char *error, size_t error_size);

/* The directory of the running program (dirname of /proc/self/exe) into dir. 0 or -1. */
int module_program_dir(char *dir, size_t dir_size, char *error, size_t error_size);

#endif
