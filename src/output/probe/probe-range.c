/*
 * probe-range.c - probing the addresses an admin names (one host or an IPv4 range up to a
 * /24): SNMP, IPP Get-Printer-Attributes and a TCP connect to port 9100 on each, a bounded
 * number of addresses at once on worker threads. See probe.h.
 */
#include "output/probe/probe-private.h"

#include "lib/net.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROBE_CONCURRENCY_DEFAULT 32
#define PROBE_CONCURRENCY_MAX 64
#define PROBE_IPP_RANGE_TIMEOUT_MS 2000
#define PROBE_SOCKET_PORT 9100

int probe_range_expand(const char *target, char (**hosts_r)[PROBE_HOST_MAX], size_t *count_r,
		       char *error, size_t error_size)
{
	*hosts_r = NULL;
	*count_r = 0;
	const char *slash = strchr(target, '/');
	if (target[0] == '\0' || strlen(target) >= PROBE_HOST_MAX) {
		(void)str_format(error, error_size, "probe: give a host name, an address or an "
						    "IPv4 range such as 192.0.2.0/24");
		return -1;
	}
	if (slash == NULL) {
		/* One host: a name or an address, checked only for characters a host may hold. */
		for (const char *p = target; *p != '\0'; p++) {
			char c = *p;
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
			      c == '_')) {
				(void)str_format(error, error_size,
						 "probe: %s is not a host name or address", target);
				return -1;
			}
		}
		*hosts_r = calloc(1, sizeof(**hosts_r));
		if (*hosts_r == NULL) {
			(void)str_format(error, error_size, "probe: out of memory");
			return -1;
		}
		(void)str_copy((*hosts_r)[0], PROBE_HOST_MAX, target);
		*count_r = 1;
		return 0;
	}

	char net_text[INET_ADDRSTRLEN];
	size_t net_len = (size_t)(slash - target);
	uint64_t prefix = 0;
	struct in_addr net;
	if (net_len >= sizeof(net_text)) {
		(void)str_format(error, error_size, "probe: %s is not an IPv4 range", target);
		return -1;
	}
	memcpy(net_text, target, net_len);
	net_text[net_len] = '\0';
	if (inet_pton(AF_INET, net_text, &net) != 1 || !parse_uint64_full(slash + 1, 32, &prefix)) {
		(void)str_format(error, error_size,
				 "probe: %s is not an IPv4 range (write it as 192.0.2.0/24)", target);
		return -1;
	}
	if (prefix < 24) {
		(void)str_format(error, error_size,
				 "probe: %s has more than %d addresses: probe a /24 or smaller at "
				 "a time",
				 target, PROBE_RANGE_MAX);
		return -1;
	}
	uint32_t size = 1u << (32 - prefix);
	uint32_t base = ntohl(net.s_addr) & ~(size - 1);
	uint32_t first = base, last = base + size - 1;
	if (prefix < 31) {
		first++; /* the network and broadcast addresses hold no printer */
		last--;
	}
	*hosts_r = calloc(last - first + 1, sizeof(**hosts_r));
	if (*hosts_r == NULL) {
		(void)str_format(error, error_size, "probe: out of memory");
		return -1;
	}
	for (uint32_t a = first; a <= last; a++) {
		struct in_addr addr = {.s_addr = htonl(a)};
		if (inet_ntop(AF_INET, &addr, (*hosts_r)[*count_r], PROBE_HOST_MAX) != NULL)
			(*count_r)++;
	}
	return 0;
}

