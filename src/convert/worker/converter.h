/*
 * converter.h - the worker split in two processes: the BROKER (the worker proper: database,
 * spool, keys, configuration) and the CONVERTER, a fresh program image (posix_spawn of
 * pullprint-convert --converter --fd 3) that holds none of those and is the only process
 * that starts sandboxed children (sandbox_run) and the LibreOffice host (office.h).
 *
 * Why: a sandboxed child is a fork of the process that starts it and carries a copy of its
 * memory until it execs or exits. Forked from the broker, a child compromised by a document
 * could read the spool key, the database's page cache or a database password there and hide
 * them in a page image its sender downloads. Forked from the converter, it finds only the
 * limits below and the paths of job directories.
 *
 * The two talk over one SOCK_SEQPACKET socketpair, one JSON object (jansson) per packet, at
 * most CONVERTER_MESSAGE_MAX bytes, each side treating the other's packets as untrusted:
 *
 *   broker -> converter  {"type":"limits", …}       first, once: pp_converter_limits_t
 *   converter -> broker  {"type":"ready","pid":N}
 *   broker -> converter  {"type":"pdf"|"pages"|"render","id":N,"dir":…, …}  one at a time
 *   converter -> broker  {"type":"result","id":N,"outcome":"ok"|"failed"|…,"signal":N,
 *                          "elapsed_s":x,"message":…,"ms":x}
 *                     or {"type":"error","id":N,"error":…}  (the converter could not work)
 *
 * The converter dies with the worker (PR_SET_PDEATHSIG), taking the sandboxed child of the
 * moment with it; the worker replaces a converter that dies, hangs or talks nonsense.
 *
 * A request names a job directory that must be a direct child of the limits' tmp_base; the
 * converter refuses any other path. Every file crosses as before: the sandboxed child writes
 * into the directory, the broker reads back what it needs defensively (worker-files.c).
 *
 * Private to src/convert/worker (and its unit test).
 */
#ifndef PP_CONVERTER_H
#define PP_CONVERTER_H

#include "convert/engine.h"
#include "convert/office.h"
#include "convert/output.h"
#include "convert/sandbox.h"
#include "core/job.h"
#include "core/options.h"
#include "lib/log.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONVERTER_MESSAGE_MAX (64 * 1024) /* one JSON packet, either way */
#define CONVERTER_FD 3                    /* the socket's number in the converter */
#define CONVERTER_ARG "--converter"       /* the internal mode of pullprint-convert */
#define CONVERTER_DEFAULT_PROGRAM "/proc/self/exe"
#define CONVERTER_PRINTER_MEDIA_MAX 32

/* What the converter needs to work: sent once, first. Plain arrays, no pointers, so a copy
 * is a copy. */
typedef struct {
	pp_log_level_t log_level;
	char tmp_base[PATH_MAX];          /* job directories are its direct children */
	pp_sandbox_limits_t render;       /* MuPDF, images, text: no exec */
	pp_sandbox_limits_t exec;         /* PostScript, PCL 6: Ghostscript */
	/* pp_engine_limits_t, its ghostscript path held here ("" = the default) */
	unsigned max_pages;
	uint64_t max_image_pixels;
	float default_width_pt, default_height_pt;
	char ghostscript[PATH_MAX];
	/* pp_office_config_t, its paths held here (program_dir "" = the default) */
	char office_program_dir[PATH_MAX];
	char office_profile_dir[PATH_MAX];
	unsigned office_max_documents;
	unsigned office_timeout_s;
	pp_sandbox_limits_t office;
} pp_converter_limits_t;

typedef enum {
	CONVERTER_REQ_PDF = 0, /* dir/input (content_type) -> dir/document.pdf */
	CONVERTER_REQ_PAGES,   /* analysis (when asked) and thumb/preview images */
	CONVERTER_REQ_RENDER,  /* dir/document.pdf -> dir/output + dir/result (output.h) */
} pp_converter_request_kind_t;

/* One request. Fields beyond kind, id and dir belong to one kind only. */
typedef struct {
	pp_converter_request_kind_t kind;
	uint64_t id; /* echoed in the reply */
	char dir[PATH_MAX];
	/* PDF */
	char content_type[JOB_CONTENT_TYPE_MAX];
	/* PAGES: analyse and render pages 1..thumbnails, or render first..last */
	bool is_analysing;
	unsigned thumbnails;
	int first, last;
	/* RENDER: pp_output_request_t without pointers (ghostscript comes from the limits) */
	pp_output_format_t format;
	pp_print_options_t options;
	int resolution_dpi;
	bool printer_is_color;
	bool fit_to_page;
	size_t n_printer_media;
	char printer_media[CONVERTER_PRINTER_MEDIA_MAX][OPTIONS_MEDIA_MAX];
} pp_converter_request_t;

/* One reply. */
typedef struct {
	uint64_t id;
	bool is_error;                /* the converter could not work; error says why */
	char error[SANDBOX_MESSAGE_MAX];
	pp_sandbox_result_t result;   /* when !is_error: how the child (or office host) ended */
	double ms;                    /* the converter's time for the request */
} pp_converter_reply_t;

/* converter-protocol.c -------------------------------------------------------------------- */

