/*
 * The worker pool of the job queue (jobs.h): threads that claim due jobs
 * in a write transaction of their own, run the kind's handler outside any
 * transaction, and write the result back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RT_LOG_MODULE "jobs"

#include "jobs/jobs.h"
#include "util/util.h"

#define BACKOFF_MAX_MS (3600 * 1000LL)

struct rt_jobs {
	struct rt_store *store;
	struct rt_jobs_conf conf;
	struct rt_jobs_handler *h;
	size_t nh;
	const char **kinds; /* the handlers' kinds, NULL-terminated */
	char prefix[80];    /* "<node>/<pid>/" */
	pthread_t *threads;
	unsigned nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	unsigned kicks;
	struct rt_jobs_stats st;
};

struct rt_job_ctx {
	struct rt_jobs *js;
	const struct rt_job *job;
	char worker[96];
	int64_t lease_until;
};

static bool stopping(struct rt_jobs *js)
{
	bool s;

	pthread_mutex_lock(&js->mu);
	s = js->stopping;
	pthread_mutex_unlock(&js->mu);
	return s;
}

int rt_job_touch(struct rt_job_ctx *ctx)
{
	struct rt_jobs *js = ctx->js;
	struct rt_store_tx *tx;
	int64_t now = rt_now_ms(), until = now + js->conf.lease_ms;
	int err;

	if (stopping(js))
		return ECANCELED;
	if (ctx->lease_until - now > js->conf.lease_ms / 2)
		return 0;
	err = rt_store_begin(js->store, true, &tx);
	if (err)
		return 0; /* try again at the next touch */
	err = rt_store_job_renew(tx, ctx->job->id, ctx->worker, until);
	if (err) {
		rt_store_rollback(tx);
		return err == ENOENT ? ECANCELED : 0;
	}
	if (rt_store_commit(tx) == 0)
		ctx->lease_until = until;
	return 0;
}

static const struct rt_jobs_handler *handler(struct rt_jobs *js,
					     const char *kind)
{
	for (size_t i = 0; i < js->nh; i++) {
		if (!strcmp(js->h[i].kind, kind))
			return &js->h[i];
	}
	return NULL;
}

