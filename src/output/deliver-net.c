/*
 * deliver-net.c - plain TCP for the socket and LPD transports: a non-blocking connect bounded
 * by the connect timeout, writes and reads bounded by the I/O timeout. Waits are cut into
 * short slices so that the caller's cancel flag is seen within a quarter of a second.
 */
#include "output/deliver-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_SLICE_MS 250
#define LPD_RESERVED_FIRST 721 /* RFC 1179: source ports 721..731 */
#define LPD_RESERVED_LAST 731

void deliver_net_close(int fd)
{
	if (fd >= 0 && close(fd) != 0)
		log_warn("deliver.close_failed fd=%d error=%s", fd, strerror(errno));
}

/*
 * Waits for events on fd for at most timeout_ms, in slices, watching the cancel flag.
 * Returns 1 when ready, 0 on timeout, -2 when canceled, -1 on a poll error (errno set).
 */
static int net_wait(deliver_ctx_t *ctx, int fd, short events, int64_t timeout_ms)
{
	int64_t waited = 0;
	for (;;) {
		if (deliver_is_canceled(ctx))
			return -2;
		int64_t left = timeout_ms - waited;
		if (left <= 0)
			return 0;
		int slice = left < NET_SLICE_MS ? (int)left : NET_SLICE_MS;
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, slice);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n > 0)
			return 1;
		waited += slice;
	}
}

/* Binds fd to source port; returns 0 or -1 (errno set). */
static int net_bind_port(int fd, int family, int port)
{
	if (family == AF_INET) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
		return bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	sin6.sin6_addr = in6addr_any;
	return bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
}

/*
 * Tries one address: socket, optional source port, non-blocking connect, wait. Returns the
 * socket, -1 with *errno_r, or -2 when canceled.
 */
static int net_try_address(deliver_ctx_t *ctx, const struct addrinfo *ai, int source_port,
			   int64_t timeout_ms, int *errno_r)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0) {
		*errno_r = errno;
		return -1;
	}
	if (source_port > 0 && net_bind_port(fd, ai->ai_family, source_port) != 0) {
		*errno_r = errno;
		deliver_net_close(fd);
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			*errno_r = errno;
			deliver_net_close(fd);
			return -1;
		}
		int ready = net_wait(ctx, fd, POLLOUT, timeout_ms);
		if (ready <= 0) {
			*errno_r = ready == 0 ? ETIMEDOUT : errno;
			deliver_net_close(fd);
			return ready == -2 ? -2 : -1;
		}
		int so_error = 0;
		socklen_t len = sizeof(so_error);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
			so_error = errno;
		if (so_error != 0) {
			*errno_r = so_error;
			deliver_net_close(fd);
			return -1;
		}
	}
	return fd;
}

int deliver_net_connect(deliver_ctx_t *ctx, bool reserved_port)
{
	char port[16];
	str_format(port, sizeof(port), "%d", ctx->uri.port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *list = NULL;
	int rc = getaddrinfo(ctx->uri.host, port, &hints, &list);
	if (rc != 0) {
		deliver_set(ctx, DELIVER_RETRY, "cannot find printer host %s: %s (check the name "
			    "and the DNS)", ctx->uri.host, gai_strerror(rc));
		return -1;
	}
	int64_t deadline_ms = deliver_elapsed_ms(ctx) + (int64_t)ctx->connect_timeout_s * 1000;
	int last_errno = ECONNREFUSED;
	int fd = -1;
	for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		/* LPD servers may insist on a reserved source port, which only root can bind;
		 * when none is free (or we are not root) an ordinary port still works with most. */
		int first = reserved_port && geteuid() == 0 ? LPD_RESERVED_FIRST : 0;
		for (int source = first; fd < 0; source++) {
			bool is_last = source == 0 || source > LPD_RESERVED_LAST;
			int use_port = is_last ? 0 : source;
			int64_t left = deadline_ms - deliver_elapsed_ms(ctx);
			if (left <= 0) {
				last_errno = ETIMEDOUT;
				break;
			}
			int got = net_try_address(ctx, ai, use_port, left, &last_errno);
			if (got == -2) {
				freeaddrinfo(list);
				deliver_set(ctx, DELIVER_CANCELED, "canceled while connecting");
				return -1;
			}
			if (got >= 0)
				fd = got;
			bool port_busy = last_errno == EADDRINUSE || last_errno == EADDRNOTAVAIL ||
					 last_errno == EACCES;
			if (got < 0 && (is_last || !port_busy))
				break;
			if (is_last)
				break;
		}
	}
	freeaddrinfo(list);
	if (fd < 0) {
		if (last_errno == ETIMEDOUT)
			deliver_set(ctx, DELIVER_RETRY, "no answer from %s port %d within %u s (check "
				    "that the printer is on and reachable)", ctx->uri.host,
				    ctx->uri.port, ctx->connect_timeout_s);
		else
			deliver_set(ctx, DELIVER_RETRY, "cannot connect to %s port %d: %s (check that "
				    "the printer is on and the port is right)", ctx->uri.host,
				    ctx->uri.port, strerror(last_errno));
		return -1;
	}
	return fd;
}

int deliver_net_write(deliver_ctx_t *ctx, int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		if (deliver_is_canceled(ctx)) {
			deliver_set(ctx, DELIVER_CANCELED, "canceled while sending; the printer may "
				    "have received part of the job");
			return -1;
		}
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ready = net_wait(ctx, fd, POLLOUT, (int64_t)ctx->io_timeout_s * 1000);
			if (ready == 1)
				continue;
			if (ready == -2)
				continue; /* reported at the top of the loop */
			if (ready == 0) {
				deliver_set(ctx, DELIVER_RETRY, "the printer took no data for %u s "
					    "(busy, out of paper or stalled)", ctx->io_timeout_s);
				return -1;
			}
		}
		deliver_set(ctx, DELIVER_RETRY, "sending to the printer failed: %s",
			    n < 0 ? strerror(errno) : "connection closed");
		return -1;
	}
	return 0;
}

int deliver_net_read_byte(deliver_ctx_t *ctx, int fd, uint8_t *byte_r)
{
	for (;;) {
		ssize_t n = recv(fd, byte_r, 1, 0);
		if (n == 1)
			return 1;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			deliver_set(ctx, DELIVER_RETRY, "reading from the printer failed: %s",
				    strerror(errno));
			return -1;
		}
		int ready = net_wait(ctx, fd, POLLIN, (int64_t)ctx->io_timeout_s * 1000);
		if (ready == 1)
			continue;
		if (ready == -2)
			deliver_set(ctx, DELIVER_CANCELED, "canceled while waiting for the printer");
		else if (ready == 0)
			deliver_set(ctx, DELIVER_RETRY, "the printer did not answer within %u s",
				    ctx->io_timeout_s);
		else
			deliver_set(ctx, DELIVER_RETRY, "waiting for the printer failed: %s",
				    strerror(errno));
		return -1;
	}
}
