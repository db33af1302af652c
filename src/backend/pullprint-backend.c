/*
 * pullprint-backend.c - main() of the CUPS backend `pullprint` (installed as
 * <cups-config --serverbin>/backend/pullprint, mode 0700 so cupsd runs it as root: it reads
 * the root-only /etc/pullprint/backend.conf).
 *
 * Run without arguments it lists the device class for lpinfo. Run by cupsd for a job
 * (job-id user title copies options [file]) it connects to the server over TLS, checks the
 * certificate before anything secret is sent, asks Validate-Job so that a refusal (unknown
 * user, format) arrives before the document is streamed, then sends Print-Job with the
 * document streamed from the file or stdin in 64 KiB pieces. It talks to cupsd by lines on
 * stderr (INFO:, STATE:, ERROR:, DEBUG:) and by its exit code; it never prints the token.
 */
#include "backend/backend.h"

#include "lib/str.h"

#include <cups/backend.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKEND_CHUNK_BYTES (64 * 1024)
#define BACKEND_CONNECT_TIMEOUT_MS 30000

/* The document to send: a file cupsd named, or stdin (the output of a filter chain). */
typedef struct {
	int fd;
	bool is_sized;   /* a regular file: its size is known, so Content-Length is sent */
	off_t size_bytes;
} backend_doc_t;

/* The password callback: a backend has nobody to ask, so every prompt is declined. */
static const char *backend_no_password(const char *prompt, http_t *http, const char *method,
				       const char *resource, void *user_data)
{
	(void)prompt;
	(void)http;
	(void)method;
	(void)resource;
	(void)user_data;
	return NULL;
}

/* Explains the exit code for the answer in one ERROR or INFO line for the job's history. */
static void backend_report_refusal(int code, const char *op)
{
	const char *message = cupsLastErrorString();
	const char *status = ippErrorString(cupsLastError());
	switch (code) {
	case CUPS_BACKEND_AUTH_REQUIRED:
		fprintf(stderr, "ERROR: Pullprint did not accept the forwarder token (%s): it "
				"was revoked or mistyped — issue a new one with `pullprint "
				"forwarders add NAME` and put it in backend.conf\n",
			message != NULL ? message : status);
		break;
	case CUPS_BACKEND_RETRY:
		fprintf(stderr, "INFO: Pullprint cannot take the job now (%s); cupsd will retry "
				"it\n",
			message != NULL ? message : status);
		fputs("STATE: +offline-report\n", stderr);
		break;
	case CUPS_BACKEND_CANCEL:
		fprintf(stderr, "ERROR: Pullprint refused this job for good (%s: %s); it is "
				"canceled\n",
			status, message != NULL ? message : "");
		break;
	default:
		fprintf(stderr, "ERROR: %s failed (%s: %s) — check the server address in "
				"backend.conf and the device URI\n",
			op, status, message != NULL ? message : "");
		break;
	}
}

/* Sends a Validate-Job; returns the exit code it implies (CUPS_BACKEND_OK to go on). */
static int backend_validate(http_t *http, const pp_backend_conf_t *conf,
			    const pp_backend_job_t *job)
{
	ipp_t *request = backend_job_request(job, conf->host, conf->port, true);
	if (request == NULL) {
		fputs("ERROR: cannot build the request (out of memory or bad host name)\n", stderr);
		return CUPS_BACKEND_FAILED;
	}
	http_status_t http_status = cupsSendRequest(http, request, BACKEND_RESOURCE,
						    ippLength(request));
	ipp_t *response = NULL;
	if (http_status == HTTP_STATUS_CONTINUE) {
		response = cupsGetResponse(http, BACKEND_RESOURCE);
		http_status = response != NULL ? HTTP_STATUS_OK : httpGetStatus(http);
	}
	ippDelete(request);
	ippDelete(response);
	/* An older server without Validate-Job learns about the job from Print-Job. */
	if (http_status == HTTP_STATUS_OK &&
	    cupsLastError() == IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED)
		return CUPS_BACKEND_OK;
	int code = backend_exit_code(http_status, cupsLastError());
	if (code != CUPS_BACKEND_OK)
		backend_report_refusal(code, "Validate-Job");
	return code;
}

