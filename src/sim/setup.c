/*
 * The account a simulation works in, so that it never touches a user's
 * own data: the "Simulation" client account below the key's account
 * (made on the first run, found by name on later ones) or the account
 * named with --account; in it the "Simulation website" pool, whose
 * numbers dni.js hands out in place of the number on the site, and a
 * Microsoft Ads source number.  Every number is in a fictional 555-01xx
 * range and sends its calls to the simulator's phone; a later run finds
 * them, adds what is missing and points their destination at its phone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim_int.h"

#define ACCOUNT_NAME "Simulation"
#define POOL_NAME    "Simulation website"
#define POOL_TTL_S   120 /* dni.js's heartbeats keep a waiting caller's */
#define POOL_COOL_S  30
/* The number on the simulated site; the pool's numbers stand in for it. */
#define TARGET	     "+13125550100"
#define SOURCE_LABEL "Simulation: Microsoft Ads"
#define POOL_MIN     6
#define POOL_MAX     60

/* Tracking numbers: 555-0101 to 555-0199 of Chicago's area codes (the
 * callers come from others). */
static const char *const npas[] = {"312", "872", "331", "224"};

struct ctx {
	struct rt_sim_api *a;
	char *err;
	size_t errsz;
};

static int fail(struct ctx *x, int e, const char *what, struct rt_sim_resp *r)
{
	char why[300];
	long st = e ? 0 : r->status;

	if (e == ECONNREFUSED)
		snprintf(x->err, x->errsz, "cannot reach the server at %s: %s",
			 rt_sim_api_base(x->a), rt_sim_api_error(x->a));
	else if (e)
		snprintf(x->err, x->errsz, "%s: %s", what, strerror(e));
	else if (st == 401 || st == 403)
		snprintf(x->err, x->errsz,
			 "%s: the server at %s refused the API key (%s)", what,
			 rt_sim_api_base(x->a),
			 rt_sim_resp_why(r, why, sizeof(why)));
	else
		snprintf(x->err, x->errsz, "%s: the server answered %s", what,
			 rt_sim_resp_why(r, why, sizeof(why)));
	rt_sim_resp_release(r);
	if (e)
		return e;
	return st == 401 || st == 403 ? EACCES : EPROTO;
}

/* A request whose answer must be `want`; r is the caller's on 0. */
static int req(struct ctx *x, const char *method, const char *path,
	       json_t *body, long want, const char *what, struct rt_sim_resp *r)
{
	int e = rt_sim_api_call(x->a, method, path, body, NULL, true, r);

	json_decref(body);
	if (!e && r->status == want)
		return 0;
	return fail(x, e, what, r);
}

/* Every item of a list endpoint (path ends in its query), one array. */
static int list_all(struct ctx *x, const char *path, const char *what,
		    json_t **out)
{
	json_t *all = json_array();
	char *cursor = NULL;
	int e = 0;

	if (!all)
		return ENOMEM;
	do {
		struct rt_sim_resp r;
		char *p;
		const char *next;

		p = cursor ? rt_asprintf("%s&cursor=%s", path, cursor)
			   : rt_strdup(path);
		free(cursor);
		cursor = NULL;
		if (!p) {
			e = ENOMEM;
			break;
		}
		e = req(x, "GET", p, NULL, 200, what, &r);
		free(p);
		if (e)
			break;
		json_array_extend(all, json_object_get(r.json, "data"));
		next = json_string_value(
			json_object_get(r.json, "next_cursor"));
		if (next) {
			cursor = rt_sim_api_escape(x->a, next);
			if (!cursor)
				e = ENOMEM;
		}
		rt_sim_resp_release(&r);
	} while (cursor && !e);
	free(cursor);
	if (e) {
		json_decref(all);
		return e;
	}
	*out = all;
	return 0;
}

