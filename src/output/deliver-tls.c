/*
 * deliver-tls.c - whom an IPPS printer is, for one delivery: the certificate judged by
 * tls-peer.c (the printer's pin, else its CA chain) before a byte of the job is sent.
 */
#include "output/deliver-private.h"

#include "output/tls-peer.h"

int deliver_tls_check(deliver_ctx_t *ctx, http_t *http)
{
	char why[TLS_PEER_WHY_MAX];
	if (tls_peer_check(http, ctx->uri.host, ctx->req->tls_pin, ctx->req->ca_file,
			   ctx->req->accept_self_signed, why, sizeof(why)) == 0)
		return 0;
	/* A certificate a person must look at: retrying will not change it. */
	deliver_set(ctx, DELIVER_PERMANENT, "%s", why);
	return -1;
}
