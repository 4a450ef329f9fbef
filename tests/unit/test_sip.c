/*
 * The parts of src/sip that need no network: SDP as carriers write it,
 * Ringtrail's own SDP, trunks as operators write them, source networks,
 * the SIP keys of the configuration, and G.711.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip_int.h"

static int parse(const char *text, struct rt_sdp *s, const char **why)
{
	return rt_sdp_parse(text, strlen(text), s, why);
}

static void test_sdp_offer(void **state)
{
	const char *offer = "v=0\r\n"
			    "o=- 1 1 IN IP4 198.51.100.9\r\n"
			    "s=-\r\n"
			    "c=IN IP4 198.51.100.9\r\n"
			    "t=0 0\r\n"
			    "m=audio 49170 RTP/AVP 18 8 0 101\r\n"
			    "a=rtpmap:18 G729/8000\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"
			    "a=fmtp:101 0-16\r\n"
			    "a=sendrecv\r\n";
	struct rt_sdp s;
	const char *why;
	(void)state;

	assert_int_equal(parse(offer, &s, &why), 0);
	assert_string_equal(s.addr, "198.51.100.9");
	assert_int_equal(s.af, AF_INET);
	assert_int_equal(s.port, 49170);
	assert_int_equal(s.nfmts, 4);
	assert_false(s.hold);
	/* Static payload types need no rtpmap; the first G.711 in the
	 * offer's order is the caller's choice. */
	assert_int_equal(rt_sdp_g711(&s)->pt, 8);
	assert_string_equal(rt_sdp_g711(&s)->name, "PCMA");
	assert_int_equal(rt_sdp_telev(&s)->pt, 101);
}

static void test_sdp_levels_and_hold(void **state)
{
	struct rt_sdp s;
	const char *why;
	(void)state;

	/* Media-level c= and direction beat the session's; a video stream
	 * before the audio one is skipped; LF line ends are read too. */
	assert_int_equal(parse("v=0\n"
			       "o=- 1 1 IN IP4 192.0.2.1\n"
			       "s=-\n"
			       "c=IN IP4 192.0.2.1\n"
			       "t=0 0\n"
			       "a=sendrecv\n"
			       "m=video 5000 RTP/AVP 96\n"
			       "c=IN IP4 192.0.2.99\n"
			       "m=audio 6000 RTP/AVP 0\n"
			       "c=IN IP6 2001:db8::5\n"
			       "a=sendonly\n",
			       &s, &why),
			 0);
	assert_string_equal(s.addr, "2001:db8::5");
	assert_int_equal(s.af, AF_INET6);
	assert_int_equal(s.port, 6000);
	assert_int_equal(s.dir, RT_SDP_SENDONLY);
	assert_true(s.hold);

	/* RFC 2543 hold: the null address. */
	assert_int_equal(parse("v=0\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
			       "m=audio 6000 RTP/AVP 0\r\n",
			       &s, &why),
			 0);
	assert_true(s.hold);
	assert_int_equal(s.dir, RT_SDP_SENDRECV);

	/* Session-level inactive applies to the stream. */
	assert_int_equal(parse("v=0\r\nc=IN IP4 192.0.2.1\r\na=inactive\r\n"
			       "m=audio 6000 RTP/AVP 8\r\n",
			       &s, &why),
			 0);
	assert_int_equal(s.dir, RT_SDP_INACTIVE);
	assert_true(s.hold);
}

static void test_sdp_refused(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *why;
	} cases[] = {
		{"", EINVAL, "empty"},
		{"hello", EINVAL, "x=value"},
		{"c=IN IP4 1.2.3.4\r\n", EINVAL, "v="},
		{"v=1\r\n", EINVAL, "version"},
		{"v=0\r\nc=IN IP4 1.2.3.4\r\n", ENOENT, "audio"},
		{"v=0\r\nm=audio 1 RTP/SAVP 0\r\nc=IN IP4 1.2.3.4\r\n", ENOENT,
		 "audio"},
		{"v=0\r\nm=audio 70000 RTP/AVP 0\r\n", EINVAL, "port"},
		{"v=0\r\nm=audio 7000 RTP/AVP\r\n", EINVAL, "format"},
		{"v=0\r\nm=audio 7000 RTP/AVP 300\r\n", EINVAL, "payload"},
		{"v=0\r\nm=audio 7000 RTP/AVP 0\r\n", EINVAL, "c="},
		{"v=0\r\nm=audio 7000 RTP/AVP 0\r\nc=IN IP4 host.example\r\n",
		 EINVAL, "c="},
		{"v=0\r\nm=audio 7000 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n"
		 "a=rtpmap:0 PCMU\r\n",
		 EINVAL, "rtpmap"},
		{"v=0\r\nc=IN IP4 1.2.3.4\x01\r\n", EINVAL, "control"},
	};
	struct rt_sdp s;
	const char *why;
	(void)state;

	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		int err = parse(cases[i].text, &s, &why);

		if (err != cases[i].err || !strstr(why, cases[i].why))
			fail_msg("case %zu: err %d why '%s'", i, err, why);
	}
	/* Parsed, but nothing a G.711 relay can use. */
	assert_int_equal(parse("v=0\r\nc=IN IP4 1.2.3.4\r\n"
			       "m=audio 7000 RTP/AVP 18 9\r\n",
			       &s, &why),
			 0);
	assert_null(rt_sdp_g711(&s));
	assert_null(rt_sdp_telev(&s));
}

