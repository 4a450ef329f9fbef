/* Accounts and the account tree (agency -> client accounts). */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

struct account_rows {
	rt_account_h *h;
	void *arg;
	struct rt_account *one; /* set for single-row reads */
};

void rt_store_account_fill(const struct rt_val *c, struct rt_account *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = rt_col_int(&c[0]);
	dst->parent_id = rt_col_int(&c[1]);
	RT_COL_STR(dst->name, &c[2]);
	RT_COL_STR(dst->kind, &c[3]);
	RT_COL_STR(dst->time_zone, &c[4]);
	RT_COL_STR(dst->currency, &c[5]);
	RT_COL_STR(dst->status, &c[6]);
	dst->created_at = rt_col_int(&c[7]);
	dst->updated_at = rt_col_int(&c[8]);
	RT_COL_STR(dst->site_key, &c[9]);
	dst->recording_disclosure = rt_col_int(&c[10]) != 0;
}

static int account_row(const struct rt_val *c, size_t n, void *arg)
{
	struct account_rows *r = arg;
	struct rt_account a, *dst = r->one ? r->one : &a;

	rt_store_account_fill(c, dst);
	return r->h ? r->h(dst, r->arg) : 0;
}

static int get_one(struct rt_store_tx *tx, const char *sql,
		   const struct rt_val *args, size_t nargs,
		   struct rt_account *a)
{
	struct rt_account tmp;
	struct account_rows r = {.one = &tmp};
	int err;

	/* Into a copy: a call that finds no row leaves *a as it was. */
	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, account_row, &r, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*a = tmp;
	return err;
}

int rt_store_account_in_scope(struct rt_store_tx *tx, int64_t scope, int64_t id)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};
	struct rt_account a;

	return get_one(tx,
		       "SELECT " ACCOUNT_COLS
		       " FROM accounts a WHERE a.id = ?2 "
		       "AND " RT_IN_SCOPE("a.id"),
		       args, 2, &a);
}

int rt_store_account_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			 struct rt_account *a)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return get_one(tx,
		       "SELECT " ACCOUNT_COLS
		       " FROM accounts a WHERE a.id = ?2 "
		       "AND " RT_IN_SCOPE("a.id"),
		       args, 2, a);
}

/* Inserts the row and its closure-table rows: itself and every ancestor of
 * its parent. */
static int insert(struct rt_store_tx *tx, struct rt_account *a)
{
	int64_t now = rt_now_ms();
	char key[RT_SITE_KEY_MAX];
	struct rt_val args[] = {
		a->parent_id ? RT_VINT(a->parent_id) : RT_VNULL,
		RT_VTEXT(a->name),
		RT_VTEXT(a->kind),
		RT_VTEXT(a->time_zone),
		RT_VTEXT(a->currency),
		RT_VTEXT(a->status[0] ? a->status : "active"),
		RT_VINT(now),
		RT_VTEXT(key),
	};
	struct rt_val targs[2];
	int err;

	rt_store_site_key_new(key);
	err = get_one(
		tx,
		"INSERT INTO accounts (parent_id, name, kind, time_zone, "
		"currency, status, created_at, updated_at, site_key) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8) RETURNING id, "
		"parent_id, name, kind, time_zone, currency, status, "
		"created_at, updated_at, site_key, recording_disclosure",
		args, RT_ARRAY_SIZE(args), a);
	if (err)
		return err;
	targs[0] = RT_VINT(a->id);
	targs[1] = RT_VINT(a->parent_id);
	return rt_store_query(
		tx,
		"INSERT INTO account_tree (ancestor_id, "
		"descendant_id, depth) SELECT ancestor_id, ?1, "
		"depth + 1 FROM account_tree WHERE descendant_id = "
		"?2 UNION ALL SELECT ?1, ?1, 0",
		targs, 2, NULL, NULL, NULL);
}

int rt_store_account_create_root(struct rt_store_tx *tx, struct rt_account *a)
{
	a->parent_id = 0;
	return insert(tx, a);
}

int rt_store_account_create(struct rt_store_tx *tx, int64_t scope,
			    struct rt_account *a)
{
	struct rt_account parent;
	int err;

	err = rt_store_account_get(tx, scope, a->parent_id, &parent);
	if (err)
		return err;
	if (strcmp(parent.kind, "agency") != 0)
		return EPERM;
	return insert(tx, a);
}

int rt_store_account_update(struct rt_store_tx *tx, int64_t scope,
			    struct rt_account *a)
{
	struct rt_val args[] = {
		RT_VINT(scope),	       RT_VINT(a->id),
		RT_VTEXT(a->name),     RT_VTEXT(a->time_zone),
		RT_VTEXT(a->currency), RT_VTEXT(a->status),
		RT_VINT(rt_now_ms()),  RT_VINT(a->recording_disclosure ? 1 : 0),
	};

