/*
 * Unit tests of util: logfmt lines, the number, duration, size, boolean and
 * time parsers, the growable buffer, histograms, and the configuration
 * (file syntax, environment, errors that name the key and the line).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/util.h"

/* ---- helpers ------------------------------------------------------------ */

/* Runs rt_log_write with stderr sent to a file; returns what was written. */
static char *capture_stderr_begin(int *savedp, char *path, size_t size)
{
	int fd;

	rt_strlcpy(path, "/tmp/rt-unit-log-XXXXXX", size);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	*savedp = dup(STDERR_FILENO);
	assert_true(*savedp >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	return path;
}

static char *capture_stderr_end(int saved, const char *path)
{
	char *text;
	FILE *f;
	long n;

	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return text;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* ---- logging ------------------------------------------------------------ */

static void test_log_q_plain_and_escapes(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(rt_log_q(buf, sizeof(buf), "plain"), "\"plain\"");
	assert_string_equal(rt_log_q(buf, sizeof(buf), ""), "\"\"");
	assert_string_equal(rt_log_q(buf, sizeof(buf), NULL), "\"\"");
	assert_string_equal(rt_log_q(buf, sizeof(buf), "say \"hi\""),
			    "\"say \\\"hi\\\"\"");
	assert_string_equal(rt_log_q(buf, sizeof(buf), "a\\b"), "\"a\\\\b\"");
	assert_string_equal(rt_log_q(buf, sizeof(buf), "a\nb\tc"),
			    "\"a\\nb\\tc\"");
	/* Other control characters never reach the log raw. */
	rt_log_q(buf, sizeof(buf), "x\r\x01\x1b[31my\x7f");
	for (const char *c = buf; *c; c++)
		assert_false((unsigned char)*c < 0x20 || *c == 0x7f);
	assert_non_null(strstr(buf, "[31my"));
}

static void test_log_q_truncates_but_stays_quoted(void **state)
{
	char buf[10];
	char tiny[2] = {'x', 'x'};

	(void)state;
	rt_log_q(buf, sizeof(buf), "abcdefghijklmnop");
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(buf[0], '"');
	assert_int_equal(buf[strlen(buf) - 1], '"');
	/* An escape is never cut in half. */
	rt_log_q(buf, sizeof(buf), "\"\"\"\"\"\"\"\"");
	assert_int_equal(buf[strlen(buf) - 1], '"');
	assert_int_equal(count_char(buf, '\\'), count_char(buf, '"') - 2);
	assert_string_equal(rt_log_q(tiny, sizeof(tiny), "abc"), "");
}

static void test_log_write_one_logfmt_line(void **state)
{
	char path[64];
	char *out;
	int saved;

	(void)state;
	rt_log_set_level(RT_LOG_INFO);
	capture_stderr_begin(&saved, path, sizeof(path));
	rt_log_ctx_set("req", "abc123");
	rt_log_write(RT_LOG_WARN, "unit", "disk \"full\"", "path=%s n=%d",
		     "/var/x\ny=injected", 42);
	rt_log_ctx_clear();
	rt_log_write(RT_LOG_INFO, "unit", "second", "");
	out = capture_stderr_end(saved, path);

	/* Two calls, two lines: an embedded newline does not split one. */
	assert_int_equal(count_char(out, '\n'), 2);
	assert_true(strncmp(out, "time=", 5) == 0);
	assert_non_null(strstr(
		out,
		" level=warn module=unit req=abc123 "
		"msg=\"disk \\\"full\\\"\" path=/var/x\\ny=injected n=42\n"));
	/* The context was cleared for the second line. */
	assert_non_null(strstr(out, "level=info module=unit msg=\"second\"\n"));
	assert_null(strstr(strchr(out, '\n') + 1, "req="));
	free(out);
}

static void test_log_level_filters(void **state)
{
	enum rt_log_level l = RT_LOG_INFO;
	char path[64];
	char *out;
	int saved;

	(void)state;
	assert_int_equal(rt_log_level_parse("debug", &l), 0);
	assert_int_equal(l, RT_LOG_DEBUG);
	assert_int_equal(rt_log_level_parse("WARN", &l), 0);
	assert_int_equal(l, RT_LOG_WARN);
	assert_int_equal(rt_log_level_parse("verbose", &l), EINVAL);
	assert_int_equal(rt_log_level_parse("", &l), EINVAL);
	assert_int_equal(l, RT_LOG_WARN);
	assert_string_equal(rt_log_level_name(RT_LOG_ERROR), "error");

	rt_log_set_level(RT_LOG_WARN);
	assert_false(rt_log_enabled(RT_LOG_INFO));
	assert_true(rt_log_enabled(RT_LOG_ERROR));
	capture_stderr_begin(&saved, path, sizeof(path));
	rt_log_write(RT_LOG_INFO, "unit", "hidden", "");
	rt_log_write(RT_LOG_ERROR, "unit", "shown", "");
	out = capture_stderr_end(saved, path);
	rt_log_set_level(RT_LOG_INFO);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "level=error module=unit msg=\"shown\""));
	free(out);
}

