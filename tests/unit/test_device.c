/*
 * Unit tests of dni's device classification: the data-driven table in
 * tests/data/devices.tsv (real User-Agents of browsers, phones, tablets,
 * in-app browsers, bots and scripts, then constructed edge cases), the
 * scan limit, and headers that end right inside or after a token.  Every
 * User-Agent is passed in a heap block of exactly its size, so that ASan
 * reports any read past its end.
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

#include "dni/device.h"
#include "util/util.h"

#define TABLE	   RT_SOURCE_DIR "/tests/data/devices.tsv"
#define HEADER	   "ua\tclass\tbrowser\tos\tbot"
#define ROWS_MIN   60
#define BOTS_MIN   15
#define REPEAT_MAX (1 << 20)

/* A string of exactly n bytes and its NUL, on the heap. */
static char *exact(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	assert_non_null(p);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, char c, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	memset(b->s + b->len, c, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes a table User-Agent (the escapes are described at the top of the
 * table) into *uap, an exact heap string, or NULL for "(null)".  Returns
 * NULL, or what is wrong with the cell.
 */
static const char *decode(const char *cell, char **uap)
{
	struct buf b = {0};
	size_t repeat = 1;

	*uap = NULL;
	if (strcmp(cell, "(null)") == 0)
		return NULL;
	put(&b, '\0', 0);
	if (strcmp(cell, "(empty)") == 0)
		goto out;
	for (const char *p = cell; *p; p++) {
		char c = *p;

		if (c == '\\') {
			p++;
			if (*p == '\\') {
				c = '\\';
			} else if (*p == 't') {
				c = '\t';
			} else if (*p == 'x' && hex(p[1]) >= 0 &&
				   hex(p[2]) >= 0) {
				c = (char)(hex(p[1]) * 16 + hex(p[2]));
				p += 2;
				if (c == '\0') {
					free(b.s);
					return "\\x00 cannot be in a header";
				}
			} else if (*p == '{') {
				char *end;
				unsigned long n = strtoul(p + 1, &end, 10);

				if (*end != '}' || n == 0 || n > REPEAT_MAX) {
					free(b.s);
					return "bad \\{N}";
				}
				repeat = n;
				p = end;
				continue;
			} else {
				free(b.s);
				return "unknown escape";
			}
		}
		put(&b, c, repeat);
		repeat = 1;
	}
	if (repeat != 1) {
		free(b.s);
		return "\\{N} with nothing after it";
	}
out:
	*uap = exact(b.s, b.len);
	free(b.s);
	return NULL;
}

/* A field: exactly NUL-terminated inside its array, printable ASCII. */
static const char *sane_string(const char *s, size_t size, const char *name)
{
	const char *nul = memchr(s, '\0', size);

	if (!nul)
		return name;
	for (const char *p = s; p < nul; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return name;
	}
	return NULL;
}

/* What every result must be, whatever the input; NULL or the field that
 * is not. */
static const char *sane(const struct rt_device *d)
{
	static const char *const oses[] = {"Windows",  "macOS",	  "iOS",
					   "iPadOS",   "Android", "Linux",
					   "ChromeOS", "Other"};
	const char *bad;
	size_t i;

	if ((unsigned)d->cls > RT_DEVICE_BOT)
		return "cls";
	if ((bad = sane_string(d->browser, sizeof(d->browser), "browser")) ||
	    (bad = sane_string(d->browser_version, sizeof(d->browser_version),
			       "browser_version")) ||
	    (bad = sane_string(d->os, sizeof(d->os), "os")) ||
	    (bad = sane_string(d->bot, sizeof(d->bot), "bot")))
		return bad;
	if (!d->browser[0])
		return "browser (empty)";
	for (i = 0; d->browser_version[i]; i++) {
		if (d->browser_version[i] < '0' || d->browser_version[i] > '9')
			return "browser_version (not digits)";
	}
	for (i = 0; i < RT_ARRAY_SIZE(oses); i++) {
		if (strcmp(d->os, oses[i]) == 0)
			break;
	}
	if (i == RT_ARRAY_SIZE(oses))
		return "os (not one of the list)";
	if ((d->cls == RT_DEVICE_BOT) != (d->bot[0] != '\0'))
		return "bot (set exactly when cls is bot)";
	return NULL;
}

/* Classifies into a struct full of garbage, so that a field left unset
 * shows, and checks what must always hold. */
static void classify(const char *ua, struct rt_device *d)
{
	const char *bad;

	memset(d, 0x5a, sizeof(*d));
	rt_dni_device(ua, d);
	bad = sane(d);
	if (bad)
		fail_msg("'%.80s': %s", ua ? ua : "(null)", bad);
}

/* Long values are shown shortened in failure messages. */
static void report(unsigned line, const char *what, const char *want,
		   const char *got)
{
	print_error("%s:%u: %s: want '%.80s', got '%.80s'\n", TABLE, line, what,
		    want, got);
}

/* Splits line at every tab, empty cells included; returns the count. */
static size_t split(char *line, char **cell, size_t max)
{
	size_t n = 0;

	for (char *p = line; p && n < max; n++) {
		cell[n] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	return n;
}

/* Checks one table line; returns the number of mismatches. */
static int check_case(unsigned lineno, char *line, unsigned *bots,
		      unsigned *classes)
{
	char *cell[16], *ua = NULL;
	const char *err, *want_bot;
	struct rt_device d;
	size_t n = split(line, cell, 16);
	int bad = 0;

	if (n < 5) {
		print_error("%s:%u: want at least 5 tab-separated columns, "
			    "got %zu\n",
			    TABLE, lineno, n);
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if (!cell[i][0]) {
			print_error("%s:%u: column %zu is empty\n", TABLE,
				    lineno, i + 1);
			return 1;
		}
	}
	err = decode(cell[0], &ua);
	if (err) {
		print_error("%s:%u: the User-Agent: %s\n", TABLE, lineno, err);
		return 1;
	}
	memset(&d, 0x5a, sizeof(d));
	rt_dni_device(ua, &d);
	free(ua);
	err = sane(&d);
	if (err) {
		print_error("%s:%u: %s is malformed\n", TABLE, lineno, err);
		return 1;
	}
	if (d.cls == RT_DEVICE_BOT)
		(*bots)++;
	classes[d.cls]++;
	want_bot = strcmp(cell[4], "-") == 0 ? "" : cell[4];
	if (strcmp(rt_dni_device_class_name(d.cls), cell[1]) != 0) {
		report(lineno, "class", cell[1],
		       rt_dni_device_class_name(d.cls));
		bad++;
	}
	if (strcmp(d.browser, cell[2]) != 0) {
		report(lineno, "browser", cell[2], d.browser);
		bad++;
	}
	if (strcmp(d.os, cell[3]) != 0) {
		report(lineno, "os", cell[3], d.os);
		bad++;
	}
	if (strcmp(d.bot, want_bot) != 0) {
		report(lineno, "bot", want_bot, d.bot);
		bad++;
	}
	for (size_t i = 5; i < n; i++) {
		if (strncmp(cell[i], "version=", 8) != 0) {
			print_error("%s:%u: '%s' is not a version= check\n",
				    TABLE, lineno, cell[i]);
			bad++;
		} else if (strcmp(d.browser_version, cell[i] + 8) != 0) {
			report(lineno, "version", cell[i] + 8,
			       d.browser_version);
			bad++;
		}
	}
	return bad;
}

/* Every line of the table, reporting every mismatch before failing. */
static void test_table(void **state)
{
	unsigned lineno = 0, cases = 0, failed = 0, bots = 0;
	unsigned classes[RT_DEVICE_BOT + 1] = {0};
	bool header = false;
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
		if (!header) {
			header = true;
			if (strcmp(line, HEADER) != 0) {
				print_error(
					"%s:%u: want the header line '%s'\n",
					TABLE, lineno, HEADER);
				failed++;
			}
			continue;
		}
		cases++;
		if (check_case(lineno, line, &bots, classes))
			failed++;
	}
	free(line);
	fclose(f);
	if (cases < ROWS_MIN || bots < BOTS_MIN) {
		print_error("%s: %u cases of which %u bots, want >= %d and "
			    ">= %d\n",
			    TABLE, cases, bots, ROWS_MIN, BOTS_MIN);
		failed++;
	}
	for (int c = RT_DEVICE_DESKTOP; c <= RT_DEVICE_BOT; c++) {
		if (classes[c] < 5) {
			print_error("%s: class '%s' has %u cases, want >= 5\n",
				    TABLE, rt_dni_device_class_name(c),
				    classes[c]);
			failed++;
		}
	}
	if (failed)
		fail_msg("%u of %u table cases (or checks) failed", failed,
			 cases);
}

static void test_class_names(void **state)
{
	assert_string_equal(rt_dni_device_class_name(RT_DEVICE_DESKTOP),
			    "desktop");
	assert_string_equal(rt_dni_device_class_name(RT_DEVICE_MOBILE),
			    "mobile");
	assert_string_equal(rt_dni_device_class_name(RT_DEVICE_TABLET),
			    "tablet");
	assert_string_equal(rt_dni_device_class_name(RT_DEVICE_BOT), "bot");
	assert_string_equal(rt_dni_device_class_name((enum rt_device_class)99),
			    "desktop");
}

/* Padding of n bytes, then tail, then more: a header of exactly that. */
static char *padded(size_t n, const char *tail, const char *more)
{
	size_t t = strlen(tail), m = strlen(more);
	char *s = malloc(n + t + m + 1);

	assert_non_null(s);
	memset(s, 'a', n);
	if (n)
		s[n - 1] = ' ';
	memcpy(s + n, tail, t);
	memcpy(s + n + t, more, m + 1);
	return s;
}

/* A token counts when it ends inside the first RT_DNI_DEVICE_SCAN bytes,
 * and a version that runs into that end is unknown rather than cut. */
static void test_scan_limit(void **state)
{
	const size_t scan = RT_DNI_DEVICE_SCAN;
	struct rt_device d;
	char *ua;

	ua = padded(scan - strlen("Googlebot"), "Googlebot", "/2.1");
	classify(ua, &d);
	assert_int_equal(d.cls, RT_DEVICE_BOT);
	assert_string_equal(d.bot, "Googlebot");
	free(ua);

	ua = padded(scan - strlen("Googlebot") + 1, "Googlebot", "/2.1");
	classify(ua, &d);
	assert_int_equal(d.cls, RT_DEVICE_DESKTOP);
	assert_string_equal(d.bot, "");
	free(ua);

	/* "Chrome/12" ends at the limit: "120" or "12"?  Unknown. */
	ua = padded(scan - strlen("Chrome/12"), "Chrome/12", "0.0.0.0");
	classify(ua, &d);
	assert_string_equal(d.browser, "Chrome");
	assert_string_equal(d.browser_version, "");
	free(ua);
	/* The same where the header really ends there. */
	ua = padded(scan - strlen("Chrome/12"), "Chrome/12", "");
	classify(ua, &d);
	assert_string_equal(d.browser_version, "12");
	free(ua);
	/* "Chrome/120." fits: the dot says the number is whole. */
	ua = padded(scan - strlen("Chrome/120."), "Chrome/12", "0.0.0.0");
	classify(ua, &d);
	assert_string_equal(d.browser_version, "120");
	free(ua);
}

/* Headers that stop right inside or after each token the rules look at,
 * for ASan to catch a read past the end; and the same struct reused. */
static void test_ends(void **state)
{
	static const char *const uas[] = {
		"Chrome/",
		"chrome/1",
		"MSIE",
		"MSIE ",
		"Trident/",
		"Trident/ rv",
		"Trident/ rv:",
		"opera",
		"Opera ",
		"Opera/",
		"Opera/ Version/",
		"Safari/",
		"Version/",
		"compatible;",
		"compatible; ",
		"compatible; a:",
		"http://",
		"https:/",
		"bot",
		"bots",
		"bo",
		"cubot",
		"ubot",
		"xcubot",
		"a cubot",
		"cu",
		"CrOS",
		"like Android",
		"Android",
		"ndroid",
		"iPad",
		"Tablet",
		"Tablet PC",
		"Mobi",
		"Edg/",
		"Silk/",
		"Instagram ",
		"Instagram",
		"WhatsApp/",
		" WhatsApp/",
		"Java/",
		"x Java/",
		"\t",
		"\xff",
		"/bot",
		"@bot",
		"-bot-",
	};
	struct rt_device d;

	for (size_t i = 0; i < RT_ARRAY_SIZE(uas); i++) {
		char *ua = exact(uas[i], strlen(uas[i]));

		classify(ua, &d);
		free(ua);
	}
	/* A struct that held a bot holds none of it after a browser. */
	classify("curl/8.4.0", &d);
	assert_string_equal(d.bot, "curl");
	rt_dni_device("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
		      "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile "
		      "Safari/537.36",
		      &d);
	assert_int_equal(d.cls, RT_DEVICE_MOBILE);
	assert_string_equal(d.bot, "");
	/* Only at the start: a Java or WhatsApp token elsewhere is not
	 * the library or the preview fetcher. */
	classify("x Java/17", &d);
	assert_int_equal(d.cls, RT_DEVICE_DESKTOP);
	classify(" WhatsApp/2", &d);
	assert_int_equal(d.cls, RT_DEVICE_DESKTOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_scan_limit),
		cmocka_unit_test(test_ends),
	};

	return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
