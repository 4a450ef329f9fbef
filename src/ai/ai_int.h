/*
 * Inside src/ai: the words of a transcript, the compiled-in lexicons and
 * the phrase matcher every analyser shares.
 */
#ifndef RT_AI_INT_H
#define RT_AI_INT_H

#include <stdbool.h>

#include "ai/ai.h"

#define AI_WORD_MAX   32 /* longer words are cut (they match nothing) */
#define AI_PHRASE_MAX 8	 /* words in a cue or a term */

/* One word of a turn: lower case, contractions opened ("don't" is "do"
 * and "not", both spanning the written word). */
struct ai_tok {
	char w[AI_WORD_MAX];
	char stem[AI_WORD_MAX];
	uint32_t turn;
	uint32_t off, len; /* in the turn's text */
	int64_t at_ms;	   /* when it was said, spread over the turn */
	bool sent_end;	   /* a sentence ends after it (. ? !) */
	bool question;	   /* ... with a question mark */
};

struct ai_words {
	struct ai_tok *t;
	size_t n, cap;
	/* the first word of each turn, and one past the last turn */
	size_t *turn_first;
};

/* Cue categories of lexicon/cues.txt and the term kinds of terms.txt. */
enum ai_cat {
	/* intents, in the order of RT_AI_INTENTS */
	CAT_PURCHASE,
	CAT_APPOINTMENT,
	CAT_INQUIRY,
	CAT_COMPLAINT,
	CAT_CANCELLATION,
	CAT_SUPPORT,
	CAT_SPAM,
	CAT_OTHER,
	/* the score's rubric and the outcome */
	CAT_GREETING,
	CAT_DISCOVERY,
	CAT_OFFER,
	CAT_HANDLING,
	CAT_NEXT_STEP,
	CAT_BOOKED,
	CAT_SALE,
	CAT_DECLINE,
	CAT_NAME,
	/* sentiment words and their modifiers */
	CAT_SENTIMENT,
	CAT_NEGATION,
	CAT_INTENSIFIER,
	CAT_DIMINISHER,
	/* terms */
	CAT_KEYWORD,
	CAT_OBJECTION,
	CAT_COMPETITOR,
	CAT_N
};

#define AI_NINTENTS (CAT_OTHER + 1)
extern const char *const rt_ai_intent_names[AI_NINTENTS];

/* Who a cue counts for. */
enum { SPK_ANY = 0, SPK_CALLER = 1, SPK_AGENT = 2 };

struct ai_phrase {
	char *stems[AI_PHRASE_MAX]; /* "*" matches any one word */
	unsigned n;
	enum ai_cat cat;
	double weight;
	int speaker;
	const char *label; /* a term's label, a cue's text */
};

struct ai_lex {
	struct ai_phrase *p; /* sorted by first stem, then longest first */
	size_t n, cap;
};

/* A phrase found: words [at, at + n). */
struct ai_hit {
	const struct ai_phrase *p;
	size_t at, n;
};

struct ai_hits {
	struct ai_hit *h;
	size_t n, cap;
};

struct sb_stemmer;

struct rt_ai {
	struct sb_stemmer *stem;
	struct ai_lex cues, senti, terms;
};

struct rt_ai_terms {
	struct ai_lex lex;
};

/* text.c */
int rt_ai_words_build(struct rt_ai *a, const struct rt_ai_transcript *t,
		      struct ai_words *w);
void rt_ai_words_free(struct ai_words *w);
void rt_ai_stem(struct rt_ai *a, const char *word, char *out, size_t size);
/* Parses a lexicon ("head: phrase, phrase" lines) into l: 0, EINVAL
 * with the line in err, ENOMEM.  text is copied. */
int rt_ai_lex_parse(struct rt_ai *a, struct ai_lex *l, const char *text,
		    size_t len, bool terms, char *err, size_t errsz);
/* One phrase (words of text) of category cat to l. */
int rt_ai_lex_add(struct rt_ai *a, struct ai_lex *l, const char *text,
		  enum ai_cat cat, double weight, int speaker,
		  const char *label);
void rt_ai_lex_sort(struct ai_lex *l);
void rt_ai_lex_free(struct ai_lex *l);
/* Every phrase of l in the words, longest first at each word, phrases
 * that overlap a longer one of the same category skipped.  ENOMEM. */
int rt_ai_match(const struct ai_lex *l, const struct ai_words *w,
		struct ai_hits *out);
/* Words [at, at+n) of one turn's text, as written. */
char *rt_ai_span_text(const struct rt_ai_transcript *t,
		      const struct ai_words *w, size_t at, size_t n);
int rt_ai_hits_push(struct ai_hits *hs, const struct ai_phrase *p, size_t at,
		    size_t n);

/* redact.c: PII in the words; adds "redactions" and the masked
 * transcript to out. */
int rt_ai_redact(const struct rt_ai_transcript *t, const struct ai_words *w,
		 json_t *out);

#endif
