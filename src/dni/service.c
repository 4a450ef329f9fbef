/*
 * The DNI service: what POST /v1/dni/sessions and its page views and
 * heartbeats run on.  The hot path touches memory only:
 *
 *   - accounts, by site key: their active pools and numbers, read from the
 *     store once and trusted for RT_DNI_CACHE_MS (or until the API says a
 *     number or pool changed), shared as immutable, reference-counted
 *     snapshots;
 *   - live sessions, by id and by visitor, so that page views, heartbeats
 *     and a returning visitor need no database read;
 *   - the lease engine (lease.c), which picks the tracking number.
 *
 * Every change is queued, and a writer thread writes the queue in one
 * transaction every dni_flush (group commit); the same thread sweeps idle
 * sessions.  A restart reads open sessions back (rt_dni_start).
 *
 * Locks: d->lock guards the live sessions and the queue; the lease engine
 * is taken inside it (never the other way), so that the writer, draining
 * lease events under d->lock, always finds a session's insert queued
 * before any event about it.  d->cache_lock guards the snapshot table and
 * is never held with the other two.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dni/device.h"
#include "dni/dni.h"
#include "util/phone.h"
#include "util/util.h"

#define RT_LOG_MODULE "dni"

#define RT_DNI_CACHE_MS 10000 /* a snapshot is re-read after this */
#define TOUCH_WRITE_MS	60000 /* last_seen_at is written this often */
#define SWEEP_MS	1000
#define SWEEP_SLICE	4096   /* live slots looked at per hold of the lock */
#define WAKE_OPS	2048   /* a queue this long is written at once */
#define QUEUE_MAX	200000 /* past this, visits are not recorded */
#define SESSION_TTL_DEF RT_DNI_POOL_TTL_DEFAULT
#define SESSION_ID_MIN	100000000000000000ll /* 18 digits */
#define SESSION_ID_SPAN 900000000000000000ull

/* ---- account snapshots -------------------------------------------------- */

struct snum {
	int64_t id, pool_id; /* pool_id 0: a source number */
	char source[RT_NAME_MAX], medium[64];
	char e164[20], region[3], national[48], intl[48];
};

struct spool {
	struct rt_pool p;
	char region[RT_POOL_TARGETS_MAX][3]; /* of each swap target */
};

struct acct {
	_Atomic int refs;
	int64_t id;
	char site_key[RT_SITE_KEY_MAX];
	bool usable;
	int64_t loaded_at;
	unsigned gen;
	struct spool *pools;
	size_t npools;
	struct snum *nums;
	size_t nnums;
	struct rt_dni_ruleset *rules; /* the account's active source rules */
};

static void acct_put(struct acct *a)
{
	if (a && atomic_fetch_sub(&a->refs, 1) == 1) {
		free(a->pools);
		free(a->nums);
		rt_dni_ruleset_free(a->rules);
		free(a);
	}
}

/* ---- live sessions and the write queue ---------------------------------- */

enum { KIND_NONE, KIND_POOL, KIND_SOURCE };

struct live {
	int64_t id; /* 0: free slot */
	int64_t account_id;
	uint64_t visitor; /* key in d->by_visitor */
	int64_t pool_id, number_id;
	int64_t last_seen, last_written;
	uint32_t ttl_s;
	uint8_t kind;
	uint8_t flags;
	char *facts; /* facts_pack's: what a call flow's source step reads */
};

/* Sessions that ended keep their facts a while, for calls in the grace
 * after a lease (the most recent ENDED_FACTS). */
#define ENDED_FACTS 4096
struct ended {
	int64_t id;
	char *facts;
};

enum op_kind { OP_SESSION, OP_PAGEVIEW, OP_TOUCH, OP_END, OP_FLAG };

struct op {
	struct op *next;
	enum op_kind kind;
	int64_t session_id, account_id, at;
	unsigned flags;
	char *rec;		    /* OP_SESSION: rec_pack's strings */
	char *url, *title;	    /* OP_PAGEVIEW */
	int64_t pool_id, number_id; /* OP_SESSION */
};

struct rt_dni {
	struct rt_store *store;
	struct rt_dni_sites *sites;
	struct rt_lease_engine *leases;
	struct rt_dni_conf conf;
	int64_t started_at;

	pthread_mutex_t cache_lock;
	struct acct **accts; /* every snapshot held, by slot */
	size_t naccts, accts_cap;
	struct rt_idmap by_key;	 /* hash of site key -> slot */
	struct rt_idmap by_acct; /* account id -> slot */
	_Atomic unsigned gen;

	pthread_mutex_t lock;
	pthread_cond_t wake, written;
	struct live *live;
	size_t live_cap, live_free; /* free slots chain through .account_id */
	size_t nlive;
	struct rt_idmap by_id;	    /* session id -> slot */
	struct rt_idmap by_visitor; /* visitor key -> session id */
	struct ended ended[ENDED_FACTS];
	size_t ended_next;
	struct rt_idmap by_ended; /* session id -> slot in ended */
	struct op *head, **tail;
	size_t nops;
	uint64_t enq_seq, done_seq;
	bool stop, flush_want;
	pthread_t writer;
	bool writer_started;
	_Atomic uint64_t dropped, started, bots;
};

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

static uint64_t key_hash(const char *site_key)
{
	return hash_str(1469598103934665603ull, site_key);
}

static uint64_t visitor_key(int64_t account_id, const char *visitor)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 8; i++)
		h = (h ^ ((uint64_t)account_id >> (i * 8) & 0xff)) *
		    1099511628211ull;
	return hash_str(h, visitor);
}

/* ---- loading a snapshot -------------------------------------------------- */

struct load {
	struct acct *a;
	size_t pools_cap, nums_cap;
	struct rt_source_rule *rules; /* read, then compiled into a->rules */
	size_t nrules, rules_cap;
	int64_t last;
	unsigned rows;
	int err;
};

static int pool_row(const struct rt_pool *p, void *arg)
{
	struct load *l = arg;
	struct spool *sp;

	l->last = p->id;
	l->rows++;
	if (strcmp(p->status, "active") != 0)
		return 0;
	if (l->a->npools == l->pools_cap) {
		size_t cap = l->pools_cap ? l->pools_cap * 2 : 4;
		struct spool *n = realloc(l->a->pools, cap * sizeof(*n));

		if (!n)
			return ENOMEM;
		l->a->pools = n;
		l->pools_cap = cap;
	}
	sp = &l->a->pools[l->a->npools++];
	memset(sp, 0, sizeof(*sp));
	sp->p = *p;
	for (unsigned i = 0; i < p->nswap_targets; i++) {
		struct rt_phone ph;

		if (rt_phone_parse(p->swap_targets[i], NULL, &ph) == 0)
			rt_strlcpy(sp->region[i], ph.region,
				   sizeof(sp->region[i]));
	}
	return 0;
}

