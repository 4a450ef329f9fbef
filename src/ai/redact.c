/*
 * PII in a transcript: card numbers (Luhn checked), social security
 * numbers, dates of birth, email addresses and phone numbers, written
 * ("4111 1111 ...", "jane@example.com") or spoken the way people say them
 * on a phone ("four one one one", "oh", "double five", "jane dot doe at
 * gmail dot com").  A recogniser hears spoken digits as homophones ("to",
 * "for", "ate"), so those count as digits inside a run of digits.  A
 * number spoken across two turns of one speaker, with a short "okay" or
 * "go on" of the other between them, is one number.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"
#include "util/util.h"

#define SHORT_REPLY 4  /* words of an interjection a number runs across */
#define CONTEXT	    12 /* words before a number that say what it is */

enum pii { PII_CARD, PII_SSN, PII_DOB, PII_EMAIL, PII_PHONE };
static const char *const pii_names[] = {"card", "ssn", "dob", "email", "phone"};
static const char *const pii_masks[] = {"[CARD]", "[SSN]", "[DOB]", "[EMAIL]",
					"[PHONE]"};

struct span {
	enum pii type;
	size_t a, b; /* words [a, b] */
};

struct spans {
	struct span *s;
	size_t n, cap;
};

static int span_add(struct spans *ss, enum pii type, size_t a, size_t b)
{
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 16;
		struct span *p = realloc(ss->s, cap * sizeof(*p));

		if (!p)
			return ENOMEM;
		ss->s = p;
		ss->cap = cap;
	}
	ss->s[ss->n++] = (struct span){type, a, b};
	return 0;
}

/* ---- numbers ------------------------------------------------------------ */

static const char *const units[] = {"zero", "one", "two",   "three", "four",
				    "five", "six", "seven", "eight", "nine"};
static const char *const teens[] = {"ten",	"eleven",    "twelve",
				    "thirteen", "fourteen",  "fifteen",
				    "sixteen",	"seventeen", "eighteen",
				    "nineteen"};
static const char *const tens[] = {"",	     "",      "twenty", "thirty",
				   "forty",  "fifty", "sixty",	"seventy",
				   "eighty", "ninety"};
static const char *const ordinals[] =
	{"",	      "first",	   "second",	  "third",	"fourth",
	 "fifth",     "sixth",	   "seventh",	  "eighth",	"ninth",
	 "tenth",     "eleventh",  "twelfth",	  "thirteenth", "fourteenth",
	 "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
	 "twentieth"};

/* Digits a word stands for: 1 with them in out (firm), 2 for a homophone
 * that is a digit only between digits, 0 for none. */
static int word_digits(const char *w, char *out, size_t size)
{
	static const struct {
		const char *w, *d;
	} homo[] = {{"oh", "0"},  {"o", "0"},	{"to", "2"},  {"too", "2"},
		    {"for", "4"}, {"ate", "8"}, {"won", "1"}, {"fore", "4"}};
	size_t i, n = strlen(w);

	out[0] = '\0';
	for (i = 0; i < n && isdigit((unsigned char)w[i]); i++)
		;
	if (n && i == n && n < size) {
		memcpy(out, w, n + 1);
		return 1;
	}
	for (i = 0; i < 10; i++) {
		if (!strcmp(w, units[i])) {
			out[0] = (char)('0' + i);
			out[1] = '\0';
			return 1;
		}
		if (!strcmp(w, teens[i])) {
			out[0] = '1';
			out[1] = (char)('0' + i);
			out[2] = '\0';
			return 1;
		}
		if (i >= 2 && !strcmp(w, tens[i])) {
			out[0] = (char)('0' + i);
			out[1] = '0';
			out[2] = '\0';
			return 1;
		}
	}
	for (i = 0; i < RT_ARRAY_SIZE(homo); i++) {
		if (!strcmp(w, homo[i].w)) {
			rt_strlcpy(out, homo[i].d, size);
			return 2;
		}
	}
	return 0;
}

static bool is_tens(const char *w)
{
	for (int t = 2; t < 10; t++) {
		if (!strcmp(w, tens[t]))
			return true;
	}
	return false;
}

static bool filler(const char *w)
{
	return !strcmp(w, "uh") || !strcmp(w, "um") || !strcmp(w, "dash") ||
	       !strcmp(w, "hyphen") || !strcmp(w, "and");
}

/* The words of one speaker in order, a run of digits may cross a short
 * reply of the other: its index list, with SIZE_MAX where a run must
 * break. */
struct stream {
	size_t *i;
	size_t n;
};

