/*
 * Unit tests of dni's traffic source classification: the data-driven table
 * in tests/data/classify.tsv (every GA4 channel, click ids, case,
 * self-referrals, limits), malformed landing URLs and referrers, cleaning
 * of decoded values, and the JSON object `ringtrail classify` prints.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dni/dni.h"
#include "util/util.h"

#define TABLE RT_SOURCE_DIR "/tests/data/classify.tsv"

static const char *const channels[] = {
	"Direct",	  "Cross-network", "Paid Shopping",
	"Paid Search",	  "Paid Social",   "Paid Video",
	"Display",	  "Paid Other",	   "Organic Shopping",
	"Organic Social", "Organic Video", "Organic Search",
	"Referral",	  "Email",	   "Affiliates",
	"Audio",	  "SMS",	   "Mobile Push Notifications",
	"Unassigned",
};
#define NCHANNELS (sizeof(channels) / sizeof(channels[0]))

static int setup(void **state)
{
	struct rt_dni_sites *sites = NULL;

	if (rt_dni_sites_load(&sites))
		return -1;
	*state = sites;
	return 0;
}

static int teardown(void **state)
{
	rt_dni_sites_free(*state);
	return 0;
}

/* The field of v that a table column names; NULL for an unknown name. */
static const char *field(const struct rt_visit_source *v, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{"source", offsetof(struct rt_visit_source, source)},
		{"medium", offsetof(struct rt_visit_source, medium)},
		{"campaign", offsetof(struct rt_visit_source, campaign)},
		{"term", offsetof(struct rt_visit_source, term)},
		{"content", offsetof(struct rt_visit_source, content)},
		{"channel", offsetof(struct rt_visit_source, channel)},
		{"ad_group", offsetof(struct rt_visit_source, ad_group)},
		{"keyword", offsetof(struct rt_visit_source, keyword)},
		{"campaign_id", offsetof(struct rt_visit_source, campaign_id)},
		{"matchtype", offsetof(struct rt_visit_source, matchtype)},
		{"network", offsetof(struct rt_visit_source, network)},
		{"device", offsetof(struct rt_visit_source, device)},
		{"landing_host",
		 offsetof(struct rt_visit_source, landing_host)},
		{"landing_page",
		 offsetof(struct rt_visit_source, landing_page)},
		{"referrer_host",
		 offsetof(struct rt_visit_source, referrer_host)},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(name, fields[i].name) == 0)
			return (const char *)v + fields[i].off;
	}
	for (int i = 0; i < RT_CLICK__N; i++) {
		if (strcmp(name, rt_dni_click_names[i]) == 0)
			return v->click[i];
	}
	return NULL;
}

/* Long values are shown shortened in failure messages. */
static void report(const char *file, unsigned line, const char *what,
		   const char *want, const char *got)
{
	print_error("%s:%u: %s: want '%.120s%s' (%zu bytes), got '%.120s%s' "
		    "(%zu bytes)\n",
		    file, line, what, want, strlen(want) > 120 ? "..." : "",
		    strlen(want), got, strlen(got) > 120 ? "..." : "",
		    strlen(got));
}

/* Checks one table line; returns the number of mismatches. */
static int check_case(const struct rt_dni_sites *sites, unsigned lineno,
		      char *line, unsigned *seen)
{
	static const char *const cols[] = {"channel", "source", "medium"};
	char *cell[64], err[256] = "", *save = NULL, *tok;
	struct rt_visit_source *v = calloc(1, sizeof(*v));
	size_t n = 0;
	int bad = 0, e;

	assert_non_null(v);
	for (tok = strtok_r(line, "\t", &save); tok && n < 64;
	     tok = strtok_r(NULL, "\t", &save))
		cell[n++] = tok;
	if (n < 5) {
		print_error("%s:%u: want at least 5 tab-separated columns, "
			    "got %zu\n",
			    TABLE, lineno, n);
		free(v);
		return 1;
	}
	e = rt_dni_classify(sites, cell[0],
			    strcmp(cell[1], "-") == 0 ? NULL : cell[1], NULL, v,
			    err, sizeof(err));
	if (e) {
		print_error("%s:%u: classify failed (%d): %s\n", TABLE, lineno,
			    e, err);
		free(v);
		return 1;
	}
	for (size_t i = 0; i < NCHANNELS; i++) {
		if (strcmp(cell[2], channels[i]) == 0)
			seen[i]++;
	}
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(field(v, cols[i]), cell[2 + i]) != 0) {
			report(TABLE, lineno, cols[i], cell[2 + i],
			       field(v, cols[i]));
			bad++;
		}
	}
	for (size_t i = 5; i < n; i++) {
		char *eq = strchr(cell[i], '=');
		const char *got;

		if (eq)
			*eq = '\0';
		got = eq ? field(v, cell[i]) : NULL;
		if (!got) {
			print_error("%s:%u: '%s' is not a field=value check\n",
				    TABLE, lineno, cell[i]);
			bad++;
		} else if (strcmp(got, eq + 1) != 0) {
			report(TABLE, lineno, cell[i], eq + 1, got);
			bad++;
		}
	}
	free(v);
	return bad;
}

