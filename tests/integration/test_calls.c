/*
 * /v1/calls from outside: calls written into the server's database through
 * the store as the call service writes them (the SIP side makes calls; the
 * API only reads them), then listed with each filter, paged both ways,
 * read whole with their timeline and pages, and bad parameters answered
 * 400 naming the parameter; calls that ran a call flow show what it added,
 * and its path on the call's own page.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "store/store.h"

static struct rt_test_server srv;
static int64_t first_id;

/* Three calls: a Paid Search call answered, a busy Direct one, and an
 * interrupted one with a visit's pages, an hour apart from 2026-11-01. */
static void write_calls(void)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 5000};
	struct rt_call *c = calloc(1, sizeof(*c));
	struct rt_dni_session *s = calloc(1, sizeof(*s));
	struct rt_store_tx *tx;
	struct rt_store *st;
	int64_t t0;

	assert_non_null(c);
	assert_non_null(s);
	assert_int_equal(rt_time_parse("2026-11-01T10:00:00Z", &t0), 0);
	assert_int_equal(rt_store_open(&st, srv.db, &o), 0);
	assert_int_equal(rt_store_begin(st, true, &tx), 0);
	assert_int_equal(rt_store_call_next_id(tx, &first_id), 0);

	s->id = 123456789012345678;
	s->account_id = srv.account_id;
	rt_strlcpy(s->visitor_id, "v_abcdefgh", sizeof(s->visitor_id));
	rt_strlcpy(s->src.channel, "Paid Search", sizeof(s->src.channel));
	rt_strlcpy(s->landing_url, "https://a.example/spring?gclid=x",
		   sizeof(s->landing_url));
	rt_strlcpy(s->title, "Spring", sizeof(s->title));
	rt_strlcpy(s->device_class, "mobile", sizeof(s->device_class));
	s->created_at = s->last_seen_at = t0 - 60000;
	assert_int_equal(rt_store_dni_session_insert(tx, s), 0);
	assert_int_equal(rt_store_dni_pageview_add(tx, srv.account_id, s->id,
						   "https://a.example/contact",
						   "Contact", t0 - 30000),
			 0);

	for (int i = 0; i < 3; i++) {
		memset(c, 0, sizeof(*c));
		c->id = first_id + i;
		c->account_id = srv.account_id;
		rt_strlcpy(c->tracking_number,
			   i == 1 ? "+13125550101" : "+13125550100",
			   sizeof(c->tracking_number));
		rt_strlcpy(c->caller_number, "+13125550177",
			   sizeof(c->caller_number));
		rt_strlcpy(c->caller_location, "Chicago, IL",
			   sizeof(c->caller_location));
		c->started_at = t0 + i * 3600000LL;
		c->first_time = i == 0;
		rt_strlcpy(c->confidence, i == 0 ? "exact" : "none",
			   sizeof(c->confidence));
		rt_strlcpy(c->src.channel, i == 1 ? "Direct" : "Paid Search",
			   sizeof(c->src.channel));
		rt_strlcpy(c->src.source, i == 1 ? "(direct)" : "google",
			   sizeof(c->src.source));
		rt_strlcpy(c->src.campaign, i == 0 ? "spring" : "",
			   sizeof(c->src.campaign));
		if (i == 0)
			c->dni_session_id = s->id;
		assert_int_equal(rt_store_call_insert(tx, c), 0);
		assert_int_equal(rt_store_call_event_add(tx, c->id,
							 c->account_id,
							 c->started_at,
							 "invite", NULL),
				 0);
		if (i == 0) {
			assert_int_equal(rt_store_call_pages_copy(tx, c->id,
								  c->account_id,
								  s->id, 50),
					 0);
			c->answered_at = c->started_at + 5000;
			c->ended_at = c->started_at + 65000;
			c->ring_ms = 5000;
			c->talk_ms = 60000;
			c->total_ms = 65000;
			rt_strlcpy(c->disposition, "answered",
				   sizeof(c->disposition));
			rt_strlcpy(c->hangup_side, "callee",
				   sizeof(c->hangup_side));
			c->sip_status = 200;
		} else if (i == 1) {
			c->ended_at = c->started_at + 2000;
			c->ring_ms = c->total_ms = 2000;
			rt_strlcpy(c->disposition, "busy",
				   sizeof(c->disposition));
			rt_strlcpy(c->hangup_side, "callee",
				   sizeof(c->hangup_side));
			c->sip_status = 486;
			rt_strlcpy(c->sip_reason, "Busy Here",
				   sizeof(c->sip_reason));
		}
		c->updated_at = c->started_at;
		assert_int_equal(rt_store_call_update(tx, c), 0);
	}
	assert_int_equal(rt_store_commit(tx), 0);
	rt_store_close(st);
	free(c);
	free(s);
}

