/*
 * Words and phrases: a transcript cut into lower-case words with their
 * stems and times, the lexicons of cue phrases, and the matcher that
 * finds a lexicon's phrases in the words.
 */
#include <ctype.h>
#include <errno.h>
#include <libstemmer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"
#include "util/util.h"

void rt_ai_stem(struct rt_ai *a, const char *word, char *out, size_t size)
{
	const sb_symbol *s;
	int len;

	if (isdigit((unsigned char)word[0]) || !a->stem) {
		rt_strlcpy(out, word, size);
		return;
	}
	s = sb_stemmer_stem(a->stem, (const sb_symbol *)word,
			    (int)strlen(word));
	len = s ? sb_stemmer_length(a->stem) : 0;
	if (!s || len <= 0 || (size_t)len >= size) {
		rt_strlcpy(out, word, size);
		return;
	}
	memcpy(out, s, (size_t)len);
	out[len] = '\0';
}

static bool word_byte(const char *s, size_t i, size_t len)
{
	unsigned char c = (unsigned char)s[i];

	if (isalnum(c) || c >= 0x80)
		return !(c == 0xe2 && i + 2 < len &&
			 (unsigned char)s[i + 1] == 0x80 &&
			 (unsigned char)s[i + 2] == 0x99); /* ’ */
	return false;
}

/* An apostrophe inside a word (' or ’): its length, else 0. */
static size_t apostrophe(const char *s, size_t i, size_t len)
{
	if (s[i] == '\'')
		return 1;
	if ((unsigned char)s[i] == 0xe2 && i + 2 < len &&
	    (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x99)
		return 3;
	return 0;
}

static int push(struct rt_ai *a, struct ai_words *w, const char *word,
		uint32_t turn, size_t off, size_t len)
{
	struct ai_tok *t;

	if (!word[0])
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct ai_tok *p = realloc(w->t, cap * sizeof(*p));

		if (!p)
			return ENOMEM;
		w->t = p;
		w->cap = cap;
	}
	t = &w->t[w->n++];
	memset(t, 0, sizeof(*t));
	rt_strlcpy(t->w, word, sizeof(t->w));
	rt_ai_stem(a, t->w, t->stem, sizeof(t->stem));
	t->turn = turn;
	t->off = (uint32_t)off;
	t->len = (uint32_t)len;
	return 0;
}

/* A written word (letters and apostrophes, lower case) as one or two
 * words: contractions opened so that negation reads the same. */
static int push_word(struct rt_ai *a, struct ai_words *w, char *word,
		     uint32_t turn, size_t off, size_t len)
{
	static const struct {
		const char *end, *second;
	} tails[] = {{"n't", "not"},  {"'m", "am"},    {"'re", "are"},
		     {"'ll", "will"}, {"'ve", "have"}, {"'d", "would"},
		     {"'s", ""}};
	size_t n = strlen(word);
	int err;

	for (size_t i = 0; i < RT_ARRAY_SIZE(tails); i++) {
		size_t tl = strlen(tails[i].end);

		if (n <= tl || strcmp(word + n - tl, tails[i].end))
			continue;
		word[n - tl] = '\0';
		if (i == 0) { /* can't, won't, shan't, ain't */
			if (!strcmp(word, "ca"))
				rt_strlcpy(word, "can", AI_WORD_MAX);
			else if (!strcmp(word, "wo"))
				rt_strlcpy(word, "will", AI_WORD_MAX);
			else if (!strcmp(word, "sha"))
				rt_strlcpy(word, "shall", AI_WORD_MAX);
			else if (!strcmp(word, "ai"))
				rt_strlcpy(word, "is", AI_WORD_MAX);
		}
		if ((err = push(a, w, word, turn, off, len)))
			return err;
		return push(a, w, tails[i].second, turn, off, len);
	}
	/* other apostrophes (o'clock, rock'n'roll) go */
	for (char *r = word, *d = word;; r++) {
		if (*r != '\'')
			*d++ = *r;
		if (!*r)
			break;
	}
	return push(a, w, word, turn, off, len);
}

