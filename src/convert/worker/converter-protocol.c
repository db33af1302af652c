/*
 * converter-protocol.c - the broker <-> converter messages (converter.h) as JSON, and the
 * packets that carry them. Decoding is strict because either side may be the one a document
 * compromised: a message has exactly its keys, each of its type and in range, strings fit
 * their arrays and hold no NUL byte, and a job directory is a direct child of tmp_base.
 */
#include "convert/worker/converter.h"

#include "lib/str.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const converter_log_levels[] = {"debug", "info", "warn", "error"};

/* ---- decoding ------------------------------------------------------------------------- */

/* Reads the keys of one object; the first problem is kept in error and fails the rest. */
typedef struct {
	json_t *obj;
	const char *name; /* of the object, for messages */
	size_t used;      /* keys read; compared with the object's size at the end */
	bool is_failed;
	char *error;
	size_t error_size;
} converter_reader_t;

static void rd_init(converter_reader_t *r, json_t *obj, const char *name, char *error,
		    size_t error_size)
{
	*r = (converter_reader_t){.obj = obj, .name = name, .error = error,
				  .error_size = error_size};
	if (!json_is_object(obj)) {
		r->is_failed = true;
		(void)str_format(error, error_size, "%s is not a JSON object", name);
	}
}

/* The value at key, or NULL (and failed) when missing or already failed. */
static json_t *rd_get(converter_reader_t *r, const char *key)
{
	if (r->is_failed)
		return NULL;
	json_t *value = json_object_get(r->obj, key);
	if (value == NULL) {
		r->is_failed = true;
		(void)str_format(r->error, r->error_size, "%s: \"%s\" is missing", r->name, key);
		return NULL;
	}
	r->used++;
	return value;
}

static void rd_fail(converter_reader_t *r, const char *key, const char *what)
{
	r->is_failed = true;
	(void)str_format(r->error, r->error_size, "%s: \"%s\" %s", r->name, key, what);
}

static uint64_t rd_uint(converter_reader_t *r, const char *key, uint64_t max)
{
	json_t *v = rd_get(r, key);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		rd_fail(r, key, "is not a number in range");
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

static bool rd_bool(converter_reader_t *r, const char *key)
{
	json_t *v = rd_get(r, key);
	if (v == NULL)
		return false;
	if (!json_is_boolean(v)) {
		rd_fail(r, key, "is not true or false");
		return false;
	}
	return json_is_true(v);
}

/* A finite number in min..max (integer or real). */
static double rd_double(converter_reader_t *r, const char *key, double min, double max)
{
	json_t *v = rd_get(r, key);
	if (v == NULL)
		return 0;
	double d = json_is_number(v) ? json_number_value(v) : NAN;
	if (!isfinite(d) || d < min || d > max) {
		rd_fail(r, key, "is not a number in range");
		return 0;
	}
	return d;
}

/* A string that fits buf[size] and holds no NUL byte. */
static void rd_string(converter_reader_t *r, const char *key, char *buf, size_t size)
{
	buf[0] = '\0';
	json_t *v = rd_get(r, key);
	if (v == NULL)
		return;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		rd_fail(r, key, "is not a string of the expected length");
		return;
	}
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
}

static json_t *rd_object(converter_reader_t *r, const char *key)
{
	json_t *v = rd_get(r, key);
	if (v != NULL && !json_is_object(v)) {
		rd_fail(r, key, "is not an object");
		return NULL;
	}
	return v;
}

/* True when every read succeeded and the object had no other key. */
static bool rd_done(converter_reader_t *r)
{
	if (!r->is_failed && json_object_size(r->obj) != r->used) {
		r->is_failed = true;
		(void)str_format(r->error, r->error_size, "%s has unknown keys", r->name);
	}
	return !r->is_failed;
}

/* Parses data[len] as one JSON object whose "type" is type or, when not NULL, type2 (then
 * *is_type2_r says which). New (json_decref), or NULL with error. */
