/*
 * Number pools, from outside: a pool made with its defaults and with every
 * field, the rules of what a pool takes, numbers put in and taken out of a
 * pool (only pool numbers, only of the pool's own account), the pool's
 * numbers listed a page at a time, deactivation that keeps the numbers,
 * scopes, the audit log and the CLI's pool column.
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

static void expect(const char *method, const char *path, const char *body,
		   long status, const char *code, const char *field)
{
	struct rt_test_resp r;

	rt_test_api(&srv, &r, srv.key, method, path, body);
	if (code)
		RT_EXPECT_ERROR(&r, status, code, field);
	else
		RT_EXPECT_STATUS(&r, status);
	rt_test_resp_free(&r);
}

static void test_create_and_defaults(void **state)
{
	struct rt_test_resp r;
	json_t *t;
	int64_t id;
	(void)state;

	/* Swap targets as people write them become E.164; the rest takes
	 * the defaults. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/pools",
		    "{\"name\":\"Main site\",\"swap_targets\":"
		    "[\"(312) 555-0100\",\"+1 312 555 0101\"]}");
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	assert_int_equal(num(&r, "account_id"), srv.account_id);
	assert_string_equal(str(&r, "name"), "Main site");
	t = json_object_get(r.json, "swap_targets");
	assert_int_equal(json_array_size(t), 2);
	assert_string_equal(json_string_value(json_array_get(t, 0)),
			    "+13125550100");
	assert_string_equal(json_string_value(json_array_get(t, 1)),
			    "+13125550101");
	assert_string_equal(str(&r, "sources"), "all");
	assert_int_equal(num(&r, "session_ttl_seconds"), 1800);
	assert_int_equal(num(&r, "cooldown_seconds"), 300);
	assert_string_equal(str(&r, "policy"), "least_recently_released");
	assert_string_equal(str(&r, "on_exhausted"), "share_least_recent");
	assert_string_equal(str(&r, "keyword_param"), "keyword");
	assert_string_equal(str(&r, "ad_group_param"), "adgroupid");
	assert_string_equal(str(&r, "campaign_param"), "campaignid");
	assert_string_equal(str(&r, "matchtype_param"), "matchtype");
	assert_string_equal(str(&r, "network_param"), "network");
	assert_string_equal(str(&r, "device_param"), "device");
	assert_string_equal(str(&r, "status"), "active");
	assert_int_equal(num(&r, "number_count"), 0);
	assert_non_null(str(&r, "created_at"));
	rt_test_resp_free(&r);

	/* Every field, a UK target read for its country. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/pools",
		    "{\"name\":\"Paid UK\",\"swap_targets\":[\"020 7946 "
		    "0958\"],\"country\":\"GB\",\"sources\":\"paid_search\","
		    "\"session_ttl_seconds\":600,\"cooldown_seconds\":0,"
		    "\"keyword_param\":\"kw\",\"device_param\":\"dev_type\","
		    "\"status\":\"inactive\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(r.json, "swap_targets"),
				    0)),
			    "+442079460958");
	assert_string_equal(str(&r, "sources"), "paid_search");
	assert_int_equal(num(&r, "session_ttl_seconds"), 600);
	assert_int_equal(num(&r, "cooldown_seconds"), 0);
	assert_string_equal(str(&r, "keyword_param"), "kw");
	assert_string_equal(str(&r, "device_param"), "dev_type");
	assert_string_equal(str(&r, "status"), "inactive");
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/pools/%lld", (long long)id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "name"), "Main site");
	rt_test_resp_free(&r);
	expect("GET", "/v1/pools/999999", NULL, 404, "not_found", NULL);
}

#define TWENTY                                                                 \
	"\"+13125550100\",\"+13125550101\",\"+13125550102\",\"+13125550103\"," \
	"\"+13125550104\",\"+13125550105\",\"+13125550106\",\"+13125550107\"," \
	"\"+13125550108\",\"+13125550109\",\"+13125550110\",\"+13125550111\"," \
	"\"+13125550112\",\"+13125550113\",\"+13125550114\",\"+13125550115\"," \
	"\"+13125550116\",\"+13125550117\",\"+13125550118\",\"+13125550119\""

static void test_rules(void **state)
{
	static const struct {
		const char *body;
		long status;
		const char *field;
	} bad[] = {
		{"{\"swap_targets\":[\"+13125550100\"]}", 400, "name"},
		{"{\"name\":\"P\"}", 400, "swap_targets"},
		{"{\"name\":\"\",\"swap_targets\":[\"+13125550100\"]}", 422,
		 "name"},
		{"{\"name\":\"P\",\"swap_targets\":[]}", 422, "swap_targets"},
		{"{\"name\":\"P\",\"swap_targets\":[\"call us\"]}", 422,
		 "swap_targets"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\","
		 "\"(312) 555-0100\"]}",
		 422, "swap_targets"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"sources\":\"tv\"}",
		 422, "sources"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"session_ttl_seconds\":59}",
		 422, "session_ttl_seconds"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"session_ttl_seconds\":86401}",
		 422, "session_ttl_seconds"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"cooldown_seconds\":-1}",
		 422, "cooldown_seconds"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"cooldown_seconds\":9223372036854775807}",
		 422, "cooldown_seconds"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"policy\":\"random\"}",
		 422, "policy"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"on_exhausted\":\"fail\"}",
		 422, "on_exhausted"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"keyword_param\":\"a b\"}",
		 422, "keyword_param"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"status\":\"deleted\"}",
		 422, "status"},
		{"{\"name\":\"P\",\"swap_targets\":[\"+13125550100\"],"
		 "\"account_id\":999999}",
		 404, "account_id"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rt_test_resp r;

		rt_test_api(&srv, &r, srv.key, "POST", "/v1/pools",
			    bad[i].body);
		if (r.status != bad[i].status)
			fail_msg("%s: got %ld, want %ld: %s", bad[i].body,
				 r.status, bad[i].status, r.body);
		RT_EXPECT_ERROR(&r, bad[i].status, NULL, bad[i].field);
		rt_test_resp_free(&r);
	}
	/* Twenty targets is the most. */
	post("/v1/pools", "{\"name\":\"P\",\"swap_targets\":[" TWENTY "]}");
	expect("POST", "/v1/pools",
	       "{\"name\":\"P\",\"swap_targets\":[" TWENTY
	       ",\"+13125550120\"]}",
	       400, "invalid_field", "swap_targets");
}

