/*
 * Transcripts and term lists in and out of JSON, with errors that name
 * the field.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai_int.h"
#include "util/util.h"

#define TURNS_MAX     20000 /* a 3-hour call speaks fewer */
#define TURN_TEXT_MAX 20000 /* bytes of one turn */
#define TERMS_MAX     2000  /* terms of one list */

const char *rt_ai_speaker_name(enum rt_ai_speaker s)
{
	return s == RT_AI_AGENT ? "agent" : "caller";
}

static int fail(char *err, size_t errsz, const char *fmt, ...) RT_PRINTF(3, 4);

static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return EINVAL;
}

int rt_ai_transcript_add(struct rt_ai_transcript *t, enum rt_ai_speaker speaker,
			 int64_t start_ms, int64_t end_ms, const char *text,
			 double confidence)
{
	struct rt_ai_turn *n = realloc(t->turns, (t->n + 1) * sizeof(*n));

	if (!n)
		return ENOMEM;
	t->turns = n;
	n[t->n] = (struct rt_ai_turn){.speaker = speaker,
				      .start_ms = start_ms,
				      .end_ms = end_ms,
				      .text = strdup(text ? text : ""),
				      .confidence = confidence};
	if (!n[t->n].text)
		return ENOMEM;
	/* line breaks are spaces; broken UTF-8 (a recogniser's bytes,
	 * say) becomes '?' */
	for (char *p = n[t->n].text; *p; p++) {
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	}
	rt_utf8_clean(n[t->n].text);
	t->n++;
	return 0;
}

void rt_ai_transcript_free(struct rt_ai_transcript *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->turns[i].text);
	free(t->turns);
	t->turns = NULL;
	t->n = 0;
}

static int turn_cmp(const void *x, const void *y)
{
	const struct rt_ai_turn *a = x, *b = y;

	return a->start_ms < b->start_ms ? -1 : a->start_ms > b->start_ms;
}

static int turn_from_json(const json_t *o, size_t i, struct rt_ai_transcript *t,
			  char *err, size_t errsz)
{
	const json_t *sp, *st, *en, *tx, *cf;
	const char *key;
	json_t *v;
	enum rt_ai_speaker s;
	double conf = 1;

	if (!json_is_object(o))
		return fail(err, errsz, "turns[%zu]: must be an object", i);
	json_object_foreach ((json_t *)(uintptr_t)o, key, v) {
		if (strcmp(key, "speaker") && strcmp(key, "start_ms") &&
		    strcmp(key, "end_ms") && strcmp(key, "text") &&
		    strcmp(key, "confidence"))
			return fail(err, errsz,
				    "turns[%zu].%s: unknown field (speaker, "
				    "start_ms, end_ms, text, confidence)",
				    i, key);
	}
	sp = json_object_get(o, "speaker");
	st = json_object_get(o, "start_ms");
	en = json_object_get(o, "end_ms");
	tx = json_object_get(o, "text");
	cf = json_object_get(o, "confidence");
	if (!json_is_string(sp))
		return fail(err, errsz,
			    "turns[%zu].speaker: must be \"caller\" or "
			    "\"agent\"",
			    i);
	if (!strcmp(json_string_value(sp), "caller"))
		s = RT_AI_CALLER;
	else if (!strcmp(json_string_value(sp), "agent"))
		s = RT_AI_AGENT;
	else
		return fail(err, errsz,
			    "turns[%zu].speaker: must be \"caller\" or "
			    "\"agent\"",
			    i);
	if (!json_is_integer(st) || json_integer_value(st) < 0)
		return fail(err, errsz,
			    "turns[%zu].start_ms: must be a whole number of "
			    "milliseconds, 0 or more",
			    i);
	if (!json_is_integer(en) ||
	    json_integer_value(en) < json_integer_value(st))
		return fail(err, errsz,
			    "turns[%zu].end_ms: must be a whole number of "
			    "milliseconds, not before start_ms",
			    i);
	if (json_integer_value(en) > 100LL * 3600 * 1000)
		return fail(err, errsz,
			    "turns[%zu].end_ms: more than 100 hours", i);
	if (!json_is_string(tx))
		return fail(err, errsz, "turns[%zu].text: must be a string", i);
	if (json_string_length(tx) > TURN_TEXT_MAX)
		return fail(err, errsz, "turns[%zu].text: longer than %d bytes",
			    i, TURN_TEXT_MAX);
	if (strlen(json_string_value(tx)) != json_string_length(tx))
		return fail(err, errsz, "turns[%zu].text: holds a NUL", i);
	if (cf) {
		if (!json_is_number(cf) || json_number_value(cf) < 0 ||
		    json_number_value(cf) > 1)
			return fail(err, errsz,
				    "turns[%zu].confidence: must be a number "
				    "from 0 to 1",
				    i);
		conf = json_number_value(cf);
	}
	return rt_ai_transcript_add(t, s, json_integer_value(st),
				    json_integer_value(en),
				    json_string_value(tx), conf);
}

int rt_ai_transcript_from_json(const json_t *j, struct rt_ai_transcript *t,
			       char *err, size_t errsz)
{
	const json_t *turns;
	const char *key;
	json_t *v;
	size_t i;
	int e = 0;

	memset(t, 0, sizeof(*t));
	if (!json_is_object(j))
		return fail(err, errsz,
			    "the transcript must be an object {\"turns\": "
			    "[...]}");
	json_object_foreach ((json_t *)(uintptr_t)j, key, v) {
		if (strcmp(key, "turns"))
			return fail(err, errsz,
				    "%s: unknown field (a transcript has "
				    "\"turns\")",
				    key);
	}
	turns = json_object_get(j, "turns");
	if (!json_is_array(turns))
		return fail(err, errsz, "turns: must be an array of turns");
	if (json_array_size(turns) > TURNS_MAX)
		return fail(err, errsz, "turns: more than %d turns", TURNS_MAX);
	json_array_foreach (turns, i, v) {
		if ((e = turn_from_json(v, i, t, err, errsz))) {
			rt_ai_transcript_free(t);
			return e;
		}
	}
	if (t->n)
		qsort(t->turns, t->n, sizeof(*t->turns), turn_cmp);
	return 0;
}

