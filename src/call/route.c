/*
 * Routing calls: a snapshot of every account's active numbers (E.164 ->
 * account, number, kind, destination), sorted for binary search, read by a
 * loader thread and swapped in whole under a lock held only for the swap
 * and the search.  The SIP thread never reads the store.
 *
 * The call service (service.c) asks it where each call goes.
 *
 * Call flows: the snapshot also holds the flow of each number (its own,
 * else its pool's), compiled once per version and shared by reference with
 * the calls that run it; a user target's phone is looked up at load; the
 * flow's prompts are queued for rendering at load, so that a call rarely
 * waits for one, and the uploaded audio files it plays are read from the
 * store into the prompt cache and held by the flow.  The round robin's counters
 * live here, in memory, loaded from the store and written back by the call
 * service's writer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "call/call.h"
#include "media/prompt.h"
#include "util/phone.h"

#define RT_LOG_MODULE "call"

#define RT_CALL_RELOAD_MS 10000 /* the CLI changes numbers behind the API */

struct entry {
	char e164[20];
	int64_t account_id, number_id;
	char kind[16];
	char label[64];
	char destination[256];
	bool usable; /* the account and those above it are active */
	bool record;
	int64_t flow_id, pool_id, root; /* root: the scope it was read in */
	size_t acct;			/* index in snap->accts */
	/* A source number's source and medium; an offline one's campaign. */
	char source[64], medium[64], campaign[64];
};

struct acct {
	int64_t id;
	char tz[64];
	bool disclosure;
};

struct sflow {
	int64_t id;
	struct rt_flow *f; /* a reference */
};

struct snap {
	struct entry *e;
	size_t n, cap;
	struct acct *accts; /* by id */
	size_t naccts, accts_cap;
	struct sflow *flows; /* by id */
	size_t nflows;
};

/* A round robin's place: flow, dial step, next. */
struct rr {
	int64_t flow_id;
	char step[RT_FLOW_ID_MAX];
	uint64_t next;
};

struct rt_call_router {
	struct rt_store *store;
	struct rt_prompts *prompts;
	pthread_mutex_t lock; /* guards snap, changed, stop */
	pthread_cond_t wake;
	struct snap *snap;
	bool changed, stop;
	pthread_t thread;
	pthread_mutex_t rr_lock; /* guards rr */
	struct rr *rr;
	size_t nrr, rr_cap;
};

static void snap_free(struct snap *s)
{
	if (s) {
		for (size_t i = 0; i < s->nflows; i++)
			rt_flow_unref(s->flows[i].f);
		free(s->flows);
		free(s->accts);
		free(s->e);
		free(s);
	}
}

/* ---- loading ----------------------------------------------------------- */

struct load {
	struct rt_call_router *r;
	const struct snap *prev; /* its compiled flows are reused */
	struct rt_store_tx *tx;
	struct snap *s;
	int64_t *roots;
	size_t nroots, roots_cap;
	int64_t root; /* whose numbers are read */
	int64_t last;
	unsigned rows;
	/* pools' flows: pool id, flow id */
	int64_t (*pools)[2];
	size_t npools, pools_cap;
};

static int account_row(const struct rt_account *a, void *arg)
{
	struct load *l = arg;
	struct acct *x;

	l->last = a->id;
	l->rows++;
	if (l->s->naccts == l->s->accts_cap) {
		size_t cap = l->s->accts_cap ? l->s->accts_cap * 2 : 16;

		x = realloc(l->s->accts, cap * sizeof(*x));
		if (!x)
			return ENOMEM;
		l->s->accts = x;
		l->s->accts_cap = cap;
	}
	x = &l->s->accts[l->s->naccts++];
	x->id = a->id;
	rt_strlcpy(x->tz, a->time_zone, sizeof(x->tz));
	x->disclosure = a->recording_disclosure;
	if (a->parent_id)
		return 0;
	if (l->nroots == l->roots_cap) {
		size_t cap = l->roots_cap ? l->roots_cap * 2 : 16;
		int64_t *n = realloc(l->roots, cap * sizeof(*n));

		if (!n)
			return ENOMEM;
		l->roots = n;
		l->roots_cap = cap;
	}
	l->roots[l->nroots++] = a->id;
	return 0;
}

