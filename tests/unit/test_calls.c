/*
 * The calls store: a call written as the call service writes it (insert at
 * the INVITE, events, the end), read back whole; lists newest and oldest
 * first with every filter and paging; another tenant sees nothing; the
 * pages of the attributed visit copied in order; first-time callers;
 * calls left open by a crash finalised as interrupted; and what a call
 * flow adds to a call: its facts on the row and its path apart.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

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

static struct rt_call *new_call(int64_t id, int64_t account_id,
				int64_t started_at, const char *caller,
				const char *channel)
{
	struct rt_call *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->id = id;
	c->account_id = account_id;
	rt_strlcpy(c->tracking_number, "+13125550100",
		   sizeof(c->tracking_number));
	rt_strlcpy(c->caller_number, caller, sizeof(c->caller_number));
	c->started_at = started_at;
	rt_strlcpy(c->confidence, "none", sizeof(c->confidence));
	rt_strlcpy(c->src.channel, channel, sizeof(c->src.channel));
	return c;
}

static void insert(struct fix *f, struct rt_call *c)
{
	struct rt_store_tx *tx;

	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_store_call_insert(tx, c), 0);
	assert_int_equal(rt_store_commit(tx), 0);
}

static void test_call_whole(void **state)
{
	struct fix *f = *state;
	struct rt_call *c = new_call(1001, f->a_client, 1000, "+447911123456",
				     "Paid Search");
	struct rt_call *got = calloc(1, sizeof(*got));
	struct rt_store_tx *tx;
	int64_t next;

	assert_non_null(got);
	rt_strlcpy(c->caller_raw, "07911 123456", sizeof(c->caller_raw));
	rt_strlcpy(c->caller_location, "United Kingdom",
		   sizeof(c->caller_location));
	rt_strlcpy(c->caller_country, "GB", sizeof(c->caller_country));
	rt_strlcpy(c->caller_line_type, "mobile", sizeof(c->caller_line_type));
	rt_strlcpy(c->destination, "sip:desk@127.0.0.1:5080",
		   sizeof(c->destination));
	rt_strlcpy(c->sip_call_id, "abc@carrier", sizeof(c->sip_call_id));
	rt_strlcpy(c->confidence, "shared", sizeof(c->confidence));
	c->candidates[0] = 123456789012345678;
	c->candidates[1] = 223456789012345678;
	c->ncandidates = 2;
	rt_strlcpy(c->src.source, "google", sizeof(c->src.source));
	rt_strlcpy(c->src.click[0], "gclid-1", sizeof(c->src.click[0]));
	rt_strlcpy(c->landing_url, "https://a.example/?gclid=gclid-1",
		   sizeof(c->landing_url));
	c->first_time = true;
	insert(f, c);

	/* The end, as the call service writes it. */
	c->answered_at = 4000;
	c->ended_at = 64000;
	c->ring_ms = 3000;
	c->talk_ms = 60000;
	c->total_ms = 63000;
	rt_strlcpy(c->disposition, "answered", sizeof(c->disposition));
	rt_strlcpy(c->hangup_side, "caller", sizeof(c->hangup_side));
	c->sip_status = 200;
	c->updated_at = 64000;
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_store_call_update(tx, c), 0);
	assert_int_equal(rt_store_call_event_add(tx, c->id, c->account_id, 1000,
						 "invite", NULL),
			 0);
	assert_int_equal(rt_store_call_event_add(tx, c->id, c->account_id, 4000,
						 "answered",
						 "{\"status\":200}"),
			 0);
	assert_int_equal(rt_store_call_insert(tx, c), EEXIST);
	assert_int_equal(rt_store_call_next_id(tx, &next), 0);
	assert_int_equal(next, 1002);
	assert_int_equal(rt_store_commit(tx), 0);

	assert_int_equal(rt_store_begin(f->s, false, &tx), 0);
	/* From the agency above: in scope. */
	assert_int_equal(rt_store_call_get(tx, f->a, c->id, got), 0);
	assert_string_equal(got->caller_number, "+447911123456");
	assert_string_equal(got->caller_raw, "07911 123456");
	assert_string_equal(got->caller_line_type, "mobile");
	assert_string_equal(got->disposition, "answered");
	assert_string_equal(got->hangup_side, "caller");
	assert_int_equal(got->talk_ms, 60000);
	assert_true(got->first_time);
	assert_string_equal(got->confidence, "shared");
	assert_int_equal(got->ncandidates, 2);
	assert_int_equal(got->candidates[1], 223456789012345678);
	assert_string_equal(got->src.channel, "Paid Search");
	assert_string_equal(got->src.click[0], "gclid-1");
	assert_string_equal(got->landing_url,
			    "https://a.example/?gclid=gclid-1");
	/* Another tenant: no such call. */
	assert_int_equal(rt_store_call_get(tx, f->b, c->id, got), ENOENT);
	rt_store_rollback(tx);
	free(c);
	free(got);
}

