/* /v1/source-rules: an account's custom source rules, in the order tried. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dni/dni.h"
#include "http/http_int.h"

static json_t *rule_json(const struct rt_source_rule *r)
{
	return json_pack("{s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:b,s:s,s:o,s:o,s:s,"
			 "s:o,s:o}",
			 "id", (json_int_t)r->id, "account_id",
			 (json_int_t)r->account_id, "position",
			 (json_int_t)r->position, "name", r->name, "field",
			 r->field, "op", r->op, "value",
			 rt_json_str_or_null(r->value), "case_sensitive",
			 r->case_sensitive, "source_label", r->source_label,
			 "medium_label", rt_json_str_or_null(r->medium_label),
			 "pool_id",
			 r->pool_id ? json_integer(r->pool_id) : json_null(),
			 "status", r->status, "created_at",
			 rt_json_time(r->created_at), "updated_at",
			 rt_json_time(r->updated_at));
}

/* Copies the fields of a body over r; null strings are "" and a null
 * pool none. */
static void take_fields(const json_t *b, struct rt_source_rule *r)
{
	static const struct {
		const char *name;
		size_t off, size;
	} f[] = {
		{"name", offsetof(struct rt_source_rule, name), RT_NAME_MAX},
		{"field", offsetof(struct rt_source_rule, field), 32},
		{"op", offsetof(struct rt_source_rule, op), 16},
		{"value", offsetof(struct rt_source_rule, value),
		 RT_RULE_TEXT_MAX},
		{"source_label", offsetof(struct rt_source_rule, source_label),
		 RT_RULE_TEXT_MAX},
		{"medium_label", offsetof(struct rt_source_rule, medium_label),
		 RT_RULE_TEXT_MAX},
		{"status", offsetof(struct rt_source_rule, status), 16},
	};
	json_t *v;

	for (size_t i = 0; i < RT_ARRAY_SIZE(f); i++) {
		v = json_object_get(b, f[i].name);
		if (v)
			rt_strlcpy((char *)r + f[i].off,
				   json_is_string(v) ? json_string_value(v)
						     : "",
				   f[i].size);
	}
	v = json_object_get(b, "case_sensitive");
	if (v)
		r->case_sensitive = json_is_true(v);
	if (json_object_get(b, "pool_id"))
		r->pool_id = rt_json_int(b, "pool_id", 0);
	if (json_object_get(b, "position"))
		r->position = rt_json_int(b, "position", 0);
}

/* The shapes the field table cannot say: ids positive, a position from 1
 * on. */
static int check_numbers(const json_t *b, struct rt_http_err *e)
{
	if (rt_json_has(b, "account_id") &&
	    rt_json_int(b, "account_id", 0) <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "account_id",
				"'account_id' must be a positive id");
		return EINVAL;
	}
	if (rt_json_has(b, "pool_id") && rt_json_int(b, "pool_id", 0) <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "pool_id",
				"'pool_id' must be a positive id or null");
		return EINVAL;
	}
	if (rt_json_has(b, "position") && rt_json_int(b, "position", 0) <= 0) {
		rt_http_err_set(e, 422, "invalid_field", "position",
				"'position' must be 1 or more (1 is tried "
				"first)");
		return EINVAL;
	}
	return 0;
}

/* Checks r as a whole; 422 naming the field when it breaks a rule. */
static int check(const struct rt_source_rule *r, struct rt_http_err *e)
{
	const char *field;
	char msg[256];

	if (rt_dni_rule_check(r, &field, msg, sizeof(msg))) {
		rt_http_err_set(e, 422, "invalid_field", field, "%s", msg);
		return EINVAL;
	}
	return 0;
}