static const struct spool *pool_of(const struct acct *a, int64_t id)
{
	for (size_t i = 0; i < a->npools; i++) {
		if (a->pools[i].p.id == id)
			return &a->pools[i];
	}
	return NULL;
}

static int number_row(const struct rt_number *n, void *arg)
{
	struct load *l = arg;
	struct rt_phone ph;
	struct snum *s;
	bool source = strcmp(n->kind, "source") == 0;

	l->last = n->id;
	l->rows++;
	if (strcmp(n->status, "active") != 0 ||
	    !(source || (strcmp(n->kind, "pool") == 0 && n->pool_id)))
		return 0;
	if (l->a->nnums == l->nums_cap) {
		size_t cap = l->nums_cap ? l->nums_cap * 2 : 16;
		struct snum *x = realloc(l->a->nums, cap * sizeof(*x));

		if (!x)
			return ENOMEM;
		l->a->nums = x;
		l->nums_cap = cap;
	}
	s = &l->a->nums[l->a->nnums++];
	memset(s, 0, sizeof(*s));
	s->id = n->id;
	s->pool_id = source ? 0 : n->pool_id;
	rt_strlcpy(s->source, n->source, sizeof(s->source));
	rt_strlcpy(s->medium, n->medium, sizeof(s->medium));
	rt_strlcpy(s->e164, n->e164, sizeof(s->e164));
	if (rt_phone_parse(n->e164, NULL, &ph) == 0) {
		rt_strlcpy(s->region, ph.region, sizeof(s->region));
		rt_strlcpy(s->national, ph.national, sizeof(s->national));
		rt_strlcpy(s->intl, ph.international, sizeof(s->intl));
	} else {
		rt_strlcpy(s->national, n->e164, sizeof(s->national));
		rt_strlcpy(s->intl, n->e164, sizeof(s->intl));
	}
	return 0;
}

static int rule_row(const struct rt_source_rule *r, void *arg)
{
	struct load *l = arg;

	if (l->nrules == l->rules_cap) {
		size_t cap = l->rules_cap ? l->rules_cap * 2 : 8;
		struct rt_source_rule *n = realloc(l->rules, cap * sizeof(*n));

		if (!n)
			return ENOMEM;
		l->rules = n;
		l->rules_cap = cap;
	}
	l->rules[l->nrules++] = *r;
	return 0;
}

static const struct snum *num_of(const struct acct *a, int64_t id)
{
	for (size_t i = 0; i < a->nnums; i++) {
		if (a->nums[i].id == id)
			return &a->nums[i];
	}
	return NULL;
}

/* Reads an account (by site key, or by id when key is NULL) and its active
 * pools, numbers and source rules. */
static int acct_read(struct rt_dni *d, const char *key, int64_t id,
		     struct acct **out)
{
	struct rt_account acc;
	struct rt_store_tx *tx;
	struct load l = {0};
	struct rt_page pg;
	int err;

	l.a = calloc(1, sizeof(*l.a));
	if (!l.a)
		return ENOMEM;
	atomic_init(&l.a->refs, 1);
	l.a->gen = atomic_load(&d->gen);
	err = rt_store_begin(d->store, false, &tx);
	if (err)
		goto fail;
	err = key ? rt_store_account_by_site_key(tx, key, &acc)
		  : rt_store_account_get(tx, id, id, &acc);
	if (!err)
		l.a->usable = rt_store_account_usable(tx, acc.id) == 0;
	for (pg.after = 0, pg.limit = 200; !err; pg.after = l.last) {
		l.rows = 0;
		err = rt_store_pool_list(tx, acc.id, acc.id, &pg, pool_row, &l);
		if (l.rows < pg.limit)
			break;
	}
	for (pg.after = 0, pg.limit = 200; !err; pg.after = l.last) {
		l.rows = 0;
		err = rt_store_number_list(tx, acc.id, acc.id, false, &pg,
					   number_row, &l);
		if (l.rows < pg.limit)
			break;
	}
	if (!err)
		err = rt_store_source_rule_list_active(tx, 0, acc.id, rule_row,
						       &l);
	rt_store_rollback(tx);
	if (!err && l.nrules)
		err = rt_dni_ruleset_build(d->sites, l.rules, l.nrules,
					   &l.a->rules);
	free(l.rules);
	if (err)
		goto fail;
	l.a->id = acc.id;
	rt_strlcpy(l.a->site_key, acc.site_key, sizeof(l.a->site_key));
	l.a->loaded_at = rt_now_ms();
	*out = l.a;
	return 0;
fail:
	acct_put(l.a);
	return err;
}

/* Hands the account's pools to the lease engine; pools that were in old
 * but are not in a (deactivated) lose their numbers: no new leases. */
static void acct_arm(struct rt_dni *d, const struct acct *a,
		     const struct acct *old)
{
	int64_t *ids = malloc((a->nnums ? a->nnums : 1) * sizeof(*ids));

	for (size_t i = 0; ids && i < a->npools; i++) {
		const struct rt_pool *p = &a->pools[i].p;
		struct rt_lease_pool_conf c = {p->id, (uint64_t)p->session_ttl,
					       (uint64_t)p->cooldown};
		size_t n = 0;

		for (size_t j = 0; j < a->nnums; j++) {
			if (a->nums[j].pool_id == p->id)
				ids[n++] = a->nums[j].id;
		}
		rt_lease_pool_set(d->leases, &c, ids, n);
	}
	for (size_t i = 0; old && i < old->npools; i++) {
		const struct rt_pool *p = &old->pools[i].p;
		struct rt_lease_pool_conf c = {p->id, (uint64_t)p->session_ttl,
					       (uint64_t)p->cooldown};

		if (!pool_of(a, p->id))
			rt_lease_pool_set(d->leases, &c, NULL, 0);
	}
	free(ids);
}

