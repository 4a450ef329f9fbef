/* SIP peers for the integration tests: see sip_peer.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
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

#include <sndfile.h>

#include "sip_peer.h"
#include "util/util.h"

#define PHONE_READY_MS 15000
#define PHONE_STOP_MS  5000

static char work[256];	/* "" before rt_peer_setup */
static pid_t peers[16]; /* children running, 0: free slot */

uint64_t rt_peer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void rt_peer_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

char *rt_peer_read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 > cap) {
			char *t;

			cap = cap ? cap * 2 : 65536;
			t = realloc(buf, cap + 1);
			if (!t) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = t;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fail_msg("cannot write %s: %s", path, strerror(errno));
}

/* ---- the work folder ----------------------------------------------------- */

void rt_peer_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(work, sizeof(work), "%s/rt-peer-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(work))
		fail_msg("mkdtemp %s: %s", work, strerror(errno));
	if (symlink("/usr/share/sip-tester", rt_peer_path("pcap")) != 0)
		fail_msg("symlink pcap: %s", strerror(errno));
}

void rt_peer_teardown(void)
{
	rt_peer_kill_all();
	if (work[0] && !getenv("RT_TEST_KEEP"))
		rt_test_rmtree(work);
	else if (work[0])
		fprintf(stderr, "kept %s\n", work);
	work[0] = '\0';
}

const char *rt_peer_path(const char *name)
{
	return rt_test_fmt("%s/%s", work, name);
}

const char *rt_peer_data(const char *name)
{
	return rt_test_fmt("%s/tests/data/sip/%s", rt_test_source_dir(), name);
}

unsigned rt_peer_free_port(bool pair)
{
	for (int tries = 0; tries < 200; tries++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t len = sizeof(a);
		int u = socket(AF_INET, SOCK_DGRAM, 0), ok = 1;
		unsigned port;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(u, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(u, (struct sockaddr *)&a, &len) != 0) {
			close(u);
			continue;
		}
		port = ntohs(a.sin_port);
		close(u);
		if (pair)
			port &= ~1u;
		for (unsigned p = port; p <= port + (pair ? 3 : 0); p++) {
			int s = socket(AF_INET, SOCK_DGRAM, 0);
			int t = socket(AF_INET, SOCK_STREAM, 0);

			a.sin_port = htons((uint16_t)p);
			if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
			    bind(t, (struct sockaddr *)&a, sizeof(a)) != 0)
				ok = 0;
			close(s);
			close(t);
		}
		if (ok && port > 1024 && port < 65000)
			return port;
	}
	fail_msg("no free port");
	return 0;
}

unsigned rt_peer_rtp_base(void)
{
	return 20000 + (unsigned)(getpid() % 99) * 100;
}

/* ---- children ------------------------------------------------------------ */

static void remember(pid_t pid)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(peers); i++) {
		if (!peers[i]) {
			peers[i] = pid;
			return;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("more than %zu peers at once", RT_ARRAY_SIZE(peers));
}

static void forget(pid_t pid)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(peers); i++) {
		if (peers[i] == pid)
			peers[i] = 0;
	}
}

/* Runs argv in the work folder, output to work/<tag>.out; it dies with
 * the test, whatever kills the test. */
static pid_t spawn(const char *tag, const char *const *argv)
{
	char out[400];
	pid_t parent = getpid(), pid;

	snprintf(out, sizeof(out), "%s/%s.out", work, tag);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
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
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	remember(pid);
	return pid;
}

pid_t rt_peer_sipp(const char *tag, unsigned timeout_s, const char *const *args)
{
	const char *argv[48];
	char timeout[16];
	size_t n = 0;

	snprintf(timeout, sizeof(timeout), "%us", timeout_s);
	argv[n++] = "sipp";
	for (size_t i = 0; args[i]; i++) {
		if (n >= RT_ARRAY_SIZE(argv) - 8)
			fail_msg("too many SIPp arguments");
		argv[n++] = args[i];
	}
	argv[n++] = "-nostdin";
	argv[n++] = "-timeout";
	argv[n++] = timeout;
	argv[n++] = "-timeout_error";
	argv[n++] = "-trace_err";
	argv[n] = NULL;
	return spawn(tag, argv);
}

