/* ringtrail classify: the traffic source of one visit, as JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dni/dni.h"

int rt_cmd_classify(struct rt_cli *c)
{
	static const char *const known[] = {"url", "referrer", NULL};
	const char *url = rt_cli_opt(c, "url");
	struct rt_dni_sites *sites = NULL;
	struct rt_visit_source *v;
	char err[256], *out;
	json_t *j;
	int e, rc = RT_EXIT_OK;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (!url)
		return rt_cli_fail(RT_EXIT_USAGE, "classify needs --url URL");
	if (rt_cli_arg(c, 0))
		return rt_cli_fail(RT_EXIT_USAGE,
				   "classify takes no argument '%s'",
				   rt_cli_arg(c, 0));
	v = calloc(1, sizeof(*v));
	if (!v || rt_dni_sites_load(&sites)) {
		free(v);
		return rt_cli_fail(RT_EXIT_FAIL, "out of memory");
	}
	e = rt_dni_classify(sites, url, rt_cli_opt(c, "referrer"), NULL, v, err,
			    sizeof(err));
	if (e == EINVAL) {
		rc = rt_cli_fail(RT_EXIT_USAGE, "%s", err);
	} else if (e) {
		rc = rt_cli_fail(RT_EXIT_FAIL, "cannot classify: %s",
				 strerror(e));
	} else {
		j = rt_dni_source_json(v);
		out = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
			: NULL;
		json_decref(j);
		if (!out) {
			rc = rt_cli_fail(RT_EXIT_FAIL, "out of memory");
		} else {
			printf("%s\n", out);
			free(out);
		}
	}
	rt_dni_sites_free(sites);
	free(v);
	return rc;
}
