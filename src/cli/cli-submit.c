/*
 * cli-submit.c - `pullprint jobs submit`: an admin drops a document into a user's held
 * queue, as if the user had sent it (handy for a scanned letter, a help-desk request, and
 * for checking an installation end to end).
 */
#include "cli/cli.h"

#include "core/intake.h"
#include "core/users.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	int fd;
	const char *path;
} submit_file_t;

/* pp_intake_read_fn over a file descriptor. */
static ssize_t submit_read(void *ctx, void *buf, size_t size, char *error, size_t error_size)
{
	submit_file_t *file = ctx;
	for (;;) {
		ssize_t n = read(file->fd, buf, size);
		if (n >= 0)
			return n;
		if (errno != EINTR) {
			(void)str_format(error, error_size, "read(%s) failed: %s", file->path,
					 strerror(errno));
			return -1;
		}
	}
}

/* The last path component, used as the document name. */
static const char *submit_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

int cli_jobs_submit(pp_cli_t *cli, int argc, char **argv)
{
	const char *email = NULL, *title = NULL, *options_json = NULL, *content_type = NULL;
	static const struct option options[] = {{"user", required_argument, NULL, 'u'},
						{"title", required_argument, NULL, 't'},
						{"options", required_argument, NULL, 'o'},
						{"content-type", required_argument, NULL, 'c'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'u')
			email = optarg;
		else if (opt == 't')
			title = optarg;
		else if (opt == 'o')
			options_json = optarg;
		else if (opt == 'c')
			content_type = optarg;
		else
			goto usage;
	}
	if (email == NULL || optind + 1 != argc)
		goto usage;
	const char *path = argv[optind];

	char error[512];
	pp_print_options_t print_options;
	options_default(&print_options);
	if (options_json != NULL &&
	    options_from_json(options_json, &print_options, error, sizeof(error)) < 0) {
		cli_error(cli, "jobs submit: --options: %s", error);
		return CLI_EXIT_USAGE;
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_user_t user;
	bool found = false;
	if (users_get_by_email(&cli->rt.core, email, &user, &found, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	if (!found) {
		cli_error(cli, "no user %s (add them with pullprint users add)", email);
		return CLI_EXIT_NOT_FOUND;
	}

	submit_file_t file = {.fd = open(path, O_RDONLY | O_CLOEXEC), .path = path};
	if (file.fd < 0) {
		cli_error(cli, "jobs submit: cannot open %s: %s", path, strerror(errno));
		return CLI_EXIT_FAILED;
	}
	pp_intake_t doc = {.user_id = user.id,
			   .source = "cli",
			   .title = title,
			   .name = submit_basename(path),
			   .content_type = content_type,
			   .options = &print_options};
	pp_intake_result_t result;
	int stored = intake_store_document(&cli->rt.core, &doc, submit_read, &file, &result, error,
					   sizeof(error));
	(void)close(file.fd); /* read-only */
	if (stored < 0) {
		cli_error(cli, "jobs submit: %s", error);
		return CLI_EXIT_FAILED;
	}
	if (cli->as_json) {
		(void)cli_print_json(cli, json_pack("{s:I, s:s, s:I}", "id",
						    (json_int_t)result.job_id, "uuid", result.uuid,
						    "size_bytes", (json_int_t)result.size_bytes));
	} else {
		fprintf(cli->out, "job %lld stored for %s (%lld bytes)\n", (long long)result.job_id,
			user.email, (long long)result.size_bytes);
	}
	return CLI_EXIT_OK;

usage:
	fprintf(cli->err, "usage: pullprint jobs submit --user EMAIL FILE [--title TEXT]\n"
			  "                             [--options JSON] [--content-type TYPE]\n");
	return CLI_EXIT_USAGE;
}
