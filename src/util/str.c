/* Checked parsing of numbers, durations and sizes; small string helpers. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/util.h"

size_t rt_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

char *rt_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *rt_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

bool rt_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool rt_strcaseeq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

/* Length of the well-formed UTF-8 sequence at s, or 0 (RFC 3629). */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80;
		unsigned hi = s[0] == 0xed ? 0x9f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3
									 : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80;
		unsigned hi = s[0] == 0xf4 ? 0x8f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
				       (s[3] & 0xc0) == 0x80
			       ? 4
			       : 0;
	}
	return 0;
}

void rt_utf8_clean(char *str)
{
	unsigned char *s = (unsigned char *)str;

	while (*s) {
		size_t n = utf8_seq(s);

		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
			*s++ = '?';
			continue;
		}
		s += n;
	}
}

void rt_utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	/* Back off continuation bytes so no character is split. */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

int rt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *vp)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return ERANGE;
	if (*end != '\0')
		return EINVAL;
	if (v < min || v > max)
		return ERANGE;
	*vp = v;
	return 0;
}

int rt_parse_i64(const char *s, int64_t *vp)
{
	long long v;
	char *end;

	if (!s || !(isdigit((unsigned char)s[0]) ||
		    (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return ERANGE;
	if (*end != '\0')
		return EINVAL;
	*vp = v;
	return 0;
}

/* Splits "123unit" into a number and a suffix. */
static int split_number(const char *s, uint64_t *vp, const char **unitp)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return ERANGE;
	while (*end == ' ')
		end++;
	*vp = v;
	*unitp = end;
	return 0;
}

static int mul_checked(uint64_t v, uint64_t m, uint64_t *out)
{
	if (m && v > UINT64_MAX / m)
		return ERANGE;
	*out = v * m;
	return 0;
}

int rt_parse_duration_ms(const char *s, uint64_t *msp)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		{"", 1000},   {"ms", 1},      {"s", 1000},
		{"m", 60000}, {"h", 3600000}, {"d", 86400000},
	};
	const char *unit;
	uint64_t v;
	int err;

	err = split_number(s, &v, &unit);
	if (err)
		return err;
	for (size_t i = 0; i < RT_ARRAY_SIZE(units); i++) {
		if (strcmp(unit, units[i].unit) == 0)
			return mul_checked(v, units[i].ms, msp);
	}
	return EINVAL;
}

int rt_parse_size(const char *s, uint64_t *bytesp)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
		{"", 1},
		{"b", 1},
		{"k", 1024},
		{"kib", 1024},
		{"kb", 1024},
		{"m", 1048576},
		{"mib", 1048576},
		{"mb", 1048576},
		{"g", 1073741824},
		{"gib", 1073741824},
		{"gb", 1073741824},
	};
	const char *unit;
	uint64_t v;
	int err;

	err = split_number(s, &v, &unit);
	if (err)
		return err;
	for (size_t i = 0; i < RT_ARRAY_SIZE(units); i++) {
		if (strcasecmp(unit, units[i].unit) == 0)
			return mul_checked(v, units[i].mul, bytesp);
	}
	return EINVAL;
}

int rt_parse_bool(const char *s, bool *bp)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < RT_ARRAY_SIZE(yes); i++) {
		if (rt_strcaseeq(s, yes[i])) {
			*bp = true;
			return 0;
		}
		if (rt_strcaseeq(s, no[i])) {
			*bp = false;
			return 0;
		}
	}
	return EINVAL;
}

int64_t rt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec rt_deadline_ms(uint64_t ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

uint64_t rt_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *rt_time_fmt(int64_t ms, char buf[RT_TIME_LEN])
{
	time_t secs = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	if (!gmtime_r(&secs, &tm)) {
		rt_strlcpy(buf, "1970-01-01T00:00:00.000Z", RT_TIME_LEN);
		return buf;
	}
	/* The modulos tell the compiler each field's width. */
	snprintf(buf, RT_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
		 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u, (unsigned)frac % 1000u);
	return buf;
}

static int digits(const char **sp, int n, int *vp)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*sp)[i]))
			return EINVAL;
		v = v * 10 + ((*sp)[i] - '0');
	}
	*sp += n;
	*vp = v;
	return 0;
}

static int expect(const char **sp, char ch)
{
	if (**sp != ch)
		return EINVAL;
	(*sp)++;
	return 0;
}

int rt_time_parse(const char *s, int64_t *msp)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, ms = 0, off = 0;
	struct tm tm = {0};
	time_t t;

	if (!s || digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) ||
	    expect(&s, '-') || digits(&s, 2, &d) ||
	    (*s != 'T' && *s != 't' && *s != ' '))
		return EINVAL;
	s++;
	if (digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) ||
	    expect(&s, ':') || digits(&s, 2, &sec))
		return EINVAL;
	if (*s == '.') {
		int scale = 100;

		s++;
		if (!isdigit((unsigned char)*s))
			return EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			ms += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1, oh, om;

		s++;
		if (digits(&s, 2, &oh) || expect(&s, ':') ||
		    digits(&s, 2, &om) || oh > 23 || om > 59)
			return EINVAL;
		off = sign * (oh * 60 + om);
	} else {
		return EINVAL;
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60 || y < 1970)
		return EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d) /* 2026-02-29 normalises away */
		return EINVAL;
	*msp = ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
	return 0;
}