static int number_row(const struct rt_number *n, void *arg)
{
	struct load *l = arg;
	struct entry *e;

	l->last = n->id;
	l->rows++;
	if (strcmp(n->status, "active") != 0)
		return 0;
	if (l->s->n == l->s->cap) {
		size_t cap = l->s->cap ? l->s->cap * 2 : 64;
		struct entry *x = realloc(l->s->e, cap * sizeof(*x));

		if (!x)
			return ENOMEM;
		l->s->e = x;
		l->s->cap = cap;
	}
	e = &l->s->e[l->s->n++];
	memset(e, 0, sizeof(*e));
	rt_strlcpy(e->e164, n->e164, sizeof(e->e164));
	e->account_id = n->account_id;
	e->number_id = n->id;
	rt_strlcpy(e->kind, n->kind, sizeof(e->kind));
	rt_strlcpy(e->label, n->label, sizeof(e->label));
	rt_strlcpy(e->destination, n->destination, sizeof(e->destination));
	e->record = !n->record_off;
	e->flow_id = n->flow_id;
	e->pool_id = n->pool_id;
	e->root = l->root;
	if (strcmp(n->kind, "source") == 0) {
		rt_strlcpy(e->source, n->source, sizeof(e->source));
		rt_strlcpy(e->medium, n->medium, sizeof(e->medium));
	} else if (strcmp(n->kind, "offline") == 0) {
		rt_strlcpy(e->campaign, n->campaign, sizeof(e->campaign));
	}
	/* Filled in below, once per account. */
	e->usable = true;
	return 0;
}