static void test_update_and_deactivate(void **state)
{
	struct rt_test_resp r;
	int64_t id, n;
	char path[64];
	(void)state;

	id = post("/v1/pools", "{\"name\":\"Before\",\"swap_targets\":"
			       "[\"+13125550130\"]}");
	snprintf(path, sizeof(path), "/v1/pools/%lld", (long long)id);
	n = post("/v1/numbers",
		 rt_test_fmt("{\"number\":\"+13125550131\",\"pool_id\":%lld}",
			     (long long)id));

	/* A change is checked as a whole; the targets are kept unless
	 * sent. */
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"name\":\"After\",\"session_ttl_seconds\":3600,"
		    "\"network_param\":\"net\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "name"), "After");
	assert_int_equal(num(&r, "session_ttl_seconds"), 3600);
	assert_string_equal(str(&r, "network_param"), "net");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(r.json, "swap_targets"),
				    0)),
			    "+13125550130");
	assert_int_equal(num(&r, "number_count"), 1);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"swap_targets\":[\"312-555-0132\",\"312-555-0133\"]}");
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(
				 json_object_get(r.json, "swap_targets")),
			 2);
	assert_string_equal(str(&r, "name"), "After");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"cooldown_seconds\":90000}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "cooldown_seconds");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path, "{\"account_id\":1}");
	RT_EXPECT_ERROR(&r, 400, NULL, "account_id");
	rt_test_resp_free(&r);
	expect("PATCH", "/v1/pools/999999", "{\"name\":\"X\"}", 404,
	       "not_found", NULL);

	/* DELETE turns the pool off; its numbers stay in it, and a PATCH
	 * turns it on again. */
	rt_test_api(&srv, &r, srv.key, "DELETE", path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "status"), "inactive");
	assert_int_equal(num(&r, "number_count"), 1);
	rt_test_resp_free(&r);
	expect("DELETE", path, NULL, 200, NULL, NULL);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/numbers/%lld", (long long)n), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(num(&r, "pool_id"), id);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"status\":\"active\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "status"), "active");
	rt_test_resp_free(&r);
	expect("DELETE", "/v1/pools/999999", NULL, 404, "not_found", NULL);
}