static int turn_words(struct rt_ai *a, struct ai_words *w, uint32_t turn,
		      const char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		char word[AI_WORD_MAX];
		size_t start, k = 0, ap;

		int err;

		if (!word_byte(s, i, len)) {
			if ((s[i] == '.' || s[i] == '?' || s[i] == '!') &&
			    w->n && w->t[w->n - 1].turn == turn) {
				w->t[w->n - 1].sent_end = true;
				if (s[i] == '?')
					w->t[w->n - 1].question = true;
			}
			/* a ’ outside a word is skipped whole */
			i += (ap = apostrophe(s, i, len)) ? ap : 1;
			continue;
		}
		start = i;
		while (i < len) {
			if (word_byte(s, i, len)) {
				if (k + 1 < sizeof(word))
					word[k++] = (char)tolower(
						(unsigned char)s[i]);
				i++;
			} else if ((ap = apostrophe(s, i, len)) &&
				   i + ap < len && word_byte(s, i + ap, len)) {
				if (k + 1 < sizeof(word))
					word[k++] = '\'';
				i += ap;
			} else {
				break;
			}
		}
		word[k] = '\0';
		if ((err = push_word(a, w, word, turn, start, i - start)))
			return err;
	}
	return 0;
}

int rt_ai_words_build(struct rt_ai *a, const struct rt_ai_transcript *t,
		      struct ai_words *w)
{
	memset(w, 0, sizeof(*w));
	w->turn_first = calloc(t->n + 1, sizeof(*w->turn_first));
	if (!w->turn_first)
		return ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct rt_ai_turn *tu = &t->turns[i];
		size_t first = w->n, nw;
		int err;

		w->turn_first[i] = first;
		if ((err = turn_words(a, w, (uint32_t)i, tu->text)))
			return err;
		nw = w->n - first;
		/* times spread evenly over the turn's words */
		for (size_t k = 0; k < nw; k++)
			w->t[first + k].at_ms =
				tu->start_ms + (tu->end_ms - tu->start_ms) *
						       (int64_t)k /
						       (int64_t)(nw ? nw : 1);
		if (nw) /* a turn ends a sentence */
			w->t[w->n - 1].sent_end = true;
	}
	w->turn_first[t->n] = w->n;
	return 0;
}

void rt_ai_words_free(struct ai_words *w)
{
	free(w->t);
	free(w->turn_first);
	memset(w, 0, sizeof(*w));
}

char *rt_ai_span_text(const struct rt_ai_transcript *t,
		      const struct ai_words *w, size_t at, size_t n)
{
	const struct ai_tok *a = &w->t[at], *b = &w->t[at + n - 1];
	const char *text = t->turns[a->turn].text;

	if (b->turn != a->turn)
		b = a;
	return strndup(text + a->off, b->off + b->len - a->off);
}

/* ---- lexicons ----------------------------------------------------------- */

static const char *const cat_names[CAT_N] = {
	[CAT_PURCHASE] = "purchase",
	[CAT_APPOINTMENT] = "appointment",
	[CAT_INQUIRY] = "inquiry",
	[CAT_COMPLAINT] = "complaint",
	[CAT_CANCELLATION] = "cancellation",
	[CAT_SUPPORT] = "support",
	[CAT_SPAM] = "spam",
	[CAT_OTHER] = "other",
	[CAT_GREETING] = "greeting",
	[CAT_DISCOVERY] = "discovery",
	[CAT_OFFER] = "offer",
	[CAT_HANDLING] = "handling",
	[CAT_NEXT_STEP] = "next_step",
	[CAT_BOOKED] = "booked",
	[CAT_SALE] = "sale",
	[CAT_DECLINE] = "decline",
	[CAT_NAME] = "name",
	[CAT_SENTIMENT] = "sentiment",
	[CAT_NEGATION] = "negation",
	[CAT_INTENSIFIER] = "intensifier",
	[CAT_DIMINISHER] = "diminisher",
	[CAT_KEYWORD] = "keyword",
	[CAT_OBJECTION] = "objection",
	[CAT_COMPETITOR] = "competitor",
};

