/*
 * The REST API as a script or an integrator sees it: the interface fixed for
 * operators' scripts, accounts, users, memberships, keys, scopes, pages,
 * idempotency, request ids, the audit log, health, metrics and the files the
 * server serves.  One server for the file; each test makes its own objects.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct rt_test_server srv;

static int setup(void **state)
{
	(void)state;
	rt_test_server_start(&srv, NULL, NULL);
	if (!srv.key[0] || !srv.account_id) {
		rt_test_server_stop(&srv);
		fail_msg(
			"serve on an empty database printed no 'api key:' line "
			"or demo account id");
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

/* POST /v1/accounts as key; returns the new id. */
static int64_t make_account(const char *key, const char *body)
{
	struct rt_test_resp r;
	int64_t id;

	rt_test_api(&srv, &r, key, "POST", "/v1/accounts", body);
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	return id;
}

/* POST /v1/api-keys; returns the secret in out, the id as result. */
static int64_t make_key(const char *key, const char *body, char *out,
			size_t size)
{
	struct rt_test_resp r;
	const char *secret;
	int64_t id;

	rt_test_api(&srv, &r, key, "POST", "/v1/api-keys", body);
	RT_EXPECT_STATUS(&r, 201);
	secret = json_string_value(json_object_get(r.json, "secret"));
	assert_non_null(secret);
	snprintf(out, size, "%s", secret);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	return id;
}

static void expect_get(const char *key, const char *path, long status)
{
	struct rt_test_resp r;

	rt_test_api(&srv, &r, key, "GET", path, NULL);
	RT_EXPECT_STATUS(&r, status);
	rt_test_resp_free(&r);
}

/* ---- the interface fixed for scripts ------------------------------------ */

static void test_fixed_interface(void **state)
{
	struct rt_test_resp r;
	char secret[128];
	int64_t id, kid;
	(void)state;

	assert_int_equal(strncmp(srv.key, "rt_live_", 8), 0);

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/accounts",
		    "{\"name\":\"Fixed Client\"}");
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	assert_string_equal(json_string_value(json_object_get(r.json, "name")),
			    "Fixed Client");
	assert_int_equal(rt_test_json_id(&r, "parent_id"), srv.account_id);
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/accounts/%lld", (long long)id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(rt_test_json_id(&r, "id"), id);
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/accounts/987654321", NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);

	rt_test_api(
		&srv, &r, srv.key, "POST", "/v1/api-keys",
		rt_test_fmt(
			"{\"account_id\":%lld,\"scopes\":[\"read\",\"write\"]}",
			(long long)id));
	RT_EXPECT_STATUS(&r, 201);
	kid = rt_test_json_id(&r, "id");
	assert_non_null(json_string_value(json_object_get(r.json, "secret")));
	snprintf(secret, sizeof(secret), "%s",
		 json_string_value(json_object_get(r.json, "secret")));
	assert_int_equal(strncmp(secret, "rt_live_", 8), 0);
	assert_int_equal(rt_test_json_id(&r, "account_id"), id);
	rt_test_resp_free(&r);

	/* The secret is shown that once, never again. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/api-keys/%lld", (long long)kid), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_null(json_object_get(r.json, "secret"));
	assert_null(strstr(r.body, secret));
	assert_null(strstr(r.body, secret + 8));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/api-keys?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_null(strstr(r.body, secret + 8));
	assert_null(strstr(r.body, "\"secret\""));
	rt_test_resp_free(&r);

	/* The new key acts as the client: it sees itself, not its agency. */
	rt_test_api(&srv, &r, secret, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r.json, "account"), "id")),
			 id);
	rt_test_resp_free(&r);
	expect_get(secret, rt_test_fmt("/v1/accounts/%lld", (long long)id),
		   200);
	expect_get(secret,
		   rt_test_fmt("/v1/accounts/%lld", (long long)srv.account_id),
		   404);
}

static void test_me(void **state)
{
	struct rt_test_resp r;
	json_t *p, *scopes;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	p = json_object_get(r.json, "principal");
	assert_string_equal(json_string_value(json_object_get(p, "type")),
			    "api_key");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r.json, "account"), "id")),
			 srv.account_id);
	scopes = json_object_get(r.json, "scopes");
	assert_int_equal(json_array_size(scopes), 3);
	assert_null(json_object_get(r.json, "csrf_token"));
	rt_test_resp_free(&r);

	/* HEAD answers every GET route: the status without the body. */
	rt_test_api(&srv, &r, srv.key, "HEAD", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(r.len, 0);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, NULL, "HEAD", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 401);
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, NULL, "GET", "/v1/me", NULL);
	RT_EXPECT_ERROR(&r, 401, "unauthenticated", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r,
		    "rt_live_notarealkeyatall0000000000000000000000000", "GET",
		    "/v1/me", NULL);
	RT_EXPECT_ERROR(&r, 401, "unauthenticated", NULL);
	rt_test_resp_free(&r);
}

