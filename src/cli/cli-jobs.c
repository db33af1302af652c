/*
 * cli-jobs.c - `pullprint jobs`: every user's jobs, their states, and the admin's actions on
 * them (release to a printer, cancel, delete, reprint a finished job as a new job, submit a
 * document on a user's behalf).
 *
 * Releasing here only moves the job to releasing (job_release()); pullprintd's delivery
 * manager sends it within a second and records what happened, which `jobs show` displays.
 */
#include "cli/cli.h"

#include "cli/table.h"
#include "core/job-reprint.h"
#include "core/job.h"
#include "core/printers.h"
#include "core/users.h"
#include "lib/str.h"
#include "output/status.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int jobs_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint jobs [list] [--user EMAIL] [--state STATE[,STATE…]] [--limit N]\n"
		"       pullprint jobs show JOB-ID       state, reason and printer\n"
		"       pullprint jobs release JOB-ID --printer NAME-OR-ALIAS [--options JSON] [--check]\n"
		"                                        send a held job to a printer; --check refuses\n"
		"                                        when the printer is offline or jammed\n"
		"       pullprint jobs cancel JOB-ID      a held or waiting job; the user sees it canceled\n"
		"       pullprint jobs delete JOB-ID      the job and its documents, at once\n"
		"       pullprint jobs reprint JOB-ID --printer NAME-OR-ALIAS\n"
		"                                        print a completed job again as a new job\n"
		"                                        (needs jobs.printed_policy = keep)\n"
		"       pullprint jobs submit --user EMAIL FILE [--title TEXT] [--options JSON]\n"
		"  STATE: incoming, received, converting, held, releasing, printing, completed, failed,\n"
		"         rejected, canceled, expired\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* Parses "held,printing" into a JOB_STATE_BIT set. */
static bool jobs_parse_states(const char *text, uint32_t *states_r)
{
	char buf[256];
	if (!str_copy(buf, sizeof(buf), text))
		return false;
	uint32_t states = 0;
	char *save = NULL;
	for (char *word = strtok_r(buf, ",", &save); word != NULL;
	     word = strtok_r(NULL, ",", &save)) {
		pp_job_state_t state;
		if (!job_state_parse(str_trim(word), &state))
			return false;
		states |= JOB_STATE_BIT(state);
	}
	*states_r = states;
	return states != 0;
}

static int jobs_print(pp_cli_t *cli, const pp_job_t *jobs, size_t count)
{
	static const char *const columns[] = {"id",     "user",  "state", "reason",  "title",
					      "source", "pages", "pin",   "printer", "created"};
	pp_table_t *table = table_new(columns, 10);
	if (table == NULL)
		return CLI_EXIT_FAILED;
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < count && rc == CLI_EXIT_OK; i++) {
		char id[24], pages[24], created[32], error[256];
		pp_user_t user;
		bool found = false;
		if (users_get_by_id(&cli->rt.core, jobs[i].user_id, &user, &found, error,
				    sizeof(error)) < 0 ||
		    !found)
			(void)str_copy(user.email, sizeof(user.email), "?");
		(void)str_format(id, sizeof(id), "%lld", (long long)jobs[i].id);
		if (jobs[i].pages < 0)
			pages[0] = '\0';
		else
			(void)str_format(pages, sizeof(pages), "%lld", (long long)jobs[i].pages);
		cli_format_time(jobs[i].created_at, created);
		pp_printer_t *printer = calloc(1, sizeof(*printer));
		if (printer != NULL &&
		    (jobs[i].printer_id <= 0 ||
		     printers_get(&cli->rt.core, jobs[i].printer_id, printer, error,
				  sizeof(error)) != 0))
			printer->name[0] = '\0';
		const char *cells[] = {id,
				       user.email,
				       job_state_name(jobs[i].state),
				       jobs[i].state_reason,
				       jobs[i].title,
				       jobs[i].source,
				       pages,
				       jobs[i].has_pin ? "yes" : "no",
				       printer != NULL ? printer->name : "",
				       created};
		if (table_add_row(table, cells) < 0)
			rc = CLI_EXIT_FAILED;
		free(printer);
	}
	rc = cli_table_finish(cli, &table, rc);
	return rc;
}

