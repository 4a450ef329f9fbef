/*
 * Call flows on live calls: the real server, SIPp as the carrier's caller
 * and as the business's lines, on loopback.  Each test saves a flow over
 * the API, gives it to a tracking number, places one call and reads the
 * call's record back:
 *
 *   - a recording notice, then a menu answered with an RFC 4733 digit,
 *     then a dial answered (the notice plays whole before the menu);
 *   - a menu answered with an in-band digit (tones in the caller's audio,
 *     heard through spandsp);
 *   - closed hours to voicemail: the caller's tone recorded, disposition
 *     voicemail;
 *   - a sequential dial that passes a busy line and one that rings out
 *     before the third answers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sip_peer.h"

#define SIPP_S 60

static struct rt_test_server srv;

/* tests/data/sip/name with each from[i] replaced by to[i], written as
 * work/<tag>.xml; returns the path written. */
static const char *scenario(const char *name, const char *tag,
			    const char *const *from, const char *const *to,
			    size_t n)
{
	static char dst[512];
	char *text = rt_peer_read_file(rt_peer_data(name), NULL), *at;
	FILE *f;

	if (!text)
		fail_msg("cannot read %s", rt_peer_data(name));
	for (size_t i = 0; i < n; i++) {
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

/* uac_flow.xml with its placeholders filled. */
static const char *uac_scenario(const char *tag, unsigned pause1,
				const char *exec1, unsigned pause2,
				const char *exec2, unsigned hold)
{
	const char *from[] = {"@PAUSE1@", "@EXEC1@", "@PAUSE2@", "@EXEC2@",
			      "@HOLD@"};
	char num[3][16];
	const char *to[] = {num[0], exec1, num[1], exec2, num[2]};

	snprintf(num[0], sizeof(num[0]), "%u", pause1);
	snprintf(num[1], sizeof(num[1]), "%u", pause2);
	snprintf(num[2], sizeof(num[2]), "%u", hold);
	return scenario("uac_flow.xml", tag, from, to, 5);
}

/* uas_reject.xml answering status. */
static const char *reject_scenario(const char *tag, const char *status)
{
	const char *from[] = {"@STATUS@"}, *to[] = {status};

	return scenario("uas_reject.xml", tag, from, to, 1);
}

/* Saves a flow and gives it to a new tracking number. */
static void number_with_flow(const char *number, const char *doc)
{
	struct rt_test_resp r;
	int64_t id;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/flows",
		    rt_test_fmt("{\"name\":\"flow for %s\",\"flow\":%s}",
				number, doc));
	RT_EXPECT_STATUS(&r, 201);
	id = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    rt_test_fmt("{\"number\":\"%s\",\"label\":\"Line "
				"555-0100\",\"kind\":\"offline\","
				"\"campaign\":\"radio\",\"flow_id\":%lld}",
				number, (long long)id));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);
}

/* A line that answers (or rejects, or rings) on a free port: its URI. */
static pid_t line_start(const char *tag, const char *scenario, char *uri,
			size_t size)
{
	char port[16];
	const char *args[] = {"-sf",	   scenario, "-p", port, "-i",
			      "127.0.0.1", "-m",     "1",  NULL};
	unsigned p = rt_peer_free_port(false);
	pid_t pid;

	snprintf(port, sizeof(port), "%u", p);
	pid = rt_peer_sipp(tag, SIPP_S, args);
	rt_peer_wait_bound(p, tag);
	snprintf(uri, size, "sip:%s@127.0.0.1:%u", tag, p);
	return pid;
}

/* Calls dialled with the caller scenario; the call's record once ended. */
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

static const json_t *flow_of(const json_t *c)
{
	const json_t *f = json_object_get(c, "flow");

	if (!json_is_object(f)) {
		char *d = json_dumps(c, JSON_INDENT(1));

		fail_msg("the call has no flow: %s", d);
	}
	return f;
}

/* The path's steps as "id:exit id:exit ...". */
static const char *path_text(const json_t *flow)
{
	static char out[512];
	const json_t *h;
	size_t i, k = 0;

	out[0] = '\0';
	json_array_foreach (json_object_get(flow, "path"), i, h) {
		k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%s:%s",
				      i ? " " : "", rt_peer_jstr(h, "step"),
				      rt_peer_jstr(h, "exit"));
		if (k >= sizeof(out))
			break;
	}
	return out;
}

static int64_t hop_at(const json_t *flow, size_t i)
{
	return json_integer_value(
		json_object_get(json_array_get(json_object_get(flow, "path"),
					       i),
				"at"));
}

