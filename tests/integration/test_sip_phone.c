/*
 * A real phone behind a tracking number: baresip is the business line (it
 * answers at once and plays a 440 Hz tone), SIPp the carrier (it plays a
 * 1 kHz tone as PCMU RTP, then hangs up).  The phone takes PCMA only, so
 * Ringtrail transcodes.  What a business would notice:
 *
 *   - the call's record: answered by the phone, the caller hung up, its
 *     answer time, ring and talk time, the RTP relayed each way;
 *   - what the phone heard is the caller's tone, whole, through the
 *     u-law to A-law transcoding (baresip's own recording of it);
 *   - the call's recording (Ogg/Opus, from the API) with the caller on
 *     the left channel and the phone on the right (expect_recording).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sip_peer.h"

#define NUM	  "+13125550100"
#define DIALLED	  "13125550100" /* as carriers send it, without '+' */
#define CALLER_HZ 1000		/* the carrier's tone (tone.ulaw) */
#define PHONE_HZ  440		/* the phone's (prompt.wav) */
#define TALK_MS	  3000
#define SIPP_S	  60

static struct rt_test_server srv;
static struct rt_peer_phone phone;

/*
 * The call's recording, once compacted to Ogg/Opus: the caller
 * (CALLER_HZ) on the left channel, the phone (PHONE_HZ) on the right,
 * decoded with libsndfile.
 */
static void expect_recording(const json_t *call)
{
	struct rt_peer_wav w;
	json_t *rec;

	rt_peer_recording(&srv, json_integer_value(json_object_get(call, "id")),
			  "opus", rt_peer_path("recording.opus"), &w, &rec);
	assert_int_equal(json_integer_value(json_object_get(rec, "channels")),
			 2);
	assert_true(json_is_true(json_object_get(rec, "complete")));
	json_decref(rec);
	assert_int_equal(w.channels, 2);
	assert_int_equal(w.rate, 8000);
	rt_peer_expect_tone(&w, 0, CALLER_HZ, TALK_MS / 2,
			    "the recording's left channel (the caller)");
	rt_peer_expect_tone(&w, 1, PHONE_HZ, TALK_MS / 2,
			    "the recording's right channel (the phone)");
	rt_peer_wav_free(&w);
}

