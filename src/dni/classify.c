/*
 * Traffic source classification: landing URL + referrer -> source, medium,
 * campaign, keyword, click ids, channel.  The rules are in
 * docs/attribution.md; keep the two together.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "dni/dni.h"
#include "util/util.h"

const struct rt_dni_params rt_dni_params_default = {
	.keyword = "keyword",
	.ad_group_id = "adgroupid",
	.campaign_id = "campaignid",
	.matchtype = "matchtype",
	.network = "network",
	.device = "device",
};

const char *const rt_dni_click_names[RT_CLICK__N] = {
	"gclid", "gbraid", "wbraid", "msclkid", "fbclid", "ttclid", "li_fat_id",
};

/* ---- GA4's default channel group ---------------------------------------- */

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++) {
		if (strcasecmp(s, *list) == 0)
			return true;
	}
	return false;
}

static bool contains_ci(const char *s, const char *needle)
{
	return strcasestr(s, needle) != NULL;
}

/* ^(.*cp.*|ppc|retargeting|paid.*)$ */
static bool paid_medium(const char *m)
{
	return contains_ci(m, "cp") || strcasecmp(m, "ppc") == 0 ||
	       strcasecmp(m, "retargeting") == 0 ||
	       strncasecmp(m, "paid", 4) == 0;
}

/* ^(.*(([^a-df-z]|^)shop|shopping).*)$ : "shopping" anywhere, or "shop"
 * at the start or after a character that is not a letter other than e. */