static void test_account_update(void **state)
{
	struct rt_test_resp r;
	char secret[128];
	int64_t id, agency;
	const char *path;
	(void)state;

	agency = make_account(srv.key,
			      "{\"name\":\"Upd Agency\",\"kind\":\"agency\","
			      "\"time_zone\":\"America/New_York\","
			      "\"currency\":\"CAD\"}");
	/* A client takes its agency's time zone and currency unless told. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/accounts",
		    rt_test_fmt("{\"name\":\"Upd Client\",\"parent_id\":%lld}",
				(long long)agency));
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "time_zone")),
			    "America/New_York");
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "currency")),
			    "CAD");
	rt_test_resp_free(&r);

	/* A client cannot have clients. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/accounts",
		    rt_test_fmt("{\"name\":\"Grandchild\",\"parent_id\":%lld}",
				(long long)id));
	RT_EXPECT_ERROR(&r, 422, "not_an_agency", "parent_id");
	rt_test_resp_free(&r);

	path = rt_test_fmt("/v1/accounts/%lld", (long long)id);
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"name\":\"Renamed\",\"time_zone\":\"Europe/Berlin\","
		    "\"currency\":\"EUR\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")),
			    "Renamed");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")),
			    "Renamed");
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "time_zone")),
			    "Europe/Berlin");
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "currency")),
			    "EUR");
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"time_zone\":\"Mars/Olympus_Mons\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "time_zone");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path, "{\"currency\":\"eur\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "currency");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/accounts/%lld", (long long)srv.account_id),
		    "{\"status\":\"suspended\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "status");
	rt_test_resp_free(&r);

	/* Suspending a client locks its keys out until it is active again. */
	make_key(srv.key,
		 rt_test_fmt("{\"account_id\":%lld,\"scopes\":[\"read\"]}",
			     (long long)id),
		 secret, sizeof(secret));
	expect_get(secret, "/v1/me", 200);
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"status\":\"suspended\"}");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, secret, "GET", "/v1/me", NULL);
	RT_EXPECT_ERROR(&r, 403, "account_suspended", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"status\":\"active\"}");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	expect_get(secret, "/v1/me", 200);

	/* Suspending an agency suspends the clients below it too. */
	{
		int64_t sub, client;
		const char *subpath;
		char csecret[128];

		sub = make_account(srv.key, "{\"name\":\"Sub Agency\","
					    "\"kind\":\"agency\"}");
		client = make_account(srv.key,
				      rt_test_fmt("{\"name\":\"Sub Client\","
						  "\"parent_id\":%lld}",
						  (long long)sub));
		make_key(srv.key,
			 rt_test_fmt(
				 "{\"account_id\":%lld,\"scopes\":[\"read\"]}",
				 (long long)client),
			 csecret, sizeof(csecret));
		expect_get(csecret, "/v1/me", 200);
		subpath = rt_test_fmt("/v1/accounts/%lld", (long long)sub);
		rt_test_api(&srv, &r, srv.key, "PATCH", subpath,
			    "{\"status\":\"suspended\"}");
		RT_EXPECT_STATUS(&r, 200);
		rt_test_resp_free(&r);
		rt_test_api(&srv, &r, csecret, "GET", "/v1/me", NULL);
		RT_EXPECT_ERROR(&r, 403, "account_suspended", NULL);
		rt_test_resp_free(&r);
		rt_test_api(&srv, &r, srv.key, "PATCH", subpath,
			    "{\"status\":\"active\"}");
		RT_EXPECT_STATUS(&r, 200);
		rt_test_resp_free(&r);
		expect_get(csecret, "/v1/me", 200);
	}
}

/* ---- users and memberships ---------------------------------------------- */

