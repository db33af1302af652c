/*
 * pullprint-convert - the document converter: turns held jobs' documents into the PDF
 * Pullprint keeps, its analysis and page images, inside a sandbox. pullprintd starts a pool
 * of these (--fd); other hosts run them on the shared PostgreSQL queue (--queue); admins,
 * tests and benchmarks use `file` and `render` without any database.
 *
 * Every mode is two processes: this one (the broker: configuration, database, spool, keys)
 * and a converter it spawns as a fresh image of this program (--converter, internal), which
 * holds none of those and is the only one that starts sandboxed children
 * (src/convert/worker/converter.h).
 */
#include "pp-build-config.h"

#include "convert/worker/converter.h"
#include "convert/worker/worker.h"
#include "lib/log.h"
#include "lib/str.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pullprint-convert [--config FILE] [--state-dir DIR] --fd N\n"
		"       pullprint-convert [--config FILE] [--state-dir DIR] --queue\n"
		"       pullprint-convert [--config FILE] [--state-dir DIR] file [--out-dir DIR]\n"
		"                         [--thumbnails N] [--json] FILE...\n"
		"       pullprint-convert [--config FILE] [--state-dir DIR] render\n"
		"                         --format pdf|pwg|urf|ps|pcl5|pcl6 [--options JSON]\n"
		"                         [--dpi N] [--mono-printer] [--printer-media a,b] [--fit]\n"
		"                         IN.pdf OUT\n"
		"  --config FILE     configuration file (default /etc/pullprint/pullprint.conf)\n"
		"  --state-dir DIR   state directory, overriding [server] state_dir\n"
		"  --fd N            serve pullprintd's pool on socket N (pullprintd does this)\n"
		"  --converter       internal: the worker's sandbox-starting half (with --fd)\n"
		"  --queue           take jobs from the shared PostgreSQL database (another host);\n"
		"                    SIGTERM ends it after the current job\n"
		"  file              convert each FILE (typed by its content) to DIR/<name>.pdf and\n"
		"                    DIR/<name>-thumb-N.jpg, -preview-N.jpg; one line per file\n"
		"                    (--json: one JSON object per line); exit 0 only if all converted\n"
		"  render            write IN.pdf as a printer format with job options (JSON as in\n"
		"                    the REST API: {\"copies\":2,\"sides\":\"two-sided-long-edge\"})\n"
		"  --version         print the version\n");
}

/* pullprintd blocks its signals before it starts workers, and a child inherits the mask:
 * start from a clean one. SIGPIPE is ignored: a closed socket is an error to handle. */
static int convert_signals_reset(void)
{
	sigset_t none;
	if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return -1;
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	return sigaction(SIGPIPE, &ignore, NULL);
}

/* --queue: SIGTERM and SIGINT wait, blocked, until worker_queue_run() looks for them. */
static int convert_signals_block(void)
{
	sigset_t set;
	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGTERM) < 0 || sigaddset(&set, SIGINT) < 0)
		return -1;
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Checks that fd is an open SOCK_SEQPACKET socket and keeps it from programs we exec. */
static int convert_check_fd(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET) {
		fprintf(stderr, "pullprint-convert: --fd %d is not a SOCK_SEQPACKET socket: "
				"--fd is for pullprintd, which starts its workers itself\n",
			fd);
		return -1;
	}
	int flags = fcntl(fd, F_GETFD);
	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
		perror("pullprint-convert: fcntl");
		return -1;
	}
	return 0;
}

