/*
 * config.h - the start-up configuration read from one INI file (pullprint.conf).
 *
 * Only what the server needs before it can open its database lives here: paths, the
 * database URL, listeners, TLS and spool limits. Policy the admin changes at run time
 * (code length, retention, unknown senders, …) lives in the database's settings table.
 * Every setting has a default, so an empty or missing file starts a working server.
 */
#ifndef PP_CONFIG_H
#define PP_CONFIG_H

#include "lib/log.h"

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_URL_MAX 1024
#define CONFIG_DELIVERY_RETRIES_MAX 8 /* pauses in [delivery] retry_delays */
#define CONFIG_DEFAULT_PATH "/etc/pullprint/pullprint.conf"

/* A list of pauses ([delivery] retry_delays), in milliseconds. */
typedef struct {
	unsigned ms[CONFIG_DELIVERY_RETRIES_MAX];
	size_t count; /* 0 = none */
} pp_config_delays_t;

typedef struct pp_config {
	char path[PATH_MAX]; /* file read; "" when running on defaults only */

	/* [server] */
	char state_dir[PATH_MAX];
	char database[CONFIG_URL_MAX]; /* "" = SQLite file under state_dir */
	bool sqlite_preallocate_log; /* the server writes SQLite's log out to its working size */
	char key_file[PATH_MAX]; /* "" = <state_dir>/keys/master.key */
	char public_url[CONFIG_URL_MAX]; /* "" = https://<host name>:<https_port> */
	pp_log_level_t log_level;

	/* [http] */
	char listen_address[256]; /* "" = every address */
	unsigned https_port;
	unsigned http_port; /* 0 = no plain HTTP listener */
	char tls_certificate[PATH_MAX]; /* "" = self-signed, made at first start */
	char tls_key[PATH_MAX];
	unsigned http_threads;
	unsigned max_connections;
	unsigned max_connections_per_ip; /* 0 = no limit */
	uint64_t max_request_bytes; /* bodies other than documents */
	unsigned request_timeout_s;

	/* [spool] */
	char spool_dir[PATH_MAX]; /* "" = <state_dir>/spool */
	bool spool_encrypt;
	bool spool_is_shared; /* several server hosts use this spool directory */
	uint64_t max_document_bytes;
	uint64_t spool_inline_max_bytes; /* documents up to this (sealed) go into the database */

	/* [jobs] */
	unsigned sweep_interval_s;

	/* [ipp] */
	bool ipp_dnssd; /* advertise the IPP service by multicast DNS-SD (Avahi) */

	/* [convert] the conversion workers (pullprint-convert) and their sandbox */
	bool convert_local;        /* this server keeps a pool of workers; no = remote only */
	unsigned convert_workers;  /* pool size; 0 = one per online core */
	char convert_program[PATH_MAX]; /* "" = pullprint-convert beside the server's binary */
	char convert_user[64];     /* sandbox user when running as root; "" = do not switch */
	char convert_tmp_dir[PATH_MAX]; /* "" = <state_dir>/convert */
	unsigned convert_timeout_s; /* wall clock per document and step */
	unsigned convert_cpu_s;
	uint64_t convert_memory;   /* address space of a sandboxed child */
	unsigned convert_max_pages;
	unsigned convert_max_image_mpixels;
	unsigned convert_thumbnails; /* pages rendered at intake; the rest on demand */
	char convert_office_dir[PATH_MAX]; /* LibreOffice's program directory */
	unsigned convert_office_max_documents; /* restart LibreOffice after this many */
	char convert_ghostscript[PATH_MAX];
	unsigned convert_max_attempts; /* a worker that dies retries a job this often in all */

	/* [delivery] released jobs to printers (server/delivery.h) */
	pp_config_delays_t delivery_retry_delays; /* before each retry on the same printer */
	unsigned delivery_connect_timeout_s;
	unsigned delivery_write_timeout_s;  /* per write or wait for the printer's answer */
	unsigned delivery_follow_timeout_s; /* IPP: following the printer-side job */
	unsigned delivery_threads;          /* deliveries at once */
} pp_config_t;

/* Fills cfg with the embedded defaults (no file read). */
void config_init(pp_config_t *cfg);

/*
 * Reads the INI file at path over the current values. Unknown sections or settings, bad
 * values and syntax errors fail with error = "FILE:LINE: [section] name: what is wrong".
 * A missing file is an error unless missing_ok. Returns 0 or -1.
 */
int config_load(pp_config_t *cfg, const char *path, bool missing_ok, char *error,
		size_t error_size);

/*
 * Fills the derived paths left empty ("" database, key_file, spool_dir, TLS files) from
 * state_dir, which is made absolute. Call once after loading and command-line overrides.
 */
int config_finalize(pp_config_t *cfg, char *error, size_t error_size);

/* Writes every setting with its current value as an INI file to out (check-config --dump). */
void config_dump(const pp_config_t *cfg, FILE *out);

#endif
