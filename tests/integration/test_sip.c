/*
 * SIP with real peers: SIPp plays the carrier (UAC) and the business line
 * (UAS) on loopback, through the real `ringtrail serve`.  What a carrier
 * and a business see: ringing relayed, the answer bridged, BYE from either
 * side carried across, CANCEL, busy and decline, no answer (a 2 s ring
 * time-out), unknown numbers, untrusted sources, OPTIONS, media relayed
 * with transcoding and RFC 4733 digits, and broken requests answered with
 * a 4xx while the server keeps serving.
 *
 * Every SIPp run is bounded (its own -timeout and a kill after it); ports
 * are free ones found at run time, so the test runs beside others.  The
 * server's log (its standard error, sent to a file) is read for the call
 * events that the calls store will record later.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sip_peer.h"
#include "util/util.h"

#define SIPP_TIMEOUT_S 25
#define NUM_FWD	       "+13125550100" /* forwarded to the business line */
#define NUM_NODEST     "+13125550101" /* in the inventory, no destination */
#define NUM_UNKNOWN    "+13125550177" /* in nobody's inventory */
#define NUM_POOL       "+13125550102" /* a pool number shown to a visitor */
#define NUM_NOREC      "+13125550103" /* forwarded, calls not recorded */

static struct rt_test_server srv;
static char work[256]; /* scenarios, SIPp's files, the server's log */
static char logpath[320];
static unsigned uas_port;	    /* the business line */
static pid_t peers[4];		    /* SIPp processes running, 0: free slot */
static struct rt_test_server other; /* a second server some tests start */

/* ---- helpers --------------------------------------------------------------
 */

/* tests/data/sip/name with @STATUS@ replaced, written into work/; returns
 * the path written. */
static const char *scenario(const char *name, const char *status)
{
	char src[512], *text, *at;
	static char dst[512];
	FILE *f;

	snprintf(src, sizeof(src), "%s/tests/data/sip/%s", rt_test_source_dir(),
		 name);
	text = rt_peer_read_file(src, NULL);
	if (!text)
		fail_msg("cannot read %s", src);
	while (status && (at = strstr(text, "@STATUS@"))) {
		memcpy(at, status, 3);
		memmove(at + 3, at + 8, strlen(at + 8) + 1);
	}
	snprintf(dst, sizeof(dst), "%s/%s%s%s", work, status ? status : "",
		 status ? "-" : "", name);
	f = fopen(dst, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	return dst;
}

/* Starts SIPp in work/ with argv (NULL-terminated, after "sipp"); its
 * output goes to work/<tag>.out. */
static pid_t sipp_start(const char *tag, const char *const *args)
{
	const char *argv[48];
	char out[400], timeout[16];
	size_t n = 0;
	pid_t parent = getpid(), pid;

	snprintf(timeout, sizeof(timeout), "%ds", SIPP_TIMEOUT_S);
	argv[n++] = "sipp";
	for (size_t i = 0; args[i] && n < 40; i++)
		argv[n++] = args[i];
	argv[n++] = "-nostdin";
	argv[n++] = "-timeout";
	argv[n++] = timeout;
	argv[n++] = "-timeout_error";
	argv[n++] = "-trace_err";
	argv[n++] = "-trace_msg";
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/%s.out", work, tag);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || chdir(work) != 0)
			_exit(127);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp("sipp", (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	for (size_t i = 0; i < RT_ARRAY_SIZE(peers); i++) {
		if (!peers[i]) {
			peers[i] = pid;
			break;
		}
	}
	return pid;
}

static void peer_done(pid_t pid)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(peers); i++) {
		if (peers[i] == pid)
			peers[i] = 0;
	}
}

/* After each test, pass or fail: no SIPp or second server of it is left
 * holding a port. */
static int kill_peers(void **state)
{
	(void)state;
	rt_test_server_stop(&other);
	for (size_t i = 0; i < RT_ARRAY_SIZE(peers); i++) {
		if (peers[i]) {
			kill(peers[i], SIGKILL);
			waitpid(peers[i], NULL, 0);
			peers[i] = 0;
		}
	}
	return 0;
}

/* Waits for SIPp up to its time-out and a little more, then kills it;
 * returns its exit status (-1 when killed). */
static int sipp_wait(pid_t pid)
{
	uint64_t deadline = rt_peer_now_ms() + (SIPP_TIMEOUT_S + 5) * 1000;
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid) {
			peer_done(pid);
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (rt_peer_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			peer_done(pid);
			return -1;
		}
		rt_peer_sleep_ms(20);
	}
}

static void show(const char *tag)
{
	char path[400], *text;

	snprintf(path, sizeof(path), "%s/%s.out", work, tag);
	text = rt_peer_read_file(path, NULL);
	fprintf(stderr, "---- %s ----\n%s\n", tag, text ? text : "(none)");
	free(text);
}

/* Waits until something listens on UDP port (SIPp bound it). */
static void wait_bound(unsigned port)
{
	if (rt_peer_udp_bound(port, 5000))
		return;
	show("uas");
	fail_msg("SIPp did not bind port %u", port);
}

/* The business line on uas_port, in the background: file (a scenario of
 * tests/data/sip) or SIPp's built-in scenario builtin. */
static pid_t uas_start(const char *file, const char *status,
		       const char *builtin, const char *extra)
{
	char p[16], mp[16];
	const char *args[16];
	size_t n = 0;
	pid_t pid;

	snprintf(p, sizeof(p), "%u", uas_port);
	snprintf(mp, sizeof(mp), "%u", rt_peer_free_port(true));
	args[n++] = file ? "-sf" : "-sn";
	args[n++] = file ? scenario(file, status) : builtin;
	args[n++] = "-p";
	args[n++] = p;
	args[n++] = "-mp";
	args[n++] = mp;
	args[n++] = "-i";
	args[n++] = "127.0.0.1";
	args[n++] = "-m";
	args[n++] = "1";
	if (extra)
		args[n++] = extra;
	args[n] = NULL;
	pid = sipp_start("uas", args);
	wait_bound(uas_port);
	return pid;
}

/* The carrier: a UAC scenario (file of tests/data/sip, or a built-in one
 * named in extra) calling number on server s; returns SIPp's status and
 * its Call-ID in call_id ("1-PID@127.0.0.1", for the server's log). */
static pid_t uac_start(const struct rt_test_server *s, const char *file,
		       const char *status, const char *number,
		       const char *const *extra, char *call_id, size_t size)
{
	char target[32], p[16], mp[16], service[32];
	const char *args[32];
	size_t n = 0;
	pid_t pid;

	snprintf(target, sizeof(target), "127.0.0.1:%u", s->sip_port);
	snprintf(p, sizeof(p), "%u", rt_peer_free_port(false));
	snprintf(mp, sizeof(mp), "%u", rt_peer_free_port(true));
	/* SIPp's [service] is the dialled number: the E.164 one without
	 * its '+', as many carriers send it. */
	snprintf(service, sizeof(service), "%s",
		 number[0] == '+' ? number + 1 : number);
	if (file) {
		args[n++] = "-sf";
		args[n++] = scenario(file, status);
	}
	args[n++] = "-s";
	args[n++] = service;
	args[n++] = "-p";
	args[n++] = p;
	args[n++] = "-mp";
	args[n++] = mp;
	args[n++] = "-i";
	args[n++] = "127.0.0.1";
	args[n++] = "-m";
	args[n++] = "1";
	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n++] = target;
	args[n] = NULL;
	pid = sipp_start("uac", args);
	if (call_id)
		snprintf(call_id, size, "1-%d@127.0.0.1", (int)pid);
	return pid;
}

