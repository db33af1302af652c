/*
 * cli-spool.c - `pullprint spool check`: reads every stored document back and says whether
 * all are intact (exit 0) or which are damaged (exit 1), e.g. after a crash, a restore or a
 * disk error.
 */
#include "cli/cli.h"

#include "core/doc-check.h"

#include <string.h>

static int spool_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out, "usage: pullprint spool check\n"
		     "  Reads every stored document back (spool files and the small documents kept\n"
		     "  in the database), checks it is complete and unaltered, and lists the\n"
		     "  damaged ones with their job. Exit 0: all intact; 1: some damaged.\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

typedef struct {
	pp_cli_t *cli;
	json_t *damaged; /* --json: the array being filled; NULL otherwise */
} spool_check_ctx_t;

static void spool_report_damaged(void *arg, int64_t job_id, const char *role,
				 const char *file_id, const char *reason)
{
	spool_check_ctx_t *ctx = arg;
	if (ctx->damaged != NULL) {
		(void)json_array_append_new(ctx->damaged,
					    json_pack("{s:I, s:s, s:s, s:s}", "job", (json_int_t)job_id,
						      "role", role, "file_id", file_id, "reason",
						      reason));
		return;
	}
	fprintf(ctx->cli->out, "damaged: job %lld, %s document %s: %s\n", (long long)job_id,
		role, file_id, reason);
}

static int spool_check(pp_cli_t *cli)
{
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	spool_check_ctx_t ctx = {.cli = cli, .damaged = cli->as_json ? json_array() : NULL};
	if (cli->as_json && ctx.damaged == NULL) {
		cli_error(cli, "out of memory");
		return CLI_EXIT_FAILED;
	}
	pp_doc_check_t stats;
	char error[512];
	if (doc_check_all(&cli->rt.core, spool_report_damaged, &ctx, &stats, error,
			  sizeof(error)) < 0) {
		json_decref(ctx.damaged);
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	rc = stats.damaged > 0 ? CLI_EXIT_FAILED : CLI_EXIT_OK;
	if (cli->as_json) {
		json_t *obj = json_pack("{s:I, s:I, s:I, s:I, s:o}", "documents",
					(json_int_t)stats.documents, "in_database",
					(json_int_t)stats.in_database, "files",
					(json_int_t)(stats.documents - stats.in_database), "bytes",
					(json_int_t)stats.bytes, "damaged", ctx.damaged);
		return cli_print_json(cli, obj) ? rc : CLI_EXIT_FAILED;
	}
	fprintf(cli->out, "%llu documents (%llu kept in the database, %llu files), %llu bytes "
			  "read back: %s\n",
		(unsigned long long)stats.documents, (unsigned long long)stats.in_database,
		(unsigned long long)(stats.documents - stats.in_database),
		(unsigned long long)stats.bytes,
		stats.damaged == 0 ? "all intact" : "some are damaged (listed above)");
	if (stats.damaged > 0)
		fprintf(cli->out, "%llu damaged: delete those jobs (pullprint jobs delete ID) and "
				  "ask their owners to send the documents again\n",
			(unsigned long long)stats.damaged);
	return rc;
}

int cli_spool(pp_cli_t *cli, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return spool_check(cli);
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return spool_usage(cli, cli->out);
	return spool_usage(cli, cli->err);
}
