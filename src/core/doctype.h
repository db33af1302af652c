/*
 * doctype.h - recognising a submitted document's type from its first bytes.
 *
 * Every way in (IPP with application/octet-stream, mail attachments, uploads) types a
 * document by its content, never by its name. Only the first DOCTYPE_SNIFF_MAX bytes are
 * looked at, and only for magic numbers and, in a ZIP container, the names of its first
 * entries: parsing documents is the converter's job, in its sandbox.
 */
#ifndef PP_DOCTYPE_H
#define PP_DOCTYPE_H

#include <stddef.h>
#include <stdint.h>

/* How many leading bytes doctype_sniff() uses; callers keep at most this many. */
#define DOCTYPE_SNIFF_MAX 4096u

/*
 * The MIME type of a document starting with head[0..len): PDF, PostScript, JPEG, PNG,
 * GIF, TIFF ("II*\0" / "MM\0*"), BMP ("BM" with a plausible header), WebP (RIFF…WEBP),
 * HEIC ("image/heic": an ISO BMFF "ftyp" box with brand heic, heix, hevc, heim, heis, mif1
 * or msf1), PWG raster, Apple URF, Office Open XML (word/xl/ppt), OpenDocument (its mimetype
 * entry), an OLE2 compound file (legacy Office: "application/vnd.ms-office", the converter
 * tells Word from Excel), RTF ("{\rtf": "application/rtf"), HTML ("text/html": after a BOM
 * and white space, <!DOCTYPE html, <html, <head or <body in any case), or text
 * ("text/plain": UTF-8 / ASCII, UTF-16 with its byte-order mark, or 8-bit text without
 * control bytes, whose charset the converter guesses). Static string, or NULL
 * when none fits.
 */
const char *doctype_sniff(const uint8_t *head, size_t len);

#endif
