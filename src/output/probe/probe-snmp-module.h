/*
 * probe-snmp-module.h - the entry point of pullprint-snmp.so, the module that holds the SNMP
 * probe (and with it net-snmp and OpenSSL's libcrypto) for pullprintd; see
 * lib/module-load.h. probe-snmp-module.c fills the struct in the module,
 * probe-snmp-load.c calls through it in the program.
 */
#ifndef PP_PROBE_SNMP_MODULE_H
#define PP_PROBE_SNMP_MODULE_H

#include "lib/module-load.h"
#include "output/probe.h"

#define SNMP_MODULE_FILE "pullprint-snmp.so"
#define SNMP_MODULE_NAME "snmp"
#define SNMP_MODULE_ABI 1 /* raise when the struct below changes */

typedef struct {
	pp_module_header_t header;
	__typeof__(probe_snmp) *probe_snmp;
} pp_snmp_module_t;

/* The module defines it as pp_module_entry (MODULE_ENTRY_SYMBOL), its one exported symbol. */

#endif
