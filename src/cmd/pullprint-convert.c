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

#include "convert/engine/engine-images.h"
#include "convert/worker/converter.h"
#include "convert/worker/worker.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/str.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONVERT_IMAGES_COUNT_NAME "images" /* what the images child drew: "<pages>\n" */

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
		"       pullprint-convert images [--width N]... [--pages N] [--json] IN.pdf DIR\n"
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
		"  images            draw IN.pdf's pages as JPEGs N px wide (default 200; up to 4\n"
		"                    widths) into DIR/page-P-wN.jpg, in the sandbox, with the\n"
		"                    default [convert] limits (no --config); --pages N: the first N\n"
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

/* What the images command's sandboxed child draws. */
typedef struct {
	pp_engine_image_size_t sizes[ENGINE_IMAGE_SIZES_MAX];
	size_t n_sizes;
	int last; /* 0 = every page */
} convert_images_ctx_t;

/* In the sandbox: the pages as JPEGs, then how many pages were drawn. */
static int convert_images_child(void *opaque, char *error, size_t error_size)
{
	const convert_images_ctx_t *c = opaque;
	int pages = engine_render_jpegs(WORKER_PDF_NAME, 1, c->last, c->sizes, c->n_sizes, error,
					error_size);
	if (pages < 0)
		return -1;
	char text[32];
	if (!str_format(text, sizeof(text), "%d\n", pages))
		return -1;
	int fd = open(CONVERT_IMAGES_COUNT_NAME, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_full(fd, text, strlen(text)) < 0) {
		(void)str_format(error, error_size, "cannot write the page count: %s",
				 strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		(void)str_format(error, error_size, "cannot write the page count: %s",
				 strerror(errno));
		return -1;
	}
	return 0;
}

/* Copies the child's images (pages 1..pages of each size) from dir to out_dir. */
static int convert_images_save(const char *dir, const convert_images_ctx_t *c, int pages,
			       const char *out_dir, char *error, size_t error_size)
{
	for (int page = 1; page <= pages; page++) {
		for (size_t i = 0; i < c->n_sizes; i++) {
			char name[ENGINE_IMAGE_NAME_MAX], out[PATH_MAX];
			if (!str_format(name, sizeof(name), "%s%d%s", c->sizes[i].prefix, page,
					c->sizes[i].suffix) ||
			    !str_format(out, sizeof(out), "%s/page-%d-w%d.jpg", out_dir, page,
					c->sizes[i].width_px)) {
				(void)str_format(error, error_size, "the directory %s is too long",
						 out_dir);
				return -1;
			}
			if (worker_store_to_path(dir, name, out, error, error_size) < 0)
				return -1;
		}
	}
	return 0;
}

/* The images command in a job directory of w: stage, draw in the sandbox, copy out. */
static int convert_images_run(pp_worker_t *w, const char *dir, const char *in_path,
			      const char *out_dir, const convert_images_ctx_t *c, bool is_json,
			      char *error, size_t error_size)
{
	if (worker_stage_from_path(w, in_path, dir, WORKER_PDF_NAME, error, error_size) < 0)
		return -1;
	/* Timed like the `file` command's ms_pages: the fork, the sandbox and the drawing. */
	double start_ms = worker_now_ms();
	pp_sandbox_result_t result;
	if (sandbox_run(&w->render_limits, dir, convert_images_child, (void *)c, &result, error,
			error_size) < 0)
		return -1;
	double ms = worker_now_ms() - start_ms;
	if (result.outcome != SANDBOX_OK) {
		(void)str_copy(error, error_size,
			       result.message[0] != '\0' ? result.message
							 : sandbox_outcome_name(result.outcome));
		return -1;
	}
	char text[32];
	const char *p = text;
	uint64_t pages = 0;
	if (worker_read_small(dir, CONVERT_IMAGES_COUNT_NAME, text, sizeof(text), error,
			      error_size) < 0)
		return -1;
	if (!parse_uint64(&p, INT32_MAX, &pages) || *p != '\n' || pages < 1) {
		(void)str_copy(error, error_size, "the page count the child wrote is malformed");
		return -1;
	}
	if (convert_images_save(dir, c, (int)pages, out_dir, error, error_size) < 0)
		return -1;
	size_t images = (size_t)pages * c->n_sizes;
	if (is_json)
		printf("{\"pages\":%d,\"images\":%zu,\"ms\":%.1f}\n", (int)pages, images, ms);
	else
		printf("%s: %d pages, %zu images, %.1f ms\n", out_dir, (int)pages, images, ms);
	return 0;
}

/*
 * `images`: page images as intake draws them (MuPDF in the RENDER sandbox, the sandbox user
 * when root), at the widths asked, for admins and bench/convert. The configuration is not
 * read: the sandboxed child is forked from this process, which must hold nothing a document
 * could steal (converter.h), so the defaults apply. Returns the exit code.
 */
static int convert_images_main(int argc, char **argv)
{
	convert_images_ctx_t c = {0};
	bool is_json = false;
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		uint64_t value = 0;
		const char *opt = argv[i];
		if (strcmp(opt, "--width") == 0 && i + 1 < argc) {
			if (c.n_sizes == ENGINE_IMAGE_SIZES_MAX ||
			    !parse_uint64_full(argv[++i], 10000, &value) || value < 1) {
				fprintf(stderr, "pullprint-convert images: --width wants 1 to 10000 "
						"pixels, at most %d times\n",
					ENGINE_IMAGE_SIZES_MAX);
				return 2;
			}
			c.sizes[c.n_sizes++].width_px = (int)value;
		} else if (strcmp(opt, "--pages") == 0 && i + 1 < argc) {
			if (!parse_uint64_full(argv[++i], 100000, &value) || value < 1) {
				fprintf(stderr, "pullprint-convert images: --pages wants a number from "
						"1 to 100000\n");
				return 2;
			}
			c.last = (int)value;
		} else if (strcmp(opt, "--json") == 0) {
			is_json = true;
		} else {
			fprintf(stderr, "pullprint-convert images: unknown option %s\n", opt);
			return 2;
		}
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: pullprint-convert images [--width N]... [--pages N] "
				"[--json] IN.pdf DIR\n");
		return 2;
	}
	static const char *const prefixes[ENGINE_IMAGE_SIZES_MAX] = {"img0-", "img1-", "img2-",
								     "img3-"};
	if (c.n_sizes == 0)
		c.sizes[c.n_sizes++] = (pp_engine_image_size_t){.width_px = CONVERT_THUMB_WIDTH};
	for (size_t k = 0; k < c.n_sizes; k++) {
		c.sizes[k].prefix = prefixes[k];
		c.sizes[k].suffix = ".jpg";
	}
	const char *in_path = argv[i], *out_dir = argv[i + 1];

	char error[1024];
	pp_config_t config;
	config_init(&config);
	char base[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	if (config_finalize(&config, error, sizeof(error)) < 0 ||
	    fs_mkdir_p(out_dir, 0700, error, sizeof(error)) < 0) {
		fprintf(stderr, "pullprint-convert images: %s\n", error);
		return 1;
	}
	if (!str_format(base, sizeof(base), "%s/pullprint-convert.XXXXXX",
			tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp") ||
	    mkdtemp(base) == NULL) {
		fprintf(stderr, "pullprint-convert images: cannot make a directory under $TMPDIR: "
				"%s — set TMPDIR to a writable directory\n",
			strerror(errno));
		return 1;
	}
	pp_worker_t w;
	int exit_code = 1;
	if (worker_open(&w, &config, NULL, base, error, sizeof(error)) == 0) {
		char dir[PATH_MAX];
		if (worker_tmpdir_open(&w, dir, sizeof(dir), error, sizeof(error)) == 0) {
			if (convert_images_run(&w, dir, in_path, out_dir, &c, is_json, error,
					       sizeof(error)) == 0)
				exit_code = 0;
		}
		worker_close(&w);
	}
	if (exit_code != 0)
		fprintf(stderr, "pullprint-convert images: %s: %s\n", in_path, error);
	char wipe_error[256];
	if (sandbox_tmpdir_wipe(base, wipe_error, sizeof(wipe_error)) < 0)
		fprintf(stderr, "pullprint-convert: cannot remove %s: %s\n", base, wipe_error);
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
	if (command != NULL && strcmp(command, "images") == 0) {
		/* No configuration in this process: see convert_images_main(). */
		if (fd >= 0 || is_queue || config_path != NULL || state_dir != NULL) {
			fprintf(stderr, "pullprint-convert: images takes no --config, --state-dir, "
					"--fd or --queue: it uses the default limits\n");
			return 2;
		}
		if (convert_signals_reset() < 0) {
			perror("pullprint-convert: cannot set up signal handling");
			return 1;
		}
		return convert_images_main(argc - i - 1, argv + i + 1);
	}
	int modes = (fd >= 0) + is_queue + (command != NULL);
	if (modes != 1 || (command != NULL && strcmp(command, "file") != 0 &&
			   strcmp(command, "render") != 0)) {
		fprintf(stderr, "pullprint-convert: say one of --fd N, --queue, file, render or "
				"images\n");
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
