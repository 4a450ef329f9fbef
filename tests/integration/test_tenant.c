/*
 * Tenant isolation, generated from the route table: every route is called
 * with the key of tenant B on the objects of tenant A, and must answer 404
 * or 403, never a success and never A's data.  Lists answer only B's own.
 *
 * Each route needs a case below; a route without one fails the test, so a
 * new route cannot ship without saying how it keeps tenants apart.
 *
 * Tenant A is the demo account the server makes on first start; tenant B is
 * a second root account made with the operator's CLI against the same
 * database while the server runs, as an operator would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "http/http.h"
#include "media/audio.h"

enum kind {
	K_ACCOUNTS,
	K_USERS,
	K_MEMBERSHIPS,
	K_KEYS,
	K_AUDIT,
	K_NUMBERS,
	K_POOLS,
	K_SOURCE_RULES,
	K_CALLS,
	K_FLOWS,
	K_AUDIO,
	K__N
};
static const char *const kind_paths[K__N] =
	{"/v1/accounts",  "/v1/users",	 "/v1/memberships", "/v1/api-keys",
	 "/v1/audit-log", "/v1/numbers", "/v1/pools",	    "/v1/source-rules",
	 "/v1/calls",	  "/v1/flows",	 "/v1/audio"};

#define MAX_IDS 8

struct world {
	struct rt_test_server srv;
	/* Tenant A. */
	int64_t a_root, a_child, a_user, a_admin, a_key;
	char a_key_secret[128], a_key_prefix[32];
	int64_t ids[K__N][MAX_IDS]; /* A's objects of each kind */
	size_t nids[K__N];
	int64_t a_counts[K__N]; /* what A's key lists before the cases */
	/* Tenant B. */
	/* DNI: each root's site key, and a visit to A's site. */
	char a_site_key[32], b_site_key[32];
	int64_t a_session;
	int64_t b_root, b_user, b_pool, b_number, b_rule, b_flow;
	char b_key[128];
	unsigned cases_run;
};

/* Strings only tenant A's objects contain: none may reach B.  The demo
 * account's name and admin email are also in the public documents (the
 * OpenAPI examples), so only answers with tenant data are checked for them. */
static const char *const a_markers[] =
	{"A-Child-Marker",   "a-user-marker@tenant-a.example",
	 "A User Marker",    "A Key Marker",
	 "A Number Marker",  "A Campaign Marker",
	 "A Pool Marker",    "A Rule Marker",
	 "A Call Marker",    "A Flow Marker",
	 "A Audio Marker",   "Demo Agency",
	 "admin@example.com"};
#define N_UNIQUE_MARKERS 11

static struct world W;

/* A small valid flow document. */
#define B_FLOW                                                                 \
	"{\"format\":1,\"start\":\"t\",\"steps\":[{\"id\":\"t\",\"type\":"     \
	"\"tag\",\"tags\":[\"x\"],\"exits\":{\"next\":\"h\"}},{\"id\":"        \
	"\"h\",\"type\":\"hangup\"}]}"

/* ---- helpers ------------------------------------------------------------ */

static void add_id(enum kind k, int64_t id)
{
	assert_true(W.nids[k] < MAX_IDS);
	W.ids[k][W.nids[k]++] = id;
}

/* A call of account_id, written through the store into the server's
 * database as the call service writes it (calls have no POST). */
static void add_call(int64_t account_id)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 5000};
	struct rt_call *c = calloc(1, sizeof(*c));
	struct rt_store_tx *tx;
	struct rt_store *s;

	assert_non_null(c);
	assert_int_equal(rt_store_open(&s, W.srv.db, &o), 0);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_int_equal(rt_store_call_next_id(tx, &c->id), 0);
	c->account_id = account_id;
	rt_strlcpy(c->tracking_number, "+13125550180",
		   sizeof(c->tracking_number));
	rt_strlcpy(c->caller_number, "+13125550190", sizeof(c->caller_number));
	rt_strlcpy(c->caller_raw, "A Call Marker", sizeof(c->caller_raw));
	c->started_at = rt_now_ms();
	assert_int_equal(rt_store_call_insert(tx, c), 0);
	assert_int_equal(rt_store_call_event_add(tx, c->id, account_id,
						 c->started_at, "invite", NULL),
			 0);
	/* And its recording: a file beside the database and its row. */
	{
		struct rt_recording rec = {.call_id = c->id,
					   .account_id = account_id,
					   .channels = 2,
					   .sample_rate = 8000,
					   .bytes = 4,
					   .complete = true,
					   .created_at = c->started_at};
		FILE *f;

		mkdir(rt_test_fmt("%s/recordings", W.srv.dir), 0700);
		snprintf(rec.path, sizeof(rec.path), "call-%lld.wav",
			 (long long)c->id);
		rt_strlcpy(rec.format, "wav", sizeof(rec.format));
		f = fopen(rt_test_fmt("%s/recordings/%s", W.srv.dir, rec.path),
			  "wb");
		assert_non_null(f);
		fputs("RIFF", f);
		fclose(f);
		assert_int_equal(rt_store_recording_insert(tx, &rec), 0);
	}
	assert_int_equal(rt_store_commit(tx), 0);
	rt_store_close(s);
	add_id(K_CALLS, c->id);
	free(c);
}

static int64_t post_id(const char *key, const char *path, const char *body)
{
	struct rt_test_resp r;
	int64_t id;

	rt_test_api(&W.srv, &r, key, "POST", path, body);
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	return id;
}

static void markers_in(const struct rt_test_resp *r, const char *what, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strstr(r->body, a_markers[i]))
			fail_msg("%s: tenant B saw tenant A's '%s': %.600s",
				 what, a_markers[i], r->body);
	}
	if (W.a_key_prefix[0] && strstr(r->body, W.a_key_prefix))
		fail_msg("%s: tenant B saw A's key prefix: %.600s", what,
			 r->body);
}

static void no_markers(const struct rt_test_resp *r, const char *what)
{
	markers_in(r, what, sizeof(a_markers) / sizeof(a_markers[0]));
}

static void expect_denied(const struct rt_test_resp *r, const char *what)
{
	if (r->status != 404 && r->status != 403)
		fail_msg("%s: tenant B got %ld, want 404 or 403: %.600s", what,
			 r->status, r->body);
	RT_EXPECT_ERROR(r, r->status, NULL, NULL);
	no_markers(r, what);
}

static enum kind kind_of(const char *pattern)
{
	for (int k = 0; k < K__N; k++) {
		size_t n = strlen(kind_paths[k]);

		if (strncmp(pattern, kind_paths[k], n) == 0 &&
		    (pattern[n] == '\0' || pattern[n] == '/'))
			return (enum kind)k;
	}
	fail_msg("no object kind for route %s", pattern);
	return K__N;
}

