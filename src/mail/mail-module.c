/* mail-module.c - the entry struct of pullprint-mail.so; see mail-module.h. */
#include "mail/mail-module.h"

#include "pp-build-config.h"

const pp_mail_module_t pp_module_entry = {
	.header = {.magic = MODULE_MAGIC,
		   .abi = MAIL_MODULE_ABI,
		   .name = MAIL_MODULE_NAME,
		   .version = PP_VERSION},
	.service_start = mail_service_start,
	.service_stop = mail_service_stop,
	.account_list = mail_account_list,
	.account_list_free = mail_account_list_free,
	.account_test = mail_account_test,
	.outbox_queue_new_code = mail_outbox_queue_new_code,
	.proto_name = mail_proto_name,
};