/* ---- the tests -------------------------------------------------------- */

static void test_notice_menu_rfc4733_dial(void **state)
{
	char uri[64];
	pid_t line;
	const json_t *fl;
	json_t *c;
	(void)state;

	line = line_start("sales", rt_peer_data("uas_answer.xml"), uri,
			  sizeof(uri));
	number_with_flow(
		"+13125550100",
		rt_test_fmt(
			"{\"format\":1,\"start\":\"notice\",\"steps\":["
			"{\"id\":\"notice\",\"type\":\"disclosure\","
			"\"exits\":{\"next\":\"menu\"}},"
			"{\"id\":\"menu\",\"type\":\"menu\",\"prompt\":"
			"{\"text\":\"For sales, press 1.\"},\"timeout_s\":15,"
			"\"retries\":0,\"exits\":{\"1\":\"sales\"}},"
			"{\"id\":\"sales\",\"type\":\"dial\",\"targets\":"
			"[{\"uri\":\"%s\"}]}]}",
			uri));
	/* The digit 8 s after the answer: after the notice and the menu's
	 * prompt, well within the menu's 15 s. */
	c = call("13125550100",
		 uac_scenario(
			 "uac_rfc4733", 8000,
			 "<exec play_pcap_audio=\"pcap/dtmf_2833_1.pcap\"/>",
			 100, "", 3000));
	assert_int_equal(rt_peer_wait(line, 10000), 0);
	fl = flow_of(c);
	assert_string_equal(rt_peer_jstr(c, "disposition"), "answered");
	assert_string_equal(path_text(fl),
			    "notice:next menu:1 sales:caller_hangup");
	assert_string_equal(rt_peer_jstr(fl, "ivr_digits"), "1");
	assert_string_equal(rt_peer_jstr(fl, "agent"), uri);
	assert_true(json_integer_value(json_object_get(fl, "ivr_ms")) > 500);
	/* The notice (about 4 s of speech) played whole before the menu. */
	if (hop_at(fl, 1) - hop_at(fl, 0) < 2000)
		fail_msg("the menu began %lld ms after the notice",
			 (long long)(hop_at(fl, 1) - hop_at(fl, 0)));
	assert_non_null(rt_peer_event(c, "flow_step"));
	json_decref(c);
}

/* 300 ms of silence, 200 ms of the digit's two tones, 1 s of silence:
 * raw u-law, for SIPp's rtp_stream. */
static void dtmf_ulaw(const char *path, double lo, double hi)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (int i = 0; i < 12000; i++) {
		double v = 0;
		int s, sign, exp, mant;
		unsigned char u;

		if (i >= 2400 && i < 4000)
			v = 6000 * (sin(2 * M_PI * lo * i / 8000.0) +
				    sin(2 * M_PI * hi * i / 8000.0));
		/* G.711 u-law, as the phone would send it */
		s = (int)v;
		sign = s < 0 ? 0x80 : 0;
		if (s < 0)
			s = -s;
		if (s > 32635)
			s = 32635;
		s += 0x84;
		exp = 7;
		for (int m = 0x4000; (s & m) == 0 && exp > 0; m >>= 1)
			exp--;
		mant = (s >> (exp + 3)) & 0x0f;
		u = (unsigned char)~(sign | (exp << 4) | mant);
		fputc(u, f);
	}
	fclose(f);
}

static void test_menu_inband(void **state)
{
	char uri[64];
	pid_t line;
	const json_t *fl;
	json_t *c;
	(void)state;

	dtmf_ulaw(rt_peer_path("digit2.ulaw"), 697, 1336);
	line = line_start("support", rt_peer_data("uas_answer.xml"), uri,
			  sizeof(uri));
	number_with_flow(
		"+13125550101",
		rt_test_fmt("{\"format\":1,\"start\":\"menu\",\"steps\":["
			    "{\"id\":\"menu\",\"type\":\"menu\",\"prompt\":"
			    "{\"text\":\"For support, press 2.\"},"
			    "\"timeout_s\":15,\"retries\":0,"
			    "\"exits\":{\"2\":\"support\"}},"
			    "{\"id\":\"support\",\"type\":\"dial\",\"targets\":"
			    "[{\"uri\":\"%s\"}]}]}",
			    uri));
	c = call("13125550101",
		 uac_scenario("uac_inband", 100, "", 4000,
			      "<exec rtp_stream=\"digit2.ulaw,1,0\"/>", 4000));
	assert_int_equal(rt_peer_wait(line, 10000), 0);
	fl = flow_of(c);
	assert_string_equal(rt_peer_jstr(c, "disposition"), "answered");
	assert_string_equal(path_text(fl), "menu:2 support:caller_hangup");
	assert_string_equal(rt_peer_jstr(fl, "ivr_digits"), "2");
	json_decref(c);
}