static void test_sdp_write_reads_back(void **state)
{
	struct rt_sdp_local l = {
		.addr = "203.0.113.5",
		.af = AF_INET,
		.port = 20002,
		.sess_id = 42,
		.version = 3,
		.fmts = {{0, "PCMU"}, {8, "PCMA"}},
		.nfmts = 2,
		.telev_pt = 101,
		.dir = RT_SDP_RECVONLY,
	};
	struct rt_buf b;
	struct rt_sdp s;
	const char *why;
	(void)state;

	rt_buf_init(&b);
	rt_sdp_write(&b, &l);
	assert_int_equal(b.err, 0);
	assert_non_null(strstr(b.s, "o=ringtrail 42 3 IN IP4 203.0.113.5\r\n"));
	assert_non_null(strstr(b.s, "m=audio 20002 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(b.s, "a=fmtp:101 0-15\r\n"));
	assert_int_equal(rt_sdp_parse(b.s, b.len, &s, &why), 0);
	assert_string_equal(s.addr, "203.0.113.5");
	assert_int_equal(s.port, 20002);
	assert_int_equal(s.dir, RT_SDP_RECVONLY);
	assert_int_equal(rt_sdp_g711(&s)->pt, 0);
	assert_int_equal(rt_sdp_telev(&s)->pt, 101);
	rt_buf_release(&b);
}

static void test_trunk_parse(void **state)
{
	struct rt_sip_trunk t;
	char err[256];
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	(void)state;

	assert_int_equal(
		rt_sip_trunk_parse("carrier  from=203.0.113.0/24,198.51.100.7,"
				   "2001:db8::/32 country=gb "
				   "proxy=sip:sbc.example.net:5060 "
				   "proxy_user=acct proxy_password=pw",
				   &t, err, sizeof(err)),
		0);
	assert_string_equal(t.name, "carrier");
	assert_int_equal(t.nfrom, 3);
	assert_string_equal(t.country, "GB");
	assert_string_equal(t.proxy, "sip:sbc.example.net:5060");
	assert_string_equal(t.proxy_user, "acct");
	assert_string_equal(t.user, "");

	inet_pton(AF_INET, "203.0.113.200", &in.sin_addr);
	assert_true(rt_sip_trunk_allows(&t, (struct sockaddr *)&in));
	inet_pton(AF_INET, "203.0.114.1", &in.sin_addr);
	assert_false(rt_sip_trunk_allows(&t, (struct sockaddr *)&in));
	inet_pton(AF_INET, "198.51.100.7", &in.sin_addr);
	assert_true(rt_sip_trunk_allows(&t, (struct sockaddr *)&in));
	inet_pton(AF_INET, "198.51.100.8", &in.sin_addr);
	assert_false(rt_sip_trunk_allows(&t, (struct sockaddr *)&in));
	inet_pton(AF_INET6, "2001:db8:1::9", &in6.sin6_addr);
	assert_true(rt_sip_trunk_allows(&t, (struct sockaddr *)&in6));
	/* An IPv4 source seen through an IPv6 socket is still IPv4. */
	inet_pton(AF_INET6, "::ffff:203.0.113.9", &in6.sin6_addr);
	assert_true(rt_sip_trunk_allows(&t, (struct sockaddr *)&in6));
	assert_true(rt_sip_is_loopback((struct sockaddr *)&(
		struct sockaddr_in){.sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(0x7f000002)}));

	/* Credentials alone, default country. */
	assert_int_equal(rt_sip_trunk_parse("pbx user=a password=b", &t, err,
					    sizeof(err)),
			 0);
	assert_string_equal(t.country, "US");
	assert_int_equal(t.nfrom, 0);
}

static void test_trunk_refused(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"", "name"},
		{"bad/name from=1.2.3.4", "name"},
		{"t", "accepts no call"},
		{"t from=", "empty"},
		{"t from=1.2.3.4/33", "bad address"},
		{"t from=example.com", "bad address"},
		{"t from=1.2.3.4 colour=red", "unknown key 'colour'"},
		{"t from=1.2.3.4 user=a", "go together"},
		{"t from=1.2.3.4 country=USA", "country"},
		{"t proxy=sbc.example", "proxy"},
		{"t proxy=sip:u@sbc.example", "proxy"},
		{"t from=1.2.3.4 proxy_user=a proxy_password=b",
		 "needs 'proxy'"},
		{"t from=1.2.3.4 junk", "key=value"},
	};
	struct rt_sip_trunk t;
	char err[256];
	(void)state;

	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		if (rt_sip_trunk_parse(cases[i].text, &t, err, sizeof(err)) !=
		    EINVAL)
			fail_msg("accepted: '%s'", cases[i].text);
		if (!strstr(err, cases[i].want))
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].text,
				 err, cases[i].want);
	}
}

