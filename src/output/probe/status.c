/*
 * status.c - the printer status cache (table printer_status, migration 5): refresh by IPP or
 * SNMP, store, read back, refresh all with bounded concurrency, and the warning the release
 * step shows. See status.h.
 */
#include "output/status.h"

#include "lib/log.h"
#include "lib/net.h"
#include "lib/str.h"
#include "output/probe/probe-private.h"

#include <cups/http.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_MAX_THREADS 32

char *status_markers_to_json(const pp_printer_status_t *status)
{
	json_t *array = json_array();
	for (size_t i = 0; array != NULL && i < status->n_markers; i++) {
		const pp_probe_marker_t *m = &status->markers[i];
		if (json_array_append_new(array, json_pack("{s:s, s:s, s:i, s:i}", "name", m->name,
							   "color", m->color, "level", m->level,
							   "max", m->max)) != 0) {
			json_decref(array);
			return NULL;
		}
	}
	char *text = array != NULL ? json_dumps(array, JSON_COMPACT) : NULL;
	json_decref(array);
	return text;
}

char *status_trays_to_json(const pp_printer_status_t *status)
{
	json_t *array = json_array();
	for (size_t i = 0; array != NULL && i < status->n_trays; i++) {
		const pp_probe_tray_t *t = &status->trays[i];
		if (json_array_append_new(array,
					  json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "name", t->name,
						    "media", t->media, "width_mm", t->width_mm,
						    "height_mm", t->height_mm, "level", t->level,
						    "max", t->max)) != 0) {
			json_decref(array);
			return NULL;
		}
	}
	char *text = array != NULL ? json_dumps(array, JSON_COMPACT) : NULL;
	json_decref(array);
	return text;
}

/* Integer member key of obj, or fallback. */
static int status_json_int(json_t *obj, const char *key, int fallback)
{
	json_t *value = json_object_get(obj, key);
	return json_is_integer(value) ? (int)json_integer_value(value) : fallback;
}

/* String member key of obj into dst[size] ("" when absent). */
static void status_json_text(json_t *obj, const char *key, char *dst, size_t size)
{
	const char *value = json_string_value(json_object_get(obj, key));
	dst[0] = '\0';
	if (value != NULL)
		probe_text_copy(dst, size, value, strlen(value));
}

/* Reads the stored JSON arrays back into status (what does not parse is left out). */
static void status_from_json(const char *markers, const char *trays, pp_printer_status_t *status)
{
	json_t *array = json_loads(markers, 0, NULL);
	for (size_t i = 0; json_is_array(array) && i < json_array_size(array) &&
			   status->n_markers < PROBE_MARKERS_MAX;
	     i++) {
		json_t *obj = json_array_get(array, i);
		pp_probe_marker_t *m = &status->markers[status->n_markers++];
		status_json_text(obj, "name", m->name, sizeof(m->name));
		status_json_text(obj, "color", m->color, sizeof(m->color));
		m->level = status_json_int(obj, "level", PROBE_LEVEL_UNKNOWN);
		m->max = status_json_int(obj, "max", PROBE_LEVEL_UNKNOWN);
	}
	json_decref(array);
	array = json_loads(trays, 0, NULL);
	for (size_t i = 0; json_is_array(array) && i < json_array_size(array) &&
			   status->n_trays < PROBE_TRAYS_MAX;
	     i++) {
		json_t *obj = json_array_get(array, i);
		pp_probe_tray_t *t = &status->trays[status->n_trays++];
		status_json_text(obj, "name", t->name, sizeof(t->name));
		status_json_text(obj, "media", t->media, sizeof(t->media));
		t->width_mm = status_json_int(obj, "width_mm", 0);
		t->height_mm = status_json_int(obj, "height_mm", 0);
		t->level = status_json_int(obj, "level", PROBE_LEVEL_UNKNOWN);
		t->max = status_json_int(obj, "max", PROBE_LEVEL_UNKNOWN);
	}
	json_decref(array);
}

