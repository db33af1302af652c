/*
 * config.c - the INI start-up configuration, parsed by inih and described by one table so
 * that defaults, parsing, validation and the dump can never disagree.
 */
#include "lib/config.h"

#include "lib/str.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum {
	CONFIG_STRING,
	CONFIG_PATH,
	CONFIG_UINT,
	CONFIG_BYTES,
	CONFIG_BOOL,
	CONFIG_LOG_LEVEL,
	CONFIG_DELAYS, /* pp_config_delays_t: "5s,15s,45s"; each pause within [min, max] ms */
} config_type_t;

typedef struct {
	const char *section;
	const char *name;
	config_type_t type;
	size_t offset;
	size_t size; /* of the char array for strings */
	uint64_t min, max; /* for numbers */
	const char *default_value;
} config_setting_t;

#define STR(sec, name, field, def)                                                             \
	{sec, name, CONFIG_STRING, offsetof(pp_config_t, field),                              \
	 sizeof(((pp_config_t *)0)->field), 0, 0, def}
#define PATHS(sec, name, field, def)                                                           \
	{sec, name, CONFIG_PATH, offsetof(pp_config_t, field),                                \
	 sizeof(((pp_config_t *)0)->field), 0, 0, def}
#define UINT(sec, name, field, lo, hi, def)                                                    \
	{sec, name, CONFIG_UINT, offsetof(pp_config_t, field), sizeof(unsigned), lo, hi, def}
#define BYTES(sec, name, field, lo, hi, def)                                                   \
	{sec, name, CONFIG_BYTES, offsetof(pp_config_t, field), sizeof(uint64_t), lo, hi, def}
#define BOOL(sec, name, field, def)                                                            \
	{sec, name, CONFIG_BOOL, offsetof(pp_config_t, field), sizeof(bool), 0, 1, def}

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)

static const config_setting_t config_settings[] = {
	PATHS("server", "state_dir", state_dir, "/var/lib/pullprint"),
	STR("server", "database", database, ""),
	BOOL("server", "sqlite_preallocate_log", sqlite_preallocate_log, "yes"),
	PATHS("server", "key_file", key_file, ""),
	STR("server", "public_url", public_url, ""),
	{"server", "log_level", CONFIG_LOG_LEVEL, offsetof(pp_config_t, log_level),
	 sizeof(pp_log_level_t), 0, 0, "info"},

	STR("http", "listen_address", listen_address, ""),
	UINT("http", "https_port", https_port, 1, 65535, "8631"),
	UINT("http", "http_port", http_port, 0, 65535, "0"),
	PATHS("http", "tls_certificate", tls_certificate, ""),
	PATHS("http", "tls_key", tls_key, ""),
	UINT("http", "threads", http_threads, 1, 256, "8"),
	UINT("http", "max_connections", max_connections, 4, 100000, "512"),
	UINT("http", "max_connections_per_ip", max_connections_per_ip, 0, 100000, "64"),
	BYTES("http", "max_request_bytes", max_request_bytes, 4 * KIB, 64 * MIB, "1M"),
	UINT("http", "request_timeout_s", request_timeout_s, 1, 3600, "120"),

	PATHS("spool", "spool_dir", spool_dir, ""),
	BOOL("spool", "encrypt", spool_encrypt, "yes"),
	BOOL("spool", "shared", spool_is_shared, "no"),
	BYTES("spool", "max_document_bytes", max_document_bytes, 1 * KIB, 64 * GIB, "1G"),
	BYTES("spool", "inline_max_bytes", spool_inline_max_bytes, 0, 16 * MIB, "256K"),

	UINT("jobs", "sweep_interval_s", sweep_interval_s, 1, 86400, "60"),

	BOOL("ipp", "dnssd", ipp_dnssd, "yes"),

	BOOL("convert", "local", convert_local, "yes"),
	UINT("convert", "workers", convert_workers, 0, 64, "0"),
	PATHS("convert", "program", convert_program, ""),
	STR("convert", "user", convert_user, "pullprint-convert"),
	PATHS("convert", "tmp_dir", convert_tmp_dir, ""),
	UINT("convert", "timeout_s", convert_timeout_s, 5, 3600, "120"),
	UINT("convert", "cpu_s", convert_cpu_s, 1, 3600, "60"),
	BYTES("convert", "memory", convert_memory, 64 * MIB, 64 * GIB, "2G"),
	UINT("convert", "max_pages", convert_max_pages, 1, 100000, "5000"),
	UINT("convert", "max_image_mpixels", convert_max_image_mpixels, 1, 10000, "100"),
	UINT("convert", "thumbnails", convert_thumbnails, 0, 1000, "4"),
	PATHS("convert", "office_dir", convert_office_dir, "/usr/lib/libreoffice/program"),
	UINT("convert", "office_max_documents", convert_office_max_documents, 1, 100000, "200"),
	PATHS("convert", "ghostscript", convert_ghostscript, "/usr/bin/gs"),
	UINT("convert", "max_attempts", convert_max_attempts, 1, 10, "2"),

	{"delivery", "retry_delays", CONFIG_DELAYS, offsetof(pp_config_t, delivery_retry_delays),
	 sizeof(pp_config_delays_t), 1, 3600000, "5s,15s,45s"},
	UINT("delivery", "connect_timeout_s", delivery_connect_timeout_s, 1, 600, "10"),
	UINT("delivery", "write_timeout_s", delivery_write_timeout_s, 1, 3600, "60"),
	UINT("delivery", "follow_timeout_s", delivery_follow_timeout_s, 1, 86400, "600"),
	UINT("delivery", "threads", delivery_threads, 1, 256, "32"),
};

