/* /v1/users and /v1/memberships: who may sign in, and with which role where. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "http/http_int.h"
#include "util/phone.h"

/* A caller may grant or change only roles up to their own. */
static bool may_grant(struct rt_req *r, const char *role)
{
	if (rt_auth_role_rank(role) <= rt_req_rank(r))
		return true;
	rt_http_error(
		r, 403, "role_too_high", "role",
		"you cannot grant or change the role '%s', which is above "
		"your own",
		role);
	return false;
}

static int check_role(const json_t *b, struct rt_http_err *e)
{
	const char *role = rt_json_str(b, "role");

	if (role && !rt_auth_role_rank(role)) {
		rt_http_err_set(
			e, 422, "invalid_field", "role",
			"'role' must be one of owner, admin, analyst, agent");
		return EINVAL;
	}
	return 0;
}

static int check_password(const json_t *b, struct rt_http_err *e)
{
	const char *pw = rt_json_str(b, "password"), *why = NULL;

	if (pw && rt_auth_password_check(pw, &why)) {
		rt_http_err_set(e, 422, "invalid_field", "password",
				"'password' %s", why);
		return EINVAL;
	}
	return 0;
}

static int top_role_row(const struct rt_membership *m, void *arg)
{
	char *top = arg;

	if (rt_auth_role_rank(m->role) > rt_auth_role_rank(top))
		rt_strlcpy(top, m->role, 16);
	return 0;
}

/* The highest role the user holds in the caller's scope ("" if none). */
static int top_role(struct rt_req *r, struct rt_store_tx *tx, int64_t user_id,
		    char top[16])
{
	struct rt_page pg = {.after = 0, .limit = 1000};

	top[0] = '\0';
	return rt_store_membership_list(tx, rt_req_scope(r), user_id, 0, &pg,
					top_role_row, top);
}

/* ---- users -------------------------------------------------------------- */

/* A sip: or sips: URI with a host, as a flow's dial target takes one
 * (src/flow/compile.c): no spaces, controls, quotes or angle brackets. */
static bool sip_uri_ok(const char *s)
{
	const char *h;

	if (strncmp(s, "sip:", 4) == 0)
		h = s + 4;
	else if (strncmp(s, "sips:", 5) == 0)
		h = s + 5;
	else
		return false;
	if (strchr(h, '@'))
		h = strchr(h, '@') + 1;
	if (!*h || *h == ';' || *h == ':')
		return false;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == '<' || *p == '>' ||
		    *p == '"' || (unsigned char)*p >= 0x7f)
			return false;
	}
	return true;
}

/*
 * "phone", when sent, into u->phone: null or "" for none, a number in
 * international form (a leading '+': the user's country is not known)
 * stored as E.164, or a sip:/sips: URI stored as sent.  422 naming the
 * field for anything else.
 */
static int take_phone(const json_t *b, struct rt_user *u, struct rt_http_err *e)
{
	const char *s = rt_json_str(b, "phone");
	struct rt_phone ph;

	if (!s || !*s) {
		u->phone[0] = '\0';
		return 0;
	}
	if (s[0] == '+') {
		/* Digits and the usual separators only: libphonenumber would
		 * read "x12" or "ext. 12" as an extension and drop it. */
		if (s[1 + strspn(s + 1, "0123456789 ()-./")] == '\0' &&
		    rt_phone_parse(s, NULL, &ph) == 0) {
			rt_strlcpy(u->phone, ph.e164, sizeof(u->phone));
			return 0;
		}
		rt_http_err_set(e, 422, "invalid_field", "phone",
				"'phone' is not a valid phone number");
		return EINVAL;
	}
	if (sip_uri_ok(s) && strlen(s) < sizeof(u->phone)) {
		rt_strlcpy(u->phone, s, sizeof(u->phone));
		return 0;
	}
	rt_http_err_set(e, 422, "invalid_field", "phone",
			"'phone' must be a number in international form "
			"such as +14155550100, or a sip: or sips: URI such "
			"as sip:dana@pbx.example.com");
	return EINVAL;
}

struct user_in {
	struct rt_user u;
	const char *password;
	int64_t account_id;
	const char *role;
};