static int uac_run(const struct rt_test_server *s, const char *file,
		   const char *status, const char *number,
		   const char *const *extra, char *call_id, size_t size)
{
	return sipp_wait(
		uac_start(s, file, status, number, extra, call_id, size));
}

/* Waits up to 10 s for a line of the server's log holding every one of
 * the NULL-terminated needles; fails the test without one. */
static void expect_log(const char *const *needles)
{
	uint64_t deadline = rt_peer_now_ms() + 10000;

	do {
		char *log = rt_peer_read_file(logpath, NULL), *l;

		for (l = log; l && *l;) {
			char *end = strchr(l, '\n');
			size_t i;

			if (end)
				*end = '\0';
			for (i = 0; needles[i] && strstr(l, needles[i]); i++)
				;
			if (!needles[i]) {
				free(log);
				return;
			}
			l = end ? end + 1 : NULL;
		}
		free(log);
		rt_peer_sleep_ms(50);
	} while (rt_peer_now_ms() < deadline);
	fail_msg("no line with '%s' '%s' in the server's log", needles[0],
		 needles[1] ? needles[1] : "");
}

/* The server's "call ended" line of a SIP Call-ID, waited for up to 3 s. */
static char *ended_line(const char *call_id)
{
	char needle[160];
	uint64_t deadline = rt_peer_now_ms() + 3000;

	snprintf(needle, sizeof(needle), "sip_call_id=\"%s\"", call_id);
	do {
		char *log = rt_peer_read_file(logpath, NULL), *l;

		for (l = log; l && *l;) {
			char *end = strchr(l, '\n');

			if (end)
				*end = '\0';
			if (strstr(l, "msg=\"call ended\"") &&
			    strstr(l, needle)) {
				char *line = strdup(l);

				free(log);
				return line;
			}
			l = end ? end + 1 : NULL;
		}
		free(log);
		rt_peer_sleep_ms(50);
	} while (rt_peer_now_ms() < deadline);
	fail_msg("no 'call ended' line for %s in the server's log", call_id);
	return NULL;
}

static void expect_ended(const char *call_id, const char *side, unsigned status)
{
	char *line = ended_line(call_id), want[64];

	snprintf(want, sizeof(want), "side=%s status=%u ", side, status);
	if (!strstr(line, want))
		fail_msg("call %s: want '%s' in: %s", call_id, want, line);
	free(line);
}

/* The call record of a SIP Call-ID once it has ended (the call service
 * writes in batches: waited for up to 3 s), with its events; the caller
 * frees it with json_decref. */
static json_t *call_record(struct rt_test_server *s, const char *call_id)
{
	uint64_t deadline = rt_peer_now_ms() + 3000;

	do {
		struct rt_test_resp r;
		json_t *item, *found = NULL;
		size_t i;

		rt_test_api(s, &r, s->key, "GET", "/v1/calls?limit=200", NULL);
		RT_EXPECT_STATUS(&r, 200);
		json_array_foreach (json_object_get(r.json, "data"), i, item) {
			const char *cid = json_string_value(
				json_object_get(item, "sip_call_id"));
			const char *disp = json_string_value(
				json_object_get(item, "disposition"));

			if (cid && strcmp(cid, call_id) == 0 &&
			    strcmp(disp, "in_progress") != 0)
				found = json_integer(json_integer_value(
					json_object_get(item, "id")));
		}
		rt_test_resp_free(&r);
		if (found) {
			json_int_t id = json_integer_value(found);

			json_decref(found);
			rt_test_api(s, &r, s->key, "GET",
				    rt_test_fmt("/v1/calls/%lld",
						(long long)id),
				    NULL);
			RT_EXPECT_STATUS(&r, 200);
			found = json_incref(r.json);
			rt_test_resp_free(&r);
			return found;
		}
		rt_peer_sleep_ms(50);
	} while (rt_peer_now_ms() < deadline);
	fail_msg("no ended call with SIP Call-ID %s in /v1/calls", call_id);
	return NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* The call's record says how it ended and who hung up; its timeline ends
 * with an "ended" event. */
static json_t *expect_record(const char *call_id, const char *disposition,
			     const char *side, unsigned status)
{
	json_t *c = call_record(&srv, call_id),
	       *ev = json_object_get(c, "events");
	const json_t *last = json_array_get(ev, json_array_size(ev) - 1);

	if (strcmp(jstr(c, "disposition"), disposition) != 0 ||
	    strcmp(jstr(c, "hangup_side"), side) != 0 ||
	    json_integer_value(json_object_get(c, "sip_status")) != status)
		fail_msg("call %s: want %s by %s with %u, got %s by %s with "
			 "%lld",
			 call_id, disposition, side, status,
			 jstr(c, "disposition"), jstr(c, "hangup_side"),
			 (long long)json_integer_value(
				 json_object_get(c, "sip_status")));
	assert_string_equal(jstr(json_array_get(ev, 0), "kind"), "invite");
	assert_string_equal(jstr(last, "kind"), "ended");
	return c;
}

static void expect_ok(int rc, const char *tag)
{
	if (rc != 0) {
		show(tag);
		fail_msg("SIPp %s exited with %d", tag, rc);
	}
}

/* ---- fixture --------------------------------------------------------------
 */

static void add_number(const char *number, const char *dest)
{
	struct rt_test_resp r;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    rt_test_fmt("{\"number\":\"%s\",\"kind\":\"offline\","
				"\"campaign\":\"radio\"%s%s%s}",
				number, dest ? ",\"destination\":\"" : "",
				dest ? dest : "", dest ? "\"" : ""));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);
}

