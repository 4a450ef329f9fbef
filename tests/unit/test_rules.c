/*
 * Custom source rules: what a rule may be (rt_dni_rule_check), what a rule
 * set does to a classified visit (every op and field, case, order,
 * inactive rules, the channel recomputed, the pool picked), regexes that
 * are refused, concurrent use, and the store: positions kept 1..n, the
 * pool of the rule's own account, paging, and tenant scope.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dni/dni.h"
#include "store/store.h"
#include "util/util.h"

static struct rt_dni_sites *sites;

static struct rt_source_rule rule(const char *field, const char *op,
				  const char *value, const char *source,
				  const char *medium)
{
	struct rt_source_rule r;

	memset(&r, 0, sizeof(r));
	rt_strlcpy(r.name, "Rule", sizeof(r.name));
	rt_strlcpy(r.field, field, sizeof(r.field));
	rt_strlcpy(r.op, op, sizeof(r.op));
	rt_strlcpy(r.value, value, sizeof(r.value));
	rt_strlcpy(r.source_label, source, sizeof(r.source_label));
	rt_strlcpy(r.medium_label, medium, sizeof(r.medium_label));
	rt_strlcpy(r.status, "active", sizeof(r.status));
	return r;
}

/* The failing field of a rule, or NULL when it passes. */
static const char *check(const struct rt_source_rule *r, char *msg,
			 size_t msgsz)
{
	const char *field = NULL;

	if (rt_dni_rule_check(r, &field, msg, msgsz) == 0)
		return NULL;
	assert_non_null(field);
	assert_true(msg[0] != '\0');
	return field;
}

static void classify(const char *url, const char *ref,
		     struct rt_visit_source *v)
{
	char err[160];

	assert_int_equal(rt_dni_classify(sites, url, ref, NULL, v, err,
					 sizeof(err)),
			 0);
}

/* Applies one rule to the visit of url/ref; true when it matched. */
static bool one(const struct rt_source_rule *r, const char *url,
		const char *ref, struct rt_visit_source *v)
{
	struct rt_dni_ruleset *rs = NULL;
	int64_t pool = -1, id = -1;
	int err;

	classify(url, ref, v);
	assert_int_equal(rt_dni_ruleset_build(sites, r, 1, &rs), 0);
	assert_int_equal(rt_dni_ruleset_size(rs), 1);
	err = rt_dni_ruleset_apply(rs, v, url, ref, &pool, &id);
	rt_dni_ruleset_free(rs);
	assert_true(err == 0 || err == ENOENT);
	if (err) {
		assert_int_equal(pool, 0);
		assert_int_equal(id, 0);
	}
	return err == 0;
}

/* ---- the rules of a rule ------------------------------------------------ */

static void test_check(void **state)
{
	struct rt_source_rule r;
	char msg[256], big[400];
	(void)state;

	r = rule("landing_page", "prefix", "/radio", "radio", "audio");
	assert_null(check(&r, msg, sizeof(msg)));
	/* Every field and op by name. */
	for (const char *const *f = rt_dni_rule_fields; *f; f++) {
		rt_strlcpy(r.field, *f, sizeof(r.field));
		assert_null(check(&r, msg, sizeof(msg)));
	}
	for (const char *const *o = rt_dni_rule_ops; *o; o++) {
		rt_strlcpy(r.op, *o, sizeof(r.op));
		rt_strlcpy(r.value, strcmp(*o, "exists") ? "x" : "",
			   sizeof(r.value));
		assert_null(check(&r, msg, sizeof(msg)));
	}

	r = rule("source", "equals", "x", "s", "");
	rt_strlcpy(r.name, "", sizeof(r.name));
	assert_string_equal(check(&r, msg, sizeof(msg)), "name");
	r = rule("utm_source", "equals", "x", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "field");
	r = rule("", "equals", "x", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "field");
	r = rule("source", "matches", "x", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "op");
	r = rule("source", "Equals", "x", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "op");
	r = rule("source", "equals", "", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "value");
	r = rule("source", "exists", "x", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "value");
	r = rule("source", "contains", "a\tb", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "value");
	r = rule("source", "equals", "x", "", "cpc");
	assert_string_equal(check(&r, msg, sizeof(msg)), "source_label");
	r = rule("source", "equals", "x", "a\nb", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "source_label");
	r = rule("source", "equals", "x", "s", "c\x7f");
	assert_string_equal(check(&r, msg, sizeof(msg)), "medium_label");
	r = rule("source", "equals", "x", "s", "");
	rt_strlcpy(r.status, "deleted", sizeof(r.status));
	assert_string_equal(check(&r, msg, sizeof(msg)), "status");
	rt_strlcpy(r.status, "inactive", sizeof(r.status));
	assert_null(check(&r, msg, sizeof(msg)));

	/* Values and labels of 255 bytes are the most a struct holds. */
	memset(big, 'a', sizeof(big));
	big[255] = '\0';
	r = rule("source", "equals", big, big, big);
	assert_null(check(&r, msg, sizeof(msg)));
}

