/*
 * probe-snmp-load.c - pullprintd's probe_snmp(), which loads pullprint-snmp.so (net-snmp)
 * on the first SNMP probe and calls the module's probe_snmp() (see probe-snmp-module.h,
 * lib/module-load.h). pullprintd links this file instead of probe-snmp.c, so a server whose
 * printers are never asked over SNMP maps neither net-snmp nor the libcrypto it brings.
 */
#include "output/probe/probe-snmp-module.h"

#include <string.h>

/*
 * The process's one slot for the module: dlopen() is process-wide by nature, like the
 * libpq table in db/db-pq.c.
 */
static pp_module_slot_t probe_snmp_slot =
    MODULE_SLOT_INIT(SNMP_MODULE_FILE, SNMP_MODULE_NAME,
		     "net-snmp (apt-get install libsnmp40)", SNMP_MODULE_ABI);

int probe_snmp(const char *host, const pp_snmp_target_t *target, pp_snmp_info_t *info_r,
	       char *error, size_t error_size)
{
	memset(info_r, 0, sizeof(*info_r));
	const pp_snmp_module_t *m = module_get(&probe_snmp_slot, error, error_size);
	return m != NULL ? m->probe_snmp(host, target, info_r, error, error_size) : -1;
}
