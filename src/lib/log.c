/*
 * log.c - the event log on stderr. One write(2) per line so that lines from several threads
 * never interleave.
 */
#include "lib/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static atomic_int log_min_level = PP_LOG_INFO;

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(pp_log_level_t level)
{
	atomic_store(&log_min_level, (int)level);
}

bool log_level_parse(const char *name, pp_log_level_t *level_r)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(name, log_level_names[i]) == 0) {
			*level_r = (pp_log_level_t)i;
			return true;
		}
	}
	return false;
}

/* Copies src into dst, escaping control characters so one event stays one line. */
static size_t log_escape(char *dst, size_t cap, const char *src)
{
	size_t pos = 0;
	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			if (cap - pos < 5)
				break;
			int n = snprintf(dst + pos, cap - pos, "\\x%02x", *p);
			if (n < 0)
				break;
			pos += (size_t)n;
		} else {
			if (cap - pos < 2)
				break;
			dst[pos++] = (char)*p;
		}
	}
	dst[pos] = '\0';
	return pos;
}

bool log_is_enabled(pp_log_level_t level)
{
	return (int)level >= atomic_load(&log_min_level);
}

void pp_logv(pp_log_level_t level, const char *fmt, va_list ap)
{
	if (!log_is_enabled(level))
		return;

	char message[LOG_LINE_MAX];
	int n = vsnprintf(message, sizeof(message), fmt, ap);
	if (n < 0)
		return;

	struct timespec now;
	struct tm tm;
	char stamp[64] = "?";
	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm) != NULL) {
		char seconds[32];
		if (strftime(seconds, sizeof(seconds), "%Y-%m-%dT%H:%M:%S", &tm) > 0)
			(void)snprintf(stamp, sizeof(stamp), "%s.%03dZ", seconds,
				       (int)(now.tv_nsec / 1000000L));
	}

	char line[LOG_LINE_MAX + 128];
	int head = snprintf(line, sizeof(line), "%s %s ", stamp, log_level_names[level]);
	if (head < 0 || (size_t)head >= sizeof(line))
		return;
	size_t len = (size_t)head;
	/* Leave room for the truncation mark and the newline. */
	len += log_escape(line + len, sizeof(line) - len - 8, message);
	if ((size_t)n >= sizeof(message)) {
		memcpy(line + len, " [...]", 6);
		len += 6;
	}
	line[len++] = '\n';

	int saved_errno = errno;
	const char *p = line;
	while (len > 0) {
		ssize_t w = write(STDERR_FILENO, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* Nowhere left to report a failing log. */
		}
		p += w;
		len -= (size_t)w;
	}
	errno = saved_errno;
}

void pp_log(pp_log_level_t level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pp_logv(level, fmt, ap);
	va_end(ap);
}
