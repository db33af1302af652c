/*
 * test-office.c - the LibreOffice host (convert/office.h): documents become PDFs with their
 * text, bad documents fail with a reason and leave the host usable, the host is restarted
 * after max_documents and after a hang, and a document can neither run its macros nor pull
 * in linked content.
 *
 * LibreOffice takes seconds to start, so one office serves the whole file (group setup). When
 * run as root the host runs as the sandbox user pullprint-convert, which owns the test's
 * directory. The PDFs are read back with pdftotext (poppler-utils).
 */
#include "test-support.h"

#include "convert/office.h"
#include "lib/fsutil.h"
#include "lib/str.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define TEST_SANDBOX_USER "pullprint-convert"
#define TEST_SENTENCE "The quick brown fox prints securely"
#define TEST_SECRET "SECRET-FROM-A-LINKED-FILE"
#define TEST_TIMEOUT_S 20
#define TEST_TIMEOUT_VALGRIND_S 300 /* the forked host runs under valgrind too */

extern char **environ;

typedef struct {
	char *dir;          /* the test's private directory, owned by the sandbox user */
	char docs[4096];    /* inputs and outputs */
	pp_sandbox_limits_t limits;
	pp_office_t *office;
} office_fixture_t;

/* Writes text to dir/name, readable by the sandbox user. Fills path_r[4096]. */
static void write_doc(const office_fixture_t *fx, const char *name, const void *data, size_t len,
		      char *path_r)
{
	char error[256];
	assert_true(str_format(path_r, 4096, "%s/%s", fx->docs, name));
	assert_int_equal(fs_write_file_atomic(path_r, data, len, 0600, error, sizeof(error)), 0);
	if (fx->limits.switch_user)
		assert_int_equal(chown(path_r, fx->limits.uid, fx->limits.gid), 0);
}

/* A flat ODT (one XML file) whose body is body_xml, with extra top-level elements before. */
static void write_fodt(const office_fixture_t *fx, const char *name, const char *head_xml,
		       const char *body_xml, char *path_r)
{
	char text[16384];
	assert_true(str_format(text, sizeof(text),
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<office:document xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
		" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""
		" xmlns:draw=\"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0\""
		" xmlns:svg=\"urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0\""
		" xmlns:xlink=\"http://www.w3.org/1999/xlink\""
		" xmlns:script=\"urn:oasis:names:tc:opendocument:xmlns:script:1.0\""
		" xmlns:ooo=\"http://openoffice.org/2004/office\""
		" xmlns:dom=\"http://www.w3.org/2001/xml-events\""
		" office:version=\"1.3\""
		" office:mimetype=\"application/vnd.oasis.opendocument.text\">\n"
		"%s<office:body><office:text>%s</office:text></office:body></office:document>\n",
		head_xml, body_xml));
	write_doc(fx, name, text, strlen(text), path_r);
}

