/*
 * ipp.h - the IPP service: Pullprint seen as an IPP Everywhere / AirPrint printer at
 * /ipp/print on the HTTPS listener.
 *
 * Clients POST application/ipp. The body is read as a stream: the IPP header and attribute
 * groups are parsed with libcups (bounded), then any document data that follows goes straight
 * into a spool writer; a job is committed (intake_store_spooled) before the successful
 * response leaves. Create-Job makes a job that waits (state incoming, at most
 * multiple-operation-time-out) for its one document from Send-Document.
 *
 * Who prints is proved over TLS with HTTP Basic (email + confirmation code), a personal
 * printer URI (IPP_SERVICE_USER_PATH + token) or a forwarder's Bearer token naming the user
 * in requesting-user-name; over plain HTTP only from ipp.trusted_networks. Get-Printer-
 * Attributes alone is answered without any of it.
 *
 * The service keeps no mutable state of its own: everything lives in the database, so one
 * pp_ipp_service_t (plain data) may be embedded in the server and shared by every thread.
 */
#ifndef PP_IPP_H
#define PP_IPP_H

#include "core/core.h"
#include "http/http.h"

#include <stddef.h>
#include <stdint.h>

#define IPP_SERVICE_PATH "/ipp/print"
#define IPP_SERVICE_USER_PATH "/ipp/print/u/" /* + a personal printer token (tokens.h) */
#define IPP_UUID_MAX 46 /* "urn:uuid:" + 36 + NUL */

typedef struct pp_ipp_service {
	pp_core_t *core;   /* borrowed; outlives the listener */
	int64_t started_at; /* Unix seconds: printer-up-time base, printer-config-change-time */
	char printer_uuid[IPP_UUID_MAX]; /* stable: derived from the master key's sub-keys */
} pp_ipp_service_t;

/*
 * Fills svc (caller-owned storage that outlives the listener; nothing to free) and registers
 * POST /ipp/print and POST /ipp/print/u/… (prefix) as streamed-body routes on http. Before
 * http_server_start() only.
 * Returns 0, or -1 with error.
 */
int ipp_service_add(pp_http_server_t *http, pp_core_t *core, pp_ipp_service_t *svc,
		    char *error, size_t error_size);

#endif
