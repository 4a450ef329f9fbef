/* /v1/pools: number pools, and the numbers in each. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dni/dni.h"
#include "http/http_int.h"

json_t *rt_json_pool(const struct rt_pool *p)
{
	json_t *targets = json_array();

	for (unsigned i = 0; targets && i < p->nswap_targets; i++)
		json_array_append_new(targets, json_string(p->swap_targets[i]));
	return json_pack(
		"{s:I,s:I,s:s,s:o,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
		"s:s,s:I,s:o,s:o,s:o}",
		"id", (json_int_t)p->id, "account_id",
		(json_int_t)p->account_id, "name", p->name, "swap_targets",
		targets, "sources", p->sources, "session_ttl_seconds",
		(json_int_t)(p->session_ttl / 1000), "cooldown_seconds",
		(json_int_t)(p->cooldown / 1000), "policy", p->policy,
		"on_exhausted", p->on_exhausted, "keyword_param",
		p->keyword_param, "ad_group_param", p->ad_group_param,
		"campaign_param", p->campaign_param, "matchtype_param",
		p->matchtype_param, "network_param", p->network_param,
		"device_param", p->device_param, "status", p->status,
		"number_count", (json_int_t)p->number_count, "flow_id",
		p->flow_id ? json_integer(p->flow_id) : json_null(),
		"created_at", rt_json_time(p->created_at), "updated_at",
		rt_json_time(p->updated_at));
}

struct pool_in {
	struct rt_pool p;
	const char *targets[RT_POOL_TARGETS_MAX]; /* borrowed from the body */
	size_t ntargets;
	bool has_targets;
	const char *country;
};

/* Seconds as sent into milliseconds; -1 (out of range) when it would not
 * fit, so that the check names the field. */
static int64_t ms_of(const json_t *b, const char *name, int64_t cur)
{
	json_t *v = json_object_get(b, name);
	json_int_t s;

	if (!v)
		return cur;
	s = json_integer_value(v);
	return s < 0 || s > 1000000000 ? -1 : (int64_t)s * 1000;
}

/* Copies the fields of a body over in->p. */
static void take_fields(const json_t *b, struct pool_in *in)
{
	static const struct {
		const char *name;
		size_t off, size;
	} f[] = {
		{"name", offsetof(struct rt_pool, name), RT_NAME_MAX},
		{"sources", offsetof(struct rt_pool, sources), 16},
		{"policy", offsetof(struct rt_pool, policy), 32},
		{"on_exhausted", offsetof(struct rt_pool, on_exhausted), 32},
		{"keyword_param", offsetof(struct rt_pool, keyword_param),
		 RT_POOL_PARAM_MAX},
		{"ad_group_param", offsetof(struct rt_pool, ad_group_param),
		 RT_POOL_PARAM_MAX},
		{"campaign_param", offsetof(struct rt_pool, campaign_param),
		 RT_POOL_PARAM_MAX},
		{"matchtype_param", offsetof(struct rt_pool, matchtype_param),
		 RT_POOL_PARAM_MAX},
		{"network_param", offsetof(struct rt_pool, network_param),
		 RT_POOL_PARAM_MAX},
		{"device_param", offsetof(struct rt_pool, device_param),
		 RT_POOL_PARAM_MAX},
		{"status", offsetof(struct rt_pool, status), 16},
	};
	json_t *v, *t = json_object_get(b, "swap_targets");
	size_t i;

	for (i = 0; i < RT_ARRAY_SIZE(f); i++) {
		v = json_object_get(b, f[i].name);
		if (v)
			rt_strlcpy((char *)&in->p + f[i].off,
				   json_is_string(v) ? json_string_value(v)
						     : "",
				   f[i].size);
	}
	in->p.session_ttl = ms_of(b, "session_ttl_seconds", in->p.session_ttl);
	in->p.cooldown = ms_of(b, "cooldown_seconds", in->p.cooldown);
	in->has_targets = t != NULL;
	in->ntargets = 0;
	json_array_foreach (t, i, v) {
		if (i < RT_POOL_TARGETS_MAX)
			in->targets[in->ntargets++] = json_string_value(v);
	}
	in->country = rt_json_str(b, "country");
	if (json_object_get(b, "flow_id"))
		in->p.flow_id = rt_json_int(b, "flow_id", 0);
}

