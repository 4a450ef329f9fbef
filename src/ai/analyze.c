/*
 * The analysers: intent, sentiment, term hits, the call score and what
 * follows from them (lead, outcome, missed opportunities, coaching), and
 * the summary.  Each reads the words and the lexicons' hits of one
 * transcript; docs/analysis.md is the user's account of every rule.
 */
#include <ctype.h>
#include <errno.h>
#include <libstemmer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"
#include "util/util.h"

extern const char rt_ai_lexicon_cues[], rt_ai_lexicon_sentiment[],
	rt_ai_lexicon_terms[];
extern const size_t rt_ai_lexicon_cues_len, rt_ai_lexicon_sentiment_len,
	rt_ai_lexicon_terms_len;

const char *const rt_ai_intent_names[AI_NINTENTS] =
	{"purchase",	 "appointment", "inquiry", "complaint",
	 "cancellation", "support",	"spam",	   "other"};

#define SILENCE_MS    5000 /* a gap between turns that counts */
#define INTERRUPT_MS  500  /* talking over the other by this much */
#define TURN_ALPHA    4.0  /* a turn's sum to [-1, 1] */
#define SPEAKER_ALPHA 15.0 /* a speaker's sum to [-1, 1] (VADER's) */
#define TURN_LABEL    0.25 /* |score| of a positive / negative turn */
#define AGENT_LABEL   0.8  /* a speaker's sum: a positive / negative agent */
#define CALLER_LABEL  2.5  /* ... caller (after the baseline and purpose) */
#define CALLER_POLITE 1.0  /* the thanks and okays of any caller */
#define CALLER_BUYS   2.5  /* a caller buying or booking is being served */
#define CALLER_BLAMES 3.0  /* a complaint is dissatisfaction, however said */

int rt_ai_new(struct rt_ai **ap)
{
	struct rt_ai *a = calloc(1, sizeof(*a));
	char err[160] = "";
	int e;

	if (!a)
		return ENOMEM;
	a->stem = sb_stemmer_new("english", "UTF_8");
	if (!a->stem) {
		free(a);
		return ENOMEM;
	}
	e = rt_ai_lex_parse(a, &a->cues, rt_ai_lexicon_cues,
			    rt_ai_lexicon_cues_len, false, err, sizeof(err));
	if (!e)
		e = rt_ai_lex_parse(a, &a->senti, rt_ai_lexicon_sentiment,
				    rt_ai_lexicon_sentiment_len, false, err,
				    sizeof(err));
	if (!e)
		e = rt_ai_lex_parse(a, &a->terms, rt_ai_lexicon_terms,
				    rt_ai_lexicon_terms_len, true, err,
				    sizeof(err));
	if (e) {
		/* a broken lexicon is a build's mistake: said loudly */
		if (e == EINVAL)
			fprintf(stderr, "ringtrail: src/ai/lexicon: %s\n", err);
		rt_ai_free(a);
		return e == EINVAL ? EINVAL : ENOMEM;
	}
	*ap = a;
	return 0;
}

void rt_ai_free(struct rt_ai *a)
{
	if (!a)
		return;
	rt_ai_lex_free(&a->cues);
	rt_ai_lex_free(&a->senti);
	rt_ai_lex_free(&a->terms);
	if (a->stem)
		sb_stemmer_delete(a->stem);
	free(a);
}

/* ---- one analysis ------------------------------------------------------- */

struct ctx {
	struct rt_ai *a;
	const struct rt_ai_transcript *t;
	struct ai_words w;
	struct ai_hits cues, senti, terms;
	json_t *out;
	/* findings the later analysers read */
	int intent;
	double intent_score[AI_NINTENTS];
	int64_t intent_at; /* the caller's strongest buying cue, or -1 */
	bool next_step, offer, booked, sale;
	int64_t offer_at;
	size_t nobjections, unhandled;
	int64_t end_ms;
	double talk_agent; /* the agent's share of the words */
	char caller_name[64];
};

static enum rt_ai_speaker spk_at(const struct ctx *c, size_t word)
{
	return c->t->turns[c->w.t[word].turn].speaker;
}

/* Whether the cue's speaker rule takes the words at word. */
static double speaker_factor(const struct ctx *c, const struct ai_phrase *p,
			     size_t word)
{
	enum rt_ai_speaker s = spk_at(c, word);

	switch (p->speaker) {
	case SPK_CALLER:
		return s == RT_AI_CALLER ? 1 : 0;
	case SPK_AGENT:
		return s == RT_AI_AGENT ? 1 : 0;
	default:
		return 1;
	}
}

/* A negation among the three words before word, in its sentence. */
static bool negated(const struct ctx *c, size_t word)
{
	for (size_t k = 1; k <= 3 && k <= word; k++) {
		const struct ai_tok *t = &c->w.t[word - k];

		if (t->turn != c->w.t[word].turn || t->sent_end)
			return false;
		if (!strcmp(t->w, "not") || !strcmp(t->w, "no") ||
		    !strcmp(t->w, "never") || !strcmp(t->w, "nothing") ||
		    !strcmp(t->w, "without") || !strcmp(t->w, "nobody"))
			return true;
	}
	return false;
}

