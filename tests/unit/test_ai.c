/*
 * The conversation analysers (src/ai) on small transcripts with the
 * cases that trip rules up: negation ("not happy", "not bad"), call
 * language ("not interested", a polite cancellation), competitors inside
 * other words, card numbers that fail Luhn, digits spoken as homophones,
 * emails spoken and written; and transcripts and term lists that are
 * wrong, each with the field named.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ai/ai.h"

static struct rt_ai *ai;

/* A transcript from "c:text" / "a:text" lines, 3 s a turn. */
static void build(struct rt_ai_transcript *t, const char *const *lines)
{
	int64_t at = 0;

	memset(t, 0, sizeof(*t));
	for (; *lines; lines++) {
		assert_int_equal(rt_ai_transcript_add(t,
						      (*lines)[0] == 'a'
							      ? RT_AI_AGENT
							      : RT_AI_CALLER,
						      at, at + 3000, *lines + 2,
						      1),
				 0);
		at += 3500;
	}
}

static json_t *analyze_terms(const char *const *lines, const char *terms)
{
	struct rt_ai_transcript t;
	struct rt_ai_terms *tl = NULL;
	json_t *out;

	build(&t, lines);
	if (terms) {
		json_t *j = json_loads(terms, 0, NULL);
		char err[200];

		assert_non_null(j);
		assert_int_equal(rt_ai_terms_from_json(ai, j, &tl, err,
						       sizeof(err)),
				 0);
		json_decref(j);
	}
	out = rt_ai_analyze(ai, &t, tl);
	assert_non_null(out);
	rt_ai_terms_free(tl);
	rt_ai_transcript_free(&t);
	return out;
}

static json_t *analyze(const char *const *lines)
{
	return analyze_terms(lines, NULL);
}

static const char *str(const json_t *j, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k;
	     k = strtok_r(NULL, ".", &save))
		j = json_object_get(j, k);
	if (!json_is_string(j))
		fail_msg("%s is not a string", path);
	return json_string_value(j);
}

static double num(const json_t *j, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k;
	     k = strtok_r(NULL, ".", &save))
		j = json_object_get(j, k);
	if (!json_is_number(j))
		fail_msg("%s is not a number", path);
	return json_number_value(j);
}

/* The masked text of turn i. */
static const char *turn_text(const json_t *out, size_t i)
{
	return json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(out,
							       "transcript"),
					       "turns"),
			       i),
		"text"));
}

static size_t count_type(const json_t *arr, const char *key, const char *value)
{
	size_t n = 0, i;
	const json_t *v;

	json_array_foreach (arr, i, v) {
		n += !strcmp(json_string_value(json_object_get(v, key)), value);
	}
	return n;
}

/* ---- intent ------------------------------------------------------------- */

static void test_intents(void **state)
{
	static const struct {
		const char *intent;
		const char *const lines[5];
	} cases[] = {
		{"appointment",
		 {"a:Thanks for calling, how can I help?",
		  "c:Hi, I would like to schedule a cleaning for next week.",
		  NULL}},
		{"purchase",
		 {"a:Hello, this is Sam.",
		  "c:How much does the premium plan cost? I want to buy it "
		  "for my team.",
		  NULL}},
		{"cancellation",
		 {"a:Thank you for calling.",
		  "c:I would like to cancel my membership, please. Thank you "
		  "so much.",
		  NULL}},
		{"complaint",
		 {"a:Good morning.",
		  "c:This is unacceptable. Your technician never showed up "
		  "and I want to speak to a manager.",
		  NULL}},
		{"support",
		 {"a:Help desk, this is Kim.",
		  "c:My login is not working and I am locked out of my "
		  "account.",
		  NULL}},
		{"spam",
		 {"a:Hello?",
		  "c:This is a courtesy call about your car's extended "
		  "warranty. Press one to speak to an agent.",
		  NULL}},
		{"inquiry",
		 {"a:Hello, Rosa's Kitchen.",
		  "c:Hi, what are your hours on Sunday? Are you open late?",
		  NULL}},
		{"other",
		 {"a:Smith Law, how can I help?",
		  "c:Oh, sorry, I think I have the wrong number.", NULL}},
		/* the reason said first, in other words */
		{"purchase",
		 {"a:Pet supply, how can I help?",
		  "c:I'd like to order two bags of the large kibble and pay "
		  "over the phone.",
		  NULL}},
		{"appointment",
		 {"a:Salon, this is Amy.",
		  "c:Hi, can I get in for a haircut sometime Friday?",
		  "a:I have two o'clock.", NULL}},
		{"inquiry",
		 {"a:Movers, this is Al.",
		  "c:I'm calling around for prices. How much do you charge "
		  "for a two bedroom apartment?",
		  NULL}},
		{"complaint",
		 {"a:Front desk.",
		  "c:I was charged twice for one night, I've called three "
		  "times and nobody has fixed it. I'm so frustrated.",
		  NULL}},
		{"support",
		 {"a:Service desk.",
		  "c:The engine on the boat I bought from you won't start. "
		  "What should I check?",
		  NULL}},
		{"spam",
		 {"a:Vet clinic.",
		  "c:Hi, this is Dan from Local Ads. We help clinics like "
		  "yours get more customers. Who makes the marketing "
		  "decisions there?",
		  "a:We're not interested, take us off your list.", NULL}},
		{"other",
		 {"a:Good morning, Harbor Hotel.",
		  "c:Hi, this is Mark's wife. He isn't answering his cell, "
		  "could you tell him to call me on his break?",
		  NULL}},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *out = analyze(cases[i].lines);
		const char *got = str(out, "intent.label");

		if (strcmp(got, cases[i].intent))
			fail_msg("case %zu: intent %s, want %s", i, got,
				 cases[i].intent);
		assert_true(num(out, "intent.confidence") > 0.3);
		json_decref(out);
	}
}