/* Starts a server with its standard error in work/name.log. */
static void server_start(struct rt_test_server *s, const char *name,
			 const char *const *args)
{
	int saved, fd;

	snprintf(logpath, sizeof(logpath), "%s/%s.log", work, name);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	rt_test_server_start(s, args, NULL);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (!s->sip_port)
		fail_msg("the server printed no SIP port");
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char rtp[32], pcap[320];
	/* A range of its own for this run's RTP, away from the ephemeral
	 * ports SIPp's media ports are picked from. */
	unsigned base = 20000 + (unsigned)(getpid() % 99) * 100;
	const char *args[] = {"--log-level",
			      "info",
			      "--sip-ring-timeout",
			      "2s",
			      "--sip-min-se",
			      "2s",
			      "--sip-rtp-ports",
			      rtp,
			      NULL};

	(void)state;
	other.out_fd = -1; /* not running: kill_peers may stop it anyway */
	snprintf(rtp, sizeof(rtp), "%u-%u", base, base + 99);
	snprintf(work, sizeof(work), "%s/rt-sip-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(work));
	/* uac_pcap reads its audio from pcap/ under its folder. */
	snprintf(pcap, sizeof(pcap), "%s/pcap", work);
	assert_int_equal(symlink("/usr/share/sip-tester", pcap), 0);
	server_start(&srv, "server", args);
	uas_port = rt_peer_free_port(false);
	add_number(NUM_FWD, rt_test_fmt("sip:biz@127.0.0.1:%u", uas_port));
	add_number(NUM_NODEST, NULL);
	return 0;
}

static int teardown(void **state)
{
	int rc;
	(void)state;

	rc = rt_test_server_stop(&srv);
	if (!getenv("RT_TEST_KEEP"))
		rt_test_rmtree(work);
	return rc;
}

/* ---- calls ------------------------------------------------------------ */

static void test_answered_caller_hangs_up(void **state)
{
	const char *extra[] = {"-d", "500", NULL};
	char cid[64];
	pid_t uas;
	int rc;
	(void)state;

	uas = uas_start("uas_answer.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_call.xml", NULL, NUM_FWD, extra, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "caller", 200);
	/* The record: the caller, the times, the number's own attribution
	 * (an offline number of campaign "radio"). */
	{
		json_t *c = expect_record(cid, "answered", "caller", 200);
		json_t *caller = json_object_get(c, "caller");
		json_t *a = json_object_get(c, "attribution");

		assert_string_equal(jstr(c, "tracking_number"), NUM_FWD);
		assert_string_equal(jstr(caller, "number"), "+14155552671");
		assert_string_equal(jstr(caller, "country"), "US");
		assert_true(jstr(caller, "location")[0] != '\0');
		assert_true(json_real_value(
				    json_object_get(c, "talk_seconds")) >= 0.4);
		assert_true(
			json_is_true(json_object_get(c, "first_time_caller")));
		assert_string_equal(jstr(a, "confidence"), "fixed");
		assert_string_equal(jstr(json_object_get(a, "source"),
					 "campaign"),
				    "radio");
		assert_string_equal(jstr(c, "destination"),
				    rt_test_fmt("sip:biz@127.0.0.1:%u",
						uas_port));
		json_decref(c);
	}
}

/* Early media: the line's 183 with SDP reaches the caller as a 183 with
 * Ringtrail's SDP (the caller's law, PCMU, though the line speaks PCMA). */
static void test_early_media(void **state)
{
	const char *extra[] = {"-d", "200", NULL};
	char cid[64];
	pid_t uas;
	int rc;
	(void)state;

	uas = uas_start("uas_early.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_early.xml", NULL, NUM_FWD, extra, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "caller", 200);
	{
		const char *early[] = {"msg=\"call event\"",
				       "event=early_media", "status=183", NULL};

		expect_log(early);
	}
}

/* The same over TCP from the carrier (the business line stays on UDP). */
static void test_tcp(void **state)
{
	const char *extra[] = {"-t", "t1", "-d", "200", NULL};
	char cid[64];
	pid_t uas;
	int rc;
	(void)state;

	rc = uac_run(&srv, "uac_options.xml", "200", NUM_FWD, extra + 0, NULL,
		     0);
	expect_ok(rc, "uac");
	uas = uas_start("uas_answer.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_call.xml", NULL, NUM_FWD, extra, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "caller", 200);
}

/* A re-INVITE with a=sendonly is hold, a=sendrecv again unhold: events of
 * the caller's side, answered by Ringtrail (recvonly, then sendrecv). */
static void test_hold_and_unhold(void **state)
{
	char cid[64], call[32], *line, *at;
	pid_t uas;
	int rc;
	(void)state;

	uas = uas_start("uas_answer.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_hold.xml", NULL, NUM_FWD, NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "caller", 200);
	/* The events carry the call service's id, on the ended line too. */
	line = ended_line(cid);
	at = strstr(line, " call=");
	assert_non_null(at);
	snprintf(call, sizeof(call), "call=%lld ", strtoll(at + 6, NULL, 10));
	free(line);
	{
		const char *hold[] = {"msg=\"call event\"", call, "event=hold",
				      "side=caller", NULL};
		const char *unhold[] = {"msg=\"call event\"", call,
					"event=unhold", "side=caller", NULL};

		expect_log(hold);
		expect_log(unhold);
	}
}

/*
 * The point of it all: a visitor from a Google Ads click is shown a pool
 * number on the site, then calls it.  The call's record carries the
 * visit: confidence exact, the session, its source and campaign, and the
 * pages seen before calling, landing page first.
 */
static void test_call_attributed_to_visit(void **state)
{
	struct rt_test_resp r;
	char cid[64], site_key[64], sid[32];
	json_t *c, *a, *pages;
	int64_t pool;
	pid_t uas;
	int rc;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "GET", "/v1/me", NULL);
	RT_EXPECT_STATUS(&r, 200);
	snprintf(site_key, sizeof(site_key), "%s",
		 jstr(json_object_get(r.json, "account"), "site_key"));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/pools",
		    "{\"name\":\"Site\",\"swap_targets\":[\"+13125550199\"]}");
	RT_EXPECT_STATUS(&r, 201);
	pool = rt_test_json_id(&r, "id");
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    rt_test_fmt("{\"number\":\"%s\",\"pool_id\":%lld,"
				"\"destination\":\"sip:biz@127.0.0.1:%u\"}",
				NUM_POOL, (long long)pool, uas_port));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);

	/* The visit: a paid click, then one more page. */
	rt_test_api(&srv, &r, NULL, "POST", "/v1/dni/sessions",
		    rt_test_fmt("{\"site_key\":\"%s\",\"landing_url\":"
				"\"https://shop.example/spring?utm_source="
				"google&utm_medium=cpc&utm_campaign=spring&"
				"gclid=abc\",\"title\":\"Spring\"}",
				site_key));
	RT_EXPECT_STATUS(&r, 201);
	assert_non_null(strstr(r.body, NUM_POOL));
	snprintf(sid, sizeof(sid), "%s", jstr(r.json, "session_id"));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, NULL, "POST",
		    rt_test_fmt("/v1/dni/sessions/%s/pageviews", sid),
		    "{\"url\":\"https://shop.example/contact\",\"title\":"
		    "\"Contact\"}");
	RT_EXPECT_STATUS(&r, 204);
	rt_test_resp_free(&r);

	/* The line answers and hangs up (uas_answer checks the display name
	 * of the other number). */
	uas = uas_start("uas_bye.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_wait_bye.xml", NULL, NUM_POOL, NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	c = expect_record(cid, "answered", "callee", 200);
	a = json_object_get(c, "attribution");
	assert_string_equal(jstr(c, "number_kind"), "pool");
	assert_string_equal(jstr(a, "confidence"), "exact");
	assert_string_equal(jstr(a, "session_id"), sid);
	assert_string_equal(jstr(json_object_get(a, "source"), "channel"),
			    "Paid Search");
	assert_string_equal(jstr(json_object_get(a, "source"), "campaign"),
			    "spring");
	assert_string_equal(jstr(json_object_get(json_object_get(a, "source"),
						 "click_ids"),
				 "gclid"),
			    "abc");
	pages = json_object_get(a, "pages");
	assert_int_equal(json_array_size(pages), 2);
	assert_string_equal(jstr(json_array_get(pages, 1), "title"), "Contact");
	json_decref(c);
}

static void test_callee_hangs_up(void **state)
{
	char cid[64];
	pid_t uas;
	int rc;
	(void)state;

	/* National format: read for the trunk's country (US). */
	uas = uas_start("uas_bye.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_wait_bye.xml", NULL, "3125550100", NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "callee", 200);
	json_decref(expect_record(cid, "answered", "callee", 200));
}

/* One answered call to a number; its record. */
/* One call: the business line (a scenario file, or SIPp's built-in uas
 * when NULL) and the carrier's scenario with its extra arguments; both
 * must pass, and the call's record is answered, hung up by side with
 * status. */