static int pool_row(const struct rt_pool *p, void *arg)
{
	struct load *l = arg;

	l->last = p->id;
	l->rows++;
	if (!p->flow_id)
		return 0;
	if (l->npools == l->pools_cap) {
		size_t cap = l->pools_cap ? l->pools_cap * 2 : 16;
		int64_t(*x)[2] = realloc(l->pools, cap * sizeof(*x));

		if (!x)
			return ENOMEM;
		l->pools = x;
		l->pools_cap = cap;
	}
	l->pools[l->npools][0] = p->id;
	l->pools[l->npools][1] = p->flow_id;
	l->npools++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The round robin's counter of a flow's dial step, found or added at 0
 * (under rr_lock); NULL on ENOMEM. */
static struct rr *rr_slot(struct rt_call_router *r, int64_t flow_id,
			  const char *step)
{
	struct rr *x;

	for (size_t i = 0; i < r->nrr; i++) {
		if (r->rr[i].flow_id == flow_id &&
		    strcmp(r->rr[i].step, step) == 0)
			return &r->rr[i];
	}
	if (r->nrr == r->rr_cap) {
		size_t cap = r->rr_cap ? r->rr_cap * 2 : 16;

		x = realloc(r->rr, cap * sizeof(*x));
		if (!x)
			return NULL;
		r->rr = x;
		r->rr_cap = cap;
	}
	x = &r->rr[r->nrr++];
	x->flow_id = flow_id;
	rt_strlcpy(x->step, step, sizeof(x->step));
	x->next = 0;
	return x;
}

/* Counters of the round robin read from the store: kept unless memory
 * is ahead (calls counted since, not yet written). */
static int counter_row(const char *step, int64_t next, void *arg)
{
	struct load *l = arg;
	struct rr *x;

	pthread_mutex_lock(&l->r->rr_lock);
	x = rr_slot(l->r, l->last, step);
	if (x && (uint64_t)next > x->next)
		x->next = (uint64_t)next;
	pthread_mutex_unlock(&l->r->rr_lock);
	return x ? 0 : ENOMEM;
}

/* Queues a flow's text prompts for rendering (they stay cached). */
static void prerender(struct rt_prompts *p, struct rt_flow *f)
{
	for (size_t i = 0; p && i < f->n; i++) {
		struct rt_flow_prompt *pr[2];
		const char *field[2];
		size_t n = rt_flow_step_prompts(&f->steps[i], pr, field);

		for (size_t k = 0; k < n; k++) {
			const struct rt_prompt *out;

			if (pr[k]->text &&
			    rt_prompts_get(p, pr[k]->text, &out) == 0)
				rt_prompts_release(p, out);
		}
	}
}

/* The flow's release hook: the audio its prompts held. */
static void audio_release(struct rt_flow *f, void *arg)
{
	struct rt_prompts *p = arg;

	for (size_t i = 0; i < f->n; i++) {
		struct rt_flow_prompt *pr[2];
		const char *field[2];
		size_t n = rt_flow_step_prompts(&f->steps[i], pr, field);

		for (size_t k = 0; k < n; k++) {
			rt_prompts_release(p, pr[k]->audio);
			pr[k]->audio = NULL;
		}
	}
}

/*
 * The uploaded audio files a new flow's prompts play, each from the
 * prompt cache or else read from the store, held by the flow until it is
 * freed.  Only files of the flow's own account (a save checks that; a
 * file deleted or moved since is not played): the cache is shared by
 * every account.  A file that cannot be read is left out, its prompt
 * skipped on calls.
 */
static int audio_load(struct load *l, int64_t root, int64_t account_id,
		      struct rt_flow *f)
{
	struct rt_prompts *p = l->r->prompts;
	int err = 0;

	if (!p)
		return 0;
	f->release_h = audio_release;
	f->release_arg = p;
	for (size_t i = 0; !err && i < f->n; i++) {
		struct rt_flow_prompt *pr[2];
		const char *field[2];
		size_t n = rt_flow_step_prompts(&f->steps[i], pr, field);

		for (size_t k = 0; !err && k < n; k++) {
			struct rt_audio_row a;
			int16_t *pcm = NULL;
			size_t ns = 0;

			if (!pr[k]->audio_id)
				continue;
			err = rt_store_audio_get(l->tx, root, pr[k]->audio_id,
						 &a);
			if (!err && a.account_id != account_id)
				err = ENOENT;
			if (!err && rt_prompts_audio_get(p, pr[k]->audio_id,
							 &pr[k]->audio) == 0)
				continue;
			if (!err)
				err = rt_store_audio_pcm(l->tx, root,
							 pr[k]->audio_id, &pcm,
							 &ns);
			if (!err && !ns)
				err = ENOENT;
			if (!err)
				err = rt_prompts_audio_put(p, pr[k]->audio_id,
							   pcm, ns,
							   &pr[k]->audio);
			else
				free(pcm);
			if (err == ENOENT) {
				rt_warn("flow plays an audio file it cannot "
					"have: skipped on calls",
					"flow=%lld step=%s audio=%lld",
					(long long)f->id, f->steps[i].id,
					(long long)pr[k]->audio_id);
				err = 0;
			}
		}
	}
	return err;
}

/* A flow's latest version, compiled (or the previous snapshot's when its
 * version has not changed).  A flow that no longer compiles (it always
 * did when saved) is left out: its numbers forward as without a flow. */
static int flow_load(struct load *l, int64_t root, int64_t id,
		     struct rt_flow **fp)
{
	struct rt_flow_row row;
	struct rt_flow_problems *pr = NULL;
	struct rt_flow *f = NULL;
	json_t *doc = NULL;
	char *text = NULL;
	int err;

	*fp = NULL;
	err = rt_store_flow_get(l->tx, root, id, &row);
	if (err)
		return err == ENOENT ? 0 : err;
	for (size_t i = 0; l->prev && i < l->prev->nflows; i++) {
		if (l->prev->flows[i].id == id &&
		    l->prev->flows[i].f->version == row.version) {
			*fp = rt_flow_ref(l->prev->flows[i].f);
			goto counters;
		}
	}
	err = rt_store_flow_doc(l->tx, root, id, row.version, &text);
	if (err)
		goto out;
	doc = json_loads(text, 0, NULL);
	pr = malloc(sizeof(*pr));
	err = pr ? 0 : ENOMEM;
	if (!err && doc)
		err = rt_flow_compile(doc, &f, pr);
	if (!doc || err == EINVAL) {
		rt_warn("flow does not compile: its numbers forward",
			"flow=%lld version=%lld", (long long)id,
			(long long)row.version);
		err = 0;
		goto out;
	}
	if (err)
		goto out;
	f->id = id;
	f->version = row.version;
	/* Users are called at their phones, looked up now. */
	for (size_t i = 0; i < f->n; i++) {
		struct rt_flow_step *st = &f->steps[i];

		for (size_t k = 0; st->type == RT_FLOW_DIAL && k < st->u.dial.n;
		     k++) {
			struct rt_flow_target *t = &st->u.dial.targets[k];
			char phone[256];

			if (t->kind != RT_TARGET_USER || t->value)
				continue;
			if (rt_store_user_phone(l->tx, t->user_id, phone,
						sizeof(phone)) == 0 &&
			    phone[0])
				t->value = strdup(phone);
		}
	}
	prerender(l->r->prompts, f);
	err = audio_load(l, root, row.account_id, f);
	if (err)
		goto out;
	*fp = f;
	f = NULL;
counters:
	l->last = id;
	err = rt_store_flow_counters(l->tx, id, counter_row, l);
out:
	rt_flow_unref(f);
	if (err) {
		rt_flow_unref(*fp);
		*fp = NULL;
	}
	json_decref(doc);
	free(text);
	free(pr);
	return err;
}

static int flows_load(struct load *l)
{
	int64_t(*want)[2] = NULL; /* flow id, root */
	size_t n = 0;
	int err = 0;

	if (l->npools)
		qsort(l->pools, l->npools, sizeof(*l->pools), by_id);
	want = l->s->n ? malloc(l->s->n * sizeof(*want)) : NULL;
	if (l->s->n && !want)
		return ENOMEM;
	for (size_t i = 0; i < l->s->n; i++) {
		struct entry *e = &l->s->e[i];
		struct acct key = {.id = e->account_id}, *a;

		a = l->s->naccts ? bsearch(&key, l->s->accts, l->s->naccts,
					   sizeof(*l->s->accts), by_id)
				 : NULL;
		e->acct = a ? (size_t)(a - l->s->accts) : SIZE_MAX;
		if (!e->flow_id && e->pool_id) {
			int64_t(*p)[2] =
				!l->npools ? NULL
					   : bsearch(&e->pool_id, l->pools,
						     l->npools,
						     sizeof(*l->pools), by_id);

			if (p)
				e->flow_id = (*p)[1];
		}
		if (e->flow_id) {
			want[n][0] = e->flow_id;
			want[n][1] = e->root;
			n++;
		}
	}
	if (n)
		qsort(want, n, sizeof(*want), by_id);
	l->s->flows = n ? calloc(n, sizeof(*l->s->flows)) : NULL;
	if (n && !l->s->flows)
		err = ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		struct sflow *sf = &l->s->flows[l->s->nflows];

		if (i && want[i][0] == want[i - 1][0])
			continue;
		err = flow_load(l, want[i][1], want[i][0], &sf->f);
		if (!err && sf->f) {
			sf->id = want[i][0];
			l->s->nflows++;
		}
	}
	free(want);
	return err;
}

