/*
 * tls-peer.h - whom an IPPS printer is: the certificate it presents, and the judgement on it.
 *
 * libcups makes the TLS connection but leaves judging the certificate to the caller. A
 * printer whose certificate a CA vouches for is checked against the admin's CA file or the
 * system trust store, for the host name of its URI. Many printers carry a self-signed
 * certificate instead: the admin then pins it (`pullprint printers trust`: the SHA-256 of the
 * certificate, stored as printers.tls_pin), and exactly that certificate is accepted from
 * then on, whatever its names and dates say (printer clocks are often wrong); another one is
 * refused with "certificate changed: expected …, got …". Used by delivery (deliver-ipp.c),
 * the status probes (probe/probe-ipp.c) and the command line's trust command.
 */
#ifndef PP_TLS_PEER_H
#define PP_TLS_PEER_H

#include <cups/http.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_PEER_FINGERPRINT_MAX 65 /* SHA-256: 64 lower-case hex digits + NUL */
#define TLS_PEER_TEXT_MAX 256
#define TLS_PEER_WHY_MAX 384

/* The certificate a printer presented (the first of its chain), for the admin to judge. */
typedef struct {
	char fingerprint[TLS_PEER_FINGERPRINT_MAX]; /* SHA-256 of the DER certificate */
	char subject[TLS_PEER_TEXT_MAX];            /* RFC 4514 DN, printable ASCII */
	char issuer[TLS_PEER_TEXT_MAX];
	int64_t not_after;                          /* Unix seconds; -1 unknown */
	bool is_self_signed;                        /* signed by its own key */
} pp_tls_peer_t;

/*
 * Reads the certificate the peer of the encrypted connection http presented. Returns 0, or
 * -1 with error saying why (no certificate, unreadable).
 */
int tls_peer_read(http_t *http, pp_tls_peer_t *peer_r, char *error, size_t error_size);

/*
 * Connects to the ipps:// uri (host and port; the path is not used), waits at most
 * timeout_ms (0 = 5000) and reads the certificate it presents, judging nothing (the admin
 * does, from what is shown). Returns 0, or -1 with error saying what failed.
 */
int tls_peer_fetch(const char *uri, int timeout_ms, pp_tls_peer_t *peer_r, char *error,
		   size_t error_size);

/*
 * Judges the peer of http, reached as host: with pin (64 lower-case hex digits) it must
 * present exactly the pinned certificate; without ("" or NULL) its chain must verify against
 * ca_file (NULL = the system store) for host, or, with accept_self_signed, be one
 * certificate signed by itself. Returns 0 when trusted, else -1 with why[why_size] saying
 * what is wrong and what to do (printable ASCII).
 */
int tls_peer_check(http_t *http, const char *host, const char *pin, const char *ca_file,
		   bool accept_self_signed, char *why, size_t why_size);

#endif