static void test_closed_voicemail(void **state)
{
	struct rt_peer_wav w;
	const json_t *fl;
	json_t *c, *rec;
	(void)state;

	rt_peer_tone_ulaw(rt_peer_path("tone.ulaw"), 1000, 8);
	/* No opening hours at all: always closed. */
	number_with_flow("+13125550102",
			 "{\"format\":1,\"start\":\"hours\",\"steps\":["
			 "{\"id\":\"hours\",\"type\":\"schedule\",\"timezone\":"
			 "\"America/Chicago\",\"hours\":{},"
			 "\"exits\":{\"open\":null,\"closed\":\"vm\"}},"
			 "{\"id\":\"vm\",\"type\":\"voicemail\",\"greeting\":"
			 "{\"text\":\"We are closed. Leave a "
			 "message.\"},\"max_s\":30}]}");
	/* The caller's tone from the answer for 8 s; it hangs up after 9. */
	c = call("13125550102",
		 uac_scenario("uac_vm", 100, "", 100,
			      "<exec rtp_stream=\"tone.ulaw,1,0\"/>", 9000));
	fl = flow_of(c);
	assert_string_equal(rt_peer_jstr(c, "disposition"), "voicemail");
	assert_string_equal(path_text(fl), "hours:closed vm:caller_hangup");
	assert_non_null(rt_peer_event(c, "voicemail"));
	rt_peer_recording(&srv, json_integer_value(json_object_get(c, "id")),
			  "opus", rt_peer_path("vm.opus"), &w, &rec);
	json_decref(rec);
	/* The greeting and the beep take about 3 s of the 8. */
	rt_peer_expect_tone(&w, 0, 1000, 3000,
			    "the voicemail's left channel (the caller)");
	rt_peer_wav_free(&w);
	json_decref(c);
}

static void test_sequential_busy_no_answer_third(void **state)
{
	char busy[64], rings[64], answers[64];
	pid_t l1, l2, l3;
	const json_t *fl;
	json_t *c;
	(void)state;

	l1 = line_start("busy", reject_scenario("uas_busy", "486"), busy,
			sizeof(busy));
	l2 = line_start("rings", rt_peer_data("uas_ring.xml"), rings,
			sizeof(rings));
	l3 = line_start("answers", rt_peer_data("uas_answer.xml"), answers,
			sizeof(answers));
	number_with_flow(
		"+13125550103",
		rt_test_fmt("{\"format\":1,\"start\":\"team\",\"steps\":["
			    "{\"id\":\"team\",\"type\":\"dial\",\"strategy\":"
			    "\"sequential\",\"timeout_s\":60,\"targets\":["
			    "{\"uri\":\"%s\"},{\"uri\":\"%s\",\"ring_s\":5},"
			    "{\"uri\":\"%s\"}]}]}",
			    busy, rings, answers));
	c = call("13125550103",
		 uac_scenario("uac_seq", 100, "", 100, "", 9000));
	fl = flow_of(c);
	assert_string_equal(rt_peer_jstr(c, "disposition"), "answered");
	assert_string_equal(rt_peer_jstr(fl, "agent"), answers);
	assert_string_equal(path_text(fl), "team:caller_hangup");
	/* Each line saw its INVITE: refused, rung out (CANCEL), answered. */
	assert_int_equal(rt_peer_wait(l1, 10000), 0);
	assert_int_equal(rt_peer_wait(l2, 10000), 0);
	assert_int_equal(rt_peer_wait(l3, 10000), 0);
	json_decref(c);
}

static int setup(void **state)
{
	char rtp[32];
	const char *args[] = {"--log-level", "info", "--sip-rtp-ports", rtp,
			      NULL};
	unsigned base = rt_peer_rtp_base();

	(void)state;
	snprintf(rtp, sizeof(rtp), "%u-%u", base, base + 49);
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
		cmocka_unit_test(test_notice_menu_rfc4733_dial),
		cmocka_unit_test(test_menu_inband),
		cmocka_unit_test(test_closed_voicemail),
		cmocka_unit_test(test_sequential_busy_no_answer_third),
	};

	return cmocka_run_group_tests_name("sip_flow", tests, setup, teardown);
}
