/*
 * Number pools' parts: the rules of a pool (rt_dni_pool_check) and of a
 * number in one, and the store: create, read, change and list pools in
 * tenant scope, the numbers of a pool, and a number's pool; the call flow
 * of a number or a pool.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dni/dni.h"
#include "store/store.h"
#include "util/util.h"

/* ---- the rules ---------------------------------------------------------- */

static struct rt_pool pool_named(const char *name)
{
	struct rt_pool p;

	memset(&p, 0, sizeof(p));
	rt_dni_pool_defaults(&p);
	rt_strlcpy(p.name, name, sizeof(p.name));
	return p;
}

/* Checks p with targets; returns the failing field, or NULL. */
static const char *check(struct rt_pool *p, const char *const *t, size_t n,
			 const char *country)
{
	const char *field = NULL;
	char msg[160];

	if (rt_dni_pool_check(p, t, n, country, &field, msg, sizeof(msg)) == 0)
		return NULL;
	assert_non_null(field);
	assert_true(msg[0] != '\0');
	return field;
}

static void test_pool_defaults(void **state)
{
	struct rt_pool p = pool_named("Site");
	struct rt_dni_params params;
	(void)state;

	assert_string_equal(p.sources, "all");
	assert_int_equal(p.session_ttl, 30 * 60 * 1000);
	assert_int_equal(p.cooldown, 5 * 60 * 1000);
	assert_string_equal(p.policy, "least_recently_released");
	assert_string_equal(p.on_exhausted, "share_least_recent");
	assert_string_equal(p.status, "active");
	/* The parameter names are classification's own defaults. */
	rt_dni_pool_params(&p, &params);
	assert_string_equal(params.keyword, rt_dni_params_default.keyword);
	assert_string_equal(params.ad_group_id,
			    rt_dni_params_default.ad_group_id);
	assert_string_equal(params.campaign_id,
			    rt_dni_params_default.campaign_id);
	assert_string_equal(params.matchtype, rt_dni_params_default.matchtype);
	assert_string_equal(params.network, rt_dni_params_default.network);
	assert_string_equal(params.device, rt_dni_params_default.device);
	rt_strlcpy(p.keyword_param, "kw", sizeof(p.keyword_param));
	rt_dni_pool_params(&p, &params);
	assert_string_equal(params.keyword, "kw");
}