static json_t *converter_parse(const char *data, size_t len, const char *type, const char *type2,
			       bool *is_type2_r, char *error, size_t error_size)
{
	if (len > CONVERTER_MESSAGE_MAX) {
		(void)str_format(error, error_size, "the message is larger than %d bytes",
				 CONVERTER_MESSAGE_MAX);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		(void)str_format(error, error_size, "the message is not JSON: %s", jerr.text);
		return NULL;
	}
	const char *got = json_is_object(root) ? json_string_value(json_object_get(root, "type"))
					       : NULL;
	bool is_type2 = got != NULL && type2 != NULL && strcmp(got, type2) == 0;
	if (got == NULL || (strcmp(got, type) != 0 && !is_type2)) {
		(void)str_format(error, error_size, "the message is not a \"%s\" message%s%s%s",
				 type, type2 != NULL ? " nor an \"" : "",
				 type2 != NULL ? type2 : "", type2 != NULL ? "\" one" : "");
		json_decref(root);
		return NULL;
	}
	if (is_type2_r != NULL)
		*is_type2_r = is_type2;
	return root;
}

/* ---- encoding ------------------------------------------------------------------------- */

/* Dumps root (consumed) compactly; NULL with error when it is too large or memory ran out. */
static char *converter_dump(json_t *root, char *error, size_t error_size)
{
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL) {
		(void)str_format(error, error_size, "out of memory while encoding a message");
		return NULL;
	}
	if (strlen(text) > CONVERTER_MESSAGE_MAX) {
		(void)str_format(error, error_size, "a message is larger than %d bytes",
				 CONVERTER_MESSAGE_MAX);
		free(text);
		return NULL;
	}
	return text;
}

/* json_integer for an unsigned value, NULL when it does not fit (then the dump fails). */
static json_t *converter_uint(uint64_t v)
{
	return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : NULL;
}

static json_t *converter_sandbox_encode(const pp_sandbox_limits_t *l)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int rc = 0;
	rc |= json_object_set_new(o, "profile", json_integer((json_int_t)l->profile));
	rc |= json_object_set_new(o, "address_space_bytes", converter_uint(l->address_space_bytes));
	rc |= json_object_set_new(o, "cpu_seconds", converter_uint(l->cpu_seconds));
	rc |= json_object_set_new(o, "file_size_bytes", converter_uint(l->file_size_bytes));
	rc |= json_object_set_new(o, "open_files", converter_uint(l->open_files));
	rc |= json_object_set_new(o, "wall_seconds", json_integer(l->wall_seconds));
	rc |= json_object_set_new(o, "isolate_network", json_boolean(l->isolate_network));
	rc |= json_object_set_new(o, "switch_user", json_boolean(l->switch_user));
	rc |= json_object_set_new(o, "uid", json_integer((json_int_t)l->uid));
	rc |= json_object_set_new(o, "gid", json_integer((json_int_t)l->gid));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void converter_sandbox_decode(converter_reader_t *parent, const char *key,
				     pp_sandbox_limits_t *l)
{
	json_t *obj = rd_object(parent, key);
	if (obj == NULL)
		return;
	converter_reader_t r;
	rd_init(&r, obj, key, parent->error, parent->error_size);
	memset(l, 0, sizeof(*l));
	l->profile = (pp_sandbox_profile_t)rd_uint(&r, "profile", SANDBOX_PROFILE_OFFICE);
	l->address_space_bytes = rd_uint(&r, "address_space_bytes", INT64_MAX);
	l->cpu_seconds = rd_uint(&r, "cpu_seconds", INT64_MAX);
	l->file_size_bytes = rd_uint(&r, "file_size_bytes", INT64_MAX);
	l->open_files = rd_uint(&r, "open_files", INT64_MAX);
	l->wall_seconds = (unsigned)rd_uint(&r, "wall_seconds", UINT_MAX);
	l->isolate_network = rd_bool(&r, "isolate_network");
	l->switch_user = rd_bool(&r, "switch_user");
	l->uid = (uid_t)rd_uint(&r, "uid", UINT32_MAX - 1);
	l->gid = (gid_t)rd_uint(&r, "gid", UINT32_MAX - 1);
	if (!rd_done(&r))
		parent->is_failed = true;
}

/* ---- limits and ready ----------------------------------------------------------------- */

