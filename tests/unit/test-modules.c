/*
 * test-modules.c - pullprintd's optional modules load, and a missing one says what to do.
 *
 * Built in src/cmd/ beside the modules and linked as pullprintd is (the same stand-ins,
 * the same whole core libraries, --export-dynamic): a module that uses a core function
 * pullprintd lacks fails here, at dlopen(RTLD_NOW), instead of in a server at run time.
 */
#include "directory/directory-module.h"
#include "lib/module-load.h"
#include "mail/mail-module.h"
#include "output/probe/probe-snmp-module.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

/* Every module pullprintd can load. */
static const struct {
	const char *file, *name;
	uint32_t abi;
} modules[] = {
	{MAIL_MODULE_FILE, MAIL_MODULE_NAME, MAIL_MODULE_ABI},
	{DIRECTORY_MODULE_FILE, DIRECTORY_MODULE_NAME, DIRECTORY_MODULE_ABI},
	{SNMP_MODULE_FILE, SNMP_MODULE_NAME, SNMP_MODULE_ABI},
};

/* Each module is found beside the program, loads with every symbol bound, and is itself. */
static void test_every_module_loads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		char error[MODULE_ERROR_MAX] = "";
		const pp_module_header_t *h =
		    module_load(NULL, modules[i].file, modules[i].name, modules[i].abi, error,
				sizeof(error));
		if (h == NULL)
			fail_msg("row %zu (%s): %s", i, modules[i].file, error);
		assert_string_equal(h->name, modules[i].name);
		assert_int_equal(h->abi, modules[i].abi);
	}
}

/* The entry structs carry every function the program calls through them. */
static void test_entry_points_are_filled(void **state)
{
	(void)state;
	char error[MODULE_ERROR_MAX];
	const pp_mail_module_t *mail =
	    module_load(NULL, MAIL_MODULE_FILE, MAIL_MODULE_NAME, MAIL_MODULE_ABI, error,
			sizeof(error));
	assert_non_null(mail);
	assert_non_null(mail->service_start);
	assert_non_null(mail->service_stop);
	assert_non_null(mail->account_list);
	assert_non_null(mail->account_list_free);
	assert_non_null(mail->account_test);
	assert_non_null(mail->outbox_queue_new_code);
	assert_non_null(mail->proto_name);
	/* A call into the module: its own function, not the program's stand-in. */
	assert_string_equal(mail->proto_name(PP_MAIL_PROTO_POP3), "pop3");

	const pp_directory_module_t *dir =
	    module_load(NULL, DIRECTORY_MODULE_FILE, DIRECTORY_MODULE_NAME, DIRECTORY_MODULE_ABI,
			error, sizeof(error));
	assert_non_null(dir);
	assert_non_null(dir->signin);
	assert_non_null(dir->lookup_sender);
	assert_non_null(dir->import_due);
	assert_non_null(dir->list);
	assert_non_null(dir->list_free);

	const pp_snmp_module_t *snmp = module_load(NULL, SNMP_MODULE_FILE, SNMP_MODULE_NAME,
						   SNMP_MODULE_ABI, error, sizeof(error));
	assert_non_null(snmp);
	assert_non_null(snmp->probe_snmp);
}

/* A module that is not installed: an error that names the file and says to install it. */
static void test_missing_module_says_install(void **state)
{
	(void)state;
	char error[MODULE_ERROR_MAX] = "";
	assert_null(module_load(NULL, "pullprint-absent.so", "absent", 1, error, sizeof(error)));
	assert_non_null(strstr(error, "pullprint-absent.so is missing"));
	assert_non_null(strstr(error, "install"));
}

/* A file that is another module, or another build's: refused, with why. */
static void test_wrong_module_is_refused(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint32_t abi;
		const char *says;
	} rows[] = {
		{"directory", MAIL_MODULE_ABI, "not the expected Pullprint module"},
		{MAIL_MODULE_NAME, MAIL_MODULE_ABI + 100, "built for another version"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char error[MODULE_ERROR_MAX] = "";
		if (module_load(NULL, MAIL_MODULE_FILE, rows[i].name, rows[i].abi, error,
				sizeof(error)) != NULL)
			fail_msg("row %zu: loaded", i);
		if (strstr(error, rows[i].says) == NULL)
			fail_msg("row %zu: error \"%s\" lacks \"%s\"", i, error, rows[i].says);
	}
}

/* Through a slot: the failure is remembered and says what the part needs. */
static void test_slot_remembers_failure(void **state)
{
	(void)state;
	static pp_module_slot_t slot =
	    MODULE_SLOT_INIT("pullprint-absent.so", "absent", "libabsent (apt-get install x)", 1);
	for (int round = 0; round < 2; round++) {
		char error[MODULE_ERROR_MAX] = "";
		assert_null(module_get(&slot, error, sizeof(error)));
		if (strstr(error, "absent is not available") == NULL ||
		    strstr(error, "libabsent (apt-get install x)") == NULL ||
		    strstr(error, "restart pullprintd") == NULL)
			fail_msg("round %d: %s", round, error);
	}
	assert_false(module_is_loaded(&slot));
}

/* Through a slot: loaded once, the same entry every time. */
static void test_slot_loads_once(void **state)
{
	(void)state;
	static pp_module_slot_t slot = MODULE_SLOT_INIT(SNMP_MODULE_FILE, SNMP_MODULE_NAME,
							"net-snmp", SNMP_MODULE_ABI);
	assert_false(module_is_loaded(&slot));
	char error[MODULE_ERROR_MAX] = "";
	const void *first = module_get(&slot, error, sizeof(error));
	assert_non_null(first);
	assert_ptr_equal(module_get(&slot, error, sizeof(error)), first);
	assert_true(module_is_loaded(&slot));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_module_loads),
		cmocka_unit_test(test_entry_points_are_filled),
		cmocka_unit_test(test_missing_module_says_install),
		cmocka_unit_test(test_wrong_module_is_refused),
		cmocka_unit_test(test_slot_remembers_failure),
		cmocka_unit_test(test_slot_loads_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
