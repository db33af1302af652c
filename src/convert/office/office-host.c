/*
 * office-host.c - the office host: the forked child that keeps LibreOffice loaded and turns
 * one document per request into a PDF.
 *
 * Order of start-up, and why:
 *   1. fds 0-2 and the socket only (nothing of the worker leaks in), default signal
 *      dispositions and an empty signal mask, a small fixed environment (HOME and TMPDIR
 *      inside the profile);
 *   2. sandbox_enter() with profile OFFICE: a new session and process group (the worker
 *      kills the whole group on a timeout), rlimits, no network, the sandbox user,
 *      no_new_privs, seccomp — before LibreOffice's code is even loaded, so neither
 *      LibreOffice's start nor any document runs outside the sandbox;
 *   3. the private profile (office-profile.c), written as the sandbox user;
 *   4. libreofficekit_hook_2() from <program_dir>/libmergedlo.so (what lok_init_2() in
 *      LibreOfficeKitInit.h does, without that header's stderr messages and strncpy);
 *   5. "ready", then one request at a time until the worker closes the socket.
 * A document is loaded with Batch=true (no interaction), MacroSecurityLevel=3 and
 * EnableMacrosExecution=false, on top of the profile's settings.
 */
#include "convert/office/office-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <LibreOfficeKit/LibreOfficeKit.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define OFFICE_HOST_SOCK 3 /* the socket's number once the host has tidied its fds */
#define OFFICE_LOAD_OPTIONS \
	"Language=en-US,Batch=true,MacroSecurityLevel=3,EnableMacrosExecution=false"

/*
 * From LibreOfficeKitEnums.h, which only C++ can include once its unstable part is enabled
 * (static_cast, nullptr); these values are part of LibreOfficeKit's ABI since 6.0.
 */
#define OFFICE_FEATURE_DOCUMENT_PASSWORD (1ULL << 0)
#define OFFICE_FEATURE_DOCUMENT_PASSWORD_TO_MODIFY (1ULL << 1)
#define OFFICE_CALLBACK_DOCUMENT_PASSWORD 20
#define OFFICE_CALLBACK_DOCUMENT_PASSWORD_TO_MODIFY 21

typedef LibreOfficeKit *(office_hook_fn)(const char *install_path, const char *user_profile_url);

/* What the request loop and LibreOffice's callback share. */
typedef struct {
	LibreOfficeKit *kit;
	bool password_asked; /* the document being loaded asked for its password */
} office_host_t;

/* Sends "init-failed\n<reason>" (best effort: the worker may be gone) and exits. */
static _Noreturn void office_host_fail(int sock, const char *reason)
{
	char frame[OFFICE_FRAME_MAX];
	if (!str_format(frame, sizeof(frame), "init-failed\n%s", reason))
		str_copy(frame, sizeof(frame), "init-failed\noffice: start-up failed");
	(void)office_frame_write(sock, frame, strlen(frame));
	_exit(1);
}

/*
 * Step 1: leaves the host with stdin and stdout on /dev/null, stderr (the worker's log),
 * the socket as fd OFFICE_HOST_SOCK and nothing else. Returns 0 or -1 with error.
 */
static int office_host_tidy(int sock, char *error, size_t error_size)
{
	/* Out of the way of 0-4 first, so that the dup2() below cannot overwrite it. */
	int high = fcntl(sock, F_DUPFD, 10);
	if (high < 0 || dup2(high, OFFICE_HOST_SOCK) < 0) {
		str_format(error, error_size, "office: cannot move the socket: %s", strerror(errno));
		return -1;
	}
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0) {
		str_format(error, error_size, "office: cannot open /dev/null: %s", strerror(errno));
		return -1;
	}
	if (close_range(OFFICE_HOST_SOCK + 1, ~0u, 0) != 0) {
		str_format(error, error_size, "office: close_range failed: %s", strerror(errno));
		return -1;
	}
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) {
		str_format(error, error_size, "office: sigprocmask failed: %s", strerror(errno));
		return -1;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct sigaction sa = { .sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL };
		sigemptyset(&sa.sa_mask);
		(void)sigaction(sig, &sa, NULL); /* fails only for signals the C library keeps */
	}
	return 0;
}

/* Step 1, continued: the environment LibreOffice sees. Returns 0 or -1 with error. */
static int office_host_environment(const char *profile_dir, char *error, size_t error_size)
{
	char tmp[PATH_MAX];
	if (!str_format(tmp, sizeof(tmp), "%s/tmp", profile_dir)) {
		str_format(error, error_size, "office: profile path too long: %s", profile_dir);
		return -1;
	}
	if (clearenv() != 0 || setenv("HOME", profile_dir, 1) != 0 || setenv("TMPDIR", tmp, 1) != 0 ||
	    setenv("PATH", "/usr/bin:/bin", 1) != 0 || setenv("LANG", "C.UTF-8", 1) != 0 ||
	    setenv("SAL_USE_VCLPLUGIN", "svp", 1) != 0) {
		str_format(error, error_size, "office: cannot set the environment: %s",
			   strerror(errno));
		return -1;
	}
	return 0;
}

