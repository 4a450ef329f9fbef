/*
 * Inside src/sim: the API client (api.c), the account the simulation
 * works in (setup.c), the businesses and their call scripts (script.c),
 * speech (src/media/speech.c, the only file that sees flite), visitors
 * (visit.c) and the run itself (sim.c).  Everything runs on the caller's
 * thread but the phone (src/sip/phone.c), which reports each call from
 * its own.
 */
#ifndef RT_SIM_INT_H
#define RT_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "media/speech.h"
#include "sim/sim.h"
#include "util/util.h"

/* ---- a seeded generator (sim.c): the same seed, the same visitors ------ */

struct rt_sim_rng {
	uint64_t s;
};
void rt_sim_rng_init(struct rt_sim_rng *r, uint64_t seed);
uint64_t rt_sim_rand(struct rt_sim_rng *r);
/* Uniform in [0, n); 0 for n 0. */
unsigned rt_sim_below(struct rt_sim_rng *r, unsigned n);
/* Uniform in [lo, hi]. */
uint64_t rt_sim_between(struct rt_sim_rng *r, uint64_t lo, uint64_t hi);
/* True with probability percent/100. */
bool rt_sim_chance(struct rt_sim_rng *r, unsigned percent);
/* n random characters of alphabet into out (size > n), NUL-terminated. */
void rt_sim_chars(struct rt_sim_rng *r, char *out, size_t n,
		  const char *alphabet);

/* ---- the REST API (api.c) ------------------------------------------------ */

struct rt_sim_api;

/* An answer: the status and the body, parsed when it is JSON.  Owned;
 * rt_sim_resp_release frees it. */
struct rt_sim_resp {
	long status;
	char *body;
	json_t *json;
};

/* url: the server's base ("http://HOST:PORT", a path prefix allowed);
 * key: the API key.  Both are copied.  0, EINVAL for a URL that is not
 * http(s), or ENOMEM. */
int rt_sim_api_alloc(struct rt_sim_api **ap, const char *url, const char *key);
void rt_sim_api_free(struct rt_sim_api *a); /* NULL is fine */
const char *rt_sim_api_base(const struct rt_sim_api *a);

/*
 * One request to path (under the base, with its query).  body: JSON sent
 * as application/json (borrowed; NULL for none); ua: the User-Agent (NULL:
 * the simulator's own); auth: send the API key.  A 429 or 503 is tried
 * again after its Retry-After, for up to a minute.  Returns 0 with r
 * filled whatever the status, or ECONNREFUSED when no answer came (the
 * reason in rt_sim_api_error), or ENOMEM.
 */
int rt_sim_api_call(struct rt_sim_api *a, const char *method, const char *path,
		    const json_t *body, const char *ua, bool auth,
		    struct rt_sim_resp *r);
/* Why the last request got no answer ("Couldn't connect to server"). */
const char *rt_sim_api_error(const struct rt_sim_api *a);
void rt_sim_resp_release(struct rt_sim_resp *r);
/* "403 insufficient_scope: the message" of an error answer, in out. */
const char *rt_sim_resp_why(const struct rt_sim_resp *r, char *out,
			    size_t size);
/* The string member name of the answer's JSON, or "". */
const char *rt_sim_json_str(const json_t *o, const char *name);
/* s percent-encoded for a query (caller frees); NULL on ENOMEM. */
char *rt_sim_api_escape(struct rt_sim_api *a, const char *s);

/* ---- businesses and their calls (script.c) ------------------------------- */

enum rt_sim_who { RT_SIM_AGENT, RT_SIM_CALLER };

struct rt_sim_turn {
	enum rt_sim_who who;
	const char *text;
};

struct rt_sim_script {
	const char *topic; /* "water heater replacement quote" */
	bool brief;	   /* a short call: a question and its answer */
	const struct rt_sim_turn *turns;
	size_t nturns;
};

struct rt_sim_page {
	const char *path, *title;
};

struct rt_sim_business {
	const char *key;		    /* "plumbing" */
	const char *name;		    /* "Northside Plumbing & Heating" */
	const char *host;		    /* of its website */
	const struct rt_sim_page *landings; /* first pages of visits */
	size_t nlandings;
	const struct rt_sim_page *pages; /* second pages */
	size_t npages;
	const char *const *keywords; /* what its ads are bought on */
	size_t nkeywords;
	const char *const *campaigns; /* its ad campaigns' names */
	size_t ncampaigns;
	const char *const *referrers; /* directories that link to it */
	size_t nreferrers;
	const struct rt_sim_script *scripts;
	size_t nscripts;
};