#define CONFIG_SETTING_COUNT (sizeof(config_settings) / sizeof(config_settings[0]))

/* Parses "1048576", "512K", "100M" or "1G" into bytes, within [min, max]. */
static bool config_parse_bytes(const char *s, uint64_t min, uint64_t max, uint64_t *value_r)
{
	const char *p = s;
	uint64_t number;
	if (!parse_uint64(&p, UINT64_MAX / GIB, &number))
		return false;
	uint64_t unit = 1;
	if (*p == 'K' || *p == 'k')
		unit = KIB;
	else if (*p == 'M' || *p == 'm')
		unit = MIB;
	else if (*p == 'G' || *p == 'g')
		unit = GIB;
	if (unit != 1)
		p++;
	if (*p != '\0')
		return false;
	uint64_t value = number * unit;
	if (value < min || value > max)
		return false;
	*value_r = value;
	return true;
}

/*
 * Parses "5s,15s,45s" (each a whole number with the unit ms, s or m; at most
 * CONFIG_DELIVERY_RETRIES_MAX, each within [min_ms, max_ms]) into *delays_r; "none" is the
 * empty list. Spaces around the commas are allowed. Returns a reason on failure, else NULL.
 */
static const char *config_parse_delays(const char *s, uint64_t min_ms, uint64_t max_ms,
				       pp_config_delays_t *delays_r)
{
	static const char reason[] =
		"not a list of pauses such as 5s,15s,45s (units ms, s or m; at most 8 of "
		"1 ms to 60 m each) or none";
	pp_config_delays_t delays = {.count = 0};
	if (strcmp(s, "none") == 0) {
		*delays_r = delays;
		return NULL;
	}
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		uint64_t number;
		if (delays.count == CONFIG_DELIVERY_RETRIES_MAX || !parse_uint64(&p, max_ms, &number))
			return reason;
		uint64_t unit;
		if (p[0] == 'm' && p[1] == 's') {
			unit = 1;
			p += 2;
		} else if (p[0] == 's') {
			unit = 1000;
			p++;
		} else if (p[0] == 'm') {
			unit = 60000;
			p++;
		} else {
			return reason; /* a bare number: seconds or milliseconds? say which */
		}
		if (number > max_ms / unit || number * unit < min_ms)
			return reason;
		delays.ms[delays.count++] = (unsigned)(number * unit);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return reason;
	}
	*delays_r = delays;
	return NULL;
}

