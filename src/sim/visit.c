/*
 * Visitors: where they come from (a mix of channels a local business sees:
 * paid and organic search, social, email, directories, display, direct),
 * what they land on, the browser they use, and the DNI requests their
 * page makes, exactly as dni.js would send them (landing URL with its
 * tags, referrer, title, visitor and GA ids, the browser's User-Agent).
 *
 * The tags are the ones real campaigns carry: Google Ads auto-tagging
 * (gclid) with a ValueTrack template, sometimes with UTM tags too;
 * Microsoft Ads (msclkid); UTM-tagged Facebook ads and newsletters;
 * Facebook's fbclid on organic links; a Google Business Profile link.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim_int.h"

#define ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define CLICKID ALNUM "-_"
#define HEX	"0123456789abcdef"
#define DIGITS	"0123456789"

enum kind {
	K_GOOGLE_ADS,
	K_GOOGLE,
	K_GBP,
	K_BING,
	K_BING_ADS,
	K_FACEBOOK_ADS,
	K_FACEBOOK,
	K_INSTAGRAM,
	K_EMAIL,
	K_DIRECT,
	K_REFERRAL,
	K_DISPLAY,
};

/* What a local business's site sees, in percent. */
static const struct {
	enum kind kind;
	const char *label;
	unsigned weight;
} mix[] = {
	{K_GOOGLE_ADS, "Google Ads", 24},
	{K_GOOGLE, "Google organic", 18},
	{K_GBP, "Google Business Profile", 6},
	{K_BING, "Bing organic", 4},
	{K_BING_ADS, "Microsoft Ads", 5},
	{K_FACEBOOK_ADS, "Facebook ad", 8},
	{K_FACEBOOK, "Facebook post", 4},
	{K_INSTAGRAM, "Instagram", 2},
	{K_EMAIL, "Newsletter", 6},
	{K_DIRECT, "Direct", 12},
	{K_REFERRAL, "Directory listing", 7},
	{K_DISPLAY, "Display remarketing", 4},
};

/* Every this many visitors, one is a crawler: it gets no number. */
#define BOT_EVERY 25

static const char *const desktop_ua[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
	"like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
	"(KHTML, like Gecko) Version/17.6 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
	"like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
	"Firefox/133.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
	"(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
};

static const char *const mobile_ua[] = {
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) "
	"AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
	"Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, "
	"like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, "
	"like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile "
	"Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) "
	"AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 "
	"Mobile/15E148 Safari/604.1",
};

/* Facebook's in-app browser, for visits from its apps. */
static const char *const facebook_ua =
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) "
	"AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
	"[FBAN/FBIOS;FBAV/480.0.0.38.108;FBBV/653040811;FBDV/iPhone15,2;"
	"FBMD/iPhone;FBSN/iOS;FBSV/17.6;FBSS/3;FBCR/;FBID/phone;FBLC/en_US]";

static const char *const tablet_ua =
	"Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
	"(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1";

static const char *const bot_ua = "Mozilla/5.0 (compatible; Googlebot/2.1; "
				  "+http://www.google.com/bot.html)";

/* Callers' area codes: the business is in Chicago, so most are local. */
static const struct {
	const char *npa;
	unsigned weight;
} area_codes[] = {
	{"773", 22}, {"708", 10}, {"630", 10}, {"847", 10},
	{"815", 6},  {"219", 5},  {"414", 5},  {"262", 3},
	{"608", 3},  {"317", 4},  {"314", 4},  {"212", 4},
	{"415", 3},  {"713", 4},  {"305", 3},  {"206", 4},
};

static const char *const first_names[] = {
	"Maria",  "James",   "Linda",  "Robert", "Patricia", "Michael",
	"Aisha",  "Carlos",  "Emily",  "Daniel", "Mei",	     "Kevin",
	"Sophia", "Anthony", "Olivia", "Jamal",	 "Grace",    "Luis",
};

static const char *const last_names[] = {
	"Garcia", "Johnson", "Nguyen",	"Smith",  "Kowalski", "Brown",
	"Patel",  "Lopez",   "Wilson",	"Murphy", "Kim",      "Anderson",
	"Rivera", "Okafor",  "Schmidt", "Davis",  "Chen",     "Martinez",
};

static enum kind pick_kind(struct rt_sim_rng *r, const char **label)
{
	unsigned total = 0, x;

