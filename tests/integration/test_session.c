/*
 * Dashboard login as a browser does it: the session cookie and its
 * attributes, CSRF protection of changes made with it, logout, changes to
 * a user reaching their open sessions, wrong passwords and the rate limit on
 * them.  The rate-limit test runs on a server of its own that allows 3
 * failures, since every failure from 127.0.0.1 counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/util.h"

struct session {
	char cookie[256]; /* "Cookie: rt_session=..." */
	char csrf[200];	  /* "X-CSRF-Token: ..." */
};

static struct rt_test_server srv;

static int setup(void **state)
{
	(void)state;
	rt_test_server_start(&srv, NULL, NULL);
	if (!srv.email[0] || !srv.password[0]) {
		rt_test_server_stop(&srv);
		fail_msg("serve printed no 'admin user:' / 'admin password:' "
			 "line");
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

static void login_body(char *out, size_t size, const char *email,
		       const char *pw)
{
	snprintf(out, size, "{\"email\":\"%s\",\"password\":\"%s\"}", email,
		 pw);
}

static void login(struct rt_test_server *s, struct session *ss)
{
	struct rt_test_resp r;
	char body[512], sc[512];
	const char *csrf;

	login_body(body, sizeof(body), s->email, s->password);
	rt_test_api(s, &r, NULL, "POST", "/v1/sessions", body);
	RT_EXPECT_STATUS(&r, 201);
	if (!rt_test_header(&r, "Set-Cookie", sc, sizeof(sc)))
		fail_msg("login set no cookie: %s", r.headers);
	assert_int_equal(strncmp(sc, "rt_session=", 11), 0);
	assert_non_null(strstr(sc, "HttpOnly"));
	assert_non_null(strstr(sc, "SameSite=Strict"));
	assert_non_null(strstr(sc, "Path=/"));
	snprintf(ss->cookie, sizeof(ss->cookie), "Cookie: %.*s",
		 (int)strcspn(sc, ";"), sc);
	csrf = json_string_value(json_object_get(r.json, "csrf_token"));
	assert_non_null(csrf);
	assert_true(strlen(csrf) >= 16);
	snprintf(ss->csrf, sizeof(ss->csrf), "X-CSRF-Token: %s", csrf);
	/* The answer says who logged in, never how. */
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r.json, "user"), "email")),
			    s->email);
	assert_null(strstr(r.body, s->password));
	assert_null(strstr(r.body, sc + 11 + 4));
	rt_test_resp_free(&r);
}

static void test_login_cookie_csrf_logout(void **state)
{
	struct session ss;
	struct rt_test_resp r;
	const char *body = "{\"name\":\"Made With Cookie\"}";
	const char *h[4];
	(void)state;

	login(&srv, &ss);

	h[0] = ss.cookie;
	h[1] = NULL;
	rt_test_request(&srv, &r, "GET", "/v1/me", h, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r.json, "principal"),
				    "type")),
			    "user");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r.json, "principal"),
				    "email")),
			    srv.email);
	/* The page reloads its token from here; it is the login's. */
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "csrf_token")),
			    ss.csrf + strlen("X-CSRF-Token: "));
	rt_test_resp_free(&r);

	/* A change with the cookie alone could come from any page. */
	h[1] = "Content-Type: application/json";
	h[2] = NULL;
	rt_test_request(&srv, &r, "POST", "/v1/accounts", h, body,
			strlen(body));
	RT_EXPECT_ERROR(&r, 403, "csrf_failed", "X-CSRF-Token");
	rt_test_resp_free(&r);
	h[2] = "X-CSRF-Token: not-the-token";
	h[3] = NULL;
	rt_test_request(&srv, &r, "POST", "/v1/accounts", h, body,
			strlen(body));
	RT_EXPECT_ERROR(&r, 403, "csrf_failed", "X-CSRF-Token");
	rt_test_resp_free(&r);
	h[2] = ss.csrf;
	rt_test_request(&srv, &r, "POST", "/v1/accounts", h, body,
			strlen(body));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);

	/* Logout needs the token too, then the cookie is dead. */
	h[1] = NULL;
	rt_test_request(&srv, &r, "DELETE", "/v1/sessions/current", h, NULL, 0);
	RT_EXPECT_ERROR(&r, 403, "csrf_failed", "X-CSRF-Token");
	rt_test_resp_free(&r);
	h[1] = ss.csrf;
	h[2] = NULL;
	rt_test_request(&srv, &r, "DELETE", "/v1/sessions/current", h, NULL, 0);
	RT_EXPECT_STATUS(&r, 204);
	{
		char sc[256];

		assert_non_null(
			rt_test_header(&r, "Set-Cookie", sc, sizeof(sc)));
		assert_non_null(strstr(sc, "Max-Age=0"));
	}
	rt_test_resp_free(&r);
	h[1] = NULL;
	rt_test_request(&srv, &r, "GET", "/v1/me", h, NULL, 0);
	RT_EXPECT_ERROR(&r, 401, "unauthenticated", NULL);
	rt_test_resp_free(&r);

	/* The sign-in and the sign-out are in the audit log, as the user. */
	{
		bool in = false, out = false;
		size_t i;
		json_t *e;

		rt_test_api(&srv, &r, srv.key, "GET", "/v1/audit-log?limit=200",
			    NULL);
		RT_EXPECT_STATUS(&r, 200);
		json_array_foreach (json_object_get(r.json, "data"), i, e) {
			const char *action =
				json_string_value(json_object_get(e, "action"));
			json_t *actor = json_object_get(e, "actor");

			if (!rt_streq(json_string_value(
					      json_object_get(actor, "type")),
				      "user"))
				continue;
			in = in || rt_streq(action, "session.create");
			out = out || rt_streq(action, "session.delete");
			assert_non_null(
				json_string_value(json_object_get(e, "ip")));
		}
		assert_true(in);
		assert_true(out);
		rt_test_resp_free(&r);
	}
}

