/*
 * mail-poll.c - the poller thread: every enabled inbound mailbox, each at its own interval.
 *
 * One round on one mailbox: open a session, list the waiting messages, and for each: fetch,
 * hand it to intake (mail_intake_raw(), which commits before it returns), and only when that
 * succeeded delete it on the server; deletions are made final (IMAP EXPUNGE, POP3 QUIT)
 * every MAIL_COMMIT_EVERY messages and at the end of the round. A mail intake cannot handle
 * now (storage, outbox) stays on the server for the next round.
 *
 * Errors back off per account: the next poll waits interval * 2^failures (at most 15
 * minutes), so a mailbox with a wrong password is not hammered and the others go on. Each
 * round leaves its status (last poll, last success, last error, messages taken) in the
 * account's row for the dashboard and `pullprint mail status`.
 *
 * The account list is read again at every wake-up, so accounts added or removed take effect
 * without a restart. Once an hour, mail_seen rows older than 30 days are removed: by then the
 * mail is long gone from the server.
 */
#include "mail/mail-in-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAIL_COMMIT_EVERY 50
#define MAIL_ROUND_MAX 1000 /* messages taken in one round; the rest at the next */
#define MAIL_BACKOFF_MAX_S 900
#define MAIL_SEEN_KEEP_S (30 * 86400)
#define MAIL_PRUNE_EVERY_S 3600

/* What the poller remembers about one account between rounds. */
typedef struct {
	int64_t id;
	int64_t next_ms;    /* monotonic ms of the next poll */
	unsigned failures;  /* rounds failed in a row */
} mail_poll_state_t;

struct pp_mail_poller {
	pp_core_t *core;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool is_stopping; /* under lock */
	bool is_woken;    /* under lock */
	/* the thread's own */
	mail_poll_state_t *states;
	size_t n_states;
	int64_t next_prune_ms;
};