static void test_bad_regex(void **state)
{
	static const char *const bad[] = {
		"(unclosed", "[a-", "a{2,1}", "*a", "x{", "(a|b",
	};
	static const char *const too_much[] = {
		"((a{99}){99}){99}",
		"a{1001}",
		"(x{100}){11}",
		"([0-9]{1,40}){40}",
		"a{9999999999}",
		"((((((((((x+)+)+)+)+)+)+)+)+)+)+",
		/* found by fuzz_body_post_v1_source_rules: "{,n}" is a bound */
		"((a{00}){99}){,99}",
		"(a{,50}){,50}",
	};
	static const char *const good[] = {
		"^/(radio|tv)/",
		"^[0-9]{3}-[0-9]{4}$",
		"[[:alpha:]]+\\.example\\.(com|org)$",
		"a{900}",
		"(ab{10}){10}c{100}",
		"((a+|b+)+c)+",
		"[]{}]{5}",
		"^",
	};
	struct rt_source_rule r;
	char msg[256];
	(void)state;

	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		r = rule("landing_url", "regex", bad[i], "s", "");
		if (!check(&r, msg, sizeof(msg)))
			fail_msg("'%s' was accepted", bad[i]);
		assert_string_equal(check(&r, msg, sizeof(msg)), "value");
		assert_non_null(strstr(msg, "not a valid regular expression"));
	}
	/* regerror's own words reach the message. */
	r = rule("landing_url", "regex", "(unclosed", "s", "");
	check(&r, msg, sizeof(msg));
	assert_non_null(strstr(msg, "("));
	for (size_t i = 0; i < RT_ARRAY_SIZE(too_much); i++) {
		r = rule("landing_url", "regex", too_much[i], "s", "");
		if (!check(&r, msg, sizeof(msg)))
			fail_msg("'%s' was accepted", too_much[i]);
		assert_non_null(strstr(msg, "too complex"));
	}
	for (const char *const *st =
		     (const char *const[]){"a**", ".*?", "a+{2}", "(a?)+*",
					   NULL};
	     *st; st++) {
		r = rule("landing_url", "regex", *st, "s", "");
		assert_string_equal(check(&r, msg, sizeof(msg)), "value");
		assert_non_null(strstr(msg, "repeats a repeat"));
	}
	r = rule("landing_url", "regex", "^\\d{3}$", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "value");
	assert_non_null(strstr(msg, "[0-9]"));
	r = rule("landing_url", "regex", "[\\d]", "s", ""); /* in a class */
	assert_null(check(&r, msg, sizeof(msg)));
	r = rule("landing_url", "regex", "(a)\\1", "s", "");
	assert_string_equal(check(&r, msg, sizeof(msg)), "value");
	assert_non_null(strstr(msg, "backreferences"));
	for (size_t i = 0; i < RT_ARRAY_SIZE(good); i++) {
		r = rule("landing_url", "regex", good[i], "s", "");
		if (check(&r, msg, sizeof(msg)))
			fail_msg("'%s' was refused: %s", good[i], msg);
	}
}

/* ---- matching ----------------------------------------------------------- */

#define FULL_URL                                                               \
	"https://www.example.com/landing/Page?utm_source=newsletter&"          \
	"utm_medium=email&utm_campaign=spring&utm_term=plumber&"               \
	"utm_content=banner1&adgroupid=111&campaignid=222&matchtype=e&"        \
	"network=g&device=m&gclid=G1&gbraid=GB1&wbraid=WB1&msclkid=M1&"        \
	"fbclid=F1&ttclid=T1&li_fat_id=L1"
#define FULL_REF "https://mail.example.org/inbox"

