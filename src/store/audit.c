/* The audit log and idempotency keys: the records of what the API changed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define IDEM_TTL_MS (24 * 3600 * 1000LL) /* a key is remembered for a day */

int rt_store_audit_add(struct rt_store_tx *tx, const struct rt_audit *a)
{
	struct rt_val args[] = {
		RT_VINT(a->account_id),
		RT_VTEXT(a->actor_type),
		a->actor_id ? RT_VINT(a->actor_id) : RT_VNULL,
		RT_VTEXT(a->action),
		RT_VTEXT(a->object_type),
		a->object_id ? RT_VINT(a->object_id) : RT_VNULL,
		RT_VTEXT(a->details ? a->details : "{}"),
		a->ip[0] ? RT_VTEXT(a->ip) : RT_VNULL,
		a->request_id[0] ? RT_VTEXT(a->request_id) : RT_VNULL,
		RT_VINT(a->created_at ? a->created_at : rt_now_ms()),
	};

	return rt_store_query(
		tx,
		"INSERT INTO audit_log (account_id, actor_type, "
		"actor_id, action, object_type, object_id, details, "
		"ip, request_id, created_at) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10)",
		args, RT_ARRAY_SIZE(args), NULL, NULL, NULL);
}

struct audit_rows {
	rt_audit_h *h;
	void *arg;
};

static int audit_row(const struct rt_val *c, size_t n, void *arg)
{
	struct audit_rows *r = arg;
	struct rt_audit a;

	memset(&a, 0, sizeof(a));
	a.id = rt_col_int(&c[0]);
	a.account_id = rt_col_int(&c[1]);
	RT_COL_STR(a.actor_type, &c[2]);
	a.actor_id = rt_col_int(&c[3]);
	RT_COL_STR(a.action, &c[4]);
	RT_COL_STR(a.object_type, &c[5]);
	a.object_id = rt_col_int(&c[6]);
	a.details = rt_col_text(&c[7]);
	RT_COL_STR(a.ip, &c[8]);
	RT_COL_STR(a.request_id, &c[9]);
	a.created_at = rt_col_int(&c[10]);
	return r->h(&a, r->arg);
}

int rt_store_audit_list(struct rt_store_tx *tx, int64_t scope,
			int64_t account_id, const struct rt_page *pg,
			rt_audit_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(account_id)};
	struct audit_rows r = {.h = h, .arg = arg};

	return rt_store_query(
		tx,
		"SELECT a.id, a.account_id, a.actor_type, "
		"a.actor_id, a.action, a.object_type, a.object_id, "
		"a.details, a.ip, a.request_id, a.created_at FROM "
		"audit_log a WHERE a.id > ?2 AND (?4 = 0 OR "
		"a.account_id = ?4) AND " RT_IN_SCOPE(
			"a.account_id") " ORDER BY a.id LIMIT ?3",
		args, RT_ARRAY_SIZE(args), audit_row, &r, NULL);
}

struct idem_row {
	bool found;
	char request_hash[80];
	int status;
	char *body;
	int64_t created_at;
};

static int idem_row(const struct rt_val *c, size_t n, void *arg)
{
	struct idem_row *r = arg;

	r->found = true;
	RT_COL_STR(r->request_hash, &c[0]);
	r->status = (int)rt_col_int(&c[1]);
	if (c[2].type == RT_VAL_TEXT) {
		r->body = strdup(c[2].s);
		if (!r->body)
			return ENOMEM;
	}
	r->created_at = rt_col_int(&c[3]);
	return 0;
}

int rt_store_idem_begin(struct rt_store_tx *tx, const char *principal,
			const char *key, const char *request_hash, int64_t now,
			int *statusp, char **bodyp)
{
	struct rt_val args[] = {RT_VTEXT(principal), RT_VTEXT(key),
				RT_VTEXT(request_hash), RT_VINT(now)};
	struct idem_row r = {0};
	int err;

	err = rt_store_query(
		tx,
		"SELECT request_hash, status, body, created_at FROM "
		"idempotency_keys WHERE principal = ?1 AND idem_key "
		"= ?2",
		args, 2, idem_row, &r, NULL);
	if (err)
		goto out;
	if (r.found && r.created_at + IDEM_TTL_MS < now) {
		err = rt_store_idem_forget(tx, principal, key);
		if (err)
			goto out;
		r.found = false;
	}
	if (r.found) {
		if (strcmp(r.request_hash, request_hash) != 0) {
			err = EINVAL;
			goto out;
		}
		*statusp = r.status;
		*bodyp = r.body;
		r.body = NULL;
		err = EEXIST;
		goto out;
	}
	err = rt_store_query(
		tx,
		"INSERT INTO idempotency_keys (principal, idem_key, "
		"request_hash, status, created_at) VALUES (?1, ?2, "
		"?3, 0, ?4)",
		args, 4, NULL, NULL, NULL);
out:
	free(r.body);
	return err;
}

int rt_store_idem_finish(struct rt_store_tx *tx, const char *principal,
			 const char *key, int status, const char *body)
{
	struct rt_val args[] = {RT_VTEXT(principal), RT_VTEXT(key),
				RT_VINT(status), RT_VTEXT(body)};

	return rt_store_query(
		tx,
		"UPDATE idempotency_keys SET status = ?3, body = ?4 "
		"WHERE principal = ?1 AND idem_key = ?2",
		args, 4, NULL, NULL, NULL);
}

int rt_store_idem_forget(struct rt_store_tx *tx, const char *principal,
			 const char *key)
{
	struct rt_val args[] = {RT_VTEXT(principal), RT_VTEXT(key)};

	return rt_store_query(
		tx,
		"DELETE FROM idempotency_keys WHERE principal = ?1 "
		"AND idem_key = ?2",
		args, 2, NULL, NULL, NULL);
}
