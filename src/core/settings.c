/* settings.c - runtime settings with a fixed registry; see settings.h. */
#include "core/settings.h"

#include "core/audit.h"
#include "core/settings-cache.h"
#include "lib/log.h"
#include "lib/netmask.h"
#include "lib/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * A string setting's validator: checks value (trimmed). canon[canon_size] already holds the
 * value as given; a validator with a canonical form (a CIDR list) rewrites it. Returns 0 or
 * -1 with a message saying what is accepted.
 */
typedef int settings_string_check_fn(const char *name, const char *value, char *canon,
                                     size_t canon_size, char *error, size_t error_size);

typedef struct {
	const char *name;
	pp_setting_type_t type;
	const char *default_value;
	int64_t min, max;         /* PP_SETTING_INT */
	const char *const *words; /* PP_SETTING_ENUM: NULL-terminated */
	const char *description;
	settings_string_check_fn *check; /* PP_SETTING_STRING */
	const char *allowed;             /* PP_SETTING_STRING: what is accepted, for listings */
} settings_entry_t;

static settings_string_check_fn settings_check_networks;
static settings_string_check_fn settings_check_user_map;
static settings_string_check_fn settings_check_text;
static settings_string_check_fn settings_check_geo;
static settings_string_check_fn settings_check_panel_modes;

static const char *const settings_unknown_sender_words[] = {"accept", "hold", "reject", NULL};
static const char *const settings_release_auth_words[] = {"code", "email_code", "directory", NULL};
static const char *const settings_printed_policy_words[] = {"delete", "keep", NULL};
/* mail (MAIL-IN) */
static const char *const settings_mail_body_words[] = {"no_attachments", "always", "never", NULL};
static const char *const settings_mail_auth_words[] = {"dmarc", "dkim", "spf", "none", NULL};
static const char *const settings_mail_bool_words[] = {"off", "on", NULL};
/* mail out (MAIL-OUT) */
static const char *const settings_mail_code_words[] = {"always", "new-users", "never", NULL};
/* the panel at the printer */
static const char *const settings_yes_no_words[] = {"no", "yes", NULL};