/* Puts a in the table (taking the caller's reference). */
static int cache_put(struct rt_dni *d, struct acct *a)
{
	struct acct *old = NULL;
	int64_t slot;
	int err = 0;

	pthread_mutex_lock(&d->cache_lock);
	if (rt_idmap_get(&d->by_acct, (uint64_t)a->id, &slot) == 0) {
		old = d->accts[slot];
		if (strcmp(old->site_key, a->site_key) != 0)
			rt_idmap_del(&d->by_key, key_hash(old->site_key));
		d->accts[slot] = a;
	} else {
		if (d->naccts == d->accts_cap) {
			size_t cap = d->accts_cap ? d->accts_cap * 2 : 16;
			struct acct **n = realloc(d->accts, cap * sizeof(*n));

			if (!n) {
				err = ENOMEM;
				goto out;
			}
			d->accts = n;
			d->accts_cap = cap;
		}
		slot = (int64_t)d->naccts++;
		d->accts[slot] = a;
		err = rt_idmap_put(&d->by_acct, (uint64_t)a->id, slot);
	}
	if (!err)
		err = rt_idmap_put(&d->by_key, key_hash(a->site_key), slot);
out:
	pthread_mutex_unlock(&d->cache_lock);
	if (err) {
		acct_put(a);
		return err;
	}
	acct_arm(d, a, old);
	acct_put(old);
	return 0;
}

static bool fresh(struct rt_dni *d, const struct acct *a, int64_t now)
{
	return a->gen == atomic_load(&d->gen) &&
	       now - a->loaded_at < RT_DNI_CACHE_MS;
}

/* The snapshot of a site key (a reference the caller puts), read from the
 * store when missing or stale.  ENOENT for an unknown key. */
static int acct_get(struct rt_dni *d, const char *key, int64_t id,
		    struct acct **out)
{
	struct acct *a = NULL;
	int64_t slot, now = rt_now_ms();
	int err;

	pthread_mutex_lock(&d->cache_lock);
	if ((key ? rt_idmap_get(&d->by_key, key_hash(key), &slot)
		 : rt_idmap_get(&d->by_acct, (uint64_t)id, &slot)) == 0) {
		a = d->accts[slot];
		if ((key && strcmp(a->site_key, key) != 0) || !fresh(d, a, now))
			a = NULL;
		else
			atomic_fetch_add(&a->refs, 1);
	}
	pthread_mutex_unlock(&d->cache_lock);
	if (a) {
		*out = a;
		return 0;
	}
	err = acct_read(d, key, id, &a);
	if (err)
		return err;
	atomic_fetch_add(&a->refs, 1); /* one for the table, one for us */
	err = cache_put(d, a);
	if (err) {
		acct_put(a);
		return err;
	}
	*out = a;
	return 0;
}

void rt_dni_changed(struct rt_dni *d)
{
	if (d)
		atomic_fetch_add(&d->gen, 1);
}

/* ---- the queue ----------------------------------------------------------- */

static void op_free(struct op *o)
{
	free(o->rec);
	free(o->url);
	free(o->title);
	free(o);
}

/* Under d->lock. */
static void enqueue(struct rt_dni *d, struct op *o)
{
	o->next = NULL;
	*d->tail = o;
	d->tail = &o->next;
	d->nops++;
	d->enq_seq++;
	if (d->nops >= WAKE_OPS)
		pthread_cond_signal(&d->wake);
}

static struct op *op_new(enum op_kind kind, int64_t session_id,
			 int64_t account_id, int64_t at)
{
	struct op *o = calloc(1, sizeof(*o));

	if (o) {
		o->kind = kind;
		o->session_id = session_id;
		o->account_id = account_id;
		o->at = at;
	}
	return o;
}

/* A page view (URL and title cut to their stored limits); NULL on ENOMEM. */
static struct op *pageview_op(int64_t session_id, int64_t account_id,
			      const char *url, const char *title, int64_t at)
{
	struct op *o = op_new(OP_PAGEVIEW, session_id, account_id, at);

	if (!o)
		return NULL;
	o->url = strdup(url);
	o->title = title ? strdup(title) : NULL;
	if (!o->url || (title && !o->title)) {
		op_free(o);
		return NULL;
	}
	rt_utf8_cut(o->url, RT_SESSION_URL_MAX);
	if (o->title)
		rt_utf8_cut(o->title, RT_SESSION_TITLE_MAX);
	return o;
}

/* ---- live sessions (under d->lock) ----------------------------------------
 */

static struct live *live_find(struct rt_dni *d, int64_t id)
{
	int64_t slot;

	return rt_idmap_get(&d->by_id, (uint64_t)id, &slot) == 0
		       ? &d->live[slot]
		       : NULL;
}

static struct live *live_add(struct rt_dni *d, int64_t id)
{
	size_t slot;

	if (!d->live_free) {
		size_t cap = d->live_cap ? d->live_cap * 2 : 1024;
		struct live *n = realloc(d->live, cap * sizeof(*n));

		if (!n)
			return NULL;
		memset(n + d->live_cap, 0, (cap - d->live_cap) * sizeof(*n));
		/* Free slots chain through account_id: slot + 1, 0 ends. */
		for (size_t i = d->live_cap; i < cap; i++)
			n[i].account_id = i + 1 < cap ? (int64_t)(i + 2) : 0;
		d->live = n;
		d->live_free = d->live_cap + 1;
		d->live_cap = cap;
	}
	slot = d->live_free - 1;
	if (rt_idmap_put(&d->by_id, (uint64_t)id, (int64_t)slot))
		return NULL;
	d->live_free = (size_t)d->live[slot].account_id;
	memset(&d->live[slot], 0, sizeof(d->live[slot]));
	d->live[slot].id = id;
	d->nlive++;
	return &d->live[slot];
}

static void live_remove(struct rt_dni *d, struct live *l)
{
	int64_t sid;

	if (l->facts) {
		struct ended *e = &d->ended[d->ended_next++ % ENDED_FACTS];

		if (e->id)
			rt_idmap_del(&d->by_ended, (uint64_t)e->id);
		free(e->facts);
		e->id = l->id;
		e->facts = l->facts;
		l->facts = NULL;
		if (rt_idmap_put(&d->by_ended, (uint64_t)e->id,
				 (int64_t)(e - d->ended))) {
			free(e->facts);
			e->id = 0;
			e->facts = NULL;
		}
	}

	rt_idmap_del(&d->by_id, (uint64_t)l->id);
	if (rt_idmap_get(&d->by_visitor, l->visitor, &sid) == 0 && sid == l->id)
		rt_idmap_del(&d->by_visitor, l->visitor);
	l->id = 0;
	d->nlive--;
	l->account_id = (int64_t)d->live_free;
	d->live_free = (size_t)(l - d->live) + 1;
}

static bool live_expired(const struct live *l, int64_t now)
{
	return now - l->last_seen > (int64_t)l->ttl_s * 1000;
}