/* Every line of the table, reporting every mismatch before failing. */
static void test_table(void **state)
{
	const struct rt_dni_sites *sites = *state;
	unsigned seen[NCHANNELS] = {0}, lineno = 0, cases = 0, failed = 0;
	FILE *f = fopen(TABLE, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		fail_msg("cannot open '%s': %s", TABLE, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		cases++;
		if (check_case(sites, lineno, line, seen))
			failed++;
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < NCHANNELS; i++) {
		if (seen[i] < 2) {
			print_error(
				"%s: channel '%s' has %u cases, want >= 2\n",
				TABLE, channels[i], seen[i]);
			failed++;
		}
	}
	if (cases < 100) {
		print_error("%s: %u cases, want >= 100\n", TABLE, cases);
		failed++;
	}
	if (failed)
		fail_msg("%u of %u table cases (or checks) failed", failed,
			 cases);
}

/* rt_dni_channel alone, for what tags cannot express. */
static void test_channel_rules(void **state)
{
	const struct rt_dni_sites *sites = *state;

	assert_string_equal(rt_dni_channel(sites, "", "", ""), "Unassigned");
	/* cpm is a display medium, but also matches .*cp.*: a search site
	 * makes it Paid Search first, in GA4's order. */
	assert_string_equal(rt_dni_channel(sites, "google", "cpm", ""),
			    "Paid Search");
	assert_string_equal(rt_dni_channel(sites, "adnet", "cpm", ""),
			    "Display");
	assert_string_equal(rt_dni_channel(sites, "x", "x", "bishop"),
			    "Unassigned");
	assert_string_equal(rt_dni_channel(sites, "x", "x", "shop"),
			    "Organic Shopping");
}

static void expect_einval(const struct rt_dni_sites *sites, const char *url,
			  const char *ref, const char *msg)
{
	struct rt_visit_source *v = calloc(1, sizeof(*v));
	char err[256] = "";
	int e;

	assert_non_null(v);
	e = rt_dni_classify(sites, url, ref, NULL, v, err, sizeof(err));
	free(v);
	if (e != EINVAL)
		fail_msg("'%.80s' / '%.80s': want EINVAL, got %d", url,
			 ref ? ref : "(null)", e);
	if (!strstr(err, msg))
		fail_msg("'%.80s': the message '%s' does not say '%s'", url,
			 err, msg);
}

static void test_malformed(void **state)
{
	const struct rt_dni_sites *sites = *state;
	const char *ok = "https://www.example.com/";
	struct rt_visit_source *v = calloc(1, sizeof(*v));
	size_t big = RT_DNI_URL_MAX + 100;
	char *url = malloc(big + 1), err[256] = "";

	assert_non_null(v);
	assert_non_null(url);
	expect_einval(sites, NULL, NULL, "landing URL is missing");
	expect_einval(sites, "", NULL, "landing URL is missing");
	expect_einval(sites, "www.example.com/page", NULL, "landing URL");
	expect_einval(sites, "ftp://www.example.com/file", NULL, "http(s)");
	expect_einval(sites, "http://", NULL, "landing URL");
	expect_einval(sites, "https://exa mple.com/", NULL, "landing URL");

	/* One byte over the limit is refused; at the limit it is not. */
	memcpy(url, "https://www.example.com/", 24);
	memset(url + 24, 'a', big - 24);
	url[RT_DNI_URL_MAX + 1] = '\0';
	expect_einval(sites, url, NULL, "8192");
	url[RT_DNI_URL_MAX] = '\0';
	assert_int_equal(rt_dni_classify(sites, url, NULL, NULL, v, err,
					 sizeof(err)),
			 0);
	assert_int_equal(strlen(v->landing_page), RT_DNI_PATH_MAX - 1);
	url[RT_DNI_URL_MAX] = 'a';
	expect_einval(sites, ok, url, "referrer");

	expect_einval(sites, ok, "not a url", "referrer");
	expect_einval(sites, ok, "www.google.com", "referrer");
	expect_einval(sites, ok, "http://", "referrer");
	expect_einval(sites, ok, "://x", "referrer");
	/* "." is the root of DNS, but no host once its dot is dropped. */
	expect_einval(sites, "https://./", NULL, "landing URL");
	expect_einval(sites, ok, "https://./", "referrer");

	/* An app's referrer has its own scheme: accepted, as a referral. */
	assert_int_equal(rt_dni_classify(sites, ok,
					 "android-app://com.google.android.gm",
					 NULL, v, err, sizeof(err)),
			 0);
	assert_string_equal(v->source, "com.google.android.gm");
	assert_string_equal(v->medium, "referral");
	assert_string_equal(v->channel, "Referral");
	/* A host of "www." alone is still a source, never an empty one. */
	assert_int_equal(rt_dni_classify(sites, ok, "https://www../", NULL, v,
					 err, sizeof(err)),
			 0);
	assert_string_equal(v->source, "www.");
	assert_string_equal(v->channel, "Referral");
	/* An empty referrer is none. */
	assert_int_equal(rt_dni_classify(sites, ok, "", NULL, v, err,
					 sizeof(err)),
			 0);
	assert_string_equal(v->channel, "Direct");
	free(url);
	free(v);
}

/* n copies of ch in buf (n + 1 bytes), for long values. */
static const char *fill(char *buf, char ch, size_t n)
{
	memset(buf, ch, n);
	buf[n] = '\0';
	return buf;
}

/* Decoded values end up valid UTF-8 without control characters, never cut
 * inside a character, and every field stays valid for JSON. */
static void test_clean_values(void **state)
{
	const struct rt_dni_sites *sites = *state;
	struct rt_visit_source *v = calloc(1, sizeof(*v));
	char err[256], url[2048], s[16], b[256], c[256], k[256], g[256];
	json_t *j;

	assert_non_null(v);
	assert_int_equal(
		rt_dni_classify(sites,
				"https://www.example.com/"
				"?utm_source=a%FFb&utm_medium=%1B%5B31m&utm_"
				"campaign=%ED%A0%80x&utm_term=%7F",
				NULL, NULL, v, err, sizeof(err)),
		0);
	assert_string_equal(v->source, "a?b");
	assert_string_equal(v->medium, "?[31m");
	assert_string_equal(v->campaign, "???x");
	assert_string_equal(v->term, "?");

	/* A two-byte character straddling byte 255 is dropped whole, in
	 * every field: tags, ValueTrack, click ids, hosts. */
	snprintf(url, sizeof(url),
		 "https://www.example.com/?utm_source=%s%%C3%%A9&utm_medium="
		 "%s%%C3%%A9&keyword=%s%%C3%%A9&gclid=%s%%C3%%A9",
		 fill(b, 'b', 254), fill(c, 'c', 254), fill(k, 'k', 254),
		 fill(g, 'g', 254));
	assert_int_equal(rt_dni_classify(sites, url, NULL, NULL, v, err,
					 sizeof(err)),
			 0);
	assert_int_equal(strlen(v->source), 254);
	assert_int_equal(strlen(v->medium), 254);
	assert_int_equal(strlen(v->keyword), 254);
	assert_int_equal(strlen(v->click[RT_CLICK_GCLID]), 254);
	j = rt_dni_source_json(v);
	assert_non_null(j);
	json_decref(j);

	/* A host curl decoded from %FF, and one cut inside a character. */
	assert_int_equal(rt_dni_classify(sites, "https://www.example.com/",
					 "https://a%ff.example.org/", NULL, v,
					 err, sizeof(err)),
			 0);
	assert_string_equal(v->source, "a?.example.org");
	snprintf(url, sizeof(url), "https://%s%%C3%%A9.org/",
		 fill(b, 'h', 254));
	assert_int_equal(rt_dni_classify(sites, "https://www.example.com/", url,
					 NULL, v, err, sizeof(err)),
			 0);
	assert_int_equal(strlen(v->referrer_host), 254);
	j = rt_dni_source_json(v);
	assert_non_null(j);
	json_decref(j);

	/* rt_utf8_cut never splits: 'a' + 'é' (2) + '€' (3) + '😀' (4). */
	for (size_t max = 0; max <= 10; max++) {
		static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};

		rt_strlcpy(s, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
			   sizeof(s));
		rt_utf8_cut(s, max);
		assert_int_equal(strlen(s), want[max]);
	}
	free(v);
}

