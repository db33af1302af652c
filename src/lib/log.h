/*
 * log.h - one line per event on stderr: time, level, event name and key=value fields.
 *
 * journald (or the terminal) picks the lines up. A line names its object (job=…, printer=…,
 * user=<hash>) and never carries a confirmation code, password, token or mail credential:
 * callers pass identifiers, never secrets.
 */
#ifndef PP_LOG_H
#define PP_LOG_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum {
	PP_LOG_DEBUG = 0,
	PP_LOG_INFO,
	PP_LOG_WARN,
	PP_LOG_ERROR,
} pp_log_level_t;

/* Sets the lowest level written; lines below it are dropped. Thread-safe. */
void log_set_level(pp_log_level_t level);

/* True when a line at level would be written: for callers whose fields cost work to make. */
bool log_is_enabled(pp_log_level_t level);

/* Parses "debug", "info", "warn" or "error". Returns false for anything else. */
bool log_level_parse(const char *name, pp_log_level_t *level_r);

/*
 * Writes one line: "<UTC time> <level> <event> <fields>". The format is printf-like and
 * should read "event.name key=%s key=%d". Newlines and control characters in the formatted
 * text are escaped, so hostile input cannot forge a second line. Thread-safe.
 */
void pp_log(pp_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pp_logv(pp_log_level_t level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_debug(...) pp_log(PP_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) pp_log(PP_LOG_INFO, __VA_ARGS__)
#define log_warn(...) pp_log(PP_LOG_WARN, __VA_ARGS__)
#define log_error(...) pp_log(PP_LOG_ERROR, __VA_ARGS__)

#endif
