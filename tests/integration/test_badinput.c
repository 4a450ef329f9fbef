/*
 * What a careless or hostile client sends: malformed JSON, wrong types,
 * unknown fields, oversized bodies, bad UTF-8, bad cursors and limits, wrong
 * content types, unknown routes and methods, broken Authorization headers.
 * Every answer is a clean JSON error naming the field at fault, and the
 * server stays up.  Last, the database fails under a request: the client
 * gets a 500 that gives nothing away, and the server goes on serving.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct rt_test_server srv;

static int setup(void **state)
{
	(void)state;
	rt_test_server_start(&srv, NULL, NULL);
	if (!srv.key[0]) {
		rt_test_server_stop(&srv);
		fail_msg("no bootstrap key");
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

/* POST raw bytes as JSON with the admin key. */
static void post_raw(struct rt_test_server *s, struct rt_test_resp *r,
		     const char *path, const char *body, size_t len)
{
	char auth[200];
	const char *h[] = {auth, "Content-Type: application/json", NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->key);
	rt_test_request(s, r, "POST", path, h, body, len);
}

static void expect_post(const char *path, const char *body, long status,
			const char *code, const char *field)
{
	struct rt_test_resp r;

	post_raw(&srv, &r, path, body, strlen(body));
	RT_EXPECT_ERROR(&r, status, code, field);
	rt_test_resp_free(&r);
}

static void expect_get_error(const char *path, long status, const char *code,
			     const char *field)
{
	struct rt_test_resp r;

	rt_test_api(&srv, &r, srv.key, "GET", path, NULL);
	RT_EXPECT_ERROR(&r, status, code, field);
	rt_test_resp_free(&r);
}

static void test_malformed_json(void **state)
{
	struct rt_test_resp r;
	(void)state;

	expect_post("/v1/accounts", "{\"name\":", 400, "invalid_json", NULL);
	expect_post("/v1/accounts", "{name: 'x'}", 400, "invalid_json", NULL);
	expect_post("/v1/accounts", "[{\"name\":\"x\"}]", 400, "invalid_json",
		    NULL);
	expect_post("/v1/accounts", "\"just a string\"", 400, "invalid_json",
		    NULL);
	expect_post("/v1/accounts", "{\"name\":\"a\"} trailing", 400,
		    "invalid_json", NULL);
	expect_post("/v1/accounts", "{\"name\":\"a\",\"name\":\"b\"}", 400,
		    "invalid_json", NULL);
	expect_post("/v1/api-keys", "{\"scopes\":[\"read\"", 400,
		    "invalid_json", NULL);
	expect_post("/v1/sessions", "{", 400, "invalid_json", NULL);
	/* No body at all. */
	post_raw(&srv, &r, "/v1/accounts", "", 0);
	RT_EXPECT_ERROR(&r, 400, "invalid_json", NULL);
	rt_test_resp_free(&r);
	/* Deep nesting is refused, not recursed into without end. */
	{
		size_t n = 100000;
		char *deep = malloc(2 * n + 32);

		assert_non_null(deep);
		memcpy(deep, "{\"name\":", 8);
		memset(deep + 8, '[', n);
		memset(deep + 8 + n, ']', n);
		memcpy(deep + 8 + 2 * n, "}", 2);
		post_raw(&srv, &r, "/v1/accounts", deep, strlen(deep));
		assert_int_equal(r.status / 100, 4);
		RT_EXPECT_ERROR(&r, r.status, NULL, NULL);
		rt_test_resp_free(&r);
		free(deep);
	}
}

