/*
 * db-listen.h - waking other hosts when work arrives: PostgreSQL LISTEN/NOTIFY.
 *
 * A converter host waits on a listener for CONVERT_QUEUE_CHANNEL (core/convert-queue.h)
 * instead of polling; intake calls db_notify() after it committed a job. The listener has
 * its own connection (a LISTEN session must not be shared with queries), opened with the
 * libpq that db-pq.c loads on demand. On SQLite (one host) there is nobody to wake:
 * db_notify() does nothing and db_listener_open() refuses.
 */
#ifndef PP_DB_LISTEN_H
#define PP_DB_LISTEN_H

#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct pp_db_listener pp_db_listener_t;

/*
 * Sends a notification on channel (an identifier: letters, digits, '_'; no payload) when db
 * is PostgreSQL; inside a transaction it is delivered at commit. SQLite: returns 0 at once.
 * Returns 0 or -1.
 */
int db_notify(pp_db_t *db, const char *channel, char *error, size_t error_size);

/*
 * Opens a PostgreSQL connection to url and LISTENs on channel. Returns 0 and *listener_r (new;
 * close with db_listener_close()), or -1 with error (a SQLite URL: "needs PostgreSQL").
 */
int db_listener_open(const char *url, const char *channel, pp_db_listener_t **listener_r,
		     char *error, size_t error_size);

/*
 * Waits up to timeout_ms for a notification (any number that arrived count as one).
 * *notified_r says whether one came. A dropped connection is re-opened (and LISTEN repeated)
 * on the next call; the caller should then look for work anyway. Returns 0 or -1.
 */
int db_listener_wait(pp_db_listener_t *listener, int timeout_ms, bool *notified_r, char *error,
		     size_t error_size);

/* Closes and frees. NULL-safe; sets *listener to NULL. */
void db_listener_close(pp_db_listener_t **listener);

#endif