/* LibreOffice's callback: a password-protected document is refused, not asked about. */
static void office_host_callback(int type, const char *payload, void *data)
{
	office_host_t *host = data;
	if (payload == NULL)
		return;
	if (type == OFFICE_CALLBACK_DOCUMENT_PASSWORD) {
		/* NULL aborts the load. */
		host->password_asked = true;
		host->kit->pClass->setDocumentPassword(host->kit, payload, NULL);
	} else if (type == OFFICE_CALLBACK_DOCUMENT_PASSWORD_TO_MODIFY) {
		/* NULL opens it read-only, which is all printing needs. */
		host->kit->pClass->setDocumentPassword(host->kit, payload, NULL);
	}
}

/* Step 4: loads LibreOffice. Returns the kit, or NULL with error. */
static LibreOfficeKit *office_host_load(const char *program_dir, const char *profile_dir,
					char *error, size_t error_size)
{
	char library[PATH_MAX];
	char profile_url[3 * PATH_MAX];
	if (!str_format(library, sizeof(library), "%s/libmergedlo.so", program_dir) ||
	    !office_file_url(profile_dir, profile_url, sizeof(profile_url))) {
		str_format(error, error_size, "office: path too long or not absolute: %s",
			   profile_dir);
		return NULL;
	}
	void *handle = dlopen(library, RTLD_LAZY);
	if (handle == NULL) {
		const char *why = dlerror();
		str_format(error, error_size, "office: cannot load %s: %s — install "
			   "libreoffice-core-nogui or set [convert] office_dir", library,
			   why != NULL ? why : "unknown error");
		return NULL;
	}
	void *symbol = dlsym(handle, "libreofficekit_hook_2");
	if (symbol == NULL) {
		str_format(error, error_size, "office: %s has no libreofficekit_hook_2: "
			   "LibreOffice is older than 5.0", library);
		return NULL;
	}
	office_hook_fn *hook;
	memcpy(&hook, &symbol, sizeof(hook));
	LibreOfficeKit *kit = hook(program_dir, profile_url);
	if (kit == NULL) {
		str_format(error, error_size, "office: LibreOffice did not start (libreofficekit_"
			   "hook_2 failed); its messages are in the converter's log");
		return NULL;
	}
	/* The handle stays open for the life of the host, as LibreOfficeKitInit.h does. */
	return kit;
}

/* The error LibreOffice gives for the last call, for the log; "" when none. */
static void office_host_error(LibreOfficeKit *kit, char *buf, size_t size)
{
	buf[0] = '\0';
	char *why = kit->pClass->getError(kit);
	if (why == NULL)
		return;
	if (!str_copy(buf, size, why)) {
		/* Cut at the buffer: this is for the log only. */
		memcpy(buf, why, size - 1);
		buf[size - 1] = '\0';
	}
	if (LIBREOFFICEKIT_HAS(kit, freeError))
		kit->pClass->freeError(why);
	else
		free(why);
}

/*
 * True when in_path starts like a format office.h promises (the kinds doctype_sniff() sends
 * here): a ZIP (OOXML, OpenDocument), an OLE2 compound file (Word, Excel, PowerPoint 97-2003),
 * RTF, or XML (flat OpenDocument, Word 2003 XML). LibreOffice would otherwise fall back to
 * importing anything as plain text, or try one of its many legacy importers on it.
 */
static bool office_host_known_format(const char *in_path)
{
	static const struct {
		const char *magic;
		size_t len;
	} formats[] = {
		{ "PK\x03\x04", 4 },
		{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8 },
		{ "{\\rtf", 5 },
		{ "<?xml", 5 },
		{ "\xef\xbb\xbf<?xml", 8 },
	};
	unsigned char head[8];
	int fd = open(in_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, head, sizeof(head));
	(void)close(fd); /* read-only: nothing to lose */
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (n >= (ssize_t)formats[i].len && memcmp(head, formats[i].magic, formats[i].len) == 0)
			return true;
	}
	return false;
}

/*
 * Converts in_path to out_path. Returns 0, or -1 with a user-facing reason and *unopened_r
 * true when LibreOffice could not load the document without having asked for a password.
 */