char *converter_limits_encode(const pp_converter_limits_t *l, char *error, size_t error_size)
{
	size_t level = (size_t)l->log_level;
	if (level >= sizeof(converter_log_levels) / sizeof(converter_log_levels[0]))
		level = PP_LOG_INFO;
	/* "o" with a NULL value (a number out of range, no memory) fails the whole pack. */
	json_t *engine = json_pack("{s:I, s:o, s:f, s:f, s:s}", "max_pages",
				   (json_int_t)l->max_pages, "max_image_pixels",
				   converter_uint(l->max_image_pixels), "default_width_pt",
				   (double)l->default_width_pt, "default_height_pt",
				   (double)l->default_height_pt, "ghostscript", l->ghostscript);
	json_t *office = json_pack("{s:s, s:s, s:I, s:I, s:o}", "program_dir",
				   l->office_program_dir, "profile_dir", l->office_profile_dir,
				   "max_documents", (json_int_t)l->office_max_documents,
				   "timeout_s", (json_int_t)l->office_timeout_s, "limits",
				   converter_sandbox_encode(&l->office));
	json_t *root = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "type", "limits",
				 "log_level", converter_log_levels[level], "tmp_base", l->tmp_base,
				 "render", converter_sandbox_encode(&l->render), "exec",
				 converter_sandbox_encode(&l->exec), "engine", engine, "office",
				 office);
	return converter_dump(root, error, error_size);
}

int converter_limits_decode(const char *data, size_t len, pp_converter_limits_t *l,
			    char *error, size_t error_size)
{
	memset(l, 0, sizeof(*l));
	json_t *root = converter_parse(data, len, "limits", NULL, NULL, error, error_size);
	if (root == NULL)
		return -1;
	converter_reader_t r;
	rd_init(&r, root, "limits", error, error_size);
	(void)rd_get(&r, "type");
	char level[16];
	rd_string(&r, "log_level", level, sizeof(level));
	if (!r.is_failed && !log_level_parse(level, &l->log_level))
		rd_fail(&r, "log_level", "is not a log level");
	rd_string(&r, "tmp_base", l->tmp_base, sizeof(l->tmp_base));
	if (!r.is_failed && l->tmp_base[0] != '/')
		rd_fail(&r, "tmp_base", "is not an absolute path");
	converter_sandbox_decode(&r, "render", &l->render);
	converter_sandbox_decode(&r, "exec", &l->exec);

	json_t *engine = rd_object(&r, "engine");
	if (engine != NULL) {
		converter_reader_t e;
		rd_init(&e, engine, "engine", error, error_size);
		l->max_pages = (unsigned)rd_uint(&e, "max_pages", UINT_MAX);
		l->max_image_pixels = rd_uint(&e, "max_image_pixels", INT64_MAX);
		l->default_width_pt = (float)rd_double(&e, "default_width_pt", 0, 1e6);
		l->default_height_pt = (float)rd_double(&e, "default_height_pt", 0, 1e6);
		rd_string(&e, "ghostscript", l->ghostscript, sizeof(l->ghostscript));
		if (!rd_done(&e))
			r.is_failed = true;
	}
	json_t *office = rd_object(&r, "office");
	if (office != NULL) {
		converter_reader_t o;
		rd_init(&o, office, "office", error, error_size);
		rd_string(&o, "program_dir", l->office_program_dir, sizeof(l->office_program_dir));
		rd_string(&o, "profile_dir", l->office_profile_dir, sizeof(l->office_profile_dir));
		l->office_max_documents = (unsigned)rd_uint(&o, "max_documents", UINT_MAX);
		l->office_timeout_s = (unsigned)rd_uint(&o, "timeout_s", UINT_MAX);
		converter_sandbox_decode(&o, "limits", &l->office);
		if (!rd_done(&o))
			r.is_failed = true;
	}
	bool is_ok = rd_done(&r);
	json_decref(root);
	return is_ok ? 0 : -1;
}

char *converter_ready_encode(pid_t pid, char *error, size_t error_size)
{
	return converter_dump(json_pack("{s:s, s:I}", "type", "ready", "pid", (json_int_t)pid),
			      error, error_size);
}

