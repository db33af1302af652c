/*
 * ipp-dnssd-txt.c - the DNS-SD TXT record of the IPP service, read from the printer
 * attributes that Get-Printer-Attributes answers with, and the unicast DNS-SD zone-file lines
 * built from it (`pullprint dns-sd-records`). See ipp-dnssd.h.
 */
#include "ipp/ipp-dnssd.h"

#include "ipp/ipp-private.h"
#include "lib/str.h"

#include <string.h>

/* The TXT keys use none of the URI-derived attributes: any well-formed URI will do. */
#define DNSSD_ATTRS_URI "ipps://localhost/" DNSSD_RESOURCE_PATH
#define DNSSD_PRIORITY "50" /* the middle of 0..99: no reason to push other printers aside */

const char *dnssd_txt_get(const pp_dnssd_txt_t *txt, const char *key)
{
	size_t key_len = strlen(key);
	for (size_t i = 0; i < txt->count; i++) {
		if (strncmp(txt->entries[i], key, key_len) == 0 && txt->entries[i][key_len] == '=')
			return txt->entries[i] + key_len + 1;
	}
	return NULL;
}

/* Appends "key=value"; false when the record is full or the entry passes 255 bytes. */
static bool dnssd_txt_add(pp_dnssd_txt_t *txt, const char *key, const char *value,
			  char *error, size_t error_size)
{
	if (txt->count >= DNSSD_TXT_MAX ||
	    !str_format(txt->entries[txt->count], DNSSD_TXT_ENTRY_MAX, "%s=%s", key, value)) {
		(void)str_format(error, error_size,
				 "dnssd: TXT entry %s does not fit in 255 bytes: shorten its value",
				 key);
		return false;
	}
	txt->count++;
	return true;
}

/*
 * Joins the values of attr with commas into out[out_size]. With is_fit, a value that would
 * pass out_size is left out and the next ones tried (pdl: the first formats matter most);
 * without, it is an error. Returns false on error or when nothing fits.
 */
static bool dnssd_join(ipp_attribute_t *attr, bool is_fit, char *out, size_t out_size)
{
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < ippGetCount(attr); i++) {
		const char *value = ippGetString(attr, i, NULL);
		if (value == NULL)
			continue;
		size_t value_len = strlen(value);
		size_t need = value_len + (len > 0 ? 1 : 0);
		/* len <= out_size - 1 always holds, so the subtraction cannot wrap. */
		if (need > out_size - 1 - len) {
			if (is_fit)
				continue;
			return false;
		}
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, value, value_len);
		len += value_len;
		out[len] = '\0';
	}
	return len > 0;
}

/* The attribute name of the printer group, or NULL with error set. */
static ipp_attribute_t *dnssd_attr(ipp_t *attrs, const char *name, char *error,
				   size_t error_size)
{
	ipp_attribute_t *attr = ippFindAttribute(attrs, name, IPP_TAG_ZERO);
	if (attr == NULL || ippGetCount(attr) < 1)
		(void)str_format(error, error_size, "dnssd: printer attribute %s is missing", name);
	return attr;
}

/* True when attr (keywords) holds a value starting with prefix. */
static bool dnssd_has_prefix(ipp_attribute_t *attr, const char *prefix)
{
	for (int i = 0; i < ippGetCount(attr); i++) {
		const char *value = ippGetString(attr, i, NULL);
		if (value != NULL && str_has_prefix(value, prefix))
			return true;
	}
	return false;
}

