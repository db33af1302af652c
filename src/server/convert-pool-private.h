/*
 * convert-pool-private.h - the worker processes of the conversion pool: finding the program,
 * starting one worker (the argv and descriptors convert-pool.h promises), killing and
 * reaping. Used only by convert-pool.c, which keeps the dispatcher and the protocol.
 */
#ifndef PP_CONVERT_POOL_PRIVATE_H
#define PP_CONVERT_POOL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONVERT_POOL_PROGRAM_NAME "pullprint-convert"
#define CONVERT_POOL_CHILD_FD 3 /* the worker's end of the socket */

/*
 * Resolves the worker program into path[size]: configured when not NULL or "", else
 * pullprint-convert in the directory of /proc/self/exe. Returns 0 when it is executable, 1
 * when it is missing or not executable (error says why), -1 on another failure.
 */
int convert_pool_find_program(const char *configured, char *path, size_t size, char *error,
                              size_t error_size);

/*
 * Starts program as a worker: "[--config config_path] --state-dir state_dir --fd 3" (no
 * --config when config_path is ""), its end of a new SOCK_SEQPACKET socketpair as fd 3,
 * stdin /dev/null, every other descriptor above 2 closed, own process group, empty signal
 * mask, default signal actions. Returns 0 with *pid_r and *fd_r (our end, close-on-exec; the
 * caller closes it), or -1 (logged).
 */
int convert_pool_spawn(const char *program, const char *config_path, const char *state_dir,
                       pid_t *pid_r, int *fd_r);

/*
 * Kills pid (SIGKILL) unless it already exited, and reaps it. Returns its wait status
 * (0 when it could not be reaped: logged).
 */
int convert_pool_kill(pid_t pid);

/*
 * Stops processes: SIGTERM to every pids[i] > 0, up to grace_ms for them to exit, then
 * SIGKILL for the rest (logged); every one is reaped and its entry set to 0.
 */
void convert_pool_stop_processes(pid_t *pids, size_t n, int grace_ms);

/* Describes a wait status ("exit 3", "signal 9") into buf. Returns buf. */
const char *convert_pool_describe_status(int status, char *buf, size_t size);

/* Closes *fd when open (a failing close() is logged) and sets it to -1. */
void convert_pool_close(int *fd);

#endif