/* Keeps a live session alive: its lease too.  ENOENT when it ended. */
static int live_touch(struct rt_dni *d, struct live *l, int64_t now)
{
	if (live_expired(l, now) ||
	    (l->kind == KIND_POOL && rt_lease_touch(d->leases, l->id, now))) {
		struct op *o = op_new(OP_END, l->id, l->account_id, now);

		if (o)
			enqueue(d, o);
		live_remove(d, l);
		return ENOENT;
	}
	l->last_seen = now;
	return 0;
}

/* A session's facts for call flows, packed: channel, source, medium,
 * campaign, keyword (else the term) and landing page, each NUL-ended.
 * NULL on ENOMEM: the flow then sees none. */
static char *facts_pack(const struct rt_visit_source *v)
{
	const char *f[] = {v->channel,
			   v->source,
			   v->medium,
			   v->campaign,
			   v->keyword[0] ? v->keyword : v->term,
			   v->landing_page};
	size_t n = 0;
	char *out, *p;

	for (size_t i = 0; i < RT_ARRAY_SIZE(f); i++)
		n += strlen(f[i]) + 1;
	out = p = malloc(n);
	for (size_t i = 0; out && i < RT_ARRAY_SIZE(f); i++)
		p = stpcpy(p, f[i]) + 1;
	return out;
}

int rt_dni_session_facts(struct rt_dni *d, int64_t session_id,
			 struct rt_dni_facts *out)
{
	char(*dst[])[128] = {&out->channel,  &out->source,  &out->medium,
			     &out->campaign, &out->keyword, &out->landing_page};
	const char *p = NULL;
	struct live *l;
	int64_t slot;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&d->lock);
	l = live_find(d, session_id);
	if (l)
		p = l->facts;
	else if (rt_idmap_get(&d->by_ended, (uint64_t)session_id, &slot) == 0)
		p = d->ended[slot].facts;
	for (size_t i = 0; p && i < RT_ARRAY_SIZE(dst); i++) {
		rt_strlcpy(*dst[i], p, sizeof(*dst[i]));
		p += strlen(p) + 1;
	}
	pthread_mutex_unlock(&d->lock);
	return l || p ? 0 : ENOENT;
}

/* ---- visits -----------------------------------------------------------------
 */

static bool serves(const struct rt_pool *p, const struct rt_visit_source *v)
{
	if (strcmp(p->sources, "paid_search") == 0)
		return strcmp(v->channel, "Paid Search") == 0;
	if (strcmp(p->sources, "paid_social") == 0)
		return strcmp(v->channel, "Paid Social") == 0;
	if (strcmp(p->sources, "organic") == 0)
		return strncmp(v->channel, "Organic ", 8) == 0;
	return false;
}

/* A pool made for the visit's kind of traffic, else one for all. */
static const struct spool *choose_pool(const struct acct *a,
				       const struct rt_visit_source *v)
{
	for (size_t i = 0; i < a->npools; i++) {
		if (serves(&a->pools[i].p, v))
			return &a->pools[i];
	}
	for (size_t i = 0; i < a->npools; i++) {
		if (strcmp(a->pools[i].p.sources, "all") == 0)
			return &a->pools[i];
	}
	return NULL;
}

static const struct snum *source_number(const struct acct *a,
					const struct rt_visit_source *v)
{
	if (!v->source[0])
		return NULL;
	for (size_t i = 0; i < a->nnums; i++) {
		const struct snum *n = &a->nums[i];

		if (n->pool_id == 0 && strcasecmp(n->source, v->source) == 0 &&
		    (!n->medium[0] || strcasecmp(n->medium, v->medium) == 0))
			return n;
	}
	return NULL;
}

static bool visitor_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return n >= 8 && n < RT_VISITOR_ID_MAX;
}

static int64_t new_session_id(void)
{
	uint64_t r;

	rt_random_bytes(&r, sizeof(r));
	return SESSION_ID_MIN + (int64_t)(r % SESSION_ID_SPAN);
}

/* The swaps of an answer: each target of the pool (or of every pool when
 * none was chosen) and the number shown in its place. */
static void fill_swaps(const struct acct *a, const struct spool *pool,
		       const struct snum *num, struct rt_dni_answer *out)
{
	out->nswaps = 0;
	for (size_t i = 0; num && i < a->npools; i++) {
		const struct spool *p = pool ? pool : &a->pools[i];

		for (unsigned t = 0; t < p->p.nswap_targets; t++) {
			struct rt_dni_swap *s;
			bool dup = false;

			for (size_t k = 0; k < out->nswaps; k++)
				dup |= strcmp(out->swaps[k].target,
					      p->p.swap_targets[t]) == 0;
			if (dup || out->nswaps == RT_DNI_SWAPS_MAX)
				continue;
			s = &out->swaps[out->nswaps++];
			rt_strlcpy(s->target, p->p.swap_targets[t],
				   sizeof(s->target));
			rt_strlcpy(s->number, num->e164, sizeof(s->number));
			rt_strlcpy(s->display,
				   strcmp(p->region[t], num->region) == 0
					   ? num->national
					   : num->intl,
				   sizeof(s->display));
		}
		if (pool)
			break;
	}
}

/*
 * A new session waits for the writer as a few numbers in its op and its
 * strings packed one after another, NUL-terminated (a few hundred bytes,
 * where struct rt_dni_session is 11 KB: the queue may hold many).  The
 * strings go in the order of rec_strs, then the click ids.
 */
#define SF(f)                                                                  \
	{                                                                      \
		offsetof(struct rt_dni_session, f),                            \
			sizeof(((struct rt_dni_session *)0)->f)                \
	}
static const struct {
	size_t off, size;
} rec_strs[] = {
	SF(visitor_id),	       SF(ga_client_id),
	SF(src.source),	       SF(src.medium),
	SF(src.campaign),      SF(src.term),
	SF(src.content),       SF(src.channel),
	SF(src.ad_group),      SF(src.keyword),
	SF(src.campaign_id),   SF(src.matchtype),
	SF(src.network),       SF(src.device),
	SF(src.landing_host),  SF(src.landing_page),
	SF(src.referrer_host), SF(landing_url),
	SF(referrer),	       SF(title),
	SF(user_agent),	       SF(device_class),
	SF(browser),	       SF(os),
	SF(consent),
};
#undef SF
/* Every string of struct rt_visit_source is packed: a field added there
 * must be added to rec_strs too. */
_Static_assert(RT_DNI_V * 10 + 32 * 4 + RT_DNI_PATH_MAX +
			       sizeof(((struct rt_visit_source *)0)->click) ==
		       sizeof(struct rt_visit_source),
	       "struct rt_visit_source changed: update rec_strs");