/* The business of that key, or NULL. */
const struct rt_sim_business *rt_sim_business(const char *key);

/* Speech is media/speech.h's: the business's end in the slt voice,
 * callers in rms. */

/*
 * A script spoken: what each end says from the answer on, turn by turn
 * with short pauses, as two tracks of the same length (one end is silent
 * while the other speaks).  Turns that would start after max_ms (0: none)
 * are left out.  agent_last: the business's end said the last word.
 */
struct rt_sim_talk {
	int16_t *caller, *agent;
	size_t len;	    /* samples */
	size_t caller_from; /* where the caller first speaks; 0: never */
	bool agent_last;
};
int rt_sim_talk_render(struct rt_speech *sp, const struct rt_sim_script *s,
		       uint64_t max_ms, struct rt_sim_talk *t);
void rt_sim_talk_release(struct rt_sim_talk *t);

/* ---- visitors (visit.c) ----------------------------------------------------
 */

struct rt_sim_visitor {
	unsigned n;	   /* 1, 2, ... */
	const char *label; /* the kind of visit: "Google Ads", "Direct"... */
	bool bot;
	const char *device; /* "mobile", "desktop", "tablet", "bot" */
	char landing[1536], referrer[512], title[160], ua[320];
	bool second; /* views a second page */
	char second_url[512], second_title[160];
	char visitor_id[40], ga_client_id[40];
	/* The person, should they call. */
	char phone[16], name[48];
	/* What the server answered. */
	char session_id[24], number[20], display[32], number_kind[8];
	char channel[48], source[80], medium[48];
	bool shared, has_number;
};

/* Makes visitor n of a run of business b. */
void rt_sim_visitor_make(struct rt_sim_rng *r, const struct rt_sim_business *b,
			 unsigned n, struct rt_sim_visitor *v);
/*
 * The visitor's first page: a DNI session, as dni.js would ask for it.
 * 0, with the session and its number in v (none for a bot); ECONNREFUSED,
 * or EPROTO with the server's answer in err.
 */
int rt_sim_visit(struct rt_sim_api *a, const char *site_key,
		 struct rt_sim_visitor *v, char *err, size_t errsz);
/* The second page, and the heartbeat of a page left open.  0,
 * ECONNREFUSED, ENOENT when the session ended, or EPROTO with err. */
int rt_sim_pageview(struct rt_sim_api *a, struct rt_sim_visitor *v, char *err,
		    size_t errsz);
int rt_sim_heartbeat(struct rt_sim_api *a, struct rt_sim_visitor *v, char *err,
		     size_t errsz);

/* ---- the account it works in (setup.c) ------------------------------------
 */

struct rt_sim_site {
	int64_t account_id;
	char account_name[208];
	char site_key[72];
	int64_t pool_id;
	char target[20]; /* the business number on the site, E.164 */
	size_t pool_size;
	char source_number[20]; /* the Microsoft Ads number, E.164 */
	/* Every number above, pool and source (owned): the only ones the
	 * simulation calls, whatever else the account shows its visitors. */
	char (*mine)[20];
	size_t nmine;
	bool created_account;
	unsigned added, updated; /* numbers added, destinations changed */
};

/*
 * Finds or makes the account (conf->account_id, else the "Simulation"
 * client account below the key's), its pool with numbers enough for
 * conf->visitors besides the sessions still live (6 to 60), and a
 * Microsoft Ads source number, every number sending its calls to dest
 * (the phone's URI).  0, or ECONNREFUSED, EACCES, EINVAL (an --account
 * the key cannot see), EPROTO, with a message in err.
 */
int rt_sim_setup(struct rt_sim_api *a, const struct rt_sim_conf *conf,
		 const char *dest, struct rt_sim_site *site, char *err,
		 size_t errsz);
void rt_sim_site_release(struct rt_sim_site *site);
/* Whether e164 is one of the site's numbers. */
bool rt_sim_site_has(const struct rt_sim_site *site, const char *e164);

#endif
