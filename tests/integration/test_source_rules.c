/*
 * Custom source rules, from outside: a rule made with its defaults and with
 * every field, the rules of what a rule takes (bad fields, ops, values,
 * regexes, labels; pools of other accounts), the order kept 1..n as rules
 * are inserted, moved and deleted, paging in that order, the limit per
 * account, scopes, the audit log, and another tenant's key, which finds
 * nothing; and rules at work on real DNI sessions.
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
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

static const char *str(const struct rt_test_resp *r, const char *k)
{
	return json_string_value(json_object_get(r->json, k));
}

static int64_t num(const struct rt_test_resp *r, const char *k)
{
	return json_integer_value(json_object_get(r->json, k));
}

static int64_t post(const char *path, const char *body)
{
	struct rt_test_resp r;
	int64_t id;

	rt_test_api(&srv, &r, srv.key, "POST", path, body);
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	return id;
}

static void expect(const char *key, const char *method, const char *path,
		   const char *body, long status, const char *code,
		   const char *field)
{
	struct rt_test_resp r;

	rt_test_api(&srv, &r, key, method, path, body);
	if (r.status != status)
		fail_msg("%s %s %s: got %ld, want %ld: %s", method, path,
			 body ? body : "", r.status, status, r.body);
	if (code || field)
		RT_EXPECT_ERROR(&r, status, code, field);
	rt_test_resp_free(&r);
}

/* A rule body in account (0: the caller's) with name and extra fields. */
static const char *rule_body(int64_t account, const char *name,
			     const char *extra)
{
	return rt_test_fmt("{%s\"name\":\"%s\",\"field\":\"landing_page\","
			   "\"op\":\"prefix\",\"value\":\"/%s\","
			   "\"source_label\":\"src\"%s%s}",
			   account ? rt_test_fmt("\"account_id\":%lld,",
						 (long long)account)
				   : "",
			   name, name, extra ? "," : "", extra ? extra : "");
}

/* The names of an account's rules with their positions, "a:1 b:2". */
static const char *order(int64_t account)
{
	static char out[1024];
	struct rt_test_resp r;
	json_t *item;
	size_t i, len = 0;

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/source-rules?account_id=%lld&limit=200",
				(long long)account),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	out[0] = '\0';
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		len += (size_t)snprintf(out + len, sizeof(out) - len,
					"%s%s:%lld", len ? " " : "",
					json_string_value(
						json_object_get(item, "name")),
					(long long)json_integer_value(
						json_object_get(item,
								"position")));
		if (len >= sizeof(out))
			fail_msg("too many rules to show");
	}
	rt_test_resp_free(&r);
	return out;
}

static int64_t child_account(const char *name)
{
	return post("/v1/accounts", rt_test_fmt("{\"name\":\"%s\"}", name));
}

static int64_t pool_in(int64_t account, const char *name)
{
	return post("/v1/pools",
		    rt_test_fmt("{\"name\":\"%s\",\"account_id\":%lld,"
				"\"sources\":\"rule\",\"swap_targets\":"
				"[\"+13125550100\"]}",
				name, (long long)account));
}