json_t *rt_ai_transcript_json(const struct rt_ai_transcript *t)
{
	json_t *turns = json_array();

	for (size_t i = 0; i < t->n; i++) {
		const struct rt_ai_turn *u = &t->turns[i];

		json_array_append_new(
			turns, json_pack("{s:s,s:I,s:I,s:s,s:f}", "speaker",
					 rt_ai_speaker_name(u->speaker),
					 "start_ms", (json_int_t)u->start_ms,
					 "end_ms", (json_int_t)u->end_ms,
					 "text", u->text, "confidence",
					 round(u->confidence * 1000) / 1000));
	}
	return json_pack("{s:o}", "turns", turns);
}

/* ---- term lists --------------------------------------------------------- */

/* A term: 1 to 6 words, 1 to 100 bytes, printable. */
static int term_ok(const json_t *v, const char *field, char *err, size_t errsz)
{
	const char *s = json_string_value(v);
	unsigned words = 0;
	bool in = false;

	if (!s)
		return fail(err, errsz, "%s: must be a string", field);
	if (!*s || strlen(s) > 100)
		return fail(err, errsz, "%s: must be 1 to 100 bytes", field);
	for (const char *p = s; *p; p++) {
		bool w = isalnum((unsigned char)*p) ||
			 (unsigned char)*p >= 0x80 || *p == '\'';

		if (iscntrl((unsigned char)*p) || *p == ',' || *p == '*')
			return fail(err, errsz,
				    "%s: letters, digits, spaces and "
				    "punctuation other than , and *",
				    field);
		if (w && !in)
			words++;
		in = w;
	}
	if (words == 0 || words > 6)
		return fail(err, errsz, "%s: must be 1 to 6 words", field);
	return 0;
}

static int add_list(struct rt_ai *a, struct rt_ai_terms *t, const json_t *arr,
		    enum ai_cat cat, const char *label, const char *field,
		    char *err, size_t errsz)
{
	char f[160];
	size_t i;
	json_t *v;
	int e;

	if (!json_is_array(arr))
		return fail(err, errsz, "%s: must be an array of terms", field);
	if (json_array_size(arr) > TERMS_MAX)
		return fail(err, errsz, "%s: more than %d terms", field,
			    TERMS_MAX);
	json_array_foreach (arr, i, v) {
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if ((e = term_ok(v, f, err, errsz)))
			return e;
		e = rt_ai_lex_add(a, &t->lex, json_string_value(v), cat, 1,
				  SPK_ANY,
				  label ? label : json_string_value(v));
		if (e == EINVAL)
			return fail(err, errsz, "%s: not a term", f);
		if (e)
			return e;
	}
	return 0;
}

int rt_ai_terms_from_json(struct rt_ai *a, const json_t *j,
			  struct rt_ai_terms **tp, char *err, size_t errsz)
{
	struct rt_ai_terms *t;
	const char *key;
	json_t *v;
	int e = 0;

	if (!json_is_object(j))
		return fail(err, errsz,
			    "the term lists must be an object with "
			    "keywords, objections, competitors");
	json_object_foreach ((json_t *)(uintptr_t)j, key, v) {
		if (strcmp(key, "keywords") && strcmp(key, "objections") &&
		    strcmp(key, "competitors"))
			return fail(err, errsz,
				    "%s: unknown list (keywords, objections, "
				    "competitors)",
				    key);
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	if ((v = json_object_get(j, "keywords")))
		e = add_list(a, t, v, CAT_KEYWORD, NULL, "keywords", err,
			     errsz);
	if (!e && (v = json_object_get(j, "competitors")))
		e = add_list(a, t, v, CAT_COMPETITOR, NULL, "competitors", err,
			     errsz);
	if (!e && (v = json_object_get(j, "objections"))) {
		const char *label;
		json_t *list;

		if (!json_is_object(v))
			e = fail(err, errsz,
				 "objections: must be an object, each "
				 "objection's name to its phrases");
		json_object_foreach (v, label, list) {
			char f[160];

			if (e)
				break;
			snprintf(f, sizeof(f), "objections.%s", label);
			if (!*label || strlen(label) > 40)
				e = fail(err, errsz,
					 "%s: an objection's name is 1 to 40 "
					 "bytes",
					 f);
			else
				e = add_list(a, t, list, CAT_OBJECTION, label,
					     f, err, errsz);
		}
	}
	if (e) {
		rt_ai_terms_free(t);
		return e;
	}
	rt_ai_lex_sort(&t->lex);
	*tp = t;
	return 0;
}

void rt_ai_terms_free(struct rt_ai_terms *t)
{
	if (!t)
		return;
	rt_ai_lex_free(&t->lex);
	free(t);
}

int rt_ai_luhn_ok(const char *digits)
{
	int sum = 0, n = 0;

	for (size_t i = strlen(digits); i-- > 0;) {
		int d;

		if (!isdigit((unsigned char)digits[i]))
			continue;
		d = digits[i] - '0';
		if (n++ % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return n > 0 && sum % 10 == 0;
}