/* Monotonic milliseconds. */
static int64_t mail_now_ms(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool mail_poller_is_stopping(pp_mail_poller_t *poller)
{
	(void)pthread_mutex_lock(&poller->lock);
	bool is_stopping = poller->is_stopping;
	(void)pthread_mutex_unlock(&poller->lock);
	return is_stopping;
}

/* The state of account id (added when new). NULL when out of memory. */
static mail_poll_state_t *mail_poller_state(pp_mail_poller_t *poller, int64_t id)
{
	for (size_t i = 0; i < poller->n_states; i++) {
		if (poller->states[i].id == id)
			return &poller->states[i];
	}
	mail_poll_state_t *grown =
	    realloc(poller->states, (poller->n_states + 1) * sizeof(*poller->states));
	if (grown == NULL)
		return NULL;
	poller->states = grown;
	mail_poll_state_t *state = &grown[poller->n_states++];
	memset(state, 0, sizeof(*state));
	state->id = id;
	return state;
}

/*
 * One round on account: returns 0 or -1 (error filled). *taken_r counts the mails handled
 * (and deleted or to be deleted).
 */
static int mail_poll_account(pp_mail_poller_t *poller, const pp_mail_account_t *account,
                             const mail_policy_t *policy, int64_t *taken_r, char *error,
                             size_t error_size)
{
	*taken_r = 0;
	pp_core_t *core = poller->core;
	mail_box_t *box = NULL;
	if (mail_box_open(core, account, &box, error, error_size) < 0)
		return -1;
	mail_box_item_t *items = NULL;
	size_t count = 0;
	if (mail_box_list(box, MAIL_ROUND_MAX, &items, &count, error, error_size) < 0) {
		mail_box_close(&box);
		return -1;
	}
	int result = 0;
	size_t pending_deletes = 0;
	for (size_t i = 0; i < count && !mail_poller_is_stopping(poller); i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		if (mail_box_fetch(box, &items[i], policy->max_message_bytes, &data, &len, error,
		                   error_size) < 0) {
			result = -1;
			break;
		}
		mail_outcome_t outcome;
		size_t jobs = 0;
		char intake_error[512];
		int rc = mail_intake_raw(core, account, policy, data, len, &outcome, &jobs,
		                         intake_error, sizeof(intake_error));
		free(data);
		if (rc < 0) {
			/* Kept on the server; tried again at the next round. */
			log_warn("mail.intake_failed account=%s error=\"%s\" — the mail stays in the "
			         "mailbox and is read again",
			         account->name, intake_error);
			str_format(error, error_size, "%s", intake_error);
			result = -1;
			continue;
		}
		/* Committed: only now may the server forget it. */
		if (mail_box_delete(box, &items[i], error, error_size) < 0) {
			result = -1;
			break;
		}
		(*taken_r)++;
		if (++pending_deletes >= MAIL_COMMIT_EVERY) {
			if (mail_box_commit(box, error, error_size) < 0) {
				result = -1;
				break;
			}
			pending_deletes = 0;
		}
	}
	if (pending_deletes > 0 && result == 0 && mail_box_commit(box, error, error_size) < 0)
		result = -1;
	else if (pending_deletes > 0 && result < 0) {
		char commit_error[256];
		(void)mail_box_commit(box, commit_error, sizeof(commit_error));
	}
	free(items);
	mail_box_close(&box);
	return result;
}

/* Removes old mail_seen rows once an hour. */
static void mail_poller_prune(pp_mail_poller_t *poller, int64_t now_ms)
{
	if (now_ms < poller->next_prune_ms)
		return;
	poller->next_prune_ms = now_ms + (int64_t)MAIL_PRUNE_EVERY_S * 1000;
	const pp_db_value_t params[] = {DB_INT(core_now(poller->core) - MAIL_SEEN_KEEP_S)};
	char db_error[DB_ERROR_MAX];
	if (db_exec(poller->core->db, "DELETE FROM mail_seen WHERE seen_at < $1", params, 1, NULL,
	            db_error, sizeof(db_error)) != DB_OK)
		log_warn("mail.prune_failed error=\"%s\"", db_error);
}

/* One pass over the accounts that are due. Returns the monotonic ms of the next due poll. */
static int64_t mail_poller_pass(pp_mail_poller_t *poller)
{
	pp_core_t *core = poller->core;
	int64_t now_ms = mail_now_ms();
	int64_t next_ms = now_ms + 10000;
	char error[512];
	pp_mail_account_t *accounts = NULL;
	size_t count = 0;
	if (mail_account_list(core, &accounts, &count, error, sizeof(error)) < 0) {
		log_warn("mail.accounts_unreadable error=\"%s\" — retrying in 10 s", error);
		return next_ms;
	}
	mail_policy_t policy;
	bool has_policy = false;
	for (size_t i = 0; i < count && !mail_poller_is_stopping(poller); i++) {
		const pp_mail_account_t *account = &accounts[i];
		if (!account->is_enabled)
			continue;
		mail_poll_state_t *state = mail_poller_state(poller, account->id);
		if (state == NULL)
			break;
		int64_t interval_ms = (account->poll_interval_s > 0 ? account->poll_interval_s : 10) *
		                      1000;
		if (state->next_ms > now_ms) {
			if (state->next_ms < next_ms)
				next_ms = state->next_ms;
			continue;
		}
		/* The settings once per pass: an admin's change applies at the next pass. */
		if (!has_policy) {
			if (mail_policy_load(core, &policy, error, sizeof(error)) < 0) {
				log_warn("mail.settings_unreadable error=\"%s\" — retrying in 10 s", error);
				break;
			}
			has_policy = true;
		}
		int64_t taken = 0;
		int rc = mail_poll_account(poller, account, &policy, &taken, error, sizeof(error));
		if (rc == 0) {
			if (state->failures > 0)
				log_info("mail.account_recovered account=%s", account->name);
			state->failures = 0;
			error[0] = '\0';
		} else {
			state->failures++;
			log_warn("mail.poll_failed account=%s failures=%u error=\"%s\"", account->name,
			         state->failures, error);
		}
		char status_error[256];
		if (mail_account_status_set(core, account->id, error, taken, status_error,
		                            sizeof(status_error)) < 0)
			log_warn("mail.status_failed account=%s error=\"%s\"", account->name,
			         status_error);
		/* Back off after failures: interval * 2^failures, at most 15 minutes. */
		int64_t wait_ms = interval_ms;
		for (unsigned f = 0; f < state->failures && wait_ms < MAIL_BACKOFF_MAX_S * 1000; f++)
			wait_ms *= 2;
		if (wait_ms > (int64_t)MAIL_BACKOFF_MAX_S * 1000)
			wait_ms = (int64_t)MAIL_BACKOFF_MAX_S * 1000;
		/* A full round (more waiting) goes on at once. */
		if (rc == 0 && taken >= MAIL_ROUND_MAX)
			wait_ms = 0;
		state->next_ms = mail_now_ms() + wait_ms;
		if (state->next_ms < next_ms)
			next_ms = state->next_ms;
	}
	mail_account_list_free(&accounts);
	mail_poller_prune(poller, mail_now_ms());
	return next_ms;
}

static void *mail_poller_main(void *arg)
{
	pp_mail_poller_t *poller = arg;
	log_info("mail.poller_started");
	for (;;) {
		int64_t next_ms = mail_poller_pass(poller);
		(void)pthread_mutex_lock(&poller->lock);
		while (!poller->is_stopping && !poller->is_woken) {
			int64_t wait_ms = next_ms - mail_now_ms();
			if (wait_ms <= 0)
				break;
			struct timespec until;
			(void)clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += wait_ms / 1000;
			until.tv_nsec += (wait_ms % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			if (pthread_cond_timedwait(&poller->cond, &poller->lock, &until) == ETIMEDOUT)
				break;
		}
		bool is_stopping = poller->is_stopping;
		if (poller->is_woken) {
			/* An explicit wake polls every account now. */
			for (size_t i = 0; i < poller->n_states; i++)
				poller->states[i].next_ms = 0;
		}
		poller->is_woken = false;
		(void)pthread_mutex_unlock(&poller->lock);
		if (is_stopping)
			break;
	}
	log_info("mail.poller_stopped");
	return NULL;
}

int mail_poller_start(pp_core_t *core, pp_mail_poller_t **poller_r, char *error,
                      size_t error_size)
{
	*poller_r = NULL;
	mail_gmime_init();
	if (!mail_curl_init()) {
		str_format(error, error_size, "mail: libcurl cannot start");
		return -1;
	}
	pp_mail_poller_t *poller = calloc(1, sizeof(*poller));
	if (poller == NULL) {
		str_format(error, error_size, "mail: out of memory");
		return -1;
	}
	poller->core = core;
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc == 0) {
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (rc == 0)
			rc = pthread_cond_init(&poller->cond, &attr);
		(void)pthread_condattr_destroy(&attr);
	}
	if (rc != 0) {
		free(poller);
		str_format(error, error_size, "mail: cannot create the poller's condition: %s",
		           strerror(rc));
		return -1;
	}
	rc = pthread_mutex_init(&poller->lock, NULL);
	if (rc == 0) {
		rc = pthread_create(&poller->thread, NULL, mail_poller_main, poller);
		if (rc != 0)
			(void)pthread_mutex_destroy(&poller->lock);
	}
	if (rc != 0) {
		(void)pthread_cond_destroy(&poller->cond);
		free(poller);
		str_format(error, error_size, "mail: cannot start the poller thread: %s",
		           strerror(rc));
		return -1;
	}
	*poller_r = poller;
	return 0;
}

void mail_poller_wake(pp_mail_poller_t *poller)
{
	if (poller == NULL)
		return;
	(void)pthread_mutex_lock(&poller->lock);
	poller->is_woken = true;
	(void)pthread_cond_signal(&poller->cond);
	(void)pthread_mutex_unlock(&poller->lock);
}

void mail_poller_stop(pp_mail_poller_t **poller)
{
	if (poller == NULL || *poller == NULL)
		return;
	pp_mail_poller_t *p = *poller;
	(void)pthread_mutex_lock(&p->lock);
	p->is_stopping = true;
	(void)pthread_cond_signal(&p->cond);
	(void)pthread_mutex_unlock(&p->lock);
	int rc = pthread_join(p->thread, NULL);
	if (rc != 0)
		log_error("mail.poller_join_failed error=\"%s\"", strerror(rc));
	(void)pthread_cond_destroy(&p->cond);
	(void)pthread_mutex_destroy(&p->lock);
	free(p->states);
	free(p);
	*poller = NULL;
}
