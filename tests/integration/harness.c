/* The integration harness: see harness.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <math.h>
#include <sndfile.h>

#include "harness.h"

extern char **environ;

#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS	 10000
#define CLI_TIMEOUT_MS	 60000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *rt_test_binary(void)
{
	const char *b = getenv("RT_TEST_BINARY");

	return b && *b ? b : RT_TEST_BINARY;
}

const char *rt_test_source_dir(void)
{
	const char *d = getenv("RT_SOURCE_DIR");

	return d && *d ? d : RT_SOURCE_DIR;
}

const char *rt_test_fmt(const char *fmt, ...)
{
	static char ring[16][8192];
	static unsigned next;
	char *b = ring[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* ---- processes ---------------------------------------------------------- */

/* The child's environment: ours without RINGTRAIL_*, plus extra. */
static char **make_env(const char *const *extra)
{
	size_t n = 0, k = 0, ne = 0;
	char **env;

	while (environ[n])
		n++;
	while (extra && extra[ne])
		ne++;
	env = calloc(n + ne + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool overridden = false;

		if (strncmp(environ[i], "RINGTRAIL_", 10) == 0)
			continue;
		for (size_t j = 0; j < ne; j++) {
			if (strncmp(extra[j], environ[i], nl) == 0 &&
			    extra[j][nl] == '=')
				overridden = true;
		}
		if (!overridden)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < ne; j++)
		env[k++] = (char *)(uintptr_t)extra[j];
	env[k] = NULL;
	return env;
}

/* argv for execve: the binary, then pre (may be NULL), then args. */
static char **make_argv(const char *const *pre, const char *const *args)
{
	size_t np = 0, na = 0, k = 0;
	char **argv;

	while (pre && pre[np])
		np++;
	while (args && args[na])
		na++;
	argv = calloc(np + na + 2, sizeof(*argv));
	if (!argv)
		return NULL;
	argv[k++] = (char *)(uintptr_t)rt_test_binary();
	for (size_t i = 0; i < np; i++)
		argv[k++] = (char *)(uintptr_t)pre[i];
	for (size_t i = 0; i < na; i++)
		argv[k++] = (char *)(uintptr_t)args[i];
	argv[k] = NULL;
	return argv;
}

/* In the child after fork: die with the test, whatever kills it. */
static void child_common(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
}

static int remove_h(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void rt_test_rmtree(const char *dir)
{
	if (dir[0])
		nftw(dir, remove_h, 16, FTW_DEPTH | FTW_PHYS);
}

const char *rt_test_line_value(const char *text, const char *prefix, char *buf,
			       size_t size)
{
	size_t pl = strlen(prefix);

	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t ll = end ? (size_t)(end - l) : strlen(l);

		if (ll >= pl && strncmp(l, prefix, pl) == 0) {
			size_t vl = ll - pl;

			if (vl && l[pl + vl - 1] == '\r')
				vl--;
			if (vl >= size)
				vl = size - 1;
			memcpy(buf, l + pl, vl);
			buf[vl] = '\0';
			return buf;
		}
		l = end ? end + 1 : NULL;
	}
	return NULL;
}

/* Runs the server in s->dir on s->db and waits for its port; the key and
 * the admin user are read when it prints them (its first start). */