int rt_peer_wait(pid_t pid, unsigned ms)
{
	uint64_t deadline = rt_peer_now_ms() + ms;
	int st;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid) {
			forget(pid);
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		if (w < 0 || rt_peer_now_ms() >= deadline) {
			rt_peer_kill(pid);
			return -1;
		}
		rt_peer_sleep_ms(20);
	}
}

void rt_peer_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	forget(pid);
}

void rt_peer_kill_all(void)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(peers); i++)
		rt_peer_kill(peers[i]);
}

void rt_peer_show(const char *tag)
{
	char *text = rt_peer_read_file(rt_peer_path(rt_test_fmt("%s.out", tag)),
				       NULL);

	fprintf(stderr, "---- %s ----\n%s\n", tag, text ? text : "(none)");
	free(text);
}

bool rt_peer_udp_bound(unsigned port, unsigned ms)
{
	uint64_t deadline = rt_peer_now_ms() + ms;

	while (rt_peer_now_ms() < deadline) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)port)};
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		int taken;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		taken = bind(s, (struct sockaddr *)&a, sizeof(a)) != 0;
		close(s);
		if (taken)
			return true;
		rt_peer_sleep_ms(20);
	}
	return false;
}

void rt_peer_wait_bound(unsigned port, const char *tag)
{
	if (rt_peer_udp_bound(port, 10000))
		return;
	rt_peer_show(tag);
	fail_msg("%s did not bind UDP port %u within 10 s", tag, port);
}

/* ---- the server ------------------------------------------------------- */

