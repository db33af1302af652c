/*
 * fuzz-config.c - the INI configuration parser (inih + our setting table) on arbitrary
 * files: it must answer with a value or an error naming file, line and setting, never crash.
 */
#include "lib/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (path[0] == '\0') {
		char template[] = "/tmp/pp-fuzz-config-XXXXXX";
		int fd = mkstemp(template);
		if (fd < 0)
			abort();
		(void)close(fd);
		memcpy(path, template, sizeof(template));
	}
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();

	pp_config_t cfg;
	config_init(&cfg);
	char error[512];
	if (config_load(&cfg, path, false, error, sizeof(error)) < 0) {
		/* Every refusal names the file. */
		if (strncmp(error, path, strlen(path)) != 0)
			abort();
		return 0;
	}
	(void)config_finalize(&cfg, error, sizeof(error));
	return 0;
}
