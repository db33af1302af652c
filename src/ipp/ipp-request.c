/*
 * ipp-request.c - raw bytes to a checked IPP request: the header and attribute groups are
 * decoded by libcups over our own bounded read callback, then checked against RFC 8011
 * section 4.1 (version, request-id, group order, charset and language first, duplicates).
 * This is the parser the fuzz target drives.
 */
#include "ipp/ipp-private.h"

#include "lib/str.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The operations implemented here (operations-supported). */
static const int ipp_ops[] = {
	IPP_OP_PRINT_JOB,       IPP_OP_VALIDATE_JOB,     IPP_OP_CREATE_JOB,
	IPP_OP_SEND_DOCUMENT,   IPP_OP_CANCEL_JOB,       IPP_OP_GET_JOB_ATTRIBUTES,
	IPP_OP_GET_JOBS,        IPP_OP_GET_PRINTER_ATTRIBUTES, IPP_OP_CANCEL_MY_JOBS,
	IPP_OP_CLOSE_JOB,       IPP_OP_IDENTIFY_PRINTER,
};

const int *ipp_operations(size_t *count_r)
{
	*count_r = sizeof(ipp_ops) / sizeof(ipp_ops[0]);
	return ipp_ops;
}

bool ipp_operation_is_supported(ipp_op_t op)
{
	for (size_t i = 0; i < sizeof(ipp_ops) / sizeof(ipp_ops[0]); i++) {
		if (ipp_ops[i] == (int)op)
			return true;
	}
	return false;
}

/* The read side of ippReadIO: hands out bytes of a fixed buffer, never past its end. */
typedef struct {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool is_starved; /* libcups asked for bytes we do not have (yet) */
} ipp_reader_t;

static ssize_t ipp_reader_read(void *ctx, ipp_uchar_t *buf, size_t size)
{
	ipp_reader_t *r = ctx;
	/* libcups asks for exact counts and treats a short read as the end: give all or none. */
	if (r->len - r->pos < size) {
		r->is_starved = true;
		return 0;
	}
	memcpy(buf, r->data + r->pos, size);
	r->pos += size;
	return (ssize_t)size;
}

ipp_parse_result_t ipp_request_parse(const uint8_t *data, size_t len, bool is_complete,
				     ipp_t **request_r, size_t *used_r, ipp_status_t *status_r,
				     char *error, size_t error_size)
{
	*request_r = NULL;
	*used_r = 0;
	*status_r = IPP_STATUS_OK;
	/* The version is checked before libcups sees the rest: a 3.0 request is not ours. */
	if (len >= 2 && data[0] != 1 && data[0] != 2) {
		*status_r = IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED;
		(void)str_format(error, error_size, "IPP version %u.%u is not supported (1.1, 2.0)",
				 data[0], data[1]);
		return IPP_PARSE_ERROR;
	}
	ipp_t *request = ippNew();
	if (request == NULL) {
		*status_r = IPP_STATUS_ERROR_INTERNAL;
		(void)str_format(error, error_size, "out of memory");
		return IPP_PARSE_ERROR;
	}
	ipp_reader_t reader = {.data = data, .len = len, .pos = 0, .is_starved = false};
	ipp_state_t state = ippReadIO(&reader, ipp_reader_read, 1, NULL, request);
	if (state == IPP_STATE_DATA) {
		*request_r = request;
		*used_r = reader.pos;
		return IPP_PARSE_DONE;
	}
	ippDelete(request);
	if (reader.is_starved && !is_complete) {
		if (len < IPP_ATTRS_MAX)
			return IPP_PARSE_MORE;
		*status_r = IPP_STATUS_ERROR_REQUEST_ENTITY;
		(void)str_format(error, error_size, "the attributes pass %u bytes", IPP_ATTRS_MAX);
		return IPP_PARSE_ERROR;
	}
	*status_r = IPP_STATUS_ERROR_BAD_REQUEST;
	(void)str_format(error, error_size, "%s IPP message at byte %zu",
			 reader.is_starved ? "truncated" : "malformed", reader.pos);
	return IPP_PARSE_ERROR;
}

const char *ipp_request_string(ipp_t *request, const char *name)
{
	ipp_attribute_t *attr = ippFindAttribute(request, name, IPP_TAG_ZERO);
	if (attr == NULL || ippGetGroupTag(attr) != IPP_TAG_OPERATION)
		return NULL;
	return ippGetString(attr, 0, NULL);
}

/* One attribute's place for the duplicate check. */
typedef struct {
	int group;
	const char *name;
} ipp_name_t;