static int office_host_convert(office_host_t *host, const char *in_path, const char *out_path,
			       bool *unopened_r, char *reason, size_t reason_size)
{
	*unopened_r = false;
	char in_url[3 * PATH_MAX];
	char out_url[3 * PATH_MAX];
	char why[512];
	if (!office_file_url(in_path, in_url, sizeof(in_url)) ||
	    !office_file_url(out_path, out_url, sizeof(out_url))) {
		str_copy(reason, reason_size, "The document could not be converted: its name is "
			 "too long.");
		return -1;
	}
	if (!office_host_known_format(in_path)) {
		str_copy(reason, reason_size, "This file is not a Word, Excel, PowerPoint, "
			 "OpenDocument or RTF document (or it is damaged): save it again and send it "
			 "again.");
		return -1;
	}
	host->password_asked = false;
	LibreOfficeKitDocument *doc =
		host->kit->pClass->documentLoadWithOptions(host->kit, in_url, OFFICE_LOAD_OPTIONS);
	if (doc == NULL) {
		office_host_error(host->kit, why, sizeof(why));
		log_info("office.load_failed password=%s error=%s",
			 host->password_asked ? "yes" : "no", why);
		*unopened_r = !host->password_asked;
		str_copy(reason, reason_size, host->password_asked
			 ? "This document is protected by a password: remove the password and "
			   "send the document again."
			 : "This document could not be opened: it is damaged or not an office "
			   "document. Save it again (or as PDF) and send it again.");
		return -1;
	}
	int saved = doc->pClass->saveAs(doc, out_url, "pdf", NULL);
	doc->pClass->destroy(doc);
	struct stat st;
	if (!saved || stat(out_path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		office_host_error(host->kit, why, sizeof(why));
		log_info("office.export_failed error=%s", why);
		str_copy(reason, reason_size, "This document was opened but could not be turned "
			 "into a PDF: save it as PDF yourself and send that.");
		return -1;
	}
	return 0;
}

/* Step 5: answers requests until the worker closes the socket. */
static _Noreturn void office_host_serve(office_host_t *host, int sock)
{
	char request[OFFICE_FRAME_MAX + 1];
	for (;;) {
		size_t len;
		office_read_status_t status =
			office_frame_read(sock, -1, request, sizeof(request), &len);
		if (status == OFFICE_READ_EOF)
			_exit(0);
		if (status != OFFICE_READ_OK) {
			log_error("office.host_read_failed error=%s", strerror(errno));
			_exit(1);
		}
		/* "convert\n<in>\n<out>" */
		char *in_path = strchr(request, '\n');
		char *out_path = in_path != NULL ? strchr(in_path + 1, '\n') : NULL;
		if (out_path == NULL || strncmp(request, "convert\n", 8) != 0) {
			log_error("office.host_bad_request");
			_exit(1);
		}
		*in_path++ = '\0';
		*out_path++ = '\0';
		char reason[SANDBOX_MESSAGE_MAX];
		char reply[OFFICE_FRAME_MAX];
		bool unopened;
		if (office_host_convert(host, in_path, out_path, &unopened, reason,
					sizeof(reason)) == 0)
			str_copy(reply, sizeof(reply), "ok");
		else if (!str_format(reply, sizeof(reply), "%s\n%s",
				     unopened ? "unopened" : "failed", reason))
			str_copy(reply, sizeof(reply), "failed\nThe document could not be converted.");
		if (office_frame_write(sock, reply, strlen(reply)) != 0)
			_exit(1);
	}
}

_Noreturn void office_host_main(const office_host_args_t *args, int sock)
{
	char error[SANDBOX_MESSAGE_MAX];
	pid_t parent = getppid();
	if (office_host_tidy(sock, error, sizeof(error)) != 0)
		office_host_fail(sock, error);
	sock = OFFICE_HOST_SOCK;
	if (office_host_environment(args->profile_dir, error, sizeof(error)) != 0)
		office_host_fail(sock, error);

	pp_sandbox_limits_t limits = *args->limits;
	limits.profile = SANDBOX_PROFILE_OFFICE;
	if (sandbox_enter(&limits, args->profile_dir, error, sizeof(error)) != 0)
		office_host_fail(sock, error);
	/* Die with the worker (set after the user switch, which clears it), unless it is gone. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		log_warn("office.pdeathsig_failed error=%s", strerror(errno));
	if (getppid() != parent)
		_exit(1);
	umask(077);

	if (office_profile_write(args->profile_dir, error, sizeof(error)) != 0)
		office_host_fail(sock, error);
	office_host_t host = { 0 };
	host.kit = office_host_load(args->program_dir, args->profile_dir, error, sizeof(error));
	if (host.kit == NULL)
		office_host_fail(sock, error);
	if (LIBREOFFICEKIT_HAS(host.kit, registerCallback) &&
	    LIBREOFFICEKIT_HAS(host.kit, setOptionalFeatures)) {
		host.kit->pClass->setOptionalFeatures(host.kit, OFFICE_FEATURE_DOCUMENT_PASSWORD |
						      OFFICE_FEATURE_DOCUMENT_PASSWORD_TO_MODIFY);
		host.kit->pClass->registerCallback(host.kit, office_host_callback, &host);
	}
	if (office_frame_write(sock, "ready", 5) != 0)
		_exit(1);
	office_host_serve(&host, sock);
}