static int setup(void **state)
{
	(void)state;
	rt_test_server_start(&srv, NULL, NULL);
	write_calls();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_test_server_stop(&srv);
}

/* The ids a list answers, in order, into ids (up to 8); how many. */
static size_t list(const char *query, int64_t ids[8], const char **cursor)
{
	static char next[128];
	struct rt_test_resp r;
	json_t *item;
	size_t i, n = 0;

	rt_test_api(&srv, &r, srv.key, "GET", rt_test_fmt("/v1/calls%s", query),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		if (n < 8)
			ids[n++] =
				json_integer_value(json_object_get(item, "id"));
	}
	if (cursor) {
		const char *c = json_string_value(
			json_object_get(r.json, "next_cursor"));

		snprintf(next, sizeof(next), "%s", c ? c : "");
		*cursor = next;
	}
	rt_test_resp_free(&r);
	return n;
}

static void test_lists(void **state)
{
	int64_t ids[8];
	const char *cursor;

	(void)state;
	assert_int_equal(list("", ids, NULL), 3);
	assert_int_equal(ids[0], first_id + 2); /* newest first */
	assert_int_equal(list("?order=oldest", ids, NULL), 3);
	assert_int_equal(ids[0], first_id);
	/* Paging, newest first. */
	assert_int_equal(list("?limit=2", ids, &cursor), 2);
	assert_true(cursor[0]);
	assert_int_equal(list(rt_test_fmt("?limit=2&cursor=%s", cursor), ids,
			      NULL),
			 1);
	assert_int_equal(ids[0], first_id);
	/* Each filter. */
	assert_int_equal(list("?disposition=busy", ids, NULL), 1);
	assert_int_equal(ids[0], first_id + 1);
	assert_int_equal(list("?number=%2B13125550101", ids, NULL), 1);
	assert_int_equal(list("?channel=Paid%20Search", ids, NULL), 2);
	assert_int_equal(list("?source=google&campaign=spring", ids, NULL), 1);
	assert_int_equal(ids[0], first_id);
	assert_int_equal(list("?from=2026-11-01T10:30:00Z&to=2026-11-01T12:00:"
			      "00Z",
			      ids, NULL),
			 1);
	assert_int_equal(ids[0], first_id + 1);
	assert_int_equal(list("?from=2026-11-02T00:00:00Z", ids, NULL), 0);
}

