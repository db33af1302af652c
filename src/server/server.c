/* server.c - pullprintd assembled, started and stopped; see server.h. */
#include "server/server.h"

#include "admin/admin.h"
#include "api/api.h"
#include "core/admins.h"
#include "core/intake.h"
#include "http/http.h"
#include "http/tls-cert.h"
#include "ipp/ipp.h"
#include "ipp/ipp-dnssd.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mail/mail-service.h"
#include "pp-build-config.h"
#include "runtime/runtime.h"
#include "server/convert-pool.h"
#include "server/delivery.h"
#include "server/icons.h"
#include "server/web-files.h"
#include "server/server-routes.h"
#include "server/sweeper.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long a graceful stop waits for requests in flight before closing them. */
#define SERVER_DRAIN_TIMEOUT_S 30
/* How long a graceful stop lets deliveries in flight finish before canceling them. */
#define SERVER_DELIVERY_GRACE_MS 10000

struct pp_server {
	pp_runtime_t rt;
	bool is_runtime_open;
	pp_metrics_t *metrics;
	pp_http_server_t *http;
	pp_sweeper_t *sweeper;
	pp_convert_pool_t *convert_pool; /* NULL when [convert] local = no or no program */
	pp_delivery_t *delivery; /* released jobs to printers */
	/* Print by email (src/mail): the outbox's sender thread and the inbound poller; in
	 * pullprintd started from pullprint-mail.so once mail is set up (mail-service.h). */
	pp_mail_service_t *mail;
	pp_server_routes_t routes;
	pp_api_t *api; /* the REST API under /api/v1 */
	pp_admin_api_t *admin_api; /* the admin API under /api/v1/admin/ */
	pp_ipp_service_t ipp; /* the /ipp/print route's context (plain data) */
	pp_dnssd_t *dnssd; /* the DNS-SD advertiser; NULL when [ipp] dnssd = no */
	pp_tls_cert_info_t cert;
	char public_url[CONFIG_URL_MAX];
	char host_name[256]; /* this host's name, read once at start; "localhost" if unknown */
};

int server_block_signals(void)
{
	sigset_t set;
	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGTERM) < 0 || sigaddset(&set, SIGINT) < 0 ||
	    sigaddset(&set, SIGHUP) < 0)
		return -1;
	/* A client that hangs up must not kill the server; writes report EPIPE instead. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* The API's page images come from this server's conversion pool. */
static int server_render_pages(void *ctx, int64_t job_id, unsigned first, unsigned last,
			       char *error, size_t error_size)
{
	return convert_pool_request_pages(ctx, job_id, first, last, error, error_size);
}

/* Makes the TLS certificate ready: the admin's pair, or our self-signed one. */
static int server_tls(pp_server_t *server, char *error, size_t error_size)
{
	const pp_config_t *cfg = &server->rt.config;
	if (cfg->tls_certificate[0] != '\0') {
		if (tls_cert_check_pair(cfg->tls_certificate, cfg->tls_key, &server->cert, error,
					error_size) < 0)
			return -1;
		if (server->cert.is_expired)
			log_warn("tls.expired cert=%s action=\"install a renewed certificate\"",
				 cfg->tls_certificate);
		return 0;
	}
	char dir[PATH_MAX];
	if (!str_format(dir, sizeof(dir), "%s/tls", cfg->state_dir)) {
		(void)str_format(error, error_size, "state_dir is too long");
		return -1;
	}
	if (tls_cert_ensure_self_signed(dir, server->host_name, &server->cert, error,
					error_size) < 0)
		return -1;
	if (server->cert.is_new)
		log_info("tls.self_signed_created cert=%s sha256=%s", server->cert.cert_file,
			 server->cert.fingerprint_sha256);
	return 0;
}

