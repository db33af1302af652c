/*
 * mail-lazy.c - pullprintd's stand-ins for the mail functions the rest of the server calls,
 * which load pullprint-mail.so on first real use (see mail-service.h, lib/module-load.h).
 *
 * pullprintd links this file instead of the mail library: the server, the REST API and the
 * admin API call mail_service_start(), mail_account_list() and the others by their usual
 * names, and these forward through the module's entry struct. What an idle server does
 * stays in the database: mail_service_start() only starts a watcher thread that asks every
 * second whether mail is set up, and listing accounts when there is none answers an empty
 * list. The module's own code never calls these: its version script binds its calls to
 * its own functions.
 */
#include "mail/mail-module.h"

#include "lib/config.h"
#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often the watcher asks whether mail is set up. */
#define MAIL_LAZY_WATCH_MS 1000

/*
 * The process's one slot for the module: dlopen() is process-wide by nature, like the
 * libpq table in db/db-pq.c. Everything else hangs off the service.
 */
static pp_module_slot_t mail_slot =
    MODULE_SLOT_INIT(MAIL_MODULE_FILE, MAIL_MODULE_NAME,
		     "GMime 3 and libcurl (apt-get install libgmime-3.0-0 libcurl3-gnutls)",
		     MAIL_MODULE_ABI);

/* The module's entry points, loading it on the first call; NULL with error when missing. */
static const pp_mail_module_t *mail_lazy_module(char *error, size_t error_size)
{
	return module_get(&mail_slot, error, error_size);
}

struct pp_mail_service {
	pp_core_t *core;
	pp_mail_sender_config_t cfg;
	char public_url[CONFIG_URL_MAX]; /* cfg.public_url points here */
	pthread_t watcher;
	bool is_watching; /* the watcher thread was started and not joined */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool is_stopping; /* under lock */
	pp_mail_service_t *inner; /* the module's service, once started; set by the watcher */
};

/*
 * Whether mail is set up: an enabled inbound account, SMTP settings, or a reply waiting in
 * the outbox (queued by the command line, say). Returns 0 or -1 with error.
 */
static int mail_lazy_is_needed(pp_core_t *core, bool *is_needed_r, char *error, size_t error_size)
{
	*is_needed_r = false;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db,
		     "SELECT 1 FROM mail_accounts WHERE enabled = 1"
		     " UNION ALL SELECT 1 FROM mail_smtp"
		     " UNION ALL SELECT 1 FROM mail_outbox WHERE state IN ('pending', 'queued')"
		     " LIMIT 1",
		     NULL, 0, &res, db_error, sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "mail: cannot read the mail settings: %s",
				 db_error);
		return -1;
	}
	*is_needed_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

/* Starts the module's service. Returns 0, or -1 (logged) when it cannot. */
static int mail_lazy_start_inner(pp_mail_service_t *service)
{
	char error[MODULE_ERROR_MAX];
	const pp_mail_module_t *m = mail_lazy_module(error, sizeof(error));
	if (m == NULL)
		return -1; /* module_get logged what to install */
	pp_mail_service_t *inner = NULL;
	if (m->service_start(service->core, &service->cfg, &inner, error, sizeof(error)) < 0) {
		log_error("mail.start_failed error=\"%s\"", error);
		return -1;
	}
	if (pthread_mutex_lock(&service->lock) != 0) {
		m->service_stop(&inner);
		return -1;
	}
	service->inner = inner;
	(void)pthread_mutex_unlock(&service->lock);
	log_info("mail.started reason=\"mail is set up\"");
	return 0;
}

/* The watcher: waits until mail is set up, starts the module's service, and ends. */
static void *mail_lazy_watch(void *arg)
{
	pp_mail_service_t *service = arg;
	bool is_error_logged = false;
	for (;;) {
		char error[256];
		bool is_needed = false;
		if (mail_lazy_is_needed(service->core, &is_needed, error, sizeof(error)) < 0) {
			/* Logged once per outage: the database may come back. */
			if (!is_error_logged)
				log_warn("mail.watch_failed error=\"%s\"", error);
			is_error_logged = true;
		} else {
			is_error_logged = false;
		}
		if (is_needed) {
			/* Started or not (then logged with what to install), the watch is over. */
			(void)mail_lazy_start_inner(service);
			return NULL;
		}
		struct timespec until;
		if (clock_gettime(CLOCK_REALTIME, &until) < 0)
			return NULL;
		until.tv_nsec += (long)(MAIL_LAZY_WATCH_MS % 1000) * 1000000L;
		until.tv_sec += MAIL_LAZY_WATCH_MS / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		if (pthread_mutex_lock(&service->lock) != 0)
			return NULL;
		while (!service->is_stopping) {
			int rc = pthread_cond_timedwait(&service->wake, &service->lock, &until);
			if (rc == ETIMEDOUT || rc != 0)
				break;
		}
		bool is_stopping = service->is_stopping;
		(void)pthread_mutex_unlock(&service->lock);
		if (is_stopping)
			return NULL;
	}
}

