/*
 * Call flows and their versions.  The document is stored as the JSON text
 * the API checked; every save adds a version row and moves flows.version
 * on, in one transaction.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define FLOW_COLS                                                              \
	"f.id, f.account_id, f.name, f.version, f.created_at, f.updated_at, "  \
	"(SELECT COUNT(*) FROM numbers n WHERE n.flow_id = f.id AND "          \
	"n.status <> 'released'), "                                            \
	"(SELECT COUNT(*) FROM pools p WHERE p.flow_id = f.id)"

struct flow_rows {
	rt_flow_row_h *h;
	void *arg;
	struct rt_flow_row *one;
};

static int flow_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct flow_rows *fr = arg;
	struct rt_flow_row f, *d = fr->one ? fr->one : &f;

	(void)ncols;
	memset(d, 0, sizeof(*d));
	d->id = rt_col_int(&c[0]);
	d->account_id = rt_col_int(&c[1]);
	RT_COL_STR(d->name, &c[2]);
	d->version = rt_col_int(&c[3]);
	d->created_at = rt_col_int(&c[4]);
	d->updated_at = rt_col_int(&c[5]);
	d->numbers = rt_col_int(&c[6]);
	d->pools = rt_col_int(&c[7]);
	return fr->h ? fr->h(d, fr->arg) : 0;
}

static int int_row(const struct rt_val *c, size_t ncols, void *arg)
{
	(void)ncols;
	*(int64_t *)arg = rt_col_int(&c[0]);
	return 0;
}

static int flow_one(struct rt_store_tx *tx, const char *sql,
		    const struct rt_val *args, size_t nargs,
		    struct rt_flow_row *f)
{
	struct rt_flow_row tmp;
	struct flow_rows fr = {.one = &tmp};
	int err;

	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, flow_row, &fr, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*f = tmp;
	return err;
}

static int flow_read(struct rt_store_tx *tx, int64_t id, struct rt_flow_row *f)
{
	struct rt_val args[] = {RT_VINT(id)};

	return flow_one(tx, "SELECT " FLOW_COLS " FROM flows f WHERE f.id = ?1",
			args, 1, f);
}

static int add_version(struct rt_store_tx *tx, int64_t id, int64_t version,
		       const char *doc, int64_t user_id, int64_t now)
{
	struct rt_val args[] = {RT_VINT(id), RT_VINT(version), RT_VTEXT(doc),
				RT_VINT(now),
				user_id ? RT_VINT(user_id) : RT_VNULL};

	return rt_store_query(tx,
			      "INSERT INTO flow_versions (flow_id, version, "
			      "doc, created_at, created_by) VALUES (?1, ?2, "
			      "?3, ?4, ?5)",
			      args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
}

int rt_store_flow_create(struct rt_store_tx *tx, int64_t scope,
			 struct rt_flow_row *f, const char *doc,
			 int64_t user_id)
{
	int64_t id = 0, now = rt_now_ms();
	int err = 0;

	if (scope)
		err = rt_store_account_in_scope(tx, scope, f->account_id);
	if (!err) {
		struct rt_val args[] = {RT_VINT(f->account_id),
					RT_VTEXT(f->name), RT_VINT(now)};

		err = rt_store_query(tx,
				     "INSERT INTO flows (account_id, name, "
				     "version, status, created_at, "
				     "updated_at) VALUES (?1, ?2, 1, "
				     "'active', ?3, ?3) RETURNING id",
				     args, RT_ARRAY_SIZE(args), int_row, &id,
				     NULL);
	}
	if (!err && id == 0)
		err = EIO;
	if (!err)
		err = add_version(tx, id, 1, doc, user_id, now);
	if (!err)
		err = flow_read(tx, id, f);
	return err;
}

int rt_store_flow_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_flow_row *f)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return flow_one(tx,
			"SELECT " FLOW_COLS " FROM flows f WHERE f.id = ?2 AND "
			"f.status = 'active' AND " RT_IN_SCOPE("f.account_id"),
			args, 2, f);
}

int rt_store_flow_update(struct rt_store_tx *tx, int64_t scope, int64_t id,
			 const char *name, const char *doc, int64_t user_id,
			 struct rt_flow_row *f)
{
	struct rt_flow_row cur;
	int64_t now = rt_now_ms(), version;
	int err;

	err = rt_store_flow_get(tx, scope, id, &cur);
	if (err)
		return err;
	version = doc ? cur.version + 1 : cur.version;
	if (doc)
		err = add_version(tx, id, version, doc, user_id, now);
	if (!err) {
		struct rt_val args[] = {RT_VINT(id),
					RT_VTEXT(name ? name : cur.name),
					RT_VINT(version), RT_VINT(now)};

		err = rt_store_query(tx,
				     "UPDATE flows SET name = ?2, version = "
				     "?3, updated_at = ?4 WHERE id = ?1",
				     args, RT_ARRAY_SIZE(args), NULL, NULL,
				     NULL);
	}
	if (!err)
		err = flow_read(tx, id, f);
	return err;
}

int rt_store_flow_delete(struct rt_store_tx *tx, int64_t scope, int64_t id)
{
	struct rt_flow_row cur;
	struct rt_val args[] = {RT_VINT(id), RT_VINT(rt_now_ms())};
	int err;

	err = rt_store_flow_get(tx, scope, id, &cur);
	if (err)
		return err;
	if (cur.numbers || cur.pools)
		return ENOTEMPTY;
	return rt_store_query(tx,
			      "UPDATE flows SET status = 'deleted', "
			      "updated_at = ?2 WHERE id = ?1",
			      args, 2, NULL, NULL, NULL);
}

int rt_store_flow_list(struct rt_store_tx *tx, int64_t scope,
		       int64_t account_id, const struct rt_page *pg,
		       rt_flow_row_h *h, void *arg)
{
	struct flow_rows fr = {.h = h, .arg = arg};
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(account_id)};

	return rt_store_query(
		tx,
		"SELECT " FLOW_COLS " FROM flows f WHERE f.id > ?2 AND "
		"f.status = 'active' AND (?4 = 0 OR f.account_id = ?4) "
		"AND " RT_IN_SCOPE("f.account_id") " ORDER BY f.id LIMIT ?3",
		args, RT_ARRAY_SIZE(args), flow_row, &fr, NULL);
}

static int text_row(const struct rt_val *c, size_t ncols, void *arg)
{
	char **out = arg;

	(void)ncols;
	free(*out);
	*out = rt_strdup(rt_col_text(&c[0]));
	return *out ? 0 : ENOMEM;
}

int rt_store_flow_doc(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      int64_t version, char **docp)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id), RT_VINT(version)};
	char *doc = NULL;
	int err;

	err = rt_store_query(
		tx,
		"SELECT v.doc FROM flow_versions v JOIN flows f ON f.id = "
		"v.flow_id WHERE v.flow_id = ?2 AND v.version = CASE WHEN ?3 "
		"= 0 THEN f.version ELSE ?3 END AND " RT_IN_SCOPE(
			"f.account_id"),
		args, RT_ARRAY_SIZE(args), text_row, &doc, NULL);
	if (!err && !doc)
		err = ENOENT;
	if (err) {
		free(doc);
		return err;
	}
	*docp = doc;
	return 0;
}

struct version_rows {
	rt_flow_version_h *h;
	void *arg;
};

static int version_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct version_rows *vr = arg;
	struct rt_flow_version v = {
		.version = rt_col_int(&c[0]),
		.created_at = rt_col_int(&c[1]),
		.created_by = rt_col_int(&c[2]),
	};

	(void)ncols;
	return vr->h(&v, vr->arg);
}

int rt_store_flow_versions(struct rt_store_tx *tx, int64_t scope, int64_t id,
			   rt_flow_version_h *h, void *arg)
{
	struct rt_flow_row f;
	struct version_rows vr = {h, arg};
	struct rt_val args[] = {RT_VINT(id)};
	int err;

	err = rt_store_flow_get(tx, scope, id, &f);
	if (err)
		return err;
	return rt_store_query(tx,
			      "SELECT version, created_at, created_by FROM "
			      "flow_versions WHERE flow_id = ?1 ORDER BY "
			      "version DESC",
			      args, 1, version_row, &vr, NULL);
}

int rt_store_flow_fits(struct rt_store_tx *tx, int64_t scope, int64_t flow_id,
		       int64_t account_id)
{
	struct rt_flow_row f;
	int err;

	if (!flow_id)
		return 0;
	err = scope ? rt_store_flow_get(tx, scope, flow_id, &f)
		    : flow_read(tx, flow_id, &f);
	if (err)
		return err;
	return f.account_id == account_id ? 0 : EPERM;
}

struct counter_rows {
	rt_flow_counter_h *h;
	void *arg;
};

static int counter_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct counter_rows *cr = arg;

	(void)ncols;
	return cr->h(rt_col_text(&c[0]), rt_col_int(&c[1]), cr->arg);
}

int rt_store_flow_counters(struct rt_store_tx *tx, int64_t flow_id,
			   rt_flow_counter_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(flow_id)};
	struct counter_rows cr = {h, arg};

	return rt_store_query(tx,
			      "SELECT step, next FROM flow_counters WHERE "
			      "flow_id = ?1 ORDER BY step",
			      args, 1, counter_row, &cr, NULL);
}

int rt_store_flow_counter_set(struct rt_store_tx *tx, int64_t flow_id,
			      const char *step, int64_t next)
{
	struct rt_val args[] = {RT_VINT(flow_id), RT_VTEXT(step),
				RT_VINT(next)};

	/* The upsert's WHERE keeps the higher value (the same SQL in
	 * PostgreSQL, where SQLite's two-argument MAX is GREATEST). */
	return rt_store_query(tx,
			      "INSERT INTO flow_counters (flow_id, step, next) "
			      "VALUES (?1, ?2, ?3) ON CONFLICT (flow_id, step) "
			      "DO UPDATE SET next = excluded.next WHERE "
			      "excluded.next > flow_counters.next",
			      args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
}

int rt_store_flow_counter_next(struct rt_store_tx *tx, int64_t flow_id,
			       const char *step, int64_t *nextp)
{
	struct rt_val args[] = {RT_VINT(flow_id), RT_VTEXT(step)};

	*nextp = 0;
	/* the value before this call's increment */
	return rt_store_query(tx,
			      "INSERT INTO flow_counters (flow_id, step, next) "
			      "VALUES (?1, ?2, 1) ON CONFLICT (flow_id, step) "
			      "DO UPDATE SET next = flow_counters.next + 1 "
			      "RETURNING next - 1",
			      args, 2, int_row, nextp, NULL);
}
