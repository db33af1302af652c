/*
 * sandbox-private.h - what the sandbox's own files share and no other folder includes: the
 * seccomp filters per profile and the report a sandboxed child sends to its parent.
 */
#ifndef PP_SANDBOX_PRIVATE_H
#define PP_SANDBOX_PRIVATE_H

#include "convert/sandbox.h"

#include <stddef.h>

/*
 * The report is one line on a pipe, "<TAG> <message>\n", at most SANDBOX_REPORT_MAX bytes
 * (written with one write(), below PIPE_BUF, so it arrives whole or not at all).
 */
#define SANDBOX_REPORT_MAX 640
#define SANDBOX_TAG_OK "OK"
#define SANDBOX_TAG_FAILED "FAILED"
#define SANDBOX_TAG_LIMIT "LIMIT"
#define SANDBOX_TAG_VIOLATION "VIOLATION"
#define SANDBOX_TAG_SETUP "SETUP"

/* Exit codes of the sandboxed child: fn's result and a failure to enter the sandbox. */
#define SANDBOX_EXIT_OK 0
#define SANDBOX_EXIT_FN_ERROR 1
#define SANDBOX_EXIT_SETUP 2

/*
 * Builds and loads the seccomp filter of profile into the calling process (libseccomp; sets
 * PR_SET_NO_NEW_PRIVS itself as well). Irreversible. Returns 0, or -1 with error.
 */
int sandbox_seccomp_load(pp_sandbox_profile_t profile, char *error, size_t error_size);

#endif
