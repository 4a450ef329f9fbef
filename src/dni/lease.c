/*
 * The lease engine: which visitor session holds which tracking number, in
 * memory, under one mutex.  Numbers live in an array and are found by id
 * through a small open-addressed index; sessions likewise.  Each number
 * keeps its live holders and a short history of ended leases, which is
 * what "who held number N at time T" reads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dni/dni.h"
#include "util/util.h"

#define HOLDERS_MAX    RT_LEASE_HOLDERS_MAX
#define HISTORY	       16 /* ended leases remembered per number */
#define TOUCH_EVENT_MS 60000

struct past {
	int64_t session_id, started_at, ended_at;
};

struct number {
	int64_t id;
	int64_t pool_id;     /* 0 when it left every pool */
	int64_t released_at; /* last time a lease on it ended; 0 never */
	size_t nholders;
	size_t holders[HOLDERS_MAX]; /* session slots */
	struct past history[HISTORY];
	size_t hist_next, hist_n;
};

struct session {
	int64_t id; /* 0: free slot; -1: deleted */
	size_t number;
	int64_t pool_id;
	int64_t started_at, last_seen, last_event;
	unsigned flags;
};

struct pool {
	struct rt_lease_pool_conf conf;
	size_t *numbers; /* indexes into e->numbers */
	size_t n;
	size_t live, peak;
	uint64_t leases, overflows;
};

struct rt_lease_engine {
	pthread_mutex_t lock;
	uint64_t grace_ms;
	struct pool *pools;
	size_t npools;
	struct number *numbers;
	size_t nnumbers, numbers_cap;
	size_t *num_index; /* open-addressed by number id: index + 1, 0 empty */
	size_t num_index_cap;
	struct session *sessions;   /* open-addressed by id */
	size_t sess_cap, sess_used; /* used counts deleted slots too */
	struct rt_lease_event *events;
	size_t nevents, events_cap;
};

#define DELETED (-1)

static size_t hash64(int64_t v)
{
	uint64_t x = (uint64_t)v;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x;
}

/* ---- sessions ------------------------------------------------------------ */

static struct session *sess_find(struct rt_lease_engine *e, int64_t id)
{
	size_t mask = e->sess_cap - 1;

	for (size_t i = hash64(id) & mask, n = 0; n < e->sess_cap;
	     i = (i + 1) & mask, n++) {
		if (e->sessions[i].id == 0)
			return NULL;
		if (e->sessions[i].id == id)
			return &e->sessions[i];
	}
	return NULL;
}

static int sess_grow(struct rt_lease_engine *e)
{
	size_t cap = e->sess_cap ? e->sess_cap * 2 : 1024;
	struct session *old = e->sessions, *fresh;
	size_t oldcap = e->sess_cap;

	/* Rehashing drops deleted slots; keep the table at most half full. */
	fresh = calloc(cap, sizeof(*fresh));
	if (!fresh)
		return ENOMEM;
	e->sessions = fresh;
	e->sess_cap = cap;
	e->sess_used = 0;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].id > 0) {
			size_t j = hash64(old[i].id) & (cap - 1);

			while (fresh[j].id != 0)
				j = (j + 1) & (cap - 1);
			fresh[j] = old[i];
			e->sess_used++;
		}
	}
	free(old);
	/* Numbers name their holders by slot, and every slot moved. */
	for (size_t i = 0; i < e->nnumbers; i++)
		e->numbers[i].nholders = 0;
	for (size_t i = 0; i < cap; i++) {
		if (fresh[i].id > 0) {
			struct number *n = &e->numbers[fresh[i].number];

			n->holders[n->nholders++] = i;
		}
	}
	return 0;
}

/* A new slot for id; its index stays valid until the next insert. */
static struct session *sess_insert(struct rt_lease_engine *e, int64_t id)
{
	size_t mask, i;

	if ((e->sess_used + 1) * 2 > e->sess_cap && sess_grow(e))
		return NULL;
	mask = e->sess_cap - 1;
	for (i = hash64(id) & mask; e->sessions[i].id > 0; i = (i + 1) & mask)
		;
	if (e->sessions[i].id == 0)
		e->sess_used++;
	memset(&e->sessions[i], 0, sizeof(e->sessions[i]));
	e->sessions[i].id = id;
	return &e->sessions[i];
}

/* ---- numbers and pools -----------------------------------------------------
 */

