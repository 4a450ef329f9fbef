/*
 * Unit tests of http without a server: the route table and the matcher,
 * cursors, the request body checks (generic field checks and every route's
 * own check_body), JSON shapes of objects, and request metrics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_int.h"

static bool is_method(const char *m)
{
	static const char *const methods[] = {"GET",   "HEAD", "POST",
					      "PATCH", "PUT",  "DELETE"};

	for (size_t i = 0; i < RT_ARRAY_SIZE(methods); i++) {
		if (strcmp(m, methods[i]) == 0)
			return true;
	}
	return false;
}

/* Matches method and path as the server does; SIZE_MAX when none. */
static size_t match(const char *method, const char *path, bool *method_ok,
		    struct rt_req *r)
{
	static char pathbuf[256];
	bool ok = false;

	memset(r, 0, sizeof(*r));
	rt_strlcpy(r->method, method, sizeof(r->method));
	rt_strlcpy(pathbuf, path, sizeof(pathbuf));
	r->path = pathbuf;
	return rt_http_match(r, method_ok ? method_ok : &ok);
}

/* A path for a pattern: {id} becomes 7, {path*} becomes "x/y.js". */
static void concrete_path(const char *pattern, char *out, size_t size)
{
	struct rt_buf b;
	const char *p;

	rt_buf_init(&b);
	while ((p = strchr(pattern, '{'))) {
		rt_buf_append(&b, pattern, (size_t)(p - pattern));
		if (strncmp(p, "{id}", 4) == 0)
			rt_buf_puts(&b, "7");
		else
			rt_buf_puts(&b, "x/y.js");
		pattern = strchr(p, '}') + 1;
	}
	rt_buf_puts(&b, pattern);
	assert_int_equal(b.err, 0);
	rt_strlcpy(out, b.s, size);
	rt_buf_release(&b);
}

/* ---- the route table ---------------------------------------------------- */

static void test_route_table_shape(void **state)
{
	size_t n = rt_http_route_count(), n2 = 0;
	const struct rt_route *routes = rt_http_routes(&n2);

	(void)state;
	assert_true(n > 10);
	assert_int_equal(n, n2);
	assert_null(rt_http_route(n));
	for (size_t i = 0; i < n; i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);
		bool api = strncmp(ri->pattern, "/v1/", 4) == 0;
		bool body = strcmp(ri->method, "POST") == 0 ||
			    strcmp(ri->method, "PATCH") == 0 ||
			    strcmp(ri->method, "PUT") == 0;

		assert_ptr_equal(ri, &routes[i].info);
		assert_non_null(routes[i].h);
		if (!is_method(ri->method))
			fail_msg("route %zu: bad method '%s'", i, ri->method);
		assert_int_equal(ri->pattern[0], '/');

		/* Every pattern once per method. */
		for (size_t j = 0; j < i; j++) {
			const struct rt_http_route_info *rj = rt_http_route(j);

			if (strcmp(ri->method, rj->method) == 0 &&
			    strcmp(ri->pattern, rj->pattern) == 0)
				fail_msg("%s %s is listed twice", ri->method,
					 ri->pattern);
		}

		/* Public routes need no scope; every other one names one. */
		if (ri->flags & RT_ROUTE_PUBLIC)
			assert_int_equal(ri->scope, 0);
		else if (ri->scope == 0)
			fail_msg("%s %s has neither a scope nor PUBLIC",
				 ri->method, ri->pattern);
		/* A read-only key changes nothing: writes need more than read
		 * (logging out of one's own session aside). */
		if (strcmp(ri->method, "GET") && strcmp(ri->method, "HEAD") &&
		    !(ri->flags & (RT_ROUTE_PUBLIC | RT_ROUTE_COOKIE_ONLY)) &&
		    !(ri->scope & (RT_SCOPE_WRITE | RT_SCOPE_ADMIN)))
			fail_msg("%s %s is writable with a read scope",
				 ri->method, ri->pattern);
		/* Bodies are checked on exactly the routes that take one. */
		if (body && !ri->check_body && !(ri->flags & RT_ROUTE_RAW_BODY))
			fail_msg("%s %s takes a body but has no check",
				 ri->method, ri->pattern);
		if (!body && ri->check_body)
			fail_msg("%s %s has a body check but takes none",
				 ri->method, ri->pattern);
		/* The web app never takes the API's namespace, and the API
		 * only public routes outside /v1 are health and metrics. */
		if (!api && !(ri->flags & RT_ROUTE_PUBLIC))
			fail_msg("%s %s is outside /v1 and not public",
				 ri->method, ri->pattern);
		if (strstr(ri->pattern, "{path*}")) {
			assert_true(strcmp(ri->method, "GET") == 0 ||
				    strcmp(ri->method, "HEAD") == 0);
			assert_int_equal(ri->flags & RT_ROUTE_PUBLIC,
					 RT_ROUTE_PUBLIC);
		}
	}
}

static void test_route_table_has_the_fixed_interface(void **state)
{
	/* Names operators' scripts rely on (issue: "Interface fixed"). */
	static const char *const want[][2] = {
		{"GET", "/healthz"},
		{"GET", "/readyz"},
		{"GET", "/metrics"},
		{"GET", "/v1/me"},
		{"GET", "/v1/openapi.yaml"},
		{"POST", "/v1/accounts"},
		{"GET", "/v1/accounts"},
		{"GET", "/v1/accounts/{id}"},
		{"PATCH", "/v1/accounts/{id}"},
		{"POST", "/v1/api-keys"},
		{"GET", "/v1/api-keys"},
		{"DELETE", "/v1/api-keys/{id}"},
		{"POST", "/v1/sessions"},
		{"DELETE", "/v1/sessions/current"},
		{"GET", "/v1/users"},
		{"POST", "/v1/users"},
		{"GET", "/v1/memberships"},
		{"POST", "/v1/memberships"},
	};

	(void)state;
	for (size_t w = 0; w < RT_ARRAY_SIZE(want); w++) {
		bool found = false;

		for (size_t i = 0; i < rt_http_route_count(); i++) {
			const struct rt_http_route_info *ri = rt_http_route(i);

			found |= strcmp(ri->method, want[w][0]) == 0 &&
				 strcmp(ri->pattern, want[w][1]) == 0;
		}
		if (!found)
			fail_msg("no route %s %s", want[w][0], want[w][1]);
	}
	/* Login is public, logout only for a dashboard session. */
	for (size_t i = 0; i < rt_http_route_count(); i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);

		if (strcmp(ri->pattern, "/v1/sessions") == 0)
			assert_true(ri->flags & RT_ROUTE_PUBLIC);
		if (strcmp(ri->pattern, "/v1/sessions/current") == 0)
			assert_true(ri->flags & RT_ROUTE_COOKIE_ONLY);
		if (strcmp(ri->pattern, "/v1/healthz") == 0 ||
		    strcmp(ri->pattern, "/healthz") == 0)
			assert_true(ri->flags & RT_ROUTE_PUBLIC);
	}
}

