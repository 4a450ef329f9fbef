/*
 * A call's attribution (src/call/attribution.c): source and offline numbers
 * are fixed; a pool number follows the lease engine's answer (exact, grace,
 * shared with every candidate listed) or, when the engine has none, the
 * stored sessions with the grace window; another account's session is
 * never copied.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "call/call.h"

#define MIN 60000LL
#define T0  1800000000000LL /* the call's start */

struct fix {
	struct rt_store *s;
	struct rt_dni_sites *sites;
	int64_t a, b;
	struct rt_number pool_num, source_num, offline_num;
};

static int64_t account(struct rt_store_tx *tx, const char *name)
{
	struct rt_account a = {0};

	rt_strlcpy(a.name, name, sizeof(a.name));
	rt_strlcpy(a.kind, "agency", sizeof(a.kind));
	rt_strlcpy(a.time_zone, "UTC", sizeof(a.time_zone));
	rt_strlcpy(a.currency, "USD", sizeof(a.currency));
	assert_int_equal(rt_store_account_create_root(tx, &a), 0);
	return a.id;
}

static void number(struct rt_store_tx *tx, int64_t account_id, const char *e164,
		   const char *kind, const char *source, const char *medium,
		   const char *campaign, struct rt_number *n)
{
	const char *field;
	char msg[160];

	memset(n, 0, sizeof(*n));
	n->account_id = account_id;
	rt_strlcpy(n->kind, kind, sizeof(n->kind));
	rt_strlcpy(n->source, source, sizeof(n->source));
	rt_strlcpy(n->medium, medium, sizeof(n->medium));
	rt_strlcpy(n->campaign, campaign, sizeof(n->campaign));
	assert_int_equal(rt_dni_number_check(n, e164, "US", &field, msg,
					     sizeof(msg)),
			 0);
	assert_int_equal(rt_store_number_create(tx, account_id, n), 0);
}

/* A visit shown number_id from start to end (0: still open). */
static void session(struct rt_store_tx *tx, int64_t id, int64_t account_id,
		    int64_t number_id, int64_t start, int64_t end,
		    const char *campaign)
{
	struct rt_dni_session *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->id = id;
	s->account_id = account_id;
	s->number_id = number_id;
	rt_strlcpy(s->visitor_id, "v_abcdefgh", sizeof(s->visitor_id));
	rt_strlcpy(s->src.source, "google", sizeof(s->src.source));
	rt_strlcpy(s->src.medium, "cpc", sizeof(s->src.medium));
	rt_strlcpy(s->src.campaign, campaign, sizeof(s->src.campaign));
	rt_strlcpy(s->src.channel, "Paid Search", sizeof(s->src.channel));
	rt_strlcpy(s->landing_url, "https://a.example/?gclid=1",
		   sizeof(s->landing_url));
	rt_strlcpy(s->device_class, "mobile", sizeof(s->device_class));
	s->created_at = start;
	s->last_seen_at = end ? end : start;
	s->ended_at = end;
	assert_int_equal(rt_store_dni_session_insert(tx, s), 0);
	free(s);
}

