/*
 * cli: `ringtrail <command>`.  One table of commands (cli.c); each lives in
 * cmd_<name>.c and gets a struct rt_cli with the resolved configuration and,
 * when its entry asks for them, an open and migrated store and the auth
 * context.
 */
#ifndef RT_CLI_H
#define RT_CLI_H

#include <stdio.h>

#include "auth/auth.h"
#include "store/store.h"
#include "util/util.h"

/* Exit codes. */
#define RT_EXIT_OK    0
#define RT_EXIT_FAIL  1 /* the command could not do its work */
#define RT_EXIT_USAGE 2 /* bad command line, configuration or input */

/* What a command needs prepared before it runs. */
#define RT_CMD_STORE	  0x1u /* the store, opened and migrated */
#define RT_CMD_AUTH	  0x2u /* the server secret and auth (implies store) */
#define RT_CMD_NO_MIGRATE 0x4u /* open the store but leave the schema alone */

struct rt_cli {
	struct rt_conf conf;
	int argc;    /* the command's own arguments, config flags removed */
	char **argv; /* borrowed from main */
	struct rt_store *store;
	struct rt_auth *auth;
};

struct rt_cmd {
	const char *name;
	int (*run)(struct rt_cli *c);
	unsigned needs;
	const char *usage;
	const char *summary;
	const char *help; /* longer text for `ringtrail help <name>` */
};

int rt_cli_main(int argc, char **argv, char **envp);
const struct rt_cmd *rt_cli_commands(size_t *np);

/*
 * Option helpers for commands: `--name value` or `--name=value` among
 * c->argv.  rt_cli_opts_check() fails (with a message) on an option not
 * in the NULL-terminated list, or one that lacks its value.
 */
int rt_cli_opts_check(struct rt_cli *c, const char *const *known);
const char *rt_cli_opt(struct rt_cli *c, const char *name);
bool rt_cli_flag(struct rt_cli *c, const char *name);
/* The nth argument that is not an option (0 = the first after the command). */
const char *rt_cli_arg(struct rt_cli *c, int n);
/* Prints "ringtrail: <msg>" to stderr; returns code. */
int rt_cli_fail(int code, const char *fmt, ...) RT_PRINTF(2, 3);
/* Parses a positive id argument; prints an error naming what. */
int rt_cli_id(const char *s, const char *what, int64_t *idp);

/* Records an operator's change in the audit log, inside tx. */
int rt_cli_audit(struct rt_store_tx *tx, int64_t account_id, const char *action,
		 const char *object_type, int64_t object_id);

int rt_cmd_serve(struct rt_cli *c);
int rt_cmd_migrate(struct rt_cli *c);
int rt_cmd_account(struct rt_cli *c);
int rt_cmd_user(struct rt_cli *c);
int rt_cmd_apikey(struct rt_cli *c);
int rt_cmd_classify(struct rt_cli *c);
int rt_cmd_analyze(struct rt_cli *c);
int rt_cmd_numbers(struct rt_cli *c);
int rt_cmd_config(struct rt_cli *c);
int rt_cmd_simulate(struct rt_cli *c);
int rt_cmd_version(struct rt_cli *c);
int rt_cmd_help(struct rt_cli *c);

#endif