static void spawn(struct rt_test_server *s, const char *const *args,
		  const char *const *env)
{
	char out[8192], val[256];
	size_t len = 0;
	uint64_t deadline;
	char **argv = NULL, **envp = NULL;
	int fds[2];
	pid_t parent = getpid();

	{
		/* SIP on a free port too: tests run side by side. */
		const char *pre[] = {"serve",	    "--db",
				     s->db,	    "--listen",
				     "127.0.0.1:0", "--sip-listen",
				     "127.0.0.1:0", "--log-level",
				     "warn",	    NULL};

		argv = make_argv(pre, args);
	}
	envp = make_env(env);
	if (!argv || !envp || pipe2(fds, O_CLOEXEC) != 0)
		fail_msg("cannot prepare the server: %s", strerror(errno));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (s->pid == 0) {
		child_common(parent);
		dup2(fds[1], STDOUT_FILENO);
		if (chdir(s->dir) != 0)
			_exit(127);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(fds[1]);
	s->out_fd = fds[0];
	free(argv);
	free(envp);

	deadline = now_ms() + START_TIMEOUT_MS;
	out[0] = '\0';
	for (;;) {
		struct pollfd p = {s->out_fd, POLLIN, 0};
		uint64_t t = now_ms();
		ssize_t n;

		if (strstr(out, "listening on ") &&
		    strchr(strstr(out, "listening on "), '\n'))
			break;
		if (t >= deadline) {
			rt_test_server_stop(s);
			fail_msg("the server printed no 'listening on' line "
				 "within "
				 "%d s; it printed: %s",
				 START_TIMEOUT_MS / 1000, out);
		}
		if (poll(&p, 1, (int)(deadline - t)) <= 0)
			continue;
		n = read(s->out_fd, out + len, sizeof(out) - 1 - len);
		if (n <= 0) {
			rt_test_server_stop(s);
			fail_msg("the server exited before listening; it "
				 "printed: %s",
				 out);
		}
		len += (size_t)n;
		out[len] = '\0';
	}
	if (!rt_test_line_value(out, "listening on http://", val,
				sizeof(val)) ||
	    !strchr(val, ':') ||
	    sscanf(strrchr(val, ':') + 1, "%u", &s->port) != 1 || !s->port) {
		rt_test_server_stop(s);
		fail_msg("cannot read the port from: %s", out);
	}
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", s->port);
	if (rt_test_line_value(out, "sip on udp+tcp port ", val, sizeof(val)))
		sscanf(val, "%u", &s->sip_port);
	if (!strstr(out, "api key: "))
		return; /* a restart: the database had its account */
	rt_test_line_value(out, "api key: ", s->key, sizeof(s->key));
	rt_test_line_value(out, "admin user: ", s->email, sizeof(s->email));
	rt_test_line_value(out, "admin password: ", s->password,
			   sizeof(s->password));
	{
		const char *id = strstr(out, "(id ");
		long long v = 0;

		if (id && sscanf(id, "(id %lld)", &v) == 1)
			s->account_id = v;
	}
}

void rt_test_server_start(struct rt_test_server *s, const char *const *args,
			  const char *const *env)
{
	const char *tmp = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	s->out_fd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s/rt-integ-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir))
		fail_msg("mkdtemp %s: %s", s->dir, strerror(errno));
	snprintf(s->db, sizeof(s->db), "%s/r.db", s->dir);
	spawn(s, args, env);
}

void rt_test_server_restart(struct rt_test_server *s, int sig,
			    const char *const *args, const char *const *env)
{
	int st;

	if (s->pid > 0) {
		kill(s->pid, sig);
		waitpid(s->pid, &st, 0);
		s->pid = 0;
	}
	if (s->out_fd >= 0) {
		close(s->out_fd);
		s->out_fd = -1;
	}
	spawn(s, args, env);
}

bool rt_test_server_alive(struct rt_test_server *s)
{
	int st;

	if (s->pid <= 0)
		return false;
	if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
		fprintf(stderr, "server %d has exited (status 0x%x)\n",
			(int)s->pid, st);
		s->pid = 0;
		return false;
	}
	return true;
}

int rt_test_server_stop(struct rt_test_server *s)
{
	uint64_t deadline;
	int st = 0, rc = 0;

	if (s->pid > 0) {
		pid_t w = 0;

		kill(s->pid, SIGTERM);
		deadline = now_ms() + STOP_TIMEOUT_MS;
		while ((w = waitpid(s->pid, &st, WNOHANG)) == 0 &&
		       now_ms() < deadline)
			sleep_ms(20);
		if (w == 0) {
			fprintf(stderr,
				"server %d did not stop within %d s of "
				"SIGTERM: "
				"killed\n",
				(int)s->pid, STOP_TIMEOUT_MS / 1000);
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			rc = -1;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr,
				"server %d ended badly after SIGTERM: %s %d\n",
				(int)s->pid,
				WIFEXITED(st) ? "exit status" : "signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			rc = -1;
		}
		s->pid = 0;
	}
	if (s->out_fd >= 0) {
		close(s->out_fd);
		s->out_fd = -1;
	}
	rt_test_rmtree(s->dir);
	s->dir[0] = '\0';
	return rc;
}

/* ---- HTTP --------------------------------------------------------------- */

struct sink {
	char *s;
	size_t len;
};

