/*
 * The lease engine: numbers given and kept, cool-down, expiry, overflow
 * marking, "who held number N at time T", events for the writer, restore
 * after a restart, health figures, and many threads at once.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dni/dni.h"
#include "util/util.h"

#define MIN   60000LL
#define T0    1800000000000LL /* a fixed clock: 2027-01-15 */
#define GRACE (2 * MIN)

static struct rt_lease_engine *engine(int64_t pool, const int64_t *nums,
				      size_t n)
{
	struct rt_lease_pool_conf c = {.pool_id = pool,
				       .ttl_ms = 30 * MIN,
				       .cooldown_ms = 5 * MIN};
	struct rt_lease_engine *e;

	assert_int_equal(rt_lease_engine_alloc(&e, GRACE), 0);
	assert_int_equal(rt_lease_pool_set(e, &c, nums, n), 0);
	return e;
}

static int64_t take(struct rt_lease_engine *e, int64_t pool, int64_t session,
		    int64_t now, unsigned *flags)
{
	struct rt_lease l;

	assert_int_equal(rt_lease_acquire(e, pool, session, now, &l), 0);
	assert_int_equal(l.session_id, session);
	if (flags)
		*flags = l.flags;
	return l.number_id;
}

static void test_keeps_and_spreads(void **state)
{
	static const int64_t nums[] = {101, 102, 103};
	struct rt_lease_engine *e = engine(7, nums, 3);
	unsigned f;
	int64_t a, b, c;
	struct rt_lease l;
	(void)state;

	a = take(e, 7, 1, T0, &f);
	assert_true(f & RT_LEASE_NEW);
	b = take(e, 7, 2, T0 + 1, NULL);
	c = take(e, 7, 3, T0 + 2, NULL);
	assert_true(a != b && b != c && a != c);
	/* The same visitor, later: the same number, renewed, not new. */
	assert_int_equal(take(e, 7, 1, T0 + 10 * MIN, &f), a);
	assert_false(f & RT_LEASE_NEW);
	assert_int_equal(rt_lease_get(e, 1, &l), 0);
	assert_int_equal(l.number_id, a);
	assert_int_equal(l.started_at, T0);

	assert_int_equal(rt_lease_acquire(e, 99, 5, T0, &l), ENOENT);
	rt_lease_engine_free(e);
}

static void test_cooldown_and_order(void **state)
{
	static const int64_t nums[] = {101, 102};
	struct rt_lease_engine *e = engine(7, nums, 2);
	int64_t a, b;
	unsigned f;
	(void)state;

	a = take(e, 7, 1, T0, NULL);
	b = take(e, 7, 2, T0, NULL);
	assert_int_equal(rt_lease_end(e, 1, T0 + MIN), 0);
	assert_int_equal(rt_lease_end(e, 2, T0 + 2 * MIN), 0);
	assert_int_equal(rt_lease_end(e, 2, T0 + 2 * MIN), ENOENT);

	/* Both resting: a new visitor within the cool-down gets the one
	 * released longest ago, marked EARLY. */
	assert_int_equal(take(e, 7, 3, T0 + 3 * MIN, &f), a);
	assert_true(f & RT_LEASE_EARLY);
	assert_false(f & RT_LEASE_SHARED);
	/* Past b's cool-down, b is free and goes out normally. */
	assert_int_equal(take(e, 7, 4, T0 + 8 * MIN, &f), b);
	assert_false(f & (RT_LEASE_EARLY | RT_LEASE_SHARED));
	rt_lease_engine_free(e);
}