static void test_one_call(void **state)
{
	struct rt_test_resp r;
	json_t *a, *pages, *ev;

	(void)state;
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)first_id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "disposition")),
			    "answered");
	assert_true(json_real_value(json_object_get(r.json, "talk_seconds")) ==
		    60.0);
	assert_true(json_is_true(json_object_get(r.json, "first_time_caller")));
	assert_string_equal(json_string_value(
				    json_object_get(json_object_get(r.json,
								    "caller"),
						    "location")),
			    "Chicago, IL");
	a = json_object_get(r.json, "attribution");
	assert_string_equal(json_string_value(json_object_get(a, "confidence")),
			    "exact");
	assert_string_equal(json_string_value(json_object_get(a, "session_id")),
			    "123456789012345678");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(a, "source"), "campaign")),
			    "spring");
	pages = json_object_get(a, "pages");
	assert_int_equal(json_array_size(pages), 2);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(pages, 0),
						    "url")),
			    "https://a.example/spring?gclid=x");
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(pages, 1),
						    "title")),
			    "Contact");
	ev = json_object_get(r.json, "events");
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(ev, 0),
						    "kind")),
			    "invite");
	rt_test_resp_free(&r);

	/* An open call: no end, no durations yet. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)first_id + 2),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "disposition")),
			    "in_progress");
	assert_true(json_is_null(json_object_get(r.json, "ended_at")));
	assert_true(json_is_null(json_object_get(r.json, "talk_seconds")));
	rt_test_resp_free(&r);

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/calls/999999", NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);
}

static void test_bad_parameters(void **state)
{
	static const struct {
		const char *query, *field;
	} bad[] = {
		{"?from=yesterday", "from"},
		{"?to=2026-13-01T00:00:00Z", "to"},
		{"?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "to"},
		{"?number=3125550100", "number"},
		{"?number=%2B131255", "number"},
		{"?disposition=lost", "disposition"},
		{"?order=random", "order"},
		{"?limit=0", "limit"},
		{"?cursor=nonsense", "cursor"},
		{"?account_id=-4", "account_id"},
	};
	struct rt_test_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rt_test_api(&srv, &r, srv.key, "GET",
			    rt_test_fmt("/v1/calls%s", bad[i].query), NULL);
		RT_EXPECT_ERROR(&r, 400, "invalid_parameter", bad[i].field);
		rt_test_resp_free(&r);
	}
}

/* Two calls that ran a flow, as the call service writes them: one that
 * ended in voicemail with every fact set, and one whose stored JSON texts
 * are not what they should be.  Returns the first id. */
static int64_t write_flow_calls(void)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 5000};
	struct rt_call *c = calloc(1, sizeof(*c));
	struct rt_store_tx *tx;
	struct rt_store *st;
	int64_t id;

	assert_non_null(c);
	assert_int_equal(rt_store_open(&st, srv.db, &o), 0);
	assert_int_equal(rt_store_begin(st, true, &tx), 0);
	assert_int_equal(rt_store_call_next_id(tx, &id), 0);
	for (int i = 0; i < 2; i++) {
		memset(c, 0, sizeof(*c));
		c->id = id + i;
		c->account_id = srv.account_id;
		rt_strlcpy(c->tracking_number, "+13125550102",
			   sizeof(c->tracking_number));
		c->started_at = rt_now_ms() - 60000;
		rt_strlcpy(c->confidence, "none", sizeof(c->confidence));
		c->flow_id = 12;
		c->flow_version = 2;
		assert_int_equal(rt_store_call_insert(tx, c), 0);
		c->ended_at = c->started_at + 50000;
		c->ring_ms = c->total_ms = 50000;
		rt_strlcpy(c->hangup_side, "caller", sizeof(c->hangup_side));
		c->updated_at = c->ended_at;
		if (i == 0) {
			rt_strlcpy(c->disposition, "voicemail",
				   sizeof(c->disposition));
			rt_strlcpy(c->ivr_digits, "2", sizeof(c->ivr_digits));
			c->ivr_ms = 4200;
			c->has_value = true;
			c->value_cents = 1250;
			rt_strlcpy(c->lead, "qualified", sizeof(c->lead));
			rt_strlcpy(c->tags, "[\"voicemail\"]", sizeof(c->tags));
			rt_strlcpy(c->fields, "{\"plan\":\"gold\"}",
				   sizeof(c->fields));
			assert_int_equal(
				rt_store_call_path_set(
					tx, c->id,
					"[{\"step\":\"menu\",\"exit\":\"2\"},"
					"{\"step\":\"vm\",\"exit\":\"next\"}]"),
				0);
		} else {
			rt_strlcpy(c->disposition, "no_answer",
				   sizeof(c->disposition));
			rt_strlcpy(c->agent, "sip:desk@pbx.example.com",
				   sizeof(c->agent));
			rt_strlcpy(c->lead, "maybe", sizeof(c->lead));
			rt_strlcpy(c->tags, "{\"not\":\"a list\"}",
				   sizeof(c->tags));
			rt_strlcpy(c->fields, "[1", sizeof(c->fields));
			assert_int_equal(rt_store_call_path_set(tx, c->id,
								"{\"a\":1}"),
					 0);
		}
		assert_int_equal(rt_store_call_update(tx, c), 0);
	}
	assert_int_equal(rt_store_commit(tx), 0);
	rt_store_close(st);
	free(c);
	return id;
}

