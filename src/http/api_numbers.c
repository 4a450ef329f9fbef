/* /v1/numbers: the tracking number inventory, and its CSV import. */
#include <errno.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "dni/dni.h"
#include "http/http_int.h"
#include "util/phone.h"

json_t *rt_json_number(const struct rt_number *n)
{
	struct rt_phone ph;
	json_t *j;

	j = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:s,s:o,"
		      "s:o,s:o}",
		      "id", (json_int_t)n->id, "account_id",
		      (json_int_t)n->account_id, "number", n->e164, "label",
		      n->label, "kind", n->kind, "source",
		      rt_json_str_or_null(n->source), "medium",
		      rt_json_str_or_null(n->medium), "campaign",
		      rt_json_str_or_null(n->campaign), "destination",
		      rt_json_str_or_null(n->destination), "status", n->status,
		      "number_type", n->number_type, "country", n->country,
		      "created_at", rt_json_time(n->created_at), "updated_at",
		      rt_json_time(n->updated_at), "released_at",
		      rt_json_time(n->released_at));
	if (j) {
		json_object_set_new(j, "pool_id",
				    n->pool_id ? json_integer(n->pool_id)
					       : json_null());
		json_object_set_new(j, "record_calls",
				    json_boolean(!n->record_off));
		json_object_set_new(j, "flow_id",
				    n->flow_id ? json_integer(n->flow_id)
					       : json_null());
	}
	/* How the number is written where it is dialled. */
	if (j && rt_phone_parse(n->e164, NULL, &ph) == 0) {
		json_object_set_new(j, "national", json_string(ph.national));
		json_object_set_new(j, "international",
				    json_string(ph.international));
	}
	return j;
}

/* Copies the optional string fields of a body into n. */
static void take_fields(const json_t *b, struct rt_number *n)
{
	static const struct {
		const char *name;
		size_t off, size;
	} f[] = {
		{"label", offsetof(struct rt_number, label), RT_NAME_MAX},
		{"kind", offsetof(struct rt_number, kind), 16},
		{"source", offsetof(struct rt_number, source), RT_NAME_MAX},
		{"medium", offsetof(struct rt_number, medium), 64},
		{"campaign", offsetof(struct rt_number, campaign), RT_NAME_MAX},
		{"destination", offsetof(struct rt_number, destination), 256},
		{"status", offsetof(struct rt_number, status), 16},
	};

	for (size_t i = 0; i < RT_ARRAY_SIZE(f); i++) {
		json_t *v = json_object_get(b, f[i].name);

		if (v)
			rt_strlcpy((char *)n + f[i].off,
				   json_is_string(v) ? json_string_value(v)
						     : "",
				   f[i].size);
	}
	if (json_object_get(b, "record_calls"))
		n->record_off =
			!json_is_true(json_object_get(b, "record_calls"));
}

struct number_in {
	struct rt_number n;
	const char *number;
	const char *country;
};