int status_get(pp_core_t *core, int64_t printer_id, pp_status_entry_t *entry_r, char *error,
	       size_t error_size)
{
	memset(entry_r, 0, sizeof(*entry_r));
	entry_r->printer_id = printer_id;
	entry_r->snmp_port = 161;
	const pp_db_value_t params[] = {DB_INT(printer_id)};
	pp_db_result_t *res = NULL;
	if (db_query(core->db,
		     "SELECT state, reasons, markers, trays, checked_at, error, snmp_port"
		     " FROM printer_status WHERE printer_id = $1",
		     params, 1, &res, error, error_size) != DB_OK)
		return -1;
	if (db_result_rows(res) == 0) {
		db_result_free(&res);
		return STATUS_NOT_FOUND;
	}
	entry_r->status.state = probe_state_parse(db_result_text(res, 0, 0));
	(void)str_copy(entry_r->status.reasons, sizeof(entry_r->status.reasons),
		       db_result_text(res, 0, 1));
	status_from_json(db_result_text(res, 0, 2), db_result_text(res, 0, 3), &entry_r->status);
	entry_r->checked_at = db_result_int(res, 0, 4);
	(void)str_copy(entry_r->error, sizeof(entry_r->error), db_result_text(res, 0, 5));
	int64_t port = db_result_int(res, 0, 6);
	entry_r->snmp_port = port > 0 && port <= 65535 ? (unsigned)port : 161;
	db_result_free(&res);
	/* A row made only to hold SNMP settings has never been checked. */
	return entry_r->checked_at == 0 ? STATUS_NOT_FOUND : 0;
}

int status_store(pp_core_t *core, int64_t printer_id, const pp_printer_status_t *status,
		 const char *check_error, char *error, size_t error_size)
{
	char *markers = status_markers_to_json(status);
	char *trays = status_trays_to_json(status);
	int rc = -1;
	if (markers == NULL || trays == NULL) {
		(void)str_format(error, error_size, "status: out of memory");
	} else {
		char clean_error[STATUS_ERROR_MAX] = "";
		if (check_error != NULL)
			probe_text_copy(clean_error, sizeof(clean_error), check_error,
					strlen(check_error));
		const pp_db_value_t params[] = {
			DB_INT(printer_id), DB_TEXT(probe_state_name(status->state)),
			DB_TEXT(status->reasons), DB_TEXT(markers), DB_TEXT(trays),
			DB_INT(core_now(core)), DB_TEXT(clean_error)};
		rc = db_exec(core->db,
			     "INSERT INTO printer_status (printer_id, state, reasons, markers, trays,"
			     " checked_at, error) VALUES ($1, $2, $3, $4, $5, $6, $7)"
			     " ON CONFLICT (printer_id) DO UPDATE SET state = excluded.state,"
			     " reasons = excluded.reasons, markers = excluded.markers,"
			     " trays = excluded.trays, checked_at = excluded.checked_at,"
			     " error = excluded.error",
			     params, 7, NULL, error, error_size) == DB_OK
			     ? 0
			     : -1;
	}
	free(markers);
	free(trays);
	return rc;
}

/* printer_id's SNMP community (default "public") and port (default 161). */
static int status_snmp_read(pp_core_t *core, int64_t printer_id,
			    char community[STATUS_COMMUNITY_MAX], unsigned *port_r, char *error,
			    size_t error_size)
{
	(void)str_copy(community, STATUS_COMMUNITY_MAX, "public");
	*port_r = 161;
	const pp_db_value_t params[] = {DB_INT(printer_id)};
	pp_db_result_t *res = NULL;
	if (db_query(core->db,
		     "SELECT snmp_community, snmp_port FROM printer_status WHERE printer_id = $1",
		     params, 1, &res, error, error_size) != DB_OK)
		return -1;
	if (db_result_rows(res) == 1) {
		if (!str_copy(community, STATUS_COMMUNITY_MAX, db_result_text(res, 0, 0)))
			(void)str_copy(community, STATUS_COMMUNITY_MAX, "public");
		int64_t port = db_result_int(res, 0, 1);
		if (port > 0 && port <= 65535)
			*port_r = (unsigned)port;
	}
	db_result_free(&res);
	return 0;
}