static void test_every_field(void **state)
{
	static const struct {
		const char *field, *value;
	} cases[] = {
		{"source", "newsletter"},
		{"medium", "email"},
		{"campaign", "spring"},
		{"term", "plumber"},
		{"content", "banner1"},
		{"channel", "Email"},
		{"ad_group", "111"},
		{"keyword", "plumber"},
		{"campaign_id", "222"},
		{"matchtype", "e"},
		{"network", "g"},
		{"device", "m"},
		{"landing_page", "/landing/Page"},
		{"landing_host", "www.example.com"},
		{"referrer_host", "mail.example.org"},
		/* Values are at most 255 bytes: prefix for the long URL. */
		{"landing_url", "https://www.example.com/landing/Page?utm_"},
		{"referrer", FULL_REF},
		{"gclid", "G1"},
		{"gbraid", "GB1"},
		{"wbraid", "WB1"},
		{"msclkid", "M1"},
		{"fbclid", "F1"},
		{"ttclid", "T1"},
		{"li_fat_id", "L1"},
	};
	struct rt_visit_source v;
	struct rt_source_rule r;
	size_t n = 0;
	(void)state;

	for (const char *const *f = rt_dni_rule_fields; *f; f++)
		n++;
	assert_int_equal(n, RT_ARRAY_SIZE(cases));
	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		r = rule(cases[i].field,
			 strcmp(cases[i].field, "landing_url") ? "equals"
							       : "prefix",
			 cases[i].value, "hit", "");
		r.case_sensitive = true;
		if (!one(&r, FULL_URL, FULL_REF, &v))
			fail_msg("%s = '%s' did not match", cases[i].field,
				 cases[i].value);
		assert_string_equal(v.source, "hit");
		r = rule(cases[i].field, "equals", "nothing like it", "hit",
			 "");
		assert_false(one(&r, FULL_URL, FULL_REF, &v));
		assert_string_equal(v.source, "newsletter");
		r = rule(cases[i].field, "exists", "", "hit", "");
		assert_true(one(&r, FULL_URL, FULL_REF, &v));
	}

	/* Absent fields: no referrer, no click id, no tags. */
	r = rule("referrer_host", "exists", "", "hit", "");
	assert_false(one(&r, "https://www.example.com/", NULL, &v));
	r = rule("referrer", "exists", "", "hit", "");
	assert_false(one(&r, "https://www.example.com/", "", &v));
	r = rule("gclid", "exists", "", "hit", "");
	assert_false(one(&r, "https://www.example.com/?msclkid=1", NULL, &v));
	r = rule("msclkid", "exists", "", "hit", "");
	assert_true(one(&r, "https://www.example.com/?msclkid=1", NULL, &v));
	r = rule("term", "regex", "^$", "hit", "");
	assert_true(one(&r, "https://www.example.com/", NULL, &v));
}

static void test_ops_and_case(void **state)
{
	static const struct {
		const char *op, *value;
		bool cs, match;
	} cases[] = {
		/* The visit's campaign is "Spring Sale 2024". */
		{"equals", "Spring Sale 2024", true, true},
		{"equals", "spring sale 2024", true, false},
		{"equals", "spring sale 2024", false, true},
		{"equals", "Spring Sale", false, false},
		{"prefix", "Spring", true, true},
		{"prefix", "spring", true, false},
		{"prefix", "SPRING s", false, true},
		{"prefix", "Sale", false, false},
		{"prefix", "Spring Sale 2024 and more", false, false},
		{"contains", "Sale", true, true},
		{"contains", "sale", true, false},
		{"contains", "SALE 20", false, true},
		{"contains", "Winter", false, false},
		{"regex", "^Spring .* [0-9]{4}$", true, true},
		{"regex", "^spring", true, false},
		{"regex", "^spring", false, true},
		{"regex", "sale (2023|2024)", false, true},
		{"regex", "sale (2023|2025)", false, false},
		{"regex", "Sale", true, true}, /* unanchored: anywhere */
		{"exists", "", false, true},
		{"exists", "", true, true},
	};
	const char *url = "https://www.example.com/?utm_source=mail&utm_"
			  "medium=email&utm_campaign=Spring+Sale+2024";
	struct rt_visit_source v;
	(void)state;

	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		struct rt_source_rule r =
			rule("campaign", cases[i].op, cases[i].value, "x", "");

		r.case_sensitive = cases[i].cs;
		if (one(&r, url, NULL, &v) != cases[i].match)
			fail_msg("%s '%s' (case %s): want %s", cases[i].op,
				 cases[i].value,
				 cases[i].cs ? "sensitive" : "insensitive",
				 cases[i].match ? "a match" : "none");
	}
}

