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

/* sec seconds of a 440 Hz tone as an MP3; the bytes in *bufp. */
static size_t mp3_tone(double sec, char **bufp)
{
	char path[] = "/tmp/rt-audio-XXXXXX";
	SF_INFO info = {.samplerate = 44100,
			.channels = 1,
			.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III};
	size_t frames = (size_t)(sec * info.samplerate), len;
	float *x = calloc(frames, sizeof(*x));
	int fd = mkstemp(path);
	SNDFILE *sf;
	FILE *f;

	assert_non_null(x);
	assert_true(fd >= 0);
	for (size_t i = 0; i < frames; i++)
		x[i] = (float)(0.5 * sin(2 * M_PI * 440.0 * (double)i /
					 info.samplerate));
	sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
	assert_non_null(sf);
	assert_int_equal(sf_writef_float(sf, x, (sf_count_t)frames),
			 (sf_count_t)frames);
	sf_close(sf);
	free(x);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	*bufp = malloc(len);
	assert_non_null(*bufp);
	assert_int_equal(fread(*bufp, 1, len, f), len);
	fclose(f);
	unlink(path);
	return len;
}

static int64_t upload_mp3(double sec)
{
	char auth[200], *buf;
	const char *h[3] = {auth, "Content-Type: audio/mpeg", NULL};
	struct rt_test_resp r;
	size_t len = mp3_tone(sec, &buf);
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
	static char dst[512];
	static const char *const from[] = {"@PAUSE1@", "@EXEC1@", "@PAUSE2@",
					   "@EXEC2@", "@HOLD@"};
	static const char *const to[] = {"20000", "", "20000", "", "20000"};
	char *text = rt_peer_read_file(rt_peer_data("uac_flow.xml"), NULL), *at;
	FILE *f;

	if (!text)
		fail_msg("cannot read %s", rt_peer_data("uac_flow.xml"));
	for (size_t i = 0; i < 5; i++) {
		while ((at = strstr(text, from[i]))) {
			size_t fl = strlen(from[i]), tl = strlen(to[i]);
			char *t = malloc(strlen(text) - fl + tl + 1);

			assert_non_null(t);
			memcpy(t, text, (size_t)(at - text));
			memcpy(t + (at - text), to[i], tl);
			memcpy(t + (at - text) + tl, at + fl,
			       strlen(at + fl) + 1);
			free(text);
			text = t;
		}
	}
	snprintf(dst, sizeof(dst), "%s",
		 rt_peer_path(rt_test_fmt("%s.xml", tag)));
	f = fopen(dst, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	return dst;
}

/* Calls dialled; the call's record once ended. */
static json_t *call(const char *dialled, const char *scenario)
{
	char target[32], port[16], mport[16], cid[64];
	const char *args[] = {"-sf", scenario, "-s",   dialled, "-p",
			      port,  "-mp",    mport,  "-i",	"127.0.0.1",
			      "-m",  "1",      target, NULL};
	json_t *c;
	pid_t uac;
	int rc;

	snprintf(target, sizeof(target), "127.0.0.1:%u", srv.sip_port);
	snprintf(port, sizeof(port), "%u", rt_peer_free_port(false));
	snprintf(mport, sizeof(mport), "%u", rt_peer_free_port(true));
	uac = rt_peer_sipp("uac", SIPP_S, args);
	snprintf(cid, sizeof(cid), "1-%d@127.0.0.1", (int)uac);
	rc = rt_peer_wait(uac, (SIPP_S + 5) * 1000);
	if (rc != 0) {
		rt_peer_show("uac");
		fail_msg("SIPp (the caller) exited with %d", rc);
	}
	c = rt_peer_call(&srv, cid, true, 10000);
	if (!c)
		fail_msg("no ended call with SIP Call-ID %s", cid);
	return c;
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
