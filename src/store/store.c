/*
 * The store's connection layer: picks the backend by URL, keeps a pool of
 * connections, and wraps every backend call (timing for /metrics, asserts,
 * fault injection through RT_FAULT_STORE_CALL=N, which fails the Nth call
 * with EIO so tests can show what a user sees when the database fails;
 * RT_FAULT_STORE_WRITE=N counts only the calls of write transactions, which
 * a server's background threads (reading at their own pace) do not shift).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define RT_LOG_MODULE "store"

enum { OP_BEGIN, OP_QUERY, OP_COMMIT, OP_ROLLBACK, OP__N };
static const char *const op_names[OP__N] = {"begin", "query", "commit",
					    "rollback"};

struct rt_store {
	const struct rt_store_ops *ops;
	struct rt_store_conn **conns; /* the pool */
	struct rt_store_conn **free;  /* stack of idle connections */
	size_t nconns, nfree;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rt_hist hist[OP__N];
	_Atomic uint64_t errors;
	_Atomic uint64_t calls;
	uint64_t fault_at;	 /* 0: off */
	uint64_t fault_write_at; /* 0: off */
	_Atomic uint64_t write_calls;
};

struct rt_store_tx {
	struct rt_store *store;
	struct rt_store_conn *conn;
	bool write;
};

static const struct rt_store_ops *const backends[] = {
	&rt_store_sqlite_ops,
};

static int fault(struct rt_store *s, bool write)
{
	uint64_t n = atomic_fetch_add(&s->calls, 1) + 1;

	if (s->fault_at && n == s->fault_at)
		return EIO;
	if (!s->fault_write_at || !write)
		return 0;
	n = atomic_fetch_add(&s->write_calls, 1) + 1;
	return n == s->fault_write_at ? EIO : 0;
}

int rt_store_open(struct rt_store **sp, const char *url,
		  const struct rt_store_opts *opts)
{
	const struct rt_store_ops *ops = NULL;
	struct rt_store *s;
	const char *fenv;
	size_t n;
	int err = 0;

	for (size_t i = 0; i < RT_ARRAY_SIZE(backends); i++) {
		if (backends[i]->accepts(url)) {
			ops = backends[i];
			break;
		}
	}
	if (!ops)
		return EPROTONOSUPPORT;

	s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->ops = ops;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	fenv = getenv("RT_FAULT_STORE_CALL");
	if (fenv && rt_parse_u64(fenv, 1, UINT64_MAX, &s->fault_at))
		s->fault_at = 0;
	fenv = getenv("RT_FAULT_STORE_WRITE");
	if (fenv && rt_parse_u64(fenv, 1, UINT64_MAX, &s->fault_write_at))
		s->fault_write_at = 0;

	/* An in-memory SQLite database exists per connection: keep one. */
	n = opts->pool_size ? opts->pool_size : 1;
	if (strcmp(url, ":memory:") == 0)
		n = 1;
	s->conns = calloc(n, sizeof(*s->conns));
	s->free = calloc(n, sizeof(*s->free));
	if (!s->conns || !s->free) {
		err = ENOMEM;
		goto out;
	}
	for (; s->nconns < n; s->nconns++) {
		err = ops->open(&s->conns[s->nconns], url, opts);
		if (err)
			goto out;
		s->free[s->nfree++] = s->conns[s->nconns];
	}
out:
	if (err)
		rt_store_close(s);
	else
		*sp = s;
	return err;
}

