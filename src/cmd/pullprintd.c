/*
 * pullprintd - the Pullprint server: takes documents from phones, mail, the web and
 * desktops, holds them encrypted, and prints them when their owner releases them.
 */
#include "pp-build-config.h"
#include "server/server.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: pullprintd [--config PATH] [--state-dir DIR]\n"
		     "  --config PATH     configuration file (default /etc/pullprint/pullprint.conf)\n"
		     "  --state-dir DIR   state directory, overriding [server] state_dir\n"
		     "  --version         print the version\n");
}

int main(int argc, char **argv)
{
	const char *config_path = NULL, *state_dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
			state_dir = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("pullprintd %s\n", PP_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "pullprintd: unknown argument %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}

	/* Before any thread exists, so that only server_run() receives these signals. */
	if (server_block_signals() < 0) {
		fprintf(stderr, "pullprintd: cannot set up signal handling\n");
		return 1;
	}
	char error[1024];
	int exit_code = 1;
	pp_server_t *server = NULL;
	if (server_open(config_path, state_dir, &server, &exit_code, error, sizeof(error)) < 0) {
		/* Plain text on stderr: a person reads this at the terminal or in the journal. */
		fprintf(stderr, "pullprintd: %s\n", error);
		return exit_code;
	}
	exit_code = server_run(server);
	server_free(&server);
	return exit_code;
}
