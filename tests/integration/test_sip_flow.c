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
 *   - a menu given a key it does not have, then nothing: the invalid
 *     prompt, the menu again, its time-out, a goodbye and the call ended
 *     by Ringtrail;
 *   - closed hours to voicemail: the caller's tone recorded, disposition
 *     voicemail;
 *   - a sequential dial that passes a busy line and one that rings out
 *     before the third answers;
 *   - a whisper heard by the agents only (the RTP each side receives is
 *     caught on sockets of the test's own, written into the SDP): the
 *     first agent does not press 1 and is hung up on, the second presses
 *     1 and is bridged;
 *   - a simultaneous dial: the first to answer takes the call, the other
 *     line's ringing is withdrawn;
 *   - a round-robin dial starts the next call at the next line, across a
 *     restart of the server (the counter is kept in the store);
 *   - the caller hanging up in each step that lasts: a prompt, a menu's
 *     wait, a ringing dial, an agent hearing the whisper, a voicemail's
 *     greeting.
 */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "sip_peer.h"
#include "util/util.h"

#define SIPP_S 60

static struct rt_test_server srv;

/* uac_flow.xml with its placeholders filled; with media, the SDP offers
 * that port instead of SIPp's own (where the test listens). */
static const char *uac_scenario_at(const char *tag, unsigned pause1,
				   const char *exec1, unsigned pause2,
				   const char *exec2, unsigned hold,
				   unsigned media)
{
	const char *from[] = {"@PAUSE1@", "@EXEC1@", "@PAUSE2@",
			      "@EXEC2@",  "@HOLD@",  "[auto_media_port]"};
	char num[4][16];
	const char *to[] = {num[0], exec1, num[1], exec2, num[2], num[3]};

	snprintf(num[0], sizeof(num[0]), "%u", pause1);
	snprintf(num[1], sizeof(num[1]), "%u", pause2);
	snprintf(num[2], sizeof(num[2]), "%u", hold);
	snprintf(num[3], sizeof(num[3]), "%u", media);
	return rt_peer_scenario("uac_flow.xml", tag, from, to, media ? 6 : 5);
}

static const char *uac_scenario(const char *tag, unsigned pause1,
				const char *exec1, unsigned pause2,
				const char *exec2, unsigned hold)
{
	return uac_scenario_at(tag, pause1, exec1, pause2, exec2, hold, 0);
}

/* uas_reject.xml answering status. */
static const char *reject_scenario(const char *tag, const char *status)
{
	const char *from[] = {"@STATUS@"}, *to[] = {status};

	return rt_peer_scenario("uas_reject.xml", tag, from, to, 1);
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
	char port[16], mport[16];
	const char *args[] = {"-sf", scenario,	  "-p", port, "-mp", mport,
			      "-i",  "127.0.0.1", "-m", "1",  NULL};
	unsigned p = rt_peer_free_port(false);
	pid_t pid;

	snprintf(port, sizeof(port), "%u", p);
	snprintf(mport, sizeof(mport), "%u", rt_peer_free_port(true));
	pid = rt_peer_sipp(tag, SIPP_S, args);
	rt_peer_wait_bound(p, tag);
	snprintf(uri, size, "sip:%s@127.0.0.1:%u", tag, p);
	return pid;
}

/* Calls dialled with the caller scenario; the call's record once ended. */
static json_t *call(const char *dialled, const char *scenario)
{
	return rt_peer_dial(&srv, dialled, scenario, SIPP_S);
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

/* ---- what each side hears ---------------------------------------------- */

/*
 * A UDP socket of the test's own on loopback, offered in a peer's SDP
 * instead of SIPp's media port: Ringtrail sends that side's RTP to it (the
 * peer sends none, so there is nothing to latch on to).  A thread keeps
 * the G.711 u-law audio that arrives, in order; RFC 4733 events and other
 * payload types are left out.
 */
struct ear {
	int fd;
	unsigned port;
	int16_t *pcm;
	size_t n, cap;
};

static struct ear ears[2];
static pthread_t ears_thread;
static atomic_bool ears_done;

static int16_t ulaw_pcm(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static void ear_take(struct ear *e, const uint8_t *b, size_t len)
{
	size_t h = 12;

	if (len < h || (b[0] >> 6) != 2 || (b[1] & 0x7f) != 0)
		return;
	h += 4u * (b[0] & 0x0f);
	if ((b[0] & 0x10) && len >= h + 4)
		h += 4 + 4u * (((size_t)b[h + 2] << 8) | b[h + 3]);
	if (h >= len)
		return;
	if (e->n + (len - h) > e->cap) {
		size_t cap = (e->cap + len) * 2;
		int16_t *p = realloc(e->pcm, cap * sizeof(*p));

		if (!p)
			return;
		e->pcm = p;
		e->cap = cap;
	}
	for (size_t i = h; i < len; i++)
		e->pcm[e->n++] = ulaw_pcm(b[i]);
}

static void *ears_run(void *arg)
{
	struct pollfd p[2] = {{.fd = ears[0].fd, .events = POLLIN},
			      {.fd = ears[1].fd, .events = POLLIN}};
	uint8_t b[2048];
	(void)arg;

	while (!atomic_load(&ears_done)) {
		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (!(p[i].revents & POLLIN))
				continue;
			r = recv(p[i].fd, b, sizeof(b), MSG_DONTWAIT);
			if (r > 0)
				ear_take(&ears[i], b, (size_t)r);
		}
	}
	return NULL;
}

static void ears_start(void)
{
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t len = sizeof(a);
		struct ear *e = &ears[i];

		memset(e, 0, sizeof(*e));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		e->fd = socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(e->fd >= 0);
		assert_int_equal(bind(e->fd, (struct sockaddr *)&a, sizeof(a)),
				 0);
		assert_int_equal(getsockname(e->fd, (struct sockaddr *)&a,
					     &len),
				 0);
		e->port = ntohs(a.sin_port);
	}
	atomic_store(&ears_done, false);
	assert_int_equal(pthread_create(&ears_thread, NULL, ears_run, NULL), 0);
}

static void ears_stop(void)
{
	atomic_store(&ears_done, true);
	pthread_join(ears_thread, NULL);
	for (int i = 0; i < 2; i++)
		close(ears[i].fd);
}

/* Goertzel's power at bin k of n samples. */
static double bin_power(const int16_t *x, size_t n, unsigned k)
{
	double c = 2 * cos(2 * M_PI * k / (double)n), s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		double s = x[i] + c * s1 - s2;

		s2 = s1;
		s1 = s;
	}
	return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/*
 * What a side heard, in 50 ms windows with sound: ringback (most of the
 * energy at 440 and 480 Hz, bins 22 and 24 of 400 samples) and anything
 * else (speech: the whisper).  Milliseconds of each.
 */
static void heard(const struct ear *e, unsigned *ring_ms, unsigned *other_ms)
{
	const size_t n = 400;

	*ring_ms = *other_ms = 0;
	for (size_t at = 0; at + n <= e->n; at += n) {
		const int16_t *x = e->pcm + at;
		double sum = 0, f;

		for (size_t i = 0; i < n; i++)
			sum += (double)x[i] * x[i];
		if (sum / n < 300.0 * 300.0)
			continue; /* silence */
		f = (bin_power(x, n, 22) + bin_power(x, n, 24)) * 2 / n / sum;
		if (f >= 0.7)
			*ring_ms += 50;
		else if (f < 0.4)
			*other_ms += 50;
	}
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

static void test_menu_wrong_key_then_nothing(void **state)
{
	const json_t *fl;
	json_t *c;
	(void)state;

	number_with_flow(
		"+13125550107",
		"{\"format\":1,\"start\":\"menu\",\"steps\":["
		"{\"id\":\"menu\",\"type\":\"menu\",\"prompt\":{\"text\":"
		"\"For sales, press 1.\"},\"timeout_s\":3,\"retries\":1,"
		"\"exits\":{\"1\":null,\"timeout\":\"bye\",\"invalid\":null}},"
		"{\"id\":\"bye\",\"type\":\"play\",\"prompt\":{\"text\":"
		"\"Goodbye.\"}}]}");
	/* 9 at 2.5 s, then nothing until Ringtrail hangs up (20 s at most). */
	c = call("13125550107",
		 uac_scenario(
			 "uac_wrong", 2500,
			 "<exec play_pcap_audio=\"pcap/dtmf_2833_9.pcap\"/>",
			 100, "", 20000));
	fl = flow_of(c);
	assert_string_equal(rt_peer_jstr(fl, "ivr_digits"), "9");
	assert_string_equal(path_text(fl), "menu:timeout bye:next");
	assert_string_equal(rt_peer_jstr(c, "disposition"), "no_answer");
	/* Ringtrail ended it: the invalid prompt, the menu again and its
	 * 3 s passed between the key and the goodbye. */
	if (hop_at(fl, 1) - hop_at(fl, 0) < 4000)
		fail_msg("the menu timed out %lld ms after it began",
			 (long long)(hop_at(fl, 1) - hop_at(fl, 0)));
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

static void test_whisper_agent_only_accept(void **state)
{
	const char *from[] = {"[media_port]"};
	char first[64], second[64], port[16];
	const char *to[] = {port};
	unsigned ring_ms, other_ms;
	pid_t l1, l2;
	const json_t *fl;
	json_t *c;
	(void)state;

	ears_start();
	/* The first agent's audio comes to the test; it never presses 1. */
	snprintf(port, sizeof(port), "%u", ears[1].port);
	l1 = line_start("first",
			rt_peer_scenario("uas_answer.xml", "uas_first", from,
					 to, 1),
			first, sizeof(first));
	l2 = line_start("second", rt_peer_data("uas_accept.xml"), second,
			sizeof(second));
	number_with_flow(
		"+13125550104",
		rt_test_fmt("{\"format\":1,\"start\":\"who\",\"steps\":["
			    "{\"id\":\"who\",\"type\":\"whisper\",\"text\":"
			    "\"Call from the {campaign} campaign. Press 1 to "
			    "take it.\",\"accept\":true,"
			    "\"exits\":{\"next\":\"team\"}},"
			    "{\"id\":\"team\",\"type\":\"dial\",\"strategy\":"
			    "\"sequential\",\"timeout_s\":60,\"targets\":["
			    "{\"uri\":\"%s\"},{\"uri\":\"%s\"}]}]}",
			    first, second));
	/* The first agent: the whisper, then 10 s to press 1; the second
	 * presses 3.5 s after answering, about 18 s in.  The caller stays
	 * 22 s, its audio to the test too. */
	c = call("13125550104", uac_scenario_at("uac_whisper", 100, "", 100, "",
						22000, ears[0].port));
	ears_stop();
	fl = flow_of(c);
	assert_string_equal(rt_peer_jstr(c, "disposition"), "answered");
	assert_string_equal(rt_peer_jstr(fl, "agent"), second);
	assert_string_equal(path_text(fl), "who:next team:caller_hangup");
	/* The first was hung up on after the whisper; the second bridged,
	 * then hung up on when the caller left. */
	assert_int_equal(rt_peer_wait(l1, 10000), 0);
	assert_int_equal(rt_peer_wait(l2, 10000), 0);

	/* The agent heard the whisper and no ringback ... */
	heard(&ears[1], &ring_ms, &other_ms);
	if (other_ms < 1000 || ring_ms > 100)
		fail_msg("the first agent heard %u ms of speech and %u ms of "
			 "ringback (%zu samples)",
			 other_ms, ring_ms, ears[1].n);
	/* ... the caller ringback and no whisper. */
	heard(&ears[0], &ring_ms, &other_ms);
	if (ring_ms < 1000 || other_ms > 300)
		fail_msg("the caller heard %u ms of ringback and %u ms of "
			 "something else (%zu samples)",
			 ring_ms, other_ms, ears[0].n);
	free(ears[0].pcm);
	free(ears[1].pcm);
	json_decref(c);
}

static void test_simultaneous(void **state)
{
	char rings[64], takes[64];
	pid_t l1, l2;
	const json_t *fl;
	json_t *c;
	(void)state;

	l1 = line_start("ringer", rt_peer_data("uas_ring.xml"), rings,
			sizeof(rings));
	l2 = line_start("taker", rt_peer_data("uas_answer.xml"), takes,
			sizeof(takes));
	number_with_flow(
		"+13125550105",
		rt_test_fmt("{\"format\":1,\"start\":\"all\",\"steps\":["
			    "{\"id\":\"all\",\"type\":\"dial\",\"strategy\":"
			    "\"simultaneous\",\"targets\":[{\"uri\":\"%s\"},"
			    "{\"uri\":\"%s\"}]}]}",
			    rings, takes));
	c = call("13125550105",
		 uac_scenario("uac_all", 100, "", 100, "", 3000));
	fl = flow_of(c);
	assert_string_equal(rt_peer_jstr(c, "disposition"), "answered");
	assert_string_equal(rt_peer_jstr(fl, "agent"), takes);
	assert_string_equal(path_text(fl), "all:caller_hangup");
	/* The ringing line got its CANCEL once the other answered. */
	assert_int_equal(rt_peer_wait(l1, 10000), 0);
	assert_int_equal(rt_peer_wait(l2, 10000), 0);
	json_decref(c);
}

static void test_round_robin_across_restart(void **state)
{
	char a[64], b[64];
	pid_t la, lb;
	json_t *c1, *c2;
	const char *first, *second;
	(void)state;

	la = line_start("rr_a", rt_peer_data("uas_answer.xml"), a, sizeof(a));
	lb = line_start("rr_b", rt_peer_data("uas_answer.xml"), b, sizeof(b));
	number_with_flow(
		"+13125550106",
		rt_test_fmt("{\"format\":1,\"start\":\"rr\",\"steps\":["
			    "{\"id\":\"rr\",\"type\":\"dial\",\"strategy\":"
			    "\"round_robin\",\"targets\":[{\"uri\":\"%s\"},"
			    "{\"uri\":\"%s\"}]}]}",
			    a, b));
	c1 = call("13125550106",
		  uac_scenario("uac_rr1", 100, "", 100, "", 1500));
	/* The call is written with the counter; a clean restart reloads
	 * it from the store. */
	rt_peer_restart(&srv, SIGTERM);
	c2 = call("13125550106",
		  uac_scenario("uac_rr2", 100, "", 100, "", 1500));
	first = rt_peer_jstr(flow_of(c1), "agent");
	second = rt_peer_jstr(flow_of(c2), "agent");
	if (strcmp(first, a) && strcmp(first, b))
		fail_msg("the first call went to %s", first);
	if (!strcmp(first, second))
		fail_msg("both calls went to %s", first);
	/* Each line took one call, the other's was not rung. */
	assert_int_equal(rt_peer_wait(la, 10000), 0);
	assert_int_equal(rt_peer_wait(lb, 10000), 0);
	json_decref(c1);
	json_decref(c2);
}

/* The caller hangs up at hang_ms, in the flow's first step that lasts; a
 * line, when the step rings one, must see the call withdrawn. */
struct hangup_case {
	const char *what, *number, *flow, *line, *path;
};

static const struct hangup_case hangups[] = {
	{"a prompt", "+13125550110",
	 "{\"id\":\"greet\",\"type\":\"play\",\"prompt\":{\"text\":"
	 "\"Thank you for calling the test line. This message goes on for "
	 "a good while before anything happens.\"}}",
	 NULL, "greet:caller_hangup"},
	{"a menu's wait", "+13125550111",
	 "{\"id\":\"menu\",\"type\":\"menu\",\"prompt\":{\"text\":"
	 "\"Press 1.\"},\"timeout_s\":20,\"retries\":0,\"exits\":{\"1\":"
	 "null}}",
	 NULL, "menu:caller_hangup"},
	{"a ringing dial", "+13125550112",
	 "{\"id\":\"team\",\"type\":\"dial\",\"targets\":[{\"uri\":"
	 "\"@LINE@\",\"ring_s\":30}]}",
	 "uas_ring.xml", "team:caller_hangup"},
	{"a whisper", "+13125550113",
	 "{\"id\":\"who\",\"type\":\"whisper\",\"text\":\"This is a "
	 "call from the {campaign} campaign, from {caller_location}, to "
	 "{number_name}, and it is a long message.\",\"exits\":{\"next\":"
	 "\"team\"}},{\"id\":\"team\",\"type\":\"dial\",\"targets\":"
	 "[{\"uri\":\"@LINE@\"}]}",
	 "uas_answer.xml", "who:next team:caller_hangup"},
	{"a voicemail's greeting", "+13125550114",
	 "{\"id\":\"vm\",\"type\":\"voicemail\",\"greeting\":{\"text\":"
	 "\"Nobody can take your call. Please leave your name, your number "
	 "and a message after the tone.\"},\"max_s\":30}",
	 NULL, "vm:caller_hangup"},
};

static void test_caller_hangs_up_in_each_step(void **state)
{
	(void)state;

	for (size_t i = 0; i < RT_ARRAY_SIZE(hangups); i++) {
		const struct hangup_case *h = &hangups[i];
		const char *from[] = {"@LINE@"};
		char uri[64] = "", *steps = strdup(h->flow), tag[16];
		const char *to[] = {uri}, *start;
		pid_t line = 0;
		json_t *c;

		snprintf(tag, sizeof(tag), "hang%zu", i);
		if (h->line)
			line = line_start(tag, rt_peer_data(h->line), uri,
					  sizeof(uri));
		assert_non_null(steps);
		steps = rt_peer_replace(steps, from, to, 1);
		start = strstr(steps, "\"id\":\"") + 6;
		number_with_flow(h->number,
				 rt_test_fmt("{\"format\":1,\"start\":\"%.*s\","
					     "\"steps\":[%s]}",
					     (int)strcspn(start, "\""), start,
					     steps));
		free(steps);
		/* 2.5 s in: each step is still going on (the menu's prompt
		 * is over; the agent is hearing the whisper). */
		c = call(h->number + 1,
			 uac_scenario(tag, 100, "", 100, "", 2300));
		if (strcmp(rt_peer_jstr(c, "disposition"), "abandoned") ||
		    strcmp(path_text(flow_of(c)), h->path))
			fail_msg("hanging up in %s: %s, path %s", h->what,
				 rt_peer_jstr(c, "disposition"),
				 path_text(flow_of(c)));
		if (line)
			assert_int_equal(rt_peer_wait(line, 10000), 0);
		json_decref(c);
	}
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
		cmocka_unit_test(test_notice_menu_rfc4733_dial),
		cmocka_unit_test(test_menu_inband),
		cmocka_unit_test(test_menu_wrong_key_then_nothing),
		cmocka_unit_test(test_closed_voicemail),
		cmocka_unit_test(test_sequential_busy_no_answer_third),
		cmocka_unit_test(test_whisper_agent_only_accept),
		cmocka_unit_test(test_simultaneous),
		cmocka_unit_test(test_round_robin_across_restart),
		cmocka_unit_test(test_caller_hangs_up_in_each_step),
	};

	return cmocka_run_group_tests_name("sip_flow", tests, setup, teardown);
}