static void test_wrong_types(void **state)
{
	(void)state;

	expect_post("/v1/accounts", "{\"name\":5}", 400, "invalid_field",
		    "name");
	expect_post("/v1/accounts", "{\"name\":null}", 400, "invalid_field",
		    "name");
	expect_post("/v1/accounts", "{\"name\":[\"x\"]}", 400, "invalid_field",
		    "name");
	expect_post("/v1/accounts", "{\"name\":\"x\",\"parent_id\":\"1\"}", 400,
		    "invalid_field", "parent_id");
	expect_post("/v1/accounts", "{\"name\":\"x\",\"parent_id\":1.5}", 400,
		    "invalid_field", "parent_id");
	expect_post("/v1/accounts", "{\"name\":\"x\",\"parent_id\":-3}", 400,
		    "invalid_field", "parent_id");
	expect_post("/v1/accounts", "{}", 400, "missing_field", "name");
	expect_post("/v1/accounts", "{\"name\":\"\"}", 422, "invalid_field",
		    "name");
	expect_post("/v1/api-keys", "{\"scopes\":\"read\"}", 400,
		    "invalid_field", "scopes");
	expect_post("/v1/api-keys", "{\"scopes\":[1]}", 400, "invalid_field",
		    "scopes");
	expect_post("/v1/api-keys", "{\"scopes\":[]}", 422, "invalid_field",
		    "scopes");
	expect_post("/v1/api-keys",
		    "{\"scopes\":[\"read\"],\"expires_at\":\"soon\"}", 400,
		    "invalid_field", "expires_at");
	expect_post("/v1/users",
		    "{\"email\":\"t@example.com\",\"name\":\"T\",\"password\":"
		    "12345678}",
		    400, "invalid_field", "password");
	expect_post("/v1/users",
		    "{\"email\":\"not-an-email\",\"name\":\"T\",\"password\":"
		    "\"correct horse battery\"}",
		    422, "invalid_field", "email");
	expect_post("/v1/users",
		    "{\"email\":\"t@example.com\",\"name\":\"T\",\"password\":"
		    "\"short\"}",
		    422, "invalid_field", "password");
	expect_post("/v1/memberships",
		    "{\"user_id\":true,\"account_id\":1,\"role\":\"agent\"}",
		    400, "invalid_field", "user_id");
	expect_post("/v1/memberships", "{\"account_id\":1,\"role\":\"agent\"}",
		    400, "missing_field", "user_id");
	expect_post("/v1/sessions", "{\"email\":\"a@b.example\"}", 400,
		    "missing_field", "password");
	/* Too long. */
	{
		char body[600];

		snprintf(body, sizeof(body), "{\"name\":\"%0300d\"}", 7);
		expect_post("/v1/accounts", body, 400, "invalid_field", "name");
	}
	{
		struct rt_test_resp r;

		rt_test_api(&srv, &r, srv.key, "PATCH",
			    rt_test_fmt("/v1/accounts/%lld",
					(long long)srv.account_id),
			    "{}");
		RT_EXPECT_ERROR(&r, 400, "missing_field", NULL);
		rt_test_resp_free(&r);
		rt_test_api(&srv, &r, srv.key, "PATCH",
			    rt_test_fmt("/v1/accounts/%lld",
					(long long)srv.account_id),
			    "{\"currency\":7}");
		RT_EXPECT_ERROR(&r, 400, "invalid_field", "currency");
		rt_test_resp_free(&r);
	}
}

static void test_unknown_fields(void **state)
{
	(void)state;

	expect_post("/v1/accounts", "{\"name\":\"x\",\"is_admin\":true}", 400,
		    "unknown_field", "is_admin");
	expect_post("/v1/api-keys",
		    "{\"scopes\":[\"read\"],\"secret\":\"mine\"}", 400,
		    "unknown_field", "secret");
	expect_post("/v1/sessions",
		    "{\"email\":\"a@b.example\",\"password\":\"x\",\"role\":"
		    "\"owner\"}",
		    400, "unknown_field", "role");
	{
		struct rt_test_resp r;

		rt_test_api(&srv, &r, srv.key, "PATCH",
			    rt_test_fmt("/v1/accounts/%lld",
					(long long)srv.account_id),
			    "{\"parent_id\":2}");
		RT_EXPECT_ERROR(&r, 400, "unknown_field", "parent_id");
		rt_test_resp_free(&r);
	}
}

