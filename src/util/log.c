/* logfmt logging to stderr; one line per call, written with one write(2). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static _Atomic int log_level = RT_LOG_INFO;

static _Thread_local struct {
	char key[8];
	char id[72];
} log_ctx;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int rt_log_level_parse(const char *s, enum rt_log_level *lp)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(level_names); i++) {
		if (rt_strcaseeq(s, level_names[i])) {
			*lp = (enum rt_log_level)i;
			return 0;
		}
	}
	return EINVAL;
}

const char *rt_log_level_name(enum rt_log_level l)
{
	return (unsigned)l < RT_ARRAY_SIZE(level_names) ? level_names[l] : "?";
}

void rt_log_set_level(enum rt_log_level l)
{
	atomic_store(&log_level, (int)l);
}

bool rt_log_enabled(enum rt_log_level l)
{
	return (int)l >= atomic_load(&log_level);
}

void rt_log_ctx_set(const char *key, const char *id)
{
	rt_strlcpy(log_ctx.key, key, sizeof(log_ctx.key));
	rt_strlcpy(log_ctx.id, id, sizeof(log_ctx.id));
}

void rt_log_ctx_clear(void)
{
	log_ctx.key[0] = '\0';
	log_ctx.id[0] = '\0';
}

const char *rt_log_q(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[n++] = '"';
	for (; s && *s && n + 6 < size; s++) {
		static const char hex[] = "0123456789abcdef";
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)ch;
		} else if (ch == '\n' || ch == '\t') {
			buf[n++] = '\\';
			buf[n++] = ch == '\n' ? 'n' : 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 0xf];
		} else {
			buf[n++] = (char)ch;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

/* Appends, escaping control characters so one call is one line. */
static size_t append_clean(char *line, size_t n, size_t cap, const char *s)
{
	for (; *s && n + 2 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\n' || ch == '\r') {
			line[n++] = '\\';
			line[n++] = 'n';
		} else if (ch < 0x20 || ch == 0x7f) {
			line[n++] = '?';
		} else {
			line[n++] = (char)ch;
		}
	}
	return n;
}

void rt_log_write(enum rt_log_level l, const char *module, const char *msg,
		  const char *kvfmt, ...)
{
	char line[2048], kv[1536], tbuf[RT_TIME_LEN], qmsg[256];
	size_t n;
	va_list ap;
	int len;

	if (!rt_log_enabled(l))
		return;

	kv[0] = '\0';
	if (kvfmt && *kvfmt) {
		va_start(ap, kvfmt);
		vsnprintf(kv, sizeof(kv), kvfmt, ap);
		va_end(ap);
	}

	len = snprintf(line, sizeof(line), "time=%s level=%s module=%s",
		       rt_time_fmt(rt_now_ms(), tbuf), rt_log_level_name(l),
		       module);
	n = len < 0 ? 0 : (size_t)len;
	if (log_ctx.key[0] && n < sizeof(line)) {
		len = snprintf(line + n, sizeof(line) - n, " %s=%s",
			       log_ctx.key, log_ctx.id);
		n += len < 0 ? 0 : (size_t)len;
	}
	if (n < sizeof(line)) {
		len = snprintf(line + n, sizeof(line) - n, " msg=%s",
			       rt_log_q(qmsg, sizeof(qmsg), msg));
		n += len < 0 ? 0 : (size_t)len;
	}
	if (n >= sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (kv[0]) {
		line[n++] = ' ';
		n = append_clean(line, n, sizeof(line), kv);
	}
	line[n++] = '\n';
	/* One write per line: lines of concurrent threads do not interleave. */
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
}

_Noreturn void rt_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