/* The pattern with {id} replaced by id. */
static const char *with_id(const char *pattern, int64_t id)
{
	const char *p = strstr(pattern, "{id}");

	assert_non_null(p);
	return rt_test_fmt("%.*s%lld%s", (int)(p - pattern), pattern,
			   (long long)id, p + 4);
}

static int64_t list_count(const char *key, const char *path)
{
	struct rt_test_resp r;
	int64_t n;

	rt_test_api(&W.srv, &r, key, "GET", rt_test_fmt("%s?limit=200", path),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	n = (int64_t)json_array_size(json_object_get(r.json, "data"));
	rt_test_resp_free(&r);
	return n;
}

/* ---- the cases ---------------------------------------------------------- */

typedef void(case_fn)(const struct rt_http_route_info *ri);

/* Public routes carry no tenant data: B sees nothing of A there. */
static void case_public(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;
	const char *path = strstr(ri->pattern, "{path*}") ? "/" : ri->pattern;

	rt_test_api(&W.srv, &r, W.b_key, ri->method, path, NULL);
	assert_true(r.status == 200 || r.status == 404);
	markers_in(&r, ri->pattern, N_UNIQUE_MARKERS);
	rt_test_resp_free(&r);
}

/* B's user cannot log in to A's account. */
static void case_login(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;
	char sc[64];
	const char *base = "\"email\":\"b-user@tenant-b.example\","
			   "\"password\":\"correct horse battery\"";

	rt_test_api(&W.srv, &r, NULL, ri->method, ri->pattern,
		    rt_test_fmt("{%s,\"account_id\":%lld}", base,
				(long long)W.a_root));
	expect_denied(&r, "login into A's account");
	assert_null(rt_test_header(&r, "Set-Cookie", sc, sizeof(sc)));
	rt_test_resp_free(&r);
	rt_test_api(&W.srv, &r, NULL, ri->method, ri->pattern,
		    rt_test_fmt("{%s,\"account_id\":%lld}", base,
				(long long)W.a_child));
	expect_denied(&r, "login into A's client");
	rt_test_resp_free(&r);

	/* Without an account, B's user lands in B. */
	rt_test_api(&W.srv, &r, NULL, ri->method, ri->pattern,
		    rt_test_fmt("{%s}", base));
	RT_EXPECT_STATUS(&r, 201);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r.json, "account"), "id")),
			 W.b_root);
	no_markers(&r, "B's login");
	rt_test_resp_free(&r);
}

/* B cannot end A's session, with its key or with its own session. */
static void case_logout(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;
	char sc[256], cookie[300], csrf[200];
	const char *h[3] = {NULL, NULL, NULL};

	rt_test_api(&W.srv, &r, NULL, "POST", "/v1/sessions",
		    rt_test_fmt("{\"email\":\"%s\",\"password\":\"%s\"}",
				W.srv.email, W.srv.password));
	RT_EXPECT_STATUS(&r, 201);
	assert_non_null(rt_test_header(&r, "Set-Cookie", sc, sizeof(sc)));
	snprintf(cookie, sizeof(cookie), "Cookie: %.*s", (int)strcspn(sc, ";"),
		 sc);
	rt_test_resp_free(&r);

	rt_test_api(&W.srv, &r, W.b_key, ri->method, ri->pattern, NULL);
	if (r.status >= 200 && r.status < 300)
		fail_msg("B's key got %ld from %s %s", r.status, ri->method,
			 ri->pattern);
	no_markers(&r, "logout with B's key");
	rt_test_resp_free(&r);

	/* B's own session ends; A's stays. */
	rt_test_api(&W.srv, &r, NULL, "POST", "/v1/sessions",
		    "{\"email\":\"b-user@tenant-b.example\","
		    "\"password\":\"correct horse battery\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_non_null(rt_test_header(&r, "Set-Cookie", sc, sizeof(sc)));
	snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s",
		 json_string_value(json_object_get(r.json, "csrf_token")));
	rt_test_resp_free(&r);
	{
		char bcookie[300];

		snprintf(bcookie, sizeof(bcookie), "Cookie: %.*s",
			 (int)strcspn(sc, ";"), sc);
		h[0] = bcookie;
		h[1] = csrf;
		rt_test_request(&W.srv, &r, ri->method, ri->pattern, h, NULL,
				0);
		RT_EXPECT_STATUS(&r, 204);
		rt_test_resp_free(&r);
	}
	h[0] = cookie;
	h[1] = NULL;
	rt_test_request(&W.srv, &r, "GET", "/v1/me", h, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r.json, "account"), "id")),
			 W.a_root);
	rt_test_resp_free(&r);
}

static void case_me(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;

	rt_test_api(&W.srv, &r, W.b_key, ri->method, ri->pattern, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r.json, "account"), "id")),
			 W.b_root);
	no_markers(&r, "/v1/me");
	rt_test_resp_free(&r);
}

static bool is_a_id(enum kind k, int64_t id)
{
	for (size_t i = 0; i < W.nids[k]; i++) {
		if (W.ids[k][i] == id)
			return true;
	}
	return false;
}

/* Lists: 200 with none of A's objects, whatever filter names A's ids. */
static void case_list(const struct rt_http_route_info *ri)
{
	enum kind k = kind_of(ri->pattern);
	const char *queries[] = {
		"",
		rt_test_fmt("?account_id=%lld", (long long)W.a_root),
		rt_test_fmt("?account_id=%lld", (long long)W.a_child),
		rt_test_fmt("?user_id=%lld", (long long)W.a_user),
		rt_test_fmt("?user_id=%lld&account_id=%lld",
			    (long long)W.a_admin, (long long)W.a_root),
	};

	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		const char *path = rt_test_fmt("%s%s", ri->pattern, queries[q]);
		struct rt_test_resp r;
		json_t *item;
		size_t i;

		rt_test_api(&W.srv, &r, W.b_key, ri->method, path, NULL);
		if (r.status == 403 || r.status == 404) {
			expect_denied(&r, path);
			rt_test_resp_free(&r);
			continue;
		}
		RT_EXPECT_STATUS(&r, 200);
		no_markers(&r, path);
		json_array_foreach (json_object_get(r.json, "data"), i, item) {
			int64_t id =
				json_integer_value(json_object_get(item, "id"));
			int64_t acc = json_integer_value(
				json_object_get(item, "account_id"));

			if ((k != K_AUDIT && is_a_id(k, id)) ||
			    is_a_id(K_ACCOUNTS, acc))
				fail_msg("%s: tenant B listed A's object: "
					 "%.600s",
					 path, r.body);
		}
		rt_test_resp_free(&r);
	}
}