static void test_create_and_defaults(void **state)
{
	struct rt_test_resp r;
	int64_t id, pool;
	(void)state;

	/* The fewest fields: the caller's account, last, active, case
	 * ignored, no medium, no pool. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/source-rules",
		    "{\"name\":\"Radio ad\",\"field\":\"landing_page\",\"op\":"
		    "\"prefix\",\"value\":\"/radio\",\"source_label\":"
		    "\"radio\"}");
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	assert_int_equal(num(&r, "account_id"), srv.account_id);
	assert_int_equal(num(&r, "position"), 1);
	assert_string_equal(str(&r, "name"), "Radio ad");
	assert_string_equal(str(&r, "field"), "landing_page");
	assert_string_equal(str(&r, "op"), "prefix");
	assert_string_equal(str(&r, "value"), "/radio");
	assert_true(json_is_false(json_object_get(r.json, "case_sensitive")));
	assert_string_equal(str(&r, "source_label"), "radio");
	assert_true(json_is_null(json_object_get(r.json, "medium_label")));
	assert_true(json_is_null(json_object_get(r.json, "pool_id")));
	assert_string_equal(str(&r, "status"), "active");
	assert_non_null(str(&r, "created_at"));
	assert_non_null(str(&r, "updated_at"));
	rt_test_resp_free(&r);

	/* Every field. */
	pool = pool_in(srv.account_id, "Partner pool");
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/source-rules",
		    rt_test_fmt("{\"name\":\"Partner\",\"account_id\":%lld,"
				"\"field\":\"referrer_host\",\"op\":\"regex\","
				"\"value\":\"(^|\\\\.)partner\\\\.com$\","
				"\"case_sensitive\":true,\"source_label\":"
				"\"partner\",\"medium_label\":\"referral\","
				"\"pool_id\":%lld,\"position\":1,\"status\":"
				"\"inactive\"}",
				(long long)srv.account_id, (long long)pool));
	RT_EXPECT_STATUS(&r, 201);
	assert_int_equal(num(&r, "position"), 1);
	assert_string_equal(str(&r, "value"), "(^|\\.)partner\\.com$");
	assert_true(json_is_true(json_object_get(r.json, "case_sensitive")));
	assert_string_equal(str(&r, "medium_label"), "referral");
	assert_int_equal(num(&r, "pool_id"), pool);
	assert_string_equal(str(&r, "status"), "inactive");
	rt_test_resp_free(&r);

	/* exists takes no value. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/source-rules",
		    "{\"name\":\"Ads\",\"field\":\"gclid\",\"op\":\"exists\","
		    "\"source_label\":\"google\",\"medium_label\":\"cpc\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_true(json_is_null(json_object_get(r.json, "value")));
	assert_int_equal(num(&r, "position"), 3);
	rt_test_resp_free(&r);

	/* The first rule moved down one when the second went first. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/source-rules/%lld", (long long)id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(num(&r, "position"), 2);
	rt_test_resp_free(&r);
	expect(srv.key, "GET", "/v1/source-rules/999999", NULL, 404,
	       "not_found", NULL);
}

static void test_validation(void **state)
{
	int64_t client = child_account("Rules Client");
	int64_t client_pool = pool_in(client, "Client pool");
	const struct {
		const char *body;
		long status;
		const char *field;
	} bad[] = {
		{"{\"field\":\"source\",\"op\":\"equals\",\"value\":\"x\","
		 "\"source_label\":\"y\"}",
		 400, "name"},
		{"{\"name\":\"R\",\"op\":\"equals\",\"value\":\"x\","
		 "\"source_label\":\"y\"}",
		 400, "field"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\"}",
		 400, "source_label"},
		{"{\"name\":\"R\",\"field\":\"utm_source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\"}",
		 422, "field"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"matches\","
		 "\"value\":\"x\",\"source_label\":\"y\"}",
		 422, "op"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"\",\"source_label\":\"y\"}",
		 422, "value"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"exists\","
		 "\"value\":\"x\",\"source_label\":\"y\"}",
		 422, "value"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"regex\","
		 "\"value\":\"((a{99}){99}){99}\",\"source_label\":\"y\"}",
		 422, "value"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"regex\","
		 "\"value\":\"(a)\\\\1\",\"source_label\":\"y\"}",
		 422, "value"},
		{"{\"name\":\"\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\"}",
		 422, "name"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"\"}",
		 422, "source_label"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\",\"status\":\"on\"}",
		 422, "status"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\",\"position\":0}",
		 422, "position"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\",\"pool_id\":0}",
		 400, "pool_id"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\",\"case_sensitive\":1}",
		 400, "case_sensitive"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\",\"account_id\":"
		 "999999}",
		 404, "account_id"},
		{"{\"name\":\"R\",\"field\":\"source\",\"op\":\"equals\","
		 "\"value\":\"x\",\"source_label\":\"y\",\"pool_id\":999999}",
		 404, "pool_id"},
		/* A pool of another account, even one below the caller's. */
		{rt_test_fmt("{\"name\":\"R\",\"field\":\"source\",\"op\":"
			     "\"equals\",\"value\":\"x\",\"source_label\":"
			     "\"y\",\"pool_id\":%lld}",
			     (long long)client_pool),
		 422, "pool_id"},
	};
	struct rt_test_resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(srv.key, "POST", "/v1/source-rules", bad[i].body,
		       bad[i].status, NULL, bad[i].field);

	/* A bad pattern is refused with regcomp's reason. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/source-rules",
		    "{\"name\":\"R\",\"field\":\"landing_url\",\"op\":"
		    "\"regex\",\"value\":\"(unclosed\",\"source_label\":"
		    "\"y\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "value");
	assert_non_null(strstr(r.body, "not a valid regular expression"));
	assert_non_null(strstr(r.body, "("));
	rt_test_resp_free(&r);

	/* The client's own pool is fine for the client's rule. */
	post("/v1/source-rules",
	     rule_body(client, "c",
		       rt_test_fmt("\"pool_id\":%lld",
				   (long long)client_pool)));
}