static void test_cookie_attacks(void **state)
{
	struct session ss;
	struct rt_test_resp r;
	const char *h[] = {"Cookie: rt_session=forged-token-value", NULL};
	(void)state;

	rt_test_request(&srv, &r, "GET", "/v1/me", h, NULL, 0);
	RT_EXPECT_ERROR(&r, 401, "unauthenticated", NULL);
	rt_test_resp_free(&r);

	/* Logout is for sessions; a key has none. */
	rt_test_api(&srv, &r, srv.key, "DELETE", "/v1/sessions/current", NULL);
	assert_true(r.status >= 400 && r.status < 500);
	rt_test_resp_free(&r);

	/* Two logins are two sessions: ending one keeps the other. */
	{
		struct session s2;
		const char *h1[] = {NULL, NULL, NULL};

		login(&srv, &ss);
		login(&srv, &s2);
		assert_string_not_equal(ss.cookie, s2.cookie);
		h1[0] = ss.cookie;
		h1[1] = ss.csrf;
		rt_test_request(&srv, &r, "DELETE", "/v1/sessions/current", h1,
				NULL, 0);
		RT_EXPECT_STATUS(&r, 204);
		rt_test_resp_free(&r);
		h1[0] = s2.cookie;
		h1[1] = NULL;
		rt_test_request(&srv, &r, "GET", "/v1/me", h1, NULL, 0);
		RT_EXPECT_STATUS(&r, 200);
		rt_test_resp_free(&r);
		/* One session's CSRF token is not another's. */
		h1[1] = ss.csrf;
		rt_test_request(&srv, &r, "POST", "/v1/accounts",
				(const char *[]){
					s2.cookie, ss.csrf,
					"Content-Type: application/json", NULL},
				"{\"name\":\"x\"}", 11);
		RT_EXPECT_ERROR(&r, 403, "csrf_failed", "X-CSRF-Token");
		rt_test_resp_free(&r);
	}
}

/* A user made over the API with role, logged in; returns the user id. */
static int64_t user_session(const char *email, const char *role,
			    struct session *ss)
{
	struct rt_test_resp r;
	struct rt_test_server u = srv;
	int64_t id;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/users",
		    rt_test_fmt("{\"email\":\"%s\",\"name\":\"U\",\"password\":"
				"\"correct horse battery\",\"role\":\"%s\"}",
				email, role));
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	snprintf(u.email, sizeof(u.email), "%s", email);
	snprintf(u.password, sizeof(u.password), "correct horse battery");
	login(&u, ss);
	return id;
}

static long cookie_call(const struct session *ss, const char *method,
			const char *path, const char *body)
{
	const char *h[] = {ss->cookie, ss->csrf,
			   "Content-Type: application/json", NULL};
	struct rt_test_resp r;
	long status;

	rt_test_request(&srv, &r, method, path, h, body,
			body ? strlen(body) : 0);
	status = r.status;
	if (status >= 400)
		RT_EXPECT_ERROR(&r, status, NULL, NULL);
	rt_test_resp_free(&r);
	return status;
}

