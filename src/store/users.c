/*
 * Users and memberships.  A user is global (one login), and is seen by a
 * tenant only through a membership in that tenant's accounts.
 */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

#define USER_COLS                                                              \
	"u.id, u.email, u.name, u.status, u.created_at, u.updated_at, "        \
	"u.last_login_at, u.phone"
#define USER_IN_SCOPE                                                          \
	"EXISTS (SELECT 1 FROM memberships m JOIN account_tree t ON "          \
	"t.descendant_id = m.account_id AND t.ancestor_id = ?1 WHERE "         \
	"m.user_id = u.id)"

struct user_rows {
	rt_user_h *h;
	void *arg;
	struct rt_user *one;
	char *pw;
	size_t pw_size;
};

static int user_row(const struct rt_val *c, size_t n, void *arg)
{
	struct user_rows *r = arg;
	struct rt_user u, *dst = r->one ? r->one : &u;

	memset(dst, 0, sizeof(*dst));
	dst->id = rt_col_int(&c[0]);
	RT_COL_STR(dst->email, &c[1]);
	RT_COL_STR(dst->name, &c[2]);
	RT_COL_STR(dst->status, &c[3]);
	dst->created_at = rt_col_int(&c[4]);
	dst->updated_at = rt_col_int(&c[5]);
	dst->last_login_at = rt_col_int(&c[6]);
	RT_COL_STR(dst->phone, &c[7]);
	if (r->pw && n > 8)
		rt_strlcpy(r->pw, rt_col_text(&c[8]), r->pw_size);
	return r->h ? r->h(dst, r->arg) : 0;
}

static int user_one(struct rt_store_tx *tx, const char *sql,
		    const struct rt_val *args, size_t nargs, struct rt_user *u,
		    char *pw, size_t pw_size)
{
	struct rt_user tmp;
	struct user_rows r = {.one = &tmp, .pw = pw, .pw_size = pw_size};
	int err;

	/* Into a copy: a call that finds no row leaves *u as it was. */
	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, user_row, &r, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*u = tmp;
	return err;
}

int rt_store_user_create(struct rt_store_tx *tx, int64_t scope,
			 struct rt_user *u, const char *pw_hash,
			 int64_t account_id, const char *role)
{
	int64_t now = rt_now_ms();
	struct rt_val args[] = {RT_VTEXT(u->email), RT_VTEXT(u->name),
				RT_VTEXT(pw_hash), RT_VINT(now),
				RT_VTEXT(u->phone[0] ? u->phone : NULL)};
	struct rt_membership m = {.account_id = account_id};
	int err;

	/* scope 0 is the operator's CLI, which may place a user anywhere. */
	if (scope)
		err = rt_store_account_in_scope(tx, scope, account_id);
	else
		err = 0;
	if (err)
		return err;
	err = user_one(
		tx,
		"INSERT INTO users (email, name, password_hash, status, "
		"created_at, updated_at, phone) VALUES (?1, ?2, ?3, "
		"'active', ?4, ?4, ?5) RETURNING id, email, name, status, "
		"created_at, updated_at, last_login_at, phone",
		args, RT_ARRAY_SIZE(args), u, NULL, 0);
	if (err)
		return err;
	m.user_id = u->id;
	rt_strlcpy(m.role, role, sizeof(m.role));
	return rt_store_membership_create(tx, 0, &m);
}

int rt_store_user_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_user *u)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return user_one(tx,
			"SELECT " USER_COLS
			" FROM users u WHERE u.id = ?2 AND " USER_IN_SCOPE,
			args, 2, u, NULL, 0);
}

int rt_store_user_by_id(struct rt_store_tx *tx, int64_t id, struct rt_user *u)
{
	struct rt_val args[] = {RT_VINT(id)};

	return user_one(tx, "SELECT " USER_COLS " FROM users u WHERE u.id = ?1",
			args, 1, u, NULL, 0);
}

int rt_store_user_by_email(struct rt_store_tx *tx, const char *email,
			   struct rt_user *u, char *pw_hash, size_t pw_size)
{
	struct rt_val args[] = {RT_VTEXT(email)};

	return user_one(tx,
			"SELECT " USER_COLS ", u.password_hash FROM users u "
			"WHERE u.email = ?1",
			args, 1, u, pw_hash, pw_size);
}