/* "I don't want to buy anything": no purchase. */
static void test_intent_negated(void **state)
{
	const char *const lines[] =
		{"a:Hello, how can I help?",
		 "c:I do not want to buy anything. I just have a question, "
		 "what are your hours?",
		 NULL};
	json_t *out = analyze(lines);
	(void)state;

	assert_string_equal(str(out, "intent.label"), "inquiry");
	json_decref(out);
}

/* What the caller already has is not what they want: "the cleaning I
 * booked", "my appointment", a booking named where they cancel. */
static void test_intent_existing(void **state)
{
	const char *const cancel[] =
		{"a:Dental office, how can I help?",
		 "c:Hi, I have a cleaning booked for next Tuesday at ten and "
		 "I need to cancel my appointment, please.",
		 NULL};
	const char *const ordered[] =
		{"a:Good evening, how can I help?",
		 "c:I ordered a pizza an hour ago and it still has not "
		 "arrived. This is ridiculous.",
		 NULL};
	const char *const login[] = {"a:Help desk.",
				     "c:Hi, I can't log in to my account.",
				     NULL};
	json_t *out;
	(void)state;

	out = analyze(cancel);
	assert_string_equal(str(out, "intent.label"), "cancellation");
	json_decref(out);
	out = analyze(ordered);
	assert_string_equal(str(out, "intent.label"), "complaint");
	json_decref(out);
	/* a problem told with a negation is still a problem */
	out = analyze(login);
	assert_string_equal(str(out, "intent.label"), "support");
	json_decref(out);
}

/* ---- sentiment ---------------------------------------------------------- */

static void test_sentiment_negation(void **state)
{
	const char *const unhappy[] =
		{"a:How was the visit?",
		 "c:I am not happy with it at all. The crown is still "
		 "broken.",
		 NULL};
	const char *const not_bad[] = {"a:How was the visit?",
				       "c:It was not bad, really.", NULL};
	json_t *out;
	(void)state;

	out = analyze(unhappy);
	assert_string_equal(str(out, "sentiment.caller.label"), "negative");
	json_decref(out);
	/* the turn's own score: words only, before the call's context */
	out = analyze(not_bad);
	assert_true(
		num(json_array_get(json_object_get(json_object_get(out,
								   "sentiment"),
						   "timeline"),
				   1),
		    "score") >= 0);
	json_decref(out);
}

/* Call language: polite words do not make these positive; a cancellation
 * is not a complaint; an agent is negative only turning a caller away;
 * a complaint is negative however politely said. */
