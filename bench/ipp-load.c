/*
 * ipp-load.c - a small IPP load generator on libcups, run by bench/ipp_submit.
 *
 * N client threads submit one document per job to a printer URI (ipp:// or ipps://, with an
 * optional user:password sent as HTTP Basic on every request) for D seconds or until M jobs
 * are done, whichever comes first:
 *
 *   - keep-alive:     one connection per thread, reused for every request (what CUPS, macOS
 *                     and iOS do);
 *   - new-connection: a fresh connection (and TLS handshake for ipps) per job.
 *
 * A job is Print-Job with the document, or with --create-job a Create-Job followed by a
 * Send-Document (last-document=true) on the same connection. The document is held in memory
 * when small and streamed from disk in 256 KiB pieces when large (the 1 GB RSS figure).
 * Every job's latency (connect included in new-connection mode) is recorded; a job counts as
 * done when the printer answers with a successful IPP status. server-error-busy (what
 * ippeveprinter answers while it processes the job before) is not an error: the job is sent
 * again after 1 ms, as clients do, and the wait counts in its latency. At the end one line
 * goes to standard output, key=value fields that bench/ipp_submit parses:
 *
 *   ipp_load mode=keep-alive op=print-job clients=8 jobs=… seconds=… jobs_per_s=… p50_ms=…
 *            p99_ms=… max_ms=… errors=… busy=… bytes=… mb_s=…
 *
 * and the first error seen, if any, on standard error. Exit status: 0 when every job
 * succeeded, 1 when any failed, 2 on a usage error.
 */
#include <cups/cups.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"

#define LOAD_MAX_CLIENTS 256
#define LOAD_MEMORY_DOC_MAX (8u << 20)  /* larger documents are streamed from disk */
#define LOAD_CHUNK_BYTES (256u << 10)
#define LOAD_MAX_SAMPLES_PER_CLIENT (16u << 20)
#define LOAD_ERROR_MAX 512
#define LOAD_URI_MAX 1024
#define LOAD_AUTH_MAX 1024
#define LOAD_BUSY (-2) /* the printer answered server-error-busy: try the job again */
#define LOAD_BUSY_RETRY_US 1000

/* What every client does: read-only once the threads start, except the claimed counter. */
typedef struct load_plan {
	char printer_uri[LOAD_URI_MAX]; /* the URI without user:password */
	char host[256];
	char resource[LOAD_URI_MAX];
	int port;
	http_encryption_t encryption;
	char basic[LOAD_AUTH_MAX]; /* base64 "user:password"; "" = no Authorization */
	const char *user_name;     /* requesting-user-name; NULL = none sent */
	const char *format;        /* document-format */
	const char *path;          /* the document */
	uint64_t doc_size;
	unsigned char *doc;        /* the whole document when <= LOAD_MEMORY_DOC_MAX, else NULL */
	bool new_connection;
	bool create_job;
	unsigned clients;
	double seconds;            /* 0 = no time limit */
	uint64_t max_jobs;         /* 0 = no job limit */
	int timeout_ms;
	double deadline;           /* monotonic seconds; set just before the threads start */
	atomic_uint_fast64_t claimed; /* jobs handed out so far (for max_jobs) */
} load_plan_t;

/* One client thread's results; owned by main, written only by that thread until it ends. */
typedef struct load_client {
	load_plan_t *plan; /* borrowed */
	double *latencies_ms;
	size_t count, cap;
	uint64_t errors;
	uint64_t busy; /* server-error-busy answers, retried after LOAD_BUSY_RETRY_US */
	uint64_t bytes;
	double first_error_at; /* monotonic seconds; 0 = none */
	char first_error[LOAD_ERROR_MAX];
	int dropped_samples;
} load_client_t;

/* Monotonic clock in seconds. */
static double load_now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0.0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Refuses any password prompt: a 401 must count as an error, never wait on a terminal. */
static const char *load_no_password(const char *prompt, http_t *http, const char *method,
				    const char *resource, void *user_data)
{
	(void)prompt;
	(void)http;
	(void)method;
	(void)resource;
	(void)user_data;
	return NULL;
}