/* ---- numbers ------------------------------------------------------------ */

static void test_parse_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(rt_parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rt_parse_u64("18446744073709551615", 0, UINT64_MAX,
				      &v),
			 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(rt_parse_u64("18446744073709551616", 0, UINT64_MAX,
				      &v),
			 ERANGE);
	assert_int_equal(rt_parse_u64("99999999999999999999999", 0, UINT64_MAX,
				      &v),
			 ERANGE);
	assert_int_equal(rt_parse_u64("5", 10, 20, &v), ERANGE);
	assert_int_equal(rt_parse_u64("21", 10, 20, &v), ERANGE);
	assert_int_equal(rt_parse_u64("20", 10, 20, &v), 0);
	assert_int_equal(v, 20);

	static const char *const bad[] = {"",	 "-1",	 "+1",	" 1",  "1 ",
					  "12a", "0x10", "1.5", "1e3", "--"};
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		v = 99;
		assert_int_equal(rt_parse_u64(bad[i], 0, UINT64_MAX, &v),
				 EINVAL);
		assert_int_equal(v, 99); /* untouched on error */
	}
	assert_int_equal(rt_parse_u64(NULL, 0, 1, &v), EINVAL);
}

static void test_parse_i64(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(rt_parse_i64("-42", &v), 0);
	assert_true(v == -42);
	assert_int_equal(rt_parse_i64("9223372036854775807", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(rt_parse_i64("-9223372036854775808", &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(rt_parse_i64("9223372036854775808", &v), ERANGE);
	assert_int_equal(rt_parse_i64("-9223372036854775809", &v), ERANGE);

	static const char *const bad[] = {"",	"-",   "+5",  "--1", " 1",
					  "1 ", "1.0", "abc", "- 1"};
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++)
		assert_int_equal(rt_parse_i64(bad[i], &v), EINVAL);
	assert_int_equal(rt_parse_i64(NULL, &v), EINVAL);
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
		{"250ms", 250},	   {"30s", 30000},    {"15m", 900000},
		{"12h", 43200000}, {"7d", 604800000}, {"45", 45000},
		{"0", 0},	   {"0ms", 0},	      {"1 s", 1000},
	};
	static const char *const bad[] = {"",	   "ms",  "10x", "-5s", "1.5s",
					  "5 m s", "30S", "s30", "1w",	" 5s"};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(good); i++) {
		v = 12345;
		assert_int_equal(rt_parse_duration_ms(good[i].s, &v), 0);
		assert_true(v == good[i].ms);
	}
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++)
		assert_int_equal(rt_parse_duration_ms(bad[i], &v), EINVAL);
	/* Overflow is reported, not wrapped into a small number. */
	assert_int_equal(rt_parse_duration_ms("213503982334602d", &v), ERANGE);
	assert_int_equal(rt_parse_duration_ms("99999999999999999999s", &v),
			 ERANGE);
	assert_int_equal(rt_parse_duration_ms(NULL, &v), EINVAL);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} good[] = {
		{"512", 512},	     {"64k", 65536},	    {"64KiB", 65536},
		{"1M", 1048576},     {"1MiB", 1048576},	    {"1mb", 1048576},
		{"2G", 2147483648u}, {"2GiB", 2147483648u}, {"0", 0},
		{"10b", 10},
	};
	static const char *const bad[] = {"",	"k",	 "1T", "1.5M",
					  "-1", "1MiBs", "M1"};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(good); i++) {
		assert_int_equal(rt_parse_size(good[i].s, &v), 0);
		assert_true(v == good[i].bytes);
	}
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++)
		assert_int_equal(rt_parse_size(bad[i], &v), EINVAL);
	assert_int_equal(rt_parse_size("17179869184G", &v), ERANGE);
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = {"1",	"true", "yes",
					  "on", "TRUE", "On"};
	static const char *const no[] = {"0",	"false", "no",
					 "off", "NO",	 "False"};
	static const char *const bad[] = {"", "2", "y", "n", "maybe", "true "};
	bool b;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(rt_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < RT_ARRAY_SIZE(no); i++) {
		b = true;
		assert_int_equal(rt_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++)
		assert_int_equal(rt_parse_bool(bad[i], &b), EINVAL);
	assert_int_equal(rt_parse_bool(NULL, &b), EINVAL);
}

