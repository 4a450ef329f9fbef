/* /v1/accounts: the caller's account and the client accounts below it. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "http/http_int.h"

/* An IANA time zone that this machine's tz database knows. */
static bool valid_time_zone(const char *tz)
{
	char path[160];

	if (strcmp(tz, "UTC") == 0)
		return true;
	if (!*tz || strlen(tz) > 64 || tz[0] == '/' || strstr(tz, ".."))
		return false;
	for (const char *c = tz; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' ||
		      *c == '-' || *c == '+'))
			return false;
	}
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return access(path, R_OK) == 0;
}

static bool valid_currency(const char *c)
{
	return strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' &&
	       c[1] <= 'Z' && c[2] >= 'A' && c[2] <= 'Z';
}

/* The fields shared by create and update, checked for meaning. */
static int check_common(const json_t *b, struct rt_http_err *e)
{
	const char *s;

	s = rt_json_str(b, "name");
	if (s && !*s) {
		rt_http_err_set(e, 422, "invalid_field", "name",
				"'name' must not be empty");
		return EINVAL;
	}
	s = rt_json_str(b, "time_zone");
	if (s && !valid_time_zone(s)) {
		rt_http_err_set(e, 422, "invalid_field", "time_zone",
				"'time_zone' must be an IANA time zone such as "
				"'America/New_York'");
		return EINVAL;
	}
	s = rt_json_str(b, "currency");
	if (s && !valid_currency(s)) {
		rt_http_err_set(
			e, 422, "invalid_field", "currency",
			"'currency' must be an ISO 4217 code such as 'USD'");
		return EINVAL;
	}
	s = rt_json_str(b, "status");
	if (s && strcmp(s, "active") && strcmp(s, "suspended")) {
		rt_http_err_set(e, 422, "invalid_field", "status",
				"'status' must be 'active' or 'suspended'");
		return EINVAL;
	}
	s = rt_json_str(b, "kind");
	if (s && strcmp(s, "client") && strcmp(s, "agency")) {
		rt_http_err_set(e, 422, "invalid_field", "kind",
				"'kind' must be 'client' or 'agency'");
		return EINVAL;
	}
	return 0;
}

static const struct rt_field create_fields[] = {
	{"name", RT_F_STRING, RT_F_REQUIRED, 200},
	{"kind", RT_F_STRING, 0, 16},
	{"parent_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"time_zone", RT_F_STRING, 0, 64},
	{"currency", RT_F_STRING, 0, 3},
};

static int create_parse(const json_t *b, struct rt_account *a,
			struct rt_http_err *e)
{
	if (rt_http_check_fields(b, create_fields, RT_ARRAY_SIZE(create_fields),
				 e) ||
	    check_common(b, e))
		return EINVAL;
	rt_strlcpy(a->name, rt_json_str(b, "name"), sizeof(a->name));
	rt_strlcpy(a->kind,
		   rt_json_has(b, "kind") ? rt_json_str(b, "kind") : "client",
		   sizeof(a->kind));
	a->parent_id = rt_json_int(b, "parent_id", 0);
	if (rt_json_has(b, "parent_id") && a->parent_id <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "parent_id",
				"'parent_id' must be a positive id");
		return EINVAL;
	}
	if (rt_json_has(b, "time_zone"))
		rt_strlcpy(a->time_zone, rt_json_str(b, "time_zone"),
			   sizeof(a->time_zone));
	if (rt_json_has(b, "currency"))
		rt_strlcpy(a->currency, rt_json_str(b, "currency"),
			   sizeof(a->currency));
	return 0;
}
RT_API_BODY_CHECK(accounts_create, struct rt_account, create_parse)

static const struct rt_field update_fields[] = {
	{"name", RT_F_STRING, 0, 200},
	{"time_zone", RT_F_STRING, 0, 64},
	{"currency", RT_F_STRING, 0, 3},
	{"status", RT_F_STRING, 0, 16},
	{"recording_disclosure", RT_F_BOOL, 0, 0},
};