static int by_e164(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->e164,
		      ((const struct entry *)b)->e164);
}

static int by_account(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->account_id > y->account_id) -
	       (x->account_id < y->account_id);
}

/* Every live number, through the root accounts (a root's scope is its
 * whole tree). */
static int load(struct rt_call_router *r, struct snap **out)
{
	struct rt_store *store = r->store;
	struct load l = {.r = r, .prev = r->snap};
	struct rt_page pg;
	int err;

	l.s = calloc(1, sizeof(*l.s));
	if (!l.s)
		return ENOMEM;
	err = rt_store_begin(store, false, &l.tx);
	if (err)
		goto out;
	for (pg.after = 0, pg.limit = 200; !err; pg.after = l.last) {
		l.rows = 0;
		err = rt_store_account_list_all(l.tx, &pg, account_row, &l);
		if (l.rows < pg.limit)
			break;
	}
	for (size_t i = 0; !err && i < l.nroots; i++) {
		l.root = l.roots[i];
		for (pg.after = 0, pg.limit = 200; !err; pg.after = l.last) {
			l.rows = 0;
			err = rt_store_number_list(l.tx, l.roots[i], 0, false,
						   &pg, number_row, &l);
			if (l.rows < pg.limit)
				break;
		}
		for (pg.after = 0, pg.limit = 200; !err; pg.after = l.last) {
			l.rows = 0;
			err = rt_store_pool_list(l.tx, l.roots[i], 0, &pg,
						 pool_row, &l);
			if (l.rows < pg.limit)
				break;
		}
	}
	if (!err && l.s->naccts)
		qsort(l.s->accts, l.s->naccts, sizeof(*l.s->accts), by_id);
	if (!err)
		err = flows_load(&l);
	/* Suspension is per account and inherited: asked once each. */
	if (!err && l.s->n) {
		qsort(l.s->e, l.s->n, sizeof(*l.s->e), by_account);
		for (size_t i = 0; i < l.s->n; i++) {
			struct entry *e = &l.s->e[i];

			if (i && e[-1].account_id == e->account_id)
				e->usable = e[-1].usable;
			else
				e->usable = rt_store_account_usable(
						    l.tx, e->account_id) == 0;
		}
		qsort(l.s->e, l.s->n, sizeof(*l.s->e), by_e164);
	}
	rt_store_rollback(l.tx);
out:
	free(l.pools);
	free(l.roots);
	if (err) {
		snap_free(l.s);
		return err;
	}
	*out = l.s;
	return 0;
}