static void case_get(const struct rt_http_route_info *ri)
{
	enum kind k = kind_of(ri->pattern);

	assert_true(W.nids[k] > 0);
	for (size_t i = 0; i < W.nids[k]; i++) {
		const char *path = with_id(ri->pattern, W.ids[k][i]);
		struct rt_test_resp r;

		/* The id is real: A sees it. */
		rt_test_api(&W.srv, &r, W.srv.key, ri->method, path, NULL);
		RT_EXPECT_STATUS(&r, 200);
		rt_test_resp_free(&r);
		rt_test_api(&W.srv, &r, W.b_key, ri->method, path, NULL);
		expect_denied(&r, path);
		rt_test_resp_free(&r);
		/* HEAD answers wherever GET does, with the same status. */
		rt_test_api(&W.srv, &r, W.b_key, "HEAD", path, NULL);
		if (r.status != 404 && r.status != 403)
			fail_msg("HEAD %s: tenant B got %ld", path, r.status);
		rt_test_resp_free(&r);
	}
}

/* A valid change for each kind. */
static const char *patch_body(enum kind k)
{
	switch (k) {
	case K_ACCOUNTS:
		return "{\"name\":\"Taken By B\",\"status\":\"suspended\"}";
	case K_USERS:
		return "{\"name\":\"Taken By B\",\"password\":\"b owns you "
		       "now\"}";
	case K_MEMBERSHIPS:
		return "{\"role\":\"agent\"}";
	case K_NUMBERS:
		return "{\"label\":\"Taken By B\",\"status\":\"inactive\","
		       "\"destination\":\"+14155550123\"}";
	case K_POOLS:
		return "{\"name\":\"Taken By B\",\"status\":\"inactive\","
		       "\"swap_targets\":[\"+14155550123\"]}";
	case K_SOURCE_RULES:
		return "{\"name\":\"Taken By B\",\"status\":\"inactive\","
		       "\"pool_id\":null,\"position\":1}";
	case K_FLOWS:
		return "{\"name\":\"Taken By B\",\"flow\":" B_FLOW "}";
	default:
		fail_msg("no PATCH body for kind %d", (int)k);
		return NULL;
	}
}

/* Numbers cross no tenant line into or out of a pool: B's number into A's
 * pool, A's number into B's pool (with either key), all 404. */
static void pool_crossings(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;

	for (size_t i = 0; i < W.nids[K_POOLS]; i++) {
		rt_test_api(&W.srv, &r, W.b_key, ri->method,
			    with_id(ri->pattern, W.b_number),
			    rt_test_fmt("{\"pool_id\":%lld}",
					(long long)W.ids[K_POOLS][i]));
		expect_denied(&r, "B's number into A's pool");
		rt_test_resp_free(&r);
	}
	for (size_t i = 0; i < W.nids[K_NUMBERS]; i++) {
		const char *path = with_id(ri->pattern, W.ids[K_NUMBERS][i]);
		const char *body =
			rt_test_fmt("{\"pool_id\":%lld}", (long long)W.b_pool);

		rt_test_api(&W.srv, &r, W.b_key, ri->method, path, body);
		expect_denied(&r, "A's number into B's pool, by B");
		rt_test_resp_free(&r);
		/* A's own key: no such pool (A's first number is a pool
		 * number; the other is refused for its kind first). */
		rt_test_api(&W.srv, &r, W.srv.key, ri->method, path, body);
		if (i == 0)
			RT_EXPECT_ERROR(&r, 404, "not_found", "pool_id");
		else
			RT_EXPECT_ERROR(&r, 422, "invalid_field", "pool_id");
		rt_test_resp_free(&r);
	}
	/* B's number is still in none, B's pool holds nothing of A's. */
	rt_test_api(&W.srv, &r, W.b_key, "GET",
		    with_id(ri->pattern, W.b_number), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(json_object_get(r.json, "pool_id")));
	rt_test_resp_free(&r);
	rt_test_api(&W.srv, &r, W.b_key, "GET",
		    rt_test_fmt("/v1/pools/%lld/numbers", (long long)W.b_pool),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
	rt_test_resp_free(&r);
}

/* A number or a pool runs no other tenant's flow.  B naming A's flows for
 * its own number or pool (PATCH, POST) is the 422 of any flow that is not
 * the account's, naming flow_id and nothing of A; B naming its flow for
 * A's objects is 404; A's key naming B's flow is the same 422. */
static void flow_crossings(const struct rt_http_route_info *ri, enum kind k)
{
	int64_t b_own = k == K_NUMBERS ? W.b_number : W.b_pool;
	struct rt_test_resp r;

	for (size_t i = 0; i < W.nids[K_FLOWS]; i++) {
		const char *body = rt_test_fmt("{\"flow_id\":%lld}",
					       (long long)W.ids[K_FLOWS][i]);

		rt_test_api(&W.srv, &r, W.b_key, ri->method,
			    with_id(ri->pattern, b_own), body);
		RT_EXPECT_ERROR(&r, 422, "invalid_field", "flow_id");
		no_markers(&r, "B's object with A's flow");
		rt_test_resp_free(&r);
		body = k == K_NUMBERS
			       ? rt_test_fmt("{\"number\":\"+13125550196\","
					     "\"flow_id\":%lld}",
					     (long long)W.ids[K_FLOWS][i])
			       : rt_test_fmt(
					 "{\"name\":\"B pool 2\","
					 "\"swap_targets\":[\"+13125550197\"]"
					 ",\"flow_id\":%lld}",
					 (long long)W.ids[K_FLOWS][i]);
		rt_test_api(&W.srv, &r, W.b_key, "POST", kind_paths[k], body);
		RT_EXPECT_ERROR(&r, 422, "invalid_field", "flow_id");
		no_markers(&r, "B's new object with A's flow");
		rt_test_resp_free(&r);
	}
	for (size_t i = 0; i < W.nids[k]; i++) {
		const char *path = with_id(ri->pattern, W.ids[k][i]);
		const char *body =
			rt_test_fmt("{\"flow_id\":%lld}", (long long)W.b_flow);

		rt_test_api(&W.srv, &r, W.b_key, ri->method, path, body);
		expect_denied(&r, "A's object with B's flow, by B");
		rt_test_resp_free(&r);
		rt_test_api(&W.srv, &r, W.srv.key, ri->method, path, body);
		RT_EXPECT_ERROR(&r, 422, "invalid_field", "flow_id");
		rt_test_resp_free(&r);
		rt_test_api(&W.srv, &r, W.srv.key, "GET", path, NULL);
		RT_EXPECT_STATUS(&r, 200);
		assert_true(json_is_null(json_object_get(r.json, "flow_id")));
		rt_test_resp_free(&r);
	}
	/* B's object runs no flow; B's flow is used by nothing. */
	rt_test_api(&W.srv, &r, W.b_key, "GET", with_id(ri->pattern, b_own),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(json_object_get(r.json, "flow_id")));
	rt_test_resp_free(&r);
	rt_test_api(&W.srv, &r, W.b_key, "GET",
		    rt_test_fmt("/v1/flows/%lld", (long long)W.b_flow), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "numbers")),
			 0);
	assert_int_equal(json_integer_value(json_object_get(r.json, "pools")),
			 0);
	rt_test_resp_free(&r);
}

