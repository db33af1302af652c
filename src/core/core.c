/* core.c - the domain context; see core.h. */
#include "core/core.h"

#include "core/inline-doc.h"

#include <string.h>

static int64_t core_real_clock(void *ctx)
{
	(void)ctx;
	return (int64_t)time(NULL);
}

int core_init(pp_core_t *core, pp_db_t *db, pp_spool_t *spool,
	      const uint8_t master_key[CRYPTO_KEY_BYTES])
{
	memset(core, 0, sizeof(*core));
	core->db = db;
	core->spool = spool;
	core->now = core_real_clock;
	/* Small documents live in the database: readers of the spool find them there. */
	if (spool != NULL && db != NULL)
		spool_set_inline_source(spool, inline_doc_fetch, db);
	if (!crypto_derive_subkey(master_key, CRYPTO_SUBKEY_CODES, core->code_key) ||
	    !crypto_derive_subkey(master_key, CRYPTO_SUBKEY_TOKENS, core->token_key) ||
	    !crypto_derive_subkey(master_key, CRYPTO_SUBKEY_PSEUDONYM, core->pseudonym_key)) {
		core_deinit(core);
		return -1;
	}
	return 0;
}

void core_deinit(pp_core_t *core)
{
	crypto_wipe(core->code_key, sizeof(core->code_key));
	crypto_wipe(core->token_key, sizeof(core->token_key));
	crypto_wipe(core->pseudonym_key, sizeof(core->pseudonym_key));
}

int64_t core_now(const pp_core_t *core)
{
	return core->now(core->clock_ctx);
}