/* Records the client's first error (later ones are only counted). */
static void load_error(load_client_t *c, const char *what, const char *detail)
{
	c->errors++;
	if (c->first_error_at != 0.0)
		return;
	c->first_error_at = load_now();
	if (!str_format(c->first_error, sizeof(c->first_error), "%s: %s", what,
			detail ? detail : "(no detail)"))
		str_copy(c->first_error, sizeof(c->first_error), what);
}

/* Appends one latency; past the per-client cap samples are dropped (and counted). */
static void load_sample(load_client_t *c, double ms)
{
	if (c->count == c->cap) {
		if (c->cap >= LOAD_MAX_SAMPLES_PER_CLIENT) {
			c->dropped_samples = 1;
			return;
		}
		size_t cap = c->cap ? c->cap * 2 : 4096;
		double *grown = realloc(c->latencies_ms, cap * sizeof(*grown));
		if (grown == NULL) {
			c->dropped_samples = 1;
			return;
		}
		c->latencies_ms = grown;
		c->cap = cap;
	}
	c->latencies_ms[c->count++] = ms;
}

/* A new connection to the plan's printer with Basic credentials set; NULL on failure. */
static http_t *load_connect(load_client_t *c)
{
	const load_plan_t *p = c->plan;
	http_t *http = httpConnect2(p->host, p->port, NULL, AF_UNSPEC, p->encryption, 1,
				    p->timeout_ms, NULL);
	if (http == NULL) {
		/* libcups keeps no exact cause here (errno is clobbered by its cleanup) */
		char detail[LOAD_ERROR_MAX];
		if (!str_format(detail, sizeof(detail),
				"cannot connect to %s:%d — is the printer running? (libcups: %s)",
				p->host, p->port, cupsLastErrorString()))
			detail[0] = '\0';
		load_error(c, "connect", detail);
		return NULL;
	}
	httpSetTimeout(http, p->timeout_ms / 1000.0, NULL, NULL);
	if (p->basic[0] != '\0')
		httpSetAuthString(http, "Basic", p->basic);
	return http;
}

/* A request for op with the operation attributes every job carries; NULL on failure. */
static ipp_t *load_request(load_client_t *c, ipp_op_t op)
{
	const load_plan_t *p = c->plan;
	ipp_t *req = ippNewRequest(op);
	if (req == NULL) {
		load_error(c, "ippNewRequest", "out of memory");
		return NULL;
	}
	bool ok = ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL,
			       p->printer_uri) != NULL;
	if (ok && p->user_name != NULL)
		ok = ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name",
				  NULL, p->user_name) != NULL;
	if (ok && op != IPP_OP_SEND_DOCUMENT)
		ok = ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL,
				  "ipp-load") != NULL;
	if (ok && op != IPP_OP_CREATE_JOB)
		ok = ippAddString(req, IPP_TAG_OPERATION, IPP_CONST_TAG(IPP_TAG_MIMETYPE),
				  "document-format", NULL, p->format) != NULL;
	if (!ok) {
		load_error(c, "ippAddString", "out of memory");
		ippDelete(req);
		return NULL;
	}
	return req;
}

/* Writes the document after a request header; returns the HTTP status of the last write. */
static http_status_t load_write_document(load_client_t *c, http_t *http)
{
	const load_plan_t *p = c->plan;
	if (p->doc != NULL) {
		http_status_t st = cupsWriteRequestData(http, (const char *)p->doc,
							(size_t)p->doc_size);
		if (st == HTTP_STATUS_CONTINUE)
			c->bytes += p->doc_size;
		return st;
	}
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		load_error(c, p->path, strerror(errno));
		return HTTP_STATUS_ERROR;
	}
	unsigned char *buf = malloc(LOAD_CHUNK_BYTES);
	http_status_t st = HTTP_STATUS_CONTINUE;
	uint64_t left = p->doc_size;
	if (buf == NULL) {
		load_error(c, "malloc", "out of memory");
		st = HTTP_STATUS_ERROR;
	}
	while (st == HTTP_STATUS_CONTINUE && left > 0) {
		size_t want = left < LOAD_CHUNK_BYTES ? (size_t)left : LOAD_CHUNK_BYTES;
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			load_error(c, p->path, n < 0 ? strerror(errno) : "file shrank while sent");
			st = HTTP_STATUS_ERROR;
			break;
		}
		st = cupsWriteRequestData(http, (const char *)buf, (size_t)n);
		if (st == HTTP_STATUS_CONTINUE) {
			left -= (uint64_t)n;
			c->bytes += (uint64_t)n;
		}
	}
	free(buf);
	if (close(fd) != 0) {
		load_error(c, "close", strerror(errno));
		st = HTTP_STATUS_ERROR;
	}
	return st;
}