/* Adds every key from attrs (the full printer group) to txt. */
static int dnssd_txt_from_attrs(ipp_t *attrs, const char *admin_url, bool is_tls,
				pp_dnssd_txt_t *txt, char *error, size_t error_size)
{
	ipp_attribute_t *model = dnssd_attr(attrs, "printer-make-and-model", error, error_size);
	ipp_attribute_t *name = dnssd_attr(attrs, "printer-name", error, error_size);
	ipp_attribute_t *location = dnssd_attr(attrs, "printer-location", error, error_size);
	ipp_attribute_t *formats = dnssd_attr(attrs, "document-format-supported", error, error_size);
	ipp_attribute_t *urf = dnssd_attr(attrs, "urf-supported", error, error_size);
	ipp_attribute_t *uuid = dnssd_attr(attrs, "printer-uuid", error, error_size);
	ipp_attribute_t *color = dnssd_attr(attrs, "color-supported", error, error_size);
	ipp_attribute_t *sides = dnssd_attr(attrs, "sides-supported", error, error_size);
	ipp_attribute_t *kind = dnssd_attr(attrs, "printer-kind", error, error_size);
	ipp_attribute_t *auth = dnssd_attr(attrs, "uri-authentication-supported", error, error_size);
	ipp_attribute_t *state = dnssd_attr(attrs, "printer-state", error, error_size);
	if (model == NULL || name == NULL || location == NULL || formats == NULL || urf == NULL ||
	    uuid == NULL || color == NULL || sides == NULL || kind == NULL || auth == NULL ||
	    state == NULL)
		return -1;

	char pdl[DNSSD_TXT_ENTRY_MAX - sizeof("pdl=") + 1];
	char urf_list[DNSSD_TXT_ENTRY_MAX - sizeof("URF=") + 1];
	char kinds[DNSSD_TXT_ENTRY_MAX - sizeof("kind=") + 1];
	char product[DNSSD_TXT_ENTRY_MAX], state_value[16];
	const char *uuid_value = ippGetString(uuid, 0, NULL);
	if (uuid_value != NULL && str_has_prefix(uuid_value, "urn:uuid:"))
		uuid_value += strlen("urn:uuid:");
	const char *auth_value = ippGetString(auth, 0, NULL);
	/* Basic authentication: AirPrint clients then ask for a user name and password. */
	const char *air = auth_value != NULL && strcmp(auth_value, "basic") == 0
				  ? "username,password"
				  : "none";
	if (!dnssd_join(formats, true, pdl, sizeof(pdl)) ||
	    !dnssd_join(urf, false, urf_list, sizeof(urf_list)) ||
	    !dnssd_join(kind, false, kinds, sizeof(kinds)) || uuid_value == NULL ||
	    !str_format(product, sizeof(product), "(%s)", ippGetString(name, 0, NULL)) ||
	    !str_format(state_value, sizeof(state_value), "%d", ippGetInteger(state, 0))) {
		(void)str_format(error, error_size,
				 "dnssd: a printer attribute does not fit in a TXT entry");
		return -1;
	}
	const char *location_value = ippGetString(location, 0, NULL);
	const char *model_value = ippGetString(model, 0, NULL);
	const bool is_color = ippGetBoolean(color, 0) != 0;
	const bool is_duplex = dnssd_has_prefix(sides, "two-sided-");

	/* In the order of the IPP Everywhere and Bonjour Printing specifications. */
	if (!dnssd_txt_add(txt, "txtvers", "1", error, error_size) ||
	    !dnssd_txt_add(txt, "qtotal", "1", error, error_size) ||
	    !dnssd_txt_add(txt, "rp", DNSSD_RESOURCE_PATH, error, error_size) ||
	    !dnssd_txt_add(txt, "ty", model_value != NULL ? model_value : "", error, error_size) ||
	    !dnssd_txt_add(txt, "product", product, error, error_size) ||
	    !dnssd_txt_add(txt, "note", location_value != NULL ? location_value : "", error,
			   error_size) ||
	    !dnssd_txt_add(txt, "adminurl", admin_url, error, error_size) ||
	    !dnssd_txt_add(txt, "pdl", pdl, error, error_size) ||
	    !dnssd_txt_add(txt, "URF", urf_list, error, error_size) ||
	    !dnssd_txt_add(txt, "UUID", uuid_value, error, error_size) ||
	    (is_tls && !dnssd_txt_add(txt, "TLS", "1.2", error, error_size)) ||
	    !dnssd_txt_add(txt, "Color", is_color ? "T" : "F", error, error_size) ||
	    !dnssd_txt_add(txt, "Duplex", is_duplex ? "T" : "F", error, error_size) ||
	    !dnssd_txt_add(txt, "kind", kinds, error, error_size) ||
	    !dnssd_txt_add(txt, "priority", DNSSD_PRIORITY, error, error_size) ||
	    !dnssd_txt_add(txt, "air", air, error, error_size) ||
	    !dnssd_txt_add(txt, "printer-state", state_value, error, error_size))
		return -1;
	return 0;
}

