/*
 * A crash with calls talking: SIPp places CALLS calls through Ringtrail to
 * a SIPp business line that answers and echoes the audio; once every call
 * is answered and RTP has flowed a while, the server is killed with
 * SIGKILL and started again on the same database and SIP port.  What must
 * hold: every call has its record, finalised as interrupted by the system
 * with what was known (its answer time, ring time; its talk time from the
 * audio recorded), its recording repaired, readable and marked incomplete,
 * nothing left in progress, and the restarted server takes a new call that
 * works.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sip_peer.h"

#define NUM	"+13125550100"
#define DIALLED "13125550100" /* as carriers send it, without '+' */
#define CALLS	3
#define TALK_MS 1500   /* of RTP before the crash */
#define HOLD_MS 120000 /* the calls' own length: longer than the test */

static struct rt_test_server srv;
static char rtp[32], sip_listen[32];
static const char *args[] = {"--log-level", "info", "--sip-rtp-ports",
			     rtp,	    NULL,   NULL,
			     NULL};

/* The business line on port: SIPp's built-in UAS, echoing RTP, for n
 * calls. */
static pid_t line_start(unsigned port, unsigned n, const char *tag)
{
	char p[16], mp[16], m[16];
	const char *a[] = {"-sn", "uas", "-rtp_echo", "-p", p, "-mp",
			   mp,	  "-i",	 "127.0.0.1", "-m", m, NULL};

	snprintf(p, sizeof(p), "%u", port);
	snprintf(mp, sizeof(mp), "%u", rt_peer_free_port(true));
	snprintf(m, sizeof(m), "%u", n);
	return rt_peer_sipp(tag, (HOLD_MS + 60000) / 1000, a);
}

/* The carrier: n calls at once (uac_talk.xml streams tone.ulaw), each
 * hanging up after hold_ms. */
static pid_t carrier_start(unsigned n, unsigned hold_ms, const char *tag)
{
	char target[32], p[16], mp[16], m[16], d[16];
	const char *a[] = {"-sf",  rt_peer_data("uac_talk.xml"),
			   "-s",   DIALLED,
			   "-d",   d,
			   "-p",   p,
			   "-mp",  mp,
			   "-i",   "127.0.0.1",
			   "-m",   m,
			   "-l",   m,
			   "-r",   "20",
			   target, NULL};

	snprintf(target, sizeof(target), "127.0.0.1:%u", srv.sip_port);
	snprintf(p, sizeof(p), "%u", rt_peer_free_port(false));
	snprintf(mp, sizeof(mp), "%u", rt_peer_free_port(true));
	snprintf(m, sizeof(m), "%u", n);
	snprintf(d, sizeof(d), "%u", hold_ms);
	return rt_peer_sipp(tag, (HOLD_MS + 60000) / 1000, a);
}

/* How many calls are in progress and answered. */
static size_t answered_in_progress(void)
{
	struct rt_test_resp r;
	const json_t *item;
	size_t i, n = 0;

	rt_test_api(&srv, &r, srv.key, "GET",
		    "/v1/calls?disposition=in_progress&limit=200", NULL);
	RT_EXPECT_STATUS(&r, 200);
	json_array_foreach (json_object_get(r.json, "data"), i, item) {
		if (rt_peer_jstr(item, "answered_at")[0])
			n++;
	}
	rt_test_resp_free(&r);
	return n;
}

/*
 * What a crash leaves of a call's recording: repaired at the restart,
 * compacted, readable, marked incomplete, as long as the audio written
 * before the crash; the call's talk time is at least that long.
 */
static void expect_partial_recording(const json_t *call)
{
	json_int_t id = json_integer_value(json_object_get(call, "id"));
	double talk = json_real_value(json_object_get(call, "talk_seconds"));
	struct rt_peer_wav w;
	json_t *rec;
	double secs;

	rt_peer_recording(&srv, id, "opus", rt_peer_path("partial.opus"), &w,
			  &rec);
	assert_true(json_is_false(json_object_get(rec, "complete")));
	secs = json_real_value(json_object_get(rec, "duration_seconds"));
	json_decref(rec);
	if (secs < 0.5 || talk + 0.01 < secs)
		fail_msg("call %lld: recording of %.3f s, talk of %.3f s",
			 (long long)id, secs, talk);
	assert_int_equal(w.channels, 2);
	assert_true(w.frames >= (size_t)(secs * 8000) - 400);
	rt_peer_wav_free(&w);
}