int status_set_snmp(pp_core_t *core, int64_t printer_id, const char *community, unsigned port,
		    char *error, size_t error_size)
{
	if (community != NULL &&
	    (community[0] == '\0' || strlen(community) >= STATUS_COMMUNITY_MAX ||
	     !str_is_printable_utf8(community))) {
		(void)str_format(error, error_size,
				 "snmp community: give 1..%d printable characters",
				 STATUS_COMMUNITY_MAX - 1);
		return -1;
	}
	if (port > 65535) {
		(void)str_format(error, error_size, "snmp port: give 1..65535");
		return -1;
	}
	char current[STATUS_COMMUNITY_MAX];
	unsigned current_port = 161;
	if (status_snmp_read(core, printer_id, current, &current_port, error, error_size) < 0)
		return -1;
	const pp_db_value_t params[] = {DB_INT(printer_id),
					DB_TEXT(community != NULL ? community : current),
					DB_INT(port != 0 ? port : current_port)};
	return db_exec(core->db,
		       "INSERT INTO printer_status (printer_id, snmp_community, snmp_port)"
		       " VALUES ($1, $2, $3) ON CONFLICT (printer_id) DO UPDATE SET"
		       " snmp_community = excluded.snmp_community, snmp_port = excluded.snmp_port",
		       params, 3, NULL, error, error_size) == DB_OK
		       ? 0
		       : -1;
}

/* The host and port of a device URI (port 0 when the URI has none). */
static bool status_uri_host(const char *uri, char scheme[16], char host[PROBE_HOST_MAX],
			    int *port_r)
{
	char userpass[256], resource[1024];
	return httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, 16, userpass, sizeof(userpass),
			       host, PROBE_HOST_MAX, port_r, resource,
			       sizeof(resource)) >= HTTP_URI_STATUS_OK;
}

/* Asks the printer; fills status and check_error ("" when it answered). */
static void status_ask(const pp_printer_t *printer, const char *community, unsigned snmp_port,
		       pp_printer_status_t *status, char *check_error, size_t check_error_size)
{
	memset(status, 0, sizeof(*status));
	check_error[0] = '\0';
	char scheme[16], host[PROBE_HOST_MAX];
	int port = 0;
	if (!status_uri_host(printer->device_uri, scheme, host, &port)) {
		status->state = PP_PRINTER_STATE_UNKNOWN;
		(void)str_format(check_error, check_error_size,
				 "the device URI cannot be read: fix it with pullprint printers");
		return;
	}
	char ipp_error[STATUS_ERROR_MAX] = "";
	bool is_ipp = strcmp(scheme, "ipp") == 0 || strcmp(scheme, "ipps") == 0;
	int ipp_rc = is_ipp ? probe_ipp_verified(printer->device_uri, printer->tls_pin, 0, NULL,
						 status, ipp_error, sizeof(ipp_error))
			    : -1;
	if (ipp_rc == 0)
		return;
	/* A refused certificate answered: the printer is there, but who it is is in doubt. */
	bool is_untrusted = ipp_rc == PROBE_UNTRUSTED;

	/* SNMP for socket and lpd devices, and for IPP devices that did not answer IPP. */
	pp_snmp_target_t target = {.community = community, .port = snmp_port, .retries = -1};
	pp_snmp_info_t *info = calloc(1, sizeof(*info));
	char snmp_error[STATUS_ERROR_MAX] = "";
	if (info != NULL && probe_snmp(host, &target, info, snmp_error, sizeof(snmp_error)) == 0 &&
	    info->is_printer) {
		*status = info->status;
		if (is_ipp)
			(void)str_copy(check_error, check_error_size, ipp_error);
		free(info);
		return;
	}
	free(info);
	if (snmp_error[0] == '\0')
		(void)str_copy(snmp_error, sizeof(snmp_error),
			       "snmp: the device answered without a printer MIB");
	memset(status, 0, sizeof(*status));
	if (is_ipp) {
		status->state = is_untrusted ? PP_PRINTER_STATE_UNKNOWN : PP_PRINTER_STATE_OFFLINE;
		(void)str_copy(check_error, check_error_size, ipp_error);
		return;
	}
	/* No SNMP: whether the print port accepts a connection still tells offline from not. */
	int print_port = port > 0 ? port : strcmp(scheme, "lpd") == 0 ? 515 : 9100;
	if (net_tcp_port_opens(host, (unsigned)print_port, PROBE_IPP_TIMEOUT_MS)) {
		status->state = PP_PRINTER_STATE_UNKNOWN;
		(void)str_copy(check_error, check_error_size, snmp_error);
	} else {
		status->state = PP_PRINTER_STATE_OFFLINE;
		(void)str_format(check_error, check_error_size,
				 "port %d does not accept connections; %s", print_port, snmp_error);
	}
}