static void take_account(const json_t *acct, struct rt_sim_site *site)
{
	site->account_id = json_integer_value(json_object_get(acct, "id"));
	rt_strlcpy(site->account_name, rt_sim_json_str(acct, "name"),
		   sizeof(site->account_name));
	rt_strlcpy(site->site_key, rt_sim_json_str(acct, "site_key"),
		   sizeof(site->site_key));
}

static int account(struct ctx *x, const struct rt_sim_conf *c,
		   struct rt_sim_site *site)
{
	struct rt_sim_resp r;
	json_t *me_acct, *list, *item, *body;
	int64_t me_id;
	size_t i;
	int e;

	e = req(x, "GET", "/v1/me", NULL, 200, "checking the key", &r);
	if (e)
		return e;
	me_acct = json_object_get(r.json, "account");
	me_id = json_integer_value(json_object_get(me_acct, "id"));
	if (c->account_id) {
		char path[48];

		rt_sim_resp_release(&r);
		snprintf(path, sizeof(path), "/v1/accounts/%lld",
			 (long long)c->account_id);
		e = rt_sim_api_call(x->a, "GET", path, NULL, NULL, true, &r);
		if (!e && r.status == 404) {
			snprintf(x->err, x->errsz,
				 "account %lld is not one this key can see",
				 (long long)c->account_id);
			rt_sim_resp_release(&r);
			return EINVAL;
		}
		if (e || r.status != 200)
			return fail(x, e, "reading the account", &r);
		take_account(r.json, site);
		rt_sim_resp_release(&r);
		return 0;
	}
	if (me_id <= 0) {
		rt_sim_resp_release(&r);
		snprintf(x->err, x->errsz, "the key's account is unknown");
		return EPROTO;
	}
	/* A key of the Simulation account itself. */
	if (strcmp(rt_sim_json_str(me_acct, "name"), ACCOUNT_NAME) == 0) {
		take_account(me_acct, site);
		rt_sim_resp_release(&r);
		return 0;
	}
	rt_sim_resp_release(&r);
	e = list_all(x, "/v1/accounts?limit=200", "listing accounts", &list);
	if (e)
		return e;
	json_array_foreach (list, i, item) {
		if (strcmp(rt_sim_json_str(item, "name"), ACCOUNT_NAME) == 0 &&
		    json_integer_value(json_object_get(item, "parent_id")) ==
			    me_id) {
			take_account(item, site);
			break;
		}
	}
	json_decref(list);
	if (site->account_id)
		return 0;
	body = json_pack("{s:s,s:s}", "name", ACCOUNT_NAME, "kind", "client");
	if (!body)
		return ENOMEM;
	e = rt_sim_api_call(x->a, "POST", "/v1/accounts", body, NULL, true, &r);
	json_decref(body);
	if (!e && r.status == 201) {
		take_account(r.json, site);
		site->created_account = true;
		rt_sim_resp_release(&r);
		return 0;
	}
	if (!e && (r.status == 403 || r.status == 422)) {
		char why[300];

		snprintf(x->err, x->errsz,
			 "cannot make the '" ACCOUNT_NAME
			 "' account the simulation works in (%s); use a key "
			 "with the admin scope of an agency account, or name "
			 "an account of yours for it with --account ID",
			 rt_sim_resp_why(&r, why, sizeof(why)));
		rt_sim_resp_release(&r);
		return EACCES;
	}
	return fail(x, e, "making the " ACCOUNT_NAME " account", &r);
}

