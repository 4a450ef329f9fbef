/*
 * Uploaded audio files on live calls: the real server, SIPp as the
 * carrier's caller, on loopback.  A flow plays an uploaded file (3 s of
 * tone, sent as an MP3) and then a spoken prompt, then hangs up; the call's
 * path shows the file played whole (the next step began about 3 s later)
 * rather than being skipped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "harness.h"
#include "sip_peer.h"

#define SIPP_S 60

static struct rt_test_server srv;

static int64_t upload_mp3(double sec)
{
	char auth[200], *buf;
	const char *h[3] = {auth, "Content-Type: audio/mpeg", NULL};
	struct rt_test_resp r;
	size_t len =
		rt_test_tone_file(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III,
				  44100, 1, 440, sec, &buf);
	int64_t id;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.key);
	rt_test_request(&srv, &r, "POST", "/v1/audio?name=tone.mp3", h, buf,
			len);
	free(buf);
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	return id;
}

/* tests/data/sip/uac_flow.xml that waits for the flow's BYE (up to a
 * minute), written as work/<tag>.xml; returns the path written. */
static const char *waiting_caller(const char *tag)
{
	static const char *const from[] = {"@PAUSE1@", "@EXEC1@", "@PAUSE2@",
					   "@EXEC2@", "@HOLD@"};
	static const char *const to[] = {"20000", "", "20000", "", "20000"};

	return rt_peer_scenario("uac_flow.xml", tag, from, to, 5);
}

/* Calls dialled; the call's record once ended. */
static json_t *call(const char *dialled, const char *scenario)
{
	return rt_peer_dial(&srv, dialled, scenario, SIPP_S);
}

static int64_t hop_at(const json_t *flow, size_t i)
{
	return json_integer_value(
		json_object_get(json_array_get(json_object_get(flow, "path"),
					       i),
				"at"));
}

static void test_flow_plays_uploaded_file(void **state)
{
	struct rt_test_resp r;
	const json_t *fl;
	int64_t audio, flow, ms;
	json_t *c;

	(void)state;
	audio = upload_mp3(3.0);
	rt_test_api(
		&srv, &r, srv.key, "POST", "/v1/flows",
		rt_test_fmt("{\"name\":\"tone\",\"flow\":{\"format\":1,"
			    "\"start\":\"tone\",\"steps\":[{\"id\":\"tone\","
			    "\"type\":\"play\",\"prompt\":{\"audio_id\":%lld},"
			    "\"exits\":{\"next\":\"thanks\"}},{\"id\":"
			    "\"thanks\",\"type\":\"play\",\"prompt\":{\"text\":"
			    "\"Thanks.\"},\"exits\":{\"next\":\"bye\"}},"
			    "{\"id\":\"bye\",\"type\":\"hangup\"}]}}",
			    (long long)audio));
	RT_EXPECT_STATUS(&r, 201);
	flow = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(
		&srv, &r, srv.key, "POST", "/v1/numbers",
		rt_test_fmt(
			"{\"number\":\"+13125550160\",\"kind\":"
			"\"offline\",\"campaign\":\"radio\",\"flow_id\":%lld}",
			(long long)flow));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);

	c = call("13125550160", waiting_caller("uac_audio"));
	fl = json_object_get(c, "flow");
	assert_true(json_is_object(fl));
	assert_int_equal(json_array_size(json_object_get(fl, "path")), 3);
	ms = hop_at(fl, 1) - hop_at(fl, 0);
	print_message("the file's step lasted %lld ms\n", (long long)ms);
	if (ms < 2800 || ms > 4500)
		fail_msg("the 3 s file's step lasted %lld ms", (long long)ms);
	json_decref(c);

	/* In use by the flow's latest version: kept. */
	rt_test_api(&srv, &r, srv.key, "DELETE",
		    rt_test_fmt("/v1/audio/%lld", (long long)audio), NULL);
	RT_EXPECT_ERROR(&r, 409, "in_use", NULL);
	rt_test_resp_free(&r);
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
		cmocka_unit_test(test_flow_plays_uploaded_file),
	};

	return cmocka_run_group_tests_name("sip_audio", tests, setup, teardown);
}