/* flow_id, when sent: a positive id, or null for none. */
static int check_flow_id(const json_t *b, struct rt_http_err *e)
{
	if (rt_json_has(b, "flow_id") && rt_json_int(b, "flow_id", 0) <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "flow_id",
				"'flow_id' must be a positive id or null");
		return EINVAL;
	}
	return 0;
}

static const struct rt_field create_fields[] = {
	{"account_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"name", RT_F_STRING, RT_F_REQUIRED, 200},
	{"swap_targets", RT_F_STRINGS, RT_F_REQUIRED, RT_POOL_TARGETS_MAX},
	{"country", RT_F_STRING, 0, 2},
	{"sources", RT_F_STRING, 0, 15},
	{"session_ttl_seconds", RT_F_INT, 0, 0},
	{"cooldown_seconds", RT_F_INT, 0, 0},
	{"policy", RT_F_STRING, 0, 31},
	{"on_exhausted", RT_F_STRING, 0, 31},
	{"keyword_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"ad_group_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"campaign_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"matchtype_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"network_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"device_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"status", RT_F_STRING, 0, 15},
	{"flow_id", RT_F_INT, RT_F_NULLABLE, 0},
};

/* Checks in->p as a whole; 422 naming the field when it breaks a rule. */
static int check(struct pool_in *in, struct rt_http_err *e)
{
	const char *field;
	char msg[160];

	if (rt_dni_pool_check(&in->p, in->has_targets ? in->targets : NULL,
			      in->ntargets, in->country, &field, msg,
			      sizeof(msg))) {
		rt_http_err_set(e, 422, "invalid_field", field, "%s", msg);
		return EINVAL;
	}
	return 0;
}

static int create_parse(const json_t *b, struct pool_in *in,
			struct rt_http_err *e)
{
	if (rt_http_check_fields(b, create_fields, RT_ARRAY_SIZE(create_fields),
				 e) ||
	    check_flow_id(b, e))
		return EINVAL;
	in->p.account_id = rt_json_int(b, "account_id", 0);
	if (rt_json_has(b, "account_id") && in->p.account_id <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "account_id",
				"'account_id' must be a positive id");
		return EINVAL;
	}
	rt_dni_pool_defaults(&in->p);
	take_fields(b, in);
	return check(in, e);
}
RT_API_BODY_CHECK(pools_create, struct pool_in, create_parse)