/* Runs start with standard error appended to work/<log>.log. */
static void with_log(const char *log, struct rt_test_server *s, bool restart,
		     int sig, const char *const *args)
{
	int saved, fd;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(rt_peer_path(rt_test_fmt("%s.log", log)),
		  O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (saved < 0 || fd < 0)
		fail_msg("cannot open the server's log: %s", strerror(errno));
	dup2(fd, STDERR_FILENO);
	close(fd);
	if (restart)
		rt_test_server_restart(s, sig, args, NULL);
	else
		rt_test_server_start(s, args, NULL);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (!s->sip_port)
		fail_msg("the server printed no SIP port");
}

void rt_peer_server_start(struct rt_test_server *s, const char *log,
			  const char *const *args)
{
	with_log(log, s, false, 0, args);
}

/* The arguments of rt_peer_begin's server, for rt_peer_restart. */
static char peer_rtp[32];
static const char *const peer_args[] = {"--log-level", "info",
					"--sip-rtp-ports", peer_rtp, NULL};

void rt_peer_begin(struct rt_test_server *s, unsigned nports)
{
	unsigned base = rt_peer_rtp_base();

	snprintf(peer_rtp, sizeof(peer_rtp), "%u-%u", base, base + nports - 1);
	rt_peer_setup();
	rt_peer_server_start(s, "server", peer_args);
}

void rt_peer_restart(struct rt_test_server *s, int sig)
{
	rt_peer_server_restart(s, "server", sig, peer_args);
}

int rt_peer_end(struct rt_test_server *s)
{
	int rc;

	rt_peer_kill_all();
	rc = rt_test_server_stop(s);
	rt_peer_teardown();
	return rc;
}

void rt_peer_server_restart(struct rt_test_server *s, const char *log, int sig,
			    const char *const *args)
{
	with_log(log, s, true, sig, args);
}

bool rt_peer_log_wait(const char *log, const char *const *needles, unsigned ms)
{
	uint64_t deadline = rt_peer_now_ms() + ms;
	const char *path = rt_peer_path(rt_test_fmt("%s.log", log));

	do {
		char *text = rt_peer_read_file(path, NULL), *l;

		for (l = text; l && *l;) {
			char *end = strchr(l, '\n');
			size_t i;

			if (end)
				*end = '\0';
			for (i = 0; needles[i] && strstr(l, needles[i]); i++)
				;
			if (!needles[i]) {
				free(text);
				return true;
			}
			l = end ? end + 1 : NULL;
		}
		free(text);
		rt_peer_sleep_ms(50);
	} while (rt_peer_now_ms() < deadline);
	return false;
}

void rt_peer_add_number(struct rt_test_server *s, const char *number,
			const char *dest)
{
	struct rt_test_resp r;

	rt_test_api(s, &r, s->key, "POST", "/v1/numbers",
		    rt_test_fmt("{\"number\":\"%s\",\"kind\":\"offline\","
				"\"campaign\":\"radio\",\"destination\":"
				"\"%s\"}",
				number, dest));
	RT_EXPECT_STATUS(&r, 201);
	rt_test_resp_free(&r);
}

void rt_peer_recording(struct rt_test_server *s, json_int_t id, const char *fmt,
		       const char *path, struct rt_peer_wav *w, json_t **recp)
{
	uint64_t deadline = rt_peer_now_ms() + 30000;
	struct rt_test_resp r;
	SF_INFO info = {0};
	char file[512];
	json_t *rec;
	SNDFILE *f;
	FILE *out;

	/* A copy: path may be in one of rt_test_fmt's reused buffers. */
	snprintf(file, sizeof(file), "%s", path);
	for (;;) {
		rt_test_api(s, &r, s->key, "GET",
			    rt_test_fmt("/v1/calls/%lld", (long long)id), NULL);
		RT_EXPECT_STATUS(&r, 200);
		rec = json_incref(json_object_get(r.json, "recording"));
		rt_test_resp_free(&r);
		if (strcmp(rt_peer_jstr(rec, "format"), fmt) == 0)
			break;
		json_decref(rec);
		if (rt_peer_now_ms() > deadline)
			fail_msg("call %lld: no %s recording within 30 s",
				 (long long)id, fmt);
		usleep(100 * 1000);
	}
	rt_test_api(s, &r, s->key, "GET", rt_peer_jstr(rec, "url"), NULL);
	RT_EXPECT_STATUS(&r, 200);
	assert_int_equal((long long)r.len,
			 (long long)json_integer_value(
				 json_object_get(rec, "bytes")));
	assert_non_null(strstr(r.headers, strcmp(fmt, "opus") == 0
						  ? "Content-Type: audio/ogg"
						  : "Content-Type: audio/wav"));
	out = fopen(file, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(r.body, 1, r.len, out), r.len);
	fclose(out);
	rt_test_resp_free(&r);
	f = sf_open(file, SFM_READ, &info);
	if (!f)
		fail_msg("libsndfile cannot read the recording of call %lld: "
			 "%s",
			 (long long)id, sf_strerror(NULL));
	memset(w, 0, sizeof(*w));
	w->rate = (unsigned)info.samplerate;
	w->channels = (unsigned)info.channels;
	w->frames = (size_t)info.frames;
	w->s = calloc(w->frames * w->channels + 1, sizeof(*w->s));
	assert_non_null(w->s);
	assert_int_equal(sf_readf_short(f, w->s, info.frames), info.frames);
	sf_close(f);
	*recp = rec;
}

const char *rt_peer_jstr(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

const json_t *rt_peer_event(const json_t *call, const char *kind)
{
	const json_t *ev, *found = NULL;
	size_t i;

	json_array_foreach (json_object_get(call, "events"), i, ev) {
		if (strcmp(rt_peer_jstr(ev, "kind"), kind) == 0)
			found = json_object_get(ev, "detail");
	}
	return found;
}

json_t *rt_peer_call(struct rt_test_server *s, const char *call_id, bool ended,
		     unsigned ms)
{
	uint64_t deadline = rt_peer_now_ms() + ms;

	do {
		struct rt_test_resp r;
		json_int_t id = 0;
		json_t *item;
		size_t i;

		rt_test_api(s, &r, s->key, "GET", "/v1/calls?limit=200", NULL);
		RT_EXPECT_STATUS(&r, 200);
		json_array_foreach (json_object_get(r.json, "data"), i, item) {
			if (strcmp(rt_peer_jstr(item, "sip_call_id"),
				   call_id) == 0 &&
			    (!ended || strcmp(rt_peer_jstr(item, "disposition"),
					      "in_progress") != 0))
				id = json_integer_value(
					json_object_get(item, "id"));
		}
		rt_test_resp_free(&r);
		if (id) {
			json_t *c;

			rt_test_api(s, &r, s->key, "GET",
				    rt_test_fmt("/v1/calls/%lld",
						(long long)id),
				    NULL);
			RT_EXPECT_STATUS(&r, 200);
			c = json_incref(r.json);
			rt_test_resp_free(&r);
			return c;
		}
		rt_peer_sleep_ms(50);
	} while (rt_peer_now_ms() < deadline);
	return NULL;
}

/* ---- baresip --------------------------------------------------------------
 */

/* One start of baresip on fresh ports; false when it exited because a
 * port was taken and retry allows another try (else the test fails). */
static bool phone_try(struct rt_peer_phone *p, const char *name,
		      const char *prompt, const char *codecs, unsigned rtp_min,
		      unsigned rtp_max, bool retry)
{
	const char *argv[] = {"baresip", "-4", "-f", NULL, "-t", "300", NULL};
	uint64_t deadline;
	struct rt_buf b;
	char *text;
	size_t len;

	p->sip_port = rt_peer_free_port(true);
	snprintf(p->uri, sizeof(p->uri), "sip:agent@127.0.0.1:%u", p->sip_port);
	/* Audio from a file, to an audio bridge that plays nowhere; sndfile
	 * records both directions; no console, no sound card. */
	rt_buf_init(&b);
	rt_buf_printf(&b,
		      "poll_method epoll\n"
		      "net_interface 127.0.0.1\n"
		      "sip_listen 127.0.0.1:%u\n"
		      "rtp_ports %u-%u\n"
		      "audio_source aufile,%s\n"
		      "audio_player aubridge,play\n"
		      "audio_alert aubridge,alert\n"
		      "snd_path %s/snd\n"
		      "module_path /usr/lib/baresip/modules\n"
		      "module g711.so\n"
		      "module aufile.so\n"
		      "module aubridge.so\n"
		      "module sndfile.so\n"
		      "module_app account.so\n",
		      p->sip_port, rtp_min, rtp_max, prompt, p->dir);
	text = rt_buf_detach(&b, &len);
	assert_non_null(text);
	write_file(rt_test_fmt("%s/config", p->dir), text, len);
	free(text);
	rt_buf_init(&b);
	rt_buf_printf(&b, "<%s>;regint=0;answermode=auto%s%s\n", p->uri,
		      codecs ? ";audio_codecs=" : "", codecs ? codecs : "");
	text = rt_buf_detach(&b, &len);
	assert_non_null(text);
	write_file(rt_test_fmt("%s/accounts", p->dir), text, len);
	free(text);

	argv[3] = p->dir;
	p->pid = spawn(name, argv);
	deadline = rt_peer_now_ms() + PHONE_READY_MS;
	for (;;) {
		char *out = rt_peer_read_file(rt_peer_path(rt_test_fmt("%s.out",
								       name)),
					      NULL);
		bool ready = out && strstr(out, "baresip is ready");
		bool taken = out && strstr(out, "Address already in use");
		int st;

		free(out);
		if (ready)
			return true;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			forget(p->pid);
			p->pid = 0;
			if (taken && retry)
				return false;
			rt_peer_show(name);
			fail_msg("baresip exited before it was ready");
		}
		if (rt_peer_now_ms() >= deadline) {
			rt_peer_show(name);
			fail_msg("baresip was not ready within %d s",
				 PHONE_READY_MS / 1000);
		}
		rt_peer_sleep_ms(50);
	}
}

void rt_peer_phone_start(struct rt_peer_phone *p, const char *name,
			 const char *prompt, const char *codecs,
			 unsigned rtp_min, unsigned rtp_max)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s/%s", work, name);
	if (mkdir(p->dir, 0755) != 0 ||
	    mkdir(rt_test_fmt("%s/snd", p->dir), 0755) != 0)
		fail_msg("mkdir %s: %s", p->dir, strerror(errno));
	/* baresip also listens for TLS on the port above its SIP port:
	 * both must be free, and another process may take one between the
	 * check and baresip's bind, so a start that finds it taken is tried
	 * again on other ports. */
	for (int attempt = 0;; attempt++) {
		if (phone_try(p, name, prompt, codecs, rtp_min, rtp_max,
			      attempt < 2))
			break;
	}
	rt_peer_wait_bound(p->sip_port, name);
}