int status_refresh(pp_core_t *core, const pp_printer_t *printer, pp_status_entry_t *entry_r,
		   char *error, size_t error_size)
{
	char community[STATUS_COMMUNITY_MAX];
	unsigned snmp_port = 161;
	if (status_snmp_read(core, printer->id, community, &snmp_port, error, error_size) < 0)
		return -1;
	pp_status_entry_t *entry = calloc(1, sizeof(*entry));
	if (entry == NULL) {
		(void)str_format(error, error_size, "status: out of memory");
		return -1;
	}
	status_ask(printer, community, snmp_port, &entry->status, entry->error,
		   sizeof(entry->error));
	int rc = status_store(core, printer->id, &entry->status, entry->error, error, error_size);
	if (rc == 0) {
		entry->printer_id = printer->id;
		entry->checked_at = core_now(core);
		entry->snmp_port = snmp_port;
		log_debug("printer.status printer=%s state=%s reasons=\"%s\"", printer->name,
			  probe_state_name(entry->status.state), entry->status.reasons);
		if (entry_r != NULL)
			*entry_r = *entry;
	}
	free(entry);
	return rc;
}

typedef struct {
	pp_core_t *core;
	pthread_mutex_t lock;
	pp_printer_t *printers;
	size_t count, next, refreshed;
} status_work_t;

static void *status_worker(void *arg)
{
	status_work_t *w = arg;
	for (;;) {
		if (pthread_mutex_lock(&w->lock) != 0)
			abort();
		size_t i = w->next < w->count ? w->next++ : w->count;
		(void)pthread_mutex_unlock(&w->lock);
		if (i >= w->count)
			return NULL;
		char error[512];
		const pp_printer_t *printer = &w->printers[i];
		if (status_refresh(w->core, printer, NULL, error, sizeof(error)) < 0) {
			log_warn("printer.status_failed printer=%s error=\"%s\" "
				 "action=\"will retry next pass\"",
				 printer->name, error);
			continue;
		}
		if (pthread_mutex_lock(&w->lock) != 0)
			abort();
		w->refreshed++;
		(void)pthread_mutex_unlock(&w->lock);
	}
}