static struct number *num_find(struct rt_lease_engine *e, int64_t id,
			       size_t *idxp)
{
	size_t mask = e->num_index_cap - 1;

	if (!e->num_index_cap)
		return NULL;
	for (size_t i = hash64(id) & mask; e->num_index[i];
	     i = (i + 1) & mask) {
		size_t idx = e->num_index[i] - 1;

		if (e->numbers[idx].id == id) {
			if (idxp)
				*idxp = idx;
			return &e->numbers[idx];
		}
	}
	return NULL;
}

/* Keeps the index at most half full; numbers are never removed. */
static int num_index_add(struct rt_lease_engine *e, size_t idx)
{
	size_t mask, i;

	if ((e->nnumbers + 1) * 2 > e->num_index_cap) {
		size_t cap = e->num_index_cap ? e->num_index_cap * 2 : 256;
		size_t *fresh = calloc(cap, sizeof(*fresh));

		if (!fresh)
			return ENOMEM;
		for (size_t k = 0; k < e->nnumbers; k++) {
			for (i = hash64(e->numbers[k].id) & (cap - 1); fresh[i];
			     i = (i + 1) & (cap - 1))
				;
			fresh[i] = k + 1;
		}
		free(e->num_index);
		e->num_index = fresh;
		e->num_index_cap = cap;
	}
	mask = e->num_index_cap - 1;
	for (i = hash64(e->numbers[idx].id) & mask; e->num_index[i];
	     i = (i + 1) & mask)
		;
	e->num_index[i] = idx + 1;
	return 0;
}

static struct pool *pool_find(struct rt_lease_engine *e, int64_t id)
{
	for (size_t i = 0; i < e->npools; i++) {
		if (e->pools[i].conf.pool_id == id)
			return &e->pools[i];
	}
	return NULL;
}

static int num_add(struct rt_lease_engine *e, int64_t id, size_t *idxp)
{
	if (num_find(e, id, idxp))
		return 0;
	if (e->nnumbers == e->numbers_cap) {
		size_t cap = e->numbers_cap ? e->numbers_cap * 2 : 64;
		struct number *n = realloc(e->numbers, cap * sizeof(*n));

		if (!n)
			return ENOMEM;
		e->numbers = n;
		e->numbers_cap = cap;
	}
	memset(&e->numbers[e->nnumbers], 0, sizeof(e->numbers[0]));
	e->numbers[e->nnumbers].id = id;
	if (num_index_add(e, e->nnumbers))
		return ENOMEM;
	*idxp = e->nnumbers++;
	return 0;
}

static void emit(struct rt_lease_engine *e, enum rt_lease_event_kind kind,
		 const struct session *s, int64_t at)
{
	struct rt_lease_event *ev;

	if (e->nevents == e->events_cap) {
		size_t cap = e->events_cap ? e->events_cap * 2 : 256;
		struct rt_lease_event *n;

		/* The writer is far behind when this grows past a million:
		 * leases go on in memory, and the loss is logged. */
		if (cap > (1u << 20) ||
		    !(n = realloc(e->events, cap * sizeof(*n)))) {
			rt_log_write(RT_LOG_ERROR, "dni",
				     "lease events dropped", "queued=%zu",
				     e->nevents);
			return;
		}
		e->events = n;
		e->events_cap = cap;
	}
	ev = &e->events[e->nevents++];
	ev->kind = kind;
	ev->at = at;
	ev->lease.number_id = e->numbers[s->number].id;
	ev->lease.session_id = s->id;
	ev->lease.pool_id = s->pool_id;
	ev->lease.started_at = s->started_at;
	ev->lease.flags = s->flags;
}

static void fill(const struct rt_lease_engine *e, const struct session *s,
		 struct rt_lease *out)
{
	out->number_id = e->numbers[s->number].id;
	out->session_id = s->id;
	out->pool_id = s->pool_id;
	out->started_at = s->started_at;
	out->flags = s->flags;
}

int rt_lease_engine_alloc(struct rt_lease_engine **ep, uint64_t grace_ms)
{
	struct rt_lease_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	e->grace_ms = grace_ms;
	if (sess_grow(e)) {
		free(e);
		return ENOMEM;
	}
	*ep = e;
	return 0;
}

void rt_lease_engine_free(struct rt_lease_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->npools; i++)
		free(e->pools[i].numbers);
	free(e->pools);
	free(e->numbers);
	free(e->num_index);
	free(e->sessions);
	free(e->events);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