static void *loader(void *arg)
{
	struct rt_call_router *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec until;
		struct snap *s = NULL, *old;
		int err;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += RT_CALL_RELOAD_MS / 1000;
		while (!r->changed && !r->stop &&
		       pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
			;
		if (r->stop)
			break;
		r->changed = false;
		pthread_mutex_unlock(&r->lock);
		err = load(r, &s);
		if (err)
			rt_warn("cannot read the numbers: routing goes on with "
				"the last snapshot",
				"err=\"%s\"", strerror(err));
		pthread_mutex_lock(&r->lock);
		if (!err) {
			old = r->snap;
			r->snap = s;
			/* Freed outside the lock: the SIP thread waits for no
			 * free(). */
			pthread_mutex_unlock(&r->lock);
			snap_free(old);
			pthread_mutex_lock(&r->lock);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int rt_call_router_start(struct rt_call_router **rp, struct rt_store *store,
			 struct rt_prompts *prompts)
{
	struct rt_call_router *r = calloc(1, sizeof(*r));
	struct snap *s = NULL;
	int err;

	if (!r)
		return ENOMEM;
	r->store = store;
	r->prompts = prompts;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->rr_lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	err = load(r, &s);
	r->snap = s;
	if (!err)
		err = pthread_create(&r->thread, NULL, loader, r);
	if (err) {
		snap_free(r->snap);
		pthread_cond_destroy(&r->wake);
		pthread_mutex_destroy(&r->rr_lock);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return err;
	}
	rt_info("call routing ready", "numbers=%zu", r->snap->n);
	*rp = r;
	return 0;
}

void rt_call_router_stop(struct rt_call_router *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	snap_free(r->snap);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->rr_lock);
	pthread_mutex_destroy(&r->lock);
	free(r->rr);
	free(r);
}

void rt_call_router_changed(struct rt_call_router *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->changed = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

size_t rt_call_router_size(struct rt_call_router *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->snap->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* ---- the hooks (SIP thread) ------------------------------------------- */

/* What a flow branches on that the number and the caller tell. */
static void facts_fill(const struct rt_sip_invite *in, const struct entry *e,
		       const struct acct *a, struct rt_sip_route *out)
{
	char(*v)[128] = out->facts;
	struct rt_phone ph;

	rt_strlcpy(out->tz, a->tz, sizeof(out->tz));
	out->disclosure_on = a->disclosure;
	rt_strlcpy(v[RT_FACT_TRACKING_NUMBER], in->dialled, sizeof(v[0]));
	rt_strlcpy(v[RT_FACT_NUMBER_NAME], e->label, sizeof(v[0]));
	if (in->caller[0] && rt_phone_parse(in->caller, NULL, &ph) == 0) {
		rt_strlcpy(v[RT_FACT_CALLER], ph.e164, sizeof(v[0]));
		rt_strlcpy(v[RT_FACT_COUNTRY], ph.region, sizeof(v[0]));
		rt_phone_area(ph.e164, v[RT_FACT_AREA_CODE], sizeof(v[0]),
			      v[RT_FACT_REGION], sizeof(v[0]));
		rt_phone_region_name(ph.e164, v[RT_FACT_CALLER_LOCATION],
				     sizeof(v[0]));
	}
	if (strcmp(e->kind, "source") == 0) {
		rt_strlcpy(v[RT_FACT_SOURCE], e->source, sizeof(v[0]));
		rt_strlcpy(v[RT_FACT_MEDIUM], e->medium, sizeof(v[0]));
		rt_strlcpy(v[RT_FACT_CONFIDENCE], "fixed", sizeof(v[0]));
	} else if (strcmp(e->kind, "offline") == 0) {
		rt_strlcpy(v[RT_FACT_SOURCE], "offline", sizeof(v[0]));
		rt_strlcpy(v[RT_FACT_MEDIUM], "offline", sizeof(v[0]));
		rt_strlcpy(v[RT_FACT_CAMPAIGN], e->campaign, sizeof(v[0]));
		rt_strlcpy(v[RT_FACT_CONFIDENCE], "fixed", sizeof(v[0]));
	}
}

unsigned rt_call_router_rr(struct rt_call_router *r, int64_t flow_id,
			   const char *step, size_t n, uint64_t *nextp)
{
	uint64_t at = 0;
	struct rr *x;

	pthread_mutex_lock(&r->rr_lock);
	x = rr_slot(r, flow_id, step);
	if (x) /* out of memory: every call starts at the first target */
		at = x->next++;
	*nextp = at + 1;
	pthread_mutex_unlock(&r->rr_lock);
	return n ? (unsigned)(at % n) : 0;
}

static void refuse(struct rt_sip_route *out, uint16_t status,
		   const char *reason)
{
	out->status = status;
	rt_strlcpy(out->reason, reason, sizeof(out->reason));
}

bool rt_call_router_find(struct rt_call_router *r,
			 const struct rt_sip_invite *in,
			 struct rt_sip_route *out, struct rt_call_target *t)
{
	struct entry key, *e, found;
	struct acct acct = {0};
	struct rt_flow *flow = NULL;
	bool hit = false;

	if (!in->dialled[0]) {
		refuse(out, 404, "not a phone number");
		return false;
	}
	rt_strlcpy(key.e164, in->dialled, sizeof(key.e164));
	pthread_mutex_lock(&r->lock);
	e = r->snap->n
		    ? bsearch(&key, r->snap->e, r->snap->n, sizeof(*e), by_e164)
		    : NULL;
	if (e) {
		found = *e;
		hit = true;
		if (e->acct != SIZE_MAX)
			acct = r->snap->accts[e->acct];
		/* flows are sorted by id (flows_load) */
		const struct sflow *sf =
			e->flow_id && r->snap->nflows
				? bsearch(&e->flow_id, r->snap->flows,
					  r->snap->nflows,
					  sizeof(*r->snap->flows), by_id)
				: NULL;

		if (sf)
			flow = rt_flow_ref(sf->f);
	}
	pthread_mutex_unlock(&r->lock);
	if (!hit) {
		refuse(out, 404, "number not in service");
		return false;
	}
	if (!found.usable) {
		rt_flow_unref(flow);
		refuse(out, 480, "account suspended");
		return false;
	}
	if (flow) {
		out->flow = flow;
		facts_fill(in, &found, &acct, out);
	} else if (!found.destination[0]) {
		refuse(out, 480, "number has no destination");
		return false;
	}
	rt_strlcpy(out->destination, found.destination,
		   sizeof(out->destination));
	/* The business sees which tracking number was called. */
	rt_strlcpy(out->display, found.label, sizeof(out->display));
	t->account_id = found.account_id;
	t->number_id = found.number_id;
	rt_strlcpy(t->kind, found.kind, sizeof(t->kind));
	t->record = found.record;
	return true;
}