static int ipp_name_compare(const void *a, const void *b)
{
	const ipp_name_t *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Checks that no attribute name appears twice within one group (RFC 8011 4.1.3): sort the
 * (group, name) pairs, compare neighbours. Returns 1 with *name_r on a duplicate, 0 when
 * none, -1 when out of memory.
 */
static int ipp_request_has_duplicate(ipp_t *request, char *name_r, size_t name_size)
{
	size_t count = 0;
	for (ipp_attribute_t *a = ippFirstAttribute(request); a != NULL;
	     a = ippNextAttribute(request))
		count++;
	if (count < 2)
		return 0;
	ipp_name_t *names = calloc(count, sizeof(*names));
	if (names == NULL)
		return -1;
	size_t n = 0;
	int group_index = 0;
	ipp_tag_t last = IPP_TAG_ZERO;
	for (ipp_attribute_t *a = ippFirstAttribute(request); a != NULL && n < count;
	     a = ippNextAttribute(request)) {
		/* Each group occurrence counts apart: two job groups are separate objects. */
		if (ippGetName(a) == NULL || ippGetGroupTag(a) == IPP_TAG_ZERO) {
			last = IPP_TAG_ZERO;
			continue;
		}
		if (ippGetGroupTag(a) != last) {
			group_index++;
			last = ippGetGroupTag(a);
		}
		names[n].group = group_index;
		names[n].name = ippGetName(a);
		n++;
	}
	qsort(names, n, sizeof(*names), ipp_name_compare);
	int rc = 0;
	for (size_t i = 1; i < n; i++) {
		if (ipp_name_compare(&names[i - 1], &names[i]) == 0) {
			(void)str_copy(name_r, name_size, names[i].name);
			rc = 1;
			break;
		}
	}
	free(names);
	return rc;
}

ipp_status_t ipp_request_check(ipp_t *request, char *error, size_t error_size)
{
	int minor = 0;
	int major = ippGetVersion(request, &minor);
	if (major != 1 && major != 2) {
		(void)str_format(error, error_size, "IPP version %d.%d is not supported", major,
				 minor);
		return IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED;
	}
	if (ippGetRequestId(request) <= 0) {
		(void)str_format(error, error_size, "request-id must be 1 or more");
		return IPP_STATUS_ERROR_BAD_REQUEST;
	}

	/* Groups in order, the operation group first; charset then language lead it. */
	ipp_attribute_t *first = ippFirstAttribute(request);
	ipp_attribute_t *second = first != NULL ? ippNextAttribute(request) : NULL;
	if (first == NULL || ippGetName(first) == NULL || ippGetGroupTag(first) != IPP_TAG_OPERATION ||
	    strcmp(ippGetName(first), "attributes-charset") != 0 ||
	    ippGetValueTag(first) != IPP_TAG_CHARSET || ippGetCount(first) != 1) {
		(void)str_format(error, error_size, "attributes-charset must come first");
		return IPP_STATUS_ERROR_BAD_REQUEST;
	}
	if (second == NULL || ippGetName(second) == NULL ||
	    ippGetGroupTag(second) != IPP_TAG_OPERATION ||
	    strcmp(ippGetName(second), "attributes-natural-language") != 0 ||
	    ippGetValueTag(second) != IPP_TAG_LANGUAGE || ippGetCount(second) != 1) {
		(void)str_format(error, error_size, "attributes-natural-language must come second");
		return IPP_STATUS_ERROR_BAD_REQUEST;
	}
	const char *charset = ippGetString(first, 0, NULL);
	if (charset == NULL ||
	    (strcasecmp(charset, "utf-8") != 0 && strcasecmp(charset, "us-ascii") != 0)) {
		(void)str_format(error, error_size, "charset %s is not supported (utf-8)",
				 charset != NULL ? charset : "(none)");
		return IPP_STATUS_ERROR_CHARSET;
	}
	ipp_tag_t last_group = IPP_TAG_OPERATION;
	for (ipp_attribute_t *a = ippFirstAttribute(request); a != NULL;
	     a = ippNextAttribute(request)) {
		ipp_tag_t group = ippGetGroupTag(a);
		if (group == IPP_TAG_ZERO)
			continue; /* a separator */
		if (group != IPP_TAG_OPERATION && group != IPP_TAG_JOB &&
		    group != IPP_TAG_PRINTER && group != IPP_TAG_DOCUMENT) {
			(void)str_format(error, error_size, "group %s does not belong in a request",
					 ippTagString(group));
			return IPP_STATUS_ERROR_BAD_REQUEST;
		}
		if (group < last_group) {
			(void)str_format(error, error_size, "attribute groups out of order");
			return IPP_STATUS_ERROR_BAD_REQUEST;
		}
		last_group = group;
	}
	char dup[IPP_NAME_MAX];
	int has_dup = ipp_request_has_duplicate(request, dup, sizeof(dup));
	if (has_dup < 0) {
		(void)str_format(error, error_size, "out of memory");
		return IPP_STATUS_ERROR_INTERNAL;
	}
	if (has_dup > 0) {
		(void)str_format(error, error_size, "attribute %s appears twice", dup);
		return IPP_STATUS_ERROR_BAD_REQUEST;
	}
	ipp_op_t op = ippGetOperation(request);
	if (!ipp_operation_is_supported(op)) {
		(void)str_format(error, error_size, "operation 0x%04x is not supported", (unsigned)op);
		return IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED;
	}
	/* Every operation here targets the printer (or a job by printer-uri + job-id). */
	ipp_attribute_t *target = ippFindAttribute(request, "printer-uri", IPP_TAG_ZERO);
	ipp_attribute_t *job_uri = ippFindAttribute(request, "job-uri", IPP_TAG_ZERO);
	if ((target == NULL || ippGetGroupTag(target) != IPP_TAG_OPERATION ||
	     ippGetValueTag(target) != IPP_TAG_URI || ippGetCount(target) != 1) &&
	    (job_uri == NULL || ippGetGroupTag(job_uri) != IPP_TAG_OPERATION ||
	     ippGetValueTag(job_uri) != IPP_TAG_URI || ippGetCount(job_uri) != 1)) {
		(void)str_format(error, error_size, "printer-uri (or job-uri) is missing or malformed");
		return IPP_STATUS_ERROR_BAD_REQUEST;
	}
	return IPP_STATUS_OK;
}