int rt_lease_pool_set(struct rt_lease_engine *e,
		      const struct rt_lease_pool_conf *conf,
		      const int64_t *number_ids, size_t n)
{
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	struct pool *p;
	int err = 0;

	if (!idx)
		return ENOMEM;
	pthread_mutex_lock(&e->lock);
	p = pool_find(e, conf->pool_id);
	if (!p) {
		struct pool *grown =
			realloc(e->pools, (e->npools + 1) * sizeof(*grown));

		if (!grown) {
			err = ENOMEM;
			goto out;
		}
		e->pools = grown;
		p = &e->pools[e->npools++];
		memset(p, 0, sizeof(*p));
	}
	for (size_t i = 0; i < n && !err; i++)
		err = num_add(e, number_ids[i], &idx[i]);
	if (err)
		goto out;
	/* Numbers that left the pool: no new leases from it. */
	for (size_t i = 0; i < p->n; i++) {
		if (e->numbers[p->numbers[i]].pool_id == conf->pool_id)
			e->numbers[p->numbers[i]].pool_id = 0;
	}
	for (size_t i = 0; i < n; i++)
		e->numbers[idx[i]].pool_id = conf->pool_id;
	free(p->numbers);
	p->numbers = idx;
	idx = NULL;
	p->n = n;
	p->conf = *conf;
out:
	pthread_mutex_unlock(&e->lock);
	free(idx);
	return err;
}

/* ---- leasing --------------------------------------------------------------
 */

/* The most recent activity on a number: its newest holder's, or its
 * release. */
static int64_t last_active(const struct rt_lease_engine *e,
			   const struct number *n)
{
	int64_t t = n->released_at;

	for (size_t i = 0; i < n->nholders; i++) {
		const struct session *s = &e->sessions[n->holders[i]];

		if (s->last_seen > t)
			t = s->last_seen;
	}
	return t;
}

/* Picks the number for a new lease; *flagsp gets SHARED or EARLY. */
static struct number *pick(struct rt_lease_engine *e, struct pool *p,
			   int64_t now, unsigned *flagsp)
{
	struct number *best = NULL, *busy = NULL;
	int64_t busy_t = 0;

	*flagsp = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct number *n = &e->numbers[p->numbers[i]];
		int64_t t;

		if (n->pool_id != p->conf.pool_id)
			continue;
		if (n->nholders == 0 &&
		    (n->released_at == 0 ||
		     n->released_at + (int64_t)p->conf.cooldown_ms <= now)) {
			/* Free: the one released longest ago wins. */
			if (!best || n->released_at < best->released_at)
				best = n;
			continue;
		}
		if (n->nholders >= HOLDERS_MAX)
			continue;
		t = last_active(e, n);
		if (!busy || t < busy_t) {
			busy = n;
			busy_t = t;
		}
	}
	if (best)
		return best;
	if (busy)
		*flagsp = busy->nholders ? RT_LEASE_SHARED : RT_LEASE_EARLY;
	return busy;
}

static void record_end(struct number *n, const struct session *s, int64_t now)
{
	struct past *h = &n->history[n->hist_next];

	h->session_id = s->id;
	h->started_at = s->started_at;
	h->ended_at = now;
	n->hist_next = (n->hist_next + 1) % HISTORY;
	if (n->hist_n < HISTORY)
		n->hist_n++;
}

/* Ends the lease of session slot si (the lock is held). */
static void end_lease(struct rt_lease_engine *e, size_t si, int64_t now)
{
	struct session *s = &e->sessions[si];
	struct number *n = &e->numbers[s->number];
	struct pool *p = pool_find(e, s->pool_id);

	for (size_t i = 0; i < n->nholders; i++) {
		if (n->holders[i] == si) {
			n->holders[i] = n->holders[--n->nholders];
			break;
		}
	}
	record_end(n, s, now);
	if (n->nholders == 0)
		n->released_at = now;
	if (p && p->live)
		p->live--;
	emit(e, RT_LEASE_EV_END, s, now);
	s->id = DELETED;
}