static void test_order_and_inactive(void **state)
{
	struct rt_source_rule rules[4];
	struct rt_dni_ruleset *rs = NULL;
	struct rt_visit_source v;
	const char *url = "https://www.example.com/radio/offer?utm_source="
			  "station&utm_medium=audio";
	int64_t pool, id;
	(void)state;

	rules[0] = rule("source", "equals", "station", "first", "");
	rules[0].id = 11;
	rules[0].pool_id = 5;
	rt_strlcpy(rules[0].status, "inactive", sizeof(rules[0].status));
	rules[1] = rule("landing_page", "prefix", "/tv", "tv", "");
	rules[1].id = 12;
	rules[2] = rule("landing_page", "contains", "radio", "second", "");
	rules[2].id = 13;
	rules[2].pool_id = 7;
	rules[3] = rule("medium", "equals", "audio", "third", "");
	rules[3].id = 14;
	rules[3].pool_id = 9;

	/* The inactive rule is left out; the first match of the rest
	 * wins, with its pool. */
	assert_int_equal(rt_dni_ruleset_build(sites, rules, 4, &rs), 0);
	assert_int_equal(rt_dni_ruleset_size(rs), 3);
	classify(url, NULL, &v);
	assert_int_equal(rt_dni_ruleset_apply(rs, &v, url, NULL, &pool, &id),
			 0);
	assert_string_equal(v.source, "second");
	assert_int_equal(pool, 7);
	assert_int_equal(id, 13);
	rt_dni_ruleset_free(rs);

	/* The order given is the order tried. */
	rules[2] = rules[3];
	assert_int_equal(rt_dni_ruleset_build(sites, rules, 3, &rs), 0);
	classify(url, NULL, &v);
	assert_int_equal(rt_dni_ruleset_apply(rs, &v, url, NULL, &pool, &id),
			 0);
	assert_string_equal(v.source, "third");
	assert_int_equal(pool, 9);
	assert_int_equal(id, 14);
	/* No match: the visit is untouched; NULL outputs are fine. */
	{
		struct rt_visit_source before;

		classify("https://www.example.com/", NULL, &v);
		before = v;
		assert_int_equal(rt_dni_ruleset_apply(rs, &v, NULL, NULL, &pool,
						      &id),
				 ENOENT);
		assert_int_equal(pool, 0);
		assert_int_equal(id, 0);
		assert_memory_equal(&before, &v, sizeof(v));
		assert_int_equal(rt_dni_ruleset_apply(rs, &v, NULL, NULL, NULL,
						      NULL),
				 ENOENT);
	}
	rt_dni_ruleset_free(rs);

	/* An empty set, and none at all, match nothing. */
	assert_int_equal(rt_dni_ruleset_build(sites, rules, 0, &rs), 0);
	assert_int_equal(rt_dni_ruleset_apply(rs, &v, url, NULL, &pool, &id),
			 ENOENT);
	rt_dni_ruleset_free(rs);
	assert_int_equal(rt_dni_ruleset_apply(NULL, &v, url, NULL, &pool, &id),
			 ENOENT);
	rt_dni_ruleset_free(NULL);

	/* A rule that no longer passes the check is left out, not the
	 * whole set. */
	rules[0] = rule("utm_nothing", "equals", "x", "bad", "");
	rules[1] = rule("source", "regex", "(", "bad", "");
	rules[2] = rule("landing_page", "prefix", "/", "good", "");
	rt_log_set_level(RT_LOG_ERROR);
	assert_int_equal(rt_dni_ruleset_build(sites, rules, 3, &rs), 0);
	assert_int_equal(rt_dni_ruleset_size(rs), 1);
	classify(url, NULL, &v);
	assert_int_equal(rt_dni_ruleset_apply(rs, &v, url, NULL, NULL, NULL),
			 0);
	assert_string_equal(v.source, "good");
	rt_dni_ruleset_free(rs);
}

