/*
 * office-sheet.c - spreadsheets through one headless soffice run each, not the office host.
 *
 * LibreOfficeKit opens every document in a view, and Calc's view is built from the .ui
 * files in modules/scalc/ui/, which Debian's libreoffice-calc-nogui does not ship: in the
 * host a spreadsheet fails to load (and a second one can abort the host). `soffice --convert-to`
 * opens documents hidden and needs none of those files. So a document that is a spreadsheet
 * by its content (office_sheet_sniff()) is converted by <program_dir>/soffice.bin, run from
 * a child that entered the same sandbox as the host (profile OFFICE: a deny-list that allows
 * execve and fork, no network), with the office timeout as its wall clock, an explicit small
 * environment and a private profile (<host profile>/soffice) that holds the host's settings
 * (office-profile.c: macros off, links never updated, linked images not fetched). The
 * profile is fresh for every spreadsheet, so nothing of one document is left for the next.
 */
#include "convert/office/office-private.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How much of a document the sniffer reads: ZIP names and OLE2's header live here. */
#define OFFICE_SNIFF_BYTES 16384
/* OLE2 (compound file) header fields. */
#define OLE_HEADER_BYTES 512
#define OLE_DIR_ENTRY_BYTES 128
/* soffice.bin's E_RESTART: a fresh profile was set up and the program wants to be started
 * again (what the soffice script's oosplash does); it exits before opening the document. */
#define OFFICE_SHEET_EXIT_RESTART 81
#define OFFICE_SHEET_PROFILE_NAME "soffice"

#define ODF_SHEET_MIME "application/vnd.oasis.opendocument.spreadsheet"
#define ODF_MIME_PREFIX "application/vnd.oasis.opendocument."

static unsigned office_le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t office_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool office_has(const unsigned char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

/* A ZIP: OOXML names its parts xl/, word/, ppt/; OpenDocument starts with its mimetype. */
static office_sheet_t office_sniff_zip(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; len >= 30 && i <= len - 30; i++) {
		if (memcmp(buf + i, "PK\x03\x04", 4) != 0)
			continue;
		size_t name_len = office_le16(buf + i + 26);
		size_t extra_len = office_le16(buf + i + 28);
		if (name_len > len - i - 30)
			continue; /* cut off, or "PK" inside compressed data */
		const char *name = (const char *)buf + i + 30;
		if (name_len >= 3 && memcmp(name, "xl/", 3) == 0)
			return OFFICE_SHEET_YES;
		if ((name_len >= 5 && memcmp(name, "word/", 5) == 0) ||
		    (name_len >= 4 && memcmp(name, "ppt/", 4) == 0))
			return OFFICE_SHEET_NO;
		if (name_len == 8 && memcmp(name, "mimetype", 8) == 0) {
			size_t data = i + 30 + name_len + extra_len;
			if (data < len) {
				size_t n = len - data < 80 ? len - data : 80;
				if (office_has(buf + data, n, ODF_SHEET_MIME))
					return OFFICE_SHEET_YES;
				if (office_has(buf + data, n, ODF_MIME_PREFIX))
					return OFFICE_SHEET_NO;
			}
		}
		i += 29 + name_len;
	}
	return OFFICE_SHEET_UNSURE;
}

/* One OLE2 directory entry's name, UTF-16LE, as ASCII ('?' for anything else). */
static void office_ole_name(const unsigned char *entry, char *name_r, size_t size)
{
	size_t bytes = office_le16(entry + 64); /* with the terminating NUL */
	if (bytes > 64)
		bytes = 64;
	size_t n = 0;
	for (size_t i = 0; i + 1 < bytes && n + 1 < size; i += 2) {
		unsigned c = office_le16(entry + i);
		if (c == 0)
			break;
		name_r[n++] = c < 0x80 ? (char)c : '?';
	}
	name_r[n] = '\0';
}

/* An OLE2 compound file: Excel keeps its data in a "Workbook" (BIFF8) or "Book" (BIFF5)
 * stream, Word in "WordDocument", PowerPoint in "PowerPoint Document". */
static office_sheet_t office_sniff_ole(int fd, const unsigned char *head, size_t len)
{
	if (len < OLE_HEADER_BYTES)
		return OFFICE_SHEET_UNSURE;
	unsigned shift = office_le16(head + 30);
	if (shift != 9 && shift != 12)
		return OFFICE_SHEET_UNSURE;
	uint32_t first = office_le32(head + 48);
	if (first >= 0xfffffffau)
		return OFFICE_SHEET_UNSURE;
	unsigned char sector[4096];
	size_t sector_size = (size_t)1 << shift;
	off_t offset = (off_t)(((uint64_t)first + 1) << shift);
	ssize_t got = pread(fd, sector, sector_size, offset);
	if (got != (ssize_t)sector_size)
		return OFFICE_SHEET_UNSURE;
	for (size_t at = 0; at + OLE_DIR_ENTRY_BYTES <= sector_size; at += OLE_DIR_ENTRY_BYTES) {
		unsigned type = sector[at + 66];
		if (type != 2) /* a stream */
			continue;
		char name[33];
		office_ole_name(sector + at, name, sizeof(name));
		if (strcasecmp(name, "Workbook") == 0 || strcasecmp(name, "Book") == 0)
			return OFFICE_SHEET_YES;
		if (strcasecmp(name, "WordDocument") == 0 ||
		    strcasecmp(name, "PowerPoint Document") == 0)
			return OFFICE_SHEET_NO;
	}
	return OFFICE_SHEET_UNSURE;
}

