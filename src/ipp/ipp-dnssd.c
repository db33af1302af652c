/*
 * ipp-dnssd.c - the multicast DNS-SD advertisement of the IPP service through the Avahi
 * daemon (libavahi-client on its own threaded poll): _ipps._tcp with the _universal and
 * _print subtypes, and _ipp._tcp when the plain HTTP port is on. See ipp-dnssd.h.
 *
 * Every Avahi object is touched only on the poll thread (callbacks) or, at start and stop,
 * while that thread is not running, so no lock is needed. The client is made with
 * AVAHI_CLIENT_NO_FAIL: a daemon that is not running yet, or restarts, is waited for rather
 * than failing; the service is registered whenever the daemon reaches S_RUNNING.
 */
#include "ipp/ipp-dnssd.h"

#include "lib/log.h"
#include "lib/str.h"

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>
#include <stdlib.h>
#include <string.h>

#define DNSSD_UNAVAILABLE_ACTION                                                              \
	"printers must be added by address or via unicast DNS-SD records (pullprint "         \
	"dns-sd-records)"

struct pp_dnssd {
	pp_dnssd_config_t cfg;
	char name[DNSSD_NAME_MAX]; /* the name in use: cfg.name, renamed on collisions */
	AvahiThreadedPoll *poll;
	const AvahiPoll *api;
	AvahiClient *client;
	AvahiEntryGroup *group;
	AvahiTimeout *reconnect; /* armed when the daemon went away: make a new client */
	bool is_unavailable_logged; /* the "no daemon" line is written once */
};

static void dnssd_client_cb(AvahiClient *client, AvahiClientState state, void *userdata);

/* Logs the one line that says discovery is off and what to do instead. */
static void dnssd_log_unavailable(pp_dnssd_t *d, const char *reason)
{
	if (d->is_unavailable_logged)
		return;
	d->is_unavailable_logged = true;
	log_warn("dnssd.unavailable reason=\"%s\" action=\"%s\"", reason, DNSSD_UNAVAILABLE_ACTION);
}

/* A new Avahi string list of txt's entries; NULL when out of memory. */
static AvahiStringList *dnssd_strlst(const pp_dnssd_txt_t *txt)
{
	AvahiStringList *list = NULL;
	/* avahi_string_list_add prepends: add in reverse to keep the record's order. */
	for (size_t i = txt->count; i > 0; i--) {
		AvahiStringList *next = avahi_string_list_add(list, txt->entries[i - 1]);
		if (next == NULL) {
			avahi_string_list_free(list);
			return NULL;
		}
		list = next;
	}
	return list;
}

/* Adds one service type with its subtypes to the group. Returns an AVAHI_ERR_* code. */
static int dnssd_add_service(pp_dnssd_t *d, const char *type, uint16_t port,
			     const pp_dnssd_txt_t *txt)
{
	AvahiStringList *list = dnssd_strlst(txt);
	if (list == NULL)
		return AVAHI_ERR_NO_MEMORY;
	int rc = avahi_entry_group_add_service_strlst(d->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
						      0, d->name, type, NULL, NULL, port, list);
	avahi_string_list_free(list);
	static const char *const subtypes[] = {"_universal", "_print"};
	for (size_t i = 0; rc == AVAHI_OK && i < sizeof(subtypes) / sizeof(subtypes[0]); i++) {
		char subtype[64];
		if (!str_format(subtype, sizeof(subtype), "%s._sub.%s", subtypes[i], type))
			return AVAHI_ERR_INVALID_SERVICE_SUBTYPE;
		rc = avahi_entry_group_add_service_subtype(d->group, AVAHI_IF_UNSPEC,
							   AVAHI_PROTO_UNSPEC, 0, d->name, type,
							   NULL, subtype);
	}
	return rc;
}

/* Picks the next name after a collision ("Pullprint #2"), within DNSSD_NAME_MAX. */
static void dnssd_rename(pp_dnssd_t *d)
{
	char *alt = avahi_alternative_service_name(d->name);
	if (alt == NULL || !str_copy(d->name, sizeof(d->name), alt))
		(void)str_copy(d->name, sizeof(d->name), "Pullprint #2");
	avahi_free(alt);
	log_info("dnssd.renamed name=\"%s\" reason=\"another service on the network has the name\"",
		 d->name);
}