static const settings_entry_t settings_registry[] = {
    {"users.code_length", PP_SETTING_INT, "6", 4, 12, NULL, "digits in a new confirmation code",
     NULL, NULL},
    {"users.unknown_sender_policy", PP_SETTING_ENUM, "hold", 0, 0, settings_unknown_sender_words,
     "a sender with no account: create it enabled (accept), pending approval (hold), or "
     "store nothing (reject)",
     NULL, NULL},
    {"users.release_auth", PP_SETTING_ENUM, "code", 0, 0, settings_release_auth_words,
     "proof needed to release: the code alone, email and code, or directory credentials", NULL,
     NULL},
    {"auth.max_failures", PP_SETTING_INT, "5", 1, 100, NULL,
     "failed attempts per account and per source within the window before a lockout", NULL, NULL},
    {"auth.window_seconds", PP_SETTING_INT, "900", 60, 86400, NULL,
     "window in which failed attempts are counted", NULL, NULL},
    {"auth.lockout_seconds", PP_SETTING_INT, "900", 0, 86400, NULL,
     "lockout after too many failures (0: until the window ends)", NULL, NULL},
    {"tokens.app_lifetime_hours", PP_SETTING_INT, "720", 1, 87600, NULL,
     "lifetime of an app's bearer token", NULL, NULL},
    {"admin.idle_timeout_s", PP_SETTING_INT, "900", 60, 86400, NULL,
     "seconds without a request after which an admin console session signs out (src/admin; "
     "a session lives 12 hours at most)",
     NULL, NULL},
    {"jobs.retention_hours", PP_SETTING_INT, "24", 1, 8760, NULL,
     "unprinted jobs expire after this", NULL, NULL},
    {"jobs.printed_policy", PP_SETTING_ENUM, "delete", 0, 0, settings_printed_policy_words,
     "printed jobs: delete at once, or keep for reprint", NULL, NULL},
    {"jobs.printed_keep_hours", PP_SETTING_INT, "24", 1, 8760, NULL,
     "with printed_policy keep: the reprint window", NULL, NULL},
    {"accounting.retention_days", PP_SETTING_INT, "365", 1, 36500, NULL,
     "accounting records are deleted after this", NULL, NULL},
    {"ipp.trusted_networks", PP_SETTING_STRING, "", 0, 0, NULL,
     "networks whose IPP clients may print without credentials, the user named by "
     "requesting-user-name (\"\" = none)",
     settings_check_networks, "CIDR list, e.g. 10.0.0.0/8, 2001:db8::/32; \"\" = none"},
    {"ipp.user_map", PP_SETTING_STRING, SETTINGS_USER_MAP_NAME, 0, 0, NULL,
     "turns requesting-user-name (trusted networks, forwarders) into the user's email address",
     settings_check_user_map, "template with {name} once, e.g. {name}@example.com"},
    {"ipp.location", PP_SETTING_STRING, "", 0, 0, NULL,
     "where people find the printers, shown by phones and desktops (printer-location, DNS-SD "
     "note)",
     settings_check_text, "text, up to 127 bytes, e.g. \"Printers on every floor by the lifts\""},
    {"ipp.geo_location", PP_SETTING_STRING, "", 0, 0, NULL,
     "the site's position for clients that sort printers by distance (printer-geo-location)",
     settings_check_geo, "geo:LATITUDE,LONGITUDE (RFC 5870), e.g. geo:52.52,13.405; \"\" = unknown"},
    /* mail in (MAIL-IN): how mailed submissions are read and who may send them */
    {"mail.body_policy", PP_SETTING_ENUM, "no_attachments", 0, 0, settings_mail_body_words,
     "print the mail's text: when it has no attachments, always, or never", NULL, NULL},
    {"mail.skip_inline_images_below_bytes", PP_SETTING_INT, "20480", 0, 10485760, NULL,
     "inline images smaller than this (signature logos) are not printed; 0 prints them all",
     NULL, NULL},
    {"mail.auth_serv_id", PP_SETTING_STRING, "", 0, 0, NULL,
     "authserv-id of the trusted receiving host's Authentication-Results header; \"\" = do "
     "not check",
     settings_check_text, "host name, e.g. mx.example.com; \"\" = off"},
    {"mail.require_auth", PP_SETTING_ENUM, "dmarc", 0, 0, settings_mail_auth_words,
     "with mail.auth_serv_id set: the result that must be pass (dmarc, dkim or spf), or none",
     NULL, NULL},
    {"mail.print_now_enabled", PP_SETTING_ENUM, "off", 0, 0, settings_mail_bool_words,
     "a registered printer's alias or address in a mail's subject prints its documents at once",
     NULL, NULL},
    {"mail.max_message_bytes", PP_SETTING_INT, "52428800", 65536, 1073741824, NULL,
     "largest mail read; a larger one gets a reply saying so and is removed", NULL, NULL},
    /* mail out (MAIL-OUT): replies, their templates, commands by mail */
    {"mail.code_in_reply", PP_SETTING_ENUM, "new-users", 0, 0, settings_mail_code_words,
     "put a confirmation code in the reply to a mailed submission: a new one each time "
     "(always; the old stops working), only to users who have none yet (new-users), or never",
     NULL, NULL},
    {"mail.reply_wait_seconds", PP_SETTING_INT, "30", 0, 600, NULL,
     "how long a confirmation waits for conversion so that it can list pages or failures",
     NULL, NULL},
    {"mail.outbox_give_up_hours", PP_SETTING_INT, "48", 1, 720, NULL,
     "a reply the SMTP server keeps refusing is given up (and logged) after this", NULL, NULL},
    {"mail.template_dir", PP_SETTING_STRING, "", 0, 0, NULL,
     "directory of the admin's reply templates (<dir>/<lang>/<name>.txt and .html), used "
     "before the built-in ones",
     settings_check_text, "absolute path, e.g. /etc/pullprint/mail-templates; \"\" = built-in only"},
    {"mail.printer_domain", PP_SETTING_STRING, "", 0, 0, NULL,
     "domain of printer addresses <alias>@<domain> in mail subjects (\"\" = the domain of the "
     "mailbox the mail came to)",
     settings_check_text, "domain, e.g. print.example.com; \"\" = the mailbox's domain"},
    /* the panel app on printers' touch screens */
    {"panel.signin_modes", PP_SETTING_STRING, "code,email_code", 0, 0, NULL,
     "sign-ins the panel offers: the code on a keypad (needs users.release_auth = code), "
     "email address and code, company directory credentials",
     settings_check_panel_modes, "comma list of code, email_code, directory; at least one"},
    {"panel.hide_code", PP_SETTING_ENUM, "no", 0, 0, settings_yes_no_words,
     "hide the code's digits as they are typed at the panel", NULL, NULL},
    {"panel.idle_timeout_s", PP_SETTING_INT, "60", 15, 600, NULL,
     "seconds without a touch after which the panel signs its user out (also the life of the "
     "panel's session after its last use)",
     NULL, NULL},
};