static json_t *hit_json(const struct ctx *c, const char *term, size_t word,
			size_t n)
{
	char *said = rt_ai_span_text(c->t, &c->w, word, n);
	json_t *j = json_pack("{s:s,s:s,s:I,s:I,s:s}", "term", term, "speaker",
			      rt_ai_speaker_name(spk_at(c, word)), "start_ms",
			      (json_int_t)c->w.t[word].at_ms, "turn",
			      (json_int_t)c->w.t[word].turn, "said",
			      said ? said : "");

	free(said);
	return j;
}

/* ---- intent ------------------------------------------------------------- */

/* How much a caller's turn tells why they called, by its rank among the
 * caller's turns with something to say (three words or more): people say
 * why they call in their first sentences, and later cues ("tomorrow at
 * eight is fine" in a complaint) are about how the call went on. */
static double opening_weight(unsigned rank)
{
	static const double w[] = {2.5, 1.75, 1.25};

	return rank < RT_ARRAY_SIZE(w) ? w[rank] : 1.0;
}

/* A buying or booking cue that names what the caller already has: said in
 * the past ("I ordered", "the cleaning I booked") where the lexicon's word
 * is not, or after "my" / "our" ("my appointment", "our order").  The
 * caller is an existing customer talking about it, not buying again. */
static bool already_has(const struct ctx *c, const struct ai_hit *h)
{
	const char *said = c->w.t[h->at].w, *cue = h->p->label;
	size_t n = strlen(said), cn = strcspn(cue, " ");

	if (n > 4 && !strcmp(said + n - 2, "ed") &&
	    !(cn > 2 && !strncmp(cue + cn - 2, "ed", 2)))
		return true;
	if (h->at > 0 && c->w.t[h->at - 1].turn == c->w.t[h->at].turn &&
	    !c->w.t[h->at - 1].sent_end &&
	    (!strcmp(c->w.t[h->at - 1].w, "my") ||
	     !strcmp(c->w.t[h->at - 1].w, "our")))
		return true;
	return false;
}

static void intent(struct ctx *c)
{
	double best_cue = 0;
	unsigned questions = 0, rank = 0;
	unsigned *turn_rank = calloc(c->t->n + 1, sizeof(*turn_rank));
	size_t *sent = calloc(c->w.n + 1, sizeof(*sent)), nsent = 0;
	bool *cancel_sent = calloc(c->w.n + 1, sizeof(*cancel_sent));
	/* RT_AI_TRACE=1: every intent cue and what it counted, on stderr
	 * (for tuning the lexicon) */
	bool trace = getenv("RT_AI_TRACE") != NULL;

	memset(c->intent_score, 0, sizeof(c->intent_score));
	c->intent_at = -1;
	c->intent = CAT_OTHER;
	if (!turn_rank || !sent || !cancel_sent)
		goto out; /* out of memory: "other" */
	/* the caller's turns ranked: the first ones say why they call */
	for (size_t i = 0; i < c->t->n; i++) {
		size_t nw = c->w.turn_first[i + 1] - c->w.turn_first[i];

		turn_rank[i] = rank;
		if (c->t->turns[i].speaker == RT_AI_CALLER && nw >= 3)
			rank++;
	}
	/* sentences, and those where the caller cancels something: a
	 * booking or an order named there is what is cancelled ("I need to
	 * cancel my cleaning on the twentieth") */
	for (size_t i = 0; i < c->w.n; i++) {
		sent[i] = nsent;
		if (c->w.t[i].sent_end)
			nsent++;
	}
	for (size_t i = 0; i < c->cues.n; i++) {
		const struct ai_hit *h = &c->cues.h[i];

		if (h->p->cat == CAT_CANCELLATION &&
		    spk_at(c, h->at) == RT_AI_CALLER && !negated(c, h->at))
			cancel_sent[sent[h->at]] = true;
	}
	for (size_t i = 0; i < c->cues.n; i++) {
		const struct ai_hit *h = &c->cues.h[i];
		size_t turn = c->w.t[h->at].turn;
		bool caller = spk_at(c, h->at) == RT_AI_CALLER;
		int cat = (int)h->p->cat;
		double v;

		if (cat >= AI_NINTENTS)
			continue;
		if ((cat == CAT_PURCHASE || cat == CAT_APPOINTMENT) && caller &&
		    (already_has(c, h) || cancel_sent[sent[h->at]]))
			continue;
		v = h->p->weight;
		if (!caller)
			v *= h->p->speaker == SPK_CALLER ? 0.25 : 0.5;
		else
			v *= opening_weight(turn_rank[turn]);
		/* "I don't want to buy" is against buying; but a problem is
		 * told with negations ("I can't log in", "it won't start"),
		 * and a pitch is a pitch */
		if (negated(c, h->at) &&
		    (cat == CAT_PURCHASE || cat == CAT_APPOINTMENT ||
		     cat == CAT_INQUIRY || cat == CAT_CANCELLATION))
			v *= -0.5;
		c->intent_score[cat] += v;
		if (trace)
			fprintf(stderr, "cue %s [%s] turn %zu %+.2f\n",
				rt_ai_intent_names[cat], h->p->label, turn, v);
		if ((cat == CAT_PURCHASE || cat == CAT_APPOINTMENT) && caller &&
		    v > best_cue) {
			best_cue = v;
			c->intent_at = c->w.t[h->at].at_ms;
		}
	}
	/* the caller's questions in their opening turns: asking is
	 * inquiring */
	for (size_t i = 0; i < c->w.n; i++) {
		if (c->w.t[i].question && spk_at(c, i) == RT_AI_CALLER &&
		    turn_rank[c->w.t[i].turn] < 3)
			questions++;
	}
	c->intent_score[CAT_INQUIRY] += 0.5 * (questions > 4 ? 4 : questions);
	for (int k = 0; k < AI_NINTENTS; k++) {
		if (c->intent_score[k] > c->intent_score[c->intent] &&
		    c->intent_score[k] > 0)
			c->intent = k;
	}
	if (c->intent_score[c->intent] < 1)
		c->intent = CAT_OTHER; /* nothing said clearly enough */
out:
	free(turn_rank);
	free(sent);
	free(cancel_sent);
}