/* Sends the Print-Job with the document; returns the CUPS exit code. */
static int backend_print(http_t *http, const pp_backend_conf_t *conf,
			 const pp_backend_job_t *job, const backend_doc_t *doc)
{
	ipp_t *request = backend_job_request(job, conf->host, conf->port, false);
	if (request == NULL) {
		fputs("ERROR: cannot build the request (out of memory or bad host name)\n", stderr);
		return CUPS_BACKEND_FAILED;
	}
	/* A known size goes as Content-Length; stdin goes chunked (length 0). */
	size_t length = doc->is_sized ? ippLength(request) + (size_t)doc->size_bytes : 0;
	fputs("INFO: Sending the document to Pullprint\n", stderr);
	http_status_t http_status = cupsSendRequest(http, request, BACKEND_RESOURCE, length);
	ippDelete(request);

	char *buffer = malloc(BACKEND_CHUNK_BYTES);
	if (buffer == NULL) {
		fputs("ERROR: out of memory\n", stderr);
		return CUPS_BACKEND_RETRY;
	}
	uint64_t sent = 0;
	while (http_status == HTTP_STATUS_CONTINUE) {
		ssize_t n = read(doc->fd, buffer, BACKEND_CHUNK_BYTES);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "ERROR: cannot read the document: %s\n", strerror(errno));
			free(buffer);
			/* Closing mid-body makes the server drop the request: no half job. */
			return CUPS_BACKEND_FAILED;
		}
		if (n == 0)
			break;
		http_status = cupsWriteRequestData(http, buffer, (size_t)n);
		sent += (uint64_t)n;
	}
	free(buffer);
	fprintf(stderr, "DEBUG: %llu document bytes sent\n", (unsigned long long)sent);
	ipp_t *response = NULL;
	if (http_status == HTTP_STATUS_CONTINUE) {
		response = cupsGetResponse(http, BACKEND_RESOURCE);
		http_status = response != NULL ? HTTP_STATUS_OK : httpGetStatus(http);
	}
	int code = backend_exit_code(http_status, cupsLastError());
	if (code == CUPS_BACKEND_OK) {
		int job_id = ippGetInteger(ippFindAttribute(response, "job-id", IPP_TAG_INTEGER), 0);
		fprintf(stderr, "INFO: Pullprint holds the document as job %d; release it at a "
				"Pullprint printer\n",
			job_id);
	} else {
		backend_report_refusal(code, "Print-Job");
	}
	ippDelete(response);
	return code;
}