static const struct rt_field create_fields[] = {
	{"account_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"number", RT_F_STRING, RT_F_REQUIRED, 64},
	{"country", RT_F_STRING, 0, 2},
	{"label", RT_F_STRING, 0, 200},
	{"kind", RT_F_STRING, 0, 16},
	{"source", RT_F_STRING, RT_F_NULLABLE, 200},
	{"medium", RT_F_STRING, RT_F_NULLABLE, 63},
	{"campaign", RT_F_STRING, RT_F_NULLABLE, 200},
	{"destination", RT_F_STRING, RT_F_NULLABLE, 255},
	{"status", RT_F_STRING, 0, 16},
	{"pool_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"record_calls", RT_F_BOOL, 0, 0},
	{"flow_id", RT_F_INT, RT_F_NULLABLE, 0},
};

/* An id field, when sent: a positive id, or null for none (0). */
static int take_id(const json_t *b, const char *name, int64_t *idp,
		   struct rt_http_err *e)
{
	if (!json_object_get(b, name))
		return 0;
	*idp = rt_json_int(b, name, 0);
	if (rt_json_has(b, name) && *idp <= 0) {
		rt_http_err_set(e, 400, "invalid_field", name,
				"'%s' must be a positive id or null", name);
		return EINVAL;
	}
	return 0;
}

/* pool_id and flow_id, when sent. */
static int take_ids(const json_t *b, struct rt_number *n, struct rt_http_err *e)
{
	if (take_id(b, "pool_id", &n->pool_id, e) ||
	    take_id(b, "flow_id", &n->flow_id, e))
		return EINVAL;
	return 0;
}

static int create_parse(const json_t *b, struct number_in *in,
			struct rt_http_err *e)
{
	const char *field;
	char msg[160];

	if (rt_http_check_fields(b, create_fields, RT_ARRAY_SIZE(create_fields),
				 e))
		return EINVAL;
	in->n.account_id = rt_json_int(b, "account_id", 0);
	if (rt_json_has(b, "account_id") && in->n.account_id <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "account_id",
				"'account_id' must be a positive id");
		return EINVAL;
	}
	if (take_ids(b, &in->n, e))
		return EINVAL;
	take_fields(b, &in->n);
	in->number = rt_json_str(b, "number");
	in->country = rt_json_str(b, "country");
	if (rt_dni_number_check(&in->n, in->number, in->country, &field, msg,
				sizeof(msg))) {
		rt_http_err_set(e, 422, "invalid_field", field, "%s", msg);
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(numbers_create, struct number_in, create_parse)

static const struct rt_field update_fields[] = {
	{"label", RT_F_STRING, 0, 200},
	{"kind", RT_F_STRING, 0, 16},
	{"source", RT_F_STRING, RT_F_NULLABLE, 200},
	{"medium", RT_F_STRING, RT_F_NULLABLE, 63},
	{"campaign", RT_F_STRING, RT_F_NULLABLE, 200},
	{"destination", RT_F_STRING, RT_F_NULLABLE, 255},
	{"status", RT_F_STRING, 0, 16},
	{"pool_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"record_calls", RT_F_BOOL, 0, 0},
	{"flow_id", RT_F_INT, RT_F_NULLABLE, 0},
};

static int update_parse(const json_t *b, struct number_in *in,
			struct rt_http_err *e)
{
	if (rt_http_check_fields(b, update_fields, RT_ARRAY_SIZE(update_fields),
				 e) ||
	    take_ids(b, &in->n, e))
		return EINVAL;
	if (json_object_size(b) == 0) {
		rt_http_err_set(e, 400, "missing_field", NULL,
				"send at least one field to change");
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(numbers_update, struct number_in, update_parse)

static int number_row(const struct rt_number *n, void *arg)
{
	return rt_list_add(arg, n->id, rt_json_number(n));
}

void rt_api_numbers_list(struct rt_req *r)
{
	const char *rel =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    "include_released");
	struct rt_store_tx *tx;
	int64_t account_id;
	struct rt_page pg;
	struct rt_list l;
	bool released = false;

	if (rel && rt_parse_bool(rel, &released)) {
		rt_http_error(r, 400, "invalid_parameter", "include_released",
			      "'include_released' must be true or false");
		return;
	}
	if (rt_http_query_id(r, "account_id", &account_id) ||
	    rt_list_begin(r, &pg, &l, &tx))
		return;
	rt_list_end(r, &l, tx,
		    rt_store_number_list(tx, rt_req_scope(r), account_id,
					 released, &pg, number_row, &l),
		    "listing numbers");
}

RT_API_GET(numbers, struct rt_number, rt_store_number_get, rt_json_number,
	   "reading a number")

/* Writes a number change and its audit entry, and answers. */
static void finish(struct rt_req *r, struct rt_store_tx *tx, int err,
		   const struct rt_number *n, const char *action, int status)
{
	/* The audit entry names the number; for an update, what changed. */
	json_t *details = r->json && strcmp(action, "number.update") == 0
				  ? json_deep_copy(r->json)
				  : json_object();

	if (details)
		json_object_set_new(details, "number", json_string(n->e164));
	if (!err)
		err = rt_http_audit(r, tx, n->account_id, action, "number",
				    n->id, details);
	else
		json_decref(details);
	if (err) {
		rt_store_rollback(tx);
		if (err == EEXIST)
			rt_http_error(r, 409, "conflict", "number",
				      "this number is already in a number "
				      "inventory");
		else if (err == EALREADY)
			rt_http_error(r, 409, "already_released", NULL,
				      "this number was released before");
		else if (err == EPERM)
			rt_http_error(r, 422, "invalid_field", "pool_id",
				      "the pool belongs to another account");
		else
			rt_http_fail(r, err, action);
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, status, rt_json_number(n));
}

/* The pool a number names, if any, exists in the caller's tree (404) and
 * may hold it (422); on failure rolls back, answers and returns nonzero. */
static int pool_fits(struct rt_req *r, struct rt_store_tx *tx,
		     const struct rt_number *n)
{
	const char *field;
	struct rt_pool p;
	char msg[160];
	int err;

	if (!n->pool_id)
		return 0;
	err = rt_store_pool_get(tx, rt_req_scope(r), n->pool_id, &p);
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOENT)
			rt_http_error(r, 404, "not_found", "pool_id",
				      "no such pool");
		else
			rt_http_fail(r, err, "reading a pool");
		return err;
	}
	if (rt_dni_number_pool_check(n, &p, &field, msg, sizeof(msg))) {
		rt_store_rollback(tx);
		rt_http_error(r, 422, "invalid_field", field, "%s", msg);
		return EINVAL;
	}
	return 0;
}

/* The flow a number names, if any, is a flow of the number's own account:
 * one that is not, or not in the caller's tree at all, is the same 422,
 * so that the answer tells nothing of other accounts' flows.  On failure
 * rolls back, answers and returns nonzero. */
static int flow_fits(struct rt_req *r, struct rt_store_tx *tx,
		     const struct rt_number *n)
{
	int err = rt_store_flow_fits(tx, rt_req_scope(r), n->flow_id,
				     n->account_id);

	if (!err)
		return 0;
	rt_store_rollback(tx);
	if (err == ENOENT || err == EPERM)
		rt_http_error(r, 422, "invalid_field", "flow_id",
			      "'flow_id' is not a flow of the number's "
			      "account");
	else
		rt_http_fail(r, err, "reading a flow");
	return err;
}

void rt_api_numbers_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct number_in in = {0};
	struct rt_store_tx *tx;
	int err;

	if (create_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (!in.n.account_id)
		in.n.account_id = rt_req_scope(r);
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_account_in_scope(tx, rt_req_scope(r), in.n.account_id);
	if (err == ENOENT) {
		rt_store_rollback(tx);
		rt_http_error(r, 404, "not_found", "account_id",
			      "no such account");
		return;
	}
	if (!err && (pool_fits(r, tx, &in.n) || flow_fits(r, tx, &in.n)))
		return;
	if (!err)
		err = rt_store_number_create(tx, rt_req_scope(r), &in.n);
	finish(r, tx, err, &in.n, "number.create", 201);
}

void rt_api_numbers_update(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct number_in in = {0};
	struct rt_store_tx *tx;
	const char *field;
	char msg[160], number[20], country[3];
	int err;

	if (update_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_number_get(tx, rt_req_scope(r), r->id, &in.n);
	if (!err && strcmp(in.n.status, "released") == 0)
		err = EALREADY;
	if (err) {
		finish(r, tx, err, &in.n, "number.update", 200);
		return;
	}
	/* The changed fields over the stored ones, checked as a whole. */
	take_fields(r->json, &in.n);
	take_ids(r->json, &in.n, &e); /* checked by update_parse */
	rt_strlcpy(number, in.n.e164, sizeof(number));
	rt_strlcpy(country, in.n.country, sizeof(country));
	if (rt_dni_number_check(&in.n, number, country, &field, msg,
				sizeof(msg))) {
		rt_store_rollback(tx);
		rt_http_error(r, 422, "invalid_field", field, "%s", msg);
		return;
	}
	if (pool_fits(r, tx, &in.n) || flow_fits(r, tx, &in.n))
		return;
	err = rt_store_number_update(tx, rt_req_scope(r), &in.n);
	finish(r, tx, err, &in.n, "number.update", 200);
}

void rt_api_numbers_release(struct rt_req *r)
{
	struct rt_store_tx *tx;
	struct rt_number n = {0};
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_number_release(tx, rt_req_scope(r), r->id, rt_now_ms());
	if (!err)
		err = rt_store_number_get(tx, rt_req_scope(r), r->id, &n);
	finish(r, tx, err, &n, "number.release", 200);
}

static bool is_csv(const char *ct)
{
	size_t n = strlen("text/csv");

	return ct && strncasecmp(ct, "text/csv", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

void rt_api_numbers_import(struct rt_req *r)
{
	const char *country =
		MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					    "country");
	json_t *errors = json_array();
	struct rt_store_tx *tx;
	int64_t account_id;
	size_t created = 0;
	int err;

	if (!errors) {
		rt_http_fail(r, ENOMEM, "importing numbers");
		return;
	}
	if (!is_csv(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						"Content-Type"))) {
		json_decref(errors);
		rt_http_error(r, 415, "unsupported_media_type", NULL,
			      "send the numbers as text/csv");
		return;
	}
	if (country &&
	    (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' ||
	     country[1] < 'A' || country[1] > 'Z')) {
		json_decref(errors);
		rt_http_error(
			r, 400, "invalid_parameter", "country",
			"'country' must be an ISO 3166-1 code such as 'US'");
		return;
	}
	if (rt_http_query_id(r, "account_id", &account_id)) {
		json_decref(errors);
		return;
	}
	if (!account_id)
		account_id = rt_req_scope(r);
	if (rt_http_begin(r, true, &tx)) {
		json_decref(errors);
		return;
	}
	err = rt_store_account_in_scope(tx, rt_req_scope(r), account_id);
	if (err == ENOENT) {
		rt_store_rollback(tx);
		json_decref(errors);
		rt_http_error(r, 404, "not_found", "account_id",
			      "no such account");
		return;
	}
	if (!err)
		err = rt_dni_numbers_import(tx, rt_req_scope(r), account_id,
					    r->body.s ? r->body.s : "",
					    r->body.len, country, errors,
					    &created);
	if (err == EINVAL) {
		rt_store_rollback(tx);
		rt_http_json(r, 422,
			     json_pack("{s:{s:s,s:s},s:o}", "error", "code",
				       "invalid_csv", "message",
				       "some rows are not valid; nothing was "
				       "imported",
				       "errors", errors));
		return;
	}
	json_decref(errors);
	if (!err)
		err = rt_http_audit(r, tx, account_id, "number.import",
				    "account", account_id,
				    json_pack("{s:I}", "created",
					      (json_int_t)created));
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "importing numbers");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 201,
		     json_pack("{s:I,s:I}", "created", (json_int_t)created,
			       "account_id", (json_int_t)account_id));
}