static json_t *intent_json(const struct ctx *c)
{
	double sum = 0, conf, scores[AI_NINTENTS];
	json_t *all = json_object();

	/* a softmax of the scores (temperature 2): how far ahead the
	 * winner is */
	for (int k = 0; k < AI_NINTENTS; k++) {
		double s = c->intent_score[k] > 0 ? c->intent_score[k] : 0;

		scores[k] = exp(s / 2);
		sum += scores[k];
	}
	conf = scores[c->intent] / sum;
	if (c->intent == CAT_OTHER && c->intent_score[CAT_OTHER] < 1)
		conf = 0.5; /* by default */
	for (int k = 0; k < AI_NINTENTS; k++)
		json_object_set_new(all, rt_ai_intent_names[k],
				    json_real(round(scores[k] / sum * 1000) /
					      1000));
	return json_pack("{s:s,s:f,s:o}", "label",
			 rt_ai_intent_names[c->intent], "confidence",
			 round(conf * 1000) / 1000, "scores", all);
}

/* ---- sentiment ---------------------------------------------------------- */

static const char *label_of(double score, double cut)
{
	return score >= cut    ? "positive"
	       : score <= -cut ? "negative"
			       : "neutral";
}

static double squash(double x, double alpha)
{
	return x / sqrt(x * x + alpha);
}

/* The modifier right before word (within two words, same sentence). */
static double modifier(const struct ctx *c, size_t word)
{
	double m = 1;

	for (size_t i = 0; i < c->senti.n; i++) {
		const struct ai_hit *h = &c->senti.h[i];

		if ((h->p->cat != CAT_INTENSIFIER &&
		     h->p->cat != CAT_DIMINISHER) ||
		    h->at + h->n > word || h->at + h->n + 2 < word ||
		    c->w.t[h->at].turn != c->w.t[word].turn)
			continue;
		m *= h->p->weight;
	}
	return m;
}