static void test_pool_rules(void **state)
{
	const char *us[] = {"(312) 555-0100", "+1 312 555 0101"};
	const char *gb[] = {"020 7946 0958"};
	const char *dup[] = {"+13125550100", "312.555.0100"};
	const char *bad[] = {"+13125550100", "call us"};
	const char *twenty_one[21];
	char nums[21][16];
	struct rt_pool p = pool_named("Site");
	(void)state;

	/* Targets become E.164, read for the country (default US). */
	assert_null(check(&p, us, 2, NULL));
	assert_int_equal(p.nswap_targets, 2);
	assert_string_equal(p.swap_targets[0], "+13125550100");
	assert_string_equal(p.swap_targets[1], "+13125550101");
	/* NULL targets: the pool's own are checked and kept. */
	assert_null(check(&p, NULL, 0, NULL));
	assert_int_equal(p.nswap_targets, 2);
	assert_null(check(&p, gb, 1, "GB"));
	assert_int_equal(p.nswap_targets, 1);
	assert_string_equal(p.swap_targets[0], "+442079460958");

	/* A failed check leaves the targets as they were. */
	assert_string_equal(check(&p, dup, 2, NULL), "swap_targets");
	assert_string_equal(check(&p, bad, 2, NULL), "swap_targets");
	assert_string_equal(p.swap_targets[0], "+442079460958");
	assert_string_equal(check(&p, us, 0, NULL), "swap_targets");
	for (int i = 0; i < 21; i++) {
		snprintf(nums[i], sizeof(nums[i]), "+1312555%04d", 100 + i);
		twenty_one[i] = nums[i];
	}
	assert_null(check(&p, twenty_one, 20, NULL));
	assert_string_equal(check(&p, twenty_one, 21, NULL), "swap_targets");
	assert_string_equal(check(&p, us, 2, "usa"), "country");

	p = pool_named("");
	assert_string_equal(check(&p, us, 2, NULL), "name");

	p = pool_named("Site");
	rt_strlcpy(p.sources, "tv", sizeof(p.sources));
	assert_string_equal(check(&p, us, 2, NULL), "sources");
	for (const char *const *s =
		     (const char *const[]){"all", "paid_search", "paid_social",
					   "organic", "rule", NULL};
	     *s; s++) {
		rt_strlcpy(p.sources, *s, sizeof(p.sources));
		assert_null(check(&p, us, 2, NULL));
	}

	/* A minute to a day of idle time; no cool-down to a day. */
	p.session_ttl = 60 * 1000 - 1;
	assert_string_equal(check(&p, us, 2, NULL), "session_ttl_seconds");
	p.session_ttl = 60 * 1000;
	assert_null(check(&p, us, 2, NULL));
	p.session_ttl = 24 * 3600 * 1000;
	assert_null(check(&p, us, 2, NULL));
	p.session_ttl = 24 * 3600 * 1000 + 1;
	assert_string_equal(check(&p, us, 2, NULL), "session_ttl_seconds");
	p.session_ttl = 60 * 1000;
	p.cooldown = 0;
	assert_null(check(&p, us, 2, NULL));
	p.cooldown = -1;
	assert_string_equal(check(&p, us, 2, NULL), "cooldown_seconds");
	p.cooldown = 24 * 3600 * 1000 + 1;
	assert_string_equal(check(&p, us, 2, NULL), "cooldown_seconds");

	p = pool_named("Site");
	rt_strlcpy(p.policy, "random", sizeof(p.policy));
	assert_string_equal(check(&p, us, 2, NULL), "policy");
	p = pool_named("Site");
	rt_strlcpy(p.on_exhausted, "fail", sizeof(p.on_exhausted));
	assert_string_equal(check(&p, us, 2, NULL), "on_exhausted");
	p = pool_named("Site");
	rt_strlcpy(p.status, "deleted", sizeof(p.status));
	assert_string_equal(check(&p, us, 2, NULL), "status");
	p = pool_named("Site");
	rt_strlcpy(p.device_param, "", sizeof(p.device_param));
	assert_string_equal(check(&p, us, 2, NULL), "device_param");
	rt_strlcpy(p.device_param, "dev=1", sizeof(p.device_param));
	assert_string_equal(check(&p, us, 2, NULL), "device_param");
	rt_strlcpy(p.device_param, "utm_device.v-2~x", sizeof(p.device_param));
	assert_null(check(&p, us, 2, NULL));
}

static void test_number_in_pool_rules(void **state)
{
	struct rt_pool p = pool_named("Site");
	struct rt_number n;
	const char *field = NULL;
	char msg[160];
	(void)state;

	memset(&n, 0, sizeof(n));
	p.id = 7;
	p.account_id = 3;
	n.account_id = 3;
	n.pool_id = 7;
	/* The inventory's own rule: a pool id only on a pool number. */
	assert_int_equal(rt_dni_number_check(&n, "+13125550100", "US", &field,
					     msg, sizeof(msg)),
			 0);
	assert_string_equal(n.kind, "pool");
	assert_int_equal(rt_dni_number_pool_check(&n, &p, &field, msg,
						  sizeof(msg)),
			 0);
	assert_int_equal(rt_dni_number_pool_check(&n, NULL, &field, msg,
						  sizeof(msg)),
			 0);

	p.account_id = 4;
	assert_int_equal(rt_dni_number_pool_check(&n, &p, &field, msg,
						  sizeof(msg)),
			 EINVAL);
	assert_string_equal(field, "pool_id");

	p.account_id = 3;
	rt_strlcpy(n.kind, "offline", sizeof(n.kind));
	rt_strlcpy(n.campaign, "Radio", sizeof(n.campaign));
	assert_int_equal(rt_dni_number_pool_check(&n, &p, &field, msg,
						  sizeof(msg)),
			 EINVAL);
	assert_int_equal(rt_dni_number_check(&n, "+13125550100", "US", &field,
					     msg, sizeof(msg)),
			 EINVAL);
	assert_string_equal(field, "pool_id");
	n.pool_id = 0;
	assert_int_equal(rt_dni_number_check(&n, "+13125550100", "US", &field,
					     msg, sizeof(msg)),
			 0);
}

