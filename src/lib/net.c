/* net.c - small network checks; see net.h. */
#include "lib/net.h"

#include "lib/str.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

bool net_tcp_port_opens(const char *host, unsigned port, int timeout_ms)
{
	char service[16];
	if (!str_format(service, sizeof(service), "%u", port))
		return false;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, service, &hints, &res) != 0)
		return false;
	bool is_open = false;
	for (struct addrinfo *ai = res; ai != NULL && !is_open; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			is_open = true;
		} else if (errno == EINPROGRESS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int err = 0;
			socklen_t len = sizeof(err);
			is_open = poll(&pfd, 1, timeout_ms) == 1 &&
				  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
		}
		(void)close(fd); /* a probe: nothing was written, nothing to lose */
	}
	freeaddrinfo(res);
	return is_open;
}