static void test_strings(void **state)
{
	char small[4];
	char *s;

	(void)state;
	assert_int_equal(rt_strlcpy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
	assert_int_equal(rt_strlcpy(small, "ab", sizeof(small)), 2);
	assert_string_equal(small, "ab");
	assert_true(rt_streq("a", "a"));
	assert_false(rt_streq("a", "A"));
	assert_false(rt_streq(NULL, "a"));
	assert_false(rt_streq(NULL, NULL));
	assert_true(rt_strcaseeq("Hello", "hELLO"));
	assert_false(rt_strcaseeq("Hello", NULL));
	assert_null(rt_strdup(NULL));
	s = rt_asprintf("%s-%d", "x", 5);
	assert_string_equal(s, "x-5");
	free(s);
}

/* ---- time --------------------------------------------------------------- */

static void test_time_fmt(void **state)
{
	char buf[RT_TIME_LEN];

	(void)state;
	assert_string_equal(rt_time_fmt(0, buf), "1970-01-01T00:00:00.000Z");
	assert_string_equal(rt_time_fmt(1795546800123, buf),
			    "2026-11-24T19:00:00.123Z");
	assert_string_equal(rt_time_fmt(1709251199999, buf),
			    "2024-02-29T23:59:59.999Z");
	/* Before the epoch the milliseconds still count forward. */
	assert_string_equal(rt_time_fmt(-1, buf), "1969-12-31T23:59:59.999Z");
}

static void test_time_round_trip(void **state)
{
	static const int64_t ms[] = {0,
				     1,
				     999,
				     1000,
				     1709251199999,
				     1772323200000,
				     1795546800123,
				     253402300799999};
	char buf[RT_TIME_LEN];
	int64_t back;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(ms); i++) {
		back = -1;
		assert_int_equal(rt_time_parse(rt_time_fmt(ms[i], buf), &back),
				 0);
		assert_true(back == ms[i]);
	}
}

static void test_time_parse_forms(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {
		{"2026-11-24T19:00:00Z", 1795546800000},
		{"2026-11-24t19:00:00z", 1795546800000},
		{"2026-11-24 19:00:00Z", 1795546800000},
		{"2026-11-24T19:00:00.5Z", 1795546800500},
		{"2026-11-24T19:00:00.123456Z", 1795546800123},
		/* Offsets: local time minus the offset is UTC. */
		{"2026-11-24T20:00:00+01:00", 1795546800000},
		{"2026-11-24T14:00:00-05:00", 1795546800000},
		{"2026-11-25T00:30:00+05:30", 1795546800000},
		{"2026-11-24T19:00:00+00:00", 1795546800000},
		{"2024-02-29T23:59:59.999Z", 1709251199999},
		{"2026-03-01T00:00:00Z", 1772323200000},
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(good); i++) {
		v = -1;
		assert_int_equal(rt_time_parse(good[i].s, &v), 0);
		assert_true(v == good[i].ms);
	}
}