static void test_users_and_memberships(void **state)
{
	struct rt_test_resp r;
	int64_t uid, client, mid;
	const char *upath, *mpath;
	(void)state;

	client = make_account(srv.key, "{\"name\":\"Users Client\"}");
	rt_test_api(
		&srv, &r, srv.key, "POST", "/v1/users",
		"{\"email\":\"Ana.Lyst@Example.com\",\"name\":\"Ana Lyst\","
		"\"password\":\"correct horse battery\",\"role\":\"analyst\"}");
	RT_EXPECT_STATUS(&r, 201);
	uid = rt_test_json_id(&r, "id");
	assert_string_equal(json_string_value(json_object_get(r.json, "email")),
			    "ana.lyst@example.com");
	assert_null(json_object_get(r.json, "password"));
	assert_null(strstr(r.body, "correct horse"));
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/users",
		    "{\"email\":\"ana.lyst@example.com\",\"name\":\"Again\","
		    "\"password\":\"correct horse battery\"}");
	RT_EXPECT_ERROR(&r, 409, "conflict", "email");
	rt_test_resp_free(&r);

	upath = rt_test_fmt("/v1/users/%lld", (long long)uid);
	expect_get(srv.key, upath, 200);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/users?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(strstr(r.body, "ana.lyst@example.com"));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", upath,
		    "{\"name\":\"Ana B. Lyst\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")),
			    "Ana B. Lyst");
	rt_test_resp_free(&r);

	/* Creating the user made a membership in the caller's account. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/memberships?user_id=%lld", (long long)uid),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
	{
		json_t *m = json_array_get(json_object_get(r.json, "data"), 0);

		assert_int_equal(json_integer_value(
					 json_object_get(m, "account_id")),
				 srv.account_id);
		assert_string_equal(json_string_value(
					    json_object_get(m, "role")),
				    "analyst");
	}
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/memberships",
		    rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				"\"role\":\"agent\"}",
				(long long)uid, (long long)client));
	RT_EXPECT_STATUS(&r, 201);
	mid = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/memberships",
		    rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				"\"role\":\"agent\"}",
				(long long)uid, (long long)client));
	RT_EXPECT_ERROR(&r, 409, "conflict", NULL);
	rt_test_resp_free(&r);

	mpath = rt_test_fmt("/v1/memberships/%lld", (long long)mid);
	rt_test_api(&srv, &r, srv.key, "GET", mpath, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(rt_test_json_id(&r, "account_id"), client);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", mpath,
		    "{\"role\":\"analyst\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "role")),
			    "analyst");
	rt_test_resp_free(&r);

	/* An admin key cannot grant or change to a role above admin. */
	rt_test_api(&srv, &r, srv.key, "PATCH", mpath, "{\"role\":\"owner\"}");
	RT_EXPECT_ERROR(&r, 403, "role_too_high", "role");
	rt_test_resp_free(&r);
	rt_test_api(
		&srv, &r, srv.key, "POST", "/v1/users",
		"{\"email\":\"boss@example.com\",\"name\":\"Boss\","
		"\"password\":\"correct horse battery\",\"role\":\"owner\"}");
	RT_EXPECT_ERROR(&r, 403, "role_too_high", "role");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/memberships",
		    rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				"\"role\":\"owner\"}",
				(long long)uid, (long long)client));
	RT_EXPECT_ERROR(&r, 403, "role_too_high", "role");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", mpath, "{\"role\":\"wizard\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "role");
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "DELETE", mpath, NULL);
	RT_EXPECT_STATUS(&r, 204);
	assert_int_equal(r.len, 0);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", mpath, NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE", mpath, NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
}

static const char *phone_of(const struct rt_test_resp *r)
{
	json_t *v = json_object_get(r->json, "phone");

	assert_non_null(v); /* present, null or a string */
	return json_string_value(v);
}

/* Where a user takes the calls of a flow's dial step: a number in
 * international form (kept as E.164) or a sip:/sips: URI; null or ""
 * clears; anything else is a 422 naming the field. */
static void test_user_phone(void **state)
{
	struct rt_test_resp r;
	const char *upath;
	int64_t uid;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/users",
		    "{\"email\":\"phone@example.com\",\"name\":\"Dana\","
		    "\"password\":\"correct horse battery\",\"role\":"
		    "\"agent\",\"phone\":\"+1 (415) 555-0100\"}");
	RT_EXPECT_STATUS(&r, 201);
	uid = rt_test_json_id(&r, "id");
	assert_string_equal(phone_of(&r), "+14155550100");
	rt_test_resp_free(&r);
	upath = rt_test_fmt("/v1/users/%lld", (long long)uid);

	rt_test_api(&srv, &r, srv.key, "PATCH", upath,
		    "{\"phone\":\"sips:dana@pbx.example.com;transport=tls\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(phone_of(&r),
			    "sips:dana@pbx.example.com;transport=tls");
	rt_test_resp_free(&r);
	/* Another change keeps it. */
	rt_test_api(&srv, &r, srv.key, "PATCH", upath, "{\"name\":\"Dana S\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(phone_of(&r),
			    "sips:dana@pbx.example.com;transport=tls");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", upath, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(phone_of(&r),
			    "sips:dana@pbx.example.com;transport=tls");
	rt_test_resp_free(&r);

	/* Refused, and left as it was. */
	{
		static const char *const bad[] = {
			"\"4155550100\"",	     /* no country */
			"\"+1415\"",		     /* not a number */
			"\"+1 415 555 0100 x\"",     /* trailing junk */
			"\"sip:\"",		     /* no host */
			"\"sip:dana@\"",	     /* no host */
			"\"sip:dana @pbx.example\"", /* a space */
			"\"tel:+14155550100\"",
			"\"mailto:dana@example.com\"",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			rt_test_api(&srv, &r, srv.key, "PATCH", upath,
				    rt_test_fmt("{\"phone\":%s}", bad[i]));
			RT_EXPECT_ERROR(&r, 422, "invalid_field", "phone");
			rt_test_resp_free(&r);
		}
	}
	rt_test_api(&srv, &r, srv.key, "PATCH", upath, "{\"phone\":7}");
	RT_EXPECT_ERROR(&r, 400, "invalid_field", "phone");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", upath,
		    "{\"phone\":\"sip:a\\u0001b@pbx.example.com\"}");
	RT_EXPECT_ERROR(&r, 400, "invalid_field", "phone");
	rt_test_resp_free(&r);
	{
		char body[400];

		/* 256 bytes: one past the limit. */
		snprintf(body, sizeof(body),
			 "{\"phone\":\"sip:%0248d@h.example\"}", 0);
		rt_test_api(&srv, &r, srv.key, "PATCH", upath, body);
		RT_EXPECT_ERROR(&r, 400, "invalid_field", "phone");
		rt_test_resp_free(&r);
	}
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/users",
		    "{\"email\":\"phone2@example.com\",\"name\":\"Eli\","
		    "\"password\":\"correct horse battery\",\"phone\":"
		    "\"sip:\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "phone");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", upath, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(phone_of(&r),
			    "sips:dana@pbx.example.com;transport=tls");
	rt_test_resp_free(&r);

	/* Cleared by null and by "". */
	rt_test_api(&srv, &r, srv.key, "PATCH", upath, "{\"phone\":null}");
	RT_EXPECT_STATUS(&r, 200);
	assert_null(phone_of(&r));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", upath,
		    "{\"phone\":\"+442079460958\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(phone_of(&r), "+442079460958");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", upath, "{\"phone\":\"\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_null(phone_of(&r));
	rt_test_resp_free(&r);
}

