/*
 * dni device: the visitor's device class, browser and OS, and whether it is
 * a bot, from the User-Agent header of the request for a DNI session.
 *
 * A bot is to be shown the business's own number without taking a
 * tracking-number lease; for anyone else the result is recorded with the
 * session.  This runs once per page view: it allocates nothing, reads at most
 * RT_DNI_DEVICE_SCAN bytes of the header and never past its end, and keeps no
 * state, so any thread may call it.  The rules and their limits are in
 * docs/attribution.md ("Device class"); tests/data/devices.tsv holds them to
 * real User-Agents.
 */
#ifndef RT_DNI_DEVICE_H
#define RT_DNI_DEVICE_H

/* Bytes of a User-Agent that are read; what follows is ignored.  Real
 * browsers send 100 to 300, and a token past this is not worth an
 * unbounded scan of whatever a client sends. */
#define RT_DNI_DEVICE_SCAN 1024

enum rt_device_class {
	RT_DEVICE_DESKTOP,
	RT_DEVICE_MOBILE,
	RT_DEVICE_TABLET,
	RT_DEVICE_BOT
};

/* Every string is NUL-terminated printable ASCII, never NULL. */
struct rt_device {
	enum rt_device_class cls;
	/* "Chrome", "Safari", "Firefox", "Edge", "Opera", "Samsung Internet",
	 * "Internet Explorer", an in-app browser such as "Facebook", and a
	 * few more (docs/attribution.md); "Other" when none is recognised. */
	char browser[32];
	/* The browser's major version ("120"), "" when unknown.  Chrome,
	 * Edge and Safari now send only a meaningful major version. */
	char browser_version[16];
	/* "Windows", "macOS", "iOS", "iPadOS", "Android", "Linux",
	 * "ChromeOS", or "Other". */
	char os[32];
	/* The bot's name when cls is RT_DEVICE_BOT ("Googlebot", "bingbot",
	 * "curl", or the product token that gave it away), else "". */
	char bot[48];
};

/*
 * Classifies a User-Agent (borrowed; NULL allowed) into d, which is filled
 * in completely.
 *
 * A NULL, empty or blank User-Agent is a bot named "unknown": the request
 * comes from dni.js, and every browser sends the header, so a client that
 * does not is a script.  For a bot, browser and os are still what the
 * User-Agent claims (Googlebot's smartphone crawler claims Chrome on
 * Android).  A User-Agent with no bot token is never guessed to be a bot,
 * however odd: one with nothing recognisable ("asdf") is a desktop with
 * browser and os "Other".
 *
 * An iPad in its default desktop mode (iPadOS 13 and later) sends the same
 * User-Agent as Safari on a Mac and is classified desktop macOS: no header
 * tells the two apart.
 */
void rt_dni_device(const char *ua, struct rt_device *d);

/* "desktop", "mobile", "tablet" or "bot"; "desktop" for a value out of
 * range. */
const char *rt_dni_device_class_name(enum rt_device_class c);

#endif