static void test_order_and_paging(void **state)
{
	int64_t acc = child_account("Order Client");
	int64_t a, b, c, d;
	struct rt_test_resp r;
	char cursor[64];
	(void)state;

	a = post("/v1/source-rules", rule_body(acc, "a", NULL));
	b = post("/v1/source-rules", rule_body(acc, "b", NULL));
	c = post("/v1/source-rules", rule_body(acc, "c", "\"position\":99"));
	assert_string_equal(order(acc), "a:1 b:2 c:3");
	d = post("/v1/source-rules", rule_body(acc, "d", "\"position\":2"));
	assert_string_equal(order(acc), "a:1 d:2 b:3 c:4");

	/* Moved last, then first. */
	expect(srv.key, "PATCH",
	       rt_test_fmt("/v1/source-rules/%lld", (long long)a),
	       "{\"position\":4}", 200, NULL, NULL);
	assert_string_equal(order(acc), "d:1 b:2 c:3 a:4");
	expect(srv.key, "PATCH",
	       rt_test_fmt("/v1/source-rules/%lld", (long long)c),
	       "{\"position\":1}", 200, NULL, NULL);
	assert_string_equal(order(acc), "c:1 d:2 b:3 a:4");

	/* Pages follow the order. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/source-rules?account_id=%lld&limit=2",
				(long long)acc),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 2);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r.json, "data"),
						1),
				 "id")),
			 d);
	snprintf(cursor, sizeof(cursor), "%s",
		 json_string_value(json_object_get(r.json, "next_cursor")));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/source-rules?account_id=%lld&limit=2&"
				"cursor=%s",
				(long long)acc, cursor),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r.json, "data"),
						0),
				 "id")),
			 b);
	assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
	rt_test_resp_free(&r);

	/* Deleted: 204, the rest close up, and a cursor naming the deleted
	 * rule says so. */
	expect(srv.key, "DELETE",
	       rt_test_fmt("/v1/source-rules/%lld", (long long)d), NULL, 204,
	       NULL, NULL);
	assert_string_equal(order(acc), "c:1 b:2 a:3");
	expect(srv.key, "DELETE",
	       rt_test_fmt("/v1/source-rules/%lld", (long long)d), NULL, 404,
	       "not_found", NULL);
	expect(srv.key, "GET",
	       rt_test_fmt("/v1/source-rules?account_id=%lld&cursor=%s",
			   (long long)acc, cursor),
	       NULL, 400, "invalid_parameter", "cursor");
	expect(srv.key, "GET", "/v1/source-rules?account_id=0", NULL, 400,
	       "invalid_parameter", "account_id");
}