static void test_bad_utf8_and_control(void **state)
{
	static const char ff[] = "{\"name\":\"caf\xff\"}";
	static const char overlong[] = "{\"name\":\"\xc0\xaf\"}";
	static const char surrogate[] = "{\"name\":\"\xed\xa0\x80\"}";
	static const char nul[] = "{\"name\":\"a\\u0000b\"}";
	static const char ctl[] = "{\"name\":\"a\\u0001b\"}";
	struct rt_test_resp r;
	(void)state;

	post_raw(&srv, &r, "/v1/accounts", ff, sizeof(ff) - 1);
	RT_EXPECT_ERROR(&r, 400, "invalid_utf8", NULL);
	rt_test_resp_free(&r);
	post_raw(&srv, &r, "/v1/accounts", overlong, sizeof(overlong) - 1);
	RT_EXPECT_ERROR(&r, 400, "invalid_utf8", NULL);
	rt_test_resp_free(&r);
	post_raw(&srv, &r, "/v1/accounts", surrogate, sizeof(surrogate) - 1);
	RT_EXPECT_ERROR(&r, 400, "invalid_utf8", NULL);
	rt_test_resp_free(&r);
	post_raw(&srv, &r, "/v1/accounts", nul, sizeof(nul) - 1);
	assert_int_equal(r.status, 400);
	RT_EXPECT_ERROR(&r, 400, NULL, NULL);
	rt_test_resp_free(&r);
	post_raw(&srv, &r, "/v1/accounts", ctl, sizeof(ctl) - 1);
	RT_EXPECT_ERROR(&r, 400, "invalid_field", "name");
	rt_test_resp_free(&r);
	/* Good UTF-8 goes through and comes back the same. */
	post_raw(&srv, &r, "/v1/accounts",
		 "{\"name\":\"Caf\xc3\xa9 \xe2\x98\x8e\"}",
		 strlen("{\"name\":\"Caf\xc3\xa9 \xe2\x98\x8e\"}"));
	RT_EXPECT_STATUS(&r, 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")),
			    "Caf\xc3\xa9 \xe2\x98\x8e");
	rt_test_resp_free(&r);
}

static void test_cursors_and_limits(void **state)
{
	static const char *const bad_limits[] =
		{"0", "201", "abc", "-1", "", "1e2", "99999999999999999999"};
	static const char *const bad_cursors[] =
		{"garbage", "c1.", "c1.%25%25%25", "c1.MA",
		 "c2.MQ",   "",	   "c1.LTE",	   "c1.MQ%3D%3D"};
	struct rt_test_resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++)
		expect_get_error(rt_test_fmt("/v1/accounts?limit=%s",
					     bad_limits[i]),
				 400, "invalid_parameter", "limit");
	for (size_t i = 0; i < sizeof(bad_cursors) / sizeof(bad_cursors[0]);
	     i++)
		expect_get_error(rt_test_fmt("/v1/users?cursor=%s",
					     bad_cursors[i]),
				 400, "invalid_parameter", "cursor");
	expect_get_error("/v1/api-keys?account_id=abc", 400,
			 "invalid_parameter", "account_id");
	expect_get_error("/v1/memberships?user_id=-1", 400, "invalid_parameter",
			 "user_id");
	expect_get_error("/v1/audit-log?account_id=0", 400, "invalid_parameter",
			 "account_id");
	/* The edges that are allowed. */
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/accounts?limit=1", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/accounts?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	/* A cursor past the end is an empty page, not an error. */
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/accounts?cursor=c1.OTk5OTk5",
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
	assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
	rt_test_resp_free(&r);
}

static void test_content_type(void **state)
{
	static const char *const bad[] =
		{"Content-Type: text/plain", "Content-Type: application/jsonx",
		 "Content-Type: application/x-www-form-urlencoded",
		 "Content-Type: multipart/form-data; boundary=x"};
	const char *body = "{\"name\":\"typed\"}";
	char auth[200];
	struct rt_test_resp r;
	(void)state;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.key);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *h[] = {auth, bad[i], NULL};

		rt_test_request(&srv, &r, "POST", "/v1/accounts", h, body,
				strlen(body));
		RT_EXPECT_ERROR(&r, 415, "unsupported_media_type", NULL);
		rt_test_resp_free(&r);
	}
	{
		const char *h[] = {auth, NULL};

		rt_test_request(&srv, &r, "POST", "/v1/accounts", h, body,
				strlen(body));
		RT_EXPECT_ERROR(&r, 415, "unsupported_media_type", NULL);
		rt_test_resp_free(&r);
	}
	{
		const char *h[] =
			{auth, "Content-Type: application/json; charset=utf-8",
			 NULL};

		rt_test_request(&srv, &r, "POST", "/v1/accounts", h, body,
				strlen(body));
		RT_EXPECT_STATUS(&r, 201);
		rt_test_resp_free(&r);
	}
}