int rt_store_user_list(struct rt_store_tx *tx, int64_t scope,
		       const struct rt_page *pg, rt_user_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg))};
	struct user_rows r = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " USER_COLS
			      " FROM users u WHERE u.id > ?2 "
			      "AND " USER_IN_SCOPE " ORDER BY u.id LIMIT ?3",
			      args, 3, user_row, &r, NULL);
}

int rt_store_user_list_all(struct rt_store_tx *tx, const struct rt_page *pg,
			   rt_user_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg))};
	struct user_rows r = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " USER_COLS
			      " FROM users u WHERE u.id > ?1 "
			      "ORDER BY u.id LIMIT ?2",
			      args, 2, user_row, &r, NULL);
}

int rt_store_user_update(struct rt_store_tx *tx, int64_t scope,
			 const struct rt_user *u, const char *pw_hash)
{
	struct rt_val args[] = {RT_VINT(scope),
				RT_VINT(u->id),
				RT_VTEXT(u->name),
				RT_VTEXT(u->status),
				RT_VTEXT(pw_hash),
				RT_VINT(rt_now_ms()),
				RT_VTEXT(u->phone[0] ? u->phone : NULL)};
	struct rt_user cur;
	int64_t changes = 0;
	int err;

	err = rt_store_user_get(tx, scope, u->id, &cur);
	if (err)
		return err;
	/* A login is shared by every account the user belongs to, so only a
	 * scope that holds all of them may change it. */
	err = rt_store_query(
		tx,
		"UPDATE users SET name = ?3, status = ?4, "
		"password_hash = COALESCE(?5, password_hash), "
		"updated_at = ?6, phone = ?7 WHERE id = ?2 AND NOT EXISTS "
		"(SELECT "
		"1 FROM memberships m WHERE m.user_id = users.id AND "
		"NOT " RT_IN_SCOPE("m.account_id") ")",
		args, RT_ARRAY_SIZE(args), NULL, NULL, &changes);
	if (!err && changes == 0)
		err = EPERM;
	return err;
}

int rt_store_user_touch_login(struct rt_store_tx *tx, int64_t id, int64_t now)
{
	struct rt_val args[] = {RT_VINT(id), RT_VINT(now)};

	return rt_store_query(
		tx, "UPDATE users SET last_login_at = ?2 WHERE id = ?1", args,
		2, NULL, NULL, NULL);
}

struct phone_out {
	char *out;
	size_t size;
	bool found;
};

static int phone_row(const struct rt_val *c, size_t n, void *arg)
{
	struct phone_out *po = arg;

	(void)n;
	po->found = true;
	rt_strlcpy(po->out, rt_col_text(&c[0]), po->size);
	return 0;
}

int rt_store_user_phone(struct rt_store_tx *tx, int64_t user_id, char *out,
			size_t size)
{
	struct rt_val args[] = {RT_VINT(user_id)};
	struct phone_out po = {out, size, false};
	int err;

	out[0] = '\0';
	err = rt_store_query(tx,
			     "SELECT phone FROM users WHERE id = ?1 AND "
			     "status = 'active'",
			     args, 1, phone_row, &po, NULL);
	return !err && !po.found ? ENOENT : err;
}

/* ---- memberships ------------------------------------------------------ */

#define MEMBERSHIP_COLS "m.id, m.user_id, m.account_id, m.role, m.created_at"

struct membership_rows {
	rt_membership_h *h;
	void *arg;
	struct rt_membership *one;
};

static int membership_row(const struct rt_val *c, size_t n, void *arg)
{
	struct membership_rows *r = arg;
	struct rt_membership m, *dst = r->one ? r->one : &m;

	memset(dst, 0, sizeof(*dst));
	dst->id = rt_col_int(&c[0]);
	dst->user_id = rt_col_int(&c[1]);
	dst->account_id = rt_col_int(&c[2]);
	RT_COL_STR(dst->role, &c[3]);
	dst->created_at = rt_col_int(&c[4]);
	return r->h ? r->h(dst, r->arg) : 0;
}

static int membership_one(struct rt_store_tx *tx, const char *sql,
			  const struct rt_val *args, size_t nargs,
			  struct rt_membership *m)
{
	struct rt_membership tmp;
	struct membership_rows r = {.one = &tmp};
	int err;

