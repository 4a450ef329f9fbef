/* ringtrail serve: every role in one process, stopped by SIGTERM/SIGINT. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call/call.h"
#include "media/prompt.h"
#include "cli/cli.h"
#include "dni/dni.h"
#include "http/http.h"
#include "sip/sip.h"

#define RT_LOG_MODULE "serve"

static void print_bootstrap(const struct rt_bootstrap *b)
{
	/* Printed once, to the terminal only: none of it is stored in clear. */
	printf("created demo account \"Demo Agency\" (id %lld)\n"
	       "admin user: %s\n"
	       "admin password: %s\n"
	       "api key: %s\n"
	       "(the password and the key are shown only this once)\n",
	       (long long)b->account_id, b->email, b->password, b->api_key);
	fflush(stdout);
}

/* Waits for requests in flight to finish, up to the shutdown timeout; a
 * second signal meanwhile exits at once. */
/* Calls a crash left open are finalised as interrupted, with what is
 * known, before the server takes any new call. */
static int finalise_open_calls(struct rt_store *store)
{
	struct rt_store_tx *tx;
	size_t n = 0;
	int err = rt_store_begin(store, true, &tx);

	if (err)
		return err;
	err = rt_store_calls_interrupt_open(tx, rt_now_ms(), &n);
	if (err) {
		rt_store_rollback(tx);
		return err;
	}
	err = rt_store_commit(tx);
	if (!err && n)
		rt_warn("calls left open by a stop were finalised as "
			"interrupted",
			"calls=%zu", n);
	return err;
}

static void drain(struct rt_http *http, const sigset_t *sigs,
		  uint64_t timeout_ms)
{
	uint64_t deadline = rt_mono_us() + timeout_ms * 1000;
	struct timespec tick = {0, 20 * 1000 * 1000};

	while (rt_http_inflight(http) > 0) {
		int sig = sigtimedwait(sigs, NULL, &tick);

		if (sig > 0) {
			rt_warn("second signal: exiting at once", "signal=%d",
				sig);
			_exit(RT_EXIT_FAIL);
		}
		if (rt_mono_us() >= deadline) {
			rt_warn("shutdown timeout: closing requests in flight",
				"in_flight=%u", rt_http_inflight(http));
			return;
		}
	}
}

/* The SIP thread, with the call service as its hooks.  0, or the exit
 * code (the message printed). */
static int start_sip(struct rt_sip **sp, const struct rt_sip_conf *sc,
		     struct rt_calls *calls, struct rt_prompts *prompts)
{
	struct rt_sip_hooks hooks = {rt_calls_route_h,
				     rt_calls_event_h,
				     calls,
				     rt_calls_recorder(calls),
				     prompts,
				     rt_calls_rr_h};
	int err;

	if (sc->ntrunks == 0)
		rt_info("no trunk configured: accepting SIP only from loopback "
			"addresses",
			"sip_listen=%s", sc->listen);
	for (size_t i = 0; i < sc->ntrunks; i++)
		rt_info("sip trunk", "name=%s sources=%zu digest=%s proxy=%s",
			sc->trunks[i].name, sc->trunks[i].nfrom,
			sc->trunks[i].user[0] ? "yes" : "no",
			sc->trunks[i].proxy[0] ? sc->trunks[i].proxy : "-");
	err = rt_sip_start(sp, sc, &hooks);
	if (err == EINVAL)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "config key 'sip_listen': bad address '%s' "
				   "(want HOST:PORT)",
				   sc->listen);
	if (err == EBADMSG)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "config key 'sip_tls_cert': '%s' holds no "
				   "usable certificate and private key (PEM)",
				   sc->tls_cert);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot listen for SIP on '%s': %s",
				   sc->listen, strerror(err));
	rt_info("sip listening", "sip_listen=%s port=%u tls_port=%u",
		sc->listen, rt_sip_port(*sp), rt_sip_tls_port(*sp));
	return 0;
}