static void test_unknown_route_and_method(void **state)
{
	static const char *const missing[] =
		{"/v1/nope",
		 "/v1/accounts/abc",
		 "/v1/accounts/0",
		 "/v1/accounts/01",
		 "/v1/accounts/1/extra",
		 "/v1/accounts/99999999999999999999",
		 "/v1",
		 "/v1/",
		 "/v2/accounts",
		 "/no-such-file.html"};
	struct rt_test_resp r;
	char allow[128];
	(void)state;

	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		rt_test_api(&srv, &r, srv.key, "GET", missing[i], NULL);
		RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
		rt_test_resp_free(&r);
	}

	rt_test_api(&srv, &r, srv.key, "PUT", "/v1/accounts",
		    "{\"name\":\"x\"}");
	RT_EXPECT_ERROR(&r, 405, "method_not_allowed", NULL);
	if (!rt_test_header(&r, "Allow", allow, sizeof(allow)))
		fail_msg("405 without Allow: %s", r.headers);
	assert_non_null(strstr(allow, "GET"));
	assert_non_null(strstr(allow, "POST"));
	assert_null(strstr(allow, "PUT"));
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "DELETE", "/v1/accounts/1", NULL);
	RT_EXPECT_ERROR(&r, 405, "method_not_allowed", NULL);
	assert_non_null(rt_test_header(&r, "Allow", allow, sizeof(allow)));
	assert_non_null(strstr(allow, "GET"));
	assert_non_null(strstr(allow, "PATCH"));
	assert_null(strstr(allow, "DELETE"));
	rt_test_resp_free(&r);

	rt_test_request(&srv, &r, "POST", "/healthz", NULL, NULL, 0);
	RT_EXPECT_ERROR(&r, 405, "method_not_allowed", NULL);
	assert_non_null(rt_test_header(&r, "Allow", allow, sizeof(allow)));
	assert_non_null(strstr(allow, "GET"));
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "PATCH", "/v1/sessions/current", "{}");
	RT_EXPECT_ERROR(&r, 405, "method_not_allowed", NULL);
	rt_test_resp_free(&r);
}

static void test_bad_authorization(void **state)
{
	static const char *const bad[] = {
		"Authorization: Basic YWRtaW46cGFzcw==",
		"Authorization: Bearer",
		"Authorization: Bearer ",
		"Authorization: Token rt_live_abc",
		"Authorization: Bearer rt_live_",
		"Authorization: Bearer rt_live_!!!!",
		"Authorization: Bearer not-a-ringtrail-key",
		"Authorization: rt_live_abc",
	};
	struct rt_test_resp r;
	char www[64];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *h[] = {bad[i], NULL};

		rt_test_request(&srv, &r, "GET", "/v1/me", h, NULL, 0);
		if (r.status != 401)
			fail_msg("'%s': want 401, got %ld: %s", bad[i],
				 r.status, r.body);
		RT_EXPECT_ERROR(&r, 401, "unauthenticated", NULL);
		rt_test_resp_free(&r);
	}
	/* A wrong key is no better with a cookie beside it. */
	{
		const char *h[] = {"Authorization: Basic x",
				   "Cookie: rt_session=whatever", NULL};

		rt_test_request(&srv, &r, "GET", "/v1/me", h, NULL, 0);
		RT_EXPECT_ERROR(&r, 401, "unauthenticated", NULL);
		assert_non_null(rt_test_header(&r, "WWW-Authenticate", www,
					       sizeof(www)));
		rt_test_resp_free(&r);
	}
	/* The key is checked before the body: no parsing for strangers. */
	rt_test_api(&srv, &r, "rt_live_wrong", "POST", "/v1/accounts",
		    "{bad json");
	RT_EXPECT_ERROR(&r, 401, "unauthenticated", NULL);
	rt_test_resp_free(&r);
}

static void test_oversized_body(void **state)
{
	size_t n = (1u << 20) + 100;
	char *big = malloc(n + 1);
	struct rt_test_resp r;
	(void)state;

	assert_non_null(big);
	/* Valid JSON, just too much of it. */
	memset(big, ' ', n);
	memcpy(big, "{\"name\":\"big\"", 13);
	big[n - 1] = '}';
	big[n] = '\0';
	post_raw(&srv, &r, "/v1/accounts", big, n);
	RT_EXPECT_ERROR(&r, 413, "body_too_large", NULL);
	rt_test_resp_free(&r);

	/* Without a Content-Length the server counts as it reads. */
	{
		char auth[200];
		const char *h[] = {auth, "Content-Type: application/json",
				   "Transfer-Encoding: chunked", NULL};

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 srv.key);
		rt_test_request(&srv, &r, "POST", "/v1/accounts", h, big, n);
		RT_EXPECT_ERROR(&r, 413, "body_too_large", NULL);
		rt_test_resp_free(&r);
	}
	free(big);

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
}

/* A server of a test's own, stopped by its teardown even when it fails. */
static struct rt_test_server local;

