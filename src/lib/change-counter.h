/*
 * change-counter.h - a number in a small file that processes on one host bump when they
 * change shared state, so that others holding a copy of that state know to read it again.
 *
 * The file holds one 64-bit number. Reading it is one pread(); bumping it takes an exclusive
 * flock() around read, add one, write, so that two processes bumping at once both count.
 * Nothing is fsynced: the number only has to differ from what a running process saw, and
 * after a reboot every process starts with an empty copy anyway. A file of another length or
 * content is read as whatever its first eight bytes say (absent bytes as zero); it is never a
 * reason to fail.
 */
#ifndef PP_CHANGE_COUNTER_H
#define PP_CHANGE_COUNTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct pp_change_counter pp_change_counter_t;

/*
 * Opens (and creates, mode 0600, refusing a symbolic link) the counter file at path.
 * *counter_r is new; close with change_counter_close(). Returns 0 or -1 with error filled.
 */
int change_counter_open(const char *path, pp_change_counter_t **counter_r, char *error,
                        size_t error_size);

/* Closes and frees *counter; sets it to NULL. NULL is a no-op. */
void change_counter_close(pp_change_counter_t **counter);

/*
 * Reads the number into *value_r. Thread-safe. Returns 0, or -1 when the file cannot be read
 * (errno set); the caller should then treat its copy as stale.
 */
int change_counter_read(pp_change_counter_t *counter, uint64_t *value_r);

/*
 * Adds one to the number, under an exclusive lock of the file. Thread-safe. Returns 0, or -1
 * (errno set) when the file cannot be locked, read or written.
 */
int change_counter_bump(pp_change_counter_t *counter);

#endif