#define SETTINGS_COUNT (sizeof(settings_registry) / sizeof(settings_registry[0]))

static const settings_entry_t *settings_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		if (strcmp(settings_registry[i].name, name) == 0)
			return &settings_registry[i];
	}
	return NULL;
}

/* Writes "4..12", "accept|hold|reject" or a string's description into buf[size]. */
static void settings_allowed_text(const settings_entry_t *entry, char *buf, size_t size)
{
	if (entry->type == PP_SETTING_STRING) {
		(void)str_copy(buf, size, entry->allowed);
		return;
	}
	if (entry->type == PP_SETTING_INT) {
		(void)str_format(buf, size, "%lld..%lld", (long long)entry->min,
		                 (long long)entry->max);
		return;
	}
	size_t pos = 0;
	buf[0] = '\0';
	for (size_t i = 0; entry->words[i] != NULL; i++) {
		if (!str_format(buf + pos, size - pos, "%s%s", i > 0 ? "|" : "", entry->words[i]))
			return;
		pos += strlen(buf + pos);
	}
}

/* ipp.trusted_networks: a CIDR list, stored as its entries' canonical text joined by ", ". */
static int settings_check_networks(const char *name, const char *value, char *canon,
                                   size_t canon_size, char *error, size_t error_size)
{
	pp_netmask_list_t list;
	char why[256];
	if (netmask_list_parse(value, strlen(value), &list, why, sizeof(why)) < 0) {
		str_format(error, error_size, "settings: %s: %s", name, why);
		return -1;
	}
	size_t pos = 0;
	canon[0] = '\0';
	for (size_t i = 0; i < list.count; i++) {
		char entry[NETMASK_ENTRY_TEXT_MAX];
		if (!netmask_format(&list.entries[i], entry, sizeof(entry)) ||
		    !str_format(canon + pos, canon_size - pos, "%s%s", i > 0 ? ", " : "", entry)) {
			str_format(error, error_size,
			           "settings: %s: the list is too long; merge networks into wider "
			           "prefixes",
			           name);
			return -1;
		}
		pos += strlen(canon + pos);
	}
	return 0;
}

/* Free text shown to people: valid UTF-8 without control characters, at most 127 bytes. */
static int settings_check_text(const char *name, const char *value, char *canon,
                               size_t canon_size, char *error, size_t error_size)
{
	(void)canon; /* kept as given */
	(void)canon_size;
	if (strlen(value) >= 128 || !str_is_printable_utf8(value)) {
		str_format(error, error_size,
		           "settings: %s must be text without control characters, at most 127 bytes",
		           name);
		return -1;
	}
	return 0;
}

/*
 * panel.signin_modes: a comma list of code, email_code and directory, each once, at least one.
 * The canonical form keeps the order given, without spaces.
 */
