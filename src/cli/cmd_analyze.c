/*
 * ringtrail analyze FILE: the conversation analysis of one call, as JSON.
 * FILE is a transcript JSON ({"turns": [...]}); recordings (stereo, or
 * mono with --speaker) go through speech to text first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/ai.h"
#include "cli/cli.h"

static int load_terms(struct rt_ai *a, const char *path,
		      struct rt_ai_terms **tp)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	char err[256];
	int e;

	if (!j)
		return rt_cli_fail(RT_EXIT_USAGE, "--terms %s: %s (line %d)",
				   path, je.text, je.line);
	e = rt_ai_terms_from_json(a, j, tp, err, sizeof(err));
	json_decref(j);
	if (e == EINVAL)
		return rt_cli_fail(RT_EXIT_USAGE, "--terms %s: %s", path, err);
	if (e)
		return rt_cli_fail(RT_EXIT_FAIL, "out of memory");
	return 0;
}

int rt_cmd_analyze(struct rt_cli *c)
{
	static const char *const known[] = {"terms", "speaker", NULL};
	const char *path = rt_cli_arg(c, 0), *terms = rt_cli_opt(c, "terms");
	struct rt_ai_transcript t = {0};
	struct rt_ai_terms *tl = NULL;
	struct rt_ai *a = NULL;
	json_error_t je;
	json_t *in, *out;
	char err[256], *text;
	int e, rc = RT_EXIT_OK;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (!path)
		return rt_cli_fail(RT_EXIT_USAGE,
				   "analyze needs a FILE: a transcript JSON "
				   "or a recording");
	if (rt_cli_arg(c, 1))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "analyze takes one FILE, not also '%s'",
				   rt_cli_arg(c, 1));
	in = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!in) {
		FILE *f = fopen(path, "rb");

		if (!f)
			return rt_cli_fail(RT_EXIT_USAGE, "%s: %s", path,
					   strerror(errno));
		fclose(f);
		return rt_cli_fail(RT_EXIT_USAGE,
				   "%s: not a transcript JSON (%s, line %d); "
				   "recordings are not read yet",
				   path, je.text, je.line);
	}
	if (rt_cli_opt(c, "speaker")) {
		json_decref(in);
		return rt_cli_fail(RT_EXIT_USAGE,
				   "--speaker is for a mono recording, not a "
				   "transcript");
	}
	e = rt_ai_transcript_from_json(in, &t, err, sizeof(err));
	json_decref(in);
	if (e == EINVAL)
		return rt_cli_fail(RT_EXIT_USAGE, "%s: %s", path, err);
	if (e || rt_ai_new(&a)) {
		rt_ai_transcript_free(&t);
		return rt_cli_fail(RT_EXIT_FAIL, "out of memory");
	}
	if (terms && (rc = load_terms(a, terms, &tl)))
		goto out;
	out = rt_ai_analyze(a, &t, tl);
	if (!out) {
		rc = rt_cli_fail(RT_EXIT_FAIL, "out of memory");
		goto out;
	}
	text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(out);
	if (!text) {
		rc = rt_cli_fail(RT_EXIT_FAIL, "out of memory");
		goto out;
	}
	puts(text);
	free(text);
out:
	rt_ai_terms_free(tl);
	rt_ai_free(a);
	rt_ai_transcript_free(&t);
	return rc;
}