static int jobs_cmd_list(pp_cli_t *cli, int argc, char **argv)
{
	const char *email = NULL;
	uint32_t states = 0;
	uint64_t limit = 100;
	static const struct option options[] = {{"user", required_argument, NULL, 'u'},
						{"state", required_argument, NULL, 's'},
						{"limit", required_argument, NULL, 'n'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'u') {
			email = optarg;
		} else if (opt == 's') {
			if (!jobs_parse_states(optarg, &states)) {
				cli_error(cli, "jobs: unknown state in %s", optarg);
				return CLI_EXIT_USAGE;
			}
		} else if (opt == 'n') {
			if (!parse_uint64_full(optarg, JOB_LIST_MAX, &limit) || limit == 0) {
				cli_error(cli, "jobs: --limit takes 1 to %d", JOB_LIST_MAX);
				return CLI_EXIT_USAGE;
			}
		} else {
			return jobs_usage(cli, cli->err);
		}
	}
	if (optind != argc)
		return jobs_usage(cli, cli->err);
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;

	char error[512];
	pp_job_t *jobs = NULL;
	size_t count = 0;
	int64_t next = 0;
	int listed;
	if (email != NULL) {
		pp_user_t user;
		bool found = false;
		if (users_get_by_email(&cli->rt.core, email, &user, &found, error, sizeof(error)) <
		    0) {
			cli_error(cli, "%s", error);
			return CLI_EXIT_FAILED;
		}
		if (!found) {
			cli_error(cli, "no user %s", email);
			return CLI_EXIT_NOT_FOUND;
		}
		listed = job_list_for_user(&cli->rt.core, user.id, states, (size_t)limit, 0, &jobs,
					   &count, &next, error, sizeof(error));
	} else {
		listed = job_list(&cli->rt.core, states, (size_t)limit, 0, &jobs, &count, &next,
				  error, sizeof(error));
	}
	if (listed < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	rc = jobs_print(cli, jobs, count);
	job_list_free(&jobs);
	return rc;
}

/* Reads the job named by text (its number). Returns an exit code. */
static int jobs_find(pp_cli_t *cli, const char *text, pp_job_t *job_r)
{
	uint64_t id;
	if (!parse_uint64_full(text, INT64_MAX, &id)) {
		cli_error(cli, "jobs: %s is not a job id", text);
		return CLI_EXIT_USAGE;
	}
	char error[512];
	int rc = job_get(&cli->rt.core, (int64_t)id, job_r, error, sizeof(error));
	if (rc == JOB_NOT_FOUND) {
		cli_error(cli, "no job %s", text);
		return CLI_EXIT_NOT_FOUND;
	}
	if (rc < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

static int jobs_cmd_cancel(pp_cli_t *cli, const pp_job_t *job)
{
	char error[512], actor[128];
	if (!str_format(actor, sizeof(actor), "admin:%s", cli_actor()))
		(void)str_copy(actor, sizeof(actor), "admin:cli");
	pp_job_transition_t how = {.actor = actor, .reason = "canceled by an administrator"};
	int rc = job_transition(&cli->rt.core, job->id, job->state, PP_JOB_CANCELED, &how, error,
				sizeof(error));
	if (rc == JOB_STATE_FORBIDDEN || rc == JOB_STATE_LOST) {
		cli_error(cli, "job %lld is %s and cannot be canceled", (long long)job->id,
			  rc == JOB_STATE_LOST ? "changing state" : job_state_name(job->state));
		return CLI_EXIT_CONFLICT;
	}
	if (rc < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	cli_done(cli, "job canceled");
	return CLI_EXIT_OK;
}

static int jobs_cmd_delete(pp_cli_t *cli, const pp_job_t *job)
{
	char error[512];
	int rc = job_delete(&cli->rt.core, job->id, error, sizeof(error));
	if (rc == JOB_STATE_FORBIDDEN) {
		cli_error(cli, "job %lld is %s: cancel it first", (long long)job->id,
			  job_state_name(job->state));
		return CLI_EXIT_CONFLICT;
	}
	if (rc == JOB_NOT_FOUND) {
		cli_error(cli, "no job %lld", (long long)job->id);
		return CLI_EXIT_NOT_FOUND;
	}
	if (rc < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	cli_done(cli, "job deleted");
	return CLI_EXIT_OK;
}

/*
 * `jobs release JOB-ID --printer NAME-OR-ALIAS [--options JSON] [--check]`: held -> releasing
 * with the printer, after telling what the printer's status says (and with --check, refusing
 * when it says anything).
 */
static int jobs_cmd_release(pp_cli_t *cli, int argc, char **argv)
{
	const char *printer_word = NULL;
	const char *options_text = NULL;
	bool is_check = false;
	static const struct option options[] = {{"printer", required_argument, NULL, 'p'},
						{"options", required_argument, NULL, 'o'},
						{"check", no_argument, NULL, 'c'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'p')
			printer_word = optarg;
		else if (opt == 'o')
			options_text = optarg;
		else if (opt == 'c')
			is_check = true;
		else
			return jobs_usage(cli, cli->err);
	}
	if (optind != argc - 1 || printer_word == NULL) {
		cli_error(cli, "jobs release: give one JOB-ID and --printer NAME-OR-ALIAS");
		return CLI_EXIT_USAGE;
	}
	char error[512];
	pp_print_options_t *opts = NULL;
	pp_print_options_t parsed;
	if (options_text != NULL) {
		if (options_from_json(options_text, &parsed, error, sizeof(error)) < 0 ||
		    options_validate(&parsed, error, sizeof(error)) < 0) {
			cli_error(cli, "jobs release: --options: %s", error);
			return CLI_EXIT_USAGE;
		}
		opts = &parsed;
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_job_t job;
	rc = jobs_find(cli, argv[optind], &job);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	if (printer == NULL) {
		cli_error(cli, "out of memory");
		return CLI_EXIT_FAILED;
	}
	int found = printers_find(&cli->rt.core, printer_word, printer, error, sizeof(error));
	if (found != 0) {
		free(printer);
		if (found == PRINTERS_NOT_FOUND) {
			cli_error(cli, "no printer named %s; see: pullprint printers list",
				  printer_word);
			return CLI_EXIT_NOT_FOUND;
		}
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	/* The cached status (refreshed when old): a warning, not a refusal, unless --check. */
	char warning[256];
	if (status_check_before_release(&cli->rt.core, printer, warning, sizeof(warning))) {
		if (is_check) {
			cli_error(cli, "printer %s is %s: not released (drop --check to release "
				  "anyway)", printer->name, warning);
			free(printer);
			return CLI_EXIT_CONFLICT;
		}
		fprintf(cli->err, "warning: printer %s is %s; releasing anyway\n", printer->name,
			warning);
	}
	char actor[128];
	if (!str_format(actor, sizeof(actor), "admin:%s", cli_actor()))
		(void)str_copy(actor, sizeof(actor), "admin:cli");
	int released = job_release(&cli->rt.core, job.id, printer->id, opts, actor, error,
				   sizeof(error));
	if (released == JOB_STATE_LOST || released == JOB_STATE_FORBIDDEN) {
		cli_error(cli, "job %lld is %s: only a held job can be released", (long long)job.id,
			  released == JOB_STATE_LOST ? "no longer held"
						     : job_state_name(job.state));
		free(printer);
		return CLI_EXIT_CONFLICT;
	}
	if (released < 0) {
		cli_error(cli, "jobs release: %s", error);
		free(printer);
		return CLI_EXIT_FAILED;
	}
	char done[512];
	if (!str_format(done, sizeof(done),
			"job %lld released to %s; the server sends it now (follow it with: "
			"pullprint jobs show %lld)",
			(long long)job.id, printer->name, (long long)job.id))
		(void)str_copy(done, sizeof(done), "job released");
	free(printer);
	cli_done(cli, done);
	return CLI_EXIT_OK;
}

/*
 * `jobs reprint JOB-ID --printer NAME-OR-ALIAS`: a completed job printed again as a new job
 * from the documents it kept (job_reprint()); the old job stays completed.
 */
static int jobs_cmd_reprint(pp_cli_t *cli, int argc, char **argv)
{
	const char *printer_word = NULL;
	static const struct option options[] = {{"printer", required_argument, NULL, 'p'},
						{NULL, 0, NULL, 0}};
	optind = 1;
	for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
		if (opt == 'p')
			printer_word = optarg;
		else
			return jobs_usage(cli, cli->err);
	}
	if (optind != argc - 1 || printer_word == NULL) {
		cli_error(cli, "jobs reprint: give one JOB-ID and --printer NAME-OR-ALIAS");
		return CLI_EXIT_USAGE;
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_job_t job;
	rc = jobs_find(cli, argv[optind], &job);
	if (rc != CLI_EXIT_OK)
		return rc;
	char error[512];
	pp_printer_t *printer = calloc(1, sizeof(*printer));
	if (printer == NULL) {
		cli_error(cli, "out of memory");
		return CLI_EXIT_FAILED;
	}
	int found = printers_find(&cli->rt.core, printer_word, printer, error, sizeof(error));
	int64_t printer_id = printer->id;
	char printer_name[PRINTERS_NAME_MAX];
	(void)str_copy(printer_name, sizeof(printer_name), printer->name);
	free(printer);
	if (found == PRINTERS_NOT_FOUND) {
		cli_error(cli, "no printer named %s; see: pullprint printers list", printer_word);
		return CLI_EXIT_NOT_FOUND;
	}
	if (found != 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	char actor[128];
	if (!str_format(actor, sizeof(actor), "admin:%s", cli_actor()))
		(void)str_copy(actor, sizeof(actor), "admin:cli");
	pp_job_t created;
	int result = job_reprint(&cli->rt.core, job.id, printer_id, actor, &created, error,
				 sizeof(error));
	if (result == JOB_REPRINT_GONE) {
		cli_error(cli,
			  "job %lld: its documents are gone; printed jobs keep them only with "
			  "jobs.printed_policy = keep (pullprint settings set jobs.printed_policy "
			  "keep), for jobs.printed_keep_hours",
			  (long long)job.id);
		return CLI_EXIT_CONFLICT;
	}
	if (result == JOB_STATE_FORBIDDEN) {
		cli_error(cli, "job %lld is %s: only a completed job is reprinted; release a held "
			  "job with: pullprint jobs release",
			  (long long)job.id, job_state_name(job.state));
		return CLI_EXIT_CONFLICT;
	}
	if (result == JOB_REPRINT_NO_PRINTER) {
		cli_error(cli, "printer %s is disabled; enable it or choose another", printer_name);
		return CLI_EXIT_CONFLICT;
	}
	if (result < 0) {
		cli_error(cli, "jobs reprint: %s", error);
		return CLI_EXIT_FAILED;
	}
	char done[512];
	if (!str_format(done, sizeof(done),
			"job %lld reprinted as job %lld to %s; the server sends it now (follow it "
			"with: pullprint jobs show %lld)",
			(long long)job.id, (long long)created.id, printer_name,
			(long long)created.id))
		(void)str_copy(done, sizeof(done), "job reprinted");
	cli_done(cli, done);
	return CLI_EXIT_OK;
}

int cli_jobs(pp_cli_t *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return jobs_usage(cli, cli->out);
	if (argc < 2 || argv[1][0] == '-')
		return jobs_cmd_list(cli, argc, argv);
	const char *verb = argv[1];
	if (strcmp(verb, "list") == 0)
		return jobs_cmd_list(cli, argc - 1, argv + 1);
	if (strcmp(verb, "submit") == 0)
		return cli_jobs_submit(cli, argc - 1, argv + 1);
	if (strcmp(verb, "release") == 0)
		return jobs_cmd_release(cli, argc - 1, argv + 1);
	if (strcmp(verb, "reprint") == 0)
		return jobs_cmd_reprint(cli, argc - 1, argv + 1);
	if (argc != 3)
		return jobs_usage(cli, cli->err);

	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	pp_job_t job;
	rc = jobs_find(cli, argv[2], &job);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (strcmp(verb, "show") == 0)
		return jobs_print(cli, &job, 1);
	if (strcmp(verb, "cancel") == 0)
		return jobs_cmd_cancel(cli, &job);
	if (strcmp(verb, "delete") == 0)
		return jobs_cmd_delete(cli, &job);
	return jobs_usage(cli, cli->err);
}