static void test_sentiment_call_language(void **state)
{
	const char *const cancel[] =
		{"a:Thank you for calling.",
		 "c:Hi, thanks. I need to cancel my subscription and get a "
		 "refund. Thank you.",
		 NULL};
	const char *const spam[] =
		{"c:Congratulations, you have been selected for a free "
		 "cruise!",
		 "a:Not interested. Stop calling this number.", NULL};
	const char *const polite_complaint[] =
		{"a:Good morning, how can I help?",
		 "c:Hi, thanks. The technician never showed up yesterday and "
		 "nobody called me back.",
		 "a:I am so sorry, that is awful. I will send someone today.",
		 NULL};
	const char *const happy[] =
		{"a:You are all set for Tuesday.",
		 "c:Perfect, thank you so much, you have been really helpful!",
		 NULL};
	json_t *out;
	(void)state;

	out = analyze(cancel);
	assert_string_equal(str(out, "intent.label"), "cancellation");
	assert_string_equal(str(out, "sentiment.caller.label"), "neutral");
	json_decref(out);
	out = analyze(polite_complaint);
	assert_string_equal(str(out, "intent.label"), "complaint");
	assert_string_equal(str(out, "sentiment.caller.label"), "negative");
	assert_string_equal(str(out, "sentiment.agent.label"), "positive");
	assert_string_equal(str(out, "sentiment.overall.label"), "negative");
	json_decref(out);
	out = analyze(spam);
	assert_string_equal(str(out, "intent.label"), "spam");
	assert_string_equal(str(out, "sentiment.agent.label"), "negative");
	assert_string_equal(str(out, "sentiment.overall.label"), "negative");
	json_decref(out);
	out = analyze(happy);
	assert_string_equal(str(out, "sentiment.caller.label"), "positive");
	assert_string_equal(str(out, "sentiment.overall.label"), "positive");
	json_decref(out);
}

/* "but": what follows weighs more. */
static void test_sentiment_but(void **state)
{
	const char *const lines[] =
		{"a:How did it go?",
		 "c:The staff were nice, but the bill was terrible and "
		 "overcharged.",
		 NULL};
	json_t *out = analyze(lines);
	(void)state;

	assert_string_equal(str(out, "sentiment.caller.label"), "negative");
	assert_int_equal(json_array_size(
				 json_object_get(json_object_get(out,
								 "sentiment"),
						 "timeline")),
			 2);
	json_decref(out);
}

/* ---- terms -------------------------------------------------------------- */

static void test_terms(void **state)
{
	const char *const lines[] =
		{"a:Thanks for calling Bright Smile.",
		 "c:I live on Aspenwood Lane. Aspen Dental quoted me less, it "
		 "is too expensive here.",
		 "a:I understand. We offer financing and a payment plan.",
		 "c:I need to talk to my wife first.", NULL};
	json_t *out = analyze_terms(
		lines, "{\"competitors\": [\"Aspen Dental\", \"Aspen\"], "
		       "\"keywords\": [\"payment plan\"], \"objections\": "
		       "{\"spouse\": [\"talk to my wife\"]}}");
	const json_t *comp = json_object_get(out, "competitors"),
		     *obj = json_object_get(out, "objections");
	(void)state;

	/* "Aspen Dental" once (the longer name wins), not Aspenwood */
	assert_int_equal(json_array_size(comp), 1);
	assert_string_equal(str(json_array_get(comp, 0), "term"),
			    "Aspen Dental");
	assert_string_equal(str(json_array_get(comp, 0), "speaker"), "caller");
	/* the price and competitor objections ("quoted me less") answered
	 * (financing), the spouse one, last, not */
	assert_int_equal(count_type(obj, "term", "price"), 1);
	assert_int_equal(count_type(obj, "term", "competitor"), 1);
	assert_int_equal(count_type(obj, "term", "spouse"), 1);
	for (size_t i = 0; i < json_array_size(obj); i++) {
		const json_t *o = json_array_get(obj, i);

		assert_int_equal(json_is_true(json_object_get(o, "handled")),
				 strcmp(str(o, "term"), "spouse") != 0 &&
					 strcmp(str(o, "term"), "authority"));
	}
	assert_true(count_type(json_object_get(out, "keywords"), "term",
			       "payment plan") >= 1);
	json_decref(out);
}

/* "It's not too expensive": no objection; the agent's words are none. */
static void test_objection_negated(void **state)
{
	const char *const lines[] = {"a:Some people find it too expensive.",
				     "c:Oh no, it is not too expensive at all.",
				     NULL};
	json_t *out = analyze(lines);
	(void)state;

	assert_int_equal(json_array_size(json_object_get(out, "objections")),
			 0);
	json_decref(out);
}

/* ---- redaction ---------------------------------------------------------- */

