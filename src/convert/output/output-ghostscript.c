/*
 * output-ghostscript.c - PCL 6 (PCL XL) through Ghostscript's pxlmono/pxlcolor devices, and
 * PostScript through ps2write.
 *
 * No Debian library writes PCL XL, and Ghostscript's devices are the ones printers have been
 * tested against for years. PostScript from ps2write stays vector (MuPDF's PostScript writer
 * only wraps page-sized raster images: about ten times slower and far bigger). The job
 * arrives already laid out (pages, n-up, copies, blank backs) as an intermediate PDF;
 * Ghostscript only translates it, with -dSAFER (no file access beyond its input and output),
 * an empty environment, and through sandbox_exec_wait() inside the converter's EXEC sandbox.
 * Copies are not passed (-dNumCopies): they are in the PDF.
 */
#include "output-private.h"

#include "convert/convert.h"
#include "convert/sandbox.h"
#include "lib/str.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Ghostscript reads "%d" and friends in -sOutputFile as a page-number template: every '%' of
 * the path is doubled. Returns false when the result does not fit.
 */
static bool ghostscript_output_arg(const char *path, char *arg, size_t size)
{
	const char prefix[] = "-sOutputFile=";
	size_t len = sizeof(prefix) - 1;
	if (size <= len)
		return false;
	memcpy(arg, prefix, len);
	for (const char *p = path; *p != '\0'; p++) {
		size_t need = *p == '%' ? 2 : 1;
		if (size - len <= need)
			return false;
		arg[len++] = *p;
		if (*p == '%')
			arg[len++] = '%';
	}
	arg[len] = '\0';
	return true;
}

/*
 * Copies ps2write's output from in_path to out_path (which exists, 0600) with a document setup
 * asking for duplex inserted after %%EndProlog: ps2write has no option that writes one, and
 * a printer must hear it once, before the first page. Returns 0 or -1.
 */
static int ghostscript_ps_add_duplex(const char *in_path, const char *out_path, bool is_tumble,
				     char *error, size_t error_size)
{
	FILE *in = fopen(in_path, "rbe");
	if (in == NULL) {
		(void)str_format(error, error_size, "cannot open %s: %s", in_path, strerror(errno));
		return -1;
	}
	FILE *out = fopen(out_path, "wbe"); /* truncates the 0600 file the caller made */
	if (out == NULL) {
		(void)str_format(error, error_size, "cannot open %s: %s", out_path, strerror(errno));
		(void)fclose(in);
		return -1;
	}
	char *line = NULL;
	size_t line_size = 0;
	ssize_t len;
	bool is_inserted = false, is_ok = true;
	while (is_ok && (len = getline(&line, &line_size, in)) > 0) {
		is_ok = fwrite(line, 1, (size_t)len, out) == (size_t)len;
		if (is_ok && !is_inserted && strncmp(line, "%%EndProlog", 11) == 0) {
			is_ok = fprintf(out, "%%%%BeginSetup\n%%%%BeginFeature: *Duplex %s\n"
					"<< /Duplex true /Tumble %s >> setpagedevice\n"
					"%%%%EndFeature\n%%%%EndSetup\n",
					is_tumble ? "DuplexTumble" : "DuplexNoTumble",
					is_tumble ? "true" : "false") > 0;
			is_inserted = true;
		}
	}
	free(line);
	is_ok = is_ok && !ferror(in) && is_inserted;
	(void)fclose(in);
	if (fclose(out) != 0)
		is_ok = false;
	if (!is_ok) {
		(void)str_format(error, error_size,
				 "cannot add duplex to the PostScript from Ghostscript (%s)", out_path);
		return -1;
	}
	return 0;
}

int output_ghostscript_run(const char *ghostscript, pp_output_format_t format,
                          const char *intermediate_pdf, const char *out_path,
                          const pp_output_layout_t *layout, int dpi, char *error,
                          size_t error_size)
{
	if (ghostscript == NULL || ghostscript[0] != '/') {
		(void)str_format(error, error_size,
		                 "ghostscript must be an absolute path (such as /usr/bin/gs)");
		return -1;
	}
	/* Duplex PostScript: Ghostscript writes beside out_path, and the copy adds the setup. */
	bool is_ps_duplex = format == PP_OUTPUT_POSTSCRIPT && layout->is_duplex;
	char gs_path[PATH_MAX];
	char resolution[32];
	char output_arg[PATH_MAX + 32];
	if (!str_format(gs_path, sizeof(gs_path), "%s%s", out_path, is_ps_duplex ? ".gs" : "") ||
	    !str_format(resolution, sizeof(resolution), "-r%d", dpi) ||
	    !ghostscript_output_arg(gs_path, output_arg, sizeof(output_arg))) {
		(void)str_format(error, error_size, "the output path is too long");
		return -1;
	}
	const char *argv[20];
	size_t argc = 0;
	argv[argc++] = ghostscript;
	argv[argc++] = "-dSAFER";
	argv[argc++] = "-dBATCH";
	argv[argc++] = "-dNOPAUSE";
	argv[argc++] = "-dQUIET";
	if (format == PP_OUTPUT_POSTSCRIPT) {
		argv[argc++] = "-sDEVICE=ps2write";
		if (layout->is_gray) {
			argv[argc++] = "-sColorConversionStrategy=Gray";
			argv[argc++] = "-dProcessColorModel=/DeviceGray";
		}
	} else {
		argv[argc++] = layout->is_gray ? "-sDEVICE=pxlmono" : "-sDEVICE=pxlcolor";
		argv[argc++] = resolution;
		if (layout->is_duplex) {
			argv[argc++] = "-dDuplex=true";
			argv[argc++] = layout->is_tumble ? "-dTumble=true" : "-dTumble=false";
		}
	}
	argv[argc++] = output_arg;
	argv[argc++] = "--"; /* the input is a file name even if it looked like a switch */
	argv[argc++] = intermediate_pdf;
	argv[argc] = NULL;

	char reason[CONVERT_ERROR_MAX];
	if (sandbox_exec_wait(argv, NULL, reason, sizeof(reason)) != 0) {
		(void)str_format(error, error_size, "Ghostscript could not make %s: %s",
				 format == PP_OUTPUT_POSTSCRIPT ? "PostScript" : "PCL 6", reason);
		(void)unlink(gs_path);
		return -1;
	}
	if (!is_ps_duplex)
		return 0;
	int rc = ghostscript_ps_add_duplex(gs_path, out_path, layout->is_tumble, error, error_size);
	if (unlink(gs_path) != 0 && rc == 0) {
		(void)str_format(error, error_size, "unlink(%s) failed: %s", gs_path, strerror(errno));
		rc = -1;
	}
	return rc;
}
