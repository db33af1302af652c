/*
 * discover.c - printers announced on the local link by multicast DNS-SD, found through the
 * Avahi daemon (avahi-client on a simple poll owned by the caller's thread): _ipp._tcp,
 * _ipps._tcp and _pdl-datastream._tcp, each service resolved to an address, a port and the
 * TXT keys that matter (rp, ty, pdl). See probe.h.
 */
#include "output/probe/probe-private.h"

#include "lib/str.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/strlst.h>
#include <avahi-common/timeval.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const char *const discover_types[] = {"_ipp._tcp", "_ipps._tcp", "_pdl-datastream._tcp"};
#define DISCOVER_N_TYPES (sizeof(discover_types) / sizeof(discover_types[0]))

typedef struct {
	AvahiSimplePoll *poll;
	AvahiClient *client;
	size_t all_for_now; /* browsers that reported their cache */
	size_t pending;     /* resolvers not answered yet */
	bool has_failed;
	char failure[256];
	pp_discovered_t *found;
	size_t count;
} discover_t;

/* The value of TXT key in txt into dst[size] ("" when absent). */
static void discover_txt(AvahiStringList *txt, const char *key, char *dst, size_t size)
{
	dst[0] = '\0';
	AvahiStringList *entry = avahi_string_list_find(txt, key);
	char *k = NULL, *value = NULL;
	size_t len = 0;
	if (entry == NULL || avahi_string_list_get_pair(entry, &k, &value, &len) < 0)
		return;
	if (value != NULL)
		probe_text_copy(dst, size, value, len);
	avahi_free(k);
	avahi_free(value);
}