/*
 * Sends req (and the document when with_document) on http and reads the response.
 * Returns the job-id (> 0), 0 for a success without one, LOAD_BUSY when the printer said
 * server-error-busy (counted, not an error: clients retry), or -1 after load_error().
 */
static int load_exchange(load_client_t *c, http_t *http, ipp_t *req, bool with_document)
{
	const load_plan_t *p = c->plan;
	size_t length = ippLength(req) + (with_document ? (size_t)p->doc_size : 0);
	http_status_t st = cupsSendRequest(http, req, p->resource, length);
	if (st == HTTP_STATUS_CONTINUE && with_document)
		st = load_write_document(c, http);
	if (st != HTTP_STATUS_CONTINUE && st != HTTP_STATUS_OK) {
		char detail[LOAD_ERROR_MAX];
		if (!str_format(detail, sizeof(detail), "HTTP %d %s (%s)", (int)st, httpStatus(st),
				cupsLastErrorString()))
			detail[0] = '\0';
		load_error(c, "send request", detail);
		return -1;
	}
	ipp_t *resp = cupsGetResponse(http, p->resource);
	if (resp == NULL) {
		load_error(c, "read response", cupsLastErrorString());
		return -1;
	}
	ipp_status_t status = ippGetStatusCode(resp);
	int job_id = 0;
	if (status == IPP_STATUS_ERROR_BUSY) {
		c->busy++;
		job_id = LOAD_BUSY;
	} else if (status > IPP_STATUS_OK_EVENTS_COMPLETE) {
		ipp_attribute_t *msg = ippFindAttribute(resp, "status-message", IPP_TAG_TEXT);
		char detail[LOAD_ERROR_MAX];
		if (!str_format(detail, sizeof(detail), "%s%s%s", ippErrorString(status),
				msg ? ": " : "", msg ? ippGetString(msg, 0, NULL) : ""))
			str_copy(detail, sizeof(detail), ippErrorString(status));
		load_error(c, ippOpString(ippGetOperation(req)), detail);
		job_id = -1;
	} else {
		ipp_attribute_t *id = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER);
		job_id = id ? ippGetInteger(id, 0) : 0;
	}
	ippDelete(resp);
	return job_id;
}

/*
 * One job on http: Print-Job, or Create-Job + Send-Document. Returns 0, LOAD_BUSY (Print-Job
 * or Create-Job refused as busy; nothing was made) or -1.
 */
static int load_job(load_client_t *c, http_t *http)
{
	const load_plan_t *p = c->plan;
	if (!p->create_job) {
		ipp_t *req = load_request(c, IPP_OP_PRINT_JOB);
		if (req == NULL)
			return -1;
		int rc = load_exchange(c, http, req, true);
		ippDelete(req);
		return rc == LOAD_BUSY ? LOAD_BUSY : rc < 0 ? -1 : 0;
	}
	ipp_t *create = load_request(c, IPP_OP_CREATE_JOB);
	if (create == NULL)
		return -1;
	int job_id = load_exchange(c, http, create, false);
	ippDelete(create);
	if (job_id == LOAD_BUSY)
		return LOAD_BUSY;
	if (job_id < 0)
		return -1;
	if (job_id == 0) {
		load_error(c, "Create-Job", "the response has no job-id");
		return -1;
	}
	ipp_t *send = load_request(c, IPP_OP_SEND_DOCUMENT);
	if (send == NULL)
		return -1;
	if (ippAddInteger(send, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id) == NULL ||
	    ippAddBoolean(send, IPP_TAG_OPERATION, "last-document", 1) == NULL) {
		load_error(c, "ippAddInteger", "out of memory");
		ippDelete(send);
		return -1;
	}
	int rc = load_exchange(c, http, send, true);
	ippDelete(send);
	return rc < 0 ? -1 : 0;
}