/* As on create, but nothing is required and the account is fixed. */
static const struct rt_field update_fields[] = {
	{"name", RT_F_STRING, 0, 200},
	{"swap_targets", RT_F_STRINGS, 0, RT_POOL_TARGETS_MAX},
	{"country", RT_F_STRING, 0, 2},
	{"sources", RT_F_STRING, 0, 15},
	{"session_ttl_seconds", RT_F_INT, 0, 0},
	{"cooldown_seconds", RT_F_INT, 0, 0},
	{"policy", RT_F_STRING, 0, 31},
	{"on_exhausted", RT_F_STRING, 0, 31},
	{"keyword_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"ad_group_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"campaign_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"matchtype_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"network_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"device_param", RT_F_STRING, 0, RT_POOL_PARAM_MAX - 1},
	{"status", RT_F_STRING, 0, 15},
	{"flow_id", RT_F_INT, RT_F_NULLABLE, 0},
};

static int update_parse(const json_t *b, struct pool_in *in,
			struct rt_http_err *e)
{
	(void)in;
	if (rt_http_check_fields(b, update_fields, RT_ARRAY_SIZE(update_fields),
				 e) ||
	    check_flow_id(b, e))
		return EINVAL;
	if (json_object_size(b) == 0) {
		rt_http_err_set(e, 400, "missing_field", NULL,
				"send at least one field to change");
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(pools_update, struct pool_in, update_parse)

static int pool_row(const struct rt_pool *p, void *arg)
{
	return rt_list_add(arg, p->id, rt_json_pool(p));
}

RT_API_LIST(pools, rt_store_pool_list, pool_row, "listing pools")

RT_API_GET(pools, struct rt_pool, rt_store_pool_get, rt_json_pool,
	   "reading a pool")

/* Writes a pool change's audit entry, commits and answers. */
static void finish(struct rt_req *r, struct rt_store_tx *tx, int err,
		   const struct rt_pool *p, const char *action, int status)
{
	/* The audit entry names the pool; for an update, what changed. */
	json_t *details = r->json && strcmp(action, "pool.update") == 0
				  ? json_deep_copy(r->json)
				  : json_object();

	if (details)
		json_object_set_new(details, "name", json_string(p->name));
	if (!err)
		err = rt_http_audit(r, tx, p->account_id, action, "pool", p->id,
				    details);
	else
		json_decref(details);
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, action);
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, status, rt_json_pool(p));
}

/* The flow a pool names, if any, is a flow of the pool's own account: one
 * that is not, or not in the caller's tree at all, is the same 422, so that
 * the answer tells nothing of other accounts' flows.  On failure rolls
 * back, answers and returns nonzero. */
static int flow_fits(struct rt_req *r, struct rt_store_tx *tx,
		     const struct rt_pool *p)
{
	int err = rt_store_flow_fits(tx, rt_req_scope(r), p->flow_id,
				     p->account_id);

	if (!err)
		return 0;
	rt_store_rollback(tx);
	if (err == ENOENT || err == EPERM)
		rt_http_error(r, 422, "invalid_field", "flow_id",
			      "'flow_id' is not a flow of the pool's account");
	else
		rt_http_fail(r, err, "reading a flow");
	return err;
}

void rt_api_pools_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct pool_in in = {0};
	struct rt_store_tx *tx;
	int err;

	if (create_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (!in.p.account_id)
		in.p.account_id = rt_req_scope(r);
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_account_in_scope(tx, rt_req_scope(r), in.p.account_id);
	if (!err && flow_fits(r, tx, &in.p))
		return;
	if (!err)
		err = rt_store_pool_create(tx, rt_req_scope(r), &in.p);
	if (err == ENOENT) {
		rt_store_rollback(tx);
		rt_http_error(r, 404, "not_found", "account_id",
			      "no such account");
		return;
	}
	finish(r, tx, err, &in.p, "pool.create", 201);
}

void rt_api_pools_update(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct pool_in in = {0};
	struct rt_store_tx *tx;
	int err;

	if (update_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_pool_get(tx, rt_req_scope(r), r->id, &in.p);
	if (err) {
		finish(r, tx, err, &in.p, "pool.update", 200);
		return;
	}
	/* The changed fields over the stored ones, checked as a whole. */
	take_fields(r->json, &in);
	if (check(&in, &e)) {
		rt_store_rollback(tx);
		rt_http_send_err(r, &e);
		return;
	}
	if (flow_fits(r, tx, &in.p))
		return;
	err = rt_store_pool_update(tx, rt_req_scope(r), &in.p);
	finish(r, tx, err, &in.p, "pool.update", 200);
}

/* DELETE: the pool stops serving; its numbers stay in it, so that turning
 * it back on (PATCH status active) restores it as it was. */
void rt_api_pools_deactivate(struct rt_req *r)
{
	struct rt_store_tx *tx;
	struct rt_pool p = {0};
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_pool_get(tx, rt_req_scope(r), r->id, &p);
	if (!err && strcmp(p.status, "inactive") == 0) {
		/* Already off: nothing to write, nothing to audit. */
		rt_store_rollback(tx);
		rt_http_json(r, 200, rt_json_pool(&p));
		return;
	}
	if (!err) {
		rt_strlcpy(p.status, "inactive", sizeof(p.status));
		err = rt_store_pool_update(tx, rt_req_scope(r), &p);
	}
	finish(r, tx, err, &p, "pool.deactivate", 200);
}

static int number_row(const struct rt_number *n, void *arg)
{
	return rt_list_add(arg, n->id, rt_json_number(n));
}

void rt_api_pools_numbers(struct rt_req *r)
{
	struct rt_store_tx *tx;
	struct rt_page pg;
	struct rt_list l;

	if (rt_list_begin(r, &pg, &l, &tx))
		return;
	rt_list_end(r, &l, tx,
		    rt_store_pool_numbers(tx, rt_req_scope(r), r->id, &pg,
					  number_row, &l),
		    "listing a pool's numbers");
}