/* A rule sends visits to no other tenant's pool: B's rule to A's pools,
 * 404; B's rule keeps no pool. */
static void rule_crossings(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;

	for (size_t i = 0; i < W.nids[K_POOLS]; i++) {
		rt_test_api(&W.srv, &r, W.b_key, ri->method,
			    with_id(ri->pattern, W.b_rule),
			    rt_test_fmt("{\"pool_id\":%lld}",
					(long long)W.ids[K_POOLS][i]));
		expect_denied(&r, "B's rule to A's pool");
		rt_test_resp_free(&r);
	}
	rt_test_api(&W.srv, &r, W.b_key, "GET", with_id(ri->pattern, W.b_rule),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(json_object_get(r.json, "pool_id")));
	rt_test_resp_free(&r);
}

static void case_patch(const struct rt_http_route_info *ri)
{
	enum kind k = kind_of(ri->pattern);

	for (size_t i = 0; i < W.nids[k]; i++) {
		const char *path = with_id(ri->pattern, W.ids[k][i]);
		struct rt_test_resp r;

		rt_test_api(&W.srv, &r, W.b_key, ri->method, path,
			    patch_body(k));
		expect_denied(&r, path);
		rt_test_resp_free(&r);
		/* Unchanged. */
		rt_test_api(&W.srv, &r, W.srv.key, "GET", path, NULL);
		RT_EXPECT_STATUS(&r, 200);
		assert_null(strstr(r.body, "Taken By B"));
		assert_null(strstr(r.body, "suspended"));
		assert_null(strstr(r.body, "inactive"));
		if (k == K_MEMBERSHIPS)
			assert_null(strstr(r.body, "\"agent\""));
		rt_test_resp_free(&r);
	}
	if (k == K_NUMBERS)
		pool_crossings(ri);
	if (k == K_NUMBERS || k == K_POOLS)
		flow_crossings(ri, k);
	if (k == K_SOURCE_RULES)
		rule_crossings(ri);
}

static void case_delete(const struct rt_http_route_info *ri)
{
	enum kind k = kind_of(ri->pattern);

	for (size_t i = 0; i < W.nids[k]; i++) {
		const char *path = with_id(ri->pattern, W.ids[k][i]);
		struct rt_test_resp r;

		rt_test_api(&W.srv, &r, W.b_key, ri->method, path, NULL);
		expect_denied(&r, path);
		rt_test_resp_free(&r);
		rt_test_api(&W.srv, &r, W.srv.key, "GET", path, NULL);
		RT_EXPECT_STATUS(&r, 200);
		if (k == K_KEYS)
			assert_true(json_is_null(
				json_object_get(r.json, "revoked_at")));
		if (k == K_NUMBERS || k == K_POOLS || k == K_SOURCE_RULES)
			assert_string_equal(json_string_value(
						    json_object_get(r.json,
								    "status")),
					    "active");
		rt_test_resp_free(&r);
	}
}

/* Creating with A's ids in the body: refused, and nothing appears in A. */
static void case_create(const struct rt_http_route_info *ri)
{
	enum kind k = kind_of(ri->pattern);
	const char *bodies[4] = {NULL, NULL, NULL, NULL};

	switch (k) {
	case K_ACCOUNTS:
		bodies[0] =
			rt_test_fmt("{\"name\":\"B child\",\"parent_id\":%lld}",
				    (long long)W.a_root);
		bodies[1] =
			rt_test_fmt("{\"name\":\"B child\",\"parent_id\":%lld}",
				    (long long)W.a_child);
		break;
	case K_USERS:
		bodies[0] =
			rt_test_fmt("{\"email\":\"b-into-a@tenant-b.example\","
				    "\"name\":\"B\",\"password\":\"correct "
				    "horse battery\",\"account_id\":%lld}",
				    (long long)W.a_root);
		bodies[1] =
			rt_test_fmt("{\"email\":\"b-into-a2@tenant-b.example\","
				    "\"name\":\"B\",\"password\":\"correct "
				    "horse battery\",\"account_id\":%lld}",
				    (long long)W.a_child);
		break;
	case K_MEMBERSHIPS:
		bodies[0] =
			rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				    "\"role\":\"agent\"}",
				    (long long)W.a_user, (long long)W.b_root);
		bodies[1] =
			rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				    "\"role\":\"agent\"}",
				    (long long)W.b_user, (long long)W.a_root);
		bodies[2] =
			rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				    "\"role\":\"admin\"}",
				    (long long)W.a_admin, (long long)W.b_root);
		bodies[3] =
			rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				    "\"role\":\"agent\"}",
				    (long long)W.b_user, (long long)W.a_child);
		break;
	case K_KEYS:
		bodies[0] = rt_test_fmt(
			"{\"account_id\":%lld,\"scopes\":[\"read\"]}",
			(long long)W.a_root);
		bodies[1] = rt_test_fmt("{\"account_id\":%lld,\"scopes\":"
					"[\"read\",\"write\",\"admin\"]}",
					(long long)W.a_child);
		break;
	case K_NUMBERS:
		bodies[0] = rt_test_fmt(
			"{\"account_id\":%lld,\"number\":\"+13125550190\"}",
			(long long)W.a_root);
		bodies[1] = rt_test_fmt(
			"{\"account_id\":%lld,\"number\":\"+13125550191\"}",
			(long long)W.a_child);
		/* Into A's pool, from B's own account. */
		bodies[2] = rt_test_fmt(
			"{\"number\":\"+13125550193\",\"pool_id\":%lld}",
			(long long)W.ids[K_POOLS][0]);
		bodies[3] = rt_test_fmt(
			"{\"account_id\":%lld,\"number\":\"+13125550194\","
			"\"pool_id\":%lld}",
			(long long)W.a_child, (long long)W.ids[K_POOLS][1]);
		break;
	case K_POOLS:
		bodies[0] =
			rt_test_fmt("{\"account_id\":%lld,\"name\":\"B pool\","
				    "\"swap_targets\":[\"+13125550195\"]}",
				    (long long)W.a_root);
		bodies[1] =
			rt_test_fmt("{\"account_id\":%lld,\"name\":\"B pool\","
				    "\"swap_targets\":[\"+13125550195\"]}",
				    (long long)W.a_child);
		/* In A's client, with A's client's flow. */
		bodies[2] =
			rt_test_fmt("{\"account_id\":%lld,\"name\":\"B pool\","
				    "\"swap_targets\":[\"+13125550195\"],"
				    "\"flow_id\":%lld}",
				    (long long)W.a_child,
				    (long long)W.ids[K_FLOWS][1]);
		break;
	case K_SOURCE_RULES:
		bodies[0] = rt_test_fmt(
			"{\"account_id\":%lld,\"name\":\"B rule\",\"field\":"
			"\"source\",\"op\":\"equals\",\"value\":\"x\","
			"\"source_label\":\"b\"}",
			(long long)W.a_root);
		bodies[1] = rt_test_fmt(
			"{\"account_id\":%lld,\"name\":\"B rule\",\"field\":"
			"\"source\",\"op\":\"equals\",\"value\":\"x\","
			"\"source_label\":\"b\"}",
			(long long)W.a_child);
		/* To A's pool, from B's own account. */
		bodies[2] = rt_test_fmt(
			"{\"name\":\"B rule\",\"field\":\"source\",\"op\":"
			"\"equals\",\"value\":\"x\",\"source_label\":\"b\","
			"\"pool_id\":%lld}",
			(long long)W.ids[K_POOLS][0]);
		bodies[3] = rt_test_fmt(
			"{\"account_id\":%lld,\"name\":\"B rule\",\"field\":"
			"\"source\",\"op\":\"equals\",\"value\":\"x\","
			"\"source_label\":\"b\",\"pool_id\":%lld}",
			(long long)W.a_child, (long long)W.ids[K_POOLS][1]);
		break;
	case K_FLOWS:
		bodies[0] = rt_test_fmt("{\"account_id\":%lld,\"name\":\"B "
					"flow\",\"flow\":" B_FLOW "}",
					(long long)W.a_root);
		bodies[1] = rt_test_fmt("{\"account_id\":%lld,\"name\":\"B "
					"flow\",\"flow\":" B_FLOW "}",
					(long long)W.a_child);
		break;
	default:
		fail_msg("no POST bodies for %s", ri->pattern);
	}
	for (size_t i = 0; i < 4 && bodies[i]; i++) {
		struct rt_test_resp r;

		rt_test_api(&W.srv, &r, W.b_key, ri->method, ri->pattern,
			    bodies[i]);
		expect_denied(&r, bodies[i]);
		rt_test_resp_free(&r);
	}
}

