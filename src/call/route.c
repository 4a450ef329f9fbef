/*
 * Routing calls: a snapshot of every account's active numbers (E.164 ->
 * account, number, kind, destination), sorted for binary search, read by a
 * loader thread and swapped in whole under a lock held only for the swap
 * and the search.  The SIP thread never reads the store.
 *
 * The call service (service.c) asks it where each call goes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "call/call.h"

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
};

struct snap {
	struct entry *e;
	size_t n, cap;
};

struct rt_call_router {
	struct rt_store *store;
	pthread_mutex_t lock; /* guards snap, changed, stop */
	pthread_cond_t wake;
	struct snap *snap;
	bool changed, stop;
	pthread_t thread;
};

static void snap_free(struct snap *s)
{
	if (s) {
		free(s->e);
		free(s);
	}
}

/* ---- loading ----------------------------------------------------------- */

struct load {
	struct rt_store_tx *tx;
	struct snap *s;
	int64_t *roots;
	size_t nroots, roots_cap;
	int64_t last;
	unsigned rows;
};

static int account_row(const struct rt_account *a, void *arg)
{
	struct load *l = arg;

	l->last = a->id;
	l->rows++;
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
	/* Filled in below, once per account. */
	e->usable = true;
	return 0;
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
static int load(struct rt_store *store, struct snap **out)
{
	struct load l = {0};
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
		for (pg.after = 0, pg.limit = 200; !err; pg.after = l.last) {
			l.rows = 0;
			err = rt_store_number_list(l.tx, l.roots[i], 0, false,
						   &pg, number_row, &l);
			if (l.rows < pg.limit)
				break;
		}
	}
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
		err = load(r->store, &s);
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

int rt_call_router_start(struct rt_call_router **rp, struct rt_store *store)
{
	struct rt_call_router *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return ENOMEM;
	r->store = store;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	err = load(store, &r->snap);
	if (!err)
		err = pthread_create(&r->thread, NULL, loader, r);
	if (err) {
		snap_free(r->snap);
		pthread_cond_destroy(&r->wake);
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
	pthread_mutex_destroy(&r->lock);
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
	}
	pthread_mutex_unlock(&r->lock);
	if (!hit) {
		refuse(out, 404, "number not in service");
		return false;
	}
	if (!found.usable) {
		refuse(out, 480, "account suspended");
		return false;
	}
	if (!found.destination[0]) {
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
