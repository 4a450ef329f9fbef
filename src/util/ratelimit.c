/*
 * Token buckets per key (a client address), in a fixed table: memory is
 * bounded whatever the number of clients, at the price that two busy keys
 * landing on the same neighbourhood may evict each other's bucket (which
 * only ever lets a client through, never blocks one wrongly).  Striped
 * locks keep threads apart.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "util/util.h"

#define SLOTS	8192
#define STRIPES 16
#define PROBE	8

struct bucket {
	uint64_t key;	/* 0: free */
	int64_t tokens; /* in thousandths of a request */
	int64_t at;	/* ms of the last refill */
};

struct rt_ratelimit {
	pthread_mutex_t lock[STRIPES];
	int64_t cap;	    /* burst, in thousandths */
	int64_t per_minute; /* refill */
	struct bucket b[SLOTS];
};

int rt_ratelimit_alloc(struct rt_ratelimit **rp, unsigned per_minute,
		       unsigned burst)
{
	struct rt_ratelimit *r = calloc(1, sizeof(*r));

	if (!r)
		return ENOMEM;
	for (size_t i = 0; i < STRIPES; i++)
		pthread_mutex_init(&r->lock[i], NULL);
	r->per_minute = per_minute;
	r->cap = (int64_t)(burst ? burst : 1) * 1000;
	*rp = r;
	return 0;
}

void rt_ratelimit_free(struct rt_ratelimit *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&r->lock[i]);
	free(r);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

static void refill(const struct rt_ratelimit *r, struct bucket *b, int64_t now)
{
	int64_t dt = now - b->at;

	if (dt <= 0)
		return;
	/* per_minute requests a minute is per_minute thousandths a 60 ms. */
	b->tokens += dt * r->per_minute / 60;
	if (b->tokens > r->cap)
		b->tokens = r->cap;
	b->at = now;
}

unsigned rt_ratelimit_take(struct rt_ratelimit *r, const char *key, int64_t now)
{
	uint64_t k = hash(key);
	size_t home = (size_t)(k % SLOTS), stripe = home / (SLOTS / STRIPES);
	struct bucket *b = NULL, *victim = NULL;
	unsigned wait = 0;

	if (r->per_minute == 0)
		return 0; /* off */
	pthread_mutex_lock(&r->lock[stripe]);
	/* The neighbourhood stays inside the stripe, so one lock covers it. */
	for (size_t i = 0; i < PROBE; i++) {
		size_t at = stripe * (SLOTS / STRIPES) +
			    (home + i) % (SLOTS / STRIPES);
		struct bucket *x = &r->b[at];

		if (x->key == k) {
			b = x;
			break;
		}
		if (x->key)
			refill(r, x, now);
		/* Reuse a free slot, else the fullest bucket (the idlest). */
		if (!victim ||
		    (victim->key && (!x->key || x->tokens > victim->tokens)))
			victim = x;
	}
	if (!b) {
		b = victim;
		b->key = k;
		b->tokens = r->cap;
		b->at = now;
	}
	refill(r, b, now);
	if (b->tokens >= 1000) {
		b->tokens -= 1000;
	} else {
		/* Seconds until one whole request has dripped in. */
		wait = (unsigned)(((1000 - b->tokens) * 60 / r->per_minute +
				   999) /
				  1000);
		if (wait == 0)
			wait = 1;
	}
	pthread_mutex_unlock(&r->lock[stripe]);
	return wait;
}
