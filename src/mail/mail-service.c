/* mail-service.c - the outbox and the poller started together; see mail-service.h. */
#include "mail/mail-service.h"

#include "lib/str.h"

#include <stdlib.h>

struct pp_mail_service {
	pp_mail_outbox_t *outbox;
	pp_mail_poller_t *poller;
};

int mail_service_start(pp_core_t *core, const pp_mail_sender_config_t *cfg,
		       pp_mail_service_t **service_r, char *error, size_t error_size)
{
	*service_r = NULL;
	pp_mail_service_t *service = calloc(1, sizeof(*service));
	if (service == NULL) {
		(void)str_format(error, error_size, "mail: out of memory");
		return -1;
	}
	/* The outbox before the poller, which queues replies in it. */
	if (mail_outbox_start(core, cfg, &service->outbox, error, error_size) < 0 ||
	    mail_poller_start(core, &service->poller, error, error_size) < 0) {
		mail_service_stop(&service);
		return -1;
	}
	*service_r = service;
	return 0;
}

void mail_service_stop(pp_mail_service_t **service_p)
{
	pp_mail_service_t *service = *service_p;
	if (service == NULL)
		return;
	mail_poller_stop(&service->poller); /* it submits jobs and queues replies: first */
	mail_outbox_stop(&service->outbox);
	free(service);
	*service_p = NULL;
}