static void test_phone_answers(void **state)
{
	const unsigned rtp = rt_peer_rtp_base() + 50; /* the phone's half */
	char target[32], port[16], mport[16], cid[64], ms[16], heard[512];
	const char *uac_args[] = {"-sf",  rt_peer_data("uac_talk.xml"),
				  "-s",	  DIALLED,
				  "-d",	  ms,
				  "-p",	  port,
				  "-mp",  mport,
				  "-i",	  "127.0.0.1",
				  "-m",	  "1",
				  target, NULL};
	const json_t *ended;
	struct rt_peer_wav w;
	uint64_t t0;
	json_t *c;
	pid_t uac;
	int rc;
	(void)state;

	/* The phone's prompt outlasts the call: baresip hangs up when it
	 * ends. */
	rt_peer_tone_wav(rt_peer_path("prompt.wav"), PHONE_HZ, 20);
	rt_peer_tone_ulaw(rt_peer_path("tone.ulaw"), CALLER_HZ, 2);
	rt_peer_phone_start(&phone, "phone", rt_peer_path("prompt.wav"),
			    "PCMA/8000/1", rtp, rtp + 49);
	rt_peer_add_number(&srv, NUM, phone.uri);

	snprintf(target, sizeof(target), "127.0.0.1:%u", srv.sip_port);
	snprintf(port, sizeof(port), "%u", rt_peer_free_port(false));
	snprintf(mport, sizeof(mport), "%u", rt_peer_free_port(true));
	snprintf(ms, sizeof(ms), "%u", TALK_MS);
	t0 = rt_peer_now_ms();
	uac = rt_peer_sipp("uac", SIPP_S, uac_args);
	snprintf(cid, sizeof(cid), "1-%d@127.0.0.1", (int)uac);
	rc = rt_peer_wait(uac, (SIPP_S + 5) * 1000);
	if (rc != 0) {
		rt_peer_show("uac");
		rt_peer_show("phone");
		fail_msg("SIPp (the carrier) exited with %d", rc);
	}
	fprintf(stderr, "the call took %llu ms\n",
		(unsigned long long)(rt_peer_now_ms() - t0));

	c = rt_peer_call(&srv, cid, true, 10000);
	if (!c)
		fail_msg("no ended call with SIP Call-ID %s", cid);
	assert_string_equal(rt_peer_jstr(c, "disposition"), "answered");
	assert_string_equal(rt_peer_jstr(c, "hangup_side"), "caller");
	assert_int_equal(json_integer_value(json_object_get(c, "sip_status")),
			 200);
	assert_string_equal(rt_peer_jstr(c, "destination"), phone.uri);
	assert_string_equal(rt_peer_jstr(c, "tracking_number"), NUM);
	assert_true(rt_peer_jstr(c, "answered_at")[0] != '\0');
	assert_true(strcmp(rt_peer_jstr(c, "answered_at"),
			   rt_peer_jstr(c, "started_at")) >= 0);
	assert_true(strcmp(rt_peer_jstr(c, "ended_at"),
			   rt_peer_jstr(c, "answered_at")) > 0);
	/* SIPp hangs up TALK_MS after the answer. */
	if (json_real_value(json_object_get(c, "talk_seconds")) <
		    TALK_MS / 1000.0 * 0.9 ||
	    json_real_value(json_object_get(c, "ring_seconds")) > 10.0)
		fail_msg("ring %.3f s, talk %.3f s: want talk of about %u ms",
			 json_real_value(json_object_get(c, "ring_seconds")),
			 json_real_value(json_object_get(c, "talk_seconds")),
			 TALK_MS);
	assert_non_null(rt_peer_event(c, "invite"));
	assert_non_null(rt_peer_event(c, "answered"));
	/* RTP through Ringtrail both ways: 50 packets a second each, half
	 * of the talk time at least. */
	ended = rt_peer_event(c, "ended");
	assert_non_null(ended);
	if (json_integer_value(json_object_get(ended, "rtp_from_caller")) <
		    TALK_MS / 40 ||
	    json_integer_value(json_object_get(ended, "rtp_from_callee")) <
		    TALK_MS / 40)
		fail_msg("want RTP relayed both ways, got %lld packets from "
			 "the caller and %lld from the phone",
			 (long long)json_integer_value(
				 json_object_get(ended, "rtp_from_caller")),
			 (long long)json_integer_value(
				 json_object_get(ended, "rtp_from_callee")));
	{
		const char *transcoded[] =
			{"msg=\"call answered\"", "transcoding=yes",
			 rt_test_fmt("call=%lld ",
				     (long long)json_integer_value(
					     json_object_get(c, "id"))),
			 NULL};

		if (!rt_peer_log_wait("server", transcoded, 1000))
			fail_msg("the server's log has no 'call answered' "
				 "with transcoding=yes for the call");
	}

	/* What the phone heard: the caller's tone, through the transcoding.
	 * baresip closes its recordings when it stops. */
	rt_peer_phone_stop(&phone);
	if (!rt_peer_phone_recording(&phone, true, heard, sizeof(heard)))
		fail_msg("baresip recorded nothing it heard");
	assert_int_equal(rt_peer_wav_read(heard, &w), 0);
	rt_peer_expect_tone(&w, 0, CALLER_HZ, TALK_MS / 2,
			    "what the phone heard");
	rt_peer_wav_free(&w);

	expect_recording(c);
	json_decref(c);
}

static int setup(void **state)
{
	(void)state;
	rt_peer_begin(&srv, 50);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rt_peer_end(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone_answers),
	};

	return cmocka_run_group_tests_name("sip_phone", tests, setup, teardown);
}