	for (size_t i = 0; i < RT_ARRAY_SIZE(mix); i++)
		total += mix[i].weight;
	x = rt_sim_below(r, total);
	for (size_t i = 0; i < RT_ARRAY_SIZE(mix); i++) {
		if (x < mix[i].weight) {
			*label = mix[i].label;
			return mix[i].kind;
		}
		x -= mix[i].weight;
	}
	*label = mix[0].label;
	return mix[0].kind;
}

static const char *pick(struct rt_sim_rng *r, const char *const *a, size_t n)
{
	return a[rt_sim_below(r, (unsigned)n)];
}

/* A query value: spaces as %20 (the names and keywords here need no
 * other escaping). */
static void qval(char *out, size_t size, const char *s)
{
	size_t k = 0;

	for (; *s && k + 4 < size; s++) {
		if (*s == ' ') {
			memcpy(out + k, "%20", 3);
			k += 3;
		} else {
			out[k++] = *s;
		}
	}
	out[k] = '\0';
}

static void caller_of(struct rt_sim_rng *r, struct rt_sim_visitor *v)
{
	unsigned total = 0, x;
	const char *npa = area_codes[0].npa;

	for (size_t i = 0; i < RT_ARRAY_SIZE(area_codes); i++)
		total += area_codes[i].weight;
	x = rt_sim_below(r, total);
	for (size_t i = 0; i < RT_ARRAY_SIZE(area_codes); i++) {
		if (x < area_codes[i].weight) {
			npa = area_codes[i].npa;
			break;
		}
		x -= area_codes[i].weight;
	}
	/* 555-0100 to 555-0199: set aside for fiction in every area code. */
	snprintf(v->phone, sizeof(v->phone), "+1%s55501%02u", npa,
		 rt_sim_below(r, 100));
	snprintf(v->name, sizeof(v->name), "%s %s",
		 pick(r, first_names, RT_ARRAY_SIZE(first_names)),
		 pick(r, last_names, RT_ARRAY_SIZE(last_names)));
}