static json_t *sentiment(struct ctx *c)
{
	double *turn = calloc(c->t->n + 1, sizeof(*turn)), sum[2] = {0, 0};
	json_t *timeline = json_array(), *j;
	double sc[2], overall;
	const char *lab[3];

	if (!turn)
		return NULL;
	for (size_t i = 0; i < c->senti.n; i++) {
		const struct ai_hit *h = &c->senti.h[i];
		size_t tu = c->w.t[h->at].turn;
		double v = h->p->weight;

		if (h->p->cat != CAT_SENTIMENT ||
		    !speaker_factor(c, h->p, h->at))
			continue;
		v *= modifier(c, h->at);
		if (negated(c, h->at))
			v *= -0.74; /* VADER's factor */
		/* "but": what follows counts more than what came before */
		for (size_t k = c->w.turn_first[tu];
		     k < c->w.turn_first[tu + 1]; k++) {
			if (strcmp(c->w.t[k].w, "but"))
				continue;
			v *= k < h->at ? 1.5 : 0.5;
			break;
		}
		turn[tu] += v;
	}
	for (size_t i = 0; i < c->t->n; i++) {
		const struct rt_ai_turn *t = &c->t->turns[i];
		double s = squash(turn[i], TURN_ALPHA);

		sum[t->speaker] += turn[i];
		json_array_append_new(timeline,
				      json_pack("{s:I,s:s,s:I,s:f,s:s}", "turn",
						(json_int_t)i, "speaker",
						rt_ai_speaker_name(t->speaker),
						"start_ms",
						(json_int_t)t->start_ms,
						"score", round(s * 1000) / 1000,
						"label",
						label_of(s, TURN_LABEL)));
	}
	free(turn);
	/* The caller, in the call's context: politeness is everywhere on a
	 * call, so it takes more than thanks to be positive; someone calling
	 * to buy or book is glad to be served, and a complaint is
	 * dissatisfaction even when said politely.  A pitch is a script, not
	 * a customer's feelings: never negative. */
	sum[0] -= CALLER_POLITE;
	if (c->intent == CAT_PURCHASE || c->intent == CAT_APPOINTMENT)
		sum[0] += CALLER_BUYS;
	else if (c->intent == CAT_COMPLAINT)
		sum[0] -= CALLER_BLAMES;
	else if (c->intent == CAT_SPAM && sum[0] < 0)
		sum[0] = 0;
	lab[0] = label_of(sum[0], CALLER_LABEL);
	lab[1] = label_of(sum[1], AGENT_LABEL);
	sc[0] = squash(sum[0], SPEAKER_ALPHA);
	sc[1] = squash(sum[1], SPEAKER_ALPHA);
	/* The call: bad when either side was (a complaint, a caller turned
	 * away); good when the caller was, or when a warm agent helped a
	 * caller to buy, book or fix something; otherwise neutral (an
	 * answered question, a cancellation, a call not for the business). */
	if (!strcmp(lab[0], "negative") || !strcmp(lab[1], "negative"))
		lab[2] = "negative";
	else if (!strcmp(lab[0], "positive") ||
		 (!strcmp(lab[1], "positive") &&
		  (c->intent == CAT_PURCHASE || c->intent == CAT_APPOINTMENT ||
		   c->intent == CAT_SUPPORT)))
		lab[2] = "positive";
	else
		lab[2] = "neutral";
	overall = (sc[0] + sc[1]) / 2;
	j = json_pack("{s:{s:s,s:f},s:{s:s,s:f},s:{s:s,s:f},s:o}", "caller",
		      "label", lab[0], "score", round(sc[0] * 1000) / 1000,
		      "agent", "label", lab[1], "score",
		      round(sc[1] * 1000) / 1000, "overall", "label", lab[2],
		      "score", round(overall * 1000) / 1000, "timeline",
		      timeline);
	return j;
}

/* ---- terms -------------------------------------------------------------- */

/* An agent's handling cue in the two agent turns after the objection. */
static bool handled(const struct ctx *c, size_t word)
{
	size_t tu = c->w.t[word].turn, seen = 0;

	for (size_t t = tu + 1; t < c->t->n && seen < 2; t++) {
		if (c->t->turns[t].speaker != RT_AI_AGENT)
			continue;
		seen++;
		for (size_t i = 0; i < c->cues.n; i++) {
			const struct ai_hit *h = &c->cues.h[i];

			if ((h->p->cat == CAT_HANDLING ||
			     h->p->cat == CAT_OFFER) &&
			    c->w.t[h->at].turn == t)
				return true;
		}
	}
	return false;
}

static void terms(struct ctx *c, json_t *kw, json_t *obj, json_t *comp)
{
	for (size_t i = 0; i < c->terms.n; i++) {
		const struct ai_hit *h = &c->terms.h[i];
		json_t *j;

		switch (h->p->cat) {
		case CAT_KEYWORD:
			json_array_append_new(kw, hit_json(c, h->p->label,
							   h->at, h->n));
			break;
		case CAT_OBJECTION:
			/* the caller's, and not denied ("not too
			 * expensive") */
			if (spk_at(c, h->at) != RT_AI_CALLER ||
			    negated(c, h->at))
				break;
			j = hit_json(c, h->p->label, h->at, h->n);
			json_object_set_new(j, "handled",
					    json_boolean(handled(c, h->at)));
			c->nobjections++;
			if (!handled(c, h->at))
				c->unhandled++;
			json_array_append_new(obj, j);
			break;
		case CAT_COMPETITOR:
			json_array_append_new(comp, hit_json(c, h->p->label,
							     h->at, h->n));
			break;
		default:
			break;
		}
	}
}

/* ---- the score ---------------------------------------------------------- */

static json_t *criterion(const char *id, bool applicable, double points,
			 double max, const char *evidence)
{
	json_t *j = json_pack("{s:s,s:b,s:b,s:f,s:f}", "id", id, "applicable",
			      applicable, "met", applicable && points >= max,
			      "points", applicable ? points : 0.0, "max", max);

	if (evidence && *evidence)
		json_object_set_new(j, "evidence", json_string(evidence));
	return j;
}

/* The first cue of cat (by the agent when agent), not negated, whose
 * speaker rule takes it; NULL when none. */
static const struct ai_hit *first_cue(const struct ctx *c, enum ai_cat cat,
				      bool agent)
{
	for (size_t i = 0; i < c->cues.n; i++) {
		const struct ai_hit *h = &c->cues.h[i];

		if (h->p->cat == cat && speaker_factor(c, h->p, h->at) > 0 &&
		    (!agent || spk_at(c, h->at) == RT_AI_AGENT) &&
		    !negated(c, h->at))
			return h;
	}
	return NULL;
}