static void test_time_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-11-24",
		"2026-11-24T19:00:00",	/* no zone */
		"2026-11-24T19:00Z",	/* no seconds */
		"2026-02-30T00:00:00Z", /* no such day */
		"2026-02-29T00:00:00Z", /* not a leap year */
		"2100-02-29T00:00:00Z", /* not a leap year either */
		"2026-04-31T00:00:00Z",
		"2026-13-01T00:00:00Z",
		"2026-00-10T00:00:00Z",
		"2026-11-00T00:00:00Z",
		"2026-11-24T24:00:00Z",
		"2026-11-24T19:60:00Z",
		"2026-11-24T19:00:61Z",
		"2026-11-24T19:00:00+24:00", /* bad offsets */
		"2026-11-24T19:00:00+05:60",
		"2026-11-24T19:00:00+0530",
		"2026-11-24T19:00:00+5:30",
		"2026-11-24T19:00:00+05",
		"2026-11-24T19:00:00.Z", /* empty fraction */
		"2026-11-24T19:00:00Zjunk",
		"2026-11-24T19:00:00Z ",
		"26-11-24T19:00:00Z",
		"2026/11/24T19:00:00Z",
		"2026-11-24X19:00:00Z",
		"1969-12-31T23:59:59Z", /* before the epoch */
		"tomorrow",
	};
	int64_t v = 42;

	(void)state;
	for (size_t i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		if (rt_time_parse(bad[i], &v) != EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(v == 42);
	}
	assert_int_equal(rt_time_parse(NULL, &v), EINVAL);
}

static void test_clocks_move_forward(void **state)
{
	uint64_t m0 = rt_mono_us();
	int64_t w = rt_now_ms();

	(void)state;
	/* Somewhere after 2024 and before 2100. */
	assert_true(w > 1704067200000 && w < 4102444800000);
	usleep(2000);
	assert_true(rt_mono_us() >= m0 + 1000);
}

/* ---- buffers and histograms --------------------------------------------- */

static void test_buf_grows_and_detaches(void **state)
{
	struct rt_buf b;
	char *s, expect[64];
	size_t len;

	(void)state;
	rt_buf_init(&b);
	/* Well past the first allocation and several doublings. */
	for (int i = 0; i < 2000; i++)
		rt_buf_printf(&b, "%04d,", i);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 2000 * 5);
	assert_int_equal(strlen(b.s), b.len);
	assert_true(b.cap > b.len);
	assert_true(strncmp(b.s, "0000,0001,", 10) == 0);
	assert_string_equal(b.s + b.len - 5, "1999,");
	for (int i = 0; i < 2000; i += 397) {
		snprintf(expect, sizeof(expect), "%04d,", i);
		assert_memory_equal(b.s + i * 5, expect, 5);
	}

	s = rt_buf_detach(&b, &len);
	assert_int_equal(len, 10000);
	assert_int_equal(strlen(s), 10000);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	free(s);

	/* A buffer that got nothing still detaches as an empty string. */
	s = rt_buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	rt_buf_release(&b);
}

static void test_buf_binary_and_large(void **state)
{
	struct rt_buf b;
	char big[5000];

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rt_buf_init(&b);
	rt_buf_puts(&b, "a");
	rt_buf_append(&b, "b\0c", 3); /* bytes, NUL included */
	rt_buf_append(&b, "ignored", 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.s, "ab\0c", 5);
	rt_buf_printf(&b, "%s!", big); /* one append larger than the buffer */
	assert_int_equal(b.len, 4 + 4999 + 1);
	assert_int_equal(b.s[b.len], '\0');
	assert_int_equal(b.s[b.len - 1], '!');
	assert_int_equal(b.s[4], 'z');
	rt_buf_release(&b);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
}

