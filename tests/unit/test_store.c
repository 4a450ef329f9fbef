/*
 * Unit tests of the store with the SQLite backend, on ":memory:" and on a
 * temporary file: migrations, the account tree and tenant scope, users and
 * memberships, API keys, dashboard sessions, the audit log, idempotency
 * keys, pagination, lock waits and fault injection.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_int.h" /* rt_store_migrate_to */

#define PW_MAX 128 /* a password hash buffer, as store.h asks */

static const struct rt_store_opts opts = {.pool_size = 2,
					  .busy_timeout_ms = 100};

/* ---- fixtures ----------------------------------------------------------- */

/*
 * A migrated in-memory store with two tenants:
 *   agency A ── client A1
 *           └── agency A2 ── client A21
 *   agency B
 * and users: ua (owner of A), ua1 (analyst in A1), ub (owner of B).
 */
struct fx {
	struct rt_store *s;
	struct rt_store_tx *tx; /* an open write transaction */
	int64_t a, a1, a2, a21, b;
	int64_t ua, ua1, ub;
};

static void mk_account(struct rt_store_tx *tx, int64_t scope, int64_t parent,
		       const char *name, const char *kind, int64_t *idp)
{
	struct rt_account acc = {.parent_id = parent};

	rt_strlcpy(acc.name, name, sizeof(acc.name));
	rt_strlcpy(acc.kind, kind, sizeof(acc.kind));
	rt_strlcpy(acc.time_zone, "UTC", sizeof(acc.time_zone));
	rt_strlcpy(acc.currency, "USD", sizeof(acc.currency));
	if (parent)
		assert_int_equal(rt_store_account_create(tx, scope, &acc), 0);
	else
		assert_int_equal(rt_store_account_create_root(tx, &acc), 0);
	assert_true(acc.id > 0);
	assert_string_equal(acc.status, "active");
	*idp = acc.id;
}

static int mk_user(struct rt_store_tx *tx, int64_t scope, const char *email,
		   int64_t account, const char *role, int64_t *idp)
{
	struct rt_user u = {0};
	int err;

	rt_strlcpy(u.email, email, sizeof(u.email));
	rt_strlcpy(u.name, email, sizeof(u.name));
	err = rt_store_user_create(tx, scope, &u, "$argon2id$fake", account,
				   role);
	if (!err)
		*idp = u.id;
	return err;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	unsigned applied = 0;

	if (!f || rt_store_open(&f->s, ":memory:", &opts) ||
	    rt_store_migrate(f->s, &applied) || applied == 0)
		return -1;
	if (rt_store_begin(f->s, true, &f->tx))
		return -1;
	mk_account(f->tx, 0, 0, "A", "agency", &f->a);
	mk_account(f->tx, f->a, f->a, "A1", "client", &f->a1);
	mk_account(f->tx, f->a, f->a, "A2", "agency", &f->a2);
	mk_account(f->tx, f->a2, f->a2, "A21", "client", &f->a21);
	mk_account(f->tx, 0, 0, "B", "agency", &f->b);
	if (mk_user(f->tx, f->a, "ua@example.com", f->a, "owner", &f->ua) ||
	    mk_user(f->tx, f->a, "ua1@example.com", f->a1, "analyst",
		    &f->ua1) ||
	    mk_user(f->tx, f->b, "ub@example.com", f->b, "owner", &f->ub))
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f->tx)
		rt_store_rollback(f->tx);
	rt_store_close(f->s);
	free(f);
	return 0;
}

/* Collects ids from list callbacks. */
struct ids {
	int64_t v[256];
	size_t n;
};

static int account_id_h(const struct rt_account *a, void *arg)
{
	struct ids *ids = arg;

	ids->v[ids->n++] = a->id;
	return 0;
}

static int user_id_h(const struct rt_user *u, void *arg)
{
	struct ids *ids = arg;

	ids->v[ids->n++] = u->id;
	return 0;
}

static int membership_id_h(const struct rt_membership *m, void *arg)
{
	struct ids *ids = arg;

	ids->v[ids->n++] = m->id;
	return 0;
}

static int apikey_id_h(const struct rt_apikey *k, void *arg)
{
	struct ids *ids = arg;

	ids->v[ids->n++] = k->id;
	return 0;
}

static int audit_id_h(const struct rt_audit *a, void *arg)
{
	struct ids *ids = arg;

	ids->v[ids->n++] = a->object_id;
	return 0;
}

static bool has(const struct ids *ids, int64_t id)
{
	for (size_t i = 0; i < ids->n; i++) {
		if (ids->v[i] == id)
			return true;
	}
	return false;
}