/* The session's strings as stored: cut to the stored limits. */
static void rec_fill(const struct rt_dni_visit *in,
		     const struct rt_dni_answer *out, struct rt_dni_session *s)
{
	s->src = out->src;
	rt_strlcpy(s->visitor_id, out->visitor_id, sizeof(s->visitor_id));
	rt_strlcpy(s->ga_client_id, in->ga_client_id ? in->ga_client_id : "",
		   sizeof(s->ga_client_id));
	rt_strlcpy(s->landing_url, in->landing_url, sizeof(s->landing_url));
	rt_strlcpy(s->referrer, in->referrer ? in->referrer : "",
		   sizeof(s->referrer));
	rt_strlcpy(s->title, in->title ? in->title : "", sizeof(s->title));
	rt_strlcpy(s->user_agent, in->user_agent ? in->user_agent : "",
		   sizeof(s->user_agent));
	rt_utf8_cut(s->landing_url, RT_SESSION_URL_MAX);
	rt_utf8_cut(s->referrer, RT_SESSION_URL_MAX);
	rt_utf8_cut(s->title, RT_SESSION_TITLE_MAX);
	rt_utf8_cut(s->user_agent, RT_SESSION_UA_MAX);
	rt_strlcpy(s->device_class, rt_dni_device_class_name(out->device.cls),
		   sizeof(s->device_class));
	rt_strlcpy(s->browser, out->device.browser, sizeof(s->browser));
	rt_strlcpy(s->os, out->device.os, sizeof(s->os));
	rt_strlcpy(s->consent, in->consent ? in->consent : "",
		   sizeof(s->consent));
}

/* Packs s's strings (scratch: every string field set); NULL on ENOMEM. */
static char *rec_pack(const struct rt_dni_session *s)
{
	size_t n = 0;
	char *rec, *p;

	for (size_t i = 0; i < RT_ARRAY_SIZE(rec_strs); i++)
		n += strlen((const char *)s + rec_strs[i].off) + 1;
	for (size_t i = 0; i < RT_CLICK__N; i++)
		n += strlen(s->src.click[i]) + 1;
	p = rec = malloc(n);
	if (!rec)
		return NULL;
	for (size_t i = 0; i < RT_ARRAY_SIZE(rec_strs); i++)
		p = stpcpy(p, (const char *)s + rec_strs[i].off) + 1;
	for (size_t i = 0; i < RT_CLICK__N; i++)
		p = stpcpy(p, s->src.click[i]) + 1;
	return rec;
}

/* The writer's side: s (zeroed by the caller) from an OP_SESSION. */
static void rec_unpack(const struct op *o, struct rt_dni_session *s)
{
	const char *p = o->rec;

	for (size_t i = 0; i < RT_ARRAY_SIZE(rec_strs); i++) {
		rt_strlcpy((char *)s + rec_strs[i].off, p, rec_strs[i].size);
		p += strlen(p) + 1;
	}
	for (size_t i = 0; i < RT_CLICK__N; i++) {
		rt_strlcpy(s->src.click[i], p, sizeof(s->src.click[i]));
		p += strlen(p) + 1;
	}
	s->id = o->session_id;
	s->account_id = o->account_id;
	s->pool_id = o->pool_id;
	s->number_id = o->number_id;
	s->lease_flags = o->flags;
	s->pageviews = 1;
	s->created_at = s->last_seen_at = o->at;
}

static bool params_default(const struct rt_dni_params *p)
{
	const struct rt_dni_params *q = &rt_dni_params_default;

	return strcmp(p->keyword, q->keyword) == 0 &&
	       strcmp(p->ad_group_id, q->ad_group_id) == 0 &&
	       strcmp(p->campaign_id, q->campaign_id) == 0 &&
	       strcmp(p->matchtype, q->matchtype) == 0 &&
	       strcmp(p->network, q->network) == 0 &&
	       strcmp(p->device, q->device) == 0;
}

/*
 * Classifies a visit, applies the account's source rules and picks its
 * pool: the pool of the first rule that matched (when it names an active
 * one), else the pool for the visit's kind of traffic (choose_pool).
 */
static int classify(struct rt_dni *d, const struct acct *a,
		    const struct rt_dni_visit *in,
		    const struct rt_dni_params *params,
		    struct rt_dni_answer *out, const struct spool **poolp,
		    const char **fieldp, char *err, size_t errsz)
{
	int64_t rule_pool = 0;
	int e = rt_dni_classify(d->sites, in->landing_url, in->referrer, params,
				&out->src, err, errsz);

	if (e == EINVAL)
		*fieldp = strncmp(err, "the referrer", 12) == 0 ? "referrer"
								: "landing_url";
	if (e)
		return e;
	rt_dni_ruleset_apply(a->rules, &out->src, in->landing_url, in->referrer,
			     &rule_pool, NULL);
	*poolp = rule_pool ? pool_of(a, rule_pool) : NULL;
	if (!*poolp)
		*poolp = choose_pool(a, &out->src);
	return 0;
}

/* Answers a returning visitor from their live session; under d->lock. */
static void answer_live(const struct acct *a, const struct live *l,
			struct rt_dni_answer *out)
{
	const struct snum *num = num_of(a, l->number_id);

	out->session_id = l->id;
	out->returning = true;
	out->pool_id = l->pool_id;
	out->number_id = num ? l->number_id : 0;
	out->lease_flags = l->flags;
	out->ttl_ms = (uint64_t)l->ttl_s * 1000;
	rt_strlcpy(out->number_kind,
		   !num			  ? ""
		   : l->kind == KIND_POOL ? "pool"
					  : "source",
		   sizeof(out->number_kind));
	fill_swaps(a, pool_of(a, l->pool_id), num, out);
}

