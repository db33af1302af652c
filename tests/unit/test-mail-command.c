/*
 * test-mail-command.c - commands by mail and the replies they and submissions get: subject
 * parsing, the release key, printer addresses, release / delete / new code carried out on a
 * real database, the confirmation (pages once converted, the code per policy, the links),
 * and the outbox's retries and giving up. Replies are captured by a stand-in for SMTP.
 * Runs on SQLite and PostgreSQL.
 */
#include "test-db-support.h"

#include "core/codes.h"
#include "core/job.h"
#include "core/printers.h"
#include "core/settings.h"
#include "lib/str.h"
#include "mail/mail-out-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------- */
/* Parsing (no database).                                                                  */

typedef struct {
	const char *subject;
	pp_mail_command_kind_t kind;
	int rc;
	const char *key;
	const char *printer;
	size_t n_jobs;
	int64_t first_job;
} parse_case_t;

static const parse_case_t parse_cases[] = {
    {"Quarterly report", PP_MAIL_COMMAND_NONE, 0, "", "", 0, 0},
    {"", PP_MAIL_COMMAND_NONE, 0, "", "", 0, 0},
    {"new code", PP_MAIL_COMMAND_NEW_CODE, 0, "", "", 0, 0},
    {"  New   Code! ", PP_MAIL_COMMAND_NEW_CODE, 0, "", "", 0, 0},
    {"Re: AW: new code", PP_MAIL_COMMAND_NEW_CODE, 0, "", "", 0, 0},
    {"Neuer Code", PP_MAIL_COMMAND_NEW_CODE, 0, "", "", 0, 0},
    {"new code for the printer", PP_MAIL_COMMAND_NONE, 0, "", "", 0, 0},
    {"ABCD-EFGH-JKLM-NPQR floor2", PP_MAIL_COMMAND_RELEASE, 0, "ABCD-EFGH-JKLM-NPQR", "floor2", 0,
     0},
    {"Re: abcd-efgh-jklm-npqr floor2 12 #13,14", PP_MAIL_COMMAND_RELEASE, 0, "abcd-efgh-jklm-npqr",
     "floor2", 3, 12},
    {"ABCDEFGH2KLMNPQR printer-3@print.example.com", PP_MAIL_COMMAND_RELEASE, 0, "ABCDEFGH2KLMNPQR",
     "printer-3@print.example.com", 0, 0},
    /* a sixteen-letter word is not a key */
    {"CHARACTERIZATION results", PP_MAIL_COMMAND_NONE, 0, "", "", 0, 0},
    {"ABCD-EFGH-JKLM-NPQR PRINTER", PP_MAIL_COMMAND_RELEASE, -1, "ABCD-EFGH-JKLM-NPQR", "", 0, 0},
    {"ABCD-EFGH-JKLM-NPQR", PP_MAIL_COMMAND_RELEASE, -1, "ABCD-EFGH-JKLM-NPQR", "", 0, 0},
    {"ABCD-EFGH-JKLM-NPQR floor2 twelve", PP_MAIL_COMMAND_RELEASE, -1, "ABCD-EFGH-JKLM-NPQR",
     "floor2", 0, 0},
    {"ABCD-EFGH-JKLM-NPQR http://evil:9100/", PP_MAIL_COMMAND_RELEASE, -1, "ABCD-EFGH-JKLM-NPQR",
     "", 0, 0},
    {"delete ABCD-EFGH-JKLM-NPQR", PP_MAIL_COMMAND_DELETE, 0, "ABCD-EFGH-JKLM-NPQR", "", 0, 0},
    {"Fwd: Delete ABCD-EFGH-JKLM-NPQR 7", PP_MAIL_COMMAND_DELETE, 0, "ABCD-EFGH-JKLM-NPQR", "", 1,
     7},
    {"Delete this draft", PP_MAIL_COMMAND_NONE, 0, "", "", 0, 0},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const parse_case_t *c = &parse_cases[i];
		pp_mail_command_t cmd;
		char error[256] = "";
		int rc = mail_command_parse(c->subject, &cmd, error, sizeof(error));
		if (rc != c->rc || cmd.kind != c->kind)
			fail_msg("[%s]: rc %d kind %d, want rc %d kind %d (%s)", c->subject, rc,
			         (int)cmd.kind, c->rc, (int)c->kind, error);
		if (rc < 0) {
			assert_true(error[0] != '\0');
			continue;
		}
		if (strcmp(cmd.key, c->key) != 0 || strcmp(cmd.printer, c->printer) != 0 ||
		    cmd.n_job_ids != c->n_jobs || (c->n_jobs > 0 && cmd.job_ids[0] != c->first_job))
			fail_msg("[%s]: key [%s] printer [%s] jobs %zu", c->subject, cmd.key,
			         cmd.printer, cmd.n_job_ids);
	}
}