	/* Into a copy: a call that finds no row leaves *m as it was. */
	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, membership_row, &r, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*m = tmp;
	return err;
}

int rt_store_membership_create(struct rt_store_tx *tx, int64_t scope,
			       struct rt_membership *m)
{
	struct rt_val args[] = {RT_VINT(m->user_id), RT_VINT(m->account_id),
				RT_VTEXT(m->role), RT_VINT(rt_now_ms())};
	int err;

	if (scope) {
		struct rt_user u;

		/* Both ends must be visible: an account in scope and a user
		 * who already belongs somewhere in scope. */
		err = rt_store_account_in_scope(tx, scope, m->account_id);
		if (!err)
			err = rt_store_user_get(tx, scope, m->user_id, &u);
		if (err)
			return err;
	}
	return membership_one(
		tx,
		"INSERT INTO memberships (user_id, account_id, "
		"role, created_at) VALUES (?1, ?2, ?3, ?4) "
		"RETURNING id, user_id, account_id, role, created_at",
		args, RT_ARRAY_SIZE(args), m);
}

int rt_store_membership_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
			    struct rt_membership *m)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return membership_one(tx,
			      "SELECT " MEMBERSHIP_COLS
			      " FROM memberships m WHERE "
			      "m.id = ?2 AND " RT_IN_SCOPE("m.account_id"),
			      args, 2, m);
}

int rt_store_membership_list(struct rt_store_tx *tx, int64_t scope,
			     int64_t user_id, int64_t account_id,
			     const struct rt_page *pg, rt_membership_h *h,
			     void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(user_id), RT_VINT(account_id)};
	struct membership_rows r = {.h = h, .arg = arg};

	return rt_store_query(
		tx,
		"SELECT " MEMBERSHIP_COLS " FROM memberships m WHERE "
		"m.id > ?2 AND (?4 = 0 OR m.user_id = ?4) AND (?5 = "
		"0 OR m.account_id = ?5) AND " RT_IN_SCOPE(
			"m.account_id") " ORDER BY m.id LIMIT ?3",
		args, RT_ARRAY_SIZE(args), membership_row, &r, NULL);
}

int rt_store_membership_update(struct rt_store_tx *tx, int64_t scope,
			       struct rt_membership *m)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(m->id),
				RT_VTEXT(m->role)};

	return membership_one(
		tx,
		"UPDATE memberships SET role = ?3 WHERE id = ?2 "
		"AND " RT_IN_SCOPE(
			"memberships.account_id") " RETURNING id, user_id, "
						  "account_id, role, "
						  "created_at",
		args, 3, m);
}

int rt_store_membership_delete(struct rt_store_tx *tx, int64_t scope,
			       int64_t id)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};
	int64_t changes = 0;
	int err;

	err = rt_store_query(
		tx,
		"DELETE FROM memberships WHERE id = ?2 AND " RT_IN_SCOPE(
			"memberships.account_id"),
		args, 2, NULL, NULL, &changes);
	if (!err && changes == 0)
		err = ENOENT;
	return err;
}

int rt_store_membership_for_login(struct rt_store_tx *tx, int64_t user_id,
				  int64_t account_id, struct rt_membership *m)
{
	struct rt_val args[] = {RT_VINT(user_id), RT_VINT(account_id)};

	if (account_id == 0) {
		/* The membership closest to a root reaches the most
		 * accounts. */
		return membership_one(
			tx,
			"SELECT " MEMBERSHIP_COLS " FROM memberships m "
			"JOIN account_tree t ON t.descendant_id = "
			"m.account_id WHERE m.user_id = ?1 AND ?2 = 0 "
			"GROUP BY m.id, m.user_id, m.account_id, m.role, "
			"m.created_at ORDER BY MAX(t.depth), m.id LIMIT 1",
			args, 2, m);
	}
	/* An agency's membership reaches its clients: the nearest
	 * membership at or above the account asked for. */
	return membership_one(
		tx,
		"SELECT " MEMBERSHIP_COLS " FROM memberships m JOIN "
		"account_tree t ON t.ancestor_id = m.account_id AND "
		"t.descendant_id = ?2 WHERE m.user_id = ?1 ORDER BY "
		"t.depth, m.id LIMIT 1",
		args, 2, m);
}
