/* The ringtrail binary: everything is in the command table (src/cli/cli.c). */
#include "cli/cli.h"

int main(int argc, char **argv, char **envp)
{
	return rt_cli_main(argc, argv, envp);
}