static int stream_build(const struct rt_ai_transcript *t,
			const struct ai_words *w, enum rt_ai_speaker sp,
			struct stream *s)
{
	s->i = malloc((w->n + t->n + 1) * sizeof(*s->i));
	s->n = 0;
	if (!s->i)
		return ENOMEM;
	for (size_t tu = 0; tu < t->n; tu++) {
		size_t nw = w->turn_first[tu + 1] - w->turn_first[tu];

		if (t->turns[tu].speaker != sp) {
			if (nw > SHORT_REPLY && s->n &&
			    s->i[s->n - 1] != SIZE_MAX)
				s->i[s->n++] = SIZE_MAX;
			continue;
		}
		for (size_t k = w->turn_first[tu]; k < w->turn_first[tu + 1];
		     k++)
			s->i[s->n++] = k;
	}
	return 0;
}

static bool word_in(const char *w, const char *const *set)
{
	for (; *set; set++) {
		if (!strcmp(w, *set))
			return true;
	}
	return false;
}

/* Whether a word of set comes in the CONTEXT words before word, or in
 * the turn before word's (either speaker: the agent's "what is the card
 * number" counts, and so does the question answered: "can I have your
 * date of birth?" ... "okay, it's October second"). */
static bool context(const struct ai_words *w, size_t word,
		    const char *const *set)
{
	uint32_t turn = w->t[word].turn;

	for (size_t k = 1; k <= word; k++) {
		const struct ai_tok *t = &w->t[word - k];

		if (k > CONTEXT && t->turn + 1 != turn)
			break;
		if (word_in(t->w, set))
			return true;
	}
	return false;
}

static const char *const ctx_ssn[] = {"social", "ssn", "security", NULL};
/* Numbers that name something else: nine digits after these are an ID,
 * not a social security number ("my member ID is ..."). */
static const char *const ctx_id[] =
	{"id",		"member",	"account", "claim",
	 "ticket",	"escrow",	"order",   "policy",
	 "reference",	"confirmation", "case",	   "invoice",
	 "tracking",	"contract",	"serial",  "routing",
	 "reservation", "booking",	"receipt", "transaction",
	 "membership",	"customer",	"patient", "loan",
	 "vin",		"license",	"file",	   "record",
	 "gift",	"voucher",	"coupon",  "promo",
	 "certificate", "employee",	"student", NULL};
static const char *const ctx_phone[] = {"phone",    "number", "call",
					"reach",    "cell",   "mobile",
					"callback", "text",   "landline",
					NULL};
static const char *const ctx_dob[] = {"born", "birth",	   "birthday",
				      "dob",  "birthdate", NULL};
static const char *const months[] = {"january", "february", "march",
				     "april",	"may",	    "june",
				     "july",	"august",   "september",
				     "october", "november", "december",
				     "jan",	"feb",	    "mar",
				     "apr",	"jun",	    "jul",
				     "aug",	"sep",	    "sept",
				     "oct",	"nov",	    "dec",
				     NULL};

/* A run of digits [a, b] of the stream: what it is, if anything. */
static int classify_run(const struct ai_words *w, const char *digits, size_t a,
			size_t b, struct spans *out)
{
	size_t n = strlen(digits);

	if (n >= 13 && n <= 19 && rt_ai_luhn_ok(digits))
		return span_add(out, PII_CARD, a, b);
	if (n == 9 && (context(w, a, ctx_ssn) ||
		       (!context(w, a, ctx_phone) && !context(w, a, ctx_id))))
		return span_add(out, PII_SSN, a, b);
	if (n >= 6 && n <= 8 && context(w, a, ctx_dob))
		return span_add(out, PII_DOB, a, b);
	if (n == 10 || (n == 11 && digits[0] == '1'))
		return span_add(out, PII_PHONE, a, b);
	if (n == 7 && context(w, a, ctx_phone))
		return span_add(out, PII_PHONE, a, b);
	return 0;
}

static int digit_runs(const struct ai_words *w, const struct stream *s,
		      struct spans *out)
{
	char digits[64];
	size_t nd = 0, first = SIZE_MAX, last = 0;
	int err = 0;