static int setup(void **state)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 1000};
	struct fix *f = calloc(1, sizeof(*f));
	struct rt_store_tx *tx;

	rt_log_set_level(RT_LOG_ERROR);
	assert_non_null(f);
	assert_int_equal(rt_dni_sites_load(&f->sites), 0);
	assert_int_equal(rt_store_open(&f->s, ":memory:", &o), 0);
	assert_int_equal(rt_store_migrate(f->s, NULL), 0);
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	f->a = account(tx, "A");
	f->b = account(tx, "B");
	number(tx, f->a, "+13125550100", "pool", "", "", "", &f->pool_num);
	number(tx, f->a, "+13125550101", "source", "google", "cpc", "",
	       &f->source_num);
	number(tx, f->a, "+13125550102", "offline", "", "", "Radio Spring",
	       &f->offline_num);
	assert_int_equal(rt_store_commit(tx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	rt_store_close(f->s);
	rt_dni_sites_free(f->sites);
	free(f);
	return 0;
}

/* Attributes a call of A at T0 to n in a transaction rolled back after;
 * the answer is in *c. */
static void attribute(struct fix *f, const struct rt_number *n,
		      const struct rt_lease_who *w, struct rt_call *c,
		      void (*before)(struct rt_store_tx *, struct fix *))
{
	struct rt_store_tx *tx;

	memset(c, 0, sizeof(*c));
	c->id = 1;
	c->account_id = f->a;
	c->started_at = T0;
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	if (before)
		before(tx, f);
	assert_int_equal(rt_call_attribute(tx, f->sites, n, w, 15 * MIN, c), 0);
	rt_store_rollback(tx);
}

static void test_fixed_numbers(void **state)
{
	struct fix *f = *state;
	struct rt_call *c = malloc(sizeof(*c));

	assert_non_null(c);
	attribute(f, &f->source_num, NULL, c, NULL);
	assert_string_equal(c->confidence, "fixed");
	assert_string_equal(c->src.source, "google");
	assert_string_equal(c->src.medium, "cpc");
	assert_string_equal(c->src.channel, "Paid Search");
	assert_int_equal(c->dni_session_id, 0);

	attribute(f, &f->offline_num, NULL, c, NULL);
	assert_string_equal(c->confidence, "fixed");
	assert_string_equal(c->src.source, "offline");
	assert_string_equal(c->src.campaign, "Radio Spring");
	free(c);
}

static void two_sessions(struct rt_store_tx *tx, struct fix *f)
{
	session(tx, 111111111111111111, f->a, f->pool_num.id, T0 - 20 * MIN, 0,
		"older");
	session(tx, 222222222222222222, f->a, f->pool_num.id, T0 - 10 * MIN, 0,
		"newer");
}

static void test_engine_answers(void **state)
{
	struct fix *f = *state;
	struct rt_call *c = malloc(sizeof(*c));
	struct rt_lease_who w = {RT_WHO_EXACT, 1, {222222222222222222}};

	assert_non_null(c);
	attribute(f, &f->pool_num, &w, c, two_sessions);
	assert_string_equal(c->confidence, "exact");
	assert_int_equal(c->dni_session_id, 222222222222222222);
	assert_string_equal(c->src.campaign, "newer");
	assert_string_equal(c->landing_url, "https://a.example/?gclid=1");
	assert_string_equal(c->device_class, "mobile");
	assert_int_equal(c->ncandidates, 0);

	/* Shared: every candidate listed, the newest one's visit copied. */
	w.confidence = RT_WHO_SHARED;
	w.n = 2;
	w.sessions[1] = 111111111111111111;
	attribute(f, &f->pool_num, &w, c, two_sessions);
	assert_string_equal(c->confidence, "shared");
	assert_int_equal(c->ncandidates, 2);
	assert_int_equal(c->candidates[1], 111111111111111111);
	assert_string_equal(c->src.campaign, "newer");

	w.confidence = RT_WHO_GRACE;
	w.n = 1;
	attribute(f, &f->pool_num, &w, c, two_sessions);
	assert_string_equal(c->confidence, "grace");
	free(c);
}

static void live_one(struct rt_store_tx *tx, struct fix *f)
{
	session(tx, 333333333333333333, f->a, f->pool_num.id, T0 - 5 * MIN, 0,
		"live");
}

static void ended_recently(struct rt_store_tx *tx, struct fix *f)
{
	session(tx, 444444444444444444, f->a, f->pool_num.id, T0 - 40 * MIN,
		T0 - 5 * MIN, "recent");
}

static void ended_long_ago(struct rt_store_tx *tx, struct fix *f)
{
	session(tx, 555555555555555555, f->a, f->pool_num.id, T0 - 60 * MIN,
		T0 - 20 * MIN, "old");
}

static void other_tenant(struct rt_store_tx *tx, struct fix *f)
{
	struct rt_number nb;

	number(tx, f->b, "+13125550199", "pool", "", "", "", &nb);
	session(tx, 666666666666666666, f->b, nb.id, T0 - MIN, 0, "theirs");
}

static void test_stored_sessions(void **state)
{
	struct fix *f = *state;
	struct rt_call *c = malloc(sizeof(*c));
	struct rt_lease_who none = {RT_WHO_NONE, 0, {0}};

	assert_non_null(c);
	/* The engine knows nobody (a restart): the store is asked. */
	attribute(f, &f->pool_num, &none, c, live_one);
	assert_string_equal(c->confidence, "exact");
	assert_string_equal(c->src.campaign, "live");
	attribute(f, &f->pool_num, &none, c, ended_recently);
	assert_string_equal(c->confidence, "grace");
	assert_string_equal(c->src.campaign, "recent");
	attribute(f, &f->pool_num, &none, c, ended_long_ago);
	assert_string_equal(c->confidence, "none");
	assert_int_equal(c->dni_session_id, 0);
	assert_string_equal(c->src.campaign, "");
	attribute(f, &f->pool_num, &none, c, two_sessions);
	assert_string_equal(c->confidence, "shared");
	assert_int_equal(c->ncandidates, 2);
	assert_int_equal(c->candidates[0], 222222222222222222);

	/* An engine answer naming another account's session: not copied. */
	{
		struct rt_lease_who w = {RT_WHO_EXACT, 1, {666666666666666666}};

		attribute(f, &f->pool_num, &w, c, other_tenant);
		assert_string_equal(c->confidence, "none");
		assert_string_equal(c->src.campaign, "");
	}
	free(c);
}

/*
 * The call service's queue is bounded: while the database does not take
 * writes, calls are taken up to queue_max changes, then refused with 503
 * (never forwarded without a record); once it takes them again, every
 * call taken is written and new ones are taken.
 */
static void test_queue_bound(void **state)
{
	struct fix *f = *state;
	struct rt_calls_conf conf = {.grace_ms = 15 * MIN,
				     .flush_ms = 10,
				     .queue_max = 3};
	struct rt_call_router *router;
	struct rt_sip_invite in = {.sip_call_id = "q@test",
				   .trunk = "loopback",
				   .transport = "udp"};
	struct rt_number n = f->offline_num;
	struct rt_sip_route out;
	struct rt_store_tx *tx, *stall;
	struct rt_calls *calls;
	struct rt_call *c = malloc(sizeof(*c));
	int64_t ids[4];

	assert_non_null(c);
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	rt_strlcpy(n.destination, "sip:front@127.0.0.1", sizeof(n.destination));
	assert_int_equal(rt_store_number_update(tx, f->a, &n), 0);
	assert_int_equal(rt_store_commit(tx), 0);
	assert_int_equal(rt_call_router_start(&router, f->s, NULL), 0);
	assert_int_equal(rt_calls_start(&calls, f->s, router, NULL, &conf), 0);
	rt_strlcpy(in.dialled, n.e164, sizeof(in.dialled));
	in.at = rt_now_ms();

	/* The only connection held: the writer cannot write. */
	assert_int_equal(rt_store_begin(f->s, true, &stall), 0);
	for (int i = 0; i < 3; i++) {
		memset(&out, 0, sizeof(out));
		rt_calls_route_h(&in, &out, calls);
		assert_int_equal(out.status, 0);
		ids[i] = out.call_id;
		assert_true(ids[i] > 0);
	}
	memset(&out, 0, sizeof(out));
	rt_calls_route_h(&in, &out, calls);
	assert_int_equal(out.status, 503);
	assert_int_equal(out.call_id, 0);
	rt_store_rollback(stall);

	assert_int_equal(rt_calls_flush(calls, 10000), 0);
	memset(&out, 0, sizeof(out));
	rt_calls_route_h(&in, &out, calls);
	assert_int_equal(out.status, 0);
	ids[3] = out.call_id;
	assert_int_equal(rt_calls_flush(calls, 10000), 0);
	assert_int_equal(rt_store_begin(f->s, false, &tx), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rt_store_call_read(tx, ids[i], c), 0);
		assert_string_equal(c->disposition, "in_progress");
	}
	rt_store_rollback(tx);
	rt_calls_stop(calls);
	rt_call_router_stop(router);
	free(c);
}

/* Round robin in memory: each dial step of each flow counts on its own,
 * from where the store left it (a restart carries on). */
static void test_round_robin_counters(void **state)
{
	struct fix *f = *state;
	struct rt_call_router *router;
	uint64_t next;

	assert_int_equal(rt_call_router_start(&router, f->s, NULL), 0);
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(rt_call_router_rr(router, 1, "sales", 3,
						   &next),
				 i % 3);
		assert_int_equal(next, i + 1);
	}
	assert_int_equal(rt_call_router_rr(router, 1, "support", 2, &next), 0);
	assert_int_equal(rt_call_router_rr(router, 2, "sales", 2, &next), 0);
	assert_int_equal(rt_call_router_rr(router, 1, "sales", 3, &next), 1);
	assert_int_equal(next, 8);
	rt_call_router_stop(router);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_numbers),
		cmocka_unit_test(test_engine_answers),
		cmocka_unit_test(test_stored_sessions),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_round_robin_counters),
	};

	return cmocka_run_group_tests_name("call", tests, setup, teardown);
}
