/*
 * server.h - pullprintd assembled: the installation (runtime), the HTTPS listener with its
 * routes, and the background threads, started and stopped in one order.
 *
 * Start: configuration → key → database (migrated) → spool → recovery of interrupted writes
 * → first admin → TLS certificate → listener → sweeper. Stop (SIGTERM/SIGINT): the listener
 * stops accepting, requests in flight finish (bounded wait), the sweeper finishes its batch,
 * then everything is closed. Nothing accepted is lost: every accepted job was committed
 * before it was acknowledged.
 */
#ifndef PP_SERVER_H
#define PP_SERVER_H

#include <stddef.h>

typedef struct pp_server pp_server_t;

/*
 * Opens the installation named by config_path (NULL = default path) and state_dir_override
 * (NULL = from the file), recovers, and binds the listeners. Prints the first-start banner
 * (URL, first admin password) on standard output. Returns 0 and *server_r (new; free with
 * server_free()), or -1 with error saying what to do; exit code 2 is advised for
 * configuration errors (*exit_code_r is set either way).
 */
int server_open(const char *config_path, const char *state_dir_override, pp_server_t **server_r,
		int *exit_code_r, char *error, size_t error_size);

/*
 * Runs until SIGTERM or SIGINT, then shuts down gracefully. The calling thread must have
 * blocked those signals before server_open() made any thread (server_block_signals()).
 * Returns the process exit code.
 */
int server_run(pp_server_t *server);

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (inherited by threads made later). */
int server_block_signals(void);

/* Closes everything. NULL-safe; sets *server to NULL. */
void server_free(pp_server_t **server);

#endif