int rt_dni_visit(struct rt_dni *d, const struct rt_dni_visit *in,
		 struct rt_dni_answer *out, const char **fieldp, char *errmsg,
		 size_t errsz)
{
	const struct spool *pool = NULL;
	const struct snum *num = NULL;
	struct rt_dni_params params;
	struct acct *a;
	static _Thread_local struct rt_dni_session scratch;
	struct live *l;
	struct op *o;
	char *rec = NULL;
	uint64_t vkey;
	int64_t sid;
	int err;

	memset(out, 0, sizeof(*out));
	*fieldp = NULL;
	rt_dni_device(in->user_agent, &out->device);
	err = acct_get(d, in->site_key, 0, &a);
	if (err) {
		*fieldp = "site_key";
		snprintf(errmsg, errsz, "%s",
			 err == ENOENT ? "no site has this site key"
				       : "the site key cannot be read now");
		return err;
	}
	out->account_id = a->id;
	if (!a->usable) {
		*fieldp = "site_key";
		snprintf(errmsg, errsz,
			 "the account of this site is suspended");
		err = EPERM;
		goto out;
	}
	err = classify(d, a, in, NULL, out, &pool, fieldp, errmsg, errsz);
	if (!err && pool) {
		rt_dni_pool_params(&pool->p, &params);
		/* Read again with the pool's parameter names; the pool is
		 * then chosen again from what they give. */
		if (!params_default(&params))
			err = classify(d, a, in, &params, out, &pool, fieldp,
				       errmsg, errsz);
	}
	if (err)
		goto out;
	out->ttl_ms = pool ? (uint64_t)pool->p.session_ttl : SESSION_TTL_DEF;
	if (out->device.cls == RT_DEVICE_BOT) {
		/* Crawlers see the site's own numbers and hold none. */
		out->bot = true;
		atomic_fetch_add(&d->bots, 1);
		goto out;
	}
	if (visitor_ok(in->visitor_id))
		rt_strlcpy(out->visitor_id, in->visitor_id,
			   sizeof(out->visitor_id));
	else
		rt_random_token(out->visitor_id, sizeof(out->visitor_id), "v_",
				20);
	vkey = visitor_key(a->id, out->visitor_id);
	num = source_number(a, &out->src);
	/* Packed before the lock: the insert must be queued ahead of any
	 * page view of the session, so in the same hold of the lock. */
	rec_fill(in, out, &scratch);
	rec = rec_pack(&scratch);
	if (!rec) {
		err = ENOMEM;
		goto out;
	}

	pthread_mutex_lock(&d->lock);
	if (d->nops >= QUEUE_MAX) {
		pthread_mutex_unlock(&d->lock);
		atomic_fetch_add(&d->dropped, 1);
		snprintf(errmsg, errsz,
			 "too many visits are waiting to be "
			 "written; try again");
		err = EAGAIN;
		goto out;
	}
	if (rt_idmap_get(&d->by_visitor, vkey, &sid) == 0 &&
	    (l = live_find(d, sid)) && l->account_id == a->id &&
	    live_touch(d, l, in->now) == 0) {
		answer_live(a, l, out);
		o = pageview_op(l->id, a->id, in->landing_url, in->title,
				in->now);
		if (o)
			enqueue(d, o);
		pthread_mutex_unlock(&d->lock);
		goto out;
	}
	do
		sid = new_session_id();
	while (live_find(d, sid));
	l = live_add(d, sid);
	if (!l) {
		pthread_mutex_unlock(&d->lock);
		err = ENOMEM;
		goto out;
	}
	l->account_id = a->id;
	l->visitor = vkey;
	l->facts = facts_pack(&out->src);
	l->last_seen = l->last_written = in->now;
	l->ttl_s = (uint32_t)(out->ttl_ms / 1000);
	l->pool_id = pool ? pool->p.id : 0;
	if (num) {
		l->kind = KIND_SOURCE;
		l->number_id = num->id;
		rt_strlcpy(out->number_kind, "source",
			   sizeof(out->number_kind));
	} else if (pool) {
		struct rt_lease lease;

		if (rt_lease_acquire(d->leases, pool->p.id, sid, in->now,
				     &lease) == 0) {
			num = num_of(a, lease.number_id);
			l->kind = KIND_POOL;
			l->number_id = lease.number_id;
			l->flags = (uint8_t)lease.flags;
			rt_strlcpy(out->number_kind, "pool",
				   sizeof(out->number_kind));
		}
	}
	rt_idmap_put(&d->by_visitor, vkey, sid);
	atomic_fetch_add(&d->started, 1);
	out->session_id = sid;
	out->pool_id = l->pool_id;
	out->number_id = l->number_id;
	out->lease_flags = l->flags & (RT_LEASE_SHARED | RT_LEASE_EARLY);
	o = op_new(OP_SESSION, sid, a->id, in->now);
	if (o) {
		o->pool_id = out->pool_id;
		o->number_id = out->number_id;
		o->flags = out->lease_flags;
		o->rec = rec;
		rec = NULL;
		enqueue(d, o);
	} else {
		atomic_fetch_add(&d->dropped, 1);
	}
	pthread_mutex_unlock(&d->lock);
	fill_swaps(a, pool, num, out);
out:
	free(rec);
	acct_put(a);
	return err;
}