int converter_ready_decode(const char *data, size_t len, pid_t *pid_r, char *error,
			   size_t error_size)
{
	json_t *root = converter_parse(data, len, "ready", NULL, NULL, error, error_size);
	if (root == NULL)
		return -1;
	converter_reader_t r;
	rd_init(&r, root, "ready", error, error_size);
	(void)rd_get(&r, "type");
	*pid_r = (pid_t)rd_uint(&r, "pid", INT32_MAX);
	bool is_ok = rd_done(&r);
	json_decref(root);
	return is_ok ? 0 : -1;
}

/* ---- requests ------------------------------------------------------------------------- */

static const char *const converter_request_types[] = {"pdf", "pages", "render"};

void converter_request_init(pp_converter_request_t *req, pp_converter_request_kind_t kind,
			    const char *dir)
{
	memset(req, 0, sizeof(*req));
	req->kind = kind;
	(void)str_copy(req->dir, sizeof(req->dir), dir);
	pp_output_request_t defaults;
	output_request_default(&defaults);
	req->format = defaults.format;
	req->options = defaults.options;
	req->resolution_dpi = defaults.resolution_dpi;
	req->printer_is_color = defaults.printer_is_color;
	req->fit_to_page = defaults.fit_to_page;
}

bool converter_dir_is_valid(const char *tmp_base, const char *dir)
{
	size_t base_len = strlen(tmp_base);
	while (base_len > 1 && tmp_base[base_len - 1] == '/')
		base_len--;
	if (tmp_base[0] != '/' || strncmp(dir, tmp_base, base_len) != 0 || dir[base_len] != '/')
		return false;
	const char *name = dir + base_len + 1;
	return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && str_is_printable_utf8(name) &&
	       strstr(tmp_base, "/..") == NULL;
}

char *converter_request_encode(const pp_converter_request_t *req, char *error,
			       size_t error_size)
{
	if ((size_t)req->kind >= sizeof(converter_request_types) / sizeof(char *)) {
		(void)str_format(error, error_size, "unknown request kind %d", (int)req->kind);
		return NULL;
	}
	json_t *root = json_pack("{s:s, s:o, s:s}", "type", converter_request_types[req->kind],
				 "id", converter_uint(req->id), "dir", req->dir);
	if (root == NULL)
		return converter_dump(NULL, error, error_size);
	int rc = 0;
	if (req->kind == CONVERTER_REQ_PDF) {
		rc |= json_object_set_new(root, "content_type", json_string(req->content_type));
	} else if (req->kind == CONVERTER_REQ_PAGES) {
		rc |= json_object_set_new(root, "analyse", json_boolean(req->is_analysing));
		rc |= json_object_set_new(root, "thumbnails", json_integer(req->thumbnails));
		rc |= json_object_set_new(root, "first", json_integer(req->first));
		rc |= json_object_set_new(root, "last", json_integer(req->last));
	} else {
		char *options_text = options_to_json(&req->options);
		json_t *options = options_text != NULL ? json_loads(options_text, 0, NULL) : NULL;
		free(options_text);
		json_t *media = json_array();
		for (size_t i = 0; media != NULL && i < req->n_printer_media; i++)
			rc |= json_array_append_new(media, json_string(req->printer_media[i]));
		rc |= json_object_set_new(root, "format",
					  json_string(output_format_name(req->format)));
		rc |= json_object_set_new(root, "options", options);
		rc |= json_object_set_new(root, "dpi", json_integer(req->resolution_dpi));
		rc |= json_object_set_new(root, "printer_is_color",
					  json_boolean(req->printer_is_color));
		rc |= json_object_set_new(root, "fit_to_page", json_boolean(req->fit_to_page));
		rc |= json_object_set_new(root, "printer_media", media);
	}
	if (rc != 0) {
		json_decref(root);
		root = NULL;
	}
	return converter_dump(root, error, error_size);
}

