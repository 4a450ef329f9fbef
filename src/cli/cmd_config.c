/* ringtrail config: the configuration in effect, in config-file syntax. */
#include "cli/cli.h"

int rt_cmd_config(struct rt_cli *c)
{
	static const char *const known[] = {NULL};

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	printf("# ringtrail configuration in effect (defaults, then the "
	       "config\n"
	       "# file, then RINGTRAIL_* environment variables, then flags)\n");
	rt_conf_print(&c->conf, stdout);
	return RT_EXIT_OK;
}