static int pool(struct ctx *x, struct rt_sim_site *site)
{
	struct rt_sim_resp r;
	json_t *list, *item, *found = NULL;
	char path[96];
	size_t i;
	int e;

	snprintf(path, sizeof(path), "/v1/pools?account_id=%lld&limit=200",
		 (long long)site->account_id);
	e = list_all(x, path, "listing pools", &list);
	if (e)
		return e;
	json_array_foreach (list, i, item) {
		if (strcmp(rt_sim_json_str(item, "name"), POOL_NAME) == 0) {
			found = item;
			break;
		}
	}
	if (found) {
		const char *t = json_string_value(
			json_array_get(json_object_get(found, "swap_targets"),
				       0));

		site->pool_id =
			json_integer_value(json_object_get(found, "id"));

		rt_strlcpy(site->target, t ? t : TARGET, sizeof(site->target));
		if (strcmp(rt_sim_json_str(found, "status"), "active") != 0) {
			json_decref(list);
			snprintf(path, sizeof(path), "/v1/pools/%lld",
				 (long long)site->pool_id);
			e = req(x, "PATCH", path,
				json_pack("{s:s}", "status", "active"), 200,
				"activating the pool", &r);
			if (!e)
				rt_sim_resp_release(&r);
			return e;
		}
		json_decref(list);
		return 0;
	}
	json_decref(list);
	e = req(x, "POST", "/v1/pools",
		json_pack("{s:I,s:s,s:[s],s:s,s:I,s:I}", "account_id",
			  (json_int_t)site->account_id, "name", POOL_NAME,
			  "swap_targets", TARGET, "sources", "all",
			  "session_ttl_seconds", (json_int_t)POOL_TTL_S,
			  "cooldown_seconds", (json_int_t)POOL_COOL_S),
		201, "making the pool", &r);
	if (e)
		return e;
	site->pool_id = json_integer_value(json_object_get(r.json, "id"));
	rt_strlcpy(site->target, TARGET, sizeof(site->target));
	rt_sim_resp_release(&r);
	return 0;
}

/* Adds one number: the next candidate that nobody has.  *nextp walks the
 * candidates across calls.  ENOSPC when none is left. */
static int add_number(struct ctx *x, struct rt_sim_site *site, unsigned *nextp,
		      const json_t *have, const char *dest, bool source,
		      char *e164, size_t size)
{
	for (; *nextp < RT_ARRAY_SIZE(npas) * 99; (*nextp)++) {
		char number[16];
		struct rt_sim_resp r;
		json_t *body, *item;
		bool taken = false;
		size_t i;
		int e;

		snprintf(number, sizeof(number), "+1%s55501%02u",
			 npas[*nextp / 99], *nextp % 99 + 1);
		json_array_foreach (have, i, item) {
			taken = taken || strcmp(rt_sim_json_str(item, "number"),
						number) == 0;
		}
		if (taken)
			continue;
		if (source)
			body = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}",
					 "account_id",
					 (json_int_t)site->account_id, "number",
					 number, "label", SOURCE_LABEL, "kind",
					 "source", "source", "bing", "medium",
					 "cpc", "destination", dest);
		else
			body = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s}",
					 "account_id",
					 (json_int_t)site->account_id, "number",
					 number, "label", POOL_NAME, "kind",
					 "pool", "pool_id",
					 (json_int_t)site->pool_id,
					 "destination", dest);
		e = rt_sim_api_call(x->a, "POST", "/v1/numbers", body, NULL,
				    true, &r);
		json_decref(body);
		if (!e && r.status == 201) {
			rt_sim_resp_release(&r);
			rt_strlcpy(e164, number, size);
			site->added++;
			(*nextp)++;
			return 0;
		}
		/* Someone has it (409): the next one. */
		if (!e && r.status == 409) {
			rt_sim_resp_release(&r);
			continue;
		}
		return fail(x, e, "adding a tracking number", &r);
	}
	snprintf(x->err, x->errsz,
		 "no fictional 555-01xx number is left to add to the account");
	return ENOSPC;
}

static int keep(struct rt_sim_site *site, const char *e164)
{
	char(*m)[20] = realloc(site->mine, (site->nmine + 1) * sizeof(*m));

	if (!m)
		return ENOMEM;
	site->mine = m;
	rt_strlcpy(m[site->nmine++], e164, sizeof(*m));
	return 0;
}

bool rt_sim_site_has(const struct rt_sim_site *site, const char *e164)
{
	for (size_t i = 0; i < site->nmine; i++) {
		if (strcmp(site->mine[i], e164) == 0)
			return true;
	}
	return false;
}