static void dnssd_group_cb(AvahiEntryGroup *group, AvahiEntryGroupState state, void *userdata);

/* Adds the services to the (new or empty) entry group and commits it; poll thread only. */
static void dnssd_register(pp_dnssd_t *d, AvahiClient *client)
{
	if (d->group == NULL) {
		d->group = avahi_entry_group_new(client, dnssd_group_cb, d);
		if (d->group == NULL) {
			log_warn("dnssd.group_failed error=\"%s\" action=\"check the Avahi daemon's log\"",
				 avahi_strerror(avahi_client_errno(client)));
			return;
		}
	}
	if (!avahi_entry_group_is_empty(d->group))
		return;
	for (int attempt = 0; attempt < 10; attempt++) {
		int rc = dnssd_add_service(d, "_ipps._tcp", d->cfg.https_port, &d->cfg.txt_ipps);
		if (rc == AVAHI_OK && d->cfg.http_port != 0)
			rc = dnssd_add_service(d, "_ipp._tcp", d->cfg.http_port, &d->cfg.txt_ipp);
		if (rc == AVAHI_OK)
			rc = avahi_entry_group_commit(d->group);
		if (rc == AVAHI_OK)
			return;
		(void)avahi_entry_group_reset(d->group);
		if (rc != AVAHI_ERR_COLLISION) {
			log_warn("dnssd.register_failed name=\"%s\" error=\"%s\" "
				 "action=\"check the Avahi daemon's log\"",
				 d->name, avahi_strerror(rc));
			return;
		}
		dnssd_rename(d);
	}
	log_warn("dnssd.register_failed name=\"%s\" error=\"too many name collisions\" "
		 "action=\"set a distinct host name\"", d->name);
}

