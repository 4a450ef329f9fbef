/*
 * The run: plan the visitors and the calls from the seed, then play them
 * against the clock on this thread (DNI requests, heartbeats, placing
 * calls with at most `concurrency` at once) while the phone's thread
 * carries the calls; as each call ends, its record is read back from the
 * API and a line printed; at the end, a summary.
 *
 *   setup (account, pool, numbers) --> plan (visitors, calls, scripts
 *   spoken) --> loop: visits, second pages, heartbeats, calls, results
 *   --> summary
 *
 * A call is "as planned" when the server recorded the disposition its
 * script was written for (answered, with RTP both ways; no answer; busy;
 * abandoned); any other makes the run fail, which is what a newcomer
 * wants to know about a server that does not take calls as it should.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim_int.h"
#include "sip/sip.h"

#define RATE		  8000
#define HEARTBEAT_MS	  30000 /* dni.js's, while the page is visible */
#define WAIT_MS		  100	/* the loop's longest sleep */
#define RECORD_TRIES	  40	/* reading a call's record back, */
#define RECORD_EVERY_MS	  150	/* every so often */
#define INTERRUPT_WAIT_MS 10000 /* for the calls to end after Ctrl-C */
#define PING_MS		  3000	/* for the server's SIP to answer OPTIONS */

enum outcome { O_ANSWERED, O_BRIEF, O_NO_ANSWER, O_BUSY, O_ABANDONED };

static const struct {
	const char *disposition;
	unsigned weight; /* percent */
} outcomes[] = {
	[O_ANSWERED] = {"answered", 50},   [O_BRIEF] = {"answered", 15},
	[O_NO_ANSWER] = {"no_answer", 12}, [O_BUSY] = {"busy", 8},
	[O_ABANDONED] = {"abandoned", 15},
};

enum cst { PLANNED, SKIPPED, PLACED, ENDED, REPORTED };

struct run;

struct call {
	struct run *run;
	unsigned n;
	struct vis *vis;
	uint64_t at; /* ms from the start */
	enum outcome outcome;
	size_t script;
	struct rt_sip_phone_call plan;
	enum cst st; /* under run->lock once placed */
	struct rt_sip_phone_result res;
	/* The record, as the API has it. */
	int64_t id;
	char disposition[16], confidence[12], channel[48], location[64];
	double ring_s, talk_s;
	int64_t rtp_caller, rtp_callee;
	bool caller_speaks; /* within the talk time: the phone hears it */
	bool ok;
	char why[160];
};

struct vis {
	struct rt_sim_visitor v;
	uint64_t at, at2, seen;
	bool done, done2, gone, in_call;
	unsigned pending; /* its calls not over yet */
};