/* Opens argv[6], or uses stdin. Returns 0 or -1 (reported). */
static int backend_doc_open(int argc, char *argv[], backend_doc_t *doc)
{
	doc->fd = STDIN_FILENO;
	doc->is_sized = false;
	doc->size_bytes = 0;
	if (argc < 7)
		return 0;
	doc->fd = open(argv[6], O_RDONLY | O_CLOEXEC);
	if (doc->fd < 0) {
		fprintf(stderr, "ERROR: cannot open the document %s: %s\n", argv[6],
			strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(doc->fd, &st) < 0) {
		fprintf(stderr, "ERROR: fstat(%s) failed: %s\n", argv[6], strerror(errno));
		(void)close(doc->fd); /* read-only */
		return -1;
	}
	doc->is_sized = S_ISREG(st.st_mode);
	doc->size_bytes = st.st_size;
	return 0;
}

/*
 * Connects with TLS and checks the certificate; its SHA-256 goes into seen_r. NULL with the
 * exit code in *code_r.
 */
static http_t *backend_connect(const pp_backend_conf_t *conf,
			       uint8_t seen_r[BACKEND_FINGERPRINT_BYTES], int *code_r)
{
	fputs("STATE: +connecting-to-device\n", stderr);
	fprintf(stderr, "INFO: Connecting to Pullprint at %s:%d\n", conf->host, conf->port);
	http_t *http = httpConnect2(conf->host, conf->port, NULL, AF_UNSPEC,
				    HTTP_ENCRYPTION_ALWAYS, 1, BACKEND_CONNECT_TIMEOUT_MS, NULL);
	if (http == NULL) {
		fprintf(stderr, "INFO: Cannot reach Pullprint at %s:%d over TLS (%s); cupsd "
				"will retry the job — is the server running?\n",
			conf->host, conf->port, cupsLastErrorString());
		fputs("STATE: +offline-report\n", stderr);
		*code_r = CUPS_BACKEND_RETRY;
		return NULL;
	}
	char hex[2 * BACKEND_FINGERPRINT_BYTES + 1];
	memset(seen_r, 0, BACKEND_FINGERPRINT_BYTES);
	pp_backend_tls_t trust = backend_tls_check(http, conf, seen_r);
	backend_fingerprint_hex(seen_r, hex);
	switch (trust) {
	case BACKEND_TLS_OK:
		fputs("STATE: -connecting-to-device,offline-report,cups-pki-changed,"
		      "cups-pki-invalid\n",
		      stderr);
		return http;
	case BACKEND_TLS_MISMATCH:
		fprintf(stderr, "ERROR: The certificate of %s:%d (SHA-256 %s) is not the one "
				"pinned in backend.conf; the token was not sent — if the server's "
				"certificate was renewed, put its new fingerprint there\n",
			conf->host, conf->port, hex);
		fputs("STATE: +cups-pki-changed\n", stderr);
		break;
	case BACKEND_TLS_UNTRUSTED:
		fprintf(stderr, "ERROR: The certificate of %s:%d is not trusted for that name "
				"(self-signed?); the token was not sent — compare its SHA-256 %s "
				"with the one the server printed at its first start and put it in "
				"backend.conf as fingerprint = …\n",
			conf->host, conf->port, hex);
		fputs("STATE: +cups-pki-invalid\n", stderr);
		break;
	case BACKEND_TLS_ERROR:
		fprintf(stderr, "ERROR: cannot check the certificate of %s:%d; the token was "
				"not sent\n",
			conf->host, conf->port);
		break;
	}
	httpClose(http);
	*code_r = CUPS_BACKEND_FAILED;
	return NULL;
}

/*
 * After a request: false (reported) when libcups reconnected to a peer with another
 * certificate. A closed connection (nothing to compare) counts as unchanged.
 */
static bool backend_peer_unchanged(http_t *http, const uint8_t peer[BACKEND_FINGERPRINT_BYTES])
{
	cups_array_t *credentials = NULL;
	if (httpCopyCredentials(http, &credentials) != 0 || credentials == NULL ||
	    cupsArrayCount(credentials) == 0) {
		httpFreeCredentials(credentials);
		return true;
	}
	httpFreeCredentials(credentials);
	if (backend_tls_same_peer(http, peer))
		return true;
	fputs("ERROR: the connection to Pullprint was re-established to a server with another "
	      "certificate, and the forwarder token may have been sent to it — revoke it with "
	      "`pullprint forwarders revoke HANDLE` and issue a new one\n",
	      stderr);
	fputs("STATE: +cups-pki-changed\n", stderr);
	return false;
}

/* Reads the configuration and the device URI. Returns 0 or -1 (reported). */
static int backend_configure(char *argv0, pp_backend_conf_t *conf)
{
	char error[1024];
	const char *path = getenv(BACKEND_CONF_ENV);
	if (path == NULL || path[0] == '\0')
		path = BACKEND_CONF_DEFAULT_PATH;
	if (backend_conf_load(conf, path, error, sizeof(error)) < 0) {
		fprintf(stderr, "ERROR: %s\n", error);
		return -1;
	}
	/* cupsd passes the queue's device URI in the environment (and as argv[0]). */
	const char *uri = getenv("DEVICE_URI");
	if (uri == NULL && str_has_prefix(argv0, BACKEND_SCHEME ":"))
		uri = argv0;
	if (uri != NULL && backend_conf_apply_device_uri(conf, uri, error, sizeof(error)) < 0) {
		fprintf(stderr, "ERROR: %s\n", error);
		backend_conf_wipe(conf);
		return -1;
	}
	return 0;
}

/* One job: configure, connect, validate, print. Returns the CUPS exit code. */
static int backend_run(int argc, char *argv[])
{
	pp_backend_job_t job = {.user = argv[2], .title = argv[3], .copies = 1,
				.options = argv[5]};
	if (argc == 7 && !backend_parse_copies(argv[4], &job.copies)) {
		fprintf(stderr, "ERROR: bad copies argument \"%s\" (expected 1..9999)\n", argv[4]);
		return CUPS_BACKEND_CANCEL;
	}
	if (job.user[0] == '\0') {
		fputs("ERROR: the job has no user name, and Pullprint files every job under its "
		      "user\n",
		      stderr);
		return CUPS_BACKEND_CANCEL;
	}
	/* With filters, stdin carries FINAL_CONTENT_TYPE; a file is the original type. */
	const char *type = argc == 7 ? getenv("CONTENT_TYPE") : getenv("FINAL_CONTENT_TYPE");
	if (type == NULL || str_has_prefix(type, "printer/"))
		type = getenv("CONTENT_TYPE");
	job.format = backend_document_format(type);

	pp_backend_conf_t conf;
	if (backend_configure(argv[0], &conf) < 0)
		return CUPS_BACKEND_FAILED;
	backend_doc_t doc;
	if (backend_doc_open(argc, argv, &doc) < 0) {
		backend_conf_wipe(&conf);
		return CUPS_BACKEND_FAILED;
	}
	int code = CUPS_BACKEND_FAILED;
	uint8_t peer[BACKEND_FINGERPRINT_BYTES];
	http_t *http = backend_connect(&conf, peer, &code);
	if (http != NULL) {
		/* libcups keeps its own copy for each request on this connection. */
		httpSetAuthString(http, "Bearer", conf.token);
		backend_conf_wipe(&conf);
		cupsSetPasswordCB2(backend_no_password, NULL);
		code = backend_validate(http, &conf, &job);
		if (!backend_peer_unchanged(http, peer))
			code = CUPS_BACKEND_FAILED;
		if (code == CUPS_BACKEND_OK) {
			code = backend_print(http, &conf, &job, &doc);
			if (!backend_peer_unchanged(http, peer))
				code = CUPS_BACKEND_FAILED;
		}
		httpClose(http);
	}
	backend_conf_wipe(&conf);
	if (doc.fd != STDIN_FILENO)
		(void)close(doc.fd); /* read-only */
	return code;
}

int main(int argc, char *argv[])
{
	if (argc == 1) {
		/* Device discovery (lpinfo -v): the class and scheme, no devices of our own. */
		puts("network " BACKEND_SCHEME " \"Unknown\" \"Pullprint (secure pull printing)\"");
		return fflush(stdout) == 0 ? CUPS_BACKEND_OK : CUPS_BACKEND_FAILED;
	}
	if (argc < 6 || argc > 7) {
		fprintf(stderr, "Usage: %s job-id user title copies options [file]\n"
				"(cupsd runs this backend; configure it in %s)\n",
			argv[0], BACKEND_CONF_DEFAULT_PATH);
		return CUPS_BACKEND_FAILED;
	}
	/* Lines must reach cupsd as they are written; a closed peer is an error, not a signal. */
	setbuf(stderr, NULL);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fprintf(stderr, "ERROR: signal(SIGPIPE) failed: %s\n", strerror(errno));
		return CUPS_BACKEND_FAILED;
	}
	return backend_run(argc, argv);
}