static void test_channel(void **state)
{
	struct rt_source_rule r;
	struct rt_visit_source v;
	(void)state;

	/* A direct visit to the radio ad's page becomes Audio. */
	classify("https://www.example.com/radio", NULL, &v);
	assert_string_equal(v.channel, "Direct");
	r = rule("landing_page", "equals", "/radio", "radio_ad", "audio");
	assert_true(one(&r, "https://www.example.com/radio", NULL, &v));
	assert_string_equal(v.source, "radio_ad");
	assert_string_equal(v.medium, "audio");
	assert_string_equal(v.channel, "Audio");
	assert_string_equal(v.campaign, "(direct)"); /* kept */

	/* A source label alone keeps the medium: a partner's referral
	 * labelled google is Organic Search, google being a search site... */
	r = rule("referrer_host", "equals", "partner.example.net", "google",
		 "");
	assert_true(one(&r, "https://www.example.com/",
			"https://partner.example.net/p", &v));
	assert_string_equal(v.source, "google");
	assert_string_equal(v.medium, "referral");
	assert_string_equal(v.channel, "Organic Search");
	/* ...and with a medium it is Paid Search. */
	r = rule("referrer_host", "equals", "partner.example.net", "google",
		 "cpc");
	assert_true(one(&r, "https://www.example.com/",
			"https://partner.example.net/p", &v));
	assert_string_equal(v.channel, "Paid Search");

	/* Labels equal to the visit's own change nothing, channel
	 * included. */
	r = rule("source", "equals", "google", "google", "cpc");
	assert_true(one(&r, "https://www.example.com/?gclid=x", NULL, &v));
	assert_string_equal(v.channel, "Paid Search");
	{
		struct rt_dni_ruleset *rs = NULL;

		classify("https://www.example.com/?gclid=x", NULL, &v);
		rt_strlcpy(v.channel, "Kept", sizeof(v.channel));
		assert_int_equal(rt_dni_ruleset_build(sites, &r, 1, &rs), 0);
		assert_int_equal(rt_dni_ruleset_apply(rs, &v, NULL, NULL, NULL,
						      NULL),
				 0);
		assert_string_equal(v.channel, "Kept");
		rt_dni_ruleset_free(rs);
	}

	/* A rule can match the channel the classification gave. */
	r = rule("channel", "equals", "organic search", "seo", "organic");
	assert_true(one(&r, "https://www.example.com/",
			"https://www.google.com/", &v));
	assert_string_equal(v.source, "seo");
	assert_string_equal(v.channel, "Organic Search");
}

/* Patterns that backtrack in other engines stay quick on a long URL. */
static void test_regex_speed(void **state)
{
	static const char *const pats[] = {"(a|aa)*b", "(a*)*b", "(a+)+$x",
					   "^(([a-z])+.)+[A-Z]([a-z])+$"};
	char url[RT_DNI_URL_MAX];
	struct rt_visit_source v;
	(void)state;

	snprintf(url, sizeof(url), "https://www.example.com/?q=");
	memset(url + strlen(url), 'a', sizeof(url) - strlen(url) - 1);
	url[sizeof(url) - 1] = '\0';
	for (size_t i = 0; i < RT_ARRAY_SIZE(pats); i++) {
		struct rt_source_rule r =
			rule("landing_url", "regex", pats[i], "x", "");
		int64_t t0 = rt_now_ms();

		assert_false(one(&r, url, NULL, &v));
		if (rt_now_ms() - t0 > 2000)
			fail_msg("'%s' took %lld ms", pats[i],
				 (long long)(rt_now_ms() - t0));
	}
}

/* ---- threads ------------------------------------------------------------ */

struct worker {
	const struct rt_dni_ruleset *rs;
	int hits;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const char *urls[] = {"https://www.example.com/radio/x",
			      "https://www.example.com/tv/y",
			      "https://www.example.com/other"};

	for (int i = 0; i < 3000; i++) {
		struct rt_visit_source v;
		const char *url = urls[i % 3];
		char err[160];
		int64_t pool;

		if (rt_dni_classify(sites, url, NULL, NULL, &v, err,
				    sizeof(err)))
			return NULL;
		if (rt_dni_ruleset_apply(w->rs, &v, url, NULL, &pool, NULL) ==
			    0 &&
		    pool == (i % 3 == 0 ? 1 : 2))
			w->hits++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct rt_source_rule rules[2];
	struct rt_dni_ruleset *rs = NULL;
	struct worker w[4];
	pthread_t t[4];
	(void)state;

	rules[0] = rule("landing_url", "regex", "/RADIO/", "radio", "audio");
	rules[0].pool_id = 1;
	rules[1] = rule("landing_page", "regex", "^/tv/", "tv", "audio");
	rules[1].pool_id = 2;
	assert_int_equal(rt_dni_ruleset_build(sites, rules, 2, &rs), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.rs = rs};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].hits, 2000);
	}
	rt_dni_ruleset_free(rs);
}

