/*
 * Walking one call through a compiled flow (flow.h).
 *
 * advance() takes steps until one needs the call: decision steps pick an
 * exit from the facts and the clock; play, menu, dial and voicemail
 * become the action in progress and wait for rt_flow_run_input.  Every
 * step taken is a hop of the path, with the exit it was left by, which
 * the call's timeline and the simulate answer show.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flow/flow.h"
#include "util/util.h"

static const char *const dial_names[] = {"answered", "no_answer", "busy",
					 "failed"};

const char *rt_flow_dial_result_name(enum rt_flow_dial_result r)
{
	return (unsigned)r < RT_ARRAY_SIZE(dial_names) ? dial_names[r] : "?";
}

int rt_flow_dial_result_parse(const char *s, enum rt_flow_dial_result *rp)
{
	for (size_t i = 0; i < RT_ARRAY_SIZE(dial_names); i++)
		if (rt_streq(s, dial_names[i])) {
			*rp = (enum rt_flow_dial_result)i;
			return 0;
		}
	return EINVAL;
}

enum rt_flow_dial_result
rt_flow_dial_outcome(const enum rt_flow_dial_result *each, size_t n)
{
	size_t busy = 0, no_answer = 0;

	for (size_t i = 0; i < n; i++) {
		if (each[i] == RT_DIAL_ANSWERED)
			return RT_DIAL_ANSWERED;
		busy += each[i] == RT_DIAL_BUSY;
		no_answer += each[i] == RT_DIAL_NO_ANSWER;
	}
	if (n && busy == n)
		return RT_DIAL_BUSY;
	return no_answer || !n ? RT_DIAL_NO_ANSWER : RT_DIAL_FAILED;
}

/* ---- schedule ------------------------------------------------------------ */

static bool in_day(const struct rt_flow_day *d, int minute)
{
	for (size_t i = 0; i < d->n; i++)
		if (minute >= d->spans[i].from && minute < d->spans[i].to)
			return true;
	return false;
}

const char *rt_flow_schedule_exit(const struct rt_flow_step *s, const char *tz,
				  int64_t ms)
{
	const struct rt_flow_date *yearly = NULL, *dated = NULL, *d;
	struct rt_tz_tm t;

	if (rt_tz_local(s->u.schedule.tz ? s->u.schedule.tz : tz, ms, &t) &&
	    rt_tz_local("UTC", ms, &t))
		return "closed";
	for (size_t i = 0; i < s->u.schedule.ndates; i++) {
		d = &s->u.schedule.dates[i];
		if (d->month != t.month || d->day != t.day)
			continue;
		if (d->year == t.year)
			dated = d;
		else if (!d->year)
			yearly = d;
	}
	/* a dated entry is more particular than a yearly one */
	d = dated ? dated : yearly;
	if (d && d->holiday)
		return "holiday";
	if (d)
		return in_day(&d->hours, t.minute) ? "open" : "closed";
	return in_day(&s->u.schedule.week[t.wday], t.minute) ? "open"
							     : "closed";
}

/* ---- facts --------------------------------------------------------------- */

static const char *fact(const struct rt_flow_run *r, int f)
{
	const char *v = (unsigned)f < RT_NFACTS ? r->facts->v[f] : NULL;

	return v ? v : "";
}

static bool value_match(const char *want, const char *have)
{
	size_t n = strlen(want);

	if (n && want[n - 1] == '*')
		return strncasecmp(want, have, n - 1) == 0;
	return strcasecmp(want, have) == 0;
}

static bool rule_holds(const struct rt_flow_run *r,
		       const struct rt_flow_rule *ru)
{
	for (size_t i = 0; i < ru->n; i++) {
		const struct rt_flow_cond *c = &ru->conds[i];
		const char *have = fact(r, c->field);
		bool any = false;

		for (size_t k = 0; k < c->n && !any; k++)
			any = *have && value_match(c->values[k], have);
		if (!any)
			return false;
	}
	return true;
}

void rt_flow_template(const char *tmpl, const struct rt_flow_facts *facts,
		      char *out, size_t size)
{
	struct rt_buf b;
	const char *p = tmpl;

	rt_buf_init(&b);
	while (*p) {
		const char *q = strchr(p, '{'), *e;

		if (!q) {
			rt_buf_puts(&b, p);
			break;
		}
		rt_buf_append(&b, p, (size_t)(q - p));
		e = strchr(q, '}');
		if (!e) {
			rt_buf_puts(&b, q);
			break;
		}
		for (int f = 0; f < RT_NFACTS; f++) {
			const char *name = rt_flow_fact_name(f);

			if (strlen(name) == (size_t)(e - q - 1) &&
			    strncmp(name, q + 1, (size_t)(e - q - 1)) == 0) {
				const char *v = facts->v[f];

				rt_buf_puts(&b, v && *v ? v : "unknown");
			}
		}
		p = e + 1;
	}
	rt_strlcpy(out, b.s ? b.s : "", size);
	rt_buf_release(&b);
}

