/*
 * probe.h - asking printers what they are and how they are: IPP Get-Printer-Attributes
 * (libcups), SNMP (net-snmp, SNMPv2c: HOST-RESOURCES-MIB, Printer-MIB, IF-MIB) and DNS-SD
 * browsing (Avahi) for printers on the local link.
 *
 * Every call has short timeouts and blocks only its caller; nothing here touches the database
 * (status.h keeps the cache). Results are plain structs with bounded text: a printer's answer
 * is untrusted input, so strings are cut to their field and made printable before they are
 * kept. The functions are safe to call from several threads at once.
 */
#ifndef PP_PROBE_H
#define PP_PROBE_H

#include "core/printer-caps.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_TEXT_MAX 128
#define PROBE_REASONS_MAX 512 /* comma list of IPP printer-state-reasons keywords */
#define PROBE_MARKERS_MAX 16
#define PROBE_TRAYS_MAX 16
#define PROBE_HOST_MAX 256
#define PROBE_URI_MAX 1024

/* Level values besides 0..max: what the Printer-MIB and IPP say when a level is not known. */
#define PROBE_LEVEL_UNKNOWN (-2)
#define PROBE_LEVEL_SOME (-3) /* "some remaining" */

/* Default timeouts: a printer that does not answer within these is offline for us. */
#define PROBE_IPP_TIMEOUT_MS 3000
#define PROBE_SNMP_TIMEOUT_MS 1000
#define PROBE_SNMP_RETRIES 1

typedef enum {
	PP_PRINTER_STATE_UNKNOWN = 0,
	PP_PRINTER_STATE_IDLE,
	PP_PRINTER_STATE_PROCESSING,
	PP_PRINTER_STATE_STOPPED,
	PP_PRINTER_STATE_OFFLINE, /* did not answer */
} pp_printer_state_t;

/* One supply (toner, ink, drum, waste…): level and max in the device's units. */
typedef struct {
	char name[PROBE_TEXT_MAX];
	char color[32]; /* "#000000", "cyan", … or "" */
	int level;      /* 0..max, or PROBE_LEVEL_* */
	int max;        /* -1 or -2 when unknown; percent supplies have 100 */
} pp_probe_marker_t;

/* One input tray. Dimensions in millimetres (0 = unknown); levels in sheets or PROBE_LEVEL_*. */
typedef struct {
	char name[PROBE_TEXT_MAX];
	char media[PROBE_TEXT_MAX]; /* media name as the device says it ("iso_a4_210x297mm", "A4") */
	int width_mm, height_mm;
	int level;
	int max;
} pp_probe_tray_t;

/* What a printer says about its state now. */
typedef struct {
	pp_printer_state_t state;
	char reasons[PROBE_REASONS_MAX]; /* "media-empty,toner-low"; "" = none */
	size_t n_markers;
	pp_probe_marker_t markers[PROBE_MARKERS_MAX];
	size_t n_trays;
	pp_probe_tray_t trays[PROBE_TRAYS_MAX];
} pp_printer_status_t;

/* What SNMP says about a device, beside its status. */
typedef struct {
	char sys_descr[PROBE_TEXT_MAX];     /* sysDescr.0 */
	char device_descr[PROBE_TEXT_MAX];  /* hrDeviceDescr.1: usually make and model */
	char printer_name[PROBE_TEXT_MAX];  /* Printer-MIB prtGeneralPrinterName.1 */
	char mac_address[32];               /* first ifPhysAddress of 6 bytes, "aa:bb:…" */
	bool is_printer;                    /* hrPrinterStatus or the Printer-MIB answered */
	pp_printer_status_t status;
} pp_snmp_info_t;

/* Where and how to reach an SNMP agent. */
typedef struct {
	const char *community; /* NULL = "public"; a credential: never logged */
	unsigned port;         /* 0 = 161 */
	int timeout_ms;        /* 0 = PROBE_SNMP_TIMEOUT_MS */
	int retries;           /* < 0 = PROBE_SNMP_RETRIES */
} pp_snmp_target_t;

/* "idle", "processing", "stopped", "offline" or "unknown". Static string. */
const char *probe_state_name(pp_printer_state_t state);

/* Parses a probe_state_name() word; unknown words give PP_PRINTER_STATE_UNKNOWN. */
pp_printer_state_t probe_state_parse(const char *name);

/*
 * Adds keyword to the comma list reasons[size] unless it is there already or is "none".
 * Returns false when it does not fit (the list is left as it was).
 */
bool probe_reasons_add(char *reasons, size_t size, const char *keyword);

/* True when the comma list reasons holds keyword, with or without a -warning/-error/-report suffix. */
bool probe_reasons_has(const char *reasons, const char *keyword);

/*
 * Maps hrPrinterDetectedErrorState (RFC 3805 bit string: bit 0 is the high bit of the first
 * byte; lowPaper, noPaper, lowToner, noToner, doorOpen, jammed, offline, serviceRequested,
 * inputTrayMissing, outputTrayMissing, markerSupplyMissing, outputNearFull, outputFull,
 * inputTrayEmpty, overduePreventMaint) to IPP keywords added to reasons[size]
 * (media-low, media-empty, toner-low, toner-empty, door-open, media-jam, offline,
 * …). Unknown bits are ignored.
 */
void probe_snmp_errors_to_reasons(const uint8_t *bits, size_t len, char *reasons, size_t size);

