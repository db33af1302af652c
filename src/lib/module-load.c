/* module-load.c - loading pullprintd's optional parts on first use; see module-load.h. */
#include "lib/module-load.h"

#include "lib/log.h"
#include "lib/str.h"
#include "pp-build-config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

int module_program_dir(char *dir, size_t dir_size, char *error, size_t error_size)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0 || (size_t)len >= sizeof(exe) - 1) {
		(void)str_format(error, error_size, "readlink(/proc/self/exe) failed: %s",
				 len < 0 ? strerror(errno) : "path too long");
		return -1;
	}
	exe[len] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash == NULL) {
		(void)str_format(error, error_size, "/proc/self/exe is not a path: %s", exe);
		return -1;
	}
	*slash = '\0';
	if (!str_copy(dir, dir_size, exe[0] != '\0' ? exe : "/")) {
		(void)str_format(error, error_size, "program directory too long");
		return -1;
	}
	return 0;
}

/* Opens path and checks its entry's header. Returns the entry or NULL with error filled. */
static const void *module_open(const char *path, const char *name, uint32_t abi, char *error,
			       size_t error_size)
{
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		const char *why = dlerror();
		(void)str_format(error, error_size, "cannot load %s: %s", path,
				 why != NULL ? why : "unknown error");
		return NULL;
	}
	const pp_module_header_t *header = dlsym(lib, MODULE_ENTRY_SYMBOL);
	const char *mismatch = NULL;
	if (header == NULL)
		mismatch = "it has no " MODULE_ENTRY_SYMBOL;
	else if (header->magic != MODULE_MAGIC || header->name == NULL ||
		 strcmp(header->name, name) != 0)
		mismatch = "it is not the expected Pullprint module";
	else if (header->abi != abi || header->version == NULL ||
		 strcmp(header->version, PP_VERSION) != 0)
		mismatch = "it was built for another version of pullprintd";
	if (mismatch != NULL) {
		(void)str_format(error, error_size,
				 "cannot use %s: %s (this is pullprintd %s): install the module "
				 "of the same build as the program",
				 path, mismatch, PP_VERSION);
		if (dlclose(lib) != 0)
			log_warn("module.dlclose_failed path=%s", path);
		return NULL;
	}
	/* Never closed: threads and objects of the module may live until exit. */
	return header;
}

const void *module_load(const char *dir, const char *file, const char *name, uint32_t abi,
			char *error, size_t error_size)
{
	char path[PATH_MAX];
	if (dir != NULL) {
		if (!str_format(path, sizeof(path), "%s/%s", dir, file)) {
			(void)str_format(error, error_size, "module path too long: %s/%s", dir, file);
			return NULL;
		}
		return module_open(path, name, abi, error, error_size);
	}
	/* Beside the program first: the build tree (make run, the tests), or a private copy. */
	char exe_dir[PATH_MAX];
	if (module_program_dir(exe_dir, sizeof(exe_dir), error, error_size) == 0 &&
	    str_format(path, sizeof(path), "%s/%s", exe_dir, file) && access(path, F_OK) == 0)
		return module_open(path, name, abi, error, error_size);
	if (!str_format(path, sizeof(path), "%s/%s", PP_MODULEDIR, file)) {
		(void)str_format(error, error_size, "module path too long: %s/%s", PP_MODULEDIR,
				 file);
		return NULL;
	}
	if (access(path, F_OK) != 0) {
		(void)str_format(error, error_size,
				 "%s is missing (looked beside the program and in %s): install "
				 "it with pullprintd (meson install, or the package's modules)",
				 file, PP_MODULEDIR);
		return NULL;
	}
	return module_open(path, name, abi, error, error_size);
}

const void *module_get(pp_module_slot_t *slot, char *error, size_t error_size)
{
	if (pthread_mutex_lock(&slot->lock) != 0) {
		(void)str_format(error, error_size, "%s: cannot lock the module slot", slot->name);
		return NULL;
	}
	if (!slot->is_tried) {
		slot->is_tried = true;
		char why[MODULE_ERROR_MAX];
		slot->entry = module_load(NULL, slot->file, slot->name, slot->abi, why, sizeof(why));
		if (slot->entry != NULL) {
			log_info("module.loaded module=%s file=%s", slot->name, slot->file);
		} else {
			if (!str_format(slot->error, sizeof(slot->error),
					"%s is not available: %s (it needs %s; restart pullprintd "
					"after installing)",
					slot->name, why, slot->needs))
				(void)str_format(slot->error, sizeof(slot->error),
						 "%s is not available: install %s", slot->name,
						 slot->file);
			log_error("module.load_failed module=%s error=\"%s\"", slot->name,
				  slot->error);
		}
	}
	const void *entry = slot->entry;
	if (entry == NULL)
		(void)str_copy(error, error_size, slot->error);
	(void)pthread_mutex_unlock(&slot->lock);
	return entry;
}

bool module_is_loaded(pp_module_slot_t *slot)
{
	if (pthread_mutex_lock(&slot->lock) != 0)
		return false;
	bool is_loaded = slot->entry != NULL;
	(void)pthread_mutex_unlock(&slot->lock);
	return is_loaded;
}