static int server_listen(pp_server_t *server, char *error, size_t error_size)
{
	const pp_config_t *cfg = &server->rt.config;
	pp_http_config_t http_cfg = {
		.https_port = cfg->https_port,
		.http_port = cfg->http_port,
		.threads = cfg->http_threads,
		.max_connections = cfg->max_connections,
		.max_connections_per_ip = cfg->max_connections_per_ip,
		.max_request_bytes = cfg->max_request_bytes,
		.request_timeout_s = cfg->request_timeout_s,
		.metrics = server->metrics,
	};
	if (!str_copy(http_cfg.listen_address, sizeof(http_cfg.listen_address),
		      cfg->listen_address) ||
	    !str_copy(http_cfg.cert_file, sizeof(http_cfg.cert_file), server->cert.cert_file) ||
	    !str_copy(http_cfg.key_file, sizeof(http_cfg.key_file), server->cert.key_file)) {
		(void)str_format(error, error_size, "listener paths too long");
		return -1;
	}
	if (http_server_new(&http_cfg, &server->http, error, error_size) < 0)
		return -1;

	server->routes = (pp_server_routes_t){.core = &server->rt.core,
					      .convert_pool = server->convert_pool,
					      .metrics = server->metrics,
					      .started_at = core_now(&server->rt.core)};
	if (server_routes_add(server->http, &server->routes, error, error_size) < 0 ||
	    icons_add(server->http, error, error_size) < 0 ||
	    web_routes_add(server->http, error, error_size) < 0 ||
	    ipp_service_add(server->http, &server->rt.core, &server->ipp, error, error_size) < 0 ||
	    api_start(server->http,
		      &(pp_api_config_t){.core = &server->rt.core,
					 .render_pages = server->convert_pool != NULL
							     ? server_render_pages
							     : NULL,
					 .render_pages_ctx = server->convert_pool,
					 .max_document_bytes = cfg->max_document_bytes},
		      &server->api, error, error_size) < 0 ||
	    admin_api_start(server->http,
			    &(pp_admin_api_config_t){.core = &server->rt.core,
						     .public_url = server->public_url,
						     .state_dir = cfg->state_dir},
			    &server->admin_api, error, error_size) < 0)
		return -1;
	return http_server_start(server->http, error, error_size);
}

/* The URL people use: the configured public_url, else https://<host>:<port>. */
static void server_public_url(pp_server_t *server)
{
	const pp_config_t *cfg = &server->rt.config;
	if (cfg->public_url[0] != '\0' &&
	    str_copy(server->public_url, sizeof(server->public_url), cfg->public_url))
		return;
	if (!str_format(server->public_url, sizeof(server->public_url), "https://%s:%u/",
			server->host_name,
			http_server_https_port(server->http)))
		(void)str_copy(server->public_url, sizeof(server->public_url), "https://localhost/");
}

/*
 * Advertises the IPP service by multicast DNS-SD, unless [ipp] dnssd = no. A missing Avahi
 * daemon is logged by dnssd_start and is no reason to stop: only a broken TXT record is.
 */
static int server_dnssd(pp_server_t *server, char *error, size_t error_size)
{
	if (!server->rt.config.ipp_dnssd)
		return 0;
	pp_dnssd_config_t *cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	/* "Pullprint @ host" tells several servers apart; a long host name falls back. */
	if (!str_format(cfg->name, sizeof(cfg->name), "Pullprint @ %s", server->host_name))
		(void)str_copy(cfg->name, sizeof(cfg->name), "Pullprint");
	cfg->https_port = http_server_https_port(server->http);
	cfg->http_port = http_server_http_port(server->http);
	int rc = dnssd_txt_build(&server->rt.core, server->public_url, true, &cfg->txt_ipps, error,
				 error_size);
	if (rc == 0 && cfg->http_port != 0)
		rc = dnssd_txt_build(&server->rt.core, server->public_url, false, &cfg->txt_ipp,
				     error, error_size);
	if (rc == 0)
		rc = dnssd_start(cfg, &server->dnssd, error, error_size);
	free(cfg);
	return rc;
}

/*
 * Makes the first admin account when there is none and prints its password once, on
 * standard output only: the log never sees it.
 */
static int server_first_admin(pp_server_t *server, char *error, size_t error_size)
{
	char password[ADMINS_BOOTSTRAP_PASSWORD_LEN + 1];
	bool is_created = false;
	if (admin_bootstrap(&server->rt.core, password, &is_created, error, error_size) < 0)
		return -1;
	printf("Pullprint %s is running.\n"
	       "  Address:      %s  (also https://localhost:%u/ on this machine)\n"
	       "  Certificate:  %s%s\n"
	       "                SHA-256 %s\n",
	       PP_VERSION, server->public_url, http_server_https_port(server->http),
	       server->cert.cert_file, server->cert.is_self_signed_ours ? " (self-signed)" : "",
	       server->cert.fingerprint_sha256);
	if (is_created) {
		printf("\n  First admin account — shown once; keep it somewhere safe:\n"
		       "    user:       %s\n"
		       "    password:   %s\n"
		       "  Change it with: pullprint admin passwd %s\n",
		       ADMINS_BOOTSTRAP_NAME, password, ADMINS_BOOTSTRAP_NAME);
	}
	crypto_wipe(password, sizeof(password));
	printf("\nStop with Ctrl-C (SIGTERM): jobs in flight are kept.\n");
	if (fflush(stdout) == EOF)
		log_warn("server.banner_failed error=\"%s\"", strerror(errno));
	return 0;
}