/* Runs argv (absolute argv[0]) with stdout to out_path (NULL: /dev/null); returns exit code. */
static int run(const char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t actions;
	assert_int_equal(posix_spawn_file_actions_init(&actions), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
		out_path != NULL ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
							  O_WRONLY, 0), 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
	assert_int_equal(rc, 0);
	posix_spawn_file_actions_destroy(&actions);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The text of the PDF at path (pdftotext). New; free(). */
static char *pdf_text(const office_fixture_t *fx, const char *pdf)
{
	char txt[4096];
	char error[256];
	assert_true(str_format(txt, sizeof(txt), "%s/pdftotext.txt", fx->dir));
	const char *argv[] = { "/usr/bin/pdftotext", pdf, "-", NULL };
	assert_int_equal(run(argv, txt), 0);
	char *text;
	size_t len;
	assert_int_equal(fs_read_file(txt, 16 * 1024 * 1024, &text, &len, error, sizeof(error)), 0);
	return text;
}

/* Converts in to out; returns the outcome and fills message_r[SANDBOX_MESSAGE_MAX]. */
static pp_sandbox_outcome_t convert(office_fixture_t *fx, const char *in, const char *out,
				    char *message_r)
{
	pp_sandbox_result_t result;
	char error[512];
	int rc = office_convert(fx->office, in, out, &result, error, sizeof(error));
	if (rc != 0)
		fail_msg("office_convert: %s", error);
	str_copy(message_r, SANDBOX_MESSAGE_MAX, result.message);
	return result.outcome;
}

/* Converts a .fodt holding TEST_SENTENCE and checks the PDF has it. */
static void convert_sentence(office_fixture_t *fx, const char *stem)
{
	char in[4096], out[4096], name[256], message[SANDBOX_MESSAGE_MAX];
	assert_true(str_format(name, sizeof(name), "%s.fodt", stem));
	write_fodt(fx, name, "", "<text:p>" TEST_SENTENCE ".</text:p>", in);
	assert_true(str_format(out, sizeof(out), "%s/%s.pdf", fx->docs, stem));
	assert_int_equal(convert(fx, in, out, message), SANDBOX_OK);
	char *text = pdf_text(fx, out);
	assert_non_null(strstr(text, TEST_SENTENCE));
	free(text);
	/* Written by LibreOffice running as the sandbox user, not as the worker. */
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	if (fx->limits.switch_user)
		assert_int_equal(st.st_uid, fx->limits.uid);
}

static int group_setup(void **state)
{
	office_fixture_t *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	char error[512];
	if (!office_available(NULL)) {
		print_message("LibreOffice is not installed: skipping\n");
		free(fx);
		*state = NULL;
		return 0;
	}
	fx->dir = test_tmpdir();
	sandbox_limits_default(&fx->limits);
	fx->limits.profile = SANDBOX_PROFILE_OFFICE;
	fx->limits.cpu_seconds = 0;          /* a host lives for many documents */
	fx->limits.address_space_bytes = 0;  /* LibreOffice maps far more than it uses */
	fx->limits.open_files = 64;          /* office_open() raises it for LibreOffice */
	if (RUNNING_ON_VALGRIND)
		fx->limits.open_files = 0;   /* valgrind refuses to lower the hard limit */
	if (geteuid() == 0) {
		assert_int_equal(sandbox_limits_set_user(&fx->limits, TEST_SANDBOX_USER, error,
							 sizeof(error)), 0);
		assert_int_equal(chown(fx->dir, fx->limits.uid, fx->limits.gid), 0);
	}
	assert_true(str_format(fx->docs, sizeof(fx->docs), "%s/docs", fx->dir));
	assert_int_equal(mkdir(fx->docs, 0700), 0);
	if (fx->limits.switch_user)
		assert_int_equal(chown(fx->docs, fx->limits.uid, fx->limits.gid), 0);

	char profile[4096];
	assert_true(str_format(profile, sizeof(profile), "%s/profile", fx->dir));
	pp_office_config_t config = {
		.program_dir = NULL,
		.profile_dir = profile,
		.max_documents = 2,
		.timeout_s = RUNNING_ON_VALGRIND ? TEST_TIMEOUT_VALGRIND_S : TEST_TIMEOUT_S,
		.limits = fx->limits,
	};
	if (office_open(&config, &fx->office, error, sizeof(error)) != 0)
		fail_msg("office_open: %s", error);
	*state = fx;
	return 0;
}

static int group_teardown(void **state)
{
	office_fixture_t *fx = *state;
	if (fx == NULL)
		return 0;
	office_close(&fx->office);
	assert_null(fx->office);
	office_close(&fx->office); /* NULL-safe */
	test_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

#define FIXTURE(state)                        \
	office_fixture_t *fx = *(state);      \
	if (fx == NULL)                       \
		skip();

/* A flat ODT's text reaches the PDF. */
static void test_fodt_converts(void **state)
{
	FIXTURE(state);
	convert_sentence(fx, "hello");
}

/* A DOCX (written by LibreOffice from the .fodt, as Word users send it) converts. */
static void test_docx_converts(void **state)
{
	FIXTURE(state);
	char in[4096], docx_dir[4096], install[4096], message[SANDBOX_MESSAGE_MAX];
	write_fodt(fx, "word.fodt", "", "<text:p>" TEST_SENTENCE ".</text:p>", in);
	assert_true(str_format(docx_dir, sizeof(docx_dir), "%s/docx", fx->dir));
	assert_true(str_format(install, sizeof(install), "-env:UserInstallation=file://%s/soffice",
			       fx->dir));
	const char *argv[] = { "/usr/bin/soffice", install, "--headless", "--convert-to", "docx",
			       "--outdir", docx_dir, in, NULL };
	assert_int_equal(run(argv, NULL), 0);

	char docx[4096], out[4096];
	char error[256];
	char *data;
	size_t len;
	assert_true(str_format(docx, sizeof(docx), "%s/word.docx", docx_dir));
	assert_int_equal(fs_read_file(docx, 1024 * 1024, &data, &len, error, sizeof(error)), 0);
	assert_memory_equal(data, "PK", 2); /* a zip, as every .docx is */
	write_doc(fx, "word.docx", data, len, in);
	free(data);
	assert_true(str_format(out, sizeof(out), "%s/word.pdf", fx->docs));
	assert_int_equal(convert(fx, in, out, message), SANDBOX_OK);
	char *text = pdf_text(fx, out);
	assert_non_null(strstr(text, TEST_SENTENCE));
	free(text);
}

/* Spreadsheets as Excel and LibreOffice users send them, written by soffice from a CSV. */
static const struct {
	const char *ext;
	const char *filter; /* soffice --convert-to */
	const char *magic;  /* how the file starts */
	size_t magic_len;
} sheet_cases[] = {
	{ "xlsx", "xlsx:Calc Office Open XML", "PK\x03\x04", 4 },
	{ "xls", "xls:MS Excel 97", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8 },
	{ "ods", "ods:calc8", "PK\x03\x04", 4 },
};

/*
 * Each spreadsheet converts with its cells' words, even named without an extension (they
 * are recognised by content), and the next document converts. Spreadsheets go through a
 * headless soffice run: Debian's libreoffice-calc-nogui lacks the UI files Calc's view needs
 * in LibreOfficeKit.
 */
static void test_spreadsheets_convert(void **state)
{
	FIXTURE(state);
	char csv[4096], sheet_dir[4096], install[4096], error[256];
	assert_true(str_format(csv, sizeof(csv), "%s/sheet.csv", fx->dir));
	static const char csv_text[] =
		"Name,Amount,Remark\nfoxtrotoscar,12,sheetword\ngolfpapa,34,tabulated\n";
	assert_int_equal(fs_write_file_atomic(csv, csv_text, sizeof(csv_text) - 1, 0600, error,
					      sizeof(error)), 0);
	assert_true(str_format(sheet_dir, sizeof(sheet_dir), "%s/sheets", fx->dir));
	assert_true(str_format(install, sizeof(install), "-env:UserInstallation=file://%s/soffice",
			       fx->dir));
	for (size_t i = 0; i < sizeof(sheet_cases) / sizeof(sheet_cases[0]); i++) {
		const char *argv[] = { "/usr/bin/soffice", install, "--headless", "--convert-to",
				       sheet_cases[i].filter, "--outdir", sheet_dir, csv, NULL };
		assert_int_equal(run(argv, NULL), 0);
		char made[4096], name[64], in[4096], out[4096], message[SANDBOX_MESSAGE_MAX];
		char *data;
		size_t len;
		assert_true(str_format(made, sizeof(made), "%s/sheet.%s", sheet_dir,
				       sheet_cases[i].ext));
		assert_int_equal(fs_read_file(made, 1024 * 1024, &data, &len, error, sizeof(error)),
				 0);
		assert_true(len >= sheet_cases[i].magic_len);
		assert_memory_equal(data, sheet_cases[i].magic, sheet_cases[i].magic_len);
		/* As the worker stores it: no extension. */
		assert_true(str_format(name, sizeof(name), "sheet-%s", sheet_cases[i].ext));
		write_doc(fx, name, data, len, in);
		free(data);
		assert_true(str_format(out, sizeof(out), "%s/sheet-%s-out.pdf", fx->docs,
				       sheet_cases[i].ext));
		pp_sandbox_outcome_t outcome = convert(fx, in, out, message);
		if (outcome != SANDBOX_OK)
			fail_msg("%s: %s: %s", name, sandbox_outcome_name(outcome), message);
		char *text = pdf_text(fx, out);
		assert_non_null(strstr(text, "foxtrotoscar"));
		assert_non_null(strstr(text, "tabulated"));
		free(text);
		/* Written by LibreOffice as the sandbox user; soffice's own name is gone. */
		struct stat st;
		assert_int_equal(stat(out, &st), 0);
		if (fx->limits.switch_user)
			assert_int_equal(st.st_uid, fx->limits.uid);
		char produced[4096];
		assert_true(str_format(produced, sizeof(produced), "%s/%s.pdf", fx->docs, name));
		assert_int_equal(access(produced, F_OK), -1);
	}
	/* The next document is not harmed by the spreadsheets. */
	convert_sentence(fx, "after-sheets");
}

/* Random bytes named .docx fail with a reason a user reads; the next document converts. */
static void test_garbage_fails_then_next_converts(void **state)
{
	FIXTURE(state);
	uint8_t junk[4096];
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (uint8_t)x;
	}
	char in[4096], out[4096], message[SANDBOX_MESSAGE_MAX];
	write_doc(fx, "junk.docx", junk, sizeof(junk), in);
	assert_true(str_format(out, sizeof(out), "%s/junk.pdf", fx->docs));
	assert_int_equal(convert(fx, in, out, message), SANDBOX_FAILED);
	assert_true(strlen(message) > 20);
	assert_null(strchr(message, '/')); /* no paths or internals */
	assert_int_equal(access(out, F_OK), -1);
	convert_sentence(fx, "after-junk");
}

/* With max_documents = 2 a host serves two documents, then a fresh one takes over. */
static void test_restart_after_max_documents(void **state)
{
	FIXTURE(state);
	bool restarted = false;
	unsigned last = office_documents_done(fx->office);
	for (int i = 0; i < 3; i++) {
		char stem[32];
		assert_true(str_format(stem, sizeof(stem), "count-%d", i));
		convert_sentence(fx, stem);
		unsigned done = office_documents_done(fx->office);
		assert_true(done >= 1 && done <= 2);
		if (last == 2 && done == 1)
			restarted = true;
		last = done;
	}
	assert_true(restarted);
}

/* The pid of the running host: our child that leads its own process group. */
static pid_t find_host(void)
{
	DIR *proc = opendir("/proc");
	assert_non_null(proc);
	pid_t found = 0;
	struct dirent *entry;
	while ((entry = readdir(proc)) != NULL) {
		char path[300];
		if (entry->d_name[0] < '1' || entry->d_name[0] > '9' ||
		    !str_format(path, sizeof(path), "/proc/%s/stat", entry->d_name))
			continue;
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		int pid = 0, ppid = 0, pgrp = 0;
		/* pid (comm) state ppid pgrp: comm may hold spaces, so start after the last ')'. */
		char line[1024];
		if (fgets(line, sizeof(line), f) != NULL) {
			char *close_paren = strrchr(line, ')');
			if (close_paren != NULL &&
			    sscanf(line, "%d", &pid) == 1 &&
			    sscanf(close_paren + 1, " %*c %d %d", &ppid, &pgrp) == 2 &&
			    ppid == (int)getpid() && pgrp == pid)
				found = pid;
		}
		fclose(f);
	}
	closedir(proc);
	return found;
}

/* A host that stops answering is killed after timeout_s; the next document converts. */
static void test_timeout_kills_and_restarts(void **state)
{
	FIXTURE(state);
	/* A running host with room for one more document (max_documents is 2). */
	convert_sentence(fx, "before-hang");
	if (office_documents_done(fx->office) != 1)
		convert_sentence(fx, "before-hang-2");
	assert_int_equal(office_documents_done(fx->office), 1);
	pid_t host = find_host();
	assert_true(host > 0);
	assert_int_equal(kill(host, SIGSTOP), 0);
	char in[4096], out[4096], message[SANDBOX_MESSAGE_MAX];
	write_fodt(fx, "hang.fodt", "", "<text:p>Never converted.</text:p>", in);
	assert_true(str_format(out, sizeof(out), "%s/hang.pdf", fx->docs));
	assert_int_equal(convert(fx, in, out, message), SANDBOX_TIMEOUT);
	assert_non_null(strstr(message, "seconds"));
	assert_int_equal(kill(host, 0), -1); /* killed and reaped */
	assert_int_equal(errno, ESRCH);
	convert_sentence(fx, "after-hang");
	assert_int_equal(office_documents_done(fx->office), 1);
}

/* Waits until pid (our child) has died but is not yet reaped. */
static void wait_zombie(pid_t pid)
{
	/* waitid, not /proc's 'Z': a threaded host's leader shows 'Z' while its other threads
	 * are still exiting and still hold its socket; the parent sees the end only after. */
	for (int i = 0; i < 1000; i++) {
		siginfo_t info = { 0 };
		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid == pid)
			return;
		usleep(10000);
	}
	fail_msg("host %d did not die", (int)pid);
}