static int settings_check_panel_modes(const char *name, const char *value, char *canon,
                                      size_t canon_size, char *error, size_t error_size)
{
	static const char *const modes[] = {"code", "email_code", "directory"};
	bool seen[3] = {false, false, false};
	char out[SETTINGS_VALUE_MAX] = "";
	size_t out_len = 0;
	const char *p = value;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == 0)
			break;
		size_t i = 0;
		while (i < 3 && !(strlen(modes[i]) == len && strncmp(p, modes[i], len) == 0))
			i++;
		if (i == 3 || seen[i]) {
			str_format(error, error_size,
			           "settings: %s takes a comma list of code, email_code and directory, "
			           "each at most once (e.g. \"code,email_code\")",
			           name);
			return -1;
		}
		seen[i] = true;
		/* Three short words at most: always fits. */
		(void)str_format(out + out_len, sizeof(out) - out_len, "%s%s", out_len > 0 ? "," : "",
		                 modes[i]);
		out_len = strlen(out);
		p += len;
	}
	if (out_len == 0) {
		str_format(error, error_size,
		           "settings: %s needs at least one of code, email_code and directory", name);
		return -1;
	}
	if (!str_copy(canon, canon_size, out)) {
		str_format(error, error_size, "settings: %s is too long", name);
		return -1;
	}
	return 0;
}

/* Parses a decimal number in [min, max] from *p (advanced past it). */
static bool settings_geo_number(const char **p, double min, double max)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(*p, &end);
	if (end == *p || errno != 0 || !(v >= min && v <= max))
		return false;
	*p = end;
	return true;
}

/* "" or a geo URI (RFC 5870) with latitude, longitude and an optional altitude, no params. */
static int settings_check_geo(const char *name, const char *value, char *canon,
                              size_t canon_size, char *error, size_t error_size)
{
	(void)canon; /* kept as given */
	(void)canon_size;
	const char *p = value;
	bool is_ok = value[0] == '\0';
	if (!is_ok && strncmp(p, "geo:", 4) == 0) {
		p += 4;
		is_ok = settings_geo_number(&p, -90, 90) && *p++ == ',' &&
		        settings_geo_number(&p, -180, 180);
		if (is_ok && *p == ',') {
			p++;
			is_ok = settings_geo_number(&p, -1e5, 1e5);
		}
		is_ok = is_ok && *p == '\0';
	}
	if (!is_ok) {
		str_format(error, error_size,
		           "settings: %s must be geo:LATITUDE,LONGITUDE[,ALTITUDE] with latitude "
		           "-90..90 and longitude -180..180 (e.g. geo:52.52,13.405), or \"\"",
		           name);
		return -1;
	}
	return 0;
}

/*
 * ipp.user_map: printable ASCII without spaces, SETTINGS_USER_MAP_NAME exactly once and no
 * other braces, leaving room in an address for at least one character of the name.
 */
static int settings_check_user_map(const char *name, const char *value, char *canon,
                                   size_t canon_size, char *error, size_t error_size)
{
	(void)canon; /* kept as given */
	(void)canon_size;
	const char *at = strstr(value, SETTINGS_USER_MAP_NAME);
	size_t fixed_len = strlen(value) - (at != NULL ? strlen(SETTINGS_USER_MAP_NAME) : 0);
	bool is_ok = at != NULL && strstr(at + 1, SETTINGS_USER_MAP_NAME) == NULL &&
	             fixed_len + 1 < USERS_EMAIL_MAX;
	for (const char *p = value; is_ok && *p != '\0'; p++) {
		bool is_placeholder = p >= at && p < at + strlen(SETTINGS_USER_MAP_NAME);
		if (*p <= ' ' || *p >= 0x7f || (!is_placeholder && (*p == '{' || *p == '}')))
			is_ok = false;
	}
	if (!is_ok) {
		str_format(error, error_size,
		           "settings: %s must hold %s exactly once, in printable ASCII without "
		           "spaces or other braces, and leave the address under %d characters "
		           "(e.g. {name} or {name}@example.com)",
		           name, SETTINGS_USER_MAP_NAME, USERS_EMAIL_MAX - 1);
		return -1;
	}
	return 0;
}