/* --fd and --queue: open the installation and work on it. Returns the exit code. */
static int convert_serve(pp_runtime_t *rt, bool is_queue, int fd)
{
	char error[1024];
	if (is_queue && convert_signals_block() < 0) {
		perror("pullprint-convert: sigprocmask");
		return 1;
	}
	if (!is_queue && convert_check_fd(fd) < 0)
		return 1;
	/* Before anything is opened: a SQLite file is never shared between hosts. */
	if (is_queue && !str_has_prefix(rt->config.database, "postgresql://") &&
	    !str_has_prefix(rt->config.database, "postgres://")) {
		fprintf(stderr, "pullprint-convert: --queue needs the server's shared PostgreSQL "
				"database ([server] database = postgresql://...); with SQLite the "
				"server converts on its own host ([convert] local = yes)\n");
		return 1;
	}
	if (runtime_open(rt, error, sizeof(error)) < 0) {
		fprintf(stderr, "pullprint-convert: %s\n", error);
		return 1;
	}
	/* Keep nothing a worker never needs: the master key (it derives every other key) and
	 * the keys of codes and tokens go; the spool's key stays (the worker encrypts what it
	 * stores). Documents are parsed only in the converter's children, which never see this
	 * process's memory (worker_open() starts no process; the converter is a fresh exec). */
	crypto_wipe(rt->master_key, sizeof(rt->master_key));
	crypto_wipe(rt->core.code_key, sizeof(rt->core.code_key));
	crypto_wipe(rt->core.token_key, sizeof(rt->core.token_key));

	pp_worker_t w;
	int exit_code = 1;
	if (worker_open(&w, &rt->config, &rt->core, NULL, error, sizeof(error)) < 0) {
		fprintf(stderr, "pullprint-convert: %s\n", error);
	} else {
		exit_code = is_queue ? worker_queue_run(&w, rt->config.database)
				     : worker_serve(&w, fd);
		worker_close(&w);
	}
	runtime_close(rt);
	return exit_code;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL, *state_dir = NULL;
	bool is_queue = false, is_converter = false;
	int fd = -1;
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
			state_dir = argv[++i];
		} else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
			uint64_t value = 0;
			if (!parse_uint64_full(argv[++i], INT32_MAX, &value)) {
				fprintf(stderr, "pullprint-convert: --fd wants a descriptor number\n");
				return 2;
			}
			fd = (int)value;
		} else if (strcmp(argv[i], "--queue") == 0) {
			is_queue = true;
		} else if (strcmp(argv[i], CONVERTER_ARG) == 0) {
			is_converter = true;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("pullprint-convert %s\n", PP_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "pullprint-convert: unknown argument %s\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			break; /* a command: file, render */
		}
	}
	const char *command = i < argc ? argv[i] : NULL;
	if (is_converter) {
		/* Spawned by a worker: no configuration, no key, no database, no spool; all it
		 * needs comes over the socket. */
		if (fd < 0 || is_queue || command != NULL || config_path != NULL ||
		    state_dir != NULL) {
			fprintf(stderr, "pullprint-convert: --converter takes --fd N only; it is "
					"started by pullprint-convert itself\n");
			return 2;
		}
		/* SIGTERM and SIGINT are the worker's to act on (--queue finishes the current
		 * job first): the converter ends when the worker closes the socket, or is gone. */
		struct sigaction ignore = {.sa_handler = SIG_IGN};
		if (convert_signals_reset() < 0 || sigaction(SIGTERM, &ignore, NULL) < 0 ||
		    sigaction(SIGINT, &ignore, NULL) < 0) {
			perror("pullprint-convert: cannot set up signal handling");
			return 1;
		}
		return convert_check_fd(fd) < 0 ? 1 : converter_serve(fd);
	}
	int modes = (fd >= 0) + is_queue + (command != NULL);
	if (modes != 1 || (command != NULL && strcmp(command, "file") != 0 &&
			   strcmp(command, "render") != 0)) {
		fprintf(stderr, "pullprint-convert: say one of --fd N, --queue, file or render\n");
		usage(stderr);
		return 2;
	}
	if (convert_signals_reset() < 0) {
		perror("pullprint-convert: cannot set up signal handling");
		return 1;
	}

	pp_runtime_t rt;
	char error[1024];
	if (runtime_load_config(&rt, config_path, state_dir, error, sizeof(error)) < 0) {
		fprintf(stderr, "pullprint-convert: %s\n", error);
		return 1;
	}
	log_set_level(rt.config.log_level);
	if (command == NULL)
		return convert_serve(&rt, is_queue, fd);

	bool has_state = config_path != NULL || state_dir != NULL;
	int sub_argc = argc - i - 1;
	char **sub_argv = argv + i + 1;
	return strcmp(command, "file") == 0
		       ? worker_file_main(&rt.config, has_state, sub_argc, sub_argv)
		       : worker_render_main(&rt.config, has_state, sub_argc, sub_argv);
}
