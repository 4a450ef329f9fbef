/*
 * Call flows through the API of the real server: saving checks the
 * document (422 with every problem on its step), each save is a version
 * kept and readable, simulate walks a flow for a caller, a time and an
 * attribution (the caller's region, area code and the account's time zone
 * and disclosure switch taken as a live call would), delete hides a flow;
 * numbers and pools are given a flow of their own account, and a flow in
 * use is not deleted.
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

/* Single quotes stand for double ones. */
static const char *q(const char *s)
{
	static char ring[4][8192];
	static unsigned next;
	char *t = ring[next++ % 4];

	snprintf(t, sizeof(ring[0]), "%s", s);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static void expect(const char *method, const char *path, const char *body,
		   long status, const char *code, const char *field)
{
	struct rt_test_resp r;

	rt_test_api(&srv, &r, srv.key, method, path, body);
	if (r.status != status)
		fail_msg("%s %s %s: got %ld, want %ld: %s", method, path,
			 body ? body : "", r.status, status, r.body);
	if (code || field)
		RT_EXPECT_ERROR(&r, status, code, field);
	rt_test_resp_free(&r);
}

/* A business line: disclosure, hours, a menu for sales and support, each
 * a dial, voicemail when closed or nobody answers. */
#define MAIN_FLOW                                                              \
	"{'format':1,'start':'notice','steps':["                               \
	"{'id':'notice','type':'disclosure','when':'two_party','exits':"       \
	"{'next':'hours'}},"                                                   \
	"{'id':'hours','type':'schedule','hours':{'mon':[['09:00','17:00']],"  \
	"'tue':[['09:00','17:00']]},'dates':[{'date':'12-25','holiday':true}]" \
	","                                                                    \
	"'exits':{'open':'region','closed':'vm','holiday':'vm'}},"             \
	"{'id':'region','type':'geo','rules':[{'exit':'west','region':"        \
	"['US-CA','US-OR']}],'exits':{'west':'menu','other':'menu'}},"         \
	"{'id':'menu','type':'menu','prompt':{'text':'Press 1 for sales, 2 "   \
	"for support.'},'retries':1,'exits':{'1':'sales','2':'whisper',"       \
	"'timeout':'sales','invalid':'sales'}},"                               \
	"{'id':'whisper','type':'whisper','text':'Support call from "          \
	"{source}','exits':{'next':'support'}},"                               \
	"{'id':'sales','type':'dial','targets':[{'uri':'sip:sales@pbx."        \
	"example.com'}],'exits':{'no_answer':'vm','busy':'vm'}},"              \
	"{'id':'support','type':'dial','strategy':'sequential','targets':["    \
	"{'uri':'sip:a@pbx.example.com','ring_s':10},{'number':'+14155550100'" \
	"}],'exits':{'no_answer':'vm','busy':'vm','failed':'vm'}},"            \
	"{'id':'vm','type':'voicemail','max_s':90}]}"

static int64_t create_main(void)
{
	struct rt_test_resp r;
	int64_t id;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows",
		    q("{'name':'Main line','flow':" MAIN_FLOW "}"));
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")),
			 1);
	assert_int_equal(json_array_size(json_object_get(r.json, "warnings")),
			 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r.json, "flow"), "start")),
			    "notice");
	rt_test_resp_free(&r);
	return id;
}