static void test_match_every_route(void **state)
{
	struct rt_req r;
	char path[256];

	(void)state;
	/* Each route is reachable with its own method: no earlier route
	 * shadows it. */
	for (size_t i = 0; i < rt_http_route_count(); i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);
		size_t got;

		concrete_path(ri->pattern, path, sizeof(path));
		got = match(ri->method, path, NULL, &r);
		if (got != i)
			fail_msg("%s %s matched route %zu, not %zu (%s)",
				 ri->method, path, got, i, ri->pattern);
		if (strstr(ri->pattern, "{id}"))
			assert_true(r.id == 7);
		if (strstr(ri->pattern, "{path*}"))
			assert_string_equal(r.tail, "x/y.js");
	}
}

static void test_match_ids(void **state)
{
	static const char *const bad[] = {
		"/v1/accounts/0",
		"/v1/accounts/007",
		"/v1/accounts/-1",
		"/v1/accounts/abc",
		"/v1/accounts/1e3",
		"/v1/accounts/ 1",
		"/v1/accounts/4 2",
		"/v1/accounts/1234567890123456789", /* 19 digits */
		"/v1/accounts/",
		"/v1/accounts/42/",
		"/v1/accounts/42/x",
		"/v1/accounts//42",
		"/v1/accounts/+42",
	};
	struct rt_req r;
	bool method_ok;
	size_t i;

	(void)state;
	i = match("GET", "/v1/accounts/42", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_string_equal(rt_http_route(i)->pattern, "/v1/accounts/{id}");
	assert_true(r.id == 42);
	i = match("GET", "/v1/accounts/123456789012345678", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_true(r.id == 123456789012345678);

	/* Not an id: 404, never the web app, never another route. */
	for (size_t k = 0; k < RT_ARRAY_SIZE(bad); k++) {
		method_ok = true;
		if (match("GET", bad[k], &method_ok, &r) != SIZE_MAX)
			fail_msg("'%s' matched a route", bad[k]);
		assert_false(method_ok);
	}
}

static void test_match_405(void **state)
{
	static const char *const cases[][2] = {
		{"PUT", "/v1/accounts/42"}, {"DELETE", "/v1/accounts/42"},
		{"DELETE", "/v1/accounts"}, {"PATCH", "/v1/me"},
		{"POST", "/v1/me"},	    {"GET", "/v1/sessions"},
		{"POST", "/v1/api-keys/3"}, {"POST", "/healthz"},
		{"POST", "/index.html"},
	};
	struct rt_req r;
	bool method_ok;

	(void)state;
	for (size_t k = 0; k < RT_ARRAY_SIZE(cases); k++) {
		method_ok = false;
		if (match(cases[k][0], cases[k][1], &method_ok, &r) != SIZE_MAX)
			fail_msg("%s %s matched", cases[k][0], cases[k][1]);
		if (!method_ok)
			fail_msg("%s %s is not a 405", cases[k][0],
				 cases[k][1]);
	}
}

static void test_match_static_never_under_v1(void **state)
{
	static const char *const api_404[] = {"/v1",
					      "/v1/",
					      "/v1/nope",
					      "/v1/accounts/7/keys",
					      "/v1/x.html",
					      "/v1/me/"};
	struct rt_req r;
	bool method_ok;
	size_t i;

	(void)state;
	i = match("GET", "/", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_true(strstr(rt_http_route(i)->pattern, "{path*}") != NULL);
	assert_string_equal(r.tail, "");
	i = match("GET", "/index.html", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_string_equal(r.tail, "index.html");
	/* HEAD is answered by the GET routes, the web app's included. */
	i = match("HEAD", "/app/main.js", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_string_equal(rt_http_route(i)->method, "GET");
	assert_string_equal(r.tail, "app/main.js");
	i = match("HEAD", "/v1/accounts/5", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_string_equal(rt_http_route(i)->pattern, "/v1/accounts/{id}");
	assert_true(r.id == 5);
	i = match("HEAD", "/healthz", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_string_equal(rt_http_route(i)->pattern, "/healthz");
	method_ok = false;
	assert_true(match("HEAD", "/v1/sessions", &method_ok, &r) == SIZE_MAX);
	assert_true(method_ok); /* POST only: 405 */
	i = match("GET", "/v10/page.html", &method_ok, &r);
	assert_true(i != SIZE_MAX);
	assert_string_equal(r.tail, "v10/page.html");

	/* Unknown API paths are API 404s, not web pages. */
	for (size_t k = 0; k < RT_ARRAY_SIZE(api_404); k++) {
		method_ok = true;
		if (match("GET", api_404[k], &method_ok, &r) != SIZE_MAX)
			fail_msg("GET %s was served", api_404[k]);
		assert_false(method_ok);
	}
	/* Exact routes win over the web app. */
	i = match("GET", "/healthz", &method_ok, &r);
	assert_string_equal(rt_http_route(i)->pattern, "/healthz");
	i = match("GET", "/v1/openapi.yaml", &method_ok, &r);
	assert_string_equal(rt_http_route(i)->pattern, "/v1/openapi.yaml");
}

/* ---- cursors ------------------------------------------------------------ */

static void test_cursor_round_trip(void **state)
{
	static const int64_t ids[] = {1,	9,	 10,
				      42,	1000000, 123456789012345,
				      INT64_MAX};
	char c[32];
	int64_t back;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(ids); i++) {
		rt_http_cursor_encode(ids[i], c);
		assert_true(strncmp(c, "c1.", 3) == 0);
		assert_true(strlen(c) < 32);
		/* Safe in a query string as it is. */
		for (const char *p = c + 3; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') ||
				    (*p >= 'A' && *p <= 'Z') ||
				    (*p >= '0' && *p <= '9') || *p == '-' ||
				    *p == '_');
		back = 0;
		assert_int_equal(rt_http_cursor_decode(c, &back), 0);
		assert_true(back == ids[i]);
	}
	/* Cursors are opaque: consecutive ids do not look alike in order. */
	{
		char c2[32];

		rt_http_cursor_encode(41, c);
		rt_http_cursor_encode(42, c2);
		assert_string_not_equal(c, c2);
	}
}

static void test_cursor_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"c1.",
		"c1",
		"c2.NDI", /* another version */
		"C1.NDI",
		"NDI",	   /* no prefix */
		"c1.NDI=", /* padding is not ours */
		"c1.N!I",
		"c1.N DI",
		"c1.MA",			 /* "0" */
		"c1.LTU",			 /* "-5" */
		"c1.MDQy",			 /* "042" */
		"c1.YWJj",			 /* "abc" */
		"c1.NDJh",			 /* "42a" */
		"c1.OTIyMzM3MjAzNjg1NDc3NTgwOA", /* INT64_MAX + 1 */
		"c1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	char c[32];
	int64_t v = 99;

	(void)state;
	rt_http_cursor_encode(42, c);
	assert_string_equal(c, "c1.NDI");
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		if (rt_http_cursor_decode(bad[i], &v) != EINVAL)
			fail_msg("cursor '%s' was accepted", bad[i]);
		assert_true(v == 99);
	}
}

/* ---- field checks ------------------------------------------------------- */

static const struct rt_field fields[] = {
	{"name", RT_F_STRING, RT_F_REQUIRED, 5},
	{"count", RT_F_INT, 0, 0},
	{"on", RT_F_BOOL, 0, 0},
	{"tags", RT_F_STRINGS, 0, 2},
	{"when", RT_F_TIME, RT_F_NULLABLE, 0},
	{"note", RT_F_STRING, RT_F_NULLABLE, 0},
};

/* Checks text against the fields above: 0, or EINVAL with *e filled. */
static int check(const char *text, struct rt_http_err *e)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	int err;

	if (!j)
		fail_msg("test JSON does not parse: %s", text);
	memset(e, 0, sizeof(*e));
	err = rt_http_check_fields(j, fields, RT_ARRAY_SIZE(fields), e);
	json_decref(j);
	return err;
}

static void expect_field_error(const char *text, const char *code,
			       const char *field)
{
	struct rt_http_err e;

	if (check(text, &e) != EINVAL)
		fail_msg("accepted: %s", text);
	assert_int_equal(e.status, 400);
	assert_non_null(e.code);
	if (strcmp(e.code, code) != 0 || strcmp(e.field, field) != 0)
		fail_msg("%s: got %s/%s, want %s/%s", text, e.code, e.field,
			 code, field);
	assert_true(strlen(e.message) > 0);
	/* The message names the field, so a user knows what to fix. */
	assert_non_null(strstr(e.message, field));
}

static void test_check_fields_accepts(void **state)
{
	struct rt_http_err e;

	(void)state;
	assert_int_equal(check("{\"name\":\"abc\"}", &e), 0);
	assert_int_equal(check("{\"name\":\"abcde\",\"count\":-3,\"on\":false,"
			       "\"tags\":[\"a\",\"b\"],\"when\":"
			       "\"2026-11-24T19:00:00Z\",\"note\":\"x\"}",
			       &e),
			 0);
	/* Nullable fields may be null. */
	assert_int_equal(check("{\"name\":\"a\",\"when\":null,\"note\":null}",
			       &e),
			 0);
	/* Lengths count bytes: 2 x 2-byte characters fit in 5. */
	assert_int_equal(check("{\"name\":\"\\u00e9\\u00e9\"}", &e), 0);
	assert_int_equal(check("{\"name\":\"\"}", &e), 0);
	assert_int_equal(check("{\"name\":\"a\",\"tags\":[]}", &e), 0);
}

static void test_check_fields_rejects(void **state)
{
	char longtag[128];

	(void)state;
	expect_field_error("{\"name\":\"a\",\"nmae\":1}", "unknown_field",
			   "nmae");
	expect_field_error("{}", "missing_field", "name");
	expect_field_error("{\"count\":1}", "missing_field", "name");
	expect_field_error("{\"name\":null}", "invalid_field", "name");
	expect_field_error("{\"name\":5}", "invalid_field", "name");
	expect_field_error("{\"name\":[\"a\"]}", "invalid_field", "name");
	expect_field_error("{\"name\":\"a\",\"count\":\"5\"}", "invalid_field",
			   "count");
	expect_field_error("{\"name\":\"a\",\"count\":1.5}", "invalid_field",
			   "count");
	expect_field_error("{\"name\":\"a\",\"count\":null}", "invalid_field",
			   "count");
	expect_field_error("{\"name\":\"a\",\"on\":1}", "invalid_field", "on");
	expect_field_error("{\"name\":\"a\",\"on\":\"true\"}", "invalid_field",
			   "on");
	expect_field_error("{\"name\":\"a\",\"tags\":\"a\"}", "invalid_field",
			   "tags");
	expect_field_error("{\"name\":\"a\",\"tags\":[1]}", "invalid_field",
			   "tags");
	expect_field_error("{\"name\":\"a\",\"tags\":[\"a\",\"b\",\"c\"]}",
			   "invalid_field", "tags");
	expect_field_error("{\"name\":\"a\",\"tags\":[\"a\\u0007\"]}",
			   "invalid_field", "tags");
	expect_field_error("{\"name\":\"a\",\"when\":\"2026-02-30T00:00:00Z\"}",
			   "invalid_field", "when");
	expect_field_error("{\"name\":\"a\",\"when\":1795546800}",
			   "invalid_field", "when");
	/* Too long, in bytes. */
	expect_field_error("{\"name\":\"abcdef\"}", "invalid_field", "name");
	expect_field_error("{\"name\":\"\\u00e9\\u00e9\\u00e9\"}",
			   "invalid_field", "name");
	/* Control characters, which would break logs and CSV exports. */
	expect_field_error("{\"name\":\"a\\nb\"}", "invalid_field", "name");
	expect_field_error("{\"name\":\"a\\u0001\"}", "invalid_field", "name");
	expect_field_error("{\"name\":\"a\\u007f\"}", "invalid_field", "name");
	expect_field_error("{\"name\":\"a\",\"note\":\"\\t\"}", "invalid_field",
			   "note");
	/* Strings default to at most 200 bytes, array items to 64. */
	{
		char text[400];

		memset(longtag, 'x', 65);
		longtag[65] = '\0';
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"tags\":[\"%s\"]}", longtag);
		expect_field_error(text, "invalid_field", "tags");
	}
	{
		char text[400], note[202];

		memset(note, 'n', 201);
		note[201] = '\0';
		snprintf(text, sizeof(text), "{\"name\":\"a\",\"note\":\"%s\"}",
			 note);
		expect_field_error(text, "invalid_field", "note");
		note[200] = '\0';
		snprintf(text, sizeof(text), "{\"name\":\"a\",\"note\":\"%s\"}",
			 note);
		{
			struct rt_http_err e;

			assert_int_equal(check(text, &e), 0);
		}
	}
}

static void test_parse_json(void **state)
{
	static const struct {
		const char *data;
		size_t len;
		const char *code;
	} bad[] = {
		{"", 0, "invalid_json"},
		{"{", 1, "invalid_json"},
		{"{\"a\":1", 6, "invalid_json"},
		{"[1,2]", 5, "invalid_json"},
		{"\"text\"", 6, "invalid_json"},
		{"42", 2, "invalid_json"},
		{"null", 4, "invalid_json"},
		{"{\"a\":1} {}", 10, "invalid_json"},
		{"{\"a\":1,\"a\":2}", 13,
		 "invalid_json"}, /* duplicate member */
		{"{\"a\":\"\\u0000\"}", 14, "invalid_json"},
		{"{\"a\":\"\xff\"}", 8, "invalid_utf8"},
		{"{\"a\":\"\xc3\"}", 8, "invalid_utf8"},
		{"{\"a\":\"\xed\xa0\x80\"}", 10,
		 "invalid_utf8"}, /* surrogate */
		{"{\"a\":1}\0", 8, "invalid_json"},
	};
	struct rt_http_err e;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		memset(&e, 0, sizeof(e));
		j = rt_http_parse_json(bad[i].data, bad[i].len, &e);
		if (j) {
			json_decref(j);
			fail_msg("case %zu was parsed", i);
		}
		assert_int_equal(e.status, 400);
		if (strcmp(e.code, bad[i].code) != 0)
			fail_msg("case %zu: code %s, want %s", i, e.code,
				 bad[i].code);
	}
	/* Malformed JSON says where. */
	memset(&e, 0, sizeof(e));
	assert_null(rt_http_parse_json("{\n \"a\": x}", 10, &e));
	assert_non_null(strstr(e.message, "line 2"));

	j = rt_http_parse_json("{\"name\":\"caf\xc3\xa9\"}", 16, &e);
	assert_non_null(j);
	assert_string_equal(rt_json_str(j, "name"), "caf\xc3\xa9");
	assert_true(rt_json_has(j, "name"));
	assert_false(rt_json_has(j, "other"));
	assert_true(rt_json_int(j, "name", -1) == -1);
	json_decref(j);
}

/* ---- every route's body check ------------------------------------------- */

struct body_case {
	const char *body;
	int status; /* 0, 400 or 422 */
};

struct route_cases {
	const char *method, *pattern;
	struct body_case cases[24];
};

static const struct route_cases route_cases[] = {
	{"POST",
	 "/v1/sessions",
	 {{"{\"email\":\"a@example.com\",\"password\":\"x\"}", 0},
	  {"{\"email\":\"A@Example.COM\",\"password\":\"pw\",\"account_id\":3}",
	   0},
	  {"{\"email\":\"a@example.com\",\"password\":\"x\",\"account_id\":"
	   "null}",
	   0},
	  {"{\"email\":\"a@example.com\"}", 400},
	  {"{\"password\":\"x\"}", 400},
	  {"{\"email\":\"not-an-email\",\"password\":\"x\"}", 422},
	  {"{\"email\":\"a@example.com\",\"password\":\"x\",\"account_id\":-1}",
	   400},
	  {"{\"email\":\"a@example.com\",\"password\":\"x\",\"account_id\":"
	   "\"1\"}",
	   400},
	  {"{\"email\":\"a@example.com\",\"password\":\"x\",\"remember\":true}",
	   400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/accounts",
	 {{"{\"name\":\"Client 1\"}", 0},
	  {"{\"name\":\"Client 2\",\"kind\":\"agency\",\"parent_id\":4,"
	   "\"time_zone\":\"America/New_York\",\"currency\":\"EUR\"}",
	   0},
	  {"{\"name\":\"C\",\"parent_id\":null,\"time_zone\":\"UTC\"}", 0},
	  {"{}", 400},
	  {"{\"name\":\"\"}", 422},
	  {"{\"name\":\"C\",\"currency\":\"usd\"}", 422},
	  {"{\"name\":\"C\",\"currency\":\"USDX\"}", 400},
	  {"{\"name\":\"C\",\"time_zone\":\"Mars/Olympus\"}", 422},
	  {"{\"name\":\"C\",\"time_zone\":\"../../etc/passwd\"}", 422},
	  {"{\"name\":\"C\",\"kind\":\"planet\"}", 422},
	  {"{\"name\":\"C\",\"parent_id\":0}", 400},
	  {"{\"name\":\"C\",\"parent_id\":\"4\"}", 400},
	  {"{\"name\":\"C\",\"status\":\"active\"}", 400}, /* not on create */
	  {"{\"name\":\"C\\u0000\"}", 400},
	  {NULL, 0}}},
	{"PATCH",
	 "/v1/accounts/{id}",
	 {{"{\"name\":\"New name\"}", 0},
	  {"{\"status\":\"suspended\"}", 0},
	  {"{\"time_zone\":\"Europe/London\",\"currency\":\"GBP\"}", 0},
	  {"{}", 400},
	  {"{\"status\":\"deleted\"}", 422},
	  {"{\"name\":\"\"}", 422},
	  {"{\"currency\":\"gbp\"}", 422},
	  {"{\"time_zone\":\"Nowhere/Special\"}", 422},
	  {"{\"kind\":\"agency\"}", 400}, /* kind cannot change */
	  {"{\"parent_id\":2}", 400},	  /* nor can the parent */
	  {"{\"name\":7}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/users",
	 {{"{\"email\":\"u@example.com\",\"name\":\"U\",\"password\":\"long "
	   "enough pw\"}",
	   0},
	  {"{\"email\":\"u@example.com\",\"name\":\"U\",\"password\":\"long "
	   "enough pw\","
	   "\"account_id\":2,\"role\":\"agent\"}",
	   0},
	  {"{\"email\":\"u@example.com\",\"name\":\"U\"}", 400},
	  {"{\"email\":\"u@example.com\",\"name\":\"U\",\"password\":"
	   "\"short\"}",
	   422},
	  {"{\"email\":\"u@example.com\",\"name\":\"U\",\"password\":\"long "
	   "enough pw\","
	   "\"role\":\"god\"}",
	   422},
	  {"{\"email\":\"nope\",\"name\":\"U\",\"password\":\"long enough "
	   "pw\"}",
	   422},
	  {"{\"email\":\"u@example.com\",\"name\":\"\",\"password\":\"long "
	   "enough pw\"}",
	   422},
	  {"{\"email\":\"u@example.com\",\"name\":\"U\",\"password\":\"long "
	   "enough pw\","
	   "\"account_id\":0}",
	   400},
	  {"{\"email\":\"u@example.com\",\"name\":\"U\",\"password\":\"long "
	   "enough pw\","
	   "\"status\":\"active\"}",
	   400},
	  {NULL, 0}}},
	{"PATCH",
	 "/v1/users/{id}",
	 {{"{\"name\":\"Renamed\"}", 0},
	  {"{\"status\":\"disabled\"}", 0},
	  {"{\"password\":\"a new long password\"}", 0},
	  {"{}", 400},
	  {"{\"status\":\"gone\"}", 422},
	  {"{\"password\":\"short\"}", 422},
	  {"{\"name\":\"\"}", 422},
	  {"{\"email\":\"x@example.com\"}", 400}, /* the login is fixed */
	  {NULL, 0}}},
	{"POST",
	 "/v1/memberships",
	 {{"{\"user_id\":1,\"account_id\":2,\"role\":\"analyst\"}", 0},
	  {"{\"user_id\":1,\"account_id\":2}", 400},
	  {"{\"user_id\":1,\"role\":\"agent\"}", 400},
	  {"{\"user_id\":1,\"account_id\":2,\"role\":\"king\"}", 422},
	  {"{\"user_id\":0,\"account_id\":2,\"role\":\"agent\"}", 400},
	  {"{\"user_id\":1,\"account_id\":-2,\"role\":\"agent\"}", 400},
	  {"{\"user_id\":\"1\",\"account_id\":2,\"role\":\"agent\"}", 400},
	  {NULL, 0}}},
	{"PATCH",
	 "/v1/memberships/{id}",
	 {{"{\"role\":\"admin\"}", 0},
	  {"{}", 400},
	  {"{\"role\":\"boss\"}", 422},
	  {"{\"role\":\"admin\",\"user_id\":3}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/api-keys",
	 {{"{\"scopes\":[\"read\"]}", 0},
	  {"{\"account_id\":5,\"scopes\":[\"read\",\"write\"]}", 0},
	  {"{\"name\":\"ci\",\"scopes\":[\"admin\"],\"expires_at\":"
	   "\"2999-01-01T00:00:00Z\"}",
	   0},
	  {"{\"scopes\":[\"read\"],\"expires_at\":null,\"account_id\":null}",
	   0},
	  {"{}", 400},
	  {"{\"scopes\":\"read\"}", 400},
	  {"{\"scopes\":[]}", 422},
	  {"{\"scopes\":[\"root\"]}", 422},
	  {"{\"scopes\":[\"read\",\"write\",\"admin\",\"read\"]}", 400},
	  {"{\"scopes\":[\"read\"],\"expires_at\":\"2001-01-01T00:00:00Z\"}",
	   422},
	  {"{\"scopes\":[\"read\"],\"expires_at\":\"next week\"}", 400},
	  {"{\"scopes\":[\"read\"],\"account_id\":0}", 400},
	  {"{\"scopes\":[\"read\"],\"secret\":\"rt_live_x\"}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/numbers",
	 {{"{\"number\":\"+13125550100\"}", 0},
	  {"{\"number\":\"(312) 555-0100\",\"country\":\"US\"}", 0},
	  {"{\"number\":\"020 7946 0958\",\"country\":\"GB\"}", 0},
	  {"{\"number\":\"+13125550100\",\"kind\":\"source\",\"source\":"
	   "\"google\",\"medium\":\"cpc\",\"destination\":\"sip:front@pbx."
	   "example\"}",
	   0},
	  {"{\"number\":\"+18005550199\",\"kind\":\"offline\",\"campaign\":"
	   "\"Billboard\",\"destination\":\"+14155552671\"}",
	   0},
	  {"{}", 400},
	  {"{\"number\":3125550100}", 400},
	  {"{\"number\":\"12345\"}", 422},
	  {"{\"number\":\"call me\"}", 422},
	  {"{\"number\":\"+13125550100\",\"kind\":\"rented\"}", 422},
	  {"{\"number\":\"+13125550100\",\"kind\":\"source\"}", 422},
	  {"{\"number\":\"+13125550100\",\"kind\":\"offline\"}", 422},
	  {"{\"number\":\"+13125550100\",\"campaign\":\"x\"}", 422},
	  {"{\"number\":\"+13125550100\",\"destination\":\"sip:\"}", 422},
	  {"{\"number\":\"+13125550100\",\"destination\":\"+13125550100\"}",
	   422},
	  {"{\"number\":\"+13125550100\",\"country\":\"usa\"}", 400},
	  {"{\"number\":\"+13125550100\",\"status\":\"released\"}", 422},
	  {"{\"number\":\"+13125550100\",\"pool\":1}", 400},
	  {NULL, 0}}},
	{"PATCH",
	 "/v1/numbers/{id}",
	 {{"{\"label\":\"Main line\"}", 0},
	  {"{\"status\":\"inactive\",\"destination\":null}", 0},
	  {"{\"pool_id\":3}", 0},
	  {"{\"pool_id\":null}", 0},
	  {"{}", 400},
	  {"{\"number\":\"+13125550100\"}", 400},
	  {"{\"label\":5}", 400},
	  {"{\"pool_id\":0}", 400},
	  {"{\"pool_id\":\"3\"}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/pools",
	 {{"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"]}", 0},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"(312) 555-0100\","
	   "\"+1 312 555 0101\"],\"account_id\":4,\"sources\":"
	   "\"paid_search\",\"session_ttl_seconds\":600,"
	   "\"cooldown_seconds\":0,\"keyword_param\":\"kw\",\"status\":"
	   "\"inactive\"}",
	   0},
	  {"{\"name\":\"UK\",\"swap_targets\":[\"020 7946 0958\"],"
	   "\"country\":\"GB\"}",
	   0},
	  {"{}", 400},
	  {"{\"name\":\"Site\"}", 400},
	  {"{\"swap_targets\":[\"+13125550100\"]}", 400},
	  {"{\"name\":\"Site\",\"swap_targets\":\"+13125550100\"}", 400},
	  {"{\"name\":\"Site\",\"swap_targets\":[3125550100]}", 400},
	  {"{\"name\":\"Site\",\"swap_targets\":[]}", 422},
	  {"{\"name\":\"\",\"swap_targets\":[\"+13125550100\"]}", 422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"12345\"]}", 422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\","
	   "\"312-555-0100\"]}",
	   422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"sources\":\"tv\"}",
	   422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"session_ttl_seconds\":30}",
	   422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"cooldown_seconds\":86401}",
	   422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"policy\":\"round_robin\"}",
	   422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"on_exhausted\":\"refuse\"}",
	   422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"campaign_param\":\"a&b\"}",
	   422},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"country\":\"usa\"}",
	   400},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"account_id\":0}",
	   400},
	  {"{\"name\":\"Site\",\"swap_targets\":[\"+13125550100\"],"
	   "\"session_ttl\":600}",
	   400},
	  {NULL, 0}}},
	{"PATCH",
	 "/v1/pools/{id}",
	 {{"{\"name\":\"Renamed\"}", 0},
	  {"{\"status\":\"inactive\",\"swap_targets\":[\"+13125550100\"]}", 0},
	  {"{\"status\":\"gone\"}", 0}, /* checked against the stored pool */
	  {"{}", 400},
	  {"{\"account_id\":3}", 400},
	  {"{\"name\":7}", 400},
	  {"{\"number_count\":3}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/accounts/{id}/site-key",
	 {{"{}", 0}, {"{\"site_key\":\"pk_mine\"}", 400}, {NULL, 0}}},
	{"POST",
	 "/v1/dni/sessions",
	 {{"{\"site_key\":\"pk_x\",\"landing_url\":\"https://a.example/\"}", 0},
	  {"{\"site_key\":\"pk_x\",\"landing_url\":\"https://a.example/"
	   "?gclid=1\",\"referrer\":null,\"title\":\"Home\","
	   "\"visitor_id\":\"v_1234567890\",\"ga_client_id\":\"1.2\","
	   "\"consent\":{\"analytics\":true,\"ads\":false}}",
	   0},
	  /* Checked by the service (the site key's account, the URL). */
	  {"{\"site_key\":\"pk_x\",\"landing_url\":\"not a url\"}", 0},
	  {"{\"landing_url\":\"https://a.example/\"}", 400},
	  {"{\"site_key\":\"pk_x\"}", 400},
	  {"{\"site_key\":\"pk_x\",\"landing_url\":\"https://a.example/\","
	   "\"consent\":{\"analytics\":\"yes\"}}",
	   400},
	  {"{\"site_key\":\"pk_x\",\"landing_url\":\"https://a.example/\","
	   "\"consent\":true}",
	   400},
	  {"{\"site_key\":7,\"landing_url\":\"https://a.example/\"}", 400},
	  {"{\"site_key\":\"pk_x\",\"landing_url\":\"https://a.example/\","
	   "\"user_agent\":\"x\"}",
	   400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/dni/sessions/{id}/pageviews",
	 {{"{\"url\":\"https://a.example/b\"}", 0},
	  {"{\"url\":\"https://a.example/b\",\"title\":null}", 0},
	  {"{\"url\":\"/b\"}", 422},
	  {"{\"title\":\"B\"}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/dni/sessions/{id}/heartbeat",
	 {{"{}", 0}, {"{\"url\":\"https://a.example/\"}", 400}, {NULL, 0}}},
	{"POST",
	 "/v1/source-rules",
	 {{"{\"name\":\"Radio\",\"field\":\"landing_page\",\"op\":"
	   "\"prefix\",\"value\":\"/radio\",\"source_label\":\"radio\"}",
	   0},
	  {"{\"name\":\"Partner\",\"field\":\"referrer_host\",\"op\":"
	   "\"regex\",\"value\":\"(^|\\\\.)partner\\\\.com$\",\"case_"
	   "sensitive\":true,\"source_label\":\"partner\",\"medium_label\":"
	   "\"referral\",\"pool_id\":3,\"position\":1,\"account_id\":4,"
	   "\"status\":\"inactive\"}",
	   0},
	  {"{\"name\":\"G\",\"field\":\"gclid\",\"op\":\"exists\","
	   "\"value\":null,\"source_label\":\"google\",\"medium_label\":"
	   "null,\"pool_id\":null}",
	   0},
	  {"{}", 400},
	  {"{\"field\":\"source\",\"op\":\"equals\",\"value\":\"x\","
	   "\"source_label\":\"y\"}",
	   400},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\"}",
	   400},
	  {"{\"name\":\"R\",\"field\":\"utm_source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"y\"}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"like\","
	   "\"value\":\"x\",\"source_label\":\"y\"}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"regex\","
	   "\"value\":\"(x\",\"source_label\":\"y\"}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"source_label\":\"y\"}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"exists\","
	   "\"value\":\"x\",\"source_label\":\"y\"}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"\"}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"y\",\"status\":\"on\"}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"y\",\"position\":0}",
	   422},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"y\",\"pool_id\":0}",
	   400},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"y\",\"account_id\":0}",
	   400},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"y\",\"case_sensitive\":"
	   "\"yes\"}",
	   400},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":7,\"source_label\":\"y\"}",
	   400},
	  {"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
	   "\"value\":\"x\",\"source_label\":\"y\",\"channel\":\"z\"}",
	   400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/flows",
	 {{"{\"name\":\"Main\",\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"hangup\"}]}}", 0},
	  {"{\"name\":\"Main\",\"account_id\":3,\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"hangup\"}]}}", 0},
	  {"{\"name\":\"Main\",\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"jump\"}]}}", 422},
	  {"{\"name\":\"\",\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"hangup\"}]}}", 422},
	  {"{\"name\":\"Main\"}", 400},
	  {"{\"name\":\"Main\",\"flow\":[]}", 400},
	  {"{\"name\":\"Main\",\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"hangup\"}]},\"account_id\":0}", 400},
	  {"{\"name\":\"Main\",\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"hangup\"}]},\"x\":1}", 400},
	  {NULL, 0}}},
	{"PATCH",
	 "/v1/flows/{id}",
	 {{"{\"name\":\"Renamed\"}", 0},
	  {"{\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"hangup\"}]}}", 0},
	  {"{\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"jump\"}]}}", 422},
	  {"{}", 400},
	  {"{\"name\":\"\"}", 422},
	  {"{\"account_id\":3}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/flows/validate",
	 {{"{\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"hangup\"}]}}", 0},
	  {"{\"flow\":{\"format\":1,\"start\":\"a\",\"steps\":[{\"id\":\"a\",\"type\":\"jump\"}]}}", 422},
	  {"{}", 400},
	  {"{\"flow\":\"x\"}", 400},
	  {NULL, 0}}},
	{"POST",
	 "/v1/flows/{id}/simulate",
	 {{"{}", 0},
	  {"{\"caller\":\"+14155550123\",\"at\":\"2026-03-09T13:30:00Z\","
	   "\"attribution\":{\"source\":\"google\"},\"digits\":\"1#\","
	   "\"dial\":[\"busy\",\"answered\"],\"version\":2}",
	   0},
	  {"{\"caller\":null,\"at\":null}", 0},
	  {"{\"caller\":\"555\"}", 422},
	  {"{\"digits\":\"1x\"}", 422},
	  {"{\"dial\":[\"maybe\"]}", 422},
	  {"{\"dial\":\"busy\"}", 400},
	  {"{\"at\":\"soon\"}", 400},
	  {"{\"attribution\":{\"gclid\":\"x\"}}", 400},
	  {"{\"attribution\":{\"source\":7}}", 400},
	  {"{\"version\":0}", 400},
	  {"{\"steps\":[]}", 400},
	  {NULL, 0}}},
	{"PATCH",
	 "/v1/source-rules/{id}",
	 {{"{\"name\":\"Renamed\"}", 0},
	  {"{\"position\":2,\"status\":\"inactive\"}", 0},
	  {"{\"pool_id\":null,\"medium_label\":null}", 0},
	  {"{\"op\":\"like\"}", 0}, /* checked against the stored rule */
	  {"{}", 400},
	  {"{\"account_id\":3}", 400},
	  {"{\"position\":0}", 422},
	  {"{\"pool_id\":-1}", 400},
	  {"{\"name\":7}", 400},
	  {"{\"id\":3}", 400},
	  {NULL, 0}}},
};

static const struct route_cases *cases_for(const struct rt_http_route_info *ri)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(route_cases); i++) {
		if (strcmp(route_cases[i].method, ri->method) == 0 &&
		    strcmp(route_cases[i].pattern, ri->pattern) == 0)
			return &route_cases[i];
	}
	return NULL;
}

static void test_every_route_checks_its_body(void **state)
{
	/* Bodies every route must refuse with 400, whatever its fields. */
	static const struct {
		const char *data;
		size_t len;
	} generic_bad[] = {
		{"", 0},
		{"not json", 8},
		{"[]", 2},
		{"{\"zz_unknown_field\":1}", 22},
		{"{\"email\":\"\xff\"}", 13},
		{"{\"name\":", 8},
	};
	size_t covered = 0;

	(void)state;
	for (size_t i = 0; i < rt_http_route_count(); i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);
		const struct route_cases *rc;
		bool valid = false, invalid = false;

		if (!ri->check_body)
			continue;
		rc = cases_for(ri);
		/* A new route with a body needs cases here. */
		if (!rc)
			fail_msg("no body cases for %s %s", ri->method,
				 ri->pattern);
		covered++;
		for (size_t k = 0; k < RT_ARRAY_SIZE(generic_bad); k++) {
			int st = ri->check_body(generic_bad[k].data,
						generic_bad[k].len);

			if (st != 400)
				fail_msg("%s %s: generic bad body %zu gave %d",
					 ri->method, ri->pattern, k, st);
		}
		for (const struct body_case *bc = rc->cases; bc->body; bc++) {
			int st = ri->check_body(bc->body, strlen(bc->body));

			if (st != bc->status)
				fail_msg("%s %s: %s gave %d, want %d",
					 ri->method, ri->pattern, bc->body, st,
					 bc->status);
			valid |= bc->status == 0;
			invalid |= bc->status != 0;
		}
		assert_true(valid && invalid);
	}
	/* And no cases are kept for routes that no longer exist. */
	assert_int_equal(covered, RT_ARRAY_SIZE(route_cases));
}

static void test_email_normalize(void **state)
{
	static const char *const bad[] = {
		"",	  "plain",    "@example.com", "a@",
		"a@b",	  "a@@b.com", "a@b@c.com",    "a b@c.com",
		"a@.com", "a@b.",     "a\t@b.com",    "a@b.com\n",
	};
	char e[300];

	(void)state;
	rt_strlcpy(e, "Alice.Smith+tag@Example.COM", sizeof(e));
	assert_true(rt_api_email_normalize(e));
	assert_string_equal(e, "alice.smith+tag@example.com");
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		rt_strlcpy(e, bad[i], sizeof(e));
		if (rt_api_email_normalize(e))
			fail_msg("'%s' taken for an email", bad[i]);
	}
	memset(e, 'a', 260);
	memcpy(e + 250, "@x.com", 7);
	assert_false(rt_api_email_normalize(e)); /* 256 bytes */
}

/* ---- what clients read -------------------------------------------------- */

static void test_json_shapes(void **state)
{
	struct rt_account a = {.id = 3,
			       .parent_id = 0,
			       .created_at = 1795546800123,
			       .updated_at = 1795546800123};
	struct rt_apikey k = {.id = 9,
			      .account_id = 3,
			      .scopes = RT_SCOPE_READ | RT_SCOPE_ADMIN,
			      .created_at = 1795546800000};
	json_t *j;

	(void)state;
	rt_strlcpy(a.name, "Acme", sizeof(a.name));
	rt_strlcpy(a.kind, "agency", sizeof(a.kind));
	rt_strlcpy(a.time_zone, "UTC", sizeof(a.time_zone));
	rt_strlcpy(a.currency, "USD", sizeof(a.currency));
	rt_strlcpy(a.status, "active", sizeof(a.status));
	j = rt_json_account(&a);
	assert_non_null(j);
	assert_true(rt_json_int(j, "id", 0) == 3);
	assert_true(json_is_null(json_object_get(j, "parent_id")));
	assert_string_equal(rt_json_str(j, "created_at"),
			    "2026-11-24T19:00:00.123Z");
	assert_string_equal(rt_json_str(j, "currency"), "USD");
	json_decref(j);

	rt_strlcpy(k.name, "ci", sizeof(k.name));
	rt_strlcpy(k.prefix, "rt_live_abcdef", sizeof(k.prefix));
	j = rt_json_apikey(&k);
	assert_non_null(j);
	/* Never the secret or its hash; unset times are null. */
	assert_null(json_object_get(j, "secret"));
	assert_null(json_object_get(j, "hash"));
	assert_string_equal(rt_json_str(j, "prefix"), "rt_live_abcdef");
	assert_true(json_is_null(json_object_get(j, "revoked_at")));
	assert_true(json_is_null(json_object_get(j, "last_used_at")));
	assert_true(json_is_null(json_object_get(j, "expires_at")));
	assert_true(json_is_null(json_object_get(j, "created_by_user")));
	assert_int_equal(json_array_size(json_object_get(j, "scopes")), 2);
	assert_string_equal(json_string_value(
				    json_array_get(json_object_get(j, "scopes"),
						   1)),
			    "admin");
	json_decref(j);
}

static void test_metrics_text(void **state)
{
	struct rt_http_metrics *m;
	struct rt_buf b;
	size_t n = rt_http_route_count();

	(void)state;
	assert_int_equal(rt_http_metrics_alloc(&m, n), 0);
	rt_http_metrics_observe(m, 0, 200, 150);
	rt_http_metrics_observe(m, 0, 200, 90);
	rt_http_metrics_observe(m, 0, 299, 90);	       /* an unlisted status */
	rt_http_metrics_observe(m, SIZE_MAX, 404, 10); /* matched no route */
	rt_buf_init(&b);
	rt_http_metrics_write(m, &b);
	assert_int_equal(b.err, 0);
	{
		char want[200];

		snprintf(want, sizeof(want),
			 "ringtrail_http_requests_total{method=\"%s\",route=\"%"
			 "s\","
			 "status=\"200\"} 2\n",
			 rt_http_route(0)->method, rt_http_route(0)->pattern);
		assert_non_null(strstr(b.s, want));
		snprintf(want, sizeof(want),
			 "ringtrail_http_requests_total{method=\"%s\",route=\"%"
			 "s\","
			 "status=\"other\"} 1\n",
			 rt_http_route(0)->method, rt_http_route(0)->pattern);
		assert_non_null(strstr(b.s, want));
		snprintf(want, sizeof(want),
			 "ringtrail_http_request_seconds_count{method=\"%s\","
			 "route=\"%s\"} 3\n",
			 rt_http_route(0)->method, rt_http_route(0)->pattern);
		assert_non_null(strstr(b.s, want));
	}
	assert_non_null(strstr(b.s, "route=\"none\",status=\"404\"} 1\n"));
	assert_non_null(
		strstr(b.s, "# TYPE ringtrail_http_requests_total counter\n"));
	/* Routes without traffic print nothing. */
	assert_null(strstr(b.s, "status=\"500\""));
	rt_buf_release(&b);
	rt_http_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_table_shape),
		cmocka_unit_test(test_route_table_has_the_fixed_interface),
		cmocka_unit_test(test_match_every_route),
		cmocka_unit_test(test_match_ids),
		cmocka_unit_test(test_match_405),
		cmocka_unit_test(test_match_static_never_under_v1),
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_rejects),
		cmocka_unit_test(test_check_fields_accepts),
		cmocka_unit_test(test_check_fields_rejects),
		cmocka_unit_test(test_parse_json),
		cmocka_unit_test(test_every_route_checks_its_body),
		cmocka_unit_test(test_email_normalize),
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_metrics_text),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