void rt_store_close(struct rt_store *s)
{
	if (!s)
		return;
	if (s->nfree != s->nconns)
		RT_BUG("store closed with %zu connections checked out",
		       s->nconns - s->nfree);
	for (size_t i = 0; i < s->nconns; i++)
		s->ops->close(s->conns[i]);
	free(s->conns);
	free(s->free);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *rt_store_backend(const struct rt_store *s)
{
	return s->ops->name;
}

static struct rt_store_conn *acquire(struct rt_store *s)
{
	struct rt_store_conn *c;

	pthread_mutex_lock(&s->lock);
	while (s->nfree == 0)
		pthread_cond_wait(&s->cond, &s->lock);
	c = s->free[--s->nfree];
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void release(struct rt_store *s, struct rt_store_conn *c)
{
	pthread_mutex_lock(&s->lock);
	s->free[s->nfree++] = c;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void observe(struct rt_store *s, int op, uint64_t t0, int err)
{
	rt_hist_observe(&s->hist[op], rt_mono_us() - t0);
	if (err && err != ENOENT && err != EEXIST)
		atomic_fetch_add(&s->errors, 1);
}

int rt_store_begin(struct rt_store *s, bool write, struct rt_store_tx **txp)
{
	struct rt_store_tx *tx;
	uint64_t t0;
	int err;

	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return ENOMEM;
	err = fault(s, write);
	if (err) {
		free(tx);
		return err;
	}
	tx->store = s;
	tx->write = write;
	tx->conn = acquire(s);
	t0 = rt_mono_us();
	err = s->ops->begin(tx->conn, write);
	observe(s, OP_BEGIN, t0, err);
	if (err) {
		release(s, tx->conn);
		free(tx);
		return err;
	}
	*txp = tx;
	return 0;
}

int rt_store_commit(struct rt_store_tx *tx)
{
	struct rt_store *s = tx->store;
	uint64_t t0 = rt_mono_us();
	int err;

	err = s->ops->commit(tx->conn);
	observe(s, OP_COMMIT, t0, err);
	if (err)
		s->ops->rollback(tx->conn);
	release(s, tx->conn);
	free(tx);
	return err;
}

void rt_store_rollback(struct rt_store_tx *tx)
{
	struct rt_store *s;
	uint64_t t0;

	if (!tx)
		return;
	s = tx->store;
	t0 = rt_mono_us();
	observe(s, OP_ROLLBACK, t0, s->ops->rollback(tx->conn));
	release(s, tx->conn);
	free(tx);
}

int rt_store_query(struct rt_store_tx *tx, const char *sql,
		   const struct rt_val *args, size_t nargs,
		   rt_store_row_h *rowh, void *arg, int64_t *changesp)
{
	struct rt_store *s = tx->store;
	uint64_t t0;
	int err;

	if (!sql || (nargs && !args))
		RT_BUG("rt_store_query without sql or args");
	err = fault(s, tx->write);
	if (err)
		return err;
	t0 = rt_mono_us();
	err = s->ops->query(tx->conn, sql, args, nargs, rowh, arg, changesp);
	observe(s, OP_QUERY, t0, err);
	return err;
}

int rt_store_tx_script(struct rt_store_tx *tx, const char *sql)
{
	/* Migrations are shared by every backend; the types of these words
	 * are the SQL they do not agree on. */
	const char *const words[][2] = {
		{"{pk}", tx->store->ops->pk_type},
		{"{blob}", tx->store->ops->blob_type},
	};
	struct rt_buf b;
	int err;

	rt_buf_init(&b);
	while (*sql) {
		const char *p = strchr(sql, '{');
		size_t i;

		if (!p) {
			rt_buf_puts(&b, sql);
			break;
		}
		rt_buf_append(&b, sql, (size_t)(p - sql));
		for (i = 0; i < RT_ARRAY_SIZE(words); i++)
			if (strncmp(p, words[i][0], strlen(words[i][0])) == 0)
				break;
		if (i < RT_ARRAY_SIZE(words)) {
			rt_buf_puts(&b, words[i][1]);
			sql = p + strlen(words[i][0]);
		} else {
			rt_buf_append(&b, p, 1);
			sql = p + 1;
		}
	}
	err = b.err ? b.err : tx->store->ops->exec_script(tx->conn, b.s);
	rt_buf_release(&b);
	return err;
}

int rt_store_tx_table_sql_replace(struct rt_store_tx *tx, const char *table,
				  const char *from, const char *to)
{
	if (!tx->store->ops->table_sql_replace)
		return ENOTSUP;
	return tx->store->ops->table_sql_replace(tx->conn, table, from, to);
}

static int ping_row(const struct rt_val *cols, size_t n, void *arg)
{
	*(int64_t *)arg = n ? rt_col_int(&cols[0]) : 0;
	return 0;
}

int rt_store_ping(struct rt_store *s)
{
	struct rt_store_tx *tx;
	int64_t one = 0;
	int err;

	err = rt_store_begin(s, false, &tx);
	if (err)
		return err;
	err = rt_store_query(tx, "SELECT 1", NULL, 0, ping_row, &one, NULL);
	if (!err && one != 1)
		err = EIO;
	if (err)
		rt_store_rollback(tx);
	else
		err = rt_store_commit(tx);
	return err;
}

static int int_row(const struct rt_val *c, size_t n, void *arg)
{
	(void)n;
	*(int64_t *)arg = rt_col_int(&c[0]);
	return 0;
}

int rt_store_query_int(struct rt_store_tx *tx, const char *sql,
		       const struct rt_val *args, size_t nargs, int64_t *vp)
{
	return rt_store_query(tx, sql, args, nargs, int_row, vp, NULL);
}

unsigned rt_store_page_limit(const struct rt_page *pg)
{
	if (!pg || pg->limit == 0)
		return 50;
	return pg->limit > 1000 ? 1000 : pg->limit;
}

void rt_store_metrics(const struct rt_store *s, struct rt_buf *b)
{
	char labels[64];

	rt_buf_puts(b,
		    "# HELP ringtrail_store_seconds Time spent in store "
		    "operations.\n# TYPE ringtrail_store_seconds histogram\n");
	for (int i = 0; i < OP__N; i++) {
		snprintf(labels, sizeof(labels), "backend=\"%s\",op=\"%s\"",
			 s->ops->name, op_names[i]);
		rt_hist_write(&s->hist[i], b, "ringtrail_store_seconds",
			      labels);
	}
	rt_buf_printf(b,
		      "# HELP ringtrail_store_errors_total Store operations "
		      "that failed.\n# TYPE ringtrail_store_errors_total "
		      "counter\nringtrail_store_errors_total %llu\n",
		      (unsigned long long)atomic_load(&s->errors));
}