static void test_numbers_in_pools(void **state)
{
	struct rt_test_resp r;
	int64_t pool, other, child, child_pool, a, b, src, cn;
	char pool_path[64];
	(void)state;

	pool = post("/v1/pools", "{\"name\":\"Numbers\",\"swap_targets\":"
				 "[\"+13125550140\"]}");
	other = post("/v1/pools", "{\"name\":\"Other\",\"swap_targets\":"
				  "[\"+13125550140\"]}");
	snprintf(pool_path, sizeof(pool_path), "/v1/pools/%lld",
		 (long long)pool);
	child = post("/v1/accounts", "{\"name\":\"Pool Client\"}");
	child_pool = post(
		"/v1/pools",
		rt_test_fmt("{\"name\":\"Client pool\",\"account_id\":%lld,"
			    "\"swap_targets\":[\"+13125550140\"]}",
			    (long long)child));

	/* Into a pool when made, and later with PATCH. */
	rt_test_api(
		&srv, &r, srv.key, "POST", "/v1/numbers",
		rt_test_fmt("{\"number\":\"+13125550141\",\"pool_id\":%lld}",
			    (long long)pool));
	RT_EXPECT_STATUS(&r, 201);
	a = rt_test_json_id(&r, "id");
	assert_int_equal(num(&r, "pool_id"), pool);
	rt_test_resp_free(&r);
	b = post("/v1/numbers", "{\"number\":\"+13125550142\"}");
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/numbers/%lld", (long long)b), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(json_object_get(r.json, "pool_id")));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/numbers/%lld", (long long)b),
		    rt_test_fmt("{\"pool_id\":%lld}", (long long)pool));
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(num(&r, "pool_id"), pool);
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "GET", pool_path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(num(&r, "number_count"), 2);
	rt_test_resp_free(&r);

	/* The pool's numbers, a page at a time. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("%s/numbers?limit=1", pool_path), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r.json, "data"),
						0),
				 "id")),
			 a);
	assert_true(json_is_string(json_object_get(r.json, "next_cursor")));
	{
		const char *cursor =
			rt_test_fmt("%s",
				    json_string_value(
					    json_object_get(r.json,
							    "next_cursor")));

		rt_test_resp_free(&r);
		rt_test_api(&srv, &r, srv.key, "GET",
			    rt_test_fmt("%s/numbers?limit=1&cursor=%s",
					pool_path, cursor),
			    NULL);
	}
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r.json, "data"),
						0),
				 "id")),
			 b);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/pools/%lld/numbers", (long long)other),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
	rt_test_resp_free(&r);
	expect("GET", "/v1/pools/999999/numbers", NULL, 404, "not_found", NULL);

	/* Only numbers of kind pool. */
	expect("POST", "/v1/numbers",
	       rt_test_fmt("{\"number\":\"+13125550143\",\"kind\":\"source\","
			   "\"source\":\"google\",\"pool_id\":%lld}",
			   (long long)pool),
	       422, "invalid_field", "pool_id");
	src = post("/v1/numbers", "{\"number\":\"+13125550144\",\"kind\":"
				  "\"source\",\"source\":\"google\"}");
	expect("PATCH", rt_test_fmt("/v1/numbers/%lld", (long long)src),
	       rt_test_fmt("{\"pool_id\":%lld}", (long long)pool), 422,
	       "invalid_field", "pool_id");
	/* A number in a pool cannot change kind without leaving it. */
	expect("PATCH", rt_test_fmt("/v1/numbers/%lld", (long long)a),
	       "{\"kind\":\"source\",\"source\":\"bing\"}", 422,
	       "invalid_field", "pool_id");

	/* Only the pool's own account's numbers, even within the tree. */
	expect("PATCH", rt_test_fmt("/v1/numbers/%lld", (long long)a),
	       rt_test_fmt("{\"pool_id\":%lld}", (long long)child_pool), 422,
	       "invalid_field", "pool_id");
	expect("POST", "/v1/numbers",
	       rt_test_fmt("{\"number\":\"+13125550145\",\"account_id\":%lld,"
			   "\"pool_id\":%lld}",
			   (long long)child, (long long)pool),
	       422, "invalid_field", "pool_id");
	cn = post("/v1/numbers",
		  rt_test_fmt("{\"number\":\"+13125550146\",\"account_id\":"
			      "%lld,\"pool_id\":%lld}",
			      (long long)child, (long long)child_pool));
	assert_true(cn > 0);

	/* No such pool, a bad id. */
	expect("PATCH", rt_test_fmt("/v1/numbers/%lld", (long long)b),
	       "{\"pool_id\":999999}", 404, "not_found", "pool_id");
	expect("PATCH", rt_test_fmt("/v1/numbers/%lld", (long long)b),
	       "{\"pool_id\":0}", 400, "invalid_field", "pool_id");

	/* Moved to another pool, then out of any. */
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/numbers/%lld", (long long)b),
		    rt_test_fmt("{\"pool_id\":%lld}", (long long)other));
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(num(&r, "pool_id"), other);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/numbers/%lld", (long long)a),
		    "{\"pool_id\":null,\"label\":\"Out\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(json_object_get(r.json, "pool_id")));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", pool_path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(num(&r, "number_count"), 0);
	rt_test_resp_free(&r);

	/* A released number leaves the count and the list. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/pools/%lld", (long long)other), NULL);
	assert_int_equal(num(&r, "number_count"), 1);
	rt_test_resp_free(&r);
	expect("DELETE", rt_test_fmt("/v1/numbers/%lld", (long long)b), NULL,
	       200, NULL, NULL);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/pools/%lld", (long long)other), NULL);
	assert_int_equal(num(&r, "number_count"), 0);
	rt_test_resp_free(&r);

	/* The list of pools, and one account's. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/pools?account_id=%lld&limit=200",
				(long long)child),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r.json, "data"),
						0),
				 "number_count")),
			 1);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/pools?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_array_size(json_object_get(r.json, "data")) >= 3);
	assert_non_null(strstr(r.body, "Client pool"));
	rt_test_resp_free(&r);
}

static void test_scopes_audit_cli(void **state)
{
	struct rt_test_resp r;
	char reader[128], *out = NULL, *err = NULL;
	int64_t pool, n;
	int rc;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/api-keys",
		    "{\"scopes\":[\"read\"]}");
	RT_EXPECT_STATUS(&r, 201);
	snprintf(reader, sizeof(reader), "%s", str(&r, "secret"));
	rt_test_resp_free(&r);
	pool = post("/v1/pools", "{\"name\":\"Audited\",\"swap_targets\":"
				 "[\"+13125550150\"]}");
	rt_test_api(&srv, &r, reader, "GET", "/v1/pools", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, reader, "GET",
		    rt_test_fmt("/v1/pools/%lld/numbers", (long long)pool),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, reader, "POST", "/v1/pools",
		    "{\"name\":\"No\",\"swap_targets\":[\"+13125550150\"]}");
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, reader, "PATCH",
		    rt_test_fmt("/v1/pools/%lld", (long long)pool),
		    "{\"name\":\"No\"}");
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, reader, "DELETE",
		    rt_test_fmt("/v1/pools/%lld", (long long)pool), NULL);
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);

	expect("PATCH", rt_test_fmt("/v1/pools/%lld", (long long)pool),
	       "{\"sources\":\"organic\"}", 200, NULL, NULL);
	expect("DELETE", rt_test_fmt("/v1/pools/%lld", (long long)pool), NULL,
	       200, NULL, NULL);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/audit-log?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(strstr(r.body, "\"pool.create\""));
	assert_non_null(strstr(r.body, "\"pool.update\""));
	assert_non_null(strstr(r.body, "\"pool.deactivate\""));
	rt_test_resp_free(&r);

	/* The CLI shows which pool a number is in. */
	n = post("/v1/numbers",
		 rt_test_fmt("{\"number\":\"+13125550151\",\"label\":\"CLI "
			     "pooled\",\"pool_id\":%lld}",
			     (long long)pool));
	assert_true(n > 0);
	{
		const char *argv[] = {"numbers", "list", "--account", "1",
				      "--db",	 srv.db, NULL};
		const char *line;

		rc = rt_test_cli(argv, NULL, NULL, &out, &err);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "POOL"));
		line = strstr(out, "+13125550151");
		assert_non_null(line);
		assert_non_null(
			strstr(line, rt_test_fmt(" %lld ", (long long)pool)));
		free(out);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_defaults),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_update_and_deactivate),
		cmocka_unit_test(test_numbers_in_pools),
		cmocka_unit_test(test_scopes_audit_cli),
	};

	return cmocka_run_group_tests_name("pools", tests, setup, teardown);
}