static void test_hist_prometheus(void **state)
{
	static struct rt_hist h; /* zeroed */
	struct rt_buf b;

	(void)state;
	rt_hist_observe(&h, 50);       /* <= 100us */
	rt_hist_observe(&h, 100);      /* the bound itself is inside */
	rt_hist_observe(&h, 300);      /* <= 500us */
	rt_hist_observe(&h, 20000000); /* beyond 10 s */
	rt_buf_init(&b);
	rt_hist_write(&h, &b, "rt_x", "route=\"/v1/me\"");
	assert_int_equal(b.err, 0);
	assert_non_null(
		strstr(b.s, "rt_x_bucket{route=\"/v1/me\",le=\"0.0001\"} 2\n"));
	assert_non_null(
		strstr(b.s,
		       "rt_x_bucket{route=\"/v1/me\",le=\"0.00025\"} 2\n"));
	assert_non_null(
		strstr(b.s, "rt_x_bucket{route=\"/v1/me\",le=\"0.0005\"} 3\n"));
	assert_non_null(
		strstr(b.s, "rt_x_bucket{route=\"/v1/me\",le=\"10\"} 3\n"));
	assert_non_null(
		strstr(b.s, "rt_x_bucket{route=\"/v1/me\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(b.s, "rt_x_count{route=\"/v1/me\"} 4\n"));
	assert_non_null(strstr(b.s, "rt_x_sum{route=\"/v1/me\"} 20.000450\n"));
	rt_buf_release(&b);

	/* Without labels the braces hold only le. */
	rt_buf_init(&b);
	rt_hist_write(&h, &b, "rt_y", NULL);
	assert_non_null(strstr(b.s, "rt_y_bucket{le=\"+Inf\"} 4\n"));
	rt_buf_release(&b);
}

/* ---- configuration ------------------------------------------------------ */

static int conf_setup(void **state)
{
	struct rt_conf *c = calloc(1, sizeof(*c));

	if (!c || rt_conf_init(c))
		return -1;
	*state = c;
	return 0;
}

static int conf_teardown(void **state)
{
	rt_conf_release(*state);
	free(*state);
	return 0;
}

static int parse(struct rt_conf *c, const char *text, char *err, size_t errsz)
{
	err[0] = '\0';
	return rt_conf_parse(c, text, strlen(text), "test.conf", err, errsz);
}

static void test_conf_defaults(void **state)
{
	struct rt_conf *c = *state;

	assert_string_equal(c->db, "./data/ringtrail.db");
	assert_string_equal(c->listen, "localhost:8080");
	assert_string_equal(c->secret_file, "");
	assert_int_equal(c->log_level, RT_LOG_INFO);
	assert_int_equal(c->http_threads, 0); /* one per core */
	assert_true(c->http_max_body == 1048576);
	assert_true(c->http_timeout == 30000);
	assert_true(c->shutdown_timeout == 10000);
	assert_true(c->session_ttl == 12 * 3600000ull);
	assert_int_equal(c->login_max_failures, 10);
	assert_true(c->login_window == 15 * 60000ull);
	assert_int_equal(c->store_pool_size, 8);
	assert_true(c->store_busy_timeout == 5000);
	assert_false(c->cookie_secure);
	assert_true(c->demo);
}

static void test_conf_parse_syntax(void **state)
{
	struct rt_conf *c = *state;
	char err[256];
	const char *text = "# a comment\n"
			   "\n"
			   "   # an indented comment\n"
			   "db = /srv/rt.db\n"
			   "listen=\"127.0.0.1:9000\"\n"
			   "\tweb_root\t=\t\"/srv/web with # and spaces\"\n"
			   "http_threads = 16 # trailing comment\n"
			   "http_max_body = 2MiB\r\n" /* CRLF files work too */
			   "session_ttl = \"1h\"\n"
			   "log_level = debug\n"
			   "cookie_secure = yes\n"
			   "demo = off\n"
			   "secret_file = \"\"\n"
			   "store_busy_timeout = 250ms"; /* no final newline */

	assert_int_equal(parse(c, text, err, sizeof(err)), 0);
	assert_string_equal(c->db, "/srv/rt.db");
	assert_string_equal(c->listen, "127.0.0.1:9000");
	assert_string_equal(c->web_root, "/srv/web with # and spaces");
	assert_int_equal(c->http_threads, 16);
	assert_true(c->http_max_body == 2 * 1048576);
	assert_true(c->session_ttl == 3600000);
	assert_int_equal(c->log_level, RT_LOG_DEBUG);
	assert_true(c->cookie_secure);
	assert_false(c->demo);
	assert_string_equal(c->secret_file, "");
	assert_true(c->store_busy_timeout == 250);
}

static void test_conf_parse_documented_example_line(void **state)
{
	struct rt_conf *c = *state;
	char err[256];

	/* The file syntax as docs/configuration.md shows it: a quoted value
	 * may hold " #" and be followed by a comment. */
	assert_int_equal(
		parse(c,
		      "# comment\n"
		      "listen = \"a value with # and spaces\"   # a comment\n"
		      "db = \"/x.db\"\t#tab before\n",
		      err, sizeof(err)),
		0);
	assert_string_equal(c->listen, "a value with # and spaces");
	assert_string_equal(c->db, "/x.db");
	/* Text other than a comment after the closing quote is an error. */
	assert_int_equal(parse(c, "db = \"/a\" /b\n", err, sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "test.conf:1"));
	assert_non_null(strstr(err, "'db'"));
}

static void test_conf_example_file_parses(void **state)
{
	struct rt_conf *c = *state;
	char err[256] = "";
	int e;

	/* docs/ringtrail.conf.example is what users copy. */
	e = rt_conf_load_file(c, RT_SOURCE_DIR "/docs/ringtrail.conf.example",
			      err, sizeof(err));
	if (e == ENOENT)
		skip();
	if (e)
		fail_msg("the example config does not parse: %s", err);
}

static void test_conf_errors_name_key_and_line(void **state)
{
	static const struct {
		const char *text;
		const char *want[3];
	} cases[] = {
		{"# ok\n\nlsten = x\n",
		 {"test.conf:3", "unknown config key", "'lsten'"}},
		{"db = x\nhttp_threads = lots\n",
		 {"test.conf:2", "'http_threads'", "'lots'"}},
		{"store_pool_size = 0\n",
		 {"test.conf:1", "'store_pool_size'", "out of range"}},
		{"http_threads = 257\n",
		 {"test.conf:1", "'http_threads'", "range"}},
		{"http_max_body = 10\n", {":1", "'http_max_body'", "range"}},
		{"http_max_body = 1 MiB and more\n",
		 {":1", "'http_max_body'", "size"}},
		{"session_ttl = 5s\n", {":1", "'session_ttl'", "range"}},
		{"login_window = soon\n", {":1", "'login_window'", "duration"}},
		{"cookie_secure = maybe\n",
		 {":1", "'cookie_secure'", "true or false"}},
		{"log_level = loud\n", {":1", "'log_level'", "debug"}},
		{"db = \"\"\n", {":1", "'db'", "empty"}},
		{"\n\n\n\ndb\n", {"test.conf:5", "key = value", NULL}},
		{"listen = \"unterminated\n", {":1", "'listen'", "quote"}},
		{"listen = \"\n", {":1", "'listen'", "quote"}},
	};
	char err[256];

	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		struct rt_conf c;

		assert_int_equal(rt_conf_init(&c), 0);
		if (parse(&c, cases[i].text, err, sizeof(err)) != EINVAL)
			fail_msg("accepted: %s", cases[i].text);
		for (size_t j = 0; j < 3 && cases[i].want[j]; j++) {
			if (!strstr(err, cases[i].want[j]))
				fail_msg("error for '%s' is '%s', lacks '%s'",
					 cases[i].text, err, cases[i].want[j]);
		}
		rt_conf_release(&c);
	}
	(void)state;
}