/* The object `ringtrail classify` prints: every field, null where absent,
 * click_ids holding only the ids the URL carried. */
static void test_json(void **state)
{
	static const char *const keys[] = {
		"source",      "medium",       "campaign",     "term",
		"content",     "channel",      "ad_group",     "keyword",
		"campaign_id", "matchtype",    "network",      "device",
		"click_ids",   "landing_page", "landing_host", "referrer_host",
	};
	const struct rt_dni_sites *sites = *state;
	struct rt_visit_source *v = calloc(1, sizeof(*v));
	json_t *j, *clicks;
	char err[256];

	assert_non_null(v);
	assert_int_equal(rt_dni_classify(sites,
					 "https://www.example.com/quote?gclid="
					 "abc&fbclid=def&keyword=boiler+repair&"
					 "adgroupid=42",
					 "https://www.google.com/", NULL, v,
					 err, sizeof(err)),
			 0);
	j = rt_dni_source_json(v);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!json_object_get(j, keys[i]))
			fail_msg("no '%s' in the JSON", keys[i]);
	}
	assert_string_equal(json_string_value(json_object_get(j, "channel")),
			    "Paid Search");
	assert_string_equal(json_string_value(json_object_get(j, "source")),
			    "google");
	assert_string_equal(json_string_value(json_object_get(j, "keyword")),
			    "boiler repair");
	assert_string_equal(json_string_value(json_object_get(j, "ad_group")),
			    "42");
	assert_true(json_is_null(json_object_get(j, "term")));
	assert_true(json_is_null(json_object_get(j, "device")));
	assert_string_equal(json_string_value(
				    json_object_get(j, "landing_page")),
			    "/quote");
	assert_string_equal(json_string_value(
				    json_object_get(j, "referrer_host")),
			    "www.google.com");
	clicks = json_object_get(j, "click_ids");
	assert_true(json_is_object(clicks));
	assert_int_equal(json_object_size(clicks), 2);
	assert_string_equal(json_string_value(json_object_get(clicks, "gclid")),
			    "abc");
	assert_string_equal(json_string_value(
				    json_object_get(clicks, "fbclid")),
			    "def");
	json_decref(j);

	/* Direct: no referrer host, an empty click_ids object. */
	assert_int_equal(rt_dni_classify(sites, "https://www.example.com/",
					 NULL, NULL, v, err, sizeof(err)),
			 0);
	j = rt_dni_source_json(v);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "referrer_host")));
	assert_int_equal(json_object_size(json_object_get(j, "click_ids")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "campaign")),
			    "(direct)");
	json_decref(j);
	free(v);
}

/* A pool may read other parameter names than ValueTrack's defaults. */
static void test_custom_params(void **state)
{
	const struct rt_dni_sites *sites = *state;
	const struct rt_dni_params p = {
		.keyword = "kw",
		.ad_group_id = "ag",
		.campaign_id = "cid",
		.matchtype = "mt",
		.network = "net",
		.device = "dev",
	};
	struct rt_visit_source *v = calloc(1, sizeof(*v));
	char err[256];

	assert_non_null(v);
	assert_int_equal(rt_dni_classify(sites,
					 "https://www.example.com/?msclkid=1&"
					 "kw=drain&ag=7&cid=8&mt=b&net=s&dev=t&"
					 "keyword=ignored",
					 NULL, &p, v, err, sizeof(err)),
			 0);
	assert_string_equal(v->keyword, "drain");
	assert_string_equal(v->ad_group, "7");
	assert_string_equal(v->campaign_id, "8");
	assert_string_equal(v->matchtype, "b");
	assert_string_equal(v->network, "s");
	assert_string_equal(v->device, "t");
	assert_string_equal(v->channel, "Paid Search");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_channel_rules),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_clean_values),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_custom_params),
	};

	return cmocka_run_group_tests_name("dni", tests, setup, teardown);
}