struct ids {
	int64_t id[16];
	size_t n;
};

static int collect(const struct rt_call *c, void *arg)
{
	struct ids *ids = arg;

	if (ids->n < 16)
		ids->id[ids->n++] = c->id;
	return 0;
}

static void list(struct fix *f, int64_t scope, const struct rt_call_filter *fl,
		 int64_t after, unsigned limit, struct ids *ids)
{
	struct rt_page pg = {.after = after, .limit = limit};
	struct rt_store_tx *tx;

	memset(ids, 0, sizeof(*ids));
	assert_int_equal(rt_store_begin(f->s, false, &tx), 0);
	assert_int_equal(rt_store_call_list(tx, scope, fl, &pg, collect, ids),
			 0);
	rt_store_rollback(tx);
}

static void test_list_filters_and_paging(void **state)
{
	struct fix *f = *state;
	struct rt_call_filter fl = {0};
	struct ids ids;

	/* Ids 2001..2004 in A, 2005 in B. */
	for (int i = 0; i < 5; i++) {
		struct rt_call *c =
			new_call(2001 + i, i == 4 ? f->b : f->a,
				 100000 + i * 1000, "+13125550111",
				 i % 2 ? "Organic Search" : "Direct");

		if (i == 2)
			rt_strlcpy(c->disposition, "busy",
				   sizeof(c->disposition));
		insert(f, c);
		free(c);
	}
	fl.from_ms = 100000;
	list(f, f->a, &fl, 0, 2, &ids);
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], 2004); /* newest first */
	assert_int_equal(ids.id[1], 2003);
	list(f, f->a, &fl, 2003, 2, &ids);
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], 2002);
	assert_int_equal(ids.id[1], 2001);
	fl.oldest_first = true;
	list(f, f->a, &fl, 2002, 10, &ids);
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], 2003);
	fl.oldest_first = false;
	/* Time range [101000, 103000). */
	fl.from_ms = 101000;
	fl.to_ms = 103000;
	list(f, f->a, &fl, 0, 10, &ids);
	assert_int_equal(ids.n, 2);
	assert_int_equal(ids.id[0], 2003);
	memset(&fl, 0, sizeof(fl));
	fl.from_ms = 100000;
	rt_strlcpy(fl.disposition, "busy", sizeof(fl.disposition));
	list(f, f->a, &fl, 0, 10, &ids);
	assert_int_equal(ids.n, 1);
	assert_int_equal(ids.id[0], 2003);
	memset(&fl, 0, sizeof(fl));
	fl.from_ms = 100000;
	rt_strlcpy(fl.channel, "Organic Search", sizeof(fl.channel));
	list(f, f->a, &fl, 0, 10, &ids);
	assert_int_equal(ids.n, 2);
	rt_strlcpy(fl.number, "+13125550199", sizeof(fl.number));
	list(f, f->a, &fl, 0, 10, &ids);
	assert_int_equal(ids.n, 0);
	/* B sees its own only. */
	memset(&fl, 0, sizeof(fl));
	fl.from_ms = 100000;
	list(f, f->b, &fl, 0, 10, &ids);
	assert_int_equal(ids.n, 1);
	assert_int_equal(ids.id[0], 2005);
}