static void test_redact_cards(void **state)
{
	const char *const lines[] =
		{"a:What is the card number?", "c:It is 4111 1111 1111 1111.",
		 "c:Sorry, the other one is four one one one one one one one "
		 "one one one one one one one two.",
		 "c:And my Visa is for zero one two, eight eight ate ate, "
		 "double four one two, three four five six.",
		 NULL};
	json_t *out = analyze(lines);
	const json_t *r = json_object_get(out, "redactions");
	(void)state;

	/* 4111...1111 passes Luhn; 4111...1112 fails it: kept */
	assert_string_equal(turn_text(out, 1), "It is [CARD].");
	assert_null(strstr(turn_text(out, 2), "[CARD]"));
	/* 4012 8888 4412 3456: homophones and "double" inside the run;
	 * Luhn decides */
	assert_int_equal(rt_ai_luhn_ok("4012888844123456"),
			 strstr(turn_text(out, 3), "[CARD]") != NULL);
	assert_int_equal(count_type(r, "type", "card"),
			 1 + rt_ai_luhn_ok("4012888844123456"));
	json_decref(out);
}

static void test_redact_card_across_turns(void **state)
{
	const char *const lines[] =
		{"a:Go ahead with the card number.",
		 "c:Five five five five, five five five five,", "a:Okay.",
		 "c:five five five five, four four four four.", NULL};
	json_t *out = analyze(lines);
	(void)state;

	/* 5555 5555 5555 4444 passes Luhn */
	assert_true(rt_ai_luhn_ok("5555555555554444"));
	assert_non_null(strstr(turn_text(out, 1), "[CARD]"));
	assert_non_null(strstr(turn_text(out, 3), "[CARD]"));
	assert_string_equal(turn_text(out, 2), "Okay.");
	json_decref(out);
}

static void test_redact_other_pii(void **state)
{
	const char *const lines[] =
		{"a:Can I get your social security number?",
		 "c:Sure, it is one two three, four five, six seven eight "
		 "nine.",
		 "a:And a phone number and email?",
		 "c:Call me at 312 555 0100, or email jane dot doe at gmail "
		 "dot com, or j.doe@example.org.",
		 "a:And your date of birth?",
		 "c:I was born on March fourteenth, nineteen eighty five.",
		 "c:I called two times and waited for 20 minutes.",
		 NULL};
	json_t *out = analyze(lines);
	const json_t *r = json_object_get(out, "redactions");
	(void)state;

	assert_string_equal(turn_text(out, 1), "Sure, it is [SSN].");
	assert_string_equal(turn_text(out, 3),
			    "Call me at [PHONE], or email [EMAIL], or "
			    "[EMAIL].");
	assert_string_equal(turn_text(out, 5), "I was born on [DOB].");
	/* ordinary numbers stay */
	assert_string_equal(turn_text(out, 6),
			    "I called two times and waited for 20 minutes.");
	assert_int_equal(count_type(r, "type", "ssn"), 1);
	assert_int_equal(count_type(r, "type", "phone"), 1);
	assert_int_equal(count_type(r, "type", "email"), 2);
	assert_int_equal(count_type(r, "type", "dob"), 1);
	/* no redaction repeats what it hid */
	{
		char *d = json_dumps(out, 0);

		assert_null(strstr(d, "0100"));
		assert_null(strstr(d, "gmail"));
		free(d);
	}
	json_decref(out);
}

/* Nine digits that name something else are not an SSN; a date answered
 * to the agent's question a few sentences on is still a date of birth. */
static void test_redact_ids_and_answers(void **state)
{
	const char *const lines[] =
		{"a:Can you read me the account number on your statement?",
		 "c:Yes, it is four one seven, two two nine, eight oh six.",
		 "a:Thank you. For security they will ask for your date of "
		 "birth when you call them, and nothing else, so please keep "
		 "your bank details to yourself.",
		 "c:Okay. It is August third, nineteen eighty.", NULL};
	json_t *out = analyze(lines);
	(void)state;

	assert_string_equal(turn_text(out, 1),
			    "Yes, it is four one seven, two two nine, eight "
			    "oh six.");
	assert_string_equal(turn_text(out, 3), "Okay. It is [DOB].");
	json_decref(out);
}

static void test_luhn(void **state)
{
	(void)state;
	assert_true(rt_ai_luhn_ok("4111111111111111"));
	assert_true(rt_ai_luhn_ok("378282246310005"));
	assert_false(rt_ai_luhn_ok("4111111111111112"));
	assert_false(rt_ai_luhn_ok(""));
}