void rt_sim_visitor_make(struct rt_sim_rng *r, const struct rt_sim_business *b,
			 unsigned n, struct rt_sim_visitor *v)
{
	const struct rt_sim_page *land;
	char kw[96], clickid[80], query[1024] = "", vt[400];
	const char *campaign, *devchar;
	enum kind kind;
	unsigned dev;

	memset(v, 0, sizeof(*v));
	v->n = n;
	kind = pick_kind(r, &v->label);
	land = &b->landings[rt_sim_below(r, (unsigned)b->nlandings)];

	/* The device: most calls to local businesses come from phones. */
	dev = rt_sim_below(r, 100);
	if (kind == K_FACEBOOK_ADS || kind == K_FACEBOOK || kind == K_INSTAGRAM)
		dev = dev < 80 ? 0 : 90;
	if (dev < 60) {
		v->device = "mobile";
		devchar = "m";
		rt_strlcpy(v->ua,
			   kind == K_FACEBOOK_ADS || kind == K_FACEBOOK
				   ? facebook_ua
				   : pick(r, mobile_ua,
					  RT_ARRAY_SIZE(mobile_ua)),
			   sizeof(v->ua));
	} else if (dev < 95) {
		v->device = "desktop";
		devchar = "c";
		rt_strlcpy(v->ua,
			   pick(r, desktop_ua, RT_ARRAY_SIZE(desktop_ua)),
			   sizeof(v->ua));
	} else {
		v->device = "tablet";
		devchar = "t";
		rt_strlcpy(v->ua, tablet_ua, sizeof(v->ua));
	}

	qval(kw, sizeof(kw), pick(r, b->keywords, b->nkeywords));
	campaign = pick(r, b->campaigns, b->ncampaigns);
	/* ValueTrack: {keyword}, {adgroupid}, {campaignid}, {matchtype},
	 * {network}, {device}. */
	snprintf(vt, sizeof(vt),
		 "keyword=%s&adgroupid=%u&campaignid=%u&matchtype=%s&"
		 "network=%s&device=%s",
		 kw, 100000000u + rt_sim_below(r, 900000000u),
		 1000000000u + rt_sim_below(r, 900000000u),
		 pick(r, (const char *const[]){"e", "p", "b"}, 3),
		 rt_sim_chance(r, 85) ? "g" : "s", devchar);
	switch (kind) {
	case K_GOOGLE_ADS:
		rt_sim_chars(r, clickid, 60, CLICKID);
		if (rt_sim_chance(r, 40))
			snprintf(query, sizeof(query),
				 "?utm_source=google&utm_medium=cpc&"
				 "utm_campaign=%s&utm_term=%s&%s&gclid=%s",
				 campaign, kw, vt, clickid);
		else
			snprintf(query, sizeof(query), "?%s&gclid=%s", vt,
				 clickid);
		rt_strlcpy(v->referrer, "https://www.google.com/",
			   sizeof(v->referrer));
		break;
	case K_GOOGLE:
		rt_strlcpy(v->referrer, "https://www.google.com/",
			   sizeof(v->referrer));
		break;
	case K_GBP:
		land = &b->landings[0];
		snprintf(query, sizeof(query),
			 "?utm_source=google&utm_medium=organic&"
			 "utm_campaign=gbp_listing");
		rt_strlcpy(v->referrer, "https://www.google.com/",
			   sizeof(v->referrer));
		break;
	case K_BING:
		rt_strlcpy(v->referrer, "https://www.bing.com/",
			   sizeof(v->referrer));
		break;
	case K_BING_ADS:
		rt_sim_chars(r, clickid, 32, HEX);
		snprintf(query, sizeof(query), "?%s&msclkid=%s", vt, clickid);
		rt_strlcpy(v->referrer, "https://www.bing.com/",
			   sizeof(v->referrer));
		break;
	case K_FACEBOOK_ADS:
		rt_sim_chars(r, clickid, 60, CLICKID);
		snprintf(query, sizeof(query),
			 "?utm_source=facebook&utm_medium=paid_social&"
			 "utm_campaign=spring_promo&utm_content=video_%u&"
			 "fbclid=IwAR%s",
			 1 + rt_sim_below(r, 3), clickid);
		rt_strlcpy(v->referrer, "https://m.facebook.com/",
			   sizeof(v->referrer));
		break;
	case K_FACEBOOK:
		rt_sim_chars(r, clickid, 60, CLICKID);
		snprintf(query, sizeof(query), "?fbclid=IwAR%s", clickid);
		rt_strlcpy(v->referrer, "https://l.facebook.com/",
			   sizeof(v->referrer));
		break;
	case K_INSTAGRAM:
		rt_strlcpy(v->referrer, "https://l.instagram.com/",
			   sizeof(v->referrer));
		break;
	case K_EMAIL:
		snprintf(query, sizeof(query),
			 "?utm_source=newsletter&utm_medium=email&"
			 "utm_campaign=monthly_newsletter&utm_content=%s",
			 rt_sim_chance(r, 50) ? "header_button"
					      : "footer_link");
		break;
	case K_DIRECT:
		if (rt_sim_chance(r, 60))
			land = &b->landings[0];
		break;
	case K_REFERRAL:
		rt_strlcpy(v->referrer, pick(r, b->referrers, b->nreferrers),
			   sizeof(v->referrer));
		break;
	case K_DISPLAY:
		rt_sim_chars(r, clickid, 60, CLICKID);
		snprintf(query, sizeof(query),
			 "?utm_source=google&utm_medium=display&"
			 "utm_campaign=remarketing&gclid=%s",
			 clickid);
		break;
	}
	rt_strlcpy(v->title, land->title, sizeof(v->title));
	snprintf(v->landing, sizeof(v->landing), "https://%s%s%s", b->host,
		 land->path, query);

	if (n % BOT_EVERY == 0) {
		v->bot = true;
		v->label = "Crawler";
		v->device = "bot";
		rt_strlcpy(v->ua, bot_ua, sizeof(v->ua));
		v->referrer[0] = '\0';
	}
	/* A second page for about half of them. */
	if (!v->bot && rt_sim_chance(r, 50)) {
		const struct rt_sim_page *p =
			&b->pages[rt_sim_below(r, (unsigned)b->npages)];

		v->second = true;
		snprintf(v->second_url, sizeof(v->second_url), "https://%s%s",
			 b->host, p->path);
		rt_strlcpy(v->second_title, p->title, sizeof(v->second_title));
	}
	rt_sim_chars(r, v->visitor_id, 22, ALNUM);
	snprintf(v->ga_client_id, sizeof(v->ga_client_id), "%u.%u",
		 100000000u + rt_sim_below(r, 900000000u),
		 1700000000u + rt_sim_below(r, 60000000u));
	caller_of(r, v);
}

/* ---- the DNI requests ------------------------------------------------------
 */

