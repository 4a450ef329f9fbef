/*
 * `ringtrail simulate` against the real server, as a newcomer runs it:
 * the server started (SIP on a free port), then the simulation with the
 * key serve printed.  What they must see afterwards through the API: the
 * "Simulation" account, the visitors' DNI sessions, and the calls, each
 * attributed to the visit that was shown its number (the session's
 * channel, its tracking number), answered ones with talk time and RTP
 * both ways; and for a wrong key, an unreachable server or a bad option,
 * a clear message and an exit status other than 0.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util/util.h"

#define VISITORS "12"
#define CALLS	 4

static struct rt_test_server srv;
static char sip[64];

static const char *jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

static int setup(void **state)
{
	char rtp[32];
	/* A range of its own for this run's RTP (tests run side by side). */
	unsigned base = 30000 + (unsigned)(getpid() % 20) * 100;
	const char *args[] = {"--sip-ring-timeout", "20s", "--sip-rtp-ports",
			      rtp, NULL};

	(void)state;
	snprintf(rtp, sizeof(rtp), "%u-%u", base, base + 99);
	rt_test_server_start(&srv, args, NULL);
	if (!srv.sip_port)
		fail_msg("the server printed no SIP port");
	snprintf(sip, sizeof(sip), "127.0.0.1:%u", srv.sip_port);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

/* The simulate command against srv with the given key and options. */
static int simulate(const char *key, const char *const *opts, char **out,
		    char **err)
{
	const char *argv[32] = {"simulate", "--url", srv.base, "--sip",
				sip,	    "--key", key};
	size_t n = 7;

	for (size_t i = 0; opts && opts[i] && n + 1 < RT_ARRAY_SIZE(argv); i++)
		argv[n++] = opts[i];
	argv[n] = NULL;
	return rt_test_cli(argv, NULL, NULL, out, err);
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);

	for (const char *l = text; l && *l;) {
		n += strncmp(l, prefix, pl) == 0;
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	return n;
}

/* The "Simulation" account's id, 0 when there is none. */
static int64_t simulation_account(size_t *howmany)
{
	struct rt_test_resp r;
	json_t *item;
	int64_t id = 0;
	size_t i;

	*howmany = 0;
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/accounts?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		if (strcmp(jstr(item, "name"), "Simulation") == 0) {
			id = json_integer_value(json_object_get(item, "id"));
			(*howmany)++;
		}
	}
	rt_test_resp_free(&r);
	return id;
}