/* ---- the store ---------------------------------------------------------- */

struct fix {
	struct rt_store *s;
	int64_t a, a_client, b;
};

static int64_t account(struct rt_store_tx *tx, const char *name, int64_t parent)
{
	struct rt_account a = {0};

	rt_strlcpy(a.name, name, sizeof(a.name));
	rt_strlcpy(a.kind, parent ? "client" : "agency", sizeof(a.kind));
	rt_strlcpy(a.time_zone, "UTC", sizeof(a.time_zone));
	rt_strlcpy(a.currency, "USD", sizeof(a.currency));
	a.parent_id = parent;
	assert_int_equal(parent ? rt_store_account_create(tx, parent, &a)
				: rt_store_account_create_root(tx, &a),
			 0);
	return a.id;
}

static int setup(void **state)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 1000};
	struct fix *f = calloc(1, sizeof(*f));
	struct rt_store_tx *tx;

	rt_log_set_level(RT_LOG_ERROR);
	assert_non_null(f);
	assert_int_equal(rt_store_open(&f->s, ":memory:", &o), 0);
	assert_int_equal(rt_store_migrate(f->s, NULL), 0);
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	f->a = account(tx, "A", 0);
	f->a_client = account(tx, "A client", f->a);
	f->b = account(tx, "B", 0);
	assert_int_equal(rt_store_commit(tx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	rt_store_close(f->s);
	free(f);
	return 0;
}

static struct rt_pool valid_pool(const char *name, int64_t account_id)
{
	const char *t[] = {"+13125550100", "+13125550101"};
	struct rt_pool p = pool_named(name);

	p.account_id = account_id;
	assert_null(check(&p, t, 2, NULL));
	return p;
}

static struct rt_number number(const char *text, int64_t account_id,
			       int64_t pool_id)
{
	struct rt_number n;
	const char *field;
	char msg[160];

	memset(&n, 0, sizeof(n));
	n.account_id = account_id;
	n.pool_id = pool_id;
	assert_int_equal(rt_dni_number_check(&n, text, "US", &field, msg,
					     sizeof(msg)),
			 0);
	return n;
}

static int count_pool(const struct rt_pool *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

static int collect_number(const struct rt_number *n, void *arg)
{
	int64_t *ids = arg;

	for (; *ids; ids++)
		;
	*ids = n->id;
	return 0;
}

static void test_store_pools(void **state)
{
	struct fix *f = *state;
	struct rt_page pg = {.after = 0, .limit = 100};
	struct rt_store_tx *tx;
	struct rt_pool p = valid_pool("Main", f->a), c, got, keep;
	int count = 0;

	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	/* B cannot make a pool in A's tree. */
	c = valid_pool("Client", f->a_client);
	got = c;
	assert_int_equal(rt_store_pool_create(tx, f->b, &got), ENOENT);
	assert_int_equal(rt_store_pool_create(tx, f->a, &p), 0);
	assert_int_equal(rt_store_pool_create(tx, f->a, &c), 0);
	assert_true(p.id > 0 && c.id > p.id);
	assert_true(p.created_at > 0);
	assert_int_equal(p.number_count, 0);

	/* Everything comes back as written. */
	assert_int_equal(rt_store_pool_get(tx, f->a, p.id, &got), 0);
	assert_string_equal(got.name, "Main");
	assert_int_equal(got.nswap_targets, 2);
	assert_string_equal(got.swap_targets[1], "+13125550101");
	assert_string_equal(got.sources, "all");
	assert_int_equal(got.session_ttl, 30 * 60 * 1000);
	assert_int_equal(got.cooldown, 5 * 60 * 1000);
	assert_string_equal(got.policy, "least_recently_released");
	assert_string_equal(got.keyword_param, "keyword");
	assert_string_equal(got.device_param, "device");
	assert_string_equal(got.status, "active");

	/* Scope: the client sees its own, B sees none, and a miss leaves
	 * the caller's struct alone. */
	assert_int_equal(rt_store_pool_get(tx, f->a_client, c.id, &got), 0);
	assert_int_equal(rt_store_pool_get(tx, f->a_client, p.id, &got),
			 ENOENT);
	keep = got;
	assert_int_equal(rt_store_pool_get(tx, f->b, p.id, &got), ENOENT);
	assert_memory_equal(&keep, &got, sizeof(got));

	/* Changes. */
	rt_strlcpy(p.name, "Renamed", sizeof(p.name));
	rt_strlcpy(p.status, "inactive", sizeof(p.status));
	rt_strlcpy(p.campaign_param, "cid", sizeof(p.campaign_param));
	p.session_ttl = 600000;
	p.cooldown = 0;
	p.nswap_targets = 1;
	assert_int_equal(rt_store_pool_update(tx, f->b, &p), ENOENT);
	assert_int_equal(rt_store_pool_update(tx, f->a, &p), 0);
	assert_int_equal(rt_store_pool_get(tx, f->a, p.id, &got), 0);
	assert_string_equal(got.name, "Renamed");
	assert_string_equal(got.status, "inactive");
	assert_string_equal(got.campaign_param, "cid");
	assert_int_equal(got.session_ttl, 600000);
	assert_int_equal(got.cooldown, 0);
	assert_int_equal(got.nswap_targets, 1);

	/* Lists. */
	assert_int_equal(rt_store_pool_list(tx, f->a, 0, &pg, count_pool,
					    &count),
			 0);
	assert_int_equal(count, 2);
	count = 0;
	assert_int_equal(rt_store_pool_list(tx, f->a, f->a_client, &pg,
					    count_pool, &count),
			 0);
	assert_int_equal(count, 1);
	count = 0;
	assert_int_equal(rt_store_pool_list(tx, f->b, 0, &pg, count_pool,
					    &count),
			 0);
	assert_int_equal(count, 0);
	count = 0;
	assert_int_equal(rt_store_pool_list(tx, f->b, f->a, &pg, count_pool,
					    &count),
			 0);
	assert_int_equal(count, 0);

	/* The data model refuses what the CHECKs say. */
	got = p;
	rt_strlcpy(got.policy, "random", sizeof(got.policy));
	assert_int_equal(rt_store_pool_update(tx, f->a, &got), EINVAL);
	rt_store_rollback(tx);
}

static void test_store_pool_numbers(void **state)
{
	struct fix *f = *state;
	struct rt_page pg = {.after = 0, .limit = 100};
	struct rt_store_tx *tx;
	struct rt_pool p = valid_pool("Main", f->a),
		       c = valid_pool("Client", f->a_client),
		       bp = valid_pool("B", f->b);
	struct rt_number n1, n2, nb, got;
	int64_t ids[8] = {0};

	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_store_pool_create(tx, f->a, &p), 0);
	assert_int_equal(rt_store_pool_create(tx, f->a, &c), 0);
	assert_int_equal(rt_store_pool_create(tx, f->b, &bp), 0);

	/* In a pool when made; the pool counts it. */
	n1 = number("+13125550110", f->a, p.id);
	assert_int_equal(rt_store_number_create(tx, f->a, &n1), 0);
	assert_int_equal(n1.pool_id, p.id);
	n2 = number("+13125550111", f->a, 0);
	assert_int_equal(rt_store_number_create(tx, f->a, &n2), 0);
	assert_int_equal(n2.pool_id, 0);
	n2.pool_id = p.id;
	assert_int_equal(rt_store_number_update(tx, f->a, &n2), 0);
	assert_int_equal(rt_store_number_get(tx, f->a, n2.id, &got), 0);
	assert_int_equal(got.pool_id, p.id);
	assert_int_equal(rt_store_pool_get(tx, f->a, p.id, &p), 0);
	assert_int_equal(p.number_count, 2);

	assert_int_equal(rt_store_pool_numbers(tx, f->a, p.id, &pg,
					       collect_number, ids),
			 0);
	assert_int_equal(ids[0], n1.id);
	assert_int_equal(ids[1], n2.id);
	assert_int_equal(ids[2], 0);
	/* A page. */
	memset(ids, 0, sizeof(ids));
	pg.after = n1.id;
	pg.limit = 1;
	assert_int_equal(rt_store_pool_numbers(tx, f->a, p.id, &pg,
					       collect_number, ids),
			 0);
	assert_int_equal(ids[0], n2.id);
	assert_int_equal(ids[1], 0);
	pg.after = 0;
	pg.limit = 100;
	/* Out of scope: not there. */
	assert_int_equal(rt_store_pool_numbers(tx, f->b, p.id, &pg,
					       collect_number, ids),
			 ENOENT);
	assert_int_equal(rt_store_pool_numbers(tx, f->a, 999999, &pg,
					       collect_number, ids),
			 ENOENT);

	/* Only a pool of the number's own account: another account of the
	 * tree is EPERM, another tenant's is ENOENT. */
	n2.pool_id = c.id;
	assert_int_equal(rt_store_number_update(tx, f->a, &n2), EPERM);
	n2.pool_id = bp.id;
	assert_int_equal(rt_store_number_update(tx, f->a, &n2), ENOENT);
	nb = number("+13125550112", f->b, p.id);
	assert_int_equal(rt_store_number_create(tx, f->b, &nb), ENOENT);
	nb.pool_id = bp.id;
	assert_int_equal(rt_store_number_create(tx, f->b, &nb), 0);
	nb.pool_id = p.id;
	assert_int_equal(rt_store_number_update(tx, f->b, &nb), ENOENT);
	assert_int_equal(rt_store_number_get(tx, f->b, nb.id, &got), 0);
	assert_int_equal(got.pool_id, bp.id);

	/* Out of the pool again; a released number leaves the count. */
	n2.pool_id = 0;
	assert_int_equal(rt_store_number_update(tx, f->a, &n2), 0);
	assert_int_equal(n2.pool_id, 0);
	assert_int_equal(rt_store_number_release(tx, f->a, n1.id, 1000), 0);
	assert_int_equal(rt_store_pool_get(tx, f->a, p.id, &p), 0);
	assert_int_equal(p.number_count, 0);
	memset(ids, 0, sizeof(ids));
	assert_int_equal(rt_store_pool_numbers(tx, f->a, p.id, &pg,
					       collect_number, ids),
			 0);
	assert_int_equal(ids[0], 0);
	rt_store_rollback(tx);
}

static int64_t flow_in(struct rt_store_tx *tx, int64_t account_id)
{
	struct rt_flow_row fl = {.account_id = account_id};

	rt_strlcpy(fl.name, "Main line", sizeof(fl.name));
	assert_int_equal(rt_store_flow_create(tx, account_id, &fl, "{}", 0), 0);
	return fl.id;
}

/* A number or a pool runs a flow of its own account only (another account
 * of the tree EPERM, another tenant's ENOENT); a flow in use is not
 * deleted; a released number no longer uses it. */
static void test_store_flows_of_numbers_and_pools(void **state)
{
	struct fix *f = *state;
	struct rt_store_tx *tx;
	struct rt_pool p = valid_pool("Main", f->a), got;
	struct rt_number n = number("+13125550120", f->a, 0), gotn;
	struct rt_flow_row row;
	int64_t fa, fc, fb;

	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	fa = flow_in(tx, f->a);
	fc = flow_in(tx, f->a_client);
	fb = flow_in(tx, f->b);

	/* Numbers: on create and on update, as stored. */
	n.flow_id = fc;
	assert_int_equal(rt_store_number_create(tx, f->a, &n), EPERM);
	n.flow_id = fb;
	assert_int_equal(rt_store_number_create(tx, f->a, &n), ENOENT);
	n.flow_id = fa;
	assert_int_equal(rt_store_number_create(tx, f->a, &n), 0);
	assert_int_equal(n.flow_id, fa);
	assert_int_equal(rt_store_number_get(tx, f->a, n.id, &gotn), 0);
	assert_int_equal(gotn.flow_id, fa);
	gotn.flow_id = fb;
	assert_int_equal(rt_store_number_update(tx, f->a, &gotn), ENOENT);
	gotn.flow_id = fc;
	assert_int_equal(rt_store_number_update(tx, f->a, &gotn), EPERM);
	assert_int_equal(rt_store_number_get(tx, f->a, n.id, &gotn), 0);
	assert_int_equal(gotn.flow_id, fa);

	/* Pools likewise. */
	p.flow_id = fb;
	assert_int_equal(rt_store_pool_create(tx, f->a, &p), ENOENT);
	p.flow_id = fc;
	assert_int_equal(rt_store_pool_create(tx, f->a, &p), EPERM);
	p.flow_id = fa;
	assert_int_equal(rt_store_pool_create(tx, f->a, &p), 0);
	assert_int_equal(p.flow_id, fa);
	got = p;
	got.flow_id = fc;
	assert_int_equal(rt_store_pool_update(tx, f->a, &got), EPERM);
	got.flow_id = fb;
	assert_int_equal(rt_store_pool_update(tx, f->a, &got), ENOENT);
	assert_int_equal(rt_store_pool_get(tx, f->a, p.id, &got), 0);
	assert_int_equal(got.flow_id, fa);

	/* In use: counted, and not deleted. */
	assert_int_equal(rt_store_flow_get(tx, f->a, fa, &row), 0);
	assert_int_equal(row.numbers, 1);
	assert_int_equal(row.pools, 1);
	assert_int_equal(rt_store_flow_delete(tx, f->a, fa), ENOTEMPTY);

	/* The pool lets go; a released number no longer counts. */
	got.flow_id = 0;
	assert_int_equal(rt_store_pool_update(tx, f->a, &got), 0);
	assert_int_equal(got.flow_id, 0);
	assert_int_equal(rt_store_flow_delete(tx, f->a, fa), ENOTEMPTY);
	assert_int_equal(rt_store_number_release(tx, f->a, n.id, 1000), 0);
	assert_int_equal(rt_store_flow_get(tx, f->a, fa, &row), 0);
	assert_int_equal(row.numbers, 0);
	assert_int_equal(row.pools, 0);
	assert_int_equal(rt_store_flow_delete(tx, f->a, fa), 0);
	/* A deleted flow is given to nothing new. */
	n = number("+13125550121", f->a, 0);
	n.flow_id = fa;
	assert_int_equal(rt_store_number_create(tx, f->a, &n), ENOENT);
	rt_store_rollback(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_defaults),
		cmocka_unit_test(test_pool_rules),
		cmocka_unit_test(test_number_in_pool_rules),
		cmocka_unit_test_setup_teardown(test_store_pools, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_pool_numbers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_store_flows_of_numbers_and_pools, setup, teardown),
	};

	return cmocka_run_group_tests_name("pools", tests, NULL, NULL);
}