static void test_flow_calls(void **state)
{
	struct rt_test_resp r;
	json_t *fl, *path, *item;
	int64_t id = write_flow_calls(), ids[8];
	size_t i;

	(void)state;
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "disposition")),
			    "voicemail");
	fl = json_object_get(r.json, "flow");
	assert_true(json_is_object(fl));
	assert_int_equal(json_integer_value(json_object_get(fl, "id")), 12);
	assert_int_equal(json_integer_value(json_object_get(fl, "version")), 2);
	assert_string_equal(json_string_value(
				    json_object_get(fl, "ivr_digits")),
			    "2");
	assert_int_equal(json_integer_value(json_object_get(fl, "ivr_ms")),
			 4200);
	assert_true(json_is_null(json_object_get(fl, "agent")));
	assert_true(json_number_value(json_object_get(fl, "value")) == 12.5);
	assert_string_equal(json_string_value(json_object_get(fl, "lead")),
			    "qualified");
	assert_string_equal(json_string_value(
				    json_array_get(json_object_get(fl, "tags"),
						   0)),
			    "voicemail");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(fl, "fields"), "plan")),
			    "gold");
	path = json_object_get(fl, "path");
	assert_int_equal(json_array_size(path), 2);
	assert_string_equal(json_string_value(
				    json_object_get(json_array_get(path, 1),
						    "step")),
			    "vm");
	rt_test_resp_free(&r);

	/* Stored texts that are not what they should be: left out or
	 * empty, never a failed answer. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)id + 1), NULL);
	RT_EXPECT_STATUS(&r, 200);
	fl = json_object_get(r.json, "flow");
	assert_true(json_is_object(fl));
	assert_null(json_object_get(fl, "path"));
	assert_true(json_is_array(json_object_get(fl, "tags")));
	assert_int_equal(json_array_size(json_object_get(fl, "tags")), 0);
	assert_int_equal(json_object_size(json_object_get(fl, "fields")), 0);
	assert_true(json_is_null(json_object_get(fl, "lead")));
	assert_true(json_is_null(json_object_get(fl, "value")));
	assert_string_equal(json_string_value(json_object_get(fl, "agent")),
			    "sip:desk@pbx.example.com");
	rt_test_resp_free(&r);

	/* Lists: by the new disposition; the flow without its path; a call
	 * without a flow has null. */
	assert_int_equal(list("?disposition=voicemail", ids, NULL), 1);
	assert_int_equal(ids[0], id);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/calls?order=oldest", NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		int64_t cid = json_integer_value(json_object_get(item, "id"));

		fl = json_object_get(item, "flow");
		assert_non_null(fl);
		if (cid < id) {
			assert_true(json_is_null(fl));
		} else {
			assert_true(json_is_object(fl));
			assert_null(json_object_get(fl, "path"));
		}
	}
	rt_test_resp_free(&r);
}

/* A stereo 8 kHz 16-bit WAV of n frames: the caller's channel a rising
 * ramp, the agent's silent (a fixture, not a recording of anything). */
