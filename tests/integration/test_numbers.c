/*
 * The tracking number inventory, from outside: numbers created one by one
 * and from CSV (API and CLI), what each kind needs, normalisation of what
 * users type, release and re-use, and imports that fail whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void import_csv(struct rt_test_resp *r, const char *query,
		       const char *csv)
{
	char auth[200];
	const char *h[] = {auth, "Content-Type: text/csv", NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.key);
	rt_test_request(&srv, r, "POST",
			rt_test_fmt("/v1/numbers/import%s", query), h, csv,
			strlen(csv));
}

static void test_create_normalises(void **state)
{
	struct rt_test_resp r;
	int64_t id;
	(void)state;

	/* What people type becomes E.164, with its kind of line and its
	 * display forms; the label defaults to the national form. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    "{\"number\":\"(312) 555-0100\",\"kind\":\"source\","
		    "\"source\":\"google\",\"medium\":\"cpc\","
		    "\"destination\":\"415.555.2671\"}");
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	assert_string_equal(str(&r, "number"), "+13125550100");
	assert_string_equal(str(&r, "national"), "(312) 555-0100");
	assert_string_equal(str(&r, "label"), "(312) 555-0100");
	assert_string_equal(str(&r, "number_type"), "local");
	assert_string_equal(str(&r, "country"), "US");
	assert_string_equal(str(&r, "destination"), "+14155552671");
	assert_string_equal(str(&r, "status"), "active");
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/numbers/%lld", (long long)id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "source"), "google");
	rt_test_resp_free(&r);

	/* A national number of another country, and a toll-free one. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    "{\"number\":\"020 7946 0958\",\"country\":\"GB\","
		    "\"label\":\"London office\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_string_equal(str(&r, "number"), "+442079460958");
	assert_string_equal(str(&r, "country"), "GB");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    "{\"number\":\"+1 800 555 0199\",\"kind\":\"offline\","
		    "\"campaign\":\"Spring radio\","
		    "\"destination\":\"sip:front-desk@pbx.example\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_string_equal(str(&r, "number_type"), "toll_free");
	assert_string_equal(str(&r, "destination"),
			    "sip:front-desk@pbx.example");
	rt_test_resp_free(&r);

	/* A non-geographic number has no country, and stays editable. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    "{\"number\":\"+800 1234 5678\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_string_equal(str(&r, "country"), "");
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/numbers/%lld", (long long)id),
		    "{\"label\":\"Freephone\"}");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);

	/* The same number twice is a conflict, however it is written. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    "{\"number\":\"+1-312-555-0100\"}");
	RT_EXPECT_ERROR(&r, 409, "conflict", "number");
	rt_test_resp_free(&r);
}

static void test_kind_rules(void **state)
{
	static const struct {
		const char *body, *field;
	} bad[] = {
		{"{\"number\":\"555\"}", "number"},
		{"{\"number\":\"+13125550150\",\"kind\":\"source\"}", "source"},
		{"{\"number\":\"+13125550150\",\"kind\":\"offline\"}",
		 "campaign"},
		{"{\"number\":\"+13125550150\",\"campaign\":\"x\"}",
		 "campaign"},
		{"{\"number\":\"+13125550150\",\"source\":\"google\"}",
		 "source"},
		{"{\"number\":\"+13125550150\",\"destination\":\"the front "
		 "desk\"}",
		 "destination"},
		{"{\"number\":\"+13125550150\",\"status\":\"released\"}",
		 "status"},
	};
	struct rt_test_resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
			    bad[i].body);
		RT_EXPECT_ERROR(&r, 422, "invalid_field", bad[i].field);
		rt_test_resp_free(&r);
	}
}

static void test_update_and_release(void **state)
{
	struct rt_test_resp r;
	const char *path;
	int64_t id;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    "{\"number\":\"+13125550160\"}");
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	path = rt_test_fmt("/v1/numbers/%lld", (long long)id);

	/* A change is checked as a whole: offline needs its campaign. */
	rt_test_api(&srv, &r, srv.key, "PATCH", path, "{\"kind\":\"offline\"}");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "campaign");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path,
		    "{\"kind\":\"offline\",\"campaign\":\"Bus shelters\","
		    "\"label\":\"Bus ads\",\"status\":\"inactive\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "campaign"), "Bus shelters");
	assert_string_equal(str(&r, "status"), "inactive");
	rt_test_resp_free(&r);

	/* Released: out of the list, its number free to add again. */
	rt_test_api(&srv, &r, srv.key, "DELETE", path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(str(&r, "status"), "released");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE", path, NULL);
	RT_EXPECT_ERROR(&r, 409, "already_released", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH", path, "{\"label\":\"x\"}");
	RT_EXPECT_ERROR(&r, 409, "already_released", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/numbers?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_null(strstr(r.body, "+13125550160"));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    "/v1/numbers?limit=200&include_released=true", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(strstr(r.body, "+13125550160"));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    "{\"number\":\"+13125550160\"}");
	RT_EXPECT_STATUS(&r, 201);
	assert_true(rt_test_json_id(&r, "id") != id);
	rt_test_resp_free(&r);
}

static void test_import(void **state)
{
	struct rt_test_resp r;
	json_t *errors;
	int64_t client;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/accounts",
		    "{\"name\":\"Import Client\"}");
	RT_EXPECT_STATUS(&r, 201);
	client = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);

	/* Quoted fields, CRLF, any column order and case. */
	import_csv(
		&r, rt_test_fmt("?account_id=%lld", (long long)client),
		"Label,NUMBER,kind,campaign\r\n"
		"\"Pool, 1\",(312) 555-0171,pool,\r\n"
		"Pool 2,+1 312 555 0172,,\r\n"
		"\"Billboard \"\"I-90\"\"\",1-800-555-0173,offline,I-90\r\n");
	RT_EXPECT_STATUS(&r, 201);
	assert_int_equal(json_integer_value(json_object_get(r.json, "created")),
			 3);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/numbers?account_id=%lld",
				(long long)client),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 3);
	assert_non_null(strstr(r.body, "Billboard \\\"I-90\\\""));
	assert_non_null(strstr(r.body, "Pool, 1"));
	rt_test_resp_free(&r);

	/* One bad row and nothing is imported; every bad line is named. */
	import_csv(&r, "",
		   "number,kind\n"
		   "+13125550174,pool\n"
		   "+13125550171,pool\n"
		   "not a number,pool\n"
		   "+13125550174,\n"
		   "+13125550175,weird\n");
	RT_EXPECT_ERROR(&r, 422, "invalid_csv", NULL);
	errors = json_object_get(r.json, "errors");
	assert_int_equal(json_array_size(errors), 4);
	assert_int_equal(json_integer_value(
				 json_object_get(json_array_get(errors, 0),
						 "line")),
			 3);
	assert_int_equal(json_integer_value(
				 json_object_get(json_array_get(errors, 3),
						 "line")),
			 6);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(errors, 3),
						    "field")),
			    "kind");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/numbers?limit=200", NULL);
	assert_null(strstr(r.body, "+13125550174"));
	rt_test_resp_free(&r);

	/* The file itself: no header, an unknown column, a broken quote. */
	import_csv(&r, "", "");
	RT_EXPECT_ERROR(&r, 422, "invalid_csv", NULL);
	rt_test_resp_free(&r);
	import_csv(&r, "", "number,colour\n+13125550176,red\n");
	RT_EXPECT_ERROR(&r, 422, "invalid_csv", NULL);
	assert_non_null(strstr(r.body, "colour"));
	rt_test_resp_free(&r);
	import_csv(&r, "", "number,label\n+13125550177,\"open\n");
	RT_EXPECT_ERROR(&r, 422, "invalid_csv", NULL);
	rt_test_resp_free(&r);

	/* Too long a cell is refused as the API refuses it, not cut; a row
	 * with more cells than columns is misaligned data. */
	{
		char csv[600];

		snprintf(csv, sizeof(csv),
			 "number,label\n+13125550180,%0300d\n", 0);
		import_csv(&r, "", csv);
		RT_EXPECT_ERROR(&r, 422, "invalid_csv", NULL);
		assert_string_equal(
			json_string_value(json_object_get(
				json_array_get(json_object_get(r.json,
							       "errors"),
					       0),
				"field")),
			"label");
		rt_test_resp_free(&r);
	}
	import_csv(&r, "", "number,label\n+13125550181,a,b\n");
	RT_EXPECT_ERROR(&r, 422, "invalid_csv", NULL);
	assert_non_null(strstr(r.body, "3 cells for 2 columns"));
	rt_test_resp_free(&r);
	import_csv(&r, "?country=usa", "number\n3125550182\n");
	RT_EXPECT_ERROR(&r, 400, "invalid_parameter", "country");
	rt_test_resp_free(&r);

	/* Only CSV, and only into accounts the caller has. */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers/import",
		    "{\"number\":\"+13125550178\"}");
	RT_EXPECT_ERROR(&r, 415, "unsupported_media_type", NULL);
	rt_test_resp_free(&r);
	import_csv(&r, "?account_id=99999", "number\n+13125550179\n");
	RT_EXPECT_ERROR(&r, 404, "not_found", "account_id");
	rt_test_resp_free(&r);
}

