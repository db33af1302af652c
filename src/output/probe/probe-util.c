/*
 * probe-util.c - the vocabulary shared by IPP and SNMP probing: state names, the comma list
 * of printer-state-reasons keywords, the Printer-MIB error bits mapped to those keywords, and
 * the cleaning of device text.
 */
#include "output/probe/probe-private.h"

#include "lib/str.h"

#include <string.h>
#include <strings.h>

static const char *const probe_state_names[] = {
	[PP_PRINTER_STATE_UNKNOWN] = "unknown", [PP_PRINTER_STATE_IDLE] = "idle",
	[PP_PRINTER_STATE_PROCESSING] = "processing", [PP_PRINTER_STATE_STOPPED] = "stopped",
	[PP_PRINTER_STATE_OFFLINE] = "offline",
};
#define PROBE_N_STATES (sizeof(probe_state_names) / sizeof(probe_state_names[0]))

const char *probe_state_name(pp_printer_state_t state)
{
	if ((size_t)state >= PROBE_N_STATES)
		return "unknown";
	return probe_state_names[state];
}

pp_printer_state_t probe_state_parse(const char *name)
{
	for (size_t i = 0; i < PROBE_N_STATES; i++) {
		if (name != NULL && strcmp(name, probe_state_names[i]) == 0)
			return (pp_printer_state_t)i;
	}
	return PP_PRINTER_STATE_UNKNOWN;
}

/* Length of keyword without a -warning, -error or -report severity suffix. */
static size_t probe_reason_stem(const char *keyword, size_t len)
{
	static const char *const suffixes[] = {"-warning", "-error", "-report"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i]);
		if (len > n && memcmp(keyword + len - n, suffixes[i], n) == 0)
			return len - n;
	}
	return len;
}

bool probe_reasons_has(const char *reasons, const char *keyword)
{
	size_t want = probe_reason_stem(keyword, strlen(keyword));
	const char *p = reasons;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (probe_reason_stem(p, len) == want && memcmp(p, keyword, want) == 0)
			return true;
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

bool probe_reasons_add(char *reasons, size_t size, const char *keyword)
{
	size_t klen = strlen(keyword);
	if (klen == 0 || strcmp(keyword, "none") == 0 || strchr(keyword, ',') != NULL)
		return true;
	if (probe_reasons_has(reasons, keyword))
		return true;
	size_t used = strlen(reasons);
	size_t need = klen + (used > 0 ? 1 : 0);
	if (used >= size || size - used <= need)
		return false;
	if (used > 0)
		reasons[used++] = ',';
	memcpy(reasons + used, keyword, klen + 1);
	return true;
}

void probe_snmp_errors_to_reasons(const uint8_t *bits, size_t len, char *reasons, size_t size)
{
	/* RFC 3805 hrPrinterDetectedErrorState bit numbers, in order, and the IPP keyword
	 * (RFC 8011 / PWG 5100.9) an admin and the release warning understand. */
	static const char *const keywords[] = {
		"media-low",	       /* 0 lowPaper */
		"media-empty",	       /* 1 noPaper */
		"toner-low",	       /* 2 lowToner */
		"toner-empty",	       /* 3 noToner */
		"door-open",	       /* 4 doorOpen */
		"media-jam",	       /* 5 jammed */
		"offline",	       /* 6 offline */
		"other",	       /* 7 serviceRequested */
		"input-tray-missing",  /* 8 inputTrayMissing */
		"output-tray-missing", /* 9 outputTrayMissing */
		"marker-supply-missing", /* 10 markerSupplyMissing */
		"output-area-almost-full", /* 11 outputNearFull */
		"output-area-full",    /* 12 outputFull */
		"media-empty",	       /* 13 inputTrayEmpty */
		"other",	       /* 14 overduePreventMaint */
	};
	for (size_t bit = 0; bit < sizeof(keywords) / sizeof(keywords[0]); bit++) {
		size_t byte = bit / 8;
		if (byte >= len)
			break;
		if ((bits[byte] & (0x80u >> (bit % 8))) != 0)
			(void)probe_reasons_add(reasons, size, keywords[bit]);
	}
}

/* Length of the valid UTF-8 sequence at s (at most avail bytes), or 0 if invalid. */
static size_t probe_utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp < 0xa0))
		return 0;
	return n;
}

void probe_text_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (size == 0)
		return;
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0;
	for (size_t i = 0; i < len && s[i] != '\0';) {
		size_t n = probe_utf8_len(s + i, len - i);
		if (n == 0 || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
			/* A control character or a stray byte: shown as '?', never passed on. */
			if (out + 1 >= size)
				break;
			dst[out++] = (s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ? ' ' : '?';
			i++;
			continue;
		}
		if (out + n >= size)
			break;
		memcpy(dst + out, s + i, n);
		out += n;
		i += n;
	}
	dst[out] = '\0';
	char *trimmed = str_trim(dst);
	if (trimmed != dst)
		memmove(dst, trimmed, strlen(trimmed) + 1);
}

bool probe_word_ok(const char *word)
{
	size_t len = strlen(word);
	if (len == 0 || len >= PRINTER_CAPS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)word[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

void probe_caps_add_word(pp_printer_caps_t *caps, char kind, const char *word)
{
	if (word == NULL || !probe_word_ok(word))
		return;
	size_t *n = kind == 'f' ? &caps->n_formats : &caps->n_media;
	char(*items)[PRINTER_CAPS_NAME_MAX] = kind == 'f' ? caps->formats : caps->media;
	size_t max = kind == 'f' ? PRINTER_CAPS_FORMATS_MAX : PRINTER_CAPS_MEDIA_MAX;
	for (size_t i = 0; i < *n; i++) {
		if (strcasecmp(items[i], word) == 0)
			return;
	}
	if (*n < max && str_copy(items[*n], sizeof(items[*n]), word))
		(*n)++;
}

void probe_snmp_to_caps(const pp_snmp_info_t *info, pp_printer_caps_t *caps)
{
	if (caps->make_and_model[0] == '\0') {
		const char *model = info->device_descr[0] != '\0' ? info->device_descr
								  : info->sys_descr;
		probe_text_copy(caps->make_and_model, sizeof(caps->make_and_model), model,
				strlen(model));
	}
	if (caps->mac_address[0] == '\0')
		(void)str_copy(caps->mac_address, sizeof(caps->mac_address), info->mac_address);
}
