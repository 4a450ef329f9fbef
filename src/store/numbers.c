/* The tracking number inventory. */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

#define NUMBER_COLS                                                            \
	"n.id, n.account_id, n.e164, n.label, n.kind, n.source, n.medium, "    \
	"n.campaign, n.destination, n.status, n.number_type, n.country, "      \
	"n.created_at, n.updated_at, n.released_at, n.pool_id, "               \
	"n.record_calls, n.flow_id"
#define NUMBER_RETURNING                                                       \
	" RETURNING id, account_id, e164, label, kind, source, medium, "       \
	"campaign, destination, status, number_type, country, created_at, "    \
	"updated_at, released_at, pool_id, record_calls, flow_id"

struct number_rows {
	rt_number_h *h;
	void *arg;
	struct rt_number *one;
};

static int number_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct number_rows *r = arg;
	struct rt_number n, *d = r->one ? r->one : &n;

	memset(d, 0, sizeof(*d));
	d->id = rt_col_int(&c[0]);
	d->account_id = rt_col_int(&c[1]);
	RT_COL_STR(d->e164, &c[2]);
	RT_COL_STR(d->label, &c[3]);
	RT_COL_STR(d->kind, &c[4]);
	RT_COL_STR(d->source, &c[5]);
	RT_COL_STR(d->medium, &c[6]);
	RT_COL_STR(d->campaign, &c[7]);
	RT_COL_STR(d->destination, &c[8]);
	RT_COL_STR(d->status, &c[9]);
	RT_COL_STR(d->number_type, &c[10]);
	RT_COL_STR(d->country, &c[11]);
	d->created_at = rt_col_int(&c[12]);
	d->updated_at = rt_col_int(&c[13]);
	d->released_at = rt_col_int(&c[14]);
	d->pool_id = rt_col_int(&c[15]);
	d->record_off = rt_col_int(&c[16]) == 0;
	d->flow_id = rt_col_int(&c[17]);
	return r->h ? r->h(d, r->arg) : 0;
}

static int number_one(struct rt_store_tx *tx, const char *sql,
		      const struct rt_val *args, size_t nargs,
		      struct rt_number *n)
{
	struct rt_number tmp;
	struct number_rows r = {.one = &tmp};
	int err;

	/* Into a copy: a call that finds no row leaves *n as it was. */
	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, number_row, &r, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*n = tmp;
	return err;
}

int rt_store_number_create(struct rt_store_tx *tx, int64_t scope,
			   struct rt_number *n)
{
	int64_t now = rt_now_ms();
	struct rt_val args[] = {
		RT_VINT(n->account_id),
		RT_VTEXT(n->e164),
		RT_VTEXT(n->label),
		RT_VTEXT(n->kind),
		RT_VTEXT(n->source),
		RT_VTEXT(n->medium),
		RT_VTEXT(n->campaign),
		RT_VTEXT(n->destination),
		RT_VTEXT(n->status[0] ? n->status : "active"),
		RT_VTEXT(n->number_type),
		RT_VTEXT(n->country),
		RT_VINT(now),
		n->pool_id ? RT_VINT(n->pool_id) : RT_VNULL,
		RT_VINT(!n->record_off),
		n->flow_id ? RT_VINT(n->flow_id) : RT_VNULL,
	};
	int err;

	if (scope) {
		err = rt_store_account_in_scope(tx, scope, n->account_id);
		if (err)
			return err;
	}
	err = rt_store_pool_fits(tx, scope, n->pool_id, n->account_id);
	if (!err)
		err = rt_store_flow_fits(tx, scope, n->flow_id, n->account_id);
	if (err)
		return err;
	return number_one(
		tx,
		"INSERT INTO numbers (account_id, e164, label, kind, "
		"source, medium, campaign, destination, status, "
		"number_type, country, created_at, updated_at, pool_id, "
		"record_calls, flow_id) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		"?12, ?12, ?13, ?14, ?15)" NUMBER_RETURNING,
		args, RT_ARRAY_SIZE(args), n);
}

int rt_store_number_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			struct rt_number *n)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return number_one(tx,
			  "SELECT " NUMBER_COLS
			  " FROM numbers n WHERE n.id = ?2 "
			  "AND " RT_IN_SCOPE("n.account_id"),
			  args, 2, n);
}

