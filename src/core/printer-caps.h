/*
 * printer-caps.h - what a printer can do: the facts that choose the format it is sent, the
 * options it may be asked for, and paper substitution.
 *
 * Capabilities are detected (IPP Get-Printer-Attributes, SNMP; src/output/probe.h) and can be
 * edited by the admin; they are stored as JSON in printers.capabilities. The JSON keys are the
 * field names below; formats are MIME types; media are PWG self-describing names.
 */
#ifndef PP_PRINTER_CAPS_H
#define PP_PRINTER_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pp_core;

#define PRINTER_CAPS_FORMATS_MAX 16
#define PRINTER_CAPS_MEDIA_MAX 32
#define PRINTER_CAPS_TEXT_MAX 128
#define PRINTER_CAPS_NAME_MAX 64 /* a MIME type or media name, with the terminator */

typedef struct {
	size_t n_formats; /* document formats the device takes (document-format-supported) */
	char formats[PRINTER_CAPS_FORMATS_MAX][PRINTER_CAPS_NAME_MAX];
	bool is_color;
	bool has_duplex;
	bool has_staple;
	bool speaks_pjl;       /* socket:// devices: wrap jobs in PJL */
	int resolution_dpi;    /* preferred raster resolution; 0 = 300 */
	size_t n_media;        /* media the device has or supports (media-ready / -supported) */
	char media[PRINTER_CAPS_MEDIA_MAX][PRINTER_CAPS_NAME_MAX];
	char make_and_model[PRINTER_CAPS_TEXT_MAX];
	char mac_address[32];  /* "aa:bb:cc:dd:ee:ff" when known (SNMP), else "" */
} pp_printer_caps_t;

/* Fills caps with what an unknown device is assumed to do: PDF, colour, no duplex, A4. */
void printer_caps_default(pp_printer_caps_t *caps);

/*
 * Parses printers.capabilities JSON ("{}" = defaults; unknown keys refused with error naming
 * them; lists cut at the maxima are an error). Returns 0 or -1.
 */
int printer_caps_from_json(const char *json, pp_printer_caps_t *caps_r, char *error,
			   size_t error_size);

/* Writes caps as compact JSON with sorted keys. Returns new text (free()), NULL on no memory. */
char *printer_caps_to_json(const pp_printer_caps_t *caps);

/* True when caps lists format (case-insensitive MIME type). */
bool printer_caps_takes(const pp_printer_caps_t *caps, const char *format);

/*
 * The output format for a printer (output.h names: "pdf", "pwg", "urf", "ps", "pcl5",
 * "pcl6"): preferred as set by the admin ("auto" or a name), else by caps in this order:
 * PDF if accepted, else PWG raster, else URF, else PostScript, else PCL 6 (PCL XL), else
 * PCL 5. Static string; NULL when preferred is not a known name.
 */
const char *printer_caps_choose_format(const pp_printer_caps_t *caps, const char *preferred);

/*
 * The PWG name of the paper in a tray as a device reports it: a PWG self-describing name
 * ("iso_a4_210x297mm") as it is; a common name ("A4", "Letter", "Legal", "A3", "A5",
 * case-insensitive); else the size in millimetres (within 2 mm, either orientation) when it
 * is one of those. Fills name_r and returns true, or returns false when it is not known.
 */
bool printer_caps_media_name(const char *media, int width_mm, int height_mm,
			     char name_r[PRINTER_CAPS_NAME_MAX]);

/*
 * Paper substitution at release: the media a job asking for want (a PWG name) is printed on.
 * What the printer has is the paper loaded now (ready[n_ready], PWG names from its status)
 * when that is known (n_ready > 0), else the media of its capabilities. want when the
 * printer has that size; else Letter for A4, or A4 for Letter, when it has that; else want
 * (the printer then asks for the paper). *is_substituted_r says whether it differs from want.
 * Returns want or one of the names given (borrowed).
 */
const char *printer_caps_media_for_job(const pp_printer_caps_t *caps, const char *const *ready,
				       size_t n_ready, const char *want, bool *is_substituted_r);

/*
 * The paper loaded now in printer_id as its cached status holds it (table printer_status,
 * kept by the status refresh of src/output/status.h; read here so that the converter, which
 * does not link the probes, decides as delivery does): each tray's media named by
 * printer_caps_media_name(), each name once, leaving out trays that report being empty and
 * media that cannot be named. No status row, a last check that failed, or a database error
 * (logged) is "not known". Never asks the printer. Fills names_r[max]; returns the count.
 */
size_t printer_caps_media_loaded(struct pp_core *core, int64_t printer_id,
				 char (*names_r)[PRINTER_CAPS_NAME_MAX], size_t max);

/*
 * Paper substitution at release, the one decision of every release path (IPP delivery sends
 * it as the media option; conversion at release renders on it): printer_caps_media_for_job()
 * on the paper loaded now in printer_id (printer_caps_media_loaded()) when known, else on
 * caps. Copies the media to print on into media_r[media_size] (want itself when the choice
 * does not fit). Returns true when it differs from want; *is_by_loaded_r (may be NULL) says
 * whether the loaded paper decided (else the capabilities).
 */
bool printer_caps_media_at_release(struct pp_core *core, int64_t printer_id,
				   const pp_printer_caps_t *caps, const char *want, char *media_r,
				   size_t media_size, bool *is_by_loaded_r);

#endif