/* A user signed in with the admin role cannot make anyone an owner. */
static void test_user_role_limit(void **state)
{
	struct rt_test_resp r;
	char cookie[256], csrf[128], ck[300], tok[160], val[256];
	const char *hdr[4];
	int64_t uid, client;
	(void)state;

	client = make_account(srv.key, "{\"name\":\"Role Client\"}");
	rt_test_api(
		&srv, &r, srv.key, "POST", "/v1/users",
		"{\"email\":\"adm@example.com\",\"name\":\"Adm\","
		"\"password\":\"correct horse battery\",\"role\":\"admin\"}");
	RT_EXPECT_STATUS(&r, 201);
	uid = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);

	rt_test_api(
		&srv, &r, NULL, "POST", "/v1/sessions",
		"{\"email\":\"adm@example.com\",\"password\":\"correct horse "
		"battery\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_non_null(rt_test_header(&r, "Set-Cookie", val, sizeof(val)));
	assert_true(strncmp(val, "rt_session=", 11) == 0);
	snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(val, ";"), val);
	snprintf(csrf, sizeof(csrf), "%s",
		 json_string_value(json_object_get(r.json, "csrf_token")));
	rt_test_resp_free(&r);

	snprintf(ck, sizeof(ck), "Cookie: %s", cookie);
	snprintf(tok, sizeof(tok), "X-CSRF-Token: %s", csrf);
	hdr[0] = ck;
	hdr[1] = tok;
	hdr[2] = "Content-Type: application/json";
	hdr[3] = NULL;
	{
		const char *b =
			rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				    "\"role\":\"owner\"}",
				    (long long)uid, (long long)client);

		rt_test_request(&srv, &r, "POST", "/v1/memberships", hdr, b,
				strlen(b));
		RT_EXPECT_ERROR(&r, 403, "role_too_high", "role");
		rt_test_resp_free(&r);
		b = rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				"\"role\":\"admin\"}",
				(long long)uid, (long long)client);
		rt_test_request(&srv, &r, "POST", "/v1/memberships", hdr, b,
				strlen(b));
		RT_EXPECT_STATUS(&r, 201);
		rt_test_resp_free(&r);
	}
}

/* ---- keys --------------------------------------------------------------- */

static void test_keys_list_and_revoke(void **state)
{
	struct rt_test_resp r;
	char secret[128];
	int64_t kid;
	const char *path;
	bool found = false;
	size_t i;
	json_t *k;
	(void)state;

	kid = make_key(srv.key,
		       "{\"name\":\"to revoke\",\"scopes\":[\"read\"]}", secret,
		       sizeof(secret));
	expect_get(secret, "/v1/me", 200);

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/api-keys?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, k) {
		if (json_integer_value(json_object_get(k, "id")) == kid) {
			found = true;
			/* Using a key records when. */
			assert_true(json_is_string(
				json_object_get(k, "last_used_at")));
			assert_true(
				strncmp(secret,
					json_string_value(
						json_object_get(k, "prefix")),
					strlen(json_string_value(
						json_object_get(k,
								"prefix")))) ==
				0);
		}
	}
	assert_true(found);
	assert_null(strstr(r.body, secret + 8));
	rt_test_resp_free(&r);

	path = rt_test_fmt("/v1/api-keys/%lld", (long long)kid);
	rt_test_api(&srv, &r, srv.key, "DELETE", path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_string(json_object_get(r.json, "revoked_at")));
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, secret, "GET", "/v1/me", NULL);
	RT_EXPECT_ERROR(&r, 401, "key_revoked", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE", path, NULL);
	RT_EXPECT_ERROR(&r, 409, "already_revoked", NULL);
	rt_test_resp_free(&r);
}

