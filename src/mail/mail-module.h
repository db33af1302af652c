/*
 * mail-module.h - the entry points of pullprint-mail.so, the module that holds print by email
 * (and with it GMime and libcurl) for pullprintd; see lib/module-load.h. mail-module.c fills
 * the struct in the module, mail-lazy.c calls through it in the program.
 */
#ifndef PP_MAIL_MODULE_H
#define PP_MAIL_MODULE_H

#include "lib/module-load.h"
#include "mail/mail-out.h"
#include "mail/mail-service.h"
#include "mail/mail.h"

#define MAIL_MODULE_FILE "pullprint-mail.so"
#define MAIL_MODULE_NAME "mail"
#define MAIL_MODULE_ABI 1 /* raise when the struct below changes */

/* Each field is the mail library's function of the same name, with its type. */
typedef struct {
	pp_module_header_t header;
	__typeof__(mail_service_start) *service_start;
	__typeof__(mail_service_stop) *service_stop;
	__typeof__(mail_account_list) *account_list;
	__typeof__(mail_account_list_free) *account_list_free;
	__typeof__(mail_account_test) *account_test;
	__typeof__(mail_outbox_queue_new_code) *outbox_queue_new_code;
	__typeof__(mail_proto_name) *proto_name;
} pp_mail_module_t;

/* The module defines it as pp_module_entry (MODULE_ENTRY_SYMBOL), its one exported symbol. */

#endif