int rt_cmd_serve(struct rt_cli *c)
{
	static const char *const known[] = {NULL};
	struct rt_http_deps deps = {&c->conf, c->store, c->auth, NULL, NULL};
	struct rt_dni_conf dconf = {c->conf.dni_grace, c->conf.dni_flush};
	struct rt_sip_conf *sconf;
	struct rt_call_router *router = NULL;
	struct rt_prompts *prompts = NULL;
	struct rt_calls_conf cconf = {(int64_t)c->conf.dni_grace, 100, NULL,
				      false, 0};
	char *rec_dir;
	struct rt_calls *calls = NULL;
	struct rt_sip *sip = NULL;
	struct rt_dni *dni;
	char msg[512];
	struct rt_bootstrap boot;
	struct rt_http *http;
	sigset_t sigs;
	int err, sig;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (rt_cli_arg(c, 0))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "serve takes no argument '%s'",
				   rt_cli_arg(c, 0));

	/* Checked before anything starts: a bad trunk is a usage error. */
	sconf = calloc(1, sizeof(*sconf));
	if (!sconf)
		return rt_cli_fail(RT_EXIT_FAIL, "out of memory");
	if (rt_sip_conf_load(sconf, &c->conf, msg, sizeof(msg))) {
		free(sconf);
		return rt_cli_fail(RT_EXIT_USAGE, "%s", msg);
	}
	if (strcmp(c->conf.recording_format, "opus") != 0 &&
	    strcmp(c->conf.recording_format, "wav") != 0) {
		free(sconf);
		return rt_cli_fail(RT_EXIT_USAGE,
				   "config key 'recording_format': '%s' is "
				   "not opus or wav",
				   c->conf.recording_format);
	}

	if (c->conf.demo) {
		memset(&boot, 0, sizeof(boot));
		err = rt_auth_bootstrap(c->auth, &boot);
		if (!err)
			print_bootstrap(&boot);
		else if (err != EEXIST) {
			free(sconf);
			return rt_cli_fail(RT_EXIT_FAIL,
					   "cannot create the demo account: %s",
					   strerror(err));
		}
		memset(&boot, 0, sizeof(boot));
	}

	/* Blocked before any thread starts, so that every thread inherits the
	 * mask and only sigwait below sees the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = finalise_open_calls(c->store);
	if (err) {
		free(sconf);
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot finalise the calls left open: %s",
				   strerror(err));
	}
	/* Before HTTP: open sessions are back before the first page view. */
	err = rt_dni_start(&dni, c->store, &dconf);
	if (err) {
		free(sconf);
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot start number insertion: %s",
				   strerror(err));
	}
	deps.dni = dni;
	/* Flows' prompts, rendered ahead by the router's loader. */
	err = rt_prompts_start(&prompts, 0);
	/* Before SIP: the first INVITE finds every number. */
	if (!err)
		err = rt_call_router_start(&router, c->store, prompts);
	if (err) {
		free(sconf);
		rt_prompts_stop(prompts);
		rt_dni_stop(dni);
		return rt_cli_fail(RT_EXIT_FAIL, "cannot read the numbers: %s",
				   strerror(err));
	}
	rec_dir = rt_conf_beside_db(&c->conf, c->conf.recordings_dir,
				    "recordings");
	cconf.recordings_dir = rec_dir;
	cconf.recording_opus = strcmp(c->conf.recording_format, "opus") == 0;
	err = rec_dir ? rt_calls_start(&calls, c->store, router, dni, &cconf)
		      : ENOMEM;
	free(rec_dir);
	if (err) {
		free(sconf);
		rt_call_router_stop(router);
		rt_prompts_stop(prompts);
		rt_dni_stop(dni);
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot start recording calls: %s",
				   strerror(err));
	}
	err = start_sip(&sip, sconf, calls, prompts);
	free(sconf);
	if (err) {
		rt_calls_stop(calls);
		rt_call_router_stop(router);
		rt_prompts_stop(prompts);
		rt_dni_stop(dni);
		return err;
	}
	deps.calls = router;
	deps.recorder = rt_calls_recorder(calls);
	err = rt_http_start(&http, &deps);
	if (err) {
		rt_sip_stop(sip);
		rt_calls_stop(calls);
		rt_call_router_stop(router);
		rt_prompts_stop(prompts);
		rt_dni_stop(dni);
	}
	if (err == EINVAL)
		return rt_cli_fail(
			RT_EXIT_USAGE,
			"config key 'listen': bad address '%s' (want "
			"HOST:PORT)",
			c->conf.listen);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL, "cannot listen on '%s': %s",
				   c->conf.listen, strerror(err));
	rt_info("listening", "listen=%s port=%u db=\"%s\" store=%s",
		c->conf.listen, rt_http_port(http), c->conf.db,
		rt_store_backend(c->store));
	/* The SIP line first: scripts read up to the HTTP one. */
	printf("sip on udp+tcp port %u\n", rt_sip_port(sip));
	if (rt_sip_tls_port(sip))
		printf("sip on tls port %u\n", rt_sip_tls_port(sip));
	printf("listening on http://%s:%u\n",
	       strncmp(c->conf.listen, "localhost", 9) == 0 ? "localhost"
							    : "127.0.0.1",
	       rt_http_port(http));
	fflush(stdout);

	do {
		err = sigwait(&sigs, &sig);
	} while (err == EINTR);
	rt_info("stopping", "signal=%d in_flight=%u", sig,
		rt_http_inflight(http));
	rt_http_quiesce(http);
	drain(http, &sigs, c->conf.shutdown_timeout);
	rt_http_stop(http);
	/* Calls in progress end with a BYE or a CANCEL, and are recorded as
	 * interrupted. */
	rt_calls_stopping(calls);
	rt_sip_stop(sip);
	rt_calls_stop(calls);
	rt_call_router_stop(router);
	rt_prompts_stop(prompts); /* after the calls released theirs */
	/* After HTTP: every session and page view it took is written. */
	rt_dni_stop(dni);
	rt_info("stopped", "");
	return RT_EXIT_OK;
}