/* A host killed from outside (e.g. out of memory) is noticed and replaced. */
static void test_crash_is_reported_and_replaced(void **state)
{
	FIXTURE(state);
	convert_sentence(fx, "before-crash");
	pid_t host = find_host();
	assert_true(host > 0);
	assert_int_equal(kill(host, SIGKILL), 0);
	wait_zombie(host);
	convert_sentence(fx, "after-crash"); /* the dead idle host is replaced */
}

/*
 * Linked content is not fetched: a section linked to a local file keeps the text the
 * document carries, and an image linked to http://127.0.0.1 is never requested.
 */
static void test_linked_content_not_fetched(void **state)
{
	FIXTURE(state);
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(listener >= 0);
	struct sockaddr_in addr = { .sin_family = AF_INET };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
	socklen_t addr_len = sizeof(addr);
	assert_int_equal(getsockname(listener, (struct sockaddr *)&addr, &addr_len), 0);
	assert_int_equal(listen(listener, 8), 0);

	char secret[4096], in[4096], out[4096], body[8192], message[SANDBOX_MESSAGE_MAX];
	write_doc(fx, "secret.txt", TEST_SECRET "\n", strlen(TEST_SECRET) + 1, secret);
	assert_true(str_format(body, sizeof(body),
		"<text:p>" TEST_SENTENCE ".</text:p>"
		"<text:section text:name=\"linked\">"
		"<text:section-source xlink:href=\"file://%s\" text:filter-name=\"Text\"/>"
		"<text:p>Cached text.</text:p></text:section>"
		"<text:p><draw:frame draw:name=\"remote\" svg:width=\"2cm\" svg:height=\"2cm\">"
		"<draw:image xlink:href=\"http://127.0.0.1:%u/image.png\" xlink:type=\"simple\""
		" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/></draw:frame>"
		"<draw:frame draw:name=\"local\" svg:width=\"2cm\" svg:height=\"2cm\">"
		"<draw:image xlink:href=\"file:///etc/passwd\" xlink:type=\"simple\""
		" xlink:show=\"embed\" xlink:actuate=\"onLoad\"/></draw:frame></text:p>",
		secret, (unsigned)ntohs(addr.sin_port)));
	write_fodt(fx, "linked.fodt", "", body, in);
	assert_true(str_format(out, sizeof(out), "%s/linked.pdf", fx->docs));
	assert_int_equal(convert(fx, in, out, message), SANDBOX_OK);
	char *text = pdf_text(fx, out);
	assert_non_null(strstr(text, TEST_SENTENCE));
	assert_null(strstr(text, TEST_SECRET));
	assert_null(strstr(text, "root:"));
	free(text);
	int peer = accept(listener, NULL, NULL);
	assert_int_equal(peer, -1); /* nobody connected */
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_int_equal(close(listener), 0);
}