static void test_key_expiry(void **state)
{
	struct rt_test_resp r;
	char secret[128], when[32];
	time_t t = time(NULL) + 3;
	struct tm tm;
	int i;
	(void)state;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	make_key(srv.key,
		 rt_test_fmt("{\"scopes\":[\"read\"],\"expires_at\":\"%s\"}",
			     when),
		 secret, sizeof(secret));
	expect_get(secret, "/v1/me", 200);
	for (i = 0; i < 60; i++) {
		rt_test_api(&srv, &r, secret, "GET", "/v1/me", NULL);
		if (r.status != 200)
			break;
		rt_test_resp_free(&r);
		usleep(100 * 1000);
	}
	RT_EXPECT_ERROR(&r, 401, "key_expired", NULL);
	rt_test_resp_free(&r);
	assert_true(time(NULL) >= t - 1);

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/api-keys",
		    "{\"scopes\":[\"read\"],\"expires_at\":\"2001-01-01T00:00:"
		    "00Z\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "expires_at");
	rt_test_resp_free(&r);
}

static void test_scopes(void **state)
{
	struct rt_test_resp r;
	char ro[128], rw[128];
	(void)state;

	make_key(srv.key, "{\"scopes\":[\"read\"]}", ro, sizeof(ro));
	make_key(srv.key, "{\"scopes\":[\"read\",\"write\"]}", rw, sizeof(rw));

	expect_get(ro, "/v1/accounts", 200);
	rt_test_api(&srv, &r, ro, "POST", "/v1/accounts",
		    "{\"name\":\"nope\"}");
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, ro, "PATCH",
		    rt_test_fmt("/v1/accounts/%lld", (long long)srv.account_id),
		    "{\"name\":\"nope\"}");
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);
	/* Keys and the audit log are for admins. */
	rt_test_api(&srv, &r, rw, "GET", "/v1/api-keys", NULL);
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, rw, "POST", "/v1/api-keys",
		    "{\"scopes\":[\"read\"]}");
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, ro, "GET", "/v1/audit-log", NULL);
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/api-keys",
		    "{\"scopes\":[\"read\",\"root\"]}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "scopes");
	rt_test_resp_free(&r);
}

/* ---- lists, idempotency, request ids ------------------------------------ */

static int64_t count_accounts(void)
{
	struct rt_test_resp r;
	int64_t n;

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/accounts?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
	n = (int64_t)json_array_size(json_object_get(r.json, "data"));
	rt_test_resp_free(&r);
	return n;
}

static void test_pagination(void **state)
{
	int64_t made[5], seen[256];
	size_t nseen = 0, pages = 0;
	char cursor[128] = "";
	(void)state;

	for (int i = 0; i < 5; i++)
		made[i] =
			make_account(srv.key,
				     rt_test_fmt("{\"name\":\"Page %d\"}", i));
	for (;;) {
		struct rt_test_resp r;
		json_t *data, *item, *next;
		size_t i;

		rt_test_api(
			&srv, &r, srv.key, "GET",
			cursor[0]
				? rt_test_fmt("/v1/accounts?limit=2&cursor=%s",
					      cursor)
				: "/v1/accounts?limit=2",
			NULL);
		RT_EXPECT_STATUS(&r, 200);
		data = json_object_get(r.json, "data");
		assert_true(json_is_array(data));
		assert_true(json_array_size(data) <= 2);
		json_array_foreach (data, i, item) {
			int64_t id =
				json_integer_value(json_object_get(item, "id"));

			for (size_t j = 0; j < nseen; j++) {
				if (seen[j] == id)
					fail_msg("account %lld seen twice",
						 (long long)id);
			}
			assert_true(nseen < 256);
			seen[nseen++] = id;
		}
		next = json_object_get(r.json, "next_cursor");
		pages++;
		assert_true(pages < 200);
		if (json_is_null(next)) {
			rt_test_resp_free(&r);
			break;
		}
		assert_true(json_is_string(next));
		assert_int_equal(json_array_size(data), 2);
		snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		rt_test_resp_free(&r);
	}
	assert_true(pages >= 3);
	for (int i = 0; i < 5; i++) {
		bool found = false;

		for (size_t j = 0; j < nseen; j++)
			found = found || seen[j] == made[i];
		if (!found)
			fail_msg("account %lld never listed",
				 (long long)made[i]);
	}
	assert_int_equal((int64_t)nseen, count_accounts());
}