/* ---- the store ---------------------------------------------------------- */

struct fix {
	struct rt_store *s;
	struct rt_store_tx *tx;
	int64_t a, a_client, b;
};

static int64_t account(struct rt_store_tx *tx, const char *name, int64_t parent)
{
	struct rt_account a = {0};

	rt_strlcpy(a.name, name, sizeof(a.name));
	rt_strlcpy(a.kind, parent ? "client" : "agency", sizeof(a.kind));
	rt_strlcpy(a.time_zone, "UTC", sizeof(a.time_zone));
	rt_strlcpy(a.currency, "USD", sizeof(a.currency));
	a.parent_id = parent;
	assert_int_equal(parent ? rt_store_account_create(tx, parent, &a)
				: rt_store_account_create_root(tx, &a),
			 0);
	return a.id;
}

static int store_setup(void **state)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 1000};
	struct fix *f = calloc(1, sizeof(*f));

	rt_log_set_level(RT_LOG_ERROR);
	assert_non_null(f);
	assert_int_equal(rt_store_open(&f->s, ":memory:", &o), 0);
	assert_int_equal(rt_store_migrate(f->s, NULL), 0);
	assert_int_equal(rt_store_begin(f->s, true, &f->tx), 0);
	f->a = account(f->tx, "A", 0);
	f->a_client = account(f->tx, "A client", f->a);
	f->b = account(f->tx, "B", 0);
	*state = f;
	return 0;
}

static int store_teardown(void **state)
{
	struct fix *f = *state;

	rt_store_rollback(f->tx);
	rt_store_close(f->s);
	free(f);
	return 0;
}

static int64_t add(struct fix *f, int64_t scope, int64_t account_id,
		   const char *name, int64_t position)
{
	struct rt_source_rule r =
		rule("landing_page", "prefix", "/", "label", "");

	rt_strlcpy(r.name, name, sizeof(r.name));
	r.account_id = account_id;
	r.position = position;
	assert_int_equal(rt_store_source_rule_create(f->tx, scope, &r), 0);
	return r.id;
}

struct names {
	char text[512];
	int64_t last;
};

static int name_row(const struct rt_source_rule *r, void *arg)
{
	struct names *n = arg;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s%s:%lld",
		 len ? " " : "", r->name, (long long)r->position);
	n->last = r->id;
	return 0;
}

/* The rules of an account as "name:position ..." in order. */
static const char *order(struct fix *f, int64_t account_id)
{
	static struct names n;
	struct rt_page pg = {.after = 0, .limit = 100};

	memset(&n, 0, sizeof(n));
	assert_int_equal(rt_store_source_rule_list(f->tx, f->a, account_id, &pg,
						   name_row, &n),
			 0);
	return n.text;
}

static void test_store_positions(void **state)
{
	struct fix *f = *state;
	struct rt_source_rule r, got;
	int64_t one_id, two, three, four;

	one_id = add(f, f->a, f->a, "one", 0);
	two = add(f, f->a, f->a, "two", 0);
	three = add(f, f->a, f->a, "three", 99); /* past the end: last */
	assert_string_equal(order(f, f->a), "one:1 two:2 three:3");

	/* Inserted first, the others move down. */
	four = add(f, f->a, f->a, "four", 1);
	assert_string_equal(order(f, f->a), "four:1 one:2 two:3 three:4");

	/* Moved down and up; other fields come back as written. */
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a, four, &r), 0);
	r.position = 3;
	rt_strlcpy(r.op, "regex", sizeof(r.op));
	rt_strlcpy(r.value, "^/x", sizeof(r.value));
	rt_strlcpy(r.medium_label, "cpc", sizeof(r.medium_label));
	r.case_sensitive = true;
	rt_strlcpy(r.status, "inactive", sizeof(r.status));
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), 0);
	assert_string_equal(order(f, f->a), "one:1 two:2 four:3 three:4");
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a, four, &got), 0);
	assert_string_equal(got.op, "regex");
	assert_string_equal(got.value, "^/x");
	assert_string_equal(got.medium_label, "cpc");
	assert_true(got.case_sensitive);
	assert_string_equal(got.status, "inactive");
	assert_int_equal(got.position, 3);
	assert_true(got.updated_at >= got.created_at);
	r.position = 1;
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), 0);
	assert_string_equal(order(f, f->a), "four:1 one:2 two:3 three:4");
	r.position = 50; /* past the end: last */
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), 0);
	assert_string_equal(order(f, f->a), "one:1 two:2 three:3 four:4");
	r.position = 0; /* kept */
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), 0);
	assert_string_equal(order(f, f->a), "one:1 two:2 three:3 four:4");

	/* Deleted, the rest close up. */
	assert_int_equal(rt_store_source_rule_delete(f->tx, f->a, two), 0);
	assert_string_equal(order(f, f->a), "one:1 three:2 four:3");
	assert_int_equal(rt_store_source_rule_delete(f->tx, f->a, two), ENOENT);
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a, two, &got),
			 ENOENT);

	/* Each account has its own order. */
	add(f, f->a, f->a_client, "c1", 0);
	add(f, f->a, f->a_client, "c0", 1);
	assert_string_equal(order(f, f->a_client), "c0:1 c1:2");
	assert_string_equal(order(f, 0), "one:1 three:2 four:3 c0:1 c1:2");
	(void)one_id;
	(void)three;
}