	return get_one(
		tx,
		"UPDATE accounts SET name = ?3, time_zone = ?4, currency "
		"= ?5, status = ?6, updated_at = ?7, recording_disclosure = ?8 "
		"WHERE id = ?2 "
		"AND " RT_IN_SCOPE(
			"accounts.id") " RETURNING id, parent_id, "
				       "name, kind, time_zone, currency, "
				       "status, created_at, "
				       "updated_at, site_key, "
				       "recording_disclosure",
		args, RT_ARRAY_SIZE(args), a);
}

int rt_store_account_list(struct rt_store_tx *tx, int64_t scope,
			  const struct rt_page *pg, rt_account_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg))};
	struct account_rows r = {.h = h, .arg = arg};

	return rt_store_query(
		tx,
		"SELECT " ACCOUNT_COLS " FROM accounts a JOIN "
		"account_tree t ON t.descendant_id = a.id AND "
		"t.ancestor_id = ?1 WHERE a.id > ?2 ORDER BY a.id "
		"LIMIT ?3",
		args, 3, account_row, &r, NULL);
}

int rt_store_account_list_all(struct rt_store_tx *tx, const struct rt_page *pg,
			      rt_account_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg))};
	struct account_rows r = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " ACCOUNT_COLS
			      " FROM accounts a WHERE a.id "
			      "> ?1 ORDER BY a.id LIMIT ?2",
			      args, 2, account_row, &r, NULL);
}

int rt_store_account_usable(struct rt_store_tx *tx, int64_t id)
{
	struct rt_val args[] = {RT_VINT(id)};
	int64_t n = 0;
	int err;

	err = rt_store_query_int(
		tx,
		"SELECT COUNT(*) FROM account_tree t JOIN accounts a "
		"ON a.id = t.ancestor_id WHERE t.descendant_id = ?1 "
		"AND a.status <> 'active'",
		args, 1, &n);
	return err ? err : n ? EPERM : 0;
}

int rt_store_account_count(struct rt_store_tx *tx, int64_t *np)
{
	*np = 0;
	return rt_store_query_int(tx, "SELECT COUNT(*) FROM accounts", NULL, 0,
				  np);
}

void rt_store_site_key_new(char key[RT_SITE_KEY_MAX])
{
	/* 100 bits: unguessable, and easy to read out over the phone. */
	rt_random_token(key, RT_SITE_KEY_MAX, "pk_", 20);
}

int rt_store_account_by_site_key(struct rt_store_tx *tx, const char *key,
				 struct rt_account *a)
{
	struct rt_val args[] = {RT_VTEXT(key)};

	return get_one(tx,
		       "SELECT " ACCOUNT_COLS
		       " FROM accounts a WHERE a.site_key = ?1",
		       args, 1, a);
}

int rt_store_account_rotate_site_key(struct rt_store_tx *tx, int64_t scope,
				     int64_t id, struct rt_account *a)
{
	char key[RT_SITE_KEY_MAX];
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id), RT_VTEXT(key),
				RT_VINT(rt_now_ms())};

	rt_store_site_key_new(key);
	return get_one(
		tx,
		"UPDATE accounts SET site_key = ?3, updated_at = ?4 WHERE id = "
		"?2 AND " RT_IN_SCOPE("accounts.id") " RETURNING id, "
						     "parent_id, name, kind, "
						     "time_zone, currency, "
						     "status, created_at, "
						     "updated_at, site_key, "
						     "recording_disclosure",
		args, RT_ARRAY_SIZE(args), a);
}

/* Migration 4's step in C: accounts made before site keys get one. */
static int keyless_row(const struct rt_val *c, size_t n, void *arg)
{
	struct rt_buf *ids = arg;
	int64_t id = rt_col_int(&c[0]);

	(void)n;
	rt_buf_append(ids, (const char *)&id, sizeof(id));
	return ids->err;
}

int rt_store_site_keys_fill(struct rt_store_tx *tx)
{
	struct rt_buf ids;
	int err;

	rt_buf_init(&ids);
	err = rt_store_query(tx,
			     "SELECT id FROM accounts WHERE site_key IS NULL",
			     NULL, 0, keyless_row, &ids, NULL);
	for (size_t i = 0; !err && i < ids.len / sizeof(int64_t); i++) {
		char key[RT_SITE_KEY_MAX];
		int64_t id;
		struct rt_val args[2];

		memcpy(&id, ids.s + i * sizeof(id), sizeof(id));
		rt_store_site_key_new(key);
		args[0] = RT_VINT(id);
		args[1] = RT_VTEXT(key);
		err = rt_store_query(tx,
				     "UPDATE accounts SET site_key = ?2 WHERE "
				     "id = ?1",
				     args, 2, NULL, NULL, NULL);
	}
	rt_buf_release(&ids);
	return err;
}
