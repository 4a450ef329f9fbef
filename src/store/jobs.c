/*
 * The durable job queue: rows of jobs, claimed under a lease.  A claim is
 * one UPDATE of the next due row inside the caller's write transaction,
 * so two workers never take the same job; a worker that dies leaves its
 * lease to run out, and the job is taken again (at least once).  A result
 * counts only from the worker that holds the job.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define JOB_COLS                                                               \
	"id, account_id, kind, ref_id, payload, state, attempts, "             \
	"max_attempts, run_at, lease_until, worker, last_error, created_at, "  \
	"updated_at, finished_at"

static int job_row(const struct rt_val *c, size_t n, void *arg)
{
	struct rt_job *j = arg;

	memset(j, 0, sizeof(*j));
	j->id = rt_col_int(&c[0]);
	j->account_id = rt_col_int(&c[1]);
	RT_COL_STR(j->kind, &c[2]);
	j->ref_id = rt_col_int(&c[3]);
	RT_COL_STR(j->payload, &c[4]);
	RT_COL_STR(j->state, &c[5]);
	j->attempts = rt_col_int(&c[6]);
	j->max_attempts = rt_col_int(&c[7]);
	j->run_at = rt_col_int(&c[8]);
	j->lease_until = rt_col_int(&c[9]);
	RT_COL_STR(j->worker, &c[10]);
	RT_COL_STR(j->last_error, &c[11]);
	j->created_at = rt_col_int(&c[12]);
	j->updated_at = rt_col_int(&c[13]);
	j->finished_at = rt_col_int(&c[14]);
	return 1; /* one row */
}

static int one(int err, const struct rt_job *j)
{
	if (err == 1)
		return 0;
	if (err == 0)
		return ENOENT;
	(void)j;
	return err;
}

int rt_store_job_add(struct rt_store_tx *tx, struct rt_job *j)
{
	int64_t now = rt_now_ms();
	struct rt_val args[] = {
		j->account_id ? RT_VINT(j->account_id) : RT_VNULL,
		RT_VTEXT(j->kind),
		j->ref_id ? RT_VINT(j->ref_id) : RT_VNULL,
		RT_VTEXT(j->payload[0] ? j->payload : "{}"),
		RT_VINT(j->max_attempts > 0 ? j->max_attempts : 5),
		RT_VINT(j->run_at ? j->run_at : now),
		RT_VINT(now),
	};
	int err;

	err = rt_store_query(
		tx,
		"INSERT INTO jobs (account_id, kind, ref_id, payload, state, "
		"attempts, max_attempts, run_at, created_at, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?6, ?7, ?7) "
		"RETURNING " JOB_COLS,
		args, RT_ARRAY_SIZE(args), job_row, j, NULL);
	return one(err, j);
}

int rt_store_job_claim(struct rt_store_tx *tx, const char *const *kinds,
		       const char *worker, int64_t now, int64_t lease_ms,
		       struct rt_job *j)
{
	struct rt_buf sql;
	struct rt_val args[12];
	size_t na = 0;
	int err;

	args[na++] = RT_VINT(now);
	args[na++] = RT_VINT(now + lease_ms);
	args[na++] = RT_VTEXT(worker);
	rt_buf_init(&sql);
	rt_buf_puts(&sql,
		    "UPDATE jobs SET state = 'running', attempts = attempts + "
		    "1, lease_until = ?2, worker = ?3, updated_at = ?1 WHERE "
		    "id = (SELECT id FROM jobs WHERE ((state = 'queued' AND "
		    "run_at <= ?1) OR (state = 'running' AND lease_until < "
		    "?1))");
	if (kinds && kinds[0]) {
		rt_buf_puts(&sql, " AND kind IN (");
		for (size_t i = 0; kinds[i] && na < RT_ARRAY_SIZE(args); i++) {
			rt_buf_printf(&sql, "%s?%zu", i ? ", " : "", na + 1);
			args[na++] = RT_VTEXT(kinds[i]);
		}
		rt_buf_puts(&sql, ")");
	}
	rt_buf_puts(&sql, " ORDER BY run_at, id LIMIT 1) RETURNING " JOB_COLS);
	if (sql.err) {
		rt_buf_release(&sql);
		return ENOMEM;
	}
	err = rt_store_query(tx, sql.s, args, na, job_row, j, NULL);
	rt_buf_release(&sql);
	return one(err, j);
}

