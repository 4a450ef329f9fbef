/* ringtrail help [COMMAND]: usage from the command table. */
#include <string.h>

#include "cli/cli.h"

static void print_config_help(void)
{
	printf("\nConfiguration (every command): --config FILE, then "
	       "RINGTRAIL_<KEY>\n"
	       "environment variables, then --<key> flags, each overriding the "
	       "one\n"
	       "before.  'ringtrail config' lists every key; "
	       "docs/configuration.md\n"
	       "describes them.\n");
}

int rt_cmd_help(struct rt_cli *c)
{
	const char *topic = c->argc > 0 ? c->argv[0] : NULL;
	size_t n;
	const struct rt_cmd *cmds = rt_cli_commands(&n);

	if (topic) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(cmds[i].name, topic) != 0)
				continue;
			printf("usage: ringtrail %s\n\n%s.\n", cmds[i].usage,
			       cmds[i].summary);
			if (cmds[i].help)
				printf("\n%s", cmds[i].help);
			print_config_help();
			return RT_EXIT_OK;
		}
		return rt_cli_fail(RT_EXIT_USAGE,
				   "no command '%s'; see 'ringtrail help'",
				   topic);
	}
	printf("usage: ringtrail <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-10s %s\n", cmds[i].name, cmds[i].summary);
	printf("\n'ringtrail help <command>' shows a command's options.\n");
	print_config_help();
	return RT_EXIT_OK;
}
