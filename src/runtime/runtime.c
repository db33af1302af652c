/* runtime.c - opening an installation; see runtime.h. */
#include "runtime/runtime.h"

#include "core/settings-cache.h"
#include "directory/directory.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>

int runtime_load_config(pp_runtime_t *rt, const char *path, const char *state_dir_override,
			char *error, size_t error_size)
{
	memset(rt, 0, sizeof(*rt));
	config_init(&rt->config);
	bool is_default_path = (path == NULL);
	if (config_load(&rt->config, is_default_path ? CONFIG_DEFAULT_PATH : path, is_default_path,
			error, error_size) < 0)
		return -1;
	if (state_dir_override != NULL &&
	    !str_copy(rt->config.state_dir, sizeof(rt->config.state_dir), state_dir_override)) {
		(void)str_format(error, error_size, "--state-dir is too long");
		return -1;
	}
	return config_finalize(&rt->config, error, error_size);
}

int runtime_open(pp_runtime_t *rt, char *error, size_t error_size)
{
	const pp_config_t *cfg = &rt->config;

	/* Everything the server writes is private to it, whatever umask it was started with. */
	(void)umask(077);

	if (!crypto_init()) {
		(void)str_format(error, error_size, "libsodium failed to start (no entropy source?)");
		return -1;
	}
	if (fs_mkdir_p(cfg->state_dir, 0700, error, error_size) < 0)
		return -1;
	if (crypto_master_key_load(cfg->key_file, rt->master_key, error, error_size) < 0)
		goto fail;

	if (db_open(cfg->database, &rt->db, error, error_size) != DB_OK)
		goto fail;
	if (db_migrate(rt->db, error, error_size) != DB_OK)
		goto fail;

	uint8_t spool_key[CRYPTO_KEY_BYTES];
	if (!crypto_derive_subkey(rt->master_key, CRYPTO_SUBKEY_SPOOL, spool_key)) {
		(void)str_format(error, error_size, "cannot derive the spool key");
		goto fail;
	}
	int rc = spool_open(cfg->spool_dir, spool_key, cfg->spool_encrypt, cfg->max_document_bytes,
			    &rt->spool, error, error_size);
	crypto_wipe(spool_key, sizeof(spool_key));
	if (rc < 0)
		goto fail;
	spool_set_inline_max(rt->spool, (size_t)cfg->spool_inline_max_bytes);

	if (core_init(&rt->core, rt->db, rt->spool, rt->master_key) < 0) {
		(void)str_format(error, error_size, "cannot derive the sub-keys");
		goto fail;
	}
	char counter_path[PATH_MAX];
	if (!str_format(counter_path, sizeof(counter_path), "%s/%s", cfg->state_dir,
			SETTINGS_CACHE_COUNTER_FILE)) {
		(void)str_format(error, error_size, "the state directory's path is too long");
		goto fail;
	}
	/* Without its counter a process reads settings from the database each time. */
	char cache_error[512];
	if (settings_cache_open(counter_path, &rt->settings_cache, cache_error,
				sizeof(cache_error)) < 0)
		log_warn("settings.cache_off error=\"%s\"", cache_error);
	rt->core.settings_cache = rt->settings_cache;
	directory_attach(&rt->core);
	rt->is_core_ready = true;
	return 0;

fail:
	runtime_close(rt);
	return -1;
}

void runtime_close(pp_runtime_t *rt)
{
	if (rt->is_core_ready) {
		core_deinit(&rt->core);
		rt->is_core_ready = false;
	}
	settings_cache_close(&rt->settings_cache);
	spool_close(&rt->spool);
	db_close(&rt->db);
	crypto_wipe(rt->master_key, sizeof(rt->master_key));
}