static bool shop_campaign(const char *c)
{
	if (contains_ci(c, "shopping"))
		return true;
	for (const char *p = c; (p = strcasestr(p, "shop")); p++) {
		char prev = p == c ? '\0' : (char)tolower((unsigned char)p[-1]);

		if (p == c || !((prev >= 'a' && prev <= 'd') ||
				(prev >= 'f' && prev <= 'z')))
			return true;
	}
	return false;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

const char *rt_dni_channel(const struct rt_dni_sites *sites, const char *source,
			   const char *medium, const char *campaign)
{
	static const char *const none[] = {"(not set)", "(none)", NULL};
	static const char *const display[] = {"display",    "banner",
					      "expandable", "interstitial",
					      "cpm",	    NULL};
	static const char *const social[] = {"social",
					     "social-network",
					     "social-media",
					     "sm",
					     "social network",
					     "social media",
					     NULL};
	static const char *const referral[] = {"referral", "app", "link", NULL};
	static const char *const email[] = {"email", "e-mail", "e_mail",
					    "e mail", NULL};
	bool paid = paid_medium(medium);
	bool shopping = rt_dni_sites_has(sites, RT_SITE_SHOPPING, source) ||
			shop_campaign(campaign);
	bool search = rt_dni_sites_has(sites, RT_SITE_SEARCH, source);
	bool social_site = rt_dni_sites_has(sites, RT_SITE_SOCIAL, source);
	bool video = rt_dni_sites_has(sites, RT_SITE_VIDEO, source);

	if (strcasecmp(source, "(direct)") == 0 && in_list(medium, none))
		return "Direct";
	if (contains_ci(campaign, "cross-network"))
		return "Cross-network";
	if (shopping && paid)
		return "Paid Shopping";
	if (search && paid)
		return "Paid Search";
	if (social_site && paid)
		return "Paid Social";
	if (video && paid)
		return "Paid Video";
	if (in_list(medium, display))
		return "Display";
	if (paid)
		return "Paid Other";
	if (shopping)
		return "Organic Shopping";
	if (social_site || in_list(medium, social))
		return "Organic Social";
	if (video || contains_ci(medium, "video"))
		return "Organic Video";
	if (search || strcasecmp(medium, "organic") == 0)
		return "Organic Search";
	if (in_list(medium, referral))
		return "Referral";
	if (in_list(source, email) || in_list(medium, email))
		return "Email";
	if (strcasecmp(medium, "affiliate") == 0)
		return "Affiliates";
	if (strcasecmp(medium, "audio") == 0)
		return "Audio";
	if (strcasecmp(source, "sms") == 0 || strcasecmp(medium, "sms") == 0)
		return "SMS";
	if (ends_with_ci(medium, "push") || contains_ci(medium, "mobile") ||
	    contains_ci(medium, "notification") ||
	    strcasecmp(source, "firebase") == 0)
		return "Mobile Push Notifications";
	return "Unassigned";
}

/* ---- URLs --------------------------------------------------------------- */

struct url {
	char *host;  /* lower case, no trailing dot */
	char *path;  /* as sent */
	char *query; /* raw, may be NULL */
};

static void url_release(struct url *u)
{
	curl_free(u->host);
	curl_free(u->path);
	curl_free(u->query);
	memset(u, 0, sizeof(*u));
}

/* Parses an absolute URL; http_only for the landing page. */
static int url_parse(const char *s, bool http_only, struct url *out)
{
	CURLU *h = curl_url();
	char *scheme = NULL;
	int err = EINVAL;

	memset(out, 0, sizeof(*out));
	if (!h)
		return ENOMEM;
	if (strlen(s) > RT_DNI_URL_MAX ||
	    curl_url_set(h, CURLUPART_URL, s,
			 http_only ? 0 : CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (http_only && strcasecmp(scheme, "http") &&
	     strcasecmp(scheme, "https")))
		goto out;
	if (curl_url_get(h, CURLUPART_HOST, &out->host, 0) != CURLUE_OK ||
	    !out->host[0])
		goto out;
	for (char *p = out->host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (out->host[strlen(out->host) - 1] == '.')
		out->host[strlen(out->host) - 1] = '\0';
	if (!out->host[0]) /* "." alone is no host */
		goto out;
	/* curl decodes %XX in a host and lets any byte above 0x7f through:
	 * clean and cut here, before a copy could split a character. */
	rt_utf8_clean(out->host);
	rt_utf8_cut(out->host, RT_DNI_VALUE_MAX);
	if (curl_url_get(h, CURLUPART_PATH, &out->path, 0) != CURLUE_OK)
		goto out;
	rt_utf8_clean(out->path);
	rt_utf8_cut(out->path, RT_DNI_PATH_MAX - 1);
	if (curl_url_get(h, CURLUPART_QUERY, &out->query, 0) != CURLUE_OK)
		out->query = NULL;
	err = 0;
out:
	curl_free(scheme);
	curl_url_cleanup(h);
	if (err)
		url_release(out);
	return err;
}

/* Decodes a query component (+ is a space), cleans it into valid UTF-8
 * without control characters, and cuts it to fit dst. */
static void decode_into(char *dst, size_t size, const char *s, size_t len)
{
	char *copy = strndup(s, len), *dec;
	int dlen = 0;

	dst[0] = '\0';
	if (!copy)
		return;
	for (char *p = copy; *p; p++)
		if (*p == '+')
			*p = ' ';
	dec = curl_easy_unescape(NULL, copy, 0, &dlen);
	free(copy);
	if (!dec)
		return;
	/* A %00 ends the value: it cannot travel further as a C string.  The
	 * cut comes before the copy, which would split a character. */
	rt_utf8_clean(dec);
	rt_utf8_cut(dec, size - 1);
	rt_strlcpy(dst, dec, size);
	curl_free(dec);
}

/* The value of the first parameter called name (any case); false if none. */
static bool query_get(const char *query, const char *name, char *dst,
		      size_t size)
{
	size_t nl = strlen(name);

	for (const char *p = query; p && *p;) {
		size_t len = strcspn(p, "&;");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;

		if (klen == nl && strncasecmp(p, name, nl) == 0) {
			if (eq)
				decode_into(dst, size, eq + 1, len - klen - 1);
			else
				dst[0] = '\0';
			return true;
		}
		p += len;
		if (*p)
			p++;
	}
	return false;
}

/* "www.example.com" -> "example.com"; a host "www." stays itself, so that
 * a source is never empty. */
static const char *strip_www(const char *host)
{
	return strncmp(host, "www.", 4) == 0 && host[4] ? host + 4 : host;
}

/* ---- classification ----------------------------------------------------- */

#define GET(name, field) query_get(q, (name), v->field, sizeof(v->field))

int rt_dni_classify(const struct rt_dni_sites *sites, const char *landing_url,
		    const char *referrer, const struct rt_dni_params *params,
		    struct rt_visit_source *v, char *err, size_t errsz)
{
	struct url land, ref = {0};
	bool utm = false, have_ref = false;
	const char *q;
	int e;

	memset(v, 0, sizeof(*v));
	params = params ? params : &rt_dni_params_default;
	if (!landing_url || !*landing_url) {
		snprintf(err, errsz, "the landing URL is missing");
		return EINVAL;
	}
	e = url_parse(landing_url, true, &land);
	if (e == ENOMEM)
		return e;
	if (e) {
		snprintf(err, errsz,
			 "the landing URL is not an absolute http(s) URL of at "
			 "most %d bytes",
			 RT_DNI_URL_MAX);
		return EINVAL;
	}
	if (referrer && *referrer) {
		e = url_parse(referrer, false, &ref);
		if (e) {
			url_release(&land);
			if (e == ENOMEM)
				return e;
			snprintf(err, errsz,
				 "the referrer is not an absolute URL");
			return EINVAL;
		}
		have_ref = true;
	}

	rt_strlcpy(v->landing_host, land.host, sizeof(v->landing_host));
	rt_strlcpy(v->landing_page, land.path, sizeof(v->landing_page));
	rt_utf8_clean(v->landing_page);
	rt_utf8_cut(v->landing_page, sizeof(v->landing_page) - 1);
	if (have_ref)
		rt_strlcpy(v->referrer_host, ref.host,
			   sizeof(v->referrer_host));

	q = land.query;
	utm |= GET("utm_source", source);
	utm |= GET("utm_medium", medium);
	utm |= GET("utm_campaign", campaign);
	GET("utm_term", term);
	GET("utm_content", content);
	GET(params->keyword, keyword);
	GET(params->ad_group_id, ad_group);
	if (!GET(params->campaign_id, campaign_id))
		GET("utm_id", campaign_id);
	GET(params->matchtype, matchtype);
	GET(params->network, network);
	GET(params->device, device);
	for (int i = 0; i < RT_CLICK__N; i++)
		GET(rt_dni_click_names[i], click[i]);
	/* The search term the advertiser wrote into utm_term wins over the
	 * ValueTrack keyword; either is "the keyword". */
	if (v->term[0])
		rt_strlcpy(v->keyword, v->term, sizeof(v->keyword));

	if (utm) {
		/* Manual tags say it all; what they leave out is "(not set)".
		 */
		if (!v->source[0])
			rt_strlcpy(v->source, "(not set)", sizeof(v->source));
		if (!v->medium[0])
			rt_strlcpy(v->medium, "(not set)", sizeof(v->medium));
	} else if (v->click[RT_CLICK_GCLID][0] ||
		   v->click[RT_CLICK_GBRAID][0] ||
		   v->click[RT_CLICK_WBRAID][0]) {
		rt_strlcpy(v->source, "google", sizeof(v->source));
		rt_strlcpy(v->medium, "cpc", sizeof(v->medium));
	} else if (v->click[RT_CLICK_MSCLKID][0]) {
		rt_strlcpy(v->source, "bing", sizeof(v->source));
		rt_strlcpy(v->medium, "cpc", sizeof(v->medium));
	} else if (v->click[RT_CLICK_TTCLID][0]) {
		rt_strlcpy(v->source, "tiktok", sizeof(v->source));
		rt_strlcpy(v->medium, "cpc", sizeof(v->medium));
	} else if (v->click[RT_CLICK_LI_FAT_ID][0]) {
		rt_strlcpy(v->source, "linkedin", sizeof(v->source));
		rt_strlcpy(v->medium, "cpc", sizeof(v->medium));
	} else if (have_ref &&
		   strcmp(strip_www(ref.host), strip_www(land.host)) != 0) {
		enum rt_site_cat cat;
		const char *name;

		/* fbclid alone is no ad: Facebook adds it to organic links
		 * too, so such a visit is classified by its referrer. */
		if (rt_dni_sites_host(sites, ref.host, &cat, &name) == 0 &&
		    cat == RT_SITE_SEARCH) {
			rt_strlcpy(v->source, name, sizeof(v->source));
			rt_strlcpy(v->medium, "organic", sizeof(v->medium));
		} else {
			rt_strlcpy(v->source, strip_www(ref.host),
				   sizeof(v->source));
			rt_strlcpy(v->medium, "referral", sizeof(v->medium));
		}
	} else if (v->click[RT_CLICK_FBCLID][0]) {
		/* An fbclid with no referrer (an app's in-app browser, say):
		 * it came from Facebook, but not necessarily an ad. */
		rt_strlcpy(v->source, "facebook.com", sizeof(v->source));
		rt_strlcpy(v->medium, "referral", sizeof(v->medium));
	} else {
		/* No referrer, or the site's own pages. */
		rt_strlcpy(v->source, "(direct)", sizeof(v->source));
		rt_strlcpy(v->medium, "(none)", sizeof(v->medium));
	}
	if (!v->campaign[0])
		rt_strlcpy(v->campaign,
			   utm || strcmp(v->medium, "cpc") == 0 ? "(not set)"
			   : strcmp(v->source, "(direct)") == 0 ? "(direct)"
								: "(referral)",
			   sizeof(v->campaign));
	if (strcmp(v->medium, "organic") == 0 && !utm)
		rt_strlcpy(v->campaign, "(organic)", sizeof(v->campaign));
	rt_strlcpy(v->channel,
		   rt_dni_channel(sites, v->source, v->medium, v->campaign),
		   sizeof(v->channel));
	url_release(&land);
	url_release(&ref);
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

json_t *rt_dni_source_json(const struct rt_visit_source *v)
{
	json_t *clicks = json_object();
	json_t *j;

	for (int i = 0; clicks && i < RT_CLICK__N; i++) {
		if (v->click[i][0])
			json_object_set_new(clicks, rt_dni_click_names[i],
					    json_string(v->click[i]));
	}
	j = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
		      "s:s,s:s,s:o}",
		      "source", v->source, "medium", v->medium, "campaign",
		      v->campaign, "term", str_or_null(v->term), "content",
		      str_or_null(v->content), "channel", v->channel,
		      "ad_group", str_or_null(v->ad_group), "keyword",
		      str_or_null(v->keyword), "campaign_id",
		      str_or_null(v->campaign_id), "matchtype",
		      str_or_null(v->matchtype), "network",
		      str_or_null(v->network), "device", str_or_null(v->device),
		      "click_ids", clicks ? clicks : json_object(),
		      "landing_page", v->landing_page, "landing_host",
		      v->landing_host, "referrer_host",
		      str_or_null(v->referrer_host));
	return j;
}
