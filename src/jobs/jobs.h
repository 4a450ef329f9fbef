/*
 * Jobs: work that must not run on the SIP or HTTP threads (a call's
 * analysis: speech to text and the analysers), done by a pool of worker
 * threads from the durable queue in the store (rt_store_job_*).
 *
 * At least once: a job is claimed under a lease that its worker renews
 * while it runs (rt_job_touch); a worker that dies leaves the lease to run
 * out and the job is taken again, and a server that starts takes back at
 * once the jobs its own previous run held.  A failed attempt is retried
 * with back-off (10 s, then four times longer each time, at most an hour)
 * until the job's attempts are used up; then it stays `failed` with its
 * error, visible.  Handlers must therefore be safe to run twice.
 */
#ifndef RT_JOBS_H
#define RT_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct rt_jobs;
struct rt_job_ctx;

/*
 * Runs one job: 0 when done; EAGAIN to try again later (the back-off);
 * any other value fails this attempt the same way, and with
 * ECANCELED (a permanent error: bad input) the job fails for good.  err
 * gets the reason.
 */
typedef int(rt_job_run_h)(const struct rt_job *j, struct rt_job_ctx *ctx,
			  void *arg, char *err, size_t errsz);

struct rt_jobs_handler {
	const char *kind;
	rt_job_run_h *run;
	void *arg;
};

struct rt_jobs_conf {
	unsigned threads;   /* workers (0: 1) */
	int64_t lease_ms;   /* 0: 2 minutes */
	int64_t poll_ms;    /* an idle worker looks again after (0: 1 s) */
	int64_t backoff_ms; /* the first retry's wait (0: 10 s) */
	const char *node;   /* this server's name in leases (0: host) */
};

/* Starts the workers for these kinds; the handlers array is copied. */
int rt_jobs_start(struct rt_jobs **jp, struct rt_store *s,
		  const struct rt_jobs_conf *conf,
		  const struct rt_jobs_handler *h, size_t n);
/* Stops taking jobs, asks running handlers to stop (rt_job_touch says
 * ECANCELED) and waits for them; a job cut short is queued again. */
void rt_jobs_stop(struct rt_jobs *j);
/* Queues a job and wakes a worker: j as for rt_store_job_add. */
int rt_jobs_add(struct rt_jobs *js, struct rt_job *j);
/* A job was queued elsewhere: wake a worker. */
void rt_jobs_kick(struct rt_jobs *js);

/* For handlers: renews the lease when half of it has passed; ECANCELED
 * when the pool is stopping or the job was lost (stop the work). */
int rt_job_touch(struct rt_job_ctx *ctx);

struct rt_jobs_stats {
	uint64_t done, retried, failed, lost;
};
void rt_jobs_stats(struct rt_jobs *js, struct rt_jobs_stats *st);

#endif