int rt_ai_lex_add(struct rt_ai *a, struct ai_lex *l, const char *text,
		  enum ai_cat cat, double weight, int speaker,
		  const char *label)
{
	struct ai_words w = {0};
	struct rt_ai_transcript t;
	struct rt_ai_turn tu = {.text = (char *)(uintptr_t)text};
	struct ai_phrase *p;
	int err;

	t.turns = &tu;
	t.n = 1;
	/* "*" is not a word byte: a phrase's wildcards are read apart */
	{
		char buf[256];
		size_t k = 0;

		for (const char *s = text; *s && k + 3 < sizeof(buf); s++) {
			if (*s == '*') {
				memcpy(buf + k, " zz9wild ", 9);
				k += 9;
				if (k + 3 >= sizeof(buf))
					break;
			} else {
				buf[k++] = *s;
			}
		}
		buf[k] = '\0';
		tu.text = buf;
		err = rt_ai_words_build(a, &t, &w);
		tu.text = NULL;
	}
	if (err) {
		rt_ai_words_free(&w);
		return err;
	}
	if (w.n == 0 || w.n > AI_PHRASE_MAX || !strcmp(w.t[0].w, "zz9wild")) {
		rt_ai_words_free(&w);
		return EINVAL;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct ai_phrase *np = realloc(l->p, cap * sizeof(*np));

		if (!np) {
			rt_ai_words_free(&w);
			return ENOMEM;
		}
		l->p = np;
		l->cap = cap;
	}
	p = &l->p[l->n];
	memset(p, 0, sizeof(*p));
	p->cat = cat;
	p->weight = weight;
	p->speaker = speaker;
	p->label = strdup(label ? label : text);
	err = p->label ? 0 : ENOMEM;
	for (size_t i = 0; i < w.n && !err; i++) {
		p->stems[i] =
			strdup(strcmp(w.t[i].w, "zz9wild") ? w.t[i].stem : "*");
		if (!p->stems[i])
			err = ENOMEM;
		p->n++;
	}
	rt_ai_words_free(&w);
	l->n++; /* freed with the lexicon even when incomplete */
	return err;
}

static int phrase_cmp(const void *x, const void *y)
{
	const struct ai_phrase *a = x, *b = y;
	int c = strcmp(a->stems[0], b->stems[0]);

	if (c)
		return c;
	return (int)b->n - (int)a->n;
}

void rt_ai_lex_sort(struct ai_lex *l)
{
	if (l->n)
		qsort(l->p, l->n, sizeof(*l->p), phrase_cmp);
}

void rt_ai_lex_free(struct ai_lex *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (unsigned k = 0; k < l->p[i].n; k++)
			free(l->p[i].stems[k]);
		free((char *)(uintptr_t)l->p[i].label);
	}
	free(l->p);
	memset(l, 0, sizeof(*l));
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * One line "head: phrase, phrase".  Cues: head is a category name, then
 * optionally a weight and caller or agent.  Sentiment: a signed weight,
 * or negation / intensifier / diminisher (with a weight).  Terms:
 * keyword, or objection LABEL, or competitor [LABEL].
 */