void rt_peer_phone_stop(struct rt_peer_phone *p)
{
	uint64_t deadline = rt_peer_now_ms() + PHONE_STOP_MS;

	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	while (waitpid(p->pid, NULL, WNOHANG) == 0) {
		if (rt_peer_now_ms() >= deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
			break;
		}
		rt_peer_sleep_ms(20);
	}
	forget(p->pid);
	p->pid = 0;
}

bool rt_peer_phone_recording(const struct rt_peer_phone *p, bool heard,
			     char *path, size_t size)
{
	/* sndfile: dump-<time>-dec.wav is what was decoded (heard),
	 * -enc.wav what was encoded (sent). */
	const char *want = heard ? "-dec.wav" : "-enc.wav";
	const char *snd = rt_test_fmt("%s/snd", p->dir);
	DIR *d = opendir(snd);
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		size_t nl = strlen(e->d_name), wl = strlen(want);

		if (nl > wl && strcmp(e->d_name + nl - wl, want) == 0) {
			snprintf(path, size, "%s/%s", snd, e->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* ---- audio --------------------------------------------------------------- */

#define TONE_RATE 8000
#define TONE_AMP  8000.0

static int16_t tone_sample(unsigned hz, size_t i)
{
	return (int16_t)lrint(TONE_AMP *
			      sin(2.0 * M_PI * hz * (double)i / TONE_RATE));
}

/* G.711 u-law of a 16-bit sample. */
static uint8_t ulaw(int16_t sample)
{
	int v = sample, sign = 0, exp = 7;

	if (v < 0) {
		v = -v;
		sign = 0x80;
	}
	if (v > 32635)
		v = 32635;
	v += 0x84;
	for (int mask = 0x4000; exp > 0 && !(v & mask); mask >>= 1)
		exp--;
	return (uint8_t) ~(sign | (exp << 4) | ((v >> (exp + 3)) & 0x0f));
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

void rt_peer_tone_wav(const char *path, unsigned hz, unsigned seconds)
{
	size_t n = (size_t)TONE_RATE * seconds, len = 44 + 2 * n;
	uint8_t *w = malloc(len);

	assert_non_null(w);
	memcpy(w, "RIFF", 4);
	put32(w + 4, (uint32_t)(len - 8));
	memcpy(w + 8, "WAVEfmt ", 8);
	put32(w + 16, 16);
	put16(w + 20, 1); /* PCM */
	put16(w + 22, 1); /* mono */
	put32(w + 24, TONE_RATE);
	put32(w + 28, TONE_RATE * 2);
	put16(w + 32, 2);
	put16(w + 34, 16);
	memcpy(w + 36, "data", 4);
	put32(w + 40, (uint32_t)(2 * n));
	for (size_t i = 0; i < n; i++)
		put16(w + 44 + 2 * i, (uint16_t)tone_sample(hz, i));
	write_file(path, w, len);
	free(w);
}

void rt_peer_tone_ulaw(const char *path, unsigned hz, unsigned seconds)
{
	size_t n = (size_t)TONE_RATE * seconds;
	uint8_t *u = malloc(n);

	assert_non_null(u);
	for (size_t i = 0; i < n; i++)
		u[i] = ulaw(tone_sample(hz, i));
	write_file(path, u, n);
	free(u);
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

int rt_peer_wav_parse(const void *data, size_t len, struct rt_peer_wav *w)
{
	const uint8_t *p = data, *end = p + len;
	unsigned bits = 0;

	memset(w, 0, sizeof(*w));
	if (len < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WAVE", 4))
		return EINVAL;
	for (p += 12; end - p >= 8;) {
		size_t size = get32(p + 4), left = (size_t)(end - p - 8);

		if (memcmp(p, "fmt ", 4) == 0 && size >= 16 && left >= 16) {
			unsigned fmt = get16(p + 8);

			if (fmt != 1 && fmt != 0xfffe)
				return EINVAL;
			w->channels = get16(p + 10);
			w->rate = get32(p + 12);
			bits = get16(p + 22);
		} else if (memcmp(p, "data", 4) == 0) {
			if (bits != 16 || !w->channels || !w->rate)
				return EINVAL;
			if (size == 0 || size > left)
				size = left;
			w->frames = size / (2u * w->channels);
			w->s = calloc(w->frames * w->channels + 1,
				      sizeof(*w->s));
			if (!w->s)
				return ENOMEM;
			for (size_t i = 0; i < w->frames * w->channels; i++)
				w->s[i] = (int16_t)get16(p + 8 + 2 * i);
			return 0;
		}
		if (size > left)
			break;
		p += 8 + size + (size & 1);
	}
	return EINVAL;
}

int rt_peer_wav_read(const char *path, struct rt_peer_wav *w)
{
	size_t len;
	char *data = rt_peer_read_file(path, &len);
	int err;

	memset(w, 0, sizeof(*w));
	if (!data)
		return errno ? errno : EIO;
	err = rt_peer_wav_parse(data, len, w);
	free(data);
	return err;
}

void rt_peer_wav_free(struct rt_peer_wav *w)
{
	free(w->s);
	memset(w, 0, sizeof(*w));
}

void rt_peer_expect_tone(const struct rt_peer_wav *w, unsigned ch, unsigned hz,
			 unsigned min_ms, const char *what)
{
	size_t win = w->rate / 5, sound = 0, hits = 0; /* 200 ms windows */
	double c = 2.0 * cos(2.0 * M_PI * hz / (w->rate ? w->rate : 1));

	if (ch >= w->channels || !win)
		fail_msg("%s: no channel %u (%u channels at %u Hz)", what, ch,
			 w->channels, w->rate);
	for (size_t at = 0; at + win <= w->frames; at += win) {
		double s1 = 0, s2 = 0, energy = 0, power;

		for (size_t i = 0; i < win; i++) {
			double x = w->s[(at + i) * w->channels + ch];
			double s0 = x + c * s1 - s2;

			energy += x * x;
			s2 = s1;
			s1 = s0;
		}
		/* Below about -40 dBFS is silence (a jitter buffer filling). */
		if (energy / (double)win < 1e5)
			continue;
		sound++;
		/* Goertzel's power at hz over the window's energy: 1 for a
		 * pure tone of hz, near 0 for a tone 50 Hz away or more. */
		power = s1 * s1 + s2 * s2 - c * s1 * s2;
		if (power / (energy * (double)win / 2.0) > 0.5)
			hits++;
	}
	if (hits * 200 < min_ms || hits * 10 < sound * 8)
		fail_msg("%s: want a %u Hz tone on channel %u for %u ms or "
			 "more; of %zu windows of 200 ms, %zu have sound and "
			 "%zu the tone",
			 what, hz, ch, min_ms, w->frames / win, sound, hits);
}

/* ---- scenarios and calls ------------------------------------------------ */

/* text (owned, freed) with each from[i] replaced by to[i]: a new text. */
char *rt_peer_replace(char *text, const char *const *from,
		      const char *const *to, size_t n)
{
	char *at;

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
	return text;
}

/* tests/data/sip/name with each from[i] replaced by to[i], written as
 * work/<tag>.xml; returns the path written. */
const char *rt_peer_scenario(const char *name, const char *tag,
			     const char *const *from, const char *const *to,
			     size_t n)
{
	static char dst[512];
	char *text = rt_peer_read_file(rt_peer_data(name), NULL);
	FILE *f;

	if (!text)
		fail_msg("cannot read %s", rt_peer_data(name));
	text = rt_peer_replace(text, from, to, n);
	snprintf(dst, sizeof(dst), "%s",
		 rt_peer_path(rt_test_fmt("%s.xml", tag)));
	f = fopen(dst, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	return dst;
}

json_t *rt_peer_dial(struct rt_test_server *s, const char *dialled,
		     const char *scenario, unsigned timeout_s)
{
	char target[32], port[16], mport[16], cid[64];
	const char *args[] = {"-sf", scenario, "-s",   dialled, "-p",
			      port,  "-mp",    mport,  "-i",	"127.0.0.1",
			      "-m",  "1",      target, NULL};
	json_t *c;
	pid_t uac;
	int rc;

	snprintf(target, sizeof(target), "127.0.0.1:%u", s->sip_port);
	snprintf(port, sizeof(port), "%u", rt_peer_free_port(false));
	snprintf(mport, sizeof(mport), "%u", rt_peer_free_port(true));
	uac = rt_peer_sipp("uac", timeout_s, args);
	snprintf(cid, sizeof(cid), "1-%d@127.0.0.1", (int)uac);
	rc = rt_peer_wait(uac, (timeout_s + 5) * 1000);
	if (rc != 0) {
		rt_peer_show("uac");
		fail_msg("SIPp (the caller) exited with %d", rc);
	}
	c = rt_peer_call(s, cid, true, 10000);
	if (!c)
		fail_msg("no ended call with SIP Call-ID %s", cid);
	return c;
}