static void test_conf_parse_stops_at_first_error(void **state)
{
	struct rt_conf *c = *state;
	char err[256];
	const char nul[] = "db = /a\0b\n";

	assert_int_equal(parse(c,
			       "http_threads = 2\nnope = 1\nhttp_threads = 3\n",
			       err, sizeof(err)),
			 EINVAL);
	assert_int_equal(c->http_threads, 2);
	assert_non_null(strstr(err, "test.conf:2"));

	/* A NUL byte in a file is refused, not silently cut. */
	assert_int_equal(rt_conf_parse(c, nul, sizeof(nul) - 1, "n.conf", err,
				       sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "n.conf"));
	assert_string_equal(c->db, "./data/ringtrail.db");
}

static void test_conf_set_overrides_and_names_origin(void **state)
{
	struct rt_conf *c = *state;
	char err[256];

	/* Each later source overrides: the caller applies file, env, flags. */
	assert_int_equal(rt_conf_set(c, "db", "/file.db", "f.conf:1", err,
				     sizeof(err)),
			 0);
	assert_int_equal(rt_conf_set(c, "DB", "/env.db", "RINGTRAIL_DB", err,
				     sizeof(err)),
			 0);
	assert_string_equal(c->db, "/env.db");
	assert_int_equal(rt_conf_set(c, "http-threads", "12", "--http-threads",
				     err, sizeof(err)),
			 0);
	assert_int_equal(c->http_threads, 12);

	/* A bad value leaves the previous one in place. */
	assert_int_equal(rt_conf_set(c, "http_threads", "-3", "--http-threads",
				     err, sizeof(err)),
			 EINVAL);
	assert_int_equal(c->http_threads, 12);
	assert_non_null(strstr(err, "--http-threads"));
	assert_non_null(strstr(err, "'http_threads'"));
	assert_non_null(strstr(err, "'-3'"));

	assert_int_equal(rt_conf_set(c, "colour", "blue", "--colour", err,
				     sizeof(err)),
			 EINVAL);
	assert_string_equal(err, "--colour: unknown config key 'colour'");

	/* A value is quoted in the message but not without bound. */
	{
		char longv[400];

		memset(longv, '9', sizeof(longv) - 1);
		longv[sizeof(longv) - 1] = '\0';
		assert_int_equal(rt_conf_set(c, "store_pool_size", longv, "x",
					     err, sizeof(err)),
				 EINVAL);
		assert_non_null(strstr(err, "'store_pool_size'"));
	}

	assert_true(rt_conf_is_key("http-threads"));
	assert_true(rt_conf_is_key("HTTP_THREADS"));
	assert_true(rt_conf_is_key("db"));
	assert_false(rt_conf_is_key("config"));
	assert_false(rt_conf_is_key(""));
	assert_false(rt_conf_is_key("dbx"));
}