/* A Basic macro bound to the document's open event does not run. */
static void test_macro_on_open_does_not_run(void **state)
{
	FIXTURE(state);
	char marker[4096], head[8192], in[4096], out[4096], message[SANDBOX_MESSAGE_MAX];
	assert_true(str_format(marker, sizeof(marker), "%s/macro-ran", fx->docs));
	assert_true(str_format(head, sizeof(head),
		"<office:scripts>"
		"<office:script script:language=\"ooo:Basic\">"
		"<ooo:libraries><ooo:library-embedded ooo:name=\"Standard\">"
		"<ooo:module ooo:name=\"Module1\"><ooo:source-code>"
		"Sub OnOpen\n"
		"  Open \"%s\" For Output As #1\n"
		"  Print #1, \"ran\"\n"
		"  Close #1\n"
		"End Sub\n"
		"</ooo:source-code></ooo:module></ooo:library-embedded></ooo:libraries>"
		"</office:script>"
		"<office:event-listeners>"
		"<script:event-listener script:language=\"ooo:script\" script:event-name=\"office:load\""
		" xlink:href=\"vnd.sun.star.script:Standard.Module1.OnOpen?language=Basic&amp;"
		"location=document\" xlink:type=\"simple\"/>"
		"<script:event-listener script:language=\"ooo:script\" script:event-name=\"dom:load\""
		" xlink:href=\"vnd.sun.star.script:Standard.Module1.OnOpen?language=Basic&amp;"
		"location=document\" xlink:type=\"simple\"/>"
		"</office:event-listeners>"
		"</office:scripts>", marker));
	write_fodt(fx, "macro.fodt", head, "<text:p>" TEST_SENTENCE ".</text:p>", in);
	assert_true(str_format(out, sizeof(out), "%s/macro.pdf", fx->docs));
	assert_int_equal(convert(fx, in, out, message), SANDBOX_OK);
	assert_int_equal(access(out, R_OK), 0);
	assert_int_equal(access(marker, F_OK), -1);
}