static int setup_small(void **state)
{
	static const char *const args[] = {"--http-max-body", "2k", NULL};

	rt_test_server_start(&local, args, NULL);
	*state = &local;
	return 0;
}

static int setup_fault(void **state)
{
	static const char *const env[] = {"RT_FAULT_STORE_WRITE=80", NULL};

	rt_test_server_start(&local, NULL, env);
	*state = &local;
	return 0;
}

static int teardown_local(void **state)
{
	return rt_test_server_stop(*state);
}

/* --http-max-body 2k: the limit is the operator's. */
static void test_body_limit_flag(void **state)
{
	struct rt_test_server *small = *state;
	char body[4096];
	struct rt_test_resp r;

	memset(body, ' ', sizeof(body));
	memcpy(body, "{\"name\":\"small\"", 15);
	/* 2 KiB is the largest body taken: 2048 bytes pass, 2049 do not. */
	body[2047] = '}';
	post_raw(small, &r, "/v1/accounts", body, 2048);
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);
	body[2047] = ' ';
	body[2048] = '}';
	post_raw(small, &r, "/v1/accounts", body, 2049);
	RT_EXPECT_ERROR(&r, 413, "body_too_large", NULL);
	rt_test_resp_free(&r);
	rt_test_api(small, &r, small->key, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
}

static void test_still_up(void **state)
{
	struct rt_test_resp r;
	(void)state;

	assert_true(rt_test_server_alive(&srv));
	rt_test_request(&srv, &r, "GET", "/readyz", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/accounts", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
}

/* ---- the database fails ---------------------------------------------------
 */

static void expect_no_internals(const struct rt_test_resp *r)
{
	static const char *const leaks[] = {"SELECT",	    "INSERT",
					    "UPDATE",	    "sqlite",
					    "SQLITE",	    "/tmp",
					    ".db",	    "rt-integ",
					    "Input/output", "errno",
					    ".c:",	    "store_"};
	char rid[128];

	for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++) {
		if (strstr(r->body, leaks[i]) || strstr(r->headers, leaks[i]))
			fail_msg("a 500 reveals '%s': %s", leaks[i], r->body);
	}
	/* What it does give is the id to quote to the operator. */
	assert_non_null(rt_test_header(r, "X-Request-Id", rid, sizeof(rid)));
	assert_non_null(strstr(r->body, rid));
}

static void test_store_failure(void **state)
{
	struct rt_test_server *f = *state;
	struct rt_test_resp r;
	int created = 0, failed = 0, i;
	const char *body;

	if (!f->key[0])
		fail_msg("the fault server started without a key; startup used "
			 "more than 80 write calls?");
	/* Writes until the 80th call of a write transaction fails under one
	 * of them (reads are left out: background threads make them). */
	for (i = 0; i < 40 && !failed; i++) {
		post_raw(f, &r, "/v1/accounts",
			 rt_test_fmt("{\"name\":\"fault %d\"}", i),
			 strlen(rt_test_fmt("{\"name\":\"fault %d\"}", i)));
		if (r.status == 201) {
			created++;
		} else if (r.status == 500) {
			failed++;
			RT_EXPECT_ERROR(&r, 500, "internal", NULL);
			expect_no_internals(&r);
		} else {
			fail_msg("want 201 or 500, got %ld: %s", r.status,
				 r.body);
		}
		rt_test_resp_free(&r);
	}
	if (!failed)
		fail_msg("no request failed with RT_FAULT_STORE_WRITE=80");
	/* The server goes on, and the failed write left nothing behind. */
	rt_test_api(f, &r, f->key, "GET", "/v1/accounts?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")),
			 (size_t)created + 1);
	rt_test_resp_free(&r);
	body = "{\"name\":\"after the fault\"}";
	post_raw(f, &r, "/v1/accounts", body, strlen(body));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);
	rt_test_request(f, &r, "GET", "/readyz", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_bad_utf8_and_control),
		cmocka_unit_test(test_cursors_and_limits),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_unknown_route_and_method),
		cmocka_unit_test(test_bad_authorization),
		cmocka_unit_test(test_oversized_body),
		cmocka_unit_test_setup_teardown(test_body_limit_flag,
						setup_small, teardown_local),
		cmocka_unit_test_setup_teardown(test_store_failure, setup_fault,
						teardown_local),
		cmocka_unit_test(test_still_up),
	};

	return cmocka_run_group_tests_name("badinput", tests, setup, teardown);
}