/* ---- the path ------------------------------------------------------------ */

static int hop(struct rt_flow_run *r, int step, int64_t at)
{
	struct rt_flow_hop *h;

	if (r->npath == r->path_cap) {
		size_t cap = r->path_cap ? r->path_cap * 2 : 16;
		struct rt_flow_hop *n = realloc(r->path, cap * sizeof(*n));

		if (!n)
			return ENOMEM;
		r->path = n;
		r->path_cap = cap;
	}
	h = &r->path[r->npath++];
	memset(h, 0, sizeof(*h));
	h->step = step;
	h->at_ms = at;
	return 0;
}

static struct rt_flow_hop *last(struct rt_flow_run *r)
{
	return r->npath ? &r->path[r->npath - 1] : NULL;
}

static void detail(struct rt_flow_run *r, const char *fmt, ...) RT_PRINTF(2, 3);
static void detail(struct rt_flow_run *r, const char *fmt, ...)
{
	struct rt_flow_hop *h = last(r);
	va_list ap;

	if (!h)
		return;
	va_start(ap, fmt);
	vsnprintf(h->detail, sizeof(h->detail), fmt, ap);
	va_end(ap);
}

/* Whether step s has exit `name` (which may go nowhere: null). */
static bool has_exit(const struct rt_flow_step *s, const char *name)
{
	for (size_t i = 0; i < s->nexits; i++)
		if (strcmp(s->exits[i].name, name) == 0)
			return true;
	return false;
}

/* The step exit `name` of the current step goes to; -1 for none. */
static int exit_to(const struct rt_flow_step *s, const char *name)
{
	for (size_t i = 0; i < s->nexits; i++)
		if (strcmp(s->exits[i].name, name) == 0)
			return s->exits[i].to;
	return -1;
}

static void end(struct rt_flow_run *r, const char *why)
{
	r->ended = true;
	r->cur = -1;
	rt_strlcpy(r->end_reason, why, sizeof(r->end_reason));
	memset(&r->act, 0, sizeof(r->act));
	r->act.kind = RT_ACT_HANGUP;
}

/* Leaves the current step by exit `name`: the next step's index, or -1
 * (the call ends). */
static int leave(struct rt_flow_run *r, const char *name)
{
	const struct rt_flow_step *s = &r->f->steps[r->cur];
	struct rt_flow_hop *h = last(r);
	int to = exit_to(s, name);

	if (h)
		rt_strlcpy(h->exit, name, sizeof(h->exit));
	if (to < 0)
		end(r, "no exit");
	return to;
}

static int add_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	char *d;

	if (!nv)
		return ENOMEM;
	*v = nv;
	d = rt_strdup(s);
	if (!d)
		return ENOMEM;
	nv[(*n)++] = d;
	return 0;
}

/* tag and set: what the call record gains. */
static void take_tags(struct rt_flow_run *r, const struct rt_flow_step *s)
{
	for (size_t i = 0; i < s->u.tag.n; i++) {
		bool have = false;

		for (size_t k = 0; k < r->ntags && !have; k++)
			have = strcmp(r->tags[k], s->u.tag.tags[i]) == 0;
		if (!have)
			(void)add_str(&r->tags, &r->ntags, s->u.tag.tags[i]);
	}
}

static void take_set(struct rt_flow_run *r, const struct rt_flow_step *s)
{
	if (s->u.set.has_value) {
		r->has_value = true;
		r->value = s->u.set.value;
	}
	if (s->u.set.has_lead) {
		r->has_lead = true;
		r->qualified = s->u.set.qualified;
	}
	for (size_t i = 0; i < s->u.set.nfields; i++) {
		size_t k = 0;

		while (k < r->nfields && strcmp(r->keys[k], s->u.set.keys[i]))
			k++;
		if (k < r->nfields) {
			char *v = rt_strdup(s->u.set.vals[i]);

			if (v) {
				free(r->vals[k]);
				r->vals[k] = v;
			}
		} else {
			char **nk = realloc(r->keys, (k + 1) * sizeof(*nk));
			char **nv;

			if (!nk)
				continue;
			r->keys = nk;
			nv = realloc(r->vals, (k + 1) * sizeof(*nv));
			if (!nv)
				continue;
			r->vals = nv;
			nk[k] = rt_strdup(s->u.set.keys[i]);
			nv[k] = rt_strdup(s->u.set.vals[i]);
			if (!nk[k] || !nv[k]) {
				free(nk[k]);
				free(nv[k]);
				continue;
			}
			r->nfields++;
		}
	}
}

