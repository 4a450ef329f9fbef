/*
 * libFuzzer target for traffic source classification: the input is a
 * landing URL, a newline, and a referrer (no newline: no referrer).  Every
 * input must either be refused with EINVAL and a message, or classify into
 * a channel whose JSON object (`ringtrail classify`'s output) encodes and
 * parses back, so that a value cut inside a character or left invalid
 * UTF-8 shows up as a crash, as do overreads under ASan.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dni/dni.h"
#include "util/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rt_dni_sites *sites;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rt_log_set_level(RT_LOG_ERROR);
	if (rt_dni_sites_load(&sites))
		abort();
	return 0;
}

static void check(const struct rt_visit_source *v)
{
	json_error_t jerr;
	json_t *j = rt_dni_source_json(v), *back;
	char *text;

	if (!j) {
		fprintf(stderr, "no JSON for source '%s' medium '%s'\n",
			v->source, v->medium);
		abort();
	}
	text = json_dumps(j, JSON_COMPACT);
	if (!text)
		abort();
	back = json_loads(text, 0, &jerr);
	if (!back || !json_equal(j, back)) {
		fprintf(stderr, "the JSON does not parse back (%s): %s\n",
			jerr.text, text);
		abort();
	}
	if (!v->channel[0] || !v->source[0] || !v->medium[0] ||
	    strcmp(json_string_value(json_object_get(back, "channel")),
		   v->channel) != 0)
		abort();
	json_decref(back);
	free(text);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_visit_source *v;
	char *url, *ref, err[256] = "";
	int e;

	url = malloc(size + 1);
	v = malloc(sizeof(*v));
	if (!url || !v)
		goto out;
	memcpy(url, data, size);
	url[size] = '\0';
	ref = strchr(url, '\n');
	if (ref)
		*ref++ = '\0';
	e = rt_dni_classify(sites, url, ref, NULL, v, err, sizeof(err));
	if (e == 0) {
		check(v);
	} else if (e != ENOMEM && (e != EINVAL || !err[0])) {
		fprintf(stderr, "refused (%d) without a message: '%s'\n", e,
			err);
		abort();
	}
out:
	free(v);
	free(url);
	return 0;
}
