/*
 * test-mail-intake.c - a fetched mail handled exactly once: the jobs a submission makes, the
 * replies queued, what noise, spoofs, refused senders and unreadable mails leave behind, and
 * crash safety: a child process dies at every mail intake crash point in turn, and reading
 * the same mail again after the "restart" must leave its jobs exactly once. SQLite and
 * PostgreSQL.
 */
#include "test-db-support.h"

#include "core/intake.h"
#include "core/printers.h"
#include "core/sender-policy.h"
#include "core/settings.h"
#include "lib/fault.h"
#include "lib/str.h"
#include "mail/mail-in-private.h"
#include "mail/mail-out.h"
#include "spool/spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_MAX_BYTES (4 * 1024 * 1024)

static const uint8_t test_spool_key[SPOOL_KEY_BYTES] = {9, 9, 9, 9, 1, 2, 3, 4};

/* A "server": its own database handle, spool and core. */
typedef struct {
	pp_db_t *db;
	pp_spool_t *spool;
	pp_core_t core;
	int64_t now;
} server_t;

static int server_open(const char *url, const char *dir, server_t *s, char *error,
                       size_t error_size)
{
	memset(s, 0, sizeof(*s));
	char spool_dir[4096];
	if (!crypto_init() || !str_format(spool_dir, sizeof(spool_dir), "%s/spool", dir))
		return -1;
	if (db_open(url, &s->db, error, error_size) != DB_OK)
		return -1;
	if (spool_open(spool_dir, test_spool_key, true, TEST_MAX_BYTES, &s->spool, error,
	               error_size) < 0)
		return -1;
	return test_core_init(&s->core, &s->now, s->db, s->spool, TEST_CORE_KEY_BYTE);
}

static void server_close(server_t *s)
{
	core_deinit(&s->core);
	spool_close(&s->spool);
	db_close(&s->db);
}

/* Mails as users send them. */
#define TWO_DOCS                                                                                   \
	"From: Carol <carol@example.com>\r\nTo: print@example.com\r\nSubject: two docs\r\n"        \
	"Message-ID: <two@example.com>\r\nMIME-Version: 1.0\r\n"                                   \
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"                                    \
	"--b\r\nContent-Type: text/plain\r\n\r\nplease print\r\n"                                  \
	"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "                \
	"filename=a.pdf\r\n\r\n%PDF-1.4\r\n%%EOF\r\n"                                              \
	"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "                     \
	"filename=b.txt\r\n\r\nsecond document\r\n"                                                \
	"--b\r\nContent-Type: application/x-msdownload\r\nContent-Disposition: attachment; "       \
	"filename=setup.exe\r\n\r\nMZ\x90\x01\x02\r\n--b--\r\n"

static int64_t count_rows(server_t *s, const char *sql)
{
	pp_db_result_t *res = NULL;
	char error[DB_ERROR_MAX];
	if (db_query(s->db, sql, NULL, 0, &res, error, sizeof(error)) != DB_OK)
		fail_msg("%s: %s", sql, error);
	int64_t n = db_result_int(res, 0, 0);
	db_result_free(&res);
	return n;
}

static int64_t jobs_of(server_t *s)
{
	return count_rows(s, "SELECT COUNT(*) FROM jobs WHERE source = 'mail'");
}

static int64_t replies(server_t *s)
{
	return count_rows(s, "SELECT COUNT(*) FROM mail_outbox");
}

/* Runs intake on raw with the default policy (plus tweak, may be NULL). */
static int run(server_t *s, const char *raw, void (*tweak)(mail_policy_t *),
               mail_outcome_t *outcome_r, size_t *jobs_r)
{
	mail_policy_t policy;
	char error[512];
	if (mail_policy_load(&s->core, &policy, error, sizeof(error)) < 0)
		fail_msg("policy: %s", error);
	if (tweak != NULL)
		tweak(&policy);
	int rc = mail_intake_raw(&s->core, NULL, &policy, (const uint8_t *)raw, strlen(raw),
	                         outcome_r, jobs_r, error, sizeof(error));
	if (rc < 0)
		print_error("intake: %s\n", error);
	return rc;
}

static void set(server_t *s, const char *name, const char *value)
{
	char error[256];
	if (settings_set(&s->core, "test", name, value, error, sizeof(error)) < 0)
		fail_msg("setting %s: %s", name, error);
}