int dnssd_txt_build(const pp_core_t *core, const char *admin_url, bool is_tls,
		    pp_dnssd_txt_t *txt_r, char *error, size_t error_size)
{
	memset(txt_r, 0, sizeof(*txt_r));
	/* The same attributes as a Get-Printer-Attributes without requested-attributes. */
	pp_ipp_service_t svc = {.core = (pp_core_t *)core, .started_at = core_now(core)};
	ipp_printer_uuid(core, svc.printer_uuid);
	ipp_t *attrs = ippNew();
	if (attrs == NULL) {
		(void)str_format(error, error_size, "out of memory");
		return -1;
	}
	ipp_printer_now_t state;
	ipp_printer_now_read(svc.core, &state);
	ipp_printer_attrs_add(&svc, NULL, attrs, DNSSD_ATTRS_URI, &state);
	int rc = dnssd_txt_from_attrs(attrs, admin_url, is_tls, txt_r, error, error_size);
	ippDelete(attrs);
	return rc;
}

/*
 * Writes label as one DNS label in zone-file presentation (RFC 1035 5.1): dots, backslashes
 * and quotes escaped, spaces and bytes outside printable ASCII as \DDD.
 */
static void dnssd_zone_label(const char *label, FILE *out)
{
	for (const unsigned char *p = (const unsigned char *)label; *p != '\0'; p++) {
		if (*p == '.' || *p == '\\' || *p == '"' || *p == ';' || *p == '(' || *p == ')' ||
		    *p == '$' || *p == '@')
			fprintf(out, "\\%c", *p);
		else if (*p <= ' ' || *p > '~')
			fprintf(out, "\\%03u", (unsigned)*p);
		else
			fputc(*p, out);
	}
}

/* Writes s as a quoted zone-file character-string ("..." with \" and \\ escaped). */
static void dnssd_zone_quoted(const char *s, FILE *out)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < ' ' || *p == 0x7f)
			fprintf(out, "\\%03u", (unsigned)*p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

int dnssd_zone_write(const pp_dnssd_zone_t *zone, const pp_dnssd_txt_t *txt, FILE *out,
		     char *error, size_t error_size)
{
	/* Names are written absolute (trailing dot) so that no $ORIGIN is needed. */
	char domain[256], host[256];
	size_t dlen = strlen(zone->domain), hlen = strlen(zone->host);
	if (dlen == 0 || hlen == 0 || strlen(zone->name) == 0 || strlen(zone->name) > 63 ||
	    !str_format(domain, sizeof(domain), "%.*s.", (int)(dlen - (zone->domain[dlen - 1] == '.')),
			zone->domain) ||
	    !str_format(host, sizeof(host), "%.*s.", (int)(hlen - (zone->host[hlen - 1] == '.')),
			zone->host)) {
		(void)str_format(error, error_size,
				 "dns-sd-records: domain, host and name must be non-empty, names "
				 "below 254 bytes and the service name below 64");
		return -1;
	}
	fprintf(out, "; Unicast DNS-SD records for the Pullprint IPP service: add them to the\n"
		     "; zone of %s so that clients on other subnets find the printer.\n",
		domain);
	fprintf(out, "b._dns-sd._udp.%s\tIN PTR\t%s\n", domain, domain);
	fprintf(out, "lb._dns-sd._udp.%s\tIN PTR\t%s\n", domain, domain);
	static const char *const ptr_owners[] = {"_ipps._tcp", "_universal._sub._ipps._tcp",
						 "_print._sub._ipps._tcp"};
	for (size_t i = 0; i < sizeof(ptr_owners) / sizeof(ptr_owners[0]); i++) {
		fprintf(out, "%s.%s\tIN PTR\t", ptr_owners[i], domain);
		dnssd_zone_label(zone->name, out);
		fprintf(out, "._ipps._tcp.%s\n", domain);
	}
	dnssd_zone_label(zone->name, out);
	fprintf(out, "._ipps._tcp.%s\tIN SRV\t0 0 %u %s\n", domain, (unsigned)zone->port, host);
	dnssd_zone_label(zone->name, out);
	fprintf(out, "._ipps._tcp.%s\tIN TXT\t", domain);
	for (size_t i = 0; i < txt->count; i++) {
		if (i > 0)
			fputc(' ', out);
		dnssd_zone_quoted(txt->entries[i], out);
	}
	fputc('\n', out);
	if (ferror(out) || fflush(out) == EOF) {
		(void)str_format(error, error_size, "dns-sd-records: cannot write the records");
		return -1;
	}
	return 0;
}