struct run {
	const struct rt_sim_conf *c;
	const struct rt_sim_business *b;
	struct rt_sim_rng rng;
	struct rt_sim_api *api;
	struct rt_sip_phone *phone;
	struct rt_speech *speech;
	struct rt_sim_site site;
	struct vis *vis;
	unsigned nvis;
	struct call *calls;
	unsigned ncalls;
	struct rt_sim_talk *talks; /* per script, spoken on first use */
	uint64_t t0;		   /* monotonic ms */
	int64_t wall0;
	unsigned active; /* under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	FILE *out;
	char *err;
	size_t errsz;
};

/* ---- the generator: splitmix64 ------------------------------------------- */

void rt_sim_rng_init(struct rt_sim_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t rt_sim_rand(struct rt_sim_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

unsigned rt_sim_below(struct rt_sim_rng *r, unsigned n)
{
	return n ? (unsigned)(rt_sim_rand(r) % n) : 0;
}

uint64_t rt_sim_between(struct rt_sim_rng *r, uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + rt_sim_rand(r) % (hi - lo + 1);
}

bool rt_sim_chance(struct rt_sim_rng *r, unsigned percent)
{
	return rt_sim_below(r, 100) < percent;
}

void rt_sim_chars(struct rt_sim_rng *r, char *out, size_t n,
		  const char *alphabet)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rt_sim_rand(r) % k];
	out[n] = '\0';
}

/* ---- small helpers ---------------------------------------------------------
 */

static uint64_t mono_ms(void)
{
	return rt_mono_us() / 1000;
}

static uint64_t now_ms(const struct run *r)
{
	return mono_ms() - r->t0;
}

static bool interrupted(const struct run *r)
{
	return r->c->interrupted && *r->c->interrupted;
}

/* "(312) 555-0104" for a North American number, else as it is. */
static const char *nat(const char *e164, char *out, size_t size)
{
	if (strlen(e164) == 12 && strncmp(e164, "+1", 2) == 0)
		snprintf(out, size, "(%.3s) %.3s-%.4s", e164 + 2, e164 + 5,
			 e164 + 8);
	else
		rt_strlcpy(out, e164, size);
	return out;
}

static const char *secs(uint64_t ms, char *out, size_t size)
{
	if (ms >= 60000)
		snprintf(out, size, "%llum%02llus",
			 (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms / 1000 % 60));
	else
		snprintf(out, size, "%.1fs", (double)ms / 1000);
	return out;
}

static void say(struct run *r, const char *fmt, ...) RT_PRINTF(2, 3);

static void say(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fflush(r->out);
}

/* The path of a landing URL, for a short line. */
static const char *path_of(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	rt_strlcpy(out, p ? p : "/", size);
	out[strcspn(out, "?#")] = '\0';
	return out;
}

/* ---- the plan --------------------------------------------------------------
 */

static int cmp_vis(const void *a, const void *b)
{
	const struct vis *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

static int cmp_call(const void *a, const void *b)
{
	const struct call *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/* A caller's number that no earlier visitor has: the next suffix in the
 * same area code. */
static void unique_phone(struct run *r, unsigned upto, struct rt_sim_visitor *v)
{
	for (unsigned tries = 0; tries < 100; tries++) {
		bool dup = false;

		for (unsigned i = 0; i < upto && !dup; i++)
			dup = strcmp(r->vis[i].v.phone, v->phone) == 0;
		if (!dup)
			return;
		/* "+1NPA55501XX": the last two digits. */
		snprintf(v->phone + 10, 3, "%02u",
			 (unsigned)(strtoul(v->phone + 10, NULL, 10) + 1) %
				 100);
	}
}

static enum outcome pick_outcome(struct run *r)
{
	unsigned x = rt_sim_below(&r->rng, 100);

	for (size_t i = 0; i < RT_ARRAY_SIZE(outcomes); i++) {
		if (x < outcomes[i].weight)
			return (enum outcome)i;
		x -= outcomes[i].weight;
	}
	return O_ANSWERED;
}

/* A script of the kind (brief or not); any when the business has none. */
static size_t pick_script(struct run *r, bool brief)
{
	size_t idx[16], n = 0;

	for (size_t i = 0; i < r->b->nscripts && n < RT_ARRAY_SIZE(idx); i++) {
		if (r->b->scripts[i].brief == brief)
			idx[n++] = i;
	}
	if (!n)
		return rt_sim_below(&r->rng, (unsigned)r->b->nscripts);
	return idx[rt_sim_below(&r->rng, (unsigned)n)];
}

static uint64_t cap(uint64_t v, uint64_t max)
{
	return max && v > max ? max : v;
}

static int plan_visitors(struct run *r)
{
	uint64_t d = r->c->duration_ms;

	r->nvis = r->c->visitors;
	r->vis = calloc(r->nvis ? r->nvis : 1, sizeof(*r->vis));
	if (!r->vis)
		return ENOMEM;
	for (unsigned i = 0; i < r->nvis; i++) {
		struct vis *x = &r->vis[i];

		rt_sim_visitor_make(&r->rng, r->b, i + 1, &x->v);
		unique_phone(r, i, &x->v);
		x->at = rt_sim_between(&r->rng, 0, d / 2);
		x->at2 = x->at + rt_sim_between(&r->rng, 1000, 1000 + d / 10);
	}
	/* Numbered in the order they arrive (a crawler stays a crawler). */
	qsort(r->vis, r->nvis, sizeof(*r->vis), cmp_vis);
	for (unsigned i = 0; i < r->nvis; i++)
		r->vis[i].v.n = i + 1;
	return 0;
}

/* The earlier call (of the first i) that a call back follows: a random
 * missed one of a visitor who has not called back yet, else any. */
static struct call *callback_of(struct run *r, unsigned i)
{
	unsigned pick[64], n = 0;

	for (unsigned k = 0; k < i && n < RT_ARRAY_SIZE(pick); k++) {
		if (r->calls[k].outcome >= O_NO_ANSWER &&
		    r->calls[k].vis->pending == 1)
			pick[n++] = k;
	}
	if (!n)
		return &r->calls[rt_sim_below(&r->rng, i)];
	return &r->calls[pick[rt_sim_below(&r->rng, n)]];
}

static int plan_calls(struct run *r)
{
	uint64_t d = r->c->duration_ms;
	unsigned *cand, ncand = 0, next = 0;

	r->ncalls = r->c->calls;
	if (!r->ncalls)
		return 0;
	r->calls = calloc(r->ncalls, sizeof(*r->calls));
	cand = calloc(r->nvis ? r->nvis : 1, sizeof(*cand));
	if (!r->calls || !cand) {
		free(cand);
		return ENOMEM;
	}
	for (unsigned i = 0; i < r->nvis; i++) {
		if (!r->vis[i].v.bot)
			cand[ncand++] = i;
	}
	if (!ncand) {
		free(cand);
		snprintf(r->err, r->errsz,
			 "no visitor to call from: --calls needs --visitors "
			 "that are not crawlers");
		return EINVAL;
	}
	/* Who calls: a shuffle of the visitors, the first ones once each;
	 * some call back later (a missed call first, preferably). */
	for (unsigned i = ncand; i > 1; i--) {
		unsigned j = rt_sim_below(&r->rng, i), t = cand[i - 1];

		cand[i - 1] = cand[j];
		cand[j] = t;
	}
	for (unsigned i = 0; i < r->ncalls; i++) {
		struct call *c = &r->calls[i];
		bool again = i > 0 && (next >= ncand ||
				       (i >= 2 && rt_sim_chance(&r->rng, 12)));

		c->run = r;
		c->outcome = i == 0 ? O_ANSWERED : pick_outcome(r);
		if (again) {
			struct call *prev = callback_of(r, i);

			/* Who calls back mostly reaches someone. */
			if (rt_sim_chance(&r->rng, 60))
				c->outcome = O_ANSWERED;
			c->vis = prev->vis;
			c->at = prev->at + 5000 +
				rt_sim_between(&r->rng, 0, d / 4);
		} else {
			struct vis *x = &r->vis[cand[next++]];

			c->vis = x;
			c->at = (x->v.second ? x->at2 : x->at) + 1500 +
				rt_sim_between(&r->rng, 0, d * 2 / 5);
		}
		c->vis->pending++;
	}
	free(cand);
	qsort(r->calls, r->ncalls, sizeof(*r->calls), cmp_call);
	for (unsigned i = 0; i < r->ncalls; i++)
		r->calls[i].n = i + 1;
	return 0;
}

/* Speaks the scripts the calls use (once each) and fills the calls'
 * plans for the phone. */
static int plan_talk(struct run *r)
{
	const struct rt_sim_conf *c = r->c;
	int err;

	if (!r->ncalls)
		return 0;
	r->talks = calloc(r->b->nscripts, sizeof(*r->talks));
	if (!r->talks)
		return ENOMEM;
	err = rt_speech_alloc(&r->speech);
	if (err)
		return err;
	for (unsigned i = 0; i < r->ncalls; i++) {
		struct call *k = &r->calls[i];
		struct rt_sip_phone_call *p = &k->plan;
		struct rt_sim_talk *t;
		uint64_t len;

		k->script = pick_script(r, k->outcome == O_BRIEF);
		t = &r->talks[k->script];
		if (!t->len) {
			err = rt_sim_talk_render(r->speech,
						 &r->b->scripts[k->script],
						 c->max_talk_ms, t);
			if (err) {
				snprintf(r->err, r->errsz,
					 "cannot speak the call scripts: %s",
					 strerror(err));
				return err;
			}
		}
		rt_strlcpy(p->from, k->vis->v.phone, sizeof(p->from));
		rt_strlcpy(p->from_name, k->vis->v.name, sizeof(p->from_name));
		p->caller_audio.pcm = t->caller;
		p->caller_audio.len = t->len;
		p->agent_audio.pcm = t->agent;
		p->agent_audio.len = t->len;
		len = (uint64_t)t->len * 1000 / RATE;
		p->talk_ms = (uint32_t)cap(len + 300, c->max_talk_ms);
		p->agent_hangs_up = t->agent_last && p->talk_ms > len &&
				    rt_sim_chance(&r->rng, 50);
		/* Half a second of the caller's first words, at least. */
		k->caller_speaks =
			t->caller_from &&
			(uint64_t)t->caller_from * 1000 / RATE + 500 <
				p->talk_ms;
		switch (k->outcome) {
		case O_ANSWERED:
		case O_BRIEF:
			p->answer = RT_SIP_PHONE_ANSWER;
			p->ring_ms = (uint32_t)cap(rt_sim_between(&r->rng, 2000,
								  9000),
						   c->max_ring_ms);
			break;
		case O_NO_ANSWER:
			p->answer = RT_SIP_PHONE_NO_ANSWER;
			p->ring_ms = (uint32_t)cap(rt_sim_between(&r->rng,
								  15000, 25000),
						   c->max_ring_ms);
			break;
		case O_BUSY:
			p->answer = RT_SIP_PHONE_BUSY;
			p->ring_ms =
				(uint32_t)rt_sim_between(&r->rng, 300, 1200);
			break;
		case O_ABANDONED:
			/* The caller gives up before the phone would. */
			p->give_up_ms =
				(uint32_t)cap(rt_sim_between(&r->rng, 4000,
							     12000),
					      c->max_ring_ms);
			p->answer = RT_SIP_PHONE_NO_ANSWER;
			p->ring_ms = p->give_up_ms + 20000;
			break;
		}
	}
	return 0;
}

/* ---- the visits ------------------------------------------------------------
 */

static int visit(struct run *r, struct vis *x)
{
	struct rt_sim_visitor *v = &x->v;
	char path[96], num[32], sm[160];
	int err;

	x->done = true;
	err = rt_sim_visit(r->api, r->site.site_key, v, r->err, r->errsz);
	if (err)
		return err;
	x->seen = now_ms(r);
	path_of(v->landing, path, sizeof(path));
	if (v->bot) {
		say(r,
		    "visit %3u/%-3u %-16s %-28s %-7s %-24.24s  no number "
		    "(a crawler sees the site's own)\n",
		    v->n, r->nvis, "(crawler)", "-", v->device, path);
		return 0;
	}
	snprintf(sm, sizeof(sm), "%s / %s", v->source, v->medium);
	say(r, "visit %3u/%-3u %-16.16s %-28.28s %-7s %-24.24s  %s%s\n", v->n,
	    r->nvis, v->channel[0] ? v->channel : "?", sm, v->device, path,
	    v->has_number ? nat(v->number, num, sizeof(num)) : "no number",
	    v->shared ? " (shared: every pool number is held)" : "");
	return 0;
}

static int second_page(struct run *r, struct vis *x)
{
	int err;

	x->done2 = true;
	if (!x->v.session_id[0] || x->gone)
		return 0;
	err = rt_sim_pageview(r->api, &x->v, r->err, r->errsz);
	if (err == ENOENT) {
		x->gone = true;
		return 0;
	}
	if (!err)
		x->seen = now_ms(r);
	return err;
}

/* A visitor who has yet to call keeps the page open: dni.js's heartbeat
 * keeps the number theirs. */
static int heartbeat(struct run *r, struct vis *x)
{
	int err = rt_sim_heartbeat(r->api, &x->v, r->err, r->errsz);

	x->seen = now_ms(r);
	if (err == ENOENT) {
		x->gone = true;
		return 0;
	}
	return err;
}

/* ---- the calls -------------------------------------------------------------
 */

static void done_h(const struct rt_sip_phone_result *res, void *arg)
{
	struct call *c = arg;
	struct run *r = c->run;

	pthread_mutex_lock(&r->lock);
	c->res = *res;
	c->st = ENDED;
	r->active--;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static int place(struct run *r, struct call *c)
{
	int err;

	rt_strlcpy(c->plan.to, c->vis->v.number, sizeof(c->plan.to));
	c->vis->in_call = true;
	pthread_mutex_lock(&r->lock);
	c->st = PLACED;
	r->active++;
	pthread_mutex_unlock(&r->lock);
	err = rt_sip_phone_call(r->phone, &c->plan, done_h, c);
	if (err) {
		pthread_mutex_lock(&r->lock);
		c->st = SKIPPED;
		r->active--;
		pthread_mutex_unlock(&r->lock);
		c->vis->in_call = false;
		snprintf(r->err, r->errsz, "cannot place a call: %s",
			 strerror(err));
	}
	return err;
}

/* The call's record, read back: the list by the number dialled (newest
 * first) until the SIP Call-ID appears with its end written, then the
 * call itself for the packets of its end event. */
static void read_record(struct run *r, struct call *c)
{
	char *num = rt_sim_api_escape(r->api, c->plan.to), path[160];
	json_t *item = NULL, *ev;
	struct rt_sim_resp resp;
	size_t i;

	/* The server never answered: it has no record to read. */
	if (!num || !c->res.sip_call_id[0] ||
	    (c->res.hangup == RT_SIP_SIDE_SYSTEM && !c->res.reached)) {
		free(num);
		return;
	}
	snprintf(path, sizeof(path),
		 "/v1/calls?account_id=%lld&number=%s&limit=50",
		 (long long)r->site.account_id, num);
	free(num);
	for (int t = 0; t < RECORD_TRIES && !c->id; t++) {
		json_t *list;

		if (t) {
			struct timespec ts = {0, RECORD_EVERY_MS * 1000000L};

			nanosleep(&ts, NULL);
		}
		if (rt_sim_api_call(r->api, "GET", path, NULL, NULL, true,
				    &resp))
			return;
		list = json_object_get(resp.json, "data");
		json_array_foreach (list, i, item) {
			if (strcmp(rt_sim_json_str(item, "sip_call_id"),
				   c->res.sip_call_id) != 0 ||
			    strcmp(rt_sim_json_str(item, "disposition"),
				   "in_progress") == 0)
				continue;
			c->id = json_integer_value(json_object_get(item, "id"));
			break;
		}
		rt_sim_resp_release(&resp);
	}
	if (!c->id)
		return;
	snprintf(path, sizeof(path), "/v1/calls/%lld", (long long)c->id);
	if (rt_sim_api_call(r->api, "GET", path, NULL, NULL, true, &resp))
		return;
	if (resp.status == 200) {
		json_t *a = json_object_get(resp.json, "attribution");

		rt_strlcpy(c->disposition,
			   rt_sim_json_str(resp.json, "disposition"),
			   sizeof(c->disposition));
		rt_strlcpy(c->confidence, rt_sim_json_str(a, "confidence"),
			   sizeof(c->confidence));
		rt_strlcpy(c->channel,
			   rt_sim_json_str(json_object_get(a, "source"),
					   "channel"),
			   sizeof(c->channel));
		rt_strlcpy(c->location,
			   rt_sim_json_str(json_object_get(resp.json, "caller"),
					   "location"),
			   sizeof(c->location));
		c->ring_s = json_number_value(
			json_object_get(resp.json, "ring_seconds"));
		c->talk_s = json_number_value(
			json_object_get(resp.json, "talk_seconds"));
		json_array_foreach (json_object_get(resp.json, "events"), i,
				    ev) {
			json_t *d = json_object_get(ev, "detail");

			if (strcmp(rt_sim_json_str(ev, "kind"), "ended") != 0)
				continue;
			c->rtp_caller = json_integer_value(
				json_object_get(d, "rtp_from_caller"));
			c->rtp_callee = json_integer_value(
				json_object_get(d, "rtp_from_callee"));
		}
	}
	rt_sim_resp_release(&resp);
}

/* Whether the server recorded what the script was written for. */
static void judge(struct call *c)
{
	const char *want = outcomes[c->outcome].disposition;

	c->ok = false;
	if (c->res.interrupted)
		snprintf(c->why, sizeof(c->why), "interrupted");
	else if (!c->res.sip_call_id[0])
		snprintf(c->why, sizeof(c->why), "not placed: %s",
			 c->res.reason);
	else if (!c->id)
		snprintf(c->why, sizeof(c->why),
			 "no record of it in the API (the caller got %u %s)",
			 c->res.status, c->res.reason);
	else if (strcmp(c->disposition, want) != 0)
		snprintf(c->why, sizeof(c->why),
			 "recorded %s, planned %s (the caller got %u %s)",
			 c->disposition, want, c->res.status, c->res.reason);
	else if (!strcmp(want, "answered") &&
		 (c->rtp_caller <= 0 || c->rtp_callee <= 0 ||
		  !c->res.caller_heard ||
		  (c->caller_speaks && !c->res.agent_heard)))
		snprintf(c->why, sizeof(c->why),
			 "no audio both ways (rtp %lld/%lld, heard %llu/%llu)",
			 (long long)c->rtp_caller, (long long)c->rtp_callee,
			 (unsigned long long)c->res.caller_heard,
			 (unsigned long long)c->res.agent_heard);
	else
		c->ok = true;
}

static void report(struct run *r, struct call *c)
{
	char from[32], to[32], ring[16], talk[48] = "", rtp[40] = "",
					 id[24] = "";

	read_record(r, c);
	judge(c);
	c->vis->in_call = false;
	c->vis->pending--;
	snprintf(ring, sizeof(ring), "%.1fs",
		 c->id ? c->ring_s : (double)c->res.ring_ms / 1000);
	if (c->res.answered) {
		snprintf(talk, sizeof(talk), "talk %5.1fs",
			 c->id ? c->talk_s : (double)c->res.talk_ms / 1000);
		snprintf(rtp, sizeof(rtp), "rtp %lld/%lld",
			 (long long)c->rtp_caller, (long long)c->rtp_callee);
	}
	if (c->id)
		snprintf(id, sizeof(id), "call %lld", (long long)c->id);
	say(r,
	    "call  %3u/%-3u %s -> %s  %-16.16s %-10s ring %5s %-12s %-15s "
	    "%s%s%s\n",
	    c->n, r->ncalls, nat(c->plan.from, from, sizeof(from)),
	    nat(c->plan.to, to, sizeof(to)),
	    c->channel[0] ? c->channel : c->vis->v.channel,
	    c->id ? c->disposition : "?", ring, talk, rtp, id,
	    c->ok		 ? ""
	    : c->res.interrupted ? "  (interrupted)"
				 : "  ! ",
	    c->ok || c->res.interrupted ? "" : c->why);
	pthread_mutex_lock(&r->lock);
	c->st = REPORTED;
	pthread_mutex_unlock(&r->lock);
}

/* ---- the loop
 * ---------------------------------------------------------------- */

static enum cst call_st(struct run *r, const struct call *c)
{
	enum cst st;

	pthread_mutex_lock(&r->lock);
	st = c->st;
	pthread_mutex_unlock(&r->lock);
	return st;
}

/* Reports the calls that ended since last time; how many there were. */
static unsigned report_ended(struct run *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->ncalls; i++) {
		if (call_st(r, &r->calls[i]) == ENDED) {
			report(r, &r->calls[i]);
			n++;
		}
	}
	return n;
}

static bool all_over(struct run *r)
{
	bool over = true;

	for (unsigned i = 0; i < r->nvis && over; i++)
		over = r->vis[i].done &&
		       (!r->vis[i].v.second || r->vis[i].done2);
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->ncalls && over; i++)
		over = r->calls[i].st == SKIPPED || r->calls[i].st == REPORTED;
	pthread_mutex_unlock(&r->lock);
	return over;
}

/* One pass over what is due; *nextp gets when something is next due. */
static int step(struct run *r, uint64_t *nextp)
{
	uint64_t now = now_ms(r), next = now + WAIT_MS;
	unsigned active;
	int err = 0;

	for (unsigned i = 0; i < r->nvis && !err; i++) {
		struct vis *x = &r->vis[i];

		if (!x->done && x->at <= now)
			err = visit(r, x);
		else if (!x->done && x->at < next)
			next = x->at;
		if (err || !x->done || x->v.bot)
			continue;
		if (x->v.second && !x->done2 && x->at2 <= now)
			err = second_page(r, x);
		else if (x->v.second && !x->done2 && x->at2 < next)
			next = x->at2;
		if (!err && x->pending && !x->gone && x->v.has_number &&
		    now - x->seen >= HEARTBEAT_MS)
			err = heartbeat(r, x);
	}
	if (err)
		return err;
	report_ended(r);
	for (unsigned i = 0; i < r->ncalls && !err; i++) {
		struct call *c = &r->calls[i];
		char num[32];

		if (call_st(r, c) != PLANNED)
			continue;
		if (c->at > now) {
			if (c->at < next)
				next = c->at;
			break; /* in order of time */
		}
		if (!c->vis->done || c->vis->in_call)
			continue; /* a callback waits for its first call */
		if (c->vis->v.has_number &&
		    !rt_sim_site_has(&r->site, c->vis->v.number)) {
			/* Never a number of the account's own: its calls
			 * would go to the business's real phone. */
			pthread_mutex_lock(&r->lock);
			c->st = SKIPPED;
			pthread_mutex_unlock(&r->lock);
			c->vis->pending--;
			say(r,
			    "call  %3u/%-3u not placed: visitor %u was shown "
			    "%s, which is not one of the simulation's numbers "
			    "(another pool or source number of the account "
			    "took the visit)\n",
			    c->n, r->ncalls, c->vis->v.n,
			    nat(c->vis->v.number, num, sizeof(num)));
			continue;
		}
		if (!c->vis->v.has_number) {
			pthread_mutex_lock(&r->lock);
			c->st = SKIPPED;
			pthread_mutex_unlock(&r->lock);
			c->vis->pending--;
			say(r,
			    "call  %3u/%-3u %s: not placed, visitor %u was "
			    "shown no number\n",
			    c->n, r->ncalls,
			    nat(c->vis->v.phone, num, sizeof(num)),
			    c->vis->v.n);
			continue;
		}
		pthread_mutex_lock(&r->lock);
		active = r->active;
		pthread_mutex_unlock(&r->lock);
		if (active >= r->c->concurrency)
			break; /* the next call waits for a line */
		err = place(r, c);
	}
	*nextp = next;
	return err;
}

static void wait_until(struct run *r, uint64_t next)
{
	uint64_t now = now_ms(r);
	struct timespec ts;

	if (next <= now)
		return;
	ts = rt_deadline_ms(next - now > WAIT_MS ? WAIT_MS : next - now);
	pthread_mutex_lock(&r->lock);
	pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	pthread_mutex_unlock(&r->lock);
}

/* Ctrl-C or a failure: every call is ended (BYE, CANCEL) and waited for,
 * then reported. */
static void wind_down(struct run *r)
{
	uint64_t until = now_ms(r) + INTERRUPT_WAIT_MS;
	unsigned active;

	rt_sip_phone_hangup(r->phone);
	for (;;) {
		report_ended(r);
		pthread_mutex_lock(&r->lock);
		active = r->active;
		pthread_mutex_unlock(&r->lock);
		if (!active || now_ms(r) >= until)
			break;
		wait_until(r, now_ms(r) + WAIT_MS);
	}
	report_ended(r); /* those that ended after the last look */
}

/* ---- the summary
 * --------------------------------------------------------------- */

struct tally {
	const char *name;
	unsigned n;
};

static void summary(struct run *r, bool stopped)
{
	struct tally ch[32];
	size_t nch = 0;
	unsigned sessions = 0, bots = 0, seconds = 0, placed = 0, answered = 0,
		 disp[RT_ARRAY_SIZE(outcomes)] = {0}, bad = 0, skipped = 0;
	char t[32];
	const char *base = rt_sim_api_base(r->api);

	for (unsigned i = 0; i < r->nvis; i++) {
		const struct rt_sim_visitor *v = &r->vis[i].v;
		size_t k;

		if (!r->vis[i].done)
			continue;
		if (v->bot) {
			bots++;
			continue;
		}
		sessions += v->session_id[0] != '\0';
		seconds += v->second && r->vis[i].done2;
		for (k = 0; k < nch && strcmp(ch[k].name, v->channel); k++)
			;
		if (k == nch && nch < RT_ARRAY_SIZE(ch))
			ch[nch++] = (struct tally){v->channel, 0};
		if (k < nch)
			ch[k].n++;
	}
	/* Most sessions first. */
	for (size_t i = 1; i < nch; i++) {
		for (size_t j = i; j > 0 && ch[j].n > ch[j - 1].n; j--) {
			struct tally tmp = ch[j];

			ch[j] = ch[j - 1];
			ch[j - 1] = tmp;
		}
	}
	for (unsigned i = 0; i < r->ncalls; i++) {
		const struct call *c = &r->calls[i];

		skipped += c->st == SKIPPED;
		if (c->st != REPORTED)
			continue;
		placed++;
		bad += !c->ok && !c->res.interrupted;
		if (!c->id)
			continue;
		for (size_t k = 0; k < RT_ARRAY_SIZE(outcomes); k++) {
			if (strcmp(c->disposition, outcomes[k].disposition) ==
			    0) {
				disp[k]++;
				break;
			}
		}
	}
	answered = disp[O_ANSWERED];
	say(r,
	    "\n%s in %s (seed %llu: --seed %llu plays the same visitors "
	    "and calls again)\n",
	    stopped ? "stopped" : "done", secs(now_ms(r), t, sizeof(t)),
	    (unsigned long long)r->c->seed, (unsigned long long)r->c->seed);
	say(r,
	    "  account   \"%s\" (id %lld), %s; pool of %zu numbers for "
	    "%s\n",
	    r->site.account_name, (long long)r->site.account_id, r->b->name,
	    r->site.pool_size, nat(r->site.target, t, sizeof(t)));
	say(r,
	    "  visitors  %u: %u sessions, %u crawler%s; %u viewed a second "
	    "page\n",
	    r->nvis, sessions, bots, bots == 1 ? "" : "s", seconds);
	say(r, "  channels  ");
	for (size_t i = 0; i < nch; i++)
		say(r, "%s%s %u", i ? ", " : "", ch[i].name, ch[i].n);
	say(r, "%s\n", nch ? "" : "none");
	say(r,
	    "  calls     %u placed: %u answered, %u missed (%u no answer, %u "
	    "busy, %u abandoned)\n",
	    placed, answered,
	    disp[O_NO_ANSWER] + disp[O_BUSY] + disp[O_ABANDONED],
	    disp[O_NO_ANSWER], disp[O_BUSY], disp[O_ABANDONED]);
	if (placed) {
		int64_t last = 0;

		/* In the order the server numbered them. */
		say(r, "  call ids ");
		for (;;) {
			int64_t next = 0;

			for (unsigned i = 0; i < r->ncalls; i++) {
				int64_t id = r->calls[i].id;

				if (id > last && (!next || id < next))
					next = id;
			}
			if (!next)
				break;
			say(r, " %lld", (long long)next);
			last = next;
		}
		say(r, "%s\n", last ? "" : " none recorded");
	}
	if (skipped)
		say(r,
		    "  %u call%s not placed: the visitor was shown no "
		    "number\n",
		    skipped, skipped == 1 ? "" : "s");
	if (bad)
		say(r, "  %u call%s did not go as planned (marked ! above)\n",
		    bad, bad == 1 ? "" : "s");
	say(r,
	    "  see them  GET %s/v1/calls?account_id=%lld (with the API "
	    "key)\n"
	    "            and the web app at %s/\n",
	    base, (long long)r->site.account_id, base);
}

/* ---- the run
 * ----------------------------------------------------------------- */

static int start_phone(struct run *r)
{
	struct rt_sip_phone_conf pc;
	int err;

	memset(&pc, 0, sizeof(pc));
	if (rt_strlcpy(pc.listen, r->c->agent, sizeof(pc.listen)) >=
		    sizeof(pc.listen) ||
	    rt_strlcpy(pc.server, r->c->sip, sizeof(pc.server)) >=
		    sizeof(pc.server))
		err = EINVAL;
	else
		err = rt_sip_phone_start(&r->phone, &pc);
	if (err == EINVAL)
		snprintf(r->err, r->errsz,
			 "bad SIP address: --sip '%s' or --agent '%s' (want "
			 "IP:PORT)",
			 r->c->sip, r->c->agent);
	else if (err)
		snprintf(r->err, r->errsz,
			 "cannot start the simulated phone on %s: %s",
			 r->c->agent, strerror(err));
	return err;
}

/* Before any visitor: the server's SIP answers, and takes calls from the
 * phone's address. */
static int check_sip(struct run *r)
{
	uint16_t st = rt_sip_phone_ping(r->phone, PING_MS);

	if (st >= 200 && st < 300)
		return 0;
	if (!st) {
		snprintf(r->err, r->errsz,
			 "the server's SIP address %s does not answer (no "
			 "answer to an OPTIONS in %us): is --sip right, and is "
			 "the server's sip_listen reachable from here?",
			 r->c->sip, PING_MS / 1000);
		return ECONNREFUSED;
	}
	snprintf(r->err, r->errsz,
		 "the server's SIP address %s refuses this host (%u to an "
		 "OPTIONS): a sip_trunk line must allow %s",
		 r->c->sip, st, r->c->agent);
	return EACCES;
}

static int loop(struct run *r)
{
	int err = 0;

	r->t0 = mono_ms();
	r->wall0 = rt_now_ms();
	while (!err && !all_over(r)) {
		uint64_t next = 0;

		if (interrupted(r))
			return EINTR;
		err = step(r, &next);
		if (!err)
			wait_until(r, next);
	}
	return err;
}

int rt_sim_run(const struct rt_sim_conf *conf, char *err, size_t errsz)
{
	struct run r;
	char dest[RT_SIP_URI_MAX];
	unsigned bad = 0;
	int e;

	memset(&r, 0, sizeof(r));
	r.c = conf;
	r.out = conf->out ? conf->out : stdout;
	r.err = err;
	r.errsz = errsz;
	err[0] = '\0';
	r.b = rt_sim_business(conf->business);
	if (!r.b) {
		snprintf(err, errsz, "unknown business '%s'", conf->business);
		return EINVAL;
	}
	if (!conf->concurrency || !conf->duration_ms) {
		snprintf(err, errsz,
			 "concurrency and duration must be above 0");
		return EINVAL;
	}
	rt_sim_rng_init(&r.rng, conf->seed);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);

	e = rt_sim_api_alloc(&r.api, conf->url, conf->key);
	if (e == EINVAL)
		snprintf(err, errsz, "bad --url '%s' (want http://HOST:PORT)",
			 conf->url);
	if (!e)
		e = start_phone(&r);
	if (!e) {
		rt_sip_phone_uri(r.phone, dest, sizeof(dest));
		e = rt_sim_setup(r.api, conf, dest, &r.site, err, errsz);
	}
	if (!e && conf->calls)
		e = check_sip(&r);
	if (!e)
		e = plan_visitors(&r);
	if (!e)
		e = plan_calls(&r);
	if (!e)
		e = plan_talk(&r);
	if (!e) {
		say(&r,
		    "simulating %u visitors and %u calls to %s in account "
		    "\"%s\" (id %lld)%s\n"
		    "  over %llus, up to %u calls at once; calls go to %s and "
		    "are answered at %s\n\n",
		    r.nvis, r.ncalls, r.b->name, r.site.account_name,
		    (long long)r.site.account_id,
		    r.site.created_account ? ", made for it now" : "",
		    (unsigned long long)(conf->duration_ms / 1000),
		    conf->concurrency, conf->sip, dest);
		e = loop(&r);
		if (e) {
			/* Whatever stopped it, the calls in progress end
			 * cleanly and are reported. */
			char keep[512];

			rt_strlcpy(keep, err, sizeof(keep));
			wind_down(&r);
			rt_strlcpy(err, keep, errsz);
			if (e == EINTR)
				snprintf(err, errsz,
					 "interrupted: the calls in progress "
					 "were ended");
		}
		summary(&r, e != 0);
		for (unsigned i = 0; i < r.ncalls; i++)
			bad += r.calls[i].st == SKIPPED ||
			       (r.calls[i].st == REPORTED && !r.calls[i].ok &&
				!r.calls[i].res.interrupted);
		if (!e && bad) {
			snprintf(err, errsz,
				 "%u of %u calls did not go as planned", bad,
				 r.ncalls);
			e = EPROTO;
		}
	}
	rt_sip_phone_stop(r.phone);
	rt_sim_api_free(r.api);
	rt_sim_site_release(&r.site);
	for (size_t i = 0; r.talks && i < r.b->nscripts; i++)
		rt_sim_talk_release(&r.talks[i]);
	free(r.talks);
	rt_speech_free(r.speech);
	free(r.calls);
	free(r.vis);
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	return e;
}