static json_t *call_through(const char *uas_file, const char *uac_file,
			    const char *number, const char *const *extra,
			    const char *side, unsigned status)
{
	char cid[64];
	pid_t uas;
	int rc;

	uas = uas_start(uas_file, NULL, uas_file ? NULL : "uas", NULL);
	rc = uac_run(&srv, uac_file, NULL, number, extra, cid, sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	return expect_record(cid, "answered", side, status);
}

/* One answered call to a number, hung up by the line. */
static json_t *answered_call(const char *number)
{
	return call_through("uas_bye.xml", "uac_wait_bye.xml", number, NULL,
			    "callee", 200);
}

/* The per-number switch: off, the call has no recording; on again, the
 * next call has one. */
static void test_recording_switch(void **state)
{
	struct rt_test_resp r;
	json_int_t id;
	json_t *c;
	(void)state;

	rt_test_api(&srv, &r, srv.key, "POST", "/v1/numbers",
		    rt_test_fmt("{\"number\":\"%s\",\"kind\":\"offline\","
				"\"campaign\":\"radio\",\"record_calls\":"
				"false,\"destination\":\"sip:biz@127.0.0.1:"
				"%u\"}",
				NUM_NOREC, uas_port));
	RT_EXPECT_STATUS(&r, 201);
	assert_true(json_is_false(json_object_get(r.json, "record_calls")));
	id = json_integer_value(json_object_get(r.json, "id"));
	rt_test_resp_free(&r);
	c = answered_call(NUM_NOREC);
	assert_true(json_is_null(json_object_get(c, "recording")));
	json_decref(c);

	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/numbers/%lld", (long long)id),
		    "{\"record_calls\":\"yes\"}");
	RT_EXPECT_STATUS(&r, 400);
	assert_non_null(strstr(r.body, "record_calls"));
	rt_test_resp_free(&r);
	rt_test_api(&srv, &r, srv.key, "PATCH",
		    rt_test_fmt("/v1/numbers/%lld", (long long)id),
		    "{\"record_calls\":true}");
	RT_EXPECT_STATUS(&r, 200);
	assert_true(json_is_true(json_object_get(r.json, "record_calls")));
	rt_test_resp_free(&r);
	/* The router reads the change within its reload. */
	rt_peer_sleep_ms(300);
	c = answered_call(NUM_NOREC);
	/* wav while it is written, opus once compacted */
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(c, "recording"), "channels")),
			 2);
	json_decref(c);
}

/* Session timers (RFC 4028): the 200 takes the caller's interval with
 * the caller as refresher; a re-INVITE refreshes; without one the call
 * ends with a BYE to both sides when the interval runs out.  An interval
 * below Min-SE gets 422. */
static void test_session_timer(void **state)
{
	const char *extra[] = {"-key", "se", "3", NULL};
	char cid[64];
	uint64_t t0, took;
	json_t *c;
	pid_t uas;
	int rc;
	(void)state;

	uas = uas_start("uas_answer.xml", NULL, NULL, NULL);
	t0 = rt_peer_now_ms();
	rc = uac_run(&srv, "uac_timer.xml", NULL, NUM_FWD, extra, cid,
		     sizeof(cid));
	took = rt_peer_now_ms() - t0;
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	/* 1 s to the refresh, then 3 s of interval */
	if (took < 3800 || took > 12000)
		fail_msg("the session ended after %llu ms: want about 4 s",
			 (unsigned long long)took);
	c = expect_record(cid, "answered", "system", 408);
	assert_non_null(strstr(jstr(c, "sip_reason"), "session timer"));
	json_decref(c);
	rc = uac_run(&srv, "uac_timer_small.xml", NULL, NUM_FWD, NULL, NULL, 0);
	expect_ok(rc, "uac");
}

/* Media stopped both ways (peers gone without a BYE): the call is ended
 * after sip_rtp_timeout, with a BYE to both. */
static void test_rtp_timeout(void **state)
{
	static const char *const args[] = {"--log-level", "info",
					   "--sip-rtp-timeout", "1s", NULL};
	struct rt_test_resp r;
	char keep_log[320], cid[64];
	uint64_t t0, took;
	json_t *c;
	pid_t uas;
	int rc, rc2;
	(void)state;

	snprintf(keep_log, sizeof(keep_log), "%s", logpath);
	server_start(&other, "rtp-timeout", args);
	rt_test_api(&other, &r, other.key, "POST", "/v1/numbers",
		    rt_test_fmt("{\"number\":\"%s\",\"kind\":\"offline\","
				"\"campaign\":\"radio\",\"destination\":"
				"\"sip:biz@127.0.0.1:%u\"}",
				NUM_FWD, uas_port));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);
	uas = uas_start(NULL, NULL, "uas", NULL); /* answers, waits */
	t0 = rt_peer_now_ms();
	rc = uac_run(&other, "uac_wait_bye.xml", NULL, NUM_FWD, NULL, cid,
		     sizeof(cid));
	took = rt_peer_now_ms() - t0;
	rc2 = sipp_wait(uas);
	c = rc == 0 && rc2 == 0 ? call_record(&other, cid) : NULL;
	snprintf(logpath, sizeof(logpath), "%s", keep_log);
	assert_int_equal(rt_test_server_stop(&other), 0);
	expect_ok(rc, "uac");
	expect_ok(rc2, "uas");
	if (took < 900 || took > 8000)
		fail_msg("the silent call ended after %llu ms: want about 1 s",
			 (unsigned long long)took);
	assert_string_equal(jstr(c, "disposition"), "answered");
	assert_string_equal(jstr(c, "hangup_side"), "system");
	assert_non_null(strstr(jstr(c, "sip_reason"), "no RTP"));
	json_decref(c);
}

/* An anonymous From with the number the carrier asserts (a tel: URI in
 * P-Asserted-Identity): the call's caller is that number, and the
 * business line sees it as the caller id (uas_answer.xml checks). */
static void test_asserted_identity(void **state)
{
	const char *extra[] = {"-d", "300", NULL};
	json_t *c = call_through("uas_answer.xml", "uac_pai.xml", NUM_FWD,
				 extra, "caller", 200);
	(void)state;

	assert_string_equal(jstr(json_object_get(c, "caller"), "number"),
			    "+14155552671");
	json_decref(c);
}

/* Privacy: id: the asserted number is not kept on the call, which is
 * withheld (and so goes to the business line as anonymous). */
static void test_privacy(void **state)
{
	const char *extra[] = {"-d", "300", NULL};
	json_t *c = call_through(NULL, "uac_privacy.xml", NUM_FWD, extra,
				 "caller", 200);
	(void)state;

	assert_true(json_is_null(
		json_object_get(json_object_get(c, "caller"), "number")));
	json_decref(c);
}

static void test_cancel_before_answer(void **state)
{
	char cid[64];
	pid_t uas;
	int rc;
	(void)state;

	uas = uas_start("uas_ring.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_cancel.xml", NULL, NUM_FWD, NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	/* The business line's phone stops ringing: it got a CANCEL. */
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "caller", 487);
	{
		json_t *c = expect_record(cid, "abandoned", "caller", 487);

		assert_true(json_is_null(json_object_get(c, "answered_at")));
		assert_true(json_real_value(
				    json_object_get(c, "talk_seconds")) == 0.0);
		/* The caller called before: not a first-time caller now. */
		assert_true(
			json_is_false(json_object_get(c, "first_time_caller")));
		json_decref(c);
	}
}

