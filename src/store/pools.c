/* Number pools: the numbers a site's visitors are shown in turn. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_int.h"

/* The number count is read with the row, so that every answer has it. */
#define POOL_COLS                                                              \
	"p.id, p.account_id, p.name, p.swap_targets, p.sources, "              \
	"p.session_ttl, p.cooldown, p.policy, p.on_exhausted, "                \
	"p.keyword_param, p.ad_group_param, p.campaign_param, "                \
	"p.matchtype_param, p.network_param, p.device_param, p.status, "       \
	"p.created_at, p.updated_at, (SELECT COUNT(*) FROM numbers x WHERE "   \
	"x.pool_id = p.id AND x.status <> 'released'), p.flow_id"

struct pool_rows {
	rt_pool_h *h;
	void *arg;
	struct rt_pool *one;
};

/* The stored JSON array of E.164 strings into p; what is not a string of
 * the right size is skipped rather than failing the read. */
static void targets_decode(struct rt_pool *p, const char *text)
{
	json_t *a = json_loads(text, 0, NULL);
	json_t *v;
	size_t i;

	p->nswap_targets = 0;
	json_array_foreach (a, i, v) {
		const char *s = json_string_value(v);

		if (p->nswap_targets >= RT_POOL_TARGETS_MAX)
			break;
		if (!s || strlen(s) >= sizeof(p->swap_targets[0]))
			continue;
		rt_strlcpy(p->swap_targets[p->nswap_targets++], s,
			   sizeof(p->swap_targets[0]));
	}
	json_decref(a);
}

/* The JSON text of p's swap targets (caller frees), or NULL (ENOMEM). */
static char *targets_encode(const struct rt_pool *p)
{
	json_t *a = json_array();
	char *text = NULL;

	if (!a)
		return NULL;
	for (unsigned i = 0; i < p->nswap_targets && i < RT_POOL_TARGETS_MAX;
	     i++) {
		if (json_array_append_new(a, json_string(p->swap_targets[i])))
			goto out;
	}
	text = json_dumps(a, JSON_COMPACT);
out:
	json_decref(a);
	return text;
}

static int pool_row(const struct rt_val *c, size_t ncols, void *arg)
{
	struct pool_rows *r = arg;
	struct rt_pool p, *d = r->one ? r->one : &p;

	(void)ncols;
	memset(d, 0, sizeof(*d));
	d->id = rt_col_int(&c[0]);
	d->account_id = rt_col_int(&c[1]);
	RT_COL_STR(d->name, &c[2]);
	targets_decode(d, rt_col_text(&c[3]));
	RT_COL_STR(d->sources, &c[4]);
	d->session_ttl = rt_col_int(&c[5]);
	d->cooldown = rt_col_int(&c[6]);
	RT_COL_STR(d->policy, &c[7]);
	RT_COL_STR(d->on_exhausted, &c[8]);
	RT_COL_STR(d->keyword_param, &c[9]);
	RT_COL_STR(d->ad_group_param, &c[10]);
	RT_COL_STR(d->campaign_param, &c[11]);
	RT_COL_STR(d->matchtype_param, &c[12]);
	RT_COL_STR(d->network_param, &c[13]);
	RT_COL_STR(d->device_param, &c[14]);
	RT_COL_STR(d->status, &c[15]);
	d->created_at = rt_col_int(&c[16]);
	d->updated_at = rt_col_int(&c[17]);
	d->number_count = rt_col_int(&c[18]);
	d->flow_id = rt_col_int(&c[19]);
	return r->h ? r->h(d, r->arg) : 0;
}

static int pool_one(struct rt_store_tx *tx, const char *sql,
		    const struct rt_val *args, size_t nargs, struct rt_pool *p)
{
	struct rt_pool tmp;
	struct pool_rows r = {.one = &tmp};
	int err;

	/* Into a copy: a call that finds no row leaves *p as it was. */
	tmp.id = 0;
	err = rt_store_query(tx, sql, args, nargs, pool_row, &r, NULL);
	if (!err && tmp.id == 0)
		err = ENOENT;
	if (!err)
		*p = tmp;
	return err;
}

/* Unscoped: reads back a row that a scoped write just made or changed. */
static int pool_read(struct rt_store_tx *tx, int64_t id, struct rt_pool *p)
{
	struct rt_val args[] = {RT_VINT(id)};

	return pool_one(tx, "SELECT " POOL_COLS " FROM pools p WHERE p.id = ?1",
			args, 1, p);
}

static int id_row(const struct rt_val *c, size_t ncols, void *arg)
{
	(void)ncols;
	*(int64_t *)arg = rt_col_int(&c[0]);
	return 0;
}

int rt_store_pool_create(struct rt_store_tx *tx, int64_t scope,
			 struct rt_pool *p)
{
	char *targets = targets_encode(p);
	int64_t id = 0;
	int err;