static void test_caller_seen_pages_and_crash(void **state)
{
	struct fix *f = *state;
	struct rt_call *c =
		new_call(3001, f->a, 500000, "+13125550122", "Direct");
	struct rt_call *got = calloc(1, sizeof(*got));
	struct rt_dni_session *s = calloc(1, sizeof(*s));
	struct rt_store_tx *tx;
	bool seen = true;
	size_t n = 0;

	assert_non_null(got);
	assert_non_null(s);
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_store_call_caller_seen(tx, f->a, "+13125550122",
						   500000, &seen),
			 0);
	assert_false(seen);
	assert_int_equal(rt_store_call_insert(tx, c), 0);
	assert_int_equal(rt_store_call_caller_seen(tx, f->a, "+13125550122",
						   500001, &seen),
			 0);
	assert_true(seen);
	assert_int_equal(rt_store_call_caller_seen(tx, f->b, "+13125550122",
						   500001, &seen),
			 0);
	assert_false(seen);

	/* A visit with a landing page and one more page. */
	s->id = 111111111111111111;
	s->account_id = f->a;
	rt_strlcpy(s->visitor_id, "v_abcdefgh", sizeof(s->visitor_id));
	rt_strlcpy(s->src.channel, "Direct", sizeof(s->src.channel));
	rt_strlcpy(s->landing_url, "https://a.example/",
		   sizeof(s->landing_url));
	rt_strlcpy(s->device_class, "desktop", sizeof(s->device_class));
	s->created_at = s->last_seen_at = 400000;
	assert_int_equal(rt_store_dni_session_insert(tx, s), 0);
	assert_int_equal(rt_store_dni_pageview_add(tx, f->a, s->id,
						   "https://a.example/b", "B",
						   410000),
			 0);
	assert_int_equal(rt_store_call_pages_copy(tx, c->id, f->a, s->id, 50),
			 0);
	/* The call is open, with one event after its start. */
	assert_int_equal(rt_store_call_event_add(tx, c->id, f->a, 503000,
						 "ringing", NULL),
			 0);
	assert_int_equal(rt_store_commit(tx), 0);

	/* A restart after a crash. */
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_store_calls_interrupt_open(tx, 900000, &n), 0);
	assert_true(n >= 1);
	assert_int_equal(rt_store_call_get(tx, f->a, c->id, got), 0);
	assert_string_equal(got->disposition, "interrupted");
	assert_string_equal(got->hangup_side, "system");
	assert_int_equal(got->ended_at, 503000);
	assert_int_equal(got->total_ms, 3000);
	assert_int_equal(got->ring_ms, 3000);
	assert_int_equal(got->talk_ms, 0);
	/* Nothing left to finalise. */
	assert_int_equal(rt_store_calls_interrupt_open(tx, 900000, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rt_store_commit(tx), 0);
	free(c);
	free(got);
	free(s);
}

struct pages {
	char url[4][64];
	size_t n;
};

static int page(const struct rt_dni_pageview *p, void *arg)
{
	struct pages *ps = arg;

	if (ps->n < 4)
		rt_strlcpy(ps->url[ps->n++], p->url, sizeof(ps->url[0]));
	return 0;
}

static void test_pages_read(void **state)
{
	struct fix *f = *state;
	struct pages ps = {0};
	struct rt_store_tx *tx;

	assert_int_equal(rt_store_begin(f->s, false, &tx), 0);
	assert_int_equal(rt_store_call_pages_list(tx, f->a, 3001, 10, page,
						  &ps),
			 0);
	assert_int_equal(ps.n, 2);
	assert_string_equal(ps.url[0], "https://a.example/");
	assert_string_equal(ps.url[1], "https://a.example/b");
	ps.n = 0;
	assert_int_equal(rt_store_call_pages_list(tx, f->b, 3001, 10, page,
						  &ps),
			 0);
	assert_int_equal(ps.n, 0);
	rt_store_rollback(tx);
}

static int first_call(const struct rt_call *c, void *arg)
{
	memcpy(arg, c, sizeof(*c));
	return 1; /* one is enough */
}