static void test_expiry(void **state)
{
	static const int64_t nums[] = {101};
	struct rt_lease_engine *e = engine(7, nums, 1);
	struct rt_lease l;
	struct rt_lease_who w;
	unsigned f;
	(void)state;

	take(e, 7, 1, T0, NULL);
	assert_int_equal(rt_lease_touch(e, 1, T0 + 20 * MIN), 0);
	/* Alive 30 minutes after the last touch, not after the start. */
	assert_int_equal(rt_lease_sweep(e, T0 + 40 * MIN), 0);
	assert_int_equal(rt_lease_sweep(e, T0 + 50 * MIN), 1);
	assert_int_equal(rt_lease_get(e, 1, &l), ENOENT);
	assert_int_equal(rt_lease_touch(e, 1, T0 + 51 * MIN), ENOENT);
	/* It ended when it went idle: a call at 49 minutes was its. */
	assert_int_equal(rt_lease_who(e, 101, T0 + 49 * MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_EXACT);
	assert_int_equal(w.sessions[0], 1);

	/* A lease past its ttl but not swept yet is renewed as new. */
	take(e, 7, 2, T0 + 60 * MIN, NULL);
	take(e, 7, 2, T0 + 100 * MIN, &f);
	assert_true(f & RT_LEASE_NEW);
	rt_lease_engine_free(e);
}

static void test_overflow_shares(void **state)
{
	static const int64_t nums[] = {101, 102};
	struct rt_lease_engine *e = engine(7, nums, 2);
	struct rt_lease_health h;
	struct rt_lease_who w;
	struct rt_lease l;
	int64_t a, c;
	unsigned f;
	(void)state;

	a = take(e, 7, 1, T0, NULL);
	take(e, 7, 2, T0 + MIN, NULL);
	assert_int_equal(rt_lease_touch(e, 2, T0 + 2 * MIN), 0);
	/* Every number taken: the least recently active one is shared, and
	 * both its holders know. */
	c = take(e, 7, 3, T0 + 3 * MIN, &f);
	assert_int_equal(c, a);
	assert_true(f & RT_LEASE_SHARED);
	assert_int_equal(rt_lease_get(e, 1, &l), 0);
	assert_true(l.flags & RT_LEASE_SHARED);

	assert_int_equal(rt_lease_who(e, a, T0 + 4 * MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_SHARED);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.sessions[0], 3); /* the most recent first */
	assert_int_equal(w.sessions[1], 1);
	/* Before the second lease began, only the first held it. */
	assert_int_equal(rt_lease_who(e, a, T0 + 2 * MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_EXACT);

	assert_int_equal(rt_lease_health(e, 7, &h), 0);
	assert_int_equal(h.numbers, 2);
	assert_int_equal(h.live, 3);
	assert_int_equal(h.peak, 3);
	assert_int_equal(h.leases, 3);
	assert_int_equal(h.overflows, 1);
	assert_int_equal(h.recommended, 4);

	/* At most RT_LEASE_HOLDERS_MAX sharers; then no lease at all. */
	for (int64_t s = 4; s < 4 + 2 * RT_LEASE_HOLDERS_MAX - 3; s++)
		take(e, 7, s, T0 + 5 * MIN, NULL);
	assert_int_equal(rt_lease_acquire(e, 7, 100, T0 + 6 * MIN, &l), ENOSPC);
	rt_lease_engine_free(e);
}

static void test_who_grace_and_history(void **state)
{
	static const int64_t nums[] = {101};
	struct rt_lease_engine *e = engine(7, nums, 1);
	struct rt_lease_who w;
	(void)state;

	assert_int_equal(rt_lease_who(e, 101, T0, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_NONE);
	assert_int_equal(rt_lease_who(e, 555, T0, &w), ENOENT);

	take(e, 7, 1, T0, NULL);
	assert_int_equal(rt_lease_who(e, 101, T0 + MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_EXACT);
	assert_int_equal(rt_lease_end(e, 1, T0 + 10 * MIN), 0);

	/* Just after: grace.  Later: nobody.  During: still session 1. */
	assert_int_equal(rt_lease_who(e, 101, T0 + 11 * MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_GRACE);
	assert_int_equal(w.sessions[0], 1);
	assert_int_equal(rt_lease_who(e, 101, T0 + 13 * MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_NONE);
	assert_int_equal(rt_lease_who(e, 101, T0 + 5 * MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_EXACT);
	assert_string_equal(rt_lease_confidence_name(w.confidence), "exact");

	/* A later holder, in grace of the first: the live one is exact. */
	take(e, 7, 2, T0 + 16 * MIN, NULL);
	assert_int_equal(rt_lease_who(e, 101, T0 + 16 * MIN, &w), 0);
	assert_int_equal(w.confidence, RT_WHO_EXACT);
	assert_int_equal(w.sessions[0], 2);
	rt_lease_engine_free(e);
}

static void test_events_and_restore(void **state)
{
	static const int64_t nums[] = {101, 102};
	struct rt_lease_engine *e = engine(7, nums, 2), *e2;
	struct rt_lease_event ev[16];
	struct rt_lease l, saved;
	struct rt_lease_who w;
	size_t n;
	(void)state;

	take(e, 7, 1, T0, NULL);
	assert_int_equal(rt_lease_touch(e, 1, T0 + 10000), 0);	 /* quiet */
	assert_int_equal(rt_lease_touch(e, 1, T0 + 2 * MIN), 0); /* event */
	assert_int_equal(rt_lease_get(e, 1, &saved), 0);
	assert_int_equal(rt_lease_end(e, 1, T0 + 3 * MIN), 0);
	n = rt_lease_drain(e, ev, 2);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].kind, RT_LEASE_EV_START);
	assert_int_equal(ev[0].lease.session_id, 1);
	assert_int_equal(ev[1].kind, RT_LEASE_EV_TOUCH);
	assert_int_equal(ev[1].at, T0 + 2 * MIN);
	n = rt_lease_drain(e, ev, 16);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].kind, RT_LEASE_EV_END);
	assert_int_equal(rt_lease_drain(e, ev, 16), 0);
	rt_lease_engine_free(e);

	/* After a restart, an open lease read back from the store is the
	 * visitor's again, and calls find it. */
	e2 = engine(7, nums, 2);
	assert_int_equal(rt_lease_restore(e2, &saved, T0 + 2 * MIN), 0);
	assert_int_equal(rt_lease_restore(e2, &saved, T0 + 2 * MIN), EEXIST);
	assert_int_equal(take(e2, 7, 1, T0 + 4 * MIN, NULL), saved.number_id);
	assert_int_equal(rt_lease_who(e2, saved.number_id, T0 + 4 * MIN, &w),
			 0);
	assert_int_equal(w.confidence, RT_WHO_EXACT);
	assert_int_not_equal(take(e2, 7, 2, T0 + 4 * MIN, NULL),
			     saved.number_id);
	assert_int_equal(rt_lease_drain(e2, ev, 16), 1); /* only session 2 */
	l.pool_id = 8;
	assert_int_equal(rt_lease_restore(e2, &l, T0), ENOENT);
	rt_lease_engine_free(e2);
}

static void test_many_sessions(void **state)
{
	int64_t nums[600];
	struct rt_lease_engine *e;
	struct rt_lease l;
	struct rt_lease_who w;
	(void)state;

	for (int i = 0; i < 600; i++)
		nums[i] = 1000 + i;
	e = engine(7, nums, 600);
	/* 2000 visitors: past the table's first size, so it is rehashed
	 * while numbers point at their holders. */
	for (int64_t s = 1; s <= 2000; s++)
		assert_int_equal(rt_lease_acquire(e, 7, s, T0 + s, &l), 0);
	for (int64_t s = 1; s <= 2000; s++) {
		assert_int_equal(rt_lease_get(e, s, &l), 0);
		assert_int_equal(rt_lease_who(e, l.number_id, T0 + 3000, &w),
				 0);
		assert_true(w.n >= 1);
		bool found = false;
		for (size_t i = 0; i < w.n; i++)
			found = found || w.sessions[i] == s;
		assert_true(found);
	}
	assert_int_equal(rt_lease_sweep(e, T0 + 3000 + 31 * MIN), 2000);
	rt_lease_engine_free(e);
}

/* Many threads leasing, touching, ending and sweeping one pool at once. */
struct worker {
	struct rt_lease_engine *e;
	int id;
	unsigned errors;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t x = 88172645463325252ull + (uint64_t)w->id;

	for (int i = 0; i < 20000; i++) {
		int64_t session = w->id * 100000 + (int64_t)(x % 200);
		int64_t now = T0 + i * 1000;
		struct rt_lease l;
		int err;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (x % 8) {
		case 0:
			rt_lease_end(w->e, session, now);
			break;
		case 1:
			rt_lease_touch(w->e, session, now);
			break;
		case 2:
			rt_lease_sweep(w->e, now);
			break;
		default:
			err = rt_lease_acquire(w->e, 7, session, now, &l);
			if (err && err != ENOSPC)
				w->errors++;
			break;
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	int64_t nums[40];
	struct rt_lease_engine *e;
	struct worker w[4];
	pthread_t t[4];
	struct rt_lease_health h;
	struct rt_lease_event ev[256];
	(void)state;

	for (int i = 0; i < 40; i++)
		nums[i] = 500 + i;
	e = engine(7, nums, 40);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.e = e, .id = i + 1};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	/* The books balance: live leases are the sessions that have one. */
	assert_int_equal(rt_lease_health(e, 7, &h), 0);
	{
		size_t live = 0;

		for (int i = 0; i < 4; i++) {
			for (int s = 0; s < 200; s++) {
				struct rt_lease l;

				if (rt_lease_get(e, (i + 1) * 100000 + s, &l) ==
				    0)
					live++;
			}
		}
		assert_int_equal(live, h.live);
	}
	assert_true(h.peak <= 4 * 200);
	while (rt_lease_drain(e, ev, 256))
		;
	assert_int_equal(rt_lease_sweep(e, T0 + 20000 * 1000 + 31 * MIN),
			 h.live);
	rt_lease_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeps_and_spreads),
		cmocka_unit_test(test_cooldown_and_order),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_overflow_shares),
		cmocka_unit_test(test_who_grace_and_history),
		cmocka_unit_test(test_events_and_restore),
		cmocka_unit_test(test_many_sessions),
		cmocka_unit_test(test_threads),
	};

	rt_log_set_level(RT_LOG_ERROR);
	return cmocka_run_group_tests_name("lease", tests, NULL, NULL);
}