static int answer_err(struct rt_sim_api *a, int err, const char *what,
		      struct rt_sim_resp *r, char *out, size_t size)
{
	char why[300];

	if (err == ECONNREFUSED)
		snprintf(out, size, "%s: cannot reach %s: %s", what,
			 rt_sim_api_base(a), rt_sim_api_error(a));
	else if (err)
		snprintf(out, size, "%s: %s", what, strerror(err));
	else
		snprintf(out, size, "%s: the server answered %s", what,
			 rt_sim_resp_why(r, why, sizeof(why)));
	return err ? err : EPROTO;
}

int rt_sim_visit(struct rt_sim_api *a, const char *site_key,
		 struct rt_sim_visitor *v, char *err, size_t errsz)
{
	json_t *body = json_object(), *src, *sw;
	struct rt_sim_resp r;
	int e;

	if (!body)
		return ENOMEM;
	json_object_set_new(body, "site_key", json_string(site_key));
	json_object_set_new(body, "landing_url", json_string(v->landing));
	json_object_set_new(body, "referrer",
			    v->referrer[0] ? json_string(v->referrer)
					   : json_null());
	json_object_set_new(body, "title", json_string(v->title));
	json_object_set_new(body, "visitor_id", json_string(v->visitor_id));
	json_object_set_new(body, "ga_client_id", json_string(v->ga_client_id));
	e = rt_sim_api_call(a, "POST", "/v1/dni/sessions", body, v->ua, false,
			    &r);
	json_decref(body);
	if (e || (r.status != 201 && r.status != 200)) {
		e = answer_err(a, e, "a visitor's session", &r, err, errsz);
		rt_sim_resp_release(&r);
		return e;
	}
	v->bot = json_is_true(json_object_get(r.json, "bot"));
	rt_strlcpy(v->session_id, rt_sim_json_str(r.json, "session_id"),
		   sizeof(v->session_id));
	rt_strlcpy(v->number_kind, rt_sim_json_str(r.json, "number_kind"),
		   sizeof(v->number_kind));
	v->shared = json_is_true(json_object_get(r.json, "shared"));
	src = json_object_get(r.json, "source");
	rt_strlcpy(v->channel, rt_sim_json_str(src, "channel"),
		   sizeof(v->channel));
	rt_strlcpy(v->source, rt_sim_json_str(src, "source"),
		   sizeof(v->source));
	rt_strlcpy(v->medium, rt_sim_json_str(src, "medium"),
		   sizeof(v->medium));
	sw = json_array_get(json_object_get(r.json, "numbers"), 0);
	rt_strlcpy(v->number, rt_sim_json_str(sw, "number"), sizeof(v->number));
	rt_strlcpy(v->display, rt_sim_json_str(sw, "display"),
		   sizeof(v->display));
	v->has_number = v->number[0] != '\0' && v->session_id[0] != '\0';
	rt_sim_resp_release(&r);
	return 0;
}

static int session_post(struct rt_sim_api *a, struct rt_sim_visitor *v,
			const char *what, const char *tail, json_t *body,
			char *err, size_t errsz)
{
	char path[96];
	struct rt_sim_resp r;
	int e;

	snprintf(path, sizeof(path), "/v1/dni/sessions/%s/%s", v->session_id,
		 tail);
	e = rt_sim_api_call(a, "POST", path, body, v->ua, false, &r);
	json_decref(body);
	if (!e && r.status == 204) {
		rt_sim_resp_release(&r);
		return 0;
	}
	if (!e && r.status == 404) {
		rt_sim_resp_release(&r);
		return ENOENT;
	}
	e = answer_err(a, e, what, &r, err, errsz);
	rt_sim_resp_release(&r);
	return e;
}

int rt_sim_pageview(struct rt_sim_api *a, struct rt_sim_visitor *v, char *err,
		    size_t errsz)
{
	json_t *body = json_object();

	if (!body)
		return ENOMEM;
	json_object_set_new(body, "url", json_string(v->second_url));
	json_object_set_new(body, "title", json_string(v->second_title));
	return session_post(a, v, "a page view", "pageviews", body, err, errsz);
}

int rt_sim_heartbeat(struct rt_sim_api *a, struct rt_sim_visitor *v, char *err,
		     size_t errsz)
{
	json_t *body = json_object();

	if (!body)
		return ENOMEM;
	return session_post(a, v, "a heartbeat", "heartbeat", body, err, errsz);
}