static void test_crash_with_calls_talking(void **state)
{
	unsigned line_port = rt_peer_free_port(false);
	char cid[CALLS][64], answered[CALLS][40];
	pid_t line, carrier;
	uint64_t deadline, t0;
	(void)state;

	rt_peer_tone_ulaw(rt_peer_path("tone.ulaw"), 1000, 2);
	rt_peer_add_number(&srv, NUM,
			   rt_test_fmt("sip:biz@127.0.0.1:%u", line_port));
	line = line_start(line_port, CALLS, "line");
	rt_peer_wait_bound(line_port, "line");
	carrier = carrier_start(CALLS, HOLD_MS, "carrier");
	for (int i = 0; i < CALLS; i++)
		snprintf(cid[i], sizeof(cid[i]), "%d-%d@127.0.0.1", i + 1,
			 (int)carrier);

	/* Every call answered, recorded as in progress, and talking. */
	deadline = rt_peer_now_ms() + 30000;
	while (answered_in_progress() < CALLS) {
		if (rt_peer_now_ms() >= deadline) {
			rt_peer_show("carrier");
			rt_peer_show("line");
			fail_msg("%d calls were not all answered within 30 s",
				 CALLS);
		}
		rt_peer_sleep_ms(100);
	}
	for (int i = 0; i < CALLS; i++) {
		json_t *c = rt_peer_call(&srv, cid[i], false, 1000);

		if (!c)
			fail_msg("no record of call %s before the crash",
				 cid[i]);
		assert_string_equal(rt_peer_jstr(c, "disposition"),
				    "in_progress");
		snprintf(answered[i], sizeof(answered[i]), "%s",
			 rt_peer_jstr(c, "answered_at"));
		json_decref(c);
	}
	rt_peer_sleep_ms(TALK_MS);

	/* The crash, and a start on the same database and SIP port. */
	snprintf(sip_listen, sizeof(sip_listen), "127.0.0.1:%u", srv.sip_port);
	args[4] = "--sip-listen";
	args[5] = sip_listen;
	t0 = rt_peer_now_ms();
	rt_peer_server_restart(&srv, "server", SIGKILL, args);
	fprintf(stderr, "restarted in %llu ms\n",
		(unsigned long long)(rt_peer_now_ms() - t0));
	assert_int_equal(srv.sip_port,
			 (unsigned)strtoul(strchr(sip_listen, ':') + 1, NULL,
					   10));
	{
		const char *finalised[] = {"calls left open",
					   rt_test_fmt("calls=%d", CALLS),
					   NULL};

		if (!rt_peer_log_wait("server", finalised, 1000))
			fail_msg("the server's log does not say it finalised "
				 "%d calls",
				 CALLS);
	}

	/* Every call: there, interrupted, with what was known. */
	for (int i = 0; i < CALLS; i++) {
		json_t *c = rt_peer_call(&srv, cid[i], true, 1000);
		double ring, talk, total;

		if (!c)
			fail_msg("call %s is missing or still in progress "
				 "after the restart",
				 cid[i]);
		ring = json_real_value(json_object_get(c, "ring_seconds"));
		talk = json_real_value(json_object_get(c, "talk_seconds"));
		total = json_real_value(json_object_get(c, "total_seconds"));
		assert_string_equal(rt_peer_jstr(c, "disposition"),
				    "interrupted");
		assert_string_equal(rt_peer_jstr(c, "hangup_side"), "system");
		assert_string_equal(rt_peer_jstr(c, "answered_at"),
				    answered[i]);
		assert_string_equal(rt_peer_jstr(c, "tracking_number"), NUM);
		assert_true(rt_peer_jstr(c, "sip_reason")[0] != '\0');
		/* Ended when last heard of: its last event, or the end of
		 * its recorded audio. */
		assert_true(strcmp(rt_peer_jstr(c, "ended_at"),
				   rt_peer_jstr(c, "answered_at")) >= 0);
		if (ring < 0 || talk < 0 || total + 1e-6 < ring + talk)
			fail_msg("call %s: ring %.3f s, talk %.3f s, total "
				 "%.3f s",
				 cid[i], ring, talk, total);
		assert_non_null(rt_peer_event(c, "invite"));
		assert_non_null(rt_peer_event(c, "answered"));
		expect_partial_recording(c);
		json_decref(c);
	}
	assert_int_equal(answered_in_progress(), 0);

	/* The old peers go (their RTP would reach the new calls' ports),
	 * and a new call through the restarted server works. */
	rt_peer_kill(carrier);
	rt_peer_kill(line);
	{
		char new_cid[64];
		const json_t *ended;
		json_t *c;
		int rc;

		line = line_start(line_port, 1, "line2");
		rt_peer_wait_bound(line_port, "line2");
		carrier = carrier_start(1, 1000, "carrier2");
		snprintf(new_cid, sizeof(new_cid), "1-%d@127.0.0.1",
			 (int)carrier);
		rc = rt_peer_wait(carrier, 60000);
		if (rc != 0) {
			rt_peer_show("carrier2");
			rt_peer_show("line2");
			fail_msg("the call after the restart failed: SIPp "
				 "exited with %d",
				 rc);
		}
		if (rt_peer_wait(line, 30000) != 0) {
			rt_peer_show("line2");
			fail_msg("the business line's SIPp failed after the "
				 "restart");
		}
		c = rt_peer_call(&srv, new_cid, true, 10000);
		if (!c)
			fail_msg("no record of the call after the restart");
		assert_string_equal(rt_peer_jstr(c, "disposition"), "answered");
		assert_string_equal(rt_peer_jstr(c, "hangup_side"), "caller");
		ended = rt_peer_event(c, "ended");
		assert_non_null(ended);
		if (json_integer_value(
			    json_object_get(ended, "rtp_from_caller")) < 10 ||
		    json_integer_value(
			    json_object_get(ended, "rtp_from_callee")) < 10)
			fail_msg("after the restart, want RTP both ways: %lld "
				 "and %lld packets",
				 (long long)json_integer_value(
					 json_object_get(ended,
							 "rtp_from_caller")),
				 (long long)json_integer_value(
					 json_object_get(ended,
							 "rtp_from_callee")));
		json_decref(c);
	}
}

static int setup(void **state)
{
	unsigned base = rt_peer_rtp_base();

	(void)state;
	snprintf(rtp, sizeof(rtp), "%u-%u", base, base + 99);
	rt_peer_setup();
	rt_peer_server_start(&srv, "server", args);
	return 0;
}

static int teardown(void **state)
{
	int rc;
	(void)state;

	rt_peer_kill_all();
	rc = rt_test_server_stop(&srv);
	rt_peer_teardown();
	return rc;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_with_calls_talking),
	};

	return cmocka_run_group_tests_name("sip_crash", tests, setup, teardown);
}