static bool matches(const char *re, const char *s)
{
	regex_t rx;
	bool ok;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

/* A call's record checked against the visit it is attributed to. */
static void check_call(const json_t *item, bool *answered)
{
	struct rt_test_resp r, s;
	const json_t *c, *a, *src, *caller, *ev;
	const char *disp, *conf;
	int64_t rtp_caller = -1, rtp_callee = -1;
	size_t i;

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld",
				(long long)json_integer_value(
					json_object_get(item, "id"))),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	c = r.json;
	disp = jstr(c, "disposition");
	a = json_object_get(c, "attribution");
	src = json_object_get(a, "source");
	caller = json_object_get(c, "caller");
	conf = jstr(a, "confidence");

	/* Planned dispositions only: the simulation exits 1 otherwise. */
	if (strcmp(disp, "answered") && strcmp(disp, "no_answer") &&
	    strcmp(disp, "busy") && strcmp(disp, "abandoned"))
		fail_msg("call %s: disposition %s", jstr(c, "sip_call_id"),
			 disp);
	/* A fictional caller from a US area code the geocoder knows. */
	if (!matches("^\\+1[2-9][0-9]{2}55501[0-9]{2}$",
		     jstr(caller, "number")))
		fail_msg("caller %s is not a 555-01xx number",
			 jstr(caller, "number"));
	assert_string_equal(jstr(caller, "country"), "US");
	assert_true(jstr(caller, "location")[0] != '\0');
	/* The simulation's own number, called at its own phone. */
	assert_true(matches("^\\+1[0-9]{3}55501[0-9]{2}$",
			    jstr(c, "tracking_number")));
	assert_true(strncmp(jstr(c, "destination"),
			    "sip:agent@127.0.0.1:", 20) == 0);

	/* Attribution from the visit: a pool number held by one session
	 * (exact), or the Microsoft Ads source number (fixed). */
	assert_true(jstr(src, "channel")[0] != '\0');
	if (strcmp(conf, "exact") == 0) {
		const json_t *ss;

		assert_string_equal(jstr(c, "number_kind"), "pool");
		rt_test_api(&srv, &s, srv.key, "GET",
			    rt_test_fmt("/v1/dni/sessions/%s",
					jstr(a, "session_id")),
			    NULL);
		RT_EXPECT_STATUS(&s, 200);
		ss = json_object_get(s.json, "source");
		assert_string_equal(jstr(ss, "channel"), jstr(src, "channel"));
		assert_string_equal(jstr(ss, "source"), jstr(src, "source"));
		assert_string_equal(jstr(s.json, "number"),
				    jstr(c, "tracking_number"));
		assert_string_equal(jstr(s.json, "landing_url"),
				    jstr(a, "landing_url"));
		assert_true(json_array_size(json_object_get(a, "pages")) >= 1);
		rt_test_resp_free(&s);
	} else if (strcmp(conf, "fixed") == 0) {
		assert_string_equal(jstr(c, "number_kind"), "source");
		assert_string_equal(jstr(src, "source"), "bing");
		assert_string_equal(jstr(src, "channel"), "Paid Search");
	} else {
		fail_msg("call %s: attribution %s, want exact or fixed: %s",
			 jstr(c, "sip_call_id"), conf, r.body);
	}

	json_array_foreach (json_object_get(c, "events"), i, ev) {
		if (strcmp(jstr(ev, "kind"), "ended") != 0)
			continue;
		rtp_caller = json_integer_value(
			json_object_get(json_object_get(ev, "detail"),
					"rtp_from_caller"));
		rtp_callee = json_integer_value(
			json_object_get(json_object_get(ev, "detail"),
					"rtp_from_callee"));
	}
	if (strcmp(disp, "answered") == 0) {
		double talk =
			json_real_value(json_object_get(c, "talk_seconds"));

		*answered = true;
		if (talk < 2.0 || rtp_caller < 50 || rtp_callee < 50)
			fail_msg("answered call %s: talk %.1fs, rtp %lld/%lld",
				 jstr(c, "sip_call_id"), talk,
				 (long long)rtp_caller, (long long)rtp_callee);
		/* 50 packets a second each way, from the answer on. */
		assert_true(rtp_caller >= (int64_t)(talk * 50 * 0.8));
		assert_true(rtp_callee >= (int64_t)(talk * 50 * 0.8));
	} else {
		assert_int_equal(rtp_caller, 0);
	}
	rt_test_resp_free(&r);
}

