/* Who am I, and dashboard login and logout. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http/http_int.h"

#define RT_LOG_MODULE "http"

static json_t *principal_json(const struct rt_principal *p)
{
	if (p->kind == RT_PRINCIPAL_KEY)
		return json_pack("{s:s,s:I,s:s}", "type", "api_key", "id",
				 (json_int_t)p->id, "name", p->name);
	return json_pack("{s:s,s:I,s:s,s:s}", "type", "user", "id",
			 (json_int_t)p->id, "email", p->name, "role", p->role);
}

void rt_api_me(struct rt_req *r)
{
	const struct rt_principal *p = &r->principal;
	json_t *j = json_pack("{s:o,s:o,s:o}", "principal", principal_json(p),
			      "account", rt_json_account(&p->account), "scopes",
			      rt_json_scopes(p->scopes));

	/* The dashboard reloads it from here after a page refresh. */
	if (j && p->kind == RT_PRINCIPAL_USER)
		json_object_set_new(j, "csrf_token", json_string(p->csrf));
	rt_http_json(r, 200, j);
}

bool rt_api_email_normalize(char *email)
{
	char *at = strchr(email, '@');
	size_t len = strlen(email);

	if (!at || at == email || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
	    at[1] == '.' || email[len - 1] == '.' || len > 254)
		return false;
	for (char *c = email; *c; c++) {
		if (isspace((unsigned char)*c) || (unsigned char)*c < 0x21)
			return false;
		*c = (char)tolower((unsigned char)*c);
	}
	return true;
}

/* Logins and logouts go to the audit log like every other change; a
 * failure to record one is logged but does not undo the sign-in. */
static void audit_session(struct rt_req *r, const char *action)
{
	struct rt_store_tx *tx;
	int err;

	err = rt_store_begin(r->srv->store, true, &tx);
	if (err)
		goto fail;
	err = rt_http_audit(r, tx, r->principal.account.id, action, "user",
			    r->principal.id,
			    json_pack("{s:I}", "session_id",
				      (json_int_t)r->principal.session_id));
	if (err) {
		rt_store_rollback(tx);
		goto fail;
	}
	err = rt_store_commit(tx);
	if (!err)
		return;
fail:
	rt_error("cannot audit a session", "action=%s err=%d", action, err);
}

struct login_in {
	char email[RT_EMAIL_MAX];
	const char *password;
	int64_t account_id;
};

static const struct rt_field login_fields[] = {
	{"email", RT_F_STRING, RT_F_REQUIRED, 254},
	{"password", RT_F_STRING, RT_F_REQUIRED, 1024},
	{"account_id", RT_F_INT, RT_F_NULLABLE, 0},
};

static int login_parse(const json_t *b, struct login_in *in,
		       struct rt_http_err *e)
{
	if (rt_http_check_fields(b, login_fields, RT_ARRAY_SIZE(login_fields),
				 e))
		return EINVAL;
	rt_strlcpy(in->email, rt_json_str(b, "email"), sizeof(in->email));
	in->password = rt_json_str(b, "password");
	in->account_id = rt_json_int(b, "account_id", 0);
	if (!rt_api_email_normalize(in->email)) {
		rt_http_err_set(e, 422, "invalid_field", "email",
				"'email' is not an email address");
		return EINVAL;
	}
	if (in->account_id < 0) {
		rt_http_err_set(e, 400, "invalid_field", "account_id",
				"'account_id' must be a positive id");
		return EINVAL;
	}
	return 0;
}
RT_API_BODY_CHECK(login, struct login_in, login_parse)

void rt_api_login(struct rt_req *r)
{
	struct rt_http_err e = {0};
	struct login_in in = {0};
	struct rt_login *lg;
	unsigned retry = 0;
	char cookie[160], retry_s[16];
	json_t *j;
	int err;

	if (login_parse(r->json, &in, &e)) {
		rt_http_send_err(r, &e);
		return;
	}
	lg = calloc(1, sizeof(*lg));
	if (!lg) {
		rt_http_fail(r, ENOMEM, "logging in");
		return;
	}
	err = rt_auth_login(r->srv->auth, in.email, in.password, in.account_id,
			    r->ip, lg, &retry);
	switch (err) {
	case 0:
		break;
	case EAGAIN:
		snprintf(retry_s, sizeof(retry_s), "%u", retry);
		rt_http_header(r, "Retry-After", retry_s);
		rt_http_error(r, 429, "rate_limited", NULL,
			      "too many failed logins; try again in %u seconds",
			      retry);
		goto out;
	case EACCES:
		rt_http_error(r, 401, "invalid_credentials", NULL,
			      "the email or password is wrong");
		goto out;
	case EPERM:
		rt_http_error(r, 403, "account_suspended", NULL,
			      "this account is suspended");
		goto out;
	case ENOENT:
		rt_http_error(r, 403, "no_membership", "account_id",
			      "this user has no membership in that account");
		goto out;
	default:
		rt_http_fail(r, err, "logging in");
		goto out;
	}
	snprintf(cookie, sizeof(cookie),
		 "rt_session=%s; Path=/; HttpOnly; SameSite=Strict; "
		 "Max-Age=%llu%s",
		 lg->token,
		 (unsigned long long)(r->srv->conf->session_ttl / 1000),
		 r->srv->conf->cookie_secure ? "; Secure" : "");
	rt_http_header(r, "Set-Cookie", cookie);
	r->principal = lg->principal;
	r->authed = true;
	audit_session(r, "session.create");
	j = json_pack("{s:o,s:o,s:s,s:o,s:s,s:o}", "user",
		      rt_json_user(&lg->user), "account",
		      rt_json_account(&lg->principal.account), "role",
		      lg->principal.role, "scopes",
		      rt_json_scopes(lg->principal.scopes), "csrf_token",
		      lg->principal.csrf, "expires_at",
		      rt_json_time(lg->expires_at));
	rt_http_json(r, 201, j);
out:
	sodium_memzero(lg, sizeof(*lg));
	free(lg);
}

void rt_api_logout(struct rt_req *r)
{
	int err;

	err = rt_auth_logout(r->srv->auth, &r->principal);
	if (err) {
		rt_http_fail(r, err, "logging out");
		return;
	}
	audit_session(r, "session.delete");
	rt_http_header(
		r, "Set-Cookie",
		"rt_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	rt_http_body(r, 204, "", NULL, 0);
}
