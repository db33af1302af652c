/* probe-snmp-module.c - the entry struct of pullprint-snmp.so; see probe-snmp-module.h. */
#include "output/probe/probe-snmp-module.h"

#include "pp-build-config.h"

const pp_snmp_module_t pp_module_entry = {
	.header = {.magic = MODULE_MAGIC,
		   .abi = SNMP_MODULE_ABI,
		   .name = SNMP_MODULE_NAME,
		   .version = PP_VERSION},
	.probe_snmp = probe_snmp,
};