/* Starts the local conversion workers when [convert] local = yes, and hooks intake to them. */
static int server_convert_pool(pp_server_t *server, char *error, size_t error_size)
{
	const pp_config_t *cfg = &server->rt.config;
	if (!cfg->convert_local) {
		log_info("convert.pool_off reason=\"[convert] local = no: other hosts convert\"");
		return 0;
	}
	pp_convert_pool_config_t pool_cfg = {
	    .program = cfg->convert_program,
	    .config_path = cfg->path, /* "" when the server runs on defaults */
	    .state_dir = cfg->state_dir,
	    .workers = cfg->convert_workers,
	    .max_attempts = cfg->convert_max_attempts,
	};
	if (convert_pool_start(&server->rt.core, &pool_cfg, &server->convert_pool, error,
			       error_size) < 0)
		return -1;
	if (server->convert_pool != NULL) {
		server->rt.core.on_job_received = convert_pool_on_job_received;
		server->rt.core.on_job_received_ctx = server->convert_pool;
	}
	return 0;
}

/* Starts the delivery manager and hooks job_release() to it. */
static int server_delivery(pp_server_t *server, char *error, size_t error_size)
{
	pp_delivery_config_t cfg = {
	    .pool = server->convert_pool,
	    /* One host owns its jobs on SQLite; on PostgreSQL another host may be sending. */
	    .recover_printing = db_backend(server->rt.db) == PP_DB_SQLITE,
	    .listen_url = db_backend(server->rt.db) == PP_DB_POSTGRES
	                      ? server->rt.config.database
	                      : NULL,
	};
	delivery_config_apply(&cfg, &server->rt.config);
	if (delivery_start(&server->rt.core, &cfg, &server->delivery, error, error_size) < 0)
		return -1;
	server->rt.core.on_job_released = delivery_on_job_released;
	server->rt.core.on_job_released_ctx = server->delivery;
	return 0;
}

int server_open(const char *config_path, const char *state_dir_override, pp_server_t **server_r,
		int *exit_code_r, char *error, size_t error_size)
{
	/*
	 * At most four malloc arenas instead of eight per core: dozens of mostly idle threads
	 * (delivery, HTTP) would each get one, which costs resident memory and buys nothing for
	 * a server that waits on the network. Before any thread exists.
	 */
	if (mallopt(M_ARENA_MAX, 4) != 1)
		log_warn("server.mallopt_failed option=M_ARENA_MAX");
	pp_server_t *server = calloc(1, sizeof(*server));
	if (server == NULL) {
		(void)str_format(error, error_size, "out of memory");
		*exit_code_r = 1;
		return -1;
	}
	if (gethostname(server->host_name, sizeof(server->host_name)) < 0 ||
	    server->host_name[0] == '\0')
		(void)str_copy(server->host_name, sizeof(server->host_name), "localhost");
	server->host_name[sizeof(server->host_name) - 1] = '\0';
	*exit_code_r = 2;
	if (runtime_load_config(&server->rt, config_path, state_dir_override, error, error_size) <
	    0)
		goto fail;
	log_set_level(server->rt.config.log_level);
	*exit_code_r = 1;
	if (runtime_open(&server->rt, error, error_size) < 0)
		goto fail;
	server->is_runtime_open = true;
	log_info("server.starting version=%s state_dir=%s database=%s", PP_VERSION,
		 server->rt.config.state_dir,
		 db_backend(server->rt.db) == PP_DB_SQLITE ? "sqlite" : "postgresql");

	/* Before the first commit: the log at its working size (SQLite), so that commits do
	 * not pay for its growth. Only speed depends on it. */
	uint64_t log_grown = 0;
	char log_error[DB_ERROR_MAX];
	if (!server->rt.config.sqlite_preallocate_log)
		log_debug("db.log_not_prepared reason=\"sqlite_preallocate_log = no\"");
	else if (db_prepare_log(server->rt.db, &log_grown, log_error, sizeof(log_error)) != DB_OK)
		log_warn("db.log_not_prepared error=\"%s\" action=\"commits are slower until the "
			 "log has grown\"",
			 log_error);
	else if (log_grown > 0)
		log_info("db.log_prepared added_mib=%llu",
			 (unsigned long long)(log_grown / (1024 * 1024)));

	/*
	 * Undo what a crash interrupted before anything new arrives. With a spool shared by
	 * several hosts, a young file may be another host's upload in progress: leave it to the
	 * sweeper's hourly pass.
	 */
	pp_intake_recovery_t recovery;
	if (intake_recover(&server->rt.core,
			   server->rt.config.spool_is_shared ? SWEEPER_ORPHAN_AGE_S : 0, &recovery,
			   error, error_size) < 0)
		goto fail;

	/* The converters before the listener: intake's hook is set before any request runs. */
	if (server_convert_pool(server, error, error_size) < 0)
		goto fail;
	/* Delivery after the pool (it asks the pool for print data), before the listener. */
	if (server_delivery(server, error, error_size) < 0)
		goto fail;

	server->metrics = metrics_new();
	if (server->metrics == NULL) {
		(void)str_format(error, error_size, "out of memory");
		goto fail;
	}
	if (server_tls(server, error, error_size) < 0 || server_listen(server, error, error_size) < 0)
		goto fail;
	server_public_url(server);
	if (server_dnssd(server, error, error_size) < 0)
		goto fail;
	if (server_first_admin(server, error, error_size) < 0)
		goto fail;
	if (sweeper_start(&server->rt.core, server->rt.config.sweep_interval_s,
			  (int64_t)server->rt.config.convert_timeout_s * 3,
			  server->rt.config.convert_max_attempts, &server->sweeper, error,
			  error_size) < 0)
		goto fail;
	/* Mail last: its poller submits jobs through intake, whose hooks are set by now. */
	pp_mail_sender_config_t outbox_cfg = {.public_url = server->public_url};
	if (mail_service_start(&server->rt.core, &outbox_cfg, &server->mail, error, error_size) <
	    0)
		goto fail;

	/* Start-up's transient memory (a first start makes its key and certificate, migrates
	 * the database) goes back to the system before the server idles. */
	(void)malloc_trim(0);
	log_info("server.ready url=%s https_port=%u http_port=%u", server->public_url,
		 http_server_https_port(server->http), http_server_http_port(server->http));
	*server_r = server;
	*exit_code_r = 0;
	return 0;

fail:
	server_free(&server);
	return -1;
}