/* The RENDER fields of a request. */
static void converter_render_decode(converter_reader_t *r, pp_converter_request_t *req)
{
	char format[16];
	rd_string(r, "format", format, sizeof(format));
	if (!r->is_failed && !output_format_parse(format, &req->format))
		rd_fail(r, "format", "is not an output format");
	json_t *options = rd_object(r, "options");
	char opt_error[256];
	if (options != NULL &&
	    options_from_json_value(options, &req->options, opt_error, sizeof(opt_error)) < 0)
		rd_fail(r, "options", "are not valid print options");
	req->resolution_dpi = (int)rd_uint(r, "dpi", 2400);
	req->printer_is_color = rd_bool(r, "printer_is_color");
	req->fit_to_page = rd_bool(r, "fit_to_page");
	json_t *media = rd_get(r, "printer_media");
	if (media == NULL)
		return;
	if (!json_is_array(media) || json_array_size(media) > CONVERTER_PRINTER_MEDIA_MAX) {
		rd_fail(r, "printer_media", "is not an array of at most 32 names");
		return;
	}
	for (size_t i = 0; i < json_array_size(media); i++) {
		json_t *name = json_array_get(media, i);
		if (!json_is_string(name) || json_string_length(name) >= OPTIONS_MEDIA_MAX ||
		    !str_is_printable_utf8(json_string_value(name)) ||
		    strlen(json_string_value(name)) != json_string_length(name)) {
			rd_fail(r, "printer_media", "holds something that is not a media name");
			return;
		}
		memcpy(req->printer_media[i], json_string_value(name),
		       json_string_length(name) + 1);
	}
	req->n_printer_media = json_array_size(media);
}

int converter_request_decode(const char *data, size_t len, const char *tmp_base,
			     pp_converter_request_t *req_r, char *error, size_t error_size)
{
	memset(req_r, 0, sizeof(*req_r));
	if (len > CONVERTER_MESSAGE_MAX) {
		(void)str_format(error, error_size, "the request is larger than %d bytes",
				 CONVERTER_MESSAGE_MAX);
		return -1;
	}
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type = json_is_object(root) ? json_string_value(json_object_get(root, "type"))
						: NULL;
	size_t kind = 0;
	while (type != NULL && kind < sizeof(converter_request_types) / sizeof(char *) &&
	       strcmp(type, converter_request_types[kind]) != 0)
		kind++;
	if (type == NULL || kind == sizeof(converter_request_types) / sizeof(char *)) {
		(void)str_format(error, error_size, "the message is not a request");
		json_decref(root);
		return -1;
	}
	char dir[PATH_MAX];
	converter_reader_t r;
	rd_init(&r, root, type, error, error_size);
	(void)rd_get(&r, "type");
	uint64_t id = rd_uint(&r, "id", INT64_MAX);
	rd_string(&r, "dir", dir, sizeof(dir));
	converter_request_init(req_r, (pp_converter_request_kind_t)kind, dir);
	req_r->id = id;
	if (!r.is_failed && !converter_dir_is_valid(tmp_base, req_r->dir))
		rd_fail(&r, "dir", "is not a job directory under the converter's tmp_base");
	if (kind == CONVERTER_REQ_PDF) {
		rd_string(&r, "content_type", req_r->content_type, sizeof(req_r->content_type));
	} else if (kind == CONVERTER_REQ_PAGES) {
		req_r->is_analysing = rd_bool(&r, "analyse");
		req_r->thumbnails = (unsigned)rd_uint(&r, "thumbnails", 100000);
		req_r->first = (int)rd_uint(&r, "first", INT32_MAX);
		req_r->last = (int)rd_uint(&r, "last", INT32_MAX);
		if (!r.is_failed && !req_r->is_analysing &&
		    (req_r->first < 1 || req_r->first > req_r->last))
			rd_fail(&r, "first", "is not a page range");
	} else {
		converter_render_decode(&r, req_r);
	}
	bool is_ok = rd_done(&r);
	json_decref(root);
	return is_ok ? 0 : -1;
}

/* ---- replies -------------------------------------------------------------------------- */

char *converter_reply_encode(const pp_converter_reply_t *reply, char *error, size_t error_size)
{
	json_t *root;
	if (reply->is_error)
		root = json_pack("{s:s, s:o, s:s}", "type", "error", "id",
				 converter_uint(reply->id), "error", reply->error);
	else
		root = json_pack("{s:s, s:o, s:s, s:i, s:f, s:s, s:f}", "type", "result", "id",
				 converter_uint(reply->id), "outcome",
				 sandbox_outcome_name(reply->result.outcome), "signal",
				 reply->result.signal, "elapsed_s", reply->result.elapsed_s,
				 "message", reply->result.message, "ms", reply->ms);
	return converter_dump(root, error, error_size);
}

