/*
 * Custom source rules: an account's ordered rules that relabel a visit and
 * may pick its pool.  The positions of an account's rules are kept 1..n
 * here, in the same transaction as the change that moves them.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "store/store_int.h"

#define RULE_COLS                                                              \
	"r.id, r.account_id, r.position, r.name, r.field, r.op, r.value, "     \
	"r.case_sensitive, r.source_label, r.medium_label, r.pool_id, "        \
	"r.status, r.created_at, r.updated_at"

struct rule_rows {
	rt_source_rule_h *h;
	void *arg;
	struct rt_source_rule *one;
};

static int rule_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct rule_rows *rr = arg;
	struct rt_source_rule r, *d = rr->one ? rr->one : &r;

	(void)ncols;
	memset(d, 0, sizeof(*d));
	d->id = rt_col_int(&c[0]);
	d->account_id = rt_col_int(&c[1]);
	d->position = rt_col_int(&c[2]);
	RT_COL_STR(d->name, &c[3]);
	RT_COL_STR(d->field, &c[4]);
	RT_COL_STR(d->op, &c[5]);
	RT_COL_STR(d->value, &c[6]);
	d->case_sensitive = rt_col_int(&c[7]) != 0;
	RT_COL_STR(d->source_label, &c[8]);
	RT_COL_STR(d->medium_label, &c[9]);
	d->pool_id = rt_col_int(&c[10]);
	RT_COL_STR(d->status, &c[11]);
	d->created_at = rt_col_int(&c[12]);
	d->updated_at = rt_col_int(&c[13]);
	return rr->h ? rr->h(d, rr->arg) : 0;
}

static int rule_one(struct rt_store_tx *tx, const char *sql,
		    const struct rt_val *args, size_t nargs,
		    struct rt_source_rule *r)
{
	struct rt_source_rule tmp;
	struct rule_rows rr = {.one = &tmp};
	int err;

	/* Into a copy: a call that finds no row leaves *r as it was. */
	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, rule_row, &rr, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*r = tmp;
	return err;
}

/* Unscoped: reads back a row that a scoped write just made or changed. */
static int rule_read(struct rt_store_tx *tx, int64_t id,
		     struct rt_source_rule *r)
{
	struct rt_val args[] = {RT_VINT(id)};

	return rule_one(tx,
			"SELECT " RULE_COLS
			" FROM source_rules r WHERE r.id = ?1",
			args, 1, r);
}

static int int_row(const struct rt_val *c, size_t ncols, void *arg)
{
	(void)ncols;
	*(int64_t *)arg = rt_col_int(&c[0]);
	return 0;
}

static int rule_count(struct rt_store_tx *tx, int64_t account_id, int64_t *np)
{
	struct rt_val args[] = {RT_VINT(account_id)};

	*np = 0;
	return rt_store_query(tx,
			      "SELECT COUNT(*) FROM source_rules WHERE "
			      "account_id = ?1",
			      args, 1, int_row, np, NULL);
}

/* Moves the account's rules at positions from..to (inclusive) by delta. */
static int shift(struct rt_store_tx *tx, int64_t account_id, int64_t from,
		 int64_t to, int64_t delta)
{
	struct rt_val args[] = {RT_VINT(account_id), RT_VINT(from), RT_VINT(to),
				RT_VINT(delta)};

	if (from > to)
		return 0;
	return rt_store_query(tx,
			      "UPDATE source_rules SET position = position + "
			      "?4 WHERE account_id = ?1 AND position >= ?2 "
			      "AND position <= ?3",
			      args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
}

int rt_store_source_rule_create(struct rt_store_tx *tx, int64_t scope,
				struct rt_source_rule *r)
{
	int64_t n, pos, id = 0;
	int err;

	if (scope) {
		err = rt_store_account_in_scope(tx, scope, r->account_id);
		if (err)
			return err;
	}
	err = rt_store_pool_fits(tx, scope, r->pool_id, r->account_id);
	if (!err)
		err = rule_count(tx, r->account_id, &n);
	if (err)
		return err;
	if (n >= RT_STORE_RULES_MAX)
		return ENOSPC;
	pos = r->position <= 0 || r->position > n ? n + 1 : r->position;
	err = shift(tx, r->account_id, pos, INT64_MAX - 1, 1);
	if (err)
		return err;
	{
		struct rt_val args[] = {
			RT_VINT(r->account_id),
			RT_VINT(pos),
			RT_VTEXT(r->name),
			RT_VTEXT(r->field),
			RT_VTEXT(r->op),
			RT_VTEXT(r->value),
			RT_VINT(r->case_sensitive ? 1 : 0),
			RT_VTEXT(r->source_label),
			RT_VTEXT(r->medium_label),
			r->pool_id ? RT_VINT(r->pool_id) : RT_VNULL,
			RT_VTEXT(r->status[0] ? r->status : "active"),
			RT_VINT(rt_now_ms()),
		};

		err = rt_store_query(
			tx,
			"INSERT INTO source_rules (account_id, position, "
			"name, field, op, value, case_sensitive, "
			"source_label, medium_label, pool_id, status, "
			"created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
			"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) RETURNING id",
			args, RT_ARRAY_SIZE(args), int_row, &id, NULL);
	}
	if (!err && id == 0)
		err = EIO;
	if (!err)
		err = rule_read(tx, id, r);
	return err;
}

int rt_store_source_rule_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			     struct rt_source_rule *r)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return rule_one(tx,
			"SELECT " RULE_COLS " FROM source_rules r WHERE r.id = "
			"?2 AND " RT_IN_SCOPE("r.account_id"),
			args, 2, r);
}