int rt_lease_acquire(struct rt_lease_engine *e, int64_t pool_id,
		     int64_t session_id, int64_t now, struct rt_lease *out)
{
	struct session *s;
	struct number *n;
	struct pool *p;
	unsigned flags;
	size_t si;
	int err = 0;

	pthread_mutex_lock(&e->lock);
	s = sess_find(e, session_id);
	if (s) {
		/* A visitor keeps the number first leased to them. */
		p = pool_find(e, s->pool_id);
		if (p && s->last_seen + (int64_t)p->conf.ttl_ms > now) {
			s->last_seen = now;
			fill(e, s, out);
			goto out;
		}
		end_lease(e, (size_t)(s - e->sessions), now);
	}
	p = pool_find(e, pool_id);
	if (!p || p->n == 0) {
		err = ENOENT;
		goto out;
	}
	n = pick(e, p, now, &flags);
	if (!n) {
		err = ENOSPC;
		goto out;
	}
	s = sess_insert(e, session_id);
	if (!s) {
		err = ENOMEM;
		goto out;
	}
	si = (size_t)(s - e->sessions);
	s->number = (size_t)(n - e->numbers);
	s->pool_id = pool_id;
	s->started_at = s->last_seen = s->last_event = now;
	s->flags = flags;
	if (flags & RT_LEASE_SHARED) {
		/* Attribution is never guessed silently: the other holders
		 * learn they share the number too. */
		for (size_t i = 0; i < n->nholders; i++) {
			struct session *o = &e->sessions[n->holders[i]];

			if (!(o->flags & RT_LEASE_SHARED)) {
				o->flags |= RT_LEASE_SHARED;
				emit(e, RT_LEASE_EV_SHARED, o, now);
			}
		}
	}
	n->holders[n->nholders++] = si;
	p->live++;
	if (p->live > p->peak)
		p->peak = p->live;
	p->leases++;
	if (flags)
		p->overflows++;
	emit(e, RT_LEASE_EV_START, s, now);
	fill(e, s, out);
	out->flags |= RT_LEASE_NEW;
out:
	pthread_mutex_unlock(&e->lock);
	return err;
}

int rt_lease_touch(struct rt_lease_engine *e, int64_t session_id, int64_t now)
{
	struct session *s;
	struct pool *p;
	int err = 0;

	pthread_mutex_lock(&e->lock);
	s = sess_find(e, session_id);
	p = s ? pool_find(e, s->pool_id) : NULL;
	if (!s || !p || s->last_seen + (int64_t)p->conf.ttl_ms <= now) {
		err = ENOENT; /* expired: the next acquire gives a new lease */
	} else {
		s->last_seen = now;
		if (now - s->last_event >= TOUCH_EVENT_MS) {
			s->last_event = now;
			emit(e, RT_LEASE_EV_TOUCH, s, now);
		}
	}
	pthread_mutex_unlock(&e->lock);
	return err;
}

int rt_lease_end(struct rt_lease_engine *e, int64_t session_id, int64_t now)
{
	struct session *s;
	int err = 0;

	pthread_mutex_lock(&e->lock);
	s = sess_find(e, session_id);
	if (s)
		end_lease(e, (size_t)(s - e->sessions), now);
	else
		err = ENOENT;
	pthread_mutex_unlock(&e->lock);
	return err;
}

size_t rt_lease_sweep(struct rt_lease_engine *e, int64_t now)
{
	size_t ended = 0;

	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->sess_cap; i++) {
		struct session *s = &e->sessions[i];
		struct pool *p;

		if (s->id <= 0)
			continue;
		p = pool_find(e, s->pool_id);
		if (!p || s->last_seen + (int64_t)p->conf.ttl_ms <= now) {
			/* It ended when it went idle, not when swept. */
			end_lease(e, i,
				  p ? s->last_seen + (int64_t)p->conf.ttl_ms
				    : now);
			ended++;
		}
	}
	/* Deleted slots slow lookups down: rehash once they pile up. */
	if (e->sess_used > e->sess_cap / 4 * 3)
		sess_grow(e);
	pthread_mutex_unlock(&e->lock);
	return ended;
}

int rt_lease_get(struct rt_lease_engine *e, int64_t session_id,
		 struct rt_lease *out)
{
	struct session *s;
	int err = 0;

	pthread_mutex_lock(&e->lock);
	s = sess_find(e, session_id);
	if (s)
		fill(e, s, out);
	else
		err = ENOENT;
	pthread_mutex_unlock(&e->lock);
	return err;
}

/* ---- attribution -----------------------------------------------------------
 */

static void who_add(struct rt_lease_who *w, int64_t session_id)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->sessions[i] == session_id)
			return;
	}
	if (w->n < RT_LEASE_WHO_MAX)
		w->sessions[w->n++] = session_id;
}

int rt_lease_who(struct rt_lease_engine *e, int64_t number_id, int64_t t,
		 struct rt_lease_who *w)
{
	int64_t best_end = 0, best_session = 0;
	struct number *n;