	for (size_t k = 0; k <= s->n && !err; k++) {
		size_t i = k < s->n ? s->i[k] : SIZE_MAX;
		char d[AI_WORD_MAX];
		int kind = i == SIZE_MAX ? 0
					 : word_digits(w->t[i].w, d, sizeof(d));

		if (kind == 2) {
			/* a homophone: a digit after one, or before one */
			char nx[AI_WORD_MAX];
			bool next = k + 1 < s->n && s->i[k + 1] != SIZE_MAX &&
				    word_digits(w->t[s->i[k + 1]].w, nx,
						sizeof(nx)) == 1;

			if (first == SIZE_MAX && !next)
				kind = 0;
		}
		/* "twenty one": the tens take the unit */
		if (kind == 1 && first != SIZE_MAX && is_tens(w->t[last].w) &&
		    !isdigit((unsigned char)w->t[i].w[0]) && d[1] == '\0' &&
		    d[0] != '0') {
			digits[nd - 1] = d[0];
			last = i;
			continue;
		}
		if (kind) {
			size_t dl = strlen(d);
			unsigned rep = 1;

			if (k > 0 && s->i[k - 1] != SIZE_MAX) {
				const char *pw = w->t[s->i[k - 1]].w;

				rep = !strcmp(pw, "double")   ? 2
				      : !strcmp(pw, "triple") ? 3
							      : 1;
				if (rep > 1 && first == SIZE_MAX)
					first = s->i[k - 1];
			}
			if (first == SIZE_MAX)
				first = i;
			for (unsigned r = 0; r < rep; r++) {
				if (nd + dl < sizeof(digits)) {
					memcpy(digits + nd, d, dl);
					nd += dl;
				}
			}
			last = i;
			continue;
		}
		if (i != SIZE_MAX && first != SIZE_MAX &&
		    (filler(w->t[i].w) || !strcmp(w->t[i].w, "double") ||
		     !strcmp(w->t[i].w, "triple")))
			continue;
		if (first != SIZE_MAX) {
			digits[nd] = '\0';
			err = classify_run(w, digits, first, last, out);
		}
		first = SIZE_MAX;
		nd = 0;
	}
	return err;
}

/* ---- dates of birth: "March fourteenth nineteen eighty five" ------------ */

static int dates(const struct ai_words *w, struct spans *out)
{
	for (size_t i = 0; i < w->n; i++) {
		size_t k = i + 1, end = i;
		char d[AI_WORD_MAX];
		bool day = false, year = false;

		if (!word_in(w->t[i].w, months) || !context(w, i, ctx_dob))
			continue;
		/* the day: a number or an ordinal, maybe two words */
		for (; k < w->n && k < i + 3 && w->t[k].turn == w->t[i].turn;
		     k++) {
			bool ord = false;

			for (size_t o = 1; o < RT_ARRAY_SIZE(ordinals); o++)
				ord = ord || !strcmp(w->t[k].w, ordinals[o]);
			if (ord || word_digits(w->t[k].w, d, sizeof(d)) == 1 ||
			    !strcmp(w->t[k].w, "the") ||
			    !strcmp(w->t[k].w, "of")) {
				day = day || strcmp(w->t[k].w, "the");
				end = k;
				if (ord)
					break;
			} else {
				break;
			}
		}
		/* the year: up to three number words */
		for (k = end + 1;
		     k < w->n && k <= end + 3 && w->t[k].turn == w->t[i].turn;
		     k++) {
			if (word_digits(w->t[k].w, d, sizeof(d)) != 1 &&
			    strcmp(w->t[k].w, "hundred"))
				break;
			year = true;
			end = k;
		}
		if (day || year) {
			if (span_add(out, PII_DOB, i, end))
				return ENOMEM;
			i = end;
		}
	}
	return 0;
}

/* ---- emails ------------------------------------------------------------- */

static const char *const tlds[] = {"com", "net", "org", "edu",	"gov",
				   "io",  "co",	 "us",	"info", "biz",
				   "me",  "uk",	 "ca",	NULL};
static const char *const not_local[] = {"is",	"my",	"email", "address",
					"it",	"its",	"that",	 "the",
					"at",	"to",	"me",	 "you",
					"send", "mail", "e",	 "and",
					"sure", "yes",	"yeah",	 "okay",
					"ok",	"so",	"uh",	 "um",
					"it's", "was",	"be",	 "would",
					"will", "your", "our",	 "reach",
					"is",	NULL};

static int spoken_emails(const struct ai_words *w, struct spans *out)
{
	for (size_t i = 1; i + 3 < w->n; i++) {
		size_t a = i, k;
		bool tld = false;

		if (strcmp(w->t[i].w, "at"))
			continue;
		/* the local part: up to five words back */
		while (a > 0 && i - a < 5 && w->t[a - 1].turn == w->t[i].turn &&
		       !w->t[a - 1].sent_end &&
		       !word_in(w->t[a - 1].w, not_local))
			a--;
		if (a == i)
			continue;
		/* the domain: words and "dot"s up to a top-level domain */
		for (k = i + 1;
		     k < w->n && k < i + 8 && w->t[k].turn == w->t[i].turn;
		     k++) {
			if (!strcmp(w->t[k].w, "dot") && k + 1 < w->n &&
			    word_in(w->t[k + 1].w, tlds)) {
				tld = true;
				k++;
				/* "co dot uk" */
				while (k + 2 < w->n &&
				       !strcmp(w->t[k + 1].w, "dot") &&
				       word_in(w->t[k + 2].w, tlds))
					k += 2;
				break;
			}
		}
		if (!tld || k == i + 2)
			continue;
		if (span_add(out, PII_EMAIL, a, k))
			return ENOMEM;
		i = k;
	}
	return 0;
}