/* True when a TXT rp (resource path) is safe in a URI: [A-Za-z0-9/._-]. */
static bool discover_rp_ok(const char *rp)
{
	for (const char *p = rp; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return rp[0] != '/';
}

/* Builds entry->uri from the type, host and port and the TXT rp. */
static bool discover_uri(pp_discovered_t *entry, AvahiStringList *txt)
{
	bool is_v6 = strchr(entry->host, ':') != NULL;
	const char *open = is_v6 ? "[" : "", *close = is_v6 ? "]" : "";
	if (strcmp(entry->service_type, "_pdl-datastream._tcp") == 0)
		return str_format(entry->uri, sizeof(entry->uri), "socket://%s%s%s:%u", open,
				  entry->host, close, entry->port);
	char rp[256];
	discover_txt(txt, "rp", rp, sizeof(rp));
	if (!discover_rp_ok(rp))
		(void)str_copy(rp, sizeof(rp), "ipp/print");
	const char *scheme = strcmp(entry->service_type, "_ipps._tcp") == 0 ? "ipps" : "ipp";
	return str_format(entry->uri, sizeof(entry->uri), "%s://%s%s%s:%u/%s", scheme, open,
			  entry->host, close, entry->port, rp);
}

static void discover_check_done(discover_t *d)
{
	if (d->all_for_now >= DISCOVER_N_TYPES && d->pending == 0)
		avahi_simple_poll_quit(d->poll);
}

static void discover_resolve_cb(AvahiServiceResolver *r, AvahiIfIndex interface,
				AvahiProtocol protocol, AvahiResolverEvent event, const char *name,
				const char *type, const char *domain, const char *host_name,
				const AvahiAddress *address, uint16_t port, AvahiStringList *txt,
				AvahiLookupResultFlags flags, void *userdata)
{
	(void)interface;
	(void)protocol;
	(void)domain;
	(void)flags;
	discover_t *d = userdata;
	if (event == AVAHI_RESOLVER_FOUND && address != NULL && d->count < DISCOVER_MAX) {
		pp_discovered_t entry = {.port = port};
		probe_text_copy(entry.service_name, sizeof(entry.service_name), name, strlen(name));
		(void)str_copy(entry.service_type, sizeof(entry.service_type), type);
		bool is_v4 = address->proto == AVAHI_PROTO_INET;
		char addr[AVAHI_ADDRESS_STR_MAX];
		if (is_v4 || host_name == NULL) {
			(void)avahi_address_snprint(addr, sizeof(addr), address);
		} else {
			/* A link-local IPv6 address needs its zone in a URI: the .local name
			 * is what CUPS and the OS resolvers use instead. */
			probe_text_copy(addr, sizeof(addr), host_name, strlen(host_name));
		}
		(void)str_copy(entry.host, sizeof(entry.host), addr);
		discover_txt(txt, "ty", entry.make_and_model, sizeof(entry.make_and_model));
		discover_txt(txt, "pdl", entry.formats, sizeof(entry.formats));
		if (entry.host[0] != '\0' && discover_uri(&entry, txt)) {
			/* One entry per service name and type: IPv4 wins over a name. */
			size_t i = 0;
			while (i < d->count && (strcmp(d->found[i].service_name, entry.service_name) != 0 ||
						strcmp(d->found[i].service_type, type) != 0))
				i++;
			struct in_addr v4;
			if (i == d->count)
				d->found[d->count++] = entry;
			else if (is_v4 && inet_pton(AF_INET, d->found[i].host, &v4) != 1)
				d->found[i] = entry;
		}
	}
	avahi_service_resolver_free(r);
	if (d->pending > 0)
		d->pending--;
	discover_check_done(d);
}

static void discover_browse_cb(AvahiServiceBrowser *b, AvahiIfIndex interface,
			       AvahiProtocol protocol, AvahiBrowserEvent event, const char *name,
			       const char *type, const char *domain, AvahiLookupResultFlags flags,
			       void *userdata)
{
	(void)b;
	(void)flags;
	discover_t *d = userdata;
	switch (event) {
	case AVAHI_BROWSER_NEW:
		if (avahi_service_resolver_new(d->client, interface, protocol, name, type, domain,
					       AVAHI_PROTO_UNSPEC, 0, discover_resolve_cb, d) != NULL)
			d->pending++;
		break;
	case AVAHI_BROWSER_ALL_FOR_NOW:
		d->all_for_now++;
		discover_check_done(d);
		break;
	case AVAHI_BROWSER_FAILURE:
		d->has_failed = true;
		(void)str_format(d->failure, sizeof(d->failure), "browsing failed: %s",
				 avahi_strerror(avahi_client_errno(d->client)));
		avahi_simple_poll_quit(d->poll);
		break;
	default:
		break;
	}
}

static void discover_client_cb(AvahiClient *client, AvahiClientState state, void *userdata)
{
	discover_t *d = userdata;
	if (state == AVAHI_CLIENT_FAILURE) {
		d->has_failed = true;
		(void)str_format(d->failure, sizeof(d->failure), "%s",
				 avahi_strerror(avahi_client_errno(client)));
		avahi_simple_poll_quit(d->poll);
	}
}

static void discover_timeout_cb(AvahiTimeout *timeout, void *userdata)
{
	(void)timeout;
	discover_t *d = userdata;
	avahi_simple_poll_quit(d->poll);
}

int discover_browse(int timeout_ms, pp_discovered_t **found_r, size_t *count_r, char *error,
		    size_t error_size)
{
	*found_r = NULL;
	*count_r = 0;
	discover_t d = {0};
	d.found = calloc(DISCOVER_MAX, sizeof(*d.found));
	d.poll = avahi_simple_poll_new();
	if (d.found == NULL || d.poll == NULL) {
		free(d.found);
		if (d.poll != NULL)
			avahi_simple_poll_free(d.poll);
		(void)str_format(error, error_size, "discover: out of memory");
		return -1;
	}
	const AvahiPoll *api = avahi_simple_poll_get(d.poll);
	int avahi_error = 0;
	d.client = avahi_client_new(api, 0, discover_client_cb, &d, &avahi_error);
	if (d.client == NULL) {
		(void)str_format(error, error_size,
				 "discover: cannot reach the Avahi daemon (%s): start avahi-daemon "
				 "(systemctl start avahi-daemon), or add printers by address with "
				 "`pullprint printers probe HOST|CIDR`",
				 avahi_strerror(avahi_error));
		avahi_simple_poll_free(d.poll);
		free(d.found);
		return -1;
	}
	AvahiServiceBrowser *browsers[DISCOVER_N_TYPES] = {0};
	for (size_t i = 0; i < DISCOVER_N_TYPES && !d.has_failed; i++) {
		browsers[i] = avahi_service_browser_new(d.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
							discover_types[i], NULL, 0,
							discover_browse_cb, &d);
		if (browsers[i] == NULL) {
			d.has_failed = true;
			(void)str_format(d.failure, sizeof(d.failure), "cannot browse %s: %s",
					 discover_types[i],
					 avahi_strerror(avahi_client_errno(d.client)));
		}
	}
	if (!d.has_failed) {
		struct timeval deadline;
		avahi_elapse_time(&deadline, (unsigned)(timeout_ms > 0 ? timeout_ms : 5000), 0);
		AvahiTimeout *timer = api->timeout_new(api, &deadline, discover_timeout_cb, &d);
		if (timer != NULL)
			(void)avahi_simple_poll_loop(d.poll);
		else
			(void)str_format(d.failure, sizeof(d.failure), "cannot set a timer");
		d.has_failed |= timer == NULL;
	}
	for (size_t i = 0; i < DISCOVER_N_TYPES; i++) {
		if (browsers[i] != NULL)
			avahi_service_browser_free(browsers[i]);
	}
	/* Freeing the client frees the resolvers still open and the timer with the poll. */
	avahi_client_free(d.client);
	avahi_simple_poll_free(d.poll);
	if (d.has_failed) {
		(void)str_format(error, error_size,
				 "discover: %s — check the Avahi daemon (avahi-daemon), or add "
				 "printers by address with `pullprint printers probe HOST|CIDR`",
				 d.failure);
		free(d.found);
		return -1;
	}
	*found_r = d.found;
	*count_r = d.count;
	return 0;
}