/* ---- score, outcome, coaching, summary ----------------------------------- */

static void test_score_good_call(void **state)
{
	const char *const lines[] =
		{"a:Thank you for calling Bright Smile Dental, this is Maria. "
		 "How can I help you?",
		 "c:Hi, my name is Jane Doe. I would like to book a cleaning.",
		 "a:Of course. Have you been here before? What day works "
		 "best? Do you have insurance?",
		 "c:No, this would be my first time with you. Tuesday would "
		 "be good for me, in the morning if you can, and yes, I "
		 "have Delta through my work.",
		 "a:I have an opening Tuesday at 10. Would you like to take "
		 "it?",
		 "c:Yes please.",
		 "a:Great, you are all set for Tuesday at 10. I will send a "
		 "confirmation.",
		 NULL};
	json_t *out = analyze(lines);
	(void)state;

	assert_int_equal((int)num(out, "score.total"), 100);
	assert_string_equal(str(out, "outcome"), "booked");
	assert_true(json_is_true(json_object_get(out, "next_step")));
	assert_true(json_is_true(
		json_object_get(json_object_get(out, "lead"), "qualified")));
	assert_int_equal(json_array_size(
				 json_object_get(out, "missed_opportunities")),
			 0);
	assert_non_null(strstr(str(out, "summary"), "Jane Doe called to book "
						    "an appointment"));
	assert_non_null(strstr(str(out, "summary"), "booked"));
	json_decref(out);
}

static void test_score_missed(void **state)
{
	struct rt_ai_transcript t;
	const char *const lines[] =
		{"a:Yeah?",
		 "c:Hi, I want to book an appointment for a "
		 "consultation.",
		 "a:We are busy.", "c:Oh, okay then. Bye.", NULL};
	json_t *out, *crit;
	size_t i;
	const json_t *k;
	bool greet = false;
	(void)state;

	build(&t, lines);
	/* the agent talks over the caller twice, and 8 s of silence */
	t.turns[2].start_ms = t.turns[1].end_ms - 1500;
	t.turns[3].start_ms = t.turns[2].end_ms + 8000;
	t.turns[3].end_ms = t.turns[3].start_ms + 2000;
	out = rt_ai_analyze(ai, &t, NULL);
	rt_ai_transcript_free(&t);
	assert_non_null(out);
	assert_string_equal(str(out, "outcome"), "none");
	assert_true(num(out, "score.total") < 40);
	crit = json_object_get(json_object_get(out, "score"), "criteria");
	json_array_foreach (crit, i, k) {
		if (!strcmp(str(k, "id"), "greeting"))
			greet = json_is_true(json_object_get(k, "met"));
	}
	assert_false(greet);
	assert_true(count_type(json_object_get(out, "missed_opportunities"),
			       "kind", "no_next_step") == 1);
	assert_true(count_type(json_object_get(out, "coaching"), "kind",
			       "greeting") == 1);
	assert_true(count_type(json_object_get(out, "coaching"), "kind",
			       "silence") == 1);
	assert_non_null(strstr(str(out, "summary"), "No next step"));
	json_decref(out);
}

/* ---- bad input ------------------------------------------------------------
 */

/* A confirmation on a support or cancellation call is not a sale nor a
 * booking: it is about what the caller already has. */
static void test_outcome_existing(void **state)
{
	const char *const support[] =
		{"a:Help desk, how can I help?",
		 "c:Hi, my card payment keeps failing when I try to update "
		 "my account.",
		 "a:I reset it, try now.", "c:Okay, that went through.", NULL};
	const char *const cancel[] =
		{"a:Salon, this is Amy.",
		 "c:Hi, I need to cancel my haircut on Friday.",
		 "a:No problem, you were booked for ten, it is cancelled now.",
		 NULL};
	json_t *out;
	(void)state;

	out = analyze(support);
	assert_string_equal(str(out, "intent.label"), "support");
	assert_string_equal(str(out, "outcome"), "none");
	json_decref(out);
	out = analyze(cancel);
	assert_string_equal(str(out, "intent.label"), "cancellation");
	assert_string_equal(str(out, "outcome"), "none");
	json_decref(out);
}

