/*
 * http-request.c - what a handler sees of one request: accessors, the arena, and the
 * responses it makes (JSON, errors, bytes, files, streams), each wrapped in the security
 * headers. A response is only made here; http-server.c queues it on the connection at the
 * point libmicrohttpd accepts it.
 */
#include "http/http-private.h"
#include "http/http-path.h"

#include "lib/log.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HTTP_STREAM_BLOCK_BYTES (32u * 1024u)

/* Headers on every response; a handler's header of the same name wins. */
static const char *const http_default_headers[][2] = {
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "Content-Security-Policy",
	  "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
	  "object-src 'none'" },
	{ "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cache-Control", "no-store" },
};

uint64_t http_now_us(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- accessors ---- */

const char *http_request_method(const pp_http_request_t *req)
{
	return req->method;
}

const char *http_request_path(const pp_http_request_t *req)
{
	return req->path;
}

const char *http_request_subpath(const pp_http_request_t *req)
{
	return req->subpath != NULL ? req->subpath : "";
}

const char *http_request_query(pp_http_request_t *req, const char *name)
{
	for (const http_query_param_t *q = req->query; q != NULL; q = q->next) {
		if (strcmp(q->name, name) == 0)
			return q->value;
	}
	return NULL;
}

const char *http_request_header(pp_http_request_t *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_cookie(pp_http_request_t *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *http_request_remote_addr(const pp_http_request_t *req)
{
	return req->remote_addr;
}

bool http_request_is_tls(const pp_http_request_t *req)
{
	return req->is_tls;
}

const uint8_t *http_request_body(const pp_http_request_t *req, size_t *len_r)
{
	*len_r = req->body_len;
	return req->body != NULL ? req->body : (const uint8_t *)"";
}

void *http_request_alloc(pp_http_request_t *req, size_t size)
{
	if (size > SIZE_MAX - sizeof(http_arena_block_t))
		abort();
	http_arena_block_t *b = malloc(sizeof(*b) + size);
	if (b == NULL) {
		log_error("http.out_of_memory bytes=%zu", size);
		abort();
	}
	b->next = req->arena;
	req->arena = b;
	return b->data;
}

char *http_request_strdup(pp_http_request_t *req, const char *s)
{
	size_t len = strlen(s);
	char *copy = http_request_alloc(req, len + 1);
	memcpy(copy, s, len + 1);
	return copy;
}

void http_request_set_data(pp_http_request_t *req, void *data, void (*free_fn)(void *))
{
	if (req->data != NULL && req->data_free != NULL)
		req->data_free(req->data);
	req->data = data;
	req->data_free = free_fn;
}

void *http_request_data(const pp_http_request_t *req)
{
	return req->data;
}

/* ---- responses ---- */

/* True for a header name token and a value without CR, LF or other controls but tab. */
static bool http_header_valid(const char *name, const char *value)
{
	if (name == NULL || name[0] == '\0' || value == NULL)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c) != NULL)
			return false;
	}
	for (const char *p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

int http_response_header(pp_http_request_t *req, const char *name, const char *value)
{
	if (!http_header_valid(name, value)) {
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_warn("http.bad_header path=%s name=%s", log_path, name != NULL ? name : "");
		return -1;
	}
	http_header_t *h = http_request_alloc(req, sizeof(*h));
	h->name = http_request_strdup(req, name);
	h->value = http_request_strdup(req, value);
	h->next = NULL;
	http_header_t **tail = &req->headers;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = h;
	return 0;
}

/*
 * Adds the handler's headers, then the defaults it did not override, then Server and HSTS,
 * and stores resp as the request's answer. Takes resp (destroyed on failure).
 */
static int http_finish_response(pp_http_request_t *req, unsigned status,
				struct MHD_Response *resp, const char *content_type)
{
	if (resp == NULL) {
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_error("http.response_failed path=%s reason=out_of_memory", log_path);
		return -1;
	}
	if (req->response != NULL || req->is_queued) {
		/* A second answer to one request is a bug in the handler. */
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_error("http.second_response path=%s status=%u", log_path, status);
		MHD_destroy_response(resp);
		return -1;
	}
	bool ok = true;
	if (content_type != NULL)
		ok = MHD_add_response_header(resp, "Content-Type", content_type) == MHD_YES;
	for (const http_header_t *h = req->headers; h != NULL && ok; h = h->next)
		ok = MHD_add_response_header(resp, h->name, h->value) == MHD_YES;
	size_t n = sizeof(http_default_headers) / sizeof(http_default_headers[0]);
	for (size_t i = 0; i < n && ok; i++) {
		if (MHD_get_response_header(resp, http_default_headers[i][0]) == NULL)
			ok = MHD_add_response_header(resp, http_default_headers[i][0],
						     http_default_headers[i][1]) == MHD_YES;
	}
	if (ok && req->is_tls && MHD_get_response_header(resp, "Strict-Transport-Security") == NULL)
		ok = MHD_add_response_header(resp, "Strict-Transport-Security",
					     "max-age=31536000") == MHD_YES;
	if (ok) {
		const char *server_name = req->server->cfg.server_name;
		ok = MHD_add_response_header(resp, "Server",
					     server_name[0] != '\0' ? server_name : "Pullprint") ==
		     MHD_YES;
	}
	if (!ok) {
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_error("http.response_failed path=%s reason=header", log_path);
		MHD_destroy_response(resp);
		return -1;
	}
	req->response = resp;
	req->status = status;
	return 0;
}

int http_respond_bytes(pp_http_request_t *req, unsigned status, const char *content_type,
		       const void *data, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	return http_finish_response(req, status, resp, content_type);
}

int http_respond_json(pp_http_request_t *req, unsigned status, json_t *body)
{
	if (body == NULL)
		return -1;
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_error("http.response_failed path=%s reason=json_dumps", log_path);
		return -1;
	}
	size_t len = strlen(text);
	/* MHD frees text with free() once sent. */
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		free(text);
	return http_finish_response(req, status, resp, "application/json");
}

int http_respond_error(pp_http_request_t *req, unsigned status, const char *code,
		       const char *message)
{
	json_t *body = json_pack("{s:{s:I,s:s,s:s}}", "error", "status", (json_int_t)status,
				 "code", code, "message", message);
	if (body == NULL) {
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_error("http.response_failed path=%s reason=json_pack", log_path);
		return -1;
	}
	return http_respond_json(req, status, body);
}

int http_respond_file(pp_http_request_t *req, unsigned status, const char *content_type,
		      const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
			return http_respond_error(req, 404, "not_found", "No such file.");
		log_error("http.file_open_failed path=%s error=\"%s\"", path, strerror(errno));
		return http_respond_error(req, 500, "internal", "The file cannot be read.");
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (close(fd) != 0)
			log_warn("http.close_failed path=%s error=\"%s\"", path, strerror(errno));
		return http_respond_error(req, 404, "not_found", "No such file.");
	}
	/* MHD owns fd from here, also when it fails. */
	struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (resp == NULL && close(fd) != 0)
		log_warn("http.close_failed path=%s error=\"%s\"", path, strerror(errno));
	return http_finish_response(req, status, resp, content_type);
}

