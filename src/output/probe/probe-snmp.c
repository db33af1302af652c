/*
 * probe-snmp.c - what a device's SNMP agent says (net-snmp, SNMPv2c, single-session API so
 * that threads do not share a session): identity from SNMPv2-MIB, HOST-RESOURCES-MIB, the
 * Printer-MIB (RFC 3805) and IF-MIB, status from hrPrinterStatus and
 * hrPrinterDetectedErrorState, trays from prtInputTable and supplies from
 * prtMarkerSuppliesTable. See probe.h.
 *
 * net-snmp needs one library-wide initialisation per process (init_snmp); it is done once
 * under pthread_once, with configuration files, persistent state, MIB files and its own
 * logging switched off: this code works with numeric OIDs only, and a daemon's stderr is not
 * net-snmp's to fill.
 */
#include "output/probe/probe-private.h"

#include "lib/str.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <pthread.h>
#include <string.h>

/* The most variables one table walk reads: a device with absurd tables is cut here. */
#define PROBE_SNMP_WALK_MAX 512

static pthread_once_t probe_snmp_once = PTHREAD_ONCE_INIT;

static void probe_snmp_init(void)
{
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_NO_TOKEN_WARNINGS, 1);
	netsnmp_set_mib_directory("/nonexistent");
	(void)netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_DEBUG);
	init_snmp("pullprint");
}

/* OIDs read (numeric; no MIB files are loaded). */
static const oid OID_SYS_DESCR[] = {1, 3, 6, 1, 2, 1, 1, 1, 0};
static const oid OID_HR_DEVICE_DESCR[] = {1, 3, 6, 1, 2, 1, 25, 3, 2, 1, 3, 1};
static const oid OID_PRT_GENERAL_NAME[] = {1, 3, 6, 1, 2, 1, 43, 5, 1, 1, 16, 1};
static const oid OID_HR_PRINTER_STATUS[] = {1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 1, 1};
static const oid OID_HR_PRINTER_ERRORS[] = {1, 3, 6, 1, 2, 1, 25, 3, 5, 1, 2, 1};
static const oid OID_IF_PHYS_ADDRESS[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 6};
static const oid OID_PRT_INPUT_ENTRY[] = {1, 3, 6, 1, 2, 1, 43, 8, 2, 1};
static const oid OID_PRT_SUPPLIES_ENTRY[] = {1, 3, 6, 1, 2, 1, 43, 11, 1, 1};
static const oid OID_PRT_COLORANT_VALUE[] = {1, 3, 6, 1, 2, 1, 43, 12, 1, 1, 4};
#define OID_LEN(o) (sizeof(o) / sizeof((o)[0]))

/* prtInputEntry and prtMarkerSuppliesEntry columns read. */
enum {
	PRT_INPUT_DIM_UNIT = 3,
	PRT_INPUT_DIM_FEED = 4,
	PRT_INPUT_DIM_XFEED = 5,
	PRT_INPUT_MAX = 9,
	PRT_INPUT_LEVEL = 10,
	PRT_INPUT_MEDIA_NAME = 12,
	PRT_INPUT_NAME = 13,
	PRT_INPUT_DESCRIPTION = 18,
	PRT_SUPPLY_COLORANT = 3,
	PRT_SUPPLY_DESCRIPTION = 6,
	PRT_SUPPLY_MAX = 8,
	PRT_SUPPLY_LEVEL = 9,
};

/* True when var carries a value (not noSuchObject, noSuchInstance or endOfMibView). */
static bool probe_snmp_has_value(const netsnmp_variable_list *var)
{
	return var != NULL && var->type != SNMP_NOSUCHOBJECT && var->type != SNMP_NOSUCHINSTANCE &&
	       var->type != SNMP_ENDOFMIBVIEW && var->type != ASN_NULL;
}

static bool probe_snmp_int(const netsnmp_variable_list *var, long *value_r)
{
	if (!probe_snmp_has_value(var) || var->val.integer == NULL)
		return false;
	switch (var->type) {
	case ASN_INTEGER:
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
		*value_r = *var->val.integer;
		return true;
	default:
		return false;
	}
}