static int update_parse(const json_t *b, json_t **outp, struct rt_http_err *e)
{
	if (rt_http_check_fields(b, update_fields, RT_ARRAY_SIZE(update_fields),
				 e) ||
	    check_common(b, e))
		return EINVAL;
	if (json_object_size(b) == 0) {
		rt_http_err_set(e, 400, "missing_field", NULL,
				"send at least one of name, time_zone, "
				"currency, status, recording_disclosure");
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(accounts_update, json_t *, update_parse)

static int list_row(const struct rt_account *a, void *arg)
{
	struct rt_list *l = arg;

	return rt_list_add(l, a->id, rt_json_account(a));
}

void rt_api_accounts_list(struct rt_req *r)
{
	struct rt_store_tx *tx;
	struct rt_page pg;
	struct rt_list l;

	if (rt_list_begin(r, &pg, &l, &tx))
		return;
	rt_list_end(r, &l, tx,
		    rt_store_account_list(tx, rt_req_scope(r), &pg, list_row,
					  &l),
		    "listing accounts");
}

RT_API_GET(accounts, struct rt_account, rt_store_account_get, rt_json_account,
	   "reading an account")

void rt_api_accounts_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_account a = {0}, parent;
	struct rt_store_tx *tx;
	int err;

	if (create_parse(r->json, &a, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (!a.parent_id)
		a.parent_id = rt_req_scope(r);
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_account_get(tx, rt_req_scope(r), a.parent_id, &parent);
	if (err == ENOENT) {
		rt_store_rollback(tx);
		rt_http_error(r, 404, "not_found", "parent_id",
			      "no such parent account");
		return;
	}
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "reading the parent account");
		return;
	}
	if (strcmp(parent.kind, "agency") != 0) {
		rt_store_rollback(tx);
		rt_http_error(
			r, 422, "not_an_agency", "parent_id",
			"only an agency account can have client accounts");
		return;
	}
	/* A new client takes its agency's time zone and currency unless told.
	 */
	if (!a.time_zone[0])
		rt_strlcpy(a.time_zone, parent.time_zone, sizeof(a.time_zone));
	if (!a.currency[0])
		rt_strlcpy(a.currency, parent.currency, sizeof(a.currency));
	err = rt_store_account_create(tx, rt_req_scope(r), &a);
	if (!err)
		err = rt_http_audit(r, tx, a.id, "account.create", "account",
				    a.id,
				    json_pack("{s:s,s:s,s:I}", "name", a.name,
					      "kind", a.kind, "parent_id",
					      (json_int_t)a.parent_id));
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "creating an account");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 201, rt_json_account(&a));
}

void rt_api_accounts_update(struct rt_req *r)
{
	struct rt_http_err e = {0};
	const json_t *b = r->json;
	struct rt_store_tx *tx;
	struct rt_account a;
	json_t *changes;
	int err;

	if (update_parse(b, NULL, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (rt_json_has(b, "status") && r->id == rt_req_scope(r) &&
	    strcmp(rt_json_str(b, "status"), "active") != 0) {
		rt_http_error(
			r, 422, "invalid_field", "status",
			"an account cannot suspend itself; ask its agency");
		return;
	}
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_account_get(tx, rt_req_scope(r), r->id, &a);
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "updating an account");
		return;
	}
	changes = json_deep_copy(b);
	if (rt_json_has(b, "name"))
		rt_strlcpy(a.name, rt_json_str(b, "name"), sizeof(a.name));
	if (rt_json_has(b, "time_zone"))
		rt_strlcpy(a.time_zone, rt_json_str(b, "time_zone"),
			   sizeof(a.time_zone));
	if (rt_json_has(b, "currency"))
		rt_strlcpy(a.currency, rt_json_str(b, "currency"),
			   sizeof(a.currency));
	if (rt_json_has(b, "status"))
		rt_strlcpy(a.status, rt_json_str(b, "status"),
			   sizeof(a.status));
	if (rt_json_has(b, "recording_disclosure"))
		a.recording_disclosure = json_is_true(
			json_object_get(b, "recording_disclosure"));
	err = rt_store_account_update(tx, rt_req_scope(r), &a);
	if (!err)
		err = rt_http_audit(r, tx, a.id, "account.update", "account",
				    a.id, changes);
	else
		json_decref(changes);
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "updating an account");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 200, rt_json_account(&a));
}

RT_API_BODY_CHECK(accounts_site_key, int, rt_http_empty_parse)

/* POST /v1/accounts/{id}/site-key with {}: a new site key; pages with the
 * old one show their own numbers until they are updated. */
void rt_api_accounts_site_key(struct rt_req *r)
{
	struct rt_store_tx *tx;
	struct rt_account a;
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_account_rotate_site_key(tx, rt_req_scope(r), r->id, &a);
	if (!err)
		err = rt_http_audit(r, tx, a.id, "account.site_key_rotate",
				    "account", a.id, NULL);
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "rotating the site key");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 200, rt_json_account(&a));
}
