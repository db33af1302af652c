/*
 * ipp-dnssd.h - discovery of the IPP service: the DNS-SD TXT record that IPP Everywhere and
 * AirPrint clients read, its multicast advertisement through the Avahi daemon, and the same
 * record as unicast DNS-SD zone-file lines for networks that multicast does not reach.
 *
 * The TXT values are read from the very attributes Get-Printer-Attributes answers with
 * (ipp_printer_attrs_add), so the advertisement can never promise what the printer denies.
 */
#ifndef PP_IPP_DNSSD_H
#define PP_IPP_DNSSD_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DNSSD_TXT_MAX 24            /* entries in one record */
#define DNSSD_TXT_ENTRY_MAX 256     /* one "key=value" entry: 255 bytes + NUL (RFC 6763 6.1) */
#define DNSSD_NAME_MAX 64           /* a service instance name: 63 bytes + NUL */
#define DNSSD_RESOURCE_PATH "ipp/print" /* rp=: IPP_SERVICE_PATH without the slash */

/* A TXT record: count entries of "key=value", each at most 255 bytes. Plain data. */
typedef struct pp_dnssd_txt {
	size_t count;
	char entries[DNSSD_TXT_MAX][DNSSD_TXT_ENTRY_MAX];
} pp_dnssd_txt_t;

/*
 * Builds the TXT record of the IPP service into *txt_r from the printer attributes of core's
 * installation. admin_url is the web page shown as adminurl (the public URL). is_tls: the
 * record describes _ipps._tcp (adds TLS=1.2); false for plain _ipp._tcp.
 * Returns 0, or -1 with error (an attribute missing, or an entry past 255 bytes).
 */
int dnssd_txt_build(const pp_core_t *core, const char *admin_url, bool is_tls,
		    pp_dnssd_txt_t *txt_r, char *error, size_t error_size);

/* The value of key in txt (borrowed, inside txt), or NULL when absent. */
const char *dnssd_txt_get(const pp_dnssd_txt_t *txt, const char *key);

/* What the advertiser publishes. */
typedef struct pp_dnssd_config {
	char name[DNSSD_NAME_MAX]; /* service instance name, e.g. "Pullprint @ host" */
	uint16_t https_port;       /* _ipps._tcp */
	uint16_t http_port;        /* _ipp._tcp; 0 = not advertised */
	pp_dnssd_txt_t txt_ipps;
	pp_dnssd_txt_t txt_ipp;
} pp_dnssd_config_t;

typedef struct pp_dnssd pp_dnssd_t;

/*
 * Starts advertising cfg (copied) through the Avahi daemon on a background thread; follows
 * daemon restarts and renames the service on a name collision. Never blocks on the daemon:
 * when neither D-Bus nor Avahi answers, one line is logged and *dnssd_r still holds an idle
 * advertiser. Returns 0 (new; stop with dnssd_stop()), or -1 with error (out of memory or
 * no thread).
 */
int dnssd_start(const pp_dnssd_config_t *cfg, pp_dnssd_t **dnssd_r, char *error,
		size_t error_size);

/* Withdraws the service and frees the advertiser; sets *dnssd_p NULL. NULL is a no-op. */
void dnssd_stop(pp_dnssd_t **dnssd_p);

/* Options of the unicast DNS-SD zone-file lines. */
typedef struct pp_dnssd_zone {
	const char *domain; /* e.g. "example.com" (no trailing dot needed) */
	const char *host;   /* SRV target, e.g. "printhost.example.com" */
	uint16_t port;      /* the HTTPS port */
	const char *name;   /* service instance name */
} pp_dnssd_zone_t;

/*
 * Writes the records an administrator adds to the zone of zone->domain for wide-area
 * DNS-SD: browse-domain PTRs, the _ipps._tcp and subtype PTRs, SRV and TXT (each entry
 * quoted). Returns 0, or -1 with error (a write failed, or a name is too long).
 */
int dnssd_zone_write(const pp_dnssd_zone_t *zone, const pp_dnssd_txt_t *txt, FILE *out,
		     char *error, size_t error_size);

#endif
