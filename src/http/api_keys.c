/* /v1/api-keys and /v1/audit-log. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "http/http_int.h"

struct key_in {
	struct rt_apikey k;
};

static const struct rt_field key_fields[] = {
	{"account_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"name", RT_F_STRING, 0, 200},
	{"scopes", RT_F_STRINGS, RT_F_REQUIRED, 3},
	{"expires_at", RT_F_TIME, RT_F_NULLABLE, 0},
};

static int key_parse(const json_t *b, struct key_in *in, struct rt_http_err *e)
{
	json_t *scopes, *s;
	size_t i;

	if (rt_http_check_fields(b, key_fields, RT_ARRAY_SIZE(key_fields), e))
		return EINVAL;
	in->k.account_id = rt_json_int(b, "account_id", 0);
	if (rt_json_has(b, "account_id") && in->k.account_id <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "account_id",
				"'account_id' must be a positive id");
		return EINVAL;
	}
	rt_strlcpy(in->k.name,
		   rt_json_has(b, "name") ? rt_json_str(b, "name") : "API key",
		   sizeof(in->k.name));
	scopes = json_object_get(b, "scopes");
	json_array_foreach (scopes, i, s) {
		unsigned bit = rt_auth_scope_parse(json_string_value(s));

		if (!bit) {
			rt_http_err_set(
				e, 422, "invalid_field", "scopes",
				"unknown scope '%.32s': use read, write, "
				"admin",
				json_string_value(s));
			return EINVAL;
		}
		in->k.scopes |= bit;
	}
	in->k.scopes = rt_auth_scopes_close(in->k.scopes);
	if (!in->k.scopes) {
		rt_http_err_set(e, 422, "invalid_field", "scopes",
				"'scopes' must name at least one scope");
		return EINVAL;
	}
	if (rt_json_has(b, "expires_at")) {
		rt_time_parse(rt_json_str(b, "expires_at"), &in->k.expires_at);
		if (in->k.expires_at <= rt_now_ms()) {
			rt_http_err_set(e, 422, "invalid_field", "expires_at",
					"'expires_at' must be in the future");
			return EINVAL;
		}
	}
	return 0;
}
RT_API_BODY_CHECK(keys_create, struct key_in, key_parse)

static int key_row(const struct rt_apikey *k, void *arg)
{
	return rt_list_add(arg, k->id, rt_json_apikey(k));
}

RT_API_LIST(keys, rt_store_apikey_list, key_row, "listing keys")

RT_API_GET(keys, struct rt_apikey, rt_store_apikey_get, rt_json_apikey,
	   "reading a key")

void rt_api_keys_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct key_in in = {0};
	char secret[RT_APIKEY_MAX], hash[RT_HASH_HEX];
	struct rt_store_tx *tx;
	json_t *j;
	int err;

	if (key_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	/* A key can only hand on what its maker has. */
	if (in.k.scopes & ~r->principal.scopes) {
		rt_http_error(r, 403, "insufficient_scope", "scopes",
			      "a key cannot be given scopes its creator lacks");
		return;
	}
	if (!in.k.account_id)
		in.k.account_id = rt_req_scope(r);
	if (r->principal.kind == RT_PRINCIPAL_USER)
		in.k.created_by_user = r->principal.id;
	rt_auth_apikey_generate(r->srv->auth, secret, in.k.prefix, hash);
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_apikey_create(tx, rt_req_scope(r), &in.k, hash);
	if (!err)
		err = rt_http_audit(r, tx, in.k.account_id, "api_key.create",
				    "api_key", in.k.id,
				    json_pack("{s:s,s:s,s:o}", "name",
					      in.k.name, "prefix", in.k.prefix,
					      "scopes",
					      rt_json_scopes(in.k.scopes)));
	if (err) {
		rt_store_rollback(tx);
		if (err == ENOENT)
			rt_http_error(r, 404, "not_found", "account_id",
				      "no such account");
		else
			rt_http_fail(r, err, "creating a key");
		sodium_memzero(secret, sizeof(secret));
		return;
	}
	if (rt_http_commit(r, tx)) {
		sodium_memzero(secret, sizeof(secret));
		return;
	}
	j = rt_json_apikey(&in.k);
	json_object_set_new(j, "secret", json_string(secret));
	sodium_memzero(secret, sizeof(secret));
	rt_http_json(r, 201, j);
}

void rt_api_keys_revoke(struct rt_req *r)
{
	struct rt_store_tx *tx;
	struct rt_apikey k;
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_apikey_revoke(tx, rt_req_scope(r), r->id, rt_now_ms());
	if (!err)
		err = rt_store_apikey_get(tx, rt_req_scope(r), r->id, &k);
	if (!err)
		err = rt_http_audit(r, tx, k.account_id, "api_key.revoke",
				    "api_key", k.id,
				    json_pack("{s:s}", "prefix", k.prefix));
	if (err) {
		rt_store_rollback(tx);
		if (err == EALREADY)
			rt_http_error(r, 409, "already_revoked", NULL,
				      "this key was revoked before");
		else
			rt_http_fail(r, err, "revoking a key");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 200, rt_json_apikey(&k));
}

static int audit_row(const struct rt_audit *a, void *arg)
{
	json_t *details = json_loads(a->details, 0, NULL);
	json_t *item = json_pack(
		"{s:I,s:I,s:{s:s,s:o},s:s,s:{s:s,s:o},s:o,s:o,s:o,s:o}", "id",
		(json_int_t)a->id, "account_id", (json_int_t)a->account_id,
		"actor", "type", a->actor_type, "id",
		a->actor_id ? json_integer(a->actor_id) : json_null(), "action",
		a->action, "object", "type", a->object_type, "id",
		a->object_id ? json_integer(a->object_id) : json_null(),
		"details", details ? details : json_object(), "ip",
		a->ip[0] ? json_string(a->ip) : json_null(), "request_id",
		a->request_id[0] ? json_string(a->request_id) : json_null(),
		"created_at", rt_json_time(a->created_at));

	return rt_list_add(arg, a->id, item);
}

RT_API_LIST(audit, rt_store_audit_list, audit_row, "listing the audit log")