static void test_simulation(void **state)
{
	const char *opts[] = {"--visitors",  VISITORS, "--calls",    "4",
			      "--duration",  "5s",     "--max-talk", "8s",
			      "--max-ring",  "2s",     "--seed",     "42",
			      "--log-level", "warn",   NULL};
	struct rt_test_resp r;
	char *out = NULL, *err = NULL;
	int64_t acct;
	size_t n, i;
	bool answered = false;
	json_t *item;
	int rc;
	(void)state;

	rc = simulate(srv.key, opts, &out, &err);
	if (rc != 0) {
		/* cmocka cuts long messages: the output goes first. */
		fprintf(stderr, "stdout:\n%s\nstderr:\n%s\n", out, err);
		free(out);
		free(err);
		fail_msg("simulate exited %d", rc);
	}
	/* A line per visit and per call, and the summary. */
	assert_int_equal(count_lines(out, "visit "), 12);
	assert_int_equal(count_lines(out, "call "), CALLS);
	assert_non_null(strstr(out, "\ndone in "));
	assert_non_null(strstr(out, "4 placed"));
	assert_non_null(strstr(out, "/v1/calls?account_id="));
	assert_null(strstr(out, " ! "));

	acct = simulation_account(&n);
	assert_int_equal(n, 1);
	assert_true(acct > 0);

	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls?account_id=%lld&limit=50",
				(long long)acct),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "data")),
			 CALLS);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		/* Each call id is in the output, on its line. */
		assert_non_null(
			strstr(out,
			       rt_test_fmt("call %lld\n",
					   (long long)json_integer_value(
						   json_object_get(item,
								   "id")))));
		check_call(item, &answered);
	}
	rt_test_resp_free(&r);
	/* The first call of every run is answered, so a newcomer hears one. */
	assert_true(answered);

	/* Nothing landed in the user's own account. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/numbers?account_id=%lld",
				(long long)srv.account_id),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		assert_int_not_equal(json_integer_value(
					     json_object_get(item,
							     "account_id")),
				     srv.account_id);
	}
	rt_test_resp_free(&r);
	free(out);
	free(err);
}

/* A second run finds the account, its pool and its numbers. */
static void test_second_run(void **state)
{
	const char *opts[] = {"--visitors",  "3",    "--calls", "0",
			      "--duration",  "1s",   "--seed",	"7",
			      "--log-level", "warn", NULL};
	struct rt_test_resp r;
	char *out = NULL, *err = NULL;
	size_t n, pools = 0, i;
	json_t *item;
	int64_t acct;
	int rc;
	(void)state;

	rc = simulate(srv.key, opts, &out, &err);
	if (rc != 0)
		fail_msg("simulate exited %d: %s%s", rc, out, err);
	assert_int_equal(count_lines(out, "visit "), 3);
	assert_null(strstr(out, "made for it now"));
	acct = simulation_account(&n);
	assert_int_equal(n, 1);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/pools?account_id=%lld", (long long)acct),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item)
		pools++;
	assert_int_equal(pools, 1);
	rt_test_resp_free(&r);
	free(out);
	free(err);
}

static void test_wrong_key(void **state)
{
	const char *opts[] = {"--visitors", "2", "--calls", "1", NULL};
	char *out = NULL, *err = NULL;
	size_t n;
	int rc;
	(void)state;

	rc = simulate("rt_live_notakey", opts, &out, &err);
	assert_int_equal(rc, 1);
	if (!strstr(err, "refused the API key") ||
	    !strstr(err, "unauthenticated"))
		fail_msg("want a clear message, got: %s", err);
	assert_null(strstr(out, "visit "));
	free(out);
	free(err);
	/* Nothing was made with it. */
	simulation_account(&n);
	assert_true(n <= 1);
}

static void test_unreachable_and_bad_options(void **state)
{
	const char *unreachable[] = {"simulate", "--url", "http://127.0.0.1:1",
				     "--key",	 "k",	  NULL};
	const char *bad[] = {"simulate",   "--key", "k",
			     "--visitors", "many",  NULL};
	const char *nokey[] = {"simulate", NULL};
	char *out = NULL, *err = NULL;
	int rc;
	(void)state;

	rc = rt_test_cli(unreachable, NULL, NULL, &out, &err);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "cannot reach the server at "
				    "http://127.0.0.1:1"));
	free(out);
	free(err);
	rc = rt_test_cli(bad, NULL, NULL, &out, &err);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "bad --visitors 'many'"));
	free(out);
	free(err);
	rc = rt_test_cli(nokey, NULL, NULL, &out, &err);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "needs an API key"));
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_unreachable_and_bad_options),
		cmocka_unit_test(test_simulation),
		cmocka_unit_test(test_second_run),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