/* ------------------------------------------------------------------------------------- */
/* Fixtures.                                                                               */

/* The stand-in for SMTP: keeps the last message; fails while told to. */
typedef struct {
	char *last; /* the last message sent */
	char rcpt[USERS_EMAIL_MAX];
	int sent;
	int fail_left; /* fail this many sends */
	bool is_permanent;
} fake_smtp_t;

static int fake_send(void *ctx, const char *rcpt, const char *message, size_t len,
                     bool *is_permanent_r, char *error, size_t error_size)
{
	fake_smtp_t *f = ctx;
	if (f->fail_left > 0) {
		f->fail_left--;
		*is_permanent_r = f->is_permanent;
		str_format(error, error_size, "451 try again later");
		return -1;
	}
	free(f->last);
	f->last = strndup(message, len);
	(void)str_copy(f->rcpt, sizeof(f->rcpt), rcpt);
	f->sent++;
	return 0;
}

/* Undoes quoted-printable soft breaks and =XX in s, in place (enough to read a reply). */
static void qp_decode(char *s)
{
	char *o = s;
	for (const char *p = s; *p != '\0';) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=' && str_hex_digit(p[1]) >= 0 && str_hex_digit(p[2]) >= 0) {
			*o++ = (char)(str_hex_digit(p[1]) * 16 + str_hex_digit(p[2]));
			p += 3;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

/* Runs the outbox once with f; returns what the pass did. */
static pp_mail_outbox_stats_t run_outbox(test_core_t *tc, fake_smtp_t *f)
{
	pp_mail_sender_config_t cfg = {
	    .public_url = "https://print.example.com", .send = fake_send, .send_ctx = f};
	pp_mail_outbox_stats_t stats;
	char error[512];
	if (mail_outbox_run(&tc->core, &cfg, 0, &stats, error, sizeof(error)) != 0)
		fail_msg("outbox: %s", error);
	if (f->last != NULL)
		qp_decode(f->last);
	return stats;
}

static int64_t add_printer(test_core_t *tc, const char *name, const char *location, bool is_enabled)
{
	pp_printer_t p;
	printers_init(&p);
	(void)str_copy(p.name, sizeof(p.name), name);
	(void)str_copy(p.location, sizeof(p.location), location);
	(void)str_copy(p.device_uri, sizeof(p.device_uri), "ipp://127.0.0.1:8631/ipp/print");
	p.is_enabled = is_enabled;
	int64_t id = 0;
	char error[512];
	if (printers_add(&tc->core, "admin:test", &p, &id, error, sizeof(error)) != 0)
		fail_msg("printers_add %s: %s", name, error);
	return id;
}

/* A job of user_id titled title, moved to state (received, converting or held). */
static int64_t add_job(test_core_t *tc, int64_t user_id, const char *title, pp_job_state_t state,
                       int64_t pages, int64_t printer_id)
{
	pp_job_new_t n = {.user_id = user_id,
	                  .source = "mail",
	                  .title = title,
	                  .printer_id = printer_id,
	                  .size_bytes = 100};
	pp_job_t job;
	char error[512];
	if (job_create(&tc->core, &n, &job, error, sizeof(error)) != 0)
		fail_msg("job_create: %s", error);
	if (state == PP_JOB_RECEIVED)
		return job.id;
	assert_int_equal(job_transition(&tc->core, job.id, PP_JOB_RECEIVED, PP_JOB_CONVERTING, NULL,
	                                error, sizeof(error)),
	                 JOB_OK);
	if (state == PP_JOB_HELD) {
		pp_job_transition_t how = {.has_pages = true, .pages = pages, .color_pages = 0};
		assert_int_equal(job_transition(&tc->core, job.id, PP_JOB_CONVERTING, PP_JOB_HELD,
		                                &how, error, sizeof(error)),
		                 JOB_OK);
	}
	return job.id;
}

static pp_job_state_t job_state_of(test_core_t *tc, int64_t id)
{
	pp_job_t job;
	char error[512];
	assert_int_equal(job_get(&tc->core, id, &job, error, sizeof(error)), JOB_OK);
	return job.state;
}

/* A parsed mail from from to print@example.com with subject. */
typedef struct {
	pp_mail_message_t msg;
	char subject[512];
	char message_id[64];
	char from_name[8];
	char body[8];
} test_msg_t;

static pp_mail_message_t *make_msg(test_msg_t *m, const char *from, const char *subject)
{
	memset(m, 0, sizeof(*m));
	(void)str_copy(m->msg.from, sizeof(m->msg.from), from);
	(void)str_copy(m->msg.to, sizeof(m->msg.to), "print@example.com");
	(void)str_copy(m->subject, sizeof(m->subject), subject);
	(void)str_copy(m->message_id, sizeof(m->message_id), "m1@mail.example.com");
	m->msg.subject = m->subject;
	m->msg.message_id = m->message_id;
	m->msg.from_name = m->from_name;
	m->msg.body = m->body;
	return &m->msg;
}

static void handle(test_core_t *tc, const pp_mail_message_t *msg, bool expect_handled)
{
	bool handled = false;
	char error[512];
	if (mail_command_handle(&tc->core, msg, &handled, error, sizeof(error)) != 0)
		fail_msg("handle [%s]: %s", msg->subject, error);
	assert_int_equal(handled, expect_handled);
}

static void setting(test_core_t *tc, const char *name, const char *value)
{
	char error[512];
	if (settings_set(&tc->core, "admin:test", name, value, error, sizeof(error)) != 0)
		fail_msg("setting %s: %s", name, error);
}

/* ------------------------------------------------------------------------------------- */
/* The release key and printer names.                                                      */

static void test_release_key(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char a[MAIL_RELEASE_KEY_LEN + 1], a2[MAIL_RELEASE_KEY_LEN + 1], b[MAIL_RELEASE_KEY_LEN + 1];
	mail_release_key(&tc->core, 1, a);
	mail_release_key(&tc->core, 1, a2);
	mail_release_key(&tc->core, 2, b);
	assert_int_equal(strlen(a), MAIL_RELEASE_KEY_LEN);
	assert_string_equal(a, a2); /* stable */
	assert_string_not_equal(a, b);
	assert_true(a[4] == '-' && a[9] == '-' && a[14] == '-');
	assert_true(mail_release_key_check(&tc->core, 1, a));
	assert_false(mail_release_key_check(&tc->core, 2, a)); /* another user's key */
	/* As people type it: lower case, without dashes. */
	char typed[32];
	size_t o = 0;
	for (const char *p = a; *p != '\0'; p++) {
		if (*p != '-')
			typed[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	}
	typed[o] = '\0';
	assert_true(mail_release_key_check(&tc->core, 1, typed));
	typed[0] = typed[0] == 'a' ? 'b' : 'a';
	assert_false(mail_release_key_check(&tc->core, 1, typed));
	assert_false(mail_release_key_check(&tc->core, 1, ""));
	assert_false(mail_release_key_check(&tc->core, 1, "ABCD"));
	/* The key parses as a key in a subject. */
	char subject[64];
	assert_true(str_format(subject, sizeof(subject), "%s floor2", a));
	pp_mail_command_t cmd;
	char error[256];
	assert_int_equal(mail_command_parse(subject, &cmd, error, sizeof(error)), 0);
	assert_int_equal(cmd.kind, PP_MAIL_COMMAND_RELEASE);
}

static void test_printer_resolve(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	int64_t id = add_printer(tc, "Floor2", "Second floor", true);
	(void)add_printer(tc, "Old", "", false);
	pp_printer_t p;
	char error[512];
	const char *inbox = "print@example.com";
	assert_int_equal(mail_printer_resolve(&tc->core, "floor2", inbox, &p, error, sizeof(error)),
	                 0);
	assert_int_equal(p.id, id);
	assert_int_equal(
	    mail_printer_resolve(&tc->core, "floor2@example.com", inbox, &p, error, sizeof(error)),
	    0);
	assert_int_equal(mail_printer_resolve(&tc->core, "floor2@evil.example.net", inbox, &p,
	                                      error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);
	assert_int_equal(mail_printer_resolve(&tc->core, "old", inbox, &p, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND); /* disabled */
	assert_int_equal(mail_printer_resolve(&tc->core, "nosuch", inbox, &p, error, sizeof(error)),
	                 PRINTERS_NOT_FOUND);
	setting(tc, "mail.printer_domain", "print.example.com");
	assert_int_equal(mail_printer_resolve(&tc->core, "FLOOR2@Print.Example.com", inbox, &p,
	                                      error, sizeof(error)),
	                 0);
	assert_int_equal(
	    mail_printer_resolve(&tc->core, "floor2@example.com", inbox, &p, error, sizeof(error)),
	    PRINTERS_NOT_FOUND);
}

/* ------------------------------------------------------------------------------------- */
/* Commands carried out.                                                                   */

static void test_release_by_mail(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	int64_t ann = test_db_add_user(tc->core.db, "ann@example.com");
	int64_t bob = test_db_add_user(tc->core.db, "bob@example.com");
	int64_t printer = add_printer(tc, "floor2", "Second floor", true);
	int64_t j1 = add_job(tc, ann, "report.pdf", PP_JOB_HELD, 3, 0);
	int64_t j2 = add_job(tc, ann, "slides.pptx", PP_JOB_HELD, 10, 0);
	int64_t jb = add_job(tc, bob, "bob.pdf", PP_JOB_HELD, 1, 0);
	char key[MAIL_RELEASE_KEY_LEN + 1], subject[128];
	fake_smtp_t f = {0};
	test_msg_t m;

	/* Bob's key from Ann's address: refused, nothing moves. */
	mail_release_key(&tc->core, bob, key);
	assert_true(str_format(subject, sizeof(subject), "%s floor2", key));
	handle(tc, make_msg(&m, "ann@example.com", subject), true);
	assert_int_equal(job_state_of(tc, j1), PP_JOB_HELD);
	assert_int_equal(job_state_of(tc, jb), PP_JOB_HELD);
	run_outbox(tc, &f);
	assert_int_equal(f.sent, 1);
	assert_string_equal(f.rcpt, "ann@example.com");
	assert_non_null(strstr(f.last, "is not the one of this address"));

	/* A forged key: refused the same way. */
	handle(tc, make_msg(&m, "ann@example.com", "ZZZZ-ZZZZ-ZZZZ-ZZZZ floor2"), true);
	assert_int_equal(job_state_of(tc, j1), PP_JOB_HELD);

	/* An unknown printer: refused, the reply lists the ones there are. */
	mail_release_key(&tc->core, ann, key);
	assert_true(str_format(subject, sizeof(subject), "%s lobby", key));
	handle(tc, make_msg(&m, "ann@example.com", subject), true);
	run_outbox(tc, &f);
	assert_non_null(strstr(f.last, "no printer \"lobby\""));
	assert_non_null(strstr(f.last, "floor2 (Second floor)"));
	assert_int_equal(job_state_of(tc, j1), PP_JOB_HELD);

	/* One named job. */
	assert_true(
	    str_format(subject, sizeof(subject), "Re: %s floor2 #%lld", key, (long long)j2));
	handle(tc, make_msg(&m, "ann@example.com", subject), true);
	assert_int_equal(job_state_of(tc, j2), PP_JOB_RELEASING);
	assert_int_equal(job_state_of(tc, j1), PP_JOB_HELD);
	run_outbox(tc, &f);
	assert_non_null(strstr(f.last, "Released to floor2"));
	assert_non_null(strstr(f.last, "slides.pptx"));

	/* Bob's job named by Ann: reads as missing, stays held. */
	assert_true(str_format(subject, sizeof(subject), "%s floor2 %lld", key, (long long)jb));
	handle(tc, make_msg(&m, "ann@example.com", subject), true);
	assert_int_equal(job_state_of(tc, jb), PP_JOB_HELD);
	run_outbox(tc, &f);
	assert_non_null(strstr(f.last, "no such job of yours"));

	/* All held jobs, by printer address. */
	assert_true(str_format(subject, sizeof(subject), "%s floor2@example.com", key));
	handle(tc, make_msg(&m, "ann@example.com", subject), true);
	assert_int_equal(job_state_of(tc, j1), PP_JOB_RELEASING);
	pp_job_t job;
	char error[512];
	assert_int_equal(job_get(&tc->core, j1, &job, error, sizeof(error)), JOB_OK);
	assert_int_equal(job.printer_id, printer);
	run_outbox(tc, &f);
	assert_non_null(strstr(f.last, "report.pdf"));
	/* The reply answers the mail. */
	assert_non_null(strstr(f.last, "In-Reply-To: <m1@mail.example.com>"));
	free(f.last);
}

static void test_delete_and_new_code(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	int64_t ann = test_db_add_user(tc->core.db, "ann@example.com");
	int64_t j1 = add_job(tc, ann, "report.pdf", PP_JOB_HELD, 3, 0);
	char key[MAIL_RELEASE_KEY_LEN + 1], subject[128], error[512];
	fake_smtp_t f = {0};
	test_msg_t m;

	mail_release_key(&tc->core, ann, key);
	assert_true(str_format(subject, sizeof(subject), "delete %s", key));
	handle(tc, make_msg(&m, "ann@example.com", subject), true);
	pp_job_t job;
	assert_int_equal(job_get(&tc->core, j1, &job, error, sizeof(error)), JOB_NOT_FOUND);
	run_outbox(tc, &f);
	assert_non_null(strstr(f.last, "Deleted 1 document(s)"));

	/* New code: mailed, and it works. */
	handle(tc, make_msg(&m, "ann@example.com", "new code"), true);
	run_outbox(tc, &f);
	const char *at = strstr(f.last, "Your new confirmation code: ");
	assert_non_null(at);
	char code[CODES_MAX_LEN + 1];
	size_t n = 0;
	for (at += strlen("Your new confirmation code: ");
	     *at >= '0' && *at <= '9' && n < CODES_MAX_LEN;)
		code[n++] = *at++;
	code[n] = '\0';
	bool is_valid = false;
	assert_int_equal(
	    codes_verify(&tc->core, "ann@example.com", code, NULL, &is_valid, error, sizeof(error)),
	    0);
	assert_true(is_valid);
	/* The outbox keeps no copy of it. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db,
	                          "SELECT count(*) FROM mail_outbox WHERE message IS NOT NULL OR "
	                          "context LIKE '%' || $1 || '%'",
	                          (pp_db_value_t[]){DB_TEXT(code)}, 1, &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_int(res, 0, 0), 0);
	db_result_free(&res);

	/* Asking again at once changes nothing and sends nothing; two minutes later it does. */
	int sent = f.sent;
	handle(tc, make_msg(&m, "ann@example.com", "new code"), true);
	run_outbox(tc, &f);
	assert_int_equal(f.sent, sent);
	is_valid = false;
	assert_int_equal(
	    codes_verify(&tc->core, "ann@example.com", code, NULL, &is_valid, error, sizeof(error)),
	    0);
	assert_true(is_valid);
	test_core_advance(tc, 121);
	handle(tc, make_msg(&m, "ann@example.com", "new code"), true);
	run_outbox(tc, &f);
	assert_int_equal(f.sent, sent + 1);

	/* An unknown sender asking for a code gets none, and no account. */
	handle(tc, make_msg(&m, "eve@example.com", "new code"), true);
	run_outbox(tc, &f);
	assert_string_equal(f.rcpt, "eve@example.com");
	assert_non_null(strstr(f.last, "has no account yet"));
	pp_user_t user;
	bool is_found = true;
	assert_int_equal(users_get_by_email(&tc->core, "eve@example.com", &user, &is_found, error,
	                                    sizeof(error)),
	                 0);
	assert_false(is_found);

	/* An ordinary subject is no command. */
	handle(tc, make_msg(&m, "ann@example.com", "Holiday photos"), false);
	free(f.last);
}

/* ------------------------------------------------------------------------------------- */
/* The confirmation.                                                                       */

static void submit(test_core_t *tc, const char *from, int64_t user_id, const int64_t *ids,
                   const char *const *names, size_t n)
{
	test_msg_t m;
	pp_mail_message_t *msg = make_msg(&m, from, "Scans");
	pp_mail_job_t jobs[8];
	for (size_t i = 0; i < n; i++)
		jobs[i] = (pp_mail_job_t){.job_id = ids[i], .name = names[i]};
	char *skip_name = strdup("logo.png"),
	     *skip_reason = strdup("inline image under 20480 bytes");
	pp_mail_skipped_t skipped = {.name = skip_name, .reason = skip_reason};
	pp_user_t user;
	bool is_found = false;
	char error[512];
	assert_int_equal(
	    users_get_by_id(&tc->core, user_id, &user, &is_found, error, sizeof(error)), 0);
	assert_true(is_found);
	if (mail_reply_submission(&tc->core, msg, &user, jobs, n, &skipped, 1, error,
	                          sizeof(error)) != 0)
		fail_msg("reply: %s", error);
	free(skip_name);
	free(skip_reason);
}

static void test_confirmation(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	int64_t ann = test_db_add_user(tc->core.db, "ann@example.com");
	(void)add_printer(tc, "floor2", "Second floor", true);
	(void)add_printer(tc, "old", "", false);
	int64_t j1 = add_job(tc, ann, "scan1.pdf", PP_JOB_RECEIVED, 0, 0);
	int64_t j2 = add_job(tc, ann, "scan2.pdf", PP_JOB_RECEIVED, 0, 0);
	fake_smtp_t f = {0};
	const int64_t ids[] = {j1, j2};
	const char *const names[] = {"scan1.pdf", "scan2.pdf"};
	submit(tc, "ann@example.com", ann, ids, names, 2);

	/* Not converted yet: the reply waits. */
	pp_mail_outbox_stats_t s = run_outbox(tc, &f);
	assert_int_equal(s.waiting, 1);
	assert_int_equal(f.sent, 0);
	/* Converted: pages are counted; the other failed. */
	char error[512];
	pp_job_transition_t how = {.has_pages = true, .pages = 4};
	assert_int_equal(job_transition(&tc->core, j1, PP_JOB_RECEIVED, PP_JOB_CONVERTING, NULL,
	                                error, sizeof(error)),
	                 JOB_OK);
	assert_int_equal(job_transition(&tc->core, j1, PP_JOB_CONVERTING, PP_JOB_HELD, &how, error,
	                                sizeof(error)),
	                 JOB_OK);
	pp_job_transition_t bad = {.reason = "the file is damaged"};
	assert_int_equal(job_transition(&tc->core, j2, PP_JOB_RECEIVED, PP_JOB_REJECTED, &bad,
	                                error, sizeof(error)),
	                 JOB_OK);
	test_core_advance(tc, 2);
	s = run_outbox(tc, &f);
	assert_int_equal(s.sent, 1);
	const char *expect[] = {
	    "scan1.pdf - 4 page(s)",
	    "scan2.pdf - cannot be printed: the file is damaged",
	    "logo.png - inline image under 20480 bytes",
	    "Your confirmation code: ", /* new-users: the first reply has one */
	    "floor2 (Second floor): mailto:print@example.com?subject=",
	    "subject=new%20code",
	    "subject=delete%20",
	    "https://print.example.com",
	    "Auto-Submitted: auto-replied",
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		if (strstr(f.last, expect[i]) == NULL)
			fail_msg("confirmation lacks [%s]:\n%s", expect[i], f.last);
	}
	assert_null(strstr(f.last, "subject=old")); /* disabled printers are not offered */
	char key[MAIL_RELEASE_KEY_LEN + 1], link[128];
	mail_release_key(&tc->core, ann, key);
	assert_true(str_format(link, sizeof(link), "subject=%s%%20floor2", key));
	assert_non_null(strstr(f.last, link));

	/* Second submission: new-users gives no second code. */
	int64_t j3 = add_job(tc, ann, "scan3.pdf", PP_JOB_HELD, 1, 0);
	const int64_t ids3[] = {j3};
	const char *const names3[] = {"scan3.pdf"};
	submit(tc, "ann@example.com", ann, ids3, names3, 1);
	run_outbox(tc, &f);
	assert_int_equal(f.sent, 2);
	assert_null(strstr(f.last, "Your confirmation code"));
	/* always: a code in every reply. */
	setting(tc, "mail.code_in_reply", "always");
	submit(tc, "ann@example.com", ann, ids3, names3, 1);
	run_outbox(tc, &f);
	assert_non_null(strstr(f.last, "Your confirmation code"));
	/* never. */
	setting(tc, "mail.code_in_reply", "never");
	submit(tc, "ann@example.com", ann, ids3, names3, 1);
	run_outbox(tc, &f);
	assert_null(strstr(f.last, "Your confirmation code"));

	/* A conversion that never ends: the reply goes after mail.reply_wait_seconds anyway. */
	int64_t j4 = add_job(tc, ann, "huge.pdf", PP_JOB_RECEIVED, 0, 0);
	const int64_t ids4[] = {j4};
	const char *const names4[] = {"huge.pdf"};
	submit(tc, "ann@example.com", ann, ids4, names4, 1);
	run_outbox(tc, &f);
	assert_int_equal(f.sent, 4);
	test_core_advance(tc, 31);
	run_outbox(tc, &f);
	assert_int_equal(f.sent, 5);
	assert_non_null(strstr(f.last, "huge.pdf - still being prepared"));
	free(f.last);
}

static void test_pending_and_refused(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	pp_user_t user;
	assert_int_equal(users_add(&tc->core, "test", "pat@example.com", PP_USER_PENDING, "mail",
	                           &user, error, sizeof(error)),
	                 0);
	int64_t j = add_job(tc, user.id, "a.pdf", PP_JOB_HELD, 1, 0);
	fake_smtp_t f = {0};
	const int64_t ids[] = {j};
	const char *const names[] = {"a.pdf"};
	submit(tc, "pat@example.com", user.id, ids, names, 1);
	run_outbox(tc, &f);
	assert_non_null(strstr(f.last, "waits for an administrator's approval"));
	assert_null(strstr(f.last, "PRINTER"));

	test_msg_t m;
	assert_int_equal(mail_reply_refused(&tc->core, make_msg(&m, "x@blocked.example", "Hi"),
	                                    "this address is not allowed to print", error,
	                                    sizeof(error)),
	                 0);
	run_outbox(tc, &f);
	assert_string_equal(f.rcpt, "x@blocked.example");
	assert_non_null(strstr(f.last, "not accepted: this address is not allowed to print"));

	assert_int_equal(mail_reply_unreadable(&tc->core, "y@example.com", NULL,
	                                       "the message is not valid MIME", error,
	                                       sizeof(error)),
	                 0);
	run_outbox(tc, &f);
	assert_string_equal(f.rcpt, "y@example.com");
	assert_non_null(strstr(f.last, "the message is not valid MIME"));
	free(f.last);
}

/* ------------------------------------------------------------------------------------- */
/* The outbox: retries, giving up, SMTP settings.                                          */

static void test_outbox_retry_and_give_up(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	fake_smtp_t f = {.fail_left = 3};
	assert_int_equal(
	    mail_reply_unreadable(&tc->core, "a@example.com", "x", "broken", error, sizeof(error)),
	    0);
	pp_mail_outbox_stats_t s = run_outbox(tc, &f);
	assert_int_equal(s.retried, 1);
	/* Not due again before the backoff. */
	s = run_outbox(tc, &f);
	assert_int_equal(s.retried + s.sent, 0);
	test_core_advance(tc, 30);
	s = run_outbox(tc, &f);
	assert_int_equal(s.retried, 1);
	test_core_advance(tc, 60);
	s = run_outbox(tc, &f);
	assert_int_equal(s.retried, 1);
	test_core_advance(tc, 120);
	s = run_outbox(tc, &f);
	assert_int_equal(s.sent, 1);
	pp_mail_outbox_row_t *rows = NULL;
	size_t n = 0;
	assert_int_equal(mail_outbox_list(&tc->core, 10, &rows, &n, error, sizeof(error)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].state, "sent");
	assert_int_equal(rows[0].attempts, 4);
	free(rows);

	/* Failing for longer than mail.outbox_give_up_hours: given up. */
	setting(tc, "mail.outbox_give_up_hours", "1");
	f.fail_left = 1000;
	assert_int_equal(
	    mail_reply_unreadable(&tc->core, "b@example.com", "x", "broken", error, sizeof(error)),
	    0);
	for (int i = 0; i < 20; i++) {
		run_outbox(tc, &f);
		test_core_advance(tc, 600);
	}
	assert_int_equal(mail_outbox_list(&tc->core, 10, &rows, &n, error, sizeof(error)), 0);
	assert_string_equal(rows[0].state, "failed");
	assert_non_null(strstr(rows[0].last_error, "451"));
	free(rows);

	/* A permanent refusal: given up at once. */
	f.fail_left = 1;
	f.is_permanent = true;
	assert_int_equal(
	    mail_reply_unreadable(&tc->core, "c@example.com", "x", "broken", error, sizeof(error)),
	    0);
	s = run_outbox(tc, &f);
	assert_int_equal(s.given_up, 1);
	free(f.last);
}

static void test_smtp_config(void **state)
{
	test_core_t *tc = TEST_CORE(state);
	char error[512];
	pp_smtp_config_t cfg;
	assert_int_equal(mail_smtp_config_get(&tc->core, &cfg, error, sizeof(error)), 0);
	assert_false(cfg.is_configured);

	memset(&cfg, 0, sizeof(cfg));
	(void)str_copy(cfg.host, sizeof(cfg.host), "smtp.example.com");
	(void)str_copy(cfg.from_address, sizeof(cfg.from_address), "Print@Example.com");
	(void)str_copy(cfg.username, sizeof(cfg.username), "print@example.com");
	cfg.auth = PP_SMTP_AUTH_PASSWORD;
	cfg.is_verify_tls = true;
	/* A password is needed for auth password. */
	assert_int_equal(mail_smtp_config_set(&tc->core, "test", &cfg, NULL, error, sizeof(error)),
	                 -1);
	assert_int_equal(
	    mail_smtp_config_set(&tc->core, "test", &cfg, "s3cret pass", error, sizeof(error)), 0);
	/* Plain text only to this host. */
	cfg.security = PP_SMTP_PLAIN;
	assert_int_equal(mail_smtp_config_set(&tc->core, "test", &cfg, NULL, error, sizeof(error)),
	                 -1);
	assert_non_null(strstr(error, "localhost"));

	pp_smtp_config_t got;
	assert_int_equal(mail_smtp_config_get(&tc->core, &got, error, sizeof(error)), 0);
	assert_true(got.is_configured);
	assert_true(got.has_secret);
	assert_string_equal(got.from_address, "print@example.com");
	assert_int_equal(mail_smtp_port(&got), 587);
	char secret[MAIL_SMTP_SECRET_MAX];
	assert_int_equal(mail_smtp_secret_get(&tc->core, secret, error, sizeof(error)), 0);
	assert_string_equal(secret, "s3cret pass");
	/* Not stored in the clear, nor in the audit log. */
	pp_db_result_t *res = NULL;
	assert_int_equal(db_query(tc->core.db,
	                          "SELECT (SELECT count(*) FROM mail_smtp WHERE secret_enc LIKE "
	                          "'%s3cret%'), (SELECT count(*) FROM audit_log WHERE detail LIKE "
	                          "'%s3cret%')",
	                          NULL, 0, &res, error, sizeof(error)),
	                 DB_OK);
	assert_int_equal(db_result_int(res, 0, 0), 0);
	assert_int_equal(db_result_int(res, 0, 1), 0);
	db_result_free(&res);
	/* Changing other fields keeps the secret. */
	got.security = PP_SMTP_TLS;
	assert_int_equal(mail_smtp_config_set(&tc->core, "test", &got, NULL, error, sizeof(error)),
	                 0);
	assert_int_equal(mail_smtp_secret_get(&tc->core, secret, error, sizeof(error)), 0);
	assert_string_equal(secret, "s3cret pass");
	assert_int_equal(mail_smtp_config_get(&tc->core, &got, error, sizeof(error)), 0);
	assert_int_equal(mail_smtp_port(&got), 465);

	/* Sending to a port nobody listens on fails with a message saying what to check. */
	got.port = 1;
	got.security = PP_SMTP_STARTTLS;
	(void)str_copy(got.host, sizeof(got.host), "127.0.0.1");
	assert_int_equal(
	    mail_smtp_send(&got, secret, "a@example.com", "x", 1, NULL, NULL, error, sizeof(error)),
	    -1);
	assert_non_null(strstr(error, "127.0.0.1:1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_table),       TEST_CORE_CASE(test_release_key),
	    TEST_CORE_CASE(test_printer_resolve),     TEST_CORE_CASE(test_release_by_mail),
	    TEST_CORE_CASE(test_delete_and_new_code), TEST_CORE_CASE(test_confirmation),
	    TEST_CORE_CASE(test_pending_and_refused), TEST_CORE_CASE(test_outbox_retry_and_give_up),
	    TEST_CORE_CASE(test_smtp_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