office_sheet_t office_sheet_sniff(const char *in_path)
{
	unsigned char buf[OFFICE_SNIFF_BYTES];
	int fd = open(in_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return OFFICE_SHEET_NO; /* the host reports what is wrong with it */
	size_t len = 0;
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	office_sheet_t kind = OFFICE_SHEET_NO;
	if (len >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0) {
		kind = office_sniff_zip(buf, len);
	} else if (len >= 8 && memcmp(buf, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0) {
		kind = office_sniff_ole(fd, buf, len);
	} else if ((len >= 5 && memcmp(buf, "<?xml", 5) == 0) ||
		   (len >= 8 && memcmp(buf, "\xef\xbb\xbf<?xml", 8) == 0)) {
		/* Flat OpenDocument names its mimetype; Excel 2003 XML its namespace. */
		if (office_has(buf, len, ODF_SHEET_MIME) ||
		    office_has(buf, len, "urn:schemas-microsoft-com:office:spreadsheet"))
			kind = OFFICE_SHEET_YES;
		else if (office_has(buf, len, ODF_MIME_PREFIX) ||
			 office_has(buf, len, "schemas.microsoft.com/office/word"))
			kind = OFFICE_SHEET_NO;
		else
			kind = OFFICE_SHEET_UNSURE;
	}
	(void)close(fd); /* read-only: nothing to lose */
	return kind;
}

/* What the sandboxed child needs; all borrowed. */
typedef struct {
	const char *program_dir;
	const char *profile_dir; /* the run's own profile */
	const char *in_path;
	const char *out_path;
	const char *out_dir;
} office_sheet_ctx_t;

/* Fills produced_r with <out_dir>/<in_path's name without its extension>.pdf, the file
 * soffice --convert-to writes. Returns false when it does not fit. */
static bool office_sheet_produced(const office_sheet_ctx_t *ctx, char *produced_r, size_t size)
{
	const char *base = strrchr(ctx->in_path, '/') + 1;
	const char *dot = strrchr(base, '.');
	size_t stem = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	return str_format(produced_r, size, "%s/%.*s.pdf", ctx->out_dir, (int)stem, base);
}

/* The sandboxed child: soffice.bin converts, then its PDF is renamed to out_path. Returns 0,
 * or -1 / SANDBOX_FN_LIMIT / SANDBOX_FN_VIOLATION with a user-facing reason. */
static int office_sheet_child(void *opaque, char *error, size_t error_size)
{
	const office_sheet_ctx_t *ctx = opaque;
	char why[SANDBOX_MESSAGE_MAX];
	char program[PATH_MAX], produced[PATH_MAX], url[3 * PATH_MAX];
	char install[3 * PATH_MAX + 64], home[PATH_MAX + 8], tmp[PATH_MAX + 16];
	umask(077);
	if (!str_format(program, sizeof(program), "%s/soffice.bin", ctx->program_dir) ||
	    !office_sheet_produced(ctx, produced, sizeof(produced)) ||
	    !office_file_url(ctx->profile_dir, url, sizeof(url)) ||
	    !str_format(install, sizeof(install), "-env:UserInstallation=%s", url) ||
	    !str_format(home, sizeof(home), "HOME=%s", ctx->profile_dir) ||
	    !str_format(tmp, sizeof(tmp), "TMPDIR=%s/tmp", ctx->profile_dir) ||
	    strcmp(produced, ctx->in_path) == 0) {
		str_copy(error, error_size, "The spreadsheet could not be converted: its name is "
			 "too long.");
		return -1;
	}
	if (office_profile_write(ctx->profile_dir, why, sizeof(why)) != 0) {
		log_error("office.sheet_profile_failed error=%s", why);
		str_copy(error, error_size, "The converter could not prepare LibreOffice for this "
			 "spreadsheet: try again later, and tell the administrator if it keeps "
			 "failing.");
		return -1;
	}
	/* soffice reports each conversion on stdout, which is the worker's: keep it out. */
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0) {
		log_error("office.sheet_stdout_failed error=%s", strerror(errno));
		str_copy(error, error_size, "The converter could not start LibreOffice for this "
			 "spreadsheet: try again later.");
		return -1;
	}
	(void)close(null_fd); /* /dev/null: nothing to lose */
	if (unlink(produced) != 0 && errno != ENOENT) {
		log_error("office.sheet_unlink_failed error=%s", strerror(errno));
		str_copy(error, error_size, "The converter could not prepare this spreadsheet's "
			 "PDF: try again later.");
		return -1;
	}
	const char *const argv[] = {
		program, "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
		"--nolockcheck", install, "--convert-to", "pdf", "--outdir", ctx->out_dir,
		ctx->in_path, NULL,
	};
	const char *const envp[] = {
		home, tmp, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "SAL_USE_VCLPLUGIN=svp", NULL,
	};
	char restart[64];
	if (!str_format(restart, sizeof(restart), "soffice.bin exited with status %d",
			OFFICE_SHEET_EXIT_RESTART))
		restart[0] = '\0';
	int rc;
	for (int attempt = 0;; attempt++) {
		rc = sandbox_exec_wait(argv, envp, why, sizeof(why));
		/* A fresh profile makes soffice.bin ask for a restart before it opens anything. */
		if (rc == 0 || attempt > 0 || restart[0] == '\0' || !str_has_prefix(why, restart))
			break;
	}
	if (rc != 0) {
		log_info("office.sheet_failed error=%s", why);
		if (rc == SANDBOX_FN_LIMIT)
			str_copy(error, error_size, "This spreadsheet needs more time or space than "
				 "the converter allows: split it or save it as PDF and send it again.");
		else if (rc == SANDBOX_FN_VIOLATION)
			str_copy(error, error_size, "The converter stopped this spreadsheet because "
				 "it tried something not allowed while printing. Save it as PDF and "
				 "send it again.");
		else
			str_copy(error, error_size, "LibreOffice failed on this spreadsheet: it may "
				 "be damaged. Save it again (or as PDF) and send it again.");
		return rc == SANDBOX_FN_LIMIT || rc == SANDBOX_FN_VIOLATION ? rc : -1;
	}
	struct stat st;
	if (lstat(produced, &st) != 0) {
		/* soffice exits 0 when it could not load the document, and writes nothing. */
		log_info("office.sheet_load_failed");
		str_copy(error, error_size, "This spreadsheet could not be opened: it is damaged, "
			 "protected by a password or not an office document. Remove any password, "
			 "save it again (or as PDF) and send it again.");
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		log_info("office.sheet_export_failed");
		str_copy(error, error_size, "This spreadsheet was opened but could not be turned "
			 "into a PDF: save it as PDF yourself and send that.");
		return -1;
	}
	if (strcmp(produced, ctx->out_path) != 0 && rename(produced, ctx->out_path) != 0) {
		log_error("office.sheet_rename_failed error=%s", strerror(errno));
		str_copy(error, error_size, "The converter could not store this spreadsheet's "
			 "PDF: try again later.");
		return -1;
	}
	return 0;
}

int office_sheet_convert(const office_sheet_args_t *args, const char *in_path,
			 const char *out_path, pp_sandbox_result_t *result_r, char *error,
			 size_t error_size)
{
	memset(result_r, 0, sizeof(*result_r));
	char profile[PATH_MAX], out_dir[PATH_MAX];
	if (!str_format(profile, sizeof(profile), "%s/%s", args->profile_dir,
			OFFICE_SHEET_PROFILE_NAME) ||
	    !str_copy(out_dir, sizeof(out_dir), out_path)) {
		str_copy(error, error_size, "office: a spreadsheet path is too long");
		return -1;
	}
	char *slash = strrchr(out_dir, '/');
	if (slash == NULL || slash[1] == '\0' || strrchr(in_path, '/') == NULL) {
		str_copy(error, error_size, "office: document paths must be absolute file paths");
		return -1;
	}
	if (slash == out_dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (office_profile_prepare(profile, args->limits, error, error_size) != 0)
		return -1;
	pp_sandbox_limits_t limits = *args->limits;
	limits.profile = SANDBOX_PROFILE_OFFICE;
	limits.wall_seconds = args->timeout_s;
	office_sheet_ctx_t ctx = {
		.program_dir = args->program_dir,
		.profile_dir = profile,
		.in_path = in_path,
		.out_path = out_path,
		.out_dir = out_dir,
	};
	int rc = sandbox_run(&limits, out_dir, office_sheet_child, &ctx, result_r, error,
			     error_size);
	/* The next spreadsheet starts from a fresh profile; a leftover costs nothing but
	 * space (the next prepare removes it again). */
	char why[256];
	if (sandbox_tmpdir_wipe(profile, why, sizeof(why)) != 0)
		log_warn("office.sheet_profile_wipe_failed error=%s", why);
	return rc;
}