int rt_store_job_release(struct rt_store_tx *tx, const char *prefix,
			 int64_t now, int64_t *np)
{
	struct rt_val args[] = {RT_VTEXT(prefix), RT_VINT(now)};

	return rt_store_query(
		tx,
		"UPDATE jobs SET state = 'queued', lease_until = NULL, "
		"run_at = ?2, updated_at = ?2 WHERE state = 'running' AND "
		"substr(worker, 1, length(?1)) = ?1",
		args, RT_ARRAY_SIZE(args), NULL, NULL, np);
}

int rt_store_job_renew(struct rt_store_tx *tx, int64_t id, const char *worker,
		       int64_t lease_until)
{
	struct rt_val args[] = {RT_VINT(id), RT_VTEXT(worker),
				RT_VINT(lease_until), RT_VINT(rt_now_ms())};
	int64_t changed = 0;
	int err = rt_store_query(
		tx,
		"UPDATE jobs SET lease_until = ?3, updated_at = ?4 WHERE id = "
		"?1 AND state = 'running' AND worker = ?2",
		args, RT_ARRAY_SIZE(args), NULL, NULL, &changed);

	return err ? err : changed ? 0 : ENOENT;
}

int rt_store_job_done(struct rt_store_tx *tx, int64_t id, const char *worker,
		      int64_t now)
{
	struct rt_val args[] = {RT_VINT(id), RT_VTEXT(worker), RT_VINT(now)};
	int64_t changed = 0;
	int err = rt_store_query(
		tx,
		"UPDATE jobs SET state = 'done', lease_until = NULL, "
		"last_error = NULL, updated_at = ?3, finished_at = ?3 WHERE "
		"id = ?1 AND state = 'running' AND worker = ?2",
		args, RT_ARRAY_SIZE(args), NULL, NULL, &changed);

	return err ? err : changed ? 0 : ENOENT;
}

int rt_store_job_fail(struct rt_store_tx *tx, int64_t id, const char *worker,
		      const char *error, int64_t now, int64_t retry_at,
		      bool *finalp)
{
	struct rt_job j;
	bool final;
	int err = rt_store_job_get(tx, id, &j);

	if (err)
		return err;
	if (strcmp(j.state, "running") || strcmp(j.worker, worker))
		return ENOENT;
	final = retry_at == 0 || j.attempts >= j.max_attempts;
	{
		struct rt_val args[] = {
			RT_VINT(id),
			RT_VTEXT(final ? "failed" : "queued"),
			RT_VTEXT(error ? error : "failed"),
			RT_VINT(now),
			RT_VINT(final ? j.run_at : retry_at),
			final ? RT_VINT(now) : RT_VNULL,
		};

		err = rt_store_query(
			tx,
			"UPDATE jobs SET state = ?2, last_error = ?3, "
			"lease_until = NULL, updated_at = ?4, run_at = ?5, "
			"finished_at = ?6 WHERE id = ?1",
			args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
	}
	if (!err && finalp)
		*finalp = final;
	return err;
}

int rt_store_job_get(struct rt_store_tx *tx, int64_t id, struct rt_job *j)
{
	struct rt_val args[] = {RT_VINT(id)};

	return one(rt_store_query(tx,
				  "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
				  args, 1, job_row, j, NULL),
		   j);
}

int rt_store_job_latest(struct rt_store_tx *tx, const char *kind,
			int64_t ref_id, struct rt_job *j)
{
	struct rt_val args[] = {RT_VTEXT(kind), RT_VINT(ref_id)};

	return one(rt_store_query(tx,
				  "SELECT " JOB_COLS " FROM jobs WHERE kind = "
				  "?1 AND ref_id = ?2 ORDER BY id DESC LIMIT 1",
				  args, RT_ARRAY_SIZE(args), job_row, j, NULL),
		   j);
}

struct job_rows {
	rt_job_h *h;
	void *arg;
};

static int job_list_row(const struct rt_val *c, size_t n, void *arg)
{
	struct job_rows *r = arg;
	struct rt_job j;

	job_row(c, n, &j);
	return r->h(&j, r->arg);
}

int rt_store_job_list(struct rt_store_tx *tx, const char *state,
		      const struct rt_page *pg, rt_job_h *h, void *arg)
{
	struct rt_val args[] = {RT_VTEXT(state), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg))};
	struct job_rows r = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " JOB_COLS " FROM jobs WHERE (?1 IS "
			      "NULL OR state = ?1) AND id > ?2 ORDER BY id "
			      "LIMIT ?3",
			      args, RT_ARRAY_SIZE(args), job_list_row, &r,
			      NULL);
}