int server_run(pp_server_t *server)
{
	sigset_t set;
	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGTERM) < 0 || sigaddset(&set, SIGINT) < 0 ||
	    sigaddset(&set, SIGHUP) < 0)
		return 1;
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			return 1;
		if (sig == SIGHUP) {
			log_info("server.sighup action=\"restart the server to reload the configuration\"");
			continue;
		}
		log_info("server.stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
		break;
	}

	/* Stop accepting, let requests in flight finish, then stop the background work. */
	http_server_quiesce(server->http);
	for (int waited_ms = 0; http_server_active_requests(server->http) > 0; waited_ms += 50) {
		if (waited_ms >= SERVER_DRAIN_TIMEOUT_S * 1000) {
			log_warn("server.drain_timeout active=%u",
				 http_server_active_requests(server->http));
			break;
		}
		struct timespec pause = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
		(void)nanosleep(&pause, NULL);
	}
	mail_service_stop(&server->mail);
	sweeper_stop(&server->sweeper);
	server->rt.core.on_job_released = NULL;
	server->rt.core.on_job_released_ctx = NULL;
	delivery_stop(&server->delivery, SERVER_DELIVERY_GRACE_MS);
	log_info("server.stopped");
	return 0;
}

void server_free(pp_server_t **server_p)
{
	pp_server_t *server = *server_p;
	if (server == NULL)
		return;
	mail_service_stop(&server->mail); /* it submits jobs: before the hooks go */
	sweeper_stop(&server->sweeper);
	dnssd_stop(&server->dnssd);
	http_server_free(&server->http);
	api_free(&server->api); /* after the listener: its event streams are closed */
	admin_api_free(&server->admin_api);
	/* No request thread is left to call intake's hook: the pool may go. */
	server->rt.core.on_job_received = NULL;
	server->rt.core.on_job_received_ctx = NULL;
	/* Delivery before the pool: a delivery thread may be waiting for print data. */
	server->rt.core.on_job_released = NULL;
	server->rt.core.on_job_released_ctx = NULL;
	delivery_stop(&server->delivery, 0);
	convert_pool_stop(&server->convert_pool);
	metrics_free(&server->metrics);
	if (server->is_runtime_open)
		runtime_close(&server->rt);
	free(server);
	*server_p = NULL;
}