static bool disclosure_plays(const struct rt_flow_run *r,
			     const struct rt_flow_step *s)
{
	const char *region = fact(r, RT_FACT_REGION);

	if (!r->facts->disclosure_on)
		return false;
	if (!s->u.disclosure.two_party_only || !*region)
		return true; /* an unknown region: play, to be safe */
	for (size_t i = 0; i < s->u.disclosure.nregions; i++)
		if (strcasecmp(s->u.disclosure.regions[i], region) == 0)
			return true;
	return false;
}

/* The dial action of step s: its targets in order, round robin rotated. */
static void dial_action(struct rt_flow_run *r, const struct rt_flow_step *s)
{
	size_t n = s->u.dial.n, first = 0;

	if (s->u.dial.strategy == RT_DIAL_ROUND_ROBIN && r->rr && n)
		first = r->rr(r->f, r->cur, n, r->rr_arg) % n;
	for (size_t i = 0; i < n; i++)
		r->act.order[i] = &s->u.dial.targets[(first + i) % n];
	r->act.norder = n;
	rt_strlcpy(r->act.whisper, r->whisper, sizeof(r->act.whisper));
	r->act.whisper_accept = r->whisper_accept;
	if (s->u.dial.strategy == RT_DIAL_ROUND_ROBIN)
		r->rr_first = (unsigned)first + 1;
}

/* Takes steps from `to` until one needs the call. */
static void advance(struct rt_flow_run *r, int to, int64_t at)
{
	while (to >= 0) {
		const struct rt_flow_step *s = &r->f->steps[to];
		const char *ex = NULL;

		if (r->npath >= RT_FLOW_RUN_STEPS) {
			end(r, "step limit");
			return;
		}
		if (hop(r, to, at)) {
			end(r, "out of memory");
			return;
		}
		r->cur = to;
		r->tries = 0;
		r->rr_first = 0;
		memset(&r->act, 0, sizeof(r->act));
		r->act.step = s;
		switch (s->type) {
		case RT_FLOW_PLAY:
			r->act.kind = RT_ACT_PLAY;
			r->act.prompt = &s->u.play.prompt;
			return;
		case RT_FLOW_DISCLOSURE:
			if (disclosure_plays(r, s)) {
				r->act.kind = RT_ACT_PLAY;
				r->act.prompt = &s->u.disclosure.prompt;
				return;
			}
			detail(r, "skipped (%s)",
			       r->facts->disclosure_on
				       ? "one-party consent region"
				       : "disclosure off for the account");
			ex = "next";
			break;
		case RT_FLOW_SCHEDULE:
			ex = rt_flow_schedule_exit(s, r->facts->tz, at);
			/* a holiday with no exit of its own is closed */
			if (strcmp(ex, "holiday") == 0 &&
			    !has_exit(s, "holiday")) {
				detail(r, "holiday");
				ex = "closed";
			}
			break;
		case RT_FLOW_GEO:
		case RT_FLOW_SOURCE:
			ex = "other";
			for (size_t i = 0; i < s->u.branch.n; i++)
				if (rule_holds(r, &s->u.branch.rules[i])) {
					ex = s->u.branch.rules[i].exit;
					break;
				}
			break;
		case RT_FLOW_MENU:
			r->act.kind = RT_ACT_MENU;
			r->act.prompt = &s->u.menu.prompt;
			r->act.timeout_s = s->u.menu.timeout_s;
			r->menu_since = at;
			return;
		case RT_FLOW_DIAL:
			r->act.kind = RT_ACT_DIAL;
			dial_action(r, s);
			return;
		case RT_FLOW_WHISPER:
			rt_flow_template(s->u.whisper.text, r->facts,
					 r->whisper, sizeof(r->whisper));
			r->whisper_accept = s->u.whisper.accept;
			detail(r, "%s", r->whisper);
			ex = "next";
			break;
		case RT_FLOW_VOICEMAIL:
			r->act.kind = RT_ACT_VOICEMAIL;
			r->act.prompt = &s->u.voicemail.greeting;
			r->act.beep = s->u.voicemail.beep;
			r->act.max_s = s->u.voicemail.max_s;
			return;
		case RT_FLOW_TAG:
			take_tags(r, s);
			ex = "next";
			break;
		case RT_FLOW_SET:
			take_set(r, s);
			ex = "next";
			break;
		default:
			end(r, "hangup");
			return;
		}
		to = leave(r, ex);
	}
}