/* True while this client should start another job (claims it when max_jobs is set). */
static bool load_more(load_plan_t *p)
{
	if (p->seconds > 0 && load_now() >= p->deadline)
		return false;
	if (p->max_jobs == 0)
		return true;
	return atomic_fetch_add(&p->claimed, 1) < p->max_jobs;
}

/* Thread body: jobs until the plan says stop. */
static void *load_client_run(void *arg)
{
	load_client_t *c = arg;
	load_plan_t *p = c->plan;
	cupsSetPasswordCB2(load_no_password, NULL); /* per thread in libcups */
	http_t *http = NULL;
	while (load_more(p)) {
		double t0 = load_now();
		if (http == NULL && (http = load_connect(c)) == NULL) {
			usleep(10000); /* a refused connect must not spin */
			continue;
		}
		int rc = load_job(c, http);
		while (rc == LOAD_BUSY && !(p->seconds > 0 && load_now() >= p->deadline)) {
			usleep(LOAD_BUSY_RETRY_US);
			rc = load_job(c, http);
		}
		if (rc == LOAD_BUSY) /* the run ended while the printer was busy */
			break;
		if (rc == 0)
			load_sample(c, (load_now() - t0) * 1000.0);
		if (rc != 0 || p->new_connection) {
			httpClose(http); /* a failed exchange leaves the connection in doubt */
			http = NULL;
		}
	}
	httpClose(http);
	return NULL;
}