static void test_busy_and_decline(void **state)
{
	static const char *const cases[][2] = {{"486", "486"},
					       {"603", "603"},
					       {"600", "486"}};
	(void)state;

	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		char cid[64];
		pid_t uas =
			uas_start("uas_reject.xml", cases[i][0], NULL, NULL);
		int rc = uac_run(&srv, "uac_reject.xml", cases[i][1], NUM_FWD,
				 NULL, cid, sizeof(cid));

		expect_ok(rc, "uac");
		expect_ok(sipp_wait(uas), "uas");
		expect_ended(cid, "callee",
			     (unsigned)strtoul(cases[i][0], NULL, 10));
		json_decref(expect_record(cid, "busy", "callee",
					  (unsigned)strtoul(cases[i][0], NULL,
							    10)));
	}
}

static void test_no_answer(void **state)
{
	char cid[64];
	uint64_t t0 = rt_peer_now_ms(), took;
	pid_t uas;
	int rc;
	(void)state;

	/* The line rings past the ring time-out (2 s): the caller gets 480
	 * and the line a CANCEL. */
	uas = uas_start("uas_ring.xml", NULL, NULL, NULL);
	rc = uac_run(&srv, "uac_reject.xml", "480", NUM_FWD, NULL, cid,
		     sizeof(cid));
	took = rt_peer_now_ms() - t0;
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "system", 480);
	json_decref(expect_record(cid, "no_answer", "system", 480));
	if (took < 1900 || took > 8000)
		fail_msg("no answer took %llu ms (ring time-out 2 s)",
			 (unsigned long long)took);
}

static void test_unknown_and_unrouted(void **state)
{
	char cid[64];
	int rc;
	(void)state;

	rc = uac_run(&srv, "uac_reject.xml", "404", NUM_UNKNOWN, NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	/* In the inventory, but with nowhere to go. */
	rc = uac_run(&srv, "uac_reject.xml", "480", NUM_NODEST, NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ended(cid, "system", 480);
	/* A '+' percent-encoded in the Request-URI is still the number. */
	rc = uac_run(&srv, "uac_reject.xml", "480", "%2B13125550101", NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
	expect_ended(cid, "system", 480);
	/* Not a phone number at all. */
	rc = uac_run(&srv, "uac_reject.xml", "404", "sales", NULL, cid,
		     sizeof(cid));
	expect_ok(rc, "uac");
}

static void test_options(void **state)
{
	int rc;
	(void)state;

	rc = uac_run(&srv, "uac_options.xml", "200", NUM_FWD, NULL, NULL, 0);
	expect_ok(rc, "uac");
}

/* uac_pcap plays G.711 A-law and the digit 1 (RFC 4733); the line, a
 * SIPp UAS that speaks PCMU only, echoes it back: both directions are
 * relayed, transcoded, and the digit is seen. */
/* The mean absolute level of channel ch over [from, to). */
static double chan_level(const int16_t *b, long from, long to, int ch)
{
	double sum = 0;

	for (long i = from; i < to; i++)
		sum += fabs((double)b[i * 2 + ch]);
	return to > from ? sum / (double)(to - from) : 0;
}

/* The lag (in frames, 0 to max) at which the right channel best matches
 * the left over [from, to), and that match's normalised correlation. */
static long echo_lag(const int16_t *b, long from, long to, long max,
		     double *corr)
{
	long best = -1;

	*corr = -1;
	for (long lag = 0; lag <= max; lag += 2) {
		double xy = 0, xx = 0, yy = 0, c;

		for (long i = from; i < to; i++) {
			double x = b[i * 2], y = b[(i + lag) * 2 + 1];

			xy += x * y;
			xx += x * x;
			yy += y * y;
		}
		c = xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
		if (c > *corr) {
			*corr = c;
			best = lag;
		}
	}
	return best;
}

/*
 * The call's recording, once it is compacted: stereo 8 kHz Ogg/Opus as
 * long as the talk, the caller's audio on the left; the right channel is
 * the line's echo of it, so it must match the left within a few
 * milliseconds (the channels are time-aligned).
 */
static void expect_echo_recording(json_t *call)
{
	double talk = json_real_value(json_object_get(call, "talk_seconds"));
	struct rt_peer_wav w;
	json_t *rec;
	long mid, lag;
	double corr;

	rt_peer_recording(&srv, json_integer_value(json_object_get(call, "id")),
			  "opus", rt_test_fmt("%s/echo.opus", work), &w, &rec);
	assert_true(json_is_true(json_object_get(rec, "complete")));
	assert_int_equal(json_integer_value(json_object_get(rec, "channels")),
			 2);
	assert_true(
		fabs(json_real_value(json_object_get(rec, "duration_seconds")) -
		     talk) < 0.5);
	json_decref(rec);
	assert_int_equal(w.channels, 2);
	assert_int_equal(w.rate, 8000);
	assert_true(w.frames > 16000); /* the pcap speaks for seconds */
	mid = (long)w.frames / 2 - 4000;
	assert_true(chan_level(w.s, mid, mid + 8000, 0) > 200);
	assert_true(chan_level(w.s, mid, mid + 8000, 1) > 200);
	lag = echo_lag(w.s, mid, mid + 4000, 1600, &corr);
	if (lag < 0 || lag > 480 || corr < 0.6)
		fail_msg("the right channel should echo the left within 60 "
			 "ms: best lag %ld frames, correlation %.2f",
			 lag, corr);
	rt_peer_wav_free(&w);
}

static void test_media_relayed(void **state)
{
	const char *extra[] = {"-sn", "uac_pcap", NULL};
	char *line, *log, cid[64];
	json_t *call;
	unsigned long long a = 0, b = 0;
	pid_t uas;
	int rc;
	(void)state;

	uas = uas_start(NULL, NULL, "uas", "-rtp_echo");
	rc = uac_run(&srv, NULL, NULL, NUM_FWD, extra, cid, sizeof(cid));
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	line = ended_line(cid);
	if (!strstr(line, "side=caller status=200 ") ||
	    sscanf(strstr(line, "rtp_caller="),
		   "rtp_caller=%llu rtp_callee=%llu", &a, &b) != 2 ||
	    a < 100 || b < 100)
		fail_msg("want RTP relayed both ways: %s", line);
	free(line);
	log = rt_peer_read_file(logpath, NULL);
	assert_non_null(strstr(log, "msg=\"call dtmf\" side=caller digit=1"));
	assert_non_null(strstr(log, "transcoding=yes"));
	free(log);
	call = call_record(&srv, cid);
	expect_echo_recording(call);
	json_decref(call);
}

/* ---- broken requests ------------------------------------------------------
 */

/* Sends len bytes on s (a connected TCP socket) within the deadline; a
 * peer that closes the connection part way is not an error here (the
 * server drops a stream it cannot frame). */
static void tcp_send_all(int s, const char *text, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len && rt_peer_now_ms() < deadline) {
		struct pollfd p = {s, POLLOUT, 0};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = send(s, text + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return;
	}
}

/*
 * Sends text to the server from a fresh socket, over TCP (a connection of
 * its own) or UDP (one datagram); returns the status of the first answer
 * that is not 100, 0 when none comes within ms.  reason gets that
 * answer's reason phrase ("" when none).
 */
static int sip_exchange(bool tcp, const char *text, size_t len, unsigned ms,
			char *reason, size_t rsize)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, me = a;
	int s = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0), status = 0;
	uint64_t deadline = rt_peer_now_ms() + ms;
	static char buf[262144];
	size_t have = 0, scanned = 0;

	reason[0] = '\0';
	a.sin_addr.s_addr = me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)srv.sip_port);
	assert_true(s >= 0);
	if (tcp) {
		assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)),
				 0);
		tcp_send_all(s, text, len, deadline);
	} else {
		assert_int_equal(bind(s, (struct sockaddr *)&me, sizeof(me)),
				 0);
		assert_true(sendto(s, text, len, 0, (struct sockaddr *)&a,
				   sizeof(a)) == (ssize_t)len);
	}
	while (!status && have < sizeof(buf) - 1) {
		struct pollfd p = {s, POLLIN, 0};
		int64_t left = (int64_t)(deadline - rt_peer_now_ms());
		ssize_t n;
		char *end;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		/* A datagram is one answer; a stream is read answer by
		 * answer (they have no body: each ends at an empty line). */
		if (!tcp)
			have = scanned = 0;
		n = recv(s, buf + have, sizeof(buf) - 1 - have, 0);
		if (n <= 0)
			break; /* closed by the server */
		have += (size_t)n;
		buf[have] = '\0';
		while (!status && (end = strstr(buf + scanned, "\r\n\r\n"))) {
			int st = 0, off = 0;

			if (sscanf(buf + scanned, "SIP/2.0 %d %n", &st, &off) ==
				    1 &&
			    st != 100) {
				size_t rl =
					strcspn(buf + scanned + off, "\r\n");

				status = st;
				if (rl >= rsize)
					rl = rsize - 1;
				memcpy(reason, buf + scanned + off, rl);
				reason[rl] = '\0';
			}
			scanned = (size_t)(end + 4 - buf);
			if (!tcp)
				break;
		}
	}
	close(s);
	return status;
}