int converter_reply_decode(const char *data, size_t len, pp_converter_reply_t *reply_r,
			   char *error, size_t error_size)
{
	memset(reply_r, 0, sizeof(*reply_r));
	json_t *root = converter_parse(data, len, "result", "error", &reply_r->is_error, error,
				       error_size);
	if (root == NULL)
		return -1;
	converter_reader_t r;
	rd_init(&r, root, reply_r->is_error ? "error" : "result", error, error_size);
	(void)rd_get(&r, "type");
	reply_r->id = rd_uint(&r, "id", INT64_MAX);
	if (reply_r->is_error) {
		rd_string(&r, "error", reply_r->error, sizeof(reply_r->error));
	} else {
		char outcome[32];
		rd_string(&r, "outcome", outcome, sizeof(outcome));
		int found = -1;
		for (int o = SANDBOX_OK; o <= SANDBOX_CRASHED && !r.is_failed; o++) {
			if (strcmp(outcome, sandbox_outcome_name((pp_sandbox_outcome_t)o)) == 0)
				found = o;
		}
		if (!r.is_failed && found < 0)
			rd_fail(&r, "outcome", "is not an outcome");
		reply_r->result.outcome = (pp_sandbox_outcome_t)(found < 0 ? SANDBOX_CRASHED : found);
		reply_r->result.signal = (int)rd_uint(&r, "signal", 128);
		reply_r->result.elapsed_s = rd_double(&r, "elapsed_s", 0, 1e9);
		rd_string(&r, "message", reply_r->result.message, sizeof(reply_r->result.message));
		if (!r.is_failed && !str_is_printable_utf8(reply_r->result.message))
			rd_fail(&r, "message", "is not one printable line");
		reply_r->ms = rd_double(&r, "ms", 0, 1e12);
	}
	bool is_ok = rd_done(&r);
	json_decref(root);
	return is_ok ? 0 : -1;
}

/* ---- packets -------------------------------------------------------------------------- */

int converter_send(int fd, const char *text, char *error, size_t error_size)
{
	size_t len = strlen(text);
	if (len > CONVERTER_MESSAGE_MAX) {
		(void)str_format(error, error_size, "a message is larger than %d bytes",
				 CONVERTER_MESSAGE_MAX);
		return -1;
	}
	for (;;) {
		/* MSG_NOSIGNAL: a peer that went away is an error here, not SIGPIPE. */
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (size_t)n != len) {
			(void)str_format(error, error_size, "send failed: %s",
					 n < 0 ? strerror(errno) : "short send");
			return -1;
		}
		return 0;
	}
}

int converter_recv(int fd, char *buf, size_t size, int timeout_ms, size_t *len_r,
		   bool *is_timeout_r, char *error, size_t error_size)
{
	*len_r = 0;
	*is_timeout_r = false;
	if (size <= CONVERTER_MESSAGE_MAX) {
		(void)str_format(error, error_size, "the receive buffer is too small");
		return -1;
	}
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	for (;;) {
		int ready = poll(&pfd, 1, timeout_ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0) {
			(void)str_format(error, error_size, "poll failed: %s", strerror(errno));
			return -1;
		}
		if (ready == 0) {
			*is_timeout_r = true;
			(void)str_format(error, error_size, "no answer within %d ms", timeout_ms);
			return -1;
		}
		break;
	}
	/* One byte more than the limit: a larger packet shows as MSG_TRUNC or a full read. */
	struct iovec iov = {.iov_base = buf, .iov_len = CONVERTER_MESSAGE_MAX + 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		(void)str_format(error, error_size, "recvmsg failed: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		return 0;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || (size_t)n > CONVERTER_MESSAGE_MAX) {
		(void)str_format(error, error_size, "a message is larger than %d bytes",
				 CONVERTER_MESSAGE_MAX);
		return -1;
	}
	buf[n] = '\0';
	*len_r = (size_t)n;
	return 1;
}
