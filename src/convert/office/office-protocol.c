/*
 * office-protocol.c - the frames the worker and its office host exchange (format in
 * office-private.h), and the file:/// URLs by which LibreOffice is told which files to read
 * and write.
 */
#include "convert/office/office-private.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int office_frame_write(int fd, const char *data, size_t len)
{
	if (len > OFFICE_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	uint8_t frame[4 + OFFICE_FRAME_MAX];
	frame[0] = (uint8_t)(len >> 24);
	frame[1] = (uint8_t)(len >> 16);
	frame[2] = (uint8_t)(len >> 8);
	frame[3] = (uint8_t)len;
	memcpy(frame + 4, data, len);
	size_t total = 4 + len;
	size_t done = 0;
	while (done < total) {
		/* send(MSG_NOSIGNAL): a host that died must not take the worker down by SIGPIPE. */
		ssize_t n = send(fd, frame + done, total - done, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Milliseconds on the monotonic clock. */
static int64_t office_now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly len bytes before deadline_ms (-1 = none). */
static office_read_status_t office_read_exact(int fd, int64_t deadline_ms, uint8_t *buf,
					      size_t len)
{
	size_t done = 0;
	while (done < len) {
		int wait_ms = -1;
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - office_now_ms();
			if (left <= 0)
				return OFFICE_READ_TIMEOUT;
			wait_ms = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = poll(&pfd, 1, wait_ms);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return OFFICE_READ_ERROR;
		}
		if (ready == 0)
			return OFFICE_READ_TIMEOUT;
		ssize_t n = read(fd, buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* A peer that died mid-conversation resets the connection. */
			return errno == ECONNRESET ? OFFICE_READ_EOF : OFFICE_READ_ERROR;
		}
		if (n == 0)
			return OFFICE_READ_EOF;
		done += (size_t)n;
	}
	return OFFICE_READ_OK;
}

office_read_status_t office_frame_read(int fd, int timeout_ms, char *buf, size_t size,
				       size_t *len_r)
{
	int64_t deadline_ms = timeout_ms < 0 ? -1 : office_now_ms() + timeout_ms;
	uint8_t header[4];
	office_read_status_t status = office_read_exact(fd, deadline_ms, header, sizeof(header));
	if (status != OFFICE_READ_OK)
		return status;
	size_t len = ((size_t)header[0] << 24) | ((size_t)header[1] << 16) |
		     ((size_t)header[2] << 8) | header[3];
	if (len > OFFICE_FRAME_MAX || len >= size) {
		errno = EMSGSIZE;
		return OFFICE_READ_ERROR;
	}
	status = office_read_exact(fd, deadline_ms, (uint8_t *)buf, len);
	if (status != OFFICE_READ_OK)
		return status;
	if (memchr(buf, '\0', len) != NULL) {
		errno = EPROTO;
		return OFFICE_READ_ERROR;
	}
	buf[len] = '\0';
	*len_r = len;
	return OFFICE_READ_OK;
}

bool office_file_url(const char *path, char *url_r, size_t url_size)
{
	static const char prefix[] = "file://";
	static const char hex[] = "0123456789ABCDEF";
	if (path == NULL || path[0] != '/' || url_size < sizeof(prefix))
		return false;
	memcpy(url_r, prefix, sizeof(prefix) - 1);
	size_t pos = sizeof(prefix) - 1;
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		/* Unreserved characters and '/' stay; every other byte is %XX (RFC 3986). */
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			    *p == '~' || *p == '/';
		size_t need = keep ? 1 : 3;
		if (url_size - pos <= need) {
			url_r[0] = '\0';
			return false;
		}
		if (keep) {
			url_r[pos++] = (char)*p;
		} else {
			url_r[pos++] = '%';
			url_r[pos++] = hex[*p >> 4];
			url_r[pos++] = hex[*p & 0x0f];
		}
	}
	url_r[pos] = '\0';
	return true;
}