static void test_intake_submission_once(void **state)
{
	test_db_t *t = TEST_DB(state);
	server_t s;
	char error[512];
	assert_int_equal(server_open(t->url, t->dir, &s, error, sizeof(error)), 0);
	set(&s, "users.unknown_sender_policy", "accept");

	mail_outcome_t outcome;
	size_t jobs = 0;
	assert_int_equal(run(&s, TWO_DOCS, NULL, &outcome, &jobs), 0);
	assert_int_equal(outcome, MAIL_OUTCOME_JOBS);
	assert_int_equal(jobs, 2);
	assert_int_equal(jobs_of(&s), 2);
	assert_int_equal(replies(&s), 1);
	/* The documents are stored under their names, typed by content. */
	assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM documents WHERE name = 'a.pdf' AND "
	                                "content_type = 'application/pdf'"),
	                 1);
	assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM documents WHERE name = 'b.txt' AND "
	                                "content_type = 'text/plain'"),
	                 1);
	/* The user was created by the unknown-sender policy, as a mail user. */
	assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM users WHERE email = "
	                                "'carol@example.com' AND source = 'mail'"),
	                 1);

	/* Read again (not deleted on the server yet): nothing new, no second reply. */
	assert_int_equal(run(&s, TWO_DOCS, NULL, &outcome, &jobs), 0);
	assert_int_equal(outcome, MAIL_OUTCOME_DUPLICATE);
	assert_int_equal(jobs_of(&s), 2);
	assert_int_equal(replies(&s), 1);
	server_close(&s);
}

/* Outcomes that store nothing. */
typedef struct {
	const char *name;
	const char *raw;
	const char *unknown_policy;
	mail_outcome_t outcome;
	int64_t replies; /* replies queued */
} quiet_case_t;

#define PLAIN_FROM(from, extra)                                                                    \
	"From: " from "\r\nSubject: doc\r\nMessage-ID: <" from ".q@x>\r\n" extra                   \
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"              \
	"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "                \
	"filename=a.pdf\r\n\r\n%PDF-1.4\r\n%%EOF\r\n--b--\r\n"

static const quiet_case_t quiet_cases[] = {
    {"auto-reply: no job, no reply", PLAIN_FROM("dan@example.com", "Auto-Submitted: auto-replied\r\n"),
     "accept", MAIL_OUTCOME_NOISE, 0},
    {"bulk mail", PLAIN_FROM("news@example.com", "Precedence: bulk\r\n"), "accept",
     MAIL_OUTCOME_NOISE, 0},
    {"spoofed: Authentication-Results fail",
     PLAIN_FROM("ceo@example.com", "Authentication-Results: mx.test; dmarc=fail\r\n"), "accept",
     MAIL_OUTCOME_SPOOFED, 0},
    {"spoofed: no trusted header at all", PLAIN_FROM("cfo@example.com", ""), "accept",
     MAIL_OUTCOME_SPOOFED, 0},
    {"unknown sender under reject: told, nothing stored", PLAIN_FROM("eve@example.com", ""),
     "reject", MAIL_OUTCOME_REJECTED, 1},
    {"unreadable: told why",
     "From: fay@example.com\r\nSubject: broken\r\nMessage-ID: <broken@x>\r\n"
     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n",
     "accept", MAIL_OUTCOME_UNREADABLE, 1},
};

static void tweak_auth(mail_policy_t *policy)
{
	(void)str_copy(policy->auth_serv_id, sizeof(policy->auth_serv_id), "mx.test");
}