static int lex_line(struct rt_ai *a, struct ai_lex *l, char *line, bool terms)
{
	char *colon = strchr(line, ':'), *head, *tok, *save = NULL;
	enum ai_cat cat = CAT_N;
	double weight = 1;
	int speaker = SPK_ANY, err;
	const char *label = NULL;

	if (!colon)
		return EINVAL;
	*colon = '\0';
	head = trim(line);
	tok = strtok_r(head, " \t", &save);
	if (!tok)
		return EINVAL;
	if (tok[0] == '+' || tok[0] == '-' || isdigit((unsigned char)tok[0])) {
		cat = CAT_SENTIMENT;
		weight = strtod(tok, NULL);
	} else {
		for (int c = 0; c < CAT_N; c++) {
			if (!strcmp(tok, cat_names[c]))
				cat = (enum ai_cat)c;
		}
	}
	if (cat == CAT_N)
		return EINVAL;
	if (terms != (cat >= CAT_KEYWORD))
		return EINVAL;
	if (terms) {
		label = save ? trim(save) : NULL;
		if (label && !*label)
			label = NULL;
		if (cat == CAT_OBJECTION && !label)
			return EINVAL;
	} else {
		while ((tok = strtok_r(NULL, " \t", &save))) {
			if (!strcmp(tok, "caller"))
				speaker = SPK_CALLER;
			else if (!strcmp(tok, "agent"))
				speaker = SPK_AGENT;
			else if (isdigit((unsigned char)tok[0]) ||
				 tok[0] == '-' || tok[0] == '+')
				weight = strtod(tok, NULL);
			else
				return EINVAL;
		}
	}
	save = NULL;
	for (tok = strtok_r(colon + 1, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *ph = trim(tok);

		if (!*ph)
			continue;
		err = rt_ai_lex_add(a, l, ph, cat, weight, speaker,
				    cat == CAT_COMPETITOR && !label ? ph
								    : label);
		if (err)
			return err;
	}
	return 0;
}

int rt_ai_lex_parse(struct rt_ai *a, struct ai_lex *l, const char *text,
		    size_t len, bool terms, char *err, size_t errsz)
{
	char *copy = strndup(text, len), *line, *save = NULL;
	unsigned no = 0;
	int e = copy ? 0 : ENOMEM;

	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line && !e;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s = trim(line);

		no++;
		if (!*s || *s == '#')
			continue;
		e = lex_line(a, l, s, terms);
		if (e == EINVAL)
			snprintf(err, errsz, "line %u: %s", no, s);
	}
	free(copy);
	rt_ai_lex_sort(l);
	return e;
}

/* ---- matching ----------------------------------------------------------- */

int rt_ai_hits_push(struct ai_hits *hs, const struct ai_phrase *p, size_t at,
		    size_t n)
{
	if (hs->n == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 64;
		struct ai_hit *h = realloc(hs->h, cap * sizeof(*h));

		if (!h)
			return ENOMEM;
		hs->h = h;
		hs->cap = cap;
	}
	hs->h[hs->n++] = (struct ai_hit){.p = p, .at = at, .n = n};
	return 0;
}

/* The first phrase of l whose first stem is stem, or l->n. */
static size_t lex_first(const struct ai_lex *l, const char *stem)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(l->p[mid].stems[0], stem) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int rt_ai_match(const struct ai_lex *l, const struct ai_words *w,
		struct ai_hits *out)
{
	size_t covered[CAT_N] = {0};

	for (size_t i = 0; i < w->n; i++) {
		const struct ai_tok *t = &w->t[i];

		for (size_t k = lex_first(l, t->stem);
		     k < l->n && !strcmp(l->p[k].stems[0], t->stem); k++) {
			const struct ai_phrase *p = &l->p[k];
			unsigned m = 1;

			if (i < covered[p->cat])
				continue; /* inside a longer one */
			while (m < p->n && i + m < w->n &&
			       w->t[i + m].turn == t->turn &&
			       (!strcmp(p->stems[m], "*") ||
				!strcmp(p->stems[m], w->t[i + m].stem)))
				m++;
			if (m < p->n)
				continue;
			if (rt_ai_hits_push(out, p, i, p->n))
				return ENOMEM;
			covered[p->cat] = i + p->n;
		}
	}
	return 0;
}
