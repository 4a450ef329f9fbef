/*
 * ringtrail simulate: the options, the defaults read from the same
 * configuration serve uses (its listen and sip_listen addresses), and
 * Ctrl-C; the simulation itself is src/sim.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sim/sim.h"

#define DEF_VISITORS	30
#define DEF_CALLS	10
#define DEF_CONCURRENCY 10
#define DEF_DURATION_MS 60000
#define MAX_PEOPLE	1000
#define MAX_CONCURRENCY 100

/* The one thing a signal handler may set; the run polls it (it cannot
 * sigwait like serve: its thread is busy with visits and calls). */
static volatile sig_atomic_t stop;

static void stop_h(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * "HOST:PORT" (a name, an IPv4 address or a [v6] one; HOST 0.0.0.0, :: or
 * empty for this host's loopback) into "IP:PORT" for SIP.  0 or EINVAL.
 */
static int sip_addr(const char *in, char *out, size_t size)
{
	char host[256];
	const char *colon = strrchr(in, ':'), *h = in;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
	size_t hl;
	uint64_t port;
	char ip[INET6_ADDRSTRLEN];

	if (!colon || rt_parse_u64(colon + 1, 0, 65535, &port))
		return EINVAL;
	hl = (size_t)(colon - in);
	if (hl >= 2 && in[0] == '[' && in[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (!hl || !strcmp(host, "0.0.0.0") || !strcmp(host, "*"))
		rt_strlcpy(host, "127.0.0.1", sizeof(host));
	else if (!strcmp(host, "::"))
		rt_strlcpy(host, "::1", sizeof(host));
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return EINVAL;
	if (!inet_ntop(res->ai_family,
		       res->ai_family == AF_INET
			       ? (void *)&((struct sockaddr_in *)res->ai_addr)
					 ->sin_addr
			       : (void *)&((struct sockaddr_in6 *)res->ai_addr)
					 ->sin6_addr,
		       ip, sizeof(ip))) {
		freeaddrinfo(res);
		return EINVAL;
	}
	snprintf(out, size, res->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 ip, (unsigned)port);
	freeaddrinfo(res);
	return 0;
}

/* The server's URL from its listen address: a wildcard host is reached
 * on loopback. */
static void default_url(const char *listen, char *out, size_t size)
{
	const char *colon = strrchr(listen, ':');
	size_t hl = colon ? (size_t)(colon - listen) : 0;

	if (!colon || !hl || (hl == 7 && !strncmp(listen, "0.0.0.0", 7)) ||
	    (hl == 4 && !strncmp(listen, "[::]", 4)))
		snprintf(out, size, "http://127.0.0.1:%s",
			 colon ? colon + 1 : "8080");
	else
		snprintf(out, size, "http://%s", listen);
}

static int count_opt(struct rt_cli *c, const char *name, uint64_t min,
		     uint64_t max, unsigned def, unsigned *out)
{
	const char *v = rt_cli_opt(c, name);
	uint64_t n;

	*out = def;
	if (!v)
		return 0;
	if (rt_parse_u64(v, min, max, &n))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "bad --%s '%s': want a number from %llu "
				   "to %llu",
				   name, v, (unsigned long long)min,
				   (unsigned long long)max);
	*out = (unsigned)n;
	return 0;
}

static int duration_opt(struct rt_cli *c, const char *name, uint64_t min,
			uint64_t def, uint64_t *out)
{
	const char *v = rt_cli_opt(c, name);

	*out = def;
	if (!v)
		return 0;
	if (rt_parse_duration_ms(v, out) || *out < min || *out > 86400000ull)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "bad --%s '%s': want a duration such as "
				   "90s or 5m, from %llus to 24h",
				   name, v, (unsigned long long)(min / 1000));
	return 0;
}

/* The key from --key, or the first line of --key-file (- for stdin). */
static int read_key(struct rt_cli *c, char *key, size_t size)
{
	const char *k = rt_cli_opt(c, "key"), *file = rt_cli_opt(c, "key-file");
	FILE *f;

	if (k && file)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "give --key or --key-file, not both");
	if (k) {
		if (rt_strlcpy(key, k, size) >= size)
			return rt_cli_fail(RT_EXIT_USAGE, "--key is too long");
		return 0;
	}
	if (!file)
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"simulate needs an API key: --key KEY or "
			"--key-file FILE ('serve' prints one on its "
			"first start; 'ringtrail apikey create' makes "
			"one)");
	f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!f)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "cannot read --key-file '%s': %s", file,
				   strerror(errno));
	if (!fgets(key, (int)size, f))
		key[0] = '\0';
	if (f != stdin)
		fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	if (!key[0])
		return rt_cli_fail(RT_EXIT_USAGE, "--key-file '%s' is empty",
				   file);
	return 0;
}

