/*
 * deliver-socket.c - AppSocket/RAW (JetDirect, port 9100): the print data as is, optionally
 * wrapped in a PJL envelope (pjl.h) that carries the job name, user and options. The
 * protocol has no answer, so "done" means: every byte was written, our side of the
 * connection was shut down, and the printer either closed its side (it has read the job)
 * or acknowledged every byte at the TCP level within the I/O timeout.
 */
#include "output/deliver-private.h"

#include "output/pjl.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Writes the PJL header or trailer; returns 0 or -1 with the outcome set. */
static int socket_write_pjl(deliver_ctx_t *ctx, int fd, bool is_header)
{
	const pp_deliver_request_t *req = ctx->req;
	pp_pjl_job_t job = {
		.job_name = req->job_name,
		.user_name = req->user_name,
		.options = req->options,
		.language = req->pjl_language,
	};
	char text[PJL_HEADER_MAX];
	size_t len = 0;
	char error[256];
	int rc = is_header ? pjl_header(&job, text, sizeof(text), &len, error, sizeof(error))
			   : pjl_trailer(&job, text, sizeof(text), &len, error, sizeof(error));
	if (rc != 0) {
		deliver_set(ctx, DELIVER_PERMANENT, "%s", error);
		return -1;
	}
	return deliver_net_write(ctx, fd, text, len);
}

/*
 * After the last byte: half-close, then wait up to the I/O timeout for the printer to close
 * (reading and dropping any status it sends back). Sets the outcome.
 */
static void socket_finish(deliver_ctx_t *ctx, int fd)
{
	if (shutdown(fd, SHUT_WR) != 0) {
		deliver_set(ctx, DELIVER_RETRY, "ending the job on the connection failed: %s",
			    strerror(errno));
		return;
	}
	char drain[512];
	int64_t limit_ms = deliver_elapsed_ms(ctx) + (int64_t)ctx->io_timeout_s * 1000;
	for (;;) {
		ssize_t n = recv(fd, drain, sizeof(drain), 0);
		if (n == 0) {
			deliver_set(ctx, DELIVER_DONE, "sent %lld bytes; the printer closed the "
				    "connection", (long long)ctx->result->bytes_sent);
			return;
		}
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* A reset after every byte was acknowledged still delivered the job. */
			break;
		}
		int64_t left = limit_ms - deliver_elapsed_ms(ctx);
		if (left <= 0 || deliver_is_canceled(ctx))
			break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int slice = left < 250 ? (int)left : 250;
		if (poll(&pfd, 1, slice) < 0 && errno != EINTR)
			break;
	}
	/* The printer kept the connection open (or reset it): the job is delivered when the
	 * kernel has no unacknowledged bytes left for it. */
	int unacked = 0;
	if (ioctl(fd, SIOCOUTQ, &unacked) == 0 && unacked == 0) {
		deliver_set(ctx, DELIVER_DONE, "sent %lld bytes; the printer acknowledged all of "
			    "them", (long long)ctx->result->bytes_sent);
		return;
	}
	deliver_set(ctx, DELIVER_RETRY, "the printer did not take the end of the job within %u s",
		    ctx->io_timeout_s);
}

void deliver_socket_send(deliver_ctx_t *ctx)
{
	int fd = deliver_net_connect(ctx, false);
	if (fd < 0)
		return;
	char *buf = malloc(DELIVER_CHUNK_BYTES);
	if (buf == NULL) {
		deliver_set(ctx, DELIVER_RETRY, "out of memory while sending");
		deliver_net_close(fd);
		return;
	}
	bool is_ok = !ctx->req->use_pjl || socket_write_pjl(ctx, fd, true) == 0;
	while (is_ok) {
		ssize_t n = deliver_read_data(ctx, buf, DELIVER_CHUNK_BYTES);
		if (n < 0) {
			is_ok = false;
			break;
		}
		if (n == 0)
			break;
		if (deliver_net_write(ctx, fd, buf, (size_t)n) != 0) {
			is_ok = false;
			break;
		}
		ctx->result->bytes_sent += n;
	}
	free(buf);
	if (is_ok && ctx->req->use_pjl)
		is_ok = socket_write_pjl(ctx, fd, false) == 0;
	if (is_ok)
		socket_finish(ctx, fd);
	deliver_net_close(fd);
}
