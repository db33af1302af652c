/* directory-module.c - the entry struct of pullprint-directory.so; see directory-module.h. */
#include "directory/directory-module.h"

#include "pp-build-config.h"

const pp_directory_module_t pp_module_entry = {
	.header = {.magic = MODULE_MAGIC,
		   .abi = DIRECTORY_MODULE_ABI,
		   .name = DIRECTORY_MODULE_NAME,
		   .version = PP_VERSION},
	.signin = directory_signin,
	.lookup_sender = directory_lookup_sender,
	.import_due = directory_import_due,
	.list = directory_list,
	.list_free = directory_list_free,
};