static void sink_add(struct sink *k, const char *p, size_t n)
{
	char *t = realloc(k->s, k->len + n + 1);

	if (!t)
		return;
	memcpy(t + k->len, p, n);
	k->len += n;
	t[k->len] = '\0';
	k->s = t;
}

static size_t body_h(char *p, size_t size, size_t n, void *arg)
{
	sink_add(arg, p, size * n);
	return size * n;
}

static size_t header_h(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;

	/* Keep only the last response's headers (not a 100 Continue's). */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		k->len = 0;
	sink_add(k, p, size * n);
	return size * n;
}

void rt_test_request(struct rt_test_server *s, struct rt_test_resp *r,
		     const char *method, const char *path,
		     const char *const *headers, const char *body, size_t len)
{
	struct sink b = {0}, h = {0};
	struct curl_slist *hl = NULL;
	char url[2048];
	CURLcode rc;
	CURL *c;

	memset(r, 0, sizeof(*r));
	c = curl_easy_init();
	if (!c)
		fail_msg("curl_easy_init failed");
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	/* A browser's, so that the DNI endpoints see a visitor and not a
	 * script (a request may set its own User-Agent header instead). */
	curl_easy_setopt(c, CURLOPT_USERAGENT, RT_TEST_BROWSER_UA);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_h);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_h);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	/* curl would add a form Content-Type and wait for 100 Continue. */
	hl = curl_slist_append(hl, "Expect:");
	if (body)
		hl = curl_slist_append(hl, "Content-Type:");
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	r->headers = h.s ? h.s : strdup("");
	r->body = b.s ? b.s : strdup("");
	r->len = b.len;
	r->json = json_loadb(r->body, r->len, 0, NULL);
	if (rc != CURLE_OK)
		fail_msg("%s %s: %s (is the server still up? %s)", method, path,
			 curl_easy_strerror(rc),
			 rt_test_server_alive(s) ? "yes" : "no");
}

void rt_test_api(struct rt_test_server *s, struct rt_test_resp *r,
		 const char *key, const char *method, const char *path,
		 const char *body)
{
	char auth[256];
	const char *hdr[3] = {NULL, NULL, NULL};
	size_t n = 0;

	if (key) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
		hdr[n++] = auth;
	}
	if (body)
		hdr[n++] = "Content-Type: application/json";
	rt_test_request(s, r, method, path, hdr, body, body ? strlen(body) : 0);
}