static void test_scopes_and_audit(void **state)
{
	struct rt_test_resp r;
	char reader[128];
	(void)state;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/api-keys",
		    "{\"scopes\":[\"read\"]}");
	RT_EXPECT_STATUS(&r, 201);
	snprintf(reader, sizeof(reader), "%s", str(&r, "secret"));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, reader, "GET", "/v1/numbers", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, reader, "POST", "/v1/numbers",
		    "{\"number\":\"+13125550185\"}");
	RT_EXPECT_ERROR(&r, 403, "insufficient_scope", NULL);
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/audit-log?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(strstr(r.body, "\"number.create\""));
	assert_non_null(strstr(r.body, "\"number.update\""));
	assert_non_null(strstr(r.body, "\"number.release\""));
	assert_non_null(strstr(r.body, "\"number.import\""));
	rt_test_resp_free(&r);
}

static void test_cli(void **state)
{
	char path[400], *out = NULL, *err = NULL;
	FILE *f;
	int rc;
	(void)state;

	snprintf(path, sizeof(path), "%s/numbers.csv", srv.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("number,label\n(646) 555-0190,CLI one\n646-555-0191,CLI two\n",
	      f);
	fclose(f);
	{
		const char *argv[] = {"numbers", "import", "--account", "1",
				      path,	 "--db",   srv.db,	NULL};

		rc = rt_test_cli(argv, NULL, NULL, &out, &err);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "imported 2 numbers"));
		free(out);
		free(err);
		/* Again: both are in the inventory now, and the CLI says
		 * which lines, exiting 2. */
		rc = rt_test_cli(argv, NULL, NULL, &out, &err);
		assert_int_equal(rc, 2);
		assert_non_null(strstr(err, "numbers.csv:2:"));
		assert_non_null(strstr(err, "numbers.csv:3:"));
		free(out);
		free(err);
	}
	{
		const char *argv[] = {"numbers", "list", "--account", "1",
				      "--db",	 srv.db, NULL};

		rc = rt_test_cli(argv, NULL, NULL, &out, &err);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(out, "+16465550190"));
		assert_non_null(strstr(out, "CLI two"));
		free(out);
		free(err);
	}
	{
		const char *argv[] =
			{"numbers",	     "import", "--account", "1",
			 "/nonexistent.csv", "--db",   srv.db,	    NULL};

		rc = rt_test_cli(argv, NULL, NULL, &out, &err);
		assert_int_equal(rc, 2);
		free(out);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_normalises),
		cmocka_unit_test(test_kind_rules),
		cmocka_unit_test(test_update_and_release),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_scopes_and_audit),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests_name("numbers", tests, setup, teardown);
}
