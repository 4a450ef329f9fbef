/*
 * libFuzzer target for the conversation analysers (src/ai): a transcript
 * JSON that parses must analyse to a whole result, every turn kept; any
 * other input is read as what a caller said, one turn of it, so that the
 * word splitter, the phrase matcher and the redactor see arbitrary bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai.h"
#include "util/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rt_ai *ai;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rt_log_set_level(RT_LOG_ERROR);
	if (rt_ai_new(&ai))
		abort();
	return 0;
}

static void check(const struct rt_ai_transcript *t, json_t *out)
{
	static const char *const keys[] = {
		"transcript",  "intent",	"sentiment",
		"keywords",    "objections",	"competitors",
		"score",       "lead",		"outcome",
		"next_step",   "missed_opportunities", "coaching",
		"redactions",  "summary"};
	const json_t *turns;
	long total;

	if (!out)
		return; /* out of memory */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!json_object_get(out, keys[i])) {
			fprintf(stderr, "no '%s' in the analysis\n", keys[i]);
			abort();
		}
	}
	turns = json_object_get(json_object_get(out, "transcript"), "turns");
	if (json_array_size(turns) != t->n)
		abort();
	total = (long)json_integer_value(json_object_get(
		json_object_get(out, "score"), "total"));
	if (total < 0 || total > 100)
		abort();
	json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_ai_transcript t = {0};
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	char err[256];

	if (j) {
		if (rt_ai_transcript_from_json(j, &t, err, sizeof(err)) == 0)
			check(&t, rt_ai_analyze(ai, &t, NULL));
		json_decref(j);
	} else if (size <= 20000 && !memchr(data, '\0', size)) {
		char *s = strndup((const char *)data, size);

		if (s && rt_ai_transcript_add(&t, RT_AI_CALLER, 0, 5000, s,
					      1) == 0)
			check(&t, rt_ai_analyze(ai, &t, NULL));
		free(s);
	}
	rt_ai_transcript_free(&t);
	return 0;
}
