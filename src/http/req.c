/* Helpers for handlers: answers, errors, body checks, pages, audit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "call/call.h"
#include "dni/dni.h"
#include "http/http_int.h"

#define RT_LOG_MODULE "http"

void rt_http_body(struct rt_req *r, int status, const char *type, char *body,
		  size_t len)
{
	free(r->resp);
	if (r->resp_is_fd) {
		close(r->resp_fd);
		r->resp_is_fd = false;
	}
	r->resp = body;
	r->resp_len = len;
	r->status = status;
	r->content_type = type;
	r->responded = true;
}

void rt_http_file(struct rt_req *r, int status, const char *type, int fd,
		  uint64_t off, uint64_t len)
{
	free(r->resp);
	r->resp = NULL;
	if (r->resp_is_fd)
		close(r->resp_fd);
	r->resp_is_fd = true;
	r->resp_fd = fd;
	r->resp_off = off;
	r->resp_len = (size_t)len;
	r->status = status;
	r->content_type = type;
	r->responded = true;
}

void rt_http_json(struct rt_req *r, int status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(j);
	if (!s) {
		static const char oom[] = "{\"error\":{\"code\":\"internal\","
					  "\"message\":\"out of "
					  "memory\"}}";

		s = strdup(oom);
		status = 500;
		if (!s) {
			r->responded = true;
			r->status = 500;
			return;
		}
	}
	rt_http_body(r, status, "application/json", s, strlen(s));
}

static void send_error(struct rt_req *r, int status, const char *code,
		       const char *field, const char *message)
{
	json_t *e = json_pack("{s:s,s:s}", "code", code, "message", message);

	if (e && field && *field)
		json_object_set_new(e, "field", json_string(field));
	rt_http_json(r, status, e ? json_pack("{s:o}", "error", e) : NULL);
}

void rt_http_error(struct rt_req *r, int status, const char *code,
		   const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_error(r, status, code, field, msg);
}

void rt_http_fail(struct rt_req *r, int err, const char *what)
{
	switch (err) {
	case ENOENT:
		rt_http_error(r, 404, "not_found", NULL, "no such resource");
		return;
	case EEXIST:
		rt_http_error(r, 409, "conflict", NULL,
			      "it conflicts with an existing resource");
		return;
	case EINVAL:
		rt_http_error(r, 422, "invalid_request", NULL,
			      "the request breaks a rule of the data model");
		return;
	case EBUSY:
		rt_http_header(r, "Retry-After", "1");
		rt_http_error(r, 503, "unavailable", NULL,
			      "the database is busy; try again");
		return;
	default:
		/* Internals go to the log, never to the client. */
		rt_error("request failed", "during=\"%s\" err=%d error=\"%s\"",
			 what, err, strerror(err));
		rt_http_error(r, 500, "internal", NULL,
			      "an internal error occurred; quote request id %s",
			      r->request_id);
		return;
	}
}

void rt_http_header(struct rt_req *r, const char *name, const char *value)
{
	char *n, *v;

	if (r->nhdr >= RT_MAX_EXTRA_HEADERS)
		RT_BUG("more than %d extra headers", RT_MAX_EXTRA_HEADERS);
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return;
	}
	r->hdr_name[r->nhdr] = n;
	r->hdr_value[r->nhdr] = v;
	r->nhdr++;
}