int rt_store_number_update(struct rt_store_tx *tx, int64_t scope,
			   struct rt_number *n)
{
	struct rt_val args[] = {
		RT_VINT(scope),
		RT_VINT(n->id),
		RT_VTEXT(n->label),
		RT_VTEXT(n->kind),
		RT_VTEXT(n->source),
		RT_VTEXT(n->medium),
		RT_VTEXT(n->campaign),
		RT_VTEXT(n->destination),
		RT_VTEXT(n->status),
		RT_VINT(rt_now_ms()),
		n->pool_id ? RT_VINT(n->pool_id) : RT_VNULL,
		RT_VINT(!n->record_off),
		n->flow_id ? RT_VINT(n->flow_id) : RT_VNULL,
	};
	int err;

	/* The pool and the flow must be the number's own account's, as
	 * stored. */
	if (n->pool_id || n->flow_id) {
		struct rt_number cur;

		err = rt_store_number_get(tx, scope, n->id, &cur);
		if (!err)
			err = rt_store_pool_fits(tx, scope, n->pool_id,
						 cur.account_id);
		if (!err)
			err = rt_store_flow_fits(tx, scope, n->flow_id,
						 cur.account_id);
		if (err)
			return err;
	}
	return number_one(tx,
			  "UPDATE numbers SET label = ?3, kind = ?4, source = "
			  "?5, medium = ?6, campaign = ?7, destination = ?8, "
			  "status = ?9, updated_at = ?10, pool_id = ?11, "
			  "record_calls = ?12, flow_id = ?13 WHERE "
			  "id = ?2 AND "
			  "status <> 'released' AND " RT_IN_SCOPE(
				  "numbers.account_id") NUMBER_RETURNING,
			  args, RT_ARRAY_SIZE(args), n);
}

int rt_store_number_list(struct rt_store_tx *tx, int64_t scope,
			 int64_t account_id, bool released,
			 const struct rt_page *pg, rt_number_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(account_id), RT_VINT(released)};
	struct number_rows r = {.h = h, .arg = arg};

	return rt_store_query(
		tx,
		"SELECT " NUMBER_COLS " FROM numbers n WHERE n.id > "
		"?2 AND (?4 = 0 OR n.account_id = ?4) AND (?5 = 1 OR "
		"n.status <> 'released') AND " RT_IN_SCOPE(
			"n.account_id") " ORDER BY n.id LIMIT ?3",
		args, RT_ARRAY_SIZE(args), number_row, &r, NULL);
}

int rt_store_pool_numbers(struct rt_store_tx *tx, int64_t scope,
			  int64_t pool_id, const struct rt_page *pg,
			  rt_number_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(pool_id)};
	struct number_rows r = {.h = h, .arg = arg};
	struct rt_pool p;
	int err;

	/* An empty pool lists nothing; one out of scope is not there. */
	err = rt_store_pool_get(tx, scope, pool_id, &p);
	if (err)
		return err;
	return rt_store_query(
		tx,
		"SELECT " NUMBER_COLS " FROM numbers n WHERE n.id > ?2 AND "
		"n.pool_id = ?4 AND n.status <> 'released' AND " RT_IN_SCOPE(
			"n.account_id") " ORDER BY n.id LIMIT ?3",
		args, RT_ARRAY_SIZE(args), number_row, &r, NULL);
}

int rt_store_number_release(struct rt_store_tx *tx, int64_t scope, int64_t id,
			    int64_t now)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id), RT_VINT(now)};
	struct rt_number n;
	int64_t changes = 0;
	int err;

	err = rt_store_number_get(tx, scope, id, &n);
	if (err)
		return err;
	if (strcmp(n.status, "released") == 0)
		return EALREADY;
	err = rt_store_query(
		tx,
		"UPDATE numbers SET status = 'released', released_at "
		"= ?3, updated_at = ?3 WHERE id = ?2 AND status <> "
		"'released' AND " RT_IN_SCOPE("numbers.account_id"),
		args, 3, NULL, NULL, &changes);
	if (!err && changes == 0)
		err = EALREADY;
	return err;
}

int rt_store_number_by_e164(struct rt_store_tx *tx, const char *e164,
			    struct rt_number *n)
{
	struct rt_val args[] = {RT_VTEXT(e164)};

	return number_one(tx,
			  "SELECT " NUMBER_COLS
			  " FROM numbers n WHERE n.e164 = "
			  "?1 AND n.status <> 'released'",
			  args, 1, n);
}