/* Misuse is refused before anything reaches LibreOffice. */
static void test_bad_arguments(void **state)
{
	FIXTURE(state);
	pp_sandbox_result_t result;
	char error[512];
	assert_int_equal(office_convert(fx->office, "relative.docx", "/tmp/x.pdf", &result, error,
					sizeof(error)), -1);
	assert_non_null(strstr(error, "absolute"));
	assert_int_equal(office_convert(fx->office, "/tmp/a\nb.docx", "/tmp/x.pdf", &result, error,
					sizeof(error)), -1);
	pp_office_t *other = NULL;
	pp_office_config_t config = { .profile_dir = "/tmp/x", .program_dir = "/nonexistent" };
	sandbox_limits_default(&config.limits);
	assert_int_equal(office_open(&config, &other, error, sizeof(error)), -1);
	assert_null(other);
	assert_non_null(strstr(error, "office_dir"));
	assert_false(office_available("/nonexistent"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fodt_converts),
		cmocka_unit_test(test_docx_converts),
		cmocka_unit_test(test_spreadsheets_convert),
		cmocka_unit_test(test_garbage_fails_then_next_converts),
		cmocka_unit_test(test_restart_after_max_documents),
		cmocka_unit_test(test_linked_content_not_fetched),
		cmocka_unit_test(test_macro_on_open_does_not_run),
		cmocka_unit_test(test_crash_is_reported_and_replaced),
		cmocka_unit_test(test_timeout_kills_and_restarts),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