/* Written addresses (name@host.tld): the words they cover. */
static int written_emails(const struct rt_ai_transcript *t,
			  const struct ai_words *w, struct spans *out)
{
	for (size_t tu = 0; tu < t->n; tu++) {
		const char *s = t->turns[tu].text;

		for (const char *at = strchr(s, '@'); at;
		     at = strchr(at + 1, '@')) {
			const char *a = at, *b = at + 1, *dot = NULL;
			size_t first = SIZE_MAX, last = 0;

			while (a > s && (isalnum((unsigned char)a[-1]) ||
					 strchr("._%+-", a[-1])))
				a--;
			while (*b && (isalnum((unsigned char)*b) || *b == '.' ||
				      *b == '-')) {
				if (*b == '.' && isalpha((unsigned char)b[1]))
					dot = b;
				b++;
			}
			if (a == at || !dot)
				continue;
			for (size_t k = w->turn_first[tu];
			     k < w->turn_first[tu + 1]; k++) {
				size_t o = w->t[k].off;

				if (o >= (size_t)(a - s) &&
				    o + w->t[k].len <= (size_t)(b - s)) {
					if (first == SIZE_MAX)
						first = k;
					last = k;
				}
			}
			if (first != SIZE_MAX &&
			    span_add(out, PII_EMAIL, first, last))
				return ENOMEM;
		}
	}
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static int span_cmp(const void *x, const void *y)
{
	const struct span *a = x, *b = y;

	return a->a < b->a ? -1 : a->a > b->a;
}

int rt_ai_redact(const struct rt_ai_transcript *t, const struct ai_words *w,
		 json_t *out)
{
	struct spans ss = {0};
	struct stream st = {0};
	json_t *reds = json_array(), *turns;
	int err = 0;

	if (!reds)
		return ENOMEM;
	for (int sp = 0; sp < 2 && !err; sp++) {
		err = stream_build(t, w, (enum rt_ai_speaker)sp, &st);
		if (!err)
			err = digit_runs(w, &st, &ss);
		free(st.i);
		st.i = NULL;
	}
	if (!err)
		err = dates(w, &ss);
	if (!err)
		err = spoken_emails(w, &ss);
	if (!err)
		err = written_emails(t, w, &ss);
	if (err) {
		free(ss.s);
		json_decref(reds);
		return err;
	}
	if (ss.n)
		qsort(ss.s, ss.n, sizeof(*ss.s), span_cmp);
	turns = json_object_get(json_object_get(out, "transcript"), "turns");
	/* each turn's text with its spans masked; a span that overlaps
	 * one before it is left out */
	for (size_t tu = 0; tu < t->n && !err; tu++) {
		const char *text = t->turns[tu].text;
		struct rt_buf b;
		size_t pos = 0;
		bool any = false;
		char *masked;

		rt_buf_init(&b);
		for (size_t k = 0; k < ss.n; k++) {
			const struct span *s = &ss.s[k];
			size_t a = s->a, e = s->b, from, to;

			/* the part of the span in this turn (not in the
			 * other speaker's reply inside it) */
			if (t->turns[w->t[s->a].turn].speaker !=
			    t->turns[tu].speaker)
				continue;
			while (a <= e && w->t[a].turn != tu)
				a++;
			while (e > a && w->t[e].turn != tu)
				e--;
			if (a > e || w->t[a].turn != tu)
				continue;
			from = w->t[a].off;
			to = w->t[e].off + w->t[e].len;
			if (any && from < pos)
				continue;
			rt_buf_append(&b, text + pos, from - pos);
			rt_buf_puts(&b, pii_masks[s->type]);
			pos = to;
			any = true;
			json_array_append_new(
				reds,
				json_pack(
					"{s:s,s:s,s:I,s:I,s:I}", "type",
					pii_names[s->type], "speaker",
					rt_ai_speaker_name(
						t->turns[tu].speaker),
					"turn", (json_int_t)tu, "start_ms",
					(json_int_t)w->t[a].at_ms, "end_ms",
					(json_int_t)(e + 1 < w->turn_first[tu +
									   1]
							     ? w->t[e + 1].at_ms
							     : t->turns[tu]
								       .end_ms)));
		}
		rt_buf_puts(&b, text + pos);
		masked = rt_buf_detach(&b, NULL);
		if (!masked) {
			err = ENOMEM;
			break;
		}
		json_object_set_new(json_array_get(turns, tu), "text",
				    json_string(masked));
		free(masked);
	}
	free(ss.s);
	json_object_set_new(out, "redactions", reds);
	return err;
}
