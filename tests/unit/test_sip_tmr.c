/*
 * libre's timers on our heap (src/sip/tmr.c), driven by libre's own loop:
 * re_main polls through the PLT, so these tests also show that libre binds
 * to our functions (its own tmr_poll would read the heap as a list and
 * crash).  The semantics are libre's: due timers run in time order, those
 * due the same millisecond in the order they were started; a handler may
 * start or cancel any timer, itself included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/libre.h"

#define N 20000

struct rec {
	struct tmr t;
	uint64_t due; /* jiffies it was due */
	uint32_t id;
	uint32_t order; /* start order among those due at `due` */
	bool cancelled;
	int fired;
};

static struct rec recs[N];
static uint32_t fired_ids[N];
static uint32_t n_fired;
static struct tmr stop_t;

static void stop_h(void *arg)
{
	(void)arg;
	re_cancel();
}

static void fire_h(void *arg)
{
	struct rec *r = arg;

	r->fired++;
	assert_true(n_fired < N);
	fired_ids[n_fired++] = r->id;
	assert_true(tmr_jiffies() >= r->due);
	/* libre clears th before calling the handler */
	assert_false(tmr_isrunning(&r->t));
}

static int setup(void **state)
{
	(void)state;
	return libre_init();
}

static int teardown(void **state)
{
	(void)state;
	libre_close();
	return 0;
}

/* Many timers, a third cancelled and a third restarted; every survivor
 * fires once, no cancelled one fires, and the order is (due, start). */
static void test_order(void **state)
{
	uint64_t start_seq = 0;

	(void)state;
	srand(7);
	memset(recs, 0, sizeof(recs));
	n_fired = 0;
	for (uint32_t i = 0; i < N; i++) {
		recs[i].id = i;
		tmr_init(&recs[i].t);
		tmr_start(&recs[i].t, (uint64_t)(rand() % 40), fire_h,
			  &recs[i]);
		recs[i].due = recs[i].t.jfs;
		recs[i].order = (uint32_t)start_seq++;
	}
	for (uint32_t i = 0; i < N; i++) {
		switch (rand() % 3) {
		case 0:
			tmr_cancel(&recs[i].t);
			recs[i].cancelled = true;
			assert_int_equal(tmr_get_expire(&recs[i].t), 0);
			break;
		case 1:
			tmr_start(&recs[i].t, (uint64_t)(rand() % 40), fire_h,
				  &recs[i]);
			recs[i].due = recs[i].t.jfs;
			recs[i].order = (uint32_t)start_seq++;
			assert_true(tmr_get_expire(&recs[i].t) <= 40);
			break;
		default:
			break;
		}
	}
	tmr_start(&stop_t, 200, stop_h, NULL);
	assert_int_equal(re_main(NULL), 0);

	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(recs[i].fired, recs[i].cancelled ? 0 : 1);
	for (uint32_t k = 1; k < n_fired; k++) {
		const struct rec *a = &recs[fired_ids[k - 1]];
		const struct rec *b = &recs[fired_ids[k]];

		assert_true(a->due < b->due ||
			    (a->due == b->due && a->order < b->order));
	}
}

static struct tmr self_t, victim_t, chain_t;
static int self_runs, victim_runs, chain_runs;

static void victim_h(void *arg)
{
	(void)arg;
	victim_runs++;
}

/* Restarts itself twice and cancels a timer due at the same time. */
static void self_h(void *arg)
{
	(void)arg;
	self_runs++;
	tmr_cancel(&victim_t);
	if (self_runs < 3)
		tmr_start(&self_t, 0, self_h, NULL);
}

/* A timer started with delay 0 from a handler runs in the same loop
 * turn or the next, never before the handler returns. */
static void chain_h(void *arg)
{
	int depth = (int)(intptr_t)arg;

	chain_runs++;
	if (depth < 1000)
		tmr_start(&chain_t, 0, chain_h, (void *)(intptr_t)(depth + 1));
	else
		re_cancel();
}

static void test_handlers(void **state)
{
	(void)state;
	tmr_init(&self_t);
	tmr_init(&victim_t);
	tmr_init(&chain_t);
	tmr_start(&self_t, 5, self_h, NULL);
	tmr_start(&victim_t, 5, victim_h, NULL);
	tmr_start(&chain_t, 20, chain_h, (void *)(intptr_t)0);
	tmr_start(&stop_t, 5000, stop_h, NULL); /* a bound, not a wait */
	assert_int_equal(re_main(NULL), 0);
	assert_int_equal(self_runs, 3);
	assert_int_equal(victim_runs, 0);
	assert_int_equal(chain_runs, 1001);
	assert_true(tmr_isrunning(&stop_t));
	tmr_cancel(&stop_t);
	assert_false(tmr_isrunning(&stop_t));
	/* a cancelled or never started timer cancels again harmlessly */
	tmr_cancel(&stop_t);
	tmr_cancel(NULL);
	tmr_start(NULL, 1, victim_h, NULL);
	assert_int_equal(tmr_get_expire(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_handlers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