static void test_conf_load(void **state)
{
	static const char text[] = "sip_trunk = \"a from=192.0.2.1\"\n"
				   "sip_trunk = \"\"\n"
				   "sip_trunk = \"b from=192.0.2.2\"\n"
				   "sip_trunk = c user=u password=p\n"
				   "sip_listen = [::1]:5070\n"
				   "sip_rtp_ports = 30000-30099\n";
	struct rt_sip_conf sc;
	struct rt_conf c;
	char err[256];
	(void)state;

	assert_int_equal(rt_conf_init(&c), 0);
	/* Defaults: loopback, no trunk. */
	assert_int_equal(rt_sip_conf_load(&sc, &c, err, sizeof(err)), 0);
	assert_string_equal(sc.listen, "127.0.0.1:5060");
	assert_int_equal(sc.ntrunks, 0);
	assert_true(sc.ring_timeout_ms == 60000);
	assert_int_equal(sc.rtp_min, 20000);
	assert_int_equal(sc.rtp_max, 29999);

	/* Each sip_trunk adds one; an empty value empties the list. */
	assert_int_equal(rt_conf_parse(&c, text, strlen(text), "t.conf", err,
				       sizeof(err)),
			 0);
	assert_int_equal(rt_sip_conf_load(&sc, &c, err, sizeof(err)), 0);
	assert_int_equal(sc.ntrunks, 2);
	assert_string_equal(sc.trunks[0].name, "b");
	assert_string_equal(sc.trunks[1].name, "c");
	assert_int_equal(sc.rtp_min, 30000);

	/* Errors name the key. */
	assert_int_equal(rt_conf_set(&c, "sip_trunk", "b from=192.0.2.3", "x",
				     err, sizeof(err)),
			 0);
	assert_int_equal(rt_sip_conf_load(&sc, &c, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "two trunks are named 'b'"));
	assert_int_equal(rt_conf_set(&c, "sip_trunk", "", "x", err,
				     sizeof(err)),
			 0);
	assert_int_equal(rt_conf_set(&c, "sip_listen", "0.0.0.0:5060", "x", err,
				     sizeof(err)),
			 0);
	assert_int_equal(rt_sip_conf_load(&sc, &c, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "'sip_listen'"));
	assert_int_equal(rt_conf_set(&c, "sip_listen", "127.0.0.1:5060", "x",
				     err, sizeof(err)),
			 0);
	assert_int_equal(rt_conf_set(&c, "sip_rtp_ports", "20001-20099", "x",
				     err, sizeof(err)),
			 0);
	assert_int_equal(rt_sip_conf_load(&sc, &c, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "'sip_rtp_ports'"));
	rt_conf_release(&c);
}

static void test_reasons(void **state)
{
	(void)state;
	assert_string_equal(rt_sip_reason(486), "Busy Here");
	assert_string_equal(rt_sip_reason(299), "");
	/* Every status ua.c refuses requests with has its phrase. */
	assert_string_equal(rt_sip_reason(415), "Unsupported Media Type");
	assert_string_equal(rt_sip_reason(416), "Unsupported URI Scheme");
	assert_string_equal(rt_sip_reason(420), "Bad Extension");
	assert_string_equal(rt_sip_reason(505), "Version Not Supported");
	assert_string_equal(rt_sip_event_name(RT_SIP_EV_ENDED), "ended");
	assert_string_equal(rt_sip_side_name(RT_SIP_SIDE_CALLEE), "callee");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdp_offer),
		cmocka_unit_test(test_sdp_levels_and_hold),
		cmocka_unit_test(test_sdp_refused),
		cmocka_unit_test(test_sdp_write_reads_back),
		cmocka_unit_test(test_trunk_parse),
		cmocka_unit_test(test_trunk_refused),
		cmocka_unit_test(test_conf_load),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