int status_refresh_all(pp_core_t *core, unsigned concurrency, size_t *refreshed_r, char *error,
		       size_t error_size)
{
	if (refreshed_r != NULL)
		*refreshed_r = 0;
	status_work_t w = {.core = core};
	pp_printer_t *all = NULL;
	size_t n_all = 0;
	if (printers_list(core, &all, &n_all, error, error_size) < 0)
		return -1;
	/* Only enabled printers: a disabled one is out of service on purpose. */
	for (size_t i = 0; i < n_all; i++) {
		if (all[i].is_enabled)
			all[w.count++] = all[i];
	}
	w.printers = all;
	if (w.count == 0) {
		printers_list_free(&all);
		return 0;
	}
	unsigned n_threads = concurrency != 0 ? concurrency : STATUS_CONCURRENCY_DEFAULT;
	if (n_threads > STATUS_MAX_THREADS)
		n_threads = STATUS_MAX_THREADS;
	if (n_threads > w.count)
		n_threads = (unsigned)w.count;
	int rc = pthread_mutex_init(&w.lock, NULL);
	if (rc != 0) {
		printers_list_free(&all);
		(void)str_format(error, error_size, "status: cannot make a lock: %s", strerror(rc));
		return -1;
	}
	pthread_t threads[STATUS_MAX_THREADS];
	unsigned started = 0;
	while (started < n_threads &&
	       (rc = pthread_create(&threads[started], NULL, status_worker, &w)) == 0)
		started++;
	for (unsigned i = 0; i < started; i++)
		(void)pthread_join(threads[i], NULL);
	(void)pthread_mutex_destroy(&w.lock);
	printers_list_free(&all);
	if (started == 0) {
		(void)str_format(error, error_size, "status: cannot start threads: %s",
				 strerror(rc));
		return -1;
	}
	if (refreshed_r != NULL)
		*refreshed_r = w.refreshed;
	return 0;
}

bool status_warning(const pp_printer_status_t *status, char *warning_r, size_t warning_size)
{
	static const struct {
		const char *reason;
		const char *words;
	} warnings[] = {
		{"media-jam", "jammed"},	   {"media-empty", "out of paper"},
		{"media-needed", "out of paper"},  {"door-open", "door open"},
		{"cover-open", "door open"},	   {"toner-empty", "out of toner"},
		{"marker-supply-empty", "out of toner"},
	};
	warning_r[0] = '\0';
	if (status->state == PP_PRINTER_STATE_OFFLINE || probe_reasons_has(status->reasons, "offline"))
		(void)probe_reasons_add(warning_r, warning_size, "offline");
	for (size_t i = 0; i < sizeof(warnings) / sizeof(warnings[0]); i++) {
		if (probe_reasons_has(status->reasons, warnings[i].reason))
			(void)probe_reasons_add(warning_r, warning_size, warnings[i].words);
	}
	if (warning_r[0] == '\0' && status->state == PP_PRINTER_STATE_STOPPED)
		(void)probe_reasons_add(warning_r, warning_size, "stopped");
	/* The comma list reads as words for people: "jammed, out of paper". */
	char words[512] = "";
	size_t used = 0;
	for (const char *p = warning_r; *p != '\0' && used + 3 < sizeof(words); p++) {
		words[used++] = *p;
		if (*p == ',')
			words[used++] = ' ';
	}
	words[used] = '\0';
	(void)str_copy(warning_r, warning_size, words);
	return warning_r[0] != '\0';
}

bool status_check_before_release(pp_core_t *core, const pp_printer_t *printer, char *warning_r,
				 size_t warning_size)
{
	warning_r[0] = '\0';
	pp_status_entry_t *entry = calloc(1, sizeof(*entry));
	if (entry == NULL)
		return false;
	char error[512];
	int rc = status_get(core, printer->id, entry, error, sizeof(error));
	if (rc == STATUS_NOT_FOUND ||
	    (rc == 0 && core_now(core) - entry->checked_at > STATUS_RELEASE_MAX_AGE_S))
		rc = status_refresh(core, printer, entry, error, sizeof(error));
	bool has_warning = false;
	if (rc < 0)
		log_warn("printer.status_failed printer=%s error=\"%s\" "
			 "action=\"releasing without a status check\"",
			 printer->name, error);
	else
		has_warning = status_warning(&entry->status, warning_r, warning_size);
	free(entry);
	return has_warning;
}