static size_t wav(unsigned char *b, uint32_t n)
{
	uint32_t data = n * 4, v;

	memcpy(b, "RIFF", 4);
	v = 36 + data;
	memcpy(b + 4, &v, 4);
	memcpy(b + 8, "WAVEfmt ", 8);
	v = 16;
	memcpy(b + 16, &v, 4);
	b[20] = 1, b[21] = 0; /* PCM */
	b[22] = 2, b[23] = 0; /* channels */
	v = 8000;
	memcpy(b + 24, &v, 4);
	v = 8000 * 4;
	memcpy(b + 28, &v, 4);
	b[32] = 4, b[33] = 0, b[34] = 16, b[35] = 0;
	memcpy(b + 36, "data", 4);
	memcpy(b + 40, &data, 4);
	for (uint32_t i = 0; i < n; i++) {
		int16_t l = (int16_t)(i * 7), rr = 0;

		memcpy(b + 44 + i * 4, &l, 2);
		memcpy(b + 46 + i * 4, &rr, 2);
	}
	return 44 + data;
}

/* The answered call gets a recording, as the recorder leaves it: a file
 * under recordings/ beside the database and its row. */
static size_t write_recording(unsigned char *bytes)
{
	struct rt_store_opts o = {.pool_size = 1, .busy_timeout_ms = 5000};
	struct rt_recording rec = {0};
	size_t len = wav(bytes, 2000);
	struct rt_store_tx *tx;
	struct rt_store *st;
	char dir[400];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/recordings", srv.dir);
	mkdir(dir, 0700);
	f = fopen(rt_test_fmt("%s/call-%lld.wav", dir, (long long)first_id),
		  "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
	rec.call_id = first_id;
	rec.account_id = srv.account_id;
	snprintf(rec.path, sizeof(rec.path), "call-%lld.wav",
		 (long long)first_id);
	rt_strlcpy(rec.format, "wav", sizeof(rec.format));
	rec.channels = 2;
	rec.sample_rate = 8000;
	rec.duration_ms = 250;
	rec.bytes = (int64_t)len;
	rec.complete = true;
	rec.created_at = rt_now_ms();
	assert_int_equal(rt_store_open(&st, srv.db, &o), 0);
	assert_int_equal(rt_store_begin(st, true, &tx), 0);
	assert_int_equal(rt_store_recording_insert(tx, &rec), 0);
	assert_int_equal(rt_store_recording_insert(tx, &rec), EEXIST);
	assert_int_equal(rt_store_commit(tx), 0);
	rt_store_close(st);
	return len;
}

/* GET of the recording with a Range header. */
static void get_range(struct rt_test_resp *r, const char *range)
{
	char auth[200], h[96];
	const char *hdrs[] = {auth, h, NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.key);
	snprintf(h, sizeof(h), "Range: %s", range);
	rt_test_request(&srv, r, "GET",
			rt_test_fmt("/v1/calls/%lld/recording",
				    (long long)first_id),
			hdrs, NULL, 0);
}

static void test_recording(void **state)
{
	static unsigned char bytes[44 + 2000 * 4];
	const char *path =
		rt_test_fmt("/v1/calls/%lld/recording", (long long)first_id);
	size_t len = write_recording(bytes);
	struct rt_test_resp r;
	char v[128];

	(void)state;
	/* The call's page points at it. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)first_id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(r.json, "recording"),
				    "format")),
			    "wav");
	rt_test_resp_free(&r);

	/* Whole. */
	rt_test_api(&srv, &r, srv.key, "GET", path, NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.body, bytes, len);
	assert_non_null(rt_test_header(&r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "audio/wav");
	assert_non_null(rt_test_header(&r, "Accept-Ranges", v, sizeof(v)));
	assert_string_equal(v, "bytes");
	rt_test_resp_free(&r);

	/* A player's ranges: a slice, an open end, the last bytes. */
	get_range(&r, "bytes=100-199");
	RT_EXPECT_STATUS(&r, 206);
	assert_int_equal(r.len, 100);
	assert_memory_equal(r.body, bytes + 100, 100);
	assert_non_null(rt_test_header(&r, "Content-Range", v, sizeof(v)));
	assert_string_equal(v, rt_test_fmt("bytes 100-199/%zu", len));
	rt_test_resp_free(&r);
	get_range(&r, rt_test_fmt("bytes=%zu-", len - 10));
	RT_EXPECT_STATUS(&r, 206);
	assert_int_equal(r.len, 10);
	assert_memory_equal(r.body, bytes + len - 10, 10);
	rt_test_resp_free(&r);
	get_range(&r, "bytes=-44");
	RT_EXPECT_STATUS(&r, 206);
	assert_int_equal(r.len, 44);
	rt_test_resp_free(&r);
	get_range(&r, "bytes=0-999999");
	RT_EXPECT_STATUS(&r, 206);
	assert_int_equal(r.len, len);
	rt_test_resp_free(&r);
	/* Past the end: 416 with the size. */
	get_range(&r, rt_test_fmt("bytes=%zu-", len));
	RT_EXPECT_ERROR(&r, 416, "range_not_satisfiable", NULL);
	assert_non_null(rt_test_header(&r, "Content-Range", v, sizeof(v)));
	assert_string_equal(v, rt_test_fmt("bytes */%zu", len));
	rt_test_resp_free(&r);
	/* Several ranges, or nonsense: the whole file. */
	get_range(&r, "bytes=0-1,5-6");
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal(r.len, len);
	rt_test_resp_free(&r);
	get_range(&r, "bytes=9-3");
	RT_EXPECT_STATUS(&r, 200);
	rt_test_resp_free(&r);

	/* A call without a recording. */
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld/recording",
				(long long)first_id + 1),
		    NULL);
	RT_EXPECT_ERROR(&r, 404, "not_found", NULL);
	rt_test_resp_free(&r);

	/* Deleted: the file goes, the call says so, the audit log has it. */
	rt_test_api(&srv, &r, srv.key, "DELETE", path, NULL);
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);
	assert_int_equal(access(rt_test_fmt("%s/recordings/call-%lld.wav",
					    srv.dir, (long long)first_id),
				F_OK),
			 -1);
	rt_test_api(&srv, &r, srv.key, "GET", path, NULL);
	RT_EXPECT_ERROR(&r, 404, "recording_deleted", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "DELETE", path, NULL);
	RT_EXPECT_ERROR(&r, 404, "recording_deleted", NULL);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)first_id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_null(
		json_object_get(json_object_get(r.json, "recording"), "url")));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET", "/v1/audit-log?limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_non_null(strstr(r.body, "recording.delete"));
	rt_test_resp_free(&r);
}

/* A crash with a call open: on the next start the call is finalised as
 * interrupted, ended at its last event, and the others are untouched. */
static void test_crash_finalises_open_calls(void **state)
{
	struct rt_test_resp r;

	(void)state;
	rt_test_server_restart(&srv, SIGKILL, NULL, NULL);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)first_id + 2),
		    NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "disposition")),
			    "interrupted");
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "hangup_side")),
			    "system");
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "ended_at")),
			    "2026-11-01T12:00:00.000Z");
	assert_true(json_real_value(json_object_get(r.json, "total_seconds")) ==
		    0.0);
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "GET",
		    rt_test_fmt("/v1/calls/%lld", (long long)first_id), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_string_equal(json_string_value(
				    json_object_get(r.json, "disposition")),
			    "answered");
	rt_test_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_one_call),
		cmocka_unit_test(test_bad_parameters),
		cmocka_unit_test(test_flow_calls),
		cmocka_unit_test(test_recording),
		/* Last: it restarts the server. */
		cmocka_unit_test(test_crash_finalises_open_calls),
	};

	return cmocka_run_group_tests_name("calls", tests, setup, teardown);
}