static void test_update(void **state)
{
	int64_t acc = child_account("Update Client");
	int64_t pool = pool_in(acc, "Update pool");
	int64_t other = pool_in(srv.account_id, "Not the client's");
	struct rt_test_resp r;
	char path[64];
	int64_t id;
	(void)state;

	id = post("/v1/source-rules", rule_body(acc, "u", NULL));
	snprintf(path, sizeof(path), "/v1/source-rules/%lld", (long long)id);

	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    rt_test_fmt("{\"name\":\"Renamed\",\"op\":\"contains\","
				"\"value\":\"Spring\",\"field\":\"campaign\","
				"\"case_sensitive\":true,\"medium_label\":"
				"\"email\",\"pool_id\":%lld}",
				(long long)pool));
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "name"), "Renamed");
	assert_string_equal(str(&r, "field"), "campaign");
	assert_string_equal(str(&r, "op"), "contains");
	assert_string_equal(str(&r, "value"), "Spring");
	assert_true(json_is_true(json_object_get(r.json, "case_sensitive")));
	assert_string_equal(str(&r, "medium_label"), "email");
	assert_string_equal(str(&r, "source_label"), "src");
	assert_int_equal(num(&r, "pool_id"), pool);
	assert_int_equal(num(&r, "account_id"), acc);
	rt_test_resp_free(&r);

	/* Checked as a whole: exists with the value left in place is
	 * refused; with value null it is fine. */
	expect(srv.key, "PATCH", path, "{\"op\":\"exists\"}", 422,
	       "invalid_field", "value");
	expect(srv.key, "PATCH", path, "{\"op\":\"exists\",\"value\":null}",
	       200, NULL, NULL);
	expect(srv.key, "PATCH", path,
	       "{\"op\":\"regex\",\"value\":\"[unclosed\"}", 422,
	       "invalid_field", "value");
	expect(srv.key, "PATCH", path, "{\"field\":\"nope\"}", 422,
	       "invalid_field", "field");
	expect(srv.key, "PATCH", path,
	       rt_test_fmt("{\"pool_id\":%lld}", (long long)other), 422,
	       "invalid_field", "pool_id");
	expect(srv.key, "PATCH", path, "{\"pool_id\":999999}", 404, "not_found",
	       "pool_id");
	expect(srv.key, "PATCH", path, "{\"account_id\":1}", 400, NULL,
	       "account_id");
	expect(srv.key, "PATCH", path, "{}", 400, "missing_field", NULL);
	expect(srv.key, "PATCH", "/v1/source-rules/999999", "{\"name\":\"X\"}",
	       404, "not_found", NULL);

	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"pool_id\":null,\"medium_label\":null,\"status\":"
		    "\"inactive\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(json_object_get(r.json, "pool_id")));
	assert_true(json_is_null(json_object_get(r.json, "medium_label")));
	assert_string_equal(str(&r, "status"), "inactive");
	assert_string_equal(str(&r, "op"), "exists");
	rt_test_resp_free(&r);
}

static void test_limit(void **state)
{
	int64_t acc = child_account("Many Rules");
	(void)state;

	for (int i = 0; i < 200; i++)
		post("/v1/source-rules", rule_body(acc, "m", NULL));
	expect(srv.key, "POST", "/v1/source-rules", rule_body(acc, "m", NULL),
	       409, "limit_reached", NULL);
}

static void test_scopes_and_audit(void **state)
{
	struct rt_test_resp r;
	char reader[128], path[64];
	int64_t id;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/api-keys",
		    "{\"scopes\":[\"read\"]}");
	RT_EXPECT_STATUS(&r, 201);
	snprintf(reader, sizeof(reader), "%s", str(&r, "secret"));
	rt_test_resp_free(&r);
	id = post("/v1/source-rules", rule_body(0, "audited", NULL));
	snprintf(path, sizeof(path), "/v1/source-rules/%lld", (long long)id);

	expect(reader, "GET", "/v1/source-rules", NULL, 200, NULL, NULL);
	expect(reader, "GET", path, NULL, 200, NULL, NULL);
	expect(reader, "POST", "/v1/source-rules", rule_body(0, "no", NULL),
	       403, "insufficient_scope", NULL);
	expect(reader, "PATCH", path, "{\"name\":\"No\"}", 403,
	       "insufficient_scope", NULL);
	expect(reader, "DELETE", path, NULL, 403, "insufficient_scope", NULL);

	expect(srv.key, "PATCH", path, "{\"name\":\"Audited rule\"}", 200, NULL,
	       NULL);
	expect(srv.key, "DELETE", path, NULL, 204, NULL, NULL);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/audit-log?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(strstr(r.body, "\"source_rule.create\""));
	assert_non_null(strstr(r.body, "\"source_rule.update\""));
	assert_non_null(strstr(r.body, "\"source_rule.delete\""));
	assert_non_null(strstr(r.body, "Audited rule"));
	rt_test_resp_free(&r);
}

/* Another tenant, made by the operator: its key finds none of A's rules
 * and cannot make one in A's accounts or with A's pool. */