static void test_flow_fields_and_path(void **state)
{
	struct fix *f = *state;
	struct rt_call *c =
		new_call(5001, f->a_client, 500000, "+13125550150", "Direct");
	struct rt_call *got = calloc(1, sizeof(*got));
	struct rt_call_filter fl = {0};
	struct rt_page pg = {.after = 0, .limit = 10};
	struct rt_store_tx *tx;
	char *path = NULL;
	struct ids ids;

	assert_non_null(got);
	/* At the INVITE the flow and version are known. */
	c->flow_id = 77;
	c->flow_version = 3;
	insert(f, c);
	assert_int_equal(rt_store_begin(f->s, false, &tx), 0);
	assert_int_equal(rt_store_call_get(tx, f->a, c->id, got), 0);
	assert_int_equal(got->flow_id, 77);
	assert_int_equal(got->flow_version, 3);
	assert_false(got->has_value);
	assert_string_equal(got->tags, "");
	assert_string_equal(got->fields, "");
	assert_string_equal(got->lead, "");
	assert_int_equal(rt_store_call_path_get(tx, f->a, c->id, &path), 0);
	assert_null(path);
	rt_store_rollback(tx);

	/* The end: everything the flow set, and its path. */
	rt_strlcpy(c->ivr_digits, "12", sizeof(c->ivr_digits));
	c->ivr_ms = 15000;
	rt_strlcpy(c->agent, "sip:sales@pbx.example.com", sizeof(c->agent));
	c->has_value = true;
	c->value_cents = 0; /* a value of nothing is a value */
	rt_strlcpy(c->lead, "qualified", sizeof(c->lead));
	rt_strlcpy(c->tags, "[\"voicemail\",\"vip\"]", sizeof(c->tags));
	rt_strlcpy(c->fields, "{\"plan\":\"gold\"}", sizeof(c->fields));
	rt_strlcpy(c->disposition, "voicemail", sizeof(c->disposition));
	c->ended_at = 560000;
	c->total_ms = 60000;
	c->updated_at = 560000;
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_store_call_update(tx, c), 0);
	assert_int_equal(rt_store_call_path_set(tx, c->id,
						"[{\"step\":\"vm\"}]"),
			 0);
	assert_int_equal(rt_store_call_path_set(tx, 999999, "[]"), ENOENT);
	assert_int_equal(rt_store_commit(tx), 0);

	assert_int_equal(rt_store_begin(f->s, false, &tx), 0);
	assert_int_equal(rt_store_call_get(tx, f->a, c->id, got), 0);
	assert_string_equal(got->disposition, "voicemail");
	assert_string_equal(got->ivr_digits, "12");
	assert_int_equal(got->ivr_ms, 15000);
	assert_string_equal(got->agent, "sip:sales@pbx.example.com");
	assert_true(got->has_value);
	assert_int_equal(got->value_cents, 0);
	assert_string_equal(got->lead, "qualified");
	assert_string_equal(got->tags, "[\"voicemail\",\"vip\"]");
	assert_string_equal(got->fields, "{\"plan\":\"gold\"}");
	/* The writer's unscoped read and the list read them too. */
	memset(got, 0, sizeof(*got));
	assert_int_equal(rt_store_call_read(tx, c->id, got), 0);
	assert_int_equal(got->flow_version, 3);
	assert_string_equal(got->tags, "[\"voicemail\",\"vip\"]");
	memset(got, 0, sizeof(*got));
	rt_strlcpy(fl.disposition, "voicemail", sizeof(fl.disposition));
	assert_int_equal(rt_store_call_list(tx, f->a_client, &fl, &pg,
					    first_call, got),
			 1);
	assert_int_equal(got->id, c->id);
	assert_string_equal(got->fields, "{\"plan\":\"gold\"}");
	assert_int_equal(rt_store_call_path_get(tx, f->a_client, c->id, &path),
			 0);
	assert_string_equal(path, "[{\"step\":\"vm\"}]");
	free(path);
	/* Out of scope, and unknown: not there. */
	path = got->agent; /* not NULL: the call sets it */
	assert_int_equal(rt_store_call_path_get(tx, f->b, c->id, &path),
			 ENOENT);
	assert_null(path);
	assert_int_equal(rt_store_call_path_get(tx, f->a, 999999, &path),
			 ENOENT);
	rt_store_rollback(tx);
	list(f, f->a, &fl, 0, 10, &ids);
	assert_int_equal(ids.n, 1);

	/* No value, and the path cleared; a disposition not in the list is
	 * still refused. */
	c->has_value = false;
	c->value_cents = 500;
	assert_int_equal(rt_store_begin(f->s, true, &tx), 0);
	assert_int_equal(rt_store_call_update(tx, c), 0);
	assert_int_equal(rt_store_call_path_set(tx, c->id, NULL), 0);
	assert_int_equal(rt_store_call_get(tx, f->a, c->id, got), 0);
	assert_false(got->has_value);
	assert_int_equal(rt_store_call_path_get(tx, f->a, c->id, &path), 0);
	assert_null(path);
	rt_strlcpy(c->disposition, "bogus", sizeof(c->disposition));
	assert_int_equal(rt_store_call_update(tx, c), EINVAL);
	/* JSON text too long for the struct reads as none, never cut. */
	{
		char *big = malloc(3000);
		struct rt_val args[] = {RT_VINT(c->id), RT_VTEXT(big)};

		assert_non_null(big);
		memset(big, 'x', 2999);
		big[0] = '[';
		big[2998] = ']';
		big[2999] = '\0';
		assert_int_equal(rt_store_query(tx,
						"UPDATE calls SET tags = ?2, "
						"fields = ?2 WHERE id = ?1",
						args, 2, NULL, NULL, NULL),
				 0);
		free(big);
	}
	assert_int_equal(rt_store_call_get(tx, f->a, c->id, got), 0);
	assert_string_equal(got->tags, "");
	assert_string_equal(got->fields, "");
	rt_store_rollback(tx);

	/* A call without a flow has none of it. */
	assert_int_equal(rt_store_begin(f->s, false, &tx), 0);
	assert_int_equal(rt_store_call_get(tx, f->a, 1001, got), 0);
	assert_int_equal(got->flow_id, 0);
	assert_int_equal(got->flow_version, 0);
	assert_false(got->has_value);
	assert_string_equal(got->agent, "");
	rt_store_rollback(tx);
	free(c);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_whole),
		cmocka_unit_test(test_list_filters_and_paging),
		cmocka_unit_test(test_caller_seen_pages_and_crash),
		cmocka_unit_test(test_pages_read),
		cmocka_unit_test(test_flow_fields_and_path),
	};

	return cmocka_run_group_tests_name("calls", tests, setup, teardown);
}