/* A flow of A's cannot be walked by B; A's key walks it. */
static void case_simulate(const struct rt_http_route_info *ri)
{
	for (size_t i = 0; i < W.nids[K_FLOWS]; i++) {
		const char *path = with_id(ri->pattern, W.ids[K_FLOWS][i]);
		struct rt_test_resp r;

		rt_test_api(&W.srv, &r, W.srv.key, ri->method, path, "{}");
		RT_EXPECT_STATUS(&r, 200);
		rt_test_resp_free(&r);
		rt_test_api(&W.srv, &r, W.b_key, ri->method, path, "{}");
		expect_denied(&r, path);
		rt_test_resp_free(&r);
	}
}

/* Checking a document reads no tenant's data: B's check answers B. */
static void case_validate(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;

	rt_test_api(&W.srv, &r, W.b_key, ri->method, ri->pattern,
		    "{\"flow\":" B_FLOW "}");
	RT_EXPECT_STATUS(&r, 200);
	no_markers(&r, ri->pattern);
	rt_test_resp_free(&r);
}

/* A CSV import into A's accounts: refused, and no number appears. */
static void case_import(const struct rt_http_route_info *ri)
{
	static const char csv[] = "number,label\n+13125550192,B import\n";
	int64_t targets[] = {W.a_root, W.a_child};

	for (size_t i = 0; i < 2; i++) {
		const char *path =
			rt_test_fmt("%s?account_id=%lld", ri->pattern,
				    (long long)targets[i]);
		const char *h[3] = {NULL, "Content-Type: text/csv", NULL};
		char auth[200];
		struct rt_test_resp r;

		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 W.b_key);
		h[0] = auth;
		rt_test_request(&W.srv, &r, ri->method, path, h, csv,
				sizeof(csv) - 1);
		expect_denied(&r, path);
		rt_test_resp_free(&r);
	}
	assert_int_equal(list_count(W.srv.key, "/v1/numbers"),
			 W.a_counts[K_NUMBERS]);
}

/* Uploads half a second of 8 kHz audio as a WAV with key into account
 * (0: the key's own) under name: the answer. */
static void upload(const char *key, int64_t account, const char *name,
		   struct rt_test_resp *r)
{
	int16_t pcm[4000];
	const char *h[3] = {NULL, "Content-Type: audio/wav", NULL};
	char auth[200], *wav = NULL;
	size_t len = 0;

	for (size_t i = 0; i < 4000; i++)
		pcm[i] = (int16_t)((i % 16) * 1000 - 8000);
	assert_int_equal(rt_audio_wav(pcm, 4000, &wav, &len), 0);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	h[0] = auth;
	rt_test_request(&W.srv, r, "POST",
			account ? rt_test_fmt("/v1/audio?name=%s&account_id="
					      "%lld",
					      name, (long long)account)
				: rt_test_fmt("/v1/audio?name=%s", name),
			h, wav, len);
	free(wav);
}

/* An upload into A's accounts: refused, and no file appears in A. */
static void case_upload(const struct rt_http_route_info *ri)
{
	int64_t targets[] = {W.a_root, W.a_child};
	struct rt_test_resp r;

	(void)ri;
	for (size_t i = 0; i < 2; i++) {
		upload(W.b_key, targets[i], "B%20upload", &r);
		expect_denied(&r, "B's upload into A");
		rt_test_resp_free(&r);
	}
	assert_int_equal(list_count(W.srv.key, "/v1/audio"),
			 W.a_counts[K_AUDIO]);
	/* B's own: fine, and B's only. */
	upload(W.b_key, 0, "B%20upload", &r);
	RT_EXPECT_STATUS(&r, 201);
	assert_int_equal(json_integer_value(
				 json_object_get(r.json, "account_id")),
			 W.b_root);
	rt_test_resp_free(&r);
}

/* ---- DNI -------------------------------------------------------------- */

static void site_key_of(const char *key, int64_t account, char *out,
			size_t size)
{
	struct rt_test_resp r;

	rt_test_api(&W.srv, &r, key, "GET",
		    rt_test_fmt("/v1/accounts/%lld", (long long)account), NULL);
	RT_EXPECT_STATUS(&r, 200);
	snprintf(out, size, "%s",
		 json_string_value(json_object_get(r.json, "site_key")));
	rt_test_resp_free(&r);
	assert_int_equal(strncmp(out, "pk_", 3), 0);
}

/* The public DNI routes: a site key names its own account's numbers only,
 * and a session id is a secret that B cannot guess. */