static void test_save_and_versions(void **state)
{
	struct rt_test_resp r;
	int64_t id;

	(void)state;
	id = create_main();

	/* a new document is version 2; a rename keeps the version */
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/flows/%lld", (long long)id),
		    q("{'flow':{'format':1,'start':'h','steps':[{'id':'h',"
		      "'type':'hangup'},{'id':'lost','type':'tag','tags':["
		      "'x']}]}}"));
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")),
			 2);
	/* the unreachable step is a warning, not an error */
	assert_int_equal(json_array_size(json_object_get(r.json, "warnings")),
			 1);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/flows/%lld", (long long)id),
		    "{\"name\":\"Main line, renamed\"}");
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")),
			 2);
	rt_test_resp_free(&r);

	/* the first version is still there, as saved */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/flows/%lld?version=1", (long long)id),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "version")),
			 1);
	assert_int_equal(json_integer_value(
				 json_object_get(r.json, "latest_version")),
			 2);
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(r.json, "flow"), "steps")),
			 8);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/flows/%lld/versions", (long long)id),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")), 2);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r.json, "data"),
						0),
				 "version")),
			 2);
	rt_test_resp_free(&r);
	expect("GET", rt_test_fmt("/v1/flows/%lld?version=3", (long long)id),
	       NULL, 404, "not_found", "version");
	expect("GET", rt_test_fmt("/v1/flows/%lld?version=x", (long long)id),
	       NULL, 400, "invalid_parameter", "version");

	/* listed, then deleted: gone from the list and from GET */
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/flows", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_array_size(json_object_get(r.json, "data")) >= 1);
	assert_null(
		json_object_get(json_array_get(json_object_get(r.json, "data"),
					       0),
				"flow"));
	rt_test_resp_free(&r);
	expect("DELETE", rt_test_fmt("/v1/flows/%lld", (long long)id), NULL,
	       204, NULL, NULL);
	expect("GET", rt_test_fmt("/v1/flows/%lld", (long long)id), NULL, 404,
	       "not_found", NULL);
	expect("DELETE", rt_test_fmt("/v1/flows/%lld", (long long)id), NULL,
	       404, "not_found", NULL);
}

static void test_bad_input(void **state)
{
	struct rt_test_resp r;
	json_t *problems;

	(void)state;
	/* every problem, each on its step; the first in the usual shape */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows",
		    q("{'name':'x','flow':{'format':1,'start':'m','steps':["
		      "{'id':'m','type':'menu','prompt':{'text':'x'},"
		      "'timeout_s':99,'exits':{'1':'d','2':'nowhere'}},"
		      "{'id':'d','type':'dial','targets':[{'uri':'mailto:a'}]}"
		      "]}}"));
	RT_EXPECT_ERROR(&r, 422, "invalid_flow", "flow.steps.m.timeout_s");
	problems =
		json_object_get(json_object_get(r.json, "error"), "problems");
	assert_int_equal(json_array_size(problems), 3);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(problems, 1),
						    "field")),
			    "exits.2");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(problems, 2),
						    "step")),
			    "d");
	rt_test_resp_free(&r);

	/* the same check without saving */
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows/validate",
		    q("{'flow':{'format':1,'start':'a','steps':[{'id':'a',"
		      "'type':'play','prompt':{'text':'hi'},'exits':{'next':"
		      "'a'}}]}}"));
	RT_EXPECT_ERROR(&r, 422, "invalid_flow", "flow.steps.a.exits.next");
	rt_test_resp_free(&r);
	expect("POST", "/v1/flows/validate",
	       q("{'flow':{'format':1,'start':'a','steps':[{'id':'a','type':"
		 "'hangup'}]}}"),
	       200, NULL, NULL);

	expect("POST", "/v1/flows", q("{'name':'x','flow':[1]}"), 400,
	       "invalid_field", "flow");
	expect("POST", "/v1/flows", q("{'name':'x'}"), 400, "missing_field",
	       "flow");
	expect("POST", "/v1/flows",
	       q("{'name':'','flow':{'format':1,'start':'a','steps':[{'id':"
		 "'a','type':'hangup'}]}}"),
	       422, "invalid_field", "name");
	expect("POST", "/v1/flows",
	       q("{'name':'x','color':1,'flow':{'format':1,'start':'a','steps'"
		 ":[{'id':'a','type':'hangup'}]}}"),
	       400, "unknown_field", "color");
	expect("POST", "/v1/flows",
	       q("{'name':'x','account_id':999999,'flow':{'format':1,'start':"
		 "'a','steps':[{'id':'a','type':'hangup'}]}}"),
	       404, "not_found", "account_id");
	expect("PATCH", "/v1/flows/1", "{}", 400, "missing_field", NULL);
	expect("PATCH", "/v1/flows/999999", "{\"name\":\"y\"}", 404,
	       "not_found", NULL);
	expect("POST", "/v1/flows/999999/simulate", "{}", 404, "not_found",
	       NULL);
}

