/*
 * The job queue (src/store/jobs.c) and its workers (src/jobs): claims
 * under a lease, a lease run out and the job taken by another worker (whose
 * result alone counts), back-off and failure kept, a server's earlier run's
 * jobs taken back at start, and a pool that runs, retries and fails jobs
 * and requeues the one it was running when stopped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "jobs/jobs.h"
#include "store/store.h"

static char db[64];
static struct rt_store *st;

static int setup(void **state)
{
	struct rt_store_opts o = {.pool_size = 4, .busy_timeout_ms = 5000};
	int fd;
	(void)state;

	snprintf(db, sizeof(db), "/tmp/rt-jobs-XXXXXX");
	fd = mkstemp(db);
	if (fd < 0)
		return -1;
	close(fd);
	if (rt_store_open(&st, db, &o) || rt_store_migrate(st, NULL))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char wal[80];
	(void)state;

	rt_store_close(st);
	unlink(db);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", db);
	unlink(wal);
	return 0;
}

static struct rt_store_tx *begin(void)
{
	struct rt_store_tx *tx;

	assert_int_equal(rt_store_begin(st, true, &tx), 0);
	return tx;
}

static int64_t add(const char *kind, int64_t ref, int64_t max)
{
	struct rt_store_tx *tx = begin();
	struct rt_job j = {.ref_id = ref, .max_attempts = max};

	snprintf(j.kind, sizeof(j.kind), "%s", kind);
	assert_int_equal(rt_store_job_add(tx, &j), 0);
	assert_int_equal(rt_store_commit(tx), 0);
	assert_string_equal(j.state, "queued");
	return j.id;
}

static int claim(const char *worker, int64_t now, struct rt_job *j)
{
	static const char *const kinds[] = {"test", NULL};
	struct rt_store_tx *tx = begin();
	int err = rt_store_job_claim(tx, kinds, worker, now, 1000, j);

	assert_int_equal(rt_store_commit(tx), 0);
	return err;
}

static struct rt_job get(int64_t id)
{
	struct rt_store_tx *tx = begin();
	struct rt_job j;

	assert_int_equal(rt_store_job_get(tx, id, &j), 0);
	rt_store_rollback(tx);
	return j;
}

/* Clears the queue between tests: every job done. */
static void drain(void)
{
	struct rt_store_tx *tx = begin();

	assert_int_equal(rt_store_query(tx, "UPDATE jobs SET state = 'done'",
					NULL, 0, NULL, NULL, NULL),
			 0);
	assert_int_equal(rt_store_commit(tx), 0);
}

static void test_lease(void **state)
{
	int64_t now, id;
	struct rt_job j;
	struct rt_store_tx *tx;
	(void)state;

	drain();
	id = add("test", 7, 5);
	now = rt_now_ms();
	assert_int_equal(claim("a", now, &j), 0);
	assert_int_equal(j.id, id);
	assert_int_equal(j.attempts, 1);
	assert_string_equal(j.state, "running");
	assert_int_equal(j.ref_id, 7);
	/* held: nobody else takes it, nor another kind's worker */
	assert_int_equal(claim("b", now + 500, &j), ENOENT);
	/* a's lease runs out (a died): b takes it, a's result is refused */
	assert_int_equal(claim("b", now + 1500, &j), 0);
	assert_int_equal(j.id, id);
	assert_int_equal(j.attempts, 2);
	tx = begin();
	assert_int_equal(rt_store_job_done(tx, id, "a", now + 1600), ENOENT);
	assert_int_equal(rt_store_job_renew(tx, id, "a", now + 9000), ENOENT);
	assert_int_equal(rt_store_job_renew(tx, id, "b", now + 9000), 0);
	assert_int_equal(rt_store_job_done(tx, id, "b", now + 1700), 0);
	assert_int_equal(rt_store_commit(tx), 0);
	j = get(id);
	assert_string_equal(j.state, "done");
	assert_int_equal(j.finished_at, now + 1700);
}

static void test_retry_and_fail(void **state)
{
	int64_t now, id;
	struct rt_job j;
	struct rt_store_tx *tx;
	bool final = true;
	(void)state;

	drain();
	id = add("test", 0, 2);
	now = rt_now_ms();
	assert_int_equal(claim("a", now, &j), 0);
	tx = begin();
	assert_int_equal(rt_store_job_fail(tx, id, "a", "no audio yet", now,
					   now + 5000, &final),
			 0);
	assert_int_equal(rt_store_commit(tx), 0);
	assert_false(final);
	j = get(id);
	assert_string_equal(j.state, "queued");
	assert_string_equal(j.last_error, "no audio yet");
	/* not before its retry time */
	assert_int_equal(claim("a", now + 4000, &j), ENOENT);
	assert_int_equal(claim("a", now + 5000, &j), 0);
	assert_int_equal(j.attempts, 2);
	/* the second of two attempts fails: for good, error kept */
	tx = begin();
	assert_int_equal(rt_store_job_fail(tx, id, "a", "decoder crashed",
					   now + 5100, now + 9000, &final),
			 0);
	assert_int_equal(rt_store_commit(tx), 0);
	assert_true(final);
	j = get(id);
	assert_string_equal(j.state, "failed");
	assert_string_equal(j.last_error, "decoder crashed");
	assert_int_equal(claim("a", now + 99999, &j), ENOENT);
	/* the latest job about a ref */
	id = add("test", 42, 1);
	tx = begin();
	assert_int_equal(rt_store_job_latest(tx, "test", 42, &j), 0);
	assert_int_equal(j.id, id);
	assert_int_equal(rt_store_job_latest(tx, "test", 43, &j), ENOENT);
	rt_store_rollback(tx);
}