static void probe_snmp_text(const netsnmp_variable_list *var, char *dst, size_t size)
{
	if (probe_snmp_has_value(var) && var->type == ASN_OCTET_STR && var->val.string != NULL)
		probe_text_copy(dst, size, (const char *)var->val.string, var->val_len);
}

/* An open session on host, or NULL with error. */
static void *probe_snmp_open(const char *host, const pp_snmp_target_t *target, char *error,
			     size_t error_size)
{
	char peer[PROBE_HOST_MAX + 32];
	unsigned port = target != NULL && target->port != 0 ? target->port : 161;
	bool is_v6 = strchr(host, ':') != NULL;
	if (!str_format(peer, sizeof(peer), is_v6 ? "udp6:[%s]:%u" : "udp:%s:%u", host, port)) {
		(void)str_format(error, error_size, "snmp: host name too long");
		return NULL;
	}
	const char *community = target != NULL && target->community != NULL ? target->community
									     : "public";
	netsnmp_session session;
	snmp_sess_init(&session);
	session.version = SNMP_VERSION_2c;
	session.peername = peer;
	session.community = (u_char *)(uintptr_t)community;
	session.community_len = strlen(community);
	int timeout_ms = target != NULL && target->timeout_ms > 0 ? target->timeout_ms
								  : PROBE_SNMP_TIMEOUT_MS;
	session.timeout = (long)timeout_ms * 1000L;
	session.retries = target != NULL && target->retries >= 0 ? target->retries
								 : PROBE_SNMP_RETRIES;
	void *sp = snmp_sess_open(&session);
	if (sp == NULL)
		(void)str_format(error, error_size, "snmp: cannot open a session to %s: %s", host,
				 snmp_api_errstring(session.s_snmp_errno));
	return sp;
}

/* Sends pdu (consumed) and waits. Returns the response (snmp_free_pdu()) or NULL + error. */
static netsnmp_pdu *probe_snmp_request(void *sp, netsnmp_pdu *pdu, const char *host,
				       char *error, size_t error_size)
{
	netsnmp_pdu *response = NULL;
	int status = snmp_sess_synch_response(sp, pdu, &response);
	if (status == STAT_SUCCESS && response != NULL && response->errstat == SNMP_ERR_NOERROR)
		return response;
	if (status == STAT_TIMEOUT)
		(void)str_format(error, error_size,
				 "snmp: no answer from %s — check the address, that SNMP is on and "
				 "the community",
				 host);
	else if (status == STAT_SUCCESS && response != NULL)
		(void)str_format(error, error_size, "snmp: %s answered with an error: %s", host,
				 snmp_errstring((int)response->errstat));
	else
		(void)str_format(error, error_size, "snmp: request to %s failed", host);
	if (response != NULL)
		snmp_free_pdu(response);
	return NULL;
}

/* Called for each variable of a walk with the OID part after the root. */
typedef void probe_snmp_row_fn(void *ctx, const oid *suffix, size_t suffix_len,
			       const netsnmp_variable_list *var);

/* Walks the subtree under root with GETBULK, at most PROBE_SNMP_WALK_MAX variables. */
static void probe_snmp_walk(void *sp, const oid *root, size_t root_len, probe_snmp_row_fn *fn,
			    void *ctx)
{
	oid next[MAX_OID_LEN];
	size_t next_len = root_len;
	memcpy(next, root, root_len * sizeof(oid));
	size_t seen = 0;
	while (seen < PROBE_SNMP_WALK_MAX) {
		netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
		if (pdu == NULL)
			return;
		pdu->non_repeaters = 0;
		pdu->max_repetitions = 32;
		snmp_add_null_var(pdu, next, next_len);
		char ignored[64];
		netsnmp_pdu *response = probe_snmp_request(sp, pdu, "", ignored, sizeof(ignored));
		if (response == NULL)
			return;
		bool is_done = response->variables == NULL;
		for (netsnmp_variable_list *var = response->variables; var != NULL;
		     var = var->next_variable) {
			/* Past the subtree, at its end, or not moving forward: stop. */
			if (!probe_snmp_has_value(var) || var->name_length <= root_len ||
			    var->name_length > MAX_OID_LEN ||
			    snmp_oid_compare(var->name, root_len, root, root_len) != 0 ||
			    snmp_oid_compare(var->name, var->name_length, next, next_len) <= 0 ||
			    ++seen > PROBE_SNMP_WALK_MAX) {
				is_done = true;
				break;
			}
			fn(ctx, var->name + root_len, var->name_length - root_len, var);
			memcpy(next, var->name, var->name_length * sizeof(oid));
			next_len = var->name_length;
		}
		snmp_free_pdu(response);
		if (is_done)
			return;
	}
}

