/*
 * sim: `ringtrail simulate`, a demo that drives a running server the way
 * its users' visitors and callers would, through its public interfaces
 * only: visitors from a mix of channels take DNI sessions over the REST
 * API, then some of them call the tracking number they were shown, over
 * SIP, and talk (synthetic speech both ways), so that calls, recordings
 * and reports fill up with realistic data.
 *
 * It works in an account of its own (a "Simulation" client account it
 * creates, or the one named), with tracking numbers in the fictional
 * 555-01xx ranges whose destination is the simulator's own phone.
 *
 * Ownership: everything in the configuration is borrowed for the run.
 */
#ifndef RT_SIM_H
#define RT_SIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rt_sim_conf {
	const char *url; /* the server's base URL, "http://127.0.0.1:8080" */
	const char *key; /* an API key (write; admin to create the account) */
	const char *sip; /* the server's SIP address, "HOST:PORT" */
	/* The simulated business phone's "HOST:PORT" (SIP and RTP), which the
	 * server must reach; port 0 picks a free one. */
	const char *agent;
	const char *business; /* a name of rt_sim_businesses() */
	int64_t account_id;   /* 0: the "Simulation" client account */
	unsigned visitors, calls;
	unsigned concurrency; /* calls at once, at most */
	uint64_t seed;
	uint64_t duration_ms; /* visits and calls start within it */
	/* Caps on what the scripts say (0: none): talk time of an answered
	 * call, and ringing before an answer or a give-up. */
	uint64_t max_talk_ms, max_ring_ms;
	FILE *out; /* progress lines and the summary */
	/* Set (by a signal handler) to end the calls and stop early. */
	const volatile sig_atomic_t *interrupted;
};

/* The businesses the scripts are written for: NULL-terminated names
 * ("plumbing", ...); the first is the default. */
const char *const *rt_sim_businesses(void);

/*
 * Runs a simulation to its end.  Returns 0 when every visit and call ran
 * as planned; otherwise, with a message in err: EINVAL for a bad
 * configuration, ECONNREFUSED when the server cannot be reached, EACCES
 * when it refuses the key (or its scope is too small), EPROTO when the
 * server answered what it should not or calls did not go as planned,
 * EINTR when interrupted (the calls were ended first), or another errno
 * value.
 */
int rt_sim_run(const struct rt_sim_conf *conf, char *err, size_t errsz);

#endif
