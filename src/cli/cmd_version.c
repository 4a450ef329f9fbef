/* ringtrail version: this build and the libraries it runs on. */
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "cli/cli.h"
#include "version.h"

int rt_cmd_version(struct rt_cli *c)
{
	printf("ringtrail %s (sqlite %s, libmicrohttpd %s, jansson %s, "
	       "libsodium %s)\n",
	       RT_VERSION, sqlite3_libversion(), MHD_get_version(),
	       JANSSON_VERSION, sodium_version_string());
	return RT_EXIT_OK;
}