static void probe_snmp_mac_row(void *ctx, const oid *suffix, size_t suffix_len,
			       const netsnmp_variable_list *var)
{
	(void)suffix;
	(void)suffix_len;
	pp_snmp_info_t *info = ctx;
	if (info->mac_address[0] != '\0' || var->type != ASN_OCTET_STR || var->val_len != 6)
		return;
	const uint8_t *b = var->val.string;
	if ((b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0)
		return;
	(void)str_format(info->mac_address, sizeof(info->mac_address),
			 "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* A row of a Printer-MIB table indexed by (hrDeviceIndex, rowIndex). */
typedef struct {
	long device, index;
	long dim_unit;
	long colorant;
} probe_snmp_row_t;

typedef struct {
	pp_snmp_info_t *info;
	probe_snmp_row_t rows[PROBE_TRAYS_MAX > PROBE_MARKERS_MAX ? PROBE_TRAYS_MAX
								   : PROBE_MARKERS_MAX];
} probe_snmp_tables_t;

/* The slot for (device, index) among n rows (added when new and there is room), or -1. */
static int probe_snmp_slot(probe_snmp_row_t *rows, size_t *n, size_t max, long device,
			   long index)
{
	for (size_t i = 0; i < *n; i++) {
		if (rows[i].device == device && rows[i].index == index)
			return (int)i;
	}
	if (*n >= max)
		return -1;
	rows[*n] = (probe_snmp_row_t){.device = device, .index = index};
	return (int)(*n)++;
}

/* Level values of the Printer-MIB: -1 other, -2 unknown, -3 some remaining. */
static int probe_snmp_level(long value)
{
	if (value >= 0 && value <= 1000000000L)
		return (int)value;
	return value == PROBE_LEVEL_SOME ? PROBE_LEVEL_SOME : PROBE_LEVEL_UNKNOWN;
}

/* A declared dimension in millimetres, from the unit (3: 1/10000 inch, 4: micrometres). */
static int probe_snmp_mm(long value, long unit)
{
	if (value <= 0)
		return 0;
	if (unit == 3)
		return (int)((value * 254 + 50000) / 100000);
	if (unit == 4)
		return (int)((value + 500) / 1000);
	return 0;
}

static void probe_snmp_input_row(void *ctx, const oid *suffix, size_t suffix_len,
				 const netsnmp_variable_list *var)
{
	probe_snmp_tables_t *t = ctx;
	pp_printer_status_t *status = &t->info->status;
	if (suffix_len != 3)
		return;
	int slot = probe_snmp_slot(t->rows, &status->n_trays, PROBE_TRAYS_MAX, (long)suffix[1],
				   (long)suffix[2]);
	if (slot < 0)
		return;
	pp_probe_tray_t *tray = &status->trays[slot];
	probe_snmp_row_t *row = &t->rows[slot];
	long value = 0;
	switch (suffix[0]) {
	case PRT_INPUT_DIM_UNIT:
		if (probe_snmp_int(var, &value))
			row->dim_unit = value;
		break;
	case PRT_INPUT_DIM_FEED: /* along the paper path: the height of a portrait sheet */
		if (probe_snmp_int(var, &value))
			tray->height_mm = probe_snmp_mm(value, row->dim_unit);
		break;
	case PRT_INPUT_DIM_XFEED:
		if (probe_snmp_int(var, &value))
			tray->width_mm = probe_snmp_mm(value, row->dim_unit);
		break;
	case PRT_INPUT_MAX:
		tray->max = probe_snmp_int(var, &value) ? probe_snmp_level(value)
							: PROBE_LEVEL_UNKNOWN;
		break;
	case PRT_INPUT_LEVEL:
		tray->level = probe_snmp_int(var, &value) ? probe_snmp_level(value)
							  : PROBE_LEVEL_UNKNOWN;
		break;
	case PRT_INPUT_MEDIA_NAME:
		probe_snmp_text(var, tray->media, sizeof(tray->media));
		break;
	case PRT_INPUT_NAME:
		probe_snmp_text(var, tray->name, sizeof(tray->name));
		break;
	case PRT_INPUT_DESCRIPTION:
		if (tray->name[0] == '\0')
			probe_snmp_text(var, tray->name, sizeof(tray->name));
		break;
	default:
		break;
	}
}

static void probe_snmp_supply_row(void *ctx, const oid *suffix, size_t suffix_len,
				  const netsnmp_variable_list *var)
{
	probe_snmp_tables_t *t = ctx;
	pp_printer_status_t *status = &t->info->status;
	if (suffix_len != 3)
		return;
	int slot = probe_snmp_slot(t->rows, &status->n_markers, PROBE_MARKERS_MAX,
				   (long)suffix[1], (long)suffix[2]);
	if (slot < 0)
		return;
	pp_probe_marker_t *marker = &status->markers[slot];
	long value = 0;
	switch (suffix[0]) {
	case PRT_SUPPLY_COLORANT:
		if (probe_snmp_int(var, &value))
			t->rows[slot].colorant = value;
		break;
	case PRT_SUPPLY_DESCRIPTION:
		probe_snmp_text(var, marker->name, sizeof(marker->name));
		break;
	case PRT_SUPPLY_MAX:
		marker->max = probe_snmp_int(var, &value) ? probe_snmp_level(value)
							  : PROBE_LEVEL_UNKNOWN;
		break;
	case PRT_SUPPLY_LEVEL:
		marker->level = probe_snmp_int(var, &value) ? probe_snmp_level(value)
							    : PROBE_LEVEL_UNKNOWN;
		break;
	default:
		break;
	}
}

/* prtMarkerColorantValue (device, colorant) → the colour of supplies using that colorant. */
static void probe_snmp_colorant_row(void *ctx, const oid *suffix, size_t suffix_len,
				    const netsnmp_variable_list *var)
{
	probe_snmp_tables_t *t = ctx;
	pp_printer_status_t *status = &t->info->status;
	if (suffix_len != 2)
		return;
	char color[32] = "";
	probe_snmp_text(var, color, sizeof(color));
	for (size_t i = 0; i < status->n_markers; i++) {
		if (t->rows[i].device == (long)suffix[0] && t->rows[i].colorant == (long)suffix[1] &&
		    probe_word_ok(color))
			(void)str_copy(status->markers[i].color, sizeof(status->markers[i].color),
				       color);
	}
}

/* The state from hrPrinterStatus and the reasons; a device that cannot print is stopped. */
static void probe_snmp_state(pp_printer_status_t *status, long hr_status, bool has_status)
{
	status->state = !has_status	 ? PP_PRINTER_STATE_UNKNOWN
			: hr_status == 3 ? PP_PRINTER_STATE_IDLE
			: hr_status == 4 || hr_status == 5 ? PP_PRINTER_STATE_PROCESSING
							   : PP_PRINTER_STATE_UNKNOWN;
	static const char *const stopping[] = {"media-empty", "media-jam", "door-open",
					       "toner-empty", "offline"};
	for (size_t i = 0; i < sizeof(stopping) / sizeof(stopping[0]); i++) {
		if (probe_reasons_has(status->reasons, stopping[i]))
			status->state = PP_PRINTER_STATE_STOPPED;
	}
}

int probe_snmp(const char *host, const pp_snmp_target_t *target, pp_snmp_info_t *info_r,
	       char *error, size_t error_size)
{
	memset(info_r, 0, sizeof(*info_r));
	if (pthread_once(&probe_snmp_once, probe_snmp_init) != 0) {
		(void)str_format(error, error_size, "snmp: cannot initialise net-snmp");
		return -1;
	}
	void *sp = probe_snmp_open(host, target, error, error_size);
	if (sp == NULL)
		return -1;

	/* The scalars in one round trip; v2c answers a missing one with an exception. */
	netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
	if (pdu == NULL) {
		snmp_sess_close(sp);
		(void)str_format(error, error_size, "snmp: out of memory");
		return -1;
	}
	snmp_add_null_var(pdu, OID_SYS_DESCR, OID_LEN(OID_SYS_DESCR));
	snmp_add_null_var(pdu, OID_HR_DEVICE_DESCR, OID_LEN(OID_HR_DEVICE_DESCR));
	snmp_add_null_var(pdu, OID_PRT_GENERAL_NAME, OID_LEN(OID_PRT_GENERAL_NAME));
	snmp_add_null_var(pdu, OID_HR_PRINTER_STATUS, OID_LEN(OID_HR_PRINTER_STATUS));
	snmp_add_null_var(pdu, OID_HR_PRINTER_ERRORS, OID_LEN(OID_HR_PRINTER_ERRORS));
	netsnmp_pdu *response = probe_snmp_request(sp, pdu, host, error, error_size);
	if (response == NULL) {
		snmp_sess_close(sp);
		return -1;
	}
	long hr_status = 0;
	bool has_status = false;
	int i = 0;
	for (netsnmp_variable_list *var = response->variables; var != NULL;
	     var = var->next_variable, i++) {
		switch (i) {
		case 0:
			probe_snmp_text(var, info_r->sys_descr, sizeof(info_r->sys_descr));
			break;
		case 1:
			probe_snmp_text(var, info_r->device_descr, sizeof(info_r->device_descr));
			break;
		case 2:
			probe_snmp_text(var, info_r->printer_name, sizeof(info_r->printer_name));
			info_r->is_printer |= probe_snmp_has_value(var);
			break;
		case 3:
			has_status = probe_snmp_int(var, &hr_status);
			info_r->is_printer |= has_status;
			break;
		case 4:
			if (probe_snmp_has_value(var) && var->type == ASN_OCTET_STR)
				probe_snmp_errors_to_reasons(var->val.string, var->val_len,
							     info_r->status.reasons,
							     sizeof(info_r->status.reasons));
			break;
		default:
			break;
		}
	}
	snmp_free_pdu(response);

	probe_snmp_walk(sp, OID_IF_PHYS_ADDRESS, OID_LEN(OID_IF_PHYS_ADDRESS), probe_snmp_mac_row,
			info_r);
	probe_snmp_tables_t tables = {.info = info_r};
	/* Columns a device leaves out read as unknown, not as zero. */
	for (size_t k = 0; k < PROBE_TRAYS_MAX; k++)
		info_r->status.trays[k].level = info_r->status.trays[k].max = PROBE_LEVEL_UNKNOWN;
	for (size_t k = 0; k < PROBE_MARKERS_MAX; k++)
		info_r->status.markers[k].level = info_r->status.markers[k].max = PROBE_LEVEL_UNKNOWN;
	probe_snmp_walk(sp, OID_PRT_INPUT_ENTRY, OID_LEN(OID_PRT_INPUT_ENTRY),
			probe_snmp_input_row, &tables);
	memset(tables.rows, 0, sizeof(tables.rows));
	probe_snmp_walk(sp, OID_PRT_SUPPLIES_ENTRY, OID_LEN(OID_PRT_SUPPLIES_ENTRY),
			probe_snmp_supply_row, &tables);
	if (info_r->status.n_markers > 0)
		probe_snmp_walk(sp, OID_PRT_COLORANT_VALUE, OID_LEN(OID_PRT_COLORANT_VALUE),
				probe_snmp_colorant_row, &tables);
	info_r->is_printer |= info_r->status.n_trays + info_r->status.n_markers > 0;
	probe_snmp_state(&info_r->status, hr_status, has_status);
	snmp_sess_close(sp);
	return 0;
}
