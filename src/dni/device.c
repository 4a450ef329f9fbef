/*
 * Device classification from a User-Agent: first whether it is a bot, then
 * browser, OS and device class by ordered token rules.  The rules are in
 * docs/attribution.md ("Device class") and the cases that hold them in
 * tests/data/devices.tsv; change the three together.
 *
 * Everything works on one copy of the header's first RT_DNI_DEVICE_SCAN
 * bytes, folded to ASCII lower case, on the stack: tokens are then found
 * with strstr in a string known to end, whatever the client sent, and
 * nothing is allocated on the page-view path.  Only ASCII is folded, never
 * by locale, so bytes that are not ASCII are kept as they are and match no
 * token.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dni/device.h"
#include "util/util.h"

struct ua {
	const char *orig; /* the caller's; only its first len bytes are read */
	size_t len;
	bool cut; /* the header goes on past len */
	char lc[RT_DNI_DEVICE_SCAN + 1];
};

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/* The characters of a product name ("MJ12bot", "Go-http-client",
 * "ia_archiver"); only these are ever copied out of the header, so names
 * are printable ASCII whatever was sent. */
static bool is_name(char c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static void ua_init(struct ua *u, const char *s)
{
	size_t i;

	u->orig = s ? s : "";
	for (i = 0; i < RT_DNI_DEVICE_SCAN && u->orig[i]; i++) {
		char c = u->orig[i];

		u->lc[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	u->lc[i] = '\0';
	u->len = i;
	u->cut = u->orig[i] != '\0';
}

static bool has(const struct ua *u, const char *tok)
{
	return strstr(u->lc, tok) != NULL;
}

/* The first tok (lower case) that does not continue a word: "edge/" is
 * Edge's token, not the end of "knowledge/". */
static const char *find_tok(const struct ua *u, const char *tok)
{
	for (const char *p = u->lc; (p = strstr(p, tok)); p++) {
		if (p == u->lc || !is_alnum(p[-1]))
			return p;
	}
	return NULL;
}

/* tok as a whole word: "CrOS" but not the "cros" of "Microsoft". */
static bool has_word(const struct ua *u, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = u->lc; (p = strstr(p, tok)); p++) {
		if ((p == u->lc || !is_alnum(p[-1])) && !is_alnum(p[n]))
			return true;
	}
	return false;
}

/* The digits at p (in the folded copy) as a major version; "" when there
 * are none, too many to be one, or when they run into the end of what is
 * scanned and so may be cut. */
static void version_at(const struct ua *u, const char *p, char *dst,
		       size_t size)
{
	size_t n = 0;

	while (is_digit(p[n]))
		n++;
	if (n >= size || (p[n] == '\0' && u->cut))
		n = 0;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* n bytes of the header from offset at, as far as they fit. */
static void copy_out(const struct ua *u, size_t at, size_t n, char *dst,
		     size_t size)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, u->orig + at, n);
	dst[n] = '\0';
}

/* ---- bots ---------------------------------------------------------------- */

struct bot_token {
	const char *tok; /* lower case, found anywhere */
	const char *name;
	bool at_start; /* only as the first thing in the header */
};

/*
 * Bots known by name.  Many would also be caught by the generic words
 * below, but then they are named by whatever token held the word; these
 * get their usual name.  The HTTP libraries and tools are here because
 * dni.js runs in a browser, so a request from one of them is a script.
 */
static const struct bot_token bot_tokens[] = {
	/* Search engines. */
	{"googlebot", "Googlebot", false},
	{"adsbot-google", "AdsBot-Google", false},
	{"mediapartners-google", "Mediapartners-Google", false},
	{"google-inspectiontool", "Google-InspectionTool", false},
	{"storebot-google", "Storebot-Google", false},
	{"googleother", "GoogleOther", false},
	{"feedfetcher-google", "FeedFetcher-Google", false},
	{"apis-google", "APIs-Google", false},
	{"google-read-aloud", "Google-Read-Aloud", false},
	{"bingbot", "bingbot", false},
	{"bingpreview", "BingPreview", false},
	{"adidxbot", "adidxbot", false},
	{"msnbot", "msnbot", false},
	{"slurp", "Slurp", false},
	{"duckduckbot", "DuckDuckBot", false},
	{"baiduspider", "Baiduspider", false},
	{"yandexbot", "YandexBot", false},
	/* Yandex's other robots (YandexImages, YandexMetrika...) name
	 * themselves only through their URL. */
	{"yandex.com/bots", "Yandex", false},
	{"sogou web spider", "Sogou", false},
	{"applebot", "Applebot", false},
	{"petalbot", "PetalBot", false},
	/* SEO tools and AI crawlers. */
	{"ahrefsbot", "AhrefsBot", false},
	{"semrushbot", "SemrushBot", false},
	{"gptbot", "GPTBot", false},
	{"chatgpt-user", "ChatGPT-User", false},
	{"anthropic-ai", "anthropic-ai", false},
	{"claude-web", "Claude-Web", false},
	/* Link previews. */
	{"facebookexternalhit", "facebookexternalhit", false},
	{"facebookcatalog", "facebookcatalog", false},
	{"meta-externalagent", "meta-externalagent", false},
	{"twitterbot", "Twitterbot", false},
	{"linkedinbot", "LinkedInBot", false},
	{"skypeuripreview", "SkypeUriPreview", false},
	/* Only at the start: the preview fetcher sends "WhatsApp/2.23.20.0
	 * A"; the app itself opens links in a real browser. */
	{"whatsapp/", "WhatsApp", true},
	/* Page testing and headless browsers. */
	{"headlesschrome", "HeadlessChrome", false},
	{"chrome-lighthouse", "Chrome-Lighthouse", false},
	{"lighthouse", "Lighthouse", false},
	{"ptst/", "WebPageTest", false},
	{"gtmetrix", "GTmetrix", false},
	{"pingdom", "Pingdom", false},
	{"phantomjs", "PhantomJS", false},
	{"prerender", "Prerender", false},
	/* HTTP libraries and tools. */
	{"curl/", "curl", false},
	{"wget/", "Wget", false},
	{"python-requests", "python-requests", false},
	{"python-urllib", "Python-urllib", false},
	{"python-httpx", "python-httpx", false},
	{"aiohttp", "aiohttp", false},
	{"go-http-client", "Go-http-client", false},
	{"okhttp", "okhttp", false},
	{"java/", "Java", true},
	{"apache-httpclient", "Apache-HttpClient", false},
	{"libwww-perl", "libwww-perl", false},
	{"axios/", "axios", false},
	{"node-fetch", "node-fetch", false},
	{"undici", "undici", false},
	{"postmanruntime", "PostmanRuntime", false},
	{"insomnia/", "Insomnia", false},
	{"httpie", "HTTPie", false},
	{"scrapy", "Scrapy", false},
};

/* Words that make any User-Agent a bot.  "bot" only ends a word (below). */
static const char *const bot_words[] = {
	"bot", "spider", "crawl", "archiver", "scraper", "headless",
};

/* The bot whose name starts earliest in the header wins, so that
 * "TelegramBot (like TwitterBot)" is TelegramBot. */
struct bot_hit {
	size_t at;	  /* where its name starts; SIZE_MAX: no bot yet */
	const char *name; /* a constant, or NULL: the header's bytes */
	size_t n;	  /* with name NULL, how many */
	bool fallback;	  /* found in a URL: name it by fallback_name */
};

/*
 * Whether "bot" at p is the word it looks like: it ends a word ("bots"
 * too) and is not the phone brand Cubot, whose models ("CUBOT_X30", "CUBOT
 * KINGKONG") real mobile browsers send.  "bottle" and "Botim" are not bots.
 */
static bool bot_word_at(const struct ua *u, const char *p)
{
	const char *after = p + 3;

	if (*after == 's')
		after++;
	if (is_alpha(*after))
		return false;
	/* Two characters back, not a scan: a header of "botbotbot..." is
	 * then still linear. */
	return !(p - u->lc >= 2 && memcmp(p - 2, "cu", 2) == 0 &&
		 (p - u->lc == 2 || !is_alnum(p[-3])));
}

/* A generic word at p: its hit is the whole product name around it, or,
 * when that name is part of a URL or an e-mail address
 * ("+http://www.semrush.com/bot.html"), the bot's name from elsewhere. */
static void generic_hit(const struct ua *u, const char *p, size_t kwlen,
			struct bot_hit *h)
{
	const char *start = p, *end = p + kwlen;

	while (start > u->lc && is_name(start[-1]))
		start--;
	while (is_name(*end))
		end++;
	h->at = (size_t)(start - u->lc);
	h->name = NULL;
	h->n = (size_t)(end - start);
	h->fallback = start > u->lc && strchr("/.:@=?#&+~", start[-1]) != NULL;
}

static void find_bot(const struct ua *u, struct bot_hit *best)
{
	best->at = SIZE_MAX;
	for (size_t i = 0; i < RT_ARRAY_SIZE(bot_tokens); i++) {
		const char *p = strstr(u->lc, bot_tokens[i].tok);

		if (!p || (bot_tokens[i].at_start && p != u->lc))
			continue;
		if ((size_t)(p - u->lc) < best->at) {
			best->at = (size_t)(p - u->lc);
			best->name = bot_tokens[i].name;
			best->n = 0;
			best->fallback = false;
		}
	}
	/* Strictly earlier only: a named bot keeps a tie with its own word
	 * ("Googlebot" is both). */
	for (size_t i = 0; i < RT_ARRAY_SIZE(bot_words); i++) {
		const char *kw = bot_words[i];
		size_t kwlen = strlen(kw);
		struct bot_hit h;

		for (const char *p = u->lc; (p = strstr(p, kw)); p++) {
			if (strcmp(kw, "bot") == 0 && !bot_word_at(u, p))
				continue;
			generic_hit(u, p, kwlen, &h);
			if (h.at < best->at)
				*best = h;
			break;
		}
	}
	/* Browsers never put a URL in their User-Agent; crawlers put their
	 * "more about this bot" page there. */
	if (best->at == SIZE_MAX) {
		const char *p = strstr(u->lc, "http://");

		if (!p)
			p = strstr(u->lc, "https://");
		if (p) {
			best->at = (size_t)(p - u->lc);
			best->name = NULL;
			best->n = 0;
			best->fallback = true;
		}
	}
}

/* A bot's name when the token that gave it away is not one: "NAME" of
 * "compatible; NAME/1.0", else the first product token unless that is
 * the "Mozilla" every browser-like client starts with. */
static void fallback_name(const struct ua *u, char *dst, size_t size)
{
	const char *p = strstr(u->lc, "compatible;");
	size_t n = 0;

	if (p) {
		p += strlen("compatible;");
		while (*p == ' ')
			p++;
	} else {
		p = u->lc;
	}
	while (is_name(p[n]))
		n++;
	/* Not a URL's scheme ("compatible; http://..."), nor Mozilla. */
	if (n == 0 || p[n] == ':' ||
	    (p == u->lc && n == 7 && memcmp(p, "mozilla", 7) == 0))
		rt_strlcpy(dst, "unknown", size);
	else
		copy_out(u, (size_t)(p - u->lc), n, dst, size);
}

/* ---- browser, OS, class ------------------------------------------------- */

struct browser_token {
	const char *tok; /* lower case, not continuing a word; the version
			  * follows it */
	const char *name;
};

/*
 * In order: Chromium-based browsers also send Chrome/ and Safari/, and
 * in-app browsers their engine's tokens, so each goes before those, and
 * Chrome and Firefox on iOS send Safari's.  Brave and most Chromium
 * forks send nothing of their own and are Chrome.
 */
static const struct browser_token browsers[] = {
	{"edg/", "Edge"},
	{"edga/", "Edge"},
	{"edgios/", "Edge"},
	{"edge/", "Edge"}, /* EdgeHTML, before 2020 */
	{"opr/", "Opera"},
	{"opios/", "Opera"},
	{"opt/", "Opera"}, /* Opera Touch on iOS */
	{"opera mini/", "Opera Mini"},
	{"samsungbrowser/", "Samsung Internet"},
	{"yabrowser/", "Yandex Browser"},
	{"ucbrowser/", "UC Browser"},
	{"miuibrowser/", "MIUI Browser"},
	{"huaweibrowser/", "Huawei Browser"},
	{"vivaldi/", "Vivaldi"},
	{"duckduckgo/", "DuckDuckGo"},
	{"silk/", "Silk"},
	{"fbav/", "Facebook"}, /* Facebook and Messenger in-app */
	{"instagram ", "Instagram"},
	{"gsa/", "Google App"},
	{"crios/", "Chrome"},
	{"fxios/", "Firefox"},
	{"headlesschrome/", "Headless Chrome"},
	{"chromium/", "Chromium"},
};

/* The browsers known by their engine's tokens alone, after the table;
 * returns where the version is (NULL: none) and sets *namep. */
static const char *engine_browser(const struct ua *u, bool android,
				  const char **namep)
{
	const char *p, *v;

	if ((p = find_tok(u, "chrome/"))) {
		/* An app's web view: Chrome's engine, not the user's
		 * browser. */
		*namep = has(u, "; wv)") ? "Android WebView" : "Chrome";
		return p + strlen("chrome/");
	}
	if ((p = find_tok(u, "firefox/"))) {
		*namep = "Firefox";
		return p + strlen("firefox/");
	}
	v = find_tok(u, "version/");
	if (find_tok(u, "safari/")) {
		/* Android's own browser, before Chrome, sent Safari's
		 * tokens too. */
		*namep = android ? "Android Browser" : "Safari";
		return v ? v + strlen("version/") : NULL;
	}
	if ((p = find_tok(u, "msie "))) {
		*namep = "Internet Explorer";
		return p + strlen("msie ");
	}
	if (find_tok(u, "trident/")) {
		/* IE 11 dropped "MSIE"; its version is in "rv:". */
		*namep = "Internet Explorer";
		p = find_tok(u, "rv:");
		return p ? p + strlen("rv:") : NULL;
	}
	if ((p = find_tok(u, "opera/")) || (p = find_tok(u, "opera "))) {
		/* Presto Opera: "Opera/9.80 (...) Version/12.16". */
		*namep = "Opera";
		return v ? v + strlen("version/") : p + strlen("opera/");
	}
	*namep = "Other";
	return NULL;
}

static void browser_of(const struct ua *u, bool android, struct rt_device *d)
{
	const char *name = NULL, *p = NULL;

	for (size_t i = 0; i < RT_ARRAY_SIZE(browsers) && !name; i++) {
		p = find_tok(u, browsers[i].tok);
		if (p) {
			name = browsers[i].name;
			p += strlen(browsers[i].tok);
		}
	}
	if (!name)
		p = engine_browser(u, android, &name);
	rt_strlcpy(d->browser, name, sizeof(d->browser));
	if (p)
		version_at(u, p, d->browser_version,
			   sizeof(d->browser_version));
}

/* "Android", but not the "like Android" of a Kindle e-reader's Linux. */
static bool is_android(const struct ua *u)
{
	for (const char *p = u->lc; (p = strstr(p, "android")); p++) {
		if (p - u->lc < 5 || memcmp(p - 5, "like ", 5) != 0)
			return true;
	}
	return false;
}

static bool is_windows_phone(const struct ua *u)
{
	return has(u, "windows phone") || has(u, "windows mobile");
}

/* Windows Phone 10 also claims Android, and iOS claims "like Mac OS X",
 * hence the order. */
static const char *os_of(const struct ua *u)
{
	if (is_windows_phone(u))
		return "Windows";
	if (has(u, "ipad"))
		return "iPadOS";
	if (has(u, "iphone") || has(u, "ipod"))
		return "iOS";
	if (has_word(u, "cros"))
		return "ChromeOS";
	if (is_android(u))
		return "Android";
	if (has(u, "windows") || find_tok(u, "win64") || find_tok(u, "win32"))
		return "Windows";
	if (has(u, "macintosh") || has(u, "mac os x"))
		return "macOS";
	if (has(u, "linux") || has_word(u, "x11") || has(u, "ubuntu") ||
	    has(u, "fedora"))
		return "Linux";
	return "Other";
}

static enum rt_device_class class_of(const struct ua *u, const char *os)
{
	if (strcmp(os, "iPadOS") == 0)
		return RT_DEVICE_TABLET;
	if (strcmp(os, "iOS") == 0 || is_windows_phone(u))
		return RT_DEVICE_MOBILE;
	/* IE on Windows 7 and 8 says "Tablet PC 2.0" on any PC with pen
	 * support installed. */
	if ((has(u, "tablet") && !has(u, "tablet pc")) || has(u, "kindle") ||
	    find_tok(u, "silk/"))
		return RT_DEVICE_TABLET;
	/* Opera Mini on Android says neither Mobile nor Mobi. */
	if (has(u, "opera mini"))
		return RT_DEVICE_MOBILE;
	/* Android phones say "Mobile" and tablets do not, as Google asks
	 * of browsers. */
	if (strcmp(os, "Android") == 0)
		return has(u, "mobi") ? RT_DEVICE_MOBILE : RT_DEVICE_TABLET;
	if (has(u, "mobi"))
		return RT_DEVICE_MOBILE;
	return RT_DEVICE_DESKTOP;
}

void rt_dni_device(const char *ua, struct rt_device *d)
{
	struct ua u;
	struct bot_hit bot;
	const char *os;
	size_t blank = 0;

	memset(d, 0, sizeof(*d));
	ua_init(&u, ua);
	os = os_of(&u);
	rt_strlcpy(d->os, os, sizeof(d->os));
	browser_of(&u, strcmp(os, "Android") == 0, d);

	while (u.lc[blank] == ' ' || u.lc[blank] == '\t')
		blank++;
	if (blank == u.len) {
		d->cls = RT_DEVICE_BOT;
		rt_strlcpy(d->bot, "unknown", sizeof(d->bot));
		return;
	}
	find_bot(&u, &bot);
	if (bot.at != SIZE_MAX) {
		d->cls = RT_DEVICE_BOT;
		if (bot.fallback)
			fallback_name(&u, d->bot, sizeof(d->bot));
		else if (bot.name)
			rt_strlcpy(d->bot, bot.name, sizeof(d->bot));
		else
			copy_out(&u, bot.at, bot.n, d->bot, sizeof(d->bot));
		return;
	}
	d->cls = class_of(&u, os);
}

const char *rt_dni_device_class_name(enum rt_device_class c)
{
	static const char *const names[] = {"desktop", "mobile", "tablet",
					    "bot"};

	return (unsigned)c < RT_ARRAY_SIZE(names) ? names[c] : "desktop";
}
