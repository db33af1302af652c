/*
 * probe-private.h - helpers shared by the probe files (src/output/probe/), not by other folders.
 */
#ifndef PP_PROBE_PRIVATE_H
#define PP_PROBE_PRIVATE_H

#include "output/probe.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Copies len bytes of device text into dst[size] as one printable line: control characters
 * and invalid UTF-8 bytes become '?', surrounding spaces are trimmed, text that does not fit
 * is cut at a character boundary (device text is shown, never used as a key).
 */
void probe_text_copy(char *dst, size_t size, const char *src, size_t len);

/*
 * True when word (a MIME type or media name) can go into pp_printer_caps_t: 1..63 printable
 * ASCII characters without space, quote or backslash, as printer_caps_from_json() accepts.
 */
bool probe_word_ok(const char *word);

/* Adds word to caps' formats (kind 'f') or media (kind 'm') if it is valid, new and fits. */
void probe_caps_add_word(pp_printer_caps_t *caps, char kind, const char *word);

#endif