static const struct ai_hit *last_cue(const struct ctx *c, enum ai_cat cat,
				     bool agent)
{
	for (size_t i = c->cues.n; i-- > 0;) {
		const struct ai_hit *h = &c->cues.h[i];

		if (h->p->cat == cat && speaker_factor(c, h->p, h->at) > 0 &&
		    (!agent || spk_at(c, h->at) == RT_AI_AGENT) &&
		    !negated(c, h->at))
			return h;
	}
	return NULL;
}

static char *cue_text(const struct ctx *c, const struct ai_hit *h)
{
	return h ? rt_ai_span_text(c->t, &c->w, h->at, h->n) : NULL;
}

struct gaps {
	unsigned silences, interruptions;
	int64_t silence_at, silence_ms, interrupt_at;
};

static void gaps(const struct ctx *c, struct gaps *g)
{
	memset(g, 0, sizeof(*g));
	g->silence_at = g->interrupt_at = -1;
	for (size_t i = 1; i < c->t->n; i++) {
		const struct rt_ai_turn *p = &c->t->turns[i - 1],
					*t = &c->t->turns[i];
		int64_t gap = t->start_ms - p->end_ms;

		if (gap > SILENCE_MS) {
			if (!g->silences++ || gap > g->silence_ms) {
				g->silence_at = p->end_ms;
				g->silence_ms = gap;
			}
		}
		if (p->speaker != t->speaker && t->speaker == RT_AI_AGENT &&
		    -gap > INTERRUPT_MS) {
			if (!g->interruptions++)
				g->interrupt_at = t->start_ms;
		}
	}
}

static json_t *score(struct ctx *c, struct gaps *g)
{
	bool business = c->intent != CAT_SPAM && c->intent != CAT_OTHER;
	bool sells = c->intent == CAT_PURCHASE ||
		     c->intent == CAT_APPOINTMENT || c->intent == CAT_INQUIRY;
	const struct ai_hit *greet = NULL, *h;
	unsigned questions = 0;
	double pts, total = 0, max = 0;
	json_t *crit = json_array(), *j;
	char *ev;
	size_t first_agent_turn = c->t->n;

	for (size_t i = 0; i < c->t->n; i++) {
		if (c->t->turns[i].speaker == RT_AI_AGENT) {
			first_agent_turn = i;
			break;
		}
	}
	/* greeting: in the agent's first turn */
	h = first_cue(c, CAT_GREETING, true);
	if (h && c->w.t[h->at].turn == first_agent_turn)
		greet = h;
	ev = cue_text(c, greet);
	json_array_append_new(crit, criterion("greeting", true, greet ? 10 : 0,
					      10, ev));
	free(ev);
	/* needs discovery: the agent's questions */
	for (size_t i = 0; i < c->w.n; i++) {
		if (c->w.t[i].question && spk_at(c, i) == RT_AI_AGENT)
			questions++;
	}
	pts = questions >= 3 ? 20 : questions == 2 ? 14 : questions * 7.0;
	{
		char q[48];

		snprintf(q, sizeof(q), "%u questions", questions);
		json_array_append_new(crit, criterion("discovery", business,
						      pts, 20, q));
	}
	/* an offer or a booking attempt */
	h = first_cue(c, CAT_OFFER, true);
	c->offer = h != NULL;
	c->offer_at = h ? c->w.t[h->at].at_ms : -1;
	ev = cue_text(c, h);
	json_array_append_new(crit,
			      criterion("offer", sells, h ? 15 : 0, 15, ev));
	free(ev);
	/* objections answered */
	pts = c->nobjections ? 15.0 * (double)(c->nobjections - c->unhandled) /
				       (double)c->nobjections
			     : 0;
	{
		char q[64];

		snprintf(q, sizeof(q), "%zu of %zu objections answered",
			 c->nobjections - c->unhandled, c->nobjections);
		json_array_append_new(crit,
				      criterion("objection_handling",
						business && c->nobjections > 0,
						round(pts * 10) / 10, 15,
						c->nobjections ? q : NULL));
	}
	/* a next step agreed */
	h = last_cue(c, CAT_NEXT_STEP, false);
	c->next_step = h != NULL;
	ev = cue_text(c, h);
	json_array_append_new(crit, criterion("next_step", business, h ? 20 : 0,
					      20, ev));
	free(ev);
	/* talk ratio: the agent between 35% and 65% of the words */
	{
		char q[48];
		double r = c->talk_agent;

		pts = r >= 0.35 && r <= 0.65   ? 10
		      : r >= 0.25 && r <= 0.75 ? 5
					       : 0;
		snprintf(q, sizeof(q), "agent %.0f%% of the words", r * 100);
		json_array_append_new(crit, criterion("talk_ratio", business,
						      pts, 10, q));
	}
	/* long silences and interruptions */
	{
		char q[64];

		snprintf(q, sizeof(q), "%u gaps over %d s", g->silences,
			 SILENCE_MS / 1000);
		json_array_append_new(crit, criterion("silences", business,
						      g->silences == 0	 ? 5
						      : g->silences == 1 ? 3
									 : 0,
						      5, q));
		snprintf(q, sizeof(q),
			 "the agent talked over the caller %u "
			 "times",
			 g->interruptions);
		json_array_append_new(crit,
				      criterion("interruptions", business,
						g->interruptions <= 1	? 5
						: g->interruptions <= 3 ? 2
									: 0,
						5, q));
	}
	for (size_t i = 0; i < json_array_size(crit); i++) {
		json_t *k = json_array_get(crit, i);

		if (!json_is_true(json_object_get(k, "applicable")))
			continue;
		total += json_real_value(json_object_get(k, "points"));
		max += json_real_value(json_object_get(k, "max"));
	}
	j = json_pack("{s:I,s:o}", "total",
		      (json_int_t)(max > 0 ? lround(100 * total / max) : 0),
		      "criteria", crit);
	return j;
}