/* Fills *req with zeroes, the kind, dir and the defaults of RENDER's fields. */
void converter_request_init(pp_converter_request_t *req, pp_converter_request_kind_t kind,
			    const char *dir);

/*
 * True when dir is <tmp_base>/<name>: one component, not "." or "..", no '/', printable,
 * and tmp_base itself absolute. Everything else (absolute paths elsewhere, "../x") is false.
 */
bool converter_dir_is_valid(const char *tmp_base, const char *dir);

/* Each returns new JSON text (free with free()), or NULL with error (a value out of range,
 * out of memory, longer than CONVERTER_MESSAGE_MAX). */
char *converter_limits_encode(const pp_converter_limits_t *limits, char *error,
			      size_t error_size);
char *converter_ready_encode(pid_t pid, char *error, size_t error_size);
char *converter_request_encode(const pp_converter_request_t *req, char *error,
			       size_t error_size);
char *converter_reply_encode(const pp_converter_reply_t *reply, char *error, size_t error_size);

/*
 * Each parses one packet data[len] (untrusted: any bytes) into *_r: exactly the keys of the
 * message, each of its type and in range, strings that fit their arrays without NUL bytes.
 * converter_request_decode() also checks dir with converter_dir_is_valid(tmp_base, …).
 * Return 0, or -1 with error saying what was wrong.
 */
int converter_limits_decode(const char *data, size_t len, pp_converter_limits_t *limits_r,
			    char *error, size_t error_size);
int converter_ready_decode(const char *data, size_t len, pid_t *pid_r, char *error,
			   size_t error_size);
int converter_request_decode(const char *data, size_t len, const char *tmp_base,
			     pp_converter_request_t *req_r, char *error, size_t error_size);
int converter_reply_decode(const char *data, size_t len, pp_converter_reply_t *reply_r,
			   char *error, size_t error_size);

/* Sends text as one packet (MSG_NOSIGNAL). Returns 0, or -1 with error. */
int converter_send(int fd, const char *text, char *error, size_t error_size);

/*
 * Receives one packet into buf[size] (size > CONVERTER_MESSAGE_MAX), NUL-terminated, waiting
 * at most timeout_ms (-1 = no limit). Returns 1 with *len_r, 0 when the peer closed the
 * socket, or -1 with error (timeout: *is_timeout_r true; a packet larger than
 * CONVERTER_MESSAGE_MAX; a socket error).
 */
int converter_recv(int fd, char *buf, size_t size, int timeout_ms, size_t *len_r,
		   bool *is_timeout_r, char *error, size_t error_size);

/* converter-client.c (the broker's side) -------------------------------------------------- */

/* The broker's handle on its converter process. */
typedef struct {
	char program[PATH_MAX]; /* what is spawned; CONVERTER_DEFAULT_PROGRAM unless a test says */
	bool is_running;
	pid_t pid;              /* > 0 when the client spawned it (0: attached, nothing to reap) */
	int fd;                 /* the broker's end of the socket while is_running */
	uint64_t next_id;
	unsigned starts;        /* converters spawned so far (tests, logs) */
	int reply_timeout_ms;   /* -1 = wait as long as it takes */
} pp_converter_client_t;

/* Prepares c: program = CONVERTER_DEFAULT_PROGRAM, nothing running. */
void converter_client_init(pp_converter_client_t *c);

/*
 * Spawns the converter (fresh execve of c->program with argv {program, "--converter",
 * "--fd", "3"}, stdin /dev/null, stdout and stderr the broker's stderr, the socket as fd 3,
 * every other descriptor closed, an environment of HOME (the office profile), LANG and PATH
 * only), sends limits and waits for "ready". Returns 0, or -1 with error (nothing left
 * running).
 */
int converter_client_start(pp_converter_client_t *c, const pp_converter_limits_t *limits,
			   char *error, size_t error_size);

/*
 * For tests: talks over fd (taken over; closed by the client) to a converter the caller runs
 * itself, as if started; pid 0 = nothing to signal or reap.
 */
void converter_client_attach(pp_converter_client_t *c, int fd, pid_t pid);

/*
 * Sends *req (its id set here) and waits for the reply into *reply_r. A converter that dies,
 * hangs past the reply timeout or answers anything but a well-formed reply to this request is
 * killed and reaped, and the request ends as the sandbox would end it: outcome CRASHED (or
 * TIMEOUT) with a user-facing message; the next call starts a new converter. Returns 0 with
 * *reply_r (reply_r->is_error: the converter could not work), or -1 with error when the
 * request could not be sent to a converter that was running (nothing was done).
 */
int converter_client_call(pp_converter_client_t *c, pp_converter_request_t *req,
			  pp_converter_reply_t *reply_r, char *error, size_t error_size);

/* Ends the converter: closes the socket (it finishes and exits), waits a little, then kills.
 * Safe on an initialised client that is not running. */
void converter_client_stop(pp_converter_client_t *c);

/* converter-serve.c (the converter's side) ------------------------------------------------ */

/*
 * The converter's whole life on socket fd: reads the limits, says ready, then serves one
 * request at a time until the broker closes the socket; stops the office host and wipes its
 * profile on the way out. Returns the process exit code (0 after the broker closed, 1 on a
 * malformed message or a broken socket).
 */
int converter_serve(int fd);

#endif