static void test_conf_env(void **state)
{
	struct rt_conf *c = *state;
	char v1[] = "PATH=/usr/bin";
	char v2[] = "RINGTRAIL_DB=/env/rt.db";
	char v3[] = "RINGTRAIL_HTTP_THREADS=8";
	char v4[] = "RINGTRAIL_CONFIG=/ignored/here.conf";
	char v5[] = "RINGTRAIL_LOG_LEVEL=warn";
	char v6[] = "RINGTRAILX=1";
	char v7[] = "RINGTRAIL_COOKIE_SECURE=true";
	char *const envp[] = {v1, v2, v3, v4, v5, v6, v7, NULL};
	char err[256] = "";

	assert_int_equal(rt_conf_load_env(c, envp, err, sizeof(err)), 0);
	assert_string_equal(c->db, "/env/rt.db");
	assert_int_equal(c->http_threads, 8);
	assert_int_equal(c->log_level, RT_LOG_WARN);
	assert_true(c->cookie_secure);
	assert_int_equal(rt_conf_load_env(c, NULL, err, sizeof(err)), 0);
}

static void test_conf_env_unknown_and_bad(void **state)
{
	struct rt_conf *c = *state;
	char unknown[] = "RINGTRAIL_LSTEN=:80";
	char bad[] = "RINGTRAIL_HTTP_THREADS=abc";
	char longname[128];
	char *const env1[] = {unknown, NULL};
	char *const env2[] = {bad, NULL};
	char *const env3[] = {longname, NULL};
	char err[256];

	assert_int_equal(rt_conf_load_env(c, env1, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "RINGTRAIL_LSTEN"));
	assert_non_null(strstr(err, "unknown"));

	/* The message documented in docs/configuration.md. */
	assert_int_equal(rt_conf_load_env(c, env2, err, sizeof(err)), EINVAL);
	assert_string_equal(
		err, "RINGTRAIL_HTTP_THREADS: bad value 'abc' for config "
		     "key 'http_threads' (want a whole number)");
	assert_int_equal(c->http_threads, 0); /* one per core */

	memset(longname, 'A', sizeof(longname));
	memcpy(longname, "RINGTRAIL_", 10);
	memcpy(longname + sizeof(longname) - 3, "=1", 3);
	assert_int_equal(rt_conf_load_env(c, env3, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "RINGTRAIL_AAAA"));
}