/* ---- lead, outcome, missed opportunities, coaching ------------------------
 */

static json_t *lead(const struct ctx *c)
{
	const char *why;
	bool q = false;

	switch (c->intent) {
	case CAT_PURCHASE:
		q = true;
		why = "the caller wanted to buy";
		break;
	case CAT_APPOINTMENT:
		q = true;
		why = "the caller wanted an appointment";
		break;
	case CAT_INQUIRY:
		q = c->booked || c->sale || c->offer_at >= 0;
		why = c->booked || c->sale
			      ? "an inquiry that ended in a booking or a sale"
		      : q ? "an inquiry about the business's services, with "
			    "an offer made"
			  : "an inquiry without buying intent";
		break;
	case CAT_COMPLAINT:
		why = "an existing customer's complaint";
		break;
	case CAT_CANCELLATION:
		why = "an existing customer cancelling";
		break;
	case CAT_SUPPORT:
		why = "an existing customer's support request";
		break;
	case CAT_SPAM:
		why = "a spam or sales call";
		break;
	default:
		why = "not a prospective customer (wrong number or other)";
		break;
	}
	if (c->booked || c->sale)
		q = true;
	return json_pack("{s:b,s:s}", "qualified", q, "reason", why);
}

static void add_flag(json_t *arr, const char *kind, int64_t at,
		     const char *detail)
{
	json_array_append_new(arr,
			      json_pack("{s:s,s:I,s:s}", "kind", kind, "at_ms",
					(json_int_t)(at < 0 ? 0 : at), "detail",
					detail));
}

static void missed(const struct ctx *c, json_t *arr)
{
	bool buying = c->intent == CAT_PURCHASE ||
		      c->intent == CAT_APPOINTMENT || c->intent_at >= 0;
	int64_t at = c->intent_at >= 0 ? c->intent_at : 0;

	if (c->intent == CAT_SPAM || c->intent == CAT_OTHER)
		return;
	if (buying && !c->booked && !c->sale && !c->next_step)
		add_flag(arr, "no_next_step", at,
			 c->intent == CAT_APPOINTMENT
				 ? "The caller wanted an appointment but none "
				   "was booked and no next step agreed."
				 : "The caller showed buying intent but no "
				   "sale, booking or next step followed.");
	if (buying && !c->offer)
		add_flag(arr, "no_offer", at,
			 "No price, time or booking was offered to a caller "
			 "ready to buy.");
	if (c->unhandled)
		add_flag(arr, "objection_unanswered", at,
			 "An objection of the caller was left unanswered.");
}

static void coaching(const struct ctx *c, const json_t *score,
		     const json_t *objections, const struct gaps *g,
		     json_t *arr)
{
	const json_t *k;
	size_t i;
	char text[200];

	json_array_foreach (json_object_get(score, "criteria"), i, k) {
		const char *id = json_string_value(json_object_get(k, "id"));

		if (!json_is_true(json_object_get(k, "applicable")) ||
		    json_is_true(json_object_get(k, "met")))
			continue;
		if (!strcmp(id, "greeting"))
			add_flag(arr, "greeting", 0,
				 "Open with a greeting that names the business "
				 "and yourself, and offer help.");
		else if (!strcmp(id, "discovery"))
			add_flag(arr, "discovery", 0,
				 "Ask about the caller's needs (what, when, "
				 "budget) before offering anything.");
		else if (!strcmp(id, "offer"))
			add_flag(arr, "offer", c->intent_at,
				 "The caller showed interest here: offer a "
				 "time, "
				 "a price or a quote.");
		else if (!strcmp(id, "next_step"))
			add_flag(arr, "next_step", c->end_ms,
				 "Close with a concrete next step: a booked "
				 "time, a call back, a quote sent.");
		else if (!strcmp(id, "talk_ratio")) {
			snprintf(text, sizeof(text),
				 "The agent said %.0f%% of the words; aim for "
				 "40-60%%: ask, then listen.",
				 c->talk_agent * 100);
			add_flag(arr, "talk_ratio", 0, text);
		} else if (!strcmp(id, "silences")) {
			snprintf(text, sizeof(text),
				 "%.0f s of silence: tell the caller what you "
				 "are doing while they wait.",
				 (double)g->silence_ms / 1000);
			add_flag(arr, "silence", g->silence_at, text);
		} else if (!strcmp(id, "interruptions")) {
			add_flag(arr, "interruption", g->interrupt_at,
				 "The agent talked over the caller: let them "
				 "finish.");
		}
	}
	json_array_foreach (objections, i, k) {
		if (json_is_true(json_object_get(k, "handled")))
			continue;
		snprintf(text, sizeof(text),
			 "The caller's %s objection went unanswered: "
			 "acknowledge it and answer with value, options or "
			 "proof.",
			 json_string_value(json_object_get(k, "term")));
		add_flag(arr, "objection",
			 json_integer_value(json_object_get(k, "start_ms")),
			 text);
	}
}