/* The text of a corpus file with its markers filled in; for TCP, its Via
 * says so.  huge: the letters of @HUGE@. */
static char *corpus_text(const char *path, bool crlf, bool tcp, unsigned seq,
			 size_t huge, size_t *lenp)
{
	size_t rawlen;
	char *raw = rt_peer_read_file(path, &rawlen), *out;
	struct rt_buf b;

	assert_non_null(raw);
	rt_buf_init(&b);
	for (const char *p = raw; p < raw + rawlen; p++) {
		if (strncmp(p, "@PORT@", 6) == 0) {
			rt_buf_printf(&b, "%u", srv.sip_port);
			p += 5;
		} else if (strncmp(p, "@BRANCH@", 8) == 0) {
			rt_buf_printf(&b, "z9hG4bK-corpus-%s-%u-%d",
				      tcp ? "t" : "u", seq, (int)getpid());
			p += 7;
		} else if (strncmp(p, "@HUGE@", 6) == 0) {
			for (size_t i = 0; i < huge; i++)
				rt_buf_puts(&b, "a");
			p += 5;
		} else if (tcp && strncmp(p, "SIP/2.0/UDP ", 12) == 0) {
			rt_buf_puts(&b, "SIP/2.0/TCP ");
			p += 11;
		} else if (*p == '\n' && crlf) {
			rt_buf_puts(&b, "\r\n");
		} else {
			rt_buf_append(&b, p, 1);
		}
	}
	free(raw);
	out = rt_buf_detach(&b, lenp);
	assert_non_null(out);
	/* @LEN@: the length of the body, as it is after the above. */
	{
		char *len_at = strstr(out, "@LEN@"),
		     *body = strstr(out, "\r\n\r\n");
		char num[8];
		int w;

		if (!body)
			body = strstr(out, "\n\n");
		if (len_at && body) {
			size_t bl = *lenp - (size_t)(body - out) -
				    (body[0] == '\r' ? 4 : 2);

			/* The five bytes of @LEN@ hold any body length of
			 * up to five digits, padded with spaces. */
			w = snprintf(num, sizeof(num), "%-5zu", bl);
			assert_int_equal(w, 5);
			memcpy(len_at, num, 5);
		}
	}
	return out;
}