/*
 * Asks the IPP printer at uri (ipp:// or ipps://) for its attributes with Get-Printer-Attributes,
 * connecting and waiting at most timeout_ms (0 = PROBE_IPP_TIMEOUT_MS) each. Fills *caps_r
 * (formats, colour, duplex, staple, media, resolution, make and model; may be NULL) and
 * *status_r (state, reasons, markers, media-ready as trays; may be NULL). Returns 0, or -1
 * with error saying what failed (no connection, an IPP error status).
 */
int probe_ipp(const char *uri, int timeout_ms, pp_printer_caps_t *caps_r,
	      pp_printer_status_t *status_r, char *error, size_t error_size);

/* probe_ipp_verified(): the printer's certificate was refused (error says why). */
#define PROBE_UNTRUSTED (-2)

/*
 * probe_ipp() for a registered printer: over ipps:// the printer's certificate is judged as
 * delivery judges it (tls-peer.h: exactly tls_pin when set, else the CA chain) before
 * anything is asked, so a status shown comes from the printer jobs would go to. probe_ipp()
 * itself judges nothing (discovery: finding a printer is not trusting it). Returns 0,
 * PROBE_UNTRUSTED or -1, with error saying why.
 */
int probe_ipp_verified(const char *uri, const char *tls_pin, int timeout_ms,
		       pp_printer_caps_t *caps_r, pp_printer_status_t *status_r, char *error,
		       size_t error_size);

/*
 * Asks the SNMP agent on host (a name, an IPv4 address or an IPv6 literal without brackets)
 * with SNMPv2c: sysDescr, hrDeviceDescr, prtGeneralPrinterName, the MAC address,
 * hrPrinterStatus and hrPrinterDetectedErrorState (as state and reasons), prtInputTable
 * (trays) and prtMarkerSuppliesTable (markers). Returns 0 when the agent answered at all
 * (what a device lacks stays empty), -1 with error when it did not.
 */
int probe_snmp(const char *host, const pp_snmp_target_t *target, pp_snmp_info_t *info_r,
	       char *error, size_t error_size);

/* Fills caps fields that SNMP can tell (make and model, MAC) where they are still empty. */
void probe_snmp_to_caps(const pp_snmp_info_t *info, pp_printer_caps_t *caps);

/* ---- DNS-SD discovery ---------------------------------------------------------------------- */

/* One printer service found on the local link. */
typedef struct {
	char service_name[PROBE_TEXT_MAX]; /* "HP LaserJet 4250 (Floor 2)" */
	char service_type[32];             /* "_ipp._tcp", "_ipps._tcp", "_pdl-datastream._tcp" */
	char host[PROBE_HOST_MAX];         /* address ("192.0.2.7" or "fe80::1%2" form) */
	unsigned port;
	char uri[PROBE_URI_MAX];           /* ipp://192.0.2.7:631/ipp/print, socket://…:9100 */
	char make_and_model[PROBE_TEXT_MAX]; /* TXT ty */
	char formats[256];                 /* TXT pdl */
} pp_discovered_t;

#define DISCOVER_MAX 256

/*
 * Browses _ipp._tcp, _ipps._tcp and _pdl-datastream._tcp through the Avahi daemon for at
 * most timeout_ms (it stops earlier once every browser has reported its cache and every
 * resolver answered), resolving each service to an address and a device URI. One entry per
 * service name and type (IPv4 preferred), at most DISCOVER_MAX. *found_r is new (free());
 * *count_r entries. Returns 0 (possibly with nothing found), or -1 when the daemon cannot be
 * reached, with error saying to start avahi-daemon or add printers by address.
 */
int discover_browse(int timeout_ms, pp_discovered_t **found_r, size_t *count_r, char *error,
		    size_t error_size);

/* ---- probing addresses --------------------------------------------------------------------- */

#define PROBE_RANGE_MAX 256 /* a /24 */

/* What one address answered. */
typedef struct {
	char host[PROBE_HOST_MAX];
	bool is_found;      /* SNMP, IPP or port 9100 answered */
	bool has_snmp, has_ipp, has_socket;
	char uri[PROBE_URI_MAX]; /* the best device URI: ipp:// if IPP answered, else socket:// */
	pp_snmp_info_t snmp;
	pp_printer_caps_t caps; /* from IPP (and SNMP for make and model, MAC) */
} pp_probe_result_t;

typedef struct {
	pp_snmp_target_t snmp;
	unsigned ipp_port;     /* 0 = 631 */
	int ipp_timeout_ms;    /* 0 = 2000 */
	unsigned concurrency;  /* 0 = 32; at most 64 */
} pp_probe_options_t;

/*
 * Expands target into addresses: one host name or address, or an IPv4 CIDR of at most
 * PROBE_RANGE_MAX addresses (/24 or longer; network and broadcast addresses skipped for
 * prefixes shorter than /31). *hosts_r is new (free()), each entry PROBE_HOST_MAX bytes.
 * Returns 0 or -1 with error saying what is wrong.
 */
int probe_range_expand(const char *target, char (**hosts_r)[PROBE_HOST_MAX], size_t *count_r,
		       char *error, size_t error_size);

/*
 * Probes every address of target (probe_range_expand()) with SNMP, IPP and a TCP connect to
 * port 9100, at most options->concurrency addresses at once. *results_r is new (free()), one
 * per address in order; *count_r entries. Returns 0, or -1 with error (bad target, no memory,
 * no threads).
 */
int probe_range(const char *target, const pp_probe_options_t *options,
		pp_probe_result_t **results_r, size_t *count_r, char *error, size_t error_size);

#endif