static int collect_active(const struct rt_source_rule *r, void *arg)
{
	struct rt_source_rule *out = arg;

	for (; out->id; out++)
		;
	*out = *r;
	return 0;
}

static void test_store_active_and_paging(void **state)
{
	struct fix *f = *state;
	struct rt_source_rule act[8], r;
	struct rt_dni_ruleset *rs = NULL;
	struct rt_visit_source v;
	struct rt_page pg = {.after = 0, .limit = 2};
	struct names n = {{0}, 0};
	int64_t x, y, z;
	int64_t pool = 0, id = 0;

	x = add(f, f->a, f->a, "x", 0);
	y = add(f, f->a, f->a, "y", 0);
	z = add(f, f->a, f->a, "z", 1);
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a, y, &r), 0);
	rt_strlcpy(r.status, "inactive", sizeof(r.status));
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), 0);

	/* The active rules, in order, as the visit path reads them; with
	 * scope 0 too. */
	memset(act, 0, sizeof(act));
	assert_int_equal(rt_store_source_rule_list_active(f->tx, f->a, f->a,
							  collect_active, act),
			 0);
	assert_int_equal(act[0].id, z);
	assert_int_equal(act[1].id, x);
	assert_int_equal(act[2].id, 0);
	memset(act, 0, sizeof(act));
	assert_int_equal(rt_store_source_rule_list_active(f->tx, 0, f->a,
							  collect_active, act),
			 0);
	assert_int_equal(act[1].id, x);
	assert_int_equal(rt_dni_ruleset_build(sites, act, 2, &rs), 0);
	classify("https://www.example.com/", NULL, &v);
	assert_int_equal(rt_dni_ruleset_apply(rs, &v, NULL, NULL, &pool, &id),
			 0);
	assert_int_equal(id, z);
	rt_dni_ruleset_free(rs);

	/* Pages follow the order, not the ids (limit 2 asks for one more
	 * than a page, as the API does). */
	assert_int_equal(rt_store_source_rule_list(f->tx, f->a, f->a, &pg,
						   name_row, &n),
			 0);
	assert_string_equal(n.text, "z:1 x:2");
	pg.after = x;
	memset(&n, 0, sizeof(n));
	assert_int_equal(rt_store_source_rule_list(f->tx, f->a, f->a, &pg,
						   name_row, &n),
			 0);
	assert_string_equal(n.text, "y:3");
	/* A cursor whose rule is gone is stale. */
	assert_int_equal(rt_store_source_rule_delete(f->tx, f->a, x), 0);
	assert_int_equal(rt_store_source_rule_list(f->tx, f->a, f->a, &pg,
						   name_row, &n),
			 ESTALE);
}