static void test_idempotency(void **state)
{
	struct rt_test_resp r1, r2, r3;
	const char *hdr[] = {NULL, "Content-Type: application/json",
			     "Idempotency-Key: create-idem-1", NULL};
	const char *body = "{\"name\":\"Idem Client\"}";
	const char *other = "{\"name\":\"Idem Other\"}";
	char auth[200], v[64];
	int64_t before;
	(void)state;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.key);
	hdr[0] = auth;
	before = count_accounts();
	rt_test_request(&srv, &r1, "POST", "/v1/accounts", hdr, body,
			strlen(body));
	RT_EXPECT_STATUS(&r1, 201);
	assert_null(rt_test_header(&r1, "Idempotent-Replayed", v, sizeof(v)));
	rt_test_request(&srv, &r2, "POST", "/v1/accounts", hdr, body,
			strlen(body));
	RT_EXPECT_STATUS(&r2, 201);
	assert_non_null(
		rt_test_header(&r2, "Idempotent-Replayed", v, sizeof(v)));
	assert_string_equal(v, "true");
	assert_true(json_equal(r1.json, r2.json));
	assert_int_equal(count_accounts(), before + 1);

	rt_test_request(&srv, &r3, "POST", "/v1/accounts", hdr, other,
			strlen(other));
	RT_EXPECT_ERROR(&r3, 422, "idempotency_key_reused", "Idempotency-Key");
	assert_int_equal(count_accounts(), before + 1);
	rt_test_resp_free(&r1);
	rt_test_resp_free(&r2);
	rt_test_resp_free(&r3);

	/* Another key is another request. */
	hdr[2] = "Idempotency-Key: create-idem-2";
	rt_test_request(&srv, &r1, "POST", "/v1/accounts", hdr, body,
			strlen(body));
	RT_EXPECT_STATUS(&r1, 201);
	rt_test_resp_free(&r1);
	assert_int_equal(count_accounts(), before + 2);

	hdr[2] = "Idempotency-Key: bad key with spaces";
	rt_test_request(&srv, &r1, "POST", "/v1/accounts", hdr, body,
			strlen(body));
	RT_EXPECT_ERROR(&r1, 400, "invalid_header", "Idempotency-Key");
	rt_test_resp_free(&r1);
}