static char *mk_tmpdir(void)
{
	char *dir = strdup("/tmp/rt-unit-store-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void rm_tmpdir(char *dir)
{
	static const char *const files[] = {"rt.db", "rt.db-wal", "rt.db-shm",
					    "rt.db-journal"};
	char path[256];

	for (size_t i = 0; i < RT_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
}

/* ---- connection layer and migrations ------------------------------------ */

static void test_open_and_migrate_file(void **state)
{
	char *dir = mk_tmpdir(), path[256];
	struct rt_store *s;
	unsigned applied = 99, cur = 99, latest = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/rt.db", dir);
	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	assert_string_equal(rt_store_backend(s), "sqlite");
	assert_int_equal(rt_store_ping(s), 0);
	assert_int_equal(rt_store_schema_version(s, &cur, &latest), 0);
	assert_int_equal(cur, 0);
	assert_true(latest >= 1);

	assert_int_equal(rt_store_migrate(s, &applied), 0);
	assert_int_equal(applied, latest);
	assert_int_equal(rt_store_schema_version(s, &cur, &latest), 0);
	assert_int_equal(cur, latest);
	/* Idempotent: a second run applies nothing. */
	assert_int_equal(rt_store_migrate(s, &applied), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(rt_store_migrate(s, NULL), 0);
	rt_store_close(s);

	/* Reopening finds the schema in place. */
	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	assert_int_equal(rt_store_migrate(s, &applied), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(rt_store_schema_version(s, &cur, &latest), 0);
	assert_int_equal(cur, latest);
	rt_store_close(s);
	rm_tmpdir(dir);
}

static void test_data_survives_reopen(void **state)
{
	char *dir = mk_tmpdir(), path[256];
	struct rt_store *s;
	struct rt_store_tx *tx;
	struct rt_account acc;
	int64_t id;

	(void)state;
	snprintf(path, sizeof(path), "%s/rt.db", dir);
	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	assert_int_equal(rt_store_migrate(s, NULL), 0);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	mk_account(tx, 0, 0, "Kept", "agency", &id);
	assert_int_equal(rt_store_commit(tx), 0);
	/* A rolled back write leaves nothing behind. */
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	{
		int64_t gone;

		mk_account(tx, 0, 0, "Gone", "agency", &gone);
	}
	rt_store_rollback(tx);
	rt_store_close(s);

	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	assert_int_equal(rt_store_begin(s, false, &tx), 0);
	assert_int_equal(rt_store_account_get(tx, id, id, &acc), 0);
	assert_string_equal(acc.name, "Kept");
	assert_string_equal(acc.kind, "agency");
	assert_string_equal(acc.time_zone, "UTC");
	assert_string_equal(acc.currency, "USD");
	assert_true(acc.created_at > 0 && acc.created_at == acc.updated_at);
	{
		int64_t n = 0;

		assert_int_equal(rt_store_account_count(tx, &n), 0);
		assert_int_equal(n, 1);
	}
	rt_store_rollback(tx);
	rt_store_close(s);
	rm_tmpdir(dir);
}

static void test_refuses_newer_schema(void **state)
{
	struct rt_store *s;
	struct rt_store_tx *tx;
	struct rt_val args[] = {RT_VINT(999), RT_VTEXT("from the future"),
				RT_VINT(1)};

	(void)state;
	assert_int_equal(rt_store_open(&s, ":memory:", &opts), 0);
	assert_int_equal(rt_store_migrate(s, NULL), 0);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_int_equal(
		rt_store_query(tx,
			       "INSERT INTO schema_version (version, name, "
			       "applied_at) VALUES (?1, ?2, ?3)",
			       args, 3, NULL, NULL, NULL),
		0);
	assert_int_equal(rt_store_commit(tx), 0);
	/* An older binary must not run against a newer database. */
	assert_int_equal(rt_store_migrate(s, NULL), EPROTO);
	rt_store_close(s);
}

static void test_open_errors(void **state)
{
	struct rt_store *s = NULL;

	(void)state;
	assert_int_equal(rt_store_open(&s, "postgres://localhost/rt", &opts),
			 EPROTONOSUPPORT);
	assert_int_equal(rt_store_open(&s, "/nonexistent-dir-rt/sub/rt.db",
				       &opts),
			 ENOENT);
	assert_null(s);
}

static int count_rows_h(const struct rt_val *cols, size_t n, void *arg)
{
	(void)cols;
	(void)n;
	++*(int *)arg;
	return 0;
}

static int stop_h(const struct rt_val *cols, size_t n, void *arg)
{
	(void)cols;
	(void)n;
	++*(int *)arg;
	return ECANCELED;
}

static void test_query_values_and_errors(void **state)
{
	struct fx *f = *state;
	struct rt_val args[] = {RT_VINT(-5), RT_VTEXT("x\xc3\xa9"), RT_VNULL};
	int rows = 0;
	int64_t changes = -1;

	/* A row callback's error stops the query and comes back. */
	assert_int_equal(rt_store_query(f->tx, "SELECT id FROM accounts", NULL,
					0, stop_h, &rows, NULL),
			 ECANCELED);
	assert_int_equal(rows, 1);
	rows = 0;
	assert_int_equal(rt_store_query(f->tx, "SELECT ?1, ?2, ?3", args, 3,
					count_rows_h, &rows, NULL),
			 0);
	assert_int_equal(rows, 1);
	/* Bad SQL is EIO, not a crash. */
	assert_int_equal(rt_store_query(f->tx, "SELECT FROM nowhere", NULL, 0,
					NULL, NULL, NULL),
			 EIO);
	/* Rows changed are reported. */
	assert_int_equal(rt_store_query(f->tx,
					"UPDATE accounts SET updated_at = 1",
					NULL, 0, NULL, NULL, &changes),
			 0);
	assert_int_equal(changes, 5);
}

static void test_write_lock_times_out_with_ebusy(void **state)
{
	char *dir = mk_tmpdir(), path[256];
	struct rt_store *s;
	struct rt_store_tx *w1, *w2 = NULL, *r;
	uint64_t t0;

	(void)state;
	snprintf(path, sizeof(path), "%s/rt.db", dir);
	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	assert_int_equal(rt_store_migrate(s, NULL), 0);
	assert_int_equal(rt_store_begin(s, true, &w1), 0);
	/* The second writer waits busy_timeout, then gets EBUSY (a 503). */
	t0 = rt_mono_us();
	assert_int_equal(rt_store_begin(s, true, &w2), EBUSY);
	assert_true(rt_mono_us() - t0 >= 50000);
	/* Readers are not blocked by a writer (WAL). */
	assert_int_equal(rt_store_begin(s, false, &r), 0);
	assert_int_equal(rt_store_query(r, "SELECT 1", NULL, 0, NULL, NULL,
					NULL),
			 0);
	rt_store_rollback(r);
	assert_int_equal(rt_store_commit(w1), 0);
	assert_int_equal(rt_store_begin(s, true, &w2), 0);
	rt_store_rollback(w2);
	rt_store_close(s);
	rm_tmpdir(dir);
}

/* A call of account a, as the call service writes it at the INVITE. */
static void put_call(struct rt_store_tx *tx, int64_t id, int64_t a)
{
	struct rt_call *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->id = id;
	c->account_id = a;
	rt_strlcpy(c->tracking_number, "+13125550100",
		   sizeof(c->tracking_number));
	rt_strlcpy(c->caller_number, "+14155550123", sizeof(c->caller_number));
	c->started_at = 1000 * id;
	assert_int_equal(rt_store_call_insert(tx, c), 0);
	assert_int_equal(rt_store_call_event_add(tx, id, a, c->started_at,
						 "invite", "{\"n\":1}"),
			 0);
	free(c);
}

/* Ends call id with disposition d: the update's error. */
static int end_call(struct rt_store_tx *tx, int64_t scope, int64_t id,
		    const char *d)
{
	struct rt_call *c = calloc(1, sizeof(*c));
	int err;

	assert_non_null(c);
	assert_int_equal(rt_store_call_get(tx, scope, id, c), 0);
	rt_strlcpy(c->disposition, d, sizeof(c->disposition));
	c->ended_at = c->started_at + 5000;
	c->total_ms = 5000;
	c->updated_at = c->ended_at;
	err = rt_store_call_update(tx, c);
	free(c);
	return err;
}

static const char *disposition_of(struct rt_store_tx *tx, int64_t scope,
				  int64_t id)
{
	static char d[16];
	struct rt_call *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(rt_store_call_get(tx, scope, id, c), 0);
	rt_strlcpy(d, c->disposition, sizeof(d));
	free(c);
	return d;
}

static int count_event_h(const struct rt_call_event *e, void *arg)
{
	assert_string_equal(e->kind, "invite");
	++*(int *)arg;
	return 0;
}

/*
 * Migration 11 on a database at version 10 with calls in it: the calls and
 * their events stay; a call may then end 'voicemail', on either
 * connection of the pool and after the database is opened again; 'bogus'
 * is still refused.
 */
static void test_migration_11_voicemail(void **state)
{
	char *dir = mk_tmpdir(), path[256];
	struct rt_store *s;
	struct rt_store_tx *tx, *other;
	unsigned applied = 0, cur = 0, latest = 0;
	int64_t a;
	int events = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/rt.db", dir);
	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	assert_int_equal(rt_store_migrate_to(s, 10, &applied), 0);
	assert_int_equal(applied, 10);
	assert_int_equal(rt_store_schema_version(s, &cur, &latest), 0);
	assert_int_equal(cur, 10);
	assert_true(latest >= 11);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	mk_account(tx, 0, 0, "A", "agency", &a);
	for (int64_t id = 1; id <= 3; id++)
		put_call(tx, id, a);
	assert_int_equal(end_call(tx, a, 1, "answered"), 0);
	assert_int_equal(rt_store_commit(tx), 0);
	/* Before: not a disposition. */
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_int_equal(end_call(tx, a, 2, "voicemail"), EINVAL);
	rt_store_rollback(tx);

	assert_int_equal(rt_store_migrate(s, &applied), 0);
	assert_int_equal(applied, latest - 10);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_string_equal(disposition_of(tx, a, 1), "answered");
	assert_string_equal(disposition_of(tx, a, 3), "in_progress");
	assert_int_equal(rt_store_call_events_list(tx, a, 1, 10, count_event_h,
						   &events),
			 0);
	assert_int_equal(events, 1);
	/* Each connection of the pool writes under the new definition: a
	 * reader holds one while the other writes, then the other way. */
	assert_int_equal(rt_store_begin(s, false, &other), 0);
	rt_store_rollback(tx);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_int_equal(end_call(tx, a, 2, "voicemail"), 0);
	assert_int_equal(end_call(tx, a, 3, "bogus"), EINVAL);
	assert_int_equal(rt_store_commit(tx), 0);
	assert_string_equal(disposition_of(other, a, 1), "answered");
	rt_store_rollback(other);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_int_equal(rt_store_begin(s, false, &other), 0);
	assert_int_equal(end_call(tx, a, 3, "voicemail"), 0);
	assert_int_equal(end_call(tx, a, 1, "bogus"), EINVAL);
	rt_store_rollback(other);
	rt_store_rollback(tx);
	rt_store_close(s);

	/* Opened again: the new definition is the stored one. */
	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	assert_int_equal(rt_store_migrate(s, &applied), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_string_equal(disposition_of(tx, a, 2), "voicemail");
	assert_int_equal(end_call(tx, a, 3, "voicemail"), 0);
	assert_int_equal(end_call(tx, a, 3, "bogus"), EINVAL);
	assert_int_equal(rt_store_query(tx, "PRAGMA integrity_check", NULL, 0,
					NULL, NULL, NULL),
			 0);
	assert_int_equal(rt_store_commit(tx), 0);
	rt_store_close(s);
	rm_tmpdir(dir);
}

/* The step that loosens a CHECK fails whole when the text it replaces is
 * not there exactly once, and leaves the table as it was. */
static void test_table_sql_replace_refuses_surprises(void **state)
{
	struct rt_store *s;
	struct rt_store_tx *tx;

	(void)state;
	assert_int_equal(rt_store_open(&s, ":memory:", &opts), 0);
	assert_int_equal(rt_store_migrate(s, NULL), 0);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_int_equal(rt_store_tx_table_sql_replace(tx, "calls",
						       "'no such text'", "x"),
			 EPROTO);
	/* twice in the text */
	assert_int_equal(rt_store_tx_table_sql_replace(tx, "calls", "BIGINT",
						       "INTEGER"),
			 EPROTO);
	assert_int_equal(rt_store_tx_table_sql_replace(tx, "no_table", "a",
						       "b"),
			 EPROTO);
	/* Text that does not parse is caught before the commit. */
	assert_int_equal(rt_store_tx_table_sql_replace(tx, "calls",
						       "'abandoned', ",
						       "'abandoned' ("),
			 EIO);
	rt_store_rollback(tx);
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	assert_int_equal(rt_store_query(tx, "SELECT COUNT(*) FROM calls", NULL,
					0, NULL, NULL, NULL),
			 0);
	rt_store_rollback(tx);
	rt_store_close(s);
}

static void test_metrics_count_operations(void **state)
{
	struct fx *f = *state;
	struct rt_buf b;

	rt_buf_init(&b);
	rt_store_metrics(f->s, &b);
	assert_int_equal(b.err, 0);
	assert_non_null(
		strstr(b.s, "# TYPE ringtrail_store_seconds histogram"));
	assert_non_null(
		strstr(b.s, "ringtrail_store_seconds_count{backend=\"sqlite\","
			    "op=\"query\"} "));
	assert_null(strstr(b.s, "op=\"query\"} 0\n"));
	assert_non_null(strstr(b.s, "ringtrail_store_errors_total 0\n"));
	rt_buf_release(&b);
}

/* ---- accounts and the tenant scope ------------------------------------- */

static void test_account_tree_scope(void **state)
{
	struct fx *f = *state;
	struct rt_account acc;

	/* An agency reaches its clients at any depth. */
	assert_int_equal(rt_store_account_get(f->tx, f->a, f->a1, &acc), 0);
	assert_true(acc.parent_id == f->a);
	assert_string_equal(acc.kind, "client");
	assert_int_equal(rt_store_account_get(f->tx, f->a, f->a21, &acc), 0);
	assert_int_equal(rt_store_account_in_scope(f->tx, f->a, f->a21), 0);
	assert_int_equal(rt_store_account_get(f->tx, f->a1, f->a1, &acc), 0);

	/* Upwards, sideways and across tenants: as if it did not exist. */
	assert_int_equal(rt_store_account_get(f->tx, f->a1, f->a, &acc),
			 ENOENT);
	assert_int_equal(rt_store_account_get(f->tx, f->a1, f->a2, &acc),
			 ENOENT);
	assert_int_equal(rt_store_account_get(f->tx, f->a2, f->a1, &acc),
			 ENOENT);
	assert_int_equal(rt_store_account_get(f->tx, f->a, f->b, &acc), ENOENT);
	assert_int_equal(rt_store_account_get(f->tx, f->b, f->a1, &acc),
			 ENOENT);
	assert_int_equal(rt_store_account_get(f->tx, f->a, 9999, &acc), ENOENT);
	assert_int_equal(rt_store_account_in_scope(f->tx, f->b, f->a), ENOENT);
}

static int version_h(const struct rt_flow_version *v, void *arg)
{
	struct ids *ids = arg;

	ids->v[ids->n++] = v->version;
	return 0;
}

struct counters {
	char step[4][48];
	int64_t next[4];
	size_t n;
	bool stop;
};

static int counter_h(const char *step, int64_t next, void *arg)
{
	struct counters *c = arg;

	assert_true(c->n < 4);
	rt_strlcpy(c->step[c->n], step, sizeof(c->step[0]));
	c->next[c->n++] = next;
	return c->stop ? ECANCELED : 0;
}

/* Flows: versions kept, scope, the in-use guard, round robin counters
 * per flow and step. */
static void test_flows(void **state)
{
	struct fx *f = *state;
	struct rt_flow_row fl = {.account_id = 0}, got;
	struct ids ids = {0};
	struct counters ctr = {.n = 0};
	char *doc = NULL;
	int64_t next;

	fl.account_id = f->a1;
	rt_strlcpy(fl.name, "Main", sizeof(fl.name));
	assert_int_equal(rt_store_flow_create(f->tx, f->a, &fl, "{\"v\":1}",
					      f->ua),
			 0);
	assert_int_equal(fl.version, 1);
	/* another tenant, and a client above its own scope: nothing */
	assert_int_equal(rt_store_flow_get(f->tx, f->b, fl.id, &got), ENOENT);
	assert_int_equal(rt_store_flow_create(f->tx, f->a1,
					      &(struct rt_flow_row){
						      .account_id = f->a},
					      "{}", 0),
			 ENOENT);
	assert_int_equal(rt_store_flow_update(f->tx, f->a, fl.id, NULL,
					      "{\"v\":2}", 0, &got),
			 0);
	assert_int_equal(got.version, 2);
	assert_int_equal(rt_store_flow_update(f->tx, f->a, fl.id, "Renamed",
					      NULL, 0, &got),
			 0);
	assert_int_equal(got.version, 2);
	assert_string_equal(got.name, "Renamed");
	assert_int_equal(rt_store_flow_doc(f->tx, f->a1, fl.id, 1, &doc), 0);
	assert_string_equal(doc, "{\"v\":1}");
	free(doc);
	assert_int_equal(rt_store_flow_doc(f->tx, f->a1, fl.id, 0, &doc), 0);
	assert_string_equal(doc, "{\"v\":2}");
	free(doc);
	assert_int_equal(rt_store_flow_doc(f->tx, f->b, fl.id, 0, &doc),
			 ENOENT);
	assert_int_equal(rt_store_flow_doc(f->tx, f->a, fl.id, 3, &doc),
			 ENOENT);
	assert_int_equal(rt_store_flow_versions(f->tx, f->a, fl.id, version_h,
						&ids),
			 0);
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.v[0], 2);
	assert_int_equal(rt_store_flow_fits(f->tx, f->a, fl.id, f->a1), 0);
	assert_int_equal(rt_store_flow_fits(f->tx, f->a, fl.id, f->a), EPERM);
	assert_int_equal(rt_store_flow_fits(f->tx, f->b, fl.id, f->b), ENOENT);

	/* counters: 0, 1, 2 for one step, apart for another */
	for (int64_t i = 0; i < 3; i++) {
		assert_int_equal(rt_store_flow_counter_next(f->tx, fl.id, "d",
							    &next),
				 0);
		assert_int_equal(next, i);
	}
	assert_int_equal(rt_store_flow_counter_next(f->tx, fl.id, "e", &next),
			 0);
	assert_int_equal(next, 0);

	/* Listed by step; set only forward; a new step by set. */
	ctr.n = 0;
	assert_int_equal(rt_store_flow_counters(f->tx, fl.id, counter_h, &ctr),
			 0);
	assert_int_equal(ctr.n, 2);
	assert_string_equal(ctr.step[0], "d");
	assert_int_equal(ctr.next[0], 3);
	assert_string_equal(ctr.step[1], "e");
	assert_int_equal(ctr.next[1], 1);
	assert_int_equal(rt_store_flow_counter_set(f->tx, fl.id, "d", 2), 0);
	assert_int_equal(rt_store_flow_counter_set(f->tx, fl.id, "e", 7), 0);
	assert_int_equal(rt_store_flow_counter_set(f->tx, fl.id, "f", 4), 0);
	assert_int_equal(rt_store_flow_counter_set(f->tx, fl.id, "f", 4), 0);
	ctr.n = 0;
	assert_int_equal(rt_store_flow_counters(f->tx, fl.id, counter_h, &ctr),
			 0);
	assert_int_equal(ctr.n, 3);
	assert_int_equal(ctr.next[0], 3); /* not back to 2 */
	assert_int_equal(ctr.next[1], 7);
	assert_string_equal(ctr.step[2], "f");
	assert_int_equal(ctr.next[2], 4);
	/* next counts on from what was set */
	assert_int_equal(rt_store_flow_counter_next(f->tx, fl.id, "e", &next),
			 0);
	assert_int_equal(next, 7);
	/* a handler's stop comes back; another flow has none */
	ctr.n = 0;
	ctr.stop = true;
	assert_int_equal(rt_store_flow_counters(f->tx, fl.id, counter_h, &ctr),
			 ECANCELED);
	assert_int_equal(ctr.n, 1);
	ctr.n = 0;
	ctr.stop = false;
	assert_int_equal(rt_store_flow_counters(f->tx, fl.id + 1000, counter_h,
						&ctr),
			 0);
	assert_int_equal(ctr.n, 0);
	/* a counter of no flow: the foreign key */
	assert_int_equal(rt_store_flow_counter_set(f->tx, fl.id + 1000, "d", 1),
			 ENOENT);

	/* deleted: hidden, and not deleted twice */
	assert_int_equal(rt_store_flow_delete(f->tx, f->b, fl.id), ENOENT);
	assert_int_equal(rt_store_flow_delete(f->tx, f->a, fl.id), 0);
	assert_int_equal(rt_store_flow_delete(f->tx, f->a, fl.id), ENOENT);
	assert_int_equal(rt_store_flow_get(f->tx, f->a, fl.id, &got), ENOENT);
	/* the versions stay for the calls that ran them */
	assert_int_equal(rt_store_flow_doc(f->tx, f->a, fl.id, 1, &doc), 0);
	free(doc);
}

static int audio_h(const struct rt_audio_row *a, void *arg)
{
	struct ids *ids = arg;

	ids->v[ids->n++] = a->id;
	return 0;
}

/* Uploaded audio: samples kept exactly, scope, the list, the in-use guard
 * of flows' latest versions. */
static void test_audio(void **state)
{
	struct fx *f = *state;
	struct rt_audio_row a = {.account_id = 0}, got;
	struct rt_flow_row fl = {.account_id = 0};
	struct ids ids = {0};
	struct rt_page pg = {.limit = 10};
	int16_t pcm[800], *back = NULL;
	size_t n = 0;

	for (size_t i = 0; i < RT_ARRAY_SIZE(pcm); i++)
		pcm[i] = (int16_t)(i * 97 - 30000);
	a.account_id = f->a1;
	rt_strlcpy(a.name, "greeting.mp3", sizeof(a.name));
	rt_strlcpy(a.format, "mp3", sizeof(a.format));
	assert_int_equal(rt_store_audio_create(f->tx, f->a, &a, pcm,
					       RT_ARRAY_SIZE(pcm)),
			 0);
	assert_true(a.id > 0);
	assert_int_equal(a.duration_ms, 100);
	assert_int_equal(a.bytes, 1600);
	assert_int_equal(a.flows, 0);
	assert_string_equal(a.name, "greeting.mp3");
	/* empty, too long, above the scope */
	assert_int_equal(rt_store_audio_create(f->tx, f->a, &got, pcm, 0),
			 EINVAL);
	assert_int_equal(
		rt_store_audio_create(f->tx, f->a1,
				      &(struct rt_audio_row){.account_id = f->a,
							     .format = "wav"},
				      pcm, 10),
		ENOENT);

	assert_int_equal(rt_store_audio_pcm(f->tx, f->a1, a.id, &back, &n), 0);
	assert_int_equal(n, RT_ARRAY_SIZE(pcm));
	assert_memory_equal(back, pcm, sizeof(pcm));
	free(back);
	assert_int_equal(rt_store_audio_pcm(f->tx, f->b, a.id, &back, &n),
			 ENOENT);
	assert_int_equal(rt_store_audio_get(f->tx, f->b, a.id, &got), ENOENT);
	assert_int_equal(rt_store_audio_get(f->tx, f->a2, a.id, &got), ENOENT);
	assert_int_equal(rt_store_audio_list(f->tx, f->a, 0, &pg, audio_h,
					     &ids),
			 0);
	assert_int_equal(ids.n, 1);
	ids.n = 0;
	assert_int_equal(rt_store_audio_list(f->tx, f->b, 0, &pg, audio_h,
					     &ids),
			 0);
	assert_int_equal(ids.n, 0);

	/* a flow's latest version plays it: kept */
	fl.account_id = f->a1;
	rt_strlcpy(fl.name, "Main", sizeof(fl.name));
	assert_int_equal(rt_store_flow_create(f->tx, f->a, &fl, "{}", 0), 0);
	assert_int_equal(rt_store_flow_audio_set(f->tx, fl.id,
						 (int64_t[]){a.id, a.id}, 2),
			 0);
	assert_int_equal(rt_store_audio_get(f->tx, f->a, a.id, &got), 0);
	assert_int_equal(got.flows, 1);
	assert_int_equal(rt_store_audio_delete(f->tx, f->a, a.id), ENOTEMPTY);
	/* a new version without it, or a deleted flow: free to go */
	assert_int_equal(rt_store_flow_audio_set(f->tx, fl.id, NULL, 0), 0);
	assert_int_equal(rt_store_audio_get(f->tx, f->a, a.id, &got), 0);
	assert_int_equal(got.flows, 0);
	assert_int_equal(rt_store_flow_audio_set(f->tx, fl.id, &a.id, 1), 0);
	assert_int_equal(rt_store_flow_delete(f->tx, f->a, fl.id), 0);
	assert_int_equal(rt_store_audio_delete(f->tx, f->b, a.id), ENOENT);
	assert_int_equal(rt_store_audio_delete(f->tx, f->a1, a.id), 0);
	assert_int_equal(rt_store_audio_get(f->tx, f->a, a.id, &got), ENOENT);
	assert_int_equal(rt_store_audio_delete(f->tx, f->a1, a.id), ENOENT);
}

static void test_account_create_rules(void **state)
{
	struct fx *f = *state;
	struct rt_account acc = {0};
	int64_t n = 0;

	rt_strlcpy(acc.name, "x", sizeof(acc.name));
	rt_strlcpy(acc.kind, "client", sizeof(acc.kind));
	rt_strlcpy(acc.time_zone, "UTC", sizeof(acc.time_zone));
	rt_strlcpy(acc.currency, "EUR", sizeof(acc.currency));

	/* A client account has no children. */
	acc.parent_id = f->a1;
	assert_int_equal(rt_store_account_create(f->tx, f->a, &acc), EPERM);
	/* Nor can anyone hang an account under another tenant. */
	acc.parent_id = f->b;
	assert_int_equal(rt_store_account_create(f->tx, f->a, &acc), ENOENT);
	acc.parent_id = f->a;
	assert_int_equal(rt_store_account_create(f->tx, f->a2, &acc), ENOENT);
	/* A bad kind is refused by the schema. */
	acc.parent_id = f->a;
	rt_strlcpy(acc.kind, "planet", sizeof(acc.kind));
	assert_int_equal(rt_store_account_create(f->tx, f->a, &acc), EINVAL);

	assert_int_equal(rt_store_account_count(f->tx, &n), 0);
	assert_int_equal(n, 5);

	rt_strlcpy(acc.kind, "client", sizeof(acc.kind));
	assert_int_equal(rt_store_account_create(f->tx, f->a, &acc), 0);
	assert_true(acc.parent_id == f->a);
	assert_string_equal(acc.currency, "EUR");
	/* The new account is in the agency's scope at once. */
	assert_int_equal(rt_store_account_in_scope(f->tx, f->a, acc.id), 0);
	assert_int_equal(rt_store_account_in_scope(f->tx, f->b, acc.id),
			 ENOENT);
}

static void test_account_update_scope(void **state)
{
	struct fx *f = *state;
	struct rt_account acc, check;

	assert_int_equal(rt_store_account_get(f->tx, f->a, f->a1, &acc), 0);
	rt_strlcpy(acc.name, "Renamed", sizeof(acc.name));
	rt_strlcpy(acc.currency, "GBP", sizeof(acc.currency));
	rt_strlcpy(acc.status, "suspended", sizeof(acc.status));
	assert_int_equal(rt_store_account_update(f->tx, f->a, &acc), 0);
	assert_string_equal(acc.name, "Renamed");
	assert_int_equal(rt_store_account_get(f->tx, f->a1, f->a1, &check), 0);
	assert_string_equal(check.name, "Renamed");
	assert_string_equal(check.currency, "GBP");
	assert_string_equal(check.status, "suspended");
	assert_string_equal(check.kind, "client");
	assert_true(check.parent_id == f->a);

	/* Another tenant's update is ENOENT and changes nothing. */
	rt_strlcpy(acc.name, "Hijacked", sizeof(acc.name));
	assert_int_equal(rt_store_account_update(f->tx, f->b, &acc), ENOENT);
	/* A client may not update its agency. */
	acc.id = f->a;
	assert_int_equal(rt_store_account_update(f->tx, f->a1, &acc), ENOENT);
	assert_int_equal(rt_store_account_get(f->tx, f->a, f->a1, &check), 0);
	assert_string_equal(check.name, "Renamed");
	assert_int_equal(rt_store_account_get(f->tx, f->a, f->a, &check), 0);
	assert_string_equal(check.name, "A");

	/* The schema refuses an unknown status. */
	assert_int_equal(rt_store_account_get(f->tx, f->a, f->a1, &acc), 0);
	rt_strlcpy(acc.status, "deleted", sizeof(acc.status));
	assert_int_equal(rt_store_account_update(f->tx, f->a, &acc), EINVAL);
}

static void test_account_list_scope(void **state)
{
	struct fx *f = *state;
	struct rt_page pg = {0, 0};
	struct ids ids = {0};

	assert_int_equal(rt_store_account_list(f->tx, f->a, &pg, account_id_h,
					       &ids),
			 0);
	assert_int_equal(ids.n, 4);
	assert_true(has(&ids, f->a) && has(&ids, f->a1) && has(&ids, f->a2) &&
		    has(&ids, f->a21));
	assert_false(has(&ids, f->b));

	ids.n = 0;
	assert_int_equal(rt_store_account_list(f->tx, f->a2, &pg, account_id_h,
					       &ids),
			 0);
	assert_int_equal(ids.n, 2);
	assert_true(has(&ids, f->a2) && has(&ids, f->a21));

	ids.n = 0;
	assert_int_equal(rt_store_account_list(f->tx, f->b, &pg, account_id_h,
					       &ids),
			 0);
	assert_int_equal(ids.n, 1);
	assert_true(ids.v[0] == f->b);

	/* The operator's list sees everything. */
	ids.n = 0;
	assert_int_equal(rt_store_account_list_all(f->tx, &pg, account_id_h,
						   &ids),
			 0);
	assert_int_equal(ids.n, 5);
}

static void test_pagination(void **state)
{
	struct fx *f = *state;
	struct rt_page pg = {0, 2};
	struct ids ids = {0};
	int64_t last = 0, id;
	size_t pages = 0, seen = 0;

	for (int i = 0; i < 60; i++) {
		char name[16];

		snprintf(name, sizeof(name), "C%d", i);
		mk_account(f->tx, f->a, f->a, name, "client", &id);
	}

	/* Default limit is 50. */
	assert_int_equal(rt_store_account_list(f->tx, f->a, &pg, account_id_h,
					       &ids),
			 0);
	assert_int_equal(ids.n, 2);
	ids.n = 0;
	pg.limit = 0;
	assert_int_equal(rt_store_account_list(f->tx, f->a, &pg, account_id_h,
					       &ids),
			 0);
	assert_int_equal(ids.n, 50);

	/* Walking with after/limit sees every account once, in id order. */
	pg.limit = 7;
	for (;;) {
		ids.n = 0;
		pg.after = last;
		assert_int_equal(rt_store_account_list(f->tx, f->a, &pg,
						       account_id_h, &ids),
				 0);
		if (ids.n == 0)
			break;
		assert_true(ids.n <= 7);
		for (size_t i = 0; i < ids.n; i++) {
			assert_true(ids.v[i] > last);
			last = ids.v[i];
		}
		seen += ids.n;
		pages++;
	}
	assert_int_equal(seen, 64);
	assert_int_equal(pages, 10);

	/* Other tenants' rows do not appear on any page. */
	ids.n = 0;
	pg.after = 0;
	pg.limit = 200;
	assert_int_equal(rt_store_account_list(f->tx, f->b, &pg, account_id_h,
					       &ids),
			 0);
	assert_int_equal(ids.n, 1);
}

/* ---- users and memberships ---------------------------------------------- */

static void test_user_visibility(void **state)
{
	struct fx *f = *state;
	struct rt_user u;
	struct rt_page pg = {0, 0};
	struct ids ids = {0};
	char pw[PW_MAX];

	/* Seen through a membership in scope, never across tenants. */
	assert_int_equal(rt_store_user_get(f->tx, f->a, f->ua1, &u), 0);
	assert_string_equal(u.email, "ua1@example.com");
	assert_string_equal(u.status, "active");
	assert_int_equal(rt_store_user_get(f->tx, f->a1, f->ua1, &u), 0);
	assert_int_equal(rt_store_user_get(f->tx, f->a1, f->ua, &u), ENOENT);
	assert_int_equal(rt_store_user_get(f->tx, f->a2, f->ua1, &u), ENOENT);
	assert_int_equal(rt_store_user_get(f->tx, f->b, f->ua, &u), ENOENT);
	assert_int_equal(rt_store_user_get(f->tx, f->a, f->ub, &u), ENOENT);

	assert_int_equal(rt_store_user_list(f->tx, f->a, &pg, user_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 2);
	assert_true(has(&ids, f->ua) && has(&ids, f->ua1));
	ids.n = 0;
	assert_int_equal(rt_store_user_list(f->tx, f->a1, &pg, user_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	assert_true(ids.v[0] == f->ua1);
	ids.n = 0;
	assert_int_equal(rt_store_user_list_all(f->tx, &pg, user_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 3);

	/* Login lookups are unscoped and return the hash. */
	assert_int_equal(rt_store_user_by_email(f->tx, "ub@example.com", &u, pw,
						sizeof(pw)),
			 0);
	assert_true(u.id == f->ub);
	assert_string_equal(pw, "$argon2id$fake");
	assert_int_equal(rt_store_user_by_email(f->tx, "nobody@example.com", &u,
						pw, sizeof(pw)),
			 ENOENT);
	assert_int_equal(rt_store_user_by_id(f->tx, f->ua, &u), 0);
	assert_int_equal(rt_store_user_touch_login(f->tx, f->ua, 12345), 0);
	assert_int_equal(rt_store_user_by_id(f->tx, f->ua, &u), 0);
	assert_true(u.last_login_at == 12345);
}

static void test_user_create_rules(void **state)
{
	struct fx *f = *state;
	int64_t id = 0;
	struct rt_user u;

	/* Emails are unique across tenants. */
	assert_int_equal(mk_user(f->tx, f->b, "ua@example.com", f->b, "admin",
				 &id),
			 EEXIST);
	/* Only into an account in scope. */
	assert_int_equal(mk_user(f->tx, f->a1, "new@example.com", f->a, "agent",
				 &id),
			 ENOENT);
	assert_int_equal(mk_user(f->tx, f->a, "new@example.com", f->b, "agent",
				 &id),
			 ENOENT);
	/* An unknown role is refused. */
	assert_int_equal(mk_user(f->tx, f->a, "new@example.com", f->a1, "god",
				 &id),
			 EINVAL);
	/* The operator's CLI (scope 0) places users anywhere. */
	assert_int_equal(mk_user(f->tx, 0, "op@example.com", f->b, "agent",
				 &id),
			 0);
	assert_int_equal(rt_store_user_get(f->tx, f->b, id, &u), 0);
}

static void test_user_update_refused_outside_scope(void **state)
{
	struct fx *f = *state;
	struct rt_membership m = {.user_id = 0};
	struct rt_user u, check;
	char pw[PW_MAX];

	/* ua1 is in A1 only: both A and A1 may change them. */
	assert_int_equal(rt_store_user_get(f->tx, f->a1, f->ua1, &u), 0);
	rt_strlcpy(u.name, "Analyst One", sizeof(u.name));
	assert_int_equal(rt_store_user_update(f->tx, f->a1, &u, NULL), 0);
	assert_int_equal(rt_store_user_update(f->tx, f->a, &u, "$argon2id$new"),
			 0);
	assert_int_equal(rt_store_user_by_email(f->tx, "ua1@example.com",
						&check, pw, sizeof(pw)),
			 0);
	assert_string_equal(check.name, "Analyst One");
	assert_string_equal(pw, "$argon2id$new");

	/* Once ua1 also belongs to B, neither A nor B alone may change the
	 * shared login. */
	m.user_id = f->ua1;
	m.account_id = f->b;
	rt_strlcpy(m.role, "agent", sizeof(m.role));
	assert_int_equal(rt_store_membership_create(f->tx, 0, &m), 0);
	rt_strlcpy(u.name, "Taken Over", sizeof(u.name));
	rt_strlcpy(u.status, "disabled", sizeof(u.status));
	assert_int_equal(rt_store_user_update(f->tx, f->a, &u,
					      "$argon2id$evil"),
			 EPERM);
	assert_int_equal(rt_store_user_update(f->tx, f->b, &u,
					      "$argon2id$evil"),
			 EPERM);
	assert_int_equal(rt_store_user_by_email(f->tx, "ua1@example.com",
						&check, pw, sizeof(pw)),
			 0);
	assert_string_equal(check.name, "Analyst One");
	assert_string_equal(check.status, "active");
	assert_string_equal(pw, "$argon2id$new");

	/* A user not in scope at all is ENOENT, not EPERM. */
	u.id = f->ub;
	assert_int_equal(rt_store_user_update(f->tx, f->a, &u, NULL), ENOENT);
}

/* A user's phone: written and read with the user, cleared with "", and
 * the call router's unscoped read of it (ENOENT for unknown or disabled
 * users). */
static void test_user_phone(void **state)
{
	struct fx *f = *state;
	struct rt_user u, got;
	char phone[256];

	assert_int_equal(rt_store_user_get(f->tx, f->a, f->ua1, &u), 0);
	assert_string_equal(u.phone, "");
	assert_int_equal(rt_store_user_phone(f->tx, f->ua1, phone,
					     sizeof(phone)),
			 0);
	assert_string_equal(phone, "");
	rt_strlcpy(u.phone, "sip:dana@pbx.example.com", sizeof(u.phone));
	assert_int_equal(rt_store_user_update(f->tx, f->a, &u, NULL), 0);
	assert_int_equal(rt_store_user_get(f->tx, f->a1, f->ua1, &got), 0);
	assert_string_equal(got.phone, "sip:dana@pbx.example.com");
	assert_int_equal(rt_store_user_phone(f->tx, f->ua1, phone,
					     sizeof(phone)),
			 0);
	assert_string_equal(phone, "sip:dana@pbx.example.com");
	/* Cut to the caller's buffer, never past it. */
	assert_int_equal(rt_store_user_phone(f->tx, f->ua1, phone, 5), 0);
	assert_string_equal(phone, "sip:");

	/* Made with one. */
	{
		struct rt_user n = {0};

		rt_strlcpy(n.email, "phone@example.com", sizeof(n.email));
		rt_strlcpy(n.name, "Phone", sizeof(n.name));
		rt_strlcpy(n.phone, "+14155550100", sizeof(n.phone));
		assert_int_equal(rt_store_user_create(f->tx, f->a, &n,
						      "$argon2id$fake", f->a1,
						      "agent"),
				 0);
		assert_string_equal(n.phone, "+14155550100");
		assert_int_equal(rt_store_user_by_id(f->tx, n.id, &got), 0);
		assert_string_equal(got.phone, "+14155550100");
	}

	/* Cleared; then disabled, and unknown. */
	u.phone[0] = '\0';
	assert_int_equal(rt_store_user_update(f->tx, f->a, &u, NULL), 0);
	assert_int_equal(rt_store_user_by_id(f->tx, f->ua1, &got), 0);
	assert_string_equal(got.phone, "");
	rt_strlcpy(u.phone, "+14155550101", sizeof(u.phone));
	rt_strlcpy(u.status, "disabled", sizeof(u.status));
	assert_int_equal(rt_store_user_update(f->tx, f->a, &u, NULL), 0);
	assert_int_equal(rt_store_user_phone(f->tx, f->ua1, phone,
					     sizeof(phone)),
			 ENOENT);
	assert_int_equal(rt_store_user_phone(f->tx, 999999, phone,
					     sizeof(phone)),
			 ENOENT);
	/* The login still reads its hash after the new column. */
	{
		char pw[PW_MAX];

		assert_int_equal(rt_store_user_by_email(f->tx,
							"ua1@example.com", &got,
							pw, sizeof(pw)),
				 0);
		assert_string_equal(pw, "$argon2id$fake");
		assert_string_equal(got.phone, "+14155550101");
	}
}

static void test_memberships(void **state)
{
	struct fx *f = *state;
	struct rt_membership m = {0}, got;
	struct rt_page pg = {0, 0};
	struct ids ids = {0};

	/* ua joins A21 from A's scope. */
	m.user_id = f->ua;
	m.account_id = f->a21;
	rt_strlcpy(m.role, "agent", sizeof(m.role));
	assert_int_equal(rt_store_membership_create(f->tx, f->a, &m), 0);
	assert_true(m.id > 0);
	/* One membership per user and account. */
	m.id = 0;
	rt_strlcpy(m.role, "admin", sizeof(m.role));
	assert_int_equal(rt_store_membership_create(f->tx, f->a, &m), EEXIST);
	/* Neither a user nor an account of another tenant can be joined. */
	m.user_id = f->ub;
	m.account_id = f->a1;
	assert_int_equal(rt_store_membership_create(f->tx, f->a, &m), ENOENT);
	m.user_id = f->ua;
	m.account_id = f->b;
	assert_int_equal(rt_store_membership_create(f->tx, f->a, &m), ENOENT);
	m.account_id = f->a1;
	rt_strlcpy(m.role, "superuser", sizeof(m.role));
	assert_int_equal(rt_store_membership_create(f->tx, f->a, &m), EINVAL);

	/* Listing and filters stay in scope. */
	assert_int_equal(rt_store_membership_list(f->tx, f->a, 0, 0, &pg,
						  membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 3); /* ua@A, ua1@A1, ua@A21 */
	ids.n = 0;
	assert_int_equal(rt_store_membership_list(f->tx, f->a, f->ua, 0, &pg,
						  membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 2);
	ids.n = 0;
	assert_int_equal(rt_store_membership_list(f->tx, f->a, 0, f->a21, &pg,
						  membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	ids.n = 0;
	assert_int_equal(rt_store_membership_list(f->tx, f->b, f->ua, 0, &pg,
						  membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 0);

	/* Get, update and delete of another tenant's membership: ENOENT. */
	assert_int_equal(rt_store_membership_list(f->tx, f->b, 0, 0, &pg,
						  membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	got.id = ids.v[0];
	assert_int_equal(rt_store_membership_get(f->tx, f->a, got.id, &got),
			 ENOENT);
	got.id = ids.v[0];
	rt_strlcpy(got.role, "agent", sizeof(got.role));
	assert_int_equal(rt_store_membership_update(f->tx, f->a, &got), ENOENT);
	assert_int_equal(rt_store_membership_delete(f->tx, f->a, ids.v[0]),
			 ENOENT);
	assert_int_equal(rt_store_membership_get(f->tx, f->b, ids.v[0], &got),
			 0);
	assert_string_equal(got.role, "owner");

	/* In scope they work. */
	ids.n = 0;
	assert_int_equal(rt_store_membership_list(f->tx, f->a21, 0, 0, &pg,
						  membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	got.id = ids.v[0];
	rt_strlcpy(got.role, "analyst", sizeof(got.role));
	assert_int_equal(rt_store_membership_update(f->tx, f->a2, &got), 0);
	assert_string_equal(got.role, "analyst");
	assert_true(got.user_id == f->ua && got.account_id == f->a21);
	assert_int_equal(rt_store_membership_delete(f->tx, f->a21, got.id), 0);
	assert_int_equal(rt_store_membership_delete(f->tx, f->a21, got.id),
			 ENOENT);
	assert_int_equal(rt_store_membership_get(f->tx, f->a, got.id, &got),
			 ENOENT);
}

static void test_membership_for_login_prefers_top(void **state)
{
	struct fx *f = *state;
	struct rt_membership m = {.user_id = 0}, got;

	/* ua1 also gets a membership in A: the login lands there. */
	m.user_id = f->ua1;
	m.account_id = f->a;
	rt_strlcpy(m.role, "agent", sizeof(m.role));
	assert_int_equal(rt_store_membership_create(f->tx, f->a, &m), 0);
	assert_int_equal(rt_store_membership_for_login(f->tx, f->ua1, 0, &got),
			 0);
	assert_true(got.account_id == f->a);
	assert_string_equal(got.role, "agent");
	assert_int_equal(rt_store_membership_for_login(f->tx, f->ua1, f->a1,
						       &got),
			 0);
	assert_true(got.account_id == f->a1);
	assert_string_equal(got.role, "analyst");
	assert_int_equal(rt_store_membership_for_login(f->tx, f->ua1, f->b,
						       &got),
			 ENOENT);
	/* An agency membership reaches the client accounts below it, and
	 * the nearest membership wins. */
	assert_int_equal(rt_store_membership_for_login(f->tx, f->ua, f->a21,
						       &got),
			 0);
	assert_true(got.account_id == f->a);
	assert_string_equal(got.role, "owner");
	assert_int_equal(rt_store_membership_for_login(f->tx, f->ua1, f->a21,
						       &got),
			 0);
	assert_true(got.account_id == f->a);
	assert_string_equal(got.role, "agent");
	/* But nothing upwards: a client membership does not reach A. */
	assert_int_equal(rt_store_membership_for_login(f->tx, f->ub, f->a,
						       &got),
			 ENOENT);
}

/* ---- API keys ----------------------------------------------------------- */

static int64_t mk_key(struct fx *f, int64_t scope, int64_t account,
		      const char *hash, int expect)
{
	struct rt_apikey k = {.account_id = account, .scopes = 3};

	rt_strlcpy(k.name, "test key", sizeof(k.name));
	rt_strlcpy(k.prefix, "rt_live_abcdef", sizeof(k.prefix));
	assert_int_equal(rt_store_apikey_create(f->tx, scope, &k, hash),
			 expect);
	return expect ? 0 : k.id;
}

static void test_apikeys(void **state)
{
	struct fx *f = *state;
	struct rt_apikey k;
	struct rt_page pg = {0, 0};
	struct ids ids = {0};
	int64_t k1, k2, kb;

	k1 = mk_key(f, f->a, f->a1, "hash-1", 0);
	k2 = mk_key(f, f->a, f->a, "hash-2", 0);
	kb = mk_key(f, f->b, f->b, "hash-b", 0);
	mk_key(f, f->a, f->b, "hash-x", ENOENT);  /* not in scope */
	mk_key(f, f->a1, f->a, "hash-y", ENOENT); /* not upwards */
	mk_key(f, f->a, f->a, "hash-1", EEXIST);  /* hashes are unique */

	/* Found by hash (unscoped), with what was stored. */
	assert_int_equal(rt_store_apikey_by_hash(f->tx, "hash-1", &k), 0);
	assert_true(k.id == k1 && k.account_id == f->a1);
	assert_int_equal(k.scopes, 3);
	assert_string_equal(k.prefix, "rt_live_abcdef");
	assert_string_equal(k.name, "test key");
	assert_true(k.revoked_at == 0 && k.last_used_at == 0 &&
		    k.expires_at == 0);
	assert_int_equal(rt_store_apikey_by_hash(f->tx, "hash-unknown", &k),
			 ENOENT);

	assert_int_equal(rt_store_apikey_get(f->tx, f->a, k1, &k), 0);
	assert_int_equal(rt_store_apikey_get(f->tx, f->a1, k1, &k), 0);
	assert_int_equal(rt_store_apikey_get(f->tx, f->a1, k2, &k), ENOENT);
	assert_int_equal(rt_store_apikey_get(f->tx, f->b, k1, &k), ENOENT);
	assert_int_equal(rt_store_apikey_get_any(f->tx, kb, &k), 0);

	assert_int_equal(rt_store_apikey_list(f->tx, f->a, 0, &pg, apikey_id_h,
					      &ids),
			 0);
	assert_int_equal(ids.n, 2);
	assert_false(has(&ids, kb));
	ids.n = 0;
	assert_int_equal(rt_store_apikey_list(f->tx, f->a, f->a1, &pg,
					      apikey_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	assert_true(ids.v[0] == k1);
	ids.n = 0;
	assert_int_equal(rt_store_apikey_list(f->tx, f->a, f->b, &pg,
					      apikey_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 0);
	ids.n = 0;
	assert_int_equal(rt_store_apikey_list_all(f->tx, &pg, apikey_id_h,
						  &ids),
			 0);
	assert_int_equal(ids.n, 3);

	assert_int_equal(rt_store_apikey_touch(f->tx, k1, 777), 0);
	assert_int_equal(rt_store_apikey_get(f->tx, f->a, k1, &k), 0);
	assert_true(k.last_used_at == 777);
}

static void test_apikey_revoke(void **state)
{
	struct fx *f = *state;
	struct rt_apikey k;
	int64_t k1, kb;

	k1 = mk_key(f, f->a, f->a1, "hash-1", 0);
	kb = mk_key(f, f->b, f->b, "hash-b", 0);

	/* Another tenant cannot revoke it, and it stays valid. */
	assert_int_equal(rt_store_apikey_revoke(f->tx, f->a, kb, 1000), ENOENT);
	assert_int_equal(rt_store_apikey_revoke(f->tx, f->a1, 9999, 1000),
			 ENOENT);
	assert_int_equal(rt_store_apikey_by_hash(f->tx, "hash-b", &k), 0);
	assert_true(k.revoked_at == 0);

	assert_int_equal(rt_store_apikey_revoke(f->tx, f->a1, k1, 1000), 0);
	assert_int_equal(rt_store_apikey_by_hash(f->tx, "hash-1", &k), 0);
	assert_true(k.revoked_at == 1000);
	/* Twice is EALREADY, and the first time is kept. */
	assert_int_equal(rt_store_apikey_revoke(f->tx, f->a, k1, 2000),
			 EALREADY);
	assert_int_equal(rt_store_apikey_get(f->tx, f->a, k1, &k), 0);
	assert_true(k.revoked_at == 1000);
}

static void test_apikey_expiry_stored(void **state)
{
	struct fx *f = *state;
	struct rt_apikey k = {.account_id = 0, .scopes = 1};

	k.account_id = f->a;
	k.expires_at = 5000;
	k.created_by_user = f->ua;
	rt_strlcpy(k.name, "short", sizeof(k.name));
	rt_strlcpy(k.prefix, "rt_live_zzzzzz", sizeof(k.prefix));
	assert_int_equal(rt_store_apikey_create(f->tx, f->a, &k, "hash-exp"),
			 0);
	assert_int_equal(rt_store_apikey_by_hash(f->tx, "hash-exp", &k), 0);
	assert_true(k.expires_at == 5000);
	assert_true(k.created_by_user == f->ua);
	assert_true(k.created_at > 0);
}

/* ---- dashboard sessions ------------------------------------------------- */

static int64_t membership_of(struct fx *f, int64_t user, int64_t account)
{
	struct rt_page pg = {0, 0};
	struct ids ids = {0};

	assert_int_equal(rt_store_membership_list(f->tx, account, user, account,
						  &pg, membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	return ids.v[0];
}

/* A session of user acting as account through the membership user holds
 * in member_of (account itself or an agency above it). */
static int64_t mk_session(struct fx *f, int64_t user, int64_t member_of,
			  int64_t account, const char *hash, int64_t expires)
{
	struct rt_websession w = {.user_id = user,
				  .account_id = account,
				  .created_at = 1000,
				  .expires_at = expires};

	w.membership_id = membership_of(f, user, member_of);
	rt_strlcpy(w.csrf, "csrf-token", sizeof(w.csrf));
	assert_int_equal(rt_store_websession_create(f->tx, &w, hash), 0);
	assert_true(w.id > 0);
	return w.id;
}

static void test_websessions_expire(void **state)
{
	struct fx *f = *state;
	struct rt_websession w;
	struct rt_websession dup = {.user_id = 0};
	int64_t id;

	id = mk_session(f, f->ua1, f->a1, f->a1, "tok-1", 5000);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-1", 4999, &w),
			 0);
	assert_true(w.id == id && w.user_id == f->ua1 && w.account_id == f->a1);
	assert_string_equal(w.role, "analyst"); /* from the membership */
	assert_string_equal(w.csrf, "csrf-token");
	assert_true(w.expires_at == 5000);
	/* At and after the expiry it is gone. */
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-1", 5000, &w),
			 ENOENT);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-2", 10, &w),
			 ENOENT);

	/* The token hash is unique. */
	dup.user_id = f->ua;
	dup.account_id = f->a;
	dup.membership_id = membership_of(f, f->ua, f->a);
	dup.expires_at = 9000;
	rt_strlcpy(dup.csrf, "c", sizeof(dup.csrf));
	assert_int_equal(rt_store_websession_create(f->tx, &dup, "tok-1"),
			 EEXIST);

	/* Purge removes expired sessions only. */
	mk_session(f, f->ua, f->a, f->a, "tok-long", 100000);
	assert_int_equal(rt_store_websession_purge(f->tx, 5000), 0);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-1", 10, &w),
			 ENOENT);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-long", 10, &w),
			 0);
	assert_int_equal(rt_store_websession_delete(f->tx, w.id), 0);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-long", 10, &w),
			 ENOENT);
}

static void test_websession_follows_membership_and_user(void **state)
{
	struct fx *f = *state;
	struct rt_websession w;
	struct rt_membership m;
	struct rt_user u;
	struct rt_page pg = {0, 0};
	struct ids ids = {0};

	mk_session(f, f->ua1, f->a1, f->a1, "tok-m", 100000);
	mk_session(f, f->ua, f->a, f->a, "tok-u", 100000);
	/* An agency owner acting as a client account. */
	mk_session(f, f->ua, f->a, f->a21, "tok-c", 100000);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-c", 10, &w),
			 0);
	assert_true(w.account_id == f->a21 && w.user_id == f->ua);
	assert_string_equal(w.role, "owner");

	/* A role change takes effect on the open session. */
	assert_int_equal(rt_store_membership_list(f->tx, f->a1, f->ua1, 0, &pg,
						  membership_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	m.id = ids.v[0];
	rt_strlcpy(m.role, "agent", sizeof(m.role));
	assert_int_equal(rt_store_membership_update(f->tx, f->a, &m), 0);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-m", 10, &w),
			 0);
	assert_string_equal(w.role, "agent");
	/* A removed membership ends it. */
	assert_int_equal(rt_store_membership_delete(f->tx, f->a, m.id), 0);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-m", 10, &w),
			 ENOENT);

	/* So does disabling the user, for every session they hold. */
	assert_int_equal(rt_store_user_get(f->tx, f->a, f->ua, &u), 0);
	rt_strlcpy(u.status, "disabled", sizeof(u.status));
	assert_int_equal(rt_store_user_update(f->tx, f->a, &u, NULL), 0);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-u", 10, &w),
			 ENOENT);
	assert_int_equal(rt_store_websession_by_hash(f->tx, "tok-c", 10, &w),
			 ENOENT);
}

/* ---- audit log ---------------------------------------------------------- */

static void add_audit(struct fx *f, int64_t account, int64_t object)
{
	struct rt_audit a = {.account_id = account,
			     .actor_id = 1,
			     .object_id = object,
			     .details = "{\"k\":\"v\"}"};

	rt_strlcpy(a.actor_type, "api_key", sizeof(a.actor_type));
	rt_strlcpy(a.action, "account.update", sizeof(a.action));
	rt_strlcpy(a.object_type, "account", sizeof(a.object_type));
	rt_strlcpy(a.ip, "192.0.2.7", sizeof(a.ip));
	rt_strlcpy(a.request_id, "req-1", sizeof(a.request_id));
	assert_int_equal(rt_store_audit_add(f->tx, &a), 0);
}

static int audit_check_h(const struct rt_audit *a, void *arg)
{
	(void)arg;
	assert_string_equal(a->actor_type, "api_key");
	assert_string_equal(a->action, "account.update");
	assert_string_equal(a->details, "{\"k\":\"v\"}");
	assert_string_equal(a->ip, "192.0.2.7");
	assert_string_equal(a->request_id, "req-1");
	assert_true(a->created_at > 0);
	return 0;
}

static void test_audit_scoped(void **state)
{
	struct fx *f = *state;
	struct rt_page pg = {0, 0};
	struct ids ids = {0};

	add_audit(f, f->a, 101);
	add_audit(f, f->a1, 102);
	add_audit(f, f->a21, 103);
	add_audit(f, f->b, 104);

	assert_int_equal(rt_store_audit_list(f->tx, f->a, 0, &pg, audit_id_h,
					     &ids),
			 0);
	assert_int_equal(ids.n, 3);
	assert_false(has(&ids, 104));
	ids.n = 0;
	assert_int_equal(rt_store_audit_list(f->tx, f->a1, 0, &pg, audit_id_h,
					     &ids),
			 0);
	assert_int_equal(ids.n, 1);
	assert_true(ids.v[0] == 102);
	ids.n = 0;
	assert_int_equal(rt_store_audit_list(f->tx, f->a, f->a21, &pg,
					     audit_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 1);
	assert_true(ids.v[0] == 103);
	/* Filtering on another tenant's account shows nothing. */
	ids.n = 0;
	assert_int_equal(rt_store_audit_list(f->tx, f->a, f->b, &pg, audit_id_h,
					     &ids),
			 0);
	assert_int_equal(ids.n, 0);
	ids.n = 0;
	assert_int_equal(rt_store_audit_list(f->tx, f->a1, f->a, &pg,
					     audit_id_h, &ids),
			 0);
	assert_int_equal(ids.n, 0);
	/* Pages. */
	ids.n = 0;
	pg.limit = 2;
	assert_int_equal(rt_store_audit_list(f->tx, f->a, 0, &pg, audit_id_h,
					     &ids),
			 0);
	assert_int_equal(ids.n, 2);
	assert_int_equal(rt_store_audit_list(f->tx, f->b, 0, &pg, audit_check_h,
					     NULL),
			 0);
}

/* ---- idempotency keys --------------------------------------------------- */

static void test_idempotency(void **state)
{
	struct fx *f = *state;
	const int64_t now = 1800000000000;
	int status = -1;
	char *body = NULL;

	assert_int_equal(rt_store_idem_begin(f->tx, "key:1", "k1", "h1", now,
					     &status, &body),
			 0);
	/* A retry while the first is still running: in progress. */
	assert_int_equal(rt_store_idem_begin(f->tx, "key:1", "k1", "h1", now,
					     &status, &body),
			 EEXIST);
	assert_int_equal(status, 0);
	assert_null(body);

	assert_int_equal(rt_store_idem_finish(f->tx, "key:1", "k1", 201,
					      "{\"id\":5}"),
			 0);
	/* A replay gets the stored answer. */
	assert_int_equal(rt_store_idem_begin(f->tx, "key:1", "k1", "h1",
					     now + 1000, &status, &body),
			 EEXIST);
	assert_int_equal(status, 201);
	assert_non_null(body);
	assert_string_equal(body, "{\"id\":5}");
	free(body);
	body = NULL;

	/* The same key for a different request is refused. */
	assert_int_equal(rt_store_idem_begin(f->tx, "key:1", "k1", "h2", now,
					     &status, &body),
			 EINVAL);
	assert_null(body);
	/* Keys are per principal. */
	assert_int_equal(rt_store_idem_begin(f->tx, "key:2", "k1", "h2", now,
					     &status, &body),
			 0);
	/* A day later the key may be used afresh. */
	assert_int_equal(rt_store_idem_begin(f->tx, "key:1", "k1", "h3",
					     now + 25 * 3600 * 1000LL, &status,
					     &body),
			 0);
	/* Forgetting frees the key at once (a failed request). */
	assert_int_equal(rt_store_idem_forget(f->tx, "key:2", "k1"), 0);
	assert_int_equal(rt_store_idem_begin(f->tx, "key:2", "k1", "h9", now,
					     &status, &body),
			 0);
}

/* ---- fault injection ---------------------------------------------------- */

static struct rt_store *open_faulty(const char *path, const char *n)
{
	struct rt_store *s;

	assert_int_equal(setenv("RT_FAULT_STORE_CALL", n, 1), 0);
	assert_int_equal(rt_store_open(&s, path, &opts), 0);
	unsetenv("RT_FAULT_STORE_CALL");
	return s;
}

static void test_fault_injection(void **state)
{
	char *dir = mk_tmpdir(), path[256];
	struct rt_store *s;
	struct rt_store_tx *tx;
	struct rt_account acc = {0};
	unsigned cur, latest, applied = 0;
	int64_t n = -1;

	(void)state;
	snprintf(path, sizeof(path), "%s/rt.db", dir);

	/* The first call fails, the next works: a transient error. */
	s = open_faulty(":memory:", "1");
	assert_int_equal(rt_store_ping(s), EIO);
	assert_int_equal(rt_store_ping(s), 0);
	rt_store_close(s);

	/* A failing migration step leaves the schema where it was, and a
	 * retry completes it.  Calls: begin of the version table (1), begin
	 * of step 1 (2), its version query (3), after its script the
	 * schema_version insert (4). */
	s = open_faulty(path, "4");
	assert_int_equal(rt_store_migrate(s, NULL), EIO);
	assert_int_equal(rt_store_schema_version(s, &cur, &latest), 0);
	assert_int_equal(cur, 0);
	assert_int_equal(rt_store_begin(s, false, &tx), 0);
	assert_int_equal(rt_store_query(tx, "SELECT COUNT(*) FROM accounts",
					NULL, 0, NULL, NULL, NULL),
			 EIO); /* no such table */
	rt_store_rollback(tx);
	assert_int_equal(rt_store_migrate(s, &applied), 0);
	assert_int_equal(applied, latest);
	rt_store_close(s);

	/* A write failing half way commits none of it.  Calls: begin (1),
	 * the account insert (2), its tree rows (3). */
	s = open_faulty(path, "3");
	assert_int_equal(rt_store_begin(s, true, &tx), 0);
	rt_strlcpy(acc.name, "Half", sizeof(acc.name));
	rt_strlcpy(acc.kind, "agency", sizeof(acc.kind));
	rt_strlcpy(acc.time_zone, "UTC", sizeof(acc.time_zone));
	rt_strlcpy(acc.currency, "USD", sizeof(acc.currency));
	assert_int_equal(rt_store_account_create_root(tx, &acc), EIO);
	rt_store_rollback(tx);
	assert_int_equal(rt_store_begin(s, false, &tx), 0);
	assert_int_equal(rt_store_account_count(tx, &n), 0);
	assert_int_equal(n, 0);
	rt_store_rollback(tx);
	rt_store_close(s);

	/* Bad or zero values turn it off. */
	s = open_faulty(":memory:", "0");
	assert_int_equal(rt_store_ping(s), 0);
	rt_store_close(s);
	s = open_faulty(":memory:", "soon");
	assert_int_equal(rt_store_ping(s), 0);
	rt_store_close(s);
	rm_tmpdir(dir);
}

#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_and_migrate_file),
		cmocka_unit_test(test_data_survives_reopen),
		cmocka_unit_test(test_refuses_newer_schema),
		cmocka_unit_test(test_open_errors),
		FX(test_query_values_and_errors),
		cmocka_unit_test(test_write_lock_times_out_with_ebusy),
		cmocka_unit_test(test_migration_11_voicemail),
		cmocka_unit_test(test_table_sql_replace_refuses_surprises),
		FX(test_metrics_count_operations),
		FX(test_account_tree_scope),
		FX(test_flows),
		FX(test_audio),
		FX(test_account_create_rules),
		FX(test_account_update_scope),
		FX(test_account_list_scope),
		FX(test_pagination),
		FX(test_user_visibility),
		FX(test_user_create_rules),
		FX(test_user_update_refused_outside_scope),
		FX(test_user_phone),
		FX(test_memberships),
		FX(test_membership_for_login_prefers_top),
		FX(test_apikeys),
		FX(test_apikey_revoke),
		FX(test_apikey_expiry_stored),
		FX(test_websessions_expire),
		FX(test_websession_follows_membership_and_user),
		FX(test_audit_scoped),
		FX(test_idempotency),
		cmocka_unit_test(test_fault_injection),
	};

	unsetenv("RT_FAULT_STORE_CALL");
	rt_log_set_level(RT_LOG_ERROR);
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