/* What an admin changes about a user reaches their open sessions at once. */
static void test_changes_reach_open_sessions(void **state)
{
	struct session ss, s2;
	struct rt_test_resp r;
	int64_t uid, mid;
	(void)state;

	uid = user_session("live-role@example.com", "admin", &ss);
	assert_int_equal(cookie_call(&ss, "POST", "/v1/accounts",
				     "{\"name\":\"by admin\"}"),
			 201);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/memberships?user_id=%lld", (long long)uid),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	mid = json_integer_value(
		json_object_get(json_array_get(json_object_get(r.json, "data"),
					       0),
				"id"));
	rt_test_resp_free(&r);
	assert_true(mid > 0);

	/* Demoted: the session can read, no longer write. */
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/memberships/%lld", (long long)mid),
		    "{\"role\":\"analyst\"}");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	assert_int_equal(cookie_call(&ss, "GET", "/v1/me", NULL), 200);
	assert_int_equal(cookie_call(&ss, "POST", "/v1/accounts",
				     "{\"name\":\"by analyst\"}"),
			 403);

	/* Removed from the account: the session is gone. */
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/memberships/%lld", (long long)mid), NULL);
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
	assert_int_equal(cookie_call(&ss, "GET", "/v1/me", NULL), 401);

	/* Disabled: every session of the user ends, and no new one starts. */
	uid = user_session("live-disable@example.com", "analyst", &s2);
	assert_int_equal(cookie_call(&s2, "GET", "/v1/me", NULL), 200);
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/users/%lld", (long long)uid),
		    "{\"status\":\"disabled\"}");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	assert_int_equal(cookie_call(&s2, "GET", "/v1/me", NULL), 401);
	rt_test_api(&srv, &r, NULL, "POST", "/v1/sessions",
		    "{\"email\":\"live-disable@example.com\",\"password\":"
		    "\"correct horse battery\"}");
	RT_EXPECT_ERROR(&r, 401, "invalid_credentials", NULL);
	rt_test_resp_free(&r);
}

static struct rt_test_server limited;

static int setup_limited(void **state)
{
	static const char *const args[] = {"--login-max-failures", "3", NULL};

	rt_test_server_start(&limited, args, NULL);
	*state = &limited;
	return 0;
}

static int teardown_limited(void **state)
{
	return rt_test_server_stop(*state);
}

static void test_wrong_password_and_rate_limit(void **state)
{
	struct rt_test_server *ls = *state;
	struct rt_test_resp r;
	char body[512], ra[32];
	int i;

	login_body(body, sizeof(body), ls->email, "wrong password, clearly");
	rt_test_api(ls, &r, NULL, "POST", "/v1/sessions", body);
	RT_EXPECT_ERROR(&r, 401, "invalid_credentials", NULL);
	assert_null(rt_test_header(&r, "Set-Cookie", ra, sizeof(ra)));
	rt_test_resp_free(&r);
	/* An unknown email answers exactly like a wrong password. */
	login_body(body, sizeof(body), "nobody@example.com", "whatever it is");
	rt_test_api(ls, &r, NULL, "POST", "/v1/sessions", body);
	RT_EXPECT_ERROR(&r, 401, "invalid_credentials", NULL);
	rt_test_resp_free(&r);

	login_body(body, sizeof(body), ls->email, "wrong password, clearly");
	rt_test_api(ls, &r, NULL, "POST", "/v1/sessions", body);
	RT_EXPECT_ERROR(&r, 401, "invalid_credentials", NULL);
	rt_test_resp_free(&r);

	/* Three failures from this address: the next attempts wait. */
	for (i = 0; i < 2; i++) {
		rt_test_api(ls, &r, NULL, "POST", "/v1/sessions", body);
		RT_EXPECT_ERROR(&r, 429, "rate_limited", NULL);
		if (!rt_test_header(&r, "Retry-After", ra, sizeof(ra)))
			fail_msg("429 without Retry-After: %s", r.headers);
		assert_true(strtol(ra, NULL, 10) > 0);
		rt_test_resp_free(&r);
	}
	/* Even the right password, so that guessing cannot go on. */
	login_body(body, sizeof(body), ls->email, ls->password);
	rt_test_api(ls, &r, NULL, "POST", "/v1/sessions", body);
	RT_EXPECT_ERROR(&r, 429, "rate_limited", NULL);
	rt_test_resp_free(&r);

	/* Keys are not affected. */
	rt_test_api(ls, &r, ls->key, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_cookie_csrf_logout),
		cmocka_unit_test(test_cookie_attacks),
		cmocka_unit_test(test_changes_reach_open_sessions),
		cmocka_unit_test_setup_teardown(
			test_wrong_password_and_rate_limit, setup_limited,
			teardown_limited),
	};

	return cmocka_run_group_tests_name("session", tests, setup, teardown);
}