static int64_t post_id(const char *path, const char *body)
{
	struct rt_test_resp r;
	int64_t id;

	rt_test_api(&srv, &r, srv.key, "POST", path, body);
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	return id;
}

/* GET path's flow_id: 0 for null. */
static int64_t flow_id_of(const char *path)
{
	struct rt_test_resp r;
	json_t *v;
	int64_t id;

	rt_test_api(&srv, &r, srv.key, "GET", path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	v = json_object_get(r.json, "flow_id");
	assert_non_null(v);
	assert_true(json_is_null(v) || json_is_integer(v));
	id = json_integer_value(v);
	rt_test_resp_free(&r);
	return id;
}

/* The numbers and pools counts of a flow. */
static void expect_uses(int64_t flow, int64_t numbers, int64_t pools)
{
	struct rt_test_resp r;

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/flows/%lld", (long long)flow), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_integer_value(json_object_get(r.json, "numbers")),
			 numbers);
	assert_int_equal(json_integer_value(json_object_get(r.json, "pools")),
			 pools);
	rt_test_resp_free(&r);
}

#define HANGUP_FLOW                                                            \
	"{'format':1,'start':'a','steps':[{'id':'a','type':'hangup'}]}"

static void test_numbers_and_pools(void **state)
{
	int64_t flow, child, child_flow, gone, number, pool;
	const char *np, *pp, *fp;

	(void)state;
	flow = post_id("/v1/flows",
		       q("{'name':'Front desk','flow':" HANGUP_FLOW "}"));
	child = post_id("/v1/accounts", "{\"name\":\"Flow client\"}");
	child_flow = post_id(
		"/v1/flows",
		rt_test_fmt("{\"name\":\"Client's\",\"account_id\":%lld,"
			    "\"flow\":%s}",
			    (long long)child, q(HANGUP_FLOW)));
	gone = post_id("/v1/flows",
		       q("{'name':'Gone','flow':" HANGUP_FLOW "}"));
	expect("DELETE", rt_test_fmt("/v1/flows/%lld", (long long)gone), NULL,
	       204, NULL, NULL);
	fp = rt_test_fmt("/v1/flows/%lld", (long long)flow);

	/* A number made with the flow, then changed: its account's flows
	 * only; unknown, deleted and another account's flows are one 422. */
	number = post_id("/v1/numbers",
			 rt_test_fmt("{\"number\":\"+13125550160\","
				     "\"flow_id\":%lld}",
				     (long long)flow));
	np = rt_test_fmt("/v1/numbers/%lld", (long long)number);
	assert_int_equal(flow_id_of(np), flow);
	expect_uses(flow, 1, 0);
	expect("POST", "/v1/numbers",
	       rt_test_fmt("{\"number\":\"+13125550161\",\"flow_id\":%lld}",
			   (long long)child_flow),
	       422, "invalid_field", "flow_id");
	expect("POST", "/v1/numbers",
	       "{\"number\":\"+13125550161\",\"flow_id\":999999}", 422,
	       "invalid_field", "flow_id");
	expect("POST", "/v1/numbers",
	       "{\"number\":\"+13125550161\",\"flow_id\":0}", 400,
	       "invalid_field", "flow_id");
	expect("POST", "/v1/numbers",
	       "{\"number\":\"+13125550161\",\"flow_id\":\"1\"}", 400,
	       "invalid_field", "flow_id");
	expect("PATCH", np, rt_test_fmt("{\"flow_id\":%lld}", (long long)gone),
	       422, "invalid_field", "flow_id");
	expect("PATCH", np,
	       rt_test_fmt("{\"flow_id\":%lld}", (long long)child_flow), 422,
	       "invalid_field", "flow_id");
	expect("PATCH", np, "{\"flow_id\":-3}", 400, "invalid_field",
	       "flow_id");
	assert_int_equal(flow_id_of(np), flow);
	/* A change of something else keeps the flow. */
	expect("PATCH", np, "{\"label\":\"Desk\"}", 200, NULL, NULL);
	assert_int_equal(flow_id_of(np), flow);

	/* In use: 409, until the number lets go. */
	expect("DELETE", fp, NULL, 409, "in_use", NULL);
	expect("PATCH", np, "{\"flow_id\":null}", 200, NULL, NULL);
	assert_int_equal(flow_id_of(np), 0);
	expect_uses(flow, 0, 0);

	/* A pool likewise. */
	pool = post_id("/v1/pools",
		       rt_test_fmt("{\"name\":\"Flow pool\",\"swap_targets\":"
				   "[\"+13125550162\"],\"flow_id\":%lld}",
				   (long long)flow));
	pp = rt_test_fmt("/v1/pools/%lld", (long long)pool);
	assert_int_equal(flow_id_of(pp), flow);
	expect_uses(flow, 0, 1);
	expect("POST", "/v1/pools",
	       rt_test_fmt("{\"name\":\"P\",\"swap_targets\":"
			   "[\"+13125550163\"],\"flow_id\":%lld}",
			   (long long)child_flow),
	       422, "invalid_field", "flow_id");
	expect("PATCH", pp, "{\"flow_id\":999999}", 422, "invalid_field",
	       "flow_id");
	expect("PATCH", pp, "{\"flow_id\":0}", 400, "invalid_field", "flow_id");
	/* Turning the pool off keeps its flow. */
	expect("DELETE", pp, NULL, 200, NULL, NULL);
	assert_int_equal(flow_id_of(pp), flow);
	expect("DELETE", fp, NULL, 409, "in_use", NULL);
	expect("PATCH", pp, "{\"flow_id\":null}", 200, NULL, NULL);
	assert_int_equal(flow_id_of(pp), 0);

	/* The client's own number takes the client's flow. */
	post_id("/v1/numbers",
		rt_test_fmt("{\"number\":\"+13125550164\",\"account_id\":%lld,"
			    "\"flow_id\":%lld}",
			    (long long)child, (long long)child_flow));
	expect_uses(child_flow, 1, 0);

	/* Nothing uses it now: deleted. */
	expect("DELETE", fp, NULL, 204, NULL, NULL);
	expect("PATCH", np, rt_test_fmt("{\"flow_id\":%lld}", (long long)flow),
	       422, "invalid_field", "flow_id");
}