static void test_store_pools_and_limit(void **state)
{
	struct fix *f = *state;
	struct rt_source_rule r = rule("source", "equals", "x", "y", "");
	struct rt_pool p = {0}, cp = {0}, bp = {0};
	const char *t[] = {"+13125550100"};
	const char *field;
	char msg[160];

	rt_dni_pool_defaults(&p);
	rt_strlcpy(p.name, "P", sizeof(p.name));
	assert_int_equal(rt_dni_pool_check(&p, t, 1, NULL, &field, msg,
					   sizeof(msg)),
			 0);
	cp = p;
	bp = p;
	p.account_id = f->a;
	cp.account_id = f->a_client;
	bp.account_id = f->b;
	assert_int_equal(rt_store_pool_create(f->tx, f->a, &p), 0);
	assert_int_equal(rt_store_pool_create(f->tx, f->a, &cp), 0);
	assert_int_equal(rt_store_pool_create(f->tx, f->b, &bp), 0);

	/* The pool of the rule's own account; another's in the tree is
	 * EPERM, another tenant's ENOENT. */
	r.account_id = f->a;
	r.pool_id = p.id;
	assert_int_equal(rt_store_source_rule_create(f->tx, f->a, &r), 0);
	assert_int_equal(r.pool_id, p.id);
	r.pool_id = cp.id;
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), EPERM);
	r.pool_id = bp.id;
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), ENOENT);
	r.pool_id = 0;
	assert_int_equal(rt_store_source_rule_update(f->tx, f->a, &r), 0);
	assert_int_equal(r.pool_id, 0);
	r.id = 0;
	r.pool_id = bp.id;
	assert_int_equal(rt_store_source_rule_create(f->tx, f->a, &r), ENOENT);
	r.account_id = f->a_client;
	r.pool_id = p.id;
	assert_int_equal(rt_store_source_rule_create(f->tx, f->a, &r), EPERM);

	/* At most RT_STORE_RULES_MAX rules in one account. */
	for (int i = 1; i < RT_STORE_RULES_MAX; i++)
		add(f, f->a, f->a, "many", 0);
	r.account_id = f->a;
	r.pool_id = 0;
	assert_int_equal(rt_store_source_rule_create(f->tx, f->a, &r), ENOSPC);
	add(f, f->a, f->a_client, "client has room", 0);
}

static void test_store_tenants(void **state)
{
	struct fix *f = *state;
	struct rt_source_rule r, got, keep;
	struct rt_page pg = {.after = 0, .limit = 100};
	struct names n = {{0}, 0};
	int64_t a_rule, c_rule;

	a_rule = add(f, f->a, f->a, "A rule", 0);
	c_rule = add(f, f->a, f->a_client, "Client rule", 0);

	/* B cannot make a rule in A's tree, nor see, change, delete or
	 * list A's. */
	r = rule("source", "equals", "x", "y", "");
	r.account_id = f->a;
	assert_int_equal(rt_store_source_rule_create(f->tx, f->b, &r), ENOENT);
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a, a_rule, &got),
			 0);
	keep = got;
	assert_int_equal(rt_store_source_rule_get(f->tx, f->b, a_rule, &got),
			 ENOENT);
	assert_memory_equal(&keep, &got, sizeof(got));
	rt_strlcpy(got.name, "Taken", sizeof(got.name));
	assert_int_equal(rt_store_source_rule_update(f->tx, f->b, &got),
			 ENOENT);
	assert_int_equal(rt_store_source_rule_delete(f->tx, f->b, a_rule),
			 ENOENT);
	assert_int_equal(rt_store_source_rule_list(f->tx, f->b, 0, &pg,
						   name_row, &n),
			 0);
	assert_int_equal(rt_store_source_rule_list(f->tx, f->b, f->a, &pg,
						   name_row, &n),
			 0);
	assert_string_equal(n.text, "");
	assert_int_equal(rt_store_source_rule_list_active(f->tx, f->b, f->a,
							  collect_active, &r),
			 ENOENT);
	/* B's cursor naming A's rule is stale, not a way in. */
	pg.after = a_rule;
	assert_int_equal(rt_store_source_rule_list(f->tx, f->b, 0, &pg,
						   name_row, &n),
			 ESTALE);

	/* The client sees its own, not its agency's. */
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a_client, c_rule,
						  &got),
			 0);
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a_client, a_rule,
						  &got),
			 ENOENT);
	assert_int_equal(rt_store_source_rule_get(f->tx, f->a, a_rule, &got),
			 0);
	assert_string_equal(got.name, "A rule");
}

static int setup(void **state)
{
	(void)state;
	return rt_dni_sites_load(&sites) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_dni_sites_free(sites);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_bad_regex),
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_ops_and_case),
		cmocka_unit_test(test_order_and_inactive),
		cmocka_unit_test(test_channel),
		cmocka_unit_test(test_regex_speed),
		cmocka_unit_test(test_threads),
		cmocka_unit_test_setup_teardown(test_store_positions,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_store_active_and_paging,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_store_pools_and_limit,
						store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_store_tenants, store_setup,
						store_teardown),
	};

	return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}