static int options_status(bool tcp, unsigned seq)
{
	char msg[512], reason[128];
	int n = snprintf(msg, sizeof(msg),
			 "OPTIONS sip:ping@127.0.0.1:%u SIP/2.0\r\n"
			 "Via: SIP/2.0/%s 127.0.0.1:9;rport;branch="
			 "z9hG4bK-opt-%s-%u-%d\r\n"
			 "From: <sip:monitor@127.0.0.1>;tag=m%u\r\n"
			 "To: <sip:ping@127.0.0.1>\r\n"
			 "Call-ID: opt-%s-%u-%d@127.0.0.1\r\n"
			 "CSeq: 1 OPTIONS\r\n"
			 "Max-Forwards: 70\r\n"
			 "Content-Length: 0\r\n\r\n",
			 srv.sip_port, tcp ? "TCP" : "UDP", tcp ? "t" : "u",
			 seq, (int)getpid(), seq, tcp ? "t" : "u", seq,
			 (int)getpid());

	return sip_exchange(tcp, msg, (size_t)n, 2000, reason, sizeof(reason));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Over TCP the stream, not the datagram, frames a message: what a wrong
 * Content-Length does there. */
static int tcp_want(const char *name, int want)
{
	static const struct {
		const char *name;
		int want;
	} differs[] = {
		/* The server waits for the 900 bytes announced (libre's
		 * connection time-out ends the wait). */
		{"400-content-length-long.sip", 0},
		/* The first 12 bytes of the SDP are the body (no m= line);
		 * the rest does not parse and closes the connection. */
		{"400-content-length-short.sip", 488},
	};

	for (size_t i = 0; i < RT_ARRAY_SIZE(differs); i++) {
		if (strcmp(name, differs[i].name) == 0)
			return differs[i].want;
	}
	return want;
}

/* A final answer's reason phrase: the status's own phrase first, and for
 * a 400 what was wrong, in parentheses ("Bad Request (no Call-ID)"). */
static void expect_reason(const char *name, bool tcp, int status,
			  const char *reason)
{
	const char *open = strchr(reason, '(');

	if (!reason[0] || reason[0] == ' ' || reason[0] == '(' ||
	    (status == 400 &&
	     (!open || open[1] == ')' || reason[strlen(reason) - 1] != ')')))
		fail_msg("%s over %s: %d with reason phrase '%s': want the "
			 "status's phrase%s",
			 name, tcp ? "TCP" : "UDP", status, reason,
			 status == 400 ? " and what was wrong in parentheses"
				       : "");
}

/* A call that works, from the carrier over transport tcp or not. */
static void expect_call_works(bool tcp)
{
	const char *udp_extra[] = {"-d", "200", NULL};
	const char *tcp_extra[] = {"-t", "t1", "-d", "200", NULL};
	char cid[64];
	pid_t uas = uas_start("uas_answer.xml", NULL, NULL, NULL);
	int rc = uac_run(&srv, "uac_call.xml", NULL, NUM_FWD,
			 tcp ? tcp_extra : udp_extra, cid, sizeof(cid));

	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
	expect_ended(cid, "caller", 200);
}

/* Each file is named STATUS-what.sip (or none-what.sip when no answer
 * can be sent); each is sent over UDP, then over TCP.  After each,
 * OPTIONS over the same transport must still get 200; after all, calls
 * over both must work. */
static void test_malformed_corpus(void **state)
{
	char dir[320];
	struct dirent **names;
	int n, tested = 0;
	(void)state;

	snprintf(dir, sizeof(dir), "%s/tests/data/sip/malformed",
		 rt_test_source_dir());
	n = scandir(dir, &names, NULL, by_name);
	assert_true(n > 0);
	for (int t = 0; t < 2; t++) {
		bool tcp = t == 1;

		for (int i = 0; i < n; i++) {
			const char *name = names[i]->d_name;
			char path[640], reason[256];
			size_t len, nl = strlen(name);
			bool raw = nl > 8 &&
				   strcmp(name + nl - 8, ".raw.sip") == 0;
			int want = 0, got;
			char *text;

			if (nl < 5 || strcmp(name + nl - 4, ".sip") != 0)
				continue;
			if (strncmp(name, "none-", 5) != 0)
				want = (int)strtol(name, NULL, 10);
			if (tcp)
				want = tcp_want(name, want);
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			text = corpus_text(path, !raw, tcp, (unsigned)i, 20000,
					   &len);
			got = sip_exchange(tcp, text, len, want ? 2000 : 500,
					   reason, sizeof(reason));
			free(text);
			if (got != want)
				fail_msg("%s over %s: answered %d (%s), want "
					 "%d",
					 name, tcp ? "TCP" : "UDP", got, reason,
					 want);
			if (got)
				expect_reason(name, tcp, got, reason);
			if (options_status(tcp, (unsigned)i) != 200)
				fail_msg("after %s over %s, OPTIONS got no 200",
					 name, tcp ? "TCP" : "UDP");
			if (!rt_test_server_alive(&srv))
				fail_msg("the server died on %s over %s", name,
					 tcp ? "TCP" : "UDP");
			tested++;
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	assert_true(tested >= 20);
	expect_call_works(false);
	expect_call_works(true);
}

/* Requests far over the 16 KB limit: 513 while the transport can carry
 * them (a datagram of 60 KB, as much on a stream); past the 64 KB that
 * libre buffers for a stream, the connection is closed unanswered.  The
 * server keeps serving both transports. */
static void test_huge_requests(void **state)
{
	static const struct {
		bool tcp;
		size_t huge;
		int want;
	} cases[] = {
		{false, 60000, 513},
		{true, 60000, 513},
		{true, 100000, 0},
		{true, 1000000, 0},
	};
	char path[400];
	(void)state;

	snprintf(path, sizeof(path),
		 "%s/tests/data/sip/malformed/513-huge-header.sip",
		 rt_test_source_dir());
	for (size_t i = 0; i < RT_ARRAY_SIZE(cases); i++) {
		char reason[256], *text;
		size_t len;
		int got;

		text = corpus_text(path, true, cases[i].tcp,
				   (unsigned)(1000 + i), cases[i].huge, &len);
		got = sip_exchange(cases[i].tcp, text, len,
				   cases[i].want ? 5000 : 1000, reason,
				   sizeof(reason));
		free(text);
		if (got != cases[i].want)
			fail_msg("a header of %zu bytes over %s: answered %d "
				 "(%s), want %d",
				 cases[i].huge, cases[i].tcp ? "TCP" : "UDP",
				 got, reason, cases[i].want);
		if (options_status(false, (unsigned)(1000 + i)) != 200 ||
		    options_status(true, (unsigned)(1000 + i)) != 200)
			fail_msg("after a header of %zu bytes, OPTIONS got no "
				 "200",
				 cases[i].huge);
	}
	expect_call_works(false);
}

/* One request over TLS with openssl's client; the code of its first final
 * answer, 0 for none. */
static int tls_exchange(unsigned port, const char *request)
{
	char req[400], cmd[600], *answer = NULL;
	FILE *p;
	size_t len = 0;
	int status = 0;

	snprintf(req, sizeof(req), "%s/tls-request.txt", work);
	p = fopen(req, "w");
	assert_non_null(p);
	fputs(request, p);
	fclose(p);
	/* The sleep keeps the connection open for the answer. */
	snprintf(cmd, sizeof(cmd),
		 "(cat '%s'; sleep 2) | timeout 10 openssl s_client -connect "
		 "127.0.0.1:%u -quiet 2>/dev/null",
		 req, port);
	p = popen(cmd, "r");
	assert_non_null(p);
	/* The first final answer (an INVITE gets 100 Trying first). */
	while (getdelim(&answer, &len, '\n', p) > 0) {
		if (sscanf(answer, "SIP/2.0 %d", &status) == 1 && status != 100)
			break;
		status = 0;
	}
	free(answer);
	pclose(p);
	return status;
}

/* SIP over TLS with a configured certificate: OPTIONS and an INVITE are
 * answered over it; a file that holds no certificate stops serve with a
 * message naming the key. */
static void test_tls(void **state)
{
	char pem[400], cmd[900], port[8], *err = NULL;
	const char *args[] = {"--log-level", "info",	       "--sip-tls-cert",
			      pem,	     "--sip-tls-port", port,
			      NULL};
	const char *bad[] = {"serve",	    "--db",
			     pem,	    "--sip-listen",
			     "127.0.0.1:0", "--listen",
			     "127.0.0.1:0", "--sip-tls-cert",
			     cmd,	    NULL};
	unsigned tls_port = rt_peer_free_port(false);
	char keep_log[320];
	int rc;
	(void)state;

	snprintf(pem, sizeof(pem), "%s/tls.pem", work);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -subj "
		 "/CN=localhost -keyout k.pem -out c.pem -days 1 2>/dev/null "
		 "&& cat c.pem k.pem > tls.pem",
		 work);
	assert_int_equal(system(cmd), 0);
	snprintf(port, sizeof(port), "%u", tls_port);
	snprintf(keep_log, sizeof(keep_log), "%s", logpath);
	server_start(&other, "tls", args);
	rc = tls_exchange(
		tls_port,
		rt_test_fmt("OPTIONS sip:ping@127.0.0.1:%u SIP/2.0\r\n"
			    "Via: SIP/2.0/TLS 127.0.0.1:9;branch="
			    "z9hG4bK-tls-o\r\n"
			    "From: <sip:m@127.0.0.1>;tag=t1\r\n"
			    "To: <sip:ping@127.0.0.1>\r\n"
			    "Call-ID: tls-o@127.0.0.1\r\n"
			    "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
			    "Content-Length: 0\r\n\r\n",
			    tls_port));
	if (rc == 200)
		rc = tls_exchange(
			tls_port,
			rt_test_fmt(
				"INVITE sip:%s@127.0.0.1:%u SIP/2.0\r\n"
				"Via: SIP/2.0/TLS 127.0.0.1:9;branch="
				"z9hG4bK-tls-i\r\n"
				"From: <sip:+13125550199@127.0.0.1>;tag=t2\r\n"
				"To: <sip:%s@127.0.0.1>\r\n"
				"Call-ID: tls-i@127.0.0.1\r\n"
				"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
				"Contact: <sip:c@127.0.0.1:9;transport=tls>"
				"\r\nContent-Length: 0\r\n\r\n",
				NUM_UNKNOWN, tls_port, NUM_UNKNOWN));
	snprintf(logpath, sizeof(logpath), "%s", keep_log);
	assert_int_equal(rt_test_server_stop(&other), 0);
	if (rc != 404)
		fail_msg("over TLS: want OPTIONS 200 then INVITE 404, got %d",
			 rc);

	/* Not a certificate: a usage error that names the key. */
	snprintf(cmd, sizeof(cmd), "%s/c.pem.not", work);
	rc = system(rt_test_fmt("echo 'not a certificate' > '%s'", cmd));
	assert_int_equal(rc, 0);
	snprintf(pem, sizeof(pem), "%s/bad.db", work);
	rc = rt_test_cli(bad + 0, NULL, NULL, NULL, &err);
	assert_int_equal(rc, 2);
	assert_non_null(strstr(err, "sip_tls_cert"));
	free(err);
}

/* A trunk that allows only another address: loopback is refused with 403,
 * calls and health checks alike, over UDP and TCP. */
static void test_untrusted_source(void **state)
{
	static const char *const args[] =
		{"--log-level", "info", "--sip-trunk",
		 "carrier from=192.0.2.0/24 country=US", NULL};
	const char *tcp[] = {"-t", "t1", NULL};
	char keep_log[320];
	int rc;
	(void)state;

	snprintf(keep_log, sizeof(keep_log), "%s", logpath);
	server_start(&other, "untrusted", args);
	rc = uac_run(&other, "uac_options.xml", "403", NUM_FWD, NULL, NULL, 0);
	if (rc == 0)
		rc = uac_run(&other, "uac_reject.xml", "403", NUM_FWD, NULL,
			     NULL, 0);
	if (rc == 0)
		rc = uac_run(&other, "uac_reject.xml", "403", NUM_FWD, tcp,
			     NULL, 0);
	snprintf(logpath, sizeof(logpath), "%s", keep_log);
	assert_int_equal(rt_test_server_stop(&other), 0);
	expect_ok(rc, "uac");
}

/* A trunk that any address may use by proving its digest credentials:
 * challenged without them, 200 with them, 403 with a wrong password. */
static void test_digest_trunk(void **state)
{
	static const char *const args[] =
		{"--log-level", "info", "--sip-trunk",
		 "pbx user=carrier password=s3cret country=GB", NULL};
	const char *good[] = {"-au", "carrier", "-ap", "s3cret", NULL};
	const char *bad[] = {"-au", "carrier", "-ap", "guess", NULL};
	char keep_log[320];
	int rc;
	(void)state;

	snprintf(keep_log, sizeof(keep_log), "%s", logpath);
	server_start(&other, "digest", args);
	rc = uac_run(&other, "uac_options.xml", "401", NUM_FWD, NULL, NULL, 0);
	if (rc == 0)
		rc = uac_run(&other, "uac_options_auth.xml", "200", NUM_FWD,
			     good, NULL, 0);
	if (rc == 0)
		rc = uac_run(&other, "uac_options_auth.xml", "403", NUM_FWD,
			     bad, NULL, 0);
	snprintf(logpath, sizeof(logpath), "%s", keep_log);
	assert_int_equal(rt_test_server_stop(&other), 0);
	expect_ok(rc, "uac");
}

/* A number whose destination is a phone number goes out through the
 * trunk's proxy as sip:+E164@proxy, answering its challenge with the
 * trunk's proxy credentials. */
static void test_outbound_proxy(void **state)
{
	const char *args[] = {"--log-level", "info", "--sip-trunk", NULL, NULL};
	const char *extra[] = {"-d", "200", NULL};
	struct rt_test_server keep = srv;
	char keep_log[320], trunk[200], cid[64];
	pid_t uas;
	int rc;
	(void)state;

	snprintf(trunk, sizeof(trunk),
		 "carrier from=127.0.0.0/8 proxy=sip:127.0.0.1:%u "
		 "proxy_user=acct proxy_password=pw",
		 uas_port);
	args[3] = trunk;
	snprintf(keep_log, sizeof(keep_log), "%s", logpath);
	server_start(&other, "proxy", args);
	srv = other; /* add_number talks to srv */
	add_number(NUM_FWD, "+1 415 555 0123");
	srv = keep;
	uas = uas_start("uas_proxy.xml", NULL, NULL, NULL);
	rc = uac_run(&other, "uac_call.xml", NULL, NUM_FWD, extra, cid,
		     sizeof(cid));
	if (rc == 0)
		expect_ended(cid, "caller", 200);
	snprintf(logpath, sizeof(logpath), "%s", keep_log);
	assert_int_equal(rt_test_server_stop(&other), 0);
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
}

/* SIGTERM with a call ringing: the business line gets a CANCEL, the
 * caller 503, and the server still exits 0. */
static void test_stop_ends_calls(void **state)
{
	static const char *const args[] = {"--log-level", "info", NULL};
	const char *ringing[] = {"msg=\"call ringing\"", NULL};
	char keep_log[320];
	pid_t uas, uac;
	int rc;
	(void)state;

	snprintf(keep_log, sizeof(keep_log), "%s", logpath);
	server_start(&other, "stopped", args);
	{
		struct rt_test_server keep = srv;

		srv = other; /* add_number talks to srv */
		add_number(NUM_FWD,
			   rt_test_fmt("sip:biz@127.0.0.1:%u", uas_port));
		srv = keep;
	}
	/* The new number reaches the router through the API's commit. */
	uas = uas_start("uas_ring.xml", NULL, NULL, NULL);
	uac = uac_start(&other, "uac_reject.xml", "503", NUM_FWD, NULL, NULL,
			0);
	expect_log(ringing);
	assert_int_equal(rt_test_server_stop(&other), 0);
	snprintf(logpath, sizeof(logpath), "%s", keep_log);
	rc = sipp_wait(uac);
	expect_ok(rc, "uac");
	expect_ok(sipp_wait(uas), "uas");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_options, kill_peers),
		cmocka_unit_test_teardown(test_answered_caller_hangs_up,
					  kill_peers),
		cmocka_unit_test_teardown(test_callee_hangs_up, kill_peers),
		cmocka_unit_test_teardown(test_call_attributed_to_visit,
					  kill_peers),
		cmocka_unit_test_teardown(test_cancel_before_answer,
					  kill_peers),
		cmocka_unit_test_teardown(test_busy_and_decline, kill_peers),
		cmocka_unit_test_teardown(test_no_answer, kill_peers),
		cmocka_unit_test_teardown(test_unknown_and_unrouted,
					  kill_peers),
		cmocka_unit_test_teardown(test_media_relayed, kill_peers),
		cmocka_unit_test_teardown(test_recording_switch, kill_peers),
		cmocka_unit_test_teardown(test_session_timer, kill_peers),
		cmocka_unit_test_teardown(test_rtp_timeout, kill_peers),
		cmocka_unit_test_teardown(test_asserted_identity, kill_peers),
		cmocka_unit_test_teardown(test_privacy, kill_peers),
		cmocka_unit_test_teardown(test_malformed_corpus, kill_peers),
		cmocka_unit_test_teardown(test_huge_requests, kill_peers),
		cmocka_unit_test_teardown(test_untrusted_source, kill_peers),
		cmocka_unit_test_teardown(test_tls, kill_peers),
		cmocka_unit_test_teardown(test_digest_trunk, kill_peers),
		cmocka_unit_test_teardown(test_early_media, kill_peers),
		cmocka_unit_test_teardown(test_tcp, kill_peers),
		cmocka_unit_test_teardown(test_hold_and_unhold, kill_peers),
		cmocka_unit_test_teardown(test_outbound_proxy, kill_peers),
		cmocka_unit_test_teardown(test_stop_ends_calls, kill_peers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