static void test_intake_quiet_outcomes(void **state)
{
	test_db_t *t = TEST_DB(state);
	server_t s;
	char error[512];
	assert_int_equal(server_open(t->url, t->dir, &s, error, sizeof(error)), 0);
	for (size_t i = 0; i < sizeof(quiet_cases) / sizeof(quiet_cases[0]); i++) {
		const quiet_case_t *c = &quiet_cases[i];
		set(&s, "users.unknown_sender_policy", c->unknown_policy);
		int64_t before = replies(&s);
		mail_outcome_t outcome;
		size_t jobs = 0;
		bool is_spoof_row = c->outcome == MAIL_OUTCOME_SPOOFED;
		if (run(&s, c->raw, is_spoof_row ? tweak_auth : NULL, &outcome, &jobs) != 0)
			fail_msg("%s: intake failed", c->name);
		if (outcome != c->outcome)
			fail_msg("%s: outcome %s, expected %s", c->name, mail_outcome_name(outcome),
			         mail_outcome_name(c->outcome));
		if (jobs_of(&s) != 0)
			fail_msg("%s: jobs were stored", c->name);
		if (replies(&s) - before != c->replies)
			fail_msg("%s: %lld replies, expected %lld", c->name,
			         (long long)(replies(&s) - before), (long long)c->replies);
		/* Read again: still nothing, and no second reply. */
		if (run(&s, c->raw, is_spoof_row ? tweak_auth : NULL, &outcome, &jobs) != 0 ||
		    outcome != MAIL_OUTCOME_DUPLICATE || replies(&s) - before != c->replies)
			fail_msg("%s: the second reading was not a quiet duplicate", c->name);
	}
	/* Nobody was created for the rejected sender. */
	assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM users WHERE email = 'eve@example.com'"),
	                 0);
	server_close(&s);
}

/* Hold policy: the documents are kept for a pending user and never print at once. */
static void test_intake_hold_and_blocked(void **state)
{
	test_db_t *t = TEST_DB(state);
	server_t s;
	char error[512];
	assert_int_equal(server_open(t->url, t->dir, &s, error, sizeof(error)), 0);
	set(&s, "users.unknown_sender_policy", "hold");
	mail_outcome_t outcome;
	size_t jobs = 0;
	assert_int_equal(run(&s, PLAIN_FROM("gus@example.com", ""), NULL, &outcome, &jobs), 0);
	assert_int_equal(outcome, MAIL_OUTCOME_JOBS);
	assert_int_equal(jobs, 1);
	assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM users WHERE email = "
	                                "'gus@example.com' AND state = 'pending'"),
	                 1);

	/* A blocked sender: nothing stored and no answer (no backscatter). */
	assert_int_equal(sender_rule_add(&s.core, "test", PP_SENDER_RULE_BLOCK, "@spam.example",
	                                 error, sizeof(error)),
	                 0);
	int64_t before = replies(&s);
	assert_int_equal(run(&s, PLAIN_FROM("x@spam.example", ""), NULL, &outcome, &jobs), 0);
	assert_int_equal(outcome, MAIL_OUTCOME_REJECTED);
	assert_int_equal(replies(&s), before);
	assert_int_equal(jobs_of(&s), 1);
	server_close(&s);
}

/* Print now: the mailbox's default printer, or a printer named in the subject. */
static void test_intake_print_now(void **state)
{
	test_db_t *t = TEST_DB(state);
	server_t s;
	char error[512];
	assert_int_equal(server_open(t->url, t->dir, &s, error, sizeof(error)), 0);
	set(&s, "users.unknown_sender_policy", "accept");
	pp_printer_t printer;
	printers_init(&printer);
	(void)str_copy(printer.name, sizeof(printer.name), "Lobby");
	(void)str_copy(printer.alias, sizeof(printer.alias), "lobby");
	(void)str_copy(printer.device_uri, sizeof(printer.device_uri), "ipp://127.0.0.1:1/ipp/print");
	int64_t printer_id = 0;
	assert_int_equal(printers_add(&s.core, "test", &printer, &printer_id, error, sizeof(error)),
	                 0);

	const char *raw = "From: hal@example.com\r\nSubject: lobby\r\nMessage-ID: <pn@x>\r\n"
	                  "Content-Type: application/pdf\r\nContent-Disposition: attachment; "
	                  "filename=a.pdf\r\n\r\n%PDF-1.4\r\n%%EOF\r\n";
	mail_outcome_t outcome;
	size_t jobs = 0;
	/* Off by default: held. */
	assert_int_equal(run(&s, raw, NULL, &outcome, &jobs), 0);
	assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM jobs WHERE printer_id IS NOT NULL"),
	                 0);
	set(&s, "mail.print_now_enabled", "on");
	const char *raw2 = "From: hal@example.com\r\nSubject: print on lobby please\r\n"
	                   "Message-ID: <pn2@x>\r\nContent-Type: application/pdf\r\n"
	                   "Content-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF-1.4\r\n%%EOF\r\n";
	assert_int_equal(run(&s, raw2, NULL, &outcome, &jobs), 0);
	assert_int_equal(outcome, MAIL_OUTCOME_JOBS);
	assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM jobs WHERE printer_id IS NOT NULL"),
	                 1);
	server_close(&s);
}