/* Probes one address into *r. */
static void probe_one(const char *host, const pp_probe_options_t *options, pp_probe_result_t *r)
{
	memset(r, 0, sizeof(*r));
	(void)str_copy(r->host, sizeof(r->host), host);
	char error[256];
	r->has_snmp = probe_snmp(host, &options->snmp, &r->snmp, error, sizeof(error)) == 0;

	bool is_v6 = strchr(host, ':') != NULL;
	unsigned ipp_port = options->ipp_port != 0 ? options->ipp_port : 631;
	int ipp_timeout = options->ipp_timeout_ms > 0 ? options->ipp_timeout_ms
						      : PROBE_IPP_RANGE_TIMEOUT_MS;
	char uri[PROBE_URI_MAX];
	if (str_format(uri, sizeof(uri), "ipp://%s%s%s:%u/ipp/print", is_v6 ? "[" : "", host,
		       is_v6 ? "]" : "", ipp_port) &&
	    net_tcp_port_opens(host, ipp_port, ipp_timeout))
		r->has_ipp = probe_ipp(uri, ipp_timeout, &r->caps, NULL, error, sizeof(error)) == 0;
	if (r->has_ipp) {
		(void)str_copy(r->uri, sizeof(r->uri), uri);
	} else {
		printer_caps_default(&r->caps);
		r->has_socket = net_tcp_port_opens(host, PROBE_SOCKET_PORT, ipp_timeout);
		if (r->has_socket)
			(void)str_format(r->uri, sizeof(r->uri), "socket://%s%s%s:%d",
					 is_v6 ? "[" : "", host, is_v6 ? "]" : "",
					 PROBE_SOCKET_PORT);
	}
	if (r->has_snmp) {
		/* SNMP's model wins over the default caps' empty one; IPP's stays. */
		probe_snmp_to_caps(&r->snmp, &r->caps);
		/* A raw-port device that SNMP calls a PCL/PJL printer speaks PJL. */
		if (!r->has_ipp && r->has_socket)
			r->caps.speaks_pjl = true;
	}
	r->is_found = r->has_snmp || r->has_ipp || r->has_socket;
}

typedef struct {
	pthread_mutex_t lock;
	size_t next; /* the next address to take */
	size_t count;
	char (*hosts)[PROBE_HOST_MAX];
	pp_probe_result_t *results;
	const pp_probe_options_t *options;
} probe_work_t;

static void *probe_worker(void *arg)
{
	probe_work_t *w = arg;
	for (;;) {
		if (pthread_mutex_lock(&w->lock) != 0)
			abort();
		size_t i = w->next < w->count ? w->next++ : w->count;
		(void)pthread_mutex_unlock(&w->lock);
		if (i >= w->count)
			return NULL;
		probe_one(w->hosts[i], w->options, &w->results[i]);
	}
}

int probe_range(const char *target, const pp_probe_options_t *options,
		pp_probe_result_t **results_r, size_t *count_r, char *error, size_t error_size)
{
	*results_r = NULL;
	*count_r = 0;
	probe_work_t w = {.options = options};
	if (probe_range_expand(target, &w.hosts, &w.count, error, error_size) < 0)
		return -1;
	w.results = calloc(w.count > 0 ? w.count : 1, sizeof(*w.results));
	if (w.results == NULL) {
		free(w.hosts);
		(void)str_format(error, error_size, "probe: out of memory");
		return -1;
	}
	unsigned n_threads = options->concurrency != 0 ? options->concurrency
						       : PROBE_CONCURRENCY_DEFAULT;
	if (n_threads > PROBE_CONCURRENCY_MAX)
		n_threads = PROBE_CONCURRENCY_MAX;
	if (n_threads > w.count)
		n_threads = (unsigned)w.count;
	pthread_t threads[PROBE_CONCURRENCY_MAX];
	unsigned started = 0;
	int rc = pthread_mutex_init(&w.lock, NULL);
	bool has_lock = rc == 0;
	while (has_lock && started < n_threads &&
	       (rc = pthread_create(&threads[started], NULL, probe_worker, &w)) == 0)
		started++;
	/* With at least one thread running every address is still probed. */
	for (unsigned i = 0; i < started; i++)
		(void)pthread_join(threads[i], NULL);
	if (started > 0 || w.count == 0)
		rc = 0;
	if (has_lock)
		(void)pthread_mutex_destroy(&w.lock);
	free(w.hosts);
	if (rc != 0) {
		free(w.results);
		(void)str_format(error, error_size, "probe: cannot start threads: %s", strerror(rc));
		return -1;
	}
	*results_r = w.results;
	*count_r = w.count;
	return 0;
}