/* ---- summary ------------------------------------------------------------ */

/* "my name is Jane", "this is Jane Doe": the caller's name, from the
 * caller's first two turns.  Only "my name is" takes a word written in
 * lower case (a recogniser's output); the others need a capital. */
static void caller_name(struct ctx *c)
{
	static const char *const not_names[] = {"i",	     "calling", "and",
						"the",	     "a",	"just",
						"about",     "from",	"with",
						"regarding", "so",	"is",
						"it",	     "my",	"your",
						"not"};

	c->caller_name[0] = '\0';
	for (size_t i = 0; i < c->cues.n && !c->caller_name[0]; i++) {
		const struct ai_hit *h = &c->cues.h[i];
		uint32_t turn = c->w.t[h->at].turn;
		const char *text = c->t->turns[turn].text;
		bool loose = !strcmp(h->p->label, "my name is");
		unsigned callers = 0;
		size_t len = 0;

		if (h->p->cat != CAT_NAME || spk_at(c, h->at) != RT_AI_CALLER)
			continue;
		for (uint32_t t = 0; t <= turn; t++)
			callers += c->t->turns[t].speaker == RT_AI_CALLER;
		if (callers > 2)
			break;
		for (size_t k = h->at + h->n;
		     k < h->at + h->n + 2 && k < c->w.n &&
		     c->w.t[k].turn == turn;
		     k++) {
			const struct ai_tok *t = &c->w.t[k];
			char first = text[t->off];
			bool stop = !isalpha((unsigned char)first) ||
				    (!loose && !isupper((unsigned char)first));

			for (size_t s = 0; s < RT_ARRAY_SIZE(not_names); s++)
				stop = stop || !strcmp(t->w, not_names[s]);
			if (stop)
				break;
			len += (size_t)snprintf(c->caller_name + len,
						sizeof(c->caller_name) - len,
						"%s%c%.*s", len ? " " : "",
						toupper((unsigned char)first),
						(int)t->len - 1,
						text + t->off + 1);
			if (len >= sizeof(c->caller_name) || t->sent_end)
				break;
		}
		if (len >= sizeof(c->caller_name))
			c->caller_name[0] = '\0';
	}
}

/* Up to three distinct terms of hits, "a, b and c". */
static void list_terms(const json_t *hits, char *out, size_t size)
{
	const char *seen[3];
	size_t n = 0, i;
	const json_t *k;

	out[0] = '\0';
	json_array_foreach (hits, i, k) {
		const char *t = json_string_value(json_object_get(k, "term"));
		bool dup = false;

		for (size_t s = 0; s < n; s++)
			dup = dup || !strcasecmp(seen[s], t);
		if (!dup && n < 3)
			seen[n++] = t;
	}
	for (size_t s = 0; s < n; s++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s",
			 s == 0	      ? ""
			 : s + 1 == n ? " and "
				      : ", ",
			 seen[s]);
}

static json_t *summary(struct ctx *c, const json_t *kw, const json_t *obj,
		       const json_t *comp)
{
	static const char *const why[AI_NINTENTS] =
		{"to buy",
		 "to book an appointment",
		 "with a question",
		 "to complain",
		 "to cancel",
		 "for help with a problem",
		 "with an unsolicited sales or spam pitch",
		 "for another reason"};
	struct rt_buf b;
	char list[200];
	const struct ai_hit *h;
	char *s;

	rt_buf_init(&b);
	rt_buf_printf(&b, "%s called %s",
		      c->caller_name[0] ? c->caller_name : "The caller",
		      why[c->intent]);
	list_terms(kw, list, sizeof(list));
	if (list[0] && c->intent != CAT_SPAM)
		rt_buf_printf(&b, " (%s)", list);
	rt_buf_puts(&b, ".");
	list_terms(comp, list, sizeof(list));
	if (list[0])
		rt_buf_printf(&b, " They mentioned %s.", list);
	list_terms(obj, list, sizeof(list));
	if (list[0])
		rt_buf_printf(&b, " Concerns raised: %s.", list);
	if (c->sale)
		rt_buf_puts(&b, " A sale was made.");
	else if (c->booked)
		rt_buf_puts(&b, " An appointment was booked.");
	else if (c->intent != CAT_SPAM && c->intent != CAT_OTHER)
		rt_buf_puts(&b, " Nothing was booked or sold.");
	/* the booking's words, else the last next step's */
	h = c->booked ? first_cue(c, CAT_BOOKED, false) : NULL;
	if (!h)
		h = last_cue(c, CAT_NEXT_STEP, false);
	if (h && c->intent != CAT_SPAM) {
		/* the sentence of the last next-step cue, as said */
		size_t a = h->at, e = h->at;
		const struct rt_ai_turn *t = &c->t->turns[c->w.t[h->at].turn];

		while (a > c->w.turn_first[c->w.t[h->at].turn] &&
		       !c->w.t[a - 1].sent_end)
			a--;
		while (!c->w.t[e].sent_end && e + 1 < c->w.n &&
		       c->w.t[e + 1].turn == c->w.t[h->at].turn)
			e++;
		s = strndup(t->text + c->w.t[a].off,
			    c->w.t[e].off + c->w.t[e].len - c->w.t[a].off);
		if (s && strlen(s) <= 160)
			rt_buf_printf(&b, " Next step: \"%s\".", s);
		free(s);
	} else if (c->intent != CAT_SPAM && c->intent != CAT_OTHER) {
		rt_buf_puts(&b, " No next step was agreed.");
	}
	s = rt_buf_detach(&b, NULL);
	{
		json_t *j = json_string(s ? s : "");

		free(s);
		return j;
	}
}