static json_t *simulate(int64_t id, const char *body)
{
	struct rt_test_resp r;
	json_t *out;

	rt_test_api(&srv, &r, srv.key, "POST",
		    rt_test_fmt("/v1/flows/%lld/simulate", (long long)id),
		    q(body));
	RT_EXPECT_STATUS(&r, 200);
	out = json_incref(r.json);
	rt_test_resp_free(&r);
	return out;
}

/* "step:exit step:exit ..." of a simulation. */
static const char *path_of(const json_t *sim)
{
	static char out[512];
	size_t n = 0, i;
	json_t *h;

	out[0] = 0;
	json_array_foreach (json_object_get(sim, "path"), i, h) {
		const char *ex = json_string_value(json_object_get(h, "exit"));

		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s%s%s",
				      i ? " " : "",
				      json_string_value(
					      json_object_get(h, "step")),
				      ex ? ":" : "", ex ? ex : "");
	}
	return out;
}

static void test_simulate(void **state)
{
	int64_t id;
	json_t *s, *hop;

	(void)state;
	id = create_main();
	expect("PATCH",
	       rt_test_fmt("/v1/accounts/%lld", (long long)srv.account_id),
	       "{\"time_zone\":\"America/New_York\"}", 200, NULL, NULL);
	/* the account is in America/New_York: Monday 2026-03-09
	 * 13:30Z is 09:30 EDT, open; a Californian presses 2 and the
	 * support line is busy */
	s = simulate(id, "{'caller':'+14155550123','at':"
			 "'2026-03-09T13:30:00Z','attribution':{'source':"
			 "'google','channel':'paid_search'},'digits':'2',"
			 "'dial':['busy']}");
	assert_string_equal(path_of(s),
			    "notice:next hours:open region:west "
			    "menu:2 whisper:next support:busy vm:next");
	assert_string_equal(json_string_value(
				    json_object_get(json_object_get(s, "facts"),
						    "region")),
			    "US-CA");
	assert_string_equal(json_string_value(
				    json_object_get(json_object_get(s, "facts"),
						    "area_code")),
			    "415");
	/* what the caller hears and who is rung */
	hop = json_array_get(json_object_get(s, "path"), 0);
	assert_non_null(
		strstr(json_string_value(
			       json_object_get(json_object_get(hop, "action"),
					       "say")),
		       "recorded"));
	hop = json_array_get(json_object_get(s, "path"), 5);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(hop,
								    "action"),
						    "whisper"),
				    "say")),
			    "Support call from google");
	assert_int_equal(json_array_size(
				 json_object_get(json_object_get(hop, "action"),
						 "ring")),
			 2);
	assert_string_equal(json_string_value(json_object_get(s, "digits")),
			    "2");
	json_decref(s);

	/* a Texan (one-party state: no notice), at 08:30 EDT: closed */
	s = simulate(id, "{'caller':'+12145550123','at':"
			 "'2026-03-09T12:30:00Z'}");
	assert_string_equal(path_of(s), "notice:next hours:closed vm:next");
	json_decref(s);

	/* Christmas; then the menu with no input at all: two timeouts
	 * (retries 1), 5 s each, to sales, answered */
	s = simulate(id, "{'at':'2026-12-25T15:00:00Z'}");
	assert_string_equal(path_of(s), "notice:next hours:holiday vm:next");
	json_decref(s);
	s = simulate(id, "{'at':'2026-03-10T15:00:00Z'}");
	assert_string_equal(path_of(s), "notice:next hours:open region:other "
					"menu:timeout sales:answered");
	assert_int_equal(json_integer_value(json_object_get(s, "ivr_ms")),
			 10000);
	json_decref(s);

	/* the account's switch turns the notice off */
	expect("PATCH",
	       rt_test_fmt("/v1/accounts/%lld", (long long)srv.account_id),
	       "{\"recording_disclosure\":false}", 200, NULL, NULL);
	s = simulate(id, "{'caller':'+14155550123','at':"
			 "'2026-03-09T12:30:00Z'}");
	assert_string_equal(path_of(s), "notice:next hours:closed vm:next");
	assert_non_null(
		strstr(json_string_value(json_object_get(
			       json_array_get(json_object_get(s, "path"), 0),
			       "detail")),
		       "off"));
	json_decref(s);
	expect("PATCH",
	       rt_test_fmt("/v1/accounts/%lld", (long long)srv.account_id),
	       "{\"recording_disclosure\":true}", 200, NULL, NULL);

	/* bad input */
	expect("POST", rt_test_fmt("/v1/flows/%lld/simulate", (long long)id),
	       "{\"caller\":\"555\"}", 422, "invalid_field", "caller");
	expect("POST", rt_test_fmt("/v1/flows/%lld/simulate", (long long)id),
	       "{\"digits\":\"12a\"}", 422, "invalid_field", "digits");
	expect("POST", rt_test_fmt("/v1/flows/%lld/simulate", (long long)id),
	       "{\"dial\":[\"maybe\"]}", 422, "invalid_field", "dial");
	expect("POST", rt_test_fmt("/v1/flows/%lld/simulate", (long long)id),
	       "{\"at\":\"yesterday\"}", 400, "invalid_field", "at");
	expect("POST", rt_test_fmt("/v1/flows/%lld/simulate", (long long)id),
	       "{\"attribution\":{\"gclid\":\"x\"}}", 400, "unknown_field",
	       "attribution.gclid");
	expect("POST", rt_test_fmt("/v1/flows/%lld/simulate", (long long)id),
	       "{\"version\":7}", 404, "not_found", "version");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_and_versions),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_simulate),
		cmocka_unit_test(test_numbers_and_pools),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
