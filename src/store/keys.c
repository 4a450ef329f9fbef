/* API keys and dashboard login sessions: only keyed hashes are stored. */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

#define KEY_COLS                                                               \
	"k.id, k.account_id, k.name, k.prefix, k.scopes, k.created_by_user, "  \
	"k.created_at, k.last_used_at, k.expires_at, k.revoked_at"

struct key_rows {
	rt_apikey_h *h;
	void *arg;
	struct rt_apikey *one;
};

static void key_fill(const struct rt_val *c, struct rt_apikey *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = rt_col_int(&c[0]);
	dst->account_id = rt_col_int(&c[1]);
	RT_COL_STR(dst->name, &c[2]);
	RT_COL_STR(dst->prefix, &c[3]);
	dst->scopes = (unsigned)rt_col_int(&c[4]);
	dst->created_by_user = rt_col_int(&c[5]);
	dst->created_at = rt_col_int(&c[6]);
	dst->last_used_at = rt_col_int(&c[7]);
	dst->expires_at = rt_col_int(&c[8]);
	dst->revoked_at = rt_col_int(&c[9]);
}
#define KEY_NCOLS 10

static int key_row(const struct rt_val *c, size_t n, void *arg)
{
	struct key_rows *r = arg;
	struct rt_apikey k, *dst = r->one ? r->one : &k;

	key_fill(c, dst);
	return r->h ? r->h(dst, r->arg) : 0;
}

static int key_one(struct rt_store_tx *tx, const char *sql,
		   const struct rt_val *args, size_t nargs, struct rt_apikey *k)
{
	struct rt_apikey tmp;
	struct key_rows r = {.one = &tmp};
	int err;

	/* Into a copy: a call that finds no row leaves *k as it was. */
	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, key_row, &r, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*k = tmp;
	return err;
}

int rt_store_apikey_create(struct rt_store_tx *tx, int64_t scope,
			   struct rt_apikey *k, const char *hash)
{
	struct rt_val args[] = {
		RT_VINT(k->account_id),
		RT_VTEXT(k->name),
		RT_VTEXT(k->prefix),
		RT_VTEXT(hash),
		RT_VINT(k->scopes),
		k->created_by_user ? RT_VINT(k->created_by_user) : RT_VNULL,
		RT_VINT(rt_now_ms()),
		k->expires_at ? RT_VINT(k->expires_at) : RT_VNULL,
	};
	int err;

	if (scope) {
		err = rt_store_account_in_scope(tx, scope, k->account_id);
		if (err)
			return err;
	}
	return key_one(
		tx,
		"INSERT INTO api_keys (account_id, name, prefix, hash, "
		"scopes, created_by_user, created_at, expires_at) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id, account_id, "
		"name, prefix, scopes, created_by_user, created_at, "
		"last_used_at, expires_at, revoked_at",
		args, RT_ARRAY_SIZE(args), k);
}

int rt_store_apikey_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			struct rt_apikey *k)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return key_one(tx,
		       "SELECT " KEY_COLS
		       " FROM api_keys k WHERE k.id = ?2 AND " RT_IN_SCOPE(
			       "k.account_id"),
		       args, 2, k);
}

int rt_store_apikey_list(struct rt_store_tx *tx, int64_t scope,
			 int64_t account_id, const struct rt_page *pg,
			 rt_apikey_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(account_id)};
	struct key_rows r = {.h = h, .arg = arg};

	return rt_store_query(
		tx,
		"SELECT " KEY_COLS " FROM api_keys k WHERE k.id > ?2 "
		"AND (?4 = 0 OR k.account_id = ?4) AND " RT_IN_SCOPE(
			"k.account_id") " ORDER BY k.id LIMIT ?3",
		args, RT_ARRAY_SIZE(args), key_row, &r, NULL);
}

int rt_store_apikey_revoke(struct rt_store_tx *tx, int64_t scope, int64_t id,
			   int64_t now)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id), RT_VINT(now)};
	struct rt_apikey k;
	int64_t changes = 0;
	int err;

	err = rt_store_apikey_get(tx, scope, id, &k);
	if (err)
		return err;
	if (k.revoked_at)
		return EALREADY;
	err = rt_store_query(
		tx,
		"UPDATE api_keys SET revoked_at = ?3 WHERE id = ?2 "
		"AND revoked_at IS NULL AND " RT_IN_SCOPE(
			"api_keys.account_id"),
		args, 3, NULL, NULL, &changes);
	if (!err && changes == 0)
		err = EALREADY;
	return err;
}

int rt_store_apikey_get_any(struct rt_store_tx *tx, int64_t id,
			    struct rt_apikey *k)
{
	struct rt_val args[] = {RT_VINT(id)};

	return key_one(tx,
		       "SELECT " KEY_COLS " FROM api_keys k WHERE k.id = ?1",
		       args, 1, k);
}

int rt_store_apikey_list_all(struct rt_store_tx *tx, const struct rt_page *pg,
			     rt_apikey_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg))};
	struct key_rows r = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " KEY_COLS
			      " FROM api_keys k WHERE k.id > ?1 "
			      "ORDER BY k.id LIMIT ?2",
			      args, 2, key_row, &r, NULL);
}