/* ---- the pool ------------------------------------------------------------ */

static atomic_int runs, hold;

/* ref 1: fails once (EAGAIN), then done; ref 2: bad input, for good;
 * ref 3: runs until stopped, touching its lease; others: done. */
static int run_h(const struct rt_job *j, struct rt_job_ctx *ctx, void *arg,
		 char *err, size_t errsz)
{
	(void)arg;
	atomic_fetch_add(&runs, 1);
	if (j->ref_id == 1 && j->attempts == 1) {
		snprintf(err, errsz, "busy");
		return EAGAIN;
	}
	if (j->ref_id == 2) {
		snprintf(err, errsz, "not a recording");
		return ECANCELED;
	}
	if (j->ref_id == 3) {
		for (int i = 0; i < 500 && atomic_load(&hold); i++) {
			if (rt_job_touch(ctx))
				return ECANCELED;
			usleep(10000);
		}
	}
	return 0;
}

static bool wait_state(int64_t id, const char *state, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 20) {
		if (!strcmp(get(id).state, state))
			return true;
		usleep(20000);
	}
	return false;
}

static void test_pool(void **state)
{
	const struct rt_jobs_handler h[] = {{"test", run_h, NULL}};
	struct rt_jobs_conf conf = {.threads = 2,
				    .lease_ms = 2000,
				    .poll_ms = 50,
				    .backoff_ms = 100,
				    .node = "unit"};
	struct rt_jobs *js;
	struct rt_jobs_stats s;
	int64_t ids[12];
	struct rt_job j = {.kind = "test", .ref_id = 1, .max_attempts = 3};
	(void)state;

	drain();
	atomic_store(&runs, 0);
	assert_int_equal(rt_jobs_start(&js, st, &conf, h, 1), 0);
	assert_int_equal(rt_jobs_add(js, &j), 0);
	ids[0] = j.id;
	j = (struct rt_job){.kind = "test", .ref_id = 2, .max_attempts = 3};
	assert_int_equal(rt_jobs_add(js, &j), 0);
	ids[1] = j.id;
	for (int i = 2; i < 12; i++)
		ids[i] = add("test", 100 + i, 3);
	rt_jobs_kick(js);
	for (int i = 0; i < 12; i++) {
		if (!wait_state(ids[i], i == 1 ? "failed" : "done", 10000))
			fail_msg("job %d is %s", i, get(ids[i]).state);
	}
	assert_int_equal(get(ids[0]).attempts, 2); /* retried once */
	assert_int_equal(get(ids[1]).attempts, 1); /* failed for good */
	assert_string_equal(get(ids[1]).last_error, "not a recording");
	rt_jobs_stats(js, &s);
	assert_int_equal(s.done, 11);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.retried, 1);
	rt_jobs_stop(js);
	assert_int_equal(atomic_load(&runs), 13);
}

/* A stop mid-job queues it again; a start takes back what a dead run of
 * the same server held; both are then done. */
static void test_restart_mid_job(void **state)
{
	const struct rt_jobs_handler h[] = {{"test", run_h, NULL}};
	struct rt_jobs_conf conf = {.threads = 1,
				    .lease_ms = 60000,
				    .poll_ms = 50,
				    .backoff_ms = 50,
				    .node = "unit"};
	struct rt_jobs *js;
	struct rt_job j;
	int64_t id, dead;
	(void)state;

	drain();
	atomic_store(&hold, 1);
	id = add("test", 3, 5);
	assert_int_equal(rt_jobs_start(&js, st, &conf, h, 1), 0);
	assert_true(wait_state(id, "running", 5000));
	rt_jobs_stop(js);
	j = get(id);
	assert_string_equal(j.state, "queued");
	assert_string_equal(j.last_error, "the server stopped");
	/* a job held by a run of this server that died (its lease has a
	 * minute left) */
	dead = add("test", 4, 5);
	{
		static const char *const kinds[] = {"test", NULL};
		struct rt_store_tx *tx = begin();

		/* the earliest due: the new one (the other waits out its
		 * back-off) */
		assert_int_equal(rt_store_job_claim(tx, kinds, "unit/999999/0",
						    rt_now_ms(), 60000, &j),
				 0);
		assert_int_equal(rt_store_commit(tx), 0);
	}
	atomic_store(&hold, 0);
	assert_int_equal(rt_jobs_start(&js, st, &conf, h, 1), 0);
	assert_true(wait_state(id, "done", 10000));
	assert_true(wait_state(dead, "done", 10000));
	rt_jobs_stop(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_retry_and_fail),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_restart_mid_job),
	};

	return cmocka_run_group_tests_name("jobs", tests, setup, teardown);
}