int rt_cmd_simulate(struct rt_cli *c)
{
	static const char *const known[] =
		{"url",		"key",	    "key-file", "sip",	    "agent",
		 "visitors",	"calls",    "account",	"seed",	    "duration",
		 "concurrency", "business", "max-talk", "max-ring", NULL};
	const char *const *names = rt_sim_businesses();
	struct rt_sim_conf sc = {0};
	struct sigaction sa;
	char url[512], key[256], sip[96], agent[96], err[512];
	const char *v;
	uint64_t seed;
	int e;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (rt_cli_arg(c, 0))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "simulate takes no argument '%s'",
				   rt_cli_arg(c, 0));
	if (read_key(c, key, sizeof(key)))
		return RT_EXIT_USAGE;
	v = rt_cli_opt(c, "url");
	if (v)
		rt_strlcpy(url, v, sizeof(url));
	else
		default_url(c->conf.listen, url, sizeof(url));
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "bad --url '%s': want http://HOST:PORT",
				   url);
	v = rt_cli_opt(c, "sip");
	if (sip_addr(v ? v : c->conf.sip_listen, sip, sizeof(sip)))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "bad --sip '%s': want HOST:PORT",
				   v ? v : c->conf.sip_listen);
	v = rt_cli_opt(c, "agent");
	if (sip_addr(v ? v : "127.0.0.1:0", agent, sizeof(agent)))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "bad --agent '%s': want HOST:PORT", v);
	if (count_opt(c, "visitors", 0, MAX_PEOPLE, DEF_VISITORS,
		      &sc.visitors) ||
	    count_opt(c, "calls", 0, MAX_PEOPLE, DEF_CALLS, &sc.calls) ||
	    count_opt(c, "concurrency", 1, MAX_CONCURRENCY, DEF_CONCURRENCY,
		      &sc.concurrency) ||
	    duration_opt(c, "duration", 1000, DEF_DURATION_MS,
			 &sc.duration_ms) ||
	    duration_opt(c, "max-talk", 1000, 0, &sc.max_talk_ms) ||
	    duration_opt(c, "max-ring", 1000, 0, &sc.max_ring_ms))
		return RT_EXIT_USAGE;
	if (sc.calls && !sc.visitors)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "--calls needs visitors to call from "
				   "(--visitors)");
	v = rt_cli_opt(c, "account");
	if (v && rt_cli_id(v, "--account", &sc.account_id))
		return RT_EXIT_USAGE;
	v = rt_cli_opt(c, "seed");
	if (v && rt_parse_u64(v, 0, UINT64_MAX, &seed))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "bad --seed '%s': want a number", v);
	if (!v) {
		rt_random_bytes(&seed, sizeof(seed));
		seed %= 1000000; /* short enough to type again */
	}
	sc.seed = seed;
	sc.business = rt_cli_opt(c, "business");
	if (!sc.business)
		sc.business = names[0];
	for (size_t i = 0; names[i]; i++) {
		if (!strcmp(names[i], sc.business))
			break;
		if (!names[i + 1])
			return rt_cli_fail(
				RT_EXIT_USAGE,
				"bad --business '%s': want plumbing, "
				"dental or law",
				sc.business);
	}
	sc.url = url;
	sc.key = key;
	sc.sip = sip;
	sc.agent = agent;
	sc.out = stdout;
	sc.interrupted = &stop;

	/* The output is the report; the SIP layer's log only when asked. */
	if (c->conf.log_level < RT_LOG_WARN &&
	    c->conf.log_level != RT_LOG_DEBUG)
		rt_log_set_level(RT_LOG_WARN);
	/* Ctrl-C ends the calls cleanly; a second one kills. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_h;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	e = rt_sim_run(&sc, err, sizeof(err));
	memset(key, 0, sizeof(key));
	if (!e)
		return RT_EXIT_OK;
	if (!err[0])
		snprintf(err, sizeof(err), "%s", strerror(e));
	rt_cli_fail(e == EINVAL ? RT_EXIT_USAGE : RT_EXIT_FAIL, "%s", err);
	if (e == EINTR)
		return 128 + SIGINT;
	return e == EINVAL ? RT_EXIT_USAGE : RT_EXIT_FAIL;
}