static void dnssd_group_cb(AvahiEntryGroup *group, AvahiEntryGroupState state, void *userdata)
{
	pp_dnssd_t *d = userdata;
	switch (state) {
	case AVAHI_ENTRY_GROUP_ESTABLISHED:
		log_info("dnssd.registered name=\"%s\" https_port=%u http_port=%u", d->name,
			 (unsigned)d->cfg.https_port, (unsigned)d->cfg.http_port);
		break;
	case AVAHI_ENTRY_GROUP_COLLISION:
		/* The daemon withdrew our records: register again under the next name. */
		dnssd_rename(d);
		(void)avahi_entry_group_reset(group);
		d->group = group;
		dnssd_register(d, avahi_entry_group_get_client(group));
		break;
	case AVAHI_ENTRY_GROUP_FAILURE:
		log_warn("dnssd.group_failed error=\"%s\" action=\"check the Avahi daemon's log\"",
			 avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
		break;
	case AVAHI_ENTRY_GROUP_UNCOMMITED:
	case AVAHI_ENTRY_GROUP_REGISTERING:
		break;
	}
}

/* Frees the entry group and the client (poll thread, or the poll stopped). */
static void dnssd_drop_client(pp_dnssd_t *d)
{
	if (d->group != NULL) {
		avahi_entry_group_free(d->group);
		d->group = NULL;
	}
	if (d->client != NULL) {
		avahi_client_free(d->client);
		d->client = NULL;
	}
}

/* Makes a new client; NULL when D-Bus cannot be reached (logged once). */
static void dnssd_connect(pp_dnssd_t *d)
{
	int err = 0;
	AvahiClient *client = avahi_client_new(d->api, AVAHI_CLIENT_NO_FAIL, dnssd_client_cb, d,
					       &err);
	if (client == NULL) {
		char reason[128];
		(void)str_format(reason, sizeof(reason), "cannot reach the Avahi daemon over the D-Bus system bus: %s",
				 avahi_strerror(err));
		dnssd_log_unavailable(d, reason);
		return;
	}
	d->client = client;
}

/* The daemon went away: start over with a fresh client that waits for it. */
static void dnssd_reconnect_cb(AvahiTimeout *timeout, void *userdata)
{
	pp_dnssd_t *d = userdata;
	d->api->timeout_update(timeout, NULL);
	dnssd_drop_client(d);
	dnssd_connect(d);
}

static void dnssd_client_cb(AvahiClient *client, AvahiClientState state, void *userdata)
{
	pp_dnssd_t *d = userdata;
	/* The first call comes from inside avahi_client_new(), before it has returned. */
	if (d->client == NULL)
		d->client = client;
	switch (state) {
	case AVAHI_CLIENT_S_RUNNING:
		if (d->is_unavailable_logged)
			log_info("dnssd.available name=\"%s\"", d->name);
		d->is_unavailable_logged = false;
		dnssd_register(d, client);
		break;
	case AVAHI_CLIENT_S_COLLISION:
	case AVAHI_CLIENT_S_REGISTERING:
		/* The host name is being (re)established: withdraw until S_RUNNING. */
		if (d->group != NULL)
			(void)avahi_entry_group_reset(d->group);
		break;
	case AVAHI_CLIENT_CONNECTING:
		/* Records of a daemon that went away are gone with it: start a new group. */
		if (d->group != NULL) {
			avahi_entry_group_free(d->group);
			d->group = NULL;
		}
		dnssd_log_unavailable(d, "the Avahi daemon is not running (waiting for it)");
		break;
	case AVAHI_CLIENT_FAILURE:
		if (avahi_client_errno(client) == AVAHI_ERR_DISCONNECTED) {
			/* Daemon restart: Avahi asks for a new client (not from inside this call). */
			log_warn("dnssd.disconnected action=\"waiting for the Avahi daemon to return\"");
			struct timeval now;
			d->api->timeout_update(d->reconnect, avahi_elapse_time(&now, 0, 0));
		} else {
			dnssd_log_unavailable(d, avahi_strerror(avahi_client_errno(client)));
		}
		break;
	}
}

int dnssd_start(const pp_dnssd_config_t *cfg, pp_dnssd_t **dnssd_r, char *error,
		size_t error_size)
{
	*dnssd_r = NULL;
	pp_dnssd_t *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	d->cfg = *cfg;
	(void)str_copy(d->name, sizeof(d->name), cfg->name);
	d->poll = avahi_threaded_poll_new();
	if (d->poll == NULL) {
		(void)str_format(error, error_size, "dnssd: cannot make the Avahi poll (out of memory)");
		free(d);
		return -1;
	}
	d->api = avahi_threaded_poll_get(d->poll);
	d->reconnect = d->api->timeout_new(d->api, NULL, dnssd_reconnect_cb, d);
	if (d->reconnect == NULL) {
		(void)str_format(error, error_size, "dnssd: cannot make a timer (out of memory)");
		avahi_threaded_poll_free(d->poll);
		free(d);
		return -1;
	}
	/* The poll thread is not running yet: the first callbacks run here. */
	dnssd_connect(d);
	if (avahi_threaded_poll_start(d->poll) < 0) {
		(void)str_format(error, error_size, "dnssd: cannot start the Avahi thread");
		dnssd_drop_client(d);
		d->api->timeout_free(d->reconnect);
		avahi_threaded_poll_free(d->poll);
		free(d);
		return -1;
	}
	*dnssd_r = d;
	return 0;
}

void dnssd_stop(pp_dnssd_t **dnssd_p)
{
	pp_dnssd_t *d = *dnssd_p;
	if (d == NULL)
		return;
	/* Stopping the thread first: from here on, nothing else touches the Avahi objects. */
	(void)avahi_threaded_poll_stop(d->poll);
	bool was_registered = d->group != NULL;
	dnssd_drop_client(d); /* freeing the group withdraws the records (goodbye packets) */
	d->api->timeout_free(d->reconnect);
	avahi_threaded_poll_free(d->poll);
	if (was_registered)
		log_info("dnssd.withdrawn name=\"%s\"", d->name);
	free(d);
	*dnssd_p = NULL;
}