/* The back-off before attempt n + 1. */
static int64_t backoff(const struct rt_jobs *js, int64_t attempts)
{
	int64_t ms = js->conf.backoff_ms;

	for (int64_t i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 4;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static void finish(struct rt_jobs *js, struct rt_job_ctx *ctx, int rc,
		   const char *why)
{
	const struct rt_job *j = ctx->job;
	struct rt_store_tx *tx;
	int64_t now = rt_now_ms();
	bool final = false;
	int err;

	err = rt_store_begin(js->store, true, &tx);
	if (err) {
		rt_warn("job result not written", "job=%lld err=%d",
			(long long)j->id, err);
		return; /* its lease runs out: taken again */
	}
	if (rc == 0)
		err = rt_store_job_done(tx, j->id, ctx->worker, now);
	else
		err = rt_store_job_fail(tx, j->id, ctx->worker, why, now,
					rc == ECANCELED
						? 0
						: now + backoff(js,
								j->attempts),
					&final);
	if (err) {
		rt_store_rollback(tx);
		pthread_mutex_lock(&js->mu);
		js->st.lost++;
		pthread_mutex_unlock(&js->mu);
		rt_warn("job lost to another worker", "job=%lld",
			(long long)j->id);
		return;
	}
	if (rt_store_commit(tx))
		return;
	pthread_mutex_lock(&js->mu);
	if (rc == 0)
		js->st.done++;
	else if (final)
		js->st.failed++;
	else
		js->st.retried++;
	pthread_mutex_unlock(&js->mu);
	if (rc == 0)
		rt_info("job done", "job=%lld kind=%s attempt=%lld",
			(long long)j->id, j->kind, (long long)j->attempts);
	else
		rt_warn(final ? "job failed" : "job will be retried",
			"job=%lld kind=%s attempt=%lld why=\"%s\"",
			(long long)j->id, j->kind, (long long)j->attempts, why);
}

/* One job claimed and run: false when none was due. */
static bool run_one(struct rt_jobs *js, const char *worker)
{
	struct rt_store_tx *tx;
	struct rt_job *j = calloc(1, sizeof(*j));
	struct rt_job_ctx ctx = {.js = js};
	const struct rt_jobs_handler *h;
	char why[RT_JOB_ERROR_MAX] = "";
	int err, rc;

	if (!j)
		return false;
	err = rt_store_begin(js->store, true, &tx);
	if (!err) {
		err = rt_store_job_claim(tx, js->kinds, worker, rt_now_ms(),
					 js->conf.lease_ms, j);
		if (err)
			rt_store_rollback(tx);
		else
			err = rt_store_commit(tx);
	}
	if (err) {
		free(j);
		return false;
	}
	ctx.job = j;
	ctx.lease_until = j->lease_until;
	rt_strlcpy(ctx.worker, worker, sizeof(ctx.worker));
	h = handler(js, j->kind);
	rc = h->run(j, &ctx, h->arg, why, sizeof(why));
	if (rc == ECANCELED && stopping(js)) {
		/* cut short by a stop: not the job's fault */
		rc = EAGAIN;
		rt_strlcpy(why, "the server stopped", sizeof(why));
	}
	if (rc && !why[0])
		snprintf(why, sizeof(why), "%s", strerror(rc));
	finish(js, &ctx, rc, why);
	free(j);
	return true;
}

struct worker_arg {
	struct rt_jobs *js;
	unsigned n;
};

static void *worker_main(void *arg)
{
	struct rt_jobs *js = ((struct worker_arg *)arg)->js;
	char worker[96];

	snprintf(worker, sizeof(worker), "%s%u", js->prefix,
		 ((struct worker_arg *)arg)->n);
	free(arg);
	while (!stopping(js)) {
		unsigned kicks;

		pthread_mutex_lock(&js->mu);
		kicks = js->kicks;
		pthread_mutex_unlock(&js->mu);
		if (run_one(js, worker))
			continue;
		/* nothing due: wait for a kick or the next look */
		pthread_mutex_lock(&js->mu);
		if (!js->stopping && js->kicks == kicks) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += js->conf.poll_ms / 1000;
			ts.tv_nsec += (js->conf.poll_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&js->cv, &js->mu, &ts);
		}
		pthread_mutex_unlock(&js->mu);
	}
	return NULL;
}

static void jobs_free(struct rt_jobs *js)
{
	free(js->h);
	free(js->kinds);
	free(js->threads);
	pthread_mutex_destroy(&js->mu);
	pthread_cond_destroy(&js->cv);
	free(js);
}

int rt_jobs_start(struct rt_jobs **jp, struct rt_store *s,
		  const struct rt_jobs_conf *conf,
		  const struct rt_jobs_handler *h, size_t n)
{
	struct rt_jobs *js = calloc(1, sizeof(*js));
	struct rt_store_tx *tx;
	char host[64] = "ringtrail";
	int64_t released = 0;
	int err;

	if (!js)
		return ENOMEM;
	pthread_mutex_init(&js->mu, NULL);
	pthread_cond_init(&js->cv, NULL);
	js->store = s;
	js->conf = *conf;
	if (!js->conf.threads)
		js->conf.threads = 1;
	if (js->conf.lease_ms <= 0)
		js->conf.lease_ms = 120000;
	if (js->conf.poll_ms <= 0)
		js->conf.poll_ms = 1000;
	if (js->conf.backoff_ms <= 0)
		js->conf.backoff_ms = 10000;
	if (!conf->node)
		gethostname(host, sizeof(host) - 1);
	snprintf(js->prefix, sizeof(js->prefix), "%s/",
		 conf->node ? conf->node : host);
	js->h = calloc(n ? n : 1, sizeof(*js->h));
	js->kinds = calloc(n + 1, sizeof(*js->kinds));
	js->threads = calloc(js->conf.threads, sizeof(*js->threads));
	if (!js->h || !js->kinds || !js->threads) {
		jobs_free(js);
		return ENOMEM;
	}
	memcpy(js->h, h, n * sizeof(*h));
	js->nh = n;
	for (size_t i = 0; i < n; i++)
		js->kinds[i] = js->h[i].kind;
	/* the jobs this server's earlier run held go back in the queue */
	err = rt_store_begin(s, true, &tx);
	if (!err) {
		err = rt_store_job_release(tx, js->prefix, rt_now_ms(),
					   &released);
		if (err)
			rt_store_rollback(tx);
		else
			err = rt_store_commit(tx);
	}
	if (err) {
		jobs_free(js);
		return err;
	}
	if (released)
		rt_info("jobs taken back from an earlier run", "jobs=%lld",
			(long long)released);
	/* this run's workers: <node>/<pid>/<n> */
	snprintf(js->prefix + strlen(js->prefix),
		 sizeof(js->prefix) - strlen(js->prefix), "%ld/",
		 (long)getpid());
	for (unsigned i = 0; i < js->conf.threads; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));

		if (!wa) {
			err = ENOMEM;
			break;
		}
		*wa = (struct worker_arg){js, i};
		err = pthread_create(&js->threads[i], NULL, worker_main, wa);
		if (err) {
			free(wa);
			break;
		}
		js->nthreads++;
	}
	if (err) {
		rt_jobs_stop(js);
		return err;
	}
	*jp = js;
	return 0;
}

void rt_jobs_stop(struct rt_jobs *js)
{
	if (!js)
		return;
	pthread_mutex_lock(&js->mu);
	js->stopping = true;
	pthread_cond_broadcast(&js->cv);
	pthread_mutex_unlock(&js->mu);
	for (unsigned i = 0; i < js->nthreads; i++)
		pthread_join(js->threads[i], NULL);
	jobs_free(js);
}

void rt_jobs_kick(struct rt_jobs *js)
{
	pthread_mutex_lock(&js->mu);
	js->kicks++;
	pthread_cond_signal(&js->cv);
	pthread_mutex_unlock(&js->mu);
}

int rt_jobs_add(struct rt_jobs *js, struct rt_job *j)
{
	struct rt_store_tx *tx;
	int err = rt_store_begin(js->store, true, &tx);

	if (err)
		return err;
	err = rt_store_job_add(tx, j);
	if (err) {
		rt_store_rollback(tx);
		return err;
	}
	err = rt_store_commit(tx);
	if (!err)
		rt_jobs_kick(js);
	return err;
}

void rt_jobs_stats(struct rt_jobs *js, struct rt_jobs_stats *st)
{
	pthread_mutex_lock(&js->mu);
	*st = js->st;
	pthread_mutex_unlock(&js->mu);
}