static void case_dni_public(const struct rt_http_route_info *ri)
{
	struct rt_test_resp r;

	if (strcmp(ri->pattern, "/v1/dni/sessions") == 0) {
		rt_test_api(&W.srv, &r, NULL, ri->method, ri->pattern,
			    rt_test_fmt("{\"site_key\":\"%s\",\"landing_url\":"
					"\"https://b.example/\"}",
					W.b_site_key));
		RT_EXPECT_STATUS(&r, 201);
		no_markers(&r, "B's visit");
		if (strstr(r.body, "+13125550180"))
			fail_msg("B's visit was shown A's number: %s", r.body);
		rt_test_resp_free(&r);
		rt_test_api(&W.srv, &r, NULL, ri->method, ri->pattern,
			    "{\"site_key\":\"pk_guessed\",\"landing_url\":"
			    "\"https://b.example/\"}");
		RT_EXPECT_ERROR(&r, 404, "unknown_site_key", "site_key");
		rt_test_resp_free(&r);
		return;
	}
	rt_test_api(&W.srv, &r, NULL, ri->method,
		    with_id(ri->pattern, W.a_session + 1),
		    strstr(ri->pattern, "pageviews")
			    ? "{\"url\":\"https://b.example/x\"}"
			    : "{}");
	RT_EXPECT_ERROR(&r, 404, "session_not_found", NULL);
	rt_test_resp_free(&r);
}

static void case_dni_session_get(const struct rt_http_route_info *ri)
{
	const char *path = with_id(ri->pattern, W.a_session);
	struct rt_test_resp r;

	rt_test_api(&W.srv, &r, W.srv.key, ri->method, path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&W.srv, &r, W.b_key, ri->method, path, NULL);
	expect_denied(&r, path);
	rt_test_resp_free(&r);
}

static void case_site_key(const struct rt_http_route_info *ri)
{
	int64_t ids[] = {W.a_root, W.a_child};
	char after[32];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const char *path = with_id(ri->pattern, ids[i]);
		struct rt_test_resp r;

		rt_test_api(&W.srv, &r, W.b_key, ri->method, path, "{}");
		expect_denied(&r, path);
		rt_test_resp_free(&r);
	}
	site_key_of(W.srv.key, W.a_root, after, sizeof(after));
	assert_string_equal(after, W.a_site_key);
}