static void test_conf_file_and_print_round_trip(void **state)
{
	struct rt_conf *c = *state, again;
	char dir[] = "/tmp/rt-unit-conf-XXXXXX";
	char path[128], err[256] = "";
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rt.conf", dir);

	/* Missing file: the message names it. */
	assert_int_equal(rt_conf_load_file(c, path, err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, path));

	/* `ringtrail config` output is itself a valid config file that
	 * reproduces the configuration. */
	assert_int_equal(rt_conf_set(c, "db", "/srv/a b/rt.db", "t", err,
				     sizeof(err)),
			 0);
	assert_int_equal(rt_conf_set(c, "session_ttl", "3h", "t", err,
				     sizeof(err)),
			 0);
	assert_int_equal(rt_conf_set(c, "http_max_body", "64k", "t", err,
				     sizeof(err)),
			 0);
	assert_int_equal(rt_conf_set(c, "log_level", "error", "t", err,
				     sizeof(err)),
			 0);
	assert_int_equal(rt_conf_set(c, "demo", "no", "t", err, sizeof(err)),
			 0);
	f = fopen(path, "w");
	assert_non_null(f);
	rt_conf_print(c, f);
	fclose(f);

	assert_int_equal(rt_conf_init(&again), 0);
	if (rt_conf_load_file(&again, path, err, sizeof(err)))
		fail_msg("printed config does not load: %s", err);
	assert_string_equal(again.db, "/srv/a b/rt.db");
	assert_string_equal(again.listen, c->listen);
	assert_string_equal(again.web_root, c->web_root);
	assert_string_equal(again.secret_file, "");
	assert_true(again.session_ttl == 3 * 3600000ull);
	assert_true(again.http_max_body == 65536);
	assert_int_equal(again.log_level, RT_LOG_ERROR);
	assert_false(again.demo);
	assert_int_equal(again.http_threads, c->http_threads);
	assert_true(again.login_window == c->login_window);
	rt_conf_release(&again);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_q_plain_and_escapes),
		cmocka_unit_test(test_log_q_truncates_but_stays_quoted),
		cmocka_unit_test(test_log_write_one_logfmt_line),
		cmocka_unit_test(test_log_level_filters),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_time_fmt),
		cmocka_unit_test(test_time_round_trip),
		cmocka_unit_test(test_time_parse_forms),
		cmocka_unit_test(test_time_parse_rejects),
		cmocka_unit_test(test_clocks_move_forward),
		cmocka_unit_test(test_buf_grows_and_detaches),
		cmocka_unit_test(test_buf_binary_and_large),
		cmocka_unit_test(test_hist_prometheus),
		cmocka_unit_test_setup_teardown(test_conf_defaults, conf_setup,
						conf_teardown),
		cmocka_unit_test_setup_teardown(test_conf_parse_syntax,
						conf_setup, conf_teardown),
		cmocka_unit_test_setup_teardown(
			test_conf_parse_documented_example_line, conf_setup,
			conf_teardown),
		cmocka_unit_test_setup_teardown(test_conf_example_file_parses,
						conf_setup, conf_teardown),
		cmocka_unit_test(test_conf_errors_name_key_and_line),
		cmocka_unit_test_setup_teardown(
			test_conf_parse_stops_at_first_error, conf_setup,
			conf_teardown),
		cmocka_unit_test_setup_teardown(
			test_conf_set_overrides_and_names_origin, conf_setup,
			conf_teardown),
		cmocka_unit_test_setup_teardown(test_conf_env, conf_setup,
						conf_teardown),
		cmocka_unit_test_setup_teardown(test_conf_env_unknown_and_bad,
						conf_setup, conf_teardown),
		cmocka_unit_test_setup_teardown(
			test_conf_file_and_print_round_trip, conf_setup,
			conf_teardown),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