int rt_store_apikey_by_hash(struct rt_store_tx *tx, const char *hash,
			    struct rt_apikey *k)
{
	struct rt_val args[] = {RT_VTEXT(hash)};

	return key_one(tx,
		       "SELECT " KEY_COLS " FROM api_keys k WHERE k.hash = ?1",
		       args, 1, k);
}

struct key_auth {
	struct rt_apikey *k;
	struct rt_account *a;
	bool *usable;
};

static int key_auth_row(const struct rt_val *c, size_t n, void *arg)
{
	struct key_auth *ka = arg;

	key_fill(c, ka->k);
	rt_store_account_fill(c + KEY_NCOLS, ka->a);
	*ka->usable = rt_col_int(&c[KEY_NCOLS + ACCOUNT_NCOLS]) == 0;
	return 0;
}

int rt_store_apikey_auth(struct rt_store_tx *tx, const char *hash,
			 struct rt_apikey *k, struct rt_account *a,
			 bool *usable)
{
	struct rt_val args[] = {RT_VTEXT(hash)};
	struct key_auth ka = {k, a, usable};
	int err;

	/* One statement for the request's hot path: the key, its account,
	 * and whether that account or one above it is suspended. */
	k->id = 0;
	err = rt_store_query(
		tx,
		"SELECT " KEY_COLS ", " ACCOUNT_COLS ", (SELECT "
		"COUNT(*) FROM account_tree t JOIN accounts x ON x.id "
		"= t.ancestor_id WHERE t.descendant_id = a.id AND "
		"x.status <> 'active') FROM api_keys k JOIN accounts a "
		"ON a.id = k.account_id WHERE k.hash = ?1",
		args, 1, key_auth_row, &ka, NULL);
	if (!err && k->id == 0)
		err = ENOENT;
	return err;
}

int rt_store_apikey_touch(struct rt_store_tx *tx, int64_t id, int64_t now)
{
	struct rt_val args[] = {RT_VINT(id), RT_VINT(now)};

	return rt_store_query(
		tx, "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1", args,
		2, NULL, NULL, NULL);
}

/* ---- dashboard sessions ------------------------------------------------ */

static int websession_row(const struct rt_val *c, size_t n, void *arg)
{
	struct rt_websession *w = arg;

	w->id = rt_col_int(&c[0]);
	w->user_id = rt_col_int(&c[1]);
	w->account_id = rt_col_int(&c[2]);
	w->membership_id = rt_col_int(&c[3]);
	RT_COL_STR(w->role, &c[4]);
	RT_COL_STR(w->csrf, &c[5]);
	w->created_at = rt_col_int(&c[6]);
	w->expires_at = rt_col_int(&c[7]);
	return 0;
}

int rt_store_websession_create(struct rt_store_tx *tx, struct rt_websession *w,
			       const char *token_hash)
{
	struct rt_val args[] = {RT_VTEXT(token_hash),
				RT_VINT(w->user_id),
				RT_VINT(w->account_id),
				RT_VTEXT(w->csrf),
				RT_VINT(w->created_at),
				RT_VINT(w->expires_at),
				RT_VINT(w->membership_id)};
	int64_t id = 0;
	struct rt_websession out;
	int err;

	memset(&out, 0, sizeof(out));
	err = rt_store_query(
		tx,
		"INSERT INTO web_sessions (token_hash, user_id, "
		"account_id, csrf, created_at, expires_at, "
		"membership_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		"RETURNING id, user_id, account_id, membership_id, "
		"'', csrf, created_at, expires_at",
		args, RT_ARRAY_SIZE(args), websession_row, &out, NULL);
	id = out.id;
	if (!err && !id)
		err = EIO;
	if (!err)
		w->id = id;
	return err;
}

int rt_store_websession_by_hash(struct rt_store_tx *tx, const char *token_hash,
				int64_t now, struct rt_websession *w)
{
	struct rt_val args[] = {RT_VTEXT(token_hash), RT_VINT(now)};
	int err;

	/* The role is read live from the membership: a changed role or a
	 * removed membership or a disabled user takes effect at once. */
	memset(w, 0, sizeof(*w));
	err = rt_store_query(
		tx,
		"SELECT w.id, w.user_id, w.account_id, m.id, m.role, "
		"w.csrf, w.created_at, w.expires_at FROM web_sessions "
		"w JOIN memberships m ON m.id = w.membership_id AND "
		"m.user_id = w.user_id JOIN users u ON u.id = "
		"w.user_id AND u.status = 'active' WHERE "
		"w.token_hash = ?1 AND w.expires_at > ?2",
		args, 2, websession_row, w, NULL);
	if (!err && w->id == 0)
		err = ENOENT;
	return err;
}

int rt_store_websession_delete(struct rt_store_tx *tx, int64_t id)
{
	struct rt_val args[] = {RT_VINT(id)};

	return rt_store_query(tx, "DELETE FROM web_sessions WHERE id = ?1",
			      args, 1, NULL, NULL, NULL);
}

int rt_store_websession_purge(struct rt_store_tx *tx, int64_t now)
{
	struct rt_val args[] = {RT_VINT(now)};

	return rt_store_query(tx,
			      "DELETE FROM web_sessions WHERE expires_at <= ?1",
			      args, 1, NULL, NULL, NULL);
}