/* Stores value into the field the setting describes; returns a reason on failure. */
static const char *config_apply(pp_config_t *cfg, const config_setting_t *setting,
				const char *value)
{
	char *field = (char *)cfg + setting->offset;
	switch (setting->type) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		if (!str_copy(field, setting->size, value))
			return "value too long";
		return NULL;
	case CONFIG_UINT: {
		uint64_t number;
		if (!parse_uint64_full(value, setting->max, &number) || number < setting->min)
			return "not a whole number in the allowed range";
		*(unsigned *)(void *)field = (unsigned)number;
		return NULL;
	}
	case CONFIG_BYTES: {
		uint64_t number;
		if (!config_parse_bytes(value, setting->min, setting->max, &number))
			return "not a size in the allowed range (a number with optional K, M or G)";
		*(uint64_t *)(void *)field = number;
		return NULL;
	}
	case CONFIG_BOOL: {
		bool flag;
		if (!parse_bool_full(value, &flag))
			return "not yes or no";
		*(bool *)(void *)field = flag;
		return NULL;
	}
	case CONFIG_LOG_LEVEL: {
		pp_log_level_t level;
		if (!log_level_parse(value, &level))
			return "not one of debug, info, warn, error";
		*(pp_log_level_t *)(void *)field = level;
		return NULL;
	}
	case CONFIG_DELAYS:
		return config_parse_delays(value, setting->min, setting->max,
					   (pp_config_delays_t *)(void *)field);
	}
	return "unknown setting type";
}

void config_init(pp_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < CONFIG_SETTING_COUNT; i++) {
		const char *reason = config_apply(cfg, &config_settings[i],
						  config_settings[i].default_value);
		/* The defaults are ours: a failure here is a bug in the table. */
		if (reason != NULL)
			abort();
	}
}

typedef struct {
	pp_config_t *cfg;
	char first_error[512]; /* without the line: inih reports it as the return value */
	bool failed;
} config_parse_ctx_t;

static void config_fail(config_parse_ctx_t *ctx, const char *section, const char *name,
			const char *reason)
{
	if (ctx->failed)
		return; /* The first error is the one to fix first. */
	ctx->failed = true;
	(void)str_format(ctx->first_error, sizeof(ctx->first_error), "[%s] %s: %s", section, name,
			 reason);
}

/* inih callback for one "name = value" line. Returns 0 to make inih report the line. */
static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	config_parse_ctx_t *ctx = user;
	if (name == NULL)
		return 1; /* A section header alone; unknown sections fail at their first key. */
	for (size_t i = 0; i < CONFIG_SETTING_COUNT; i++) {
		const config_setting_t *setting = &config_settings[i];
		if (strcmp(setting->section, section) != 0 || strcmp(setting->name, name) != 0)
			continue;
		const char *reason = config_apply(ctx->cfg, setting, value);
		if (reason != NULL) {
			config_fail(ctx, section, name, reason);
			return 0;
		}
		return 1;
	}
	config_fail(ctx, section, name, "unknown setting (see docs/configuration.md)");
	return 0;
}

int config_load(pp_config_t *cfg, const char *path, bool missing_ok, char *error,
		size_t error_size)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT && missing_ok)
			return 0;
		(void)str_format(error, error_size, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	config_parse_ctx_t ctx = {.cfg = cfg};
	int rc = ini_parse_file(f, config_handler, &ctx);
	(void)fclose(f); /* Read-only stream. */
	if (ctx.failed) {
		(void)str_format(error, error_size, "%s:%d: %s", path, rc, ctx.first_error);
		return -1;
	}
	if (rc != 0) {
		(void)str_format(error, error_size, "%s:%d: syntax error (expected [section] or name = value)",
				 path, rc);
		return -1;
	}
	if (!str_copy(cfg->path, sizeof(cfg->path), path)) {
		(void)str_format(error, error_size, "%s: path too long", path);
		return -1;
	}
	return 0;
}

/* Fills an empty path field with state_dir + suffix. */
static int config_derive(char *field, size_t size, const char *state_dir, const char *suffix,
			 char *error, size_t error_size)
{
	if (field[0] != '\0')
		return 0;
	if (!str_format(field, size, "%s/%s", state_dir, suffix)) {
		(void)str_format(error, error_size, "state_dir %s is too long", state_dir);
		return -1;
	}
	return 0;
}

/*
 * [convert] tmp_dir's default. Running as root, the sandbox user must pass through every
 * parent of its job directory, and state_dir is 0700: the default is then
 * /var/lib/pullprint-convert (its parent is root's, so nobody can plant it first). Otherwise
 * the worker keeps its own user and <state_dir>/convert serves.
 */
static int config_derive_convert_tmp(pp_config_t *cfg, char *error, size_t error_size)
{
	if (cfg->convert_tmp_dir[0] != '\0')
		return 0;
	if (geteuid() == 0)
		return str_copy(cfg->convert_tmp_dir, sizeof(cfg->convert_tmp_dir),
				"/var/lib/pullprint-convert")
			   ? 0
			   : -1;
	return config_derive(cfg->convert_tmp_dir, sizeof(cfg->convert_tmp_dir), cfg->state_dir,
			     "convert", error, error_size);
}

