/*
 * The public DNI endpoints as a hostile page would use them: bad URLs and
 * bodies, over-long fields (cut at the documented limits, not refused),
 * unknown sessions, and a flood from one address (429 with Retry-After).
 * And a visitor's journey as support reads it.  The server runs with a
 * small rate limit: 60 a minute, 14 at once.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct rt_test_server srv;
static char site_key[32];

static int setup(void **state)
{
	static const char *const args[] = {"--dni-rate-limit", "60",
					   "--dni-rate-burst", "14", NULL};
	struct rt_test_resp r;

	(void)state;
	rt_test_server_start(&srv, args, NULL);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	snprintf(site_key, sizeof(site_key), "%s",
		 json_string_value(
			 json_object_get(json_object_get(r.json, "account"),
					 "site_key")));
	rt_test_resp_free(&r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

static void visit(struct rt_test_resp *r, const char *fields)
{
	rt_test_api(&srv, r, NULL, "POST", "/v1/dni/sessions",
		    rt_test_fmt("{\"site_key\":\"%s\",%s}", site_key, fields));
}

/* Four requests: the flood test counts on the burst left. */
static void test_journey(void **state)
{
	struct rt_test_resp r;
	const char *sid, *path;
	json_t *pages;

	(void)state;
	visit(&r, "\"landing_url\":\"https://a.example/start\",\"title\":"
		  "\"Start\"");
	RT_EXPECT_STATUS(&r, 201);
	sid = rt_test_fmt("%s", json_string_value(
					json_object_get(r.json, "session_id")));
	rt_test_resp_free(&r);
	path = rt_test_fmt("/v1/dni/sessions/%s/pageviews", sid);
	rt_test_api(&srv, &r, NULL, "POST", path,
		    "{\"url\":\"https://a.example/b\",\"title\":\"B\"}");
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, NULL, "POST", path,
		    "{\"url\":\"https://a.example/c\"}");
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, NULL, "POST",
		    rt_test_fmt("/v1/dni/sessions/%s/heartbeat", sid), "{}");
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);

	/* The landing page first, then the others in order. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/dni/sessions/%s", sid), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(
				 json_object_get(r.json, "pageview_count")),
			 3);
	pages = json_object_get(r.json, "pageviews");
	assert_int_equal(json_array_size(pages), 3);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(pages, 0),
						    "url")),
			    "https://a.example/start");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(pages, 0),
						    "title")),
			    "Start");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(pages, 1),
						    "title")),
			    "B");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(pages, 2),
						    "url")),
			    "https://a.example/c");
	assert_true(json_is_null(
		json_object_get(json_array_get(pages, 2), "title")));
	assert_true(json_is_true(json_object_get(r.json, "live")));
	rt_test_resp_free(&r);

	/* Operators see it in /metrics. */
	rt_test_request(&srv, &r, "GET", "/metrics", NULL, NULL, 0);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(strstr(r.body, "\nringtrail_dni_live_sessions 1\n"));
	assert_non_null(strstr(r.body, "\nringtrail_dni_sessions_total 1\n"));
	assert_non_null(
		strstr(r.body, "\nringtrail_dni_visits_dropped_total 0\n"));
	rt_test_resp_free(&r);
}

/* Six requests: the flood test below counts on the burst left. */
static void test_bad_input_and_limits(void **state)
{
	struct rt_test_resp r;
	char *title = malloc(5001), *url = malloc(8400);
	const char *sid;

	(void)state;
	memset(title, 'T', 5000);
	title[5000] = '\0';
	/* 1: a title past 512 bytes is kept, cut. */
	visit(&r, rt_test_fmt("\"landing_url\":\"https://a.example/\","
			      "\"title\":\"%s\"",
			      title));
	RT_EXPECT_STATUS(&r, 201);
	sid = rt_test_fmt("%s", json_string_value(
					json_object_get(r.json, "session_id")));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/dni/sessions/%s", sid), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(strlen(json_string_value(
				 json_object_get(r.json, "title"))),
			 512);
	rt_test_resp_free(&r);

	/* 2, 3: malformed landing URL and referrer name their field. */
	visit(&r, "\"landing_url\":\"not a url\"");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "landing_url");
	rt_test_resp_free(&r);
	visit(&r, "\"landing_url\":\"https://a.example/\",\"referrer\":"
		  "\"::\"");
	RT_EXPECT_ERROR(&r, 422, "invalid_field", "referrer");
	rt_test_resp_free(&r);

	/* 4: a landing URL past 8192 bytes. */
	/* (Written out here: rt_test_fmt's buffer is smaller.) */
	{
		size_t n =
			(size_t)snprintf(url, 8300,
					 "{\"site_key\":\"%s\",\"landing_url\""
					 ":\"https://a.example/?q=",
					 site_key);

		memset(url + n, 'a', 8200);
		memcpy(url + n + 8200, "\"}", 3);
	}
	rt_test_api(&srv, &r, NULL, "POST", "/v1/dni/sessions", url);
	RT_EXPECT_ERROR(&r, 400, "invalid_field", "landing_url");
	rt_test_resp_free(&r);

	/* 5: not JSON. */
	rt_test_api(&srv, &r, NULL, "POST", "/v1/dni/sessions", "{\"site_");
	RT_EXPECT_ERROR(&r, 400, NULL, NULL);
	rt_test_resp_free(&r);

	/* 6: a page view of a session that does not exist. */
	rt_test_api(&srv, &r, NULL, "POST",
		    "/v1/dni/sessions/123456789012345678/pageviews",
		    "{\"url\":\"https://a.example/b\"}");
	RT_EXPECT_ERROR(&r, 404, "session_not_found", NULL);
	rt_test_resp_free(&r);
	free(title);
	free(url);
}

static void test_flood(void **state)
{
	struct rt_test_resp r;
	char retry[16];
	int ok = 0, limited = 0;

	(void)state;
	for (int i = 0; i < 30; i++) {
		rt_test_api(&srv, &r, NULL, "POST", "/v1/dni/sessions",
			    "{\"site_key\":\"pk_unknown\",\"landing_url\":"
			    "\"https://a.example/\"}");
		if (r.status == 404) {
			ok++;
		} else {
			RT_EXPECT_ERROR(&r, 429, "rate_limited", NULL);
			assert_non_null(rt_test_header(&r, "Retry-After", retry,
						       sizeof(retry)));
			assert_true(strtol(retry, NULL, 10) >= 1);
			limited++;
		}
		rt_test_resp_free(&r);
	}
	/* The burst (14, less the 10 above, plus what dripped in meanwhile)
	 * passes; the rest is refused. */
	assert_true(ok >= 4 && ok <= 8);
	assert_int_equal(ok + limited, 30);
	/* The limit is per address and for the public routes only: the API
	 * still answers. */
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journey),
		cmocka_unit_test(test_bad_input_and_limits),
		cmocka_unit_test(test_flood),
	};
	return cmocka_run_group_tests_name("dni", tests, setup, teardown);
}
