/* job.c - jobs and documents as stored: create, read, list, delete; see job.h. */
#include "core/job.h"

#include "core/settings.h"
#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/str.h"
#include "spool/spool.h"

#include <stdlib.h>
#include <string.h>

/* The columns job_from_row() reads, in order. */
#define JOB_COLUMNS                                                                                \
	"id, uuid, user_id, state, state_reason, title, source, options, printer_id,"              \
	" is_combined, pages, color_pages, size_bytes, created_at, updated_at, released_at,"       \
	" finished_at, expires_at, CASE WHEN pin_hash IS NULL THEN 0 ELSE 1 END"

#define DOC_COLUMNS "id, job_id, role, file_id, name, content_type, size_bytes, created_at"

/* The SQL text of "finished for good": files may go, nothing comes back. */
#define JOB_FINISHED_SQL                                                                           \
	"(state IN ('completed','rejected','canceled','expired')"                                  \
	" OR (state = 'failed' AND finished_at IS NOT NULL))"

void job_text_copy(char *dst, size_t size, const char *src)
{
	if (size == 0)
		return;
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	size_t len = strlen(src);
	if (len >= size) {
		len = size - 1;
		/* Step back over continuation bytes (10xxxxxx) so no character is split. */
		while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int64_t job_int_or_zero(const pp_db_result_t *res, size_t row, size_t col)
{
	return db_result_is_null(res, row, col) ? 0 : db_result_int(res, row, col);
}

/* Fills *job from row of a SELECT JOB_COLUMNS result. */
static void job_from_row(const pp_db_result_t *res, size_t row, pp_job_t *job)
{
	char error[256];
	memset(job, 0, sizeof(*job));
	job->id = db_result_int(res, row, 0);
	job_text_copy(job->uuid, sizeof(job->uuid), db_result_text(res, row, 1));
	job->user_id = db_result_int(res, row, 2);
	if (!job_state_parse(db_result_text(res, row, 3), &job->state)) {
		log_error("job.bad_state job=%lld state=%s", (long long)job->id,
		          db_result_text(res, row, 3));
		job->state = PP_JOB_FAILED;
	}
	job_text_copy(job->state_reason, sizeof(job->state_reason), db_result_text(res, row, 4));
	job_text_copy(job->title, sizeof(job->title), db_result_text(res, row, 5));
	job_text_copy(job->source, sizeof(job->source), db_result_text(res, row, 6));
	if (options_from_json(db_result_text(res, row, 7), &job->options, error, sizeof(error)) <
	    0) {
		/* Stored options were valid when written; print with defaults rather than fail. */
		log_warn("job.bad_options job=%lld error=\"%s\"", (long long)job->id, error);
		options_default(&job->options);
	}
	job->printer_id = job_int_or_zero(res, row, 8);
	job->is_combined = db_result_int(res, row, 9) != 0;
	job->pages = db_result_is_null(res, row, 10) ? -1 : db_result_int(res, row, 10);
	job->color_pages = db_result_is_null(res, row, 11) ? -1 : db_result_int(res, row, 11);
	job->size_bytes = db_result_int(res, row, 12);
	job->created_at = db_result_int(res, row, 13);
	job->updated_at = db_result_int(res, row, 14);
	job->released_at = job_int_or_zero(res, row, 15);
	job->finished_at = job_int_or_zero(res, row, 16);
	job->expires_at = job_int_or_zero(res, row, 17);
	job->has_pin = db_result_int(res, row, 18) != 0;
}

/* Runs a query for at most one job row. */
static int job_get_one(pp_core_t *core, const char *sql, pp_db_value_t param, pp_job_t *job_r,
                       char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	if (db_query(core->db, sql, &param, 1, &res, error, error_size) != DB_OK)
		return JOB_ERROR;
	int rc = JOB_OK;
	if (db_result_rows(res) == 0) {
		(void)str_format(error, error_size, "no such job");
		rc = JOB_NOT_FOUND;
	} else {
		job_from_row(res, 0, job_r);
	}
	db_result_free(&res);
	return rc;
}

int job_get(pp_core_t *core, int64_t id, pp_job_t *job_r, char *error, size_t error_size)
{
	return job_get_one(core, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = $1", DB_INT(id),
	                   job_r, error, error_size);
}

int job_get_by_uuid(pp_core_t *core, const char *uuid, pp_job_t *job_r, char *error,
                    size_t error_size)
{
	return job_get_one(core, "SELECT " JOB_COLUMNS " FROM jobs WHERE uuid = $1", DB_TEXT(uuid),
	                   job_r, error, error_size);
}

/* A job-password's hash input starts with this, so it never equals another keyed hash's. */
#define JOB_PIN_DOMAIN "job-pin:"

/*
 * The stored form of a job-password: keyed hash (core's code key) of the domain, the job's
 * uuid (fixed length, so the concatenation is unambiguous) and the pin. The uuid binds it to
 * the job: equal pins of two jobs hash differently. pin must be shorter than JOB_PIN_MAX.
 */
static void job_pin_hash(const pp_core_t *core, const char *uuid, const char *pin,
                         char out[CRYPTO_HASH_HEX_LEN + 1])
{
	char input[sizeof(JOB_PIN_DOMAIN) - 1 + CRYPTO_ID_HEX_LEN + JOB_PIN_MAX];
	size_t domain_len = sizeof(JOB_PIN_DOMAIN) - 1;
	size_t uuid_len = strnlen(uuid, CRYPTO_ID_HEX_LEN);
	size_t pin_len = strnlen(pin, JOB_PIN_MAX - 1);
	memcpy(input, JOB_PIN_DOMAIN, domain_len);
	memcpy(input + domain_len, uuid, uuid_len);
	memcpy(input + domain_len + uuid_len, pin, pin_len);
	crypto_keyed_hash_hex(core->code_key, input, domain_len + uuid_len + pin_len, out);
	crypto_wipe(input, sizeof(input));
}

/* Compared against when a job has no pin: 64 characters no hex hash contains. */
#define JOB_PIN_NONE "----------------------------------------------------------------"
_Static_assert(sizeof(JOB_PIN_NONE) == CRYPTO_HASH_HEX_LEN + 1, "JOB_PIN_NONE is a hash long");

/* True for a job-password job_create() accepts: 1..JOB_PIN_MAX - 1 bytes. */
static bool job_pin_is_valid(const char *pin)
{
	return pin[0] != '\0' && strnlen(pin, JOB_PIN_MAX) < JOB_PIN_MAX;
}

int job_create(pp_core_t *core, const pp_job_new_t *job, pp_job_t *job_r, char *error,
               size_t error_size)
{
	pp_print_options_t defaults;
	const pp_print_options_t *options = job->options;
	if (job->source == NULL || job->source[0] == '\0' ||
	    strlen(job->source) >= JOB_SOURCE_MAX) {
		(void)str_format(error, error_size, "job: source must be 1..%d characters",
		                 JOB_SOURCE_MAX - 1);
		return -1;
	}
	if (job->pin != NULL && !job_pin_is_valid(job->pin)) {
		(void)str_format(error, error_size,
		                 "job: a job password must be 1..%d bytes; send another one",
		                 JOB_PIN_MAX - 1);
		return -1;
	}
	if (job->is_incoming && job->incoming_timeout_s <= 0) {
		(void)str_format(error, error_size,
		                 "job: a job waiting for its document needs a time-out above 0 "
		                 "seconds");
		return -1;
	}
	if (options == NULL) {
		options_default(&defaults);
		options = &defaults;
	}
	if (options_validate(options, error, error_size) < 0)
		return -1;
	int64_t hours;
	if (settings_get_int(core, "jobs.retention_hours", &hours, error, error_size) < 0)
		return -1;
	char *options_json = options_to_json(options);
	if (options_json == NULL) {
		(void)str_format(error, error_size, "job: out of memory");
		return -1;
	}
	char uuid[CRYPTO_ID_HEX_LEN + 1];
	char title[JOB_TITLE_MAX];
	char pin_hash[CRYPTO_HASH_HEX_LEN + 1];
	crypto_time_id(uuid, 0); /* the uuid index grows at its end */
	job_text_copy(title, sizeof(title), job->title);
	if (job->pin != NULL)
		job_pin_hash(core, uuid, job->pin, pin_hash);
	int64_t now = core_now(core);
	/* An incoming job waits only for its document (the operation time-out); a received
	 * one for its release (the retention time). */
	int64_t expires_at = job->is_incoming ? now + job->incoming_timeout_s : now + hours * 3600;
	pp_db_value_t params[] = {
	    DB_TEXT(uuid),
	    DB_INT(job->user_id),
	    DB_TEXT(job_state_name(job->is_incoming ? PP_JOB_INCOMING : PP_JOB_RECEIVED)),
	    DB_TEXT(title),
	    DB_TEXT(job->source),
	    DB_TEXT(options_json),
	    job->printer_id > 0 ? DB_INT(job->printer_id) : DB_NULL,
	    DB_INT(job->printer_id > 0 ? 1 : 0),
	    DB_INT(job->size_bytes),
	    DB_INT(now),
	    DB_INT(expires_at),
	    job->pin != NULL ? DB_TEXT(pin_hash) : DB_NULL,
	};
	/* Only the id comes back (RETURNING, on both backends): every other column is what was
	 * just written or its default, so the row is not read back and its options not parsed
	 * again. test-job checks that this equals job_get(). */
	pp_db_result_t *res = NULL;
	int rc = db_query(core->db,
	                  "INSERT INTO jobs (uuid, user_id, state, title, source, options,"
	                  " printer_id, is_combined, size_bytes, created_at, updated_at, expires_at,"
	                  " pin_hash)"
	                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)"
	                  " RETURNING id",
	                  params, sizeof(params) / sizeof(params[0]), &res, error, error_size);
	free(options_json);
	crypto_wipe(pin_hash, sizeof(pin_hash));
	if (rc != DB_OK)
		return -1;
	if (db_result_rows(res) != 1) {
		db_result_free(&res);
		(void)str_format(error, error_size, "job: the new row did not come back");
		return -1;
	}
	if (job_r != NULL) {
		memset(job_r, 0, sizeof(*job_r));
		job_r->id = db_result_int(res, 0, 0);
		(void)str_copy(job_r->uuid, sizeof(job_r->uuid), uuid);
		job_r->user_id = job->user_id;
		job_r->state = job->is_incoming ? PP_JOB_INCOMING : PP_JOB_RECEIVED;
		(void)str_copy(job_r->title, sizeof(job_r->title), title);
		job_text_copy(job_r->source, sizeof(job_r->source), job->source);
		job_r->options = *options;
		job_r->printer_id = job->printer_id > 0 ? job->printer_id : 0;
		job_r->is_combined = job->printer_id > 0;
		job_r->pages = -1;
		job_r->color_pages = -1;
		job_r->size_bytes = job->size_bytes;
		job_r->created_at = now;
		job_r->updated_at = now;
		job_r->expires_at = expires_at;
		job_r->has_pin = job->pin != NULL;
	}
	db_result_free(&res);
	return 0;
}

int job_pin_verify(pp_core_t *core, int64_t job_id, const char *pin, bool *match_r, char *error,
                   size_t error_size)
{
	*match_r = false;
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	if (db_query(core->db, "SELECT uuid, pin_hash FROM jobs WHERE id = $1", params, 1, &res,
	             error, error_size) != DB_OK)
		return JOB_ERROR;
	if (db_result_rows(res) == 0) {
		db_result_free(&res);
		(void)str_format(error, error_size, "job %lld does not exist", (long long)job_id);
		return JOB_NOT_FOUND;
	}
	/* The same work whatever the row holds: hash what was given, then compare in constant
	 * time with the stored hash, or with a placeholder no hash equals when there is none. */
	bool has_pin = !db_result_is_null(res, 0, 1) &&
	               strlen(db_result_text(res, 0, 1)) == CRYPTO_HASH_HEX_LEN;
	bool is_valid = pin != NULL && job_pin_is_valid(pin);
	char given[CRYPTO_HASH_HEX_LEN + 1];
	job_pin_hash(core, db_result_text(res, 0, 0), is_valid ? pin : "", given);
	const char *stored = has_pin ? db_result_text(res, 0, 1) : JOB_PIN_NONE;
	bool is_equal = crypto_equal(given, stored, CRYPTO_HASH_HEX_LEN);
	db_result_free(&res);
	crypto_wipe(given, sizeof(given));
	*match_r = has_pin && is_valid && is_equal;
	return JOB_OK;
}

/* The INSERT of job_document_add() and job_document_add_sealed(); sealed may be NULL. */
static int job_document_insert(pp_core_t *core, int64_t job_id, const char *role,
                               const char *file_id, const char *name, const char *content_type,
                               int64_t size_bytes, const uint8_t *sealed, size_t sealed_len,
                               char *error, size_t error_size)
{
	char name_cut[JOB_DOC_NAME_MAX];
	char type_cut[JOB_CONTENT_TYPE_MAX];
	if (role == NULL || role[0] == '\0' || strlen(role) >= JOB_DOC_ROLE_MAX ||
	    file_id == NULL || strlen(file_id) != CRYPTO_ID_HEX_LEN) {
		(void)str_format(error, error_size,
		                 "document: a role (1..%d characters) and a %d-digit file id are "
		                 "needed",
		                 JOB_DOC_ROLE_MAX - 1, CRYPTO_ID_HEX_LEN);
		return -1;
	}
	job_text_copy(name_cut, sizeof(name_cut), name);
	job_text_copy(type_cut, sizeof(type_cut),
	              content_type != NULL && content_type[0] != '\0' ? content_type
	                                                              : "application/octet-stream");
	pp_db_value_t params[] = {
	    DB_INT(job_id),    DB_TEXT(role),      DB_TEXT(file_id),       DB_TEXT(name_cut),
	    DB_TEXT(type_cut), DB_INT(size_bytes), DB_INT(core_now(core)),
	    sealed != NULL ? DB_BLOB(sealed, sealed_len) : DB_NULL,
	};
	return db_exec(core->db,
	               "INSERT INTO documents (job_id, role, file_id, name, content_type,"
	               " size_bytes, created_at, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	               params, sizeof(params) / sizeof(params[0]), NULL, error, error_size);
}

int job_document_add_sealed(pp_core_t *core, int64_t job_id, const char *role,
                            const char *file_id, const char *name, const char *content_type,
                            int64_t size_bytes, const uint8_t *sealed, size_t sealed_len,
                            char *error, size_t error_size)
{
	int rc = job_document_insert(core, job_id, role, file_id, name, content_type, size_bytes,
	                             sealed, sealed_len, error, error_size);
	return rc == DB_OK ? 0 : rc;
}

int job_document_add(pp_core_t *core, int64_t job_id, const char *role, const char *file_id,
                     const char *name, const char *content_type, int64_t size_bytes,
                     int64_t *document_id_r, char *error, size_t error_size)
{
	int rc = job_document_insert(core, job_id, role, file_id, name, content_type, size_bytes,
	                             NULL, 0, error, error_size);
	if (rc != DB_OK)
		return rc;
	if (document_id_r != NULL) {
		pp_db_result_t *res = NULL;
		pp_db_value_t p[] = {DB_TEXT(file_id)};
		if (db_query(core->db, "SELECT id FROM documents WHERE file_id = $1", p, 1, &res,
		             error, error_size) != DB_OK)
			return -1;
		*document_id_r = db_result_rows(res) == 1 ? db_result_int(res, 0, 0) : 0;
		db_result_free(&res);
	}
	return 0;
}

/*
 * Shared by both listings: "state IN ($k, …)" over the set bits of states, newest first
 * from below cursor. The SQL text is assembled from fixed fragments only; every value is a
 * bound parameter.
 */
static int job_list_query(pp_core_t *core, bool has_user, int64_t user_id, uint32_t states,
                          size_t limit, int64_t cursor, pp_job_t **jobs_r, size_t *count_r,
                          int64_t *next_cursor_r, char *error, size_t error_size)
{
	char sql[1024];
	pp_db_value_t params[4 + PP_JOB_STATE_COUNT];
	size_t n = 0;
	*jobs_r = NULL;
	*count_r = 0;
	*next_cursor_r = 0;
	if (limit == 0 || limit > JOB_LIST_MAX) {
		(void)str_format(error, error_size, "jobs: list between 1 and %d rows",
		                 JOB_LIST_MAX);
		return -1;
	}
	size_t pos = 0;
	if (!str_format(sql, sizeof(sql), "SELECT " JOB_COLUMNS " FROM jobs WHERE id < $1"))
		return -1;
	params[n++] = DB_INT(cursor > 0 ? cursor : INT64_MAX);
	pos = strlen(sql);
	if (has_user) {
		params[n] = DB_INT(user_id);
		n++;
		if (!str_format(sql + pos, sizeof(sql) - pos, " AND user_id = $%zu", n))
			return -1;
		pos = strlen(sql);
	}
	if (states != 0) {
		if (!str_format(sql + pos, sizeof(sql) - pos, " AND state IN ("))
			return -1;
		pos = strlen(sql);
		bool is_first = true;
		for (unsigned s = 0; s < PP_JOB_STATE_COUNT; s++) {
			if ((states & JOB_STATE_BIT(s)) == 0)
				continue;
			params[n] = DB_TEXT(job_state_name((pp_job_state_t)s));
			n++;
			if (!str_format(sql + pos, sizeof(sql) - pos, "%s$%zu", is_first ? "" : ",",
			                n))
				return -1;
			pos = strlen(sql);
			is_first = false;
		}
		if (!str_format(sql + pos, sizeof(sql) - pos, ")"))
			return -1;
		pos = strlen(sql);
	}
	/* One row more than asked tells whether a next page exists. */
	params[n] = DB_INT((int64_t)limit + 1);
	n++;
	if (!str_format(sql + pos, sizeof(sql) - pos, " ORDER BY id DESC LIMIT $%zu", n))
		return -1;

	pp_db_result_t *res = NULL;
	if (db_query(core->db, sql, params, n, &res, error, error_size) != DB_OK)
		return -1;
	size_t rows = db_result_rows(res);
	size_t count = rows > limit ? limit : rows;
	pp_job_t *jobs = calloc(count > 0 ? count : 1, sizeof(*jobs));
	if (jobs == NULL) {
		db_result_free(&res);
		(void)str_format(error, error_size, "jobs: out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		job_from_row(res, i, &jobs[i]);
	db_result_free(&res);
	*jobs_r = jobs;
	*count_r = count;
	*next_cursor_r = rows > limit ? jobs[count - 1].id : 0;
	return 0;
}

int job_list_for_user(pp_core_t *core, int64_t user_id, uint32_t states, size_t limit,
                      int64_t cursor, pp_job_t **jobs_r, size_t *count_r, int64_t *next_cursor_r,
                      char *error, size_t error_size)
{
	return job_list_query(core, true, user_id, states, limit, cursor, jobs_r, count_r,
	                      next_cursor_r, error, error_size);
}

int job_list(pp_core_t *core, uint32_t states, size_t limit, int64_t cursor, pp_job_t **jobs_r,
             size_t *count_r, int64_t *next_cursor_r, char *error, size_t error_size)
{
	return job_list_query(core, false, 0, states, limit, cursor, jobs_r, count_r, next_cursor_r,
	                      error, error_size);
}

void job_list_free(pp_job_t **jobs)
{
	if (jobs == NULL)
		return;
	free(*jobs);
	*jobs = NULL;
}

int job_changes_since(pp_core_t *core, int64_t user_id, int64_t since, pp_job_change_t *changes,
                      size_t max, size_t *count_r, char *error, size_t error_size)
{
	*count_r = 0;
	if (max == 0 || max > JOB_LIST_MAX) {
		(void)str_format(error, error_size, "jobs: list between 1 and %d changes",
		                 JOB_LIST_MAX);
		return -1;
	}
	const pp_db_value_t params[] = {DB_INT(user_id), DB_INT(since), DB_INT((int64_t)max)};
	pp_db_result_t *res = NULL;
	if (db_query(core->db,
	             "SELECT id, state, updated_at, COALESCE(pages, -1) FROM jobs"
	             " WHERE user_id = $1 AND updated_at >= $2 ORDER BY updated_at, id LIMIT $3",
	             params, 3, &res, error, error_size) != DB_OK)
		return -1;
	size_t rows = db_result_rows(res);
	for (size_t i = 0; i < rows && i < max; i++) {
		pp_job_change_t *change = &changes[i];
		change->id = db_result_int(res, i, 0);
		if (!job_state_parse(db_result_text(res, i, 1), &change->state))
			change->state = PP_JOB_FAILED;
		change->updated_at = db_result_int(res, i, 2);
		change->pages = db_result_int(res, i, 3);
		*count_r = i + 1;
	}
	db_result_free(&res);
	return 0;
}

int job_set_options(pp_core_t *core, int64_t job_id, int64_t user_id,
                    const pp_print_options_t *options, char *error, size_t error_size)
{
	if (options_validate(options, error, error_size) < 0)
		return JOB_ERROR;
	char *text = options_to_json(options);
	if (text == NULL) {
		(void)str_format(error, error_size, "job: out of memory");
		return JOB_ERROR;
	}
	/* Only while the job waits: once released, the printer has what it was sent. */
	const pp_db_value_t params[] = {DB_TEXT(text), DB_INT(core_now(core)), DB_INT(job_id),
	                                DB_INT(user_id)};
	int64_t changes = 0;
	int rc = db_exec(core->db,
	                 "UPDATE jobs SET options = $1, updated_at = $2 WHERE id = $3"
	                 " AND ($4 = 0 OR user_id = $4)"
	                 " AND state IN ('incoming','received','converting','held')",
	                 params, 4, &changes, error, error_size);
	free(text);
	if (rc != DB_OK)
		return JOB_ERROR;
	if (changes > 0)
		return JOB_OK;
	/* Nothing changed: tell a missing job (or another user's) from one past waiting. */
	pp_job_t job;
	rc = job_get(core, job_id, &job, error, error_size);
	if (rc != JOB_OK)
		return rc;
	if (user_id > 0 && job.user_id != user_id) {
		(void)str_format(error, error_size, "no such job");
		return JOB_NOT_FOUND;
	}
	(void)str_format(error, error_size,
	                 "job %lld is %s: its options can change only until it is released",
	                 (long long)job_id, job_state_name(job.state));
	return JOB_STATE_FORBIDDEN;
}

static void job_document_from_row(const pp_db_result_t *res, size_t row, pp_document_t *doc)
{
	memset(doc, 0, sizeof(*doc));
	doc->id = db_result_int(res, row, 0);
	doc->job_id = db_result_int(res, row, 1);
	job_text_copy(doc->role, sizeof(doc->role), db_result_text(res, row, 2));
	job_text_copy(doc->file_id, sizeof(doc->file_id), db_result_text(res, row, 3));
	job_text_copy(doc->name, sizeof(doc->name), db_result_text(res, row, 4));
	job_text_copy(doc->content_type, sizeof(doc->content_type), db_result_text(res, row, 5));
	doc->size_bytes = db_result_int(res, row, 6);
	doc->created_at = db_result_int(res, row, 7);
}

int job_documents(pp_core_t *core, int64_t job_id, pp_document_t **docs_r, size_t *count_r,
                  char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	*docs_r = NULL;
	*count_r = 0;
	if (db_query(core->db,
	             "SELECT " DOC_COLUMNS
	             " FROM documents WHERE job_id = $1 ORDER BY id LIMIT 1000",
	             params, 1, &res, error, error_size) != DB_OK)
		return -1;
	size_t rows = db_result_rows(res);
	pp_document_t *docs = calloc(rows > 0 ? rows : 1, sizeof(*docs));
	if (docs == NULL) {
		db_result_free(&res);
		(void)str_format(error, error_size, "documents: out of memory");
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		job_document_from_row(res, i, &docs[i]);
	db_result_free(&res);
	*docs_r = docs;
	*count_r = rows;
	return 0;
}

void job_documents_free(pp_document_t **docs)
{
	if (docs == NULL)
		return;
	free(*docs);
	*docs = NULL;
}

/*
 * Inside the caller's transaction: copies the file ids of job_id's documents and deletes their
 * rows. *files_r is new (free with free()), CRYPTO_ID_HEX_LEN + 1 bytes per id.
 */
static int job_take_documents_locked(pp_core_t *core, int64_t job_id, char **files_r,
                                     size_t *count_r, char *error, size_t error_size)
{
	pp_db_result_t *res = NULL;
	pp_db_value_t params[] = {DB_INT(job_id)};
	*files_r = NULL;
	*count_r = 0;
	if (db_query(core->db, "SELECT file_id FROM documents WHERE job_id = $1", params, 1, &res,
	             error, error_size) != DB_OK)
		return -1;
	size_t rows = db_result_rows(res);
	char *files = calloc(rows > 0 ? rows : 1, CRYPTO_ID_HEX_LEN + 1);
	if (files == NULL) {
		db_result_free(&res);
		(void)str_format(error, error_size, "documents: out of memory");
		return -1;
	}
	for (size_t i = 0; i < rows; i++)
		job_text_copy(files + i * (CRYPTO_ID_HEX_LEN + 1), CRYPTO_ID_HEX_LEN + 1,
		              db_result_text(res, i, 0));
	db_result_free(&res);
	if (db_exec(core->db, "DELETE FROM documents WHERE job_id = $1", params, 1, NULL, error,
	            error_size) != DB_OK) {
		free(files);
		return -1;
	}
	*files_r = files;
	*count_r = rows;
	return 0;
}

/* After the commit: removes the spool files. A failure leaves an orphan for recovery. */
static void job_remove_files(pp_core_t *core, int64_t job_id, const char *files, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *file_id = files + i * (CRYPTO_ID_HEX_LEN + 1);
		char error[256];
		if (core->spool == NULL) {
			log_warn("job.file_left job=%lld file=%s reason=no_spool",
			         (long long)job_id, file_id);
			continue;
		}
		if (spool_delete(core->spool, file_id, error, sizeof(error)) < 0)
			log_warn("job.file_left job=%lld file=%s error=\"%s\" — startup recovery "
			         "removes it",
			         (long long)job_id, file_id, error);
	}
}

int job_delete(pp_core_t *core, int64_t job_id, char *error, size_t error_size)
{
	char *files = NULL;
	size_t count = 0;
	int64_t changes = 0;
	pp_db_value_t params[] = {DB_INT(job_id), DB_INT(core_now(core))};
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return JOB_ERROR;
	/* Lock the row first (a no-op UPDATE) so no document can be added while we collect them;
	 * a job being delivered keeps its files. */
	if (db_exec(core->db,
	            "UPDATE jobs SET updated_at = $2 WHERE id = $1"
	            " AND state NOT IN ('releasing','printing')",
	            params, 2, &changes, error, error_size) != DB_OK)
		goto fail;
	if (changes == 0) {
		pp_job_t job;
		int rc = job_get(core, job_id, &job, error, error_size);
		db_tx_rollback(core->db);
		if (rc != JOB_OK)
			return rc;
		(void)str_format(error, error_size, "job %lld is %s; cancel it before deleting it",
		                 (long long)job_id, job_state_name(job.state));
		return JOB_STATE_FORBIDDEN;
	}
	if (job_take_documents_locked(core, job_id, &files, &count, error, error_size) < 0)
		goto fail;
	if (db_exec(core->db, "DELETE FROM jobs WHERE id = $1", params, 1, NULL, error,
	            error_size) != DB_OK)
		goto fail;
	fault_point("job_delete.before_commit");
	if (db_tx_commit(core->db, error, error_size) != DB_OK) {
		free(files);
		return JOB_ERROR;
	}
	/* Files go only after the commit: a crash now leaves orphans, never dangling rows. */
	fault_point("job_delete.after_commit");
	job_remove_files(core, job_id, files, count);
	free(files);
	log_info("job.deleted job=%lld files=%zu", (long long)job_id, count);
	return JOB_OK;
fail:
	db_tx_rollback(core->db);
	free(files);
	return JOB_ERROR;
}

int job_drop_documents(pp_core_t *core, int64_t job_id, size_t *files_r, char *error,
                       size_t error_size)
{
	char *files = NULL;
	size_t count = 0;
	int64_t changes = 0;
	pp_db_value_t params[] = {DB_INT(job_id), DB_INT(core_now(core))};
	if (files_r != NULL)
		*files_r = 0;
	if (db_tx_begin(core->db, error, error_size) != DB_OK)
		return -1;
	/* Only a finished job loses its files; the row lock keeps the state from changing. */
	if (db_exec(core->db, "UPDATE jobs SET updated_at = $2 WHERE id = $1 AND " JOB_FINISHED_SQL,
	            params, 2, &changes, error, error_size) != DB_OK)
		goto fail;
	if (changes == 0) {
		db_tx_rollback(core->db);
		(void)str_format(error, error_size,
		                 "job %lld does not exist or is not finished; its files stay",
		                 (long long)job_id);
		return -1;
	}
	if (job_take_documents_locked(core, job_id, &files, &count, error, error_size) < 0)
		goto fail;
	if (db_tx_commit(core->db, error, error_size) != DB_OK) {
		free(files);
		return -1;
	}
	fault_point("job_drop.after_commit");
	job_remove_files(core, job_id, files, count);
	free(files);
	if (files_r != NULL)
		*files_r = count;
	return 0;
fail:
	db_tx_rollback(core->db);
	free(files);
	return -1;
}
