/*
 * Conversation intelligence: what a call's transcript says, as data.
 *
 * A transcript is timed turns of two speakers (the caller on the
 * recording's left channel, the agent on the right).  rt_ai_analyze reads
 * it with the account's term lists and gives back one JSON object: the
 * caller's intent, sentiment per turn and per speaker, keyword, objection
 * and competitor hits, a call score with each criterion of its rubric,
 * lead qualification, outcome, missed opportunities, coaching moments, the
 * PII found (and the transcript with it masked), and a short summary.
 * docs/analysis.md is the user's guide to every field and rule.
 *
 * The analysers are rules over stemmed words (libstemmer's English
 * Snowball stemmer), with their cue phrases in data files compiled in
 * (src/ai/lexicon/).  Everything here is pure computation: no store, no
 * threads of its own; one rt_ai per thread (the stemmer is not
 * thread-safe).
 */
#ifndef RT_AI_H
#define RT_AI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum rt_ai_speaker { RT_AI_CALLER, RT_AI_AGENT };

struct rt_ai_turn {
	enum rt_ai_speaker speaker;
	int64_t start_ms, end_ms;
	char *text;	   /* owned */
	double confidence; /* 0..1; 1 for a typed transcript */
};

struct rt_ai_transcript {
	struct rt_ai_turn *turns; /* in order of start */
	size_t n;
};

/* Turns of a transcript JSON {"turns":[{"speaker","start_ms","end_ms",
 * "text"[,"confidence"]}]}: 0, or EINVAL with err naming the field
 * ("turns[3].start_ms: ...").  Turns are sorted by start; an empty text
 * is kept (a turn with nothing recognised). */
int rt_ai_transcript_from_json(const json_t *j, struct rt_ai_transcript *t,
			       char *err, size_t errsz);
/* {"turns":[...]} of t. */
json_t *rt_ai_transcript_json(const struct rt_ai_transcript *t);
/* Appends a turn (text copied); ENOMEM. */
int rt_ai_transcript_add(struct rt_ai_transcript *t, enum rt_ai_speaker speaker,
			 int64_t start_ms, int64_t end_ms, const char *text,
			 double confidence);
void rt_ai_transcript_free(struct rt_ai_transcript *t);
const char *rt_ai_speaker_name(enum rt_ai_speaker s);

struct rt_ai;
/* An account's term lists on top of the built-in ones. */
struct rt_ai_terms;
/*
 * Term lists from JSON: {"keywords": ["financing", ...], "objections":
 * {"price": ["too expensive", ...], ...}, "competitors": ["Aspen Dental",
 * ...]}, every member optional; a term is one to six words.  0, or EINVAL
 * with err naming the field.  They add to the built-in lists.
 */
int rt_ai_terms_from_json(struct rt_ai *a, const json_t *j,
			  struct rt_ai_terms **tp, char *err, size_t errsz);
void rt_ai_terms_free(struct rt_ai_terms *t);

/* The stemmer and the compiled-in lexicons; ENOMEM. */
int rt_ai_new(struct rt_ai **ap);
void rt_ai_free(struct rt_ai *a);
/*
 * The analysis of t (terms NULL: the built-in lists only) as one JSON
 * object (see docs/analysis.md); NULL when out of memory.
 */
json_t *rt_ai_analyze(struct rt_ai *a, const struct rt_ai_transcript *t,
		      const struct rt_ai_terms *terms);

/* Luhn's check over the digits of s (other characters skipped). */
int rt_ai_luhn_ok(const char *digits);

#endif