static const struct rt_field user_create_fields[] = {
	{"email", RT_F_STRING, RT_F_REQUIRED, 254},
	{"name", RT_F_STRING, RT_F_REQUIRED, 200},
	{"password", RT_F_STRING, RT_F_REQUIRED, 256},
	{"account_id", RT_F_INT, RT_F_NULLABLE, 0},
	{"role", RT_F_STRING, 0, 16},
	{"phone", RT_F_STRING, RT_F_NULLABLE, 255},
};

static int user_create_parse(const json_t *b, struct user_in *in,
			     struct rt_http_err *e)
{
	if (rt_http_check_fields(b, user_create_fields,
				 RT_ARRAY_SIZE(user_create_fields), e) ||
	    check_role(b, e) || check_password(b, e) ||
	    take_phone(b, &in->u, e))
		return EINVAL;
	rt_strlcpy(in->u.email, rt_json_str(b, "email"), sizeof(in->u.email));
	if (!rt_api_email_normalize(in->u.email)) {
		rt_http_err_set(e, 422, "invalid_field", "email",
				"'email' is not an email address");
		return EINVAL;
	}
	rt_strlcpy(in->u.name, rt_json_str(b, "name"), sizeof(in->u.name));
	if (!in->u.name[0]) {
		rt_http_err_set(e, 422, "invalid_field", "name",
				"'name' must not be empty");
		return EINVAL;
	}
	in->password = rt_json_str(b, "password");
	in->account_id = rt_json_int(b, "account_id", 0);
	in->role = rt_json_has(b, "role") ? rt_json_str(b, "role") : "analyst";
	if (rt_json_has(b, "account_id") && in->account_id <= 0) {
		rt_http_err_set(e, 400, "invalid_field", "account_id",
				"'account_id' must be a positive id");
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(users_create, struct user_in, user_create_parse)

static const struct rt_field user_update_fields[] = {
	{"name", RT_F_STRING, 0, 200},
	{"status", RT_F_STRING, 0, 16},
	{"password", RT_F_STRING, 0, 256},
	{"phone", RT_F_STRING, RT_F_NULLABLE, 255},
};

static int user_update_parse(const json_t *b, struct user_in *in,
			     struct rt_http_err *e)
{
	const char *status = rt_json_str(b, "status");

	if (rt_http_check_fields(b, user_update_fields,
				 RT_ARRAY_SIZE(user_update_fields), e) ||
	    check_password(b, e) || take_phone(b, &in->u, e))
		return EINVAL;
	if (status && strcmp(status, "active") && strcmp(status, "disabled")) {
		rt_http_err_set(e, 422, "invalid_field", "status",
				"'status' must be 'active' or 'disabled'");
		return EINVAL;
	}
	if (rt_json_has(b, "name") && !*rt_json_str(b, "name")) {
		rt_http_err_set(e, 422, "invalid_field", "name",
				"'name' must not be empty");
		return EINVAL;
	}
	if (json_object_size(b) == 0) {
		rt_http_err_set(e, 400, "missing_field", NULL,
				"send at least one of name, status, password, "
				"phone");
		return EINVAL;
	}
	in->password = rt_json_str(b, "password");
	return 0;
}
RT_API_BODY_CHECK(users_update, struct user_in, user_update_parse)

static int user_row(const struct rt_user *u, void *arg)
{
	return rt_list_add(arg, u->id, rt_json_user(u));
}

void rt_api_users_list(struct rt_req *r)
{
	struct rt_store_tx *tx;
	struct rt_page pg;
	struct rt_list l;

	if (rt_list_begin(r, &pg, &l, &tx))
		return;
	rt_list_end(r, &l, tx,
		    rt_store_user_list(tx, rt_req_scope(r), &pg, user_row, &l),
		    "listing users");
}

RT_API_GET(users, struct rt_user, rt_store_user_get, rt_json_user,
	   "reading a user")

void rt_api_users_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct user_in in = {0};
	char pw_hash[RT_PWHASH_MAX];
	struct rt_store_tx *tx;
	int err;

	if (user_create_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (!may_grant(r, in.role))
		return;
	if (!in.account_id)
		in.account_id = rt_req_scope(r);
	/* Hash before the write lock: argon2id takes tens of milliseconds. */
	err = rt_auth_password_hash(in.password, pw_hash);
	if (err) {
		rt_http_fail(r, err, "hashing a password");
		return;
	}
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_user_create(tx, rt_req_scope(r), &in.u, pw_hash,
				   in.account_id, in.role);
	sodium_memzero(pw_hash, sizeof(pw_hash));
	if (!err)
		err = rt_http_audit(r, tx, in.account_id, "user.create", "user",
				    in.u.id,
				    json_pack("{s:s,s:s}", "email", in.u.email,
					      "role", in.role));
	if (err) {
		rt_store_rollback(tx);
		if (err == EEXIST)
			rt_http_error(r, 409, "conflict", "email",
				      "a user with this email already exists");
		else if (err == ENOENT)
			rt_http_error(r, 404, "not_found", "account_id",
				      "no such account");
		else
			rt_http_fail(r, err, "creating a user");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 201, rt_json_user(&in.u));
}

void rt_api_users_update(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct user_in in = {0};
	char pw_hash[RT_PWHASH_MAX], phone[sizeof(in.u.phone)];
	const json_t *b = r->json;
	struct rt_store_tx *tx;
	json_t *changes;
	int err;

	if (user_update_parse(b, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	rt_strlcpy(phone, in.u.phone, sizeof(phone)); /* as parsed */
	if (in.password && rt_auth_password_hash(in.password, pw_hash)) {
		rt_http_fail(r, ENOMEM, "hashing a password");
		return;
	}
	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_user_get(tx, rt_req_scope(r), r->id, &in.u);
	if (!err) {
		char top[16];

		/* Changing a login is as strong as the strongest role it
		 * holds: an admin cannot take over an owner. */
		err = top_role(r, tx, in.u.id, top);
		if (!err && !may_grant(r, top)) {
			rt_store_rollback(tx);
			sodium_memzero(pw_hash, sizeof(pw_hash));
			return;
		}
	}
	if (!err) {
		if (rt_json_has(b, "name"))
			rt_strlcpy(in.u.name, rt_json_str(b, "name"),
				   sizeof(in.u.name));
		if (rt_json_has(b, "status"))
			rt_strlcpy(in.u.status, rt_json_str(b, "status"),
				   sizeof(in.u.status));
		if (json_object_get(b, "phone"))
			rt_strlcpy(in.u.phone, phone, sizeof(in.u.phone));
		err = rt_store_user_update(tx, rt_req_scope(r), &in.u,
					   in.password ? pw_hash : NULL);
	}
	sodium_memzero(pw_hash, sizeof(pw_hash));
	if (!err) {
		/* Never the password itself in the audit log. */
		changes = json_deep_copy(b);
		if (json_object_get(changes, "password"))
			json_object_set_new(changes, "password",
					    json_string("(changed)"));
		err = rt_http_audit(r, tx, rt_req_scope(r), "user.update",
				    "user", in.u.id, changes);
	}
	if (!err)
		err = rt_store_user_get(tx, rt_req_scope(r), r->id, &in.u);
	if (err) {
		rt_store_rollback(tx);
		if (err == EPERM)
			rt_http_error(
				r, 403, "forbidden", NULL,
				"this user also belongs to accounts outside "
				"yours; only they or those accounts' admins "
				"can change the login");
		else
			rt_http_fail(r, err, "updating a user");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 200, rt_json_user(&in.u));
}

/* ---- memberships -------------------------------------------------------- */

static const struct rt_field ms_create_fields[] = {
	{"user_id", RT_F_INT, RT_F_REQUIRED, 0},
	{"account_id", RT_F_INT, RT_F_REQUIRED, 0},
	{"role", RT_F_STRING, RT_F_REQUIRED, 16},
};

static int ms_create_parse(const json_t *b, struct rt_membership *m,
			   struct rt_http_err *e)
{
	if (rt_http_check_fields(b, ms_create_fields,
				 RT_ARRAY_SIZE(ms_create_fields), e) ||
	    check_role(b, e))
		return EINVAL;
	m->user_id = rt_json_int(b, "user_id", 0);
	m->account_id = rt_json_int(b, "account_id", 0);
	rt_strlcpy(m->role, rt_json_str(b, "role"), sizeof(m->role));
	if (m->user_id <= 0 || m->account_id <= 0) {
		rt_http_err_set(e, 400, "invalid_field",
				m->user_id <= 0 ? "user_id" : "account_id",
				"ids must be positive");
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(memberships_create, struct rt_membership, ms_create_parse)

static const struct rt_field ms_update_fields[] = {
	{"role", RT_F_STRING, RT_F_REQUIRED, 16},
};

static int ms_update_parse(const json_t *b, struct rt_membership *m,
			   struct rt_http_err *e)
{
	if (rt_http_check_fields(b, ms_update_fields,
				 RT_ARRAY_SIZE(ms_update_fields), e) ||
	    check_role(b, e))
		return EINVAL;
	rt_strlcpy(m->role, rt_json_str(b, "role"), sizeof(m->role));
	return 0;
}
RT_API_BODY_CHECK(memberships_update, struct rt_membership, ms_update_parse)

static int ms_row(const struct rt_membership *m, void *arg)
{
	return rt_list_add(arg, m->id, rt_json_membership(m));
}

void rt_api_memberships_list(struct rt_req *r)
{
	struct rt_store_tx *tx;
	int64_t user_id, account_id;
	struct rt_page pg;
	struct rt_list l;

	if (rt_http_query_id(r, "user_id", &user_id) ||
	    rt_http_query_id(r, "account_id", &account_id) ||
	    rt_list_begin(r, &pg, &l, &tx))
		return;
	rt_list_end(r, &l, tx,
		    rt_store_membership_list(tx, rt_req_scope(r), user_id,
					     account_id, &pg, ms_row, &l),
		    "listing memberships");
}

RT_API_GET(memberships, struct rt_membership, rt_store_membership_get,
	   rt_json_membership, "reading a membership")

void rt_api_memberships_create(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_membership m = {0};
	struct rt_store_tx *tx;
	int err;

	if (ms_create_parse(r->json, &m, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (!may_grant(r, m.role) || rt_http_begin(r, true, &tx))
		return;
	err = rt_store_membership_create(tx, rt_req_scope(r), &m);
	if (!err)
		err = rt_http_audit(r, tx, m.account_id, "membership.create",
				    "membership", m.id,
				    json_pack("{s:I,s:s}", "user_id",
					      (json_int_t)m.user_id, "role",
					      m.role));
	if (err) {
		rt_store_rollback(tx);
		if (err == EEXIST)
			rt_http_error(r, 409, "conflict", "account_id",
				      "this user already has a membership in "
				      "this account");
		else if (err == ENOENT)
			rt_http_error(r, 404, "not_found", NULL,
				      "no such user or account");
		else
			rt_http_fail(r, err, "creating a membership");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 201, rt_json_membership(&m));
}

void rt_api_memberships_update(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct rt_membership m = {0}, cur;
	struct rt_store_tx *tx;
	int err;

	if (ms_update_parse(r->json, &m, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	if (!may_grant(r, m.role) || rt_http_begin(r, true, &tx))
		return;
	err = rt_store_membership_get(tx, rt_req_scope(r), r->id, &cur);
	if (!err && !may_grant(r, cur.role)) {
		rt_store_rollback(tx);
		return;
	}
	m.id = r->id;
	if (!err)
		err = rt_store_membership_update(tx, rt_req_scope(r), &m);
	if (!err)
		err = rt_http_audit(r, tx, m.account_id, "membership.update",
				    "membership", m.id,
				    json_pack("{s:s,s:s}", "from", cur.role,
					      "to", m.role));
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "updating a membership");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_json(r, 200, rt_json_membership(&m));
}

void rt_api_memberships_delete(struct rt_req *r)
{
	struct rt_membership cur;
	struct rt_store_tx *tx;
	int err;

	if (rt_http_begin(r, true, &tx))
		return;
	err = rt_store_membership_get(tx, rt_req_scope(r), r->id, &cur);
	if (!err && !may_grant(r, cur.role)) {
		rt_store_rollback(tx);
		return;
	}
	if (!err)
		err = rt_store_membership_delete(tx, rt_req_scope(r), r->id);
	if (!err)
		err = rt_http_audit(r, tx, cur.account_id, "membership.delete",
				    "membership", cur.id,
				    json_pack("{s:I,s:s}", "user_id",
					      (json_int_t)cur.user_id, "role",
					      cur.role));
	if (err) {
		rt_store_rollback(tx);
		rt_http_fail(r, err, "deleting a membership");
		return;
	}
	if (rt_http_commit(r, tx))
		return;
	rt_http_body(r, 204, "", NULL, 0);
}