/* ---- streams ---- */

static void http_stream_release(pp_http_stream_t *s)
{
	if (pthread_mutex_lock(&s->lock) != 0)
		abort();
	unsigned refs = --s->refs;
	(void)pthread_mutex_unlock(&s->lock);
	if (refs == 0) {
		(void)pthread_cond_destroy(&s->cond);
		(void)pthread_mutex_destroy(&s->lock);
		free(s);
	}
}

/*
 * MHD's content reader: asks the producer, and while it has nothing sleeps on the stream's
 * condition until a wake or the server's close. Each connection has its own thread
 * (thread-per-connection), so sleeping here holds up no other request; MHD's own
 * suspend/resume is not used because 0.9.75 loses the resume of a connection thread.
 */
static ssize_t http_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	pp_http_stream_t *s = cls;
	for (;;) {
		if (pthread_mutex_lock(&s->lock) != 0)
			abort();
		bool is_closing = s->is_closing;
		s->is_wake_pending = false;
		(void)pthread_mutex_unlock(&s->lock);
		if (is_closing)
			return MHD_CONTENT_READER_END_OF_STREAM;

		ssize_t n = s->read_fn(s->ctx, pos, buf, max);
		if (n > 0 && (size_t)n <= max)
			return n;
		if (n == HTTP_STREAM_END)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (n != HTTP_STREAM_WAIT)
			return MHD_CONTENT_READER_END_WITH_ERROR;

		/* Nothing now: sleep until a wake, unless one came in while read_fn ran. */
		if (pthread_mutex_lock(&s->lock) != 0)
			abort();
		while (!s->is_wake_pending && !s->is_closing) {
			if (pthread_cond_wait(&s->cond, &s->lock) != 0)
				abort();
		}
		(void)pthread_mutex_unlock(&s->lock);
	}
}