static void test_request_id(void **state)
{
	struct rt_test_resp r;
	const char *hdr[] = {"X-Request-Id: trace-me.42_A", NULL};
	const char *bad[] = {"X-Request-Id: <script>", NULL};
	char v[128];
	(void)state;

	rt_test_request(&srv, &r, "GET", "/healthz", hdr, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(rt_test_header(&r, "X-Request-Id", v, sizeof(v)));
	assert_string_equal(v, "trace-me.42_A");
	rt_test_resp_free(&r);

	rt_test_request(&srv, &r, "GET", "/healthz", NULL, NULL, 0);
	assert_non_null(rt_test_header(&r, "X-Request-Id", v, sizeof(v)));
	assert_true(strlen(v) >= 8);
	rt_test_resp_free(&r);

	/* A request id that could inject into logs or pages is replaced. */
	rt_test_request(&srv, &r, "GET", "/nope/nothing-here", bad, NULL, 0);
	assert_non_null(rt_test_header(&r, "X-Request-Id", v, sizeof(v)));
	assert_null(strchr(v, '<'));
	rt_test_resp_free(&r);
}

/* ---- the audit log ------------------------------------------------------- */

static void test_audit_log(void **state)
{
	const char *hdr[] = {NULL, "Content-Type: application/json",
			     "X-Request-Id: audit-check-1", NULL};
	static const char *const want[] = {"account.create",
					   "account.update",
					   "api_key.create",
					   "api_key.revoke",
					   "user.create",
					   "membership.create",
					   "membership.delete"};
	bool have[7] = {false};
	struct rt_test_resp r;
	char auth[200], cursor[128] = "", secret[128];
	int64_t id, kid, uid, mid;
	bool found = false;
	const char *b;
	(void)state;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.key);
	hdr[0] = auth;
	id = make_account(srv.key, "{\"name\":\"Audited\"}");
	b = "{\"name\":\"Audited 2\"}";
	rt_test_request(&srv, &r, "PATCH",
			rt_test_fmt("/v1/accounts/%lld", (long long)id), hdr, b,
			strlen(b));
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	kid = make_key(srv.key, "{\"scopes\":[\"read\"]}", secret,
		       sizeof(secret));
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/api-keys/%lld", (long long)kid), NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/users",
		    "{\"email\":\"audited@example.com\",\"name\":\"Au\","
		    "\"password\":\"correct horse battery\"}");
	RT_EXPECT_STATUS(&r, 201);
	uid = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/memberships",
		    rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				"\"role\":\"agent\"}",
				(long long)uid, (long long)id));
	RT_EXPECT_STATUS(&r, 201);
	mid = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/memberships/%lld", (long long)mid), NULL);
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);

	for (int pages = 0; pages < 100; pages++) {
		json_t *item, *next;
		size_t i;

		rt_test_api(
			&srv, &r, srv.key, "GET",
			cursor[0] ? rt_test_fmt(
					    "/v1/audit-log?limit=50&cursor=%s",
					    cursor)
				  : "/v1/audit-log?limit=50",
			NULL);
		RT_EXPECT_STATUS(&r, 200);
		json_array_foreach (json_object_get(r.json, "data"), i, item) {
			const char *action = json_string_value(
				json_object_get(item, "action"));
			json_t *actor = json_object_get(item, "actor");
			json_t *obj = json_object_get(item, "object");

			assert_non_null(action);
			assert_non_null(json_string_value(
				json_object_get(item, "created_at")));
			for (size_t k = 0; k < 7; k++)
				have[k] =
					have[k] || strcmp(action, want[k]) == 0;
			if (strcmp(action, "account.update") == 0 &&
			    json_integer_value(json_object_get(obj, "id")) ==
				    id) {
				found = true;
				assert_string_equal(
					json_string_value(
						json_object_get(actor, "type")),
					"api_key");
				assert_int_equal(json_integer_value(
							 json_object_get(actor,
									 "id")),
						 1);
				assert_string_equal(
					json_string_value(
						json_object_get(obj, "type")),
					"account");
				assert_string_equal(
					json_string_value(
						json_object_get(item, "ip")),
					"127.0.0.1");
				assert_string_equal(
					json_string_value(
						json_object_get(item,
								"request_id")),
					"audit-check-1");
				assert_string_equal(
					json_string_value(json_object_get(
						json_object_get(item,
								"details"),
						"name")),
					"Audited 2");
			}
		}
		assert_null(strstr(r.body, "correct horse"));
		next = json_object_get(r.json, "next_cursor");
		if (!json_is_string(next)) {
			rt_test_resp_free(&r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
		rt_test_resp_free(&r);
	}
	assert_true(found);
	for (size_t k = 0; k < 7; k++) {
		if (!have[k])
			fail_msg("no '%s' in the audit log", want[k]);
	}
}

/* ---- health, metrics and files ------------------------------------------ */

static void test_health_and_metrics(void **state)
{
	struct rt_test_resp r;
	char ct[128];
	(void)state;

	rt_test_request(&srv, &r, "GET", "/healthz", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_request(&srv, &r, "GET", "/readyz", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "status")),
			    "ready");
	rt_test_resp_free(&r);

	expect_get(srv.key, "/v1/me", 200);
	rt_test_request(&srv, &r, "GET", "/metrics", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(rt_test_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_true(strncmp(ct, "text/plain", 10) == 0);
	assert_non_null(strstr(r.body, "ringtrail_http_requests_total"));
	assert_non_null(
		strstr(r.body, "ringtrail_http_request_seconds_bucket"));
	assert_non_null(strstr(r.body, "ringtrail_store_seconds"));
	/* Requests by route and status. */
	assert_non_null(strstr(r.body, "/v1/me"));
	assert_non_null(strstr(r.body, "\"200\""));
	rt_test_resp_free(&r);
}

static void test_openapi_served(void **state)
{
	struct rt_test_resp r;
	char ct[128];
	(void)state;

	rt_test_request(&srv, &r, "GET", "/v1/openapi.yaml", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(rt_test_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_non_null(strstr(ct, "yaml"));
	assert_non_null(strstr(r.body, "openapi:"));
	rt_test_resp_free(&r);
}

static void test_web_page(void **state)
{
	struct rt_test_resp r;
	char path[512], ct[128];
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/web/index.html", rt_test_source_dir());
	if (stat(path, &st) != 0) {
		print_message(
			"skipping the web page check: %s does not exist\n",
			path);
		skip();
	}
	rt_test_request(&srv, &r, "GET", "/", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(rt_test_header(&r, "Content-Type", ct, sizeof(ct)));
	assert_true(strncmp(ct, "text/html", 9) == 0);
	assert_int_equal((long long)r.len, (long long)st.st_size);
	rt_test_resp_free(&r);
	rt_test_request(&srv, &r, "HEAD", "/", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	/* Nothing outside the web folder. */
	rt_test_request(&srv, &r, "GET", "/../CMakeLists.txt", NULL, NULL, 0);
	assert_true(r.status == 404 || r.status == 400);
	rt_test_resp_free(&r);
	rt_test_request(&srv, &r, "GET", "/%2e%2e/CMakeLists.txt", NULL, NULL,
			0);
	assert_true(r.status == 404 || r.status == 400);
	assert_null(strstr(r.body, "cmake_minimum_required"));
	rt_test_resp_free(&r);
}

/* ---- stopping ------------------------------------------------------------ */

static struct rt_test_server local;

static int setup_local(void **state)
{
	rt_test_server_start(&local, NULL, NULL);
	*state = &local;
	return 0;
}

static int teardown_local(void **state)
{
	return rt_test_server_stop(*state);
}

/* Opens a POST /v1/accounts and sends all but the last bytes of its body:
 * a request in flight.  Returns the socket. */
static int half_request(struct rt_test_server *s, const char *body, size_t keep)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const char *head;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_port = htons((uint16_t)s->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	head = rt_test_fmt("POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			   "Authorization: Bearer %s\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			   s->key, strlen(body));
	assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	assert_int_equal(write(fd, body, strlen(body) - keep),
			 (ssize_t)(strlen(body) - keep));
	/* Open once the server counts it in flight (beside the metrics
	 * request itself). */
	for (int i = 0;; i++) {
		struct rt_test_resp r;
		const char *g;
		long n = 0;

		rt_test_request(s, &r, "GET", "/metrics", NULL, NULL, 0);
		g = strstr(r.body, "\nringtrail_http_requests_in_flight ");
		if (g)
			n = strtol(g + strlen("\nringtrail_http_requests_in_"
					      "flight "),
				   NULL, 10);
		rt_test_resp_free(&r);
		if (n >= 2)
			break;
		if (i == 250)
			fail_msg("the half-sent request never showed as in "
				 "flight");
		usleep(20 * 1000);
	}
	return fd;
}

/* SIGTERM lets the request in flight finish, then the server exits 0. */
static void test_sigterm_drains(void **state)
{
	struct rt_test_server *s = *state;
	const char *body = "{\"name\":\"Finished After SIGTERM\"}";
	char resp[4096];
	size_t len = 0;
	ssize_t n;
	int fd = half_request(s, body, 4), st;

	assert_int_equal(kill(s->pid, SIGTERM), 0);
	usleep(300 * 1000);
	/* Still draining, not gone. */
	assert_int_equal(waitpid(s->pid, &st, WNOHANG), 0);
	assert_int_equal(write(fd, body + strlen(body) - 4, 4), 4);
	while (len < sizeof(resp) - 1 &&
	       (n = read(fd, resp + len, sizeof(resp) - 1 - len)) > 0)
		len += (size_t)n;
	resp[len] = '\0';
	close(fd);
	if (strncmp(resp, "HTTP/1.1 201", 12) != 0)
		fail_msg("the request in flight at SIGTERM got: %s", resp);
	assert_non_null(strstr(resp, "Finished After SIGTERM"));
	/* Drained, it stops by itself; another signal now would be a second
	 * one, so the test waits rather than the teardown signalling. */
	{
		pid_t w = 0;

		for (int i = 0;
		     i < 500 && (w = waitpid(s->pid, &st, WNOHANG)) == 0; i++)
			usleep(20 * 1000);
		if (w != s->pid)
			fail_msg("not stopped 10 s after its last request "
				 "ended");
		s->pid = 0;
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

/* A second signal does not wait for anything. */
static void test_second_signal_exits_at_once(void **state)
{
	struct rt_test_server *s = *state;
	int fd = half_request(s, "{\"name\":\"Never Finished\"}", 4), st = 0;
	pid_t w = 0;

	assert_int_equal(kill(s->pid, SIGTERM), 0);
	usleep(100 * 1000);
	assert_int_equal(kill(s->pid, SIGTERM), 0);
	for (int i = 0; i < 150 && (w = waitpid(s->pid, &st, WNOHANG)) == 0;
	     i++)
		usleep(20 * 1000);
	close(fd);
	if (w != s->pid)
		fail_msg("still running 3 s after a second SIGTERM");
	s->pid = 0; /* reaped here; teardown only cleans up */
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_interface),
		cmocka_unit_test(test_me),
		cmocka_unit_test(test_account_update),
		cmocka_unit_test(test_users_and_memberships),
		cmocka_unit_test(test_user_phone),
		cmocka_unit_test(test_user_role_limit),
		cmocka_unit_test(test_keys_list_and_revoke),
		cmocka_unit_test(test_key_expiry),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_idempotency),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test(test_audit_log),
		cmocka_unit_test(test_health_and_metrics),
		cmocka_unit_test(test_openapi_served),
		cmocka_unit_test(test_web_page),
		cmocka_unit_test_setup_teardown(test_sigterm_drains,
						setup_local, teardown_local),
		cmocka_unit_test_setup_teardown(
			test_second_signal_exits_at_once, setup_local,
			teardown_local),
	};

	return cmocka_run_group_tests_name("api", tests, setup, teardown);
}
