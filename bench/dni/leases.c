/*
 * bench/dni/leases: the lease engine in process, on one thread.  Prints
 * leases, renewals and "who held N at T" per second, and the memory each
 * live session costs, against the goals.  A reference measured in
 * the same run: an empty loop of the same shape would be noise, so the
 * figures are absolute, with the goal beside them.
 *
 * usage: bench_leases [live_sessions (default 100000)]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dni/dni.h"
#include "util/util.h"

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t live = 100000;
	struct rt_lease_pool_conf c = {.pool_id = 1,
				       .ttl_ms = 30 * 60000,
				       .cooldown_ms = 5 * 60000};
	struct rt_lease_engine *e;
	struct rt_lease_event *ev;
	struct rt_lease l;
	struct rt_lease_who w;
	int64_t *nums, now = 1800000000000LL;
	size_t npool;
	double t, lease_s, renew_s, who_s;
	struct mallinfo2 before, after;
	size_t mem;

	if (argc > 1 && rt_parse_u64(argv[1], 1, 10000000, &live)) {
		fprintf(stderr, "usage: bench_leases [live_sessions]\n");
		return 2;
	}
	rt_log_set_level(RT_LOG_ERROR);
	/* Pools sized for their traffic: a number per live visitor. */
	npool = (size_t)live;
	nums = calloc(npool, sizeof(*nums));
	ev = calloc(4096, sizeof(*ev));
	if (!nums || !ev)
		return 1;
	for (size_t i = 0; i < npool; i++)
		nums[i] = (int64_t)i + 1;
	/* Small pools are the common case and the engine scans a pool per
	 * new lease: measure that with pools of 50 numbers. */
	if (rt_lease_engine_alloc(&e, 120000))
		return 1;
	for (size_t p = 0; p * 50 < npool; p++) {
		c.pool_id = (int64_t)p + 1;
		if (rt_lease_pool_set(e, &c, nums + p * 50,
				      npool - p * 50 < 50 ? npool - p * 50
							  : 50))
			return 1;
	}
	before = mallinfo2();
	t = secs();
	for (uint64_t s = 1; s <= live; s++) {
		if (rt_lease_acquire(e,
				     (int64_t)((s - 1) % ((npool + 49) / 50)) +
					     1,
				     (int64_t)s, now, &l))
			return 1;
		if (s % 4096 == 0)
			while (rt_lease_drain(e, ev, 4096))
				;
	}
	lease_s = (double)live / (secs() - t);
	while (rt_lease_drain(e, ev, 4096))
		;
	after = mallinfo2();

	t = secs();
	for (uint64_t s = 1; s <= live; s++)
		rt_lease_acquire(e, 1, (int64_t)s, now + 1000, &l);
	renew_s = (double)live / (secs() - t);

	t = secs();
	for (uint64_t i = 0; i < live; i++)
		rt_lease_who(e, (int64_t)(i % npool) + 1, now + 2000, &w);
	who_s = (double)live / (secs() - t);

	printf("bench/dni leases: %llu live sessions, %zu numbers in pools of "
	       "50, one thread\n",
	       (unsigned long long)live, npool);
	printf("  new leases       %12.0f /s\n", lease_s);
	printf("  renewals         %12.0f /s\n", renew_s);
	printf("  who held N at T  %12.0f /s\n", who_s);
	/* Heap in use, small blocks and mmapped big ones (the tables). */
	mem = (after.uordblks + after.hblkhd) -
	      (before.uordblks + before.hblkhd);
	printf("  memory per live session: %.0f bytes (goal <= 1024: %s)\n",
	       (double)mem / (double)live,
	       mem / live <= 1024 ? "met" : "MISSED");
	rt_lease_engine_free(e);
	free(nums);
	free(ev);
	return 0;
}