int settings_user_map_apply(const char *map, const char *name, char email_r[USERS_EMAIL_MAX],
                            char *error, size_t error_size)
{
	email_r[0] = '\0';
	if (name == NULL || name[0] == '\0') {
		str_format(error, error_size, "no requesting-user-name");
		return -1;
	}
	const char *at = map != NULL ? strstr(map, SETTINGS_USER_MAP_NAME) : NULL;
	if (at == NULL) {
		str_format(error, error_size, "ipp.user_map holds no %s", SETTINGS_USER_MAP_NAME);
		return -1;
	}
	char mapped[USERS_EMAIL_MAX];
	size_t prefix_len = (size_t)(at - map);
	const char *suffix = at + strlen(SETTINGS_USER_MAP_NAME);
	size_t name_len = strlen(name), suffix_len = strlen(suffix);
	if (prefix_len >= sizeof(mapped) || name_len >= sizeof(mapped) - prefix_len ||
	    suffix_len >= sizeof(mapped) - prefix_len - name_len) {
		str_format(error, error_size, "the mapped address would be too long");
		return -1;
	}
	memcpy(mapped, map, prefix_len);
	memcpy(mapped + prefix_len, name, name_len);
	memcpy(mapped + prefix_len + name_len, suffix, suffix_len + 1);
	char why[256];
	if (users_canonical_email(mapped, email_r, why, sizeof(why)) < 0) {
		str_format(error, error_size, "the mapped name is not an email address");
		email_r[0] = '\0';
		return -1;
	}
	return 0;
}

static int settings_unknown(const char *name, char *error, size_t error_size)
{
	str_format(error, error_size,
	           "settings: unknown setting '%s'; `pullprint settings` lists the names",
	           name != NULL ? name : "(null)");
	return -1;
}

/*
 * Validates value for entry and writes its canonical form (decimal without leading zeros,
 * lower-case word, a string's own canonical form) into canon[canon_size]. Returns 0 or -1 with a
 * message naming the range or the words.
 */
static int settings_canonical(const settings_entry_t *entry, const char *value, char *canon,
                              size_t canon_size, char *error, size_t error_size)
{
	char allowed[SETTINGS_VALUE_MAX];
	settings_allowed_text(entry, allowed, sizeof(allowed));
	char buf[SETTINGS_VALUE_MAX];
	if (value == NULL || !str_copy(buf, sizeof(buf), value)) {
		str_format(error, error_size,
		           "settings: %s: value missing or too long; allowed: %s", entry->name,
		           allowed);
		return -1;
	}
	char *v = str_trim(buf);
	if (entry->type == PP_SETTING_STRING) {
		if (!str_copy(canon, canon_size, v)) {
			str_format(error, error_size, "settings: %s: value buffer too small",
			           entry->name);
			return -1;
		}
		return entry->check(entry->name, v, canon, canon_size, error, error_size);
	}
	if (entry->type == PP_SETTING_INT) {
		uint64_t n;
		if (!parse_uint64_full(v, UINT64_MAX, &n) || n < (uint64_t)entry->min ||
		    n > (uint64_t)entry->max) {
			str_format(error, error_size,
			           "settings: %s must be a whole number in %s, not '%s'",
			           entry->name, allowed, v);
			return -1;
		}
		if (!str_format(canon, canon_size, "%llu", (unsigned long long)n)) {
			str_format(error, error_size, "settings: %s: value buffer too small",
			           entry->name);
			return -1;
		}
		return 0;
	}
	str_lower_ascii(v);
	for (size_t i = 0; entry->words[i] != NULL; i++) {
		if (strcmp(entry->words[i], v) == 0) {
			if (!str_copy(canon, canon_size, v)) {
				str_format(error, error_size,
				           "settings: %s: value buffer too small", entry->name);
				return -1;
			}
			return 0;
		}
	}
	str_format(error, error_size, "settings: %s must be one of %s, not '%s'", entry->name,
	           allowed, v);
	return -1;
}

