/*
 * net.h - small network checks shared by the parts that talk to other machines (the
 * directory's failover, printer probes and status).
 */
#ifndef PP_NET_H
#define PP_NET_H

#include <stdbool.h>

/*
 * Whether a TCP connection to host:port (a name or an address; every address it resolves to
 * is tried in turn) opens within timeout_ms each. Nothing is written; the connection is
 * closed at once. Resolving the name is not bounded by timeout_ms.
 */
bool net_tcp_port_opens(const char *host, unsigned port, int timeout_ms);

#endif