int config_finalize(pp_config_t *cfg, char *error, size_t error_size)
{
	if (cfg->state_dir[0] == '\0') {
		(void)str_format(error, error_size, "[server] state_dir must not be empty");
		return -1;
	}
	if (cfg->state_dir[0] != '/') {
		/* Make it absolute so that later chdir or forks see the same tree. */
		char cwd[PATH_MAX], absolute[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    !str_format(absolute, sizeof(absolute), "%s/%s", cwd, cfg->state_dir) ||
		    !str_copy(cfg->state_dir, sizeof(cfg->state_dir), absolute)) {
			(void)str_format(error, error_size, "cannot make state_dir %s absolute",
					 cfg->state_dir);
			return -1;
		}
	}
	size_t len = strlen(cfg->state_dir);
	while (len > 1 && cfg->state_dir[len - 1] == '/')
		cfg->state_dir[--len] = '\0';

	if (cfg->database[0] == '\0' &&
	    !str_format(cfg->database, sizeof(cfg->database), "sqlite:%s/pullprint.db",
			cfg->state_dir)) {
		(void)str_format(error, error_size, "state_dir %s is too long", cfg->state_dir);
		return -1;
	}
	if (!str_has_prefix(cfg->database, "sqlite:") &&
	    !str_has_prefix(cfg->database, "postgresql://") &&
	    !str_has_prefix(cfg->database, "postgres://")) {
		(void)str_format(error, error_size,
				 "[server] database: expected sqlite:PATH or postgresql://…");
		return -1;
	}
	if ((cfg->tls_certificate[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		(void)str_format(error, error_size,
				 "[http] tls_certificate and tls_key must be set together");
		return -1;
	}
	if (cfg->http_port != 0 && cfg->http_port == cfg->https_port) {
		(void)str_format(error, error_size,
				 "[http] http_port and https_port must differ");
		return -1;
	}
	if (config_derive(cfg->key_file, sizeof(cfg->key_file), cfg->state_dir, "keys/master.key",
			  error, error_size) < 0 ||
	    config_derive(cfg->spool_dir, sizeof(cfg->spool_dir), cfg->state_dir, "spool", error,
			  error_size) < 0 ||
	    config_derive_convert_tmp(cfg, error, error_size) < 0)
		return -1;
	return 0;
}

void config_dump(const pp_config_t *cfg, FILE *out)
{
	static const char *const level_names[] = {"debug", "info", "warn", "error"};
	const char *section = "";
	for (size_t i = 0; i < CONFIG_SETTING_COUNT; i++) {
		const config_setting_t *setting = &config_settings[i];
		const char *field = (const char *)cfg + setting->offset;
		if (strcmp(section, setting->section) != 0) {
			section = setting->section;
			fprintf(out, "%s[%s]\n", i == 0 ? "" : "\n", section);
		}
		fprintf(out, "%s = ", setting->name);
		switch (setting->type) {
		case CONFIG_STRING:
		case CONFIG_PATH:
			/* The database URL may carry a password: never print it. */
			if (strcmp(setting->name, "database") == 0 && strchr(field, '@') != NULL)
				fprintf(out, "(set, contains credentials)\n");
			else
				fprintf(out, "%s\n", field);
			break;
		case CONFIG_UINT:
			fprintf(out, "%u\n", *(const unsigned *)(const void *)field);
			break;
		case CONFIG_BYTES:
			fprintf(out, "%llu\n",
				(unsigned long long)*(const uint64_t *)(const void *)field);
			break;
		case CONFIG_BOOL:
			fprintf(out, "%s\n", *(const bool *)(const void *)field ? "yes" : "no");
			break;
		case CONFIG_LOG_LEVEL:
			fprintf(out, "%s\n",
				level_names[*(const pp_log_level_t *)(const void *)field]);
			break;
		case CONFIG_DELAYS: {
			const pp_config_delays_t *delays = (const void *)field;
			for (size_t d = 0; d < delays->count; d++) {
				unsigned ms = delays->ms[d];
				fprintf(out, ms % 1000 == 0 ? "%s%us" : "%s%ums", d > 0 ? "," : "",
					ms % 1000 == 0 ? ms / 1000 : ms);
			}
			fprintf(out, "%s\n", delays->count == 0 ? "none" : "");
			break;
		}
		}
	}
}