void rt_test_resp_free(struct rt_test_resp *r)
{
	free(r->headers);
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

const char *rt_test_header(const struct rt_test_resp *r, const char *name,
			   char *buf, size_t size)
{
	size_t nl = strlen(name);

	for (const char *l = r->headers; l && *l;) {
		const char *end = strstr(l, "\r\n");
		size_t ll = end ? (size_t)(end - l) : strlen(l);

		if (ll > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			size_t vl = ll - nl - 1;

			while (vl && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			if (vl >= size)
				vl = size - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		l = end ? end + 2 : NULL;
	}
	return NULL;
}

void rt_test_expect_status(const struct rt_test_resp *r, long want,
			   const char *file, int line)
{
	if (r->status != want)
		fail_msg("%s:%d: want status %ld, got %ld; body: %.600s", file,
			 line, want, r->status, r->body ? r->body : "");
}

void rt_test_expect_error(const struct rt_test_resp *r, long status,
			  const char *code, const char *field, const char *file,
			  int line)
{
	json_t *e = json_object_get(r->json, "error");
	const char *c = json_string_value(json_object_get(e, "code"));
	const char *m = json_string_value(json_object_get(e, "message"));
	const char *f = json_string_value(json_object_get(e, "field"));
	char ct[128];

	rt_test_expect_status(r, status, file, line);
	if (!rt_test_header(r, "Content-Type", ct, sizeof(ct)) ||
	    strncmp(ct, "application/json", 16) != 0)
		fail_msg("%s:%d: an error must be JSON; Content-Type is %s",
			 file, line,
			 rt_test_header(r, "Content-Type", ct, sizeof(ct))
				 ? ct
				 : "(none)");
	if (!json_is_object(e) || !c || !m || !*m)
		fail_msg("%s:%d: want {\"error\":{\"code\",\"message\"}}, got: "
			 "%.600s",
			 file, line, r->body);
	if (code && strcmp(c, code) != 0)
		fail_msg("%s:%d: want error code '%s', got '%s': %.600s", file,
			 line, code, c, r->body);
	if (field && (!f || strcmp(f, field) != 0))
		fail_msg("%s:%d: want error field '%s', got '%s': %.600s", file,
			 line, field, f ? f : "(none)", r->body);
}

int64_t rt_test_json_id(const struct rt_test_resp *r, const char *name)
{
	json_t *v = json_object_get(r->json, name);

	if (!json_is_integer(v))
		fail_msg("no integer '%s' in: %.600s", name, r->body);
	return (int64_t)json_integer_value(v);
}

/* ---- the command line --------------------------------------------------- */

int rt_test_cli(const char *const *args, const char *const *env,
		const char *stdin_data, char **out, char **err)
{
	struct sink o = {0}, e = {0};
	int in_p[2], out_p[2], err_p[2], st = 0, rc;
	char **argv = make_argv(NULL, args), **envp = make_env(env);
	size_t in_off = 0, in_len = stdin_data ? strlen(stdin_data) : 0;
	uint64_t deadline = now_ms() + CLI_TIMEOUT_MS;
	pid_t parent = getpid(), pid;
	bool killed = false;

	if (!argv || !envp || pipe2(in_p, O_CLOEXEC) ||
	    pipe2(out_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC))
		fail_msg("cannot prepare the command: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		child_common(parent);
		dup2(in_p[0], STDIN_FILENO);
		dup2(out_p[1], STDOUT_FILENO);
		dup2(err_p[1], STDERR_FILENO);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	free(argv);
	free(envp);
	close(in_p[0]);
	close(out_p[1]);
	close(err_p[1]);
	if (in_len == 0) {
		close(in_p[1]);
		in_p[1] = -1;
	} else {
		signal(SIGPIPE, SIG_IGN);
	}
	while (out_p[0] >= 0 || err_p[0] >= 0) {
		struct pollfd p[3] = {{out_p[0], POLLIN, 0},
				      {err_p[0], POLLIN, 0},
				      {in_p[1], POLLOUT, 0}};
		uint64_t t = now_ms();
		char buf[4096];

		if (t >= deadline) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (poll(p, 3, (int)(deadline - t)) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? &out_p[0] : &err_p[0];
			ssize_t n;

			if (*fd < 0 ||
			    !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n > 0) {
				sink_add(i == 0 ? &o : &e, buf, (size_t)n);
			} else {
				close(*fd);
				*fd = -1;
			}
		}
		if (in_p[1] >= 0 &&
		    (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in_p[1], stdin_data + in_off,
					  in_len - in_off);

			if (n > 0)
				in_off += (size_t)n;
			if (n <= 0 || in_off == in_len) {
				close(in_p[1]);
				in_p[1] = -1;
			}
		}
	}
	if (in_p[1] >= 0)
		close(in_p[1]);
	if (out_p[0] >= 0)
		close(out_p[0]);
	if (err_p[0] >= 0)
		close(err_p[0]);
	waitpid(pid, &st, 0);
	rc = !killed && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (out)
		*out = o.s ? o.s : strdup("");
	else
		free(o.s);
	if (err)
		*err = e.s ? e.s : strdup("");
	else
		free(e.s);
	return rc;
}

size_t rt_test_tone_file(int format, int rate, int channels, double hz,
			 double sec, char **bufp)
{
	char path[] = "/tmp/rt-audio-XXXXXX";
	SF_INFO info = {.samplerate = rate,
			.channels = channels,
			.format = format};
	size_t frames = (size_t)(sec * rate), len;
	float *x = calloc(frames * (size_t)channels + 1, sizeof(*x));
	int fd = mkstemp(path);
	SNDFILE *sf;
	FILE *f;

	assert_non_null(x);
	assert_true(fd >= 0);
	for (size_t i = 0; i < frames * (size_t)channels; i++)
		x[i] = (float)(0.5 *
			       sin(2 * M_PI * hz *
				   (double)(i / (size_t)channels) / rate));
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
	*bufp = malloc(len + 1);
	assert_non_null(*bufp);
	assert_int_equal(fread(*bufp, 1, len, f), len);
	fclose(f);
	unlink(path);
	return len;
}
