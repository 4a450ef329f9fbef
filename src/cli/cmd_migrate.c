/* ringtrail migrate: bring the schema up to date, or show its version. */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

int rt_cmd_migrate(struct rt_cli *c)
{
	static const char *const known[] = {"status", NULL};
	unsigned cur, latest, applied = 0;
	int err;

	if (rt_cli_opts_check(c, known))
		return RT_EXIT_USAGE;
	if (!rt_cli_flag(c, "status")) {
		err = rt_store_migrate(c->store, &applied);
		if (err == EPROTO)
			return rt_cli_fail(RT_EXIT_FAIL,
					   "database '%s' was made by a newer "
					   "ringtrail",
					   c->conf.db);
		if (err)
			return rt_cli_fail(RT_EXIT_FAIL, "migration failed: %s",
					   strerror(err));
	}
	err = rt_store_schema_version(c->store, &cur, &latest);
	if (err)
		return rt_cli_fail(RT_EXIT_FAIL,
				   "cannot read the schema version: %s",
				   strerror(err));
	printf("database %s: schema version %u of %u, %s", c->conf.db, cur,
	       latest, cur == latest ? "up to date" : "behind");
	if (!rt_cli_flag(c, "status"))
		printf(" (%u applied now)", applied);
	printf("\n");
	return RT_EXIT_OK;
}