static void test_transcript_errors(void **state)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{"[]", "transcript must be an object"},
		{"{}", "turns: must be an array"},
		{"{\"turns\":[],\"x\":1}", "x: unknown field"},
		{"{\"turns\":[1]}", "turns[0]: must be an object"},
		{"{\"turns\":[{\"speaker\":\"bot\",\"start_ms\":0,"
		 "\"end_ms\":1,\"text\":\"\"}]}",
		 "turns[0].speaker"},
		{"{\"turns\":[{\"speaker\":\"caller\",\"start_ms\":\"0\","
		 "\"end_ms\":1,\"text\":\"\"}]}",
		 "turns[0].start_ms"},
		{"{\"turns\":[{\"speaker\":\"caller\",\"start_ms\":5,"
		 "\"end_ms\":1,\"text\":\"\"}]}",
		 "turns[0].end_ms"},
		{"{\"turns\":[{\"speaker\":\"caller\",\"start_ms\":0,"
		 "\"end_ms\":1,\"text\":3}]}",
		 "turns[0].text"},
		{"{\"turns\":[{\"speaker\":\"caller\",\"start_ms\":0,"
		 "\"end_ms\":1,\"text\":\"\",\"confidence\":2}]}",
		 "turns[0].confidence"},
		{"{\"turns\":[{\"speaker\":\"caller\",\"start_ms\":0,"
		 "\"end_ms\":1,\"text\":\"\",\"who\":2}]}",
		 "turns[0].who"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		struct rt_ai_transcript t;
		char err[200] = "";

		assert_non_null(j);
		assert_int_equal(rt_ai_transcript_from_json(j, &t, err,
							    sizeof(err)),
				 EINVAL);
		if (!strstr(err, cases[i].field))
			fail_msg("case %zu: '%s' does not name %s", i, err,
				 cases[i].field);
		json_decref(j);
	}
}

static void test_terms_errors(void **state)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{"[]", "must be an object"},
		{"{\"brands\":[]}", "brands: unknown list"},
		{"{\"keywords\":\"x\"}", "keywords: must be an array"},
		{"{\"keywords\":[3]}", "keywords[0]: must be a string"},
		{"{\"keywords\":[\"\"]}", "keywords[0]"},
		{"{\"keywords\":[\"a b c d e f g\"]}", "keywords[0]: must be 1 "
						       "to 6 words"},
		{"{\"competitors\":[\"ok\",\"a,b\"]}", "competitors[1]"},
		{"{\"objections\":[]}", "objections: must be an object"},
		{"{\"objections\":{\"price\":[1]}}", "objections.price[0]"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		struct rt_ai_terms *t = NULL;
		char err[200] = "";

		assert_non_null(j);
		assert_int_equal(rt_ai_terms_from_json(ai, j, &t, err,
						       sizeof(err)),
				 EINVAL);
		assert_null(t);
		if (!strstr(err, cases[i].field))
			fail_msg("case %zu: '%s' does not name %s", i, err,
				 cases[i].field);
		json_decref(j);
	}
}

/* An empty transcript and one of empty turns analyse to something. */
static void test_empty(void **state)
{
	struct rt_ai_transcript t = {0};
	const char *const lines[] = {"c:", "a:", NULL};
	json_t *out;
	(void)state;

	out = rt_ai_analyze(ai, &t, NULL);
	assert_non_null(out);
	assert_string_equal(str(out, "intent.label"), "other");
	json_decref(out);
	out = analyze(lines);
	assert_string_equal(str(out, "sentiment.overall.label"), "neutral");
	json_decref(out);
}

static int setup(void **state)
{
	(void)state;
	return rt_ai_new(&ai);
}

static int teardown(void **state)
{
	(void)state;
	rt_ai_free(ai);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intents),
		cmocka_unit_test(test_intent_negated),
		cmocka_unit_test(test_intent_existing),
		cmocka_unit_test(test_sentiment_negation),
		cmocka_unit_test(test_sentiment_call_language),
		cmocka_unit_test(test_sentiment_but),
		cmocka_unit_test(test_terms),
		cmocka_unit_test(test_objection_negated),
		cmocka_unit_test(test_redact_cards),
		cmocka_unit_test(test_redact_card_across_turns),
		cmocka_unit_test(test_redact_other_pii),
		cmocka_unit_test(test_redact_ids_and_answers),
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_score_good_call),
		cmocka_unit_test(test_score_missed),
		cmocka_unit_test(test_outcome_existing),
		cmocka_unit_test(test_transcript_errors),
		cmocka_unit_test(test_terms_errors),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests_name("ai", tests, setup, teardown);
}
