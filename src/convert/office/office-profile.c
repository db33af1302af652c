/*
 * office-profile.c - the private LibreOffice user profile of an office host.
 *
 * Every host starts from an empty profile (office_profile_prepare() removes what the last
 * one left) in which LibreOffice reads registrymodifications.xcu written here. The settings
 * were looked up in LibreOffice 7.4's own schema (share/registry/main.xcd); each line says
 * what it stops. Together with the options given to documentLoadWithOptions() in
 * office-host.c ("Batch=true,MacroSecurityLevel=3,EnableMacrosExecution=false") they make a
 * document inert: it is laid out and printed, never run.
 *
 * Macros (org.openoffice.Office.Common/Security/Scripting):
 *   MacroSecurityLevel=3      "very high": only macros from trusted locations, of which
 *                             SecureURL (left empty) names none.
 *   DisableMacrosExecution    no Basic, Python or JavaScript macro runs at all, including
 *                             those bound to document events (open, print, …).
 *   ExecutePlugins=false.
 * Linked content:
 *   Common/Security/Scripting/BlockUntrustedRefererLinks=true: images a document links to
 *   (http://, file://…) are not fetched. Checked: with LibreOffice's defaults and our load
 *   options a linked http://127.0.0.1 image is requested while the PDF is written; with
 *   this setting alone it is not (tests/unit/test-office.c keeps the check).
 * Links (sections, OLE and DDE links, Calc's external references) are never updated, so
 * a document cannot read a local file into its text through a file: link; http:// is also
 * stopped by the sandbox's missing network:
 *   org.openoffice.Office.Writer/Content/Update/Link = 0  (Writer's "never"; 1 = on request)
 *   org.openoffice.Office.Calc/Content/Update/Link = 1    (Calc's LM_NEVER; 0 = always)
 *   org.openoffice.Office.Common/Load/UserDefinedSettings = true: these settings win over
 *   the link update mode a document stores for itself.
 * Everything else a desktop start would do:
 *   org.openoffice.Setup/Office/ooSetupInstCompleted, Common/Misc/FirstRun=false and
 *   ShowTipOfTheDay=false (no first-start wizard or tips); Common/Load/
 *   ShowOfficeUpdateDialog=false (no update check: Debian builds LibreOffice without the
 *   online-update component, so there is nothing more to switch off); Common/Misc/
 *   CrashReport=false (no crash reporter); Office.Recovery AutoSave and RecoveryInfo off
 *   (no copies of documents in the profile); Office.Java/VirtualMachine/Enable=false (no
 *   JVM); Common/Misc/UseOpenCL=false; Common/Save/Document/LoadPrinter=false (a document's
 *   printer settings are not looked up).
 */
#include "convert/office/office-private.h"

#include "lib/fsutil.h"
#include "lib/str.h"
#include "convert/sandbox.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One <item> per setting, in the format LibreOffice itself writes to this file. */
#define OFFICE_ITEM(path, name, value)                                                     \
	"<item oor:path=\"" path "\"><prop oor:name=\"" name "\" oor:op=\"fuse\"><value>" value \
	"</value></prop></item>\n"

static const char office_registry[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<oor:items xmlns:oor=\"http://openoffice.org/2001/registry\" "
	"xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
	OFFICE_ITEM("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3")
	OFFICE_ITEM("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution",
		    "true")
	OFFICE_ITEM("/org.openoffice.Office.Common/Security/Scripting", "ExecutePlugins", "false")
	OFFICE_ITEM("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks",
		    "true")
	OFFICE_ITEM("/org.openoffice.Office.Writer/Content/Update", "Link", "0")
	OFFICE_ITEM("/org.openoffice.Office.Calc/Content/Update", "Link", "1")
	OFFICE_ITEM("/org.openoffice.Office.Common/Load", "UserDefinedSettings", "true")
	OFFICE_ITEM("/org.openoffice.Office.Common/Load", "ShowOfficeUpdateDialog", "false")
	OFFICE_ITEM("/org.openoffice.Setup/Office", "ooSetupInstCompleted", "true")
	OFFICE_ITEM("/org.openoffice.Office.Common/Misc", "FirstRun", "false")
	OFFICE_ITEM("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false")
	OFFICE_ITEM("/org.openoffice.Office.Common/Misc", "CrashReport", "false")
	OFFICE_ITEM("/org.openoffice.Office.Common/Misc", "UseOpenCL", "false")
	OFFICE_ITEM("/org.openoffice.Office.Common/Save/Document", "LoadPrinter", "false")
	OFFICE_ITEM("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false")
	OFFICE_ITEM("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false")
	OFFICE_ITEM("/org.openoffice.Office.Java/VirtualMachine", "Enable", "false")
	"</oor:items>\n";

/* Removes profile_dir/name when it exists. */
static int office_profile_remove(const char *profile_dir, const char *name, char *error,
				 size_t error_size)
{
	char path[PATH_MAX];
	if (!str_format(path, sizeof(path), "%s/%s", profile_dir, name)) {
		str_format(error, error_size, "office: profile path too long: %s", profile_dir);
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		str_format(error, error_size, "office: lstat(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	return sandbox_tmpdir_wipe(path, error, error_size);
}

int office_profile_prepare(const char *profile_dir, const pp_sandbox_limits_t *limits,
			   char *error, size_t error_size)
{
	if (fs_mkdir_p(profile_dir, 0700, error, error_size) != 0)
		return -1;
	if (office_profile_remove(profile_dir, "user", error, error_size) != 0 ||
	    office_profile_remove(profile_dir, "tmp", error, error_size) != 0)
		return -1;
	/* The host writes its profile as the sandbox user: the directory is that user's. */
	if (limits->switch_user && geteuid() == 0 &&
	    chown(profile_dir, limits->uid, limits->gid) != 0) {
		str_format(error, error_size, "office: chown(%s) failed: %s", profile_dir,
			   strerror(errno));
		return -1;
	}
	if (chmod(profile_dir, 0700) != 0) {
		str_format(error, error_size, "office: chmod(%s) failed: %s — the profile "
			   "directory must belong to the user that runs the converter",
			   profile_dir, strerror(errno));
		return -1;
	}
	return 0;
}

int office_profile_write(const char *profile_dir, char *error, size_t error_size)
{
	char path[PATH_MAX];
	if (error_size > 0)
		error[0] = '\0';
	if (!str_format(path, sizeof(path), "%s/tmp", profile_dir) ||
	    fs_mkdir_p(path, 0700, error, error_size) != 0)
		goto failed;
	if (!str_format(path, sizeof(path), "%s/user", profile_dir) ||
	    fs_mkdir_p(path, 0700, error, error_size) != 0)
		goto failed;
	if (!str_format(path, sizeof(path), "%s/user/registrymodifications.xcu", profile_dir))
		goto failed;
	return fs_write_file_atomic(path, office_registry, sizeof(office_registry) - 1, 0600,
				    error, error_size);
failed:
	if (error[0] == '\0')
		str_format(error, error_size, "office: profile path too long: %s", profile_dir);
	return -1;
}
