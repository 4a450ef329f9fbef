/* The JSON shape of each object the API returns. */
#include "http/http_int.h"

json_t *rt_json_time(int64_t ms)
{
	char buf[RT_TIME_LEN];

	return ms ? json_string(rt_time_fmt(ms, buf)) : json_null();
}

static json_t *id_or_null(int64_t id)
{
	return id ? json_integer(id) : json_null();
}

json_t *rt_json_account(const struct rt_account *a)
{
	return json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:o,s:o}", "id",
			 (json_int_t)a->id, "parent_id",
			 id_or_null(a->parent_id), "name", a->name, "kind",
			 a->kind, "time_zone", a->time_zone, "currency",
			 a->currency, "status", a->status, "site_key",
			 a->site_key, "recording_disclosure",
			 a->recording_disclosure, "created_at",
			 rt_json_time(a->created_at), "updated_at",
			 rt_json_time(a->updated_at));
}

json_t *rt_json_user(const struct rt_user *u)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "id",
			 (json_int_t)u->id, "email", u->email, "name", u->name,
			 "status", u->status, "phone",
			 rt_json_str_or_null(u->phone), "created_at",
			 rt_json_time(u->created_at), "updated_at",
			 rt_json_time(u->updated_at), "last_login_at",
			 rt_json_time(u->last_login_at));
}

json_t *rt_json_membership(const struct rt_membership *m)
{
	return json_pack("{s:I,s:I,s:I,s:s,s:o}", "id", (json_int_t)m->id,
			 "user_id", (json_int_t)m->user_id, "account_id",
			 (json_int_t)m->account_id, "role", m->role,
			 "created_at", rt_json_time(m->created_at));
}

json_t *rt_json_scopes(unsigned scopes)
{
	const char *names[3];
	size_t n = rt_auth_scope_names(scopes, names);
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

json_t *rt_json_apikey(const struct rt_apikey *k)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
			 (json_int_t)k->id, "account_id",
			 (json_int_t)k->account_id, "name", k->name, "prefix",
			 k->prefix, "scopes", rt_json_scopes(k->scopes),
			 "created_by_user", id_or_null(k->created_by_user),
			 "created_at", rt_json_time(k->created_at),
			 "last_used_at", rt_json_time(k->last_used_at),
			 "expires_at", rt_json_time(k->expires_at),
			 "revoked_at", rt_json_time(k->revoked_at));
}

json_t *rt_json_str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

json_t *rt_json_id_string(int64_t id)
{
	char s[24];

	if (!id)
		return json_null();
	snprintf(s, sizeof(s), "%lld", (long long)id);
	return json_string(s);
}