int rt_flow_run_start(struct rt_flow_run *r, const struct rt_flow *f,
		      const struct rt_flow_facts *facts, rt_flow_rr_h *rr,
		      void *rr_arg, int64_t at_ms,
		      const struct rt_flow_action **act)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->facts = facts;
	r->rr = rr;
	r->rr_arg = rr_arg;
	r->cur = -1;
	advance(r, f->start, at_ms);
	*act = &r->act;
	return 0;
}

static void menu_time(struct rt_flow_run *r, int64_t at)
{
	if (at > r->menu_since)
		r->menu_ms += at - r->menu_since;
	r->menu_since = at;
}

/* A menu heard a digit or nothing: its exit, or the prompt again. */
static void menu_input(struct rt_flow_run *r, const struct rt_flow_step *s,
		       bool timeout, char digit, int64_t at)
{
	char d[2] = {digit, 0};
	const char *why = timeout ? "timeout" : "invalid";

	menu_time(r, at);
	if (!timeout) {
		size_t n = strlen(r->digits);

		if (n + 1 < sizeof(r->digits)) {
			r->digits[n] = digit;
			r->digits[n + 1] = 0;
		}
		if (has_exit(s, d)) {
			detail(r, "pressed %c", digit);
			advance(r, leave(r, d), at);
			return;
		}
	}
	r->tries++;
	if (r->tries > s->u.menu.retries) {
		detail(r, "%s, %u tries",
		       timeout ? "no input" : "invalid input", r->tries);
		advance(r, leave(r, why), at);
		return;
	}
	/* the prompt again, after a wrong digit the invalid prompt first */
	r->act.pre = timeout ? NULL : &s->u.menu.invalid;
}

int rt_flow_run_input(struct rt_flow_run *r, enum rt_flow_in in, char digit,
		      enum rt_flow_dial_result result, int64_t at_ms,
		      const struct rt_flow_action **act)
{
	const struct rt_flow_step *s;

	*act = &r->act;
	if (r->ended || r->cur < 0)
		return EINVAL;
	s = &r->f->steps[r->cur];
	switch (r->act.kind) {
	case RT_ACT_PLAY:
	case RT_ACT_VOICEMAIL:
		if (in != RT_IN_DONE)
			return EINVAL;
		if (r->act.kind == RT_ACT_VOICEMAIL)
			detail(r, "message taken");
		advance(r, leave(r, "next"), at_ms);
		return 0;
	case RT_ACT_MENU:
		if (in == RT_IN_DIGIT && !strchr("0123456789*#", digit))
			return EINVAL;
		if (in != RT_IN_DIGIT && in != RT_IN_TIMEOUT)
			return EINVAL;
		menu_input(r, s, in == RT_IN_TIMEOUT, digit, at_ms);
		return 0;
	case RT_ACT_DIAL:
		if (in != RT_IN_DIAL || (unsigned)result > RT_DIAL_FAILED)
			return EINVAL;
		if (r->rr_first)
			detail(r, "%s, from target %u",
			       rt_flow_dial_result_name(result), r->rr_first);
		else
			detail(r, "%s", rt_flow_dial_result_name(result));
		advance(r, leave(r, rt_flow_dial_result_name(result)), at_ms);
		return 0;
	default:
		return EINVAL;
	}
}

void rt_flow_run_hangup(struct rt_flow_run *r, int64_t at_ms)
{
	struct rt_flow_hop *h = last(r);

	if (r->ended)
		return;
	if (r->act.kind == RT_ACT_MENU)
		menu_time(r, at_ms);
	if (h && !h->exit[0])
		rt_strlcpy(h->exit, "caller_hangup", sizeof(h->exit));
	end(r, "caller hung up");
}

void rt_flow_run_release(struct rt_flow_run *r)
{
	free(r->path);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	for (size_t i = 0; i < r->nfields; i++) {
		free(r->keys[i]);
		free(r->vals[i]);
	}
	free(r->keys);
	free(r->vals);
	memset(r, 0, sizeof(*r));
}