static const struct {
	const char *method, *pattern;
	case_fn *fn;
} cases[] = {
	{"GET", "/healthz", case_public},
	{"GET", "/readyz", case_public},
	{"GET", "/metrics", case_public},
	{"GET", "/v1/openapi.yaml", case_public},
	{"GET", "/dni.js", case_public},
	{"POST", "/v1/sessions", case_login},
	{"DELETE", "/v1/sessions/current", case_logout},
	{"GET", "/v1/me", case_me},
	{"GET", "/v1/accounts", case_list},
	{"POST", "/v1/accounts", case_create},
	{"GET", "/v1/accounts/{id}", case_get},
	{"PATCH", "/v1/accounts/{id}", case_patch},
	{"GET", "/v1/users", case_list},
	{"POST", "/v1/users", case_create},
	{"GET", "/v1/users/{id}", case_get},
	{"PATCH", "/v1/users/{id}", case_patch},
	{"GET", "/v1/memberships", case_list},
	{"POST", "/v1/memberships", case_create},
	{"GET", "/v1/memberships/{id}", case_get},
	{"PATCH", "/v1/memberships/{id}", case_patch},
	{"DELETE", "/v1/memberships/{id}", case_delete},
	{"GET", "/v1/api-keys", case_list},
	{"POST", "/v1/api-keys", case_create},
	{"GET", "/v1/api-keys/{id}", case_get},
	{"DELETE", "/v1/api-keys/{id}", case_delete},
	{"GET", "/v1/audit-log", case_list},
	{"GET", "/v1/numbers", case_list},
	{"POST", "/v1/numbers", case_create},
	{"POST", "/v1/numbers/import", case_import},
	{"GET", "/v1/numbers/{id}", case_get},
	{"PATCH", "/v1/numbers/{id}", case_patch},
	{"DELETE", "/v1/numbers/{id}", case_delete},
	{"GET", "/v1/calls", case_list},
	{"GET", "/v1/calls/{id}", case_get},
	{"GET", "/v1/calls/{id}/recording", case_get},
	{"DELETE", "/v1/calls/{id}/recording", case_delete},
	{"GET", "/v1/pools", case_list},
	{"POST", "/v1/pools", case_create},
	{"GET", "/v1/pools/{id}", case_get},
	{"PATCH", "/v1/pools/{id}", case_patch},
	{"DELETE", "/v1/pools/{id}", case_delete},
	{"GET", "/v1/pools/{id}/numbers", case_get},
	{"GET", "/v1/pools/{id}/health", case_get},
	{"POST", "/v1/accounts/{id}/site-key", case_site_key},
	{"POST", "/v1/dni/sessions", case_dni_public},
	{"POST", "/v1/dni/sessions/{id}/pageviews", case_dni_public},
	{"POST", "/v1/dni/sessions/{id}/heartbeat", case_dni_public},
	{"GET", "/v1/dni/sessions/{id}", case_dni_session_get},
	{"GET", "/v1/source-rules", case_list},
	{"POST", "/v1/source-rules", case_create},
	{"GET", "/v1/source-rules/{id}", case_get},
	{"PATCH", "/v1/source-rules/{id}", case_patch},
	{"DELETE", "/v1/source-rules/{id}", case_delete},
	{"GET", "/v1/flows", case_list},
	{"POST", "/v1/flows", case_create},
	{"POST", "/v1/flows/validate", case_validate},
	{"GET", "/v1/flows/{id}", case_get},
	{"PATCH", "/v1/flows/{id}", case_patch},
	{"DELETE", "/v1/flows/{id}", case_delete},
	{"GET", "/v1/flows/{id}/versions", case_get},
	{"POST", "/v1/flows/{id}/simulate", case_simulate},
	{"GET", "/v1/audio", case_list},
	{"POST", "/v1/audio", case_upload},
	{"GET", "/v1/audio/{id}", case_get},
	{"GET", "/v1/audio/{id}/file", case_get},
	{"DELETE", "/v1/audio/{id}", case_delete},
	{"GET", "/{path*}", case_public},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- the two tenants ---------------------------------------------------- */

static int64_t cli_account(const char *name)
{
	const char *argv[] = {"account", "create",	"--name", name, "--db",
			      W.srv.db,	 "--log-level", "warn",	  NULL};
	char *out = NULL, *err = NULL;
	long long id = 0;
	int rc = rt_test_cli(argv, NULL, NULL, &out, &err);
	const char *row = strchr(out, '\n');

	if (rc != 0 || !row || sscanf(row + 1, "%lld", &id) != 1 || id <= 0)
		fail_msg("ringtrail account create: exit %d: %s%s", rc, out,
			 err);
	free(out);
	free(err);
	return id;
}

static void cli_key(int64_t account, char *secret, size_t size)
{
	char acc[32];
	const char *argv[] = {"apikey", "create",      "--account",
			      acc,	"--scopes",    "read,write,admin",
			      "--name", "B admin",     "--db",
			      W.srv.db, "--log-level", "warn",
			      NULL};
	char *out = NULL, *err = NULL;
	int rc;

	snprintf(acc, sizeof(acc), "%lld", (long long)account);
	rc = rt_test_cli(argv, NULL, NULL, &out, &err);
	if (rc != 0 || !rt_test_line_value(out, "api key: ", secret, size))
		fail_msg("ringtrail apikey create: exit %d: %s%s", rc, out,
			 err);
	free(out);
	free(err);
}

static int setup(void **state)
{
	struct rt_test_resp r;
	json_t *item;
	size_t i;
	(void)state;

	memset(&W, 0, sizeof(W));
	rt_test_server_start(&W.srv, NULL, NULL);
	if (!W.srv.key[0] || !W.srv.account_id) {
		rt_test_server_stop(&W.srv);
		fail_msg("no bootstrap key or account");
	}

	/* Tenant A: one object of each kind. */
	W.a_root = W.srv.account_id;
	add_id(K_ACCOUNTS, W.a_root);
	W.a_child = post_id(W.srv.key, "/v1/accounts",
			    "{\"name\":\"A-Child-Marker\"}");
	add_id(K_ACCOUNTS, W.a_child);
	W.a_user = post_id(W.srv.key, "/v1/users",
			   "{\"email\":\"a-user-marker@tenant-a.example\","
			   "\"name\":\"A User Marker\",\"password\":\"correct "
			   "horse battery\",\"role\":\"admin\"}");
	add_id(K_USERS, W.a_user);
	add_id(K_MEMBERSHIPS,
	       post_id(W.srv.key, "/v1/memberships",
		       rt_test_fmt("{\"user_id\":%lld,\"account_id\":%lld,"
				   "\"role\":\"analyst\"}",
				   (long long)W.a_user, (long long)W.a_child)));
	rt_test_api(
		&W.srv, &r, W.srv.key, "POST", "/v1/api-keys",
		rt_test_fmt("{\"account_id\":%lld,\"name\":\"A Key Marker\","
			    "\"scopes\":[\"read\"]}",
			    (long long)W.a_child));
	RT_EXPECT_STATUS(&r, 201);
	W.a_key = rt_test_json_id(&r, "id");
	snprintf(W.a_key_secret, sizeof(W.a_key_secret), "%s",
		 json_string_value(json_object_get(r.json, "secret")));
	snprintf(W.a_key_prefix, sizeof(W.a_key_prefix), "%s",
		 json_string_value(json_object_get(r.json, "prefix")));
	rt_test_resp_free(&r);
	add_id(K_KEYS, W.a_key);
	add_id(K_KEYS, 1); /* the bootstrap key */

	/* Pools: one in A's root, one in A's client. */
	add_id(K_POOLS, post_id(W.srv.key, "/v1/pools",
				"{\"name\":\"A Pool Marker\","
				"\"swap_targets\":[\"+13125550170\"]}"));
	add_id(K_POOLS,
	       post_id(W.srv.key, "/v1/pools",
		       rt_test_fmt("{\"name\":\"A Pool Marker 2\","
				   "\"account_id\":%lld,\"swap_targets\":"
				   "[\"+13125550171\"]}",
				   (long long)W.a_child)));

	/* Numbers: one in A's root (in A's pool), one in A's client. */
	add_id(K_NUMBERS, post_id(W.srv.key, "/v1/numbers",
				  rt_test_fmt("{\"number\":\"+13125550180\","
					      "\"label\":\"A Number Marker\","
					      "\"pool_id\":%lld}",
					      (long long)W.ids[K_POOLS][0])));
	add_id(K_NUMBERS,
	       post_id(W.srv.key, "/v1/numbers",
		       rt_test_fmt(
			       "{\"number\":\"+13125550181\",\"account_id\":"
			       "%lld,\"kind\":\"offline\",\"campaign\":"
			       "\"A Campaign Marker\"}",
			       (long long)W.a_child)));

	/* Source rules: one in A's root (to A's pool), one in A's client. */
	add_id(K_SOURCE_RULES,
	       post_id(W.srv.key, "/v1/source-rules",
		       rt_test_fmt("{\"name\":\"A Rule Marker\",\"field\":"
				   "\"landing_page\",\"op\":\"prefix\","
				   "\"value\":\"/a\",\"source_label\":"
				   "\"a_source\",\"pool_id\":%lld}",
				   (long long)W.ids[K_POOLS][0])));
	add_id(K_SOURCE_RULES,
	       post_id(W.srv.key, "/v1/source-rules",
		       rt_test_fmt("{\"name\":\"A Rule Marker 2\","
				   "\"account_id\":%lld,\"field\":\"gclid\","
				   "\"op\":\"exists\",\"source_label\":"
				   "\"a_source\"}",
				   (long long)W.a_child)));

	/* Flows: one in A's root, one in A's client. */
	add_id(K_FLOWS,
	       post_id(W.srv.key, "/v1/flows",
		       "{\"name\":\"A Flow Marker\",\"flow\":" B_FLOW "}"));
	add_id(K_FLOWS,
	       post_id(W.srv.key, "/v1/flows",
		       rt_test_fmt("{\"name\":\"A Flow Marker 2\","
				   "\"account_id\":%lld,\"flow\":" B_FLOW "}",
				   (long long)W.a_child)));

	/* Audio files: one in A's root, one in A's client. */
	upload(W.srv.key, 0, "A%20Audio%20Marker", &r);
	RT_EXPECT_STATUS(&r, 201);
	add_id(K_AUDIO, rt_test_json_id(&r, "id"));
	rt_test_resp_free(&r);
	upload(W.srv.key, W.a_child, "A%20Audio%20Marker%202", &r);
	RT_EXPECT_STATUS(&r, 201);
	add_id(K_AUDIO, rt_test_json_id(&r, "id"));
	rt_test_resp_free(&r);

	/* Calls: one in A's root, one in A's client. */
	add_call(W.a_root);
	add_call(W.a_child);

	/* Everything A can see of users and memberships is A's. */
	rt_test_api(&W.srv, &r, W.srv.key, "GET", "/v1/users?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		int64_t id = json_integer_value(json_object_get(item, "id"));

		if (id != W.a_user) {
			W.a_admin = id;
			add_id(K_USERS, id);
		}
	}
	rt_test_resp_free(&r);
	assert_true(W.a_admin > 0);
	rt_test_api(&W.srv, &r, W.srv.key, "GET", "/v1/memberships?limit=200",
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		int64_t id = json_integer_value(json_object_get(item, "id"));

		if (!is_a_id(K_MEMBERSHIPS, id))
			add_id(K_MEMBERSHIPS, id);
	}
	rt_test_resp_free(&r);
	assert_true(W.nids[K_MEMBERSHIPS] >= 3);
	rt_test_api(&W.srv, &r, W.srv.key, "GET", "/v1/audit-log?limit=1",
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	add_id(K_AUDIT,
	       json_integer_value(json_object_get(
		       json_array_get(json_object_get(r.json, "data"), 0),
		       "id")));
	rt_test_resp_free(&r);

	/* Tenant B, made by the operator while the server runs. */
	W.b_root = cli_account("Other");
	cli_key(W.b_root, W.b_key, sizeof(W.b_key));
	assert_int_equal(strncmp(W.b_key, "rt_live_", 8), 0);
	W.b_user =
		post_id(W.b_key, "/v1/users",
			"{\"email\":\"b-user@tenant-b.example\",\"name\":\"B "
			"User\",\"password\":\"correct horse battery\","
			"\"role\":\"admin\"}");
	/* B's own pool and number, for the crossings of pool_crossings. */
	W.b_pool = post_id(W.b_key, "/v1/pools",
			   "{\"name\":\"B Pool\",\"swap_targets\":"
			   "[\"+13125550172\"]}");
	W.b_number = post_id(W.b_key, "/v1/numbers",
			     "{\"number\":\"+13125550173\"}");
	W.b_flow = post_id(W.b_key, "/v1/flows",
			   "{\"name\":\"B Flow\",\"flow\":" B_FLOW "}");
	W.b_rule = post_id(W.b_key, "/v1/source-rules",
			   "{\"name\":\"B Rule\",\"field\":\"source\","
			   "\"op\":\"equals\",\"value\":\"b\","
			   "\"source_label\":\"b\"}");

	/* A visit to A's site: it is shown A's pool number. */
	site_key_of(W.srv.key, W.a_root, W.a_site_key, sizeof(W.a_site_key));
	site_key_of(W.b_key, W.b_root, W.b_site_key, sizeof(W.b_site_key));
	rt_test_api(&W.srv, &r, NULL, "POST", "/v1/dni/sessions",
		    rt_test_fmt("{\"site_key\":\"%s\",\"landing_url\":"
				"\"https://a.example/\"}",
				W.a_site_key));
	RT_EXPECT_STATUS(&r, 201);
	W.a_session = strtoll(json_string_value(
				      json_object_get(r.json, "session_id")),
			      NULL, 10);
	assert_non_null(strstr(r.body, "+13125550180"));
	rt_test_resp_free(&r);

	for (int k = 0; k < K__N; k++)
		W.a_counts[k] = list_count(W.srv.key, kind_paths[k]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&W.srv);
}

/* ---- the tests ---------------------------------------------------------- */

static void test_every_route_has_a_case(void **state)
{
	size_t n = rt_http_route_count(), missing = 0;
	bool used[NCASES] = {false};
	(void)state;

	for (size_t i = 0; i < n; i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);
		size_t c;

		for (c = 0; c < NCASES; c++) {
			if (strcmp(cases[c].method, ri->method) == 0 &&
			    strcmp(cases[c].pattern, ri->pattern) == 0)
				break;
		}
		if (c == NCASES) {
			print_error(
				"route %s %s has no tenant-isolation case: add "
				"one to the cases[] of "
				"tests/integration/test_tenant.c\n",
				ri->method, ri->pattern);
			missing++;
			continue;
		}
		used[c] = true;
		/* Public routes are the only ones without a scope. */
		if (cases[c].fn == case_public || cases[c].fn == case_login ||
		    cases[c].fn == case_dni_public)
			assert_true(ri->flags & RT_ROUTE_PUBLIC);
		else
			assert_false(ri->flags & RT_ROUTE_PUBLIC);
	}
	for (size_t c = 0; c < NCASES; c++) {
		if (!used[c]) {
			print_error(
				"case %s %s matches no route of the table\n",
				cases[c].method, cases[c].pattern);
			missing++;
		}
	}
	if (missing)
		fail_msg("%zu routes or cases without a partner", missing);
}

static void test_b_cannot_reach_a(void **state)
{
	size_t n = rt_http_route_count();
	(void)state;

	for (size_t i = 0; i < n; i++) {
		const struct rt_http_route_info *ri = rt_http_route(i);

		for (size_t c = 0; c < NCASES; c++) {
			if (strcmp(cases[c].method, ri->method) == 0 &&
			    strcmp(cases[c].pattern, ri->pattern) == 0) {
				print_message("  %-6s %s\n", ri->method,
					      ri->pattern);
				cases[c].fn(ri);
				W.cases_run++;
			}
		}
	}
	assert_int_equal(W.cases_run, n);

	/* A is as it was: nothing added, nothing taken. */
	for (int k = 0; k < K__N; k++) {
		if (k == K_AUDIT)
			continue; /* it grows with A's own logins above */
		assert_int_equal(list_count(W.srv.key, kind_paths[k]),
				 W.a_counts[k]);
	}
	{
		struct rt_test_resp r;

		rt_test_api(&W.srv, &r, W.a_key_secret, "GET", "/v1/me", NULL);
		RT_EXPECT_STATUS(&r, 200);
		rt_test_resp_free(&r);
		rt_test_api(&W.srv, &r, W.srv.key, "GET",
			    "/v1/audit-log?limit=200", NULL);
		RT_EXPECT_STATUS(&r, 200);
		assert_null(strstr(r.body, "B child"));
		assert_null(strstr(r.body, "tenant-b.example"));
		rt_test_resp_free(&r);
	}
}

/* B's own objects work as usual: the denials above are isolation, not a
 * broken key. */
static void test_b_works_in_b(void **state)
{
	struct rt_test_resp r;
	int64_t child;
	(void)state;

	child = post_id(W.b_key, "/v1/accounts", "{\"name\":\"B Client\"}");
	rt_test_api(&W.srv, &r, W.b_key, "GET",
		    rt_test_fmt("/v1/accounts/%lld", (long long)child), NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&W.srv, &r, W.b_key, "GET", "/v1/accounts?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 2);
	rt_test_resp_free(&r);
	/* And A cannot see B either. */
	rt_test_api(&W.srv, &r, W.srv.key, "GET",
		    rt_test_fmt("/v1/accounts/%lld", (long long)child), NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&W.srv, &r, W.srv.key, "GET",
		    rt_test_fmt("/v1/users/%lld", (long long)W.b_user), NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_has_a_case),
		cmocka_unit_test(test_b_cannot_reach_a),
		cmocka_unit_test(test_b_works_in_b),
	};

	return cmocka_run_group_tests_name("tenant", tests, setup, teardown);
}