void rt_http_err_set(struct rt_http_err *e, int status, const char *code,
		     const char *field, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	rt_strlcpy(e->field, field ? field : "", sizeof(e->field));
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

void rt_http_send_err(struct rt_req *r, const struct rt_http_err *e)
{
	send_error(r, e->status, e->code, e->field, e->message);
}

json_t *rt_http_parse_json(const char *data, size_t len, struct rt_http_err *e)
{
	json_error_t jerr;
	json_t *j;

	if (len == 0) {
		rt_http_err_set(
			e, 400, "invalid_json", NULL,
			"the request body is empty: send a JSON object");
		return NULL;
	}
	/* jansson checks UTF-8 and refuses \u0000 in strings. */
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			rt_http_err_set(e, 400, "invalid_utf8", NULL,
					"the request body is not valid UTF-8");
		else
			rt_http_err_set(
				e, 400, "invalid_json", NULL,
				"malformed JSON at line %d column %d: %s",
				jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		rt_http_err_set(e, 400, "invalid_json", NULL,
				"the request body must be a JSON object");
		return NULL;
	}
	return j;
}

static const char *type_name(enum rt_ftype t)
{
	switch (t) {
	case RT_F_STRING:
		return "a string";
	case RT_F_INT:
		return "an integer";
	case RT_F_BOOL:
		return "true or false";
	case RT_F_STRINGS:
		return "an array of strings";
	case RT_F_TIME:
		return "an RFC 3339 time string";
	case RT_F_FLAGS:
		return "an object of true or false values";
	case RT_F_OBJECT:
		return "an object";
	}
	return "?";
}

static bool has_control(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

static int check_string(const json_t *v, const struct rt_field *f,
			struct rt_http_err *e, const char *where)
{
	size_t max = f->max ? f->max : 200;
	const char *s = json_string_value(v);

	if (json_string_length(v) > max) {
		rt_http_err_set(e, 400, "invalid_field", where,
				"'%s' is longer than %zu bytes", where, max);
		return EINVAL;
	}
	if (has_control(s)) {
		rt_http_err_set(e, 400, "invalid_field", where,
				"'%s' contains control characters", where);
		return EINVAL;
	}
	return 0;
}

int rt_http_check_fields(const json_t *body, const struct rt_field *fields,
			 size_t n, struct rt_http_err *e)
{
	const char *key;
	json_t *v;

	/* Cast: jansson's iteration macro wants a non-const object. */
	json_object_foreach ((json_t *)(uintptr_t)body, key, v) {
		size_t i;

		for (i = 0; i < n && strcmp(fields[i].name, key) != 0; i++)
			;
		if (i == n) {
			rt_http_err_set(e, 400, "unknown_field", key,
					"unknown field '%.60s'", key);
			return EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct rt_field *f = &fields[i];
		bool ok;

		v = json_object_get(body, f->name);
		if (!v) {
			if (f->flags & RT_F_REQUIRED) {
				rt_http_err_set(e, 400, "missing_field",
						f->name, "'%s' is required",
						f->name);
				return EINVAL;
			}
			continue;
		}
		if (json_is_null(v)) {
			if (f->flags & RT_F_NULLABLE)
				continue;
			rt_http_err_set(e, 400, "invalid_field", f->name,
					"'%s' must not be null", f->name);
			return EINVAL;
		}
		switch (f->type) {
		case RT_F_STRING:
			ok = json_is_string(v);
			if (ok && check_string(v, f, e, f->name))
				return EINVAL;
			break;
		case RT_F_INT:
			ok = json_is_integer(v);
			break;
		case RT_F_BOOL:
			ok = json_is_boolean(v);
			break;
		case RT_F_OBJECT:
			ok = json_is_object(v);
			break;
		case RT_F_TIME: {
			int64_t ms;

			ok = json_is_string(v) &&
			     rt_time_parse(json_string_value(v), &ms) == 0;
			break;
		}
		case RT_F_STRINGS: {
			size_t idx, max = f->max ? f->max : 100;
			json_t *item;

			ok = json_is_array(v);
			if (ok && json_array_size(v) > max) {
				rt_http_err_set(e, 400, "invalid_field",
						f->name,
						"'%s' has more than %zu items",
						f->name, max);
				return EINVAL;
			}
			json_array_foreach (v, idx, item) {
				if (!json_is_string(item)) {
					ok = false;
					break;
				}
				if (check_string(item,
						 &(struct rt_field){.max = 64},
						 e, f->name))
					return EINVAL;
			}
			break;
		}
		case RT_F_FLAGS: {
			size_t max = f->max ? f->max : 8;
			const char *k;
			json_t *item;

			ok = json_is_object(v) && json_object_size(v) <= max;
			json_object_foreach (v, k, item) {
				if (!json_is_boolean(item) || strlen(k) > 32 ||
				    has_control(k))
					ok = false;
			}
			break;
		}
		default:
			RT_BUG("field '%s' has no type", f->name);
		}
		if (!ok) {
			rt_http_err_set(e, 400, "invalid_field", f->name,
					"'%s' must be %s", f->name,
					type_name(f->type));
			return EINVAL;
		}
	}
	return 0;
}

int rt_http_empty_parse(const json_t *b, int *unused, struct rt_http_err *e)
{
	(void)unused;
	return rt_http_check_fields(b, NULL, 0, e);
}

const char *rt_json_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int64_t rt_json_int(const json_t *o, const char *k, int64_t def)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

bool rt_json_has(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return v && !json_is_null(v);
}

/* ---- lists -------------------------------------------------------------- */

void rt_http_cursor_encode(int64_t id, char out[32])
{
	char dec[24];

	snprintf(dec, sizeof(dec), "%lld", (long long)id);
	memcpy(out, "c1.", 3);
	sodium_bin2base64(out + 3, 29, (const unsigned char *)dec, strlen(dec),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int rt_http_cursor_decode(const char *s, int64_t *idp)
{
	char dec[24];
	size_t len = 0;
	int64_t v;

	if (strncmp(s, "c1.", 3) != 0 || strlen(s) > 31)
		return EINVAL;
	if (sodium_base642bin((unsigned char *)dec, sizeof(dec) - 1, s + 3,
			      strlen(s + 3), NULL, &len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return EINVAL;
	dec[len] = '\0';
	if (rt_parse_i64(dec, &v) || v <= 0 || dec[0] == '0')
		return EINVAL;
	*idp = v;
	return 0;
}

int rt_http_page(struct rt_req *r, struct rt_page *pg)
{
	const char *limit =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    "limit");
	const char *cursor =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    "cursor");
	uint64_t l = 50;

	pg->after = 0;
	if (limit && rt_parse_u64(limit, 1, 200, &l)) {
		rt_http_error(r, 400, "invalid_parameter", "limit",
			      "'limit' must be a whole number from 1 to 200");
		return EINVAL;
	}
	if (cursor && rt_http_cursor_decode(cursor, &pg->after)) {
		rt_http_error(r, 400, "invalid_parameter", "cursor",
			      "'cursor' is not a cursor this API returned");
		return EINVAL;
	}
	/* One more than asked for, to know whether another page follows. */
	pg->limit = (unsigned)l + 1;
	return 0;
}

int rt_http_query_id(struct rt_req *r, const char *name, int64_t *vp)
{
	const char *s =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    name);
	uint64_t v;

	*vp = 0;
	if (!s)
		return 0;
	if (rt_parse_u64(s, 1, INT64_MAX, &v)) {
		rt_http_error(r, 400, "invalid_parameter", name,
			      "'%s' must be a positive integer id", name);
		return EINVAL;
	}
	*vp = (int64_t)v;
	return 0;
}

void rt_list_init(struct rt_list *l, const struct rt_page *pg)
{
	l->data = json_array();
	l->limit = pg->limit - 1;
	l->last_id = 0;
	l->more = false;
}

int rt_list_add(struct rt_list *l, int64_t id, json_t *item)
{
	if (json_array_size(l->data) >= l->limit) {
		json_decref(item);
		l->more = true;
		return 1;
	}
	json_array_append_new(l->data, item);
	l->last_id = id;
	return 0;
}

void rt_list_send(struct rt_req *r, struct rt_list *l)
{
	json_t *next = json_null();

	if (l->more) {
		char cur[32];

		rt_http_cursor_encode(l->last_id, cur);
		next = json_string(cur);
	}
	rt_http_json(r, 200,
		     json_pack("{s:o,s:o}", "data", l->data, "next_cursor",
			       next));
	l->data = NULL;
}

int rt_list_begin(struct rt_req *r, struct rt_page *pg, struct rt_list *l,
		  struct rt_store_tx **txp)
{
	if (rt_http_page(r, pg) || rt_http_begin(r, false, txp))
		return EINVAL;
	rt_list_init(l, pg);
	return 0;
}

void rt_list_end(struct rt_req *r, struct rt_list *l, struct rt_store_tx *tx,
		 int err, const char *what)
{
	rt_store_rollback(tx);
	if (err && err != 1) {
		json_decref(l->data);
		l->data = NULL;
		rt_http_fail(r, err, what);
		return;
	}
	rt_list_send(r, l);
}

/* ---- transactions and audit --------------------------------------------- */

int rt_http_begin(struct rt_req *r, bool write, struct rt_store_tx **txp)
{
	int err = rt_store_begin(r->srv->store, write, txp);

	if (err)
		rt_http_fail(r, err, "opening a transaction");
	return err;
}

int rt_http_commit(struct rt_req *r, struct rt_store_tx *tx)
{
	int err = rt_store_commit(tx);

	if (err)
		rt_http_fail(r, err, "committing");
	else
		/* A change through the API (a number, a pool, an account's
		 * status...) may change what visitors are shown: the DNI
		 * service reads its snapshots again.  Writes are rare next to
		 * page views, so the cost is one read per active site.  Call
		 * routing reads every number again, off the SIP thread. */
		rt_dni_changed(r->srv->dni);
	if (!err)
		rt_call_router_changed(r->srv->calls);
	return err;
}

int rt_http_audit(struct rt_req *r, struct rt_store_tx *tx, int64_t account_id,
		  const char *action, const char *object_type,
		  int64_t object_id, json_t *details)
{
	struct rt_audit a = {.account_id = account_id, .object_id = object_id};
	char *d = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS)
			  : NULL;
	int err;

	json_decref(details);
	rt_strlcpy(a.actor_type,
		   r->principal.kind == RT_PRINCIPAL_KEY ? "api_key" : "user",
		   sizeof(a.actor_type));
	a.actor_id = r->principal.id;
	rt_strlcpy(a.action, action, sizeof(a.action));
	rt_strlcpy(a.object_type, object_type, sizeof(a.object_type));
	a.details = d ? d : "{}";
	rt_strlcpy(a.ip, r->ip, sizeof(a.ip));
	rt_strlcpy(a.request_id, r->request_id, sizeof(a.request_id));
	err = rt_store_audit_add(tx, &a);
	free(d);
	return err;
}

int rt_req_rank(const struct rt_req *r)
{
	if (r->principal.kind == RT_PRINCIPAL_USER)
		return rt_auth_role_rank(r->principal.role);
	return (r->principal.scopes & RT_SCOPE_ADMIN)
		       ? rt_auth_role_rank("admin")
		       : rt_auth_role_rank("analyst");
}