/* MHD frees the response: the producer's context goes, the stream leaves the server. */
static void http_stream_done(void *cls)
{
	pp_http_stream_t *s = cls;
	pp_http_server_t *server = s->server;
	if (pthread_mutex_lock(&server->lock) != 0)
		abort();
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		server->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	if (pthread_mutex_lock(&s->lock) != 0)
		abort();
	s->is_done = true;
	(void)pthread_mutex_unlock(&s->lock);
	(void)pthread_mutex_unlock(&server->lock);
	if (s->free_fn != NULL)
		s->free_fn(s->ctx);
	http_stream_release(s);
}

int http_respond_stream(pp_http_request_t *req, unsigned status, const char *content_type,
			pp_http_read_fn read_fn, void *ctx, void (*free_fn)(void *),
			pp_http_stream_t **stream_r)
{
	if (stream_r != NULL)
		*stream_r = NULL;
	pp_http_stream_t *s = calloc(1, sizeof(*s));
	bool has_lock = s != NULL && pthread_mutex_init(&s->lock, NULL) == 0;
	if (has_lock && pthread_cond_init(&s->cond, NULL) != 0) {
		(void)pthread_mutex_destroy(&s->lock);
		has_lock = false;
	}
	if (!has_lock) {
		free(s);
		if (free_fn != NULL)
			free_fn(ctx);
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_error("http.response_failed path=%s reason=out_of_memory", log_path);
		return -1;
	}
	s->server = req->server;
	s->read_fn = read_fn;
	s->ctx = ctx;
	s->free_fn = free_fn;
	s->refs = 1;

	/* From here http_stream_done() owns s and ctx, also on failure. */
	if (pthread_mutex_lock(&req->server->lock) != 0)
		abort();
	s->next = req->server->streams;
	if (s->next != NULL)
		s->next->prev = s;
	req->server->streams = s;
	s->is_closing = req->server->is_quiescing;
	(void)pthread_mutex_unlock(&req->server->lock);

	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK_BYTES, http_stream_read, s, http_stream_done);
	if (resp == NULL) {
		http_stream_done(s);
		char log_path[HTTP_LOG_PATH_MAX];
		http_path_for_log(req->path, log_path, sizeof(log_path));
		log_error("http.response_failed path=%s reason=out_of_memory", log_path);
		return -1;
	}
	if (stream_r != NULL) {
		s->refs++; /* not yet shared: no lock needed */
		*stream_r = s;
	}
	if (http_finish_response(req, status, resp, content_type) != 0) {
		if (stream_r != NULL)
			http_stream_unref(stream_r);
		return -1;
	}
	return 0;
}

void http_stream_wake(pp_http_stream_t *stream)
{
	if (stream == NULL)
		return;
	if (pthread_mutex_lock(&stream->lock) != 0)
		abort();
	if (!stream->is_done) {
		stream->is_wake_pending = true;
		(void)pthread_cond_broadcast(&stream->cond);
	}
	(void)pthread_mutex_unlock(&stream->lock);
}

void http_stream_unref(pp_http_stream_t **stream)
{
	if (stream == NULL || *stream == NULL)
		return;
	http_stream_release(*stream);
	*stream = NULL;
}

void http_streams_close_all(pp_http_server_t *server)
{
	if (pthread_mutex_lock(&server->lock) != 0)
		abort();
	for (pp_http_stream_t *s = server->streams; s != NULL; s = s->next) {
		if (pthread_mutex_lock(&s->lock) != 0)
			abort();
		s->is_closing = true;
		(void)pthread_cond_broadcast(&s->cond);
		(void)pthread_mutex_unlock(&s->lock);
	}
	(void)pthread_mutex_unlock(&server->lock);
}
