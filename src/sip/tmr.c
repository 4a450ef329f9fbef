/*
 * libre's timers on a binary heap.
 *
 * libre 1.1.0 keeps each thread's timers in one sorted linked list and
 * finds a new timer's place by walking it: O(n) per tmr_start.  A SIP call
 * has a dozen timers (transactions, retransmissions, our own), so at 250
 * calls/s the list held tens of thousands of them and the walk took 89% of
 * the SIP thread (docs/internals/sip.md, "Benchmark").
 *
 * libre calls its timer functions through its PLT and `struct tmr` is
 * public, so the definitions here, exported from the executable
 * (--export-dynamic-symbol=tmr_* in CMakeLists.txt), replace libre's for
 * libre itself as well as for us: the same API, O(log n).
 *
 * The heap of a thread's loop hangs off the loop's own timer list (the
 * `struct list` libre passes to tmr_poll and hands out from tmrl_get):
 * nothing in libre reads that list but these functions.  A running timer
 * keeps its heap in le.list and its place in le.data.  Timers due at the
 * same millisecond run in the order they were started, as in libre.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/libre.h"

/* libre's own, exported: the timer list of the calling thread's loop. */
extern struct list *tmrl_get(void);

struct theap {
	struct tmr **v;
	uint64_t *seq; /* start order, beside v: ties at one millisecond */
	uint32_t n, cap;
	uint64_t next_seq;
	struct theap *next; /* all heaps, so none looks leaked at exit */
};

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct theap *heaps;

static struct theap *heap_of(struct list *l, bool create)
{
	struct theap *h = (struct theap *)(void *)l->head;

	if (h || !create)
		return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		abort(); /* libre's tmr_start cannot fail either */
	pthread_mutex_lock(&heaps_lock);
	h->next = heaps;
	heaps = h;
	pthread_mutex_unlock(&heaps_lock);
	l->head = (struct le *)(void *)h;
	return h;
}

static inline uint32_t pos_of(const struct tmr *t)
{
	return (uint32_t)(uintptr_t)t->le.data;
}

static inline bool before(const struct theap *h, uint32_t a, uint32_t b)
{
	uint64_t ja = h->v[a]->jfs, jb = h->v[b]->jfs;

	return ja < jb || (ja == jb && h->seq[a] < h->seq[b]);
}

static inline void place(struct theap *h, uint32_t i, struct tmr *t,
			 uint64_t seq)
{
	h->v[i] = t;
	h->seq[i] = seq;
	t->le.data = (void *)(uintptr_t)i;
}

static void swap(struct theap *h, uint32_t a, uint32_t b)
{
	struct tmr *ta = h->v[a], *tb = h->v[b];
	uint64_t sa = h->seq[a], sb = h->seq[b];

	place(h, a, tb, sb);
	place(h, b, ta, sa);
}

static void sift_up(struct theap *h, uint32_t i)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!before(h, i, p))
			break;
		swap(h, i, p);
		i = p;
	}
}

static void sift_down(struct theap *h, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && before(h, l, m))
			m = l;
		if (r < h->n && before(h, r, m))
			m = r;
		if (m == i)
			break;
		swap(h, i, m);
		i = m;
	}
}

static void heap_push(struct theap *h, struct tmr *t)
{
	if (h->n == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 256;
		struct tmr **v = realloc(h->v, cap * sizeof(*v));
		uint64_t *seq = v ? realloc(h->seq, cap * sizeof(*seq)) : NULL;

		if (!v || !seq)
			abort();
		h->v = v;
		h->seq = seq;
		h->cap = cap;
	}
	place(h, h->n, t, h->next_seq++);
	h->n++;
	sift_up(h, h->n - 1);
}

static void heap_remove(struct theap *h, struct tmr *t)
{
	uint32_t i = pos_of(t);

	h->n--;
	if (i != h->n) {
		place(h, i, h->v[h->n], h->seq[h->n]);
		sift_down(h, i);
		sift_up(h, i);
	}
	t->le.list = NULL;
	t->le.data = NULL;
}

/* A running timer is in a heap; one that is not has le.list NULL (as
 * after tmr_init, or libre's memset of a fresh object) or th NULL. */
static void unlink_tmr(struct tmr *t)
{
	if (t->th && t->le.list)
		heap_remove((struct theap *)(void *)t->le.list, t);
}

void tmr_init(struct tmr *tmr)
{
	if (tmr)
		memset(tmr, 0, sizeof(*tmr));
}

void tmr_start(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg)
{
	struct theap *h;

	if (!tmr)
		return;
	unlink_tmr(tmr);
	tmr->th = th;
	tmr->arg = arg;
	if (!th)
		return;
	tmr->jfs = delay + tmr_jiffies();
	h = heap_of(tmrl_get(), true);
	tmr->le.list = (struct list *)(void *)h;
	heap_push(h, tmr);
}

void tmr_cancel(struct tmr *tmr)
{
	tmr_start(tmr, 0, NULL, NULL);
}

void tmr_poll(struct list *tmrl)
{
	struct theap *h = heap_of(tmrl, false);
	const uint64_t now = tmr_jiffies();

	while (h && h->n > 0 && h->v[0]->jfs <= now) {
		struct tmr *t = h->v[0];
		tmr_h *th = t->th;
		void *arg = t->arg;

		heap_remove(h, t);
		t->th = NULL;
		if (th)
			th(arg); /* may start or cancel any timer, t too */
	}
}

uint64_t tmr_next_timeout(struct list *tmrl)
{
	struct theap *h = heap_of(tmrl, false);
	uint64_t now;

	if (!h || h->n == 0)
		return 0;
	now = tmr_jiffies();
	return h->v[0]->jfs <= now ? 1 : h->v[0]->jfs - now;
}

uint64_t tmr_get_expire(const struct tmr *tmr)
{
	uint64_t now;

	if (!tmr || !tmr->th)
		return 0;
	now = tmr_jiffies();
	return tmr->jfs > now ? tmr->jfs - now : 0;
}

int tmr_status(struct re_printf *pf, void *unused)
{
	struct theap *h = heap_of(tmrl_get(), false);

	(void)unused;
	if (!h || h->n == 0)
		return 0;
	return re_hprintf(pf, "Timers (%u), next in %llu ms\n", h->n,
			  (unsigned long long)tmr_get_expire(h->v[0]));
}

void tmr_debug(void)
{
	struct theap *h = heap_of(tmrl_get(), false);

	if (h && h->n > 0)
		(void)re_fprintf(stderr, "%H", tmr_status, NULL);
}
