/*
 * The parts of `ringtrail simulate` that need no server: visitors land in
 * the channel their kind of visit is meant for (run through the real
 * classifier), the same seed makes the same visitors, callers have
 * fictional numbers, every business has calls of both lengths, and a
 * script spoken is two tracks that take turns.
 */
#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dni/dni.h"
#include "sim/sim_int.h"

#define RATE 8000

/* The channel each kind of visit must land in. */
static const struct {
	const char *label;
	const char *channel, *or_channel;
} expected[] = {
	{"Google Ads", "Paid Search", NULL},
	{"Google organic", "Organic Search", NULL},
	{"Google Business Profile", "Organic Search", NULL},
	{"Bing organic", "Organic Search", NULL},
	{"Microsoft Ads", "Paid Search", NULL},
	{"Facebook ad", "Paid Social", NULL},
	{"Facebook post", "Organic Social", NULL},
	{"Instagram", "Organic Social", NULL},
	{"Newsletter", "Email", NULL},
	{"Direct", "Direct", NULL},
	/* Yelp and Nextdoor are social sites; the others referrals. */
	{"Directory listing", "Referral", "Organic Social"},
	{"Display remarketing", "Display", NULL},
};

static bool matches(const char *re, const char *s)
{
	regex_t rx;
	bool ok;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

static void test_visitors_classify(void **state)
{
	const char *const *names = rt_sim_businesses();
	struct rt_dni_sites *sites = NULL;
	struct rt_visit_source *src = calloc(1, sizeof(*src));
	unsigned seen[RT_ARRAY_SIZE(expected)] = {0}, bots = 0;
	(void)state;

	assert_non_null(src);
	assert_int_equal(rt_dni_sites_load(&sites), 0);
	for (size_t b = 0; names[b]; b++) {
		const struct rt_sim_business *biz = rt_sim_business(names[b]);
		struct rt_sim_rng rng;

		assert_non_null(biz);
		rt_sim_rng_init(&rng, 1000 + b);
		for (unsigned n = 1; n <= 300; n++) {
			struct rt_sim_visitor v;
			char err[256];
			size_t k;

			rt_sim_visitor_make(&rng, biz, n, &v);
			assert_true(matches("^\\+1[2-9][0-9]{2}55501[0-9]{2}$",
					    v.phone));
			assert_true(matches("^[0-9]{9}\\.[0-9]{10}$",
					    v.ga_client_id));
			assert_int_equal(strlen(v.visitor_id), 22);
			assert_non_null(strstr(v.landing, biz->host));
			if (v.bot) {
				assert_int_equal(n % 25, 0);
				assert_non_null(strstr(v.ua, "Googlebot"));
				bots++;
				continue;
			}
			assert_int_equal(rt_dni_classify(sites, v.landing,
							 v.referrer[0]
								 ? v.referrer
								 : NULL,
							 NULL, src, err,
							 sizeof(err)),
					 0);
			for (k = 0; k < RT_ARRAY_SIZE(expected); k++) {
				if (strcmp(expected[k].label, v.label) == 0)
					break;
			}
			if (k == RT_ARRAY_SIZE(expected))
				fail_msg("visit kind '%s' has no expected "
					 "channel",
					 v.label);
			if (strcmp(src->channel, expected[k].channel) &&
			    (!expected[k].or_channel ||
			     strcmp(src->channel, expected[k].or_channel)))
				fail_msg("a '%s' visit (%s, referrer %s) is "
					 "%s, want %s",
					 v.label, v.landing, v.referrer,
					 src->channel, expected[k].channel);
			seen[k]++;
			/* Google Ads carries its click id and keyword. */
			if (k == 0) {
				assert_true(src->click[0][0] != '\0');
				assert_true(src->keyword[0] != '\0');
			}
			if (v.second)
				assert_non_null(
					strstr(v.second_url, biz->host));
		}
	}
	for (size_t k = 0; k < RT_ARRAY_SIZE(expected); k++) {
		if (!seen[k])
			fail_msg("no '%s' visit in 900", expected[k].label);
	}
	assert_int_equal(bots, 3 * 12);
	rt_dni_sites_free(sites);
	free(src);
}

static void test_seed_repeats(void **state)
{
	const struct rt_sim_business *b = rt_sim_business("dental");
	struct rt_sim_rng x, y, z;
	struct rt_sim_visitor v, w, u;
	bool differ = false;
	(void)state;

	rt_sim_rng_init(&x, 42);
	rt_sim_rng_init(&y, 42);
	rt_sim_rng_init(&z, 43);
	for (unsigned n = 1; n <= 20; n++) {
		rt_sim_visitor_make(&x, b, n, &v);
		rt_sim_visitor_make(&y, b, n, &w);
		rt_sim_visitor_make(&z, b, n, &u);
		assert_string_equal(v.landing, w.landing);
		assert_string_equal(v.referrer, w.referrer);
		assert_string_equal(v.ua, w.ua);
		assert_string_equal(v.phone, w.phone);
		assert_string_equal(v.visitor_id, w.visitor_id);
		differ = differ || strcmp(v.landing, u.landing) != 0;
	}
	assert_true(differ);
}

static void test_businesses(void **state)
{
	const char *const *names = rt_sim_businesses();
	(void)state;

	assert_string_equal(names[0], "plumbing");
	assert_null(rt_sim_business("bakery"));
	for (size_t b = 0; names[b]; b++) {
		const struct rt_sim_business *biz = rt_sim_business(names[b]);
		unsigned brief = 0, full = 0;

		assert_non_null(biz);
		for (size_t i = 0; i < biz->nscripts; i++) {
			const struct rt_sim_script *s = &biz->scripts[i];

			brief += s->brief;
			full += !s->brief;
			/* The business answers the phone first. */
			assert_int_equal(s->turns[0].who, RT_SIM_AGENT);
			assert_true(s->nturns >= 3);
		}
		assert_true(brief >= 1 && full >= 1);
		assert_true(biz->nlandings && biz->npages && biz->nkeywords &&
			    biz->ncampaigns && biz->nreferrers);
	}
}

static double rms(const int16_t *p, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (double)p[i] * p[i];
	return n ? sqrt(sum / (double)n) : 0;
}

/* A script spoken: the greeting first, then the caller; never both at
 * once; speech loud enough for a telephone line; a cap leaves turns out. */
static void test_talk(void **state)
{
	const struct rt_sim_business *b = rt_sim_business("dental");
	const struct rt_sim_script *s = NULL;
	struct rt_speech *sp;
	struct rt_sim_talk t, capped;
	size_t overlap = 0;
	(void)state;

	for (size_t i = 0; i < b->nscripts && !s; i++) {
		if (b->scripts[i].brief)
			s = &b->scripts[i];
	}
	assert_non_null(s);
	assert_int_equal(rt_speech_alloc(&sp), 0);
	assert_int_equal(rt_sim_talk_render(sp, s, 0, &t), 0);
	/* A few seconds of speech a turn, at 8 kHz. */
	assert_true(t.len > (size_t)RATE * 2 * s->nturns / 2);
	assert_true(t.len < (size_t)RATE * 12 * s->nturns);
	assert_true(t.caller_from > (size_t)RATE / 2);
	assert_true(t.caller_from < t.len);
	assert_int_equal(t.agent_last,
			 s->turns[s->nturns - 1].who == RT_SIM_AGENT);
	/* Silence before the greeting and before the caller's first turn. */
	assert_true(rms(t.agent, RATE / 4) < 1);
	assert_true(rms(t.caller, t.caller_from) < 1);
	assert_true(rms(t.agent, t.caller_from) > 300);
	assert_true(rms(t.caller + t.caller_from, RATE) > 300);
	for (size_t i = 0; i < t.len; i++)
		overlap += t.agent[i] && t.caller[i];
	assert_int_equal(overlap, 0);

	/* Capped at a second: only the greeting starts before it. */
	assert_int_equal(rt_sim_talk_render(sp, s, 1000, &capped), 0);
	assert_true(capped.len < t.len);
	assert_int_equal(capped.caller_from, 0);
	assert_true(rms(capped.agent, capped.len) > 300);
	assert_true(rms(capped.caller, capped.len) < 1);
	rt_sim_talk_release(&capped);
	rt_sim_talk_release(&t);
	rt_speech_free(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_visitors_classify),
		cmocka_unit_test(test_seed_repeats),
		cmocka_unit_test(test_businesses),
		cmocka_unit_test(test_talk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
