/*
 * mail-service.h - print by email as the server runs it: the outbox's sender thread and the
 * inbound poller, started and stopped together.
 *
 * Two implementations with this one interface. mail-service.c (in the mail library, for
 * every program that links it) starts both threads at once. pullprintd links
 * mail-lazy.c instead: it does not link GMime and libcurl at all, and starts the real
 * service from the module pullprint-mail.so only once mail is set up (an enabled inbound
 * account, SMTP settings, or a reply waiting in the outbox); until then one light thread
 * looks at the database every second.
 */
#ifndef PP_MAIL_SERVICE_H
#define PP_MAIL_SERVICE_H

#include "core/core.h"
#include "mail/mail-out.h"

#include <stddef.h>

typedef struct pp_mail_service pp_mail_service_t;

/*
 * Starts the outbox's sender thread with cfg (copied), then the poller (which queues replies
 * in the outbox). core is borrowed and must outlive the service. Returns 0 with *service_r
 * new (stop with mail_service_stop()), or -1 with error.
 */
int mail_service_start(pp_core_t *core, const pp_mail_sender_config_t *cfg,
		       pp_mail_service_t **service_r, char *error, size_t error_size);

/* Stops the poller, then the outbox; frees the service and sets *service NULL. NULL: no-op. */
void mail_service_stop(pp_mail_service_t **service);

#endif