	if (!targets)
		return ENOMEM;
	if (scope) {
		err = rt_store_account_in_scope(tx, scope, p->account_id);
		if (err)
			goto out;
	}
	err = rt_store_flow_fits(tx, scope, p->flow_id, p->account_id);
	if (err)
		goto out;
	{
		struct rt_val args[] = {
			RT_VINT(p->account_id),
			RT_VTEXT(p->name),
			RT_VTEXT(targets),
			RT_VTEXT(p->sources),
			RT_VINT(p->session_ttl),
			RT_VINT(p->cooldown),
			RT_VTEXT(p->policy),
			RT_VTEXT(p->on_exhausted),
			RT_VTEXT(p->keyword_param),
			RT_VTEXT(p->ad_group_param),
			RT_VTEXT(p->campaign_param),
			RT_VTEXT(p->matchtype_param),
			RT_VTEXT(p->network_param),
			RT_VTEXT(p->device_param),
			RT_VTEXT(p->status[0] ? p->status : "active"),
			RT_VINT(rt_now_ms()),
			p->flow_id ? RT_VINT(p->flow_id) : RT_VNULL,
		};

		err = rt_store_query(
			tx,
			"INSERT INTO pools (account_id, name, swap_targets, "
			"sources, session_ttl, cooldown, policy, "
			"on_exhausted, keyword_param, ad_group_param, "
			"campaign_param, matchtype_param, network_param, "
			"device_param, status, created_at, updated_at, "
			"flow_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			"?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?17) "
			"RETURNING id",
			args, RT_ARRAY_SIZE(args), id_row, &id, NULL);
	}
	if (!err && id == 0)
		err = EIO;
	if (!err)
		err = pool_read(tx, id, p);
out:
	free(targets);
	return err;
}

int rt_store_pool_get(struct rt_store_tx *tx, int64_t scope, int64_t id,
		      struct rt_pool *p)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(id)};

	return pool_one(tx,
			"SELECT " POOL_COLS " FROM pools p WHERE p.id = ?2 "
			"AND " RT_IN_SCOPE("p.account_id"),
			args, 2, p);
}

int rt_store_pool_update(struct rt_store_tx *tx, int64_t scope,
			 struct rt_pool *p)
{
	char *targets = targets_encode(p);
	int64_t id = 0;
	int err;

	if (!targets)
		return ENOMEM;
	/* The flow must be the pool's own account's, as stored. */
	if (p->flow_id) {
		struct rt_pool cur;

		err = rt_store_pool_get(tx, scope, p->id, &cur);
		if (!err)
			err = rt_store_flow_fits(tx, scope, p->flow_id,
						 cur.account_id);
		if (err)
			goto out;
	}
	{
		struct rt_val args[] = {
			RT_VINT(scope),
			RT_VINT(p->id),
			RT_VTEXT(p->name),
			RT_VTEXT(targets),
			RT_VTEXT(p->sources),
			RT_VINT(p->session_ttl),
			RT_VINT(p->cooldown),
			RT_VTEXT(p->policy),
			RT_VTEXT(p->on_exhausted),
			RT_VTEXT(p->keyword_param),
			RT_VTEXT(p->ad_group_param),
			RT_VTEXT(p->campaign_param),
			RT_VTEXT(p->matchtype_param),
			RT_VTEXT(p->network_param),
			RT_VTEXT(p->device_param),
			RT_VTEXT(p->status),
			RT_VINT(rt_now_ms()),
			p->flow_id ? RT_VINT(p->flow_id) : RT_VNULL,
		};

		err = rt_store_query(
			tx,
			"UPDATE pools SET name = ?3, swap_targets = ?4, "
			"sources = ?5, session_ttl = ?6, cooldown = ?7, "
			"policy = ?8, on_exhausted = ?9, keyword_param = "
			"?10, ad_group_param = ?11, campaign_param = ?12, "
			"matchtype_param = ?13, network_param = ?14, "
			"device_param = ?15, status = ?16, updated_at = ?17, "
			"flow_id = ?18 WHERE id = ?2 AND " RT_IN_SCOPE(
				"pools.account_id") " RETURNING id",
			args, RT_ARRAY_SIZE(args), id_row, &id, NULL);
	}
	if (!err && id == 0)
		err = ENOENT;
	if (!err)
		err = pool_read(tx, id, p);
out:
	free(targets);
	return err;
}

int rt_store_pool_list(struct rt_store_tx *tx, int64_t scope,
		       int64_t account_id, const struct rt_page *pg,
		       rt_pool_h *h, void *arg)
{
	struct rt_val args[] = {RT_VINT(scope), RT_VINT(pg->after),
				RT_VINT(rt_store_page_limit(pg)),
				RT_VINT(account_id)};
	struct pool_rows r = {.h = h, .arg = arg};

	return rt_store_query(tx,
			      "SELECT " POOL_COLS
			      " FROM pools p WHERE p.id > ?2 AND (?4 = 0 "
			      "OR p.account_id = ?4) AND " RT_IN_SCOPE(
				      "p.account_id") " ORDER BY p.id LIMIT ?3",
			      args, RT_ARRAY_SIZE(args), pool_row, &r, NULL);
}

int rt_store_pool_fits(struct rt_store_tx *tx, int64_t scope, int64_t pool_id,
		       int64_t account_id)
{
	struct rt_pool p;
	int err;

	if (!pool_id)
		return 0;
	err = scope ? rt_store_pool_get(tx, scope, pool_id, &p)
		    : pool_read(tx, pool_id, &p);
	if (err)
		return err;
	return p.account_id == account_id ? 0 : EPERM;
}