/* qsort() order for latencies: ascending. */
static int load_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile (per_mille / 1000) of sorted[n]; 0 when n == 0. */
static double load_percentile(const double *sorted, size_t n, unsigned per_mille)
{
	if (n == 0)
		return 0.0;
	size_t rank = (n * per_mille + 999) / 1000;
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/* Splits the URI into the plan; reads the document or checks it can be streamed. */
static int load_plan_init(load_plan_t *p, const char *uri)
{
	char scheme[32], userpass[512];
	http_uri_status_t us = httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, sizeof(scheme),
					       userpass, sizeof(userpass), p->host,
					       sizeof(p->host), &p->port, p->resource,
					       sizeof(p->resource));
	if (us < HTTP_URI_STATUS_OK) {
		fprintf(stderr, "ipp-load: %s: %s — give ipp://HOST:PORT/PATH or "
			"ipps://USER:PASSWORD@HOST:PORT/PATH\n", uri, httpURIStatusString(us));
		return -1;
	}
	if (strcmp(scheme, "ipps") == 0 || strcmp(scheme, "https") == 0) {
		p->encryption = HTTP_ENCRYPTION_ALWAYS;
	} else if (strcmp(scheme, "ipp") == 0 || strcmp(scheme, "http") == 0) {
		p->encryption = HTTP_ENCRYPTION_IF_REQUESTED;
	} else {
		fprintf(stderr, "ipp-load: %s: scheme must be ipp or ipps\n", uri);
		return -1;
	}
	if (httpAssembleURI(HTTP_URI_CODING_ALL, p->printer_uri, sizeof(p->printer_uri),
			    strcmp(scheme, "https") == 0 ? "ipps" :
			    strcmp(scheme, "http") == 0 ? "ipp" : scheme,
			    NULL, p->host, p->port, p->resource) < HTTP_URI_STATUS_OK) {
		fprintf(stderr, "ipp-load: %s: cannot rebuild the printer URI\n", uri);
		return -1;
	}
	if (userpass[0] != '\0') {
		if (strchr(userpass, ':') == NULL) {
			fprintf(stderr, "ipp-load: %s: give USER:PASSWORD before @\n", uri);
			return -1;
		}
		if (httpEncode64_2(p->basic, (int)sizeof(p->basic), userpass,
				   (int)strlen(userpass)) == NULL) {
			fprintf(stderr, "ipp-load: credentials too long\n");
			return -1;
		}
		memset(userpass, 0, sizeof(userpass));
	}

	int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ipp-load: open(%s): %s\n", p->path, strerror(errno));
		return -1;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0) {
		fprintf(stderr, "ipp-load: fstat(%s): %s\n", p->path, strerror(errno));
		rc = -1;
	} else {
		p->doc_size = (uint64_t)st.st_size;
	}
	if (rc == 0 && p->doc_size <= LOAD_MEMORY_DOC_MAX) {
		p->doc = malloc(p->doc_size ? (size_t)p->doc_size : 1);
		size_t got = 0;
		while (p->doc != NULL && got < p->doc_size) {
			ssize_t n = read(fd, p->doc + got, (size_t)p->doc_size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				fprintf(stderr, "ipp-load: read(%s): %s\n", p->path,
					n < 0 ? strerror(errno) : "short file");
				rc = -1;
				break;
			}
			got += (size_t)n;
		}
		if (p->doc == NULL) {
			fprintf(stderr, "ipp-load: out of memory\n");
			rc = -1;
		}
	}
	if (close(fd) != 0) {
		fprintf(stderr, "ipp-load: close(%s): %s\n", p->path, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* The command line's synopsis. */
static void load_usage(FILE *out)
{
	fprintf(out,
		"usage: ipp-load --uri URI --file DOCUMENT [--format MIME] [--clients N]\n"
		"                [--seconds D] [--jobs M] [--new-connection] [--create-job]\n"
		"                [--user REQUESTING-USER-NAME] [--timeout-ms MS]\n"
		"  URI: ipp://HOST:PORT/PATH or ipps://[USER:PASSWORD@]HOST:PORT/PATH (Basic auth;\n"
		"       percent-encode @ in USER as %%40). Give --seconds, --jobs or both.\n");
}

/* Parses a whole unsigned decimal option within [min, max]; prints what is wrong. */
static bool load_opt_uint(const char *name, const char *s, uint64_t min, uint64_t max,
			  uint64_t *value_r)
{
	if (!parse_uint64_full(s, max, value_r) || *value_r < min) {
		fprintf(stderr, "ipp-load: --%s: give a whole number from %llu to %llu\n", name,
			(unsigned long long)min, (unsigned long long)max);
		return false;
	}
	return true;
}

/* Fills plan from the command line; returns 0, 1 after --help, or 2 on a usage error. */
static int load_parse_args(load_plan_t *plan, int argc, char **argv)
{
	static const struct option options[] = {
		{"uri", required_argument, NULL, 'u'},
		{"file", required_argument, NULL, 'f'},
		{"format", required_argument, NULL, 'F'},
		{"clients", required_argument, NULL, 'c'},
		{"seconds", required_argument, NULL, 's'},
		{"jobs", required_argument, NULL, 'j'},
		{"new-connection", no_argument, NULL, 'n'},
		{"create-job", no_argument, NULL, 'C'},
		{"user", required_argument, NULL, 'U'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *uri = NULL;
	uint64_t v;
	plan->format = "application/pdf";
	plan->clients = 1;
	plan->timeout_ms = 30000;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'u': uri = optarg; break;
		case 'f': plan->path = optarg; break;
		case 'F': plan->format = optarg; break;
		case 'U': plan->user_name = optarg; break;
		case 'n': plan->new_connection = true; break;
		case 'C': plan->create_job = true; break;
		case 'c':
			if (!load_opt_uint("clients", optarg, 1, LOAD_MAX_CLIENTS, &v))
				return 2;
			plan->clients = (unsigned)v;
			break;
		case 's':
			if (!load_opt_uint("seconds", optarg, 1, 86400, &v))
				return 2;
			plan->seconds = (double)v;
			break;
		case 'j':
			if (!load_opt_uint("jobs", optarg, 1, UINT64_MAX / 2, &v))
				return 2;
			plan->max_jobs = v;
			break;
		case 't':
			if (!load_opt_uint("timeout-ms", optarg, 100, 3600000, &v))
				return 2;
			plan->timeout_ms = (int)v;
			break;
		case 'h': load_usage(stdout); return 1;
		default: load_usage(stderr); return 2;
		}
	}
	if (uri == NULL || plan->path == NULL || optind != argc ||
	    (plan->seconds == 0 && plan->max_jobs == 0)) {
		load_usage(stderr);
		return 2;
	}
	return load_plan_init(plan, uri) == 0 ? 0 : 2;
}

/* Runs the clients, then prints the one result line (see the file comment). */
int main(int argc, char **argv)
{
	load_plan_t *plan = calloc(1, sizeof(*plan));
	if (plan == NULL) {
		fprintf(stderr, "ipp-load: out of memory\n");
		return 2;
	}
	int parsed = load_parse_args(plan, argc, argv);
	if (parsed != 0) {
		free(plan->doc);
		free(plan);
		return parsed == 1 ? 0 : 2;
	}

	load_client_t *clients = calloc(plan->clients, sizeof(*clients));
	pthread_t *threads = calloc(plan->clients, sizeof(*threads));
	if (clients == NULL || threads == NULL) {
		fprintf(stderr, "ipp-load: out of memory\n");
		free(clients);
		free(threads);
		free(plan->doc);
		free(plan);
		return 2;
	}
	double start = load_now();
	plan->deadline = start + plan->seconds;
	unsigned started = 0;
	for (unsigned i = 0; i < plan->clients; i++) {
		clients[i].plan = plan;
		int err = pthread_create(&threads[i], NULL, load_client_run, &clients[i]);
		if (err != 0) {
			fprintf(stderr, "ipp-load: pthread_create: %s\n", strerror(err));
			break;
		}
		started++;
	}
	for (unsigned i = 0; i < started; i++) {
		int err = pthread_join(threads[i], NULL);
		if (err != 0)
			fprintf(stderr, "ipp-load: pthread_join: %s\n", strerror(err));
	}
	double elapsed = load_now() - start;

	size_t total = 0;
	uint64_t errors = 0, bytes = 0, busy = 0;
	const load_client_t *first = NULL;
	bool dropped = false;
	for (unsigned i = 0; i < started; i++) {
		total += clients[i].count;
		errors += clients[i].errors;
		busy += clients[i].busy;
		bytes += clients[i].bytes;
		dropped = dropped || clients[i].dropped_samples;
		if (clients[i].first_error_at != 0.0 &&
		    (first == NULL || clients[i].first_error_at < first->first_error_at))
			first = &clients[i];
	}
	size_t jobs = total;
	double *all = malloc((total ? total : 1) * sizeof(*all));
	if (all == NULL) {
		fprintf(stderr, "ipp-load: out of memory: percentiles left out\n");
		total = 0;
	}
	size_t pos = 0;
	for (unsigned i = 0; i < started; i++) {
		if (all != NULL && clients[i].count > 0)
			memcpy(all + pos, clients[i].latencies_ms,
			       clients[i].count * sizeof(*all));
		pos += clients[i].count;
		free(clients[i].latencies_ms);
	}
	if (all != NULL)
		qsort(all, total, sizeof(*all), load_cmp_double);
	printf("ipp_load mode=%s op=%s clients=%u jobs=%zu seconds=%.2f jobs_per_s=%.1f "
	       "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%llu busy=%llu bytes=%llu mb_s=%.1f\n",
	       plan->new_connection ? "new-connection" : "keep-alive",
	       plan->create_job ? "create-job" : "print-job", started, jobs, elapsed,
	       elapsed > 0 ? (double)jobs / elapsed : 0.0, load_percentile(all, total, 500),
	       load_percentile(all, total, 990), total ? all[total - 1] : 0.0,
	       (unsigned long long)errors, (unsigned long long)busy, (unsigned long long)bytes,
	       elapsed > 0 ? (double)bytes / 1e6 / elapsed : 0.0);
	if (fflush(stdout) != 0)
		fprintf(stderr, "ipp-load: cannot write the result: %s\n", strerror(errno));
	if (first != NULL)
		fprintf(stderr, "ipp-load: %llu errors; the first: %s\n",
			(unsigned long long)errors, first->first_error);
	if (dropped)
		fprintf(stderr, "ipp-load: more than %u jobs per client: later latencies not "
			"kept (percentiles cover the first ones)\n", LOAD_MAX_SAMPLES_PER_CLIENT);
	int status = errors == 0 && started == plan->clients ? 0 : 1;
	free(all);
	free(plan->doc);
	free(clients);
	free(threads);
	free(plan);
	return status;
}