int mail_service_start(pp_core_t *core, const pp_mail_sender_config_t *cfg,
		       pp_mail_service_t **service_r, char *error, size_t error_size)
{
	*service_r = NULL;
	pp_mail_service_t *service = calloc(1, sizeof(*service));
	if (service == NULL) {
		(void)str_format(error, error_size, "mail: out of memory");
		return -1;
	}
	service->core = core;
	service->cfg = *cfg;
	if (!str_copy(service->public_url, sizeof(service->public_url),
		      cfg->public_url != NULL ? cfg->public_url : "")) {
		free(service);
		(void)str_format(error, error_size, "mail: public_url is too long");
		return -1;
	}
	service->cfg.public_url = service->public_url;
	if (pthread_mutex_init(&service->lock, NULL) != 0) {
		free(service);
		(void)str_format(error, error_size, "mail: cannot create a lock");
		return -1;
	}
	if (pthread_cond_init(&service->wake, NULL) != 0) {
		(void)pthread_mutex_destroy(&service->lock);
		free(service);
		(void)str_format(error, error_size, "mail: cannot create a condition");
		return -1;
	}
	int rc = pthread_create(&service->watcher, NULL, mail_lazy_watch, service);
	if (rc != 0) {
		(void)str_format(error, error_size, "mail: cannot start a thread: %s", strerror(rc));
		mail_service_stop(&service);
		return -1;
	}
	service->is_watching = true;
	*service_r = service;
	return 0;
}

void mail_service_stop(pp_mail_service_t **service_p)
{
	pp_mail_service_t *service = *service_p;
	if (service == NULL)
		return;
	if (service->is_watching) {
		if (pthread_mutex_lock(&service->lock) == 0) {
			service->is_stopping = true;
			(void)pthread_cond_signal(&service->wake);
			(void)pthread_mutex_unlock(&service->lock);
		}
		int rc = pthread_join(service->watcher, NULL);
		if (rc != 0)
			log_warn("mail.watch_join_failed error=\"%s\"", strerror(rc));
	}
	/* The watcher is gone: inner is no longer written. */
	if (service->inner != NULL) {
		char error[MODULE_ERROR_MAX];
		const pp_mail_module_t *m = mail_lazy_module(error, sizeof(error));
		if (m != NULL)
			m->service_stop(&service->inner);
	}
	(void)pthread_cond_destroy(&service->wake);
	(void)pthread_mutex_destroy(&service->lock);
	free(service);
	*service_p = NULL;
}

/* Whether any inbound account exists (enabled or not). Returns 0 or -1 with error. */
static int mail_lazy_has_accounts(pp_core_t *core, bool *has_r, char *error, size_t error_size)
{
	*has_r = false;
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT 1 FROM mail_accounts LIMIT 1", NULL, 0, &res, db_error,
		     sizeof(db_error)) != DB_OK) {
		(void)str_format(error, error_size, "mail accounts: cannot read: %s", db_error);
		return -1;
	}
	*has_r = db_result_rows(res) > 0;
	db_result_free(&res);
	return 0;
}

int mail_account_list(pp_core_t *core, pp_mail_account_t **accounts_r, size_t *count_r,
		      char *error, size_t error_size)
{
	*accounts_r = NULL;
	*count_r = 0;
	/* The dashboard lists accounts on every visit: no account, no module. */
	bool has_accounts = false;
	if (mail_lazy_has_accounts(core, &has_accounts, error, error_size) < 0)
		return -1;
	if (!has_accounts)
		return 0;
	const pp_mail_module_t *m = mail_lazy_module(error, error_size);
	return m != NULL ? m->account_list(core, accounts_r, count_r, error, error_size) : -1;
}

void mail_account_list_free(pp_mail_account_t **accounts)
{
	if (accounts == NULL || *accounts == NULL)
		return;
	/* A list exists only when the module made it, so the module is loaded. */
	char error[MODULE_ERROR_MAX];
	const pp_mail_module_t *m = mail_lazy_module(error, sizeof(error));
	if (m != NULL) {
		m->account_list_free(accounts);
		return;
	}
	free(*accounts);
	*accounts = NULL;
}

int mail_account_test(pp_core_t *core, const char *name, char **transcript_r, char *error,
		      size_t error_size)
{
	*transcript_r = NULL;
	const pp_mail_module_t *m = mail_lazy_module(error, error_size);
	return m != NULL ? m->account_test(core, name, transcript_r, error, error_size) : -1;
}

int mail_outbox_queue_new_code(pp_core_t *core, const pp_user_t *user, char *error,
			       size_t error_size)
{
	const pp_mail_module_t *m = mail_lazy_module(error, error_size);
	return m != NULL ? m->outbox_queue_new_code(core, user, error, error_size) : -1;
}

const char *mail_proto_name(pp_mail_proto_t proto)
{
	char error[MODULE_ERROR_MAX];
	const pp_mail_module_t *m = mail_lazy_module(error, sizeof(error));
	return m != NULL ? m->proto_name(proto) : "unknown";
}