int rt_dni_pageview(struct rt_dni *d, int64_t session_id, const char *url,
		    const char *title, int64_t now)
{
	struct live *l;
	struct op *o;
	int err = ENOENT;

	pthread_mutex_lock(&d->lock);
	l = live_find(d, session_id);
	if (l && (err = live_touch(d, l, now)) == 0) {
		o = pageview_op(session_id, l->account_id, url, title, now);
		if (o)
			enqueue(d, o);
		l->last_written = now;
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

int rt_dni_heartbeat(struct rt_dni *d, int64_t session_id, int64_t now)
{
	struct live *l;
	int err = ENOENT;

	pthread_mutex_lock(&d->lock);
	l = live_find(d, session_id);
	if (l && (err = live_touch(d, l, now)) == 0 &&
	    now - l->last_written >= TOUCH_WRITE_MS) {
		struct op *o = op_new(OP_TOUCH, session_id, l->account_id, now);

		if (o)
			enqueue(d, o);
		l->last_written = now;
	}
	pthread_mutex_unlock(&d->lock);
	return err;
}

bool rt_dni_live(struct rt_dni *d, int64_t session_id)
{
	bool live;

	pthread_mutex_lock(&d->lock);
	live = live_find(d, session_id) != NULL;
	pthread_mutex_unlock(&d->lock);
	return live;
}

int rt_dni_pool_health(struct rt_dni *d, int64_t account_id, int64_t pool_id,
		       struct rt_lease_health *h)
{
	int err = rt_lease_health(d->leases, pool_id, h);
	struct acct *a;

	if (err != ENOENT)
		return err;
	/* Not armed yet: nobody visited since the start. */
	err = acct_get(d, NULL, account_id, &a);
	if (err)
		return err;
	acct_put(a);
	return rt_lease_health(d->leases, pool_id, h);
}

struct rt_lease_engine *rt_dni_leases(struct rt_dni *d)
{
	return d->leases;
}

void rt_dni_metrics(struct rt_dni *d, struct rt_buf *b)
{
	size_t live, queued;

	pthread_mutex_lock(&d->lock);
	live = d->nlive;
	queued = d->nops;
	pthread_mutex_unlock(&d->lock);
	rt_buf_printf(
		b,
		"# HELP ringtrail_dni_live_sessions Visitor sessions live in "
		"memory.\n# TYPE ringtrail_dni_live_sessions gauge\n"
		"ringtrail_dni_live_sessions %zu\n"
		"# HELP ringtrail_dni_sessions_total Visitor sessions "
		"started.\n# TYPE ringtrail_dni_sessions_total counter\n"
		"ringtrail_dni_sessions_total %llu\n"
		"# HELP ringtrail_dni_bot_visits_total Visits by crawlers, "
		"shown the site's own numbers.\n# TYPE "
		"ringtrail_dni_bot_visits_total counter\n"
		"ringtrail_dni_bot_visits_total %llu\n"
		"# HELP ringtrail_dni_write_queue Session writes waiting for "
		"the database.\n# TYPE ringtrail_dni_write_queue gauge\n"
		"ringtrail_dni_write_queue %zu\n"
		"# HELP ringtrail_dni_visits_dropped_total Visits answered but "
		"not recorded (write queue full, out of memory).\n# TYPE "
		"ringtrail_dni_visits_dropped_total counter\n"
		"ringtrail_dni_visits_dropped_total %llu\n",
		live, (unsigned long long)atomic_load(&d->started),
		(unsigned long long)atomic_load(&d->bots), queued,
		(unsigned long long)atomic_load(&d->dropped));
}

int64_t rt_dni_started_at(const struct rt_dni *d)
{
	return d->started_at;
}

/* ---- the writer ------------------------------------------------------------
 */

/* Lease events become ops, in order; under d->lock. */
static void drain_events(struct rt_dni *d)
{
	struct rt_lease_event ev[256];
	size_t n;

	while ((n = rt_lease_drain(d->leases, ev, RT_ARRAY_SIZE(ev))) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct op *o;

			switch (ev[i].kind) {
			case RT_LEASE_EV_TOUCH:
				o = op_new(OP_TOUCH, ev[i].lease.session_id, 0,
					   ev[i].at);
				break;
			case RT_LEASE_EV_END:
				o = op_new(OP_END, ev[i].lease.session_id, 0,
					   ev[i].at);
				break;
			case RT_LEASE_EV_SHARED:
				o = op_new(OP_FLAG, ev[i].lease.session_id, 0,
					   ev[i].at);
				if (o)
					o->flags = RT_LEASE_SHARED;
				break;
			default: /* START: the session's insert has it */
				o = NULL;
				break;
			}
			if (o)
				enqueue(d, o);
		}
	}
}

/* s: scratch for a session's row. */
static int write_op(struct rt_store_tx *tx, const struct op *o,
		    struct rt_dni_session *s)
{
	int err;

	switch (o->kind) {
	case OP_SESSION:
		memset(s, 0, sizeof(*s));
		rec_unpack(o, s);
		err = rt_store_dni_session_insert(tx, s);
		break;
	case OP_PAGEVIEW:
		err = rt_store_dni_pageview_add(tx, o->account_id,
						o->session_id, o->url, o->title,
						o->at);
		break;
	case OP_TOUCH:
		err = rt_store_dni_session_touch(tx, o->session_id, o->at);
		break;
	case OP_END:
		err = rt_store_dni_session_end(tx, o->session_id, o->at);
		break;
	default:
		err = rt_store_dni_session_flag(tx, o->session_id, o->flags);
		break;
	}
	/* A touch of a row already newer, or an end already written, or (very
	 * rarely) a session id that an old session had: nothing to keep. */
	if (err == ENOENT || err == EEXIST) {
		if (err == EEXIST)
			rt_warn("session id taken: visit not recorded",
				"session=%lld", (long long)o->session_id);
		err = 0;
	}
	return err;
}

static int write_batch(struct rt_dni *d, struct op *ops)
{
	struct rt_dni_session *s;
	struct rt_store_tx *tx;
	int err;

	if (!ops)
		return 0;
	s = malloc(sizeof(*s));
	if (!s)
		return ENOMEM;
	err = rt_store_begin(d->store, true, &tx);
	if (err)
		goto out;
	for (struct op *o = ops; o && !err; o = o->next)
		err = write_op(tx, o, s);
	if (err)
		rt_store_rollback(tx);
	else
		err = rt_store_commit(tx);
out:
	free(s);
	return err;
}

/* Under d->lock. */
static void sweep_slice(struct rt_dni *d, size_t start, int64_t now)
{
	size_t end = start + SWEEP_SLICE < d->live_cap ? start + SWEEP_SLICE
						       : d->live_cap;

	for (size_t i = start; i < end; i++) {
		struct live *l = &d->live[i];

		if (l->id && live_expired(l, now)) {
			struct op *o =
				op_new(OP_END, l->id, l->account_id,
				       l->last_seen + (int64_t)l->ttl_s * 1000);

			if (o)
				enqueue(d, o);
			live_remove(d, l);
		}
	}
}

/* Ends idle sessions, a slice of the table per hold of the lock so that
 * visits wait for one slice at most, never for a scan of every session. */
static void sweep(struct rt_dni *d, int64_t now)
{
	for (size_t start = 0;; start += SWEEP_SLICE) {
		pthread_mutex_lock(&d->lock);
		if (start >= d->live_cap) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		sweep_slice(d, start, now);
		pthread_mutex_unlock(&d->lock);
	}
	rt_lease_sweep(d->leases, now);
}

static void *writer_main(void *arg)
{
	struct rt_dni *d = arg;
	uint64_t last_sweep = rt_mono_us(), backoff_ms = 0;

	for (;;) {
		struct timespec until;
		struct op *ops;
		uint64_t seq;
		bool stop;
		int err;

		until = rt_deadline_ms(backoff_ms ? backoff_ms
						  : d->conf.flush_ms);
		pthread_mutex_lock(&d->lock);
		if (!d->stop && !d->flush_want && d->nops < WAKE_OPS)
			pthread_cond_timedwait(&d->wake, &d->lock, &until);
		drain_events(d);
		ops = d->head;
		d->head = NULL;
		d->tail = &d->head;
		d->nops = 0;
		seq = d->enq_seq;
		d->flush_want = false;
		stop = d->stop;
		pthread_mutex_unlock(&d->lock);

		err = write_batch(d, ops);
		if (err) {
			/* Kept, in order, ahead of what came since. */
			rt_error("writing DNI sessions failed; will retry",
				 "err=\"%s\"", strerror(err));
			pthread_mutex_lock(&d->lock);
			if (ops) {
				struct op *last = ops;
				size_t n = 1;

				while (last->next) {
					last = last->next;
					n++;
				}
				last->next = d->head;
				if (!d->head)
					d->tail = &last->next;
				d->head = ops;
				d->nops += n;
			}
			pthread_mutex_unlock(&d->lock);
			backoff_ms = backoff_ms ? backoff_ms * 2 : 100;
			if (backoff_ms > 5000)
				backoff_ms = 5000;
			if (stop && backoff_ms >= 1600)
				break; /* stopping: give up after a few tries */
			continue;
		}
		backoff_ms = 0;
		while (ops) {
			struct op *next = ops->next;

			op_free(ops);
			ops = next;
		}
		pthread_mutex_lock(&d->lock);
		d->done_seq = seq;
		pthread_cond_broadcast(&d->written);
		if (stop && !d->head) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		pthread_mutex_unlock(&d->lock);
		if (!stop && rt_mono_us() - last_sweep >= SWEEP_MS * 1000ull) {
			last_sweep = rt_mono_us();
			sweep(d, rt_now_ms());
		}
	}
	return NULL;
}

int rt_dni_flush(struct rt_dni *d, uint64_t timeout_ms)
{
	struct timespec until;
	uint64_t seq;
	int err = 0;

	until = rt_deadline_ms(timeout_ms);
	pthread_mutex_lock(&d->lock);
	seq = d->enq_seq;
	d->flush_want = true;
	pthread_cond_signal(&d->wake);
	while (d->done_seq < seq && !err)
		err = pthread_cond_timedwait(&d->written, &d->lock, &until);
	pthread_mutex_unlock(&d->lock);
	return err == ETIMEDOUT ? EAGAIN : err;
}

/* ---- start and stop ----------------------------------------------------- */

struct restore {
	struct rt_dni *d;
	int64_t now;
	size_t sessions, leases;
};

static int restore_row(const struct rt_dni_session *s, void *arg)
{
	struct restore *r = arg;
	struct rt_dni *d = r->d;
	const struct spool *pool = NULL;
	struct acct *a;
	struct live *l;
	bool leased = false;

	if (acct_get(d, NULL, s->account_id, &a))
		return 0; /* the account is gone: the sweep ends nothing */
	pool = s->pool_id ? pool_of(a, s->pool_id) : NULL;
	if (pool && s->number_id && strcmp(s->number_kind, "pool") == 0) {
		struct rt_lease lease = {s->number_id, s->id, s->pool_id,
					 s->created_at, s->lease_flags};

		leased = rt_lease_restore(d->leases, &lease, s->last_seen_at) ==
			 0;
	}
	pthread_mutex_lock(&d->lock);
	l = live_add(d, s->id);
	if (l) {
		l->account_id = s->account_id;
		l->visitor = visitor_key(s->account_id, s->visitor_id);
		l->pool_id = s->pool_id;
		l->number_id = s->number_id;
		l->kind = leased				  ? KIND_POOL
			  : strcmp(s->number_kind, "source") == 0 ? KIND_SOURCE
								  : KIND_NONE;
		l->flags = (uint8_t)s->lease_flags;
		l->facts = facts_pack(&s->src);
		l->last_seen = l->last_written = s->last_seen_at;
		l->ttl_s = (uint32_t)((pool ? (uint64_t)pool->p.session_ttl
					    : SESSION_TTL_DEF) /
				      1000);
		rt_idmap_put(&d->by_visitor, l->visitor, s->id);
		r->sessions++;
		r->leases += leased;
	}
	pthread_mutex_unlock(&d->lock);
	acct_put(a);
	return l ? 0 : ENOMEM;
}

static int restore(struct rt_dni *d)
{
	struct restore r = {d, rt_now_ms(), 0, 0};
	struct rt_store_tx *tx;
	int err;

	err = rt_store_begin(d->store, false, &tx);
	if (err)
		return err;
	/* Nothing idle longer than the longest session timeout is live. */
	err = rt_store_dni_session_open(tx, r.now - RT_DNI_POOL_DURATION_MAX,
					restore_row, &r);
	rt_store_rollback(tx);
	if (!err)
		rt_info("sessions restored", "sessions=%zu leases=%zu",
			r.sessions, r.leases);
	return err;
}

int rt_dni_start(struct rt_dni **dp, struct rt_store *store,
		 const struct rt_dni_conf *conf)
{
	struct rt_dni *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return ENOMEM;
	d->store = store;
	d->conf = *conf;
	if (!d->conf.flush_ms)
		d->conf.flush_ms = 100;
	d->started_at = rt_now_ms();
	d->tail = &d->head;
	pthread_mutex_init(&d->cache_lock, NULL);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	pthread_cond_init(&d->written, NULL);
	err = rt_dni_sites_load(&d->sites);
	if (!err)
		err = rt_lease_engine_alloc(&d->leases, conf->grace_ms);
	if (!err)
		err = restore(d);
	if (!err) {
		err = pthread_create(&d->writer, NULL, writer_main, d);
		d->writer_started = err == 0;
	}
	if (err) {
		rt_dni_stop(d);
		return err;
	}
	*dp = d;
	return 0;
}

void rt_dni_stop(struct rt_dni *d)
{
	if (!d)
		return;
	if (d->writer_started) {
		pthread_mutex_lock(&d->lock);
		d->stop = true;
		pthread_cond_signal(&d->wake);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->writer, NULL);
	}
	while (d->head) {
		struct op *next = d->head->next;

		op_free(d->head);
		d->head = next;
	}
	for (size_t i = 0; i < d->naccts; i++)
		acct_put(d->accts[i]);
	free(d->accts);
	for (size_t i = 0; i < d->live_cap; i++) {
		if (d->live[i].id)
			free(d->live[i].facts);
	}
	free(d->live);
	rt_idmap_release(&d->by_key);
	rt_idmap_release(&d->by_acct);
	rt_idmap_release(&d->by_id);
	rt_idmap_release(&d->by_visitor);
	rt_idmap_release(&d->by_ended);
	for (size_t i = 0; i < ENDED_FACTS; i++)
		free(d->ended[i].facts);
	rt_lease_engine_free(d->leases);
	rt_dni_sites_free(d->sites);
	pthread_cond_destroy(&d->wake);
	pthread_cond_destroy(&d->written);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->cache_lock);
	free(d);
}