/* ---- all of it ------------------------------------------------------------
 */

json_t *rt_ai_analyze(struct rt_ai *a, const struct rt_ai_transcript *t,
		      const struct rt_ai_terms *acct)
{
	struct ctx c = {.a = a, .t = t};
	json_t *out = json_object(), *kw = json_array(), *obj = json_array(),
	       *comp = json_array(), *sc, *flags = json_array(),
	       *coach = json_array();
	struct gaps g;
	size_t words[2] = {0, 0};
	int err;

	if (!out || !kw || !obj || !comp || !flags || !coach)
		goto oom;
	err = rt_ai_words_build(a, t, &c.w);
	if (!err)
		err = rt_ai_match(&a->cues, &c.w, &c.cues);
	if (!err)
		err = rt_ai_match(&a->senti, &c.w, &c.senti);
	if (!err)
		err = rt_ai_match(&a->terms, &c.w, &c.terms);
	if (!err && acct)
		err = rt_ai_match(&acct->lex, &c.w, &c.terms);
	if (err)
		goto oom;
	for (size_t i = 0; i < c.w.n; i++)
		words[spk_at(&c, i)]++;
	c.talk_agent =
		words[0] + words[1]
			? (double)words[1] / (double)(words[0] + words[1])
			: 0;
	c.end_ms = t->n ? t->turns[t->n - 1].end_ms : 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->turns[i].end_ms > c.end_ms)
			c.end_ms = t->turns[i].end_ms;
	}
	intent(&c);
	c.booked = last_cue(&c, CAT_BOOKED, false) != NULL;
	c.sale = last_cue(&c, CAT_SALE, false) != NULL;
	if (c.intent == CAT_SPAM || c.intent == CAT_OTHER)
		c.booked = c.sale = false;
	/* a sale is made on a call to buy, book or ask; on a complaint or a
	 * support call "that went through" is a fix or a change to what the
	 * caller has, and on a cancellation a booking named is the one
	 * cancelled */
	if (c.intent == CAT_COMPLAINT || c.intent == CAT_SUPPORT ||
	    c.intent == CAT_CANCELLATION)
		c.sale = false;
	if (c.intent == CAT_CANCELLATION)
		c.booked = false;
	caller_name(&c);
	json_object_set_new(out, "transcript", rt_ai_transcript_json(t));
	json_object_set_new(out, "intent", intent_json(&c));
	json_object_set_new(out, "sentiment", sentiment(&c));
	terms(&c, kw, obj, comp);
	json_object_set_new(out, "keywords", kw);
	json_object_set_new(out, "objections", obj);
	json_object_set_new(out, "competitors", comp);
	gaps(&c, &g);
	sc = score(&c, &g);
	json_object_set_new(out, "score", sc);
	json_object_set_new(out, "lead", lead(&c));
	json_object_set_new(out, "outcome",
			    json_string(c.sale	   ? "sale"
					: c.booked ? "booked"
						   : "none"));
	json_object_set_new(out, "next_step", json_boolean(c.next_step));
	missed(&c, flags);
	json_object_set_new(out, "missed_opportunities", flags);
	coaching(&c, sc, obj, &g, coach);
	json_object_set_new(out, "coaching", coach);
	if (rt_ai_redact(t, &c.w, out))
		goto oom_kw;
	json_object_set_new(out, "summary", summary(&c, kw, obj, comp));
	free(c.cues.h);
	free(c.senti.h);
	free(c.terms.h);
	rt_ai_words_free(&c.w);
	return out;
oom:
	json_decref(kw);
	json_decref(obj);
	json_decref(comp);
	json_decref(flags);
	json_decref(coach);
oom_kw:
	json_decref(out);
	free(c.cues.h);
	free(c.senti.h);
	free(c.terms.h);
	rt_ai_words_free(&c.w);
	return NULL;
}