/*
 * The stored text of entry into buf[size] (*is_stored_r false when no row holds it): from
 * the cache when core has one, else from the table. Returns 0 or -1.
 */
static int settings_stored(pp_core_t *core, const settings_entry_t *entry, char *buf,
                           size_t size, bool *is_stored_r, char *error, size_t error_size)
{
	if (core->settings_cache != NULL)
		return settings_cache_stored(core, entry->name, buf, size, is_stored_r, error,
		                             error_size);
	const pp_db_value_t params[] = {DB_TEXT(entry->name)};
	pp_db_result_t *res = NULL;
	char db_error[DB_ERROR_MAX];
	if (db_query(core->db, "SELECT value FROM settings WHERE name = $1", params, 1, &res,
	             db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "settings: cannot read %s: %s", entry->name,
		           db_error);
		return -1;
	}
	*is_stored_r = db_result_rows(res) > 0;
	bool is_ok = str_copy(buf, size, *is_stored_r ? db_result_text(res, 0, 0) : "");
	db_result_free(&res);
	if (!is_ok) {
		str_format(error, error_size, "settings: %s: the stored value is too long",
		           entry->name);
		return -1;
	}
	return 0;
}

/*
 * Reads the stored value of entry (or its default) into canon[size]. A stored value that no
 * longer validates (edited by hand) is logged and the default used.
 */
static int settings_read(pp_core_t *core, const settings_entry_t *entry, char *canon, size_t size,
                         bool *is_default_r, char *error, size_t error_size)
{
	char stored[SETTINGS_VALUE_MAX];
	bool is_stored = false;
	if (settings_stored(core, entry, stored, sizeof(stored), &is_stored, error, error_size) < 0)
		return -1;
	bool is_default = true;
	if (is_stored) {
		char check_error[256];
		if (settings_canonical(entry, stored, canon, size, check_error,
		                       sizeof(check_error)) == 0) {
			is_default = false;
		} else {
			log_warn("settings.invalid_stored name=%s reason=\"%s\" using=default",
			         entry->name, check_error);
		}
	}
	if (is_default && !str_copy(canon, size, entry->default_value)) {
		str_format(error, error_size, "settings: %s: buffer too small for the value",
		           entry->name);
		return -1;
	}
	if (is_default_r != NULL)
		*is_default_r = is_default;
	return 0;
}

int settings_get_int(pp_core_t *core, const char *name, int64_t *value_r, char *error,
                     size_t error_size)
{
	const settings_entry_t *entry = settings_find(name);
	if (entry == NULL)
		return settings_unknown(name, error, error_size);
	if (entry->type != PP_SETTING_INT) {
		str_format(error, error_size, "settings: %s is not a number setting", name);
		return -1;
	}
	char value[SETTINGS_VALUE_MAX];
	if (settings_read(core, entry, value, sizeof(value), NULL, error, error_size) < 0)
		return -1;
	uint64_t n;
	if (!parse_uint64_full(value, (uint64_t)entry->max, &n)) {
		str_format(error, error_size, "settings: %s has an unreadable value", name);
		return -1;
	}
	*value_r = (int64_t)n;
	return 0;
}

int settings_get_string(pp_core_t *core, const char *name, char *buf, size_t buf_size, char *error,
                        size_t error_size)
{
	const settings_entry_t *entry = settings_find(name);
	if (entry == NULL)
		return settings_unknown(name, error, error_size);
	return settings_read(core, entry, buf, buf_size, NULL, error, error_size);
}

int settings_validate(const char *name, const char *value, char *error, size_t error_size)
{
	const settings_entry_t *entry = settings_find(name);
	if (entry == NULL)
		return settings_unknown(name, error, error_size);
	char canon[SETTINGS_VALUE_MAX];
	return settings_canonical(entry, value, canon, sizeof(canon), error, error_size);
}