int rt_store_source_rule_update(struct rt_store_tx *tx, int64_t scope,
				struct rt_source_rule *r)
{
	struct rt_source_rule cur;
	int64_t n, pos, id = 0;
	int err;

	err = rt_store_source_rule_get(tx, scope, r->id, &cur);
	if (!err)
		err = rt_store_pool_fits(tx, scope, r->pool_id, cur.account_id);
	if (!err)
		err = rule_count(tx, cur.account_id, &n);
	if (err)
		return err;
	pos = r->position <= 0	? cur.position
	      : r->position > n ? n
				: r->position;
	/* The rules between the old place and the new one close up. */
	if (pos < cur.position)
		err = shift(tx, cur.account_id, pos, cur.position - 1, 1);
	else if (pos > cur.position)
		err = shift(tx, cur.account_id, cur.position + 1, pos, -1);
	if (err)
		return err;
	{
		struct rt_val args[] = {
			RT_VINT(scope),
			RT_VINT(r->id),
			RT_VINT(pos),
			RT_VTEXT(r->name),
			RT_VTEXT(r->field),
			RT_VTEXT(r->op),
			RT_VTEXT(r->value),
			RT_VINT(r->case_sensitive ? 1 : 0),
			RT_VTEXT(r->source_label),
			RT_VTEXT(r->medium_label),
			r->pool_id ? RT_VINT(r->pool_id) : RT_VNULL,
			RT_VTEXT(r->status),
			RT_VINT(rt_now_ms()),
		};

		err = rt_store_query(
			tx,
			"UPDATE source_rules SET position = ?3, name = ?4, "
			"field = ?5, op = ?6, value = ?7, case_sensitive = "
			"?8, source_label = ?9, medium_label = ?10, pool_id = "
			"?11, status = ?12, updated_at = ?13 WHERE id = ?2 "
			"AND " RT_IN_SCOPE(
				"source_rules.account_id") " RETURNING id",
			args, RT_ARRAY_SIZE(args), int_row, &id, NULL);
	}
	if (!err && id == 0)
		err = ENOENT;
	if (!err)
		err = rule_read(tx, id, r);
	return err;
}

int rt_store_source_rule_delete(struct rt_store_tx *tx, int64_t scope,
				int64_t id)
{
	struct rt_source_rule cur;
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};
	int64_t changes = 0;
	int err;

	err = rt_store_source_rule_get(tx, scope, id, &cur);
	if (!err)
		err = rt_store_query(tx,
				     "DELETE FROM source_rules WHERE id = ?2 "
				     "AND " RT_IN_SCOPE(
					     "source_rules.account_id"),
				     args, 2, NULL, NULL, &changes);
	if (!err && changes == 0)
		err = ENOENT;
	if (!err)
		err = shift(tx, cur.account_id, cur.position + 1, INT64_MAX - 1,
			    -1);
	return err;
}

int rt_store_source_rule_list(struct rt_store_tx *tx, int64_t scope,
			      int64_t account_id, const struct rt_page *pg,
			      rt_source_rule_h *h, void *arg)
{
	struct rt_source_rule after = {0};
	struct rule_rows rr = {.h = h, .arg = arg};
	int err;

	/* The cursor is the last rule seen; the page goes on after its
	 * place in the order. */
	if (pg->after) {
		err = rt_store_source_rule_get(tx, scope, pg->after, &after);
		if (err)
			return err == ENOENT ? ESTALE : err;
	}
	{
		struct rt_val args[] = {
			RT_VINT(scope),
			RT_VINT(pg->after),
			RT_VINT(rt_store_page_limit(pg)),
			RT_VINT(account_id),
			RT_VINT(after.account_id),
			RT_VINT(after.position),
		};

		return rt_store_query(
			tx,
			"SELECT " RULE_COLS
			" FROM source_rules r WHERE (?4 = 0 OR r.account_id = "
			"?4) AND (?2 = 0 OR r.account_id > ?5 OR (r.account_id "
			"= ?5 AND (r.position > ?6 OR (r.position = ?6 AND "
			"r.id > ?2)))) AND " RT_IN_SCOPE(
				"r.account_id") " ORDER BY r.account_id, "
						"r.position, r.id LIMIT ?3",
			args, RT_ARRAY_SIZE(args), rule_row, &rr, NULL);
	}
}

int rt_store_source_rule_list_active(struct rt_store_tx *tx, int64_t scope,
				     int64_t account_id, rt_source_rule_h *h,
				     void *arg)
{
	struct rt_val args[] = {RT_VINT(account_id)};
	struct rule_rows rr = {.h = h, .arg = arg};
	int err;

	if (scope) {
		err = rt_store_account_in_scope(tx, scope, account_id);
		if (err)
			return err;
	}
	return rt_store_query(tx,
			      "SELECT " RULE_COLS
			      " FROM source_rules r WHERE r.account_id = ?1 "
			      "AND r.status = 'active' ORDER BY r.position, "
			      "r.id",
			      args, 1, rule_row, &rr, NULL);
}
