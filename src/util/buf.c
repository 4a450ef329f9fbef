/* Growable text buffer and latency histograms. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

void rt_buf_init(struct rt_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void rt_buf_release(struct rt_buf *b)
{
	free(b->s);
	rt_buf_init(b);
}

static bool grow(struct rt_buf *b, size_t extra)
{
	size_t need, cap;
	char *s;

	if (b->err)
		return false;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->err = ENOMEM;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->err = ENOMEM;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void rt_buf_append(struct rt_buf *b, const char *s, size_t len)
{
	if (!grow(b, len))
		return;
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void rt_buf_puts(struct rt_buf *b, const char *s)
{
	rt_buf_append(b, s, strlen(s));
}

void rt_buf_printf(struct rt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *rt_buf_detach(struct rt_buf *b, size_t *lenp)
{
	char *s = b->s;

	if (lenp)
		*lenp = b->len;
	if (!s)
		s = calloc(1, 1);
	rt_buf_init(b);
	return s;
}

/* Upper bounds in microseconds: 100us .. 10s, roughly x2.5 apart. */
static const uint64_t hist_le_us[RT_HIST_BUCKETS] = {
	100,   250,   500,    1000,   2500,    5000,
	10000, 25000, 100000, 500000, 2500000, 10000000,
};

void rt_hist_observe(struct rt_hist *h, uint64_t us)
{
	size_t i = 0;

	while (i < RT_HIST_BUCKETS && us > hist_le_us[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void rt_hist_write(const struct rt_hist *h, struct rt_buf *b, const char *name,
		   const char *labels)
{
	const char *sep = labels && *labels ? "," : "";
	uint64_t cum = 0;

	labels = labels ? labels : "";
	for (size_t i = 0; i <= RT_HIST_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->bucket[i],
					    memory_order_relaxed);
		if (i < RT_HIST_BUCKETS)
			rt_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n",
				      name, labels, sep,
				      (double)hist_le_us[i] / 1e6,
				      (unsigned long long)cum);
		else
			rt_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n",
				      name, labels, sep,
				      (unsigned long long)cum);
	}
	rt_buf_printf(b, "%s_sum{%s} %.6f\n", name, labels,
		      (double)atomic_load(&h->sum_us) / 1e6);
	rt_buf_printf(b, "%s_count{%s} %llu\n", name, labels,
		      (unsigned long long)atomic_load(&h->count));
}