static const struct rt_field create_fields[] = {
	{"account_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"name", RT_F_STRING, RT_F_REQUIRED, 200},
	{"field", RT_F_STRING, RT_F_REQUIRED, 31},
	{"op", RT_F_STRING, RT_F_REQUIRED, 15},
	{"value", RT_F_STRING, RT_F_NULLABLE, RT_RULE_TEXT_MAX - 1},
	{"case_sensitive", RT_F_BOOL, 0, 0},
	{"source_label", RT_F_STRING, RT_F_REQUIRED, RT_RULE_TEXT_MAX - 1},
	{"medium_label", RT_F_STRING, RT_F_NULLABLE, RT_RULE_TEXT_MAX - 1},
	{"pool_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"position", RT_F_INT, 0, 0},
	{"status", RT_F_STRING, 0, 15},
};

static int create_parse(const json_t *b, struct rt_source_rule *r,
			struct rt_http_err *e)
{
	if (rt_http_check_fields(b, create_fields, RT_ARRAY_SIZE(create_fields),
				 e) ||
	    check_numbers(b, e))
		return EINVAL;
	r->account_id = rt_json_int(b, "account_id", 0);
	rt_strlcpy(r->status, "active", sizeof(r->status));
	take_fields(b, r);
	return check(r, e);
}
RT_API_BODY_CHECK(source_rules_create, struct rt_source_rule, create_parse)

/* As on create, but nothing is required and the account is fixed. */
static const struct rt_field update_fields[] = {
	{"name", RT_F_STRING, 0, 200},
	{"field", RT_F_STRING, 0, 31},
	{"op", RT_F_STRING, 0, 15},
	{"value", RT_F_STRING, RT_F_NULLABLE, RT_RULE_TEXT_MAX - 1},
	{"case_sensitive", RT_F_BOOL, 0, 0},
	{"source_label", RT_F_STRING, 0, RT_RULE_TEXT_MAX - 1},
	{"medium_label", RT_F_STRING, RT_F_NULLABLE, RT_RULE_TEXT_MAX - 1},
	{"pool_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"position", RT_F_INT, 0, 0},
	{"status", RT_F_STRING, 0, 15},
};

static int update_parse(const json_t *b, struct rt_source_rule *r,
			struct rt_http_err *e)
{
	(void)r;
	if (rt_http_check_fields(b, update_fields, RT_ARRAY_SIZE(update_fields),
				 e) ||
	    check_numbers(b, e))
		return EINVAL;
	if (json_object_size(b) == 0) {
		rt_http_err_set(e, 400, "missing_field", NULL,
				"send at least one field to change");
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(source_rules_update, struct rt_source_rule, update_parse)

static int rule_row(const struct rt_source_rule *sr, void *arg)
{
	return rt_list_add(arg, sr->id, rule_json(sr));
}

void rt_api_source_rules_list(struct rt_req *r)
{
	struct rt_store_tx *tx;
	int64_t account_id;
	struct rt_page pg;
	struct rt_list l;
	int err;

	if (rt_http_query_id(r, "account_id", &account_id) ||
	    rt_list_begin(r, &pg, &l, &tx))
		return;
	err = rt_store_source_rule_list(tx, rt_req_scope(r), account_id, &pg,
					rule_row, &l);
	if (err == ESTALE) {
		rt_store_rollback(tx);
		json_decref(l.data);
		rt_http_error(r, 400, "invalid_parameter", "cursor",
			      "the rule this cursor points at was deleted; "
			      "list again from the start");
		return;
	}
	rt_list_end(r, &l, tx, err, "listing source rules");
}

RT_API_GET(source_rules, struct rt_source_rule, rt_store_source_rule_get,
	   rule_json, "reading a source rule")

/* The pool a rule names, if any, exists in the caller's tree (404) and is
 * of the rule's account (422); on failure rolls back, answers and returns
 * nonzero. */
static int pool_fits(struct rt_req *r, struct rt_store_tx *tx,
		     const struct rt_source_rule *sr)
{
	struct rt_pool p;
	int err;

	if (!sr->pool_id)
		return 0;
	err = rt_store_pool_get(tx, rt_req_scope(r), sr->pool_id, &p);
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOENT)
			rt_http_error(r, 404, "not_found", "pool_id",
				      "no such pool");
		else
			rt_http_fail(r, err, "reading a pool");
		return err;
	}
	if (p.account_id != sr->account_id) {
		rt_store_rollback(tx);
		rt_http_error(r, 422, "invalid_field", "pool_id",
			      "pool %lld belongs to another account than the "
			      "rule",
			      (long long)p.id);
		return EINVAL;
	}
	return 0;
}

/* Writes a rule change's audit entry, commits and answers (204 for a
 * delete). */
static void finish(struct rt_req *r, struct rt_store_tx *tx, int err,
		   const struct rt_source_rule *sr, const char *action,
		   int status)
{
	/* The audit entry names the rule; for an update, what changed. */
	json_t *details = r->json && strcmp(action, "source_rule.update") == 0
				  ? json_deep_copy(r->json)
				  : json_object();

	if (details)
		json_object_set_new(details, "name", json_string(sr->name));
	if (!err)
		err = rt_http_audit(r, tx, sr->account_id, action,
				    "source_rule", sr->id, details);
	else
		json_decref(details);
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOSPC)
			rt_http_error(r, 409, "limit_reached", "account_id",
				      "an account has at most %d source rules",
				      RT_STORE_RULES_MAX);
		else if (err == EPERM)
			rt_http_error(r, 422, "invalid_field", "pool_id",
				      "the pool belongs to another account");
		else
			rt_http_fail(r, err, action);
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	if (status == 204)
		rt_http_body(r, 204, "", NULL, 0);
	else
		rt_http_json(r, status, rule_json(sr));
}

void rt_api_source_rules_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_source_rule sr = {0};
	struct rt_store_tx *tx;
	int err;

	if (create_parse(r->json, &sr, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (!sr.account_id)
		sr.account_id = rt_req_scope(r);
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_account_in_scope(tx, rt_req_scope(r), sr.account_id);
	if (err == ENOENT) {
		rt_store_rollback(tx);
		rt_http_error(r, 404, "not_found", "account_id",
			      "no such account");
		return;
	}
	if (!err && pool_fits(r, tx, &sr))
		return;
	if (!err)
		err = rt_store_source_rule_create(tx, rt_req_scope(r), &sr);
	finish(r, tx, err, &sr, "source_rule.create", 201);
}

void rt_api_source_rules_update(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_source_rule sr = {0};
	struct rt_store_tx *tx;
	int err;

	if (update_parse(r->json, &sr, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_source_rule_get(tx, rt_req_scope(r), r->id, &sr);
	if (err) {
		finish(r, tx, err, &sr, "source_rule.update", 200);
		return;
	}
	/* The changed fields over the stored ones, checked as a whole. */
	take_fields(r->json, &sr);
	if (check(&sr, &e)) {
		rt_store_rollback(tx);
		rt_http_send_err(r, &e);
		return;
	}
	if (pool_fits(r, tx, &sr))
		return;
	err = rt_store_source_rule_update(tx, rt_req_scope(r), &sr);
	finish(r, tx, err, &sr, "source_rule.update", 200);
}

void rt_api_source_rules_delete(struct rt_req *r)
{
	struct rt_source_rule sr = {0};
	struct rt_store_tx *tx;
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_source_rule_get(tx, rt_req_scope(r), r->id, &sr);
	if (!err)
		err = rt_store_source_rule_delete(tx, rt_req_scope(r), r->id);
	finish(r, tx, err, &sr, "source_rule.delete", 204);
}