int settings_set(pp_core_t *core, const char *actor, const char *name, const char *value,
                 char *error, size_t error_size)
{
	const settings_entry_t *entry = settings_find(name);
	if (entry == NULL)
		return settings_unknown(name, error, error_size);
	char canon[SETTINGS_VALUE_MAX];
	if (settings_canonical(entry, value, canon, sizeof(canon), error, error_size) < 0)
		return -1;

	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "settings: cannot change %s: %s", name, db_error);
		return -1;
	}
	char old[SETTINGS_VALUE_MAX];
	if (settings_read(core, entry, old, sizeof(old), NULL, error, error_size) < 0)
		goto fail;
	const pp_db_value_t params[] = {DB_TEXT(entry->name), DB_TEXT(canon),
	                                DB_INT(core_now(core))};
	if (db_exec(core->db,
	            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) "
	            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
	            "updated_at = excluded.updated_at",
	            params, 3, NULL, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "settings: cannot store %s: %s", name, db_error);
		goto fail;
	}
	char detail[2 * SETTINGS_VALUE_MAX + 16];
	(void)str_format(detail, sizeof(detail), "%s -> %s", old, canon);
	if (audit_record(core, actor, "setting.set", entry->name, detail, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "settings: cannot commit %s: %s", name, db_error);
		return -1;
	}
	settings_cache_changed(core);
	log_info("settings.changed name=%s value=%s actor=%s", entry->name, canon, actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int settings_reset(pp_core_t *core, const char *actor, const char *name, char *error,
                   size_t error_size)
{
	const settings_entry_t *entry = settings_find(name);
	if (entry == NULL)
		return settings_unknown(name, error, error_size);
	char db_error[DB_ERROR_MAX];
	if (db_tx_begin(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "settings: cannot reset %s: %s", name, db_error);
		return -1;
	}
	const pp_db_value_t params[] = {DB_TEXT(entry->name)};
	if (db_exec(core->db, "DELETE FROM settings WHERE name = $1", params, 1, NULL, db_error,
	            sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "settings: cannot reset %s: %s", name, db_error);
		goto fail;
	}
	char detail[SETTINGS_VALUE_MAX + 16];
	(void)str_format(detail, sizeof(detail), "default %s", entry->default_value);
	if (audit_record(core, actor, "setting.reset", entry->name, detail, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, db_error, sizeof(db_error)) != DB_OK) {
		str_format(error, error_size, "settings: cannot commit %s: %s", name, db_error);
		return -1;
	}
	settings_cache_changed(core);
	log_info("settings.reset name=%s actor=%s", entry->name, actor);
	return 0;
fail:
	db_tx_rollback(core->db);
	return -1;
}

int settings_list(pp_core_t *core, pp_setting_t **settings_r, size_t *count_r, char *error,
                  size_t error_size)
{
	*settings_r = NULL;
	*count_r = 0;
	pp_setting_t *list = calloc(SETTINGS_COUNT, sizeof(*list));
	if (list == NULL) {
		str_format(error, error_size, "settings: out of memory");
		return -1;
	}
	for (size_t i = 0; i < SETTINGS_COUNT; i++) {
		const settings_entry_t *entry = &settings_registry[i];
		pp_setting_t *s = &list[i];
		(void)str_copy(s->name, sizeof(s->name), entry->name);
		(void)str_copy(s->default_value, sizeof(s->default_value), entry->default_value);
		settings_allowed_text(entry, s->allowed, sizeof(s->allowed));
		s->description = entry->description;
		s->type = entry->type;
		if (settings_read(core, entry, s->value, sizeof(s->value), &s->is_default, error,
		                  error_size) < 0) {
			free(list);
			return -1;
		}
	}
	*settings_r = list;
	*count_r = SETTINGS_COUNT;
	return 0;
}

void settings_list_free(pp_setting_t **settings)
{
	if (settings == NULL || *settings == NULL)
		return;
	free(*settings);
	*settings = NULL;
}