void rt_sim_site_release(struct rt_sim_site *site)
{
	free(site->mine);
	site->mine = NULL;
	site->nmine = 0;
}

static int numbers(struct ctx *x, const char *dest, size_t want,
		   struct rt_sim_site *site)
{
	json_t *list, *item;
	char path[96], e164[20];
	unsigned next = 0;
	size_t i;
	int e;

	snprintf(path, sizeof(path), "/v1/numbers?account_id=%lld&limit=200",
		 (long long)site->account_id);
	e = list_all(x, path, "listing numbers", &list);
	if (e)
		return e;
	json_array_foreach (list, i, item) {
		json_int_t pid =
			json_integer_value(json_object_get(item, "pool_id"));
		bool mine = pid == site->pool_id;
		/* Ours by its label: an account named with --account may
		 * have a Microsoft Ads number of its own, left alone. */
		bool src =
			!site->source_number[0] &&
			strcmp(rt_sim_json_str(item, "kind"), "source") == 0 &&
			strcmp(rt_sim_json_str(item, "label"), SOURCE_LABEL) ==
				0;
		struct rt_sim_resp r;

		if (!mine && !src)
			continue;
		e = keep(site, rt_sim_json_str(item, "number"));
		if (e)
			break;
		if (src)
			rt_strlcpy(site->source_number,
				   rt_sim_json_str(item, "number"),
				   sizeof(site->source_number));
		else
			site->pool_size++;
		if (strcmp(rt_sim_json_str(item, "destination"), dest) == 0 &&
		    strcmp(rt_sim_json_str(item, "status"), "active") == 0)
			continue;
		snprintf(path, sizeof(path), "/v1/numbers/%lld",
			 (long long)json_integer_value(
				 json_object_get(item, "id")));
		e = req(x, "PATCH", path,
			json_pack("{s:s,s:s}", "destination", dest, "status",
				  "active"),
			200, "pointing a number at the phone", &r);
		if (e)
			break;
		rt_sim_resp_release(&r);
		site->updated++;
	}
	while (!e && site->pool_size < want) {
		e = add_number(x, site, &next, list, dest, false, e164,
			       sizeof(e164));
		if (!e)
			e = keep(site, e164);
		if (!e)
			site->pool_size++;
	}
	if (!e && !site->source_number[0]) {
		e = add_number(x, site, &next, list, dest, true,
			       site->source_number,
			       sizeof(site->source_number));
		if (!e)
			e = keep(site, site->source_number);
	}
	json_decref(list);
	return e;
}

/*
 * Numbers enough for this run's visitors on top of the sessions that
 * still hold one (an earlier run's, for the pool's idle time-out), so
 * that each visitor gets a number of their own: the lease engine says
 * how many are live.
 */
static size_t pool_size(struct ctx *x, const struct rt_sim_site *site,
			unsigned visitors)
{
	struct rt_sim_resp r;
	char path[64];
	size_t want = visitors;

	snprintf(path, sizeof(path), "/v1/pools/%lld/health",
		 (long long)site->pool_id);
	if (rt_sim_api_call(x->a, "GET", path, NULL, NULL, true, &r) == 0) {
		json_int_t live = json_integer_value(
			json_object_get(r.json, "live_sessions"));

		if (r.status == 200 && live > 0)
			want += (size_t)live;
		rt_sim_resp_release(&r);
	}
	return want < POOL_MIN ? POOL_MIN : want > POOL_MAX ? POOL_MAX : want;
}

int rt_sim_setup(struct rt_sim_api *a, const struct rt_sim_conf *conf,
		 const char *dest, struct rt_sim_site *site, char *err,
		 size_t errsz)
{
	struct ctx x = {a, err, errsz};
	int e;

	memset(site, 0, sizeof(*site));
	/* On failure too, the caller releases site. */
	e = account(&x, conf, site);
	if (!e)
		e = pool(&x, site);
	if (!e)
		e = numbers(&x, dest, pool_size(&x, site, conf->visitors),
			    site);
	return e;
}