	memset(w, 0, sizeof(*w));
	pthread_mutex_lock(&e->lock);
	n = num_find(e, number_id, NULL);
	if (!n) {
		pthread_mutex_unlock(&e->lock);
		return ENOENT;
	}
	/* Live leases that had begun by t, newest first. */
	{
		const struct session *live[HOLDERS_MAX];
		size_t nl = 0;

		for (size_t k = 0; k < n->nholders; k++) {
			const struct session *s = &e->sessions[n->holders[k]];
			size_t j = nl++;

			if (s->started_at > t) {
				nl--;
				continue;
			}
			while (j > 0 &&
			       live[j - 1]->started_at < s->started_at) {
				live[j] = live[j - 1];
				j--;
			}
			live[j] = s;
		}
		for (size_t k = 0; k < nl; k++)
			who_add(w, live[k]->id);
	}
	/* Ended leases that covered t, or ended just before it. */
	for (size_t k = 0; k < n->hist_n; k++) {
		size_t i = (n->hist_next + HISTORY - 1 - k) % HISTORY;
		const struct past *h = &n->history[i];

		if (h->started_at <= t && t < h->ended_at)
			who_add(w, h->session_id);
		else if (h->ended_at <= t &&
			 t - h->ended_at <= (int64_t)e->grace_ms &&
			 h->ended_at > best_end) {
			best_end = h->ended_at;
			best_session = h->session_id;
		}
	}
	pthread_mutex_unlock(&e->lock);
	if (w->n == 1) {
		w->confidence = RT_WHO_EXACT;
	} else if (w->n > 1) {
		w->confidence = RT_WHO_SHARED;
	} else if (best_session) {
		w->confidence = RT_WHO_GRACE;
		w->sessions[w->n++] = best_session;
	}
	return 0;
}

const char *rt_lease_confidence_name(enum rt_lease_confidence c)
{
	static const char *const names[] = {"none", "exact", "grace", "shared"};

	return (unsigned)c < RT_ARRAY_SIZE(names) ? names[c] : "none";
}

int rt_lease_health(struct rt_lease_engine *e, int64_t pool_id,
		    struct rt_lease_health *h)
{
	struct pool *p;
	int err = 0;

	memset(h, 0, sizeof(*h));
	pthread_mutex_lock(&e->lock);
	p = pool_find(e, pool_id);
	if (p) {
		h->numbers = p->n;
		h->live = p->live;
		h->peak = p->peak;
		h->leases = p->leases;
		h->overflows = p->overflows;
		/* Enough for the peak and a quarter more for numbers resting
		 * in cool-down, and never fewer than one. */
		h->recommended = (p->peak * 5 + 3) / 4;
		if (h->recommended < 1)
			h->recommended = 1;
	} else {
		err = ENOENT;
	}
	pthread_mutex_unlock(&e->lock);
	return err;
}

/* ---- persistence -----------------------------------------------------------
 */

size_t rt_lease_drain(struct rt_lease_engine *e, struct rt_lease_event *out,
		      size_t max)
{
	size_t n;

	pthread_mutex_lock(&e->lock);
	n = e->nevents < max ? e->nevents : max;
	if (n == 0) {
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	memcpy(out, e->events, n * sizeof(*out));
	memmove(e->events, e->events + n, (e->nevents - n) * sizeof(*out));
	e->nevents -= n;
	pthread_mutex_unlock(&e->lock);
	return n;
}

int rt_lease_restore(struct rt_lease_engine *e, const struct rt_lease *l,
		     int64_t last_seen)
{
	struct session *s;
	struct number *n;
	struct pool *p;
	size_t ni;
	int err = 0;

	pthread_mutex_lock(&e->lock);
	p = pool_find(e, l->pool_id);
	n = num_find(e, l->number_id, &ni);
	if (!p || !n) {
		err = ENOENT;
		goto out;
	}
	if (sess_find(e, l->session_id) || n->nholders >= HOLDERS_MAX) {
		err = EEXIST;
		goto out;
	}
	s = sess_insert(e, l->session_id);
	if (!s) {
		err = ENOMEM;
		goto out;
	}
	s->number = ni;
	s->pool_id = l->pool_id;
	s->started_at = l->started_at;
	s->last_seen = s->last_event = last_seen;
	s->flags = l->flags & (RT_LEASE_SHARED | RT_LEASE_EARLY);
	n->holders[n->nholders++] = (size_t)(s - e->sessions);
	p->live++;
	if (p->live > p->peak)
		p->peak = p->live;
out:
	pthread_mutex_unlock(&e->lock);
	return err;
}