static void test_other_tenant(void **state)
{
	const char *acc_argv[] = {"account", "create", "--name", "Tenant B",
				  "--db",    srv.db,   NULL};
	char *out = NULL, *err = NULL, bkey[128], acc[32];
	long long b = 0;
	struct rt_test_resp r;
	int64_t id, pool;
	const char *row;
	(void)state;

	assert_int_equal(rt_test_cli(acc_argv, NULL, NULL, &out, &err), 0);
	row = strchr(out, '\n');
	assert_non_null(row);
	assert_int_equal(sscanf(row + 1, "%lld", &b), 1);
	free(out);
	free(err);
	snprintf(acc, sizeof(acc), "%lld", b);
	{
		const char *key_argv[] = {"apikey", "create",	"--account",
					  acc,	    "--scopes", "read,write",
					  "--db",   srv.db,	NULL};

		assert_int_equal(rt_test_cli(key_argv, NULL, NULL, &out, &err),
				 0);
		assert_non_null(rt_test_line_value(out, "api key: ", bkey,
						   sizeof(bkey)));
		free(out);
		free(err);
	}

	id = post("/v1/source-rules", rule_body(0, "tenant-a-only", NULL));
	pool = pool_in(srv.account_id, "A's pool");
	expect(bkey, "GET", rt_test_fmt("/v1/source-rules/%lld", (long long)id),
	       NULL, 404, "not_found", NULL);
	expect(bkey, "PATCH",
	       rt_test_fmt("/v1/source-rules/%lld", (long long)id),
	       "{\"name\":\"Taken\"}", 404, "not_found", NULL);
	expect(bkey, "DELETE",
	       rt_test_fmt("/v1/source-rules/%lld", (long long)id), NULL, 404,
	       "not_found", NULL);
	expect(bkey, "POST", "/v1/source-rules",
	       rule_body(srv.account_id, "into-a", NULL), 404, "not_found",
	       "account_id");
	expect(bkey, "POST", "/v1/source-rules",
	       rule_body(0, "to-a-pool",
			 rt_test_fmt("\"pool_id\":%lld", (long long)pool)),
	       404, "not_found", "pool_id");
	rt_test_api(&srv, &r, bkey, "GET",
		    rt_test_fmt("/v1/source-rules?account_id=%lld",
				(long long)srv.account_id),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, bkey, "GET", "/v1/source-rules", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_null(strstr(r.body, "tenant-a-only"));
	rt_test_resp_free(&r);

	/* B's own rule works, and starts B's own order at 1. */
	rt_test_api(&srv, &r, bkey, "POST", "/v1/source-rules",
		    rule_body(0, "b", NULL));
	RT_EXPECT_STATUS(&r, 201);
	assert_int_equal(num(&r, "account_id"), b);
	assert_int_equal(num(&r, "position"), 1);
	rt_test_resp_free(&r);
	/* A's rule is as it was. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/source-rules/%lld", (long long)id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "name"), "tenant-a-only");
	rt_test_resp_free(&r);
}

/* A page view of an account's site: the number the page is shown (its
 * first swap), the source and the channel. */
static void visit(const char *site_key, const char *url, char *number,
		  char *source, char *channel)
{
	struct rt_test_resp r;
	json_t *swap, *src;

	rt_test_api(&srv, &r, NULL, "POST", "/v1/dni/sessions",
		    rt_test_fmt("{\"site_key\":\"%s\",\"landing_url\":"
				"\"%s\"}",
				site_key, url));
	RT_EXPECT_STATUS(&r, 201);
	swap = json_array_get(json_object_get(r.json, "numbers"), 0);
	src = json_object_get(r.json, "source");
	snprintf(number, 20, "%s",
		 swap ? json_string_value(json_object_get(swap, "number"))
		      : "");
	snprintf(source, 64, "%s",
		 json_string_value(json_object_get(src, "source")));
	snprintf(channel, 64, "%s",
		 json_string_value(json_object_get(src, "channel")));
	rt_test_resp_free(&r);
}

/*
 * Rules on the visit path: a rule's pool beats the pool for the kind of
 * traffic, a pool for "rule" serves only rules, a rule without a pool
 * relabels the visit (which then finds the pool for its new kind), and a
 * rule made, switched off or deleted counts from the next visit on.
 */
static void test_rules_pick_pools(void **state)
{
	int64_t acc = child_account("Rules at work");
	int64_t all, radio, paid, rule;
	char key[64], number[20], source[64], channel[64];
	struct rt_test_resp r;

	(void)state;
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/accounts/%lld", (long long)acc), NULL);
	RT_EXPECT_STATUS(&r, 200);
	snprintf(key, sizeof(key), "%s", str(&r, "site_key"));
	rt_test_resp_free(&r);

	all = post("/v1/pools",
		   rt_test_fmt("{\"account_id\":%lld,\"name\":\"Site\","
			       "\"swap_targets\":[\"+13125550100\"]}",
			       (long long)acc));
	radio = post("/v1/pools",
		     rt_test_fmt("{\"account_id\":%lld,\"name\":\"Radio\","
				 "\"sources\":\"rule\",\"swap_targets\":"
				 "[\"+13125550100\"]}",
				 (long long)acc));
	paid = post("/v1/pools",
		    rt_test_fmt("{\"account_id\":%lld,\"name\":\"Paid\","
				"\"sources\":\"paid_search\","
				"\"swap_targets\":[\"+13125550100\"]}",
				(long long)acc));
	post("/v1/numbers",
	     rt_test_fmt("{\"account_id\":%lld,\"number\":\"+13125550111\","
			 "\"pool_id\":%lld}",
			 (long long)acc, (long long)all));
	post("/v1/numbers",
	     rt_test_fmt("{\"account_id\":%lld,\"number\":\"+13125550122\","
			 "\"pool_id\":%lld}",
			 (long long)acc, (long long)radio));
	post("/v1/numbers",
	     rt_test_fmt("{\"account_id\":%lld,\"number\":\"+13125550133\","
			 "\"pool_id\":%lld}",
			 (long long)acc, (long long)paid));

	/* No rule yet: the radio page is a direct visit, site pool. */
	visit(key, "https://rules.example/radio", number, source, channel);
	assert_string_equal(number, "+13125550111");
	assert_string_equal(channel, "Direct");

	rule = post("/v1/source-rules",
		    rt_test_fmt("{\"account_id\":%lld,\"name\":\"Radio ad\","
				"\"field\":\"landing_page\",\"op\":"
				"\"prefix\",\"value\":\"/radio\","
				"\"source_label\":\"radio\",\"medium_label\":"
				"\"audio\",\"pool_id\":%lld}",
				(long long)acc, (long long)radio));
	visit(key, "https://rules.example/radio?x=1", number, source, channel);
	assert_string_equal(number, "+13125550122");
	assert_string_equal(source, "radio");
	assert_string_equal(channel, "Audio");
	/* Other pages still get the site pool: "rule" pools serve rules. */
	visit(key, "https://rules.example/", number, source, channel);
	assert_string_equal(number, "+13125550111");
	/* Even a paid click to the radio page: the rule's pool wins. */
	visit(key, "https://rules.example/radio?gclid=abc", number, source,
	      channel);
	assert_string_equal(number, "+13125550122");
	assert_string_equal(source, "radio");

	/* A rule without a pool relabels: newsletter links named "ppc" go
	 * to the paid search pool, as google / cpc. */
	post("/v1/source-rules",
	     rt_test_fmt("{\"account_id\":%lld,\"name\":\"PPC\","
			 "\"field\":\"landing_url\",\"op\":\"contains\","
			 "\"value\":\"ref=PPC\",\"source_label\":\"google\","
			 "\"medium_label\":\"cpc\"}",
			 (long long)acc));
	visit(key, "https://rules.example/offer?ref=ppc", number, source,
	      channel);
	assert_string_equal(source, "google");
	assert_string_equal(channel, "Paid Search");
	assert_string_equal(number, "+13125550133");

	/* Switched off, the radio rule no longer applies. */
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/source-rules/%lld", (long long)rule),
		    "{\"status\":\"inactive\"}");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	visit(key, "https://rules.example/radio", number, source, channel);
	assert_string_equal(number, "+13125550111");
	assert_string_equal(channel, "Direct");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_defaults),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_order_and_paging),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_scopes_and_audit),
		cmocka_unit_test(test_other_tenant),
		/* Last: its 200 entries would push the others off the first
		 * page of the audit log. */
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_rules_pick_pools),
	};

	return cmocka_run_group_tests_name("source_rules", tests, setup,
					   teardown);
}