/* Every crash point of a submission, in order. */
static const char *const fault_points[] = {
    "mail.intake_after_spool",
    "mail.intake_before_commit",
    "mail.intake_after_commit",
};

static const char *test_argv0;

/* The child: one submission, dying at PP_FAULT_POINT. Never returns. */
static void fault_child(const char *url, const char *dir)
{
	server_t s;
	char error[512];
	if (server_open(url, dir, &s, error, sizeof(error)) < 0)
		_exit(2);
	mail_policy_t policy;
	if (mail_policy_load(&s.core, &policy, error, sizeof(error)) < 0)
		_exit(3);
	mail_outcome_t outcome;
	size_t jobs = 0;
	if (mail_intake_raw(&s.core, NULL, &policy, (const uint8_t *)TWO_DOCS, strlen(TWO_DOCS),
	                    &outcome, &jobs, error, sizeof(error)) < 0)
		_exit(4);
	_exit(0);
}

static void test_intake_crash_points(void **state)
{
	test_db_t *t = TEST_DB(state);
	char error[512];
	for (size_t i = 0; i < sizeof(fault_points) / sizeof(fault_points[0]); i++) {
		const char *point = fault_points[i];
		server_t s;
		assert_int_equal(server_open(t->url, t->dir, &s, error, sizeof(error)), 0);
		set(&s, "users.unknown_sender_policy", "accept");
		const char *clear[] = {"DELETE FROM mail_seen", "DELETE FROM mail_outbox",
		                       "DELETE FROM jobs"};
		for (size_t k = 0; k < 3; k++)
			assert_int_equal(db_exec(s.db, clear[k], NULL, 0, NULL, error, sizeof(error)),
			                 DB_OK);
		server_close(&s);

		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char *argv[] = {(char *)test_argv0, (char *)"--fault-child", t->url, t->dir,
			                NULL};
			if (setenv("PP_FAULT_POINT", point, 1) == 0)
				execv(test_argv0, argv);
			_exit(5);
		}
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != FAULT_EXIT_CODE)
			fail_msg("%s: the child did not die at the point (status %d)", point,
			         WIFEXITED(status) ? WEXITSTATUS(status) : -1);

		/* Restart: recover, and read the mail again (it was never deleted). */
		assert_int_equal(server_open(t->url, t->dir, &s, error, sizeof(error)), 0);
		pp_intake_recovery_t rec;
		assert_int_equal(intake_recover(&s.core, 0, &rec, error, sizeof(error)), 0);
		mail_outcome_t outcome;
		size_t jobs = 0;
		assert_int_equal(run(&s, TWO_DOCS, NULL, &outcome, &jobs), 0);
		if (jobs_of(&s) != 2)
			fail_msg("%s: %lld jobs after the restart, expected 2", point,
			         (long long)jobs_of(&s));
		/* One confirmation: it shares the jobs' transaction. */
		if (replies(&s) != 1)
			fail_msg("%s: %lld replies, expected 1", point, (long long)replies(&s));
		/* Every document row points at a file. */
		assert_int_equal(count_rows(&s, "SELECT COUNT(*) FROM documents"), 2);
		assert_int_equal(intake_recover(&s.core, 0, &rec, error, sizeof(error)), 0);
		assert_int_equal(rec.files_removed, 0);
		server_close(&s);
	}
}

int main(int argc, char **argv)
{
	test_argv0 = argv[0];
	if (argc == 4 && strcmp(argv[1], "--fault-child") == 0)
		fault_child(argv[2], argv[3]);
	const struct CMUnitTest tests[] = {
	    TEST_DB_CASE(test_intake_submission_once),
	    TEST_DB_CASE(test_intake_quiet_outcomes),
	    TEST_DB_CASE(test_intake_hold_and_blocked),
	    TEST_DB_CASE(test_intake_print_now),
	    TEST_DB_CASE(test_intake_crash_points),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
